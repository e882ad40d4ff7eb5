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
from .. import oids
from ..errors import (
    ArgumentError,
    DirectoryUnavailable,
    FilterError,
    LdapnbError,
    MalformedResponse,
    OperationError,
)
from ..results import error_for_result
from ..secrets import protect
from . import _ldap3
from .base import SCOPES

if TYPE_CHECKING:
    from ldap3 import Connection

__all__ = ["RawPage", "raw_search", "encode_filter", "decode_search_answer"]

_log = protect(logging.getLogger(__name__))

_PAGED = oids.PAGED_RESULTS
_SCOPES = SCOPES
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
    keys : None
        No normalised DNs (see :class:`ldapnb.sources.base.Page`): a server's DNs are text.
    """

    dns: list[str]
    columns: dict[str, list[Any]]
    names: list[str] = field(default_factory=list)
    referrals: list[str] = field(default_factory=list)
    last: bool = False
    keys: list[str] | None = None

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
        raise ArgumentError("scope", "0, 1, 2 or 'base', 'one', 'sub'", scope)
    if isinstance(scope, int):
        if scope in (0, 1, 2):
            return scope
    elif isinstance(scope, str) and scope.lower() in _SCOPES:
        return _SCOPES[scope.lower()]
    raise ArgumentError("scope", "0 (base), 1 (one level) or 2 (subtree), or 'base', 'one', "
                        "'sub'", scope)


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
#
# Every length is checked against its container (the message, the operation, the attribute
# list, one attribute, its set of values) before anything is read from it, every tag is the one
# RFC 4511 puts there, and names are strict UTF-8: a malformed message raises _Malformed(offset)
# and the caller turns it into MalformedResponse naming the message id.  Nothing is guessed.

class _Malformed(Exception):
    """Raised inside the decoder: ``offset`` (absolute, in the buffer) and what was wrong."""

    def __init__(self, offset: int, what: str) -> None:
        super().__init__(what)
        self.offset = offset
        self.what = what


def _tl(data: bytes | bytearray, p: int, end: int) -> tuple[int, int, int]:
    """(tag, start of contents, end of contents) of the TLV at ``p``, which must lie within
    ``end`` (its container's end); definite lengths of 1-4 bytes only (RFC 4511 section 5.1).

    Examples
    --------
    >>> _tl(b"\\x04\\x02hi", 0, 4)
    (4, 2, 4)
    >>> _tl(b"\\x04\\x05hi", 0, 4)
    Traceback (most recent call last):
    ...
    ldapnb.sources._fastsearch._Malformed: a 5-byte element runs 3 bytes past its container
    """
    if p + 2 > end:
        raise _Malformed(p, "an element header runs past its container")
    tag = data[p]
    n = data[p + 1]
    if n < 0x80:
        start = p + 2
        stop = start + n
    else:
        k = n & 0x7F
        if not k:
            raise _Malformed(p, "an indefinite length (LDAP allows definite lengths only)")
        if k > 4:
            raise _Malformed(p, f"a length of {k} bytes (at most 4 are supported)")
        start = p + 2 + k
        if start > end:
            raise _Malformed(p, "an element header runs past its container")
        stop = start + int.from_bytes(data[p + 2:start], "big")
    if stop > end:
        raise _Malformed(p, f"a {stop - start}-byte element runs {stop - end} bytes past its "
                            "container")
    return tag, start, stop


def _frame_end(data: bytearray, p: int) -> int:
    """End of the message starting at ``p``, or -1 when its header is not all in yet."""
    avail = len(data) - p
    if avail < 2:
        return -1
    if data[p] != 0x30:
        raise _Malformed(p, f"a message starting with tag 0x{data[p]:02x}, not a SEQUENCE "
                            "(0x30)")
    n = data[p + 1]
    if n < 0x80:
        return p + 2 + n
    k = n & 0x7F
    if not k:
        raise _Malformed(p, "an indefinite length (LDAP allows definite lengths only)")
    if k > 4:
        raise _Malformed(p, f"a length of {k} bytes (at most 4 are supported)")
    if avail < 2 + k:
        return -1
    return p + 2 + k + int.from_bytes(data[p + 2:p + 2 + k], "big")


def _message_header(data: bytes | bytearray, p: int, end: int) -> tuple[int, int, int, int]:
    """(message id, protocolOp tag, op start, op end) of the message ``data[p:end]``."""
    tag, s, e = _tl(data, p, end)
    if e != end:
        raise _Malformed(p, "a message whose length disagrees with its frame")
    tag, ms, me = _tl(data, s, e)
    if tag != 0x02 or not 1 <= me - ms <= 4:
        raise _Malformed(s, "a message id that is not an INTEGER of 1-4 bytes")
    msg_id = int.from_bytes(data[ms:me], "big", signed=True)
    if msg_id < 0:
        raise _Malformed(ms, f"a negative message id ({msg_id})")
    op, _os, oe = _tl(data, me, e)
    return msg_id, op, me, oe


def message_id_at(data: bytes | bytearray, p: int) -> int | None:
    """The message id of the message at ``p`` when it can be read (for error messages)."""
    try:
        _, s, e = _tl(data, p, len(data))
        tag, ms, me = _tl(data, s, e)
    except _Malformed:
        return None
    return int.from_bytes(data[ms:me], "big") if tag == 0x02 and 1 <= me - ms <= 4 else None


def _strict(raw: bytes | bytearray, offset: int, what: str) -> str:
    try:
        return bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Malformed(offset + exc.start, f"{what} that is not UTF-8 ({bytes(raw)[:40]!r})") \
            from None


def _controls(data: bytes | bytearray, p: int, end: int) -> list[tuple[str, int, int]]:
    """The controls after a protocolOp (``data[p:end]``): ``(oid, value start, value end)``
    each, the value span (-1, -1) when absent.  Only ``controls [0]`` may follow the op."""
    out: list[tuple[str, int, int]] = []
    if p == end:
        return out
    tag, c, e = _tl(data, p, end)
    if tag != 0xA0 or e != end:
        raise _Malformed(p, "something other than controls [0] after the protocolOp")
    while c < e:
        tag, cs, ce = _tl(data, c, e)
        if tag != 0x30:
            raise _Malformed(c, "a control that is not a SEQUENCE")
        otag, os_, oe = _tl(data, cs, ce)
        if otag != 0x04:
            raise _Malformed(cs, "a control whose type is not an OID string")
        oid = _strict(data[os_:oe], os_, "a control type")
        q, start, stop = oe, -1, -1
        if q < ce and data[q] == 0x01:  # criticality BOOLEAN
            btag, bs, be = _tl(data, q, ce)
            if be - bs != 1:
                raise _Malformed(q, "a control criticality that is not one byte")
            q = be
        if q < ce:
            vtag, start, stop = _tl(data, q, ce)
            if vtag != 0x04 or stop != ce:
                raise _Malformed(q, "a control value that is not its last OCTET STRING")
        out.append((oid, start, stop))
        c = ce
    return out


@dataclass
class _Done:
    code: int
    matched: str
    message: str
    referrals: list[str]
    cookie: bytes | None


def _parse_done(data: bytes | bytearray, p: int, end: int) -> _Done:
    """searchResDone (``p``: its tag) and the paged-results control after it, up to ``end``
    (the message's end)."""
    _, q, op_end = _tl(data, p, end)
    parts = []
    while q < op_end:
        tag, s, e = _tl(data, q, op_end)
        parts.append((tag, s, e))
        q = e
    if len(parts) < 3 or [t for t, _, _ in parts[:3]] != [0x0A, 0x04, 0x04]:
        raise _Malformed(p, "a searchResDone that is not {resultCode, matchedDN, "
                            "diagnosticMessage}")
    _, cs, ce = parts[0]
    if not 1 <= ce - cs <= 4:
        raise _Malformed(cs, "a result code that is not an ENUMERATED of 1-4 bytes")
    code = int.from_bytes(data[cs:ce], "big")
    referrals: list[str] = []
    if len(parts) > 4 or (len(parts) == 4 and parts[3][0] != 0xA3):
        raise _Malformed(parts[3][1], "a searchResDone with elements after its result "
                                      "(only a referral [3] may follow)")
    for _tag, s, e in parts[3:]:
        r = s
        while r < e:
            utag, us, ue = _tl(data, r, e)
            if utag != 0x04:
                raise _Malformed(r, "a referral URL that is not an OCTET STRING")
            referrals.append(_strict(data[us:ue], us, "a referral URL"))
            r = ue
    cookie = None
    for oid, start, stop in _controls(data, op_end, end):
        if oid == _PAGED and start >= 0:  # controlValue: SEQUENCE {size, cookie}
            stag, ss, se = _tl(data, start, stop)
            itag, _is, ie = _tl(data, ss, se)  # size
            ktag, ks, ke = _tl(data, ie, se)  # cookie
            if stag != 0x30 or se != stop or itag != 0x02 or ktag != 0x04 or ke != se:
                raise _Malformed(start, "a paged-results control value that is not "
                                        "{size, cookie}")
            cookie = bytes(data[ks:ke])
    return _Done(code, _strict(data[parts[1][1]:parts[1][2]], parts[1][1], "a matched DN"),
                 bytes(data[parts[2][1]:parts[2][2]]).decode("utf-8", "replace"), referrals,
                 cookie)


def entry_spans(data: bytes | bytearray) -> list[tuple[int, int, int]]:
    """``(message start, searchResEntry start, its end)`` of each message in ``data`` (a run of
    whole LDAP messages), as :func:`_decode_entries` takes them; every header checked."""
    spans = []
    p = 0
    while p < len(data):
        end = _frame_end(data, p)  # type: ignore[arg-type]
        if end < 0 or end > len(data):
            raise _Malformed(p, "a message cut short")
        _, _op, op_start, op_end = _message_header(data, p, end)
        spans.append((p, op_start, op_end))
        p = end
    return spans


def _decode_entries(data: bytes, spans: list[tuple[int, int, int]],
                    cols: dict[bytes, list[Any]], dns: list[str]) -> None:
    """Cut each searchResEntry into ``dns`` and ``cols``; ``spans`` holds (message start,
    entry start, entry end) of each, headers already checked (:func:`entry_spans`).

    The hot loop of the fast path, written out by hand: per value, a tag test, one length byte
    test and one slice.  ``cols`` maps the attribute description's bytes to one value list per
    row.  Bounds are checked where they are cheapest and still exact: every element must end
    exactly where its container ends (the values where their set ends, the set where its
    attribute ends, the attributes where the list ends, the list where the message ends), so a
    length that runs over (into the next message) or under (leaving bytes read as another
    value) is caught before the entry is kept.  A malformed message raises :class:`_Malformed`
    and nothing is added for it (the caller drops the whole page).
    """
    from_bytes = int.from_bytes
    empty = _EMPTY
    row = len(dns)
    add_dn = dns.append
    bad = _Malformed
    for _s, p, op_end in spans:
        if data[p] != 0x64:
            raise bad(p, f"protocolOp 0x{data[p]:02x} where a searchResEntry (0x64) was "
                         "expected")
        at = p
        try:
            n = data[p + 1]
            p = p + 2 if n < 0x80 else p + 2 + (n & 0x7F)
            # objectName: LDAPDN (OCTET STRING)
            if data[p] != 0x04:
                raise bad(p, "a searchResEntry whose first element is not its DN")
            n = data[p + 1]
            if n < 0x80:
                p += 2
            else:
                k = n & 0x7F
                if not k or k > 4:
                    raise bad(p, "a bad length of the entry's DN")
                n = from_bytes(data[p + 2:p + 2 + k], "big")
                p += 2 + k
            if p + n > op_end:
                raise bad(p, f"a {n}-byte DN that runs {p + n - op_end} bytes past its entry")
            raw_dn = data[p:p + n]
            try:
                dn = raw_dn.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise bad(p + exc.start, f"a DN that is not UTF-8 ({raw_dn[:40]!r})") from None
            p += n
            # attributes: SEQUENCE OF PartialAttribute, ending where the entry ends
            at = p
            if data[p] != 0x30:
                raise bad(p, "a searchResEntry whose attribute list is not a SEQUENCE")
            n = data[p + 1]
            if n < 0x80:
                p += 2
            else:
                k = n & 0x7F
                if not k or k > 4:
                    raise bad(p, "a bad length of the attribute list")
                n = from_bytes(data[p + 2:p + 2 + k], "big")
                p += 2 + k
            attrs_end = p + n
            if attrs_end != op_end:
                raise bad(at, f"an attribute list that ends {attrs_end - op_end:+d} bytes from "
                              "where its entry ends")
            add_dn(dn)
            while p < attrs_end:
                # PartialAttribute: SEQUENCE { type, vals }
                at = p
                if data[p] != 0x30:
                    raise bad(p, "an attribute that is not a SEQUENCE")
                n = data[p + 1]
                if n < 0x80:
                    p += 2
                else:
                    k = n & 0x7F
                    if not k or k > 4:
                        raise bad(p, "a bad length of an attribute")
                    n = from_bytes(data[p + 2:p + 2 + k], "big")
                    p += 2 + k
                pa_end = p + n
                # type: AttributeDescription (OCTET STRING)
                if data[p] != 0x04:
                    raise bad(p, "an attribute whose type is not an OCTET STRING")
                n = data[p + 1]
                if n >= 0x80:
                    k = n & 0x7F
                    if not k or k > 4:
                        raise bad(p, "a bad length of an attribute type")
                    n = from_bytes(data[p + 2:p + 2 + k], "big")
                    p += k
                name_at = p + 2
                p = name_at + n
                name = data[name_at:p]
                # vals: SET OF value, ending where the attribute ends
                if data[p] != 0x31:
                    raise bad(p, "an attribute whose values are not a SET")
                n = data[p + 1]
                if n < 0x80:
                    p += 2
                else:
                    k = n & 0x7F
                    if not k or k > 4:
                        raise bad(p, "a bad length of a value set")
                    n = from_bytes(data[p + 2:p + 2 + k], "big")
                    p += 2 + k
                set_end = p + n
                if set_end != pa_end:
                    raise bad(at, f"an attribute whose values end {set_end - pa_end:+d} bytes "
                                  "from where the attribute ends")
                if n >= 2 and data[p] == 0x04 and data[p + 1] < 0x80 and \
                        p + 2 + data[p + 1] == set_end:
                    vals = [data[p + 2:set_end]]  # one short value: the common case
                    p = set_end
                else:
                    vals = []
                    add = vals.append
                    while p < set_end:
                        if data[p] != 0x04:
                            raise bad(p, "a value that is not an OCTET STRING")
                        n = data[p + 1]
                        if n < 0x80:
                            p += 2
                        else:
                            k = n & 0x7F
                            if not k or k > 4:
                                raise bad(p, "a bad length of a value")
                            n = from_bytes(data[p + 2:p + 2 + k], "big")
                            p += 2 + k
                        add(data[p:p + n])
                        p += n
                    if p != set_end:
                        raise bad(at, f"a value that runs {p - set_end} bytes past its set")
                col = cols.get(name)
                if col is None:
                    try:
                        name.decode("utf-8")
                    except UnicodeDecodeError:
                        raise bad(name_at, f"an attribute type that is not UTF-8 "
                                           f"({name[:40]!r})") from None
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
            if p != attrs_end:
                raise bad(at, f"an attribute that runs {p - attrs_end} bytes past its entry")
        except (_Malformed, IndexError) as exc:
            if len(dns) > row:
                dns.pop()
            for col in cols.values():  # drop what this entry added
                if len(col) > row:
                    del col[row:]
            if isinstance(exc, IndexError):
                raise bad(at, "an element that runs past the end of the data") from None
            raise
        row += 1


class _OtherMessage(Exception):
    """A well-formed message that answers another request (or is a notice)."""

    def __init__(self, message_id: int, op: int) -> None:
        super().__init__(f"message {message_id}, protocolOp 0x{op:02x}")
        self.message_id = message_id
        self.op = op


def _take_message(data: bytes | bytearray, p: int, end: int, message_id: int,
                  spans: list[tuple[int, int, int]], refs: list[str]) -> _Done | None:
    """Sort the message ``data[p:end]`` of a search's answer: an entry (its span noted), a
    continuation reference (its URLs noted), the searchResDone (returned), an intermediate
    response (skipped).  Raises _Malformed, or _OtherMessage for another message id."""
    msg_id, op, me, op_end = _message_header(data, p, end)
    if msg_id != message_id:
        raise _OtherMessage(msg_id, op)
    if op_end != end and op != 0x65:  # searchResDone reads its controls itself
        _controls(data, op_end, end)
    if op == 0x64:
        spans.append((p, me, op_end))
    elif op == 0x73:  # searchResRef: URLs, reported not followed
        q = _tl(data, me, op_end)[1]
        while q < op_end:
            tag, us, ue = _tl(data, q, op_end)
            if tag != 0x04:
                raise _Malformed(q, "a referral URL that is not an OCTET STRING")
            refs.append(_strict(data[us:ue], us, "a referral URL"))
            q = ue
    elif op == 0x65:
        return _parse_done(data, me, end)
    elif op != 0x79:  # intermediateResponse: skipped; anything else is wrong
        raise _Malformed(me, f"protocolOp 0x{op:02x} in the answer to a search")
    return None


def _message_start(spans: list[tuple[int, int, int]], offset: int) -> int:
    return max((s[0] for s in spans if s[0] <= offset), default=0)


def _malformed_error(exc: _Malformed, data: bytes | bytearray, start: int, host: Any = None,
                     port: Any = None, during: str = "", received: int = 0) -> MalformedResponse:
    """The typed error for the malformed message starting at ``start`` of ``data``."""
    msg_id = message_id_at(data, start)
    offset = exc.offset - start
    which = f"message {msg_id}" if msg_id is not None else "a message"
    who = f"{host}:{port}" if host else "the server"
    closed = " and the connection was closed" if host else ""
    _log.debug("malformed LDAP message at offset %d: %s", exc.offset, exc.what)
    return MalformedResponse(
        f"{who} sent a malformed answer{during}: {which}, byte {offset}: {exc.what}. Nothing "
        f"of this search was returned (after {received} entries){closed}; the server, or "
        "something between, sent bytes that are not valid LDAP (RFC 4511)",
        message_id=msg_id, offset=offset, host=host, port=port)


def decode_search_answer(data: bytes, message_id: int) -> tuple[RawPage, _Done]:
    """Decode one page of a search's answer, ``data`` being every message of it up to and
    including its searchResDone: what the fast search does with the bytes it receives.

    Returns the page (DNs and columns of raw values) and the searchResDone.  Raises
    :class:`~ldapnb.errors.MalformedResponse` (message id, byte offset) when any message is
    not valid LDAP, or an answer to another request is in it, or the searchResDone is missing
    or followed by more bytes: nothing is returned then.

    Examples
    --------
    >>> done = bytes.fromhex("300c02010765070a010004000400")
    >>> page, result = decode_search_answer(done, 7)
    >>> len(page), result.code
    (0, 0)
    >>> overrun = bytes.fromhex("300c02010765070a010004050400")  # matchedDN: 5 bytes?
    >>> try:
    ...     decode_search_answer(overrun, 7)
    ... except MalformedResponse as exc:
    ...     print(exc.message_id, exc.offset, str(exc).split(": ")[2].split(".")[0])
    7 10 a 5-byte element runs 3 bytes past its container
    """
    spans: list[tuple[int, int, int]] = []
    refs: list[str] = []
    p = 0
    done = None
    try:
        while p < len(data):
            if done is not None:
                raise _Malformed(p, "bytes after the searchResDone")
            end = _frame_end(data, p)  # type: ignore[arg-type]
            if end < 0 or end > len(data):
                raise _Malformed(p, "a message cut short")
            try:
                done = _take_message(data, p, end, message_id, spans, refs)
            except _OtherMessage as exc:
                raise _Malformed(p, f"an answer to another request ({exc})") from None
            p = end
        if done is None:
            raise _Malformed(p, "no searchResDone")
    except _Malformed as exc:
        raise _malformed_error(exc, data, p) from None
    dns: list[str] = []
    raw: dict[bytes, list[Any]] = {}
    try:
        _decode_entries(data, spans, raw, dns)
    except _Malformed as exc:
        raise _malformed_error(exc, data, _message_start(spans, exc.offset)) from None
    n = len(dns)
    columns: dict[str, list[Any]] = {}
    for key, col in raw.items():
        col.extend([_EMPTY] * (n - len(col)))
        columns[key.decode("utf-8")] = col
    return RawPage(dns, columns, list(columns), refs, last=not done.cookie), done


def _raise_for_result(code: int, matched: str, message: str, referrals: list[str], base: str,
                      size_limit: int, time_limit: int, returned: int, partial: Any) -> None:
    """Turn a searchResDone that is not success into ldapnb's error (:mod:`ldapnb.results`)."""
    if code == 0:
        return
    raise error_for_result(code, message, doing=f"searching {base!r}", dn=base,
                           matched=matched, referrals=referrals, size_limit=size_limit,
                           time_limit=time_limit, returned=returned, partial=partial)


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
        self.budget = getattr(conn, "_ldapnb_budget", None)  # see _ldap3.guard()
        self.loop = _PageLoop()

    # -- wire ---------------------------------------------------------------------------------
    def _unavailable(self, what: str, exc: BaseException | None = None) -> DirectoryUnavailable:
        server = self.conn.server
        err = DirectoryUnavailable(
            f"{what} from {server.host}:{server.port} during a search of {self.base!r}, "
            f"after {self.received} entries: the result is incomplete and was not returned; "
            "check that the server is running and reachable, then search again",
            host=server.host, port=server.port)
        self._drop()
        return err

    def _drop(self) -> None:
        self.outstanding = None  # nothing to read to its end: the stream is closed
        _ldap3.drop_stream(self.conn)  # the stream is in an unknown state: never reuse it

    def _malformed(self, exc: _Malformed, data: bytes | bytearray,
                   start: int) -> MalformedResponse:
        """The typed error for a malformed message starting at ``start`` of ``data``; the
        connection is closed (its stream cannot be trusted any more)."""
        server = self.conn.server
        err = _malformed_error(exc, data, start, server.host, server.port,
                               f" during a search of {self.base!r}", self.received)
        self._drop()
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
            chunk = self.sock.recv(_RECV) if self.budget is None else \
                self.budget.recv(self.sock, _RECV)
        except DirectoryUnavailable:  # a limit of the budget: it says which
            self._drop()
            raise
        except TimeoutError as exc:
            raise self._unavailable("no answer in time (receive timeout)", exc) from exc
        except (OSError, AttributeError) as exc:
            raise self._unavailable(f"the connection broke ({exc})", exc) from exc
        if not chunk:
            raise self._unavailable("the server closed the connection")
        self.pending += chunk

    def _receive_page(self, message_id: int) -> tuple[bytes, list[Any], list[str], _Done]:
        """Read until the searchResDone of ``message_id``; entry message starts, references."""
        spans: list[tuple[int, int, int]] = []
        refs: list[str] = []
        budget = self.budget
        if budget is None:
            return self._read_page(message_id, spans, refs)
        budget.start(f"searching {self.base!r} (after {self.received} entries)")
        try:
            return self._read_page(message_id, spans, refs)
        finally:
            budget.end()

    def _read_page(self, message_id: int, spans: list[tuple[int, int, int]],
                   refs: list[str]) -> tuple[bytes, list[Any], list[str], _Done]:
        budget = self.budget
        p = 0
        while True:
            data = self.pending
            try:
                end = _frame_end(data, p)
            except _Malformed as exc:
                raise self._malformed(exc, data, p) from None
            if budget is not None and end > p:
                try:
                    budget.check_size(end - p)
                except DirectoryUnavailable:
                    self._drop()
                    raise
            if end < 0 or end > len(data):
                self._recv()
                continue
            try:
                done = _take_message(data, p, end, message_id, spans, refs)
            except _OtherMessage as exc:
                if exc.message_id == 0 and exc.op == 0x78:  # notice of disconnection (4.4.1)
                    raise self._unavailable("the server ended the session (notice of "
                                            "disconnection)") from None
                raise self._unavailable(f"an answer to another request (message "
                                        f"{exc.message_id})") from None
            except _Malformed as exc:
                raise self._malformed(exc, data, p) from None
            if budget is not None:  # a whole message came: the next one has timeout again
                budget.progress()
            if done is not None:
                page = bytes(data[:end])
                del self.pending[:end]
                self.outstanding = None
                return page, spans, refs, done
            p = end

    # -- pages --------------------------------------------------------------------------------
    def _page(self, data: bytes, spans: list[Any], refs: list[str]) -> RawPage:
        dns: list[str] = []
        raw: dict[bytes, list[Any]] = {}
        try:
            _decode_entries(data, spans, raw, dns)
        except _Malformed as exc:
            raise self._malformed(exc, data, _message_start(spans, exc.offset)) from None
        n = len(dns)
        columns: dict[str, list[Any]] = {}
        for key, col in raw.items():
            if len(col) < n:
                col.extend([_EMPTY] * (n - len(col)))
            name = self._decoded.get(key)
            if name is None:
                name = self._decoded[key] = key.decode("utf-8")  # checked: UTF-8
                self.names.append(name)
            columns[name] = col
        return RawPage(dns, columns, list(self.names), refs)

    def pages(self) -> Iterator[RawPage]:
        paged = self.page_size > 0
        budget = self.budget
        if budget is not None:
            budget.start_search()
        message_id = self._send(b"" if paged else None)
        try:
            while True:
                data, spans, refs, done = self._receive_page(message_id)
                more = paged and done.code == 0 and bool(done.cookie)
                page = None
                if more and self.loop.reused(done.cookie):  # decide on the page (_PageLoop)
                    page = self._page(data, spans, refs)
                    if self.loop.again(done.cookie, page.dns):
                        self._drop()
                        server = self.conn.server
                        raise DirectoryUnavailable(
                            _repeated_cookie(f"{server.host}:{server.port}", self.base,
                                             self.received, done.cookie),
                            host=server.host, port=server.port)
                if more:  # slapd works on the next page while this one is decoded
                    message_id = self._send(done.cookie)
                if page is None:
                    page = self._page(data, spans, refs)
                    if more:
                        self.loop.again(done.cookie, page.dns)
                del data
                self.received += len(page)
                _raise_for_result(done.code, done.matched, done.message, done.referrals,
                                  self.base, self.size_limit, self.time_limit, self.received,
                                  page)
                page.last = not more
                held = budget.pause() if budget is not None else 0.0
                yield page
                if budget is not None:  # the caller's time between pages is not the server's
                    budget.resume(held)
                if not more:
                    return
        finally:
            if budget is not None:
                budget.end_search()
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


class _PageLoop:
    """When a paged search is going round in circles: one rule for both readers.

    RFC 2696 makes the cookie opaque, and a server may send the same cookie with every page
    (Samba keeps one cookie for the whole search), so a repeated cookie alone is no loop.  A
    page whose cookie and first entry (or emptiness) were both seen before is: the server is
    sending the same page again, and following it would repeat it for ever.  (Ever-new
    cookies are bounded by the search's deadline instead.)
    """

    def __init__(self) -> None:
        self.cookies: set[bytes] = set()
        self.pages: set[tuple[bytes, str | None]] = set()

    def reused(self, cookie: bytes | None) -> bool:
        """True when ``cookie`` came before: the page must be looked at before following it."""
        return bytes(cookie or b"") in self.cookies

    def again(self, cookie: bytes | None, dns: list[str]) -> bool:
        """Record a page that came with ``cookie``; True when the same page came before."""
        key = (bytes(cookie or b""), dns[0] if dns else None)
        seen = key in self.pages
        self.cookies.add(key[0])
        self.pages.add(key)
        return seen


def _repeated_cookie(where: str, base: str, received: int, cookie: bytes | None) -> str:
    shown = (cookie or b"")[:16]
    return (f"{where} sent a paged-results cookie it had already sent ({shown!r}"
            f"{'...' if len(cookie or b'') > 16 else ''}) with the same page again during a "
            f"search of {base!r}, after {received} entries: following it would repeat the same "
            "pages for ever (a server bug, or a hostile server), so the search was stopped and "
            "its incomplete answer not returned; search with page_size=0 (no paging) or a "
            "narrower filter")


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
    budget = getattr(conn, "_ldapnb_budget", None)  # see _ldap3.guard(): each page in time
    if budget is not None:
        budget.start_search()
    loop = _PageLoop()
    while True:
        kwargs: dict[str, Any] = {}
        if cookie is not None:
            kwargs.update(paged_size=page_size, paged_cookie=cookie)
        try:
            if budget is not None:
                budget.searching = True
            conn.search(base, filter, search_scope=scope_name,
                        attributes=attributes or ["*"], size_limit=size_limit,
                        time_limit=time_limit, **kwargs)
            result = conn.result or {}
        except LDAPOperationResult as exc:
            result = {"result": exc.result, "description": exc.description,
                      "dn": exc.dn or "", "message": exc.message or "", "referrals": None}
        except LdapnbError:
            raise
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
        finally:
            if budget is not None:
                budget.searching = False
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
        if more and loop.again(next_cookie, dns):
            server = conn.server
            _ldap3.drop_stream(conn)
            raise DirectoryUnavailable(
                _repeated_cookie(f"{server.host}:{server.port}", base, received, next_cookie),
                host=server.host, port=server.port)
        page.last = not more
        held = budget.pause() if budget is not None else 0.0
        yield page
        if budget is not None:
            budget.resume(held)
        if not more:
            return
        cookie = next_cookie
