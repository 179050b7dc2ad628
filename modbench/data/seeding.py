"""Third-party generators that draw from the global `random` / `np.random` state (DeepMind's
Mathematics generator, MNIST-1D) run inside `seeded_globals`: seeded from the data's identity,
and the caller's global states given back, so no global random state leaks in or out."""
from __future__ import annotations

import contextlib
import hashlib
import random
from typing import Iterator

import numpy as np


def identity_seed(identity: str) -> int:
    """A 64-bit seed from a dataset's identity string (name, version, part)."""
    return int.from_bytes(hashlib.sha256(identity.encode()).digest()[:8], "little")


@contextlib.contextmanager
def seeded_globals(seed: int) -> Iterator[None]:
    """Seed `random` and `np.random`; restore the caller's states afterwards."""
    saved_random, saved_numpy = random.getstate(), np.random.get_state()
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        yield
    finally:
        random.setstate(saved_random)
        np.random.set_state(saved_numpy)
