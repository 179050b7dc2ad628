"""CIFAR ResNet (He et al. 2016, §4.2): 3 stages of n BasicBlocks at widths 16/32/64, depth
6n + 2; ResNet-110 (n = 18) in the paper tier (paper_spec §4.9). Downsampling blocks use a
1×1 convolution + BatchNorm shortcut; convolutions have no bias; conv weights ~ N(0, √(2 /
(k²·C_out))), BatchNorm γ = 1, β = 0 (the paper's code). On 1-D inputs kernels are 1×3 and
strides 1×2.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from modbench.archs.base import ARCHS, ArchSpec
from modbench.contracts import ImageIO


class BasicBlock(nn.Module):
    def __init__(self, fan_in: int, fan_out: int, stride: tuple[int, int], flat: bool):
        super().__init__()
        kernel, padding = ((1, 3), (0, 1)) if flat else ((3, 3), (1, 1))
        self.conv1 = nn.Conv2d(fan_in, fan_out, kernel, stride, padding, bias=False)
        self.bn1 = nn.BatchNorm2d(fan_out)
        self.conv2 = nn.Conv2d(fan_out, fan_out, kernel, 1, padding, bias=False)
        self.bn2 = nn.BatchNorm2d(fan_out)
        self.shortcut = nn.Sequential()
        if stride != (1, 1) or fan_in != fan_out:
            self.shortcut = nn.Sequential(nn.Conv2d(fan_in, fan_out, 1, stride, bias=False), nn.BatchNorm2d(fan_out))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, contract: ImageIO, blocks: int = 18, widths: tuple[int, int, int] = (16, 32, 64)):
        super().__init__()
        flat = contract.height == 1
        kernel, padding = ((1, 3), (0, 1)) if flat else ((3, 3), (1, 1))
        down = (1, 2) if flat else (2, 2)
        self.stem = nn.Sequential(nn.Conv2d(contract.channels, widths[0], kernel, 1, padding, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU())
        layers, fan_in = [], widths[0]
        for stage, width in enumerate(widths):
            for block in range(blocks):
                stride = down if stage > 0 and block == 0 else (1, 1)
                layers.append(BasicBlock(fan_in, width, stride, flat))
                fan_in = width
        self.blocks = nn.Sequential(*layers)
        self.head = nn.Linear(widths[-1], contract.n_classes)
        self.io_parameters = ("stem.0.weight", "head.weight")
        self.output_parameters = ("head.weight", "head.bias")
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                k = module.kernel_size[0] * module.kernel_size[1]
                nn.init.normal_(module.weight, 0.0, math.sqrt(2.0 / (k * module.out_channels)))
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x):  # x: [batch, C, H, W] -> [batch, n_classes]
        return self.head(self.blocks(self.stem(x)).mean(dim=(2, 3)))


ARCHS.register(
    "resnet",
    ArchSpec(
        name="resnet",
        description="CIFAR ResNet, 3 stages of BasicBlocks (paper: ResNet-110)",
        factories={"image": ResNet},
        vmap_mask_samples=True,
        sizes={
            "smoke": {"blocks": 1, "widths": (4, 8, 8)},
            "quick": {"blocks": 3},  # ResNet-20
            "paper": {"blocks": 18},  # ResNet-110
        },
        reference="He et al. 2016 §4.2; Csordás et al. 2021 (CIFAR-10 class removal)",
    ),
)
