"""The on-disk cache of materialised datasets (Arrow, through `datasets`), shared by every source.

A cache folder's name holds what identifies its content (a fingerprint of the data, or of the
recipe that generates them), so a cache can never serve other data than asked for. Folders are
written whole or not at all: saved into a temporary sibling, then renamed into place.

Empty splits (math_linear_1d has no extrapolation set) are not saved as Arrow: `datasets`
writes such a split with no shard and cannot read it back (IndexError in `load_from_disk`,
datasets 5.2). Their names and features go to EMPTY_SPLITS beside the data instead.
"""
from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from modbench.errors import ModbenchError

if TYPE_CHECKING:
    import datasets

EMPTY_SPLITS = "empty_splits.json"  # {split name: features as a dict}


def cache_root(cache_dir: Path | None = None) -> Path:
    """cache_dir, else $MODBENCH_CACHE, else ~/.cache/modbench."""
    return Path(cache_dir or os.environ.get("MODBENCH_CACHE") or Path.home() / ".cache" / "modbench")


def load_cached(folder: Path) -> datasets.DatasetDict | None:
    """The DatasetDict saved in `folder`, or None if there is none yet, or if the folder cannot
    be read (a cache written before empty splits were kept aside, or damaged): that folder is
    removed, so the caller regenerates and saves it again."""
    if not folder.is_dir():
        return None
    import datasets

    try:
        dataset_dict = datasets.load_from_disk(str(folder))
        empty_file = folder / EMPTY_SPLITS
        empty = json.loads(empty_file.read_text()) if empty_file.is_file() else {}
    except Exception:  # noqa: BLE001 - any unreadable cache is a miss; its data can be remade
        shutil.rmtree(folder, ignore_errors=True)
        return None
    for name, features in empty.items():
        features = datasets.Features.from_dict(features)
        dataset_dict[name] = datasets.Dataset.from_dict({column: [] for column in features}, features=features)
    return dataset_dict


def save_atomic(dataset_dict: datasets.DatasetDict, folder: Path) -> None:
    """Save into a temporary sibling, then rename it into place: a crash leaves no half cache."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = folder.parent / f".{folder.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        tmp.mkdir()  # unlike mkdtemp's 0700, follows the umask: a cache may be shared
    except OSError as err:
        raise ModbenchError(f"cannot write the dataset cache in {folder.parent} ({err.strerror}); "
                            "set MODBENCH_CACHE to a writable folder") from None
    from datasets.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    quiet_before = are_progress_bars_disabled()
    try:
        disable_progress_bars()  # a sub-second save needs no bar on the user's terminal
        import datasets

        empty = {name: split.features.to_dict() for name, split in dataset_dict.items() if len(split) == 0}
        datasets.DatasetDict({name: split for name, split in dataset_dict.items() if name not in empty}
                             ).save_to_disk(str(tmp))
        (tmp / EMPTY_SPLITS).write_text(json.dumps(empty))
        os.replace(tmp, folder)
    except OSError as err:
        if not folder.is_dir():  # else another process finished the same cache first
            raise ModbenchError(f"cannot write the dataset cache {folder} ({err.strerror}); "
                                "set MODBENCH_CACHE to a writable folder") from None
    finally:
        if not quiet_before:
            enable_progress_bars()
        shutil.rmtree(tmp, ignore_errors=True)
