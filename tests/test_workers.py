"""Independent stages in worker processes (SCAN's per-split trainings, math's and class
removal's mask stages): the same numbers as one process at one thread."""
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from modbench import harness
from modbench.errors import ModbenchError
from modbench.masking.maskset import load_masks
from modbench.workers import check_workers, worker_pool


def _one_thread_run(spec: harness.RunSpec, out):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return harness.run_and_save(harness.prepare(spec), out)
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("arch, task, source, stages", [
    ("lstm_seq2seq", "scan", "generated", {"control", "jump", "length", "turn_left"}),  # trainings farmed
    ("transformer_seq2seq", "math_sort", "generated:300", {"control", "hard"}),  # mask stages farmed
    # control first, then the class masks dealt over both processes; training inside the pool too
    ("cnn", "class_removal", "generated:1000", {"control", *(f"without_{c}" for c in range(10))}),
])
def test_a_pooled_run_equals_the_single_process_run_at_one_thread(tmp_path, arch, task, source, stages):
    single = harness.RunSpec(arch, task, "smoke", 3, source=source)
    pooled = harness.RunSpec(arch, task, "smoke", 3, source=source, workers=2)
    threads = torch.get_num_threads()
    expected = _one_thread_run(single, tmp_path / "single")
    got = harness.run_and_save(harness.prepare(pooled), tmp_path / "pooled")
    assert torch.get_num_threads() == threads  # the pool gave the thread count back
    assert got["status"] == "ok", got["error"]
    assert got["run_id"] == expected["run_id"]  # workers are not part of the run's identity
    assert got["accuracy"] == expected["accuracy"]
    assert got["scores"] == expected["scores"]
    assert got["masks"]["sha256"] == expected["masks"]["sha256"]
    assert got["environment"]["workers"] == 2 and got["environment"]["threads"] == 1
    masks = load_masks(pooled.folder(tmp_path / "pooled") / "masks.safetensors")
    assert set(masks) == stages


def test_a_stage_gets_its_arguments_as_they_were_when_submitted():
    """Arguments are pickled at submit time, not later in a feeder thread while the caller
    already changes them (a math run once shipped a module mid-forward, with masked tensors
    swapped in for its parameters)."""
    with worker_pool(2) as pool:
        stages = []
        for _ in range(20):
            box = [1, 2]
            stages.append(pool.submit(sum, box))
            box.append(100)  # what the caller does next must not reach the stage
        assert [s.result() for s in stages] == [3] * 20


_PARENT = """
import os, time
from modbench.workers import worker_pool
with worker_pool(2) as pool:
    print(pool.submit(os.getpid).result(), flush=True)
    time.sleep(600)
"""


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for a reaper (an orphan's new parent may never reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads process states from Linux's /proc")
def test_a_worker_ends_when_its_parent_is_killed():
    """A parent killed by a signal runs no clean-up; its worker must not go on computing."""
    parent = subprocess.Popen([sys.executable, "-c", _PARENT], stdout=subprocess.PIPE, text=True)
    try:
        worker = int(parent.stdout.readline())
        assert worker != parent.pid and _alive(worker)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10  # the watchdog looks once a second
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(worker), "the worker outlived its killed parent"
    finally:
        parent.kill()
        if "worker" in locals() and _alive(worker):  # never leave a failed run's orphan computing
            os.kill(worker, signal.SIGKILL)


def test_in_process_stages_run_when_their_result_is_asked_for():
    calls = []
    with worker_pool(1) as pool:
        assert pool.in_process
        stage = pool.submit(calls.append, "ran")
        assert calls == []
        stage.result(), stage.result()
    assert calls == ["ran"]  # once


def test_workers_below_one_are_refused_with_the_fix():
    with pytest.raises(ModbenchError, match="--workers must be at least 1, got 0"):
        check_workers(0)


def test_dropout_in_training_does_not_depend_on_the_global_generator():
    from modbench.pipelines.common import train_network

    run = harness.prepare(harness.RunSpec("cnn", "class_removal", "smoke", 0, source="generated:1000"))
    assert run.config["arch_size"].get("dropout", True)  # the smoke CNN trains with dropout
    weights = []
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)
        model = train_network(run, None, 5, 6, None)
        weights.append({n: p.clone() for n, p in model.named_parameters()})
        assert torch.initial_seed() == global_seed  # the caller's generator is given back
    assert all(torch.equal(weights[0][n], weights[1][n]) for n in weights[0])
