"""Binary masks over a model's weights, with the set algebra the scores need.

A MaskSet maps parameter names (as in `named_parameters()`) to bool tensors of the parameter's
shape. A parameter missing from the set is used unmasked (paper_spec §1.7).
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping

import torch

from modbench.errors import ModbenchError

if TYPE_CHECKING:
    from modbench.masking.convergence import StageConvergence


HISTOGRAM_BINS = 20  # equal bins over [0, 1] of the keep-probabilities σ(logit)


@dataclass(frozen=True)
class MaskSet:
    masks: Mapping[str, torch.Tensor]  # name -> bool tensor, shape of the parameter
    # Counts of the trained keep-probabilities σ(logit) of every masked weight in HISTOGRAM_BINS
    # bins (None for sets made by algebra or loaded from disk): a mask that has converged is
    # bimodal at 0 and 1; one stopped early still has weights near its initial σ(2) ≈ 0.88.
    keep_probability_histogram: tuple[int, ...] | None = field(default=None, compare=False)
    # How far the stage's decisions had settled (masking.convergence.StageConvergence; None for
    # sets made by algebra or loaded from disk).
    convergence: StageConvergence | None = field(default=None, compare=False)
    # Per tensor, the score behind each keep decision, float [parameter's shape]: the trained
    # logit (|w| for magnitude pruning). The ranking that threshold-free recovery reads
    # (modbench.recovery); None for sets made by algebra, at random or loaded from disk.
    keep_scores: Mapping[str, torch.Tensor] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name, mask in self.masks.items():
            if mask.dtype != torch.bool:
                raise TypeError(f"mask {name!r} has dtype {mask.dtype}, expected torch.bool")

    # -- algebra ---------------------------------------------------------------------------
    def __and__(self, other: "MaskSet") -> "MaskSet":
        """Intersection, restricted to the names both sets mask."""
        return MaskSet({n: m & other.masks[n] for n, m in self.masks.items() if n in other.masks})

    def __or__(self, other: "MaskSet") -> "MaskSet":
        """Union; a name masked in only one operand keeps that operand's mask."""
        out = dict(other.masks)
        for n, m in self.masks.items():
            out[n] = m | other.masks[n] if n in other.masks else m
        return MaskSet(out)

    def __invert__(self) -> "MaskSet":
        """The paper's inverse ¬M: keep exactly the weights M dropped, in every masked tensor."""
        return MaskSet({n: ~m for n, m in self.masks.items()})

    def with_layers_from(self, other: "MaskSet", names: Iterable[str]) -> "MaskSet":
        """This set with the given tensors' masks taken from `other` (e.g. the control mask in
        the I/O layers for the hidden-layers-only removal)."""
        out = dict(self.masks)
        for n in names:
            out[n] = other.masks[n]
        return MaskSet(out)

    def random_like(self, generator: torch.Generator, keep: Iterable[str] = ()) -> "MaskSet":
        """A uniformly random mask with this set's kept count in every tensor (a score's null,
        modbench.nulls); tensors in `keep` are copied as they are."""
        keep = set(keep)
        out = {}
        for name, mask in self.masks.items():
            if name in keep:
                out[name] = mask
                continue
            flat = torch.zeros(mask.numel(), dtype=torch.bool)
            flat[torch.randperm(mask.numel(), generator=generator)[: int(mask.sum())]] = True
            out[name] = flat.view(mask.shape)
        return MaskSet(out)

    # -- statistics ------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return list(self.masks)

    def kept(self) -> dict[str, int]:
        return {n: int(m.sum()) for n, m in self.masks.items()}

    def density(self) -> dict[str, float]:
        """Per-tensor share of weights kept."""
        return {n: float(m.float().mean()) for n, m in self.masks.items()}

    def total_density(self) -> float:
        total = sum(m.numel() for m in self.masks.values())
        return sum(self.kept().values()) / total if total else 0.0

    def iou(self, other: "MaskSet", names: Iterable[str] | None = None) -> float | None:
        """|a ∧ b| / |a ∨ b| summed over the given tensors (all common ones by default)."""
        inter, union, _, _ = _counts(self, other, names)
        return inter / union if union else None

    def iomin(self, other: "MaskSet", names: Iterable[str] | None = None) -> float | None:
        """|a ∧ b| / min(|a|, |b|) summed over the given tensors."""
        inter, _, a, b = _counts(self, other, names)
        return inter / min(a, b) if min(a, b) else None

    def shared_fraction(self, other: "MaskSet", names: Iterable[str] | None = None) -> float | None:
        """The paper's "total shared": |a ∧ b| / |a| (paper_spec §3.4)."""
        inter, _, a, _ = _counts(self, other, names)
        return inter / a if a else None

    # -- storage ---------------------------------------------------------------------------
    def as_tensors(self, prefix: str = "") -> dict[str, torch.Tensor]:
        """The masks keyed "<prefix><parameter>", ready for `save_masks`."""
        return {f"{prefix}{n}": m.contiguous() for n, m in self.masks.items()}


def _counts(a: MaskSet, b: MaskSet, names: Iterable[str] | None) -> tuple[int, int, int, int]:
    selected = list(names) if names is not None else [n for n in a.masks if n in b.masks]
    inter = union = size_a = size_b = 0
    for n in selected:
        ma, mb = a.masks[n], b.masks[n]
        inter += int((ma & mb).sum())
        union += int((ma | mb).sum())
        size_a += int(ma.sum())
        size_b += int(mb.sum())
    return inter, union, size_a, size_b


def save_masks(path: Path, masks: Mapping[str, MaskSet]) -> None:
    """Write several named mask sets to one safetensors file (tensors only, never pickles).

    Keys are "<set>/<parameter>". The write is atomic: a temporary file of a unique name, then
    a rename.
    """
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    for set_name, mask_set in masks.items():
        tensors.update(mask_set.as_tensors(prefix=f"{set_name}/"))
    descriptor, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # unique per writer
    os.close(descriptor)
    try:
        save_file(tensors, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_masks(path: Path) -> dict[str, MaskSet]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as err:
        raise ModbenchError(f"cannot read masks from {path}: {err}; rerun the run to rewrite it")
    grouped: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in tensors.items():
        set_name, _, param = key.partition("/")
        grouped.setdefault(set_name, {})[param] = tensor
    return {name: MaskSet(ms) for name, ms in grouped.items()}
