"""The reference mask method: Gumbel-sigmoid sampling, mask sets, and the mask trainer."""
from modbench.masking.gumbel import (
    MaskNoise,
    deterministic_mask,
    masked_weights,
    sample_hard_mask,
)
from modbench.config import MaskConfig, MaskFilter
from modbench.masking.maskset import MaskSet
from modbench.masking.trainer import (
    TRAINER_VERSION,
    FrozenModel,
    binarize,
    init_logits,
    mask_step,
    train_mask,
)

__all__ = [
    "MaskNoise",
    "TRAINER_VERSION",
    "FrozenModel",
    "MaskConfig",
    "MaskFilter",
    "MaskSet",
    "binarize",
    "deterministic_mask",
    "init_logits",
    "mask_step",
    "masked_weights",
    "sample_hard_mask",
    "train_mask",
]
