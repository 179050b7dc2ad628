"""Kind "class_removal" (paper_spec §4.9): train → control mask → for each class c a mask trained
without c whose classifier mask is frozen to the control mask's (so c cannot be dropped by
cutting its output unit) → the confusion matrix under each mask → relative drops and
other/target shares. With `--workers N` the mask stages are dealt over N processes."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from tabulate import tabulate

from modbench import analysis
from modbench.archs import output_parameter_names
from modbench.errors import ModbenchError
from modbench.masking import MaskSet
from modbench.nulls import null_scores
from modbench.pipelines.base import Phases, RunOutput, Tick, registers
from modbench.pipelines.common import train_stage_masks, trained_and_frozen
from modbench.report import NO_RUNS, column, finished
from modbench.scores import class_specificity
from modbench.workers import worker_pool

if TYPE_CHECKING:
    from modbench.harness import Prepared


def class_removal_table(runs: Sequence[dict], fmt: str = "simple") -> str:
    """A row per class c: its test accuracy with the control mask and with the mask trained
    without c, the relative drop and the largest other-class drop as a share of it (§4.9)."""
    ok = finished(runs)
    if not ok:
        return NO_RUNS
    rows = []
    for stage in ok[0]["task"]["subfunctions"]:
        c = stage.split("_", 1)[1]

        rows.append([
            f"{c} ({ok[0]['details']['classes'][int(c)]})",
            column([r["accuracy"]["control"][f"class_{c}"] for r in ok]),
            column([r["accuracy"][stage][f"class_{c}"] for r in ok]),
            column([r["scores"][f"relative_drop/{c}"] for r in ok]),
            column([r["scores"][f"other_target_share/{c}"] for r in ok]),
        ])
    headers = ["class", "control mask [%]", "mask without it [%]", "relative drop [%]", "largest other/target [%]"]
    return tabulate(rows, headers=headers, tablefmt=fmt, disable_numparse=True)


def _per_class(confusion) -> dict[str, float]:
    return {f"class_{j}": float(confusion[j, j]) for j in range(len(confusion))}


@registers("class_removal", table=class_removal_table)
def class_removal(run: Prepared, seeds: dict, tick: Tick) -> RunOutput:
    task = run.task
    # The pool spans the whole run: training and evaluation, too, compute at its one thread.
    with worker_pool(run.workers) as pool:
        phases = Phases()
        net = trained_and_frozen(run, seeds, tick, phases)
        frozen = net.frozen
        classifier = output_parameter_names(net.model, net.masked)
        if not classifier:
            raise ModbenchError("class removal freezes the classifier's mask, but the model has no masked output "
                                "layer (its last Linear/convolution weight is tied to an embedding, or "
                                "output_parameters names no masked tensor); untie it or declare output_parameters")
        stages = train_stage_masks(run, frozen, seeds, tick, pool, freeze=classifier)
        phases.mark("masks")
        confusions = {"full": task.confusion(frozen.forward_with(None))}
        confusions.update({stage: task.confusion(frozen.forward_with(mask)) for stage, mask in stages.items()})
        chance = task.chance(None)
        removed = {s: task.removed_class(s) for s in task.subfunctions}
        scores, notes = class_specificity(confusions, removed, chance)

        def specificity(masks: dict[str, MaskSet]) -> dict[str, float | None]:
            drawn = {stage: task.confusion(frozen.forward_with(masks[stage])) for stage in task.subfunctions}
            return class_specificity({**confusions, **drawn}, removed, chance)[0]

        # the classifier's mask stays the control mask's in every draw, as in training
        nulls = null_scores(specificity, stages, seeds["null"], keep_tensors=classifier)
    phases.mark("evaluation")
    accuracy = {stage: {"all": float(c.diagonal() @ task.class_shares()), **_per_class(c)}
                for stage, c in confusions.items()}
    details = {"confusion": {stage: c.tolist() for stage, c in confusions.items()},
               "classes": list(task.data.classes), "frozen_output_tensors": classifier}
    return RunOutput(stages, scores, notes, {"all": chance}, accuracy, nulls, [],
                     analysis.layer_statistics(stages, [], classifier), details, net.n_params, net.n_masked,
                     phases.seconds)
