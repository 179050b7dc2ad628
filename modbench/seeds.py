"""A run's random streams, all derived from its seed: no global random state anywhere."""
from __future__ import annotations

import numpy as np

NULL_STREAM = 1_000_000  # the SeedSequence child that seeds a run's null masks


def derive_seeds(seed: int, stages: list[str], extra_trainings: list[str] = ()) -> dict:
    """Every random stream of a run, derived from the run seed alone (SeedSequence.spawn;
    child i does not depend on how many are spawned, so adding streams moves no old one)."""
    n = len(stages)
    children = np.random.SeedSequence(seed).spawn(2 + n + 2 * len(extra_trainings))
    as_int = [int(c.generate_state(1, np.uint64)[0] >> 1) for c in children]
    # the random masks of the scores' nulls (modbench.nulls): child NULL_STREAM, far past any
    # counted child, so it moves with neither the stages nor the extra trainings
    null = np.random.SeedSequence(seed, spawn_key=(NULL_STREAM,))
    seeds = {
        "run": seed,
        "init": as_int[0],
        "train_order": as_int[1],
        "mask": dict(zip(stages, as_int[2 : 2 + n])),
        "null": int(null.generate_state(1, np.uint64)[0] >> 1),
    }
    if extra_trainings:  # networks trained on one split each (sysgen tasks)
        rest = as_int[2 + n :]
        seeds["sysgen"] = {
            s: {"init": rest[2 * i], "train_order": rest[2 * i + 1]} for i, s in enumerate(extra_trainings)
        }
    return seeds
