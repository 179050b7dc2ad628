"""benchmarks/rerun_rows.py: the summary rows quote the worst stage of each run, not the first."""
import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "rerun_rows.py"


def _load():
    spec = importlib.util.spec_from_file_location("rerun_rows", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _result(seed: int, undecided: tuple[float, float], late_iou: tuple[float, float],
            full: float, control: float, converged: bool) -> dict:
    stages = {name: {"undecided": u, "late_iou": i} for name, u, i in zip(("control", "hard"), undecided, late_iou)}
    return {"task": {"name": "math_sort", "version": 3}, "seeds": {"run": seed},
            "wall_time_s": {"total": 1000.0 + seed}, "scores": {"iid_acc": full},
            "accuracy": {"full": {"interpolate": full}, "control": {"interpolate": control}},
            "convergence": {"stages": stages, "converged": converged, "reference_sets": ["interpolate"],
                            "criterion": {"max_undecided": 0.1, "min_late_iou": 0.98, "max_control_drop": 0.02}}}


def test_rows_quote_the_worst_stage_and_the_control_drop(tmp_path):
    runs = [_result(0, (0.05, 0.30), (0.99, 0.95), full=0.90, control=0.85, converged=False),
            _result(1, (0.04, 0.06), (0.995, 0.99), full=0.90, control=0.91, converged=True)]
    for r in runs:
        f = tmp_path / "math_sort" / "lstm_seq2seq" / "quick" / f"seed{r['seeds']['run']}" / "result.json"
        f.parent.mkdir(parents=True)
        f.write_text(json.dumps(r))
    rows = _load()
    loaded = rows.load_runs(tmp_path / "math_sort")
    line = rows.rerun_row("math_sort", 3, "lstm_seq2seq", loaded["lstm_seq2seq"])
    # the hard stage (0.30, IoU 0.95) is worse than the control stage in seed 0
    assert "1 of 2" in line and "per run 0.30, 0.06" in line and "per run 0.950, 0.990" in line
    assert "control mask 5.0, -1.0 points below" in line and "1000, 1001 s" in line
    table = rows.convergence_row("math_sort", 3, loaded)
    # mean control-stage undecided (0.05 + 0.04) / 2; the README's minus sign on the drop range
    assert "| 1 | 0.045 | −1.0 to 5.0 |" in table


def test_transfer_without_control_stage_or_reference_set_reads_its_largest_stage(tmp_path):
    result = _result(0, (0.03, 0.07), (0.99, 0.985), full=0.9, control=0.9, converged=True)
    result["convergence"]["stages"] = {"task0": result["convergence"]["stages"].pop("control"),
                                       "task1": result["convergence"]["stages"].pop("hard")}
    result["convergence"]["reference_sets"] = []
    rows = _load()
    line = rows.rerun_row("transfer", 2, "fnn", [result])
    assert "per run 0.07" in line and "control mask" not in line
    assert rows.convergence_row("transfer", 2, {"fnn": [result]}).endswith("| 1 | 0.070 | – |")


def test_a_drop_that_rounds_to_zero_never_reads_minus_zero():
    rows = _load()
    assert rows.shown(-0.04, ".1f") == "0.0" and rows.shown(-0.06, ".1f") == "-0.1"


def test_an_empty_folder_is_one_clear_line(tmp_path, capsys):
    assert _load().main([str(tmp_path)]) == 2
    assert "no quick-tier result files" in capsys.readouterr().err
    (tmp_path / "README.md").write_text("not a task folder")
    assert _load().main([str(tmp_path / "README.md")]) == 2
    assert "no quick-tier result files" in capsys.readouterr().err


def test_findings_on_a_task_without_an_easy_only_mask_is_one_clear_line(tmp_path, capsys):
    f = tmp_path / "scan" / "lstm_seq2seq" / "quick" / "seed0" / "result.json"
    f.parent.mkdir(parents=True)
    f.write_text(json.dumps(_result(0, (0.3, 0.2), (0.99, 0.99), full=0.9, control=0.9, converged=False)))
    assert _load().main([str(tmp_path / "scan"), "--findings"]) == 2
    err = capsys.readouterr().err
    assert "--findings reads mathematics tasks" in err and err.count("\n") == 1


def test_findings_row_gives_mean_and_sample_std_and_marks_missing_sets():
    """linear_1d has no extrapolation set ("–"); an unlearned function's score is "null"; the null
    shown beside a score is the mean of its draws, skipping draws that came out null."""
    rows = _load()
    runs = []
    for seed, (full, score) in enumerate([(0.80, 0.2), (0.90, None)]):
        r = _result(seed, (0.30, 0.20), (0.99, 0.985), full=full, control=full - 0.03, converged=False)
        r["accuracy"]["full"]["hard"] = r["accuracy"]["control"]["hard"] = 0.5
        r["accuracy"]["hard"] = {"easy": 0.9, "hard": 0.4}
        r["scores"]["combination_dependence/hard"] = score
        r["nulls"] = {"scores": {"combination_dependence/hard": [0.6, None, 0.8]}}
        runs.append(r)
    cells = rows.findings_row("lstm_seq2seq", runs).split(" | ")
    # interpolate 80 and 90 %: mean 85.0, sample std 7.1 (population std would read 5.0)
    assert cells[1] == "85.0 ± 7.1" and cells[2] == "–"
    assert cells[7] == "0.200 (0.700), null"
    assert cells[8] == "0.30" and cells[9] == "0.985" and cells[10] == "3.0" and cells[11] == "1,000-1,001 s |"
    for r in runs:
        r["scores"]["combination_dependence/hard"] = None
    assert " | null (2 of 2) | " in rows.findings_row("lstm_seq2seq", runs)
