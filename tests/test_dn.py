"""Tests for ldapnb.dn: RFC 4514 DNs (parse, print, normalise, compare, escape)."""

from __future__ import annotations

import base64
import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ldapnb import dn as D
from ldapnb.dn import (
    HexValue,
    depth,
    equal,
    escape_value,
    is_descendant,
    join,
    normalize,
    parent,
    parse,
    rdn,
    rdn_avas,
    to_string,
    unescape_value,
)
from ldapnb.errors import DnError, LdapnbError

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "openldap" / "test-dn.ldif"


# --------------------------------------------------------------------------------------------
# the OpenLDAP test-dn.ldif corpus, read with a tiny local LDIF reader


def read_ldif(text: str) -> list[list[tuple[str, str]]]:
    """Records as lists of (attribute, value): blank-line separated, folded, base64 '::'."""
    records = []
    for block in re.split(r"\n[ \t]*\n", text):
        lines: list[str] = []
        for line in block.split("\n"):
            if line.startswith("#"):
                continue
            if line.startswith(" ") and lines:
                lines[-1] += line[1:]
            else:
                lines.append(line)
        record = []
        for line in lines:
            if not line.strip():
                continue
            name, _, rest = line.partition(":")
            if rest.startswith(":"):
                value = base64.b64decode(rest[1:].strip()).decode("utf-8")
            else:
                value = rest.lstrip(" ")
            record.append((name, value))
        if record and record[0][0] == "dn":
            records.append(record)
    return records


@pytest.fixture(scope="module")
def corpus() -> list[list[tuple[str, str]]]:
    return read_ldif(CORPUS.read_text(encoding="utf-8"))


def _cn(record: list[tuple[str, str]]) -> str:
    return next((v for a, v in record if a == "cn"), "")


DN_ATTRIBUTES = {"member", "seeAlso"}
NAME_AND_UID = re.compile(r"#'[01]*'B$")  # uniqueMember: RFC 4517 nameAndOptionalUID


def test_corpus_has_the_expected_shape(corpus):
    names = [_cn(r) for r in corpus if any(a == "cn" for a, _ in r)]
    assert "Must Succeed" in names and "Must Fail 18" in names and "May Succeed 6" in names
    assert len(corpus) > 30


def test_every_dn_line_in_the_corpus_parses(corpus):
    for record in corpus:
        dn = record[0][1]
        rdns = parse(dn)
        assert rdns and all(r for r in rdns)
        assert parse(to_string(rdns)) == rdns
        assert normalize(normalize(dn)) == normalize(dn)


def test_every_valid_dn_value_in_the_corpus_parses(corpus):
    checked = 0
    for record in corpus:
        cn = _cn(record)
        if cn.startswith(("Must Fail", "Should Fail")):
            continue
        for attr, value in record:
            if attr in DN_ATTRIBUTES:
                dn = value
            elif attr == "uniqueMember":
                dn = NAME_AND_UID.sub("", value)
            else:
                continue
            rdns = parse(dn)
            assert to_string(rdns) == to_string(parse(to_string(rdns)))
            assert normalize(normalize(dn)) == normalize(dn)
            checked += 1
    assert checked >= 25


def test_every_must_fail_value_in_the_corpus_raises(corpus):
    failing = [(_cn(r), v) for r in corpus for a, v in r
               if a == "member" and _cn(r).startswith("Must Fail")]
    assert len(failing) == 17  # "Must Fail 4" has no member
    for cn, value in failing:
        with pytest.raises(DnError) as info:
            parse(value)
        assert info.value.dn == value, cn
        assert info.value.position is not None and 0 <= info.value.position <= len(value), cn


def test_corpus_member_and_seealso_spell_the_same_dns(corpus):
    record = next(r for r in corpus if _cn(r) == "Must Succeed")
    members = {normalize(v) for a, v in record if a == "member"}
    see_also = [v for a, v in record if a == "seeAlso"]
    assert len(see_also) == 3
    for value in see_also:
        assert normalize(value) in members, value
    # the file's pairs: "DN forms already defined as member in a different representation"
    assert equal("CN=John Smith\\, III,DC=example,DC=net",
                 "CN=John Smith\\2C III,DC=example,DC=net")
    assert equal("OU=Sales\\; Data\\+Algorithms,DC=example,DC=net",
                 "OU=Sales\\3B Data\\2BAlgorithms,DC=example,DC=net")
    assert equal("CN=\\23John Smith\\20,DC=example,DC=net", "CN=\\#John Smith\\ ,DC=example,DC=net")
    assert not equal("CN=John Smith\\, III,DC=example,DC=net", "CN=John Smith,CN=III,DC=example")


def test_corpus_ber_comments_group_equivalent_dns():
    """The trailing comment block gives each DN's BER; same BER means the same DN."""
    groups: dict[str, set[str]] = {}
    current = None
    for line in CORPUS.read_text(encoding="utf-8").split("\n"):
        m = re.match(r"#  (\S.*?)\s+\[AoOn?\]$", line)
        if m and not re.fullmatch(r"[0-9A-F]+", m.group(1)):
            current = [m.group(1).split(" //")[0].strip(), ""]
            continue
        h = re.match(r"#  ([0-9A-F]+)(\s+\[AoO\])?$", line)
        if h and current is not None:
            current[1] += h.group(1)
            continue
        if current is not None and current[1]:
            groups.setdefault(current[1], set()).add(current[0])
        current = None
    multi = [g for g in groups.values() if len(g) > 1]
    assert len(groups) >= 7 and len(multi) == 2
    keys = {}
    for ber, spellings in groups.items():
        keys[ber] = {normalize(s) for s in spellings}
        assert len(keys[ber]) == 1, spellings
    assert len({next(iter(k)) for k in keys.values()}) == len(groups)  # distinct BER: distinct


def test_corpus_rfc1779_spellings_are_the_same_dn():
    forms = ["UID=jsmith, O=example, C=US", "UID=jsmith;O=example;C=US",
             "<UID=jsmith,O=example,C=US>", "uid=jsmith,o=example,c=us",
             "OID.0.9.2342.19200300.100.1.1=jsmith,O=example,C=US"]
    assert {normalize(f) for f in forms} == {"uid=jsmith,o=example,c=us"}
    assert equal('CN="John Smith",O=example,C=US', "cn=john smith,o=example,c=us")
    assert parse(" ") == [] and normalize(" ") == ""
    # multi-valued RDN: the order of the AVAs does not matter
    assert equal("OU=Sales+CN=J. Smith,DC=example,DC=net", "CN=J. Smith+OU=Sales,DC=example,DC=net")


# --------------------------------------------------------------------------------------------
# hand-written table

GOOD = [
    ("", []),
    ("   ", []),
    ("dc=org", [(("dc", "org"),)]),
    ("uid=jsmith,ou=People,dc=org",
     [(("uid", "jsmith"),), (("ou", "People"),), (("dc", "org"),)]),
    ("UID = jsmith , OU = People", [(("UID", "jsmith"),), (("OU", "People"),)]),
    ("cn=", [(("cn", ""),)]),
    ("cn= ,dc=x", [(("cn", ""),), (("dc", "x"),)]),
    ("cn=a=b", [(("cn", "a=b"),)]),
    ("cn=Smith\\, John", [(("cn", "Smith, John"),)]),
    ("cn=Smith\\2c John", [(("cn", "Smith, John"),)]),
    ("cn=\\#1", [(("cn", "#1"),)]),
    ("cn=\\ lead\\ ", [(("cn", " lead "),)]),
    ("cn=\\20lead\\20", [(("cn", " lead "),)]),
    ("cn=a\\\\b", [(("cn", "a\\b"),)]),
    ('cn=\\"q\\"', [(("cn", '"q"'),)]),
    ('cn="Smith, John; +<x>"', [(("cn", "Smith, John; +<x>"),)]),
    ('cn=" padded " , dc=x', [(("cn", " padded "),), (("dc", "x"),)]),
    ('cn="a\\"b\\2Cc"', [(("cn", 'a"b,c'),)]),
    ("cn=#04024869", [(("cn", "#04024869"),)]),
    ("cn=Lu\\C4\\8Di\\C4\\87", [(("cn", "Lučić"),)]),
    ("cn=Lučić", [(("cn", "Lučić"),)]),
    ("cn=\\F0\\9F\\98\\80x\\e2\\82\\ac", [(("cn", "😀x€"),)]),
    ("ou=Sales+cn=J. Smith,dc=x", [(("ou", "Sales"), ("cn", "J. Smith")), (("dc", "x"),)]),
    ("ou=Sales + cn=J. Smith", [(("ou", "Sales"), ("cn", "J. Smith"))]),
    ("OID.2.5.4.3=x", [(("2.5.4.3", "x"),)]),
    ("2.5.4.3=x", [(("2.5.4.3", "x"),)]),
    ("a-b-=x", [(("a-b-", "x"),)]),
    ("cn=x;dc=y", [(("cn", "x"),), (("dc", "y"),)]),
    (" <cn=x, dc=y> ", [(("cn", "x"),), (("dc", "y"),)]),
    ("cn=a\\0Db", [(("cn", "a\rb"),)]),
    ("cn= a b  c  ", [(("cn", "a b  c"),)]),
    ("cn=a\\;b\\<c\\>d\\+e\\=f", [(("cn", "a;b<c>d+e=f"),)]),
    ("cn=a#b", [(("cn", "a#b"),)]),
]


@pytest.mark.parametrize(("text", "expected"), GOOD)
def test_parse_table(text, expected):
    assert parse(text) == expected
    assert parse(to_string(parse(text))) == expected
    assert depth(text) == len(expected)


BAD = [
    ("cn", 2, "expected '=' after attribute type 'cn'"),
    ("=x", 0, "expected an attribute type"),
    ("cn=a,,dc=b", 5, "empty RDN"),
    (",cn=a", 0, "empty RDN"),
    ("cn=a,", 4, "empty RDN"),
    ("cn=a+", 4, "nothing after '+'"),
    ("cn=a,b", 4, "unescaped ','"),
    ("cn=a+b", 4, "unescaped '+'"),
    ("cn=a\\", 4, "escapes nothing"),
    ("cn=a\\G1", 4, "bad hex escape '\\G1'"),
    ("cn=a\\?", 4, "bad escape '\\?'"),
    ("cn=a\\C4", 4, "not valid UTF-8"),
    ("cn=a\\C4\\,", 4, "not valid UTF-8"),
    ("cn=#", 3, "'#' must be followed by hex digits"),
    ("cn=#0", 4, "odd number of hex digits"),
    ("cn=#admins", 6, "escape it as '\\#'"),
    ("cn=#04x", 6, "not a hex digit"),
    ('cn="abc', 3, "no closing"),
    ('cn=a"b', 4, "unescaped '\"'"),
    ('cn="a"b', 6, "expected ',' or '+'"),
    ("cn=a<b", 4, "unescaped '<'"),
    ("cn=a>b", 4, "unescaped '>'"),
    ("cn=a\x00b", 4, "NUL"),
    ("c_n=a", 1, "'_' is not allowed"),
    ("-cn=a", 0, "must start with a letter"),
    ("1.01=a", 2, "leading zero"),
    ("1..1=a", 2, "two dots"),
    ("1.1.=a", 3, "ends with '.'"),
    ("1.x=a", 2, "only digits and dots"),
    ("OID.1.01=a", 6, "leading zero"),
    ("cn;lang-en=a", 2, "attribute options"),
    ("<cn=a", 0, "must end with '>'"),
    ("ü=a", 0, "expected an attribute type"),
    ("cn=a,dc=b,", 9, "trailing ','"),
]


@pytest.mark.parametrize(("text", "position", "message"), BAD)
def test_bad_dns(text, position, message):
    with pytest.raises(DnError) as info:
        parse(text)
    err = info.value
    assert err.position == position, str(err)
    assert message in err.reason, str(err)
    assert err.dn == text
    assert isinstance(err, LdapnbError) and isinstance(err, ValueError)
    with pytest.raises(DnError):
        normalize(text)


def test_parse_rejects_non_strings():
    with pytest.raises(TypeError):
        parse(b"cn=x")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# printing, escaping, hex values


def test_to_string_is_canonical():
    assert to_string([(("cn", "Smith, John"),), (("dc", "x"),)]) == "cn=Smith\\, John,dc=x"
    assert to_string([(("cn", ' #a+b;c<d>e"f\\g=h '),)]) == \
        'cn=\\ #a\\+b\\;c\\<d\\>e\\"f\\\\g=h\\ '
    assert to_string([(("cn", "#x"),)]) == "cn=\\#x"
    assert to_string([(("cn", "a\x00b\rc\x7f"),)]) == "cn=a\\00b\\0Dc\\7F"
    assert to_string([(("cn", "Lučić 😀"),)]) == "cn=Lučić 😀"
    assert to_string([(("cn", " "),)]) == "cn=\\ "
    assert to_string([(("cn", "  "),)]) == "cn=\\ \\ "
    assert to_string([(("ou", "a"), ("cn", "b"))]) == "ou=a+cn=b"
    assert to_string([(("OID.2.5.4.3", "x"),)]) == "2.5.4.3=x"
    assert to_string("UID=jsmith; O=example ; C=US") == "UID=jsmith,O=example,C=US"
    assert to_string([]) == ""


@pytest.mark.parametrize("rdns", [[()], [(("c_n", "x"),)], [(("", "x"),)], [(("1.01", "x"),)],
                                  [(("cn", HexValue("#0")),)]])
def test_to_string_rejects_bad_rdns(rdns):
    with pytest.raises(DnError):
        to_string(rdns)


def test_escape_and_unescape():
    assert escape_value("") == ""
    assert escape_value("a=b") == "a=b"
    assert escape_value("#1 ") == "\\#1\\ "
    assert unescape_value("\\#John Smith\\20") == "#John Smith "
    assert unescape_value("  a\\2Cb  ") == "a,b"
    assert unescape_value('"a, b"') == "a, b"
    assert unescape_value("") == ""
    value = unescape_value("#0402ABCD")
    assert isinstance(value, HexValue) and value == "#0402ABCD"
    assert escape_value(value) == "#0402ABCD"
    for bad in ["a,b", "a+b", "a;b", "\\zz"]:
        with pytest.raises(DnError):
            unescape_value(bad)


def test_hex_values_round_trip_apart_from_escaped_text():
    hexed = parse("cn=#04024869")[0][0][1]
    texted = parse("cn=\\#04024869")[0][0][1]
    assert hexed == texted == "#04024869"
    assert isinstance(hexed, HexValue) and not isinstance(texted, HexValue)
    assert hexed.ber == b"\x04\x02Hi"
    assert repr(hexed) == "HexValue('#04024869')"
    assert to_string([(("cn", hexed),)]) == "cn=#04024869"
    assert to_string([(("cn", texted),)]) == "cn=\\#04024869"
    assert not equal("cn=#04024869", "cn=\\#04024869")


def test_normalize_compares_ber_strings_as_text():
    assert normalize("cn=#0C024869") == "cn=hi"      # UTF8String "Hi"
    assert normalize("cn=#13024869") == "cn=hi"      # PrintableString "Hi"
    assert normalize("cn=#04024869") == "cn=#04024869"  # OCTET STRING stays hex
    assert normalize("cn=#04024869") == normalize("CN=#04024869".lower())
    assert normalize("cn=#0c03") == "cn=#0C03"          # bad length: kept as hex


# --------------------------------------------------------------------------------------------
# normalize, compare and navigate


@pytest.mark.parametrize(("text", "expected"), [
    ("uid=user12345,ou=People,dc=example,dc=org", "uid=user12345,ou=people,dc=example,dc=org"),
    ("UID=A  B ,  OU=People", "uid=a b,ou=people"),
    ("commonName=x,2.5.4.11=y,OID.0.9.2342.19200300.100.1.25=z", "cn=x,ou=y,dc=z"),
    ("cn=b+ou=a", "cn=b+ou=a"),
    ("ou=a+cn=b", "cn=b+ou=a"),
    ("cn=Smith\\2C John", "cn=smith\\, john"),
    ("cn=STRASSE", "cn=strasse"),
    ("cn=Straße", "cn=strasse"),
    ("cn=ＦＵＬＬ", "cn=full"),                 # NFKC: full-width letters
    ("cn=a\u00a0\tb\u200b", "cn=a b"),           # RFC 4518 mapping
    ("cn=\\ x\\ ", "cn=x"),
    ("cn=\\#x", "cn=\\#x"),
    ("cn=", "cn="),
    ("", ""),
    ("<CN=X>", "cn=x"),
])
def test_normalize(text, expected):
    assert normalize(text) == expected
    assert normalize(expected) == expected


def test_fast_and_full_paths_agree_on_plain_dns():
    for text in ["uid=a,ou=b", " uid = a  b , ou=c ", "cn=a=b", "1.2.3=x", "cn=,dc=x"]:
        assert D.normalize.__wrapped__(text) == D._normalize_full(text)
        assert D._scan.__wrapped__(text) == D._scan_full(text)


def test_parent_rdn_and_avas_keep_the_text_as_written():
    text = "CN=John Smith\\2C III , OU=Sales\\; Data;DC=example"
    assert rdn(text) == "CN=John Smith\\2C III"
    assert parent(text) == "OU=Sales\\; Data;DC=example"
    assert parent("cn=a\\ , dc=x") == "dc=x"
    assert rdn("cn=a\\ , dc=x") == "cn=a\\ "
    assert rdn_avas("ou=Sales+cn=J. Smith,dc=x") == (("ou", "Sales"), ("cn", "J. Smith"))
    assert rdn_avas("cn=a\\, b") == (("cn", "a, b"),)
    assert parent("dc=org") == ""
    assert parent("") is None and parent("  ") is None
    assert parent("<cn=a,dc=b>") == "dc=b"
    assert depth("cn=a,dc=b") == 2 and depth("") == 0 and depth("cn=a\\,dc=b") == 1
    for func in (rdn, rdn_avas):
        with pytest.raises(DnError, match="empty DN"):
            func("")
    with pytest.raises(DnError):
        parent("cn=a,,dc=b")


def test_join():
    assert join("uid=jsmith", "ou=People,dc=org") == "uid=jsmith,ou=People,dc=org"
    assert join("cn=Smith\\, J ", " dc=org ") == "cn=Smith\\, J,dc=org"
    assert join("dc=org", "") == "dc=org"
    assert join("cn=a+sn=b", "dc=x") == "cn=a+sn=b,dc=x"
    for bad_rdn in ["", "cn=a,dc=b", "cn"]:
        with pytest.raises(DnError):
            join(bad_rdn, "dc=x")
    with pytest.raises(DnError):
        join("cn=a", "dc=x,")


def test_is_descendant():
    assert is_descendant("uid=a,ou=People,DC=Example", "dc=example")
    assert is_descendant("uid=a,ou=People,dc=example", "OU=people, dc=example")
    assert is_descendant("dc=example", "dc=example")
    assert not is_descendant("dc=example", "dc=example", strict=True)
    assert is_descendant("dc=example", "")
    assert is_descendant("", "")
    assert not is_descendant("", "", strict=True)
    assert not is_descendant("", "dc=example")
    assert not is_descendant("dc=example", "uid=a,dc=example")
    assert not is_descendant("dc=notexample", "dc=example")
    assert not is_descendant("cn=a\\,dc=example", "dc=example")      # an escaped comma
    assert is_descendant("cn=a\\\\,dc=example", "dc=example")        # an escaped backslash
    assert is_descendant("cn=x+ou=y,dc=example", "dc=Example", strict=True)


def test_equal():
    assert equal("CN=John Smith\\, III,DC=example", "cn=john  smith\\2c iii , dc=EXAMPLE")
    assert equal("cn=a+ou=b", "ou=B+cn=A")
    assert not equal("cn=a", "cn=b")
    assert not equal("cn=a", "sn=a")
    assert not equal("cn=a,dc=x", "cn=a")


# --------------------------------------------------------------------------------------------
# property tests (hypothesis)

SPECIALS = list(' #,+"\\<>;=\x00\r\n\t\x7f') + ["\u00a0", "é", "ß", "Č", "😀", "\u0301", "ı"]
LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
descr = st.builds(lambda a, b: a + b, st.sampled_from(LETTERS),
                  st.text(alphabet=LETTERS + "0123456789-", max_size=8))
numericoid = st.lists(st.integers(0, 99999), min_size=1, max_size=5).map(
    lambda parts: ".".join(map(str, parts)))
attribute_type = st.one_of(descr, numericoid)
text_value = st.text(alphabet=st.sampled_from(SPECIALS) | st.characters(codec="utf-8"), max_size=10)
hex_value = st.binary(min_size=1, max_size=8).map(lambda b: HexValue("#" + b.hex().upper()))
value = st.one_of(text_value, text_value, text_value, hex_value)
ava = st.tuples(attribute_type, value)
rdn_strategy = st.lists(ava, min_size=1, max_size=3).map(tuple)
rdns_strategy = st.lists(rdn_strategy, max_size=4)


def _hexness(rdns):
    return [[isinstance(v, HexValue) for _, v in r] for r in rdns]


@settings(max_examples=1800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rdns_strategy)
def test_parse_to_string_round_trip(rdns):
    text = to_string(rdns)
    back = parse(text)
    assert back == rdns
    assert _hexness(back) == _hexness(rdns)
    assert to_string(back) == text
    assert depth(text) == len(rdns)
    if rdns:
        assert rdn_avas(text) == rdns[0]
        assert parse(parent(text)) == rdns[1:]
        assert parse(rdn(text)) == rdns[:1]
    for r in rdns:
        for _, v in r:
            assert unescape_value(escape_value(v)) == v


def _respell_value(rnd: random.Random, v: str) -> str:
    """Another spelling of value ``v``: other escapes, quotes, case, inner spaces."""
    if isinstance(v, HexValue):
        return "#" + "".join(rnd.choice([c.lower(), c.upper()]) for c in v[1:])
    if v and "\x00" not in v and '"' not in v and "\\" not in v and rnd.random() < 0.3:
        return '"' + v + '"'
    out = []
    for k, c in enumerate(v):
        if c.isascii() and c.isalpha() and rnd.random() < 0.5:
            c = c.swapcase()
        if c == " " and 0 < k < len(v) - 1 and rnd.random() < 0.3:
            out.append("  ")         # inner whitespace runs collapse
            continue
        must = c in '\\,+";<>\x00' or (k == 0 and c in " #") or (k == len(v) - 1 and c == " ")
        escapable = c in ',+";<>\\ #='
        how = rnd.choice(["raw", "hex", "char"])
        if how == "char" and not escapable:
            how = "raw"
        if how == "raw" and must:
            how = "char" if escapable else "hex"
        if how == "hex":
            out.append("".join(rnd.choice(["\\%02x", "\\%02X"]) % b for b in c.encode("utf-8")))
        elif how == "char":
            out.append("\\" + c)
        else:
            out.append(c)
    return "".join(out)


@st.composite
def respelled(draw):
    rdns = draw(rdns_strategy)
    rnd = draw(st.randoms(use_true_random=False))

    def space() -> str:
        return rnd.choice(["", " ", "  "])

    parts = []
    for r in rdns:
        avas = []
        for t, v in rnd.sample(list(r), len(r)):
            t2 = "".join(rnd.choice([c.lower(), c.upper()]) for c in t)
            if t2[0].isdigit() and rnd.random() < 0.5:
                t2 = rnd.choice(["OID.", "oid."]) + t2
            avas.append(f"{t2}{space()}={space()}{_respell_value(rnd, v)}{space()}")
        parts.append(("+" + space()).join(avas))
    text = ""
    for k, p in enumerate(parts):
        if k:
            text += rnd.choice([",", ";"]) + space()
        text += p
    if rnd.random() < 0.2:
        text = "<" + text + ">"
    return rdns, text


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(respelled())
def test_normalize_ignores_case_spacing_and_escape_spelling(case):
    rdns, text = case
    key = normalize(to_string(rdns))
    assert normalize(text) == key
    assert normalize(key) == key
    assert equal(text, to_string(rdns))
    assert is_descendant(text, to_string(rdns[1:]))
    assert depth(text) == len(rdns)


@settings(max_examples=800, deadline=None)
@given(rdns_strategy)
def test_normalize_is_idempotent(rdns):
    key = normalize(to_string(rdns))
    assert normalize(key) == key
    assert to_string(parse(key)) == key
    assert depth(key) == len(rdns)


DNISH = st.text(alphabet=st.sampled_from(list('cnCNou=,+;#"\\<> 0123456789abcdefABCDEF.-_é\x00')),
                max_size=30)


def _exercise(text: str) -> None:
    try:
        rdns = parse(text)
    except DnError as exc:
        assert exc.dn == text
        assert exc.position is None or 0 <= exc.position <= len(text)
        with pytest.raises(DnError):
            normalize(text)
        return
    assert parse(to_string(rdns)) == rdns
    key = normalize(text)
    assert normalize(key) == key
    assert is_descendant(text, text)
    assert depth(text) == len(rdns)
    p = parent(text)
    assert (p is None) == (not rdns)
    if p:
        assert parse(p) == rdns[1:]


@settings(max_examples=2800, deadline=None)
@given(st.text(max_size=40))
def test_random_text_only_raises_dn_error(text):
    _exercise(text)


@settings(max_examples=2800, deadline=None)
@given(DNISH)
def test_random_dn_like_text_only_raises_dn_error(text):
    _exercise(text)
    try:
        unescape_value(text)
    except DnError as exc:
        assert exc.dn == text


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("cnouCNOU=, .-019xyZ")), max_size=30))
def test_fast_path_matches_full_path(text):
    def outcome(func):
        try:
            return func(text)
        except DnError as exc:
            return ("error", exc.position)

    assert outcome(D.normalize.__wrapped__) == outcome(D._normalize_full)
    assert outcome(D._scan.__wrapped__) == outcome(D._scan_full)
