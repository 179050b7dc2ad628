"""Score formulas on hand-built accuracies (DESIGN.md "Scores")."""
import pytest

from modbench.scores import (
    compute_scores,
    learned,
    normalised,
    p_reuse,
    p_specialize,
    p_specialize_removal,
)

SUBS = ("add", "mul")
CHANCE = {"add": 0.0, "mul": 0.0}


def cells(**variants):
    return {name: dict(zip(SUBS, values)) for name, values in variants.items()}


def test_normalised_is_clipped_between_chance_and_control():
    assert normalised(0.55, 0.9, 0.2) == pytest.approx(0.5)
    assert normalised(0.1, 0.9, 0.2) == 0.0
    assert normalised(0.95, 0.9, 0.2) == 1.0


def test_learned_needs_halfway_from_chance():
    assert learned(0.6, 0.2)  # 0.4 ≥ 0.4
    assert not learned(0.59, 0.2)


def test_perfect_specialisation_scores_one():
    acc = cells(control=(1.0, 1.0), add=(1.0, 0.0), mul=(0.0, 1.0),
                not_add=(0.0, 1.0), not_mul=(1.0, 0.0))
    assert p_specialize(acc, CHANCE, SUBS) == (1.0, None)
    assert p_specialize_removal(acc, CHANCE, SUBS) == (1.0, None)


def test_no_specialisation_scores_zero():
    # every mask keeps both functions; every inverse loses both
    acc = cells(control=(1.0, 1.0), add=(1.0, 1.0), mul=(1.0, 1.0),
                not_add=(0.0, 0.0), not_mul=(0.0, 0.0))
    assert p_specialize(acc, CHANCE, SUBS)[0] == 0.0
    assert p_specialize_removal(acc, CHANCE, SUBS)[0] == 0.0


def test_partial_specialisation_by_hand():
    # chance 0.1, control 0.9: add mask: n(add)=1, n(mul)=(0.5-0.1)/0.8=0.5 -> 1*(1-0.5)=0.5
    # mul mask: n(mul)=(0.7-0.1)/0.8=0.75, n(add)=(0.1-0.1)/0.8=0 -> 0.75*1=0.75; mean 0.625
    chance = {"add": 0.1, "mul": 0.1}
    acc = cells(control=(0.9, 0.9), add=(0.9, 0.5), mul=(0.1, 0.7))
    assert p_specialize(acc, chance, SUBS)[0] == pytest.approx(0.625)


def test_score_is_null_with_reason_when_control_did_not_learn():
    acc = cells(control=(0.9, 0.3), add=(0.9, 0.0), mul=(0.0, 0.3))
    value, reason = p_specialize(acc, CHANCE, SUBS)
    assert value is None
    assert "did not learn mul" in reason


PAIRS = ("pair1", "pair2")


def reuse_cells(**variants):
    return {name: dict(zip(PAIRS, values)) for name, values in variants.items()}


def test_p_reuse_no_reuse_is_zero_and_full_reuse_is_one():
    chance = {"pair1": 0.0, "pair2": 0.0}
    # removing pair 1's module leaves pair 2 working: no reuse
    separate = reuse_cells(control=(1, 1), pair1=(1, 0), pair2=(0, 1),
                           not_pair1=(0, 1), not_pair2=(1, 0))
    assert p_reuse(separate, chance, PAIRS)[0] == 0.0
    # removing either module breaks both: shared module
    shared = reuse_cells(control=(1, 1), pair1=(1, 1), pair2=(1, 1),
                         not_pair1=(0, 0), not_pair2=(0, 0))
    assert p_reuse(shared, chance, PAIRS)[0] == 1.0


def test_p_reuse_strict_reads_the_hidden_layer_removal():
    chance = {"pair1": 0.0, "pair2": 0.0}
    acc = reuse_cells(control=(1, 1), pair1=(1, 1), pair2=(1, 1),
                      not_pair1=(0, 1), not_pair2=(1, 0),
                      control_minus_pair1_hidden=(0, 0.25), control_minus_pair2_hidden=(0.5, 0))
    assert p_reuse(acc, chance, PAIRS)[0] == 0.0
    # (1 - 0.25) and (1 - 0.5) -> mean 0.625
    assert p_reuse(acc, chance, PAIRS, strict=True)[0] == pytest.approx(0.625)


def test_compute_scores_by_kind():
    acc = cells(control=(1.0, 1.0), add=(1.0, 0.0), mul=(0.0, 1.0),
                not_add=(0.0, 1.0), not_mul=(1.0, 0.0))
    values, notes = compute_scores("specialize", acc, CHANCE, SUBS)
    assert values == {"p_specialize": 1.0, "p_specialize_removal": 1.0} and notes == {}


def sysgen_cells(control, own, iid_control=0.98):
    """Accuracies of a sysgen run: control mask on every test set, each split's own mask."""
    acc = {
        "full": {"simple": 0.99, "jump": 0.97, "length": 0.9},
        "control": {"simple": iid_control, "jump": control[0], "length": control[1]},
        "jump": {"simple": 0.9, "jump": own[0]},
        "length": {"simple": 0.8, "length": own[1]},
        "sysgen": {"jump": 0.01, "length": 0.12},
    }
    return acc


def test_combination_dependence_is_control_minus_own_mask_and_may_be_negative():
    from modbench.scores import sysgen_scores

    acc = sysgen_cells(control=(0.95, 0.40), own=(0.05, 0.55))
    scores, notes = sysgen_scores(acc, {"simple": 0.001}, "simple", ["jump", "length"])
    assert scores["combination_dependence/jump"] == pytest.approx(0.90)
    assert scores["combination_dependence/length"] == pytest.approx(-0.15)
    assert scores["sysgen_acc/jump"] == 0.01 and scores["sysgen_acc/length"] == 0.12
    assert scores["iid_acc"] == 0.99 and not notes


def test_combination_dependence_is_null_when_the_iid_task_was_not_learned():
    from modbench.scores import sysgen_scores

    acc = sysgen_cells(control=(0.2, 0.1), own=(0.0, 0.0), iid_control=0.3)
    scores, notes = sysgen_scores(acc, {"simple": 0.001}, "simple", ["jump", "length"])
    assert scores["combination_dependence/jump"] is None
    assert "did not learn" in notes["combination_dependence/jump"]
    assert scores["sysgen_acc/jump"] == 0.01  # measured whatever the IID network did


def test_output_row_removal_counts_per_token_what_the_split_mask_drops():
    import torch

    from modbench.analysis import output_row_removal
    from modbench.masking import MaskSet

    control = MaskSet({"out": torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [0, 0, 0, 0]], dtype=torch.bool)})
    split = MaskSet({"out": torch.tensor([[1, 0, 1, 0], [1, 1, 1, 1], [1, 1, 1, 1]], dtype=torch.bool)})
    removal = output_row_removal(control, split, "out", ["EOS", "A", "B"])
    assert removal == {"EOS": 0.5, "A": 0.0, "B": None}
