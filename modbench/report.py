"""Tables every task kind shares (convergence, scores beside their nulls) and their cell format;
each kind's paper-style table lives beside its pipeline (modbench/pipelines/)."""
from __future__ import annotations

import statistics
from typing import Sequence

from tabulate import tabulate

from modbench.gating import gated_scores
from modbench.nulls import null_mean


def mean_std(values: Sequence[float], scale: float = 100.0, digits: int = 1) -> str:
    if not values:
        return "–"
    mean = statistics.fmean(values) * scale
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {statistics.stdev(values) * scale:.{digits}f}"


def column(values: Sequence[float | None], scale: float = 100.0, digits: int = 1) -> str:
    """`mean_std` of the values that are present; "–" when none is."""
    present = [v for v in values if v is not None]
    return mean_std(present, scale, digits) if present else "–"


def finished(runs: Sequence[dict]) -> list[dict]:
    """The runs a table describes: those with status ok."""
    return [r for r in runs if r["status"] == "ok"]


NO_RUNS = "no finished runs"


def convergence_table(runs: Sequence[dict], fmt: str = "simple") -> str:
    """A row per mask stage: its undecided share, the share of decisions that flipped over its
    last quarter and the IoU of its kept set with itself there, mean ± std over runs; then how
    many runs meet the task family's criterion, and why the others do not."""
    ok = [r for r in finished(runs) if r["convergence"]["stages"]]
    if not ok:
        return ""
    rows = [[stage, column([r["convergence"]["stages"][stage]["undecided"] for r in ok], 1.0, 3),
             column([r["convergence"]["stages"][stage]["late_flips"] for r in ok], 1.0, 4),
             column([r["convergence"]["stages"][stage]["late_iou"] for r in ok], 1.0, 3)]
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
    ok = finished(runs)
    if not ok:
        return ""
    rows = []
    for name in ok[0]["scores"]:
        values = [r["scores"][name] for r in ok if r["scores"][name] is not None]
        nulls = len(ok) - len(values)
        unconverged = sum(name in gated_scores(r) for r in ok)
        cell = mean_std(values, scale=1.0, digits=3) if values else "null"
        notes = [f"{n} {what}" for n, what in ((nulls, "null"), (unconverged, "not converged")) if n and values]
        random = [v for v in (null_mean(r["nulls"], name) for r in ok) if v is not None]
        rows.append([name, cell + (f"  ({', '.join(notes)})" if notes else ""),
                     mean_std(random, scale=1.0, digits=3) if random else "–"])
    times = [r["wall_time_s"]["total"] for r in ok]
    rows.append(["wall time per run [s]", mean_std(times, scale=1.0, digits=0), ""])
    return tabulate(rows, headers=["score", f"mean ± std over {len(ok)} runs", "null (random masks)"], tablefmt=fmt,
                    disable_numparse=True)
