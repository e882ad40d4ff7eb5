"""Active Directory security-posture checks: rights, delegation, Kerberos, hardening.

Registered into :data:`ldapnb.audit.CHECKS` when :mod:`ldapnb.audit` is imported; each has
a stable rule ID, the PingCastle rule it matches (left empty where PingCastle has none), a
MITRE ATT&CK technique, a rationale that is true for AD, evidence and a remediation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import networkx as nx

from . import ad, graph
from .checks import Context, Finding, _account_evidence, _sid_of, check
from .dn import normalize
from .errors import LdapnbError, SchemaError

#: Broad groups: a right granted to them is granted to (almost) everyone.
BROAD_SIDS: dict[str, str] = {
    "S-1-1-0": "Everyone", "S-1-5-11": "Authenticated Users", "S-1-5-7": "Anonymous Logon",
    "S-1-5-32-545": "Users", "S-1-5-32-554": "Pre-Windows 2000 Compatible Access",
}
_BROAD_RIDS = {513: "Domain Users", 515: "Domain Computers"}
_TAKEOVER = frozenset({"Owns", "GenericAll", "WriteDacl", "WriteOwner", "GenericWrite",
                       "AllExtendedRights", "AddMember", "AddSelf", "ForceChangePassword",
                       "AddKeyCredentialLink", "WriteAccountRestrictions"})
_UAC = ad.UAC


def _broad(sid: str) -> str | None:
    if sid in BROAD_SIDS:
        return BROAD_SIDS[sid]
    if sid.startswith("S-1-5-21-") and sid.count("-") == 7:
        return _BROAD_RIDS.get(int(sid.rsplit("-", 1)[1]))
    return None


def _enabled(ctx: Context, node: str) -> bool:
    flags = ctx.uac(node)
    return flags is None or _UAC.ACCOUNTDISABLE not in flags


# -- rights on Tier-0 objects --------------------------------------------------------------


@check("dcsync", "high",
       "DS-Replication-Get-Changes together with DS-Replication-Get-Changes-All on the domain "
       "head lets a trustee replicate every password hash (DCSync), krbtgt's included: it is "
       "domain admin without being in any admin group.", needs_entries=True,
       rule_id="ACL-01", attack="T1003.006",
       remediation="Remove both replication ACEs from the domain head for this trustee (only "
                   "domain controllers and Administrators need them); if a sync tool needs "
                   "Get-Changes alone, grant only that.")
def _dcsync(ctx: Context) -> Iterator[Finding]:
    head = ctx.domain_head
    if head is None:
        return
    r = ctx.rights
    here = r[r["object_key"] == normalize(head.dn)]
    got: dict[str, set[str]] = {}
    names: dict[str, str] = {}
    for trustee, tname, edge in zip(here["trustee"], here["trustee_name"], here["edge"],
                                    strict=True):
        got.setdefault(trustee, set()).add(edge)
        names[trustee] = tname
    for trustee, edges in sorted(got.items()):
        if not ({"GetChanges", "GetChangesAll"} <= edges or "GenericAll" in edges
                or "AllExtendedRights" in edges):
            continue
        if ctx.is_tier0_trustee(trustee):
            continue
        node = ctx.sid_node(trustee)
        yield {"subject": node or trustee, "chain": [node or trustee, head.dn], "evidence": {
            "trustee": names[trustee], "trustee_sid": trustee, "object": head.dn,
            "rights": sorted(edges & {"GetChanges", "GetChangesAll", "GenericAll",
                                      "AllExtendedRights"}),
            "chain": [node or trustee, head.dn]}}


@check("tier0-acl", "high",
       "A right that lets a trustee rewrite a Tier-0 object (GenericAll, WriteDacl, "
       "WriteOwner, ownership, GenericWrite, write member, reset password) makes that trustee "
       "as powerful as the object: the domain head, the Domain Controllers OU, a domain "
       "controller or a privileged group. (AdminSDHolder: see adminsdholder-acl.)",
       needs_entries=True, rule_id="ACL-02", pingcastle="", attack="T1098",
       remediation="Remove the ACE (or give ownership back to Domain Admins); delegate "
                   "administration of Tier-0 objects to no one outside Tier 0.")
def _tier0_acl(ctx: Context) -> Iterator[Finding]:
    r = ctx.rights
    hits = r[(r["tier0"] != "") & r["edge"].isin(_TAKEOVER)]
    for (trustee, obj), rows in hits.groupby(["trustee", "object"], sort=True):
        why = str(rows["tier0"].iloc[0])
        if why == "AdminSDHolder" or ctx.is_tier0_trustee(str(trustee)) or _broad(str(trustee)):
            continue
        node = ctx.sid_node(str(trustee))
        yield {"subject": node or trustee, "chain": [node or trustee, obj], "evidence": {
            "trustee": str(rows["trustee_name"].iloc[0]), "trustee_sid": trustee,
            "object": obj, "tier0": why, "rights": sorted(set(rows["edge"])),
            "inherited": bool(rows["inherited"].all()), "chain": [node or trustee, obj]}}


@check("adminsdholder-acl", "high",
       "AdminSDHolder's DACL is copied every hour (SDProp) onto every protected account and "
       "group: a right on it is a right on all admins, and survives their ACLs being "
       "cleaned (a classic persistence).", needs_entries=True,
       rule_id="ACL-03", pingcastle="", attack="T1098",
       remediation="Remove the ACE from CN=AdminSDHolder,CN=System and from the protected "
                   "objects it was copied to; monitor changes to AdminSDHolder.")
def _adminsdholder(ctx: Context) -> Iterator[Finding]:
    r = ctx.rights
    hits = r[(r["tier0"] == "AdminSDHolder")]
    for (trustee, obj), rows in hits.groupby(["trustee", "object"], sort=True):
        if ctx.is_tier0_trustee(str(trustee)):
            continue
        node = ctx.sid_node(str(trustee))
        yield {"subject": node or trustee, "chain": [node or trustee, obj], "evidence": {
            "trustee": str(rows["trustee_name"].iloc[0]), "trustee_sid": trustee,
            "object": obj, "rights": sorted(set(rows["edge"])),
            "chain": [node or trustee, obj]}}


@check("broad-group-rights", "high",
       "A takeover right granted to Everyone, Authenticated Users, Domain Users (or another "
       "group every account is in) is granted to every attacker with any account; on a "
       "Tier-0 object it is the whole domain.", needs_entries=True,
       rule_id="ACL-04", pingcastle="P-DelegationEveryone", attack="T1098",
       remediation="Replace the broad group by the few accounts that need the right, or "
                   "remove the ACE.")
def _broad_rights(ctx: Context) -> Iterator[Finding]:
    r = ctx.rights
    is_broad = r["trustee"].map(lambda t: bool(_broad(str(t)))).astype(bool)
    broad = r[is_broad & r["edge"].isin(_TAKEOVER | {"GetChangesAll"})]
    for (trustee, obj), rows in broad.groupby(["trustee", "object"], sort=True):
        why = str(rows["tier0"].iloc[0])
        yield {"subject": obj, "severity": "high" if why else "medium",
               "chain": [str(trustee), obj], "evidence": {
                   "trustee": _broad(str(trustee)), "trustee_sid": trustee, "object": obj,
                   "tier0": why, "rights": sorted(set(rows["edge"])),
                   "chain": [str(trustee), obj]}}


@check("control-path", "high",
       "An account that is in no privileged group can still become one through rights: "
       "membership of a group that holds a right on an object that is (or leads to) a "
       "privileged group (BloodHound's attack paths). The chain shows both kinds of step.",
       needs_entries=True, rule_id="ACL-05", pingcastle="", attack="T1098",
       remediation="Break the chain at its weakest step: remove the right (usually a "
                   "delegation that reaches a Tier-0 group) or the membership.")
def _control_path(ctx: Context) -> Iterator[Finding]:
    G = ctx.G
    # rights edges that matter: from a trustee that is not Tier 0 already (no copy of G:
    # the backward search reads G's predecessors plus these)
    r = ctx.rights
    outside = {t for t in set(r["trustee"]) if not ctx.is_tier0_trustee(str(t))}
    r = r[r["trustee_node"].notna() & r["trustee"].isin(outside) & r["edge"].isin(
        graph.CONTROL_EDGES | {"GetChanges", "GetChangesAll"})]
    by_pair: dict[tuple[str, str], set[str]] = {}
    object_node: dict[str, str] = {}
    for trustee, tnode, obj, key, edge in zip(r["trustee"], r["trustee_node"], r["object"],
                                              r["object_key"], r["edge"], strict=True):
        if ctx.is_tier0_trustee(str(trustee)):
            continue
        target = _node_of(ctx, key, obj)
        object_node[target] = obj
        by_pair.setdefault((str(tnode), target), set()).add(str(edge))
    extra: dict[str, dict[str, frozenset[str]]] = {}
    for (u, v), names in by_pair.items():
        if {"GetChanges", "GetChangesAll"} <= names:
            names = names | {"DCSync"}
        names &= graph.CONTROL_EDGES
        if names and u != v:
            extra.setdefault(v, {})[u] = frozenset(names)
    if not extra:
        return
    targets = {_node_of(ctx, k, k) for k in ctx.tier0_objects} | set(ctx.privileged_groups)
    # breadth-first backwards from every target at once: each node's next step to Tier 0
    step: dict[str, str | None] = {t: None for t in targets}
    frontier = list(targets)
    while frontier:
        nxt = []
        for v in frontier:
            preds = list(G.pred[v]) if v in G else []
            for u in (*preds, *extra.get(v, ())):
                if u not in step:
                    step[u] = v
                    nxt.append(u)
        frontier = nxt

    def is_right(u: str, v: str) -> bool:
        return u in extra.get(v, {}) and not G.has_edge(u, v)

    def label(n: str) -> str:
        return str(G.nodes[n].get("label") or n) if n in G else \
            object_node.get(n, n).split(",", 1)[0].split("=", 1)[-1]

    for node in sorted(step):
        if node not in G or G.nodes[node].get("kind") not in ("user", "computer"):
            continue
        if node in ctx.privileged_accounts or ctx.is_dc(node) or not _enabled(ctx, node):
            continue
        chain = [node]
        while step[chain[-1]] is not None:
            chain.append(step[chain[-1]])  # type: ignore[arg-type]
        pairs = list(zip(chain, chain[1:], strict=False))
        if not any(is_right(u, v) for u, v in pairs):
            continue
        steps = [label(node)] + [
            f"{'/'.join(sorted(extra[v][u]))} on {label(v)}" if is_right(u, v)
            else f"member of {label(v)}" for u, v in pairs]
        chain = [object_node.get(n, n) for n in chain]
        yield {"subject": node, "chain": chain, "evidence": {
            "account": ctx.name(node), "reaches": chain[-1], "steps": steps, "chain": chain}}


def _node_of(ctx: Context, key: str, dn: str) -> str:
    """The graph node for a normalised key, else the entry's DN as written, else ``dn``."""
    node = ctx.G.graph.get("index", {}).get(key)
    if node is not None:
        return str(node)
    e = ctx.entries.get(key)
    return e.dn if e is not None else dn


# -- delegation ---------------------------------------------------------------------------


@check("constrained-delegation-protocol-transition", "high",
       "TRUSTED_TO_AUTH_FOR_DELEGATION (constrained delegation with protocol transition) lets "
       "the account get a service ticket as ANY user, administrators included, to the "
       "services in msDS-AllowedToDelegateTo, without that user ever logging on (S4U2Self + "
       "S4U2Proxy).", needs_entries=True,
       rule_id="DELEG-02", pingcastle="", attack="T1558",
       remediation="Use Kerberos-only constrained delegation (clear the flag), narrow "
                   "msDS-AllowedToDelegateTo, and mark administrators NOT_DELEGATED.")
def _t2a4d(ctx: Context) -> Iterator[Finding]:
    for node, flags in ctx.uac_nodes:
        if (_UAC.TRUSTED_TO_AUTH_FOR_DELEGATION not in flags
                or _UAC.ACCOUNTDISABLE in flags or ctx.is_dc(node)):
            continue
        e = ctx.entry(node)
        targets = [str(v) for v in e.get("msDS-AllowedToDelegateTo", ())] if e else []
        yield {"subject": node, "evidence": {
            "account": ctx.name(node), "userAccountControl": int(flags),
            "msDS-AllowedToDelegateTo": targets}}


@check("resource-based-delegation", "medium",
       "msDS-AllowedToActOnBehalfOfOtherIdentity (resource-based constrained delegation) lets "
       "the principals it lists impersonate any user to this computer; whoever controls one "
       "of them (or could write the attribute) controls the computer, a domain controller "
       "above all.", needs_entries=True,
       rule_id="DELEG-03", pingcastle="P-DelegationDCa2d2", attack="T1558",
       remediation="Clear the attribute unless the delegation is documented; never on a "
                   "domain controller.")
def _rbcd(ctx: Context) -> Iterator[Finding]:
    from . import security

    for key, e in ctx.entries.items():
        values = e.get("msDS-AllowedToActOnBehalfOfOtherIdentity", ())
        if not values:
            continue
        frame = security.aces({e.dn: values[0]}, names=ctx.sid_names)
        allowed = frame[frame["type"] == "allow"]
        node = graph.lookup(ctx.G, key) if key in ctx.G.graph["index"] else e.dn
        dc = node in ctx.G and ctx.is_dc(node)
        principals = sorted(set(allowed["trustee_name"]))
        chain = [ctx.sid_node(s) or s for s in sorted(set(allowed["trustee"]))][:1] + [node]
        yield {"subject": node, "severity": "high" if dc else "medium", "chain": chain,
               "evidence": {"computer": ctx.name(node), "domain_controller": dc,
                            "allowed_to_act": principals,
                            "allowed_sids": sorted(set(allowed["trustee"])), "chain": chain}}


@check("privileged-delegable", "medium",
       "A privileged account without 'account is sensitive and cannot be delegated' "
       "(NOT_DELEGATED) and outside Protected Users hands its Kerberos tickets to any "
       "server trusted for delegation it logs on to.", needs_entries=True,
       rule_id="DELEG-04", pingcastle="P-Delegated", attack="T1558",
       remediation="Set NOT_DELEGATED on every administrator account, or add it to Protected "
                   "Users (not service accounts: they need delegation-free Kerberos).")
def _delegable(ctx: Context) -> Iterator[Finding]:
    protected = next((g for g in ctx.G if str(ctx.G.nodes[g].get("sid") or "").endswith("-525")
                      and ctx.G.nodes[g].get("kind") == "group"), None)
    inside = nx.ancestors(ctx.G, protected) if protected else set()
    for node in ctx.privileged_accounts:
        if ctx.G.nodes[node].get("kind") != "user" or node in inside:
            continue
        flags = ctx.uac(node)
        if flags is None or _UAC.NOT_DELEGATED in flags or _UAC.ACCOUNTDISABLE in flags:
            continue
        if ctx.rid(node) == 502:
            continue
        yield {"subject": node, "evidence": _account_evidence(
            ctx, node, userAccountControl=int(flags), protected_users=bool(protected))}


# -- accounts and Kerberos --------------------------------------------------------------------


@check("sid-history", "medium",
       "sIDHistory adds old SIDs to the account's token: a privileged SID there (Domain "
       "Admins, Administrators, RID 500, or any SID of this very domain) is a hidden "
       "administrator no group lists.", needs_entries=True,
       rule_id="ACCT-01", pingcastle="S-SIDHistory", attack="T1134.005",
       remediation="Clear sIDHistory once the migration is over (and enable SID filtering on "
                   "trusts).")
def _sid_history(ctx: Context) -> Iterator[Finding]:
    for key, e in ctx.entries.items():
        values = e.get("sIDHistory", ())
        if not values:
            continue
        sids = []
        for v in values:
            try:
                sids.append(ad.sid_to_str(v, attribute="sIDHistory"))
            except SchemaError as exc:
                raise SchemaError(f"{e.dn}: {exc}") from exc
        dangerous = [s for s in sids if ad.is_privileged_sid(s) or s.endswith("-500")
                     or (ctx.domain_sid and s.startswith(ctx.domain_sid + "-"))]
        node = graph.lookup(ctx.G, key) if key in ctx.G.graph["index"] else e.dn
        names = [ad.sid_name(s) or ctx.sid_names.get(s) or s for s in sids]
        yield {"subject": node, "severity": "high" if dangerous else "medium", "evidence": {
            "account": ctx.name(node), "sIDHistory": sids, "names": names,
            "privileged_or_same_domain": dangerous}}


@check("hidden-admin-primary-group", "high",
       "primaryGroupID makes an account a member of a group without appearing in the "
       "group's member attribute: a primaryGroupID of Domain Admins (512), Enterprise Admins "
       "or Schema Admins hides an administrator from anyone reading the group.",
       needs_entries=True, rule_id="ACCT-02", pingcastle="S-PrimaryGroup",
       attack="T1078.002",
       remediation="Set primaryGroupID back to 513 (Domain Users; 515 for computers) and add "
                   "the account to the group openly if it needs to be there.")
def _primary_group(ctx: Context) -> Iterator[Finding]:
    for key, e in ctx.entries.items():
        value = e.first("primaryGroupID")
        if value is None or "userAccountControl" not in e:
            continue
        try:
            number = int(str(value))
        except ValueError:
            continue
        if number in (513, 514, 515) or number in (516, 521) and _dc_entry(e):
            continue
        if number not in ad.PRIVILEGED_RIDS and number not in (500, 544):
            continue
        node = graph.lookup(ctx.G, key) if key in ctx.G.graph["index"] else e.dn
        yield {"subject": node, "evidence": {
            "account": ctx.name(node), "primaryGroupID": number,
            "group": ad.WELL_KNOWN_RIDS.get(number, str(number)),
            "chain": ctx.privileged_accounts.get(node, [])}}


def _dc_entry(e: Any) -> bool:
    try:
        flags = ad.uac_flags(e.first("userAccountControl"))
    except SchemaError:
        return False
    return bool(flags & (_UAC.SERVER_TRUST_ACCOUNT | _UAC.PARTIAL_SECRETS_ACCOUNT))


def _uac_rule(ctx: Context, flag: ad.UAC) -> Iterator[Finding]:
    for node, flags in ctx.uac_nodes:
        if flag not in flags or _UAC.ACCOUNTDISABLE in flags:
            continue
        privileged = node in ctx.privileged_accounts
        yield {"subject": node, "severity": "high" if privileged else "medium",
               "evidence": {**_account_evidence(ctx, node), "userAccountControl": int(flags),
                            "privileged": privileged}}


@check("password-not-required", "medium",
       "PASSWD_NOTREQD lets the account have an empty password whatever the password "
       "policy says; an empty password is a logon for anyone.", needs_entries=True,
       rule_id="ACCT-03", pingcastle="S-PwdNotRequired", attack="T1078.002",
       remediation="Clear the flag (userAccountControl &= ~0x20) and set a password.")
def _passwd_notreqd(ctx: Context) -> Iterator[Finding]:
    return _uac_rule(ctx, _UAC.PASSWD_NOTREQD)


@check("reversible-encryption", "medium",
       "ENCRYPTED_TEXT_PWD_ALLOWED stores the password reversibly: anyone who can read the "
       "DC's secrets (a backup, DCSync) reads it in clear text.", needs_entries=True,
       rule_id="ACCT-04", pingcastle="S-Reversible", attack="T1110.002",
       remediation="Clear the flag and change the password (the stored copy goes away only "
                   "with a new password).")
def _reversible(ctx: Context) -> Iterator[Finding]:
    return _uac_rule(ctx, _UAC.ENCRYPTED_TEXT_PWD_ALLOWED)


@check("des-only", "medium",
       "USE_DES_KEY_ONLY (or msDS-SupportedEncryptionTypes with only DES bits) makes Kerberos "
       "use DES for this account, which is broken and cracked in hours.", needs_entries=True,
       rule_id="ACCT-05", pingcastle="S-DesEnabled", attack="T1558",
       remediation="Clear USE_DES_KEY_ONLY, set msDS-SupportedEncryptionTypes to AES (0x18), "
                   "change the password.")
def _des(ctx: Context) -> Iterator[Finding]:
    for node, flags in ctx.uac_nodes:
        if _UAC.ACCOUNTDISABLE in flags:
            continue
        e = ctx.entry(node)
        if e is None or (_UAC.USE_DES_KEY_ONLY not in flags
                         and "msDS-SupportedEncryptionTypes" not in e):
            continue
        types = e.first("msDS-SupportedEncryptionTypes") if e is not None else None
        try:
            enc = int(str(types)) if types is not None else None
        except ValueError:
            enc = None
        des_types = enc is not None and enc & 0x3 and not enc & 0x1C
        if _UAC.USE_DES_KEY_ONLY in flags or des_types:
            yield {"subject": node, "evidence": {
                "account": ctx.name(node), "userAccountControl": int(flags),
                "msDS-SupportedEncryptionTypes": enc}}


@check("no-preauth", "medium",
       "Without Kerberos pre-authentication anyone can ask for an AS-REP for this account "
       "and crack its password offline (AS-REP roasting); not privileged, but still a "
       "foothold.", needs_entries=True,
       rule_id="KRB-03", pingcastle="S-NoPreAuth", attack="T1558.004",
       remediation="Clear DONT_REQ_PREAUTH.")
def _no_preauth_any(ctx: Context) -> Iterator[Finding]:
    for node, flags in ctx.uac_nodes:
        if node in ctx.privileged_accounts:
            continue
        if _UAC.DONT_REQ_PREAUTH in flags and _UAC.ACCOUNTDISABLE not in flags:
            yield {"subject": node, "evidence": {"account": ctx.name(node),
                                                 "userAccountControl": int(flags)}}


@check("krbtgt-password-age", "medium",
       "krbtgt's key signs every Kerberos ticket; a golden ticket forged with a stolen key "
       "works until the password has been changed twice. An old krbtgt password means any "
       "past compromise still holds.", needs_entries=True,
       rule_id="KRB-04", pingcastle="A-Krbtgt", attack="T1558.001",
       remediation="Reset krbtgt's password twice (waiting for replication in between), then "
                   "at least yearly.")
def _krbtgt(ctx: Context) -> Iterator[Finding]:
    for sid, node in ctx.G.graph.get("sids", {}).items():
        if not sid.endswith("-502") or ctx.rid(node) != 502:
            continue
        e = ctx.entry(node)
        value = e.first("pwdLastSet") if e is not None else None
        if value is None:
            continue
        when = ad.filetime_to_datetime(value, attribute="pwdLastSet")
        age = None if when is None else (ctx.now - when).days
        if age is None or age > 180:
            yield {"subject": node, "evidence": {
                "account": ctx.name(node), "pwdLastSet": when.isoformat() if when else "never",
                "days": age, "threshold_days": 180}}


# -- domain-wide hardening -------------------------------------------------------------------


@check("machine-account-quota", "medium",
       "ms-DS-MachineAccountQuota > 0 lets every user create computer accounts, each a "
       "principal an attacker fully controls (the first step of RBCD and many relay "
       "attacks).", needs_entries=True, rule_id="DOM-01", pingcastle="", attack="T1136.002",
       remediation="Set ms-DS-MachineAccountQuota to 0 and delegate computer joins to a "
                   "group on the computers' OU.")
def _maq(ctx: Context) -> Iterator[Finding]:
    head = ctx.domain_head
    value = head.first("ms-DS-MachineAccountQuota") if head is not None else None
    if value is None:
        return
    try:
        number = int(str(value))
    except ValueError:
        return
    if number > 0:
        yield {"subject": head.dn, "evidence": {  # type: ignore[union-attr]
            "ms-DS-MachineAccountQuota": number}}


@check("laps-coverage", "medium",
       "Without LAPS every computer's local Administrator password is whatever the image "
       "set, usually the same everywhere: one machine's hash logs on to all (pass the hash).",
       needs_entries=True, rule_id="DOM-02", pingcastle="A-LAPS-Not-Installed",
       attack="T1078.003",
       remediation="Deploy Windows LAPS (msLAPS-*) or legacy LAPS (ms-Mcs-AdmPwd*) to every "
                   "computer that is not a domain controller.")
def _laps(ctx: Context) -> Iterator[Finding]:
    head = ctx.domain_head
    computers = [n for n, k in ctx.G.nodes(data="kind") if k == "computer"
                 and not ctx.is_dc(n) and _enabled(ctx, n) and not _is_gmsa(ctx, n)]
    if not computers or head is None:
        return
    covered, missing = [], []
    for node in computers:
        e = ctx.entry(node)
        if e is not None and (e.get("ms-Mcs-AdmPwdExpirationTime")
                              or e.get("msLAPS-PasswordExpirationTime")):
            covered.append(node)
        else:
            missing.append(node)
    if missing:
        yield {"subject": head.dn, "severity": "high" if not covered else "medium",
               "evidence": {"computers": len(computers), "with_laps": len(covered),
                            "without_laps": len(missing),
                            "examples_without": sorted(ctx.name(n) for n in missing)[:20],
                            "deployed": bool(covered)}}


@check("gmsa-password-readers", "medium",
       "msDS-GroupMSAMembership lists who may read a group managed service account's "
       "password; every principal there can log on as the gMSA (and is as privileged as it).",
       needs_entries=True, rule_id="ACCT-06", pingcastle="", attack="T1555",
       remediation="Keep the readers to the servers that run the service.")
def _gmsa(ctx: Context) -> Iterator[Finding]:
    from . import security

    for key, e in ctx.entries.items():
        values = e.get("msDS-GroupMSAMembership", ())
        if not values:
            continue
        frame = security.aces({e.dn: values[0]}, names=ctx.sid_names)
        readers = frame[frame["type"] == "allow"]
        node = graph.lookup(ctx.G, key) if key in ctx.G.graph["index"] else e.dn
        broad = [t for t in readers["trustee"] if _broad(t)]
        privileged = node in ctx.privileged_accounts
        yield {"subject": node, "severity": "high" if broad or privileged else "info",
               "evidence": {"account": ctx.name(node), "readers": sorted(
                   set(readers["trustee_name"])), "broad_readers": broad,
                   "privileged": privileged}}


@check("foreign-security-principal", "low",
       "A foreign security principal stands for an account of another domain or forest; one "
       "that is in no group is an orphan left behind, one in a privileged group makes an "
       "outsider an administrator (AD's counterpart of OpenLDAP's dangling member).",
       needs_entries=True, rule_id="ACCT-07", pingcastle="", attack="T1078.002",
       remediation="Delete orphaned FSPs; review every FSP in a privileged group.")
def _fsp(ctx: Context) -> Iterator[Finding]:
    for key, e in ctx.entries.items():
        if not any(str(c).lower() == "foreignsecurityprincipal"
                   for c in e.get("objectClass", ())) if "cn=foreignsecurityprincipals," in \
                key else True:
            continue
        sid = _sid_of(e) or str(e.first("cn") or "")
        if sid in ("S-1-5-11", "S-1-5-4", "S-1-5-9", "S-1-5-17", "S-1-5-7", "S-1-1-0"):
            continue  # well-known principals stored as FSPs by design
        node = graph.lookup(ctx.G, key) if key in ctx.G.graph["index"] else e.dn
        groups = sorted(ctx.G.succ[node]) if node in ctx.G else []
        privileged = node in ctx.privileged_accounts or bool(
            set(graph.effective_groups(ctx.G, node)) & ctx.privileged_groups) if groups else False
        if groups and not privileged:
            continue
        yield {"subject": node, "severity": "high" if privileged else "low", "evidence": {
            "sid": sid, "groups": groups, "orphaned": not groups, "privileged": privileged}}


@check("pre-windows-2000-anonymous", "high",
       "Pre-Windows 2000 Compatible Access grants read access to users and groups; with "
       "Anonymous Logon or Everyone in it, anyone who reaches the DC without an account "
       "can enumerate the domain.", needs_entries=True, rule_id="DOM-03",
       pingcastle="A-PreWin2000Anonymous", attack="T1087.002",
       remediation="Remove Anonymous Logon and Everyone from Pre-Windows 2000 Compatible "
                   "Access (Authenticated Users is the default).")
def _prewin2000(ctx: Context) -> Iterator[Finding]:
    node = ctx.sid_node("S-1-5-32-554")
    if node is None:
        return
    for member in ctx.G.pred[node]:
        e = ctx.entry(member)
        sid = _sid_of(e) or str(ctx.G.nodes[member].get("sid") or "")
        if not sid and e is not None:
            sid = str(e.first("cn") or "")
        if not sid:
            sid = member.split(",", 1)[0].split("=", 1)[-1]
        if sid in ("S-1-5-7", "S-1-1-0"):
            yield {"subject": node, "evidence": {"member": member, "sid": sid,
                                                 "name": BROAD_SIDS[sid]}}


@check("dsheuristics-anonymous", "high",
       "dSHeuristics with '2' as its 7th character (fLDAPBlockAnonOps off) lets anonymous "
       "LDAP clients do every operation the ACLs allow, not only read the rootDSE.",
       needs_entries=True, rule_id="DOM-04", pingcastle="A-DsHeuristicsAnonymous",
       attack="T1087.002",
       remediation="Set the 7th character of dSHeuristics (CN=Directory Service,CN=Windows "
                   "NT,CN=Services,CN=Configuration,...) back to 0.")
def _dsheuristics(ctx: Context) -> Iterator[Finding]:
    for e in ctx.entries.values():
        value = e.first("dSHeuristics")
        if isinstance(value, str) and len(value) >= 7 and value[6] == "2":
            yield {"subject": e.dn, "evidence": {"dSHeuristics": value}}


def _is_gmsa(ctx: Context, node: str) -> bool:
    """A (group) managed service account: a computer object with no local accounts."""
    e = ctx.entry(node)
    return e is not None and any(str(c).lower() in ("msds-groupmanagedserviceaccount",
                                                    "msds-managedserviceaccount")
                                 for c in e.get("objectClass", ()))


def _stock_empty(ctx: Context, node: str) -> bool:
    """A group every domain is created with (empty in a fresh domain, and often rightly
    so: Print/Account/Server Operators, Schema/Enterprise Admins ...): the built-in
    S-1-5-32-* groups, the domain's well-known RIDs (below 1000) and the DNS groups the
    provisioning creates.  Not a "delete it" finding (AD would recreate or need them)."""
    sid = str(ctx.G.nodes[node].get("sid") or "")
    if sid.startswith("S-1-5-32-"):
        return True
    if sid.startswith("S-1-5-21-") and sid.count("-") == 7 and \
            int(sid.rsplit("-", 1)[1]) < 1000:
        return True
    return ctx.name(node).lower() in ("dnsadmins", "dnsupdateproxy")


__all__: list[str] = []
_ = (LdapnbError,)


@check("acl-coverage", "info",
       "The rights checks (dcsync, tier0-acl, adminsdholder-acl, broad-group-rights, "
       "control-path) can only judge the DACLs they were given: objects whose "
       "nTSecurityDescriptor is missing or carries no DACL (read without the SD flags "
       "control, or by an account that may not read it) are not covered, and a Tier-0 "
       "object among them means those checks may be missing findings.", needs_entries=True,
       rule_id="AUD-01",
       remediation="Read nTSecurityDescriptor with the SD flags control (owner, group, DACL = "
                   "7), as ldapnb does on live AD, with an account allowed to read it.")
def _acl_coverage(ctx: Context) -> Iterator[Finding]:
    if not ctx.is_ad:
        return
    acl = ctx.acl
    read = set(acl.loc[~acl["type"].isin(["DACL not read"]), "object"])
    keys_read = {ctx.key(dn) for dn in read}
    unread_tier0 = sorted(why for key, why in ctx.tier0_objects.items()
                          if key not in keys_read)
    missing = len(ctx.entries) - len(read)
    if missing == 0:
        return
    head = ctx.domain_head
    yield {"subject": head.dn if head is not None else "(directory)",
           "severity": "medium" if unread_tier0 else "info",
           "evidence": {"objects": len(ctx.entries), "dacl_read": len(read),
                        "dacl_missing": missing, "tier0_not_covered": unread_tier0[:50]}}
