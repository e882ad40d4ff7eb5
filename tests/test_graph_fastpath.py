"""``Directory.graph()`` on the embedded directory (pages carrying the store's normalised DNs,
member values found by the node they are spelt as, memberOf from the back-link index) makes
exactly the graph :func:`ldapnb.graph.from_entries` makes of the directory's entries as a user
reads them: the same nodes in the same order with the same attributes, the same edges (in the
same order, each one dict shared by ``succ`` and ``pred``) with the same ``via``, the same
``index``, ``sids`` and ``unresolved``, the same warnings, and the same errors for bad values;
on every bundled data set, on hostile spellings and after writes."""

from __future__ import annotations

from typing import Any

import networkx as nx
import pytest
from page_datasets import DIRECTORIES, IDS, built

from ldapnb import Directory, ad, graph
from ldapnb.dn import normalize
from ldapnb.entry import Entry
from ldapnb.errors import DnError, SchemaWarning

BASE = "dc=fast,dc=test"
DOM = "S-1-5-21-1004336348-1177238915-682003330"


def identical(got: nx.DiGraph, want: nx.DiGraph) -> None:
    """Equal in everything a user can see, order included."""
    assert list(got.nodes(data=True)) == list(want.nodes(data=True))
    assert list(got._succ) == list(got._pred) == list(got._node)
    for n in want:
        assert list(got._succ[n].items()) == list(want._succ[n].items()), n
        assert list(got._pred[n].items()) == list(want._pred[n].items()), n
        for m, data in got._succ[n].items():
            assert got._pred[m][n] is data  # one dict per edge, as networkx makes it
    assert list(got.edges(data=True)) == list(want.edges(data=True))
    for name in ("index", "sids"):
        assert list(got.graph[name].items()) == list(want.graph[name].items()), name
    assert got.graph["unresolved"] == want.graph["unresolved"]


def check(d: Directory, **kw: Any) -> Any:
    """d.graph(**kw) against from_entries of d's entries (read as a user reads them); the
    pages it reads carry the store's keys, which are the normalised DNs."""
    for page in d.source.search_pages(d.base, "sub", "(objectClass=*)", graph.GRAPH_ATTRIBUTES):
        assert page.keys == [normalize(dn) for dn in page.dns]
    got, got_warned = built(lambda: d.graph(**kw))
    want, want_warned = built(lambda: graph.from_entries(
        list(d.entries(attributes=list(graph.GRAPH_ATTRIBUTES))), **kw))
    assert got_warned == want_warned
    if isinstance(want, tuple):
        assert got == want
    else:
        identical(got, want)
    return got


@pytest.mark.parametrize("name,d", DIRECTORIES, ids=IDS)
def test_every_data_set(name: str, d: Directory) -> None:
    g = check(d)
    if name != "test-dn.ldif":  # its uniqueMember that is no DN stops the graph (tested)
        assert g.number_of_edges() > 0, name
    sids = [s for s, n in (g.graph["sids"].items() if not isinstance(g, tuple) else ())][:2]
    check(d, privileged=[*sids, "cn=not there,dc=x", "S-1-5-21-1-2-3-4"])
    check(d, attributes=["member", "memberOf"])
    check(d, attributes=["memberUid", "primaryGroupID"])


def lenient(entries: list[Entry]) -> Directory:
    """A directory of entries a strict load refuses (the same member value spelt twice)."""
    with pytest.warns(SchemaWarning):
        return Directory.from_entries(entries, strict=False)


def hostile() -> list[Entry]:
    g, p = f"ou=groups,{BASE}", f"ou=people,{BASE}"

    def who(uid: str, **extra: list[Any]) -> Entry:
        attrs: dict[str, list[Any]] = {"objectClass": ["inetOrgPerson"], "cn": [uid],
                                       "sn": ["x"], "uid": [uid]}
        attrs.update(extra)
        return Entry(f"uid={uid},{p}", attrs)

    return [
        Entry(BASE, {"objectClass": ["domain"], "dc": ["fast"]}),
        Entry(p, {"objectClass": ["organizationalUnit"], "ou": ["people"]}),
        Entry(g, {"objectClass": ["organizationalUnit"], "ou": ["groups"]}),
        who("ann"), who("bob"), who("Cy"),
        Entry(f"cn=a\\,b,{p}", {"objectClass": ["person"], "cn": ["a,b"], "sn": ["x"]}),
        Entry(f"cn=spelt,{g}", {"objectClass": ["groupOfNames"], "cn": ["spelt"], "member": [
            f"uid=ann,{p}",                          # as the entry's DN
            f"UID=Ann, OU=People, {BASE.upper()}",   # case and spaces
            f"  uid=bob,{p}  ",                      # blanks around
            f"cn=a\\2Cb,{p}",                        # an escape spelt as hex
            f"cn=a\\,b,{p}",
            f"uid=gone,{p}",                         # dangling
            f"uid=gone,{p}",                         # twice
            f"ou=people,{BASE}",                     # an OU: a node only now
            f"cn=later,{g}",                         # a group that comes after
        ]}),
        Entry(f"cn=uniq,{g}", {"objectClass": ["groupOfUniqueNames"], "cn": ["uniq"],
                               "uniqueMember": [f"uid=cy,{p}#'0101'B", f"uid=ann,{p}#''B",
                                                f"uid=nobody,{p}", f"cn=spelt,{g}"]}),
        Entry(f"cn=posix,{g}", {"objectClass": ["posixGroup"], "cn": ["posix"],
                                "gidNumber": ["2000"], "memberUid": ["ann", "CY", "zed"]}),
        Entry(f"cn=later,{g}", {"objectClass": ["groupOfNames"], "cn": ["later"],
                                "member": [f"cn=spelt,{g}", f"cn=later,{g}",
                                           "cn=elsewhere,dc=other,dc=test"]}),
        Entry(f"cn=role,{g}", {"objectClass": ["organizationalRole"], "cn": ["role"],
                               "roleOccupant": [f"uid=ann,{p}"]}),
    ]


def test_hostile_spellings_dangling_and_duplicates() -> None:
    d = lenient(hostile())
    g = check(d)
    p = f"ou=people,{BASE}"
    assert g.edges[f"uid=ann,{p}", f"cn=spelt,ou=groups,{BASE}"]["via"] == frozenset(
        {"member", "memberOf"})
    assert g.nodes[f"uid=gone,{p}"]["dangling"]
    assert g.nodes[f"ou=people,{BASE}"]["kind"] == "unknown"
    assert g.has_edge(f"cn=a\\,b,{p}", f"cn=spelt,ou=groups,{BASE}")
    check(d, privileged=[f"CN=Later, OU=Groups, {BASE}", "uid=ann," + p])


def test_bad_member_dn_raises_the_same_error() -> None:
    entries = hostile()
    entries[7] = Entry(entries[7].dn, {**entries[7].to_dict(),
                                       "member": [f"uid=ann,ou=people,{BASE}", "not a dn"]})
    d = lenient(entries)
    with pytest.raises(DnError, match=r"member of cn=spelt,ou=groups,dc=fast,dc=test"):
        d.graph()
    check(d)
    check(d, attributes=["memberOf", "memberUid"])  # the bad value not read: a graph


def ad_entries() -> list[Entry]:
    base = "DC=fast,DC=ad"

    def sid(s: str) -> list[bytes]:
        return [ad.sid_to_bytes(s)]

    return [
        Entry(base, {"objectClass": ["top", "domain", "domainDNS"], "dc": ["fast"],
                     "objectSid": sid(DOM)}),
        Entry(f"CN=Users,{base}", {"objectClass": ["top", "container"], "cn": ["Users"]}),
        Entry(f"CN=Domain Users,CN=Users,{base}", {
            "objectClass": ["top", "group"], "cn": ["Domain Users"],
            "sAMAccountName": ["Domain Users"], "groupType": ["-2147483646"],
            "objectSid": sid(f"{DOM}-513")}),
        Entry(f"CN=DnsAdmins,CN=Users,{base}", {
            "objectClass": ["top", "group"], "cn": ["DnsAdmins"],
            "sAMAccountName": ["DnsAdmins"], "groupType": ["-2147483644"],
            "objectSid": sid(f"{DOM}-1101"),
            "member": [f"cn=ann,cn=users,{base.lower()}", f"CN=bob,CN=Users,{base}"]}),
        Entry(f"CN=ann,CN=Users,{base}", {
            "objectClass": ["top", "person", "organizationalPerson", "user"], "cn": ["ann"],
            "sAMAccountName": ["ann"], "objectSid": sid(f"{DOM}-1104"),
            "primaryGroupID": ["513"]}),
        Entry(f"CN=bob,CN=Users,{base}", {
            "objectClass": ["top", "person", "organizationalPerson", "user"], "cn": ["bob"],
            "sAMAccountName": ["bob"], "objectSid": sid(f"{DOM}-1105"),
            "primaryGroupID": ["512"]}),  # Domain Admins: not in the data
    ]


def test_primary_groups_and_sids() -> None:
    d = Directory.from_entries(ad_entries())
    g = check(d)
    assert g.nodes[f"<SID={DOM}-512>"]["dangling"]
    assert g.nodes["CN=DnsAdmins,CN=Users,DC=fast,DC=ad"]["privileged"]
    check(d, privileged=[f"{DOM}-513"])


def test_after_writes() -> None:
    d = lenient(hostile())
    g, p = f"ou=groups,{BASE}", f"ou=people,{BASE}"
    check(d)  # the back-links are built: every write below must keep them right
    d.modify(f"cn=later,{g}", [("add", "member", [f"UID=bob, {p}"])])
    check(d)
    d.add(f"uid=dee,{p}", {"objectClass": ["inetOrgPerson"], "cn": ["dee"], "sn": ["x"],
                           "uid": ["dee"]})
    d.modify(f"cn=spelt,{g}", [("replace", "member", [f"uid=dee,{p}", f"uid=ann,{p}"])])
    check(d)
    d.add(f"cn=new,{g}", {"objectClass": ["groupOfNames"], "cn": ["new"],
                          "member": [f"uid=dee,{p}", f"cn=spelt,{g}"]})
    check(d)
    d.rename(f"uid=dee,{p}", "uid=dora")
    got = check(d)
    assert got.has_edge(f"uid=dora,{p}", f"cn=new,{g}")
    d.delete(f"uid=ann,{p}")
    got = check(d)
    assert f"uid=ann,{p}" not in got
    d.modify(f"cn=posix,{g}", [("delete", "memberUid", ["zed"])])
    check(d)
