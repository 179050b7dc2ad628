"""What every task kind's pipeline is: a function from a prepared run and its seeds to a typed
`RunOutput`, and the paper-style table of its results; registered by kind in PIPELINES, as
tasks and architectures are in theirs (one module per kind in this package)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

from modbench.registry import Registry

if TYPE_CHECKING:
    from modbench.harness import Prepared
    from modbench.masking import MaskSet

Tick = Callable[[str], Callable[[int], None]]  # phase -> per-step progress callback


@dataclass(frozen=True)
class RunOutput:
    """Everything a pipeline measured, in the result file's terms (harness.run_one files it)."""

    stages: dict[str, "MaskSet"]  # the binary masks of every stage, saved beside the result
    scores: dict[str, float | None]
    score_notes: dict[str, str]
    chance: dict[str, float]
    accuracy: dict[str, dict]
    nulls: dict | None
    sharing: list
    layers: dict
    details: dict | None
    n_params: int
    n_masked: int
    wall_time_s: dict[str, float]


class Phases:
    """Wall seconds per phase of a run, each measured from the end of the one before."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def mark(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = now - self._last
        self._last = now


@dataclass(frozen=True)
class KindPipeline:
    run: Callable[["Prepared", dict, Tick], RunOutput]  # (prepared run, its seeds, progress)
    table: Callable[[Sequence[dict]], str]  # the paper-style table of finished results
    # Whether its masks may come from any mask method (modbench.methods), or the reference only
    any_method: bool = True
    # Whether it masks a trained network, frozen (False: its weights train with its masks, so
    # there is no untrained network to mask and no random-init control)
    masks_frozen_network: bool = True


PIPELINES: Registry[KindPipeline] = Registry("pipeline")


def registers(*kinds: str, table: Callable[[Sequence[dict]], str], any_method: bool = True,
              masks_frozen_network: bool = True):
    """Decorator: the function is the pipeline of these task kinds, `table` their table."""
    def register(fn):
        for kind in kinds:
            PIPELINES.register(kind, KindPipeline(fn, table, any_method, masks_frozen_network))
        return fn
    return register
