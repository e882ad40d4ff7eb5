"""LDIF (RFC 2849): read and write entries and change records.

Why this is written by hand: the maintained pure-Python readers were weighed first.  ``ldif3``
and its successor ``ldif`` (4.x) dropped change records ("remove partial support for parsing
change records"), raise a bare ``ValueError`` that names no line, and parse one line per
Python call; python-ldap's ``ldif`` module needs python-ldap and its C library (libldap).
ldapnb needs every error to name the file and line, ``:<`` URL values refused rather than
fetched, attribute options kept as written, change records (add, delete, modify with
increment, modrdn/moddn, controls) and speed on 100k-entry files, so this module reads LDIF
itself: the text is read in large chunks, split into lines in bulk, folded lines are joined
only when the next line starts with a space, and each record is parsed in one tight loop.

Reading
-------
:func:`read_records` / :func:`loads_records` yield :class:`Record` objects, content records
and change records alike; :func:`read_entries` / :func:`loads` yield only entries and refuse
change records (those are applied with ``Directory.apply_ldif``).  A plain value is a ``str``;
a base64 (``::``) value is a ``str`` when it decodes as UTF-8 and ``bytes`` otherwise (LDIF
has no type marker, so ``bytes`` that happen to be UTF-8 come back as ``str``).

Writing
-------
:func:`dumps` / :func:`write` write entries and records; any value or DN that is not an
RFC 2849 SAFE-STRING (leading space, ``:`` or ``<``, trailing space, non-ASCII, control
characters, CR/LF, ``bytes``) is written base64, and lines longer than ``width`` are folded.

Examples
--------
>>> text = '''dn: cn=Ada,dc=example,dc=org
... cn: Ada
... sn:: IExvdmVsYWNlIA==
... '''
>>> [e] = loads(text)
>>> e["sn"]
[' Lovelace ']
>>> print(dumps([e], version=False), end="")
dn: cn=Ada,dc=example,dc=org
cn: Ada
sn:: IExvdmVsYWNlIA==
"""

from __future__ import annotations

import base64
import binascii
import codecs
import io
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from .entry import Entry, SharedNames, Value
from .errors import ArgumentError, LdifError, SourceNotFound

__all__ = [
    "Modification",
    "Record",
    "read_records",
    "loads_records",
    "read_entries",
    "loads",
    "dumps",
    "write",
]

#: Characters read per chunk (text) or bytes per chunk (binary files).
_CHUNK = 1 << 20

_NAME_RE = re.compile(r"(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)(?:;[A-Za-z0-9-]+)*\Z")
_OID_RE = re.compile(r"[0-9]+(?:\.[0-9]+)*\Z")
_CHANGETYPES = ("add", "delete", "modify", "modrdn", "moddn")
_MOD_OPS = ("add", "delete", "replace", "increment")
#: Names that are LDIF keywords in the head of a record, never attribute names in its body.
_RESERVED = frozenset({"dn", "changetype", "control"})


@dataclass
class Modification:
    """One group of a ``changetype: modify`` record: ``op`` on ``attribute`` with ``values``.

    ``op`` is ``"add"``, ``"delete"``, ``"replace"`` or ``"increment"``; ``values`` may be
    empty (``delete: description`` alone removes every value).
    """

    op: str
    attribute: str
    values: list[Value]


@dataclass
class Record:
    """One LDIF record: a content record (``changetype`` is None) or a change record.

    ``line`` is the 1-based line of the record's ``dn:`` line.  ``entry`` holds the entry of
    a content record or of ``changetype: add``; ``modifications`` the groups of
    ``changetype: modify``; ``newrdn``, ``deleteoldrdn`` and ``newsuperior`` belong to
    ``modrdn``/``moddn``; ``controls`` are ``(oid, criticality, value)`` triples.
    """

    dn: str
    line: int
    changetype: str | None
    entry: Entry | None
    modifications: list[Modification]
    newrdn: str | None = None
    deleteoldrdn: bool | None = None
    newsuperior: str | None = None
    controls: list[tuple[str, bool, bytes | None]] = field(default_factory=list)


# ------------------------------------------------------------------------------------------
# reading: sources -> batches of physical lines
# ------------------------------------------------------------------------------------------


def _text_batches(chunks: Iterable[str], name: str) -> Iterator[list[str]]:
    """Split text chunks into lists of lines (no line ends), CRLF or LF."""
    carry = ""
    for chunk in chunks:
        if not chunk:
            continue
        text = carry + chunk if carry else chunk
        lines = text.split("\n")
        carry = lines.pop()
        if "\r" in text:
            lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
        if lines:
            yield lines
    if carry:
        yield [carry[:-1] if carry.endswith("\r") else carry]


def _decoded(chunks: Iterable[bytes], name: str) -> Iterator[str]:
    """Decode UTF-8 byte chunks, naming the line of the first invalid byte."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    newlines = 0  # newlines in the bytes already decoded
    first = True
    for chunk in chunks:
        if first:
            first = False
            if chunk.startswith(codecs.BOM_UTF8):
                chunk = chunk[3:]
        try:
            yield decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            start = max(exc.start, 0)
            line = newlines + chunk.count(b"\n", 0, start) + 1
            bad = chunk[start : start + 1].hex()
            raise LdifError(
                f"invalid UTF-8 (byte 0x{bad}): plain values must be UTF-8 text; write "
                "binary values base64, as 'attribute:: <base64>'",
                source=name,
                line=line,
            ) from exc
        newlines += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise LdifError(
            "invalid UTF-8: the text ends inside a multi-byte character",
            source=name,
            line=newlines + 1,
        ) from exc


def _slices(text: str) -> Iterator[str]:
    for i in range(0, len(text), _CHUNK):
        yield text[i : i + _CHUNK]


def _read_chunks(f: IO[Any]) -> Iterator[Any]:
    while True:
        chunk = f.read(_CHUNK)
        if not chunk:
            return
        yield chunk


def _file_chunks(f: IO[Any], name: str) -> Iterator[str]:
    chunks = _read_chunks(f)
    try:
        first = next(chunks)
    except StopIteration:
        return
    except UnicodeDecodeError as exc:
        raise LdifError(f"the file is not UTF-8 text ({exc.reason})", source=name) from exc
    if isinstance(first, bytes):
        yield from _decoded(_chain(first, chunks), name)
        return
    yield first.lstrip("\ufeff")
    try:
        yield from chunks
    except UnicodeDecodeError as exc:
        raise LdifError(f"the file is not UTF-8 text ({exc.reason})", source=name) from exc


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


# ------------------------------------------------------------------------------------------
# reading: physical lines -> records
# ------------------------------------------------------------------------------------------


def _records(batches: Iterable[list[str]], src: str, compact: bool = False) -> Iterator[Record]:
    """Join folded lines, drop comments, cut records at blank lines, parse each record."""
    names: dict[str, str] = {}  # attribute description as written -> lower-case key
    pools = _Pools() if compact else None
    rec: list[str] = []
    nos: list[int] = []
    cur: str | None = None  # the logical line being built
    cur_no = 0
    incomment = False
    lineno = 0
    first = True
    for batch in batches:
        for line in batch:
            lineno += 1
            if not line:
                if cur is not None:
                    rec.append(cur)
                    nos.append(cur_no)
                    cur = None
                incomment = False
                if rec:
                    if first:
                        first = False
                        if _is_version(rec[0]):
                            _check_version(rec[0], src, nos[0])
                            del rec[0], nos[0]
                            if not rec:
                                continue
                    yield _parse_record(rec, nos, src, names, pools)
                    rec = []
                    nos = []
                continue
            c = line[0]
            if c == " ":
                if cur is not None:
                    cur += line[1:]
                elif not incomment:
                    raise LdifError(
                        "a continuation line (starting with a space) at the start of a "
                        "record: there is no line before it to continue",
                        source=src,
                        line=lineno,
                    )
                continue
            if cur is not None:
                rec.append(cur)
                nos.append(cur_no)
            if c == "#":
                cur = None
                incomment = True
                continue
            incomment = False
            cur = line
            cur_no = lineno
    if cur is not None:
        rec.append(cur)
        nos.append(cur_no)
    if rec:
        if first and _is_version(rec[0]):
            _check_version(rec[0], src, nos[0])
            del rec[0], nos[0]
        if rec:
            yield _parse_record(rec, nos, src, names, pools)


def _is_version(line: str) -> bool:
    return line[:8].lower() == "version:"


def _check_version(line: str, src: str, no: int) -> None:
    version = line[8:].strip()
    if version != "1":
        raise LdifError(
            f"unsupported LDIF version {version!r}: RFC 2849 defines only 'version: 1'",
            source=src,
            line=no,
        )


def _bad_name(name: str, line: str, src: str, no: int) -> LdifError:
    if name.strip().lower() in _RESERVED:
        return LdifError(
            f"{name.strip()}: may only appear at the start of a record (dn:, then control:, "
            "then changetype:); a blank line is needed between records",
            source=src,
            line=no,
        )
    return LdifError(
        f"illegal attribute name {name!r}: an attribute is letters, digits and '-' "
        "(starting with a letter) or a numeric OID, optionally followed by ';option's",
        source=src,
        line=no,
    )


def _no_colon(line: str, src: str, no: int) -> LdifError:
    shown = line if len(line) <= 60 else line[:57] + "..."
    return LdifError(
        f"line has no ':' ({shown!r}): every line is 'attribute: value', "
        "'attribute:: base64' or a comment starting with '#'",
        source=src,
        line=no,
    )


def _key(name: str, line: str, names: dict[str, str], src: str, no: int) -> str:
    """Validate an attribute description and remember it; return its lower-case key."""
    if _NAME_RE.match(name) is None or name.lower() in _RESERVED:
        raise _bad_name(name, line, src, no)
    key = name.lower()
    names[name] = key
    return key


def _b64(text: str, what: str, src: str, no: int) -> bytes:
    try:
        return base64.b64decode(text.strip(" "), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise LdifError(f"bad base64 in {what} ({exc})", source=src, line=no) from exc


def _value(name: str, rest: str, src: str, no: int) -> Value:
    """The value after 'name:' (``rest`` starts just after the first colon)."""
    c = rest[:1]
    if c == ":":
        raw = _b64(rest[1:], f"the value of {name!r}", src, no)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw
    if c == "<":
        raise LdifError(
            f"URL values (:<) are not loaded, for safety ({name}:<{rest[1:].strip()}): "
            "put the value itself in the file, base64 if binary",
            source=src,
            line=no,
        )
    return rest.lstrip(" ")


def _text_value(name: str, rest: str, src: str, no: int) -> str:
    """A value that must be text (dn, newrdn, newsuperior)."""
    value = _value(name, rest, src, no)
    if isinstance(value, bytes):
        raise LdifError(
            f"the base64 value of {name}: is not UTF-8 text", source=src, line=no
        )
    return value


def _parse_record(lines: list[str], nos: list[int], src: str, names: dict[str, str],
                  pools: _Pools | None = None) -> Record:
    first = lines[0]
    no = nos[0]
    name, sep, rest = first.partition(":")
    if not sep:
        raise _no_colon(first, src, no)
    if name.lower() != "dn":
        raise LdifError(
            f"expected a 'dn:' line to start the record, found {name!r}: every record "
            "starts with its dn: line, and records are separated by blank lines",
            source=src,
            line=no,
        )
    dn = _text_value("dn", rest, src, no)
    n = len(lines)
    i = 1
    changetype: str | None = None
    controls: list[tuple[str, bool, bytes | None]] = []
    if n > 1 and lines[1][:1] in ("c", "C"):
        while i < n:
            line = lines[i]
            head = line[:11].lower()
            if head.startswith("control:"):
                controls.append(_control(line[8:], src, nos[i]))
                i += 1
            elif head.startswith("changetype:"):
                changetype = line[11:].strip()
                if changetype not in _CHANGETYPES:
                    raise LdifError(
                        f"unknown changetype {changetype!r}: use add, delete, modify, "
                        "modrdn or moddn",
                        source=src,
                        line=nos[i],
                    )
                i += 1
                break
            else:
                break
    if controls and changetype is None:
        raise LdifError(
            "control: lines belong to change records: a changetype: line must follow them",
            source=src,
            line=nos[i] if i < n else nos[-1],
        )

    if changetype is None or changetype == "add":
        # the hot path: attribute lines of an entry
        attrs: dict[str, list[Value]] = {}
        spell: dict[str, str] = {}
        for j in range(i, n):
            line = lines[j]
            name, sep, rest = line.partition(":")
            if not sep:
                raise _no_colon(line, src, nos[j])
            key = names.get(name)
            if key is None:
                key = _key(name, line, names, src, nos[j])
            c = rest[:1]
            value: Value
            if c == " ":
                text = rest[1:]
                value = text.lstrip(" ") if text[:1] == " " else text
            elif c == ":" or c == "<":
                value = _value(name, rest, src, nos[j])
            else:
                value = rest
            vals = attrs.get(key)
            if vals is None:
                attrs[key] = [value]
                spell[key] = name
            else:
                vals.append(value)
        entry = _entry(dn, attrs, spell) if pools is None else pools.entry(dn, attrs, spell)
        return Record(dn, no, changetype, entry, [], controls=controls)

    if changetype == "delete":
        if i < n:
            raise LdifError(
                "a changetype: delete record has nothing after the changetype: line",
                source=src,
                line=nos[i],
            )
        return Record(dn, no, "delete", None, [], controls=controls)

    if changetype == "modify":
        return Record(
            dn, no, "modify", None, _modifications(lines, nos, i, src, names), controls=controls
        )

    # modrdn / moddn
    fields: dict[str, str] = {}
    for j in range(i, n):
        line = lines[j]
        name, sep, rest = line.partition(":")
        if not sep:
            raise _no_colon(line, src, nos[j])
        low = name.lower()
        if low not in ("newrdn", "deleteoldrdn", "newsuperior"):
            raise LdifError(
                f"unexpected {name!r} in a changetype: {changetype} record: only newrdn:, "
                "deleteoldrdn: and newsuperior: belong there",
                source=src,
                line=nos[j],
            )
        if low in fields:
            raise LdifError(f"{name}: given twice", source=src, line=nos[j])
        fields[low] = _text_value(name, rest, src, nos[j])
        if low == "deleteoldrdn" and fields[low].strip() not in ("0", "1"):
            raise LdifError(
                f"deleteoldrdn must be 0 or 1, not {fields[low]!r}", source=src, line=nos[j]
            )
    if "newrdn" not in fields:
        raise LdifError(
            f"a changetype: {changetype} record needs a newrdn: line", source=src, line=no
        )
    if "deleteoldrdn" not in fields:
        raise LdifError(
            f"a changetype: {changetype} record needs a deleteoldrdn: 0 or 1 line",
            source=src,
            line=no,
        )
    return Record(
        dn,
        no,
        changetype,
        None,
        [],
        newrdn=fields["newrdn"],
        deleteoldrdn=fields["deleteoldrdn"].strip() == "1",
        newsuperior=fields.get("newsuperior"),
        controls=controls,
    )


def _entry(dn: str, attrs: dict[str, list[Value]], spell: dict[str, str]) -> Entry:
    """An Entry from lower-case keyed value lists, without re-adding value by value."""
    return Entry.from_lists(dn, attrs, spell)  # the keys agree: both made in _parse_record


#: At most this many distinct value lists of one attribute are pooled by a compact read: enough
#: for the values entries repeat (objectClass, loginShell, departmentNumber ...), while an
#: attribute whose values are all different (uid, mail) stops growing its pool there.
_POOL_CAP = 512
#: Value lists longer than this are never pooled (a big group's members are its own).
_POOL_LONGEST = 16


class _Pools:
    """What the entries of one compact read (``read_records(compact=True)``) share: one
    spelling map per distinct list of attribute names (a :class:`SharedNames`, which an entry
    copies before changing it), and one value list per distinct short list of values of an
    attribute, up to :data:`_POOL_CAP` of them.  An attribute whose first :data:`_POOL_CAP`
    lists came in as many entries (nearly all different: uid, mail) is no longer looked up.
    A shared list is never changed in place: :class:`Entry` builds a new list on every
    change."""

    __slots__ = ("kinds", "values", "born", "retired", "count")

    def __init__(self) -> None:
        # attribute spellings, in order -> (their SharedNames, how many have options, the
        # keys whose values are pooled)
        self.kinds: dict[tuple[str, ...], tuple[SharedNames, int, tuple[str, ...]]] = {}
        self.values: dict[str, dict[object, list[Value]]] = {}  # key -> its pool
        self.born: dict[str, int] = {}  # key -> how many entries came before its pool
        self.retired: set[str] = set()  # keys no longer pooled
        self.count = 0  # entries read

    def entry(self, dn: str, attrs: dict[str, list[Value]], spell: dict[str, str]) -> Entry:
        self.count += 1
        spellings = tuple(spell.values())
        kind = self.kinds.get(spellings)
        if kind is None:
            kind = self._kind(spellings, spell)
        pools = self.values
        for key in kind[2]:  # (replacing a key's value keeps the dict's size)
            vals = attrs[key]
            n = len(vals)
            if n == 1:
                probe: object = vals[0]
            elif n <= _POOL_LONGEST:
                probe = tuple(vals)
            else:
                continue
            pool = pools[key]
            same = pool.get(probe)
            if same is not None:
                attrs[key] = same
            elif len(pool) < _POOL_CAP:
                pool[probe] = vals
                if len(pool) == _POOL_CAP and self.count - self.born[key] < 2 * _POOL_CAP:
                    self._retire(key)
        return Entry.from_lists(dn, attrs, kind[0], kind[1])

    def _kind(self, spellings: tuple[str, ...],
              spell: dict[str, str]) -> tuple[SharedNames, int, tuple[str, ...]]:
        for key in spell:
            if key not in self.values:
                self.values[key] = {}
                self.born[key] = self.count - 1
        kind = (SharedNames(spell), sum(";" in k for k in spell),
                tuple(k for k in spell if k not in self.retired))
        self.kinds[spellings] = kind
        return kind

    def _retire(self, key: str) -> None:
        self.retired.add(key)
        self.kinds = {s: (names, options, tuple(k for k in keys if k != key))
                      for s, (names, options, keys) in self.kinds.items()}


def _modifications(
    lines: list[str], nos: list[int], i: int, src: str, names: dict[str, str]
) -> list[Modification]:
    mods: list[Modification] = []
    n = len(lines)
    current: Modification | None = None
    current_key = ""
    for j in range(i, n):
        line = lines[j]
        if current is None:
            op, sep, rest = line.partition(":")
            low = op.lower()
            if not sep or low not in _MOD_OPS:
                raise LdifError(
                    f"expected 'add:', 'delete:', 'replace:' or 'increment:' to start a "
                    f"modification, found {line[:40]!r}",
                    source=src,
                    line=nos[j],
                )
            attribute = rest.strip(" ")
            if names.get(attribute) is None:
                _key(attribute, line, names, src, nos[j])
            current = Modification(low, attribute, [])
            current_key = attribute.lower()
            mods.append(current)
            continue
        if line.rstrip(" ") == "-":
            current = None
            continue
        name, sep, rest = line.partition(":")
        if not sep:
            raise _no_colon(line, src, nos[j])
        if name.lower() != current_key:
            raise LdifError(
                f"{name!r} inside a '{current.op}: {current.attribute}' group: a group's "
                f"lines must all name {current.attribute!r}; end the group with a '-' line",
                source=src,
                line=nos[j],
            )
        current.values.append(_value(name, rest, src, nos[j]))
    return mods


def _control(text: str, src: str, no: int) -> tuple[str, bool, bytes | None]:
    """``text`` follows 'control:': oid [true|false] [value-spec]."""
    body = text.lstrip(" ")
    head, sep, rest = body.partition(":")
    parts = head.split()
    if not parts or _OID_RE.match(parts[0]) is None:
        raise LdifError(
            f"a control: line needs a numeric OID first, found {head.strip()!r}",
            source=src,
            line=no,
        )
    oid = parts[0]
    critical = False
    if len(parts) == 2 and parts[1] in ("true", "false"):
        critical = parts[1] == "true"
    elif len(parts) > 1:
        raise LdifError(
            f"after the control OID expected 'true' or 'false', found {' '.join(parts[1:])!r}",
            source=src,
            line=no,
        )
    value: bytes | None = None
    if sep:
        v = _value("control", rest, src, no)
        value = v.encode("utf-8") if isinstance(v, str) else v
    return (oid, critical, value)


# ------------------------------------------------------------------------------------------
# reading: public functions
# ------------------------------------------------------------------------------------------


def read_records(source: Any, *, name: str | None = None,
                 compact: bool = False) -> Iterator[Record]:
    """Read every record of an LDIF file, streaming.

    Parameters
    ----------
    source : str, os.PathLike or file
        A path, or a file open in text or binary mode (binary is read as UTF-8).
    name : str, optional
        The name used in error messages; defaults to the path (or the file's name).
    compact : bool
        Entries with the same attribute names share one spelling map, and entries with the
        same short list of values for an attribute (``objectClass: top, person ...``,
        ``loginShell: /bin/bash``) share that list, for a bulk load's memory.  The entries
        compare and read as without it; change them through :class:`Entry`'s methods (which
        never change a list in place), not by changing a value list you were given.

    Returns
    -------
    Iterator[Record]
        Content records (``changetype`` None) and change records, in file order.  The file
        is read in chunks while the iterator is consumed.

    Raises
    ------
    LdifError
        On anything that is not RFC 2849 LDIF, naming the file and line.

    Examples
    --------
    >>> import io
    >>> [r] = read_records(io.StringIO("dn: cn=x\\nchangetype: delete\\n"), name="x.ldif")
    >>> (r.dn, r.changetype, r.line)
    ('cn=x', 'delete', 1)
    """
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        src = name if name is not None else str(path)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not os.path.exists(path):
            raise SourceNotFound(path, "LDIF file")
        if os.path.isdir(path):
            raise LdifError("is a folder, not an LDIF file", source=src)
        return _read_path(path, src, compact)
    if not hasattr(source, "read"):
        raise ArgumentError("read_records' source", "a path or an open file", source,
                            show=False)
    fname = getattr(source, "name", None)
    src = name if name is not None else (fname if isinstance(fname, str) else "<stream>")
    return _records(_text_batches(_file_chunks(source, src), src), src, compact)


def _read_path(path: str, src: str, compact: bool = False) -> Iterator[Record]:
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below, after the last record
    except FileNotFoundError:
        raise SourceNotFound(path, "LDIF file") from None
    except OSError as exc:
        raise LdifError(f"cannot be read: {exc.strerror or exc}", source=src) from exc
    with f:
        yield from _records(_text_batches(_file_chunks(f, src), src), src, compact)


def loads_records(text: str | bytes, *, name: str = "<string>") -> Iterator[Record]:
    """Read every record of LDIF held in a string (or UTF-8 bytes).

    Parameters
    ----------
    text : str or bytes
        The LDIF text.
    name : str
        The name used in error messages.

    Returns
    -------
    Iterator[Record]

    Raises
    ------
    LdifError
        On anything that is not RFC 2849 LDIF, naming the line.

    Examples
    --------
    >>> [r] = loads_records("dn: cn=x\\nchangetype: modify\\nreplace: sn\\nsn: Y\\n")
    >>> r.modifications
    [Modification(op='replace', attribute='sn', values=['Y'])]
    """
    if not isinstance(text, (str, bytes)):
        raise ArgumentError("LDIF text", "a str or bytes (for a file, use read_records)", text,
                            show=False)
    if isinstance(text, bytes):
        chunks: Iterable[str] = _decoded(
            (text[i : i + _CHUNK] for i in range(0, len(text), _CHUNK)), name
        )
    else:
        chunks = _slices(text.lstrip("\ufeff"))
    return _records(_text_batches(chunks, name), name)


def _only_entries(records: Iterator[Record], src: str) -> Iterator[Entry]:
    for record in records:
        if record.entry is None:
            raise LdifError(
                f"this file holds change records (changetype: {record.changetype}); "
                "apply them with Directory.apply_ldif",
                source=src,
                line=record.line,
            )
        yield record.entry


def read_entries(source: Any, *, name: str | None = None) -> Iterator[Entry]:
    """Read the entries of an LDIF file, streaming.

    Content records and ``changetype: add`` records give entries; any other change record
    is an error (apply those with ``Directory.apply_ldif``).

    Parameters
    ----------
    source : str, os.PathLike or file
        A path, or a file open in text or binary mode.
    name : str, optional
        The name used in error messages; defaults to the path.

    Returns
    -------
    Iterator[Entry]

    Raises
    ------
    LdifError
        Bad LDIF, or a change record other than add.

    Examples
    --------
    >>> import io
    >>> [e] = read_entries(io.StringIO("dn: cn=x\\ncn: x\\n"))
    >>> e.dn, e["cn"]
    ('cn=x', ['x'])
    """
    if name is None:
        if isinstance(source, (str, os.PathLike)):
            name = str(os.fspath(source))
        else:
            fname = getattr(source, "name", None)
            name = fname if isinstance(fname, str) else "<stream>"
    return _only_entries(read_records(source, name=name), name)


def loads(text: str | bytes, *, name: str = "<string>") -> list[Entry]:
    """The entries of LDIF held in a string, as a list.

    Parameters
    ----------
    text : str or bytes
        The LDIF text.
    name : str
        The name used in error messages.

    Returns
    -------
    list[Entry]

    Raises
    ------
    LdifError
        Bad LDIF, or a change record other than add.

    Examples
    --------
    >>> [e.dn for e in loads("dn: dc=org\\ndc: org\\n\\ndn: dc=example,dc=org\\ndc: example\\n")]
    ['dc=org', 'dc=example,dc=org']
    """
    return list(_only_entries(loads_records(text, name=name), name))


# ------------------------------------------------------------------------------------------
# writing
# ------------------------------------------------------------------------------------------


def _safe(value: str) -> bool:
    """True when ``value`` is an RFC 2849 SAFE-STRING (printable ASCII, no bad ends)."""
    return not value or (
        value.isascii()
        and value.isprintable()
        and value[0] not in " :<"
        and value[-1] != " "
    )


def _encode(name: str, value: Value) -> str:
    if isinstance(value, str):
        if _safe(value):
            return f"{name}: {value}" if value else f"{name}:"
        try:
            raw = value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise LdifError(
                f"a value of {name!r} cannot be written: it is not encodable as UTF-8 "
                f"({exc.reason})",
                source="<output>",
            ) from exc
    elif isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
    else:
        raise LdifError(
            f"a value of {name!r} is a {type(value).__name__}: values must be str or bytes",
            source="<output>",
        )
    return f"{name}:: {base64.b64encode(raw).decode('ascii')}"


def _fold(line: str, width: int) -> str:
    if len(line) <= width:
        return line
    parts = [line[:width]]
    step = width - 1
    for k in range(width, len(line), step):
        parts.append(" " + line[k : k + step])
    return "\n".join(parts)


def _check_name(name: str) -> None:
    if _NAME_RE.match(name) is None or name.lower() in _RESERVED:
        raise LdifError(
            f"cannot write attribute name {name!r}: an attribute is letters, digits and '-' "
            "(starting with a letter) or a numeric OID, optionally with ';option's",
            source="<output>",
        )


def _dump_one(item: Entry | Record, width: int, checked: set[str]) -> str:
    out: list[str] = []
    entry: Entry | None
    record: Record | None
    if isinstance(item, Entry):
        dn, entry, record = item.dn, item, None
    elif isinstance(item, Record):
        dn, entry, record = item.dn, item.entry, item
    else:
        raise ArgumentError("each item dumps writes", "an Entry or a Record", item, show=False)
    out.append(_fold(_encode("dn", dn), width))
    if record is not None:
        for oid, critical, cvalue in record.controls:
            text = f"control: {oid} {'true' if critical else 'false'}"
            if cvalue is not None:
                text += _encode("", cvalue)  # ': value' or ':: base64'
            out.append(_fold(text, width))
        if record.changetype is not None:
            out.append(f"changetype: {record.changetype}")
    changetype = record.changetype if record is not None else None
    if changetype is None or changetype == "add":
        if entry is not None:
            for name, values in entry.items():
                if name not in checked:
                    _check_name(name)
                    checked.add(name)
                for value in values:
                    line = _encode(name, value)
                    out.append(line if len(line) <= width else _fold(line, width))
    elif changetype == "modify":
        assert record is not None
        for mod in record.modifications:
            if mod.op not in _MOD_OPS:
                raise LdifError(f"unknown modification op {mod.op!r}", source="<output>")
            _check_name(mod.attribute)
            out.append(f"{mod.op}: {mod.attribute}")
            for value in mod.values:
                out.append(_fold(_encode(mod.attribute, value), width))
            out.append("-")
    elif changetype in ("modrdn", "moddn"):
        assert record is not None
        if record.newrdn is None:
            raise LdifError(f"a {changetype} record needs newrdn", source="<output>")
        out.append(_fold(_encode("newrdn", record.newrdn), width))
        out.append(f"deleteoldrdn: {1 if record.deleteoldrdn else 0}")
        if record.newsuperior is not None:
            out.append(_fold(_encode("newsuperior", record.newsuperior), width))
    elif changetype != "delete":
        raise LdifError(f"unknown changetype {changetype!r}", source="<output>")
    out.append("")
    return "\n".join(out)


def _dump_iter(items: Iterable[Entry | Record], version: bool, width: int) -> Iterator[str]:
    if width < 2:
        raise ValueError("width must be at least 2")
    if version:
        yield "version: 1\n"
    first = not version
    checked: set[str] = set()
    for item in items:
        text = _dump_one(item, width, checked)
        yield text if first else "\n" + text
        first = False


def dumps(items: Iterable[Entry | Record], *, version: bool = True, width: int = 76) -> str:
    """Write entries and records as LDIF text.

    Parameters
    ----------
    items : iterable of Entry or Record
        What to write; a :class:`Record` keeps its changetype, controls and modifications.
    version : bool
        Start with ``version: 1``.
    width : int
        Fold lines longer than this many characters.

    Returns
    -------
    str
        The LDIF text: records separated by blank lines, ending with a newline.

    Raises
    ------
    LdifError
        An attribute name or a value that cannot be written.

    Examples
    --------
    >>> e = Entry("cn=x", {"cn": ["x"], "description": [" leading space"]})
    >>> print(dumps([e]), end="")
    version: 1
    <BLANKLINE>
    dn: cn=x
    cn: x
    description:: IGxlYWRpbmcgc3BhY2U=
    """
    if isinstance(items, (Entry, Record)):
        items = [items]
    elif isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise ArgumentError("items", "a list of Entry or Record objects", items, show=False)
    return "".join(_dump_iter(items, version, width))


def write(
    items: Iterable[Entry | Record],
    destination: Any,
    *,
    version: bool = True,
    width: int = 76,
) -> int:
    """Write entries and records to an LDIF file.

    Parameters
    ----------
    items : iterable of Entry or Record
        What to write (consumed lazily; a generator of 100k entries is fine).
    destination : str, os.PathLike or file
        A path (written as UTF-8 with LF line ends) or a file open in text or binary mode.
    version, width
        As in :func:`dumps`.

    Returns
    -------
    int
        The number of records written.

    Raises
    ------
    LdifError
        An attribute name or value that cannot be written.

    Examples
    --------
    >>> import io
    >>> buf = io.StringIO()
    >>> write([Entry("cn=x", {"cn": ["x"]})], buf, version=False)
    1
    >>> buf.getvalue()
    'dn: cn=x\\ncn: x\\n'
    """
    if isinstance(destination, (str, os.PathLike)):
        with open(destination, "w", encoding="utf-8", newline="\n") as f:
            return _write_to(items, f, version, width, binary=False)
    binary = not isinstance(destination, io.TextIOBase) and _wants_bytes(destination)
    return _write_to(items, destination, version, width, binary=binary)


def _wants_bytes(f: Any) -> bool:
    if isinstance(f, (io.RawIOBase, io.BufferedIOBase)):
        return True
    mode = getattr(f, "mode", "")
    return isinstance(mode, str) and "b" in mode


def _write_to(items: Iterable[Entry | Record], f: Any, version: bool, width: int,
              *, binary: bool) -> int:
    count = 0
    buf: list[str] = []
    size = 0
    for text in _dump_iter(items, version, width):
        if not (count == 0 and version and text == "version: 1\n"):
            count += 1
        buf.append(text)
        size += len(text)
        if size >= _CHUNK:
            data = "".join(buf)
            f.write(data.encode("utf-8") if binary else data)
            buf = []
            size = 0
    if buf:
        data = "".join(buf)
        f.write(data.encode("utf-8") if binary else data)
    return count
