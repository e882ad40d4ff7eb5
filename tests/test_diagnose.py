"""The connectivity doctor against a real slapd (from conftest_slapd) and small local servers."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator

import pandas as pd
import pytest
import trustme

from ldapnb.diagnose import STATUSES, Report, diagnose
from ldapnb.directory import fixture_path


@pytest.fixture
def server(slapd_factory):
    return slapd_factory(fixture_path("tiny"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _statuses(report: Report) -> dict[str, str]:
    return {s.step: s.status for s in report}


def test_working_ldaps_passes_every_step(server):
    report = diagnose(server.urls["ldaps"], ca_file=str(server.ca_file), user=server.rootdn,
                      password=server.rootpw)
    assert report.ok, str(report)
    assert list(_statuses(report).values()) == ["pass"] * len(report)
    assert [s.step for s in report] == ["URL", "DNS", "TCP connect", "TLS handshake",
                                        "certificate", "chain trusted", "name match",
                                        "rootDSE (anonymous)", "bind"]
    assert "TLSv1." in report["TLS handshake"].detail
    cert = report["certificate"].detail
    assert "IP:127.0.0.1" in cert and "DNS:localhost" in cert and "valid until" in cert
    assert "ldapnb throw-away test CA" in cert
    assert "dc=example,dc=com" in report["rootDSE (anonymous)"].detail
    assert "OpenLDAP" in report["rootDSE (anonymous)"].detail
    assert "whoami: dn:cn=admin,dc=example,dc=com" in report["bind"].detail
    assert server.rootpw not in str(report) + report._repr_html_()


def test_plain_port_offers_starttls(server):
    report = diagnose(server.urls["ldap"], ca_file=str(server.ca_file), user=server.rootdn,
                      password=server.rootpw)
    assert report.ok, str(report)
    assert report["StartTLS offered"].status == "pass"
    assert "1.3.6.1.4.1.1466.20037" in report["StartTLS offered"].detail
    assert "after StartTLS" in report["TLS handshake"].detail
    assert report["bind"].status == "pass"


def test_unknown_ca_fails_the_trust_step_with_the_ca_hint(server, tmp_path):
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    report = diagnose(server.urls["ldaps"], ca_file=str(other), user=server.rootdn,
                      password=server.rootpw)
    assert report.failed == ["chain trusted"]
    step = report["chain trusted"]
    assert "certificate signed by an unknown CA" in step.hint and "ca_file" in step.hint
    assert report["TLS handshake"].status == report["certificate"].status == "pass"
    assert report["name match"].status == "pass"  # checked by hand, reported on its own
    # no password is sent over a connection that could not be verified
    assert report["bind"].status == "skip" and "could not verify" in report["bind"].detail


def test_system_store_does_not_trust_a_private_ca(server):
    report = diagnose(server.urls["ldaps"])
    assert report["chain trusted"].status == "fail"
    assert "system's CA store" in report["chain trusted"].detail
    assert "pass ca_file=" in report["chain trusted"].hint


@pytest.mark.parametrize("scheme", ["ldap", "ldaps"])
def test_untrusted_private_ca_reads_the_same_over_starttls_and_ldaps(server, scheme):
    """Issue 10 section 6: StartTLS without ca_file said 'Bad file descriptor ... try again'
    (ldap3 raised from unbinding the connection whose handshake had failed, hiding why)."""
    report = diagnose(server.urls[scheme], user=server.rootdn, password=server.rootpw)
    step = report["chain trusted"]
    assert report.failed == ["chain trusted"], str(report)
    assert "not trusted by the system's CA store" in step.detail
    assert "certificate signed by an unknown CA" in step.hint and "pass ca_file=" in step.hint
    assert "descriptor" not in str(report) and "try again" not in step.hint
    assert report["bind"].status == "skip"  # never a password over an unverified connection


def test_closed_port_fails_tcp_with_the_firewall_hint_and_skips_the_rest():
    port = _free_port()
    report = diagnose(f"ldaps://127.0.0.1:{port}", timeout=2)
    assert report.failed == ["TCP connect"]
    assert f"port {port} closed" in report["TCP connect"].detail
    hint = report["TCP connect"].hint
    assert "a firewall may block LDAPS" in hint and "try StartTLS on 389" in hint
    after = report.steps[3:]
    assert after and all(s.status == "skip" and "closed" in s.detail for s in after)


def test_wrong_password_fails_the_bind(server):
    report = diagnose(server.urls["ldaps"], ca_file=str(server.ca_file), user=server.rootdn,
                      password="not the password")
    assert report.failed == ["bind"]
    assert "invalidCredentials" in report["bind"].detail
    assert "password" in report["bind"].hint


def test_bind_skipped_without_credentials(server):
    report = diagnose(server.urls["ldaps"], ca_file=str(server.ca_file))
    assert report.ok and report["bind"].status == "skip"
    assert diagnose(server.urls["ldaps"], ca_file=str(server.ca_file),
                    user=server.rootdn)["bind"].status == "skip"


def test_url_and_dns_failures():
    bad = diagnose("http://example.org")
    assert bad.failed == ["URL"] and bad["DNS"].status == "skip"
    nodns = diagnose("ldap://no-such-host.invalid", timeout=2)
    assert nodns.failed == ["DNS"] and "does not resolve" in nodns["DNS"].detail
    assert "/etc/hosts" in nodns["DNS"].hint
    assert nodns["TCP connect"].status == "skip"


# -- a TLS server whose certificate names another host ------------------------------------------


@pytest.fixture
def tls_server(tmp_path) -> Iterator[tuple[int, str]]:
    """A TLS server (no LDAP) for ``ldap.example.org``: (port, CA file)."""
    ca = trustme.CA()
    cert = ca.issue_cert("ldap.example.org")
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            try:
                with context.wrap_socket(raw, server_side=True) as tls:
                    tls.settimeout(0.5)
                    tls.recv(1024)
            except (OSError, ssl.SSLError):
                pass
            finally:
                raw.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], str(ca_file)
    stop.set()
    thread.join(5)
    listener.close()


def test_name_mismatch_says_which_names(tls_server):
    port, ca_file = tls_server
    report = diagnose(f"ldaps://127.0.0.1:{port}", ca_file=ca_file, timeout=1)
    assert report["chain trusted"].status == "pass"
    step = report["name match"]
    assert step.status == "fail"
    assert ("name mismatch: you connected to 127.0.0.1 but the certificate is for "
            "DNS:ldap.example.org") in step.hint
    assert report["rootDSE (anonymous)"].status == "fail"  # it speaks TLS but not LDAP


def test_plain_ldap_port_given_as_ldaps(server):
    port = server.urls["ldap"].rsplit(":", 1)[1]
    report = diagnose(f"ldaps://127.0.0.1:{port}", timeout=2)
    assert report["TLS handshake"].status == "fail"
    assert "StartTLS" in report["TLS handshake"].hint
    assert report["certificate"].status == "skip"


# -- the report --------------------------------------------------------------------------------


def test_report_frame_text_and_html():
    report = diagnose(f"ldaps://127.0.0.1:{_free_port()}", timeout=2)
    frame = report.frame
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["step", "status", "detail", "hint", "seconds"]
    assert set(frame.status) <= set(STATUSES) and "fail" in set(frame.status)
    text = str(report)
    assert "FAIL  TCP connect" in text and "hint: port" in text and "failed: TCP connect" in text
    html = report._repr_html_()
    assert "<table>" in html and "#cf222e" in html and "FAIL" in html
    assert "failed" in repr(report)
    with pytest.raises(KeyError, match="no step"):
        report["nope"]


def test_html_escapes_what_the_server_says():
    report = Report("ldap://x", [])
    report.steps.append(__import__("ldapnb.diagnose", fromlist=["Step"]).Step(
        "certificate", "warn", "subject CN=<script>", "renew <soon>"))
    html = report._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_fractional_timeout_works_with_ldap3(server):
    report = diagnose(server.urls["ldap"], ca_file=str(server.ca_file), timeout=2.5)
    assert report.ok, str(report)
