"""modbench.stats: hand-computed values and scipy cross-checks (never values from stats.py)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from modbench import stats


# --- point estimates -------------------------------------------------------------------------

def test_mean_and_iqm_hand_values():
    assert stats.mean([1, 2, 3, 4]) == 2.5
    assert stats.iqm([1, 2, 3, 4, 100]) == pytest.approx(3.0)  # drops 1 and 100
    assert stats.iqm([1, 2, 3, 4, 5, 6, 7, 8]) == pytest.approx(4.5)  # mean of 3..6
    assert stats.iqm([0, 0, 10, 20, 30, 40, 1000, 1000]) == pytest.approx(25.0)
    assert stats.iqm([7.0]) == 7.0


def test_point_estimates_reject_bad_input():
    for bad in ([], [1.0, float("nan")], [[1.0, 2.0]]):
        with pytest.raises(ValueError):
            stats.mean(bad)
        with pytest.raises(ValueError):
            stats.iqm(bad)


# --- bootstrap ---------------------------------------------------------------------------------

@pytest.mark.parametrize("statistic", ["mean", "iqm"])
def test_ci_contains_point_estimate(statistic):
    data_rng = np.random.default_rng(123)
    point = stats.mean if statistic == "mean" else stats.iqm
    for _ in range(5):
        x = data_rng.normal(0.7, 0.1, size=10)
        lo, hi = stats.bootstrap_ci(x, np.random.default_rng(0), statistic, n_resamples=500)
        assert lo < point(x) < hi


def test_ci_reproducible_from_generator_seed_and_no_global_state():
    x = [0.61, 0.72, 0.55, 0.80, 0.67, 0.70]
    global_state = np.random.get_state()[1].copy()
    ci1 = stats.bootstrap_ci(x, np.random.default_rng(7), n_resamples=500)
    ci2 = stats.bootstrap_ci(x, np.random.default_rng(7), n_resamples=500)
    ci3 = stats.bootstrap_ci(x, np.random.default_rng(8), n_resamples=500)
    assert ci1 == ci2
    assert ci1 != ci3
    assert np.array_equal(np.random.get_state()[1], global_state)


def test_ci_narrows_with_more_data():
    data_rng = np.random.default_rng(1)
    small = data_rng.normal(0, 1, size=5)
    large = data_rng.normal(0, 1, size=500)
    lo_s, hi_s = stats.bootstrap_ci(small, np.random.default_rng(0), n_resamples=500)
    lo_l, hi_l = stats.bootstrap_ci(large, np.random.default_rng(0), n_resamples=500)
    assert hi_l - lo_l < 0.5 * (hi_s - lo_s)


def test_ci_level_orders_widths():
    x = np.random.default_rng(2).normal(size=20)
    lo90, hi90 = stats.bootstrap_ci(x, np.random.default_rng(0), level=0.90, n_resamples=1000)
    lo99, hi99 = stats.bootstrap_ci(x, np.random.default_rng(0), level=0.99, n_resamples=1000)
    assert lo99 < lo90 < hi90 < hi99


def test_ci_degenerate_and_invalid():
    rng = np.random.default_rng(0)
    assert stats.bootstrap_ci([0.5, 0.5, 0.5], rng) == (0.5, 0.5)
    assert stats.bootstrap_ci([0.25], rng, statistic="iqm") == (0.25, 0.25)
    with pytest.raises(ValueError):
        stats.bootstrap_ci([], rng)
    with pytest.raises(ValueError):
        stats.bootstrap_ci([1.0, 2.0], rng, statistic="median")


def test_diff_ci():
    a = [0.50, 0.52, 0.49, 0.51, 0.53]
    b = [0.70, 0.72, 0.69, 0.74, 0.71]
    lo, hi = stats.bootstrap_diff_ci(a, b, np.random.default_rng(0), n_resamples=1000)
    d = np.mean(b) - np.mean(a)
    assert 0 < lo < d < hi
    lo_r, hi_r = stats.bootstrap_diff_ci(b, a, np.random.default_rng(0), n_resamples=1000)
    assert hi_r < 0  # direction is mean(b) - mean(a)
    assert stats.bootstrap_diff_ci([1, 1], [3, 3, 3], np.random.default_rng(0)) == (2.0, 2.0)
    with pytest.raises(ValueError):
        stats.bootstrap_diff_ci([], b, np.random.default_rng(0))


# --- pairwise tests ----------------------------------------------------------------------------

def test_welch_matches_hand_computation():
    a, b = [1, 2, 3, 4], [2, 4, 6, 8, 10]
    # Hand: mean_a = 2.5, s_a^2 = 5/3; mean_b = 6, s_b^2 = 10.
    va, vb = (5 / 3) / 4, 10 / 5  # s^2 / n
    t = (2.5 - 6) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / 3 + vb**2 / 4)  # Welch-Satterthwaite
    assert df == pytest.approx(2523 / 457)
    expected = 2 * st.t.sf(abs(t), df)
    assert stats.welch_p(a, b) == pytest.approx(expected, rel=1e-10)
    assert stats.welch_p(b, a) == pytest.approx(expected, rel=1e-10)


def test_welch_zero_variance_and_errors():
    assert stats.welch_p([1, 1, 1], [1, 1]) == 1.0
    assert stats.welch_p([1, 1, 1], [2, 2]) == 0.0
    assert 0 < stats.welch_p([1, 1, 1], [1, 2, 3]) < 1  # one constant group: ordinary test
    with pytest.raises(ValueError):
        stats.welch_p([1.0], [1.0, 2.0])


def test_mannwhitney():
    # Completely separated groups of 5: exact two-sided p = 2 / C(10, 5) = 2 / 252.
    assert stats.mannwhitney_p([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) == pytest.approx(2 / 252)
    assert stats.mannwhitney_p([6, 7, 8, 9, 10], [1, 2, 3, 4, 5]) == pytest.approx(2 / 252)
    assert stats.mannwhitney_p([0.3, 0.3, 0.3], [0.3, 0.3]) == 1.0
    assert stats.mannwhitney_p([1, 3, 5], [2, 4, 6]) > 0.5


def test_probability_of_improvement():
    assert stats.probability_of_improvement([1, 2, 3], [1, 2, 3]) == 0.5
    assert stats.probability_of_improvement([1, 2, 3], [4, 5]) == 1.0
    assert stats.probability_of_improvement([4, 5], [1, 2, 3]) == 0.0
    # b=[2,3] vs a=[1,2]: 3>1, 3>2, 2>1 win, 2=2 tie -> (3 + 0.5) / 4.
    assert stats.probability_of_improvement([1, 2], [2, 3]) == 0.875
    rng = np.random.default_rng(5)
    a, b = rng.integers(0, 5, size=7), rng.integers(0, 5, size=9)
    u_b = st.mannwhitneyu(b, a).statistic
    poi = stats.probability_of_improvement(a, b)
    assert poi == pytest.approx(u_b / (7 * 9))
    assert poi + stats.probability_of_improvement(b, a) == pytest.approx(1.0)


# --- Holm --------------------------------------------------------------------------------------

def test_holm_hand_examples():
    # Sorted: 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> raised to 0.06 (monotone).
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([0.5, 0.6]) == [1.0, 1.0]  # capped
    out = stats.holm([0.01, float("nan"), 0.04])  # m = 2
    assert out[0] == pytest.approx(0.02) and out[2] == pytest.approx(0.04)
    assert math.isnan(out[1])
    assert stats.holm([]) == []
    with pytest.raises(ValueError):
        stats.holm([0.1, 1.5])


def test_holm_properties():
    rng = np.random.default_rng(11)
    for _ in range(20):
        p = rng.uniform(0, 0.2, size=rng.integers(1, 12))
        adj = np.array(stats.holm(p))
        assert np.all(adj >= p - 1e-15)  # never lowers a p-value
        assert np.all(adj <= 1.0)
        assert np.all(adj <= np.minimum(1, len(p) * p) + 1e-15)  # never worse than Bonferroni
        order = np.argsort(p, kind="stable")
        assert np.all(np.diff(adj[order]) >= 0)  # monotone in the order of the raw p


# --- tiers -------------------------------------------------------------------------------------

def test_rank_tiers_leader_based():
    means = [0.9, 0.5, 0.8, 0.85]
    calls = []

    def sig(i, j):
        calls.append((i, j))
        return abs(means[i] - means[j]) > 0.07

    # Best-first: 0 (0.9), 3 (0.85, within 0.07 of leader 0), 2 (0.8, 0.1 below leader 0 ->
    # new tier although close to 3), 1 (0.5, far below new leader 2).
    assert stats.rank_tiers(means, sig) == [1, 3, 2, 1]
    assert calls == [(0, 3), (0, 2), (2, 1)]


def test_rank_tiers_lower_is_better_and_ties():
    always, never = (lambda i, j: True), (lambda i, j: False)
    assert stats.rank_tiers([3.0, 1.0, 2.0], always, higher_is_better=False) == [3, 1, 2]
    assert stats.rank_tiers([3.0, 1.0, 2.0], always) == [1, 3, 2]
    assert stats.rank_tiers([3.0, 1.0, 2.0], never) == [1, 1, 1]
    assert stats.rank_tiers([5.0, 5.0, 5.0], always) == [1, 2, 3]  # stable on ties
    assert stats.rank_tiers([5.0, 5.0, 5.0], always, higher_is_better=False) == [1, 2, 3]
    assert stats.rank_tiers([], always) == []
    with pytest.raises(ValueError):
        stats.rank_tiers([1.0, float("nan")], always)


# --- Friedman + Nemenyi ------------------------------------------------------------------------

MAT3 = np.array([[0.9, 0.8, 0.7],
                 [0.6, 0.9, 0.5],
                 [0.7, 0.7, 0.1]])


def test_friedman_average_ranks_by_hand():
    # Ranks per row (higher better): [1,2,3], [2,1,3], [1.5,1.5,3].
    res = stats.friedman_nemenyi(MAT3)
    assert res.average_ranks == pytest.approx([1.5, 1.5, 3.0])
    ref = st.friedmanchisquare(*MAT3.T)
    assert res.statistic == pytest.approx(ref.statistic)
    assert res.p_value == pytest.approx(ref.pvalue)
    low = stats.friedman_nemenyi(MAT3, higher_is_better=False)
    assert low.average_ranks == pytest.approx([2.5, 2.5, 1.0])
    assert low.p_value == pytest.approx(ref.pvalue)


def test_friedman_mixed_directions():
    # Row 2 lower-is-better: [0.6, 0.9, 0.5] -> ranks [2, 3, 1].
    res = stats.friedman_nemenyi(MAT3, higher_is_better=[True, False, True])
    assert res.average_ranks == pytest.approx([4.5 / 3, 6.5 / 3, 7 / 3])
    flipped = MAT3.copy()
    flipped[1] *= -1
    assert res.p_value == pytest.approx(st.friedmanchisquare(*flipped.T).pvalue)


def test_friedman_hand_statistic_and_groups():
    # Entry 0 best, 1 middle, 2 worst in all N blocks: rank sums 1N, 2N, 3N.
    def consistent(n):
        base = np.linspace(0, 1, n)[:, None]
        return base + np.array([0.3, 0.2, 0.1])

    res = stats.friedman_nemenyi(consistent(10))
    # chi2 = 12/(N k (k+1)) * sum R_j^2 - 3 N (k+1) = 0.1 * 1400 - 120 = 20 (no ties).
    assert res.statistic == pytest.approx(20.0)
    assert res.p_value == pytest.approx(math.exp(-10))  # chi2 sf with 2 df = exp(-x/2)
    # Demšar (2006) Table 5a: q_0.05 = 2.343 for k = 3; CD = 2.343 sqrt(12 / 60).
    assert res.critical_difference == pytest.approx(2.343 * math.sqrt(12 / 60), abs=2e-3)
    assert res.critical_difference == pytest.approx(1.048, abs=2e-3)
    assert res.groups == [1, 1, 2]  # |1 - 2| = 1 < CD, |1 - 3| = 2 > CD
    # N = 30: CD = 2.343 sqrt(12 / 180) ~ 0.605 < 1, so all three separate.
    assert stats.friedman_nemenyi(consistent(30)).groups == [1, 2, 3]


def test_nemenyi_cd_k10():
    # Demšar (2006) Table 5a: q_0.05 = 3.164 for k = 10.
    mat = np.random.default_rng(3).normal(size=(20, 10))
    res = stats.friedman_nemenyi(mat)
    assert res.critical_difference == pytest.approx(3.164 * math.sqrt(110 / 120), abs=2e-3)
    assert sum(res.average_ranks) == pytest.approx(10 * 11 / 2)


def test_friedman_all_tied_and_errors():
    res = stats.friedman_nemenyi(np.ones((4, 3)))
    assert res.average_ranks == [2.0, 2.0, 2.0]
    assert res.p_value == 1.0 and res.groups == [1, 1, 1]
    with pytest.raises(ValueError, match="3 entries"):
        stats.friedman_nemenyi(np.ones((5, 2)))
    with pytest.raises(ValueError, match="2 blocks"):
        stats.friedman_nemenyi(np.ones((1, 4)))
    with pytest.raises(ValueError):
        stats.friedman_nemenyi(np.ones(4))


def test_min_seeds_constant():
    assert stats.MIN_SEEDS_TO_RANK == 5
