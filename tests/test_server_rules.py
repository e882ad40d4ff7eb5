"""Server rules the embedded directory must keep (issue 10 section 4): each write a real
slapd refuses is refused by the embedded directory with the same LDAP result, and leaves it
unchanged.  Checked against a real slapd loaded with the same fixture (the expected results
below are what slapd 2.5 answers; the differential test asks it again)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import ldap3
import ldap3.core.exceptions
import pytest

from ldapnb import Directory
from ldapnb.directory import fixture_path
from ldapnb.errors import LdapnbError

B = "dc=example,dc=com"
P = ["inetOrgPerson"]
ALICE = f"uid=alice,ou=People,{B}"


def _person(uid: str, **extra: Any) -> dict[str, Any]:
    return {"cn": "N", "sn": "N", "uid": uid, **extra}


#: name -> (what the embedded directory is asked, what slapd is asked, slapd's result)
CASES: dict[str, tuple[Callable[[Directory], Any], Callable[[ldap3.Connection], Any], str]] = {
    "a new naming context": (
        lambda d: d.add("cn=rogue", {"objectClass": "person", "cn": "rogue", "sn": "r"}),
        lambda c: c.add("cn=rogue", ["person"], {"cn": "rogue", "sn": "r"}),
        "unwillingToPerform"),
    "the rootDSE": (
        lambda d: d.add("", {"objectClass": "organization", "o": "x"}),
        lambda c: c.add("", ["organization"], {"o": "x"}),
        "entryAlreadyExists"),
    "an empty RDN value": (
        lambda d: d.rename(ALICE, "uid="),
        lambda c: c.modify_dn(ALICE, "uid="),
        "invalidDNSyntax"),
    "two structural classes": (
        lambda d: d.add(f"uid=n1,ou=People,{B}", {
            "objectClass": ["inetOrgPerson", "organizationalUnit"], **_person("n1"), "ou": "x"}),
        lambda c: c.add(f"uid=n1,ou=People,{B}", ["inetOrgPerson", "organizationalUnit"],
                        {**_person("n1"), "ou": "x"}),
        "objectClassViolation"),
    "a non-IA5 mail": (
        lambda d: d.add(f"uid=n2,ou=People,{B}", {"objectClass": P,
                                                  **_person("n2", mail="\u00e9@x.org")}),
        lambda c: c.add(f"uid=n2,ou=People,{B}", P, _person("n2", mail="\u00e9@x.org")),
        "invalidAttributeSyntax"),
    "an empty directoryString": (
        lambda d: d.add(f"uid=n3,ou=People,{B}", {"objectClass": P,
                                                  **_person("n3", description="")}),
        lambda c: c.add(f"uid=n3,ou=People,{B}", P, _person("n3", description="")),
        "invalidAttributeSyntax"),
    "entryUUID given on add": (
        lambda d: d.add(f"uid=n4,ou=People,{B}", {"objectClass": P, **_person(
            "n4", entryUUID="12345678-1234-1234-1234-123456789012")}),
        lambda c: c.add(f"uid=n4,ou=People,{B}", P, _person(
            "n4", entryUUID="12345678-1234-1234-1234-123456789012")),
        "constraintViolation"),
    "createTimestamp given on add": (
        lambda d: d.add(f"uid=n5,ou=People,{B}", {"objectClass": P, **_person(
            "n5", createTimestamp="20200101000000Z")}),
        lambda c: c.add(f"uid=n5,ou=People,{B}", P, _person(
            "n5", createTimestamp="20200101000000Z")),
        "constraintViolation"),
    "an INTEGER with an option": (
        lambda d: d.add(f"uid=n6,ou=People,{B}", {
            "objectClass": ["inetOrgPerson", "posixAccount"], **_person("n6"),
            "uidNumber;binary": "1", "gidNumber": "1", "homeDirectory": "/h"}),
        lambda c: c.add(f"uid=n6,ou=People,{B}", ["inetOrgPerson", "posixAccount"], {
            **_person("n6"), "uidNumber;binary": "1", "gidNumber": "1", "homeDirectory": "/h"}),
        "undefinedAttributeType"),
    "a non-IA5 mail by modify": (
        lambda d: d.modify(ALICE, [("replace", "mail", "\u00e9@x")]),
        lambda c: c.modify(ALICE, {"mail": [(ldap3.MODIFY_REPLACE, ["\u00e9@x"])]}),
        "invalidAttributeSyntax"),
    "an empty directoryString by modify": (
        lambda d: d.modify(ALICE, [("replace", "description", "")]),
        lambda c: c.modify(ALICE, {"description": [(ldap3.MODIFY_REPLACE, [""])]}),
        "invalidAttributeSyntax"),
    "a DN that exists": (
        lambda d: d.add(ALICE, {"objectClass": P, **_person("alice")}),
        lambda c: c.add(ALICE, P, _person("alice")),
        "entryAlreadyExists"),
    "a missing parent": (
        lambda d: d.add(f"uid=zz,ou=Nope,{B}", {"objectClass": P, **_person("zz")}),
        lambda c: c.add(f"uid=zz,ou=Nope,{B}", P, _person("zz")),
        "noSuchObject"),
    "an empty RDN value on add": (
        lambda d: d.add(f"uid=,ou=People,{B}", {"objectClass": P, **_person("")}),
        lambda c: c.add(f"uid=,ou=People,{B}", P, _person("")),
        "invalidDNSyntax"),
    "an attribute without values": (
        lambda d: d.add(f"uid=q,ou=People,{B}", {"objectClass": P,
                                                 **_person("q", description=[])}),
        lambda c: c.add(f"uid=q,ou=People,{B}", P, _person("q", description=[])),
        "protocolError"),
    "modify/add without values": (
        lambda d: d.modify(ALICE, [("add", "description", [])]),
        lambda c: c.modify(ALICE, {"description": [(ldap3.MODIFY_ADD, [])]}),
        "protocolError"),
    "a binary option on a text type": (
        lambda d: d.add(f"uid=q3,ou=People,{B}", {"objectClass": P, **_person(
            "q3"), "userPassword;binary": "x"}),
        lambda c: c.add(f"uid=q3,ou=People,{B}", P, {**_person("q3"),
                                                     "userPassword;binary": "x"}),
        "undefinedAttributeType"),
    "entryUUID by modify": (
        lambda d: d.modify(ALICE, [("replace", "entryUUID",
                                    "12345678-1234-1234-1234-123456789012")]),
        lambda c: c.modify(ALICE, {"entryUUID": [
            (ldap3.MODIFY_REPLACE, ["12345678-1234-1234-1234-123456789012"])]}),
        "constraintViolation"),
    "a value that exists": (
        lambda d: d.modify(ALICE, [("add", "uid", "alice")]),
        lambda c: c.modify(ALICE, {"uid": [(ldap3.MODIFY_ADD, ["alice"])]}),
        "attributeOrValueExists"),
}


def _result_of(exc: LdapnbError) -> str:
    result = getattr(exc, "result", None)
    if result:
        return str(result)
    return {"EntryAlreadyExists": "entryAlreadyExists", "NoSuchEntry": "noSuchObject",
            "ObjectClassViolation": "objectClassViolation",
            "NotAllowedOnNonLeaf": "notAllowedOnNonLeaf"}.get(type(exc).__name__,
                                                              type(exc).__name__)


def _state(d: Directory) -> tuple:
    return (d.naming_contexts, d.base, sorted(
        (e.dn, sorted((k, repr(v)) for k, v in e.items()))
        for e in d.entries(attributes=["*", "+"])))


@pytest.mark.parametrize("case", list(CASES))
def test_embedded_refuses_like_slapd(case: str) -> None:
    ours, _, expected = CASES[case]
    d = Directory.embedded("tiny")
    before = _state(d)
    with pytest.raises(LdapnbError) as info:
        ours(d)
    assert _result_of(info.value) == expected, str(info.value)
    assert _state(d) == before


@pytest.mark.parametrize("case", list(CASES))
def test_embedded_connection_answers_like_slapd(case: str) -> None:
    """The same write through an ldap3 Connection on the embedded directory."""
    _, theirs, expected = CASES[case]
    d = Directory.embedded("tiny")
    before = _state(d)
    conn = d.connection()
    try:
        done = theirs(conn)
    except ldap3.core.exceptions.LDAPInvalidDnError:
        pass  # ldap3 refuses this DN itself, before sending (it does so to slapd too)
    else:
        assert done is False
        assert conn.result["description"] == expected, conn.result
    assert _state(d) == before


@pytest.mark.slapd
def test_slapd_still_answers_as_recorded(slapd_factory: Callable[..., Any]) -> None:
    """The expected results above are slapd's: ask a private slapd (every case is refused,
    so the shared server is not changed)."""
    server = slapd_factory(fixture_path("tiny"))
    conn = ldap3.Connection(ldap3.Server(server.urls["ldap"], get_info=ldap3.NONE),
                            server.rootdn, server.rootpw, auto_bind=True, check_names=False)
    try:
        got = {}
        for name, (_, theirs, _) in CASES.items():
            theirs(conn)
            got[name] = conn.result["description"]
    finally:
        conn.unbind()
    assert got == {name: expected for name, (_, _, expected) in CASES.items()}


def test_misspelled_attribute_in_attributes_warns() -> None:
    d = Directory.embedded("tiny")
    with pytest.warns(UserWarning, match="mial"):
        d.search("(uid=alice)", attributes=["cn", "mial"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d.search("(uid=alice)", attributes=["cn", "mail", "+", "1.1"])


# -- loading: ldapadd -c when lenient, a clear stop when strict --------------------------------
_EXPORT = """dn: dc=x
objectClass: domain
dc: x

dn: cn=a,dc=x
objectClass: person
cn: a
sn: a

dn: cn=a,dc=x
objectClass: person
cn: a
sn: again

dn: cn=b,ou=missing,dc=x
objectClass: person
cn: b
sn: b

dn: cn=c,dc=x
objectClass: person
cn: c
sn: c
"""


def test_lenient_load_skips_what_a_server_refuses_and_loads_the_rest(tmp_path) -> None:
    from ldapnb.errors import SchemaWarning

    path = tmp_path / "export.ldif"
    path.write_text(_EXPORT, encoding="utf-8")
    with pytest.warns(SchemaWarning, match="2 records skipped") as seen:
        d = Directory.from_ldif(path)
    assert len(seen) == 1
    assert sorted(e.dn for e in d.entries()) == ["cn=a,dc=x", "cn=c,dc=x", "dc=x"]
    assert d.get("cn=a,dc=x")["sn"] == ["a"]  # the first one stays, as in ldapadd -c
    lines = {(line, dn) for line, dn, _ in d.skipped}
    assert lines == {(10, "cn=a,dc=x"), (15, "cn=b,ou=missing,dc=x")}
    reasons = " ".join(r for _, _, r in d.skipped)
    assert "already exists" in reasons and "does not exist" in reasons


def test_strict_load_raises_naming_the_line(tmp_path) -> None:
    from ldapnb.errors import LdifError

    path = tmp_path / "export.ldif"
    path.write_text(_EXPORT, encoding="utf-8")
    with pytest.raises(LdifError) as info:
        Directory.from_ldif(path, strict=True)
    assert info.value.line == 10


def test_apply_ldif_says_how_many_records_were_applied_before_the_bad_one(tmp_path) -> None:
    from ldapnb.errors import LdifError

    d = Directory.embedded("tiny")
    d.source.lenient = False
    path = tmp_path / "changes.ldif"
    path.write_text(f"dn: {ALICE}\nchangetype: modify\nreplace: title\ntitle: One\n-\n\n"
                    f"dn: uid=bob,ou=People,{B}\nchangetype: modify\nreplace: title\n"
                    "title: Two\n-\n\n"
                    f"dn: uid=nobody,ou=People,{B}\nchangetype: delete\n", encoding="utf-8")
    with pytest.raises(LdifError) as info:
        d.apply_ldif(path)
    assert info.value.line == 13
    assert "2 earlier records of this load were applied" in str(info.value)
    assert d.get(ALICE)["title"] == ["One"]


# -- argument mistakes and deep structures: typed errors, never a crash --------------------------
@pytest.mark.parametrize("call", [
    lambda d: __import__("ldapnb").dn.parse(None),
    lambda d: Directory.from_ldif("missing.ldif"),
    lambda d: d.search(scope="children"),
    lambda d: d.search(size_limit=-1),
    lambda d: list(d.entries(size_limit=1.5)),
    lambda d: d.search(attributes=[1]),
    lambda d: d.add(f"uid=n,ou=People,{B}", {"objectClass": P, **_person("n"), "title": None}),
    lambda d: d.add(f"uid=n,ou=People,{B}", {"objectClass": P, **_person("n"), "title": 1.5}),
    lambda d: d.modify(ALICE, [("replace", "title", None, "extra")]),
    lambda d: d.modify(ALICE, "title"),
    lambda d: d.connection(-1, "pw"),
    lambda d: d.connection().search(B, "(&" * 400 + "(cn=x)" + ")" * 400),
    lambda d: d.search("(&" * 400 + "(cn=x)" + ")" * 400),
    lambda d: Directory.from_entries([1]),
], ids=["dn-None", "missing-file", "scope", "size-limit", "size-float", "attributes-int",
        "value-None", "value-float", "change-shape", "changes-str", "user-int",
        "deep-filter-ldap3", "deep-filter", "entries-int"])
def test_argument_mistakes_are_typed(call: Callable[[Directory], Any]) -> None:
    d = Directory.embedded("tiny")
    with pytest.raises(LdapnbError) as info:
        call(d)
    assert not isinstance(info.value, RecursionError)


def test_a_missing_file_is_also_a_file_not_found_error() -> None:
    with pytest.raises(FileNotFoundError) as info:
        Directory.from_ldif("missing.ldif")
    assert isinstance(info.value, LdapnbError) and "missing.ldif" in str(info.value)
