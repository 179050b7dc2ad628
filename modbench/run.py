"""A grid of runs, executed locally or on a cluster, and the paper-style tables at the end."""
from __future__ import annotations

import sys
from itertools import product
from pathlib import Path
from typing import Any, Sequence

from modbench import devices, report
from modbench.errors import ModbenchError
from modbench.executors import EXECUTORS, ClusterOptions
from modbench.harness import RunSpec, finished_result, prepare
from modbench.pipelines import PIPELINES


def run_grid(
    archs: Sequence[str],
    tasks: Sequence[str],
    tier: str,
    seeds: Sequence[int],
    out: Path,
    overrides: tuple[tuple[str, Any], ...] = (),
    show_progress: bool = True,
    source: str = "generated",
    workers: int = 1,
    executor: str = "local",
    cluster: ClusterOptions | None = None,
    device: str = "auto",
    timeout_min: float | None = None,
    network_cache: Path | None = None,
) -> int:
    """Run every (arch, task, seed) not finished yet under `out`; print a table per (arch, task).
    Returns the exit status: 0 if every run finished, 1 if any failed (the others still ran).
    `device` (modbench.devices) is resolved where each run computes: here for the local executor,
    on the job's machine for submitit."""
    if executor not in EXECUTORS:
        raise ModbenchError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
    if executor == "local":
        devices.resolve(device)  # an unavailable device is refused before any work
    if timeout_min is not None and not 0 < timeout_min <= 10_000:
        raise ModbenchError(f"--timeout-min {timeout_min:g}: expected minutes in (0, 10000]")
    cache = None if network_cache is None else str(Path(network_cache).resolve())
    prepared = [prepare(RunSpec(a, t, tier, s, overrides, source, workers, device, timeout_min, cache))
                for a, t, s in product(archs, tasks, seeds)]
    # a conflicting old result is refused here, before any work
    results = {run.run_id: finished_result(run, out) for run in prepared}
    for run in prepared:
        if results[run.run_id] is not None:
            print(f"{run.spec.task}/{run.spec.arch}/{tier} seed {run.spec.seed}: skipped (already finished)",
                  file=sys.stderr)
    todo = [run for run in prepared if results[run.run_id] is None]
    if todo:
        results.update(EXECUTORS[executor](todo, out, show_progress=show_progress, cluster=cluster))
    for arch, task in product(archs, tasks):
        group = [run for run in prepared if run.spec.arch == arch and run.spec.task == task]
        finished = [results[run.run_id] for run in group]
        print(f"\n{task} / {arch} / {tier}, seeds {', '.join(str(r.spec.seed) for r in group)}")
        ok = [r for r in finished if r["status"] == "ok"]
        print(PIPELINES.get(ok[0]["task"]["kind"]).table(finished) if ok else report.NO_RUNS)
        print()
        print(report.score_table(finished))
        convergence = report.convergence_table(finished)
        if convergence:
            print()
            print(convergence)
    return 1 if any(r["status"] != "ok" for r in results.values()) else 0
