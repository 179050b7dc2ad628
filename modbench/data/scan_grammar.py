"""SCAN's grammar: its vocabulary, its 20,910 commands and their meaning.

SCAN is Lake & Baroni (2018), "Generalization without systematicity: on the compositional
skills of sequence-to-sequence recurrent networks", ICML. The rules below are restated in the
project's reference notes (scan_facts.md §1), where an independent implementation was checked
against every line of the upstream files (github.com/brendenlake/SCAN, commit c4b756c). Building
the data from the grammar means modbench ships and downloads no data file.

    C -> S | S and S | S after S
    S -> V | V twice | V thrice
    V -> P | X D | X opposite D | X around D      (34 verb phrases)
    P in {walk, look, run, jump};  X in P + {turn};  D in {left, right}

Meaning: [[P]] = action(P); [[X D]] = turn(D) action(X); [[X opposite D]] = turn(D) turn(D)
action(X); [[X around D]] = (turn(D) action(X)) x 4, where action(turn) is empty;
[[V twice]] = [[V]] x 2; [[S1 and S2]] = [[S1]] [[S2]]; [[S1 after S2]] = [[S2]] [[S1]].
"""
from __future__ import annotations

from functools import lru_cache

from modbench.errors import ModbenchError

INPUT_WORDS: tuple[str, ...] = (
    "walk", "look", "run", "jump", "turn", "left", "right", "opposite", "around",
    "twice", "thrice", "and", "after",
)
OUTPUT_TOKENS: tuple[str, ...] = ("I_TURN_LEFT", "I_TURN_RIGHT", "I_JUMP", "I_WALK", "I_RUN", "I_LOOK")

PRIMITIVES: tuple[str, ...] = ("walk", "look", "run", "jump")
DIRECTIONS: tuple[str, ...] = ("left", "right")
CONJUNCTIONS: tuple[str, ...] = ("and", "after")
_ACTION = {"walk": "I_WALK", "look": "I_LOOK", "run": "I_RUN", "jump": "I_JUMP", "turn": None}
_TURN = {"left": "I_TURN_LEFT", "right": "I_TURN_RIGHT"}
_REPEAT = {"twice": 2, "thrice": 3}
_SHAPE = "e.g. 'jump', 'walk left twice', 'run around right after turn opposite left'"


class _NotScan(Exception):
    """Internal: why a command is outside the grammar (becomes a ModbenchError naming it)."""


def verb_phrases() -> list[str]:
    """The 34 V phrases, in the grammar's order: P, then X D, X opposite D, X around D."""
    phrases = list(PRIMITIVES)
    for modifier in ("", "opposite ", "around "):
        phrases += [f"{x} {modifier}{d}" for x in (*PRIMITIVES, "turn") for d in DIRECTIONS]
    return phrases


def _s_phrases() -> list[str]:
    """The 102 S phrases: each V bare, twice and thrice."""
    return [f"{v}{rep}" for v in verb_phrases() for rep in ("", " twice", " thrice")]


@lru_cache(maxsize=1)
def _all_commands() -> tuple[str, ...]:
    singles = _s_phrases()
    commands = list(singles)
    for conjunction in CONJUNCTIONS:
        commands += [f"{a} {conjunction} {b}" for a in singles for b in singles]
    return tuple(commands)


def all_commands() -> list[str]:
    """All 20,910 SCAN commands (102 + 102² + 102²), in the order the grammar enumerates them:
    single S, then `S and S`, then `S after S` (each S: V bare, twice, thrice, V in
    `verb_phrases()` order). A fresh list each call, so callers may mutate it."""
    return list(_all_commands())


def _verb_actions(words: list[str]) -> list[str]:
    head = words[0]
    if head not in _ACTION:
        raise _NotScan(f"a verb phrase starts with walk, look, run, jump or turn, not {head!r}")
    act = [_ACTION[head]] if _ACTION[head] else []
    if len(words) == 1:
        if head == "turn":
            raise _NotScan("'turn' needs a direction (turn left, turn around right, ...)")
        return act
    direction = words[-1]
    if direction not in _TURN or len(words) > 3 or (len(words) == 3 and words[1] not in ("opposite", "around")):
        raise _NotScan(f"{' '.join(words)!r} is not a verb phrase")
    turn = _TURN[direction]
    if len(words) == 2:
        return [turn, *act]
    if words[1] == "opposite":
        return [turn, turn, *act]
    return [turn, *act] * 4


def _parse_s(words: list[str]) -> tuple[list[str], int]:
    """An S phrase -> (its V's words, repetitions)."""
    if not words:
        raise _NotScan("an empty phrase next to a conjunction")
    if words[-1] in _REPEAT:
        if len(words) == 1:
            raise _NotScan(f"{words[-1]!r} needs a verb phrase before it")
        return words[:-1], _REPEAT[words[-1]]
    return words, 1


def _parse(command: str) -> tuple[list[tuple[list[str], int]], str | None]:
    """A command -> (its S phrases in textual order as (V words, repetitions), its conjunction)."""
    words = command.split()
    if not words:
        raise _NotScan("the command is empty")
    unknown = [w for w in words if w not in INPUT_WORDS]
    if unknown:
        raise _NotScan(f"unknown word {unknown[0]!r} (SCAN words: {' '.join(INPUT_WORDS)})")
    joints = [i for i, w in enumerate(words) if w in CONJUNCTIONS]
    if len(joints) > 1:
        raise _NotScan("at most one 'and' or 'after' per command")
    if not joints:
        return [_parse_s(words)], None
    i = joints[0]
    return [_parse_s(words[:i]), _parse_s(words[i + 1:])], words[i]


def _analyse(command: str) -> tuple[tuple[str, ...], list[str]]:
    """(V phrases in textual order, actions); a one-line ModbenchError outside the grammar."""
    try:
        parts, conjunction = _parse(command)
        meanings = [_verb_actions(verb) * repeat for verb, repeat in parts]
    except _NotScan as why:
        raise ModbenchError(f"{command!r} is not a SCAN command: {why}; SCAN commands look like {_SHAPE}") from None
    if conjunction == "after":  # [[S1 after S2]] = [[S2]] [[S1]]
        meanings.reverse()
    return tuple(" ".join(verb) for verb, _ in parts), [a for meaning in meanings for a in meaning]


def interpret(command: str) -> str:
    """The action sequence of `command`, space separated (e.g. 'turn left twice' ->
    'I_TURN_LEFT I_TURN_LEFT'); a ModbenchError for anything outside the grammar."""
    return " ".join(_analyse(command)[1])


def verb_phrases_of(command: str) -> tuple[str, ...]:
    """The V phrases a command uses, in textual order ('walk opposite right and turn left' ->
    ('walk opposite right', 'turn left')), so that splits match whole phrases, never substrings."""
    return _analyse(command)[0]
