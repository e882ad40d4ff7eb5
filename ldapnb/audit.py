"""The auditor's toolkit: findings with evidence, snapshot diffs, reports.

:func:`run` answers "who can act as an administrator here, through which chain of groups,
and what is wrong with those accounts and groups?" for an Active Directory or OpenLDAP
directory, as a DataFrame of findings::

    from ldapnb import Directory, audit
    findings = audit.run(Directory.embedded("contoso"), now=datetime(2026, 11, 1, tzinfo=UTC))
    audit.report(findings, "audit.html")

Every finding is one row:

===========  ================================================================================
check        the check's name (a key of :data:`CHECKS`)
severity     ``high``, ``medium``, ``low`` or ``info`` (an ordered categorical, see below)
subject      the DN the finding is about (an account, a group, the domain head ...)
evidence     a dict: the DNs, the chain, the attribute values or ACEs that prove it
rule         a short rationale: why this matters (true for AD where the check is AD's)
rule_id      ldapnb's stable rule ID (``ACL-01`` ...); :func:`rules` lists the catalogue
pingcastle   the matching PingCastle rule ID ("" where PingCastle has none)
attack       the MITRE ATT&CK technique ("" where none applies)
chain        the path that proves it: memberships and rights (``[account, group, ...,
             target]``), [] when the finding has none
remediation  what to do
waived       True when a waiver (:mod:`ldapnb.waivers`) accepts the risk; ``waiver`` says
             whose, why and until when
===========  ================================================================================

Besides membership, the Active Directory checks (:mod:`ldapnb.checks_ad`) read rights from
``nTSecurityDescriptor`` (:mod:`ldapnb.security`; on a live DC it is read with the SD flags
control so that a non-administrator gets it), delegation, Kerberos and hardening settings.

Severity levels
    ``high``
        A direct path to domain or directory control for an attacker: a privileged account
        whose Kerberos ticket can be requested without its password (no pre-authentication)
        or cracked offline (a user with a servicePrincipalName), or a non-DC account trusted
        for unconstrained delegation.
    ``medium``
        Weakens control of privileged access: privileged accounts that are disabled but still
        members, stale (no logon for ``stale_days``), whose password never expires, computer
        accounts in privileged groups, duplicate account names.
    ``low``
        Directory hygiene that hides or confuses who has access: adminCount left on accounts
        no longer privileged, membership cycles, nesting deeper than ``max_depth``, empty
        groups, members that do not exist, users in no group, kerberoastable accounts that
        are not privileged.
    ``info``
        The inventory: every account that is effectively a member of a privileged group,
        directly or through nesting, with the chain that makes it one.

Privileged groups are AD's well-known ones, recognised by SID/RID (:mod:`ldapnb.ad`), plus
the DNs or SIDs passed as ``privileged=`` (for OpenLDAP: e.g. the groups that ACLs grant
write access to).  Domain controllers' own membership of Domain Controllers (RID 516) and
Read-only Domain Controllers (521) is by design and not reported.

Each check is a small function ``check(ctx) -> Iterable[Finding]`` registered in
:data:`CHECKS` with :func:`check`; ``run(..., checks=[...])`` picks some.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from . import ad, graph
from .checks import (  # noqa: F401 - the framework, re-exported as audit.<name>
    _BY_DESIGN_SIDS,
    _DC_FLAGS,
    _DC_GROUP_RIDS,
    _KRBTGT_RID,
    ATTRIBUTES,
    CHECKS,
    COLUMNS,
    SEVERITIES,
    Check,
    Context,
    Finding,
    _account_evidence,
    _LazyNames,
    _norm,
    _sid_of,
    check,
)
from .dn import normalize
from .entry import MASK, Entry, is_secret
from .errors import LdapnbError, SchemaError
from .sources.base import ReadsSecurityDescriptors

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .directory import Directory

__all__ = [
    "SEVERITIES",
    "CHECKS",
    "Check",
    "Context",
    "Diff",
    "check",
    "rules",
    "run",
    "posture",
    "diff",
    "report",
]


# -- privileged accounts ----------------------------------------------------------------------


@check("privileged-member", "info",
       "Effective members of privileged groups control the domain or directory; nested "
       "membership is invisible to anyone who reads only the group's member list.")
def _privileged_member(ctx: Context) -> Iterator[Finding]:
    for row in ctx.inventory.itertuples(index=False):
        yield {
            "subject": row.member,
            "evidence": {
                "account": ctx.name(row.member),
                "kind": ctx.G.nodes[row.member].get("kind"),
                "group": row.group,
                "granted_by": ctx.G.nodes[row.group].get("privileged_by", ""),
                "direct": row.direct,
                "depth": row.depth,
                "chain": row.chain,
            },
        }


@check("privileged-disabled", "medium",
       "A disabled account left in a privileged group regains that privilege the moment "
       "someone re-enables it; remove it from the group.", needs_entries=True)
def _privileged_disabled(ctx: Context) -> Iterator[Finding]:
    for node in ctx.privileged_accounts:
        flags = ctx.uac(node)
        if flags is not None and ad.UAC.ACCOUNTDISABLE in flags:
            yield {"subject": node, "evidence": _account_evidence(
                ctx, node, userAccountControl=int(flags), flags=str(flags.name))}


def _last_logon(e: Entry) -> tuple[str, datetime | None] | None:
    """(attribute, time) of the last logon, None when the entry records none at all."""
    value = e.first("lastLogonTimestamp")
    if value is not None:
        return "lastLogonTimestamp", ad.filetime_to_datetime(value, attribute="lastLogonTimestamp")
    for attribute in ("authTimestamp", "pwdLastSuccess"):  # OpenLDAP lastbind / ppolicy
        value = e.first(attribute)
        if isinstance(value, str):
            from datetime import timedelta

            from .frames import parse_generalized_time

            micro = parse_generalized_time(value)
            if micro is None:
                raise SchemaError(f"{e.dn}: {attribute} {value!r} is not a GeneralizedTime")
            return attribute, datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micro)
    if "userAccountControl" in e:  # an AD account that never logged on
        return "lastLogonTimestamp", None
    return None


@check("privileged-stale", "medium",
       "A privileged account nobody has used for a long time is an unwatched key: disable "
       "it or take it out of the group.", needs_entries=True)
def _privileged_stale(ctx: Context) -> Iterator[Finding]:
    for node in ctx.privileged_accounts:
        e = ctx.entry(node)
        last = _last_logon(e) if e is not None else None
        if last is None:
            continue
        attribute, when = last
        age = None if when is None else (ctx.now - when).days
        if age is None or age > ctx.stale_days:
            yield {"subject": node, "evidence": _account_evidence(
                ctx, node, **{attribute: when.isoformat() if when else "never"},
                days_since_logon=age, threshold_days=ctx.stale_days)}


def _uac_check(ctx: Context, flag: ad.UAC, *, users_only: bool = False
               ) -> Iterator[Finding]:
    for node in ctx.privileged_accounts:
        flags = ctx.uac(node)
        if flags is None or flag not in flags:
            continue
        if users_only and ctx.G.nodes[node].get("kind") != "user":
            continue
        yield {"subject": node, "evidence": _account_evidence(
            ctx, node, userAccountControl=int(flags), flags=str(flags.name))}


@check("privileged-password-never-expires", "medium",
       "A privileged password that never expires is rarely changed; a leaked one stays "
       "valid for good (DONT_EXPIRE_PASSWORD).", needs_entries=True)
def _never_expires(ctx: Context) -> Iterator[Finding]:
    return _uac_check(ctx, ad.UAC.DONT_EXPIRE_PASSWORD)


@check("privileged-no-preauth", "high",
       "Without Kerberos pre-authentication anyone can request an AS-REP for this account "
       "and crack its password offline (AS-REP roasting, DONT_REQ_PREAUTH).",
       needs_entries=True)
def _no_preauth(ctx: Context) -> Iterator[Finding]:
    return _uac_check(ctx, ad.UAC.DONT_REQ_PREAUTH)


def _kerberoastable(ctx: Context, node: str) -> dict[str, Any] | None:
    """SPNs of an enabled user account (not a computer, not krbtgt), else None."""
    if ctx.G.nodes[node].get("kind") != "user":
        return None
    e = ctx.entry(node)
    if e is None or not e.get("servicePrincipalName") or ctx.rid(node) == _KRBTGT_RID:
        return None
    flags = ctx.uac(node)
    if flags is not None and ad.UAC.ACCOUNTDISABLE in flags:
        return None
    return {"servicePrincipalName": [str(v) for v in e["servicePrincipalName"]]}


@check("privileged-kerberoastable", "high",
       "Any domain user can request a service ticket for a user account with a "
       "servicePrincipalName and crack its (human-chosen) password offline "
       "(kerberoasting). Computer accounts have random passwords and are not listed.",
       needs_entries=True)
def _privileged_kerberoastable(ctx: Context) -> Iterator[Finding]:
    for node in ctx.privileged_accounts:
        spns = _kerberoastable(ctx, node)
        if spns:
            yield {"subject": node, "evidence": _account_evidence(ctx, node, **spns)}


@check("kerberoastable", "low",
       "A user account with a servicePrincipalName can be kerberoasted; not privileged, "
       "but its password should be long and random (or use a managed service account).",
       needs_entries=True)
def _other_kerberoastable(ctx: Context) -> Iterator[Finding]:
    for node, kind in ctx.G.nodes(data="kind"):
        if kind != "user" or node in ctx.privileged_accounts:
            continue
        spns = _kerberoastable(ctx, node)
        if spns:
            yield {"subject": node, "evidence": {"account": ctx.name(node), **spns}}


@check("privileged-computer", "medium",
       "A computer account in a privileged group makes whoever controls that machine a "
       "domain administrator (domain controllers in their own groups are not listed).")
def _privileged_computer(ctx: Context) -> Iterator[Finding]:
    for node in ctx.privileged_accounts:
        if ctx.G.nodes[node].get("kind") == "computer":
            yield {"subject": node, "evidence": _account_evidence(ctx, node)}


@check("unconstrained-delegation", "high",
       "An account trusted for unconstrained delegation keeps the Kerberos tickets of "
       "everyone who connects to it; outside domain controllers it is a path to the domain.",
       needs_entries=True)
def _unconstrained(ctx: Context) -> Iterator[Finding]:
    for node, flags in ctx.uac_nodes:
        if (ad.UAC.TRUSTED_FOR_DELEGATION not in flags
                or ad.UAC.ACCOUNTDISABLE in flags or flags & _DC_FLAGS):
            continue
        yield {"subject": node, "evidence": {"account": ctx.name(node),
                                             "userAccountControl": int(flags),
                                             "flags": str(flags.name)}}


@check("admincount-orphan", "low",
       "adminCount=1 is left behind when an account leaves the protected groups: it keeps "
       "AdminSDHolder's permissions and no inheritance, and misleads audits that trust it "
       "(krbtgt is protected by design and not listed).", needs_entries=True)
def _admincount_orphan(ctx: Context) -> Iterator[Finding]:
    privileged = ctx.privileged_groups
    for key, e in ctx.entries.items():
        if str(e.first("adminCount", "")).strip() != "1":
            continue
        node = graph.lookup(ctx.G, key) if key in ctx.G.graph["index"] else None
        if node is None or ctx.rid(node) == _KRBTGT_RID:
            continue
        if node in privileged or node in ctx.privileged_accounts:
            continue
        if ctx.G.nodes[node].get("kind") == "group" and privileged & nx.descendants(ctx.G, node):
            continue
        yield {"subject": node, "evidence": {
            "account": ctx.name(node), "adminCount": "1",
            "groups": sorted(graph.effective_groups(ctx.G, node))}}


# -- groups -----------------------------------------------------------------------------------


@check("membership-cycle", "low",
       "Groups that are members of each other make every member of one a member of all; "
       "it is almost always a mistake, and some tools loop on it.")
def _cycles(ctx: Context) -> Iterator[Finding]:
    for cycle in graph.cycles(ctx.G):
        yield {"subject": cycle[0], "evidence": {"cycle": [*cycle, cycle[0]],
                                                 "groups": [ctx.name(g) for g in cycle]}}


def _longest_chain(ctx: Context, group: str) -> list[str]:
    """One longest chain of nested groups ending at ``group``, bottom first."""
    depths, pred = ctx.depths, ctx.G.pred
    chain = [group]
    current = group
    while depths.get(current, 0) > 0:
        below = [p for p in pred[current] if p in depths and depths[p] < depths[current]]
        if not below:
            break
        current = max(below, key=lambda p: (depths[p], p))
        chain.append(current)
    return chain[::-1]


@check("deep-nesting", "low",
       "Groups nested more deeply than the threshold hide who their members are; flatten "
       "them.")
def _deep(ctx: Context) -> Iterator[Finding]:
    for group, level in ctx.depths.items():
        if level > ctx.max_depth:
            yield {"subject": group, "evidence": {
                "depth": level, "threshold": ctx.max_depth,
                "chain": _longest_chain(ctx, group)}}


@check("empty-group", "low",
       "An empty group grants nothing today but anything tomorrow: delete it or document it. "
       "(AD primary groups count their primaryGroupID members; a groupOfNames whose only "
       "member is the empty placeholder value is empty.)")
def _empty(ctx: Context) -> Iterator[Finding]:
    for node, data in ctx.G.nodes(data=True):
        if data.get("kind") != "group" or data.get("dangling") or ctx.G.pred[node]:
            continue
        from .checks_ad import _stock_empty

        if _stock_empty(ctx, node):
            continue  # empty in a fresh domain, and should stay so (PingCastle P-OperatorsEmpty)
        e = ctx.entry(node)
        values = {a: [str(v) for v in e[a]] for a in ("member", "uniqueMember", "memberUid")
                  if e is not None and a in e}
        placeholder = bool(values) and all(not v.strip() for vs in values.values() for v in vs)
        yield {"subject": node, "evidence": {
            "group": ctx.name(node),
            "privileged": bool(data.get("privileged")),
            "values": values,
            "why": "only the empty placeholder member value" if placeholder
            else "no member values, and no account has it as primary group"}}


_AD_DANGLING = (
    "A member value naming no entry: Active Directory cannot hold one (it keeps member "
    "links to existing objects, and shows a deleted trusted-domain account as an orphaned "
    "foreign security principal, see foreign-security-principal), so in AD data this means "
    "the export is partial or was edited; re-export before trusting the membership.")


@check("dangling-member", "low",
       "A member value pointing at an entry that does not exist (a deleted account) is "
       "granted again to whoever is later created with that name.")
def _dangling(ctx: Context) -> Iterator[Finding]:
    G = ctx.G
    for member, data in G.nodes(data=True):
        if not data.get("dangling") or str(member).startswith("<SID="):
            continue
        for group in G.succ[member]:
            via = G.edges[member, group].get("via", frozenset())
            if via <= {"memberUid"}:
                continue  # reported by memberuid-without-account
            evidence = {"group": ctx.name(group), "member": member, "attribute": sorted(via)}
            if ctx.is_ad:
                yield {"subject": group, "evidence": evidence, "rule": _AD_DANGLING}
            else:
                yield {"subject": group, "evidence": evidence}


@check("memberuid-without-account", "low",
       "A posixGroup memberUid that names no account grants the group to whoever is later "
       "created with that uid.")
def _memberuid(ctx: Context) -> Iterator[Finding]:
    G = ctx.G
    for member, data in G.nodes(data=True):
        if not data.get("dangling"):
            continue
        for group in G.succ[member]:
            if "memberUid" in G.edges[member, group].get("via", frozenset()):
                yield {"subject": group, "evidence": {"group": ctx.name(group),
                                                      "memberUid": data.get("label")}}


@check("user-without-group", "low",
       "A user in no group (other than its AD primary group) is often a leftover account "
       "nobody owns.")
def _no_group(ctx: Context) -> Iterator[Finding]:
    G = ctx.G
    for node, data in G.nodes(data=True):
        if data.get("kind") != "user" or data.get("dangling"):
            continue
        if any(G.edges[node, g].get("via", frozenset()) - {"primaryGroupID"}
               for g in G.succ[node]):
            continue
        yield {"subject": node, "evidence": {
            "account": ctx.name(node), "primary_group": sorted(G.succ[node])}}


@check("duplicate-account-name", "medium",
       "Two accounts with one sAMAccountName or uid (ignoring case) make logons, ACLs and "
       "memberUid resolve to the wrong person; AD forbids it.", needs_entries=True)
def _duplicates(ctx: Context) -> Iterator[Finding]:
    for attribute in ("sAMAccountName", "uid", "uidNumber"):
        seen: dict[str, list[str]] = defaultdict(list)
        for e in ctx.entries.values():
            if attribute not in e:
                continue
            if attribute == "uidNumber" and "posixaccount" not in {
                    str(c).lower() for c in e.get("objectClass", ())}:
                continue
            for value in e.get(attribute, ()):
                if isinstance(value, str) and value.strip():
                    seen[value.strip().casefold()].append(e.dn)
        for dns in seen.values():
            if len(dns) < 2:
                continue
            for dn in dns:
                e = ctx.entries[normalize(dn)]
                yield {"subject": dn, "evidence": {
                    "attribute": attribute, "value": str(e.first(attribute)),
                    "others": [d for d in dns if d != dn]}}


# ------------------------------------------------------------------------------------------
# run
# ------------------------------------------------------------------------------------------


def _load(source: Any, attributes: Iterable[str] | None = ATTRIBUTES) -> list[Entry]:
    """Entries from a Directory, a snapshot path or an iterable of entries."""
    from .directory import Directory

    if isinstance(source, Directory):
        out = list(source.entries(attributes=list(attributes) if attributes else None))
        if isinstance(source.source, ReadsSecurityDescriptors) and (
                not attributes or "nTSecurityDescriptor" in attributes):
            # AD gives nTSecurityDescriptor to a non-admin only with the SD flags control
            descriptors = {normalize(dn): raw for dn, raw in source.source.security_descriptors()}
            for e in out:
                raw = descriptors.get(normalize(e.dn))
                if raw is not None and not e.get("nTSecurityDescriptor"):
                    e.set("nTSecurityDescriptor", [raw])
        return out
    if isinstance(source, (str, os.PathLike)):
        return _load(_open_snapshot(source), attributes)
    if isinstance(source, Entry):
        raise LdapnbError("expected a Directory, a snapshot path or many entries, "
                          "got one Entry")
    try:
        entries = list(source)
    except TypeError as exc:
        raise LdapnbError(
            f"cannot audit a {type(source).__name__}: give a Directory, a networkx graph "
            "from Directory.graph(), a snapshot path or an iterable of Entry") from exc
    for e in entries:
        if not isinstance(e, Entry):
            raise LdapnbError(f"expected Entry objects, got a {type(e).__name__}")
    return entries


def _open_snapshot(path: str | os.PathLike[str]) -> Directory | Iterable[Entry]:
    """A snapshot file's entries: :func:`ldapnb.snapshot.read` (LDIF or Parquet) when that
    module is present, else an LDIF file read as a Directory."""
    from .directory import Directory

    p = Path(path)
    if not p.exists():
        raise LdapnbError(f"{p}: no such snapshot file")
    try:
        from . import snapshot
    except ImportError:  # pragma: no cover - snapshot.py ships with ldapnb
        if p.suffix.lower() == ".ldif":
            return Directory.from_ldif(p)
        raise LdapnbError(f"{p}: only .ldif snapshots can be read here") from None
    return snapshot.read(p)


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def _findings_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["waived"] = frame["waived"].fillna(False).astype(bool)
    frame["severity"] = pd.Categorical(frame["severity"], categories=list(SEVERITIES),
                                       ordered=True)
    order = {name: i for i, name in enumerate(CHECKS)}
    frame["_order"] = frame["check"].map(order).fillna(len(order))
    frame = frame.sort_values(["severity", "_order", "subject"], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def run(
    source: Directory | nx.DiGraph | Iterable[Entry] | str | os.PathLike[str],
    *,
    now: datetime | None = None,
    privileged: Iterable[str] = (),
    stale_days: int = 90,
    max_depth: int = 5,
    checks: Iterable[str] | None = None,
    waivers: str | os.PathLike[str] | Iterable[dict[str, Any]] | None = None,
    posture: bool | None = None,
) -> pd.DataFrame:
    """Run the audit checks and return the findings.

    Parameters
    ----------
    source : Directory, networkx.DiGraph, iterable of Entry, or path
        What to audit.  A membership graph alone (``Directory.graph()``) allows only the
        graph checks (membership, cycles, nesting, empty groups, dangling members); the
        account checks need entries.
    now : datetime, optional
        "Now" for the age checks (default: the current time; a naive datetime is UTC).
        Audit a fixture or an old export with its own reference date.
    privileged : iterable of str
        Group DNs (any spelling) or SIDs to treat as privileged, besides AD's well-known
        groups.  Ignored when ``source`` is a graph (mark them in ``Directory.graph``).
    stale_days : int
        A privileged account with no logon for more than this many days is stale.
    max_depth : int
        Groups nested more deeply than this are reported.
    checks : iterable of str, optional
        Names of the checks to run (keys of :data:`CHECKS`); default all.
    waivers : path or list of dict, optional
        Accepted risks (a TOML file, see :mod:`ldapnb.waivers`): matching findings stay,
        marked ``waived``; an expired waiver is itself a finding (``waiver-expired``).
    posture : bool, optional
        Probe the server's LDAP posture (:func:`posture`: simple binds in clear, the LDAPS
        certificate, anonymous reads) at the Directory's ``ldap``/``ldaps`` URLs.  Default:
        when ``source`` is a live Directory; True for anything else is an error.

    Returns
    -------
    pandas.DataFrame
        Columns ``check``, ``severity`` (ordered categorical), ``subject`` (DN),
        ``evidence`` (dict), ``rule``, ``rule_id``, ``pingcastle``, ``attack`` (MITRE
        ATT&CK), ``chain`` (the path of nodes that proves it, or []), ``remediation``,
        ``waived`` (bool), ``waiver`` (its reason, owner and expiry); sorted by severity,
        check, subject.  :func:`rules` lists the catalogue.

    Raises
    ------
    LdapnbError
        An unknown check name, or a source that is none of the above.
    SchemaError
        A malformed userAccountControl, FILETIME or SID (the message names the entry).

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> from ldapnb import Directory
    >>> f = run(Directory.embedded("contoso"), now=datetime(2026, 11, 1, tzinfo=UTC))
    >>> f.loc[f.check == "privileged-no-preauth", "evidence"].iloc[0]["account"]
    'henry.adams'
    """
    if isinstance(stale_days, bool) or not isinstance(stale_days, int) or stale_days < 0:
        raise LdapnbError(f"stale_days must be a whole number of days >= 0, not {stale_days!r}")
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 0:
        raise LdapnbError(f"max_depth must be a whole number >= 0, not {max_depth!r}")
    if checks is None:
        chosen = list(CHECKS.values())
    else:
        names = [checks] if isinstance(checks, str) else list(checks)
        unknown = [n for n in names if n not in CHECKS]
        if unknown:
            raise LdapnbError(f"unknown check(s) {unknown}: choose from {list(CHECKS)}")
        chosen = [CHECKS[n] for n in names]

    from .directory import Directory

    entries: dict[str, Entry] = {}  # normalised DN -> entry
    if isinstance(source, nx.DiGraph):
        G = source
    else:
        loaded = _load(source)
        G = graph.from_entries(loaded, privileged=privileged)
        # the graph has normalised every entry's DN already: reuse its keys
        key_of = {node: key for key, node in G.graph.get("index", {}).items()
                  if not key.startswith("<")}
        for e in loaded:
            key = key_of.get(e.dn)
            entries.setdefault(key if key is not None else normalize(e.dn), e)
    ctx = Context(G, entries, _now(now), stale_days=stale_days, max_depth=max_depth)
    live = isinstance(source, Directory) and source.is_live
    if posture and not live:
        raise LdapnbError("posture=True needs a live Directory (a server to probe); for a URL "
                          "use audit.posture(url)")
    if (posture is None or posture) and live and any(c.needs_live for c in chosen):
        from .checks_posture import gather

        assert isinstance(source, Directory)
        urls = [u for k, u in source.urls.items() if k in ("ldap", "ldaps")]
        ca = source.ca_file
        ctx.posture = gather(urls, ca_file=str(ca) if ca else None, now=ctx.now)
    rows = _rows(chosen, ctx, bool(entries))
    if waivers is not None:
        from .waivers import apply as _apply_waivers

        rows = _apply_waivers(rows, waivers, now=ctx.now, name=ctx.name)
    frame = _findings_frame(rows)
    from . import __version__

    frame.attrs.update({
        "source": _describe_source(source), "as_of": ctx.now.isoformat(),
        "ldapnb_version": __version__, "checks": [c.name for c in chosen],
        "rules": rules().to_dict("records")})
    if ctx.posture is not None:
        frame.attrs["posture"] = ctx.posture.evidence()
    return frame


def posture(
    urls: str | Iterable[str],
    *,
    ca_file: str | os.PathLike[str] | None = None,
    timeout: float = 5,
    now: datetime | None = None,
) -> pd.DataFrame:
    """The LDAP posture findings of a server, from live connections (through
    :func:`ldapnb.diagnose.diagnose`'s probes).

    Parameters
    ----------
    urls : str or iterable of str
        ``ldap://`` (the simple bind in clear is probed there, and StartTLS) and/or
        ``ldaps://`` URLs of the same server.
    ca_file : path, optional
        The CA trusted for the server's certificate (default: the system's store).
    timeout : float
        Seconds allowed for each network step.
    now : datetime, optional
        "Now" for the certificate's expiry (default: the current time).

    Returns
    -------
    pandas.DataFrame
        The findings of the posture rules (``rule_id`` ``LDAP-*``), as :func:`run` gives
        them; ``frame.attrs["posture"]`` holds what each probe saw (also when all is well:
        e.g. the DC's ``strongerAuthRequired`` answer).

    Examples
    --------
    >>> f = posture("ldap://127.0.0.1:9", timeout=0.5)   # nothing listens on port 9
    >>> f.attrs["posture"][0]["reached"], list(f["rule_id"])
    (False, ['LDAP-00'])
    """
    from .checks_posture import gather

    chosen = [c for c in CHECKS.values() if c.needs_live]
    ctx = Context(nx.DiGraph(), {}, _now(now))
    ctx.posture = gather([urls] if isinstance(urls, str) else list(urls),
                         ca_file=os.fspath(ca_file) if ca_file else None, timeout=timeout,
                         now=ctx.now)
    frame = _findings_frame(_rows(chosen, ctx, True))
    frame.attrs.update({"source": " ".join(ctx.posture.urls), "as_of": ctx.now.isoformat(),
                        "checks": [c.name for c in chosen], "posture": ctx.posture.evidence()})
    return frame


def _rows(chosen: list[Check], ctx: Context, have_entries: bool) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for c in chosen:
        if c.needs_entries and not have_entries:
            continue
        if c.needs_live and ctx.posture is None:
            continue
        for finding in c.function(ctx):
            evidence = finding.get("evidence", {})
            rows.append({
                "check": c.name,
                "severity": finding.get("severity", c.severity),
                "subject": finding["subject"],
                "evidence": evidence,
                "rule": finding.get("rule", c.rule),
                "rule_id": c.rule_id,
                "pingcastle": c.pingcastle,
                "attack": c.attack,
                "chain": list(finding.get("chain") or evidence.get("chain") or []),
                "remediation": c.remediation,
                "waived": False,
                "waiver": None,
            })
    return rows


def _describe_source(source: Any) -> str:
    """How a report names what was audited."""
    from .directory import Directory

    if isinstance(source, Directory):
        urls = " ".join(source.urls.values()) if source.is_live else ""
        return f"Directory {source.name}" + (f" at {urls}" if urls else "")
    if isinstance(source, nx.DiGraph):
        return f"membership graph ({source.number_of_nodes()} nodes)"
    if isinstance(source, (str, os.PathLike)):
        return f"snapshot {os.fspath(source)}"
    return "entries"


def rules() -> pd.DataFrame:
    """The whole rule catalogue, one row per check.

    Returns
    -------
    pandas.DataFrame
        ``rule_id``, ``check``, ``severity`` (the default; some findings raise or lower it),
        ``pingcastle`` (the matching PingCastle rule, "" when PingCastle has none),
        ``attack`` (MITRE ATT&CK technique), ``rule`` (the rationale), ``remediation``,
        ``needs_entries`` (False: runs on a membership graph alone).

    Examples
    --------
    >>> r = rules()
    >>> r.set_index("check").loc["dcsync", ["rule_id", "attack"]].tolist()
    ['ACL-01', 'T1003.006']
    >>> r["rule_id"].is_unique
    True
    """
    import pandas as pd

    return pd.DataFrame([
        {"rule_id": c.rule_id, "check": c.name, "severity": c.severity,
         "pingcastle": c.pingcastle, "attack": c.attack, "rule": c.rule,
         "remediation": c.remediation, "needs_entries": c.needs_entries,
         "needs_live": c.needs_live}
        for c in CHECKS.values()])


# ------------------------------------------------------------------------------------------
# snapshot diff
# ------------------------------------------------------------------------------------------


@dataclass
class Diff:
    """What changed between two snapshots; every table is a DataFrame.

    ========================  ============================================================
    added, removed            ``dn``: entries only in the new / only in the old snapshot
    changed                   ``dn``, ``attribute``, ``old``, ``new`` (value lists,
                              passwords masked), one row per changed attribute
    edges_added, _removed     ``member``, ``group``, ``via``: direct membership
    privilege_gained          ``member``, ``group`` (privileged), ``chain``: effective
                              privileged membership the new snapshot grants, and how
    privilege_lost            the same for what the old one granted (``chain`` as before)
    rights_gained             ``trustee`` (SID), ``trustee_name``, ``object``, ``edge``:
                              abusable rights (:func:`ldapnb.security.edges`: GenericAll,
                              WriteDacl, DCSync halves, ownership ...) only the new
                              snapshot's descriptors grant, on objects in both snapshots
    rights_lost               the same for rights only the old snapshot granted
    ========================  ============================================================

    DNs are shown as the newer snapshot spells them (the older one for what was removed).
    """

    added: pd.DataFrame
    removed: pd.DataFrame
    changed: pd.DataFrame
    edges_added: pd.DataFrame
    edges_removed: pd.DataFrame
    privilege_gained: pd.DataFrame
    privilege_lost: pd.DataFrame
    rights_gained: pd.DataFrame = field(default_factory=lambda: _empty_rights())
    rights_lost: pd.DataFrame = field(default_factory=lambda: _empty_rights())

    def summary(self) -> dict[str, int]:
        """Row counts of every table."""
        return {name: len(getattr(self, name)) for name in (
            "added", "removed", "changed", "edges_added", "edges_removed",
            "privilege_gained", "privilege_lost", "rights_gained", "rights_lost")}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v}" for k, v in self.summary().items())
        return f"<Diff {inner}>"

    def to_findings(self) -> pd.DataFrame:
        """Privilege gained/lost as findings rows (for :func:`report`)."""
        rows = []
        for row in self.privilege_gained.itertuples(index=False):
            rows.append({"check": "privilege-gained", "severity": "high",
                         "subject": row.member,
                         "evidence": {"group": row.group, "chain": row.chain},
                         "rule": "Effective membership of a privileged group that the older "
                                 "snapshot did not have: confirm it was approved."})
        for row in self.privilege_lost.itertuples(index=False):
            rows.append({"check": "privilege-lost", "severity": "info",
                         "subject": row.member,
                         "evidence": {"group": row.group, "chain_before": row.chain},
                         "rule": "Effective membership of a privileged group that the "
                                 "newer snapshot no longer has."})
        for row in self.rights_gained.itertuples(index=False):
            rows.append({"check": "right-gained", "severity": "high",
                         "subject": row.object, "chain": [row.trustee, row.object],
                         "evidence": {"trustee": row.trustee_name, "trustee_sid": row.trustee,
                                      "object": row.object, "right": row.edge},
                         "rule": "A right on an object (from its security descriptor) that "
                                 "the older snapshot did not grant: confirm it was approved."})
        for row in self.rights_lost.itertuples(index=False):
            rows.append({"check": "right-lost", "severity": "info",
                         "subject": row.object,
                         "evidence": {"trustee": row.trustee_name, "trustee_sid": row.trustee,
                                      "object": row.object, "right": row.edge},
                         "rule": "A right the newer snapshot's descriptors no longer grant."})
        for row in rows:
            row.setdefault("chain", [])
            row.setdefault("waived", False)
        return _findings_frame(rows)


def _shown(attribute: str, values: Iterable[Any]) -> list[Any]:
    if is_secret(attribute):
        return [MASK for _ in values]
    return sorted((v for v in values), key=lambda v: (isinstance(v, bytes), v))


def _privileged_pairs(G: nx.DiGraph) -> dict[tuple[str, str], list[str]]:
    """(normalised member, normalised group) -> chain, every effective privileged
    membership (members of any kind, groups included)."""
    out: dict[tuple[str, str], list[str]] = {}
    for group in graph.privileged_groups(G):
        gk = normalize(group) if not group.startswith("<SID=") else group.lower()
        for member in nx.ancestors(G, group):
            mk = normalize(member) if not member.startswith("<SID=") else member.lower()
            out[(mk, gk)] = []
    if not out:
        return out
    # shortest chains in bulk from the long table
    members = {m for m, _ in out}
    nodes = [n for n in G if _norm(n) in members]
    frame = graph.membership_frame(G, nodes)
    for member, group, via in zip(frame["member"].astype(object),
                                  frame["group"].astype(object), frame["via"], strict=True):
        key = (_norm(member), _norm(group))
        if key in out:
            out[key] = [member, *via]
    return out




def diff(
    old: Directory | Iterable[Entry] | str | os.PathLike[str],
    new: Directory | Iterable[Entry] | str | os.PathLike[str],
    *,
    privileged: Iterable[str] = (),
) -> Diff:
    """Compare two snapshots: entries, attributes, direct membership, effective privilege.

    Parameters
    ----------
    old, new : Directory, iterable of Entry, or path
        The two snapshots: Directories, entry lists, or snapshot files (``.ldif``; other
        formats through ``Directory.from_snapshot`` / ``ldapnb.snapshot`` when available).
    privileged : iterable of str
        Extra privileged group DNs or SIDs (OpenLDAP), applied to both.

    Returns
    -------
    Diff

    Raises
    ------
    LdapnbError
        A source that is none of the above, or a missing file.

    Examples
    --------
    >>> from ldapnb import Directory
    >>> old, new = Directory.embedded("tiny"), Directory.embedded("tiny")
    >>> new.modify("cn=admins,ou=Groups,dc=example,dc=com",
    ...            [("add", "member", "uid=erin,ou=People,dc=example,dc=com")])
    >>> d = diff(old, new, privileged=["cn=admins,ou=Groups,dc=example,dc=com"])
    >>> d.privilege_gained[["member", "chain"]].values.tolist()
    [['uid=erin,ou=People,dc=example,dc=com', ['uid=erin,ou=People,dc=example,dc=com', \
'cn=admins,ou=Groups,dc=example,dc=com']]]
    """
    import pandas as pd

    privileged = list(privileged)
    before = {normalize(e.dn): e for e in _load(old, None)}
    after = {normalize(e.dn): e for e in _load(new, None)}
    added = pd.DataFrame({"dn": [after[k].dn for k in after if k not in before]})
    removed = pd.DataFrame({"dn": [before[k].dn for k in before if k not in after]})

    changes = []
    for key in after.keys() & before.keys():
        a, b = before[key], after[key]
        names = {n.lower(): n for n in a} | {n.lower(): n for n in b}
        for low, name in sorted(names.items()):
            va, vb = a.get(low, []), b.get(low, [])
            if _value_set(va) != _value_set(vb):
                changes.append((b.dn, name, _shown(name, va), _shown(name, vb)))
    changes.sort(key=lambda r: (_norm(r[0]), r[1].lower()))
    changed = pd.DataFrame(changes, columns=["dn", "attribute", "old", "new"])

    G_old = graph.from_entries(before.values(), privileged=[
        p for p in privileged if _exists(p, before)])
    G_new = graph.from_entries(after.values(), privileged=[
        p for p in privileged if _exists(p, after)])
    e_old = {(_norm(u), _norm(v)): (u, v, d.get("via", frozenset()))
             for u, v, d in G_old.edges(data=True)}
    e_new = {(_norm(u), _norm(v)): (u, v, d.get("via", frozenset()))
             for u, v, d in G_new.edges(data=True)}

    def edges(rows: dict[tuple[str, str], tuple[str, str, frozenset[str]]],
              keys: Iterable[tuple[str, str]]) -> pd.DataFrame:
        out = [(rows[k][0], rows[k][1], sorted(rows[k][2])) for k in sorted(keys)]
        return pd.DataFrame(out, columns=["member", "group", "via"])

    p_old, p_new = _privileged_pairs(G_old), _privileged_pairs(G_new)

    def privilege(rows: dict[tuple[str, str], list[str]], keys: Iterable[tuple[str, str]],
                  G: nx.DiGraph) -> pd.DataFrame:
        out = []
        for k in sorted(keys):
            chain = rows[k]
            out.append((chain[0] if chain else k[0], chain[-1] if chain else k[1],
                        G.nodes[chain[0]].get("kind") if chain else None, chain))
        return pd.DataFrame(out, columns=["member", "group", "kind", "chain"])

    # rights on objects in both snapshots (a new object's owner is in ``added`` already)
    both = before.keys() & after.keys()
    r_old = {k: v for k, v in _rights(before).items() if k[1] in both}
    r_new = {k: v for k, v in _rights(after).items() if k[1] in both}
    return Diff(
        rights_gained=_rights_table(r_new, r_new.keys() - r_old.keys()),
        rights_lost=_rights_table(r_old, r_old.keys() - r_new.keys()),
        added=added,
        removed=removed,
        changed=changed,
        edges_added=edges(e_new, e_new.keys() - e_old.keys()),
        edges_removed=edges(e_old, e_old.keys() - e_new.keys()),
        privilege_gained=privilege(p_new, p_new.keys() - p_old.keys(), G_new),
        privilege_lost=privilege(p_old, p_old.keys() - p_new.keys(), G_old),
    )


def _empty_rights() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(columns=["trustee", "trustee_name", "object", "edge"])


def _rights(entries: dict[str, Entry]) -> dict[tuple[str, str, str], tuple[str, str, str, str]]:
    """(trustee SID, normalised object, edge) -> (trustee, name, object, edge): the abusable
    rights the entries' descriptors grant (empty when none carries one)."""
    from . import security

    with_sd = [e for e in entries.values() if e.get("nTSecurityDescriptor")]
    if not with_sd:
        return {}
    names = {}
    for e in entries.values():
        sid = _sid_of(e)
        if sid:
            names[sid] = str(e.first("sAMAccountName") or e.first("cn") or e.dn)
    frame = security.edges(security.aces(with_sd, names=names))
    out = {}
    for trustee, name, obj, edge in zip(frame["trustee"], frame["trustee_name"],
                                        frame["object"], frame["edge"], strict=True):
        out[(str(trustee), _norm(str(obj)), str(edge))] = (str(trustee), str(name), str(obj),
                                                           str(edge))
    return out


def _rights_table(rows: dict[tuple[str, str, str], tuple[str, str, str, str]],
                  keys: Iterable[tuple[str, str, str]]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame([rows[k] for k in sorted(keys)],
                        columns=["trustee", "trustee_name", "object", "edge"])


def _exists(name: str, entries: dict[str, Entry]) -> bool:
    if name[:4].upper() == "S-1-":
        return True
    try:
        return normalize(name) in entries
    except LdapnbError:
        return False


def _value_set(values: Iterable[Any]) -> set[Any]:
    return {v for v in values}


# ------------------------------------------------------------------------------------------
# reports
# ------------------------------------------------------------------------------------------


def report(findings: pd.DataFrame, path: str | os.PathLike[str], *,
           directory: Directory | nx.DiGraph | None = None,
           title: str = "ldapnb audit") -> Path:
    """Write the findings as a report; the format follows the file's extension.

    See :func:`ldapnb.report.report` (``.html``, ``.xlsx``, ``.csv``).
    """
    from .report import report as _report

    return _report(findings, path, directory=directory, title=title)


# ------------------------------------------------------------------------------------------
# the catalogue: IDs, PingCastle rules and ATT&CK techniques of the membership checks
# ------------------------------------------------------------------------------------------

_META: dict[str, tuple[str, str, str, str]] = {  # check -> (rule_id, pingcastle, attack, fix)
    "privileged-member": ("PRIV-01", "", "T1078.002",
                          "Review the list: remove whoever does not need the privilege; "
                          "prefer direct, documented membership to nesting."),
    "privileged-disabled": ("PRIV-02", "", "T1078.002",
                            "Remove the disabled account from the privileged group."),
    "privileged-stale": ("PRIV-03", "P-Inactive", "T1078.002",
                         "Disable the account or take it out of the privileged group."),
    "privileged-password-never-expires": ("PRIV-04", "S-PwdNeverExpires", "T1110",
                                          "Clear DONT_EXPIRE_PASSWORD, change the password; "
                                          "use a gMSA for services."),
    "privileged-no-preauth": ("KRB-01", "S-NoPreAuthAdmin", "T1558.004",
                              "Clear DONT_REQ_PREAUTH."),
    "privileged-kerberoastable": ("KRB-02", "P-Kerberoasting", "T1558.003",
                                  "Remove the SPN from the admin account (run the service as "
                                  "a gMSA) or take the account out of the admin groups."),
    "kerberoastable": ("KRB-05", "", "T1558.003",
                       "Use a gMSA, or a password of 25+ random characters, and AES only."),
    "privileged-computer": ("PRIV-05", "", "T1078.002",
                            "Take the computer out of the group; grant the service what it "
                            "needs on the resources instead."),
    "unconstrained-delegation": ("DELEG-01", "P-UnconstrainedDelegation", "T1558",
                                 "Replace unconstrained delegation by constrained "
                                 "(Kerberos-only) or resource-based delegation."),
    "admincount-orphan": ("PRIV-06", "A-AdminSDHolder", "",
                          "Clear adminCount and re-enable inheritance on the object."),
    "membership-cycle": ("GRP-01", "", "", "Remove one link of the cycle."),
    "deep-nesting": ("GRP-02", "", "", "Flatten the nesting."),
    "empty-group": ("GRP-03", "", "", "Delete the group or document why it exists."),
    "dangling-member": ("GRP-04", "", "", "Remove the member value (or re-export, on AD)."),
    "memberuid-without-account": ("GRP-05", "", "", "Remove the memberUid value."),
    "user-without-group": ("GRP-06", "", "", "Find the owner; disable or delete the account."),
    "duplicate-account-name": ("ACCT-08", "S-Duplicate", "",
                               "Rename one of the accounts; AD itself refuses duplicates."),
}


def _describe() -> None:
    from dataclasses import replace

    for name, (rule_id, pingcastle, attack, fix) in _META.items():
        if name in CHECKS:
            CHECKS[name] = replace(CHECKS[name], rule_id=rule_id, pingcastle=pingcastle,
                                   attack=attack, remediation=fix)


_describe()
from . import checks_ad as _checks_ad  # noqa: E402,F401 - registers the AD checks
from . import checks_posture as _checks_posture  # noqa: E402,F401 - the LDAP posture rules
from . import waivers as _waivers  # noqa: E402,F401 - registers waiver-expired
