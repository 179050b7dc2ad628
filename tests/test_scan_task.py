"""The `scan` task: encoding, sampling, loss, and a smoke-tier run of each sequence architecture
through the whole pipeline (train, masks per split, sysgen baselines, scores, result file)."""
import pytest
import torch

from modbench import harness, results
from modbench.data import OUTPUT_TOKENS
from modbench.masking.maskset import load_masks
from modbench.seq2seq import bucketed_loss, sequence_loss
from modbench.tasks import TASKS
from modbench.tasks.scan import FIRST_WORD, SRC_EOS, encode_pairs


@pytest.fixture(scope="module")
def task():
    return TASKS.get("scan")()


def test_encoding_appends_eos_to_the_command_and_pads_the_actions_with_eos():
    src, src_len, tgt, tgt_len = encode_pairs(["jump twice", "turn left"], ["I_JUMP I_JUMP", "I_TURN_LEFT"])
    assert src_len.tolist() == [3, 3] and tgt_len.tolist() == [2, 1]
    assert src[0, 2] == SRC_EOS and (src[0, 3:] == 0).all() and (src[0, :2] >= FIRST_WORD).all()
    assert src[0, 0] != src[0, 1]  # "jump" and "twice" differ
    jump = 1 + OUTPUT_TOKENS.index("I_JUMP")
    assert tgt[0, :3].tolist() == [jump, jump, 0] and (tgt[1, 1:] == 0).all()


def test_samples_come_from_the_named_split_sorted_by_length(task):
    g = torch.Generator().manual_seed(0)
    src, src_len, tgt, tgt_len = task.sample("jump", 512, g)
    assert (tgt_len[1:] >= tgt_len[:-1]).all()
    jump_word = FIRST_WORD + __import__("modbench.data", fromlist=["INPUT_WORDS"]).INPUT_WORDS.index("jump")
    has_jump = (src == jump_word).any(1)
    # addprim_jump train: "jump" only alone (one word + EOS), about 10% of lines.
    assert (src_len[has_jump] == 2).all() and 0.05 < has_jump.float().mean() < 0.15
    _, _, _, long_len = task.sample("length", 512, g)
    assert long_len.max() <= 22
    _, _, _, simple_len = task.sample(None, 2048, g)
    assert simple_len.max() > 22


def test_bucketed_loss_equals_the_whole_batch_loss(task):
    from modbench.archs import ARCHS, build_model

    spec = ARCHS.get("lstm_seq2seq")
    model = build_model(spec, task.contract, spec.sizes["smoke"], 0).eval()
    batch = task.sample(None, 200, torch.Generator().manual_seed(1))
    torch.testing.assert_close(bucketed_loss(model, batch, task.contract.sos),
                               sequence_loss(model, batch, task.contract.sos))


def test_chance_is_the_share_of_the_most_frequent_answer(task):
    # SCAN's test sets hold many distinct action sequences: the best constant answer is rare.
    for split in task.eval_sets:
        assert 0 < task.chance(split) < 0.05


def test_fingerprints_cover_every_split_used(task):
    fingerprints = task.fingerprints()
    assert set(fingerprints) == {"simple", "jump", "length", "turn_left"}
    assert len(set(fingerprints.values())) == 4


@pytest.fixture(scope="module", params=["lstm_seq2seq", "transformer_seq2seq"])
def smoke_result(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("scan")
    run = harness.prepare(harness.RunSpec(request.param, "scan", "smoke", 0))
    result = harness.run_and_save(run, out)
    return run, out, result


def test_smoke_run_of_each_architecture_writes_a_complete_result(smoke_result):
    run, out, result = smoke_result
    assert result["status"] == "ok", result["error"]
    folder = run.spec.folder(out)
    assert results.load(folder / "result.json")["run_id"] == run.run_id
    splits = ["jump", "length", "turn_left"]
    scores = result["scores"]
    for s in splits:
        for name in (f"sysgen_acc/{s}",):
            assert 0.0 <= scores[name] <= 1.0
        dependence = scores[f"combination_dependence/{s}"]
        if dependence is None:  # the smoke network did not learn the IID task: said why
            assert "did not learn" in result["score_notes"][f"combination_dependence/{s}"]
        else:
            assert dependence == pytest.approx(result["accuracy"]["control"][s] - result["accuracy"][s][s])
    assert set(result["accuracy"]["control"]) == {"simple", *splits}
    assert set(result["accuracy"]["sysgen"]) == set(splits)
    assert set(result["seeds"]["sysgen"]) == set(splits)
    # nulls for the mask scores only, from the same run; never for iid_acc or sysgen_acc
    assert set(result["nulls"]["scores"]) == {f"combination_dependence/{s}" for s in splits}
    assert all(len(draws) == 3 for draws in result["nulls"]["scores"].values())
    removal = result["details"]["output_token_removal"]
    assert set(removal) == set(splits)
    assert list(removal["jump"]) == ["EOS", *OUTPUT_TOKENS]
    assert {(p["a"], p["b"]) for p in result["sharing"]} == {("jump", "length"), ("jump", "turn_left"), ("length", "turn_left")}
    masks = load_masks(folder / "masks.safetensors")
    assert set(masks) == {"control", *splits}
    assert not any("embedding" in name for name in masks["control"].names)
    assert all(not name.endswith("bias") for name in masks["control"].names)


def test_output_token_removal_matches_the_saved_masks(smoke_result):
    run, out, result = smoke_result
    masks = load_masks(run.spec.folder(out) / "masks.safetensors")
    control, jump = masks["control"].masks["output.weight"], masks["jump"].masks["output.weight"]
    row = OUTPUT_TOKENS.index("I_JUMP") + 1
    kept = int(control[row].sum())
    expected = int((control[row] & ~jump[row]).sum()) / kept if kept else None
    assert result["details"]["output_token_removal"]["jump"]["I_JUMP"] == expected
