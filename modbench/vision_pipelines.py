"""Pipelines of the image tasks (paper_spec §4.9-4.10); registered in `pipelines.PIPELINES`.

`class_removal`: train → control mask → for each class c a mask trained without c whose
classifier mask is frozen to the control mask's (so c cannot be dropped by cutting its output
unit) → the confusion matrix under each mask → relative drops and other/target shares.
`stability`: train → control mask → two masks per class pair, on the pair's data, from two
mask seeds → IoU of each pair's two masks.
With `--workers N` the mask stages are dealt over N processes.
"""
from __future__ import annotations

from modbench import analysis
from modbench.archs import output_parameter_names
from modbench.errors import ModbenchError
from modbench.masking import MaskSet
from modbench.nulls import null_scores
from modbench.pipelines import PIPELINES, Tick, _timed, train_stage_masks, trained_and_frozen
from modbench.scores import class_specificity
from modbench.stages import stage_pool


def _per_class(confusion) -> dict[str, float]:
    return {f"class_{j}": float(confusion[j, j]) for j in range(len(confusion))}


@PIPELINES.decorator("class_removal")
def class_removal(run, result: dict, tick: Tick) -> dict[str, MaskSet]:
    task, seeds = run.task, result["seeds"]
    # The pool spans the whole run: training and evaluation, too, compute at its one thread.
    with stage_pool(run.workers) as pool:
        model, frozen, masked, timer = trained_and_frozen(run, result, tick)
        classifier = output_parameter_names(model, masked)
        if not classifier:
            raise ModbenchError("class removal freezes the classifier's mask, but the model has no masked output "
                                "layer (its last Linear/convolution weight is tied to an embedding, or "
                                "output_parameters names no masked tensor); untie it or declare output_parameters")
        stages = train_stage_masks(run, frozen, seeds, tick, pool, freeze=classifier)
        timer = _timed(result, "masks", timer)
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
    _timed(result, "evaluation", timer)
    result.update(
        scores=scores, score_notes=notes, chance={"all": chance}, nulls=nulls,
        accuracy={stage: {"all": float(c.diagonal() @ task.class_shares()), **_per_class(c)}
                  for stage, c in confusions.items()},
        sharing=[], layers=analysis.layer_statistics(stages, [], classifier),
        details={"confusion": {stage: c.tolist() for stage, c in confusions.items()},
                 "classes": list(task.data.classes), "frozen_output_tensors": classifier},
    )
    return stages


@PIPELINES.decorator("stability")
def stability(run, result: dict, tick: Tick) -> dict[str, MaskSet]:
    task, seeds = run.task, result["seeds"]
    with stage_pool(run.workers) as pool:  # the whole run at the pool's one thread
        model, frozen, masked, timer = trained_and_frozen(run, result, tick)
        stages = train_stage_masks(run, frozen, seeds, tick, pool)
        timer = _timed(result, "masks", timer)
        # each pair mask on its own 2-class test data ("pair") and on all classes ("all")
        accuracy = {stage: {"pair": task.accuracy(frozen.forward_with(mask), stage),
                            "all": task.accuracy(frozen.forward_with(mask), None)}
                    for stage, mask in stages.items() if stage != "control"}
        accuracy["control"] = {"all": task.accuracy(frozen.forward_with(stages["control"]), None)}
        accuracy["full"] = {"all": task.accuracy(frozen.forward_with(None), None)}
    pairs = task.pairs()

    def pair_ious(masks: dict[str, MaskSet]) -> dict[str, float | None]:
        return {f"pair{i}": masks[f"pair{i}_a"].iou(masks[f"pair{i}_b"]) for i in range(len(pairs))}

    def stability_iou(masks: dict[str, MaskSet]) -> dict[str, float | None]:
        values = [v for v in pair_ious(masks).values() if v is not None]
        return {"stability_iou": sum(values) / len(values) if values else None}

    ious, scores = pair_ious(stages), stability_iou(stages)
    _timed(result, "evaluation", timer)
    result.update(
        scores=scores, score_notes={} if scores["stability_iou"] is not None else {"stability_iou": "every mask is empty"},
        nulls=null_scores(stability_iou, stages, seeds["null"]),
        chance={"all": task.chance(None)}, accuracy=accuracy, sharing=[],
        layers=analysis.layer_statistics(stages, [], []),
        details={"pairs": [list(p) for p in pairs], "iou": ious},
    )
    return stages
