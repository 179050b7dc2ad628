"""Teacher-student ground truth: a modular teacher with known modules writes the labels, students
learn them, and their modularity is measured against the teacher's decomposition (the setting of
Schug et al., ICLR 2024, "Discovering modular solutions that generalize compositionally").

`teacher_specialize`: 16 input bits and a one-hot flag that picks one of two teachers, `f` or
`g`. Each teacher is a random ReLU MLP (16 → 32 → 2 × 10) that reads the bits and nothing else;
its two heads' argmax are the two target digits. The teachers share no weight, so the task
decomposes into two functions with nothing in common: a student that finds the teacher's
decomposition specialises fully (P_specialize 1, the known answer beside the score). Unlike
addmul's sum and product, which share digit structure, f and g share only their inputs, so
whatever the student shares between them is its own doing.

Students: every reference architecture that takes vectors (fnn, lstm), and `planted_split`, the
teacher's own layout (one module per function, routed by the flag), whose masks must recover the
planted modules (`recovery_iou/<f>`). Budgets and convergence are addmul's (the same trainer).

Changelog: v1 — first version. v2 — the `planted_split` student holds both modules in every
tensor (archs/planted.py); the teachers, seeded by the version, are new draws.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from modbench.contracts import VectorIO
from modbench.data.seeding import data_rng
from modbench.tasks.arithmetic import BASE, AddMul, _DigitTask
from modbench.tasks.base import TASKS
from modbench.tasks.planted import KnownAnswers

N_BITS, TEACHER_HIDDEN, N_HEADS = 16, 32, 2


def teacher_weights(task: str, version: int, index: int, n_bits: int = N_BITS) -> list[np.ndarray]:
    """Teacher `index`'s [W1 [bits, hidden], b1, W2 [hidden, heads·10], b2], He-scaled, seeded
    from the task's identity alone (like its data)."""
    rng = data_rng(task, version, f"teacher{index}")
    w1 = rng.standard_normal((n_bits, TEACHER_HIDDEN)) * np.sqrt(2 / n_bits)
    w2 = rng.standard_normal((TEACHER_HIDDEN, N_HEADS * BASE)) * np.sqrt(2 / TEACHER_HIDDEN)
    return [w1, 0.1 * rng.standard_normal(TEACHER_HIDDEN), w2, 0.1 * rng.standard_normal(N_HEADS * BASE)]


def teacher_labels(weights: list[np.ndarray], bits: np.ndarray) -> np.ndarray:
    """bits [n, n_bits] in {0, 1} -> the teacher's digits [n, heads] (argmax of each head)."""
    w1, b1, w2, b2 = weights
    hidden = np.maximum((2.0 * bits - 1.0) @ w1 + b1, 0.0)  # [n, hidden]; inputs centred to ±1
    logits = (hidden @ w2 + b2).reshape(len(bits), N_HEADS, BASE)  # [n, heads, 10]
    return logits.argmax(-1)


@TASKS.decorator("teacher_specialize")
class TeacherSpecialize(KnownAnswers, _DigitTask):
    """Two disjoint random teachers on the same bits; the flag says whose labels to give."""

    name, version, kind = "teacher_specialize", 2, "specialize"
    description = "ground truth: labels of two weight-disjoint random teachers (P_specialize of the teacher: 1)"
    subfunctions = ("f", "g")
    n_bits = N_BITS
    contract = VectorIO(n_in=N_BITS + 2, n_heads=N_HEADS, n_classes=BASE)
    known_answers = {"p_specialize": 1.0}
    # For planted_split students (the teacher's layout): sub-function -> its module.
    ground_truth = {"f": 0, "g": 1}
    quick_mask = AddMul.quick_mask

    n_columns = N_BITS + 1 + N_HEADS  # the bits, the flag, the two target digits

    def generate(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """[n, bits + 1 + heads]: the bits, the flag (0 f, 1 g) and that teacher's digits."""
        bits = rng.integers(0, 2, size=(n, self.n_bits))
        flag = rng.integers(0, 2, size=n)
        labels = [teacher_labels(teacher_weights(self.name, self.version, i, self.n_bits), bits) for i in range(2)]
        digits = np.where(flag[:, None] == 0, labels[0], labels[1])  # [n, heads]
        return np.concatenate([bits, flag[:, None], digits], axis=1).astype(np.int64)

    def in_subset(self, problems: np.ndarray, sub: str | None) -> np.ndarray:
        if sub is None:
            return np.ones(len(problems), dtype=bool)
        return problems[:, self.n_bits] == self.subfunctions.index(sub)

    def encode(self, problems: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        bits, flag, digits = problems[:, : self.n_bits], problems[:, self.n_bits], problems[:, self.n_bits + 1 :]
        x = torch.cat([bits.float(), F.one_hot(flag, 2).float()], dim=1)  # [batch, bits + 2]
        return x, digits
