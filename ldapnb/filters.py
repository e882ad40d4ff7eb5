"""Search filters: parse and print (RFC 4515), evaluate (RFC 4511 §4.5.1.7), explain.

A filter is a tree of frozen dataclasses (:class:`And`, :class:`Or`, :class:`Not`,
:class:`Equality`, :class:`Substrings`, :class:`GreaterOrEqual`, :class:`LessOrEqual`,
:class:`Present`, :class:`Approx`, :class:`Extensible`).  Attribute descriptions are kept as
written (``cn;lang-en``); assertion values are unescaped: ``str`` when they are UTF-8,
``bytes`` otherwise (a node given UTF-8 ``bytes`` stores them as ``str``, so
``parse(to_string(f)) == f`` always holds).

Evaluation is three-valued: True, False or None (*Undefined*).  AND is False if any part is
False, else Undefined if any part is Undefined, else True; OR is True if any part is True,
else Undefined if any is, else False; NOT swaps True and False and keeps Undefined.  An
attribute the schema does not know makes a comparison Undefined (and presence False); so do a
missing matching rule, an unknown extensible rule and an assertion value that is not valid
for the rule's syntax.  NOT applies to the result for the whole attribute, never value by
value: ``(!(cn=ali*))`` is False for an entry whose cn values are ``alice`` and ``zed``.

Approximate match (``~=``), as implemented here: for attributes whose equality rule compares
strings (Directory String or IA5 syntax), both sides are split into words (accents, case and
punctuation ignored), each word reduced to a small phonetic key (see
:func:`ldapnb.matching.approx_key`), and every word of the assertion must match, in order, a
word of the value (a one-letter word matches as an initial).  A value equal under the
equality rule always matches.  For other attributes ``~=`` is the equality rule.  This is
close to OpenLDAP's approxMatch, not identical (slapd uses its own Metaphone).

Examples
--------
>>> from ldapnb.entry import Entry
>>> f = parse("(&(objectClass=person)(!(cn=ali*)))")
>>> to_string(f)
'(&(objectClass=person)(!(cn=ali*)))'
>>> e = Entry("uid=a,dc=x", {"objectClass": ["person"], "cn": ["alice", "zed"]})
>>> evaluate(f, e)
False
>>> escape("a*)(uid=*")
'a\\\\2a\\\\29\\\\28uid=\\\\2a'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Protocol, cast, runtime_checkable

from ldapnb import matching, oids
from ldapnb.entry import MASK, Entry, is_secret
from ldapnb.errors import ArgumentError, FilterError
from ldapnb.matching import MatchingRule

__all__ = [
    "Filter",
    "And",
    "Or",
    "Not",
    "Equality",
    "Substrings",
    "GreaterOrEqual",
    "LessOrEqual",
    "Present",
    "Approx",
    "Extensible",
    "parse",
    "to_string",
    "escape",
    "evaluate",
    "compile",
    "trace",
    "Trace",
    "attributes",
    "EvalContext",
    "SimpleContext",
]

Value = str | bytes
Result = bool | None

MAX_DEPTH = 100

_DESCR = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_NUMERICOID = re.compile(r"(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))+")
_OPTION = re.compile(r"[A-Za-z0-9-]+")


def _canon(value: Value) -> Value:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value
    if isinstance(value, str):
        return value
    raise ArgumentError("an assertion value", "str or bytes", value)


def _attr_problem(attr: str) -> tuple[int, str] | None:
    """(offset, message) for an invalid attribute description, None if it is fine."""
    parts = attr.split(";")
    t = parts[0]
    if not t:
        return 0, "expected an attribute description (like cn or 2.5.4.3)"
    if t[0].isdigit():
        if not _NUMERICOID.fullmatch(t):
            return 0, (f"{t!r} is not a numeric OID (digits separated by dots, no leading "
                       "zeros) nor an attribute name (which starts with a letter)")
    elif not _DESCR.fullmatch(t):
        return 0, f"{t!r} is not an attribute name (letters, digits and '-', letter first)"
    off = len(t) + 1
    for opt in parts[1:]:
        if not _OPTION.fullmatch(opt):
            return off, f"empty or bad attribute option {opt!r} after ';'"
        off += len(opt) + 1
    return None


def _check_attr(attr: str) -> None:
    if not isinstance(attr, str):
        raise ArgumentError("an attribute description", "a str", attr)
    problem = _attr_problem(attr)
    if problem:
        raise FilterError(problem[1], filter=attr, position=problem[0])


def _check_rule_name(name: str) -> None:
    if not (_DESCR.fullmatch(name) or _NUMERICOID.fullmatch(name)):
        raise FilterError("a matching rule is a name or a numeric OID", filter=name, position=0)


# --------------------------------------------------------------------------------------------
# Nodes
# --------------------------------------------------------------------------------------------
class _Node:
    __slots__ = ()

    def __str__(self) -> str:
        return to_string(self)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        """The dataclass repr, with the values of secret attributes (userPassword ...)
        masked."""
        attr = getattr(self, "attr", None)
        secret = isinstance(attr, str) and bool(attr) and is_secret(attr)
        parts = []
        for f in fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if secret and v is not None and f.name in ("value", "initial", "final"):
                v = MASK
            elif secret and f.name == "any":
                v = tuple(MASK for _ in v)
            parts.append(f"{f.name}={v!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


def _nest(node: _Node, children: Iterable[object]) -> None:
    """Check ``children`` are filters and record how deep ``node`` nests: a filter object
    deeper than MAX_DEPTH is refused when it is built (as the parser refuses such text), so
    printing, evaluating or sending it can never exhaust Python's stack."""
    depth = 0
    for c in children:
        if not isinstance(c, _Node):
            raise ArgumentError(f"a child of {type(node).__name__}", "a filter node", c)
        d = c.__dict__.get("_depth", 0)
        if d > depth:
            depth = d
    depth += 1
    if depth > MAX_DEPTH:
        raise FilterError(f"filter nested more than {MAX_DEPTH} levels deep",
                          filter=f"<{type(node).__name__} nested {depth} deep>")
    object.__setattr__(node, "_depth", depth)


@dataclass(frozen=True, repr=False)
class And(_Node):
    """``(&...)``: True when every child is; ``(&)`` is absolute true (RFC 4526)."""

    children: tuple[Filter, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "children", tuple(self.children))
        _nest(self, self.children)


@dataclass(frozen=True, repr=False)
class Or(_Node):
    """``(|...)``: True when any child is; ``(|)`` is absolute false (RFC 4526)."""

    children: tuple[Filter, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "children", tuple(self.children))
        _nest(self, self.children)


@dataclass(frozen=True, repr=False)
class Not(_Node):
    """``(!...)``: swaps True and False; Undefined stays Undefined."""

    child: Filter

    def __post_init__(self) -> None:
        _nest(self, (self.child,))


@dataclass(frozen=True, repr=False)
class _AttrValue(_Node):
    attr: str
    value: Value

    def __post_init__(self) -> None:
        _check_attr(self.attr)
        object.__setattr__(self, "value", _canon(self.value))


@dataclass(frozen=True, repr=False)
class Equality(_AttrValue):
    """``(attr=value)`` with the attribute's equality rule."""


@dataclass(frozen=True, repr=False)
class GreaterOrEqual(_AttrValue):
    """``(attr>=value)`` with the attribute's ordering rule."""


@dataclass(frozen=True, repr=False)
class LessOrEqual(_AttrValue):
    """``(attr<=value)`` with the attribute's ordering rule."""


@dataclass(frozen=True, repr=False)
class Approx(_AttrValue):
    """``(attr~=value)``: see the module docstring for what "approximately" means here."""


@dataclass(frozen=True, repr=False)
class Present(_Node):
    """``(attr=*)``: the entry has at least one value of the attribute."""

    attr: str

    def __post_init__(self) -> None:
        _check_attr(self.attr)


@dataclass(frozen=True, repr=False)
class Substrings(_Node):
    """``(attr=initial*any1*any2*final)``, anchored at both ends.

    ``initial`` and ``final`` are None when absent (an empty string is read as absent);
    ``any`` holds the middle pieces, in order, none empty.
    """

    attr: str
    initial: Value | None = None
    any: tuple[Value, ...] = ()
    final: Value | None = None

    def __post_init__(self) -> None:
        _check_attr(self.attr)
        ini = None if self.initial in (None, "", b"") else _canon(self.initial)
        fin = None if self.final in (None, "", b"") else _canon(self.final)
        anys = tuple(_canon(a) for a in self.any)
        if any(a == "" or a == b"" for a in anys):
            raise FilterError("a middle substring cannot be empty ('**')",
                              filter=f"{self.attr}=...")
        if ini is None and fin is None and not anys:
            raise FilterError("a substring filter needs at least one piece; (attr=*) is "
                              "a presence filter: use Present", filter=f"{self.attr}=*")
        object.__setattr__(self, "initial", ini)
        object.__setattr__(self, "final", fin)
        object.__setattr__(self, "any", anys)


@dataclass(frozen=True, repr=False)
class Extensible(_Node):
    """``(attr:dn:rule:=value)``: an explicit matching rule, and/or the DN's own values.

    ``attr`` or ``rule`` may be None, not both.  ``dn_attributes`` (``:dn``) also tests the
    attribute values that make up the entry's DN.
    """

    attr: str | None
    rule: str | None
    value: Value
    dn_attributes: bool = False

    def __post_init__(self) -> None:
        if self.attr is not None:
            _check_attr(self.attr)
        if self.rule is not None:
            _check_rule_name(self.rule)
        if self.attr is None and self.rule is None:
            raise FilterError("an extensible filter needs an attribute, a matching rule or both",
                              filter=":=")
        object.__setattr__(self, "value", _canon(self.value))
        object.__setattr__(self, "dn_attributes", bool(self.dn_attributes))


Filter = And | Or | Not | Equality | Substrings | GreaterOrEqual | LessOrEqual | Present | \
    Approx | Extensible

_OPS = {Equality: "=", GreaterOrEqual: ">=", LessOrEqual: "<=", Approx: "~="}


# --------------------------------------------------------------------------------------------
# Printing
# --------------------------------------------------------------------------------------------
_ESCAPES = {c: f"\\{c:02x}" for c in (*range(0x20), 0x7F, ord("("), ord(")"), ord("*"),
                                      ord("\\"))}


def escape(value: Value) -> str:
    """Escape an assertion value (RFC 4515) so that it cannot change a filter's meaning.

    ``(``, ``)``, ``*``, ``\\``, NUL and other control characters become ``\\XX``; bytes that
    are not UTF-8 are escaped byte by byte (printable ASCII kept).

    Parameters
    ----------
    value : str or bytes
        User input to put inside a filter.

    Returns
    -------
    str

    Examples
    --------
    >>> escape("a*)(uid=*")
    'a\\\\2a\\\\29\\\\28uid=\\\\2a'
    >>> "(cn=" + escape("Jensen (IT)") + ")"
    '(cn=Jensen \\\\28IT\\\\29)'
    >>> escape(b"\\x01\\xff")
    '\\\\01\\\\ff'
    """
    value = _canon(value)
    if isinstance(value, bytes):
        return "".join(
            chr(b) if 0x20 <= b < 0x7F and b not in b"()*\\" else f"\\{b:02x}" for b in value
        )
    return value.translate(_ESCAPES)


def to_string(f: Filter) -> str:
    """The canonical RFC 4515 text of a filter: ``parse(to_string(f)) == f``.

    Examples
    --------
    >>> to_string(And((Equality("cn", "a*b"), Substrings("sn", "J", ("e",), "n"))))
    '(&(cn=a\\\\2ab)(sn=J*e*n))'
    >>> to_string(Extensible("cn", "caseExactMatch", "Jensen", dn_attributes=True))
    '(cn:dn:caseExactMatch:=Jensen)'
    """
    out: list[str] = []
    _print(f, out, False)
    return "".join(out)


def _esc(value: Value, attr: str | None, mask: bool) -> str:
    return MASK if mask and attr and is_secret(attr) else escape(value)


def _print(f: Filter, out: list[str], mask: bool) -> None:
    t = type(f)
    if t is And or t is Or:
        out.append("(&" if t is And else "(|")
        for c in f.children:  # type: ignore[union-attr]
            _print(c, out, mask)
        out.append(")")
    elif t is Not:
        out.append("(!")
        _print(f.child, out, mask)  # type: ignore[union-attr]
        out.append(")")
    elif t in _OPS:
        out.append(f"({f.attr}{_OPS[t]}{_esc(f.value, f.attr, mask)})")  # type: ignore
    elif t is Present:
        out.append(f"({f.attr}=*)")  # type: ignore[union-attr]
    elif t is Substrings:
        s: Substrings = f  # type: ignore[assignment]
        if mask and is_secret(s.attr):
            body = MASK
        else:
            body = escape(s.initial) if s.initial is not None else ""
            body += "*" + "".join(escape(a) + "*" for a in s.any)
            body += escape(s.final) if s.final is not None else ""
        out.append(f"({s.attr}={body})")
    elif t is Extensible:
        x: Extensible = f  # type: ignore[assignment]
        out.append("(" + (x.attr or "") + (":dn" if x.dn_attributes else "")
                   + (":" + x.rule if x.rule else "") + ":=" + _esc(x.value, x.attr, mask)
                   + ")")
    else:
        raise ArgumentError("a filter", "a filter string or a filter node", f)


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------
_ATTR_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.;-")
_HEX = frozenset("0123456789abcdefABCDEF")
_WS = " \t\r\n"


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.n = len(text)
        self.secret = False  # scanning the value of a secret attribute (never quoted)

    def fail(self, message: str, position: int) -> FilterError:
        return FilterError(message, filter=self.text, position=position)

    def ws(self, i: int) -> int:
        while i < self.n and self.text[i] in _WS:
            i += 1
        return i

    def filter(self, i: int, depth: int) -> tuple[Filter, int]:
        text = self.text
        if i >= self.n or text[i] != "(":
            found = repr(text[i]) if i < self.n else "the end"
            raise self.fail(f"expected '(' to start a filter, found {found}", i)
        if depth > MAX_DEPTH:
            raise self.fail(f"filter nested more than {MAX_DEPTH} levels deep", i)
        f, j = self.comp(i + 1, depth, i, bare=False)
        if j >= self.n:
            raise self.fail(f"expected ')' to close the '(' at position {i}", j)
        if text[j] != ")":
            raise self.fail(
                f"expected ')' to close the '(' at position {i}, found {text[j]!r}", j)
        return f, j + 1

    def comp(self, i: int, depth: int, open_: int, bare: bool) -> tuple[Filter, int]:
        text, n = self.text, self.n
        if i >= n:
            raise self.fail("expected a filter (like cn=x, &, | or !) "
                            + (f"after the '(' at position {open_}" if not bare else ""), i)
        c = text[i]
        if c in "&|":
            children = []
            j = self.ws(i + 1)
            while j < n and text[j] == "(":
                child, j = self.filter(j, depth + 1)
                children.append(child)
                j = self.ws(j)
            if j < n and text[j] != ")":
                where = "" if bare else f" or ')' to close the '(' at position {open_}"
                raise self.fail(f"expected '(' to start another filter{where}, "
                                f"found {text[j]!r}", j)
            return (And if c == "&" else Or)(tuple(children)), j
        if c == "!":
            j = self.ws(i + 1)
            if j >= n or text[j] != "(":
                raise self.fail("expected '(' after '!': NOT takes one filter in "
                                "parentheses, as in (!(cn=x))", j)
            child, j = self.filter(j, depth + 1)
            j = self.ws(j)
            if j < n and text[j] == "(":
                raise self.fail("'!' takes exactly one filter: to negate several, write "
                                "(!(|(a=1)(b=2))) or (!(&(a=1)(b=2)))", j)
            return Not(child), j
        if c == ")":
            raise self.fail("empty filter '()': write a condition such as (cn=x); "
                            "an empty AND is (&) (always true), an empty OR (|) "
                            "(always false)", i)
        if c == "(":
            raise self.fail("unexpected '(': after '(' comes an attribute (like cn) or "
                            "'&', '|' or '!'", i)
        return self.item(i, open_, bare)

    def item(self, i: int, open_: int, bare: bool) -> tuple[Filter, int]:
        text, n = self.text, self.n
        j = i
        while j < n and text[j] in _ATTR_CHARS:
            j += 1
        attr = text[i:j]
        if j >= n:
            if not attr:
                raise self.fail("expected an attribute description", j)
            raise self.fail(f"expected '=', '~=', '>=', '<=' or ':=' after {attr!r}", j)
        c = text[j]
        if c == ":":
            return self.extensible(i, j, attr, open_, bare)
        if c == "=":
            op, v = "=", j + 1
        elif c in "~<>" and text[j + 1: j + 2] == "=":
            op, v = c + "=", j + 2
        elif not attr:
            raise self.fail(f"expected an attribute description (like cn or 2.5.4.3), "
                            f"found {c!r}", j)
        elif c in "~<>":
            raise self.fail(f"expected '=' after {c!r} (LDAP has {c}= but no {c})", j + 1)
        else:
            raise self.fail(f"expected '=', '~=', '>=', '<=' or ':' after attribute {attr!r}, "
                            f"found {c!r}", j)
        if not attr:
            raise self.fail(f"expected an attribute description before {op!r}", i)
        self.check_attr(attr, i)
        self.secret = is_secret(attr)
        pieces, k = self.value(v, op, open_, bare)
        if op != "=":
            ops: dict[str, type[Approx | GreaterOrEqual | LessOrEqual]] = {
                "~=": Approx, ">=": GreaterOrEqual, "<=": LessOrEqual}
            return ops[op](attr, pieces[0][0]), k
        if len(pieces) == 1:
            return Equality(attr, pieces[0][0]), k
        if len(pieces) == 2 and pieces[0][0] == "" and pieces[1][0] == "":
            return Present(attr), k
        for val, at in pieces[1:-1]:
            if val == "":
                raise self.fail("two '*' in a row: a middle substring cannot be empty "
                                "(write one '*')", at)
        return Substrings(attr, pieces[0][0] or None, tuple(p for p, _ in pieces[1:-1]),
                          pieces[-1][0] or None), k

    def check_attr(self, attr: str, at: int) -> None:
        problem = _attr_problem(attr)
        if problem:
            raise self.fail(problem[1], at + problem[0])

    def extensible(self, i: int, j: int, attr: str, open_: int, bare: bool
                   ) -> tuple[Filter, int]:
        text, n = self.text, self.n
        if attr:
            self.check_attr(attr, i)
        dn = False
        rule = None
        k = j  # text[k] == ':'
        while True:
            if text[k + 1: k + 2] == "=":
                break
            s = k + 1
            e = s
            while e < n and (text[e].isalnum() and text[e].isascii() or text[e] in ".-"):
                e += 1
            token = text[s:e]
            if not token:
                found = repr(text[s]) if s < n else "the end"
                raise self.fail("expected 'dn', a matching rule or '=' after ':', found "
                                + found, s)
            if token.lower() == "dn" and not dn and rule is None:
                dn = True
            elif rule is None:
                if not (_DESCR.fullmatch(token) or _NUMERICOID.fullmatch(token)):
                    raise self.fail(f"{token!r} is not a matching rule name or numeric OID", s)
                rule = token
            else:
                raise self.fail(f"unexpected {token!r}: the form is attr:dn:rule:=value", s)
            if e >= n or text[e] != ":":
                found = repr(text[e]) if e < n else "the end"
                raise self.fail(f"expected ':' after {token!r} (extensible filters end "
                                f"with ':='), found {found}", e)
            k = e
        if not attr and rule is None:
            raise self.fail("an extensible filter without an attribute needs a matching "
                            "rule, as in (:caseExactMatch:=x)", i)
        self.secret = bool(attr) and is_secret(attr)
        pieces, end = self.value(k + 2, ":=", open_, bare)
        return Extensible(attr or None, rule, pieces[0][0], dn), end

    def value(self, i: int, op: str, open_: int, bare: bool
              ) -> tuple[list[tuple[Value, int]], int]:
        """Scan an assertion value up to ')'; split on unescaped '*' when op is '='."""
        text, n = self.text, self.n
        pieces: list[tuple[Value, int]] = []
        buf = bytearray()
        start = i
        k = i
        while k < n:
            c = text[k]
            if c == ")":
                break
            if c == "\\":
                h = text[k + 1: k + 3]
                if len(h) == 2 and h[0] in _HEX and h[1] in _HEX:
                    buf.append(int(h, 16))
                    k += 3
                    continue
                shown = text[k: k + 3] if not self.secret else "\\" + "*" * len(h)
                hint = " (write \\5c for a literal backslash)"
                if h[:1] and h[0] in "()*\\":
                    hint = f" (write \\{ord(h[0]):02x} for a literal {h[0]!r})"
                raise self.fail(f"bad escape {shown!r}: a backslash must be followed by two "
                                f"hex digits{hint}", k)
            if c == "*":
                if op != "=":
                    raise self.fail(f"unescaped '*' in a '{op}' value: '*' is a wildcard "
                                    "only with '='; write \\2a for a literal asterisk", k)
                pieces.append((_decode(buf), start))
                buf = bytearray()
                start = k
                k += 1
                continue
            if c == "(":
                raise self.fail("unescaped '(' in a value: write \\28 for a literal '(' "
                                "(and \\29 for ')')", k)
            if c == "\x00":
                raise self.fail("NUL character in a value: write \\00", k)
            try:
                buf += c.encode("utf-8")
            except UnicodeEncodeError:
                raise self.fail("a lone surrogate character cannot be part of a filter",
                                k) from None
            k += 1
        if k >= n and not bare:
            raise self.fail(f"expected ')' to close the '(' at position {open_}", k)
        if k < n and bare:
            raise self.fail("unbalanced ')': there is no '(' for it to close", k)
        pieces.append((_decode(buf), start))
        return pieces, k


def _decode(buf: bytearray) -> Value:
    try:
        return buf.decode("utf-8")
    except UnicodeDecodeError:
        return bytes(buf)


def parse(text: str) -> Filter:
    """Parse an RFC 4515 filter.

    Also accepted: a bare item without outer parentheses (``uid=bjensen``), spaces and new
    lines between the filters of ``&``, ``|`` and ``!`` and around the whole filter, and the
    empty ``(&)`` (absolute true) and ``(|)`` (absolute false) of RFC 4526.

    Parameters
    ----------
    text : str
        The filter.

    Returns
    -------
    Filter

    Raises
    ------
    FilterError
        The filter is not valid; ``position`` is the 0-based index of the problem and the
        message says what was expected there.

    Examples
    --------
    >>> parse("(cn=Babs J*)")
    Substrings(attr='cn', initial='Babs J', any=(), final=None)
    >>> parse("uid=bjensen")
    Equality(attr='uid', value='bjensen')
    >>> parse("(cn=a\\\\2ab)").value
    'a*b'
    >>> parse("(&(cn=x)(sn=y)")
    Traceback (most recent call last):
    ...
    ldapnb.errors.FilterError: expected ')' to close the '(' at position 0 in filter ...
    """
    if not isinstance(text, str):
        raise FilterError(f"a filter must be a str, not {type(text).__name__}",
                          filter=repr(text))
    p = _Parser(text)
    i = p.ws(0)
    if i >= p.n:
        raise p.fail("empty filter: write a condition such as (objectClass=*)", i)
    if text[i] == "(":
        f, j = p.filter(i, 0)
        j = p.ws(j)
        if j < p.n:
            if text[j] == ")":
                raise p.fail("unbalanced ')': there is no '(' for it to close", j)
            raise p.fail("unexpected text after the end of the filter (to combine filters, "
                         "wrap them in (&...) or (|...))", j)
        return f
    if text[i] == ")":
        raise p.fail("unbalanced ')': there is no '(' for it to close", i)
    f, j = p.comp(i, 0, -1, bare=True)
    if j < p.n:  # only & | ! stop early in bare mode
        raise p.fail("unbalanced ')': there is no '(' for it to close", j)
    return f


def _as_filter(f: object) -> Filter:
    """``f`` parsed when it is text; a filter node as it is; anything else refused."""
    if isinstance(f, str):
        return parse(f)
    if isinstance(f, _Node):
        return cast(Filter, f)
    raise ArgumentError("filter", "a filter string such as '(cn=x)' or a filter node", f,
                        show=not isinstance(f, (bytes, bytearray)))


def attributes(f: Filter) -> set[str]:
    """The attribute types a filter mentions, lower-cased, options removed.

    Examples
    --------
    >>> sorted(attributes(parse("(&(CN;lang-en=x)(|(sn=*)(:caseExactMatch:=y)))")))
    ['cn', 'sn']
    """
    out: set[str] = set()
    stack: list[Filter] = [f]
    while stack:
        node = stack.pop()
        if isinstance(node, (And, Or)):
            stack.extend(node.children)
        elif isinstance(node, Not):
            stack.append(node.child)
        else:
            attr = getattr(node, "attr", None)
            if attr:
                out.add(attr.split(";", 1)[0].lower())
    return out


# --------------------------------------------------------------------------------------------
# Evaluation context
# --------------------------------------------------------------------------------------------
@runtime_checkable
class EvalContext(Protocol):
    """What evaluation needs to know about the schema and the directory."""

    def rule_for(self, attr: str, kind: str) -> MatchingRule | None:
        """The attribute's ``equality``, ``ordering`` or ``substr`` rule (None if none)."""

    def is_known(self, attr: str) -> bool:
        """True if the schema knows the attribute type."""

    def values(self, entry: Entry, attr: str) -> list[Value]:
        """The values of ``attr`` in ``entry``, including subtypes (``cn;lang-en``).

        The list may be the entry's own: callers must not change it."""

    def presence(self, attr: str) -> Callable[[Entry], bool] | None:
        """A test of ``(attr=*)`` quicker than ``bool(values(entry, attr))`` and always equal
        to it, when the context has one (None: use :meth:`values`)."""

    def in_chain(self, entry: Entry, attr: str, target_dn: str) -> bool | None:
        """True if following ``attr``'s DN values transitively from ``entry`` reaches
        ``target_dn`` (AD's 1.2.840.113556.1.4.1941)."""


_CI = ("caseIgnoreMatch", "caseIgnoreOrderingMatch", "caseIgnoreSubstringsMatch")
_RULE_TABLE: dict[tuple[str | None, str | None, str | None], tuple[str, ...]] = {
    ("distinguishedNameMatch", None, None): (
        "member", "memberOf", "owner", "seeAlso", "manager", "secretary", "roleOccupant",
        "distinguishedName", "creatorsName", "modifiersName", "aliasedObjectName",
        "subschemaSubentry", "entryDN", "namingContexts", "managedBy", "directReports",
        "defaultNamingContext", "rootDomainNamingContext", "configurationNamingContext",
        "schemaNamingContext", "memberOfGroup"),
    ("uniqueMemberMatch", None, None): ("uniqueMember",),
    ("integerMatch", "integerOrderingMatch", None): (
        "uidNumber", "gidNumber", "userAccountControl", "groupType", "primaryGroupID",
        "adminCount", "sAMAccountType", "logonCount", "badPwdCount", "pwdLastSet",
        "lastLogon", "lastLogonTimestamp", "lastLogoff", "accountExpires", "badPasswordTime",
        "lockoutTime", "instanceType", "systemFlags", "msDS-SupportedEncryptionTypes",
        "msDS-User-Account-Control-Computed", "shadowLastChange", "shadowMin", "shadowMax",
        "shadowWarning", "shadowInactive", "shadowExpire", "shadowFlag", "uSNCreated",
        "uSNChanged", "maxPwdAge", "minPwdAge", "minPwdLength", "pwdHistoryLength",
        "lockoutThreshold", "ipServicePort", "ipProtocolNumber", "oncRpcNumber",
        "msDS-Behavior-Version", "countryCode", "codePage", "pwdProperties"),
    ("generalizedTimeMatch", "generalizedTimeOrderingMatch", None): (
        "createTimestamp", "modifyTimestamp", "whenCreated", "whenChanged", "pwdChangedTime",
        "pwdAccountLockedTime", "pwdFailureTime", "dSCorePropagationData", "pwdLastSuccess"),
    ("caseIgnoreIA5Match", None, "caseIgnoreIA5SubstringsMatch"): (
        "mail", "rfc822Mailbox", "dc", "domainComponent", "associatedDomain", "email",
        "emailAddress"),
    ("caseExactIA5Match", None, "caseExactIA5SubstringsMatch"): (
        "homeDirectory", "loginShell", "memberUid", "unixHomeDirectory", "gecos"),
    ("telephoneNumberMatch", None, "telephoneNumberSubstringsMatch"): (
        "telephoneNumber", "facsimileTelephoneNumber", "homePhone", "homeTelephoneNumber",
        "mobile", "mobileTelephoneNumber", "pager", "pagerTelephoneNumber", "otherTelephone",
        "ipPhone", "otherMobile", "otherHomePhone"),
    ("octetStringMatch", "octetStringOrderingMatch", "octetStringSubstringsMatch"): (
        "userPassword", "objectSid", "objectGUID", "jpegPhoto", "thumbnailPhoto", "photo",
        "audio", "userCertificate", "cACertificate", "nTSecurityDescriptor", "sIDHistory",
        "tokenGroups", "unicodePwd", "msExchMailboxGuid", "userSMIMECertificate",
        "userPKCS12", "certificateRevocationList", "authorityRevocationList"),
    ("booleanMatch", None, None): ("isCriticalSystemObject", "showInAdvancedViewOnly",
                                   "isDeleted", "isRecycled"),
    ("UUIDMatch", "UUIDOrderingMatch", None): ("entryUUID",),
    ("objectIdentifierMatch", None, None): ("supportedControl", "supportedExtension",
                                            "supportedFeatures"),
}


def _triple(names: tuple[str | None, ...]) -> dict[str, MatchingRule | None]:
    return {kind: (matching.rule(n) if n else None)
            for kind, n in zip(("equality", "ordering", "substr"), names, strict=True)}


_BUILTIN: dict[str, dict[str, MatchingRule | None]] = {
    a.lower(): _triple(k) for k, attrs in _RULE_TABLE.items() for a in attrs
}
_DEFAULT_RULES = _triple(_CI)


def _dn_text(value: Value) -> str | None:
    """The DN inside a DN or uniqueMember value (``#'0101'B`` dropped)."""
    text = value if isinstance(value, str) else _canon(value)
    if not isinstance(text, str):
        return None
    m = re.search(r"#'[01]*'B$", text)
    return text[: m.start()] if m else text


class SimpleContext:
    """Evaluation without a schema.

    Every attribute is known (unless ``known`` names the ones that are); rules come from a
    small built-in table (DN rules for member/uniqueMember/memberOf..., integer rules for
    uidNumber/userAccountControl..., generalizedTime for createTimestamp..., octetString for
    binary attributes, telephoneNumber, IA5 for mail and dc) and caseIgnore equality, ordering
    and substring rules for everything else.

    Parameters
    ----------
    lookup : callable, optional
        ``lookup(dn) -> Entry | None``, used to follow chains for the in-chain rule.
    rules : mapping, optional
        Overrides: attribute name -> ``{"equality": name-or-None, "ordering": ...,
        "substr": ...}``; a kind left out gets no rule.
    known : iterable of str, optional
        If given, only these attribute types are known; others make comparisons Undefined.

    Examples
    --------
    >>> ctx = SimpleContext()
    >>> ctx.rule_for("uidNumber", "ordering").name
    'integerOrderingMatch'
    >>> ctx.values(Entry("cn=x", {"cn": ["a"], "cn;lang-en": ["b"]}), "CN")
    ['a', 'b']
    """

    def __init__(
        self,
        lookup: Callable[[str], Entry | None] | None = None,
        *,
        rules: Mapping[str, Mapping[str, str | None]] | None = None,
        known: Iterable[str] | None = None,
    ):
        self.lookup = lookup
        self._rules = dict(_BUILTIN)
        for name, kinds in (rules or {}).items():
            self._rules[name.lower()] = {
                k: (matching.rule(kinds[k]) if kinds.get(k) else None)  # type: ignore[arg-type]
                for k in ("equality", "ordering", "substr")
            }
        self._known = None if known is None else {a.lower() for a in known}

    def rule_for(self, attr: str, kind: str) -> MatchingRule | None:
        base = attr.split(";", 1)[0].lower()
        return self._rules.get(base, _DEFAULT_RULES).get(kind)

    def is_known(self, attr: str) -> bool:
        return self._known is None or attr.split(";", 1)[0].lower() in self._known

    def values(self, entry: Entry, attr: str) -> list[Value]:
        base, sep, opts = attr.partition(";")
        if not sep:
            # Fast path over the entry's lower-cased lists: the plain attribute, plus any
            # "base;option" keys, found without building a generator.
            attrs = entry.attribute_lists()
            low = base.lower()
            plain = attrs.get(low)
            prefix = low + ";"
            extra = [k for k in attrs if ";" in k and k.startswith(prefix)]
            if not extra:
                return plain if plain is not None else []
            out: list[Value] = list(plain or ())
            for k in extra:
                out.extend(attrs[k])
            return out
        wanted = {o.lower() for o in opts.split(";")}
        out = []
        for name, vals in entry.with_options(base):
            have = {o.lower() for o in name.split(";")[1:]}
            if wanted <= have:
                out.extend(vals)
        return out

    def presence(self, attr: str) -> Callable[[Entry], bool] | None:
        return None  # values() is already a lookup

    def in_chain(self, entry: Entry, attr: str, target_dn: str) -> bool | None:
        dn_rule = matching.rule("distinguishedNameMatch")
        assert dn_rule is not None
        target = dn_rule.normalize(target_dn)
        if target is None:
            return None
        seen: set[Any] = set()
        todo = [entry]
        unresolved = False
        while todo:
            e = todo.pop()
            for v in self.values(e, attr):
                text = _dn_text(v)
                key = dn_rule.normalize(text) if text is not None else None
                if key is None:
                    continue
                if key == target:
                    return True
                if key in seen:
                    continue
                seen.add(key)
                if self.lookup is None:
                    unresolved = True
                    continue
                nxt = self.lookup(text)  # type: ignore[arg-type]
                if nxt is not None:
                    todo.append(nxt)
        return None if unresolved else False


_DEFAULT_CONTEXT = SimpleContext()


# --------------------------------------------------------------------------------------------
# Leaf evaluation, with explanations (used by evaluate and trace)
# --------------------------------------------------------------------------------------------
def _show(value: Value | None, attr: str | None = None) -> str:
    if attr and is_secret(attr):
        return MASK
    r = repr(value)
    return r if len(r) <= 60 else r[:57] + "..."


def _combine(results: Iterable[Result]) -> Result:
    undefined = False
    for r in results:
        if r is True:
            return True
        if r is None:
            undefined = True
    return None if undefined else False


@dataclass
class _LeafOutcome:
    result: Result
    reason: str
    values: tuple[Value, ...] = ()
    matched: Value | None = None


def _apply(test: Callable[[Value], Result], vals: list[Value], attr: str, what: str,
           rule: MatchingRule) -> _LeafOutcome:
    """Apply a per-value test to every value of an attribute (RFC 4511: any value True)."""
    if not vals:
        return _LeafOutcome(False, f"the entry has no {attr} value")
    bad = 0
    for v in vals:
        r = test(v)
        if r is True:
            return _LeafOutcome(True, f"{attr} value {_show(v, attr)} {what} ({rule.name})",
                                tuple(vals), v)
        if r is None:
            bad += 1
    if bad:
        return _LeafOutcome(None, f"no {attr} value {what}, and {bad} value(s) are not valid "
                            f"for {rule.name}: Undefined", tuple(vals))
    return _LeafOutcome(False, f"{attr} has no value that {what} ({rule.name})", tuple(vals))


def _unknown(attr: str) -> _LeafOutcome:
    return _LeafOutcome(None, f"attribute {attr!r} is not in the schema: Undefined")


def _leaf(node: Filter, entry: Entry, ctx: EvalContext) -> _LeafOutcome:
    t = type(node)
    if t is Present:
        attr = cast(Present, node).attr
        if not ctx.is_known(attr):
            return _LeafOutcome(False, f"attribute {attr!r} is not in the schema: presence "
                                "is False")
        vals = ctx.values(entry, attr)
        if vals:
            return _LeafOutcome(True, f"the entry has {len(vals)} {attr} value(s)",
                                tuple(vals), vals[0])
        return _LeafOutcome(False, f"the entry has no {attr} value")
    if t is Extensible:
        return _extensible(cast(Extensible, node), entry, ctx)
    attr = cast("_AttrValue | Substrings", node).attr  # the other leaves
    if not ctx.is_known(attr):
        return _unknown(attr)
    if t is Substrings:
        s = cast(Substrings, node)
        r = ctx.rule_for(attr, "substr")
        pattern = _show(_pattern(s), attr)
        if r is None:
            return _LeafOutcome(None, f"no substring rule for {attr!r}: Undefined")
        test = r.substrings_matcher(s.initial, s.any, s.final)
        if test is None:
            return _LeafOutcome(None, f"{pattern} is not a valid substring assertion for "
                                f"{r.name}: Undefined")
        return _apply(test, ctx.values(entry, attr), attr, f"matches {pattern}", r)
    value = cast(_AttrValue, node).value  # Equality, Approx, GreaterOrEqual, LessOrEqual
    shown = _show(value, attr)
    if t is Equality or t is Approx:
        eq = ctx.rule_for(attr, "equality")
        if eq is None:
            return _LeafOutcome(None, f"no equality rule for {attr!r}: Undefined")
        akey = eq.normalize(value)
        if t is Approx and eq.syntax in (matching.DIRECTORY_STRING, matching.IA5_STRING):
            return _approx(eq, akey, value, ctx.values(entry, attr), attr)
        if akey is None:
            return _LeafOutcome(None, f"{shown} is not a valid value for {eq.name}: Undefined")
        return _apply(lambda v: _eq(eq, v, akey), ctx.values(entry, attr), attr,
                      f"equals {shown}", eq)
    r = ctx.rule_for(attr, "ordering")
    if r is None:
        return _LeafOutcome(None, f"no ordering rule for {attr!r}: Undefined")
    akey = r.normalize(value)
    if akey is None:
        return _LeafOutcome(None, f"{shown} is not a valid value for {r.name}: Undefined")
    if t is GreaterOrEqual:
        return _apply(lambda v: _ge(r, v, akey), ctx.values(entry, attr), attr,
                      f"is >= {shown}", r)
    return _apply(lambda v: _le(r, v, akey), ctx.values(entry, attr), attr,
                  f"is <= {shown}", r)


def _pattern(s: Substrings) -> str:
    def txt(v: Value | None) -> str:
        if v is None:
            return ""
        return v if isinstance(v, str) else escape(v)
    return txt(s.initial) + "*" + "".join(txt(a) + "*" for a in s.any) + txt(s.final)


def _eq(r: MatchingRule, v: Value, akey: Any) -> Result:
    k = r.normalize(v)
    return None if k is None else k == akey


def _ge(r: MatchingRule, v: Value, akey: Any) -> Result:
    k = r.normalize(v)
    return None if k is None else not (k < akey)


def _le(r: MatchingRule, v: Value, akey: Any) -> Result:
    k = r.normalize(v)
    return None if k is None else not (akey < k)


def _approx(r: MatchingRule, akey: Any, value: Value, vals: list[Value], attr: str
            ) -> _LeafOutcome:
    words = matching.approx_key(value)
    if words is None and akey is None:
        return _LeafOutcome(None, f"{_show(value, attr)} is not valid for {r.name}: Undefined")

    def test(v: Value) -> Result:
        if akey is not None and r.normalize(v) == akey:
            return True
        vk = matching.approx_key(v)
        if vk is None:
            return None
        return bool(words) and matching.approx_match(vk, words)  # type: ignore[arg-type]

    return _apply(test, vals, attr, f"sounds like {_show(value, attr)}", r)


def _extensible_rule(x: Extensible, ctx: EvalContext
                     ) -> tuple[MatchingRule | None, _LeafOutcome | None]:
    """The rule an extensible filter uses, or an Undefined outcome saying why there is none."""
    if x.rule is not None:
        r = matching.rule(x.rule)
        if r is None:
            return None, _LeafOutcome(None, f"unknown matching rule {x.rule!r}: Undefined")
        return r, None
    assert x.attr is not None
    r = ctx.rule_for(x.attr, "equality")
    if r is None:
        return None, _LeafOutcome(None, f"no equality rule for {x.attr!r}: Undefined")
    return r, None


def _dn_avas(entry: Entry) -> list[tuple[str, str]]:
    from ldapnb import dn as dnmod
    from ldapnb.errors import DnError

    try:
        return [ava for rdn in dnmod.parse(entry.dn) for ava in rdn]
    except DnError:
        return []


def _same_type(a: str, b: str) -> bool:
    return a.split(";", 1)[0].lower() == b.split(";", 1)[0].lower()


def _applies(r: MatchingRule, attr: str, ctx: EvalContext) -> bool:
    """Whether rule ``r`` applies to attribute ``attr`` (same value syntax)."""
    if not ctx.is_known(attr):
        return False
    eq = ctx.rule_for(attr, "equality")
    return eq is not None and eq.syntax == r.syntax


def _extensible(x: Extensible, entry: Entry, ctx: EvalContext) -> _LeafOutcome:
    if x.attr is not None and not ctx.is_known(x.attr):
        return _unknown(x.attr)
    r, why = _extensible_rule(x, ctx)
    if r is None:
        return why  # type: ignore[return-value]
    shown = _show(x.value, x.attr)
    if r.oid == oids.IN_CHAIN:
        if x.attr is None:
            return _LeafOutcome(None, "the in-chain rule needs an attribute to follow, as in "
                                f"(memberOf:{oids.IN_CHAIN}:=cn=G,dc=x): Undefined")
        if r.normalize(x.value) is None:
            return _LeafOutcome(None, f"{shown} is not a valid DN: Undefined")
        res = ctx.in_chain(entry, x.attr, x.value)  # type: ignore[arg-type]
        if res is True:
            why_txt = f"following {x.attr} from this entry reaches {shown}"
        elif res is False:
            why_txt = f"following {x.attr} from this entry never reaches {shown}"
        else:
            why_txt = f"cannot follow {x.attr} to other entries here: Undefined"
        return _LeafOutcome(res, why_txt, tuple(ctx.values(entry, x.attr)))
    test = r.matcher(x.value)
    if test is None:
        return _LeafOutcome(None, f"{shown} is not a valid assertion for {r.name}: Undefined")
    what = f"matches {shown}"
    outcomes: list[_LeafOutcome] = []
    if x.attr is not None:
        outcomes.append(_apply(test, ctx.values(entry, x.attr), x.attr, what, r))
    else:
        for name in entry:
            if _applies(r, name, ctx):
                outcomes.append(_apply(test, list(entry[name]), name, what, r))
    if x.dn_attributes:
        for typ, val in _dn_avas(entry):
            if (x.attr is not None and _same_type(typ, x.attr)) or (
                    x.attr is None and _applies(r, typ, ctx)):
                o = _apply(test, [val], f"{typ} (in the DN)", what, r)
                outcomes.append(o)
    for o in outcomes:
        if o.result is True:
            return o
    values = tuple(v for o in outcomes for v in o.values)
    if any(o.result is None for o in outcomes):
        return _LeafOutcome(None, f"no value {what} ({r.name}) and some values are not "
                            "valid for it: Undefined", values)
    where = x.attr or f"any attribute {r.name} applies to"
    if x.dn_attributes:
        where += " or the DN"
    return _LeafOutcome(False, f"no value of {where} {what} ({r.name})", values)


# --------------------------------------------------------------------------------------------
# evaluate / trace
# --------------------------------------------------------------------------------------------
def evaluate(f: Filter, entry: Entry, ctx: EvalContext | None = None) -> Result:
    """Evaluate a filter against one entry: True, False or None (Undefined).

    Parameters
    ----------
    f : Filter or str
        The filter (a string is parsed first).
    entry : Entry
    ctx : EvalContext, optional
        Schema and directory knowledge; :class:`SimpleContext` by default.

    Returns
    -------
    bool or None

    Examples
    --------
    >>> e = Entry("cn=x", {"cn": ["Alice"], "uidNumber": ["1000"]})
    >>> evaluate("(uidNumber>=999)", e), evaluate("(uidNumber=abc)", e)
    (True, None)
    >>> evaluate("(!(uidNumber=abc))", e) is None
    True
    """
    f = _as_filter(f)
    return _evaluate(f, entry, ctx or _DEFAULT_CONTEXT)


def _evaluate(f: Filter, entry: Entry, ctx: EvalContext) -> Result:
    t = type(f)
    if t is And:
        undefined = False
        for c in f.children:  # type: ignore[union-attr]
            r = _evaluate(c, entry, ctx)
            if r is False:
                return False
            if r is None:
                undefined = True
        return None if undefined else True
    if t is Or:
        return _combine(_evaluate(c, entry, ctx) for c in f.children)  # type: ignore
    if t is Not:
        r = _evaluate(f.child, entry, ctx)  # type: ignore[union-attr]
        return None if r is None else not r
    return _leaf(f, entry, ctx).result


_MARK = {True: "✓", False: "✗", None: "?"}


@dataclass
class Trace:
    """How a filter was evaluated against one entry: a tree mirroring the filter.

    ``result`` is True, False or None (Undefined); leaves carry the ``values`` examined, the
    value that ``matched`` (if any) and a plain-words ``reason``.  Secret attributes
    (userPassword ...) are masked in the text and in :meth:`to_dict`.
    """

    node: Filter  # its repr masks secret values
    text: str
    result: Result
    reason: str = ""
    children: tuple[Trace, ...] = ()
    values: tuple[Value, ...] = field(default=(), repr=False)
    matched: Value | None = field(default=None, repr=False)

    def _secret(self) -> bool:
        attr = getattr(self.node, "attr", None)
        return isinstance(attr, str) and bool(attr) and is_secret(attr)

    def lines(self, indent: int = 0) -> list[str]:
        pad = "  " * indent
        out = [f"{pad}{_MARK[self.result]} {self.text}" + (f"  — {self.reason}"
                                                           if self.reason else "")]
        for c in self.children:
            out.extend(c.lines(indent + 1))
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        from html import escape as h

        return "<pre>" + h(str(self)) + "</pre>"

    def to_dict(self) -> dict[str, Any]:
        """Plain data: filter text, kind, result, reason, values, matched, children."""
        secret = self._secret()
        return {
            "filter": self.text,
            "kind": type(self.node).__name__,
            "result": self.result,
            "reason": self.reason,
            "values": [MASK if secret else v for v in self.values],
            "matched": (MASK if secret and self.matched is not None else self.matched),
            "children": [c.to_dict() for c in self.children],
        }


def trace(f: Filter, entry: Entry, ctx: EvalContext | None = None) -> Trace:
    """Evaluate a filter and say why: which sub-filter matched which value.

    Examples
    --------
    >>> e = Entry("uid=a,dc=x", {"cn": ["alice", "zed"]})
    >>> print(trace("(!(cn=ali*))", e))
    ✗ (!(cn=ali*))  — the filter inside is True
      ✓ (cn=ali*)  — cn value 'alice' matches 'ali*' (caseIgnoreSubstringsMatch)
    """
    f = _as_filter(f)
    return _trace(f, entry, ctx or _DEFAULT_CONTEXT)


def _trace(f: Filter, entry: Entry, ctx: EvalContext) -> Trace:
    text = _show_filter(f)
    t = type(f)
    if t is And or t is Or:
        kids = tuple(_trace(c, entry, ctx) for c in f.children)  # type: ignore[union-attr]
        results = [k.result for k in kids]
        if t is And:
            res: Result = (False if False in results else None if None in results else True)
            if not kids:
                reason = "an empty AND (&) is always true"
            elif res is True:
                reason = f"all {len(kids)} filters are True"
            elif res is False:
                reason = f"{results.count(False)} of {len(kids)} filters are False"
            else:
                reason = "no filter is False, but some are Undefined"
        else:
            res = _combine(results)
            if not kids:
                reason = "an empty OR (|) is always false"
            elif res is True:
                reason = f"{results.count(True)} of {len(kids)} filters are True"
            elif res is False:
                reason = f"all {len(kids)} filters are False"
            else:
                reason = "no filter is True, but some are Undefined"
        return Trace(f, text, res, reason, kids)
    if t is Not:
        kid = _trace(f.child, entry, ctx)  # type: ignore[union-attr]
        res = None if kid.result is None else not kid.result
        reason = ("the filter inside is Undefined, so NOT is Undefined too"
                  if kid.result is None else f"the filter inside is {kid.result}")
        return Trace(f, text, res, reason, (kid,))
    o = _leaf(f, entry, ctx)
    return Trace(f, text, o.result, o.reason, (), o.values, o.matched)


def _show_filter(f: Filter) -> str:
    """The filter's text with the values of secret attributes masked."""
    out: list[str] = []
    _print(f, out, True)
    return "".join(out)


# --------------------------------------------------------------------------------------------
# compile
# --------------------------------------------------------------------------------------------
def _const(value: Result) -> Callable[[Entry], Result]:
    return lambda entry: value


def compile(f: Filter, ctx: EvalContext | None = None) -> Callable[[Entry], Result]:
    """Compile a filter into a function ``entry -> True/False/None`` for scanning many entries.

    Rules are looked up and assertion values normalised once; the result agrees with
    :func:`evaluate`.

    Examples
    --------
    >>> match = compile("(&(objectClass=person)(sn=J*))")
    >>> match(Entry("cn=x", {"objectClass": ["Person"], "sn": ["Jensen"]}))
    True
    """
    f = _as_filter(f)
    return _compile(f, ctx or _DEFAULT_CONTEXT)


def _compile(f: Filter, ctx: EvalContext) -> Callable[[Entry], Result]:
    t = type(f)
    if t is And:
        subs = [_compile(c, ctx) for c in f.children]  # type: ignore[union-attr]
        if not subs:
            return _const(True)
        if len(subs) == 1:
            return subs[0]

        def run_and(entry: Entry) -> Result:
            undefined = False
            for s in subs:
                r = s(entry)
                if r is False:
                    return False
                if r is None:
                    undefined = True
            return None if undefined else True
        return run_and
    if t is Or:
        subs = [_compile(c, ctx) for c in f.children]  # type: ignore[union-attr]
        if not subs:
            return _const(False)

        def run_or(entry: Entry) -> Result:
            undefined = False
            for s in subs:
                r = s(entry)
                if r is True:
                    return True
                if r is None:
                    undefined = True
            return None if undefined else False
        return run_or
    if t is Not:
        sub = _compile(f.child, ctx)  # type: ignore[union-attr]

        def run_not(entry: Entry) -> Result:
            r = sub(entry)
            return None if r is None else not r
        return run_not
    if t is Extensible:
        ext = cast(Extensible, f)
        return lambda entry: _extensible(ext, entry, ctx).result
    attr = cast("_AttrValue | Present | Substrings", f).attr  # the other leaves
    values = ctx.values
    if t is Present:
        if not ctx.is_known(attr):
            return _const(False)
        quick = ctx.presence(attr)
        if quick is not None:
            return quick
        return lambda entry: bool(values(entry, attr))
    if not ctx.is_known(attr):
        return _const(None)
    if t is Substrings:
        r = ctx.rule_for(attr, "substr")
        test = r.substrings_matcher(f.initial, f.any, f.final) if r else None  # type: ignore
        if test is None:
            return _const(None)
        return _any_value(values, attr, test)
    if t is Approx:
        node = f
        return lambda entry: _leaf(node, entry, ctx).result
    kind = "equality" if t is Equality else "ordering"
    r = ctx.rule_for(attr, kind)
    if r is None:
        return _const(None)
    # an equality or ordering key: keys of an ordering rule compare by construction
    akey: Any = r.normalize(cast(_AttrValue, f).value)
    if akey is None:
        return _const(None)
    norm = r.normalize
    if t is Equality:
        def run_eq(entry: Entry) -> Result:
            vals = values(entry, attr)
            undefined = False
            for v in vals:
                k = norm(v)
                if k == akey:
                    return True
                if k is None:
                    undefined = True
            return None if undefined else False
        return run_eq
    if t is GreaterOrEqual:
        def test_ge(v: Value) -> Result:
            k = norm(v)
            return None if k is None else not (k < akey)
        return _any_value(values, attr, test_ge)

    def test_le(v: Value) -> Result:
        k = norm(v)
        return None if k is None else not (akey < k)
    return _any_value(values, attr, test_le)


def _any_value(values: Callable[[Entry, str], list[Value]], attr: str,
               test: Callable[[Value], Result]) -> Callable[[Entry], Result]:
    def run(entry: Entry) -> Result:
        undefined = False
        for v in values(entry, attr):
            r = test(v)
            if r is True:
                return True
            if r is None:
                undefined = True
        return None if undefined else False
    return run
