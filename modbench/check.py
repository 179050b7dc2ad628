"""`modbench check`: does a submission work on every task it supports, and if not, why?

For each task whose I/O contract the submission offers, on the smoke tier: build the model,
probe one batch for the output shape and finite values, probe the masking contract (declared
names are real parameters, an all-ones mask reproduces the unmasked outputs exactly, a forward
leaves the frozen weights unchanged), then run the whole pipeline (train, masks, evaluation).
Every failure becomes one line with its kind and reason, never a traceback.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from modbench import devices, harness
from modbench.archs import ArchSpec, build_model, validate_declarations
from modbench.contracts import Contract
from modbench.errors import ModbenchError, TrainingDiverged, one_line
from modbench.masking import FrozenModel, MaskFilter, MaskSet
from modbench.masking.roles import bake_parametrizations
from modbench.seq2seq import decoder_input
from modbench.submission import load_submission
from modbench.tasks import TASKS


@dataclass(frozen=True)
class CheckOutcome:
    task: str
    passed: bool
    # "pass", "import", "data", "factory", "forward", "shape", "non-finite output", "declared names",
    # "mask identity", "mutates weights", "NaN loss", "run"
    kind: str
    reason: str
    seconds: float


class _Failed(Exception):
    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind, self.reason = kind, reason


def _probe_vector(model, batch, contract) -> tuple[torch.Tensor, tuple[int, ...], str]:
    x = batch[0]
    return model(x), (len(x), contract.n_out), "[batch, n_heads × n_classes]"


def _probe_sequence(model, batch, contract) -> tuple[torch.Tensor, tuple[int, ...], str]:
    src, src_len, tgt = batch[0], batch[1], batch[2]
    out = model(src, src_len, decoder_input(tgt, contract.sos))
    return out, (*tgt.shape, contract.tgt_vocab), "[batch, target length, tgt_vocab]"


def _probe_image(model, batch, contract) -> tuple[torch.Tensor, tuple[int, ...], str]:
    x = batch[0]
    return model(x), (len(x), contract.n_classes), "[batch, n_classes]"


# contract kind -> probe(model, batch, contract) -> (output, expected shape, its meaning); a test
# fails when a task's contract kind has none
PROBES: dict[str, Callable] = {"vector": _probe_vector, "sequence": _probe_sequence, "image": _probe_image}


def probe(model: Callable, batch, contract: Contract) -> torch.Tensor:
    """One forward on a real batch: raises _Failed on an exception, a wrong shape or NaN/inf."""
    with torch.no_grad():
        try:
            out, expected, meaning = PROBES[contract.kind](model, batch, contract)
        except Exception as err:
            raise _Failed("forward", f"exception in forward: {one_line(err)}") from None
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != expected:
        got = list(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise _Failed("shape", f"wrong output shape: got {got}, expected {list(expected)} ({meaning})")
    if not bool(torch.isfinite(out).all()):
        raise _Failed("non-finite output", "forward returned NaN or inf at initialisation")
    return out


def probe_masking(model: torch.nn.Module, batch, contract: Contract, mask_filter: MaskFilter) -> None:
    """The masking contract on one batch: declared names exist; through the mask trainer's
    functional call an all-ones mask gives exactly the module's own outputs; the forward leaves
    every parameter and buffer as it was (masks assume frozen weights)."""
    bake_parametrizations(model)
    try:
        validate_declarations(model)
    except ModbenchError as err:
        raise _Failed("declared names", str(err)) from None
    before = {n: t.detach().clone() for n, t in (*model.named_parameters(), *model.named_buffers())}
    plain = probe(model, batch, contract)
    changed = [n for n, t in (*model.named_parameters(), *model.named_buffers()) if not torch.equal(t, before[n])]
    if changed:
        raise _Failed("mutates weights", f"a forward in eval mode changed {', '.join(changed[:3])}; the frozen "
                      "network must not modify its own tensors")
    frozen = FrozenModel(model, mask_filter.select(model))
    ones = MaskSet({n: torch.ones_like(frozen.params[n], dtype=torch.bool) for n in frozen.masked})
    masked = probe(frozen.forward_with(ones), batch, contract)
    if not torch.equal(plain, masked):
        worst = float((plain - masked).abs().max())
        raise _Failed("mask identity", f"an all-ones mask changed the outputs (max difference {worst:.3g}); the "
                      "forward must read its weights from the module's parameters, not from copies or caches")


def check_task(arch: ArchSpec, task_name: str, device: str = "auto") -> CheckOutcome:
    started = time.perf_counter()
    task_cls = TASKS.get(task_name)
    try:
        try:
            task = harness.task_instance(task_name, task_cls.smoke_source)
        except Exception as err:
            raise _Failed("data", f"the task's data failed to load: {one_line(err)}") from None
        try:
            model = build_model(arch, task.contract, arch.size(task.size_group, "smoke"), init_seed=0)
        except Exception as err:
            raise _Failed("factory", f"the factory raised: {one_line(err)}") from None
        batch = task.sample(None, 4, torch.Generator().manual_seed(0))
        probe(model.eval(), batch, task.contract)
        probe_masking(model, batch, task.contract, task.budget("smoke", arch.name).mask_filter)
        spec = harness.RunSpec(arch.name, task_name, "smoke", 0, source=task_cls.smoke_source, device=device)
        try:
            harness.run_one(harness.prepare(spec))
        except TrainingDiverged as err:
            raise _Failed("NaN loss", str(err)) from None
        except Exception as err:
            raise _Failed("run", f"the smoke run failed: {one_line(err)}") from None
    except _Failed as failure:
        return CheckOutcome(task_name, False, failure.kind, failure.reason, time.perf_counter() - started)
    return CheckOutcome(task_name, True, "pass", "", time.perf_counter() - started)


def check_submission(path: str | Path, device: str = "auto") -> list[CheckOutcome]:
    """One outcome per supported task, or a single "import" outcome when the file won't load.
    The smoke runs compute on `device` (modbench.devices; an unavailable one raises, one line)."""
    devices.resolve(device)
    started = time.perf_counter()
    try:
        arch = load_submission(path)
    except ModbenchError as err:
        return [CheckOutcome("(import)", False, "import", str(err), time.perf_counter() - started)]
    tasks = [name for name in TASKS if arch.fits(TASKS.get(name))]
    if not tasks:
        return [CheckOutcome("(tasks)", False, "factory",
                             f"no task uses the I/O kinds {sorted(arch.factories)}", 0.0)]
    return [check_task(arch, name, device) for name in tasks]
