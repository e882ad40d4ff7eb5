"""Issue 11: AD security posture on real Samba descriptors and contoso's planted cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ldapnb import Directory, audit, graph, security
from ldapnb.errors import LdapnbError, SchemaError

DATA = Path(__file__).parent / "data" / "samba_descriptors.json"
REFERENCE = datetime(2026, 11, 1, tzinfo=UTC)
C = "DC=contoso,DC=com"
SVC = f"OU=Service Accounts,{C}"
SAMBA_SID = "S-1-5-21-1749404752-1428732582-930096494"


@pytest.fixture(scope="module")
def findings():
    return audit.run(Directory.embedded("contoso"), now=REFERENCE)


def subjects(f, check):
    return set(f.loc[f["check"] == check, "subject"])


# -- decoding real Samba descriptors -------------------------------------------------------


def test_samba_descriptors_decode_to_named_aces():
    frame = security.aces(json.loads(DATA.read_text()))
    head = frame[frame["object"] == "DC=contoso,DC=test"]
    assert head["owner_name"].iloc[0] == "Administrators"
    dcsync = head[head["trustee"] == f"{SAMBA_SID}-1103"]
    assert set(dcsync["object_type_name"]) == {"DS-Replication-Get-Changes",
                                               "DS-Replication-Get-Changes-All"}
    assert (dcsync["rights"].map(tuple) == ("ExtendedRight",)).all()
    # the reset-password delegation on the OU is inheritable, for user objects, not here
    ou = frame[(frame["object"] == "OU=Helpdesk Delegation,DC=contoso,DC=test")
               & (frame["object_type_name"] == "User-Force-Change-Password")]
    assert ou[["applies_here", "container_inherit", "inherited_object_type_name"]].values \
        .tolist() == [[False, True, "user"]]
    # ...and arrives on the user in it as an inherited ACE that applies
    edges = security.edges(frame)
    reset = edges[(edges["edge"] == "ForceChangePassword")]
    assert reset[["object", "inherited"]].values.tolist() == [
        ["CN=svc_plain,OU=Helpdesk Delegation,DC=contoso,DC=test", True]]
    generic = edges[(edges["trustee"] == f"{SAMBA_SID}-1105") & (edges["edge"] == "GenericAll")]
    assert list(generic["object"]) == ["CN=Domain Admins,CN=Users,DC=contoso,DC=test"]


def test_binary_sddl_round_trip_is_lossless():
    for dn, value in json.loads(DATA.read_text()).items():
        a = security.aces({dn: value})
        b = security.aces({dn: security.from_sddl(security.to_sddl(value),
                                                  domain_sid=SAMBA_SID)})
        assert a.drop(columns="rights").fillna("").values.tolist() == \
            b.drop(columns="rights").fillna("").values.tolist(), dn


def test_bad_descriptors_are_schema_errors():
    real = json.loads(DATA.read_text())["DC=contoso,DC=test"]
    import base64

    for bad in (b"\x01\x00garbage", base64.b64decode(real)[:200]):
        with pytest.raises(SchemaError, match="CN=x"):
            security.aces({"CN=x": bad})
    with pytest.raises(SchemaError, match="domain_sid"):
        security.parse("O:DAG:DAD:(A;;GA;;;DA)")


# -- the planted cases and their controls ----------------------------------------------------


def test_dcsync_found_and_half_right_control_not(findings):
    assert subjects(findings, "dcsync") == {f"CN=svc_scan,{SVC}"}  # not svc_sql (Get-Changes)
    row = findings[findings["check"] == "dcsync"].iloc[0]
    assert row["rule_id"] == "ACL-01" and row["attack"] == "T1003.006"
    assert row["chain"] == [f"CN=svc_scan,{SVC}", C]


def test_adminsdholder_write_found_defaults_not(findings):
    assert subjects(findings, "adminsdholder-acl") == {f"CN=svc_web,{SVC}"}
    # Samba's default ACEs on the Tier-0 groups (Domain Admins, SYSTEM, Account Operators,
    # Enterprise Admins, Administrators; Authenticated Users read) are by design
    assert subjects(findings, "tier0-acl") == {f"CN=GG_SQL Service,OU=Groups,OU=Corp,{C}"}
    row = findings[findings["check"] == "tier0-acl"].iloc[0]
    assert row["evidence"]["rights"] == ["AddMember"]
    assert row["evidence"]["object"] == f"CN=Domain Admins,CN=Users,{C}"
    broad = findings[findings["check"] == "broad-group-rights"]
    assert broad[["subject", "severity"]].values.tolist() == [
        [f"CN=GG_Finance Reports,OU=Groups,OU=Corp,{C}", "medium"]]  # not Tier 0
    assert broad["evidence"].iloc[0]["trustee"] == "Domain Users"


def test_control_path_chains_mix_membership_and_rights(findings):
    paths = findings[findings["check"] == "control-path"]
    helpdesk = paths[paths["subject"].str.contains("OU=IT")]
    assert len(helpdesk) == 2
    steps = helpdesk["evidence"].iloc[0]["steps"]
    assert steps[1:] == ["member of GG_Helpdesk", "GenericAll on Tier0 Ops",
                         "member of IT Admins", "member of Domain Admins"]
    # the control: helpdesk's reset-password right on an ordinary Sales user is no path
    assert not any("Sales" in s for s in paths["subject"])
    by_name = {e["account"]: e["steps"] for e in paths["evidence"]}
    assert by_name["svc_sql"] == ["svc_sql", "member of GG_SQL Service",
                                  "AddMember on Domain Admins"]
    assert by_name["svc_scan"] == ["svc_scan", "DCSync on contoso"]
    assert by_name["svc_web"] == ["svc_web", "WriteDacl on AdminSDHolder"]
    assert len(paths) == 5
    d = Directory.embedded("contoso")
    ctx_chain = helpdesk["chain"].iloc[0]
    H = graph.with_rights(d.graph(), security.edges(security.aces(d)))
    assert graph.why(H, ctx_chain[0], "Domain Admins") == [ctx_chain]
    assert graph.why(H, ctx_chain[0], "Domain Admins", via=["member"]) == []


def test_delegation_accounts_and_kerberos(findings):
    assert subjects(findings, "constrained-delegation-protocol-transition") == {
        f"CN=WEB01,OU=Servers,{C}"}
    high = findings[(findings["check"] == "sid-history") & (findings["severity"] == "high")]
    assert list(high["subject"]) == [f"CN=Yara Brennan,OU=Marketing,OU=Corp,{C}"]
    assert subjects(findings, "hidden-admin-primary-group") == {
        f"CN=Daniel Silva,OU=HR,OU=Corp,{C}"}
    assert subjects(findings, "password-not-required") == {
        f"CN=Marco Olsen,OU=Sales,OU=Corp,{C}"}  # never the disabled Guest
    assert subjects(findings, "krbtgt-password-age") == {f"CN=krbtgt,CN=Users,{C}"}
    delegable = {s.split(",")[0] for s in subjects(findings, "privileged-delegable")}
    assert delegable == {"CN=Daniel Silva", "CN=Frank Müller", "CN=Grace Lee",
                         "CN=Henry Adams", "CN=svc_backup"}  # Protected Users are not


def test_acl_coverage_says_what_the_rights_checks_did_not_see(findings):
    row = findings[findings["check"] == "acl-coverage"].iloc[0]
    # contoso's background entries carry an owner-only placeholder descriptor (no DACL)
    # read: domain head, AdminSDHolder, 10 privileged groups, Tier0 Ops, GG_Finance Reports,
    # a Sales user, DC01, DC02
    assert row["evidence"]["dacl_read"] == 17
    assert row["evidence"]["tier0_not_covered"] == ["Domain Controllers OU"]
    assert row["severity"] == "medium"


def test_null_dacl_is_everyone_full_control_but_an_unread_dacl_is_not():
    from ldapnb.synthetic import security_descriptor

    unread = security_descriptor("S-1-5-32-544")  # owner and group only
    null = bytearray(unread)
    null[2] |= 0x4  # SE_DACL_PRESENT, no DACL offset: a NULL DACL
    assert security.aces({"CN=x": unread})["type"].tolist() == ["DACL not read"]
    edges = security.edges(security.aces({"CN=x": bytes(null)}))
    assert ["S-1-1-0", "GenericAll"] in edges[["trustee", "edge"]].values.tolist()


def test_hardening_plants_and_controls(findings):
    rbcd = findings[findings["check"] == "resource-based-delegation"]
    assert rbcd[["subject", "severity"]].values.tolist() == [[f"CN=APP01,OU=Servers,{C}",
                                                             "medium"]]
    assert rbcd["evidence"].iloc[0]["allowed_to_act"] == ["WEB02$"]
    assert rbcd["chain"].iloc[0] == [f"CN=WEB02,OU=Servers,{C}", f"CN=APP01,OU=Servers,{C}"]
    laps = findings[findings["check"] == "laps-coverage"].iloc[0]
    # 94 enabled non-DC computers (gmsa_sql$ is no machine), 60 workstations with LAPS
    assert (laps["evidence"]["computers"], laps["evidence"]["with_laps"]) == (94, 60)
    assert laps["severity"] == "medium"  # deployed, not everywhere
    assert "WS0001$" not in laps["evidence"]["examples_without"]
    assert findings.loc[findings["check"] == "machine-account-quota", "evidence"].iloc[0] \
        == {"ms-DS-MachineAccountQuota": 10}
    pre = findings[findings["check"] == "pre-windows-2000-anonymous"]
    assert [e["sid"] for e in pre["evidence"]] == ["S-1-5-7"]  # never Authenticated Users
    assert subjects(findings, "dsheuristics-anonymous") == {
        f"CN=Directory Service,CN=Windows NT,CN=Services,CN=Configuration,{C}"}
    gmsa = findings[findings["check"] == "gmsa-password-readers"].iloc[0]
    assert gmsa["severity"] == "high" and gmsa["evidence"]["readers"] == [
        "Domain Computers", "SQL01$"]
    fsp = findings[findings["check"] == "foreign-security-principal"]
    assert [e["sid"] for e in fsp["evidence"]] == [
        "S-1-5-21-3623811015-3361044348-30300820-1013"]  # the orphan, not S-1-5-11/-7


def test_rules_catalogue_is_complete_and_unique():
    r = audit.rules()
    assert r["rule_id"].is_unique and (r["rule_id"] != "").all()
    assert set(r["check"]) == set(audit.CHECKS)
    assert r.set_index("check").loc["unconstrained-delegation", "pingcastle"] == \
        "P-UnconstrainedDelegation"


# -- waivers ----------------------------------------------------------------------------------


def test_waivers_mark_findings_and_expired_ones_are_findings(tmp_path):
    path = tmp_path / "waivers.toml"
    path.write_text('''
[[waiver]]
rule = "KRB-05"
object = "svc_sql"
reason = "SQL needs the SPN; 30-char random password"
owner = "dba@contoso.com"
expires = 2027-06-30

[[waiver]]
rule = "dcsync"
object = "svc_scan"
reason = "old sync tool"
owner = "it@contoso.com"
expires = 2026-01-31
''')
    f = audit.run(Directory.embedded("contoso"), now=REFERENCE, waivers=path)
    kerb = f[(f["check"] == "kerberoastable") & f["subject"].str.startswith("CN=svc_sql")]
    assert kerb["waived"].tolist() == [True] and "dba@contoso.com" in kerb["waiver"].iloc[0]
    dcsync = f[f["check"] == "dcsync"]
    assert dcsync["waived"].tolist() == [False]  # expired: waives nothing...
    expired = f[f["check"] == "waiver-expired"]
    assert expired["subject"].tolist() == ["svc_scan"]  # ...and is a finding itself
    assert expired["evidence"].iloc[0]["days_ago"] == 274


def test_waiver_errors_say_what_is_wrong(tmp_path):
    with pytest.raises(LdapnbError, match="lacks owner"):
        audit.run(Directory.embedded("tiny"), waivers=[{"rule": "empty-group", "object": "*",
                                                        "reason": "x", "expires": "2030-01-01"}])
    with pytest.raises(LdapnbError, match="unknown rule"):
        audit.run(Directory.embedded("tiny"), waivers=[{
            "rule": "nope", "object": "*", "reason": "x", "owner": "y",
            "expires": "2030-01-01"}])


# -- snapshot diff: rights as well as memberships ------------------------------------------


def test_diff_shows_rights_gained_and_lost():
    old, new = Directory.embedded("contoso"), Directory.embedded("contoso")
    da = f"CN=Domain Admins,CN=Users,{C}"
    sid = "S-1-5-21-1004336348-1177238915-682003330"
    sddl = security.to_sddl(new.get(da).first("nTSecurityDescriptor"))
    nina = new.get(f"CN=Nina Berg,OU=Marketing,OU=Corp,{C}")
    from ldapnb import ad

    nina_sid = ad.sid_to_str(nina.first("objectSid"))
    head, _, aces = sddl.partition("D:")
    flags = aces[:len(aces) - len(aces.lstrip("PAIRCU"))]
    granted = f"{head}D:{flags}(A;;WD;;;{nina_sid}){aces[len(flags):]}"
    new.modify(da, [("replace", "nTSecurityDescriptor",
                     security.from_sddl(granted, domain_sid=sid))])
    # and the planted DCSync of svc_scan is gone from the domain head
    head_sd = security.to_sddl(new.get(C).first("nTSecurityDescriptor"))
    svc_scan = ad.sid_to_str(new.get(f"CN=svc_scan,{SVC}").first("objectSid"))
    import re

    cleaned = re.sub(r"\([^()]*;" + re.escape(svc_scan) + r"\)", "", head_sd)
    new.modify(C, [("replace", "nTSecurityDescriptor",
                    security.from_sddl(cleaned, domain_sid=sid))])
    d = audit.diff(old, new)
    assert d.rights_gained[["trustee_name", "object", "edge"]].values.tolist() == [
        ["nina.berg", da, "WriteDacl"]]
    assert sorted(d.rights_lost["edge"]) == ["GetChanges", "GetChangesAll"]
    assert set(d.rights_lost["trustee_name"]) == {"svc_scan"}
    assert d.edges_added.empty  # no membership changed
    f = d.to_findings()
    assert set(f["check"]) == {"right-gained", "right-lost"}
    assert f.loc[f["check"] == "right-gained", "severity"].tolist() == ["high"]
