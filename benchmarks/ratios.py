"""The performance table from pytest-benchmark JSON files: per architecture and size, the median
plain step, noise and mask step in ms, and the ratios the targets are stated in.

    python benchmarks/ratios.py after.json                   # one measurement
    python benchmarks/ratios.py after.json --before old.json # side by side (same session!)
    python benchmarks/ratios.py a1.json a2.json --before b1.json b2.json

With several files per side, each case takes the smallest of the files' medians: on a shared
machine interference only ever adds time, so the minimum over suites run in turn is the
steadier estimate.

With --before, the noise column is the newer file's (drawing the k·N uniforms alone, which is
the physical floor both mask steps are held to) and the plain step is shown from both files as a
check of how steady the machine was. The floor columns (newer file) are the mask step with its
noise and kernels replaced by weight copies: where floor/(plain+noise) already exceeds a target,
no elementwise implementation can meet it on top of the same network passes.
"""
from __future__ import annotations

import argparse
import json

from tabulate import tabulate


def medians(paths: list[str]) -> dict[tuple[str, str, str], float]:
    """(arch, size, kind) -> the smallest median over the files, in ms."""
    out: dict[tuple[str, str, str], float] = {}
    for path in paths:
        for bench in json.load(open(path))["benchmarks"]:
            key = tuple(bench["param"].split("-"))
            out[key] = min(out.get(key, float("inf")), bench["stats"]["median"] * 1e3)
    return out


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("after", nargs="+")
    parser.add_argument("--before", nargs="+")
    args = parser.parse_args()
    new = medians(args.after)
    old = medians(args.before) if args.before else {}
    rows = []
    for arch, size in sorted({(a, s) for a, s, _ in new}):
        get = lambda m, kind: m.get((arch, size, kind))  # noqa: E731
        plain, noise, mask, floor = (get(new, kind) for kind in ("plain", "noise", "mask", "floor"))
        after = [ratio(mask, plain + noise), ratio(get(new, "mask_k1"), plain)]
        floor_ratio = ratio(floor, plain + noise) if floor is not None else None
        if old:
            old_plain, old_mask = get(old, "plain"), get(old, "mask")
            before = [ratio(old_mask, old_plain + noise), ratio(get(old, "mask_k1"), old_plain)]
            row = [arch, size, old_plain, plain, noise, old_mask, mask, before[0], after[0], before[1], after[1],
                   floor, floor_ratio]
        else:
            row = [arch, size, plain, noise, mask, *after, floor, floor_ratio]
        rows.append(row)
    if old:
        headers = ["arch", "size", "plain ms before", "plain ms after", "noise ms", "mask ms before",
                   "mask ms after", "mask/(plain+noise) before", "after", "k=1 mask/plain before", "after",
                   "floor ms", "floor/(plain+noise)"]
    else:
        headers = ["arch", "size", "plain ms", "noise ms", "mask ms (k samples)", "mask/(plain+noise)",
                   "k=1 mask/plain", "floor ms", "floor/(plain+noise)"]
    print(tabulate(rows, headers=headers, floatfmt=".2f", tablefmt="github", missingval="–"))


if __name__ == "__main__":
    main()
