"""Fast ingest (sources._fastsearch.raw_search): the same answer as ldap3, from a real slapd.

The servers are real OpenLDAP slapd processes (``slapd_factory``); without slapd these tests
fail, they are not skipped.
"""

from __future__ import annotations

import base64
import ssl
from pathlib import Path
from typing import Any

import ldap3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ldap3.protocol.rfc4511 import (
    LDAPDN,
    AttributeDescription,
    AttributeValue,
    LDAPMessage,
    MessageID,
    PartialAttribute,
    PartialAttributeList,
    ProtocolOp,
    SearchResultEntry,
    Vals,
)
from pyasn1.codec.ber import encoder
from pyasn1.codec.cer.encoder import BooleanEncoder as CerBooleanEncoder
from pyasn1.type.univ import Boolean

from ldapnb import filters as flt
from ldapnb.errors import (
    DirectoryUnavailable,
    FilterError,
    LdapnbError,
    LimitExceeded,
    NoSuchEntry,
)
from ldapnb.frames import columns_from_pages, frame_from_columns
from ldapnb.sources import _ldap3
from ldapnb.sources._fastsearch import (
    RawPage,
    _decode_entries,
    encode_filter,
    entry_spans,
    raw_search,
)
from ldapnb.sources._ldap3 import PINNED_LDAP3, fast_path_available
from ldapnb.sources.slapd import Slapd
from ldapnb.synthetic import write_ldif

# ldap3 2.9.1 checks TLS host names with ssl.match_hostname (deprecated since Python 3.7).
pytestmark = pytest.mark.filterwarnings("ignore:ssl.match_hostname:DeprecationWarning")

BASE = "dc=example,dc=org"
PHOTO = bytes(range(256)) * 3 + b"\xff\xd8\xff\x00"  # not UTF-8, 772 bytes (2-byte length)
BIG = "x" * 70_000  # a 3-byte BER length
N_PEOPLE = 260


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _ldif() -> str:
    parts = [
        f"dn: {BASE}\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\n"
        "dc: example\no: Example\n",
        f"dn: ou=People,{BASE}\nobjectClass: organizationalUnit\nou: People\n",
        f"dn: ou=Groups,{BASE}\nobjectClass: organizationalUnit\nou: Groups\n",
        # binary value, language options, a UTF-8 DN, a long value
        f"dn:: {_b64(f'cn=Zoë Müller,ou=People,{BASE}'.encode())}\n"
        "objectClass: inetOrgPerson\ncn: Zoë Müller\ncn;lang-fr: Zoé\nsn: Müller\n"
        f"sn;lang-de: Mueller\njpegPhoto:: {_b64(PHOTO)}\ndescription: {BIG}\n",
        # an "empty" group: one empty member value
        f"dn: cn=empty,ou=Groups,{BASE}\nobjectClass: groupOfNames\ncn: empty\nmember:\n",
    ]
    for i in range(N_PEOPLE):
        extra = f"description: person {i}\n" if i % 3 == 0 else ""
        parts.append(f"dn: uid=p{i:04d},ou=People,{BASE}\nobjectClass: inetOrgPerson\n"
                     f"uid: p{i:04d}\ncn: Person {i}\ncn: P{i}\nsn: S{i}\n{extra}")
    parts.append(f"dn: cn=all,ou=Groups,{BASE}\nobjectClass: groupOfNames\ncn: all\n"
                 + "".join(f"member: uid=p{i:04d},ou=People,{BASE}\n"
                           for i in range(N_PEOPLE)))
    return "\n".join(parts)


LDIF = _ldif()
N_ENTRIES = 3 + 2 + N_PEOPLE + 1


@pytest.fixture
def server(slapd_factory: Any) -> Slapd:
    return slapd_factory(LDIF, memberof=False)


_OPEN: list[ldap3.Connection] = []


@pytest.fixture(autouse=True)
def _unbind_connections() -> Any:
    yield
    while _OPEN:
        conn = _OPEN.pop()
        if not conn.closed:
            conn.unbind()


def _connect(server: Slapd, url: str = "ldap", *, bind: bool = True) -> ldap3.Connection:
    tls = None
    if url == "ldaps" or not bind:
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(server.ca_file))
    srv = ldap3.Server(server.urls[url], get_info=None, tls=tls)
    conn = ldap3.Connection(srv, server.rootdn, server.rootpw, auto_bind=bind)
    _OPEN.append(conn)
    return conn


def _ldap3_answer(conn: ldap3.Connection, filter: str, attributes: Any,
                  scope: str = ldap3.SUBTREE) -> list[tuple[str, dict[str, list[bytes]]]]:
    """ldap3's ordinary paged search: (DN, raw attributes) per entry, in the server's order.

    (``conn.extend.standard.paged_search(generator=True)`` would reverse each page.)
    """
    out = []
    cookie = None
    while True:
        conn.search(BASE, filter, search_scope=scope, attributes=attributes, paged_size=1000,
                    paged_cookie=cookie)
        for item in conn.response:
            if item["type"] == "searchResEntry":
                raw = {k: [bytes(v) for v in vals]
                       for k, vals in item["raw_attributes"].items() if vals}
                out.append((item["raw_dn"].decode("utf-8"), raw))
        cookie = conn.result["controls"]["1.2.840.113556.1.4.319"]["value"]["cookie"]
        if not cookie:
            return out


def _entries(pages: list[RawPage]) -> list[tuple[str, dict[str, list[bytes]]]]:
    out = []
    for page in pages:
        for row, dn in enumerate(page.dns):
            attrs = {name: list(col[row]) for name, col in page.columns.items()
                     if isinstance(col[row], list)}
            out.append((dn, attrs))
    return out


# -- same answer as ldap3 --------------------------------------------------------------------
@pytest.mark.parametrize("attributes", [["*"], ["*", "+"], ["cn", "description", "jpegPhoto"],
                                        ["1.1"]])
def test_same_entries_and_raw_values_as_ldap3(server: Slapd, attributes: list[str]) -> None:
    conn = _connect(server)
    assert fast_path_available(conn)
    pages = list(raw_search(conn, BASE, 2, "(objectClass=*)", attributes, page_size=2))
    assert len(pages) > 100
    assert [p.last for p in pages] == [False] * (len(pages) - 1) + [True]
    expected = _ldap3_answer(conn, "(objectClass=*)", attributes)
    got = _entries(pages)
    assert len(got) == N_ENTRIES
    assert got == expected


def test_binary_options_empty_and_long_values(server: Slapd) -> None:
    conn = _connect(server)
    pages = list(raw_search(conn, f"ou=People,{BASE}", "one", "(sn=M*)", None))
    (page,) = pages
    assert page.dns == [f"cn=Zoë Müller,ou=People,{BASE}"]
    cols = {k: v[0] for k, v in page.columns.items()}
    assert cols["jpegPhoto"] == [PHOTO]
    assert cols["cn;lang-fr"] == ["Zoé".encode()]
    assert cols["sn;lang-de"] == [b"Mueller"]
    assert cols["description"] == [BIG.encode()]
    assert page.names == list(page.columns)

    (group,) = raw_search(conn, f"cn=empty,ou=Groups,{BASE}", 0, "(objectClass=*)",
                          ["member"])
    assert group.columns["member"] == [[b""]]


def test_requested_attributes_missing_are_empty(server: Slapd) -> None:
    conn = _connect(server)
    pages = list(raw_search(conn, f"ou=People,{BASE}", 1, "(uid=p000*)",
                            ["uid", "description", "telephoneNumber"], page_size=4))
    dns = [dn for p in pages for dn in p.dns]
    assert len(dns) == 10
    for page in pages:
        assert set(page.columns) <= {"uid", "description"}
        for row, dn in enumerate(page.dns):
            i = int(dn[5:9])
            has = page.columns.get("description", [()] * len(page))[row]
            assert (list(has) == [f"person {i}".encode()]) if i % 3 == 0 else has == ()
    # names accumulate over pages, in order of first appearance
    assert pages[-1].names[0] == "uid"
    assert "description" in pages[-1].names


def test_ldaps_and_starttls_use_the_fast_path(server: Slapd) -> None:
    over_tls = _connect(server, "ldaps")
    assert fast_path_available(over_tls)
    plain = _connect(server)
    starttls = _connect(server, bind=False)
    starttls.open()
    starttls.start_tls()
    starttls.bind()
    want = _entries(list(raw_search(plain, BASE, 2, "(uid=p001*)", ["cn"])))
    assert len(want) == 10
    for conn in (over_tls, starttls):
        assert _entries(list(raw_search(conn, BASE, 2, "(uid=p001*)", ["cn"], page_size=3))) \
            == want


def test_slow_path_gives_the_same_pages(server: Slapd) -> None:
    conn = _connect(server)
    fast = list(raw_search(conn, BASE, 2, "(objectClass=*)", None, page_size=50))
    slow = list(raw_search(conn, BASE, 2, "(objectClass=*)", None, page_size=50, fast=False))
    assert [p.dns for p in fast] == [p.dns for p in slow]
    assert _entries(fast) == _entries(slow)
    assert [p.last for p in slow][-1] is True


def test_embedded_connection_takes_the_slow_path() -> None:
    from ldapnb import Directory

    conn = _ldap3.embedded_connection(Directory.embedded("tiny").source)
    assert not fast_path_available(conn)
    pages = list(raw_search(conn, "dc=example,dc=com", 2, "(uid=*)", ["uid"], page_size=1))
    assert len(pages) >= 2
    assert sorted(v[0] for p in pages for v in p.columns["uid"])[:2] == [b"alice", b"bob"]
    with pytest.raises(LdapnbError, match="synchronous strategy"):
        raw_search(conn, "dc=example,dc=com", 2, "(uid=*)", None, fast=True)


def test_stopping_early_leaves_the_connection_usable(server: Slapd) -> None:
    conn = _connect(server)
    pages = raw_search(conn, BASE, 2, "(objectClass=*)", ["cn"], page_size=10)
    first = next(pages)
    assert len(first) == 10
    pages.close()  # a request for page 2 was already on the wire: read and dropped
    assert conn.search(BASE, "(uid=p0001)", attributes=["uid"])
    assert conn.entries[0].uid.value == "p0001"
    again = list(raw_search(conn, BASE, 2, "(uid=p0002)", ["uid"]))
    assert again[0].columns["uid"] == [[b"p0002"]]


def test_frame_from_pages(server: Slapd) -> None:
    from ldapnb.schema import default_schema

    conn = _connect(server)
    dns, cols = columns_from_pages(raw_search(conn, f"ou=People,{BASE}", 1, "(uid=*)",
                                              ["uid", "cn", "description"], page_size=7))
    df = frame_from_columns(dns, cols, schema=default_schema())
    assert len(df) == N_PEOPLE
    assert df.loc[df["dn"] == f"uid=p0003,ou=People,{BASE}", "cn"].iloc[0] == ["Person 3", "P3"]
    assert df["description"].map(len).sum() == len(range(0, N_PEOPLE, 3))


def test_columns_from_pages_aligns_columns_across_pages() -> None:
    pages = [RawPage(["a"], {"cn": [[b"1"]]}), RawPage(["b", "c"], {"sn": [(), [b"2"]]}),
             RawPage(["d"], {"CN": [[b"3"]], "cn": [[b"4"]]})]
    dns, cols = columns_from_pages(pages)
    assert dns == ["a", "b", "c", "d"]
    assert cols["cn"].to_pylist() == [[b"1"], [], [], [b"3", b"4"]]
    assert cols["sn"].to_pylist() == [[], [], [b"2"], []]


# -- errors ----------------------------------------------------------------------------------
def test_bad_filter_is_refused_before_sending(server: Slapd) -> None:
    conn = _connect(server)
    before = ldap3.Server._message_counter
    with pytest.raises(FilterError) as info:
        raw_search(conn, BASE, 2, "(&(cn=a)(sn=b)", None)
    assert info.value.position == 14
    assert ldap3.Server._message_counter == before


def test_missing_base_is_no_such_entry(server: Slapd) -> None:
    conn = _connect(server)
    with pytest.raises(NoSuchEntry) as info:
        list(raw_search(conn, f"ou=Nowhere,{BASE}", 2, "(objectClass=*)", None))
    assert info.value.matched == BASE


@pytest.mark.parametrize("page_size", [2, 0])
def test_size_limit_is_limit_exceeded_with_the_count(server: Slapd, page_size: int) -> None:
    conn = _connect(server)
    seen = []
    with pytest.raises(LimitExceeded) as info:
        for page in raw_search(conn, BASE, 2, "(objectClass=*)", ["cn"], page_size=page_size,
                               size_limit=5):
            seen.append(page)
    assert info.value.kind == "size"
    assert info.value.returned == 5
    assert info.value.limit == 5
    assert all(not p.last for p in seen)
    assert sum(len(p) for p in seen) + len(info.value.partial) == 5


def test_server_killed_mid_stream_is_directory_unavailable(tmp_path: Path) -> None:
    ldif = tmp_path / "users.ldif"
    total = write_ldif(ldif, 2000)
    with Slapd(ldif, memberof=False) as server:
        conn = _connect(server)
        pages = raw_search(conn, server.suffix, 2, "(objectClass=*)", None, page_size=20)
        got = [next(pages)]
        server.kill()
        with pytest.raises(DirectoryUnavailable) as info:
            got.extend(pages)
    assert info.value.port == server.port
    assert "incomplete" in str(info.value)
    assert not any(p.last for p in got)
    assert sum(len(p) for p in got) < total
    assert conn.closed


# -- the version pin -------------------------------------------------------------------------
def test_installed_ldap3_is_the_pinned_version() -> None:
    assert ldap3.__version__ == PINNED_LDAP3 == "2.9.1"


def test_another_ldap3_version_falls_back_or_refuses(server: Slapd,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    conn = _connect(server)
    want = _entries(list(raw_search(conn, BASE, 2, "(uid=p00*)", ["uid"])))
    monkeypatch.setattr(_ldap3, "LDAP3_VERSION", "2.9.2")
    assert not fast_path_available(conn)
    with pytest.raises(LdapnbError, match=r"ldap3 2\.9\.2 .* ldap3 2\.9\.1"):
        raw_search(conn, BASE, 2, "(uid=p00*)", ["uid"], fast=True)
    assert _entries(list(raw_search(conn, BASE, 2, "(uid=p00*)", ["uid"]))) == want
    assert len(want) == 100


# -- the BER codecs, against pyasn1 ----------------------------------------------------------
_ATTRS = st.sampled_from(["cn", "uid", "objectClass", "cn;lang-fr", "2.5.4.3", "member"])
_TEXT = st.text(min_size=1, max_size=40)
_BINARY = st.binary(min_size=1, max_size=300).filter(lambda b: flt._canon(b) == b)
_VALUE = st.one_of(_TEXT, _BINARY)
_LEAF = st.one_of(
    st.builds(flt.Equality, _ATTRS, _VALUE),
    st.builds(flt.GreaterOrEqual, _ATTRS, _VALUE),
    st.builds(flt.LessOrEqual, _ATTRS, _VALUE),
    st.builds(flt.Approx, _ATTRS, _VALUE),
    st.builds(flt.Present, _ATTRS),
    st.builds(flt.Substrings, _ATTRS, _VALUE, st.tuples(_VALUE), st.none()),
    st.builds(flt.Substrings, _ATTRS, st.none(), st.tuples(), _VALUE),
    st.builds(flt.Extensible, _ATTRS, st.sampled_from([None, "caseIgnoreMatch",
                                                       "1.2.840.113556.1.4.1941"]),
              _VALUE, st.booleans()),
)
_FILTERS = st.recursive(_LEAF, lambda inner: st.one_of(
    st.builds(lambda c: flt.And(tuple(c)), st.lists(inner, min_size=1, max_size=3)),
    st.builds(lambda c: flt.Or(tuple(c)), st.lists(inner, min_size=1, max_size=3)),
    st.builds(flt.Not, inner)), max_leaves=8)


def _asn1(f: flt.Filter) -> Any:
    """The same filter built as ldap3's pyasn1 objects (as ldap3's compile_filter does)."""
    from ldap3.protocol import rfc4511 as r

    out = r.Filter()
    if isinstance(f, (flt.And, flt.Or)):
        group = r.And() if isinstance(f, flt.And) else r.Or()
        for pos, child in enumerate(f.children):
            group[pos] = _asn1(child)
        out["and" if isinstance(f, flt.And) else "or"] = group
    elif isinstance(f, flt.Not):
        inner = r.Not()
        inner["innerNotFilter"] = _asn1(f.child)
        out.setComponentByName("notFilter", inner, verifyConstraints=False)
    elif isinstance(f, flt.Present):
        out["present"] = r.Present(r.AttributeDescription(f.attr))
    elif isinstance(f, flt.Substrings):
        sub = r.SubstringFilter()
        sub["type"] = r.AttributeDescription(f.attr)
        parts = r.Substrings()
        pieces = ([("initial", r.Initial, f.initial)] if f.initial is not None else []) + \
            [("any", r.Any, v) for v in f.any] + \
            ([("final", r.Final, f.final)] if f.final is not None else [])
        for pos, (name, cls, value) in enumerate(pieces):
            parts[pos] = r.Substring().setComponentByName(name, cls(_raw(value)))
        sub["substrings"] = parts
        out["substringFilter"] = sub
    elif isinstance(f, flt.Extensible):
        ext = r.ExtensibleMatch()
        if f.rule is not None:
            ext["matchingRule"] = r.MatchingRule(f.rule)
        if f.attr is not None:
            ext["type"] = r.Type(f.attr)
        ext["matchValue"] = r.MatchValue(_raw(f.value))
        if f.dn_attributes:
            ext["dnAttributes"] = r.DnAttributes(True)
        out["extensibleMatch"] = ext
    else:
        name, cls = {flt.Equality: ("equalityMatch", r.EqualityMatch),
                     flt.GreaterOrEqual: ("greaterOrEqual", r.GreaterOrEqual),
                     flt.LessOrEqual: ("lessOrEqual", r.LessOrEqual),
                     flt.Approx: ("approxMatch", r.ApproxMatch)}[type(f)]
        ava = cls()
        ava["attributeDesc"] = r.AttributeDescription(f.attr)
        ava["assertionValue"] = r.AssertionValue(_raw(f.value))
        out[name] = ava
    return out


#: pyasn1's BER encoder, but TRUE as 0xFF (as DER/CER and libldap write it; ldapnb does too).
_BER_TRUE_FF = encoder.Encoder(encoder.TAG_MAP | {Boolean.tagSet: CerBooleanEncoder()},
                               encoder.TYPE_MAP | {Boolean.typeId: CerBooleanEncoder()})


def _raw(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


@given(_FILTERS)
@settings(max_examples=200, deadline=None)
def test_encode_filter_is_what_pyasn1_encodes(f: flt.Filter) -> None:
    assert encode_filter(f) == _BER_TRUE_FF(_asn1(f))


def _entry_message(dn: str, attrs: list[tuple[str, list[bytes]]]) -> bytes:
    entry = SearchResultEntry()
    entry["object"] = LDAPDN(dn)
    plist = PartialAttributeList()
    for name, values in attrs:
        part = PartialAttribute()
        part["type"] = AttributeDescription(name)
        vals = Vals()
        for v in values:
            vals.append(AttributeValue(v))
        part["vals"] = vals
        plist.append(part)
    entry["attributes"] = plist
    message = LDAPMessage()
    message["messageID"] = MessageID(7)
    message["protocolOp"] = ProtocolOp().setComponentByName("searchResEntry", entry)
    return encoder.encode(message)


_ENTRY = st.tuples(
    st.text(min_size=1, max_size=300),
    st.lists(st.tuples(st.sampled_from(["cn", "CN", "sn", "jpegPhoto", "cn;lang-fr"]),
                       st.lists(st.binary(max_size=400), max_size=4)),
             max_size=5, unique_by=lambda t: t[0]))


@given(st.lists(_ENTRY, max_size=6))
@settings(max_examples=150, deadline=None)
def test_decode_entries_matches_pyasn1_encoding(entries: list[Any]) -> None:
    data = b"".join(_entry_message(dn, attrs) for dn, attrs in entries)
    spans = entry_spans(data)
    cols: dict[bytes, list[Any]] = {}
    dns: list[str] = []
    _decode_entries(data, spans, cols, dns)
    assert dns == [dn for dn, _ in entries]
    for row, (_dn, attrs) in enumerate(entries):
        for name, values in attrs:
            assert cols[name.encode()][row] == values
        names = {name.encode() for name, _ in attrs}
        for key, col in cols.items():
            if key not in names and row < len(col):
                assert col[row] == ()
