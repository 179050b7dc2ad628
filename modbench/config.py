"""The configuration a tier fixes for one (task, architecture): weight training, mask training,
which tensors get masks. Plain dataclasses on the ground floor: every layer may import them, and
they import neither torch nor anything above them (the mask filter reaches the roles lazily).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from modbench.errors import ModbenchError

if TYPE_CHECKING:
    from torch import nn

# The reference mask method (modbench.methods), named here so torch-free layers can tell it apart.
REFERENCE_METHOD = "gumbel"

# The rate of step `step` (0-based) of `steps`, as a share of MaskConfig.lr.
LR_SCHEDULES: dict[str, Callable[[int, int], float]] = {
    "constant": lambda step, steps: 1.0,
    "cosine": lambda step, steps: 0.5 * (1.0 + math.cos(math.pi * step / steps)),
}



@dataclass(frozen=True)
class TrainConfig:
    """Defaults are the paper's: Adam, lr 1e-3, batch 128, clip 1.0 (paper_spec §2, §4.1)."""

    steps: int = 20_000
    lr: float = 1e-3
    batch_size: int = 128
    grad_clip: float = 1.0
    # Steps after which the learning rate is multiplied by 0.1 (the paper code's `lr_sched.steps`,
    # gamma 0.1; paper_spec §2). Empty: constant rate, as in all of the paper's sweeps.
    lr_decay_at: tuple[int, ...] = ()
    # Parts each batch is cut into, whose gradients are computed apart and summed in order
    # (modbench.shards): a pool's processes then share the training phase. Part of the numbers:
    # 2 shards give other bits than 1, the same for any process count.
    shards: int = 1

    def __post_init__(self) -> None:
        if self.shards < 1 or self.shards > self.batch_size:
            raise ModbenchError(f"train.shards must be between 1 and the batch size {self.batch_size}, "
                                f"got {self.shards}; 1 computes each batch whole")


@dataclass(frozen=True)
class MaskConfig:
    """Hyper-parameters of one mask stage. Defaults are the paper's (paper_spec §2, §4.1)."""

    steps: int = 20_000
    lr: float = 1e-2
    beta: float = 1e-4  # the regulariser is (beta / batch_size) · Σ logits
    batch_size: int = 128
    n_samples: int = 4  # mask samples per batch; the batch is cut into this many chunks
    init: float = 2.0
    grad_clip: float = 1.0
    tau: float = 1.0
    # How the rate moves over the stage (LR_SCHEDULES): "constant" (the paper) or "cosine"
    # (lr · ½(1 + cos(π · step / steps)), to 0 at the end: decisions settle within the budget).
    lr_schedule: str = "constant"
    # Which mask method trains the stage (modbench.methods): the reference "gumbel", or one the
    # analyzer track compares with it ("hard_concrete", "units", "magnitude").
    method: str = REFERENCE_METHOD

    def __post_init__(self) -> None:
        if self.lr_schedule not in LR_SCHEDULES:
            raise ModbenchError(f"unknown mask lr_schedule {self.lr_schedule!r}; choose one of "
                                f"{', '.join(LR_SCHEDULES)}")
        if self.batch_size % self.n_samples:
            raise ModbenchError(
                f"mask batch_size {self.batch_size} is not divisible by n_samples "
                f"{self.n_samples}; choose a batch size that is a multiple of it"
            )


@dataclass(frozen=True)
class MaskFilter:
    """Which parameters get a mask: every weight, the biases where the task masks them, never
    an embedding (paper_spec §1.2). Roles come from the owning module's type
    (`modbench.masking.roles`), not from names."""

    mask_biases: bool = False

    def select(self, model: "nn.Module") -> list[str]:
        from modbench.masking.roles import BIAS, WEIGHT, parameter_roles

        wanted = (WEIGHT, BIAS) if self.mask_biases else (WEIGHT,)
        return [name for name, role in parameter_roles(model).items() if role in wanted]


@dataclass(frozen=True)
class TierBudget:
    """Everything a tier fixes for one (task, architecture): training, masks, which tensors."""

    train: TrainConfig
    mask: MaskConfig
    mask_filter: MaskFilter
    # Factory kwargs that replace the architecture's own size for this tier (None: keep it).
    arch_size: dict | None = None
