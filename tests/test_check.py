"""Submissions: loading, `modbench check` on the template and on broken fixtures (each failure
kind gives its reason in one line), and runs of a submission like a built-in."""
import hashlib
import json
from pathlib import Path

import pytest

from modbench import cli, harness
from modbench.archs import ARCHS
from modbench.check import check_submission
from modbench.errors import ModbenchError
from modbench.submission import load_submission, resolve_arch
from modbench.tasks import TASKS

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "submissions" / "_template"
BROKEN = Path(__file__).parent / "fixtures" / "submissions"
EXAMPLES = ROOT / "submissions" / "_examples"
VECTOR_TASKS = {"addmul", "double_add", "transfer", "teacher_specialize"}  # the tasks a vector network runs


def test_the_template_passes_every_task_it_supports():
    outcomes = check_submission(TEMPLATE)
    assert {o.task for o in outcomes} == VECTOR_TASKS
    assert all(o.passed and o.kind == "pass" for o in outcomes), outcomes


@pytest.mark.parametrize("fixture, kind, words", [
    ("import_error", "import", "ModuleNotFoundError: No module named 'modbench_no_such_module' (at submission.py:2)"),
    ("no_declaration", "import", "defines no SUBMISSION"),
    ("wrong_shape", "shape", "wrong output shape: got [4, {short}], expected [4, {n_out}]"),
    ("forward_raises", "forward", "exception in forward: RuntimeError"),
    ("nan_loss", "NaN loss", "loss at step 0 is not finite"),
    ("mutates_weights", "mutates weights", "a forward in eval mode changed layer.weight"),
    ("misspelt_name", "declared names", "io_parameters names 'head.weigth', which is not a parameter of the model (closest: head.weight"),
])
def test_each_broken_submission_fails_with_its_reason(fixture, kind, words):
    outcomes = check_submission(BROKEN / fixture)
    assert outcomes and not any(o.passed for o in outcomes)
    for outcome in outcomes:
        contract = TASKS.get(outcome.task).contract if outcome.task in TASKS else None
        expected = words  # wrong_shape drops one head of the task's contract
        if contract is not None:
            expected = words.format(short=contract.n_out - contract.n_classes, n_out=contract.n_out)
        assert outcome.kind == kind and expected in outcome.reason, outcome
        assert "\n" not in outcome.reason and "Traceback" not in outcome.reason


def test_an_image_submission_passes_check_on_every_image_task():
    outcomes = check_submission(EXAMPLES / "image_cnn")
    assert {o.task for o in outcomes} == {"class_removal", "mask_stability"}
    assert all(o.passed for o in outcomes), outcomes


def test_every_contract_kind_of_a_task_has_a_probe():
    from modbench.check import PROBES

    assert {TASKS.get(t).contract.kind for t in TASKS} <= set(PROBES)


def test_the_check_command_prints_one_line_per_task_and_its_exit_status(capsys):
    assert cli.main(["check", str(TEMPLATE)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sorted(line.split()[1] for line in lines if line.startswith("PASS")) == sorted(VECTOR_TASKS)
    assert cli.main(["check", str(BROKEN / "wrong_shape")]) == 1
    out = capsys.readouterr().out
    assert out.count("FAIL") == len(VECTOR_TASKS) and "shape: wrong output shape" in out


def test_the_python_api_takes_a_submission_path_like_the_cli():
    """prepare() refused it with "unknown arch '/path'"."""
    run = harness.prepare(harness.RunSpec(str(TEMPLATE), "addmul", "smoke", 0))
    assert run.spec.arch == "template_mlp" and run.arch.source_file.endswith("submission.py")


def test_a_missing_submission_is_named():
    with pytest.raises(ModbenchError, match="no submission.py at"):
        load_submission(BROKEN / "does_not_exist")


def test_loading_is_idempotent_and_names_cannot_shadow_a_builtin(tmp_path):
    assert load_submission(TEMPLATE) is load_submission(TEMPLATE / "submission.py")
    clash = tmp_path / "clash"
    clash.mkdir()
    source = (TEMPLATE / "submission.py").read_text().replace('name="template_mlp"', 'name="fnn"')
    (clash / "submission.py").write_text(source)
    with pytest.raises(ModbenchError, match="'fnn' is taken"):
        load_submission(clash)
    assert ARCHS.get("fnn").source_file is None  # the built-in stays


@pytest.mark.parametrize("workers", [1, 2])
def test_a_submission_runs_like_a_builtin_and_its_source_is_recorded(tmp_path, workers):
    # workers=2: the mask stages run in a spawned process, which must load the submission too
    assert cli.main(["run", "--arch", str(TEMPLATE), "--task", "addmul", "--tier", "smoke",
                     "--out", str(tmp_path), "--workers", str(workers), "--quiet"]) == 0
    result = json.loads((tmp_path / "addmul/template_mlp/smoke/seed0/result.json").read_text())
    assert result["status"] == "ok"
    expected = hashlib.sha256((TEMPLATE / "submission.py").read_bytes()).hexdigest()
    assert result["architecture"]["source_sha256"] == expected
    assert resolve_arch(str(TEMPLATE)) == "template_mlp" and resolve_arch("fnn") == "fnn"
    assert harness.prepare(harness.RunSpec("template_mlp", "addmul", "smoke", 0)).config["arch_size"] == {"hidden": 32}


def test_the_seq2seq_example_decodes_incrementally_as_its_forward_does():
    """The example's start/step hooks must give the tokens that re-running forward gives."""
    import torch

    from modbench.archs import build_model
    from modbench.seq2seq import greedy_decode

    arch = ARCHS.get(load_submission(EXAMPLES / "gru_seq2seq").name)
    contract = TASKS.get("scan").contract
    model = build_model(arch, contract, {"hidden": 16}, init_seed=0).eval()
    generator = torch.Generator().manual_seed(0)
    src = torch.randint(2, contract.src_vocab, (6, 5), generator=generator)
    src_len = torch.tensor([5, 4, 3, 5, 2, 1])
    src[torch.arange(5) >= src_len.unsqueeze(1)] = 0
    forward_only = lambda *args: model(*args)  # noqa: E731 - no start/step: forward re-run per token
    incremental = greedy_decode(model, src, src_len, 12, contract.sos)
    assert torch.equal(incremental, greedy_decode(forward_only, src, src_len, 12, contract.sos))


@pytest.mark.parametrize("example", ["gru_seq2seq", "image_cnn"])
def test_the_examples_pass_the_masking_probes(example):
    import torch

    from modbench.archs import build_model
    from modbench.check import probe_masking

    arch = ARCHS.get(load_submission(EXAMPLES / example).name)
    task_name = "scan" if example == "gru_seq2seq" else "class_removal"
    task = harness.task_instance(task_name, TASKS.get(task_name).smoke_source)
    model = build_model(arch, task.contract, arch.sizes["smoke"], init_seed=0).eval()
    batch = task.sample(None, 4, torch.Generator().manual_seed(0))
    probe_masking(model, batch, task.contract, task.budget("smoke", arch.name).mask_filter)  # raises on failure
