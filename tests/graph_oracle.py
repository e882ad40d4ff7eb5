"""The membership-graph builder as it was before it read column pages (ldapnb 0.x, Entry by
Entry): the oracle that ``tests/test_graph_pages.py`` compares :func:`ldapnb.graph.from_pages`
and ``Directory.graph()`` with.  Kept verbatim (only the imports changed) but for one fix made in both: a SID (``privileged=``
or a primaryGroupID's group) whose entry is not a node (a foreignSecurityPrincipal, the domain
object) makes that entry a node, as a DN does, and ``sids`` lists nodes only (it was a
KeyError, or an edge to a node without attributes); not used by ldapnb.
"""
# ruff: noqa
# mypy: ignore-errors

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any

import networkx as nx

from ldapnb import ad
from ldapnb.dn import escape_value, normalize
from ldapnb.entry import Entry
from ldapnb.errors import DnError, LdapnbError, SchemaError
from ldapnb.graph import MEMBERSHIP_ATTRIBUTES

_SPELLING = {a.lower(): a for a in MEMBERSHIP_ATTRIBUTES}
_GROUP_CLASSES = frozenset(
    {"group", "groupofnames", "groupofuniquenames", "posixgroup", "groupofurls",
     "groupofmembers", "groupofentries", "dynamicgroup", "nestedgroup"}
)
_USER_CLASSES = frozenset(
    {"person", "organizationalperson", "inetorgperson", "user", "posixaccount", "account",
     "shadowaccount", "residentialperson", "msds-managedserviceaccount"}
)
_COMPUTER_CLASSES = frozenset({"computer", "msds-groupmanagedserviceaccount"})

# RFC 4517 NameAndOptionalUID: a DN, then optionally "#" and a bit string such as '0101'B.
_UID_SUFFIX = re.compile(r"#'[01]*'B$")




def _kind(entry: Entry) -> str:
    classes = {str(c).lower() for c in entry.get("objectClass", ())}
    if classes & _COMPUTER_CLASSES:
        return "computer"
    if classes & _GROUP_CLASSES:
        return "group"
    if classes & _USER_CLASSES:
        return "user"
    return "unknown"


def _label(entry: Entry) -> str:
    for name in ("cn", "sAMAccountName", "uid"):
        value = entry.first(name)
        if isinstance(value, str) and value:
            return value
    first = entry.dn.split(",", 1)[0]
    return first.split("=", 1)[-1]


def _key(dn: str, *, where: str) -> str:
    """The normalised DN, with a DnError that says where the bad DN was found."""
    try:
        return normalize(dn)
    except DnError as exc:
        raise DnError(f"{exc.reason} ({where})", dn=dn, position=exc.position) from exc


def _values(entry: Entry, attribute: str, options: bool) -> list[str]:
    """Text values of ``attribute``, and of its options (``member;range=0-1499``) when the
    entry has any attribute with options."""
    if options:
        raw = [v for _, values in entry.with_options(attribute) for v in values]
    elif attribute in entry:
        raw = entry[attribute]
    else:
        return []
    out = []
    for value in raw:
        if isinstance(value, bytes):
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise LdapnbError(f"{entry.dn}: a {attribute} value is not UTF-8 text") from exc
        value = value.strip()
        if value:
            out.append(value)
    return out


class _Builder:
    def __init__(self, attributes: Collection[str]):
        self.use = {a.lower() for a in attributes}
        unknown = self.use - set(_SPELLING)
        if unknown:
            raise LdapnbError(
                f"unknown membership attribute(s) {sorted(unknown)}: "
                f"use some of {list(MEMBERSHIP_ATTRIBUTES)}"
            )
        self.nodes: dict[str, dict[str, Any]] = {}  # node id -> attributes
        self.index: dict[str, str] = {}  # normalised DN -> node id
        self.sids: dict[str, str] = {}
        self.others: dict[str, tuple[str, dict[str, Any]]] = {}  # entries not (yet) nodes
        self.uids: dict[str, list[str]] = {}
        self.uids_folded: dict[str, list[str]] = {}
        # (member, group, attribute); member/group are ("dn", text) / ("id", node) / ...
        self.refs: list[tuple[str, str, str, str]] = []
        self.primary: list[tuple[str, str, str]] = []  # (node, sid, rid)
        self.edges: dict[tuple[str, str], set[str]] = {}
        self.unresolved: list[tuple[str, str, str]] = []

    # -- pass 1: entries ---------------------------------------------------------------------
    def add_entry(self, entry: Entry) -> None:
        dn = entry.dn
        key = _key(dn, where="an entry's DN")
        kind = _kind(entry)
        sid = None
        if "objectSid" in entry and entry["objectSid"]:
            try:
                sid = ad.sid_to_str(entry["objectSid"][0])
            except LdapnbError as exc:
                raise type(exc)(f"{dn}: {exc}") from exc
        use = self.use
        options = any(";" in name for name in entry)
        has_members = False
        for attribute in ("member", "uniqueMember"):
            if attribute.lower() in use:
                for value in _values(entry, attribute, options):
                    has_members = True
                    if attribute == "uniqueMember":
                        value = _UID_SUFFIX.sub("", value)
                    self.refs.append(("dn", value, key, attribute))
        if "memberuid" in use:
            for value in _values(entry, "memberUid", options):
                has_members = True
                self.refs.append(("uid", value, key, "memberUid"))
        if "memberof" in use:
            for value in _values(entry, "memberOf", options):
                self.refs.append(("key", key, value, "memberOf"))
        if "primarygroupid" in use:
            for value in _values(entry, "primaryGroupID", options):
                self.primary.append((key, sid or "", value))
        if kind == "unknown" and has_members:
            kind = "group"
        attrs: dict[str, Any] = {
            "kind": kind,
            "dangling": False,
            "label": _label(entry),
            "sid": sid,
            "privileged": False,
            "privileged_by": "",
        }
        if sid is not None:
            reason = ad.privileged_reason(sid) if kind == "group" else None
            if reason:
                attrs.update(privileged=True, privileged_by=reason)
        sam = entry.first("sAMAccountName")
        if (
            kind == "group"
            and isinstance(sam, str)
            and sam.lower() in ad.PRIVILEGED_NAMES
            and not attrs["privileged"]
        ):
            attrs.update(privileged=True, privileged_by=f"name {sam}")
        uids = _values(entry, "uid", options) if kind != "group" else []
        for uid in uids:
            self.uids.setdefault(uid, []).append(key)
            self.uids_folded.setdefault(uid.casefold(), []).append(key)

        if key in self.index or key in self.others:  # the same entry twice: first one wins
            return
        if kind == "unknown":
            self.others[key] = (dn, attrs)
        else:
            self.index[key] = dn
            self.nodes[dn] = attrs
        if sid is not None:
            self.sids.setdefault(sid, dn)

    # -- pass 2: references ------------------------------------------------------------------
    def node_for_dn(self, text: str, *, as_group: bool, where: str) -> str:
        key = _key(text, where=where)
        return self.node_for_key(key, text, as_group=as_group)

    def node_for_key(self, key: str, text: str, *, as_group: bool) -> str:
        node = self.index.get(key)
        if node is not None:
            if as_group and self.nodes[node]["kind"] == "unknown" and self.nodes[node]["dangling"]:
                self.nodes[node]["kind"] = "group"
            return node
        if key in self.others:  # an entry that is neither user nor group, now referenced
            dn, attrs = self.others.pop(key)
            if as_group:
                attrs["kind"] = "group"
            self.index[key] = dn
            self.nodes[dn] = attrs
            return dn
        self.index[key] = text
        self.nodes[text] = {
            "kind": "group" if as_group else "unknown",
            "dangling": True,
            "label": text.split(",", 1)[0].split("=", 1)[-1],
            "sid": None,
            "privileged": False,
            "privileged_by": "",
        }
        return text

    def edge(self, member: str, group: str, attribute: str) -> None:
        self.edges.setdefault((member, group), set()).add(attribute)

    def resolve(self) -> None:
        for a, b, c, attribute in self.refs:
            if a == "dn":  # member DN b in group key c
                group = self.index[c] if c in self.index else self.node_for_key(
                    c, c, as_group=True)
                member = self.node_for_dn(
                    b, as_group=False, where=f"{attribute} of {group}")
                self.edge(member, group, attribute)
            elif a == "uid":
                group = self.index[c] if c in self.index else self.node_for_key(
                    c, c, as_group=True)
                keys = self.uids.get(b) or self.uids_folded.get(b.casefold())
                if keys:
                    for key in keys:
                        self.edge(self.node_for_key(key, key, as_group=False), group,
                                  attribute)
                else:
                    name = "uid=" + escape_value(b)
                    member = self.node_for_dn(name, as_group=False, where="memberUid")
                    self.nodes[member]["label"] = b
                    self.edge(member, group, attribute)
            else:  # memberOf: member key b, group DN c
                member = self.index[b] if b in self.index else self.node_for_key(
                    b, b, as_group=False)
                group = self.node_for_dn(c, as_group=True, where=f"memberOf of {member}")
                self.edge(member, group, attribute)
        for key, sid, value in self.primary:
            member = self.node_for_key(key, key, as_group=False)
            if not sid:
                self.unresolved.append((member, "primaryGroupID", value))
                continue
            if not value.isdigit():
                raise SchemaError(
                    f"{member}: primaryGroupID {value!r} is not valid: expected a RID (digits)")
            head = sid.rpartition("-")[0]  # sid is already text, from ad.sid_to_str
            if head.count("-") < 2:
                try:
                    ad.domain_sid(sid)  # raises the SchemaError that says why
                except LdapnbError as exc:
                    raise type(exc)(f"{member}: {exc}") from exc
            group_sid = head + "-" + str(int(value))
            known = self.node_for_sid(group_sid)
            if known is not None:
                group = known
            else:
                group = f"<SID={group_sid}>"
                key = group.lower()
                if key not in self.index:
                    self.index[key] = group
                    reason = ad.privileged_reason(group_sid) or ""
                    self.nodes[group] = {
                        "kind": "group",
                        "dangling": True,
                        "label": ad.sid_name(group_sid) or group_sid,
                        "sid": group_sid,
                        "privileged": bool(reason),
                        "privileged_by": reason,
                    }
                    self.sids[group_sid] = group
            self.edge(member, group, "primaryGroupID")

    def node_for_sid(self, sid):  # the fix
        dn = self.sids.get(sid)
        if dn is None or dn in self.nodes:
            return dn
        return self.node_for_key(_key(dn, where="an entry's DN"), dn, as_group=True)

    def mark_privileged(self, privileged: Iterable[str]) -> None:
        for name in privileged:
            if isinstance(name, str) and name[:4].upper() == "S-1-":
                node = self.node_for_sid(ad.sid_to_str(name))
            else:
                key = _key(name, where="privileged=")
                node = self.index.get(key)
                if node is None and key in self.others:
                    node = self.node_for_key(key, name, as_group=True)
            if node is None:
                self.unresolved.append((name, "privileged", name))
                continue
            attrs = self.nodes[node]
            if not attrs["privileged"]:
                attrs.update(privileged=True, privileged_by="given")

    def graph(self) -> nx.DiGraph:
        G = nx.DiGraph()
        G.add_nodes_from(self.nodes.items())
        G.add_edges_from((m, g, {"via": frozenset(v)}) for (m, g), v in self.edges.items())
        G.graph["index"] = self.index
        G.graph["sids"] = self.sids
        G.graph["unresolved"] = self.unresolved
        return G


def from_entries(entries, *, privileged=(), attributes=MEMBERSHIP_ATTRIBUTES):
    builder = _Builder(attributes)
    for entry in entries:
        builder.add_entry(entry)
    builder.resolve()
    builder.mark_privileged(privileged)
    return builder.graph()
