"""Where a run computes: `--device auto|cpu|cuda|cuda:N` resolved to a torch device, batches moved
there, and forwards that follow their caller's tensors.

A run's random streams never depend on the device: batches are drawn on the CPU from the run's
generators and moved, networks are initialised on the CPU and moved, and the mask noise is a
counter-based stream computed the same on either device (masking/stream.py). On the CPU every
helper here is the identity, so CPU results are those of a modbench without devices.
"""
from __future__ import annotations

import re
from typing import Any, Callable

import torch
from torch.utils._pytree import tree_map

from modbench.errors import ModbenchError

DEVICE_CHOICES = "auto, cpu, cuda or cuda:N"
_PATTERN = re.compile(r"auto|cpu|cuda(:\d+)?")


def resolve(name: str) -> torch.device:
    """The torch device `name` names, on this machine; "auto": the first GPU when CUDA is
    available, else the CPU. An unavailable device is one line, never a silent CPU run."""
    if not isinstance(name, str) or not _PATTERN.fullmatch(name):
        raise ModbenchError(f"--device {name!r}: not a device; choose {DEVICE_CHOICES}")
    if name == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cpu":
        return device
    if not torch.cuda.is_available():
        build = f"torch {torch.__version__}" + ("" if torch.version.cuda else ", a build without CUDA")
        raise ModbenchError(f"--device {name}: CUDA is not available on this machine ({build}); "
                            "use --device cpu, or auto to take a GPU only where there is one")
    index = 0 if device.index is None else device.index
    count = torch.cuda.device_count()
    if index >= count:
        raise ModbenchError(f"--device {name}: this machine has {count} GPU(s), cuda:0 to cuda:{count - 1}")
    return torch.device("cuda", index)


def move(tree: Any, device: torch.device) -> Any:
    """Every tensor of a batch (any nesting of tuples, lists, dicts) on `device`; on the CPU the
    batch itself, untouched."""
    if device.type == "cpu":
        return tree
    return tree_map(lambda t: t.to(device, non_blocking=True) if isinstance(t, torch.Tensor) else t, tree)


def _first_tensor_device(args: tuple) -> torch.device | None:
    for arg in args:
        if isinstance(arg, torch.Tensor):
            return arg.device
    return None


def following_inputs(fn: Callable, device: torch.device) -> Callable:
    """`fn` (computing on `device`) called with tensors from anywhere: its inputs go to `device`
    and its outputs come back to where the first input tensor was. Evaluation code that builds
    its test tensors on the CPU then works unchanged on a GPU; training batches already on the
    device stay there."""
    if device.type == "cpu":
        return fn

    def call(*args):
        home = _first_tensor_device(args)
        out = fn(*move(args, device))
        return out if home is None or home == device else tree_map(
            lambda t: t.to(home) if isinstance(t, torch.Tensor) else t, out)

    return call


def describe(device: torch.device) -> dict:
    """What a result records of the device it computed on."""
    if device.type != "cuda":
        return {"device": "cpu", "gpu": None, "gpu_memory_gib": None, "cuda": None}
    props = torch.cuda.get_device_properties(device)
    return {"device": str(device), "gpu": props.name, "gpu_memory_gib": round(props.total_memory / 2**30, 1),
            "cuda": torch.version.cuda}
