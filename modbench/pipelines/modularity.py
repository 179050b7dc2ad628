"""Kinds "specialize" and "reuse" (paper_spec §4.1, §4.3): train → control mask → a mask per
sub-function → every mask variant evaluated → P_specialize or P_reuse, and sharing."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from tabulate import tabulate

from modbench import analysis
from modbench.masking import FrozenModel, MaskSet
from modbench.nulls import null_scores
from modbench.recovery import recovery_scores
from modbench.pipelines.base import Phases, RunOutput, Tick, registers
from modbench.pipelines.common import train_and_mask
from modbench.report import NO_RUNS, finished, mean_std
from modbench.scores import compute_scores, not_variant, sharing_totals

if TYPE_CHECKING:
    from modbench.harness import Prepared


def accuracy_table(runs: Sequence[dict], fmt: str = "simple") -> str:
    """A row per sub-function; columns Full (control mask), then each mask M_f and ¬M_f:
    accuracy in %, mean ± std over the runs (seeds)."""
    ok = finished(runs)
    if not ok:
        return NO_RUNS
    subs = ok[0]["task"]["subfunctions"]
    columns = [("Full", "control")]
    for f in subs:
        columns += [(f, f), (f"¬{f}", not_variant(f))]
    rows = [
        [g] + [mean_std([r["accuracy"][variant][g] for r in ok]) for _, variant in columns]
        for g in subs
    ]
    return tabulate(rows, headers=["[%]"] + [name for name, _ in columns], tablefmt=fmt, disable_numparse=True)


def modularity_scores(run: Prepared, frozen: FrozenModel, stages: dict[str, MaskSet], io_names: Sequence[str]):
    """P_specialize or P_reuse and the sharing totals of these masks: (scores, notes, accuracy,
    per-pair sharing)."""
    task = run.task
    subs = list(task.subfunctions)
    variants = analysis.mask_variants(stages["control"], {f: stages[f] for f in subs}, io_names)
    accuracy = analysis.evaluate_variants(frozen, task, variants)
    scores, notes = compute_scores(task.kind, accuracy, {f: task.chance(f) for f in subs}, subs)
    pair_sharing = analysis.sharing(stages, subs, io_names)
    scores.update(sharing_totals(pair_sharing))  # the first pair's sharing: described, not ranked
    truth = getattr(task, "ground_truth", None)
    if truth is not None and hasattr(frozen.module, "planted_partition"):  # how well the masks find planted modules
        scores.update(recovery_scores({f: stages[f] for f in subs}, frozen.module.planted_partition(), truth))
        for f in subs:
            scores[f"mask_density/{f}"] = stages[f].total_density()
            scores[f"faithfulness/{f}"] = accuracy[f][f] - accuracy["full"][f]
    return scores, notes, accuracy, pair_sharing


@registers("specialize", "reuse", table=accuracy_table)
def modularity(run: Prepared, seeds: dict, tick: Tick) -> RunOutput:
    task, phases = run.task, Phases()
    net, io_names, stages = train_and_mask(run, seeds, tick, phases)
    frozen, subs = net.frozen, list(task.subfunctions)
    scores, notes, accuracy, pair_sharing = modularity_scores(run, frozen, stages, io_names)
    nulls = null_scores(lambda masks: modularity_scores(run, frozen, masks, io_names)[0], stages, seeds["null"])
    details = task.details(frozen.forward_with, stages)
    phases.mark("evaluation")
    return RunOutput(stages, scores, notes, {f: task.chance(f) for f in subs}, accuracy, nulls, pair_sharing,
                     analysis.layer_statistics(stages, subs, io_names), details, net.n_params, net.n_masked,
                     phases.seconds)


