"""What a mask method is to modbench: a way to find, in a frozen network, the weights one
sub-function needs. The reference Gumbel-sigmoid trainer is one method; the analyzer track
(DESIGN.md, "Ground truth") scores others on the planted tasks, whose modules are known.

A method is a function (prepared run, frozen network, sub-function or None for the whole task,
stage seed, per-step callback, tensors whose mask is fixed) -> binary MaskSet, registered under
a name with a version. A run picks it with `--set mask.method=NAME` and records it in
`config.mask.method`; every pipeline, score, null and table then works unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from modbench.config import REFERENCE_METHOD as REFERENCE
from modbench.registry import Registry

if TYPE_CHECKING:
    from modbench.harness import Prepared
    from modbench.masking import FrozenModel, MaskSet

FitFn = Callable[["Prepared", "FrozenModel", "str | None", int, "Callable[[int], None] | None", "MaskSet | None"],
                 "MaskSet"]


@dataclass(frozen=True)
class MaskMethod:
    name: str
    description: str
    fit: FitFn
    # Bump on any change that can move its masks (the reference's is the trainer version).
    version: int
    reference: str = ""


METHODS: Registry[MaskMethod] = Registry("mask method")
__all__ = ["METHODS", "REFERENCE", "FitFn", "MaskMethod", "fit_mask", "method_of"]


def method_of(run: "Prepared") -> MaskMethod:
    return METHODS.get(run.budget.mask.method)


def fit_mask(run: "Prepared", frozen: "FrozenModel", sub: str | None, seed: int, on_step=None,
             fixed: "MaskSet | None" = None) -> "MaskSet":
    """One stage's binary mask by the run's method. Module-level: it may run in a worker."""
    return method_of(run).fit(run, frozen, sub, seed, on_step, fixed)
