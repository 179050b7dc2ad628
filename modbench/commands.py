"""What each `modbench` verb does (the parser is `modbench.cli`): each a few lines over functions
Python users can call directly, printing their answer and returning the exit status."""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Sequence

from modbench.cli import parse_overrides, parse_seeds, unique_names
from modbench.errors import ModbenchError


def _writable(out: Path) -> Path:
    probe = out / ".modbench-write-test"
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise ModbenchError(f"cannot write to output folder {out} ({err.strerror}); pass a writable --out")
    return out


def cmd_run(args: argparse.Namespace) -> int:
    from modbench.executors import ClusterOptions
    from modbench.run import run_grid
    from modbench.workers import available_cpus, check_workers
    from modbench.submission import resolve_arch

    workers = check_workers(available_cpus() if args.workers is None else args.workers)
    seeds = parse_seeds(args.seeds)
    out = _writable(Path(args.out))
    overrides = parse_overrides(args.set) + ((("train.steps", 0),) if args.random_init else ())
    # a grid: comma-separated architectures × tasks × seeds; a submission folder is loaded and
    # registered by its name
    archs = list(dict.fromkeys(resolve_arch(a) for a in unique_names(args.arch)))
    cluster = ClusterOptions(
        cluster=args.cluster, folder=Path(args.jobs_folder) if args.jobs_folder else None, partition=args.partition,
        time_min=args.time_min, gpus=args.gpus, threads=args.threads, mem_gb=args.mem_gb,
        array_parallelism=args.array_parallelism,
    )
    return run_grid(archs, unique_names(args.task), args.tier, seeds, out, overrides, show_progress=not args.quiet,
                    source=args.source, workers=workers, executor=args.executor, cluster=cluster, device=args.device,
                    timeout_min=args.timeout_min,
                    network_cache=Path(args.network_cache) if args.network_cache else None)


def cmd_ls(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from modbench.archs import ARCHS
    from modbench.tasks import TASKS

    if args.what == "tasks":
        rows = [[n, TASKS.get(n).version, TASKS.get(n).contract.kind, TASKS.get(n).kind,
                 ", ".join(TASKS.get(n).subfunctions), TASKS.get(n).description] for n in TASKS]
        print(tabulate(rows, headers=["task", "version", "I/O", "score", "sub-functions", "description"]))
    else:
        rows = [[n, ", ".join(sorted(ARCHS.get(n).factories)), ARCHS.get(n).description] for n in ARCHS]
        print(tabulate(rows, headers=["arch", "I/O", "description"]))
    return 0


def _per_result_file(paths: Sequence[str], action) -> int:
    """`action(path)` -> its line, for every result file under `paths`; a bad file is one
    "invalid" line and the others go on. Exit 1 if any was bad or none was found."""
    from modbench import results

    found = [f for path in paths for f in results.files_under(path)]
    if not found:
        print(f"invalid no {results.RESULT_FILE} under {', '.join(paths)}; pass result files or the folders that hold them")
        return 1
    bad = 0
    for path in found:
        try:
            print(action(path))
        except ModbenchError as err:
            bad += 1
            print(f"invalid {err}")
    return 1 if bad else 0


def cmd_validate(args: argparse.Namespace) -> int:
    from modbench import results

    def line(path) -> str:
        result = results.load(path)
        return f"ok      {path} ({result['task']['name']}/{result['architecture']['name']}, {result['status']})"

    return _per_result_file(args.paths, line)


def cmd_upgrade(args: argparse.Namespace) -> int:
    from modbench import results

    return _per_result_file(args.paths, lambda path: f"{results.upgrade(path):<24} {path}")


def cmd_verify(args: argparse.Namespace) -> int:
    from modbench.verify import verify

    verdict = verify(Path(args.result), args.arch)
    print("\n".join(verdict.lines))
    return {True: 0, False: 1, None: 2}[verdict.reproduced]


def cmd_check(args: argparse.Namespace) -> int:
    from modbench.check import check_submission

    started = time.perf_counter()
    outcomes = check_submission(args.path, args.device)
    for outcome in outcomes:
        status = "PASS" if outcome.passed else "FAIL"
        reason = f"  {outcome.kind}: {outcome.reason}" if not outcome.passed else ""
        print(f"{status}  {outcome.task:<16} {outcome.seconds:5.1f} s{reason}")
    failed = sum(not o.passed for o in outcomes)
    print(f"{len(outcomes) - failed} passed, {failed} failed in {time.perf_counter() - started:.1f} s")
    return 1 if failed else 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from modbench.leaderboard.collect import collect
    from modbench.leaderboard.tables import build, write_board

    from modbench.sweep import curve_files, load_curve

    curves = [load_curve(p) for p in curve_files([Path(f) for f in args.curves])]
    board = build(collect([Path(f) for f in args.folders], args.tier), args.seed, curves)
    command = " ".join(["modbench leaderboard", *args.folders, "--out", args.out]
                       + [a for c in args.curves for a in ("--curves", c)]
                       + (["--tier", args.tier] if args.tier else []) + (["--seed", str(args.seed)] if args.seed else []))
    for path in write_board(board, _writable(Path(args.out)), command):
        print(path)
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from modbench.submission import resolve_arch
    from modbench.sweep import CURVE_FILE, load_curve, run_sweep
    from modbench.workers import available_cpus, check_workers

    try:
        betas = [float(b) for b in args.betas.split(",")]
    except ValueError:
        raise ModbenchError(f"--betas {args.betas!r}: expected comma-separated numbers, e.g. 3e-5,1e-4,3e-4") from None
    out = _writable(Path(args.out))
    status = run_sweep(resolve_arch(args.arch), args.task, args.tier, parse_seeds(args.seeds), betas, out,
                       parse_overrides(args.set), show_progress=not args.quiet, device=args.device,
                       workers=check_workers(available_cpus() if args.workers is None else args.workers))
    curve = load_curve(out / CURVE_FILE)
    scores = list(curve["area_under_curve"])
    rows = [[f"{p['beta']:g}", p["seeds"], _fmt(p["density"]), _fmt(p["control_accuracy"]),
             *(_fmt(p["scores"].get(s)) for s in scores)] for p in curve["points"]]
    rows.append(["area", "", "", "", *(_fmt(curve["area_under_curve"][s]) for s in scores)])
    print(tabulate(rows, ["β", "seeds", "density", "control acc", *scores], disable_numparse=True))
    print(out / CURVE_FILE)
    return status


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def cmd_compare(args: argparse.Namespace) -> int:
    from modbench.leaderboard.compare import compare, format_table, significantly_worse

    rows = compare(Path(args.a), Path(args.b), args.seed)
    print(format_table(rows))
    worse = significantly_worse(rows)
    better = sum(r.verdict in ("better", "learned") for r in rows)
    lost = sum(r.verdict == "not learned" for r in rows)
    print(f"B is significantly better on {better} and worse on {len(worse)} of {len(rows)} scores"
          + (f" ({lost} of them never learned by B)" if lost else ""))
    return 1 if args.fail_if_worse and worse else 0


def cmd_plot(args: argparse.Namespace) -> int:
    from modbench.plot import plot_results

    written = plot_results(Path(args.results), _writable(Path(args.out)))
    for path in written:
        print(path)
    if not written:
        raise ModbenchError(f"no finished result under {args.results} has anything to plot")
    return 0


def cmd_data_export(args: argparse.Namespace) -> int:
    from modbench.data import DATASETS

    if args.dataset not in DATASETS:
        raise ModbenchError(f"unknown dataset {args.dataset!r}; known: {', '.join(DATASETS)}")
    option, export = DATASETS[args.dataset]
    name = getattr(args, option)
    if name is None:
        raise ModbenchError(f"data export {args.dataset} needs --{option} NAME")
    paths = export(name, Path(args.out), args.source, _writable)
    for path in paths:
        with open(path, "rb") as handle:
            print(f"{path}\t{sum(1 for _ in handle)} lines")
    return 0
