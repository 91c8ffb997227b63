"""Explicit registries for tasks, architectures and credit rules.

An entry joins a registry through the ``@REGISTRY.register("name")`` decorator, and a package's ``__init__`` imports
each file once: that import list *is* the registration list. Built-ins use the same path as any extension.
"""

from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

T = TypeVar("T")


class UnknownName(ValueError):
    """A name that is not registered. The message lists the valid names."""

    def __init__(self, kind: str, name: str, known: list[str]):
        super().__init__(f"unknown {kind} {name!r}; valid choices are: {', '.join(known)}")
        self.kind = kind
        self.name = name
        self.known = known


class Registry(Generic[T]):
    """A name → class map for one kind of component (``kind`` is used in error messages)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorate(cls: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            setattr(cls, "name", name)
            self._entries[name] = cls
            return cls

        return decorate

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownName(self.kind, name, self.names()) from None

    def names(self) -> list[str]:
        return list(self._entries)

    def __iter__(self) -> Iterator[tuple[str, T]]:
        return iter(self._entries.items())

    def __contains__(self, name: object) -> bool:
        return name in self._entries
