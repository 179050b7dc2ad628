"""A new task kind touches only its own module and its registrations (issue 23): this file is
that module. It declares a task, its kind's pipeline and table, and the kind's one score; a run
of it is validated, tabled and put on the leaderboard without any other file knowing the kind."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from modbench import harness, results
from modbench.config import MaskConfig, MaskFilter, TierBudget, TrainConfig
from modbench.contracts import VectorIO
from modbench.data.seeding import data_rng, fingerprint
from modbench.gating import ConvergenceCriterion
from modbench.leaderboard.collect import collect
from modbench.leaderboard.tables import build
from modbench.pipelines import PIPELINES, Phases, RunOutput, registers
from modbench.pipelines.common import train_and_mask
from modbench.score_specs import SCORES, ScoreSpec
from modbench.tasks import TASKS, Task


class SignTask(Task):
    """Is the first input positive? One sub-function, scored by its mask's accuracy."""

    name, version, kind, description = "toy_sign", 1, "toy", "a toy kind's task"
    subfunctions = ("sign",)
    contract = VectorIO(n_in=4, n_heads=1, n_classes=2)
    convergence = ConvergenceCriterion(max_undecided=1.0, min_late_iou=0.0, max_control_drop=1.0)  # smoke masks

    def __init__(self, source: str = "generated") -> None:
        super().__init__(source)
        self.x = torch.from_numpy(data_rng(self.name, self.version, "all").standard_normal((256, 4), dtype=np.float32))
        self.y = (self.x[:, 0] > 0).long()

    def budget(self, tier, arch):
        return TierBudget(TrainConfig(steps=30, batch_size=32), MaskConfig(steps=10, batch_size=32), MaskFilter())

    def fingerprints(self):
        return {"all": fingerprint(self.x.numpy())}

    def sample(self, sub, batch_size, generator):
        pick = torch.randint(len(self.x), (batch_size,), generator=generator)
        return self.x[pick], self.y[pick]

    def loss(self, forward, batch, sub):
        return F.cross_entropy(forward(batch[0]), batch[1])

    def accuracy(self, forward, sub):
        return float((forward(self.x).argmax(-1) == self.y).float().mean())

    def chance(self, sub):
        return float(self.y.float().mean().clamp(min=0.5))


def toy_table(runs):
    return f"{len(runs)} toy run(s)"


def toy_pipeline(run, seeds, tick):
    phases = Phases()
    net, io_names, stages = train_and_mask(run, seeds, tick, phases)
    accuracy = {s: {"sign": run.task.accuracy(net.frozen.forward_with(m), "sign")}
                for s, m in {"full": None, **stages}.items()}  # "full": the unmasked network, for the gate
    return RunOutput(stages, {"sign_accuracy": accuracy["sign"]["sign"]}, {}, {"sign": run.task.chance("sign")},
                     accuracy, None, [], {}, None, net.n_params, net.n_masked, phases.seconds)


@pytest.fixture
def toy_kind(monkeypatch):
    """The three registrations a new kind adds; undone after the test, so no other test sees it."""
    for registry in (TASKS, PIPELINES, SCORES):
        monkeypatch.setattr(registry, "_entries", dict(registry._entries))
    TASKS.register("toy_sign", SignTask)
    registers("toy", table=toy_table)(toy_pipeline)
    SCORES.register("toy", (ScoreSpec("sign_accuracy", "accuracy of the sign mask"),))


def test_a_new_kind_runs_validates_and_reaches_the_leaderboard(tmp_path, toy_kind):
    for seed in range(5):
        result = harness.run_and_save(harness.prepare(harness.RunSpec("fnn", "toy_sign", "smoke", seed, device="cpu")),
                                      tmp_path)
        assert result["status"] == "ok", result["error"]
    loaded = results.load(tmp_path / "toy_sign/fnn/smoke/seed0/result.json")
    assert 0.0 <= loaded["scores"]["sign_accuracy"] <= 1.0
    assert PIPELINES.get("toy").table([loaded]) == "1 toy run(s)"
    board = build(collect([tmp_path]))
    row = next(r for r in board.rows if r.task == "toy_sign")
    assert (row.score, row.n_seeds, row.ranked) == ("sign_accuracy", 5, True)
