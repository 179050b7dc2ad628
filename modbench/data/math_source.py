"""DeepMind Mathematics data: the release's files or DeepMind's generator, one interface.

Both sources give the release's raw layout, (question, answer) pairs per regime (`train-easy`,
`train-medium`, `train-hard`, `interpolate`, `extrapolate`), and the same processing makes the
splits (paper_spec §4.8): duplicate questions are dropped across and within files in the order
easy → medium → hard → interpolate → extrapolate; from each difficulty a seeded random held-out
set becomes `test_<difficulty>` (10,000 for the release), the rest `train_<difficulty>`. Unlike
the paper's code, `extrapolate` is the extrapolation data (its index file repeated interpolate).

Sources: `generated` / `generated:N` (default N = 50,000 questions per training difficulty; a
tenth of that, at most 10,000, held out and drawn for interpolate and extrapolate; sort's
extrapolation set at most 300, see GENERATED_EXTRAPOLATE_CAP), and
`dir:PATH` (the `mathematics_dataset-v1.0` folder, or the folder holding it).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from modbench.data.cache import cache_root, load_cached, save_atomic
from modbench.data.math_compat import PATCHES
from modbench.data.math_generate import DATA_VERSION, DIFFICULTIES, REGIMES, check_module, generate, regime_file_module
from modbench.errors import ModbenchError

if TYPE_CHECKING:
    import datasets

Pairs = list[tuple[str, str]]
Raw = dict[str, Pairs]  # regime -> (question, answer) pairs, as in the release's files
RELEASE_FOLDER = "mathematics_dataset-v1.0"
RELEASE_HELD_OUT = 10_000  # per difficulty (paper_spec §4.8)
DEFAULT_GENERATED = 50_000  # per training difficulty; 5,000 of each held out
# comparison__sort_more keeps about 1 raw sample in 110 (its answers run past 30 characters and
# are redrawn): 2-3 questions/s on one core (measured), so generated data hold fewer of them.
GENERATED_EXTRAPOLATE_CAP = {"comparison__sort": 300}
SPLITS = (*(f"train_{d}" for d in DIFFICULTIES), *(f"test_{d}" for d in DIFFICULTIES), "interpolate", "extrapolate")
SOURCE_FORMS = ("generated[:N] (default; DeepMind's generator, N questions per training difficulty) "
                f"or dir:PATH (the release's {RELEASE_FOLDER} folder)")


def parse_source(source: str) -> tuple[str, int | Path]:
    """'generated' | 'generated:N' | 'dir:PATH' -> ('generated', N) or ('dir', PATH)."""
    if source == "generated":
        return "generated", DEFAULT_GENERATED
    if source.startswith("generated:"):
        count = source.removeprefix("generated:")
        if count.isdigit() and int(count) >= 10:
            return "generated", int(count)
    elif source.startswith("dir:") and source[4:].strip():
        return "dir", Path(source[4:]).expanduser()
    raise ModbenchError(f"malformed math source {source!r}; accepted: {SOURCE_FORMS} (N ≥ 10)")


def held_out_count(per_difficulty: int) -> int:
    """Questions held out per difficulty (and drawn for interpolate, extrapolate) when generating."""
    return min(RELEASE_HELD_OUT, per_difficulty // 10)


def generate_release(module: str, per_difficulty: int) -> Raw:
    """The release's raw regimes for `module`, from DeepMind's generator (seeded; see
    `math_generate`)."""
    tests = held_out_count(per_difficulty)
    counts = {"interpolate": tests, "extrapolate": min(tests, GENERATED_EXTRAPOLATE_CAP.get(module, tests))}
    return {
        regime: [] if regime_file_module(module, regime) is None
        else generate(module, regime, counts.get(regime, per_difficulty))
        for regime in REGIMES
    }


def release_folder(path: Path) -> Path:
    """`path` itself, or its `mathematics_dataset-v1.0` child when it holds one."""
    return path / RELEASE_FOLDER if (path / RELEASE_FOLDER).is_dir() else path


def read_release(path: Path, module: str) -> Raw:
    """The raw regimes of `module` from the release's files (question and answer lines in turn)."""
    root = release_folder(path)
    raw: Raw = {}
    for regime in REGIMES:
        name = regime_file_module(check_module(module), regime)
        if name is None:
            raw[regime] = []
            continue
        file = root / regime / f"{name}.txt"
        if not file.is_file():
            raise ModbenchError(f"missing {file}; --source dir:PATH must name the {RELEASE_FOLDER} folder "
                                f"(with {', '.join(REGIMES)} inside) or the folder holding it")
        lines = file.read_text(encoding="utf-8").splitlines()
        if len(lines) % 2:
            raise ModbenchError(f"{file} has an odd number of lines ({len(lines)}); each question "
                                "needs its answer on the next line: is the file truncated?")
        raw[regime] = list(zip(lines[0::2], lines[1::2]))
    return raw


def write_release(raw: Raw, module: str, out: Path) -> list[Path]:
    """Write `raw` in the release's layout, `out/<regime>/<module file>.txt`, each atomically."""
    paths = []
    for regime, pairs in raw.items():
        name = regime_file_module(module, regime)
        if name is None:
            continue
        path = Path(out) / regime / f"{name}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text("".join(f"{q}\n{a}\n" for q, a in pairs), encoding="utf-8")
        os.replace(tmp, path)
        paths.append(path)
    return paths


def _holdout_rng(module: str, difficulty: str) -> np.random.Generator:
    digest = hashlib.sha256(f"math@v{DATA_VERSION}/{module}/holdout/{difficulty}".encode()).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(digest[:8], "little")))


def build_splits(raw: Raw, module: str, held_out: int) -> dict[str, Pairs]:
    """De-duplicate across regimes (first file wins, in REGIMES order) and hold out `held_out`
    random questions per difficulty as its test set."""
    seen: set[str] = set()
    unique: Raw = {}
    for regime in REGIMES:
        unique[regime] = []
        for question, answer in raw[regime]:
            if question not in seen:
                seen.add(question)
                unique[regime].append((question, answer))
    splits: dict[str, Pairs] = {"interpolate": unique["interpolate"], "extrapolate": unique["extrapolate"]}
    for difficulty in DIFFICULTIES:
        pairs = unique[f"train-{difficulty}"]
        if len(pairs) <= held_out:
            raise ModbenchError(f"{module} train-{difficulty} has {len(pairs)} unique questions, "
                                f"too few to hold out {held_out}; give more data")
        test = np.zeros(len(pairs), dtype=bool)
        test[_holdout_rng(module, difficulty).choice(len(pairs), held_out, replace=False)] = True
        splits[f"train_{difficulty}"] = [p for p, t in zip(pairs, test) if not t]
        splits[f"test_{difficulty}"] = [p for p, t in zip(pairs, test) if t]
    return {name: splits[name] for name in SPLITS}


def raw_release(module: str, source: str = "generated") -> tuple[Raw, int]:
    """(raw regimes, questions to hold out per difficulty) of `module` from `source`."""
    kind, value = parse_source(source)
    check_module(module)
    if kind == "dir":
        return read_release(value, module), RELEASE_HELD_OUT
    return generate_release(module, value), held_out_count(value)


def math_fingerprint(dataset_dict: datasets.DatasetDict) -> str:
    """sha256 over every split's name and its question/answer lines, in SPLITS order."""
    digest = hashlib.sha256()
    for name in SPLITS:
        digest.update(f"{name}\n".encode())
        for question, answer in zip(dataset_dict[name]["question"], dataset_dict[name]["answer"]):
            digest.update(f"{question}\n{answer}\n".encode())
    return digest.hexdigest()


def _materialise(splits: dict[str, Pairs]) -> datasets.DatasetDict:
    import datasets

    features = datasets.Features({"question": datasets.Value("string"), "answer": datasets.Value("string")})
    return datasets.DatasetDict({
        name: datasets.Dataset.from_dict({"question": [q for q, _ in pairs], "answer": [a for _, a in pairs]},
                                         features=features)
        for name, pairs in splits.items()
    })


def _cache_key(module: str, source: str) -> str:
    """What identifies the splits before they are made: the generator's recipe (module, data
    version, size) for generated data; the files' bytes for the release."""
    kind, value = parse_source(source)
    digest = hashlib.sha256(f"{module}\n{DATA_VERSION}\n".encode())
    if kind == "generated":
        digest.update(f"generated:{value}\n{PATCHES!r}".encode())  # the generator's fixes are recipe too
    else:
        root = release_folder(value)
        for regime in REGIMES:
            name = regime_file_module(module, regime)
            file = root / regime / f"{name}.txt"
            if name is not None and file.is_file():
                digest.update(regime.encode() + file.read_bytes())
    return f"{kind}-{digest.hexdigest()[:16]}"


def load_math(module: str, source: str = "generated", cache_dir: Path | None = None) -> datasets.DatasetDict:
    """The splits of `module` (SPLITS; columns 'question', 'answer') from `source`, cached in
    `cache_root(cache_dir)/math/<module>-<key>`: generating 50,000 questions per difficulty
    takes minutes, so the key comes from the recipe, not from the generated data."""
    check_module(module)
    folder = cache_root(cache_dir) / "math" / f"{module}-{_cache_key(module, source)}"
    dataset_dict = load_cached(folder)
    if dataset_dict is None:
        raw, held_out = raw_release(module, source)
        dataset_dict = _materialise(build_splits(raw, module, held_out))
        save_atomic(dataset_dict, folder)
    return dataset_dict


def export_math(module: str, out: Path, source: str = "generated") -> list[Path]:
    """Write `module`'s raw regimes from `source` in the release's layout under `out`."""
    raw, _ = raw_release(module, source)
    return write_release(raw, module, out)
