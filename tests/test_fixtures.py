"""The bundled fixtures (ldapnb/fixtures/*.ldif) and the synthetic-directory generator.

Every planted case listed in ldapnb/fixtures/README.md is asserted here by hand, each
fixture is loaded into a real OpenLDAP with slapadd, and the committed files must equal what
scripts/make_fixtures.py generates.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest

from ldapnb import synthetic
from ldapnb.entry import Entry
from ldapnb.errors import LdapnbError
from ldapnb.ldif import loads, read_entries
from ldapnb.schema import default_schema

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "ldapnb" / "fixtures"
SCHEMA_DIR = ROOT / "ldapnb" / "schema"
SLAPADD = Path("/usr/sbin/slapadd")
SUFFIXES = {"tiny": "dc=example,dc=com", "example": "dc=example,dc=org",
            "contoso": "DC=contoso,DC=com"}
CONTOSO = "DC=contoso,DC=com"
EXAMPLE = "dc=example,dc=org"
DOMAIN_SID = "S-1-5-21-1004336348-1177238915-682003330"


def load(name: str) -> list[Entry]:
    return list(read_entries(FIXTURES / f"{name}.ldif"))


@pytest.fixture(scope="module")
def contoso() -> dict[str, Entry]:
    return {e.dn.lower(): e for e in load("contoso")}


@pytest.fixture(scope="module")
def example() -> dict[str, Entry]:
    return {e.dn.lower(): e for e in load("example")}


def raw(value: str | bytes) -> bytes:
    """A binary value as bytes (the LDIF reader gives str for base64 that is valid UTF-8)."""
    return value if isinstance(value, bytes) else value.encode("utf-8")


def sid_text(value: str | bytes) -> str:
    data = raw(value)
    count = data[1]
    authority = int.from_bytes(data[2:8], "big")
    subs = [int.from_bytes(data[8 + 4 * i:12 + 4 * i], "little") for i in range(count)]
    return "-".join(["S", str(data[0]), str(authority), *map(str, subs)])


def member_graph(entries: dict[str, Entry]) -> nx.DiGraph:
    """member -> group edges (lower-cased DNs) from member and uniqueMember."""
    graph = nx.DiGraph()
    for dn, entry in entries.items():
        for attr in ("member", "uniqueMember"):
            for value in entry.get(attr, []):
                if value:
                    graph.add_edge(str(value).split("#'")[0].lower(), dn)
    return graph


def levels_below(dag: nx.DiGraph) -> dict[str, int]:
    """For each node of a member -> group DAG, the longest chain of edges ending at it."""
    longest: dict[str, int] = {}
    for node in nx.topological_sort(dag):
        longest[node] = max((longest[p] + 1 for p in dag.predecessors(node)), default=0)
    return longest


def contoso_dn(rdns: str) -> str:
    return f"{rdns},{CONTOSO}".lower()


# -- every fixture -------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "low", "high"),
                         [("tiny", 10, 14), ("example", 270, 330), ("contoso", 450, 550)])
def test_fixture_parses_with_expected_size(name: str, low: int, high: int) -> None:
    entries = load(name)
    assert low <= len(entries) <= high
    assert len({e.dn.lower() for e in entries}) == len(entries), "duplicate DNs"
    assert entries[0].dn == SUFFIXES[name]


@pytest.mark.parametrize("name", sorted(SUFFIXES))
def test_fixture_parents_come_first_and_exist(name: str) -> None:
    seen: set[str] = set()
    suffix = SUFFIXES[name].lower()
    for entry in load(name):
        dn = entry.dn.lower()
        if dn != suffix:
            parent = _parent(dn)
            assert parent in seen, f"{entry.dn}: parent not before it"
        seen.add(dn)


def _rdn_pairs(dn: str) -> list[tuple[str, str]]:
    """The (attribute, unescaped value) pairs of the first RDN (the fixtures use only
    backslash-character escapes)."""
    pairs, current, i = [], "", 0
    while i < len(dn):
        ch = dn[i]
        if ch == "\\":
            current += dn[i + 1]
            i += 2
            continue
        if ch in ",+":
            pairs.append(current)
            current = ""
            if ch == ",":
                break
        else:
            current += ch
        i += 1
    else:
        pairs.append(current)
    return [tuple(p.split("=", 1)) for p in pairs]  # type: ignore[misc]


def _parent(dn: str) -> str:
    """The parent DN (splits at the first unescaped comma)."""
    i = 0
    while i < len(dn):
        if dn[i] == "\\":
            i += 2
            continue
        if dn[i] == ",":
            return dn[i + 1:]
        i += 1
    raise AssertionError(dn)


@pytest.mark.parametrize("name", sorted(SUFFIXES))
def test_fixture_entries_follow_the_schema(name: str) -> None:
    schema = default_schema()
    for entry in load(name):
        classes = [str(c) for c in entry["objectClass"]]
        lower = {c.lower() for c in classes}
        structural = [c for c in classes
                      if (oc := schema.object_class(c)) is not None and oc.kind == "STRUCTURAL"]
        assert structural, f"{entry.dn}: no structural class"
        def oid(name: str, dn: str = entry.dn) -> str:
            at = schema.attribute_type(name.split(";")[0])
            assert at is not None, f"{dn}: unknown attribute {name}"
            return at.oid

        must = {oid(a) for a in schema.must(*classes)}
        allowed = must | {oid(a) for a in schema.may(*classes)}
        present = {oid(a) for a in entry}
        assert must <= present, f"{entry.dn}: missing {must - present}"
        for attr, values in entry.items():
            at = schema.attribute_type(attr.split(";")[0])
            assert at is not None
            if "extensibleobject" not in lower:
                assert at.oid in allowed, f"{entry.dn}: {attr} not allowed by {classes}"
            if at.single_value:
                assert len(values) == 1, f"{entry.dn}: {attr} is SINGLE-VALUE"
        # the RDN's values are in the entry
        for ava in _rdn_pairs(entry.dn):
            attr, value = ava
            assert value in [str(v) for v in entry[attr]], f"{entry.dn}: RDN {attr}={value}"
        names = {a.split(";")[0].lower() for a in entry}
        assert not names & {"memberof", "createtimestamp", "modifytimestamp", "entryuuid"}


@pytest.mark.parametrize("name", sorted(SUFFIXES))
def test_fixture_loads_into_a_real_slapd(name: str, tmp_path: Path) -> None:
    assert slapadd(FIXTURES / f"{name}.ldif", SUFFIXES[name], tmp_path) == len(load(name))


def slapadd(ldif: Path, suffix: str, folder: Path) -> int:
    """Load ``ldif`` into a fresh mdb with OpenLDAP's slapadd; return slapcat's entry count."""
    if not SLAPADD.exists():
        pytest.fail(f"{SLAPADD} is missing: install Debian's slapd (make test does: "
                    "apt-get install slapd ldap-utils) to check fixtures against OpenLDAP")
    (folder / "db").mkdir()
    includes = "".join(f"include {SCHEMA_DIR / s}.schema\n" for s in
                       ("core", "cosine", "inetorgperson", "nis", "dyngroup", "msuser"))
    conf = folder / "slapd.conf"
    conf.write_text(
        f"{includes}modulepath /usr/lib/ldap\nmoduleload back_mdb\n"
        f"pidfile {folder / 'slapd.pid'}\ndatabase mdb\nmaxsize 1073741824\n"
        f'suffix "{suffix}"\nrootdn "cn=admin,{suffix}"\ndirectory {folder / "db"}\n',
        encoding="utf-8")
    done = subprocess.run([str(SLAPADD), "-q", "-f", str(conf), "-l", str(ldif)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"slapadd refused {ldif.name}:\n{done.stderr[-3000:]}"
    out = subprocess.run([str(SLAPADD.with_name("slapcat")), "-f", str(conf)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return sum(1 for line in out.stdout.splitlines() if line.startswith("dn:"))


def test_committed_fixtures_equal_the_generator_output() -> None:
    spec = importlib.util.spec_from_file_location("make_fixtures",
                                                  ROOT / "scripts" / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0, "run: python scripts/make_fixtures.py"


# -- contoso: the answer key ---------------------------------------------------------------

PRIVILEGED = {  # RDNs of the privileged groups -> SID
    "CN=Domain Admins,CN=Users": f"{DOMAIN_SID}-512",
    "CN=Schema Admins,CN=Users": f"{DOMAIN_SID}-518",
    "CN=Enterprise Admins,CN=Users": f"{DOMAIN_SID}-519",
    "CN=Administrators,CN=Builtin": "S-1-5-32-544",
    "CN=Account Operators,CN=Builtin": "S-1-5-32-548",
    "CN=Server Operators,CN=Builtin": "S-1-5-32-549",
    "CN=Print Operators,CN=Builtin": "S-1-5-32-550",
    "CN=Backup Operators,CN=Builtin": "S-1-5-32-551",
}
EXPECTED_PRIVILEGED = {
    "Administrator", "adm.kim", "adm.lopez", "adm.novak", "alice.martin", "bruno.costa",
    "chen.wei", "dana.okafor", "eve.kowalski", "frank.mueller", "grace.lee", "henry.adams",
    "svc_backup", "BKP01$",
}
REFERENCE_FILETIME = 134379648000000000  # 2026-11-01T00:00:00Z
DAY = 864_000_000_000  # FILETIME ticks per day


def by_sam(entries: dict[str, Entry]) -> dict[str, Entry]:
    return {str(e["sAMAccountName"][0]): e for e in entries.values() if "sAMAccountName" in e}


def privileged_accounts(entries: dict[str, Entry]) -> dict[str, set[str]]:
    """sAMAccountName -> privileged groups (RDNs) it reaches through member values."""
    graph = member_graph(entries)
    reached: dict[str, set[str]] = {}
    for rdns in PRIVILEGED:
        group = contoso_dn(rdns)
        for dn in nx.ancestors(graph, group) if group in graph else ():
            entry = entries.get(dn)
            if entry is not None and "group" not in entry["objectClass"]:
                reached.setdefault(str(entry["sAMAccountName"][0]), set()).add(rdns)
    return reached


def test_contoso_well_known_sids_and_group_types(contoso: dict[str, Entry]) -> None:
    for rdns, sid in PRIVILEGED.items():
        assert sid_text(contoso[contoso_dn(rdns)]["objectSid"][0]) == sid
    wk = {"Domain Users": 513, "Domain Computers": 515, "Domain Controllers": 516,
          "Group Policy Creator Owners": 520}
    for cn, rid in wk.items():
        group = contoso[contoso_dn(f"CN={cn},CN=Users")]
        assert sid_text(group["objectSid"][0]) == f"{DOMAIN_SID}-{rid}"
    builtin = {"Remote Desktop Users": 555}
    for cn, rid in builtin.items():
        assert sid_text(contoso[contoso_dn(f"CN={cn},CN=Builtin")]["objectSid"][0]) \
            == f"S-1-5-32-{rid}"
    assert sid_text(contoso[CONTOSO.lower()]["objectSid"][0]) == DOMAIN_SID
    users = by_sam(contoso)
    assert sid_text(users["Administrator"]["objectSid"][0]) == f"{DOMAIN_SID}-500"
    assert sid_text(users["krbtgt"]["objectSid"][0]) == f"{DOMAIN_SID}-502"
    assert users["krbtgt"]["userAccountControl"] == ["514"]
    types = Counter(str(e["groupType"][0]) for e in contoso.values() if "groupType" in e)
    assert set(types) == {"-2147483646", "-2147483644", "-2147483643", "-2147483640",
                          "2", "4", "8"}
    assert contoso[contoso_dn("CN=Domain Admins,CN=Users")]["groupType"] == ["-2147483646"]
    assert contoso[contoso_dn("CN=Enterprise Admins,CN=Users")]["groupType"] == ["-2147483640"]


def test_contoso_every_sid_and_guid_is_unique_and_well_formed(contoso: dict[str, Entry]) -> None:
    sids = [sid_text(e["objectSid"][0]) for e in contoso.values() if "objectSid" in e]
    guids = [raw(e["objectGUID"][0]) for e in contoso.values() if "objectGUID" in e]
    # issue 11 added Protected Users, GG_Helpdesk, Pre-Windows 2000 Compatible Access,
    # three foreign security principals and the gmsa_sql group managed service account
    assert len(set(sids)) == len(sids) == 487
    assert len(set(guids)) == len(guids) == 486 and all(len(g) == 16 for g in guids)
    accounts = [e for e in contoso.values() if "userAccountControl" in e]
    assert all(sid_text(e["objectSid"][0]).startswith(DOMAIN_SID + "-") for e in accounts)
    assert all("memberOf" not in e for e in contoso.values())


def test_contoso_privileged_set_and_chains(contoso: dict[str, Entry]) -> None:
    reached = privileged_accounts(contoso)
    assert set(reached) == EXPECTED_PRIVILEGED
    graph = member_graph(contoso)
    users = by_sam(contoso)

    def chain(sam: str, rdns: str) -> list[str]:
        path = nx.shortest_path(graph, users[sam].dn.lower(), contoso_dn(rdns))
        return [contoso[dn]["cn"][0] for dn in path[1:]]

    assert chain("alice.martin", "CN=Administrators,CN=Builtin") == [
        "Tier0 Ops", "IT Admins", "Domain Admins", "Administrators"]
    assert chain("bruno.costa", "CN=Account Operators,CN=Builtin") == [
        "Helpdesk Leads", "Account Operators"]
    assert chain("chen.wei", "CN=Server Operators,CN=Builtin") == [
        "Server Team", "Server Operators"]
    assert chain("dana.okafor", "CN=Enterprise Admins,CN=Users") == [
        "Ops Escalation L1", "Ops Escalation L2", "Ops Escalation L3", "Enterprise Admins"]
    assert chain("henry.adams", "CN=Server Operators,CN=Builtin") == [
        "Tier1 Server Admins", "Server Operators"]
    assert chain("svc_backup", "CN=Backup Operators,CN=Builtin") == [
        "Backup Service Accounts", "Backup Operators"]
    assert chain("frank.mueller", "CN=Domain Admins,CN=Users") == ["IT Admins", "Domain Admins"]
    assert chain("adm.novak", "CN=Domain Admins,CN=Users") == ["IT Admins", "Domain Admins"]
    # privileged only through nesting: no direct member value in a privileged group
    direct = {dn for rdns in PRIVILEGED if contoso_dn(rdns) in graph
              for dn in graph.predecessors(contoso_dn(rdns))}
    nested_only = {sam for sam in reached if users[sam].dn.lower() not in direct}
    assert nested_only == {"adm.novak", "alice.martin", "bruno.costa", "chen.wei",
                           "dana.okafor", "frank.mueller", "henry.adams", "svc_backup"}


def test_contoso_planted_account_risks(contoso: dict[str, Entry]) -> None:
    users = by_sam(contoso)
    privileged = set(privileged_accounts(contoso))

    def uac(sam: str) -> int:
        return int(users[sam]["userAccountControl"][0])

    def logon_age_days(sam: str) -> float:
        return (REFERENCE_FILETIME - int(users[sam]["lastLogonTimestamp"][0])) / DAY

    human = {s for s in privileged if not s.endswith("$")}
    assert {s for s in human if uac(s) & 0x2} == {"eve.kowalski"}
    assert "OU=Disabled" in users["eve.kowalski"].dn
    assert {s for s in human if uac(s) & 0x2 == 0 and logon_age_days(s) > 90} == \
        {"frank.mueller"}
    assert round(logon_age_days("frank.mueller"), 2) == pytest.approx(399.67, abs=0.01)
    assert users["frank.mueller"]["lastLogonTimestamp"] == ["134034336000000000"]
    assert {s for s in human if uac(s) & 0x10000} == {"grace.lee", "svc_backup"}
    assert {s for s in human if uac(s) & 0x400000} == {"henry.adams"}
    assert uac("henry.adams") == 4194816 and uac("grace.lee") == 66048
    assert {s for s in human if "servicePrincipalName" in users[s]} == {"svc_backup"}
    orphans = {s for s, e in users.items() if e.get("adminCount") == ["1"]
               and "group" not in e["objectClass"] and s not in privileged}
    assert orphans == {"ivan.petrov", "krbtgt"}
    # clean administrators: nothing to report beyond being privileged
    for sam in ("adm.kim", "adm.lopez", "adm.novak"):
        entry = users[sam]
        assert uac(sam) == 512 and "servicePrincipalName" not in entry
        assert logon_age_days(sam) < 4
        assert (REFERENCE_FILETIME - int(entry["pwdLastSet"][0])) / DAY < 61
        assert entry["adminCount"] == ["1"]
    # computer in a privileged group; unconstrained delegation on a non-DC
    assert users["BKP01$"]["objectClass"][-2:] == ["computer", "securityPrincipal"]
    assert int(users["APP02$"]["userAccountControl"][0]) == 528384
    assert {s for s, e in users.items()
            if int(e.get("userAccountControl", ["0"])[0]) & 0x80000} == \
        {"APP02$", "DC01$", "DC02$"}


def test_contoso_planted_group_anomalies(contoso: dict[str, Entry]) -> None:
    graph = member_graph(contoso)
    groups = {dn: e for dn, e in contoso.items() if "group" in e["objectClass"]}
    group_graph = graph.subgraph(groups)
    cycles = list(nx.simple_cycles(group_graph))
    assert len(cycles) == 1
    assert {contoso[dn]["cn"][0] for dn in cycles[0]} == {
        "GG_Project Phoenix", "GG_Project Atlas", "GG_Project Orion"}
    phoenix = contoso_dn("CN=GG_Project Phoenix,OU=Groups,OU=Corp")
    atlas = contoso_dn("CN=GG_Project Atlas,OU=Groups,OU=Corp")
    assert phoenix in [str(m).lower() for m in contoso[atlas]["member"]]
    # nesting deeper than 5: only GG_Deep L7 (six group levels below it)
    acyclic = nx.DiGraph(group_graph)
    acyclic.remove_edges_from([(c[-1], c[0]) for c in cycles])
    depth = levels_below(acyclic)
    assert {contoso[g]["cn"][0]: d for g, d in depth.items() if d > 4} == {"GG_Deep L7": 6,
                                                                          "GG_Deep L6": 5}
    # empty: no member and nobody's primary group
    primary = {int(e["primaryGroupID"][0]) for e in contoso.values() if "primaryGroupID" in e}
    assert primary == {512, 513, 514, 515, 516}  # 512: the hidden admin planted for issue 11
    no_members = {e["cn"][0] for e in groups.values() if "member" not in e}
    assert no_members == {"Domain Users", "Domain Guests", "Domain Computers",
                          "Domain Controllers", "Print Operators", "GG_Empty Project"}
    # dangling member: exactly one
    dangling = [n for n in graph if n not in contoso]
    assert dangling == [contoso_dn("CN=Former Contractor,OU=Contractors,OU=Corp")]
    # users in no group but their primary group
    accounts = [e for e in contoso.values()
                if "user" in e["objectClass"] and "computer" not in e["objectClass"]]
    assert sorted(str(e["sAMAccountName"][0]) for e in accounts
                  if e.dn.lower() not in graph) == ["nina.berg", "omar.haddad", "paula.rossi"]
    # duplicate sAMAccountName, case-insensitively: only jsmith / JSmith
    names = Counter(str(e["sAMAccountName"][0]).lower() for e in contoso.values()
                    if "sAMAccountName" in e)
    assert [n for n, k in names.items() if k > 1] == ["jsmith"]
    smiths = sorted(e.dn for e in contoso.values()
                    if str(e.get("sAMAccountName", [""])[0]).lower() == "jsmith")
    assert smiths == [f"CN=Jennifer Smith,OU=Finance,OU=Corp,{CONTOSO}",
                      f"CN=John Smith,OU=Sales,OU=Corp,{CONTOSO}"]


def test_contoso_values_have_ad_shapes(contoso: dict[str, Entry]) -> None:
    users = by_sam(contoso)
    never = "9223372036854775807"
    assert users["alice.martin"]["accountExpires"] == [never]
    contractors = [e for e in contoso.values() if "OU=Contractors" in e.dn and "cn" in e
                   and "user" in e["objectClass"]]
    assert len(contractors) == 12
    assert all(int(e["accountExpires"][0]) > REFERENCE_FILETIME for e in contractors)
    assert users["svc_sql"]["servicePrincipalName"] == [
        "MSSQLSvc/sql01.contoso.com:1433", "MSSQLSvc/sql01.contoso.com"]
    assert users["alice.martin"]["userPrincipalName"] == ["alice.martin@contoso.com"]
    assert str(users["alice.martin"]["whenCreated"][0]).endswith(".0Z")
    assert users["mreyes"].dn == f"CN=Reyes\\, María,OU=Sales,OU=Corp,{CONTOSO}"
    assert users["mreyes"]["cn"] == ["Reyes, María"]
    computers = [e for e in contoso.values() if "computer" in e["objectClass"]]
    assert len(computers) == 97  # 96 machines + gmsa_sql$ (a gMSA is a computer object)
    assert all(str(e["sAMAccountName"][0]).endswith("$") for e in computers)
    assert sum(e["primaryGroupID"] == ["515"] for e in computers) == 95


# -- example -------------------------------------------------------------------------------

PASSWORDS = {  # the README's table: DN -> (scheme, cleartext)
    f"uid=tjones,ou=Sales,ou=People,{EXAMPLE}": ("cleartext", "password1"),
    f"uid=rmiller,ou=Sales,ou=People,{EXAMPLE}": ("cleartext", "letmein"),
    f"cn=replicator,ou=Services,{EXAMPLE}": ("cleartext", "repl-secret"),
    f"uid=bjensen,ou=Engineering,ou=People,{EXAMPLE}": ("SSHA", "hunter2"),
    f"uid=kjensen,ou=Engineering,ou=People,{EXAMPLE}": ("SSHA", "Tr0ub4dor&3"),
    f"uid=nagios,ou=Services,{EXAMPLE}": ("SSHA", "monitor-me"),
    f"uid=jsmith,ou=Sales,ou=People,{EXAMPLE}": ("SHA", "changeme"),
    f"cn=backup,ou=Services,{EXAMPLE}": ("SHA", "backup123"),
    f"uid=sysadmin,ou=Engineering,ou=People,{EXAMPLE}": ("CRYPT", "s3cure!"),
    f"uid=mailer,ou=Services,{EXAMPLE}": ("CRYPT", "m@il-relay"),
}


def test_example_passwords_verify_against_their_hashes(example: dict[str, Entry]) -> None:
    with_password = {dn for dn, e in example.items() if "userPassword" in e}
    assert with_password == {dn.lower() for dn in PASSWORDS}
    for dn, (scheme, clear) in PASSWORDS.items():
        [stored] = [str(v) for v in example[dn.lower()]["userPassword"]]
        if scheme == "cleartext":
            assert stored == clear
        elif scheme == "SSHA":
            assert stored.startswith("{SSHA}")
            blob = base64.b64decode(stored[6:])
            digest, salt = blob[:20], blob[20:]
            assert len(salt) == 8
            assert hashlib.sha1(clear.encode() + salt).digest() == digest
            assert hashlib.sha1(b"wrong" + salt).digest() != digest
        elif scheme == "SHA":
            assert stored == "{SHA}" + base64.b64encode(
                hashlib.sha1(clear.encode()).digest()).decode()
        else:
            from passlib.hash import sha512_crypt

            assert stored.startswith("{CRYPT}$6$")
            assert sha512_crypt.verify(clear, stored[7:])
            assert not sha512_crypt.verify(clear + "x", stored[7:])


def test_example_nesting_cycle_and_membership_styles(example: dict[str, Entry]) -> None:
    graph = member_graph(example)
    group = {n: f"cn={n},ou=groups,{EXAMPLE}" for n in (
        "oncall", "sre", "platform", "engineering", "all-staff", "reviewers", "approvers",
        "auditors", "ldap-admins", "vpn-users", "empty-project", "developers")}
    assert nx.shortest_path(graph, group["oncall"], group["all-staff"]) == [
        group[n] for n in ("oncall", "sre", "platform", "engineering", "all-staff")]
    kjensen = f"uid=kjensen,ou=engineering,ou=people,{EXAMPLE}"
    assert nx.shortest_path_length(graph, kjensen, group["all-staff"]) == 2  # also direct
    assert nx.has_path(graph, kjensen, group["ldap-admins"])  # via oncall -> sre
    cycles = list(nx.simple_cycles(graph))
    assert len(cycles) == 1
    assert set(cycles[0]) == {group["reviewers"], group["approvers"], group["auditors"]}
    vpn = example[group["vpn-users"]]
    assert vpn["objectClass"] == ["top", "groupOfUniqueNames"]
    assert f"uid=bjensen,ou=Engineering,ou=People,{EXAMPLE}#'0101'B" in vpn["uniqueMember"]
    dangling = [n for n in graph if n not in example]
    assert dangling == [f"uid=former,ou=people,{EXAMPLE}"]
    assert example[group["empty-project"]]["member"] == [""]
    developers = example[group["developers"]]
    uids = {str(e["uid"][0]) for e in example.values() if "posixAccount" in e["objectClass"]}
    assert [u for u in developers["memberUid"] if u not in uids] == ["ghost"]
    posix_groups = [e for e in example.values() if "posixGroup" in e["objectClass"]]
    orphans = [u for g in posix_groups for u in g["memberUid"] if u not in uids]
    assert orphans == ["ghost"]
    cn_fr = example[group["engineering"]]["cn;lang-fr"]
    assert cn_fr == ["Ingénierie"]


def test_example_escaped_and_non_ascii_names(example: dict[str, Entry]) -> None:
    contractors = f"ou=Contractors,{EXAMPLE}"
    expected = {
        f"cn=Doe\\, Jane,{contractors}": "Doe, Jane",
        f"cn=A\\+B Consulting,{contractors}": "A+B Consulting",
        f"cn=\\#1 Fan,{contractors}": "#1 Fan",
        f"cn=Back\\\\Slash,{contractors}": "Back\\Slash",
        f'cn=Robert \\"Bobby\\" Tables,{contractors}': 'Robert "Bobby" Tables',
        f"cn=Pat Lee+uid=plee,{contractors}": "Pat Lee",
        f"cn=Renée Dubois,{contractors}": "Renée Dubois",
        f"cn=C\\+\\+ Guild,ou=Groups,{EXAMPLE}": "C++ Guild",
        f"cn=\\#announcements,ou=Groups,{EXAMPLE}": "#announcements",
    }
    for dn, cn in expected.items():
        assert example[dn.lower()]["cn"][0] == cn, dn
    assert example[f"cn=pat lee+uid=plee,{contractors}".lower()]["uid"] == ["plee"]
    people = f"ou=People,{EXAMPLE}"
    assert example[f"uid=twatanabe,ou=research,{people}".lower()]["cn"] == [
        "Taro Watanabe", "渡辺 太郎"]
    for uid, given in (("rdubois", "Renée"), ("sholm", "Søren"), ("jweiss", "Jürgen")):
        assert example[f"uid={uid},ou=research,{people}".lower()]["givenName"] == [given]
    assert example[f"uid=jweiss,ou=research,{people}".lower()]["sn"] == ["Weiß"]
    assert example[f"uid=lnowak,ou=support,{people}".lower()]["givenName"] == ["Łucja"]
    uids = Counter(str(e["uid"][0]) for e in example.values() if "uid" in e)
    assert [u for u, k in uids.items() if k > 1] == ["jsmith"]


def test_example_person_attributes(example: dict[str, Entry]) -> None:
    people = f"ou=People,{EXAMPLE}"
    bjensen = example[f"uid=bjensen,ou=engineering,{people}".lower()]
    photo = raw(bjensen["jpegPhoto"][0])
    assert photo[:4] == b"\xff\xd8\xff\xe0" and photo[-2:] == b"\xff\xd9"
    assert bjensen["description"] == [
        "Leads the platform team.\nAsk her about the LDAP migration."]
    kjensen = example[f"uid=kjensen,ou=engineering,{people}".lower()]
    assert kjensen["manager"] == [bjensen.dn] and kjensen["seeAlso"] == [bjensen.dn]
    persons = [e for e in example.values() if "inetOrgPerson" in e["objectClass"]]
    assert all("mail" in e and "employeeNumber" in e for e in persons)
    assert sum("telephoneNumber" in e for e in persons) > 200
    assert sum("posixAccount" in e["objectClass"] for e in persons) > 100
    services = [e for e in example.values() if "simpleSecurityObject" in e["objectClass"]]
    assert len(services) == 4
    text = (FIXTURES / "example.ldif").read_text(encoding="utf-8")
    assert "description:: " in text and "createTimestamp" not in text


# -- tiny ----------------------------------------------------------------------------------


def test_tiny_is_readable() -> None:
    entries = load("tiny")
    assert len(entries) == 11
    text = (FIXTURES / "tiny.ldif").read_text(encoding="utf-8")
    assert "::" not in text  # nothing base64: every value readable
    people = [e for e in entries if "inetOrgPerson" in e["objectClass"]]
    assert [e["uid"][0] for e in people] == ["alice", "bob", "carol", "dave", "erin", "frank"]
    assert all(e["userPassword"] == [f"{e['uid'][0]}-pw"] for e in people)
    groups = {e["cn"][0]: e for e in entries if "groupOfNames" in e["objectClass"]}
    assert groups["developers"]["member"][-1] == "cn=admins,ou=Groups,dc=example,dc=com"


# -- synthetic -----------------------------------------------------------------------------


def synthetic_graph(entries: list[Entry]) -> nx.DiGraph:
    return member_graph({e.dn.lower(): e for e in entries})


@pytest.mark.parametrize("style", ["openldap", "ad"])
def test_synthetic_is_deterministic(style: str) -> None:
    first = list(synthetic.generate(300, depth=6, cycles=3, style=style, seed=5))
    again = list(synthetic.generate(300, depth=6, cycles=3, style=style, seed=5))
    other = list(synthetic.generate(300, depth=6, cycles=3, style=style, seed=6))
    assert first == again
    assert first != other
    assert len({e.dn.lower() for e in first}) == len(first)


@pytest.mark.parametrize(("style", "depth", "cycles"),
                         [("openldap", 6, 3), ("openldap", 8, 0), ("ad", 6, 3), ("ad", 3, 5)])
def test_synthetic_depth_and_cycles(style: str, depth: int, cycles: int) -> None:
    entries = list(synthetic.generate(2000, depth=depth, cycles=cycles, style=style, seed=1))
    people = [e for e in entries if "uid" in e or "userAccountControl" in e]
    assert len(people) == 2000
    groups = {e.dn.lower() for e in entries if "member" in e}
    graph = synthetic_graph(entries).subgraph(groups)
    found = list(nx.simple_cycles(graph))
    assert len(found) == cycles and all(len(c) == 3 for c in found)
    acyclic = nx.DiGraph(graph)
    acyclic.remove_edges_from([(c[-1], c[0]) for c in found])
    assert nx.dag_longest_path_length(acyclic) == depth  # group levels below the top
    full = synthetic_graph(entries)
    in_groups = Counter(dn for dn, _ in full.edges if dn not in groups)
    assert len(in_groups) == 2000  # every user in some group
    assert max(in_groups.values()) >= 3


def test_synthetic_parents_first_and_ad_values() -> None:
    entries = list(synthetic.generate(50, depth=3, cycles=1, style="ad", seed=2))
    seen = {entries[0].dn.lower()}
    for entry in entries[1:]:
        assert _parent(entry.dn.lower()) in seen, entry.dn
        seen.add(entry.dn.lower())
    users = [e for e in entries if "userAccountControl" in e]
    assert all(sid_text(e["objectSid"][0]).startswith("S-1-5-21-") for e in users)
    assert all(len(raw(e["objectGUID"][0])) == 16 for e in users)
    assert {e["primaryGroupID"][0] for e in users} == {"513"}


@pytest.mark.parametrize("style", ["openldap", "ad"])
def test_synthetic_loads_into_a_real_slapd(style: str, tmp_path: Path) -> None:
    path = tmp_path / "synthetic.ldif"
    count = synthetic.write_ldif(path, 500, depth=6, cycles=2, style=style, seed=3)
    suffix = "DC=example,DC=com" if style == "ad" else "dc=example,dc=org"
    (tmp_path / "slap").mkdir()
    assert slapadd(path, suffix, tmp_path / "slap") == count
    assert len(list(read_entries(path))) == count


def test_synthetic_rejects_bad_arguments() -> None:
    with pytest.raises(LdapnbError, match="unknown style"):
        list(synthetic.generate(10, style="novell"))
    with pytest.raises(LdapnbError, match="too few"):
        list(synthetic.generate(10, n_groups=3, depth=6))
    with pytest.raises(LdapnbError, match="n_users"):
        list(synthetic.generate(0))
    with pytest.raises(LdapnbError, match="dc="):
        list(synthetic.generate(10, suffix="o=example"))
    with pytest.raises(LdapnbError, match="expected a SID"):
        synthetic.sid_to_bytes("S-1-x")


def test_synthetic_helpers() -> None:
    assert synthetic.sid_to_bytes("S-1-5-32-544") == bytes.fromhex(
        "01020000000000052000000020020000")
    assert sid_text(synthetic.sid_to_bytes(DOMAIN_SID + "-1105")) == DOMAIN_SID + "-1105"
    descriptor = synthetic.security_descriptor("S-1-5-32-544")
    assert len(descriptor) == 20 + 2 * 16 and descriptor[2:4] == b"\x00\x80"
    [entry] = loads("dn: cn=x\ncn: x\n")
    assert entry["cn"] == ["x"]
    assert shutil.which("slapcat") or SLAPADD.with_name("slapcat").exists()


def test_example_people_in_no_group(example: dict[str, Entry]) -> None:
    named: set[str] = set()
    uids: set[str] = set()
    for entry in example.values():
        for attr in ("member", "uniqueMember"):
            named.update(str(v).split("#'")[0].lower() for v in entry.get(attr, []))
        uids.update(str(v) for v in entry.get("memberUid", []))
    alone = sorted(str(e["uid"][0]) for dn, e in example.items()
                   if "uid" in e and dn not in named and e["uid"][0] not in uids)
    assert alone == sorted(["grp-ab", "number1", "bslash", "btables", "plee", "rdubois2",
                            "ext01", "ext02", "ext03", "ext04", "ext05", "ext06",
                            "nagios", "mailer"])
