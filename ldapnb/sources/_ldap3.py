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
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import ldap3 as _ldap3_module
from ldap3 import MOCK_SYNC, Connection, Server
from ldap3.core.exceptions import (
    LDAPOperationResult,
    LDAPPasswordIsMandatoryError,
    LDAPUserNameIsMandatoryError,
)
from ldap3.core.results import (
    DO_NOT_RAISE_EXCEPTIONS,
    RESULT_COMPARE_FALSE,
    RESULT_COMPARE_TRUE,
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
from pyasn1.error import PyAsn1Error
from pyasn1.type.univ import OctetString

from .. import filters as flt
from .. import oids
from ..entry import Entry, Value
from ..errors import (
    ArgumentError,
    BindError,
    DirectoryUnavailable,
    FilterError,
    LdapnbError,
    LimitExceeded,
    MalformedResponse,
    TlsError,
)
from ..results import result_for_error
from .base import Servable
from .embedded import Change

__all__ = ["EmbeddedStrategy", "embedded_connection", "SafeConnection"]

_PAGED = oids.PAGED_RESULTS
_WHOAMI = oids.WHO_AM_I
_STARTTLS = oids.STARTTLS
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
    """The LDAP result a server would send for one of ldapnb's errors
    (:func:`ldapnb.results.result_for_error`)."""
    code, text = result_for_error(exc)
    return _result(code, text, getattr(exc, "matched", None) or "")


class EmbeddedStrategy(MockSyncStrategy):
    """An ldap3 client strategy answered by an in-memory directory (the embedded directory,
    or anything :class:`~ldapnb.sources.base.Servable`)."""

    def __init__(self, connection: Connection, directory: Servable,
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
            self.bound = None
            code, text = result_for_error(exc)
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


_CRITICAL_OK = {_PAGED, oids.MANAGE_DSA_IT}


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


def check_filter_depth(search_filter: object) -> None:
    """Refuse a filter nested deeper than ldapnb's parser accepts, before ldap3 compiles it:
    ldap3 builds filters recursively and exhausts Python's stack at a few hundred levels
    (a ``RecursionError`` from inside ldap3)."""
    from ..filters import MAX_DEPTH

    if not isinstance(search_filter, str) or search_filter.count("(") <= MAX_DEPTH:
        return
    depth = deepest = 0
    for i, c in enumerate(search_filter):
        if c == "(":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH + 1:
                    raise FilterError(f"filter nested more than {MAX_DEPTH} levels deep",
                                      filter=search_filter, position=i)
        elif c == ")":
            depth -= 1


class SafeConnection(Connection):
    """ldap3's Connection that forgets the bind password once a bind is done.

    ldap3 keeps the password on the connection (``conn.password``, DIGEST-MD5's
    ``sasl_credentials``) and the last bind request with it in clear (``conn.request``), and
    shows it in its repr.  Every connection ldapnb hands out (embedded and live) is this class:
    after each bind (``bind``, ``rebind``, ``auto_bind``) the password is dropped and the request
    masked, and the repr never shows it.  A later ``conn.bind()`` without ``rebind`` then needs
    the password again, as it should.
    """

    def search(self, search_base: Any, search_filter: Any, *args: Any, **kwargs: Any) -> Any:
        check_filter_depth(search_filter)  # a typed error, not ldap3's RecursionError
        return super().search(search_base, search_filter, *args, **kwargs)

    def bind(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().bind(*args, **kwargs)
        finally:
            self.forget_secrets()

    def forget_secrets(self) -> None:
        """Drop the password and mask it in the last request (ldap3 keeps both)."""
        self.password = None
        creds = getattr(self, "sasl_credentials", None)
        if isinstance(creds, tuple | list) and len(creds) >= 3 and creds[2] is not None:
            self.sasl_credentials = (*creds[:2], None, *creds[3:])
        request = getattr(self, "request", None)
        if isinstance(request, dict) and request.get("type") == "bindRequest":
            masked = dict(request)
            auth = masked.get("authentication")
            if isinstance(auth, dict):
                masked["authentication"] = {k: ("********" if v and k == "simple" else v)
                                            for k, v in auth.items()}
            self.request = masked

    def __repr__(self) -> str:
        text = super().__repr__()
        if self.password:
            text = re.sub(r"password=(['\"]).*?\1", "password='********'", text)
            text = text.replace(repr(self.password), "'********'")
        return text

    __str__ = __repr__


_Connection = SafeConnection


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


def checked_tls(*, host: str, port: int, ca_file: str | None, server_name: str,
                verify: bool, client_cert: str | None, client_key: str | None) -> Any:
    """An ldap3 ``Tls`` whose handshake is :func:`ldapnb.tls.client_handshake`: the chain, then
    the host name (RFC 6125), checked by ldapnb the same way on Python 3.11-3.13.

    ldap3 calls its ``wrap_socket`` for ``ldaps://`` and for StartTLS and swaps the
    connection's socket for the TLS one.  A failure is kept in ``.failure`` (an ldapnb
    :class:`~ldapnb.errors.TlsError`) before ldap3 wraps the exception in its own, so the caller
    can report it precisely; ``.peer`` is the verified peer certificate.
    """
    from ldap3 import Tls

    from ..tls import client_handshake

    class CheckedTls(Tls):
        def __init__(self) -> None:
            super().__init__(validate=ssl.CERT_REQUIRED if verify else ssl.CERT_NONE,
                             local_certificate_file=client_cert,
                             local_private_key_file=client_key)
            self.failure: TlsError | None = None
            self.peer: dict[str, Any] | None = None
            self.version: Any = None  # ldap3 reads it; None = the default context

        def wrap_socket(self, connection: Any, do_handshake: bool = False) -> None:
            self.failure = None
            try:
                sock, self.peer = client_handshake(
                    connection.socket, host=host, port=port, server_name=server_name,
                    ca_file=ca_file, verify=verify, client_cert=client_cert,
                    client_key=client_key)
            except TlsError as exc:
                self.failure = exc
                raise
            connection.socket = sock

    return CheckedTls()


def bind_request_bytes(user: str, password: str, message_id: int = 1) -> bytes:
    """The BER bytes of a simple bindRequest as ldap3 builds it (its pyasn1 RFC 4511 classes).

    Examples
    --------
    >>> bind_request_bytes("cn=a", "pw").hex(" ")
    '30 12 02 01 01 60 0d 02 01 03 04 04 63 6e 3d 61 80 02 70 77'
    """
    from ldap3.protocol.rfc4511 import (
        LDAPDN,
        AuthenticationChoice,
        BindRequest,
        LDAPMessage,
        MessageID,
        ProtocolOp,
        Simple,
        Version,
    )
    from pyasn1.codec.ber import encoder

    request = BindRequest()
    request["version"] = Version(3)
    request["name"] = LDAPDN(user)
    auth = AuthenticationChoice()
    auth["simple"] = Simple(password)
    request["authentication"] = auth
    message = LDAPMessage()
    message["messageID"] = MessageID(message_id)
    op = ProtocolOp()
    op["bindRequest"] = request
    message["protocolOp"] = op
    return bytes(encoder.encode(message))


def search_request_bytes(base: str, filter: str, attributes: list[str], *, scope: int = 0,
                         message_id: int = 1) -> bytes:
    """The BER bytes of a searchRequest as ldap3 builds it (for CLDAP's "LDAP ping", which
    goes over UDP and so cannot use an ldap3 connection).

    Examples
    --------
    >>> search_request_bytes("", "(objectClass=*)", ["1.1"])[:1].hex()   # an LDAPMessage
    '30'
    """
    from ldap3.operation.search import search_operation
    from ldap3.protocol.rfc4511 import LDAPMessage, MessageID, ProtocolOp
    from pyasn1.codec.ber import encoder

    request = search_operation(base, filter, scope, 0, attributes, 0, 0, False,
                               auto_escape=False, auto_encode=False, schema=None,
                               validator=None, check_names=False)
    message = LDAPMessage()
    message["messageID"] = MessageID(message_id)
    message["protocolOp"] = ProtocolOp().setComponentByName("searchRequest", request)
    return bytes(encoder.encode(message))


def sd_flags_control(flags: int = 7) -> list[Any]:
    """ldap3's controls list for AD's SD flags control (1.2.840.113556.1.4.801): which parts
    of ``nTSecurityDescriptor`` to return (7 = owner, group and DACL; no SACL, which needs
    SeSecurityPrivilege).  With it a non-administrator is given the descriptor."""
    from ldap3.protocol.microsoft import security_descriptor_control

    return list(security_descriptor_control(sdflags=flags))


def offline_ad_connection(entries: Iterable[tuple[str, dict[str, list[Any]]]]) -> Connection:
    """A bound ldap3 MOCK_SYNC connection over ldap3's offline AD 2012 R2 schema holding
    ``entries`` (``(dn, attributes)`` pairs), so that ldap3 itself formats AD values (as tools
    built on ldap3, such as ldapdomaindump, do).  Attributes and object classes that schema
    does not know are left out: ldap3 cannot format them.
    """
    from ldap3 import MOCK_SYNC, OFFLINE_AD_2012_R2, Server

    server = Server("ldapnb-export", get_info=OFFLINE_AD_2012_R2)
    conn = Connection(server, client_strategy=MOCK_SYNC)
    known = server.schema.attribute_types
    classes = server.schema.object_classes
    for dn, attrs in entries:
        kept = {k: v for k, v in attrs.items() if k in known}
        kept["objectClass"] = [c for c in attrs.get("objectClass", ()) if c in classes]
        conn.strategy.add_entry(dn, kept)
    conn.bind()
    return conn


def embedded_connection(
    directory: Servable,
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

    if user is not None and not isinstance(user, str):
        raise ArgumentError("user", "a bind DN (str) or None", user)
    if password is not None and not isinstance(password, (str, bytes)):
        raise ArgumentError("password", "a str, bytes or None", password, show=False)
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
# What the fast search (:mod:`ldapnb.sources._fastsearch`) needs from ldap3's internals
# ============================================================================================
#
# It relies on this in ldap3 2.9.1 (and nothing else): ``conn.socket`` is the (TLS-wrapped)
# socket of an open, bound connection; ``conn.strategy`` is a SyncStrategy (SYNC, SAFE_SYNC,
# RESTARTABLE); ``conn.server.next_message_id()`` hands out message IDs; a connection with
# DIGEST-MD5 integrity (``conn._digest_md5_kis``) wraps every message, so it is not read raw.



#: The ldap3 release whose internals the fast path was written and tested against.
PINNED_LDAP3 = "2.9.1"
LDAP3_VERSION: str = getattr(_ldap3_module, "__version__", "unknown")

__all__ += ["fast_path_available", "PINNED_LDAP3", "LDAP3_VERSION", "guard"]


def fast_path_available(conn: Connection) -> bool:
    """Whether the fast search reads ``conn``'s socket directly (else ldap3's search).

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


def connection_socket(conn: Connection) -> Any:
    """The socket (TLS-wrapped when TLS is on) of an open ldap3 connection, or None."""
    return getattr(conn, "socket", None)


def next_message_id(conn: Connection) -> int:
    """The next LDAP message id of ``conn`` (ldap3 numbers them per server object)."""
    return int(conn.server.next_message_id())


def drop_stream(conn: Connection) -> None:
    """Close ``conn``'s stream without an unbind: it is in an unknown state."""
    try:
        conn.strategy.close()
    except Exception:  # noqa: BLE001,S110 - closing a dead socket may fail in many ways
        pass


#: The final response type of each request type (RFC 4511), as ldap3 names them.
_FINAL_RESPONSE = {
    "bindRequest": "bindResponse", "searchRequest": "searchResDone",
    "modifyRequest": "modifyResponse", "addRequest": "addResponse", "delRequest": "delResponse",
    "modDNRequest": "modDNResponse", "compareRequest": "compareResponse",
    "extendedReq": "extendedResp",
}
_INTERIM_RESPONSE = {"searchRequest": ("searchResEntry", "searchResRef")}
_DOING = {"bindRequest": "binding", "searchRequest": "searching",
          "extendedReq": "waiting for an extended operation's answer",
          "modifyRequest": "modifying", "addRequest": "adding", "delRequest": "deleting",
          "modDNRequest": "renaming", "compareRequest": "comparing"}


def guard(conn: Connection, budget: Any) -> Connection:
    """Make ldap3's synchronous reader of ``conn`` keep to ``budget``
    (:class:`ldapnb.sources._budget.Budget`) and answer only in ldapnb's errors.

    ldap3 2.9.1 waits ``receive_timeout`` per read, for ever in all, and trusts whatever
    length a message declares; its decoders trust inner lengths (a short one truncates a
    value silently) and raise ``RecursionError``, ``TypeError`` ... on malformed answers; it
    takes a final response of the wrong type (a searchResDone to a bind) for the answer.
    With this:

    * every message of an answer must be complete within ``budget.timeout`` of waiting for
      it (a trickled message is stopped), a whole search within ``budget.search_timeout``;
    * a message declaring more than ``budget.max_message_size`` bytes is refused at once;
    * every message is checked to be well-formed BER before ldap3 decodes it
      (:func:`ldapnb.sources._budget.check_ber`: lengths, nesting depth);
    * a malformed answer is a :class:`~ldapnb.errors.MalformedResponse`, one of the wrong
      type a ``DirectoryUnavailable``, and the connection is closed (its stream is in an
      unknown state).

    The budget is kept as ``conn._ldapnb_budget`` for the fast reader.  Connections with a
    DIGEST-MD5 integrity layer keep ldap3's reader (its framing differs) with the other
    checks.  Returns ``conn``.
    """
    from ._budget import BerError, check_ber, message_id_of

    strategy = conn.strategy
    if not isinstance(strategy, SyncStrategy) or isinstance(strategy, MockSyncStrategy):
        return conn
    original_receiving = strategy.receiving
    original_get_response = strategy._get_response
    compute_size = BaseStrategy.compute_ldap_message_size

    def malformed(what: str, data: bytes, offset: int | None) -> MalformedResponse:
        msg_id = message_id_of(data) if data else None
        which = f"message {msg_id}" if msg_id is not None else "a message"
        where = f", byte {offset}" if offset is not None else ""
        return MalformedResponse(
            f"{budget.where} sent a malformed answer while {budget.doing}: {which}{where}: "
            f"{what}. Nothing of it was returned and the connection was closed; the server, "
            "or something between, sent bytes that are not valid LDAP (RFC 4511)",
            message_id=msg_id, offset=offset, host=budget.host, port=budget.port)

    def receiving() -> list[bytes]:
        if getattr(conn, "_digest_md5_kis", None) and not conn.sasl_in_progress:
            return original_receiving()
        messages: list[bytes] = []
        unprocessed = b""
        while True:
            data = budget.recv(conn.socket, strategy.socket_size)
            if not data:  # the server closed: ldap3 reports what came, or a terminated session
                return messages
            unprocessed += data
            while True:
                size = compute_size(unprocessed)
                if size == -1:
                    break
                if unprocessed[0] != 0x30:
                    raise malformed(f"a message starting with tag 0x{unprocessed[0]:02x}, not "
                                    "an LDAPMessage (a SEQUENCE, 0x30)", b"", 0)
                budget.check_size(size)
                if len(unprocessed) < size:
                    break
                message = unprocessed[:size]
                try:
                    check_ber(message)  # ldap3's decoders trust every inner length
                except BerError as exc:
                    raise malformed(exc.what, message, exc.offset) from None
                messages.append(message)
                budget.progress()  # a whole message came: the next one has timeout again
                unprocessed = unprocessed[size:]
                if not unprocessed:
                    return messages

    def get_response(message_id: int, timeout: Any) -> Any:
        request = strategy._outstanding.get(message_id) or {}
        kind = request.get("type", "")
        budget.start(_DOING.get(kind, "waiting for an answer"))
        try:
            responses = original_get_response(message_id, timeout)
        except LdapnbError:
            drop_stream(conn)
            raise
        except (RecursionError, TypeError, ValueError, IndexError, KeyError, AttributeError,
                UnicodeError, OverflowError, PyAsn1Error) as exc:
            drop_stream(conn)
            raise malformed(f"ldap3 could not decode it ({type(exc).__name__}: "
                            f"{str(exc)[:200]})", b"", None) from exc
        finally:
            budget.end()
        if isinstance(responses, list) and len(responses) >= 2 and kind in _FINAL_RESPONSE:
            final = responses[-2].get("type") if isinstance(responses[-2], dict) else None
            allowed = (_FINAL_RESPONSE[kind], *_INTERIM_RESPONSE.get(kind, ()),
                       "intermediateResponse")
            wrong = [r.get("type") for r in responses[:-2] if isinstance(r, dict)
                     and r.get("type") not in allowed]
            if final != _FINAL_RESPONSE[kind] or wrong:
                drop_stream(conn)
                raise DirectoryUnavailable(
                    f"{budget.where} answered a {kind} with "
                    f"{final if final != _FINAL_RESPONSE[kind] else wrong[0]}, not a "
                    f"{_FINAL_RESPONSE[kind]}: that is not an answer to the request (a bind "
                    "answered so does not count as bound); the connection was closed",
                    host=budget.host, port=budget.port)
        return responses

    strategy.receiving = receiving
    strategy._get_response = get_response
    conn._ldapnb_budget = budget
    return conn


def close_quietly(conn: Any) -> None:
    """Unbind ``conn`` and close its socket, whatever state it is in (ldap3 leaves the socket
    open when the server vanished)."""
    sock = getattr(conn, "socket", None)
    try:
        conn.unbind()
    except Exception:  # noqa: BLE001,S110 - the connection may already be dead
        pass
    if sock is not None:
        try:
            sock.close()
        except OSError:
            pass
