"""The on-disk cache of materialised datasets (Arrow, through `datasets`), shared by every source.

A cache folder's name holds what identifies its content (a fingerprint of the data, or of the
recipe that generates them), so a cache can never serve other data than asked for. Folders are
written whole or not at all: saved into a temporary sibling, then renamed into place.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from modbench.errors import ModbenchError

if TYPE_CHECKING:
    import datasets


def cache_root(cache_dir: Path | None = None) -> Path:
    """cache_dir, else $MODBENCH_CACHE, else ~/.cache/modbench."""
    return Path(cache_dir or os.environ.get("MODBENCH_CACHE") or Path.home() / ".cache" / "modbench")


def load_cached(folder: Path) -> datasets.DatasetDict | None:
    """The DatasetDict saved in `folder`, or None if there is none yet."""
    if not folder.is_dir():
        return None
    import datasets

    return datasets.load_from_disk(str(folder))


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
        dataset_dict.save_to_disk(str(tmp))
        os.replace(tmp, folder)
    except OSError as err:
        if not folder.is_dir():  # else another process finished the same cache first
            raise ModbenchError(f"cannot write the dataset cache {folder} ({err.strerror}); "
                                "set MODBENCH_CACHE to a writable folder") from None
    finally:
        if not quiet_before:
            enable_progress_bars()
        shutil.rmtree(tmp, ignore_errors=True)
