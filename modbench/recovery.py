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
- `recovery_auroc/f`, where the network has more than one module: among the same used weights
  U, the chance that a weight of P_f outranks one outside it by f's keep score (the trained
  logit; |w| for magnitude pruning; the binary mask for sets without scores, e.g. the nulls'
  random masks), ties counting half. The threshold-free view of the IoU: it asks whether the
  method's ranking separates the modules, whatever density its threshold picked. 1 = every
  weight of f's module ranks above every other used weight; 0.5 = no better than chance.

Pure functions of the masks (bool) and their keep scores; the pipeline passes them the masked tensors only, and the
planted network's `planted_partition()` (`archs/planted.py`) as the modules.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

if TYPE_CHECKING:
    import torch

    from modbench.masking import MaskSet


def recovery_scores(masks: Mapping[str, "MaskSet"], modules: Sequence[Mapping[str, "torch.Tensor"]],
                    ground_truth: Mapping[str, int]) -> dict[str, float | None]:
    """`recovery_precision/<f>`, `recovery_iou/<f>` and `recovery_auroc/<f>` of the sub-function
    masks `masks`; `modules[i]` maps each tensor to a bool [tensor's shape] of the weights module
    i owns (a tensor it has no weight of may be left out), `ground_truth[f]` is the module of
    sub-function f. None where the quotient is 0/0 (a mask that keeps nothing)."""
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
        if len(modules) > 1:  # one module owns every weight: nothing to rank it against
            scores[f"recovery_auroc/{f}"] = _auroc(masks[f], names, union, planted)
    return scores


def _auroc(mask: "MaskSet", names: Sequence[str], union: Mapping[str, "torch.Tensor"],
           planted: Mapping[str, "torch.Tensor"]) -> float | None:
    """P(score of a weight in P_f ∩ U > score of one in U ∖ P_f), ties ½ (Mann–Whitney U over
    n₊·n₋); None if either side is empty."""
    import numpy as np
    import torch
    from scipy.stats import rankdata

    scores = mask.keep_scores if mask.keep_scores and all(n in mask.keep_scores for n in names) else None
    inside, outside = [], []
    for n in names:
        score = (scores[n] if scores is not None else mask.masks[n]).detach().float().cpu()
        used = union[n].cpu()
        own = planted[n].cpu() if n in planted else torch.zeros_like(used)
        inside.append(score[used & own])  # [n₊ of this tensor]
        outside.append(score[used & ~own])  # [n₋ of this tensor]
    positive, negative = torch.cat(inside).numpy(), torch.cat(outside).numpy()
    if not len(positive) or not len(negative):
        return None
    ranks = rankdata(np.concatenate([positive, negative]))  # average ranks: a tie counts ½
    u = ranks[: len(positive)].sum() - len(positive) * (len(positive) + 1) / 2
    return float(u / (len(positive) * len(negative)))
