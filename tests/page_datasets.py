"""Data sets for the differential tests of the embedded directory's column pages and of the
graph built from them (``tests/test_embedded_pages.py``, ``tests/test_graph_pages.py``): the
bundled fixtures, the OpenLDAP corpora that have groups, generated OpenLDAP and AD trees, and
two small directories with cycles, dangling members, options, memberUid, uniqueMember UIDs,
SIDs on entries that are not principals and a primaryGroupID whose group is missing."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ldapnb import Directory, ad, synthetic
from ldapnb.directory import fixtures
from ldapnb.entry import Entry
from ldapnb.errors import LdapnbError

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "openldap"
DOM = "S-1-5-21-1004336348-1177238915-682003330"


def odd_entries() -> list[Entry]:
    """Cycles, dangling members, options, memberUid, uniqueMember with a UID, an entry with a
    SID that is no principal, a primaryGroupID that names no group."""
    base = "dc=odd,dc=test"

    def grp(name: str, *members: str, **extra: list[Any]) -> Entry:
        attrs: dict[str, list[Any]] = {"objectClass": ["groupOfNames"], "cn": [name],
                                       "member": list(members)}
        attrs.update(extra)
        return Entry(f"cn={name},ou=groups,{base}", attrs)

    def who(uid: str, **extra: list[Any]) -> Entry:
        attrs: dict[str, list[Any]] = {"objectClass": ["inetOrgPerson", "posixAccount"],
                                       "cn": [uid.title()], "sn": ["x"], "uid": [uid],
                                       "uidNumber": ["1000"], "gidNumber": ["1000"],
                                       "homeDirectory": [f"/home/{uid}"]}
        attrs.update(extra)
        return Entry(f"uid={uid},ou=people,{base}", attrs)

    g = f"ou=groups,{base}"
    return [
        Entry(base, {"objectClass": ["domain"], "dc": ["odd"]}),
        Entry(f"ou=people,{base}", {"objectClass": ["organizationalUnit"], "ou": ["people"]}),
        Entry(f"ou=groups,{base}", {"objectClass": ["organizationalUnit"], "ou": ["groups"]}),
        who("ann", **{"cn;lang-de": ["Anna"], "description": ["first"]}),
        who("bob"),
        who("cy"),
        # a ring a -> b -> c -> a, a group holding itself, members that are not there
        grp("a", f"cn=c,{g}", f"UID=Ann, OU=People, {base.upper()}"),
        grp("b", f"cn=a,{g}", f"uid=gone,ou=people,{base}"),
        grp("c", f"cn=b,{g}", f"uid=bob,ou=people,{base}"),
        grp("self", f"cn=self,{g}"),
        grp("empty", ""),
        grp("ous", f"ou=people,{base}"),
        Entry(f"cn=uniq,{g}", {"objectClass": ["groupOfUniqueNames"], "cn": ["uniq"],
                               "uniqueMember": [f"uid=cy,ou=people,{base}#'0101'B",
                                                f"uid=nobody,ou=people,{base}"]}),
        Entry(f"cn=posix,{g}", {"objectClass": ["posixGroup"], "cn": ["posix"],
                                "gidNumber": ["2000"], "memberUid": ["ann", "CY", "zed"]}),
    ]


def ad_odd() -> list[Entry]:
    """AD-shaped: the domain object and a foreignSecurityPrincipal carry SIDs but are not
    principals; a primaryGroupID whose group is not in the data."""
    base = "DC=odd,DC=ad"
    fsp_sid = "S-1-5-21-3623811015-3361044348-30300820-1013"

    def sid(s: str) -> list[bytes]:
        return [ad.sid_to_bytes(s)]

    return [
        Entry(base, {"objectClass": ["top", "domain", "domainDNS"], "dc": ["odd"],
                     "objectSid": sid(DOM)}),
        Entry(f"CN=Users,{base}", {"objectClass": ["top", "container"], "cn": ["Users"]}),
        Entry(f"CN=ForeignSecurityPrincipals,{base}", {"objectClass": ["top", "container"],
                                                        "cn": ["ForeignSecurityPrincipals"]}),
        Entry(f"CN={fsp_sid},CN=ForeignSecurityPrincipals,{base}", {
            "objectClass": ["top", "foreignSecurityPrincipal"], "cn": [fsp_sid],
            "objectSid": sid(fsp_sid)}),
        Entry(f"CN=Domain Admins,CN=Users,{base}", {
            "objectClass": ["top", "group"], "cn": ["Domain Admins"],
            "sAMAccountName": ["Domain Admins"], "groupType": ["-2147483646"],
            "objectSid": sid(f"{DOM}-512"),
            "member": [f"CN=ann,CN=Users,{base}", f"CN={fsp_sid},CN=ForeignSecurityPrincipals,"
                       f"{base}", f"CN=gone,CN=Users,{base}"]}),
        Entry(f"CN=ann,CN=Users,{base}", {
            "objectClass": ["top", "person", "organizationalPerson", "user"], "cn": ["ann"],
            "sAMAccountName": ["ann"], "objectSid": sid(f"{DOM}-1104"),
            "primaryGroupID": ["513"], "distinguishedName": [f"CN=ann,CN=Users,{base}"]}),
    ]


def corpus(name: str, **kw: Any) -> Directory:
    return Directory.from_ldif(CORPORA / name, **kw)


def directories() -> Iterator[tuple[str, Directory]]:
    for name in fixtures():
        yield name, Directory.embedded(name)
    with pytest.warns(UserWarning):  # lenient loads of other servers' files say so
        yield "test.ldif", corpus("test.ldif")
        yield "nis_sample.ldif", corpus("nis_sample.ldif")
        yield "memberof.out", corpus("memberof.out")
        yield "test-dn.ldif", corpus("test-dn.ldif")  # a uniqueMember that is no DN
    for style in ("openldap", "ad"):
        yield f"synthetic-{style}", Directory.from_entries(
            synthetic.generate(400, n_groups=50, depth=5, cycles=3, style=style, seed=7))
    yield "odd", Directory.from_entries(odd_entries(), strict=False)
    yield "odd-ad", Directory.from_entries(ad_odd(), strict=False)


DIRECTORIES = list(directories())
IDS = [name for name, _ in DIRECTORIES]


def built(make: Any) -> Any:
    """A graph, or the error building it raised (type and text); and the warnings it gave:
    what the graph tests compare between two ways of building it."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            out: Any = make()
        except LdapnbError as exc:
            out = (type(exc), str(exc))
    return out, [(w.category, str(w.message)) for w in seen]
