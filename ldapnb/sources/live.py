"""Live LDAP servers over ldap3: URLs, TLS, binds, paged searches, range retrieval, limits.

:class:`LiveSource` is the :class:`~ldapnb.sources.base.Source` for a real server::

    source = LiveSource("ldaps://dc1.example.org", user="CONTOSO\\\\auditor", password=pw,
                        ca_file="corp-ca.pem")
    for entry in source.search("dc=contoso,dc=com", "sub", "(objectClass=user)"): ...

What it does for a student or an auditor, and why:

* **TLS is verified.**  ``ldaps://`` (636) and StartTLS (``start_tls=True`` on ``ldap://``)
  check the certificate chain against ``ca_file`` (or the system's trusted CAs) and the host
  name against the certificate's subjectAltName, IP addresses included.  The name check is
  done here with the standard library, the same way on Python 3.11-3.13 (ldap3 2.9.1 relies
  on ``ssl.match_hostname``, deprecated and then removed in 3.12, where its fallback rejects
  IP addresses).  A failure is a :class:`~ldapnb.errors.TlsError` saying which problem it is.
* **No password in clear.**  A simple bind with a password over plain ``ldap://`` without
  StartTLS is refused before anything is sent, unless ``allow_cleartext=True``.
* **Read-only by default.**  Writes raise :class:`~ldapnb.errors.ReadOnlyError` before
  anything is sent unless ``writable=True``.
* **Streams.**  Searches use the paged results control (RFC 2696) and yield page by page;
  Active Directory's range retrieval (``member;range=0-1499``) is completed into the full
  value list (:func:`complete_ranges`).
* **Never a short answer as if complete.**  Size and time limits raise
  :class:`~ldapnb.errors.LimitExceeded` naming how many entries came back; a server that goes
  away mid-search raises :class:`~ldapnb.errors.DirectoryUnavailable`; referrals are reported
  (:attr:`LiveSource.referrals` and a warning), never followed silently.
* **ldapnb's errors only.**  Every ldap3 exception is re-raised as one of
  :mod:`ldapnb.errors` (``raise ... from exc``); passwords never appear in a repr or message.
"""

from __future__ import annotations

import errno
import hashlib
import importlib.util
import math
import os
import re
import socket
import ssl
import weakref
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from .. import filters as flt
from .. import oids
from ..entry import Entry, Value
from ..errors import (
    ArgumentError,
    BindError,
    DirectoryUnavailable,
    EntryAlreadyExists,
    LdapnbError,
    LimitExceeded,
    NoSuchEntry,
    OperationError,
    ReadOnlyError,
    TlsError,
)
from ..results import bind_message, error_for_result
from ..tls import certificate_names, name_matches
from ._budget import DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_SEARCH_TIMEOUT, Budget
from .base import scope_name, scope_number

if TYPE_CHECKING:
    import ldap3

    from ..schema import Schema
    from ._fastsearch import RawPage

__all__ = [
    "LiveSource",
    "complete_ranges",
    "certificate_names",
    "name_matches",
    "md4_available",
]

_PAGED = oids.PAGED_RESULTS
_DEFAULT_PORTS = {"ldap": 389, "ldaps": 636}
_AUTHENTICATIONS = ("anonymous", "simple", "sasl", "ntlm")
# =============================================================================================
# small public helpers
# =============================================================================================
class _Secret:
    """A password holder whose repr never shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str | None):
        self._value = value

    def get(self) -> str | None:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "********" if self._value else "None"


def md4_available() -> bool:
    """True when an MD4 hash (needed by NTLM) can be computed here.

    OpenSSL 3 disables MD4 unless its legacy provider is loaded; ldap3 then falls back to
    pycryptodome's ``Crypto.Hash.MD4`` when that package is installed.

    Examples
    --------
    >>> isinstance(md4_available(), bool)
    True
    """
    try:
        hashlib.new("md4", b"")
        return True
    except ValueError:
        return importlib.util.find_spec("Crypto") is not None and \
            importlib.util.find_spec("Crypto.Hash.MD4") is not None


# =============================================================================================
# pages: the one place a search meets the wire
# =============================================================================================
def _fetch_pages(conn: ldap3.Connection, base: str, scope: str, filter: str,
                 attributes: list[str], *, page_size: int, size_limit: int,
                 time_limit: int) -> Iterator[RawPage]:
    """The one place a search meets the wire: :func:`ldapnb.sources._fastsearch.raw_search`
    (pages of raw bytes read straight from the socket, ldap3's own paged search when that
    fast path cannot be used).  Raises ldapnb's errors (``LimitExceeded``, ``NoSuchEntry``,
    ``DirectoryUnavailable``, ``OperationError``)."""
    from ._fastsearch import raw_search

    return raw_search(conn, base, scope, filter, attributes, page_size=page_size,
                      size_limit=size_limit, time_limit=time_limit)


# =============================================================================================
# AD range retrieval
# =============================================================================================
def _range_option(name: str) -> tuple[str, int, int | None] | None:
    """``member;range=0-1499`` -> ``("member", 0, 1499)``; ``;range=1500-*`` -> end None."""
    parts = name.split(";")
    for i, opt in enumerate(parts[1:], 1):
        if opt.lower().startswith("range="):
            lo, _, hi = opt[6:].partition("-")
            if lo.isdigit() and (hi == "*" or hi.isdigit()):
                return (";".join(parts[:i] + parts[i + 1:]), int(lo),
                        None if hi == "*" else int(hi))
    return None


def complete_ranges(conn: ldap3.Connection, dn: str,
                    attributes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Active Directory's range retrieval, completed: every ``name;range=lo-hi`` in
    ``attributes`` (as an entry came back) is replaced by ``name`` with the full value list.

    AD returns at most MaxValRange (1500) values of an attribute per search, under a name such
    as ``member;range=0-1499``; the client asks for ``member;range=1500-*`` and so on until a
    range ends in ``*``.  This asks ``conn`` (an ldap3 Connection) for the rest, one base search
    per range.

    Parameters
    ----------
    conn : ldap3.Connection
        Open and bound; raw values are read (``raw_attributes``).
    dn : str
        The entry the attributes belong to.
    attributes : dict
        Attribute name -> values, as returned.

    Returns
    -------
    dict
        The same mapping with each ranged attribute under its plain name.

    Raises
    ------
    OperationError
        The server stopped answering the ranges consistently.
    DirectoryUnavailable
        The connection was lost.

    Examples
    --------
    >>> from ldapnb import Directory
    >>> d = Directory.embedded("contoso")
    >>> conn = d.connection(max_val_range=2)
    >>> group = d.search("(member=*)", attributes=["member"]).iloc[0]
    >>> _ = conn.search(group.dn, "(objectClass=*)", "BASE", attributes=["member"])
    >>> first = dict(conn.response[0]["raw_attributes"])
    >>> full = complete_ranges(conn, group.dn, first)
    >>> len(full["member"]) == len(group.member), list(full)
    (True, ['member'])
    """
    from ldap3 import BASE

    out: dict[str, list[Any]] = {}
    for name, values in attributes.items():
        parsed = _range_option(name)
        if parsed is None:
            out.setdefault(name, [])
            out[name] = [*out[name], *values] if out[name] else list(values)
            continue
        plain, lo, hi = parsed
        collected = list(values)
        expected_lo = lo
        while hi is not None:
            start = hi + 1
            try:
                conn.search(dn, "(objectClass=*)", search_scope=BASE,
                            attributes=[f"{plain};range={start}-*"])
            except Exception as exc:  # noqa: BLE001 - every ldap3 error becomes an ldapnb one
                raise _communication_error(exc, None, None,
                                           f"reading {plain!r} of {dn!r} in ranges") from exc
            got = None
            for item in conn.response or ():
                if item.get("type") == "searchResEntry":
                    for key, more in item["raw_attributes"].items():
                        r = _range_option(key)
                        if r is not None and r[0].lower() == plain.lower():
                            got = (r, more)
            if got is None:
                result = conn.result or {}
                if result.get("result", 0) != 0:
                    raise OperationError(
                        f"reading {plain!r} of {dn!r} from value {start} on: "
                        f"{result.get('description')} {result.get('message', '')}".strip(),
                        result=str(result.get("description")), code=result.get("result"))
                break  # no values left
            (_, new_lo, new_hi), more = got
            if new_lo != start or (new_hi is not None and new_hi < new_lo):
                raise OperationError(
                    f"reading {plain!r} of {dn!r}: asked for values from {start} on, the server "
                    f"answered range {new_lo}-{'*' if new_hi is None else new_hi}",
                    result="protocolError", code=2)
            collected.extend(more)
            hi = new_hi
            expected_lo = new_lo
        del expected_lo
        out[plain] = [*out.get(plain, []), *collected]
    return out


def _assemble_ranges(conn: ldap3.Connection, page: RawPage,
                     explicit: dict[str, str] | None = None) -> RawPage:
    """Complete every ranged attribute of ``page``, except those the search asked for with
    an explicit range (``explicit``: plain name, lower-case -> the name as asked): those keep
    the values of the range the server answered, under the name asked for."""
    ranged = [name for name in page.columns if _range_option(name) is not None]
    if not ranged:
        return page
    plain_names = {n.lower(): n for n in page.columns if _range_option(n) is None}
    n = len(page.dns)
    for name in ranged:
        col = page.columns.pop(name)
        plain = _range_option(name)[0]  # type: ignore[index]
        if explicit and plain.lower() in explicit:
            asked = page.columns.setdefault(explicit[plain.lower()], [()] * n)
            for i, values in enumerate(col):
                if values:
                    asked[i] = [*asked[i], *values]
            continue
        target_name = plain_names.setdefault(plain.lower(), plain)
        target = page.columns.setdefault(target_name, [()] * n)
        for i, values in enumerate(col):
            if values:
                target[i] = complete_ranges(conn, page.dns[i], {name: values})[plain]
    return page


# =============================================================================================
# errors
# =============================================================================================
def _communication_error(exc: BaseException, host: str | None, port: int | None,
                         doing: str) -> LdapnbError:
    """The ldapnb error for an ldap3 communication failure (or pass an ldapnb error on)."""
    if isinstance(exc, LdapnbError):
        return exc
    where = f"{host}:{port}" if host else "the server"
    text = str(exc)
    low = text.lower()
    if isinstance(exc, socket.timeout | TimeoutError) or "timed out" in low \
            or "timeout" in type(exc).__name__.lower():
        return DirectoryUnavailable(
            f"no answer from {where} in time while {doing}: the server may be overloaded, or a "
            f"firewall drops the packets; raise timeout= if the server is just slow",
            host=host, port=port)
    return DirectoryUnavailable(
        f"the connection to {where} was lost while {doing} ({text}); is the server still "
        f"running?", host=host, port=port)


def _result_error(result: dict[str, Any], doing: str, *, dn: str | None = None,
                  naming_contexts: tuple[str, ...] = ()) -> LdapnbError:
    """The ldapnb error for a non-success LDAP result of a write, a read or a bind (ldap3's
    ``conn.result``), from the one table in :mod:`ldapnb.results`."""
    code = result.get("result")
    return error_for_result(code if isinstance(code, int) else None,
                            result.get("message") or "", doing=doing, dn=dn,
                            matched=result.get("dn") or None,
                            referrals=result.get("referrals") or (),
                            naming_contexts=naming_contexts)


_VERB = {"adding": "add", "modifying": "modify", "deleting": "delete", "renaming": "rename"}
#: The extensible matching rules Active Directory documents (MS-ADTS 3.1.1.3.4.4):
#: bitwise AND, bitwise OR, in-chain (transitive), DN-binary.
_AD_MATCHING_RULES = (oids.BIT_AND, oids.BIT_OR, oids.IN_CHAIN, oids.DN_WITH_DATA)
_NAME_IN_DEFINITION = re.compile(r"'([^']+)'")


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _is_active_directory(root_dse: Entry) -> bool:
    caps = {str(v) for v in root_dse.get("supportedCapabilities", [])}
    return oids.AD_CAPABILITY in caps


def _extensible_rules(f: Any) -> list[str]:
    """The matching rules named by extensible matches anywhere in a parsed filter."""
    out: list[str] = []
    if isinstance(f, flt.Extensible):
        if f.rule:
            out.append(f.rule)
    elif isinstance(f, flt.And | flt.Or):
        for child in f.children:
            out.extend(_extensible_rules(child))
    elif isinstance(f, flt.Not):
        out.extend(_extensible_rules(f.child))
    return out


_NTLM_DROPPED = (
    "the NTLM bind to {where} failed ({exc}): ldap3's NTLM bind is Microsoft's 'Sicily' "
    "protocol, which Windows implements but Samba's AD DC does not: Samba closes the "
    "connection (ldap3 issues #663 and #836). Bind another way: a simple bind over ldaps:// "
    "(or StartTLS) with user='DOMAIN\\name' or 'name@realm', or Kerberos "
    "(sasl_mechanism='GSSAPI')")


def _gssapi_error(exc: BaseException, host: str) -> BindError:
    """A BindError saying what to fix, for an error raised by the ``gssapi`` package."""
    text = str(exc)
    low = text.lower()
    ccache = os.environ.get("KRB5CCNAME", "the default credential cache")
    if "no kerberos credentials" in low or "no credentials cache" in low \
            or "credentials cache" in low and "not found" in low:
        hint = (f"there is no Kerberos ticket in {ccache}: get one first with `kinit "
                "user@REALM` (with the same KRB5_CONFIG and KRB5CCNAME as this process)")
    elif "server not found in kerberos database" in low:
        hint = (f"the KDC knows no service 'ldap/{host}': Kerberos needs the server's host "
                "name as registered in the domain (not an IP address or an alias); pass "
                "kerberos_host='dc1.example.com'")
    elif "cannot find kdc" in low or "cannot contact any kdc" in low \
            or "cannot resolve" in low:
        hint = ("no KDC for that realm: a wrong realm (the ticket's realm, or default_realm "
                "in KRB5_CONFIG, must be the domain's, e.g. CONTOSO.COM), or the KDC is "
                "unreachable (check [realms] kdc in KRB5_CONFIG)")
    elif "expired" in low:
        hint = "the Kerberos ticket has expired: run kinit again"
    elif "clock skew" in low:
        hint = "the clocks of this machine and the KDC differ by more than 5 minutes"
    else:
        hint = "see the GSSAPI message; `klist` shows the tickets this process would use"
    return BindError(f"the Kerberos (GSSAPI) bind failed: {hint}. GSSAPI said: {text}")


# =============================================================================================
# the source
# =============================================================================================
class LiveSource:
    """A live LDAP server, read (and written, with ``writable=True``) over ldap3.

    Parameters
    ----------
    url : str
        ``ldap://host[:port]`` (389) or ``ldaps://host[:port]`` (636); a path is taken as
        the default search base (``ldap://host/dc=example,dc=org``).
    user, password : str, optional
        Who to bind as.  For a simple bind: a DN, or what the server accepts (Active
        Directory: ``DOMAIN\\\\user`` or ``user@domain``).  No user: anonymous.
    start_tls : bool
        Upgrade ``ldap://`` with StartTLS before binding.
    ca_file : str or path-like, optional
        PEM file of the CA(s) to trust; the system's trusted CAs when None.
    tls_server_name : str, optional
        The name the certificate must be valid for, when it is not the URL's host (e.g.
        connecting by IP address to a server whose certificate names its DNS name).
    verify : bool
        Verify the certificate (default).  ``False`` is for lessons about what goes wrong:
        it is noted in :attr:`warnings`.
    allow_cleartext : bool
        Allow a simple bind with a password over plain ``ldap://`` without StartTLS.
    writable : bool
        Allow writes (``add``, ``modify``, ``delete``, ``modify_dn``).
    sasl_mechanism : str, optional
        ``"EXTERNAL"`` (TLS client certificate: ``client_cert``/``client_key``),
        ``"DIGEST-MD5"`` or ``"GSSAPI"`` (Kerberos, needs the optional ``gssapi`` package).
    authentication : str, optional
        ``"anonymous"``, ``"simple"``, ``"sasl"`` or ``"ntlm"`` (Active Directory; needs MD4);
        inferred from the other arguments when None.
    timeout : float
        Seconds for connecting, and for each message of an answer to be complete (a bind's
        result, each entry of a search): a limit on the whole message, not only on each read
        from the socket, so a server trickling bytes is stopped.
    page_size : int
        Entries per page of a paged search (RFC 2696); 0 turns paging off.
    client_cert, client_key : str, optional
        A TLS client certificate and its key (for SASL EXTERNAL).
    search_timeout : float or None
        Seconds one whole search (all its pages) may take; time the caller spends between
        pages does not count.  None: no limit.  Default 3600.
    max_message_size : int
        The most bytes one LDAP message from the server may declare (default 256 MiB, room
        for the biggest real entries; see :mod:`ldapnb.sources._budget`).  A bigger
        declaration is refused before it is read.
    kerberos_host : str, optional
        For GSSAPI: the server's host name as Kerberos knows it (the service is
        ``ldap/<kerberos_host>``), when the URL names it by IP address or an alias.  Nothing
        is looked up in DNS: the name is used as given.

    Raises
    ------
    BindError
        Refused credentials, a mechanism the server does not offer or this machine cannot do,
        or a cleartext password refused locally (nothing was sent).
    TlsError
        An untrusted certificate or a name mismatch (the message says which).
    DirectoryUnavailable
        Nothing answers at the host and port (the message says where and what to check).
    """

    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        password: str | None = None,
        start_tls: bool = False,
        ca_file: str | os.PathLike[str] | None = None,
        tls_server_name: str | None = None,
        verify: bool = True,
        allow_cleartext: bool = False,
        writable: bool = False,
        sasl_mechanism: str | None = None,
        authentication: str | None = None,
        timeout: float = 10,
        page_size: int = 1000,
        client_cert: str | os.PathLike[str] | None = None,
        client_key: str | os.PathLike[str] | None = None,
        search_timeout: float | None = DEFAULT_SEARCH_TIMEOUT,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        kerberos_host: str | None = None,
    ) -> None:
        self.url = url
        self.kerberos_host = kerberos_host
        self.scheme, self.host, self.port, self.url_base = _parse_url(url)
        self.user = user
        self._password = _Secret(password)
        self.start_tls = bool(start_tls)
        self.ca_file = os.fspath(ca_file) if ca_file is not None else None
        self.tls_server_name = tls_server_name or self.host
        self.verify = verify
        self.allow_cleartext = allow_cleartext
        self.writable = writable
        self.sasl_mechanism = sasl_mechanism.upper() if sasl_mechanism else None
        self.authentication = self._authentication(authentication)
        if not timeout or timeout <= 0:
            raise DirectoryUnavailable(f"timeout must be a positive number of seconds, not "
                                       f"{timeout!r}")
        if search_timeout is not None and search_timeout <= 0:
            raise DirectoryUnavailable(f"search_timeout must be a positive number of seconds "
                                       f"(or None: no limit), not {search_timeout!r}")
        if max_message_size < 1024:
            raise DirectoryUnavailable(f"max_message_size must be at least 1024 bytes, not "
                                       f"{max_message_size!r}")
        self.timeout = timeout
        self.search_timeout = search_timeout
        self.max_message_size = max_message_size
        if page_size < 0:
            raise ValueError("page_size must be 0 (no paging) or more")
        self.page_size = page_size
        self.client_cert = os.fspath(client_cert) if client_cert is not None else None
        self.client_key = os.fspath(client_key) if client_key is not None else None
        #: Problems worth knowing (unverified TLS, a schema that could not be read ...).
        self.warnings: list[str] = []
        #: Referrals (continuation references) met by the last search, not followed.
        self.referrals: list[str] = []
        self._schema: Schema | None = None
        self._matching_rules: frozenset[str] | None = None
        self._root_dse: Entry | None = None
        self._tls: Any = None
        if self.start_tls and self.scheme == "ldaps":
            raise TlsError("start_tls=True is for ldap:// URLs: ldaps:// is TLS from the start")
        if self.ca_file is not None and not Path(self.ca_file).is_file():
            raise TlsError(f"no CA file {self.ca_file!r}")
        if not verify:
            self.warnings.append("TLS certificates are NOT verified (verify=False): anyone "
                                 "between you and the server could read and change the traffic")
        self._check_before_sending()
        self._conn: ldap3.Connection | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._side: ldap3.Connection | None = None
        self._busy: set[int] = set()  # connections a paged search is streaming on
        self._side_finalizer: weakref.finalize[Any, Any] | None = None
        self._open()

    def _open(self) -> ldap3.Connection:
        """Connect and bind; the connection is closed when this source is garbage-collected."""
        self.close()
        conn = self._connect(self.user, self._password, self.authentication)
        self._conn = conn
        self._finalizer = weakref.finalize(self, _quietly_close, conn)
        return conn

    # -- what it is --------------------------------------------------------------------------
    #: A server over the network (see :class:`ldapnb.sources.base.Source`).
    is_live = True

    @property
    def encrypted(self) -> bool:
        """True when the connection is TLS (``ldaps://`` or StartTLS)."""
        return self.scheme == "ldaps" or self.start_tls

    @property
    def urls(self) -> dict[str, str]:
        return {self.scheme: f"{self.scheme}://{_host_for_url(self.host)}:{self.port}"}

    def __repr__(self) -> str:
        tls = "ldaps" if self.scheme == "ldaps" else "StartTLS" if self.start_tls else "no TLS"
        who = self.user if self.user else "anonymous"
        mech = self.sasl_mechanism or self.authentication
        state = "closed" if self._conn is None or self._conn.closed else "open"
        return (f"<LiveSource {self.scheme}://{_host_for_url(self.host)}:{self.port} {tls}, "
                f"bound as {who!r} ({mech}), {'writable' if self.writable else 'read-only'}, "
                f"{state}>")

    def close(self) -> None:
        """Unbind and close the connection (searching again reconnects)."""
        for finalizer in (self._finalizer, self._side_finalizer):
            if finalizer is not None:
                finalizer()  # unbinds once
        self._finalizer = self._side_finalizer = None
        self._conn = self._side = None

    def __enter__(self) -> LiveSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the checks made before anything is sent ---------------------------------------------
    def _authentication(self, given: str | None) -> str:
        if given is not None:
            auth = given.lower()
            if auth == "kerberos":
                self.sasl_mechanism, auth = "GSSAPI", "sasl"
            if auth not in _AUTHENTICATIONS:
                raise BindError(f"unknown authentication {given!r}: use one of "
                                f"{', '.join(_AUTHENTICATIONS)} (or sasl_mechanism=...)")
            if auth == "sasl" and not self.sasl_mechanism:
                raise BindError("authentication='sasl' needs sasl_mechanism= ('EXTERNAL', "
                                "'DIGEST-MD5' or 'GSSAPI')")
            return auth
        if self.sasl_mechanism:
            return "sasl"
        if self.user is not None or self._password:
            return "simple"
        return "anonymous"

    def _check_before_sending(self) -> None:
        auth, mech = self.authentication, self.sasl_mechanism
        if auth == "simple":
            if not self.user or not self._password:
                raise BindError(
                    "a simple bind needs both user= and password=: a user with an empty "
                    "password is an 'unauthenticated bind', which servers treat as anonymous "
                    "(or refuse)")
            if not self.encrypted and not self.allow_cleartext:
                raise BindError(
                    f"refusing to send a password over plain ldap:// to {self.host}:"
                    f"{self.port}: a simple bind sends it as it is, so anyone on the network "
                    "path could read it. Use ldaps:// (port 636) or start_tls=True, or pass "
                    "allow_cleartext=True if you understand the risk (a lab on loopback). "
                    "Nothing was sent.")
        elif auth == "ntlm":
            if not self.user or "\\" not in self.user or not self._password:
                raise BindError("an NTLM bind needs user='DOMAIN\\\\name' and password=")
            if not md4_available():
                raise BindError(
                    f"NTLM needs the MD4 hash, which this machine's OpenSSL "
                    f"({ssl.OPENSSL_VERSION}) disables (OpenSSL 3 keeps it in its 'legacy' "
                    "provider). Install pycryptodome (pip install pycryptodome), which ldap3 "
                    "uses instead, or bind another way: a simple bind over ldaps:// accepts "
                    "user='DOMAIN\\\\name' on Active Directory, or Kerberos "
                    "(authentication='kerberos'). Nothing was sent.")
        elif auth == "sasl":
            if mech == "GSSAPI" and importlib.util.find_spec("gssapi") is None:
                raise BindError(
                    "Kerberos (SASL GSSAPI) needs the optional package 'gssapi': "
                    "pip install 'ldapnb[kerberos]' (it builds against MIT Kerberos: on Debian "
                    "`apt-get install libkrb5-dev`), then `kinit user@REALM`. Nothing was sent.")
            if mech == "GSSAPI" and not self.kerberos_host and _is_ip(self.host):
                raise BindError(
                    f"Kerberos names the LDAP service by host name (ldap/<host>), but this URL "
                    f"names the server by IP address ({self.host}): the KDC knows no "
                    f"'ldap/{self.host}'. Pass kerberos_host='dc1.example.com' (the DC's DNS "
                    "name) or connect by that name. Nothing was sent.")
            if mech == "EXTERNAL" and not self.client_cert:
                raise BindError(
                    "SASL EXTERNAL proves who you are with a TLS client certificate: pass "
                    "client_cert= and client_key= (and use ldaps:// or start_tls=True)")
            if mech == "DIGEST-MD5" and (not self.user or not self._password):
                raise BindError("a DIGEST-MD5 bind needs user= and password=")
            if mech not in ("EXTERNAL", "DIGEST-MD5", "GSSAPI"):
                raise BindError(f"SASL mechanism {mech!r} is not supported by ldapnb: use "
                                "EXTERNAL, DIGEST-MD5 or GSSAPI")

    # -- connecting --------------------------------------------------------------------------
    def _new_tls(self) -> Any:
        from ._ldap3 import checked_tls

        return checked_tls(host=self.host, port=self.port, ca_file=self.ca_file,
                           server_name=self.tls_server_name, verify=self.verify,
                           client_cert=self.client_cert, client_key=self.client_key)

    def _resolve(self) -> None:
        try:
            socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise DirectoryUnavailable(
                f"cannot resolve the host name {self.host!r} ({exc.strerror}): check its "
                "spelling, your DNS server, or use an IP address", host=self.host,
                port=self.port) from exc

    def _connect(self, user: str | None, password: _Secret, auth: str) -> ldap3.Connection:
        import ldap3
        from ldap3.core.exceptions import LDAPException

        self._resolve()
        tls = self._new_tls() if self.encrypted else None
        self._tls = tls
        server = ldap3.Server(self.host, port=self.port, use_ssl=self.scheme == "ldaps",
                              tls=tls, get_info=ldap3.NONE, connect_timeout=self.timeout)
        options: dict[str, Any] = {}
        if auth == "simple":
            options = {"user": user, "password": password.get(),
                       "authentication": ldap3.SIMPLE}
        elif auth == "ntlm":
            options = {"user": user, "password": password.get(), "authentication": ldap3.NTLM}
        elif auth == "sasl":
            creds: Any = None
            if self.sasl_mechanism == "DIGEST-MD5":
                creds = (None, user, password.get(), None)
            elif self.sasl_mechanism == "GSSAPI":
                creds = (self.kerberos_host, None, None) if user is None else \
                    (self.kerberos_host, user, None)
            options = {"authentication": ldap3.SASL, "sasl_mechanism": self.sasl_mechanism,
                       "sasl_credentials": creds}
        from ._ldap3 import SafeConnection

        conn = SafeConnection(server, read_only=not self.writable, auto_referrals=False,
                              auto_range=False, receive_timeout=_seconds(self.timeout),
                              raise_exceptions=False, check_names=False,
                              return_empty_attributes=False, **options)
        self._guard(conn)
        step = "connecting"
        try:
            conn.open(read_server_info=False)
            if self.start_tls:
                step = "starting TLS"
                conn.start_tls(read_server_info=False)
            if auth == "sasl":
                step = "reading the server's SASL mechanisms"
                self._check_mechanism(conn)
            if auth != "anonymous":
                step = "binding"
                if not conn.bind(read_server_info=False):
                    result = conn.result or {}
                    code = result.get("result")
                    if code == 49:
                        raise BindError(bind_message(result.get("message") or "", user), code=49)
                    raise BindError(
                        f"the server refused the {self.sasl_mechanism or auth} bind as "
                        f"{user!r}: {result.get('description')} "
                        f"{(result.get('message') or '').strip()}".rstrip())
        except LdapnbError:
            _quietly_close(conn)
            raise
        except (LDAPException, OSError, RecursionError, TypeError, ValueError, IndexError,
                KeyError) as exc:  # the last ones: a malformed answer ldap3 could not decode
            _quietly_close(conn)
            if auth == "ntlm" and step == "binding":
                raise BindError(_NTLM_DROPPED.format(where=f"{self.host}:{self.port}",
                                                     exc=exc)) from exc
            raise self._connect_error(exc, step) from exc
        except Exception as exc:
            _quietly_close(conn)
            if type(exc).__module__.startswith("gssapi"):
                raise _gssapi_error(exc, self.kerberos_host or self.host) from exc
            raise
        finally:
            # ldap3 keeps the password on the Connection (and in conn.request): drop it.
            conn.forget_secrets()
            conn.sasl_credentials = None  # type: ignore[assignment]
        return conn

    def _guard(self, conn: ldap3.Connection) -> None:
        """Every answer on ``conn`` within this source's limits (see ``_budget``)."""
        from ._ldap3 import guard

        guard(conn, Budget(self.host, self.port, timeout=self.timeout,
                           search_timeout=self.search_timeout,
                           max_message_size=self.max_message_size))

    def _check_mechanism(self, conn: ldap3.Connection) -> None:
        from ldap3 import BASE

        conn.search("", "(objectClass=*)", search_scope=BASE,
                    attributes=["supportedSASLMechanisms"])
        offered: list[str] = []
        for item in conn.response or ():
            if item.get("type") == "searchResEntry":
                for key, values in item["raw_attributes"].items():
                    if key.lower() == "supportedsaslmechanisms":
                        offered = [v.decode("utf-8", "replace").upper() for v in values]
        if offered and self.sasl_mechanism not in offered:
            raise BindError(
                f"the server does not offer SASL {self.sasl_mechanism}: its rootDSE lists "
                f"{', '.join(offered)}. Nothing was sent to bind.")
        if not offered and self.sasl_mechanism != "EXTERNAL":
            raise BindError(
                f"the server offers no SASL mechanisms to this client (its rootDSE lists none),"
                f" so SASL {self.sasl_mechanism} cannot work here. Nothing was sent to bind.")

    def _connect_error(self, exc: BaseException, step: str) -> LdapnbError:
        from ldap3.core.exceptions import LDAPStartTLSError

        where = f"{_host_for_url(self.host)}:{self.port}"
        if self._tls is not None and self._tls.failure is not None:
            return self._tls.failure
        causes = _causes(exc)
        if any(isinstance(c, ConnectionRefusedError) for c in causes) or \
                "refused" in str(exc).lower():
            hint = ""
            if self.port == 636:
                hint = " (port 636 closed: the server may not offer LDAPS; try ldap:// with " \
                       "start_tls=True)"
            return DirectoryUnavailable(
                f"nothing listens on {where}: the connection was refused; is the server "
                f"running? a firewall? is the port right?{hint}", host=self.host, port=self.port)
        if any(isinstance(c, socket.timeout | TimeoutError) for c in causes) or \
                "timed out" in str(exc).lower():
            return DirectoryUnavailable(
                f"no answer from {where} within {self.timeout} s while {step}: a firewall may "
                "drop the packets, or the host is down or unreachable", host=self.host,
                port=self.port)
        if any(isinstance(c, OSError) and c.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH)
               for c in causes):
            return DirectoryUnavailable(
                f"{where} is unreachable from this machine (no route): check the network or "
                "VPN", host=self.host, port=self.port)
        if isinstance(exc, LDAPStartTLSError) or step == "starting TLS":
            return TlsError(f"StartTLS with {where} failed: {exc}; the server may not offer "
                            f"it (rootDSE supportedExtension {oids.STARTTLS})")
        if any(isinstance(c, ssl.SSLError) for c in causes):
            return TlsError(f"TLS with {where} failed while {step}: {exc}")
        return _communication_error(exc, self.host, self.port, step)

    def _connection(self) -> ldap3.Connection:
        """The open connection, reconnecting (and binding again) when it was lost."""
        if self._conn is None or self._conn.closed:
            return self._open()
        return self._conn

    def connection(self, user: str | None = None, password: str | None = None, *,
                   writable: bool | None = None, raise_exceptions: bool = False,
                   max_val_range: int | None = None) -> ldap3.Connection:
        """A new ``ldap3.Connection`` to this server with the same TLS settings, bound as
        ``user`` (simple bind) or anonymous; writable when ``writable=True`` (None: as this
        source was opened).  ``max_val_range`` is the embedded directory's imitation of AD's
        ranged values: a server decides that itself, so it is refused here."""
        import ldap3

        if max_val_range is not None:
            raise ArgumentError("max_val_range", "None for a live server (it returns ranged "
                                "values, AD's MaxValRange, as it is configured)",
                                max_val_range)
        if writable is None:
            writable = self.writable

        if user is not None and not isinstance(user, str):
            raise ArgumentError("user", "a bind DN (str) or None", user)
        if password is not None and not isinstance(password, (str, bytes)):
            raise ArgumentError("password", "a str, bytes or None", password, show=False)
        if user is not None and password and not self.encrypted and not self.allow_cleartext:
            raise BindError("refusing to send a password over plain ldap:// (see LiveSource); "
                            "Nothing was sent.")
        tls = self._new_tls() if self.encrypted else None
        server = ldap3.Server(self.host, port=self.port, use_ssl=self.scheme == "ldaps",
                              tls=tls, get_info=ldap3.NONE, connect_timeout=self.timeout)
        from ._ldap3 import SafeConnection

        conn = SafeConnection(server, user=user, password=password, read_only=not writable,
                              auto_referrals=False, receive_timeout=_seconds(self.timeout),
                              raise_exceptions=raise_exceptions)
        self._guard(conn)
        self._tls = tls
        try:
            conn.open(read_server_info=False)
            if self.start_tls:
                conn.start_tls(read_server_info=False)
            if user is not None:
                conn.bind(read_server_info=False)
        except Exception as exc:  # noqa: BLE001 - every ldap3 error becomes an ldapnb one
            _quietly_close(conn)
            raise self._connect_error(exc, "connecting") from exc
        finally:
            conn.forget_secrets()
        return conn

    def whoami(self) -> str:
        """Who this connection is bound as: the server's Who-am-I answer (RFC 4532), in its
        form (``dn:...`` or ``u:DOMAIN\\name``); ``""`` for anonymous.

        Servers without Who-am-I (Samba's AD DC lists no extensions) are answered from what
        the bind proved: the Kerberos principal of the ticket used (GSSAPI), else the user
        the simple bind named, as ``u:<name>``.
        """
        conn = self._free_connection()
        answer: Any = None
        try:
            answer = conn.extend.standard.who_am_i()
        except Exception:  # noqa: BLE001 - not implemented by the server: answered below
            answer = None
        if answer:
            return str(answer)
        if self.authentication == "anonymous":
            return ""
        if self.sasl_mechanism == "GSSAPI":
            import gssapi

            name = gssapi.Credentials(usage="initiate").name
            return f"u:{name}"
        return f"u:{self.user}" if self.user else ""

    def bind(self, dn: str, password: str | bytes) -> str:
        """Check a simple bind on a separate connection; ``dn`` when it works, else
        :class:`BindError`.  A password over plain ldap:// is refused as in the constructor
        (``error.sent`` is False then)."""
        secret = _Secret(password.decode("utf-8") if isinstance(password, bytes) else password)
        if not self.encrypted and not self.allow_cleartext:
            error = BindError("refusing to send a password over plain ldap:// without "
                              "StartTLS (allow_cleartext=False). Nothing was sent.")
            error.sent = False
            raise error
        if not dn or not secret:
            raise BindError("a simple bind needs a DN and a non-empty password")
        conn = self._connect(dn, secret, "simple")
        _quietly_close(conn)
        return dn

    # -- reading -----------------------------------------------------------------------------
    @property
    def root_dse(self) -> Entry:
        """The server's rootDSE (read once; operational attributes included)."""
        if self._root_dse is None:
            entry = self._read_base("", ["*", "+"], "reading the rootDSE")
            self._root_dse = entry if entry is not None else Entry("")
        return self._root_dse

    @property
    def naming_contexts(self) -> tuple[str, ...]:
        return tuple(str(v) for v in self.root_dse.get("namingContexts", []))

    @property
    def default_base(self) -> str | None:
        """The base a search uses when none is given: the URL's path, the rootDSE's
        ``defaultNamingContext`` (Active Directory), or the only naming context."""
        if self.url_base:
            return self.url_base
        default = self.root_dse.first("defaultNamingContext")
        if default:
            return str(default)
        ncs = self.naming_contexts
        return ncs[0] if len(ncs) == 1 else None

    @property
    def schema(self) -> Schema:
        """The server's schema, read from its subschema entry (once)."""
        if self._schema is None:
            self._schema = self._read_schema()
        return self._schema

    def _read_schema(self) -> Schema:
        from ..errors import SchemaError
        from ..schema import Schema, default_schema

        where = str(self.root_dse.first("subschemaSubentry") or "cn=Subschema")
        entry = self._read_base(where, ["attributeTypes", "objectClasses"],
                                "reading the schema", filter="(objectClass=subschema)")
        if entry is None or not entry.get("attributeTypes"):
            self.warnings.append(f"could not read the server's schema at {where!r}: using "
                                 "ldapnb's default schema to type values")
            return default_schema()
        try:
            return Schema.from_definitions([str(v) for v in entry["attributeTypes"]],
                                           [str(v) for v in entry.get("objectClasses", [])])
        except SchemaError as exc:
            self.warnings.append(f"the server's schema could not be read ({exc}): using "
                                 "ldapnb's default schema to type values")
            return default_schema()

    def _read_base(self, dn: str, attributes: list[str], doing: str,
                   filter: str = "(objectClass=*)") -> Entry | None:
        from ldap3 import BASE

        conn = self._free_connection()
        try:
            conn.search(dn, filter, search_scope=BASE, attributes=attributes)
        except Exception as exc:  # noqa: BLE001 - every ldap3 error becomes an ldapnb one
            self.close()
            raise _communication_error(exc, self.host, self.port, doing) from exc
        for item in conn.response or ():
            if item.get("type") == "searchResEntry":
                if dn == "" and item.get("dn"):
                    self.close()
                    raise DirectoryUnavailable(
                        f"{_host_for_url(self.host)}:{self.port} answered a read of the "
                        f"rootDSE with the entry {item.get('dn')!r}, not the rootDSE (whose DN "
                        "is empty): the answer cannot be trusted; the connection was closed",
                        host=self.host, port=self.port)
                return self._entry(item["dn"], item["raw_attributes"], schema=False)
        result = conn.result or {}
        code = result.get("result")
        if isinstance(code, int) and code not in (0, 32, 50):
            # noSuchObject, insufficientAccessRights: no such entry for this user; anything
            # else (busy, unavailable, a referral ...) must not pass for "no entry"
            raise _result_error(result, doing, dn=dn)
        return None

    def _entry(self, dn: str, raw: dict[str, list[bytes]], *, schema: bool = True) -> Entry:
        binary = self.schema.is_binary if schema else _looks_binary
        attrs: dict[str, list[Value]] = {}
        for name, values in raw.items():
            if not values:
                continue
            attrs[name] = _decode(values, binary(name))
        return Entry(dn, attrs)

    def _bases(self, base: str, scope: str) -> list[tuple[str, str]]:
        """``""`` with scope one/sub means every naming context, as in the embedded
        directory (servers differ in what a null-base search returns)."""
        if base or scope == "base":
            return [(base, scope)]
        ncs = self.naming_contexts
        if not ncs:
            raise OperationError(
                f"no search base given and {_host_for_url(self.host)}:{self.port} lists no "
                "naming contexts in its rootDSE (it may hide them from this user): pass "
                "base=, or put it in the URL (ldap://host/dc=example,dc=org)",
                result="noSuchObject", code=32)
        if scope == "one":
            return [(nc, "base") for nc in ncs]
        return [(nc, "sub") for nc in ncs]

    def search_pages(
        self,
        base: str,
        scope: str | int = "sub",
        filter: str = "(objectClass=*)",
        attributes: Sequence[str] | None = None,
        *,
        size_limit: int = 0,
        time_limit: int = 0,
        page_size: int | None = None,
    ) -> Iterator[RawPage]:
        """The search's answer as a stream of :class:`~ldapnb.sources._fastsearch.RawPage` (raw
        bytes values, ranged attributes completed).

        Raises
        ------
        FilterError
            A filter that does not parse (before anything is sent).
        NoSuchEntry
            No entry at ``base``.
        LimitExceeded
            A size or time limit stopped the search (``returned`` says how many came back).
        DirectoryUnavailable
            The server went away: the answer is incomplete and no more pages come.
        """
        scope = scope_name(scope)
        parsed = flt.parse(filter) if isinstance(filter, str) else filter
        text = flt.to_string(parsed)
        self._check_rules(parsed, text)
        attrs = list(attributes) if attributes else ["*"]
        size = self.page_size if page_size is None else page_size
        if size < 0:
            raise ValueError("page_size must be 0 (no paging) or more")
        self.referrals = []
        return self._pages(base, scope, text, attrs, size, size_limit, time_limit)

    @property
    def server_matching_rules(self) -> frozenset[str] | None:
        """The matching rules the server's subschema lists (OIDs and names, lower-case), or
        None when it lists none: Active Directory and Samba publish no ``matchingRules``;
        for them the rules AD documents are assumed (bitwise AND/OR, in-chain, DN-binary)."""
        if self._matching_rules is None:
            where = str(self.root_dse.first("subschemaSubentry") or "cn=Subschema")
            entry = self._read_base(where, ["matchingRules"], "reading the matching rules",
                                    filter="(objectClass=*)")
            names: set[str] = set()
            for value in (entry.get("matchingRules", []) if entry is not None else []):
                text = str(value)
                oid = text.strip("( ").split(" ", 1)[0]
                names.add(oid.lower())
                names.update(n.lower() for n in _NAME_IN_DEFINITION.findall(text))
            if not names and _is_active_directory(self.root_dse):
                names = {n.lower() for n in _AD_MATCHING_RULES}
            self._matching_rules = frozenset(names)
        return self._matching_rules or None

    def _check_rules(self, parsed: Any, text: str) -> None:
        """A FilterError for an extensible match whose rule the server does not list: a
        server answers such a filter with "success, 0 entries" (slapd) or an error, never
        with what the rule means."""
        rules = _extensible_rules(parsed)
        if not rules:
            return
        known = self.server_matching_rules
        if known is None:
            return
        for rule in rules:
            if rule.lower() not in known:
                ad = " (Active Directory's in-chain rule)" if rule == oids.IN_CHAIN else ""
                raise flt.FilterError(
                    f"the server at {self.host}:{self.port} does not support the matching "
                    f"rule {rule}{ad}: its subschema does not list it, and a server answers "
                    "such a filter with 0 entries and 'success', or an error. Nothing was "
                    "sent; use the embedded directory, or expand the groups client-side "
                    "(ldapnb.graph)", filter=text)

    def _pages(self, base: str, scope: str, text: str, attrs: list[str], size: int,
               size_limit: int, time_limit: int) -> Iterator[RawPage]:
        returned = 0
        # explicit ranges (member;range=0-1499) are answered as asked, not completed
        explicit = {r[0].lower(): name for name in attrs
                    if (r := _range_option(name)) is not None}
        self.schema  # noqa: B018 - read it now, not in the middle of the paged search
        for one_base, one_scope in self._bases(base, scope):
            before = returned
            conn = self._free_connection()
            pages = _fetch_pages(conn, one_base, one_scope, text, attrs, page_size=size,
                                 size_limit=size_limit, time_limit=time_limit)
            self._busy.add(id(conn))
            finished = False
            try:
                while True:
                    try:
                        page = next(pages)
                        if any(_range_option(name) for name in page.columns):
                            page = _assemble_ranges(self._side_connection(), page, explicit)
                    except StopIteration:
                        finished = True
                        break
                    except LimitExceeded as exc:
                        raise self._limit_error(exc, one_base, size_limit, time_limit,
                                                before + exc.returned) from exc
                    except NoSuchEntry as exc:
                        raise NoSuchEntry(exc.dn, matched=exc.matched,
                                          naming_contexts=self.naming_contexts) from exc
                    except DirectoryUnavailable:
                        self.close()
                        raise
                    except LdapnbError:
                        raise
                    except Exception as exc:  # noqa: BLE001 - every ldap3 error becomes ours
                        self.close()
                        raise _communication_error(
                            exc, self.host, self.port,
                            f"searching {one_base!r} after {returned} entries (the answer is "
                            "incomplete)") from exc
                    if page.referrals:
                        # reported once per search, in the DataFrame's attrs["referrals"]
                        self.referrals.extend(page.referrals)
                    if size_limit and returned + len(page) > size_limit:
                        # the server ignored the size limit (Samba does): cut it here
                        keep = size_limit - returned
                        page.dns = page.dns[:keep]
                        page.columns = {k: v[:keep] for k, v in page.columns.items()}
                        returned += keep
                        if page.dns:
                            yield page
                        raise self._limit_error(
                            LimitExceeded("size limit", kind="size", limit=size_limit,
                                          returned=returned),
                            one_base, size_limit, time_limit, returned)
                    returned += len(page)
                    if page.dns:
                        yield page
            finally:
                self._busy.discard(id(conn))
                if not finished:  # stopped early or failed: the socket may hold unread answers
                    close = getattr(pages, "close", None)
                    if close is not None:
                        close()
                    self._drop(conn)

    def _drop(self, conn: ldap3.Connection) -> None:
        """Close ``conn`` (the main or the side connection); the next use reconnects."""
        if conn is self._conn and self._finalizer is not None:
            self._finalizer()
            self._finalizer, self._conn = None, None
        elif conn is self._side and self._side_finalizer is not None:
            self._side_finalizer()
            self._side_finalizer, self._side = None, None

    def _free_connection(self) -> ldap3.Connection:
        """The main connection, or the side one while a paged search is streaming on it (the
        fast reader has already asked for the next page: nothing else may use that socket)."""
        conn = self._connection()
        if id(conn) in self._busy:
            return self._side_connection()
        return conn

    def _side_connection(self) -> ldap3.Connection:
        """A second connection, bound the same way, for the requests a paged search needs in
        the middle (the next page is already asked for on the first one)."""
        if self._side is None or self._side.closed:
            side = self._connect(self.user, self._password, self.authentication)
            self._side = side
            self._side_finalizer = weakref.finalize(self, _quietly_close, side)
        return self._side

    def security_descriptors(self, base: str | None = None, filter: str = "(objectClass=*)",
                             scope: str | int = "sub", *, sd_flags: int = 7,
                             page_size: int = 500) -> Iterator[tuple[str, bytes]]:
        """``(dn, nTSecurityDescriptor)`` of every entry found, read with the SD flags
        control (OID 1.2.840.113556.1.4.801, default 7 = owner, group and DACL, no SACL), so
        that a non-administrator is given the descriptor (AD omits the attribute otherwise).
        Used by :func:`ldapnb.audit.run`; entries returned without a descriptor are skipped.
        """
        from ldap3 import BASE, LEVEL, SUBTREE

        from ._ldap3 import sd_flags_control

        base = base if base is not None else (self.default_base or "")
        conn = self._side_connection()
        text = flt.to_string(flt.parse(filter))
        try:
            for item in conn.extend.standard.paged_search(
                    base, text, search_scope=(BASE, LEVEL, SUBTREE)[scope_number(scope)],
                    attributes=["nTSecurityDescriptor"], paged_size=page_size,
                    controls=sd_flags_control(sd_flags), generator=True):
                if item.get("type") != "searchResEntry":
                    continue
                values = item.get("raw_attributes", {}).get("nTSecurityDescriptor") or []
                if values:
                    yield item["dn"], bytes(values[0])
        except LdapnbError:
            raise
        except Exception as exc:  # noqa: BLE001 - every ldap3 error becomes ours
            self._side = None
            raise _communication_error(exc, self.host, self.port,
                                       f"reading security descriptors under {base!r}") from exc

    def _limit_error(self, exc: LimitExceeded, base: str, size_limit: int, time_limit: int,
                     returned: int) -> LimitExceeded:
        if exc.kind == "time":
            return LimitExceeded(
                f"the time limit{f' of {time_limit} s' if time_limit else ''} stopped the "
                f"search under {base!r} after {returned} entries: the answer is incomplete",
                kind="time", limit=time_limit or None, returned=returned, partial=exc.partial)
        which = f"the size limit of {size_limit}" if size_limit else "the server's size limit"
        return LimitExceeded(
            f"{which} stopped the search under {base!r} after {returned} entries: the answer "
            "is incomplete. Narrow the filter or the base, or ask for a higher limit",
            kind="size", limit=size_limit or None, returned=returned, partial=exc.partial)

    def search(
        self,
        base: str,
        scope: str | int = "sub",
        filter: str = "(objectClass=*)",
        attributes: Sequence[str] | None = None,
        *,
        size_limit: int = 0,
        types_only: bool = False,
        time_limit: int = 0,
        page_size: int | None = None,
    ) -> Iterator[Entry]:
        """Entries under ``base`` within ``scope`` matching ``filter``, streamed page by page.

        Unlike the embedded directory, a limit or a lost connection can only be noticed
        after earlier pages were yielded: the iteration then raises (``LimitExceeded``,
        ``DirectoryUnavailable``) instead of ending, so a short answer never looks complete.
        """
        if types_only:
            raise OperationError("types_only searches are not supported on live servers",
                                 result="unwillingToPerform")
        pages = self.search_pages(base, scope, filter, attributes, size_limit=size_limit,
                                  time_limit=time_limit, page_size=page_size)
        return self._entries(pages)

    def _entries(self, pages: Iterator[RawPage]) -> Iterator[Entry]:
        is_binary = self.schema.is_binary
        for page in pages:
            kinds = {name: is_binary(name) for name in page.columns}
            columns = list(page.columns.items())
            for i, dn in enumerate(page.dns):
                attrs: dict[str, list[Value]] = {}
                for name, col in columns:
                    values = col[i]
                    if values:
                        attrs[name] = _decode(values, kinds[name])
                yield Entry(dn, attrs)

    def get(self, dn: str, attributes: Sequence[str] | None = None) -> Entry:
        """The entry at ``dn`` or :class:`NoSuchEntry`; ``""`` is the rootDSE."""
        if dn == "" and not attributes:
            return self.root_dse
        for entry in self.search(dn, "base", "(objectClass=*)", attributes, page_size=0):
            return entry
        raise NoSuchEntry(dn, naming_contexts=self.naming_contexts)

    def trace(self, filter: str, dn: str) -> flt.Trace:
        """Why ``filter`` matches the entry at ``dn`` or not, judged by ldapnb's evaluator on
        the entry as the server sent it (``*`` and ``+``), without the server's own rules
        for extensible matches (see :func:`ldapnb.filters.trace`)."""
        return flt.trace(flt.parse(filter), self.get(dn, ["*", "+"]), None)

    def __contains__(self, dn: object) -> bool:
        if not isinstance(dn, str):
            return False
        try:
            self.get(dn, ["1.1"])
        except NoSuchEntry:
            return False
        return True

    def __len__(self) -> int:
        """How many entries the naming contexts hold (counted by a paged search of DNs)."""
        return sum(len(p) for p in self.search_pages("", "sub", "(objectClass=*)", ["1.1"]))

    def member_of(self, dn: str) -> list[str]:
        """The groups the server lists in the entry's ``memberOf`` (as the server spells
        them; slapd's dynlist lower-cases them)."""
        return [str(v) for v in self.get(dn, ["memberOf"]).get("memberOf", [])]

    # -- writing -----------------------------------------------------------------------------
    def _refuse_write(self, what: str) -> None:
        if not self.writable:
            raise ReadOnlyError(
                f"this connection to {self.url} is read-only, so the {what} was not sent: "
                "open it with writable=True to write (and be sure you mean to change a real "
                "server)")

    def _write_error(self, result: dict[str, Any], what: str, dn: str,
                     refs: Sequence[Any]) -> LdapnbError:
        """The error for a refused write, naming the object that is really at fault (the
        entry, its parent, or a DN among the values) and keeping the server's own text."""
        code = result.get("result")
        message = (result.get("message") or "").strip()
        said = f"; the server said: {message}" if message else ""
        if code == 32:
            parent = dn.split(",", 1)[1] if "," in dn else ""
            if what == "adding" and parent and "parent" in message.lower():
                return NoSuchEntry(parent, naming_contexts=self.naming_contexts, message=(
                    f"cannot add {dn!r}: its parent {parent!r} does not exist{said}"))
            if what != "adding" and dn not in self:
                return NoSuchEntry(dn, naming_contexts=self.naming_contexts, message=(
                    f"cannot {_VERB.get(what, what)} {dn!r}: no such entry{said}"))
            missing = [str(v) for v in refs if isinstance(v, str) and "=" in v
                       and v not in self]
            if missing:
                return NoSuchEntry(missing[0], naming_contexts=self.naming_contexts, message=(
                    f"{what} {dn!r} failed: the value {missing[0]!r} names no entry (a "
                    f"DN-valued attribute must point at an existing entry){said}"))
        if code == 68 and message:
            exists = EntryAlreadyExists(dn)
            exists.args = (f"{what} {dn!r} failed: entryAlreadyExists{said}",)
            return exists
        error = _result_error(result, f"{what} {dn!r}", dn=dn,
                              naming_contexts=self.naming_contexts)
        if message and message not in str(error):
            error.args = (f"{error}{said}",)
        return error

    def _write(self, what: str, dn: str, call: Any, refs: Sequence[Any] = ()) -> None:
        conn = self._free_connection()
        try:
            ok = call(conn)
        except Exception as exc:  # noqa: BLE001 - every ldap3 error becomes an ldapnb one
            self.close()
            raise _communication_error(exc, self.host, self.port, f"{what} {dn!r}") from exc
        if not ok:
            result = conn.result or {}
            raise self._write_error(result, what, dn, refs)

    def add(self, entry: Entry, *, line: int | None = None, new_root: bool = True) -> None:
        """Add ``entry`` (ReadOnlyError unless writable)."""
        self._refuse_write("add")
        classes = list(entry.get("objectClass", []))
        attrs = {k: list(v) for k, v in entry.items() if k.lower() != "objectclass"}
        self._write("adding", entry.dn,
                    lambda c: c.add(entry.dn, object_class=classes, attributes=attrs),
                    [v for values in attrs.values() for v in values])

    def modify(self, dn: str, changes: Iterable[Any]) -> None:
        """Apply ``changes`` (objects with ``op``, ``attribute``, ``values``)."""
        from ldap3 import MODIFY_ADD, MODIFY_DELETE, MODIFY_INCREMENT, MODIFY_REPLACE

        self._refuse_write("modify")
        ops = {"add": MODIFY_ADD, "delete": MODIFY_DELETE, "replace": MODIFY_REPLACE,
               "increment": MODIFY_INCREMENT}
        out: dict[str, list[tuple[Any, list[Value]]]] = {}
        for change in changes:
            if change.op not in ops:
                raise OperationError(f"unknown modify operation {change.op!r}",
                                     result="protocolError", code=2)
            out.setdefault(change.attribute, []).append((ops[change.op], list(change.values)))
        self._write("modifying", dn, lambda c: c.modify(dn, out),
                    [v for ops_ in out.values() for op, values in ops_ if op != MODIFY_DELETE
                     for v in values])

    def delete(self, dn: str) -> None:
        self._refuse_write("delete")
        self._write("deleting", dn, lambda c: c.delete(dn))

    def modify_dn(self, dn: str, new_rdn: str, *, delete_old_rdn: bool = True,
                  new_superior: str | None = None) -> str:
        """Rename/move an entry; returns its new DN."""
        self._refuse_write("rename")
        self._write("renaming", dn, lambda c: c.modify_dn(
            dn, new_rdn, delete_old_dn=delete_old_rdn, new_superior=new_superior))
        from ..dn import parent as parent_of

        parent = new_superior if new_superior is not None else (parent_of(dn) or "")
        return f"{new_rdn},{parent}" if parent else new_rdn

    @property
    def skipped(self) -> list[tuple[int | None, str, str]]:
        """Always empty: a live load stops at the first record the server refuses."""
        return []

    def load(self, records: Iterable[object], *, source: str = "<entries>") -> int:
        """Apply entries or LDIF records in order (adds, and change records); returns how many.
        Unlike the embedded directory, records are sent as they come (parents first is
        the file's job)."""
        from ..errors import LdifError
        from ..ldif import Record
        from .embedded import Change

        count = 0
        for rec in records:
            count += 1
            if isinstance(rec, Entry):
                self.add(rec)
                continue
            if not isinstance(rec, Record):
                raise TypeError(f"cannot load {type(rec).__name__}: give Entry or ldif.Record")
            kind = rec.changetype
            if kind in (None, "add") and rec.entry is None:
                raise LdifError(f"the {kind or 'content'} record for {rec.dn!r} has no entry "
                                "to add", source=source, line=rec.line)
            if kind in ("modrdn", "moddn") and rec.newrdn is None:
                raise LdifError(f"the {kind} record for {rec.dn!r} needs a newrdn",
                                source=source, line=rec.line)
            if kind not in (None, "add", "delete", "modify", "modrdn", "moddn"):
                raise LdifError(f"unknown changetype {kind!r} for {rec.dn!r}: use add, "
                                "delete, modify, modrdn or moddn", source=source, line=rec.line)
            try:
                if kind in (None, "add") and rec.entry is not None:
                    self.add(rec.entry)
                elif kind == "delete":
                    self.delete(rec.dn)
                elif kind == "modify":
                    self.modify(rec.dn, [Change(m.op, m.attribute, list(m.values))
                                         for m in rec.modifications])
                elif kind in ("modrdn", "moddn") and rec.newrdn is not None:
                    self.modify_dn(rec.dn, rec.newrdn, delete_old_rdn=bool(rec.deleteoldrdn),
                                   new_superior=rec.newsuperior)
            except (ReadOnlyError, DirectoryUnavailable):
                raise
            except LdapnbError as exc:
                raise LdifError(f"{exc}", source=source, line=rec.line) from exc
        return count


# =============================================================================================
# small internals
# =============================================================================================
def _parse_url(url: str) -> tuple[str, str, int, str | None]:
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = parts.hostname
        port = parts.port
    except ValueError as exc:
        raise DirectoryUnavailable(f"cannot read the URL {url!r}: {exc}") from exc
    if scheme not in _DEFAULT_PORTS:
        raise DirectoryUnavailable(
            f"cannot connect to {url!r}: ldapnb speaks ldap:// (port 389, with start_tls=True "
            "for encryption) and ldaps:// (port 636)")
    if not host:
        raise DirectoryUnavailable(f"the URL {url!r} names no host (ldaps://HOST:PORT)")
    path = unquote(parts.path.lstrip("/")) or None
    return scheme, host, port or _DEFAULT_PORTS[scheme], path


def _host_for_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception, what it wraps (ldap3's exception_history, __cause__/__context__)."""
    out: list[BaseException] = []
    todo: list[Any] = [exc]
    while todo:
        item = todo.pop()
        if isinstance(item, tuple | list):
            todo.extend(item)
            continue
        if not isinstance(item, BaseException) or item in out:
            continue
        out.append(item)
        todo.extend(a for a in item.args if isinstance(a, BaseException | tuple | list))
        for nxt in (item.__cause__, item.__context__):
            if nxt is not None:
                todo.append(nxt)
    return out


def _quietly_close(conn: Any) -> None:
    from ._ldap3 import close_quietly

    close_quietly(conn)


_BINARY_NAMES = frozenset({"objectsid", "objectguid", "jpegphoto", "usercertificate",
                           "cacertificate", "thumbnailphoto", "ntsecuritydescriptor"})


def _looks_binary(name: str) -> bool:
    base = name.lower()
    return ";binary" in base or base.split(";", 1)[0] in _BINARY_NAMES


def _decode(values: Sequence[bytes], binary: bool) -> list[Value]:
    if binary:
        return [bytes(v) for v in values]
    out: list[Value] = []
    for v in values:
        try:
            out.append(v.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(bytes(v))
    return out


def _seconds(timeout: float) -> int:
    """ldap3 sets SO_RCVTIMEO from its receive_timeout as a whole number of seconds."""
    return max(1, math.ceil(timeout))
