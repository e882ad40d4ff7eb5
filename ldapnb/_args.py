"""Argument checks for the public entry points: a wrong argument is an
:class:`~ldapnb.errors.ArgumentError` that names the parameter and says what was expected,
never a ``TypeError`` or ``AttributeError`` from deep inside.

>>> size_limit(-1)
Traceback (most recent call last):
...
ldapnb.errors.ArgumentError: size_limit must be a whole number >= 0 (0: no limit), not -1
>>> attributes("cn")
['cn']
>>> values("uidNumber", [1000, "x", b"\\x00"])
['1000', 'x', b'\\x00']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .errors import ArgumentError

__all__ = ["size_limit", "attributes", "values", "attribute_map", "dn", "changes", "text"]


def size_limit(value: object, name: str = "size_limit") -> int:
    """A whole number >= 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ArgumentError(name, "a whole number >= 0 (0: no limit)", value)
    return value


def text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise ArgumentError(name, "a str", value, show=not isinstance(value, (bytes,)))
    return value


def dn(value: object, name: str = "dn") -> str:
    """A DN given as text."""
    return text(value, name)


def attributes(value: object, name: str = "attributes") -> list[str] | None:
    """None, or a list of attribute names (one name alone is taken as a list of one)."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Iterable) or isinstance(value, (bytes, Mapping)):
        raise ArgumentError(name, "None or a list of attribute names such as ['cn', 'mail']",
                            value)
    out = list(value)
    for item in out:
        if not isinstance(item, str) or not item:
            raise ArgumentError(f"each of {name}",
                                "an attribute name (a non-empty str such as 'cn')", item)
    return out


def values(attribute: str, given: Any) -> list[str | bytes]:
    """The values of ``attribute`` as a list of str/bytes: a single value or a list; ints
    are written in decimal.  None, floats, booleans and other objects are refused."""
    if isinstance(given, (str, bytes, int)) and not isinstance(given, bool):
        given = [given]
    elif given is None or not isinstance(given, Iterable) or isinstance(given, Mapping):
        raise ArgumentError(f"the values of {attribute!r}",
                            "a str, bytes or int, or a list of them", given,
                            show=not _secretish(attribute))
    out: list[str | bytes] = []
    for v in given:
        if isinstance(v, bool):
            raise ArgumentError(f"a value of {attribute!r}", "a str, bytes or int", v,
                                hint="LDAP booleans are the strings 'TRUE' and 'FALSE'")
        if isinstance(v, int):
            out.append(str(v))
        elif isinstance(v, (str, bytes)):
            out.append(v)
        else:
            raise ArgumentError(f"a value of {attribute!r}", "a str, bytes or int", v,
                                show=not _secretish(attribute),
                                hint="write floats and dates as text" if isinstance(v, float)
                                else None)
    return out


def _secretish(attribute: str) -> bool:
    from .secrets import is_secret

    return is_secret(attribute)


def attribute_map(given: object, name: str = "attributes") -> dict[str, list[str | bytes]]:
    """``{attribute: values}`` with every name a non-empty str and values checked."""
    if not isinstance(given, Mapping):
        raise ArgumentError(name, "a dict of attribute name -> value(s)", given, show=False)
    out: dict[str, list[str | bytes]] = {}
    for k, v in given.items():
        if not isinstance(k, str) or not k:
            raise ArgumentError(f"an attribute name in {name}", "a non-empty str", k)
        out[k] = values(k, v)
    return out


_OPS = ("add", "delete", "replace", "increment")


def changes(given: object) -> list[tuple[str, str, list[str | bytes]]]:
    """``[(op, attribute, values)]`` for modify: op one of add/delete/replace/increment;
    ``delete`` and ``replace`` accept None or [] (every value / remove the attribute)."""
    if isinstance(given, (str, bytes, Mapping)) or not isinstance(given, Iterable):
        raise ArgumentError("changes", "a list of (op, attribute, values) tuples", given,
                            show=False)
    out = []
    for change in given:
        if not isinstance(change, Sequence) or isinstance(change, (str, bytes)) or \
                len(change) != 3:
            raise ArgumentError("each change", "an (op, attribute, values) tuple", change,
                                show=False)
        op, attr, vals = change
        if not isinstance(op, str) or op.lower() not in _OPS:
            raise ArgumentError("a change's op", "one of " + ", ".join(map(repr, _OPS)), op)
        if not isinstance(attr, str) or not attr:
            raise ArgumentError("a change's attribute", "a non-empty str", attr)
        if vals is None and op.lower() in ("delete", "replace"):
            vals = []
        out.append((op.lower(), attr, values(attr, vals)))
    return out
