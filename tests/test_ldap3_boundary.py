"""ldap3's internals are used in one place: ``sources/_ldap3.py`` (and the fast search,
``sources/_fastsearch.py``, which asks ``_ldap3`` for what it needs).  Everything else in the
package uses ldap3's public API only, so an ldap3 upgrade touches two files."""

from __future__ import annotations

import ast
from pathlib import Path

import ldapnb

PACKAGE = Path(ldapnb.__file__).parent
ALLOWED = {PACKAGE / "sources" / "_ldap3.py", PACKAGE / "sources" / "_fastsearch.py"}

# ldap3's private modules (``ldap3.core.exceptions`` is public API), and private attributes
# of its Connection / Server / Strategy objects.
PRIVATE_MODULES = ("ldap3.protocol", "ldap3.strategy", "ldap3.operation", "ldap3.utils",
                   "ldap3.abstract", "ldap3.core")
PUBLIC_MODULES = ("ldap3.core.exceptions",)
PRIVATE_ATTRIBUTES = {"socket", "strategy", "_dsa_info", "_schema_info", "_digest_md5_kis",
                      "_digest_md5_kic", "next_message_id"}


def _private_module(name: str) -> bool:
    if any(name == p or name.startswith(p + ".") for p in PUBLIC_MODULES):
        return False
    return any(name == p or name.startswith(p + ".") for p in PRIVATE_MODULES)


def violations(source: str, where: str = "<string>") -> list[str]:
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and _private_module(node.module):
            out.append(f"{where}:{node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Import):
            out.extend(f"{where}:{node.lineno}: import {a.name}" for a in node.names
                       if _private_module(a.name))
        elif isinstance(node, ast.Attribute) and node.attr in PRIVATE_ATTRIBUTES:
            if isinstance(node.value, ast.Name) and node.value.id == "socket":
                continue  # the socket module (socket.socket), not a connection's socket
            out.append(f"{where}:{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id == "getattr" and len(node.args) >= 2 and \
                isinstance(node.args[1], ast.Constant) and node.args[1].value in PRIVATE_ATTRIBUTES:
            out.append(f"{where}:{node.lineno}: getattr(..., {node.args[1].value!r})")
    return out


def test_only_the_ldap3_module_touches_ldap3_internals() -> None:
    found = [v for path in sorted(PACKAGE.rglob("*.py")) if path not in ALLOWED
             for v in violations(path.read_text(encoding="utf-8"),
                                 str(path.relative_to(PACKAGE.parent)))]
    assert found == []


def test_the_check_catches_each_kind() -> None:
    bad = ("from ldap3.protocol.rfc4511 import LDAPMessage\n"
           "from ldap3.core.results import RESULT_SUCCESS\n"
           "import ldap3.strategy.sync\n"
           "sock = conn.socket\n"
           "conn.strategy.close()\n"
           "server._dsa_info = None\n"
           "s = getattr(conn, 'socket', None)\n"
           "ok = socket.socket()\n"                         # the socket module: fine
           "from ldap3.core.exceptions import LDAPException\n"  # public: fine
           "'ldap3.protocol in a docstring'\n")              # text: fine
    lines = sorted({int(v.split(":")[1]) for v in violations(bad)})
    assert lines == [1, 2, 3, 4, 5, 6, 7]


def test_the_allowed_modules_exist_and_do_use_internals() -> None:
    for path in ALLOWED:
        assert path.is_file()
    assert violations((PACKAGE / "sources" / "_ldap3.py").read_text(encoding="utf-8"))
