"""TLS name checks (RFC 6125) and the client handshake, against real certificates.

The certificates are made here with ``trustme`` (the CA) and ``cryptography`` (a server
certificate whose subjectAltName is exactly what the test needs, such as ``DNS:127.0.0.1``),
and served by a real TLS server on loopback.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ldapnb.diagnose import _Cert, _matches
from ldapnb.errors import TlsError
from ldapnb.tls import certificate_identities, client_handshake, name_matches


def _server_cert(ca: trustme.CA, sans: list[x509.GeneralName], folder: Path) -> Path:
    """A server certificate signed by ``ca`` with exactly ``sans``; cert+key in one PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    ca_key = serialization.load_pem_private_key(ca.private_key_pem.bytes(), password=None)
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .sign(ca_key, hashes.SHA256()))  # type: ignore[arg-type]
    path = folder / "server.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return path


class _TlsServer:
    """Accepts TLS connections on 127.0.0.1 with one certificate until closed."""

    def __init__(self, cert_file: Path) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(cert_file))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.stopped = threading.Event()
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                raw, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            raw.settimeout(5)
            try:
                with self.context.wrap_socket(raw, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()
        self.thread.join(5)


@pytest.fixture
def ca(tmp_path: Path) -> Iterator[tuple[trustme.CA, Path]]:
    authority = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    yield authority, ca_file


def _handshake(server: _TlsServer, ca_file: Path, name: str = "127.0.0.1") -> dict:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    tls, peer = client_handshake(sock, host="127.0.0.1", port=server.port, server_name=name,
                                 ca_file=str(ca_file))
    tls.close()
    assert peer is not None
    return peer


def test_dns_san_spelling_an_address_does_not_match_the_address(ca, tmp_path) -> None:
    authority, ca_file = ca
    server = _TlsServer(_server_cert(authority, [x509.DNSName("127.0.0.1")], tmp_path))
    try:
        with pytest.raises(TlsError, match="name mismatch: the certificate is for 127.0.0.1, "
                                           "not 127.0.0.1"):
            _handshake(server, ca_file)
    finally:
        server.close()


def test_ip_san_matches_the_address(ca, tmp_path) -> None:
    authority, ca_file = ca
    server = _TlsServer(_server_cert(
        authority, [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))], tmp_path))
    try:
        peer = _handshake(server, ca_file)
        assert certificate_identities(peer) == [("IP", "127.0.0.1")]
        with pytest.raises(TlsError, match="name mismatch"):  # an IP SAN is no DNS name
            _handshake(server, ca_file, name="localhost")
    finally:
        server.close()


def test_untrusted_chain_is_a_tls_error_naming_the_ca_file(ca, tmp_path) -> None:
    authority, _ = ca
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    server = _TlsServer(_server_cert(
        authority, [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))], tmp_path))
    try:
        with pytest.raises(TlsError, match="not trusted: signed by an unknown CA.*other-ca"):
            _handshake(server, other)
    finally:
        server.close()


def test_name_rules_with_kinds() -> None:
    assert not name_matches("127.0.0.1", [("DNS", "127.0.0.1")])
    assert name_matches("127.0.0.1", [("IP", "127.0.0.1")])
    assert not name_matches("localhost", [("IP", "127.0.0.1")])
    assert name_matches("::1", ["IP:0:0::1"]) and not name_matches("::1", ["DNS:::1"])
    assert not name_matches("10.0.0.5", [("DNS", "*.0.0.5")])
    assert name_matches("dc1.corp.example", [("DNS", "*.corp.example")])


def test_diagnose_name_check_follows_the_same_rule() -> None:
    def cert(dns: list[str], ips: list[str]) -> _Cert:
        now = datetime.datetime.now(datetime.UTC)
        return _Cert(subject="CN=127.0.0.1", issuer="CN=ca", sans=[], dns_names=dns,
                     ips=[ipaddress.ip_address(i) for i in ips], common_names=["127.0.0.1"],
                     not_before=now, not_after=now)

    assert not _matches("127.0.0.1", cert(["127.0.0.1"], []))
    assert _matches("127.0.0.1", cert([], ["127.0.0.1"]))
