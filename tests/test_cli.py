"""End to end through the CLI on the smoke tier, and the CLI's answers to bad input."""
import json
import os

import pytest

from modbench import harness, results
from modbench.cli import main, parse_seeds
from modbench.errors import ModbenchError
from modbench.masking import TRAINER_VERSION
from modbench.masking.maskset import load_masks
from modbench.seeds import derive_seeds


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    code = main(["run", "--arch", "fnn", "--task", "double_add", "--tier", "smoke",
                 "--seeds", "0-1", "--out", str(out), "--quiet"])
    return code, out


def test_smoke_run_writes_valid_results_and_masks(smoke_runs):
    code, out = smoke_runs
    assert code == 0
    for seed in (0, 1):
        folder = out / "double_add" / "fnn" / "smoke" / f"seed{seed}"
        result = results.load(folder / "result.json")
        assert result["status"] == "ok" and result["error"] is None
        assert result["config"]["trainer_version"] == TRAINER_VERSION
        assert set(result["accuracy"]) >= {"full", "control", "pair1", "not_pair1",
                                           "control_minus_pair1", "control_minus_pair1_hidden"}
        assert set(result["scores"]) >= {"p_reuse", "p_reuse_strict", "shared_iou"}
        masks = load_masks(folder / "masks.safetensors")
        assert set(masks) == {"control", "pair1", "pair2"}
        assert set(masks["control"].names) == set(result["layers"])
        n_masked = sum(m.numel() for m in masks["control"].masks.values())
        assert n_masked == result["architecture"]["n_masked"]
        density = masks["pair1"].total_density()
        assert density == pytest.approx(result["masks"]["density"]["pair1"])


def test_run_prints_the_paper_style_table(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "run", "--arch", "fnn", "--task", "addmul", "--tier", "smoke",
                           "--seeds", "3", "--out", str(tmp_path), "--quiet")
    assert code == 0
    header = next(line for line in out.splitlines() if "Full" in line)
    assert header.split() == ["[%]", "Full", "add", "¬add", "mul", "¬mul"]
    assert any(line.startswith("add ") for line in out.splitlines())
    assert any(line.startswith("mul ") for line in out.splitlines())


def test_rerun_skips_finished_runs(capsys, smoke_runs):
    _, out = smoke_runs
    path = out / "double_add" / "fnn" / "smoke" / "seed0" / "result.json"
    before = path.read_bytes()
    code, _, err = run_cli(capsys, "run", "--arch", "fnn", "--task", "double_add", "--tier", "smoke",
                           "--seeds", "0", "--out", str(out), "--quiet")
    assert code == 0 and "skipped" in err
    assert path.read_bytes() == before


def test_same_seed_gives_identical_results(smoke_runs, tmp_path):
    _, out = smoke_runs
    main(["run", "--arch", "fnn", "--task", "double_add", "--tier", "smoke", "--seeds", "1",
          "--out", str(tmp_path), "--quiet"])
    a = json.loads((out / "double_add/fnn/smoke/seed1/result.json").read_text())
    b = json.loads((tmp_path / "double_add/fnn/smoke/seed1/result.json").read_text())
    for key in ("run_id", "accuracy", "scores", "layers", "sharing", "seeds"):
        assert a[key] == b[key], key
    assert a["masks"]["sha256"] == b["masks"]["sha256"]


def test_a_failing_run_is_recorded_and_the_grid_goes_on(tmp_path, monkeypatch):
    from modbench.pipelines import common as pipelines

    real = pipelines.train_weights

    def broken(model, loss_fn, sample, cfg, generator, *rest):
        if generator.initial_seed() == derive_seeds(1, [])["train_order"]:
            raise RuntimeError("boom")
        return real(model, loss_fn, sample, cfg, generator, *rest)

    monkeypatch.setattr(pipelines, "train_weights", broken)
    assert main(["run", "--arch", "fnn", "--task", "addmul", "--tier", "smoke", "--seeds", "0-2",
                 "--out", str(tmp_path), "--quiet"]) == 1
    status = {s: results.load(tmp_path / f"addmul/fnn/smoke/seed{s}/result.json") for s in range(3)}
    assert [status[s]["status"] for s in range(3)] == ["ok", "failed", "ok"]
    assert "RuntimeError: boom" in status[1]["error"]
    # the rerun resumes: only the failed run is redone
    monkeypatch.setattr(pipelines, "train_weights", real)
    mtime = os.stat(tmp_path / "addmul/fnn/smoke/seed0/result.json").st_mtime_ns
    assert main(["run", "--arch", "fnn", "--task", "addmul", "--tier", "smoke", "--seeds", "0-2",
                 "--out", str(tmp_path), "--quiet"]) == 0
    assert os.stat(tmp_path / "addmul/fnn/smoke/seed0/result.json").st_mtime_ns == mtime
    assert results.load(tmp_path / "addmul/fnn/smoke/seed1/result.json")["status"] == "ok"


def test_ls_lists_tasks_and_archs(capsys):
    assert run_cli(capsys, "ls", "tasks")[1].count("\n") >= 4
    code, out, _ = run_cli(capsys, "ls", "archs")
    assert code == 0 and "fnn" in out and "lstm" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--arch", "fnx", "--task", "addmul"], "unknown arch 'fnx'; did you mean 'fnn'?"),
        (["--arch", "fnn", "--task", "adddmul"], "unknown task 'adddmul'; did you mean 'addmul'?"),
        (["--arch", "fnn", "--task", "addmul", "--seeds", "4-1"], "malformed seed range"),
        (["--arch", "fnn", "--task", "addmul", "--seeds", "a"], "malformed seed range"),
        (["--arch", "fnn", "--task", "addmul", "--tier", "huge"], "unknown tier 'huge'"),
        (["--arch", "fnn", "--task", "addmul", "--source", "hub"], "takes no --source 'hub'"),
        (["--arch", "lstm_seq2seq", "--task", "scan", "--source", "hub"], "offline"),
        (["--arch", "lstm_seq2seq", "--task", "scan", "--source", "dir:/nonexistent"], "/nonexistent"),
        (["--arch", "fnn", "--task", "scan"], "does not fit task 'scan'"),
    ],
)
def test_bad_input_gets_one_clear_line(capsys, tmp_path, argv, message):
    code, _, err = run_cli(capsys, "run", *argv, "--out", str(tmp_path), "--quiet")
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_unwritable_output_folder(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run_cli(capsys, "run", "--arch", "fnn", "--task", "addmul", "--tier", "smoke",
                           "--out", str(blocker / "sub"), "--quiet")
    assert code == 2 and "cannot write to output folder" in err and err.count("\n") == 1


def test_parse_seeds():
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert parse_seeds("0,2,5") == [0, 2, 5]
    assert parse_seeds("3") == [3]
    with pytest.raises(ModbenchError):
        parse_seeds("1,1")


def test_arch_that_does_not_fit_the_task(capsys, tmp_path, monkeypatch):
    from modbench.archs import ARCHS, ArchSpec

    seq_only = ArchSpec(name="seq_only", description="", factories={"sequence": lambda c: None})
    monkeypatch.setitem(ARCHS._entries, "seq_only", seq_only)
    code, _, err = run_cli(capsys, "run", "--arch", "seq_only", "--task", "addmul",
                           "--tier", "smoke", "--out", str(tmp_path), "--quiet")
    assert code == 2 and "does not fit task 'addmul'" in err and err.count("\n") == 1


def test_comma_lists_run_a_grid_of_architectures_and_tasks(capsys, tmp_path):
    code, _, _ = run_cli(capsys, "run", "--arch", "fnn,lstm", "--task", "addmul,double_add", "--tier", "smoke",
                         "--seeds", "0", "--out", str(tmp_path), "--quiet")
    found = sorted(p.relative_to(tmp_path).parent.as_posix() for p in tmp_path.rglob("result.json"))
    assert code == 0 and found == [f"{t}/{a}/smoke/seed0" for t in ("addmul", "double_add") for a in ("fnn", "lstm")]


def test_set_overrides_reach_the_result(tmp_path):
    assert main(["run", "--arch", "fnn", "--task", "addmul", "--tier", "smoke", "--seeds", "0",
                 "--set", "mask.beta=0.003", "--set", "arch_size.hidden=[8,8]",
                 "--set", "mask_filter.mask_biases=true", "--out", str(tmp_path), "--quiet"]) == 0
    result = results.load(tmp_path / "addmul/fnn/smoke/seed0/result.json")
    assert result["config"]["mask"]["beta"] == 0.003
    assert result["config"]["arch_size"] == {"hidden": [8, 8]}
    assert any(name.endswith("bias") for name in result["layers"])
    assert result["architecture"]["n_params"] == 42 * 8 + 8 + 8 * 8 + 8 + 8 * 20 + 20


@pytest.mark.parametrize("item, message", [("mask.betta=1", "cannot override 'mask.betta'"),
                                           ("nokey", "malformed --set")])
def test_bad_overrides(capsys, tmp_path, item, message):
    code, _, err = run_cli(capsys, "run", "--arch", "fnn", "--task", "addmul", "--tier", "smoke",
                           "--set", item, "--out", str(tmp_path), "--quiet")
    assert code == 2 and message in err and err.count("\n") == 1


def test_a_finished_run_with_another_configuration_is_never_overwritten(capsys, smoke_runs):
    _, out = smoke_runs
    path = out / "double_add" / "fnn" / "smoke" / "seed0" / "result.json"
    before = path.read_bytes()
    code, _, err = run_cli(capsys, "run", "--arch", "fnn", "--task", "double_add", "--tier", "smoke",
                           "--seeds", "0", "--set", "mask.beta=0.5", "--out", str(out), "--quiet")
    assert code == 2 and "another configuration" in err
    assert path.read_bytes() == before
