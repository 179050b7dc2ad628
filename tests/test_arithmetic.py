"""Data generators of the arithmetic tasks: encoding, answers, determinism, fingerprints."""
import numpy as np
import torch

from modbench.tasks import TASKS
from modbench.tasks.arithmetic import BASE, N_DIGITS, number_digits, one_hot_number
from modbench.data.seeding import data_rng, fingerprint

ADDMUL = TASKS.get("addmul")()
DOUBLE = TASKS.get("double_add")()


def decode_number(one_hot: torch.Tensor) -> torch.Tensor:
    """Inverse of `one_hot_number` (tests read the encoding back with it): [batch, 20] -> [batch]."""
    digits = one_hot.view(-1, N_DIGITS, BASE).argmax(-1)
    return (digits * BASE ** torch.arange(N_DIGITS, device=digits.device)).sum(-1)


def test_digits_are_little_endian_and_round_trip():
    values = torch.arange(100)
    assert number_digits(torch.tensor([47])).tolist() == [[7, 4]]
    assert torch.equal(decode_number(one_hot_number(values)), values)
    assert one_hot_number(values).shape == (100, 20)


def test_addmul_encoding_and_answers_against_python_arithmetic():
    problems = ADDMUL._tensors["valid"][:500]
    x, y = ADDMUL.encode(problems)
    assert x.shape == (500, 42) and y.shape == (500, 2)
    assert torch.equal(decode_number(x[:, :20]), problems[:, 0])
    assert torch.equal(decode_number(x[:, 20:40]), problems[:, 1])
    assert torch.equal(x[:, 40:].argmax(1), problems[:, 2])
    for (a, b, op), digits in zip(problems.tolist(), y.tolist()):
        expected = (a + b if op == 0 else a * b) % 100
        assert digits == [expected % 10, expected // 10]


def test_double_add_encoding_and_answers():
    problems = DOUBLE._tensors["valid"][:300]
    x, y = DOUBLE.encode(problems)
    assert x.shape == (300, 80) and y.shape == (300, 4)
    for (a1, b1, a2, b2), digits in zip(problems.tolist(), y.tolist()):
        s1, s2 = (a1 + b1) % 100, (a2 + b2) % 100
        assert digits == [s1 % 10, s1 // 10, s2 % 10, s2 // 10]


def test_sizes_ranges_and_subsets():
    assert len(ADDMUL._problems["train"]) == 1_000_000 and len(ADDMUL._problems["valid"]) == 10_000
    train = ADDMUL._problems["train"]
    assert train[:, :2].min() == 0 and train[:, :2].max() == 99
    add_rows = ADDMUL._tensors["train"][ADDMUL._index["train", "add"]]
    assert (add_rows[:, 2] == 0).all() and 0.49 < len(add_rows) / len(train) < 0.51
    batch_x, _ = ADDMUL.sample("mul", 64, torch.Generator().manual_seed(0))
    assert (batch_x[:, 41] == 1).all()


def test_data_depend_on_task_identity_only():
    again = TASKS.get("addmul")()
    assert again.fingerprints() == ADDMUL.fingerprints()
    assert ADDMUL.fingerprints()["train"] != ADDMUL.fingerprints()["valid"]
    assert DOUBLE.fingerprints()["valid"] != ADDMUL.fingerprints()["valid"]
    # a version bump changes the data stream
    a = data_rng("addmul", 1, "train").integers(0, 100, 10)
    b = data_rng("addmul", 2, "train").integers(0, 100, 10)
    assert not np.array_equal(a, b)


def test_fingerprint_sees_dtype_and_shape():
    values = np.arange(6, dtype=np.int64)
    assert fingerprint(values) != fingerprint(values.reshape(2, 3))
    assert fingerprint(values) != fingerprint(values.astype(np.int32))


def test_double_add_runs_once_per_pair_with_the_other_pair_zeroed():
    seen = []

    def spy(x):
        seen.append(x.clone())
        return torch.zeros(len(x), 40)

    x, _ = DOUBLE.encode(DOUBLE._tensors["valid"][:8])
    out = DOUBLE.logits(spy, x, None)
    assert out.shape == (8, 4, 10)
    rows = torch.cat(seen)
    assert len(rows) == 16  # every problem once per pair
    first, second = rows[:8], rows[8:]
    assert (first[:, 40:] == 0).all() and torch.equal(first[:, :40], x[:, :40])
    assert (second[:, :40] == 0).all() and torch.equal(second[:, 40:], x[:, 40:])
    seen.clear()
    DOUBLE.logits(spy, x, "pair2")
    assert len(torch.cat(seen)) == 8 and (torch.cat(seen)[:, :40] == 0).all()


def test_double_add_reads_each_pairs_heads_from_its_own_run():
    def forward(x):  # head h of the run answers 10·(which pair is present) + h
        present = (x[:, 40:].sum(1) > 0).long()  # 0: pair 1's run, 1: pair 2's run
        logits = torch.zeros(len(x), 4, 10)
        for h in range(4):
            logits[torch.arange(len(x)), h, (present * 5 + h) % 10] = 1
        return logits.flatten(1)

    x, _ = DOUBLE.encode(DOUBLE._tensors["valid"][:4])
    pred = DOUBLE.logits(forward, x, None).argmax(-1)
    # pair 1's heads 0,1 from the pair-1 run (0+0, 0+1); pair 2's heads 2,3 from the pair-2 run
    assert pred.tolist() == [[0, 1, 7, 8]] * 4


def test_accuracy_of_an_oracle_is_one_and_chance_is_the_best_constant():
    def oracle(task, sub):
        def forward(x):
            # recover the problems from the one-hot input and answer them exactly
            cols = [decode_number(x[:, i : i + 20]) for i in range(0, task.contract.n_in - 2, 20)]
            if task.name == "addmul":
                a, b = cols
                result = torch.where(x[:, 40] == 1, a + b, a * b) % 100
                digits = number_digits(result)
            else:
                digits = torch.cat([number_digits((cols[0] + cols[1]) % 100),
                                    number_digits((cols[2] + cols[3]) % 100)], 1)
            return torch.nn.functional.one_hot(digits, 10).flatten(1).float()
        return forward

    for task in (ADDMUL, DOUBLE):
        for sub in task.subfunctions:
            assert task.accuracy(oracle(task, sub), sub) == 1.0
    # the most common product mod 100 is 0: far above 1 % chance
    assert 0.03 < ADDMUL.chance("mul") < 0.1
    assert 0.009 < ADDMUL.chance("add") < 0.02


def test_operation_confusion_of_a_network_that_always_adds():
    def always_add(x):  # [batch, 42] -> one-hot digits of a + b, whatever the operation flag
        a, b = decode_number(x[:, :20]), decode_number(x[:, 20:40])
        return torch.nn.functional.one_hot(number_digits((a + b) % 100), 10).flatten(1).float()

    (add_sum, add_product, add_neither), (mul_sum, mul_product, mul_neither) = ADDMUL.operation_confusion(always_add)
    valid = ADDMUL._tensors["valid"]
    mul = valid[valid[:, 2] == 1]
    coincide = int(((mul[:, 0] + mul[:, 1]) % 100 == (mul[:, 0] * mul[:, 1]) % 100).sum())  # both columns
    assert add_neither == mul_neither == 0.0
    assert mul_sum == len(mul) / (len(mul) + coincide) and mul_product == coincide / (len(mul) + coincide)
    assert add_sum > 0.98 and add_sum + add_product == 1.0
