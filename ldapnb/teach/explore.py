"""What the search explorer and the filter tutor compute, without any widget: a safe
name filter, the bases worth offering, a filter's parse tree, and which parts of a filter an
entry matched.  The widgets (:mod:`ldapnb.widgets`) only display these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import filters

if TYPE_CHECKING:
    from ..directory import Directory

__all__ = ["NAME_ATTRIBUTES", "name_filter", "search_bases", "parse_tree", "trace_entry",
           "matched_leaves"]


#: The attributes :func:`name_filter` looks in.
NAME_ATTRIBUTES: tuple[str, ...] = ("cn", "uid", "sn", "mail")


def name_filter(text: str, attributes: Sequence[str] = NAME_ATTRIBUTES) -> str:
    """A filter finding entries whose name contains ``text``, safe for any typed text.

    The text is escaped with :func:`ldapnb.filters.escape` (RFC 4515), so ``*``, ``(``,
    ``)`` and ``\\`` in it are matched literally and cannot change the filter's meaning.

    Parameters
    ----------
    text : str
        What the user typed.
    attributes : sequence of str
        Where to look (``cn``, ``uid``, ``sn``, ``mail`` by default).

    Returns
    -------
    str
        ``(|(cn=*TEXT*)(uid=*TEXT*)...)``; ``(objectClass=*)`` for blank text.

    Examples
    --------
    >>> name_filter("jensen", ["cn", "uid"])
    '(|(cn=*jensen*)(uid=*jensen*))'
    >>> name_filter("*)(uid=*", ["cn"])
    '(|(cn=*\\\\2a\\\\29\\\\28uid=\\\\2a*))'
    """
    text = text.strip()
    if not text:
        return "(objectClass=*)"
    value = filters.escape(text)
    return "(|" + "".join(f"({a}=*{value}*)" for a in attributes) + ")"


def search_bases(directory: Directory) -> list[str]:
    """Sensible search bases: the naming contexts, then every entry that has children
    (OUs, containers), shallow first."""
    tree = directory.tree()
    bases = list(directory.naming_contexts)
    inner = [n for n in tree.nodes if n and tree.out_degree(n) > 0 and n not in bases]
    inner.sort(key=lambda n: (tree.nodes[n].get("depth", 0), n.lower()))
    return bases + inner


_KINDS = {
    "And": "AND: true when every filter inside is true",
    "Or": "OR: true when at least one filter inside is true",
    "Not": "NOT: true when the filter inside is false",
    "Equality": "equality",
    "Substrings": "substring",
    "GreaterOrEqual": "greater or equal",
    "LessOrEqual": "less or equal",
    "Present": "presence",
    "Approx": "approximate",
    "Extensible": "extensible match",
}


def parse_tree(f: filters.Filter | str, indent: int = 0) -> list[str]:
    """The parse tree of a filter as indented lines: the kind of each node and its text.

    Examples
    --------
    >>> print("\\n".join(parse_tree("(&(uid=a*)(!(cn=b)))")))
    AND: true when every filter inside is true   (&(uid=a*)(!(cn=b)))
      substring   (uid=a*)
      NOT: true when the filter inside is false   (!(cn=b))
        equality   (cn=b)
    """
    if isinstance(f, str):
        f = filters.parse(f)
    kind = type(f).__name__
    lines = ["  " * indent + f"{_KINDS.get(kind, kind)}   {_masked(f)}"]
    if isinstance(f, filters.And | filters.Or):
        for child in f.children:
            lines.extend(parse_tree(child, indent + 1))
    elif isinstance(f, filters.Not):
        lines.extend(parse_tree(f.child, indent + 1))
    return lines


def _masked(f: filters.Filter) -> str:
    """The filter's text with the values of secret attributes (userPassword ...) masked,
    as :class:`ldapnb.filters.Trace` shows them."""
    show = getattr(filters, "_show_filter", filters.to_string)
    return str(show(f))


def trace_entry(directory: Directory, filter: str | filters.Filter, dn: str) -> filters.Trace:
    """:func:`ldapnb.filters.trace` of ``filter`` on the entry ``dn``, judged with the
    directory's own rules (its schema's matching rules, its computed memberOf, its AD
    in-chain rule), as its searches are.

    It is :meth:`ldapnb.Directory.trace`, for a parsed or unparsed filter.

    Examples
    --------
    >>> from ldapnb import Directory
    >>> d = Directory.embedded("tiny")
    >>> t = trace_entry(d, "(memberOf=cn=developers,ou=Groups,dc=example,dc=com)",
    ...                 "uid=carol,ou=People,dc=example,dc=com")
    >>> t.result
    True
    """
    return directory.trace(filter if isinstance(filter, str) else filters.to_string(filter), dn)


def matched_leaves(t: filters.Trace) -> list[str]:
    """The texts of the leaf filters (no AND/OR/NOT) that were True in a trace.

    Examples
    --------
    >>> from ldapnb.entry import Entry
    >>> e = Entry("uid=a,dc=x", {"uid": ["a"], "cn": ["Ann"]})
    >>> matched_leaves(filters.trace("(|(uid=b)(cn=an*))", e))
    ['(cn=an*)']
    """
    if not t.children:
        return [t.text] if t.result is True and not isinstance(
            t.node, filters.And | filters.Or) else []
    out: list[str] = []
    for child in t.children:
        out.extend(matched_leaves(child))
    return out
