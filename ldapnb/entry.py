"""Entry: one directory entry, a DN and its attributes.

Attribute names are case-insensitive (``e["CN"]`` is ``e["cn"]``) but keep the spelling they
were first given.  An attribute description with options (``cn;lang-en``,
``userCertificate;binary``) is its own key.  Every value list keeps the order it was given.

Values are ``str`` for text and ``bytes`` for binary data (values that are not UTF-8, or
attributes whose syntax is binary such as ``objectSid`` or ``jpegPhoto``).

Entries read in bulk share value lists (``ldif.read_records(compact=True)``, the embedded
directory's store: one ``objectClass`` list for a hundred thousand users).  So an entry never
changes a value list in place: :meth:`Entry.add`, :meth:`Entry.set` and :meth:`Entry.remove`
put a new list (or none) in its place, and a list read from an entry is for reading.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TypeAlias

from .secrets import MASK, SECRET_NAMES, is_secret

Value: TypeAlias = str | bytes

# Which attributes are secrets is decided in one place, ldapnb.secrets; kept here under the
# names other modules have always imported.
SECRET_ATTRIBUTES = SECRET_NAMES

class SharedNames(dict[str, str]):
    """An entry's spellings of its attribute names, shared by many entries of one kind (the
    embedded directory's bulk load): read like a dict; an entry copies it before any change,
    and changing it in place is refused."""

    __slots__ = ()

    def _refuse(self, *args: object, **kwargs: object) -> None:
        raise TypeError("shared attribute spellings cannot be changed in place")

    __setitem__ = __delitem__ = pop = popitem = clear = update = setdefault = _refuse  # type: ignore[assignment]
    __ior__ = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> tuple[type, tuple[dict[str, str]]]:
        return dict, (dict(self),)  # copies and pickles are plain dicts


class Entry(Mapping[str, list[Value]]):
    """A DN and a case-insensitive map of attribute name -> list of values.

    Examples
    --------
    >>> e = Entry("uid=bjensen,ou=People,dc=example,dc=org",
    ...           {"cn": ["Barbara Jensen"], "objectClass": ["top", "person"]})
    >>> e["CN"]
    ['Barbara Jensen']
    >>> e.first("cn")
    'Barbara Jensen'
    >>> "objectclass" in e
    True
    """

    __slots__ = ("dn", "_attrs", "_names", "_options")

    def __init__(self, dn: str, attributes: Mapping[str, Iterable[Value]] | None = None):
        self.dn = dn
        self._attrs: dict[str, list[Value]] = {}
        self._names: dict[str, str] = {}
        self._options = 0  # how many keys carry options (';'): most entries have none
        if attributes:
            for name, values in attributes.items():
                self.add(name, values)

    @classmethod
    def from_lists(cls, dn: str, lists: dict[str, list[Value]], names: dict[str, str],
                   options: int | None = None) -> Entry:
        """An entry made of ready parts, without copying them: ``lists`` maps each lower-case
        attribute description to its value list, ``names`` the same keys to their spellings
        (a :class:`SharedNames` may be shared by many entries: it is copied on change).  The
        caller vouches that the keys agree; ``options`` (how many keys carry ``;``) is
        counted when not given.  For bulk loaders; everyone else uses ``Entry(dn, attrs)``.

        >>> e = Entry.from_lists("cn=a", {"cn": ["a"]}, {"cn": "cn"})
        >>> e["CN"], e.attribute_lists() == {"cn": ["a"]}
        (['a'], True)
        """
        new = cls.__new__(cls)
        new.dn = dn
        new._attrs = lists
        new._names = names
        new._options = sum(";" in k for k in lists) if options is None else options
        return new

    def attribute_lists(self) -> Mapping[str, list[Value]]:
        """Lower-case attribute description -> the entry's own value list, in order (no copy,
        for bulk readers: change the entry through :meth:`set`, :meth:`add`, :meth:`remove`)."""
        return self._attrs

    # -- Mapping -----------------------------------------------------------------------------
    def __getitem__(self, name: str) -> list[Value]:
        return self._attrs[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names.values())

    def __len__(self) -> int:
        return len(self._attrs)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._attrs

    # -- reading -----------------------------------------------------------------------------
    def first(self, name: str, default: Value | None = None) -> Value | None:
        """The first value of ``name``, or ``default`` when the entry has none."""
        values = self._attrs.get(name.lower())
        return values[0] if values else default

    def name_of(self, name: str) -> str:
        """The spelling this entry uses for the attribute ``name``."""
        return self._names[name.lower()]

    def with_options(self, base: str) -> Iterator[tuple[str, list[Value]]]:
        """Every (description, values) whose attribute type is ``base``, with or without
        options: ``with_options("cn")`` yields ``cn`` and ``cn;lang-en``."""
        low = base.lower()
        if not self._options:
            values = self._attrs.get(low)
            if values is not None:
                yield self._names[low], values
            return
        for key, values in self._attrs.items():
            if key == low or (key.startswith(low) and key[len(low)] == ";"):
                yield self._names[key], values

    # -- changing ----------------------------------------------------------------------------
    def add(self, name: str, values: Iterable[Value]) -> None:
        """Append ``values`` to attribute ``name`` (created if absent).

        The attribute gets a new list: value lists may be shared between entries (a compact
        LDIF read, the embedded directory's store), so no list is changed in place."""
        key = name.lower()
        if isinstance(values, (str, bytes)):
            values = [values]
        old = self._attrs.get(key)
        if old is None:
            if self._names.__class__ is not dict:
                self._names = dict(self._names)
            self._names[key] = name
            if ";" in key:
                self._options += 1
            self._attrs[key] = list(values)
        else:
            self._attrs[key] = [*old, *values]

    def set(self, name: str, values: Iterable[Value]) -> None:
        """Replace attribute ``name``'s values; an empty list removes the attribute."""
        values = [values] if isinstance(values, (str, bytes)) else list(values)
        key = name.lower()
        if self._names.__class__ is not dict:
            self._names = dict(self._names)
        if not values:
            if self._attrs.pop(key, None) is not None and ";" in key:
                self._options -= 1
            self._names.pop(key, None)
            return
        if key not in self._names:
            self._names[key] = name
            if ";" in key:
                self._options += 1
        self._attrs[key] = values

    def remove(self, name: str) -> None:
        """Remove attribute ``name`` entirely (KeyError if absent)."""
        key = name.lower()
        if self._names.__class__ is not dict:
            self._names = dict(self._names)
        del self._attrs[key]
        del self._names[key]
        if ";" in key:
            self._options -= 1

    def copy(self) -> Entry:
        """A copy whose value lists can be changed without touching this entry."""
        new = Entry.__new__(Entry)
        new.dn = self.dn
        new._attrs = {k: list(v) for k, v in self._attrs.items()}
        new._names = dict(self._names)
        new._options = self._options
        return new

    # -- plain data --------------------------------------------------------------------------
    def to_dict(self, *, mask_secrets: bool = False) -> dict[str, list[Value]]:
        """``{name: values}`` with the entry's own spellings (secrets masked if asked)."""
        return {
            self._names[k]: ([MASK] if mask_secrets and is_secret(k) else list(v))
            for k, v in self._attrs.items()
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Entry):
            return NotImplemented
        return self.dn == other.dn and self._attrs == other._attrs

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        shown = []
        for key, values in self._attrs.items():
            name = self._names[key]
            if is_secret(key):
                shown.append(f"{name}=[{MASK}]")
            else:
                text = ", ".join(repr(v) if len(repr(v)) < 60 else repr(v)[:57] + "..."
                                 for v in values[:3])
                more = f", ... +{len(values) - 3}" if len(values) > 3 else ""
                shown.append(f"{name}=[{text}{more}]")
        return f"Entry({self.dn!r}, {'; '.join(shown)})"

    def _repr_html_(self) -> str:
        from html import escape

        rows = "".join(
            f"<tr><th style='text-align:left'>{escape(name)}</th><td>"
            + ("<i>(hidden)</i>" if is_secret(name) else "<br>".join(
                escape(v if isinstance(v, str) else f"<{len(v)} bytes>") for v in values))
            + "</td></tr>"
            for name, values in self.to_dict().items()
        )
        return f"<b>{escape(self.dn)}</b><table>{rows}</table>"
