"""I/O contracts between tasks and architectures (DESIGN.md, Interfaces).

A task declares one contract; an architecture offers a factory per contract kind it supports.
Loss, decoding, masking and scoring stay in modbench, never in an architecture.
"""
from __future__ import annotations

from dataclasses import dataclass


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


Contract = VectorIO
