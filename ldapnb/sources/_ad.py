"""How the embedded directory reads an Active Directory as a domain controller does.

A directory is read as AD when one of its naming contexts has an ``objectSid`` (a domain head,
as every AD domain partition has).  Then, as Microsoft documents ([MS-ADTS] 3.1.1.3.1.3):

- ``(objectCategory=person)``: a value that is not a DN but a class's lDAPDisplayName stands
  for that class's defaultObjectCategory, ``CN=Person,CN=Schema,CN=Configuration,<forest>``
  (3.1.1.3.1.3.5).  The class is looked up in the directory's own schema partition when it
  holds one, else in Microsoft's published schema (:mod:`._ad_tables`);
- ``(anr=...)``: ambiguous name resolution rewritten as 3.1.1.3.1.3.4 says: an initial
  substring on every attribute of the ANR attribute set (``legacyExchangeDN`` by equality), a
  value with a space also as "first last" and "last first" (givenName/sn), a leading ``=``
  asks for equality instead of a prefix, ``(anr=*)`` is FALSE;
- String(SID) values written as ``S-1-5-...`` and objectGUID values written as GUID strings
  are compared as the binary values they name (the escaped binary forms work as ever);
- ``distinguishedName`` is the entry's own DN (AD has no attribute inheritance, so it does not
  reach ``member`` values as X.500's ``member SUP distinguishedName`` does), and ``name`` is the
  value of the entry's RDN;
- ``tokenGroups`` (constructed, base scope only): the SIDs of the security groups the object
  belongs to, transitively, its primary group (primaryGroupID) included, its own SID not.
  memberOf and the in-chain rule do not follow primaryGroupID: AD lists the primary group in
  neither ``member`` nor ``memberOf`` ([MS-ADTS] 3.1.1.4.5.19, [MS-ADA3] primaryGroupID).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from .. import ad
from .. import dn as dnlib
from .. import filters as flt
from ..entry import Entry, Value
from ..errors import SchemaError
from ._ad_tables import ANR_ATTRIBUTES, DEFAULT_OBJECT_CATEGORY
from ._store import Store

__all__ = ["ADReader", "SID_ATTRIBUTES", "GUID_ATTRIBUTES", "FALSE_FILTER"]

#: String(SID) attributes (syntax 2.5.5.17) a filter may name with an ``S-1-...`` string
SID_ATTRIBUTES = frozenset({"objectsid", "sidhistory", "tokengroups", "securityidentifier",
                            "msds-shadowprincipalsid", "tokengroupsglobalanduniversal",
                            "tokengroupsnogcacceptable", "msds-creatorsid"})
#: GUID attributes a filter may name with a GUID string
GUID_ATTRIBUTES = frozenset({"objectguid", "schemaidguid", "attributesecurityguid",
                             "rightsguid", "msds-generationid"})
#: A filter no entry matches ((anr=*) resolves to FALSE): objectClass is on every entry
FALSE_FILTER: flt.Filter = flt.Not(flt.Present("objectClass"))

_GUID = re.compile(r"^\{?[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\}?$")
_SECURITY_ENABLED = 0x80000000


def _text(value: Value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


class ADReader:
    """AD's read-side rules over a :class:`~ldapnb.sources._store.Store`.

    ``member_of(ndn)`` gives the normalised DNs of the groups listing an entry as a member;
    ``by_sid(sid_bytes)`` the normalised DN of the entry holding that objectSid, or None.
    """

    def __init__(self, store: Store, *, member_of: Callable[[str], Iterable[str]],
                 by_sid: Callable[[bytes], str | None]):
        self.store = store
        self._member_of = member_of
        self._by_sid = by_sid
        self._schema_classes: tuple[int, dict[str, str]] | None = None
        self._nc_heads: tuple[int, frozenset[str]] | None = None

    # -- is it AD? ---------------------------------------------------------------------------
    def domain_heads(self) -> list[Entry]:
        """The naming contexts that are AD domains (they hold an objectSid)."""
        entries = self.store.entries
        return [entries[r] for r in self.store.roots if "objectSid" in entries[r]]

    def active(self) -> bool:
        """Whether the directory is read as AD (a naming context holds an objectSid)."""
        return bool(self.domain_heads())

    def forest_root(self) -> str | None:
        """The forest root domain's DN: the parent of a ``CN=Configuration`` naming context
        when there is one, else the first domain head."""
        for r in self.store.roots:
            rdns = dnlib.parse(self.store.entries[r].dn)
            if len(rdns) > 1 and dnlib.to_string(rdns[:1]).lower() == "cn=configuration":
                return dnlib.to_string(rdns[1:])
        heads = self.domain_heads()
        return heads[0].dn if heads else None

    def nc_heads(self) -> frozenset[str]:
        """Normalised DNs of the naming-context heads (instanceType bit IT_NC_HEAD, 1): a
        DC's subtree search stops at them ([MS-ADTS] 3.1.1.3.1.1, instanceType)."""
        stamp = len(self.store.entries)
        if self._nc_heads is None or self._nc_heads[0] != stamp:
            heads = set()
            for ndn, e in self.store.entries.items():
                it = e.get("instanceType")
                if it:
                    try:
                        if int(it[0]) & 1:
                            heads.add(ndn)
                    except ValueError:
                        pass
            self._nc_heads = (stamp, frozenset(heads))
        return self._nc_heads[1]

    def other_partitions(self, nbase: str) -> list[str]:
        """The naming-context heads strictly below ``nbase``: their subtrees belong to other
        partitions, which a search of ``nbase`` does not enter."""
        return [h for h in self.nc_heads()
                if h != nbase and (not nbase or h.endswith("," + nbase))]

    # -- objectCategory ----------------------------------------------------------------------
    def category(self, name: str) -> str | None:
        """The defaultObjectCategory DN of the class whose lDAPDisplayName is ``name``."""
        forest = self.forest_root()
        if forest is None:
            return None
        own = self._own_schema_classes(forest)
        hit = own.get(name.lower())
        if hit is not None:
            return hit
        table = {k.lower(): v for k, v in DEFAULT_OBJECT_CATEGORY.items()}
        cn = table.get(name.lower())
        return f"CN={cn},CN=Schema,CN=Configuration,{forest}" if cn else None

    def _own_schema_classes(self, forest: str) -> dict[str, str]:
        """lDAPDisplayName -> defaultObjectCategory of the classSchema entries the directory
        holds (an export of a DC with its schema partition), cached until the next write."""
        stamp = len(self.store.entries)
        if self._schema_classes is not None and self._schema_classes[0] == stamp:
            return self._schema_classes[1]
        out: dict[str, str] = {}
        schema_ndn = dnlib.normalize(f"CN=Schema,CN=Configuration,{forest}")
        for ndn in self.store.children.get(schema_ndn, ()):
            e = self.store.entries[ndn]
            if "defaultObjectCategory" in e and "lDAPDisplayName" in e:
                out[_text(e["lDAPDisplayName"][0]).lower()] = _text(
                    e["defaultObjectCategory"][0])
        self._schema_classes = (stamp, out)
        return out

    # -- filters -----------------------------------------------------------------------------
    def rewrite(self, f: flt.Filter) -> flt.Filter:
        """``f`` with AD's short forms replaced by what a DC searches for."""
        if isinstance(f, flt.And):
            return flt.And(tuple(self.rewrite(c) for c in f.children))
        if isinstance(f, flt.Or):
            return flt.Or(tuple(self.rewrite(c) for c in f.children))
        if isinstance(f, flt.Not):
            return flt.Not(self.rewrite(f.child))
        attr = getattr(f, "attr", None)
        if attr is None or ";" in attr:
            return f
        low = attr.lower()
        if low == "anr":
            return self._anr(f)
        if isinstance(f, (flt.Equality, flt.Approx, flt.GreaterOrEqual, flt.LessOrEqual)):
            value = f.value
            if low == "objectcategory" and isinstance(value, str) and "=" not in value:
                dn = self.category(value)
                if dn is not None:
                    return type(f)(attr, dn)
            elif low in SID_ATTRIBUTES and isinstance(value, str) and value[:2] in ("S-", "s-"):
                try:
                    return type(f)(attr, ad.sid_to_bytes(value, attribute=attr))
                except SchemaError:
                    return f
            elif low in GUID_ATTRIBUTES and isinstance(value, str) and _GUID.match(value):
                return type(f)(attr, ad.guid_to_bytes(value.strip("{}"), attribute=attr))
        return f

    def _anr(self, f: flt.Filter) -> flt.Filter:
        if isinstance(f, flt.Present):
            return FALSE_FILTER
        if isinstance(f, flt.Equality):
            value = _text(f.value)
        elif isinstance(f, flt.Substrings) and f.initial is not None and not f.any \
                and f.final is None:
            value = _text(f.initial)
        else:
            return f  # not a form ANR defines: anr is no attribute, so Undefined
        exact = value.startswith("=")
        if exact:
            value = value[1:]
        value = value.strip()
        if not value:
            return FALSE_FILTER

        def match(attr: str, v: str) -> flt.Filter:
            return flt.Equality(attr, v) if exact else flt.Substrings(attr, initial=v)

        parts: list[flt.Filter] = [match(a, value) for a in ANR_ATTRIBUTES
                                   if a != "legacyExchangeDN"]
        parts.append(flt.Equality("legacyExchangeDN", value))
        if " " in value:
            first, _, last = value.partition(" ")
            last = last.strip()
            parts.append(flt.And((match("givenName", first), match("sn", last))))
            parts.append(flt.And((match("givenName", last), match("sn", first))))
        return flt.Or(tuple(parts))

    # -- computed attributes -----------------------------------------------------------------
    @staticmethod
    def rdn_value(entry: Entry) -> list[Value]:
        """AD's ``name``: the value of the entry's RDN."""
        if not entry.dn:
            return []
        avas = dnlib.rdn_avas(entry.dn)
        return [avas[0][1]] if avas else []

    def token_groups(self, ndn: str, entry: Entry) -> list[Value]:
        """The SIDs (binary) of the security groups ``entry`` is in, transitively, its primary
        group included; empty for an object without objectSid."""
        sids = entry.get("objectSid")
        if not sids:
            return []
        own = ad.sid_to_bytes(sids[0])
        todo = list(self._member_of(ndn))
        pgid = entry.get("primaryGroupID")
        if pgid:
            try:
                domain = ad.domain_sid(own)
                primary = self._by_sid(ad.sid_to_bytes(f"{domain}-{int(pgid[0])}"))
            except (SchemaError, ValueError):
                primary = None
            if primary is not None:
                todo.append(primary)
        seen: set[str] = set()
        out: list[Value] = []
        while todo:
            g = todo.pop(0)
            if g in seen or g == ndn:
                continue
            seen.add(g)
            group = self.store.entries.get(g)
            if group is None or not group.get("objectSid"):
                continue
            try:
                gtype = int(group.get("groupType", ["0"])[0]) & 0xFFFFFFFF
            except ValueError:
                gtype = 0
            if not gtype & _SECURITY_ENABLED:
                continue  # distribution groups are in no security token
            sid = ad.sid_to_bytes(group["objectSid"][0])
            if sid != own and sid not in out:
                out.append(sid)
            todo.extend(self._member_of(g))
        return out
