"""One writer per run folder: an exclusive lock on `<folder>/.lock` held while the run runs
and writes (fcntl.flock, released by the kernel when a process dies, kill -9 included).

A second process on the same run waits for the lock, then finds the first one's result and
keeps it: a finished result is never overwritten. Whoever takes the lock removes temporaries
that a killed writer left (`*.tmp`): nobody else can be writing them.
"""
from __future__ import annotations

import contextlib
import fcntl
import sys
from pathlib import Path
from typing import Iterator

LOCK_FILE = ".lock"


@contextlib.contextmanager
def run_lock(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_FILE, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"{folder}: another process is running this run; waiting for it", file=sys.stderr)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            for stale in folder.glob("*.tmp"):
                stale.unlink(missing_ok=True)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
