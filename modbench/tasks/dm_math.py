"""DeepMind Mathematics: do hard problems need weights that easy ones leave unused? (paper_spec §4.8)

One task per module (`math_add_or_sub`, `math_sort`, `math_place_value`, `math_linear_1d`). The
network is trained on train-easy + train-medium + train-hard; the control mask on the same data;
the mask of split `hard` on train-easy only (the paper's stage "hard"). Accuracy on the held-out
hard problems with the unmasked network, the control mask and the easy-only mask gives
`combination_dependence/hard` = acc(hard | C) − acc(hard | M_easy-only) (DESIGN.md), and the
unmasked network on the extrapolation set gives `sysgen_acc/extrapolate`. `iid_acc` is the
interpolation set's accuracy.

Encoding: characters of the generator's alphabet (95 printable ASCII characters, fixed, unlike the
paper's vocabulary collected from the files); source ids 0 = PAD, 1 = EOS, 2… characters; target
ids 0 = EOS, 1… characters; SOS is `SequenceIO.sos`.

Changelog: v1 — first version. math_sort v2 — quick tier 3,000 training steps (lr drop at 2,400):
at 4,000 a run took 21.5 minutes on 2 cores, over the quick tier's 20. math_linear_1d v2 — its
generated questions no longer depend on PYTHONHASHSEED (`math_compat`): v1's data changed from
one process to the next. v2 of every module (math_sort and math_linear_1d v3) — quick-tier masks:
3,000 steps at lr 0.1 on a cosine (v1: 1,000 at the paper's constant rate), the faithful setting
that leaves the fewest logits undecided within sort's 20-minute run (README, "Mask convergence").
v3 of every module (math_sort and math_linear_1d v4) — weight training cuts each batch into 2 shards
computed in parallel processes (modbench.shards; other bits than one whole batch), and the
quick-tier masks take the most steps that fit the machine as it runs now (QUICK_MASK_STEPS): the
v2/v3 runs took 1,013-1,563 s, over the 20-minute budget, on a machine 1.2-1.8× slower than when
3,000 steps were chosen.
"""
from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import torch

from modbench.contracts import SequenceIO
from modbench.data.math_generate import ALPHABET, DIFFICULTIES, MAX_ANSWER_CHARS, MAX_QUESTION_CHARS, MODULES
from modbench.data.math_source import load_math, math_fingerprint
from modbench.errors import ModbenchError
from modbench.config import MaskConfig, MaskFilter, TierBudget, TrainConfig
from modbench.contracts import Batch, ForwardFn
from modbench.seq2seq import bucketed_loss, sequence_accuracy
from modbench.gating import ConvergenceCriterion
from modbench.tasks.base import TASKS, SysgenTask

SRC_EOS, FIRST_CHAR = 1, 2
CHAR_INDEX = {c: i for i, c in enumerate(ALPHABET)}

# Paper tier per module (paper_spec §4.8): train steps, batch, mask steps, mask batch, β, mask lr.
# place_value was not in the paper: it takes add_or_sub's settings.
PAPER = {
    "arithmetic__add_or_sub": (30_000, 256, 30_000, 256, 2e-5, 0.03),
    "comparison__sort": (30_000, 256, 30_000, 256, 3e-6, 0.03),
    "numbers__place_value": (30_000, 256, 30_000, 256, 2e-5, 0.03),
    "algebra__linear_1d": (200_000, 512, 50_000, 400, 1e-6, 0.02),
}
# Quick and smoke tiers: (train steps, steps after which the lr drops ×0.1, mask steps, batch);
# Adam lr 1e-3, clip 1; the masks take the module's paper β and mask lr. Quick, measured on
# add_or_sub (seed 0, 1 thread, 1,000 interpolate questions): 33 % at 3,000 steps at a constant
# rate, 55 % at 3,500 with the drop at 3,200 (README).
QUICK = (4_000, (3_200,), 1_000, 64)
# Sort's questions and answers are about twice as long: at QUICK its run took 1,293 s (train 862 s,
# masks 360 s, evaluation 59 s; seed 0, --workers 2, 2c4295b), so it trains 3/4 as long.
QUICK_PER_MODULE = {"comparison__sort": (3_000, (2_400,), 1_000, 64)}
# Quick-tier masks (v2), chosen by the convergence criterion on seed 0's control masks: at the
# paper's constant 0.03 for 1,000 steps add_or_sub's LSTM left 0.54 of its logits undecided and
# place_value's Transformer lost 40.6 points; at 0.1 on a cosine for 3,000 steps 0.27 and 0.18
# stay undecided with the control mask faithful (README, "Choosing the quick tier's mask settings").
# v2: 3,000 steps was what sort's Transformer run afforded then (its v1 run: masks 173 s at
# 1,000 steps, run 726 s).
QUICK_MASK = {"lr": 0.1, "lr_schedule": "cosine"}
# Quick-tier mask steps per module (add_or_sub and place_value v3, sort and linear_1d v4): the
# most, in steps of 500, whose predicted wall stays within 1,000 s (the 20 minutes less 1/6 for
# the machine's run-to-run spread) for the module's slowest seed of either architecture: 0.7 ×
# its v2/v3 training (2 shards on 2 processes measured 0.56-0.73 of one whole batch per step) +
# its v2/v3 mask seconds per step × steps + its v2/v3 evaluation. Predicted: add_or_sub 978 s,
# place_value 960, sort 901, linear_1d 965 (at 500 more steps: 1,096, 1,090, 1,017, 1,079).
# Chosen before any score of these versions was read (README, Tiers).
QUICK_MASK_STEPS = {"arithmetic__add_or_sub": 1_500, "numbers__place_value": 2_000, "comparison__sort": 1_500,
                    "algebra__linear_1d": 2_500}
# Weight training's batch parts (modbench.shards), quick and smoke tiers: a helper process on the
# core a run's pool leaves idle until the mask stages computes one part (~45 % of a run idled so).
TRAIN_SHARDS = 2
# Task versions per module (the changelog above).
VERSIONS = {"arithmetic__add_or_sub": 3, "comparison__sort": 4, "numbers__place_value": 3, "algebra__linear_1d": 4}
SMOKE = (30, (), 10, 16)


def encode_text(texts: list[str], width: int, first_id: int, end_id: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Strings -> (ids [N, width], lengths [N]); `end_id` appended when given (counted in length)."""
    ids = np.zeros((len(texts), width), dtype=np.int64)
    lengths = np.zeros(len(texts), dtype=np.int64)
    for row, text in enumerate(texts):
        try:
            codes = [first_id + CHAR_INDEX[c] for c in text]
        except KeyError as err:
            raise ModbenchError(f"character {err.args[0]!r} in {text!r} is outside the generator's "
                                "alphabet (printable ASCII); these files are not DeepMind Mathematics") from None
        if end_id is not None:
            codes.append(end_id)
        ids[row, : len(codes)] = codes
        lengths[row] = len(codes)
    return torch.from_numpy(ids), torch.from_numpy(lengths)


def encode_pairs(questions: list[str], answers: list[str]) -> Batch:
    """-> (src [N, 161], src_len [N], tgt [N, 31], tgt_len [N]): EOS closes every question
    (counted in src_len); answers are EOS-padded (not counted in tgt_len)."""
    src, src_len = encode_text(questions, MAX_QUESTION_CHARS + 1, FIRST_CHAR, SRC_EOS)
    tgt, tgt_len = encode_text(answers, MAX_ANSWER_CHARS + 1, 1, None)
    return src, src_len, tgt, tgt_len


class MathTask(SysgenTask):
    """One DeepMind Mathematics module; subclasses set `module`."""

    module: ClassVar[str]
    version = 1
    subfunctions = ("hard",)
    iid = "interpolate"
    sysgen_trainings = ()  # sysgen_acc comes from the extrapolation set
    smoke_source = "generated:100"  # 10 test questions per set: seconds, even for sort
    size_group = "math"  # the Transformer's math sizes (archs/transformer_seq2seq.py)
    contract = SequenceIO(
        src_vocab=FIRST_CHAR + len(ALPHABET), tgt_vocab=1 + len(ALPHABET),
        max_src_len=MAX_QUESTION_CHARS + 1, max_tgt_len=MAX_ANSWER_CHARS,
    )

    output_tokens: ClassVar[tuple[str, ...]] = ("EOS", *ALPHABET)
    convergence = ConvergenceCriterion(max_undecided=0.10, min_late_iou=0.98)

    def __init__(self, source: str = "generated") -> None:
        self.source = source
        dataset = load_math(self.module, source)
        self._fingerprint = math_fingerprint(dataset)
        self._data: dict[str, Batch] = {
            split: encode_pairs(dataset[split]["question"], dataset[split]["answer"])
            for split in dataset if len(dataset[split])
        }
        self._train = {"all": tuple(torch.cat(parts) for parts in zip(*(self._data[f"train_{d}"] for d in DIFFICULTIES))),
                       "hard": self._data["train_easy"]}

    def own_mask_sets(self, split: str) -> tuple[str, ...]:
        return ("easy", split)  # the easy-only mask on its own distribution, too

    def budget(self, tier: str, arch: str) -> TierBudget:
        self.check_tier(tier)
        if tier == "paper":
            steps, batch, mask_steps, mask_batch, beta, mask_lr = PAPER[self.module]
            # Adam lr 1e-4 and clip 0.1 (paper_spec §4.8); its betas (0.9, 0.995), eps 1e-9 and
            # linear_1d's 5,000-step warm-up are not modelled (README, differences).
            return TierBudget(
                train=TrainConfig(steps=steps, lr=1e-4, batch_size=batch, grad_clip=0.1),
                mask=MaskConfig(steps=mask_steps, lr=mask_lr, beta=beta, batch_size=mask_batch, n_samples=8),
                mask_filter=MaskFilter(mask_biases=False),
            )
        steps, decay, mask_steps, batch = QUICK_PER_MODULE.get(self.module, QUICK) if tier == "quick" else SMOKE
        beta, mask_lr = PAPER[self.module][4:]
        mask = MaskConfig(steps=mask_steps, lr=mask_lr, beta=beta, batch_size=batch, n_samples=8)
        if tier == "quick":
            mask = dataclasses.replace(mask, steps=QUICK_MASK_STEPS[self.module], **QUICK_MASK)
        return TierBudget(
            train=TrainConfig(steps=steps, lr=1e-3, batch_size=batch, grad_clip=1.0, lr_decay_at=decay,
                              shards=TRAIN_SHARDS),
            mask=mask,
            mask_filter=MaskFilter(mask_biases=False),
        )

    def fingerprints(self) -> dict[str, str]:
        return {self.module: self._fingerprint}

    def _test(self, sub: str) -> Batch:
        key = sub if sub in ("interpolate", "extrapolate") else f"test_{sub}"
        if key not in self._data:
            known = (*DIFFICULTIES, self.iid, *self.extrapolation_sets)
            raise ModbenchError(f"{self.name} has no evaluation set {sub!r}; choose one of {', '.join(known)}")
        return self._data[key]

    def sample(self, sub: str | None, batch_size: int, generator: torch.Generator) -> Batch:
        """Uniform with replacement over the training questions (`hard`: train-easy only),
        sorted by question length, which sets the padding."""
        data = self._train["all" if sub is None else sub]
        pick = torch.randint(len(data[0]), (batch_size,), generator=generator)
        pick = pick[torch.argsort(data[1][pick], stable=True)]
        return tuple(t[pick] for t in data)

    def loss(self, forward: ForwardFn, batch: Batch, sub: str | None) -> torch.Tensor:
        return bucketed_loss(forward, batch, self.contract.sos)

    def accuracy(self, forward: ForwardFn, sub: str) -> float:
        """Exact-match accuracy of greedy decoding on `sub`'s test questions."""
        return sequence_accuracy(forward, self._test(sub), self.contract.sos)

    def chance(self, sub: str) -> float:
        """Share of the test set's most frequent answer (best constant answer)."""
        _, _, tgt, _ = self._test(sub)
        _, counts = torch.unique(tgt, dim=0, return_counts=True)
        return int(counts.max()) / len(tgt)


def _register(short: str, module: str) -> None:
    task = type(f"Math_{short}", (MathTask,), {
        "module": module, "name": f"math_{short}", "version": VERSIONS.get(module, 1),
        "extrapolation_sets": ("extrapolate",) if MODULES[module] else (),  # linear_1d has none
        "description": f"DeepMind Mathematics {module}: easy-only mask on hard problems (paper §4.8)",
        "__module__": __name__,
    })
    globals()[task.__name__] = task  # importable by name: runs pickle their task for workers
    TASKS.register(task.name, task)


for _module in MODULES:
    _register(_module.split("__", 1)[1], _module)
