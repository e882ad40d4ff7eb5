"""Small helpers the lessons share: is slapd here, who can read what, TLS certificates.

- :func:`slapd_available` / :func:`using_slapd`: the lessons on ports, TLS, binds, access
  rules and replication use a private OpenLDAP slapd when one can run here, and say so; when
  it cannot they fall back and say what they show instead.  Setting the environment variable
  ``LDAPNB_NO_SLAPD=1`` makes them behave as on a machine without slapd (to try the fallback).
- :func:`visibility`: which attributes of an entry each of several users gets back from a
  search (never the values: passwords stay hidden).
- :func:`certificate_facts`: what a server's TLS certificate says (subject, names, issuer,
  dates), read without trusting it.
- :class:`TlsFront`: a TLS front end on loopback with a certificate for *another* name,
  passing the decrypted LDAP to a real server, to show what a name mismatch looks like.
- :func:`ldap3_bind_bytes`: the bytes ldap3 encodes for a simple bind, for the wire lesson
  when no server can run.
- :func:`replica`: one side of a replication lab (the consumer's copy, say) as a Directory,
  for the widgets.
"""

from __future__ import annotations

import os
import socket
import ssl
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DirectoryUnavailable, LdapnbError

if TYPE_CHECKING:
    import pandas as pd

    from ..directory import Directory

__all__ = ["slapd_available", "using_slapd", "visibility", "certificate_facts", "TlsFront",
           "ldap3_bind_bytes", "replica"]


def slapd_available() -> bool:
    """True when OpenLDAP's slapd and slapadd are installed (and ``LDAPNB_NO_SLAPD`` is not set).

    >>> isinstance(slapd_available(), bool)
    True
    """
    if os.environ.get("LDAPNB_NO_SLAPD"):
        return False
    from ..sources.slapd import find_program

    return find_program("slapd") is not None and find_program("slapadd") is not None


def using_slapd(fallback: str) -> bool:
    """Say which server a lesson uses: a private slapd, or (when slapd is not installed) what
    the lesson shows instead.  Returns :func:`slapd_available`.

    Parameters
    ----------
    fallback : str
        What the lesson shows without slapd (``"the embedded directory, which has no access
        rules"``).

    Returns
    -------
    bool
    """
    if slapd_available():
        from ..sources.slapd import find_program

        print(f"Using a private OpenLDAP slapd ({find_program('slapd')}) on 127.0.0.1.")
        return True
    print(f"slapd is not installed: this part shows {fallback}. "
          "(Debian/Ubuntu: sudo apt-get install slapd ldap-utils)")
    return False


def visibility(directory: Directory, who: Mapping[str, tuple[str, str] | None], dn: str,
               attributes: Sequence[str]) -> pd.DataFrame:
    """Which of ``attributes`` of the entry ``dn`` each user gets back (never the values).

    Parameters
    ----------
    directory : Directory
        Embedded, slapd or live: each user gets their own connection from
        :meth:`~ldapnb.Directory.connection`.
    who : mapping
        A label (``"anonymous"``, ``"alice"``) -> ``(bind DN, password)``, or None for an
        anonymous connection.
    dn : str
        The entry to read.
    attributes : sequence of str
        The attributes asked for.

    Returns
    -------
    pandas.DataFrame
        One row per label: ``bound`` (did the bind work), ``entry`` (was the entry returned),
        then one column per attribute, True when a value came back.

    Examples
    --------
    >>> from ldapnb import Directory
    >>> d = Directory.embedded("tiny")
    >>> t = visibility(d, {"anonymous": None}, "uid=bob,ou=People,dc=example,dc=com", ["cn"])
    >>> bool(t.loc["anonymous", "cn"])
    True
    """
    import ldap3
    import pandas as pd

    rows = {}
    for label, creds in who.items():
        user, password = creds if creds else (None, None)
        conn = directory.connection(user, password)
        try:
            bound = user is None or bool(conn.bound)
            got: dict[str, Any] = {}
            if bound:
                conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=list(attributes))
                for r in conn.response or []:
                    if r.get("type") == "searchResEntry":
                        got = {k.lower(): v for k, v in r.get("raw_attributes", {}).items()}
            row: dict[str, Any] = {"bound": bound, "entry": bool(got) or _found(conn)}
            for a in attributes:
                row[a] = bool(got.get(a.lower()))
            rows[label] = row
        finally:
            conn.unbind()
    return pd.DataFrame.from_dict(rows, orient="index")


def _found(conn: Any) -> bool:
    return any(r.get("type") == "searchResEntry" for r in conn.response or [])


def certificate_facts(host: str, port: int, *, timeout: float = 5.0) -> dict[str, Any]:
    """What the certificate a TLS server sends says, read *without* trusting it.

    Parameters
    ----------
    host, port : str, int
        An ``ldaps://`` server.
    timeout : float
        Seconds.

    Returns
    -------
    dict
        ``subject``, ``issuer``, ``names`` (the subjectAltName entries: what the certificate
        is valid for), ``not_before``, ``not_after``, ``self_signed``.

    Raises
    ------
    DirectoryUnavailable
        Nothing answers TLS there.
    """
    from cryptography import x509

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # to *read* the certificate, whatever it is
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw, \
                context.wrap_socket(raw, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as exc:
        raise DirectoryUnavailable(f"no TLS server answered on {host}:{port}: {exc}",
                                   host=host, port=port) from exc
    if der is None:  # pragma: no cover - a TLS server always sends one here
        raise DirectoryUnavailable(f"{host}:{port} sent no certificate", host=host, port=port)
    cert = x509.load_der_x509_certificate(der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [f"DNS:{n}" for n in san.get_values_for_type(x509.DNSName)] + \
                [f"IP:{n}" for n in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        names = []
    return {"subject": cert.subject.rfc4514_string() or "(empty)",
            "issuer": cert.issuer.rfc4514_string(),
            "names": names,
            "not_before": cert.not_valid_before_utc,
            "not_after": cert.not_valid_after_utc,
            "self_signed": cert.issuer == cert.subject}


class TlsFront:
    """A TLS front end on ``127.0.0.1`` whose certificate names *other* hosts; a context
    manager.

    It accepts TLS with a certificate valid only for ``names`` (signed by its own throw-away
    CA, :attr:`ca_file`), and passes the decrypted bytes to a plain LDAP server, the way a
    load balancer that terminates TLS does.  A client that trusts :attr:`ca_file` but connects
    to ``127.0.0.1`` sees a trusted chain and a name mismatch.  Written by hand (threads and
    :mod:`ssl`), about 60 lines; the certificates come from :mod:`ldapnb.tls` (trustme).

    Parameters
    ----------
    target_host, target_port : str, int
        The plain ``ldap://`` server behind it.
    names : tuple of str
        The names the certificate is valid for.

    Attributes
    ----------
    host, port : str, int
        Where it listens; ``ldaps://127.0.0.1:port``.
    ca_file : pathlib.Path
        The CA that signed its certificate.
    """

    host = "127.0.0.1"

    def __init__(self, target_host: str, target_port: int, *,
                 names: tuple[str, ...] = ("ldap.example.org",)) -> None:
        from ..tls import make_certificates

        self.target = (target_host, int(target_port))
        self.names = names
        self._folder = tempfile.TemporaryDirectory(prefix="ldapnb-front-")
        certs = make_certificates(self._folder.name, names=names)
        self.ca_file: Path = certs.ca_file
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(certs.cert_file, certs.key_file)
        self._listener = socket.create_server((self.host, 0))
        self.port: int = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True, name="ldapnb-tls-front").start()

    @property
    def url(self) -> str:
        return f"ldaps://{self.host}:{self.port}"

    def _keep(self, s: socket.socket) -> None:
        with self._lock:
            self._sockets.append(s)

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._keep(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            client.settimeout(10)
            tls = self._context.wrap_socket(client, server_side=True)
            tls.settimeout(None)
            server = socket.create_connection(self.target, timeout=10)
            server.settimeout(None)
        except (OSError, ssl.SSLError):  # the client refused the certificate: that is the lesson
            client.close()
            return
        self._keep(tls)
        self._keep(server)
        threading.Thread(target=_pump, args=(server, tls), daemon=True).start()
        _pump(tls, server)

    def stop(self) -> None:
        """Stop listening and close every connection."""
        self._stopped = True
        self._listener.close()
        with self._lock:
            for s in self._sockets:
                try:
                    s.close()
                except OSError:  # pragma: no cover
                    pass
            self._sockets.clear()
        self._folder.cleanup()

    def __enter__(self) -> TlsFront:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<TlsFront {self.url} -> ldap://{self.target[0]}:{self.target[1]} " \
               f"certificate for {', '.join(self.names)}>"


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except (OSError, ssl.SSLError):
        pass
    finally:
        for s in (source, sink):
            try:
                s.close()
            except OSError:  # pragma: no cover
                pass


def ldap3_bind_bytes(user: str, password: str, message_id: int = 1) -> bytes:
    """The bytes of a simple bindRequest as ldap3 encodes it (pyasn1, RFC 4511).

    For the wire lesson on a machine without slapd: the same bytes a client sends, made by
    the same library, without a server to send them to.

    Examples
    --------
    >>> ldap3_bind_bytes("cn=a", "pw").hex(" ")
    '30 12 02 01 01 60 0d 02 01 03 04 04 63 6e 3d 61 80 02 70 77'
    """
    from ..sources._ldap3 import bind_request_bytes

    try:
        return bind_request_bytes(user, password, message_id)
    except Exception as exc:  # noqa: BLE001 - pyasn1's errors become an ldapnb one
        raise LdapnbError(f"cannot encode a bind request for {user!r}: {exc}") from exc


def replica(lab: Any, side: str = "consumer") -> Directory:
    """One side of a replication lab as a :class:`~ldapnb.Directory` (what that server holds
    now, read anonymously), for the search explorer and other views.

    Parameters
    ----------
    lab : ReplicationLab or EmbeddedReplicationLab
        From :func:`ldapnb.teach.replication.replication_lab`.
    side : str
        ``"consumer"`` or ``"provider"``.

    Returns
    -------
    Directory
        For the real lab, a live connection to that slapd (close it, or let the lab's
        ExitStack do it); for the embedded lab, that side's embedded directory itself.

    Examples
    --------
    >>> from ldapnb.teach.replication import replication_lab
    >>> with replication_lab("tiny", prefer="embedded", announce=False) as lab:
    ...     d = replica(lab)
    ...     d.search("(uid=bob)", attributes=["title"]).title[0]
    ['System Administrator']
    """
    if side not in ("consumer", "provider"):
        raise LdapnbError(f"side must be 'consumer' or 'provider', not {side!r}")
    own = getattr(lab, f"{side}_directory", None)
    if own is not None:
        return own
    server = getattr(lab, f"{side}_server", None)
    if server is None:
        raise LdapnbError(f"this lab has no {side} server")
    from ..directory import Directory

    return Directory.connect(server.urls["ldap"])
