"""Sequence tasks' machinery, owned by modbench (DESIGN.md, Interfaces): teacher-forced loss,
greedy decoding and exact-match accuracy (paper_spec §3.1, §4.6).

A batch is `(src [B, S], src_len [B], tgt [B, T], tgt_len [B])`: source ids padded with 0, target
ids padded with EOS (0), width at least max(tgt_len) + 1 so every sequence's EOS fits.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from modbench.contracts import SequenceIO
from modbench.contracts import Batch, ForwardFn
from modbench.masking.trainer import optional_method

EOS = SequenceIO.EOS


def trim(batch: Batch) -> Batch:
    """Cut the padding that no sequence of this batch needs (batches are sampled sorted by
    target length, so a chunk of one is nearly free of padding)."""
    src, src_len, tgt, tgt_len = batch
    return src[:, : int(src_len.max())], src_len, tgt[:, : int(tgt_len.max()) + 1], tgt_len


def decoder_input(tgt: torch.Tensor, sos: int) -> torch.Tensor:
    """Teacher forcing: SOS followed by the target shifted right. [B, T] -> [B, T]."""
    return torch.cat([torch.full_like(tgt[:, :1], sos), tgt[:, :-1]], dim=1)


def sequence_loss(forward: ForwardFn, batch: Batch, sos: int) -> torch.Tensor:
    """Token cross-entropy over each sequence and its EOS, summed over time and divided by the
    batch size (paper_spec §4.6). Teacher-forced."""
    src, src_len, tgt, tgt_len = trim(batch)
    logits = forward(src, src_len, decoder_input(tgt, sos))  # [B, T, vocab]
    valid = torch.arange(tgt.shape[1], device=tgt.device) <= tgt_len.unsqueeze(1)  # [B, T]: tokens and EOS
    token_loss = F.cross_entropy(logits.transpose(1, 2), tgt, reduction="none")  # [B, T]
    return (token_loss * valid).sum() / len(tgt)


def bucketed_loss(forward: ForwardFn, batch: Batch, sos: int, bucket: int = 32) -> torch.Tensor:
    """`sequence_loss` of the whole batch, computed `bucket` rows at a time: a batch sampled
    sorted by length then pads each bucket only to its own longest sequence."""
    n = len(batch[0])
    if n <= bucket:
        return sequence_loss(forward, batch, sos)
    return sum(
        sequence_loss(forward, tuple(t[i : i + bucket] for t in batch), sos) * min(bucket, n - i) / n
        for i in range(0, n, bucket)
    )


@torch.no_grad()
def greedy_decode(
    model: ForwardFn, src: torch.Tensor, src_len: torch.Tensor, steps: int, sos: int
) -> torch.Tensor:
    """Greedy tokens [B, steps]; stops early once every sequence has emitted EOS (later tokens
    cannot change a prediction's length). Uses the model's incremental `start`/`step` when it
    offers them, else re-runs `forward` on the growing prefix."""
    start, step = optional_method(model, "start"), optional_method(model, "step")
    batch = len(src)
    tokens = torch.full((batch, steps), EOS, dtype=torch.long)
    prefix = torch.full((batch, 1), sos, dtype=torch.long)
    state = start(src, src_len) if start and step else None
    done = torch.zeros(batch, dtype=torch.bool)
    for t in range(steps):
        if state is not None:
            logits, state = step(state, prefix[:, -1])
        else:
            logits = model(src, src_len, prefix)[:, -1]
        token = logits.argmax(-1)  # [B]
        tokens[:, t] = token.masked_fill(done, EOS)
        done |= token == EOS
        if bool(done.all()):
            break
        prefix = torch.cat([prefix, token.unsqueeze(1)], dim=1)
    return tokens


def exact_match(predicted: torch.Tensor, tgt: torch.Tensor, tgt_len: torch.Tensor) -> torch.Tensor:
    """[B] bool: every token up to the reference length right and EOS exactly there (the
    predicted length is the position of the first EOS; paper_spec §3.1)."""
    width = int(tgt_len.max()) + 1
    predicted, tgt = predicted[:, :width], tgt[:, :width]
    within = torch.arange(width, device=tgt.device) <= tgt_len.unsqueeze(1)  # reference tokens and its EOS
    return ((predicted == tgt) | ~within).all(1)


@torch.no_grad()
def sequence_accuracy(model: ForwardFn, data: Batch, sos: int, batch_size: int = 1024) -> float:
    """Exact-match accuracy of greedy decoding over `data` (one tensor tuple, any order).
    Batches are formed in order of target length so each decodes only as far as it must."""
    src, src_len, tgt, tgt_len = data
    order = torch.argsort(tgt_len, stable=True)
    correct = 0
    for start in range(0, len(order), batch_size):
        part = trim(tuple(t[order[start : start + batch_size]] for t in data))
        steps = int(part[3].max()) + 1
        predicted = greedy_decode(model, part[0], part[1], steps, sos)
        correct += int(exact_match(predicted, part[2], part[3]).sum())
    return correct / len(order)
