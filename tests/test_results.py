"""Result-file validation: `modbench validate` must reject malformed files."""
import copy
import json

import pytest

from modbench import results
from modbench.schema import content_digest
from modbench.cli import main
from modbench.harness import RunSpec, prepare, run_and_save


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    result = run_and_save(prepare(RunSpec("fnn", "addmul", "smoke", 0)), out)
    assert result["status"] == "ok"
    return json.loads((out / "addmul/fnn/smoke/seed0/result.json").read_text())


def write(tmp_path, name, obj_or_text):
    path = tmp_path / name
    path.write_text(obj_or_text if isinstance(obj_or_text, str) else json.dumps(obj_or_text))
    return path


def broken(good, change):
    result = copy.deepcopy(good)
    change(result)
    return result


CASES = {
    "missing_key": (lambda r: r.pop("scores"), "missing keys ['scores']"),
    "unknown_key": (lambda r: r.update(extra=1), "unknown keys ['extra']"),
    "wrong_type": (lambda r: r.update(tier=3), "'tier' has type int"),
    "bad_status": (lambda r: r.update(status="done"), "status 'done'"),
    "old_schema": (lambda r: r.update(schema_version=0), "schema_version 0"),
    "score_range": (lambda r: r["scores"].update(shared_iou=1.5), "outside [0, 1]"),
    "ok_without_acc": (lambda r: r.update(accuracy=None), "'accuracy' is null"),
    "nested_missing": (lambda r: r["task"].pop("fingerprints"), "lacks ['fingerprints']"),
}


def test_a_real_result_validates(good, tmp_path, capsys):
    assert main(["validate", str(write(tmp_path, "ok.json", good))]) == 0
    assert "ok " in capsys.readouterr().out


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_results_are_rejected_with_the_reason(good, tmp_path, capsys, case):
    change, message = CASES[case]
    path = write(tmp_path, f"{case}.json", broken(good, change))
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert message in out and out.count("\n") == 1


def test_corrupted_and_missing_files(good, tmp_path, capsys):
    truncated = write(tmp_path, "cut.json", json.dumps(good)[:200])
    assert main(["validate", str(truncated), str(tmp_path / "absent.json")]) == 1
    out = capsys.readouterr().out
    assert "not valid JSON" in out and "no such file" in out


def test_folders_are_searched_for_result_files(good, tmp_path, capsys):
    for seed in (0, 1):
        (tmp_path / f"addmul/fnn/quick/seed{seed}").mkdir(parents=True)
    write(tmp_path / "addmul/fnn/quick/seed0", "result.json", good)
    write(tmp_path / "addmul/fnn/quick/seed1", "result.json", json.dumps(good)[:200])
    assert main(["validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.count("ok ") == 1 and out.count("invalid ") == 1
    assert main(["validate", str(tmp_path / "addmul/fnn/quick/seed0")]) == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["validate", str(empty)]) == 1
    assert "no result.json under" in capsys.readouterr().out


def test_write_is_atomic_and_validates_first(good, tmp_path):
    path = tmp_path / "r.json"
    results.write(path, good)
    assert json.loads(path.read_text()) == good
    with pytest.raises(Exception):
        results.write(path, broken(good, lambda r: r.pop("tier")))
    assert json.loads(path.read_text()) == good  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


@pytest.mark.parametrize("name, value, ok", [
    ("combination_dependence/jump", -0.4, True),
    ("combination_dependence/jump", -1.2, False),
    ("p_specialize", -0.1, False),
])
def test_only_difference_scores_may_be_negative(good, name, value, ok):
    result = broken(good, lambda r: r["scores"].__setitem__(name, value))
    if "/" in name:  # a sysgen score: in a result of that kind
        result["task"]["kind"] = "sysgen"
        result["scores"] = {name: value}
    result["integrity"] = {"content_sha256": content_digest(result)}  # as if modbench wrote it
    if ok:
        results.validate(result)
    else:
        with pytest.raises(results.ModbenchError, match="outside"):
            results.validate(result)
