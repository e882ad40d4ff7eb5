"""A small hostile LDAP server on loopback, for tests only.

:class:`HostileServer` listens on a free port of 127.0.0.1 and answers like a tiny directory
(three entries under ``dc=example,dc=com``, a rootDSE, paged results, simple binds) except for
one request kind, the *phase* (``"bind"``, ``"rootdse"`` or ``"search"``), which it hands to a
*misbehaviour*: a function ``misbehave(session, request)`` that may close, reset, stay silent,
send garbage, send a message of the wrong type, trickle bytes, repeat a paged cookie ...

It is written by hand over :mod:`socket` with a few BER helpers (RFC 4511), runs on threads,
and stops by itself: after ``lifetime`` seconds every socket is closed and every thread ends,
whatever the client does.  Each server object has its own port.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BASE = "dc=example,dc=com"
PAGED = "1.2.840.113556.1.4.319"
STARTTLS = "1.3.6.1.4.1.1466.20037"
NOTICE_OF_DISCONNECTION = "1.3.6.1.4.1.1466.20036"

#: The directory the server holds: what a correct answer to ``(objectClass=*)`` under BASE is.
ENTRIES: list[tuple[str, dict[str, list[bytes]]]] = [
    (BASE, {"objectClass": [b"top", b"domain"], "dc": [b"example"]}),
    (f"cn=alice,{BASE}", {"objectClass": [b"top", b"person"], "cn": [b"alice"],
                          "sn": [b"Liddell"]}),
    (f"cn=bob,{BASE}", {"objectClass": [b"top", b"person"], "cn": [b"bob"], "sn": [b"Builder"]}),
]
ROOT_DSE: dict[str, list[bytes]] = {
    "objectClass": [b"top", b"OpenLDAProotDSE"],
    "namingContexts": [BASE.encode()],
    "supportedLDAPVersion": [b"3"],
    "supportedControl": [PAGED.encode()],
    "subschemaSubentry": [b"cn=Subschema"],
}

# LDAP application tags (RFC 4511 section 4.2 ff.)
BIND_REQUEST, BIND_RESPONSE = 0x60, 0x61
UNBIND_REQUEST = 0x42
SEARCH_REQUEST, SEARCH_ENTRY, SEARCH_DONE, SEARCH_REF = 0x63, 0x64, 0x65, 0x73
EXTENDED_REQUEST, EXTENDED_RESPONSE, INTERMEDIATE = 0x77, 0x78, 0x79


# ------------------------------------------------------------------------------------------
# BER helpers (definite lengths, as RFC 4511 section 5.1 requires)
# ------------------------------------------------------------------------------------------
def length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + length(len(body)) + body


def integer(n: int, tag: int = 0x02) -> bytes:
    return tlv(tag, n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big", signed=True))


def octets(value: str | bytes, tag: int = 0x04) -> bytes:
    return tlv(tag, value.encode() if isinstance(value, str) else value)


def seq(*parts: bytes, tag: int = 0x30) -> bytes:
    return tlv(tag, b"".join(parts))


def message(message_id: int, op: bytes, controls: bytes = b"") -> bytes:
    return seq(integer(message_id), op, controls)


def result_body(code: int = 0, matched: str = "", diagnostic: str | bytes = "",
                referrals: list[str] | None = None) -> bytes:
    body = integer(code, 0x0A) + octets(matched) + octets(diagnostic)
    if referrals is not None:
        body += seq(*(octets(u) for u in referrals), tag=0xA3)
    return body


def result(message_id: int, op_tag: int, code: int = 0, *, controls: bytes = b"",
           **kwargs: Any) -> bytes:
    return message(message_id, tlv(op_tag, result_body(code, **kwargs)), controls)


def paged_control(cookie: bytes, size: int = 0) -> bytes:
    value = seq(integer(size), octets(cookie))
    return seq(seq(octets(PAGED), octets(value)), tag=0xA0)


def entry_op(dn: str | bytes, attrs: dict[Any, list[bytes]]) -> bytes:
    parts = [seq(octets(name), seq(*(octets(v) for v in values), tag=0x31))
             for name, values in attrs.items()]
    return seq(octets(dn), seq(*parts), tag=SEARCH_ENTRY)


def entry(message_id: int, dn: str | bytes, attrs: dict[Any, list[bytes]]) -> bytes:
    return message(message_id, entry_op(dn, attrs))


def extended(message_id: int, name: str | None, code: int = 0, diagnostic: str = "") -> bytes:
    body = result_body(code, diagnostic=diagnostic)
    if name is not None:
        body += octets(name, 0x8A)
    return message(message_id, tlv(EXTENDED_RESPONSE, body))


def nested(depth: int, inner: bytes = b"\x05\x00") -> bytes:
    """``depth`` SEQUENCEs one inside the other (built inside out, no recursion)."""
    out = inner
    for _ in range(depth):
        out = tlv(0x30, out)
    return out


def _read_tl(data: bytes, p: int) -> tuple[int, int, int]:
    tag, n = data[p], data[p + 1]
    if n < 0x80:
        return tag, p + 2, p + 2 + n
    k = n & 0x7F
    start = p + 2 + k
    return tag, start, start + int.from_bytes(data[p + 2:start], "big")


# ------------------------------------------------------------------------------------------
# requests
# ------------------------------------------------------------------------------------------
@dataclass
class Request:
    """One request as the client sent it."""

    message_id: int
    op: int
    raw: bytes
    base: str = ""
    scope: int = 0
    page_size: int | None = None  # None: no paged-results control
    cookie: bytes = b""
    name: str = ""  # bind DN or extended request name

    @property
    def kind(self) -> str:
        if self.op == BIND_REQUEST:
            return "bind"
        if self.op == SEARCH_REQUEST:
            if self.base == "":
                return "rootdse"
            if self.base.lower() == "cn=subschema":
                return "schema"
            return "search"
        if self.op == EXTENDED_REQUEST:
            return "extended"
        if self.op == UNBIND_REQUEST:
            return "unbind"
        return "other"

    @property
    def paged(self) -> bool:
        return self.page_size is not None


def parse_request(raw: bytes) -> Request:
    _, p, end = _read_tl(raw, 0)
    _, s, e = _read_tl(raw, p)
    message_id = int.from_bytes(raw[s:e], "big")
    op = raw[e]
    _, s, op_end = _read_tl(raw, e)
    req = Request(message_id, op, raw)
    if op == SEARCH_REQUEST:
        _, bs, be = _read_tl(raw, s)
        req.base = raw[bs:be].decode("utf-8", "replace")
        _, ss, _se = _read_tl(raw, be)
        req.scope = raw[ss]
    elif op == BIND_REQUEST:
        _, vs, ve = _read_tl(raw, s)
        _, ns, ne = _read_tl(raw, ve)
        req.name = raw[ns:ne].decode("utf-8", "replace")
    elif op == EXTENDED_REQUEST:
        _, ns, ne = _read_tl(raw, s)
        req.name = raw[ns:ne].decode("utf-8", "replace")
    q = op_end
    while q < end:  # controls [0]
        tag, cs, ce = _read_tl(raw, q)
        if tag == 0xA0:
            c = cs
            while c < ce:
                _, xs, xe = _read_tl(raw, c)
                _, os_, oe = _read_tl(raw, xs)
                if raw[os_:oe] == PAGED.encode():
                    v = oe
                    while v < xe:
                        vtag, vs, ve = _read_tl(raw, v)
                        if vtag == 0x04:
                            _, ss, _ = _read_tl(raw, vs)
                            _, zs, ze = _read_tl(raw, ss)
                            req.page_size = int.from_bytes(raw[zs:ze], "big")
                            _, ks, ke = _read_tl(raw, ze)
                            req.cookie = raw[ks:ke]
                        v = ve
                c = xe
        q = ce
    return req


# ------------------------------------------------------------------------------------------
# sessions and the server
# ------------------------------------------------------------------------------------------
Misbehaviour = Callable[["Session", Request], None]


class Closed(Exception):
    """The session is over (the client left, or the misbehaviour closed it)."""


class Session:
    """One client connection: reads requests, answers them (normally, or by misbehaving)."""

    def __init__(self, server: HostileServer, sock: socket.socket):
        self.server = server
        self.sock = sock
        self.buffer = b""
        self.pages_sent = 0

    # -- the wire ----------------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise Closed from exc

    def trickle(self, data: bytes, every: float = 0.3) -> None:
        """Send ``data`` one byte at a time, ``every`` seconds apart (until the client leaves
        or the server's lifetime ends)."""
        for i in range(len(data)):
            self.send(data[i:i + 1])
            if self.server.stopping.wait(every):
                raise Closed

    def close(self) -> None:
        raise Closed

    def reset(self) -> None:
        """Close with a TCP RST (SO_LINGER 0) instead of a FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raise Closed

    def hold(self) -> None:
        """Say nothing more; keep the connection open until the client leaves (or the
        server's lifetime ends)."""
        try:
            self.sock.settimeout(0.05)
        except OSError as exc:  # the server's stop closed the socket meanwhile
            raise Closed from exc
        while not self.server.stopping.is_set():
            try:
                if not self.sock.recv(65536):
                    break
            except TimeoutError:
                continue
            except OSError:
                break
        raise Closed

    def wait_for_bytes(self) -> bytes:
        """Whatever the client sends next (a TLS ClientHello ...), once some has come."""
        while True:
            if self.buffer:
                data, self.buffer = self.buffer, b""
                return data
            self._receive()

    def _receive(self) -> None:
        """Add what the client sent next to the buffer (nothing after a read timeout, unless
        the server is stopping); a closed connection is :class:`Closed`."""
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            if self.server.stopping.is_set():
                raise Closed from None
            return
        except OSError as exc:
            raise Closed from exc
        if not chunk:
            raise Closed
        self.buffer += chunk

    def read_request(self) -> Request:
        while True:
            if len(self.buffer) >= 2:
                try:
                    tag, start, end = _read_tl(self.buffer, 0)
                except IndexError:
                    end = -1
                if 0 <= end <= len(self.buffer):
                    raw, self.buffer = self.buffer[:end], self.buffer[end:]
                    return parse_request(raw)
            self._receive()

    # -- a correct directory -----------------------------------------------------------------
    def normal(self, req: Request) -> None:
        """Answer ``req`` as a correct server would."""
        self.send(self.answer(req))

    def answer(self, req: Request, message_id: int | None = None) -> bytes:
        """The bytes of the correct answer to ``req`` (with ``message_id`` instead of the
        request's, to misbehave)."""
        mid = req.message_id if message_id is None else message_id
        if req.op == BIND_REQUEST:
            return result(mid, BIND_RESPONSE, 0)
        if req.op == UNBIND_REQUEST:
            raise Closed
        if req.op == EXTENDED_REQUEST:
            return extended(mid, None, 2, "unsupported extended operation")
        if req.op == SEARCH_REQUEST:
            kind = req.kind
            if kind == "rootdse":
                dse = dict(ROOT_DSE)
                if self.server.offer_starttls:
                    dse["supportedExtension"] = [STARTTLS.encode()]
                return entry(mid, "", dse) + result(mid, SEARCH_DONE)
            if kind == "schema":
                return result(mid, SEARCH_DONE, 32, diagnostic="no subschema here")
            return self.search_answer(req, message_id=mid)
        return result(mid, 0x6F, 2, diagnostic="unsupported operation")

    def matches(self, req: Request) -> list[tuple[str, dict[str, list[bytes]]]]:
        base = req.base.lower()
        found = [(dn, attrs) for dn, attrs in ENTRIES
                 if dn.lower() == base or dn.lower().endswith("," + base)]
        if req.scope == 0:
            found = [(dn, a) for dn, a in found if dn.lower() == base]
        return found

    def search_answer(self, req: Request, *, cookie_for: Callable[[int], bytes] | None = None,
                      message_id: int | None = None) -> bytes:
        """The correct answer to a search: all matches, or one page of them when paged (the
        cookie is the offset of the next entry, as text)."""
        mid = req.message_id if message_id is None else message_id
        found = self.matches(req)
        if not found and req.base.lower() != BASE and not req.base.lower().endswith(BASE):
            return result(mid, SEARCH_DONE, 32, matched="")
        if not req.paged:
            return b"".join(entry(mid, dn, a) for dn, a in found) + result(mid, SEARCH_DONE)
        start = int(req.cookie) if req.cookie.isdigit() else 0
        size = req.page_size or len(found)
        page = found[start:start + size]
        nxt = start + size
        cookie = str(nxt).encode() if nxt < len(found) else b""
        if cookie_for is not None:
            cookie = cookie_for(nxt)
        self.pages_sent += 1
        return (b"".join(entry(mid, dn, a) for dn, a in page)
                + result(mid, SEARCH_DONE, controls=paged_control(cookie)))

    def run(self) -> None:
        try:
            if self.server.on_connect is not None:
                self.server.on_connect(self)
            while not self.server.stopping.is_set():
                req = self.read_request()
                self.server.requests.append(req.kind)
                if req.kind == self.server.phase:
                    self.server.hits += 1
                    self.server.misbehave(self, req)
                else:
                    self.normal(req)
        except Closed:
            pass
        finally:
            try:
                self.sock.close()
            except OSError:
                pass


@dataclass
class HostileServer:
    """A loopback LDAP server that misbehaves on one kind of request.

    Parameters
    ----------
    misbehave : callable
        ``misbehave(session, request)``: what to do instead of answering ``request``.
    phase : str
        Which requests are handed to ``misbehave``: ``"bind"``, ``"rootdse"``, ``"schema"``,
        ``"search"`` (a search under the naming context), ``"extended"``.
    lifetime : float
        Seconds after which the server stops by itself (every socket closed).
    on_connect : callable, optional
        ``on_connect(session)`` before the first request is read (to close at once ...).
    """

    misbehave: Misbehaviour
    phase: str = "search"
    lifetime: float = 20.0
    on_connect: Callable[[Session], None] | None = None
    offer_starttls: bool = False  # the rootDSE lists StartTLS (answering it is misbehaving)
    port: int = 0
    hits: int = 0
    requests: list[str] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    _listener: socket.socket | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _sockets: list[socket.socket] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    def start(self) -> HostileServer:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        listener.settimeout(0.01)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self.deadline = time.monotonic() + self.lifetime
        thread = threading.Thread(target=self._serve, name=f"hostile-{self.port}", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def _serve(self) -> None:
        assert self._listener is not None
        while not self.stopping.is_set():
            if time.monotonic() > self.deadline:
                self.stopping.set()
                break
            try:
                sock, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            sock.settimeout(0.05)
            self._sockets.append(sock)
            session = Session(self, sock)
            thread = threading.Thread(target=session.run, daemon=True,
                                      name=f"hostile-{self.port}-session")
            thread.start()
            self._threads.append(thread)
        self._listener.close()
        for sock in self._sockets:
            try:
                sock.close()
            except OSError:
                pass

    def stop(self) -> None:
        """Stop now: every socket is shut down (waking the threads), every thread joined."""
        self.stopping.set()
        for sock in list(self._sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in list(self._threads):
            thread.join(timeout=2)

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
