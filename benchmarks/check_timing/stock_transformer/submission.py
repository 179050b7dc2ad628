"""A seq2seq submission as a new user writes it: torch's stock nn.Transformer, nothing modbench
-specific but the factory (benchmarks/check_timing.sh times `modbench check` on it)."""
import torch
from torch import nn

from modbench.contracts import SequenceIO
from modbench.submission import Submission


class StockTransformer(nn.Module):
    def __init__(self, contract: SequenceIO, d_model: int = 128, heads: int = 4, layers: int = 2, ff: int = 512):
        super().__init__()
        self.src_embed = nn.Embedding(contract.src_vocab, d_model)
        self.tgt_embed = nn.Embedding(contract.tgt_vocab + 1, d_model)  # + SOS
        self.positions = nn.Embedding(max(contract.max_src_len, contract.max_tgt_len) + 1, d_model)
        self.transformer = nn.Transformer(d_model, heads, layers, layers, ff, dropout=0.0, batch_first=True)
        self.out = nn.Linear(d_model, contract.tgt_vocab)

    def _embed(self, table: nn.Embedding, ids: torch.Tensor) -> torch.Tensor:
        return table(ids) + self.positions(torch.arange(ids.shape[1]))

    def forward(self, src, src_len, tgt_in):  # -> [batch, T, tgt_vocab]
        padding = torch.arange(src.shape[1]) >= src_len.unsqueeze(1)  # [batch, S]
        causal = nn.Transformer.generate_square_subsequent_mask(tgt_in.shape[1])
        hidden = self.transformer(self._embed(self.src_embed, src), self._embed(self.tgt_embed, tgt_in),
                                  tgt_mask=causal, src_key_padding_mask=padding, memory_key_padding_mask=padding)
        return self.out(hidden)


SUBMISSION = Submission(name="stock_transformer", authors=("modbench",), description="stock nn.Transformer seq2seq",
                        factories={"sequence": StockTransformer})
