"""Audit reports: a self-contained HTML page, an Excel workbook, or CSV.

:func:`report` writes the findings of :func:`ldapnb.audit.run` (or any DataFrame with the
columns check, severity, subject, evidence, rule) in the format its file name asks for:

``.html``
    One file that needs no network to view: inline CSS, a summary of the counts by
    severity and by check, an SVG picture of the privileged groups' membership (drawn by
    hand from :func:`networkx.multipartite_layout`, so no plotting library is needed), the
    chains that make each account privileged, and the findings table.
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

_REQUIRED = ("check", "severity", "subject", "evidence", "rule")
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
    counts = pd.DataFrame(
        [(title, "", ""), ("generated", datetime.now(UTC).isoformat(timespec="seconds"), "")]
        + [("severity", k, v) for k, v in summary["severity"].items()]
        + [("check", k, v) for k, v in summary["check"].items()],
        columns=["what", "name", "count"],
    )
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        counts.to_excel(writer, sheet_name="Summary", index=False)
        flat.to_excel(writer, sheet_name="Findings", index=False)
        sheet = writer.sheets["Findings"]
        for letter, width in zip("ABCDE", (28, 10, 60, 80, 60), strict=True):
            sheet.column_dimensions[letter].width = width
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions


def _summary(findings: pd.DataFrame) -> dict[str, dict[str, int]]:
    from .audit import SEVERITIES

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
    for check, evidence in zip(findings["check"], findings["evidence"], strict=True):
        if check == "privileged-member" and isinstance(evidence, dict):
            chain = evidence.get("chain")
            if isinstance(chain, list) and len(chain) >= 2:
                out.append([str(x) for x in chain])
    return out


def svg_graph(chains: list[list[str]], G: nx.DiGraph | None = None, *,
              max_nodes: int = 400) -> str:
    """An inline SVG picture of membership chains: accounts on the left, the privileged
    groups they reach on the right, nested groups between.

    Parameters
    ----------
    chains : list of list of str
        Chains ``[member, group, ..., privileged group]``.
    G : networkx.DiGraph, optional
        The membership graph, for node kinds and labels.
    max_nodes : int
        Past this many nodes, only the first chains that fit are drawn (the picture says so).

    Returns
    -------
    str
        An ``<svg>`` element ('' when there is nothing to draw).

    Examples
    --------
    >>> svg = svg_graph([["uid=a,dc=x", "cn=ops,dc=x", "cn=admins,dc=x"]])
    >>> svg.startswith("<svg") and svg.count("<circle") == 3
    True
    """
    H = nx.DiGraph()
    rank: dict[str, int] = {}
    truncated = False
    for chain in chains:
        new = [n for n in chain if n not in H]
        if H.number_of_nodes() + len(new) > max_nodes:
            truncated = True
            break
        nx.add_path(H, chain)
        for i, node in enumerate(chain):
            rank[node] = max(rank.get(node, 0), len(chain) - 1 - i)
    if not H:
        return ""
    ends = {chain[-1] for chain in chains if chain[-1] in H}
    starts = {chain[0] for chain in chains if chain[0] in H}
    for node in H:
        H.nodes[node]["layer"] = -rank[node]
    pos = nx.multipartite_layout(H, subset_key="layer", align="vertical", scale=1.0)
    per_layer: dict[int, int] = defaultdict(int)
    for node in H:
        per_layer[rank[node]] += 1
    layers = len(per_layer)
    tallest = max(per_layer.values())
    width = max(640, 210 * layers + 40)
    height = max(160, 26 * tallest + 60)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)

    def at(node: str) -> tuple[float, float]:
        x, y = pos[node]
        fx = 0.5 if x1 == x0 else (x - x0) / (x1 - x0)
        fy = 0.5 if y1 == y0 else (y - y0) / (y1 - y0)
        return 20 + fx * (width - 220), 30 + fy * (height - 60)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        'aria-label="membership chains to privileged groups">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#888"/></marker></defs>',
    ]
    for u, v in H.edges:
        (ax, ay), (bx, by) = at(u), at(v)
        parts.append(f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{bx - 7:.1f}" y2="{by:.1f}" '
                     'stroke="#aaa" stroke-width="1.2" marker-end="url(#arrow)"/>')
    for node in H:
        x, y = at(node)
        kind = G.nodes[node].get("kind") if G is not None and node in G else None
        if node in ends:
            colour, role = "#b3261e", "privileged group"
        elif node in starts and kind != "group":
            colour = "#2f6f9f" if kind != "computer" else "#6a4c93"
            role = kind or "account"
        else:
            colour, role = "#c26a00", "nested group"
        name = html.escape(_short(node, G))
        parts.append(
            f'<g><title>{html.escape(node)} ({role})</title>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{colour}"/>'
            f'<text x="{x + 9:.1f}" y="{y + 4:.1f}" font-size="11">{name}</text></g>')
    if truncated:
        parts.append(f'<text x="8" y="{height - 8}" font-size="11" fill="#b3261e">'
                     f'only the first {H.number_of_nodes()} nodes are drawn</text>')
    parts.append("</svg>")
    return "".join(parts)


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
    esc = html.escape
    now = datetime.now(UTC).isoformat(timespec="seconds")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="meta">{len(findings)} findings &middot; generated {now} by ldapnb</p>',
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
            '<h2 id="graph">Privileged groups: who reaches them</h2>'
            '<p class="legend"><span><i style="background:#2f6f9f"></i>user</span>'
            '<span><i style="background:#6a4c93"></i>computer</span>'
            '<span><i style="background:#c26a00"></i>nested group</span>'
            '<span><i style="background:#b3261e"></i>privileged group</span></p>'
            f'<div class="graph">{svg}</div>')
        by_account: dict[str, list[list[str]]] = defaultdict(list)
        for chain in chains:
            by_account[chain[0]].append(chain)
        parts.append('<h2 id="chains">Chains</h2><table><tr><th>account</th>'
                     "<th>membership chains (&rarr; = is a member of)</th></tr>")
        for account, items in by_account.items():
            shown = "<br>".join(" &rarr; ".join(esc(_short(n, G)) for n in c) for c in items)
            parts.append(f'<tr><td class="dn" title="{esc(account)}">'
                         f'{esc(_short(account, G))}</td><td class="chain">{shown}</td></tr>')
        parts.append("</table>")

    parts.append('<h2 id="findings">Findings</h2><table><tr><th>severity</th><th>check</th>'
                 "<th>subject</th><th>evidence</th><th>rule</th></tr>")
    for row in findings.itertuples(index=False):
        severity = str(row.severity)
        colour = _SEVERITY_COLOURS.get(severity, "#202124")
        parts.append(
            f'<tr><td class="sev" style="color:{colour}">{esc(severity)}</td>'
            f"<td>{esc(str(row.check))}</td><td class=\"dn\">{esc(str(row.subject))}</td>"
            f'<td class="ev">{_evidence_html(row.evidence, G)}</td>'
            f'<td class="rule">{esc(str(row.rule))}</td></tr>')
    parts.append("</table></body></html>")
    return "\n".join(parts)
