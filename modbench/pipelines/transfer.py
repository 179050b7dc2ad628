"""The permuted-input transfer experiment (paper_spec §4.7): how much does each new task reuse
the weights of the tasks before it?

Tasks p = 0, 1, …: the same classification with the inputs permuted by a fixed permutation
(task 0: identity; task p: `RandomState(p).permutation`, as the paper). For each p in turn:
U = the union of the binary masks of the tasks before p, without the first layer (the
permutation changes what it must do); weights outside U are re-initialised, weights in U are
kept and frozen (their gradients are zeroed); task p's weights and mask logits are then trained
*jointly* (Adam, one rate for both) by the reference trainer (`masking.trainer.Trainable`); the
frozen network stays as initialised, each task's weights are passed on to the next. Score per hidden layer: the shared fraction
|m_p ∧ U_{<p}| / |m_p|, averaged over p ≥ 1.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import torch
from tabulate import tabulate

from modbench.archs import build_model, input_parameter_names
from modbench.devices import move
from modbench.masking import MaskSet, binarize, train_mask
from modbench.masking.convergence import ConvergenceTracker
from modbench.masking.trainer import FrozenModel, Trainable
from modbench.nulls import null_scores
from modbench.pipelines.base import Phases, RunOutput, Tick, registers
from modbench.pipelines.common import frozen_network
from modbench.report import NO_RUNS, finished, mean_std
from modbench.scores import task_accuracy, transfer_sharing

if TYPE_CHECKING:
    from modbench.harness import Prepared


def train_task(run: Prepared, frozen: FrozenModel, current: dict[str, torch.Tensor], sub: str, seed: int,
               used: MaskSet | None, first_layer: list[str], on_step=None) -> tuple[MaskSet, dict[str, torch.Tensor]]:
    """Task `sub`'s binary mask and weights, trained jointly from `current` (the previous task's
    weights; outside U re-initialised) by the reference trainer; the frozen network is untouched."""
    task, cfg = run.task, run.budget.mask
    # U without the first layer: the weights earlier tasks chose, kept and frozen
    frozen_used = {n: m.to(run.device) for n, m in used.masks.items() if n not in first_layer} if used is not None else {}
    if used is None:
        start = current
    else:  # everything outside U re-initialised, from this task's own seed
        fresh = {n: p.detach().to(run.device)
                 for n, p in build_model(run.arch, task.contract, run.budget.arch_size, seed).named_parameters()}
        start = {n: torch.where(frozen_used[n], current[n], fresh[n]) if n in frozen_used else fresh[n] for n in current}
    trainable = Trainable({n: v.clone().requires_grad_(True) for n, v in start.items()}, frozen_used)
    tracker = ConvergenceTracker(cfg.steps)
    logits = train_mask(frozen, lambda fn, batch: task.loss(fn, batch, sub),
                        lambda n, g: move(task.sample(sub, n, g), run.device), cfg, seed, on_step,
                        tracker=tracker, trainable=trainable)
    return binarize(logits, tracker.summary(logits)), {n: w.detach() for n, w in trainable.weights.items()}


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


# its weights train with the reference masks: no other method, no untrained network to mask
@registers("transfer", table=transfer_table, any_method=False, masks_frozen_network=False)
def transfer(run: Prepared, seeds: dict, tick: Tick) -> RunOutput:
    task, phases = run.task, Phases()
    model = build_model(run.arch, task.contract, run.budget.arch_size, seeds["init"]).train(False).to(run.device)
    net = frozen_network(run, model)  # stays as initialised: each task's weights are its own
    frozen, masked = net.frozen, net.masked
    first_layer = input_parameter_names(model, masked)
    stages: dict[str, MaskSet] = {}
    used: MaskSet | None = None
    accuracy = {}
    weights = frozen.params
    for sub in task.subfunctions:
        mask, weights = train_task(run, frozen, weights, sub, seeds["mask"][sub], used, first_layer, tick(f"task:{sub}"))
        stages[sub] = mask
        accuracy[sub] = {sub: task.accuracy(frozen.forward_with(mask, weights), sub)}
        used = mask if used is None else used | mask
    phases.mark("train_and_masks")
    scored = [n for n in masked if n not in first_layer]
    hidden = [n for n in scored if n.rsplit(".", 1)[-1].startswith("weight")]  # nn.LSTM: weight_hh_l0
    shared = shared_fractions(stages, scored)
    scores = {**transfer_sharing(shared, hidden), **task_accuracy(accuracy)}
    # the null: the same shares from random masks of each task's per-tensor density (accuracy has
    # none: the weights were trained with the learned masks)
    nulls = null_scores(lambda masks: transfer_sharing(shared_fractions(masks, scored), hidden), stages, seeds["null"])
    layers = {n: {"size": frozen.params[n].numel(), "io": n in first_layer,
                  "density": {s: float(m.masks[n].float().mean()) for s, m in stages.items()}} for n in masked}
    return RunOutput(stages, scores, {k: "every mask of this layer is empty" for k, v in scores.items() if v is None},
                     {s: task.chance(s) for s in task.subfunctions}, accuracy, nulls, [], layers,
                     {"shared_fraction": shared, "first_layer": first_layer}, net.n_params, net.n_masked,
                     phases.seconds)
