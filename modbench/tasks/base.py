"""What a task is to modbench: data, sub-functions, loss, accuracy and per-tier budgets.

Versioning rule (lm-eval's): any change that can move a score — data, encoding, loss,
accuracy, budgets — bumps the task's `version`, with a line in its changelog docstring.
Data come from generators seeded by the task's name and version, never by the run seed.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable, ClassVar, Mapping

import torch

from modbench.contracts import Contract
from modbench.errors import ModbenchError
from modbench.gating import ConvergenceCriterion
from modbench.masking.maskset import MaskSet
from modbench.config import TierBudget
from modbench.contracts import Batch, ForwardFn
from modbench.registry import Registry

TIERS = ("smoke", "quick", "paper")


class Task(ABC):
    name: ClassVar[str]
    version: ClassVar[int]
    description: ClassVar[str]
    # Picks the pipeline (modbench.pipelines) and the declared scores (modbench.score_specs):
    # "specialize", "reuse", "sysgen", "class_removal", "stability", "transfer", or a new kind
    # registered in both from its own module.
    kind: ClassVar[str]
    subfunctions: ClassVar[tuple[str, ...]]
    contract: ClassVar[Contract]
    # The data source of `modbench check`'s smoke runs: small enough to build in seconds.
    smoke_source: ClassVar[str] = "generated"
    # Which of an architecture's per-group sizes this task takes (ArchSpec.size; None: the tier's)
    size_group: ClassVar[str | None] = None
    # What "converged" means for this family's masks (modbench.gating; README, "Mask convergence").
    convergence: ClassVar[ConvergenceCriterion]
    # The only architectures it runs (None: every one with a factory for its contract); a planted
    # task's ground truth is its network's.
    archs: ClassVar[tuple[str, ...] | None] = None

    def __init__(self, source: str = "generated") -> None:
        if source != "generated":
            raise ModbenchError(
                f"task {self.name!r} generates its own data and takes no --source {source!r}; drop it"
            )
        self.source = source

    @property
    def eval_sets(self) -> tuple[str, ...]:
        """The evaluation sets `accuracy` and `chance` accept."""
        return self.subfunctions

    @classmethod
    def faithfulness_sets(cls) -> tuple[str, ...]:
        """Evaluation sets on which the control mask must stay close to the unmasked network."""
        return cls.subfunctions

    @property
    def mask_stages(self) -> int:
        """Masks a run trains (for progress bars): the control mask and one per sub-function."""
        return 1 + len(self.subfunctions)

    def for_tier(self, tier: str) -> "Task":
        """The task as a run of `tier` sees it: itself, unless a tier runs fewer sub-functions
        (mask_stability's quick tier: fewer class pairs, so a ResNet run fits its 20 minutes)."""
        self.check_tier(tier)
        return self

    @abstractmethod
    def budget(self, tier: str, arch: str) -> TierBudget:
        """The resolved training and mask configuration for this tier and architecture."""

    @abstractmethod
    def fingerprints(self) -> dict[str, str]:
        """sha256 of every split's data."""

    @abstractmethod
    def sample(self, sub: str | None, batch_size: int, generator: torch.Generator) -> Batch:
        """A training batch drawn uniformly with replacement; `sub=None` is the full task."""

    @abstractmethod
    def loss(self, forward: ForwardFn, batch: Batch, sub: str | None) -> torch.Tensor:
        """Mean task loss of `forward` on `batch`, for sub-function `sub` (None: all)."""

    @abstractmethod
    def accuracy(self, forward: ForwardFn, sub: str) -> float:
        """Accuracy on `sub`'s evaluation data."""

    @abstractmethod
    def chance(self, sub: str) -> float:
        """Accuracy of the best constant answer on `sub`'s evaluation data."""

    def details(self, forward_with: Callable[[MaskSet | None], ForwardFn],
                stages: Mapping[str, MaskSet]) -> dict | None:
        """Task-specific analyses stored in the result's "details" (no score depends on them);
        `forward_with(mask)` is the frozen network under a mask (None: unmasked)."""
        return None

    def check_tier(self, tier: str) -> None:
        if tier not in TIERS:
            raise ModbenchError(f"unknown tier {tier!r}; choose one of {', '.join(TIERS)}")


class SysgenTask(Task):
    """A task of kind "sysgen": an IID evaluation set and held-out splits (DESIGN.md, systematic
    generalisation). Split s's mask is trained on `sample(s, …)` and tested on `accuracy(…, s)`."""

    kind = "sysgen"
    iid: ClassVar[str]

    @property
    def eval_sets(self) -> tuple[str, ...]:
        return (self.iid, *self.subfunctions, *self.extrapolation_sets)

    @property
    def sysgen_trainings(self) -> tuple[str, ...]:
        """Splits the architecture is also trained on directly, each scored on its own test set."""
        return self.subfunctions

    @property
    def extrapolation_sets(self) -> tuple[str, ...]:
        """Test sets outside the training distribution, scored with the IID network itself."""
        return ()

    @classmethod
    def faithfulness_sets(cls) -> tuple[str, ...]:
        return (cls.iid,)

    def own_mask_sets(self, split: str) -> tuple[str, ...]:
        """Where split `split`'s own mask is evaluated."""
        return (self.iid, split)


TASKS: Registry[type[Task]] = Registry("task")
