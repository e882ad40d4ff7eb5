"""Audit reports: a self-contained HTML page, an Excel workbook, or CSV.

:func:`report` writes the findings of :func:`ldapnb.audit.run` (or any DataFrame with the
columns check, severity, subject, evidence, rule) in the format its file name asks for:

``.html``
    One file that needs no network to view: inline CSS; what was audited (the source, the
    as-of date the age checks used, ldapnb's version); a summary of the counts by severity
    and by check; an SVG picture of who reaches the privileged groups and Tier-0 objects,
    through memberships and rights (:func:`ldapnb.svg.chains_svg`, the renderer the widgets
    use too, laid out so that no edge crosses a label); the chains; the findings table
    (waived findings marked); and the rule catalogue.
``.xlsx``
    A workbook (written with openpyxl, no Excel needed): a Summary sheet and a Findings
    sheet, the evidence as JSON text.
``.csv``
    The findings table, the evidence as JSON text (UTF-8).
"""

from __future__ import annotations

import html
import json
import os
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from .errors import LdapnbError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .directory import Directory

__all__ = ["report", "to_html", "svg_graph"]

#: Severity levels, most severe first (the same as :data:`ldapnb.audit.SEVERITIES`; kept
#: here so that this module never imports the audit: audit -> report, never back).
SEVERITIES: tuple[str, ...] = ("high", "medium", "low", "info")
_REQUIRED = ("check", "severity", "subject", "evidence", "rule")
#: Checks whose chains are drawn in the report's picture.
_DRAWN = ("privileged-member", "control-path", "dcsync", "tier0-acl", "adminsdholder-acl",
          "resource-based-delegation", "hidden-admin-primary-group")
_SEVERITY_COLOURS = {"high": "#b3261e", "medium": "#c26a00", "low": "#2f6f9f",
                     "info": "#5f6368"}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def _checked(findings: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    if not isinstance(findings, pd.DataFrame):
        raise LdapnbError(f"findings must be a DataFrame from audit.run, not "
                          f"{type(findings).__name__}")
    missing = [c for c in _REQUIRED if c not in findings.columns]
    if missing:
        raise LdapnbError(f"findings lack the column(s) {missing}: expected {list(_REQUIRED)}")
    return findings


def _flat(findings: pd.DataFrame) -> pd.DataFrame:
    """A copy with the evidence as JSON text and the severity as plain text."""
    out = findings.copy()
    out["evidence"] = [_json(e) if not isinstance(e, str) else e for e in out["evidence"]]
    out["severity"] = out["severity"].astype(str)
    if "chain" in out.columns:
        out["chain"] = [_json(c) if not isinstance(c, str) else c for c in out["chain"]]
    return out


def report(
    findings: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    directory: Directory | nx.DiGraph | None = None,
    title: str = "ldapnb audit",
) -> Path:
    """Write ``findings`` to ``path`` as HTML, XLSX or CSV, by its extension.

    Parameters
    ----------
    findings : pandas.DataFrame
        Columns check, severity, subject, evidence, rule (what :func:`ldapnb.audit.run`
        returns).
    path : str or os.PathLike
        The file to write: ``.html`` (or ``.htm``), ``.xlsx`` or ``.csv``.
    directory : Directory or networkx.DiGraph, optional
        For the HTML picture: the directory (or its membership graph) whose node kinds and
        names to use.  Without it the picture is drawn from the chains in the findings.
    title : str
        The report's title.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    LdapnbError
        An extension other than those above, or findings without the expected columns.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> f = pd.DataFrame([{"check": "empty-group", "severity": "low",
    ...                    "subject": "cn=x,dc=example", "evidence": {}, "rule": "..."}])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     report(f, Path(tmp) / "audit.csv").read_text().splitlines()[0]
    'check,severity,subject,evidence,rule'
    """
    findings = _checked(findings)
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix in (".html", ".htm"):
        G = directory.graph() if directory is not None and not isinstance(
            directory, nx.DiGraph) else directory
        target.write_text(to_html(findings, G=G, title=title), encoding="utf-8")
    elif suffix == ".csv":
        _flat(findings).to_csv(target, index=False, encoding="utf-8")
    elif suffix == ".xlsx":
        _xlsx(findings, target, title)
    else:
        raise LdapnbError(f"{target}: cannot write a {suffix or 'extensionless'} report; "
                          "use .html, .xlsx or .csv")
    return target


def _xlsx(findings: pd.DataFrame, target: Path, title: str) -> None:
    import pandas as pd

    flat = _flat(findings)
    summary = _summary(findings)
    meta = _meta(findings)
    counts = pd.DataFrame(
        [(title, "", ""), ("generated", datetime.now(UTC).isoformat(timespec="seconds"), ""),
         ("source", meta["source"], ""), ("as of", meta["as_of"], ""),
         ("ldapnb", meta["version"], "")]
        + [("severity", k, v) for k, v in summary["severity"].items()]
        + [("check", k, v) for k, v in summary["check"].items()],
        columns=["what", "name", "count"],
    )
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        counts.to_excel(writer, sheet_name="Summary", index=False)
        flat.to_excel(writer, sheet_name="Findings", index=False)
        if meta["rules"]:
            pd.DataFrame(meta["rules"]).to_excel(writer, sheet_name="Rules", index=False)
        sheet = writer.sheets["Findings"]
        for letter, width in zip("ABCDE", (28, 10, 60, 80, 60), strict=True):
            sheet.column_dimensions[letter].width = width
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions


def _summary(findings: pd.DataFrame) -> dict[str, dict[str, int]]:
    severity = {s: int((findings["severity"].astype(str) == s).sum()) for s in SEVERITIES}
    check: dict[str, int] = defaultdict(int)
    for name in findings["check"]:
        check[str(name)] += 1
    return {"severity": severity, "check": dict(check)}


# ------------------------------------------------------------------------------------------
# HTML
# ------------------------------------------------------------------------------------------


def _short(node: str, G: nx.DiGraph | None) -> str:
    if G is not None and node in G:
        label = G.nodes[node].get("label")
        if label:
            return str(label)
    first = node.split(",", 1)[0]
    return first.split("=", 1)[-1].replace("\\", "")


def _chains(findings: pd.DataFrame) -> list[list[str]]:
    out = []
    chains = findings["chain"] if "chain" in findings.columns else [None] * len(findings)
    for check, evidence, chain in zip(findings["check"], findings["evidence"], chains,
                                      strict=True):
        if check not in _DRAWN:
            continue
        if not (isinstance(chain, list) and chain) and isinstance(evidence, dict):
            chain = evidence.get("chain")
        if isinstance(chain, list) and len(chain) >= 2:
            out.append([str(x) for x in chain])
    return out


def _meta(findings: pd.DataFrame) -> dict[str, Any]:
    """What :func:`ldapnb.audit.run` recorded in ``findings.attrs`` (source, as-of date,
    version, rule catalogue), with plain defaults for other DataFrames."""
    from . import __version__

    attrs = getattr(findings, "attrs", {}) or {}
    return {"source": str(attrs.get("source") or "(not recorded)"),
            "as_of": str(attrs.get("as_of") or "(not recorded)"),
            "version": str(attrs.get("ldapnb_version") or __version__),
            "rules": list(attrs.get("rules") or [])}


def svg_graph(chains: list[list[str]], G: nx.DiGraph | None = None, *,
              max_nodes: int = 400) -> str:
    """An inline SVG picture of chains (:func:`ldapnb.svg.chains_svg`: the shared renderer,
    laid out so that no edge crosses a label).

    Examples
    --------
    >>> svg = svg_graph([["uid=a,dc=x", "cn=ops,dc=x", "cn=admins,dc=x"]])
    >>> svg.startswith("<svg") and svg.count("<rect") == 3
    True
    """
    from .svg import chains_svg

    return chains_svg(chains, G, max_nodes=max_nodes, edge_labels=False,
                      title="who reaches the privileged groups and Tier-0 objects")


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#202124}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{font-size:1.2rem;margin-top:2rem}
.meta{color:#5f6368;font-size:.9rem}
.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{border-radius:8px;padding:.7rem 1.2rem;color:#fff;min-width:7rem}
.card b{display:block;font-size:1.8rem}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{border-bottom:1px solid #e0e0e0;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f1f3f4;position:sticky;top:0}
.sev{font-weight:600;text-transform:uppercase;font-size:.75rem}
.dn{font-family:ui-monospace,monospace;font-size:.8rem;word-break:break-all}
.chain{font-family:ui-monospace,monospace;font-size:.8rem}
.ev{font-size:.8rem;color:#3c4043} .ev span{display:block}
.rule{color:#5f6368;font-size:.8rem}
.graph{overflow-x:auto;border:1px solid #e0e0e0;border-radius:8px;padding:.5rem}
.legend span{margin-right:1rem;font-size:.8rem}
.waived{color:#5f6368;font-weight:400;text-transform:none}
.legend i{display:inline-block;width:.7rem;height:.7rem;border-radius:50%;margin-right:.3rem}
"""


def _evidence_html(evidence: Any, G: nx.DiGraph | None) -> str:
    if not isinstance(evidence, dict):
        return html.escape(str(evidence))
    out = []
    for key, value in evidence.items():
        if key in ("chain", "cycle", "chain_before") and isinstance(value, list):
            shown = " &rarr; ".join(
                f'<span title="{html.escape(str(n))}" style="display:inline">'
                f'{html.escape(_short(str(n), G))}</span>' for n in value)
            out.append(f'<span class="chain"><b>{html.escape(key)}</b>: {shown}</span>')
        elif value in (None, "", [], {}):
            continue
        else:
            text = value if isinstance(value, str) else _json(value)
            out.append(f"<span><b>{html.escape(key)}</b>: {html.escape(text)}</span>")
    return "".join(out)


def to_html(findings: pd.DataFrame, *, G: nx.DiGraph | None = None,
            title: str = "ldapnb audit") -> str:
    """The HTML report as a string (see :func:`report`).

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame([{"check": "empty-group", "severity": "low",
    ...                    "subject": "cn=x,dc=example", "evidence": {}, "rule": "r"}])
    >>> "<h1>ldapnb audit</h1>" in to_html(f)
    True
    """
    findings = _checked(findings)
    summary = _summary(findings)
    meta = _meta(findings)
    esc = html.escape
    now = datetime.now(UTC).isoformat(timespec="seconds")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="meta">{len(findings)} findings &middot; source <b>{esc(meta["source"])}'
        f'</b> &middot; as of <b>{esc(meta["as_of"])}</b> (the date the age checks '
        f'counted from) &middot; generated {now} by ldapnb {esc(meta["version"])}</p>',
        '<h2 id="summary">Summary</h2><div class="cards">',
    ]
    for severity, count in summary["severity"].items():
        parts.append(f'<div class="card" style="background:{_SEVERITY_COLOURS[severity]}">'
                     f"<b>{count}</b>{esc(severity)}</div>")
    parts.append("</div><table><tr><th>check</th><th>findings</th></tr>")
    for name, count in summary["check"].items():
        parts.append(f"<tr><td>{esc(name)}</td><td>{count}</td></tr>")
    parts.append("</table>")

    chains = _chains(findings)
    svg = svg_graph(chains, G)
    if svg:
        parts.append(
            '<h2 id="graph">Privileged groups and Tier-0 objects: who reaches them</h2>'
            '<p class="legend"><span><i style="background:#2f6f9f"></i>user</span>'
            '<span><i style="background:#6a4c93"></i>computer</span>'
            '<span><i style="background:#c26a00"></i>group</span>'
            '<span><i style="background:#b3261e"></i>privileged group / Tier-0 object</span>'
            '<span>grey arrow: is a member of; red dashed arrow: holds a right on (hover for '
            'its name)</span></p>'
            f'<div class="graph">{svg}</div>')
        by_account: dict[str, list[list[str]]] = defaultdict(list)
        for chain in chains:
            by_account[chain[0]].append(chain)
        parts.append('<h2 id="chains">Chains</h2><table><tr><th>account</th>'
                     "<th>chains (&rarr;: is a member of, or holds a right on)</th></tr>")
        for account, items in by_account.items():
            shown = "<br>".join(" &rarr; ".join(esc(_short(n, G)) for n in c) for c in items)
            parts.append(f'<tr><td class="dn" title="{esc(account)}">'
                         f'{esc(_short(account, G))}</td><td class="chain">{shown}</td></tr>')
        parts.append("</table>")

    parts.append('<h2 id="findings">Findings</h2><table><tr><th>severity</th><th>check</th>'
                 "<th>subject</th><th>evidence</th><th>rule</th></tr>")
    for row in findings.to_dict("records"):
        severity = str(row["severity"])
        colour = _SEVERITY_COLOURS.get(severity, "#202124")
        ids = " ".join(x for x in (row.get("rule_id"), row.get("pingcastle"),
                                   row.get("attack")) if isinstance(x, str) and x)
        waived = (f'<br><span class="waived">waived: {esc(str(row.get("waiver")))}</span>'
                  if row.get("waived") else "")
        fix = row.get("remediation")
        parts.append(
            f'<tr><td class="sev" style="color:{colour}">{esc(severity)}{waived}</td>'
            f'<td>{esc(str(row["check"]))}<br><span class="rule">{esc(ids)}</span></td>'
            f'<td class="dn">{esc(str(row["subject"]))}</td>'
            f'<td class="ev">{_evidence_html(row["evidence"], G)}</td>'
            f'<td class="rule">{esc(str(row["rule"]))}'
            + (f"<br><b>Fix</b>: {esc(str(fix))}" if isinstance(fix, str) and fix else "")
            + "</td></tr>")
    parts.append("</table>")
    if meta["rules"]:
        parts.append('<h2 id="rules">Rule catalogue</h2><table><tr><th>rule</th><th>check</th>'
                     "<th>severity</th><th>PingCastle</th><th>ATT&amp;CK</th>"
                     "<th>why</th></tr>")
        for rule in meta["rules"]:
            parts.append(
                f'<tr><td>{esc(str(rule.get("rule_id", "")))}</td>'
                f'<td>{esc(str(rule.get("check", "")))}</td>'
                f'<td>{esc(str(rule.get("severity", "")))}</td>'
                f'<td>{esc(str(rule.get("pingcastle", "")))}</td>'
                f'<td>{esc(str(rule.get("attack", "")))}</td>'
                f'<td class="rule">{esc(str(rule.get("rule", "")))}</td></tr>')
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
