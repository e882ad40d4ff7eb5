"""The directory schema: attribute types and object classes (RFC 4512).

ldapnb reads the same OpenLDAP schema files that its private slapd loads (bundled in
``ldapnb/schema/``: core, cosine, inetorgperson, nis, dyngroup, msuser (Microsoft's
user/group/computer classes) and openldap, as a stock slapd has them), plus the definitions
slapd has built in (``objectClass``, ``top``, ``extensibleObject``, operational attributes).
So the embedded directory and a real slapd judge entries by the same rules.

The reader for schema files is hand-written (about 80 lines): ldap3's ``from_definition``
parsers do not expand OpenLDAP's ``objectIdentifier`` macros, which msuser.schema and
dyngroup.schema use throughout.

Examples
--------
>>> s = default_schema()
>>> s.attribute_type("CN").name, s.attribute_type("cn").equality
('cn', 'caseIgnoreMatch')
>>> s.attribute_type("mail").syntax
'1.3.6.1.4.1.1466.115.121.1.26'
>>> sorted(s.must("inetOrgPerson"))
['cn', 'objectClass', 'sn']
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import overload

from .errors import SchemaError

__all__ = [
    "AttributeType",
    "ObjectClass",
    "Schema",
    "default_schema",
    "SYNTAX",
    "BINARY_SYNTAXES",
]

#: Syntax OIDs by a short name (RFC 4517 and Microsoft's).
SYNTAX = {
    "binary": "1.3.6.1.4.1.1466.115.121.1.5",
    "bitstring": "1.3.6.1.4.1.1466.115.121.1.6",
    "boolean": "1.3.6.1.4.1.1466.115.121.1.7",
    "certificate": "1.3.6.1.4.1.1466.115.121.1.8",
    "dn": "1.3.6.1.4.1.1466.115.121.1.12",
    "directorystring": "1.3.6.1.4.1.1466.115.121.1.15",
    "generalizedtime": "1.3.6.1.4.1.1466.115.121.1.24",
    "ia5string": "1.3.6.1.4.1.1466.115.121.1.26",
    "integer": "1.3.6.1.4.1.1466.115.121.1.27",
    "jpeg": "1.3.6.1.4.1.1466.115.121.1.28",
    "nameanduid": "1.3.6.1.4.1.1466.115.121.1.34",
    "numericstring": "1.3.6.1.4.1.1466.115.121.1.36",
    "oid": "1.3.6.1.4.1.1466.115.121.1.38",
    "octetstring": "1.3.6.1.4.1.1466.115.121.1.40",
    "printablestring": "1.3.6.1.4.1.1466.115.121.1.44",
    "telephonenumber": "1.3.6.1.4.1.1466.115.121.1.50",
    "utctime": "1.3.6.1.4.1.1466.115.121.1.53",
    "uuid": "1.3.6.1.1.16.1",
}

#: Syntaxes whose values are bytes, not text.
BINARY_SYNTAXES = frozenset(
    {SYNTAX["binary"], SYNTAX["certificate"], SYNTAX["jpeg"], SYNTAX["octetstring"],
     "1.3.6.1.4.1.1466.115.121.1.9",   # certificate list
     "1.3.6.1.4.1.1466.115.121.1.10",  # certificate pair
     "1.3.6.1.4.1.1466.115.121.1.49",  # supported algorithm
     "1.3.6.1.4.1.1466.115.121.1.23",  # fax
     "1.3.6.1.4.1.1466.115.121.1.25",  # guide (kept for completeness)
     }
) - {"1.3.6.1.4.1.1466.115.121.1.25"}

#: Attributes that are binary whatever their declared syntax (AD declares some as strings).
BINARY_ATTRIBUTES = frozenset(
    {"objectsid", "objectguid", "sidhistory", "tokengroups", "msds-generationid",
     "ntsecuritydescriptor", "msexchmailboxguid", "jpegphoto", "thumbnailphoto",
     "usercertificate", "cacertificate", "unicodepwd", "logonhours", "photo",
     "audio", "usersmimecertificate", "userpkcs12"}
)


@dataclass(frozen=True)
class AttributeType:
    """One attribute type.  ``syntax``, ``equality``, ``ordering`` and ``substr`` are the
    effective values, inherited through ``sup`` when the definition leaves them out."""

    oid: str
    names: tuple[str, ...]
    sup: str | None = None
    syntax: str | None = None
    equality: str | None = None
    ordering: str | None = None
    substr: str | None = None
    single_value: bool = False
    no_user_modification: bool = False
    usage: str = "userApplications"
    obsolete: bool = False
    desc: str | None = None
    definition: str = field(default="", compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.names[0] if self.names else self.oid

    @property
    def operational(self) -> bool:
        return self.usage != "userApplications"

    def to_definition(self) -> str:
        """The RFC 4512 description, with numeric OIDs (as a server's subschema shows it)."""
        parts = [f"( {self.oid}", _names(self.names)]
        if self.desc:
            parts.append(f"DESC '{self.desc}'")
        if self.obsolete:
            parts.append("OBSOLETE")
        for key, value in (("SUP", self.sup), ("EQUALITY", self.equality),
                           ("ORDERING", self.ordering), ("SUBSTR", self.substr),
                           ("SYNTAX", self.syntax)):
            if value:
                parts.append(f"{key} {value}")
        if self.single_value:
            parts.append("SINGLE-VALUE")
        if self.no_user_modification:
            parts.append("NO-USER-MODIFICATION")
        if self.usage != "userApplications":
            parts.append(f"USAGE {self.usage}")
        return " ".join(p for p in parts if p) + " )"

    @property
    def binary(self) -> bool:
        return self.syntax in BINARY_SYNTAXES or any(
            n.lower() in BINARY_ATTRIBUTES for n in self.names)


@dataclass(frozen=True)
class ObjectClass:
    """One object class: ``kind`` is STRUCTURAL, AUXILIARY or ABSTRACT."""

    oid: str
    names: tuple[str, ...]
    sup: tuple[str, ...] = ()
    kind: str = "STRUCTURAL"
    must: tuple[str, ...] = ()
    may: tuple[str, ...] = ()
    obsolete: bool = False
    desc: str | None = None
    definition: str = field(default="", compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.names[0] if self.names else self.oid

    def to_definition(self) -> str:
        """The RFC 4512 description, with numeric OIDs (as a server's subschema shows it)."""
        parts = [f"( {self.oid}", _names(self.names)]
        if self.desc:
            parts.append(f"DESC '{self.desc}'")
        if self.obsolete:
            parts.append("OBSOLETE")
        if self.sup:
            parts.append(f"SUP {_oids(self.sup)}")
        parts.append(self.kind)
        if self.must:
            parts.append(f"MUST {_oids(self.must)}")
        if self.may:
            parts.append(f"MAY {_oids(self.may)}")
        return " ".join(p for p in parts if p) + " )"


def _names(names: tuple[str, ...]) -> str:
    if not names:
        return ""
    if len(names) == 1:
        return f"NAME '{names[0]}'"
    return "NAME ( " + " ".join(f"'{n}'" for n in names) + " )"


def _oids(items: tuple[str, ...]) -> str:
    return items[0] if len(items) == 1 else "( " + " $ ".join(items) + " )"


# slapd's hard-coded schema (servers/slapd/schema_prep.c), the parts ldapnb uses, plus
# memberOf with the equality rule slapd's memberof/dynlist overlays give it.
BUILTIN_ATTRIBUTE_TYPES = [
    "( 2.5.4.0 NAME 'objectClass' EQUALITY objectIdentifierMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 )",
    "( 2.5.4.1 NAME ( 'aliasedObjectName' 'aliasedEntryName' ) EQUALITY distinguishedNameMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 SINGLE-VALUE )",
    "( 2.5.21.9 NAME 'structuralObjectClass' EQUALITY objectIdentifierMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 SINGLE-VALUE NO-USER-MODIFICATION "
    "USAGE directoryOperation )",
    "( 2.5.18.1 NAME 'createTimestamp' EQUALITY generalizedTimeMatch "
    "ORDERING generalizedTimeOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 SINGLE-VALUE "
    "NO-USER-MODIFICATION USAGE directoryOperation )",
    "( 2.5.18.2 NAME 'modifyTimestamp' EQUALITY generalizedTimeMatch "
    "ORDERING generalizedTimeOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 SINGLE-VALUE "
    "NO-USER-MODIFICATION USAGE directoryOperation )",
    "( 2.5.18.3 NAME 'creatorsName' EQUALITY distinguishedNameMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 SINGLE-VALUE NO-USER-MODIFICATION "
    "USAGE directoryOperation )",
    "( 2.5.18.4 NAME 'modifiersName' EQUALITY distinguishedNameMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 SINGLE-VALUE NO-USER-MODIFICATION "
    "USAGE directoryOperation )",
    "( 2.5.18.9 NAME 'hasSubordinates' EQUALITY booleanMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.7 SINGLE-VALUE NO-USER-MODIFICATION "
    "USAGE directoryOperation )",
    "( 2.5.18.10 NAME 'subschemaSubentry' EQUALITY distinguishedNameMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 SINGLE-VALUE NO-USER-MODIFICATION "
    "USAGE directoryOperation )",
    "( 1.3.6.1.1.20 NAME 'entryDN' EQUALITY distinguishedNameMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 SINGLE-VALUE NO-USER-MODIFICATION "
    "USAGE directoryOperation )",
    "( 1.3.6.1.1.16.4 NAME 'entryUUID' EQUALITY UUIDMatch ORDERING UUIDOrderingMatch "
    "SYNTAX 1.3.6.1.1.16.1 SINGLE-VALUE NO-USER-MODIFICATION USAGE directoryOperation )",
    "( 1.3.6.1.4.1.1466.101.120.5 NAME 'namingContexts' "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 USAGE dSAOperation )",
    "( 1.3.6.1.4.1.1466.101.120.13 NAME 'supportedControl' "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 USAGE dSAOperation )",
    "( 1.3.6.1.4.1.1466.101.120.7 NAME 'supportedExtension' "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 USAGE dSAOperation )",
    "( 1.3.6.1.4.1.4203.1.3.5 NAME 'supportedFeatures' EQUALITY objectIdentifierMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 USAGE dSAOperation )",
    "( 1.3.6.1.4.1.1466.101.120.15 NAME 'supportedLDAPVersion' "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 USAGE dSAOperation )",
    "( 1.3.6.1.4.1.1466.101.120.14 NAME 'supportedSASLMechanisms' "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 USAGE dSAOperation )",
    "( 1.3.6.1.1.4 NAME 'vendorName' EQUALITY caseExactIA5Match "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 SINGLE-VALUE NO-USER-MODIFICATION USAGE dSAOperation )",
    "( 1.3.6.1.1.5 NAME 'vendorVersion' EQUALITY caseExactIA5Match "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 SINGLE-VALUE NO-USER-MODIFICATION USAGE dSAOperation )",
    "( 2.5.21.5 NAME 'attributeTypes' EQUALITY objectIdentifierFirstComponentMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.3 USAGE directoryOperation )",
    "( 2.5.21.6 NAME 'objectClasses' EQUALITY objectIdentifierFirstComponentMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.37 USAGE directoryOperation )",
    "( 2.5.21.4 NAME 'matchingRules' EQUALITY objectIdentifierFirstComponentMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.30 USAGE directoryOperation )",
    "( 1.3.6.1.4.1.1466.101.120.16 NAME 'ldapSyntaxes' "
    "EQUALITY objectIdentifierFirstComponentMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.54 "
    "USAGE directoryOperation )",
    "( 2.16.840.1.113730.3.1.34 NAME 'ref' EQUALITY caseExactMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 USAGE distributedOperation )",
    # slapd's built-in uidNumber/gidNumber have an ORDERING rule nis.schema's copies lack
    "( 1.3.6.1.1.1.1.0 NAME 'uidNumber' DESC 'RFC2307: An integer uniquely identifying a user "
    "in an administrative domain' EQUALITY integerMatch ORDERING integerOrderingMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )",
    "( 1.3.6.1.1.1.1.1 NAME 'gidNumber' DESC 'RFC2307: An integer uniquely identifying a group "
    "in an administrative domain' EQUALITY integerMatch ORDERING integerOrderingMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )",
    "( 1.2.840.113556.1.2.102 NAME 'memberOf' EQUALITY distinguishedNameMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 NO-USER-MODIFICATION USAGE dSAOperation )",
]

BUILTIN_OBJECT_CLASSES = [
    "( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )",
    "( 2.5.6.1 NAME 'alias' SUP top STRUCTURAL MUST aliasedObjectName )",
    "( 1.3.6.1.4.1.1466.101.120.111 NAME 'extensibleObject' SUP top AUXILIARY )",
    "( 2.5.20.1 NAME 'subschema' AUXILIARY MAY ( objectClasses $ attributeTypes $ "
    "matchingRules $ ldapSyntaxes ) )",
    "( 2.16.840.1.113730.3.2.6 NAME 'referral' SUP top STRUCTURAL MUST ref )",
    "( 1.3.6.1.4.1.4203.1.4.1 NAME ( 'OpenLDAProotDSE' 'LDAProotDSE' ) SUP top STRUCTURAL )",
]

DEFAULT_FILES = ("core", "cosine", "inetorgperson", "nis", "dyngroup", "msuser", "openldap")

_SYSTEM_START = re.compile(r"^#(?:attributetype|objectclass)\s", re.I)


def _system_lines(text: str) -> Iterator[str]:
    """The commented-out definitions of a schema file, uncommented."""
    inside = False
    for line in text.splitlines():
        if _SYSTEM_START.match(line):
            inside = True
            yield line[1:]
        elif inside and line.startswith("#") and line[1:2] in (" ", "\t") and line[1:].strip():
            yield line[1:]
        else:
            inside = False

_TOKEN = re.compile(r"\s*(\(|\)|'(?:[^'\\]|\\.)*'|\$|[^\s()'$]+)")


def _tokens(text: str) -> list[str]:
    out = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SchemaError(f"cannot read schema definition at position {pos}: {text!r}")
        out.append(m.group(1))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


_Definition = dict[str, str | bool | tuple[str, ...]]
"""A parsed definition: ``OID`` a str, flags ``True``, every other key a tuple of values."""


def _parse_definition(text: str, macros: dict[str, str]) -> _Definition:
    """Split an RFC 4512 description into ``{'OID': ..., 'NAME': (...), ...}``."""
    toks = _tokens(text)
    if len(toks) < 3 or toks[0] != "(" or toks[-1] != ")":
        raise SchemaError(f"a schema definition must be '( OID ... )': {text!r}")
    body = toks[1:-1]
    result: _Definition = {"OID": _expand(body[0].strip("'"), macros)}
    i = 1
    while i < len(body):
        key = body[i].upper()
        i += 1
        if key in {"SINGLE-VALUE", "NO-USER-MODIFICATION", "OBSOLETE", "COLLECTIVE",
                   "STRUCTURAL", "AUXILIARY", "ABSTRACT"}:
            result[key] = True
            continue
        if i >= len(body):
            raise SchemaError(f"{key} has no value in {text!r}")
        if body[i] == "(":
            j = body.index(")", i)
            values = tuple(v.strip("'") for v in body[i + 1:j] if v != "$")
            i = j + 1
        else:
            values = (body[i].strip("'"),)
            i += 1
        if key in ("SYNTAX", "SUP") and values:
            values = (_expand(values[0], macros), *values[1:])
        result[key] = values
    return result


def _oid(d: _Definition) -> str:
    """The OID of a parsed definition."""
    return str(d["OID"])


def _values(d: _Definition, key: str) -> tuple[str, ...]:
    """The values of ``key`` in a parsed definition (``()`` when absent)."""
    v = d.get(key, ())
    return v if isinstance(v, tuple) else ()


@overload
def _first(d: _Definition, key: str) -> str | None: ...
@overload
def _first(d: _Definition, key: str, default: str) -> str: ...
def _first(d: _Definition, key: str, default: str | None = None) -> str | None:
    """The first value of ``key`` in a parsed definition, or ``default``."""
    v = _values(d, key)
    return v[0] if v else default


def _expand(oid: str, macros: dict[str, str]) -> str:
    if ":" in oid:
        prefix, _, suffix = oid.partition(":")
        if prefix in macros:
            return f"{macros[prefix]}.{suffix}"
    return macros.get(oid, oid)


def _statements(text: str, source: str) -> Iterator[tuple[str, str, int]]:
    """Yield (keyword, rest, line) for each statement of an OpenLDAP .schema file."""
    keyword, parts, start = None, [], 0
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0].isspace():
            if keyword is None:
                raise SchemaError(f"{source}, line {number}: continuation line with no statement")
            parts.append(line.strip())
            continue
        if keyword is not None:
            yield keyword, " ".join(parts), start
        keyword, rest = (line.strip().split(None, 1) + [""])[:2]
        parts, start = [rest.strip()], number
    if keyword is not None:
        yield keyword, " ".join(parts), start


class Schema:
    """Attribute types and object classes, looked up by any name or OID, case-insensitively.

    Build one with :func:`default_schema`, :meth:`from_files` or :meth:`from_definitions`.
    """

    def __init__(self) -> None:
        self._attrs: dict[str, AttributeType] = {}
        self._classes: dict[str, ObjectClass] = {}
        self._raw_attrs: list[tuple[_Definition, str]] = []
        self.unknown: set[str] = set()

    # -- building ----------------------------------------------------------------------------
    @classmethod
    def from_definitions(
        cls,
        attribute_types: Iterable[str] = (),
        object_classes: Iterable[str] = (),
        *,
        builtins: bool = True,
    ) -> Schema:
        """A schema from RFC 4512 definition strings (plus slapd's built-ins unless told not)."""
        s = cls()
        macros: dict[str, str] = {}
        if builtins:
            for d in BUILTIN_ATTRIBUTE_TYPES:
                s._add_attribute(d, macros)
            for d in BUILTIN_OBJECT_CLASSES:
                s._add_class(d, macros)
        for d in attribute_types:
            s._add_attribute(d, macros)
        for d in object_classes:
            s._add_class(d, macros)
        s._resolve()
        return s

    @classmethod
    def from_files(cls, paths: Iterable[str | Path], *, builtins: bool = True) -> Schema:
        """A schema from OpenLDAP ``.schema`` files (``objectIdentifier`` macros expanded)."""
        s = cls()
        macros: dict[str, str] = {}
        if builtins:
            for d in BUILTIN_ATTRIBUTE_TYPES:
                s._add_attribute(d, macros, builtin=True)
            for d in BUILTIN_OBJECT_CLASSES:
                s._add_class(d, macros, builtin=True)
        texts = [(Path(path), Path(path).read_text(encoding="utf-8")) for path in paths]
        for p, text in texts:
            for keyword, rest, line in _statements(text, str(p)):
                kw = keyword.lower()
                try:
                    if kw == "objectidentifier":
                        name, value = rest.split(None, 1)
                        macros[name.strip()] = _expand(value.strip(), macros)
                    elif kw == "attributetype":
                        s._add_attribute(rest, macros)
                    elif kw == "objectclass":
                        s._add_class(rest, macros)
                except SchemaError as exc:
                    raise SchemaError(f"{p.name}, line {line}: {exc}") from exc
        # OpenLDAP's files keep slapd's hard-coded "system schema" (cn, name, uid, ...) as
        # commented-out definitions: those are built in, so read them too, after the live
        # definitions and only where nothing defines the name (msuser.schema comments out
        # its definitions that clash with the standard ones: those are not wanted).
        for p, text in texts:
            system = "\n".join(_system_lines(text))
            for keyword, rest, _line in _statements(system, str(p)):
                defn = _parse_definition(rest, {})
                if not _oid(defn)[:1].isdigit():
                    continue
                names = [n.lower() for n in _values(defn, "NAME")]
                if keyword.lower() == "attributetype":
                    if not any(n in s._attrs for n in names):
                        s._add_attribute(rest, macros, builtin=True)
                elif not any(n in s._classes for n in names):
                    s._add_class(rest, macros, builtin=True)
        s._resolve()
        return s

    def _add_attribute(self, text: str, macros: dict[str, str], builtin: bool = False) -> None:
        d = _parse_definition(text, macros)
        names = _values(d, "NAME")
        if not builtin and any(n.lower() in self._attrs for n in names):
            # A built-in definition wins (msuser.schema's memberOf has no EQUALITY rule).
            existing = next(self._attrs[n.lower()] for n in names if n.lower() in self._attrs)
            if existing.definition in BUILTIN_ATTRIBUTE_TYPES:
                return
        self._raw_attrs.append((d, text))
        for key in (_oid(d), *names):
            self._attrs[key.lower()] = AttributeType(  # provisional; _resolve() redoes it
                oid=_oid(d), names=names, definition=text)

    def _add_class(self, text: str, macros: dict[str, str], builtin: bool = False) -> None:
        d = _parse_definition(text, macros)
        names = _values(d, "NAME")
        kind = ("ABSTRACT" if d.get("ABSTRACT") else "AUXILIARY" if d.get("AUXILIARY")
                else "STRUCTURAL")
        oc = ObjectClass(
            oid=_oid(d), names=names, sup=_values(d, "SUP"),
            kind=kind, must=_values(d, "MUST"), may=_values(d, "MAY"),
            obsolete=bool(d.get("OBSOLETE")), desc=_first(d, "DESC"),
            definition=text)
        for key in (oc.oid, *names):
            self._classes[key.lower()] = oc

    def _resolve(self) -> None:
        """Fill inherited syntax and matching rules through SUP chains."""
        raw: dict[str, tuple[_Definition, str]] = {}
        for d, text in self._raw_attrs:
            for key in (_oid(d), *_values(d, "NAME")):
                raw[key.lower()] = (d, text)

        @functools.cache
        def inherited(key: str, field: str) -> str | None:
            d, _ = raw[key]
            if field in d:
                return _values(d, field)[0]
            sup = _values(d, "SUP")
            if sup and sup[0].lower() in raw:
                return inherited(sup[0].lower(), field)
            return None

        attrs: dict[str, AttributeType] = {}
        for key, (d, text) in raw.items():
            syntax = inherited(key, "SYNTAX")
            at = AttributeType(
                oid=_oid(d),
                names=_values(d, "NAME"),
                sup=_first(d, "SUP"),
                syntax=syntax.split("{", 1)[0] if syntax else None,
                equality=inherited(key, "EQUALITY"),
                ordering=inherited(key, "ORDERING"),
                substr=inherited(key, "SUBSTR"),
                single_value=bool(d.get("SINGLE-VALUE")),
                no_user_modification=bool(d.get("NO-USER-MODIFICATION")),
                usage=_first(d, "USAGE", "userApplications"),
                obsolete=bool(d.get("OBSOLETE")),
                desc=_first(d, "DESC"),
                definition=text,
            )
            attrs[key] = at
        self._attrs = attrs
        # subtypes: 'name' -> {'cn', 'sn', ...} for filters on a supertype
        subtypes: dict[str, set[str]] = {}
        for at in {id(a): a for a in attrs.values()}.values():
            seen = set()
            sup = at.sup
            while sup and sup.lower() in attrs and sup.lower() not in seen:
                seen.add(sup.lower())
                parent = attrs[sup.lower()]
                for key in (parent.oid.lower(), *(n.lower() for n in parent.names)):
                    subtypes.setdefault(key, set()).update(n.lower() for n in at.names)
                sup = parent.sup
        self._subtypes = {k: frozenset(v) for k, v in subtypes.items()}
        self.attribute_type.cache_clear()

    # -- looking up --------------------------------------------------------------------------
    @functools.lru_cache(maxsize=4096)  # noqa: B019 - schemas live as long as the process
    def attribute_type(self, name: str) -> AttributeType | None:
        """The attribute type for ``name`` or OID (options such as ``;lang-en`` ignored)."""
        return self._attrs.get(name.split(";", 1)[0].lower())

    def object_class(self, name: str) -> ObjectClass | None:
        return self._classes.get(name.lower())

    def subtypes(self, name: str) -> frozenset[str]:
        """Lower-case names of every attribute type derived from ``name`` (not itself)."""
        return self._subtypes.get(name.split(";", 1)[0].lower(), frozenset())

    @property
    def attribute_types(self) -> dict[str, AttributeType]:
        """One entry per attribute type, keyed by its first name."""
        return {a.name: a for a in {id(a): a for a in self._attrs.values()}.values()}

    @property
    def object_classes(self) -> dict[str, ObjectClass]:
        return {c.name: c for c in {id(c): c for c in self._classes.values()}.values()}

    def superclasses(self, name: str) -> list[ObjectClass]:
        """``name``'s class and every class above it, nearest first."""
        out: list[ObjectClass] = []
        todo = [name]
        while todo:
            oc = self.object_class(todo.pop(0))
            if oc is None or oc in out:
                continue
            out.append(oc)
            todo.extend(oc.sup)
        return out

    def must(self, *classes: str) -> set[str]:
        """The attributes the given object classes (and their superclasses) require."""
        return {a for c in classes for oc in self.superclasses(c) for a in oc.must}

    def may(self, *classes: str) -> set[str]:
        return {a for c in classes for oc in self.superclasses(c) for a in oc.may}

    def is_binary(self, name: str) -> bool:
        """True when values of ``name`` are bytes (binary syntax, or ``;binary`` option)."""
        if ";binary" in name.lower():
            return True
        at = self.attribute_type(name)
        if at is None:
            return name.split(";", 1)[0].lower() in BINARY_ATTRIBUTES
        return at.binary

    def __repr__(self) -> str:
        return (f"<Schema: {len(self.attribute_types)} attribute types, "
                f"{len(self.object_classes)} object classes>")


def schema_file(name: str) -> Path:
    """The path of a bundled schema file (``"core"``, ``"msuser"``, ``"openldap"`` ...)."""
    path = Path(str(resources.files("ldapnb") / "schema" / f"{name}.schema"))
    if not path.is_file():
        raise SchemaError(f"no bundled schema {name!r}; bundled: {', '.join(bundled_schemas())}")
    return path


def bundled_schemas() -> list[str]:
    folder = resources.files("ldapnb") / "schema"
    return sorted(p.name[:-7] for p in folder.iterdir() if p.name.endswith(".schema"))


def load_schema(*names: str) -> Schema:
    """A schema from bundled files, e.g. ``load_schema("core", "cosine")``; a name given
    twice is read once.  :data:`DEFAULT_FILES` are the files a stock slapd has (``openldap``
    included, for OpenLDAP's own test data and its ``OpenLDAPperson`` class)."""
    return _load_schema(tuple(dict.fromkeys(names)))


@functools.cache
def _load_schema(names: tuple[str, ...]) -> Schema:
    return Schema.from_files([schema_file(n) for n in names])


def default_schema() -> Schema:
    """The schema ldapnb's embedded directory and private slapd both use."""
    return load_schema(*DEFAULT_FILES)


def ad_schema() -> Schema:
    """The default schema plus Microsoft's AD schema (``ad.schema``, Windows Server 2016,
    generated by ``scripts/make_ad_schema.py`` from [MS-ADSC]/[MS-ADA1..3]): what the
    embedded directory reads exports of an AD DC with (slapd never loads it).

    >>> ad_schema().object_class("domainDNS").sup
    ('domain',)
    """
    return load_schema(*DEFAULT_FILES, "ad")
