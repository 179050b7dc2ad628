"""Where a grid's runs execute: here, one after another (`local`), or as a submitit job array
(`submitit`: Slurm, or submitit's own local executor). Both execute the same prepared runs
through `harness.run_and_save`, so result files and resume rules are the same: finished runs
are skipped before anything is submitted, and every job writes its result atomically.

CPU results depend on the intra-op thread count (modbench/stages.py), so a job computes with
`threads` threads, by default the submitting process's count: a grid gives the numbers of a
local run whatever machine runs the jobs.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from tqdm import tqdm

from modbench.errors import ModbenchError
from modbench.harness import Prepared, RunSpec, prepare, run_and_save


@dataclass(frozen=True)
class ClusterOptions:
    """submitit settings (README, "Grids on a cluster")."""

    cluster: str | None = None  # None: Slurm where available, else local processes; or "slurm", "local", "debug"
    folder: Path | None = None  # job logs and pickles; default OUT/.submitit
    partition: str | None = None
    time_min: int = 120
    gpus: int = 0
    threads: int | None = None  # CPUs per job and torch threads; default: this process's thread count
    mem_gb: int | None = None
    array_parallelism: int = 64


def run_job(spec: RunSpec, out: str, submissions: list[str], threads: int) -> dict:
    """The body of one cluster job: the same preparation and saving as a local run."""
    import torch

    from modbench.submission import load_submission

    torch.set_num_threads(threads)
    for path in submissions:
        load_submission(path)
    return run_and_save(prepare(spec), Path(out))


def local(runs: Sequence[Prepared], out: Path, show_progress: bool = True, **_) -> dict[str, dict]:
    """Each run in this process, with a progress bar; returns run id → result."""
    done = {}
    for run in runs:
        label = f"{run.spec.task}/{run.spec.arch}/{run.spec.tier} seed {run.spec.seed}"
        with tqdm(total=run.total_steps, desc=label, disable=not show_progress,
                  file=sys.stderr, unit="step", leave=False) as bar:
            done[run.run_id] = run_and_save(run, out, lambda phase, n: (
                bar.set_postfix_str(phase, refresh=False), bar.update(n)))
        _report(label, done[run.run_id])
    return done


def submitit_array(runs: Sequence[Prepared], out: Path, cluster: ClusterOptions | None = None, **_) -> dict[str, dict]:
    """Every run as one task of a submitit job array; waits for all; returns run id → result."""
    try:
        import submitit
    except ImportError:
        raise ModbenchError("--executor submitit needs the submitit package: pip install 'modbench[cluster]'") from None
    import torch

    from modbench.submission import loaded_paths

    options = cluster or ClusterOptions()
    threads = options.threads or torch.get_num_threads()
    executor = submitit.AutoExecutor(folder=str(options.folder or out / ".submitit"), cluster=options.cluster)
    parameters = {"timeout_min": options.time_min, "cpus_per_task": threads, "gpus_per_node": options.gpus,
                  "slurm_array_parallelism": options.array_parallelism}
    if options.partition:
        parameters["slurm_partition"] = options.partition
    if options.mem_gb:
        parameters["mem_gb"] = options.mem_gb
    executor.update_parameters(**parameters)
    jobs = executor.map_array(run_job, [r.spec for r in runs], [str(out)] * len(runs),
                              [loaded_paths()] * len(runs), [threads] * len(runs))
    print(f"submitted {len(jobs)} run(s) to {executor.cluster} (logs: {options.folder or out / '.submitit'})",
          file=sys.stderr)
    done = {}
    for run, job in zip(runs, jobs):
        label = f"{run.spec.task}/{run.spec.arch}/{run.spec.tier} seed {run.spec.seed}"
        try:
            done[run.run_id] = job.result()
        except Exception as err:  # the job died (time limit, memory): no result file was written
            done[run.run_id] = {"status": "failed", "error": f"job {job.job_id}: {type(err).__name__}: "
                                f"{str(err).strip().splitlines()[-1] if str(err).strip() else ''}"}
        _report(label, done[run.run_id])
    return done


def _report(label: str, result: dict) -> None:
    print(f"{label}: {result['status']}" + (f" — {result['error']}" if result["status"] == "failed" else ""),
          file=sys.stderr)


EXECUTORS: dict[str, Callable[..., dict[str, dict]]] = {"local": local, "submitit": submitit_array}
