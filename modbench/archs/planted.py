"""Networks with planted modules: which weights can serve which sub-function is fixed by
construction, so a score or a mask method can be checked against a known answer (DESIGN.md,
"Ground truth"; the planted tasks in `modbench/tasks/planted.py`).

Each network declares `planted_partition()`: per module, in order, which weights of each tensor
it owns; a planted task maps each of its sub-functions to one module by its index
(`PlantedTask.ground_truth`). The routing that makes the modules disjoint or shared is fixed
arithmetic in `forward` (no weight), so training cannot undo it.

The disjoint modules share every tensor (module i owns a block of rows of each), so a mask that
finds a module must find it inside tensors, and random masks with a mask's per-tensor density
(the nulls) spread over both modules instead of recovering the partition for free.
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


class GroupedLinear(nn.Linear):
    """`groups` independent Linear maps in one tensor: input block i (in / groups features) goes
    through rows i·out/groups … (i+1)·out/groups of `weight` [out, in / groups] to output block i.
    Each map is initialised as a Linear layer of its own size (fan-in in / groups)."""

    def __init__(self, in_features: int, out_features: int, groups: int) -> None:
        super().__init__(in_features // groups, out_features)
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [batch, in] -> [batch, out]
        blocks = x.view(len(x), self.groups, self.in_features)  # [batch, groups, in / groups]
        weight = self.weight.view(self.groups, -1, self.in_features)  # [groups, out / groups, in / groups]
        out = torch.einsum("bgi,goi->bgo", blocks, weight) + self.bias.view(self.groups, -1)
        return out.reshape(len(x), -1)


class PlantedSplit(nn.Module):
    """`n_modules` weight-disjoint MLPs on the operands, stored as one network whose every tensor
    holds a block of rows per module (a Linear layer that all modules read the operands through,
    then grouped layers); the last `n_modules` inputs are a one-hot selector that picks whose
    output is read: out = Σ_i selector_i · module_i(operands).

    No weight sees the selector, and no weight connects two modules, so module i is trained by,
    and computes, its own operation only: a mask for operation i needs module i and nothing of
    the others (P_specialize 1).
    """

    def __init__(self, contract: VectorIO, hidden: tuple[int, ...] = (256, 256), n_modules: int = 2) -> None:
        super().__init__()
        self.n_modules = n_modules
        n_operands = contract.n_in - n_modules
        sizes = [h * n_modules for h in hidden]
        layers: list[nn.Module] = [nn.Linear(n_operands, sizes[0])]
        for fan_in, fan_out in zip(sizes, [*sizes[1:], contract.n_out * n_modules]):
            layers += [nn.ReLU(), GroupedLinear(fan_in, fan_out, n_modules)]
        self.layers = nn.Sequential(*layers)
        names = _linear_weights(self.layers, "layers")
        self.io_parameters = (names[0], names[-1])

    def planted_partition(self) -> list[dict[str, torch.Tensor]]:
        """Per module, {tensor: bool [tensor's shape]} of the weights it owns: its block of rows."""
        def rows_of(module: int, tensor: torch.Tensor) -> torch.Tensor:
            module_of_row = torch.arange(tensor.shape[0]) // (tensor.shape[0] // self.n_modules)  # [rows]
            return (module_of_row == module).view(-1, *([1] * (tensor.dim() - 1))).expand_as(tensor)

        return [{name: rows_of(i, tensor) for name, tensor in self.named_parameters()} for i in range(self.n_modules)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [batch, n_in] -> [batch, n_out]
        operands, selector = x[:, : -self.n_modules], x[:, -self.n_modules :]
        outputs = self.layers(operands).view(len(x), self.n_modules, -1)  # [batch, modules, n_out]
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
        names = _linear_weights(self.module, "module")
        self.io_parameters = (names[0], names[-1])

    def planted_partition(self) -> list[dict[str, torch.Tensor]]:
        """One module that owns every weight."""
        return [{name: torch.ones_like(tensor, dtype=torch.bool) for name, tensor in self.named_parameters()}]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [batch, n_in] -> [batch, n_out]
        block = x.view(len(x), self.n_blocks, -1).sum(1)  # [batch, n_in / blocks]
        return self.module(block).repeat(1, self.n_blocks)  # [batch, n_out]


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
