"""The `modbench` command line: its verbs, their options and examples, and the parsing of seeds and
--set values. What each verb does is `modbench.commands`, a thin layer over functions Python users
can call directly."""
from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Sequence

from modbench.errors import ModbenchError

DEVICE_HELP = ("where it computes: auto (default: the first GPU where CUDA is available, else the CPU), cpu, "
               "cuda or cuda:N; an unavailable device is refused")
EXAMPLES = {
    "run": "examples:\n  modbench run --arch fnn --task addmul --tier quick --seeds 0-4 --out runs\n"
           "  modbench run --arch lstm --task double_add --seeds 0-2 --set mask.beta=2e-4 --out beta2e-4\n"
           "  modbench run --arch transformer_seq2seq --task scan --seeds 0-2 --source dir:SCAN",
    "ls": "examples:\n  modbench ls tasks\n  modbench ls archs",
    "check": "example:\n  modbench check submissions/_template",
    "leaderboard": "example:\n  modbench leaderboard baselines submissions --out leaderboard",
    "compare": "examples:\n  modbench compare baselines/addmul/fnn runs/addmul/my_net\n"
               "  modbench compare baselines/addmul/fnn runs/addmul/my_net --fail-if-worse",
    "plot": "example:\n  modbench plot baselines/addmul/fnn --out figures",
    "validate": "examples:\n  modbench validate runs/addmul/fnn/quick/seed0/result.json\n  modbench validate baselines",
    "upgrade": "example:\n  modbench upgrade baselines submissions/routed_mlp/results",
    "verify": "examples:\n  modbench verify baselines/addmul/fnn/quick/seed0/result.json\n"
              "  modbench verify submissions/my_net/results/addmul/my_net/quick/seed0/result.json --arch submissions/my_net",
    "data": "examples:\n  modbench data export scan --split length --out data/scan\n"
            "  modbench data export scan --split addprim_jump --out data/scan --source dir:SCAN\n"
            "  modbench data export math --module comparison__sort --out data/math --source generated:30000",
}


MAX_SEED, MAX_SEEDS = 2**31 - 1, 1_000  # a seed fits any generator; a grid stays listable


def parse_seeds(text: str) -> list[int]:
    """"0-4" -> [0..4]; "0,2,5" -> [0, 2, 5]; "3" -> [3]; at most MAX_SEEDS seeds, each ≤ MAX_SEED
    (checked before the list is built: `0-100000000` used to hang)."""
    seeds: list[int] = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not match or (match[2] is not None and int(match[2]) < int(match[1])):
            raise ModbenchError(
                f"malformed seed range {text!r}; write e.g. 0-4, 0,2,5 or 3 (non-negative, low-high)"
            )
        low, high = int(match[1]), int(match[2] or match[1])
        if high > MAX_SEED or len(seeds) + high - low + 1 > MAX_SEEDS:
            raise ModbenchError(f"seed range {text!r} is too large; at most {MAX_SEEDS} seeds, each at most {MAX_SEED}")
        seeds.extend(range(low, high + 1))
    if len(set(seeds)) != len(seeds):
        raise ModbenchError(f"seed range {text!r} names a seed twice; list each seed once")
    return seeds


def parse_overrides(items: Sequence[str]) -> tuple[tuple[str, object], ...]:
    """["mask.beta=2e-4", "arch_size.hidden=[800,800]"] -> (("mask.beta", 0.0002), ...).
    Values are read as JSON where they parse, else kept as strings."""
    parsed = []
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ModbenchError(f"malformed --set {item!r}; write KEY=VALUE, e.g. --set mask.beta=2e-4")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        parsed.append((key.strip(), value))
    return tuple(parsed)


def unique_names(text: str) -> list[str]:
    """"addmul,addmul, scan" -> ["addmul", "scan"]: each named once, in order (a repeated name
    ran twice)."""
    return list(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))


def build_parser() -> argparse.ArgumentParser:
    from modbench import commands

    parser = argparse.ArgumentParser(prog="modbench", description="modbench: the functional modularity benchmark "
                                     "(train, mask and score architectures on tasks; compare and rank the results)")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    def verb(name: str, help_text: str) -> argparse.ArgumentParser:
        return verbs.add_parser(
            name, help=help_text, description=help_text, epilog=EXAMPLES.get(name),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    run = verb("run", "train, mask and score architectures on tasks; write one result per run")
    run.add_argument("--arch", required=True,
                     help="architecture name (see `modbench ls archs`) or a submission folder; "
                          "several, comma-separated, run as a grid")
    run.add_argument("--task", required=True, help="task name (see `modbench ls tasks`); several, comma-separated")
    run.add_argument("--tier", default="quick", help="smoke, quick (default) or paper")
    run.add_argument("--seeds", default="0", help="e.g. 0-4, 0,2,5 or 3 (default 0)")
    run.add_argument("--out", default="runs", help="results folder (default ./runs)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override the tier's configuration, e.g. mask.beta=2e-4, train.steps=1000, "
                          "mask_filter.mask_biases=true, arch_size.hidden=[800,800] (repeatable)")
    run.add_argument("--source", default="generated",
                     help="where the task's data come from: generated (default), dir:PATH or hub (SCAN)")
    run.add_argument("--workers", type=int, default=None, metavar="N",
                     help="processes for a run's independent stages, each with one thread "
                          "(default: the CPUs available; any N gives the numbers of N=1 at one thread)")
    run.add_argument("--device", default="auto", help=DEVICE_HELP)
    run.add_argument("--timeout-min", type=float, default=None, metavar="M",
                     help="end a run that passes M minutes as failed, with that reason (default: no limit)")
    run.add_argument("--random-init", action="store_true",
                     help="the random-init control: the same run on the untrained network (train.steps=0); "
                          "give it its own --out, the leaderboard shows it beside the trained runs")
    run.add_argument("--network-cache", metavar="DIR",
                     help="reuse trained networks from DIR (and keep new ones there): runs that differ only in "
                          "mask settings train their network once")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    grid = run.add_argument_group("cluster (with --executor submitit)")
    grid.add_argument("--executor", choices=["local", "submitit"], default="local",
                      help="local (default): one run after another here; submitit: a job array")
    grid.add_argument("--cluster", choices=["slurm", "local", "debug"], default=None,
                      help="submitit backend (default: Slurm where available, else local processes)")
    grid.add_argument("--partition", help="Slurm partition")
    grid.add_argument("--time-min", type=int, default=120, help="time limit per run in minutes (default 120)")
    grid.add_argument("--gpus", type=int, default=0,
                      help="GPUs per job: 0 (default) or 1, each job's runs then compute on its GPU (--device auto or cuda)")
    grid.add_argument("--threads", type=int, default=None,
                      help="CPUs per run and its torch threads (default: this machine's count, so numbers match local runs)")
    grid.add_argument("--mem-gb", type=int, default=None, help="memory per run in GB")
    grid.add_argument("--array-parallelism", type=int, default=64, help="runs at once (default 64)")
    grid.add_argument("--jobs-folder", help="submitit logs and pickles (default OUT/.submitit)")
    run.set_defaults(func=commands.cmd_run)

    ls = verb("ls", "list registered tasks or architectures")
    ls.add_argument("what", choices=["tasks", "archs"])
    ls.set_defaults(func=commands.cmd_ls)

    check = verb("check", "run a submission on the smoke tier of every task it supports; pass/fail per task")
    check.add_argument("path", help="the submission's folder (submissions/<name>/) or its submission.py")
    check.add_argument("--device", default="auto", help=DEVICE_HELP)
    check.set_defaults(func=commands.cmd_check)

    board = verb("leaderboard", "tables of every result under the folders: README.md, leaderboard.csv, "
                                "leaderboard.tex, index.html")
    board.add_argument("folders", nargs="+", metavar="FOLDER", help="result folders, e.g. baselines submissions")
    board.add_argument("--out", default="leaderboard", help="output folder (default ./leaderboard)")
    board.add_argument("--tier", help="keep results of this tier only (default: all; mixed tiers are refused)")
    board.add_argument("--seed", type=int, default=0, help="seed of the bootstrap generator (default 0)")
    board.add_argument("--curves", action="append", default=[], metavar="FOLDER",
                       help="folders of `modbench sweep` curves (curve.json): their areas under the score-vs-density "
                            "curve are listed as described scores")
    board.set_defaults(func=commands.cmd_leaderboard)

    sweep = verb("sweep", "the runs at several β (one network per seed): density, control accuracy and every score "
                          "per β, and each score's area under its score-vs-density curve (OUT/curve.json)")
    sweep.add_argument("--arch", required=True, help="architecture name or a submission's folder")
    sweep.add_argument("--task", required=True, help="task name")
    sweep.add_argument("--betas", required=True, help="comma-separated β values, e.g. 3e-5,1e-4,3e-4,1e-3")
    sweep.add_argument("--tier", default="quick", help="smoke, quick (default) or paper")
    sweep.add_argument("--seeds", default="0", help="e.g. 0-4 (default 0)")
    sweep.add_argument("--out", required=True, help="the sweep's folder: OUT/beta=<β>/… and OUT/curve.json")
    sweep.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="as for run")
    sweep.add_argument("--workers", type=int, default=None, metavar="N", help="as for run")
    sweep.add_argument("--device", default="auto", help=DEVICE_HELP)
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.set_defaults(func=commands.cmd_sweep)

    cmp = verb("compare", "compare results folder B with A per score: estimates, difference CI, p-values")
    cmp.add_argument("a", metavar="A", help="reference results folder (e.g. baselines/addmul/fnn)")
    cmp.add_argument("b", metavar="B", help="results folder to judge against A")
    cmp.add_argument("--fail-if-worse", action="store_true",
                     help="exit 1 when B is significantly worse than A on any score, or never learns "
                          "what A always learned (a CI gate)")
    cmp.add_argument("--seed", type=int, default=0, help="seed of the bootstrap generator (default 0)")
    cmp.set_defaults(func=commands.cmd_compare)

    plot = verb("plot", "PNG figures per result: per-layer sharing, mask keep-probabilities, accuracy per mask")
    plot.add_argument("results", help="a result.json or a folder of results")
    plot.add_argument("--out", required=True, help="folder for the PNG files")
    plot.set_defaults(func=commands.cmd_plot)

    validate = verb("validate", "check result files against the schema")
    validate.add_argument("paths", nargs="+", metavar="PATH", help="result files, or folders searched for result.json")
    validate.set_defaults(func=commands.cmd_validate)

    upgrade = verb("upgrade", "rewrite result files of an older schema as the current one, sealed with their "
                              "integrity digest (no re-run; numbers untouched)")
    upgrade.add_argument("paths", nargs="+", metavar="PATH", help="result files, or folders searched for result.json")
    upgrade.set_defaults(func=commands.cmd_upgrade)

    verify = verb("verify", "re-run a result's recorded configuration with the code that wrote it; say whether its "
                            "scores and masks reproduce (exit 0 yes, 1 no, 2 cannot tell)")
    verify.add_argument("result", help="a result.json")
    verify.add_argument("--arch", help="a submission's folder, for a result of a submitted architecture")
    verify.set_defaults(func=commands.cmd_verify)

    data = verb("data", "export a dataset as files in its upstream layout (SCAN's tasks_*.txt, "
                        "DeepMind Mathematics' regime folders)")
    data_verbs = data.add_subparsers(dest="data_verb", required=True, metavar="ACTION")
    export = data_verbs.add_parser("export", help="write a split's train and test files",
                                   epilog=EXAMPLES["data"], formatter_class=argparse.RawDescriptionHelpFormatter)
    export.add_argument("dataset", help="dataset name: scan or math")
    export.add_argument("--split", help="scan: e.g. simple, length, addprim_jump, around_right")
    export.add_argument("--module", help="math: e.g. arithmetic__add_or_sub, comparison__sort")
    export.add_argument("--out", required=True, help="scan: folder for tasks_{train,test}_<split>.txt; "
                                                     "math: folder for <regime>/<module>.txt")
    export.add_argument("--source", default="generated",
                        help="scan: generated (default), hub or dir:PATH; math: generated[:N] (default) or dir:PATH")
    export.set_defaults(func=commands.cmd_data_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ModbenchError as err:
        print(f"modbench: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("modbench: interrupted; finished runs are saved, rerun the command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
