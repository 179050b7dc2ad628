"""Gumbel-sigmoid sampling with a hard straight-through estimator (paper_spec §1.3-1.4).

The paper draws two uniforms and uses −log(log U1 / log U2), the difference of two Gumbel(0, 1)
variables, i.e. Logistic(0, 1) noise. We draw the same distribution from one uniform per weight,
logit(U) = log U − log(1 − U), which halves the random numbers and the elementwise passes.

`sample_hard_mask` is the readable reference; `masked_weights` is the fused form the trainer
uses (same masks up to rounding at the threshold, same gradient; tested against the reference).
"""
from __future__ import annotations

import numpy as np
import torch

from modbench.masking import kernels

# The paper adds eps = 1e-10 inside its logs; torch.logit clamps U to [eps, 1 − eps] instead.
# In float32, 1 − 1e-10 rounds to 1, so we clamp at 1e-7, still far in the tails (|noise| ≤ 16).
UNIFORM_EPS = 1e-7


class MaskNoise:
    """Uniform(0, 1) noise from a numpy PCG64 stream seeded by the caller; `logistic` turns it
    into Logistic(0, 1) noise for the readable reference path.

    numpy's PCG64 fills float32 buffers about twice as fast as torch's CPU generator, and the
    noise is the largest cost of a mask step after the matmuls (k samples × every masked weight).
    """

    def __init__(self, seed: int) -> None:
        self._rng = np.random.Generator(np.random.PCG64(seed))

    def uniform(self, shape: tuple[int, ...]) -> torch.Tensor:
        return torch.from_numpy(self._rng.random(shape, dtype=np.float32))

    def logistic(self, shape: tuple[int, ...]) -> torch.Tensor:
        return torch.logit_(self.uniform(shape), eps=UNIFORM_EPS)


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


def _flat(t: torch.Tensor) -> np.ndarray:
    return t.detach().contiguous().reshape(-1).numpy()


class _MaskedWeights(torch.autograd.Function):
    """k samples W ⊙ 1[u_j > σ(−l)] forward; Σ_j d/dl of W ⊙ σ((l + logit u_j) / τ) backward,
    both through the fused kernels (float32 only)."""

    @staticmethod
    def forward(ctx, logits, weight, uniform, tau, stacked):  # uniform: [k, *shape]
        neg_logits = -logits.detach()  # torch's vectorised exp beats a scalar loop's
        exp_neg_logit, threshold = _flat(torch.exp(neg_logits)), _flat(torch.sigmoid_(neg_logits))
        flat_weight = _flat(weight)
        # stacked: one [k, *shape] tensor (for vmap); else k tensors (one autograd output each)
        outputs = torch.empty_like(uniform) if stacked else [torch.empty_like(weight) for _ in uniform]
        for sample, out in zip(uniform, outputs):
            kernels.masked_forward(_flat(sample), threshold, flat_weight, out.view(-1).numpy())
        ctx.save_for_backward(weight, uniform)
        ctx.exp_neg_logit, ctx.threshold, ctx.tau, ctx.stacked = exp_neg_logit, threshold, tau, stacked
        return outputs if stacked else tuple(outputs)

    @staticmethod
    def backward(ctx, *grads):
        weight, uniform = ctx.saved_tensors
        grads = grads[0] if ctx.stacked else grads
        total = np.zeros(ctx.exp_neg_logit.shape, dtype=np.float32)
        # the weight's own gradient only where it trains too (transfer): Σ_j grad_j ⊙ mask_j
        kept = np.zeros(ctx.threshold.shape, dtype=np.float32) if ctx.needs_input_grad[1] else None
        for sample, grad in zip(uniform, grads):
            flat_grad, flat_sample = _flat(grad), _flat(sample)
            kernels.accumulate_soft_grad(flat_grad, flat_sample, ctx.exp_neg_logit, 1.0 / ctx.tau, total)
            if kept is not None:
                kernels.accumulate_kept_grad(flat_grad, flat_sample, ctx.threshold, kept)
        grad_logits = torch.from_numpy(total).view_as(weight).mul_(weight.detach())
        if ctx.tau != 1.0:
            grad_logits.div_(ctx.tau)
        grad_weight = torch.from_numpy(kept).view_as(weight) if kept is not None else None
        return grad_logits, grad_weight, None, None, None


def masked_weights(
    logits: torch.Tensor, weight: torch.Tensor, uniform: torch.Tensor, tau: float = 1.0, stacked: bool = False
) -> tuple[torch.Tensor, ...] | torch.Tensor:
    """The k masked weights `weight * sample_hard_mask(logits, logit(uniform[j]), tau)`, one per
    row of `uniform` ([k, *weight.shape]), from two fused passes instead of about ten per sample.
    A weight that requires grad gets Σ_j grad_j ⊙ mask_j. `stacked`: one [k, *shape] tensor
    instead of a tuple. Other dtypes than float32 take the reference path."""
    if weight.dtype == logits.dtype == uniform.dtype == torch.float32:
        return _MaskedWeights.apply(logits, weight, uniform, tau, stacked)
    noise = torch.logit(uniform, eps=UNIFORM_EPS).to(logits.dtype)
    samples = tuple(weight * sample_hard_mask(logits, n, tau) for n in noise)
    return torch.stack(samples) if stacked else samples


def deterministic_mask(logits: torch.Tensor) -> torch.Tensor:
    """The evaluation mask: keep a weight iff its logit ≥ 0 (paper_spec §1.4). Returns bool."""
    return logits >= 0
