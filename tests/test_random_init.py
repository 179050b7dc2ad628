"""The random-init control (`modbench run --random-init`): the same run on the untrained network,
shown beside the trained runs' scores and never counted as one of their seeds."""
from pathlib import Path

import pytest

from modbench.archs import ARCHS, build_model
from modbench.cli import main
from modbench.errors import ModbenchError
from modbench.harness import RunSpec, prepare
from modbench.leaderboard.collect import collect
from modbench.leaderboard.render import markdown
from modbench.leaderboard.tables import build
from modbench import results


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("controls")
    common = ["run", "--arch", "fnn", "--task", "addmul", "--tier", "smoke", "--seeds", "0-1", "--quiet",
              "--workers", "1", "--device", "cpu"]
    assert main([*common, "--out", str(root / "trained")]) == 0
    assert main([*common, "--out", str(root / "random"), "--random-init"]) == 0
    return root


def test_the_control_masks_the_untrained_network(folders):
    result = results.load(folders / "random" / "addmul" / "fnn" / "smoke" / "seed0" / "result.json")
    assert result["config"]["train"]["steps"] == 0
    run = prepare(RunSpec("fnn", "addmul", "smoke", 0, (("train.steps", 0),), device="cpu"))
    untrained = build_model(ARCHS.get("fnn"), run.task.contract, run.budget.arch_size, result["seeds"]["init"]).eval()
    assert result["accuracy"]["full"] == {f: run.task.accuracy(untrained, f) for f in run.task.subfunctions}


def test_the_board_shows_the_control_beside_the_trained_seeds(folders):
    board = build(collect([folders / "trained", folders / "random"]))
    entry = board.collection.for_task("addmul")[0]
    assert sorted(entry.seeds) == [0, 1] and sorted(entry.random_init) == [0, 1]  # not pooled as seeds
    row = next(r for r in board.rows if r.score == "shared_iou")
    controls = [results.load(folders / "random" / "addmul" / "fnn" / "smoke" / f"seed{k}" / "result.json")["scores"]
                for k in (0, 1)]
    assert row.random_init_seeds == 2
    assert row.random_init == pytest.approx(sum(c["shared_iou"] for c in controls) / 2)
    lines = markdown(board, "modbench leaderboard").splitlines()
    header = next(line for line in lines if line.startswith("| score"))
    cells = [c.strip() for c in header.strip("|").split("|")]
    shown = next(line for line in lines if line.startswith("| shared_iou"))
    assert [c.strip() for c in shown.strip("|").split("|")][cells.index("random init")] == f"{row.random_init:.3f}"
    # P_specialize needs sub-functions the untrained network does not perform: undefined, said so
    assert all(c["p_specialize"] is None for c in controls)
    shown = next(line for line in lines if line.startswith("| p_specialize "))
    assert [c.strip() for c in shown.strip("|").split("|")][cells.index("random init")] == "not learned"


def test_training_steps_stay_positive_outside_the_control():
    with pytest.raises(ModbenchError, match="mask.steps"):
        prepare(RunSpec("fnn", "addmul", "smoke", 0, (("mask.steps", 0),)))


def test_a_task_that_trains_its_weights_with_its_masks_has_no_random_init_control():
    # transfer learns weights and masks jointly: train.steps=0 would leave nothing to compare
    with pytest.raises(ModbenchError, match="no random-init control"):
        prepare(RunSpec("fnn", "transfer", "smoke", 0, (("train.steps", 0),)))


def test_a_joint_training_task_is_counted_as_seeds_not_as_its_own_control():
    # transfer records 0 training steps in every run (its weights train in the mask stages);
    # read as controls, its results vanished from the board (its table was empty from acc1225 on)
    committed = Path(__file__).resolve().parents[1] / "baselines" / "transfer"
    entries = collect([committed]).for_task("transfer")
    assert entries and all(e.seeds and not e.random_init for e in entries)
