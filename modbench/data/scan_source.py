"""Where SCAN data come from (the grammar, upstream files, the Hugging Face hub) and their cache.

Every source yields the same thing, (command, actions) pairs for train and test, so a network
trained on `generated` data and one trained on upstream's files differ only in the data. The
default, `generated`, needs no file and no network (Lake & Baroni 2018's grammar, scan_facts.md
§1). The materialised `datasets.DatasetDict` is cached under a name holding the data's sha256, so
a cache can never serve data other than what the source gives now.
"""
from __future__ import annotations

import difflib
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from modbench.data.cache import cache_root, load_cached, save_atomic
from modbench.data.scan_files import Pairs, file_names, find_files, format_line, read_pairs, write_pairs
from modbench.data.scan_grammar import interpret
from modbench.data.scan_splits import build_split, check_split
from modbench.errors import ModbenchError

if TYPE_CHECKING:
    import datasets

HUB_REPO = "scan-tasks/scan-tasks"
HUB_CONFIGS = {"simple": "simple", "length": "length", "addprim_jump": "addprim_jump",
               "addprim_turn_left": "addprim_turn_left", "around_right": "template_around_right",
               "jump_around_right": "template_jump_around_right", "right": "template_right",
               "opposite_right": "template_opposite_right"}
SOURCE_FORMS = ("generated (default, from the grammar), generated:N (its test side thinned to N evenly spaced "
                "lines: smoke runs), hub (Hugging Face) or dir:PATH (upstream .txt files)")
_OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
_OFFLINE_HINT = "use --source generated (built from the grammar) or --source dir:PATH (upstream files)"


def parse_source(source: str) -> tuple[str, Path | None]:
    """'generated' | 'generated:N' | 'hub' | 'dir:PATH' -> (kind, path or None); a one-line error
    otherwise."""
    if source in ("generated", "hub") or _thinned_count(source):
        return source.partition(":")[0], None
    if source.startswith("dir:") and source[4:].strip():
        return "dir", Path(source[4:]).expanduser()
    close = difflib.get_close_matches(source, ["generated", "hub", "dir:"], n=1)
    hint = f"did you mean {close[0] + ('PATH' if close[0] == 'dir:' else '')!r}? " if close else ""
    raise ModbenchError(f"malformed SCAN source {source!r}; {hint}accepted: {SOURCE_FORMS}")


def _thinned_count(source: str) -> int | None:
    """N of 'generated:N' (a positive integer), else None."""
    count = source.removeprefix("generated:")
    return int(count) if source.startswith("generated:") and count.isdigit() and int(count) > 0 else None


def _generated(split: str, test_lines: int | None = None) -> tuple[Pairs, Pairs]:
    """The split from the grammar; `test_lines`: keep that many evenly spaced test lines (smoke
    runs, where greedy decoding of thousands of test commands is most of the time)."""
    train, test = build_split(split)
    if test_lines is not None and test_lines < len(test):
        test = [test[i * len(test) // test_lines] for i in range(test_lines)]
    meaning = {command: interpret(command) for command in {*train, *test}}
    return [(c, meaning[c]) for c in train], [(c, meaning[c]) for c in test]


def _hub_is_offline() -> bool:
    return any(os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
               for name in _OFFLINE_VARIABLES)


def _is_connection_error(err: BaseException | None) -> bool:
    """True if `err` or its causes look like no network (requests', httpx' and HF's own kinds)."""
    while err is not None:
        name = type(err).__name__
        if isinstance(err, (ConnectionError, TimeoutError)) or any(
                key in name for key in ("Connect", "Timeout", "Offline", "LocalEntryNotFound")):
            return True
        err = err.__cause__ or err.__context__
    return False


def _hub(split: str) -> tuple[Pairs, Pairs]:
    config = HUB_CONFIGS[split]
    # Checked first: offline, `datasets` would otherwise spend about 20 s on retries.
    if _hub_is_offline():
        raise ModbenchError(f"the hub source is offline ({' or '.join(_OFFLINE_VARIABLES)} is set); {_OFFLINE_HINT}")
    import datasets

    try:
        loaded = datasets.load_dataset(HUB_REPO, config)
    except Exception as err:  # any failure of a remote load becomes one line
        if _is_connection_error(err):
            raise ModbenchError(f"the hub source is offline (cannot reach {HUB_REPO}); {_OFFLINE_HINT}") from None
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ModbenchError(f"cannot load {HUB_REPO} config {config!r} from the hub: {first}") from None
    pairs = []
    for side in ("train", "test"):
        if side not in loaded or not {"commands", "actions"} <= set(loaded[side].column_names):
            raise ModbenchError(f"{HUB_REPO} config {config!r} lacks a {side!r} split with columns "
                                f"'commands' and 'actions'; {_OFFLINE_HINT}")
        pairs.append(list(zip(loaded[side]["commands"], loaded[side]["actions"])))
    return pairs[0], pairs[1]


def scan_pairs(split: str, source: str = "generated") -> tuple[Pairs, Pairs]:
    """(train, test) lists of (command, actions) of `split` from `source`, in the source's order."""
    check_split(split)
    kind, folder = parse_source(source)
    if kind == "generated":
        return _generated(split, _thinned_count(source))
    if kind == "hub":
        return _hub(split)
    train_file, test_file = find_files(folder, split)
    return read_pairs(train_file), read_pairs(test_file)


def _fingerprint(sides: Iterable[Iterable[tuple[str, str]]]) -> str:
    """sha256 over 'train\\n', the train lines in upstream format each ending in LF, 'test\\n',
    the test lines: a changed, moved or reordered line changes it."""
    digest = hashlib.sha256()
    for name, pairs in zip(("train", "test"), sides):
        digest.update(f"{name}\n".encode())
        for command, actions in pairs:
            digest.update(f"{format_line(command, actions)}\n".encode())
    return digest.hexdigest()


def scan_fingerprint(dataset_dict: datasets.DatasetDict) -> str:
    """The data fingerprint of a loaded SCAN DatasetDict (the one in its cache folder's name)."""
    return _fingerprint(zip(dataset_dict[side]["commands"], dataset_dict[side]["actions"])
                        for side in ("train", "test"))


def _materialise(train: Pairs, test: Pairs) -> datasets.DatasetDict:
    import datasets

    features = datasets.Features({"commands": datasets.Value("string"), "actions": datasets.Value("string")})
    return datasets.DatasetDict({
        side: datasets.Dataset.from_dict({"commands": [c for c, _ in pairs], "actions": [a for _, a in pairs]},
                                         features=features)
        for side, pairs in (("train", train), ("test", test))
    })


def load_scan(split: str, source: str = "generated", cache_dir: Path | None = None) -> datasets.DatasetDict:
    """SCAN split `split` as a DatasetDict ('train', 'test'; columns 'commands', 'actions', as on
    the hub), from `source` (see SOURCE_FORMS), cached in
    `cache_root(cache_dir)/scan/<split>-<fingerprint[:16]>`."""
    train, test = scan_pairs(split, source)
    folder = cache_root(cache_dir) / "scan" / f"{split}-{_fingerprint((train, test))[:16]}"
    dataset_dict = load_cached(folder)
    if dataset_dict is None:
        dataset_dict = _materialise(train, test)
        save_atomic(dataset_dict, folder)
    return dataset_dict


def export_scan(split: str, out: Path, source: str = "generated") -> tuple[Path, Path]:
    """Write `out/tasks_train_<split>.txt` and `out/tasks_test_<split>.txt` in upstream's exact
    format, each atomically; returns their paths."""
    train, test = scan_pairs(split, source)
    paths = tuple(Path(out) / name for name in file_names(split))
    for path, pairs in zip(paths, (train, test)):
        write_pairs(path, pairs)
    return paths[0], paths[1]
