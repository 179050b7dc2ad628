"""LSTM encoder-decoder without attention, as the paper ran on SCAN (paper_spec §4.6).

Embeddings (16) → 2-layer LSTM encoder; its final (h, c) of every layer starts a 2-layer LSTM
decoder fed SOS + target; Linear(hidden → tgt_vocab). Dropout on the embeddings and between the
LSTM layers (0.5 in the paper). LSTM weights use the paper's custom init (`archs.lstm`).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from modbench.archs.base import ARCHS, ArchSpec
from modbench.archs.lstm import paper_init
from modbench.contracts import SequenceIO

State = tuple[torch.Tensor, torch.Tensor]  # (h, c), each [layers, batch, hidden]


class LSTMSeq2Seq(nn.Module):
    def __init__(
        self,
        contract: SequenceIO,
        hidden: int = 200,
        layers: int = 2,
        embedding: int = 16,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.src_embedding = nn.Embedding(contract.src_vocab, embedding)
        self.tgt_embedding = nn.Embedding(contract.tgt_vocab + 1, embedding)  # + SOS
        self.encoder = nn.LSTM(embedding, hidden, layers, batch_first=True, dropout=dropout)
        self.decoder = nn.LSTM(embedding, hidden, layers, batch_first=True, dropout=dropout)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(hidden, contract.tgt_vocab)
        self.io_parameters = ("encoder.weight_ih_l0", "output.weight")
        self.output_parameter = "output.weight"
        paper_init(self.encoder)
        paper_init(self.decoder)

    def start(self, src: torch.Tensor, src_len: torch.Tensor) -> State:
        """Encode; the final state of each layer at each sequence's own length."""
        embedded = self.dropout(self.src_embedding(src))  # [batch, S, emb]
        packed = pack_padded_sequence(embedded, src_len.cpu(), batch_first=True, enforce_sorted=False)
        _, state = self.encoder(packed)
        return state

    def forward(self, src, src_len, tgt_in):  # -> [batch, T, tgt_vocab]
        hidden, _ = self.decoder(self.dropout(self.tgt_embedding(tgt_in)), self.start(src, src_len))
        return self.output(hidden)

    def step(self, state: State, token: torch.Tensor) -> tuple[torch.Tensor, State]:
        """One decoder step: token [batch] -> logits [batch, tgt_vocab]."""
        hidden, state = self.decoder(self.dropout(self.tgt_embedding(token)).unsqueeze(1), state)
        return self.output(hidden[:, 0]), state


ARCHS.register(
    "lstm_seq2seq",
    ArchSpec(
        name="lstm_seq2seq",
        description="LSTM encoder-decoder, no attention (paper: 2×200 units, embeddings 16)",
        factories={"sequence": LSTMSeq2Seq},
        sizes={
            "smoke": {"hidden": 16},
            "quick": {"hidden": 128, "dropout": 0.1},  # fits the CPU budget (tasks/scan.py)
            "paper": {"hidden": 200},
        },
        reference="Csordás et al. 2021, §4.6; paper_spec §4.6",
    ),
)
