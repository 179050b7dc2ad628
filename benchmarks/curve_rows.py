"""Print the README's density-curve table from the committed sweeps (`curves/<task>/curve.json`;
issue 26): per sweep and β the masks' density, the control mask's accuracy, how many masks
converged and the family's headline scores, then each score's area under its curve.

Kept in the repository, not /tmp (wiped between sessions), so the table can be regenerated and
checked from the files alone:

    python benchmarks/curve_rows.py curves
"""
from __future__ import annotations

import sys
from pathlib import Path

from modbench.sweep import curve_files, load_curve

# The scores each family's row shows (every score is in curve.json and on the board).
HEADLINE = {
    "double_add": ("p_reuse", "p_reuse_strict"),
    "planted_specialize": ("p_specialize", "recovery_iou/add", "recovery_iou/mul", "recovery_auroc/add", "recovery_auroc/mul"),
    "math_place_value": ("combination_dependence/hard", "iid_acc", "sysgen_acc/extrapolate"),
    "scan": ("combination_dependence/jump", "combination_dependence/length", "combination_dependence/turn_left"),
    "class_removal": ("relative_drop", "other_target_share"),
}
FAMILY = {"double_add": "arithmetic", "addmul": "arithmetic", "planted_specialize": "planted", "scan": "SCAN",
          "transfer": "transfer", "class_removal": "images", "mask_stability": "images",
          **dict.fromkeys(("math_add_or_sub", "math_linear_1d", "math_place_value", "math_sort"), "mathematics")}


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def rows(folder: Path) -> list[str]:
    out = ["| family | task · arch | β | density | control accuracy | converged | scores |", "|---|---|---|---|---|---|---|"]
    for path in curve_files([folder]):
        curve = load_curve(path)
        task = curve["task"]
        family = FAMILY.get(task, task)
        shown = HEADLINE.get(task, tuple(curve["area_under_curve"]))
        for p in sorted(curve["points"], key=lambda p: p["beta"]):
            scores = ", ".join(f"{s} {_num(p['scores'].get(s))}" for s in shown)
            out.append(f"| {family} | {task} · {curve['arch']} | {p['beta']:g} | {_num(p['density'])} | "
                       f"{_num(p['control_accuracy'])} | {p['converged']}/{p['seeds']} | {scores} |")
        out.append("| | | **area** | | | | " + ", ".join(f"{s} {_num(curve['area_under_curve'].get(s))}" for s in shown) + " |")
    return out


if __name__ == "__main__":
    print("\n".join("  " + line for line in rows(Path(sys.argv[1] if len(sys.argv) > 1 else "curves"))))
