"""Example submission for the sequence tasks (scan, math_*), with incremental decoding.
`modbench check submissions/_examples/gru_seq2seq` passes.

- `start(src, src_len) -> state` and `step(state, token [batch]) -> (logits [batch, tgt_vocab],
  state)`: greedy evaluation calls these once per output token; without them it re-runs
  `forward` on the whole prefix at every step (quadratic in the answer's length).
- `output_parameter`: the output projection [tgt_vocab, hidden] whose rows are output tokens
  (SCAN's output-token analysis: which tokens' rows a split's mask removes). Default: the last
  Linear weight.
- `io_parameters`: the tensors that touch the input or the output (P_reuse_strict leaves them out).
Embeddings are never masked, biases not on these tasks (paper_spec §1.2, §4.6).
"""
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from modbench.contracts import SequenceIO
from modbench.submission import Submission


class GRUSeq2Seq(nn.Module):
    def __init__(self, contract: SequenceIO, hidden: int = 32, embedding: int = 16):
        super().__init__()
        self.src_embedding = nn.Embedding(contract.src_vocab, embedding)
        self.tgt_embedding = nn.Embedding(contract.tgt_vocab + 1, embedding)  # + SOS
        self.encoder = nn.GRU(embedding, hidden, batch_first=True)
        self.decoder = nn.GRU(embedding, hidden, batch_first=True)
        self.output = nn.Linear(hidden, contract.tgt_vocab)
        self.io_parameters = ("encoder.weight_ih_l0", "output.weight")
        self.output_parameter = "output.weight"

    def start(self, src: torch.Tensor, src_len: torch.Tensor) -> torch.Tensor:
        """The encoder's final state at each sequence's own length: [1, batch, hidden]."""
        packed = pack_padded_sequence(self.src_embedding(src), src_len.cpu(), batch_first=True, enforce_sorted=False)
        return self.encoder(packed)[1]

    def forward(self, src, src_len, tgt_in):  # -> [batch, T, tgt_vocab]
        hidden, _ = self.decoder(self.tgt_embedding(tgt_in), self.start(src, src_len))
        return self.output(hidden)

    def step(self, state: torch.Tensor, token: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One decoder step: token [batch] -> logits [batch, tgt_vocab] and the next state."""
        hidden, state = self.decoder(self.tgt_embedding(token).unsqueeze(1), state)
        return self.output(hidden[:, 0]), state


SUBMISSION = Submission(
    name="example_gru_seq2seq", authors=("modbench",), description="a GRU encoder-decoder: incremental decoding",
    factories={"sequence": GRUSeq2Seq}, sizes={"smoke": {"hidden": 16}, "quick": {"hidden": 128}},
)
