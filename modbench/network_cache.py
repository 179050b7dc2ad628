"""Trained networks kept between runs that differ only in their mask settings (a β sweep, the
mask methods of the analyzer track), so each trains its network once.

Opt-in (`modbench run --network-cache DIR`). A network is reused only when everything its
training reads is equal: architecture and its source, task, version and data, training
configuration and size, both seeds, the split it trained on, the device type, the torch version
and modbench's own source. Loaded tensors are the trained ones bit for bit (safetensors), so a
cached run gives the numbers of an uncached one.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import torch
from torch import nn

from modbench import provenance
from modbench.io import write_atomic

if TYPE_CHECKING:
    from modbench.harness import Prepared


def network_key(run: "Prepared", sub: str | None, init_seed: int, order_seed: int) -> str:
    """sha256 over everything training the network reads."""
    identity = {
        "arch": run.spec.arch, "arch_source": run.arch.source_sha256(), "task": run.task.name,
        "task_version": run.task.version, "data": run.task.fingerprints(), "train": run.config["train"],
        "arch_size": run.config["arch_size"], "trainer_version": run.config["trainer_version"], "sub": sub,
        "init": init_seed, "order": order_seed, "device": run.device.type, "torch": torch.__version__,
        "modbench": provenance.source_sha256(),
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=list).encode()).hexdigest()


def cached(run: "Prepared", sub: str | None, init_seed: int, order_seed: int,
           build: Callable[[], nn.Module], train: Callable[[nn.Module], None]) -> nn.Module:
    """`build()` trained by `train`, or loaded from the cache where this very training ran before."""
    from safetensors.torch import load, save

    model = build()
    if run.spec.network_cache is None:
        train(model)
        return model
    path = Path(run.spec.network_cache) / f"{network_key(run, sub, init_seed, order_seed)}.safetensors"
    if path.exists():
        model.load_state_dict(load(path.read_bytes()))
        return model
    train(model)
    state = {n: t.detach().cpu().contiguous() for n, t in model.state_dict().items()}
    write_atomic(path, save(state))
    return model
