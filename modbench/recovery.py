"""How well a task's masks recover a planted ground truth (DESIGN.md, "Ground truth").

A planted network declares its modules (`archs/planted.py`); a planted task maps each
sub-function to one (`PlantedTask.ground_truth`). For sub-function f with kept set K_f, planted
module P_f and U = ∪_g K_g (every weight some sub-function mask keeps):

- `recovery_precision/f` = |K_f ∩ P_f| / |K_f|: the share of f's kept weights inside its module;
- `recovery_iou/f` = |K_f ∩ P_f| / |K_f ∪ (P_f ∩ U)|: the IoU of f's kept set with its module,
  among the weights the masks use. A sparse mask need not keep a whole module (dropping its
  redundant weights is no error), but every weight of P_f that another sub-function's mask
  keeps, f's must keep too, and nothing outside P_f. 1 = the masks' partition is the planted
  one: on disjoint modules each mask keeps only its own; on a shared module both keep one set.

Pure functions of bool tensors; the pipeline passes them the masked tensors only, and the
planted network's `planted_partition()` (`archs/planted.py`) as the modules.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

if TYPE_CHECKING:
    import torch

    from modbench.masking import MaskSet


def recovery_scores(masks: Mapping[str, "MaskSet"], modules: Sequence[Mapping[str, "torch.Tensor"]],
                    ground_truth: Mapping[str, int]) -> dict[str, float | None]:
    """`recovery_precision/<f>` and `recovery_iou/<f>` of the sub-function masks `masks`;
    `modules[i]` maps each tensor to a bool [tensor's shape] of the weights module i owns (a
    tensor it has no weight of may be left out), `ground_truth[f]` is the module of sub-function
    f. None where the quotient is 0/0 (a mask that keeps nothing)."""
    import torch

    names = sorted({n for m in masks.values() for n in m.masks})
    union = {n: torch.stack([m.masks[n] for m in masks.values()]).any(0) for n in names}
    scores: dict[str, float | None] = {}
    for f, module in ground_truth.items():
        kept = masks[f].masks
        planted = {n: modules[module][n].to(kept[n].device) for n in names if n in modules[module]}
        inside = sum(int((kept[n] & p).sum()) for n, p in planted.items())  # |K_f ∩ P_f|
        total = sum(int(kept[n].sum()) for n in names)  # |K_f|
        used = sum(int((union[n] & p).sum()) for n, p in planted.items())  # |P_f ∩ U|
        # |K_f ∪ (P_f ∩ U)| = |K_f| + |P_f ∩ U| − |K_f ∩ P_f| (K_f ∩ P_f lies in both)
        scores[f"recovery_precision/{f}"] = inside / total if total else None
        scores[f"recovery_iou/{f}"] = inside / (total + used - inside) if total + used - inside else None
    return scores
