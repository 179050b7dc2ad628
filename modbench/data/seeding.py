"""Where task data get their randomness: from the data's identity (task, version, split), never
from the run seed; fingerprints say whether two results saw the same data. Third-party
generators that draw from the global `random` / `np.random` state (DeepMind's Mathematics
generator, MNIST-1D) run inside `seeded_globals`: seeded from the data's identity, and the
caller's global states given back, so no global random state leaks in or out."""
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


def data_rng(task: str, version: int, split: str) -> np.random.Generator:
    """The generator for one split's data, seeded from the task's identity alone."""
    digest = hashlib.sha256(f"{task}@v{version}/{split}".encode()).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(digest[:8], "little")))


def fingerprint(array: np.ndarray) -> str:
    """sha256 over dtype, shape and bytes, so a reshaped or retyped split changes it too."""
    h = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()
