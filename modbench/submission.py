"""Submitted architectures: `submissions/<name>/submission.py` defines `SUBMISSION`.

A submission is an architecture from outside the package. Loading one registers it in
`ARCHS` under its own name, so `modbench run --arch PATH` treats it like a built-in, and every
result records the sha256 of its `submission.py`. Worker processes of a pooled run load the
same files again (`loaded_paths`), since they cannot import a module that is not on a path.

    from modbench.submission import Submission
    SUBMISSION = Submission(name="my_net", authors=("A. Author",), description="...",
                            reference="arXiv:...", factories={"vector": MyNet},
                            sizes={"smoke": {"hidden": 32}, "quick": {"hidden": 800}})
"""
from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modbench.archs import ARCHS, ArchSpec
from modbench.archs.base import Factory
from modbench.errors import ModbenchError, one_line

SUBMISSION_FILE = "submission.py"
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")


@dataclass(frozen=True)
class Submission:
    """What a submission declares: a factory per I/O contract kind ("vector", "sequence",
    "image"; see modbench/contracts.py), factory kwargs per tier, and metadata."""

    name: str
    authors: tuple[str, ...]
    description: str
    factories: dict[str, Factory]
    reference: str = ""
    sizes: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Mask training vmaps the k mask samples (pays for conv nets; see ArchSpec.vmap_mask_samples).
    vmap_mask_samples: bool = False


class SubmissionImportError(ModbenchError):
    """submission.py raised while it was imported (its message names the exception and line)."""


# Absolute path of submission.py -> its ArchSpec, for this process.
_LOADED: dict[str, ArchSpec] = {}


def is_submission_path(arch: str) -> bool:
    """`--arch` names a submission when it is a path, not a registered name."""
    return "/" in arch or arch.endswith(".py") or Path(arch, SUBMISSION_FILE).is_file()


def submission_file(path: str | Path) -> Path:
    path = Path(path)
    file = path / SUBMISSION_FILE if path.is_dir() else path
    if not file.is_file():
        raise ModbenchError(f"no {SUBMISSION_FILE} at {path}; pass a submission folder "
                            f"(submissions/<name>/) or the path of its {SUBMISSION_FILE}")
    return file.resolve()


def load_submission(path: str | Path) -> ArchSpec:
    """Import a submission file, check its declaration and register it; idempotent per file."""
    file = submission_file(path)
    key = str(file)
    if key in _LOADED:
        return _LOADED[key]
    module_name = "modbench_submission_" + hashlib.sha1(key.encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(module_name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # its classes must pickle by reference (worker processes)
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        del sys.modules[module_name]
        raise SubmissionImportError(f"importing {file} failed: {one_line(err)}") from None
    arch = _arch_spec(getattr(module, "SUBMISSION", None), file)
    ARCHS.register(arch.name, arch)
    _LOADED[key] = arch
    return arch


def _arch_spec(declared: object, file: Path) -> ArchSpec:
    if not isinstance(declared, Submission):
        raise ModbenchError(f"{file} defines no SUBMISSION = modbench.submission.Submission(...); "
                            "copy submissions/_template/submission.py")
    if not NAME_PATTERN.fullmatch(declared.name):
        raise ModbenchError(f"{file}: submission name {declared.name!r} must be lowercase letters, "
                            "digits and underscores (at most 40), starting with a letter")
    if declared.name in ARCHS:
        raise ModbenchError(f"{file}: the name {declared.name!r} is taken by another architecture; "
                            "rename the submission")
    unknown = sorted(set(declared.factories) - {"vector", "sequence", "image"})
    if not declared.factories or unknown:
        raise ModbenchError(f"{file}: factories must map I/O kinds vector, sequence or image to a "
                            f"callable; got {sorted(declared.factories)}")
    return ArchSpec(
        name=declared.name, description=declared.description, factories=dict(declared.factories),
        sizes={tier: dict(size) for tier, size in declared.sizes.items()}, reference=declared.reference,
        authors=tuple(declared.authors), source_file=str(file), vmap_mask_samples=bool(declared.vmap_mask_samples),
    )


def resolve_arch(arch: str) -> str:
    """The registered name for `--arch`: a built-in name as is, a submission path loaded first."""
    return load_submission(arch).name if is_submission_path(arch) else arch


def loaded_paths() -> list[str]:
    """The submission files this process has loaded (for worker processes to load too)."""
    return list(_LOADED)
