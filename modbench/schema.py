"""What a result file may contain (DESIGN.md "Result file"), checked strictly: every key, the
type of every field the tools read, score ranges, names that stay plain file names, and the
digest of the file's own content. A malformed file is one ModbenchError naming the field,
never a crash in a tool further down.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

from modbench.errors import ModbenchError
from modbench.score_specs import spec

# 2: "details" (task-specific analyses), task "source"; 3: "convergence" (per-stage undecided
# share and late flips, the family's criterion, the scores it keeps from ranking) and "nulls"
# (each mask score under random masks of the learned masks' densities); 4: "integrity" (sha256
# of the file's own content), modbench "source_sha256", the hardware in "environment".
SCHEMA_VERSION = 4
READABLE_BY_UPGRADE = (2, 3)  # `modbench upgrade` rewrites these as SCHEMA_VERSION

_NULL = type(None)
NUMBER = (int, float)
# key -> allowed types (_NULL: JSON null allowed)
SCHEMA: dict[str, tuple] = {
    "schema_version": (int,), "run_id": (str,), "status": (str,), "error": (str, _NULL),
    "created_at": (str,), "modbench": (dict,), "environment": (dict,), "architecture": (dict,),
    "task": (dict,), "tier": (str,), "seeds": (dict,), "config": (dict,), "wall_time_s": (dict,),
    "scores": (dict, _NULL), "score_notes": (dict, _NULL), "chance": (dict, _NULL),
    "accuracy": (dict, _NULL), "sharing": (list, _NULL), "layers": (dict, _NULL), "masks": (dict, _NULL),
    "convergence": (dict, _NULL), "nulls": (dict, _NULL), "details": (dict, _NULL), "integrity": (dict,),
}
# section -> field -> allowed types: the fields tools read
NESTED: dict[str, dict[str, tuple]] = {
    "modbench": {"version": (str,), "git_commit": (str, _NULL), "git_dirty": (bool, _NULL)},
    "environment": {"python": (str,), "torch": (str,), "device": (str,), "threads": (int,), "deterministic": (bool,)},
    "architecture": {"name": (str,), "source_sha256": (str,), "n_params": (int, _NULL), "n_masked": (int, _NULL)},
    "task": {"name": (str,), "version": (int,), "kind": (str,), "subfunctions": (list,), "fingerprints": (dict,),
             "source": (str,)},
    "seeds": {"run": (int,), "init": (int,), "train_order": (int,), "mask": (dict,)},
    "config": {"trainer_version": (int,), "train": (dict,), "mask": (dict,), "mask_filter": (dict,),
               "arch_size": (dict,)},
    "integrity": {"content_sha256": (str,)},
}
CONVERGENCE_KEYS = ("stages", "criterion", "reference_sets", "converged", "reasons", "gated_scores")
STATUSES = ("ok", "failed")
# Task, architecture and tier names become folder and file names in every tool's output.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}")
MAX_SEED = 2**31 - 1
MAX_DEPTH = 32  # the deepest result modbench writes is 6 levels


def _type_name(types: tuple) -> str:
    return " or ".join("null" if t is _NULL else t.__name__ for t in types)


def _check_type(value: Any, types: tuple, where: str, source: str) -> None:
    """bool is not a number here (JSON true is not 1), and a number field takes no NaN."""
    if isinstance(value, bool) and bool not in types:
        raise ModbenchError(f"{source}: {where} is a boolean, expected {_type_name(types)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ModbenchError(f"{source}: {where} is {value}, not a finite number")
    if not isinstance(value, types):
        raise ModbenchError(f"{source}: {where} has type {type(value).__name__}, expected {_type_name(types)}")


def depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value, without recursion."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            return level
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        todo.extend((child, level + 1) for child in children)
    return deepest


def content_digest(result: dict) -> str:
    """sha256 of the result's canonical JSON without its "integrity" section."""
    body = {k: v for k, v in result.items() if k != "integrity"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _numbers(mapping: Any, where: str, source: str, low: float = -math.inf, high: float = math.inf) -> None:
    """Every value of a flat mapping a number in [low, high] or null."""
    for key, value in mapping.items():
        if value is not None:
            _check_type(value, NUMBER, f"{where}[{key!r}]", source)
            if not low <= value <= high:
                raise ModbenchError(f"{source}: {where}[{key!r}] = {value} is outside [{low:g}, {high:g}]")


def validate(result: Any, source: str = "result") -> None:
    """Raise ModbenchError naming the first problem found in a result object."""
    if not isinstance(result, dict):
        raise ModbenchError(f"{source}: expected a JSON object, got {type(result).__name__}")
    if depth(result) > MAX_DEPTH:
        raise ModbenchError(f"{source}: nested deeper than {MAX_DEPTH} levels; not a modbench result file")
    missing = [k for k in SCHEMA if k not in result]
    if "schema_version" in result and result["schema_version"] != SCHEMA_VERSION:
        version = result["schema_version"]
        fix = "run `modbench upgrade` on it (no re-run)" if version in READABLE_BY_UPGRADE else "regenerate it"
        raise ModbenchError(f"{source}: schema_version {version!r}, this modbench reads {SCHEMA_VERSION}; {fix}")
    if missing:
        raise ModbenchError(f"{source}: missing keys {missing}; rerun the run to regenerate it")
    extra = [k for k in result if k not in SCHEMA]
    if extra:
        raise ModbenchError(f"{source}: unknown keys {extra}; is it a modbench result file?")
    for key, types in SCHEMA.items():
        _check_type(result[key], types, repr(key), source)
    for section, fields in NESTED.items():
        absent = [f for f in fields if f not in result[section]]
        if absent:
            raise ModbenchError(f"{source}: {section!r} lacks {absent}; rerun to regenerate it")
        for name, types in fields.items():
            _check_type(result[section][name], types, f"{section}.{name}", source)
    for where, name in (("task.name", result["task"]["name"]), ("architecture.name", result["architecture"]["name"]),
                        ("tier", result["tier"])):
        if not NAME.fullmatch(name):
            raise ModbenchError(f"{source}: {where} {name[:60]!r} is not a plain name (letters, digits, _ . + -)")
    if not 0 <= result["seeds"]["run"] <= MAX_SEED:
        raise ModbenchError(f"{source}: seeds.run {result['seeds']['run']} is outside [0, {MAX_SEED}]")
    if result["status"] not in STATUSES:
        raise ModbenchError(f"{source}: status {result['status']!r} is not one of {STATUSES}")
    if result["status"] == "failed" and not result["error"]:
        raise ModbenchError(f"{source}: status is 'failed' but no error is recorded")
    _numbers(result["wall_time_s"], "wall_time_s", source, 0.0)
    if result["status"] == "ok":
        _validate_ok(result, source)
    if result["integrity"]["content_sha256"] != content_digest(result):
        raise ModbenchError(f"{source}: its content does not match its integrity digest: the file was edited "
                            "after modbench wrote it; rerun it (or `modbench verify` it against a re-run)")


def _validate_ok(result: dict, source: str) -> None:
    for key in ("scores", "accuracy", "chance", "layers", "masks", "convergence"):
        if result[key] is None:
            raise ModbenchError(f"{source}: status is 'ok' but {key!r} is null")
    absent = [f for f in CONVERGENCE_KEYS if f not in result["convergence"]]
    if absent:
        raise ModbenchError(f"{source}: 'convergence' lacks {absent}; rerun to regenerate it")
    _check_type(result["convergence"]["converged"], (bool,), "convergence.converged", source)
    _check_type(result["convergence"]["stages"], (dict,), "convergence.stages", source)
    for stage, summary in result["convergence"]["stages"].items():
        _check_type(summary, (dict,), f"convergence.stages[{stage!r}]", source)
        _numbers({"undecided": summary.get("undecided")}, f"convergence.stages[{stage!r}]", source, 0.0, 1.0)
    for name, value in result["scores"].items():
        try:
            declared = spec(result["task"]["kind"], name)
        except ModbenchError as err:
            raise ModbenchError(f"{source}: {err}") from None
        _numbers({name: value}, "scores", source, declared.low, declared.high)
    _numbers(result["chance"], "chance", source, 0.0, 1.0)
    for variant, values in result["accuracy"].items():
        _check_type(values, (dict,), f"accuracy[{variant!r}]", source)
        _numbers(values, f"accuracy[{variant!r}]", source, 0.0, 1.0)
    _check_type(result["masks"].get("sha256"), (str, _NULL), "masks.sha256", source)
