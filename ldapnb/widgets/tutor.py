"""FilterTutor: a filter's parse tree, and per entry which sub-filter matched and why."""

from __future__ import annotations

from html import escape as h
from typing import TYPE_CHECKING

import ipywidgets as W

from .. import filters
from ..errors import FilterError, LdapnbError
from ._common import Thin, error_html, html_table

if TYPE_CHECKING:
    from ..directory import Directory

__all__ = ["FilterTutor", "parse_tree", "trace_entry", "matched_leaves"]

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


_FIRST = "(the first entries)"


class FilterTutor(Thin):
    """Type a filter; see its parse tree and, for a chosen entry or the first ``limit``
    entries, the evaluation trace: which sub-filter was true, false or Undefined, and why.

    Parameters
    ----------
    directory : Directory
    filter : str
        The first filter.
    limit : int
        How many entries "the first entries" shows.
    choices : int
        How many DNs the entry picker offers (the first ones under the base).

    Attributes
    ----------
    filter : ipywidgets.Text
    entry : ipywidgets.Dropdown
        ``"(the first entries)"`` or a DN.
    limit : ipywidgets.IntSlider
    error : ipywidgets.HTML
        The filter error, with a caret at its position.
    tree : ipywidgets.HTML
        The parse tree (:func:`parse_tree`).
    output : ipywidgets.HTML
        The traces.
    traces : list of (str, Trace)
        The DNs shown and their :class:`ldapnb.filters.Trace`.
    matches : int or None
        How many entries of the directory the filter matches (a real search).

    Examples
    --------
    >>> from ldapnb import Directory
    >>> t = FilterTutor(Directory.embedded("tiny"))
    >>> t.filter.value = "(|(uid=alice)(title=Dev*))"
    >>> t.entry.value = "uid=carol,ou=People,dc=example,dc=com"
    >>> matched_leaves(t.traces[0][1])
    ['(title=Dev*)']
    """

    def __init__(self, directory: Directory, *, filter: str = "(objectClass=person)",
                 limit: int = 5, choices: int = 500):
        self.directory = directory
        self.traces: list[tuple[str, filters.Trace]] = []
        self.parsed: filters.Filter | None = None
        self.matches: int | None = None
        dns = []
        for i, e in enumerate(directory.entries(attributes=["1.1"])):
            if i >= choices:
                break
            dns.append(e.dn)
        self.filter = W.Text(value=filter, description="Filter", continuous_update=True,
                             layout=W.Layout(width="90%"))
        self.entry = W.Dropdown(options=[_FIRST, *dns], value=_FIRST, description="Entry",
                                layout=W.Layout(width="90%"))
        self.limit = W.IntSlider(value=limit, min=1, max=50, description="First N")
        self.error = W.HTML()
        self.tree = W.HTML()
        self.output = W.HTML()
        for control in (self.filter, self.entry, self.limit):
            control.observe(self._changed, names="value")
        self.widget = W.VBox([self.filter, W.HBox([self.entry, self.limit]), self.error,
                              W.HTML("<b>Parse tree</b>"), self.tree,
                              W.HTML("<b>Evaluation</b>"), self.output])
        self.run()

    def _changed(self, change: dict) -> None:
        self.run()

    def dns(self) -> list[str]:
        """The DNs the traces are shown for."""
        if self.entry.value != _FIRST:
            return [self.entry.value]
        return [d for d in self.entry.options[1: 1 + self.limit.value]]

    def run(self) -> None:
        """Parse the filter; show its tree and the traces (or the error)."""
        try:
            self.parsed = filters.parse(self.filter.value)
        except FilterError as exc:
            self.parsed = None
            self.error.value = error_html(exc)
            self.tree.value = ""
            self.output.value = ""
            self.traces = []
            return
        self.error.value = ""
        self.tree.value = "<pre>" + h("\n".join(parse_tree(self.parsed))) + "</pre>"
        try:
            self.traces = [(d, trace_entry(self.directory, self.parsed, d)) for d in self.dns()]
            self.matches = sum(1 for _ in self.directory.entries(self.filter.value,
                                                                 attributes=["1.1"]))
        except LdapnbError as exc:
            self.error.value = error_html(exc)
            self.traces, self.matches = [], None
            self.output.value = ""
            return
        mark = {True: "✓ match", False: "✗ no match", None: "? Undefined"}
        summary = html_table(
            [(d, mark[t.result], ", ".join(matched_leaves(t)) or "-") for d, t in self.traces],
            ["entry", "result", "true leaf filters"],
        )
        details = "".join(f"<div><b>{h(d)}</b>{t._repr_html_()}</div>" for d, t in self.traces)
        self.output.value = (f"<div>The filter matches <b>{self.matches}</b> of "
                             f"{len(self.directory)} entries.</div>" + summary + details)
