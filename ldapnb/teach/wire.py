"""What crosses the wire: a loopback tap, LDAP messages decoded byte by byte, TLS records.

The network lessons (port 389 in clear, LDAPS on 636, StartTLS) show *real* bytes:

- :class:`Tap` is a small TCP relay on ``127.0.0.1``: a client connects to the tap, the tap
  connects to the server, and every chunk that crosses it is forwarded unchanged and recorded
  (direction, time, bytes).  Nothing is invented: the records are what crossed the sockets.
- :func:`decode` reads the recorded byte streams as LDAP messages (BER, RFC 4511), field by
  field: tag bytes, length, value, raw bytes.  Once a stream is encrypted (LDAPS from the first
  byte, or after a successful StartTLS) the bytes are shown as TLS records (content type,
  version, length) and marked *encrypted - unreadable*: they are never "decoded".
- :func:`capture_bind` runs a real ldap3 simple bind and one search through a tap, in clear
  (``"plain"``), over LDAPS (``"ldaps"``) or after StartTLS (``"starttls"``), and says whether
  the password could be read on the wire.
- :data:`PORTS` and :func:`explain_url`: which port speaks what, and what an LDAP URL means.

**Passwords.** These lessons show a demo password in clear *on purpose*: that is the lesson.
They use the documented passwords of ldapnb's fixtures (``alice-pw`` in ``tiny.ldif``), never a
real one.  The decoded simple-bind password is shown as it crossed the wire.

The BER reader is written by hand (about 600 lines with the RFC 4511 field names): pyasn1,
which ldap3 uses, decodes a message into values but does not say at which byte offset each
field sits, and showing the bytes is the point.  The tests check it against pyasn1 with
ldap3's RFC 4511 specification and against the bytes ldap3 itself encodes.

Examples
--------
A bind request written by hand (message 1, simple bind as ``cn=a`` with password ``pw``):

>>> data = bytes.fromhex("30 12 02 01 01 60 0d 02 01 03 04 04 63 6e 3d 61 80 02 70 77")
>>> [m] = decode_stream(data, direction=CLIENT_TO_SERVER)
>>> m.message_id, m.operation
(1, 'bindRequest')
>>> [(f.tag, f.value) for f in m.fields][3:]
[('02', '3'), ('04', "'cn=a'"), ('80', "'pw' (the password, in clear)")]
"""

from __future__ import annotations

import html
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from ..errors import (
    BindError,
    DirectoryUnavailable,
    LdapnbError,
    OperationError,
    TlsError,
)
from ..results import RESULTS

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CLIENT_TO_SERVER",
    "SERVER_TO_CLIENT",
    "STARTTLS_OID",
    "PORTS",
    "Record",
    "Tap",
    "Field",
    "Message",
    "Capture",
    "decode",
    "decode_stream",
    "capture_bind",
    "hexdump",
    "messages_frame",
    "ports_frame",
    "explain_url",
]

CLIENT_TO_SERVER = "client->server"
SERVER_TO_CLIENT = "server->client"
#: The StartTLS extended operation (RFC 4511 section 4.14).
STARTTLS_OID = "1.3.6.1.4.1.1466.20037"

# ==========================================================================================
# The tap
# ==========================================================================================


@dataclass(frozen=True)
class Record:
    """One chunk of bytes that crossed the tap.

    ``seq`` orders records across connections, ``connection`` numbers the TCP connections
    through the tap (from 1), ``direction`` is :data:`CLIENT_TO_SERVER` or
    :data:`SERVER_TO_CLIENT`, ``time`` is seconds since the tap started.
    """

    seq: int
    connection: int
    direction: str
    time: float
    data: bytes

    def __repr__(self) -> str:
        return (f"<Record #{self.seq} conn {self.connection} {self.direction} "
                f"t={self.time:.4f}s {len(self.data)} bytes>")


class _Pair:
    """A client socket and the server socket the tap opened for it."""

    def __init__(self, number: int, client: socket.socket, server: socket.socket):
        self.number = number
        self.client = client
        self.server = server


class Tap:
    """A TCP relay on ``127.0.0.1`` that forwards bytes both ways and records them.

    Point a client at ``127.0.0.1:tap.port`` instead of the server: the tap opens its own
    connection to ``target_host:target_port`` and copies every chunk across, recording it in
    :attr:`records`.  TLS passes through untouched (the tap holds no key), so an LDAPS client
    still verifies the server's certificate: the tap only sees ciphertext.

    Parameters
    ----------
    target_host, target_port
        The real server.
    port
        The port to listen on (default 0: a free port, see :attr:`port`).  Giving the port of a
        tap that was stopped starts it again at the same address.
    max_bytes
        Record at most this many bytes in all; past it the tap keeps relaying but stops
        recording and sets :attr:`truncated`.  The relay never changes what it forwards.
    record
        When False the tap only relays (used as the cuttable link in replication lessons).

    Examples
    --------
    >>> import socket
    >>> echo = socket.create_server(("127.0.0.1", 0))
    >>> with Tap("127.0.0.1", echo.getsockname()[1]) as tap:
    ...     client = socket.create_connection(("127.0.0.1", tap.port))
    ...     far, _ = echo.accept()
    ...     client.sendall(b"hello"); far.recv(5)
    ...     far.sendall(b"world"); client.recv(5)
    ...     client.close(); far.close()
    ...     tap.wait_closed()
    b'hello'
    b'world'
    True
    >>> [(r.direction, r.data) for r in tap.records]
    [('client->server', b'hello'), ('server->client', b'world')]
    >>> echo.close()
    """

    host = "127.0.0.1"

    def __init__(self, target_host: str, target_port: int, *, port: int = 0,
                 max_bytes: int = 1_000_000, record: bool = True,
                 connect_timeout: float = 5.0) -> None:
        self.target_host = target_host
        self.target_port = int(target_port)
        self.max_bytes = max_bytes
        self.recording = record
        self.connect_timeout = connect_timeout
        #: Every chunk recorded so far, in the order it crossed.
        self.records: list[Record] = []
        #: True once :attr:`max_bytes` was reached (later bytes were relayed, not recorded).
        self.truncated = False
        self.connections = 0  #: TCP connections accepted so far
        self._recorded = 0
        self._lock = threading.Lock()
        self._pairs: dict[int, _Pair] = {}
        self._started = time.monotonic()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._listener.bind((self.host, port))
        except OSError as exc:
            self._listener.close()
            raise DirectoryUnavailable(f"the tap cannot listen on {self.host}:{port}: {exc}",
                                       host=self.host, port=port) from exc
        self._listener.listen(16)
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=f"ldapnb-tap-{self.port}",
                                        daemon=True)
        self._thread.start()

    # -- public ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True until :meth:`stop`."""
        return self._thread.is_alive()

    @property
    def open_connections(self) -> int:
        """Connections currently relayed."""
        with self._lock:
            return len(self._pairs)

    def stream(self, direction: str, connection: int | None = None) -> bytes:
        """All recorded bytes in one direction (of one connection, or of all of them)."""
        return b"".join(r.data for r in list(self.records) if r.direction == direction
                        and (connection is None or r.connection == connection))

    def wait_closed(self, timeout: float = 5.0) -> bool:
        """Wait until every relayed connection has closed; True if they did in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.open_connections:
                return True
            time.sleep(0.005)
        return not self.open_connections

    def stop(self) -> None:
        """Close every relayed connection and the listening socket; safe to call twice."""
        if self._stopping:
            return
        self._stopping = True
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        self._thread.join(5.0)
        self._wake_w.close()

    def __enter__(self) -> Tap:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return (f"<Tap {state} {self.host}:{self.port} -> {self.target_host}:"
                f"{self.target_port}, {len(self.records)} records>")

    # -- the loop ----------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stopping:
                for key, _ in self._selector.select(timeout=1.0):
                    sock = key.fileobj
                    if sock is self._wake_r:
                        self._stopping = True
                        break
                    if sock is self._listener:
                        self._accept()
                    else:
                        pair, direction = key.data
                        self._pump(pair, sock, direction)  # type: ignore[arg-type]
        finally:
            with self._lock:
                pairs = list(self._pairs.values())
                self._pairs.clear()
            for pair in pairs:
                self._close(pair, locked=True)
            self._selector.close()
            self._listener.close()
            self._wake_r.close()

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        client.setblocking(True)
        try:
            server = socket.create_connection((self.target_host, self.target_port),
                                              timeout=self.connect_timeout)
        except OSError:
            client.close()  # the client sees the connection closed, as from a dead server
            return
        client.settimeout(self.connect_timeout)
        server.settimeout(self.connect_timeout)
        self.connections += 1
        pair = _Pair(self.connections, client, server)
        with self._lock:
            self._pairs[pair.number] = pair
        self._selector.register(client, selectors.EVENT_READ, (pair, CLIENT_TO_SERVER))
        self._selector.register(server, selectors.EVENT_READ, (pair, SERVER_TO_CLIENT))

    def _pump(self, pair: _Pair, sock: socket.socket, direction: str) -> None:
        peer = pair.server if direction == CLIENT_TO_SERVER else pair.client
        try:
            data = sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._close(pair)
            return
        self._record(pair.number, direction, data)
        try:
            peer.sendall(data)
        except OSError:
            self._close(pair)

    def _record(self, connection: int, direction: str, data: bytes) -> None:
        if not self.recording:
            return
        with self._lock:
            room = self.max_bytes - self._recorded
            if room <= 0:
                self.truncated = True
                return
            if len(data) > room:
                data = data[:room]
                self.truncated = True
            self._recorded += len(data)
            self.records.append(Record(len(self.records) + 1, connection, direction,
                                       time.monotonic() - self._started, data))

    def _close(self, pair: _Pair, locked: bool = False) -> None:
        for s in (pair.client, pair.server):
            try:
                self._selector.unregister(s)
            except (KeyError, ValueError):
                pass
            try:
                s.close()
            except OSError:
                pass
        if not locked:
            with self._lock:
                self._pairs.pop(pair.number, None)


# ==========================================================================================
# BER, by hand
# ==========================================================================================
class _BerError(Exception):
    def __init__(self, message: str, offset: int):
        self.offset = offset
        super().__init__(message)


@dataclass
class _Tlv:
    offset: int          # where the tag starts, in the stream
    cls: int             # 0 universal, 1 application, 2 context, 3 private
    constructed: bool
    number: int
    header: bytes        # tag and length bytes
    content: bytes

    @property
    def tag(self) -> bytes:
        return self.header[: self._tag_len]

    _tag_len: int = 1

    @property
    def end(self) -> int:
        return self.offset + len(self.header) + len(self.content)

    def children(self) -> list[_Tlv]:
        if not self.constructed:
            raise _BerError("a primitive value was found where a constructed one was expected",
                            self.offset)
        out = []
        start = self.offset + len(self.header)
        position = 0
        while position < len(self.content):
            child = _read_tlv(self.content, position, start)
            out.append(child)
            position = child.end - start
        return out


def _read_tlv(data: bytes, position: int, base: int = 0) -> _Tlv:
    """The BER element starting at ``data[position]``; offsets reported as ``base + ...``."""
    where = base + position
    if position >= len(data):
        raise _BerError("the data ends where a tag was expected", where)
    first = data[position]
    cls, constructed, number = first >> 6, bool(first & 0x20), first & 0x1F
    i = position + 1
    if number == 0x1F:  # high tag number form
        number = 0
        while True:
            if i >= len(data):
                raise _BerError("the data ends inside a multi-byte tag", base + i)
            b = data[i]
            i += 1
            number = (number << 7) | (b & 0x7F)
            if not b & 0x80:
                break
            if i - position > 6:
                raise _BerError("a tag number longer than 5 bytes", where)
    tag_len = i - position
    if i >= len(data):
        raise _BerError("the data ends where a length was expected", base + i)
    length = data[i]
    i += 1
    if length == 0x80:
        raise _BerError("indefinite length (0x80), which LDAP forbids (RFC 4511 section 5.1)",
                        base + i - 1)
    if length & 0x80:
        count = length & 0x7F
        if count > 4:
            raise _BerError(f"a length of {count} bytes: not a plausible LDAP message",
                            base + i - 1)
        if i + count > len(data):
            raise _BerError("the data ends inside a length", base + i)
        length = int.from_bytes(data[i:i + count], "big")
        i += count
    if i + length > len(data):
        raise _BerError(f"the element says it holds {length} bytes but only "
                        f"{len(data) - i} follow (truncated?)", where)
    tlv = _Tlv(where, cls, constructed, number, data[position:i], data[i:i + length])
    tlv._tag_len = tag_len
    return tlv


_CLASS_NAMES = ("UNIVERSAL", "APPLICATION", "", "PRIVATE")
_UNIVERSAL = {1: "BOOLEAN", 2: "INTEGER", 4: "OCTET STRING", 5: "NULL", 10: "ENUMERATED",
              16: "SEQUENCE", 17: "SET"}


def _tag_name(t: _Tlv) -> str:
    if t.cls == 0:
        base = _UNIVERSAL.get(t.number, f"UNIVERSAL {t.number}")
    else:
        base = f"[{(_CLASS_NAMES[t.cls] + ' ').lstrip()}{t.number}]"
    return f"{base}{' constructed' if t.constructed else ''}"


def _int(t: _Tlv) -> int:
    if t.constructed or not t.content:
        raise _BerError("an INTEGER must be primitive and at least one byte long", t.offset)
    return int.from_bytes(t.content, "big", signed=True)


def _text(value: bytes) -> str:
    try:
        return repr(value.decode("utf-8"))
    except UnicodeDecodeError:
        return f"0x{value.hex()} ({len(value)} bytes, not UTF-8)"


def _plain(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + value.hex()


# ==========================================================================================
# Messages
# ==========================================================================================
@dataclass(frozen=True)
class Field:
    """One BER element of a message, for a field-by-field table.

    ``path`` names the field (``protocolOp.bindRequest.authentication.simple``), ``tag`` is the
    tag byte(s) in hex, ``tag_name`` says what the tag means (``[APPLICATION 0] constructed``),
    ``length`` is the content length in bytes, ``value`` how ldapnb shows the value (empty for a
    constructed element, whose parts follow it), ``raw`` the element's bytes in hex (for a
    constructed element, only its tag and length bytes), ``offset`` where it starts in the
    message and ``depth`` how deeply it is nested.
    """

    path: str
    tag: str
    tag_name: str
    length: int
    value: str
    raw: str
    offset: int
    depth: int


_OPS: dict[int, str] = {
    0: "bindRequest", 1: "bindResponse", 2: "unbindRequest", 3: "searchRequest",
    4: "searchResEntry", 5: "searchResDone", 6: "modifyRequest", 7: "modifyResponse",
    8: "addRequest", 9: "addResponse", 10: "delRequest", 11: "delResponse",
    12: "modDNRequest", 13: "modDNResponse", 14: "compareRequest", 15: "compareResponse",
    16: "abandonRequest", 19: "searchResRef", 23: "extendedReq", 24: "extendedResp",
    25: "intermediateResponse",
}

#: Names of object identifiers a lesson is likely to meet on the wire.
OID_NAMES: dict[str, str] = {
    STARTTLS_OID: "StartTLS",
    "1.3.6.1.4.1.4203.1.11.3": "Who am I?",
    "1.3.6.1.4.1.4203.1.11.1": "Password Modify",
    "1.3.6.1.4.1.1466.20036": "Notice of Disconnection",
    "1.3.6.1.1.8": "Cancel",
    "1.2.840.113556.1.4.319": "Paged Results",
    "1.2.840.113556.1.4.1941": "LDAP_MATCHING_RULE_IN_CHAIN",
    "1.2.840.113556.1.4.803": "LDAP_MATCHING_RULE_BIT_AND",
    "1.2.840.113556.1.4.804": "LDAP_MATCHING_RULE_BIT_OR",
    "1.3.6.1.4.1.4203.1.9.1.1": "Sync Request (syncrepl)",
    "1.3.6.1.4.1.4203.1.9.1.2": "Sync State",
    "1.3.6.1.4.1.4203.1.9.1.3": "Sync Done",
    "1.3.6.1.4.1.4203.1.9.1.4": "Sync Info",
    "2.16.840.1.113730.3.4.2": "ManageDsaIT",
    "1.3.6.1.1.12": "Assertion",
    "1.3.6.1.1.13.1": "Pre-Read",
    "1.3.6.1.1.13.2": "Post-Read",
}

_RESULT_CODES: dict[int, str] = {code: r.name for code, r in RESULTS.items()}
_SCOPES = {0: "baseObject", 1: "singleLevel", 2: "wholeSubtree", 3: "subordinateSubtree"}
_DEREF = {0: "neverDerefAliases", 1: "derefInSearching", 2: "derefFindingBaseObj",
          3: "derefAlways"}
_MOD_OPS = {0: "add", 1: "delete", 2: "replace", 3: "increment"}


def _oid(value: bytes) -> str:
    text = _plain(value)
    name = OID_NAMES.get(text)
    return f"{text} ({name})" if name else text


@dataclass
class Message:
    """One LDAP message, or one TLS record, as it crossed the wire.

    ``protocol`` is ``"LDAP"`` or ``"TLS"``.  For LDAP, ``message_id`` and ``operation``
    (``bindRequest``, ``searchResEntry``, ``extendedReq`` ...) come from the message and
    ``fields`` break it down element by element.  For TLS, ``operation`` names the record's
    content type; ``encrypted`` is True for every record that carries protected data: its
    bytes are shown, never interpreted.
    """

    direction: str
    connection: int
    time: float
    protocol: str
    operation: str
    summary: str
    raw: bytes
    message_id: int | None = None
    fields: list[Field] = field(default_factory=list)
    encrypted: bool = False
    offset: int = 0           #: where it starts in its direction's byte stream
    seq: int = 0              #: the tap record holding its first byte
    result: str | None = None  #: for responses: the result code's name

    def to_frame(self) -> pd.DataFrame:
        """The fields as a DataFrame: path, tag, tag_name, length, value, raw."""
        import pandas as pd

        rows = [{"path": f.path, "tag": f.tag, "tag_name": f.tag_name, "length": f.length,
                 "value": f.value, "raw": f.raw} for f in self.fields]
        return pd.DataFrame(rows, columns=["path", "tag", "tag_name", "length", "value", "raw"])

    def hexdump(self) -> str:
        """The message's bytes as a classic hex dump."""
        return hexdump(self.raw)

    def __repr__(self) -> str:
        mid = f" #{self.message_id}" if self.message_id is not None else ""
        return (f"<Message {self.direction} {self.protocol}{mid} {self.operation}: "
                f"{len(self.raw)} bytes>")

    def _repr_html_(self) -> str:
        head = html.escape(f"{self.direction} {self.protocol} {self.operation} - {self.summary}")
        return f"<p><b>{head}</b></p>" + self.to_frame().to_html(index=False)


class _Walker:
    """Turns one LDAPMessage's BER elements into named :class:`Field` rows."""

    def __init__(self, message_offset: int):
        self.base = message_offset
        self.fields: list[Field] = []
        self.facts: dict[str, Any] = {}

    def add(self, t: _Tlv, path: str, depth: int, value: str = "") -> None:
        raw = t.header if t.constructed else t.header + t.content
        self.fields.append(Field(path, t.tag.hex(" "), _tag_name(t), len(t.content), value,
                                 raw.hex(" "), t.offset - self.base, depth))

    def expect(self, t: _Tlv, cls: int, number: int, constructed: bool | None,
               what: str) -> None:
        if t.cls != cls or t.number != number or (
                constructed is not None and t.constructed != constructed):
            raise _BerError(f"expected {what} but found tag 0x{t.tag.hex()} ({_tag_name(t)})",
                            t.offset)

    def prim(self, t: _Tlv, path: str, depth: int, kind: str) -> Any:
        """A primitive universal value: int, enum, bool, str."""
        number = {"int": 2, "enum": 10, "bool": 1, "str": 4, "null": 5}[kind]
        self.expect(t, 0, number, False, _UNIVERSAL[number])
        if kind in ("int", "enum"):
            value: Any = _int(t)
            shown = str(value)
        elif kind == "bool":
            value = t.content != b"\x00"
            shown = "TRUE" if value else "FALSE"
        elif kind == "null":
            value, shown = None, "NULL"
        else:
            value, shown = t.content, _text(t.content)
        self.add(t, path, depth, shown)
        return value

    # -- the message ---------------------------------------------------------------------
    def message(self, top: _Tlv) -> tuple[int, str, str]:
        self.expect(top, 0, 16, True, "an LDAPMessage (SEQUENCE, tag 0x30)")
        self.add(top, "LDAPMessage", 0)
        parts = top.children()
        if len(parts) < 2:
            raise _BerError("an LDAPMessage needs a messageID and a protocolOp", top.offset)
        mid = self.prim(parts[0], "messageID", 1, "int")
        op = parts[1]
        if op.cls != 1 or op.number not in _OPS:
            raise _BerError(f"unknown protocolOp tag 0x{op.tag.hex()} ({_tag_name(op)})",
                            op.offset)
        name = _OPS[op.number]
        path = f"protocolOp.{name}"
        summary = getattr(self, f"op_{name}")(op, path)
        for extra in parts[2:]:
            self.controls(extra)
        return mid, name, summary

    def ldap_result(self, op: _Tlv, path: str, name: str) -> tuple[list[_Tlv], str]:
        self.expect(op, 1, op.number, True, name)
        self.add(op, path, 1)
        parts = op.children()
        if len(parts) < 3:
            raise _BerError(f"{name} needs resultCode, matchedDN and diagnosticMessage",
                            op.offset)
        code = _int(parts[0])
        self.expect(parts[0], 0, 10, False, "resultCode (ENUMERATED)")
        result = _RESULT_CODES.get(code, f"code {code}")
        self.add(parts[0], f"{path}.resultCode", 2, f"{code} ({result})")
        matched = self.prim(parts[1], f"{path}.matchedDN", 2, "str")
        message = self.prim(parts[2], f"{path}.diagnosticMessage", 2, "str")
        self.facts["result"] = result
        rest = parts[3:]
        if rest and rest[0].cls == 2 and rest[0].number == 3:
            self.add(rest[0], f"{path}.referral", 2)
            for i, url in enumerate(rest[0].children()):
                self.prim(url, f"{path}.referral[{i}]", 3, "str")
            rest = rest[1:]
        text = result
        if matched:
            text += f", matched {_plain(matched)!r}"
        if message:
            text += f": {_plain(message)}"
        return rest, text

    # -- operations ----------------------------------------------------------------------
    def op_bindRequest(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 0, True, "BindRequest")
        self.add(op, path, 1)
        version, name, auth = _need(op, 3, "BindRequest (version, name, authentication)")
        self.prim(version, f"{path}.version", 2, "int")
        dn = _plain(self.prim(name, f"{path}.name", 2, "str"))
        if auth.cls == 2 and auth.number == 0 and not auth.constructed:
            password = auth.content
            shown = (f"{_text(password)} (the password, in clear)" if password
                     else "'' (empty: an unauthenticated bind)")
            self.add(auth, f"{path}.authentication.simple", 2, shown)
            self.facts["password"] = password
            if not dn:
                return "anonymous simple bind"
            return f"simple bind as {dn!r}, password {_plain(password)!r} in clear"
        if auth.cls == 2 and auth.number == 3 and auth.constructed:
            self.add(auth, f"{path}.authentication.sasl", 2)
            parts = auth.children()
            if not parts:
                raise _BerError("SaslCredentials needs a mechanism", auth.offset)
            mech = _plain(self.prim(parts[0], f"{path}.authentication.sasl.mechanism", 3,
                                    "str"))
            if len(parts) > 1:
                self.prim(parts[1], f"{path}.authentication.sasl.credentials", 3, "str")
            return f"SASL bind ({mech})" + (f" as {dn!r}" if dn else "")
        raise _BerError(f"unknown authentication choice 0x{auth.tag.hex()}", auth.offset)

    def op_bindResponse(self, op: _Tlv, path: str) -> str:
        rest, text = self.ldap_result(op, path, "BindResponse")
        for t in rest:
            if t.cls == 2 and t.number == 7:
                self.add(t, f"{path}.serverSaslCreds", 2, _text(t.content))
        return text

    def op_unbindRequest(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 2, False, "UnbindRequest (NULL)")
        self.add(op, path, 1, "NULL")
        return "unbind: the client is leaving"

    def op_searchRequest(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 3, True, "SearchRequest")
        self.add(op, path, 1)
        parts = _need(op, 8, "SearchRequest (8 parts)")
        base = _plain(self.prim(parts[0], f"{path}.baseObject", 2, "str"))
        scope = _int(parts[1])
        self.expect(parts[1], 0, 10, False, "scope (ENUMERATED)")
        self.add(parts[1], f"{path}.scope", 2, f"{scope} ({_SCOPES.get(scope, '?')})")
        deref = _int(parts[2])
        self.expect(parts[2], 0, 10, False, "derefAliases (ENUMERATED)")
        self.add(parts[2], f"{path}.derefAliases", 2, f"{deref} ({_DEREF.get(deref, '?')})")
        self.prim(parts[3], f"{path}.sizeLimit", 2, "int")
        self.prim(parts[4], f"{path}.timeLimit", 2, "int")
        self.prim(parts[5], f"{path}.typesOnly", 2, "bool")
        text = self.filter(parts[6], f"{path}.filter", 2)
        self.facts["filter"] = text
        self.expect(parts[7], 0, 16, True, "attributes (SEQUENCE OF)")
        self.add(parts[7], f"{path}.attributes", 2)
        names = [_plain(self.prim(a, f"{path}.attributes[{i}]", 3, "str"))
                 for i, a in enumerate(parts[7].children())]
        return (f"search {_SCOPES.get(scope, scope)} under {base!r} for {text}"
                + (f", attributes {', '.join(names)}" if names else ", all user attributes"))

    def op_searchResEntry(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 4, True, "SearchResultEntry")
        self.add(op, path, 1)
        name, attrs = _need(op, 2, "SearchResultEntry (objectName, attributes)")
        dn = _plain(self.prim(name, f"{path}.objectName", 2, "str"))
        types = self.attribute_list(attrs, f"{path}.attributes", 2)
        return f"entry {dn!r} ({len(types)} attributes)"

    def op_searchResDone(self, op: _Tlv, path: str) -> str:
        return "search done: " + self.ldap_result(op, path, "SearchResultDone")[1]

    def op_searchResRef(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 19, True, "SearchResultReference")
        self.add(op, path, 1)
        urls = [_plain(self.prim(u, f"{path}[{i}]", 2, "str"))
                for i, u in enumerate(op.children())]
        return "referral to " + ", ".join(urls)

    def op_modifyRequest(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 6, True, "ModifyRequest")
        self.add(op, path, 1)
        obj, changes = _need(op, 2, "ModifyRequest (object, changes)")
        dn = _plain(self.prim(obj, f"{path}.object", 2, "str"))
        self.add(changes, f"{path}.changes", 2)
        done = []
        for i, change in enumerate(changes.children()):
            p = f"{path}.changes[{i}]"
            self.add(change, p, 3)
            kind, mod = _need(change, 2, "a change (operation, modification)")
            code = _int(kind)
            self.add(kind, f"{p}.operation", 4, f"{code} ({_MOD_OPS.get(code, '?')})")
            changed = self.partial_attribute(mod, f"{p}.modification", 4)
            done.append(f"{_MOD_OPS.get(code, '?')} {changed}")
        return f"modify {dn!r}: " + "; ".join(done)

    def op_addRequest(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 8, True, "AddRequest")
        self.add(op, path, 1)
        entry, attrs = _need(op, 2, "AddRequest (entry, attributes)")
        dn = _plain(self.prim(entry, f"{path}.entry", 2, "str"))
        types = self.attribute_list(attrs, f"{path}.attributes", 2)
        return f"add {dn!r} ({len(types)} attributes)"

    def op_delRequest(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 10, False, "DelRequest (an LDAPDN)")
        self.add(op, path, 1, _text(op.content))
        return f"delete {_plain(op.content)!r}"

    def op_modDNRequest(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 12, True, "ModifyDNRequest")
        self.add(op, path, 1)
        parts = _need(op, 3, "ModifyDNRequest (entry, newrdn, deleteoldrdn)", at_least=True)
        dn = _plain(self.prim(parts[0], f"{path}.entry", 2, "str"))
        rdn = _plain(self.prim(parts[1], f"{path}.newrdn", 2, "str"))
        self.prim(parts[2], f"{path}.deleteoldrdn", 2, "bool")
        for t in parts[3:]:
            self.add(t, f"{path}.newSuperior", 2, _text(t.content))
        return f"rename {dn!r} to {rdn!r}"

    def op_compareRequest(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 14, True, "CompareRequest")
        self.add(op, path, 1)
        entry, ava = _need(op, 2, "CompareRequest (entry, ava)")
        dn = _plain(self.prim(entry, f"{path}.entry", 2, "str"))
        self.add(ava, f"{path}.ava", 2)
        desc, value = _need(ava, 2, "an AttributeValueAssertion")
        attr = _plain(self.prim(desc, f"{path}.ava.attributeDesc", 3, "str"))
        self.prim(value, f"{path}.ava.assertionValue", 3, "str")
        return f"compare {attr} of {dn!r}"

    def op_abandonRequest(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 16, False, "AbandonRequest (a message ID)")
        target = _int(op)
        self.add(op, path, 1, str(target))
        return f"abandon message {target}"

    def op_extendedReq(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 23, True, "ExtendedRequest")
        self.add(op, path, 1)
        parts = op.children()
        if not parts:
            raise _BerError("ExtendedRequest needs a requestName", op.offset)
        name = ""
        for t in parts:
            if t.cls == 2 and t.number == 0:
                name = _plain(t.content)
                self.add(t, f"{path}.requestName", 2, _oid(t.content))
            elif t.cls == 2 and t.number == 1:
                self.add(t, f"{path}.requestValue", 2, _text(t.content))
            else:
                raise _BerError(f"unexpected tag 0x{t.tag.hex()} in ExtendedRequest", t.offset)
        self.facts["request_name"] = name
        label = OID_NAMES.get(name)
        return f"extended operation {name}" + (f" ({label})" if label else "")

    def op_extendedResp(self, op: _Tlv, path: str) -> str:
        rest, text = self.ldap_result(op, path, "ExtendedResponse")
        for t in rest:
            if t.cls == 2 and t.number == 10:
                self.add(t, f"{path}.responseName", 2, _oid(t.content))
            elif t.cls == 2 and t.number == 11:
                self.add(t, f"{path}.responseValue", 2, _text(t.content))
        return "extended response: " + text

    def op_intermediateResponse(self, op: _Tlv, path: str) -> str:
        self.expect(op, 1, 25, True, "IntermediateResponse")
        self.add(op, path, 1)
        name = ""
        for t in op.children():
            if t.cls == 2 and t.number == 0:
                name = _plain(t.content)
                self.add(t, f"{path}.responseName", 2, _oid(t.content))
            else:
                self.add(t, f"{path}.responseValue", 2, f"{len(t.content)} bytes")
        return "intermediate response" + (f" {_oid(name.encode())}" if name else "")

    # -- pieces --------------------------------------------------------------------------
    def attribute_list(self, t: _Tlv, path: str, depth: int) -> list[str]:
        self.expect(t, 0, 16, True, "an attribute list (SEQUENCE OF)")
        self.add(t, path, depth)
        return [self.partial_attribute(a, f"{path}[{i}]", depth + 1)
                for i, a in enumerate(t.children())]

    def partial_attribute(self, t: _Tlv, path: str, depth: int) -> str:
        self.expect(t, 0, 16, True, "an attribute (SEQUENCE of type and values)")
        self.add(t, path, depth)
        kind, vals = _need(t, 2, "an attribute (type, vals)")
        name = _plain(self.prim(kind, f"{path}.type", depth + 1, "str"))
        self.expect(vals, 0, 17, True, "vals (SET OF)")
        self.add(vals, f"{path}.vals", depth + 1)
        secret = name.lower() in ("userpassword", "unicodepwd")
        for i, v in enumerate(vals.children()):
            self.expect(v, 0, 4, False, "a value (OCTET STRING)")
            shown = _text(v.content)
            if secret:
                shown += " (a password value: read it in raw)"
            self.add(v, f"{path}.vals[{i}]", depth + 2, shown)
        return name

    def controls(self, t: _Tlv) -> None:
        if not (t.cls == 2 and t.number == 0 and t.constructed):
            raise _BerError(f"unexpected element 0x{t.tag.hex()} after protocolOp "
                            "(only [0] controls may follow)", t.offset)
        self.add(t, "controls", 1)
        for i, c in enumerate(t.children()):
            self.add(c, f"controls[{i}]", 2)
            parts = c.children()
            if not parts:
                raise _BerError("a control needs a controlType", c.offset)
            self.expect(parts[0], 0, 4, False, "controlType")
            self.add(parts[0], f"controls[{i}].controlType", 3, _oid(parts[0].content))
            for p in parts[1:]:
                if p.cls == 0 and p.number == 1:
                    self.prim(p, f"controls[{i}].criticality", 3, "bool")
                else:
                    self.add(p, f"controls[{i}].controlValue", 3, f"{len(p.content)} bytes")

    def filter(self, t: _Tlv, path: str, depth: int) -> str:
        """Add the filter's fields and return its RFC 4515 text."""
        from ..filters import escape

        if t.cls != 2:
            raise _BerError(f"expected a Filter (a context tag) but found 0x{t.tag.hex()}",
                            t.offset)
        n = t.number
        if n in (0, 1, 2):
            kind = ("and", "or", "not")[n]
            self.expect(t, 2, n, True, kind)
            self.add(t, f"{path}.{kind}", depth)
            subs = [self.filter(c, f"{path}.{kind}[{i}]", depth + 1)
                    for i, c in enumerate(t.children())]
            if n == 2 and len(subs) != 1:
                raise _BerError("a not filter holds exactly one filter", t.offset)
            return "(" + "&|!"[n] + "".join(subs) + ")"
        if n in (3, 5, 6, 8):
            kind, op = {3: ("equalityMatch", "="), 5: ("greaterOrEqual", ">="),
                        6: ("lessOrEqual", "<="), 8: ("approxMatch", "~=")}[n]
            self.expect(t, 2, n, True, kind)
            self.add(t, f"{path}.{kind}", depth)
            desc, asserted = _need(t, 2, f"{kind} (attributeDesc, assertionValue)")
            name = _plain(self.prim(desc, f"{path}.{kind}.attributeDesc", depth + 1, "str"))
            val = self.prim(asserted, f"{path}.{kind}.assertionValue", depth + 1, "str")
            return f"({name}{op}{escape(val)})"
        if n == 4:
            self.expect(t, 2, 4, True, "substrings")
            self.add(t, f"{path}.substrings", depth)
            desc, pieces = _need(t, 2, "substrings (type, substrings)")
            sub_attr = _plain(self.prim(desc, f"{path}.substrings.type", depth + 1, "str"))
            self.add(pieces, f"{path}.substrings.substrings", depth + 1)
            initial, final = "", ""
            middle: list[str] = []
            for i, s in enumerate(pieces.children()):
                which = {0: "initial", 1: "any", 2: "final"}.get(s.number)
                if s.cls != 2 or which is None or s.constructed:
                    raise _BerError(f"unexpected substring tag 0x{s.tag.hex()}", s.offset)
                self.add(s, f"{path}.substrings.substrings[{i}].{which}", depth + 2,
                         _text(s.content))
                if which == "initial":
                    initial = escape(s.content)
                elif which == "final":
                    final = escape(s.content)
                else:
                    middle.append(escape(s.content))
            return f"({sub_attr}={initial}*{''.join(m + '*' for m in middle)}{final})"
        if n == 7:
            self.expect(t, 2, 7, False, "present")
            self.add(t, f"{path}.present", depth, _text(t.content))
            return f"({_plain(t.content)}=*)"
        if n == 9:
            self.expect(t, 2, 9, True, "extensibleMatch")
            self.add(t, f"{path}.extensibleMatch", depth)
            rule = ext_attr = ""
            match_value = b""
            dn_attrs = False
            for c in t.children():
                label = {1: "matchingRule", 2: "type", 3: "matchValue",
                         4: "dnAttributes"}.get(c.number)
                if c.cls != 2 or label is None:
                    raise _BerError(f"unexpected tag 0x{c.tag.hex()} in extensibleMatch",
                                    c.offset)
                if label == "dnAttributes":
                    dn_attrs = c.content != b"\x00"
                    self.add(c, f"{path}.extensibleMatch.{label}", depth + 1,
                             "TRUE" if dn_attrs else "FALSE")
                    continue
                shown = _oid(c.content) if label == "matchingRule" else _text(c.content)
                self.add(c, f"{path}.extensibleMatch.{label}", depth + 1, shown)
                if label == "matchingRule":
                    rule = _plain(c.content)
                elif label == "type":
                    ext_attr = _plain(c.content)
                else:
                    match_value = c.content
            return (f"({ext_attr}{':dn' if dn_attrs else ''}{':' + rule if rule else ''}:="
                    f"{escape(match_value)})")
        raise _BerError(f"unknown filter tag 0x{t.tag.hex()}", t.offset)


def _need(t: _Tlv, count: int, what: str, at_least: bool = False) -> list[_Tlv]:
    parts = t.children()
    if len(parts) < count or (not at_least and len(parts) != count):
        raise _BerError(f"{what}: expected {count} parts, found {len(parts)}", t.offset)
    return parts


# ==========================================================================================
# TLS records (shown, never decrypted)
# ==========================================================================================
_TLS_TYPES = {20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data",
              24: "heartbeat"}
_TLS_VERSIONS = {0x0300: "SSL 3.0", 0x0301: "TLS 1.0", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2"}
_HANDSHAKE_TYPES = {1: "ClientHello", 2: "ServerHello", 4: "NewSessionTicket",
                    8: "EncryptedExtensions", 11: "Certificate", 12: "ServerKeyExchange",
                    13: "CertificateRequest", 14: "ServerHelloDone", 15: "CertificateVerify",
                    16: "ClientKeyExchange", 20: "Finished"}
_ALERTS = {0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac",
           40: "handshake_failure", 42: "bad_certificate", 43: "unsupported_certificate",
           44: "certificate_revoked", 45: "certificate_expired", 46: "certificate_unknown",
           47: "illegal_parameter", 48: "unknown_ca", 50: "decode_error",
           51: "decrypt_error", 70: "protocol_version", 80: "internal_error",
           112: "unrecognized_name", 116: "certificate_required"}
ENCRYPTED = "encrypted - unreadable"


def _looks_like_tls(data: bytes) -> bool:
    return len(data) >= 3 and data[0] in (20, 21, 22, 23) and data[1] == 3 and data[2] <= 4


def _tls_records(data: bytes, start: int, direction: str, where: _Where) -> list[Message]:
    out: list[Message] = []
    position = start
    protected = False  # becomes True after this side's change_cipher_spec
    while position < len(data):
        if len(data) - position < 5:
            raise _BerError("the data ends inside a TLS record header (truncated?)", position)
        kind, version, length = (data[position], int.from_bytes(data[position + 1:position + 3],
                                 "big"), int.from_bytes(data[position + 3:position + 5], "big"))
        if kind not in _TLS_TYPES or data[position + 1] != 3:
            raise _BerError(f"not a TLS record: content type {kind}, version "
                            f"0x{version:04x}", position)
        end = position + 5 + length
        if end > len(data):
            raise _BerError(f"a TLS record says it holds {length} bytes but only "
                            f"{len(data) - position - 5} follow (truncated?)", position)
        raw = data[position:end]
        fragment = raw[5:]
        type_name = _TLS_TYPES[kind]
        encrypted = kind == 23 or protected
        if kind == 20:
            note = "change_cipher_spec: from here on this side's records are encrypted"
            shown = "switch to encryption"
        elif encrypted:
            note = f"{type_name}, {length} bytes, {ENCRYPTED}"
            shown = ENCRYPTED
        elif kind == 22 and fragment:
            hs = _HANDSHAKE_TYPES.get(fragment[0], f"handshake type {fragment[0]}")
            note = f"handshake {hs} (in clear: TLS set-up, no LDAP data)"
            shown = f"{hs} (TLS set-up, readable, holds no LDAP data)"
        elif kind == 21 and len(fragment) == 2:
            alert = _ALERTS.get(fragment[1], str(fragment[1]))
            level = "fatal" if fragment[0] == 2 else "warning"
            note = f"alert ({level}): {alert}"
            shown = note
        else:
            note, shown = type_name, f"{length} bytes"
        fields = [
            Field("TLSPlaintext.type", f"{kind:02x}", "TLS content type", 1, type_name,
                  f"{kind:02x}", 0, 1),
            Field("TLSPlaintext.legacy_record_version", raw[1:3].hex(" "), "TLS version", 2,
                  _TLS_VERSIONS.get(version, f"0x{version:04x}"), raw[1:3].hex(" "), 1, 1),
            Field("TLSPlaintext.length", raw[3:5].hex(" "), "TLS length", 2, str(length),
                  raw[3:5].hex(" "), 3, 1),
            Field("TLSPlaintext.fragment", "", "TLS payload", length, shown,
                  fragment[:32].hex(" ") + (" ..." if length > 32 else ""), 5, 1),
        ]
        connection, time_, seq = where(position)
        out.append(Message(direction, connection, time_, "TLS",
                           f"TLS {type_name}", note, raw, None, fields, encrypted,
                           position, seq))
        if kind == 20:
            protected = True
        position = end
    return out


# ==========================================================================================
# Streams
# ==========================================================================================
class _Where:
    """Maps an offset in a direction's stream to (connection, time, record seq)."""

    def __init__(self, records: Sequence[Record]):
        self.starts: list[int] = []
        self.records = list(records)
        total = 0
        for r in self.records:
            self.starts.append(total)
            total += len(r.data)

    def __call__(self, offset: int) -> tuple[int, float, int]:
        import bisect

        if not self.records:
            return 0, 0.0, 0
        i = max(0, bisect.bisect_right(self.starts, offset) - 1)
        r = self.records[i]
        return r.connection, r.time, r.seq


def _decode_error(exc: _BerError, direction: str, data: bytes) -> OperationError:
    around = data[max(0, exc.offset - 8): exc.offset + 8].hex(" ")
    return OperationError(
        f"cannot decode the {direction} bytes at offset {exc.offset} (of {len(data)}): {exc}; "
        f"bytes around it: {around or '(none)'}.  Is this LDAP (BER) at all, and is the "
        "capture complete?", result="decodingError", code=84)


def _ldap_messages(data: bytes, start: int, direction: str, where: _Where,
                   stop_after_starttls: bool, stop_at_id: int | None
                   ) -> tuple[list[Message], int, int | None]:
    """LDAP messages from ``data[start:]``.

    Stops (returning the offset reached) after a StartTLS request when
    ``stop_after_starttls``, or after a successful response to message ``stop_at_id``.
    Returns (messages, offset reached, message id of the StartTLS request met).
    """
    out: list[Message] = []
    position = start
    while position < len(data):
        if _looks_like_tls(data[position:position + 3]):
            break  # TLS where LDAP was expected: the caller shows the rest as TLS records
        top = _read_tlv(data, position)
        walker = _Walker(position)
        mid, op, summary = walker.message(top)
        connection, time_, seq = where(position)
        out.append(Message(direction, connection, time_, "LDAP", op, summary,
                           data[position:top.end], mid, walker.fields, False, position, seq,
                           walker.facts.get("result")))
        position = top.end
        if stop_after_starttls and op == "extendedReq" \
                and walker.facts.get("request_name") == STARTTLS_OID:
            return out, position, mid
        if stop_at_id is not None and mid == stop_at_id and op == "extendedResp" \
                and walker.facts.get("result") == "success":
            return out, position, mid
    return out, position, None


def decode_stream(data: bytes, *, direction: str = CLIENT_TO_SERVER,
                  tls_from: int | None = None) -> list[Message]:
    """Decode one direction's bytes: LDAP messages, then TLS records from ``tls_from`` on.

    Parameters
    ----------
    data
        The bytes one side sent, in order.
    direction
        :data:`CLIENT_TO_SERVER` or :data:`SERVER_TO_CLIENT` (only used as a label).
    tls_from
        The offset where TLS begins (0 for LDAPS); None: LDAP, switching to TLS records if a
        TLS record header appears where a message should start.

    Returns
    -------
    list of Message

    Raises
    ------
    OperationError
        ``result="decodingError"``: the bytes are not LDAP (or are cut short); the message
        says at which offset and shows the bytes around it.

    Examples
    --------
    >>> decode_stream(bytes.fromhex("30 05 02 01 02 42 00"))[0].summary
    'unbind: the client is leaving'
    >>> decode_stream(b"\\x30\\x05\\x02\\x01")
    Traceback (most recent call last):
    ...
    ldapnb.errors.OperationError: cannot decode the client->server bytes at offset 0 ...
    """
    return _decode_direction(bytes(data), direction,
                             _Where([Record(0, 0, direction, 0.0, bytes(data))]), tls_from)


def _decode_direction(data: bytes, direction: str, where: _Where,
                      tls_from: int | None) -> list[Message]:
    try:
        if tls_from is None:
            messages, reached, _ = _ldap_messages(data, 0, direction, where, False, None)
            if reached < len(data):
                messages += _tls_records(data, reached, direction, where)
            return messages
        messages, _, _ = _ldap_messages(data[:tls_from], 0, direction, where, False, None)
        return messages + _tls_records(data, tls_from, direction, where)
    except _BerError as exc:
        raise _decode_error(exc, direction, data) from None


def decode(records: Iterable[Record]) -> list[Message]:
    """Decode a tap's records into LDAP messages and TLS records, in the order they crossed.

    Each TCP connection is decoded on its own, each direction as one byte stream.  A stream
    that starts with a TLS record (LDAPS) is shown as TLS records throughout.  After a
    StartTLS request (``extendedReq`` 1.3.6.1.4.1.1466.20037) that the server answered with
    success, the rest of both streams is TLS.  TLS records are marked ``encrypted`` once the
    data is protected: their bytes are shown, never read.

    Parameters
    ----------
    records
        :attr:`Tap.records` (or a selection of them).

    Returns
    -------
    list of Message
        Sorted by the order their first byte crossed the tap.

    Raises
    ------
    OperationError
        ``result="decodingError"`` when a stream is not LDAP/TLS or is cut short (a capture
        truncated by ``max_bytes``); the message says which direction and offset.
    """
    by_connection: dict[int, dict[str, list[Record]]] = {}
    for r in records:
        by_connection.setdefault(r.connection, {CLIENT_TO_SERVER: [], SERVER_TO_CLIENT: []})[
            r.direction].append(r)
    out: list[Message] = []
    for streams in by_connection.values():
        client_records, server_records = streams[CLIENT_TO_SERVER], streams[SERVER_TO_CLIENT]
        client = b"".join(r.data for r in client_records)
        server = b"".join(r.data for r in server_records)
        cw, sw = _Where(client_records), _Where(server_records)
        if _looks_like_tls(client) or _looks_like_tls(server):  # LDAPS: TLS from byte one
            out += _decode_direction(client, CLIENT_TO_SERVER, cw, 0)
            out += _decode_direction(server, SERVER_TO_CLIENT, sw, 0)
            continue
        try:
            c_msgs, c_at, starttls_id = _ldap_messages(client, 0, CLIENT_TO_SERVER, cw, True,
                                                       None)
        except _BerError as exc:
            raise _decode_error(exc, CLIENT_TO_SERVER, client) from None
        if starttls_id is None:
            out += c_msgs
            if c_at < len(client):
                out += _tls_tail(client, c_at, CLIENT_TO_SERVER, cw)
            out += _decode_direction(server, SERVER_TO_CLIENT, sw, None)
            continue
        try:
            s_msgs, s_at, accepted = _ldap_messages(server, 0, SERVER_TO_CLIENT, sw, False,
                                                    starttls_id)
        except _BerError as exc:
            raise _decode_error(exc, SERVER_TO_CLIENT, server) from None
        out += c_msgs + s_msgs
        if accepted is not None:  # both sides now speak TLS
            out += _tls_tail(client, c_at, CLIENT_TO_SERVER, cw)
            out += _tls_tail(server, s_at, SERVER_TO_CLIENT, sw)
        else:  # StartTLS refused: the client may carry on in clear
            try:
                more, reached, _ = _ldap_messages(client, c_at, CLIENT_TO_SERVER, cw, False,
                                                  None)
            except _BerError as exc:
                raise _decode_error(exc, CLIENT_TO_SERVER, client) from None
            out += more
            if reached < len(client):
                out += _tls_tail(client, reached, CLIENT_TO_SERVER, cw)
            if s_at < len(server):
                out += _tls_or_ldap_tail(server, s_at, sw)
    out.sort(key=lambda m: (m.seq, m.connection, m.offset))
    return out


def _tls_tail(data: bytes, start: int, direction: str, where: _Where) -> list[Message]:
    try:
        return _tls_records(data, start, direction, where)
    except _BerError as exc:
        raise _decode_error(exc, direction, data) from None


def _tls_or_ldap_tail(data: bytes, start: int, where: _Where) -> list[Message]:
    try:
        messages, reached, _ = _ldap_messages(data, start, SERVER_TO_CLIENT, where, False, None)
        if reached < len(data):
            messages += _tls_records(data, reached, SERVER_TO_CLIENT, where)
        return messages
    except _BerError as exc:
        raise _decode_error(exc, SERVER_TO_CLIENT, data) from None


# ==========================================================================================
# Display helpers
# ==========================================================================================
def hexdump(data: bytes, *, width: int = 16, start: int = 0, limit: int | None = 4096) -> str:
    """A classic hex dump: offset, bytes in hex, printable ASCII.

    Parameters
    ----------
    data
        The bytes.
    width
        Bytes per line.
    start
        The offset printed for the first byte.
    limit
        Show at most this many bytes (None: all); a last line says how many were left out.

    Returns
    -------
    str

    Examples
    --------
    >>> print(hexdump(b"0\\x0c\\x02\\x01\\x01`\\x07secret"))
    0000  30 0c 02 01 01 60 07 73 65 63 72 65 74           0....`.secret
    """
    shown = data if limit is None else data[:limit]
    lines = []
    for i in range(0, len(shown), width):
        chunk = shown[i:i + width]
        hexes = " ".join(f"{b:02x}" for b in chunk).ljust(width * 3 - 1)
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append(f"{start + i:04x}  {hexes}  {text}")
    if len(shown) < len(data):
        lines.append(f"... {len(data) - len(shown)} more bytes")
    return "\n".join(lines)


def messages_frame(messages: Sequence[Message]) -> pd.DataFrame:
    """One row per message: time, direction, protocol, id, operation, summary, bytes,
    encrypted.

    Examples
    --------
    >>> messages_frame(decode_stream(bytes.fromhex("30 05 02 01 02 42 00")))[
    ...     ["direction", "operation", "bytes"]].to_dict("records")
    [{'direction': 'client->server', 'operation': 'unbindRequest', 'bytes': 7}]
    """
    import pandas as pd

    columns = ["time", "connection", "direction", "protocol", "message_id", "operation",
               "summary", "bytes", "encrypted"]
    rows = [{"time": round(m.time, 6), "connection": m.connection, "direction": m.direction,
             "protocol": m.protocol, "message_id": m.message_id, "operation": m.operation,
             "summary": m.summary, "bytes": len(m.raw), "encrypted": m.encrypted}
            for m in messages]
    frame = pd.DataFrame(rows, columns=columns)
    frame["message_id"] = frame["message_id"].astype("Int64")
    return frame


# ==========================================================================================
# A real bind through the tap
# ==========================================================================================
@dataclass
class Capture:
    """What crossed the wire during :func:`capture_bind`.

    ``password_visible`` is True when the password's bytes appear anywhere in what the client
    sent; ``tls_records`` counts TLS records; ``bound`` says whether the server accepted the
    bind and ``entries`` how many entries the search returned.  ``error`` holds the ldapnb
    error when the exchange failed and ``check=False`` was given.  The password itself is not
    kept here (it is in the decoded bind request when it crossed in clear: that is the lesson).
    """

    mode: str
    url: str
    records: list[Record]
    messages: list[Message]
    password_visible: bool
    tls_records: int
    bound: bool
    entries: int
    error: LdapnbError | None = None

    @property
    def client_bytes(self) -> bytes:
        return b"".join(r.data for r in self.records if r.direction == CLIENT_TO_SERVER)

    @property
    def server_bytes(self) -> bytes:
        return b"".join(r.data for r in self.records if r.direction == SERVER_TO_CLIENT)

    def find(self, operation: str) -> list[Message]:
        """The messages whose operation is ``operation`` (``"bindRequest"``, ...)."""
        return [m for m in self.messages if m.operation == operation]

    def frame(self) -> pd.DataFrame:
        """:func:`messages_frame` of the messages."""
        return messages_frame(self.messages)

    def __repr__(self) -> str:
        return (f"<Capture {self.mode} via {self.url}: {len(self.records)} records, "
                f"{len(self.messages)} messages, {self.tls_records} TLS records, "
                f"password visible: {self.password_visible}>")

    def _repr_html_(self) -> str:
        head = html.escape(repr(self))
        return f"<p><b>{head}</b></p>" + self.frame().to_html(index=False)


def _tls_error(exc: BaseException, host: str, port: int, ca_file: str) -> LdapnbError | None:
    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and len(chain) < 10:
        chain.append(e)
        e = e.__cause__ or e.__context__
    text = " | ".join(str(x) for x in chain)
    low = text.lower()
    if "mismatch" in low or "doesn't match" in low or "match" in low and "hostname" in low:
        return TlsError(f"the certificate of {host}:{port} is not valid for the name {host!r} "
                        f"the client connected to: {text}")
    if "certificate verify failed" in low or "unknown ca" in low or "self-signed" in low \
            or "self signed" in low:
        return TlsError(f"the certificate of {host}:{port} was not signed by a CA the client "
                        f"trusts ({ca_file}): {text}")
    if "ssl" in low or "tls" in low or "wrong version number" in low:
        return TlsError(f"the TLS handshake with {host}:{port} failed: {text}")
    return None


def capture_bind(
    server: Any,
    *,
    mode: str = "plain",
    user: str,
    password: str,
    ca_file: str | None = None,
    base: str | None = None,
    filter: str = "(objectClass=person)",
    attributes: Sequence[str] = ("cn",),
    check: bool = True,
    timeout: float = 5.0,
) -> Capture:
    """Run a real ldap3 simple bind and one search through a :class:`Tap`; return what crossed.

    The lesson on port 389 shows the password in clear: ldap3 sends a simple bind on a plain
    connection without complaint.  (ldapnb's own live connections refuse cleartext binds
    unless ``allow_cleartext=True``; here ldap3 is driven directly, on purpose, to show why.)
    Use a demo password, such as a fixture's documented one (``alice-pw`` in ``tiny.ldif``).

    Parameters
    ----------
    server
        A running :class:`~ldapnb.sources.slapd.Slapd` (or anything with ``host``, ``port``,
        ``ldaps_port``, ``ca_file`` and ``suffix``).
    mode
        ``"plain"`` (port 389-style, no TLS), ``"ldaps"`` (the LDAPS port: TLS from the first
        byte) or ``"starttls"`` (the plain port, upgraded with the StartTLS operation).
    user, password
        The simple bind.  This is a teaching function: the password crosses the tap and, in
        ``"plain"`` mode, is readable in the capture.
    ca_file
        The CA the client trusts (default: the server's own ``ca_file``).  The client checks
        the certificate chain and that it is valid for ``127.0.0.1``; give another CA to see
        what an untrusted certificate looks like.
    base, filter, attributes
        The search made after the bind (default base: the server's suffix).
    check
        When True, failures raise; when False they are kept in :attr:`Capture.error` (with
        the bytes that crossed before the failure, e.g. a TLS alert).
    timeout
        Seconds for connecting and for each answer.

    Returns
    -------
    Capture

    Raises
    ------
    TlsError
        The certificate is not trusted or not valid for the name (``check=True``).
    BindError
        The bind was refused (``check=True``).
    DirectoryUnavailable
        The server cannot be reached.
    LdapnbError
        ``mode`` is not one of the three.
    """
    import ldap3
    from ldap3.core.exceptions import LDAPException

    if mode not in ("plain", "ldaps", "starttls"):
        raise LdapnbError(f"mode must be 'plain', 'ldaps' or 'starttls', not {mode!r}")
    host = getattr(server, "host", "127.0.0.1")
    port = server.ldaps_port if mode == "ldaps" else server.port
    if not port:
        raise DirectoryUnavailable(f"the server has no {'LDAPS' if mode == 'ldaps' else 'LDAP'}"
                                   " port (was it started, with tls=True?)", host=host)
    ca = str(ca_file if ca_file is not None else server.ca_file)
    search_base = base if base is not None else server.suffix
    error: LdapnbError | None = None
    bound = False
    entries = 0
    with Tap(host, port) as tap:
        url = f"{'ldaps' if mode == 'ldaps' else 'ldap'}://{tap.host}:{tap.port}"
        tls = None
        if mode != "plain":  # the standard library checks the chain and the name (an IP)
            from ..sources._ldap3 import context_tls

            tls = context_tls(ssl.create_default_context(cafile=ca), tap.host)
        ldap_server = ldap3.Server(tap.host, port=tap.port, use_ssl=mode == "ldaps", tls=tls,
                                   get_info=ldap3.NONE, connect_timeout=timeout)
        # Deliberately ldap3 itself, not ldapnb's live connection: this lesson must be able
        # to send a simple bind in clear to show what an eavesdropper reads.
        conn = ldap3.Connection(ldap_server, user=user, password=password,
                                receive_timeout=max(1, int(timeout)), raise_exceptions=False,
                                auto_bind=ldap3.AUTO_BIND_NONE)
        try:
            conn.open()
            if mode == "starttls" and not conn.start_tls():
                raise TlsError(f"the server refused StartTLS: {conn.result}")
            bound = bool(conn.bind())
            if not bound:
                raise BindError(f"the server refused the simple bind as {user!r}: "
                                f"{conn.result.get('description')} "
                                f"({conn.result.get('message') or 'no message'})")
            conn.search(search_base, filter, attributes=list(attributes))
            entries = len(conn.entries)
        except LdapnbError as exc:
            error = exc
        except (LDAPException, OSError) as exc:
            error = _tls_error(exc, host, tap.port, ca) if mode != "plain" else None
            if error is None:
                error = DirectoryUnavailable(f"the exchange with {host}:{port} through the tap "
                                             f"failed: {exc}", host=host, port=port)
            error.__cause__ = exc
        finally:
            try:
                conn.unbind()
            except (LDAPException, OSError):
                pass
        tap.wait_closed(timeout)
    records = list(tap.records)
    client = b"".join(r.data for r in records if r.direction == CLIENT_TO_SERVER)
    messages = decode(records)
    capture = Capture(mode, url, records, messages,
                      password_visible=bool(password) and password.encode("utf-8") in client,
                      tls_records=sum(m.protocol == "TLS" for m in messages),
                      bound=bound, entries=entries, error=error)
    if error is not None and check:
        raise error
    return capture


# ==========================================================================================
# Ports and URLs
# ==========================================================================================
#: The well-known LDAP ports.
PORTS: tuple[dict[str, Any], ...] = (
    {"port": 389, "scheme": "ldap", "name": "LDAP",
     "tls": "none at first; the client may ask for StartTLS on the same connection",
     "on the wire": "everything readable until StartTLS succeeds, including a simple "
                    "bind's password"},
    {"port": 636, "scheme": "ldaps", "name": "LDAP over TLS (LDAPS)",
     "tls": "from the first byte, before any LDAP message",
     "on the wire": "TLS records only: sizes and timing are visible, contents are not"},
    {"port": 3268, "scheme": "ldap", "name": "Active Directory global catalog",
     "tls": "none at first; StartTLS possible (or signing/sealing with SASL)",
     "on the wire": "a partial copy of every domain in the forest; readable like 389"},
    {"port": 3269, "scheme": "ldaps", "name": "Active Directory global catalog over TLS",
     "tls": "from the first byte",
     "on the wire": "TLS records only"},
)

_DEFAULT_PORTS = {"ldap": 389, "ldaps": 636}


def ports_frame() -> pd.DataFrame:
    """:data:`PORTS` as a DataFrame.

    >>> list(ports_frame().port)
    [389, 636, 3268, 3269]
    """
    import pandas as pd

    return pd.DataFrame(list(PORTS))


def explain_url(url: str) -> dict[str, Any]:
    """What an LDAP URL means: scheme, host, port, when TLS starts, what crosses the wire.

    Reads the RFC 4516 parts too (``ldap://host:port/base?attributes?scope?filter``).

    Parameters
    ----------
    url
        ``ldap://``, ``ldaps://`` or ``ldapi://`` URL.

    Returns
    -------
    dict
        ``scheme``, ``host``, ``port``, ``default_port`` (bool), ``tls``, ``on_the_wire``,
        ``known_as`` (the port's usual role), and ``base``, ``attributes``, ``scope``,
        ``filter`` when the URL has them.

    Raises
    ------
    LdapnbError
        Not an LDAP URL (the message says what was expected).

    Examples
    --------
    >>> e = explain_url("ldaps://dc1.example.org")
    >>> e["port"], e["tls"]
    (636, 'from the first byte: TLS handshake, then LDAP inside it')
    >>> explain_url("ldap://127.0.0.1:3268/dc=example,dc=com?cn?sub?(uid=a)")["scope"]
    'sub'
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise LdapnbError(f"{url!r} is not a valid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("ldap", "ldaps", "ldapi"):
        raise LdapnbError(f"{url!r}: an LDAP URL starts with ldap://, ldaps:// or ldapi:// "
                          f"(found {parts.scheme + '://' if parts.scheme else 'no scheme'})")
    out: dict[str, Any] = {"url": url, "scheme": scheme}
    if scheme == "ldapi":
        out.update(host=unquote(parts.netloc) or "(the server's default socket)", port=None,
                   default_port=True,
                   tls="none needed: a local Unix socket, never on the network",
                   on_the_wire="nothing crosses a network; the server can see the "
                               "client's user id (SASL EXTERNAL)",
                   known_as="LDAP over IPC")
    else:
        if not parts.hostname:
            raise LdapnbError(f"{url!r} names no host (expected {scheme}://host[:port])")
        default = _DEFAULT_PORTS[scheme]
        out.update(host=parts.hostname, port=port or default, default_port=port is None)
        if scheme == "ldaps":
            out["tls"] = "from the first byte: TLS handshake, then LDAP inside it"
            out["on_the_wire"] = ("TLS records: an eavesdropper sees sizes and timing, not "
                                  "DNs, filters, entries or passwords")
        else:
            out["tls"] = ("none unless the client sends StartTLS (extended operation "
                          f"{STARTTLS_OID}) and the server accepts it")
            out["on_the_wire"] = ("every LDAP message in clear until StartTLS succeeds: "
                                  "DNs, filters, entries and a simple bind's password")
        known = [p for p in PORTS if p["port"] == out["port"]]
        out["known_as"] = known[0]["name"] if known else "a non-standard port"
        if known and known[0]["scheme"] != scheme:
            out["warning"] = (f"port {out['port']} usually speaks {known[0]['scheme']}://, "
                              f"not {scheme}://: expect a failed handshake or garbage")
    path = unquote(parts.path[1:]) if parts.path.startswith("/") else ""
    query = parts.query.split("?") if parts.query else []
    if path:
        out["base"] = path
    if query:
        names = ("attributes", "scope", "filter", "extensions")
        for name, value in zip(names, query, strict=False):
            if value:
                value = unquote(value)
                out[name] = value.split(",") if name == "attributes" else value
    return out
