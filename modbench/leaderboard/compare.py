"""`modbench compare A B`: is B better or worse than A, score by score, with significance?

Per (task, score) that both folders hold: both means, the difference B − A with a 95% bootstrap
CI, Welch's t and Mann–Whitney U p-values (Holm-corrected across all rows), and the probability
of improvement P(B better than A) over seed pairs (Agarwal et al. 2021). B is *significantly
worse* on a row when Welch's Holm-corrected p < α and the difference points the bad way
(declared in `modbench.score_specs`): the regression gate of `--fail-if-worse`. Descriptive scores
(sharing: declared not ranked) are compared too, but a significant difference there reads "higher"
or "lower", never "worse", and has no probability of improvement.

A null score means the network, or its control mask, does not perform a sub-function in that
seed (DESIGN.md). Nulls are counted per side; when A learned in every seed and B in none, the row
reads "not learned" and fails the gate (no test needed: B lost the task itself), and the reverse
reads "learned". A row where a side has no value but the other has nulls too has no verdict; it
is shown, not dropped. A score from masks that did not converge (`modbench.gating`) is counted
("+k not conv.") and never tested: a side whose seeds all miss the criterion gets no verdict and
never fails the gate.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tabulate import tabulate

from modbench import stats
from modbench.errors import ModbenchError
from modbench.leaderboard.collect import Collection, Entry, check_comparable, collect
from modbench.leaderboard.tables import ALPHA, TABLE_SEED, cell_rng
from modbench.score_specs import spec

NAN = float("nan")


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
    verdict: str  # "better", "worse", "higher"/"lower" (descriptive), "learned"/"not learned", or ""
    seeds: tuple[int, int, int, int] = (0, 0, 0, 0)  # seeds with a value in A, in B; null seeds in A, in B
    unconverged: tuple[int, int] = (0, 0)  # seeds in A, in B whose masks did not converge (never tested)

    @property
    def gates(self) -> bool:
        """Whether this row fails `--fail-if-worse`."""
        return self.verdict in ("worse", "not learned")


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
    raw, lost, order = [], [], {}  # order: (task, score) -> its place in the table
    kinds = {e.task: e.kind for e in side_a.entries}
    for task in tasks:
        ea, eb = _single_arch(side_a, task, str(a)), _single_arch(side_b, task, str(b))
        for score in [s for s in ea.scores() if s in eb.scores()]:
            order[task, score] = len(order)
            x, y = ea.values(score), eb.values(score)
            unconverged = (len(ea.unconverged_values(score)), len(eb.unconverged_values(score)))
            seeds = (len(x), len(y), len(ea.seeds) - len(x) - unconverged[0], len(eb.seeds) - len(y) - unconverged[1])
            if not x or not y:  # a side without any value: no estimate to test, but the row is shown
                # "not learned" needs nulls alone on B's side: unconverged masks say nothing either way
                verdict = ("not learned" if x and not seeds[2] and not unconverged[1] else
                           "learned" if y and not seeds[3] and not unconverged[0] else "")
                lost.append(Comparison(task, score, stats.mean(x) if x else NAN, stats.mean(y) if y else NAN,
                                       NAN, (NAN, NAN), NAN, NAN, NAN, verdict, seeds, unconverged))
                continue
            testable = len(x) >= 2 and len(y) >= 2
            declared = spec(kinds[task], score)
            up = declared.higher_is_better
            raw.append((task, score, x, y, seeds, unconverged,
                        stats.welch_p(x, y) if testable else NAN,
                        stats.mannwhitney_p(x, y) if testable else NAN,
                        NAN if not declared.ranked else
                        stats.probability_of_improvement(x, y) if up else stats.probability_of_improvement(y, x)))
    welch, mwu = stats.holm([r[6] for r in raw]), stats.holm([r[7] for r in raw])
    rows = []
    for (task, score, x, y, seeds, unconverged, _, _, p_improve), w, m in zip(raw, welch, mwu):
        difference = stats.mean(y) - stats.mean(x)
        if not w < ALPHA or difference == 0:
            verdict = ""
        elif not spec(kinds[task], score).ranked:
            verdict = "higher" if difference > 0 else "lower"
        else:
            verdict = "better" if (difference > 0) == spec(kinds[task], score).higher_is_better else "worse"
        ci = stats.bootstrap_diff_ci(x, y, cell_rng(seed, "compare", task, score))
        rows.append(Comparison(task, score, stats.mean(x), stats.mean(y), difference, ci, w, m, p_improve, verdict,
                               seeds, unconverged))
    return sorted(rows + lost, key=lambda r: order[r.task, r.score])


def significantly_worse(rows: list[Comparison]) -> list[Comparison]:
    return [r for r in rows if r.gates]


def _fmt(value: float, spec: str) -> str:
    return "–" if value != value else format(value, spec)  # NaN: not defined for this row


def _seeds(r: Comparison) -> str:
    def side(n: int, null: int, unconverged: int) -> str:
        extra = [f"+{k} {what}" for k, what in ((null, "null"), (unconverged, "not conv.")) if k]
        return f"{n} ({', '.join(extra)})" if extra else str(n)

    n_a, n_b, null_a, null_b = r.seeds
    return f"{side(n_a, null_a, r.unconverged[0])} / {side(n_b, null_b, r.unconverged[1])}"


def format_table(rows: list[Comparison]) -> str:
    """A GitHub Markdown table; "n (+k null)" in the seeds column: n seeds with a value, k not learned."""
    table = [[r.task, r.score, _seeds(r), _fmt(r.mean_a, ".3f"), _fmt(r.mean_b, ".3f"), _fmt(r.difference, "+.3f"),
              "–" if r.ci[0] != r.ci[0] else f"[{r.ci[0]:+.3f}, {r.ci[1]:+.3f}]", _fmt(r.welch, ".3g"),
              _fmt(r.mannwhitney, ".3g"), _fmt(r.p_improvement, ".2f"), r.verdict or "–"] for r in rows]
    headers = ["task", "score", "seeds A / B", "A", "B", "B − A", "95% CI", "Welch p (Holm)", "MWU p (Holm)",
               "P(B better)", "B is"]
    return tabulate(table, headers, tablefmt="github", disable_numparse=True)
