"""ldapnb.teach.wire: the loopback tap, the BER decoder, real captures in clear / LDAPS / StartTLS.

The captures are real exchanges with a private slapd (no skip: without slapd they fail, saying
how to install it).  The decoder is checked on hand-written bytes, on garbage, and against
pyasn1 with ldap3's RFC 4511 specification.
"""

from __future__ import annotations

import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ldap3.protocol.rfc4511 import (
    LDAPDN,
    AuthenticationChoice,
    BindRequest,
    LDAPMessage,
    MessageID,
    ProtocolOp,
    Simple,
    Version,
)
from pyasn1.codec.ber import decoder as ber_decoder
from pyasn1.codec.ber import encoder as ber_encoder

from ldapnb.directory import fixture_path
from ldapnb.errors import LdapnbError, OperationError, TlsError
from ldapnb.teach import wire
from ldapnb.teach.wire import (
    CLIENT_TO_SERVER,
    SERVER_TO_CLIENT,
    STARTTLS_OID,
    Record,
    Tap,
    capture_bind,
    decode,
    decode_stream,
    explain_url,
    hexdump,
    messages_frame,
)

ALICE = "uid=alice,ou=People,dc=example,dc=com"
ALICE_PW = "alice-pw"  # tiny.ldif's documented demo password (ldapnb/fixtures/README.md)


@pytest.fixture
def tiny_slapd(slapd_factory):
    return slapd_factory(fixture_path("tiny"))


def fields_of(message):
    return {f.path: f for f in message.fields}


# -- real captures -------------------------------------------------------------------------------
def test_plain_capture_shows_the_password_and_the_filter(tiny_slapd):
    cap = capture_bind(tiny_slapd, mode="plain", user=ALICE, password=ALICE_PW,
                       filter="(&(uid=bob)(objectClass=person))", attributes=["cn", "mail"])
    assert cap.password_visible
    assert ALICE_PW.encode() in cap.client_bytes
    assert cap.tls_records == 0 and cap.bound and cap.entries == 1
    assert [m.operation for m in cap.messages] == [
        "bindRequest", "bindResponse", "searchRequest", "searchResEntry", "searchResDone",
        "unbindRequest"]
    assert all(m.protocol == "LDAP" and not m.encrypted for m in cap.messages)

    bind = fields_of(cap.find("bindRequest")[0])
    simple = bind["protocolOp.bindRequest.authentication.simple"]
    assert simple.tag == "80" and simple.length == len(ALICE_PW)
    assert simple.raw == "80 08 " + ALICE_PW.encode().hex(" ")
    assert ALICE_PW in simple.value
    assert bind["protocolOp.bindRequest.name"].value == repr(ALICE)
    assert bind["protocolOp.bindRequest.version"].value == "3"
    assert bind["protocolOp.bindRequest"].tag == "60"

    search = cap.find("searchRequest")[0]
    assert "(&(uid=bob)(objectClass=person))" in search.summary
    sf = fields_of(search)
    assert sf["protocolOp.searchRequest.scope"].value == "2 (wholeSubtree)"
    assert sf["protocolOp.searchRequest.filter.and[0].equalityMatch.assertionValue"].value \
        == "'bob'"
    assert sf["protocolOp.searchRequest.attributes[1]"].value == "'mail'"
    entry = cap.find("searchResEntry")[0]
    assert "uid=bob,ou=People,dc=example,dc=com" in entry.summary
    assert cap.find("bindResponse")[0].result == "success"
    # requests go client->server, answers come back
    assert {m.direction for m in cap.find("searchResEntry")} == {SERVER_TO_CLIENT}
    assert {m.direction for m in cap.find("bindRequest")} == {CLIENT_TO_SERVER}


def test_plain_capture_agrees_with_pyasn1(tiny_slapd):
    cap = capture_bind(tiny_slapd, mode="plain", user=ALICE, password=ALICE_PW)
    for m in cap.messages:
        parsed, rest = ber_decoder.decode(m.raw, asn1Spec=LDAPMessage())
        assert rest == b""
        assert int(parsed["messageID"]) == m.message_id
        assert parsed["protocolOp"].getName() == m.operation


def test_ldaps_capture_shows_only_tls_records(tiny_slapd):
    cap = capture_bind(tiny_slapd, mode="ldaps", user=ALICE, password=ALICE_PW,
                       filter="(uid=bob)")
    assert cap.bound and cap.entries == 1  # the exchange worked...
    assert not cap.password_visible        # ...and the password never crossed in clear
    assert ALICE_PW.encode() not in cap.client_bytes + cap.server_bytes
    assert b"uid=bob" not in cap.server_bytes
    assert cap.messages and all(m.protocol == "TLS" for m in cap.messages)
    assert cap.tls_records == len(cap.messages)
    assert cap.messages[0].operation == "TLS handshake" and "ClientHello" in cap.messages[0].summary
    encrypted = [m for m in cap.messages if m.encrypted]
    assert len(encrypted) >= 4
    assert all(wire.ENCRYPTED in m.summary for m in encrypted)
    assert not cap.find("bindRequest")


def test_starttls_capture_shows_the_extended_operation_then_tls(tiny_slapd):
    cap = capture_bind(tiny_slapd, mode="starttls", user=ALICE, password=ALICE_PW)
    assert cap.bound and not cap.password_visible
    first, answer = cap.messages[0], cap.messages[1]
    assert first.operation == "extendedReq" and first.direction == CLIENT_TO_SERVER
    name = fields_of(first)["protocolOp.extendedReq.requestName"]
    assert name.value == f"{STARTTLS_OID} (StartTLS)"
    assert name.tag == "80" and STARTTLS_OID.encode().hex(" ") in name.raw
    assert STARTTLS_OID.encode() in cap.client_bytes  # in clear on the wire
    assert answer.operation == "extendedResp" and answer.result == "success"
    rest = cap.messages[2:]
    assert rest and all(m.protocol == "TLS" for m in rest)
    assert cap.tls_records == len(rest)
    assert not cap.find("bindRequest")


def test_untrusted_ca_is_refused_and_captured(tiny_slapd, tmp_path):
    import trustme

    other = trustme.CA()
    other.cert_pem.write_to_path(str(tmp_path / "other-ca.pem"))
    with pytest.raises(TlsError, match="not signed by a CA the client trusts"):
        capture_bind(tiny_slapd, mode="ldaps", user=ALICE, password=ALICE_PW,
                     ca_file=tmp_path / "other-ca.pem")
    cap = capture_bind(tiny_slapd, mode="ldaps", user=ALICE, password=ALICE_PW,
                       ca_file=tmp_path / "other-ca.pem", check=False)
    assert isinstance(cap.error, TlsError) and not cap.bound
    assert not cap.password_visible
    assert cap.messages[0].protocol == "TLS"


def test_wrong_password_is_a_bind_error_with_the_exchange_kept(tiny_slapd):
    cap = capture_bind(tiny_slapd, mode="plain", user=ALICE, password="wrong-pw", check=False)
    assert not cap.bound and cap.error is not None
    assert cap.find("bindResponse")[0].result == "invalidCredentials"
    from ldapnb.errors import BindError

    with pytest.raises(BindError, match="invalidCredentials"):
        capture_bind(tiny_slapd, mode="plain", user=ALICE, password="wrong-pw")


def test_capture_bad_mode(tiny_slapd):
    with pytest.raises(LdapnbError, match="mode must be"):
        capture_bind(tiny_slapd, mode="ssl", user=ALICE, password=ALICE_PW)


# -- the decoder on hand-written bytes -----------------------------------------------------------
# LDAPMessage { messageID 1, bindRequest { version 3, name "cn=admin", simple "secret" } }
BIND = bytes.fromhex("30 1a 02 01 01 60 15 02 01 03 04 08") + b"cn=admin" + b"\x80\x06secret"


def test_decode_hand_written_bind_request_field_by_field():
    [m] = decode_stream(BIND)
    assert (m.message_id, m.operation, m.protocol) == (1, "bindRequest", "LDAP")
    rows = [(f.path, f.tag, f.length, f.value, f.raw) for f in m.fields]
    assert rows == [
        ("LDAPMessage", "30", 26, "", "30 1a"),
        ("messageID", "02", 1, "1", "02 01 01"),
        ("protocolOp.bindRequest", "60", 21, "", "60 15"),
        ("protocolOp.bindRequest.version", "02", 1, "3", "02 01 03"),
        ("protocolOp.bindRequest.name", "04", 8, "'cn=admin'",
         "04 08 " + b"cn=admin".hex(" ")),
        ("protocolOp.bindRequest.authentication.simple", "80", 6,
         "'secret' (the password, in clear)", "80 06 " + b"secret".hex(" ")),
    ]
    assert [f.tag_name for f in m.fields][:3] == [
        "SEQUENCE constructed", "INTEGER", "[APPLICATION 0] constructed"]
    assert m.summary == "simple bind as 'cn=admin', password 'secret' in clear"
    frame = m.to_frame()
    assert list(frame.columns) == ["path", "tag", "tag_name", "length", "value", "raw"]
    assert frame.iloc[-1]["raw"].startswith("80 06")


def test_decode_hand_written_search_with_filter():
    # searchRequest id 2: base "dc=x", sub, (&(cn=a*b)(mail=*)), attributes [cn]
    filt = (bytes.fromhex("a0 14") + bytes.fromhex("a4 0c 04 02") + b"cn" + bytes.fromhex(
        "30 06 80 01") + b"a" + bytes.fromhex("82 01") + b"b" + bytes.fromhex("87 04") + b"mail")
    body = (bytes.fromhex("04 04") + b"dc=x" + bytes.fromhex("0a 01 02 0a 01 00 02 01 00 02 01 00"
                                                              " 01 01 00") + filt
            + bytes.fromhex("30 04 04 02") + b"cn")
    op = bytes([0x63, len(body)]) + body
    msg = bytes([0x30, len(op) + 3]) + bytes.fromhex("02 01 02") + op
    [m] = decode_stream(msg)
    assert m.operation == "searchRequest"
    assert "(&(cn=a*b)(mail=*))" in m.summary
    f = fields_of(m)
    assert f["protocolOp.searchRequest.filter.and[1].present"].value == "'mail'"
    assert f["protocolOp.searchRequest.filter.and[0].substrings.substrings[1].final"].tag == "82"
    # the hand-written bytes are exactly what ldap3 sends for this search (pyasn1 itself cannot
    # decode them back with ldap3's spec: "Read 4 bytes instead of expected 12")
    from ldap3 import DEREF_NEVER, SUBTREE
    from ldap3.operation.search import search_operation

    request = search_operation("dc=x", "(&(cn=a*b)(mail=*))", SUBTREE, DEREF_NEVER, ["cn"], 0,
                               0, False, True, True)
    message = LDAPMessage()
    message["messageID"] = MessageID(2)
    op = ProtocolOp()
    op["searchRequest"] = request
    message["protocolOp"] = op
    assert ber_encoder.encode(message) == msg


def test_decode_records_switches_to_tls_after_starttls():
    ext = bytes.fromhex("30 1d 02 01 01 77 18 80 16") + STARTTLS_OID.encode()
    ok = bytes.fromhex("30 0c 02 01 01 78 07 0a 01 00 04 00 04 00")
    hello = bytes.fromhex("16 03 01 00 04 01 00 00 00")          # a (tiny) ClientHello
    data = bytes.fromhex("17 03 03 00 03") + b"\x01\x02\x03"     # application data
    records = [Record(1, 1, CLIENT_TO_SERVER, 0.0, ext), Record(2, 1, SERVER_TO_CLIENT, 0.1, ok),
               Record(3, 1, CLIENT_TO_SERVER, 0.2, hello + data)]
    messages = decode(records)
    assert [(m.protocol, m.operation) for m in messages] == [
        ("LDAP", "extendedReq"), ("LDAP", "extendedResp"), ("TLS", "TLS handshake"),
        ("TLS", "TLS application_data")]
    assert not messages[2].encrypted and messages[3].encrypted
    frame = messages_frame(messages)
    assert list(frame.operation) == [m.operation for m in messages]
    assert frame.message_id.isna().tolist() == [False, False, True, True]


def test_refused_starttls_keeps_decoding_ldap():
    ext = bytes.fromhex("30 1d 02 01 01 77 18 80 16") + STARTTLS_OID.encode()
    refused = bytes.fromhex("30 0c 02 01 01 78 07 0a 01 02 04 00 04 00")  # protocolError
    records = [Record(1, 1, CLIENT_TO_SERVER, 0.0, ext), Record(2, 1, SERVER_TO_CLIENT, 0.1,
                                                                 refused),
               Record(3, 1, CLIENT_TO_SERVER, 0.2, BIND)]
    ops = [m.operation for m in decode(records)]
    assert ops == ["extendedReq", "extendedResp", "bindRequest"]


@pytest.mark.parametrize("data, where", [
    (b"\x30\x05\x02\x01", "offset 0"),                        # truncated
    (b"hello world", "offset"),                               # not BER at all
    (bytes.fromhex("30 80 02 01 01 00 00"), "indefinite"),    # forbidden in LDAP
    (bytes.fromhex("30 05 02 01 01 7e 00"), "unknown protocolOp"),
    (BIND[:-3], "truncated"),
    (bytes.fromhex("30 84 ff ff ff ff 00"), "only"),
])
def test_truncated_or_garbage_bytes_raise_a_clear_error(data, where):
    with pytest.raises(OperationError, match=where) as info:
        decode_stream(data)
    assert info.value.result == "decodingError" and info.value.code == 84
    with pytest.raises(OperationError):
        decode([Record(1, 1, CLIENT_TO_SERVER, 0.0, data)])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_any_bytes_decode_or_raise_an_ldapnb_error(data):
    try:
        messages = decode_stream(data)
    except OperationError as exc:
        assert exc.result == "decodingError"
    else:
        assert sum(len(m.raw) for m in messages) == len(data)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**31 - 1), st.text(max_size=300), st.text(min_size=1, max_size=200))
def test_pyasn1_encoded_binds_decode_field_by_field(mid, name, password):
    request = BindRequest()
    request["version"] = Version(3)
    request["name"] = LDAPDN(name)
    auth = AuthenticationChoice()
    auth["simple"] = Simple(password)
    request["authentication"] = auth
    message = LDAPMessage()
    message["messageID"] = MessageID(mid)
    op = ProtocolOp()
    op["bindRequest"] = request
    message["protocolOp"] = op
    data = ber_encoder.encode(message)
    [m] = decode_stream(data)
    assert m.message_id == mid and m.operation == "bindRequest"
    f = fields_of(m)
    assert f["protocolOp.bindRequest.name"].value == repr(name)
    simple = f["protocolOp.bindRequest.authentication.simple"]
    assert simple.length == len(password.encode())
    assert simple.raw.endswith(password.encode().hex(" "))


# -- the tap -------------------------------------------------------------------------------------
def test_tap_relays_records_and_stops():
    far_server = socket.create_server(("127.0.0.1", 0))
    try:
        tap = Tap("127.0.0.1", far_server.getsockname()[1], max_bytes=8)
        with tap:
            client = socket.create_connection(("127.0.0.1", tap.port), timeout=5)
            far, _ = far_server.accept()
            client.sendall(b"ping")
            assert far.recv(10) == b"ping"
            far.sendall(b"pong-pong")
            got = b""
            while len(got) < 9:
                got += client.recv(10)
            assert got == b"pong-pong"  # relayed whole...
            client.close()
            far.close()
            assert tap.wait_closed()
        # ...but recorded only up to max_bytes
        assert [(r.direction, r.data) for r in tap.records] == [
            (CLIENT_TO_SERVER, b"ping"), (SERVER_TO_CLIENT, b"pong")]
        assert tap.truncated and tap.connections == 1
        assert not tap.running
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", tap.port), timeout=1)
        tap.stop()  # twice is fine
    finally:
        far_server.close()


def test_tap_to_a_dead_server_closes_the_client():
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    port = dead.getsockname()[1]
    dead.close()
    with Tap("127.0.0.1", port, connect_timeout=1) as tap:
        client = socket.create_connection(("127.0.0.1", tap.port), timeout=5)
        assert client.recv(10) == b""
        client.close()
    assert tap.records == []


# -- display, ports, URLs ------------------------------------------------------------------------
def test_hexdump():
    text = hexdump(bytes(range(0x41, 0x41 + 20)), width=16)
    lines = text.splitlines()
    assert lines[0].startswith("0000  41 42 43") and lines[0].endswith("ABCDEFGHIJKLMNOP")
    assert lines[1].startswith("0010  51 52 53 54") and lines[1].endswith("QRST")
    assert hexdump(b"\x00" * 10, limit=4).splitlines()[-1] == "... 6 more bytes"


def test_ports_and_urls():
    assert [p["port"] for p in wire.PORTS] == [389, 636, 3268, 3269]
    plain = explain_url("ldap://dc1.example.org")
    assert plain["port"] == 389 and plain["default_port"] and "StartTLS" in plain["tls"]
    assert "password" in plain["on_the_wire"]
    secure = explain_url("ldaps://dc1.example.org:3269")
    assert secure["port"] == 3269 and "first byte" in secure["tls"]
    assert secure["known_as"] == "Active Directory global catalog over TLS"
    full = explain_url("ldap://127.0.0.1:1389/dc=example,dc=com?cn,mail?sub?(uid=a%20b)")
    assert full["base"] == "dc=example,dc=com" and full["attributes"] == ["cn", "mail"]
    assert full["filter"] == "(uid=a b)" and full["known_as"] == "a non-standard port"
    assert "warning" in explain_url("ldap://h:636")
    assert explain_url("ldapi://%2Fvar%2Frun%2Fslapd%2Fldapi")["port"] is None
    for bad in ("http://example.org", "ldap://", "ldap://h:99999"):
        with pytest.raises(LdapnbError):
            explain_url(bad)


def _client_hello(server_hostname: str | None) -> bytes:
    """The first record a real TLS client (Python's ssl, OpenSSL) sends."""
    import ssl

    context = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=server_hostname)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def test_client_hello_says_the_sni_is_visible_and_the_record_version_is_legacy():
    [hello] = wire.decode_stream(_client_hello("ldap.example.test"),
                                 direction=CLIENT_TO_SERVER)
    assert "ClientHello" in hello.summary and "TLS 1.3" in hello.summary
    assert "(SNI) is visible in clear: 'ldap.example.test'" in hello.summary
    [record_version] = [f for f in hello.fields if f.path.endswith("legacy_record_version")]
    assert record_version.value.startswith("TLS 1.0 (a fixed legacy value, not the version")
    [by_ip] = wire.decode_stream(_client_hello(None), direction=CLIENT_TO_SERVER)
    assert "no server name (SNI) sent" in by_ip.summary


def test_capture_reports_the_negotiated_tls_version(tiny_slapd):
    cap = capture_bind(tiny_slapd, mode="ldaps", user=ALICE, password=ALICE_PW)
    [server_hello] = [m for m in cap.messages if "ServerHello" in m.summary]
    assert server_hello.direction == SERVER_TO_CLIENT
    assert "negotiated version: TLS 1.3" in server_hello.summary  # OpenSSL 3 and slapd: 1.3
    assert cap.tls_version == "TLS 1.3" and "(TLS 1.3)" in repr(cap)
