"""What an architecture is to modbench: factories per I/O contract, and sizes per tier."""
from __future__ import annotations

import hashlib
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from modbench.contracts import Contract
from modbench.errors import ModbenchError
from modbench.registry import Registry

Factory = Callable[..., nn.Module]  # factory(contract, **size_kwargs) -> nn.Module


@dataclass(frozen=True)
class ArchSpec:
    name: str
    description: str
    factories: dict[str, Factory]  # contract kind -> factory
    # tier -> factory kwargs; "<size group>/<tier>" -> the whole size for the tasks of that group
    # (Task.size_group: "math", "transfer", "mask_stability"), where they need another one
    sizes: dict[str, dict[str, Any]] = field(default_factory=dict)
    reference: str = ""
    authors: tuple[str, ...] = ()
    # The file that defines a submitted architecture (None: built-in; its factory's file counts).
    source_file: str | None = None
    # Mask training runs the k mask samples as one vmapped forward (else k forwards). Measured on
    # 2 CPU cores: faster for conv nets (ResNet-20 mask step 46 vs 55 ms), slower for the FNN
    # (74 vs 59 ms: batched matmuls hand back transposed weight gradients that must be copied).
    vmap_mask_samples: bool = False
    # The tasks it is built for (empty: every task whose contract it supports): a planted
    # network's routing assumes its task's input layout.
    tasks: tuple[str, ...] = ()

    def supports(self, contract: Contract) -> bool:
        return contract.kind in self.factories

    def fits(self, task: Any) -> bool:
        """Whether it can run `task` (a Task class): a factory for its contract, and neither
        side restricted to others (`tasks` here, `Task.archs` there)."""
        return (self.supports(task.contract) and (not self.tasks or task.name in self.tasks)
                and (task.archs is None or self.name in task.archs))

    def size(self, group: str | None, tier: str) -> dict[str, Any]:
        """The factory kwargs for a task of size group `group` at `tier`."""
        return dict(self.sizes.get(f"{group}/{tier}", self.sizes.get(tier, {})))

    def source_sha256(self) -> str:
        """sha256 of the file that defines the architecture (recorded in every result)."""
        path = self.source_file or inspect.getfile(next(iter(self.factories.values())))
        source = Path(path).read_bytes()
        return hashlib.sha256(source).hexdigest()


ARCHS: Registry[ArchSpec] = Registry("arch")


def build_model(
    spec: ArchSpec, contract: Contract, size: dict[str, Any], init_seed: int
) -> nn.Module:
    """Build the model with its initial weights drawn from `init_seed` alone.

    PyTorch layers initialise from the global generator; we fork it, seed the fork and restore
    the caller's state on exit, so no global random state leaks in or out.
    """
    if not spec.supports(contract):
        raise ModbenchError(
            f"architecture {spec.name!r} does not fit a {contract.kind} task; it supports "
            f"{sorted(spec.factories)} (see `modbench ls archs`)"
        )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(init_seed)
        return uncompiled(spec.factories[contract.kind](contract, **size))


def uncompiled(module: nn.Module) -> nn.Module:
    """The module with every `torch.compile` wrapper (OptimizedModule) replaced by the module it
    wraps: masks are applied functionally, and compiled names (`_orig_mod.`) would hide the
    declared tensors."""
    module = getattr(module, "_orig_mod", module)
    for name, child in list(module.named_children()):
        inner = uncompiled(child)
        if inner is not child:
            setattr(module, name, inner)
    return module
