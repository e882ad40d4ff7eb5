"""Small presentation helpers shared by the widgets: no LDAP logic lives here."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

import ipywidgets as W
import pandas as pd

from ..errors import FilterError, LdapnbError

__all__ = ["Thin", "display_frame", "error_html", "html_table"]


class Thin:
    """Base of ldapnb's widgets: a plain object holding controls, shown through ``.widget``.

    Displaying the object (the last expression of a cell) displays ``.widget``.
    """

    widget: W.Widget

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def _cell(value: Any) -> Any:
    """One DataFrame cell as text a table can show: lists joined, binary as its size."""
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, str):
        return value
    if hasattr(value, "__len__") and not isinstance(value, dict):  # list, ndarray
        return "; ".join(str(_cell(v)) for v in value)
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return value


def display_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` for on-screen tables: multi-valued cells joined with ``"; "``,
    binary values shown as ``<N bytes>``; numeric columns kept numeric (so they sort as
    numbers).

    Examples
    --------
    >>> shown = display_frame(pd.DataFrame({"cn": [["a", "b"]], "photo": [[b"\\xff\\xd8"]],
    ...                                     "n": [1]}))
    >>> shown.cn.tolist(), shown.photo.tolist(), shown.n.dtype.kind
    (['a; b'], ['<2 bytes>'], 'i')
    """
    out = {}
    for name in df.columns:
        col = df[name]
        numeric = pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(
            col.dtype)
        if numeric and not col.isna().any():
            out[name] = col.to_numpy()
        else:
            out[name] = pd.Series([_cell(v) for v in col], index=df.index, dtype="object")
    return pd.DataFrame(out, index=df.index)


def error_html(exc: LdapnbError) -> str:
    """An ldapnb error as HTML: the message, and for a filter error a caret under the
    position where parsing failed (no traceback).

    Examples
    --------
    >>> from ldapnb.filters import parse
    >>> try:
    ...     parse("(cn=a")
    ... except FilterError as exc:
    ...     "(position 5)" in error_html(exc)
    True
    """
    if isinstance(exc, FilterError) and exc.position is not None:
        text = exc.filter
        caret = " " * exc.position + "^"
        return (
            "<div class='ldapnb-error' style='color:#b00020'>"
            f"<b>{escape(type(exc).__name__)}</b>: {escape(exc.reason)} "
            f"(position {exc.position})<pre style='margin:2px 0'>{escape(text)}\n{caret}"
            "</pre></div>"
        )
    return (
        "<div class='ldapnb-error' style='color:#b00020'>"
        f"<b>{escape(type(exc).__name__)}</b>: {escape(str(exc))}</div>"
    )


def html_table(rows: Iterable[Iterable[Any]], header: Iterable[str]) -> str:
    """A plain HTML table (cells escaped)."""
    head = "".join(f"<th style='text-align:left'>{escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td style='text-align:left'>{escape(str(c))}</td>" for c in r)
        + "</tr>"
        for r in rows
    )
    return (f"<table class='ldapnb-table'><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")
