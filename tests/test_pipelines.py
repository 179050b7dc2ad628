"""Run seeds and the pipeline registry (modbench.harness, modbench.pipelines)."""
from modbench.seeds import derive_seeds
from modbench.pipelines import PIPELINES
from modbench.tasks import TASKS


def test_extra_trainings_add_seed_streams_without_moving_the_others():  # the null stream included
    stages = ["control", "jump", "length"]
    plain = derive_seeds(7, stages)
    extended = derive_seeds(7, stages, ["jump", "length"])
    assert {k: extended[k] for k in plain} == plain
    streams = [extended["init"], extended["train_order"], extended["null"], *extended["mask"].values()]
    streams += [v for split in extended["sysgen"].values() for v in split.values()]
    assert len(set(streams)) == len(streams)  # every stream distinct
    assert derive_seeds(8, stages, ["jump"])["sysgen"] != extended["sysgen"]


def test_every_task_kind_has_a_pipeline():
    for name in TASKS:
        assert TASKS.get(name).kind in PIPELINES
