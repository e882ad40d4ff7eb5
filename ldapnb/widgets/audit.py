"""AuditDashboard: threshold sliders -> the findings of ldapnb.audit.run, counted by severity."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from html import escape as h
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from .. import dn as dnlib
from ..errors import DnError, LdapnbError
from ._common import Thin, display_frame, error_html

if TYPE_CHECKING:
    import pandas as pd

    from ..directory import Directory

__all__ = ["AuditDashboard", "evidence_text"]

_COLOURS = {"high": "#b00020", "medium": "#d97706", "low": "#2563eb", "info": "#6b7280"}
_ALL = "all"


def _short(value: Any) -> str:
    """A DN as its first RDN (``CN=Tier0 Ops``), anything else as text."""
    if isinstance(value, str) and "=" in value and "," in value:
        try:
            return dnlib.rdn(value)
        except DnError:
            return value
    return str(value)


def evidence_text(evidence: dict[str, Any]) -> str:
    """A finding's evidence in one line: ``key: value`` pairs, chains as ``A → B``, DNs
    shortened to their first RDN.

    Examples
    --------
    >>> evidence_text({"account": "bob", "chain": ["cn=bob,dc=x", "cn=Admins,dc=x"]})
    'account: bob; chain: cn=bob → cn=Admins'
    """
    parts = []
    for key, value in evidence.items():
        if isinstance(value, list | tuple | set | frozenset):
            sep = " → " if key in ("chain", "cycle", "path") else ", "
            text = sep.join(_short(v) for v in value)
        elif isinstance(value, dict):
            text = evidence_text(value)
        else:
            text = _short(value)
        parts.append(f"{key}: {text}")
    return "; ".join(parts)


class AuditDashboard(Thin):
    """Threshold sliders -> the findings of :func:`ldapnb.audit.run`, counted by severity.

    Parameters
    ----------
    directory : Directory
        What to audit.
    now : datetime, optional
        "Now" for the age checks: give a fixture's reference date
        (``datetime(2026, 11, 1, tzinfo=UTC)`` for the bundled ones), else today.
    privileged : iterable of str
        Extra privileged groups (DNs or SIDs), passed to :func:`ldapnb.audit.run`.
    stale_days, max_depth : int
        The sliders' starting values.

    Attributes
    ----------
    stale_days, max_depth : ipywidgets.IntSlider
    severity : ipywidgets.Dropdown
        Show ``"all"`` findings or one severity.
    findings : pandas.DataFrame
        The full answer of :func:`ldapnb.audit.run` for the sliders' values.
    shown : pandas.DataFrame
        The rows in the table (after the severity choice).
    counts : dict
        Findings per severity (every level, zeros included).
    summary : ipywidgets.HTML
        The counts.
    table : itables.widget.ITable
        The findings (evidence in one line), sortable.
    """

    def __init__(self, directory: Directory, *, now: datetime | None = None,
                 privileged: Iterable[str] = (), stale_days: int = 90, max_depth: int = 5):
        from .. import audit

        self.directory = directory
        self.now = now
        self.privileged = tuple(privileged)
        self.severities: tuple[str, ...] = tuple(audit.SEVERITIES)
        self.findings: pd.DataFrame | None = None
        self.shown: pd.DataFrame | None = None
        self.counts: dict[str, int] = {}
        self.error: LdapnbError | None = None
        self.stale_days = W.IntSlider(value=stale_days, min=0, max=1000, step=1,
                                      description="Stale after (days)", continuous_update=False,
                                      style={"description_width": "initial"},
                                      layout=W.Layout(width="60%"))
        self.max_depth = W.IntSlider(value=max_depth, min=0, max=15, step=1,
                                     description="Max nesting depth", continuous_update=False,
                                     style={"description_width": "initial"},
                                     layout=W.Layout(width="60%"))
        self.severity = W.Dropdown(options=[_ALL, *self.severities], value=_ALL,
                                   description="Severity")
        self.summary = W.HTML()
        self.table = _make_table()
        self.stale_days.observe(self._changed, names="value")
        self.max_depth.observe(self._changed, names="value")
        self.severity.observe(self._filter, names="value")
        self.widget = W.VBox([self.stale_days, self.max_depth, self.severity, self.summary,
                              self.table])
        self.run()

    def _changed(self, change: dict) -> None:
        self.run()

    def run(self) -> pd.DataFrame | None:
        """Run the audit with the sliders' values; update counts and table."""
        from .. import audit

        try:
            self.findings = audit.run(self.directory, now=self.now, privileged=self.privileged,
                                      stale_days=self.stale_days.value,
                                      max_depth=self.max_depth.value)
        except LdapnbError as exc:
            self.error = exc
            self.summary.value = error_html(exc)
            return None
        self.error = None
        self.counts = {s: int((self.findings["severity"] == s).sum()) for s in self.severities}
        badges = " ".join(
            f"<span style='background:{_COLOURS.get(s, '#444')};color:white;padding:2px 8px;"
            f"border-radius:8px'>{h(s)}: <b>{n}</b></span>" for s, n in self.counts.items())
        self.summary.value = f"<div><b>{len(self.findings)}</b> findings &nbsp; {badges}</div>"
        self._filter({})
        return self.findings

    def count(self, check: str) -> int:
        """How many findings of the check ``check`` (``"privileged-stale"``, ...)."""
        if self.findings is None:
            return 0
        return int((self.findings["check"] == check).sum())

    def _filter(self, change: dict) -> None:
        if self.findings is None:
            return
        f = self.findings
        if self.severity.value != _ALL:
            f = f[f["severity"] == self.severity.value]
        self.shown = f
        _fill_table(self.table, f)


def _make_table() -> W.Widget:
    try:
        from itables.widget import ITable
    except ImportError:  # pragma: no cover - itables is in the notebook extra
        return W.HTML()
    return ITable(classes="display compact", maxBytes=0, pageLength=25,
                  lengthMenu=[10, 25, 100])


def _fill_table(table: W.Widget, findings: pd.DataFrame) -> None:
    shown = findings.copy()
    shown["severity"] = shown["severity"].astype(str)
    shown["evidence"] = [evidence_text(e) if isinstance(e, dict) else str(e)
                         for e in shown["evidence"]]
    shown = display_frame(shown.reset_index(drop=True))
    if isinstance(table, W.HTML):  # pragma: no cover - without itables
        table.value = shown.to_html(index=False)
    else:
        table.update(shown, classes="display compact", maxBytes=0, pageLength=25,
                     lengthMenu=[10, 25, 100])
