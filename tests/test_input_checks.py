"""Input is checked before any work: --set values typed and in range, seeds bounded, names once."""
import pytest

from modbench import harness
from modbench.cli import parse_seeds, unique_names
from modbench.errors import ModbenchError


@pytest.mark.parametrize("key, value, words", [
    ("train.steps", "abc", 'train.steps="abc": expected an integer'),  # was a 20-line traceback
    ("train.steps", -5, "--set train.steps=-5: out of range; allowed 0 to"),  # was an "ok" result
    ("train.batch_size", 0, "--set train.batch_size=0: out of range"),  # was "lower the learning rate"
    ("mask.beta", "2e-5'", "expected a number"),  # a stray quote made beta a string, failing mid-run
    ("train.steps", 3.5, "expected an integer"),
    ("mask_filter.mask_biases", 1, "expected true or false"),
    ("train.lr_decay_at", [10, -1], "expected a list of non-negative integers"),
])
def test_a_bad_override_value_is_one_line_naming_key_value_and_what_is_allowed(key, value, words):
    with pytest.raises(ModbenchError) as raised:
        harness.prepare(harness.RunSpec("fnn", "addmul", "smoke", 0, ((key, value),)))
    assert words in str(raised.value) and "\n" not in str(raised.value)


def test_good_override_values_are_taken_in_the_fields_type():
    run = harness.prepare(harness.RunSpec("fnn", "addmul", "smoke", 0, (("mask.lr", 1), ("train.lr_decay_at", [20]))))
    assert run.budget.mask.lr == 1.0 and isinstance(run.budget.mask.lr, float)
    assert run.budget.train.lr_decay_at == (20,)


def test_a_huge_seed_range_is_refused_before_it_is_built():
    with pytest.raises(ModbenchError, match="too large; at most 1000 seeds"):
        parse_seeds("0-100000000")  # used to hang building the list
    assert parse_seeds("3-5,9") == [3, 4, 5, 9]


def test_a_repeated_name_runs_once():
    assert unique_names("addmul,addmul, double_add,addmul") == ["addmul", "double_add"]
