"""A grid of runs with a progress bar and the paper-style tables at the end."""
from __future__ import annotations

import sys
from itertools import product
from pathlib import Path
from typing import Any, Sequence

from tqdm import tqdm

from modbench import report
from modbench.harness import RunSpec, finished_result, prepare, run_and_save


def run_grid(
    archs: Sequence[str],
    tasks: Sequence[str],
    tier: str,
    seeds: Sequence[int],
    out: Path,
    overrides: tuple[tuple[str, Any], ...] = (),
    show_progress: bool = True,
    source: str = "generated",
    workers: int = 1,
) -> int:
    """Run every (arch, task, seed); print a table per (arch, task). Returns the exit status:
    0 if every run finished, 1 if any failed (the others still ran)."""
    prepared = [prepare(RunSpec(a, t, tier, s, overrides, source, workers)) for a, t, s in product(archs, tasks, seeds)]
    # (run, its finished result or None); a conflicting old result is refused before any work
    runs = [(run, finished_result(run, out)) for run in prepared]
    failed = 0
    for arch, task in product(archs, tasks):
        group = [(r, old) for r, old in runs if r.spec.arch == arch and r.spec.task == task]
        finished = []
        for run, result in group:
            label = f"{task}/{arch}/{tier} seed {run.spec.seed}"
            if result is not None:
                status = "skipped (already finished)"
            else:
                with tqdm(total=run.total_steps, desc=label, disable=not show_progress,
                          file=sys.stderr, unit="step", leave=False) as bar:
                    result = run_and_save(run, out, lambda phase, n: (
                        bar.set_postfix_str(phase, refresh=False), bar.update(n)))
                status = result["status"]
            print(f"{label}: {status}" + (f" — {result['error']}" if result["status"] == "failed" else ""),
                  file=sys.stderr)
            failed += result["status"] != "ok"
            finished.append(result)
        print(f"\n{task} / {arch} / {tier}, seeds {', '.join(str(r.spec.seed) for r, _ in group)}")
        kind = finished[0]["task"]["kind"] if finished else "specialize"
        print(report.TABLES[kind](finished))
        print()
        print(report.score_table(finished))
    return 1 if failed else 0
