"""Nulls: random masks with the learned masks' per-tensor counts, and the scores they give."""
import pytest
import torch

from modbench.masking import MaskSet
from modbench.nulls import null_mean, null_scores


def mask_of(values) -> MaskSet:
    return MaskSet({"w": torch.tensor(values, dtype=torch.bool)})


def test_a_random_mask_keeps_every_tensors_count_and_copies_kept_tensors():
    learned = MaskSet({"a": torch.arange(1000).reshape(10, 100) < 300, "b": torch.ones(4, dtype=torch.bool).logical_not()})
    drawn = learned.random_like(torch.Generator().manual_seed(0), keep=["b"])
    assert drawn.kept() == learned.kept() and drawn.masks["a"].shape == (10, 100)
    assert not torch.equal(drawn.masks["a"], learned.masks["a"])  # the first 300 are not the ones drawn
    assert drawn.masks["b"] is learned.masks["b"]


def test_the_null_of_the_iou_of_two_independent_masks_is_p_over_2_minus_p():
    n = 200_000
    stages = {"control": mask_of([True] * n), "a": mask_of([True] * (n // 2) + [False] * (n // 2)),
              "b": mask_of([False] * (n // 2) + [True] * (n // 2))}  # learned: disjoint, IoU 0
    seen = []

    def iou(masks):
        seen.append(masks["control"])
        return {"shared_iou": masks["a"].iou(masks["b"]), "iid_acc": 1.0}

    nulls = null_scores(iou, stages, seed=3)
    # two random halves: E|a ∧ b| = n/4, |a ∨ b| = 3n/4, so IoU ≈ 1/3 (sd ≈ 0.001 at this n)
    assert nulls["draws"] == 3 and len(nulls["scores"]["shared_iou"]) == 3
    assert all(v == pytest.approx(1 / 3, abs=0.01) for v in nulls["scores"]["shared_iou"])
    assert null_mean(nulls, "shared_iou") == pytest.approx(1 / 3, abs=0.01)
    assert "iid_acc" not in nulls["scores"]  # the unmasked network's accuracy has no null
    assert all(c is stages["control"] for c in seen)  # the reference mask stays the learned one
    assert null_scores(iou, stages, seed=3) == nulls  # the run's seed fixes the draws


def test_a_score_without_null_draws_has_no_null_mean():
    assert null_mean(None, "p_reuse") is None
    assert null_mean({"scores": {"p_reuse": [None, None]}}, "p_reuse") is None
