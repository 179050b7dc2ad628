"""SCAN's train/test splits, built from the grammar: lists of commands, interpreted later.

Split definitions: Lake & Baroni (2018) for `simple`, `length` and the add-primitive splits;
Loula, Baroni & Lake (2018), "Rearranging the familiar: testing compositional generalization in
recurrent networks", for the template splits. The exact rules and sizes, verified by set
equality against the upstream files, are in the project's reference notes (scan_facts.md §3-4).

Phrase tests use whole verb phrases of the parsed command, never substrings: `right` holds out
the two-word V `P right` (not `walk opposite right`), `addprim_turn_left` the V `turn left` (not
`turn opposite left`). Every list comes in a seeded random order, as upstream's files do; the
random `simple` selection is our own (upstream's cannot be derived from a rule).

Changelog (bump SCAN_VERSION on any change to a split's content or order):
  v1: first version.
"""
from __future__ import annotations

import difflib
from typing import Callable

import numpy as np

from modbench.data.scan_grammar import PRIMITIVES, all_commands, interpret, verb_phrases_of
from modbench.errors import ModbenchError
from modbench.registry import Registry
from modbench.data.seeding import data_rng

SCAN_VERSION = 1
Split = tuple[list[str], list[str]]
SPLITS: Registry[Callable[[], Split]] = Registry("SCAN split")
# Copies of the bare primitive in add-primitive training sets: one per 9 other commands, so the
# primitive is exactly 10 % of the lines (13,203 / 9 = 1,467; 19,701 / 9 = 2,189; scan_facts §3).
_OTHERS_PER_PRIMITIVE = 9


def _rng(name: str) -> np.random.Generator:
    return data_rng("scan", SCAN_VERSION, name)


def _shuffled(rng: np.random.Generator, items: list[str]) -> list[str]:
    return [items[i] for i in rng.permutation(len(items))]


def _ordered(name: str, train: list[str], test: list[str]) -> Split:
    """Both sides in a seeded random order (train first), like upstream's unsorted files."""
    rng = _rng(name)
    return _shuffled(rng, train), _shuffled(rng, test)


@SPLITS.decorator("simple")
def simple() -> Split:
    """A seeded random 80/20 split of all 20,910 commands: 16,728 / 4,182 (Lake & Baroni, exp. 1)."""
    commands = all_commands()
    order = _rng("simple").permutation(len(commands))
    n_train = len(commands) * 8 // 10
    return [commands[i] for i in order[:n_train]], [commands[i] for i in order[n_train:]]


@SPLITS.decorator("length")
def length() -> Split:
    """Train: outputs of at most 22 actions (16,990); test: at least 24 (3,920). No command has
    23 actions, so the cut is unambiguous (Lake & Baroni, exp. 2; scan_facts §3)."""
    sizes = {c: len(interpret(c).split()) for c in all_commands()}
    return _ordered("length", [c for c, n in sizes.items() if n <= 22], [c for c, n in sizes.items() if n >= 24])


def _add_primitive(name: str, primitive: str, uses: Callable[[str], bool]) -> Split:
    """Train: every command not using the primitive, once, plus the bare primitive repeated to
    10 % of the lines at seeded random positions; test: every other command using it."""
    commands = all_commands()
    train = [c for c in commands if not uses(c)]
    test = [c for c in commands if uses(c) and c != primitive]
    train += [primitive] * (len(train) // _OTHERS_PER_PRIMITIVE)
    return _ordered(name, train, test)


@SPLITS.decorator("addprim_jump")
def addprim_jump() -> Split:
    """`jump` seen only alone in training: 14,670 lines (1,467 bare `jump`) / 7,706
    (Lake & Baroni, exp. 3)."""
    return _add_primitive("addprim_jump", "jump", lambda c: "jump" in c.split())


@SPLITS.decorator("addprim_turn_left")
def addprim_turn_left() -> Split:
    """The V `turn left` seen only alone in training: 21,890 lines (2,189 bare) / 1,208;
    `turn opposite left` and `turn around left` stay in training (Lake & Baroni, exp. 3)."""
    return _add_primitive("addprim_turn_left", "turn left", lambda c: "turn left" in verb_phrases_of(c))


def _template(name: str, held_out: set[str], dropped: str) -> Split:
    """Test: commands using a held-out V phrase; train: commands using none. Commands using the
    template's `turn` variant are in neither (Loula et al. 2018; 19,701 of 20,910 remain)."""
    train, test = [], []
    for command in all_commands():
        phrases = set(verb_phrases_of(command))
        if dropped not in phrases:
            (test if phrases & held_out else train).append(command)
    return _ordered(name, train, test)


@SPLITS.decorator("jump_around_right")
def jump_around_right() -> Split:
    """Held out: `jump around right`; 18,528 / 1,173."""
    return _template("jump_around_right", {"jump around right"}, "turn around right")


@SPLITS.decorator("around_right")
def around_right() -> Split:
    """Held out: `P around right` for every primitive P; 15,225 / 4,476."""
    return _template("around_right", {f"{p} around right" for p in PRIMITIVES}, "turn around right")


@SPLITS.decorator("right")
def right() -> Split:
    """Held out: the two-word `P right` (not `P opposite right`, `P around right`); 15,225 / 4,476."""
    return _template("right", {f"{p} right" for p in PRIMITIVES}, "turn right")


@SPLITS.decorator("opposite_right")
def opposite_right() -> Split:
    """Held out: `P opposite right` for every primitive P; 15,225 / 4,476."""
    return _template("opposite_right", {f"{p} opposite right" for p in PRIMITIVES}, "turn opposite right")


def check_split(name: str) -> str:
    """`name` if it is a SCAN split, else a one-line ModbenchError with a did-you-mean.
    (Registry.get's own message points at `modbench ls`, which does not list SCAN splits.)"""
    if name not in SPLITS:
        close = difflib.get_close_matches(name, SPLITS.names(), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ModbenchError(f"unknown SCAN split {name!r}; {hint}known: {', '.join(SPLITS.names())}")
    return name


def build_split(name: str) -> Split:
    """(train, test) command lists of split `name`, freshly built, deterministic."""
    return SPLITS.get(check_split(name))()
