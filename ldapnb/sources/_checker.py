"""The embedded directory's schema checker: one set of rules, a full path and a fast path.

The rules, each written once (:meth:`Checker.class_problems`, :meth:`Checker.allowed_problem`,
:meth:`Checker.value_problems`, :meth:`Checker.must_problems`, the naming rule in
:meth:`Checker.full_check`):

- R1 the object classes are known and one is structural;
- R2 every attribute is allowed by them (unless ``extensibleObject``);
- R3 values of syntax-checked attributes (INTEGER, BOOLEAN, DN, GeneralizedTime ...) are valid;
- R4 values of known text attributes are UTF-8 text;
- R5 a SINGLE-VALUE attribute has one value; R6 no value twice (by the equality rule);
- R7 every MUST attribute is present; R8 the RDN's values are among the entry's values.

:meth:`Checker.full_check` applies them attribute by attribute and words each problem (raising,
or noting a warning when lenient).  :meth:`Checker.check` first tries the fast path
(:meth:`Checker.quick_check`), which asks the *same* rule functions, once per kind of entry,
about everything that depends only on the attribute names and objectClass values (R1, R2, R7,
and R3-R6 on objectClass); per entry it applies R3 with the rules' own normalizers (several
INTEGER values with one regular expression built from ``integerMatch``'s), R4 by a type check,
R5/R6 through :meth:`Checker.value_problems` for any attribute holding more than one value,
and R8 by a sufficient form of the equality test.  Whatever the fast path cannot pass goes to
the full path, which finds and words the problem: the fast path never decides alone that an
entry is wrong.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .. import dn as dnlib
from .. import matching
from ..entry import Entry, SharedNames, Value
from ..errors import ObjectClassViolation, OperationError, SchemaError
from ..schema import Schema

__all__ = ["Checker", "FastPlan", "rdn_avas"]

#: equality rules whose values the checker validates (R3)
SYNTAX_CHECKED = frozenset({"integerMatch", "booleanMatch", "distinguishedNameMatch",
                            "generalizedTimeMatch", "numericStringMatch", "uniqueMemberMatch",
                            "caseIgnoreIA5Match", "caseExactIA5Match"})
#: syntaxes whose values may not be empty (RFC 4517: Directory String, Printable String)
NONEMPTY_SYNTAXES = frozenset({"1.3.6.1.4.1.1466.115.121.1.15", "1.3.6.1.4.1.1466.115.121.1.44"})
#: syntaxes that may (must) be transferred with the ;binary option (RFC 4522)
BINARY_TRANSFER = frozenset({"1.3.6.1.4.1.1466.115.121.1.8", "1.3.6.1.4.1.1466.115.121.1.9",
                             "1.3.6.1.4.1.1466.115.121.1.10", "1.3.6.1.4.1.1466.115.121.1.49"})
#: equality rules for which every printable ASCII str is a valid value
_TEXT_RULES = {"caseIgnoreMatch", "caseExactMatch"}
_INTEGER = f"(?:{matching._INTEGER.pattern})"  # integerMatch's valid values (RFC 4517)
_INTEGERS = re.compile(f"{_INTEGER}(?:\n{_INTEGER})*")
_RDN_SPECIAL = re.compile(r'[\\"+#]')  # what rdn_avas leaves to dn.rdn_avas
_FIRST = operator.itemgetter(0)
_STR = {str}
_NO_PLAN = object()

#: a problem: (kind, text when strict, text when lenient); kinds "schema", "naming",
#: "syntax", "duplicate" (see Checker.report)
Problem = tuple[str, str, str]


@dataclass(frozen=True)
class ClassInfo:
    known: list[str]
    problems: list[str]
    extensible: bool
    allowed: frozenset[str]
    must: frozenset[str]
    expanded: list[Value]


@dataclass(frozen=True)
class AttrInfo:
    key: str                 # canonical description, options kept: "cn;lang-fr"
    key_lower: str
    canon: str               # canonical type name, lower-cased: "cn"
    name: str                # canonical type name: "cn"
    at: object               # the AttributeType, or None when unknown (lenient)
    operational: bool
    binary: bool
    single_value: bool
    rule: matching.MatchingRule | None
    syntax_checked: bool


class FastPlan:
    """What checking and converting entries with one exact list of attribute names needs,
    worked out once, so the per-entry work left is the values' own.  Only for lists of known
    attribute types that stay distinct once made canonical."""

    __slots__ = ("infos", "sources", "same", "keys", "names", "options", "text", "binary",
                 "oc", "checked", "integers", "n_integers", "not_integers", "multi",
                 "by_classes", "classes", "naming")

    def __init__(self, sources: tuple[str, ...], infos: list[AttrInfo]):
        self.infos = infos
        self.keys = tuple(a.key_lower for a in infos)
        self.sources = _getter(sources)         # the entry's value lists, in plan order
        # the entry's keys are already the canonical ones: its value lists are in plan order
        # (the plan's key strings are used all the same: shared, found by identity)
        self.same = sources == self.keys
        self.names = SharedNames((a.key_lower, a.key) for a in infos)  # copied on change
        self.options = sum(";" in k for k in self.keys)
        self.binary = tuple(a.key_lower for a in infos if a.binary)
        self.text = _getter(tuple(a.key_lower for a in infos if not a.binary))
        self.oc = "objectclass" in self.keys
        # R3: (key, the rule's normalizer, raising or returning None for an invalid value)
        self.checked = tuple((a.key_lower, _quick_normalizer(a.rule))  # type: ignore[arg-type]
                             for a in infos if a.syntax_checked)
        ints = tuple(a.key_lower for a in infos
                     if a.syntax_checked and a.rule.name == "integerMatch")  # type: ignore[union-attr]
        self.integers = _getter(ints) if ints else None
        self.n_integers = len(ints) - 1  # separators when they are joined
        self.not_integers = tuple(c for c in self.checked if c[0] not in ints)
        # R5/R6 (and R3, R4) by value_problems, for attributes with more than one value
        self.multi = tuple((a.key_lower, a) for a in infos if a.key_lower != "objectclass")
        self.by_classes: dict[tuple[str, ...], bool] = {}  # objectClass values -> all fine?
        self.classes: list[str] | None = None  # the last fine objectClass values seen
        # the last plain RDN's prefix ("uid="), canonical key, equality rule, text rule?
        self.naming: tuple[str, str, matching.MatchingRule | None, bool] | None = None


def _getter(indices: Sequence[Any]) -> Callable[[Any], tuple[Any, ...]]:
    """A function picking the items at ``indices`` out of a sequence or mapping, as a tuple
    (``operator.itemgetter`` when there are two or more)."""
    if len(indices) > 1:
        return operator.itemgetter(*indices)
    if indices:
        i = indices[0]
        return lambda seq: (seq[i],)
    return lambda seq: ()


def _quick_normalizer(rule: matching.MatchingRule) -> Callable[[str], object]:
    """A stand-in for ``rule``'s normalizer on str values, for telling valid from invalid
    (None, or ValueError/TypeError/OverflowError where the rule's own returns None), quicker
    for the common rules; its keys need not be the rule's."""
    if rule.name == "distinguishedNameMatch":
        return dnlib.normalize  # DnError (a ValueError) for an invalid DN
    if rule.name == "integerMatch":
        slow = rule._normalize

        def integer(v: str) -> object:
            # digits without a leading zero: the RFC 4517 form, its own key
            if v.isdigit() and v.isascii() and (v[0] != "0" or len(v) == 1):
                return int(v)
            return slow(v)
        return integer
    if rule.name in ("caseIgnoreIA5Match", "caseExactIA5Match"):
        slow = rule._normalize

        def ia5(v: str) -> object:
            # printable ASCII: matching.prepare keeps it (lower-cased or not), so it is valid
            # (the key itself is not needed here, only whether there is one)
            if v.isascii() and v.isprintable():
                return v
            return slow(v)
        return ia5
    return rule._normalize


def _text_or_bytes(value: Value) -> Value:
    """A text attribute's value as str; bytes that are not UTF-8 stay bytes (R4 reports
    them)."""
    if value.__class__ is bytes:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value
    return value


def rdn_avas(dn: str) -> tuple[tuple[str, str], ...]:
    """The AVAs of the first RDN (fast when it holds no escapes, quotes or '+')."""
    first = dn.split(",", 1)[0]
    if "\\" not in first and '"' not in first and "+" not in first and "=" in first \
            and "#" not in first:
        attr, _, value = first.partition("=")
        return ((attr.strip(), value.strip()),)
    return dnlib.rdn_avas(dn)


class Checker:
    """Entries against a schema: canonical attribute names, typed values, the rules above.

    ``warnings`` is the list lenient checks append to (the directory's own list).
    """

    def __init__(self, schema: Schema, *, lenient: bool, warnings: list[str]):
        self.schema = schema
        self.lenient = lenient
        self.warnings = warnings
        self.unknown_types: dict[str, str] = {}  # lenient: lower -> spelling as first seen
        self._canons: dict[str, str] = {}
        self._rules: dict[tuple[str, str], matching.MatchingRule | None] = {}
        self._class_infos: dict[tuple[str, ...], ClassInfo] = {}
        self._attr_infos: dict[str, AttrInfo] = {}
        self._convert_plans: dict[tuple[str, ...], list[tuple[str, str, str, bool]]] = {}
        self._fast_plans: dict[tuple[str, ...], FastPlan | None] = {}
        self._naming: dict[str, tuple[str, matching.MatchingRule | None, bool]] = {}

    # -- names and rules ---------------------------------------------------------------------
    def canon(self, name: str) -> str:
        """The schema's spelling of an attribute type (options dropped), lower-cased."""
        canon = self._canons.get(name)
        if canon is None:
            at = self.schema.attribute_type(name)
            canon = at.name.lower() if at is not None else name.split(";", 1)[0].lower()
            self._canons[name] = canon
        return canon

    def canon_description(self, name: str) -> str:
        """``commonName;lang-fr`` -> ``cn;lang-fr``: the schema's spelling plus the options."""
        base, sep, options = name.partition(";")
        at = self.schema.attribute_type(base)
        spelled = at.name if at is not None else self.unknown_types.get(base.lower(), base)
        return spelled + sep + options

    def is_known(self, attr: str) -> bool:
        base = attr.split(";", 1)[0].lower()
        return self.schema.attribute_type(base) is not None or base in self.unknown_types

    def rule_for(self, attr: str, kind: str) -> matching.MatchingRule | None:
        """The ``kind`` ("equality", "ordering", "substr") rule of ``attr`` (unknown types
        kept by a lenient load match as case-insensitive strings)."""
        key = (attr.split(";", 1)[0].lower(), kind)
        if key in self._rules:
            return self._rules[key]
        at = self.schema.attribute_type(key[0])
        name = None
        if at is not None:
            name = {"equality": at.equality, "ordering": at.ordering,
                    "substr": at.substr}.get(kind)
        elif key[0] in self.unknown_types:
            name = {"equality": "caseIgnoreMatch", "ordering": "caseIgnoreOrderingMatch",
                    "substr": "caseIgnoreSubstringsMatch"}.get(kind)
        rule = matching.rule(name) if name else None
        self._rules[key] = rule
        return rule

    def eq_rule(self, attr: str) -> matching.MatchingRule | None:
        return self.rule_for(attr, "equality")

    def same_value(self, attr: str, a: Value, b: Value) -> bool:
        rule = self.eq_rule(attr)
        if rule is None:
            return a == b
        ka, kb = rule.normalize(a), rule.normalize(b)
        return ka is not None and ka == kb

    def has_value(self, attr: str, values: list[Value], value: Value) -> bool:
        return any(self.same_value(attr, v, value) for v in values)

    # -- object classes ----------------------------------------------------------------------
    def class_info(self, classes: tuple[str, ...]) -> ClassInfo:
        """What a set of object classes allows and requires (cached: few distinct sets)."""
        info = self._class_infos.get(classes)
        if info is not None:
            return info
        schema = self.schema
        problems = [] if classes else ["no objectClass"]
        known = []
        for c in classes:
            oc = schema.object_class(c)
            if oc is None:
                problems.append(f"object class {c!r} is not in the schema")
            else:
                known.append(oc.name)
        if known and not any(schema.object_class(c).kind == "STRUCTURAL"  # type: ignore[union-attr]
                             for c in known):
            problems.append("no structural object class (e.g. person, organizationalUnit)")
        structural = [c for c in known
                      if schema.object_class(c).kind == "STRUCTURAL"]  # type: ignore[union-attr]
        chains = [{oc.name.lower() for oc in schema.superclasses(c)} for c in structural]
        if any(not (c.lower() in other or d.lower() in mine)
               for c, mine in zip(structural, chains, strict=True)
               for d, other in zip(structural, chains, strict=True) if c != d):
            problems.append(f"invalid structural object class chain ({'/'.join(structural)}): "
                            "an entry has one structural class (and its superclasses)")
        info = ClassInfo(
            known=known, problems=problems,
            extensible=any(c.lower() == "extensibleobject" for c in known),
            allowed=frozenset(self.canon(a) for a in schema.must(*known) | schema.may(*known)),
            must=frozenset(self.canon(a) for a in schema.must(*known)),
            expanded=self._expand_classes(classes))
        self._class_infos[classes] = info
        return info

    def _expand_classes(self, classes: tuple[str, ...]) -> list[Value]:
        values: list[Value] = list(classes)
        seen = {v.lower() for v in classes}
        for v in classes:
            for oc in self.schema.superclasses(v)[1:]:
                if oc.name.lower() not in seen:
                    seen.add(oc.name.lower())
                    values.append(oc.name)
        return values

    def object_classes(self, entry: Entry) -> list[Value]:
        """objectClass values plus every superclass: slapd and AD match ``(objectClass=person)``
        for an inetOrgPerson entry (slapd's objectSubClassMatch)."""
        classes = entry.attribute_lists().get("objectclass", ())  # entry.get, without its try
        return self.class_info(tuple(map(str, classes))).expanded

    def structural(self, entry: Entry) -> str | None:
        best, depth = None, -1
        for oc in entry.get("objectClass", []):
            c = self.schema.object_class(str(oc))
            if c is not None and c.kind == "STRUCTURAL":
                d = len(self.schema.superclasses(c.name))
                if d > depth:
                    best, depth = c.name, d
        return best

    # -- the rules ---------------------------------------------------------------------------
    def class_problems(self, info: ClassInfo) -> Iterator[Problem]:
        """R1: the object classes are known, one of them structural."""
        for problem in info.problems:
            yield ("schema", problem, problem)

    def allowed_problem(self, info: ClassInfo, a: AttrInfo) -> Problem | None:
        """R2: ``a`` is allowed by the object classes (anything is, with extensibleObject)."""
        if info.known and not info.extensible and a.at is not None and not a.operational \
                and a.canon not in info.allowed:
            text = (f"attribute {a.name!r} is not allowed by the object classes "
                    f"{', '.join(info.known)}")
            return ("schema", text, text)
        return None

    def value_problems(self, a: AttrInfo, values: list[Value]) -> Iterator[Problem]:
        """R3 valid syntax, R4 UTF-8 text, R5 SINGLE-VALUE, R6 no value twice."""
        keys: list[object] | None = None  # the values' keys by the equality rule (R3, R6)
        if a.syntax_checked:
            normalize = a.rule.normalize  # type: ignore[union-attr]
            keys = [normalize(v) for v in values]
            for v, key in zip(values, keys, strict=True):
                if key is None and v != "":
                    shown = _shown(a.name, v)
                    yield ("syntax", f"{shown} is not a valid value for {a.name!r} "
                           f"({a.rule.name}) (invalidAttributeSyntax)",  # type: ignore[union-attr]
                           f"{shown} is not valid for {a.name!r}")
        if a.at is not None and "" in values and \
                (getattr(a.at, "syntax", None) or "").split("{", 1)[0] in NONEMPTY_SYNTAXES:
            yield ("syntax", f"an empty value is not valid for {a.name!r} (a Directory String "
                   "has at least one character) (invalidAttributeSyntax)",
                   f"an empty value is not valid for {a.name!r}")
        if not a.binary and a.at is not None:
            for v in values:
                if v.__class__ is not str:
                    text = f"a value of {a.name!r} is not UTF-8 text"
                    yield ("schema", text, text)
        if len(values) > 1:
            if a.single_value:
                text = f"attribute {a.name!r} is single-valued but has {len(values)} values"
                yield ("schema", text, text)
            if keys is None:
                keys = [a.rule.normalize(v) for v in values] if a.rule else list(values)
            if len(set(keys)) != len(keys):
                yield ("duplicate", f"attribute {a.name!r} has the same value twice "
                       "(attributeOrValueExists)", f"duplicate values in {a.name!r}")

    def must_problems(self, info: ClassInfo, present: Iterable[str]) -> Iterator[Problem]:
        """R7: every MUST attribute of the object classes is present (canonical names)."""
        if info.known and not info.must <= set(present):
            missing = sorted(info.must - set(present))
            names = [self.attr_info(m, "", "").name for m in missing]  # known: no error
            text = (f"missing required attribute{'s' if len(names) > 1 else ''} "
                    f"{', '.join(names)} (MUST of {', '.join(info.known)})")
            yield ("schema", text, text)

    def report(self, problem: Problem, dn: str, where: str) -> None:
        """Raise the problem's error, or (lenient) note it in :attr:`warnings`."""
        kind, strict, lenient = problem
        if kind in ("schema", "naming"):
            if self.lenient:
                self.warnings.append(f"{dn}{where}: {strict}")
                return
            raise ObjectClassViolation(
                strict + where, dn=dn, code=64 if kind == "naming" else 65,
                result="namingViolation" if kind == "naming" else "objectClassViolation")
        if not self.lenient:
            if kind == "syntax":
                raise SchemaError(f"{dn}{where}: {strict}", code=21,
                                  result="invalidAttributeSyntax")
            raise OperationError(f"{dn}{where}: {strict}", result="attributeOrValueExists",
                                 code=20)
        self.warnings.append(f"{dn}{where}: {lenient}")

    def user_attributes(self, entry: Entry) -> None:
        """A client's add may not give attributes the server maintains (NO-USER-MODIFICATION:
        entryUUID, createTimestamp ...): slapd refuses with constraintViolation."""
        for name in entry:
            at = self.schema.attribute_type(name.split(";", 1)[0])
            if at is not None and at.no_user_modification:
                raise OperationError(f"{entry.dn}: {name}: no user modification allowed "
                                     f"({at.name!r} is maintained by the server)",
                                     result="constraintViolation", code=19)

    # -- checking ----------------------------------------------------------------------------
    def check(self, entry: Entry, ndn: str, *, where: str, owned: bool = False) -> Entry:
        """A copy of ``entry`` with canonical attribute names and typed values, after checking
        it against the rules (or, lenient, noting what is wrong).  This is the bulk-load hot
        path: an entry the fast path passes is done; any other goes through
        :meth:`full_check`, which finds and words every problem.  ``owned``: nobody else holds
        ``entry`` (a bulk load's own reader made it), so the copy may take its value lists
        as they are rather than copies of them."""
        plan = self.fast_plan(entry)
        if plan is not None:
            out = self.quick_check(entry, ndn, plan, owned)
            if out is not None:
                return out
        return self.full_check(entry, ndn, where=where)

    def fast_plan(self, entry: Entry) -> FastPlan | None:
        """The :class:`FastPlan` for ``entry``'s attribute names (None: there is none)."""
        names = tuple(entry)
        plan = self._fast_plans.get(names, _NO_PLAN)
        if plan is _NO_PLAN:
            plan = None
            schema = self.schema
            if all(schema.attribute_type(n.split(";", 1)[0]) is not None for n in names):
                infos = [self.attr_info(n, entry.dn, "") for n in names]  # known: no errors
                if len({a.key_lower for a in infos}) == len(infos):
                    plan = FastPlan(tuple(n.lower() for n in names), infos)
            self._fast_plans[names] = plan
        return plan  # type: ignore[return-value]

    def fast_values(self, entry: Entry, plan: FastPlan,
                    owned: bool = False) -> dict[str, list[Value]] | None:
        """Canonical key -> a copy of the value list (``owned``: the list itself), binary
        values as bytes; None when a text attribute has a value that is not a str (R4: the
        full path words it)."""
        src = entry.attribute_lists()
        if owned:  # never changed in place (see ldapnb.entry): the lists can move as they are
            attrs = dict(zip(plan.keys, src.values() if plan.same else plan.sources(src),
                             strict=False))
        elif plan.same:
            attrs = {k: v.copy() for k, v in zip(plan.keys, src.values(), strict=False)}
        else:
            attrs = dict(zip(plan.keys, map(list.copy, plan.sources(src)), strict=False))
        if plan.binary:
            texts: Iterable[list[Value]] = plan.text(attrs)
            for key in plan.binary:
                attrs[key] = [v.encode("utf-8") if v.__class__ is str else v
                              for v in attrs[key]]
        else:
            texts = attrs.values()
        if not _STR.issuperset(map(type, itertools.chain.from_iterable(texts))):
            return None
        return attrs

    def quick_check(self, entry: Entry, ndn: str, plan: FastPlan,
                    owned: bool = False) -> Entry | None:
        """The checked copy of ``entry`` when the rules plainly pass (see the module
        docstring), else None.  What depends only on the attribute names and the objectClass
        values is judged once per plan, by the rule functions themselves."""
        if not plan.oc:
            return None  # no objectClass: R1, which the full check words
        typed = self.fast_values(entry, plan, owned)
        if typed is None:
            return None
        attrs: dict[str, list[Any]] = typed  # all str, but for binary attributes
        classes = attrs["objectclass"]
        if classes != plan.classes:  # not the last entry's (fine) objectClass values
            oc_key = tuple(classes)
            fine = plan.by_classes.get(oc_key)
            if fine is None:
                fine = plan.by_classes[oc_key] = self._classes_fine(plan, oc_key)
            if not fine:
                return None
            plan.classes = classes
        else:  # the same values: the entries of one kind share one list (never changed in
            attrs["objectclass"] = plan.classes  # place, see ldapnb.entry)
        lists = attrs.values()
        for vals in lists:  # an empty value: R3 for Directory Strings, worded by full_check
            if "" in vals:
                return None
        # the usual entry: one value for every attribute but objectClass (R5, R6 cannot fail)
        singles = all(lists) and sum(map(len, lists)) == len(lists) - 1 + len(classes)
        checked = plan.checked
        try:
            if singles and plan.integers:
                # R3 for the INTEGER attributes, one value each: one match for them all (a
                # value holding the separator changes the count, and goes the long way)
                joined = "\n".join(map(_FIRST, plan.integers(attrs)))
                if _INTEGERS.fullmatch(joined) is None or \
                        joined.count("\n") != plan.n_integers:
                    return None
                checked = plan.not_integers
            for key, normalize in checked:  # R3, one value
                vals = attrs[key]
                if len(vals) == 1 and normalize(vals[0]) is None:
                    return None
        except (ValueError, TypeError, OverflowError):
            return None
        if not singles:  # R3-R6 for attributes with more values, by the rules themselves
            for key, a in plan.multi:
                vals = attrs[key]
                if len(vals) > 1:
                    for _problem in self.value_problems(a, vals):
                        return None
        if ndn and not self._naming_fine(entry.dn, attrs, plan):
            return None
        return Entry.from_lists(entry.dn, attrs, plan.names, plan.options)

    def _naming_fine(self, dn: str, attrs: dict[str, list[Any]], plan: FastPlan) -> bool:
        """R8, sufficiently: each RDN value is one of the attribute's values as written, and
        valid for its equality rule (then :meth:`has_value` holds).  The RDN is usually one
        plain AVA of the type the last entry of this kind had: its prefix ("uid=") and what
        the test needs are kept in ``plan.naming``."""
        end = dn.find(",")
        if end < 0:
            end = len(dn)
        last = plan.naming
        if last is not None and dn.startswith(last[0]) and \
                _RDN_SPECIAL.search(dn, 0, end) is None:
            value = dn[len(last[0]):end].strip()
            _prefix, low, rule, text = last
            named = attrs.get(low)
            return bool(named) and value in named and (  # type: ignore[operator]
                rule is None or (text and value.isascii() and value.isprintable())
                or rule.normalize(value) is not None)
        avas = rdn_avas(dn)
        for attr, value in avas:
            naming = self._naming.get(attr)
            if naming is None:
                if self.schema.attribute_type(attr.split(";", 1)[0]) is None:
                    return False
                key = self.canon_description(attr)
                rule = self.eq_rule(key)
                naming = self._naming[attr] = (
                    key.lower(), rule, rule is None or rule.name in _TEXT_RULES)
            low, rule, text = naming
            named = attrs.get(low)
            if not named or value not in named:
                return False
            if rule is not None and not (text and value.isascii() and value.isprintable()) \
                    and rule.normalize(value) is None:
                return False
        if len(avas) == 1 and _RDN_SPECIAL.search(dn, 0, end) is None \
                and dn.startswith(avas[0][0] + "="):
            plan.naming = (avas[0][0] + "=", *self._naming[avas[0][0]])
        return True

    def _classes_fine(self, plan: FastPlan, classes: tuple[str, ...]) -> bool:
        """True when entries with ``plan``'s attribute names and these objectClass values
        pass every rule that depends on those alone: R1, R2, R7, and R3-R6 on the
        objectClass values (asked of the rule functions, once per plan and classes)."""
        info = self.class_info(classes)
        if not info.known:
            return False
        for _problem in self.class_problems(info):
            return False
        infos = plan.infos
        if any(self.allowed_problem(info, a) for a in infos):
            return False
        for _problem in self.must_problems(info, (a.canon for a in infos)):
            return False
        a = infos[plan.keys.index("objectclass")]
        if a.binary or a.syntax_checked:
            return False
        for _problem in self.value_problems(a, list(classes)):
            return False
        return True

    def full_check(self, entry: Entry, ndn: str, *, where: str) -> Entry:
        """:meth:`check` done attribute by attribute, saying what is wrong."""
        out = self.convert(entry, where, trusted=False)
        dn = entry.dn
        info = self.class_info(tuple(str(c) for c in out.get("objectClass", ())))
        for problem in self.class_problems(info):
            self.report(problem, dn, where)
        infos = self._attr_infos
        present = set()
        for name, vals in out.items():
            a = infos.get(name) or self.attr_info(name, dn, where)
            present.add(a.canon)
            allowed = self.allowed_problem(info, a)
            if allowed is not None:
                self.report(allowed, dn, where)
            for problem in self.value_problems(a, vals):
                self.report(problem, dn, where)
        for problem in self.must_problems(info, present):
            self.report(problem, dn, where)
        if ndn:  # R8
            for attr, value in rdn_avas(dn):
                key = self.canon_description(attr)
                if not self.has_value(key, list(out.get(key, [])), value):
                    text = (f"naming attribute {attr}={value!r} of the DN is not among the "
                            "entry's values")
                    self.report(("naming", text, text), dn, where)
        return out

    # -- converting --------------------------------------------------------------------------
    def convert(self, entry: Entry, where: str, *, trusted: bool = True,
                owned: bool = False) -> Entry:
        """``entry`` with canonical attribute names and values typed (bytes for binary
        syntaxes), without the rules: the trusted bulk-load path, kept tight.  Entries of one
        kind share their attribute names, so the per-name work is planned once for each
        distinct list of names."""
        if trusted:
            fast = self.fast_plan(entry)
            if fast is not None:
                typed = self.fast_values(entry, fast, owned)
                if typed is not None:
                    return Entry.from_lists(entry.dn, typed, fast.names, fast.options)
        src = entry.attribute_lists()
        attrs: dict[str, list[Value]] = {}
        names: dict[str, str] = {}
        plan = self._convert_plans.get(tuple(src))
        if plan is None:
            plan = self._convert_plan(entry, where, trusted)
        for key, low, spelled, binary in plan:
            values = src[key]
            if binary:
                vals = [v.encode("utf-8") if v.__class__ is str else v for v in values]
            elif bytes in map(type, values):
                vals = [_text_or_bytes(v) for v in values]
            else:
                vals = values.copy()
            if low in attrs:
                attrs[low].extend(vals)
            else:
                attrs[low] = vals
                names[low] = spelled
        return Entry.from_lists(entry.dn, attrs, names)

    def _convert_plan(self, entry: Entry, where: str,
                      trusted: bool) -> list[tuple[str, str, str, bool]]:
        """(source key, canonical key lower-cased, canonical spelling, binary?) per attribute
        of ``entry``; cached by the entry's list of attribute keys."""
        plan = []
        src = entry.attribute_lists()
        for key, name in zip(src, entry, strict=True):
            if trusted:  # unknown types are noted, not refused
                lenient, self.lenient = self.lenient, True
                try:
                    a = self.attr_info(name, entry.dn, where)
                finally:
                    self.lenient = lenient
            else:
                a = self.attr_info(name, entry.dn, where)
            plan.append((key, a.key_lower, a.key, a.binary))
        if trusted or all(self._attr_infos.get(name) for name in entry):
            self._convert_plans[tuple(src)] = plan
        return plan

    def attr_info(self, name: str, dn: str, where: str) -> AttrInfo:
        """Everything the rules need to know about an attribute description, cached."""
        a = self._attr_infos.get(name)
        if a is not None:
            return a
        base = name.split(";", 1)[0]
        at = self.schema.attribute_type(base)
        if at is None:
            if not self.lenient:
                raise SchemaError(f"{dn}{where}: attribute type {base!r} is not in the schema "
                                  "(undefinedAttributeType)", code=17,
                                  result="undefinedAttributeType")
            if base.lower() not in self.unknown_types:
                self.unknown_types[base.lower()] = base
                self.warnings.append(f"{dn}{where}: unknown attribute type {base!r} kept, "
                                     "matched as a case-insensitive string")
            key = self.canon_description(name)
            a = AttrInfo(key, key.lower(), base.lower(), base, None, False,
                         False, False, matching.rule("caseIgnoreMatch"), False)
        else:
            rule = matching.rule(at.equality) if at.equality else None
            key = self.canon_description(name)
            binary = self.schema.is_binary(name)
            if ";binary" in name.lower() and \
                    (at.syntax or "").split("{", 1)[0] not in BINARY_TRANSFER:
                text = (f"{name}: option \"binary\" not supported with type {at.name!r} "
                        "(only certificates are transferred with ;binary) "
                        "(undefinedAttributeType)")
                if not self.lenient:
                    raise SchemaError(f"{dn}{where}: {text}", code=17,
                                      result="undefinedAttributeType")
                self.warnings.append(f"{dn}{where}: {text}; kept as {at.name!r} values")
                binary = at.binary
            a = AttrInfo(key, key.lower(), at.name.lower(), at.name, at,
                         at.operational, binary, at.single_value, rule,
                         rule is not None and rule.name in SYNTAX_CHECKED)
        self._attr_infos[name] = a
        return a


def _shown(attribute: str, value: object) -> str:
    """A value for a message: masked for a secret attribute (userPassword ...)."""
    from ..secrets import MASK, is_secret

    return repr(MASK) if is_secret(attribute) else repr(value)
