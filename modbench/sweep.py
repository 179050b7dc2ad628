"""Modularity against density: the same runs at several β, one network per seed (DESIGN.md,
"Ground truth"; issue 26).

A score read at one β says how modular the masks at that sparsity are; the paper shows its
scores flat over a range of β (paper_spec §4.2, `addmul_ff_alpha_analysis`). `modbench sweep`
runs every β into `OUT/beta=<β>/` (one trained network per seed, from a network cache), then
writes `OUT/curve.json`: per β, the mean density of the sub-function masks, the control mask's
accuracy and every score; per score, the normalised area under its score-vs-density curve
(trapezoids over the densities the sweep reached, divided by their span: the curve's mean
height, in the score's own units). The leaderboard lists the areas (described, not ranked) and
`modbench plot` draws the curves.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from modbench import results
from modbench.errors import ModbenchError
from modbench.io import write_atomic

CURVE_FILE = "curve.json"


def beta_folder(out: Path, beta: float) -> Path:
    return out / f"beta={beta:g}"


def run_sweep(arch: str, task: str, tier: str, seeds: Sequence[int], betas: Sequence[float], out: Path,
              overrides: tuple[tuple[str, Any], ...] = (), **grid: Any) -> int:
    """Every (β, seed) not finished yet, then the curve. Returns run_grid's exit status (1 if any failed)."""
    from modbench.run import run_grid

    if len(set(betas)) < 2:
        raise ModbenchError("a sweep needs at least two distinct β values, e.g. --betas 3e-5,1e-4,3e-4")
    status = 0
    for beta in betas:
        status |= run_grid([arch], [task], tier, seeds, beta_folder(out, beta), (*overrides, ("mask.beta", beta)),
                           network_cache=out / ".networks", **grid)
    curve = density_curve([beta_folder(out, b) for b in betas], betas)
    write_atomic(out / CURVE_FILE, json.dumps(curve, indent=1, sort_keys=True))
    return status


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _control_accuracy(run: dict) -> float | None:
    """The control mask's mean accuracy over the family's reference sets; None for transfer, which
    has no control mask (its weights and masks train jointly)."""
    control = run["accuracy"].get("control", {})
    return _mean([control[s] for s in run["convergence"]["reference_sets"] if s in control])


def density_curve(folders: Sequence[Path], betas: Sequence[float]) -> dict:
    """curve.json from the finished results of each β's folder."""
    points, names = [], {}
    for folder, beta in zip(folders, betas):
        runs = [r for r in (results.load(p) for p in results.files_under(folder)) if r["status"] == "ok"]
        if not runs:
            continue
        names = {"task": runs[0]["task"]["name"], "arch": runs[0]["architecture"]["name"], "tier": runs[0]["tier"]}
        subs = runs[0]["task"]["subfunctions"]
        density = _mean([sum(r["masks"]["density"][f] for f in subs) / len(subs) for r in runs])
        control = _mean([a for a in map(_control_accuracy, runs) if a is not None])
        scores = {s: _mean([r["scores"][s] for r in runs if r["scores"].get(s) is not None])
                  for s in runs[0]["scores"]}
        points.append({"beta": beta, "seeds": len(runs), "density": density, "control_accuracy": control,
                       "converged": sum(r["convergence"]["converged"] for r in runs), "scores": scores})
    if not points:
        raise ModbenchError(f"no finished results under {', '.join(map(str, folders))} to draw a curve from")
    areas = {s: area_under([(p["density"], p["scores"][s]) for p in points]) for s in points[0]["scores"]}
    return {**names, "points": points, "area_under_curve": areas}


def unconverged_betas(curve: dict) -> list[float]:
    """The β values where not every seed's masks converged: their scores read the step budget, not
    the masks' sparsity (README, "Mask convergence"), so the board and the figure name them."""
    return [p["beta"] for p in curve["points"] if p.get("converged") != p.get("seeds")]


def area_under(points: Sequence[tuple[float | None, float | None]]) -> float | None:
    """The normalised area under score(density): trapezoids over the points sorted by density,
    divided by the density span (None: fewer than two points with values, or no span)."""
    known = sorted((d, s) for d, s in points if d is not None and s is not None)
    if len(known) < 2 or known[-1][0] == known[0][0]:
        return None
    area = sum((d1 - d0) * (s0 + s1) / 2 for (d0, s0), (d1, s1) in zip(known, known[1:]))
    return area / (known[-1][0] - known[0][0])


def curve_files(folders: Sequence[Path]) -> list[Path]:
    return sorted(p for folder in folders for p in Path(folder).rglob(CURVE_FILE) if p.is_file())


def load_curve(path: Path) -> dict:
    """A curve.json, bounded like a result file and checked for the keys the tools read."""
    curve = results.read_json(path)
    if (not isinstance(curve, dict) or not all(isinstance(curve.get(k), str) for k in ("task", "arch", "tier"))
            or not isinstance(curve.get("points"), list) or not isinstance(curve.get("area_under_curve"), dict)):
        raise ModbenchError(f"{path}: not a sweep curve (task, arch, tier, points, area_under_curve); "
                            "write it again with `modbench sweep`")
    return curve
