"""Files modbench writes: atomic, and named safely whatever the names they are built from."""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path


def safe_file_name(*parts: object) -> str:
    """A file name built from result fields (task, architecture, ...) that stays a plain name in
    its folder: every character but letters, digits, '-', '_' and '.' becomes '_', and no leading
    dot, so '/abs/path' or '../x' in a result cannot place a file outside the output folder."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", "_".join(str(p) for p in parts)).lstrip(".")
    return name[:200] or "_"


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write through a temporary file of a unique name, then rename: readers see the old file or
    the new one, and two writers never share a temporary."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(text.encode() if isinstance(text, str) else text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
