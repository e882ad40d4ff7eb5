"""FilterTutor: a filter's parse tree, and per entry which sub-filter matched and why."""

from __future__ import annotations

from html import escape as h
from typing import TYPE_CHECKING

import ipywidgets as W

from .. import filters
from ..errors import FilterError, LdapnbError
from ..teach.explore import matched_leaves, parse_tree, trace_entry
from ._common import Thin, error_html, html_table

if TYPE_CHECKING:
    from ..directory import Directory

__all__ = ["FilterTutor", "parse_tree", "trace_entry", "matched_leaves"]

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
