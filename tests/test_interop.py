"""ldapdomaindump and BloodHound CE: written from contoso, read back, audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ldapnb import Directory, audit, graph, interop
from ldapnb.errors import LdapnbError, SchemaWarning

REFERENCE = datetime(2026, 11, 1, tzinfo=UTC)
C = "DC=contoso,DC=com"
DA = f"CN=Domain Admins,CN=Users,{C}"


@pytest.fixture(scope="module")
def contoso():
    return Directory.embedded("contoso")


def _members(d: Directory, group: str) -> set[str]:
    G = d.graph()
    return {G.nodes[n]["sid"] for n in graph.effective_members(G, group)}


def test_ldapdomaindump_files_follow_its_format(contoso, tmp_path):
    files = interop.write_ldapdomaindump(contoso, tmp_path)
    users = json.loads((tmp_path / "domain_users.json").read_text())
    assert isinstance(users, list) and all(set(u) == {"attributes", "dn"} for u in users)
    henry = next(u for u in users if u["attributes"]["sAMAccountName"] == ["henry.adams"])
    a = henry["attributes"]
    assert a["objectSid"][0].startswith("S-1-5-21-1004336348-")  # SIDs as text (ldap3)
    assert a["userAccountControl"] == [4194816] and a["primaryGroupID"] == [513]
    assert a["pwdLastSet"][0].endswith("+00:00")  # FILETIMEs as dates (ldap3)
    assert "nTSecurityDescriptor" not in a  # ldapdomaindump never has it
    assert len(json.loads(files[1].read_text())) == 97  # domain_computers: 96 + gmsa_sql$
    assert json.loads((tmp_path / "domain_trusts.json").read_text()) == []


def test_ldapdomaindump_round_trip_audits_like_the_original(contoso, tmp_path):
    interop.write_ldapdomaindump(contoso, tmp_path)
    d = Directory.from_entries(interop.read_ldapdomaindump(tmp_path), strict=False)
    assert _members(d, DA) == _members(contoso, DA)
    f = audit.run(d, now=REFERENCE)
    base = audit.run(contoso, now=REFERENCE)
    same = ("privileged-member", "privileged-no-preauth", "privileged-kerberoastable",
            "hidden-admin-primary-group", "sid-history", "unconstrained-delegation",
            "krbtgt-password-age", "password-not-required")
    for check in same:
        assert set(f.loc[f["check"] == check, "subject"]) == set(
            base.loc[base["check"] == check, "subject"]), check
    # no descriptors in an ldapdomaindump: the audit says its rights checks saw none
    coverage = f[f["check"] == "acl-coverage"].iloc[0]
    assert coverage["evidence"]["dacl_read"] == 0 and coverage["severity"] == "medium"
    assert "dcsync" not in set(f["check"])


def test_bloodhound_files_follow_the_ingest_models(contoso, tmp_path):
    interop.write_bloodhound(contoso, tmp_path)
    for stem in ("users", "groups", "computers", "domains"):
        doc = json.loads((tmp_path / f"{stem}.json").read_text())
        assert set(doc) == {"data", "meta"}
        assert doc["meta"]["type"] == stem and doc["meta"]["count"] == len(doc["data"])
        for o in doc["data"]:
            assert {"ObjectIdentifier", "Properties", "Aces", "IsDeleted",
                    "IsACLProtected"} <= set(o)
            for ace in o["Aces"]:
                assert set(ace) == {"PrincipalSID", "PrincipalType", "RightName",
                                    "IsInherited"}
    users = json.loads((tmp_path / "users.json").read_text())["data"]
    assert {"PrimaryGroupSID", "AllowedToDelegate", "SPNTargets", "HasSIDHistory",
            "DomainSID", "UnconstrainedDelegation"} <= set(users[0])
    groups = json.loads((tmp_path / "groups.json").read_text())["data"]
    da = next(g for g in groups if g["Properties"]["samaccountname"] == "Domain Admins")
    assert all(set(m) == {"ObjectIdentifier", "ObjectType"} for m in da["Members"])
    domain = json.loads((tmp_path / "domains.json").read_text())["data"][0]
    dcsync = {(a["PrincipalSID"], a["RightName"]) for a in domain["Aces"]}
    scan = next(u for u in users if u["Properties"]["samaccountname"] == "svc_scan")
    assert {(scan["ObjectIdentifier"], "GetChanges"),
            (scan["ObjectIdentifier"], "GetChangesAll")} <= dcsync
    computers = json.loads((tmp_path / "computers.json").read_text())["data"]
    app01 = next(c for c in computers if c["Properties"]["samaccountname"] == "APP01$")
    assert [a["ObjectType"] for a in app01["AllowedToAct"]] == ["Computer"]


def test_bloodhound_round_trip_finds_the_rights_and_delegation(contoso, tmp_path):
    interop.write_bloodhound(contoso, tmp_path)
    # BloodHound's files carry no groupType and upper-case DNs: the load says so, visibly
    with pytest.warns(SchemaWarning, match="other schema violations"):
        d = Directory.from_entries(interop.read_bloodhound(tmp_path), strict=False)
    assert any("groupType" in w for w in d.warnings)
    f = audit.run(d, now=REFERENCE)
    names = {c: {s.split(",")[0].upper() for s in f.loc[f["check"] == c, "subject"]}
             for c in set(f["check"])}
    assert names["dcsync"] == {"CN=SVC_SCAN"}
    assert names["tier0-acl"] == {"CN=GG_SQL SERVICE"}
    # AdminSDHolder is a container: BloodHound puts it in containers.json, not written here
    assert "adminsdholder-acl" not in names
    assert {"CN=SELIN BORG", "CN=ISABEL DUBOIS", "CN=SVC_SQL", "CN=SVC_SCAN"} <= \
        names["control-path"]
    assert names["resource-based-delegation"] == {"CN=APP01"}
    assert names["constrained-delegation-protocol-transition"] == {"CN=WEB01"}
    assert names["privileged-no-preauth"] == {"CN=HENRY ADAMS"}
    assert names["hidden-admin-primary-group"] == {"CN=DANIEL SILVA"}


def test_readers_say_what_is_wrong(tmp_path):
    with pytest.raises(LdapnbError, match="no ldapdomaindump JSON"):
        interop.read_ldapdomaindump(tmp_path)
    with pytest.raises(LdapnbError, match="no BloodHound JSON"):
        interop.read_bloodhound(tmp_path)
    (tmp_path / "users.json").write_text("[]")
    with pytest.raises(LdapnbError, match="'data'"):
        interop.read_bloodhound(tmp_path)
