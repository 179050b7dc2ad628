"""The mask noise's counter-based uniform stream in plain torch, on any device.

The same numbers as the fused CPU kernels (kernels.counter_uniform: SplitMix64's output mix of
key + index·γ, top 24 bits as a float32 in [0, 1)), computed with int64 tensor arithmetic, so a
CUDA run draws exactly the uniforms a CPU run draws (tested bit-identical on the CPU). torch has
no uint64 arithmetic: additions and multiplications wrap modulo 2^64 in two's complement, which
is what the unsigned operations give; right shifts are arithmetic, so each is masked to be logical.
"""
from __future__ import annotations

import torch

from modbench.masking import kernels


def _signed(value: int) -> int:
    """A uint64 constant as the int64 with the same bits."""
    return value - 2**64 if value >= 2**63 else value


GAMMA = _signed(int(kernels.GAMMA))
MIX1, MIX2 = _signed(int(kernels._MIX1)), _signed(int(kernels._MIX2))


def _shift_right(z: torch.Tensor, bits: int) -> torch.Tensor:
    """Logical right shift of int64 bit patterns."""
    return (z >> bits) & ((1 << (64 - bits)) - 1)


def mix64(z: torch.Tensor) -> torch.Tensor:
    """SplitMix64's output function on int64 bit patterns (kernels.mix64)."""
    z = (z ^ _shift_right(z, 30)) * MIX1
    z = (z ^ _shift_right(z, 27)) * MIX2
    return z ^ _shift_right(z, 31)


def counter_uniform(key: int, first: int, count: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Numbers first … first + count − 1 of stream `key`, float32 [count] on `device`."""
    index = torch.arange(count, dtype=torch.int64, device=device) + _signed(first % 2**64)
    z = mix64(index * GAMMA + _signed(key % 2**64))
    return _shift_right(z, 40).to(torch.float32) * 2.0**-24
