"""Every mask score beside its null: the same score from random masks of the learned masks'
per-tensor density, computed in the same run from evaluation alone (DESIGN.md, "Nulls and
controls").

A score that its null matches says the network is merely sparse-tolerant, not modular: any
mask that keeps that many weights per layer would have given it. Each draw replaces every
sub-function mask by a uniformly random mask with exactly as many kept weights in every tensor;
the control mask, the reference the scores normalise by, stays the learned one, as do tensors
a stage copies from it (class removal's classifier). Draws come from the run's own "null" seed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Mapping, Sequence

from modbench.gating import reads_masks

if TYPE_CHECKING:  # tables read nulls without torch
    from modbench.masking import MaskSet

DRAWS = 3
KEPT_STAGES = ("control",)
ScoreFn = Callable[[dict[str, "MaskSet"]], Mapping[str, float | None]]


def null_scores(score_fn: ScoreFn, stages: Mapping[str, "MaskSet"], seed: int, draws: int = DRAWS,
                keep_tensors: Sequence[str] = ()) -> dict:
    """`result["nulls"]`: per mask-reading score, its value under each draw of random masks."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    values: dict[str, list[float | None]] = {}
    for _ in range(draws):
        randomised = {stage: mask if stage in KEPT_STAGES else mask.random_like(generator, keep_tensors)
                      for stage, mask in stages.items()}
        for score, value in score_fn(randomised).items():
            if reads_masks(score):
                values.setdefault(score, []).append(value)
    return {"draws": draws, "kept_stages": list(KEPT_STAGES), "scores": values}


def null_mean(nulls: Mapping | None, score: str) -> float | None:
    """The mean of a score's null draws that have a value (None: no null, or every draw null)."""
    present = [v for v in ((nulls or {}).get("scores") or {}).get(score, ()) if v is not None]
    return sum(present) / len(present) if present else None
