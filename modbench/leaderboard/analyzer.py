"""The analyzer track's table: mask methods side by side on each planted task (issue 26).

The per-score rows of a planted task already rank every method with the board's tests; this
table gathers, per method, what an analysis method is judged on: does it find the planted
modules (recovery IoU, beside its null and its tier; recovery AUROC, the same question asked of
the method's ranking rather than its threshold), does it keep only them (precision), how
much does it keep (mask density), and does the kept network still compute the function
(faithfulness). Built from the board's rows, so its numbers are theirs.
"""
from __future__ import annotations

from modbench.leaderboard.tables import Board, Row, three_places

TITLE = "Mask methods against the planted modules"
DESCRIPTION = ("Per method: the task's score with its 95% CI; recovery IoU per sub-function (answer 1), its null and "
               "its tier among the methods (from the per-score rows); recovery AUROC (the method's ranking of the used "
               "weights, threshold-free: answer 1, chance 0.5); precision (the share of kept weights inside the "
               "planted module, answer 1); mask density (the share of masked weights kept); faithfulness "
               "(acc(f | M_f) − acc(f | unmasked), answer 0). Values are per sub-function, in the task's order.")
HEADERS = ["task", "method", "seeds", "converged", "task score", "95% CI", "recovery IoU", "its null", "IoU tier",
           "recovery AUROC", "precision", "mask density", "faithfulness"]


def _per_sub(rows: dict[str, Row], prefix: str, subs: list[str], field: str = "mean") -> str:
    """One value per sub-function, "a / b" in the task's order ("–" where absent)."""
    def one(sub: str) -> str:
        row = rows.get(f"{prefix}/{sub}")
        value = None if row is None else getattr(row, field)
        return "–" if value is None else str(value) if field == "tier" else f"{value:.3f}"
    return " / ".join(one(s) for s in subs)


def _mean_recovery(rows: dict[str, Row], subs: list[str]) -> float:
    means = [rows[f"recovery_iou/{s}"].mean for s in subs if rows.get(f"recovery_iou/{s}")]
    present = [m for m in means if m is not None]
    return sum(present) / len(present) if present else float("-inf")


def analyzer_rows(board: Board) -> list[list[str]]:
    """A row per (planted task, method), best mean recovery IoU first within a task; names raw
    (the renderer escapes them)."""
    table = []
    for task in board.collection.tasks():
        task_rows = [r for r in board.rows if r.task == task]
        if not any(r.answer is not None for r in task_rows):
            continue
        entries = board.collection.for_task(task)
        subs = list(dict.fromkeys(r.score.split("/", 1)[1] for r in task_rows if r.score.startswith("recovery_iou/")))
        primary = next((r.score for r in task_rows if r.answer is not None and "/" not in r.score), None)
        rows_of = {e.arch: {r.score: r for r in task_rows if r.arch == e.arch} for e in entries}
        for e in sorted(entries, key=lambda e: (-_mean_recovery(rows_of[e.arch], subs), e.method)):
            rows = rows_of[e.arch]
            main = rows.get(primary) if primary else None
            ci = "–" if main is None or main.ci is None else f"[{main.ci[0]:.3f}, {main.ci[1]:.3f}]"
            table.append([task, e.method, str(len(e.seeds)), f"{sum(e.converged.values())}/{len(e.seeds)}",
                          "–" if main is None else f"{primary} {three_places(main.mean)}", ci,
                          _per_sub(rows, "recovery_iou", subs), _per_sub(rows, "recovery_iou", subs, "null"),
                          _per_sub(rows, "recovery_iou", subs, "tier"), _per_sub(rows, "recovery_auroc", subs),
                          _per_sub(rows, "recovery_precision", subs),
                          _per_sub(rows, "mask_density", subs), _per_sub(rows, "faithfulness", subs)])
    return table
