"""Distinguished names (RFC 4514): parse, print, normalise, compare, escape.

A DN is a list of RDNs, the entry's own RDN first; an RDN is a tuple of one or more AVAs
(attribute type, value)::

    "cn=J. Smith+ou=Sales,dc=example,dc=net"
    -> [(("cn", "J. Smith"), ("ou", "Sales")), (("dc", "example"),), (("dc", "net"),)]

Reading is lenient in the ways real data needs (RFC 2253 / RFC 1779): spaces around ``,``
``=`` and ``+``; ``;`` as a separator; ``"quoted values"``; an ``OID.`` prefix on numeric
attribute types; a DN wrapped in ``<...>``.  Everything else follows RFC 4514 strictly, and a
bad DN raises :class:`~ldapnb.errors.DnError` with the 0-based position of the offending
character.  Writing (:func:`to_string`, :func:`normalize`) always produces strict RFC 4514.

Hex (BER) values
    ``1.3.6.1.4.1.1466.0=#04024869`` holds a BER-encoded value.  :func:`parse` keeps it as the
    literal text ``"#04024869"`` in a :class:`HexValue`, a ``str`` subclass: it compares equal
    to the plain string, and :func:`to_string` prints a ``HexValue`` as it is (hex), while a
    plain ``str`` that starts with ``#`` is printed escaped (``\\#``).  So the two spellings
    ``cn=#04024869`` (BER) and ``cn=\\#04024869`` (the text "#04024869") both round-trip:
    ``isinstance(value, HexValue)`` tells them apart.

Why hand-written: ldap3.utils.dn (2.9.1, checked) rejects numeric OID attribute types
(``1.1.1=x``), accepts ``\\C4`` escapes that are not UTF-8 without a word, "repairs" bad DNs
in ``safe_dn`` (``UID=john,smith`` becomes ``UID=john\\,smith``; ``UID=john\\?smith`` becomes
``UID=john\\\\?\\s\\m\\i\\t\\h\\``), rejects a space after ``,`` in ``safe_dn``, and takes
6-9 us per DN.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ldapnb.errors import ArgumentError, DnError

__all__ = [
    "AVA",
    "RDN",
    "HexValue",
    "parse",
    "to_string",
    "normalize",
    "escape_value",
    "unescape_value",
    "parent",
    "rdn",
    "rdn_avas",
    "is_descendant",
    "equal",
    "join",
    "depth",
]

AVA = tuple[str, str]
RDN = tuple[AVA, ...]


class HexValue(str):
    """A value written in a DN in its hex (BER) form, e.g. ``#04024869``.

    It is the literal text, ``#`` included, so it compares equal to that ``str``;
    :func:`to_string` prints it unescaped, as hex.

    Examples
    --------
    >>> v = parse("1.3.6.1.4.1.1466.0=#04024869")[0][0][1]
    >>> v, v.ber
    (HexValue('#04024869'), b'\\x04\\x02Hi')
    >>> to_string([(("1.3.6.1.4.1.1466.0", v),)])
    '1.3.6.1.4.1.1466.0=#04024869'
    """

    __slots__ = ()

    @property
    def ber(self) -> bytes:
        """The BER bytes the hex digits spell."""
        return bytes.fromhex(self[1:])

    def __repr__(self) -> str:
        return f"HexValue({str.__repr__(self)})"


# --------------------------------------------------------------------------------------------
# attribute types

_DESCR = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_NUMERICOID = re.compile(r"(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*")
_TYPE_CHARS = re.compile(r"[A-Za-z0-9.-]*")

# RFC 4514 section 3 names, their long names and OIDs: normalize() writes the short name.
_TYPE_ALIASES = {
    "commonname": "cn", "2.5.4.3": "cn",
    "localityname": "l", "2.5.4.7": "l",
    "stateorprovincename": "st", "2.5.4.8": "st",
    "organizationname": "o", "2.5.4.10": "o",
    "organizationalunitname": "ou", "2.5.4.11": "ou",
    "countryname": "c", "2.5.4.6": "c",
    "streetaddress": "street", "2.5.4.9": "street",
    "domaincomponent": "dc", "0.9.2342.19200300.100.1.25": "dc",
    "userid": "uid", "0.9.2342.19200300.100.1.1": "uid",
}


def _type_error(dn: str, start: int, end: int) -> DnError:
    """The DnError for an invalid attribute type ``dn[start:end]`` (possibly empty)."""
    t = dn[start:end]
    if not t:
        if start >= len(dn):
            return DnError("expected an attribute type (like 'cn') at the end", dn=dn,
                           position=start)
        return DnError(f"expected an attribute type (like 'cn'), found {dn[start]!r}", dn=dn,
                       position=start)
    if t[0].isdigit():
        comps = t.split(".")
        pos = start
        for k, comp in enumerate(comps):
            if not comp:
                if k == len(comps) - 1:
                    return DnError(f"bad numeric OID {t!r}: it ends with '.'", dn=dn,
                                   position=pos - 1)
                return DnError(f"bad numeric OID {t!r}: two dots in a row", dn=dn,
                               position=pos)
            bad = next((i for i, c in enumerate(comp) if not c.isdigit()), None)
            if bad is not None:
                return DnError(f"bad numeric OID {t!r}: only digits and dots are allowed, "
                               f"not {comp[bad]!r}", dn=dn, position=pos + bad)
            if len(comp) > 1 and comp[0] == "0":
                return DnError(f"bad numeric OID {t!r}: the number {comp!r} has a leading "
                               "zero", dn=dn, position=pos)
            pos += len(comp) + 1
    if t[0] == "-":
        return DnError(f"attribute type {t!r} must start with a letter (or be a numeric OID)",
                       dn=dn, position=start)
    return DnError(f"'.' is not allowed in attribute type {t!r} (letters, digits and '-' "
                   "only, or a numeric OID like 2.5.4.3)", dn=dn, position=start + t.find("."))


def _check_type(dn: str, start: int, end: int) -> str:
    """The attribute type ``dn[start:end]``, 'OID.' prefix dropped; DnError if invalid."""
    t = dn[start:end]
    if _DESCR.fullmatch(t) or _NUMERICOID.fullmatch(t):
        return t
    if t[:4].lower() == "oid." and _NUMERICOID.fullmatch(t, 4):
        return t[4:]
    if t[:4].lower() == "oid.":
        raise _type_error(dn, start + 4, end)
    raise _type_error(dn, start, end)


@functools.lru_cache(maxsize=4096)
def _norm_type(t: str) -> str | None:
    """Lower-cased type with 'oid.' dropped and well-known aliases applied; None if invalid."""
    t = t.strip(" ")
    if not (_DESCR.fullmatch(t) or _NUMERICOID.fullmatch(t)):
        if t[:4].lower() == "oid." and _NUMERICOID.fullmatch(t, 4):
            t = t[4:]
        else:
            return None
    t = t.lower()
    return _TYPE_ALIASES.get(t, t)


# --------------------------------------------------------------------------------------------
# scanning

_PLAIN_RUN = re.compile(r'[^\\,+;"<>\x00 ]+')
_HEX = "0123456789abcdefABCDEF"
_SPECIALS = ',+"\\<>;= #'
_SEPARATORS = ",+;"
_HEX_RUN = re.compile(r"[0-9A-Fa-f]*")


def _escape_error(dn: str, i: int, end: int) -> DnError:
    """DnError for the bad escape starting with the backslash at ``dn[i]``."""
    if i + 1 >= end:
        return DnError("a '\\' at the end escapes nothing (write '\\\\' for a backslash)",
                       dn=dn, position=i)
    pair = dn[i:i + 3] if dn[i + 1] in _HEX or dn[i + 1].isalnum() else dn[i:i + 2]
    if dn[i + 1].isalnum():
        return DnError(f"bad hex escape '{pair}': after '\\' write two hex digits (00-FF) or "
                       'one of , + " \\ < > ; = # space', dn=dn, position=i)
    return DnError(f"bad escape '{pair}': only , + \" \\ < > ; = # and space can be escaped "
                   "with '\\' alone; other characters as two hex digits", dn=dn, position=i)


def _hex_run(dn: str, i: int, end: int) -> tuple[str, int]:
    """Decode the run of hex escapes (``\\C4\\8D``) at ``dn[i]``; UTF-8 together."""
    start = i
    raw = bytearray()
    while i + 2 < end and dn[i] == "\\" and dn[i + 1] in _HEX and dn[i + 2] in _HEX:
        raw.append(int(dn[i + 1:i + 3], 16))
        i += 3
    if not raw:
        raise _escape_error(dn, i, end)
    try:
        return raw.decode("utf-8"), i
    except UnicodeDecodeError as exc:
        raise DnError(f"hex escapes '{dn[start:i]}' are not valid UTF-8 ({exc.reason})",
                      dn=dn, position=start) from exc


def _scan_string(dn: str, i: int, end: int) -> tuple[str, int, int]:
    """Read a string value from ``dn[i]`` (not a space, not '#' or '"').

    Returns (value, index after it, index after its last significant character).
    Trailing unescaped spaces are not part of the value.
    """
    parts: list[str] = []
    keep = 0          # len(parts) up to the last significant character
    sig_end = i
    while i < end:
        m = _PLAIN_RUN.match(dn, i, end)
        if m:
            parts.append(m.group())
            i = m.end()
            keep = len(parts)
            sig_end = i
            continue
        c = dn[i]
        if c == " ":
            parts.append(" ")
            i += 1
        elif c in _SEPARATORS:
            break
        elif c == "\\":
            if i + 1 < end and dn[i + 1] in _SPECIALS:
                parts.append(dn[i + 1])
                i += 2
            else:
                text, i = _hex_run(dn, i, end)
                parts.append(text)
            keep = len(parts)
            sig_end = i
        elif c == '"':
            raise DnError("unescaped '\"' inside a value: write it as '\\\"' (or quote the "
                          "whole value)", dn=dn, position=i)
        elif c == "\x00":
            raise DnError("NUL character in a value: write it as '\\00'", dn=dn, position=i)
        else:  # < or >
            raise DnError(f"unescaped {c!r} in a value: write it as '\\{c}'", dn=dn, position=i)
    return "".join(parts[:keep]), i, sig_end


def _scan_quoted(dn: str, i: int, end: int) -> tuple[str, int]:
    """Read an RFC 1779 quoted value; ``dn[i]`` is the opening '"'. Returns (value, after)."""
    open_at = i
    i += 1
    parts: list[str] = []
    while True:
        if i >= end:
            raise DnError("quoted value has no closing '\"'", dn=dn, position=open_at)
        c = dn[i]
        if c == '"':
            return "".join(parts), i + 1
        if c == "\\":
            if i + 1 < end and dn[i + 1] in _SPECIALS:
                parts.append(dn[i + 1])
                i += 2
                continue
            text, i = _hex_run(dn, i, end)
            parts.append(text)
            continue
        if c == "\x00":
            raise DnError("NUL character in a value: write it as '\\00'", dn=dn, position=i)
        parts.append(c)
        i += 1


def _scan_hex(dn: str, i: int, end: int) -> tuple[HexValue, int]:
    """Read '#hexpairs' from ``dn[i]`` == '#'. Returns (HexValue, index after it)."""
    m = _HEX_RUN.match(dn, i + 1, end)
    assert m is not None  # '*' always matches
    j = m.end()
    digits = m.group()
    if j < end and dn[j] not in " ,+;":
        if not digits:
            raise DnError("a value starting with '#' must be hex-encoded BER (like "
                          "'#04024869'); to write a '#' character, escape it as '\\#'",
                          dn=dn, position=j)
        raise DnError(f"bad hex value: {dn[j]!r} is not a hex digit (a value starting with '#' "
                      "is hex-encoded BER; to write a '#' character, escape it as '\\#')",
                      dn=dn, position=j)
    if not digits:
        raise DnError("'#' must be followed by hex digits (a BER value like '#04024869'); "
                      "to write a '#' character, escape it as '\\#'", dn=dn, position=i)
    if len(digits) % 2:
        raise DnError(f"bad hex value '#{digits}': an odd number of hex digits", dn=dn,
                      position=j - 1)
    return HexValue("#" + digits), j


def _skip_spaces(dn: str, i: int, end: int) -> int:
    while i < end and dn[i] == " ":
        i += 1
    return i


def _trim_end(dn: str, start: int, end: int) -> int:
    """``end`` moved back over unescaped spaces (an escaped space ``\\ `` stays)."""
    while end > start and dn[end - 1] == " ":
        k = end - 2
        while k >= start and dn[k] == "\\":
            k -= 1
        if (end - 2 - k) % 2:
            break
        end -= 1
    return end


def _separator_hint(dn: str, sep_at: int, end: int) -> DnError | None:
    """If the text after the separator at ``sep_at`` has no '=', blame the separator."""
    j = sep_at + 1
    while j < end and dn[j] not in ",+;=":
        j += 1
    if j < end and dn[j] == "=":
        return None
    sep = dn[sep_at]
    word = dn[sep_at + 1:j].strip(" ")
    return DnError(f"unescaped {sep!r} before {word!r}, which has no '=': if the {sep!r} is "
                   f"part of the value, escape it as '\\{sep}'", dn=dn, position=sep_at)


Spans = tuple[tuple[int, int], ...]


def _scan_full(dn: str) -> tuple[tuple[RDN, ...], Spans]:
    n = len(dn)
    i = _skip_spaces(dn, 0, n)
    end = _trim_end(dn, i, n)
    if i == end:
        return (), ()
    if dn[i] == "<":  # RFC 1779: <dn>
        if end - 1 == i or dn[end - 1] != ">":
            raise DnError("a DN that starts with '<' must end with '>'", dn=dn, position=i)
        i = _skip_spaces(dn, i + 1, end - 1)
        end = _trim_end(dn, i, end - 1)
        if i == end:
            return (), ()
    rdns: list[RDN] = []
    spans: list[tuple[int, int]] = []
    avas: list[AVA] = []
    rdn_start = i
    sep_at = -1   # position of the separator before the current AVA, -1 at the start
    while True:
        # ---- attribute type
        i = _skip_spaces(dn, i, end)
        if i >= end or dn[i] in ",;+":
            if sep_at < 0:
                raise DnError("empty RDN at the start of the DN", dn=dn, position=i)
            s = dn[sep_at]
            if s == "+":
                raise DnError("nothing after '+': expected another attribute=value", dn=dn,
                              position=sep_at)
            if i >= end:
                raise DnError(f"empty RDN at the end: remove the trailing {s!r}", dn=dn,
                              position=sep_at)
            raise DnError(f"empty RDN: two separators ({s!r} and {dn[i]!r}) in a row", dn=dn,
                          position=i)
        t_start = i
        m = _TYPE_CHARS.match(dn, i, end)
        assert m is not None  # '*' always matches
        i = m.end()
        t_end = i
        j = _skip_spaces(dn, i, end)
        if j >= end or dn[j] != "=":
            if sep_at >= 0:
                hint = _separator_hint(dn, sep_at, end)
                if hint is not None:
                    raise hint
            if t_end == t_start:
                raise _type_error(dn, t_start, t_end)
            _check_type(dn, t_start, t_end)
            t = dn[t_start:t_end]
            if j < end and dn[j] == ";":
                k = dn.find("=", j)
                option = dn[t_start:k if k > 0 else end]
                raise DnError(f"attribute options ({option!r}) are not allowed in a DN",
                              dn=dn, position=j)
            if j < end and j == t_end:
                raise DnError(f"{dn[j]!r} is not allowed in an attribute type (letters, "
                              "digits and '-' only)", dn=dn, position=j)
            where = "at the end" if j >= end else f"but found {dn[j]!r}"
            raise DnError(f"expected '=' after attribute type {t!r}, {where}", dn=dn,
                          position=j)
        if t_end == t_start:
            raise _type_error(dn, t_start, t_end)
        atype = _check_type(dn, t_start, t_end)
        # ---- value
        i = _skip_spaces(dn, j + 1, end)
        if i >= end or dn[i] in _SEPARATORS:
            value: str = ""
            v_end = j + 1
        elif dn[i] == "#":
            value, i = _scan_hex(dn, i, end)
            v_end = i
        elif dn[i] == '"':
            value, i = _scan_quoted(dn, i, end)
            v_end = i
        else:
            value, i, v_end = _scan_string(dn, i, end)
        avas.append((atype, value))
        i = _skip_spaces(dn, i, end)
        if i >= end:
            rdns.append(tuple(avas))
            spans.append((rdn_start, v_end))
            return tuple(rdns), tuple(spans)
        c = dn[i]
        if c == "+":
            sep_at = i
            i += 1
            continue
        if c in ",;":
            rdns.append(tuple(avas))
            spans.append((rdn_start, v_end))
            avas = []
            sep_at = i
            i = _skip_spaces(dn, i + 1, end)
            rdn_start = i
            continue
        raise DnError(f"expected ',' or '+' after the value, found {c!r}", dn=dn, position=i)


_NOT_PLAIN = re.compile(r'[\\"+#;<>]')


def _is_plain(dn: str) -> bool:
    """Printable ASCII without \\ " + # ; < >: no escapes, quotes, hex or multi-valued RDNs."""
    return dn.isascii() and dn.isprintable() and _NOT_PLAIN.search(dn) is None


def _not_str(dn: object, what: str = "a DN") -> ArgumentError:
    return ArgumentError(what, "a str", dn, show=not isinstance(dn, (str, bytes)) or
                         len(dn) < 200)


def _scan(dn: str) -> tuple[tuple[RDN, ...], Spans]:
    """Parse ``dn`` into (RDNs, (start, end) of each RDN as written); cached."""
    if type(dn) is not str and not isinstance(dn, str):
        raise _not_str(dn)
    return _scan_cached(dn)


@functools.lru_cache(maxsize=1 << 14)
def _scan_cached(dn: str) -> tuple[tuple[RDN, ...], Spans]:
    if _is_plain(dn) and dn:
        rdns: list[RDN] = []
        spans: list[tuple[int, int]] = []
        pos = 0
        for part in dn.split(","):
            t, eq, v = part.partition("=")
            t = t.strip(" ")
            if not eq or not (_DESCR.fullmatch(t) or _NUMERICOID.fullmatch(t)):
                break
            lead = len(part) - len(part.lstrip(" "))
            rdns.append(((t, v.strip(" ")),))
            spans.append((pos + lead, pos + len(part.rstrip(" "))))
            pos += len(part) + 1
        else:
            return tuple(rdns), tuple(spans)
    return _scan_full(dn)


# --------------------------------------------------------------------------------------------
# public API


def parse(dn: str) -> list[RDN]:
    """Parse a DN string into a list of RDNs, the entry's own RDN first.

    Parameters
    ----------
    dn : str
        An RFC 4514 DN.  RFC 2253/1779 leniencies are accepted: spaces around ``,`` ``=``
        ``+``, ``;`` between RDNs, ``"quoted values"``, an ``OID.`` prefix, ``<...>`` around
        the whole DN.

    Returns
    -------
    list of tuple of (str, str)
        One tuple of (attribute type as written, value unescaped) per RDN.  The ``OID.``
        prefix is dropped from the type.  A hex value (``#0402...``) is a :class:`HexValue`.

    Raises
    ------
    DnError
        The DN is not valid; ``position`` is the index of the offending character.

    Examples
    --------
    >>> parse("CN=John Smith\\\\, III, DC=example")
    [(('CN', 'John Smith, III'),), (('DC', 'example'),)]
    >>> parse("ou=Sales+cn=J. Smith")
    [(('ou', 'Sales'), ('cn', 'J. Smith'))]
    >>> parse("")
    []
    """
    if not isinstance(dn, str):
        raise _not_str(dn)
    return list(_scan(dn)[0])


_HEX_FORM = re.compile(r"#(?:[0-9A-Fa-f]{2})+")
_ESCAPE_RE = re.compile(r'[\\,+";<>\x00-\x1f\x7f]')


def _escape_char(m: re.Match[str]) -> str:
    c = m.group()
    if c < " " or c == "\x7f":
        return f"\\{ord(c):02X}"
    return "\\" + c


def escape_value(value: str) -> str:
    """Escape an attribute value for use in a DN (RFC 4514 section 2.4).

    ``\\ , + " ; < >`` get a backslash; a leading ``#`` or space and a trailing space get a
    backslash; control characters (NUL, CR, ...) are written as hex (``\\0D``).  ``=`` and
    non-ASCII characters are kept as they are.  A :class:`HexValue` is returned unchanged.

    Parameters
    ----------
    value : str
        The value.

    Returns
    -------
    str
        The escaped text.

    Examples
    --------
    >>> escape_value("Smith, John")
    'Smith\\\\, John'
    >>> escape_value("#1 ")
    '\\\\#1\\\\ '
    """
    if isinstance(value, HexValue):
        if not _HEX_FORM.fullmatch(value):
            raise DnError("a HexValue must be '#' and pairs of hex digits", dn=str(value))
        return str(value)
    if not isinstance(value, str):
        raise _not_str(value, "a DN attribute value")
    if not value:
        return ""
    out = _ESCAPE_RE.sub(_escape_char, value)
    if value[0] in " #":
        out = "\\" + out
    if value[-1] == " " and len(value) > 1:
        out = out[:-1] + "\\ "
    return out


def unescape_value(text: str) -> str:
    """Read an escaped attribute value, as it would appear in a DN, back to its text.

    Unescaped spaces at either end are dropped; ``"quoted"`` and ``#hex`` forms are accepted
    (a ``#hex`` value comes back as a :class:`HexValue`).

    Parameters
    ----------
    text : str
        The escaped value.

    Returns
    -------
    str
        The value.

    Raises
    ------
    DnError
        A bad escape, or an unescaped ``,`` ``+`` ``;`` (the text is more than one value).

    Examples
    --------
    >>> unescape_value("\\\\#John Smith\\\\20")
    '#John Smith '
    """
    if not isinstance(text, str):
        raise _not_str(text, "an escaped DN value")
    end = len(text)
    i = _skip_spaces(text, 0, end)
    if i >= end:
        return ""
    if text[i] == "#":
        value: str
        value, i = _scan_hex(text, i, end)
    elif text[i] == '"':
        value, i = _scan_quoted(text, i, end)
    else:
        value, i, _ = _scan_string(text, i, end)
    i = _skip_spaces(text, i, end)
    if i < end:
        c = text[i]
        raise DnError(f"unescaped {c!r} in a value: write it as '\\{c}'", dn=text, position=i)
    return value


def _type_out(t: str) -> str:
    if not isinstance(t, str) or not t:
        raise DnError(f"bad attribute type {t!r}", dn=repr(t))
    return _check_type(t, 0, len(t))


def to_string(rdns: Sequence[RDN] | str) -> str:
    """Write RDNs as a canonical RFC 4514 string (no spaces, values escaped).

    Parameters
    ----------
    rdns : sequence of RDN, or str
        What :func:`parse` returns; a DN string is parsed first (so this re-writes it).

    Returns
    -------
    str
        The DN.

    Raises
    ------
    DnError
        An empty RDN or an invalid attribute type.

    Examples
    --------
    >>> to_string([(("cn", "Smith, John"),), (("dc", "example"),)])
    'cn=Smith\\\\, John,dc=example'
    >>> to_string("UID=jsmith; O=example ; C=US")
    'UID=jsmith,O=example,C=US'
    """
    if isinstance(rdns, str):
        rdns = parse(rdns)
    if not isinstance(rdns, (list, tuple)):
        raise ArgumentError("rdns", "a DN str or a list of RDNs (tuples of (type, value))",
                            rdns)
    out = []
    for r in rdns:
        if not isinstance(r, (list, tuple)) or not all(
                isinstance(ava, (list, tuple)) and len(ava) == 2 for ava in r):
            raise ArgumentError("each RDN", "a tuple of (type, value) pairs", r)
        if not r:
            raise DnError("empty RDN: an RDN needs at least one attribute=value",
                          dn=repr(list(rdns)))
        out.append("+".join(f"{_type_out(t)}={escape_value(v)}" for t, v in r))
    return ",".join(out)


# ---- normalisation

def _ranges(*pairs: tuple[int, int]) -> list[int]:
    return [c for a, b in pairs for c in range(a, b + 1)]


# RFC 4518 section 2.2 (Map): to nothing, or to SPACE.
_MAP: dict[int, str | None] = {
    c: None
    for c in _ranges(
        (0x00, 0x08), (0x0E, 0x1F), (0x7F, 0x84), (0x86, 0x9F), (0xAD, 0xAD), (0x34F, 0x34F),
        (0x6DD, 0x6DD), (0x70F, 0x70F), (0x1806, 0x1806), (0x180B, 0x180E), (0x200B, 0x200F),
        (0x202A, 0x202E), (0x2060, 0x2063), (0x206A, 0x206F), (0xFE00, 0xFE0F),
        (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFC), (0x1D173, 0x1D17A), (0xE0001, 0xE0001),
        (0xE0020, 0xE007F),
    )
}
_MAP.update(
    (c, " ")
    for c in _ranges((0x09, 0x0D), (0x85, 0x85), (0xA0, 0xA0), (0x1680, 0x1680),
                     (0x2000, 0x200A), (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F),
                     (0x3000, 0x3000))
)

_BER_STRINGS = {0x0C: "utf-8", 0x12: "ascii", 0x13: "ascii", 0x16: "ascii", 0x1A: "ascii",
                0x1E: "utf-16-be", 0x1C: "utf-32-be"}


def _ber_string(value: HexValue) -> str | None:
    """The text of a BER string (UTF8String, PrintableString, IA5String, ...), else None."""
    try:
        ber = value.ber
    except ValueError:
        return None
    if len(ber) < 2 or ber[0] not in _BER_STRINGS:
        return None
    length, body = ber[1], ber[2:]
    if length & 0x80:
        k = length & 0x7F
        if not 1 <= k <= 4 or len(body) < k:
            return None
        length, body = int.from_bytes(body[:k], "big"), body[k:]
    if length != len(body):
        return None
    try:
        return body.decode(_BER_STRINGS[ber[0]])
    except UnicodeDecodeError:
        return None


def _fold(value: str) -> str:
    """caseIgnoreMatch preparation (RFC 4518, without the prohibit step), to a fixed point."""
    for _ in range(8):
        new = " ".join(
            unicodedata.normalize("NFKC", value.translate(_MAP).casefold()).split()
        )
        if new == value:
            break
        value = new
    return value


def _norm_value(value: str) -> str:
    if isinstance(value, HexValue):
        text = _ber_string(value)
        if text is None:
            return "#" + value[1:].upper()
        value = text
    if value.isascii() and value.isprintable():
        return escape_value(" ".join(value.split()).lower())
    return escape_value(_fold(value))


def _normalize_full(dn: str) -> str:
    out = []
    for r in _scan(dn)[0]:
        avas = []
        for t, v in r:
            nt = _norm_type(t) or t.lower()
            avas.append(f"{nt}={_norm_value(v)}")
        if len(avas) > 1:
            avas.sort()
        out.append("+".join(avas))
    return ",".join(out)


# A lower-cased plain DN without spaces whose attribute types are all as normalize() writes
# them (a descr or numeric OID that is no alias): normalize() returns it as it is.
_CANONICAL_TYPE = (
    "(?!(?:" + "|".join(re.escape(a) for a in _TYPE_ALIASES) + ")=)"
    r"(?:[a-z][a-z0-9-]*|(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*)"
)
_CANONICAL_PLAIN = re.compile(f"{_CANONICAL_TYPE}=[^,]*(?:,{_CANONICAL_TYPE}=[^,]*)*")


@functools.lru_cache(maxsize=1 << 17)
def _normalize_cached(dn: str) -> str:
    if not isinstance(dn, str):
        raise _not_str(dn)
    if _is_plain(dn):
        if " " not in dn:  # the common case: the DN lower-cased, when every type is canonical
            low = dn.lower()
            if _CANONICAL_PLAIN.fullmatch(low):
                return low
        out = []
        for part in dn.split(","):
            t, eq, v = part.partition("=")
            nt = _norm_type(t) if eq else None
            if nt is None:
                break
            out.append(nt + "=" + " ".join(v.split()).lower())
        else:
            return ",".join(out)
    return _normalize_full(dn)


if TYPE_CHECKING:  # to a type checker it is the cached function (cache_clear, __wrapped__)
    normalize = _normalize_cached
else:
    def normalize(dn: str) -> str:
        """The comparison key of a DN: equal keys mean the same entry.

        Attribute types lower-cased (``OID.`` dropped; ``commonName`` and ``2.5.4.3`` become
        ``cn``, likewise the other RFC 4514 names); values prepared as for caseIgnoreMatch
        (RFC 4518 mapping, NFKC, case folding, runs of spaces to one, no spaces at either end);
        the AVAs of a multi-valued RDN sorted; values re-escaped canonically; no spaces after
        ``,``.  A hex value that is a BER string (UTF8String, PrintableString, ...) is compared
        as its text; any other hex value as upper-case hex.  Idempotent; cached.

        Parameters
        ----------
        dn : str
            The DN.

        Returns
        -------
        str
            The normalised DN.

        Raises
        ------
        DnError
            The DN is not valid.

        Examples
        --------
        >>> normalize("CN=John  Smith\\\\2C III, DC=Example;DC=NET")
        'cn=john smith\\\\, iii,dc=example,dc=net'
        >>> normalize("OU=Sales+CN=J. Smith") == normalize("cn=j. smith+ou=sales")
        True
        """
        try:
            return _normalize_cached(dn)
        except TypeError:  # unhashable (a list ...): not a DN
            raise _not_str(dn) from None


# normalize and _scan keep the cached function's handles: the uncached function for callers
# that know each DN comes once (a trusted bulk load), and cache_clear for benchmarks.
if not TYPE_CHECKING:
    normalize.cache_clear = _normalize_cached.cache_clear
    normalize.__wrapped__ = _normalize_cached.__wrapped__
_scan.__wrapped__ = _scan_cached.__wrapped__  # type: ignore[attr-defined]


def equal(a: str, b: str) -> bool:
    """True when two DNs name the same entry (compared by :func:`normalize`).

    Examples
    --------
    >>> equal("CN=John Smith\\\\, III,DC=example", "cn=john smith\\\\2c iii, dc=EXAMPLE")
    True
    """
    return normalize(a) == normalize(b)


def parent(dn: str) -> str | None:
    """The parent DN as written: ``''`` for a one-RDN DN, ``None`` for the empty DN.

    Raises
    ------
    DnError
        The DN is not valid.

    Examples
    --------
    >>> parent("uid=jsmith, ou=People,dc=example")
    'ou=People,dc=example'
    >>> parent("dc=org"), parent("")
    ('', None)
    """
    _, spans = _scan(dn)
    if not spans:
        return None
    if len(spans) == 1:
        return ""
    return dn[spans[1][0]:spans[-1][1]]


def rdn(dn: str) -> str:
    """The first RDN as written.

    Raises
    ------
    DnError
        The DN is not valid or is empty.

    Examples
    --------
    >>> rdn("CN=John Smith\\\\, III , DC=example")
    'CN=John Smith\\\\, III'
    """
    _, spans = _scan(dn)
    if not spans:
        raise DnError("the empty DN has no RDN", dn=dn)
    return dn[spans[0][0]:spans[0][1]]


def rdn_avas(dn: str) -> RDN:
    """The (type, value) pairs of the first RDN, values unescaped.

    Raises
    ------
    DnError
        The DN is not valid or is empty.

    Examples
    --------
    >>> rdn_avas("ou=Sales+cn=J. Smith,dc=example")
    (('ou', 'Sales'), ('cn', 'J. Smith'))
    """
    rdns, _ = _scan(dn)
    if not rdns:
        raise DnError("the empty DN has no RDN", dn=dn)
    return rdns[0]


def depth(dn: str) -> int:
    """The number of RDNs (0 for the empty DN).

    Examples
    --------
    >>> depth("uid=jsmith,ou=People,dc=example,dc=org"), depth("")
    (4, 0)
    """
    return len(_scan(dn)[0])


def is_descendant(dn: str, base: str, *, strict: bool = False) -> bool:
    """True when ``dn`` is ``base`` or below it (normalised); every DN is below ``''``.

    Parameters
    ----------
    dn, base : str
        The DNs.
    strict : bool
        Exclude ``dn == base``.

    Examples
    --------
    >>> is_descendant("uid=a,ou=People,DC=example", "dc=Example")
    True
    >>> is_descendant("dc=example", "dc=example", strict=True)
    False
    """
    nd, nb = normalize(dn), normalize(base)
    if nd == nb:
        return not strict
    if not nb:
        return True
    cut = len(nd) - len(nb) - 1
    if cut < 1 or nd[cut] != "," or not nd.endswith(nb):
        return False
    backslashes = 0
    while cut - 1 - backslashes >= 0 and nd[cut - 1 - backslashes] == "\\":
        backslashes += 1
    return backslashes % 2 == 0


def join(rdn: str, parent: str) -> str:
    """The DN of the child ``rdn`` under ``parent`` (both as written).

    Raises
    ------
    DnError
        ``rdn`` is not exactly one RDN, or either part is not valid.

    Examples
    --------
    >>> join("uid=jsmith", "ou=People,dc=example")
    'uid=jsmith,ou=People,dc=example'
    >>> join("dc=org", "")
    'dc=org'
    """
    rdns, spans = _scan(rdn)
    if len(rdns) != 1:
        what = "empty" if not rdns else f"{len(rdns)} RDNs"
        raise DnError(f"expected exactly one RDN to join, got {what}", dn=rdn)
    own = rdn[spans[0][0]:spans[0][1]]
    _, pspans = _scan(parent)
    if not pspans:
        return own
    return own + "," + parent[pspans[0][0]:pspans[-1][1]]
