"""The modularity scores of DESIGN.md ("Scores"), as pure functions of accuracies.

`acc[variant][f]` is the accuracy on sub-function f's evaluation data with mask `variant`:
"control" (C), f (M_f), "not_f" (¬M_f), "control_minus_f" (C ∧ ¬M_f) and
"control_minus_f_hidden" (C ∧ ¬M_f in hidden layers, C in the I/O layers).
A score is None, with a reason, when the control mask does not perform a sub-function (the network
never learned it, or its control mask lost it).
"""
from __future__ import annotations

from itertools import permutations
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

if TYPE_CHECKING:
    import torch

Accuracies = Mapping[str, Mapping[str, float]]


def not_variant(f: str) -> str:
    return f"not_{f}"


def removal_variant(f: str, hidden_only: bool = False) -> str:
    return f"control_minus_{f}" + ("_hidden" if hidden_only else "")


def learned(acc_control: float, chance: float) -> bool:
    """The control mask is well above chance: at least halfway from chance to perfect
    (with a 1e-12 tolerance, so 0.6 vs chance 0.2 counts despite float rounding)."""
    return acc_control - chance >= 0.5 * (1 - chance) - 1e-12


def normalised(acc: float, acc_control: float, chance: float) -> float:
    """n(f | M): accuracy rescaled so chance is 0 and the control mask is 1, clipped to [0, 1]."""
    return min(max((acc - chance) / (acc_control - chance), 0.0), 1.0)


def _not_learned(acc: Accuracies, chance: Mapping[str, float], subs: Sequence[str]) -> str | None:
    missing = [f for f in subs if not learned(acc["control"][f], chance[f])]
    if not missing:
        return None
    details = ", ".join(
        f"{f}: control acc {acc['control'][f]:.3f}, chance {chance[f]:.3f}" for f in missing
    )
    return f"the network did not learn {details} (needs control acc ≥ halfway from chance to 1)"


def _pair_mean(
    acc: Accuracies,
    chance: Mapping[str, float],
    subs: Sequence[str],
    term: Callable[[Callable[[str, str], float], str, str], float],
) -> tuple[float | None, str | None]:
    reason = _not_learned(acc, chance, subs)
    if reason is not None:
        return None, reason

    def n(f: str, variant: str) -> float:
        return normalised(acc[variant][f], acc["control"][f], chance[f])

    pairs = list(permutations(subs, 2))
    return sum(term(n, f, g) for f, g in pairs) / len(pairs), None


def p_specialize(acc: Accuracies, chance: Mapping[str, float], subs: Sequence[str]):
    """Mean over ordered pairs (f, g), f ≠ g, of n(f | M_f) · (1 − n(g | M_f))."""
    return _pair_mean(acc, chance, subs, lambda n, f, g: n(f, f) * (1 - n(g, f)))


def p_specialize_removal(acc: Accuracies, chance: Mapping[str, float], subs: Sequence[str]):
    """The removal view: mean of n(g | ¬M_f) · (1 − n(f | ¬M_f))."""
    return _pair_mean(
        acc, chance, subs, lambda n, f, g: n(g, not_variant(f)) * (1 - n(f, not_variant(f)))
    )


def p_reuse(
    acc: Accuracies, chance: Mapping[str, float], subs: Sequence[str], strict: bool = False
):
    """Mean over ordered pairs of n(f | M_f) · (1 − n(g | R_f)), with R_f = ¬M_f (the paper's
    test) or, strict, C ∧ ¬M_f in the hidden layers and C in the I/O layers."""
    def removed(f: str) -> str:
        return removal_variant(f, hidden_only=True) if strict else not_variant(f)

    return _pair_mean(acc, chance, subs, lambda n, f, g: n(f, f) * (1 - n(g, removed(f))))


def compute_scores(
    kind: str, acc: Accuracies, chance: Mapping[str, float], subs: Sequence[str]
) -> tuple[dict[str, float | None], dict[str, str]]:
    """The scores a task of this kind reports, and the reason for every null one."""
    if kind == "specialize":
        wanted = {
            "p_specialize": p_specialize(acc, chance, subs),
            "p_specialize_removal": p_specialize_removal(acc, chance, subs),
        }
    else:
        wanted = {
            "p_reuse": p_reuse(acc, chance, subs),
            "p_reuse_strict": p_reuse(acc, chance, subs, strict=True),
        }
    values = {name: value for name, (value, _) in wanted.items()}
    notes = {name: reason for name, (_, reason) in wanted.items() if reason is not None}
    return values, notes


def sysgen_scores(
    acc: Accuracies, chance: Mapping[str, float], iid: str, splits: Sequence[str]
) -> tuple[dict[str, float | None], dict[str, str]]:
    """Systematic-generalisation scores (DESIGN.md), keyed `<score>/<split>`:

    - `iid_acc`: the unmasked network on the IID test set;
    - `combination_dependence/<s>` = acc(s test | C) − acc(s test | M_s), in [−1, 1]: the share
      of split s's test set that needed weights only its missing combinations use (lower is more
      compositional). Null when the network did not learn the IID task;
    - `sysgen_acc/<s>`: test accuracy of the architecture trained on split s itself, or of the
      IID network on an extrapolation set s (every entry of `acc["sysgen"]`).
    """
    scores: dict[str, float | None] = {"iid_acc": acc["full"][iid]}
    notes: dict[str, str] = {}
    reason = _not_learned(acc, chance, [iid])
    for s in splits:
        key = f"combination_dependence/{s}"
        scores[key] = None if reason else acc["control"][s] - acc[s][s]
        if reason:
            notes[key] = reason
    for s, value in acc["sysgen"].items():
        scores[f"sysgen_acc/{s}"] = value
    return scores, notes


def class_specificity(confusions: Mapping[str, "torch.Tensor"], removed: Mapping[str, int], chance: float
                      ) -> tuple[dict[str, float | None], dict[str, str]]:
    """Class-removal scores (paper_spec §3.7, DESIGN.md class specificity) from row-normalised
    confusion matrices C[true, predicted]: "control" is C_ref, stage s removed class removed[s].

    - `relative_drop/<c>` = −D_c[c, c] / C_ref[c, c], with D_c = C(mask without c) − C_ref: the
      share of class c's accuracy that its removal costs (1: all of it);
    - `other_target_share/<c>` = min(min_{j≠c} D_c[j, j] / C_ref[j, j], 0) / (D_c[c, c] / C_ref[c, c]):
      the largest relative drop of another class as a share of class c's (0: only c was hurt);
    - `relative_drop`, `other_target_share`: their means over the classes that have them.
    Null (with the reason) for a class the control mask does not keep (C_ref[c, c] below halfway
    from chance to 1: the network may have learned it, but the reference has lost it), and a
    share for a class whose accuracy did not drop.
    """
    reference = confusions["control"].diagonal()
    scores: dict[str, float | None] = {}
    notes: dict[str, str] = {}
    for stage, c in removed.items():
        change = (confusions[stage].diagonal() - reference) / reference.clamp_min(1e-12)  # D[j,j] / C_ref[j,j]
        drop_key, share_key = f"relative_drop/{c}", f"other_target_share/{c}"
        if not learned(float(reference[c]), chance):
            scores[drop_key] = scores[share_key] = None
            notes[drop_key] = notes[share_key] = (f"the control mask does not keep class {c} (accuracy "
                                                  f"{float(reference[c]):.3f}, chance {chance:.3f}): no "
                                                  "reference to drop from")
            continue
        scores[drop_key] = float(-change[c]) + 0.0  # + 0.0: no "-0.0" in the result file
        # every other class the control mask ever gets right (a 0 reference has no relative drop)
        others = [float(change[j]) for j in range(len(reference)) if j != c and reference[j] > 0]
        if change[c] >= 0:
            scores[share_key] = None
            notes[share_key] = f"class {c}'s accuracy did not drop without its weights ({float(-change[c]):+.3f})"
        else:
            scores[share_key] = min(min(others, default=0.0), 0.0) / float(change[c]) + 0.0  # no "-0.0"
    for summary in ("relative_drop", "other_target_share"):
        values = [v for k, v in scores.items() if k.startswith(summary + "/") and v is not None]
        scores[summary] = sum(values) / len(values) if values else None
        if not values:
            notes[summary] = f"no class has a {summary}"
    return scores, notes


def sharing_totals(pair_sharing: Sequence[Mapping[str, float | None]]) -> dict[str, float | None]:
    """The sharing totals of the first sub-function pair, as scores (score_specs.SHARING)."""
    first = pair_sharing[0]
    return {"shared_iou": first["iou"], "shared_iomin": first["iomin"],
            "shared_shared_fraction": first["shared_fraction"], "hidden_iomin": first["hidden_iomin"]}


def stability_iou(pair_ious: Mapping[str, float | None]) -> dict[str, float | None]:
    """The mean IoU of each class pair's two masks, over the pairs that have one."""
    values = [v for v in pair_ious.values() if v is not None]
    return {"stability_iou": sum(values) / len(values) if values else None}


def transfer_sharing(shared: Mapping[str, Mapping[str, float | None]], hidden: Sequence[str]) -> dict[str, float | None]:
    """`shared_fraction/<tensor>`: the mean over tasks of each hidden tensor's shared fraction."""
    scores = {}
    for name in hidden:
        values = [s[name] for s in shared.values() if s.get(name) is not None]
        scores[f"shared_fraction/{name}"] = sum(values) / len(values) if values else None
    return scores


def task_accuracy(accuracy: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Transfer's `task_accuracy`: the mean over tasks of each task's accuracy with its own mask."""
    return {"task_accuracy": sum(a[s] for s, a in accuracy.items()) / len(accuracy)}
