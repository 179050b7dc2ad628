"""Evaluate a frozen network under every mask variant; per-layer mask statistics and sharing."""
from __future__ import annotations

from itertools import combinations
from typing import Mapping, Sequence

from modbench.masking import FrozenModel, MaskSet
from modbench.scores import not_variant, removal_variant
from modbench.tasks.base import Task


def mask_variants(
    control: MaskSet, sub_masks: Mapping[str, MaskSet], io_names: Sequence[str]
) -> dict[str, MaskSet]:
    """C, and for every sub-function f: M_f, ¬M_f, C ∧ ¬M_f, and C ∧ ¬M_f with C in I/O."""
    variants = {"control": control}
    for f, mask in sub_masks.items():
        removed = control & ~mask
        variants[f] = mask
        variants[not_variant(f)] = ~mask
        variants[removal_variant(f)] = removed
        variants[removal_variant(f, hidden_only=True)] = removed.with_layers_from(control, io_names)
    return variants


def evaluate_variants(
    frozen: FrozenModel, task: Task, variants: Mapping[str, MaskSet]
) -> dict[str, dict[str, float]]:
    """acc[variant][f] for every variant, plus "full" (the unmasked network)."""
    acc = {"full": {f: task.accuracy(frozen.forward_with(None), f) for f in task.subfunctions}}
    for name, mask_set in variants.items():
        forward = frozen.forward_with(mask_set)
        acc[name] = {f: task.accuracy(forward, f) for f in task.subfunctions}
    return acc


def _pair_stats(a: MaskSet, b: MaskSet, names: Sequence[str]) -> dict[str, float | None]:
    return {
        "iou": a.iou(b, names),
        "iomin": a.iomin(b, names),
        "shared_fraction": a.shared_fraction(b, names),
    }


def layer_statistics(
    stages: Mapping[str, MaskSet], subs: Sequence[str], io_names: Sequence[str]
) -> dict[str, dict]:
    """Per masked tensor: size, whether it is an I/O tensor, each stage's density, and
    IoU / IoMin / shared fraction for each pair of sub-function masks."""
    control = stages["control"]
    stats = {}
    for name, mask in control.masks.items():
        stats[name] = {
            "size": mask.numel(),
            "io": name in io_names,
            "density": {stage: float(m.masks[name].float().mean()) for stage, m in stages.items()},
            "pairs": [
                {"a": f, "b": g, **_pair_stats(stages[f], stages[g], [name])}
                for f, g in combinations(subs, 2)
            ],
        }
    return stats


def sharing(
    stages: Mapping[str, MaskSet], subs: Sequence[str], io_names: Sequence[str]
) -> list[dict]:
    """Totals over all tensors, and over hidden (non-I/O) tensors only, per sub-function pair."""
    names = stages["control"].names
    hidden = [n for n in names if n not in io_names]
    out = []
    for f, g in combinations(subs, 2):
        total = _pair_stats(stages[f], stages[g], names)
        out.append(
            {
                "a": f,
                "b": g,
                **total,
                "hidden_iou": stages[f].iou(stages[g], hidden),
                "hidden_iomin": stages[f].iomin(stages[g], hidden),
            }
        )
    return out


def output_row_removal(
    control: MaskSet, split_mask: MaskSet, output_name: str, tokens: Sequence[str]
) -> dict[str, float | None]:
    """Per output token (a row of the output projection), the share of the control mask's
    weights that the split's mask removes: |m_C ∧ ¬m_s|_row / |m_C|_row (paper_spec §3.10,
    Figure 4b). None for a row the control mask removed entirely."""
    kept = control.masks[output_name]  # [tokens, hidden]
    removed = (kept & ~split_mask.masks[output_name]).sum(1)
    total = kept.sum(1)
    return {
        token: (float(r) / float(t) if t else None) for token, r, t in zip(tokens, removed, total)
    }
