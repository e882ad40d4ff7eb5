"""What the embedded directory computes from its entries, as slapd's overlays do.

- **memberOf** (slapd's memberof/dynlist): the groups listing an entry in ``member`` /
  ``uniqueMember`` (groupOfNames, groupOfUniqueNames, AD's ``group``), from a back-link index
  built on first use and dropped by any write that changes a membership;
- **in-chain** (AD's LDAP_MATCHING_RULE_IN_CHAIN, :data:`ldapnb.oids.IN_CHAIN`): whether
  following an attribute's DN links reaches a target;
- **refint** (slapd's refint): DN-valued references follow a renamed entry and drop a deleted
  one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import cast

from .. import matching
from ..entry import Entry, Value
from ..schema import Schema
from ._store import Store

__all__ = ["Overlays", "GROUP_MEMBER_ATTRIBUTES", "REFERENCE_ATTRIBUTES"]

#: group object class -> the attribute that lists its members (what memberOf is computed from)
GROUP_MEMBER_ATTRIBUTES = {"groupofnames": "member", "groupofuniquenames": "uniqueMember",
                           "group": "member"}

#: DN-valued attributes kept pointing at the right entries on rename and delete (refint)
REFERENCE_ATTRIBUTES = ("member", "uniqueMember", "manager", "secretary", "seeAlso", "owner")


class Overlays:
    """memberOf, in-chain and refint over a :class:`~ldapnb.sources._store.Store`.

    ``ndn`` normalises a DN (raising for a bad one), ``canon`` gives an attribute's canonical
    lower-case name, and ``replace(ndn, old, new)`` stores a changed entry (indexes and time
    stamps included) for refint.
    """

    def __init__(self, store: Store, schema: Schema, *, ndn: Callable[[str], str],
                 canon: Callable[[str], str],
                 replace: Callable[[str, Entry, Entry], None]):
        self.store = store
        self.schema = schema
        self._ndn = ndn
        self._canon = canon
        self._replace = replace
        self._groups_of: dict[str, dict[str, None]] | None = None  # member ndn -> group ndns

    def touched(self, old: Entry | None, new: Entry | None) -> None:
        """Forget derived data that a change of ``old`` into ``new`` may have made stale."""
        for e in (old, new):
            if e is not None and ("member" in e or "uniqueMember" in e):
                self._groups_of = None
                return

    @property
    def indexed(self) -> bool:
        """Whether the memberOf back-links are built (then every add must call touched)."""
        return self._groups_of is not None

    # -- memberOf ----------------------------------------------------------------------------
    def _group_index(self) -> dict[str, dict[str, None]]:
        if self._groups_of is None:
            index: dict[str, dict[str, None]] = {}
            # a member value spelt as its entry's DN is that entry's key (the store keys each
            # entry by its normalised DN): found here without normalising it again
            known = {entry.dn: ndn for ndn, entry in self.store.entries.items()}
            for gndn, entry in self.store.entries.items():
                lists = entry.attribute_lists()
                if "member" not in lists and "uniquemember" not in lists:
                    continue  # lists nobody, whatever its classes (most entries: be quick)
                for attr in self._member_attributes(entry):
                    rule = matching.rule("uniqueMemberMatch" if attr == "uniqueMember"
                                         else "distinguishedNameMatch")
                    values = entry.get(attr, [])
                    texts = cast("list[str]", values)
                    try:  # no uniqueMember UID suffix anywhere: member_ndn's first lookup,
                        plain = "#'" not in "\n".join(texts)  # for every value at once
                    except TypeError:  # bytes
                        plain = False
                    found = list(map(known.get, texts)) if plain else [None] * len(texts)
                    for v, m in zip(values, found, strict=True):
                        if m is None:  # not spelt as an entry's DN: member_ndn says
                            m = self.member_ndn(v, rule, known)
                            if m is None:
                                continue
                        groups = index.get(m)
                        if groups is None:
                            index[m] = {gndn: None}
                        else:
                            groups[gndn] = None
            self._groups_of = index
        return self._groups_of

    @staticmethod
    def _member_attributes(entry: Entry) -> list[str]:
        out = []
        for oc in entry.get("objectClass", []):
            attr = GROUP_MEMBER_ATTRIBUTES.get(str(oc).lower())
            if attr and attr not in out:
                out.append(attr)
        return out

    def member_ndn(self, value: Value, rule: matching.MatchingRule | None,
                   known: Mapping[str, str] | None = None) -> str | None:
        """The normalised DN a member value names (uniqueMember's ``#'...'B`` dropped), or
        None for a value that names nobody.  ``known``: DNs as spelt -> their normalised
        form, looked up before normalising."""
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        if not text:
            return None
        if "#'" in text and text.endswith("'B"):  # uniqueMember's optional UID suffix
            text = text[: text.rindex("#'")]
        if known is not None:
            ndn = known.get(text)
            if ndn is not None:
                return ndn
        try:
            return self._ndn(text)
        except Exception:  # noqa: BLE001 - a malformed member value names nobody
            return None

    def safe_ndn(self, value: Value) -> str | None:
        try:
            text = value.decode("utf-8") if isinstance(value, bytes) else value
            return self._ndn(text)
        except Exception:  # noqa: BLE001 - any bad DN means "matches nothing"
            return None

    def member_of(self, dn: str) -> list[str]:
        """DNs of the groups that list ``dn`` as a member (what slapd's memberOf shows)."""
        return self.member_of_ndn(self._ndn(dn))

    def member_of_ndn(self, ndn: str) -> list[str]:
        """:meth:`member_of` of the entry whose normalised DN is ``ndn``."""
        return self.member_of_ndns((ndn,))[0]

    def member_of_ndns(self, ndns: Iterable[str]) -> list[list[str]]:
        """:meth:`member_of_ndn` of each of ``ndns``, in one pass."""
        entries = self.store.entries
        index = self._group_index()
        none: dict[str, None] = {}
        return [[entries[g].dn for g in index.get(ndn, none) if g in entries] for ndn in ndns]

    def groups_of(self, ndn: str) -> Iterable[str]:
        """Normalised DNs of the groups listing the entry at ``ndn`` (normalised) as a member."""
        return self._group_index().get(ndn, {}).keys()

    def members_of(self, group: Value) -> set[str]:
        """Normalised DNs of the entries whose memberOf holds ``group``."""
        gndn = self.safe_ndn(group)
        entries = self.store.entries
        if gndn is None or gndn not in entries:
            return set()
        return {m for m, groups in self._group_index().items()
                if gndn in groups and m in entries}

    # -- in-chain ----------------------------------------------------------------------------
    def in_chain(self, entry: Entry, attr: str, target: str) -> bool | None:
        """AD's LDAP_MATCHING_RULE_IN_CHAIN: does following ``attr`` links from ``entry``
        reach ``target``?  (memberOf is followed through the computed back-links.)"""
        ntarget = self.safe_ndn(target)
        if ntarget is None:
            return None
        a = self._canon(attr)
        seen: set[str] = set()
        todo = [self._ndn(entry.dn)]
        while todo:
            cur = todo.pop()
            for nxt in self._links(cur, a):
                if nxt == ntarget:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    def _links(self, ndn: str, attr: str) -> Iterable[str]:
        if attr == "memberof":
            return self._group_index().get(ndn, {}).keys()
        entry = self.store.entries.get(ndn)
        if entry is None:
            return ()
        out = []
        for v in entry.get(attr, []):
            m = self.member_ndn(v, None)
            if m is not None:
                out.append(m)
        return out

    # -- refint ------------------------------------------------------------------------------
    def refint(self, renames: dict[str, str | None]) -> None:
        """Point DN-valued references at renamed entries, or drop references to deleted ones.
        A groupOfNames left with no member keeps one empty value, as slapd's refint keeps one
        placeholder, so it stays valid."""
        if not renames:
            return
        dnrule = matching.rule("distinguishedNameMatch")
        for ndn, entry in list(self.store.entries.items()):
            changed = None
            for attr in REFERENCE_ATTRIBUTES:
                values = entry.get(attr)
                if not values:
                    continue
                new_values: list[Value] = []
                hit = False
                for v in values:
                    m = self.member_ndn(v, dnrule)
                    if m is not None and m in renames:
                        hit = True
                        target = renames[m]
                        if target is not None:
                            suffix = ""
                            if isinstance(v, str) and "#'" in v and v.endswith("'B"):
                                suffix = v[v.rindex("#'"):]
                            new_values.append(target + suffix)
                    else:
                        new_values.append(v)
                if hit:
                    if changed is None:
                        changed = entry.copy()
                    if not new_values and attr.lower() in {
                            self._canon(m) for m in self.schema.must(
                                *[str(c) for c in entry.get("objectClass", [])])}:
                        new_values = [""]
                    changed.set(attr, new_values)
            if changed is not None:
                self._replace(ndn, entry, changed)
        self._groups_of = None
