"""Contender: a ReLU MLP whose hidden layers are soft mixtures of experts.

Built to be more modular than the plain FNN: every hidden layer holds several expert weight
matrices and a router that, per example, mixes their outputs with softmax gates (the dense
"soft" gating of Jacobs et al. 1991, "Adaptive mixtures of local experts"; top-k sparse routing
as in Shazeer et al. 2017 needs a load-balancing loss, and losses belong to modbench, not to a
submission). If sub-functions route to different experts, their masks should overlap less.
Whether they do is what the benchmark measures.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from modbench.contracts import VectorIO
from modbench.submission import Submission


class MixtureLayer(nn.Module):
    """`experts` linear maps fan_in -> fan_out mixed by a softmax router on the input."""

    def __init__(self, fan_in: int, fan_out: int, experts: int):
        super().__init__()
        bound = 1 / math.sqrt(fan_in)  # nn.Linear's default init range, per expert
        self.weight = nn.Parameter(torch.empty(experts, fan_in, fan_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(experts, fan_out).uniform_(-bound, bound))
        self.router = nn.Linear(fan_in, experts)

    def forward(self, x):  # x: [batch, fan_in] -> [batch, fan_out]
        gates = torch.softmax(self.router(x), dim=-1)  # [batch, experts]
        outputs = torch.einsum("bi,eio->beo", x, self.weight) + self.bias  # [batch, experts, fan_out]
        return torch.einsum("be,beo->bo", gates, outputs)


class RoutedMLP(nn.Module):
    def __init__(self, contract: VectorIO, hidden: int = 400, experts: int = 4, layers: int = 3):
        super().__init__()
        self.embed = nn.Linear(contract.n_in, hidden)  # an ordinary layer: masked like the FNN's
        self.mixtures = nn.ModuleList(MixtureLayer(hidden, hidden, experts) for _ in range(layers))
        self.head = nn.Linear(hidden, contract.n_out)
        self.io_parameters = ("embed.weight", "head.weight")

    def forward(self, x):  # x: [batch, n_in] -> [batch, n_heads * n_classes]
        h = torch.relu(self.embed(x))
        for layer in self.mixtures:
            h = torch.relu(layer(h))
        return self.head(h)


SUBMISSION = Submission(
    name="routed_mlp",
    authors=("modbench maintainers",),
    description="ReLU MLP whose hidden layers mix 4 expert matrices with a per-example softmax router",
    reference="Jacobs et al. 1991, Adaptive mixtures of local experts",
    factories={"vector": RoutedMLP},
    sizes={
        "smoke": {"hidden": 16, "experts": 2, "layers": 1},
        # About the FNN's quick size in weights (800x4: 2.0M hidden weights; here 3 x 4 x 400^2 = 1.9M).
        "quick": {"hidden": 400, "experts": 4, "layers": 3},
        "paper": {"hidden": 1000, "experts": 4, "layers": 3},
    },
)
