"""A pool of worker processes for the independent parts of one run (mask stages, trainings).

Some stages of a run share nothing: SCAN's three networks trained on one split each do not need
the main network or its masks. With `workers > 1` they run in `workers - 1` spawned processes
while the main process does the critical path (train → masks → evaluation).

Every process of a pooled run computes with one intra-op thread. CPU kernels' results depend on
the thread count (measured: an LSTM's weights differ by 2e-2 after 20 steps at 1 vs 2 threads),
so a pooled run gives exactly the numbers of `workers=1` under `torch.set_num_threads(1)`, for
any worker count. Two 1-thread processes also beat one 2-thread process on 2 cores (measured:
Transformer step 93 ms alone at 1 thread, 91-97 ms each side by side, 79 ms at 2 threads).
"""
from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing.reduction import ForkingPickler
from typing import Any, Callable, Iterator

import torch

from modbench.errors import ModbenchError


def available_cpus() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_workers(workers: int) -> int:
    if workers < 1:
        raise ModbenchError(f"--workers must be at least 1, got {workers}; 1 runs every stage in this process")
    return workers


class _Deferred:
    """A stage that runs in the calling process when its result is asked for (workers=1): the
    order of work is then exactly that of a plain sequential run."""

    def __init__(self, fn: Callable[..., Any], args: tuple) -> None:
        self._fn, self._args, self._done, self._value = fn, args, False, None

    def result(self) -> Any:
        if not self._done:
            self._value, self._done = self._fn(*self._args), True
        return self._value


class WorkerPool:
    """`submit(fn, *args)` returns something with `.result()`; `in_process` says whether the
    stages run here (and so may report progress through callbacks) or in other processes."""

    def __init__(self, executor: ProcessPoolExecutor | None = None, workers: int = 1) -> None:
        self._executor = executor
        self.in_process = executor is None
        self.workers = workers  # processes that do stages, this one included

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self._executor is None:
            return _Deferred(fn, args)
        # Pickled here and now: the executor would pickle in a feeder thread, later, while this
        # process may already run the same module with masked tensors swapped in (a math run
        # failed so: "Cowardly refusing to serialize non-leaf tensor").
        return self._executor.submit(_call_pickled, bytes(ForkingPickler.dumps((fn, args))))


def _call_pickled(payload: bytes) -> Any:
    fn, args = pickle.loads(payload)
    return fn(*args)


def _init_worker(submissions: list[str]) -> None:
    """One thread, and the parent's submitted architectures: their classes pickle by a module
    name that only exists where the submission file was loaded."""
    from modbench.submission import load_submission

    torch.set_num_threads(1)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    for path in submissions:
        load_submission(path)


def _exit_with_parent(parent: int, every_s: float = 1.0) -> None:
    """End this worker once its parent is gone. A parent killed by a signal (SIGTERM from a queue
    runner, SIGKILL) runs no clean-up, and its orphaned worker went on computing a stage nobody
    would collect, beside the next run on a 2-core CPU (seen: 40 % of a core for 4 minutes)."""
    while os.getppid() == parent:
        time.sleep(every_s)
    os._exit(1)


@contextmanager
def worker_pool(workers: int) -> Iterator[WorkerPool]:
    """A pool of `workers - 1` processes beside this one (none for workers=1).

    `fn` and its arguments must pickle (module-level functions; spawned processes, since forking
    a process whose OpenMP pool has run can hang). The main process runs with one thread while the
    pool is open and gets its thread count back afterwards.
    """
    if check_workers(workers) == 1:
        yield WorkerPool()
        return
    from modbench.submission import loaded_paths

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        executor = ProcessPoolExecutor(workers - 1, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_init_worker, initargs=(loaded_paths(),))
        try:
            yield WorkerPool(executor, workers)
        except BaseException:  # a timed-out or interrupted run: its stages in the workers stop too
            for process in list(getattr(executor, "_processes", {}).values()):
                process.terminate()
            executor.shutdown(wait=False, cancel_futures=True)
            raise
        executor.shutdown(wait=True)
    finally:
        torch.set_num_threads(before)

