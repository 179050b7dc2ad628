"""A tiny name → object registry with "did you mean" suggestions.

One registry per kind (tasks, architectures). Registration happens by decorator at import
time of the defining module, so there is one source of truth per entry.
"""
from __future__ import annotations

import difflib
from typing import Callable, Generic, Iterator, TypeVar

from modbench.errors import ModbenchError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def decorator(self, name: str) -> Callable[[T], T]:
        return lambda entry: self.register(name, entry)

    def get(self, name: str) -> T:
        if name not in self._entries:
            close = difflib.get_close_matches(name, self._entries, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ModbenchError(
                f"unknown {self.kind} {name!r}; {hint}known: {', '.join(sorted(self._entries))} "
                f"(see `modbench ls {self.kind}s`)"
            )
        return self._entries[name]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
