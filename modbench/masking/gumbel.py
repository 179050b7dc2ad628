"""Gumbel-sigmoid sampling with a hard straight-through estimator (paper_spec §1.3-1.4).

The paper draws two uniforms and uses −log(log U1 / log U2), the difference of two Gumbel(0, 1)
variables, i.e. Logistic(0, 1) noise. We draw the same distribution from one uniform per weight,
logit(U) = log U − log(1 − U), which halves the random numbers and the elementwise passes.

`sample_hard_mask` is the readable reference; `masked_weights` is the fused form the trainer
uses (same masks up to rounding at the threshold, same gradient; tested against the reference).
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np
import torch

from modbench.masking import kernels
from modbench.masking.device_masks import DeviceMaskedWeights
from modbench.masking.stream import counter_uniform

# The paper adds eps = 1e-10 inside its logs; torch.logit clamps U to [eps, 1 − eps] instead.
# In float32, 1 − 1e-10 rounds to 1, so we clamp at 1e-7, still far in the tails (|noise| ≤ 16).
UNIFORM_EPS = 1e-7


@dataclass(frozen=True)
class NoiseDraw:
    """A block of `prod(shape)` consecutive numbers of a counter-based uniform stream, not yet
    computed: the fused kernels generate them where they use them. shape: [k, *weight.shape]."""

    key: int
    first: int
    shape: tuple[int, ...]

    def source(self, sample: int) -> tuple[np.uint64, np.uint64]:
        """The kernels' noise source for mask sample `sample` (a row of the block)."""
        return np.uint64(self.key), np.uint64(self.first + sample * prod(self.shape[1:]))

    def materialise(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """The block's numbers as a float32 tensor of `shape` on `device` (the reference path's
        input): the numba kernel on the CPU, the same numbers in torch elsewhere (stream.py)."""
        if torch.device(device).type != "cpu":
            return counter_uniform(self.key, self.first, prod(self.shape), device).view(self.shape)
        out = np.empty(prod(self.shape), dtype=np.float32)
        kernels.fill_uniform(np.uint64(self.key), np.uint64(self.first), out)
        return torch.from_numpy(out).view(self.shape)


class MaskNoise:
    """The mask noise of one training stage: a counter-based uniform stream (SplitMix64, see
    kernels.py) whose key comes from the caller's seed; each draw takes the next block.

    Counter-based, so the fused kernels compute the numbers in place instead of reading a k·N
    buffer; `uniform` materialises a draw (the same numbers) where a tensor is needed.
    """

    def __init__(self, seed: int) -> None:
        self._key = int(kernels.mix64(np.uint64(seed % 2**64)))
        self._next = 0

    def draw(self, shape: tuple[int, ...]) -> NoiseDraw:
        block = NoiseDraw(self._key, self._next, tuple(shape))
        self._next += prod(shape)
        return block

    def uniform(self, shape: tuple[int, ...]) -> torch.Tensor:
        return self.draw(shape).materialise()

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


def _sources(noise: torch.Tensor | NoiseDraw) -> list:
    """One kernel noise source per mask sample: rows of explicit uniforms, or counter blocks."""
    if isinstance(noise, NoiseDraw):
        return [noise.source(j) for j in range(noise.shape[0])]
    return [_flat(row) for row in noise]


class _MaskedWeights(torch.autograd.Function):
    """k samples W ⊙ 1[u_j > σ(−l)] forward; Σ_j d/dl of W ⊙ σ((l + logit u_j) / τ) backward,
    both through the fused kernels (float32 only)."""

    @staticmethod
    def forward(ctx, logits, weight, noise, tau, stacked):  # noise: [k, *shape] uniforms or a NoiseDraw
        drop = _flat(torch.neg(logits.detach()).sigmoid_())  # σ(−l): a sample keeps w iff u > σ(−l)
        flat_weight, sources = _flat(weight), _sources(noise)
        k = len(sources)
        # stacked: one [k, *shape] tensor (for vmap); else k tensors (one autograd output each)
        outputs = weight.new_empty((k, *weight.shape)) if stacked else [torch.empty_like(weight) for _ in range(k)]
        for source, out in zip(sources, outputs):
            kernels.masked_forward(source, drop, flat_weight, out.view(-1).numpy())
        ctx.save_for_backward(logits, weight)
        ctx.sources, ctx.drop, ctx.tau, ctx.stacked = sources, drop, tau, stacked
        return outputs if stacked else tuple(outputs)

    @staticmethod
    def backward(ctx, *grads):
        logits, weight = ctx.saved_tensors
        grads = grads[0] if ctx.stacked else grads
        keep = _flat(torch.sigmoid(logits.detach()))
        total = np.zeros(keep.shape, dtype=np.float32)
        # the weight's own gradient only where it trains too (transfer): Σ_j grad_j ⊙ mask_j
        kept = np.zeros(keep.shape, dtype=np.float32) if ctx.needs_input_grad[1] else None
        for source, grad in zip(ctx.sources, grads):
            flat_grad = _flat(grad)
            kernels.accumulate_soft_grad(flat_grad, source, keep, ctx.drop, 1.0 / ctx.tau, total)
            if kept is not None:
                kernels.accumulate_kept_grad(flat_grad, source, ctx.drop, kept)
        grad_logits = torch.from_numpy(total).view_as(weight).mul_(weight.detach())
        if ctx.tau != 1.0:
            grad_logits.div_(ctx.tau)
        grad_weight = torch.from_numpy(kept).view_as(weight) if kept is not None else None
        return grad_logits, grad_weight, None, None, None


def masked_weights(
    logits: torch.Tensor, weight: torch.Tensor, noise: torch.Tensor | NoiseDraw, tau: float = 1.0,
    stacked: bool = False,
) -> tuple[torch.Tensor, ...] | torch.Tensor:
    """The k masked weights `weight * sample_hard_mask(logits, logit(u_j), tau)`, one per row of
    the uniforms `noise` ([k, *weight.shape], explicit or a NoiseDraw the kernels generate), from
    two fused passes instead of about ten per sample. A weight that requires grad gets
    Σ_j grad_j ⊙ mask_j. `stacked`: one [k, *shape] tensor instead of a tuple. A NoiseDraw off the
    CPU (or in another dtype) takes the same computation in torch (device_masks); explicit
    uniforms there take the reference path."""
    fused = weight.dtype == logits.dtype == torch.float32 and weight.device.type == logits.device.type == "cpu"
    if fused and (isinstance(noise, NoiseDraw) or (noise.dtype == torch.float32 and noise.device.type == "cpu")):
        return _MaskedWeights.apply(logits, weight, noise, tau, stacked)
    if isinstance(noise, NoiseDraw):
        return DeviceMaskedWeights.apply(logits, weight, noise, tau, stacked)
    uniform = noise.materialise() if isinstance(noise, NoiseDraw) else noise
    noise = torch.logit(uniform.to(weight.device), eps=UNIFORM_EPS).to(logits.dtype)
    samples = tuple(weight * sample_hard_mask(logits, n, tau) for n in noise)
    return torch.stack(samples) if stacked else samples


def deterministic_mask(logits: torch.Tensor) -> torch.Tensor:
    """The evaluation mask: keep a weight iff its logit ≥ 0 (paper_spec §1.4). Returns bool."""
    return logits >= 0
