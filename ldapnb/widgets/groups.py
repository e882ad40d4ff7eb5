"""GroupExplorer: pick a user or a group; see effective membership and the chain as a graph."""

from __future__ import annotations

from html import escape as h
from typing import TYPE_CHECKING, Any

import ipywidgets as W
import networkx as nx

from .. import graph as gr
from ..errors import LdapnbError, NoSuchEntry
from ._common import Thin, error_html, html_table

if TYPE_CHECKING:
    from ..directory import Directory

__all__ = ["GroupExplorer", "chain_svg"]

_STYLE = [
    {"selector": "node", "style": {"label": "data(label)", "font-size": "10px",
                                   "background-color": "#9fb3c8", "text-valign": "bottom"}},
    {"selector": "node.group", "style": {"shape": "round-rectangle",
                                         "background-color": "#f0c36d"}},
    {"selector": "node.privileged", "style": {"background-color": "#e0564f"}},
    {"selector": "node.picked", "style": {"border-width": 3, "border-color": "#222"}},
    {"selector": "edge", "style": {"curve-style": "bezier", "target-arrow-shape": "triangle",
                                   "width": 1, "line-color": "#bbb",
                                   "target-arrow-color": "#bbb"}},
    {"selector": "edge.chain", "style": {"width": 3, "line-color": "#d33",
                                         "target-arrow-color": "#d33"}},
]


def chain_svg(labels: list[str], privileged: list[bool] | None = None,
              G: nx.DiGraph | None = None, nodes: list[str] | None = None) -> str:
    """A chain drawn as an SVG by :func:`ldapnb.svg.chains_svg` (the report's renderer):
    boxes left to right, "member of" (or, on a graph with rights, "GenericAll on" ...)
    written on each arrow.

    ``nodes`` and ``G``: the chain's nodes in that graph, so that its kinds and rights
    edges are drawn; without them, ``labels`` are the nodes.

    Examples
    --------
    >>> svg = chain_svg(["alice", "Admins"])
    >>> svg.startswith("<svg") and "alice" in svg and "member of" in svg
    True
    """
    from ..svg import chains_svg

    chain = list(nodes) if nodes else list(labels)
    if G is None:
        G = nx.DiGraph()
        for n, label, priv in zip(chain, labels, privileged or [False] * len(chain),
                                  strict=True):
            G.add_node(n, label=label, kind="group" if priv else "unknown")
        nx.add_path(G, chain)
    return chains_svg([chain], G, edge_labels=True, title="membership chain")


class GroupExplorer(Thin):
    """Pick a user or a group: see its effective groups (for a member) or effective members
    (for a group), from :func:`ldapnb.graph.effective_groups` /
    :func:`~ldapnb.graph.effective_members` on :meth:`ldapnb.Directory.graph`, and the
    chain (:func:`ldapnb.graph.why`) to a chosen group or from a chosen member, drawn as an
    interactive graph (ipycytoscape; an SVG of the chain when it is not installed).

    Parameters
    ----------
    directory : Directory
    max_drawn : int
        Draw the whole membership neighbourhood up to this many nodes; beyond it, only the
        chain.

    Attributes
    ----------
    pick : ipywidgets.Combobox
        A user or group: its label as offered (``"Alice Martin (alice.martin)"``), an
        account name, a DN in any spelling or a SID.
    target : ipywidgets.Dropdown
        The other end of the chain: one of the effective groups (or members).
    node : str or None
        The picked node (a DN) of :attr:`G`.
    groups, members : set of str
        Effective groups (when a member is picked) / effective members (when a group is).
    chain : list of str
        The chain from member to group, as DNs (``[]`` when there is none).
    summary, chain_text, status : ipywidgets.HTML
    drawing : ipycytoscape.CytoscapeWidget or ipywidgets.HTML
    G : networkx.DiGraph
        The membership graph.

    Examples
    --------
    >>> from ldapnb import Directory
    >>> x = GroupExplorer(Directory.embedded("tiny"))
    >>> x.pick.value = "bob"
    >>> sorted(x.label(g) for g in x.groups)
    ['admins', 'developers']
    >>> x.target.value = "cn=developers,ou=Groups,dc=example,dc=com"
    >>> [x.label(n) for n in x.chain]
    ['Bob Baker', 'admins', 'developers']
    """

    def __init__(self, directory: Directory, *, max_drawn: int = 60):
        self.directory = directory
        self.max_drawn = max_drawn
        self.G: nx.DiGraph = directory.graph()
        self.node: str | None = None
        self.groups: set[str] = set()
        self.members: set[str] = set()
        self.chain: list[str] = []
        self._choices = self._names()
        self.pick = W.Combobox(options=sorted(self._choices, key=str.lower),
                               placeholder="a user or a group", description="Pick",
                               ensure_option=False, continuous_update=False,
                               layout=W.Layout(width="60%"))
        self.target = W.Dropdown(options=[], description="Chain with",
                                 layout=W.Layout(width="60%"))
        self.status = W.HTML()
        self.summary = W.HTML()
        self.chain_text = W.HTML()
        self.drawing = _make_drawing()
        self.pick.observe(self._picked, names="value")
        self.target.observe(self._targeted, names="value")
        self.widget = W.VBox([self.pick, self.status, self.target, self.chain_text,
                              self.drawing, self.summary])

    # -- names ------------------------------------------------------------------------------
    def _names(self) -> dict[str, str]:
        """Offered text -> node: "label (account)" for entries, disambiguated by DN."""
        accounts: dict[str, str] = {}
        try:
            found = self.directory.entries("(|(sAMAccountName=*)(uid=*))",
                                           attributes=["sAMAccountName", "uid"])
            for e in found:
                name = e.first("sAMAccountName") or e.first("uid")
                if isinstance(name, str):
                    accounts[e.dn] = name
        except LdapnbError:  # pragma: no cover - a directory without these attributes
            pass
        self._accounts: dict[str, list[str]] = {}
        self._account_of = accounts
        texts: dict[str, list[str]] = {}
        for node, data in self.G.nodes(data=True):
            if data.get("dangling"):
                continue
            label = str(data.get("label") or node)
            account = accounts.get(node)
            if account:
                self._accounts.setdefault(account.lower(), []).append(node)
            text = label if not account or account == label else f"{label} ({account})"
            texts.setdefault(text, []).append(node)
        out: dict[str, str] = {}
        for text, nodes in texts.items():
            if len(nodes) == 1:
                out[text] = nodes[0]
            else:
                for n in nodes:
                    out[f"{text} — {n}"] = n
        return out

    def label(self, node: str) -> str:
        """A node's label (cn, else account name, else the RDN value)."""
        return str(self.G.nodes[node].get("label") or node)

    def resolve(self, text: str) -> str:
        """The node for what was typed: an offered name, an account name, a DN, a SID or a
        unique label (case-insensitive)."""
        text = text.strip()
        if text in self._choices:
            return self._choices[text]
        by_account = self._accounts.get(text.lower(), [])
        exact = [n for n in by_account if self._account_of.get(n) == text]
        if len(exact) == 1:
            return exact[0]
        if len(by_account) == 1:
            return by_account[0]
        try:
            return gr.lookup(self.G, text)
        except (NoSuchEntry, LdapnbError):
            pass
        by_label = [n for n, d in self.G.nodes(data=True)
                    if str(d.get("label", "")).lower() == text.lower()]
        if len(by_label) == 1:
            return by_label[0]
        hint = (f"; {len(by_account) + len(by_label)} entries have that name: pick one from "
                "the list" if by_account or len(by_label) > 1 else "")
        raise NoSuchEntry(text, message=f"{text!r} is not a user or group of this "
                          f"directory's membership graph{hint}")

    # -- reacting ---------------------------------------------------------------------------
    def _picked(self, change: dict) -> None:
        text = change["new"]
        if not text.strip():
            return
        try:
            self.show(self.resolve(text))
        except LdapnbError as exc:
            self.status.value = error_html(exc)

    def _targeted(self, change: dict) -> None:
        self._update_chain()

    def is_group(self, node: str) -> bool:
        return self.G.nodes[node].get("kind") == "group"

    def show(self, node: str) -> None:
        """Show effective membership of ``node`` (a node of :attr:`G`)."""
        self.node = node
        data = self.G.nodes[node]
        group = self.is_group(node)
        self.groups = gr.effective_groups(self.G, node)
        self.members = gr.effective_members(self.G, node) if group else set()
        kind = data.get("kind", "entry")
        lines = [f"<b>{h(self.label(node))}</b> ({h(kind)}) <code>{h(node)}</code>"]
        if data.get("privileged"):
            lines.append(f" — <b>privileged</b>: {h(str(data.get('privileged_by', '')))}")
        lines.append(f"<br>member of <b>{len(self.groups)}</b> group(s), directly or nested")
        if group:
            lines.append(f"; <b>{len(self.members)}</b> effective member(s)")
        self.status.value = "".join(lines)
        # the other end of the chain: members of a group, else groups of a member
        others = self.members if group else self.groups
        order = sorted(others, key=lambda n: (not self.G.nodes[n].get("privileged", False),
                                              self.label(n).lower()))
        options = [(self._option(n), n) for n in order]
        self.target.unobserve(self._targeted, names="value")
        self.target.options = options
        self.target.value = options[0][1] if options else None
        self.target.observe(self._targeted, names="value")
        self.summary.value = self._summary(node, group)
        self._update_chain()

    def _option(self, n: str) -> str:
        mark = " ★ privileged" if self.G.nodes[n].get("privileged") else ""
        return f"{self.label(n)}{mark}"

    def _summary(self, node: str, group: bool) -> str:
        parts = []
        for title, nodes, direct in (
            ("Effective groups", self.groups, set(self.G.successors(node))),
            ("Effective members", self.members, set(self.G.predecessors(node))),
        ):
            if not nodes and (title == "Effective members" and not group):
                continue
            rows = sorted(
                ((self.label(n), self.G.nodes[n].get("kind", ""),
                  "direct" if n in direct else "nested",
                  "yes" if self.G.nodes[n].get("privileged") else "", n) for n in nodes),
                key=lambda r: (r[2], r[0].lower()))
            parts.append(f"<b>{title}</b> ({len(rows)})" + html_table(
                rows, ["name", "kind", "how", "privileged", "DN"]))
        return "".join(parts)

    def _update_chain(self) -> None:
        other = self.target.value
        if self.node is None or other is None:
            self.chain = []
            self.chain_text.value = ""
            self._draw()
            return
        member, group = (other, self.node) if self.is_group(self.node) and \
            other in self.members else (self.node, other)
        paths = gr.why(self.G, member, group)
        self.chain = paths[0] if paths else []
        if self.chain:
            self.chain_text.value = ("<b>Chain</b>: " + " → ".join(
                h(self.label(n)) for n in self.chain)
                + f" <i>({len(self.chain) - 2} group(s) in between)</i>")
        else:
            self.chain_text.value = "<i>no membership chain</i>"
        self._draw()

    def chain_labels(self) -> list[str]:
        """The chain as labels, member first."""
        return [self.label(n) for n in self.chain]

    # -- drawing ----------------------------------------------------------------------------
    def drawn_graph(self) -> nx.DiGraph:
        """What is drawn: the picked node with its effective groups and members (when at
        most ``max_drawn`` nodes; else just the chain), edges member -> group, the chain's
        edges with class ``chain``."""
        if self.node is None:
            return nx.DiGraph()
        nodes = {self.node} | self.groups | self.members
        if len(nodes) > self.max_drawn:
            nodes = set(self.chain) | {self.node}
        sub = nx.DiGraph()
        chain_edges = set(zip(self.chain, self.chain[1:], strict=False))
        for n in nodes:
            d = self.G.nodes[n]
            classes = [str(d.get("kind", "unknown"))]
            if d.get("privileged"):
                classes.append("privileged")
            if n == self.node:
                classes.append("picked")
            if n in self.chain:
                classes.append("chain")
            sub.add_node(n, label=self.label(n), kind=str(d.get("kind", "")),
                         classes=" ".join(classes))
        for u, v in self.G.subgraph(nodes).edges:
            sub.add_edge(u, v, classes="chain" if (u, v) in chain_edges else "")
        return sub

    def _draw(self) -> None:
        if isinstance(self.drawing, W.HTML):
            privileged = [bool(self.G.nodes[n].get("privileged")) for n in self.chain]
            self.drawing.value = chain_svg(self.chain_labels(), privileged, G=self.G,
                                           nodes=self.chain) if self.chain else ""
            return
        cy: Any = self.drawing
        cy.graph.clear()
        cy.graph.add_graph_from_networkx(self.drawn_graph(), directed=True)


def _make_drawing() -> W.Widget:
    try:
        import ipycytoscape
    except ImportError:  # pragma: no cover - ipycytoscape is in the notebook extra
        return W.HTML()
    cy = ipycytoscape.CytoscapeWidget()
    cy.set_style(_STYLE)
    cy.set_layout(name="breadthfirst", directed=True, spacingFactor=1.1)
    cy.layout.height = "360px"
    return cy
