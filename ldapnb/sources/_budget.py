"""How long, and how much, ldapnb waits for a server: one :class:`Budget` per connection.

A socket timeout bounds one read; a server that trickles a byte just before each read times
out, or declares a 2 GiB message and sends it slowly, would hold a caller for ever.  A budget
bounds whole operations instead:

* every message of an answer (a bind's result, an entry, a search's result) must be
  complete within ``timeout`` seconds of starting to wait for it (of the request, or of the
  previous message): a silent server or a trickled message is stopped, a big answer that
  keeps coming message by message is not;
* a whole search, all its pages, may wait for the server ``search_timeout`` seconds in total
  (time spent by the caller between pages does not count);
* no single LDAP message may declare more than ``max_message_size`` bytes.

Each limit, when hit, is a :class:`~ldapnb.errors.DirectoryUnavailable` naming the limit, its
value, what was being done and what to try.  The fast search reader
(:mod:`ldapnb.sources._ldap3`) and ldap3's own reader (guarded by
:func:`ldapnb.sources._ldap3.guard`) both read through :meth:`Budget.recv`.

Why 256 MiB by default: the largest message a directory sends is one entry, and the largest
real entries are big static groups (a million ``member`` DNs of ~60 bytes is ~60 MB in
OpenLDAP; Active Directory sends at most 1,500 values per attribute per message) and entries
with photos or certificate lists (a few MB).  256 MiB leaves room for all of them, while a
hostile 2 GiB declaration is refused as soon as its header arrives, before any of it is
buffered.  Lower it (``max_message_size=``) on a small machine; raise it only for a directory
known to hold bigger entries.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

from ..errors import DirectoryUnavailable

__all__ = ["Budget", "BerError", "DEFAULT_MAX_MESSAGE_SIZE", "DEFAULT_SEARCH_TIMEOUT",
           "check_ber", "message_id_of", "MAX_DEPTH"]

#: The deepest nesting an LDAP message may have.  The deepest real ones are search requests
#: with nested filters; responses nest about 6 deep (message, operation, attribute list,
#: attribute, value set, value), controls a few more.
MAX_DEPTH = 64

#: The largest LDAP message accepted by default (see the module's docstring).
DEFAULT_MAX_MESSAGE_SIZE = 256 * 2**20
#: Seconds a whole search may wait for the server by default (all pages together).
DEFAULT_SEARCH_TIMEOUT: float | None = 3600.0


class BerError(ValueError):
    """Bytes that are not one well-formed LDAP BER element; ``offset`` says where."""

    def __init__(self, offset: int, what: str) -> None:
        super().__init__(f"at offset {offset}: {what}")
        self.offset = offset
        self.what = what


def message_id_of(data: bytes) -> int | None:
    """The message id of the LDAPMessage ``data`` when it can be read, else None.

    Examples
    --------
    >>> message_id_of(bytes.fromhex("300c020107")), message_id_of(b"\\x30")
    (7, None)
    """
    try:
        p = 2 + (data[1] & 0x7F if data[1] & 0x80 else 0)
        if data[p] != 0x02 or not 1 <= data[p + 1] <= 4 or len(data) < p + 2 + data[p + 1]:
            return None
        return int.from_bytes(data[p + 2:p + 2 + data[p + 1]], "big", signed=True)
    except IndexError:
        return None


def check_ber(data: bytes, max_depth: int = MAX_DEPTH) -> None:
    """Check that ``data`` is exactly one well-formed BER element as LDAP uses them (RFC 4511
    section 5.1): one-byte tags, definite lengths of at most 4 bytes, every constructed
    element filled exactly by its children, nesting at most ``max_depth`` deep.

    Walks the structure with a stack (no recursion), so a hostile 3,000-deep nesting is a
    :class:`BerError` (a ``ValueError``) naming the offset, not a ``RecursionError`` in a
    decoder.

    Examples
    --------
    >>> check_ber(bytes.fromhex("300c020101 6107 0a0100 0400 0400".replace(" ", "")))
    >>> check_ber(bytes.fromhex("3005020101"))
    Traceback (most recent call last):
    ...
    ldapnb.sources._budget.BerError: at offset 0: the element declares 5 bytes but 3 follow
    """
    end_of = [len(data)]
    p = 0
    first = True
    while p < len(data) or len(end_of) > 1:
        while len(end_of) > 1 and p == end_of[-1]:
            end_of.pop()
        if p >= len(data):
            break
        if not first and len(end_of) == 1:
            raise BerError(p, f"{len(data) - p} bytes after the message's end")
        first = False
        tag = data[p]
        if tag & 0x1F == 0x1F:
            raise BerError(p, f"a multi-byte tag (0x{tag:02x}), never used by LDAP")
        if p + 1 >= len(data):
            raise BerError(p, "the element has no length")
        n = data[p + 1]
        start = p + 2
        if n >= 0x80:
            k = n & 0x7F
            if k == 0:
                raise BerError(p, "an indefinite length (0x80), which LDAP forbids")
            if k > 4:
                raise BerError(p, f"a {k}-byte length, more than LDAP uses")
            start = p + 2 + k
            n = int.from_bytes(data[p + 2:start], "big")
        end = start + n
        if end > end_of[-1]:
            raise BerError(p, f"the element declares {n} bytes but "
                             f"{max(0, end_of[-1] - start)} follow")
        if tag & 0x20 and n:  # constructed: its children must fill it exactly
            if len(end_of) > max_depth:
                raise BerError(p, f"nested more than {max_depth} deep")
            end_of.append(end)
            p = start
        else:
            p = end
    return None


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.4g} {unit}"
    return f"{n} bytes"


@dataclass
class Budget:
    """The limits of one connection and the clock of the operation in progress.

    Examples
    --------
    >>> b = Budget("127.0.0.1", 389, timeout=2)
    >>> b.check_size(1000)
    >>> b.check_size(2**31)
    Traceback (most recent call last):
    ...
    ldapnb.errors.DirectoryUnavailable: 127.0.0.1:389 declared a message of 2 GiB ...
    """

    host: str | None
    port: int | None
    timeout: float = 10.0
    search_timeout: float | None = DEFAULT_SEARCH_TIMEOUT
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    doing: str = "waiting for an answer"
    deadline: float | None = None
    waited: float = 0.0  # unused by the checks: seconds spent in reads, for reports
    searching: bool = False
    search_started: float = 0.0
    paused: float = 0.0  # seconds the caller held the search between pages
    _stack: list[tuple[float | None, str]] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}" if self.host else "the server"

    # -- operations ----------------------------------------------------------------------------
    def start(self, doing: str) -> None:
        """An answer is awaited from now on: it must be complete within ``timeout``."""
        self._stack.append((self.deadline, self.doing))
        self.deadline = time.monotonic() + self.timeout
        self.doing = doing

    def progress(self) -> None:
        """A whole message arrived: the next one has ``timeout`` again (so a big answer that
        keeps coming is not cut, while a trickled message still is)."""
        if self.deadline is not None:
            self.deadline = time.monotonic() + self.timeout

    def end(self) -> None:
        self.deadline, self.doing = self._stack.pop() if self._stack else (None, self.doing)

    def start_search(self) -> None:
        self.searching = True
        self.waited = 0.0
        self.paused = 0.0
        self.search_started = time.monotonic()

    def pause(self) -> float:
        """The caller holds the search (a page was handed out): returns the time, for
        :meth:`resume`."""
        return time.monotonic()

    def resume(self, since: float) -> None:
        self.paused += time.monotonic() - since

    def end_search(self) -> None:
        self.searching = False

    # -- the checks ----------------------------------------------------------------------------
    def remaining(self) -> float:
        """Seconds left for the current read; raises when a limit is already spent."""
        now = time.monotonic()
        left = self.timeout if self.deadline is None else self.deadline - now
        if left <= 0:
            raise self._late()
        if self.searching and self.search_timeout is not None:
            search_left = self.search_timeout - (now - self.search_started - self.paused)
            if search_left <= 0:
                raise self._search_late()
            left = min(left, search_left)
        return left

    def recv(self, sock: socket.socket, size: int) -> bytes:
        """``sock.recv(size)`` within the budget (a typed error when it runs out)."""
        left = self.remaining()
        began = time.monotonic()
        try:
            sock.settimeout(left)
            data = sock.recv(size)
        except TimeoutError:
            self.waited += time.monotonic() - began
            self.remaining()  # raises the limit that was hit
            raise self._late() from None
        finally:
            try:  # sends keep the ordinary per-operation timeout
                sock.settimeout(self.timeout)
            except OSError:
                pass
        self.waited += time.monotonic() - began
        return data

    def check_size(self, declared: int) -> None:
        """Refuse a message that declares more than ``max_message_size`` bytes."""
        if declared > self.max_message_size:
            limit = self.max_message_size
            raise DirectoryUnavailable(
                f"{self.where} declared a message of {_size(declared)} while {self.doing}, "
                f"more than max_message_size={limit} ({_size(limit)}): refused before reading "
                "it, and the connection was closed. A real directory "
                "sends that much in one message only for a huge entry; if you trust the server, "
                "raise max_message_size=", host=self.host, port=self.port)

    def _late(self) -> DirectoryUnavailable:
        return DirectoryUnavailable(
            f"no answer from {self.where} within timeout={self.timeout:g} s while {self.doing} "
            "(ldapnb's limit for each message, not only for one read): the server is too slow, "
            "or sends its answer a little at a time; the connection was closed. Raise timeout= "
            "if the server is just slow", host=self.host, port=self.port)

    def _search_late(self) -> DirectoryUnavailable:
        return DirectoryUnavailable(
            f"the search did not finish: {self.where} took more than search_timeout="
            f"{self.search_timeout:g} s in all while {self.doing} (ldapnb's limit for one "
            "whole search, all pages); the answer is incomplete and was not returned, and the "
            "connection was closed. Narrow the search, or raise search_timeout= (None: no "
            "limit)", host=self.host, port=self.port)
