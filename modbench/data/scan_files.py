"""SCAN's upstream file format: `IN: <command> OUT: <actions>` lines, read strictly, written exactly.

Format and folder layout are upstream's (github.com/brendenlake/SCAN, commit c4b756c; Lake &
Baroni 2018), as recorded in the project's reference notes (scan_facts.md §2-4): ASCII, LF line
ends, a trailing newline, single spaces, no blank lines. Reading is strict so that a damaged or
foreign file fails on its first bad line instead of silently training on garbage.
"""
from __future__ import annotations

import re
from pathlib import Path

from modbench.errors import ModbenchError
from modbench.io import write_atomic

Pairs = list[tuple[str, str]]  # (command, actions)
_LINE = re.compile(r"IN: ([a-z]+(?: [a-z]+)*) OUT: (I_[A-Z_]+(?: I_[A-Z_]+)*)")
# Upstream keeps each family of splits in its own folder and prefixes template files.
_SUBFOLDER = {"simple": "simple_split", "length": "length_split", "addprim_jump": "add_prim_split",
              "addprim_turn_left": "add_prim_split", "jump_around_right": "template_split",
              "around_right": "template_split", "right": "template_split", "opposite_right": "template_split"}
_UPSTREAM_STEM = {name: f"template_{name}" for name, folder in _SUBFOLDER.items() if folder == "template_split"}


def format_line(command: str, actions: str) -> str:
    """One upstream line, without its newline."""
    return f"IN: {command} OUT: {actions}"


def read_pairs(path: Path) -> Pairs:
    """Every line of an upstream file as (command, actions); a one-line ModbenchError naming the
    file and line number on the first malformed line."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ModbenchError(f"cannot read SCAN file {path} ({err.strerror})") from None
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":  # the trailing newline
        lines.pop()
    if not lines:
        raise ModbenchError(f"SCAN file {path} is empty; expected lines 'IN: <command> OUT: <actions>'")
    pairs = []
    for number, raw in enumerate(lines, start=1):
        match = _LINE.fullmatch(raw.decode("ascii", errors="replace"))
        if not match:
            shown = raw[:60].decode("ascii", errors="replace")
            raise ModbenchError(
                f"{path}:{number}: malformed SCAN line {shown!r}; expected 'IN: <command> OUT: <actions>' "
                "(single spaces, ASCII, LF line ends)"
            )
        pairs.append((match[1], match[2]))
    return pairs


def write_pairs(path: Path, pairs: Pairs) -> int:
    """Write `pairs` in upstream format, atomically (temporary file, then rename); returns the
    number of lines."""
    text = "".join(format_line(command, actions) + "\n" for command, actions in pairs)
    try:
        data = text.encode("ascii")
    except UnicodeEncodeError:
        raise ModbenchError(f"cannot write {path}: SCAN files are ASCII and the data are not") from None
    write_atomic(path, data)
    return len(pairs)


def file_names(split: str) -> tuple[str, str]:
    """modbench's own (train, test) file names: tasks_{train,test}_<split>.txt."""
    return f"tasks_train_{split}.txt", f"tasks_test_{split}.txt"


def find_files(folder: Path, split: str) -> tuple[Path, Path]:
    """The (train, test) files of `split` under `folder`: modbench's names or upstream's
    (template splits are `template_<name>`), in `folder` itself or upstream's subfolder."""
    if not folder.is_dir():
        raise ModbenchError(f"SCAN folder {folder} does not exist; pass --source dir:PATH with a folder "
                            "holding tasks_train_<split>.txt and tasks_test_<split>.txt")
    stems = dict.fromkeys([split, _UPSTREAM_STEM.get(split, split)])
    places = [folder, folder / _SUBFOLDER.get(split, f"{split}_split")]
    tried = []
    for place in places:
        for stem in stems:
            train, test = place / f"tasks_train_{stem}.txt", place / f"tasks_test_{stem}.txt"
            if train.is_file() and test.is_file():
                return train, test
            lone = train if train.is_file() else test if test.is_file() else None
            note = f" (only {lone.name} is there)" if lone else ""
            tried.append(f"{place / f'tasks_{{train,test}}_{stem}.txt'}{note}")
    raise ModbenchError(f"no SCAN files for split {split!r} under {folder}; tried {', '.join(tried)}")
