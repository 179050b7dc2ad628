"""`--set KEY=VALUE`: replacing fields of a tier's budget, each value checked against the field it
replaces, so a bad value is refused in one line before anything trains."""
from __future__ import annotations

import dataclasses
import json
from typing import Any

from modbench.config import TierBudget
from modbench.errors import ModbenchError


# Allowed range of each numeric configuration field, by name (train and mask alike): a run
# with train.steps=-5 used to finish "ok"; batch_size=0 failed asking for a lower rate.
FIELD_RANGES: dict[str, tuple[float, float]] = {
    # 0 training steps: the random-init control (`modbench run --random-init`), masks on an untrained network
    "train.steps": (0, 10_000_000),
    "steps": (1, 10_000_000), "batch_size": (1, 1_000_000), "n_samples": (1, 1024),
    "lr": (1e-12, 100.0), "beta": (0.0, 1e3), "grad_clip": (1e-12, 1e12), "tau": (1e-3, 1e3),
    "init": (-50.0, 50.0),
}


def checked_value(key: str, current: Any, value: Any) -> Any:
    """`value` for the field `key` whose default is `current`, of its type and in its range, or
    one line naming key, value and what is allowed."""
    def refuse(allowed: str) -> ModbenchError:
        return ModbenchError(f"--set {key}={json.dumps(value)}: {allowed}")

    name = key.rsplit(".", 1)[-1]
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise refuse("expected true or false")
        return value
    if isinstance(current, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (isinstance(current, int) and not isinstance(value, int)):
            raise refuse(f"expected {'an integer' if isinstance(current, int) else 'a number'}")
        low, high = FIELD_RANGES.get(key, FIELD_RANGES.get(name, (-float("inf"), float("inf"))))
        if not low <= value <= high:
            raise refuse(f"out of range; allowed {low:g} to {high:g}")
        return type(current)(value)
    if isinstance(current, tuple):
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
            raise refuse("expected a list of non-negative integers, e.g. [2000, 3000]")
        return tuple(value)
    if isinstance(current, str) and not isinstance(value, str):
        raise refuse("expected a string")
    return value


def apply_overrides(budget: TierBudget, overrides: tuple[tuple[str, Any], ...]) -> TierBudget:
    """Replace fields of the tier budget: "train.steps", "mask.beta", "mask_filter.mask_biases",
    "arch_size.hidden" (a list becomes a tuple). Values are type- and range-checked against the
    field they replace (`checked_value`)."""
    for key, value in overrides:
        section, _, name = key.partition(".")
        if section == "arch_size" and name:
            size = dict(budget.arch_size or {})
            size[name] = tuple(value) if isinstance(value, list) else value
            budget = dataclasses.replace(budget, arch_size=size)
            continue
        part = getattr(budget, section, None) if section in ("train", "mask", "mask_filter") else None
        fields = {f.name for f in dataclasses.fields(part)} if part is not None else set()
        if name not in fields:
            known = [f"{s}.{f.name}" for s in ("train", "mask", "mask_filter")
                     for f in dataclasses.fields(getattr(budget, s))]
            raise ModbenchError(
                f"cannot override {key!r}; known keys: {', '.join(known)}, arch_size.<factory argument>"
            )
        value = checked_value(key, getattr(part, name), value)
        budget = dataclasses.replace(budget, **{section: dataclasses.replace(part, **{name: value})})
    return budget
