"""I/O contracts between tasks and architectures (DESIGN.md, Interfaces).

A task declares one contract; an architecture offers a factory per contract kind it supports.
Loss, decoding, masking and scoring stay in modbench, never in an architecture.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    import torch

# What flows between tasks, networks and trainers (strings: no torch needed to import this).
Batch = tuple["torch.Tensor", ...]
ForwardFn = Callable[..., "torch.Tensor"]  # a network, or a frozen one under a mask
LossFn = Callable[[ForwardFn, Batch], "torch.Tensor"]
SampleFn = Callable[[int, "torch.Generator"], Batch]


@dataclass(frozen=True)
class VectorIO:
    """Inputs `[batch, n_in]` → logits `[batch, n_heads × n_classes]` (head-major)."""

    n_in: int
    n_heads: int
    n_classes: int
    kind: str = "vector"

    @property
    def n_out(self) -> int:
        return self.n_heads * self.n_classes


@dataclass(frozen=True)
class SequenceIO:
    """`forward(src [batch, S], src_len [batch], tgt_in [batch, T])` → logits
    `[batch, T, tgt_vocab]`.

    Token ids: source 0 is padding (positions ≥ src_len hold it); target ids 0 … tgt_vocab − 1
    are the output classes with `EOS = 0`; the decoder input starts with `sos = tgt_vocab`, so
    a decoder embedding needs `tgt_vocab + 1` rows. Positions of `tgt_in` past a sequence's end
    hold EOS and their outputs are ignored. Causality is the architecture's duty: logits at t
    may depend on `tgt_in[:, : t + 1]` only.

    Optional incremental decoding (used by the harness when present, else it re-runs forward):
    `start(src, src_len) -> state` and `step(state, token [batch]) -> (logits [batch, tgt_vocab],
    state)`, where `state` is any tensors the architecture likes.
    """

    src_vocab: int
    tgt_vocab: int
    max_src_len: int
    max_tgt_len: int
    kind: str = "sequence"

    EOS = 0
    PAD = 0

    @property
    def sos(self) -> int:
        return self.tgt_vocab


@dataclass(frozen=True)
class ImageIO:
    """Images `[batch, channels, height, width]` (float, normalised) → logits `[batch, n_classes]`.

    Height 1 holds 1-D signals (MNIST-1D): architectures then convolve and pool along the width
    only. An architecture names its classifier's tensors in `output_parameters` (class removal
    freezes their mask to the control mask's); otherwise the last masked weight and bias count.
    """

    channels: int
    height: int
    width: int
    n_classes: int
    kind: str = "image"


Contract = VectorIO | SequenceIO | ImageIO
