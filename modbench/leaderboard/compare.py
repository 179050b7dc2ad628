"""`modbench compare A B`: is B better or worse than A, score by score, with significance?

Per (task, score) that both folders hold: both means, the difference B − A with a 95% bootstrap
CI, Welch's t and Mann–Whitney U p-values (Holm-corrected across all rows), and the probability
of improvement P(B better than A) over seed pairs (Agarwal et al. 2021). B is *significantly
worse* on a row when Welch's Holm-corrected p < α and the difference points the bad way
(`scores.higher_is_better`): the regression gate of `--fail-if-worse`. Descriptive scores
(sharing, `scores.is_ranked`) are compared too, but a significant difference there reads "higher"
or "lower", never "worse", and has no probability of improvement.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tabulate import tabulate

from modbench import stats
from modbench.errors import ModbenchError
from modbench.leaderboard.collect import Collection, Entry, check_comparable, collect
from modbench.leaderboard.tables import ALPHA, TABLE_SEED, cell_rng
from modbench.scores import higher_is_better, is_ranked


@dataclass(frozen=True)
class Comparison:
    task: str
    score: str
    mean_a: float
    mean_b: float
    difference: float  # mean(B) − mean(A)
    ci: tuple[float, float]
    welch: float  # Holm-adjusted; NaN with fewer than 2 seeds a side
    mannwhitney: float  # Holm-adjusted
    p_improvement: float  # P(B better than A), direction-aware; NaN for a descriptive score
    verdict: str  # "better", "worse", "higher"/"lower" (descriptive score) or "" (not significant)


def _single_arch(collection: Collection, task: str, side: str) -> Entry:
    entries = collection.for_task(task)
    if len(entries) > 1:
        names = ", ".join(e.arch for e in entries)
        raise ModbenchError(f"{side} holds {len(entries)} architectures for {task} ({names}); point compare at "
                            f"one architecture's folder, e.g. {side}/{task}/{entries[0].arch}")
    return entries[0]


def compare(a: Path, b: Path, seed: int = TABLE_SEED) -> list[Comparison]:
    """Compare the results under folder `b` with those under folder `a` on the tasks both hold."""
    side_a, side_b = collect([a]), collect([b])
    check_comparable([side_a, side_b])
    tasks = sorted(set(side_a.tasks()) & set(side_b.tasks()))
    if not tasks:
        raise ModbenchError(f"{a} ({', '.join(side_a.tasks())}) and {b} ({', '.join(side_b.tasks())}) share no task")
    raw = []
    for task in tasks:
        ea, eb = _single_arch(side_a, task, str(a)), _single_arch(side_b, task, str(b))
        for score in [s for s in ea.scores() if s in eb.scores()]:
            x, y = ea.values(score), eb.values(score)
            if not x or not y:
                continue  # not learned on one side: nothing to compare
            testable = len(x) >= 2 and len(y) >= 2
            up = higher_is_better(score)
            raw.append((task, score, x, y,
                        stats.welch_p(x, y) if testable else float("nan"),
                        stats.mannwhitney_p(x, y) if testable else float("nan"),
                        float("nan") if not is_ranked(score) else
                        stats.probability_of_improvement(x, y) if up else stats.probability_of_improvement(y, x)))
    welch, mwu = stats.holm([r[4] for r in raw]), stats.holm([r[5] for r in raw])
    rows = []
    for (task, score, x, y, _, _, p_improve), w, m in zip(raw, welch, mwu):
        difference = stats.mean(y) - stats.mean(x)
        if not w < ALPHA or difference == 0:
            verdict = ""
        elif not is_ranked(score):
            verdict = "higher" if difference > 0 else "lower"
        else:
            verdict = "better" if (difference > 0) == higher_is_better(score) else "worse"
        ci = stats.bootstrap_diff_ci(x, y, cell_rng(seed, "compare", task, score))
        rows.append(Comparison(task, score, stats.mean(x), stats.mean(y), difference, ci, w, m, p_improve, verdict))
    return rows


def significantly_worse(rows: list[Comparison]) -> list[Comparison]:
    return [r for r in rows if r.verdict == "worse"]


def format_table(rows: list[Comparison]) -> str:
    table = [[r.task, r.score, f"{r.mean_a:.3f}", f"{r.mean_b:.3f}", f"{r.difference:+.3f}",
              f"[{r.ci[0]:+.3f}, {r.ci[1]:+.3f}]", f"{r.welch:.3g}", f"{r.mannwhitney:.3g}",
              "–" if r.p_improvement != r.p_improvement else f"{r.p_improvement:.2f}", r.verdict or "–"] for r in rows]
    headers = ["task", "score", "A", "B", "B − A", "95% CI", "Welch p (Holm)", "MWU p (Holm)", "P(B better)", "B is"]
    return tabulate(table, headers, tablefmt="github", disable_numparse=True)
