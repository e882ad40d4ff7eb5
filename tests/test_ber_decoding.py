"""Bounds-checked BER decoding of search answers (``sources._fastsearch``).

Real answers are captured once per session from a private slapd (entries with many values,
binary values, long values with 2- and 3-byte lengths, UTF-8 DNs, a continuation of pages),
then mutated byte by byte and length by length.  Every case must end in a correct answer or
the typed error, never another exception; "correct" is what pyasn1 with ldap3's RFC 4511
classes (an independent BER decoder) reads from the same bytes.
"""

from __future__ import annotations

import base64
import os
import random
from typing import Any

import ldap3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ldap3.protocol.rfc4511 import LDAPMessage
from pyasn1.codec.ber import decoder as ber_decoder
from pyasn1.error import PyAsn1Error

from ldapnb import filters as flt
from ldapnb.errors import MalformedResponse
from ldapnb.sources import _ldap3
from ldapnb.sources._fastsearch import (
    _frame_end,
    _search_message,
    decode_search_answer,
    encode_filter,
)

#: one worker runs the whole module, in order: the last test counts the cases the others ran
pytestmark = pytest.mark.xdist_group("ber_decoding")

BASE = "dc=example,dc=org"
PHOTO = bytes(range(256)) * 2  # not UTF-8, a 2-byte BER length


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _ldif() -> str:
    parts = [
        f"dn: {BASE}\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\n"
        "dc: example\no: Example\n",
        f"dn: ou=People,{BASE}\nobjectClass: organizationalUnit\nou: People\n",
        f"dn:: {_b64(f'cn=Zoë Müller,ou=People,{BASE}'.encode())}\n"
        "objectClass: inetOrgPerson\ncn: Zoë Müller\ncn;lang-fr: Zoé\nsn: Müller\n"
        f"jpegPhoto:: {_b64(PHOTO)}\ndescription: {'x' * 300}\n",
        f"dn: cn=big,ou=People,{BASE}\nobjectClass: inetOrgPerson\ncn: big\nsn: B\n"
        f"description: {'y' * 70_000}\n",
    ]
    for i in range(6):
        parts.append(f"dn: uid=p{i},ou=People,{BASE}\nobjectClass: inetOrgPerson\n"
                     f"uid: p{i}\ncn: Person {i}\ncn: P{i}\nsn: S{i}\nmail: p{i}@example.org\n")
    return "\n".join(parts)


def _capture(conn: ldap3.Connection, filter: str, page_size: int) -> tuple[bytes, int]:
    """The raw bytes slapd sends for one search (up to its searchResDone), and its id."""
    sock = _ldap3.connection_socket(conn)
    message_id = _ldap3.next_message_id(conn)
    sock.sendall(_search_message(message_id, BASE, 2, encode_filter(flt.parse(filter)), [],
                                 0, 0, page_size, b"" if page_size else None))
    data = bytearray()
    p = 0
    while True:
        end = _frame_end(data, p)
        if end < 0 or end > len(data):
            data += sock.recv(1 << 16)
            continue
        if _op(bytes(data[p:end])) == 0x65:
            return bytes(data[:end]), message_id
        p = end


def _op(message: bytes) -> int:
    decoded, _ = ber_decoder.decode(message, asn1Spec=LDAPMessage())
    return {"searchResEntry": 0x64, "searchResDone": 0x65, "searchResRef": 0x73}.get(
        decoded["protocolOp"].getName(), 0)


@pytest.fixture(scope="session")
def answers(slapd_factory: Any) -> list[tuple[bytes, int]]:
    server = slapd_factory(_ldif(), memberof=False)
    conn = ldap3.Connection(ldap3.Server(server.urls["ldap"], get_info=None), server.rootdn,
                            server.rootpw, auto_bind=True)
    try:
        got = [_capture(conn, "(objectClass=*)", 0), _capture(conn, "(uid=p*)", 3),
               _capture(conn, "(cn=big)", 0), _capture(conn, "(cn=Zo*)", 0),
               _capture(conn, "(uid=nobody)", 0)]
    finally:
        conn.unbind()
    assert len(got[0][0]) > 70_000  # the 3-byte length is in the capture
    return got


# -- the oracle: pyasn1 with ldap3's RFC 4511 classes -------------------------------------------
def pyasn1_answer(data: bytes, message_id: int) -> tuple[list[str], dict[str, list[Any]]] | None:
    """What an independent BER decoder reads from ``data``: (DNs, name -> values per row),
    or None when it finds the bytes are not a valid answer."""
    dns: list[str] = []
    rows: list[dict[str, list[bytes]]] = []
    rest = data
    done = False
    try:
        while rest:
            if done:
                return None
            message, rest = ber_decoder.decode(rest, asn1Spec=LDAPMessage())
            if int(message["messageID"]) != message_id:
                return None
            op = message["protocolOp"]
            kind = op.getName()
            if kind == "searchResEntry":
                entry = op[kind]
                dns.append(bytes(entry["object"]).decode("utf-8"))
                row: dict[str, list[bytes]] = {}
                for attr in entry["attributes"]:
                    name = bytes(attr["type"]).decode("utf-8")
                    row[name] = [*row.get(name, []), *(bytes(v) for v in attr["vals"])]
                rows.append(row)
            elif kind == "searchResDone":
                done = True
            elif kind != "searchResRef":
                return None
    except (PyAsn1Error, UnicodeDecodeError, ValueError, TypeError, KeyError):
        return None
    if not done:
        return None
    names = {n for row in rows for n in row}
    return dns, {n: [row.get(n, []) for row in rows] for n in names}


def _ours(data: bytes, message_id: int) -> tuple[list[str], dict[str, list[Any]]] | None:
    try:
        page, _done = decode_search_answer(data, message_id)
    except MalformedResponse as exc:
        assert exc.offset is not None and exc.offset >= 0
        return None
    return page.dns, {n: [list(v) for v in col] for n, col in page.columns.items()}


def _check(data: bytes, message_id: int) -> None:
    ours = _ours(data, message_id)
    if ours is None:
        return  # the typed error (pyasn1 may be laxer: BER forms LDAP does not allow)
    theirs = pyasn1_answer(data, message_id)
    assert theirs is not None, "accepted bytes an independent decoder rejects"
    assert ours == theirs


# -- the captured answers decode exactly ---------------------------------------------------------
def test_captured_answers_decode_like_pyasn1(answers: list[tuple[bytes, int]]) -> None:
    for data, message_id in answers:
        ours = _ours(data, message_id)
        assert ours is not None and ours == pyasn1_answer(data, message_id)
    assert len(_ours(*answers[0])[0]) == 10  # type: ignore[index]


# -- the classes issue 10 names ------------------------------------------------------------------
def _value_offset(data: bytes, value: bytes) -> int:
    at = data.index(value)
    assert data[at - 2] == 0x04 and data[at - 1] == len(value)
    return at - 1  # the length byte


def test_value_length_running_into_the_next_message_is_refused(answers: Any) -> None:
    data, message_id = answers[1]
    at = _value_offset(data, b"p0@example.org")
    bad = data[:at] + bytes((data[at] + 30,)) + data[at + 1:]
    with pytest.raises(MalformedResponse) as info:
        decode_search_answer(bad, message_id)
    assert info.value.message_id == message_id and info.value.offset and info.value.offset > 0
    assert "past" in str(info.value) and f"message {message_id}" in str(info.value)


def test_short_value_length_is_refused_not_read_as_another_value(answers: Any) -> None:
    data, message_id = answers[1]
    at = _value_offset(data, b"p0@example.org")
    bad = data[:at] + bytes((data[at] - 5,)) + data[at + 1:]
    with pytest.raises(MalformedResponse):
        decode_search_answer(bad, message_id)


def test_non_utf8_attribute_name_is_an_error_not_rewritten(answers: Any) -> None:
    data, message_id = answers[1]
    at = data.index(b"\x04\x04mail")
    bad = data[:at + 2] + b"m\xffil" + data[at + 6:]
    with pytest.raises(MalformedResponse, match="not UTF-8"):
        decode_search_answer(bad, message_id)


def test_garbage_nesting_is_not_read_as_an_attribute_name(answers: Any) -> None:
    data, message_id = answers[1]
    at = data.index(b"\x04\x04mail")
    bad = data[:at] + b"\x30" + data[at + 1:]  # the type is now a SEQUENCE
    with pytest.raises(MalformedResponse, match="type is not an OCTET STRING"):
        decode_search_answer(bad, message_id)


def test_indefinite_and_oversized_length_forms_are_refused(answers: Any) -> None:
    data, message_id = answers[4]
    for form in (b"\x80", b"\x85\x00\x00\x00\x00\x0c"):
        with pytest.raises(MalformedResponse, match="length"):
            decode_search_answer(b"\x30" + form + data[2:], message_id)


def test_answer_to_another_request_is_refused(answers: Any) -> None:
    data, message_id = answers[4]
    with pytest.raises(MalformedResponse, match="another request"):
        decode_search_answer(data, message_id + 1)


# -- mutations of real answers (hypothesis) -----------------------------------------------------
# Each hypothesis example is a plan of mutations applied to one real answer; to run tens of
# thousands of cases in seconds, an example also derives a batch of further mutants from a
# seed it draws (hypothesis still reports and replays the failing plan and seed).
BATCH = 10
CASES = {"bytes": 0, "lengths": 0, "junk": 0}


def _fast(n: int) -> settings:
    return settings(max_examples=n, deadline=None, suppress_health_check=list(HealthCheck),
                    database=None, derandomize=True)


def _mutate_bytes(raw: bytes, plan: list[tuple[str, int, int]]) -> bytes:
    buf = bytearray(raw)
    for kind, where, value in plan:
        at = where % len(buf)
        if kind == "set":
            buf[at] = value & 0xFF
        elif kind == "flip":
            buf[at] ^= 1 << (value & 7)
        elif kind == "insert":
            buf[at:at] = (value % 2**32).to_bytes(4, "big")[:1 + value % 4]
        elif len(buf) > 1:
            del buf[at:at + 1 + value % 4]
    return bytes(buf)


PLAN = st.lists(st.tuples(st.sampled_from(["set", "flip", "insert", "delete"]),
                          st.integers(0, 2**20), st.integers(0, 2**31)), min_size=1, max_size=4)


@_fast(1000)
@given(which=st.sampled_from([1, 3, 4]), plan=PLAN, seed=st.integers(0, 2**32 - 1))
def test_mutated_bytes_end_in_a_correct_answer_or_the_typed_error(
        answers: Any, which: int, plan: list[tuple[str, int, int]], seed: int) -> None:
    raw, message_id = answers[which]
    _check(_mutate_bytes(raw, plan), message_id)
    rng = random.Random(seed)
    for _ in range(BATCH):
        more = [(rng.choice(["set", "flip", "insert", "delete"]), rng.randrange(2**20),
                 rng.randrange(2**31)) for _ in range(rng.randint(1, 4))]
        _check(_mutate_bytes(raw, more), message_id)
    CASES["bytes"] += 1 + BATCH


def _length_bytes(raw: bytes) -> list[int]:
    """Offsets of every BER length byte in ``raw`` (walking the TLV tree of each message)."""
    out: list[int] = []

    def walk(p: int, end: int) -> None:
        while p < end:
            tag, n = raw[p], raw[p + 1]
            out.append(p + 1)
            k = n & 0x7F if n & 0x80 else 0
            start = p + 2 + k
            stop = start + (int.from_bytes(raw[p + 2:start], "big") if k else n)
            if tag & 0x20:  # constructed: walk inside
                walk(start, stop)
            p = stop

    walk(0, len(raw))
    return out


def _mutate_length(raw: bytes, offsets: list[int], pick: int, how: str, amount: int) -> bytes:
    buf = bytearray(raw)
    at = offsets[pick % len(offsets)]
    if how == "+":
        buf[at] = min(buf[at] + 1 + amount % 40, 255)
    elif how == "-":
        buf[at] = max(buf[at] - 1 - amount % 40, 0)
    elif how == "any":
        buf[at] = amount & 0xFF
    else:  # a long form claiming any length up to 4 GiB
        buf[at:at + 1] = b"\x84" + (amount % 2**32).to_bytes(4, "big")
    return bytes(buf)


@_fast(1000)
@given(which=st.sampled_from([0, 1, 2, 3, 4]), pick=st.integers(0, 2**16),
       how=st.sampled_from(["+", "-", "any", "long"]), amount=st.integers(0, 2**32),
       seed=st.integers(0, 2**32 - 1))
def test_mutated_lengths_end_in_a_correct_answer_or_the_typed_error(
        answers: Any, which: int, pick: int, how: str, amount: int, seed: int) -> None:
    raw, message_id = answers[which]
    offsets = _length_bytes(raw)
    _check(_mutate_length(raw, offsets, pick, how, amount), message_id)
    rng = random.Random(seed)
    for _ in range(BATCH):
        _check(_mutate_length(raw, offsets, rng.randrange(2**16),
                              rng.choice(["+", "-", "any", "long"]), rng.randrange(2**32)),
               message_id)
    CASES["lengths"] += 1 + BATCH


@_fast(2000)
@given(junk=st.binary(max_size=64), message_id=st.integers(1, 3))
def test_random_bytes_end_in_the_typed_error_or_an_answer(junk: bytes,
                                                          message_id: int) -> None:
    _check(b"\x30" + junk, message_id)
    _check(bytes((0x30, len(junk))) + junk, message_id)
    CASES["junk"] += 2


@pytest.mark.slow  # with the property tests it counts (>= 500 examples each: slow)
def test_the_property_tests_ran_at_least_20000_cases() -> None:
    ran = sum(CASES.values())
    if ran == 0:
        if os.environ.get("CI") == "true":
            pytest.fail("no property case ran before this test: it must run after them, "
                        "on their worker (xdist_group ber_decoding)")
        pytest.skip("run with the property tests above (not selected alone)")
    assert ran >= 20_000, CASES
