"""Gumbel-sigmoid sampling with a hard straight-through estimator (paper_spec §1.3-1.4).

The paper draws two uniforms and uses −log(log U1 / log U2), the difference of two Gumbel(0, 1)
variables, i.e. Logistic(0, 1) noise. We draw the same distribution from one uniform per weight,
logit(U) = log U − log(1 − U), which halves the random numbers and the elementwise passes.
"""
from __future__ import annotations

import torch

# The paper adds eps = 1e-10 inside its logs; torch.logit clamps U to [eps, 1 − eps] instead.
# In float32, 1 − 1e-10 rounds to 1, so we clamp at 1e-7, still far in the tails (|noise| ≤ 16).
_UNIFORM_EPS = 1e-7


def sample_hard_mask(
    logits: torch.Tensor, generator: torch.Generator, tau: float = 1.0
) -> torch.Tensor:
    """A 0/1 mask sample whose gradient is that of the soft sample σ((l + noise) / τ).

    Forward values are exactly 0.0 or 1.0: the straight-through term is added as
    (soft − soft.detach()), which is exactly zero, rather than hard + soft − soft, which rounds.
    """
    uniform = torch.empty_like(logits).uniform_(generator=generator)
    z = (logits + torch.logit(uniform, eps=_UNIFORM_EPS)) / tau
    soft = torch.sigmoid(z)
    hard = (z > 0).to(logits.dtype)  # σ(z) > 0.5  ⇔  z > 0
    return hard + (soft - soft.detach())


def deterministic_mask(logits: torch.Tensor) -> torch.Tensor:
    """The evaluation mask: keep a weight iff its logit ≥ 0 (paper_spec §1.4). Returns bool."""
    return logits >= 0
