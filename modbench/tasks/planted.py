"""Planted-module tasks: the benchmark's own tasks, run on networks whose modules are known by
construction, so each score must come out at a known answer (DESIGN.md, "Ground truth").

- `planted_specialize`: addmul's problems on `planted_split`, two weight-disjoint MLPs, one per
  operation: P_specialize must be about 1, and each mask must keep its operation's module only
  (`recovery_iou/<f>` about 1).
- `planted_reuse`: double addition's problems on `planted_shared`, one MLP for both pairs:
  P_reuse must be about 1, and both masks keep one set of weights.

Data, budgets and convergence criteria are their families' (the same trainer as the board's
tasks); only the name (which seeds the data), the network and the ground truth differ.

Changelog: v1 — first version. planted_specialize v2 — planted_split holds both modules in
every tensor (a block of rows each) instead of a tensor per module, so the recovery nulls
(random masks of a mask's per-tensor density) no longer recover the partition for free; it
records `recovery_auroc/<f>` too (added before any v2 result was written).
"""
from __future__ import annotations

from typing import ClassVar, Mapping

from modbench.tasks.arithmetic import AddMul, DoubleAdd
from modbench.tasks.base import TASKS


class KnownAnswers:
    """Mixin: a task whose scores have known answers, recorded in each result's details (the
    leaderboard shows them beside the scores, in its ground-truth section)."""

    # score -> the value masks that find the known modules give
    known_answers: ClassVar[Mapping[str, float]]

    def details(self, forward_with, stages) -> dict:
        own = super().details(forward_with, stages) or {}  # type: ignore[misc]
        truth = getattr(self, "ground_truth", None)
        return {**own, "known_answers": dict(self.known_answers), **({"ground_truth": dict(truth)} if truth else {})}


class PlantedTask(KnownAnswers):
    """Mixin: a task whose network has planted modules (`archs/planted.py`)."""

    # sub-function -> index of its module in its network's `planted_partition()`
    ground_truth: ClassVar[Mapping[str, int]]


@TASKS.decorator("planted_specialize")
class PlantedSpecialize(PlantedTask, AddMul):
    """addmul on two weight-disjoint modules: each operation has its own."""

    name, version = "planted_specialize", 2
    description = "ground truth: addmul on disjoint planted modules (P_specialize must be ≈ 1)"
    archs = ("planted_split",)
    ground_truth = {"add": 0, "mul": 1}
    known_answers = {"p_specialize": 1.0, "recovery_iou/add": 1.0, "recovery_iou/mul": 1.0,
                     "recovery_auroc/add": 1.0, "recovery_auroc/mul": 1.0}


@TASKS.decorator("planted_reuse")
class PlantedReuse(PlantedTask, DoubleAdd):
    """double addition on one shared module: both pairs use the same weights."""

    name, version = "planted_reuse", 1
    description = "ground truth: double addition on one shared planted module (P_reuse must be ≈ 1)"
    archs = ("planted_shared",)
    ground_truth = {"pair1": 0, "pair2": 0}
    known_answers = {"p_reuse": 1.0, "recovery_iou/pair1": 1.0, "recovery_iou/pair2": 1.0}
