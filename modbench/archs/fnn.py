"""Feed-forward network (paper_spec §4.1): Linear layers with ReLU between, none at the output."""
from __future__ import annotations

from torch import nn

from modbench.archs.base import ARCHS, ArchSpec
from modbench.contracts import VectorIO


class FNN(nn.Module):
    def __init__(self, contract: VectorIO, hidden: tuple[int, ...] = (2000, 2000, 2000, 2000)):
        super().__init__()
        sizes = [contract.n_in, *hidden, contract.n_out]
        layers: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
            if i:
                layers.append(nn.ReLU())
            layers.append(nn.Linear(fan_in, fan_out))  # PyTorch default (Kaiming-uniform) init
        self.layers = nn.Sequential(*layers)
        linear = [i for i, m in enumerate(self.layers) if isinstance(m, nn.Linear)]
        # The first and last layers are the I/O interface (paper_spec §1.9).
        self.io_parameters = (f"layers.{linear[0]}.weight", f"layers.{linear[-1]}.weight")

    def forward(self, x):  # x: [batch, n_in] -> [batch, n_out]
        return self.layers(x)


ARCHS.register(
    "fnn",
    ArchSpec(
        name="fnn",
        description="feed-forward ReLU network (paper: 2000x4 hidden)",
        factories={"vector": FNN},
        sizes={
            "smoke": {"hidden": (32, 32)},
            # 800x4 is one of the paper's own sizes (paper_spec §4.2-4.3). At 400,400,200 double
            # addition came out shared (P_reuse 0.56, one seed); at 800x4 unshared (0.05), as
            # in the paper.
            "quick": {"hidden": (800, 800, 800, 800)},
            "paper": {"hidden": (2000, 2000, 2000, 2000)},
            # permuted-input transfer: the paper's 800-800-64 (paper_spec §4.7)
            "transfer/smoke": {"hidden": (32, 32, 16)},
            "transfer/quick": {"hidden": (800, 800, 64)},
            "transfer/paper": {"hidden": (800, 800, 64)},
        },
        reference="Csordás et al. 2021, §4.1",
    ),
)
