"""Post-LN Transformer encoder-decoder, as the paper ran on SCAN (paper_spec §4.6).

d_model 100, 4 heads, feed-forward 200 (ReLU), 3 + 3 layers; sinusoidal positions; untied,
unscaled embeddings; Q/K/V and head-merge projections without bias, Xavier-uniform; the paper's
LayerNorm, (x − mean) / (unbiased std + 1e-5) · γ + β (paper_spec §8.11); dropout 0.1 on
residual branches, attention probabilities and the positional encoding.
Incremental decoding caches every decoder layer's self-attention keys and values.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from modbench.archs.base import ARCHS, ArchSpec
from modbench.contracts import SequenceIO


class PaperLayerNorm(nn.Module):
    def __init__(self, size: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.bias = nn.Parameter(torch.zeros(size))
        self.eps = eps

    def forward(self, x):
        centred = x - x.mean(-1, keepdim=True)
        return centred / (x.std(-1, keepdim=True) + self.eps) * self.weight + self.bias


class Attention(nn.Module):
    def __init__(self, d_model: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.query = nn.Linear(d_model, d_model, bias=False)
        self.key = nn.Linear(d_model, d_model, bias=False)
        self.value = nn.Linear(d_model, d_model, bias=False)
        self.merge = nn.Linear(d_model, d_model, bias=False)
        for layer in (self.query, self.key, self.value, self.merge):
            nn.init.xavier_uniform_(layer.weight)

    def split(self, x):  # [batch, time, d] -> [batch, heads, time, d / heads]
        return x.unflatten(-1, (self.heads, -1)).transpose(1, 2)

    def attend(self, query, keys, values, allowed):
        """allowed: bool, broadcastable to [batch, heads, q_time, k_time]."""
        p = self.dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(self.split(self.query(query)), keys, values, allowed, p)
        return self.merge(out.transpose(1, 2).flatten(2))  # [batch, q_time, d]

    def forward(self, query, source, allowed):
        return self.attend(query, self.split(self.key(source)), self.split(self.value(source)), allowed)


class FeedForward(nn.Sequential):
    def __init__(self, d_model: int, ff: int, dropout: float) -> None:
        super().__init__(nn.Linear(d_model, ff), nn.ReLU(), nn.Dropout(dropout), nn.Linear(ff, d_model))


class EncoderLayer(nn.Module):
    def __init__(self, d_model: int, heads: int, ff: int, dropout: float) -> None:
        super().__init__()
        self.attention = Attention(d_model, heads, dropout)
        self.feed_forward = FeedForward(d_model, ff, dropout)
        self.norm1, self.norm2 = PaperLayerNorm(d_model), PaperLayerNorm(d_model)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, allowed):
        x = self.norm1(x + self.drop(self.attention(x, x, allowed)))
        return self.norm2(x + self.drop(self.feed_forward(x)))


class DecoderLayer(nn.Module):
    def __init__(self, d_model: int, heads: int, ff: int, dropout: float) -> None:
        super().__init__()
        self.self_attention = Attention(d_model, heads, dropout)
        self.cross_attention = Attention(d_model, heads, dropout)
        self.feed_forward = FeedForward(d_model, ff, dropout)
        self.norm1, self.norm2, self.norm3 = (PaperLayerNorm(d_model) for _ in range(3))
        self.drop = nn.Dropout(dropout)

    def finish(self, x, memory_kv, memory_allowed):
        """Everything after self-attention: cross-attention and feed-forward."""
        x = self.norm2(x + self.drop(self.cross_attention.attend(x, *memory_kv, memory_allowed)))
        return self.norm3(x + self.drop(self.feed_forward(x)))


def sinusoidal(length: int, d_model: int) -> torch.Tensor:
    """[length, d_model] positional encoding of Vaswani et al. (2017)."""
    position = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    rate = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    table = torch.zeros(length, d_model)
    table[:, 0::2] = torch.sin(position * rate)
    table[:, 1::2] = torch.cos(position * rate)[:, : d_model // 2]
    return table


class TransformerSeq2Seq(nn.Module):
    def __init__(
        self,
        contract: SequenceIO,
        d_model: int = 100,
        heads: int = 4,
        ff: int = 200,
        layers: int = 3,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.src_embedding = nn.Embedding(contract.src_vocab, d_model)
        self.tgt_embedding = nn.Embedding(contract.tgt_vocab + 1, d_model)  # + SOS
        self.encoder = nn.ModuleList(EncoderLayer(d_model, heads, ff, dropout) for _ in range(layers))
        self.decoder = nn.ModuleList(DecoderLayer(d_model, heads, ff, dropout) for _ in range(layers))
        self.output = nn.Linear(d_model, contract.tgt_vocab)
        nn.init.xavier_uniform_(self.output.weight)
        self.drop = nn.Dropout(dropout)
        length = max(contract.max_src_len, contract.max_tgt_len) + 2
        self.register_buffer("positions", sinusoidal(length, d_model), persistent=False)
        self.io_parameters = ("encoder.0.attention.query.weight", "output.weight")
        self.output_parameter = "output.weight"

    def embed(self, embedding: nn.Embedding, tokens, offset: int = 0):
        length = tokens.shape[1]
        return self.drop(embedding(tokens) + self.positions[offset : offset + length])

    def start(self, src, src_len):
        """Encode; returns (per-layer cross-attention keys/values, source padding mask, cache)."""
        allowed = (torch.arange(src.shape[1], device=src.device) < src_len.unsqueeze(1))[:, None, None, :]  # [b,1,1,S]
        x = self.embed(self.src_embedding, src)
        for layer in self.encoder:
            x = layer(x, allowed)
        memory_kv = [
            (layer.cross_attention.split(layer.cross_attention.key(x)),
             layer.cross_attention.split(layer.cross_attention.value(x)))
            for layer in self.decoder
        ]
        return memory_kv, allowed, [None] * len(self.decoder)

    def forward(self, src, src_len, tgt_in):  # -> [batch, T, tgt_vocab]
        memory_kv, src_allowed, _ = self.start(src, src_len)
        length = tgt_in.shape[1]
        causal = torch.ones(length, length, dtype=torch.bool, device=tgt_in.device).tril()
        x = self.embed(self.tgt_embedding, tgt_in)
        for layer, kv in zip(self.decoder, memory_kv):
            x = layer.norm1(x + layer.drop(layer.self_attention(x, x, causal)))
            x = layer.finish(x, kv, src_allowed)
        return self.output(x)

    def step(self, state, token):
        """One decoder position with cached self-attention keys/values: token [batch]."""
        memory_kv, src_allowed, cache = state
        position = 0 if cache[0] is None else cache[0][0].shape[2]
        x = self.embed(self.tgt_embedding, token.unsqueeze(1), offset=position)  # [batch, 1, d]
        new_cache = []
        for layer, kv, past in zip(self.decoder, memory_kv, cache):
            attention = layer.self_attention
            keys, values = attention.split(attention.key(x)), attention.split(attention.value(x))
            if past is not None:
                keys, values = torch.cat([past[0], keys], 2), torch.cat([past[1], values], 2)
            new_cache.append((keys, values))
            x = layer.norm1(x + layer.drop(attention.attend(x, keys, values, None)))
            x = layer.finish(x, kv, src_allowed)
        return self.output(x[:, 0]), (memory_kv, src_allowed, new_cache)


ARCHS.register(
    "transformer_seq2seq",
    ArchSpec(
        name="transformer_seq2seq",
        description="post-LN Transformer encoder-decoder (paper: d 100, 4 heads, FF 200, 3+3 layers)",
        factories={"sequence": TransformerSeq2Seq},
        sizes={
            "smoke": {"d_model": 16, "heads": 2, "ff": 32, "layers": 1},
            "quick": {"layers": 2, "dropout": 0.0},  # fits the CPU budget (tasks/scan.py)
            "paper": {},
            # DeepMind Mathematics (tasks/dm_math.py): the paper's size (paper_spec §4.8), and a
            # quick one whose add_or_sub run fits 20 minutes on 2 cores (README, Tiers)
            "math/smoke": {"d_model": 16, "heads": 2, "ff": 32, "layers": 1},
            "math/quick": {"d_model": 128, "heads": 4, "ff": 256, "layers": 2, "dropout": 0.0},
            "math/paper": {"d_model": 512, "heads": 8, "ff": 2048, "layers": 6, "dropout": 0.1},
        },
        reference="Csordás et al. 2021, §4.6; paper_spec §4.6",
    ),
)
