"""Step timings of every reference architecture at its quick and paper sizes: one plain
training step, one mask-training step with the tier's k mask samples, and the k·N random numbers
of the mask noise alone (N = masked weights); plus the FNN's mask step with k = 1, and the mask
step's floor: the same step with the noise and the mask kernels replaced by copies of the
weights, i.e. what the frozen network's passes over k weight copies cost on their own.

Run: pytest benchmarks --benchmark-only --benchmark-json=bench.json
     python benchmarks/ratios.py bench.json
Not part of the test suite (timings are measured, never asserted). Each case uses its tier's
batch size, mask samples and mask filter (the task's budget for that tier). Steps run at one
intra-op thread (MODBENCH_BENCH_THREADS to change it), as every process of a pooled run computes
(modbench/workers.py): steadier on a shared 2-core machine, and the configuration runs use.
"""
from __future__ import annotations

import functools
import os

import pytest
import torch

import modbench.masking.trainer as trainer
from modbench.archs import ARCHS, build_model
from modbench.masking import FrozenModel, MaskNoise, MaskConfig, init_logits, mask_step
from modbench.masking.memory import keep_freed_memory
from modbench.optim import adam
from modbench.tasks import TASKS
from modbench.training import weight_step

torch.set_num_threads(int(os.environ.get("MODBENCH_BENCH_THREADS", "1")))
keep_freed_memory()  # as train_mask does: no page faults on the big per-step buffers

# The task each architecture is timed on (one it supports).
TASK_OF = {"fnn": "addmul", "lstm": "addmul", "lstm_seq2seq": "scan", "transformer_seq2seq": "scan",
           "cnn": "class_removal", "resnet": "class_removal"}
CASES = [
    (arch, size, kind)
    for arch in TASK_OF
    for size in ("quick", "paper")
    for kind in ("plain", "mask", "noise", "floor", "mask_k1")
    if kind != "mask_k1" or arch == "fnn"
]


@functools.lru_cache(maxsize=None)
def _task(name: str):
    return TASKS.get(name)()


def _setup(arch: str, size: str):
    task = _task(TASK_OF[arch])
    spec = ARCHS.get(arch)
    budget = task.budget(size, arch)
    model = build_model(spec, task.contract, budget.arch_size or spec.sizes[size], init_seed=0)
    batch = task.sample(None, budget.mask.batch_size, torch.Generator().manual_seed(0))
    return task, model, budget, batch


class _CopiesOnly(torch.autograd.Function):
    """The floor's stand-in for the mask kernels: k plain copies of the weight forward (the
    masked weights must be written somewhere), an unread zero gradient backward."""

    @staticmethod
    def forward(ctx, logits, weight, noise, tau, stacked):
        copies = weight.detach().expand(noise.shape[0], *weight.shape).clone()  # [k, *shape]
        ctx.logit_shape = logits.shape
        return copies if stacked else tuple(copies.unbind(0))

    @staticmethod
    def backward(ctx, *grads):
        return torch.zeros(ctx.logit_shape), None, None, None, None


@pytest.mark.parametrize("arch, size, kind", CASES, ids=["-".join(c) for c in CASES])
def test_step(benchmark, monkeypatch, arch, size, kind):
    task, model, budget, batch = _setup(arch, size)
    loss = lambda fn, b: task.loss(fn, b, None)  # noqa: E731
    noise = MaskNoise(1)
    if kind == "plain":
        model.train()
        optimiser = adam(model.parameters(), 1e-3)
        benchmark(weight_step, model, optimiser, loss, batch, 1.0)
        return
    cfg = budget.mask if kind != "mask_k1" else MaskConfig(batch_size=budget.mask.batch_size, n_samples=1)
    frozen = FrozenModel(model.eval(), budget.mask_filter.select(model), vectorise=ARCHS.get(arch).vmap_mask_samples)
    logits = init_logits(frozen, cfg)
    if kind == "noise":  # the k·N random numbers alone
        benchmark(lambda: [noise.uniform((cfg.n_samples, *l.shape)) for l in logits.values()])
        return
    if kind == "floor":
        monkeypatch.setattr(trainer, "masked_weights", lambda l, w, n, tau=1.0, stacked=False: _CopiesOnly.apply(l, w, n, tau, stacked))
    optimiser = adam(logits.values(), cfg.lr)
    benchmark(mask_step, frozen, logits, optimiser, loss, batch, cfg, noise)
