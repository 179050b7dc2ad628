"""The fused mask samples in plain torch, for any device (CUDA included).

What the CPU kernels do (kernels.py), in tensor operations: sample j keeps weight i iff its
uniform u_ij > σ(−l_i); the backward pass regenerates the same uniforms from their counters
(stream.counter_uniform) instead of keeping them, so memory holds one sample's N numbers at a
time, never a k·N noise buffer. Tested equal to the CPU kernels (masks bit for bit, gradients
to rounding).
"""
from __future__ import annotations

from math import prod

import torch

from modbench.masking.stream import counter_uniform


def _uniforms(noise, sample: int, device) -> torch.Tensor:
    """Sample `sample`'s uniforms of a NoiseDraw, flat float32 [N] on `device`."""
    n = prod(noise.shape[1:])
    return counter_uniform(noise.key, noise.first + sample * n, n, device)


class DeviceMaskedWeights(torch.autograd.Function):
    """k samples W ⊙ 1[u_j > σ(−l)] forward; Σ_j d/dl of W ⊙ σ((l + logit u_j) / τ) backward."""

    @staticmethod
    def forward(ctx, logits, weight, noise, tau, stacked):  # noise: a NoiseDraw [k, *shape]
        drop = torch.sigmoid(-logits.detach()).reshape(-1)  # σ(−l)
        flat_weight = weight.detach().reshape(-1)
        k = noise.shape[0]
        samples = [torch.where(_uniforms(noise, j, weight.device) > drop, flat_weight, 0.0).view_as(weight)
                   for j in range(k)]
        ctx.save_for_backward(logits, weight)
        ctx.noise, ctx.tau, ctx.stacked = noise, tau, stacked
        return torch.stack(samples) if stacked else tuple(samples)

    @staticmethod
    def backward(ctx, *grads):
        logits, weight = ctx.saved_tensors
        grads = grads[0] if ctx.stacked else grads
        keep = torch.sigmoid(logits.detach()).reshape(-1)
        drop = torch.sigmoid(-logits.detach()).reshape(-1)
        total = torch.zeros_like(keep)
        kept = torch.zeros_like(keep) if ctx.needs_input_grad[1] else None
        for j, grad in enumerate(grads):
            u = _uniforms(ctx.noise, j, weight.device)
            flat_grad = grad.reshape(-1)
            p, q = u * keep, (1.0 - u) * drop  # σ(z) = p / (p + q) for z = l + logit(u)
            soft = p / (p + q) if ctx.tau == 1.0 else 1.0 / (1.0 + (q / p) ** (1.0 / ctx.tau))
            total += torch.nan_to_num(flat_grad * soft * (1.0 - soft))  # p + q = 0: σ' is 0 either way
            if kept is not None:
                kept += torch.where(u > drop, flat_grad, 0.0)
        grad_logits = total.view_as(weight) * weight.detach()
        if ctx.tau != 1.0:
            grad_logits = grad_logits / ctx.tau
        return grad_logits, (kept.view_as(weight) if kept is not None else None), None, None, None
