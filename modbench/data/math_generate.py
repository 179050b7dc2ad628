"""DeepMind Mathematics questions from DeepMind's own generator, seeded and offline.

The generator (PyPI `mathematics-dataset==1.0.1`, imported through `math_compat`) draws from the
global `random` and `np.random` and has no seed flag (scan_facts.md §6). We seed both from the
module's name, the regime and our data version, and put the caller's global states back
afterwards, so no global random state leaks in or out.

Regimes as in the v1.0 release: `train-easy`, `train-medium`, `train-hard` (a module's training
entropy range cut into thirds), `interpolate` (the module's test entropy) and `extrapolate`
(its `_big` / `_more` variant, where the module has one). Questions longer than 160 characters
or answers longer than 30 are redrawn, as the generator's own sampler does.
"""
from __future__ import annotations

import string
from typing import Callable

from modbench.data.math_compat import import_generator_modules
from modbench.data.seeding import identity_seed, seeded_globals
from modbench.errors import ModbenchError

DATA_VERSION = 1  # bump when generation changes: it seeds the generator
REGIMES = ("train-easy", "train-medium", "train-hard", "interpolate", "extrapolate")
DIFFICULTIES = ("easy", "medium", "hard")
MAX_QUESTION_CHARS, MAX_ANSWER_CHARS = 160, 30  # generate_settings.py of the package
# The characters questions and answers use (generate_settings.QUESTION_CHARS, less the empty one).
ALPHABET = " " + string.ascii_letters + string.digits + string.punctuation

# Our module name (category__module, the release's file name) -> extrapolation module or None.
MODULES: dict[str, str | None] = {
    "arithmetic__add_or_sub": "arithmetic__add_or_sub_big",
    "comparison__sort": "comparison__sort_more",
    "numbers__place_value": "numbers__place_value_big",
    "algebra__linear_1d": None,  # the release has no extrapolation file for it
}


def check_module(module: str) -> str:
    if module not in MODULES:
        raise ModbenchError(f"unknown math module {module!r}; choose one of {', '.join(MODULES)}")
    return module


def regime_file_module(module: str, regime: str) -> str | None:
    """The module's name in `regime`'s folder of the release (None: the regime has none)."""
    return MODULES[check_module(module)] if regime == "extrapolate" else module


def _thirds(level: int) -> Callable[[tuple[float, float]], tuple[float, float]]:
    """Entropy range -> its `level`-th third (0 easy, 1 medium, 2 hard): the release's
    train-easy / train-medium / train-hard."""
    def narrow(entropy: tuple[float, float]) -> tuple[float, float]:
        low, high = entropy
        return low + level * (high - low) / 3, low + (level + 1) * (high - low) / 3
    return narrow


def _sampler(module: str, regime: str) -> Callable:
    """The package's problem function for `module` in `regime`."""
    name = regime_file_module(module, regime)
    if name is None:
        raise ModbenchError(f"math module {module!r} has no extrapolation set")
    tables = import_generator_modules()
    if regime.startswith("train-"):
        table = tables.train(_thirds(DIFFICULTIES.index(regime.removeprefix("train-"))))
    elif regime == "interpolate":
        table = tables.test()
    else:
        table = tables.test_extra()
    category, function = name.split("__", 1)
    return table[category][function]


def generation_seed(module: str, regime: str) -> int:
    return identity_seed(f"math@v{DATA_VERSION}/{module}/{regime}")


def generate(module: str, regime: str, count: int) -> list[tuple[str, str]]:
    """`count` (question, answer) pairs of `module` in `regime`, the same on every call."""
    sample = _sampler(module, regime)
    pairs = []
    with seeded_globals(generation_seed(module, regime)):
        while len(pairs) < count:
            problem = sample()
            question, answer = str(problem.question), str(problem.answer)
            if len(question) <= MAX_QUESTION_CHARS and len(answer) <= MAX_ANSWER_CHARS:
                pairs.append((question, answer))
    return pairs
