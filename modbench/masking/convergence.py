"""Has a mask stage settled? Its binary decisions, watched at a few checkpoints while it trains.

A stage's logits start at 2.0, keep-probability σ(2) ≈ 0.88, inside the undecided band
σ(l) ∈ (0.1, 0.9); a mask says something about the network only once most logits have left
the band and the decisions (keep iff l ≥ 0) have stopped changing. The tracker copies the
deterministic mask (one bool per weight) at 1/2, 3/4 and the end of the stage and compares
consecutive copies: no evaluation pass, no extra forward, nothing on the steps in between.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Mapping

import torch

# σ(l) ∈ (0.1, 0.9)  ⇔  |l| < log 9: the band the criterion calls undecided (DESIGN.md).
UNDECIDED_LOGIT = math.log(9.0)
# Where in the stage the deterministic mask is copied; the last interval is the "late" window.
CHECKPOINTS = (0.5, 0.75, 1.0)


@dataclass(frozen=True)
class Checkpoint:
    """The change of the decisions between the previous checkpoint and this one."""

    step: int  # updates done when the copy was taken
    flips: float  # share of the stage's weights whose decision changed since the previous copy
    iou: float | None  # IoU of the kept sets of the two copies (None: both empty)


@dataclass(frozen=True)
class StageConvergence:
    """What the result file records per stage (`convergence.stages`)."""

    steps: int
    undecided: float  # share of logits with σ(l) in (0.1, 0.9) at the end
    late_flips: float | None  # flips over the last window (3/4 → end); None: too few steps to tell
    late_iou: float | None  # the kept set's IoU with itself at 3/4 of the stage
    checkpoints: tuple[Checkpoint, ...] = ()

    def as_dict(self) -> dict:
        return asdict(self)


def undecided_share(logits: Mapping[str, torch.Tensor]) -> float:
    """Share of all logits whose keep-probability lies in (0.1, 0.9)."""
    total = sum(l.numel() for l in logits.values())
    inside = sum(int((l.detach().abs() < UNDECIDED_LOGIT).sum()) for l in logits.values())
    return inside / total if total else 0.0


def _decisions(logits: Mapping[str, torch.Tensor]) -> torch.Tensor:
    return torch.cat([(l.detach() >= 0).flatten() for l in logits.values()])  # [n_masked] bool


class ConvergenceTracker:
    """Feed it `observe(steps_done, logits)` after every update; `summary(logits)` at the end."""

    def __init__(self, steps: int, checkpoints: tuple[float, ...] = CHECKPOINTS) -> None:
        self.steps = steps
        # distinct positive steps; a 1-step stage has one checkpoint and no window to compare.
        # The last window (between the last two) is the one the criterion reads.
        self._at = sorted({max(1, round(steps * f)) for f in checkpoints}) if steps > 0 else []
        self._last: torch.Tensor | None = None
        self._checkpoints: list[Checkpoint] = []

    def observe(self, steps_done: int, logits: Mapping[str, torch.Tensor]) -> None:
        if steps_done not in self._at:
            return
        current = _decisions(logits)
        if self._last is not None:
            changed = int((current ^ self._last).sum())
            union = int((current | self._last).sum())
            both = int((current & self._last).sum())
            self._checkpoints.append(Checkpoint(steps_done, changed / max(len(current), 1),
                                                both / union if union else None))
        self._last = current

    def summary(self, logits: Mapping[str, torch.Tensor]) -> StageConvergence:
        late = self._checkpoints[-1] if self._checkpoints else None
        return StageConvergence(
            steps=self.steps, undecided=undecided_share(logits),
            late_flips=late.flips if late else None, late_iou=late.iou if late else None,
            checkpoints=tuple(self._checkpoints),
        )
