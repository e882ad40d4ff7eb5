"""The embedded directory: an LDAP server's semantics, in memory, with no server.

It is what ``Directory.embedded()`` reads and what ``Directory.connection()`` lets ordinary
ldap3 code talk to.  It exists because ldap3's MOCK_SYNC answers some questions wrongly (see
RECIPES.md); a teaching and audit kit cannot teach wrong answers.  What it does, as slapd does:

- base / one / sub scopes, with the base itself in ``base`` and ``sub`` only;
- filters evaluated by :mod:`ldapnb.filters` with the schema's matching rules and
  three-valued logic; AD's in-chain (:data:`ldapnb.oids.IN_CHAIN`) and bitwise rules;
- equality, presence and substring (trigram) indexes, built for an attribute on its first
  use and kept up to date by writes, so such searches do not scan every entry (an index only
  narrows the candidates: the filter is still evaluated on each);
- ``memberOf`` computed at search time from groupOfNames/groupOfUniqueNames/AD ``group``
  members, like slapd's dynlist/memberof overlays (operational: ask for it by name or ``+``);
- a rootDSE and a subschema entry built from the schema it checks entries against;
- schema checks on add and modify (MUST, allowed attributes, SINGLE-VALUE, value syntax,
  naming attributes), the server's rules for delete (notAllowedOnNonLeaf) and rename, and
  references in other entries updated on rename and delete, like slapd's refint overlay;
- simple binds against cleartext or hashed userPassword values ({SSHA}, {SHA}, {CRYPT} and
  the other RFC 2307 schemes, through passlib), SASL PLAIN; any other mechanism is refused.

:class:`EmbeddedDirectory` is the public class; it composes modules with one job each:

- :mod:`~ldapnb.sources._store`: entries by normalised DN, the tree, time stamps, indexes;
- :mod:`~ldapnb.sources._checker`: the schema rules, one checker with a full and a fast path;
- :mod:`~ldapnb.sources._overlays`: memberOf, in-chain, refint;
- :mod:`~ldapnb.sources._binds`: simple and SASL PLAIN binds;
- :mod:`~ldapnb.sources._ad`: how a domain controller reads an AD (objectCategory short forms,
  ANR, SID/GUID strings in filters, distinguishedName, tokenGroups).

This module keeps what makes them a server: searching (scopes, the index planner, size
limits), presenting entries (attribute selection, operational attributes, rootDSE and
subschema), writes with the server's rules, and bulk loads.
"""

from __future__ import annotations

import gc
import uuid
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import is_
from typing import TYPE_CHECKING, Any, cast

from .. import dn as dnlib
from .. import filters as flt
from .. import matching, oids
from ..entry import Entry, Value
from ..errors import (
    ArgumentError,
    DnError,
    EntryAlreadyExists,
    LdifError,
    LimitExceeded,
    NoSuchEntry,
    NotAllowedOnNonLeaf,
    OperationError,
    SchemaError,
)
from ..schema import Schema, default_schema
from ._ad import ADReader
from ._binds import SASL_MECHANISMS, ad_bind_dn, is_ad_name, sasl_plain, simple_bind
from ._checker import Checker
from ._overlays import GROUP_MEMBER_ATTRIBUTES, REFERENCE_ATTRIBUTES, Overlays
from ._store import Indexes, Meta, Store, depth, parent_ndn
from .base import (
    DEFAULT_PAGE_SIZE,
    ColumnPage,
    dense_columns,
    fixed_columns,
    pages_from_entries,
    scope_name,
)

if TYPE_CHECKING:
    import ldap3

    from ..ldif import Record as LdifRecord

__all__ = ["EmbeddedDirectory", "Change", "GROUP_MEMBER_ATTRIBUTES", "REFERENCE_ATTRIBUTES"]

SUPPORTED_CONTROLS = (oids.PAGED_RESULTS, oids.SUBENTRIES, oids.MANAGE_DSA_IT)
SUPPORTED_EXTENSIONS = (oids.WHO_AM_I,)
SUPPORTED_FEATURES = (oids.MODIFY_INCREMENT, oids.ALL_OPERATIONAL_ATTRIBUTES,
                      oids.OC_AD_LISTS)

_OPERATIONAL = ("entryDN", "entryUUID", "hasSubordinates", "subschemaSubentry",
                "structuralObjectClass", "createTimestamp", "modifyTimestamp",
                "creatorsName", "modifiersName", "memberOf")
_OPERATIONAL_LOWER = {n.lower(): n for n in _OPERATIONAL}
#: what an AD domain controller computes, returned when asked for by name (not with "+")
_AD_COMPUTED = {"tokengroups": "tokenGroups", "distinguishedname": "distinguishedName"}
#: A load of at least this many records ends with one collection of the objects it made (see
#: :meth:`EmbeddedDirectory.load`); smaller loads leave them to the collector's usual rounds.
BULK_LOAD = 10_000
_UUID_NS = uuid.UUID("6ba7b812-9dad-11d1-80b4-00c04fd430c8")  # RFC 4122 X.500 namespace


class _Pending:
    """The content records of one run of a load, waiting to be added: by depth (a bulk load
    adds shallowest DN first), in file order within a depth.  Each depth keeps its entries
    and their lines (0: none) in two flat arrays, not a tuple per entry."""

    __slots__ = ("depths",)

    def __init__(self) -> None:
        self.depths: dict[int, tuple[list[Entry | None], array[int]]] = {}

    def add(self, level: int, entry: Entry, line: int | None) -> None:
        lists = self.depths.get(level)
        if lists is None:
            lists = self.depths[level] = ([], array("q"))
        lists[0].append(entry)
        lists[1].append(line or 0)

    def drain(self) -> Iterator[tuple[Entry, int | None]]:
        """Every entry and its line, shallowest first; each is let go once taken, so the
        reader's entry is freed as soon as its checked copy is stored."""
        for level in sorted(self.depths):
            entries, lines = self.depths[level]
            for i, line in enumerate(lines):
                entry = entries[i]
                entries[i] = None
                yield entry, line or None  # type: ignore[misc]
            del self.depths[level]

    def clear(self) -> None:
        self.depths.clear()


@dataclass
class Change:
    """One modification: ``op`` is "add", "delete", "replace" or "increment"."""

    op: str
    attribute: str
    values: list[Value] = field(default_factory=list)


class EmbeddedDirectory:
    """An in-memory directory with a server's rules.

    Parameters
    ----------
    schema
        The schema entries are checked against (default: ldapnb's bundled schema, the same
        files its private slapd loads).
    lenient
        When True (used for LDIF exports from other servers), entries with attribute types or
        object classes this schema does not know, or that break a schema rule, are still loaded;
        each problem is recorded in :attr:`warnings` with its DN.  Writes made later are always
        checked strictly.

    Examples
    --------
    >>> from ldapnb.entry import Entry
    >>> d = EmbeddedDirectory()
    >>> d.add(Entry("dc=example,dc=org", {"objectClass": ["domain"], "dc": ["example"]}))
    >>> d.add(Entry("cn=Ann,dc=example,dc=org",
    ...             {"objectClass": ["person"], "cn": ["Ann"], "sn": ["Lee"]}))
    >>> [e.dn for e in d.search("dc=example,dc=org", "one", "(sn=lee)")]
    ['cn=Ann,dc=example,dc=org']
    """

    def __init__(self, schema: Schema | None = None, *, lenient: bool = False):
        self.schema = schema or default_schema()
        self.warnings: list[str] = []
        #: Records a lenient load skipped because a server would refuse them, as
        #: ``ldapadd -c`` does: (line or None, DN, the server's reason).
        self.skipped: list[tuple[int | None, str, str]] = []
        self._applied = 0  # records applied by loads, for the message of a failed one
        self._checker = Checker(self.schema, lenient=lenient, warnings=self.warnings)
        self._store = Store()
        self._overlays = Overlays(self._store, self.schema, ndn=self._ndn,
                                  canon=self._checker.canon, replace=self._replace)
        self._ctx = _Context(self, self._checker, self._overlays)
        self._ad = ADReader(self._store, member_of=self._overlays.groups_of,
                            by_sid=self._by_sid)
        self._indexes = Indexes(self._ctx.values, self._checker.eq_rule)
        self._compiled: dict[str, object] = {}

    @property
    def lenient(self) -> bool:
        """Whether loads note schema problems in :attr:`warnings` instead of raising."""
        return self._checker.lenient

    @lenient.setter
    def lenient(self, value: bool) -> None:
        self._checker.lenient = value

    # =========================================================================================
    # what it is (see ldapnb.sources.base.Source)
    # =========================================================================================
    #: In memory: counting, ``repr`` and writes are cheap and private.
    is_live = False
    #: No server: no certificate, no base beyond the naming context.
    ca_file = None
    default_base = None

    @property
    def urls(self) -> dict[str, str]:
        """No server, nothing to reach: ``{}``."""
        return {}

    def close(self) -> None:
        """Nothing to close (the entries live as long as the object)."""

    def connection(self, user: str | None = None, password: str | None = None, *,
                   writable: bool | None = None, raise_exceptions: bool = False,
                   max_val_range: int | None = None) -> ldap3.Connection:
        """A real ``ldap3.Connection`` answered by this directory (see
        :func:`ldapnb.sources._ldap3.embedded_connection`); writable unless
        ``writable=False``: the directory is a private in-memory copy."""
        from ._ldap3 import embedded_connection

        return embedded_connection(self, user, password,
                                   writable=True if writable is None else writable,
                                   raise_exceptions=raise_exceptions,
                                   max_val_range=max_val_range)

    # =========================================================================================
    # reading
    # =========================================================================================
    def __len__(self) -> int:
        return len(self._store.entries)

    def __contains__(self, dn: object) -> bool:
        return isinstance(dn, str) and self._ndn(dn) in self._store.entries

    @property
    def naming_contexts(self) -> tuple[str, ...]:
        return tuple(self._store.entries[n].dn for n in self._store.roots)

    def get(self, dn: str, attributes: Sequence[str] | None = None) -> Entry:
        """The entry at ``dn`` (a copy), or :class:`NoSuchEntry`."""
        ndn = self._ndn(dn)
        entry = self._store.entries.get(ndn)
        if entry is None:
            if ndn == "":
                return self.root_dse
            if ndn == "cn=subschema":
                return self.subschema
            raise self._no_such(dn)
        return self._present_entry(ndn, entry, self._selector(attributes))

    def get_normalized(self, ndn: str, attributes: Sequence[str] | None = None, *,
                       types_only: bool = False) -> Entry:
        """The entry whose normalised DN is ``ndn`` (as :meth:`search_dns` returns them)."""
        return self._present_entry(ndn, self._store.entries.get(ndn), self._selector(attributes),
                                   types_only)

    def search(
        self,
        base: str,
        scope: str | int = "sub",
        filter: str | flt.Filter = "(objectClass=*)",
        attributes: Sequence[str] | None = None,
        *,
        size_limit: int = 0,
        types_only: bool = False,
    ) -> Iterator[Entry]:
        """Entries under ``base`` within ``scope`` matching ``filter`` (copies).

        Raises :class:`NoSuchEntry` when ``base`` is absent and :class:`LimitExceeded`
        when more than ``size_limit`` entries match.  The check for a missing base and the
        limit happen before the first entry is yielded: an answer is complete or an error.
        """
        select = self._selector(attributes, scope)
        matches = self.search_dns(base, scope, filter, size_limit=size_limit)
        return (self._present_entry(n, self._store.entries.get(n), select, types_only)
                for n in matches)

    def search_pages(
        self,
        base: str,
        scope: str | int = "sub",
        filter: str | flt.Filter = "(objectClass=*)",
        attributes: Sequence[str] | None = None,
        *,
        size_limit: int = 0,
        page_size: int | None = None,
    ) -> Iterator[ColumnPage]:
        """The answer of :meth:`search` as column pages of ``page_size`` entries (default
        :data:`~ldapnb.sources.base.DEFAULT_PAGE_SIZE`, 0: one page), the shape every
        source yields.  Errors (no such base, the size limit) are raised here, before any
        page.

        With a fixed attribute list (no ``*`` or ``+``: what ``Directory.graph()`` and most
        frames ask for) the pages are gathered column by column from the stored entries,
        without presenting an :class:`Entry` per match: the same matches (:meth:`search_dns`),
        the same selection (:meth:`_selector`, :meth:`_shown`) and the same computed values
        (:meth:`operational`) as :meth:`_present_entry`, so the same pages as
        :func:`~ldapnb.sources.base.pages_from_entries` makes of :meth:`search`'s entries
        (``tests/test_embedded_pages.py`` compares the two)."""
        size = DEFAULT_PAGE_SIZE if page_size is None else page_size
        if not fixed_columns(attributes):
            entries = self.search(base, scope, filter, attributes, size_limit=size_limit)
            return pages_from_entries(entries, size, attributes)
        select = self._selector(attributes, scope)
        matches = self.search_dns(base, scope, filter, size_limit=size_limit)
        return self._column_pages(matches, select, dense_columns(attributes), size)

    def search_dns(
        self, base: str, scope: str | int, filter: str | flt.Filter, *, size_limit: int = 0
    ) -> list[str]:
        """Normalised DNs of the matching entries, in directory order (see :meth:`search`)."""
        scope = scope_name(scope)
        f = self._filter(filter)
        nbase = self._ndn(base)
        if nbase == "" and scope == "base":
            return [""] if flt.evaluate(f, self.root_dse, self._ctx) else []
        if nbase not in self._store.entries:
            if nbase == "cn=subschema" and scope == "base":
                return [nbase] if flt.evaluate(f, self.subschema, self._ctx) else []
            if nbase != "":
                raise self._no_such(base)
        match = self._compile(f)
        candidates = self._plan(f)
        if scope == "base":
            pool: Iterable[str] = [nbase]
        elif candidates is not None:
            pool = sorted((n for n in candidates if self._store.in_scope(n, nbase, scope)),
                          key=self._store.seqs.__getitem__)
        elif scope == "one":
            pool = list(self._store.children.get(nbase, ())) if nbase else list(self._store.roots)
        else:
            pool = self._store.subtree(nbase)
        if self._ctx.ad and scope != "base":
            foreign = tuple("," + h for h in self._ad.other_partitions(nbase))
            if foreign:  # a DC does not enter other naming contexts below the base
                heads = {h[1:] for h in foreign}
                pool = [n for n in pool if n not in heads and not n.endswith(foreign)]
        out = []
        for ndn in pool:
            entry = self._store.entries.get(ndn)
            if entry is not None and match(entry) is True:  # type: ignore[operator]
                out.append(ndn)
                if size_limit and len(out) > size_limit:
                    raise LimitExceeded(
                        f"more than {size_limit} entries match {flt.to_string(f)} under "
                        f"{base!r}: the size limit stopped the search, so the answer is "
                        "incomplete; narrow the filter or raise size_limit",
                        kind="size", limit=size_limit, returned=size_limit,
                        partial=out[:size_limit])
        return out

    def trace(self, filter: str | flt.Filter, dn: str) -> flt.Trace:
        """Why ``filter`` is True, False or Undefined for the entry at ``dn``, judged by
        this directory's own rules (see :func:`ldapnb.filters.trace`)."""
        f = self._filter(filter)
        ndn = self._ndn(dn)
        entry = self._store.entries.get(ndn)
        if entry is None:
            raise self._no_such(dn)
        return flt.trace(f, entry, self._ctx)

    def compare(self, dn: str, attribute: str, value: Value) -> bool:
        """True when the entry at ``dn`` has ``value`` in ``attribute`` (equality rule)."""
        ndn = self._ndn(dn)
        entry = self._store.entries.get(ndn)
        if entry is None:
            raise self._no_such(dn)
        result = flt.evaluate(flt.Equality(attribute, value), entry, self._ctx)
        if result is None:
            raise OperationError(
                f"cannot compare {attribute!r}: no equality rule or an invalid value",
                result="undefinedAttributeType" if not self._ctx.is_known(attribute)
                else "inappropriateMatching", code=18)
        return result

    # =========================================================================================
    # the rootDSE and the subschema entry
    # =========================================================================================
    @property
    def root_dse(self) -> Entry:
        return Entry("", {
            "objectClass": ["top", "OpenLDAProotDSE"],
            "namingContexts": list(self.naming_contexts),
            "subschemaSubentry": ["cn=Subschema"],
            "supportedLDAPVersion": ["3"],
            "supportedControl": list(SUPPORTED_CONTROLS),
            "supportedExtension": list(SUPPORTED_EXTENSIONS),
            "supportedFeatures": list(SUPPORTED_FEATURES),
            "supportedSASLMechanisms": list(SASL_MECHANISMS),
            "vendorName": ["ldapnb"],
            "vendorVersion": ["ldapnb embedded directory"],
        })

    @property
    def subschema(self) -> Entry:
        ats = sorted({a.to_definition() for a in self.schema.attribute_types.values()})
        ocs = sorted({c.to_definition() for c in self.schema.object_classes.values()})
        rules = sorted({f"( {r.oid} NAME '{r.name}' )" for r in matching.RULES.values()})
        return Entry("cn=Subschema", {
            "objectClass": ["top", "subentry", "subschema", "extensibleObject"],
            "cn": ["Subschema"],
            "attributeTypes": ats, "objectClasses": ocs, "matchingRules": rules,
        })

    # =========================================================================================
    # writing
    # =========================================================================================
    def add(self, entry: Entry, *, line: int | None = None, new_root: bool = True,
            trusted: bool = False) -> None:
        """Add ``entry``.  Its parent must exist, unless it starts a new naming context
        (allowed when ``new_root`` is True, as when loading; a server refuses it).

        ``trusted=True`` skips the schema checks (attribute names are still made canonical
        and values typed), like ``slapadd -q``: for data already checked, such as ldapnb's
        bundled fixtures, whose tests check every entry against the schema and a real slapd.

        Raises :class:`EntryAlreadyExists`, :class:`NoSuchEntry` (no parent),
        :class:`ObjectClassViolation` / :class:`SchemaError` (schema rules).
        """
        ndn = self._ndn(entry.dn)
        if not ndn:
            raise _root_dse_exists()
        if ndn in self._store.entries:
            raise EntryAlreadyExists(entry.dn)
        _check_rdn(entry.dn)
        parent: str | None = parent_ndn(ndn)
        if parent not in self._store.entries:  # "" (a top-level DN) is never stored
            self._check_new_root(entry, ndn, new_root)
            parent = None
        if not trusted:
            for name, vals in entry.items():
                if not vals:
                    raise OperationError(f"{entry.dn}: no values for attribute type {name!r}",
                                         result="protocolError", code=2)
            self._checker.user_attributes(entry)
        where = f" (line {line})" if line else ""
        checker = self._checker
        stored = checker.convert(entry, where) if trusted else checker.check(entry, ndn,
                                                                             where=where)
        self._put(ndn, stored, parent)

    def _check_new_root(self, entry: Entry, ndn: str, new_root: bool) -> None:
        """For an entry whose parent is absent: nothing when it may start a naming context,
        else :class:`NoSuchEntry`."""
        inside = any(dnlib.is_descendant(ndn, r) for r in self._store.roots)
        if inside:
            raise NoSuchEntry(entry.dn, matched=self._store.matched(ndn),
                              naming_contexts=self.naming_contexts,
                              message=f"cannot add {entry.dn!r}: its parent "
                              f"{dnlib.parent(entry.dn)!r} does not exist")
        if not new_root:  # slapd: no backend holds it
            raise OperationError(
                f"cannot add {entry.dn!r}: it is under none of this directory's naming "
                f"contexts ({', '.join(map(repr, self.naming_contexts)) or 'none'}), and a "
                "server does not create a new one by an add (no global superior knowledge)",
                result="unwillingToPerform", code=53)

    def delete(self, dn: str) -> None:
        """Delete a leaf entry; references to it in groups are removed (refint)."""
        ndn = self._ndn(dn)
        if ndn not in self._store.entries:
            raise self._no_such(dn)
        kids = self._store.children.get(ndn)
        if kids:
            raise NotAllowedOnNonLeaf(self._store.entries[ndn].dn, len(kids))
        self._remove(ndn)
        self._overlays.refint({ndn: None})

    def modify(self, dn: str, changes: Iterable[Change]) -> None:
        """Apply ``changes`` atomically: all of them, or none when one breaks a rule."""
        ndn = self._ndn(dn)
        old = self._store.entries.get(ndn)
        if old is None:
            raise self._no_such(dn)
        new = old.copy()
        for ch in changes:
            name = ch.attribute
            at = self.schema.attribute_type(name)
            if at is not None and at.no_user_modification:
                raise OperationError(f"{name}: no user modification allowed ({name!r} is "
                                     "maintained by the server)",
                                     result="constraintViolation", code=19)
            key = self._checker.canon_description(name)
            values = list(ch.values)
            if ch.op == "add" and not values:
                raise OperationError(f"{dn}: modify/add of {name!r} requires values",
                                     result="protocolError", code=2)
            if ch.op == "add":
                current = list(new.get(key, []))
                for v in values:
                    if self._checker.has_value(key, current, v):
                        raise OperationError(f"{dn}: {key} already has the value "
                                             f"{_shown(key, v)}",
                                             result="attributeOrValueExists", code=20)
                    current.append(v)
                new.set(key, current)
            elif ch.op == "delete":
                if key not in new:
                    raise OperationError(f"{dn}: no attribute {key!r} to delete",
                                         result="noSuchAttribute", code=16)
                if not values:
                    new.remove(key)
                else:
                    current = list(new[key])
                    for v in values:
                        hit = [c for c in current if self._checker.same_value(key, c, v)]
                        if not hit:
                            raise OperationError(f"{dn}: {key} has no value {_shown(key, v)} "
                                                 "to delete", result="noSuchAttribute", code=16)
                        current.remove(hit[0])
                    new.set(key, current)
            elif ch.op == "replace":
                new.set(key, values)
            elif ch.op == "increment":
                if key not in new or len(values) != 1:
                    raise OperationError(f"{dn}: increment needs an existing {key!r} and one "
                                         "value", result="constraintViolation", code=19)
                try:
                    new.set(key, [str(int(v) + int(values[0])) for v in new[key]])
                except ValueError as exc:
                    raise OperationError(f"{dn}: {key} is not an integer",
                                         result="constraintViolation", code=19) from exc
            else:
                raise OperationError(f"unknown modify operation {ch.op!r}", result="protocolError",
                                     code=2)
        checked = self._checker.check(new, ndn, where="")
        self._indexes.remove(ndn, old)
        self._store.entries[ndn] = checked
        self._indexes.add(ndn, checked)
        self._store.touch(ndn)
        self._overlays.touched(old, checked)

    def modify_dn(self, dn: str, new_rdn: str, *, delete_old_rdn: bool = True,
                  new_superior: str | None = None) -> str:
        """Rename (and maybe move) an entry and its subtree; references follow.  Returns the
        new DN."""
        ndn = self._ndn(dn)
        old = self._store.entries.get(ndn)
        if old is None:
            raise self._no_such(dn)
        parent_dn = new_superior if new_superior is not None else (dnlib.parent(old.dn) or "")
        nparent = self._ndn(parent_dn)
        if nparent and nparent not in self._store.entries:
            raise NoSuchEntry(parent_dn, matched=self._store.matched(nparent),
                              message=f"new superior {parent_dn!r} does not exist")
        if nparent and dnlib.is_descendant(nparent, ndn):
            raise OperationError(f"cannot move {old.dn!r} under its own subtree",
                                 result="unwillingToPerform", code=53)
        if any(v == "" for _a, v in dnlib.rdn_avas(new_rdn)):
            raise DnError("invalid new RDN: an RDN value cannot be empty", dn=new_rdn)
        new_dn = dnlib.join(new_rdn, parent_dn) if parent_dn else new_rdn
        new_ndn = self._ndn(new_dn)
        if new_ndn in self._store.entries and new_ndn != ndn:
            raise EntryAlreadyExists(new_dn)
        entry = old.copy()
        entry.dn = new_dn
        if delete_old_rdn:
            for attr, value in dnlib.rdn_avas(old.dn):
                key = self._checker.canon(attr)
                if key in entry:
                    keep = [v for v in entry[key] if not self._checker.same_value(key, v, value)]
                    entry.set(key, keep)
        for attr, value in dnlib.rdn_avas(new_dn):
            key = self._checker.canon(attr)
            if not self._checker.has_value(key, list(entry.get(key, [])), value):
                entry.add(key, [value])
        checked = self._checker.check(entry, new_ndn, where="")
        # move the subtree: old ndns in tree order, parents before children
        moved = self._store.subtree(ndn)
        old_len = dnlib.depth(old.dn)
        new_rdns = dnlib.parse(new_dn)
        renamed: dict[str, Entry] = {}
        for n in moved:
            if n == ndn:
                renamed[n] = checked
                continue
            e = self._store.entries[n].copy()
            rdns = dnlib.parse(e.dn)
            e.dn = dnlib.to_string(rdns[: len(rdns) - old_len] + new_rdns)
            renamed[n] = e
        metas = {n: (self._store.seqs[n], self._store.meta_of(n)) for n in moved}
        for n in reversed(moved):
            self._remove(n, keep_meta=True)
        for n in moved:
            e = renamed[n]
            nn = self._ndn(e.dn)
            self._put(nn, e, (dnlib.parent(nn) or None) if nn else None, meta=metas[n])
        renames: dict[str, str | None] = {n: renamed[n].dn for n in moved}
        self._overlays.refint(renames)
        return new_dn

    # =========================================================================================
    # binds (see ldapnb.sources._binds)
    # =========================================================================================
    def bind(self, dn: str = "", password: str | bytes = "") -> str:
        """Check a simple bind; returns the bound DN ("" for anonymous).

        ``dn`` may also be an AD logon name, ``user@realm`` or ``DOMAIN\\user``, resolved
        as AD resolves it (:func:`ldapnb.sources._binds.ad_bind_dn`).

        Raises :class:`BindError` for wrong credentials (the message never says whether the
        DN exists, as a server must not) and for an unauthenticated bind (a DN with an empty
        password, RFC 4513 5.1.2), which a careless client mistakes for success.
        """
        if dn and password and is_ad_name(dn):  # user@realm or DOMAIN\\user, as AD takes
            found = ad_bind_dn(dn, self.naming_contexts, self._find_entries)
            entry = self._store.entries.get(self._ndn(found)) if found else None
            return simple_bind(dn, password, entry)
        entry = self._store.entries.get(self._ndn(dn)) if dn and password else None
        return simple_bind(dn, password, entry)

    def _find_entries(self, base: str, f: flt.Filter) -> list[Entry]:
        return [self._store.entries[n] for n in self.search_dns(base, "sub", f)]

    def bind_sasl(self, mechanism: str, credentials: bytes | None) -> str:
        """SASL bind.  PLAIN (``authzid\\0authcid\\0password``, authcid being a uid or
        sAMAccountName) is offered; anything else is refused, never treated as anonymous."""
        authcid, password = sasl_plain(mechanism, credentials)
        hits = self.search_dns("", "sub", flt.Or((flt.Equality("uid", authcid),
                                                  flt.Equality("sAMAccountName", authcid))))
        if len(hits) != 1:
            from ..errors import BindError

            raise BindError(f"invalidCredentials: wrong user name or password for {authcid!r}",
                            code=49)
        return self.bind(self._store.entries[hits[0]].dn, password)

    # =========================================================================================
    # loading
    # =========================================================================================
    def load(self, records: Iterable[object], *, source: str = "<entries>",
             trusted: bool = False, owned: bool = False) -> int:
        """Add entries or LDIF content records, and apply LDIF change records, in order.

        Exports are not always written parents first (OpenLDAP's own test.ldif is not): each
        run of content records is added shallowest DN first, as a bulk loader must, before the
        next change record is applied.  ``owned``: nobody else holds the records' entries (an
        LDIF reader made them for this load, e.g. ``ldif.read_records(path, compact=True)``),
        so their value lists are stored as they are, not copied.
        """
        from ..ldif import Record

        pending = _Pending()
        paused = gc.isenabled()
        gc.disable()  # a bulk load makes millions of objects that live on: no cyclic garbage
        self._store.begin_load()
        start = self._applied
        try:
            return self._load(records, source, pending, Record, trusted, owned)
        except LdifError as exc:
            done = self._applied - start
            if not done:
                raise
            raise LdifError(f"{exc.reason} ({done} earlier record{'s' if done > 1 else ''} of "
                            "this load were applied and stay applied; none after this one)",
                            source=exc.source, line=exc.line) from exc
        finally:
            self._store.end_load()
            if paused:
                gc.enable()
                if self._applied - start >= BULK_LOAD:
                    # The collector never saw the load's objects: left alone, they are walked
                    # (young, then old generation) by whichever calls come next; the first
                    # d.graph() after 100k entries paid about 0.3 s for them.  One full
                    # collection now pays for them where they were made, and once (about
                    # 0.2 s; benchmarks/bench_graph.py, bench_store.py).
                    gc.collect()

    def _load(self, records: Iterable[object], source: str, pending: _Pending,
              Record: type[LdifRecord], trusted: bool, owned: bool) -> int:
        count = 0

        def flush() -> None:
            if type(self).add is EmbeddedDirectory.add:
                self._add_all(pending, source, trusted, owned)
            else:  # a subclass's add sees every entry
                for entry, line in pending.drain():
                    try:
                        self.add(entry, line=line, trusted=trusted)
                    except (SchemaError, NoSuchEntry, EntryAlreadyExists,
                            OperationError) as exc:
                        if line is None:
                            raise
                        raise LdifError(f"{exc}", source=source, line=line) from exc
            pending.clear()

        for rec in records:
            count += 1
            if isinstance(rec, Entry):
                dn = rec.dn  # depth(dn), its usual case written out
                pending.add(dn.count(",") + dn.count(";") + 1
                            if dn.strip() and "\\" not in dn and '"' not in dn
                            else depth(dn), rec, None)
            elif isinstance(rec, Record):
                if rec.changetype is None and rec.entry is not None:
                    pending.add(depth(rec.dn), rec.entry, rec.line)
                else:
                    flush()
                    try:
                        self.apply(rec, source=source)
                    except LdifError as exc:
                        if not self.lenient:
                            raise
                        self._skip(rec.line, rec.dn, exc.reason)
                    else:
                        self._applied += 1
            else:
                raise ArgumentError("each record to load", "an Entry or an ldif.Record", rec,
                                    show=False)
        flush()
        return count

    def _add_all(self, pending: _Pending, source: str, trusted: bool, owned: bool) -> None:
        """:meth:`add` for each pending entry in turn: the same steps, written out here
        because a bulk load spends a good share of its time on calls."""
        store, indexes, overlays = self._store, self._indexes, self._overlays
        entries, seqs, counter = store.entries, store.seqs, store.counter
        parents, children, roots = store.parent, store.children, store.roots
        check, convert, stamp_new = self._checker.check, self._checker.convert, store.stamp_new
        in_load = store.load_meta is not None  # then the entries share the load's time stamps
        # nothing in this loop builds an index or the memberOf back-links
        indexed, groups_indexed = bool(indexes), overlays.indexed
        # checked, the DNs in member values were normalised (and cached) before: the cache
        # answers for most entries; trusted, nothing has been, so the cache would only cost
        normalize = dnlib.normalize if not trusted else dnlib.normalize.__wrapped__
        # parent ndn -> (one string for it, its children map): each child's parent link is
        # that one string, not a string of its own
        family: dict[str, tuple[str, dict[str, None]]] = {}
        for entry, line in pending.drain():
            try:
                ndn = normalize(entry.dn)
                if ndn in entries:
                    raise EntryAlreadyExists(entry.dn)
                parent = parent_ndn(ndn) if ndn else None
                if parent and parent not in entries:
                    self._check_new_root(entry, ndn, True)
                    parent = None
                where = f" (line {line})" if line else ""
                stored = convert(entry, where, owned=owned) if trusted else \
                    check(entry, ndn, where=where, owned=owned)
                # self._put(ndn, stored, parent), written out
                entries[ndn] = stored
                seqs[ndn] = next(counter)
                if not in_load:
                    stamp_new(ndn)
                if parent:
                    kin = family.get(parent)
                    if kin is None:
                        kids = children.get(parent)
                        if kids is None:
                            kids = children[parent] = {}
                        kin = family[parent] = (parent, kids)
                    parents[ndn] = kin[0]
                    kin[1][ndn] = None
                else:
                    roots[ndn] = None
                if indexed:
                    indexes.add(ndn, stored)
                if groups_indexed:
                    overlays.touched(None, stored)
            except (SchemaError, NoSuchEntry, EntryAlreadyExists, OperationError,
                    DnError) as exc:
                if self.lenient:  # ldapadd -c: skip what a server refuses, load the rest
                    self._skip(line, entry.dn, str(exc))
                    continue
                if line is None:
                    raise
                raise LdifError(f"{exc}", source=source, line=line) from exc
            self._applied += 1

    def _skip(self, line: int | None, dn: str, reason: str) -> None:
        self.skipped.append((line, dn, reason))
        where = f" (line {line})" if line else ""
        self.warnings.append(f"{dn}{where}: record skipped, as a server refuses it "
                             f"(ldapadd -c): {reason}")

    def apply(self, rec: LdifRecord, *, source: str = "<ldif>") -> None:
        """Apply one LDIF record (content or change) with the server's rules.

        Raises
        ------
        LdifError
            The record cannot be applied (the server's reason, with the record's line), or a
            hand-made record lacks what its changetype needs (an entry, a newrdn).
        """
        kind = rec.changetype
        line = rec.line
        try:
            if kind in (None, "add"):
                if rec.entry is None:
                    raise LdifError(f"the {kind or 'content'} record for {rec.dn!r} has no "
                                    "entry to add", source=source, line=line)
                self.add(rec.entry, line=line)
            elif kind == "delete":
                self.delete(rec.dn)
            elif kind == "modify":
                self.modify(rec.dn, [Change(m.op, m.attribute, list(m.values))
                                     for m in rec.modifications])
            elif kind in ("modrdn", "moddn"):
                if rec.newrdn is None:
                    raise LdifError(f"the {kind} record for {rec.dn!r} needs a newrdn",
                                    source=source, line=line)
                self.modify_dn(rec.dn, rec.newrdn, delete_old_rdn=bool(rec.deleteoldrdn),
                               new_superior=rec.newsuperior)
            else:
                raise LdifError(f"unknown changetype {kind!r} for {rec.dn!r}: use add, delete, "
                                "modify, modrdn or moddn", source=source, line=line)
        except (SchemaError, NoSuchEntry, EntryAlreadyExists, NotAllowedOnNonLeaf,
                OperationError) as exc:
            raise LdifError(f"{exc}", source=source, line=line) from exc

    # =========================================================================================
    # internals: storage (see ldapnb.sources._store) and overlays (ldapnb.sources._overlays)
    # =========================================================================================
    def _ndn(self, dn: str) -> str:
        return dnlib.normalize(dn)

    def _no_such(self, dn: str) -> NoSuchEntry:
        return NoSuchEntry(dn, matched=self._store.matched(self._ndn(dn)),
                           naming_contexts=self.naming_contexts)

    def _put(self, ndn: str, entry: Entry, parent: str | None,
             meta: tuple[int, Meta] | None = None) -> None:
        self._store.put(ndn, entry, parent, meta)
        if self._indexes:
            self._indexes.add(ndn, entry)
        if self._overlays.indexed:
            self._overlays.touched(None, entry)

    def _remove(self, ndn: str, keep_meta: bool = False) -> None:
        entry = self._store.pop(ndn, keep_meta)
        self._indexes.remove(ndn, entry)
        self._overlays.touched(entry, None)

    def _replace(self, ndn: str, old: Entry, new: Entry) -> None:
        """Store ``new`` in place of ``old`` at ``ndn`` (a write: modifyTimestamp moves)."""
        self._indexes.remove(ndn, old)
        self._store.entries[ndn] = new
        self._indexes.add(ndn, new)
        self._store.touch(ndn)

    def member_of(self, dn: str) -> list[str]:
        """DNs of the groups that list ``dn`` as a member (what slapd's memberOf shows)."""
        return self._overlays.member_of(dn)

    def in_chain(self, entry: Entry, attr: str, target: str) -> bool | None:
        """AD's LDAP_MATCHING_RULE_IN_CHAIN: does following ``attr`` links from ``entry``
        reach ``target``?  (memberOf is followed through the computed back-links.)"""
        return self._overlays.in_chain(entry, attr, target)

    # =========================================================================================
    # internals: filters
    # =========================================================================================
    def _filter(self, f: str | flt.Filter) -> flt.Filter:
        parsed = flt.parse(f) if isinstance(f, str) else f
        self._ctx.ad = self._ad.active()
        return self._ad.rewrite(parsed) if self._ctx.ad else parsed

    def _by_sid(self, sid: bytes) -> str | None:
        """The normalised DN of the entry whose objectSid is ``sid`` (None if none)."""
        found = self._plan(flt.Equality("objectSid", sid))
        return min(found, key=self._store.seqs.__getitem__) if found else None

    def _compile(self, f: flt.Filter) -> object:
        key = flt.to_string(f)
        fn = self._compiled.get(key)
        if fn is None:
            fn = flt.compile(f, self._ctx)
            if len(self._compiled) > 256:
                self._compiled.clear()
            self._compiled[key] = fn
        return fn

    def _plan(self, f: flt.Filter) -> set[str] | None:
        """Candidate DNs from indexes, or None when the filter needs a scan."""
        if isinstance(f, flt.Equality) and ";" not in f.attr:
            attr = self._checker.canon(f.attr)
            if attr == "memberof":
                return self._overlays.members_of(f.value)
            if self._ctx.ad and attr == "name":
                return None
            if attr == "entrydn" or (self._ctx.ad and attr == "distinguishedname"):
                n = self._overlays.safe_ndn(f.value)
                return {n} if n in self._store.entries else set()
            if attr in _OPERATIONAL_LOWER or not self._ctx.is_known(attr):
                return None
            rule = self._checker.eq_rule(attr)
            if rule is None:
                return set()  # Undefined for every entry: nothing matches
            if attr not in self._indexes.eq:
                self._indexes.build(attr, self._store.entries)
            key = rule.normalize(f.value)
            return set(self._indexes.eq[attr].get(key, ())) if key is not None else set()
        if isinstance(f, flt.Substrings) and ";" not in f.attr:
            attr = self._checker.canon(f.attr)
            if attr in _OPERATIONAL_LOWER or not self._ctx.is_known(attr) or (
                    self._ctx.ad and attr in ("name", "distinguishedname")):
                return None  # computed values: scanned, as for equality and presence
            rule = self._checker.rule_for(attr, "substr")
            keys = rule.substring_keys(f.initial, f.any, f.final) if rule is not None else None
            if rule is None or keys is None:
                return set()  # Undefined for every entry: nothing matches
            return self._indexes.substring_candidates(attr, rule, keys, self._store.entries)
        if isinstance(f, flt.Present) and ";" not in f.attr:
            attr = self._checker.canon(f.attr)
            if attr == "objectclass" or attr in _OPERATIONAL_LOWER or (
                    self._ctx.ad and attr in ("name", "distinguishedname")):
                return None
            if attr not in self._indexes.present:
                self._indexes.build(attr, self._store.entries)
            return set(self._indexes.present[attr])
        if isinstance(f, flt.And):
            sets = [s for s in (self._plan(c) for c in f.children) if s is not None]
            if not sets:
                return None
            sets.sort(key=len)
            out = set(sets[0])
            for s in sets[1:]:
                out &= s
            return out
        if isinstance(f, flt.Or) and f.children:
            out = set()
            for c in f.children:
                found = self._plan(c)
                if found is None:
                    return None
                out |= found
            return out
        return None

    # =========================================================================================
    # internals: presenting entries
    # =========================================================================================
    def _selector(self, attributes: Sequence[str] | None,
                  scope: str | int = "base") -> tuple[bool, bool, set[str], bool]:
        """(all user attributes?, all operational?, named, no attributes '1.1'); a DC refuses
        tokenGroups beyond a base-scope search."""
        if not attributes:
            return True, False, set(), False
        names = {a.lower() for a in attributes}
        if names == {"1.1"}:
            return False, False, set(), True
        canon = {self._checker.canon(a) for a in names if a not in ("*", "+", "1.1")}
        if "tokengroups" in canon and scope_name(scope) != "base" and self._ad.active():
            raise OperationError(
                "tokenGroups is computed only for a base-scope search (as on a domain "
                "controller): search the one object with scope='base'",
                result="operationsError", code=1)
        return "*" in names, "+" in names, canon, False

    def _shown(self, select: tuple[bool, bool, set[str], bool]
               ) -> tuple[bool, list[str], list[str]]:
        """What a selection shows of a stored entry, besides nothing at all for ``1.1``:
        (every stored attribute?, else those whose type is named; the operational attributes
        computed for it; the attributes a DC computes when asked by name and not stored)."""
        all_user, all_op, named, _none = select
        operational = list(_OPERATIONAL) if all_op else [
            _OPERATIONAL_LOWER[n] for n in named if n in _OPERATIONAL_LOWER]
        ad = [_AD_COMPUTED[n] for n in named if n in _AD_COMPUTED]
        return all_user or (not named and not all_op), operational, (
            ad if ad and self._ad.active() else [])

    def _present_entry(self, ndn: str, entry: Entry | None,
                       select: tuple[bool, bool, set[str], bool],
                       types_only: bool = False) -> Entry:
        if entry is None:  # rootDSE or subschema
            entry = self.root_dse if ndn == "" else self.subschema
            all_user, all_op, named, none = select
            out = Entry(entry.dn)
            for name, values in entry.items():
                low = name.lower()
                at = self.schema.attribute_type(name)
                op = at is not None and at.operational
                if none:
                    continue
                if low in named or self._checker.canon(name) in named or all_op or (
                        (all_user or not named) and not op):
                    out.add(name, [] if types_only else values)
            return out
        named, none = select[2], select[3]
        if none:
            return Entry(entry.dn)
        every, operational, ad = self._shown(select)
        src = entry.attribute_lists()
        if every:
            keys: Iterable[str] = src
        else:  # the stored keys are canonical: canon() of a key is its type's
            canon = self._checker.canon
            keys = [k for k in src if canon(k) in named]
        out = Entry.from_lists(entry.dn,
                               {k: [] if types_only else src[k].copy() for k in keys},
                               {k: entry.name_of(k) for k in keys})
        for name in operational + [n for n in ad if n not in out]:
            values = self.operational(ndn, entry, name)
            if values:
                out.add(name, [] if types_only else values)
        return out

    def _column_pages(self, matches: list[str], select: tuple[bool, bool, set[str], bool],
                      columns: dict[str, str], size: int) -> Iterator[ColumnPage]:
        """The pages of ``columns`` (lower-case description -> spelling, see
        :func:`~ldapnb.sources.base.dense_columns`) for ``matches``: per row, the value list
        the entry :meth:`_present_entry` makes would hold under that description (``()`` for
        none), computed column by column.  A description holds a stored attribute of that
        very description when the selection shows its type, then (``out.add`` appends) the
        values computed for an operational attribute of that name, or for a DC-computed one
        when nothing is stored."""
        named, none = select[2], select[3]
        every, operational, ad = self._shown(select)
        canon = self._checker.canon
        computed: dict[str, tuple[str | None, bool]] = {} if none else {
            n.lower(): (n, False) for n in operational}
        if not none:
            computed.update({n.lower(): (n, True) for n in ad if n.lower() not in computed})
        # per column: (key, shows the stored values?, computed name or None, only if none stored?)
        plan = [(key, not none and (every or canon(key) in named),
                 *computed.get(key, (None, False))) for key in columns]
        stored = self._store.entries
        for start in range(0, len(matches), size or max(1, len(matches))):
            ndns = matches[start:start + size] if size else matches
            rows = [stored.get(n) for n in ndns]
            # the rootDSE or the subschema entry (a base search): as search(); tested by
            # identity, as ``None in rows`` would call Entry.__eq__ on every row
            if any(map(is_, rows, repeat(None))):
                yield from pages_from_entries(
                    [self._present_entry(n, e, select) for n, e in zip(ndns, rows, strict=True)],
                    0, list(columns.values()))
                continue
            # the stored lists of every shown column, read entry by entry (each entry's
            # attributes are read while they are at hand), then turned into columns
            found = cast("list[Entry]", rows)  # no None left
            shown = [key for key, shows, _name, _unless in plan if shows]
            fetched = dict(zip(shown, zip(*[list(map(e.attribute_lists().get, shown))
                                            for e in found], strict=True), strict=True)
                           ) if shown else {}
            nothing = [None] * len(rows)
            out: dict[str, list[Any]] = {}
            for key, shows, name, unless_stored in plan:
                if not shows and name is None:
                    out[columns[key]] = [()] * len(rows)
                elif name is None:
                    out[columns[key]] = [v.copy() if v is not None else ()
                                         for v in fetched[key]]
                else:
                    col: list[Any] = []
                    extras = self.operational_column(ndns, found, name)
                    held = fetched[key] if shows else nothing
                    if held.count(None) == len(held):  # nothing stored (memberOf): what the
                        # loop below makes of v None for every row, in one comprehension
                        out[columns[key]] = [extra if extra else () for extra in extras]
                        continue
                    for v, extra in zip(held, extras, strict=True):
                        values = v.copy() if v is not None else None
                        if extra and not (unless_stored and v is not None):
                            # operational_column makes new lists: no copy of them needed
                            values = extra if values is None else values + extra
                        col.append(values if values is not None else ())
                    out[columns[key]] = col
            yield ColumnPage([e.dn for e in found], out, keys=ndns)  # the store's keys

    def operational_column(self, ndns: Sequence[str], entries: Sequence[Entry],
                           name: str) -> list[list[Value]]:
        """:meth:`operational` of each stored entry (``entries[i]``, read from the store at
        ``ndns[i]``), memberOf in one pass over the back-links."""
        if name.lower() == "memberof":
            return cast("list[list[Value]]", self._overlays.member_of_ndns(ndns))
        return [self.operational(n, e, name) for n, e in zip(ndns, entries, strict=True)]

    def operational(self, ndn: str, entry: Entry, name: str) -> list[Value]:
        """The values of an operational attribute the directory computes for ``entry``."""
        low = name.lower()
        if low == "memberof":
            if self._store.entries.get(ndn) is entry:  # a stored entry: ndn is its key
                return list[Value](self._overlays.member_of_ndns((ndn,))[0])
            return list(self.member_of(entry.dn))
        if low == "tokengroups":
            return self._ad.token_groups(ndn, entry)
        if low == "distinguishedname":
            return [entry.dn]
        meta = self._store.meta_of(ndn) if ndn in self._store.seqs else None
        if low == "entrydn":
            return [entry.dn]
        if low == "entryuuid":
            return [str(uuid.uuid5(_UUID_NS, ndn))]
        if low == "hassubordinates":
            return ["TRUE" if self._store.children.get(ndn) else "FALSE"]
        if low == "subschemasubentry":
            return ["cn=Subschema"]
        if low == "structuralobjectclass":
            sc = self._checker.structural(entry)
            return [sc] if sc else []
        if meta is None:
            return []
        stamps: dict[str, list[Value]] = {
            "createtimestamp": [meta.created], "modifytimestamp": [meta.modified],
            "creatorsname": [meta.creator], "modifiersname": [meta.modifier]}
        return stamps.get(low, [])


class _Context:
    """How the embedded directory answers the filter evaluator's questions."""

    def __init__(self, d: EmbeddedDirectory, checker: Checker, overlays: Overlays):
        self.d = d
        self.checker = checker
        self.rule_for = checker.rule_for
        self.is_known = checker.is_known
        self.in_chain = overlays.in_chain
        #: read as AD (set per search): distinguishedName is the DN, name the RDN's value
        self.ad = False
        self._plans: dict[str, tuple[str, tuple[str, ...], frozenset[str]]] = {}

    def presence(self, attr: str) -> Callable[[Entry], bool] | None:
        """``(objectClass=*)`` (every search's default filter): :meth:`values` gives an
        entry's object classes with their superclasses, which exist exactly when it stores
        any object class; so the test is whether it stores one, without expanding them."""
        canon, _names, wanted = self._plan(attr)
        if canon == "objectclass" and not wanted:
            return _stores_object_class
        return None

    def _plan(self, attr: str) -> tuple[str, tuple[str, ...], frozenset[str]]:
        plan = self._plans.get(attr)
        if plan is None:
            base, _, options = attr.partition(";")
            canon = self.checker.canon(base)
            wanted = frozenset(o.lower() for o in options.split(";")) if options else frozenset()
            subtypes = self.checker.schema.subtypes(canon)
            plan = self._plans[attr] = (canon, (canon, *subtypes), wanted)
        return plan

    def values(self, entry: Entry, attr: str) -> list[Value]:
        plan = self._plans.get(attr) or self._plan(attr)
        canon, names, wanted = plan
        if self.ad and not wanted and canon in ("distinguishedname", "name"):
            if canon in entry:
                return list(entry[canon])
            return [entry.dn] if canon == "distinguishedname" else ADReader.rdn_value(entry)
        if canon in _OPERATIONAL_LOWER and canon not in entry:
            if not entry.dn and canon != "memberof":
                return []
            return self.d.operational(dnlib.normalize(entry.dn), entry, canon)
        if canon == "objectclass" and not wanted:
            return self.checker.object_classes(entry)
        if len(names) == 1 and not wanted:
            out = []
            for _desc, values in entry.with_options(canon):
                out.extend(values)
            return out
        out = []
        for name in names:
            for desc, values in entry.with_options(name):
                if wanted:
                    have = {o.lower() for o in desc.split(";")[1:]}
                    if not wanted <= have:
                        continue
                out.extend(values)
        return out


def _stores_object_class(entry: Entry) -> bool:
    """Whether ``entry`` stores an objectClass value (see :meth:`_Context.presence`)."""
    return bool(entry.attribute_lists().get("objectclass"))


def _root_dse_exists() -> EntryAlreadyExists:
    exc = EntryAlreadyExists("")
    exc.args = ("the empty DN names the rootDSE, which always exists: no entry can be added "
                "there (root DSE already exists)",)
    return exc


def _check_rdn(dn: str) -> None:
    """An RDN value may not be empty (slapd: invalidDNSyntax)."""
    if "=," in dn or "=+" in dn or dn.endswith("=") or "= " in dn:
        if any(v == "" for _a, v in dnlib.rdn_avas(dn)):
            raise DnError("invalid DN: an RDN value cannot be empty", dn=dn)


def _shown(attribute: str, value: object) -> str:
    """A value for a message: masked for a secret attribute."""
    from ..secrets import MASK, is_secret

    return repr(MASK) if is_secret(attribute) else repr(value)
