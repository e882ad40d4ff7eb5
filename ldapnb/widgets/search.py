"""SearchExplorer: base, scope, filter (validated as you type), attributes -> a sortable table."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape as h
from typing import TYPE_CHECKING

import ipywidgets as W

from .. import filters
from ..errors import FilterError, LdapnbError
from ..sources.base import SCOPE_NAMES
from ..teach.explore import name_filter, search_bases
from ._common import Thin, display_frame, error_html

if TYPE_CHECKING:
    import pandas as pd

    from ..directory import Directory

__all__ = ["SearchExplorer", "name_filter", "search_bases"]

class SearchExplorer(Thin):
    """Search a directory: base, scope, filter and attributes -> a sortable table.

    The filter is parsed as you type (:func:`ldapnb.filters.parse`); a mistake shows the
    message and a caret at its position instead of running the search.  The "find by name"
    box writes an escaped filter (:func:`name_filter`) into the filter box.

    Parameters
    ----------
    directory : Directory
        What to search.
    filter : str
        The first filter.
    attributes : sequence of str, optional
        Columns to fetch (default: all user attributes).
    size_limit : int
        At most this many entries (0: no limit); more raises a message, never a short table.

    Attributes
    ----------
    base, scope, filter, attributes, find : ipywidgets controls (set ``.value``)
    status : ipywidgets.HTML
        "N entries", or the error (with the caret for a filter error).
    table : itables.widget.ITable
        The sortable table (DataTables), or an ``ipywidgets.HTML`` table if itables is absent.
    results : pandas.DataFrame or None
        The last search's answer, from :meth:`ldapnb.Directory.search`.
    error : LdapnbError or None
        What went wrong in the last attempt.

    Examples
    --------
    >>> from ldapnb import Directory
    >>> x = SearchExplorer(Directory.embedded("tiny"))
    >>> x.filter.value = "(uid=alice)"
    >>> x.results.dn.tolist()
    ['uid=alice,ou=People,dc=example,dc=com']
    >>> x.filter.value = "(uid=alice"
    >>> x.error.position
    10
    """

    def __init__(
        self,
        directory: Directory,
        *,
        filter: str = "(objectClass=*)",
        attributes: Sequence[str] | None = None,
        size_limit: int = 0,
    ):
        self.directory = directory
        self.size_limit = size_limit
        self.results: pd.DataFrame | None = None
        self.error: LdapnbError | None = None
        self.parsed: filters.Filter | None = None
        bases = search_bases(directory)
        self.base = W.Dropdown(options=bases, value=directory.base if directory.base in bases
                               else (bases[0] if bases else None), description="Base")
        self.scope = W.ToggleButtons(options=list(SCOPE_NAMES), value="sub",
                                     description="Scope")
        self.filter = W.Text(value=filter, description="Filter", continuous_update=True,
                             layout=W.Layout(width="90%"))
        self.attributes = W.Text(value=", ".join(attributes or ()), description="Attributes",
                                 placeholder="all (or e.g. cn, mail)",
                                 layout=W.Layout(width="90%"))
        self.find = W.Text(value="", description="Find name", continuous_update=False,
                           placeholder="typed text is escaped (RFC 4515)")
        self.status = W.HTML()
        self.table = _make_table()
        for control in (self.base, self.scope, self.filter, self.attributes):
            control.observe(self._changed, names="value")
        self.find.observe(self._find_changed, names="value")
        self.widget = W.VBox([
            W.HBox([self.base, self.find]), self.scope, self.filter, self.attributes,
            self.status, self.table,
        ])
        self.run()

    # -- reading the controls --------------------------------------------------------------
    def attribute_list(self) -> list[str] | None:
        """The attributes box as a list (None: all user attributes)."""
        names = [a.strip() for a in self.attributes.value.replace(" ", ",").split(",")]
        names = [a for a in names if a]
        return names or None

    def _find_changed(self, change: dict) -> None:
        if change["new"].strip():
            self.filter.value = name_filter(change["new"])

    def _changed(self, change: dict) -> None:
        self.run()

    def run(self) -> pd.DataFrame | None:
        """Validate the filter and, when it parses, search; update status and table."""
        text = self.filter.value
        try:
            self.parsed = filters.parse(text)
        except FilterError as exc:
            self.parsed = None
            self.error = exc
            self.status.value = error_html(exc)
            return None
        try:
            df = self.directory.search(
                text, base=self.base.value or "", scope=self.scope.value,
                attributes=self.attribute_list(), size_limit=self.size_limit,
            )
        except LdapnbError as exc:
            self.error = exc
            self.status.value = error_html(exc)
            return None
        self.error = None
        self.results = df
        n = len(df)
        self.status.value = (f"<b>{n}</b> entr{'y' if n == 1 else 'ies'} for "
                             f"<code>{h(filters.to_string(self.parsed))}</code>")
        _fill_table(self.table, df)
        return df


def _make_table() -> W.Widget:
    try:
        from itables.widget import ITable
    except ImportError:  # pragma: no cover - itables is in the notebook extra
        return W.HTML()
    return ITable(classes="display compact", maxBytes=0, lengthMenu=[10, 25, 100],
                  pageLength=10)


def _fill_table(table: W.Widget, df: pd.DataFrame) -> None:
    shown = display_frame(df)
    if isinstance(table, W.HTML):  # pragma: no cover - without itables
        table.value = shown.to_html(index=False, escape=True)
    else:
        table.update(shown, classes="display compact", maxBytes=0, lengthMenu=[10, 25, 100],
                     pageLength=10)
