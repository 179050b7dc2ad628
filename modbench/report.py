"""Paper-style tables from result dicts (paper_spec §4.1/§4.3 tables), through tabulate."""
from __future__ import annotations

import statistics
from typing import Sequence

from tabulate import tabulate

from modbench.gating import gated_scores
from modbench.nulls import null_mean
from modbench.scores import not_variant


def _cell(values: Sequence[float], scale: float = 100.0, digits: int = 1) -> str:
    if not values:
        return "–"
    mean = statistics.fmean(values) * scale
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {statistics.stdev(values) * scale:.{digits}f}"


def accuracy_table(runs: Sequence[dict], fmt: str = "simple") -> str:
    """A row per sub-function; columns Full (control mask), then each mask M_f and ¬M_f:
    accuracy in %, mean ± std over the runs (seeds)."""
    ok = [r for r in runs if r["status"] == "ok"]
    if not ok:
        return "no finished runs"
    subs = ok[0]["task"]["subfunctions"]
    columns = [("Full", "control")]
    for f in subs:
        columns += [(f, f), (f"¬{f}", not_variant(f))]
    rows = [
        [g] + [_cell([r["accuracy"][variant][g] for r in ok]) for _, variant in columns]
        for g in subs
    ]
    return tabulate(rows, headers=["[%]"] + [name for name, _ in columns], tablefmt=fmt, disable_numparse=True)


def sysgen_table(runs: Sequence[dict], fmt: str = "simple") -> str:
    """A row per evaluation set: its test accuracy with the unmasked IID network, its control
    mask and (held-out splits) the split's own mask, their difference (combination dependence),
    and the sysgen accuracy; mean ± std over runs (paper_spec §4.6 Fig. 4a, §4.8)."""
    ok = [r for r in runs if r["status"] == "ok"]
    if not ok:
        return "no finished runs"
    subs = ok[0]["task"]["subfunctions"]

    def column(values: list) -> str:
        present = [v for v in values if v is not None]
        return _cell(present) if present else "–"

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


def class_removal_table(runs: Sequence[dict], fmt: str = "simple") -> str:
    """A row per class c: its test accuracy with the control mask and with the mask trained
    without c, the relative drop and the largest other-class drop as a share of it (§4.9)."""
    ok = [r for r in runs if r["status"] == "ok"]
    if not ok:
        return "no finished runs"
    rows = []
    for stage in ok[0]["task"]["subfunctions"]:
        c = stage.split("_", 1)[1]

        def column(values: list, scale: float = 100.0) -> str:
            present = [v for v in values if v is not None]
            return _cell(present, scale) if present else "–"

        rows.append([
            f"{c} ({ok[0]['details']['classes'][int(c)]})",
            column([r["accuracy"]["control"][f"class_{c}"] for r in ok]),
            column([r["accuracy"][stage][f"class_{c}"] for r in ok]),
            column([r["scores"][f"relative_drop/{c}"] for r in ok]),
            column([r["scores"][f"other_target_share/{c}"] for r in ok]),
        ])
    headers = ["class", "control mask [%]", "mask without it [%]", "relative drop [%]", "largest other/target [%]"]
    return tabulate(rows, headers=headers, tablefmt=fmt, disable_numparse=True)


def stability_table(runs: Sequence[dict], fmt: str = "simple") -> str:
    """A row per class pair: the IoU of its two masks and their accuracy on the pair (§4.10)."""
    ok = [r for r in runs if r["status"] == "ok"]
    if not ok:
        return "no finished runs"
    rows = []
    for i, pair in enumerate(ok[0]["details"]["pairs"]):
        ious = [r["details"]["iou"][f"pair{i}"] for r in ok if r["details"]["iou"][f"pair{i}"] is not None]
        rows.append([f"{pair[0]}, {pair[1]}", _cell(ious, 1.0, 3) if ious else "–",
                     _cell([r["accuracy"][f"pair{i}_{side}"]["pair"] for r in ok for side in "ab"])])
    return tabulate(rows, headers=["classes", "IoU", "pair accuracy [%]"], tablefmt=fmt, disable_numparse=True)


def transfer_table(runs: Sequence[dict], fmt: str = "simple") -> str:
    """A row per task p: its test accuracy with its own mask and, per hidden layer, the share of
    its mask among the weights earlier tasks chose (paper_spec §4.7)."""
    ok = [r for r in runs if r["status"] == "ok"]
    if not ok:
        return "no finished runs"
    layers = [k.split("/", 1)[1] for k in ok[0]["scores"] if k.startswith("shared_fraction/")]
    rows = []
    for task in ok[0]["task"]["subfunctions"]:
        shared = [[r["details"]["shared_fraction"].get(task, {}).get(n) for r in ok] for n in layers]
        rows.append([task, _cell([r["accuracy"][task][task] for r in ok]),
                     *(_cell([v for v in values if v is not None]) for values in shared)])
    return tabulate(rows, headers=["task", "accuracy [%]", *(f"shared {n} [%]" for n in layers)],
                    tablefmt=fmt, disable_numparse=True)


# The paper-style table of each task kind.
TABLES = {"specialize": accuracy_table, "reuse": accuracy_table, "sysgen": sysgen_table,
          "class_removal": class_removal_table, "stability": stability_table, "transfer": transfer_table}


def convergence_table(runs: Sequence[dict], fmt: str = "simple") -> str:
    """A row per mask stage: its undecided share, the share of decisions that flipped over its
    last quarter and the IoU of its kept set with itself there, mean ± std over runs; then how
    many runs meet the task family's criterion, and why the others do not."""
    ok = [r for r in runs if r["status"] == "ok" and r["convergence"]["stages"]]
    if not ok:
        return ""

    def column(values: list, digits: int = 3) -> str:
        present = [v for v in values if v is not None]
        return _cell(present, 1.0, digits) if present else "–"

    rows = [[stage, column([r["convergence"]["stages"][stage]["undecided"] for r in ok]),
             column([r["convergence"]["stages"][stage]["late_flips"] for r in ok], 4),
             column([r["convergence"]["stages"][stage]["late_iou"] for r in ok])]
            for stage in ok[0]["convergence"]["stages"]]
    criterion = ok[0]["convergence"]["criterion"]
    table = tabulate(rows, headers=["mask stage", "undecided", "late flips", "late IoU"], tablefmt=fmt,
                     disable_numparse=True)
    converged = sum(r["convergence"]["converged"] for r in ok)
    lines = [table, "", f"converged: {converged} of {len(ok)} runs (criterion: undecided ≤ {criterion['max_undecided']:g}, "
             f"late IoU ≥ {criterion['min_late_iou']:g}, control mask ≤ {100 * criterion['max_control_drop']:g} points "
             "below the unmasked network)"]
    lines += [f"  seed {r['seeds']['run']}: " + "; ".join(r["convergence"]["reasons"])
              for r in ok if not r["convergence"]["converged"]]
    return "\n".join(lines)


def score_table(runs: Sequence[dict], fmt: str = "simple") -> str:
    """Every score, mean ± std over runs, beside its null (random masks of the learned masks'
    densities); a score null in some runs says how many, and one whose masks did not converge
    in some runs says so (it is never ranked)."""
    ok = [r for r in runs if r["status"] == "ok"]
    if not ok:
        return ""
    rows = []
    for name in ok[0]["scores"]:
        values = [r["scores"][name] for r in ok if r["scores"][name] is not None]
        nulls = len(ok) - len(values)
        unconverged = sum(name in gated_scores(r) for r in ok)
        cell = _cell(values, scale=1.0, digits=3) if values else "null"
        notes = [f"{n} {what}" for n, what in ((nulls, "null"), (unconverged, "not converged")) if n and values]
        random = [v for v in (null_mean(r["nulls"], name) for r in ok) if v is not None]
        rows.append([name, cell + (f"  ({', '.join(notes)})" if notes else ""),
                     _cell(random, scale=1.0, digits=3) if random else "–"])
    times = [r["wall_time_s"]["total"] for r in ok]
    rows.append(["wall time per run [s]", _cell(times, scale=1.0, digits=0), ""])
    return tabulate(rows, headers=["score", f"mean ± std over {len(ok)} runs", "null (random masks)"], tablefmt=fmt,
                    disable_numparse=True)
