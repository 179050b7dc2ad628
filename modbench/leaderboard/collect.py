"""Result folders → per (task, architecture) score samples over seeds, for tables and compare.

Results that must never be pooled (DESIGN.md, Tiers) are refused here with the files named:
mixed tiers, two versions of a task, two trainer versions, one task's runs on different data
(their data fingerprints differ: another source, or a generator that is not reproducible), or
one seed twice.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from modbench import results
from modbench.errors import ModbenchError
from modbench.gating import gated_scores
from modbench.config import REFERENCE_METHOD as REFERENCE
from modbench.nulls import null_mean
from modbench.provenance import hardware_label


@dataclass
class Entry:
    """One architecture on one task: its scores per seed (None: not learned, see notes)."""

    task: str
    arch: str  # the architecture, with " [method]" where a mask method other than the reference made its masks
    kind: str  # the task's kind: which declared scores it reports (modbench.score_specs)
    method: str = REFERENCE  # the mask method (modbench.methods): the analyzer track compares them
    known_answers: dict[str, float] = field(default_factory=dict)  # planted tasks: score -> its known value
    seeds: dict[int, dict[str, float | None]] = field(default_factory=dict)
    files: dict[int, Path] = field(default_factory=dict)
    origins: list[str] = field(default_factory=list)  # the folders given that hold its results
    # per seed: whether its masks met the task family's convergence criterion (modbench.gating),
    # the scores that kept from ranking, and its largest undecided share over the mask stages
    converged: dict[int, bool] = field(default_factory=dict)
    gated: dict[int, set[str]] = field(default_factory=dict)
    undecided: dict[int, float | None] = field(default_factory=dict)
    nulls: dict[int, dict | None] = field(default_factory=dict)  # per seed: result["nulls"] (modbench.nulls)
    # per seed: the scores of the random-init control (the same run on the untrained network)
    random_init: dict[int, dict[str, float | None]] = field(default_factory=dict)

    def scores(self) -> list[str]:
        """Score names in the order the results list them."""
        names: dict[str, None] = {}
        for scores in self.seeds.values():
            names.update(dict.fromkeys(scores))
        return list(names)

    def values(self, score: str) -> list[float]:
        """The seeds' values of `score` in seed order, leaving out nulls and scores of masks that
        did not converge: what tables rank and compare tests."""
        return [s[score] for seed, s in sorted(self.seeds.items())
                if s.get(score) is not None and score not in self.gated.get(seed, ())]

    def unconverged_values(self, score: str) -> list[float]:
        """The values of `score` that unconverged masks gave: shown, never ranked."""
        return [s[score] for seed, s in sorted(self.seeds.items())
                if s.get(score) is not None and score in self.gated.get(seed, ())]

    def null(self, score: str) -> float | None:
        """The mean over seeds of `score`'s null (random masks of the learned densities)."""
        values = [v for v in (null_mean(n, score) for n in self.nulls.values()) if v is not None]
        return sum(values) / len(values) if values else None

    def random_init_mean(self, score: str) -> float | None:
        """The mean over the random-init control's seeds of `score` (None: no value)."""
        values = [s[score] for s in self.random_init.values() if s.get(score) is not None]
        return sum(values) / len(values) if values else None

    def mean_undecided(self) -> float | None:
        """Mean over seeds of each seed's largest undecided share (None: no stage recorded)."""
        values = [v for v in self.undecided.values() if v is not None]
        return sum(values) / len(values) if values else None


@dataclass
class Collection:
    tier: str
    trainer_version: int
    task_versions: dict[str, int]
    task_data: dict[str, str]  # task -> short digest of its runs' data fingerprints
    entries: list[Entry]  # sorted by (task, arch)
    failed: list[Path]  # result files with status "failed", left out
    hardware: dict[str, int] = field(default_factory=dict)  # where the pooled results computed → count

    def tasks(self) -> list[str]:
        return sorted({e.task for e in self.entries})

    def for_task(self, task: str) -> list[Entry]:
        return [e for e in self.entries if e.task == task]


def is_random_init(result: dict) -> bool:
    """The random-init control (`modbench run --random-init`): masks on a network never trained.
    No training steps alone does not say it: a task whose weights train with its masks (transfer)
    has 0 training steps in every run and no unmasked network to match (its faithfulness sets,
    recorded as `reference_sets`, are empty), and `modbench run` refuses it --random-init."""
    return result["config"]["train"].get("steps") == 0 and bool(result["convergence"]["reference_sets"])


def result_files(folders: Sequence[Path]) -> list[tuple[Path, str]]:
    """(result file, the folder argument it was found under), in a stable order."""
    files: list[tuple[Path, str]] = []
    for folder in folders:
        folder = Path(folder)
        if not folder.exists():
            raise ModbenchError(f"no results folder {folder}; pass folders that hold <task>/<arch>/<tier>/seed<k>/{results.RESULT_FILE}")
        found = results.files_under(folder)
        files.extend((path, folder.as_posix()) for path in found)
    if not files:
        raise ModbenchError(f"no {results.RESULT_FILE} under {', '.join(map(str, folders))}; run `modbench run --out DIR` first")
    return files


def _one_value(kind: str, seen: dict[object, list[Path]], fix: str | None = None) -> object:
    if len(seen) > 1:
        listed = "; ".join(f"{value!r} in {len(paths)} file(s), e.g. {paths[0]}" for value, paths in seen.items())
        raise ModbenchError(f"results mix {kind}s ({listed}); never pooled: {fix or f'pass folders of one {kind}'}")
    return next(iter(seen))


def _data_digest(result: dict) -> str:
    """12 hex digits over the task's data fingerprints: equal digests, same training and test data."""
    fingerprints = json.dumps(result["task"].get("fingerprints", {}), sort_keys=True)
    return hashlib.sha256(fingerprints.encode()).hexdigest()[:12]


def collect(folders: Sequence[Path], tier: str | None = None) -> Collection:
    """Read every result under `folders`; keep finished runs (of `tier`, if given)."""
    entries: dict[tuple[str, str], Entry] = {}
    tiers: dict[object, list[Path]] = defaultdict(list)
    trainers: dict[object, list[Path]] = defaultdict(list)
    versions: dict[str, dict[object, list[Path]]] = defaultdict(lambda: defaultdict(list))
    data: dict[str, dict[object, list[Path]]] = defaultdict(lambda: defaultdict(list))
    failed: list[Path] = []
    hardware: dict[str, int] = defaultdict(int)
    methods: dict[str, dict[object, list[Path]]] = defaultdict(lambda: defaultdict(list))
    loaded, refused = [], []
    for path, origin in result_files(folders):
        try:
            result = results.load(path)
            if results.masks_intact(path.parent, result) is False:
                raise ModbenchError(f"{path}: its mask file is not the one it recorded (sha256 differs)")
            loaded.append((path, origin, result))
        except ModbenchError as err:
            refused.append(str(err))
    if refused:
        raise ModbenchError(f"{len(refused)} result file(s) refused, never pooled: {refused[0]}"
                            + (f" (and {len(refused) - 1} more; `modbench validate` lists each)" if len(refused) > 1 else ""))
    for path, origin, result in loaded:
        if tier is not None and result["tier"] != tier:
            continue
        if result["status"] != "ok":
            failed.append(path)
            continue
        task, arch, seed = result["task"]["name"], result["architecture"]["name"], result["seeds"]["run"]
        method = result["config"]["mask"].get("method", REFERENCE)  # results from before methods: the reference
        if method != REFERENCE:
            methods[method][result["config"].get("method_version")].append(path)
            arch = f"{arch} [{method}]"
        tiers[result["tier"]].append(path)
        trainers[result["config"]["trainer_version"]].append(path)
        versions[task][result["task"]["version"]].append(path)
        data[task][_data_digest(result)].append(path)
        hardware[hardware_label(result["environment"])] += 1
        entry = entries.setdefault((task, arch), Entry(task, arch, result["task"]["kind"], method,
                                                       dict((result["details"] or {}).get("known_answers") or {})))
        if is_random_init(result):  # a control beside the entry, not one of its seeds
            if seed in entry.random_init:
                raise ModbenchError(f"two random-init controls of {arch} on {task} seed {seed}: {path}; keep one")
            entry.random_init[seed] = dict(result["scores"])
            continue
        if seed in entry.seeds:
            raise ModbenchError(f"seed {seed} of {arch} on {task} appears twice: {entry.files[seed]} and {path}; "
                                "keep one of them")
        entry.seeds[seed] = dict(result["scores"])
        entry.files[seed] = path
        entry.nulls[seed] = result["nulls"]
        entry.converged[seed] = result["convergence"]["converged"]
        entry.gated[seed] = gated_scores(result)
        stages = result["convergence"]["stages"].values()
        entry.undecided[seed] = max((s["undecided"] for s in stages), default=None)
        if origin not in entry.origins:
            entry.origins.append(origin)
    if not entries:
        raise ModbenchError(f"no finished results{f' of tier {tier}' if tier else ''} under "
                            f"{', '.join(map(str, folders))}")
    for method, seen in methods.items():
        _one_value(f"{method} method version", seen)
    return Collection(
        tier=_one_value("tier", tiers),
        trainer_version=_one_value("trainer version", trainers),
        task_versions={task: _one_value(f"{task} task version", seen) for task, seen in versions.items()},
        task_data={task: _one_value(f"{task} data fingerprint", seen, "rerun them from one data source with this "
                                    "modbench") for task, seen in data.items()},
        entries=[entries[key] for key in sorted(entries)],
        failed=failed,
        hardware=dict(sorted(hardware.items())),
    )


def check_comparable(collections: Iterable[Collection]) -> None:
    """Refuse to compare collections that must never be pooled (compare's two sides)."""
    collections = list(collections)
    for kind, get in (("tier", lambda c: c.tier), ("trainer version", lambda c: c.trainer_version)):
        values = {get(c) for c in collections}
        if len(values) > 1:
            raise ModbenchError(f"the results differ in {kind} ({', '.join(map(repr, sorted(values)))}); "
                                "compare results of one tier and trainer version")
    for task in {t for c in collections for t in c.task_versions}:
        values = {c.task_versions[task] for c in collections if task in c.task_versions}
        if len(values) > 1:
            raise ModbenchError(f"the results hold versions {sorted(values)} of task {task!r}; "
                                "rerun the older side with this modbench")
        digests = {c.task_data[task] for c in collections if task in c.task_data}
        if len(digests) > 1:
            raise ModbenchError(f"the two sides ran task {task!r} on different data (fingerprint digests "
                                f"{', '.join(sorted(digests))}); rerun one side from the other's data source")
