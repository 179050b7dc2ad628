"""The reference mask trainer (paper_spec §1.3-1.6; DESIGN.md "The reference mask trainer").

The frozen network is never modified: masked weights W ⊙ m are handed to
`torch.func.functional_call` together with copies of the buffers, so parameters and buffers
(BatchNorm running statistics included) stay bit-identical. Only the logits are optimised.
"""
from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch
from torch import nn
from torch.func import functional_call

from modbench.config import LR_SCHEDULES, MaskConfig
from modbench.devices import following_inputs
from modbench.contracts import Batch, ForwardFn, LossFn, SampleFn
from modbench.errors import FrozenWeightsChanged, ModbenchError, check_finite
from modbench.masking.convergence import ConvergenceTracker, StageConvergence
from modbench.masking.gumbel import MaskNoise, deterministic_mask, masked_weights
from modbench.masking.maskset import HISTOGRAM_BINS, MaskSet
from modbench.masking.memory import keep_freed_memory
from modbench.optim import adam

# Steps between finiteness checks of the loss: each check waits for the device, and a NaN stays.
LOSS_CHECK_EVERY = 25

# Bump on any change that can move a score (sampling, loss, optimiser, step count rule).
# 2: weight training draws dropout from a generator seeded by the run (1: the process's global
#    generator, so a run with dropout depended on what ran before it in the same process).
# 3: mask samples compare the uniform noise with σ(−l) in fused kernels (2: logit noise added to
#    the logits in torch); the same distribution, but rounding at the threshold differs.
# 4: the k samples go through one vmapped forward where the architecture allows it (FNN, CNN,
#    ResNet): batched matmuls round differently from k separate ones.
# 5: only architectures that ask for it (ArchSpec.vmap_mask_samples: cnn, resnet) are vmapped;
#    the FNN is back on the loop, which measured faster for it.
# 6: the mask noise is a counter-based stream (SplitMix64) generated inside the fused kernels
#    (5: numpy PCG64 into a k·N buffer); the same distribution, other numbers.
TRAINER_VERSION = 6



def set_scheduled_lr(optimiser: torch.optim.Optimizer, cfg: "MaskConfig", step: int) -> None:
    """Give every parameter group the rate `cfg.lr_schedule` sets for `step`."""
    for group in optimiser.param_groups:
        group["lr"] = cfg.lr * LR_SCHEDULES[cfg.lr_schedule](step, cfg.steps)


class _MethodCall(nn.Module):
    """Calls one method of a module as its forward, so `functional_call` can reach it."""

    def __init__(self, module: nn.Module, method: str) -> None:
        super().__init__()
        self.m, self.method = module, method

    def forward(self, *args):
        return getattr(self.m, self.method)(*args)


class BoundModel:
    """The frozen module with a fixed set of tensors in place of its parameters: callable like
    the module, and `method(name)` reaches its other methods (incremental decoding)."""

    def __init__(self, module: nn.Module, tensors: dict[str, torch.Tensor]) -> None:
        self.module, self.tensors = module, tensors
        # where it computes; callers' tensors from elsewhere are moved there and back (devices.py)
        self.device = next(iter(tensors.values())).device if tensors else torch.device("cpu")
        self._call = following_inputs(lambda *args: functional_call(module, tensors, args), self.device)

    def __call__(self, *args):
        return self._call(*args)

    def method(self, name: str) -> Callable | None:
        """The module's method `name` under these tensors, or None if it has none."""
        if not callable(getattr(self.module, name, None)):
            return None
        wrapper = _MethodCall(self.module, name)
        prefixed = {f"m.{n}": t for n, t in self.tensors.items()}
        return following_inputs(lambda *args: functional_call(wrapper, prefixed, args), self.device)


def optional_method(model: ForwardFn, name: str) -> Callable | None:
    """Method `name` of a plain module or of a BoundModel, or None where there is none."""
    if isinstance(model, BoundModel):
        return model.method(name)
    found = getattr(model, name, None)
    return found if isinstance(model, nn.Module) and callable(found) else None


class FrozenModel:
    """A module called functionally with (optionally masked) frozen weights."""

    def __init__(self, module: nn.Module, masked: Sequence[str], vectorise: bool = False) -> None:
        self.module = module
        self.params = {n: p.detach() for n, p in module.named_parameters()}
        # Copies: a module that updates buffers in place (BatchNorm in train mode) must not
        # touch the original's.
        self.buffers = {n: b.detach().clone() for n, b in module.named_buffers()}
        # the k mask samples through vmap (ArchSpec.vmap_mask_samples); turned off for the rest
        # of the run by the first step that cannot be vmapped
        self.vectorise = vectorise
        unknown = [n for n in masked if n not in self.params]
        if unknown:
            raise ModbenchError(f"cannot mask {unknown}: not parameters of the model")
        self.masked = list(masked)
        self.digest = self.tensors_digest()

    def tensors_digest(self) -> str:
        """sha256 of the module's parameters and buffers as they are now."""
        digest = hashlib.sha256()
        for name, tensor in (*self.module.named_parameters(), *self.module.named_buffers()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()

    def check_unchanged(self, when: str) -> None:
        """Raise FrozenWeightsChanged if a parameter or buffer moved since the model was frozen."""
        if self.tensors_digest() != self.digest:
            raise FrozenWeightsChanged(f"the frozen network's tensors changed during {when}: its forward modifies "
                                       "its own weights or buffers, so the masks would describe another network")

    def forward_fn(self, weights: dict[str, torch.Tensor] | None) -> BoundModel:
        """The model with the given tensors in place of the parameters (callable like it)."""
        return BoundModel(self.module, {**self.params, **self.buffers, **(weights or {})})

    def forward_with(self, mask_set: MaskSet | None, weights: dict[str, torch.Tensor] | None = None) -> BoundModel:
        """Deterministic evaluation with a binary mask set (None: the unmasked network), of the
        frozen weights or of `weights` in their place (transfer's trained ones)."""
        base = weights if weights is not None else self.params
        masked = {n: torch.where(m.to(base[n].device), base[n], 0.0) for n, m in (mask_set.masks.items() if mask_set else ())}
        return self.forward_fn({**(weights or {}), **masked})


def masked_fixed(frozen: FrozenModel, fixed: MaskSet | None) -> dict[str, torch.Tensor]:
    """The frozen tensors under `fixed`'s masks: masked tensors no logit drives ({} without)."""
    if fixed is None:
        return {}
    return {n: torch.where(m.to(frozen.params[n].device), frozen.params[n], 0.0) for n, m in fixed.masks.items()}


def init_logits(frozen: FrozenModel, cfg: MaskConfig, skip: Sequence[str] = ()) -> dict[str, torch.Tensor]:
    """One logit per masked weight (but those in `skip`), all at `cfg.init` (2.0: keep-probability
    σ(2) ≈ 0.88)."""
    return {
        n: torch.full_like(frozen.params[n], cfg.init, requires_grad=True) for n in frozen.masked if n not in skip
    }


@dataclass(frozen=True)
class Trainable:
    """Weights trained jointly with the logits (transfer, paper_spec §4.7): they stand in for the
    frozen network's tensors in every forward, which stays untouched; the gradient of each entry
    of `keep` where its bool mask is set is zeroed before the step (weights earlier tasks chose)."""

    weights: dict[str, torch.Tensor]  # every parameter, requires_grad
    keep: dict[str, torch.Tensor] = field(default_factory=dict)


def _looped_loss(frozen, logits, loss_fn, batch, cfg, draws, fixed_weights, trainable=None) -> torch.Tensor:
    """Mean loss of the k samples, one forward per sample on its chunk of the batch."""
    k = cfg.n_samples
    chunk = len(batch[0]) // k
    base = trainable.weights if trainable is not None else frozen.params
    samples = {n: masked_weights(l, base[n], draws[n], cfg.tau) for n, l in logits.items()}
    unmasked = trainable.weights if trainable is not None else {}
    loss = 0.0
    for i in range(k):
        weights = {**unmasked, **{n: s[i] for n, s in samples.items()}, **(fixed_weights or {})}
        part = tuple(t[i * chunk : (i + 1) * chunk] for t in batch)
        loss = loss + loss_fn(frozen.forward_fn(weights), part) / k  # mean over chunks == over the batch
    return loss


def _vectorised_loss(frozen, logits, loss_fn, batch, cfg, draws, fixed_weights) -> torch.Tensor | None:
    """The same mean loss from one forward over all k samples (torch.func.vmap: batched matmuls
    instead of k small ones), or None where the architecture does not ask for it or cannot be
    vmapped (nn.LSTM has no batching rule; sequence losses branch on lengths). A failure turns
    `frozen.vectorise` off for the rest of the run (structural failures show at the first step)."""
    if not frozen.vectorise:
        return None
    k = cfg.n_samples
    chunk = len(batch[0]) // k
    stacked = {n: masked_weights(l, frozen.params[n], draws[n], cfg.tau, stacked=True) for n, l in logits.items()}
    parts = tuple(t[: k * chunk].reshape(k, chunk, *t.shape[1:]) for t in batch)  # [k, chunk, ...]

    def sample_loss(weights, *part):
        return loss_fn(frozen.forward_fn({**weights, **(fixed_weights or {})}), part)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # vmap's slow per-sample fallback warns: take the loop
            losses = torch.func.vmap(sample_loss)(stacked, *parts)  # [k]
    except Exception:  # noqa: BLE001 - any failure means "not vmappable"; the loop raises real errors
        frozen.vectorise = False
        return None
    return losses.mean()


def mask_step(
    frozen: FrozenModel,
    logits: dict[str, torch.Tensor],
    optimiser: torch.optim.Optimizer,
    loss_fn: LossFn,
    batch: Batch,
    cfg: MaskConfig,
    noise: MaskNoise,
    fixed_weights: dict[str, torch.Tensor] | None = None,
    trainable: Trainable | None = None,
) -> torch.Tensor:
    """One update: k mask samples, one per chunk of the batch; loss = task loss +
    (β / batch) · Σ logits; clip the gradient norm of the logits (and trainable weights); Adam
    step. `fixed_weights` are masked tensors that no logit drives (a frozen part of the mask).
    Returns the detached loss."""
    optimiser.zero_grad(set_to_none=True)
    draws = {n: noise.draw((cfg.n_samples, *l.shape)) for n, l in logits.items()}  # [k, *shape] each
    loss = None if trainable is not None else _vectorised_loss(frozen, logits, loss_fn, batch, cfg, draws, fixed_weights)
    if loss is None:
        loss = _looped_loss(frozen, logits, loss_fn, batch, cfg, draws, fixed_weights, trainable)
    loss.backward()  # one backward: the fused mask gradient sums the k samples in one pass
    # The regulariser (β / batch) · Σ logits has the constant gradient β / batch.
    for l in logits.values():
        l.grad.add_(cfg.beta / cfg.batch_size)
    clipped = list(logits.values())
    if trainable is not None:
        for name, keep in trainable.keep.items():
            trainable.weights[name].grad.masked_fill_(keep, 0.0)
        clipped = [*trainable.weights.values(), *clipped]
    torch.nn.utils.clip_grad_norm_(clipped, cfg.grad_clip)
    optimiser.step()
    return loss.detach()


def train_mask(
    frozen: FrozenModel,
    loss_fn: LossFn,
    sample_batch: SampleFn,
    cfg: MaskConfig,
    seed: int,
    on_step: Callable[[int], None] | None = None,
    fixed: MaskSet | None = None,
    tracker: ConvergenceTracker | None = None,
    trainable: Trainable | None = None,
) -> dict[str, torch.Tensor]:
    """Train one stage's logits from scratch; returns them (detached). `seed` drives both the
    batch order and the mask noise. Tensors in `fixed` keep that binary mask and get no logits
    (class removal freezes the classifier's mask). `tracker` watches the decisions settle
    (it reads the logits, so the numbers do not depend on it). `trainable` weights train with the
    logits (updated in place; the frozen network is not). The caller puts the module in the mode
    the method needs (eval: dropout off, BatchNorm on running statistics)."""
    keep_freed_memory()
    data_generator = torch.Generator().manual_seed(seed)
    noise = MaskNoise(seed)
    fixed_weights = masked_fixed(frozen, fixed) or None
    logits = init_logits(frozen, cfg, skip=list(fixed.masks) if fixed else ())
    optimiser = adam([*trainable.weights.values(), *logits.values()] if trainable else logits.values(), cfg.lr)
    for step in range(cfg.steps):
        set_scheduled_lr(optimiser, cfg, step)
        batch = sample_batch(cfg.batch_size, data_generator)
        loss = mask_step(frozen, logits, optimiser, loss_fn, batch, cfg, noise, fixed_weights, trainable)
        if step % LOSS_CHECK_EVERY == 0 or step == cfg.steps - 1:
            check_finite(loss, f"the mask-training loss at step {step}")
        if tracker is not None:
            tracker.observe(step + 1, logits)
        if on_step is not None:
            on_step(step)
    for name, l in logits.items():  # NaN gradients leave NaN logits, which would binarise to 0
        check_finite(l, f"mask logit tensor {name!r}")
    frozen.check_unchanged("mask training")
    return {n: l.detach() for n, l in logits.items()}


def binarize(logits: dict[str, torch.Tensor], convergence: StageConvergence | None = None) -> MaskSet:
    """The deterministic masks (keep iff logit ≥ 0), with the histogram of σ(logit), the logits
    themselves as keep scores and, when the stage was tracked, how far its decisions had settled."""
    probabilities = torch.cat([torch.sigmoid(l.detach().flatten().float()) for l in logits.values()])
    histogram = torch.histc(probabilities, bins=HISTOGRAM_BINS, min=0.0, max=1.0)
    # masks live on the CPU whatever the device (saved, compared, scored there)
    return MaskSet({n: deterministic_mask(l).cpu() for n, l in logits.items()},
                   tuple(int(c) for c in histogram.tolist()), convergence,
                   {n: l.detach().float().cpu() for n, l in logits.items()})
