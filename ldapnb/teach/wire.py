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
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from ..errors import (
    BindError,
    DirectoryUnavailable,
    LdapnbError,
    TlsError,
)
from ._decode import (
    ENCRYPTED,  # noqa: F401 - public as wire.ENCRYPTED
    STARTTLS_OID,
    Field,
    Message,
    decode,
    decode_stream,
    hexdump,
    messages_frame,
)
from ._tap import CLIENT_TO_SERVER, SERVER_TO_CLIENT, Record, Tap

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

    @property
    def tls_version(self) -> str | None:
        """The TLS version the server chose (its ServerHello), None without TLS."""
        for m in self.messages:
            if m.protocol == "TLS" and "negotiated version: " in m.summary:
                return m.summary.split("negotiated version: ", 1)[1].split(";")[0]
        return None

    def find(self, operation: str) -> list[Message]:
        """The messages whose operation is ``operation`` (``"bindRequest"``, ...)."""
        return [m for m in self.messages if m.operation == operation]

    def frame(self) -> pd.DataFrame:
        """:func:`messages_frame` of the messages."""
        return messages_frame(self.messages)

    def __repr__(self) -> str:
        tls = f" ({self.tls_version})" if self.tls_version else ""
        return (f"<Capture {self.mode} via {self.url}: {len(self.records)} records, "
                f"{len(self.messages)} messages, {self.tls_records} TLS records{tls}, "
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
