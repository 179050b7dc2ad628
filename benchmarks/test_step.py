"""Step timings: plain training step, mask-training step and mask noise alone.

Run: pytest benchmarks --benchmark-only --benchmark-json=bench.json
     python benchmarks/ratios.py bench.json
Not part of the test suite (timings are measured, never asserted).
"""
from __future__ import annotations

import pytest
import torch

from modbench.archs import ARCHS, build_model
from modbench.masking import FrozenModel, LogisticNoise, MaskConfig, init_logits, mask_step
from modbench.tasks import TASKS
from modbench.optim import adam
from modbench.training import weight_step

TASK = TASKS.get("addmul")()
CASES = [
    (arch, size, kind)
    for arch in ("fnn", "lstm")
    for size in ("quick", "paper")
    for kind in ("plain", "mask", "mask_k1", "noise")
    if kind != "mask_k1" or arch == "fnn"
]


def _setup(arch: str, size: str):
    spec = ARCHS.get(arch)
    model = build_model(spec, TASK.contract, spec.sizes[size], init_seed=0)
    budget = TASK.budget("paper", arch)
    batch = TASK.sample(None, budget.mask.batch_size, torch.Generator().manual_seed(0))
    return model, budget, batch


@pytest.mark.parametrize("arch, size, kind", CASES, ids=["-".join(c) for c in CASES])
def test_step(benchmark, arch, size, kind):
    model, budget, batch = _setup(arch, size)
    loss = lambda fn, b: TASK.loss(fn, b, None)  # noqa: E731
    noise = LogisticNoise(1)
    if kind == "plain":
        optimiser = adam(model.parameters(), 1e-3)
        benchmark(weight_step, model, optimiser, loss, batch, 1.0)
        return
    cfg = budget.mask if kind != "mask_k1" else MaskConfig(batch_size=budget.mask.batch_size, n_samples=1)
    frozen = FrozenModel(model.eval(), budget.mask_filter.select(model))
    logits = init_logits(frozen, cfg)
    if kind == "noise":
        # the k·N random numbers alone
        benchmark(lambda: [noise.sample((cfg.n_samples, *l.shape)) for l in logits.values()])
        return
    optimiser = adam(logits.values(), cfg.lr)
    benchmark(mask_step, frozen, logits, optimiser, loss, batch, cfg, noise)
