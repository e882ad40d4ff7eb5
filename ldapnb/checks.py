"""The audit's checks framework: what every check reads (:class:`Context`), the catalogue of
checks (:data:`CHECKS`, filled by :func:`check`) and the shapes of a finding.

The checks themselves live in :mod:`ldapnb.audit` (membership), :mod:`ldapnb.checks_ad`
(Active Directory posture), :mod:`ldapnb.checks_posture` (a live DC's LDAP posture) and
:mod:`ldapnb.waivers`; each imports this module, none imports another, so there is no import
cycle between the audit and its checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import networkx as nx

from . import ad, graph
from .dn import normalize
from .entry import Entry
from .errors import LdapnbError, SchemaError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


#: Severity levels, most severe first.
SEVERITIES: tuple[str, ...] = ("high", "medium", "low", "info")
COLUMNS: tuple[str, ...] = ("check", "severity", "subject", "evidence", "rule", "rule_id",
                            "pingcastle", "attack", "chain", "remediation", "waived", "waiver")

#: The attributes the checks read (fetched once from a Directory).
ATTRIBUTES: tuple[str, ...] = (
    "objectClass", "cn", "uid", "sAMAccountName", "objectSid", "userAccountControl",
    "lastLogonTimestamp", "pwdLastSet", "adminCount", "servicePrincipalName",
    "member", "uniqueMember", "memberUid", "memberOf", "primaryGroupID",
    "uidNumber", "gidNumber", "authTimestamp", "pwdLastSuccess",
    # AD security posture (rights, delegation, Kerberos, hardening)
    "nTSecurityDescriptor", "sIDHistory", "msDS-AllowedToDelegateTo",
    "msDS-AllowedToActOnBehalfOfOtherIdentity", "ms-Mcs-AdmPwdExpirationTime",
    "msLAPS-PasswordExpirationTime", "msDS-GroupMSAMembership", "ms-DS-MachineAccountQuota",
    "dSHeuristics", "msDS-SupportedEncryptionTypes", "operatingSystem",
)

_KRBTGT_RID = 502
#: Trustees whose rights on directory objects are by design (MS-DTYP 2.4.2.4).
_BY_DESIGN_SIDS = frozenset({"S-1-5-18", "S-1-5-9", "S-1-3-0", "S-1-5-10", "S-1-5-32-544",
                             "S-1-5-32-548"})
_DC_GROUP_RIDS = frozenset({516, 521})
_DC_FLAGS = ad.UAC.SERVER_TRUST_ACCOUNT | ad.UAC.PARTIAL_SECRETS_ACCOUNT

Finding = dict[str, Any]


# ------------------------------------------------------------------------------------------
# the context every check reads
# ------------------------------------------------------------------------------------------


@dataclass
class Context:
    """What the checks share: the entries, the membership graph and the thresholds.

    Expensive views (the privileged inventory, depths) are computed once, when a check
    first asks for them.
    """

    G: nx.DiGraph
    entries: dict[str, Entry]  #: normalised DN -> entry (empty when only a graph was given)
    now: datetime
    stale_days: int = 90
    max_depth: int = 5
    #: the live server's posture (:func:`ldapnb.checks_posture.gather`), None when not probed
    posture: Any = None

    def entry(self, node: str) -> Entry | None:
        """The entry of a graph node (None for dangling nodes or graph-only audits)."""
        key = self.dn_keys.get(node)
        if key is not None:
            return self.entries[key]
        try:
            return self.entries.get(normalize(node))
        except LdapnbError:
            return None

    def name(self, node: str) -> str:
        """A short human name for a node: sAMAccountName, uid, else its label."""
        e = self.entry(node)
        if e is not None:
            for attribute in ("sAMAccountName", "uid"):
                value = e.first(attribute)
                if isinstance(value, str) and value:
                    return value
        label = self.G.nodes[node].get("label") if node in self.G else None
        return str(label or node)

    def uac(self, node: str) -> ad.UAC | None:
        """The userAccountControl flags of a node's entry (decoded once per value)."""
        e = self.entry(node)
        value = e.first("userAccountControl") if e is not None else None
        if value is None:
            return None
        cache = self._uac_cache
        flags = cache.get(value)
        if flags is None:
            try:
                flags = cache[value] = ad.uac_flags(value)
            except SchemaError as exc:
                raise SchemaError(f"{node}: {exc}") from exc
        return flags

    @cached_property
    def _uac_cache(self) -> dict[Any, ad.UAC]:
        return {}

    @cached_property
    def uac_nodes(self) -> list[tuple[str, ad.UAC]]:
        """(node, flags) of every node whose entry has a userAccountControl."""
        out = []
        for node in self.G:
            flags = self.uac(node)
            if flags is not None:
                out.append((node, flags))
        return out

    @cached_property
    def dn_keys(self) -> dict[str, str]:
        """Each entry's DN as written -> its normalised key (to avoid normalising again)."""
        return {e.dn: key for key, e in self.entries.items()}

    def key(self, dn: str) -> str:
        """The normalised key of a DN (cheap for the entries' own DNs)."""
        found = self.dn_keys.get(dn)
        return found if found is not None else _norm(dn)

    def rid(self, node: str) -> int | None:
        sid = self.G.nodes[node].get("sid") if node in self.G else None
        if not sid or sid.count("-") < 3:
            return None
        return int(sid.rsplit("-", 1)[1])

    def is_dc(self, node: str) -> bool:
        """A domain controller: by userAccountControl, or (graph only) a computer whose
        primary group is Domain Controllers or Read-only Domain Controllers."""
        flags = self.uac(node)
        if flags is not None:
            return bool(flags & _DC_FLAGS)
        G = self.G
        return G.nodes[node].get("kind") == "computer" and any(
            self.rid(g) in _DC_GROUP_RIDS and "primaryGroupID" in G.edges[node, g]["via"]
            for g in G.succ[node])

    @cached_property
    def privileged_groups(self) -> set[str]:
        return graph.privileged_groups(self.G)

    @cached_property
    def inventory(self) -> pd.DataFrame:
        """(member, group, direct, depth, chain) for every account (not group) effectively
        in a privileged group; DCs' membership of the DC groups left out."""
        import pandas as pd

        G = self.G
        candidates: set[str] = set()
        for group in self.privileged_groups:
            candidates |= nx.ancestors(G, group)
        accounts = [n for n in G if n in candidates and G.nodes[n].get("kind") != "group"]
        columns = ["member", "group", "direct", "depth", "chain"]
        if not accounts:
            return pd.DataFrame(columns=columns)
        frame = graph.membership_frame(G, accounts)
        frame = frame[frame["group"].astype(object).isin(self.privileged_groups)]
        rows = []
        for member, group_, direct, depth_, via in zip(
            frame["member"].astype(object), frame["group"].astype(object), frame["direct"],
            frame["depth"], frame["via"], strict=True,
        ):
            if self.rid(group_) in _DC_GROUP_RIDS and self.is_dc(member):
                continue
            rows.append((member, group_, bool(direct), int(depth_), [member, *via]))
        out = pd.DataFrame(rows, columns=columns)
        return out.sort_values(["member", "depth", "group"], kind="stable", ignore_index=True)

    @cached_property
    def privileged_accounts(self) -> dict[str, list[str]]:
        """Account -> its shortest chain to a privileged group (first by depth, then name)."""
        out: dict[str, list[str]] = {}
        for member, chain in zip(self.inventory["member"], self.inventory["chain"],
                                 strict=True):
            out.setdefault(member, chain)
        return out

    @cached_property
    def depths(self) -> dict[str, int]:
        return graph.depths(self.G)

    # -- Active Directory: the domain, its Tier-0 objects, rights ---------------------------

    @cached_property
    def is_ad(self) -> bool:
        """Active Directory data: some entry carries objectSid or userAccountControl."""
        if not self.entries:
            return any(sid for _, sid in self.G.nodes(data="sid"))
        return any("objectSid" in e or "userAccountControl" in e
                   for e in self.entries.values())

    @cached_property
    def domain_head(self) -> Entry | None:
        """The domain's root entry (domainDNS, or an entry whose objectSid is a domain SID
        with no RID), else None."""
        for e in self.entries.values():
            classes = {str(c).lower() for c in e.get("objectClass", ())}
            if "domaindns" in classes:
                return e
        for key, e in self.entries.items():
            if key[:3] == "dc=" and all(rdn.startswith("dc=") for rdn in key.split(",")):
                sid = _sid_of(e)
                if sid and sid.startswith("S-1-5-21-") and sid.count("-") == 6:
                    return e
        return None

    @cached_property
    def domain_sid(self) -> str | None:
        head = self.domain_head
        return _sid_of(head) if head is not None else None

    def sid_node(self, sid: str) -> str | None:
        """The graph node of a SID, None when no entry has it."""
        return self.G.graph.get("sids", {}).get(sid.upper())

    @cached_property
    def sid_names(self) -> Mapping[str, str]:
        """SID -> sAMAccountName (else cn) of every entry with an objectSid."""
        return _LazyNames(self)

    @cached_property
    def tier0_objects(self) -> dict[str, str]:
        """Normalised DN -> why it is Tier 0: the domain head, AdminSDHolder, the Domain
        Controllers OU, domain controllers and the privileged groups."""
        out: dict[str, str] = {}
        head = self.domain_head
        top = normalize(head.dn) if head is not None else None
        if top is not None:
            out[top] = "domain head"
        for key in self.entries:
            if key.startswith("cn=adminsdholder,cn=system,"):
                out[key] = "AdminSDHolder"
            elif key.startswith("ou=domain controllers,") and (
                    top is None or key.split(",", 1)[1] == top):
                out[key] = "Domain Controllers OU"
        for node in self.privileged_groups:
            if not node.startswith("<SID="):
                out.setdefault(_norm(node), f"privileged group {self.name(node)}")
        for node, kind in self.G.nodes(data="kind"):
            if kind == "computer" and self.is_dc(node):
                out.setdefault(_norm(node), f"domain controller {self.name(node)}")
        return out

    def is_tier0_trustee(self, sid: str) -> bool:
        """A trustee whose rights are by design: SYSTEM, the DC and admin groups, Creator
        Owner / Principal Self, and any account already effectively privileged."""
        known = self._tier0_cache.get(sid)
        if known is None:
            known = self._tier0_cache[sid] = self._is_tier0_trustee(sid)
        return known

    @cached_property
    def _tier0_cache(self) -> dict[str, bool]:
        return {}

    def _is_tier0_trustee(self, sid: str) -> bool:
        if sid in _BY_DESIGN_SIDS:
            return True
        try:
            if ad.is_privileged_sid(sid):
                return True
        except SchemaError:
            return False
        if sid.startswith("S-1-5-21-") and sid.rsplit("-", 1)[1] in ("498", "500", "516",
                                                                     "521"):
            return True
        node = self.sid_node(sid)
        return node is not None and (node in self.privileged_accounts
                                     or node in self.privileged_groups)

    @cached_property
    def acl(self) -> pd.DataFrame:
        """Every ACE of every entry's nTSecurityDescriptor (:func:`ldapnb.security.aces`)."""
        from . import security

        descriptors: dict[str, bytes | str] = {}
        for e in self.entries.values():
            for value in e.get("nTSecurityDescriptor", ()):
                if isinstance(value, (bytes, str)) and value:
                    descriptors[e.dn] = value
                    break
        return security.aces(descriptors, names=self.sid_names)

    @cached_property
    def rights(self) -> pd.DataFrame:
        """Abusable rights as edges (:func:`ldapnb.security.edges`) of trustees that are not
        Tier 0 themselves (:meth:`is_tier0_trustee`), with ``trustee_node`` (graph node or
        None), ``object_key`` (normalised DN) and ``tier0`` (why the object is Tier 0, or
        "")."""
        from . import security

        frame = security.edges(self.acl)
        # rights held by design (SYSTEM, the admin groups, privileged accounts) are what a
        # DACL is for: every check ignores them, so they are dropped here, once
        verdict = {s: self.is_tier0_trustee(str(s)) for s in set(frame["trustee"])}
        frame = frame[~frame["trustee"].map(verdict).astype(bool)].reset_index(drop=True)
        nodes = {s: self.sid_node(s) for s in set(frame["trustee"])}
        frame["trustee_node"] = [nodes[s] for s in frame["trustee"]]
        keys = [self.key(o) for o in frame["object"]]
        frame["object_key"] = keys
        frame["tier0"] = [self.tier0_objects.get(k, "") for k in keys]
        return frame

    @cached_property
    def control_graph(self) -> nx.DiGraph:
        """The membership graph plus rights edges (:func:`ldapnb.graph.with_rights`)."""
        return graph.with_rights(self.G, self.rights)


# ------------------------------------------------------------------------------------------
# the registry
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """A registered check: its name, default severity, rationale and function."""

    name: str
    severity: str
    rule: str
    function: Callable[[Context], Iterable[Finding]] = field(repr=False)
    needs_entries: bool = False
    rule_id: str = ""       #: ldapnb's stable rule ID (``ACL-01`` ...)
    pingcastle: str = ""    #: the matching PingCastle rule ID, "" when none matches
    attack: str = ""        #: the MITRE ATT&CK technique, "" when none applies
    remediation: str = ""   #: what to do about a finding
    needs_live: bool = False  #: probes a live server (:func:`posture`); skipped otherwise


#: Every check, by name, in the order :func:`run` runs them.
CHECKS: dict[str, Check] = {}


def check(name: str, severity: str, rule: str, *, needs_entries: bool = False,
          rule_id: str = "", pingcastle: str = "", attack: str = "", remediation: str = "",
          needs_live: bool = False) -> Callable[[Callable[[Context], Iterable[Finding]]],
                        Callable[[Context], Iterable[Finding]]]:
    """Register a check function under ``name`` (a decorator).

    The function takes a :class:`Context` and yields findings as dicts with at least
    ``subject`` and ``evidence``; ``severity`` and ``rule`` default to the registered ones.

    Examples
    --------
    >>> @check("example-everything", "info", "an example")
    ... def _everything(ctx):
    ...     return []
    >>> "example-everything" in CHECKS
    True
    >>> del CHECKS["example-everything"]
    """
    if severity not in SEVERITIES:
        raise LdapnbError(f"severity {severity!r} is not one of {list(SEVERITIES)}")

    def register(function: Callable[[Context], Iterable[Finding]]
                 ) -> Callable[[Context], Iterable[Finding]]:
        CHECKS[name] = Check(name, severity, rule, function, needs_entries, rule_id,
                             pingcastle, attack, remediation, needs_live)
        return function

    return register


class _LazyNames(Mapping[str, str]):
    """SID -> account name, looked up only for the SIDs asked for (descriptors name few)."""

    def __init__(self, ctx: Context):
        self.ctx, self.sids = ctx, ctx.G.graph.get("sids", {})

    def __getitem__(self, sid: str) -> str:
        node = self.sids.get(str(sid).upper())
        if node is None:
            raise KeyError(sid)
        return self.ctx.name(node)

    def __iter__(self) -> Iterator[str]:
        return iter(self.sids)

    def __len__(self) -> int:
        return len(self.sids)


def _sid_of(e: Entry | None) -> str | None:
    """The objectSid of an entry as text, None when it has none (or a malformed one)."""
    value = e.first("objectSid") if e is not None else None
    if value is None:
        return None
    try:
        return ad.sid_to_str(value)
    except SchemaError:
        return None


def _account_evidence(ctx: Context, node: str, **extra: Any) -> dict[str, Any]:
    chain = ctx.privileged_accounts.get(node, [])
    groups = sorted(set(ctx.inventory.loc[ctx.inventory["member"] == node, "group"]))
    return {"account": ctx.name(node), "privileged_groups": groups, "chain": chain, **extra}


def _norm(node: str) -> str:
    return node.lower() if node.startswith("<SID=") else normalize(node)
