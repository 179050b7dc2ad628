"""Magnitude pruning, the baseline a mask method must beat: keep the largest weights by |w| in
every masked tensor, at the smallest density of a fixed grid whose masked network stays within
the task family's faithfulness margin (`ConvergenceCriterion.max_control_drop`) of the unmasked
network on the stage's own evaluation sets. It reads no data for training, only for choosing the
density, so its masks for different sub-functions are nested: it cannot separate modules, and
a benchmark whose scores rank it with the trained methods would be measuring sparsity alone.
"""
from __future__ import annotations

import torch

from modbench.masking import MaskSet
from modbench.methods.base import METHODS, MaskMethod
from modbench.methods.loop import with_fixed

DENSITIES = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)


def top_magnitude(weight: torch.Tensor, density: float) -> torch.Tensor:
    """The bool mask of the round(density · n) largest |w| (at least one)."""
    keep = max(1, round(density * weight.numel()))
    flat = torch.zeros(weight.numel(), dtype=torch.bool)
    flat[torch.topk(weight.detach().abs().flatten().cpu(), keep).indices] = True
    return flat.view(weight.shape)


def evaluation_sets(task, sub: str | None) -> tuple[str, ...]:
    """The control mask: the task's faithfulness sets; a sub-function's: its own set where it has one."""
    return (sub,) if sub is not None and sub in task.eval_sets else task.faithfulness_sets()


def fit(run, frozen, sub, seed, on_step=None, fixed=None):
    task = run.task
    sets = evaluation_sets(task, sub)
    skip = set(fixed.masks) if fixed else set()
    full = {s: task.accuracy(frozen.forward_with(None), s) for s in sets}
    margin = task.convergence.max_control_drop
    chosen = None
    magnitudes = {n: frozen.params[n].detach().abs().float().cpu() for n in frozen.masked if n not in skip}
    for density in DENSITIES:
        # |w| ranked once (on the CPU copy), each mask back on its weight's device
        masks = {n: top_magnitude(magnitudes[n], density).to(frozen.params[n].device) for n in magnitudes}
        candidate = with_fixed(MaskSet(masks, keep_scores=magnitudes), fixed)
        if all(task.accuracy(frozen.forward_with(candidate), s) >= full[s] - margin - 1e-12 for s in sets):
            chosen = candidate
            break
    for i in range(run.budget.mask.steps if on_step else 0):  # the progress bar's steps
        on_step(i)
    return chosen  # density 1 keeps every weight, so the loop always chooses


METHODS.register("magnitude", MaskMethod(
    "magnitude", "largest |w| per tensor at the sparsest faithful density (a baseline; no training)", fit, 1,
    "the pruning baseline (e.g. Han et al. 2015)",
))
