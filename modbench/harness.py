"""One run (architecture × task × seed × tier) end to end, and a resumable grid of runs.

`run_one` is the pure core: it runs the task kind's pipeline (`modbench.pipelines`) and returns
the result dict and the mask sets. `run_and_save` and `run.run_grid` are the outer layer: paths,
resume, atomic writes, failures recorded and the grid going on.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import torch

from modbench import devices, provenance, results
from modbench.archs import ARCHS, ArchSpec
from modbench.deadline import deadline
from modbench.errors import ModbenchError, one_line
from modbench.gating import gate
from modbench.locks import run_lock
from modbench.masking import TRAINER_VERSION, MaskSet
from modbench.masking.maskset import save_masks
from modbench.methods import METHODS, REFERENCE
from modbench.overrides import apply_overrides
from modbench.pipelines import PIPELINES
from modbench.seeds import derive_seeds
from modbench.submission import is_submission_path, load_submission
from modbench.config import TierBudget
from modbench.tasks import TASKS, Task

MASKS_FILE = "masks.safetensors"


@dataclass(frozen=True)
class RunSpec:
    arch: str
    task: str
    tier: str
    seed: int
    # Dotted overrides of the tier's configuration, e.g. (("mask.beta", 2e-4),).
    overrides: tuple[tuple[str, Any], ...] = ()
    # Where the task's data come from: "generated" (default), or e.g. "dir:PATH", "hub" (SCAN).
    source: str = "generated"
    # Processes for a run's independent stages (modbench.workers); not part of the run's identity:
    # any count gives the numbers of workers=1 at one thread.
    workers: int = 1
    # Where it computes (modbench.devices): "auto" (a GPU where CUDA is available), "cpu",
    # "cuda", "cuda:N". Not part of the identity either: results record the device they ran on.
    device: str = "auto"
    # Minutes after which the run ends as failed with that reason (None: no limit); not identity.
    timeout_min: float | None = None
    # A folder of trained networks to reuse (modbench.network_cache; None: always train); not
    # identity either: a reused network is the one training would give.
    network_cache: str | None = None

    def folder(self, out: Path) -> Path:
        return out / self.task / self.arch / self.tier / f"seed{self.seed}"


@dataclass(frozen=True)
class Prepared:
    """A run spec with its task, architecture and fully resolved configuration."""

    spec: RunSpec
    task: Task
    arch: ArchSpec
    budget: TierBudget
    config: dict
    run_id: str

    @functools.cached_property
    def device(self) -> torch.device:
        """The device the run computes on, resolved where it runs (a cluster job's own GPU)."""
        return devices.resolve(self.spec.device)

    @property
    def workers(self) -> int:
        """Processes for the stages: on a GPU one, that owns the device (modbench.workers pools CPU work)."""
        return self.spec.workers if self.device.type == "cpu" else 1

    @property
    def total_steps(self) -> int:
        trainings = 1 + len(getattr(self.task, "sysgen_trainings", ()))
        return self.budget.train.steps * trainings + self.budget.mask.steps * self.task.mask_stages


@functools.lru_cache(maxsize=None)
def task_instance(name: str, source: str) -> Task:
    """One instance per task, source and process: its data depend on those alone, so every
    seed of a grid can share them (1M problems each for the arithmetic tasks)."""
    return TASKS.get(name)(source=source)


def prepare(spec: RunSpec) -> Prepared:
    """Look up the task and architecture (a built-in name or a submission's path, which is loaded
    and stands under its registered name from here on), check they fit, resolve the configuration."""
    if is_submission_path(spec.arch):
        spec = dataclasses.replace(spec, arch=load_submission(spec.arch).name)
    arch = ARCHS.get(spec.arch)
    task_cls = TASKS.get(spec.task)
    if not arch.supports(task_cls.contract):
        raise ModbenchError(
            f"architecture {spec.arch!r} does not fit task {spec.task!r} ({task_cls.contract.kind} "
            f"I/O); it supports {sorted(arch.factories)}; see `modbench ls archs`"
        )
    if not arch.fits(task_cls):
        why = (f"it is built for {', '.join(arch.tasks)}" if arch.tasks and task_cls.name not in arch.tasks
               else f"the task runs only {', '.join(task_cls.archs or ())}")
        raise ModbenchError(f"architecture {spec.arch!r} does not run task {spec.task!r}: {why}; "
                            "see `modbench ls archs`")
    task = task_instance(spec.task, spec.source).for_tier(spec.tier)
    budget = task.budget(spec.tier, spec.arch)
    if budget.arch_size is None:  # the architecture's own size for this tier (and the task's size group)
        budget = dataclasses.replace(budget, arch_size=arch.size(task.size_group, spec.tier))
    budget = apply_overrides(budget, spec.overrides)
    method, pipeline = METHODS.get(budget.mask.method), PIPELINES.get(task.kind)
    if method.name != REFERENCE and not pipeline.any_method:
        raise ModbenchError(f"task {spec.task!r} ({task.kind}) trains its masks with the reference method only; "
                            f"drop mask.method={method.name} or pick a task of another kind")
    if ("train.steps", 0) in spec.overrides and not pipeline.masks_frozen_network:
        raise ModbenchError(f"task {spec.task!r} trains its weights together with its masks, so it has no "
                            "random-init control; drop --random-init (train.steps=0)")
    config = {
        "trainer_version": TRAINER_VERSION,
        "method_version": method.version,
        "train": dataclasses.asdict(budget.train),
        "mask": dataclasses.asdict(budget.mask),
        "mask_filter": dataclasses.asdict(budget.mask_filter),
        "arch_size": dict(budget.arch_size),
    }
    identity = {
        "arch": spec.arch,
        "arch_source": arch.source_sha256(),
        "task": spec.task,
        "task_version": task.version,
        "data": task.fingerprints(),
        "tier": spec.tier,
        "seed": spec.seed,
        "config": _identity_config(config),
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True, default=list).encode())
    return Prepared(spec, task, arch, budget, config, digest.hexdigest())


def _identity_config(config: dict) -> dict:
    """The configuration a run id hashes. Settings added later leave the id alone at their
    defaults, so committed results keep their ids and still verify: a run of the reference
    method leaves the method out, unsharded training (train.shards 1) the shard count."""
    if config["train"].get("shards") == 1:
        config = {**config, "train": {k: v for k, v in config["train"].items() if k != "shards"}}
    if config["mask"]["method"] != REFERENCE:
        return config
    return {**{k: v for k, v in config.items() if k != "method_version"},
            "mask": {k: v for k, v in config["mask"].items() if k != "method"}}


def _skeleton(run: Prepared) -> dict:
    """A result with every key present and nothing measured yet."""
    spec, task = run.spec, run.task
    stages = ["control", *task.subfunctions]
    return {
        "schema_version": results.SCHEMA_VERSION,
        "run_id": run.run_id,
        "status": "failed",
        "error": "not finished",
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "modbench": provenance.source_info(),
        "environment": provenance.environment(run.device, run.workers),
        "architecture": {
            "name": spec.arch,
            "source_sha256": run.arch.source_sha256(),
            "n_params": None,
            "n_masked": None,
        },
        "task": {
            "name": task.name,
            "version": task.version,
            "kind": task.kind,
            "subfunctions": list(task.subfunctions),
            "fingerprints": task.fingerprints(),
            "source": spec.source,
        },
        "tier": spec.tier,
        "seeds": derive_seeds(spec.seed, stages, list(getattr(task, "sysgen_trainings", ()))),
        "config": run.config,
        "wall_time_s": {},
        "scores": None,
        "score_notes": None,
        "chance": None,
        "accuracy": None,
        "sharing": None,
        "layers": None,
        "masks": None,
        "convergence": None,
        "nulls": None,
        "details": None,
        "integrity": {"content_sha256": ""},  # sealed by results.write
    }


def run_one(
    run: Prepared, progress: Callable[[str, int], None] | None = None
) -> tuple[dict, dict[str, MaskSet]]:
    """Run the task kind's pipeline; returns the result (status "ok") and the binary mask sets.

    `progress(phase, steps)` is called as steps complete (for a progress bar).
    """
    result = _skeleton(run)
    tick = (lambda phase: (lambda step: progress(phase, 1))) if progress else (lambda _: None)
    output = PIPELINES.get(run.task.kind).run(run, result["seeds"], tick)
    stages = output.stages
    result["architecture"].update(n_params=output.n_params, n_masked=output.n_masked)
    result["wall_time_s"].update(output.wall_time_s)
    result.update(scores=output.scores, score_notes=output.score_notes, chance=output.chance,
                  accuracy=output.accuracy, nulls=output.nulls, sharing=output.sharing, layers=output.layers,
                  details=output.details)
    result["convergence"] = {"stages": {s: m.convergence.as_dict() for s, m in stages.items()
                                        if m.convergence is not None}}
    gate(result, run.task.convergence, run.task.faithfulness_sets())
    result.update(
        status="ok",
        error=None,
        masks={
            "file": MASKS_FILE, "sha256": None, "density": {s: m.total_density() for s, m in stages.items()},
            # [HISTOGRAM_BINS] counts of σ(logit) over [0, 1] per stage (modbench plot draws them)
            "keep_probability_histogram": {s: list(m.keep_probability_histogram) for s, m in stages.items()
                                           if m.keep_probability_histogram is not None},
        },
    )
    return result, stages


def finished_result(run: Prepared, out: Path) -> dict | None:
    """The finished result of this very run under `out`, if there is one.

    A corrupted or failed result, or one whose mask file is gone or altered, counts as
    unfinished (the run is redone). A finished result
    from another configuration is refused rather than overwritten: nothing is lost.
    """
    path = run.spec.folder(out) / results.RESULT_FILE
    if not path.exists():
        return None
    try:
        old = results.load(path)
    except ModbenchError:
        return None
    if old["status"] != "ok" or not results.masks_intact(path.parent, old):
        return None  # failed, or its mask file is missing or not the one it recorded: redone
    if old["run_id"] != run.run_id:
        raise ModbenchError(
            f"{path} holds a finished run with another configuration; "
            "choose another --out folder or delete it"
        )
    return old


def run_and_save(run: Prepared, out: Path, progress=None) -> dict:
    """Run into `run.spec.folder(out)` and write the result atomically (masks first).

    A failure is written as a result with status "failed" and the error; it is returned, not
    raised, so a grid goes on. Callers skip runs that `finished_result` finds. The run holds its
    folder's lock (modbench.locks): a second process on it waits, then returns the result the
    first one finished instead of running again.
    """
    folder = run.spec.folder(out)
    with run_lock(folder):
        return finished_result(run, out) or _run_and_write(run, folder, progress)


def _run_and_write(run: Prepared, folder: Path, progress) -> dict:
    started = time.perf_counter()
    try:
        with deadline(run.spec.timeout_min):
            result, stages = run_one(run, progress)
        mask_path = folder / MASKS_FILE
        folder.mkdir(parents=True, exist_ok=True)
        save_masks(mask_path, stages)
        result["masks"]["sha256"] = hashlib.sha256(mask_path.read_bytes()).hexdigest()
    except ModbenchError:
        raise
    except Exception as err:  # a broken run is recorded, and the grid goes on
        result = _skeleton(run)
        result["error"] = one_line(err)
    result["wall_time_s"]["total"] = time.perf_counter() - started
    results.write(folder / results.RESULT_FILE, result)
    return result
