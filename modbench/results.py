"""The result file: one JSON per run, every key always present (DESIGN.md "Result file").

Writes are atomic (a temporary file in the same folder, then a rename), so a crash never
leaves half a file.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from modbench.errors import ModbenchError
from modbench.io import write_atomic
from modbench.schema import READABLE_BY_UPGRADE, SCHEMA_VERSION, content_digest, validate  # noqa: F401

# The schema and its checks live in modbench.schema (imported above for the tools that read them here).
# Result files are tens of kilobytes; anything far larger is not one (a link to /dev/zero was read
# until memory ran out).
MAX_BYTES = 32 * 2**20


RESULT_FILE = "result.json"


def files_under(path: Path) -> list[Path]:
    """The result files a path names: the file itself, or every result.json below a folder, sorted."""
    path = Path(path)
    return sorted(path.rglob(RESULT_FILE)) if path.is_dir() else [path]


def read_json(path: Path) -> Any:
    """The parsed JSON of a result file: a regular file under MAX_BYTES, nested no deeper than
    Python can parse; every failure one line."""
    path = Path(path)
    try:
        if not path.is_file():
            raise ModbenchError(f"{path}: no such file" if not path.exists() else
                                f"{path}: not a regular file; pass a result.json file")
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as err:
        raise ModbenchError(f"{path}: cannot read it ({err.strerror}); pass a result.json file")
    if len(raw) > MAX_BYTES:
        raise ModbenchError(f"{path}: larger than {MAX_BYTES // 2**20} MiB; not a modbench result file")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModbenchError(f"{path}: not valid JSON ({err}); the file is corrupted, rerun to rewrite it")
    except RecursionError:
        raise ModbenchError(f"{path}: nested too deeply to parse; not a modbench result file")


def load(path: Path) -> dict:
    """Read and validate one result file; every failure is a one-line ModbenchError."""
    result = read_json(path)
    validate(result, str(path))
    return result


def masks_intact(folder: Path, result: dict) -> bool | None:
    """Whether the mask file beside a finished result has the sha256 the result records
    (None: there is no mask file, as in committed baselines, which ship results only)."""
    path = Path(folder) / ((result.get("masks") or {}).get("file") or "masks.safetensors")
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest() == result["masks"]["sha256"]


def upgrade(path: Path) -> str:
    """Rewrite a result file of an older schema (READABLE_BY_UPGRADE) as this one, with its
    integrity digest: no re-run, the numbers untouched. Returns what was done."""
    result = read_json(path)
    version = result.get("schema_version") if isinstance(result, dict) else None
    if version == SCHEMA_VERSION:
        validate(result, str(path))
        return "already current"
    if version not in READABLE_BY_UPGRADE:
        raise ModbenchError(f"{path}: schema_version {version!r} cannot be upgraded; regenerate it")
    if version == 2:
        result = upgrade_v2(result)
    write(Path(path), {**result, "schema_version": SCHEMA_VERSION, "integrity": {"content_sha256": ""}})
    return f"upgraded from schema {version}"


def upgrade_v2(result: dict) -> dict:
    """A schema-2 result as schema 3 (`upgrade` then seals it as the current one). Its undecided
    shares are exact (0.1 and 0.9 are edges of the stored 20-bin histograms); late flips were not
    recorded, so the criterion judges the undecided shares and the control mask's faithfulness
    alone."""
    from modbench.gating import gate
    from modbench.tasks import TASKS

    upgraded = {**result, "schema_version": 3, "convergence": None, "nulls": None}
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


def write(path: Path, result: dict) -> None:
    """Validate and write atomically, sealing the content with its digest (schema "integrity")."""
    result["integrity"] = {"content_sha256": content_digest(result)}
    validate(result, str(path))
    write_atomic(path, json.dumps(result, indent=1, sort_keys=False) + "\n")
