"""Chains drawn as SVG: one renderer for the audit report and the widgets.

A chain is a list of nodes ``[account, group, ..., target]`` where each step is either a
membership ("is a member of") or a right (``GenericAll on``, ``DCSync on`` ...: a
``kind="right"`` edge of :func:`ldapnb.graph.with_rights`).  :func:`layout` places them in
columns (the target on the right), one box per node, and routes every edge only through the
gaps between columns or along rows that hold no box, so **no edge crosses a label**: an edge
that skips columns passes through them on a row of its own.  :func:`chains_svg` draws that
layout; the widgets' single chain uses the same code.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

__all__ = ["Layout", "layout", "chains_svg", "label_of"]

_CHAR_W = 6.6      # px per character at font-size 11 (a generous average)
_BOX_H = 22
_ROW_H = 34
_GAP = 70          # between columns: where edges run
_PAD = 16
_COLOURS = {"user": "#2f6f9f", "computer": "#6a4c93", "group": "#c26a00",
            "target": "#b3261e", "object": "#5f6368", "unknown": "#5f6368"}


def label_of(node: str, G: nx.DiGraph | None = None, limit: int = 32) -> str:
    """A node's short label: the graph's ``label``, else the first RDN value."""
    text = ""
    if G is not None and node in G:
        text = str(G.nodes[node].get("label") or "")
    if not text:
        text = node.split(",", 1)[0].split("=", 1)[-1].replace("\\", "")
    return text if len(text) <= limit else text[:limit - 1] + "…"


@dataclass
class Layout:
    """Where everything goes: boxes ``node -> (x, y, width, height)`` and edges
    ``(u, v, kind, rights, points)`` as polylines; ``width`` x ``height`` in pixels."""

    boxes: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    edges: list[tuple[str, str, str, tuple[str, ...], list[tuple[float, float]]]] = \
        field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    width: float = 0
    height: float = 0
    truncated: bool = False

    def crossings(self) -> list[tuple[str, str, str]]:
        """``(u, v, node)`` for every edge segment that passes through a box other than its
        own ends' (the layout promises none; tests check it)."""
        out = []
        for u, v, _, _, points in self.edges:
            for (ax, ay), (bx, by) in zip(points, points[1:], strict=False):
                for node, (x, y, w, h) in self.boxes.items():
                    if node in (u, v):
                        continue
                    if _segment_hits_box(ax, ay, bx, by, x, y, w, h):
                        out.append((u, v, node))
        return out


def _segment_hits_box(ax: float, ay: float, bx: float, by: float,
                      x: float, y: float, w: float, h: float) -> bool:
    """Liang-Barsky clipping: does the segment enter the (closed) rectangle?"""
    t0, t1 = 0.0, 1.0
    dx, dy = bx - ax, by - ay
    for p, q in ((-dx, ax - x), (dx, x + w - ax), (-dy, ay - y), (dy, y + h - ay)):
        if p == 0:
            if q < 0:
                return False
        else:
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
            if t0 > t1:
                return False
    return True


def _edge_kind(G: nx.DiGraph | None, u: str, v: str) -> tuple[str, tuple[str, ...]]:
    if G is not None and G.has_edge(u, v) and G.edges[u, v].get("kind") == "right":
        return "right", tuple(sorted(G.edges[u, v].get("rights", ())))
    return "member", ()


def layout(chains: Iterable[list[str]], G: nx.DiGraph | None = None, *,
           max_nodes: int = 400) -> Layout:
    """Place chains in columns, the chains' last nodes on the right.

    A node's column is its longest distance to the end of any chain it is on; within a
    column, rows are ordered by the average row of the neighbours (two sweeps), and an
    edge that skips columns gets a row of its own in each column it passes.

    Examples
    --------
    >>> L = layout([["uid=a,dc=x", "cn=ops,dc=x", "cn=admins,dc=x"],
    ...             ["uid=b,dc=x", "cn=admins,dc=x"]])
    >>> sorted(L.boxes) == ["cn=admins,dc=x", "cn=ops,dc=x", "uid=a,dc=x", "uid=b,dc=x"]
    True
    >>> L.crossings()
    []
    """
    H = nx.DiGraph()
    rank: dict[str, int] = {}
    out = Layout()
    ends: set[str] = set()
    starts: set[str] = set()
    for chain in chains:
        chain = [str(n) for n in chain]
        if len(chain) < 2:
            continue
        new = [n for n in chain if n not in H]
        if H.number_of_nodes() + len(new) > max_nodes:
            out.truncated = True
            break
        nx.add_path(H, chain)
        ends.add(chain[-1])
        starts.add(chain[0])
        for i, node in enumerate(chain):
            rank[node] = max(rank.get(node, 0), len(chain) - 1 - i)
    if not H:
        return out
    # a cycle among chains could make a node's rank smaller than its successor's: fix up
    for _ in range(len(H)):
        changed = False
        for u, v in H.edges:
            if rank[u] <= rank[v]:
                rank[u] = rank[v] + 1
                changed = True
        if not changed:
            break
    columns = max(rank.values()) + 1
    # virtual nodes for edges that skip columns: ("~", u, v, r) in column r
    slots: dict[int, list[Any]] = defaultdict(list)
    for node in H:
        slots[rank[node]].append(node)
    routes: dict[tuple[str, str], list[Any]] = {}
    for u, v in H.edges:
        path: list[Any] = [u]
        for r in range(rank[u] - 1, rank[v], -1):
            dummy = ("~", u, v, r)
            slots[r].append(dummy)
            path.append(dummy)
        path.append(v)
        routes[(u, v)] = path
    # order rows: start by name, then two barycentre sweeps (right to left, left to right)
    for r in slots:
        slots[r].sort(key=lambda n: (isinstance(n, tuple), str(n)))
    neighbours: dict[Any, list[Any]] = defaultdict(list)
    for path in routes.values():
        for a, b in zip(path, path[1:], strict=False):
            neighbours[a].append(b)
            neighbours[b].append(a)
    for order in (range(columns - 2, -1, -1), range(1, columns), range(columns - 2, -1, -1)):
        for r in order:
            pos = {n: i for c in slots.values() for i, n in enumerate(c)}
            slots[r].sort(key=lambda n: sum(pos[m] for m in neighbours[n])
                          / max(1, len(neighbours[n])))
    for node in H:
        out.labels[node] = label_of(node, G)
        kind = str(G.nodes[node].get("kind", "unknown")) if G is not None and node in G \
            else "unknown"
        out.roles[node] = "target" if node in ends else (
            kind if kind in _COLOURS else "unknown")
    # column widths from the longest label in each column
    widths = []
    for c in range(columns):
        names = [out.labels[n] for n in slots[columns - 1 - c] if not isinstance(n, tuple)]
        widths.append(max([len(s) for s in names] or [4]) * _CHAR_W + 2 * 8)
    xs, x = [], float(_PAD)
    for w in widths:
        xs.append(x)
        x += w + _GAP
    tallest = max(len(s) for s in slots.values())
    out.width = x - _GAP + _PAD
    out.height = _PAD * 2 + tallest * _ROW_H
    place: dict[Any, tuple[float, float]] = {}
    for r, column in slots.items():
        c = columns - 1 - r
        top = _PAD + (tallest - len(column)) * _ROW_H / 2
        for i, n in enumerate(column):
            y = top + i * _ROW_H
            place[n] = (xs[c], y)
            if not isinstance(n, tuple):
                out.boxes[n] = (xs[c], y, widths[c], _BOX_H)
    mid = _BOX_H / 2
    for (u, v), path in routes.items():
        points: list[tuple[float, float]] = []
        for k, n in enumerate(path):
            x0, y0 = place[n]
            c = columns - 1 - (rank[n] if not isinstance(n, tuple) else n[3])
            if k == 0:
                points.append((x0 + widths[c], y0 + mid))
            elif k == len(path) - 1:
                points.append((x0, y0 + mid))
            else:  # pass straight through the column on the dummy's own row
                points.append((x0, y0 + mid))
                points.append((x0 + widths[c], y0 + mid))
        kind, rights = _edge_kind(G, u, v)
        out.edges.append((u, v, kind, rights, points))
    return out


def chains_svg(chains: Iterable[list[str]], G: nx.DiGraph | None = None, *,
               max_nodes: int = 400, edge_labels: bool | None = None,
               title: str = "chains") -> str:
    """An inline SVG of chains (see :func:`layout`): membership edges grey and solid, rights
    edges red and dashed (their names in a tooltip, and written on the edge when
    ``edge_labels``; default: when there is a single chain).

    Returns ``""`` when there is nothing to draw.

    Examples
    --------
    >>> svg = chains_svg([["uid=a,dc=x", "cn=ops,dc=x", "cn=admins,dc=x"]])
    >>> svg.startswith("<svg") and svg.count("<rect") == 3 and "member of" in svg
    True
    """
    chains = [list(c) for c in chains]
    L = layout(chains, G, max_nodes=max_nodes)
    if not L.boxes:
        return ""
    if edge_labels is None:
        edge_labels = len(chains) == 1
    esc = html.escape
    height = L.height + (14 if L.truncated else 0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{L.width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {L.width:.0f} {height:.0f}" role="img" '
        f'aria-label="{esc(title)}" font-family="sans-serif" font-size="11">',
        '<defs><marker id="ldapnb-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#888"/></marker><marker id="ldapnb-arrow-right" viewBox="0 0 10 10" '
        'refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="#b3261e"/></marker></defs>',
    ]
    for u, v, kind, rights, points in L.edges:
        d = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        what = (", ".join(rights) + " on") if kind == "right" else "member of"
        style = ('stroke="#b3261e" stroke-dasharray="5,3" marker-end="url(#ldapnb-arrow-right)"'
                 if kind == "right" else 'stroke="#999" marker-end="url(#ldapnb-arrow)"')
        parts.append(f'<polyline points="{d}" fill="none" stroke-width="1.4" {style}>'
                     f'<title>{esc(L.labels[u])} — {esc(what)} → {esc(L.labels[v])}'
                     '</title></polyline>')
        if edge_labels and len(points) >= 2:
            (ax, ay), (bx, by) = points[-2], points[-1]
            parts.append(f'<text x="{(ax + bx) / 2:.1f}" y="{min(ay, by) - 5:.1f}" '
                         f'text-anchor="middle" font-size="9" fill="#5f6368">{esc(what)}'
                         "</text>")
    for node, (x, y, w, h) in L.boxes.items():
        colour = _COLOURS[L.roles[node]]
        parts.append(
            f'<g><title>{esc(node)}</title><rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" '
            f'height="{h}" rx="5" fill="#fff" stroke="{colour}" stroke-width="1.6"/>'
            f'<text x="{x + w / 2:.1f}" y="{y + h / 2 + 4:.1f}" text-anchor="middle" '
            f'fill="{colour}">{esc(L.labels[node])}</text></g>')
    if L.truncated:
        parts.append(f'<text x="8" y="{height - 6:.0f}" fill="#b3261e">only the first '
                     f'{len(L.boxes)} nodes are drawn</text>')
    parts.append("</svg>")
    return "".join(parts)
