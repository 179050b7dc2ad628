"""The result file: one JSON per run, every key always present (DESIGN.md "Result file").

Writes are atomic (a temporary file in the same folder, then a rename), so a crash never
leaves half a file.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from modbench.errors import ModbenchError
from modbench.scores import score_range

# 2: "details" (task-specific analyses), task "source"; 3: "convergence" (per-stage undecided
# share and late flips, the family's criterion, the scores it keeps from ranking) and "nulls"
# (each mask score under random masks of the learned masks' densities).
SCHEMA_VERSION = 3

# key -> allowed types (None means JSON null is allowed). Nested dicts are checked one level
# down where their keys are fixed.
_NULL = type(None)
SCHEMA: dict[str, tuple] = {
    "schema_version": (int,),
    "run_id": (str,),
    "status": (str,),
    "error": (str, _NULL),
    "created_at": (str,),
    "modbench": (dict,),
    "environment": (dict,),
    "architecture": (dict,),
    "task": (dict,),
    "tier": (str,),
    "seeds": (dict,),
    "config": (dict,),
    "wall_time_s": (dict,),
    "scores": (dict, _NULL),
    "score_notes": (dict, _NULL),
    "chance": (dict, _NULL),
    "accuracy": (dict, _NULL),
    "sharing": (list, _NULL),
    "layers": (dict, _NULL),
    "masks": (dict, _NULL),
    "convergence": (dict, _NULL),
    "nulls": (dict, _NULL),  # null before schema 3
    "details": (dict, _NULL),
}
NESTED: dict[str, tuple[str, ...]] = {
    "modbench": ("version", "git_commit", "git_dirty"),
    "environment": ("python", "torch", "device", "threads", "deterministic"),
    "architecture": ("name", "source_sha256", "n_params", "n_masked"),
    "task": ("name", "version", "kind", "subfunctions", "fingerprints", "source"),
    "seeds": ("run", "init", "train_order", "mask"),
    "config": ("trainer_version", "train", "mask", "mask_filter", "arch_size"),
}
CONVERGENCE_KEYS = ("stages", "criterion", "reference_sets", "converged", "reasons", "gated_scores")
STATUSES = ("ok", "failed")


def validate(result: Any, source: str = "result") -> None:
    """Raise ModbenchError naming the first problem found in a result object."""
    if not isinstance(result, dict):
        raise ModbenchError(f"{source}: expected a JSON object, got {type(result).__name__}")
    missing = [k for k in SCHEMA if k not in result]
    if missing:
        raise ModbenchError(f"{source}: missing keys {missing}; rerun the run to regenerate it")
    extra = [k for k in result if k not in SCHEMA]
    if extra:
        raise ModbenchError(f"{source}: unknown keys {extra}; is it a modbench result file?")
    if result["schema_version"] != SCHEMA_VERSION:
        raise ModbenchError(
            f"{source}: schema_version {result['schema_version']!r}, this modbench reads "
            f"{SCHEMA_VERSION}; regenerate it with this version"
        )
    for key, types in SCHEMA.items():
        if isinstance(result[key], bool) or not isinstance(result[key], types):
            raise ModbenchError(
                f"{source}: {key!r} has type {type(result[key]).__name__}, expected "
                f"{' or '.join('null' if t is _NULL else t.__name__ for t in types)}"
            )
    for key, fields in NESTED.items():
        absent = [f for f in fields if f not in result[key]]
        if absent:
            raise ModbenchError(f"{source}: {key!r} lacks {absent}; rerun to regenerate it")
    if result["status"] not in STATUSES:
        raise ModbenchError(f"{source}: status {result['status']!r} is not one of {STATUSES}")
    if result["status"] == "failed" and not result["error"]:
        raise ModbenchError(f"{source}: status is 'failed' but no error is recorded")
    if result["status"] == "ok":
        for key in ("scores", "accuracy", "chance", "layers", "masks", "convergence"):
            if result[key] is None:
                raise ModbenchError(f"{source}: status is 'ok' but {key!r} is null")
        absent = [f for f in CONVERGENCE_KEYS if f not in result["convergence"]]
        if absent:
            raise ModbenchError(f"{source}: 'convergence' lacks {absent}; rerun to regenerate it")
        for name, value in result["scores"].items():
            low, high = score_range(name)
            if value is not None and not low <= value <= high:
                raise ModbenchError(f"{source}: score {name!r} = {value} is outside [{low:g}, {high:g}]")


RESULT_FILE = "result.json"


def files_under(path: Path) -> list[Path]:
    """The result files a path names: the file itself, or every result.json below a folder, sorted."""
    path = Path(path)
    return sorted(path.rglob(RESULT_FILE)) if path.is_dir() else [path]


def load(path: Path) -> dict:
    """Read and validate one result file; every failure is a one-line ModbenchError."""
    try:
        result = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ModbenchError(f"{path}: no such file")
    except OSError as err:
        raise ModbenchError(f"{path}: cannot read it ({err.strerror}); pass a result.json file")
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModbenchError(f"{path}: not valid JSON ({err}); the file is corrupted, rerun to rewrite it")
    if isinstance(result, dict) and result.get("schema_version") == 2:
        result = upgrade_v2(result)
    validate(result, str(path))
    return result


def upgrade_v2(result: dict) -> dict:
    """A schema-2 result read as schema 3. Its undecided shares are exact (0.1 and 0.9 are edges
    of the stored 20-bin histograms); late flips were not recorded, so the criterion judges the
    undecided shares and the control mask's faithfulness alone."""
    from modbench.gating import gate
    from modbench.tasks import TASKS

    upgraded = {**result, "schema_version": SCHEMA_VERSION, "convergence": None, "nulls": None}
    if result.get("status") != "ok" or result["task"]["name"] not in TASKS:
        return upgraded
    histograms = (result.get("masks") or {}).get("keep_probability_histogram") or {}
    upgraded["score_notes"] = dict(result["score_notes"] or {})
    upgraded["convergence"] = {"stages": {
        stage: {"steps": result["config"]["mask"].get("steps"), "undecided": sum(counts[2:-2]) / max(sum(counts), 1),
                "late_flips": None, "late_iou": None, "checkpoints": []}
        for stage, counts in histograms.items()}}
    task = TASKS.get(result["task"]["name"])
    gate(upgraded, task.convergence, task.faithfulness_sets())
    return upgraded


def safe_file_name(*parts: object) -> str:
    """A file name built from result fields (task, architecture, ...) that stays a plain name in
    its folder: every character but letters, digits, '-', '_' and '.' becomes '_', and no leading
    dot, so '/abs/path' or '../x' in a result cannot place a file outside the output folder."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", "_".join(str(p) for p in parts)).lstrip(".")
    return name[:200] or "_"


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write through a temporary file of a unique name, then rename: readers see the old file or
    the new one, and two writers never share a temporary."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(text.encode() if isinstance(text, str) else text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write(path: Path, result: dict) -> None:
    validate(result, str(path))
    write_atomic(path, json.dumps(result, indent=1, sort_keys=False) + "\n")
