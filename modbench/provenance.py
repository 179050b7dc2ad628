"""Where a result came from: modbench version, the git commit of its source, the environment."""
from __future__ import annotations

import functools
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import torch

SOURCE_DIR = Path(__file__).resolve().parent


def modbench_version() -> str:
    try:
        return metadata.version("modbench")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(SOURCE_DIR), *args], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


@functools.cache
def source_info() -> dict:
    """The commit of the modbench source tree (not of the working directory), and whether the
    package's files differ from it. Read once per process: the code that runs is the code that
    was imported, even if the checkout moves on meanwhile."""
    commit = _git("rev-parse", "HEAD")
    dirty = None
    if commit is not None:
        dirty = bool(_git("status", "--porcelain", "--", "."))
    return {"version": modbench_version(), "git_commit": commit, "git_dirty": dirty}


def environment(device: str, workers: int = 1) -> dict:
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "device": device,
        "threads": 1 if workers > 1 else torch.get_num_threads(),  # modbench.stages
        "workers": workers,
        "deterministic": torch.are_deterministic_algorithms_enabled(),
    }
