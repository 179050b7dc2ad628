"""Which mask settings converge within a tier's budget? The control mask of one run, trained
under several settings on the same frozen network, with its convergence and faithfulness.

Trains the architecture on the task once (as a run of that seed would; the state dict is
cached under --cache), then for every --setting trains the control mask with the run's own
seed and the setting's overrides, and prints one JSON line: undecided share, density, late
flips and IoU (modbench.masking.convergence, with checkpoints every tenth of the stage), the
control mask's and the unmasked network's accuracy on the task family's reference sets, and
whether the family's criterion holds (modbench.gating). No score is computed: settings are
chosen on convergence alone (README, "Mask convergence").

Run: python benchmarks/convergence_sweep.py --arch fnn --task addmul --seed 0 \
       --setting "cosine: mask.lr=0.1 mask.lr_schedule=cosine mask.beta=5e-5" [--setting ...]
One process at one thread by default (the thread count of a pooled run's stages).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from modbench.archs import build_model
from modbench.cli import parse_overrides
from modbench.gating import failures
from modbench.harness import RunSpec, prepare
from modbench.masking import FrozenModel, binarize, train_mask
from modbench.masking.convergence import ConvergenceTracker
from modbench.pipelines.common import train_network
from modbench.seeds import derive_seeds

TENTHS = tuple(i / 10 for i in range(1, 11))  # finer than a run's (1/2, 3/4, 1): a trajectory


def cached_frozen_network(run, seeds: dict, cache: Path) -> tuple[FrozenModel, float]:
    """The run's trained network, frozen (from the cache when it holds it), and the training seconds."""
    path = cache / f"{run.spec.task}_{run.spec.arch}_{run.spec.tier}_seed{run.spec.seed}.pt"
    started = time.perf_counter()
    if path.exists():
        model = build_model(run.arch, run.task.contract, run.budget.arch_size, seeds["init"])
        model.load_state_dict(torch.load(path))
        model.eval()
    else:
        model = train_network(run, None, seeds["init"], seeds["train_order"], None)
        cache.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), path)
    masked = run.budget.mask_filter.select(model)
    return FrozenModel(model, masked, vectorise=run.arch.vmap_mask_samples), time.perf_counter() - started


def reference_accuracy(task, forward) -> dict[str, float]:
    """Accuracy on the sets the family's faithfulness test reads (all classes: "all")."""
    return {s: task.accuracy(forward, None if s == "all" else s) for s in task.faithfulness_sets()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", required=True)
    parser.add_argument("--task", required=True)
    parser.add_argument("--tier", default="quick")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--setting", action="append", default=[], help='"NAME: key=value key=value", repeatable')
    parser.add_argument("--cache", default=str(Path.home() / ".cache" / "modbench" / "sweep_networks"))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    base = prepare(RunSpec(args.arch, args.task, args.tier, args.seed))
    seeds = derive_seeds(args.seed, ["control", *base.task.subfunctions],
                         list(getattr(base.task, "sysgen_trainings", ())))
    frozen, train_s = cached_frozen_network(base, seeds, Path(args.cache))
    full = reference_accuracy(base.task, frozen.forward_with(None))
    print(json.dumps({"arch": args.arch, "task": args.task, "seed": args.seed, "network_s": round(train_s, 1),
                      "unmasked": full}), flush=True)
    for setting in args.setting or ["tier default:"]:
        name, _, body = setting.partition(":")
        run = prepare(RunSpec(args.arch, args.task, args.tier, args.seed, parse_overrides(body.split())))
        cfg, task = run.budget.mask, run.task
        criterion_view, trajectory = ConvergenceTracker(cfg.steps), ConvergenceTracker(cfg.steps, TENTHS)
        started = time.perf_counter()
        logits = train_mask(frozen, lambda fn, b: task.loss(fn, b, None), lambda n, g: task.sample(None, n, g), cfg,
                            seeds["mask"]["control"], tracker=_Both(criterion_view, trajectory))
        mask_s = time.perf_counter() - started
        stage, path = criterion_view.summary(logits), trajectory.summary(logits)
        mask = binarize(logits)
        control = reference_accuracy(task, frozen.forward_with(mask))
        reasons = failures({"control": stage.as_dict()}, {"full": full, "control": control}, list(full),
                           task.convergence)
        print(json.dumps({
            "arch": args.arch, "task": args.task, "seed": args.seed, "setting": name.strip(), "overrides": body.split(),
            "undecided": round(stage.undecided, 4), "density": round(mask.total_density(), 4),
            "late_flips": stage.late_flips, "late_iou": stage.late_iou, "unmasked": full, "control": control,
            "converged": not reasons, "reasons": reasons, "mask_s": round(mask_s, 1),
            "trajectory": [[c.step, round(c.flips, 5), None if c.iou is None else round(c.iou, 4)] for c in path.checkpoints],
        }), flush=True)


class _Both:
    """Feeds one stage's logits to two trackers (the criterion's checkpoints and the tenths)."""

    def __init__(self, *trackers: ConvergenceTracker) -> None:
        self.trackers = trackers

    def observe(self, steps_done: int, logits) -> None:
        for tracker in self.trackers:
            tracker.observe(steps_done, logits)


if __name__ == "__main__":
    main()
