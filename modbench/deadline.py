"""`--timeout-min`: a run that passes its time limit ends as failed with that reason, instead of
holding a grid (or a CI job) until something outside kills it without a result."""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

from modbench.errors import RunTimedOut


@contextlib.contextmanager
def deadline(minutes: float | None) -> Iterator[None]:
    """Raise RunTimedOut in the block once `minutes` have passed (None: no limit). A real-time
    timer (SIGALRM), so only in the main thread of a Unix process; elsewhere no limit is set."""
    usable = minutes is not None and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise RunTimedOut(f"the run passed its --timeout-min of {minutes:g} min; raise the limit or lower the tier")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, minutes * 60)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
