"""audit.run, audit.diff: hand-written expectations from the fixtures' answer key
(ldapnb/fixtures/README.md), typed in by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from ldapnb import Directory, audit, fixtures, graph
from ldapnb.dn import normalize
from ldapnb.entry import Entry
from ldapnb.errors import LdapnbError
from ldapnb.filters import escape

REFERENCE = datetime(2026, 11, 1, tzinfo=UTC)
C = "DC=contoso,DC=com"
USERS = f"CN=Users,{C}"
BUILTIN = f"CN=Builtin,{C}"
GROUPS = f"OU=Groups,OU=Corp,{C}"
DA = f"CN=Domain Admins,{USERS}"
EA = f"CN=Enterprise Admins,{USERS}"
SA = f"CN=Schema Admins,{USERS}"
ADMINS = f"CN=Administrators,{BUILTIN}"
ACCOUNT_OPS = f"CN=Account Operators,{BUILTIN}"
SERVER_OPS = f"CN=Server Operators,{BUILTIN}"
BACKUP_OPS = f"CN=Backup Operators,{BUILTIN}"

ADMINISTRATOR = f"CN=Administrator,{USERS}"
KIM = f"CN=Kim Larsen,OU=Admins,OU=Corp,{C}"
LOPEZ = f"CN=Sofía López,OU=Admins,OU=Corp,{C}"
NOVAK = f"CN=Tomas Novak,OU=Admins,OU=Corp,{C}"
ALICE = f"CN=Alice Martin,OU=IT,OU=Corp,{C}"
BRUNO = f"CN=Bruno Costa,OU=IT,OU=Corp,{C}"
CHEN = f"CN=Chen Wei,OU=IT,OU=Corp,{C}"
DANA = f"CN=Dana Okafor,OU=IT,OU=Corp,{C}"
EVE = f"CN=Eve Kowalski,OU=Disabled,{C}"
FRANK = f"CN=Frank Müller,OU=IT,OU=Corp,{C}"
GRACE = f"CN=Grace Lee,OU=IT,OU=Corp,{C}"
HENRY = f"CN=Henry Adams,OU=IT,OU=Corp,{C}"
SVC_BACKUP = f"CN=svc_backup,OU=Service Accounts,{C}"
BKP01 = f"CN=BKP01,OU=Servers,{C}"
IVAN = f"CN=Ivan Petrov,OU=Sales,OU=Corp,{C}"
DANIEL = f"CN=Daniel Silva,OU=HR,OU=Corp,{C}"  # hidden Domain Admin: primaryGroupID 512

# The answer key's table: account -> its shortest chain to a privileged group (the first
# privileged group on the way; Administrator is direct in four).
CHAINS = {
    KIM: [KIM, DA],
    LOPEZ: [LOPEZ, EA],
    NOVAK: [NOVAK, f"CN=IT Admins,{GROUPS}", DA],
    ALICE: [ALICE, f"CN=Tier0 Ops,{GROUPS}", f"CN=IT Admins,{GROUPS}", DA],
    BRUNO: [BRUNO, f"CN=Helpdesk Leads,{GROUPS}", ACCOUNT_OPS],
    CHEN: [CHEN, f"CN=Server Team,{GROUPS}", SERVER_OPS],
    DANA: [DANA, f"CN=Ops Escalation L1,{GROUPS}", f"CN=Ops Escalation L2,{GROUPS}",
           f"CN=Ops Escalation L3,{GROUPS}", EA],
    EVE: [EVE, DA],
    FRANK: [FRANK, f"CN=IT Admins,{GROUPS}", DA],
    GRACE: [GRACE, SA],
    HENRY: [HENRY, f"CN=Tier1 Server Admins,{GROUPS}", SERVER_OPS],
    SVC_BACKUP: [SVC_BACKUP, f"CN=Backup Service Accounts,{GROUPS}", BACKUP_OPS],
    BKP01: [BKP01, BACKUP_OPS],
    DANIEL: [DANIEL, DA],
}
NESTED_ONLY = {NOVAK, ALICE, BRUNO, CHEN, DANA, FRANK, HENRY, SVC_BACKUP}
CLEAN = {ADMINISTRATOR, KIM, LOPEZ, NOVAK}
QUIET = {ALICE, BRUNO, CHEN, DANA}  # privileged through nesting and nothing else


@pytest.fixture(scope="module")
def contoso_findings() -> pd.DataFrame:
    return audit.run(Directory.embedded("contoso"), now=REFERENCE)


def subjects(findings: pd.DataFrame, check: str) -> set[str]:
    return set(findings.loc[findings["check"] == check, "subject"])


def evidence(findings: pd.DataFrame, check: str, subject: str) -> dict:
    rows = findings[(findings["check"] == check) & (findings["subject"] == subject)]
    assert len(rows) == 1, (check, subject, len(rows))
    return rows["evidence"].iloc[0]


def test_columns_and_severity_order(contoso_findings):
    f = contoso_findings
    assert list(f.columns) == ["check", "severity", "subject", "evidence", "rule", "rule_id",
                               "pingcastle", "attack", "chain", "remediation", "waived",
                               "waiver"]
    assert list(f["severity"].cat.categories) == ["high", "medium", "low", "info"]
    assert f["severity"].is_monotonic_increasing
    assert set(f["check"]) <= set(audit.CHECKS)
    assert all(isinstance(r, str) and r for r in f["rule"])


def test_every_privileged_account_with_its_chain(contoso_findings):
    f = contoso_findings
    inventory = f[f["check"] == "privileged-member"]
    assert set(inventory["subject"]) == set(CHAINS) | {ADMINISTRATOR}
    for account, chain in CHAINS.items():
        rows = inventory[inventory["subject"] == account]
        shortest = min(rows["evidence"], key=lambda e: e["depth"])
        assert shortest["chain"] == chain, account
        assert shortest["depth"] == len(chain) - 1
    admin = inventory[inventory["subject"] == ADMINISTRATOR]
    direct = {e["group"] for e in admin["evidence"] if e["direct"]}
    assert direct == {DA, EA, SA, ADMINS, f"CN=Group Policy Creator Owners,{USERS}"}
    # nested-only accounts have no direct row; every DA/EA member reaches Administrators
    for account in NESTED_ONLY:
        assert not any(e["direct"] for e in inventory.loc[
            inventory["subject"] == account, "evidence"]), account
    in_admins = {e["chain"][0] for e in inventory["evidence"] if e["group"] == ADMINS}
    assert in_admins == {ADMINISTRATOR, KIM, LOPEZ, NOVAK, ALICE, DANA, EVE, FRANK,
                         DANIEL}
    dana_ea = [e for e in inventory.loc[inventory["subject"] == DANA, "evidence"]
               if e["group"] == ADMINS]
    assert dana_ea[0]["chain"] == [*CHAINS[DANA], ADMINS]
    # domain controllers' membership of Domain Controllers is by design: not listed
    assert not any("DC01" in s or "DC02" in s for s in inventory["subject"])


def test_planted_risks_on_privileged_accounts(contoso_findings):
    f = contoso_findings
    assert subjects(f, "privileged-disabled") == {EVE}
    assert evidence(f, "privileged-disabled", EVE)["userAccountControl"] == 514
    assert subjects(f, "privileged-stale") == {FRANK, EVE}
    stale = evidence(f, "privileged-stale", FRANK)
    assert stale["lastLogonTimestamp"].startswith("2025-09-27T08:00")
    assert stale["days_since_logon"] == 399  # 2025-09-27 08:00 -> 2026-11-01 00:00
    assert stale["chain"] == CHAINS[FRANK]
    assert subjects(f, "privileged-password-never-expires") == {GRACE, SVC_BACKUP}
    assert evidence(f, "privileged-password-never-expires", GRACE)["userAccountControl"] \
        == 66048
    assert subjects(f, "privileged-no-preauth") == {HENRY}
    assert evidence(f, "privileged-no-preauth", HENRY)["userAccountControl"] == 4194816
    assert subjects(f, "privileged-kerberoastable") == {SVC_BACKUP}
    kerb = evidence(f, "privileged-kerberoastable", SVC_BACKUP)
    assert sorted(kerb["servicePrincipalName"]) == [
        "BackupAgent/bkp01", "BackupAgent/bkp01.contoso.com"]
    assert kerb["chain"] == CHAINS[SVC_BACKUP]
    assert subjects(f, "privileged-computer") == {BKP01}
    assert set(f.loc[f["check"].str.contains("kerberoastable"), "subject"]) == {
        SVC_BACKUP, f"CN=svc_sql,OU=Service Accounts,{C}",
        f"CN=svc_web,OU=Service Accounts,{C}"}  # never krbtgt, never a computer
    assert subjects(f, "admincount-orphan") == {IVAN}  # not krbtgt
    assert subjects(f, "unconstrained-delegation") == {f"CN=APP02,OU=Servers,{C}"}
    assert set(f.loc[f["severity"] == "high", "check"]) == {
        "privileged-no-preauth", "privileged-kerberoastable", "unconstrained-delegation",
        # the issue-11 plants (see test_ad_posture.py)
        "dcsync", "tier0-acl", "adminsdholder-acl", "control-path", "sid-history",
        "hidden-admin-primary-group", "constrained-delegation-protocol-transition",
        "pre-windows-2000-anonymous", "dsheuristics-anonymous", "gmsa-password-readers"}


def test_no_findings_on_clean_accounts(contoso_findings):
    f = contoso_findings
    others = f[f["check"] != "privileged-member"]
    for dn in CLEAN | QUIET:
        assert dn not in set(others["subject"]), dn
        mentioned = [e for e in others["evidence"] if (e.get("chain") or [None])[0] == dn]
        assert mentioned == [], dn


def test_group_hygiene(contoso_findings):
    f = contoso_findings
    phoenix, atlas, orion = (f"CN=GG_Project {x},{GROUPS}" for x in ("Phoenix", "Atlas", "Orion"))
    [cycle] = f.loc[f["check"] == "membership-cycle", "evidence"]
    assert set(cycle["cycle"]) == {phoenix, atlas, orion} and len(cycle["cycle"]) == 4
    assert subjects(f, "deep-nesting") == {f"CN=GG_Deep L7,{GROUPS}"}
    deep = evidence(f, "deep-nesting", f"CN=GG_Deep L7,{GROUPS}")
    assert deep["depth"] == 6
    assert deep["chain"] == [f"CN=GG_Deep L{i},{GROUPS}" for i in range(1, 8)]
    # Domain Users / Guests / Computers / Controllers have members by primaryGroupID
    # Print Operators is empty in a fresh domain and should stay so: not a finding (issue 13)
    assert subjects(f, "empty-group") == {f"CN=GG_Empty Project,{GROUPS}"}
    assert subjects(f, "dangling-member") == {f"CN=GG_Finance Reports,{GROUPS}"}
    assert evidence(f, "dangling-member", f"CN=GG_Finance Reports,{GROUPS}")["member"] == \
        f"CN=Former Contractor,OU=Contractors,OU=Corp,{C}"
    assert subjects(f, "user-without-group") == {
        f"CN={n},OU=Marketing,OU=Corp,{C}" for n in ("Nina Berg", "Omar Haddad", "Paula Rossi")}
    assert subjects(f, "duplicate-account-name") == {
        f"CN=John Smith,OU=Sales,OU=Corp,{C}", f"CN=Jennifer Smith,OU=Finance,OU=Corp,{C}"}
    assert subjects(f, "memberuid-without-account") == set()


def test_thresholds_are_parameters():
    d = Directory.embedded("contoso")
    f = audit.run(d, now=REFERENCE, stale_days=500, max_depth=6,
                  checks=["privileged-stale", "deep-nesting"])
    assert set(f["check"]) == set()  # frank is 399 days, eve 209; L7 is 6 deep
    f = audit.run(d, now=REFERENCE, stale_days=200, max_depth=4,
                  checks=["privileged-stale", "deep-nesting"])
    assert subjects(f, "privileged-stale") == {FRANK, EVE}
    assert f"CN=GG_Deep L6,{GROUPS}" in subjects(f, "deep-nesting")
    assert ADMINS not in subjects(f, "deep-nesting")  # 4 levels below it: dana's chain


def test_bad_arguments():
    d = Directory.embedded("tiny")
    with pytest.raises(LdapnbError, match="unknown check"):
        audit.run(d, checks=["no-such-check"])
    with pytest.raises(LdapnbError, match="stale_days"):
        audit.run(d, stale_days=-1)
    with pytest.raises(LdapnbError, match="cannot audit"):
        audit.run(42)  # type: ignore[arg-type]


def test_graph_only_audit_runs_graph_checks():
    G = Directory.embedded("contoso").graph()
    f = audit.run(G, now=REFERENCE)
    assert "privileged-disabled" not in set(f["check"])  # needs entries
    # Print Operators is empty in a fresh domain and should stay so: not a finding (issue 13)
    assert subjects(f, "empty-group") == {f"CN=GG_Empty Project,{GROUPS}"}
    assert {e["chain"][0] for e in f.loc[f["check"] == "privileged-member", "evidence"]} == \
        set(CHAINS) | {ADMINISTRATOR}


# ------------------------------------------------------------------------------------------
# the OpenLDAP-style example fixture
# ------------------------------------------------------------------------------------------

ORG = "dc=example,dc=org"
LDAP_ADMINS = f"cn=ldap-admins,ou=Groups,{ORG}"


def test_example_fixture_openldap_findings():
    f = audit.run(Directory.embedded("example"), now=REFERENCE, privileged=[LDAP_ADMINS])
    assert subjects(f, "memberuid-without-account") == {f"cn=developers,ou=Groups,{ORG}"}
    assert evidence(f, "memberuid-without-account",
                    f"cn=developers,ou=Groups,{ORG}")["memberUid"] == "ghost"
    assert subjects(f, "dangling-member") == {f"cn=vpn-users,ou=Groups,{ORG}"}
    assert evidence(f, "dangling-member", f"cn=vpn-users,ou=Groups,{ORG}")["member"] == \
        f"uid=former,ou=People,{ORG}"
    assert subjects(f, "empty-group") == {f"cn=empty-project,ou=Groups,{ORG}"}
    assert "placeholder" in evidence(f, "empty-group", f"cn=empty-project,ou=Groups,{ORG}")["why"]
    [cycle] = f.loc[f["check"] == "membership-cycle", "evidence"]
    assert set(cycle["cycle"]) == {f"cn={x},ou=Groups,{ORG}"
                                   for x in ("reviewers", "approvers", "auditors")}
    assert subjects(f, "duplicate-account-name") == {
        f"uid=jsmith,ou=Sales,ou=People,{ORG}", f"cn=Jack Smith,ou=Contractors,{ORG}"}
    no_group = subjects(f, "user-without-group")
    assert f"uid=nagios,ou=Services,{ORG}" in no_group
    assert f"uid=mailer,ou=Services,{ORG}" in no_group
    assert f"cn=Doe\\, Jane,ou=Contractors,{ORG}" not in no_group
    assert len(no_group) == 14  # 12 contractors + nagios + mailer
    # ldap-admins: sysadmin and sre directly; oncall's and sre's members through nesting
    inventory = f[f["check"] == "privileged-member"]
    people = {e["account"]: e["chain"] for e in inventory["evidence"]}
    assert len(people) == 7
    assert people["sysadmin"] == [f"uid=sysadmin,ou=Engineering,ou=People,{ORG}", LDAP_ADMINS]
    assert people["kjensen"] == [f"uid=kjensen,ou=Engineering,ou=People,{ORG}",
                                 f"cn=oncall,ou=Groups,{ORG}", f"cn=sre,ou=Groups,{ORG}",
                                 LDAP_ADMINS]
    assert subjects(f, "deep-nesting") == set()  # all-staff is 4 deep


def test_example_without_privileged_list_has_no_inventory():
    f = audit.run(Directory.embedded("example"), now=REFERENCE)
    assert subjects(f, "privileged-member") == set()


# ------------------------------------------------------------------------------------------
# the in-chain rule of the embedded directory agrees with the graph, everywhere
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", fixtures())
def test_in_chain_rule_agrees_with_graph_for_every_group(name):
    d = Directory.embedded(name)
    G = d.graph()
    groups = [n for n, data in G.nodes(data=True)
              if data.get("kind") == "group" and not data.get("dangling")]
    assert len(groups) >= 2
    for g in groups:
        found = {normalize(e.dn) for e in d.entries(
            f"(memberOf:1.2.840.113556.1.4.1941:={escape(g)})", attributes=["1.1"])}
        # the embedded directory computes memberOf from member and uniqueMember (so its
        # in-chain rule follows both); only example's vpn-users (groupOfUniqueNames) differs
        # from via={"member"}
        via = {"member", "uniqueMember"}
        expected = {normalize(m) for m in graph.effective_members(G, g, via=via)
                    if not G.nodes[m].get("dangling")}
        # the one difference in definition: a group on a membership cycle is in its own
        # chain for the matching rule, while effective_members never lists the group
        if graph.why(G, g, g, via=via):
            expected.add(normalize(g))
        assert found == expected, g


# ------------------------------------------------------------------------------------------
# diff
# ------------------------------------------------------------------------------------------


def test_diff_of_a_modified_contoso():
    old = Directory.embedded("contoso")
    new = Directory.embedded("contoso")
    sales = f"CN=Ines Duarte,OU=Sales,OU=Corp,{C}"
    new.add(sales, {
        "objectClass": ["top", "person", "organizationalPerson", "user", "extensibleObject"],
        "cn": "Ines Duarte", "sn": "Duarte", "sAMAccountName": "ines.duarte",
        "userAccountControl": "512", "instanceType": "4",
        "objectCategory": f"CN=Person,CN=Schema,CN=Configuration,{C}",
        "nTSecurityDescriptor": old.get(IVAN, ["nTSecurityDescriptor"])[
            "nTSecurityDescriptor"][0],
    })
    tier0 = f"CN=Tier0 Ops,{GROUPS}"
    new.modify(tier0, [("add", "member", sales)])
    nina = f"CN=Nina Berg,OU=Marketing,OU=Corp,{C}"
    new.delete(nina)
    new.modify(GRACE, [("replace", "title", "Chief Architect")])
    old_title = old.get(GRACE, ["title"]).get("title", [])

    d = audit.diff(old, new)
    assert d.added["dn"].tolist() == [sales]
    assert d.removed["dn"].tolist() == [nina]
    assert sorted(d.changed[["dn", "attribute"]].values.tolist()) == sorted(
        [[GRACE, "title"], [tier0, "member"]])
    title = d.changed[d.changed["attribute"] == "title"].iloc[0]
    assert title["old"] == list(old_title) and title["new"] == ["Chief Architect"]
    assert d.edges_added[["member", "group"]].values.tolist() == [[sales, tier0]]
    assert d.edges_added["via"].tolist() == [["member"]]
    # nina was in no group but her primary group
    assert d.edges_removed.values.tolist() == [[nina, f"CN=Domain Users,{USERS}",
                                                ["primaryGroupID"]]]
    gained = d.privilege_gained
    assert set(gained["member"]) == {sales}
    assert set(gained["group"]) == {DA, ADMINS}
    chain_da = gained.loc[gained["group"] == DA, "chain"].iloc[0]
    assert chain_da == [sales, tier0, f"CN=IT Admins,{GROUPS}", DA]
    assert d.privilege_lost.empty
    assert d.summary()["privilege_gained"] == 2
    findings = d.to_findings()
    assert set(findings["check"]) == {"privilege-gained"}
    assert "privilege_gained=2" in repr(d)


def test_diff_privilege_lost_with_the_old_chain_and_entries():
    G_entries = [
        Entry(f"cn=ops,{ORG}", {"objectClass": ["groupOfNames"], "cn": ["ops"],
                              "member": [f"cn=team,{ORG}"]}),
        Entry(f"cn=team,{ORG}", {"objectClass": ["groupOfNames"], "cn": ["team"],
                               "member": [f"uid=ann,{ORG}"]}),
        Entry(f"uid=ann,{ORG}", {"objectClass": ["inetOrgPerson"], "uid": ["ann"],
                               "userPassword": ["old-secret"]}),
    ]
    after = [G_entries[0], Entry(f"cn=team,{ORG}", {"objectClass": ["groupOfNames"],
                                                  "cn": ["team"], "member": [""]}),
             Entry(f"uid=ann,{ORG}", {"objectClass": ["inetOrgPerson"], "uid": ["ann"],
                                    "userPassword": ["new-secret"]})]
    d = audit.diff(G_entries, after, privileged=[f"CN=Ops,{ORG}"])
    assert d.privilege_gained.empty
    assert d.privilege_lost[["member", "group", "chain"]].values.tolist() == [
        [f"uid=ann,{ORG}", f"cn=ops,{ORG}", [f"uid=ann,{ORG}", f"cn=team,{ORG}", f"cn=ops,{ORG}"]]]
    assert d.edges_removed[["member", "group"]].values.tolist() == [
        [f"uid=ann,{ORG}", f"cn=team,{ORG}"]]
    secret = d.changed[d.changed["attribute"] == "userPassword"].iloc[0]
    assert "old-secret" not in repr(secret.tolist()) and secret["new"] == ["********"]


def test_diff_reads_ldif_snapshots(tmp_path):
    from ldapnb import ldif

    old = Directory.embedded("tiny")
    path_old = tmp_path / "old.ldif"
    path_new = tmp_path / "new.ldif"
    entries = list(old.entries())
    path_old.write_text(ldif.dumps(entries), encoding="utf-8")
    changed = [e if e.dn != "uid=erin,ou=People,dc=example,dc=com" else
               Entry(e.dn, {**e.to_dict(), "title": ["CFO"]}) for e in entries]
    path_new.write_text(ldif.dumps(changed), encoding="utf-8")
    d = audit.diff(path_old, path_new)
    assert d.changed[["dn", "attribute", "new"]].values.tolist() == [
        ["uid=erin,ou=People,dc=example,dc=com", "title", ["CFO"]]]
    assert d.added.empty and d.removed.empty
    with pytest.raises(LdapnbError, match="no such snapshot"):
        audit.diff(tmp_path / "missing.ldif", path_new)


def test_diff_reads_parquet_snapshots_and_audit_reads_a_snapshot(tmp_path):
    from ldapnb import snapshot

    old = Directory.embedded("contoso")
    new = Directory.embedded("contoso")
    new.modify(f"CN=Helpdesk Leads,{GROUPS}", [("add", "member", IVAN)])
    snapshot.write(old, tmp_path / "old.parquet", progress=False)
    snapshot.write(new, tmp_path / "new.parquet", progress=False)
    d = audit.diff(tmp_path / "old.parquet", tmp_path / "new.parquet")
    assert d.privilege_gained[["member", "group", "chain"]].values.tolist() == [
        [IVAN, ACCOUNT_OPS, [IVAN, f"CN=Helpdesk Leads,{GROUPS}", ACCOUNT_OPS]]]
    f = audit.run(tmp_path / "new.parquet", now=REFERENCE, checks=["admincount-orphan"])
    assert f.empty  # ivan is privileged again: no longer an orphan
