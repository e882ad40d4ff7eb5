"""The membership graph: who is a member of what, directly and through nesting.

:func:`from_entries` turns directory entries (from any source) into a
:class:`networkx.DiGraph` whose edges point from a member to the group that holds it::

    user --member--> Helpdesk --member--> IT Admins --member--> Domain Admins

so the groups a user belongs to are the nodes reachable *from* it
(:func:`effective_groups`) and the members of a group are the nodes that reach it
(:func:`effective_members`).  Every function takes the graph first and returns plain
Python or pandas types, networkx style.

Nodes
    The DN as first seen (the entry's own spelling when the entry is in the data).  Any
    spelling of a DN finds its node: ``G.graph["index"]`` maps the normalised DN
    (:func:`ldapnb.dn.normalize`) to the node, ``G.graph["sids"]`` maps SID strings to
    the DNs of the entries holding them (nodes, and entries that are none, such as the domain
    object), and :func:`lookup` uses both.  Node attributes:

    ===========  ==========================================================================
    kind         ``"user"``, ``"group"``, ``"computer"`` or ``"unknown"``
    dangling     True for a name that some membership value points at but that has no
                 entry in the data (a deleted account, an unresolved ``memberUid``)
    label        cn, else sAMAccountName, else uid, else the first RDN value
    sid          the objectSid as ``S-1-5-...`` (None when there is none)
    privileged   True for AD's privileged groups (by SID/RID, DnsAdmins by name, see
                 :mod:`ldapnb.ad`) and for the DNs passed as ``privileged=``
    privileged_by  why (``"RID 512 (Domain Admins)"``, ``"given"``), ``""`` when not
    ===========  ==========================================================================

Edges
    ``via``: a frozenset of the attributes that made the edge (``{"member"}``; both
    ``{"member", "memberOf"}`` when the group's member and the member's memberOf agree).

Graph attributes
    ``index`` (normalised DN -> node), ``sids`` (SID -> node) and ``unresolved``: a list of
    ``(dn, attribute, value)`` for membership values that could not be tied to any node
    (a primaryGroupID on an entry without objectSid, a ``privileged=`` DN not in the data).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Collection, Hashable, Iterable, Iterator, Mapping
from itertools import chain, repeat
from operator import itemgetter, setitem
from typing import TYPE_CHECKING, Any, cast

import networkx as nx

from . import ad
from ._nogc import no_gc
from .dn import escape_value, normalize
from .entry import Entry
from .errors import (
    DnError,
    GraphWarning,
    LdapnbError,
    LimitExceeded,
    NoSuchEntry,
    SchemaError,
)

if TYPE_CHECKING:  # pragma: no cover
    import os

    import pandas as pd

    from .sources.base import Page

__all__ = [
    "MEMBERSHIP_ATTRIBUTES",
    "from_entries",
    "from_pages",
    "lookup",
    "effective_members",
    "effective_groups",
    "effective_membership",
    "Membership",
    "why",
    "with_rights",
    "chain_steps",
    "CONTROL_EDGES",
    "cycles",
    "depth",
    "depths",
    "membership_frame",
    "privileged_groups",
    "to_graphml",
    "to_gexf",
    "to_parquet",
]

#: The attributes :func:`from_entries` reads, in their usual spelling.
MEMBERSHIP_ATTRIBUTES: tuple[str, ...] = (
    "member",
    "uniqueMember",
    "memberUid",
    "memberOf",
    "primaryGroupID",
)
_SPELLING = {a.lower(): a for a in MEMBERSHIP_ATTRIBUTES}
#: Every attribute the builder reads: what ``Directory.graph()`` asks its source for.
GRAPH_ATTRIBUTES: tuple[str, ...] = ("objectClass", "cn", "sAMAccountName", "uid",
                                     "objectSid", *MEMBERSHIP_ATTRIBUTES)

#: Every node's ``kind``: what the builder makes of an entry, and ``object`` for the entries
#: :func:`with_rights` adds (a domain head, an OU, a foreignSecurityPrincipal holding a right).
NODE_KINDS: tuple[str, ...] = ("user", "group", "computer", "unknown", "object")

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


# ------------------------------------------------------------------------------------------
# building
# ------------------------------------------------------------------------------------------


def _text(value: Any, dn: str, attribute: str) -> str:
    """A value as text (pages from a server hold bytes)."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LdapnbError(f"{dn}: a {attribute} value is not UTF-8 text") from exc
    return str(value)


def _texts(raw: Iterable[Any], dn: str, attribute: str) -> list[str]:
    """The non-empty text values, stripped."""
    try:
        out = list(map(str.strip, raw))  # all text (in-memory pages): one C loop
    except TypeError:  # bytes (pages from a server) or other values
        out = [(v if isinstance(v, str) else _text(v, dn, attribute)).strip() for v in raw]
    if "" in out:
        out = [v for v in out if v]
    return out


class _Columns:
    """One page's columns, found by attribute type: ``exact`` (the description without
    options) and ``typed`` (every description of the type, with or without options)."""

    def __init__(self, page: Page):
        self.exact: dict[str, list[Any]] = {}
        self.typed: dict[str, list[list[Any]]] = {}
        self.options = False
        self.rows = len(page.dns)
        for name, col in page.columns.items():
            low = name.lower()
            base = low.split(";", 1)[0]
            if base != low:
                self.options = True
            elif base not in self.exact:
                self.exact[base] = col
            else:  # the same type spelt twice on one page: merge row by row
                old = self.exact[base]
                self.exact[base] = [[*(a or ()), *(b or ())] for a, b in zip(old, col, strict=True)]
            self.typed.setdefault(base, []).append(col)

    def values(self, base: str) -> list[Any]:
        """Per row, the values of ``base`` with or without options."""
        cols = self.typed.get(base)
        if not cols:
            return [()] * self.rows
        if len(cols) == 1:
            return [v or () for v in cols[0]]
        return [[v for c in cols for v in (c[i] or ())] for i in range(self.rows)]


_VIA: dict[str, frozenset[str]] = {}
_MORE: dict[tuple[frozenset[str], str], frozenset[str]] = {}


def _via_set(attribute: str) -> frozenset[str]:
    """One shared ``frozenset({attribute})`` (an edge's ``via``; edges hold many equal ones)."""
    via = _VIA.get(attribute)
    if via is None:
        via = _VIA[attribute] = frozenset((attribute,))
    return via


def _more(via: frozenset[str], attribute: str) -> frozenset[str]:
    """``via | {attribute}``, shared likewise."""
    out = _MORE.get((via, attribute))
    if out is None:
        out = _MORE[(via, attribute)] = via | {attribute}
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
        # The graph is filled as it is built: networkx's documented dict-of-dict-of-dict
        # structure (``_node``, ``_succ``, ``_pred``; see "Subclasses" in networkx.DiGraph's
        # docstring), holding what add_nodes_from / add_edges_from would make of the same nodes
        # and edges in the same order, without their per-item checks and copies.  A node's
        # adjacency dicts are made with it (:meth:`add_node`), so they are in node order.
        self.G = nx.DiGraph()
        self.nodes: dict[str, dict[str, Any]] = self.G._node  # node id -> attributes
        self.succ: dict[str, dict[str, dict[str, Any]]] = self.G._succ
        self.pred: dict[str, dict[str, dict[str, Any]]] = self.G._pred
        self.index: dict[str, str] = {}  # normalised DN -> node id
        self.sids: dict[str, str] = {}
        self.others: dict[str, tuple[str, dict[str, Any]]] = {}  # entries not (yet) nodes
        self.uid_pairs: list[tuple[str, str]] = []  # (uid, key) of every non-group entry
        self.uids: dict[str, list[str]] | None = None
        self.uids_folded: dict[str, list[str]] = {}
        # one per entry and attribute, in the order read: (kind of reference, the entry's key,
        # its values, attribute): ("dn", group key, member DNs), ("uid", group key, uids),
        # ("key", member key, group DNs)
        self.refs: list[tuple[str, str, list[str], str]] = []
        self.primary: list[tuple[str, str, str]] = []  # (node, sid, rid)
        self.unresolved: list[tuple[str, str, str]] = []
        self.keys: dict[str, str] = {}  # DN text -> normalised DN (each text normalised once)
        self.kinds: dict[tuple[Any, ...], str] = {}  # objectClass values -> kind

    def key(self, dn: str, where: str) -> str:
        key = self.keys.get(dn)
        if key is None:
            try:
                key = self.keys[dn] = normalize(dn)
            except DnError as exc:
                raise DnError(f"{exc.reason} ({where})", dn=dn,
                              position=exc.position) from exc
        return key

    def kind(self, classes: Any, dn: str) -> str:
        """The kind an entry's objectClass values make (cached by the values)."""
        marker = tuple(classes)
        kind = self.kinds.get(marker)
        if kind is None:
            low = {_text(c, dn, "objectClass").lower() for c in marker}
            kind = ("computer" if low & _COMPUTER_CLASSES else "group" if low & _GROUP_CLASSES
                    else "user" if low & _USER_CLASSES else "unknown")
            self.kinds[marker] = kind
        return kind

    # -- pass 1: pages -----------------------------------------------------------------------
    def add_page(self, page: Page) -> None:
        cols = _Columns(page)
        dns = page.dns
        n = len(dns)
        given = page.keys  # the source's normalised DNs (see Page.keys), or None
        if given is not None:
            self.keys.update(zip(dns, given, strict=True))
        use = self.use
        none: list[Any] = [()] * n
        ex = cols.exact
        classes = ex.get("objectclass", none)
        labels = [ex.get(name, none) for name in ("cn", "samaccountname", "uid")]
        osids = ex.get("objectsid", none)
        # membership columns: per row, the values (with options: only rows that have any)
        typed = cols.typed
        plain = not cols.options

        def column(base: str) -> list[Any]:
            if base not in use or base not in typed:
                return none
            return ex.get(base, none) if plain else cols.values(base)

        members = column("member")
        uniques = column("uniquemember")
        memberuids = column("memberuid")
        memberofs = column("memberof")
        primaries = column("primarygroupid")
        uid_col = ex.get("uid", none) if plain else cols.values("uid")
        refs = self.refs
        keys = self.keys
        index, nodes, others, sids = self.index, self.nodes, self.others, self.sids
        succ, pred = self.succ, self.pred
        kinds = self.kinds
        add_ref, add_uid, add_primary = refs.append, self.uid_pairs.append, self.primary.append
        # row by row, the columns zipped (no index per column and row)
        rows = zip(dns, none if given is None else given, classes, osids, members, uniques,
                   memberuids, memberofs, primaries, *labels, uid_col, strict=True)
        for (dn, key, cls, osid, mem, uniq, muid, mof, prim,
             cn, sam, uid, uids) in rows:
            if given is None:
                key = keys.get(dn) or self.key(dn, "an entry's DN")
            cls = cls or ()
            kind = kinds.get(tuple(cls)) or self.kind(cls, dn)
            sid = None
            if osid:
                try:
                    sid = ad.sid_to_str(osid[0])
                except LdapnbError as exc:
                    raise type(exc)(f"{dn}: {exc}") from exc
            has_members = False
            if mem:
                values = _texts(mem, dn, "member")
                if values:
                    has_members = True
                    add_ref(("dn", key, values, "member"))
            if uniq:
                values = [_UID_SUFFIX.sub("", v) for v in _texts(uniq, dn, "uniqueMember")]
                if values:
                    has_members = True
                    add_ref(("dn", key, values, "uniqueMember"))
            if muid:
                values = _texts(muid, dn, "memberUid")
                if values:
                    has_members = True
                    add_ref(("uid", key, values, "memberUid"))
            if mof:
                values = _texts(mof, dn, "memberOf")
                if values:
                    add_ref(("key", key, values, "memberOf"))
            if prim:
                for value in _texts(prim, dn, "primaryGroupID"):
                    add_primary((key, sid or "", value))
            if kind == "unknown" and has_members:
                kind = "group"
            label = None
            for values in (cn, sam, uid):
                if values:
                    value = values[0]
                    if isinstance(value, bytes):
                        try:
                            value = value.decode("utf-8")
                        except UnicodeDecodeError:
                            continue
                    if isinstance(value, str) and value:
                        label = value
                        break
            if label is None:
                label = dn.split(",", 1)[0].split("=", 1)[-1]
            privileged, reason = False, ""
            if sid is not None and kind == "group":
                reason = ad.privileged_reason(sid) or ""
                privileged = bool(reason)
            if kind == "group" and not privileged and sam:
                name = sam[0]
                if isinstance(name, bytes):
                    name = name.decode("utf-8", "replace")
                if isinstance(name, str) and name.lower() in ad.PRIVILEGED_NAMES:
                    privileged, reason = True, f"name {name}"
            if kind != "group" and uids:
                for value in _texts(uids, dn, "uid"):
                    add_uid((value, key))
            if key in index or key in others:  # the same entry twice: first one wins
                continue
            attrs = {"kind": kind, "dangling": False, "label": label, "sid": sid,
                     "privileged": privileged, "privileged_by": reason}
            if kind == "unknown":
                others[key] = (dn, attrs)
            else:
                index[key] = dn
                nodes[dn] = attrs  # add_node, inline (a new name: its key is new)
                succ[dn] = {}
                pred[dn] = {}
            if sid is not None:
                sids.setdefault(sid, dn)

    # -- pass 2: references ------------------------------------------------------------------
    def add_node(self, name: str, attrs: dict[str, Any]) -> None:
        """Make ``name`` a node with ``attrs`` (its adjacency dicts with it, in node order)."""
        self.nodes[name] = attrs
        self.succ.setdefault(name, {})
        self.pred.setdefault(name, {})

    def node_for_dn(self, text: str, *, as_group: bool, where: str) -> str:
        key = self.keys.get(text) or self.key(text, where)
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
            self.add_node(dn, attrs)
            return dn
        self.index[key] = text
        self.add_node(text, {
            "kind": "group" if as_group else "unknown",
            "dangling": True,
            "label": text.split(",", 1)[0].split("=", 1)[-1],
            "sid": None,
            "privileged": False,
            "privileged_by": "",
        })
        return text

    def node_for_sid(self, sid: str, *, as_group: bool) -> str | None:
        """The node of the entry whose objectSid is ``sid``, made a node when the entry was
        not one yet (a foreignSecurityPrincipal, the domain object); None: no such entry."""
        dn = self.sids.get(sid)
        if dn is None or dn in self.nodes:
            return dn
        return self.node_for_key(self.key(dn, "an entry's DN"), dn, as_group=as_group)

    def edge(self, member: str, group: str, attribute: str) -> None:
        """The edge member -> group, made by ``attribute`` (added to its ``via`` when it is
        there already)."""
        data = self.succ[member].get(group)
        if data is None:
            self.succ[member][group] = self.pred[group][member] = {"via": _via_set(attribute)}
        else:
            data["via"] = _more(data["via"], attribute)

    def uid_keys(self, uid: str) -> list[str] | None:
        if self.uids is None:  # made when the first memberUid asks
            self.uids = {}
            for value, key in self.uid_pairs:
                self.uids.setdefault(value, []).append(key)
                self.uids_folded.setdefault(value.casefold(), []).append(key)
        return self.uids.get(uid) or self.uids_folded.get(uid.casefold())

    def resolve(self) -> None:
        index, nodes, keys, succ, pred = self.index, self.nodes, self.keys, self.succ, self.pred
        targets: dict[str, str] = {}  # memberOf value -> its group's node (the same each time)
        # per attribute: its via, and an edge's via -> via | {attribute} (what :meth:`edge`
        # does, inline)
        more: dict[str, tuple[frozenset[str], dict[frozenset[str], frozenset[str]]]] = {}
        for kind, key, values, attribute in self.refs:
            pair = more.get(attribute)
            if pair is None:
                pair = more[attribute] = (_via_set(attribute), {})
            via, up = pair
            if kind == "dn":  # member DNs of the group at key
                group = index.get(key) or self.node_for_key(key, key, as_group=True)
                # every node made so far is named by a DN text whose key it is
                # (index[normalize(name)] is name: an entry's DN, a dangling value, a
                # memberUid's uid=...; the <SID=...> nodes come after the references),
                # so a value spelt as a node is that node: found with one lookup
                if all(map(nodes.__contains__, values)):
                    members = values
                else:
                    members = []
                    for b in values:
                        member = b if b in nodes else None
                        if member is None:
                            known = keys.get(b)
                            member = index.get(known) if known is not None else None
                        if member is None:
                            member = self.node_for_dn(b, as_group=False,
                                                      where=f"{attribute} of {group}")
                        members.append(member)
                _link(pred[group], succ, group, members, via, up, attribute)
            elif kind == "uid":
                group = index.get(key) or self.node_for_key(key, key, as_group=True)
                for b in values:
                    found = self.uid_keys(b)
                    if found:
                        for k in found:
                            self.edge(self.node_for_key(k, k, as_group=False), group,
                                      attribute)
                    else:
                        name = "uid=" + escape_value(b)
                        member = self.node_for_dn(name, as_group=False, where="memberUid")
                        nodes[member]["label"] = b
                        self.edge(member, group, attribute)
            else:  # memberOf: the group DNs of the member at key
                member = index.get(key) or self.node_for_key(key, key, as_group=False)
                out = succ[member]
                for c in values:
                    group = targets.get(c)  # type: ignore[assignment]
                    if group is None:
                        known = keys.get(c)
                        target = index.get(known) if known is not None else None
                        if target is None or (nodes[target]["kind"] == "unknown"
                                              and nodes[target]["dangling"]):
                            target = self.node_for_dn(c, as_group=True,
                                                      where=f"memberOf of {member}")
                        group = targets[c] = target
                    data = out.get(group)
                    if data is None:
                        out[group] = pred[group][member] = {"via": via}
                    else:
                        have = data["via"]
                        new = up.get(have)
                        if new is None:
                            new = up[have] = _more(have, attribute)
                        data["via"] = new
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
            known = self.node_for_sid(group_sid, as_group=True)
            if known is not None:
                group = known
            else:
                group = f"<SID={group_sid}>"
                key = group.lower()
                if key not in self.index:
                    self.index[key] = group
                    reason = ad.privileged_reason(group_sid) or ""
                    self.add_node(group, {
                        "kind": "group",
                        "dangling": True,
                        "label": ad.sid_name(group_sid) or group_sid,
                        "sid": group_sid,
                        "privileged": bool(reason),
                        "privileged_by": reason,
                    })
                    self.sids[group_sid] = group
            self.edge(member, group, "primaryGroupID")

    def mark_privileged(self, privileged: Iterable[str]) -> None:
        missing = []
        for name in privileged:
            if isinstance(name, str) and name[:4].upper() == "S-1-":
                node = self.node_for_sid(ad.sid_to_str(name, attribute="privileged="),
                                         as_group=True)
            else:
                key = self.key(name, "privileged=")
                node = self.index.get(key)
                if node is None and key in self.others:
                    node = self.node_for_key(key, name, as_group=True)
            if node is None:
                self.unresolved.append((name, "privileged", name))
                missing.append(name)
                continue
            attrs = self.nodes[node]
            if not attrs["privileged"]:
                attrs.update(privileged=True, privileged_by="given")
        if missing:
            shown = ", ".join(repr(n) for n in missing[:10])
            more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
            warnings.warn(
                f"privileged=: {len(missing)} name(s) in none of the graph's entries, so "
                f"marked nowhere: {shown}{more} (listed in G.graph['unresolved']); check the "
                "spelling, and that the entries read (the search base) hold them",
                GraphWarning, stacklevel=4)

    def graph(self) -> nx.DiGraph:
        G = self.G  # its nodes and edges are in already (see __init__)
        G.graph["index"] = self.index
        G.graph["sids"] = self.sids
        G.graph["unresolved"] = self.unresolved
        return G


def _link(near: dict[str, dict[str, Any]], far: dict[str, dict[str, dict[str, Any]]],
          node: str, others: list[str], via: frozenset[str],
          up: dict[frozenset[str], frozenset[str]], attribute: str) -> None:
    """The edges between ``node`` and each of ``others`` (nodes, in order), made by
    ``attribute``: ``near`` is ``node``'s own adjacency (its ``_pred`` for a group's members,
    its ``_succ`` for a member's groups), ``far`` the other direction's.  A new edge's data is
    ``{"via": via}``, stored on both sides; an edge already there gets ``attribute`` added to
    its ``via`` (``up`` caches ``via -> via | {attribute}``).  What :meth:`_Builder.edge` does
    for each pair in turn, done a list at a time when every edge is new (and no value is listed
    twice) or every edge is there already; pair by pair otherwise."""
    datas = list(map(near.get, others))
    fresh = datas.count(None)
    if fresh == len(others) and len(set(others)) == fresh:  # all new (a group read first)
        made = [{"via": via} for _ in others]
        near.update(zip(others, made, strict=True))
        list(map(setitem, map(far.__getitem__, others), repeat(node), made))
        return
    if not fresh:  # all there (the other side was read first): one via each
        there = cast("list[dict[str, Any]]", datas)
        olds = list(map(itemgetter("via"), there))
        for have in set(olds).difference(up):
            up[have] = _more(have, attribute)
        list(map(setitem, there, repeat("via"), map(up.__getitem__, olds)))
        return
    for other in others:  # some new, some there: pair by pair
        data = near.get(other)
        if data is None:
            far[other][node] = near[other] = {"via": via}
        else:
            have = data["via"]
            new = up.get(have)
            if new is None:
                new = up[have] = _more(have, attribute)
            data["via"] = new


def from_entries(
    entries: Iterable[Entry],
    *,
    privileged: Iterable[str] = (),
    attributes: Collection[str] = MEMBERSHIP_ATTRIBUTES,
) -> nx.DiGraph:
    """Build the membership graph (edges member -> group) of some entries.

    Membership is read from every style a directory uses:

    - ``member`` (groupOfNames, AD groups) and ``uniqueMember`` (groupOfUniqueNames; an
      optional ``#'0101'B`` UID suffix is dropped): DNs of the members;
    - ``memberUid`` (posixGroup): uids, tied to the entries carrying that ``uid`` (exact
      match first, then ignoring case); a uid that matches no entry becomes a dangling
      node of kind ``"unknown"`` named ``uid=<value>``;
    - ``memberOf`` on members: the back-links, for when those are all that can be read;
    - ``primaryGroupID`` (AD): the RID of the user's primary group, which AD does not list
      in the group's ``member``; resolved to the group whose objectSid is the user's domain
      SID plus that RID (or a dangling node ``<SID=S-1-5-21-...-513>`` when that group is
      not in the data).

    Users, groups and computers are nodes even when they belong to nothing; other entries
    (OUs, organizationalRole ...) become nodes only when a membership value points at them.
    A DN that a value points at with no entry in the data is kept as a node with
    ``dangling=True``.

    Parameters
    ----------
    entries : iterable of Entry
        Any source's entries (read once; only what the graph needs is kept).
    privileged : iterable of str
        DNs (any spelling) or SIDs of groups to mark privileged besides AD's well-known ones:
        for OpenLDAP, e.g. the groups that ACLs grant write access to.  Names not in the
        data are listed in ``G.graph["unresolved"]``.
    attributes : collection of str
        Which membership attributes to read (default all of :data:`MEMBERSHIP_ATTRIBUTES`);
        e.g. ``["member"]`` to compare with the memberOf values a server computed.

    Returns
    -------
    networkx.DiGraph

    Raises
    ------
    DnError
        A membership value that is not a DN (the message says which group or member).
    SchemaError
        A malformed objectSid or primaryGroupID.
    LdapnbError
        An unknown name in ``attributes``.

    Examples
    --------
    >>> from ldapnb.entry import Entry
    >>> G = from_entries([
    ...     Entry("uid=ann,ou=people,dc=x", {"objectClass": ["inetOrgPerson"], "uid": ["ann"]}),
    ...     Entry("cn=staff,ou=groups,dc=x", {"objectClass": ["posixGroup"],
    ...                                        "memberUid": ["ann", "bob"]}),
    ...     Entry("cn=all,ou=groups,dc=x", {"objectClass": ["groupOfNames"],
    ...                                      "member": ["CN=Staff, OU=Groups, DC=x"]}),
    ... ])
    >>> sorted(G.edges)
    [('cn=staff,ou=groups,dc=x', 'cn=all,ou=groups,dc=x'), \
('uid=ann,ou=people,dc=x', 'cn=staff,ou=groups,dc=x'), ('uid=bob', 'cn=staff,ou=groups,dc=x')]
    >>> G.nodes["uid=bob"]["dangling"], G.nodes["uid=bob"]["kind"]
    (True, 'unknown')
    """
    from .sources.base import pages_from_entries

    return from_pages(pages_from_entries(entries), privileged=privileged,
                      attributes=attributes)


def from_pages(
    pages: Iterable[Page],
    *,
    privileged: Iterable[str] = (),
    attributes: Collection[str] = MEMBERSHIP_ATTRIBUTES,
) -> nx.DiGraph:
    """:func:`from_entries` on a source's column pages (``Source.search_pages``): what
    ``Directory.graph()`` calls, reading only the columns the graph needs, column by column.

    Parameters
    ----------
    pages : iterable of Page
        Column pages (values ``str`` or ``bytes``); the columns the graph reads are
        ``objectClass``, ``cn``, ``sAMAccountName``, ``uid``, ``objectSid`` and the
        membership attributes, matched case-insensitively (with options, such as
        ``member;range=0-1499``, too).
    privileged, attributes
        As for :func:`from_entries`.

    Returns
    -------
    networkx.DiGraph
        The same graph :func:`from_entries` makes of the same entries.

    Raises
    ------
    DnError, SchemaError, LdapnbError
        As for :func:`from_entries`.

    Examples
    --------
    >>> from ldapnb.sources.base import ColumnPage
    >>> G = from_pages([ColumnPage(["cn=g,dc=x", "cn=u,dc=x"],
    ...                            {"objectClass": [[b"groupOfNames"], [b"person"]],
    ...                             "member": [[b"CN=U, DC=x"], ()]})])
    >>> list(G.edges(data="via"))
    [('cn=u,dc=x', 'cn=g,dc=x', frozenset({'member'}))]
    """
    builder = _Builder(attributes)
    with no_gc():  # many small dicts and tuples, no cycles (see ldapnb._nogc)
        for page in pages:
            builder.add_page(page)
        builder.resolve()
        builder.mark_privileged(privileged)
        G = builder.graph()
        del builder  # its scaffolding goes now, not walked by the collector's next pass
    return G


# ------------------------------------------------------------------------------------------
# looking up nodes
# ------------------------------------------------------------------------------------------


def lookup(G: nx.DiGraph, name: str) -> str:
    """The node of ``G`` for a DN in any spelling, or for a SID string.

    Parameters
    ----------
    G : networkx.DiGraph
        A membership graph.
    name : str
        A DN (``"CN=Domain Admins, CN=Users, DC=contoso, DC=com"`` finds
        ``"CN=Domain Admins,CN=Users,DC=contoso,DC=com"``), a SID (``"S-1-5-32-544"``) or
        the node itself.

    Returns
    -------
    str
        The node.

    Raises
    ------
    NoSuchEntry
        No such node.

    Examples
    --------
    >>> from ldapnb.entry import Entry
    >>> G = from_entries([Entry("cn=Admins,dc=x", {"objectClass": ["groupOfNames"],
    ...                                            "member": ["cn=a,dc=x"]})])
    >>> lookup(G, "CN=admins, DC=X")
    'cn=Admins,dc=x'
    """
    if name in G:
        return name
    if name[:4].upper() == "S-1-":
        node = G.graph.get("sids", {}).get(name.upper())
        if node is not None and node in G:
            return node
        if node is not None:  # the domain object, a foreignSecurityPrincipal nothing lists
            raise NoSuchEntry(name, message=(
                f"{name!r} is the SID of {node!r}, which is no node of this membership graph "
                "(neither user, group nor computer, and no membership value names it)"))
    else:
        try:
            key = normalize(name)
        except DnError:
            key = name.lower()
        node = G.graph.get("index", {}).get(key)
        if node is not None:
            return node
    # a name: sAMAccountName / cn / label, case-insensitively, when it is unique
    wanted = name.strip().casefold()
    found = [n for n, label in G.nodes(data="label") if str(label or "").casefold() == wanted]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise NoSuchEntry(name, message=f"{name!r} names {len(found)} nodes of this graph "
                                        f"({', '.join(sorted(found)[:3])} ...): give a DN or SID")
    raise NoSuchEntry(name, message=f"{name!r} is not a node of this membership graph")


#: The rights edges that let a trustee take an object over (see :func:`with_rights`).
CONTROL_EDGES: frozenset[str] = frozenset({
    "Owns", "GenericAll", "WriteDacl", "WriteOwner", "GenericWrite", "AllExtendedRights",
    "AddMember", "AddSelf", "ForceChangePassword", "AddKeyCredentialLink",
    "WriteAccountRestrictions", "DCSync",
})


def _object_node(dn: str, sid: str | None = None) -> dict[str, Any]:
    """The attributes of a node :func:`with_rights` adds for an entry that was no node of the
    membership graph: the keys every node has, with ``kind="object"``."""
    return {"kind": "object", "dangling": False, "label": dn.split(",", 1)[0].split("=", 1)[-1],
            "sid": sid, "privileged": False, "privileged_by": ""}


def with_rights(G: nx.DiGraph, rights: Any) -> nx.DiGraph:
    """A copy of a membership graph with an edge ``trustee -> object`` for every right that
    lets the trustee take the object over (BloodHound's idea).

    Membership edges keep ``via`` (``member``, ``primaryGroupID`` ...) and get
    ``kind="member"``; rights edges have ``kind="right"``, ``rights`` (the edge names) and
    ``via`` = ``{"right:<name>", ...}``, so :func:`why` follows both kinds and
    ``why(..., via=["member"])`` only memberships.  ``GetChanges`` + ``GetChangesAll`` on
    the same object become one ``DCSync`` edge.  Objects and trustees that are not nodes yet
    (the domain head, an OU, AdminSDHolder; a foreignSecurityPrincipal holding a right) are
    added with ``kind="object"`` and the attributes every node has.

    Parameters
    ----------
    G : networkx.DiGraph
        A membership graph (:func:`from_entries`).
    rights : pandas.DataFrame
        Columns ``trustee`` (SID), ``object`` (DN) and ``edge``
        (:func:`ldapnb.security.edges`).

    Returns
    -------
    networkx.DiGraph

    Examples
    --------
    >>> import pandas as pd
    >>> from ldapnb.entry import Entry
    >>> G = from_entries([
    ...     Entry("cn=da,dc=x", {"objectClass": ["group"], "objectSid": ["S-1-5-21-1-2-3-512"],
    ...                          "member": ["cn=ops,dc=x"]}),
    ...     Entry("cn=ops,dc=x", {"objectClass": ["group"], "objectSid": ["S-1-5-21-1-2-3-1100"]}),
    ...     Entry("cn=hd,dc=x", {"objectClass": ["group"], "objectSid": ["S-1-5-21-1-2-3-1101"],
    ...                          "member": ["cn=u,dc=x"]}),
    ...     Entry("cn=u,dc=x", {"objectClass": ["user"], "objectSid": ["S-1-5-21-1-2-3-1102"]})])
    >>> H = with_rights(G, pd.DataFrame({"trustee": ["S-1-5-21-1-2-3-1101"],
    ...                                  "object": ["cn=ops,dc=x"], "edge": ["GenericAll"]}))
    >>> why(H, "cn=u,dc=x", "cn=da,dc=x")
    [['cn=u,dc=x', 'cn=hd,dc=x', 'cn=ops,dc=x', 'cn=da,dc=x']]
    >>> H.edges["cn=hd,dc=x", "cn=ops,dc=x"]["kind"]
    'right'
    """
    H = G.copy()
    for u, v in H.edges:
        H.edges[u, v].setdefault("kind", "member")
    sids = H.graph.get("sids", {})
    index = H.graph.setdefault("index", {})
    grouped: dict[tuple[str, str], set[str]] = {}
    for trustee, obj, edge in zip(rights["trustee"], rights["object"], rights["edge"],
                                  strict=True):
        grouped.setdefault((str(trustee), str(obj)), set()).add(str(edge))
    for (trustee, obj), names in grouped.items():
        if {"GetChanges", "GetChangesAll"} <= names:
            names = names | {"DCSync"}
        names &= CONTROL_EDGES
        source = sids.get(trustee.upper())
        if not names or source is None:
            continue
        if source not in H:  # an entry with that SID that is no node (a foreignSecurityPrincipal)
            H.add_node(source, **_object_node(source, sid=trustee.upper()))
        try:
            key = normalize(obj)
        except DnError:
            key = obj.lower()
        target = index.get(key)
        if target is None:
            target = obj
            H.add_node(target, **_object_node(obj))
            index[key] = target
        if source == target:
            continue
        if H.has_edge(source, target):
            data = H.edges[source, target]
            data["rights"] = frozenset(data.get("rights", frozenset()) | names)
            data["via"] = frozenset(data.get("via", frozenset()) | {f"right:{n}" for n in names})
            continue
        H.add_edge(source, target, kind="right", rights=frozenset(names),
                   via=frozenset(f"right:{n}" for n in names))
    return H


def chain_steps(G: nx.DiGraph, chain: list[str]) -> list[str]:
    """A chain read aloud: ``"X -> member of A -> WriteDacl on B -> member of Domain Admins"``.

    Examples
    --------
    >>> from ldapnb.entry import Entry
    >>> G = from_entries([Entry("cn=g,dc=x", {"objectClass": ["groupOfNames"],
    ...                                       "member": ["cn=u,dc=x"]})])
    >>> chain_steps(G, ["cn=u,dc=x", "cn=g,dc=x"])
    ['u', 'member of g']
    """
    def label(node: str) -> str:
        return str(G.nodes[node].get("label") or node) if node in G else node

    out = [label(chain[0])] if chain else []
    for u, v in zip(chain, chain[1:], strict=False):
        data = G.edges[u, v] if G.has_edge(u, v) else {}
        if data.get("kind") == "right":
            out.append(f"{'/'.join(sorted(data.get('rights', ())))} on {label(v)}")
        else:
            out.append(f"member of {label(v)}")
    return out


def _via(G: nx.DiGraph, via: Iterable[str] | None) -> nx.DiGraph:
    """``G``, or a view with only the edges made by the attributes ``via``."""
    if via is None:
        return G
    if isinstance(via, str):
        via = [via]
    wanted = set()
    for name in via:
        if name.lower() not in _SPELLING:
            raise LdapnbError(
                f"unknown membership attribute {name!r}: use some of {list(MEMBERSHIP_ATTRIBUTES)}"
            )
        wanted.add(_SPELLING[name.lower()])

    def keep(u: Hashable, v: Hashable) -> bool:
        return bool(G.edges[u, v].get("via", frozenset()) & wanted)

    return nx.subgraph_view(G, filter_edge=keep)


# ------------------------------------------------------------------------------------------
# effective membership
# ------------------------------------------------------------------------------------------


def effective_members(
    G: nx.DiGraph, group: str, *, via: Iterable[str] | None = None,
    kind: str | Iterable[str] | None = None,
) -> set[str]:
    """Every member of ``group``, direct or through nesting (never ``group`` itself).

    This is the reference definition: the nodes from which ``group`` can be reached
    (``networkx.ancestors``).  Cycles are harmless.  Note that AD's in-chain matching rule
    (``1.2.840.113556.1.4.1941``) follows ``member`` only and so does not see primary group
    membership: compare with ``via={"member"}``.

    Parameters
    ----------
    G : networkx.DiGraph
        A membership graph.
    group : str
        The group: a DN in any spelling, a SID, or its name (label, e.g.
        ``"Domain Admins"``) when only one node has it.
    via : iterable of str, optional
        Follow only edges made by these attributes (``{"member"}``).
    kind : str or iterable of str, optional
        Only members of these kinds: ``"user"`` for the people (no nested groups, no
        computers), ``{"user", "computer"}`` for accounts.

    Returns
    -------
    set[str]

    Raises
    ------
    NoSuchEntry
        ``group`` is not in the graph (or its name is ambiguous).

    Examples
    --------
    >>> from ldapnb.entry import Entry
    >>> G = from_entries([
    ...     Entry("cn=a,dc=x", {"objectClass": ["groupOfNames"], "member": ["cn=b,dc=x"]}),
    ...     Entry("cn=b,dc=x", {"objectClass": ["groupOfNames"], "member": ["cn=u,dc=x"]}),
    ... ])
    >>> sorted(effective_members(G, "cn=a,dc=x"))
    ['cn=b,dc=x', 'cn=u,dc=x']
    >>> sorted(effective_members(G, "a", kind="unknown"))   # by name; accounts only
    ['cn=u,dc=x']
    """
    node = lookup(G, group)
    found = set(nx.ancestors(_via(G, via), node))
    return _of_kind(G, found, kind)


def _of_kind(G: nx.DiGraph, nodes: set[str], kind: str | Iterable[str] | None) -> set[str]:
    if kind is None:
        return nodes
    kinds = {kind} if isinstance(kind, str) else set(kind)
    return {n for n in nodes if (G.nodes[n].get("kind") or "unknown") in kinds}


def effective_groups(
    G: nx.DiGraph, member: str, *, via: Iterable[str] | None = None
) -> set[str]:
    """Every group ``member`` belongs to, directly or through nesting (never itself).

    Parameters
    ----------
    G : networkx.DiGraph
        A membership graph.
    member : str
        A DN in any spelling, a SID, or a unique name (label).
    via : iterable of str, optional
        Follow only edges made by these attributes.

    Returns
    -------
    set[str]

    Raises
    ------
    NoSuchEntry
        ``member`` is not in the graph.

    Examples
    --------
    >>> from ldapnb.entry import Entry
    >>> G = from_entries([
    ...     Entry("cn=a,dc=x", {"objectClass": ["groupOfNames"], "member": ["cn=b,dc=x"]}),
    ...     Entry("cn=b,dc=x", {"objectClass": ["groupOfNames"], "member": ["cn=u,dc=x"]}),
    ... ])
    >>> sorted(effective_groups(G, "cn=u,dc=x"))
    ['cn=a,dc=x', 'cn=b,dc=x']
    """
    node = lookup(G, member)
    return set(nx.descendants(_via(G, via), node))


def _closure_matrix(H: nx.DiGraph) -> tuple[list[str], dict[str, int], Any]:
    """The reflexive-transitive closure of the group-to-group edges of ``H``.

    Returns the containers (nodes with at least one member), their numbers, and a boolean
    CSR matrix ``R`` with ``R[a, b]`` True when container ``a`` is (or is nested in) ``b``.
    Strongly connected components (membership cycles) are condensed first, the closure of
    the condensation is computed by repeated squaring (log2 of the longest chain sparse
    products), and the result is expanded back to containers.
    """
    import numpy as np
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    pred = H._pred
    containers = [n for n, p in pred.items() if p]
    number = dict(zip(containers, range(len(containers)), strict=True))
    k = len(containers)
    succ = H._succ
    rows = [succ[c] for c in containers]
    lens = np.fromiter(map(len, rows), dtype=np.int64, count=k)
    src = np.repeat(np.arange(k, dtype=np.int64), lens)
    dst = np.fromiter(map(number.__getitem__, chain.from_iterable(rows)), dtype=np.int64,
                      count=int(lens.sum()))
    if k == 0:
        return containers, number, sp.csr_array((0, 0), dtype=bool)
    n_comp, label = connected_components(
        sp.csr_array((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(k, k)),
        directed=True, connection="strong")
    # the condensation, made reflexive, then squared until it stops growing
    cs, cd = label[src], label[dst]
    diag = np.arange(n_comp, dtype=np.int64)
    closure = sp.csr_array(
        (np.ones(len(cs) + n_comp, dtype=np.int32),
         (np.concatenate([cs, diag]), np.concatenate([cd, diag]))),
        shape=(n_comp, n_comp))
    closure.data[:] = 1
    size = -1
    while closure.nnz != size:
        size = closure.nnz
        closure = closure @ closure
        closure.data[:] = 1
    # back to containers: R = P @ closure @ P.T, P the container -> component matrix
    P = sp.csr_array((np.ones(k, dtype=np.int32), (np.arange(k), label)), shape=(k, n_comp))
    R = (P @ closure) @ P.T
    R = R.astype(bool)
    return containers, number, R


class Membership(Mapping[str, frozenset[str]]):
    """Effective membership of many members, held as one sparse matrix.

    A read-only mapping ``member -> frozenset of groups`` (what :func:`effective_groups`
    returns for that member), whose sets are made only when asked for: a whole directory's
    membership is two numpy arrays (CSR: ``indptr``, ``indices`` into :attr:`groups`), not
    100,000 Python sets.  Use :meth:`pairs`, :meth:`to_frame`, :meth:`counts` and
    :meth:`members_of` for bulk questions.

    Attributes
    ----------
    members : list[str]
        The row nodes, in order.
    groups : list[str]
        The column nodes (every node that has a member).
    indptr, indices : numpy.ndarray
        CSR arrays: member ``i``'s groups are ``groups[j]`` for ``j`` in
        ``indices[indptr[i]:indptr[i + 1]]`` (in no particular order).

    Examples
    --------
    >>> from ldapnb.entry import Entry
    >>> G = from_entries([
    ...     Entry("cn=a,dc=x", {"objectClass": ["groupOfNames"], "member": ["cn=b,dc=x"]}),
    ...     Entry("cn=b,dc=x", {"objectClass": ["groupOfNames"], "member": ["cn=u,dc=x"]}),
    ... ])
    >>> m = effective_membership(G)
    >>> sorted(m["cn=u,dc=x"]), len(m)
    (['cn=a,dc=x', 'cn=b,dc=x'], 2)
    >>> m.counts()["cn=u,dc=x"]
    2
    """

    def __init__(self, G: nx.DiGraph, members: list[str], groups: list[str],
                 indptr: Any, indices: Any):
        self._G = G
        self.members = members
        self.groups = groups
        self.indptr = indptr
        self.indices = indices
        self._rows: dict[str, int] | None = None
        self._names: Any = None

    @property
    def _row(self) -> dict[str, int]:
        if self._rows is None:
            self._rows = dict(zip(self.members, range(len(self.members)), strict=True))
        return self._rows

    def _group_names(self) -> Any:
        if self._names is None:
            import numpy as np

            names = np.empty(len(self.groups), dtype=object)
            names[:] = self.groups
            self._names = names
        return self._names

    def __getitem__(self, member: str) -> frozenset[str]:
        i = self._row.get(member)
        if i is None:
            try:
                i = self._row.get(lookup(self._G, member))
            except NoSuchEntry:
                i = None
            if i is None:
                raise KeyError(member)
        names = self._group_names()
        return frozenset(names[self.indices[self.indptr[i]:self.indptr[i + 1]]].tolist())

    def __iter__(self) -> Iterator[str]:
        return iter(self.members)

    def __len__(self) -> int:
        return len(self.members)

    def __repr__(self) -> str:
        return (f"<Membership: {len(self.members):,} members, "
                f"{len(self.indices):,} (member, group) pairs>")

    @property
    def matrix(self) -> Any:
        """The membership as a boolean ``scipy.sparse.csr_array`` (members x groups)."""
        import numpy as np
        import scipy.sparse as sp

        return sp.csr_array(
            (np.ones(len(self.indices), dtype=bool), self.indices, self.indptr),
            shape=(len(self.members), len(self.groups)))

    def counts(self) -> dict[str, int]:
        """How many groups each member is in (effectively)."""
        import numpy as np

        return dict(zip(self.members, np.diff(self.indptr).tolist(), strict=True))

    def pairs(self) -> Iterator[tuple[str, str]]:
        """Every ``(member, group)`` pair, member by member."""
        names = self._group_names()
        for i, member in enumerate(self.members):
            for group in names[self.indices[self.indptr[i]:self.indptr[i + 1]]].tolist():
                yield member, group

    def members_of(self, group: str) -> set[str]:
        """The members (rows) that are effectively in ``group`` (any spelling)."""
        import numpy as np

        node = group if group in self._G else lookup(self._G, group)
        try:
            j = self.groups.index(node)
        except ValueError:
            return set()
        rows = np.repeat(np.arange(len(self.members)), np.diff(self.indptr))
        return {self.members[i] for i in rows[self.indices == j].tolist()}

    def to_frame(self) -> pd.DataFrame:
        """The pairs as a DataFrame with categorical columns ``member`` and ``group``."""
        import numpy as np
        import pandas as pd

        rows = np.repeat(np.arange(len(self.members)), np.diff(self.indptr))
        return pd.DataFrame({
            "member": pd.Categorical.from_codes(
                rows, categories=pd.Index(self.members, dtype=object)),
            "group": pd.Categorical.from_codes(
                self.indices, categories=pd.Index(self.groups, dtype=object)),
        })


def effective_membership(
    G: nx.DiGraph,
    members: Iterable[str] | None = None,
    *,
    via: Iterable[str] | None = None,
) -> Membership:
    """The effective groups of many members at once (all of them by default).

    The same answer as :func:`effective_groups` for each member, computed with sparse
    matrices instead of one search per member: the group-to-group edges are condensed into
    strongly connected components (cycles), their closure is computed once, and every
    member's groups are one sparse product of the direct memberships with that closure.
    Use it for whole-directory questions.

    Parameters
    ----------
    G : networkx.DiGraph
        A membership graph.
    members : iterable of str, optional
        DNs (any spelling); default every node that belongs to at least one group.
    via : iterable of str, optional
        Follow only edges made by these attributes.

    Returns
    -------
    Membership
        A mapping member node -> frozenset of its effective groups (made on access), with
        bulk accessors (:meth:`Membership.pairs`, :meth:`Membership.to_frame`).

    Raises
    ------
    NoSuchEntry
        A name in ``members`` is not in the graph.

    Examples
    --------
    >>> from ldapnb.entry import Entry
    >>> G = from_entries([
    ...     Entry("cn=a,dc=x", {"objectClass": ["groupOfNames"], "member": ["cn=b,dc=x"]}),
    ...     Entry("cn=b,dc=x", {"objectClass": ["groupOfNames"], "member": ["cn=u,dc=x"]}),
    ... ])
    >>> sorted(effective_membership(G)["cn=u,dc=x"])
    ['cn=a,dc=x', 'cn=b,dc=x']
    """
    import numpy as np
    import scipy.sparse as sp

    H = _via(G, via)
    containers, number, R = _closure_matrix(H)
    succ = H._succ
    if members is None:
        wanted = [n for n, s in succ.items() if s]
    else:
        asked = dict.fromkeys(members)
        if not G._node.keys() >= asked.keys():
            asked = dict.fromkeys(m if m in G else lookup(G, m) for m in asked)
        wanted = list(asked)
    n = len(wanted)
    k = len(containers)
    rows = [succ[v] for v in wanted] if n < 2 else itemgetter(*wanted)(succ)
    lens = np.fromiter(map(len, rows), dtype=np.int64, count=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lens, out=indptr[1:])
    cols = np.fromiter(map(number.__getitem__, chain.from_iterable(rows)), dtype=np.int64,
                       count=int(indptr[-1]))
    A = sp.csr_array((np.ones(len(cols), dtype=bool), cols, indptr), shape=(n, k))
    E = (A @ R) if k else sp.csr_array((n, 0), dtype=bool)
    E = sp.csr_array(E)
    # a member that is itself in a cycle reaches itself: drop that one column
    own = np.fromiter(map(number.get, wanted, repeat(-1)), dtype=np.int64, count=n)
    if not (own >= 0).any():  # no wanted member has members of its own
        return Membership(G, wanted, containers, E.indptr, E.indices)
    row_of = np.repeat(np.arange(n, dtype=np.int64), np.diff(E.indptr))
    keep = E.indices != own[row_of]
    out_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_of[keep], minlength=n), out=out_ptr[1:])
    return Membership(G, wanted, containers, out_ptr, E.indices[keep])


def why(
    G: nx.DiGraph,
    member: str,
    group: str,
    *,
    all_shortest: bool = False,
    via: Iterable[str] | None = None,
) -> list[list[str]]:
    """The shortest membership chain(s) that make ``member`` a member of ``group``.

    Parameters
    ----------
    G : networkx.DiGraph
        A membership graph (with rights edges too: :func:`with_rights`).
    member, group : str
        DNs in any spelling, SIDs, or unique names (labels).
    all_shortest : bool
        Every chain of the shortest length, instead of one (the first found, in the
        graph's order).
    via : iterable of str, optional
        Follow only edges made by these attributes.

    Returns
    -------
    list[list[str]]
        Each chain starts at ``member`` and ends at ``group``; ``[]`` when ``member`` is not
        a member.  When ``member`` is ``group``, the shortest cycle through it (a group that
        is its own member), or ``[]``.

    Raises
    ------
    NoSuchEntry
        ``member`` or ``group`` is not in the graph.

    Examples
    --------
    >>> from ldapnb.entry import Entry
    >>> G = from_entries([
    ...     Entry("cn=a,dc=x", {"objectClass": ["groupOfNames"], "member": ["cn=b,dc=x"]}),
    ...     Entry("cn=b,dc=x", {"objectClass": ["groupOfNames"], "member": ["cn=u,dc=x"]}),
    ... ])
    >>> why(G, "cn=u,dc=x", "cn=a,dc=x")
    [['cn=u,dc=x', 'cn=b,dc=x', 'cn=a,dc=x']]
    """
    source, target = lookup(G, member), lookup(G, group)
    H = _via(G, via)
    if source != target:
        try:
            if all_shortest:
                return [list(p) for p in nx.all_shortest_paths(H, source, target)]
            return [list(nx.shortest_path(H, source, target))]
        except nx.NetworkXNoPath:
            return []
    # a cycle through the node: the shortest path back to it from one of its groups
    found: list[list[str]] = []
    for step in H.succ[source]:
        if step == source:
            return [[source, source]]
        try:
            paths = (
                list(nx.all_shortest_paths(H, step, target))
                if all_shortest
                else [nx.shortest_path(H, step, target)]
            )
        except nx.NetworkXNoPath:
            continue
        if found and len(paths[0]) + 1 > len(found[0]):
            continue
        if found and len(paths[0]) + 1 < len(found[0]):
            found = []
        found.extend([source, *p] for p in paths)
    return found if all_shortest else found[:1]


def cycles(G: nx.DiGraph, *, limit: int = 10_000) -> list[list[str]]:
    """The membership cycles: groups that are, through nesting, members of themselves.

    Each elementary cycle is listed once as ``[g1, g2, ..., gk]`` meaning g1 is a member of
    g2, ..., gk a member of g1, rotated to start at its smallest node (string order); a group
    that is its own member is ``[g]``.  Sorted by length, then by nodes.

    Parameters
    ----------
    G : networkx.DiGraph
        A membership graph.
    limit : int
        The most cycles to list.  A tangle of groups can hold exponentially many elementary
        cycles: past ``limit``, :class:`LimitExceeded` is raised with the cycles found so far
        in ``partial`` (use :func:`networkx.strongly_connected_components` to see tangles).

    Returns
    -------
    list[list[str]]

    Raises
    ------
    LimitExceeded
        More than ``limit`` cycles.

    Examples
    --------
    >>> G = nx.DiGraph([("b", "a"), ("a", "b"), ("c", "c"), ("u", "a")])
    >>> cycles(G)
    [['c'], ['a', 'b']]
    """
    found: list[list[str]] = []
    # only a node with both a group and a member can be on a cycle: this drops every
    # account (no members) before networkx looks for cycles
    pred, succ = G.pred, G.succ
    candidates = [n for n in G if pred[n] and succ[n]]
    H = G.subgraph(candidates) if len(candidates) < len(G) else G
    for cycle in nx.simple_cycles(H):
        start = min(range(len(cycle)), key=lambda i: cycle[i])
        found.append(cycle[start:] + cycle[:start])
        if len(found) > limit:
            found.sort(key=lambda c: (len(c), c))
            raise LimitExceeded(
                f"more than {limit} membership cycles; the first {limit} are in .partial",
                kind="size",
                limit=limit,
                returned=limit,
                partial=found[:limit],
            )
    found.sort(key=lambda c: (len(c), c))
    return found


def _group_nodes(G: nx.DiGraph) -> list[str]:
    """Nodes of kind "group" (for a graph without kinds: nodes that have members)."""
    pred = G.pred
    out = []
    for node, kind in G.nodes(data="kind"):
        if kind == "group" or (kind is None and pred[node]):
            out.append(node)
    return out


def _depth_dp(S: nx.DiGraph) -> dict[str, int]:
    cond = nx.condensation(S)
    level: dict[int, int] = {}
    for comp in nx.topological_sort(cond):
        below = [level[p] + 1 for p in cond.pred[comp]]
        level[comp] = max(below, default=0)
    return {node: level[comp] for node, comp in cond.graph["mapping"].items()}


def depth(G: nx.DiGraph, group: str) -> int:
    """How deeply groups are nested below ``group``.

    Definition: take the groups only (kind ``"group"``), and merge every set of groups that
    are members of one another through a cycle (a strongly connected component) into one
    level.  ``depth`` is the number of edges on the longest chain of such levels that ends
    at ``group``'s level.  A group with no group among its members has depth 0; a group
    holding a group that holds a group has depth 2.  Without cycles this is exactly the
    longest chain of distinct nested groups; a cycle adds no depth, and the computation
    always ends.

    Parameters
    ----------
    G : networkx.DiGraph
        A membership graph.
    group : str
        A DN in any spelling, or a SID.

    Returns
    -------
    int

    Raises
    ------
    NoSuchEntry
        ``group`` is not in the graph.

    Examples
    --------
    >>> G = nx.DiGraph([("u", "c"), ("c", "b"), ("b", "a"), ("a", "b")])
    >>> depth(G, "a"), depth(G, "b"), depth(G, "c")
    (1, 1, 0)
    """
    node = lookup(G, group)
    groups = set(_group_nodes(G))
    if node not in groups:
        return 0
    below = {n for n in nx.ancestors(G, node) if n in groups} | {node}
    return _depth_dp(G.subgraph(below))[node]


def depths(G: nx.DiGraph) -> dict[str, int]:
    """:func:`depth` of every group at once.

    Examples
    --------
    >>> depths(nx.DiGraph([("u", "c"), ("c", "b"), ("b", "a")]))
    {'c': 0, 'b': 1, 'a': 2}
    """
    groups = _group_nodes(G)
    result = _depth_dp(G.subgraph(groups))
    return {g: result[g] for g in groups}


def privileged_groups(G: nx.DiGraph) -> set[str]:
    """The nodes marked privileged (see :func:`from_entries`).

    Examples
    --------
    >>> from ldapnb.entry import Entry
    >>> G = from_entries([Entry("cn=ops,dc=x", {"objectClass": ["groupOfNames"],
    ...                                         "member": ["cn=u,dc=x"]})],
    ...                  privileged=["CN=Ops,DC=X"])
    >>> privileged_groups(G)
    {'cn=ops,dc=x'}
    """
    return {n for n, p in G.nodes(data="privileged") if p}


# ------------------------------------------------------------------------------------------
# the long table
# ------------------------------------------------------------------------------------------


def _chains(
    adj: list[list[int]], containers: list[str]
) -> tuple[Any, Any, Any, Any, list[tuple[str, ...]]]:
    """Shortest chains from each container up to every group above it.

    Returns CSR arrays over container numbers: ``offsets``, ``targets`` (container numbers),
    ``dist`` (edges) and ``path`` (numbers into the returned list of chains, each chain a
    tuple of DNs from the container up to the target).
    """
    import numpy as np

    targets: list[int] = []
    dist: list[int] = []
    path: list[int] = []
    offsets = [0]
    chains: list[tuple[str, ...]] = []
    for i, name in enumerate(containers):
        chain_of = {i: len(chains)}
        chains.append((name,))
        targets.append(i)
        dist.append(0)
        path.append(chain_of[i])
        frontier = [i]
        d = 0
        while frontier:
            d += 1
            nxt = []
            for u in frontier:
                base = chains[chain_of[u]]
                for v in adj[u]:
                    if v not in chain_of:
                        chain_of[v] = len(chains)
                        chains.append((*base, containers[v]))
                        targets.append(v)
                        dist.append(d)
                        path.append(chain_of[v])
                        nxt.append(v)
            frontier = nxt
        offsets.append(len(targets))
    return (
        np.asarray(offsets, dtype=np.int64),
        np.asarray(targets, dtype=np.int64),
        np.asarray(dist, dtype=np.int64),
        np.asarray(path, dtype=np.int64),
        chains,
    )


def membership_frame(
    G: nx.DiGraph,
    members: Iterable[str] | None = None,
    *,
    via: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Every (member, group) pair, direct and through nesting, as a long table.

    Columns:

    ===========  ==============================================================================
    member       the member's node (DN)
    member_kind  its kind (one of :data:`NODE_KINDS`)
    group        a group it belongs to (never the member itself, even in a cycle)
    direct       True when ``group`` lists ``member`` itself
    depth        the length of the shortest chain, in edges (1 for direct membership)
    via          that chain as a tuple of DNs, from the member's direct group up to
                 ``group`` (``(group,)`` when direct); the full chain is
                 ``(member, *via)``, what :func:`why` returns.  Rows share these tuples.
    ===========  ==============================================================================

    Rows are ordered by member (graph order) and group.  The closure is computed once per
    group and expanded for all members with numpy, so a whole directory takes seconds, not
    one search per member.

    Parameters
    ----------
    G : networkx.DiGraph
        A membership graph.
    members : iterable of str, optional
        DNs (any spelling) to list; default every node that belongs to at least one group.
    via : iterable of str, optional
        Follow only edges made by these attributes.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    NoSuchEntry
        A name in ``members`` is not in the graph.

    Examples
    --------
    >>> from ldapnb.entry import Entry
    >>> G = from_entries([
    ...     Entry("cn=a,dc=x", {"objectClass": ["groupOfNames"], "member": ["cn=b,dc=x"]}),
    ...     Entry("cn=b,dc=x", {"objectClass": ["groupOfNames"], "member": ["cn=u,dc=x"]}),
    ... ])
    >>> m = membership_frame(G, ["cn=u,dc=x"])
    >>> m[["member", "group", "direct", "depth"]].values.tolist()
    [['cn=u,dc=x', 'cn=a,dc=x', False, 2], ['cn=u,dc=x', 'cn=b,dc=x', True, 1]]
    >>> m.loc[0, "via"]
    ('cn=b,dc=x', 'cn=a,dc=x')
    """
    import numpy as np
    import pandas as pd

    H = _via(G, via)
    pred, succ = H._pred, H._succ
    containers = [n for n, p in pred.items() if p]
    number = {c: i for i, c in enumerate(containers)}
    adj = [[number[s] for s in succ[c]] for c in containers]
    offsets, targets, dist, path, chains = _chains(adj, containers)

    if members is None:
        wanted = [n for n, s in succ.items() if s]
    else:
        asked = list(members)
        if not G._node.keys() >= set(asked):
            asked = [m if m in G else lookup(G, m) for m in asked]
        wanted = list(dict.fromkeys(asked))
    rows = [succ[v] for v in wanted]
    lens = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    pm = np.repeat(np.arange(len(rows), dtype=np.int64), lens)
    pg = np.fromiter(map(number.__getitem__, chain.from_iterable(rows)), dtype=np.int64,
                     count=int(lens.sum()))
    counts = offsets[pg + 1] - offsets[pg]
    total = int(counts.sum())
    row_member = np.repeat(pm, counts)
    # the flat positions offsets[pg] .. offsets[pg]+count-1 for each pair, end to end
    starts = np.repeat(offsets[pg] - (np.cumsum(counts) - counts), counts)
    flat = starts + np.arange(total, dtype=np.int64)
    row_group = targets[flat]
    row_depth = dist[flat] + 1
    row_path = path[flat]

    # a member that is itself a container in a cycle reaches itself: drop those rows
    member_number = np.asarray([number.get(n, -1) for n in wanted], dtype=np.int64)
    keep = row_group != member_number[row_member] if total else np.ones(0, dtype=bool)
    row_member, row_group = row_member[keep], row_group[keep]
    row_depth, row_path = row_depth[keep], row_path[keep]

    # one row per (member, group): the shortest chain.  Pack the four numbers into one
    # int64 key when they fit, sort, and keep the first of each (member, group) run.
    n_groups = max(len(containers), 1)
    n_depth = int(row_depth.max()) + 1 if len(row_depth) else 1
    n_path = max(len(chains), 1)
    if len(wanted) * n_groups * n_depth * n_path < 2**62:
        key = ((row_member * n_groups + row_group) * n_depth + row_depth) * n_path + row_path
        key.sort()
        key, row_path = np.divmod(key, n_path)
        key, row_depth = np.divmod(key, n_depth)
        row_member, row_group = np.divmod(key, n_groups)
    else:  # pragma: no cover - beyond 2**62 combinations
        order = np.lexsort((row_path, row_depth, row_group, row_member))
        row_member, row_group = row_member[order], row_group[order]
        row_depth, row_path = row_depth[order], row_path[order]
    first = np.ones(len(row_member), dtype=bool)
    if len(first) > 1:
        first[1:] = (row_member[1:] != row_member[:-1]) | (row_group[1:] != row_group[:-1])
    row_member, row_group = row_member[first], row_group[first]
    row_depth, row_path = row_depth[first], row_path[first]

    kinds = H._node
    member_names = pd.Index(wanted, dtype=object)
    member_kinds = pd.Categorical(
        [kinds[n].get("kind") or "unknown" for n in wanted],
        categories=list(NODE_KINDS),
    )
    chain_objects = np.empty(len(chains), dtype=object)
    chain_objects[:] = chains
    return pd.DataFrame(
        {
            "member": pd.Categorical.from_codes(row_member, categories=member_names),
            "member_kind": member_kinds.take(row_member) if len(row_member) else pd.Categorical(
                [], categories=member_kinds.categories),
            "group": pd.Categorical.from_codes(
                row_group, categories=pd.Index(containers, dtype=object)),
            "direct": row_depth == 1,
            "depth": row_depth,
            "via": chain_objects[row_path],
        }
    )


# ------------------------------------------------------------------------------------------
# exports
# ------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A value GraphML and GEXF can hold: None -> "", sets -> "a,b", lists -> JSON."""
    if value is None:
        return ""
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (set, frozenset)):
        return ",".join(sorted(str(v) for v in value))
    if isinstance(value, (list, tuple)):
        return json.dumps([str(v) for v in value])
    return str(value)


def _exportable(G: nx.DiGraph) -> nx.DiGraph:
    H = nx.DiGraph()
    H.graph.update(
        {k: v for k, v in G.graph.items() if isinstance(v, (str, int, float, bool))}
    )
    H.add_nodes_from((n, {k: _plain(v) for k, v in d.items()}) for n, d in G.nodes(data=True))
    H.add_edges_from(
        (u, v, {k: _plain(x) for k, x in d.items()}) for u, v, d in G.edges(data=True)
    )
    return H


def to_graphml(G: nx.DiGraph, path: str | os.PathLike[str]) -> None:
    """Write the graph as GraphML (for Gephi, Cytoscape, yEd).

    Attributes are made GraphML-safe: None becomes ``""``, the ``via`` sets become
    ``"member,memberOf"``, lists become JSON; the look-up tables in ``G.graph`` are left out.

    Parameters
    ----------
    G : networkx.DiGraph
        A membership graph.
    path : str or os.PathLike
        The file to write.
    """
    nx.write_graphml(_exportable(G), path)


def to_gexf(G: nx.DiGraph, path: str | os.PathLike[str]) -> None:
    """Write the graph as GEXF (Gephi's format); attributes made safe as in
    :func:`to_graphml`.  Node labels come from the ``label`` attribute.

    Parameters
    ----------
    G : networkx.DiGraph
        A membership graph.
    path : str or os.PathLike
        The file to write.
    """
    nx.write_gexf(_exportable(G), path)


def to_parquet(
    G: nx.DiGraph,
    path: str | os.PathLike[str],
    members: Iterable[str] | None = None,
    *,
    via: Iterable[str] | None = None,
) -> None:
    """Write :func:`membership_frame` as Parquet (``via`` becomes a list of strings).

    Parameters
    ----------
    G : networkx.DiGraph
        A membership graph.
    path : str or os.PathLike
        The file to write.
    members, via
        As for :func:`membership_frame`.
    """
    frame = membership_frame(G, members, via=via)
    frame["via"] = [list(chain) for chain in frame["via"]]
    frame.to_parquet(path, index=False)
