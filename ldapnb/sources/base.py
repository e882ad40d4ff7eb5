"""The seam between ``Directory`` and where entries come from.

A source answers searches with **column pages** (like httpx's transport answers
``handle_request``): every source, in memory or over the network, yields the same
:class:`Page` shape, and :func:`ldapnb.frames.frame_from_pages` turns pages into a DataFrame.
Views (frames, graphs, audits) never know which source they read.

The protocols say what ``Directory`` really uses, and only that:

- :class:`Source`: reading (``search_pages``, ``search``, ``get``, ``member_of``, ``trace``),
  what the source is (``schema``, ``root_dse``, ``naming_contexts``, ``default_base``,
  ``warnings``, ``is_live``, ``urls``, ``ca_file``), an ldap3 ``connection`` to it, ``close``;
- :class:`Writable`: ``add``, ``modify``, ``delete``, ``modify_dn``, ``load``;
- :class:`Bindable`: ``bind`` (a simple bind check).

The embedded directory and the live source satisfy all three; ``tests/memsource.py`` is a
40-line in-memory source that proves the seam.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard, runtime_checkable

from ..entry import Entry
from ..errors import ArgumentError
from ..schema import Schema

if TYPE_CHECKING:
    import ldap3

    from ..filters import Trace

__all__ = ["Source", "Writable", "Bindable", "Servable", "ReadsSecurityDescriptors", "Page",
           "ColumnPage", "pages_from_entries", "fixed_columns", "dense_columns", "SCOPES",
           "SCOPE_NAMES", "SCOPE_PROTOCOL_NAMES", "scope_name", "scope_number",
           "DEFAULT_PAGE_SIZE"]

#: Search scopes by the names ldapnb accepts, to their RFC 4511 numbers (the one scope table).
SCOPES = {"base": 0, "one": 1, "onelevel": 1, "level": 1, "sub": 2, "subtree": 2}
_NAMES = {0: "base", 1: "one", 2: "sub"}
#: ldapnb's name of each scope, in RFC 4511 order (what widgets and lessons offer).
SCOPE_NAMES = tuple(_NAMES.values())
#: RFC 4511's own names of the scope numbers (and RFC 4516's subordinate), as on the wire.
SCOPE_PROTOCOL_NAMES = {0: "baseObject", 1: "singleLevel", 2: "wholeSubtree",
                        3: "subordinateSubtree"}

#: Entries per page when a caller does not say (the live source's default too).
DEFAULT_PAGE_SIZE = 1000


def scope_name(scope: str | int) -> str:
    """``"base"``, ``"one"`` or ``"sub"`` for any accepted spelling (or 0/1/2).

    >>> scope_name("SUBTREE"), scope_name(1)
    ('sub', 'one')
    """
    if isinstance(scope, int) and scope in _NAMES:
        return _NAMES[scope]
    if isinstance(scope, str) and scope.lower() in SCOPES:
        return _NAMES[SCOPES[scope.lower()]]
    raise ArgumentError("scope", "'base', 'one' or 'sub' (or 0, 1, 2)", scope)


def scope_number(scope: str | int) -> int:
    """The RFC 4511 number (0, 1, 2) of any accepted spelling.

    >>> scope_number("onelevel"), scope_number(2)
    (1, 2)
    """
    return SCOPES[scope_name(scope)]


# =============================================================================================
# pages
# =============================================================================================
class Page(Protocol):
    """One page of search results as columns: ``columns[name][i]`` are the values of
    ``dns[i]`` (an empty sequence where the entry lacks the attribute).  Values are ``bytes``
    as on the wire (live sources) or ``str``/``bytes`` (in-memory sources); names are spelt
    as the source spells them and may differ in case between pages.  ``keys``, when not None,
    are the normalised DNs (:func:`ldapnb.dn.normalize`) of ``dns``, which a source that keys
    its entries by them (the embedded directory) hands on so that readers need not normalise
    them again; live sources leave it None."""

    dns: list[str]
    columns: dict[str, list[Any]]
    referrals: list[str]
    keys: list[str] | None

    def __len__(self) -> int: ...


@dataclass
class ColumnPage:
    """A :class:`Page` built in memory (see :func:`pages_from_entries`).

    >>> ColumnPage(["cn=a"], {"cn": [["a"]]}).columns
    {'cn': [['a']]}
    """

    dns: list[str]
    columns: dict[str, list[Any]]
    referrals: list[str] = field(default_factory=list)
    keys: list[str] | None = None

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    def __len__(self) -> int:
        return len(self.dns)


def pages_from_entries(entries: Iterable[Entry], page_size: int | None = DEFAULT_PAGE_SIZE,
                       attributes: Sequence[str] | None = None) -> Iterator[ColumnPage]:
    """Column pages of ``page_size`` entries (0 or None: one page) from entries, for sources
    that hold entries rather than wire pages.  Empty pages are not yielded.  With
    ``attributes`` naming the only columns wanted (no ``*`` or ``+``), only those are
    gathered (matched case-insensitively, as :func:`ldapnb.frames.columns_from_pages` does).

    >>> pages = list(pages_from_entries([Entry("cn=a", {"cn": ["a"]}),
    ...                                  Entry("cn=b", {"CN": ["b"], "sn": ["B"]})]))
    >>> pages[0].dns, pages[0].columns
    (['cn=a', 'cn=b'], {'cn': [['a'], ['b']], 'sn': [(), ['B']]})
    >>> next(pages_from_entries([Entry("cn=a", {"cn": ["a"]})], attributes=["SN"])).columns
    {'SN': [()]}
    """
    size = page_size or 0
    if fixed_columns(attributes):
        yield from _dense_pages(entries, size, attributes)
        return
    dns: list[str] = []
    seen: dict[str, tuple[str, list[int], list[Any]]] = {}  # lower -> (spelling, rows, values)
    for entry in entries:
        row = len(dns)
        dns.append(entry.dn)
        for key, values in entry.attribute_lists().items():
            col = seen.get(key)
            if col is None:
                col = seen[key] = (entry.name_of(key), [], [])
            col[1].append(row)
            col[2].append(values)
        if size and len(dns) == size:
            yield _page(dns, seen)
            dns, seen = [], {}
    if dns:
        yield _page(dns, seen)


def fixed_columns(attributes: Sequence[str] | None) -> TypeGuard[Sequence[str]]:
    """Whether an attribute list makes pages with a fixed set of columns (no ``*``, no ``+``):
    then every page has exactly the columns :func:`dense_columns` names."""
    return attributes is not None and not any(a in ("*", "+") for a in attributes)


def dense_columns(attributes: Sequence[str]) -> dict[str, str]:
    """The columns of the pages of a fixed attribute list: lower-case name -> the first
    spelling asked for (``1.1`` and ``dn`` make none).

    >>> dense_columns(["cn", "CN", "memberOf", "1.1"])
    {'cn': 'cn', 'memberof': 'memberOf'}
    """
    wanted: dict[str, str] = {}
    for name in attributes:
        if name.lower() not in ("1.1", "dn"):
            wanted.setdefault(name.lower(), name)
    return wanted


def _dense_pages(entries: Iterable[Entry], size: int,
                 attributes: Sequence[str]) -> Iterator[ColumnPage]:
    """:func:`pages_from_entries` for a fixed list of columns: one lookup per entry and
    column."""
    wanted = dense_columns(attributes)
    keys = list(wanted)
    while True:
        dns: list[str] = []
        cols: list[list[Any]] = [[] for _ in keys]
        pairs = list(zip(keys, [c.append for c in cols], strict=True))
        for entry in entries:
            dns.append(entry.dn)
            get = entry.attribute_lists().get
            for key, add in pairs:
                add(get(key, ()))
            if size and len(dns) == size:
                break
        if not dns:
            return
        yield ColumnPage(dns, {wanted[k]: c for k, c in zip(keys, cols, strict=True)})
        if not size or len(dns) < size:
            return


def _page(dns: list[str], seen: dict[str, tuple[str, list[int], list[Any]]]) -> ColumnPage:
    n = len(dns)
    columns: dict[str, list[Any]] = {}
    for name, rows, values in seen.values():
        if len(rows) == n:
            columns[name] = values
            continue
        full: list[Any] = [()] * n
        for r, v in zip(rows, values, strict=True):
            full[r] = v
        columns[name] = full
    return ColumnPage(dns, columns)


# =============================================================================================
# the protocols
# =============================================================================================
@runtime_checkable
class Source(Protocol):
    """Where a ``Directory`` gets its entries: everything ``Directory`` reads goes through
    these members."""

    @property
    def is_live(self) -> bool:
        """True when the entries come from a server over the network (counting them means a
        search of the whole server)."""
        ...

    @property
    def schema(self) -> Schema:
        """The schema the source's entries follow (read-only: a source decides it)."""
        ...

    @property
    def root_dse(self) -> Entry: ...

    @property
    def naming_contexts(self) -> tuple[str, ...]: ...

    @property
    def default_base(self) -> str | None:
        """The base a search uses when none is given (None: the only naming context)."""
        ...

    @property
    def warnings(self) -> list[str]:
        """Problems worth knowing (lenient loads, unverified TLS ...)."""
        ...

    @property
    def urls(self) -> dict[str, str]:
        """How to reach the server (``{}`` for an in-memory source)."""
        ...

    @property
    def ca_file(self) -> str | os.PathLike[str] | None:
        """The CA trusted for the server's certificate (None when there is none)."""
        ...

    def search_pages(
        self,
        base: str,
        scope: str | int = "sub",
        filter: str = "(objectClass=*)",
        attributes: Sequence[str] | None = None,
        *,
        size_limit: int = 0,
        page_size: int | None = None,
    ) -> Iterator[Page]:
        """The answer as column pages.  Raises ``NoSuchEntry`` for a missing base and
        ``LimitExceeded`` when more than ``size_limit`` entries match (never a silently short
        answer)."""
        ...

    def search(
        self,
        base: str,
        scope: str | int = "sub",
        filter: str = "(objectClass=*)",
        attributes: Sequence[str] | None = None,
        *,
        size_limit: int = 0,
    ) -> Iterator[Entry]:
        """The same answer as entries."""
        ...

    def get(self, dn: str, attributes: Sequence[str] | None = None) -> Entry:
        """The entry at ``dn`` or ``NoSuchEntry`` (``""`` is the rootDSE)."""
        ...

    def member_of(self, dn: str) -> list[str]:
        """The groups that list ``dn`` directly."""
        ...

    def trace(self, filter: str, dn: str) -> Trace:
        """Why ``filter`` matches the entry at ``dn`` or not."""
        ...

    def connection(self, user: str | None = None, password: str | None = None, *,
                   writable: bool | None = None, raise_exceptions: bool = False,
                   max_val_range: int | None = None) -> ldap3.Connection:
        """A real ``ldap3.Connection`` answered by this source."""
        ...

    def __len__(self) -> int: ...

    def __contains__(self, dn: object) -> bool: ...

    def close(self) -> None: ...


@runtime_checkable
class Writable(Protocol):
    """A source that can be written to (the embedded directory; a live server opened with
    ``writable=True``, else its writes raise ``ReadOnlyError``)."""

    def add(self, entry: Entry, *, new_root: bool = True) -> None: ...

    def modify(self, dn: str, changes: Iterable[Any]) -> None: ...

    def delete(self, dn: str) -> None: ...

    def modify_dn(self, dn: str, new_rdn: str, *, delete_old_rdn: bool = True,
                  new_superior: str | None = None) -> str: ...

    def load(self, records: Iterable[object], *, source: str = "<entries>") -> int: ...

    @property
    def skipped(self) -> list[tuple[int | None, str, str]]:
        """Records a lenient :meth:`load` skipped because a server refuses them, as
        ``ldapadd -c`` does: ``(line, dn, reason)`` (empty for a source that never skips)."""
        ...


@runtime_checkable
class Bindable(Protocol):
    """A source that can check a simple bind: the bound DN, or ``BindError``."""

    def bind(self, dn: str, password: str | bytes) -> str: ...


@runtime_checkable
class ReadsSecurityDescriptors(Protocol):
    """A source that reads ``nTSecurityDescriptor`` with the SD flags control (AD gives the
    descriptor to a non-administrator only that way): the live source."""

    def security_descriptors(self, base: str | None = None, filter: str = "(objectClass=*)",
                             scope: str | int = "sub", *, sd_flags: int = 7,
                             page_size: int = 500) -> Iterator[tuple[str, bytes]]: ...


class Servable(Source, Writable, Bindable, Protocol):
    """What an ldap3 ``Connection`` answered in memory needs
    (:func:`ldapnb.sources._ldap3.embedded_connection`): the three protocols above, plus
    searches by normalised DN, compare, SASL binds and the subschema entry.  The embedded
    directory, and the replication lab's wrappers around it, are servable."""

    @property
    def subschema(self) -> Entry: ...

    def search_dns(self, base: str, scope: str | int, filter: Any, *,
                   size_limit: int = 0) -> list[str]: ...

    def get_normalized(self, ndn: str, attributes: Sequence[str] | None = None, *,
                       types_only: bool = False) -> Entry: ...

    def compare(self, dn: str, attribute: str, value: Any) -> bool: ...

    def bind_sasl(self, mechanism: str, credentials: bytes | None) -> str: ...
