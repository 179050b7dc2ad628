"""Kind "stability" (paper_spec §4.10): train → control mask → two masks per class pair, on the
pair's data, from two mask seeds → IoU of each pair's two masks."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from tabulate import tabulate

from modbench import analysis
from modbench.masking import MaskSet
from modbench.nulls import null_scores
from modbench.pipelines.base import Phases, RunOutput, Tick, registers
from modbench.pipelines.common import train_stage_masks, trained_and_frozen
from modbench.report import NO_RUNS, finished, mean_std
from modbench.scores import stability_iou
from modbench.workers import worker_pool

if TYPE_CHECKING:
    from modbench.harness import Prepared


def stability_table(runs: Sequence[dict], fmt: str = "simple") -> str:
    """A row per class pair: the IoU of its two masks and their accuracy on the pair (§4.10)."""
    ok = finished(runs)
    if not ok:
        return NO_RUNS
    rows = []
    for i, pair in enumerate(ok[0]["details"]["pairs"]):
        ious = [r["details"]["iou"][f"pair{i}"] for r in ok if r["details"]["iou"][f"pair{i}"] is not None]
        rows.append([f"{pair[0]}, {pair[1]}", mean_std(ious, 1.0, 3) if ious else "–",
                     mean_std([r["accuracy"][f"pair{i}_{side}"]["pair"] for r in ok for side in "ab"])])
    return tabulate(rows, headers=["classes", "IoU", "pair accuracy [%]"], tablefmt=fmt, disable_numparse=True)


@registers("stability", table=stability_table)
def stability(run: Prepared, seeds: dict, tick: Tick) -> RunOutput:
    task = run.task
    with worker_pool(run.workers) as pool:  # the whole run at the pool's one thread
        phases = Phases()
        net = trained_and_frozen(run, seeds, tick, phases)
        frozen = net.frozen
        stages = train_stage_masks(run, frozen, seeds, tick, pool)
        phases.mark("masks")
        # each pair mask on its own 2-class test data ("pair") and on all classes ("all")
        accuracy = {stage: {"pair": task.accuracy(frozen.forward_with(mask), stage),
                            "all": task.accuracy(frozen.forward_with(mask), None)}
                    for stage, mask in stages.items() if stage != "control"}
        accuracy["control"] = {"all": task.accuracy(frozen.forward_with(stages["control"]), None)}
        accuracy["full"] = {"all": task.accuracy(frozen.forward_with(None), None)}
    pairs = task.pairs()

    def pair_ious(masks: dict[str, MaskSet]) -> dict[str, float | None]:
        return {f"pair{i}": masks[f"pair{i}_a"].iou(masks[f"pair{i}_b"]) for i in range(len(pairs))}

    def score(masks: dict[str, MaskSet]) -> dict[str, float | None]:
        return stability_iou(pair_ious(masks))

    ious, scores = pair_ious(stages), score(stages)
    phases.mark("evaluation")
    notes = {} if scores["stability_iou"] is not None else {"stability_iou": "every mask is empty"}
    return RunOutput(stages, scores, notes, {"all": task.chance(None)}, accuracy,
                     null_scores(score, stages, seeds["null"]), [], analysis.layer_statistics(stages, [], []),
                     {"pairs": [list(p) for p in pairs], "iou": ious}, net.n_params, net.n_masked, phases.seconds)
