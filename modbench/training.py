"""Ordinary training of the network's weights before it is frozen (paper_spec §2)."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from modbench.config import TrainConfig
from modbench.contracts import Batch, LossFn, SampleFn
from modbench.errors import check_finite
from modbench.optim import adam
from modbench.shards import ShardedGradient


# Steps between finiteness checks of the loss: each check waits for the device, and a NaN stays.
CHECK_EVERY = 25


def weight_step(
    model: nn.Module,
    optimiser: torch.optim.Optimizer,
    loss_fn: LossFn,
    batch: Batch,
    grad_clip: float,
) -> torch.Tensor:
    """One plain training update; returns the (detached) loss."""
    optimiser.zero_grad(set_to_none=True)
    loss = loss_fn(model, batch)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimiser.step()
    return loss.detach()


def sharded_step(
    model: nn.Module, optimiser: torch.optim.Optimizer, gradient: ShardedGradient, batch: Batch, grad_clip: float
) -> torch.Tensor:
    """`weight_step` with the gradient summed over the batch's parts (modbench.shards)."""
    optimiser.zero_grad(set_to_none=True)
    loss = gradient(batch)
    torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimiser.step()
    return loss


def train_weights(
    model: nn.Module,
    loss_fn: LossFn,
    sample_batch: SampleFn,
    cfg: TrainConfig,
    generator: torch.Generator,
    on_step: Callable[[int], None] | None = None,
    processes: int = 1,
) -> float:
    """Train `model` in place; returns the mean loss over the last 100 steps. With `cfg.shards` > 1
    the batch's parts are dealt over this process and up to `processes` - 1 helpers (CPU)."""
    model.train()
    optimiser = adam(model.parameters(), cfg.lr)
    sharded = None
    if cfg.shards > 1:
        sharded = ShardedGradient(model, loss_fn, cfg.shards, processes, next(model.parameters()).device)
    recent: list[float] = []
    try:
        for step in range(cfg.steps):
            if step in cfg.lr_decay_at:
                for group in optimiser.param_groups:
                    group["lr"] *= 0.1
            batch = sample_batch(cfg.batch_size, generator)
            if sharded is None:
                loss = weight_step(model, optimiser, loss_fn, batch, cfg.grad_clip)
            else:
                loss = sharded_step(model, optimiser, sharded, batch, cfg.grad_clip)
            if step % CHECK_EVERY == 0 or step == cfg.steps - 1:
                check_finite(loss, f"the training loss at step {step}")
            if step >= cfg.steps - 100:
                recent.append(loss.item())
            if on_step is not None:
                on_step(step)
    finally:
        if sharded is not None:
            sharded.close()
    model.eval()
    return sum(recent) / len(recent) if recent else float("nan")
