"""Widgets, headless: set control values from Python, check the library's answer is shown."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from ldapnb import Directory, filters
from ldapnb.directory import fixture_path
from ldapnb.widgets import (
    AuditDashboard,
    FilterTutor,
    GroupExplorer,
    SearchExplorer,
    TreeBrowser,
    WireViewer,
    load_ldif,
    matched_leaves,
    name_filter,
    progress,
    track,
)

ALICE = "uid=alice,ou=People,dc=example,dc=com"
CAROL = "uid=carol,ou=People,dc=example,dc=com"
PEOPLE = [f"uid={u},ou=People,dc=example,dc=com"
          for u in ("alice", "bob", "carol", "dave", "erin", "frank")]
C = "DC=contoso,DC=com"


@pytest.fixture
def tiny() -> Directory:
    return Directory.embedded("tiny")


def test_import_ldapnb_does_not_import_ipywidgets():
    code = ("import sys, ldapnb; ldapnb.Directory.embedded('tiny'); "
            "print('ipywidgets' in sys.modules, 'ldapnb.widgets' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"]


# -- SearchExplorer ----------------------------------------------------------------------------
def test_search_filter_gives_that_dn_in_the_table(tiny):
    x = SearchExplorer(tiny)
    assert len(x.results) == 11
    x.filter.value = "(uid=alice)"
    assert x.results.dn.tolist() == [ALICE]
    assert x.table.df.dn.tolist() == [ALICE]  # what the sortable table holds
    assert "<b>1</b> entry" in x.status.value
    assert x.error is None


def test_search_table_masks_passwords_and_flattens_lists(tiny):
    x = SearchExplorer(tiny, filter="(uid=alice)")
    row = x.table.df.iloc[0]
    assert row["userPassword"] == "********"
    assert row["objectClass"] == "top; person; organizationalPerson; inetOrgPerson"
    assert "alice-pw" not in x.table._dt_args["data_json"]


def test_search_bad_filter_shows_message_and_caret_not_traceback(tiny):
    x = SearchExplorer(tiny, filter="(uid=alice)")
    x.filter.value = "(&(uid=alice)(cn=A*)"
    assert isinstance(x.error, filters.FilterError)
    assert x.error.position == 20
    assert "(position 20)" in x.status.value
    assert "\n" + " " * 20 + "^</pre>" in x.status.value
    assert "Traceback" not in x.status.value
    assert x.results.dn.tolist() == [ALICE]  # the last good answer stays
    x.filter.value = "(uid=bob)"
    assert x.error is None and x.results.dn.tolist() == [PEOPLE[1]]


def test_search_base_scope_attributes(tiny):
    x = SearchExplorer(tiny)
    assert x.base.options[0] == "dc=example,dc=com"
    assert "ou=People,dc=example,dc=com" in x.base.options
    x.base.value = "ou=People,dc=example,dc=com"
    x.scope.value = "one"
    assert sorted(x.results.dn) == PEOPLE
    x.scope.value = "base"
    assert x.results.dn.tolist() == ["ou=People,dc=example,dc=com"]
    x.scope.value = "sub"
    x.attributes.value = "cn, mail"
    assert x.results.columns.tolist() == ["dn", "cn", "mail"]
    x.filter.value = "(title=Developer)"
    assert x.table.df.cn.tolist() == ["Carol Clark", "Dave Davis"]


def test_search_unknown_base_is_a_message(tiny):
    x = SearchExplorer(tiny)
    x.base.options = [*x.base.options, "ou=Nowhere,dc=example,dc=com"]
    x.base.value = "ou=Nowhere,dc=example,dc=com"
    assert type(x.error).__name__ == "NoSuchEntry"
    assert "ou=Nowhere" in x.status.value and "dc=example,dc=com" in x.status.value


def test_search_size_limit_is_reported_not_a_short_table(tiny):
    x = SearchExplorer(tiny, size_limit=3)
    assert type(x.error).__name__ == "LimitExceeded"
    assert x.results is None


def test_name_filter_escapes_typed_text():
    text = "*)(uid=*"
    f = filters.parse(name_filter(text))
    assert isinstance(f, filters.Or) and len(f.children) == 4
    for child in f.children:  # one substring each, whose middle is the typed text, literally
        assert isinstance(child, filters.Substrings)
        assert child.any == (text,) and child.initial is None and child.final is None
    assert filters.attributes(f) == {"cn", "uid", "sn", "mail"}
    assert name_filter("  ") == "(objectClass=*)"
    assert name_filter("a\\b", ["cn"]) == "(|(cn=*a\\5cb*))"


def test_find_box_cannot_change_the_filter_meaning(tiny):
    x = SearchExplorer(tiny)
    x.find.value = "*"  # unescaped, (cn=***) would match every person
    assert x.filter.value == "(|(cn=*\\2a*)(uid=*\\2a*)(sn=*\\2a*)(mail=*\\2a*))"
    assert len(x.results) == 0
    x.find.value = "*)(uid=*"
    assert x.error is None and len(x.results) == 0
    x.find.value = "clark"
    assert x.results.dn.tolist() == [CAROL]


# -- TreeBrowser --------------------------------------------------------------------------------
def test_tree_expand_and_pick_shows_attributes_without_password(tiny):
    b = TreeBrowser(tiny)
    (root,) = b.tree.nodes
    assert root.name == "dc=example,dc=com  (2)" and not root.opened
    root.opened = True  # as a click on the toggle does
    assert [n.name for n in root.nodes] == ["ou=Groups  (2)", "ou=People  (6)"]
    people = root.nodes[1]
    people.opened = True
    alice = people.nodes[0]
    assert alice.name == "uid=alice" and alice.icon == "user"
    alice.selected = True  # as a click on the node does
    assert b.selected == ALICE and b.entry.first("cn") == "Alice Archer"
    assert "Alice Archer" in b.details.value and "alice@example.com" in b.details.value
    assert "userPassword" in b.details.value and "alice-pw" not in b.details.value
    people.nodes[1].selected = True
    assert b.selected == PEOPLE[1] and not alice.selected  # one pick at a time


def test_tree_goto_any_spelling_and_unknown_dn(tiny):
    b = TreeBrowser(tiny)
    b.goto.value = "CN=Developers, OU=groups, DC=Example, DC=COM"
    assert b.selected == "cn=developers,ou=Groups,dc=example,dc=com"
    assert "member" in b.details.value and b.node(b.selected).icon == "users"
    b.goto.value = "uid=zed,ou=People,dc=example,dc=com"
    assert "NoSuchEntry" in b.details.value and "uid=zed" in b.details.value


def test_tree_caps_children_and_still_reaches_the_rest(contoso):
    b = TreeBrowser(contoso, max_children=10)
    computers = b.node("CN=Computers," + C)
    b._fill("CN=Computers," + C)
    assert len(computers.nodes) == 11 and "70 more" in computers.nodes[-1].name
    entry = b.select("CN=WS0080,CN=Computers," + C)
    assert entry.dn == "CN=WS0080,CN=Computers," + C and b.node(entry.dn).icon == "desktop"


# -- FilterTutor --------------------------------------------------------------------------------
def test_tutor_parse_tree_and_trace_of_chosen_entry(tiny):
    t = FilterTutor(tiny)
    t.filter.value = "(&(objectClass=person)(|(uid=alice)(title=Dev*)))"
    assert t.tree.value.splitlines()[1:] == [
        "  equality   (objectClass=person)",
        "  OR: true when at least one filter inside is true   (|(uid=alice)(title=Dev*))",
        "    equality   (uid=alice)",
        "    substring   (title=Dev*)</pre>",
    ]
    t.entry.value = CAROL
    ((dn, tr),) = t.traces
    assert dn == CAROL and tr.result is True
    assert matched_leaves(tr) == ["(objectClass=person)", "(title=Dev*)"]
    assert tr.children[1].children[0].result is False  # (uid=alice) was false for carol
    assert "Developer" in t.output.value
    assert t.matches == 3  # alice, carol, dave


def test_tutor_first_n_entries_and_directory_rules(tiny):
    t = FilterTutor(tiny, filter="(memberOf=cn=developers,ou=Groups,dc=example,dc=com)")
    t.limit.value = 4
    assert [d for d, _ in t.traces] == list(t.entry.options[1:5])
    # memberOf is computed by the directory, as its searches do
    t.entry.value = CAROL
    assert t.traces[0][1].result is True
    assert t.matches == 3  # carol, dave and cn=admins are direct members
    t.filter.value = "(memberOf:1.2.840.113556.1.4.1941:=cn=developers,ou=Groups,dc=example,dc=com)"
    t.entry.value = ALICE
    assert t.traces[0][1].result is True and t.matches == 5  # in chain: + alice and bob


def test_tutor_bad_filter_and_masked_password(tiny):
    t = FilterTutor(tiny)
    t.filter.value = "(cn=a)(sn=b)"
    assert "(position 6)" in t.error.value and t.traces == [] and t.tree.value == ""
    t.filter.value = "(userPassword=alice-pw)"
    t.entry.value = ALICE
    assert t.traces[0][1].result is True
    assert "alice-pw" not in t.tree.value and "alice-pw" not in t.output.value


# -- GroupExplorer ------------------------------------------------------------------------------
def test_group_explorer_alice_martin_chain_from_answer_key(contoso):
    x = GroupExplorer(contoso)
    assert "Alice Martin (alice.martin)" in x.pick.options
    x.pick.value = "alice.martin"
    assert x.node == "CN=Alice Martin,OU=IT,OU=Corp," + C
    names = {x.label(g) for g in x.groups}
    assert {"Domain Admins", "Administrators", "IT Admins", "Tier0 Ops"} <= names
    x.target.value = "CN=Domain Admins,CN=Users," + C
    assert x.chain_labels() == ["Alice Martin", "Tier0 Ops", "IT Admins", "Domain Admins"]
    assert "Alice Martin → Tier0 Ops → IT Admins → Domain Admins" in x.chain_text.value
    x.target.value = "CN=Administrators,CN=Builtin," + C
    assert x.chain_labels()[-2:] == ["Domain Admins", "Administrators"]
    assert len(x.chain) == 5
    # the drawing: the picked node and its groups; the chain's edges marked
    drawn = x.drawn_graph()
    assert set(drawn) == {x.node} | x.groups
    chain_edges = [(e.data["source"], e.data["target"]) for e in x.drawing.graph.edges
                   if "chain" in e.classes.split()]
    assert chain_edges and set(chain_edges) == set(zip(x.chain, x.chain[1:], strict=False))


def test_group_explorer_group_members_and_big_groups(contoso):
    x = GroupExplorer(contoso, max_drawn=20)
    x.pick.value = "CN=domain admins, CN=users, DC=contoso, DC=com"
    users = {x.label(m) for m in x.members if x.G.nodes[m]["kind"] == "user"}
    assert users == {"Administrator", "Kim Larsen", "Tomas Novak", "Alice Martin",
                     "Eve Kowalski", "Frank Müller",
                     "Daniel Silva"}  # primaryGroupID 512: the hidden admin of issue 11
    assert "CN=Dana Okafor,OU=IT,OU=Corp," + C not in x.members  # Enterprise Admins only
    x.target.value = "CN=Tomas Novak,OU=Admins,OU=Corp," + C
    assert x.chain_labels() == ["Tomas Novak", "IT Admins", "Domain Admins"]
    # 325 members by primaryGroupID (Daniel Silva's is 512 since issue 11): too many to draw
    x.pick.value = "Domain Users"
    assert len(x.members) == 325
    assert len(x.drawn_graph()) <= 20


def test_group_explorer_unknown_and_ambiguous_names(contoso):
    x = GroupExplorer(contoso)
    x.pick.value = "nobody.here"
    assert "NoSuchEntry" in x.status.value
    x.pick.value = "jsmith"  # exact spelling wins over JSmith
    assert x.node == "CN=John Smith,OU=Sales,OU=Corp," + C


def test_group_explorer_svg_fallback(tiny):
    x = GroupExplorer(tiny)
    import ipywidgets as W

    x.drawing = W.HTML()  # what it uses when ipycytoscape is not installed
    x.pick.value = "bob"
    x.target.value = "cn=developers,ou=Groups,dc=example,dc=com"
    svg = x.drawing.value
    assert svg.startswith("<svg") and svg.count("<rect") == 3 and "Bob Baker" in svg


# -- WireViewer (a real exchange with a private slapd: fails, never skips, without slapd) ----
@pytest.fixture
def tiny_slapd(slapd_factory):
    return slapd_factory(fixture_path("tiny"))


def test_wire_viewer_shows_decoded_bind_request_in_clear(tiny_slapd):
    from ldapnb.teach import wire

    capture = wire.capture_bind(tiny_slapd, mode="plain", user=ALICE, password="alice-pw")
    v = WireViewer(capture)
    assert v.selected.operation == "bindRequest"  # shown first
    assert "the password can be read on the wire" in v.header.value
    html = v.fields.value
    for text in ("protocolOp.bindRequest.name", ALICE, "protocolOp.bindRequest.authentication"
                 ".simple", "alice-pw", "80 08 61 6c 69 63 65 2d 70 77"):
        assert text in html
    assert "alice-pw" in v.hexdump.value
    assert len(v.overview.df) == len(capture.messages)
    done = [i for i, m in enumerate(v.messages) if m.operation == "searchResDone"]
    v.message.value = done[0]
    assert v.selected.operation == "searchResDone" and "success" in v.summary.value


def test_wire_viewer_starttls_hides_the_password(tiny_slapd):
    from ldapnb.teach import wire

    capture = wire.capture_bind(tiny_slapd, mode="starttls", user=ALICE, password="alice-pw")
    v = WireViewer(capture)
    assert "the password cannot be read on the wire" in v.header.value
    assert v.selected.operation == "extendedReq"  # no readable bind: the first message
    assert "1.3.6.1.4.1.1466.20037" in v.fields.value
    encrypted = [i for i, m in enumerate(v.messages) if m.encrypted]
    assert encrypted and "🔒" in v.message.options[encrypted[0]][0]
    for i in range(len(v.messages)):
        v.message.value = i
        assert "alice-pw" not in v.fields.value + v.hexdump.value + v.summary.value
    v.message.value = encrypted[0]
    assert "encrypted - unreadable" in v.summary.value


# -- progress -----------------------------------------------------------------------------------
def test_progress_counts():
    import io

    with progress(5, "Loading", file=io.StringIO()) as bar:
        bar.update(2)
        bar.update(3)
    assert bar.n == 5 and bar.total == 5
    assert list(track(["a", "b"], 2, file=io.StringIO())) == ["a", "b"]

    d = load_ldif(fixture_path("tiny"), file=io.StringIO())
    assert len(d) == 11 and d.get(ALICE).first("cn") == "Alice Archer"


# -- AuditDashboard -----------------------------------------------------------------------------
REFERENCE = datetime(2026, 11, 1, tzinfo=UTC)  # the fixtures' "now" (fixtures/README.md)


def test_audit_stale_slider_changes_stale_findings(contoso):
    a = AuditDashboard(contoso, now=REFERENCE)
    stale = a.findings.loc[a.findings.check == "privileged-stale", "subject"].tolist()
    assert sorted(stale) == ["CN=Eve Kowalski,OU=Disabled," + C,
                             "CN=Frank Müller,OU=IT,OU=Corp," + C]  # 210 and 400 days
    a.stale_days.value = 300
    assert a.findings.loc[a.findings.check == "privileged-stale", "subject"].tolist() == [
        "CN=Frank Müller,OU=IT,OU=Corp," + C]
    a.stale_days.value = 450
    assert a.count("privileged-stale") == 0
    assert sum(a.counts.values()) == len(a.findings)
    assert f"<b>{len(a.findings)}</b> findings" in a.summary.value


def test_audit_depth_slider_and_severity_filter(contoso):
    a = AuditDashboard(contoso, now=REFERENCE)
    assert a.count("deep-nesting") == 1  # GG_Deep L7 only, deeper than 5
    a.max_depth.value = 3
    assert a.count("deep-nesting") > 1
    # henry.adams, svc_backup, APP02 and issue 11's rights/delegation/Kerberos plants
    assert a.counts["high"] == 17
    a.severity.value = "high"
    assert set(a.shown.severity) == {"high"} and len(a.table.df) == 17
    row = a.table.df.set_index("check").loc["privileged-no-preauth"]
    assert "account: henry.adams" in row.evidence
    assert "CN=Henry Adams → CN=Tier1 Server Admins → CN=Server Operators" in row.evidence
    a.severity.value = "all"
    assert len(a.table.df) == len(a.findings)
