from __future__ import annotations

import re
from collections import deque
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ldapnb import ad, graph
from ldapnb.dn import normalize
from ldapnb.entry import Entry
from ldapnb.errors import DnError, GraphWarning, LimitExceeded, NoSuchEntry
from ldapnb.ldif import loads, read_entries

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "openldap"
DOM = "S-1-5-21-1004336348-1177238915-682003330"


def group(dn: str, *members: str, cls: str = "groupOfNames", attr: str = "member") -> Entry:
    return Entry(dn, {"objectClass": [cls], "cn": [dn.split(",")[0][3:]], attr: list(members)})


def person(dn: str, **extra: list) -> Entry:
    attrs = {"objectClass": ["inetOrgPerson"], "cn": [dn.split(",")[0][4:]]}
    attrs.update(extra)
    return Entry(dn, attrs)


# ------------------------------------------------------------------------------------------
# every membership style
# ------------------------------------------------------------------------------------------


def test_member_any_spelling_and_kinds():
    G = graph.from_entries([
        person("uid=ann,ou=People,dc=x"),
        group("cn=Staff,ou=Groups,dc=x", "UID=Ann, OU=people, DC=X"),
        Entry("cn=pc1,dc=x", {"objectClass": ["top", "person", "user", "computer"]}),
    ])
    assert set(G.edges) == {("uid=ann,ou=People,dc=x", "cn=Staff,ou=Groups,dc=x")}
    assert G.edges["uid=ann,ou=People,dc=x", "cn=Staff,ou=Groups,dc=x"]["via"] == {"member"}
    assert G.nodes["uid=ann,ou=People,dc=x"]["kind"] == "user"
    assert G.nodes["cn=Staff,ou=Groups,dc=x"]["kind"] == "group"
    assert G.nodes["cn=pc1,dc=x"]["kind"] == "computer"
    assert G.nodes["uid=ann,ou=People,dc=x"]["label"] == "ann"
    assert graph.lookup(G, "CN=staff , ou=GROUPS,dc=X") == "cn=Staff,ou=Groups,dc=x"
    assert G.graph["index"][normalize("cn=STAFF,ou=groups,dc=x")] == "cn=Staff,ou=Groups,dc=x"


def test_unique_member_suffix_is_stripped():
    G = graph.from_entries([
        person("cn=Bob,dc=x"),
        group("cn=g,dc=x", "cn=Bob,dc=x#'0101'B", "cn=Eve#1,dc=x",
              cls="groupOfUniqueNames", attr="uniqueMember"),
    ])
    assert ("cn=Bob,dc=x", "cn=g,dc=x") in G.edges
    assert G.edges["cn=Bob,dc=x", "cn=g,dc=x"]["via"] == {"uniqueMember"}
    # a '#' that is not a bit-string suffix stays part of the DN
    assert G.nodes["cn=Eve#1,dc=x"]["dangling"] is True


def test_member_uid_resolution():
    G = graph.from_entries([
        Entry("uid=ann,ou=People,dc=x", {"objectClass": ["posixAccount", "account"],
                                         "uid": ["ann"]}),
        Entry("uid=Carl,ou=People,dc=x", {"objectClass": ["account"], "uid": ["Carl"]}),
        group("cn=staff,dc=x", "ann", "carl", "ghost", cls="posixGroup", attr="memberUid"),
    ])
    assert set(G.pred["cn=staff,dc=x"]) == {
        "uid=ann,ou=People,dc=x", "uid=Carl,ou=People,dc=x", "uid=ghost"}
    ghost = G.nodes["uid=ghost"]
    assert ghost["kind"] == "unknown" and ghost["dangling"] is True and ghost["label"] == "ghost"
    assert G.nodes["uid=ann,ou=People,dc=x"]["dangling"] is False
    assert G.edges["uid=ann,ou=People,dc=x", "cn=staff,dc=x"]["via"] == {"memberUid"}


def test_member_of_back_links_and_merged_via():
    G = graph.from_entries([
        person("uid=ann,dc=x", memberOf=["cn=a,dc=x", "cn=hidden,dc=x"]),
        group("cn=a,dc=x", "uid=ann,dc=x"),
    ])
    assert G.edges["uid=ann,dc=x", "cn=a,dc=x"]["via"] == {"member", "memberOf"}
    assert G.edges["uid=ann,dc=x", "cn=hidden,dc=x"]["via"] == {"memberOf"}
    hidden = G.nodes["cn=hidden,dc=x"]
    assert hidden["kind"] == "group" and hidden["dangling"] is True


def test_primary_group_id_through_object_sid():
    G = graph.from_entries([
        Entry("CN=Domain Users,CN=Users,DC=c,DC=com", {
            "objectClass": ["top", "group"], "sAMAccountName": ["Domain Users"],
            "objectSid": [ad.sid_to_bytes(f"{DOM}-513")]}),
        Entry("CN=ann,CN=Users,DC=c,DC=com", {
            "objectClass": ["top", "person", "user"], "primaryGroupID": ["513"],
            "objectSid": [ad.sid_to_bytes(f"{DOM}-1104")]}),
        Entry("CN=pc,CN=Computers,DC=c,DC=com", {
            "objectClass": ["top", "user", "computer"], "primaryGroupID": ["515"],
            "objectSid": [ad.sid_to_bytes(f"{DOM}-1105")]}),
        Entry("CN=old,CN=Users,DC=c,DC=com", {
            "objectClass": ["user"], "primaryGroupID": ["513"]}),  # no objectSid
    ])
    assert G.edges["CN=ann,CN=Users,DC=c,DC=com", "CN=Domain Users,CN=Users,DC=c,DC=com"][
        "via"] == {"primaryGroupID"}
    missing = f"<SID={DOM}-515>"
    assert ("CN=pc,CN=Computers,DC=c,DC=com", missing) in G.edges
    assert G.nodes[missing]["dangling"] and G.nodes[missing]["label"] == "Domain Computers"
    assert G.nodes["CN=ann,CN=Users,DC=c,DC=com"]["sid"] == f"{DOM}-1104"
    assert graph.lookup(G, f"{DOM}-513") == "CN=Domain Users,CN=Users,DC=c,DC=com"
    assert ("CN=old,CN=Users,DC=c,DC=com", "primaryGroupID", "513") in G.graph["unresolved"]
    # AD's in-chain rule follows member only: the via filter leaves primary groups out
    assert graph.effective_members(G, f"{DOM}-513", via={"member"}) == set()
    assert graph.effective_members(G, f"{DOM}-513") == {"CN=ann,CN=Users,DC=c,DC=com"}


def test_dangling_member_kept():
    G = graph.from_entries([group("cn=g,dc=x", "cn=gone,dc=x")])
    assert G.nodes["cn=gone,dc=x"] | {} == {
        "kind": "unknown", "dangling": True, "label": "gone", "sid": None,
        "privileged": False, "privileged_by": ""}


def test_entries_that_are_not_principals_appear_only_when_referenced():
    G = graph.from_entries([
        Entry("ou=People,dc=x", {"objectClass": ["organizationalUnit"]}),
        Entry("cn=Manager,dc=x", {"objectClass": ["organizationalRole"], "cn": ["Manager"]}),
        group("cn=g,dc=x", "cn=manager,dc=x"),
    ])
    assert "ou=People,dc=x" not in G
    assert G.nodes["cn=Manager,dc=x"]["dangling"] is False
    assert G.nodes["cn=Manager,dc=x"]["kind"] == "unknown"


def test_bad_member_dn_says_where():
    with pytest.raises(DnError, match="member of cn=g,dc=x"):
        graph.from_entries([group("cn=g,dc=x", "not a dn")])


def test_privileged_by_sid_name_and_given():
    entries = [
        Entry("CN=Domain Admins,CN=Users,DC=c,DC=com", {
            "objectClass": ["group"], "objectSid": [ad.sid_to_bytes(f"{DOM}-512")],
            "member": ["CN=ann,CN=Users,DC=c,DC=com"]}),
        Entry("CN=DnsAdmins,CN=Users,DC=c,DC=com", {
            "objectClass": ["group"], "sAMAccountName": ["DnsAdmins"],
            "objectSid": [ad.sid_to_bytes(f"{DOM}-1101")]}),
        Entry("CN=Administrators,CN=Builtin,DC=c,DC=com", {
            "objectClass": ["group"], "objectSid": [ad.sid_to_bytes("S-1-5-32-544")]}),
        Entry("CN=Domain Users,CN=Users,DC=c,DC=com", {
            "objectClass": ["group"], "objectSid": [ad.sid_to_bytes(f"{DOM}-513")]}),
        group("cn=ldap-writers,dc=x", "cn=u,dc=x"),
    ]
    with pytest.warns(GraphWarning, match="'cn=nowhere,dc=x'"):
        G = graph.from_entries(entries, privileged=["CN=LDAP-Writers,DC=X", "cn=nowhere,dc=x"])
    assert graph.privileged_groups(G) == {
        "CN=Domain Admins,CN=Users,DC=c,DC=com", "CN=DnsAdmins,CN=Users,DC=c,DC=com",
        "CN=Administrators,CN=Builtin,DC=c,DC=com", "cn=ldap-writers,dc=x"}
    assert G.nodes["CN=Domain Admins,CN=Users,DC=c,DC=com"]["privileged_by"] == (
        "RID 512 (Domain Admins)")
    assert G.nodes["cn=ldap-writers,dc=x"]["privileged_by"] == "given"
    assert ("cn=nowhere,dc=x", "privileged", "cn=nowhere,dc=x") in G.graph["unresolved"]


FSP_SID = "S-1-5-21-3623811015-3361044348-30300820-1013"
FSP = f"CN={FSP_SID},CN=ForeignSecurityPrincipals,DC=c,DC=com"


def not_principals() -> list[Entry]:
    """Entries with an objectSid that are neither users, groups nor computers."""
    return [
        Entry("DC=c,DC=com", {"objectClass": ["top", "domain"],
                              "objectSid": [ad.sid_to_bytes(DOM)]}),
        Entry(FSP, {"objectClass": ["top", "foreignSecurityPrincipal"], "cn": [FSP_SID],
                    "objectSid": [ad.sid_to_bytes(FSP_SID)]}),
        Entry("CN=odd,DC=c,DC=com", {"objectClass": ["top"],
                                     "objectSid": [ad.sid_to_bytes(f"{DOM}-1200")]}),
        Entry("CN=ann,DC=c,DC=com", {"objectClass": ["user"], "primaryGroupID": ["1200"],
                                     "objectSid": [ad.sid_to_bytes(f"{DOM}-1104")]}),
    ]


def test_privileged_sid_of_an_entry_that_is_not_yet_a_node():
    entries = not_principals()
    G = graph.from_entries(entries)
    assert FSP not in G and "DC=c,DC=com" not in G
    with pytest.raises(NoSuchEntry, match="no node of this membership graph"):
        graph.lookup(G, FSP_SID)  # a SID finds nodes only, never a name outside G
    assert G.graph["sids"][FSP_SID] == FSP  # the SIDs of every entry read
    # by SID (any case) as by DN: the entry becomes a node, marked privileged (was KeyError)
    by_sid = graph.from_entries(entries, privileged=[FSP_SID.lower()])
    by_dn = graph.from_entries(entries, privileged=[FSP.upper()])
    assert by_sid.nodes[FSP] == by_dn.nodes[FSP] == {
        "kind": "group", "dangling": False, "label": FSP_SID, "sid": FSP_SID,
        "privileged": True, "privileged_by": "given"}
    assert graph.lookup(by_sid, FSP_SID) == FSP
    assert by_sid.graph["unresolved"] == by_dn.graph["unresolved"] == []
    assert graph.privileged_groups(by_sid) == {FSP}


def test_primary_group_whose_entry_is_not_a_group_is_a_node_with_attributes():
    G = graph.from_entries(not_principals())
    assert ("CN=ann,DC=c,DC=com", "CN=odd,DC=c,DC=com") in G.edges
    assert G.nodes["CN=odd,DC=c,DC=com"] == {
        "kind": "group", "dangling": False, "label": "odd", "sid": f"{DOM}-1200",
        "privileged": False, "privileged_by": ""}
    assert graph.lookup(G, f"{DOM}-1200") == "CN=odd,DC=c,DC=com"


def test_privileged_names_in_no_entry_are_named_in_a_warning():
    entries = not_principals()
    gone = f"{DOM}-9999"
    with pytest.warns(GraphWarning, match=f"{gone}.*'cn=nowhere,dc=x'") as seen:
        G = graph.from_entries(entries, privileged=[gone, "cn=nowhere,dc=x", FSP_SID])
    assert len(seen) == 1
    assert G.graph["unresolved"] == [(gone, "privileged", gone),
                                     ("cn=nowhere,dc=x", "privileged", "cn=nowhere,dc=x")]
    assert graph.privileged_groups(G) == {FSP}


# ------------------------------------------------------------------------------------------
# effective membership, why, cycles, depth
# ------------------------------------------------------------------------------------------


@pytest.fixture
def nested() -> nx.DiGraph:
    # u1 -> g1 -> g2 -> g3 -> g2 (cycle g2/g3), u2 -> g3, g4 holds g1 and g3 directly
    return graph.from_entries([
        person("uid=u1,dc=x"), person("uid=u2,dc=x"),
        group("cn=g1,dc=x", "uid=u1,dc=x"),
        group("cn=g2,dc=x", "cn=g1,dc=x", "cn=g3,dc=x"),
        group("cn=g3,dc=x", "cn=g2,dc=x", "uid=u2,dc=x"),
        group("cn=g4,dc=x", "cn=g1,dc=x", "cn=g3,dc=x"),
        group("cn=self,dc=x", "cn=self,dc=x", "uid=u2,dc=x"),
    ])


def test_effective_members_and_groups(nested):
    assert graph.effective_members(nested, "cn=g3,dc=x") == {
        "uid=u1,dc=x", "uid=u2,dc=x", "cn=g1,dc=x", "cn=g2,dc=x"}
    assert graph.effective_groups(nested, "UID=U1,DC=X") == {
        "cn=g1,dc=x", "cn=g2,dc=x", "cn=g3,dc=x", "cn=g4,dc=x"}
    assert "cn=self,dc=x" not in graph.effective_members(nested, "cn=self,dc=x")
    with pytest.raises(NoSuchEntry):
        graph.effective_members(nested, "cn=nope,dc=x")


def test_effective_membership_in_bulk_equals_one_by_one(nested):
    bulk = graph.effective_membership(nested)
    for node, groups in bulk.items():
        assert groups == graph.effective_groups(nested, node)
    assert set(bulk) == {n for n in nested if nested.succ[n]}
    assert graph.effective_membership(nested, ["uid=u1,dc=x"]) == {
        "uid=u1,dc=x": frozenset(graph.effective_groups(nested, "uid=u1,dc=x"))}


def test_membership_object_bulk_accessors(nested):
    m = graph.effective_membership(nested)
    assert isinstance(m, graph.Membership)
    u1 = graph.effective_groups(nested, "uid=u1,dc=x")
    assert m["UID=U1, DC=X"] == u1  # any spelling finds the row
    with pytest.raises(KeyError):
        m["cn=nope,dc=x"]
    assert "uid=u1,dc=x" in m and "cn=nope,dc=x" not in m
    pairs = set(m.pairs())
    assert pairs == {(n, g) for n in m for g in m[n]}
    frame = m.to_frame()
    assert set(zip(frame["member"], frame["group"], strict=True)) == pairs
    assert m.counts()["uid=u1,dc=x"] == len(u1)
    assert m.matrix.shape == (len(m), len(m.groups)) and m.matrix.nnz == len(pairs)
    for g in m.groups:
        assert m.members_of(g) == {n for n, gg in pairs if gg == g}
    assert "pairs" in repr(m)
    # members asked for explicitly, even with no group, and a cycle member never in itself
    some = graph.effective_membership(nested, ["cn=g2,dc=x", "uid=u1,dc=x", "uid=u1,dc=x"])
    assert list(some) == ["cn=g2,dc=x", "uid=u1,dc=x"]
    assert "cn=g2,dc=x" not in some["cn=g2,dc=x"]
    assert len(graph.effective_membership(nx.DiGraph())) == 0


def test_why(nested):
    assert graph.why(nested, "uid=u1,dc=x", "cn=g4,dc=x") == [
        ["uid=u1,dc=x", "cn=g1,dc=x", "cn=g4,dc=x"]]
    assert graph.why(nested, "uid=u1,dc=x", "cn=g3,dc=x", all_shortest=True) == [
        ["uid=u1,dc=x", "cn=g1,dc=x", "cn=g2,dc=x", "cn=g3,dc=x"]]
    assert graph.why(nested, "uid=u2,dc=x", "cn=g1,dc=x") == []
    assert graph.why(nested, "cn=g2,dc=x", "cn=g2,dc=x") == [
        ["cn=g2,dc=x", "cn=g3,dc=x", "cn=g2,dc=x"]]
    assert graph.why(nested, "cn=self,dc=x", "cn=self,dc=x") == [["cn=self,dc=x"] * 2]
    assert graph.why(nested, "cn=g1,dc=x", "cn=g1,dc=x") == []


def test_why_all_shortest_finds_every_chain():
    G = nx.DiGraph([("u", "a"), ("u", "b"), ("a", "top"), ("b", "top")])
    assert sorted(graph.why(G, "u", "top", all_shortest=True)) == [
        ["u", "a", "top"], ["u", "b", "top"]]
    assert len(graph.why(G, "u", "top")) == 1


def test_cycles(nested):
    assert graph.cycles(nested) == [["cn=self,dc=x"], ["cn=g2,dc=x", "cn=g3,dc=x"]]


def test_cycles_limit():
    G = nx.complete_graph(6, create_using=nx.DiGraph)
    with pytest.raises(LimitExceeded) as info:
        graph.cycles(G, limit=10)
    assert len(info.value.partial) == 10


def test_depth(nested):
    # groups only; the g2/g3 cycle is one level: g1 -> {g2,g3} -> g4 ... g4 holds g3
    assert graph.depth(nested, "cn=g1,dc=x") == 0
    assert graph.depth(nested, "cn=g2,dc=x") == 1
    assert graph.depth(nested, "cn=g3,dc=x") == 1
    assert graph.depth(nested, "cn=g4,dc=x") == 2
    assert graph.depth(nested, "cn=self,dc=x") == 0
    assert graph.depth(nested, "uid=u1,dc=x") == 0
    assert graph.depths(nested) == {
        "cn=g1,dc=x": 0, "cn=g2,dc=x": 1, "cn=g3,dc=x": 1, "cn=g4,dc=x": 2, "cn=self,dc=x": 0}


def test_depth_is_longest_chain_without_cycles():
    G = nx.DiGraph([("a", "b"), ("b", "c"), ("c", "d"), ("a", "d"), ("u", "a")])
    assert graph.depth(G, "d") == 3


def test_membership_frame(nested):
    m = graph.membership_frame(nested)
    rows = {(r.member, r.group): (r.direct, r.depth, r.via) for r in m.itertuples()}
    assert rows[("uid=u1,dc=x", "cn=g1,dc=x")] == (True, 1, ("cn=g1,dc=x",))
    assert rows[("uid=u1,dc=x", "cn=g3,dc=x")] == (
        False, 3, ("cn=g1,dc=x", "cn=g2,dc=x", "cn=g3,dc=x"))
    assert rows[("uid=u1,dc=x", "cn=g4,dc=x")] == (False, 2, ("cn=g1,dc=x", "cn=g4,dc=x"))
    assert ("cn=g2,dc=x", "cn=g2,dc=x") not in rows  # never a member of itself
    assert ("cn=self,dc=x", "cn=self,dc=x") not in rows
    bulk = graph.effective_membership(nested)
    assert {k for k in rows} == {(n, g) for n, gs in bulk.items() for g in gs}
    for (member, group_), (_, depth_, via) in rows.items():
        [chain] = graph.why(nested, member, group_)
        assert len(chain) - 1 == depth_ and chain[1:] == list(via)
    assert set(m.columns) == {"member", "member_kind", "group", "direct", "depth", "via"}
    assert m.loc[m.member == "uid=u1,dc=x", "member_kind"].unique().tolist() == ["user"]


def test_membership_frame_for_some_members_and_empty(nested):
    m = graph.membership_frame(nested, ["UID=U2,DC=X"])
    assert set(m.group) == {"cn=g2,dc=x", "cn=g3,dc=x", "cn=g4,dc=x", "cn=self,dc=x"}
    assert len(graph.membership_frame(nx.DiGraph())) == 0


def test_exports(nested, tmp_path):
    graph.to_graphml(nested, tmp_path / "g.graphml")
    back = nx.read_graphml(tmp_path / "g.graphml")
    assert set(back.edges) == set(nested.edges)
    assert back.nodes["uid=u1,dc=x"]["kind"] == "user"
    assert back.nodes["uid=u1,dc=x"]["sid"] == ""
    assert back.edges["uid=u1,dc=x", "cn=g1,dc=x"]["via"] == "member"
    graph.to_gexf(nested, tmp_path / "g.gexf")
    assert set(nx.read_gexf(tmp_path / "g.gexf").edges) == set(nested.edges)
    graph.to_parquet(nested, tmp_path / "m.parquet")
    table = pd.read_parquet(tmp_path / "m.parquet")
    assert len(table) == len(graph.membership_frame(nested))
    assert list(table.loc[(table.member == "uid=u1,dc=x") & (table.group == "cn=g3,dc=x"),
                          "via"].iloc[0]) == ["cn=g1,dc=x", "cn=g2,dc=x", "cn=g3,dc=x"]


# ------------------------------------------------------------------------------------------
# property: random group DAGs plus random cycles against a plain BFS
# ------------------------------------------------------------------------------------------


def naive_members(edges: set[tuple[str, str]], target: str) -> set[str]:
    found: set[str] = set()
    queue = deque([target])
    while queue:
        current = queue.popleft()
        for member, grp in edges:
            if grp == current and member not in found:
                found.add(member)
                queue.append(member)
    found.discard(target)
    return found


@st.composite
def membership(draw):
    n_groups = draw(st.integers(1, 12))
    n_users = draw(st.integers(0, 8))
    groups = [f"cn=g{i},dc=x" for i in range(n_groups)]
    users = [f"uid=u{i},dc=x" for i in range(n_users)]
    edges = set()
    for i in range(n_groups):  # a DAG: group i may hold groups j < i
        for j in draw(st.sets(st.integers(0, max(0, i - 1)), max_size=3)) if i else ():
            edges.add((groups[j], groups[i]))
    for u in users:
        for i in draw(st.sets(st.integers(0, n_groups - 1), max_size=3)):
            edges.add((u, groups[i]))
    for a, b in draw(st.lists(st.tuples(st.integers(0, n_groups - 1),
                                        st.integers(0, n_groups - 1)), max_size=4)):
        edges.add((groups[a], groups[b]))  # back edges and self loops: cycles
    return groups, users, edges


@settings(max_examples=150, deadline=None)
@given(membership())
def test_effective_members_equals_naive_reference(data):
    groups, users, edges = data
    holders: dict[str, list[str]] = {g: [] for g in groups}
    for member, grp in edges:
        holders[grp].append(member)
    entries = [person(u) for u in users]
    entries += [group(g, *sorted(holders[g])) for g in groups]
    G = graph.from_entries(entries)
    bulk = graph.effective_membership(G)
    frame = graph.membership_frame(G)
    pairs = set(zip(frame["member"], frame["group"], strict=True))
    for g in groups:
        expected = naive_members(edges, g)
        assert graph.effective_members(G, g) == expected
        assert {m for m, gg in pairs if gg == g} == expected
        for m in expected:
            assert g in bulk[m]
            assert g in graph.effective_groups(G, m)


# ------------------------------------------------------------------------------------------
# real data: the OpenLDAP test suite
# ------------------------------------------------------------------------------------------


def data_edges(entries: list[Entry]) -> set[tuple[str, str]]:
    """(member, group) straight from the data, normalised, memberUid resolved plainly."""
    by_uid = {}
    for e in entries:
        for uid in e.get("uid", []):
            by_uid.setdefault(uid, []).append(e.dn)
    out = set()
    for e in entries:
        for value in e.get("member", []) + e.get("uniqueMember", []):
            if value:
                out.add((normalize(re.sub(r"#'[01]*'B$", "", value)), normalize(e.dn)))
        for uid in e.get("memberUid", []):
            for dn in by_uid.get(uid, [f"uid={uid}"]):
                out.add((normalize(dn), normalize(e.dn)))
    return out


def graph_edges(G: nx.DiGraph) -> set[tuple[str, str]]:
    return {(normalize(u), normalize(v)) for u, v in G.edges}


@pytest.mark.parametrize("name", ["nis_sample.ldif", "test.ldif"])
def test_corpus_graph_matches_data(name):
    entries = list(read_entries(CORPORA / name))
    G = graph.from_entries(entries)
    expected = data_edges(entries)
    assert expected  # the file does hold membership
    assert graph_edges(G) == expected
    dns = {normalize(e.dn) for e in entries}
    for node, dangling in G.nodes(data="dangling"):
        assert dangling == (normalize(node) not in dns)


def test_nis_sample_member_uid_resolves_to_accounts():
    G = graph.from_entries(read_entries(CORPORA / "nis_sample.ldif"))
    root = graph.lookup(G, "uid=root, o=SGI, c=US")
    assert G.nodes[root]["kind"] == "user"
    assert graph.lookup(G, "cn=daemon, o=SGI, c=US") in graph.effective_groups(G, root)


def memberof_sections() -> list[list[Entry]]:
    text = (CORPORA / "memberof.out").read_text()
    chunks = re.split(r"^# .*\n", text, flags=re.M)
    return [loads(chunk) for chunk in chunks if chunk.strip()]


def test_memberof_out_matches_computed_direct_groups():
    sections = memberof_sections()
    assert len(sections) >= 6
    compared = 0
    for entries in sections:
        G = graph.from_entries(entries, attributes=["member"])
        for e in entries:
            if normalize(e.dn) not in G.graph["index"]:
                continue
            node = graph.lookup(G, e.dn)
            computed = {normalize(g) for g in G.succ[node]}
            expected = {normalize(v) for v in e.get("memberOf", [])}
            assert computed == expected, e.dn
            compared += 1
    assert compared > 20


def test_directory_graph_privileged_by_sid_of_a_foreign_principal():
    from ldapnb import Directory

    d = Directory.embedded("contoso")
    sid = "S-1-5-21-3623811015-3361044348-30300820-1013"
    fsp = f"CN={sid},CN=ForeignSecurityPrincipals,DC=contoso,DC=com"
    G = d.graph(privileged=[sid])  # was a KeyError
    assert G.nodes[fsp]["privileged_by"] == "given" and G.nodes[fsp]["sid"] == sid
    assert graph.lookup(G, sid) == fsp
    with pytest.warns(GraphWarning, match="S-1-5-21-1-2-3-512"):
        G = d.graph(privileged=["S-1-5-21-1-2-3-512"])
    assert ("S-1-5-21-1-2-3-512", "privileged", "S-1-5-21-1-2-3-512") in G.graph["unresolved"]


def test_with_rights_gives_a_trustee_that_is_no_node_every_node_attribute():
    """A right held by an entry that is not in the membership graph (a foreignSecurityPrincipal
    in no group) makes it a node with the attributes every node has, not a bare one."""
    from ldapnb.entry import Entry

    fsp_sid = "S-1-5-21-9-9-9-1105"
    fsp = f"CN={fsp_sid},CN=ForeignSecurityPrincipals,dc=x"
    G = graph.from_entries([
        Entry("cn=da,dc=x", {"objectClass": ["group"], "objectSid": ["S-1-5-21-1-2-3-512"]}),
        Entry(fsp, {"objectClass": ["foreignSecurityPrincipal"], "objectSid": [fsp_sid]})])
    assert fsp not in G
    H = graph.with_rights(G, pd.DataFrame({"trustee": [fsp_sid, fsp_sid],
                                           "object": ["cn=da,dc=x", "ou=tier0,dc=x"],
                                           "edge": ["AddMember", "GenericAll"]}))
    every = set(G.nodes["cn=da,dc=x"])
    for node in (fsp, "ou=tier0,dc=x"):
        assert set(H.nodes[node]) == every and H.nodes[node]["kind"] == "object"
    assert H.nodes[fsp]["sid"] == fsp_sid and H.nodes[fsp]["label"] == fsp_sid
    assert graph.why(H, fsp, "cn=da,dc=x") == [[fsp, "cn=da,dc=x"]]
    frame = graph.membership_frame(H, [fsp])  # its kind is a category, not a NaN
    assert frame["member_kind"].tolist() == ["object", "object"]
    assert sorted(frame["group"]) == ["cn=da,dc=x", "ou=tier0,dc=x"]


# -- issue 12 §4 / issue 11: names, users-only results, rights edges ------------------------


def test_groups_by_name_or_sid_and_users_only():
    from ldapnb import Directory

    G = Directory.embedded("contoso").graph()
    by_dn = graph.effective_members(G, "CN=Domain Admins,CN=Users,DC=contoso,DC=com")
    assert graph.effective_members(G, "Domain Admins") == by_dn
    assert graph.effective_members(G, "S-1-5-21-1004336348-1177238915-682003330-512") == by_dn
    users = graph.effective_members(G, "domain admins", kind="user")
    assert users < by_dn and all(G.nodes[n]["kind"] == "user" for n in users)
    assert {G.nodes[n]["label"] for n in by_dn - users} == {"IT Admins", "Tier0 Ops"}
    assert len(users) == 7  # six by membership, Daniel Silva by primaryGroupID 512
    twins = graph.from_entries([
        Entry("cn=ops,ou=a,dc=x", {"objectClass": ["groupOfNames"], "member": ["cn=u,dc=x"]}),
        Entry("cn=ops,ou=b,dc=x", {"objectClass": ["groupOfNames"], "member": ["cn=u,dc=x"]})])
    with pytest.raises(NoSuchEntry, match="give a DN or SID"):
        graph.lookup(twins, "ops")
