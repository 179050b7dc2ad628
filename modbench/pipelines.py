"""What one run does after its configuration is resolved, per kind of task.

`modularity` (kinds "specialize" and "reuse"): train → control mask → a mask per sub-function →
every mask variant evaluated → P_specialize or P_reuse and sharing (paper_spec §4.1, §4.3).
`systematic_generalisation` (kind "sysgen"): train on the IID data → control mask → a mask per
split (on the split's training set) → test accuracy with the control and each split's own mask
→ combination dependence; and sysgen accuracy, from the same architecture trained on each split
(SCAN, paper_spec §4.6) or from the IID network on extrapolation sets (mathematics, §4.8).
Each fills the result skeleton in place and returns the binary mask sets to save.
"""
from __future__ import annotations

import time
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from modbench import analysis
from modbench.archs import build_model, io_parameter_names, output_parameter_name, validate_declarations
from modbench.devices import following_inputs, move
from modbench.masking import FrozenModel, MaskSet, binarize, train_mask
from modbench.masking.convergence import ConvergenceTracker
from modbench.masking.roles import bake_parametrizations
from modbench.nulls import null_scores
from modbench.registry import Registry
from modbench.scores import compute_scores, sysgen_scores
from modbench.stages import StagePool, stage_pool
from modbench.training import train_weights

Tick = Callable[[str], Callable[[int], None]]
Pipeline = Callable[["Prepared", dict, Tick], dict[str, MaskSet]]  # noqa: F821
PIPELINES: Registry[Pipeline] = Registry("pipeline")


def train_network(run, sub: str | None, init_seed: int, order_seed: int, on_step) -> nn.Module:
    """A fresh network trained on sub-function/split `sub`'s data (None: the whole task)."""
    task, budget = run.task, run.budget
    # initialised on the CPU whatever the device: the same network everywhere
    model = build_model(run.arch, task.contract, budget.arch_size, init_seed).to(run.device)
    # Dropout draws from torch's global generator: seeded here from the run, the caller's state
    # given back after, so a run never depends on what ran before it in the process.
    with torch.random.fork_rng():
        torch.manual_seed(dropout_seed(order_seed))
        train_weights(
            model,
            lambda fn, batch: task.loss(fn, batch, sub),
            lambda n, g: move(task.sample(sub, n, g), run.device),
            budget.train,
            torch.Generator().manual_seed(order_seed),
            on_step,
        )
    return model.eval()  # dropout off, BatchNorm on running statistics (paper_spec §1.6)


def dropout_seed(order_seed: int) -> int:
    """A seed for the global generator during training, independent of the batch-order stream."""
    return int(np.random.SeedSequence([order_seed, 1]).generate_state(1, np.uint64)[0] >> 1)


def train_one_mask(run, frozen: FrozenModel, sub: str | None, seed: int, on_step=None,
                   fixed: MaskSet | None = None) -> MaskSet:
    """The binary mask of one stage, trained on sub-function/split `sub`'s data (None: the whole
    task); tensors in `fixed` keep that mask. Module-level: it may run in a worker."""
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
    trained = binarize(logits, tracker.summary(logits))
    if fixed is None:
        return trained
    # copies: a saved mask file holds every stage's own tensors
    return MaskSet({**trained.masks, **{n: m.clone() for n, m in fixed.masks.items()}},
                   trained.keep_probability_histogram, trained.convergence)


def count_steps(tick: Tick, phase: str, steps: int) -> None:
    """Report the steps a worker did, once it has reported back."""
    step = tick(phase)
    for i in range(steps if step else 0):
        step(i)


def train_stage_masks(run, frozen: FrozenModel, seeds: dict, tick: Tick, pool: StagePool | None = None,
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
        stages["control"] = train_one_mask(run, frozen, None, seeds["mask"]["control"], tick("mask:control"))
        fixed = MaskSet({n: stages["control"].masks[n] for n in freeze})
        plan = plan[1:]
    pooled = pool is not None and not pool.in_process
    farmed = {
        stage: pool.submit(train_one_mask, run, frozen, sub, seeds["mask"][stage], None, fixed)
        for i, (stage, sub) in enumerate(plan) if pooled and i % pool.workers
    }
    for stage, sub in plan:
        if stage not in farmed:
            stages[stage] = train_one_mask(run, frozen, sub, seeds["mask"][stage], tick(f"mask:{stage}"), fixed)
    for stage, future in farmed.items():
        stages[stage] = future.result()
        count_steps(tick, f"mask:{stage}", run.budget.mask.steps)
    return {stage: stages[stage] for stage in ("control", *run.task.subfunctions)}


def _timed(result: dict, phase: str, started: float) -> float:
    now = time.perf_counter()
    result["wall_time_s"][phase] = now - started
    return now


def frozen_network(run, result: dict, model: nn.Module) -> tuple[FrozenModel, list[str]]:
    """The network frozen for masking, and the names of its masked tensors (counted in the result).
    Parametrized tensors are replaced by the tensors the forward uses (their masks act on those)."""
    bake_parametrizations(model)
    validate_declarations(model)
    masked = run.budget.mask_filter.select(model)
    result["architecture"]["n_params"] = sum(p.numel() for p in model.parameters())
    result["architecture"]["n_masked"] = sum(model.get_parameter(n).numel() for n in masked)
    return FrozenModel(model, masked, vectorise=run.arch.vmap_mask_samples), masked


def trained_and_frozen(run, result: dict, tick: Tick):
    """Train on the whole task and freeze: (model, frozen model, masked names, timer)."""
    seeds = result["seeds"]
    timer = time.perf_counter()
    model = train_network(run, None, seeds["init"], seeds["train_order"], tick("train"))
    timer = _timed(result, "train", timer)
    return model, *frozen_network(run, result, model), timer


def train_and_mask(run, result: dict, tick: Tick, pool: StagePool | None = None):
    """The common start of most pipelines: train on the whole task, freeze, train the control
    and sub-function masks (in `pool` too, when given). Returns (model, frozen model, I/O tensor
    names, mask sets, timer)."""
    model, frozen, masked, timer = trained_and_frozen(run, result, tick)
    stages = train_stage_masks(run, frozen, result["seeds"], tick, pool)
    timer = _timed(result, "masks", timer)
    return model, frozen, io_parameter_names(model, masked), stages, timer


def modularity_scores(run, frozen: FrozenModel, stages: dict[str, MaskSet], io_names: Sequence[str]):
    """P_specialize or P_reuse and the sharing totals of these masks: (scores, notes, accuracy,
    per-pair sharing)."""
    task = run.task
    subs = list(task.subfunctions)
    variants = analysis.mask_variants(stages["control"], {f: stages[f] for f in subs}, io_names)
    accuracy = analysis.evaluate_variants(frozen, task, variants)
    scores, notes = compute_scores(task.kind, accuracy, {f: task.chance(f) for f in subs}, subs)
    pair_sharing = analysis.sharing(stages, subs, io_names)
    # Sharing totals of the (first) sub-function pair are scores too: leaderboard columns.
    for key in ("iou", "iomin", "shared_fraction", "hidden_iomin"):
        scores[key if key == "hidden_iomin" else f"shared_{key}"] = pair_sharing[0][key]
    return scores, notes, accuracy, pair_sharing


@PIPELINES.decorator("specialize")
@PIPELINES.decorator("reuse")
def modularity(run, result: dict, tick: Tick) -> dict[str, MaskSet]:
    task = run.task
    _, frozen, io_names, stages, timer = train_and_mask(run, result, tick)
    subs = list(task.subfunctions)
    scores, notes, accuracy, pair_sharing = modularity_scores(run, frozen, stages, io_names)
    nulls = null_scores(lambda masks: modularity_scores(run, frozen, masks, io_names)[0], stages,
                        result["seeds"]["null"])
    details = task.details(frozen.forward_with, stages)
    _timed(result, "evaluation", timer)
    result.update(scores=scores, score_notes=notes, chance={f: task.chance(f) for f in subs}, accuracy=accuracy,
                  details=details, nulls=nulls, sharing=pair_sharing,
                  layers=analysis.layer_statistics(stages, subs, io_names))
    return stages


def trained_on_split(run, split: str, seeds: dict, on_step=None) -> tuple[float, float]:
    """Test accuracy on `split` of the architecture trained on `split`'s training set alone (the
    paper's scan_baseline), and the seconds it took. Module-level: it may run in a worker."""
    started = time.perf_counter()
    model = train_network(run, split, seeds["init"], seeds["train_order"], on_step)
    return run.task.accuracy(following_inputs(model, run.device), split), time.perf_counter() - started


@PIPELINES.decorator("sysgen")
def systematic_generalisation(run, result: dict, tick: Tick) -> dict[str, MaskSet]:
    task, seeds = run.task, result["seeds"]
    splits = list(task.subfunctions)
    with stage_pool(run.workers) as pool:
        # Independent of the main network: started first, so workers overlap the critical path.
        # Without such trainings (math) the workers take the mask stages instead.
        baselines = {
            s: pool.submit(trained_on_split, run, s, seeds["sysgen"][s],
                           *((tick(f"sysgen:{s}"),) if pool.in_process else ()))
            for s in task.sysgen_trainings
        }
        model, frozen, io_names, stages, timer = train_and_mask(run, result, tick, None if baselines else pool)

        def evaluate(mask: MaskSet | None, sets) -> dict[str, float]:
            return {s: task.accuracy(frozen.forward_with(mask), s) for s in sets}

        accuracy = {
            "full": evaluate(None, task.eval_sets),
            "control": evaluate(stages["control"], task.eval_sets),
            **{s: evaluate(stages[s], task.own_mask_sets(s)) for s in splits},
        }

        chance = {s: task.chance(s) for s in task.eval_sets}

        def dependence(masks: dict[str, MaskSet]) -> dict[str, float | None]:
            """Combination dependence under these split masks (the control mask is the learned one)."""
            own = {**accuracy, **{s: {s: task.accuracy(frozen.forward_with(masks[s]), s)} for s in splits},
                   "sysgen": {}}
            return sysgen_scores(own, chance, task.iid, splits)[0]

        nulls = null_scores(dependence, stages, seeds["null"])
        output = output_parameter_name(model, frozen.masked)
        output_removal = {
            s: analysis.output_row_removal(stages["control"], stages[s], output, task.output_tokens) for s in splits
        } if output else None
        _timed(result, "evaluation", timer)

        accuracy["sysgen"] = {s: accuracy["full"][s] for s in task.extrapolation_sets}
        seconds = 0.0
        for s, stage in baselines.items():
            accuracy["sysgen"][s], took = stage.result()
            seconds += took
            if not pool.in_process:
                count_steps(tick, f"sysgen:{s}", run.budget.train.steps)
    if baselines:  # summed over the trainings (overlapping with the main process in workers)
        result["wall_time_s"]["sysgen"] = seconds

    scores, notes = sysgen_scores(accuracy, chance, task.iid, splits)
    result.update(scores=scores, score_notes=notes, chance=chance, accuracy=accuracy, nulls=nulls,
                  sharing=analysis.sharing(stages, splits, io_names),
                  layers=analysis.layer_statistics(stages, splits, io_names),
                  details={"output_token_removal": output_removal})
    return stages


from modbench import transfer, vision_pipelines  # noqa: E402,F401  (registers the image tasks' pipelines)
