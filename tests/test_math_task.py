"""The math tasks: encoding, which data each stage sees, and a smoke-tier run through the
whole pipeline (train, control and easy-only masks, hard / interpolate / extrapolate accuracy)."""
import pytest
import torch

from modbench import harness, results
from modbench.archs import ARCHS
from modbench.data.math_generate import ALPHABET
from modbench.errors import ModbenchError
from modbench.tasks import TASKS
from modbench.tasks.dm_math import FIRST_CHAR, SRC_EOS, encode_pairs

SOURCE = "generated:300"  # 30 held out per difficulty: seconds, not minutes


@pytest.fixture(scope="module")
def task():
    return TASKS.get("math_add_or_sub")(source=SOURCE)


def test_every_module_is_a_registered_task():
    assert {"math_add_or_sub", "math_sort", "math_place_value", "math_linear_1d"} <= set(TASKS.names())
    assert TASKS.get("math_sort").module == "comparison__sort"


def test_encoding_closes_questions_with_eos_and_pads_answers_with_eos():
    src, src_len, tgt, tgt_len = encode_pairs(["What is 1 + 2?"], ["3"])
    assert src_len.tolist() == [15] and src[0, 14] == SRC_EOS and src[0, 15:].eq(0).all()
    assert src[0, 0] == FIRST_CHAR + ALPHABET.index("W")
    assert tgt_len.tolist() == [1] and tgt[0, 0] == 1 + ALPHABET.index("3") and tgt[0, 1:].eq(0).all()
    assert src.shape == (1, 161) and tgt.shape == (1, 31)


def test_a_character_outside_the_alphabet_is_named():
    with pytest.raises(ModbenchError, match="character 'é'"):
        encode_pairs(["Qu'est-ce que 1 + 1 ? é"], ["2"])


def test_the_hard_split_mask_sees_easy_questions_only(task):
    easy = set(map(tuple, task._data["train_easy"][0].tolist()))
    batch = task.sample("hard", 64, torch.Generator().manual_seed(0))
    assert all(tuple(row) in easy for row in batch[0].tolist())
    assert batch[1].tolist() == sorted(batch[1].tolist())  # sorted by question length
    full = task.sample(None, 256, torch.Generator().manual_seed(0))
    assert any(tuple(row) not in easy for row in full[0].tolist())  # medium and hard too


def test_evaluation_sets_and_chance(task):
    assert task.eval_sets == ("interpolate", "hard", "extrapolate")  # the paper's figure, and the scores
    assert TASKS.get("math_linear_1d").extrapolation_sets == ()  # the release has none for it
    assert 0 < task.chance("hard") < 0.2
    with pytest.raises(ModbenchError, match="no evaluation set 'train'"):
        task.accuracy(None, "train")


@pytest.fixture(scope="module", params=["transformer_seq2seq", "lstm_seq2seq"])
def smoke_result(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("math")
    run = harness.prepare(harness.RunSpec(request.param, "math_add_or_sub", "smoke", 0, source=SOURCE))
    return run, out, harness.run_and_save(run, out)


def test_smoke_run_writes_a_complete_result(smoke_result):
    run, out, result = smoke_result
    assert result["status"] == "ok", result["error"]
    assert results.load(run.spec.folder(out) / "result.json")["run_id"] == run.run_id
    accuracy = result["accuracy"]
    assert set(accuracy["full"]) == set(accuracy["control"]) == {"hard", "interpolate", "extrapolate"}
    assert set(accuracy["hard"]) == {"easy", "hard"}  # the easy-only mask
    assert accuracy["sysgen"] == {"extrapolate": accuracy["full"]["extrapolate"]}
    assert "sysgen" not in result["seeds"] and "sysgen" not in result["wall_time_s"]  # no extra trainings
    assert set(result["masks"]["density"]) == {"control", "hard"}
    for counts in result["masks"]["keep_probability_histogram"].values():  # every masked weight, once
        assert len(counts) == 20 and sum(counts) == result["architecture"]["n_masked"]
    assert result["task"]["source"] == SOURCE and set(result["task"]["fingerprints"]) == {"arithmetic__add_or_sub"}
    if run.spec.arch == "transformer_seq2seq":  # the task's own smoke size
        assert result["config"]["arch_size"]["d_model"] == 16
    else:  # the LSTM keeps the architecture's smoke size
        assert result["config"]["arch_size"] == ARCHS.get("lstm_seq2seq").sizes["smoke"]
    scores = result["scores"]
    assert scores["iid_acc"] == accuracy["full"]["interpolate"]
    assert scores["sysgen_acc/extrapolate"] == accuracy["full"]["extrapolate"]
    if scores["combination_dependence/hard"] is None:  # the smoke network learns nothing: said why
        assert "did not learn" in result["score_notes"]["combination_dependence/hard"]


def test_paper_tier_takes_the_papers_sizes(task):
    budget = task.budget("paper", "transformer_seq2seq")
    size = ARCHS.get("transformer_seq2seq").size(task.size_group, "paper")  # sizes belong to the architecture
    assert size == {"d_model": 512, "heads": 8, "ff": 2048, "layers": 6, "dropout": 0.1}
    assert ARCHS.get("lstm_seq2seq").size(task.size_group, "paper") == {"hidden": 200}  # its own, not the Transformer's
    assert (budget.train.steps, budget.train.lr, budget.train.grad_clip) == (30_000, 1e-4, 0.1)
    assert (budget.mask.steps, budget.mask.beta, budget.mask.lr, budget.mask.n_samples) == (30_000, 2e-5, 0.03, 8)


def test_quick_tier_masks_take_the_converging_schedule_and_the_paper_tier_keeps_the_papers(task):
    quick, paper = task.budget("quick", "lstm_seq2seq").mask, task.budget("paper", "lstm_seq2seq").mask
    # add_or_sub's steps: the most that fit its 20-minute run at v3 (tasks/dm_math.py, QUICK_MASK_STEPS)
    assert (quick.steps, quick.lr, quick.lr_schedule, quick.beta) == (1_500, 0.1, "cosine", paper.beta)
    assert (paper.lr, paper.lr_schedule) == (0.03, "constant")
    # a change that moves scores bumps the version (v1 masked at the paper rate; v2 trained whole batches)
    assert task.version == 3


def test_quick_and_smoke_training_shard_each_batch_in_two_and_the_paper_tier_does_not(task):
    """Two parts, so a run's 2 processes share the training (modbench.shards); the paper tier
    keeps whole batches (it runs on a GPU, one process)."""
    assert task.budget("quick", "lstm_seq2seq").train.shards == 2
    assert task.budget("smoke", "transformer_seq2seq").train.shards == 2
    assert task.budget("paper", "lstm_seq2seq").train.shards == 1
