"""The embedded directory: an LDAP server's semantics, in memory, with no server.

It is what ``Directory.embedded()`` reads and what ``Directory.connection()`` lets ordinary
ldap3 code talk to.  It exists because ldap3's MOCK_SYNC answers some questions wrongly (see
RECIPES.md); a teaching and audit kit cannot teach wrong answers.  What it does, as slapd does:

- base / one / sub scopes, with the base itself in ``base`` and ``sub`` only;
- filters evaluated by :mod:`ldapnb.filters` with the schema's matching rules and
  three-valued logic; AD's in-chain (1.2.840.113556.1.4.1941) and bitwise rules;
- equality and presence indexes, built for an attribute on its first use and kept up to date
  by writes, so such searches do not scan every entry;
- ``memberOf`` computed at search time from groupOfNames/groupOfUniqueNames/AD ``group``
  members, like slapd's dynlist/memberof overlays (operational: ask for it by name or ``+``);
- a rootDSE and a subschema entry built from the schema it checks entries against;
- schema checks on add and modify (MUST, allowed attributes, SINGLE-VALUE, value syntax,
  naming attributes), the server's rules for delete (notAllowedOnNonLeaf) and rename, and
  references in other entries updated on rename and delete, like slapd's refint overlay;
- simple binds against cleartext or hashed userPassword values ({SSHA}, {SHA}, {CRYPT} and
  the other RFC 2307 schemes, through passlib), SASL PLAIN; any other mechanism is refused.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import gc
import itertools
import operator
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import dn as dnlib
from .. import filters as flt
from .. import matching
from ..entry import Entry, SharedNames, Value
from ..errors import (
    BindError,
    EntryAlreadyExists,
    LdifError,
    LimitExceeded,
    NoSuchEntry,
    NotAllowedOnNonLeaf,
    ObjectClassViolation,
    OperationError,
    SchemaError,
)
from ..schema import Schema, default_schema
from .base import DEFAULT_PAGE_SIZE, ColumnPage, pages_from_entries, scope_name

if TYPE_CHECKING:
    import ldap3

    from ..ldif import Record as LdifRecord

__all__ = ["EmbeddedDirectory", "Change"]

#: Equality and presence indexes are built for an attribute the first time a filter needs
#: one (one pass over the entries), then kept up to date by every write.

#: group object class -> the attribute that lists its members (what memberOf is computed from)
GROUP_MEMBER_ATTRIBUTES = {"groupofnames": "member", "groupofuniquenames": "uniqueMember",
                           "group": "member"}

#: DN-valued attributes kept pointing at the right entries on rename and delete (refint)
REFERENCE_ATTRIBUTES = ("member", "uniqueMember", "manager", "secretary", "seeAlso", "owner")

IN_CHAIN = "1.2.840.113556.1.4.1941"

SUPPORTED_CONTROLS = (
    "1.2.840.113556.1.4.319",   # simple paged results (RFC 2696)
    "1.3.6.1.4.1.4203.1.10.1",  # subentries
    "2.16.840.1.113730.3.4.2",  # manageDSAit
)
SUPPORTED_EXTENSIONS = ("1.3.6.1.4.1.4203.1.11.3",)  # Who am I? (RFC 4532)
SASL_MECHANISMS = ("PLAIN",)

_OPERATIONAL = ("entryDN", "entryUUID", "hasSubordinates", "subschemaSubentry",
                "structuralObjectClass", "createTimestamp", "modifyTimestamp",
                "creatorsName", "modifiersName", "memberOf")
_OPERATIONAL_LOWER = {n.lower(): n for n in _OPERATIONAL}
_UUID_NS = uuid.UUID("6ba7b812-9dad-11d1-80b4-00c04fd430c8")  # RFC 4122 X.500 namespace


@dataclass
class Change:
    """One modification: ``op`` is "add", "delete", "replace" or "increment"."""

    op: str
    attribute: str
    values: list[Value] = field(default_factory=list)


@dataclass(frozen=True)
class _ClassInfo:
    known: list[str]
    problems: list[str]
    extensible: bool
    allowed: frozenset[str]
    must: frozenset[str]
    expanded: list[Value]


@dataclass(frozen=True)
class _AttrInfo:
    key: str                 # canonical description, options kept: "cn;lang-fr"
    key_lower: str
    canon: str               # canonical type name, lower-cased: "cn"
    name: str                # canonical type name: "cn"
    at: object               # the AttributeType, or None when unknown (lenient)
    operational: bool
    binary: bool
    single_value: bool
    rule: matching.MatchingRule | None
    syntax_checked: bool


class _FastPlan:
    """What checking and converting entries with one exact list of attribute names needs,
    worked out once, so the per-entry work left is the values' own.  Only for lists of known
    attribute types that stay distinct once made canonical; any entry the quick checks cannot
    pass takes the full path, which finds and words the problem."""

    __slots__ = ("infos", "sources", "same", "keys", "names", "options", "text", "binary",
                 "oc", "checked", "integers", "n_integers", "not_integers", "others",
                 "others_values", "by_classes", "classes", "naming")

    def __init__(self, sources: tuple[str, ...], infos: list[_AttrInfo]):
        self.infos = infos
        self.keys = tuple(a.key_lower for a in infos)
        self.sources = _getter(sources)         # the entry's value lists, in plan order
        # the entry's keys are already the canonical ones: its value lists are in plan order
        # (the plan's key strings are used all the same: shared, found by identity)
        self.same = sources == self.keys
        self.names = SharedNames((a.key_lower, a.key) for a in infos)  # copied on change
        self.options = sum(";" in k for k in self.keys)
        self.binary = tuple(a.key_lower for a in infos if a.binary)
        self.text = _getter(tuple(a.key_lower for a in infos if not a.binary))
        self.oc = "objectclass" in self.keys
        # syntax-checked attributes: (key, a normalizer raising or returning None when the
        # value is not valid, single-valued?)
        self.checked = tuple((a.key_lower, _quick_normalizer(a.rule), a.single_value)  # type: ignore[arg-type]
                             for a in infos if a.syntax_checked)
        ints = tuple(a.key_lower for a in infos
                     if a.syntax_checked and a.rule.name == "integerMatch")  # type: ignore[union-attr]
        self.integers = _getter(ints) if ints else None
        self.n_integers = len(ints) - 1  # separators when they are joined
        self.not_integers = tuple(c for c in self.checked if c[0] not in ints)
        others = tuple(a for a in infos
                       if not a.syntax_checked and a.key_lower != "objectclass")
        self.others = tuple((a.key_lower, a) for a in others)
        self.others_values = _getter(tuple(a.key_lower for a in others))
        self.by_classes: dict[tuple[str, ...], bool] = {}  # objectClass values -> all fine?
        self.classes: list[str] | None = None  # the last fine objectClass values seen
        # the last plain RDN's prefix ("uid="), canonical key, equality rule, text rule?
        self.naming: tuple[str, str, matching.MatchingRule | None, bool] | None = None


def _getter(indices: Sequence[Any]) -> Callable[[Any], tuple[Any, ...]]:
    """A function picking the items at ``indices`` out of a sequence or mapping, as a tuple
    (``operator.itemgetter`` when there are two or more)."""
    if len(indices) > 1:
        return operator.itemgetter(*indices)
    if indices:
        i = indices[0]
        return lambda seq: (seq[i],)
    return lambda seq: ()


def _quick_normalizer(rule: matching.MatchingRule) -> Callable[[str], object]:
    """``rule``'s normalizer for str values, quicker for the common rules; it may raise
    ValueError/TypeError/OverflowError where the rule's own returns None."""
    if rule.name == "distinguishedNameMatch":
        return dnlib.normalize  # DnError (a ValueError) for an invalid DN
    if rule.name == "integerMatch":
        slow = rule._normalize

        def integer(v: str) -> object:
            # digits without a leading zero: the RFC 4517 form, its own key
            if v.isdigit() and v.isascii() and (v[0] != "0" or len(v) == 1):
                return int(v)
            return slow(v)
        return integer
    return rule._normalize


class _Meta:
    """An entry's operational time stamps and names.  Never changed in place: the entries
    of one load share one; a write gives the entry a new one (:meth:`modified_now`)."""

    __slots__ = ("created", "modified", "creator", "modifier")

    def __init__(self, when: str, who: str):
        self.created, self.modified, self.creator, self.modifier = when, when, who, who

    def modified_now(self) -> _Meta:
        new = _Meta(self.created, self.creator)
        new.modified, new.modifier = _now(), self.modifier
        return new


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y%m%d%H%M%SZ")


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
        self.lenient = lenient
        self.warnings: list[str] = []
        self._entries: dict[str, Entry] = {}          # ndn -> entry (canonical attribute names)
        self._meta: dict[str, _Meta] = {}            # entries not added by a load
        self._loads: list[tuple[int, _Meta]] = []     # each load's first seq and meta
        self._seqs: dict[str, int] = {}               # ndn -> order of addition
        self._children: dict[str, dict[str, None]] = {}  # parent ndn -> ordered child ndns
        self._parent: dict[str, str] = {}
        self._roots: dict[str, None] = {}
        self._seq = itertools.count()
        self._eq: dict[str, dict[object, set[str]]] = {}   # attr -> normalised value -> ndns
        self._present: dict[str, set[str]] = {}            # attr -> ndns having it
        self._unknown_types: dict[str, str] = {}           # lenient mode: lower -> spelling
        self._groups_of: dict[str, dict[str, None]] | None = None  # member ndn -> group ndns
        self._paged: dict[bytes, Iterator[Entry]] = {}
        self._canons: dict[str, str] = {}
        self._load_meta: _Meta | None = None  # what the entries of a load share
        self._class_infos: dict[tuple[str, ...], _ClassInfo] = {}
        self._attr_infos: dict[str, _AttrInfo] = {}
        self._convert_plans: dict[tuple[str, ...], list[tuple[str, str, str, bool]]] = {}
        self._fast_plans: dict[tuple[str, ...], _FastPlan | None] = {}
        self._naming: dict[str, tuple[str, matching.MatchingRule | None, bool]] = {}
        self._ctx = _Context(self)
        self._compiled: dict[str, object] = {}

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
        return len(self._entries)

    def __contains__(self, dn: object) -> bool:
        return isinstance(dn, str) and self._ndn(dn) in self._entries

    @property
    def naming_contexts(self) -> tuple[str, ...]:
        return tuple(self._entries[n].dn for n in self._roots)

    def get(self, dn: str, attributes: Sequence[str] | None = None) -> Entry:
        """The entry at ``dn`` (a copy), or :class:`NoSuchEntry`."""
        ndn = self._ndn(dn)
        entry = self._entries.get(ndn)
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
        return self._present_entry(ndn, self._entries.get(ndn), self._selector(attributes),
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
        matches = self.search_dns(base, scope, filter, size_limit=size_limit)
        select = self._selector(attributes)
        return (self._present_entry(n, self._entries.get(n), select, types_only)
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
        page."""
        entries = self.search(base, scope, filter, attributes, size_limit=size_limit)
        return pages_from_entries(entries, DEFAULT_PAGE_SIZE if page_size is None
                                  else page_size)

    def search_dns(
        self, base: str, scope: str | int, filter: str | flt.Filter, *, size_limit: int = 0
    ) -> list[str]:
        """Normalised DNs of the matching entries, in directory order (see :meth:`search`)."""
        scope = scope_name(scope)
        f = self._filter(filter)
        nbase = self._ndn(base)
        if nbase == "" and scope == "base":
            return [""] if flt.evaluate(f, self.root_dse, self._ctx) else []
        if nbase not in self._entries:
            if nbase == "cn=subschema" and scope == "base":
                return [nbase] if flt.evaluate(f, self.subschema, self._ctx) else []
            if nbase != "":
                raise self._no_such(base)
        match = self._compile(f)
        candidates = self._plan(f)
        if scope == "base":
            pool: Iterable[str] = [nbase]
        elif candidates is not None:
            pool = sorted((n for n in candidates if self._in_scope(n, nbase, scope)),
                          key=self._seqs.__getitem__)
        elif scope == "one":
            pool = list(self._children.get(nbase, ())) if nbase else list(self._roots)
        else:
            pool = self._subtree(nbase)
        out = []
        for ndn in pool:
            entry = self._entries.get(ndn)
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
        entry = self._entries.get(ndn)
        if entry is None:
            raise self._no_such(dn)
        return flt.trace(f, entry, self._ctx)

    def compare(self, dn: str, attribute: str, value: Value) -> bool:
        """True when the entry at ``dn`` has ``value`` in ``attribute`` (equality rule)."""
        ndn = self._ndn(dn)
        entry = self._entries.get(ndn)
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
            "supportedFeatures": ["1.3.6.1.1.14", "1.3.6.1.4.1.4203.1.5.1",
                                  "1.3.6.1.4.1.4203.1.5.2"],
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
        if ndn in self._entries:
            raise EntryAlreadyExists(entry.dn)
        parent = _parent_ndn(ndn) if ndn else None
        if parent and parent not in self._entries:
            self._check_new_root(entry, ndn, new_root)
            parent = None
        where = f" (line {line})" if line else ""
        stored = self._convert(entry, where) if trusted else self._check(entry, ndn, where=where)
        self._store(ndn, stored, parent)

    def _check_new_root(self, entry: Entry, ndn: str, new_root: bool) -> None:
        """For an entry whose parent is absent: nothing when it may start a naming context,
        else :class:`NoSuchEntry`."""
        inside = any(dnlib.is_descendant(ndn, r) for r in self._roots)
        if inside or not new_root:
            raise NoSuchEntry(entry.dn, matched=self._matched(ndn),
                              naming_contexts=self.naming_contexts,
                              message=f"cannot add {entry.dn!r}: its parent "
                              f"{dnlib.parent(entry.dn)!r} does not exist")

    def delete(self, dn: str) -> None:
        """Delete a leaf entry; references to it in groups are removed (refint)."""
        ndn = self._ndn(dn)
        if ndn not in self._entries:
            raise self._no_such(dn)
        kids = self._children.get(ndn)
        if kids:
            raise NotAllowedOnNonLeaf(self._entries[ndn].dn, len(kids))
        self._unstore(ndn)
        self._refint({ndn: None})

    def modify(self, dn: str, changes: Iterable[Change]) -> None:
        """Apply ``changes`` atomically: all of them, or none when one breaks a rule."""
        ndn = self._ndn(dn)
        old = self._entries.get(ndn)
        if old is None:
            raise self._no_such(dn)
        new = old.copy()
        for ch in changes:
            name = ch.attribute
            at = self.schema.attribute_type(name)
            if at is not None and at.no_user_modification:
                raise OperationError(f"{name!r} is maintained by the server and cannot be "
                                     "modified", result="constraintViolation", code=19)
            key = self._canon_description(name)
            values = list(ch.values)
            if ch.op == "add":
                current = list(new.get(key, []))
                for v in values:
                    if self._has_value(key, current, v):
                        raise OperationError(f"{dn}: {key} already has the value {v!r}",
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
                        hit = [c for c in current if self._same_value(key, c, v)]
                        if not hit:
                            raise OperationError(f"{dn}: {key} has no value {v!r} to delete",
                                                 result="noSuchAttribute", code=16)
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
        checked = self._check(new, ndn, where="")
        self._unindex(ndn, old)
        self._entries[ndn] = checked
        self._index_entry(ndn, checked)
        self._meta[ndn] = self._meta_of(ndn).modified_now()
        self._touched(old, checked)

    def modify_dn(self, dn: str, new_rdn: str, *, delete_old_rdn: bool = True,
                  new_superior: str | None = None) -> str:
        """Rename (and maybe move) an entry and its subtree; references follow.  Returns the
        new DN."""
        ndn = self._ndn(dn)
        old = self._entries.get(ndn)
        if old is None:
            raise self._no_such(dn)
        parent_dn = new_superior if new_superior is not None else (dnlib.parent(old.dn) or "")
        nparent = self._ndn(parent_dn)
        if nparent and nparent not in self._entries:
            raise NoSuchEntry(parent_dn, matched=self._matched(nparent),
                              message=f"new superior {parent_dn!r} does not exist")
        if nparent and dnlib.is_descendant(nparent, ndn):
            raise OperationError(f"cannot move {old.dn!r} under its own subtree",
                                 result="unwillingToPerform", code=53)
        new_dn = dnlib.join(new_rdn, parent_dn) if parent_dn else new_rdn
        new_ndn = self._ndn(new_dn)
        if new_ndn in self._entries and new_ndn != ndn:
            raise EntryAlreadyExists(new_dn)
        entry = old.copy()
        entry.dn = new_dn
        if delete_old_rdn:
            for attr, value in dnlib.rdn_avas(old.dn):
                key = self._canon(attr)
                if key in entry:
                    keep = [v for v in entry[key] if not self._same_value(key, v, value)]
                    entry.set(key, keep)
        for attr, value in dnlib.rdn_avas(new_dn):
            key = self._canon(attr)
            if not self._has_value(key, list(entry.get(key, [])), value):
                entry.add(key, [value])
        checked = self._check(entry, new_ndn, where="")
        # move the subtree: old ndns in tree order, parents before children
        moved = self._subtree(ndn)
        old_len = dnlib.depth(old.dn)
        new_rdns = dnlib.parse(new_dn)
        renamed: dict[str, Entry] = {}
        for n in moved:
            if n == ndn:
                renamed[n] = checked
                continue
            e = self._entries[n].copy()
            rdns = dnlib.parse(e.dn)
            e.dn = dnlib.to_string(rdns[: len(rdns) - old_len] + new_rdns)
            renamed[n] = e
        metas = {n: (self._seqs[n], self._meta_of(n)) for n in moved}
        for n in reversed(moved):
            self._unstore(n, keep_meta=True)
        for n in moved:
            e = renamed[n]
            nn = self._ndn(e.dn)
            self._store(nn, e, (dnlib.parent(nn) or None) if nn else None, meta=metas[n])
        renames: dict[str, str | None] = {n: renamed[n].dn for n in moved}
        self._refint(renames)
        return new_dn

    # =========================================================================================
    # binds
    # =========================================================================================
    def bind(self, dn: str = "", password: str | bytes = "") -> str:
        """Check a simple bind; returns the bound DN ("" for anonymous).

        Raises :class:`BindError` for wrong credentials (the message never says whether the
        DN exists, as a server must not) and for an unauthenticated bind (a DN with an empty
        password, RFC 4513 5.1.2), which a careless client mistakes for success.
        """
        if not dn and not password:
            return ""
        if dn and not password:
            raise BindError(
                f"unauthenticated bind refused for {dn!r}: a DN with an empty password is "
                "not a login (RFC 4513 5.1.2); slapd answers unwillingToPerform", code=53)
        pw = password.decode("utf-8") if isinstance(password, bytes) else password
        ndn = self._ndn(dn)
        entry = self._entries.get(ndn)
        if entry is not None:
            from ..passwords import verify

            for stored in entry.get("userPassword", []):
                if verify(pw, stored):
                    return entry.dn
        raise BindError(f"invalidCredentials: wrong DN or password for {dn!r}", code=49)

    def bind_sasl(self, mechanism: str, credentials: bytes | None) -> str:
        """SASL bind.  PLAIN (``authzid\\0authcid\\0password``, authcid being a uid or
        sAMAccountName) is offered; anything else is refused, never treated as anonymous."""
        if mechanism.upper() not in SASL_MECHANISMS:
            raise BindError(
                f"authMethodNotSupported: SASL mechanism {mechanism!r} is not offered by the "
                f"embedded directory (it offers {', '.join(SASL_MECHANISMS)}); a real slapd "
                "offers what its Cyrus SASL set-up provides", code=7)
        parts = (credentials or b"").split(b"\0")
        if len(parts) != 3:
            raise BindError("SASL PLAIN credentials must be authzid\\0authcid\\0password",
                            code=49)
        authcid, password = parts[1].decode("utf-8", "replace"), parts[2]
        hits = self.search_dns("", "sub", flt.Or((flt.Equality("uid", authcid),
                                                  flt.Equality("sAMAccountName", authcid))))
        if len(hits) != 1:
            raise BindError(f"invalidCredentials: wrong user name or password for {authcid!r}",
                            code=49)
        return self.bind(self._entries[hits[0]].dn, password)

    # =========================================================================================
    # loading
    # =========================================================================================
    def load(self, records: Iterable[object], *, source: str = "<entries>",
             trusted: bool = False) -> int:
        """Add entries or LDIF content records, and apply LDIF change records, in order.

        Exports are not always written parents first (OpenLDAP's own test.ldif is not): each
        run of content records is added shallowest DN first, as a bulk loader must, before the
        next change record is applied.
        """
        from ..ldif import Record

        pending: list[tuple[int, int, Entry, int | None]] = []
        paused = gc.isenabled()
        gc.disable()  # a bulk load makes millions of objects that live on: no cyclic garbage
        self._load_meta = _Meta(_now(), "cn=ldapnb")
        self._loads.append((next(self._seq), self._load_meta))
        try:
            return self._load(records, source, pending, Record, trusted)
        finally:
            self._load_meta = None
            if paused:
                gc.enable()

    def _load(self, records: Iterable[object], source: str,
              pending: list[tuple[int, int, Entry, int | None]], Record: type[LdifRecord],
              trusted: bool) -> int:
        count = 0

        def flush() -> None:
            pending.sort(key=_DEPTH)  # stable: same depth, file order
            if type(self).add is EmbeddedDirectory.add:
                self._add_all(pending, source, trusted)
            else:  # a subclass's add sees every entry
                for _depth, _seq, entry, line in pending:
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
                dn = rec.dn  # _depth(dn), its usual case written out
                pending.append((dn.count(",") + dn.count(";") + 1
                                if dn.strip() and "\\" not in dn and '"' not in dn
                                else _depth(dn), count, rec, None))
            elif isinstance(rec, Record):
                if rec.changetype is None and rec.entry is not None:
                    pending.append((_depth(rec.dn), count, rec.entry, rec.line))
                else:
                    flush()
                    self.apply(rec, source=source)
            else:
                raise TypeError(f"cannot load {type(rec).__name__}: give Entry or ldif.Record")
        flush()
        return count

    def _add_all(self, pending: list[tuple[int, int, Entry, int | None]], source: str,
                 trusted: bool) -> None:
        """:meth:`add` for each pending entry in turn: the same steps, written out here
        because a bulk load spends a good share of its time on calls."""
        entries, seqs, counter = self._entries, self._seqs, self._seq
        parents, children = self._parent, self._children
        plans: dict[tuple[str, ...], Any] = self._fast_plans
        # checked, the DNs in member values were normalised (and cached) before: the cache
        # answers for most entries; trusted, nothing has been, so the cache would only cost
        normalize = dnlib.normalize if not trusted else dnlib.normalize.__wrapped__
        for _depth, _seq, entry, line in pending:
            try:
                ndn = normalize(entry.dn)
                if ndn in entries:
                    raise EntryAlreadyExists(entry.dn)
                parent = _parent_ndn(ndn) if ndn else None
                if parent and parent not in entries:
                    self._check_new_root(entry, ndn, True)
                    parent = None
                where = f" (line {line})" if line else ""
                if trusted:
                    stored = self._convert(entry, where)
                else:  # self._check, written out
                    plan = plans.get(tuple(entry._names.values()), _NO_PLAN)
                    if plan is _NO_PLAN:
                        plan = self._fast_plan(entry)
                    quick = self._quick_check(entry, ndn, plan) if plan is not None else None
                    stored = quick if quick is not None else \
                        self._full_check(entry, ndn, where=where)
                # self._store(ndn, stored, parent), written out
                entries[ndn] = stored
                seqs[ndn] = next(counter)
                if self._load_meta is None:
                    self._meta[ndn] = _Meta(_now(), "cn=ldapnb")
                if parent:
                    parents[ndn] = parent
                    kids = children.get(parent)
                    if kids is None:
                        children[parent] = {ndn: None}
                    else:
                        kids[ndn] = None
                else:
                    self._roots[ndn] = None
                if self._eq:
                    self._index_entry(ndn, stored)
                if self._groups_of is not None:
                    self._touched(None, stored)
            except (SchemaError, NoSuchEntry, EntryAlreadyExists, OperationError) as exc:
                if line is None:
                    raise
                raise LdifError(f"{exc}", source=source, line=line) from exc

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
    # internals: storage and indexes
    # =========================================================================================
    def _ndn(self, dn: str) -> str:
        return dnlib.normalize(dn)

    def _no_such(self, dn: str) -> NoSuchEntry:
        return NoSuchEntry(dn, matched=self._matched(self._ndn(dn)),
                           naming_contexts=self.naming_contexts)

    def _matched(self, ndn: str) -> str | None:
        p = dnlib.parent(ndn) if ndn else None
        while p:
            if p in self._entries:
                return self._entries[p].dn
            p = dnlib.parent(p)
        return None

    def _store(self, ndn: str, entry: Entry, parent: str | None,
               meta: tuple[int, _Meta] | None = None) -> None:
        self._entries[ndn] = entry
        if meta is None:
            self._seqs[ndn] = next(self._seq)
            if self._load_meta is None:  # else _meta_of finds the load's
                self._meta[ndn] = _Meta(_now(), "cn=ldapnb")
        else:
            self._seqs[ndn], self._meta[ndn] = meta
        if parent:
            self._parent[ndn] = parent
            kids = self._children.get(parent)
            if kids is None:
                self._children[parent] = {ndn: None}
            else:
                kids[ndn] = None
        else:
            self._roots[ndn] = None
        if self._eq:
            self._index_entry(ndn, entry)
        if self._groups_of is not None:
            self._touched(None, entry)

    def _meta_of(self, ndn: str) -> _Meta:
        """A stored entry's time stamps: its own once written to (or when added outside a
        load), else those of the load that added it (the last load begun before its seq)."""
        meta = self._meta.get(ndn)
        if meta is None:
            seq = self._seqs[ndn]
            meta = self._loads[bisect.bisect_right(self._loads, seq, key=_FIRST) - 1][1]
        return meta

    def _unstore(self, ndn: str, keep_meta: bool = False) -> None:
        entry = self._entries.pop(ndn)
        self._unindex(ndn, entry)
        if not keep_meta:
            self._meta.pop(ndn, None)
            self._seqs.pop(ndn, None)
        parent = self._parent.pop(ndn, None)
        if parent is not None:
            kids = self._children.get(parent)
            if kids is not None:
                kids.pop(ndn, None)
                if not kids:
                    del self._children[parent]
        self._roots.pop(ndn, None)
        self._touched(entry, None)

    def _touched(self, old: Entry | None, new: Entry | None) -> None:
        """Forget derived data that the change may have made stale."""
        for e in (old, new):
            if e is not None and ("member" in e or "uniqueMember" in e):
                self._groups_of = None
                return

    def _subtree(self, nbase: str) -> list[str]:
        """``nbase`` and every entry below it, parents before children ("" = everything)."""
        out: list[str] = []
        stack = [nbase] if nbase else list(reversed(self._roots))
        while stack:
            n = stack.pop()
            out.append(n)
            kids = self._children.get(n)
            if kids:
                stack.extend(reversed(kids))
        return out

    def _in_scope(self, ndn: str, nbase: str, scope: str) -> bool:
        if scope == "one":
            return self._parent.get(ndn, "") == nbase and ndn != nbase
        if not nbase:
            return True
        n: str | None = ndn
        while n is not None:
            if n == nbase:
                return True
            n = self._parent.get(n)
        return False

    def _canon(self, name: str) -> str:
        """The schema's spelling of an attribute type (options dropped), lower-cased."""
        canon = self._canons.get(name)
        if canon is None:
            at = self.schema.attribute_type(name)
            canon = at.name.lower() if at is not None else name.split(";", 1)[0].lower()
            self._canons[name] = canon
        return canon

    def _canon_description(self, name: str) -> str:
        """``commonName;lang-fr`` -> ``cn;lang-fr``: the schema's spelling plus the options."""
        base, sep, options = name.partition(";")
        at = self.schema.attribute_type(base)
        spelled = at.name if at is not None else self._unknown_types.get(base.lower(), base)
        return spelled + sep + options

    def _eq_rule(self, attr: str) -> matching.MatchingRule | None:
        return self._ctx.rule_for(attr, "equality")

    def _build_index(self, attr: str) -> None:
        self._eq[attr] = {}
        self._present[attr] = set()
        for ndn, entry in self._entries.items():
            self._index_values(attr, ndn, entry)

    def _index_values(self, attr: str, ndn: str, entry: Entry) -> None:
        rule = self._eq_rule(attr)
        values = self._ctx.values(entry, attr)
        if not values:
            return
        self._present[attr].add(ndn)
        if rule is None:
            return
        eq = self._eq[attr]
        for v in values:
            key = rule.normalize(v)
            if key is not None:
                eq.setdefault(key, set()).add(ndn)

    def _index_entry(self, ndn: str, entry: Entry) -> None:
        for attr in self._eq:
            self._index_values(attr, ndn, entry)

    def _unindex(self, ndn: str, entry: Entry) -> None:
        for attr, eq in self._eq.items():
            rule = self._eq_rule(attr)
            if rule is not None:
                for v in self._ctx.values(entry, attr):
                    key = rule.normalize(v)
                    bucket = eq.get(key)
                    if bucket is not None:
                        bucket.discard(ndn)
                        if not bucket:
                            del eq[key]
            self._present[attr].discard(ndn)

    # =========================================================================================
    # internals: filters
    # =========================================================================================
    def _filter(self, f: str | flt.Filter) -> flt.Filter:
        return flt.parse(f) if isinstance(f, str) else f

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
            attr = self._canon(f.attr)
            if attr == "memberof":
                return self._members_of(f.value)
            if attr == "entrydn":
                n = self._safe_ndn(f.value)
                return {n} if n in self._entries else set()
            if attr in _OPERATIONAL_LOWER or not self._ctx.is_known(attr):
                return None
            rule = self._eq_rule(attr)
            if rule is None:
                return set()  # Undefined for every entry: nothing matches
            if attr not in self._eq:
                self._build_index(attr)
            key = rule.normalize(f.value)
            return set(self._eq[attr].get(key, ())) if key is not None else set()
        if isinstance(f, flt.Present) and ";" not in f.attr:
            attr = self._canon(f.attr)
            if attr == "objectclass" or attr in _OPERATIONAL_LOWER:
                return None
            if attr not in self._present:
                self._build_index(attr)
            return set(self._present[attr])
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

    def _safe_ndn(self, value: Value) -> str | None:
        try:
            text = value.decode("utf-8") if isinstance(value, bytes) else value
            return self._ndn(text)
        except Exception:  # noqa: BLE001 - any bad DN means "matches nothing"
            return None

    # =========================================================================================
    # internals: memberOf and in-chain
    # =========================================================================================
    def _group_index(self) -> dict[str, dict[str, None]]:
        if self._groups_of is None:
            index: dict[str, dict[str, None]] = {}
            for gndn, entry in self._entries.items():
                for attr in self._member_attributes(entry):
                    rule = matching.rule("uniqueMemberMatch" if attr == "uniqueMember"
                                         else "distinguishedNameMatch")
                    for v in entry.get(attr, []):
                        m = self._member_ndn(v, rule)
                        if m is not None:
                            index.setdefault(m, {})[gndn] = None
            self._groups_of = index
        return self._groups_of

    def _member_attributes(self, entry: Entry) -> list[str]:
        out = []
        for oc in entry.get("objectClass", []):
            attr = GROUP_MEMBER_ATTRIBUTES.get(str(oc).lower())
            if attr and attr not in out:
                out.append(attr)
        return out

    def _member_ndn(self, value: Value, rule: matching.MatchingRule | None) -> str | None:
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        if not text:
            return None
        if "#'" in text and text.endswith("'B"):  # uniqueMember's optional UID suffix
            text = text[: text.rindex("#'")]
        try:
            return self._ndn(text)
        except Exception:  # noqa: BLE001 - a malformed member value names nobody
            return None

    def member_of(self, dn: str) -> list[str]:
        """DNs of the groups that list ``dn`` as a member (what slapd's memberOf shows)."""
        groups = self._group_index().get(self._ndn(dn), {})
        return [self._entries[g].dn for g in groups if g in self._entries]

    def _members_of(self, group: Value) -> set[str]:
        gndn = self._safe_ndn(group)
        if gndn is None or gndn not in self._entries:
            return set()
        return {m for m, groups in self._group_index().items()
                if gndn in groups and m in self._entries}

    def in_chain(self, entry: Entry, attr: str, target: str) -> bool | None:
        """AD's LDAP_MATCHING_RULE_IN_CHAIN: does following ``attr`` links from ``entry``
        reach ``target``?  (memberOf is followed through the computed back-links.)"""
        ntarget = self._safe_ndn(target)
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
        entry = self._entries.get(ndn)
        if entry is None:
            return ()
        out = []
        for v in entry.get(attr, []):
            m = self._member_ndn(v, None)
            if m is not None:
                out.append(m)
        return out

    # =========================================================================================
    # internals: presenting entries
    # =========================================================================================
    def _selector(self, attributes: Sequence[str] | None) -> tuple[bool, bool, set[str], bool]:
        """(all user attributes?, all operational?, named, no attributes '1.1')"""
        if not attributes:
            return True, False, set(), False
        names = {a.lower() for a in attributes}
        if names == {"1.1"}:
            return False, False, set(), True
        canon = {self._canon(a) for a in names if a not in ("*", "+", "1.1")}
        return "*" in names, "+" in names, canon, False

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
                if low in named or self._canon(name) in named or all_op or (
                        (all_user or not named) and not op):
                    out.add(name, [] if types_only else values)
            return out
        all_user, all_op, named, none = select
        out = Entry(entry.dn)
        if none:
            return out
        if all_user or (not named and not all_op):
            for name, values in entry.items():
                out.add(name, [] if types_only else list(values))
        else:
            for name, values in entry.items():
                if self._canon(name) in named:
                    out.add(name, [] if types_only else list(values))
        wanted_op = _OPERATIONAL if all_op else [
            _OPERATIONAL_LOWER[n] for n in named if n in _OPERATIONAL_LOWER]
        for name in wanted_op:
            values = self.operational(ndn, entry, name)
            if values:
                out.add(name, [] if types_only else values)
        return out

    def operational(self, ndn: str, entry: Entry, name: str) -> list[Value]:
        """The values of an operational attribute the directory computes for ``entry``."""
        low = name.lower()
        meta = self._meta_of(ndn) if ndn in self._seqs else None
        if low == "memberof":
            return list(self.member_of(entry.dn))
        if low == "entrydn":
            return [entry.dn]
        if low == "entryuuid":
            return [str(uuid.uuid5(_UUID_NS, ndn))]
        if low == "hassubordinates":
            return ["TRUE" if self._children.get(ndn) else "FALSE"]
        if low == "subschemasubentry":
            return ["cn=Subschema"]
        if low == "structuralobjectclass":
            sc = self._structural(entry)
            return [sc] if sc else []
        if meta is None:
            return []
        stamps: dict[str, list[Value]] = {
            "createtimestamp": [meta.created], "modifytimestamp": [meta.modified],
            "creatorsname": [meta.creator], "modifiersname": [meta.modifier]}
        return stamps.get(low, [])

    def _object_classes(self, entry: Entry) -> list[Value]:
        """objectClass values plus every superclass: slapd and AD match ``(objectClass=person)``
        for an inetOrgPerson entry (slapd's objectSubClassMatch)."""
        return self._class_info(tuple(str(c) for c in entry.get("objectClass", []))).expanded

    def _structural(self, entry: Entry) -> str | None:
        best, depth = None, -1
        for oc in entry.get("objectClass", []):
            c = self.schema.object_class(str(oc))
            if c is not None and c.kind == "STRUCTURAL":
                d = len(self.schema.superclasses(c.name))
                if d > depth:
                    best, depth = c.name, d
        return best

    # =========================================================================================
    # internals: schema checks
    # =========================================================================================
    def _class_info(self, classes: tuple[str, ...]) -> _ClassInfo:
        """What a set of object classes allows and requires (cached: few distinct sets)."""
        info = self._class_infos.get(classes)
        if info is not None:
            return info
        schema = self.schema
        problems = [] if classes else ["no objectClass"]
        known = []
        for c in classes:
            oc = schema.object_class(c)
            if oc is None:
                problems.append(f"object class {c!r} is not in the schema")
            else:
                known.append(oc.name)
        if known and not any(schema.object_class(c).kind == "STRUCTURAL"  # type: ignore[union-attr]
                             for c in known):
            problems.append("no structural object class (e.g. person, organizationalUnit)")
        info = _ClassInfo(
            known=known, problems=problems,
            extensible=any(c.lower() == "extensibleobject" for c in known),
            allowed=frozenset(self._canon(a) for a in schema.must(*known) | schema.may(*known)),
            must=frozenset(self._canon(a) for a in schema.must(*known)),
            expanded=self._expand_classes(classes))
        self._class_infos[classes] = info
        return info

    def _expand_classes(self, classes: tuple[str, ...]) -> list[Value]:
        values: list[Value] = list(classes)
        seen = {v.lower() for v in classes}
        for v in classes:
            for oc in self.schema.superclasses(v)[1:]:
                if oc.name.lower() not in seen:
                    seen.add(oc.name.lower())
                    values.append(oc.name)
        return values

    def _problem(self, message: str, dn: str, where: str, *, naming: bool = False) -> None:
        if self.lenient:
            self.warnings.append(f"{dn}{where}: {message}")
            return
        exc = ObjectClassViolation(message + where, dn=dn)
        exc.code = 64 if naming else 65
        raise exc

    def _check(self, entry: Entry, ndn: str, *, where: str) -> Entry:
        """A copy of ``entry`` with canonical attribute names and typed values, after checking
        it against the schema (or, lenient, noting what is wrong).  This is the bulk-load hot
        path: an entry that passes the quick checks of :meth:`_quick_check` is done; any other
        goes through :meth:`_full_check`, which finds and words every problem."""
        plan = self._fast_plan(entry)
        if plan is not None:
            out = self._quick_check(entry, ndn, plan)
            if out is not None:
                return out
        return self._full_check(entry, ndn, where=where)

    def _fast_plan(self, entry: Entry) -> _FastPlan | None:
        """The :class:`_FastPlan` for ``entry``'s attribute names (None: there is none)."""
        names = tuple(entry._names.values())
        plan = self._fast_plans.get(names, _NO_PLAN)
        if plan is _NO_PLAN:
            plan = None
            schema = self.schema
            if all(schema.attribute_type(n.split(";", 1)[0]) is not None for n in names):
                infos = [self._attr_info(n, entry.dn, "") for n in names]  # known: no errors
                if len({a.key_lower for a in infos}) == len(infos):
                    plan = _FastPlan(tuple(n.lower() for n in names), infos)
            self._fast_plans[names] = plan
        return plan  # type: ignore[return-value]

    def _fast_values(self, entry: Entry, plan: _FastPlan) -> dict[str, list[Value]] | None:
        """Canonical key -> a copy of the value list, binary values as bytes; None when a
        text attribute has a value that is not a str (the full path deals with it)."""
        src = entry._attrs
        if plan.same:
            attrs = {k: v.copy() for k, v in zip(plan.keys, src.values(), strict=False)}
        else:
            attrs = dict(zip(plan.keys, map(list.copy, plan.sources(src)), strict=False))
        if plan.binary:
            texts: Iterable[list[Value]] = plan.text(attrs)
            for key in plan.binary:
                attrs[key] = [v.encode("utf-8") if v.__class__ is str else v
                              for v in attrs[key]]
        else:
            texts = attrs.values()
        if not _STR.issuperset(map(type, itertools.chain.from_iterable(texts))):
            return None
        return attrs

    def _quick_check(self, entry: Entry, ndn: str, plan: _FastPlan) -> Entry | None:
        """The checked copy of ``entry`` when it plainly breaks no rule (the same rules as
        :meth:`_full_check`), else None.  What depends only on the attribute names and the
        objectClass values is judged once per plan."""
        if not plan.oc:
            return None  # no objectClass: a problem the full check words
        typed = self._fast_values(entry, plan)
        if typed is None:
            return None
        attrs: dict[str, list[Any]] = typed  # all str, but for binary attributes
        classes = attrs["objectclass"]
        if classes != plan.classes:  # not the last entry's (fine) objectClass values
            oc_key = tuple(classes)
            fine = plan.by_classes.get(oc_key)
            if fine is None:
                fine = plan.by_classes[oc_key] = self._classes_fine(plan, oc_key)
            if not fine:
                return None
            plan.classes = classes.copy()
        lists = attrs.values()
        # the usual entry: one value for every attribute but objectClass
        singles = all(lists) and sum(map(len, lists)) == len(lists) - 1 + len(classes)
        checked = plan.checked
        if singles and plan.integers:
            # one value each for the INTEGER attributes: one match for them all (a value
            # holding the separator changes the count, and goes the long way)
            joined = "\n".join(map(_FIRST, plan.integers(attrs)))
            if _INTEGERS.fullmatch(joined) is None or joined.count("\n") != plan.n_integers:
                return None
            checked = plan.not_integers
        try:
            for key, normalize, single in checked:
                vals = attrs[key]
                if singles or len(vals) == 1:
                    if normalize(vals[0]) is None:
                        return None
                elif single:
                    return None
                else:
                    keys = list(map(normalize, vals))
                    if None in keys or len(set(keys)) != len(keys):
                        return None
        except (ValueError, TypeError, OverflowError):
            return None
        if not singles and max(map(len, plan.others_values(attrs)), default=0) > 1:
            for key, a in plan.others:
                vals = attrs[key]
                if len(vals) > 1:
                    if a.single_value:
                        return None
                    rule = a.rule
                    found = [rule.normalize(v) for v in vals] if rule else vals
                    if len(set(found)) != len(found):
                        return None
        if ndn:
            # the naming value must be among the attribute's values.  The RDN is usually one
            # plain AVA of the type the last entry of this kind had: its prefix ("uid=") and
            # what the check needs are kept in plan.naming, and _rdn_avas is not needed.
            dn = entry.dn
            end = dn.find(",")
            if end < 0:
                end = len(dn)
            last = plan.naming
            if last is not None and dn.startswith(last[0]) and \
                    _RDN_SPECIAL.search(dn, 0, end) is None:
                value = dn[len(last[0]):end].strip()
                _prefix, low, rule, text = last
                named = attrs.get(low)
                if not named or value not in named or (
                        rule is not None and not (text and value.isascii() and value.isprintable())
                        and rule.normalize(value) is None):
                    return None
            else:
                avas = _rdn_avas(dn)
                for attr, value in avas:
                    naming = self._naming.get(attr)
                    if naming is None:
                        if self.schema.attribute_type(attr.split(";", 1)[0]) is None:
                            return None
                        key = self._canon_description(attr)
                        rule = self._eq_rule(key)
                        naming = self._naming[attr] = (
                            key.lower(), rule, rule is None or rule.name in _TEXT_RULES)
                    low, rule, text = naming
                    named = attrs.get(low)
                    if not named or value not in named:
                        return None
                    if rule is not None and not (
                            text and value.isascii() and value.isprintable()) \
                            and rule.normalize(value) is None:
                        return None
                if len(avas) == 1 and _RDN_SPECIAL.search(dn, 0, end) is None \
                        and dn.startswith(avas[0][0] + "="):
                    plan.naming = (avas[0][0] + "=", *self._naming[avas[0][0]])
        out = Entry.__new__(Entry)
        out.dn = entry.dn
        out._attrs = attrs
        out._names = plan.names
        out._options = plan.options
        return out

    def _classes_fine(self, plan: _FastPlan, classes: tuple[str, ...]) -> bool:
        """True when entries with ``plan``'s attribute names and these objectClass values
        break no rule that depends on those alone (object classes known with a structural
        one, every attribute allowed, every MUST present, objectClass values valid and
        distinct)."""
        info = self._class_info(classes)
        if info.problems or not info.known:
            return False
        infos = plan.infos
        if not info.extensible and any(not a.operational and a.canon not in info.allowed
                                       for a in infos):
            return False
        if not info.must <= {a.canon for a in infos}:
            return False
        a = infos[plan.keys.index("objectclass")]
        if a.binary or a.syntax_checked:
            return False
        if len(classes) > 1:
            if a.single_value:
                return False
            keys = [a.rule.normalize(v) for v in classes] if a.rule else list(classes)
            if len(set(keys)) != len(keys):
                return False
        return True

    def _full_check(self, entry: Entry, ndn: str, *, where: str) -> Entry:
        """:meth:`_check` done attribute by attribute, saying what is wrong."""
        out = self._convert(entry, where, trusted=False)
        info = self._class_info(tuple(str(c) for c in out._attrs.get("objectclass", ())))
        for problem in info.problems:
            self._problem(problem, entry.dn, where)
        check_allowed = bool(info.known) and not info.extensible
        infos = self._attr_infos
        present = set()
        for low, vals in out._attrs.items():
            name = out._names[low]
            a = infos.get(name) or self._attr_info(name, entry.dn, where)
            present.add(a.canon)
            if check_allowed and a.at is not None and not a.operational and (
                    a.canon not in info.allowed):
                self._problem(f"attribute {a.name!r} is not allowed by the object classes "
                              f"{', '.join(info.known)}", entry.dn, where)
            if a.syntax_checked:
                normalize = a.rule.normalize  # type: ignore[union-attr]
                for v in vals:
                    if v != "" and normalize(v) is None:
                        if not self.lenient:
                            raise SchemaError(
                                f"{entry.dn}{where}: {v!r} is not a valid value for {a.name!r} "
                                f"({a.rule.name}) (invalidAttributeSyntax)",  # type: ignore[union-attr]
                                code=21)
                        self.warnings.append(f"{entry.dn}{where}: {v!r} is not valid for "
                                             f"{a.name!r}")
            if not a.binary and a.at is not None:
                for v in vals:
                    if v.__class__ is not str:
                        self._problem(f"a value of {a.name!r} is not UTF-8 text", entry.dn,
                                      where)
            if len(vals) > 1:
                if a.single_value:
                    self._problem(f"attribute {a.name!r} is single-valued but has "
                                  f"{len(vals)} values", entry.dn, where)
                self._check_duplicates(a, vals, entry.dn, where)
        if info.known and not info.must <= present:
            missing = sorted(info.must - present)
            names = [self._attr_info(m, entry.dn, where).name for m in missing]
            self._problem(f"missing required attribute{'s' if len(names) > 1 else ''} "
                          f"{', '.join(names)} (MUST of {', '.join(info.known)})",
                          entry.dn, where)
        if ndn:
            for attr, value in _rdn_avas(entry.dn):
                key = self._canon_description(attr)
                if not self._has_value(key, list(out.get(key, [])), value):
                    self._problem(f"naming attribute {attr}={value!r} of the DN is not among "
                                  "the entry's values", entry.dn, where, naming=True)
        return out

    def _convert(self, entry: Entry, where: str, *, trusted: bool = True) -> Entry:
        """``entry`` with canonical attribute names and values typed (bytes for binary
        syntaxes), without the schema checks: the trusted bulk-load path, kept tight.  Entries
        of one kind share their attribute names, so the per-name work is planned once for
        each distinct list of names."""
        if trusted:
            fast = self._fast_plan(entry)
            if fast is not None:
                typed = self._fast_values(entry, fast)
                if typed is not None:
                    out = Entry.__new__(Entry)
                    out.dn = entry.dn
                    out._attrs = typed
                    out._names = fast.names
                    out._options = fast.options
                    return out
        out = Entry(entry.dn)
        attrs, names = out._attrs, out._names
        plan = self._convert_plans.get(tuple(entry._attrs))
        if plan is None:
            plan = self._convert_plan(entry, where, trusted)
        for key, low, spelled, binary in plan:
            values = entry._attrs[key]
            if binary:
                vals = [v.encode("utf-8") if v.__class__ is str else v
                        for v in values]
            elif bytes in map(type, values):
                vals = [_text_or_bytes(v) for v in values]
            else:
                vals = values.copy()
            if low in attrs:
                attrs[low].extend(vals)
            else:
                attrs[low] = vals
                names[low] = spelled
                if ";" in low:
                    out._options += 1
        return out

    def _convert_plan(self, entry: Entry, where: str,
                      trusted: bool) -> list[tuple[str, str, str, bool]]:
        """(source key, canonical key lower-cased, canonical spelling, binary?) per attribute
        of ``entry``; cached by the entry's list of attribute names."""
        plan = []
        for key in entry._attrs:
            name = entry._names[key]
            if trusted:  # unknown types are noted, not refused
                lenient, self.lenient = self.lenient, True
                try:
                    a = self._attr_info(name, entry.dn, where)
                finally:
                    self.lenient = lenient
            else:
                a = self._attr_info(name, entry.dn, where)
            plan.append((key, a.key_lower, a.key, a.binary))
        if trusted or all(self._attr_infos.get(entry._names[k]) for k in entry._attrs):
            self._convert_plans[tuple(entry._attrs)] = plan
        return plan

    def _attr_info(self, name: str, dn: str, where: str) -> _AttrInfo:
        """Everything the checks need to know about an attribute description, cached."""
        a = self._attr_infos.get(name)
        if a is not None:
            return a
        base = name.split(";", 1)[0]
        at = self.schema.attribute_type(base)
        if at is None:
            if not self.lenient:
                raise SchemaError(f"{dn}{where}: attribute type {base!r} is not in the schema "
                                  "(undefinedAttributeType)", code=17)
            if base.lower() not in self._unknown_types:
                self._unknown_types[base.lower()] = base
                self.warnings.append(f"{dn}{where}: unknown attribute type {base!r} kept, "
                                     "matched as a case-insensitive string")
            key = self._canon_description(name)
            a = _AttrInfo(key, key.lower(), base.lower(), base, None, False,
                          False, False, matching.rule("caseIgnoreMatch"), False)
        else:
            rule = matching.rule(at.equality) if at.equality else None
            key = self._canon_description(name)
            a = _AttrInfo(key, key.lower(), at.name.lower(), at.name, at,
                          at.operational, self.schema.is_binary(name), at.single_value, rule,
                          rule is not None and rule.name in _SYNTAX_CHECKED)
        self._attr_infos[name] = a
        return a

    def _check_duplicates(self, a: _AttrInfo, values: list[Value], dn: str, where: str) -> None:
        keys = [a.rule.normalize(v) for v in values] if a.rule else list(values)
        if len(set(keys)) != len(keys):
            if not self.lenient:
                raise OperationError(
                    f"{dn}{where}: attribute {a.name!r} has the same value twice "
                    "(attributeOrValueExists)", result="attributeOrValueExists", code=20)
            self.warnings.append(f"{dn}{where}: duplicate values in {a.name!r}")

    def _same_value(self, attr: str, a: Value, b: Value) -> bool:
        rule = self._eq_rule(attr)
        if rule is None:
            return a == b
        ka, kb = rule.normalize(a), rule.normalize(b)
        return ka is not None and ka == kb

    def _has_value(self, attr: str, values: list[Value], value: Value) -> bool:
        return any(self._same_value(attr, v, value) for v in values)

    # =========================================================================================
    # internals: referential integrity
    # =========================================================================================
    def _refint(self, renames: dict[str, str | None]) -> None:
        """Point DN-valued references at renamed entries, or drop references to deleted ones.
        A groupOfNames left with no member keeps one empty value, as slapd's refint keeps one
        placeholder, so it stays valid."""
        if not renames:
            return
        dnrule = matching.rule("distinguishedNameMatch")
        for ndn, entry in list(self._entries.items()):
            changed = None
            for attr in REFERENCE_ATTRIBUTES:
                values = entry.get(attr)
                if not values:
                    continue
                new_values: list[Value] = []
                hit = False
                for v in values:
                    m = self._member_ndn(v, dnrule)
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
                self._unindex(ndn, entry)
                self._entries[ndn] = changed
                self._index_entry(ndn, changed)
                self._meta[ndn] = self._meta_of(ndn).modified_now()
        self._groups_of = None


def _text_or_bytes(value: Value) -> Value:
    """A text attribute's value as str; bytes that are not UTF-8 stay bytes (the schema
    check reports them)."""
    if value.__class__ is bytes:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value
    return value


def _parent_ndn(ndn: str) -> str:
    """The parent of a normalised DN (fast when it holds no escapes)."""
    if "\\" not in ndn:
        i = ndn.find(",")
        return ndn[i + 1:] if i >= 0 else ""
    return dnlib.parent(ndn) or ""


def _depth(dn: str) -> int:
    if not dn.strip():
        return 0
    if "\\" not in dn and '"' not in dn:
        return dn.count(",") + dn.count(";") + 1
    return dnlib.depth(dn)


def _rdn_avas(dn: str) -> tuple[tuple[str, str], ...]:
    """The AVAs of the first RDN (fast when it holds no escapes, quotes or '+')."""
    first = dn.split(",", 1)[0]
    if "\\" not in first and '"' not in first and "+" not in first and "=" in first \
            and "#" not in first:
        attr, _, value = first.partition("=")
        return ((attr.strip(), value.strip()),)
    return dnlib.rdn_avas(dn)


_NO_PLAN = object()
_FIRST = operator.itemgetter(0)
_INTEGER = f"(?:{matching._INTEGER.pattern})"  # integerMatch's valid values (RFC 4517)
_INTEGERS = re.compile(f"{_INTEGER}(?:\n{_INTEGER})*")
_RDN_SPECIAL = re.compile(r'[\\"+#]')  # what _rdn_avas leaves to dn.rdn_avas
_DEPTH = operator.itemgetter(0)
_STR = {str}
#: equality rules for which every printable ASCII str is a valid value
_TEXT_RULES = {"caseIgnoreMatch", "caseExactMatch"}

_SYNTAX_CHECKED = {"integerMatch", "booleanMatch", "distinguishedNameMatch",
                   "generalizedTimeMatch", "numericStringMatch", "uniqueMemberMatch"}


class _Context:
    """How the embedded directory answers the filter evaluator's questions."""

    def __init__(self, d: EmbeddedDirectory):
        self.d = d
        self._rules: dict[tuple[str, str], matching.MatchingRule | None] = {}
        self._plans: dict[str, tuple[str, tuple[str, ...], frozenset[str]]] = {}

    def rule_for(self, attr: str, kind: str) -> matching.MatchingRule | None:
        key = (attr.split(";", 1)[0].lower(), kind)
        if key in self._rules:
            return self._rules[key]
        at = self.d.schema.attribute_type(key[0])
        name = None
        if at is not None:
            name = {"equality": at.equality, "ordering": at.ordering,
                    "substr": at.substr}.get(kind)
        elif key[0] in self.d._unknown_types:
            name = {"equality": "caseIgnoreMatch", "ordering": "caseIgnoreOrderingMatch",
                    "substr": "caseIgnoreSubstringsMatch"}.get(kind)
        rule = matching.rule(name) if name else None
        self._rules[key] = rule
        return rule

    def is_known(self, attr: str) -> bool:
        base = attr.split(";", 1)[0].lower()
        return (self.d.schema.attribute_type(base) is not None
                or base in self.d._unknown_types)

    def values(self, entry: Entry, attr: str) -> list[Value]:
        plan = self._plans.get(attr)
        if plan is None:
            base, _, options = attr.partition(";")
            canon = self.d._canon(base)
            wanted = frozenset(o.lower() for o in options.split(";")) if options else frozenset()
            plan = self._plans[attr] = (canon, (canon, *self.d.schema.subtypes(canon)), wanted)
        canon, names, wanted = plan
        if canon in _OPERATIONAL_LOWER and canon not in entry:
            if not entry.dn and canon != "memberof":
                return []
            return self.d.operational(self.d._ndn(entry.dn), entry, canon)
        if canon == "objectclass" and not wanted:
            return self.d._object_classes(entry)
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

    def in_chain(self, entry: Entry, attr: str, target_dn: str) -> bool | None:
        return self.d.in_chain(entry, attr, target_dn)
