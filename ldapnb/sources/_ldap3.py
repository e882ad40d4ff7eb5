"""Where ldapnb reaches into ldap3's internals.  Nowhere else does.

Pinned to ldap3 2.9.1 (pyproject.toml), tested by tests/test_connection.py.

:class:`EmbeddedStrategy` lets an ordinary ``ldap3.Connection`` talk to an
:class:`~ldapnb.sources.embedded.EmbeddedDirectory`.  ldap3 builds its real protocol
messages (pyasn1 ``BindRequest``, ``SearchRequest`` ...) exactly as for a network server; this
strategy answers them with the embedded directory instead of sending them on a socket.  It
builds on ldap3's MOCK_SYNC plumbing (how responses are handed back to the ``Connection``) but
replaces every answer: filters are read from the request's ASN.1 tree (not from ldap3's
lossy filter-to-string), and searches, binds, writes, paging and extended operations follow
the embedded directory's server rules.
"""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Callable, Iterator
from typing import Any

from ldap3 import MOCK_SYNC, Connection, Server
from ldap3.core.exceptions import (
    LDAPOperationResult,
    LDAPPasswordIsMandatoryError,
    LDAPUserNameIsMandatoryError,
)
from ldap3.core.results import (
    DO_NOT_RAISE_EXCEPTIONS,
    RESULT_AUTH_METHOD_NOT_SUPPORTED,
    RESULT_COMPARE_FALSE,
    RESULT_COMPARE_TRUE,
    RESULT_INVALID_CREDENTIALS,
    RESULT_NO_SUCH_OBJECT,
    RESULT_OPERATIONS_ERROR,
    RESULT_PROTOCOL_ERROR,
    RESULT_SIZE_LIMIT_EXCEEDED,
    RESULT_SUCCESS,
    RESULT_UNAVAILABLE_CRITICAL_EXTENSION,
    RESULT_UNWILLING_TO_PERFORM,
)
from ldap3.operation.search import (
    search_result_done_response_to_dict,
    search_result_entry_response_to_dict,
)
from ldap3.protocol.rfc2696 import RealSearchControlValue, paged_search_control
from ldap3.strategy.base import BaseStrategy
from ldap3.strategy.mockSync import MockSyncStrategy
from ldap3.strategy.sync import SyncStrategy
from pyasn1.codec.ber import decoder
from pyasn1.type.univ import OctetString

from .. import filters as flt
from ..entry import Entry, Value
from ..errors import (
    BindError,
    EntryAlreadyExists,
    FilterError,
    LdapnbError,
    LimitExceeded,
    NoSuchEntry,
    NotAllowedOnNonLeaf,
    ObjectClassViolation,
    OperationError,
    SchemaError,
)
from .embedded import Change, EmbeddedDirectory

__all__ = ["EmbeddedStrategy", "embedded_connection"]

_PAGED = "1.2.840.113556.1.4.319"
_WHOAMI = "1.3.6.1.4.1.4203.1.11.3"
_STARTTLS = "1.3.6.1.4.1.1466.20037"
_MOD_OPS = {0: "add", 1: "delete", 2: "replace", 3: "increment"}


def _value(v: Any) -> Value:
    raw = bytes(v)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def filter_from_asn1(node: Any) -> flt.Filter:
    """The ldapnb filter for an ldap3 (pyasn1) ``Filter``: values stay exact bytes."""
    kind = node.getName()
    if kind == "and":
        return flt.And(tuple(filter_from_asn1(c) for c in node["and"]))
    if kind == "or":
        return flt.Or(tuple(filter_from_asn1(c) for c in node["or"]))
    if kind == "notFilter":
        return flt.Not(filter_from_asn1(node["notFilter"]["innerNotFilter"]))
    if kind == "present":
        return flt.Present(str(node["present"]))
    if kind in ("equalityMatch", "greaterOrEqual", "lessOrEqual", "approxMatch"):
        ava = node[kind]
        ops: dict[str, type[flt.Equality | flt.GreaterOrEqual | flt.LessOrEqual | flt.Approx]] = {
            "equalityMatch": flt.Equality, "greaterOrEqual": flt.GreaterOrEqual,
            "lessOrEqual": flt.LessOrEqual, "approxMatch": flt.Approx}
        return ops[kind](str(ava["attributeDesc"]), _value(ava["assertionValue"]))
    if kind == "substringFilter":
        sub = node["substringFilter"]
        initial = final = None
        anys = []
        for part in sub["substrings"]:
            name = part.getName()
            if name == "initial":
                initial = _value(part["initial"])
            elif name == "any":
                anys.append(_value(part["any"]))
            else:
                final = _value(part["final"])
        return flt.Substrings(str(sub["type"]), initial, tuple(anys), final)
    if kind == "extensibleMatch":
        m = node["extensibleMatch"]
        rule = str(m["matchingRule"]) if m["matchingRule"].hasValue() else None
        attr = str(m["type"]) if m["type"].hasValue() else None
        dn_attrs = bool(m["dnAttributes"]) if m["dnAttributes"].hasValue() else False
        return flt.Extensible(attr, rule, _value(m["matchValue"]), dn_attrs)
    raise FilterError(f"unknown filter choice {kind!r}", filter=str(node))


def _result(code: int, message: str = "", matched: str = "", **extra: Any) -> dict[str, Any]:
    out = {"resultCode": code, "matchedDN": matched, "diagnosticMessage": message,
           "referral": None}
    out.update(extra)
    return out


def _error_result(exc: LdapnbError) -> dict[str, Any]:
    """The LDAP result a server would send for one of ldapnb's errors."""
    if isinstance(exc, NoSuchEntry):
        return _result(RESULT_NO_SUCH_OBJECT, str(exc), exc.matched or "")
    if isinstance(exc, EntryAlreadyExists):
        return _result(68, str(exc))
    if isinstance(exc, NotAllowedOnNonLeaf):
        return _result(66, str(exc))
    if isinstance(exc, ObjectClassViolation):
        return _result(getattr(exc, "code", 65), str(exc))
    if isinstance(exc, OperationError):
        return _result(exc.code or 80, str(exc))
    if isinstance(exc, SchemaError):
        text = str(exc)
        code = 17 if "undefinedAttributeType" in text else 21 if "invalidAttributeSyntax" in text \
            else 65
        return _result(code, text)
    if isinstance(exc, FilterError):
        return _result(RESULT_PROTOCOL_ERROR, str(exc))
    return _result(80, str(exc))


class EmbeddedStrategy(MockSyncStrategy):
    """An ldap3 client strategy answered by an :class:`EmbeddedDirectory`."""

    def __init__(self, connection: Connection, directory: EmbeddedDirectory,
                 writable: bool = True, max_val_range: int | None = None):
        SyncStrategy.__init__(self, connection)  # not MockBaseStrategy's: it seeds its own DIT
        self.directory = directory
        self.writable = writable
        self.max_val_range = max_val_range  # set (AD uses 1500) to answer like AD's MaxValRange
        self.entries: dict[str, Any] = {}
        self.no_real_dsa = True
        self.bound: str | None = None
        self.custom_validators = None
        self.operational_attributes: list[str] = []
        self._paged_sets: list[Any] = []
        self._pages: dict[bytes, Iterator[str]] = {}

    # ldap3 calls these by these names -------------------------------------------------------
    def post_send_search(self, payload: Any) -> list[dict[str, Any]]:
        """MOCK_SYNC's version, without its handling of ranged attributes (it deletes the
        wrong key): ranged values come back under their ``;range=`` names, as from AD."""
        _message_id, _message_type, request, controls = payload
        responses, result = self.mock_search(request, controls)
        conn = self.connection
        conn.response = []
        for entry in responses:
            response = search_result_entry_response_to_dict(
                entry, conn.server.schema, conn.server.custom_formatter, conn.check_names)
            response["type"] = "searchResEntry"
            conn.response.append(response)
        done = search_result_done_response_to_dict(result)
        done["type"] = "searchResDone"
        conn.result = done
        if conn.raise_exceptions and done["result"] not in DO_NOT_RAISE_EXCEPTIONS:
            raise LDAPOperationResult(result=done["result"], description=done["description"],
                                      dn=done["dn"], message=done["message"],
                                      response_type=done["type"])
        return conn.response

    def mock_bind(self, request: Any, controls: Any) -> dict[str, Any]:
        name = str(request["name"])
        auth = request["authentication"]
        try:
            if auth.getName() == "simple":
                self.bound = self.directory.bind(name, bytes(auth["simple"]))
            else:
                sasl = auth["sasl"]
                creds = bytes(sasl["credentials"]) if sasl["credentials"].hasValue() else None
                self.bound = self.directory.bind_sasl(str(sasl["mechanism"]), creds)
        except BindError as exc:
            text = str(exc)
            code = (RESULT_AUTH_METHOD_NOT_SUPPORTED if "authMethodNotSupported" in text
                    else RESULT_UNWILLING_TO_PERFORM if "unauthenticated" in text
                    else RESULT_INVALID_CREDENTIALS)
            self.bound = None
            return _result(code, text, serverSaslCreds=None)
        return _result(RESULT_SUCCESS, serverSaslCreds=None)

    def mock_search(self, request: Any, controls: Any) -> tuple[list[Any], dict[str, Any]]:
        base = str(request["baseObject"])
        scope = int(request["scope"])
        size_limit = int(request["sizeLimit"])
        types_only = bool(request["typesOnly"])
        attributes = [str(a) for a in request["attributes"]]
        paged = None
        for control in controls or ():
            if isinstance(control, tuple):  # a caller's (oid, criticality, value) as given
                oid, critical, raw = str(control[0]), bool(control[1]), control[2]
            else:  # a control ldap3 built (pyasn1)
                oid, critical = str(control["controlType"]), bool(control["criticality"])
                raw = bytes(control["controlValue"]) if control["controlValue"].hasValue() \
                    else None
            if oid == _PAGED and raw is not None:
                value, _ = decoder.decode(raw, asn1Spec=RealSearchControlValue())
                paged = (int(value["size"]), bytes(value["cookie"]))
            elif critical and oid not in _CRITICAL_OK:
                return [], _result(RESULT_UNAVAILABLE_CRITICAL_EXTENSION,
                                   f"critical control {oid} is not supported")
        try:
            f = filter_from_asn1(request["filter"])
            if paged is not None and paged[1]:
                dns = self._pages.pop(paged[1], None)
                if dns is None:
                    return [], _result(RESULT_OPERATIONS_ERROR, "unknown paged results cookie")
            else:
                dns = iter(self.directory.search_dns(base, scope, f, size_limit=size_limit))
        except LimitExceeded as exc:
            got = exc.partial if isinstance(exc.partial, list) else []  # search_dns: DNs
            entries = [self._response(n, attributes, types_only) for n in got]
            return entries, _result(RESULT_SIZE_LIMIT_EXCEEDED, str(exc))
        except LdapnbError as exc:
            return [], _error_result(exc)
        if paged is None:
            return [self._response(n, attributes, types_only) for n in dns], _result(0)
        size = paged[0] or 2**31
        page = []
        for n in dns:
            page.append(n)
            if len(page) == size:
                break
        rest = list(dns)
        cookie = b""
        if rest:
            cookie = os.urandom(8)
            self._pages[cookie] = iter(rest)
        control = paged_search_control(False, 0, cookie)
        return ([self._response(n, attributes, types_only) for n in page],
                _result(0, controls=[BaseStrategy.decode_control(control)]))

    def _response(self, ndn: str, attributes: list[str], types_only: bool) -> dict[str, Any]:
        entry = self.directory.get_normalized(ndn, attributes, types_only=types_only)
        ranges = _requested_ranges(attributes)
        out = []
        for name, values in entry.items():
            base = name.split(";", 1)[0].lower()
            if base in ranges or (self.max_val_range and len(values) > self.max_val_range):
                lo, hi = ranges.get(base, (0, None))
                name, values = _value_range(name, values, lo, hi, self.max_val_range)
            out.append({"type": name, "vals": [v if isinstance(v, bytes) else v.encode("utf-8")
                                               for v in values]})
        return {"object": entry.dn, "attributes": out}

    def _write(self, operation: Callable[[], object]) -> dict[str, Any]:
        """Run a write as a server would answer it: refused on a read-only connection,
        ldapnb's errors turned into the LDAP result code a server sends."""
        if not self.writable:
            return _result(RESULT_UNWILLING_TO_PERFORM,
                           "this connection is read-only: open it with writable=True to write")
        try:
            operation()
        except LdapnbError as exc:
            return _error_result(exc)
        return _result(RESULT_SUCCESS)

    def mock_add(self, request: Any, controls: Any) -> dict[str, Any]:
        entry = Entry(str(request["entry"]))
        for attr in request["attributes"]:
            entry.add(str(attr["type"]), [_value(v) for v in attr["vals"]])
        return self._write(lambda: self.directory.add(entry,
                                                      new_root=len(self.directory) == 0))

    def mock_delete(self, request: Any, controls: Any) -> dict[str, Any]:
        return self._write(lambda: self.directory.delete(str(request)))

    def mock_modify(self, request: Any, controls: Any) -> dict[str, Any]:
        changes = [Change(_MOD_OPS[int(change["operation"])],
                          str(change["modification"]["type"]),
                          [_value(v) for v in change["modification"]["vals"]])
                   for change in request["changes"]]
        return self._write(lambda: self.directory.modify(str(request["object"]), changes))

    def mock_modify_dn(self, request: Any, controls: Any) -> dict[str, Any]:
        sup = request["newSuperior"]
        return self._write(lambda: self.directory.modify_dn(
            str(request["entry"]), str(request["newrdn"]),
            delete_old_rdn=bool(request["deleteoldrdn"]),
            new_superior=str(sup) if sup is not None and sup.hasValue() else None))

    def mock_compare(self, request: Any, controls: Any) -> dict[str, Any]:
        ava = request["ava"]
        try:
            same = self.directory.compare(str(request["entry"]), str(ava["attributeDesc"]),
                                          _value(ava["assertionValue"]))
        except LdapnbError as exc:
            return _error_result(exc)
        return _result(RESULT_COMPARE_TRUE if same else RESULT_COMPARE_FALSE)

    def mock_extended(self, request: Any, controls: Any) -> dict[str, Any]:
        name = str(request["requestName"])
        if name == _WHOAMI:
            who = f"dn:{self.bound}" if self.bound else ""
            return _result(RESULT_SUCCESS, responseName=None,
                           responseValue=OctetString(who.encode("utf-8")))
        if name == _STARTTLS:
            message = ("StartTLS is not available: the embedded directory has no network and no "
                       "TLS; use Directory.slapd(...) for a real server with StartTLS")
        else:
            message = f"extended operation {name} is not supported by the embedded directory"
        return _result(RESULT_PROTOCOL_ERROR, message, responseName=None, responseValue=None)


_CRITICAL_OK = {_PAGED, "2.16.840.1.113730.3.4.2"}


def _requested_ranges(attributes: list[str]) -> dict[str, tuple[int, int | None]]:
    """``member;range=1500-*`` in a request -> ``{"member": (1500, None)}``."""
    out: dict[str, tuple[int, int | None]] = {}
    for a in attributes:
        base, _, options = a.partition(";")
        for opt in options.split(";"):
            if opt.lower().startswith("range="):
                lo, _, hi = opt[6:].partition("-")
                if lo.isdigit() and (hi == "*" or hi.isdigit()):
                    out[base.lower()] = (int(lo), None if hi == "*" else int(hi))
    return out


def _value_range(name: str, values: list[Value], lo: int, hi: int | None,
                 max_val_range: int | None) -> tuple[str, list[Value]]:
    """Active Directory's ranged retrieval: at most ``max_val_range`` values from ``lo``;
    the option says where the slice ends, ``*`` when it reaches the last value."""
    end = len(values) if hi is None else min(hi + 1, len(values))
    if max_val_range:
        end = min(end, lo + max_val_range)
    last = "*" if end >= len(values) else str(end - 1)
    return f"{name};range={lo}-{last}", values[lo:end]


class _Connection(Connection):
    """ldap3's Connection, whose repr does not show the password (ldap3's does)."""

    def __repr__(self) -> str:
        text = super().__repr__()
        if self.password:
            text = re.sub(r"password=(['\"]).*?\1", "password='********'", text)
            text = text.replace(repr(self.password), "'********'")
        return text

    __str__ = __repr__


def context_tls(context: ssl.SSLContext, server_hostname: str | None) -> Any:
    """An ldap3 ``Tls`` that wraps sockets (ldaps:// and StartTLS) with ``context``.

    ldap3 2.9.1 turns the standard library's name check off and checks names itself with
    ``ssl.match_hostname``, gone in Python 3.12 (its fallback rejects an IP address in the
    certificate).  With this, the ``context`` decides everything: the chain, and the name
    when ``context.check_hostname`` is on.  The exception of a failed handshake is kept in
    ``.error`` (ldap3 wraps it in its own) so callers can report it precisely.
    """
    from ldap3 import Tls

    class ContextTls(Tls):
        def __init__(self) -> None:
            super().__init__(validate=context.verify_mode)
            self.error: BaseException | None = None

        def wrap_socket(self, connection: Any, do_handshake: bool = False) -> None:
            try:
                connection.socket = context.wrap_socket(
                    connection.socket, server_hostname=server_hostname,
                    do_handshake_on_connect=do_handshake)
            except BaseException as exc:
                self.error = exc
                raise

    return ContextTls()


def embedded_connection(
    directory: EmbeddedDirectory,
    user: str | None = None,
    password: str | None = None,
    *,
    writable: bool = True,
    raise_exceptions: bool = False,
    max_val_range: int | None = None,
    **kwargs: Any,
) -> Connection:
    """An ``ldap3.Connection`` whose operations the embedded directory answers.

    The connection is bound at once when ``user`` is given (``conn.bound`` tells whether the
    bind worked, ``conn.result`` why not), like ``Connection(..., auto_bind=True)`` without the
    exception; anonymous otherwise.  ``max_val_range`` makes it answer like Active Directory,
    which returns at most that many values of an attribute (``member;range=0-1499``) and
    expects the client to ask for the rest.
    """
    from ldap3 import DSA, SCHEMA
    from ldap3.protocol.rfc4512 import DsaInfo, SchemaInfo

    server = Server("ldapnb-embedded", get_info=None)
    conn = _Connection(server, user=user, password=password, client_strategy=MOCK_SYNC,
                       raise_exceptions=raise_exceptions, **kwargs)
    strategy = EmbeddedStrategy(conn, directory, writable=writable, max_val_range=max_val_range)
    conn.strategy = strategy
    conn.send = strategy.send
    conn.open = strategy.open
    conn.get_response = strategy.get_response
    conn.post_send_single_response = strategy.post_send_single_response
    conn.post_send_search = strategy.post_send_search
    # what Server.get_info_from_server() would read from a real server
    dse = directory.root_dse
    raw_dse = {k: [v.encode() if isinstance(v, str) else v for v in vals]
               for k, vals in dse.items()}
    server._dsa_info = DsaInfo({k: list(v) for k, v in dse.items()}, raw_dse)
    sub = directory.subschema
    raw_sub = {k: [v.encode() if isinstance(v, str) else v for v in vals]
               for k, vals in sub.items()}
    server._schema_info = SchemaInfo("cn=Subschema", {k: list(v) for k, v in sub.items()},
                                     raw_sub)
    server.get_info = DSA if server._schema_info is None else SCHEMA
    conn.open()
    if user is not None:
        try:
            conn.bind()
        except (LDAPPasswordIsMandatoryError, LDAPUserNameIsMandatoryError) as exc:
            # ldap3 refuses these binds before sending them
            raise BindError(f"ldap3 refused to bind as {user!r}: {exc} (a DN with an empty "
                            "password is an unauthenticated bind, not a login)") from exc
    return conn


# ============================================================================================
# Fast ingest: paged searches decoded straight from the socket into columns of raw bytes
# ============================================================================================
#
# ldap3 opens, secures (LDAPS, StartTLS) and binds the connection; a search then bypasses
# ldap3's per-entry machinery (pyasn1 request objects, the generic BER decoder, per-value
# formatters, CaseInsensitiveDict, to_unicode): the SearchRequest is BER-encoded here from
# ldapnb's own filter tree, sent on ``conn.socket``, and each searchResEntry is cut into
# (attribute description, value bytes) without ever building an intermediate message object.
# The next page is requested as soon as a page's searchResDone (with its cookie) is in, before
# that page is decoded, so slapd produces page k+1 while ldapnb decodes page k.
#
# What this relies on in ldap3 2.9.1 (and nothing else): ``conn.socket`` is the (TLS-wrapped)
# socket of an open, bound connection; ``conn.strategy`` is a SyncStrategy (SYNC, SAFE_SYNC,
# RESTARTABLE); ``conn.server.next_message_id()`` hands out message IDs; a connection with
# DIGEST-MD5 integrity (``conn._digest_md5_kis``) wraps every message, so it is not read here.
# Any other version or strategy takes the slow, public path (``conn.search`` with paging and
# ``raw_attributes``), which gives the same pages.

import logging as _logging  # noqa: E402
from collections.abc import Iterable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

import ldap3 as _ldap3_module  # noqa: E402

from ..errors import DirectoryUnavailable  # noqa: E402

_log = _logging.getLogger(__name__)

#: The ldap3 release whose internals the fast path was written and tested against.
PINNED_LDAP3 = "2.9.1"
LDAP3_VERSION: str = getattr(_ldap3_module, "__version__", "unknown")

__all__ += ["RawPage", "raw_search", "columns_from_pages", "fast_path_available",
            "PINNED_LDAP3"]

_SCOPES = {"base": 0, "one": 1, "onelevel": 1, "level": 1, "sub": 2, "subtree": 2}
_RECV = 1 << 20
_EMPTY: tuple[bytes, ...] = ()


@dataclass
class RawPage:
    """One page of a paged search, as the server sent it.

    Attributes
    ----------
    dns : list of str
        The entries' DNs, in the order the server sent them.
    columns : dict
        Attribute description, spelt as the server sent it (``cn``, ``cn;lang-fr``,
        ``userCertificate;binary``) -> one value list per entry, aligned with ``dns``.  Values
        are ``bytes`` exactly as on the wire; an entry without the attribute has the shared
        empty tuple ``()`` (no list is allocated for it).  An attribute present with no value
        (which some servers send) is an empty list.
    names : list of str
        Every attribute description seen so far in this search, in order of first appearance
        (columns of earlier pages included), so pages can be put together with stable columns.
    referrals : list of str
        Continuation references (searchResRef URLs) received with this page; they are
        reported, never followed.
    last : bool
        True on the final page (the server sent no further cookie).
    """

    dns: list[str]
    columns: dict[str, list[Any]]
    names: list[str] = field(default_factory=list)
    referrals: list[str] = field(default_factory=list)
    last: bool = False

    def __len__(self) -> int:
        return len(self.dns)


def fast_path_available(conn: Connection) -> bool:
    """Whether :func:`raw_search` reads ``conn``'s socket directly (else ldap3's search).

    True for an open connection of ldap3 2.9.1 with a socket-based synchronous strategy and no
    SASL integrity layer.
    """
    if LDAP3_VERSION != PINNED_LDAP3:
        return False
    strategy = getattr(conn, "strategy", None)
    if not isinstance(strategy, SyncStrategy) or isinstance(strategy, MockSyncStrategy):
        return False
    if getattr(strategy, "no_real_dsa", True) or conn.closed or not conn.listening:
        return False
    if getattr(conn, "_digest_md5_kis", None) or getattr(conn, "_digest_md5_kic", None):
        return False
    return conn.socket is not None


def raw_search(
    conn: Connection,
    base: str,
    scope: int | str,
    filter: str,
    attributes: list[str] | None,
    *,
    page_size: int = 1000,
    size_limit: int = 0,
    time_limit: int = 0,
    fast: bool | None = None,
) -> Iterator[RawPage]:
    """Search ``conn`` page by page (RFC 2696), yielding raw columns of bytes.

    Parameters
    ----------
    conn : ldap3.Connection
        An open, bound connection (ldap3 opens it, does TLS and binds).
    base : str
        The search base DN.
    scope : int or str
        0 / ``"base"``, 1 / ``"one"`` (``"level"``), 2 / ``"sub"`` (``"subtree"``); ldap3's
        ``BASE`` / ``LEVEL`` / ``SUBTREE`` work too.
    filter : str
        An RFC 4515 filter, checked before anything is sent.
    attributes : list of str or None
        The attributes to return; None (or ``[]``) for every user attribute, ``["*", "+"]``
        to add operational ones.
    page_size : int
        Entries per page; 0 sends no paging control (one page with everything).
    size_limit, time_limit : int
        Limits sent to the server (0: none).
    fast : bool, optional
        None (default): the fast socket path when :func:`fast_path_available`, else ldap3's
        ordinary search (same pages, slower).  True: require the fast path.  False: never.

    Yields
    ------
    RawPage
        One per page, as soon as the page is in.  Only a search that ended with success
        yields its final page (``last=True``).

    Raises
    ------
    FilterError
        The filter is not valid RFC 4515 (nothing was sent).
    NoSuchEntry
        The base is not in the directory.
    LimitExceeded
        The size or time limit was hit: ``returned`` counts every entry received (also those
        on pages already yielded), ``partial`` holds the last, incomplete page.
    DirectoryUnavailable
        The connection broke or timed out during the search: what was received is not a
        complete answer.
    OperationError
        Any other result (insufficient access, a referral for the base ...).
    LdapnbError
        ``fast=True`` but the fast path cannot be used (another ldap3 version, a closed
        connection, a mock strategy ...).

    Examples
    --------
    >>> from ldapnb import Directory
    >>> conn = embedded_connection(Directory.embedded("tiny").source)
    >>> pages = list(raw_search(conn, "dc=example,dc=com", 2, "(uid=*)", ["uid"]))
    >>> pages[-1].last, sorted(v[0] for v in pages[0].columns["uid"])[:2]
    (True, [b'alice', b'bob'])
    """
    parsed = flt.parse(filter)
    scope_code = _scope(scope)
    attrs = [a for a in (attributes or ()) if a]
    use_fast = fast_path_available(conn) if fast is None else fast
    if use_fast and not fast_path_available(conn):
        why = (f"ldap3 {LDAP3_VERSION} is installed but the fast path is written for ldap3 "
               f"{PINNED_LDAP3} (pip install ldap3=={PINNED_LDAP3})"
               if LDAP3_VERSION != PINNED_LDAP3 else
               "the connection is not an open socket connection with a synchronous strategy "
               "(SYNC, SAFE_SYNC or RESTARTABLE) and no SASL integrity layer")
        raise LdapnbError(f"raw_search(fast=True): {why}")
    if use_fast:
        return _FastSearch(conn, base, scope_code, parsed, attrs, page_size, size_limit,
                           time_limit).pages()
    return _slow_pages(conn, base, scope_code, filter, attrs, page_size, size_limit, time_limit)


def _scope(scope: int | str) -> int:
    if isinstance(scope, bool):
        raise LdapnbError(f"scope must be 0, 1, 2 or base/one/sub, not {scope!r}")
    if isinstance(scope, int):
        if scope in (0, 1, 2):
            return scope
    elif isinstance(scope, str) and scope.lower() in _SCOPES:
        return _SCOPES[scope.lower()]
    raise LdapnbError(f"scope must be 0 (base), 1 (one level) or 2 (subtree), not {scope!r}")


# -- BER encoding of the request (RFC 4511 section 4.5.1) -------------------------------------
def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + _len(len(body)) + body


def _int(tag: int, n: int) -> bytes:
    return _tlv(tag, n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big", signed=True))


def _octets(value: str | bytes, tag: int = 0x04) -> bytes:
    return _tlv(tag, value.encode("utf-8") if isinstance(value, str) else value)


def encode_filter(f: flt.Filter) -> bytes:
    """The BER encoding of an ldapnb filter (RFC 4511 ``Filter``); values are sent as given.

    Examples
    --------
    >>> encode_filter(flt.parse("(cn=a)")).hex()   # [3] { "cn", "a" }
    'a3070402636e040161'
    >>> encode_filter(flt.parse("(!(uid=*))")).hex()
    'a2058703756964'
    """
    if isinstance(f, flt.And):
        return _tlv(0xA0, b"".join(encode_filter(c) for c in f.children))
    if isinstance(f, flt.Or):
        return _tlv(0xA1, b"".join(encode_filter(c) for c in f.children))
    if isinstance(f, flt.Not):
        return _tlv(0xA2, encode_filter(f.child))
    if isinstance(f, flt.Present):
        return _octets(f.attr, 0x87)
    if isinstance(f, flt.Substrings):
        parts = []
        if f.initial is not None:
            parts.append(_octets(f.initial, 0x80))
        parts.extend(_octets(v, 0x81) for v in f.any)
        if f.final is not None:
            parts.append(_octets(f.final, 0x82))
        return _tlv(0xA4, _octets(f.attr) + _tlv(0x30, b"".join(parts)))
    if isinstance(f, flt.Extensible):
        body = b""
        if f.rule is not None:
            body += _octets(f.rule, 0x81)
        if f.attr is not None:
            body += _octets(f.attr, 0x82)
        body += _octets(f.value, 0x83)
        if f.dn_attributes:
            body += b"\x84\x01\xff"
        return _tlv(0xA9, body)
    tag = {flt.Equality: 0xA3, flt.GreaterOrEqual: 0xA5, flt.LessOrEqual: 0xA6,
           flt.Approx: 0xA8}.get(type(f))
    if tag is None:
        raise FilterError(f"cannot encode filter node {f!r}", filter=str(f))
    return _tlv(tag, _octets(f.attr) + _octets(f.value))


def _search_message(message_id: int, base: str, scope: int, filter_ber: bytes,
                    attributes: list[str], size_limit: int, time_limit: int,
                    page_size: int, cookie: bytes | None) -> bytes:
    request = _tlv(0x63, b"".join((
        _octets(base),
        b"\x0a\x01" + bytes((scope,)),
        b"\x0a\x01\x03",  # derefAliases: derefAlways, as ldap3's search
        _int(0x02, size_limit),
        _int(0x02, time_limit),
        b"\x01\x01\x00",  # typesOnly FALSE
        filter_ber,
        _tlv(0x30, b"".join(_octets(a) for a in attributes)),
    )))
    controls = b""
    if cookie is not None:
        value = _tlv(0x30, _int(0x02, page_size) + _octets(cookie))
        controls = _tlv(0xA0, _tlv(0x30, _octets(_PAGED) + _octets(value)))
    return _tlv(0x30, _int(0x02, message_id) + request + controls)


# -- BER decoding of the responses ------------------------------------------------------------
def _tl(data: bytes | bytearray, p: int) -> tuple[int, int, int]:
    """(tag, start of contents, end of contents) of the TLV at ``p``; definite lengths only
    (RFC 4511 section 5.1)."""
    tag = data[p]
    n = data[p + 1]
    if n < 0x80:
        return tag, p + 2, p + 2 + n
    k = n & 0x7F
    if not k or k > 4:
        raise ValueError(f"unsupported BER length form 0x{n:02x}")
    start = p + 2 + k
    return tag, start, start + int.from_bytes(data[p + 2:start], "big")


def _frame_end(data: bytearray, p: int) -> int:
    """End of the message starting at ``p``, or -1 when its header is not all in yet."""
    avail = len(data) - p
    if avail < 2:
        return -1
    n = data[p + 1]
    if n < 0x80:
        return p + 2 + n
    k = n & 0x7F
    if avail < 2 + k:
        return -1
    return p + 2 + k + int.from_bytes(data[p + 2:p + 2 + k], "big")


@dataclass
class _Done:
    code: int
    matched: str
    message: str
    referrals: list[str]
    cookie: bytes | None


def _parse_done(data: bytes | bytearray, p: int, end: int) -> _Done:
    """searchResDone (``p``: its tag) and the paged-results control after it, up to ``end``."""
    _, q, op_end = _tl(data, p)
    parts = []
    while q < op_end:
        tag, s, e = _tl(data, q)
        parts.append((tag, bytes(data[s:e])))
        q = e
    code = int.from_bytes(parts[0][1], "big")
    referrals: list[str] = []
    for tag, body in parts[3:]:
        if tag == 0xA3:
            r = 0
            while r < len(body):
                _, s, e = _tl(body, r)
                referrals.append(body[s:e].decode("utf-8", "replace"))
                r = e
    cookie = None
    q = op_end
    while q < end:  # controls [0]
        tag, s, e = _tl(data, q)
        if tag == 0xA0:
            c = s
            while c < e:
                _, cs, ce = _tl(data, c)
                _, os_, oe = _tl(data, cs)
                if bytes(data[os_:oe]) == _PAGED.encode():
                    v = oe
                    while v < ce:
                        vtag, vs, ve = _tl(data, v)
                        if vtag == 0x04:  # controlValue: SEQUENCE {size, cookie}
                            _, ss, _se = _tl(data, vs)
                            _, ks, ke = _tl(data, ss)  # size
                            _, ks, ke = _tl(data, ke)  # cookie
                            cookie = bytes(data[ks:ke])
                        v = ve
                c = ce
        q = e
    return _Done(code, parts[1][1].decode("utf-8", "replace"),
                 parts[2][1].decode("utf-8", "replace"), referrals, cookie)


def _decode_entries(data: bytes, spans: list[int], cols: dict[bytes, list[Any]],
                    dns: list[str]) -> None:
    """Cut each searchResEntry (message starts in ``spans``) into ``dns`` and ``cols``.

    The hot loop of the fast path, written out by hand: per value, one length byte test and
    one slice.  ``cols`` maps the attribute description's bytes to one value list per row.
    """
    from_bytes = int.from_bytes
    empty = _EMPTY
    row = len(dns)
    add_dn = dns.append
    for s in spans:
        # LDAPMessage header, then messageID (02 n ...)
        n = data[s + 1]
        p = s + 2 if n < 0x80 else s + 2 + (n & 0x7F)
        p += 2 + data[p + 1]
        # searchResEntry [APPLICATION 4] header
        n = data[p + 1]
        p = p + 2 if n < 0x80 else p + 2 + (n & 0x7F)
        # objectName
        n = data[p + 1]
        if n < 0x80:
            p += 2
        else:
            k = n & 0x7F
            n = from_bytes(data[p + 2:p + 2 + k], "big")
            p += 2 + k
        add_dn(data[p:p + n].decode("utf-8"))
        p += n
        # attributes: SEQUENCE OF PartialAttribute
        n = data[p + 1]
        if n < 0x80:
            p += 2
        else:
            k = n & 0x7F
            n = from_bytes(data[p + 2:p + 2 + k], "big")
            p += 2 + k
        attrs_end = p + n
        while p < attrs_end:
            n = data[p + 1]
            if n < 0x80:
                p += 2
            else:
                k = n & 0x7F
                n = from_bytes(data[p + 2:p + 2 + k], "big")
                p += 2 + k
            pa_end = p + n
            n = data[p + 1]  # the type: short
            if n >= 0x80:
                k = n & 0x7F
                n = from_bytes(data[p + 2:p + 2 + k], "big")
                p += k
            name = data[p + 2:p + 2 + n]
            p += 2 + n
            n = data[p + 1]  # SET OF value
            if n < 0x80:
                p += 2
            else:
                k = n & 0x7F
                n = from_bytes(data[p + 2:p + 2 + k], "big")
                p += 2 + k
            set_end = p + n
            n = data[p + 1] if n else 0
            if n < 0x80 and p + 2 + n == set_end:  # one short value: the common case
                vals = [data[p + 2:set_end]]
                p = set_end
            else:
                vals = []
            add = vals.append
            while p < set_end:
                n = data[p + 1]
                if n < 0x80:
                    p += 2
                else:
                    k = n & 0x7F
                    n = from_bytes(data[p + 2:p + 2 + k], "big")
                    p += 2 + k
                add(data[p:p + n])
                p += n
            p = pa_end
            col = cols.get(name)
            if col is None:
                col = cols[name] = [empty] * row if row else []
                col.append(vals)
            else:
                m = len(col)
                if m == row:
                    col.append(vals)
                elif m < row:
                    col.extend([empty] * (row - m))
                    col.append(vals)
                else:  # the same description twice in one entry: one list
                    col[-1] = [*col[-1], *vals]
        row += 1


_RESULT_NAMES: dict[int, str] = {}


def _result_name(code: int) -> str:
    if not _RESULT_NAMES:
        from ldap3.core.results import RESULT_CODES
        _RESULT_NAMES.update(RESULT_CODES)
    return _RESULT_NAMES.get(code, f"result {code}")


def _raise_for_result(code: int, matched: str, message: str, referrals: list[str], base: str,
                      size_limit: int, time_limit: int, returned: int, partial: Any) -> None:
    """Turn a searchResDone that is not success into ldapnb's error."""
    if code == 0:
        return
    if code in (3, 4):
        kind = "size" if code == 4 else "time"
        limit = size_limit if code == 4 else time_limit
        said = f" (server: {message})" if message else ""
        raise LimitExceeded(
            f"the {kind} limit was hit after {returned} entries{said}: the result is "
            f"incomplete; narrow the filter or base, or ask for a higher limit",
            kind=kind, limit=limit or None, returned=returned, partial=partial)
    if code == 32:
        raise NoSuchEntry(base, matched=matched or None,
                          message=f"no entry {base!r} on the server (noSuchObject)")
    if code == 10:
        raise OperationError(
            f"the server refers this search elsewhere (referral, not followed): "
            f"{', '.join(referrals) or message or 'no URL given'}", result="referral", code=10)
    name = _result_name(code)
    raise OperationError(f"search of {base!r} failed: {name}"
                         + (f" ({message})" if message else ""), result=name, code=code)


class _FastSearch:
    """One paged search on ``conn``'s socket (see the section comment above)."""

    def __init__(self, conn: Connection, base: str, scope: int, parsed: flt.Filter,
                 attributes: list[str], page_size: int, size_limit: int,
                 time_limit: int) -> None:
        self.conn = conn
        self.sock = conn.socket
        self.base = base
        self.scope = scope
        self.filter_ber = encode_filter(parsed)
        self.attributes = attributes
        self.page_size = page_size
        self.size_limit = size_limit
        self.time_limit = time_limit
        self.pending = bytearray()
        self.names: list[str] = []
        self._decoded: dict[bytes, str] = {}
        self.outstanding: int | None = None
        self.received = 0

    # -- wire ---------------------------------------------------------------------------------
    def _unavailable(self, what: str, exc: BaseException | None = None) -> DirectoryUnavailable:
        server = self.conn.server
        err = DirectoryUnavailable(
            f"{what} from {server.host}:{server.port} during a search of {self.base!r}, "
            f"after {self.received} entries: the result is incomplete and was not returned; "
            "check that the server is running and reachable, then search again",
            host=server.host, port=server.port)
        try:  # the stream is in an unknown state: ldap3 must not reuse it
            self.conn.strategy.close()
        except Exception:  # noqa: BLE001 - closing a dead socket may fail in many ways
            pass
        return err

    def _send(self, cookie: bytes | None) -> int:
        message_id = self.conn.server.next_message_id()
        message = _search_message(message_id, self.base, self.scope, self.filter_ber,
                                  self.attributes, self.size_limit, self.time_limit,
                                  self.page_size, cookie)
        try:
            self.sock.sendall(message)
        except (OSError, AttributeError) as exc:
            raise self._unavailable(f"sending failed ({exc})", exc) from exc
        self.outstanding = message_id
        return message_id

    def _recv(self) -> None:
        try:
            chunk = self.sock.recv(_RECV)
        except TimeoutError as exc:
            raise self._unavailable("no answer in time (receive timeout)", exc) from exc
        except (OSError, AttributeError) as exc:
            raise self._unavailable(f"the connection broke ({exc})", exc) from exc
        if not chunk:
            raise self._unavailable("the server closed the connection")
        self.pending += chunk

    def _receive_page(self, message_id: int) -> tuple[bytes, list[int], list[str], _Done]:
        """Read until the searchResDone of ``message_id``; entry message starts, references."""
        spans: list[int] = []
        refs: list[str] = []
        p = 0
        while True:
            data = self.pending
            end = _frame_end(data, p)
            if end < 0 or end > len(data):
                self._recv()
                continue
            try:
                _, s, _e = _tl(data, p)
                _, ms, me = _tl(data, s)
                msg_id = int.from_bytes(data[ms:me], "big")
                op = data[me]
            except (IndexError, ValueError) as exc:
                raise self._unavailable(f"a malformed message ({exc})", exc) from exc
            if msg_id != message_id:
                if msg_id == 0 and op == 0x78:  # notice of disconnection (RFC 4511 4.4.1)
                    raise self._unavailable("the server ended the session (notice of "
                                            "disconnection)")
                raise self._unavailable(f"an answer to another request (message {msg_id})")
            if op == 0x64:
                spans.append(p)
            elif op == 0x73:  # searchResRef: URLs, reported not followed
                _, q, qe = _tl(data, me)
                while q < qe:
                    _, us, ue = _tl(data, q)
                    refs.append(bytes(data[us:ue]).decode("utf-8", "replace"))
                    q = ue
            elif op == 0x65:
                try:
                    done = _parse_done(data, me, end)
                except (IndexError, ValueError) as exc:
                    raise self._unavailable(f"a malformed result ({exc})", exc) from exc
                page = bytes(data[:end])
                del self.pending[:end]
                self.outstanding = None
                return page, spans, refs, done
            # intermediateResponse (0x79) and anything else: skipped
            p = end

    # -- pages --------------------------------------------------------------------------------
    def _page(self, data: bytes, spans: list[int], refs: list[str]) -> RawPage:
        dns: list[str] = []
        raw: dict[bytes, list[Any]] = {}
        try:
            _decode_entries(data, spans, raw, dns)
        except (IndexError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
            raise self._unavailable(f"a malformed entry ({exc})", exc) from exc
        n = len(dns)
        columns: dict[str, list[Any]] = {}
        for key, col in raw.items():
            if len(col) < n:
                col.extend([_EMPTY] * (n - len(col)))
            name = self._decoded.get(key)
            if name is None:
                name = self._decoded[key] = key.decode("utf-8", "replace")
                self.names.append(name)
            columns[name] = col
        return RawPage(dns, columns, list(self.names), refs)

    def pages(self) -> Iterator[RawPage]:
        paged = self.page_size > 0
        message_id = self._send(b"" if paged else None)
        try:
            while True:
                data, spans, refs, done = self._receive_page(message_id)
                more = paged and done.code == 0 and bool(done.cookie)
                if more:  # slapd works on the next page while this one is decoded
                    message_id = self._send(done.cookie)
                page = self._page(data, spans, refs)
                del data
                self.received += len(page)
                _raise_for_result(done.code, done.matched, done.message, done.referrals,
                                  self.base, self.size_limit, self.time_limit, self.received,
                                  page)
                page.last = not more
                yield page
                if not more:
                    return
        finally:
            if self.outstanding is not None:
                self._abandon()

    def _abandon(self) -> None:
        """The consumer stopped early (or a page raised): read the request already sent to
        its end, then tell the server to drop the paged search (page size 0)."""
        try:
            message_id = self.outstanding
            assert message_id is not None
            _, _, _, done = self._receive_page(message_id)
            if done.code == 0 and done.cookie:
                saved = self.page_size
                self.page_size = 0
                try:
                    message_id = self._send(done.cookie)
                finally:
                    self.page_size = saved
                self._receive_page(message_id)
        except LdapnbError:
            pass  # the connection was closed by _unavailable
        self.outstanding = None


# -- the public, slow path: ldap3's own search -------------------------------------------------
def _slow_pages(conn: Connection, base: str, scope: int, filter: str, attributes: list[str],
                page_size: int, size_limit: int, time_limit: int) -> Iterator[RawPage]:
    from ldap3 import BASE, LEVEL, SUBTREE
    from ldap3.core.exceptions import LDAPCommunicationError, LDAPException

    scope_name = (BASE, LEVEL, SUBTREE)[scope]
    cookie: bytes | None = b"" if page_size > 0 else None
    names: list[str] = []
    seen: set[str] = set()
    received = 0
    while True:
        kwargs: dict[str, Any] = {}
        if cookie is not None:
            kwargs.update(paged_size=page_size, paged_cookie=cookie)
        try:
            conn.search(base, filter, search_scope=scope_name,
                        attributes=attributes or ["*"], size_limit=size_limit,
                        time_limit=time_limit, **kwargs)
            result = conn.result or {}
        except LDAPOperationResult as exc:
            result = {"result": exc.result, "description": exc.description,
                      "dn": exc.dn or "", "message": exc.message or "", "referrals": None}
        except LDAPCommunicationError as exc:
            server = conn.server
            raise DirectoryUnavailable(
                f"the connection to {server.host}:{server.port} broke during a search of "
                f"{base!r} after {received} entries ({exc}): the result is incomplete",
                host=server.host, port=server.port) from exc
        except LDAPException as exc:
            if "filter" in type(exc).__name__.lower():
                raise FilterError(str(exc), filter=filter) from exc
            raise OperationError(f"search of {base!r} failed: {exc}") from exc
        dns: list[str] = []
        cols: dict[str, list[Any]] = {}
        refs: list[str] = []
        for item in conn.response or ():
            if item.get("type") == "searchResRef":
                refs.extend(item.get("uri") or ())
                continue
            if item.get("type") != "searchResEntry":
                continue
            dns.append(item["raw_dn"].decode("utf-8") if isinstance(item.get("raw_dn"), bytes)
                       else item["dn"])
            for name, values in item["raw_attributes"].items():
                col = cols.get(name)
                if col is None:
                    col = cols[name] = [_EMPTY] * (len(dns) - 1)
                    if name not in seen:
                        seen.add(name)
                        names.append(name)
                col.extend([_EMPTY] * (len(dns) - 1 - len(col)))
                col.append([bytes(v) for v in values])
        for col in cols.values():
            col.extend([_EMPTY] * (len(dns) - len(col)))
        received += len(dns)
        code = int(result.get("result", 0))
        next_cookie = None
        controls = result.get("controls") or {}
        if _PAGED in controls:
            next_cookie = controls[_PAGED]["value"]["cookie"]
        page = RawPage(dns, cols, list(names), refs)
        _raise_for_result(code, result.get("dn") or "", result.get("message") or "",
                          list(result.get("referrals") or ()), base, size_limit, time_limit,
                          received, page)
        more = cookie is not None and bool(next_cookie)
        page.last = not more
        yield page
        if not more:
            return
        cookie = next_cookie


# -- pages -> Arrow columns -------------------------------------------------------------------
def columns_from_pages(pages: Iterable[RawPage]) -> tuple[list[str], dict[str, Any]]:
    """Gather pages into ``(dns, columns)`` for :func:`ldapnb.frames.frame_from_columns`.

    Each page's columns are turned into Arrow ``list<binary>`` arrays as the page arrives, so
    the Python ``bytes`` of a page are freed before the next one is read: memory stays near
    the size of the values themselves.  Column names that differ only in case are merged
    under the first spelling.

    Parameters
    ----------
    pages : iterable of RawPage
        Typically :func:`raw_search`'s generator.

    Returns
    -------
    tuple
        The DNs (list of str) and a dict of attribute description -> ``pyarrow`` array of
        ``list<binary>``, one row per DN (an empty list where the entry lacks it).

    Examples
    --------
    >>> page = RawPage(["cn=a", "cn=b"], {"cn": [[b"a"], ()], "CN": [(), [b"b"]]})
    >>> dns, cols = columns_from_pages([page])
    >>> dns, list(cols), cols["cn"].to_pylist()
    (['cn=a', 'cn=b'], ['cn'], [[b'a'], [b'b']])
    """
    import pyarrow as pa

    list_bin = pa.list_(pa.binary())
    dns: list[str] = []
    chunks: dict[str, list[tuple[int, Any]]] = {}  # lower name -> (first row, array)
    spelling: dict[str, str] = {}
    for page in pages:
        start = len(dns)
        dns.extend(page.dns)
        for name, col in page.columns.items():
            key = name.lower()
            arr = pa.array(col, type=list_bin)
            have = chunks.get(key)
            if have is None:
                spelling[key] = name
                chunks[key] = [(start, arr)]
            elif have[-1][0] == start:  # another spelling on this page: merge row by row
                old = have[-1][1].to_pylist()
                merged = [[*a, *b] for a, b in zip(old, col, strict=True)]
                have[-1] = (start, pa.array(merged, type=list_bin))
            else:
                have.append((start, arr))
    n = len(dns)
    columns: dict[str, Any] = {}
    for key, parts in chunks.items():
        pieces = []
        row = 0
        for first, arr in parts:
            if first > row:
                pieces.append(_empty_lists(first - row, list_bin))
            pieces.append(arr)
            row = first + len(arr)
        if row < n:
            pieces.append(_empty_lists(n - row, list_bin))
        columns[spelling[key]] = pieces[0] if len(pieces) == 1 else pa.concat_arrays(pieces)
    return dns, columns


def _empty_lists(count: int, typ: Any) -> Any:
    import numpy as np
    import pyarrow as pa

    return pa.ListArray.from_arrays(pa.array(np.zeros(count + 1, dtype=np.int32)),
                                    pa.array([], type=pa.binary())).cast(typ)
