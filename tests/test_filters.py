"""Search filters (ldapnb.filters): RFC 4515 parse/print, RFC 4511 evaluation, trace, compile."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ldapnb.entry import Entry
from ldapnb.errors import FilterError
from ldapnb.filters import (
    And,
    Approx,
    Equality,
    Extensible,
    GreaterOrEqual,
    LessOrEqual,
    Not,
    Or,
    Present,
    SimpleContext,
    Substrings,
    attributes,
    compile,
    escape,
    evaluate,
    parse,
    to_string,
    trace,
)

# -- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("(cn=Babs Jensen)", Equality("cn", "Babs Jensen")),
        ("(!(cn=Tim Howes))", Not(Equality("cn", "Tim Howes"))),
        ("(&(objectClass=Person)(|(sn=Jensen)(cn=Babs J*)))",
         And((Equality("objectClass", "Person"),
              Or((Equality("sn", "Jensen"), Substrings("cn", "Babs J", (), None)))))),
        ("(o=univ*of*mich*)", Substrings("o", "univ", ("of", "mich"), None)),
        ("(seeAlso=)", Equality("seeAlso", "")),
        ("(cn:caseExactMatch:=Fred Flintstone)",
         Extensible("cn", "caseExactMatch", "Fred Flintstone")),
        ("(cn:=Betty Rubble)", Extensible("cn", None, "Betty Rubble")),
        ("(sn:dn:2.4.6.8.10:=Barney Rubble)",
         Extensible("sn", "2.4.6.8.10", "Barney Rubble", True)),
        ("(o:dn:=Ace Industry)", Extensible("o", None, "Ace Industry", True)),
        ("(:1.2.3:=Wilma Flintstone)", Extensible(None, "1.2.3", "Wilma Flintstone")),
        ("(:DN:2.4.6.8.10:=Dino)", Extensible(None, "2.4.6.8.10", "Dino", True)),
        ("(o=Parens R Us \\28for all your parenthetical needs\\29)",
         Equality("o", "Parens R Us (for all your parenthetical needs)")),
        ("(cn=*\\2A*)", Substrings("cn", None, ("*",), None)),
        ("(filename=C:\\5cMyFile)", Equality("filename", "C:\\MyFile")),
        ("(bin=\\00\\00\\00\\04)", Equality("bin", "\x00\x00\x00\x04")),
        ("(sn=Lu\\c4\\8di\\c4\\87)", Equality("sn", "Lučić")),
        ("(1.3.6.1.4.1.1466.0=\\04\\02\\48\\69)", Equality("1.3.6.1.4.1.1466.0", "\x04\x02Hi")),
        ("(objectSid=\\01\\ff)", Equality("objectSid", b"\x01\xff")),
        ("(cn=*)", Present("cn")),
        ("(cn;lang-en=x)", Equality("cn;lang-en", "x")),
        ("(cn~=jensen)", Approx("cn", "jensen")),
        ("(uidNumber>=1000)", GreaterOrEqual("uidNumber", "1000")),
        ("(uidNumber<=1000)", LessOrEqual("uidNumber", "1000")),
        ("(sn=*er)", Substrings("sn", None, (), "er")),
        ("(&)", And(())),
        ("(|)", Or(())),
        ("uid=bjensen", Equality("uid", "bjensen")),
        ("  (& (cn=a)\n   (sn=b) )  ", And((Equality("cn", "a"), Equality("sn", "b")))),
        ("(cn=a\\2ab)", Equality("cn", "a*b")),
        ("(userAccountControl:1.2.840.113556.1.4.803:=2)",
         Extensible("userAccountControl", "1.2.840.113556.1.4.803", "2")),
    ],
)
def test_parse(text: str, expected: object) -> None:
    assert parse(text) == expected
    assert parse(to_string(parse(text))) == expected


BAD = [
    # text, position, words the message must contain
    ("", 0, "empty filter"),
    ("(cn=a", 5, "to close the '(' at position 0"),
    ("(&(cn=x)(sn=y)", 14, "to close the '(' at position 0"),
    ("(&(cn=x)(sn=y", 13, "to close the '(' at position 8"),
    ("()", 1, "(&)"),
    ("(cn=\\4G)", 4, "bad escape"),
    ("(cn=\\)", 4, "bad escape"),
    ("(cn=a\\*)", 5, "\\2a"),
    ("(cn>=a*)", 6, "unescaped '*'"),
    ("(cn~=*)", 5, "unescaped '*'"),
    ("(cn:=a*)", 6, "unescaped '*'"),
    ("(!(a=b)(c=d))", 7, "exactly one"),
    ("(!cn=x)", 2, "expected '(' after '!'"),
    ("(cn=a**b)", 5, "two '*'"),
    ("(c n=x)", 2, "expected '='"),
    ("cn=x)", 4, "unbalanced ')'"),
    ("(cn=x))", 6, "unbalanced ')'"),
    ("(cn=x)(sn=y)", 6, "unexpected text"),
    ("(1cn=x)", 1, "numeric OID"),
    ("(2.05.4=x)", 1, "numeric OID"),
    ("(cn;=x)", 4, "option"),
    ("(cn~x)", 4, "'='"),
    ("(=x)", 1, "attribute description"),
    ("((cn=x))", 1, "unexpected '('"),
    ("(cn=a(b)", 5, "\\28"),
    ("(&(cn=x)x)", 8, "another filter"),
    ("(:dn:=x)", 1, "needs a matching rule"),
    ("(:=x)", 1, "needs a matching rule"),
    ("(cn:foo bar:=x)", 7, "expected ':'"),
    ("(cn:dn:rule:x:=y)", 12, "attr:dn:rule:=value"),
    ("(cn:=x", 6, "to close"),
    ("(cn_x=1)", 3, "expected '='"),
    ("(!", 2, "expected '('"),
    ("(", 1, "expected a filter"),
    ("(cn=\x00)", 4, "NUL"),
    ("(cn=\ud800)", 4, "surrogate"),
    ("(" * 150 + "cn=x" + ")" * 150, 1, "unexpected '('"),
    ("(!" * 150 + "(cn=x)" + ")" * 150, 202, "nested more than"),
]


@pytest.mark.parametrize("text,position,words", BAD)
def test_bad_filters_say_where(text: str, position: int, words: str) -> None:
    with pytest.raises(FilterError) as info:
        parse(text)
    assert info.value.position == position, info.value
    assert words in info.value.reason
    assert info.value.filter == text
    assert "^" in str(info.value)  # the message points at the position


def test_error_message_draws_a_caret() -> None:
    with pytest.raises(FilterError) as info:
        parse("(&(cn=x)(sn=y)")
    assert str(info.value).endswith("(&(cn=x)(sn=y)\n                  ^")


def test_not_a_string() -> None:
    with pytest.raises(FilterError):
        parse(b"(cn=x)")  # type: ignore[arg-type]


def test_node_validation() -> None:
    with pytest.raises(FilterError):
        Equality("c n", "x")
    with pytest.raises(FilterError):
        Substrings("cn", None, (), None)
    with pytest.raises(FilterError):
        Substrings("cn", "a", ("",), None)
    with pytest.raises(FilterError):
        Extensible(None, None, "x")
    assert Equality("cn", b"abc").value == "abc"  # UTF-8 bytes stored as text
    assert Substrings("cn", "", ("x",), "").initial is None


# -- printing and escaping ----------------------------------------------------------------------
def test_escape() -> None:
    assert escape("a*)(uid=*") == "a\\2a\\29\\28uid=\\2a"
    assert escape("back\\slash") == "back\\5cslash"
    assert escape("nul\x00") == "nul\\00"
    assert escape("Lučić") == "Lučić"
    assert escape(b"\x01\xffA(") == "\\01\\ffA\\28"
    assert parse(f"(cn={escape('*)(|(uid=*')})") == Equality("cn", "*)(|(uid=*")


def test_to_string_canonical() -> None:
    assert to_string(parse("(CN=a\\2A)")) == "(CN=a\\2a)"
    assert to_string(parse("( & (a=1) (b=2) )".strip().replace("( &", "(&"))) == "(&(a=1)(b=2))"
    assert to_string(Substrings("cn", None, ("a", "b"), "c")) == "(cn=*a*b*c)"
    assert str(Not(Present("mail"))) == "(!(mail=*))"
    assert to_string(Extensible(None, "caseExactMatch", "x", True)) == "(:dn:caseExactMatch:=x)"


def test_attributes() -> None:
    f = parse("(&(objectClass=person)(|(CN;lang-en=a*)(uid=x))(!(mail=*))(:dn:1.2.3:=x))")
    assert attributes(f) == {"objectclass", "cn", "uid", "mail"}


# -- property tests -----------------------------------------------------------------------------
LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
KEYCHARS = LETTERS + "0123456789-"
descr = st.builds(lambda a, b: a + b, st.sampled_from(LETTERS), st.text(KEYCHARS, max_size=8))
numoid = st.lists(st.integers(0, 99999), min_size=2, max_size=6).map(
    lambda xs: ".".join(map(str, xs)))
attr_type = st.one_of(descr, numoid)
option = st.text(KEYCHARS, min_size=1, max_size=6)
attr_desc = st.builds(lambda t, opts: ";".join([t, *opts]), attr_type,
                      st.lists(option, max_size=2))
text_value = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
value = st.one_of(text_value, st.binary(max_size=6))
piece = value.filter(lambda v: len(v) > 0)


def _substrings(attr, initial, any_, final) -> Substrings:
    if initial is None and final is None and not any_:
        any_ = ("x",)  # a substring filter needs one piece: (attr=*) is presence
    return Substrings(attr, initial, any_, final)


def leaves() -> st.SearchStrategy:
    return st.one_of(
        st.builds(Equality, attr_desc, value),
        st.builds(GreaterOrEqual, attr_desc, value),
        st.builds(LessOrEqual, attr_desc, value),
        st.builds(Approx, attr_desc, value),
        st.builds(Present, attr_desc),
        st.builds(_substrings, attr_desc, st.none() | piece, st.lists(piece, max_size=3)
                  .map(tuple), st.none() | piece),
        st.builds(Extensible, attr_desc, st.none() | attr_type, value, st.booleans()),
        st.builds(Extensible, st.none(), attr_type, value, st.booleans()),
    )


filters_strategy = st.recursive(
    leaves(),
    lambda kids: st.one_of(
        st.lists(kids, max_size=4).map(lambda c: And(tuple(c))),
        st.lists(kids, max_size=4).map(lambda c: Or(tuple(c))),
        kids.map(Not),
    ),
    max_leaves=6,
)


@settings(max_examples=2000, deadline=None)
@given(leaves())
def test_roundtrip_random_leaves(f) -> None:
    assert parse(to_string(f)) == f


@settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.filter_too_much])
@given(st.data())
def test_roundtrip_random_trees(data: st.DataObject) -> None:
    f = data.draw(filters_strategy)
    text = to_string(f)
    assert parse(text) == f
    assert to_string(parse(text)) == text


@settings(max_examples=3500, deadline=None)
@given(st.text(max_size=40))
def test_random_text_only_raises_filter_error(text: str) -> None:
    try:
        f = parse(text)
    except FilterError as exc:
        assert exc.position is None or 0 <= exc.position <= len(text)
    else:
        assert parse(to_string(f)) == f


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(list("()&|!=*~<>:\\;.-abcdn019 ") + ["\\2a", "dn:", "cn="]),
                max_size=30).map("".join))
def test_filter_alphabet_only_raises_filter_error(text: str) -> None:
    try:
        f = parse(text)
    except FilterError as exc:
        assert exc.position is not None and 0 <= exc.position <= len(text)
    else:
        assert parse(to_string(f)) == f


# -- evaluation -------------------------------------------------------------------------------
def E(dn: str = "uid=x,dc=example,dc=org", **attrs: object) -> Entry:
    return Entry(dn, {k.replace("_", "-"): (v if isinstance(v, list) else [v])
                      for k, v in attrs.items()})


ALICE = E("uid=alice,ou=People,dc=example,dc=org", objectClass=["top", "person"],
          cn=["alice", "zed"], sn="Miller", uid="alice", uidNumber="1000",
          mail="Alice@Example.org", telephoneNumber="+1 408 555-1212",
          createTimestamp="20240101120000Z", userAccountControl="514",
          description="likes (parentheses) and a*b")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("(cn=ALICE)", True),
        ("(cn=bob)", False),
        ("(cn=*)", True),
        ("(seeAlso=*)", False),
        ("(cn=ali*)", True),
        ("(cn=*lic*)", True),
        ("(sn=*er)", True),
        ("(sn=*ill*)", True),
        ("(sn=M*r)", True),
        ("(sn=Mi*ll*er)", True),
        ("(sn=Mil*ler*)", True),
        ("(sn=Mill*ler)", False),  # initial and final would overlap
        ("(uidNumber>=999)", True),
        ("(uidNumber>=1001)", False),
        ("(uidNumber<=1000)", True),
        ("(uidNumber<=999)", False),
        ("(uidNumber=1000)", True),
        ("(uidNumber=01000)", None),  # leading zero: not an INTEGER (RFC 4517; slapd agrees)
        ("(mail=alice@EXAMPLE.org)", True),
        ("(telephoneNumber=+14085551212)", True),
        ("(telephoneNumber=*555*)", True),
        ("(createTimestamp=20240101130000+0100)", True),
        ("(createTimestamp>=20231231000000Z)", True),
        ("(createTimestamp<=20231231000000Z)", False),
        ("(cn~=alise)", True),
        ("(cn>=b)", True),  # 'zed' >= 'b'
        ("(cn<=a)", False),
        ("(description=likes \\28parentheses\\29 and a\\2ab)", True),
        ("(description=*a\\2ab)", True),
        ("(description=*ab)", False),
        ("(&)", True),
        ("(|)", False),
        ("(!(&))", False),
        ("(cn:caseExactMatch:=alice)", True),
        ("(cn:caseExactMatch:=Alice)", False),
        ("(uid:dn:=alice)", True),
        ("(ou:dn:=people)", True),
        ("(ou=people)", False),  # ou is only in the DN
        ("(:dn:caseIgnoreMatch:=People)", True),
        ("(:caseExactMatch:=Miller)", True),
        ("(:caseExactMatch:=miller)", False),
        ("(userAccountControl:1.2.840.113556.1.4.803:=2)", True),
        ("(userAccountControl:1.2.840.113556.1.4.803:=3)", False),
        ("(userAccountControl:1.2.840.113556.1.4.804:=3)", True),
        ("(userAccountControl:1.2.840.113556.1.4.804:=1)", False),
        ("(cn:caseIgnoreSubstringsMatch:=al\\2ae)", True),
        ("uid=alice", True),
    ],
)
def test_evaluate_simple_context(text: str, expected: bool) -> None:
    f = parse(text)
    assert evaluate(f, ALICE) is expected
    assert compile(f)(ALICE) is expected
    assert trace(f, ALICE).result is expected


UNDEFINED = [
    "(uidNumber=abc)",              # not a valid integer
    "(uidNumber>=abc)",
    "(createTimestamp>=yesterday)",
    "(cn:noSuchMatch:=x)",          # unknown rule
    "(cn:1.2.3.4:=x)",
    "(userAccountControl:1.2.840.113556.1.4.803:=two)",
    "(!(uidNumber=abc))",           # NOT keeps Undefined
    "(&(cn=alice)(uidNumber=abc))",  # True AND Undefined
    "(|(cn=bob)(uidNumber=abc))",   # False OR Undefined
    "(:1.2.840.113556.1.4.1941:=cn=g,dc=x)",
]


@pytest.mark.parametrize("text", UNDEFINED)
def test_undefined(text: str) -> None:
    assert evaluate(text, ALICE) is None
    assert compile(text)(ALICE) is None
    assert trace(text, ALICE).result is None


def test_three_valued_logic_table() -> None:
    t, f, u = "(cn=alice)", "(cn=bob)", "(uidNumber=abc)"
    cases = {
        f"(&{t}{u})": None, f"(&{f}{u})": False, f"(&{t}{t})": True,
        f"(|{t}{u})": True, f"(|{f}{u})": None, f"(|{f}{f})": False,
        f"(!{u})": None, f"(!{t})": False, f"(!{f})": True,
        f"(!(&{f}{u}))": True, f"(!(|{t}{u}))": False,
    }
    for text, expected in cases.items():
        assert evaluate(text, ALICE) is expected, text
        assert compile(text)(ALICE) is expected, text


def test_unknown_attribute_with_schema_knowledge() -> None:
    ctx = SimpleContext(known=["cn", "sn", "objectClass"])
    assert evaluate("(foo=x)", ALICE, ctx) is None
    assert evaluate("(foo=*)", ALICE, ctx) is False  # presence of unknown: False
    assert evaluate("(!(foo=*))", ALICE, ctx) is True
    assert evaluate("(!(foo=x))", ALICE, ctx) is None
    assert evaluate("(foo>=x)", ALICE, ctx) is None
    assert evaluate("(foo=x*)", ALICE, ctx) is None
    assert evaluate("(foo~=x)", ALICE, ctx) is None
    assert evaluate("(foo:caseExactMatch:=x)", ALICE, ctx) is None
    assert "not in the schema" in trace("(foo=x)", ALICE, ctx).reason
    assert compile("(|(foo=x)(foo=*))", ctx)(ALICE) is None


def test_no_ordering_rule_is_undefined() -> None:
    ctx = SimpleContext(rules={"description": {"equality": "caseIgnoreMatch",
                                               "substr": "caseIgnoreSubstringsMatch"}})
    assert evaluate("(description>=a)", ALICE, ctx) is None
    assert trace("(description>=a)", ALICE, ctx).reason == (
        "no ordering rule for 'description': Undefined")
    assert evaluate("(member>=a)", ALICE) is None  # DN syntax: no ordering rule
    assert evaluate("(description=*and*)", ALICE, ctx) is True


# -- every filter gap of ldap3's MOCK_SYNC (RECIPES.md) ---------------------------------------
def test_mock_sync_gap_substring_final_is_anchored() -> None:
    sanders = E(sn="Sanders")
    assert evaluate("(sn=*er)", sanders) is False
    assert evaluate("(sn=*er)", E(sn="Miller")) is True
    assert evaluate("(sn=San*)", E(sn="Asanders")) is False


def test_mock_sync_gap_not_applies_to_the_whole_attribute() -> None:
    e = E(cn=["alice", "zed"])
    assert evaluate("(!(cn=ali*))", e) is False
    assert evaluate("(!(cn=bob*))", e) is True
    assert evaluate("(&(objectClass=*)(!(cn=ali*)))", E(cn=["alice", "zed"],
                                                        objectClass="person")) is False


def test_mock_sync_gap_extensible_rules() -> None:
    groups = {
        "cn=top,dc=x": E("cn=top,dc=x", member=["cn=mid,dc=x"]),
        "cn=mid,dc=x": E("cn=mid,dc=x", member=["cn=low,dc=x"], memberOf=["cn=top,dc=x"]),
        "cn=low,dc=x": E("cn=low,dc=x", member=["uid=u,dc=x", "cn=cyc,dc=x"],
                         memberOf=["cn=mid,dc=x", "cn=cyc,dc=x"]),
        "cn=cyc,dc=x": E("cn=cyc,dc=x", member=["cn=low,dc=x"], memberOf=["cn=low,dc=x"]),
    }
    user = E("uid=u,dc=x", memberOf=["cn=low,dc=x"])

    def lookup(dn: str) -> Entry | None:
        from ldapnb import dn as dnmod

        for k, v in groups.items():
            if dnmod.normalize(k) == dnmod.normalize(dn):
                return v
        return None

    ctx = SimpleContext(lookup=lookup)
    assert evaluate("(memberOf:1.2.840.113556.1.4.1941:=CN=Top,DC=x)", user, ctx) is True
    assert evaluate("(memberOf=cn=top,dc=x)", user, ctx) is False  # not directly
    assert evaluate("(memberOf:1.2.840.113556.1.4.1941:=cn=nope,dc=x)", user, ctx) is False
    assert evaluate("(member:1.2.840.113556.1.4.1941:=uid=u,dc=x)", groups["cn=top,dc=x"],
                    ctx) is True
    # the cycle low <-> cyc terminates
    assert evaluate("(member:1.2.840.113556.1.4.1941:=uid=other,dc=x)",
                    groups["cn=cyc,dc=x"], ctx) is False
    # without a lookup the chain cannot be followed: Undefined unless a direct hit
    assert evaluate("(memberOf:1.2.840.113556.1.4.1941:=cn=top,dc=x)", user) is None
    assert evaluate("(memberOf:1.2.840.113556.1.4.1941:=cn=low,dc=x)", user) is True
    assert evaluate("(memberOf:1.2.840.113556.1.4.1941:=not a dn)", user, ctx) is None
    assert "reaches" in trace("(memberOf:1.2.840.113556.1.4.1941:=cn=top,dc=x)", user,
                              ctx).reason
    ad = E(userAccountControl="66050", groupType="-2147483646")
    assert evaluate("(userAccountControl:1.2.840.113556.1.4.803:=65536)", ad) is True
    assert evaluate("(groupType:1.2.840.113556.1.4.803:=2147483648)", ad) is True
    assert evaluate("(groupType:1.2.840.113556.1.4.804:=2147483650)", ad) is True
    assert evaluate("(!(userAccountControl:1.2.840.113556.1.4.803:=2))", ad) is False


def test_mock_sync_gap_approx_is_not_plain_equality() -> None:
    e = E(cn="Barbara Jensen")
    assert evaluate("(cn~=Barbra Jenson)", e) is True
    assert evaluate("(cn~=B Jensen)", e) is True
    assert evaluate("(cn~=Robert Jensen)", e) is False
    assert evaluate("(uidNumber~=100)", E(uidNumber="100")) is True  # integers: equality


def test_mock_sync_gap_escaped_dn_values() -> None:
    e = E(member=["CN=Smith\\2C John,OU=People,DC=example,DC=org"])
    assert evaluate("(member=cn=Smith\\5c, John,ou=people,dc=example,dc=org)", e) is True
    assert evaluate("(member=cn=smith\\5c2c john, ou=people, dc=example, dc=org)", e) is True
    assert evaluate("(member=cn=Smith,ou=people,dc=example,dc=org)", e) is False
    assert evaluate("(member=not a dn)", e) is None


# -- values, options, binary ------------------------------------------------------------------
def test_attribute_options_subtypes() -> None:
    e = E(**{"cn": "Plain", "cn;lang-en": "English", "cn;lang-en;phonetic": "Inglish"})
    assert evaluate("(cn=English)", e) is True  # cn matches cn;lang-en values
    assert evaluate("(cn;lang-en=Inglish)", e) is True  # cn;lang-en;phonetic is a subtype
    assert evaluate("(cn;lang-en=Plain)", e) is False
    assert evaluate("(cn;lang-fr=*)", e) is False
    assert evaluate("(CN;LANG-EN=english)", e) is True


def test_binary_values() -> None:
    sid = b"\x01\x05\x00\x00\x00\x00\x00\x05\x15\x00\x00\x00\xff"
    e = E(objectSid=sid, jpegPhoto=b"\xff\xd8\xff\xe0")
    assert evaluate("(objectSid=" + escape(sid) + ")", e) is True
    assert evaluate(Equality("objectSid", sid), e) is True
    assert evaluate("(objectSid=\\01\\05)", e) is False
    assert evaluate("(jpegPhoto=\\ff\\d8*)", e) is True
    assert evaluate("(cn=\\ff)", E(cn="x")) is None  # bytes not valid for caseIgnoreMatch
    assert evaluate("(cn=a\\2ab)", E(cn="a*b")) is True
    assert evaluate("(cn=a\\2ab)", E(cn="axb")) is False


def test_absent_attribute_is_false_not_undefined() -> None:
    assert evaluate("(mail=x)", E(cn="a")) is False
    assert evaluate("(!(mail=x))", E(cn="a")) is True
    assert evaluate("(uidNumber>=5)", E(cn="a")) is False


def test_values_invalid_for_the_syntax_make_undefined_unless_a_match() -> None:
    assert evaluate("(uidNumber=5)", E(uidNumber=["five"])) is None
    assert evaluate("(uidNumber=5)", E(uidNumber=["five", "5"])) is True


# -- trace ------------------------------------------------------------------------------------
def test_trace_tree_and_dict() -> None:
    t = trace("(&(objectClass=person)(!(cn=ali*))(foo=bar))", ALICE)
    assert t.result is False
    text = str(t)
    assert text.splitlines()[0].startswith("✗ (&(objectClass=person)")
    assert "  ✓ (objectClass=person)" in text
    assert "  ✗ (!(cn=ali*))" in text
    assert "    ✓ (cn=ali*)  — cn value 'alice' matches 'ali*'" in text
    assert "✗ (foo=bar)  — the entry has no foo value" in text
    d = t.to_dict()
    assert d["kind"] == "And" and d["result"] is False
    inner = d["children"][1]["children"][0]
    assert inner["matched"] == "alice" and inner["values"] == ["alice", "zed"]
    u = trace("(!(uidNumber=abc))", ALICE)
    assert str(u).startswith("? (!(uidNumber=abc))")
    assert "not a valid value for integerMatch" in str(u)


def test_trace_masks_secrets() -> None:
    e = E(userPassword="s3cret")
    t = trace("(|(userPassword=s3cret)(userPassword=*))", e)
    assert "s3cret" not in str(t)
    assert "s3cret" not in repr(t.to_dict())
    assert t.result is True


def test_trace_and_reason_texts() -> None:
    assert trace("(cn=zz*)", ALICE).reason == (
        "cn has no value that matches 'zz*' (caseIgnoreSubstringsMatch)")
    assert "unknown matching rule" in trace("(cn:fooMatch:=x)", ALICE).reason
    assert "always true" in trace("(&)", ALICE).reason


# -- compile agrees with evaluate -------------------------------------------------------------
ATTRS = ["cn", "sn", "uidNumber", "member", "createTimestamp", "mail", "foo", "cn;lang-en"]
VALS = ["a", "A", "ab", "b a", "10", "9", "-3", "x", "cn=a,dc=x", "CN=A, DC=X", "bad dn=",
        "20240101120000Z", "20240101130000+0100", "", "a*b", b"\xff"]
KNOWN = SimpleContext(known=[a for a in ATTRS if a != "foo"])

small_value = st.sampled_from(VALS)
small_piece = st.sampled_from(["a", "b", "1", "0", "A", "x"])
small_attr = st.sampled_from(ATTRS)
small_leaf = st.one_of(
    st.builds(Equality, small_attr, small_value),
    st.builds(GreaterOrEqual, small_attr, small_value),
    st.builds(LessOrEqual, small_attr, small_value),
    st.builds(Approx, small_attr, small_value),
    st.builds(Present, small_attr),
    st.builds(Substrings, small_attr, small_piece, st.lists(small_piece, max_size=2).map(tuple),
              st.none() | small_piece),
    st.builds(Extensible, small_attr,
              st.sampled_from([None, "caseExactMatch", "integerMatch", "noSuchMatch",
                               "1.2.840.113556.1.4.803", "1.2.840.113556.1.4.804"]),
              small_value, st.booleans()),
)
small_filter = st.recursive(
    small_leaf,
    lambda kids: st.one_of(st.lists(kids, max_size=3).map(lambda c: And(tuple(c))),
                           st.lists(kids, max_size=3).map(lambda c: Or(tuple(c))),
                           kids.map(Not)),
    max_leaves=8,
)
small_entry = st.builds(
    lambda attrs: Entry("cn=a,ou=x,dc=x", attrs),
    st.dictionaries(small_attr, st.lists(small_value, min_size=1, max_size=3), max_size=5),
)


@settings(max_examples=1200, deadline=None)
@given(small_filter, small_entry, st.booleans())
def test_compile_agrees_with_evaluate(f, entry: Entry, with_schema: bool) -> None:
    ctx = KNOWN if with_schema else None
    expected = evaluate(f, entry, ctx)
    assert compile(f, ctx)(entry) is expected
    assert trace(f, entry, ctx).result is expected
    # NOT really is the negation, and Undefined is preserved
    negated = evaluate(Not(f), entry, ctx)
    assert negated is (None if expected is None else not expected)
