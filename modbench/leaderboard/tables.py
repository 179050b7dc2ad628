"""Leaderboard tables from result folders (DESIGN.md, Statistics for tables).

Per task and score: seeds, mean, IQM and a 95% bootstrap CI over seeds, and a rank tier from
pairwise Welch's t tests, Holm-corrected across the task's table (Mann–Whitney U p-values,
Holm-corrected too, are listed beside them; with 5 seeds a side its smallest two-sided p is
2/252 ≈ 0.008, too coarse to carry tiers after correction). Across tasks: Friedman's test and
Nemenyi rank groups over the (task, score) cells that a group of architectures all has.
Entries with fewer than `stats.MIN_SEEDS_TO_RANK` seeds are shown but not ranked.

Every bootstrap draws from a generator keyed by the table seed and the cell's name, so the same
results give byte-identical tables, and adding an entry changes no other entry's CI.
"""
from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from modbench import stats
from modbench.leaderboard.collect import Collection, Entry
from modbench.score_specs import spec

ALPHA = 0.05
TABLE_SEED = 0


def three_places(value: float | None) -> str:
    """A table's number: three decimals, "–" where there is none."""
    return "–" if value is None else f"{value:.3f}"


def cell_rng(seed: int, *key: str) -> np.random.Generator:
    """A generator for one table cell: the table seed and the cell's name, nothing else."""
    return np.random.default_rng([seed, zlib.crc32("/".join(key).encode())])


@dataclass(frozen=True)
class Row:
    """One architecture's estimate of one score on one task."""

    task: str
    score: str
    arch: str
    origin: str
    n_seeds: int
    mean: float | None
    iqm: float | None
    ci: tuple[float, float] | None
    tier: int | None  # None: a descriptive score, fewer than MIN_SEEDS_TO_RANK seeds, or no value
    n_null: int = 0  # seeds whose score is null: a sub-function not learned (the result says why)
    # seeds whose masks did not converge: their values are shown (mean, IQM, CI) only when no
    # seed converged, and never ranked
    n_unconverged: int = 0
    converged: str = ""  # "k/n": seeds of the entry whose masks met the criterion
    undecided: float | None = None  # mean over seeds of the largest undecided share of a stage
    null: float | None = None  # mean over seeds of the score under random masks of the learned densities
    ranked: bool = True  # False: a described score (modbench.score_specs), shown with tier "n/a"
    answer: float | None = None  # planted tasks: the value a method that finds the planted modules gives
    random_init: float | None = None  # the random-init control's mean (None: null, or no control)
    random_init_seeds: int = 0  # seeds of the random-init control


@dataclass(frozen=True)
class Pair:
    task: str
    score: str
    a: str
    b: str
    difference: float  # mean(b) − mean(a)
    welch: float  # Holm-adjusted across the task's table
    mannwhitney: float  # Holm-adjusted across the task's table


@dataclass(frozen=True)
class RankGroups:
    """Friedman + Nemenyi over the cells a group of architectures shares."""

    archs: list[str]
    cells: list[tuple[str, str]]  # (task, score)
    result: stats.FriedmanResult | None
    note: str  # why there is no test, or ""


@dataclass(frozen=True)
class Board:
    collection: Collection
    rows: list[Row]
    pairs: list[Pair]
    groups: list[RankGroups]
    curves: list[dict] = field(default_factory=list)  # `modbench sweep` curves (modbench.sweep)


def _ranked(entry: Entry, score: str) -> bool:
    return spec(entry.kind, score).ranked and len(entry.values(score)) >= stats.MIN_SEEDS_TO_RANK


def task_table(entries: Sequence[Entry], seed: int = TABLE_SEED) -> tuple[list[Row], list[Pair]]:
    """Rows and pairwise tests of one task's table (Holm across all its pairs and scores)."""
    scores = list(dict.fromkeys(s for e in entries for s in e.scores()))
    raw: list[tuple[str, Entry, Entry, float, float, float]] = []
    for score in scores:
        ranked = [e for e in entries if _ranked(e, score)]
        for a, b in itertools.combinations(ranked, 2):
            x, y = a.values(score), b.values(score)
            raw.append((score, a, b, stats.mean(y) - stats.mean(x), stats.welch_p(x, y), stats.mannwhitney_p(x, y)))
    welch = stats.holm([r[4] for r in raw])
    mwu = stats.holm([r[5] for r in raw])
    pairs = [Pair(e.task, score, e.arch, f.arch, d, w, m) for (score, e, f, d, _, _), w, m in zip(raw, welch, mwu)]
    significant = {(p.score, p.a, p.b) for p in pairs if p.welch < ALPHA}
    significant |= {(s, b, a) for s, a, b in significant}
    rows = []
    for score in scores:
        declared = spec(entries[0].kind, score)
        ranked = [e for e in entries if _ranked(e, score)]
        tiers = stats.rank_tiers([stats.mean(e.values(score)) for e in ranked],
                                 lambda i, j: (score, ranked[i].arch, ranked[j].arch) in significant,
                                 declared.higher_is_better)
        tier_of = {e.arch: t for e, t in zip(ranked, tiers)}
        sign = -1 if declared.higher_is_better else 1
        # Ranked entries by tier and mean, best first; then the unranked, by name. An entry that
        # never reports the score (per-layer names differ between architectures) gets no row.
        reporting = [e for e in entries if score in e.scores()]
        order = sorted(reporting, key=lambda e: (tier_of.get(e.arch, 1 << 30),
                                                 sign * stats.mean(e.values(score)) if e.arch in tier_of else 0,
                                                 e.arch))
        for e in order:
            values, unconverged = e.values(score), e.unconverged_values(score)
            shown = values or unconverged  # unconverged values only where no seed converged
            estimates = (None, None, None)
            if shown:
                ci = stats.bootstrap_ci(shown, cell_rng(seed, e.task, score, e.arch))
                estimates = (stats.mean(shown), stats.iqm(shown), ci)
            rows.append(Row(e.task, score, e.arch, ", ".join(e.origins), len(values), *estimates, tier_of.get(e.arch),
                            n_null=len(e.seeds) - len(values) - len(unconverged), n_unconverged=len(unconverged),
                            converged=f"{sum(e.converged.values())}/{len(e.seeds)}", undecided=e.mean_undecided(),
                            null=e.null(score), ranked=declared.ranked, answer=e.known_answers.get(score),
                            random_init=e.random_init_mean(score), random_init_seeds=len(e.random_init)))
    return rows, pairs


def rank_groups(collection: Collection) -> list[RankGroups]:
    """Friedman + Nemenyi per set of tasks that some architecture has ranked values on: the group
    is every architecture ranked on all of those tasks, the cells what they all share there. So
    the FNN and LSTM on addmul + double_add form one group, and a contender ranked on double_add
    alone still meets both of them on double_add's cells."""
    cells_of: dict[str, dict[tuple[str, str], float]] = {}
    kind_of = {e.task: e.kind for e in collection.entries}
    for e in collection.entries:
        for score in e.scores():
            if _ranked(e, score):
                # Rounded: means equal but for float summation order must tie in the ranks.
                cells_of.setdefault(e.arch, {})[e.task, score] = round(stats.mean(e.values(score)), 12)
    tasks_of = {arch: {task for task, _ in cells} for arch, cells in cells_of.items()}
    groups = []
    for tasks in sorted({tuple(sorted(t)) for t in tasks_of.values()}, key=lambda t: (-len(t), t)):
        archs = sorted(a for a, t in tasks_of.items() if set(tasks) <= t)
        cells = sorted(c for c in set.intersection(*(set(cells_of[a]) for a in archs)) if c[0] in tasks)
        if len(archs) < 3 or len(cells) < 2:
            groups.append(RankGroups(archs, cells, None, f"needs ≥ 3 architectures ranked on ≥ 2 cells "
                                                         f"(has {len(archs)} on {len(cells)})"))
            continue
        matrix = np.array([[cells_of[a][c] for a in archs] for c in cells])  # [cells, archs]
        directions = [spec(kind_of[task], score).higher_is_better for task, score in cells]
        groups.append(RankGroups(archs, cells, stats.friedman_nemenyi(matrix, directions, ALPHA), ""))
    return groups


def build(collection: Collection, seed: int = TABLE_SEED, curves: Sequence[dict] = ()) -> Board:
    rows: list[Row] = []
    pairs: list[Pair] = []
    for task in collection.tasks():
        task_rows, task_pairs = task_table(collection.for_task(task), seed)
        rows += task_rows
        pairs += task_pairs
    order = sorted(curves, key=lambda c: (c["task"], c["arch"], c["tier"]))
    return Board(collection, rows, pairs, rank_groups(collection), order)


def write_board(board: Board, out: Path, command: str) -> list[Path]:
    """leaderboard/README.md, leaderboard.csv, leaderboard.tex and index.html (atomic writes)."""
    from modbench.leaderboard.render import render_all
    from modbench.io import write_atomic

    paths = []
    for name, text in render_all(board, command).items():
        write_atomic(out / name, text)
        paths.append(out / name)
    return paths
