"""The embedded directory's storage: entries by normalised DN, the tree, time stamps, indexes.

:class:`Store` holds the entries (canonical attribute names, as the checker made them), the
parent/children links in order of addition, and each entry's operational time stamps
(:class:`Meta`, shared by the entries of one load).  :class:`Indexes` holds the equality,
presence and substring indexes, built for an attribute the first time a filter needs one (one
pass over the entries), then kept up to date by every write.  Neither knows the schema's rules: the
directory tells them what to store.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import itertools
import operator
from collections.abc import Callable

from .. import dn as dnlib
from .. import matching
from ..entry import Entry, Value

__all__ = ["Store", "Indexes", "Meta", "parent_ndn", "depth"]

_FIRST = operator.itemgetter(0)
_EMPTY: frozenset[str] = frozenset()


def now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y%m%d%H%M%SZ")


class Meta:
    """An entry's operational time stamps and names.  Never changed in place: the entries
    of one load share one; a write gives the entry a new one (:meth:`modified_now`)."""

    __slots__ = ("created", "modified", "creator", "modifier")

    def __init__(self, when: str, who: str):
        self.created, self.modified, self.creator, self.modifier = when, when, who, who

    def modified_now(self) -> Meta:
        new = Meta(self.created, self.creator)
        new.modified, new.modifier = now(), self.modifier
        return new


def parent_ndn(ndn: str) -> str:
    """The parent of a normalised DN (fast when it holds no escapes)."""
    if "\\" not in ndn:
        i = ndn.find(",")
        return ndn[i + 1:] if i >= 0 else ""
    return dnlib.parent(ndn) or ""


def depth(dn: str) -> int:
    """How many RDNs ``dn`` has (fast when it holds no escapes or quotes)."""
    if not dn.strip():
        return 0
    if "\\" not in dn and '"' not in dn:
        return dn.count(",") + dn.count(";") + 1
    return dnlib.depth(dn)


class Store:
    """Entries by normalised DN, in order of addition, with their tree and time stamps."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}          # ndn -> entry (canonical attribute names)
        self.seqs: dict[str, int] = {}               # ndn -> order of addition
        self.children: dict[str, dict[str, None]] = {}  # parent ndn -> ordered child ndns
        self.parent: dict[str, str] = {}
        self.roots: dict[str, None] = {}
        self.counter = itertools.count()
        self._meta: dict[str, Meta] = {}            # entries not added by a load
        self._loads: list[tuple[int, Meta]] = []    # each load's first seq and meta
        self.load_meta: Meta | None = None          # what the entries of a load share

    def __len__(self) -> int:
        return len(self.entries)

    # -- loads and time stamps ---------------------------------------------------------------
    def begin_load(self) -> None:
        """Entries added until :meth:`end_load` share one :class:`Meta`."""
        self.load_meta = Meta(now(), "cn=ldapnb")
        self._loads.append((next(self.counter), self.load_meta))

    def end_load(self) -> None:
        self.load_meta = None

    def stamp_new(self, ndn: str) -> None:
        """Time stamps for an entry added outside a load (a load's share its Meta)."""
        if self.load_meta is None:
            self._meta[ndn] = Meta(now(), "cn=ldapnb")

    def meta_of(self, ndn: str) -> Meta:
        """A stored entry's time stamps: its own once written to (or when added outside a
        load), else those of the load that added it (the last load begun before its seq)."""
        meta = self._meta.get(ndn)
        if meta is None:
            seq = self.seqs[ndn]
            meta = self._loads[bisect.bisect_right(self._loads, seq, key=_FIRST) - 1][1]
        return meta

    def touch(self, ndn: str) -> None:
        """Note a write to the entry at ``ndn`` (modifyTimestamp)."""
        self._meta[ndn] = self.meta_of(ndn).modified_now()

    # -- adding and removing -----------------------------------------------------------------
    def put(self, ndn: str, entry: Entry, parent: str | None,
            meta: tuple[int, Meta] | None = None) -> None:
        """Store a new entry under ``parent`` (None: a naming context); ``meta`` keeps a moved
        entry's order and time stamps."""
        self.entries[ndn] = entry
        if meta is None:
            self.seqs[ndn] = next(self.counter)
            self.stamp_new(ndn)
        else:
            self.seqs[ndn], self._meta[ndn] = meta
        if parent:
            self.parent[ndn] = parent
            kids = self.children.get(parent)
            if kids is None:
                self.children[parent] = {ndn: None}
            else:
                kids[ndn] = None
        else:
            self.roots[ndn] = None

    def pop(self, ndn: str, keep_meta: bool = False) -> Entry:
        """Remove the entry at ``ndn`` from the tree; returns it."""
        entry = self.entries.pop(ndn)
        if not keep_meta:
            self._meta.pop(ndn, None)
            self.seqs.pop(ndn, None)
        parent = self.parent.pop(ndn, None)
        if parent is not None:
            kids = self.children.get(parent)
            if kids is not None:
                kids.pop(ndn, None)
                if not kids:
                    del self.children[parent]
        self.roots.pop(ndn, None)
        return entry

    # -- the tree ----------------------------------------------------------------------------
    def subtree(self, nbase: str) -> list[str]:
        """``nbase`` and every entry below it, parents before children ("" = everything)."""
        out: list[str] = []
        stack = [nbase] if nbase else list(reversed(self.roots))
        while stack:
            n = stack.pop()
            out.append(n)
            kids = self.children.get(n)
            if kids:
                stack.extend(reversed(kids))
        return out

    def in_scope(self, ndn: str, nbase: str, scope: str) -> bool:
        if scope == "one":
            return self.parent.get(ndn, "") == nbase and ndn != nbase
        if not nbase:
            return True
        n: str | None = ndn
        while n is not None:
            if n == nbase:
                return True
            n = self.parent.get(n)
        return False

    def matched(self, ndn: str) -> str | None:
        """The DN of the nearest stored ancestor of ``ndn`` (an error's matchedDN)."""
        p = dnlib.parent(ndn) if ndn else None
        while p:
            if p in self.entries:
                return self.entries[p].dn
            p = dnlib.parent(p)
        return None


class Indexes:
    """Equality (normalised value -> DNs) and presence (DNs having it) indexes per attribute.

    ``values(entry, attr)`` and ``rule(attr)`` say what an entry holds for a filter's
    attribute (subtypes and options included) and its equality rule.
    """

    def __init__(self, values: Callable[[Entry, str], list[Value]],
                 rule: Callable[[str], matching.MatchingRule | None]):
        self._values = values
        self._rule = rule
        self.eq: dict[str, dict[object, set[str]]] = {}   # attr -> normalised value -> ndns
        self.present: dict[str, set[str]] = {}            # attr -> ndns having it
        self.sub: dict[str, _Trigrams] = {}               # attr -> substring index

    def __bool__(self) -> bool:
        return bool(self.eq or self.sub)

    def build(self, attr: str, entries: dict[str, Entry]) -> None:
        self.eq[attr] = {}
        self.present[attr] = set()
        for ndn, entry in entries.items():
            self._add_values(attr, ndn, entry)

    def _add_values(self, attr: str, ndn: str, entry: Entry) -> None:
        values = self._values(entry, attr)
        if not values:
            return
        self.present[attr].add(ndn)
        rule = self._rule(attr)
        if rule is None:
            return
        eq = self.eq[attr]
        for v in values:
            key = rule.normalize(v)
            if key is not None:
                eq.setdefault(key, set()).add(ndn)

    def add(self, ndn: str, entry: Entry) -> None:
        for attr in self.eq:
            self._add_values(attr, ndn, entry)
        for attr, tri in self.sub.items():
            tri.add(ndn, self._values(entry, attr))

    # -- substrings --------------------------------------------------------------------------
    def substring_candidates(self, attr: str, rule: matching.MatchingRule,
                             keys: tuple[object, list[object], object],
                             entries: dict[str, Entry]) -> set[str] | None:
        """A superset of the entries whose ``attr`` holds a value matching the substring
        pattern ``keys`` (:meth:`ldapnb.matching.MatchingRule.substring_keys` of ``rule``,
        the attribute's SUBSTR rule), or None when no piece is long enough to narrow it."""
        ini, anys, fin = keys
        pieces = [p for p in (ini, *anys, fin) if p]
        if not any(isinstance(p, (str, bytes)) and len(p) >= 3 for p in pieces):
            return None
        tri = self.sub.get(attr)
        if tri is None:
            tri = self.sub[attr] = _Trigrams(rule)
            values = self._values
            for ndn, entry in entries.items():
                tri.add(ndn, values(entry, attr))
        return tri.candidates(pieces)

    def remove(self, ndn: str, entry: Entry) -> None:
        for attr, eq in self.eq.items():
            rule = self._rule(attr)
            if rule is not None:
                for v in self._values(entry, attr):
                    key = rule.normalize(v)
                    bucket = eq.get(key)
                    if bucket is not None:
                        bucket.discard(ndn)
                        if not bucket:
                            del eq[key]
            self.present[attr].discard(ndn)
        for attr, tri in self.sub.items():
            tri.remove(ndn, self._values(entry, attr))


class _Trigrams:
    """Entries by the 3-character slices of their values' keys, the keys made by the
    attribute's SUBSTR rule (:meth:`~ldapnb.matching.MatchingRule.normalize`), as its matcher
    makes them: a value whose key holds a pattern's piece holds each of the piece's slices.
    Keys that are neither text nor bytes (no slices to index) make their entry a candidate
    for every pattern."""

    __slots__ = ("rule", "grams", "loose")

    def __init__(self, rule: matching.MatchingRule):
        self.rule = rule
        self.grams: dict[object, set[str]] = {}
        self.loose: set[str] = set()

    def _grams(self, values: list[Value]) -> tuple[set[object], bool]:
        out: set[object] = set()
        loose = False
        norm = self.rule.normalize
        for v in values:
            k = norm(v)
            if isinstance(k, (str, bytes)):
                out.update(k[i:i + 3] for i in range(len(k) - 2))
            elif k is not None:
                loose = True
        return out, loose

    def add(self, ndn: str, values: list[Value]) -> None:
        if not values:
            return
        grams, loose = self._grams(values)
        index = self.grams
        for g in grams:
            bucket = index.get(g)
            if bucket is None:
                index[g] = {ndn}
            else:
                bucket.add(ndn)
        if loose:
            self.loose.add(ndn)

    def remove(self, ndn: str, values: list[Value]) -> None:
        grams, _ = self._grams(values)
        for g in grams:
            bucket = self.grams.get(g)
            if bucket is not None:
                bucket.discard(ndn)
                if not bucket:
                    del self.grams[g]
        self.loose.discard(ndn)

    def candidates(self, pieces: list[object]) -> set[str]:
        grams = {p[i:i + 3] for p in pieces if isinstance(p, (str, bytes))
                 for i in range(len(p) - 2)}
        buckets = sorted((self.grams.get(g, _EMPTY) for g in grams), key=len)
        out = set(buckets[0])
        for b in buckets[1:]:
            if not out:
                break
            out &= b
        return out | self.loose
