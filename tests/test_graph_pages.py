"""The column-page graph builder (``graph.from_pages``, what ``Directory.graph()`` calls) makes
the same graph as the Entry-by-Entry builder it replaced (``tests/graph_oracle.py``): same
nodes, edges, node and edge attributes, index, SIDs and unresolved list."""

from __future__ import annotations

from typing import Any

import networkx as nx
import pytest
from graph_oracle import from_entries as oracle
from hypothesis import given, settings
from hypothesis import strategies as st
from page_datasets import DIRECTORIES, IDS, built

from ldapnb import Directory, ad, graph, synthetic
from ldapnb.directory import fixtures
from ldapnb.entry import Entry
from ldapnb.errors import DnError, GraphWarning, LdapnbError
from ldapnb.sources.base import DEFAULT_PAGE_SIZE, ColumnPage, pages_from_entries
from ldapnb.sources.embedded import EmbeddedDirectory

# what Directory.graph() read before it read pages
OLD_ATTRIBUTES = ["objectClass", "cn", "uid", "member", "uniqueMember", "memberUid",
                  "sAMAccountName", "objectSid", "primaryGroupID", "userAccountControl",
                  "groupType", "memberOf"]


def same(new: nx.DiGraph, old: nx.DiGraph) -> None:
    # predecessors agree with successors (the builder fills networkx's dicts itself)
    assert {(u, v) for v in new for u in new.pred[v]} == set(new.edges)
    assert list(new.pred) == list(new.succ) == list(new.nodes)
    assert dict(new.nodes(data=True)) == dict(old.nodes(data=True))
    assert {(u, v): d for u, v, d in new.edges(data=True)} == \
        {(u, v): d for u, v, d in old.edges(data=True)}
    assert new.graph["index"] == old.graph["index"]
    assert new.graph["sids"] == old.graph["sids"]
    assert sorted(new.graph["unresolved"]) == sorted(old.graph["unresolved"])


def directories() -> list[tuple[str, Directory]]:
    out = [(name, Directory.embedded(name)) for name in fixtures()]
    for style in ("openldap", "ad"):
        d = Directory.from_entries(
            synthetic.generate(300, n_groups=40, depth=4, cycles=2, style=style, seed=3))
        out.append((f"synthetic-{style}", d))
    return out


@pytest.mark.parametrize("name,d", directories(), ids=lambda x: x if isinstance(x, str) else "")
def test_directory_graph_is_the_old_graph(name: str, d: Directory) -> None:
    old = oracle(d.entries(attributes=OLD_ATTRIBUTES))
    assert old.number_of_edges() > 0, name
    same(d.graph(), old)
    same(graph.from_entries(d.entries(attributes=OLD_ATTRIBUTES)), old)
    # every entry, every attribute; only member (memberOf computed by the server differs)
    everything = list(d.entries(attributes=["*", "+"]))
    same(graph.from_entries(everything), oracle(everything))
    same(graph.from_entries(everything, attributes=["member"]),
         oracle(everything, attributes=["member"]))
    # privileged= by DN and by SID
    some = sorted(old.nodes)[:3] + ["cn=not there,dc=x"]
    sids = [s for s, n in old.graph["sids"].items() if n in old][:2]
    with pytest.warns(GraphWarning, match="'cn=not there,dc=x'"):
        given = d.graph(privileged=some + sids)
    same(given, oracle(everything, privileged=some + sids))


def test_pages_with_bytes_options_and_spellings_are_read_like_entries() -> None:
    entries = [
        Entry("cn=G,dc=x", {"objectClass": ["groupOfNames"], "member": ["cn=a,dc=x"],
                            "member;range=1-*": [" CN=B, DC=X "], "cn": ["G"]}),
        Entry("cn=a,dc=x", {"objectClass": ["person"], "cn": [""], "uid": ["ann"]}),
        Entry("cn=b,dc=x", {"objectClass": ["PERSON"], "sAMAccountName": ["bee"]}),
        Entry("cn=p,dc=x", {"objectClass": ["posixGroup"], "memberUid": ["ANN", "zed"]}),
        Entry("cn=u,dc=x", {"objectClass": ["groupOfUniqueNames"],
                            "uniqueMember": ["cn=a,dc=x#'0101'B", "ou=x,dc=x"]}),
        Entry("ou=x,dc=x", {"objectClass": ["organizationalUnit"]}),
        Entry("cn=o,dc=x", {"objectClass": ["organizationalRole"], "memberOf": ["cn=G,dc=x"]}),
        Entry("cn=a,dc=x", {"objectClass": ["group"], "cn": ["twice"]}),
        Entry("cn=n,dc=x", {"objectClass": ["inetOrgPerson"], "cn;lang-de": ["N"]}),
    ]
    old = oracle(entries)
    same(graph.from_entries(entries), old)
    # the same entries as bytes pages of two rows, with a column spelt two ways
    pages: list[ColumnPage] = []
    for page in pages_from_entries(entries, 2):
        cols: dict[str, list[Any]] = {}
        for name, col in page.columns.items():
            shown = name.upper() if len(pages) % 2 else name
            cols[shown] = [[v.encode() for v in values] for values in col]
        pages.append(ColumnPage(page.dns, cols))
    same(graph.from_pages(pages), old)
    assert old.edges["cn=b,dc=x", "cn=G,dc=x"]["via"] == frozenset({"member"})


def test_errors_say_where() -> None:
    bad = [Entry("cn=g,dc=x", {"objectClass": ["groupOfNames"], "member": ["not a dn"]})]
    with pytest.raises(DnError, match="member of cn=g,dc=x"):
        graph.from_entries(bad)
    page = ColumnPage(["cn=g,dc=x"], {"member": [[b"\xff"]]})
    with pytest.raises(LdapnbError, match="cn=g,dc=x: a member value is not UTF-8"):
        graph.from_pages([page])


@pytest.mark.parametrize("name,d", DIRECTORIES, ids=IDS)
def test_fast_pages_make_the_general_paths_graph(name: str, d: Directory) -> None:
    """``d.graph()`` reads the embedded directory's column pages (gathered from the stored
    entries); the general path presents an Entry per match and pages them.  Same graph: nodes,
    edges, attributes, index, SIDs, unresolved, warnings (and errors)."""
    src = d.source
    assert isinstance(src, EmbeddedDirectory)
    attributes = graph.GRAPH_ATTRIBUTES

    def general(**kw: Any) -> nx.DiGraph:
        entries = src.search(d.base, "sub", "(objectClass=*)", attributes)
        return graph.from_pages(pages_from_entries(entries, DEFAULT_PAGE_SIZE, attributes), **kw)

    sids = sorted(src.search_dns(d.base, "sub", "(objectSid=*)"))[:3]
    privileged = [src.get_normalized(n, ["objectSid"]).first("objectSid") for n in sids]
    given = [ad.sid_to_str(v) for v in privileged if v is not None] + [
        "S-1-5-21-1-2-3-4", "cn=not there,dc=x", *sorted(src.search_dns(d.base, "one",
                                                                         "(objectClass=*)"))[:2]]
    outcomes = []
    for kw in ({}, {"privileged": given}, {"attributes": ["member", "memberOf"]}):
        want, want_warned = built(lambda: general(**kw))  # noqa: B023
        outcomes.append(want)
        got, got_warned = built(lambda: d.graph(**kw))  # noqa: B023
        assert got_warned == want_warned, name
        if isinstance(want, tuple):
            assert got == want, name
            continue
        same(got, want)
        assert got.graph["unresolved"] == want.graph["unresolved"]
        if kw.get("privileged"):
            assert ("S-1-5-21-1-2-3-4", "privileged", "S-1-5-21-1-2-3-4") in got.graph[
                "unresolved"] and got_warned
    if name == "test-dn.ldif":
        assert isinstance(outcomes[0], tuple) and outcomes[0][0] is DnError
    else:
        assert outcomes[0].number_of_edges() > 0, name


_PEOPLE = [f"uid=u{i},ou=p,dc=x" for i in range(6)]
_GROUPS = [f"cn=g{i},ou=g,dc=x" for i in range(4)]
_SPELLINGS = st.sampled_from([str, str.upper, lambda dn: dn.replace(",", ", ")])
_TARGET = st.sampled_from(_PEOPLE + _GROUPS + ["uid=gone,ou=p,dc=x", "cn=gone,ou=g,dc=x"])


@settings(max_examples=150, deadline=None)
@given(members=st.lists(st.lists(st.tuples(_TARGET, _SPELLINGS), max_size=7),
                        min_size=4, max_size=4),
       member_of=st.lists(st.lists(st.tuples(st.sampled_from(_GROUPS + ["cn=gone,dc=x"]),
                                             _SPELLINGS), max_size=4),
                          min_size=6, max_size=6),
       order=st.randoms(use_true_random=False))
def test_member_and_member_of_in_any_order_make_the_old_graph(
        members: list[list[tuple[str, Any]]], member_of: list[list[tuple[str, Any]]],
        order: Any) -> None:
    """Groups read before or after their members (their memberOf made the edges first, or
    not), values listed twice, spelt three ways, naming entries or nobody: every way the
    builder links a list of values (all new, all there already, some of each) makes the
    oracle's graph."""
    entries = [Entry(dn, {"objectClass": ["inetOrgPerson"], "cn": [dn[4:6]],
                          **({"memberOf": [spell(g) for g, spell in mof]} if mof else {})})
               for dn, mof in zip(_PEOPLE, member_of, strict=True)]
    entries += [Entry(dn, {"objectClass": ["groupOfNames"],
                           **({"member": [spell(m) for m, spell in mem]} if mem else {})})
                for dn, mem in zip(_GROUPS, members, strict=True)]
    order.shuffle(entries)
    same(graph.from_entries(entries), oracle(entries))
