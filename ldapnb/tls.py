"""TLS as ldapnb checks it: certificate names (RFC 6125), the client handshake, its errors;
and throw-away certificates for a private test server.

* :func:`certificate_identities`, :func:`certificate_names` and :func:`name_matches` decide
  whether a certificate is valid for the host a client connected to.  A DNS name matches only
  ``DNS:`` subjectAltNames (``*.example.org`` stands for one left-most label), an IP address
  only ``IP:`` subjectAltNames: a ``DNS:127.0.0.1`` entry is *not* valid for 127.0.0.1.
* :func:`client_handshake` secures a connected socket: verifies the chain against a CA file
  (or the system's CAs), then the name, the same way on Python 3.11-3.13; every failure is a
  :class:`~ldapnb.errors.TlsError` saying which problem it is (:func:`untrusted_error`,
  :func:`mismatch_error`).  ``LiveSource`` (through ldap3) and ``diagnose`` both use these.
* :func:`make_certificates` writes a fresh certificate authority and a server certificate it
  signed, valid for ``localhost`` and ``127.0.0.1``.  They are made with
  `trustme <https://trustme.readthedocs.io>`_ (built on ``cryptography``): nothing here is
  hand-written cryptography, and they should never be trusted outside a test or a lesson.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import TlsError

__all__ = ["Certificates", "make_certificates", "SERVER_NAMES", "certificate_identities",
           "certificate_names", "name_matches", "client_handshake", "untrusted_error",
           "mismatch_error"]

_KINDS = {"DNS": "DNS", "IP": "IP", "IP ADDRESS": "IP"}


def certificate_identities(cert: dict[str, Any]) -> list[tuple[str, str]]:
    """The certificate's subjectAltName entries as ``(kind, value)``: kind ``"DNS"`` or
    ``"IP"``, as the certificate says (never guessed from how the value looks).

    ``cert`` is what :meth:`ssl.SSLSocket.getpeercert` returns.

    Examples
    --------
    >>> certificate_identities({"subjectAltName": (("DNS", "127.0.0.1"),
    ...                                            ("IP Address", "127.0.0.1"))})
    [('DNS', '127.0.0.1'), ('IP', '127.0.0.1')]
    """
    out = []
    for kind, value in cert.get("subjectAltName", ()):
        k = _KINDS.get(str(kind).upper())
        if k is not None:
            out.append((k, str(value).strip()))
    return out


def certificate_names(cert: dict[str, Any]) -> list[str]:
    """The DNS names and IP addresses a certificate is valid for (its subjectAltName), as
    text for messages.

    Examples
    --------
    >>> certificate_names({"subjectAltName": (("DNS", "localhost"), ("IP Address", "127.0.0.1"))})
    ['localhost', '127.0.0.1']
    """
    return [value for _, value in certificate_identities(cert)]


def name_matches(name: str, names: Iterable[str | tuple[str, str]]) -> bool:
    """True when host ``name`` (a DNS name or an IP address) is one of the certificate's
    ``names`` (RFC 6125: exact, case-insensitive; ``*.example.org`` stands for exactly one
    left-most label; IP addresses compared as addresses, never by wildcard).

    Each of ``names`` is ``(kind, value)`` from :func:`certificate_identities` (the kind the
    certificate gives: an IP address matches only ``IP`` entries, a DNS name only ``DNS``
    ones), or text: ``"DNS:..."`` / ``"IP:..."``, or a bare value whose kind is read from how
    it looks (for lists typed by hand; certificate checks pass the kinds).

    Examples
    --------
    >>> name_matches("127.0.0.1", ["localhost", "127.0.0.1"])
    True
    >>> name_matches("127.0.0.1", [("DNS", "127.0.0.1")])  # a DNS SAN is no IP address SAN
    False
    >>> name_matches("127.0.0.2", ["localhost", "127.0.0.1"])
    False
    >>> name_matches("DC1.example.org", ["*.example.org"]), name_matches("a.b.example.org",
    ...                                                                  ["*.example.org"])
    (True, False)
    """
    wanted_ip = _ip(name)
    host = name.rstrip(".").lower()
    for candidate in names:
        kind, value = _kind(candidate)
        if wanted_ip is not None:
            if kind == "IP" and _ip(value) == wanted_ip:
                return True
            continue
        if kind != "DNS":
            continue
        pattern = value.rstrip(".").lower()
        if pattern == host:
            return True
        if pattern.startswith("*.") and "*" not in pattern[2:] and _ip(pattern[2:]) is None:
            label, _, rest = host.partition(".")
            if label and rest == pattern[2:] and rest.count(".") >= 1:
                return True
    return False


def _kind(candidate: str | tuple[str, str]) -> tuple[str, str]:
    if isinstance(candidate, tuple):
        kind, value = candidate
        return _KINDS.get(str(kind).upper(), str(kind).upper()), str(value).strip()
    text = str(candidate).strip()
    prefix, sep, rest = text.partition(":")
    if sep and prefix.upper() in _KINDS:
        return _KINDS[prefix.upper()], rest.strip()
    return ("IP" if _ip(text) is not None else "DNS"), text


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def untrusted_error(exc: ssl.SSLCertVerificationError, ca_file: str | None, host: str,
                    port: int) -> TlsError:
    """The :class:`TlsError` for a chain that does not verify: which problem, what to do."""
    code = getattr(exc, "verify_code", None)
    detail = getattr(exc, "verify_message", None) or str(exc)
    against = f"the CA file {ca_file}" if ca_file else "this system's trusted CAs"
    if code in (2, 18, 19, 20, 21):
        text = (f"certificate is not trusted: signed by an unknown CA ({detail}); it was "
                f"checked against {against}. Pass ca_file= the PEM file of the CA that signed "
                f"the server's certificate (ask the directory's administrators for it)")
    elif code == 10:
        text = f"certificate has expired ({detail}): the server must renew it"
    elif code == 9:
        text = f"certificate is not yet valid ({detail}): check this machine's clock"
    else:
        text = f"certificate verification failed: {detail} (checked against {against})"
    return TlsError(f"{host}:{port}: {text}")


def mismatch_error(name: str, names: list[str]) -> TlsError:
    """The :class:`TlsError` for a certificate not valid for ``name`` (lists what it is for).

    Examples
    --------
    >>> str(mismatch_error("127.0.0.2", ["localhost", "127.0.0.1"]))[:60]
    'name mismatch: the certificate is for localhost, 127.0.0.1, '
    """
    if not names:
        return TlsError(f"name mismatch: the certificate lists no subjectAltName, so it is valid "
                        f"for no name (modern clients ignore the subject CN), not {name}")
    return TlsError(
        f"name mismatch: the certificate is for {', '.join(names)}, not {name}; connect with a "
        f"name it lists, or pass tls_server_name= one of them if you are sure it is that server")


def client_handshake(sock: socket.socket, *, host: str, port: int, server_name: str,
                     ca_file: str | None = None, verify: bool = True,
                     client_cert: str | None = None, client_key: str | None = None,
                     ) -> tuple[ssl.SSLSocket, dict[str, Any] | None]:
    """Secure the connected ``sock``: the TLS handshake, the chain checked against
    ``ca_file`` (the system's CAs when None), then ``server_name`` against the certificate's
    subjectAltName (:func:`name_matches`).  Returns the TLS socket and the peer certificate
    (None when ``verify`` is False).

    Raises
    ------
    TlsError
        An unreadable CA file, an untrusted chain, a name mismatch, or a failed handshake
        (``sock`` is closed then).
    OSError
        The connection broke during the handshake.
    """
    try:
        context = ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise TlsError(f"cannot read the CA file {ca_file!r}: {exc}") from exc
    # Names are checked below, after the handshake, identically on Python 3.11-3.13.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED if verify else ssl.CERT_NONE
    if client_cert:
        context.load_cert_chain(client_cert, keyfile=client_key)
    sni = None if _ip(server_name) is not None else server_name
    tls = context.wrap_socket(sock, server_side=False, do_handshake_on_connect=False,
                              server_hostname=sni)
    try:
        tls.do_handshake()
    except ssl.SSLCertVerificationError as exc:
        tls.close()
        raise untrusted_error(exc, ca_file, host, port) from exc
    except ssl.SSLError as exc:
        tls.close()
        raise TlsError(
            f"the TLS handshake with {host}:{port} failed: {exc.reason or exc}; is this a TLS "
            f"port? (ldaps:// is usually 636; on 389 use start_tls=True)") from exc
    except OSError:
        tls.close()
        raise
    if not verify:
        return tls, None
    peer = tls.getpeercert() or {}
    if not name_matches(server_name, certificate_identities(peer)):
        tls.close()
        raise mismatch_error(server_name, certificate_names(peer))
    return tls, peer

#: The names the server certificate is valid for (its subjectAltName: DNS and IP entries).
SERVER_NAMES: tuple[str, ...] = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class Certificates:
    """Where :func:`make_certificates` wrote its PEM files.

    ``ca_file`` is the authority to trust (give it to a client as its CA file), ``cert_file``
    the server certificate followed by its chain, ``key_file`` the server's private key
    (readable by its owner only).
    """

    ca_file: Path
    cert_file: Path
    key_file: Path


def make_certificates(
    folder: str | os.PathLike[str], names: tuple[str, ...] = SERVER_NAMES
) -> Certificates:
    """Make a CA and a server certificate it signed, as PEM files in ``folder``.

    Parameters
    ----------
    folder
        An existing folder; ``ca.pem``, ``server.pem`` and ``server.key`` are written in it
        (replacing files of those names).
    names
        Host names and IP addresses the server certificate is valid for; by default
        ``localhost`` and ``127.0.0.1``.  IP addresses become ``IP:`` subjectAltName entries.

    Returns
    -------
    Certificates
        The three file paths.

    Raises
    ------
    FileNotFoundError
        When ``folder`` does not exist.

    Examples
    --------
    >>> import tempfile, ssl
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     certs = make_certificates(tmp)
    ...     context = ssl.create_default_context(cafile=str(certs.ca_file))
    ...     certs.key_file.stat().st_mode & 0o077
    0
    """
    import trustme  # imported here: only servers started by ldapnb need it

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no folder {str(folder)!r} to write certificates into")
    ca = trustme.CA(organization_name="ldapnb throw-away test CA")
    server = ca.issue_cert(*names, organization_name="ldapnb test server")
    certificates = Certificates(
        ca_file=folder / "ca.pem", cert_file=folder / "server.pem", key_file=folder / "server.key"
    )
    ca.cert_pem.write_to_path(str(certificates.ca_file))
    # The server sends its certificate and the chain up to (not including) the CA.
    with open(certificates.cert_file, "wb") as out:
        for blob in server.cert_chain_pems:
            out.write(blob.bytes())
    # Create the key file private before any secret is written to it.
    fd = os.open(certificates.key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(server.private_key_pem.bytes())
    os.chmod(certificates.key_file, 0o600)
    return certificates
