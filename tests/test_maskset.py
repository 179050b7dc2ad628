import pytest
import torch

from modbench.errors import ModbenchError
from modbench.masking import MaskSet
from modbench.masking.maskset import load_masks, save_masks


def bools(*values):
    return torch.tensor(values, dtype=torch.bool)


A = MaskSet({"w1": bools(1, 1, 0, 0), "w2": bools(1, 0)})
B = MaskSet({"w1": bools(1, 0, 1, 0), "w3": bools(0, 1)})


def test_algebra_on_hand_built_masks():
    assert (A & B).masks.keys() == {"w1"}
    assert (A & B).masks["w1"].tolist() == [True, False, False, False]
    union = A | B
    assert union.masks.keys() == {"w1", "w2", "w3"}
    assert union.masks["w1"].tolist() == [True, True, True, False]
    assert union.masks["w2"].tolist() == [True, False]  # only in A: kept
    assert union.masks["w3"].tolist() == [False, True]  # only in B: kept
    assert (~A).masks["w1"].tolist() == [False, False, True, True]
    assert (~~A).masks["w2"].tolist() == A.masks["w2"].tolist()


def test_density_and_overlap_statistics():
    assert A.density() == {"w1": 0.5, "w2": 0.5}
    assert A.total_density() == pytest.approx(3 / 6)
    # w1 only: |a∧b| = 1, |a∨b| = 3, |a| = 2, |b| = 2
    assert A.iou(B) == pytest.approx(1 / 3)
    assert A.iomin(B) == pytest.approx(1 / 2)
    assert A.shared_fraction(B) == pytest.approx(1 / 2)
    C = MaskSet({"w1": bools(1, 1, 1, 1)})
    assert A.iomin(C) == 1.0  # A's w1 is inside C's
    assert A.shared_fraction(C) == 1.0 and C.shared_fraction(A) == 0.5


def test_empty_overlap_is_none_not_a_number():
    empty = MaskSet({"w1": bools(0, 0, 0, 0)})
    assert empty.iou(empty) is None
    assert empty.iomin(A) is None


def test_with_layers_from_replaces_only_named_tensors():
    mixed = A.with_layers_from(MaskSet({"w2": bools(0, 1)}), ["w2"])
    assert mixed.masks["w1"].tolist() == A.masks["w1"].tolist()
    assert mixed.masks["w2"].tolist() == [False, True]


def test_non_bool_masks_are_rejected():
    with pytest.raises(TypeError):
        MaskSet({"w": torch.ones(3)})


def test_save_and_load_round_trip_without_pickle(tmp_path):
    path = tmp_path / "masks.safetensors"
    save_masks(path, {"control": A, "add": MaskSet({"w1": bools(0, 1, 0, 1)})})
    loaded = load_masks(path)
    assert loaded.keys() == {"control", "add"}
    for name, mask in A.masks.items():
        assert torch.equal(loaded["control"].masks[name], mask)
    assert not list(tmp_path.glob("*.tmp"))
    # the file is a safetensors file: an 8-byte little-endian header length, then JSON
    raw = path.read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    assert raw[8 : 8 + header_len].startswith(b"{")


def test_corrupted_mask_file_is_a_clear_error(tmp_path):
    path = tmp_path / "masks.safetensors"
    path.write_bytes(b"not a tensor file")
    with pytest.raises(ModbenchError, match="cannot read masks"):
        load_masks(path)


def test_binarize_counts_keep_probabilities_in_twenty_bins():
    from modbench.masking import binarize

    # σ: -5 → 0.007, -3 → 0.047 (bin 0); 0 → 0.5 (bin 10); 2 → 0.881 (bin 17); 5, 10 → ≈ 1 (bin 19)
    masks = binarize({"a": torch.tensor([-3.0, 0.0, 2.0, 10.0]), "b": torch.tensor([[5.0, -5.0]])})
    expected = [0] * 20
    expected[0], expected[10], expected[17], expected[19] = 2, 1, 1, 2
    assert list(masks.keep_probability_histogram) == expected
    assert masks.masks["a"].tolist() == [False, True, True, True]  # keep iff logit ≥ 0
    assert (~masks).keep_probability_histogram is None  # algebra makes no claim about logits
