"""Unit-level masks: one Gumbel-sigmoid straight-through logit per unit, which keeps or drops
every weight of the unit at once. A unit is an output row of a masked tensor: a neuron of a
Linear layer, a channel of a convolution, one gate row of an LSTM cell. Modules that are whole
units are found as well as by weight masks; modules that share units are not, by construction.

The sampler is the reference's (`masking.gumbel.sample_hard_mask`), the regulariser the
reference's per weight: (β / batch) · Σ_units logit · (weights in the unit), so a unit is
pushed as hard as its weights would be together.
"""
from __future__ import annotations

import torch

from modbench.masking.gumbel import UNIFORM_EPS, sample_hard_mask
from modbench.masking.trainer import binarize
from modbench.methods.base import METHODS, MaskMethod
from modbench.methods.loop import train_gates, with_fixed


def unit_shape(weight: torch.Tensor) -> tuple[int, ...]:
    """[out, 1, …]: one logit per output row, broadcast over the rest."""
    return (weight.shape[0], *([1] * (weight.dim() - 1)))


def unit_sample(logits: torch.Tensor, generator: torch.Generator, tau: float) -> torch.Tensor:
    u = torch.rand(logits.shape, generator=generator).to(logits.device)
    return sample_hard_mask(logits, torch.logit(u, eps=UNIFORM_EPS), tau)


def fit(run, frozen, sub, seed, on_step=None, fixed=None):
    cfg = run.budget.mask
    skip = set(fixed.masks) if fixed else set()
    params = {n: torch.full(unit_shape(frozen.params[n]), cfg.init, device=frozen.params[n].device,
                            requires_grad=True) for n in frozen.masked if n not in skip}
    per_unit = {n: frozen.params[n][0].numel() for n in params}  # weights in one unit
    weight = cfg.beta / cfg.batch_size
    trained, convergence = train_gates(
        run, frozen, sub, seed, params,
        sample=lambda name, p, g: unit_sample(p, g, cfg.tau),
        penalty=lambda ps: weight * sum(p.sum() * per_unit[n] for n, p in ps.items()),
        fixed=fixed, on_step=on_step)
    expanded = {n: l.expand_as(frozen.params[n]) for n, l in trained.items()}  # weight-shaped masks
    return with_fixed(binarize(expanded, convergence), fixed)


METHODS.register("units", MaskMethod(
    "units", "Gumbel-sigmoid masks per unit (neuron, channel or gate row), not per weight", fit, 1,
    "modbench; the unit-level variant of Csordás et al. 2021",
))
