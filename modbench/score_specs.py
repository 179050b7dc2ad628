"""Declared scores: per task kind, what each score is, its better direction, whether tables rank
it or only describe it, and its range. Validation, the leaderboard, `compare`, the legend and
the README's score table all read these declarations; nothing matches score names by prefix.

A family (`combination_dependence/<split>`) declares one score per instance: the part before
`<` is the prefix its instances share. Torch-free: the tables import it. A new task kind
registers its scores here from its own module (`SCORES.register(kind, (...))`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from modbench.errors import ModbenchError
from modbench.registry import Registry


@dataclass(frozen=True)
class ScoreSpec:
    name: str  # a score, or a family "name/<instance>"
    description: str
    higher_is_better: bool = True
    # Ranked scores get tiers, tests and the Friedman cells; described ones are shown only.
    ranked: bool = True
    low: float = 0.0
    high: float = 1.0

    def matches(self, score: str) -> bool:
        if "<" not in self.name:
            return score == self.name
        prefix = self.name.split("<", 1)[0]
        return score.startswith(prefix) and len(score) > len(prefix)


SCORES: Registry[tuple[ScoreSpec, ...]] = Registry("score kind")

# Sharing has no better direction: less means specialisation on addmul, more reuse on double
# addition (and in transfer), so tables describe it and never rank it.
SHARING = (
    ScoreSpec("shared_iou", "IoU of the first two sub-functions' masks", ranked=False),
    ScoreSpec("shared_iomin", "their intersection over the smaller mask", ranked=False),
    ScoreSpec("shared_shared_fraction", "the share of the first mask's weights the second keeps too", ranked=False),
    ScoreSpec("hidden_iomin", "intersection over the smaller mask in the hidden layers", ranked=False),
)
# Planted tasks only (modbench.recovery): how well the masks find the network's known modules.
RECOVERY = (
    ScoreSpec("recovery_iou/<sub>", "planted tasks: IoU of f's kept weights with f's planted module, among the "
              "weights any sub-function mask keeps"),
    ScoreSpec("recovery_precision/<sub>", "planted tasks: the share of f's kept weights inside f's planted module"),
    ScoreSpec("recovery_auroc/<sub>", "planted tasks with several modules: the chance that f's keep score ranks a used "
              "weight of f's module above a used weight outside it (ties ½; 0.5 = chance)"),
    # The analyzer track's other two axes: how sparse a method's masks are, and whether they keep
    # their function (a method can recover a partition by keeping too little to compute anything).
    ScoreSpec("mask_density/<sub>", "planted tasks: the share of the masked weights f's mask keeps",
              higher_is_better=False, ranked=False),
    ScoreSpec("faithfulness/<sub>", "planted tasks: acc(f | M_f) − acc(f | unmasked), 0 when the mask loses nothing",
              ranked=False, low=-1.0, high=1.0),
)
SCORES.register("specialize", (
    ScoreSpec("p_specialize", "mean over pairs of n(f | M_f) · (1 − n(g | M_f)): each mask performs its own function only"),
    ScoreSpec("p_specialize_removal", "the removal view: n(g | ¬M_f) · (1 − n(f | ¬M_f))"),
    *SHARING, *RECOVERY,
))
SCORES.register("reuse", (
    ScoreSpec("p_reuse", "mean over pairs of n(f | M_f) · (1 − n(g | ¬M_f)): removing one pair's mask breaks the other"),
    ScoreSpec("p_reuse_strict", "the same with C ∧ ¬M_f removed in the hidden layers only"),
    *SHARING, *RECOVERY,
))
SCORES.register("sysgen", (
    ScoreSpec("iid_acc", "the unmasked network's accuracy on the IID test set"),
    ScoreSpec("combination_dependence/<split>", "acc(s | C) − acc(s | M_s): the share of split s's test set that "
              "needed weights only its held-out combinations use", higher_is_better=False, low=-1.0),
    ScoreSpec("sysgen_acc/<set>", "test accuracy of the architecture trained on the split alone, or of the IID "
              "network on an extrapolation set"),
))
SCORES.register("class_removal", (
    ScoreSpec("relative_drop", "mean over classes of the share of a class's accuracy its removal costs", low=-1.0),
    ScoreSpec("other_target_share", "mean over classes of the largest other-class drop as a share of the "
              "target's", higher_is_better=False, high=math.inf),
    # per-class detail of the two means: ten cells each would swamp the Holm family and Friedman
    ScoreSpec("relative_drop/<class>", "one class's relative drop", ranked=False, low=-1.0),
    ScoreSpec("other_target_share/<class>", "one class's other/target share", higher_is_better=False, ranked=False,
              high=math.inf),
))
SCORES.register("stability", (
    ScoreSpec("stability_iou", "mean over class pairs of the IoU of two masks trained with different seeds"),
))
SCORES.register("transfer", (
    ScoreSpec("task_accuracy", "mean test accuracy of the permuted tasks with their own masks"),
    ScoreSpec("shared_fraction/<tensor>", "mean over tasks of the share of a task's mask among the earlier "
              "tasks' weights in this tensor", ranked=False),
))


def spec(kind: str, score: str) -> ScoreSpec:
    """The declaration of `score` in task kind `kind`; one line naming both when there is none."""
    if kind not in SCORES:
        import modbench.pipelines  # noqa: F401  (kinds defined outside this module register on import)
    for declared in SCORES.get(kind):
        if declared.matches(score):
            return declared
    raise ModbenchError(f"score {score!r} is not declared for task kind {kind!r}; declared: "
                        f"{', '.join(s.name for s in SCORES.get(kind))}")


def markdown_table() -> str:
    """Every declared score, per task kind: the README's score table is this, generated."""
    rows = ["| task kind | score | better | ranked | range | what it measures |", "|---|---|---|---|---|---|"]
    for kind in SCORES:
        for s in SCORES.get(kind):
            span = f"[{s.low:g}, {'∞' if s.high == math.inf else f'{s.high:g}'}]"
            what = s.description.replace("|", "\\|")  # a bar would end the Markdown cell
            better = "–" if not s.ranked else "higher" if s.higher_is_better else "lower"
            rows.append(f"| {kind} | `{s.name}` | {better} | "
                        f"{'yes' if s.ranked else 'described'} | {span} | {what} |")
    return "\n".join(rows)
