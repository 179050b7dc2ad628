"""The reference mask trainer (paper_spec §1.3-1.6; DESIGN.md "The reference mask trainer").

The frozen network is never modified: masked weights W ⊙ m are handed to
`torch.func.functional_call` together with copies of the buffers, so parameters and buffers
(BatchNorm running statistics included) stay bit-identical. Only the logits are optimised.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch
from torch import nn
from torch.func import functional_call

from modbench.errors import ModbenchError
from modbench.masking.gumbel import deterministic_mask, sample_hard_mask
from modbench.masking.maskset import MaskSet

# Bump on any change that can move a score (sampling, loss, optimiser, step count rule).
TRAINER_VERSION = 1

Batch = tuple[torch.Tensor, ...]
ForwardFn = Callable[[torch.Tensor], torch.Tensor]
LossFn = Callable[[ForwardFn, Batch], torch.Tensor]
SampleFn = Callable[[int, torch.Generator], Batch]


@dataclass(frozen=True)
class MaskConfig:
    """Hyper-parameters of one mask stage. Defaults are the paper's (paper_spec §2, §4.1)."""

    steps: int = 20_000
    lr: float = 1e-2
    beta: float = 1e-4  # the regulariser is (beta / batch_size) · Σ logits
    batch_size: int = 128
    n_samples: int = 4  # mask samples per batch; the batch is cut into this many chunks
    init: float = 2.0
    grad_clip: float = 1.0
    tau: float = 1.0

    def __post_init__(self) -> None:
        if self.batch_size % self.n_samples:
            raise ModbenchError(
                f"mask batch_size {self.batch_size} is not divisible by n_samples "
                f"{self.n_samples}; choose a batch size that is a multiple of it"
            )


@dataclass(frozen=True)
class MaskFilter:
    """Which parameters get a mask: by default every weight, never embeddings (§1.2)."""

    mask_biases: bool = False
    exclude: tuple[str, ...] = field(default=("*embedding*",))

    def select(self, model: nn.Module) -> list[str]:
        names = []
        for name, _ in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if any(fnmatch.fnmatch(name, pattern) for pattern in self.exclude):
                continue
            if leaf.startswith("bias") and not self.mask_biases:
                continue
            names.append(name)
        return names


class FrozenModel:
    """A module called functionally with (optionally masked) frozen weights."""

    def __init__(self, module: nn.Module, masked: Sequence[str]) -> None:
        self.module = module
        self.params = {n: p.detach() for n, p in module.named_parameters()}
        # Copies: a module that updates buffers in place (BatchNorm in train mode) must not
        # touch the original's.
        self.buffers = {n: b.detach().clone() for n, b in module.named_buffers()}
        unknown = [n for n in masked if n not in self.params]
        if unknown:
            raise ModbenchError(f"cannot mask {unknown}: not parameters of the model")
        self.masked = list(masked)

    def forward_fn(self, masks: dict[str, torch.Tensor] | None) -> ForwardFn:
        """A function x -> model(x) with W ⊙ masks[W] for every masked tensor given."""
        tensors: dict[str, torch.Tensor] = {**self.params, **self.buffers}
        for name, mask in (masks or {}).items():
            tensors[name] = self.params[name] * mask
        return lambda *args: functional_call(self.module, tensors, args)

    def forward_with(self, mask_set: MaskSet | None) -> ForwardFn:
        """Deterministic evaluation with a binary mask set (None: the unmasked network)."""
        masks = None
        if mask_set is not None:
            masks = {n: m.to(self.params[n].dtype) for n, m in mask_set.masks.items()}
        return self.forward_fn(masks)


def init_logits(frozen: FrozenModel, cfg: MaskConfig) -> dict[str, torch.Tensor]:
    """One logit per masked weight, all at `cfg.init` (2.0: keep-probability σ(2) ≈ 0.88)."""
    return {
        n: torch.full_like(frozen.params[n], cfg.init, requires_grad=True) for n in frozen.masked
    }


def mask_step(
    frozen: FrozenModel,
    logits: dict[str, torch.Tensor],
    optimiser: torch.optim.Optimizer,
    loss_fn: LossFn,
    batch: Batch,
    cfg: MaskConfig,
    generator: torch.Generator,
) -> None:
    """One update: k mask samples, one per chunk of the batch; loss = task loss +
    (β / batch) · Σ logits; clip the logits' gradient norm; Adam step."""
    optimiser.zero_grad(set_to_none=True)
    chunk = len(batch[0]) // cfg.n_samples
    for k in range(cfg.n_samples):
        masks = {n: sample_hard_mask(l, generator, cfg.tau) for n, l in logits.items()}
        part = tuple(t[k * chunk : (k + 1) * chunk] for t in batch)
        # mean over chunks == mean over the whole batch
        (loss_fn(frozen.forward_fn(masks), part) / cfg.n_samples).backward()
    params = list(logits.values())
    regulariser = (cfg.beta / cfg.batch_size) * sum(l.sum() for l in params)
    regulariser.backward()
    torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
    optimiser.step()


def train_mask(
    frozen: FrozenModel,
    loss_fn: LossFn,
    sample_batch: SampleFn,
    cfg: MaskConfig,
    generator: torch.Generator,
    on_step: Callable[[int], None] | None = None,
) -> dict[str, torch.Tensor]:
    """Train one stage's logits from scratch; returns them (detached). The caller puts the
    module in the mode the method needs (eval: dropout off, BatchNorm on running statistics)."""
    logits = init_logits(frozen, cfg)
    optimiser = torch.optim.Adam(logits.values(), lr=cfg.lr)
    for step in range(cfg.steps):
        batch = sample_batch(cfg.batch_size, generator)
        mask_step(frozen, logits, optimiser, loss_fn, batch, cfg, generator)
        if on_step is not None:
            on_step(step)
    return {n: l.detach() for n, l in logits.items()}


def binarize(logits: dict[str, torch.Tensor]) -> MaskSet:
    return MaskSet({n: deterministic_mask(l) for n, l in logits.items()})
