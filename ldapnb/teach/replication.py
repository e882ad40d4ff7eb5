"""Replication for the lessons: a provider, a consumer, a link that can be cut.

Two labs with the same API:

- :class:`ReplicationLab`: two real OpenLDAP ``slapd`` on loopback.  The provider runs the
  ``syncprov`` overlay; the consumer runs ``syncrepl`` in ``refreshAndPersist`` mode (it keeps a
  search open on the provider and receives every change as it happens), retrying every second
  when the link is down.  The consumer reaches the provider through a :class:`~ldapnb.teach.
  wire.Tap`: :meth:`~ReplicationLab.cut` stops the tap (the link is down, as when a firewall
  drops it), :meth:`~ReplicationLab.restore` starts it again on the same port, and the consumer
  catches up with what changed meanwhile.
- :class:`EmbeddedReplicationLab`: a simulation with two embedded directories and a change
  log, for machines without slapd.  It keeps the same vocabulary (entryCSN, contextCSN) and the
  same behaviour: the consumer is read-only, changes arrive shortly after they are made, and
  nothing arrives while the link is cut.

:func:`replication_lab` picks the real one when slapd (with its syncprov module) is installed
and says which one it uses.

Both expose ``lab.provider`` and ``lab.consumer`` as ordinary ``ldap3.Connection`` objects, so
lesson code is the same ldap3 code either way::

    with replication_lab("tiny") as lab:
        lab.write("uid=bob,ou=People,dc=example,dc=com", {"title": "Head of IT"})
        lab.wait_until_replicated("uid=bob,ou=People,dc=example,dc=com")   # -> seconds
        lab.consumer.search("dc=example,dc=com", "(uid=bob)", attributes=["title"])
        lab.context_csn()       # {'provider': '2026...#000000#000#000000', 'consumer': ...}

**CSNs.** Every entry carries an ``entryCSN`` (change sequence number: time, a counter,
the server id, a modification number); a server's ``contextCSN`` is the newest CSN it holds.
A consumer is up to date when its contextCSN equals the provider's.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import itertools
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import dn as dnlib
from .. import filters as flt
from ..entry import Entry, Value
from ..errors import (
    DirectoryUnavailable,
    LdapnbError,
    LimitExceeded,
    NoSuchEntry,
    OperationError,
)
from ..secrets import protect
from ..sources.base import ColumnPage
from ..sources.embedded import Change, EmbeddedDirectory
from ..sources.slapd import Slapd, find_program
from .wire import Tap

if TYPE_CHECKING:
    import ldap3
    import pandas as pd

    from ..schema import Schema

__all__ = ["ReplicationLab", "EmbeddedReplicationLab", "replication_lab", "slapd_can_replicate"]

log = protect(logging.getLogger(__name__))

_SIDES = ("provider", "consumer")


def _resolve(source: str | os.PathLike[str]) -> str | os.PathLike[str]:
    """A bundled fixture's path for a fixture name; LDIF text and paths as they are."""
    from ..directory import fixture_path, fixtures

    if isinstance(source, str) and "\n" not in source and source in fixtures():
        return fixture_path(source)
    return source


def _suffix_of(entries: Iterable[Entry]) -> str:
    dns = [e.dn for e in entries]
    if not dns:
        raise LdapnbError("the data holds no entries to replicate")
    return min(dns, key=len)


def _module_dir() -> Path | None:
    from ..sources import slapd as slapd_module

    for folder in slapd_module._MODULE_DIRS:
        if Path(folder).is_dir():
            return Path(folder)
    return None


def slapd_can_replicate() -> tuple[bool, str]:
    """Whether this machine can run :class:`ReplicationLab`, and why not when it cannot.

    Examples
    --------
    >>> ok, why = slapd_can_replicate()
    >>> isinstance(ok, bool) and isinstance(why, str)
    True
    """
    if find_program("slapd") is None or find_program("slapadd") is None:
        return False, "OpenLDAP's slapd is not installed"
    folder = _module_dir()
    if folder is not None and not any((folder / f"syncprov{ext}").exists()
                                      for ext in (".la", ".so")):
        return False, f"slapd is installed but its syncprov module is not in {folder}"
    return True, "slapd with the syncprov module is installed"


# ==========================================================================================
# The real lab
# ==========================================================================================
def _entry_from(response: dict[str, Any]) -> Entry:
    attributes: dict[str, list[Value]] = {}
    for name, values in response.get("raw_attributes", {}).items():
        out: list[Value] = []
        for v in values:
            try:
                out.append(bytes(v).decode("utf-8"))
            except UnicodeDecodeError:
                out.append(bytes(v))
        attributes[name] = out
    return Entry(response["dn"], attributes)


def _values(v: Any) -> list[Value]:
    if v is None:
        return []
    if isinstance(v, (str, bytes)):
        return [v]
    if isinstance(v, int):
        return [str(v)]
    return [str(x) if isinstance(x, int) else x for x in v]


class _Lab:
    """What both labs share: reads through ldap3, waiting, the status table."""

    kind = "?"
    description = ""
    suffix = ""
    provider: ldap3.Connection
    consumer: ldap3.Connection

    # -- implemented by each lab ---------------------------------------------------------------
    def cut(self) -> None:
        raise NotImplementedError

    def restore(self) -> None:
        raise NotImplementedError

    @property
    def link_up(self) -> bool:
        raise NotImplementedError

    def entry_csn(self, dn: str, side: str = "consumer") -> str | None:
        raise NotImplementedError

    def context_csn(self) -> dict[str, str | None]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # -- shared --------------------------------------------------------------------------------
    def _conn(self, side: str) -> ldap3.Connection:
        if side not in _SIDES:
            raise LdapnbError(f"side must be 'provider' or 'consumer', not {side!r}")
        return self.provider if side == "provider" else self.consumer

    def read(self, dn: str, side: str = "consumer",
             attributes: Sequence[str] = ("*",)) -> Entry | None:
        """The entry at ``dn`` on one side (an :class:`~ldapnb.entry.Entry`), or None.

        Examples
        --------
        >>> with EmbeddedReplicationLab("tiny") as lab:
        ...     lab.read("uid=bob,ou=People,dc=example,dc=com").first("title")
        'System Administrator'
        """
        from ldap3 import BASE

        conn = self._conn(side)
        ok = conn.search(dn, "(objectClass=*)", BASE, attributes=list(attributes))
        if not ok:
            if conn.result.get("description") == "noSuchObject":
                return None
            raise OperationError(f"reading {dn!r} on the {side} failed: {conn.result}",
                                 result=str(conn.result.get("description")),
                                 code=conn.result.get("result"))
        found = [r for r in conn.response if r.get("type") == "searchResEntry"]
        return _entry_from(found[0]) if found else None

    def write(self, dn: str, changes: Mapping[str, Any]) -> None:
        """Replace attributes of ``dn`` on the provider: ``{"title": "CTO"}``; None or [] removes
        an attribute.

        Raises
        ------
        OperationError, NoSuchEntry
            The provider refused the change (the message quotes it).
        """
        from ldap3 import MODIFY_REPLACE

        if not changes:
            raise LdapnbError("write() needs at least one attribute to change")
        mods = {name: [(MODIFY_REPLACE, _values(v))] for name, v in changes.items()}
        self._check(self.provider.modify(dn, mods), "modify", dn)

    def add(self, dn: str, attributes: Mapping[str, Any]) -> None:
        """Add an entry on the provider (``objectClass`` and the rest as a mapping)."""
        attrs = {k: _values(v) for k, v in attributes.items()}
        self._check(self.provider.add(dn, attributes=attrs), "add", dn)

    def delete(self, dn: str) -> None:
        """Delete a leaf entry on the provider."""
        self._check(self.provider.delete(dn), "delete", dn)

    def _check(self, ok: bool, what: str, dn: str) -> None:
        if ok:
            return
        result = self.provider.result
        if result.get("description") == "noSuchObject":
            raise NoSuchEntry(dn, message=f"cannot {what} {dn!r} on the provider: no such entry")
        raise OperationError(f"the provider refused to {what} {dn!r}: "
                             f"{result.get('description')} ({result.get('message') or '-'})",
                             result=str(result.get("description")), code=result.get("result"))

    def replicated(self, dn: str) -> bool:
        """True when the consumer holds ``dn`` in the provider's version (same entryCSN), or
        neither holds it."""
        return self.entry_csn(dn, "provider") == self.entry_csn(dn, "consumer")

    def wait_until_replicated(self, dn: str, timeout: float = 10.0) -> float:
        """Wait until :meth:`replicated` (``dn``); return the seconds it took.

        Raises
        ------
        LimitExceeded
            ``kind="time"``: not replicated within ``timeout`` seconds (is the link cut?).
        """
        began = time.monotonic()
        while True:
            if self.replicated(dn):
                return time.monotonic() - began
            if time.monotonic() - began > timeout:
                state = "the link is cut" if not self.link_up else "the link is up"
                raise LimitExceeded(
                    f"{dn!r} did not reach the consumer within {timeout} s ({state}; "
                    f"provider entryCSN {self.entry_csn(dn, 'provider')}, consumer "
                    f"{self.entry_csn(dn, 'consumer')})", kind="time", limit=int(timeout))
            time.sleep(0.02)

    def status(self) -> pd.DataFrame:
        """One row per side: contextCSN, number of entries, whether the link is up."""
        import pandas as pd
        from ldap3 import SUBTREE

        rows = []
        csn = self.context_csn()
        for side in _SIDES:
            conn = self._conn(side)
            conn.search(self.suffix, "(objectClass=*)", SUBTREE, attributes=["1.1"])
            count = sum(r.get("type") == "searchResEntry" for r in conn.response or [])
            rows.append({"side": side, "contextCSN": csn[side], "entries": count,
                         "link": "up" if self.link_up else "cut"})
        return pd.DataFrame(rows)

    def __enter__(self) -> _Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} ({self.kind}) suffix={self.suffix!r} link "
                f"{'up' if self.link_up else 'cut'}: {self.description}>")

    def _repr_html_(self) -> str:
        import html

        return f"<p>{html.escape(repr(self))}</p>" + self.status().to_html(index=False)


class ReplicationLab(_Lab):
    """A provider slapd and a consumer slapd replicating with syncrepl; a context manager.

    Parameters
    ----------
    source
        A bundled fixture name (``"tiny"``, ``"example"``, ``"contoso"``), an LDIF path or LDIF
        text: the provider's data.  The consumer starts empty and receives it all by syncrepl.
    retry
        Seconds between the consumer's attempts to reach the provider while the link is down.
    timeout
        Seconds to wait for the first full copy to reach the consumer.
    schemas, check_schema
        As for :class:`~ldapnb.sources.slapd.Slapd`.

    Attributes
    ----------
    provider, consumer : ldap3.Connection
        Connections bound as each server's administrator (the consumer refuses writes:
        ``unwillingToPerform``, as a read-only replica does).
    provider_server, consumer_server : Slapd
        The two servers (their ``log``, ``folder``, ``urls``).
    link : Tap
        The relay between consumer and provider (its records are the replication traffic).

    Raises
    ------
    DirectoryUnavailable
        slapd or its syncprov module is missing, or the first copy did not arrive in time.
    """

    kind = "slapd"

    def __init__(self, source: str | os.PathLike[str] = "tiny", *, retry: int = 1,
                 timeout: float = 15.0, schemas: Sequence[str] | None = None,
                 check_schema: bool = True) -> None:
        ok, why = slapd_can_replicate()
        if not ok:
            raise DirectoryUnavailable(f"{why}: use EmbeddedReplicationLab, or "
                                       "replication_lab() which falls back to it")
        self._rootpw = secrets.token_urlsafe(18)
        self.retry = retry
        options: dict[str, Any] = {"rootpw": self._rootpw, "memberof": False, "tls": False,
                                   "check_schema": check_schema}
        if schemas is not None:
            options["schemas"] = tuple(schemas)
        self.provider_server: Slapd = Slapd(
            _resolve(source), modules=("syncprov",),
            database_config=("index entryCSN,entryUUID eq",),
            overlay_config=("overlay syncprov", "syncprov-checkpoint 100 1",
                            "syncprov-sessionlog 1000"), **options)
        self.consumer_server: Slapd | None = None
        self.link: Tap | None = None
        self._link_port = 0
        self._closed = False
        try:
            self.provider_server.start()
            self.suffix = self.provider_server.suffix
            self.link = Tap(self.provider_server.host, self.provider_server.port,
                            max_bytes=2_000_000)
            self._link_port = self.link.port
            syncrepl = (
                f'syncrepl rid=001 provider=ldap://{Tap.host}:{self._link_port} '
                f'type=refreshAndPersist retry="{int(retry)} +" timeout=3 network-timeout=2 '
                f'searchbase="{self.suffix}" scope=sub attrs="*,+" '
                f'bindmethod=simple binddn="{self.provider_server.rootdn}" '
                f'credentials={self._rootpw}')
            self.consumer_server = Slapd(
                None, suffix=self.suffix, modules=("syncprov",),
                database_config=("index entryCSN,entryUUID eq", syncrepl), **options)
            self.consumer_server.start()
            self.provider = self._connect(self.provider_server)
            self.consumer = self._connect(self.consumer_server)
            self.description = (f"two real OpenLDAP slapd on loopback: provider "
                                f"{self.provider_server.urls['ldap']} (syncprov), consumer "
                                f"{self.consumer_server.urls['ldap']} (syncrepl "
                                f"refreshAndPersist through a tap on port {self._link_port})")
            self._wait_first_copy(timeout)
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _connect(server: Slapd) -> ldap3.Connection:
        import ldap3

        # Loopback only, a throw-away administrator password: a plain bind is fine here.
        conn = ldap3.Connection(ldap3.Server(server.host, port=server.port,
                                             get_info=ldap3.NONE, connect_timeout=5),
                                user=server.rootdn, password=server.rootpw,
                                receive_timeout=5, raise_exceptions=False)
        if not conn.bind():
            raise DirectoryUnavailable(f"cannot bind to the lab's slapd at {server.urls}: "
                                       f"{conn.result}", host=server.host, port=server.port)
        return conn

    def _wait_first_copy(self, timeout: float) -> None:
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            csn = self.context_csn()
            if csn["consumer"] is not None and csn["consumer"] == csn["provider"]:
                return
            time.sleep(0.02)
        log_text = self.consumer_server.log[-3000:] if self.consumer_server else ""
        raise DirectoryUnavailable(f"the consumer did not receive the provider's data within "
                                   f"{timeout} s. Consumer log:\n{log_text}")

    # -- the link --------------------------------------------------------------------------
    @property
    def link_up(self) -> bool:
        return self.link is not None and self.link.running

    def cut(self) -> None:
        """Cut the link: the relay between consumer and provider stops (connections dropped,
        the port refuses new ones).  Both servers keep running; the provider still accepts
        writes; the consumer keeps retrying every ``retry`` seconds."""
        if self.link is not None:
            self.link.stop()

    def restore(self) -> None:
        """Restore the link on the same port: the consumer reconnects on its next retry and
        catches up (a refresh, then persist again)."""
        if self.link_up:
            return
        self.link = Tap(self.provider_server.host, self.provider_server.port,
                        port=self._link_port, max_bytes=2_000_000)

    # -- CSNs ------------------------------------------------------------------------------
    def _attribute(self, side: str, dn: str, name: str) -> list[str] | None:
        from ldap3 import BASE

        conn = self._conn(side)
        if not conn.search(dn, "(objectClass=*)", BASE, attributes=[name]):
            return None
        found = [r for r in conn.response if r.get("type") == "searchResEntry"]
        if not found:
            return None
        raw = found[0].get("raw_attributes", {})
        values: list[bytes] = next((v for k, v in raw.items() if k.lower() == name.lower()),
                                   [])
        return [bytes(v).decode("ascii", "replace") for v in values]

    def entry_csn(self, dn: str, side: str = "consumer") -> str | None:
        """The ``entryCSN`` of ``dn`` on one side (None when the entry is not there)."""
        values = self._attribute(side, dn, "entryCSN")
        return max(values) if values else None

    def context_csn(self) -> dict[str, str | None]:
        """``{"provider": contextCSN, "consumer": contextCSN}``: the newest change each holds."""
        out: dict[str, str | None] = {}
        for side in _SIDES:
            values = self._attribute(side, self.suffix, "contextCSN")
            out[side] = max(values) if values else None
        return out

    def close(self) -> None:
        """Stop both servers and the link; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for conn_name in ("provider", "consumer"):
            conn = self.__dict__.get(conn_name)
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.unbind()
        if self.link is not None:
            self.link.stop()
        for server in (self.consumer_server, self.provider_server):
            if server is not None:
                server.stop()


# ==========================================================================================
# The simulation
# ==========================================================================================
class _Clock:
    """CSNs in slapd's format: ``YYYYmmddHHMMSS.uuuuuuZ#count#sid#mod`` (count, sid and mod in
    hex), strictly increasing."""

    def __init__(self, sid: int = 0):
        self.sid = sid
        self._count = itertools.count()
        self._last = ""
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            now = _dt.datetime.now(_dt.UTC).strftime("%Y%m%d%H%M%S.%fZ")
            csn = f"{now}#{next(self._count):06x}#{self.sid:03x}#000000"
            if csn <= self._last:  # same microsecond: the counter keeps them ordered
                csn = f"{self._last[:22]}#{next(self._count):06x}#{self.sid:03x}#000000"
            self._last = csn
            return csn


class _LogRecord:
    __slots__ = ("csn", "kind", "dn", "entry", "new_dn", "at")

    def __init__(self, csn: str, kind: str, dn: str, entry: Entry | None = None,
                 new_dn: str | None = None):
        self.csn, self.kind, self.dn, self.entry, self.new_dn = csn, kind, dn, entry, new_dn
        self.at = time.monotonic()


class _Side:
    """One side of the simulated lab: an :class:`EmbeddedDirectory` behind the seam
    (:class:`~ldapnb.sources.base.Source`, ``Writable``, ``Bindable``), with hooks the
    provider and the consumer fill in.  Every read and write goes through these methods,
    ``len()`` and ``in`` included, so nothing can bypass a hook and read stale data; the lab
    itself changes ``inner`` directly when it replicates."""

    is_live = False
    ca_file = None
    default_base = None

    def __init__(self, inner: EmbeddedDirectory, lab: EmbeddedReplicationLab):
        self.inner = inner
        self.lab = lab

    # hooks
    def _reading(self) -> None:
        """Before any read."""

    def _writing(self) -> None:
        """Before any write."""

    def _written(self, kind: str, dn: str, new_dn: str | None = None) -> None:
        """After a write."""

    # what it is
    @property
    def schema(self) -> Schema:
        return self.inner.schema

    @property
    def warnings(self) -> list[str]:
        return self.inner.warnings

    @property
    def skipped(self) -> list[tuple[int | None, str, str]]:
        return self.inner.skipped

    @property
    def urls(self) -> dict[str, str]:
        return {}

    @property
    def root_dse(self) -> Entry:
        self._reading()
        return self.inner.root_dse

    @property
    def subschema(self) -> Entry:
        return self.inner.subschema

    @property
    def naming_contexts(self) -> tuple[str, ...]:
        self._reading()
        return self.inner.naming_contexts

    def close(self) -> None:
        """Nothing to close (the lab's :meth:`~EmbeddedReplicationLab.close` stops it)."""

    def connection(self, user: str | None = None, password: str | None = None, *,
                   writable: bool | None = None, raise_exceptions: bool = False,
                   max_val_range: int | None = None) -> ldap3.Connection:
        from ..sources._ldap3 import embedded_connection

        return embedded_connection(self, user, password,
                                   writable=True if writable is None else writable,
                                   raise_exceptions=raise_exceptions,
                                   max_val_range=max_val_range)

    # reading
    def search_pages(self, base: str, scope: str | int = "sub",
                     filter: str = "(objectClass=*)", attributes: Sequence[str] | None = None,
                     *, size_limit: int = 0, page_size: int | None = None
                     ) -> Iterator[ColumnPage]:
        self._reading()
        return self.inner.search_pages(base, scope, filter, attributes, size_limit=size_limit,
                                       page_size=page_size)

    def search(self, base: str, scope: str | int = "sub", filter: str = "(objectClass=*)",
               attributes: Sequence[str] | None = None, *, size_limit: int = 0,
               types_only: bool = False) -> Iterator[Entry]:
        self._reading()
        return self.inner.search(base, scope, filter, attributes, size_limit=size_limit,
                                 types_only=types_only)

    def search_dns(self, base: str, scope: str | int, filter: str | flt.Filter, *,
                   size_limit: int = 0) -> list[str]:
        self._reading()
        return self.inner.search_dns(base, scope, filter, size_limit=size_limit)

    def get(self, dn: str, attributes: Sequence[str] | None = None) -> Entry:
        self._reading()
        return self.inner.get(dn, attributes)

    def get_normalized(self, ndn: str, attributes: Sequence[str] | None = None, *,
                       types_only: bool = False) -> Entry:
        self._reading()
        return self.inner.get_normalized(ndn, attributes, types_only=types_only)

    def compare(self, dn: str, attribute: str, value: Value) -> bool:
        self._reading()
        return self.inner.compare(dn, attribute, value)

    def member_of(self, dn: str) -> list[str]:
        self._reading()
        return self.inner.member_of(dn)

    def trace(self, filter: str, dn: str) -> flt.Trace:
        self._reading()
        return self.inner.trace(filter, dn)

    def __len__(self) -> int:
        self._reading()
        return len(self.inner)

    def __contains__(self, dn: object) -> bool:
        self._reading()
        return dn in self.inner

    def bind(self, dn: str = "", password: str | bytes = "") -> str:
        self._reading()
        return self.inner.bind(dn, password)

    def bind_sasl(self, mechanism: str, credentials: bytes | None) -> str:
        self._reading()
        return self.inner.bind_sasl(mechanism, credentials)

    # writing
    def add(self, entry: Entry, *, new_root: bool = True) -> None:
        self._writing()
        self.inner.add(entry, new_root=new_root)
        self._written("add", entry.dn)

    def delete(self, dn: str) -> None:
        self._writing()
        self.inner.delete(dn)
        self._written("delete", dn)

    def modify(self, dn: str, changes: Iterable[Change]) -> None:
        self._writing()
        self.inner.modify(dn, changes)
        self._written("modify", dn)

    def modify_dn(self, dn: str, new_rdn: str, *, delete_old_rdn: bool = True,
                  new_superior: str | None = None) -> str:
        self._writing()
        new = self.inner.modify_dn(dn, new_rdn, delete_old_rdn=delete_old_rdn,
                                   new_superior=new_superior)
        self._written("rename", dn, new)
        return new

    def load(self, records: Iterable[object], *, source: str = "<entries>") -> int:
        """Entries and LDIF records one by one through :meth:`add` and the other writes (so
        each is logged or refused like a client's write)."""
        from ..ldif import Record

        count = 0
        for rec in records:
            count += 1
            if isinstance(rec, Entry):
                self.add(rec)
            elif isinstance(rec, Record):
                self._writing()
                self.inner.apply(rec, source=source)
                kind = rec.changetype or "add"
                new = None
                if kind in ("modrdn", "moddn") and rec.newrdn is not None:
                    kind = "rename"
                    parent = rec.newsuperior if rec.newsuperior is not None else \
                        (dnlib.parent(rec.dn) or "")
                    new = dnlib.join(rec.newrdn, parent) if parent else rec.newrdn
                self._written(kind, rec.dn, new)
            else:
                raise TypeError(f"cannot load {type(rec).__name__}: give Entry or ldif.Record")
        return count


class _Provider(_Side):
    """The provider: every write is logged with a CSN, as syncprov would."""

    def _written(self, kind: str, dn: str, new_dn: str | None = None) -> None:
        entry = None
        target = new_dn or dn
        if kind != "delete" and target in self.inner:
            entry = self.inner.get(target)
        self.lab._logged(kind, dn, entry, new_dn)


class _Consumer(_Side):
    """The consumer: delivered changes are applied before any read (``len`` and ``in``
    too); clients' writes are refused, as slapd's consumer refuses them (result 53)."""

    def _reading(self) -> None:
        self.lab._deliver()

    def _writing(self) -> None:
        raise OperationError("shadow context; no update referral: this consumer is a "
                             "read-only replica, write on the provider",
                             result="unwillingToPerform", code=53)


class EmbeddedReplicationLab(_Lab):
    """A simulated provider and consumer: two embedded directories and a change log.

    Every write on the provider is logged with a CSN (like slapd's syncprov); the consumer
    applies logged changes, in order, once ``latency`` seconds have passed and only while the
    link is up (like syncrepl's refreshAndPersist).  Entries are sent whole, as syncrepl sends
    them.  The API is :class:`ReplicationLab`'s.

    Parameters
    ----------
    source
        A bundled fixture name, an LDIF path or LDIF text.
    latency
        Simulated seconds between a write on the provider and its arrival.

    Examples
    --------
    >>> lab = EmbeddedReplicationLab("tiny", latency=0)
    >>> dn = "uid=bob,ou=People,dc=example,dc=com"
    >>> lab.cut(); lab.write(dn, {"title": "CTO"})
    >>> lab.read(dn).first("title"), lab.replicated(dn)
    ('System Administrator', False)
    >>> lab.restore(); lab.read(dn).first("title"), lab.replicated(dn)
    ('CTO', True)
    """

    kind = "embedded"

    def __init__(self, source: str | os.PathLike[str] = "tiny", *, latency: float = 0.05
                 ) -> None:
        from .. import ldif
        from ..directory import Directory

        resolved = _resolve(source)
        if isinstance(resolved, str) and "\n" in resolved:
            import io

            records = list(ldif.read_records(io.StringIO(resolved)))
        else:
            records = list(ldif.read_records(resolved))
        self.latency = latency
        self._clock = _Clock(sid=0)
        self._lock = threading.RLock()
        self._log_records: list[_LogRecord] = []
        self._delivered = 0
        self._link = True
        self._csn: dict[str, dict[str, str]] = {"provider": {}, "consumer": {}}
        self._closed = False

        provider = EmbeddedDirectory(lenient=True)
        provider.load(records, source=str(resolved)[:80])
        consumer = EmbeddedDirectory(lenient=True)
        entries = list(provider.search("", "sub", "(objectClass=*)"))
        self.suffix = _suffix_of(entries)
        loaded = self._clock.next()
        for e in entries:
            self._csn["provider"][self._key(e.dn)] = loaded
        consumer.load(e.copy() for e in entries)  # the initial full copy ("refresh")
        self._csn["consumer"] = dict(self._csn["provider"])
        self._consumer = consumer  # what replication writes to, past the consumer's refusal
        self.provider_directory = Directory(_Provider(provider, self),
                                            name="replication provider")
        self.consumer_directory = Directory(_Consumer(consumer, self),
                                            name="replication consumer")
        self.provider = self.provider_directory.connection()
        # A replica is read-only for clients: _Consumer refuses writes as slapd's consumer does.
        self.consumer = self.consumer_directory.connection()
        self.description = ("a simulation: two embedded directories and a change log "
                            "(slapd with syncrepl is not used)")

    @staticmethod
    def _key(dn: str) -> str:
        from .. import dn as dnlib

        try:
            return dnlib.normalize(dn)
        except LdapnbError:
            return dn.lower()

    # -- the change log ----------------------------------------------------------------------
    def _logged(self, kind: str, dn: str, entry: Entry | None, new_dn: str | None) -> None:
        with self._lock:
            csn = self._clock.next()
            self._log_records.append(_LogRecord(csn, kind, dn, entry, new_dn))
            side = self._csn["provider"]
            if kind == "delete":
                side.pop(self._key(dn), None)
            elif kind == "rename" and new_dn is not None:
                side.pop(self._key(dn), None)
                side[self._key(new_dn)] = csn
            else:
                side[self._key(dn)] = csn

    def _deliver(self) -> None:
        """Apply the logged changes that have arrived (link up, latency passed), in order."""
        with self._lock:
            if not self._link or self._closed:
                return
            now = time.monotonic()
            while self._delivered < len(self._log_records):
                record = self._log_records[self._delivered]
                if now - record.at < self.latency:
                    break
                self._apply(self._consumer, record)
                self._delivered += 1

    def _apply(self, consumer: EmbeddedDirectory, record: _LogRecord) -> None:
        csns = self._csn["consumer"]
        key = self._key(record.dn)
        if record.kind == "delete":
            if record.dn in consumer:
                consumer.delete(record.dn)
            csns.pop(key, None)
        elif record.kind == "rename" and record.new_dn is not None:
            if record.dn in consumer and record.entry is not None:
                from .. import dn as dnlib

                rdn = dnlib.rdn(record.new_dn)
                parent = dnlib.parent(record.new_dn)
                consumer.modify_dn(record.dn, rdn, new_superior=parent)
                self._replace(consumer, record.entry)
            csns.pop(key, None)
            csns[self._key(record.new_dn)] = record.csn
        elif record.entry is not None:
            if record.dn in consumer:
                self._replace(consumer, record.entry)
            else:
                consumer.add(record.entry.copy(), new_root=True)
            csns[key] = record.csn

    @staticmethod
    def _replace(consumer: EmbeddedDirectory, entry: Entry) -> None:
        current = consumer.get(entry.dn)
        changes = [Change("replace", name, list(values)) for name, values in entry.items()]
        changes += [Change("replace", name, []) for name in current if name not in entry]
        consumer.modify(entry.dn, changes)

    # -- the link ----------------------------------------------------------------------------
    @property
    def link_up(self) -> bool:
        return self._link

    def cut(self) -> None:
        """Cut the link: nothing reaches the consumer until :meth:`restore`."""
        with self._lock:
            self._link = False

    def restore(self) -> None:
        """Restore the link: the consumer catches up with every change logged meanwhile."""
        with self._lock:
            self._link = True
        self._deliver()

    @property
    def changelog(self) -> list[dict[str, Any]]:
        """The provider's change log: CSN, kind (add/modify/delete/rename), DN, delivered."""
        with self._lock:
            return [{"csn": r.csn, "kind": r.kind, "dn": r.dn, "new_dn": r.new_dn,
                     "delivered": i < self._delivered}
                    for i, r in enumerate(self._log_records)]

    # -- CSNs --------------------------------------------------------------------------------
    def entry_csn(self, dn: str, side: str = "consumer") -> str | None:
        self._conn(side)  # validates side
        if side == "consumer":
            self._deliver()
        with self._lock:
            return self._csn[side].get(self._key(dn))

    def context_csn(self) -> dict[str, str | None]:
        self._deliver()
        with self._lock:
            return {side: max(self._csn[side].values(), default=None) for side in _SIDES}

    def close(self) -> None:
        self._closed = True


def replication_lab(source: str | os.PathLike[str] = "tiny", *, prefer: str = "slapd",
                    announce: bool = True, latency: float = 0.05, retry: int = 1,
                    timeout: float = 15.0, schemas: Sequence[str] | None = None,
                    check_schema: bool = True) -> ReplicationLab | EmbeddedReplicationLab:
    """A replication lab: real slapd when it can run here, else the embedded simulation.

    Parameters
    ----------
    source
        A bundled fixture name, an LDIF path or LDIF text.
    prefer
        ``"slapd"`` (real servers when possible) or ``"embedded"`` (always the simulation).
    announce
        Print one line saying which lab is used and why.
    latency
        The simulation's delay (seconds) between a write and its arrival (see
        :class:`EmbeddedReplicationLab`); real servers take the time they take.
    retry, timeout, schemas, check_schema
        The real lab's options (see :class:`ReplicationLab`); the simulation needs none.
        Any other keyword is a ``TypeError``, as for any function.

    Returns
    -------
    ReplicationLab or EmbeddedReplicationLab
        ``lab.kind`` is ``"slapd"`` or ``"embedded"``; ``lab.description`` says what runs.

    Examples
    --------
    >>> lab = replication_lab("tiny", prefer="embedded", announce=False, latency=0)
    >>> lab.kind, lab.latency
    ('embedded', 0)
    """
    if prefer not in ("slapd", "embedded"):
        raise LdapnbError(f"prefer must be 'slapd' or 'embedded', not {prefer!r}")
    lab: ReplicationLab | EmbeddedReplicationLab
    ok, why = slapd_can_replicate()
    if prefer == "slapd" and ok:
        lab = ReplicationLab(source, retry=retry, timeout=timeout, schemas=schemas,
                             check_schema=check_schema)
        reason = why
    else:
        lab = EmbeddedReplicationLab(source, latency=latency)
        reason = why if prefer == "slapd" else "the simulation was asked for"
    if announce:
        print(f"Replication lab: {lab.description} ({reason}).")
    return lab

