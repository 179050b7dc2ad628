"""Result files that can be trusted (issue 25): integrity digests, mask files, `verify`,
`upgrade`, strict and bounded parsing, `--timeout-min`. Each test is a finding of the issue."""
import copy
import json
import shutil

import numpy as np
import pytest

from modbench import results
from modbench.cli import main
from modbench.errors import ModbenchError
from modbench.harness import RunSpec, finished_result, prepare, run_and_save
from modbench.leaderboard.collect import collect
from modbench.schema import content_digest
from modbench.verify import verify


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """A finished smoke run's folder (result and masks) and its prepared run."""
    out = tmp_path_factory.mktemp("runs")
    run = prepare(RunSpec("fnn", "addmul", "smoke", 0, workers=1, device="cpu"))
    assert run_and_save(run, out)["status"] == "ok"
    return out, run


def copy_of(smoke, tmp_path):
    out, run = smoke
    folder = tmp_path / "addmul" / "fnn" / "smoke" / "seed0"
    shutil.copytree(run.spec.folder(out), folder)
    return folder


def edit(folder, change, seal=False):
    path = folder / "result.json"
    result = json.loads(path.read_text())
    change(result)
    if seal:  # a forger who also recomputes the digest
        result["integrity"] = {"content_sha256": content_digest(result)}
    path.write_text(json.dumps(result))
    return path


def test_an_edited_score_fails_its_digest_in_validate_and_the_leaderboard(smoke, tmp_path, capsys):
    folder = copy_of(smoke, tmp_path)
    edit(folder, lambda r: r["scores"].update(p_specialize=1.0))
    assert main(["validate", str(tmp_path)]) == 1
    assert "does not match its integrity digest" in capsys.readouterr().out
    with pytest.raises(ModbenchError, match="refused, never pooled: .*integrity digest"):
        collect([tmp_path])


def test_a_truncated_mask_file_is_refused_and_a_missing_one_is_rerun(smoke, tmp_path):
    folder = copy_of(smoke, tmp_path)
    masks = folder / "masks.safetensors"
    masks.write_bytes(masks.read_bytes()[:100])
    with pytest.raises(ModbenchError, match="mask file is not the one it recorded"):
        collect([tmp_path])
    run = smoke[1]
    assert finished_result(run, tmp_path) is None  # resume redoes it
    masks.unlink()
    assert finished_result(run, tmp_path) is None
    shutil.copy(run.spec.folder(smoke[0]) / "masks.safetensors", masks)
    assert finished_result(run, tmp_path) is not None


def test_verify_reproduces_a_real_result_and_catches_a_resealed_forgery(smoke, tmp_path):
    folder = copy_of(smoke, tmp_path)
    verdict = verify(folder / "result.json")
    assert verdict.reproduced is True and "REPRODUCED bit for bit" in verdict.lines[-1]
    assert any("hardware: the same" in line for line in verdict.lines)
    forged = edit(folder, lambda r: r["scores"].update(p_specialize=0.999), seal=True)
    results.load(forged)  # the digest alone cannot tell
    verdict = verify(forged)
    assert verdict.reproduced is False
    assert any("p_specialize recorded 0.999" in line for line in verdict.lines)
    assert "NOT REPRODUCED on the recorded code and hardware" in verdict.lines[-1]


def test_verify_says_when_it_cannot_run_the_recorded_code(smoke, tmp_path, capsys):
    folder = copy_of(smoke, tmp_path)
    path = edit(folder, lambda r: r["modbench"].update(source_sha256="0" * 64, git_commit="f" * 40, git_dirty=True),
                seal=True)
    assert main(["verify", str(path)]) == 2
    assert "cannot verify" in capsys.readouterr().out


def test_verify_names_other_hardware(smoke, tmp_path):
    folder = copy_of(smoke, tmp_path)
    path = edit(folder, lambda r: r["environment"].update(cpu="Some Other CPU"), seal=True)
    verdict = verify(path)
    assert verdict.reproduced is True  # the numbers still match; the report says the hardware differs
    assert any("DIFFERS: cpu: recorded 'Some Other CPU'" in line for line in verdict.lines)


def test_old_schemas_are_refused_with_the_upgrade_command_and_upgraded_without_a_rerun(smoke, tmp_path, capsys):
    folder = copy_of(smoke, tmp_path)
    original = json.loads((folder / "result.json").read_text())
    old = {k: v for k, v in original.items() if k != "integrity"}
    (folder / "result.json").write_text(json.dumps({**old, "schema_version": 3}))
    with pytest.raises(ModbenchError, match="run `modbench upgrade` on it"):
        results.load(folder / "result.json")
    assert main(["upgrade", str(tmp_path)]) == 0
    assert "upgraded from schema 3" in capsys.readouterr().out
    assert results.load(folder / "result.json") == original  # the numbers and digest as modbench wrote them
    assert main(["upgrade", str(tmp_path)]) == 0 and "already current" in capsys.readouterr().out


@pytest.mark.parametrize("change, message", [
    (lambda r: r["scores"].update(p_specialize="0.5"), "scores['p_specialize'] has type str"),
    (lambda r: r["scores"].update(p_specialize=True), "scores['p_specialize'] is a boolean"),
    (lambda r: r["seeds"].update(run="0"), "seeds.run has type str"),
    (lambda r: r["task"].update(name=["addmul"]), "task.name has type list"),
    (lambda r: r["architecture"].update(name="../../etc"), "architecture.name '../../etc' is not a plain name"),
    (lambda r: r["accuracy"]["full"].update(add=float("nan")), "is nan, not a finite number"),
    (lambda r: r["details"].update(deep=json.loads("[" * 40 + "]" * 40)), "nested deeper than 32 levels"),
])
def test_malformed_fields_are_one_line_each(smoke, tmp_path, capsys, change, message):
    folder = copy_of(smoke, tmp_path)
    edit(folder, change, seal=True)
    assert main(["validate", str(folder / "result.json")]) == 1
    out = capsys.readouterr().out
    assert message in out and out.count("\n") == 1


def test_hostile_files_are_refused_before_parsing(tmp_path, capsys):
    deep = tmp_path / "deep" / "result.json"
    deep.parent.mkdir()
    deep.write_text("[" * 200_000 + "]" * 200_000)
    zero = tmp_path / "zero" / "result.json"
    zero.parent.mkdir()
    zero.symlink_to("/dev/zero")
    huge = tmp_path / "huge" / "result.json"
    huge.parent.mkdir()
    with open(huge, "wb") as handle:
        handle.truncate(results.MAX_BYTES + 1)  # sparse: no disk used
    assert main(["validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3  # every bad file reported, one line each
    assert any("nested too deeply" in line for line in out)
    assert any("not a regular file" in line for line in out)
    assert any("larger than 32 MiB" in line for line in out)


def test_random_corruptions_never_crash_validation(smoke):
    """Seeded mutations of a real result: each is accepted or refused with a ModbenchError."""
    good = json.loads((smoke[1].spec.folder(smoke[0]) / "result.json").read_text())
    rng = np.random.default_rng(0)
    junk = [None, True, "x", -1, 1e308, [], {}, [1, "a"], {"a": None}]
    refused = 0
    for _ in range(300):
        result = copy.deepcopy(good)
        node = result
        for _ in range(rng.integers(1, 4)):  # walk down to a random container
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = keys[rng.integers(len(keys))]
            if not isinstance(node[key], (dict, list)) or not node[key]:
                break
            node = node[key]
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if keys:
            node[keys[rng.integers(len(keys))]] = junk[rng.integers(len(junk))]
        result["integrity"] = {"content_sha256": content_digest(result)} if isinstance(result.get("integrity"), dict) else None
        try:
            results.validate(result)
        except ModbenchError:
            refused += 1
    assert refused > 100  # most corruptions are caught, and none crashed


def test_a_run_past_its_timeout_is_recorded_as_failed_with_the_reason(tmp_path):
    run = prepare(RunSpec("fnn", "addmul", "smoke", 0, device="cpu", timeout_min=0.0005))  # 30 ms
    result = run_and_save(run, tmp_path)
    assert result["status"] == "failed" and "--timeout-min of 0.0005 min" in result["error"]
    assert results.load(run.spec.folder(tmp_path) / "result.json")["status"] == "failed"
