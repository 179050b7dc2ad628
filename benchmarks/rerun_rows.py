"""Print the rows that summarise a re-run task: rerun/README's table and the README's
convergence table, read from the committed result files (issue 21).

Earlier sessions kept these helpers in /tmp, which is wiped between sessions; the rows are
derived from the result files alone, so anyone can regenerate and check them.

    python benchmarks/rerun_rows.py rerun/math_sort
    python benchmarks/rerun_rows.py baselines/math_sort --findings   # the README's findings table
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path

from modbench.results import read_json  # bounded, one-line errors; no torch


def load_runs(task_dir: Path) -> dict[str, list[dict]]:
    """Quick-tier results per architecture, ordered by seed: {arch: [result, ...]}."""
    runs: dict[str, list[dict]] = {}
    for arch_dir in sorted(p for p in task_dir.iterdir() if p.is_dir()):
        files = sorted((arch_dir / "quick").glob("seed*/result.json"),
                       key=lambda f: int(f.parent.name.removeprefix("seed")))
        if files:
            runs[arch_dir.name] = [read_json(f) for f in files]
    return runs


def control_drop_points(result: dict) -> list[float]:
    """Unmasked minus control-mask accuracy on each reference set, in points."""
    acc, sets = result["accuracy"], result["convergence"]["reference_sets"]
    return [100 * (acc["full"][s] - acc["control"][s]) for s in sets]


def control_undecided(result: dict) -> float:
    """The control stage's undecided share; transfer has no control stage, so its largest stage's
    (the README's convergence table says which)."""
    stages = result["convergence"]["stages"]
    return stages["control"]["undecided"] if "control" in stages else largest_undecided(result["convergence"])


def shown(value: float, fmt: str) -> str:
    """`value` formatted, never as "-0.0" (a drop of -0.04 points reads 0.0)."""
    text = format(value, fmt)
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def largest_undecided(conv: dict) -> float:
    """A run's worst stage: the largest undecided share over its mask stages."""
    return max(s["undecided"] for s in conv["stages"].values())


def smallest_late_iou(conv: dict) -> float | None:
    """A run's smallest late IoU, floored to 3 digits as gating.py floors to 4 (0.9796 must not
    read 0.980); None for results without late flips (schema 2)."""
    values = [s["late_iou"] for s in conv["stages"].values()]
    return None if any(v is None for v in values) else math.floor(min(values) * 1e3) / 1e3


def joined(values, fmt: str) -> str:
    return ", ".join(shown(v, fmt) for v in values)


def rerun_row(task: str, version: int, arch: str, results: list[dict]) -> str:
    """One row of rerun/README.md's table."""
    conv = [r["convergence"] for r in results]
    crit = conv[0]["criterion"]
    sets = conv[0]["reference_sets"]
    undecided = [largest_undecided(c) for c in conv]
    late = [smallest_late_iou(c) for c in conv]
    seeds = [r["seeds"]["run"] for r in results]
    walls = [r["wall_time_s"]["total"] for r in results]
    n_ok = sum(c["converged"] for c in conv)
    parts = [f"largest undecided share per run {joined(undecided, '.2f')}, at most {crit['max_undecided']:.2f}"]
    if all(v is not None for v in late):
        parts.append(f"smallest late IoU per run {joined(late, '.3f')}, at least {crit['min_late_iou']:.2f}")
    if sets:  # transfer has none: its weights and masks train together
        drops = [max(control_drop_points(r)) for r in results]
        parts.append(f"control mask {joined(drops, '.1f')} points below the unmasked network on "
                     f"{', '.join(sets)}, at most {100 * crit['max_control_drop']:g}")
        parts.append(f"unmasked accuracy on {sets[0]} {joined((r['accuracy']['full'][sets[0]] for r in results), '.3f')}")
    return (f"| {task} (v{version}) | {arch} | {', '.join(map(str, seeds))} | {joined(walls, '.0f')} s | "
            f"{n_ok} of {len(results)} ({'; '.join(parts)}) |")


def _spread(values: list[float], fmt: str, sep: str = "-") -> str:
    """"lo-hi", or one value when all agree (the README's ranges, its minus sign; signed ones
    read "lo to hi")."""
    lo, hi = (shown(v, fmt).replace("-", "−") for v in (min(values), max(values)))
    return lo if lo == hi else f"{lo}{sep}{hi}"


def convergence_row(task: str, version: int, runs: dict[str, list[dict]]) -> str:
    """One row of the README's convergence table (all architectures of the task)."""
    archs = list(runs)
    n_ok = [str(sum(r["convergence"]["converged"] for r in runs[a])) for a in archs]
    undecided = [statistics.fmean(control_undecided(r) for r in runs[a]) for a in archs]
    drops = []
    for a in archs:
        d = [max(control_drop_points(r), default=math.nan) for r in runs[a]]
        if any(math.isnan(v) for v in d):
            drops.append("–")
            continue
        drops.append(_spread(d, ".1f", " to "))
    return (f"| `{task}` v{version} (re-run, now committed) | {' / '.join(archs)} | {' / '.join(n_ok)} | "
            f"{' / '.join(f'{u:.3f}' for u in undecided)} | {' / '.join(drops)} |")


def findings_row(arch: str, results: list[dict]) -> str:
    """One row of a mathematics task's findings table in the README ("DeepMind Mathematics, quick
    tier"): accuracies in %, mean ± sample std over seeds, then per-seed combination dependence
    with its null (mean of the draws), and the convergence ranges. The board gives the CIs."""
    def pct(stage: str, split: str) -> str:
        values = [100 * r["accuracy"][stage][split] for r in results if split in r["accuracy"][stage]]
        if not values:
            return "–"  # linear_1d has no extrapolation set
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        return f"{statistics.fmean(values):.1f} ± {sd:.1f}"

    combos = []
    for r in results:
        score = r["scores"].get("combination_dependence/hard")
        null = [v for v in ((r.get("nulls") or {}).get("scores") or {}).get("combination_dependence/hard", []) if v is not None]
        null_text = f" ({statistics.fmean(null):.3f})" if null else ""
        combos.append("null" if score is None else f"{score:.3f}{null_text}")
    if all(c == "null" for c in combos):
        combos = [f"null ({len(combos)} of {len(combos)})"]
    conv = [r["convergence"] for r in results]
    undecided = [largest_undecided(c) for c in conv]
    late = [v for v in map(smallest_late_iou, conv) if v is not None]
    drops = [max(control_drop_points(r)) for r in results]
    walls = [r["wall_time_s"]["total"] for r in results]
    cells = [pct("full", "interpolate"), pct("full", "extrapolate"), pct("full", "hard"),
             pct("control", "hard"), pct("hard", "hard"), pct("hard", "easy"), ", ".join(combos),
             _spread(undecided, ".2f"), _spread(late, ".3f") if late else "–", _spread(drops, ".1f", " to "),
             _spread(walls, ",.0f") + " s"]
    return f"| {arch} | " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task_dir", type=Path, help="a task folder: rerun/<task> or baselines/<task>")
    parser.add_argument("--findings", action="store_true",
                        help="print a mathematics task's findings-table rows instead")
    args = parser.parse_args(argv)
    runs = load_runs(args.task_dir) if args.task_dir.is_dir() else {}
    if not runs:
        print(f"no quick-tier result files under {args.task_dir}: pass a folder like rerun/math_sort",
              file=sys.stderr)
        return 2
    first = next(iter(runs.values()))[0]
    task, version = first["task"]["name"], first["task"]["version"]
    if args.findings:
        if any("hard" not in r["accuracy"] for results in runs.values() for r in results):
            print(f"--findings reads mathematics tasks (an easy-only mask, accuracy['hard']); {task} has "
                  f"none: drop --findings for its convergence rows", file=sys.stderr)
            return 2
        for arch, results in runs.items():
            print(findings_row(arch, results))
        return 0
    for arch, results in runs.items():
        print(rerun_row(task, version, arch, results))
    print(convergence_row(task, version, runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
