"""Mask convergence: the tracker's records, the gate, and an unconverged score kept off the board."""
import copy
import json
from pathlib import Path

import pytest
import torch

from modbench import results
from modbench.gating import NOT_CONVERGED, ConvergenceCriterion, failures, gate
from modbench.leaderboard.collect import collect
from modbench.leaderboard.compare import compare
from modbench.leaderboard.tables import build
from modbench.masking import MaskConfig, binarize, train_mask
from modbench.masking.convergence import ConvergenceTracker

CRITERION = ConvergenceCriterion(max_undecided=0.10, min_late_iou=0.98)
TEMPLATE = Path(__file__).parent / "fixtures" / "results" / "addmul" / "fnn" / "quick" / "seed0" / "result.json"


def test_the_tracker_counts_flips_between_its_checkpoints():
    tracker = ConvergenceTracker(steps=4)  # copies after updates 2, 3 and 4
    decisions = {1: [5.0, 5.0, -5.0, -5.0], 2: [5.0, 5.0, -5.0, -5.0], 3: [5.0, -5.0, -5.0, -5.0],
                 4: [5.0, -5.0, 5.0, 0.5]}
    for step, values in decisions.items():
        tracker.observe(step, {"w": torch.tensor(values)})
    summary = tracker.summary({"w": torch.tensor(decisions[4])})
    # 2 → 3: one of four decisions changed, kept sets {0, 1} and {0}; 3 → 4: two changed, {0} and {0, 2, 3}
    assert [(c.step, c.flips, c.iou) for c in summary.checkpoints] == [(3, 0.25, 0.5), (4, 0.5, 1 / 3)]
    assert (summary.late_flips, summary.late_iou) == (0.5, 1 / 3)
    assert summary.undecided == 0.25  # only 0.5 lies inside |l| < log 9 ≈ 2.197


def trained_stage(problem, steps: int):
    frozen, loss, batch = problem
    cfg = MaskConfig(steps=steps, batch_size=32, beta=1e-2, lr=0.1)
    tracker = ConvergenceTracker(cfg.steps)
    logits = train_mask(frozen, loss, batch, cfg, 0, tracker=tracker)
    return binarize(logits, tracker.summary(logits))


def fixture_result(stage, score: float) -> dict:
    """The fixture addmul result with this stage as its only mask stage, gated by CRITERION."""
    result = copy.deepcopy(json.loads(TEMPLATE.read_text()))
    result["scores"] = {"p_specialize": score}
    result["score_notes"] = {}
    result["accuracy"] = {"full": {"add": 1.0}, "control": {"add": 1.0}}
    result["convergence"] = {"stages": {"control": stage.convergence.as_dict()}}
    gate(result, CRITERION, ["add"])
    return result


def test_a_stage_stopped_after_a_few_steps_is_not_converged_and_its_score_is_not_ranked(tmp_path, needed_and_harmful):
    early, late = trained_stage(needed_and_harmful, 3), trained_stage(needed_and_harmful, 300)
    assert early.convergence.undecided == 1.0  # 3 updates of lr 0.1 cannot leave σ(2)'s band
    assert late.convergence.undecided == 0.0 and late.convergence.late_iou == 1.0
    assert late.masks["weight"].tolist() == [[True, False]]
    for arch, stage, value in (("stopped_early", early, 0.99), ("converged", late, 0.5)):
        for seed in range(5):
            result = fixture_result(stage, value)
            result["architecture"]["name"], result["seeds"]["run"] = arch, seed
            results.write(tmp_path / "addmul" / arch / "quick" / f"seed{seed}" / "result.json", result)
    early_result = results.load(tmp_path / "addmul" / "stopped_early" / "quick" / "seed0" / "result.json")
    assert not early_result["convergence"]["converged"]
    assert early_result["scores"]["p_specialize"] == 0.99  # stored ...
    assert early_result["score_notes"]["p_specialize"].startswith(NOT_CONVERGED)  # ... with the reason
    assert "control: 1.00 of its logits undecided" in early_result["score_notes"]["p_specialize"]

    table = {r.arch: r for r in build(collect([tmp_path])).rows if r.score == "p_specialize"}
    assert (table["converged"].tier, table["converged"].converged) == (1, "5/5")
    stopped = table["stopped_early"]
    assert (stopped.tier, stopped.n_seeds, stopped.n_unconverged, stopped.converged) == (None, 0, 5, "0/5")
    assert stopped.mean == pytest.approx(0.99)  # shown as measured, never ranked
    # compare: the unconverged side is never tested, and never fails the gate either way
    for a, b in (("converged", "stopped_early"), ("stopped_early", "converged")):
        [row] = compare(tmp_path / "addmul" / a, tmp_path / "addmul" / b)
        assert (row.verdict, row.gates) == ("", False)


def test_the_gate_names_every_failure_and_spares_mask_free_scores():
    stages = {"control": {"undecided": 0.3, "late_iou": 0.9}, "jump": {"undecided": 0.05, "late_iou": 0.99}}
    accuracy = {"full": {"simple": 0.99}, "control": {"simple": 0.95}}
    reasons = failures(stages, accuracy, ["simple"], CRITERION)
    assert len(reasons) == 3  # control's undecided share, control's late IoU, a 4-point drop on simple
    assert "4.0 points below the unmasked network on simple" in reasons[2]
    result = {"scores": {"iid_acc": 0.99, "combination_dependence/jump": 0.2, "combination_dependence/length": None},
              "score_notes": {"combination_dependence/length": "not learned"}, "accuracy": accuracy,
              "convergence": {"stages": stages}}
    gate(result, CRITERION, ["simple"])
    assert result["convergence"]["gated_scores"] == ["combination_dependence/jump"]
    assert result["score_notes"]["combination_dependence/length"] == "not learned"  # a null keeps its reason
    assert "iid_acc" not in result["score_notes"]  # the unmasked network needs no converged mask


def test_a_faithful_settled_run_passes():
    stages = {"control": {"undecided": 0.1, "late_iou": 0.98}}
    accuracy = {"full": {"add": 1.0}, "control": {"add": 0.98}}
    assert failures(stages, accuracy, ["add"], CRITERION) == []  # every threshold is inclusive


def test_a_schema_2_result_is_upgraded_and_judged_on_its_histograms(tmp_path):
    result = json.loads(TEMPLATE.read_text())
    counts = [0] * 20
    counts[0], counts[17], counts[19] = 70, 20, 10  # 20 of 100 keep-probabilities in [0.85, 0.9)
    result.update(schema_version=2, accuracy={"full": {"add": 1.0, "mul": 1.0}, "control": {"add": 1.0, "mul": 1.0}},
                  masks={"keep_probability_histogram": {"control": counts}})
    del result["convergence"]
    path = tmp_path / "result.json"
    path.write_text(json.dumps(result))
    assert results.upgrade(path) == "upgraded from schema 2"
    loaded = results.load(path)
    assert loaded["convergence"]["stages"]["control"]["undecided"] == 0.2
    assert loaded["convergence"]["gated_scores"] == ["p_specialize", "p_specialize_removal"]


def test_a_late_iou_just_below_the_threshold_never_reads_as_equal_to_it():
    reasons = failures({"control": {"undecided": 0.01, "late_iou": 0.97996}},
                       {"full": {"add": 1.0}, "control": {"add": 1.0}}, ["add"], CRITERION)
    assert reasons == ["control: its kept set moved over the last quarter of the stage (IoU 0.9799, at least 0.9800)"]
