"""In-memory sources in a few lines (httpx's MockTransport idea): anything satisfying the
protocols of :mod:`ldapnb.sources.base` works with every ``Directory`` method they cover.
``MemSource`` is the whole ``Source`` protocol; the subclasses add ``Bindable`` and
``Writable``."""

from __future__ import annotations

from ldapnb import dn as dnlib
from ldapnb import filters as flt
from ldapnb.entry import Entry
from ldapnb.errors import BindError, LimitExceeded, NoSuchEntry, OperationError
from ldapnb.schema import default_schema
from ldapnb.sources.base import pages_from_entries, scope_name


class MemSource:
    """Source: entries in a dict, filters by ldapnb's evaluator."""

    is_live, default_base, ca_file, urls, closed = False, None, None, {}, False

    def __init__(self, entries=()):
        self.store = {dnlib.normalize(e.dn): e for e in entries}
        self.schema, self.warnings = default_schema(), []

    naming_contexts = property(lambda self: tuple(e.dn for n, e in self.store.items()
                                                  if dnlib.parent(n) not in self.store))
    root_dse = property(lambda self: Entry("", {"namingContexts": list(self.naming_contexts)}))
    def __len__(self):
        return len(self.store)

    def __contains__(self, dn):
        return isinstance(dn, str) and dnlib.normalize(dn) in self.store

    def search_pages(self, *args, page_size=None, **kwargs):
        return pages_from_entries(self.search(*args, **kwargs), page_size)

    def get(self, dn, attributes=None):
        return next(self.search(dn, "base", attributes=attributes))

    def trace(self, filter, dn):
        return flt.trace(flt.parse(filter), self.get(dn))

    def member_of(self, dn):
        return [e.dn for e in self.store.values()
                if any(dnlib.equal(str(m), dn) for m in e.get("member", []))]

    def search(self, base, scope="sub", filter="(objectClass=*)", attributes=None, *,
               size_limit=0):
        nbase, scope, f = dnlib.normalize(base), scope_name(scope), flt.parse(filter)
        if nbase and nbase not in self.store:
            raise NoSuchEntry(base)
        hits = [e for n, e in self.store.items() if flt.evaluate(f, e) is True and (
            n == nbase if scope == "base" else dnlib.parent(n) == nbase if scope == "one"
            else dnlib.is_descendant(n, nbase))]
        if size_limit and len(hits) > size_limit:
            raise LimitExceeded(f"more than {size_limit}", kind="size", limit=size_limit)
        wanted = {a.lower() for a in attributes or ["*"]}
        return iter(e.copy() if "*" in wanted else
                    Entry(e.dn, {k: v for k, v in e.items() if k.lower() in wanted})
                    for e in hits)

    def connection(self, *args, **kwargs):
        raise OperationError("MemSource serves no ldap3 connection", result="unwillingToPerform")

    def close(self):
        self.closed = True


class BindableMemSource(MemSource):
    """MemSource plus the Bindable protocol: a simple bind checks ``userPassword``."""

    def bind(self, dn, password):
        stored = [v if isinstance(v, bytes) else v.encode() for v in
                  self.get(dn).get("userPassword", [])]
        if (password if isinstance(password, bytes) else password.encode()) not in stored:
            raise BindError(f"invalidCredentials for {dn!r}")
        return dn


class WritableMemSource(BindableMemSource):
    """BindableMemSource plus the Writable protocol (no schema checks: a test double)."""

    skipped: list = []

    def add(self, entry, *, new_root=True):
        self.store[dnlib.normalize(entry.dn)] = entry

    def delete(self, dn):
        del self.store[dnlib.normalize(dn)]

    def modify(self, dn, changes):
        entry = self.store[dnlib.normalize(dn)]
        for c in changes:
            entry.set(c.attribute, c.values)  # every op taken as "replace": a test double

    def modify_dn(self, dn, new_rdn, *, delete_old_rdn=True, new_superior=None):
        entry = self.store.pop(dnlib.normalize(dn))
        entry.dn = dnlib.join(new_rdn, new_superior or dnlib.parent(dn) or "")
        self.add(entry)
        return entry.dn

    def load(self, records, *, source="<entries>"):
        records = list(records)
        for entry in records:
            self.add(entry)
        return len(records)
