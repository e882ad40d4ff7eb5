"""What a reading of the package's layout checks, kept true by tests: no import cycle between
ldapnb's modules, and every OID spelt in one module (``ldapnb.oids``)."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

import ldapnb
from ldapnb import oids

PACKAGE = Path(ldapnb.__file__).parent


def _module(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = PACKAGE) -> nx.DiGraph:
    """module -> the ldapnb modules it imports when it is imported (module level, outside
    ``if TYPE_CHECKING:`` and other conditions; imports inside functions are not edges)."""
    G = nx.DiGraph()
    modules = {_module(p, root) for p in root.rglob("*.py")}
    for path in root.rglob("*.py"):
        name = _module(path, root)
        G.add_node(name)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                G.add_edges_from((name, a.name) for a in node.names if a.name in modules)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    head = package.split(".")[:len(package.split(".")) - node.level + 1]
                    target = ".".join(head + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target not in modules:
                    continue
                for a in node.names:  # "from . import oids" imports the module ldapnb.oids
                    sub = f"{target}.{a.name}"
                    G.add_edge(name, sub if sub in modules else target)
    return G


def test_no_import_cycle() -> None:
    G = import_graph()
    assert G.number_of_edges() > 100  # the check reads the imports at all
    assert list(nx.simple_cycles(G)) == []


def test_the_cycle_check_sees_relative_and_package_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "ldapnb"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .a import x\n")
    (pkg / "a.py").write_text("from .sub import b\nx = 1\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "b.py").write_text("from .. import a\n")
    G = import_graph(pkg)
    assert sorted(map(sorted, nx.simple_cycles(G))) == [["ldapnb.a", "ldapnb.sub.b"]]


def _spelt_oids(source: str) -> list[tuple[int, str]]:
    """(line, OID) for each OID of :mod:`ldapnb.oids` in a string of ``source`` that is not
    a docstring (docstrings may name the OIDs they explain)."""
    tree = ast.parse(source)
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and n.body and isinstance(n.body[0], ast.Expr)
            and isinstance(n.body[0].value, ast.Constant)}
    return [(n.lineno, oid) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs
            for oid in oids.NAMES if oid in n.value]


def test_every_oid_is_spelt_in_the_oids_module_only() -> None:
    found = [f"{path.relative_to(PACKAGE.parent)}:{line}: {oid}"
             for path in sorted(PACKAGE.rglob("*.py")) if path.name != "oids.py"
             for line, oid in _spelt_oids(path.read_text(encoding="utf-8"))]
    assert found == []


def test_the_oid_check_catches_a_spelt_oid() -> None:
    source = ('"""Docs may say 1.2.840.113556.1.4.1941."""\n'
              'RULE = "1.2.840.113556.1.4.803"\n'
              'f = f"(memberOf:1.2.840.113556.1.4.1941:={x})"\n')
    assert _spelt_oids(source) == [(2, oids.BIT_AND), (3, oids.IN_CHAIN)]
