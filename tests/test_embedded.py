"""The embedded directory behaves like an LDAP server: through Directory and through ldap3.

Scopes, size limits, paged results, the rootDSE and subschema, computed memberOf, binds
(anonymous, simple cleartext and hashed, refused ones, SASL), writes with a server's rules
(parent, duplicates, schema, non-leaf, refint on delete and rename, subtree moves), compare,
read-only connections, and errors that are ldapnb's and name the DN.  A few tests run the
same operation through ldap3's MOCK_SYNC to show the wrong answer ldapnb exists to avoid.
"""

from __future__ import annotations

import gc

import ldap3
import pytest
from ldap3.core.results import (
    RESULT_ATTRIBUTE_OR_VALUE_EXISTS,
    RESULT_AUTH_METHOD_NOT_SUPPORTED,
    RESULT_COMPARE_FALSE,
    RESULT_COMPARE_TRUE,
    RESULT_CONSTRAINT_VIOLATION,
    RESULT_ENTRY_ALREADY_EXISTS,
    RESULT_INVALID_CREDENTIALS,
    RESULT_NO_SUCH_ATTRIBUTE,
    RESULT_NO_SUCH_OBJECT,
    RESULT_NOT_ALLOWED_ON_NON_LEAF,
    RESULT_OBJECT_CLASS_VIOLATION,
    RESULT_SIZE_LIMIT_EXCEEDED,
    RESULT_SUCCESS,
    RESULT_UNDEFINED_ATTRIBUTE_TYPE,
    RESULT_UNWILLING_TO_PERFORM,
)

from ldapnb import Directory
from ldapnb import dn as dnlib
from ldapnb.entry import Entry
from ldapnb.errors import (
    BindError,
    EntryAlreadyExists,
    FilterError,
    LdapnbError,
    LdifError,
    LimitExceeded,
    NoSuchEntry,
    NotAllowedOnNonLeaf,
    ObjectClassViolation,
    OperationError,
    SchemaError,
)
from ldapnb.ldif import Record
from ldapnb.passwords import hash_password
from ldapnb.sources._ldap3 import embedded_connection
from ldapnb.sources.embedded import BULK_LOAD

T = "dc=example,dc=com"
TP, TG = f"ou=People,{T}", f"ou=Groups,{T}"
ALICE, BOB, CAROL, DAVE, ERIN, FRANK = (f"uid={u},{TP}" for u in
                                        ("alice", "bob", "carol", "dave", "erin", "frank"))
ADMINS, DEVELOPERS = f"cn=admins,{TG}", f"cn=developers,{TG}"
PEOPLE = [ALICE, BOB, CAROL, DAVE, ERIN, FRANK]


@pytest.fixture
def tiny() -> Directory:
    """A fresh copy each test: tests here write."""
    return Directory.embedded("tiny")


def _n(dns) -> set[str]:
    return {dnlib.normalize(d) for d in dns}


def _person(uid: str, password: str | None = None, **extra) -> dict:
    attrs = {"objectClass": ["inetOrgPerson"], "uid": uid, "cn": uid.title(), "sn": uid}
    if password is not None:
        attrs["userPassword"] = password
    attrs.update(extra)
    return attrs


# -- scopes ---------------------------------------------------------------------------------------
def test_scopes(tiny: Directory) -> None:
    dns = lambda base, scope: _n(e.dn for e in tiny.entries(base=base, scope=scope))  # noqa: E731
    assert dns(TP, "base") == _n([TP])
    assert dns(TP, "one") == _n(PEOPLE)
    assert dns(TP, "sub") == _n([TP, *PEOPLE])
    assert dns(T, "one") == _n([TP, TG])
    assert dns(ALICE, "one") == set()
    assert len(dns(T, "sub")) == 11
    for numeric, name in ((0, "base"), (1, "one"), (2, "sub")):
        assert _n(e.dn for e in tiny.source.search(TP, numeric)) == dns(TP, name)


def test_missing_base_is_no_such_entry_naming_the_contexts(tiny: Directory) -> None:
    with pytest.raises(NoSuchEntry) as info:
        list(tiny.entries(base=f"ou=Nobody,{T}"))
    assert "ou=Nobody" in str(info.value) and T in str(info.value)
    assert dnlib.normalize(info.value.matched) == dnlib.normalize(T)
    conn = tiny.connection()
    assert not conn.search(f"ou=Nobody,{T}", "(objectClass=*)")
    assert conn.result["result"] == RESULT_NO_SUCH_OBJECT
    assert dnlib.normalize(conn.result["dn"]) == dnlib.normalize(T)  # matchedDN


# -- size limit -----------------------------------------------------------------------------------
def test_size_limit_raises_with_partial(tiny: Directory) -> None:
    with pytest.raises(LimitExceeded) as info:
        list(tiny.entries("(objectClass=person)", size_limit=4))
    exc = info.value
    assert exc.returned == 4 and exc.limit == 4 and exc.kind == "size"
    assert len(exc.partial) == 4 and _n(exc.partial) <= _n(PEOPLE)
    assert "incomplete" in str(exc)
    # exactly the limit is not exceeded
    assert len(list(tiny.entries("(objectClass=person)", size_limit=6))) == 6
    with pytest.raises(LimitExceeded):
        tiny.search("(objectClass=person)", size_limit=5)


def test_size_limit_through_ldap3(tiny: Directory) -> None:
    conn = tiny.connection()
    conn.search(T, "(objectClass=person)", size_limit=2, attributes=["uid"])
    assert conn.result["result"] == RESULT_SIZE_LIMIT_EXCEEDED
    assert len(conn.entries) == 2
    assert _n(e.entry_dn for e in conn.entries) <= _n(PEOPLE)
    assert conn.search(T, "(objectClass=person)", size_limit=6)
    assert conn.result["result"] == RESULT_SUCCESS and len(conn.entries) == 6


# -- paged results --------------------------------------------------------------------------------
@pytest.mark.parametrize("page_size", [1, 7, 1000])
def test_paged_search_returns_everything_once(contoso: Directory, page_size: int) -> None:
    conn = contoso.connection()
    pages = conn.extend.standard.paged_search(contoso.base, "(objectClass=user)",
                                              attributes=["sAMAccountName"],
                                              paged_size=page_size, generator=False)
    dns = [r["dn"] for r in pages if r["type"] == "searchResEntry"]
    expected = [e.dn for e in contoso.entries("(objectClass=user)", attributes=["1.1"])]
    assert len(expected) == 327 + 97  # README: 327 user accounts, 97 computer objects
    assert len(dns) == len(set(dns)) == len(expected)
    assert _n(dns) == _n(expected)


def test_paged_search_pages_have_the_asked_size(tiny: Directory) -> None:
    conn = tiny.connection()
    sizes = []
    cookie = None
    while True:
        conn.search(T, "(objectClass=*)", paged_size=3, paged_cookie=cookie)
        sizes.append(len(conn.entries))
        cookie = conn.result["controls"]["1.2.840.113556.1.4.319"]["value"]["cookie"]
        if not cookie:
            break
    assert sizes == [3, 3, 3, 2]


# -- rootDSE and subschema ------------------------------------------------------------------------
def test_root_dse(tiny: Directory) -> None:
    dse = tiny.root_dse
    assert dse.dn == ""
    assert list(dse["namingContexts"]) == [T]
    assert "1.2.840.113556.1.4.319" in dse["supportedControl"]
    assert "1.3.6.1.4.1.4203.1.11.3" in dse["supportedExtension"]  # Who am I?
    assert list(dse["supportedSASLMechanisms"]) == ["PLAIN"]
    assert "3" in dse["supportedLDAPVersion"]
    assert dse["subschemaSubentry"] == ["cn=Subschema"]
    # the rootDSE is searched with base scope on ""
    got = list(tiny.entries(base="", scope="base", attributes=["namingContexts"]))
    assert len(got) == 1 and list(got[0]["namingContexts"]) == [T]
    assert tiny.get("")["namingContexts"] == [T]


def test_root_dse_through_ldap3(tiny: Directory) -> None:
    info = tiny.connection().server.info
    assert info.naming_contexts == [T]
    assert "1.2.840.113556.1.4.319" in [c[0] for c in info.supported_controls]
    assert "1.3.6.1.4.1.4203.1.11.3" in [x[0] for x in info.supported_extensions]
    assert info.supported_sasl_mechanisms == ["PLAIN"]
    conn = tiny.connection()
    assert conn.search("", "(objectClass=*)", ldap3.BASE, attributes=["namingContexts",
                                                                       "supportedControl"])
    assert conn.entries[0].namingContexts.values == [T]
    # a base search on "" does not become a subtree search of everything
    assert len(conn.entries) == 1


def test_subschema(tiny: Directory) -> None:
    sub = tiny.get("cn=Subschema")
    assert any("'inetOrgPerson'" in v for v in sub["objectClasses"])
    assert any("NAME 'uid'" in v or "'uid'" in v for v in sub["attributeTypes"])
    assert any("caseIgnoreMatch" in v for v in sub["matchingRules"])
    schema = tiny.connection().server.schema
    assert "inetOrgPerson" in schema.object_classes
    assert "person" in [s for s in schema.object_classes["inetOrgPerson"].superior] or \
        "organizationalPerson" in schema.object_classes["inetOrgPerson"].superior
    assert schema.attribute_types["distinguishedName"].syntax == "1.3.6.1.4.1.1466.115.121.1.12"
    assert schema.attribute_types["uid"].single_value is False
    assert tiny.schema.attribute_type("cn").name == "cn"


# -- memberOf -------------------------------------------------------------------------------------
def test_memberof_is_operational(tiny: Directory) -> None:
    assert "memberOf" not in tiny.get(ALICE)
    assert "memberOf" not in tiny.get(ALICE, ["*"])
    assert _n(tiny.get(ALICE, ["memberOf"])["memberOf"]) == _n([ADMINS])
    assert _n(tiny.get(ALICE, ["+"])["memberOf"]) == _n([ADMINS])
    both = tiny.get(ALICE, ["*", "+"])
    assert "uid" in both and "memberOf" in both and "entryUUID" in both
    assert _n(tiny.get(ADMINS, ["memberOf"])["memberOf"]) == _n([DEVELOPERS])
    assert "memberOf" not in tiny.get(ERIN, ["memberOf"])
    conn = tiny.connection()
    conn.search(ALICE, "(objectClass=*)", ldap3.BASE, attributes=["memberOf"])
    assert _n(conn.entries[0].memberOf.values) == _n([ADMINS])
    conn.search(ALICE, "(objectClass=*)", ldap3.BASE, attributes=["*"])
    assert "memberOf" not in conn.entries[0].entry_attributes


def test_plus_alone_returns_only_operational_attributes(tiny: Directory) -> None:
    """RFC 3673: "+" lists the operational attributes; user attributes only with "*" too."""
    plus = tiny.get(ALICE, ["+"])
    assert "memberOf" in plus and "entryUUID" in plus
    assert "uid" not in plus and "objectClass" not in plus
    conn = tiny.connection()
    conn.search(ALICE, "(objectClass=*)", ldap3.BASE, attributes=["+"])
    assert "uid" not in conn.entries[0].entry_attributes


def test_memberof_follows_writes(tiny: Directory) -> None:
    tiny.modify(ADMINS, [("add", "member", [ERIN])])
    assert _n(tiny.get(ERIN, ["memberOf"])["memberOf"]) == _n([ADMINS])
    assert _n(e.dn for e in tiny.entries(f"(memberOf={ADMINS})")) == _n([ALICE, BOB, ERIN])
    tiny.add(f"cn=auditors,{TG}", {"objectClass": "groupOfNames", "cn": "auditors",
                                    "member": [ERIN, FRANK]})
    assert _n(tiny.get(ERIN, ["memberOf"])["memberOf"]) == _n([ADMINS, f"cn=auditors,{TG}"])
    tiny.delete(f"cn=auditors,{TG}")
    assert _n(tiny.get(FRANK, ["memberOf"]).get("memberOf", [])) == set()
    new = tiny.rename(ADMINS, "cn=root-admins")
    assert _n(tiny.get(ALICE, ["memberOf"])["memberOf"]) == _n([new])
    assert _n(tiny.get(new, ["memberOf"])["memberOf"]) == _n([DEVELOPERS])  # refint in developers


# -- binds ----------------------------------------------------------------------------------------
def test_anonymous_bind(tiny: Directory) -> None:
    conn = tiny.connection()
    assert conn.bind() and conn.result["result"] == RESULT_SUCCESS
    assert conn.extend.standard.who_am_i() in (None, "")


def test_simple_bind_cleartext(tiny: Directory) -> None:
    conn = tiny.connection(ALICE, "alice-pw")
    assert conn.bound and conn.result["result"] == RESULT_SUCCESS
    assert tiny.bind(ALICE, "alice-pw")
    assert tiny.bind("UID=Alice,OU=People,DC=Example,DC=com", "alice-pw")  # any DN spelling


@pytest.mark.parametrize("scheme", ["{SSHA}", "{SHA}", "{CRYPT}", "{SSHA512}"])
def test_simple_bind_hashed(tiny: Directory, scheme: str) -> None:
    stored = hash_password("s3cret!", scheme)
    assert stored.upper().startswith(scheme)
    dn = f"uid=hashed,{TP}"
    tiny.add(dn, _person("hashed", stored))
    assert tiny.bind(dn, "s3cret!")
    assert not tiny.bind(dn, "s3cret")
    assert not tiny.bind(dn, stored)  # the hash itself is not the password
    conn = tiny.connection(dn, "s3cret!")
    assert conn.bound
    assert conn.extend.standard.who_am_i() == f"dn:{dn}"


def test_wrong_password_is_invalid_credentials(tiny: Directory) -> None:
    conn = tiny.connection(ALICE, "bob-pw")
    assert not conn.bound
    assert conn.result["result"] == RESULT_INVALID_CREDENTIALS
    assert conn.result["description"] == "invalidCredentials"
    # same answer for a DN that does not exist (a server does not say which was wrong)
    conn = tiny.connection(f"uid=nobody,{TP}", "x")
    assert conn.result["result"] == RESULT_INVALID_CREDENTIALS
    with pytest.raises(BindError) as info:
        tiny.source.bind(ALICE, "nope")
    assert "invalidCredentials" in str(info.value)
    assert "nope" not in str(info.value)
    with pytest.raises(ldap3.core.exceptions.LDAPInvalidCredentialsResult):
        tiny.connection(ALICE, "nope", raise_exceptions=True)


def test_dn_with_empty_password_is_refused(tiny: Directory) -> None:
    """An unauthenticated bind (RFC 4513 5.1.2) must never look like a login."""
    assert not tiny.bind(ALICE, "")
    with pytest.raises(BindError):
        tiny.source.bind(ALICE, "")
    # ldap3 itself refuses to send it (ldapnb says so as a BindError, no ldap3 traceback)...
    with pytest.raises(BindError, match="empty password"):
        embedded_connection(tiny.source, ALICE, "", authentication=ldap3.SIMPLE)
    # ...so hand the request to ldapnb's strategy as a server would receive it
    from ldap3.protocol.rfc4511 import (
        LDAPDN,
        AuthenticationChoice,
        BindRequest,
        Simple,
        Version,
    )

    request = BindRequest()
    request["version"] = Version(3)
    request["name"] = LDAPDN(ALICE)
    request["authentication"] = AuthenticationChoice().setComponentByName("simple", Simple(""))
    conn = tiny.connection()
    answer = conn.strategy.mock_bind(request, None)
    assert answer["resultCode"] == RESULT_UNWILLING_TO_PERFORM
    assert conn.strategy.bound is None


def test_sasl_digest_md5_is_refused_never_anonymous(tiny: Directory) -> None:
    conn = embedded_connection(tiny.source, authentication=ldap3.SASL,
                               sasl_mechanism=ldap3.DIGEST_MD5,
                               sasl_credentials=(None, "alice", "alice-pw", None))
    try:
        bound = conn.bind()
    except ldap3.core.exceptions.LDAPException:
        bound = False
    assert not bound and not conn.bound
    assert conn.result["result"] == RESULT_AUTH_METHOD_NOT_SUPPORTED
    with pytest.raises(BindError) as info:
        tiny.source.bind_sasl("DIGEST-MD5", None)
    assert "authMethodNotSupported" in str(info.value)


def test_sasl_plain(tiny: Directory) -> None:
    conn = embedded_connection(tiny.source, authentication=ldap3.SASL, sasl_mechanism="PLAIN",
                               sasl_credentials=(None, "alice", "alice-pw"))
    assert conn.bind() and conn.bound
    assert conn.extend.standard.who_am_i() == f"dn:{ALICE}"
    bad = embedded_connection(tiny.source, authentication=ldap3.SASL, sasl_mechanism="PLAIN",
                              sasl_credentials=(None, "alice", "wrong"))
    assert not bad.bind()
    assert bad.result["result"] == RESULT_INVALID_CREDENTIALS


def test_mock_sync_sasl_and_hashes(tiny: Directory) -> None:
    """MOCK_SYNC: a SASL bind succeeds (as nobody), and a hashed userPassword never binds."""
    mock = ldap3.Connection(ldap3.Server("mock"), user="cn=admin", password="pw",
                            client_strategy=ldap3.MOCK_SYNC)
    stored = hash_password("s3cret!", "{SSHA}")
    mock.strategy.add_entry(f"uid=hashed,{TP}", {"uid": "hashed", "userPassword": stored})
    sasl = ldap3.Connection(ldap3.Server("mock"), authentication=ldap3.SASL,
                            sasl_mechanism=ldap3.DIGEST_MD5,
                            sasl_credentials=(None, "x", "y", None),
                            client_strategy=ldap3.MOCK_SYNC)
    sasl.strategy.entries = mock.strategy.entries
    try:
        sasl_ok = sasl.bind()
    except ldap3.core.exceptions.LDAPException:
        sasl_ok = False
    hashed = ldap3.Connection(ldap3.Server("mock"), user=f"uid=hashed,{TP}",
                              password="s3cret!", client_strategy=ldap3.MOCK_SYNC)
    hashed.strategy.entries = mock.strategy.entries
    assert sasl_ok is True                 # MOCK_SYNC's wrong answer
    assert hashed.bind() is False          # MOCK_SYNC's wrong answer


# -- writes: add ----------------------------------------------------------------------------------
def test_add_without_parent(tiny: Directory) -> None:
    dn = f"uid=x,ou=Nowhere,{T}"
    with pytest.raises(NoSuchEntry) as info:
        tiny.add(dn, _person("x"))
    assert "uid=x,ou=Nowhere" in str(info.value)
    conn = tiny.connection()
    assert not conn.add(dn, attributes=_person("x"))
    assert conn.result["result"] == RESULT_NO_SUCH_OBJECT
    assert dn not in tiny


def test_add_outside_the_naming_context_is_refused(tiny: Directory) -> None:
    # slapd 2.5 answers unwillingToPerform, "no global superior knowledge" (no backend holds
    # the DN); below an existing naming context a missing parent is noSuchObject
    conn = tiny.connection()
    assert not conn.add("uid=x,dc=elsewhere,dc=org", attributes=_person("x"))
    assert conn.result["result"] == 53
    with pytest.raises(OperationError) as info:
        tiny.add("uid=x,dc=elsewhere,dc=org", _person("x"))
    assert info.value.result == "unwillingToPerform"
    assert not conn.add("uid=x,ou=nowhere,dc=example,dc=com", attributes=_person("x"))
    assert conn.result["result"] == RESULT_NO_SUCH_OBJECT
    with pytest.raises(NoSuchEntry):
        tiny.add("uid=x,ou=nowhere,dc=example,dc=com", _person("x"))


def test_add_duplicate(tiny: Directory) -> None:
    with pytest.raises(EntryAlreadyExists) as info:
        tiny.add("UID=alice,ou=people,dc=example,dc=com", _person("alice"))
    assert "alice" in str(info.value)
    conn = tiny.connection()
    assert not conn.add(ALICE, attributes=_person("alice"))
    assert conn.result["result"] == RESULT_ENTRY_ALREADY_EXISTS


def test_add_missing_must(tiny: Directory) -> None:
    dn = f"uid=nosn,{TP}"
    attrs = {"objectClass": ["inetOrgPerson"], "uid": "nosn", "cn": "No Sn"}
    with pytest.raises(ObjectClassViolation) as info:
        tiny.add(dn, attrs)
    assert "sn" in str(info.value) and "uid=nosn" in str(info.value)
    conn = tiny.connection()
    assert not conn.add(dn, attributes=attrs)
    assert conn.result["result"] == RESULT_OBJECT_CLASS_VIOLATION
    assert dn not in tiny


def test_mock_sync_accepts_missing_must_and_nonleaf_delete() -> None:
    mock = ldap3.Connection(ldap3.Server("mock"), user="cn=admin", password="pw",
                            client_strategy=ldap3.MOCK_SYNC)
    mock.strategy.add_entry(T, {"objectClass": ["domain"], "dc": "example"})
    mock.strategy.add_entry(TP, {"objectClass": ["organizationalUnit"], "ou": "People"})
    mock.bind()
    assert mock.add(f"uid=nosn,{TP}", "inetOrgPerson", {"uid": "nosn"})  # wrong: no cn, sn
    assert mock.delete(T)                                                 # wrong: non-leaf


def test_add_two_values_on_single_value(tiny: Directory) -> None:
    dn = f"uid=two,{TP}"
    attrs = _person("two", displayName=["One", "Two"])
    with pytest.raises(SchemaError) as info:
        tiny.add(dn, attrs)
    assert "displayName" in str(info.value) and "uid=two" in str(info.value)
    conn = tiny.connection()
    assert not conn.add(dn, attributes=attrs)
    assert conn.result["result"] in (RESULT_CONSTRAINT_VIOLATION, RESULT_OBJECT_CLASS_VIOLATION)


def test_add_unknown_attribute(tiny: Directory) -> None:
    dn = f"uid=odd,{TP}"
    attrs = _person("odd", favouriteColour="green")
    with pytest.raises(SchemaError) as info:
        tiny.add(dn, attrs)
    assert "favouriteColour" in str(info.value) and "uid=odd" in str(info.value)
    conn = embedded_connection(tiny.source, check_names=False)
    assert not conn.add(dn, attributes=attrs)
    assert conn.result["result"] == RESULT_UNDEFINED_ATTRIBUTE_TYPE


def test_add_attribute_not_allowed(tiny: Directory) -> None:
    attrs = {"objectClass": ["person"], "cn": "P", "sn": "P", "mail": "p@example.com"}
    with pytest.raises(ObjectClassViolation):
        tiny.add(f"cn=P,{TP}", attrs)


def test_add_bad_integer_syntax(contoso: Directory) -> None:
    dn = f"CN=Bad,OU=Corp,{contoso.base}"
    attrs = {"objectClass": ["top", "group", "extensibleObject"], "cn": "Bad",
             "sAMAccountName": "bad", "groupType": "lots", "instanceType": "4",
             "objectCategory": f"CN=Group,CN=Schema,CN=Configuration,{contoso.base}",
             "nTSecurityDescriptor": b"\x01\x00\x04\x80"}
    with pytest.raises(SchemaError) as info:
        contoso.add(dn, attrs)
    assert "groupType" in str(info.value) and "lots" in str(info.value)
    # ldap3 checks the value against the schema it read from the subschema entry, before
    # sending: the same as against a real server
    with pytest.raises(ldap3.core.exceptions.LDAPInvalidValueError):
        contoso.connection().add(dn, attributes=attrs)
    assert dn not in contoso


def test_add_rdn_value_must_be_in_entry(tiny: Directory) -> None:
    with pytest.raises(SchemaError):
        tiny.add(f"uid=zed,{TP}", _person("notzed"))


# -- writes: delete -------------------------------------------------------------------------------
def test_delete_non_leaf(tiny: Directory) -> None:
    with pytest.raises(NotAllowedOnNonLeaf) as info:
        tiny.delete(TP)
    assert "ou=People" in str(info.value) and info.value.children == 6
    conn = tiny.connection()
    assert not conn.delete(TP)
    assert conn.result["result"] == RESULT_NOT_ALLOWED_ON_NON_LEAF
    assert TP in tiny


def test_delete_missing(tiny: Directory) -> None:
    with pytest.raises(NoSuchEntry):
        tiny.delete(f"uid=nobody,{TP}")
    conn = tiny.connection()
    assert not conn.delete(f"uid=nobody,{TP}")
    assert conn.result["result"] == RESULT_NO_SUCH_OBJECT


def test_delete_member_removes_it_from_groups(tiny: Directory) -> None:
    conn = tiny.connection()
    assert conn.delete(ALICE)
    assert ALICE not in tiny
    assert _n(tiny.get(ADMINS)["member"]) == _n([BOB])
    assert list(tiny.entries(f"(member={ALICE})")) == []


def test_delete_last_member_keeps_group_valid(tiny: Directory) -> None:
    tiny.delete(ALICE)
    tiny.delete(BOB)
    members = tiny.get(ADMINS)["member"]
    assert [m for m in members if m] == []   # a placeholder value keeps the MUST satisfied


# -- writes: rename and move ----------------------------------------------------------------------
def test_rename_member_updates_groups(tiny: Directory) -> None:
    new = tiny.rename(ALICE, "uid=alicia")
    assert dnlib.equal(new, f"uid=alicia,{TP}")
    assert ALICE not in tiny and new in tiny
    assert tiny.get(new)["uid"] == ["alicia"]  # delete_old_rdn
    assert _n(tiny.get(ADMINS)["member"]) == _n([new, BOB])
    assert _n(tiny.get(new, ["memberOf"])["memberOf"]) == _n([ADMINS])


def test_rename_keep_old_rdn(tiny: Directory) -> None:
    new = tiny.rename(ERIN, "uid=erin2", delete_old_rdn=False)
    assert sorted(tiny.get(new)["uid"]) == ["erin", "erin2"]


def test_rename_through_ldap3(tiny: Directory) -> None:
    conn = tiny.connection()
    assert conn.modify_dn(CAROL, "uid=caroline")
    assert _n(tiny.get(DEVELOPERS)["member"]) == _n([f"uid=caroline,{TP}", DAVE, ADMINS])
    assert not conn.modify_dn(DAVE, "uid=bob")
    assert conn.result["result"] == RESULT_ENTRY_ALREADY_EXISTS


def test_move_subtree_children_follow(tiny: Directory) -> None:
    tiny.add(f"ou=Staff,{T}", {"objectClass": "organizationalUnit", "ou": "Staff"})
    new = tiny.rename(TP, "ou=People", new_superior=f"ou=Staff,{T}")
    assert dnlib.equal(new, f"ou=People,ou=Staff,{T}")
    kids = _n(e.dn for e in tiny.entries(base=new, scope="one"))
    assert kids == _n(f"uid={u},{new}" for u in ("alice", "bob", "carol", "dave", "erin",
                                                  "frank"))
    assert TP not in tiny and ALICE not in tiny
    assert _n(tiny.get(ADMINS)["member"]) == _n([f"uid=alice,{new}", f"uid=bob,{new}"])
    assert tiny.bind(f"uid=alice,{new}", "alice-pw")
    assert _n(e.dn for e in tiny.entries("(uid=alice)")) == _n([f"uid=alice,{new}"])
    with pytest.raises(LdapnbError):
        tiny.rename(f"ou=Staff,{T}", "ou=Staff", new_superior=new)  # under itself


def test_move_through_ldap3(tiny: Directory) -> None:
    conn = tiny.connection()
    assert conn.modify_dn(FRANK, "uid=frank", new_superior=TG)
    assert f"uid=frank,{TG}" in tiny and FRANK not in tiny
    assert not conn.modify_dn(BOB, "uid=bob", new_superior=f"ou=Nowhere,{T}")
    assert conn.result["result"] == RESULT_NO_SUCH_OBJECT


# -- writes: modify -------------------------------------------------------------------------------
def test_modify_add_delete_replace(tiny: Directory) -> None:
    tiny.modify(ALICE, [("add", "mail", ["a2@example.com"])])
    assert sorted(tiny.get(ALICE)["mail"]) == ["a2@example.com", "alice@example.com"]
    tiny.modify(ALICE, [("delete", "mail", ["ALICE@example.com"])])  # by the equality rule
    assert tiny.get(ALICE)["mail"] == ["a2@example.com"]
    tiny.modify(ALICE, [("replace", "title", ["CEO"])])
    assert tiny.get(ALICE)["title"] == ["CEO"]
    tiny.modify(ALICE, [("delete", "title", [])])
    assert "title" not in tiny.get(ALICE)
    assert list(tiny.entries("(title=CEO)")) == []
    assert _n(e.dn for e in tiny.entries("(mail=a2@example.com)")) == _n([ALICE])


def test_modify_errors(tiny: Directory) -> None:
    with pytest.raises(OperationError) as info:
        tiny.modify(ALICE, [("add", "mail", ["Alice@Example.com"])])
    assert info.value.result == "attributeOrValueExists" and "alice" in str(info.value)
    with pytest.raises(OperationError) as info:
        tiny.modify(ALICE, [("delete", "mail", ["zz@example.com"])])
    assert info.value.result == "noSuchAttribute"
    with pytest.raises(OperationError) as info:
        tiny.modify(ALICE, [("delete", "pager", [])])
    assert info.value.result == "noSuchAttribute"
    with pytest.raises(ObjectClassViolation):
        tiny.modify(ALICE, [("delete", "sn", [])])
    with pytest.raises(SchemaError):
        tiny.modify(ALICE, [("replace", "displayName", ["A", "B"])])
    with pytest.raises(NoSuchEntry):
        tiny.modify(f"uid=nobody,{TP}", [("replace", "sn", ["x"])])
    # atomic: the first change of a failing modify is not applied
    with pytest.raises(LdapnbError):
        tiny.modify(ALICE, [("replace", "title", ["Boss"]), ("delete", "pager", [])])
    assert tiny.get(ALICE)["title"] == ["Director"]


def test_modify_increment(contoso: Directory) -> None:
    dn = f"CN=Ivan Petrov,OU=Sales,OU=Corp,{contoso.base}"
    contoso.modify(dn, [("increment", "adminCount", [2])])
    assert contoso.get(dn)["adminCount"] == ["3"]
    contoso.modify(dn, [("increment", "adminCount", [-3])])
    assert contoso.get(dn)["adminCount"] == ["0"]
    with pytest.raises(OperationError):
        contoso.modify(dn, [("increment", "sn", [1])])     # not an integer
    with pytest.raises(OperationError):
        contoso.modify(dn, [("increment", "pwdLastSet", [])])  # needs one value


def test_modify_through_ldap3(tiny: Directory) -> None:
    conn = tiny.connection()
    assert conn.modify(BOB, {"title": [(ldap3.MODIFY_REPLACE, ["Boss"])],
                             "mail": [(ldap3.MODIFY_ADD, ["b2@example.com"])]})
    assert tiny.get(BOB)["title"] == ["Boss"]
    assert not conn.modify(BOB, {"mail": [(ldap3.MODIFY_ADD, ["BOB@example.com"])]})
    assert conn.result["result"] == RESULT_ATTRIBUTE_OR_VALUE_EXISTS
    assert not conn.modify(BOB, {"pager": [(ldap3.MODIFY_DELETE, [])]})
    assert conn.result["result"] == RESULT_NO_SUCH_ATTRIBUTE
    assert not conn.modify(BOB, {"sn": [(ldap3.MODIFY_DELETE, [])]})
    assert conn.result["result"] == RESULT_OBJECT_CLASS_VIOLATION
    assert not conn.modify(BOB, {"displayName": [(ldap3.MODIFY_REPLACE, ["A", "B"])]})
    assert conn.result["result"] != RESULT_SUCCESS


def test_modify_increment_through_ldap3(contoso: Directory) -> None:
    conn = contoso.connection()
    dn = f"CN=Ivan Petrov,OU=Sales,OU=Corp,{contoso.base}"
    assert conn.modify(dn, {"adminCount": [(ldap3.MODIFY_INCREMENT, [4])]})
    assert contoso.get(dn)["adminCount"] == ["5"]


def test_no_user_modification_attributes_refused(tiny: Directory) -> None:
    with pytest.raises(OperationError):
        tiny.modify(ALICE, [("replace", "createTimestamp", ["20200101000000Z"])])


# -- compare --------------------------------------------------------------------------------------
def test_compare(tiny: Directory) -> None:
    assert tiny.source.compare(ALICE, "sn", "ARCHER") is True
    assert tiny.source.compare(ALICE, "sn", "Baker") is False
    conn = tiny.connection()
    assert conn.compare(ALICE, "mail", "ALICE@example.com") is True
    assert conn.result["result"] == RESULT_COMPARE_TRUE
    assert conn.compare(ALICE, "mail", "bob@example.com") is False
    assert conn.result["result"] == RESULT_COMPARE_FALSE
    conn.compare(f"uid=nobody,{TP}", "sn", "x")
    assert conn.result["result"] == RESULT_NO_SUCH_OBJECT


# -- read-only connections ------------------------------------------------------------------------
def test_read_only_connection_refuses_writes(tiny: Directory) -> None:
    conn = tiny.connection(writable=False)
    assert conn.search(T, "(uid=alice)")
    assert not conn.add(f"uid=new,{TP}", attributes=_person("new"))
    assert conn.result["result"] == RESULT_UNWILLING_TO_PERFORM
    assert not conn.delete(ERIN)
    assert not conn.modify(ERIN, {"title": [(ldap3.MODIFY_REPLACE, ["x"])]})
    assert not conn.modify_dn(ERIN, "uid=erin2")
    assert "read-only" in conn.result["message"]
    assert ERIN in tiny and f"uid=new,{TP}" not in tiny
    assert tiny.get(ERIN)["title"] == ["Accountant"]


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("action", [
    lambda d: d.add(ALICE, _person("alice")),
    lambda d: d.add(f"uid=x,ou=None,{T}", _person("x")),
    lambda d: d.add(f"uid=x,{TP}", {"objectClass": "inetOrgPerson", "uid": "x"}),
    lambda d: d.delete(TP),
    lambda d: d.delete(f"uid=gone,{TP}"),
    lambda d: d.modify(f"uid=gone,{TP}", [("replace", "sn", "x")]),
    lambda d: d.modify(ALICE, [("delete", "sn", [])]),
    lambda d: d.rename(f"uid=gone,{TP}", "uid=back"),
    lambda d: d.rename(BOB, "uid=alice"),
    lambda d: d.get(f"uid=gone,{TP}"),
    lambda d: list(d.entries(base=f"uid=gone,{TP}")),
])
def test_errors_are_ldapnb_errors_naming_the_dn(tiny: Directory, action) -> None:
    with pytest.raises(LdapnbError) as info:
        action(tiny)
    text = str(info.value).lower()
    assert "uid=" in text or "ou=people" in text, text


@pytest.mark.parametrize("bad,position", [
    ("(cn=alice", 9), ("cn=alice)", None), ("(&(cn=a)(sn=b)", None), ("(cn~alice)", None),
    ("((cn=a))", 1), ("(cn=a\\zz)", None), ("", None), ("(cn=a)(sn=b)", None),
])
def test_bad_filters_are_filter_errors(tiny: Directory, bad: str, position: int | None) -> None:
    with pytest.raises(FilterError) as info:
        tiny.search(bad)
    assert info.value.filter == bad
    assert info.value.position is not None
    if position is not None:
        assert info.value.position == position
    assert info.value.__cause__ is None or isinstance(info.value.__cause__, LdapnbError) or \
        "ldap3" not in type(info.value.__cause__).__module__
    with pytest.raises(FilterError):
        list(tiny.entries(bad))


def test_bad_filter_traceback_has_no_ldap3_or_pyasn1(tiny: Directory) -> None:
    import traceback

    try:
        tiny.search("(&(cn=a)(|(sn=b))")
    except FilterError as exc:
        frames = traceback.extract_tb(exc.__traceback__)
    assert not any("ldap3" in f.filename or "pyasn1" in f.filename for f in frames)


# -- indexes --------------------------------------------------------------------------------------
def test_indexed_equality_answers_after_writes(tiny: Directory) -> None:
    """The equality index must never go stale: add, modify, rename and delete all update it."""
    assert list(tiny.entries("(employeeNumber=42)")) == []   # builds the index on first use
    tiny.modify(ERIN, [("replace", "employeeNumber", ["42"])])
    assert _n(e.dn for e in tiny.entries("(employeeNumber=42)")) == _n([ERIN])
    new = tiny.rename(ERIN, "uid=erin.e")
    assert _n(e.dn for e in tiny.entries("(employeeNumber=42)")) == _n([new])
    assert _n(e.dn for e in tiny.entries("(uid=erin.e)")) == _n([new])
    assert list(tiny.entries("(uid=erin)")) == []
    tiny.delete(new)
    assert list(tiny.entries("(employeeNumber=42)")) == []
    assert list(tiny.entries("(employeeNumber=*)")) == []


def test_hand_made_record_missing_its_parts_is_an_ldif_error(tiny: Directory) -> None:
    """A Record built by hand without the newrdn its changetype needs, or without an entry to
    add, is an LdifError naming the record's line (it was a raw AttributeError)."""
    with pytest.raises(LdifError, match=r"hand\.ldif, line 3: the modrdn record .* needs a "
                                        "newrdn"):
        tiny.source.load([Record(ALICE, 3, "modrdn", None, [])], source="hand.ldif")
    with pytest.raises(LdifError, match=r"line 7: the add record .* has no entry to add"):
        tiny.source.apply(Record(f"uid=zed,{TP}", 7, "add", None, []), source="hand.ldif")
    with pytest.raises(LdifError, match=r"line 9: the content record .* has no entry"):
        tiny.source.load([Record(f"uid=zed,{TP}", 9, None, None, [])], source="hand.ldif")
    assert ALICE in tiny and f"uid=zed,{TP}" not in tiny


def test_hand_made_record_with_unknown_changetype_is_refused(tiny: Directory) -> None:
    """Never silently skipped: the LDIF reader refuses unknown changetypes, and so does
    apply() for a Record built by hand."""
    with pytest.raises(LdifError, match=r"line 4: unknown changetype 'rename'"):
        tiny.source.apply(Record(ALICE, 4, "rename", None, []), source="hand.ldif")


# -- the checker: its fast path agrees with the full check, entry by entry ----------------------
def _variants(entry):
    """``entry`` and copies breaking one rule each (R2-R8 of ldapnb.sources._checker)."""
    yield entry
    changes = [
        ("uidNumber", ["12x"]),                          # R3 syntax
        ("cn", [*entry.get("cn", []), b"\xff"]),         # R4 not UTF-8
        ("uidNumber", ["1", "2"]),                       # R5 single-valued
        ("mail", ["a@x.org", "A@X.ORG"]),                # R6 the same value twice
        ("sn", []),                                      # R7 a MUST missing
        ("dc", ["nope"]),                                # R2 not allowed
        ("objectClass", ["inetOrgPerson", "noSuchClass"]),  # R1 unknown class
    ]
    for name, values in changes:
        e = entry.copy()
        e.set(name, values)
        yield e
    e = entry.copy()
    e.dn = "uid=someone-else," + e.dn.split(",", 1)[1]  # R8 naming value missing
    yield e


@pytest.mark.parametrize("lenient", [False, True])
def test_fast_path_and_full_check_agree(lenient: bool) -> None:
    from ldapnb.schema import default_schema
    from ldapnb.sources._checker import Checker
    from ldapnb.synthetic import generate

    people = [e for e in generate(40, seed=3) if "uid" in e and "inetOrgPerson" in
              [str(c) for c in e.get("objectClass", [])]][:10]
    assert people
    fast_ok = 0
    for person in people:
        for entry in _variants(person):
            outcomes = []
            for path in ("check", "full_check"):
                checker = Checker(default_schema(), lenient=lenient, warnings=[])
                ndn = dnlib.normalize(entry.dn)
                try:
                    out = getattr(checker, path)(entry, ndn, where="")
                    outcomes.append(("ok", out.dn, out.to_dict(), checker.warnings))
                except Exception as exc:  # noqa: BLE001 - the outcome compared is the error
                    outcomes.append(("error", type(exc).__name__, str(exc),
                                     getattr(exc, "code", None)))
            assert outcomes[0] == outcomes[1], (entry, outcomes)
            # the fast path passes exactly the entries the full check finds nothing wrong in
            checker = Checker(default_schema(), lenient=lenient, warnings=[])
            plan = checker.fast_plan(entry)
            quick = checker.quick_check(entry, ndn, plan) if plan is not None else None
            clean = outcomes[1][0] == "ok" and not outcomes[1][3]
            if not clean:
                assert quick is None, entry
            elif entry is person:
                assert quick is not None, entry
                fast_ok += 1
    assert fast_ok == len(people)  # every valid person took the fast path


def test_a_bulk_load_collects_the_objects_it_made() -> None:
    """A load pauses the cyclic collector; one of BULK_LOAD records or more ends with a full
    collection, so its objects are not left for the next call to walk (the first d.graph()
    after 100k entries paid about 0.3 s for them)."""
    entries = [Entry("dc=x", {"objectClass": ["domain"], "dc": ["x"]})] + [
        Entry(f"cn=p{i},dc=x", {"objectClass": ["person"], "cn": [f"p{i}"], "sn": ["s"]})
        for i in range(BULK_LOAD)]
    generations: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            generations.append(info["generation"])

    gc.collect()
    gc.callbacks.append(seen)
    try:
        d = Directory.from_entries(entries)
        young = gc.get_count()[0]
    finally:
        gc.callbacks.remove(seen)
    assert len(d.source) == BULK_LOAD + 1
    assert 2 in generations  # the full collection
    assert young < gc.get_threshold()[0]  # nothing left waiting for the young generation


@pytest.mark.parametrize("attr", ["objectClass", "OBJECTCLASS", "2.5.4.0"])
def test_the_quick_object_class_presence_is_what_values_says(attr: str) -> None:
    """``(objectClass=*)`` (every search's default) is tested without expanding the classes:
    the same answer as ``bool(values(...))`` on entries with and without classes."""
    d = Directory.embedded("example")
    ctx = d.source._ctx
    quick = ctx.presence(attr)
    assert quick is not None
    with_classes = d.source.get(d.base)
    bare = Entry("cn=bare,dc=example,dc=org", {"cn": ["bare"]})
    empty = Entry("cn=empty,dc=example,dc=org", {"cn": ["empty"], "objectClass": []})
    for e in (with_classes, bare, empty):
        assert quick(e) is bool(ctx.values(e, attr))
    assert [quick(e) for e in (with_classes, bare, empty)] == [True, False, False]
    every = d.source.search_dns(d.base, "sub", f"({attr}=*)")
    assert every and len(every) == len(d)  # every stored entry has a class


@pytest.mark.parametrize("attr", ["cn", "objectClass;x-tag", "member"])
def test_other_presence_tests_read_the_values(attr: str) -> None:
    assert Directory.embedded("example").source._ctx.presence(attr) is None
