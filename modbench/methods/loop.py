"""The training loop the trained alternative methods share: the reference trainer's budget and
schedule (`MaskConfig`: steps, rate and its schedule, batch, k samples, clipping), with the
method's own parameters, sampler and sparsity penalty. Readable torch, no fused kernels: these
methods are compared on the planted tasks' small networks, not run on the board's.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Mapping

import numpy as np
import torch

from modbench.devices import move
from modbench.errors import check_finite
from modbench.masking.convergence import ConvergenceTracker, StageConvergence
from modbench.masking.memory import keep_freed_memory
from modbench.masking.trainer import LOSS_CHECK_EVERY, masked_fixed, set_scheduled_lr
from modbench.optim import adam

if TYPE_CHECKING:
    from modbench.harness import Prepared
    from modbench.masking import FrozenModel, MaskSet

# parameter name, method parameter, noise generator -> a mask of the weight's shape
SampleFn = Callable[[str, torch.Tensor, torch.Generator], torch.Tensor]
PenaltyFn = Callable[[Mapping[str, torch.Tensor]], torch.Tensor]


def noise_seed(seed: int) -> int:
    """The stage's noise stream, apart from its batch-order stream (both from the stage seed)."""
    return int(np.random.SeedSequence([seed, 1]).generate_state(1, np.uint64)[0] >> 1)


def train_gates(run: "Prepared", frozen: "FrozenModel", sub: str | None, seed: int,
                params: dict[str, torch.Tensor], sample: SampleFn, penalty: PenaltyFn,
                fixed: "MaskSet | None" = None, on_step: Callable[[int], None] | None = None,
                ) -> tuple[dict[str, torch.Tensor], StageConvergence]:
    """Train `params` (requires grad; their sign is the decision: keep iff ≥ 0) on sub-function
    `sub`'s batches: loss = mean task loss of the k samples (one per chunk of the batch) +
    `penalty(params)`. Returns the detached parameters and how far their decisions settled."""
    keep_freed_memory()
    cfg, task = run.budget.mask, run.task
    data = torch.Generator().manual_seed(seed)
    noise = torch.Generator().manual_seed(noise_seed(seed))
    frozen_fixed = masked_fixed(frozen, fixed)
    optimiser = adam(params.values(), cfg.lr)
    tracker = ConvergenceTracker(cfg.steps)
    chunk = cfg.batch_size // cfg.n_samples
    for step in range(cfg.steps):
        set_scheduled_lr(optimiser, cfg, step)
        batch = move(task.sample(sub, cfg.batch_size, data), run.device)
        loss = torch.zeros((), device=run.device)
        for i in range(cfg.n_samples):
            weights = {n: frozen.params[n] * sample(n, p, noise).to(frozen.params[n].device) for n, p in params.items()}
            part = tuple(t[i * chunk : (i + 1) * chunk] for t in batch)
            loss = loss + task.loss(frozen.forward_fn({**weights, **frozen_fixed}), part, sub) / cfg.n_samples
        total = loss + penalty(params)
        optimiser.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), cfg.grad_clip)
        optimiser.step()
        if step % LOSS_CHECK_EVERY == 0 or step == cfg.steps - 1:
            check_finite(total.detach(), f"the mask-training loss at step {step}")
        tracker.observe(step + 1, params)
        if on_step is not None:
            on_step(step)
    for name, p in params.items():
        check_finite(p.detach(), f"mask parameter tensor {name!r}")
    frozen.check_unchanged("mask training")
    detached = {n: p.detach() for n, p in params.items()}
    return detached, tracker.summary(detached)


def with_fixed(trained: "MaskSet", fixed: "MaskSet | None") -> "MaskSet":
    """The stage's mask set with the fixed tensors' masks copied in (a saved file holds each
    stage's own tensors); keep scores stay the stage's own."""
    from modbench.masking import MaskSet

    if fixed is None:
        return trained
    return MaskSet({**trained.masks, **{n: m.clone() for n, m in fixed.masks.items()}},
                   trained.keep_probability_histogram, trained.convergence, trained.keep_scores)
