"""Where a grid's runs execute: here, one after another (`local`), or as a submitit job array
(`submitit`: Slurm, or submitit's own local executor). Both execute the same prepared runs
through `harness.run_and_save`, so result files and resume rules are the same: finished runs
are skipped before anything is submitted, and every job writes its result atomically.

CPU results depend on the intra-op thread count (modbench/workers.py), so a job computes with
`threads` threads, by default the submitting process's count: a grid gives the numbers of a
local run whatever machine runs the jobs.
"""
from __future__ import annotations

import dataclasses
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


def gpu_placements(device: str, runs: int) -> list[str]:
    """The devices a local grid deals its runs over: every visible GPU for "cuda" (or "auto" on a
    machine with GPUs) when there are several runs and GPUs, else the one device named."""
    import torch

    if device not in ("auto", "cuda") or runs < 2 or not torch.cuda.is_available() or torch.cuda.device_count() < 2:
        return [device]
    return [f"cuda:{i}" for i in range(min(torch.cuda.device_count(), runs))]


def deal(runs: Sequence[Prepared], placements: Sequence[str]) -> list[list[RunSpec]]:
    """Round-robin: run i on placements[i % n], each placement's runs in grid order."""
    return [[dataclasses.replace(r.spec, device=d) for r in runs[i :: len(placements)]]
            for i, d in enumerate(placements)]


def run_jobs(specs: Sequence[RunSpec], out: str, submissions: list[str], threads: int) -> list[dict]:
    """One GPU's share of a local grid, in a process of its own: its runs one after another."""
    return [run_job(spec, out, submissions, threads) for spec in specs]


def local(runs: Sequence[Prepared], out: Path, show_progress: bool = True, **_) -> dict[str, dict]:
    """Each run in this process, with a progress bar; returns run id → result. With several GPUs
    and `--device cuda` (or auto), one process per GPU runs its round-robin share."""
    placements = gpu_placements(runs[0].spec.device, len(runs)) if runs else []
    if len(placements) > 1:
        return _on_several_gpus(runs, out, placements)
    done = {}
    for run in runs:
        label = f"{run.spec.task}/{run.spec.arch}/{run.spec.tier} seed {run.spec.seed}"
        with tqdm(total=run.total_steps, desc=label, disable=not show_progress,
                  file=sys.stderr, unit="step", leave=False) as bar:
            done[run.run_id] = run_and_save(run, out, lambda phase, n: (
                bar.set_postfix_str(phase, refresh=False), bar.update(n)))
        _report(label, done[run.run_id])
    return done


def _on_several_gpus(runs: Sequence[Prepared], out: Path, placements: list[str]) -> dict[str, dict]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import torch

    from modbench.submission import loaded_paths

    shares = deal(runs, placements)
    print(f"{len(runs)} run(s) over {len(placements)} GPUs ({', '.join(placements)})", file=sys.stderr)
    with ProcessPoolExecutor(len(shares), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(run_jobs, share, str(out), loaded_paths(), torch.get_num_threads()) for share in shares]
        finished = [result for future in futures for result in future.result()]
    done = {}
    for result in finished:
        done[result["run_id"]] = result
        _report(f"{result['task']['name']}/{result['architecture']['name']}/{result['tier']} seed "
                f"{result['seeds']['run']} on {result['environment']['device']}", result)
    return done


def check_gpus(gpus: int, device: str) -> None:
    """A job array's --gpus and --device must agree: a run uses one GPU, and a job given one
    computes on it."""
    if gpus > 1:
        raise ModbenchError(f"--gpus {gpus}: a run computes on one GPU; pass --gpus 1 (a grid spreads over jobs)")
    if gpus == 1 and device == "cpu":
        raise ModbenchError("--gpus 1 with --device cpu requests a GPU that no run uses; pass --device auto or cuda")
    if device.startswith("cuda:") and device != "cuda:0":
        raise ModbenchError(f"--device {device}: each job sees only its own GPU, as cuda:0; pass --device cuda")
    if gpus == 0 and device.startswith("cuda"):
        raise ModbenchError(f"--device {device} with --gpus 0: the jobs would have no GPU; pass --gpus 1")


def submitit_array(runs: Sequence[Prepared], out: Path, cluster: ClusterOptions | None = None, **_) -> dict[str, dict]:
    """Every run as one task of a submitit job array; waits for all; returns run id → result."""
    try:
        import submitit
    except ImportError:
        raise ModbenchError("--executor submitit needs the submitit package: pip install 'modbench[cluster]'") from None
    import torch

    from modbench.submission import loaded_paths

    options = cluster or ClusterOptions()
    check_gpus(options.gpus, runs[0].spec.device if runs else "auto")
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
