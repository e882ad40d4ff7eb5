"""A server that trickles its TLS handshake, one byte every 0.1 s: each read comes in time, the
handshake never ends.  ``timeout`` must bound the whole handshake, for ``ldaps://`` and for
StartTLS, in ``Directory.connect`` and in ``diagnose``.

This already holds without ldapnb's deadlines: CPython's ``SSLSocket.do_handshake`` treats the
socket timeout as a deadline for the whole call (ldap3's rounding of ``receive_timeout`` up to
whole seconds makes it up to 1 s here).  The test keeps it that way."""

from __future__ import annotations

import time

import pytest
from hostile_server import STARTTLS, HostileServer, Request, Session, extended

from ldapnb import Directory
from ldapnb.diagnose import diagnose
from ldapnb.errors import LdapnbError

TIMEOUT = 0.5
BOUND = 3 * TIMEOUT + 0.5
#: a TLS handshake record header declaring 16 KiB, whose body then comes a byte at a time
RECORD = b"\x16\x03\x03\x40\x00"


def _trickle_tls(s: Session) -> None:
    s.wait_for_bytes()  # the client speaks first (its ClientHello)
    s.send(RECORD)
    s.trickle(b"\x02" * 16384, 0.1)


def _starttls_then_trickle(s: Session, req: Request) -> None:
    s.send(extended(req.message_id, STARTTLS, 0))
    _trickle_tls(s)


@pytest.mark.parametrize("how", ["ldaps", "starttls"])
@pytest.mark.parametrize("target", ["connect", "diagnose"])
def test_a_trickled_tls_handshake_is_bounded(how, target):
    if how == "ldaps":
        server = HostileServer(lambda s, r: s.normal(r), on_connect=_trickle_tls)
    else:
        server = HostileServer(_starttls_then_trickle, phase="extended", offer_starttls=True)
    with server:
        url = server.url.replace("ldap://", "ldaps://") if how == "ldaps" else server.url
        began = time.monotonic()
        if target == "connect":
            with pytest.raises(LdapnbError, match="within 0.5 s|timed out|timeout") as info:
                Directory.connect(url, start_tls=how == "starttls", timeout=TIMEOUT)
            assert "127.0.0.1" in str(info.value)
        else:
            report = diagnose(url, timeout=TIMEOUT)
            step = report["TLS handshake"]
            assert step.status == "fail", str(report)
            assert "timed out" in step.detail or "0.5 s" in step.detail
        took = time.monotonic() - began
    assert took < BOUND, f"{took:.1f} s"
