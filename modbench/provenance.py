"""Where a result came from: modbench version, the git commit of its source, the environment."""
from __future__ import annotations

import functools
import hashlib
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # tables read provenance without torch
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
    return {"version": modbench_version(), "git_commit": commit, "git_dirty": dirty, "source_sha256": source_sha256()}


def source_sha256() -> str:
    """sha256 over the package's Python files (paths and bytes): pins the code that ran even
    from an uncommitted tree, so `modbench verify` knows when it runs the same code."""
    digest = hashlib.sha256()
    for path in sorted(SOURCE_DIR.rglob("*.py")):
        digest.update(path.relative_to(SOURCE_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


# The vector extensions that change CPU numbers (which kernels torch and numba pick): results
# computed with and without AVX-512 differ (README, "What reproduces where").
VECTOR_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "amx_tile")


@functools.cache
def cpu_info() -> dict:
    """The CPU's model name and which of VECTOR_FLAGS it has (Linux /proc/cpuinfo; elsewhere
    the platform's processor string and no flags)."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            model = value.strip()
        elif key.strip() == "flags":
            flags = set(value.split())
            break
    return {"cpu": model, "vector_extensions": [f for f in VECTOR_FLAGS if f in flags]}


def environment(device: "torch.device", workers: int = 1) -> dict:
    """The software and hardware a run computed with: enough to tell which results must agree
    bit for bit (same CPU type, build, threads) from those that may differ by rounding."""
    import torch

    from modbench.devices import describe

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        **describe(torch.device(device)),
        **cpu_info(),
        "threads": 1 if workers > 1 else torch.get_num_threads(),  # modbench.workers
        "workers": workers,
        "deterministic": torch.are_deterministic_algorithms_enabled(),
    }


def hardware_label(environment: dict) -> str:
    """One line naming where a result computed: the GPU, or the CPU model and its widest vector
    extension (results from before hardware was recorded say so)."""
    if environment.get("gpu"):
        return f"{environment['gpu']} (CUDA {environment.get('cuda')})"
    if "cpu" not in environment:
        return "CPU, model not recorded"
    widest = next((f for f in ("avx512f", "avx2", "avx") if f in environment.get("vector_extensions", ())), None)
    return f"{environment['cpu']} CPU" + (f" ({widest})" if widest else "")
