"""TreeBrowser: the DIT as an expandable tree; picking an entry shows its attributes."""

from __future__ import annotations

from html import escape as h
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from .. import dn as dnlib
from ..entry import Entry
from ..errors import DnError, LdapnbError, NoSuchEntry
from ._common import Thin, error_html

if TYPE_CHECKING:
    import ipytree
    import networkx as nx

    from ..directory import Directory

__all__ = ["TreeBrowser"]

_FOLDERS = {"organizationalunit", "organizationalrole", "container", "domain", "dcobject",
            "organization", "builtindomain"}
_GROUPS = {"group", "groupofnames", "groupofuniquenames", "posixgroup", "groupofurls"}
_PEOPLE = {"person", "user", "inetorgperson", "posixaccount", "account"}


def _icon(object_classes: list[str]) -> str:
    oc = {c.lower() for c in object_classes}
    if "computer" in oc:
        return "desktop"
    if oc & _GROUPS:
        return "users"
    if oc & _PEOPLE:
        return "user"
    if oc & _FOLDERS:
        return "folder"
    return "file"


class TreeBrowser(Thin):
    """Browse the DIT (:meth:`ldapnb.Directory.tree`): expand and collapse branches, pick
    an entry to see its attributes (passwords hidden, as :meth:`ldapnb.Entry._repr_html_`
    shows them).

    Branches are filled in when first opened, so large directories stay quick; a branch
    shows at most ``max_children`` children (use the "Go to DN" box for the rest).

    Parameters
    ----------
    directory : Directory
    max_children : int
        Children shown per branch.

    Attributes
    ----------
    tree : ipytree.Tree
        The tree; each node's ``opened`` and ``selected`` can be set from Python.
    goto : ipywidgets.Text
        Type a DN (any spelling) to open the path to it and pick it.
    details : ipywidgets.HTML
        The picked entry's attributes.
    dit : networkx.DiGraph
        ``directory.tree()``.
    selected : str or None
        The picked DN.
    entry : Entry or None
        The picked entry (as :meth:`ldapnb.Directory.get` returns it).

    Examples
    --------
    >>> from ldapnb import Directory
    >>> b = TreeBrowser(Directory.embedded("tiny"))
    >>> b.goto.value = "UID=alice, ou=people, dc=example, dc=com"
    >>> b.selected
    'uid=alice,ou=People,dc=example,dc=com'
    >>> "alice-pw" in b.details.value
    False
    """

    def __init__(self, directory: Directory, *, max_children: int = 500):
        import ipytree

        self.directory = directory
        self.max_children = max_children
        self.dit: nx.DiGraph = directory.tree()
        self._index: dict[str, str] = {}
        for node in self.dit.nodes:
            try:
                self._index[dnlib.normalize(node)] = node
            except DnError:  # pragma: no cover - DNs in a directory parse
                self._index[node.lower()] = node
        self._nodes: dict[str, ipytree.Node] = {}
        self._filled: set[str] = set()
        self.selected: str | None = None
        self.entry: Entry | None = None
        self.tree = ipytree.Tree(multiple_selection=False)
        roots = sorted((n for n in self.dit.nodes if n and self.dit.in_degree(n) == 0),
                       key=str.lower)
        self.tree.nodes = tuple(self._node(r) for r in roots)
        self.goto = W.Text(description="Go to DN", continuous_update=False,
                           layout=W.Layout(width="90%"))
        self.goto.observe(self._goto, names="value")
        self.details = W.HTML("<i>pick an entry</i>")
        self.widget = W.VBox([self.goto, W.HBox([self.tree, self.details])])

    # -- building nodes ---------------------------------------------------------------------
    def _node(self, dn: str) -> ipytree.Node:
        import ipytree

        data: dict[str, Any] = self.dit.nodes[dn]
        kids = self.dit.out_degree(dn)
        label = dn if self.dit.in_degree(dn) == 0 else (data.get("rdn") or dn)
        if kids:
            label += f"  ({kids})"
        node = ipytree.Node(label, opened=False, icon=_icon(data.get("objectClass", [])))
        if kids:
            node.nodes = (ipytree.Node("…", icon="ellipsis-h", disabled=True),)
            node.observe(lambda change, dn=dn: self._opened(dn, change), names="opened")
        node.observe(lambda change, dn=dn: self._selected(dn, change), names="selected")
        self._nodes[dn] = node
        return node

    def _fill(self, dn: str) -> None:
        if dn in self._filled:
            return
        self._filled.add(dn)
        import ipytree

        kids = sorted(self.dit.successors(dn), key=lambda c: str(self.dit.nodes[c].get("rdn",
                                                                                       c)).lower())
        shown = [self._node(c) for c in kids[: self.max_children]]
        if len(kids) > self.max_children:
            shown.append(ipytree.Node(f"… {len(kids) - self.max_children} more: use Go to DN",
                                      icon="ellipsis-h", disabled=True))
        self._nodes[dn].nodes = tuple(shown)

    def _opened(self, dn: str, change: dict) -> None:
        if change["new"]:
            self._fill(dn)

    def _selected(self, dn: str, change: dict) -> None:
        if change["new"]:
            for other, node in self._nodes.items():  # one pick at a time, as a click does
                if other != dn and node.selected:
                    node.selected = False
            self.show(dn)

    # -- public -----------------------------------------------------------------------------
    def node(self, dn: str) -> ipytree.Node:
        """The tree node of ``dn`` (any spelling), opening the branches above it."""
        stored = self.resolve(dn)
        path = [stored]
        while True:
            parents = list(self.dit.predecessors(path[-1]))
            if not parents:
                break
            path.append(parents[0])
        for above in reversed(path[1:]):
            self._fill(above)
            self._nodes[above].opened = True
        if stored not in self._nodes:  # beyond max_children: add it to its branch
            parent = path[1] if len(path) > 1 else None
            new = self._node(stored)
            if parent is not None:
                self._nodes[parent].add_node(new)
        return self._nodes[stored]

    def resolve(self, dn: str) -> str:
        """The DN as the directory stores it; NoSuchEntry if it is not in the tree."""
        if dn in self.dit:
            return dn
        try:
            key = dnlib.normalize(dn)
        except DnError:
            key = dn.lower()
        if key not in self._index:
            raise NoSuchEntry(dn, naming_contexts=self.directory.naming_contexts)
        return self._index[key]

    def select(self, dn: str) -> Entry:
        """Open the path to ``dn``, pick it (as a click would) and return its entry."""
        node = self.node(dn)
        if node.selected:
            self.show(self.resolve(dn))
        else:
            node.selected = True
        assert self.entry is not None
        return self.entry

    def show(self, dn: str) -> None:
        """Show the attributes of ``dn`` in :attr:`details`."""
        try:
            entry = self.directory.get(dn)
        except LdapnbError as exc:
            self.details.value = error_html(exc)
            return
        self.selected, self.entry = entry.dn, entry
        kids = self.dit.out_degree(entry.dn) if entry.dn in self.dit else 0
        self.details.value = entry._repr_html_() + (
            f"<div><i>{kids} child entr{'y' if kids == 1 else 'ies'}</i></div>" if kids else "")

    def _goto(self, change: dict) -> None:
        text = change["new"].strip()
        if not text:
            return
        try:
            self.select(text)
        except LdapnbError as exc:
            self.details.value = error_html(exc) + f"<div>{h(text)}</div>"
