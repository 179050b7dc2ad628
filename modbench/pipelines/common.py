"""The steps most pipelines share: train a network on a task or one sub-function's data, freeze
it, train the control mask and one mask per sub-function (dealt over a pool of worker
processes when there is one). Every random stream comes from the run's seeds, passed in.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch
from torch import nn

from modbench import network_cache
from modbench.archs import build_model, io_parameter_names, validate_declarations
from modbench.devices import move
from modbench.masking import FrozenModel, MaskSet, binarize, train_mask
from modbench.masking.convergence import ConvergenceTracker
from modbench.masking.roles import bake_parametrizations
from modbench.methods import fit_mask
from modbench.methods.loop import with_fixed
from modbench.pipelines.base import Phases, Tick
from modbench.workers import WorkerPool
from modbench.training import train_weights

if TYPE_CHECKING:
    from modbench.harness import Prepared


@dataclass(frozen=True)
class TaskLoss:
    """The task's loss on sub-function `sub`'s data (None: the whole task); a class, not a
    closure, so it pickles to training helpers (modbench.shards)."""

    task: object
    sub: str | None

    def __call__(self, forward, batch):
        return self.task.loss(forward, batch, self.sub)


def train_network(run: Prepared, sub: str | None, init_seed: int, order_seed: int, on_step,
                  processes: int = 1) -> nn.Module:
    """A fresh network trained on sub-function/split `sub`'s data (None: the whole task), the
    parts of its batches (TrainConfig.shards) over up to `processes` processes."""
    task, budget = run.task, run.budget

    def train(model: nn.Module) -> None:
        # Dropout draws from torch's global generator: seeded here from the run, the caller's state
        # given back after, so a run never depends on what ran before it in the process.
        with torch.random.fork_rng():
            torch.manual_seed(dropout_seed(order_seed))
            train_weights(
                model,
                TaskLoss(task, sub),
                lambda n, g: move(task.sample(sub, n, g), run.device),
                budget.train,
                torch.Generator().manual_seed(order_seed),
                on_step,
                processes,
            )

    # initialised on the CPU whatever the device: the same network everywhere
    model = network_cache.cached(run, sub, init_seed, order_seed,
                                 lambda: build_model(run.arch, task.contract, budget.arch_size, init_seed).to(run.device),
                                 train)
    return model.eval()  # dropout off, BatchNorm on running statistics (paper_spec §1.6)


def dropout_seed(order_seed: int) -> int:
    """A seed for the global generator during training, independent of the batch-order stream."""
    return int(np.random.SeedSequence([order_seed, 1]).generate_state(1, np.uint64)[0] >> 1)


def train_one_mask(run: Prepared, frozen: FrozenModel, sub: str | None, seed: int, on_step=None,
                   fixed: MaskSet | None = None) -> MaskSet:
    """The reference method's binary mask of one stage, trained on sub-function/split `sub`'s
    data (None: the whole task); tensors in `fixed` keep that mask. Stages call it through
    `methods.fit_mask`, which picks the run's method."""
    task = run.task
    tracker = ConvergenceTracker(run.budget.mask.steps)
    logits = train_mask(
        frozen,
        lambda fn, batch: task.loss(fn, batch, sub),
        lambda n, g: move(task.sample(sub, n, g), run.device),
        run.budget.mask,
        seed,
        on_step,
        fixed,
        tracker,
    )
    return with_fixed(binarize(logits, tracker.summary(logits)), fixed)


def count_steps(tick: Tick, phase: str, steps: int) -> None:
    """Report the steps a worker did, once it has reported back."""
    step = tick(phase)
    for i in range(steps if step else 0):
        step(i)


def train_stage_masks(run: Prepared, frozen: FrozenModel, seeds: dict, tick: Tick, pool: WorkerPool | None = None,
                      freeze: Sequence[str] = ()) -> dict[str, MaskSet]:
    """The control mask (whole task) and one mask per sub-function, each from its own seed.

    `freeze`: tensors whose mask every sub-function stage copies from the control mask (class
    removal's classifier); the control mask is then trained first. Given a pool of worker
    processes, the stages are dealt round-robin over this process and the workers; the result
    does not depend on where a stage ran (every process of a pool computes at one thread).
    """
    plan = [("control", None), *((f, f) for f in run.task.subfunctions)]
    stages: dict[str, MaskSet] = {}
    fixed = None
    if freeze:
        stages["control"] = fit_mask(run, frozen, None, seeds["mask"]["control"], tick("mask:control"))
        fixed = MaskSet({n: stages["control"].masks[n] for n in freeze})
        plan = plan[1:]
    pooled = pool is not None and not pool.in_process
    farmed = {
        stage: pool.submit(fit_mask, run, frozen, sub, seeds["mask"][stage], None, fixed)
        for i, (stage, sub) in enumerate(plan) if pooled and i % pool.workers
    }
    for stage, sub in plan:
        if stage not in farmed:
            stages[stage] = fit_mask(run, frozen, sub, seeds["mask"][stage], tick(f"mask:{stage}"), fixed)
    for stage, future in farmed.items():
        stages[stage] = future.result()
        count_steps(tick, f"mask:{stage}", run.budget.mask.steps)
    return {stage: stages[stage] for stage in ("control", *run.task.subfunctions)}


@dataclass(frozen=True)
class Frozen:
    """The trained network frozen for masking, with what a result records of it."""

    model: nn.Module
    frozen: FrozenModel
    masked: list[str]  # names of the masked tensors
    n_params: int
    n_masked: int


def frozen_network(run: Prepared, model: nn.Module) -> Frozen:
    """The network frozen for masking. Parametrized tensors are replaced by the tensors the
    forward uses (their masks act on those)."""
    bake_parametrizations(model)
    validate_declarations(model)
    masked = run.budget.mask_filter.select(model)
    return Frozen(model, FrozenModel(model, masked, vectorise=run.arch.vmap_mask_samples), masked,
                  sum(p.numel() for p in model.parameters()), sum(model.get_parameter(n).numel() for n in masked))


def trained_and_frozen(run: Prepared, seeds: dict, tick: Tick, phases: Phases, processes: int = 1) -> Frozen:
    """Train on the whole task and freeze (phase "train"); `processes` may share the training."""
    model = train_network(run, None, seeds["init"], seeds["train_order"], tick("train"), processes)
    phases.mark("train")
    return frozen_network(run, model)


def train_and_mask(run: Prepared, seeds: dict, tick: Tick, phases: Phases, pool: WorkerPool | None = None):
    """The common start of most pipelines: train on the whole task, freeze, train the control
    and sub-function masks (in `pool` too, when given). Returns (the frozen network, I/O tensor
    names, mask sets)."""
    # the pool's workers idle until the mask stages: as many training helpers use their cores
    net = trained_and_frozen(run, seeds, tick, phases, pool.workers if pool and not pool.in_process else 1)
    stages = train_stage_masks(run, net.frozen, seeds, tick, pool)
    phases.mark("masks")
    return net, io_parameter_names(net.model, net.masked), stages
