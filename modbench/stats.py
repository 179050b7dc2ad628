"""Statistics for leaderboard tables (DESIGN.md: point estimates, CIs, tests, rank tiers).

Point estimates are the mean and the interquartile mean (IQM), with 95% percentile-bootstrap
CIs over seeds. Per task, entries are compared by Welch's t and Mann-Whitney U, with Holm
correction across the table; across tasks, by Friedman + Nemenyi rank groups. No rank is
claimed with fewer than `MIN_SEEDS_TO_RANK` seeds, and ties are shown as tiers.

There is no global random state: every randomised function takes a `numpy.random.Generator`,
so a table is reproducible from the generator's seed alone.

References:
  Agarwal et al., "Deep RL at the edge of the statistical precipice", NeurIPS 2021 (IQM,
    stratified bootstrap CIs over runs, probability of improvement).
  Holm, "A simple sequentially rejective multiple test procedure", Scand. J. Stat. 6, 1979.
  Demšar, "Statistical comparisons of classifiers over multiple data sets", JMLR 7, 2006
    (Friedman test, Nemenyi critical difference).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from scipy import stats as st

MIN_SEEDS_TO_RANK = 5
"""Fewer seeds than this per entry: show estimates, but claim no rank (too little power)."""

_STATISTICS: dict[str, Callable[..., np.ndarray]] = {
    "mean": lambda x, axis=-1: np.mean(x, axis=axis),
    "iqm": lambda x, axis=-1: st.trim_mean(x, 0.25, axis=axis),
}


def _sample(x: Sequence[float], name: str = "x", min_len: int = 1) -> np.ndarray:
    """A 1-D float array of finite values; NaN from a failed run must not silently vanish."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size < min_len:
        raise ValueError(f"{name} needs at least {min_len} value(s), got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values: {arr.tolist()}")
    return arr


def mean(x: Sequence[float]) -> float:
    """Arithmetic mean over seeds."""
    return float(np.mean(_sample(x)))


def iqm(x: Sequence[float]) -> float:
    """Interquartile mean: the mean of the middle 50% (Agarwal et al. 2021). Robust to a few
    outlier seeds, yet less noisy than the median."""
    return float(st.trim_mean(_sample(x), 0.25))


def bootstrap_ci(x: Sequence[float], rng: np.random.Generator, statistic: str = "mean",
                 level: float = 0.95, n_resamples: int = 2000) -> tuple[float, float]:
    """Percentile-bootstrap CI of `statistic` ("mean" or "iqm") over seeds.

    Percentile rather than BCa: BCa's jackknife acceleration is unstable for the handful of
    seeds a benchmark has (Agarwal et al. 2021 also use percentile CIs). A constant sample
    has no sampling spread to estimate, so it returns (v, v) without resampling.
    """
    if statistic not in _STATISTICS:
        raise ValueError(f"statistic must be one of {sorted(_STATISTICS)}, got {statistic!r}")
    arr = _sample(x)
    if np.all(arr == arr[0]):
        v = float(_STATISTICS[statistic](arr))  # computed like the estimate, so it equals it exactly
        return v, v
    res = st.bootstrap((arr,), _STATISTICS[statistic], n_resamples=n_resamples,
                       vectorized=True, confidence_level=level, method="percentile", rng=rng)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def bootstrap_diff_ci(a: Sequence[float], b: Sequence[float], rng: np.random.Generator,
                      level: float = 0.95, n_resamples: int = 2000) -> tuple[float, float]:
    """Percentile-bootstrap CI of mean(b) - mean(a); a and b are resampled independently,
    since seeds of different entries are not paired. Both constant: exact, (d, d)."""
    xa, xb = _sample(a, "a"), _sample(b, "b")
    if np.all(xa == xa[0]) and np.all(xb == xb[0]):
        d = float(np.mean(xb) - np.mean(xa))  # as the estimate is computed, so the CI holds it
        return d, d

    def diff(sa: np.ndarray, sb: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.mean(sb, axis=axis) - np.mean(sa, axis=axis)

    res = st.bootstrap((xa, xb), diff, n_resamples=n_resamples, vectorized=True, paired=False,
                       confidence_level=level, method="percentile", rng=rng)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def welch_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided Welch's t-test p-value (no equal-variance assumption across entries).

    If both groups have zero variance the t statistic is 0/0; but then there is no sampling
    noise and the difference of means is exact, so p is 1.0 when the means are equal and
    0.0 when they differ (deterministic runs, e.g. identical seeds, give this).
    """
    xa, xb = _sample(a, "a", min_len=2), _sample(b, "b", min_len=2)
    if np.all(xa == xa[0]) and np.all(xb == xb[0]):
        return 1.0 if xa[0] == xb[0] else 0.0
    with warnings.catch_warnings():
        if np.all(xa == xa[0]) or np.all(xb == xb[0]):
            # One exactly constant group: its variance is exactly 0, yet scipy warns.
            warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
        return float(st.ttest_ind(xa, xb, equal_var=False).pvalue)


def mannwhitney_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided Mann-Whitney U p-value (exact for small untied samples, scipy's "auto").
    All values equal: no evidence of a difference, p = 1.0 (the normal approximation is 0/0)."""
    xa, xb = _sample(a, "a"), _sample(b, "b")
    if np.all(xa == xa[0]) and np.all(xb == xa[0]):
        return 1.0
    return float(st.mannwhitneyu(xa, xb, alternative="two-sided", method="auto").pvalue)


def probability_of_improvement(a: Sequence[float], b: Sequence[float]) -> float:
    """P(Y > X) + 0.5 P(Y = X) for X from a, Y from b, over all pairs of seeds: the chance
    that b beats a on a random run (Agarwal et al. 2021); equals U_b / (n m)."""
    xa, xb = _sample(a, "a"), _sample(b, "b")
    gt = np.mean(xb[:, None] > xa[None, :])
    eq = np.mean(xb[:, None] == xa[None, :])
    return float(gt + 0.5 * eq)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (Holm 1979), in input order.

    Controls the family-wise error over the whole table while being uniformly more powerful
    than Bonferroni. Adjusted p_(i) = max_{j<=i} min(1, (m - j + 1) p_(j)) for sorted p.
    NaN (test not run) stays NaN and is not counted in m.
    """
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"p_values must be one-dimensional, got shape {p.shape}")
    valid = ~np.isnan(p)
    if np.any((p[valid] < 0) | (p[valid] > 1)):
        raise ValueError(f"p-values must lie in [0, 1], got {p.tolist()}")
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(valid)
    m = idx.size
    if m:
        order = idx[np.argsort(p[idx], kind="stable")]
        scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
        out[order] = np.maximum.accumulate(scaled)
    return [float(v) for v in out]


def rank_tiers(means: Sequence[float], significant: Callable[[int, int], bool],
               higher_is_better: bool = True) -> list[int]:
    """Tier (1 = best) of each entry, in input order.

    Entries are sorted best-first (stable, so equal means keep input order) and walked down;
    an entry opens a new tier when it is significantly worse than the current tier's leader
    (its best entry), via `significant(leader, entry)` on input indices. Entries that cannot
    be told apart from the leader share its tier, so no rank is claimed on noise.
    """
    vals = np.asarray(means, dtype=float)
    if vals.ndim != 1:
        raise ValueError(f"means must be one-dimensional, got shape {vals.shape}")
    if np.any(np.isnan(vals)):
        raise ValueError(f"means contain NaN: {vals.tolist()}")
    order = np.argsort(-vals if higher_is_better else vals, kind="stable")
    tiers = [0] * len(vals)
    tier, leader = 0, -1
    for i in (int(j) for j in order):
        if leader < 0 or significant(leader, i):
            tier, leader = tier + 1, i
        tiers[i] = tier
    return tiers


@dataclass(frozen=True)
class FriedmanResult:
    """Friedman test over blocks plus Nemenyi groups (Demšar 2006, Sec. 3.2.2)."""

    average_ranks: list[float]  # per entry; 1 = best
    statistic: float  # Friedman chi-square
    p_value: float
    critical_difference: float  # Nemenyi CD on average ranks
    groups: list[int]  # tier per entry, 1 = best


def friedman_nemenyi(matrix: np.ndarray, higher_is_better: Sequence[bool] | bool = True,
                     alpha: float = 0.05) -> FriedmanResult:
    """Friedman test and Nemenyi rank groups across blocks (tasks x scores).

    `matrix` is [n_blocks, k_entries], one value per entry per block (e.g. its mean over
    seeds). Ranks are computed within each block (1 = best, ties averaged), so scores on
    different scales and directions are comparable (Demšar 2006). The Nemenyi critical
    difference is CD = q_alpha / sqrt(2) * sqrt(k (k + 1) / (6 N)), q_alpha the studentized
    range quantile with infinite df. Groups are leader-based tiers on the average ranks, so
    they are disjoint, unlike Demšar's overlapping CD bars.
    """
    mat = np.asarray(matrix, dtype=float)
    if mat.ndim != 2:
        raise ValueError(f"matrix must be [n_blocks, k_entries], got shape {mat.shape}")
    n, k = mat.shape
    if k < 3:
        raise ValueError(f"Friedman test needs at least 3 entries to compare, got k={k}")
    if n < 2:
        raise ValueError(f"Friedman test needs at least 2 blocks (task/score cells), got {n}")
    if not np.all(np.isfinite(mat)):
        raise ValueError("matrix contains non-finite values")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    hib = np.broadcast_to(np.asarray(higher_is_better, dtype=bool), (n,))
    oriented = np.where(hib[:, None], -mat, mat)  # smaller is better in every block
    ranks = st.rankdata(oriented, axis=1)
    avg = ranks.mean(axis=0)
    if np.all(oriented == oriented[:, :1]):
        # Every block fully tied: the statistic is 0/0 in scipy; there is no evidence at all.
        stat, p = 0.0, 1.0
    else:
        # Re-ranking ranks gives the same ranks, so this is the test on the oriented data.
        res = st.friedmanchisquare(*ranks.T)
        stat, p = float(res.statistic), float(res.pvalue)
    q = float(st.studentized_range.ppf(1 - alpha, k, np.inf))
    cd = q / np.sqrt(2) * np.sqrt(k * (k + 1) / (6 * n))
    groups = rank_tiers(avg, lambda i, j: abs(avg[i] - avg[j]) > cd, higher_is_better=False)
    return FriedmanResult([float(r) for r in avg], stat, p, float(cd), groups)
