"""Kind "sysgen" (paper_spec §4.6, §4.8): train on the IID data → control mask → a mask per split
(on the split's training set) → test accuracy with the control and each split's own mask →
combination dependence; and sysgen accuracy, from the same architecture trained on each split
(SCAN's scan_baseline) or from the IID network on extrapolation sets (mathematics)."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Sequence

from tabulate import tabulate

from modbench import analysis
from modbench.archs import output_parameter_name
from modbench.devices import following_inputs
from modbench.masking import MaskSet
from modbench.nulls import null_scores
from modbench.pipelines.base import Phases, RunOutput, Tick, registers
from modbench.pipelines.common import count_steps, train_and_mask, train_network
from modbench.report import NO_RUNS, column, finished
from modbench.scores import sysgen_scores
from modbench.workers import worker_pool

if TYPE_CHECKING:
    from modbench.harness import Prepared


def sysgen_table(runs: Sequence[dict], fmt: str = "simple") -> str:
    """A row per evaluation set: its test accuracy with the unmasked IID network, its control
    mask and (held-out splits) the split's own mask, their difference (combination dependence),
    and the sysgen accuracy; mean ± std over runs (paper_spec §4.6 Fig. 4a, §4.8)."""
    ok = finished(runs)
    if not ok:
        return NO_RUNS
    subs = ok[0]["task"]["subfunctions"]

    rows = []
    for s in ok[0]["accuracy"]["control"]:
        dependence = [r["scores"].get(f"combination_dependence/{s}") for r in ok]
        rows.append([
            s,
            column([r["accuracy"]["full"][s] for r in ok]),
            column([r["accuracy"]["control"][s] for r in ok]),
            column([r["accuracy"][s][s] if s in subs else None for r in ok]),
            column(dependence),
            column([r["accuracy"]["sysgen"].get(s) for r in ok]),
        ])
    headers = ["test set [%]", "unmasked", "control mask", "own mask", "combination dep.", "sysgen acc."]
    return tabulate(rows, headers=headers, tablefmt=fmt, disable_numparse=True)


def trained_on_split(run: Prepared, split: str, seeds: dict, on_step=None) -> tuple[float, float]:
    """Test accuracy on `split` of the architecture trained on `split`'s training set alone (the
    paper's scan_baseline), and the seconds it took. Module-level: it may run in a worker."""
    started = time.perf_counter()
    model = train_network(run, split, seeds["init"], seeds["train_order"], on_step)
    return run.task.accuracy(following_inputs(model, run.device), split), time.perf_counter() - started


@registers("sysgen", table=sysgen_table)
def systematic_generalisation(run: Prepared, seeds: dict, tick: Tick) -> RunOutput:
    task = run.task
    splits = list(task.subfunctions)
    with worker_pool(run.workers) as pool:
        # Independent of the main network: started first, so workers overlap the critical path.
        # Without such trainings (math) the workers take the mask stages instead.
        baselines = {
            s: pool.submit(trained_on_split, run, s, seeds["sysgen"][s],
                           *((tick(f"sysgen:{s}"),) if pool.in_process else ()))
            for s in task.sysgen_trainings
        }
        phases = Phases()
        net, io_names, stages = train_and_mask(run, seeds, tick, phases, None if baselines else pool)
        frozen = net.frozen

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
        output = output_parameter_name(net.model, frozen.masked)
        output_removal = {
            s: analysis.output_row_removal(stages["control"], stages[s], output, task.output_tokens) for s in splits
        } if output else None
        phases.mark("evaluation")

        accuracy["sysgen"] = {s: accuracy["full"][s] for s in task.extrapolation_sets}
        seconds = 0.0
        for s, stage in baselines.items():
            accuracy["sysgen"][s], took = stage.result()
            seconds += took
            if not pool.in_process:
                count_steps(tick, f"sysgen:{s}", run.budget.train.steps)
    if baselines:  # summed over the trainings (overlapping with the main process in workers)
        phases.seconds["sysgen"] = seconds

    scores, notes = sysgen_scores(accuracy, chance, task.iid, splits)
    return RunOutput(stages, scores, notes, chance, accuracy, nulls, analysis.sharing(stages, splits, io_names),
                     analysis.layer_statistics(stages, splits, io_names), {"output_token_removal": output_removal},
                     net.n_params, net.n_masked, phases.seconds)
