"""Throughput of training several masks that share one frozen network (issue: several masks at
once): one after another in one process, against modbench's stage pool, which deals the masks
over worker processes (`--workers`). Checks that both give the same logits.

Run: python benchmarks/several_masks.py [--masks 4] [--steps 200] [--arch fnn] [--task addmul]
Prints masks·steps per second for each way and their ratio. Timings need a quiet machine.
"""
from __future__ import annotations

import argparse
import time

import torch

from modbench.archs import build_model
from modbench.harness import RunSpec, prepare
from modbench.masking import FrozenModel, train_mask
from modbench.workers import available_cpus, worker_pool


def train_logits(run, frozen: FrozenModel, sub: str | None, seed: int) -> dict[str, torch.Tensor]:
    """One stage's logits (module-level, so a worker process can run it)."""
    task = run.task
    return train_mask(frozen, lambda fn, b: task.loss(fn, b, sub), lambda n, g: task.sample(sub, n, g),
                      run.budget.mask, seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="fnn")
    parser.add_argument("--task", default="addmul")
    parser.add_argument("--masks", type=int, default=4)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--workers", type=int, default=available_cpus())
    args = parser.parse_args()

    run = prepare(RunSpec(args.arch, args.task, "quick", 0, overrides=(("mask.steps", args.steps),)))
    model = build_model(run.arch, run.task.contract, run.budget.arch_size, init_seed=0).eval()
    frozen = FrozenModel(model, run.budget.mask_filter.select(model), vectorise=run.arch.vmap_mask_samples)
    subs = [None, *run.task.subfunctions][: args.masks]
    subs += [None] * (args.masks - len(subs))  # more masks than stages: repeat the whole task
    seeds = list(range(100, 100 + args.masks))

    timings, outputs = {}, {}
    for threads in sorted({1, args.workers}):
        torch.set_num_threads(threads)
        started = time.perf_counter()
        outputs[f"sequential, {threads} thread(s)"] = [train_logits(run, frozen, s, seed) for s, seed in zip(subs, seeds)]
        timings[f"sequential, {threads} thread(s)"] = time.perf_counter() - started
    started = time.perf_counter()
    with worker_pool(args.workers) as pool:  # dealt round-robin, as train_stage_masks does
        jobs = [pool.submit(train_logits, run, frozen, s, seed) if i % args.workers else None
                for i, (s, seed) in enumerate(zip(subs, seeds))]
        here = {i: train_logits(run, frozen, s, seed) for i, (s, seed) in enumerate(zip(subs, seeds)) if jobs[i] is None}
        outputs[f"stage pool, {args.workers} workers"] = [here[i] if j is None else j.result() for i, j in enumerate(jobs)]
    timings[f"stage pool, {args.workers} workers"] = time.perf_counter() - started

    reference = outputs["sequential, 1 thread(s)"]
    work = args.masks * args.steps
    best_sequential = min(t for k, t in timings.items() if k.startswith("sequential"))
    for way, seconds in timings.items():
        equal = all(torch.equal(a[n], b[n]) for a, b in zip(reference, outputs[way]) for n in a)
        print(f"{way:28s} {work / seconds:8.1f} mask steps/s  ({seconds:.1f} s)  "
              f"logits equal to sequential at 1 thread: {equal}")
    pooled = timings[f"stage pool, {args.workers} workers"]
    print(f"throughput ratio, pool / best sequential: {best_sequential / pooled:.2f}")


if __name__ == "__main__":
    main()
