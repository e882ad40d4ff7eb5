"""LDAP matching rules (RFC 4517, RFC 4518 string preparation, and AD's extensible rules).

A matching rule turns a value into a *comparison key* (:meth:`MatchingRule.normalize`):
equality rules compare keys with ``==``, ordering rules with ``<``, substring rules match an
anchored pattern (:meth:`MatchingRule.match_substrings`).  A key of ``None`` means the value is
not valid for the rule's syntax, and a comparison involving it is *Undefined*, not False.

String preparation follows RFC 4518, simplified but honest: characters that RFC 4518 maps to
nothing are dropped (soft hyphen, zero-width and other format characters, controls), other
white space becomes a plain space, the text is NFKC-normalised, case-folded for the *Ignore*
rules, and insignificant spaces are removed (leading and trailing spaces dropped, runs of spaces
counted as one).  Unassigned, private-use and surrogate code points and U+FFFD make a value
invalid.  What is left out: the bidirectional and unassigned-code-point checks of the full
stringprep profile and the exact RFC 4518 space-doubling trick (collapsing gives the same
answers for matching).

Besides the RFC 4517 rules, three rules only usable in extensible filters are known
(``kind == "extensible"``): Active Directory's bitwise AND (``1.2.840.113556.1.4.803``),
bitwise OR (``.804``) and in-chain (``.1941``; evaluated by :mod:`ldapnb.filters` through its
context, since it needs other entries).

Examples
--------
>>> rule("caseIgnoreMatch").normalize("  Barbara   JENSEN ")
'barbara jensen'
>>> rule("2.5.13.27").normalize("20240101130000+0100") == rule("generalizedTimeMatch").normalize(
...     "20240101120000Z")
True
>>> rule("caseIgnoreSubstringsMatch").match_substrings("Alice Smith", "ali", (), "SMITH")
True
>>> rule("integerBitAndMatch").match("-2147483646", "2")
True
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType

from ldapnb import oids
from ldapnb.dn import normalize as _dn_normalize
from ldapnb.errors import DnError

__all__ = ["MatchingRule", "rule", "RULES", "prepare", "approx_key", "approx_match"]

Value = str | bytes
Key = Hashable | None

# Syntax OIDs (RFC 4517), used to say which attributes a rule applies to.
DIRECTORY_STRING = "1.3.6.1.4.1.1466.115.121.1.15"
IA5_STRING = "1.3.6.1.4.1.1466.115.121.1.26"
NUMERIC_STRING = "1.3.6.1.4.1.1466.115.121.1.36"
INTEGER = "1.3.6.1.4.1.1466.115.121.1.27"
BOOLEAN = "1.3.6.1.4.1.1466.115.121.1.7"
DN_SYNTAX = "1.3.6.1.4.1.1466.115.121.1.12"
NAME_AND_UID = "1.3.6.1.4.1.1466.115.121.1.34"
GENERALIZED_TIME = "1.3.6.1.4.1.1466.115.121.1.24"
TELEPHONE = "1.3.6.1.4.1.1466.115.121.1.50"
OCTET_STRING = "1.3.6.1.4.1.1466.115.121.1.40"
OID_SYNTAX = "1.3.6.1.4.1.1466.115.121.1.38"
BIT_STRING = "1.3.6.1.4.1.1466.115.121.1.6"
UUID_SYNTAX = "1.3.6.1.1.16.1"
POSTAL_ADDRESS = "1.3.6.1.4.1.1466.115.121.1.41"
SUBSTRING_ASSERTION = "1.3.6.1.4.1.1466.115.121.1.58"


# --------------------------------------------------------------------------------------------
# RFC 4518 string preparation
# --------------------------------------------------------------------------------------------
_TO_SPACE = frozenset("\t\n\x0b\x0c\r\x85")


def _map_char(ch: str) -> str | None:
    """RFC 4518 §2.2 mapping of one character: '' (dropped), ' ', itself, or None (prohibited)."""
    if ch in _TO_SPACE:
        return " "
    cat = unicodedata.category(ch)
    if cat == "Cc" or cat == "Cf" or ch in "\u00ad\u1806\u034f\u180b\u180c\u180d\ufffc" or (
        "\ufe00" <= ch <= "\ufe0f"
    ):
        return ""
    if cat in ("Zs", "Zl", "Zp"):
        return " "
    if cat in ("Cs", "Co", "Cn") or ch == "\ufffd":
        return None
    return ch


def _to_text(value: Value) -> str | None:
    if isinstance(value, str):
        return value
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return None


def prepare(value: Value, *, fold: bool, spaces: str = "squeeze") -> str | None:
    """Prepare a string value as RFC 4518 does (simplified), or None if it is not valid.

    Parameters
    ----------
    value : str or bytes
        The value; bytes must be UTF-8.
    fold : bool
        Case-fold (the *Ignore* rules).
    spaces : {"squeeze", "keep-leading", "keep-trailing", "keep-both"}
        Insignificant space handling: ``"squeeze"`` drops leading and trailing spaces and
        collapses runs; the ``keep-*`` variants (for substring pieces) keep one space at the
        named end(s) when there was one.

    Returns
    -------
    str or None

    Examples
    --------
    >>> prepare("  Ｈｅｌｌｏ\\u00adWorld ", fold=True)
    'helloworld'
    """
    text = _to_text(value)
    if text is None:
        return None
    if text.isascii() and text.isprintable():
        out = text.lower() if fold else text
    else:
        parts = []
        for ch in text:
            m = _map_char(ch)
            if m is None:
                return None
            parts.append(m)
        out = unicodedata.normalize("NFKC", "".join(parts))
        if fold:
            out = unicodedata.normalize("NFKC", out.casefold())
    if spaces == "squeeze":
        if "  " in out or out[:1] == " " or out[-1:] == " ":
            return " ".join(w for w in out.split(" ") if w)
        return out
    lead = out[:1] == " " and spaces in ("keep-leading", "keep-both")
    trail = out[-1:] == " " and spaces in ("keep-trailing", "keep-both")
    core = " ".join(w for w in out.split(" ") if w)
    if not core:
        return " " if (lead or trail) else ""
    return (" " if lead else "") + core + (" " if trail else "")


# --------------------------------------------------------------------------------------------
# The rule type
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MatchingRule:
    """One matching rule.

    ``kind`` is ``"equality"``, ``"ordering"``, ``"substr"`` or ``"extensible"`` (rules only
    usable in extensible filters, such as AD's bitwise rules).  ``syntax`` is the OID of the
    syntax of the attribute values the rule applies to (for substring rules too, whose
    assertion syntax is always RFC 4517's Substring Assertion).
    """

    name: str
    oid: str
    kind: str
    syntax: str = DIRECTORY_STRING
    description: str = ""
    _normalize: Callable[[Value], Key] = field(default=lambda v: None, repr=False,
                                               compare=False)
    # substring rules: how a piece and a whole value are prepared
    _piece: Callable[[Value, str], Key] | None = field(default=None, repr=False, compare=False)
    # extensible rules: (value key, assertion key) -> bool
    _compare: Callable[[Key, Key], bool] | None = field(default=None, repr=False, compare=False)
    aliases: tuple[str, ...] = field(default=(), compare=False)

    def normalize(self, value: Value) -> Key:
        """The comparison key of ``value``, or None if ``value`` is not valid for the rule.

        Examples
        --------
        >>> rule("integerMatch").normalize("-42")
        -42
        >>> rule("integerMatch").normalize("042") is None  # RFC 4517 3.3.16: no leading zeros
        True
        >>> rule("integerMatch").normalize("forty") is None
        True
        """
        try:
            return self._normalize(value)
        except (ValueError, TypeError, OverflowError):
            return None

    # -- generic application (extensible match) ---------------------------------------------
    def matcher(self, assertion: Value) -> Callable[[Value], bool | None] | None:
        """A function ``value -> True/False/None`` applying this rule with ``assertion``.

        Equality rules test equality, ordering rules test ``value < assertion`` (X.501: an
        ordering rule is TRUE when the attribute value is less than the assertion), substring
        rules read the assertion as a substring pattern (``a*b*c``, RFC 4517 §3.3.30), and
        extensible rules apply their own test.  Returns None when the assertion itself is not
        valid for the rule (the filter item is then Undefined).
        """
        if self.kind == "substr":
            parts = _split_substring_assertion(assertion)
            if parts is None:
                return None
            return self.substrings_matcher(*parts)
        akey = self.normalize(assertion)
        if akey is None:
            return None
        norm = self.normalize
        if self.kind == "equality":
            def test(value: Value) -> bool | None:
                k = norm(value)
                return None if k is None else k == akey
        elif self.kind == "ordering":
            def test(value: Value) -> bool | None:
                k = norm(value)
                return None if k is None else k < akey  # type: ignore[operator]
        else:
            cmp = self._compare
            assert cmp is not None, f"{self.name} has no comparison"

            def test(value: Value) -> bool | None:
                k = norm(value)
                return None if k is None else cmp(k, akey)
        return test

    def match(self, value: Value, assertion: Value) -> bool | None:
        """Apply the rule to one attribute value and an assertion: True, False or None.

        Examples
        --------
        >>> rule("caseExactMatch").match("Jensen", "jensen")
        False
        >>> rule("telephoneNumberMatch").match("+1 408-555-1212", "+14085551212")
        True
        """
        test = self.matcher(assertion)
        return None if test is None else test(value)

    # -- substrings ---------------------------------------------------------------------------
    def substrings_matcher(
        self, initial: Value | None, any_: Sequence[Value], final: Value | None
    ) -> Callable[[Value], bool | None] | None:
        """A function ``value -> True/False/None`` for an anchored substring pattern.

        ``initial`` must be at the start, ``final`` at the end and the ``any_`` pieces in
        order between them, without overlapping each other or the ends.  Returns None when a
        piece is not valid for the rule.
        """
        keys = self.substring_keys(initial, any_, final)
        if keys is None:
            return None
        ini, anys, fin = keys
        whole = self._normalize

        def test(value: Value) -> bool | None:
            try:
                v = whole(value)
            except (ValueError, TypeError):
                return None
            if v is None:
                return None
            return _substr(v, ini, anys, fin)

        return test

    def substring_keys(
        self, initial: Value | None, any_: Sequence[Value], final: Value | None
    ) -> tuple[Key, list[Key], Key] | None:
        """The pieces of a substring pattern prepared as this rule prepares them: (initial,
        the non-empty any pieces, final), or None when a piece is not valid for the rule.

        A value matches when its :meth:`normalize` key holds them in order, so an index
        of the keys' pieces (trigrams) finds a superset of the matches.

        >>> rule("caseIgnoreSubstringsMatch").substring_keys("Ali", ("CE",), None)
        ('ali', ['ce'], None)
        """
        piece = self._piece
        if piece is None:
            return None
        try:
            ini = piece(initial, "initial") if initial is not None else None
            fin = piece(final, "final") if final is not None else None
            anys = [piece(a, "any") for a in any_]
        except (ValueError, TypeError):
            return None
        if (initial is not None and ini is None) or (final is not None and fin is None) or (
            any(a is None for a in anys)
        ):
            return None
        return ini, [a for a in anys if a], fin

    def match_substrings(
        self,
        value: Value,
        initial: Value | None,
        any_: Sequence[Value] = (),
        final: Value | None = None,
    ) -> bool | None:
        """True if ``value`` matches the substring pattern; None if something is not valid.

        Examples
        --------
        >>> r = rule("caseIgnoreSubstringsMatch")
        >>> r.match_substrings("Miller", None, (), "ER")
        True
        >>> r.match_substrings("Sanders", None, (), "er")
        False
        >>> r.match_substrings("Sanders", None, ("er",), None)
        True
        """
        test = self.substrings_matcher(initial, any_, final)
        return None if test is None else test(value)


def _substr(v, ini, anys, fin) -> bool:  # works for str and bytes alike
    start, end = 0, len(v)
    if ini:
        if not v.startswith(ini):
            return False
        start = len(ini)
    if fin:
        if end - len(fin) < start or not v.endswith(fin):
            return False
        end -= len(fin)
    for a in anys:
        i = v.find(a, start, end)
        if i < 0:
            return False
        start = i + len(a)
    return True


def _split_substring_assertion(value: Value) -> tuple | None:
    """``a*b*c`` -> ("a", ("b",), "c"); ``\\2A`` and ``\\5C`` escape a literal ``*`` or ``\\``."""
    text = _to_text(value)
    if text is None or "*" not in text:
        return None
    pieces = [re.sub(r"\\(2[aA]|5[cC])", lambda m: chr(int(m.group(1), 16)), p)
              for p in text.split("*")]
    initial = pieces[0] or None
    final = pieces[-1] or None
    anys = tuple(p for p in pieces[1:-1])
    if any(not p for p in anys):
        return None
    return initial, anys, final


# --------------------------------------------------------------------------------------------
# Normalisers
# --------------------------------------------------------------------------------------------
def _ci(v: Value) -> Key:
    return prepare(v, fold=True)


def _ce(v: Value) -> Key:
    return prepare(v, fold=False)


def _piece_mode(where: str) -> str:
    return {"initial": "keep-trailing", "final": "keep-leading", "any": "keep-both"}[where]


def _ci_piece(v: Value, where: str) -> Key:
    return prepare(v, fold=True, spaces=_piece_mode(where))


def _ce_piece(v: Value, where: str) -> Key:
    return prepare(v, fold=False, spaces=_piece_mode(where))


def _ia5(fold: bool) -> Callable[[Value], Key]:
    def norm(v: Value) -> Key:
        t = _to_text(v)
        if t is None or not t.isascii():
            return None
        return prepare(t, fold=fold)
    return norm


def _ia5_piece(v: Value, where: str) -> Key:
    t = _to_text(v)
    if t is None or not t.isascii():
        return None
    return prepare(t, fold=True, spaces=_piece_mode(where))


def _ia5_piece_exact(v: Value, where: str) -> Key:
    t = _to_text(v)
    if t is None or not t.isascii():
        return None
    return prepare(t, fold=False, spaces=_piece_mode(where))


_NUMERIC = re.compile(r"[0-9 ]*")


def _numeric(v: Value) -> Key:
    t = _to_text(v)
    if t is None or not _NUMERIC.fullmatch(t):
        return None
    return t.replace(" ", "")


def _numeric_piece(v: Value, where: str) -> Key:
    return _numeric(v)


_INTEGER = re.compile(r"0|-?[1-9][0-9]*")  # RFC 4517 3.3.16: no leading zeros, no "-0"


def _integer(v: Value) -> Key:
    t = _to_text(v)
    if t is None or not _INTEGER.fullmatch(t):
        return None
    return int(t)


def _bitwise_integer(v: Value) -> Key:
    """An integer, with AD's signed 32-bit values read as their unsigned bit pattern."""
    n = _integer(v)
    if n is None:
        return None
    if -(2**31) <= n < 0:  # type: ignore[operator]
        n += 2**32  # type: ignore[operator]
    return n


def _boolean(v: Value) -> Key:
    t = _to_text(v)
    return {"TRUE": True, "FALSE": False}.get(t) if t is not None else None


_OID = re.compile(r"(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))+|[A-Za-z][A-Za-z0-9-]*")


def _oid(v: Value) -> Key:
    t = _to_text(v)
    if t is None:
        return None
    t = t.strip(" ")
    return t.lower() if _OID.fullmatch(t) else None


def _first_component(v: Value) -> str | None:
    t = _to_text(v)
    if t is None:
        return None
    t = t.strip(" ")
    if t.startswith("("):
        parts = t[1:].split()
        return parts[0] if parts else None
    return t


def _oid_first(v: Value) -> Key:
    first = _first_component(v)
    return None if first is None else _oid(first)


def _integer_first(v: Value) -> Key:
    first = _first_component(v)
    return None if first is None else _integer(first)


_BITS = re.compile(r"'([01]*)'B")


def _bits(v: Value) -> Key:
    t = _to_text(v)
    m = _BITS.fullmatch(t) if t is not None else None
    return m.group(1) if m else None


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _uuid(v: Value) -> Key:
    t = _to_text(v)
    return t.lower() if t is not None and _UUID.fullmatch(t) else None


def _octets(v: Value) -> Key:
    return v if isinstance(v, bytes) else v.encode("utf-8")


def _octets_piece(v: Value, where: str) -> Key:
    return _octets(v)


_HYPHENS = dict.fromkeys(map(ord, " -\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"))


def _phone(v: Value) -> Key:
    t = prepare(v, fold=True)
    return None if t is None else t.translate(_HYPHENS)


def _phone_piece(v: Value, where: str) -> Key:
    return _phone(v)


def _dn(v: Value) -> Key:
    t = _to_text(v)
    if t is None:
        return None
    try:
        return _dn_normalize(t)
    except DnError:
        return None


def _unique_member(v: Value) -> Key:
    t = _to_text(v)
    if t is None:
        return None
    bits = None
    m = re.search(r"#'([01]*)'B$", t)
    if m:
        bits, t = m.group(1), t[: m.start()]
    name = _dn(t)
    return None if name is None else (name, bits)


_GTIME = re.compile(
    r"(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{2}(?:\d{2})?)"
)


def _gtime(v: Value) -> Key:
    """GeneralizedTime -> the instant as an exact number of seconds since 1970 (UTC)."""
    t = _to_text(v)
    m = _GTIME.fullmatch(t) if t is not None else None
    if not m:
        return None
    year, month, day, hour = (int(m.group(i)) for i in range(1, 5))
    minute = m.group(5)
    second = m.group(6)
    if second is not None and minute is None:
        return None
    mi = int(minute) if minute is not None else 0
    se = int(second) if second is not None else 0
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]
            and hour <= 23 and mi <= 59 and se <= 60):
        return None
    total = Fraction(calendar.timegm((year, month, day, hour, mi, 0, 0, 0, 0)) + se)
    if m.group(7):
        frac = Fraction(int(m.group(7)), 10 ** len(m.group(7)))
        unit = 1 if second is not None else 60 if minute is not None else 3600
        total += frac * unit
    zone = m.group(8)
    if zone != "Z":
        hh, mm = int(zone[1:3]), int(zone[3:5] or 0)
        if hh > 23 or mm > 59:
            return None
        offset = (hh * 3600 + mm * 60) * (1 if zone[0] == "+" else -1)
        total -= offset
    return total


def _postal_list(v: Value) -> Key:
    t = _to_text(v)
    if t is None:
        return None
    lines = []
    for raw in t.split("$"):
        raw = raw.replace("\\24", "$").replace("\\5C", "\\").replace("\\5c", "\\")
        p = prepare(raw, fold=True)
        if p is None:
            return None
        lines.append(p)
    return tuple(lines)


def _postal_text(v: Value) -> Key:
    lines = _postal_list(v)
    return None if lines is None else "\n".join(lines)  # type: ignore[arg-type]


def _bit_and(value: Key, assertion: Key) -> bool:
    return (value & assertion) == assertion  # type: ignore[operator]


def _bit_or(value: Key, assertion: Key) -> bool:
    return (value & assertion) != 0  # type: ignore[operator]


def _in_chain_unusable(value: Key, assertion: Key) -> bool:  # pragma: no cover - guard
    raise TypeError("the in-chain rule needs a filter context: use ldapnb.filters")


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------
_IA5_PREFIX = "1.3.6.1.4.1.1466.109.114."

_ALL: list[MatchingRule] = [
    MatchingRule("objectIdentifierMatch", "2.5.13.0", "equality", OID_SYNTAX,
                 "numeric OID or name, names compared case-insensitively", _oid),
    MatchingRule("distinguishedNameMatch", "2.5.13.1", "equality", DN_SYNTAX,
                 "DNs compared after RFC 4514 normalisation", _dn),
    MatchingRule("caseIgnoreMatch", "2.5.13.2", "equality", DIRECTORY_STRING,
                 "case-insensitive, insignificant spaces ignored", _ci),
    MatchingRule("caseIgnoreOrderingMatch", "2.5.13.3", "ordering", DIRECTORY_STRING,
                 "case-insensitive ordering by code point", _ci),
    MatchingRule("caseIgnoreSubstringsMatch", "2.5.13.4", "substr", DIRECTORY_STRING,
                 "case-insensitive substrings", _ci, _ci_piece),
    MatchingRule("caseExactMatch", "2.5.13.5", "equality", DIRECTORY_STRING,
                 "case-sensitive, insignificant spaces ignored", _ce),
    MatchingRule("caseExactOrderingMatch", "2.5.13.6", "ordering", DIRECTORY_STRING,
                 "case-sensitive ordering by code point", _ce),
    MatchingRule("caseExactSubstringsMatch", "2.5.13.7", "substr", DIRECTORY_STRING,
                 "case-sensitive substrings", _ce, _ce_piece),
    MatchingRule("numericStringMatch", "2.5.13.8", "equality", NUMERIC_STRING,
                 "digits, spaces ignored", _numeric),
    MatchingRule("numericStringOrderingMatch", "2.5.13.9", "ordering", NUMERIC_STRING,
                 "digit strings ordered as strings, spaces ignored", _numeric),
    MatchingRule("numericStringSubstringsMatch", "2.5.13.10", "substr", NUMERIC_STRING,
                 "digit substrings, spaces ignored", _numeric, _numeric_piece),
    MatchingRule("caseIgnoreListMatch", "2.5.13.11", "equality", POSTAL_ADDRESS,
                 "'$'-separated lines, each compared case-insensitively", _postal_list),
    MatchingRule("caseIgnoreListSubstringsMatch", "2.5.13.12", "substr", POSTAL_ADDRESS,
                 "substrings of the lines, case-insensitively", _postal_text, _ci_piece),
    MatchingRule("booleanMatch", "2.5.13.13", "equality", BOOLEAN, "TRUE or FALSE", _boolean),
    MatchingRule("integerMatch", "2.5.13.14", "equality", INTEGER, "integers", _integer),
    MatchingRule("integerOrderingMatch", "2.5.13.15", "ordering", INTEGER,
                 "integers by value", _integer),
    MatchingRule("bitStringMatch", "2.5.13.16", "equality", BIT_STRING, "'0101'B", _bits),
    MatchingRule("octetStringMatch", "2.5.13.17", "equality", OCTET_STRING,
                 "bytes, exactly", _octets),
    MatchingRule("octetStringOrderingMatch", "2.5.13.18", "ordering", OCTET_STRING,
                 "bytes, lexicographically", _octets),
    MatchingRule("octetStringSubstringsMatch", "2.5.13.19", "substr", OCTET_STRING,
                 "byte substrings", _octets, _octets_piece),
    MatchingRule("telephoneNumberMatch", "2.5.13.20", "equality", TELEPHONE,
                 "case-insensitive, spaces and hyphens ignored", _phone),
    MatchingRule("telephoneNumberSubstringsMatch", "2.5.13.21", "substr", TELEPHONE,
                 "substrings, spaces and hyphens ignored", _phone, _phone_piece),
    MatchingRule("uniqueMemberMatch", "2.5.13.23", "equality", NAME_AND_UID,
                 "a DN with an optional #'0101'B unique identifier", _unique_member),
    MatchingRule("generalizedTimeMatch", "2.5.13.27", "equality", GENERALIZED_TIME,
                 "the same instant (time zones and fractions applied)", _gtime),
    MatchingRule("generalizedTimeOrderingMatch", "2.5.13.28", "ordering", GENERALIZED_TIME,
                 "instants in time order", _gtime),
    MatchingRule("integerFirstComponentMatch", "2.5.13.29", "equality", INTEGER,
                 "the first component of a '( n ... )' value, as an integer", _integer_first),
    MatchingRule("objectIdentifierFirstComponentMatch", "2.5.13.30", "equality", OID_SYNTAX,
                 "the first component of a schema definition, as an OID", _oid_first),
    MatchingRule("caseExactIA5Match", _IA5_PREFIX + "1", "equality", IA5_STRING,
                 "ASCII, case-sensitive", _ia5(False)),
    MatchingRule("caseIgnoreIA5Match", _IA5_PREFIX + "2", "equality", IA5_STRING,
                 "ASCII, case-insensitive", _ia5(True)),
    MatchingRule("caseIgnoreIA5SubstringsMatch", _IA5_PREFIX + "3", "substr", IA5_STRING,
                 "ASCII substrings, case-insensitive", _ia5(True), _ia5_piece),
    MatchingRule("caseExactIA5SubstringsMatch", "1.3.6.1.4.1.4203.1.2.1", "substr", IA5_STRING,
                 "ASCII substrings, case-sensitive (an OpenLDAP rule)", _ia5(False),
                 _ia5_piece_exact),
    MatchingRule("UUIDMatch", "1.3.6.1.1.16.2", "equality", UUID_SYNTAX,
                 "UUIDs in their string form, hex case ignored", _uuid),
    MatchingRule("UUIDOrderingMatch", "1.3.6.1.1.16.3", "ordering", UUID_SYNTAX,
                 "UUIDs ordered by their string form", _uuid),
    MatchingRule("integerBitAndMatch", oids.BIT_AND, "extensible", INTEGER,
                 "every bit of the assertion is set in the value (AD signed 32-bit values "
                 "read as their bit pattern)", _bitwise_integer, None, _bit_and,
                 ("LDAP_MATCHING_RULE_BIT_AND",)),
    MatchingRule("integerBitOrMatch", oids.BIT_OR, "extensible", INTEGER,
                 "at least one bit of the assertion is set in the value",
                 _bitwise_integer, None, _bit_or, ("LDAP_MATCHING_RULE_BIT_OR",)),
    MatchingRule("inChainMatch", oids.IN_CHAIN, "extensible", DN_SYNTAX,
                 "the entry reaches the assertion DN by following the attribute's DN values "
                 "transitively (AD's LDAP_MATCHING_RULE_IN_CHAIN)",
                 _dn, None, _in_chain_unusable,
                 ("LDAP_MATCHING_RULE_IN_CHAIN", "LDAP_MATCHING_RULE_TRANSITIVE_EVAL")),
]

_table: dict[str, MatchingRule] = {}
for _r in _ALL:
    for _k in (_r.name, _r.oid, *_r.aliases):
        _table[_k.lower()] = _r

#: Every known rule by lower-cased name, alias and OID.
RULES: Mapping[str, MatchingRule] = MappingProxyType(_table)

def rule(name_or_oid: str) -> MatchingRule | None:
    """The matching rule called ``name_or_oid`` (case-insensitive), or None if unknown.

    Examples
    --------
    >>> rule("CASEIGNOREMATCH").oid
    '2.5.13.2'
    >>> rule("1.2.840.113556.1.4.803").name
    'integerBitAndMatch'
    >>> rule("noSuchMatch") is None
    True
    """
    return _table.get(name_or_oid.strip().lower())


# --------------------------------------------------------------------------------------------
# Approximate matching
# --------------------------------------------------------------------------------------------
_WORD = re.compile(r"\w+")
_VOWELS = "aeiouy"
_PHONETIC_MAP = str.maketrans({"q": "k", "z": "s", "v": "f", "w": "", "h": "", "y": ""})


def _phonetic(word: str) -> str:
    """A small phonetic key (Metaphone-like, written here; not OpenLDAP's exact algorithm).

    Keeps the first letter, applies a few English sound rules (PH->F, CK/C/Q->K before hard
    vowels, C->S before E/I/Y, DG->J, GH silent, SCH->SK, X->KS), drops later vowels, W, H
    and Y, and collapses doubled letters.
    """
    w = word
    for a, b in (("ph", "f"), ("ck", "k"), ("sch", "sk"), ("dg", "j"), ("gh", "g"),
                 ("x", "ks"), ("kn", "n"), ("wr", "r")):
        w = w.replace(a, b)
    w = re.sub(r"c(?=[eiy])", "s", w)
    w = w.replace("c", "k")
    if not w:
        return ""
    head, rest = w[0], w[1:]
    rest = "".join(ch for ch in rest if ch not in _VOWELS).translate(_PHONETIC_MAP)
    out = head
    for ch in rest:
        if ch != out[-1]:
            out += ch
    return out


def approx_key(value: Value) -> tuple[tuple[str, str, bool], ...] | None:
    """The words of ``value`` as (first letter, phonetic key, is an initial) triples.

    Accents, case and punctuation are ignored.  None if ``value`` is not UTF-8.

    Examples
    --------
    >>> [k for _, k, _ in approx_key("Barbara Jensen")] == [
    ...     k for _, k, _ in approx_key("barbra  jenssen")]
    True
    """
    text = _to_text(value)
    if text is None:
        return None
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return tuple((w[0], _phonetic(w), len(w) == 1) for w in _WORD.findall(text))


def approx_match(value_key: Sequence[tuple[str, str, bool]],
                 assertion_key: Sequence[tuple[str, str, bool]]) -> bool:
    """True if every assertion word matches, in order, a word of the value.

    A word matches when its phonetic key is equal; a one-letter assertion word (an initial)
    matches any value word that starts with that letter.  Like OpenLDAP's approxMatch, an
    assertion with no words at all matches nothing.

    Examples
    --------
    >>> approx_match(approx_key("Barbara Jensen"), approx_key("B. Jenson"))
    True
    >>> approx_match(approx_key("Barbara Jensen"), approx_key("Jensen Barbara"))
    False
    """
    if not assertion_key:
        return False
    j = 0
    for first, key, initial in assertion_key:
        while j < len(value_key):
            vfirst, vkey, _ = value_key[j]
            j += 1
            if vkey == key or (initial and vfirst == first):
                break
        else:
            return False
    return True
