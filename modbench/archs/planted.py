"""Networks with planted modules: which weights can serve which sub-function is fixed by
construction, so a score or a mask method can be checked against a known answer (DESIGN.md,
"Ground truth"; the planted tasks in `modbench/tasks/planted.py`).

Each network declares `planted_modules`, the names of its sub-modules in order; a planted task
maps each of its sub-functions to one of them (`PlantedTask.ground_truth`). A weight belongs to
the module whose sub-module holds it. The routing that makes the modules disjoint or shared is
fixed arithmetic in `forward` (no weight), so training cannot undo it.
"""
from __future__ import annotations

import torch
from torch import nn

from modbench.archs.base import ARCHS, ArchSpec
from modbench.contracts import VectorIO


def mlp(n_in: int, hidden: tuple[int, ...], n_out: int) -> nn.Sequential:
    """Linear layers with ReLU between, none at the output (the FNN's layout)."""
    sizes = [n_in, *hidden, n_out]
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        if i:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(fan_in, fan_out))
    return nn.Sequential(*layers)


def _linear_weights(module: nn.Sequential, prefix: str) -> list[str]:
    return [f"{prefix}.{i}.weight" for i, m in enumerate(module) if isinstance(m, nn.Linear)]


class PlantedSplit(nn.Module):
    """`n_modules` weight-disjoint MLPs on the operands; the last `n_modules` inputs are a one-hot
    selector that picks whose output is read: out = Σ_i selector_i · module_i(operands).

    No weight sees the selector, so module i is trained by, and computes, its own operation only:
    a mask for operation i needs module i and nothing of the others (P_specialize 1).
    """

    def __init__(self, contract: VectorIO, hidden: tuple[int, ...] = (256, 256), n_modules: int = 2) -> None:
        super().__init__()
        self.n_modules = n_modules
        n_operands = contract.n_in - n_modules
        self.branches = nn.ModuleList(mlp(n_operands, hidden, contract.n_out) for _ in range(n_modules))
        self.planted_modules = tuple(f"branches.{i}" for i in range(n_modules))
        io = [_linear_weights(m, f"branches.{i}") for i, m in enumerate(self.branches)]
        self.io_parameters = tuple(n for names in io for n in (names[0], names[-1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [batch, n_in] -> [batch, n_out]
        operands, selector = x[:, : -self.n_modules], x[:, -self.n_modules :]
        outputs = torch.stack([module(operands) for module in self.branches], dim=1)  # [batch, modules, n_out]
        return (selector.unsqueeze(-1) * outputs).sum(1)


class PlantedShared(nn.Module):
    """One MLP for `n_blocks` sub-functions that differ only in where their inputs and outputs
    sit: the input is cut into `n_blocks` equal blocks that are summed (double addition's protocol
    zeroes all but one), and the module's output is written to every block's heads.

    Every weight serves every sub-function: removing one sub-function's module removes the
    other's (P_reuse 1).
    """

    def __init__(self, contract: VectorIO, hidden: tuple[int, ...] = (256, 256), n_blocks: int = 2) -> None:
        super().__init__()
        self.n_blocks = n_blocks
        self.module = mlp(contract.n_in // n_blocks, hidden, contract.n_out // n_blocks)
        self.planted_modules = ("module",)
        names = _linear_weights(self.module, "module")
        self.io_parameters = (names[0], names[-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [batch, n_in] -> [batch, n_out]
        block = x.view(len(x), self.n_blocks, -1).sum(1)  # [batch, n_in / blocks]
        return self.module(block).repeat(1, self.n_blocks)  # [batch, n_out]


def planted_parameters(model: nn.Module) -> list[list[str]]:
    """The parameter names of each declared planted module, in `planted_modules` order."""
    return [[f"{prefix}.{name}" for name, _ in model.get_submodule(prefix).named_parameters()]
            for prefix in model.planted_modules]


# Sizes: at the quick tier's 5,000 training steps (seed 0, addmul's problems) two 512×2 modules
# learn both operations to 100 % (256×2: multiplication 79.8 %); the shared one is one such module.
_SIZES = {"smoke": {"hidden": (32,)}, "quick": {"hidden": (512, 512)}, "paper": {"hidden": (512, 512)}}

ARCHS.register("planted_split", ArchSpec(
    name="planted_split",
    description="planted ground truth: weight-disjoint MLPs, one per operation (planted tasks and teacher_specialize)",
    factories={"vector": PlantedSplit}, sizes=_SIZES, tasks=("planted_specialize", "teacher_specialize"),
    reference="modbench, DESIGN.md 'Ground truth'",
))
ARCHS.register("planted_shared", ArchSpec(
    name="planted_shared",
    description="planted ground truth: one MLP shared by both additions (planted_reuse only)",
    factories={"vector": PlantedShared}, sizes=_SIZES, tasks=("planted_reuse",),
    reference="modbench, DESIGN.md 'Ground truth'",
))
