"""Matching rules (ldapnb.matching): RFC 4517 rules, RFC 4518 preparation, AD's rules."""

from __future__ import annotations

import pytest

from ldapnb import matching
from ldapnb.matching import RULES, prepare, rule


def r(name: str) -> matching.MatchingRule:
    found = rule(name)
    assert found is not None, name
    return found


# -- the table ----------------------------------------------------------------------------------
REQUIRED = {
    "caseIgnoreMatch": "2.5.13.2", "caseIgnoreOrderingMatch": "2.5.13.3",
    "caseIgnoreSubstringsMatch": "2.5.13.4", "caseExactMatch": "2.5.13.5",
    "caseExactOrderingMatch": "2.5.13.6", "caseExactSubstringsMatch": "2.5.13.7",
    "caseIgnoreIA5Match": "1.3.6.1.4.1.1466.109.114.2",
    "caseIgnoreIA5SubstringsMatch": "1.3.6.1.4.1.1466.109.114.3",
    "caseExactIA5Match": "1.3.6.1.4.1.1466.109.114.1",
    "integerMatch": "2.5.13.14", "integerOrderingMatch": "2.5.13.15",
    "numericStringMatch": "2.5.13.8", "numericStringOrderingMatch": "2.5.13.9",
    "numericStringSubstringsMatch": "2.5.13.10", "distinguishedNameMatch": "2.5.13.1",
    "uniqueMemberMatch": "2.5.13.23", "generalizedTimeMatch": "2.5.13.27",
    "generalizedTimeOrderingMatch": "2.5.13.28", "telephoneNumberMatch": "2.5.13.20",
    "telephoneNumberSubstringsMatch": "2.5.13.21", "octetStringMatch": "2.5.13.17",
    "octetStringOrderingMatch": "2.5.13.18", "octetStringSubstringsMatch": "2.5.13.19",
    "booleanMatch": "2.5.13.13", "objectIdentifierMatch": "2.5.13.0",
    "objectIdentifierFirstComponentMatch": "2.5.13.30", "bitStringMatch": "2.5.13.16",
    "UUIDMatch": "1.3.6.1.1.16.2", "caseIgnoreListMatch": "2.5.13.11",
    "integerFirstComponentMatch": "2.5.13.29",
    "integerBitAndMatch": "1.2.840.113556.1.4.803",
    "integerBitOrMatch": "1.2.840.113556.1.4.804",
    "inChainMatch": "1.2.840.113556.1.4.1941",
}


@pytest.mark.parametrize("name,oid", sorted(REQUIRED.items()))
def test_rule_by_name_and_oid(name: str, oid: str) -> None:
    assert r(name).oid == oid
    assert rule(oid) is r(name)
    assert rule(name.upper()) is r(name)
    assert RULES[name.lower()] is r(name)


def test_kinds_and_unknown() -> None:
    assert r("caseIgnoreOrderingMatch").kind == "ordering"
    assert r("caseIgnoreSubstringsMatch").kind == "substr"
    assert r("integerMatch").kind == "equality"
    assert r("1.2.840.113556.1.4.803").kind == "extensible"
    assert rule("LDAP_MATCHING_RULE_IN_CHAIN") is r("inChainMatch")
    assert rule("noSuchMatch") is None
    assert rule("9.9.9") is None


# -- RFC 4518 preparation -------------------------------------------------------------------
def test_prepare_spaces_case_and_nfkc() -> None:
    assert prepare("  Barbara   Jensen  ", fold=True) == "barbara jensen"
    assert prepare("Barbara\tJensen", fold=False) == "Barbara Jensen"
    assert prepare("ＡＢＣ", fold=False) == "ABC"  # NFKC: full-width letters
    assert prepare("Stra\u00dfe", fold=True) == "strasse"  # case folding, not lower()
    assert prepare("co\u00adop", fold=True) == "coop"  # soft hyphen mapped to nothing
    assert prepare("a\u200bb", fold=True) == "ab"  # zero-width space mapped to nothing
    assert prepare("a\u00a0b", fold=True) == "a b"  # no-break space is a space
    assert prepare("e\u0301", fold=True) == prepare("\u00e9", fold=True)  # composed
    assert prepare("\ue000", fold=True) is None  # private use: prohibited
    assert prepare(b"\xff", fold=True) is None  # not UTF-8
    assert prepare("  ", fold=True) == ""
    assert prepare(" a ", fold=True, spaces="keep-both") == " a "
    assert prepare("  a  b ", fold=True, spaces="keep-trailing") == "a b "


# -- string rules ---------------------------------------------------------------------------
def test_case_ignore_and_exact() -> None:
    ci, ce = r("caseIgnoreMatch"), r("caseExactMatch")
    assert ci.match("Barbara  Jensen", " barbara jensen") is True
    assert ci.match("Barbara Jensen", "Barbara Jenson") is False
    assert ce.match("Jensen", "jensen") is False
    assert ce.match(" Jensen ", "Jensen") is True
    assert ci.match(b"Caf\xc3\xa9", "CAFÉ") is True  # UTF-8 bytes are text
    assert ci.match(b"\xff\xfe", "x") is None  # not text: Undefined


def test_ordering_rules() -> None:
    cio = r("caseIgnoreOrderingMatch")
    assert cio.normalize("apple") < cio.normalize("Banana")
    assert r("caseExactOrderingMatch").normalize("Banana") < r(
        "caseExactOrderingMatch").normalize("apple")  # code point order: 'B' < 'a'
    io = r("integerOrderingMatch")
    assert io.normalize("9") < io.normalize("10")  # numbers, not strings
    assert io.normalize("-5") < io.normalize("3")
    assert io.match("9", "10") is True  # an ordering rule is "value < assertion"
    nso = r("numericStringOrderingMatch")
    assert nso.normalize("1 23") == "123"


def test_substrings_anchoring() -> None:
    s = r("caseIgnoreSubstringsMatch")
    assert s.match_substrings("Miller", None, (), "er") is True
    assert s.match_substrings("Sanders", None, (), "er") is False  # final is anchored
    assert s.match_substrings("Sanders", "san", (), None) is True
    assert s.match_substrings("Asanders", "san", (), None) is False  # initial is anchored
    assert s.match_substrings("abcabc", "abc", (), "abc") is True
    assert s.match_substrings("abc", "ab", (), "bc") is False  # initial and final overlap
    assert s.match_substrings("a-b-c", None, ("b", "c"), None) is True
    assert s.match_substrings("a-c-b", None, ("b", "c"), None) is False  # any in order
    assert s.match_substrings("aXa", None, ("a", "a"), None) is True
    assert s.match_substrings("aXb", None, ("a", "a"), None) is False  # no overlap
    assert s.match_substrings("Barbara  Jensen", "barbara j", (), None) is True
    assert r("caseExactSubstringsMatch").match_substrings("Jensen", "j", (), None) is False


def test_ia5_rules() -> None:
    assert r("caseIgnoreIA5Match").match("Alice@Example.ORG", "alice@example.org") is True
    assert r("caseExactIA5Match").match("Alice", "alice") is False
    assert r("caseIgnoreIA5Match").match("café", "café") is None  # not IA5
    assert r("caseIgnoreIA5SubstringsMatch").match_substrings(
        "alice@example.org", None, (), "@EXAMPLE.ORG") is True


def test_numeric_string() -> None:
    ns = r("numericStringMatch")
    assert ns.match("123 456", "123456") is True
    assert ns.match("12a", "12") is None
    assert r("numericStringSubstringsMatch").match_substrings("123 456", "12", (), "56") is True


def test_integer() -> None:
    im = r("integerMatch")
    assert im.match("1000", "1000") is True
    # RFC 4517 3.3.16 (and slapd): a leading zero makes the assertion invalid -> Undefined
    assert im.match("-42", "-042") is None
    assert im.match("1000", "1e3") is None
    assert im.normalize(" 5") is None


def test_telephone_number() -> None:
    t = r("telephoneNumberMatch")
    assert t.match("+1 408 555-1212", "+14085551212") is True
    assert t.match("+1 408 555 1212", "+1 408 555 1213") is False
    assert r("telephoneNumberSubstringsMatch").match_substrings(
        "+1 408 555-1212", None, ("5551",), None) is True


def test_octet_string() -> None:
    o = r("octetStringMatch")
    assert o.match(b"\x01\x02", b"\x01\x02") is True
    assert o.match("abc", b"abc") is True  # text compared as its UTF-8 bytes
    assert o.match("ABC", "abc") is False  # exact
    assert r("octetStringOrderingMatch").normalize(b"\x01") < r(
        "octetStringOrderingMatch").normalize(b"\x02")
    assert r("octetStringSubstringsMatch").match_substrings(
        b"\x00\x01\x02\x03", b"\x00", (b"\x02",), None) is True


def test_boolean_oid_bits_uuid() -> None:
    assert r("booleanMatch").match("TRUE", "TRUE") is True
    assert r("booleanMatch").match("TRUE", "FALSE") is False
    assert r("booleanMatch").match("TRUE", "yes") is None
    oid = r("objectIdentifierMatch")
    assert oid.match("2.5.4.3", "2.5.4.3") is True
    assert oid.match("inetOrgPerson", "INETORGPERSON") is True
    assert oid.match("2.5.4.3", "2.5.4.03") is None  # leading zero: not an OID
    assert r("bitStringMatch").match("'0101'B", "'0101'B") is True
    assert r("bitStringMatch").match("'0101'B", "'0100'B") is False
    assert r("bitStringMatch").match("'0102'B", "'0101'B") is None
    u = r("UUIDMatch")
    assert u.match("597AE2F6-16A6-1027-98F4-ABCDEFABCDEF",
                   "597ae2f6-16a6-1027-98f4-abcdefabcdef") is True
    assert u.match("not-a-uuid", "597ae2f6-16a6-1027-98f4-abcdefabcdef") is None


def test_first_component_rules() -> None:
    oid_first = r("objectIdentifierFirstComponentMatch")
    at = "( 2.5.4.3 NAME ( 'cn' 'commonName' ) SUP name )"
    assert oid_first.match(at, "2.5.4.3") is True
    assert oid_first.match(at, "2.5.4.4") is False
    int_first = r("integerFirstComponentMatch")
    assert int_first.match("( 5 NAME 'x' )", "5") is True
    assert int_first.match("( 5 NAME 'x' )", "6") is False


def test_case_ignore_list() -> None:
    cil = r("caseIgnoreListMatch")
    assert cil.match("1 Main St$Springfield", "1 MAIN  ST$springfield") is True
    assert cil.match("1 Main St$Springfield", "1 Main St") is False


def test_generalized_time() -> None:
    gt = r("generalizedTimeMatch")
    assert gt.match("20240101120000Z", "20240101130000+0100") is True
    assert gt.match("20240101120000Z", "20240101120000-0100") is False
    assert gt.match("202401011200Z", "20240101120000Z") is True  # seconds optional
    assert gt.match("2024010112Z", "20240101120000Z") is True
    assert gt.match("20240101120000.5Z", "20240101120000,500Z") is True  # fractions
    assert gt.match("2024010112.5Z", "20240101123000Z") is True  # fraction of an hour
    assert gt.match("20240230120000Z", "20240230120000Z") is None  # no 30 February
    assert gt.match("20240101120000", "20240101120000Z") is None  # zone required
    gto = r("generalizedTimeOrderingMatch")
    assert gto.normalize("20231231235959Z") < gto.normalize("20240101000000Z")
    assert gto.normalize("20240101000000+0100") < gto.normalize("20240101000000Z")


def test_distinguished_name_and_unique_member() -> None:
    dnm = r("distinguishedNameMatch")
    assert dnm.match("CN=Smith\\2C John, DC=Example,dc=org", "cn=smith\\, john,dc=example,dc=org")
    assert dnm.match("cn=a,dc=x", "cn=b,dc=x") is False
    assert dnm.match("cn=a,dc=x", "not a dn") is None
    um = r("uniqueMemberMatch")
    assert um.match("cn=a,dc=x#'0101'B", "CN=A, DC=X#'0101'B") is True
    assert um.match("cn=a,dc=x#'0101'B", "cn=a,dc=x") is False  # UID only on one side
    assert um.match("cn=a,dc=x", "cn=A,dc=X") is True


def test_ad_bitwise_rules() -> None:
    band, bor = r("1.2.840.113556.1.4.803"), r("1.2.840.113556.1.4.804")
    assert band.match("514", "2") is True  # ACCOUNTDISABLE set
    assert band.match("512", "2") is False
    assert band.match("66050", "65538") is True  # 0x10202 has both 0x10000 and 0x2
    assert band.match("66048", "65538") is False  # only 0x10000
    # groupType: AD stores signed 32-bit; the security-group bit is 0x80000000
    assert band.match("-2147483646", "2147483648") is True
    assert band.match("-2147483646", "-2147483648") is True
    assert band.match("2", "2147483648") is False
    assert bor.match("514", "3") is True
    assert bor.match("512", "3") is False
    assert band.match("abc", "2") is None
    assert band.match("2", "two") is None


def test_approx_keys() -> None:
    from ldapnb.matching import approx_key, approx_match

    assert approx_match(approx_key("Barbara Jensen"), approx_key("barbra jenson"))
    assert approx_match(approx_key("Barbara Jensen"), approx_key("B Jensen"))  # initial
    assert approx_match(approx_key("José Müller"), approx_key("jose muller"))  # accents
    assert not approx_match(approx_key("Barbara Jensen"), approx_key("Robert Jensen"))
    assert not approx_match(approx_key("Barbara Jensen"), approx_key(""))


def test_extensible_application_of_equality_and_substring_rules() -> None:
    assert r("caseExactMatch").matcher("Jensen")("Jensen") is True  # type: ignore[misc]
    sub = r("caseIgnoreSubstringsMatch").matcher("bar*jen*")
    assert sub is not None and sub("Barbara Jensen") is True
    assert r("caseIgnoreSubstringsMatch").matcher("no star") is None
    assert r("integerMatch").matcher("x") is None
