"""Bulk search results decoded straight from the socket into column pages.

Why this module exists: ldap3 turns every value of every entry into Python objects through
pyasn1 (a generic BER decoder), per-value formatters, a case-insensitive dict and unicode
conversion; for a whole directory (100k users, a million values) that per-value work is the
slow part, not the socket.  Here ldap3 still opens, secures (LDAPS, StartTLS) and binds the
connection, but a bulk search bypasses its per-entry machinery: the SearchRequest is
BER-encoded from ldapnb's own filter tree, sent on the connection's socket, and each
searchResEntry is cut into (attribute description, value bytes) columns without building an
intermediate message object.  The next page is requested as soon as a page's searchResDone
(with its cookie) is in, before that page is decoded, so the server produces page k+1 while
ldapnb decodes page k.

What it needs from ldap3 is asked of :mod:`ldapnb.sources._ldap3` (the one module that knows
ldap3's internals): whether the fast path applies to a connection, its socket, the next
message id.  Any other ldap3 version, strategy or a SASL integrity layer takes the slow,
public path (``conn.search`` with paging and ``raw_attributes``), which gives the same pages.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import filters as flt
from ..errors import (
    DirectoryUnavailable,
    FilterError,
    LdapnbError,
    LimitExceeded,
    NoSuchEntry,
    OperationError,
)
from . import _ldap3

if TYPE_CHECKING:
    from ldap3 import Connection

__all__ = ["RawPage", "raw_search", "encode_filter"]

_log = logging.getLogger(__name__)

_PAGED = "1.2.840.113556.1.4.319"
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
    >>> from ldapnb.sources._ldap3 import embedded_connection
    >>> conn = embedded_connection(Directory.embedded("tiny").source)
    >>> pages = list(raw_search(conn, "dc=example,dc=com", 2, "(uid=*)", ["uid"]))
    >>> pages[-1].last, sorted(v[0] for v in pages[0].columns["uid"])[:2]
    (True, [b'alice', b'bob'])
    """
    parsed = flt.parse(filter)
    scope_code = _scope(scope)
    attrs = [a for a in (attributes or ()) if a]
    use_fast = _ldap3.fast_path_available(conn) if fast is None else fast
    if use_fast and not _ldap3.fast_path_available(conn):
        version, pinned = _ldap3.LDAP3_VERSION, _ldap3.PINNED_LDAP3
        why = (f"ldap3 {version} is installed but the fast path is written for ldap3 "
               f"{pinned} (pip install ldap3=={pinned})"
               if version != pinned else
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
    """One paged search on ``conn``'s socket (see the module docstring)."""

    def __init__(self, conn: Connection, base: str, scope: int, parsed: flt.Filter,
                 attributes: list[str], page_size: int, size_limit: int,
                 time_limit: int) -> None:
        self.conn = conn
        self.sock = _ldap3.connection_socket(conn)
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
        _ldap3.drop_stream(self.conn)  # the stream is in an unknown state: never reuse it
        return err

    def _send(self, cookie: bytes | None) -> int:
        message_id = _ldap3.next_message_id(self.conn)
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
    from ldap3.core.exceptions import LDAPCommunicationError, LDAPException, LDAPOperationResult

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
