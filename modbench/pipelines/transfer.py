"""The permuted-input transfer experiment (paper_spec §4.7): how much does each new task reuse
the weights of the tasks before it?

Tasks p = 0, 1, …: the same classification with the inputs permuted by a fixed permutation
(task 0: identity; task p: `RandomState(p).permutation`, as the paper). For each p in turn:
U = the union of the binary masks of the tasks before p, without the first layer (the
permutation changes what it must do); weights outside U are re-initialised, weights in U are
kept and frozen (their gradients are zeroed); task p's weights and mask logits are then trained
*jointly* (Adam, one rate for both). Score per hidden layer: the shared fraction
|m_p ∧ U_{<p}| / |m_p|, averaged over p ≥ 1.
"""
from __future__ import annotations

from typing import Sequence

import torch
from tabulate import tabulate

from modbench.archs import build_model, input_parameter_names
from modbench.devices import move
from modbench.masking import MaskNoise, MaskSet, binarize, init_logits, masked_weights
from modbench.masking.convergence import ConvergenceTracker
from modbench.errors import check_finite
from modbench.masking.memory import keep_freed_memory
from modbench.masking.trainer import FrozenModel, set_scheduled_lr
from modbench.nulls import null_scores
from modbench.optim import adam
from modbench.pipelines.base import Phases, RunOutput, Tick, registers
from modbench.pipelines.common import frozen_network
from modbench.report import NO_RUNS, finished, mean_std
from modbench.scores import transfer_sharing


def joint_step(frozen: FrozenModel, weights: dict, logits: dict, optimiser, task, sub: str, batch, cfg,
               noise: MaskNoise, used: dict[str, torch.Tensor]) -> torch.Tensor:
    """One update of weights and logits together: k mask samples over chunks of the batch; the
    regulariser (β / batch) · Σ logits; gradients of used weights zeroed; clip; Adam."""
    optimiser.zero_grad(set_to_none=True)
    k = cfg.n_samples
    chunk = len(batch[0]) // k
    samples = {n: masked_weights(logits[n], w, noise.draw((k, *w.shape)), cfg.tau) for n, w in weights.items() if n in logits}
    loss = 0.0
    for i in range(k):
        tensors = {n: samples[n][i] if n in samples else w for n, w in weights.items()}
        part = tuple(t[i * chunk : (i + 1) * chunk] for t in batch)
        loss = loss + task.loss(frozen.forward_fn(tensors), part, sub) / k
    loss.backward()
    for l in logits.values():
        l.grad.add_(cfg.beta / cfg.batch_size)
    for name, keep in used.items():
        weights[name].grad.masked_fill_(keep, 0.0)  # old tasks' weights stay as they were
    torch.nn.utils.clip_grad_norm_([*weights.values(), *logits.values()], cfg.grad_clip)
    optimiser.step()
    return loss.detach()


def train_task(run, frozen: FrozenModel, sub: str, seed: int, used: MaskSet | None, first_layer: list[str],
               on_step=None) -> MaskSet:
    """Task `sub`'s weights (in place, outside U) and its binary mask."""
    task, cfg = run.task, run.budget.mask
    current = {n: p.detach() for n, p in frozen.module.named_parameters()}
    # U without the first layer: the weights earlier tasks chose, kept and frozen
    frozen_used = {n: m.to(run.device) for n, m in used.masks.items() if n not in first_layer} if used is not None else {}
    if used is None:
        start = current
    else:  # everything outside U re-initialised, from this task's own seed
        fresh = {n: p.detach().to(run.device)
                 for n, p in build_model(run.arch, task.contract, run.budget.arch_size, seed).named_parameters()}
        start = {n: torch.where(frozen_used[n], current[n], fresh[n]) if n in frozen_used else fresh[n] for n in current}
    weights = {n: v.clone().requires_grad_(True) for n, v in start.items()}
    logits = init_logits(frozen, cfg)
    optimiser = adam([*weights.values(), *logits.values()], cfg.lr)
    keep_freed_memory()
    data_generator, noise = torch.Generator().manual_seed(seed), MaskNoise(seed)
    tracker = ConvergenceTracker(cfg.steps)
    for step in range(cfg.steps):
        set_scheduled_lr(optimiser, cfg, step)
        loss = joint_step(frozen, weights, logits, optimiser, task, sub, move(task.sample(sub, cfg.batch_size, data_generator), run.device),
                          cfg, noise, frozen_used)
        tracker.observe(step + 1, logits)
        if step % 25 == 0 or step == cfg.steps - 1:
            check_finite(loss, f"the {sub} loss at step {step}")
        if on_step is not None:
            on_step(step)
    with torch.no_grad():  # frozen.params are detached views of these: they follow
        for name, param in frozen.module.named_parameters():
            param.copy_(weights[name])
    return binarize(logits, tracker.summary(logits))


def shared_fractions(stages: dict[str, MaskSet], names: list[str]) -> dict[str, dict[str, float | None]]:
    """Per task p ≥ 1 (in order) and tensor: |m_p ∧ U_{<p}| / |m_p|, U the union of earlier masks."""
    shared, used = {}, None
    for sub, mask in stages.items():
        if used is not None:
            shared[sub] = {n: mask.shared_fraction(used, [n]) for n in names}
        used = mask if used is None else used | mask
    return shared


def transfer_table(runs: Sequence[dict], fmt: str = "simple") -> str:
    """A row per task p: its test accuracy with its own mask and, per hidden layer, the share of
    its mask among the weights earlier tasks chose (paper_spec §4.7)."""
    ok = finished(runs)
    if not ok:
        return NO_RUNS
    layers = [k.split("/", 1)[1] for k in ok[0]["scores"] if k.startswith("shared_fraction/")]
    rows = []
    for task in ok[0]["task"]["subfunctions"]:
        shared = [[r["details"]["shared_fraction"].get(task, {}).get(n) for r in ok] for n in layers]
        rows.append([task, mean_std([r["accuracy"][task][task] for r in ok]),
                     *(mean_std([v for v in values if v is not None]) for values in shared)])
    return tabulate(rows, headers=["task", "accuracy [%]", *(f"shared {n} [%]" for n in layers)],
                    tablefmt=fmt, disable_numparse=True)


@registers("transfer", table=transfer_table)
def transfer(run, seeds: dict, tick: Tick) -> RunOutput:
    task, phases = run.task, Phases()
    model = build_model(run.arch, task.contract, run.budget.arch_size, seeds["init"]).train(False).to(run.device)
    net = frozen_network(run, model)  # "frozen": weights change only in train_task
    frozen, masked = net.frozen, net.masked
    first_layer = input_parameter_names(model, masked)
    stages: dict[str, MaskSet] = {}
    used: MaskSet | None = None
    accuracy = {}
    for sub in task.subfunctions:
        mask = train_task(run, frozen, sub, seeds["mask"][sub], used, first_layer, tick(f"task:{sub}"))
        stages[sub] = mask
        accuracy[sub] = {sub: task.accuracy(frozen.forward_with(mask), sub)}
        used = mask if used is None else used | mask
    phases.mark("train_and_masks")
    scored = [n for n in masked if n not in first_layer]
    hidden = [n for n in scored if n.rsplit(".", 1)[-1].startswith("weight")]  # nn.LSTM: weight_hh_l0
    shared = shared_fractions(stages, scored)
    scores = {**transfer_sharing(shared, hidden),
              "task_accuracy": sum(a[s] for s, a in accuracy.items()) / len(accuracy)}
    # the null: the same shares from random masks of each task's per-tensor density (accuracy has
    # none: the weights were trained with the learned masks)
    nulls = null_scores(lambda masks: transfer_sharing(shared_fractions(masks, scored), hidden), stages, seeds["null"])
    layers = {n: {"size": frozen.params[n].numel(), "io": n in first_layer,
                  "density": {s: float(m.masks[n].float().mean()) for s, m in stages.items()}} for n in masked}
    return RunOutput(stages, scores, {k: "every mask of this layer is empty" for k, v in scores.items() if v is None},
                     {s: task.chance(s) for s in task.subfunctions}, accuracy, nulls, [], layers,
                     {"shared_fraction": shared, "first_layer": first_layer}, net.n_params, net.n_masked,
                     phases.seconds)
