"""The paper's simple CNN for CIFAR-10 (paper_spec §4.9): four 3×3 convolutions, max pooling,
dropout, global average pooling and a linear classifier (390k weights at widths 32-64-128-256).

On 1-D inputs (height 1, e.g. MNIST-1D) kernels are 1×3 and pooling 1×2: the same network
along the width only.
"""
from __future__ import annotations

from torch import nn

from modbench.archs.base import ARCHS, ArchSpec
from modbench.contracts import ImageIO


class CNN(nn.Module):
    def __init__(self, contract: ImageIO, widths: tuple[int, ...] = (32, 64, 128, 256), dropout: bool = True):
        super().__init__()
        flat = contract.height == 1
        kernel, pool = ((1, 3), (1, 2)) if flat else (3, 2)
        padding = (0, 1) if flat else 1
        c1, c2, c3, c4 = widths
        p3, p4 = (0.25, 0.5) if dropout else (0.0, 0.0)  # the paper's no-dropout sweep sets both to 0
        self.features = nn.Sequential(
            nn.Conv2d(contract.channels, c1, kernel, padding=padding), nn.ReLU(), nn.MaxPool2d(pool),
            nn.Conv2d(c1, c2, kernel, padding=padding), nn.ReLU(), nn.MaxPool2d(pool),
            nn.Conv2d(c2, c3, kernel, padding=padding), nn.Dropout(p3), nn.ReLU(), nn.MaxPool2d(pool),
            nn.Conv2d(c3, c4, kernel, padding=padding), nn.ReLU(), nn.Dropout(p4),
        )
        self.head = nn.Linear(c4, contract.n_classes)
        self.io_parameters = ("features.0.weight", "head.weight")
        self.output_parameters = ("head.weight", "head.bias")

    def forward(self, x):  # x: [batch, C, H, W] -> [batch, n_classes]
        return self.head(self.features(x).mean(dim=(2, 3)))  # global average pool: [batch, c4]


ARCHS.register(
    "cnn",
    ArchSpec(
        name="cnn",
        description="4-conv CNN with max pooling and dropout (paper: CIFAR-10 class removal)",
        factories={"image": CNN},
        vmap_mask_samples=True,
        sizes={
            "smoke": {"widths": (4, 8, 8, 16)},
            "quick": {"widths": (32, 64, 128, 256)},  # the paper's own widths: cheap on small inputs
            "paper": {"widths": (32, 64, 128, 256)},
            # mask stability: the paper ran the CNN without dropout there (paper_spec §4.10)
            "mask_stability/smoke": {"widths": (4, 8, 8, 16), "dropout": False},
            "mask_stability/quick": {"widths": (32, 64, 128, 256), "dropout": False},
            "mask_stability/paper": {"widths": (32, 64, 128, 256), "dropout": False},
        },
        reference="Csordás et al. 2021, §4.5 / appendix (CIFAR-10)",
    ),
)
