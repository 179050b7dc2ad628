"""LSTM for vector tasks (paper_spec §4.1): the input is fed at several time steps and the
output layer reads the last step. Initialisation follows the paper's custom LSTM init."""
from __future__ import annotations

import math

import torch
from torch import nn

from modbench.archs.base import ARCHS, ArchSpec
from modbench.contracts import VectorIO


class VectorLSTM(nn.Module):
    def __init__(
        self, contract: VectorIO, hidden: int = 256, layers: int = 2, time_steps: int = 3
    ) -> None:
        super().__init__()
        self.time_steps = time_steps
        self.lstm = nn.LSTM(contract.n_in, hidden, num_layers=layers, batch_first=True)
        self.output = nn.Linear(hidden, contract.n_out)
        self.io_parameters = ("lstm.weight_ih_l0", "output.weight")
        # what reads the input: layer 0's input projection and its biases, not its recurrent
        # weights nor layer 1 (the transfer task resets these and scores the rest)
        self.input_parameters = ("lstm.weight_ih_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0")
        paper_init(self.lstm)

    def forward(self, x):  # x: [batch, n_in] -> [batch, n_out]
        steps = x.unsqueeze(1).expand(-1, self.time_steps, -1)  # [batch, time, n_in]
        hidden, _ = self.lstm(steps)  # [batch, time, hidden]
        return self.output(hidden[:, -1])


@torch.no_grad()
def paper_init(lstm: nn.LSTM) -> None:
    """paper_spec §4.1: W_hh ~ N(0, (1/√H)/√2), W_ih ~ N(0, √(2/(I+H))/√2); the cell-gate
    block of W_hh orthogonal with gain (5/3)/√2, that of W_ih scaled by 5/3; forget-gate bias 1,
    other biases 0. Gate order (i, f, g, o), as in nn.LSTM. nn.LSTM has two bias vectors per
    layer; we put the paper's single bias in bias_ih and zero bias_hh (the sum is what counts).
    """
    hidden = lstm.hidden_size
    for layer in range(lstm.num_layers):
        w_ih = getattr(lstm, f"weight_ih_l{layer}")
        w_hh = getattr(lstm, f"weight_hh_l{layer}")
        fan_in = w_ih.shape[1]
        nn.init.normal_(w_hh, 0.0, (1 / math.sqrt(hidden)) / math.sqrt(2))
        nn.init.normal_(w_ih, 0.0, math.sqrt(2 / (fan_in + hidden)) / math.sqrt(2))
        cell = slice(2 * hidden, 3 * hidden)
        nn.init.orthogonal_(w_hh[cell], gain=(5 / 3) / math.sqrt(2))
        w_ih[cell] *= 5 / 3
        bias_ih = getattr(lstm, f"bias_ih_l{layer}")
        bias_ih.zero_()
        bias_ih[hidden : 2 * hidden] = 1.0
        getattr(lstm, f"bias_hh_l{layer}").zero_()


ARCHS.register(
    "lstm",
    ArchSpec(
        name="lstm",
        description="2-layer LSTM reading the input at every step (paper: 256 units)",
        factories={"vector": VectorLSTM},
        sizes={
            "smoke": {"hidden": 16},
            "quick": {"hidden": 256},
            "paper": {"hidden": 256},
        },
        reference="Csordás et al. 2021, §4.1",
    ),
)
