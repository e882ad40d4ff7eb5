"""The embedded directory's column pages for a fixed attribute list (gathered column by column
from the stored entries, what ``Directory.graph()`` and most frames read) are the pages the
general path makes: :func:`ldapnb.sources.base.pages_from_entries` over the entries
:meth:`EmbeddedDirectory.search` presents.  Same DNs, same columns, same values, same errors,
for every data set, attribute list, scope and page size below."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from page_datasets import DIRECTORIES, IDS

from ldapnb import Directory, graph
from ldapnb.errors import LdapnbError
from ldapnb.sources.base import DEFAULT_PAGE_SIZE, pages_from_entries
from ldapnb.sources.embedded import EmbeddedDirectory

ATTRIBUTE_LISTS: list[list[str]] = [
    list(graph.GRAPH_ATTRIBUTES),
    ["cn", "CN", "commonName", "memberOf", "MEMBEROF", "entryDN", "hasSubordinates"],
    ["cn;lang-de", "sn", "description", "dn"],
    ["modifyTimestamp", "structuralObjectClass", "entryUUID", "subschemaSubentry",
     "creatorsName", "objectClass"],
    ["distinguishedName", "objectSid", "name", "sAMAccountName", "primaryGroupID"],
    ["1.1"],
    [],
    ["nosuchattribute", "uid"],
]


def general(src: EmbeddedDirectory, base: str, scope: str, filter: str,
            attributes: Sequence[str], page_size: int | None) -> list[Any]:
    """What search_pages made before it gathered columns: pages of the presented entries."""
    entries = src.search(base, scope, filter, attributes)
    size = DEFAULT_PAGE_SIZE if page_size is None else page_size
    return [(p.dns, p.columns) for p in pages_from_entries(entries, size, attributes)]


def fast(src: EmbeddedDirectory, base: str, scope: str, filter: str,
         attributes: Sequence[str], page_size: int | None) -> list[Any]:
    return [(p.dns, p.columns)
            for p in src.search_pages(base, scope, filter, attributes, page_size=page_size)]


def outcome(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except LdapnbError as exc:
        return type(exc), str(exc)


@pytest.mark.parametrize("name,d", DIRECTORIES, ids=IDS)
def test_column_pages_are_the_presented_entries_pages(name: str, d: Directory) -> None:
    src = d.source
    assert isinstance(src, EmbeddedDirectory)
    base = d.base
    some = sorted(src.search_dns(base, "sub", "(objectClass=*)"))[len(src) // 2]
    group = next(iter(src.search_dns(base, "sub", "(|(member=*)(uniqueMember=*))")), None)
    searches = [(base, "sub", "(objectClass=*)"), (base, "one", "(objectClass=*)"),
                (src.get_normalized(some).dn, "base", "(objectClass=*)"),
                (base, "sub", "(|(objectClass=groupOfNames)(objectClass=group)(cn=a*))"),
                ("", "base", "(objectClass=*)"), ("cn=Subschema", "base", "(objectClass=*)")]
    if group is not None:
        searches.append((base, "sub", f"(memberOf={src.get_normalized(group).dn})"))
    compared = 0
    for where, scope, filter in searches:
        for attributes in ATTRIBUTE_LISTS:
            for size in (None, 0, 7):
                want = outcome(general, src, where, scope, filter, attributes, size)
                got = outcome(fast, src, where, scope, filter, attributes, size)
                assert got == want, (name, where, scope, filter, attributes, size)
                compared += sum(len(dns) for dns, _ in want) if isinstance(want, list) else 0
    assert compared > len(src)


def test_ad_errors_and_root_dse_rows_match() -> None:
    d = Directory.embedded("contoso")
    src = d.source
    assert isinstance(src, EmbeddedDirectory)
    for attributes in (["tokenGroups"], ["namingContexts", "supportedLDAPVersion", "cn"]):
        for where, scope in ((d.base, "sub"), ("", "base"), (d.base, "base")):
            want = outcome(general, src, where, scope, "(objectClass=*)", attributes, None)
            got = outcome(fast, src, where, scope, "(objectClass=*)", attributes, None)
            assert got == want
    # tokenGroups beyond a base search is refused, before any page, as a DC does
    with pytest.raises(LdapnbError, match="base-scope"):
        src.search_pages(d.base, "sub", "(objectClass=*)", ["tokenGroups"])
    rows = fast(src, "", "base", "(objectClass=*)", ["namingContexts"], None)
    assert rows[0][0] == [""] and rows[0][1]["namingContexts"][0] == [d.base]


def test_pages_hold_copies() -> None:
    d = Directory.embedded("example")
    src = d.source
    assert isinstance(src, EmbeddedDirectory)
    page = next(iter(src.search_pages(d.base, "sub", "(cn=*)", ["cn", "memberOf"])))
    first = page.dns[0]
    before = src.get(first, ["cn"])["cn"]
    page.columns["cn"][0].append("changed by a reader")
    assert src.get(first, ["cn"])["cn"] == before
