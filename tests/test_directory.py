"""The Directory front door: building one, reading it as entries, DataFrames and a tree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import ldapnb
from ldapnb import Directory, Entry, fixtures
from ldapnb import dn as dnlib
from ldapnb.errors import (
    LdifError,
    LimitExceeded,
    NoSuchEntry,
    OperationError,
    ReadOnlyError,
    SchemaWarning,
)
from ldapnb.schema import DEFAULT_FILES, load_schema

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "openldap"
REPO = Path(__file__).resolve().parents[1]
T = "dc=example,dc=com"
ALICE = f"uid=alice,ou=People,{T}"


def _openldap() -> object:
    return load_schema(*DEFAULT_FILES, "openldap")


# -- building -------------------------------------------------------------------------------------
def test_embedded_default_and_by_name() -> None:
    d = Directory.embedded()
    assert d.base == "dc=example,dc=org" and len(d) > 250
    assert {"tiny", "example", "contoso"} <= set(fixtures())
    tiny = Directory.embedded("tiny")
    assert len(tiny) == 11 and tiny.base == T and ALICE in tiny
    contoso = Directory.embedded("contoso")
    assert len(contoso) == 511 and dnlib.equal(contoso.base, "DC=contoso,DC=com")


def test_embedded_copies_are_independent() -> None:
    a, b = Directory.embedded("tiny"), Directory.embedded("tiny")
    a.delete(f"uid=erin,ou=People,{T}")
    assert len(a) == 10 and len(b) == 11


def test_unknown_fixture_lists_the_names() -> None:
    with pytest.raises(NoSuchEntry) as info:
        Directory.embedded("nope")
    text = str(info.value)
    assert "'nope'" in text
    for name in ("tiny", "example", "contoso"):
        assert name in text
    assert "from_ldif" in text


def test_from_entries() -> None:
    d = Directory.from_entries([
        Entry("dc=x", {"objectClass": ["domain"], "dc": ["x"]}),
        Entry("cn=a,dc=x", {"objectClass": ["person"], "cn": ["a"], "sn": ["b"]}),
    ])
    assert len(d) == 2 and d.base == "dc=x"
    assert [e.dn for e in d.entries("(sn=B)")] == ["cn=a,dc=x"]


# -- every corpus file ----------------------------------------------------------------------------
@pytest.mark.parametrize("name,count", [
    ("test.ldif", 19), ("test-ordered.ldif", 19), ("test-lang.ldif", 1),
    ("referrals.ldif", 5), ("test-refint.ldif", 9),
])
def test_corpus_files_load(name: str, count: int) -> None:
    d = Directory.from_ldif(CORPORA / name, schema=_openldap())
    assert len(d) == count
    assert d.warnings == []
    lenient = Directory.from_ldif(CORPORA / name)  # default schema, lenient
    assert len(lenient) == count


@pytest.mark.parametrize("name,line,why", [
    # a search output: the same entries printed twice (before and after a change)
    ("memberof.out", 48, "already exists"),
    # the same DN twice (lines 151 and 239), as slapadd would refuse too
    ("nis_sample.ldif", 239, "already exists"),
    # "Must Fail" entries under an ou=Groups the file never creates
    ("test-dn.ldif", 68, "parent"),
    # change records for entries it does not create (apply it to test-ordered.ldif)
    ("test-modify.ldif", 5, "no entry"),
])
def test_corpus_files_that_must_fail_name_a_line(name: str, line: int, why: str) -> None:
    # strict: the load stops at the first record a server refuses, naming file and line
    with pytest.raises(LdifError) as info:
        Directory.from_ldif(CORPORA / name, schema=_openldap(), strict=True)
    assert info.value.line is not None and info.value.line <= line
    assert name in str(info.value)
    # lenient (the default): as ldapadd -c, that record is skipped and listed, the rest loads
    with pytest.warns(SchemaWarning, match="skipped"):
        d = Directory.from_ldif(CORPORA / name, schema=_openldap())
    skipped = {at: reason for at, _dn, reason in d.skipped}
    assert line in skipped and why in skipped[line]


def test_test_ldif_values_come_back_exact() -> None:
    d = Directory.from_ldif(CORPORA / "test.ldif", schema=_openldap())
    barbara = d.get(f"cn=Barbara Jensen,ou=Information Technology Division,ou=People,{T}",
                    ["sn", "postalAddress", "userPassword"])
    assert barbara["sn"] == [" Jensen "]                            # base64, spaces kept
    assert barbara["postalAddress"] == [
        "ITD Prod Dev & Deployment $ 535 W. William St. Room 4212 $ Anytown, MI 48103-4943"]
    assert barbara["userPassword"] == [b"bjensen"]


def test_apply_test_modify_after_test_ordered() -> None:
    """test-modify.ldif's records are written for OpenLDAP's test database (test-ordered)."""
    d = Directory.from_ldif(CORPORA / "test-ordered.ldif", schema=_openldap())
    with pytest.warns(SchemaWarning, match="testPerson"):  # a class of OpenLDAP's test schema
        assert d.apply_ldif(CORPORA / "test-modify.ldif") == 8
    jaj = d.get(f"cn=James A Jones 1,ou=Alumni Association,ou=People,{T}")
    assert jaj["drink"] == ["Orange Juice"] and jaj["sn"] == ["Jones"]
    bjorn = d.get(f"cn=Bjorn Jensen,ou=Information Technology Division,ou=People,{T}")
    assert sorted(bjorn["drink"]) == ["Iced Tea", "Mad Dog 20/20"]
    assert bjorn["description"] == ["The replaced multiLineDescription $ Blah Woof."]
    itd = d.get(f"cn=ITD Staff,ou=Groups,{T}")
    assert {dnlib.normalize(v) for v in itd["uniqueMember"]} == {dnlib.normalize(v) for v in [
        f"cn=Manager,{T}", f"cn=John Doe,ou=Information Technology Division,ou=People,{T}",
        f"cn=Dorothy Stevens,ou=Alumni Association,ou=People,{T}",
        f"cn=James A Jones 1,ou=Alumni Association,ou=People,{T}"]}
    # OpenLDAPdisplayableObject, pkiUser, userSecurityInformation added, then deleted again
    assert [c.lower() for c in itd["objectClass"]] == ["groupofuniquenames"]
    staff = d.get(f"cn=All Staff,ou=Groups,{T}")
    assert [dnlib.normalize(v) for v in staff["member"]] == [
        dnlib.normalize(f"cn=Dorothy Stevens,ou=Alumni Association,ou=People,{T}")]
    assert "description" not in staff
    assert f"cn=Gern Jensen,ou=Information Technology Division,ou=People,{T}" in d
    assert f"cn=James A Jones 2,ou=Information Technology Division,ou=People,{T}" not in d
    people = d.get(f"ou=People,{T}")
    assert people["uidNumber"] == ["1"] and people["gidNumber"] == ["-1"]


# -- lenient and strict loading -------------------------------------------------------------------
LDIF_UNKNOWN = """dn: dc=x
objectClass: domain
dc: x

dn: cn=a,dc=x
objectClass: person
cn: a
sn: b
favouriteColour: green
"""


def test_lenient_loading_warns(tmp_path: Path) -> None:
    path = tmp_path / "export.ldif"
    path.write_text(LDIF_UNKNOWN, encoding="utf-8")
    with pytest.warns(SchemaWarning) as seen:  # visible, once per load, with the fix
        d = Directory.from_ldif(path)
    assert len(seen) == 1
    text = str(seen[0].message)
    assert "favouriteColour" in text and "schema=" in text and "strict=True" in text
    assert len(d) == 2
    assert any("favouriteColour" in w and "cn=a,dc=x" in w for w in d.warnings)
    assert [e.dn for e in d.entries("(favouritecolour=GREEN)")] == ["cn=a,dc=x"]
    # test.ldif with its class renamed to one no schema has: each entry warned about
    renamed = tmp_path / "renamed.ldif"
    renamed.write_text((CORPORA / "test.ldif").read_text(encoding="utf-8")
                       .replace("OpenLDAPperson", "acmePerson"), encoding="utf-8")
    with pytest.warns(SchemaWarning, match=r"acmePerson \(10 entries\)") as seen:
        loose = Directory.from_ldif(renamed)
    assert len(seen) == 1
    assert any("acmePerson" in w for w in loose.warnings)


@pytest.mark.slapd
def test_openldap_test_data_loads_with_the_default_schema_like_slapd(slapd_factory) -> None:
    # a stock slapd has openldap.schema: OpenLDAPperson is known, all 11 people are persons,
    # with ldapnb's default schema as with the private slapd's default schemas
    import ldap3

    d = Directory.from_ldif(CORPORA / "test.ldif", strict=True)
    assert d.warnings == []
    ours = {e.dn.lower() for e in d.entries("(objectClass=person)")}
    server = slapd_factory(CORPORA / "test.ldif")  # default schemas
    conn = ldap3.Connection(ldap3.Server(server.urls["ldap"], get_info=ldap3.NONE),
                            server.rootdn, server.rootpw, auto_bind=True, check_names=False)
    try:
        conn.search(server.suffix, "(objectClass=person)", attributes=["1.1"])
        theirs = {e["dn"].lower() for e in conn.response if e.get("type") == "searchResEntry"}
    finally:
        conn.unbind()
    assert len(theirs) == 11 and ours == theirs


def test_strict_loading_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "export.ldif"
    path.write_text(LDIF_UNKNOWN, encoding="utf-8")
    with pytest.raises(LdifError) as info:
        Directory.from_ldif(path, strict=True)
    assert info.value.line == 5
    assert "favouriteColour" in str(info.value)
    renamed = tmp_path / "renamed.ldif"
    renamed.write_text((CORPORA / "test.ldif").read_text(encoding="utf-8")
                       .replace("OpenLDAPperson", "acmePerson"), encoding="utf-8")
    with pytest.raises(LdifError) as info:
        Directory.from_ldif(renamed, strict=True)
    assert info.value.line is not None and "acmePerson" in str(info.value)


# -- search() as a DataFrame ----------------------------------------------------------------------
def test_search_dataframe_shape_and_types(contoso: Directory) -> None:
    df = contoso.search("(&(objectClass=user)(sAMAccountName=henry.adams))",
                        attributes=["sAMAccountName", "userAccountControl", "whenCreated",
                                    "memberOf", "objectSid", "servicePrincipalName"])
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == ["dn", "sAMAccountName", "userAccountControl", "whenCreated",
                                "memberOf", "objectSid", "servicePrincipalName"]
    assert len(df) == 1
    row = df.iloc[0]
    assert row["sAMAccountName"] == "henry.adams"
    assert row["userAccountControl"] == 4194816
    assert str(df["userAccountControl"].dtype) in ("Int64", "int64")
    assert isinstance(row["whenCreated"], pd.Timestamp) and row["whenCreated"].tzinfo is not None
    assert isinstance(row["memberOf"], list) and row["memberOf"]
    assert isinstance(row["objectSid"], bytes)


def test_search_dataframe_defaults(tiny_dir: Directory) -> None:
    df = tiny_dir.search("(objectClass=person)")
    assert df.columns[0] == "dn" and len(df) == 6
    assert "memberOf" not in df.columns
    assert "alice-pw" not in df.to_string()  # masked
    shown = tiny_dir.search("(uid=alice)", attributes=["userPassword"], show_secrets=True)
    assert "alice-pw" in str(shown["userPassword"].iloc[0])
    empty = tiny_dir.search("(uid=nobody)", attributes=["cn"])
    assert len(empty) == 0 and list(empty.columns) == ["dn", "cn"]


@pytest.fixture
def tiny_dir() -> Directory:
    return Directory.embedded("tiny")


def test_entries_and_get(tiny_dir: Directory) -> None:
    got = list(tiny_dir.entries("(uid=alice)", attributes=["cn"]))
    assert len(got) == 1 and isinstance(got[0], Entry)
    assert dict(got[0]) == {"cn": ["Alice Archer"]}
    assert tiny_dir.get("UID=ALICE,ou=people,DC=example,dc=com").dn == ALICE
    assert tiny_dir.get(ALICE, ["1.1"]).keys() == set()
    with pytest.raises(NoSuchEntry) as info:
        tiny_dir.get(f"uid=zoe,ou=People,{T}")
    assert "uid=zoe" in str(info.value) and T in str(info.value)
    assert info.value.naming_contexts == (T,)


def test_tree(tiny_dir: Directory) -> None:
    g = tiny_dir.tree()
    assert [n for n in g if g.in_degree(n) == 0] == [T]   # no node above the naming context
    assert g.number_of_nodes() == 11 and g.number_of_edges() == 10
    assert set(g.successors(T)) == {f"ou=People,{T}", f"ou=Groups,{T}"}
    assert len(list(g.successors(f"ou=People,{T}"))) == 6
    assert g.nodes[ALICE]["rdn"] == "uid=alice" and g.nodes[ALICE]["depth"] == 4
    assert "inetOrgPerson" in g.nodes[ALICE]["objectClass"]
    assert g.in_degree(T) == 0


def test_tree_keeps_stored_spelling_of_parents(contoso: Directory) -> None:
    g = contoso.tree()
    assert g.number_of_nodes() == 511 and g.number_of_edges() == 510
    reyes = "CN=Reyes\\, María,OU=Sales,OU=Corp,DC=contoso,DC=com"
    assert reyes in g
    assert list(g.predecessors(reyes)) == ["OU=Sales,OU=Corp,DC=contoso,DC=com"]


# -- import cost ----------------------------------------------------------------------------------
def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, check=True, env={"PYTHONPATH": str(REPO), "PATH": ""})
    return out.stdout.strip()


def test_import_does_not_pull_in_notebook_packages() -> None:
    loaded = _run("import sys, ldapnb; print(' '.join(sorted(m for m in ('jupyterlab', "
                  "'ipywidgets', 'IPython', 'pandas', 'networkx', 'ldap3', 'pyarrow') "
                  "if m in sys.modules)))").split()
    assert "jupyterlab" not in loaded and "ipywidgets" not in loaded and "IPython" not in loaded
    # heavy data libraries come in only when a DataFrame or a graph is asked for
    assert "pandas" not in loaded and "networkx" not in loaded and "pyarrow" not in loaded


def test_public_names() -> None:
    assert "Directory" in ldapnb.__all__ and "LdapnbError" in ldapnb.__all__
    assert all(hasattr(ldapnb, n) for n in ldapnb.__all__)


# -- the seam: a source in a few lines works with every Directory method ------------------------
def _mem(writable: bool = False) -> tuple[Directory, Directory]:
    from memsource import BindableMemSource, WritableMemSource

    embedded = Directory.embedded("tiny")
    cls = WritableMemSource if writable else BindableMemSource
    return embedded, Directory(cls(embedded.entries()), name="mem")


def test_memsource_satisfies_the_protocols() -> None:
    from memsource import BindableMemSource, MemSource, WritableMemSource

    from ldapnb.sources.base import Bindable, Source, Writable
    from ldapnb.sources.embedded import EmbeddedDirectory

    assert isinstance(MemSource(), Source) and not isinstance(MemSource(), Bindable)
    assert isinstance(BindableMemSource(), Source) and isinstance(BindableMemSource(), Bindable)
    assert not isinstance(BindableMemSource(), Writable)
    with pytest.raises(OperationError, match="cannot check binds"):
        Directory(MemSource()).bind("cn=x", "pw")
    assert isinstance(WritableMemSource(), Writable)
    assert isinstance(EmbeddedDirectory(), Source) and isinstance(EmbeddedDirectory(), Writable)


def test_memsource_reads_like_the_embedded_directory() -> None:
    embedded, mem = _mem()
    assert not mem.is_live and mem.urls == {} and mem.ca_file is None
    assert mem.base == embedded.base == T and mem.naming_contexts == (T,)
    assert mem.root_dse["namingContexts"] == [T] and mem.schema is not None
    assert len(mem) == len(embedded) == 11 and ALICE in mem and "cn=nobody" not in mem
    assert repr(mem).startswith("<Directory mem: 11 entries")
    for attributes in (None, ["cn", "mail", "uidNumber"], ["uid", "*"], ["1.1"]):
        pd.testing.assert_frame_equal(mem.search("(objectClass=person)", attributes=attributes),
                                      embedded.search("(objectClass=person)",
                                                      attributes=attributes))
    chunks = list(mem.search_chunks(page_size=4, attributes=["cn"]))
    assert [len(c) for c in chunks] == [4, 4, 3]
    assert pd.concat(chunks, ignore_index=True).equals(embedded.search(attributes=["cn"]))
    assert [e.dn for e in mem.entries("(uid=alice)")] == [ALICE]
    assert mem.get(ALICE)["uid"] == ["alice"]
    assert mem.trace("(uid=alice)", ALICE).result is True
    assert sorted(mem.member_of(ALICE)) == sorted(embedded.member_of(ALICE))
    assert set(mem.tree().edges) == set(embedded.tree().edges)
    assert set(mem.graph().edges) == set(embedded.graph().edges)
    assert mem.warnings == []
    with pytest.raises(NoSuchEntry):
        mem.search(base=f"ou=Nowhere,{T}")
    with pytest.raises(LimitExceeded):
        mem.search(size_limit=2)


def test_memsource_binds_closes_and_has_no_connection() -> None:
    from memsource import MemSource

    _, mem = _mem()
    assert mem.bind(ALICE, "alice-pw") is True and mem.bind(ALICE, "wrong") is False
    with pytest.raises(OperationError, match="no ldap3 connection"):
        mem.connection()
    source = MemSource()
    with Directory(source) as d:
        assert len(d) == 0
    assert source.closed


def test_writes_need_a_writable_source() -> None:
    _, read_only = _mem()
    with pytest.raises(ReadOnlyError, match="read-only"):
        read_only.add(f"cn=x,{T}", {"objectClass": "person", "cn": "x", "sn": "x"})
    with pytest.raises(ReadOnlyError):
        read_only.delete(ALICE)
    _, mem = _mem(writable=True)
    mem.add(f"cn=x,{T}", {"objectClass": "person", "cn": "x", "sn": "x"})
    mem.modify(f"cn=x,{T}", [("replace", "sn", "y")])
    assert mem.search("(sn=y)", attributes=["cn"]).cn.tolist() == [["x"]]
    assert mem.rename(f"cn=x,{T}", "cn=z") == f"cn=z,{T}"
    mem.delete(f"cn=z,{T}")
    assert len(mem) == 11 and f"cn=z,{T}" not in mem
