"""Gumbel-sigmoid sampling with a hard straight-through estimator (paper_spec §1.3-1.4).

The paper draws two uniforms and uses −log(log U1 / log U2), the difference of two Gumbel(0, 1)
variables, i.e. Logistic(0, 1) noise. We draw the same distribution from one uniform per weight,
logit(U) = log U − log(1 − U), which halves the random numbers and the elementwise passes.

`sample_hard_mask` is the readable reference; `masked_weight` is the fused form the trainer
uses (same forward values, same gradient; tested against the reference).
"""
from __future__ import annotations

import numpy as np
import torch

# The paper adds eps = 1e-10 inside its logs; torch.logit clamps U to [eps, 1 − eps] instead.
# In float32, 1 − 1e-10 rounds to 1, so we clamp at 1e-7, still far in the tails (|noise| ≤ 16).
UNIFORM_EPS = 1e-7


class LogisticNoise:
    """Logistic(0, 1) noise from a numpy PCG64 stream seeded by the caller.

    numpy's PCG64 fills float32 buffers about twice as fast as torch's CPU generator, and the
    noise is the largest cost of a mask step (k samples × every masked weight).
    """

    def __init__(self, seed: int) -> None:
        self._rng = np.random.Generator(np.random.PCG64(seed))

    def sample(self, shape: tuple[int, ...]) -> torch.Tensor:
        uniform = torch.from_numpy(self._rng.random(shape, dtype=np.float32))
        return torch.logit_(uniform, eps=UNIFORM_EPS)


def sample_hard_mask(
    logits: torch.Tensor, noise: torch.Tensor, tau: float = 1.0
) -> torch.Tensor:
    """A 0/1 mask sample whose gradient is that of the soft sample σ((l + noise) / τ).

    Forward values are exactly 0.0 or 1.0: the straight-through term is added as
    (soft − soft.detach()), which is exactly zero, rather than hard + soft − soft, which rounds.
    """
    z = (logits + noise) / tau
    soft = torch.sigmoid(z)
    hard = (z > 0).to(logits.dtype)  # σ(z) > 0.5  ⇔  z > 0
    return hard + (soft - soft.detach())


class _MaskedWeight(torch.autograd.Function):
    """W ⊙ 1[l + noise > 0] forward; d/dl of W ⊙ σ((l + noise) / τ) backward."""

    @staticmethod
    def forward(ctx, logits, weight, noise, tau):  # noise is overwritten with z
        z = noise.add_(logits)
        if tau != 1.0:
            z.div_(tau)
        ctx.save_for_backward(z, weight)
        ctx.tau = tau
        return torch.where(z > 0, weight, 0.0)

    @staticmethod
    def backward(ctx, grad):
        z, weight = ctx.saved_tensors
        grad_logits = torch.ops.aten.sigmoid_backward(grad * weight, torch.sigmoid_(z))
        if ctx.tau != 1.0:
            grad_logits = grad_logits / ctx.tau
        return grad_logits, None, None, None


def masked_weight(
    logits: torch.Tensor, weight: torch.Tensor, noise: torch.Tensor, tau: float = 1.0
) -> torch.Tensor:
    """`weight * sample_hard_mask(logits, noise, tau)` in three elementwise passes instead of
    ten. Consumes `noise` (its buffer is reused). The weight gets no gradient."""
    return _MaskedWeight.apply(logits, weight.detach(), noise, tau)


def deterministic_mask(logits: torch.Tensor) -> torch.Tensor:
    """The evaluation mask: keep a weight iff its logit ≥ 0 (paper_spec §1.4). Returns bool."""
    return logits >= 0
