"""Weight training's gradient over fixed shards of each batch, computed in parallel processes.

A batch is cut into `TrainConfig.shards` consecutive parts. Each part's gradient (of its loss
weighted by its share of the batch's rows) is computed on its own, with its own dropout stream,
and the parts' gradients are summed in part order. The decomposition belongs to the
configuration, not to the machine: one process computing the parts in turn and a helper process
per part give the same bits (every process computes at one thread, as in modbench.workers).

Why: weight training is a run's one serial phase. A pool's processes fill the mask stages, but
during training one of two cores sat idle, ~45 % of a mathematics run (README, "Tiers").
"""
from __future__ import annotations

import multiprocessing
import traceback
from contextlib import contextmanager
from typing import Iterator, Sequence

import torch
from torch import nn

from modbench.contracts import Batch, LossFn
from modbench.errors import ModbenchError

# Seconds between checks that a helper still lives while its part is awaited.
POLL_SECONDS = 1.0


def split_batch(batch: Batch, shards: int) -> list[tuple[Batch, float]]:
    """The batch's `shards` consecutive parts, each with its share of the rows."""
    n = len(batch[0])
    if n < shards:
        raise ModbenchError(f"train batch_size {n} is smaller than train.shards {shards}; "
                            "choose at most one shard per row")
    bounds = [round(i * n / shards) for i in range(shards + 1)]
    return [(tuple(t[a:b] for t in batch), (b - a) / n) for a, b in zip(bounds, bounds[1:])]


def shard_seeds(shards: int) -> list[int]:
    """One dropout seed per part, drawn from the global generator (which the caller seeded from
    the run): the same seeds however the parts are dealt over processes."""
    return [int(s) for s in torch.randint(2**62, (shards,))]


def updates_buffers(model: nn.Module) -> bool:
    """Whether training forwards write buffers (BatchNorm's running statistics): parts in parallel
    processes would race on them, so such a network computes its parts in turn."""
    return any(isinstance(m, nn.modules.batchnorm._NormBase) and m.track_running_stats for m in model.modules())


class DropoutStream:
    """The default generator's state for one part, swapped in while that part computes (nn.Dropout
    draws from the global generator and takes none of its own)."""

    def __init__(self, seed: int, device: torch.device) -> None:
        self.device = device
        with torch.random.fork_rng(devices=self._cuda()):
            torch.manual_seed(seed)
            self.state = self._get()

    def _cuda(self) -> list:
        return [self.device] if self.device.type == "cuda" else []

    def _get(self):
        return (torch.get_rng_state(), *(torch.cuda.get_rng_state(d) for d in self._cuda()))

    @contextmanager
    def active(self) -> Iterator[None]:
        with torch.random.fork_rng(devices=self._cuda()):
            torch.set_rng_state(self.state[0])
            for d, s in zip(self._cuda(), self.state[1:]):
                torch.cuda.set_rng_state(s, d)
            yield
            self.state = self._get()


def part_gradient(model: nn.Module, loss_fn: LossFn, part: Batch, share: float,
                  stream: DropoutStream) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """(detached weighted loss, gradient per parameter) of one part."""
    params = list(model.parameters())
    with stream.active():
        loss = loss_fn(model, part) * share
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return loss.detach(), [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]


def _helper(conn, model: nn.Module, loss_fn: LossFn, seeds: dict[int, int], buffers: dict[int, torch.Tensor]) -> None:
    """A helper process: computes its parts of every batch into shared buffers until told to stop."""
    torch.set_num_threads(1)
    model.train()
    streams = {j: DropoutStream(seed, torch.device("cpu")) for j, seed in seeds.items()}
    try:
        while (parts := conn.recv()) is not None:
            losses = {}
            for j, (part, share) in parts.items():
                loss, grads = part_gradient(model, loss_fn, tuple(torch.from_numpy(a) for a in part), share, streams[j])
                torch.cat([g.reshape(-1) for g in grads], out=buffers[j])
                losses[j] = loss.item()  # a float32's value: exact as a Python float
            conn.send(("ok", losses))
    except BaseException as err:  # noqa: BLE001 - reported to the main process, which raises it
        traceback.print_exc()  # the whole story on stderr; the main process raises one line
        conn.send(("error", f"{type(err).__name__}: {err}"))


class ShardedGradient:
    """Computes `Σ_part ∇(share · loss(part))` into the model's `.grad`, parts dealt over this
    process and `processes - 1` spawned helpers (CPU only; parameters in shared memory, updated in
    place by the caller's optimiser and so seen by the helpers)."""

    def __init__(self, model: nn.Module, loss_fn: LossFn, shards: int, processes: int, device: torch.device) -> None:
        self.model, self.loss_fn, self.shards = model, loss_fn, shards
        seeds = shard_seeds(shards)
        processes = max(1, min(processes, shards)) if device.type == "cpu" and not updates_buffers(model) else 1
        self.owner = [j % processes for j in range(shards)]  # part -> process (0: this one)
        self.streams = {j: DropoutStream(seeds[j], device) for j in range(shards) if self.owner[j] == 0}
        self.helpers: list[tuple] = []
        if processes > 1:
            self._start(processes, seeds)

    def _start(self, processes: int, seeds: list[int]) -> None:
        self.model.share_memory()
        n = sum(p.numel() for p in self.model.parameters())
        context = multiprocessing.get_context("spawn")
        for rank in range(1, processes):
            mine = [j for j in range(self.shards) if self.owner[j] == rank]
            buffers = {j: torch.zeros(n).share_memory_() for j in mine}
            ours, theirs = context.Pipe()
            process = context.Process(target=_helper, args=(theirs, self.model, self.loss_fn,
                                                            {j: seeds[j] for j in mine}, buffers), daemon=True)
            process.start()
            theirs.close()
            self.helpers.append((process, ours, buffers))

    def close(self) -> None:
        for process, conn, _ in self.helpers:
            if process.is_alive():
                try:
                    conn.send(None)
                except (BrokenPipeError, OSError):
                    pass
                process.join(timeout=10)
            if process.is_alive():
                process.terminate()
        self.helpers = []

    def _await(self, process, conn) -> dict:
        while not conn.poll(POLL_SECONDS):
            if not process.is_alive():
                raise ModbenchError(f"a training helper process died (exit code {process.exitcode}); "
                                    "rerun with --workers 1 to train in one process")
        status, payload = conn.recv()
        if status == "error":
            raise ModbenchError(f"a training helper process failed: {payload} (its traceback is on stderr; "
                                "--workers 1 computes every part in this process)")
        return payload

    def __call__(self, batch: Batch) -> torch.Tensor:
        """Set every parameter's `.grad` to the batch's gradient; returns the batch's (detached) loss."""
        parts = split_batch(batch, self.shards)
        for rank, (_, conn, _) in enumerate(self.helpers, start=1):
            conn.send({j: (tuple(t.cpu().numpy() for t in parts[j][0]), parts[j][1])
                       for j in range(self.shards) if self.owner[j] == rank})
        results = {j: part_gradient(self.model, self.loss_fn, *parts[j], self.streams[j]) for j in self.streams}
        for process, conn, buffers in self.helpers:
            for j, loss in self._await(process, conn).items():
                results[j] = (torch.tensor(loss), self._unflatten(buffers[j]))
        params = list(self.model.parameters())
        total_loss, total = results[0]  # part 0 is always this process's: fresh tensors, summed into in place
        for j in range(1, self.shards):  # in part order: the bits do not depend on the processes
            loss, grads = results[j]
            total_loss = total_loss + loss
            for acc, g in zip(total, grads):
                acc.add_(g)
        for p, g in zip(params, total):
            p.grad = g
        return total_loss

    def _unflatten(self, flat: torch.Tensor) -> Sequence[torch.Tensor]:
        out, at = [], 0
        for p in self.model.parameters():
            out.append(flat[at : at + p.numel()].view_as(p))
            at += p.numel()
        return out
