"""Hard-concrete (L0) gates per weight (Louizos, Welling & Kingma, ICLR 2018, "Learning Sparse
Neural Networks through L0 Regularization"; constants from its §4: temperature 2/3, stretch
interval (γ, ζ) = (−0.1, 1.1)).

A gate z = min(1, max(0, s (ζ − γ) + γ)), s = σ((logit u + log α) / temperature), u ~ U(0, 1),
multiplies its weight during training; the penalty is the expected number of non-zero gates,
Σ σ(log α − temperature · log(−γ / ζ)). Evaluation keeps a weight iff its deterministic gate
min(1, max(0, σ(log α)(ζ − γ) + γ)) ≥ 0.5, i.e. iff log α ≥ 0 (so it binarises like the
reference). log α starts at the reference's initial logit. The penalty's weight is 4β / batch:
its gradient per gate is at most a quarter of that (σ' ≤ 1/4), i.e. at most the reference
regulariser's constant β / batch, so both methods run at the task's β.
"""
from __future__ import annotations

import math

import torch

from modbench.masking.trainer import binarize, init_logits
from modbench.methods.base import METHODS, MaskMethod
from modbench.methods.loop import train_gates, with_fixed

TEMPERATURE, GAMMA, ZETA = 2 / 3, -0.1, 1.1
_SHIFT = TEMPERATURE * math.log(-GAMMA / ZETA)  # log α − this: the logit of P(gate ≠ 0)
UNIFORM_EPS = 1e-6


def gate_sample(log_alpha: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One stretched, clipped concrete sample per gate (values in [0, 1], exact 0 and 1 possible)."""
    u = torch.rand(log_alpha.shape, generator=generator).clamp_(UNIFORM_EPS, 1 - UNIFORM_EPS).to(log_alpha.device)
    s = torch.sigmoid((torch.log(u) - torch.log1p(-u) + log_alpha) / TEMPERATURE)
    return (s * (ZETA - GAMMA) + GAMMA).clamp(0.0, 1.0)


def expected_l0(log_alpha: torch.Tensor) -> torch.Tensor:
    """Σ P(gate ≠ 0)."""
    return torch.sigmoid(log_alpha - _SHIFT).sum()


def fit(run, frozen, sub, seed, on_step=None, fixed=None):
    cfg = run.budget.mask
    log_alpha = init_logits(frozen, cfg, skip=list(fixed.masks) if fixed else ())
    weight = 4 * cfg.beta / cfg.batch_size
    trained, convergence = train_gates(
        run, frozen, sub, seed, log_alpha,
        sample=lambda name, p, g: gate_sample(p, g),
        penalty=lambda params: weight * sum(expected_l0(p) for p in params.values()),
        fixed=fixed, on_step=on_step)
    return with_fixed(binarize(trained, convergence), fixed)


METHODS.register("hard_concrete", MaskMethod(
    "hard_concrete", "hard-concrete L0 gates per weight (Louizos et al. 2018)", fit, 1,
    "Louizos, Welling & Kingma, ICLR 2018",
))
