"""``Directory.connection()``: a real ldap3 Connection answered by the embedded directory.

What an ordinary ldap3 user does with it: search with ``['*', '+']``, read ``conn.entries``
typed by the schema ldap3 read from the subschema entry, Who am I?, StartTLS (refused, with a
message that says why), and what ``repr`` shows.
"""

from __future__ import annotations

import datetime as dt

import ldap3
import pytest

from ldapnb import Directory
from ldapnb import dn as dnlib

T = "dc=example,dc=com"
ALICE = f"uid=alice,ou=People,{T}"
ADMINS = f"cn=admins,ou=Groups,{T}"


@pytest.fixture
def tiny() -> Directory:
    return Directory.embedded("tiny")


def test_it_is_an_ldap3_connection(tiny: Directory) -> None:
    conn = tiny.connection()
    assert isinstance(conn, ldap3.Connection)
    assert not conn.closed


def test_search_all_user_and_operational_attributes(tiny: Directory) -> None:
    conn = tiny.connection()
    assert conn.search(ALICE, "(objectClass=*)", ldap3.BASE, attributes=["*", "+"])
    e = conn.entries[0]
    names = set(e.entry_attributes)
    assert {"uid", "cn", "sn", "mail", "memberOf", "entryUUID", "createTimestamp",
            "structuralObjectClass", "hasSubordinates"} <= names
    assert e.uid.value == "alice"
    assert dnlib.normalize(e.memberOf.value) == dnlib.normalize(ADMINS)
    assert e.structuralObjectClass.value == "inetOrgPerson"
    # the same attributes as Directory.get (ldap3's Entry hides entryDN: compare what was sent)
    sent = {n.lower() for n in conn.response[0]["raw_attributes"]}
    assert sent == {n.lower() for n in tiny.get(ALICE, ["*", "+"])}
    assert "entrydn" in sent


def test_search_same_answers_as_directory(tiny: Directory) -> None:
    conn = tiny.connection()
    f = "(&(objectClass=person)(!(cn=a*)))"
    conn.search(T, f, attributes=["cn", "mail"])
    df = tiny.search(f, attributes=["cn", "mail"])
    assert sorted(dnlib.normalize(e.entry_dn) for e in conn.entries) == \
        sorted(dnlib.normalize(d) for d in df.dn)
    by_dn = {dnlib.normalize(e.entry_dn): e for e in conn.entries}
    for row in df.itertuples():
        assert by_dn[dnlib.normalize(row.dn)].mail.values == list(row.mail)


def test_entries_are_typed_by_the_subschema(contoso: Directory) -> None:
    conn = contoso.connection()
    dn = f"CN=Henry Adams,OU=IT,OU=Corp,{contoso.base}"
    assert conn.search(dn, "(objectClass=*)", ldap3.BASE,
                       attributes=["userAccountControl", "whenCreated", "objectSid",
                                   "sAMAccountName", "memberOf"])
    e = conn.entries[0]
    assert e.userAccountControl.value == 4194816
    assert isinstance(e.userAccountControl.value, int)
    assert isinstance(e.whenCreated.value, dt.datetime)
    assert e.whenCreated.value.tzinfo is not None
    # ldap3 shows objectSid as "S-1-5-..." when the subschema gives its OID,
    # 1.2.840.113556.1.4.146
    assert e.objectSid.value.startswith("S-1-5-21-1004336348-1177238915-682003330-")
    assert e.sAMAccountName.value == "henry.adams"
    assert isinstance(e.memberOf.values, list) and e.memberOf.values


def test_schema_read_by_ldap3(tiny: Directory) -> None:
    schema = tiny.connection().server.schema
    assert schema is not None
    assert "inetOrgPerson" in schema.object_classes
    assert schema.attribute_types["uid"].equality == ["caseIgnoreMatch"]


def test_subschema_oids_are_numeric(contoso: Directory) -> None:
    """RFC 4512: a definition starts with a numeric OID, never a schema-file macro such as
    ``MSADat4:146`` (ldap3 and other clients look attributes up by OID)."""
    import re

    sub = contoso.get("cn=Subschema")
    for kind in ("attributeTypes", "objectClasses"):
        bad = [v for v in sub[kind] if not re.match(r"\(\s*[0-9]+(\.[0-9]+)+\s", v)]
        assert bad == [], f"{len(bad)} {kind} without a numeric OID, e.g. {bad[:1]}"
    info = contoso.connection().server.schema.attribute_types["objectSid"]
    assert info.oid == "1.2.840.113556.1.4.146"


def test_who_am_i_before_and_after_bind(tiny: Directory) -> None:
    conn = tiny.connection()
    assert conn.extend.standard.who_am_i() in (None, "")
    conn.rebind(ALICE, "alice-pw")
    assert conn.bound
    assert conn.extend.standard.who_am_i() == f"dn:{ALICE}"
    assert tiny.connection(ALICE, "alice-pw").extend.standard.who_am_i() == f"dn:{ALICE}"
    failed = tiny.connection(ALICE, "wrong")
    assert not failed.bound
    assert failed.extend.standard.who_am_i() in (None, "")


def test_start_tls_is_refused_clearly(tiny: Directory) -> None:
    conn = tiny.connection()
    try:
        started = conn.start_tls()
    except ldap3.core.exceptions.LDAPException as exc:
        started = False
        assert "StartTLS" in str(exc) or "TLS" in str(exc)
    assert not started
    assert conn.result["result"] != 0
    assert "StartTLS" in conn.result["message"]
    assert "slapd" in conn.result["message"]  # says what to use instead
    # the connection still works afterwards
    assert conn.search(T, "(uid=alice)")


def test_unknown_extended_operation(tiny: Directory) -> None:
    conn = tiny.connection()
    conn.extended("1.2.3.4.5")
    assert conn.result["result"] != 0
    assert "1.2.3.4.5" in conn.result["message"]


def test_unsupported_critical_control_is_refused(tiny: Directory) -> None:
    conn = tiny.connection()
    conn.search(T, "(uid=alice)", controls=[("1.2.3.4.99", True, None)])
    assert conn.result["result"] == 12  # unavailableCriticalExtension
    assert conn.entries == []
    conn.search(T, "(uid=alice)", controls=[("1.2.3.4.99", False, None)])
    assert conn.result["result"] == 0 and len(conn.entries) == 1


def test_directory_repr_shows_no_password(tiny: Directory) -> None:
    text = repr(tiny)
    assert "alice-pw" not in text and "userPassword" not in text
    assert "tiny" in text and "11 entries" in text


def test_connection_repr_shows_no_password(tiny: Directory) -> None:
    """ldap3 2.9.1's Connection.__repr__ prints ``password='...'`` in clear; a notebook that
    displays ``conn`` would show it.  ldapnb's connection must not."""
    conn = tiny.connection(ALICE, "alice-pw")
    assert conn.bound
    assert "alice-pw" not in repr(conn)
    assert "alice-pw" not in str(conn)


def test_ldap3_plain_connection_repr_shows_the_password() -> None:
    """What ldap3 itself does (why the test above matters)."""
    conn = ldap3.Connection(ldap3.Server("mock"), user="cn=x", password="pa55word",
                            client_strategy=ldap3.MOCK_SYNC)
    assert "pa55word" in repr(conn)


def test_search_results_are_copies(tiny: Directory) -> None:
    conn = tiny.connection()
    conn.search(ALICE, "(objectClass=*)", ldap3.BASE, attributes=["title"])
    conn.entries[0].entry_raw_attributes["title"][0] = b"changed"
    assert tiny.get(ALICE)["title"] == ["Director"]


def test_empty_password_is_a_bind_error_not_an_ldap3_traceback(tiny: Directory) -> None:
    from ldapnb.errors import BindError

    with pytest.raises(BindError, match="empty password"):
        tiny.connection("uid=alice,ou=People,dc=example,dc=com", "")
