"""The loopback tap of the wire lessons: a TCP relay on 127.0.0.1 that forwards every chunk
unchanged and records it (direction, time, bytes).  Nothing is invented: the records are what
crossed the sockets.  Public names are re-exported by :mod:`ldapnb.teach.wire`.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import (
    DirectoryUnavailable,
)

if TYPE_CHECKING:
    pass

__all__ = ["CLIENT_TO_SERVER", "SERVER_TO_CLIENT", "Record", "Tap"]

CLIENT_TO_SERVER = "client->server"
SERVER_TO_CLIENT = "server->client"

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
