"""Directory: ldapnb's front door.

One class, the same methods, whichever source the entries come from::

    d = Directory.embedded()                 # the bundled teaching directory, in memory
    d = Directory.embedded("contoso")        # any bundled fixture by name
    d = Directory.from_ldif("export.ldif")   # any LDIF file, e.g. an auditor's export

    d.search("(objectClass=person)", attributes=["cn", "mail"])   # -> pandas DataFrame
    d.entries("(uid=bjensen)")               # -> iterator of Entry
    d.get("uid=bjensen,ou=People,dc=example,dc=org")
    d.tree()                                 # the DIT as a networkx DiGraph
    d.connection(user=dn, password=pw)       # a real ldap3 Connection answered by it

and from real servers, with the same methods::

    with Directory.slapd("contoso") as d:    # a private OpenLDAP slapd on loopback
        d.urls, d.ca_file, d.slapd
    d = Directory.connect("ldaps://dc1.example.org", user=..., password=..., ca_file=...)
    for chunk in d.search_chunks("(objectClass=user)", page_size=1000): ...

``Directory`` depends only on the protocols of :mod:`ldapnb.sources.base` (``Source``,
``Writable``, ``Bindable``): any object satisfying them works with every method they cover
(``tests/memsource.py`` is one in a few lines).  Every source yields the same column pages,
which :func:`ldapnb.frames.frame_from_pages` turns into a DataFrame: one ``search`` for all.
"""

from __future__ import annotations

import itertools
import os
import types
import warnings
from collections.abc import Iterable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _args
from . import dn as dnlib
from ._warn import warn_load
from .entry import Entry
from .errors import (
    ArgumentError,
    NoSuchEntry,
    OperationError,
    ReadOnlyError,
    SchemaWarning,
)
from .schema import Schema
from .sources.base import Bindable, Source, Writable
from .sources.embedded import Change, EmbeddedDirectory

if TYPE_CHECKING:
    import ldap3
    import networkx as nx
    import pandas as pd

    from .filters import Trace
    from .sources.slapd import Slapd

__all__ = ["Directory", "fixtures"]


def fixtures() -> list[str]:
    """Names of the bundled data sets, for :meth:`Directory.embedded`.

    >>> "contoso" in fixtures() and "example" in fixtures()
    True
    """
    folder = resources.files("ldapnb") / "fixtures"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".ldif"))


def fixture_path(name: str) -> Path:
    """The path of the bundled fixture ``name`` (``"example"``, ``"contoso"``, ...)."""
    path = Path(str(resources.files("ldapnb") / "fixtures" / f"{name}.ldif"))
    if not path.is_file():
        raise NoSuchEntry(name, message=f"no bundled fixture named {name!r}; the bundled ones "
                          f"are {', '.join(fixtures())}; for your own file use "
                          "Directory.from_ldif(path)")
    return path


class _FactoryOrServer:
    """``Directory.slapd(...)`` starts a server; ``d.slapd`` is the server of ``d`` (or None)."""

    def __init__(self, factory: Any):
        self.factory = factory
        self.__doc__ = factory.__doc__

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        if obj is None:
            return types.MethodType(self.factory, owner)
        return obj.__dict__.get("_slapd")


def _slapd_directory(
    cls: type[Directory],
    name_or_path: str | os.PathLike[str],
    *,
    via: str = "ldaps",
    writable: bool = True,
    page_size: int = 1000,
    timeout: float = 10,
    **slapd_options: Any,
) -> Directory:
    """Start a private OpenLDAP slapd loaded with a fixture and connect to it.

    Parameters
    ----------
    name_or_path
        A bundled fixture's name (``"contoso"``, see :func:`fixtures`) or an LDIF file.
    via
        ``"ldaps"`` (default) or ``"starttls"``: how the Directory connects, always as the
        server's rootdn and verifying its certificate with the server's own CA.
    writable
        The server is a private copy: writes are allowed unless ``writable=False``.
    page_size, timeout
        As for :class:`~ldapnb.sources.live.LiveSource`.
    **slapd_options
        :class:`~ldapnb.sources.slapd.Slapd`'s options (``schemas``, ``sizelimit``, ``acl`` ...).

    Returns
    -------
    Directory
        Use it as a context manager (``with Directory.slapd("contoso") as d``), or call
        :meth:`close`, to stop the server.  ``d.urls``, ``d.ca_file`` and ``d.slapd`` (the
        :class:`~ldapnb.sources.slapd.Slapd`: ``rootdn``, ``rootpw``, ``log``) say how to reach it.

    Raises
    ------
    DirectoryUnavailable
        slapd is not installed (the message says how to install it) or did not start.
    """
    from .sources.live import LiveSource
    from .sources.slapd import Slapd

    text = os.fspath(name_or_path)
    if isinstance(name_or_path, str) and "\n" not in text and os.sep not in text \
            and not text.endswith(".ldif") and not Path(text).exists():
        path: str | os.PathLike[str] = fixture_path(text)
        label = text
    else:
        path = name_or_path
        label = Path(text).name if "\n" not in text else "LDIF text"
    if via not in ("ldaps", "starttls"):
        raise ValueError("via must be 'ldaps' or 'starttls'")
    server = Slapd(path, **slapd_options).start()
    try:
        url = server.urls["ldaps"] if via == "ldaps" else server.urls["ldap"]
        source = LiveSource(url, user=server.rootdn, password=server.rootpw,
                            ca_file=server.ca_file, start_tls=via == "starttls",
                            writable=writable, page_size=page_size, timeout=timeout)
    except BaseException:
        server.stop()
        raise
    d = cls(source, name=f"slapd {label!r}")
    d._slapd = server
    return d


class Directory:
    """A directory to read, search, graph and audit.

    Build one with :meth:`embedded`, :meth:`from_ldif` (and, with a server, :meth:`slapd` or
    :meth:`connect`); every view (DataFrames, graphs, audits, widgets) takes a Directory.

    Examples
    --------
    >>> d = Directory.embedded("tiny")
    >>> df = d.search("(objectClass=person)", attributes=["cn"])
    >>> list(df.columns)
    ['dn', 'cn']
    >>> d.get(df.dn[0]).dn == df.dn[0]
    True
    """

    def __init__(self, source: Source, *, name: str = "directory"):
        self.source: Source = source
        self.name = name
        self._slapd: Slapd | None = None

    slapd = _FactoryOrServer(_slapd_directory)

    @classmethod
    def samba(cls, name_or_ldif: str | os.PathLike[str] | None = "contoso",
              **options: Any) -> Directory:
        """A private Samba AD DC loaded with ``name_or_ldif``, connected as Administrator;
        see :func:`ldapnb.sources.samba.samba_directory` (the options, the template)."""
        from .sources.samba import samba_directory

        return samba_directory(cls, name_or_ldif, **options)

    @classmethod
    def connect(
        cls,
        url: str,
        user: str | None = None,
        password: str | None = None,
        *,
        ca_file: str | os.PathLike[str] | None = None,
        start_tls: bool = False,
        allow_cleartext: bool = False,
        writable: bool = False,
        **options: Any,
    ) -> Directory:
        """A live server over ldap3 (see :class:`~ldapnb.sources.live.LiveSource`).

        Parameters
        ----------
        url : str
            ``ldaps://host[:636]`` or ``ldap://host[:389]`` (then ``start_tls=True`` to
            encrypt).
        user, password : str, optional
            Simple bind as ``user`` (a DN; AD also takes ``DOMAIN\\name``); anonymous when
            None.
        ca_file : path, optional
            The CA that signed the server's certificate; the system's trusted CAs when None.
        start_tls, allow_cleartext, writable
            StartTLS on ``ldap://``; allow a password in clear over plain ``ldap://``
            (refused by default); allow writes (read-only by default).
        **options
            ``sasl_mechanism``, ``authentication``, ``timeout`` (seconds for each message of
            an answer), ``search_timeout`` (seconds for a whole search, all pages; default
            3600), ``max_message_size`` (bytes one message may declare; default 256 MiB),
            ``page_size``, ``tls_server_name``, ``client_cert``, ``client_key`` ...

        Raises
        ------
        BindError, TlsError, DirectoryUnavailable
            Each saying what went wrong and what to try.
        """
        from .sources.live import LiveSource

        source = LiveSource(url, user=user, password=password, ca_file=ca_file,
                            start_tls=start_tls, allow_cleartext=allow_cleartext,
                            writable=writable, **options)
        return cls(source, name=f"live {url!r}")

    # -- life cycle (servers) ----------------------------------------------------------------
    @property
    def is_live(self) -> bool:
        """True when the entries come from a server over the network (slapd or live)."""
        return self.source.is_live

    @property
    def urls(self) -> dict[str, str]:
        """How to reach the server: ``{'ldap': ..., 'ldaps': ...}`` ({} when embedded)."""
        if self._slapd is not None:
            return self._slapd.urls
        return dict(self.source.urls)

    @property
    def ca_file(self) -> Path | None:
        """The CA certificate trusted for the server's TLS certificate, when there is one."""
        if self._slapd is not None:
            return self._slapd.ca_file
        ca = self.source.ca_file
        return Path(ca) if ca else None

    def close(self) -> None:
        """Close the connection and stop a private slapd (nothing to do when embedded)."""
        self.source.close()
        if self._slapd is not None:
            self._slapd.stop()

    def __enter__(self) -> Directory:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.source.close()
        if self._slapd is not None:
            self._slapd.__exit__(exc_type, exc, tb)  # keeps its folder when the block failed

    # -- building ----------------------------------------------------------------------------
    @classmethod
    def embedded(cls, name: str = "example") -> Directory:
        """A fresh in-memory copy of the bundled fixture ``name`` (see :func:`fixtures`)."""
        from . import ldif

        path = fixture_path(name)
        source = EmbeddedDirectory()
        # trusted: tests/test_fixtures.py checks every bundled entry against the schema and
        # loads each fixture into a real slapd, so the per-entry checks are skipped here.
        source.load(ldif.read_records(path), source=path.name, trusted=True)
        return cls(source, name=f"embedded {name!r}")

    @classmethod
    def from_ldif(cls, path: str | os.PathLike[str], *, strict: bool = False,
                  schema: Schema | None = None) -> Directory:
        """A directory loaded from an LDIF file (content records, or change records applied
        in order).

        Exports from other servers often use attribute types ldapnb's schema does not know:
        with ``strict=False`` (the default) they are kept and matched as case-insensitive
        strings, and each such problem is listed in :attr:`warnings`.  With ``strict=True``
        any schema violation raises :class:`~ldapnb.errors.LdifError` naming the line.
        An export of Active Directory (its first 256 KiB name objectGUID or objectSid) is read
        with Microsoft's AD schema as well (:func:`ldapnb.schema.ad_schema`).
        """
        from . import ldif

        # compact: entries of one kind share their spellings and repeated value lists; the
        # records are this load's own, so their lists are stored without a copy (owned)
        records = ldif.read_records(path, compact=True)  # a missing file: SourceNotFound, now
        if schema is None and _looks_like_ad(path):
            from .schema import ad_schema

            schema = ad_schema()
        source = EmbeddedDirectory(schema, lenient=not strict)
        source.load(records, source=str(path), owned=True)
        warn_load(source.warnings, str(path))
        return cls(source, name=f"LDIF {Path(path).name!r}")

    @classmethod
    def from_snapshot(cls, path: str | os.PathLike[str]) -> Directory:
        """A directory loaded from a snapshot (LDIF or Parquet, see :meth:`snapshot`), for an
        offline audit."""
        from . import snapshot

        d = cls.from_entries(snapshot.read(path), strict=False)
        d.name = f"snapshot {Path(path).name!r}"
        return d

    def snapshot(self, path: str | os.PathLike[str], **options: Any) -> dict[str, Any]:
        """Write the entries to ``path`` (``.ldif`` or ``.parquet``), atomically; see
        :func:`ldapnb.snapshot.write` for the options (filter, base, attributes,
        include_secrets, progress).  Returns the snapshot's metadata."""
        from . import snapshot

        return snapshot.write(self, path, **options)

    @classmethod
    def from_entries(cls, entries: Iterable[Entry], *, strict: bool = True,
                     schema: Schema | None = None) -> Directory:
        """A directory holding ``entries`` (parents before children).  Active Directory
        entries (an ``objectSid`` or ``objectGUID`` among the first ones), as
        :meth:`from_ldif` does, are judged with Microsoft's AD schema as well
        (:func:`ldapnb.schema.ad_schema`) unless ``schema`` is given."""
        if isinstance(entries, (str, bytes, Entry)) or not isinstance(entries, Iterable):
            raise ArgumentError("entries", "an iterable of Entry objects", entries, show=False)
        if schema is None:
            it = iter(entries)
            head = list(itertools.islice(it, 256))
            entries = itertools.chain(head, it)
            if any(isinstance(e, Entry) and ("objectSid" in e or "objectGUID" in e)
                   for e in head):
                from .schema import ad_schema

                schema = ad_schema()
        source = EmbeddedDirectory(schema, lenient=not strict)
        source.load(entries)
        warn_load(source.warnings, "entries")
        return cls(source, name="entries")

    # -- what it is --------------------------------------------------------------------------
    @property
    def schema(self) -> Schema:
        """The schema (object classes, attribute types) entries are judged by."""
        return self.source.schema

    @property
    def root_dse(self) -> Entry:
        """The rootDSE: naming contexts, supported controls, extensions, SASL mechanisms."""
        return self.source.root_dse

    @property
    def naming_contexts(self) -> tuple[str, ...]:
        return self.source.naming_contexts

    @property
    def base(self) -> str:
        """The default search base: the naming context, when there is one (a live server:
        the URL's base DN, else its ``defaultNamingContext``)."""
        default = self.source.default_base
        if default:
            return str(default)
        ncs = self.naming_contexts
        return ncs[0] if len(ncs) == 1 else ""

    @property
    def warnings(self) -> list[str]:
        """Problems met while loading leniently (unknown attributes, schema violations)."""
        return self.source.warnings

    @property
    def skipped(self) -> list[tuple[int | None, str, str]]:
        """Records a lenient load skipped because a server refuses them, as ``ldapadd -c``
        does: ``(line, dn, reason)``."""
        return list(self.source.skipped) if isinstance(self.source, Writable) else []

    def __len__(self) -> int:
        return len(self.source)

    def __contains__(self, dn: object) -> bool:
        return dn in self.source

    def __repr__(self) -> str:
        if self.is_live:  # counting would search the whole server
            where = " ".join(self.urls.values())
            return f"<Directory {self.name} at {where}: naming contexts " \
                   f"{list(self.naming_contexts)}>"
        return (f"<Directory {self.name}: {len(self)} entries, "
                f"naming contexts {list(self.naming_contexts)}>")

    # -- reading -----------------------------------------------------------------------------
    def entries(
        self,
        filter: str = "(objectClass=*)",
        *,
        base: str | None = None,
        scope: str = "sub",
        attributes: Sequence[str] | None = None,
        size_limit: int = 0,
    ) -> Iterator[Entry]:
        """Entries matching ``filter`` under ``base`` (default :attr:`base`) in ``scope``
        ("base", "one" or "sub").

        Raises ``FilterError`` (bad filter, with the position), ``NoSuchEntry`` (no such
        base; the message lists the naming contexts) and ``LimitExceeded`` (more than
        ``size_limit`` matches: never a silently short answer).
        """
        attributes = _args.attributes(attributes)
        return self.source.search(self._base(base), scope, filter, attributes,
                                  size_limit=_args.size_limit(size_limit))

    def search(
        self,
        filter: str = "(objectClass=*)",
        *,
        base: str | None = None,
        scope: str = "sub",
        attributes: Sequence[str] | None = None,
        size_limit: int = 0,
        show_secrets: bool = False,
    ) -> pd.DataFrame:
        """Like :meth:`entries`, as a DataFrame: one row per entry, ``dn`` first, typed
        columns (see :func:`ldapnb.frames.to_frame`); passwords masked unless
        ``show_secrets=True``."""
        from .frames import frame_from_pages

        attributes = self._requested(attributes)
        pages = self.source.search_pages(self._base(base), scope, filter, attributes,
                                         size_limit=_args.size_limit(size_limit))
        return frame_from_pages(pages, attributes=attributes, schema=self.schema,
                                show_secrets=show_secrets)

    def search_chunks(
        self,
        filter: str = "(objectClass=*)",
        *,
        page_size: int = 1000,
        base: str | None = None,
        scope: str = "sub",
        attributes: Sequence[str] | None = None,
    ) -> Iterator[pd.DataFrame]:
        """The answer of :meth:`search` as a stream of DataFrames of ``page_size`` rows
        (from a server: one DataFrame per page the server sends, paged search RFC 2696)."""
        from .frames import frame_from_pages

        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
            raise ArgumentError("page_size", "a whole number >= 1", page_size)
        attributes = self._requested(attributes)
        for page in self.source.search_pages(self._base(base), scope,
                                             filter, attributes, page_size=page_size):
            yield frame_from_pages([page], attributes=attributes, schema=self.schema)

    def _base(self, base: object) -> str:
        return self.base if base is None else _args.dn(base, "base")

    def _requested(self, attributes: object) -> list[str] | None:
        """``attributes`` checked; a name the schema does not know is warned about (a typo
        returns nothing, silently, on every server).  For the calls people type
        (:meth:`search`, :meth:`search_chunks`); :meth:`entries` is what code calls, with
        names meant for many kinds of servers."""
        names = _args.attributes(attributes)
        if names:
            unknown = [n for n in names if n not in ("*", "+", "1.1")
                       and self.schema.attribute_type(n.split(";", 1)[0]) is None]
            if unknown:
                import difflib

                known = [a for at in self.schema.attribute_types.values() for a in at.names]
                hints = []
                for n in unknown:
                    close = difflib.get_close_matches(n, known, n=1)
                    hints.append(f"{n!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
                warnings.warn(f"attribute{'s' if len(unknown) > 1 else ''} "
                              f"{', '.join(hints)} not in the schema: no entry will show "
                              f"{'them' if len(unknown) > 1 else 'it'}",
                              SchemaWarning, stacklevel=3)
        return names

    def get(self, dn: str, attributes: Sequence[str] | None = None) -> Entry:
        """The entry at ``dn`` or :class:`~ldapnb.errors.NoSuchEntry`.  ``""`` is the rootDSE."""
        return self.source.get(dn, attributes)

    def trace(self, filter: str, dn: str) -> Trace:
        """Why ``filter`` matches the entry at ``dn`` or not: a :class:`ldapnb.filters.Trace`,
        a tree of the filter's parts with True/False/Undefined and, for each comparison, the
        values examined and which one matched.

        >>> d = Directory.embedded("tiny")
        >>> alice = "uid=alice,ou=People,dc=example,dc=com"
        >>> t = d.trace("(&(objectClass=person)(!(cn=A*)))", alice)
        >>> t.result
        False
        """
        return self.source.trace(filter, dn)

    def member_of(self, dn: str) -> list[str]:
        """The groups that list ``dn`` directly (what a server's memberOf shows)."""
        return self.source.member_of(dn)

    def tree(self) -> nx.DiGraph:
        """The DIT as a networkx DiGraph, parent -> child.  Node ids are DNs; node
        attributes: ``rdn``, ``objectClass`` (list), ``depth``."""
        import networkx as nx

        g = nx.DiGraph()
        for e in self.source.search("", "sub", "(objectClass=*)", ["objectClass"]):
            g.add_node(e.dn, rdn=dnlib.rdn(e.dn) if e.dn else "",
                       objectClass=[str(c) for c in e.get("objectClass", [])],
                       depth=dnlib.depth(e.dn))
            parent = dnlib.parent(e.dn)
            if parent and parent in self.source:
                g.add_edge(self._dn_as_stored(parent), e.dn)
        return g

    def _dn_as_stored(self, dn: str) -> str:
        try:
            return self.source.get(dn, ["1.1"]).dn
        except NoSuchEntry:
            return dn

    def graph(self, **kwargs: Any) -> nx.DiGraph:
        """The group-membership graph (member -> group), see :mod:`ldapnb.graph`."""
        from . import graph

        # only the columns the graph reads, as column pages (no Entry objects)
        return graph.from_pages(self.source.search_pages(self.base, "sub", "(objectClass=*)",
                                                         graph.GRAPH_ATTRIBUTES), **kwargs)

    # -- ldap3 -------------------------------------------------------------------------------
    def connection(self, user: str | None = None, password: str | None = None, *,
                   writable: bool | None = None, raise_exceptions: bool = False,
                   max_val_range: int | None = None) -> ldap3.Connection:
        """A real ``ldap3.Connection`` answered by this directory: lesson code is ordinary
        ldap3 code with a server's answers.  Bound at once when ``user`` is given
        (check ``conn.bound`` and ``conn.result``).  The embedded directory is a private
        in-memory copy, so writes are allowed unless ``writable=False``.  ``max_val_range``
        (AD: 1500) makes it return long attributes in ranges, as Active Directory does."""
        return self.source.connection(user, password, writable=writable,
                                      raise_exceptions=raise_exceptions,
                                      max_val_range=max_val_range)

    # -- writing (the embedded directory is a private copy) ------------------------------------
    def add(self, dn: str, attributes: dict[str, Any]) -> None:
        """Add an entry (server rules: parent must exist, schema checked)."""
        entry = Entry(_args.dn(dn))
        for k, values in _args.attribute_map(attributes).items():
            if not values:
                raise OperationError(f"{dn}: no values for attribute type {k!r}",
                                     result="protocolError", code=2)
            entry.add(k, values)
        self._writable("add").add(entry, new_root=not self.is_live and len(self.source) == 0)

    def modify(self, dn: str, changes: Iterable[tuple[str, str, Any]]) -> None:
        """Modify an entry: ``changes`` are ``(op, attribute, values)`` with op one of
        "add", "delete", "replace", "increment"."""
        out = []
        for op, attr, vals in _args.changes(changes):
            if op == "add" and not vals:
                raise OperationError(f"{dn}: modify/add of {attr!r} requires values",
                                     result="protocolError", code=2)
            out.append(Change(op, attr, vals))
        self._writable("modify").modify(_args.dn(dn), out)

    def delete(self, dn: str) -> None:
        self._writable("delete").delete(_args.dn(dn))

    def rename(self, dn: str, new_rdn: str, *, new_superior: str | None = None,
               delete_old_rdn: bool = True) -> str:
        if new_superior is not None:
            _args.dn(new_superior, "new_superior")
        return self._writable("rename").modify_dn(_args.dn(dn), _args.dn(new_rdn, "new_rdn"),
                                                  new_superior=new_superior,
                                     delete_old_rdn=delete_old_rdn)

    def apply_ldif(self, path: str | os.PathLike[str]) -> int:
        """Apply an LDIF file of change records (or content records, as adds) in order."""
        from . import ldif

        records = ldif.read_records(path)  # a missing file: SourceNotFound, now
        target = self._writable("apply_ldif")
        before = len(self.source.warnings)
        count = target.load(records, source=str(path))
        warn_load(self.source.warnings[before:], str(path))
        return count

    def bind(self, dn: str, password: str) -> bool:
        """True when ``dn``/``password`` is a valid simple bind (no connection kept)."""
        from .errors import BindError

        if not isinstance(self.source, Bindable):
            raise OperationError(f"{self.name} cannot check binds (its source has no bind)",
                                 result="unwillingToPerform", code=53)
        try:
            self.source.bind(dn, password)
            return True
        except BindError as exc:
            if not exc.sent:  # refused locally (a password in clear)
                raise
            return False

    def _writable(self, what: str) -> Writable:
        """The source, when it can be written to (the :class:`Writable` protocol)."""
        if not isinstance(self.source, Writable):
            raise ReadOnlyError(f"{self.name} is read-only: its source has no writes, so the "
                                f"{what} was not made")
        return self.source


def _looks_like_ad(path: str | os.PathLike[str]) -> bool:
    """Whether an LDIF file looks like an Active Directory export (objectGUID/objectSid in its
    first 256 KiB)."""
    try:
        with open(path, "rb") as f:
            head = f.read(256 * 1024).lower()
    except OSError:
        return False
    return b"\nobjectguid:" in head or b"\nobjectsid:" in head
