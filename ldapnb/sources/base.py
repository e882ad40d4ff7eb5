"""The seam between ``Directory`` and where entries come from.

A source answers one question, ``search(base, scope, filter, attributes) -> entries``, like
httpx's transport answers ``handle_request``.  Views (frames, graphs, audits) never know which
source they read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

from ..entry import Entry
from ..schema import Schema

__all__ = ["Source", "SCOPES", "scope_name"]

#: Search scopes by the names ldapnb accepts, to their RFC 4511 numbers.
SCOPES = {"base": 0, "one": 1, "onelevel": 1, "level": 1, "sub": 2, "subtree": 2}
_NAMES = {0: "base", 1: "one", 2: "sub"}


def scope_name(scope: str | int) -> str:
    """``"base"``, ``"one"`` or ``"sub"`` for any accepted spelling (or 0/1/2).

    >>> scope_name("SUBTREE"), scope_name(1)
    ('sub', 'one')
    """
    if isinstance(scope, int) and scope in _NAMES:
        return _NAMES[scope]
    if isinstance(scope, str) and scope.lower() in SCOPES:
        return _NAMES[SCOPES[scope.lower()]]
    raise ValueError(f"unknown search scope {scope!r}: use 'base', 'one' or 'sub'")


@runtime_checkable
class Source(Protocol):
    """Where a ``Directory`` gets its entries."""

    @property
    def schema(self) -> Schema:
        """The schema the source's entries follow (read-only: a source decides it)."""
        ...

    @property
    def root_dse(self) -> Entry: ...

    @property
    def naming_contexts(self) -> tuple[str, ...]: ...

    def search(
        self,
        base: str,
        scope: str,
        filter: str,
        attributes: Sequence[str] | None = None,
        *,
        size_limit: int = 0,
        types_only: bool = False,
    ) -> Iterator[Entry]:
        """Entries under ``base`` within ``scope`` that match ``filter``.

        Raises ``NoSuchEntry`` for a missing base and ``LimitExceeded`` when more than
        ``size_limit`` entries match (never a silently short answer).
        """
        ...
