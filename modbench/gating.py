"""Which scores a run may rank: its task family's convergence criterion, applied to its masks.

A mask that never left its initialisation measures the trainer's step budget, not the network
(DESIGN.md, "Trustworthy scores"). So every run records, per mask stage, the share of undecided
logits and how much its decisions changed over the last quarter of the stage
(`masking.convergence`), and whether its control mask is faithful: within a few points of the
unmasked network on the task's own evaluation sets. A score computed from masks that fail the
family's criterion is stored, with the reasons in `score_notes`, and never ranked or gated on,
as a score of an unlearned function is. Scores of the unmasked network (`MASK_FREE`) need no
converged mask.

Pure functions of result dicts: no torch, so tables and `validate` stay light.
"""
from __future__ import annotations

import math

from dataclasses import asdict, dataclass
from typing import Mapping, Sequence

# Scores that read no mask (the unmasked network's own accuracies): never gated.
MASK_FREE = ("iid_acc", "sysgen_acc/")
NOT_CONVERGED = "not ranked: the masks did not converge"


@dataclass(frozen=True)
class ConvergenceCriterion:
    """What "converged" means for one task family (thresholds chosen from measurements: README,
    "Mask convergence")."""

    max_undecided: float  # share of a stage's logits with σ(l) in (0.1, 0.9) at its end
    min_late_iou: float  # IoU of a stage's kept set at 3/4 of the stage with the final one
    max_control_drop: float = 0.02  # control mask's accuracy at most this below the unmasked network's

    def as_dict(self) -> dict:
        return asdict(self)


def failures(stages: Mapping[str, Mapping], accuracy: Mapping | None, reference_sets: Sequence[str],
             criterion: ConvergenceCriterion) -> list[str]:
    """Every way the run's masks miss the criterion, one short reason each ([] if none)."""
    reasons = []
    for stage, c in stages.items():
        if c["undecided"] > criterion.max_undecided:
            reasons.append(f"{stage}: {c['undecided']:.2f} of its logits undecided (at most "
                           f"{criterion.max_undecided:.2f})")
        if c["late_iou"] is not None and c["late_iou"] < criterion.min_late_iou:
            # rounded down: 0.97996 must not read "0.9800, at least 0.9800"
            shown = math.floor(c["late_iou"] * 1e4) / 1e4
            reasons.append(f"{stage}: its kept set moved over the last quarter of the stage (IoU "
                           f"{shown:.4f}, at least {criterion.min_late_iou:.4f})")
    for s in reference_sets:
        if s not in (accuracy or {}).get("full", {}) or s not in accuracy.get("control", {}):
            reasons.append(f"no accuracy of the unmasked network and the control mask on {s} to compare")
            continue
        drop = accuracy["full"][s] - accuracy["control"][s]
        if drop > criterion.max_control_drop + 1e-12:
            reasons.append(f"control mask {100 * drop:.1f} points below the unmasked network on {s} (at most "
                           f"{100 * criterion.max_control_drop:g})")
    return reasons


def reads_masks(score: str) -> bool:
    return not score.startswith(MASK_FREE)


def gate(result: dict, criterion: ConvergenceCriterion, reference_sets: Sequence[str]) -> None:
    """Fill `result["convergence"]` from its per-stage records and note every mask-derived score
    the masks stop from ranking (a null score keeps its own reason)."""
    convergence = result["convergence"]
    reasons = failures(convergence["stages"], result["accuracy"], reference_sets, criterion)
    gated = [s for s, v in result["scores"].items() if reasons and v is not None and reads_masks(s)]
    convergence.update(criterion=criterion.as_dict(), reference_sets=list(reference_sets),
                       converged=not reasons, reasons=reasons, gated_scores=gated)
    for score in gated:
        result["score_notes"][score] = f"{NOT_CONVERGED}: " + "; ".join(reasons)


def gated_scores(result: dict) -> set[str]:
    """The scores of a finished result that tables must not rank."""
    return set((result.get("convergence") or {}).get("gated_scores") or ())
