"""Fused CPU kernels of the mask step's elementwise work (numba; one pass each way).

With uniform noise u and a = exp(−l), the logistic-noise sample z = l + log u − log(1 − u)
satisfies σ(z) = u / (u + a(1 − u)) and z > 0 ⇔ u > σ(−l). So the forward pass needs one
comparison per sample and weight, and the backward pass no exponential per sample: both read
each of the k·N noise values once (eager torch needed about ten passes and a logit per value).
"""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, error_model="numpy")
def masked_forward(uniform: np.ndarray, threshold: np.ndarray, weight: np.ndarray, out: np.ndarray) -> None:
    """out[i] = weight[i] if uniform[i] > threshold[i] else 0 (all flat float32, length N)."""
    for i in range(uniform.shape[0]):
        out[i] = weight[i] if uniform[i] > threshold[i] else 0.0


@numba.njit(cache=True, error_model="numpy")
def accumulate_soft_grad(grad: np.ndarray, uniform: np.ndarray, exp_neg_logit: np.ndarray,
                         inv_tau: float, out: np.ndarray) -> None:
    """out[i] += grad[i] · σ'(z_i / τ) with σ(z/τ) = 1 / (1 + (a(1 − u)/u)^(1/τ)); the caller
    multiplies by weight / τ once at the end (flat float32 arrays, length N)."""
    for i in range(uniform.shape[0]):
        u = uniform[i]
        rest = exp_neg_logit[i] * (1.0 - u)  # u + rest = u / σ(z)
        if u + rest == 0.0:  # u = 0 and a logit beyond float range: σ' is 0 either way
            continue
        if inv_tau == 1.0:
            soft = u / (u + rest)
        else:
            soft = 1.0 / (1.0 + (rest / u) ** inv_tau)
        out[i] += grad[i] * soft * (1.0 - soft)


@numba.njit(cache=True, error_model="numpy")
def accumulate_kept_grad(grad: np.ndarray, uniform: np.ndarray, threshold: np.ndarray, out: np.ndarray) -> None:
    """out[i] += grad[i] where the sample kept weight i (its gradient when the weight trains too)."""
    for i in range(uniform.shape[0]):
        if uniform[i] > threshold[i]:
            out[i] += grad[i]
