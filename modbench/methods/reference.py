"""The reference method: Gumbel-sigmoid straight-through masks (paper_spec §1.3-1.6), trained by
`masking.trainer` (its version is the trainer's)."""
from __future__ import annotations

from modbench.masking.trainer import TRAINER_VERSION
from modbench.methods.base import METHODS, REFERENCE, MaskMethod


def _fit(run, frozen, sub, seed, on_step=None, fixed=None):
    from modbench.pipelines.common import train_one_mask  # the pipelines' own path, unchanged

    return train_one_mask(run, frozen, sub, seed, on_step, fixed)


METHODS.register(REFERENCE, MaskMethod(
    REFERENCE, "Gumbel-sigmoid straight-through weight masks (the paper's; the reference trainer)", _fit,
    TRAINER_VERSION, "Csordás et al. 2021, §2",
))
