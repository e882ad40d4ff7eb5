"""Differential truth: the embedded directory and a real slapd, loaded with the same data,
give the same answers (issue 3, part 6).

Every case of ``differential_cases.CASES`` is asked of both: the embedded directory
(``Directory.embedded`` / ``EmbeddedDirectory``) and a private OpenLDAP slapd
(``tests/conftest_slapd.py``, one shared server per data set) queried with plain ldap3 as the
rootdn, so access rules hide nothing.  Compared: the result (success, noSuchObject,
sizeLimitExceeded ...), the set of normalised DNs, and for cases that name attributes the
values (raw bytes per attribute, names without regard to case; only memberOf, which slapd's
dynlist overlay computes and sends lower-cased, is compared normalised).  memberOf of every
entry of every data set is compared too, and the matching rules of every attribute type the
data uses.

A difference that is not a bug of the embedded directory is listed in :data:`KNOWN` with the
reason, and asserted as it is: such a case fails if either side changes its answer.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import ldap3
import networkx as nx
import pytest
from conftest_slapd import CORPORA, OPENLDAP_SCHEMAS
from differential_cases import CASES, SUFFIXES, Case
from ldap3.core.exceptions import LDAPInvalidFilterError

from ldapnb import Directory, graph, ldif, matching
from ldapnb.dn import normalize
from ldapnb.entry import Entry
from ldapnb.errors import FilterError, LimitExceeded, NoSuchEntry, OperationError
from ldapnb.schema import DEFAULT_FILES, load_schema
from ldapnb.sources.embedded import EmbeddedDirectory
from ldapnb.sources.slapd import Slapd

pytestmark = pytest.mark.slapd

_SCOPES = {"base": ldap3.BASE, "one": ldap3.LEVEL, "sub": ldap3.SUBTREE}


# -- the data sets, loaded on both sides -------------------------------------------------------
@dataclass(frozen=True)
class DataSet:
    """How one data set is loaded into slapd and into the embedded directory."""

    ldif: Path
    slapd_options: Mapping[str, Any] = field(default_factory=dict)
    fixture: str | None = None          # a bundled fixture: Directory.embedded(fixture)


def _fixture(name: str) -> DataSet:
    from ldapnb.directory import fixture_path

    return DataSet(fixture_path(name), fixture=name)


DATASETS: dict[str, DataSet] = {
    "tiny": _fixture("tiny"),
    "example": _fixture("example"),
    "contoso": _fixture("contoso"),
    # the same options as tests/test_slapd.py, so the session shares one server per file
    "test": DataSet(CORPORA / "test.ldif", {"schemas": OPENLDAP_SCHEMAS}),
    # 60 DNs repeated, some entries breaking their classes' rules: slapadd -c -s keeps the
    # first of each DN and every entry, and the embedded side drops what slapd skipped
    "nis": DataSet(CORPORA / "nis_sample.ldif",
                   {"check_schema": False, "skip_bad_entries": True}),
}


def _embedded(data: DataSet, server: Slapd) -> Directory:
    if data.fixture is not None:
        return Directory.embedded(data.fixture)
    skipped = {line: normalize(dn) for dn, line, _ in server.skipped}
    records = []
    for rec in ldif.read_records(data.ldif):
        if rec.line in skipped:
            assert normalize(rec.dn) == skipped.pop(rec.line), rec.line
            continue
        records.append(rec)
    assert not skipped, f"slapd skipped entries the embedded side did not read: {skipped}"
    source = EmbeddedDirectory(load_schema(*DEFAULT_FILES, "openldap"),
                               lenient=bool(server.skipped) or not
                               data.slapd_options.get("check_schema", True))
    source.load(records, source=data.ldif.name)
    return Directory(source, name=data.ldif.name)


@dataclass
class Pair:
    """Both sides of one data set."""

    embedded: Directory
    server: Slapd
    conn: ldap3.Connection


@pytest.fixture(scope="module")
def pairs(slapd_factory: Callable[..., Slapd]):
    """``pairs(name) -> Pair``: built on first use, shared by the module."""
    made: dict[str, Pair] = {}

    def get(name: str) -> Pair:
        if name not in made:
            data = DATASETS[name]
            server = slapd_factory(data.ldif, **data.slapd_options)
            conn = ldap3.Connection(
                ldap3.Server(server.urls["ldap"], get_info=ldap3.NONE, connect_timeout=5),
                server.rootdn, server.rootpw, auto_bind=True, raise_exceptions=False,
                check_names=False, receive_timeout=10)
            made[name] = Pair(_embedded(data, server), server, conn)
        return made[name]

    yield get
    for pair in made.values():
        pair.conn.unbind()


# -- asking both sides -------------------------------------------------------------------------
@dataclass(frozen=True)
class Answer:
    """What a directory answered: the result name, normalised DNs, and (when asked) values.

    For an error, ``dns`` is empty and ``returned`` counts the entries sent before it (a
    size limit sends that many; which ones is the server's choice, so they are not compared).
    """

    result: str
    dns: frozenset[str] = frozenset()
    returned: int = 0
    values: Mapping[str, Mapping[str, frozenset[bytes]]] | None = None


def _value_sets(attrs: Mapping[str, list[Any]]) -> dict[str, frozenset[bytes]]:
    """Raw bytes per lower-cased attribute description; memberOf normalised (slapd's dynlist
    sends it lower-cased).  Every other value, DNs included, must come back byte for byte."""
    out: dict[str, set[bytes]] = {}
    for name, values in attrs.items():
        computed = name.lower() == "memberof"
        bucket = out.setdefault(name.lower(), set())
        for v in values:
            raw = v.encode("utf-8") if isinstance(v, str) else bytes(v)
            if computed:
                raw = normalize(raw.decode("utf-8")).encode("utf-8")
            bucket.add(raw)
    return {k: frozenset(v) for k, v in out.items() if v}


def ask_slapd(pair: Pair, case: Case) -> Answer:
    """slapd's answer to ``case``, asked with plain ldap3 as the rootdn."""
    conn = pair.conn
    attrs = list(case.attributes) if case.attributes is not None else [ldap3.NO_ATTRIBUTES]
    try:
        conn.search(case.search_base, case.filter, _SCOPES[case.scope], attributes=attrs,
                    size_limit=case.size_limit)
    except LDAPInvalidFilterError:  # ldap3 parses the filter before sending it
        return Answer("filterError")
    entries = [r for r in conn.response or [] if r["type"] == "searchResEntry"]
    result = conn.result["description"]
    if result != "success":
        return Answer(result, returned=len(entries))
    dns = frozenset(normalize(r["dn"]) for r in entries)
    values = None
    if case.attributes is not None:
        values = {normalize(r["dn"]): _value_sets(r["raw_attributes"])
                  for r in entries}
    return Answer(result, dns, values=values)


def ask_embedded(d: Directory, case: Case) -> Answer:
    """The embedded directory's answer to ``case``, its errors named as LDAP result codes."""
    try:
        if case.attributes is None:
            dns = d.source.search_dns(case.search_base, case.scope, case.filter,
                                      size_limit=case.size_limit)
            return Answer("success", frozenset(dns))
        entries = list(d.entries(case.filter, base=case.search_base, scope=case.scope,
                                 attributes=case.attributes, size_limit=case.size_limit))
    except NoSuchEntry:
        return Answer("noSuchObject")
    except LimitExceeded as exc:
        return Answer("sizeLimitExceeded", returned=exc.returned or 0)
    except FilterError:
        return Answer("filterError")
    except OperationError as exc:
        return Answer(exc.result)
    values = {normalize(e.dn): _value_sets(dict(e.items())) for e in entries}
    return Answer("success", frozenset(values), values=values)


def explain(slapd: Answer, embedded: Answer, names: tuple[str, str] = ("slapd", "embedded")
            ) -> str:
    """A short account of how two answers differ (``names``: what to call each)."""
    s_, e_ = names
    lines = []
    if slapd.result != embedded.result:
        lines.append(f"result: {s_} {slapd.result}, {e_} {embedded.result}")
    if slapd.returned != embedded.returned:
        lines.append(f"returned before the error: {s_} {slapd.returned}, "
                     f"{e_} {embedded.returned}")
    if only := sorted(slapd.dns - embedded.dns):
        lines.append(f"only {s_} ({len(only)}): {only[:8]}")
    if only := sorted(embedded.dns - slapd.dns):
        lines.append(f"only {e_} ({len(only)}): {only[:8]}")
    if slapd.values is not None and embedded.values is not None:
        for dn in sorted(slapd.dns & embedded.dns):
            a, b = slapd.values.get(dn, {}), embedded.values.get(dn, {})
            for name in sorted(set(a) | set(b)):
                if a.get(name) != b.get(name):
                    lines.append(f"{dn} {name}: {s_} {sorted(a.get(name, ()))[:4]}, "
                                 f"{e_} {sorted(b.get(name, ()))[:4]}")
    return "\n".join(lines)


# -- models of memberOf, from the groups' member values ------------------------------------------
#: dynlist-attrset group classes (ldapnb.sources.slapd) -> the attribute listing their members
_GROUP_CLASSES = {"groupofnames": "member", "groupofuniquenames": "uniqueMember", "group": "member"}
_UID_SUFFIX = re.compile(r"#'[01]*'B$")
_models: weakref.WeakKeyDictionary[Directory, dict[str, Any]] = weakref.WeakKeyDictionary()


def _entries(d: Directory) -> dict[str, Entry]:
    return {normalize(e.dn): e for e in d.entries()}


def _graph(d: Directory) -> nx.DiGraph:
    cache = _models.setdefault(d, {})
    if "networkx graph" not in cache:
        cache["networkx graph"] = graph.from_entries(d.entries(),
                                                     attributes=("member", "uniqueMember"))
    return cache["networkx graph"]


def member_of_model(d: Directory, model: str) -> dict[str, frozenset[str]]:
    """memberOf of every entry (normalised DN -> normalised group DNs), worked out from the
    groups' ``member``/``uniqueMember`` values, not by either directory:

    ``"graph"``
        the direct groups in :func:`ldapnb.graph.from_entries`'s membership graph (what the
        memberof overlay and AD show: a nested group has memberOf too, and a uniqueMember
        value's optional ``#'0101'B`` UID is dropped);
    ``"dynlist"``
        what slapd 2.5's dynlist overlay shows: no memberOf on an entry that is itself a
        group with members (of a class dynlist expands), and a uniqueMember value carrying a
        UID names nobody (slapd looks the member up with uniqueMemberMatch, which by RFC 4517
        needs a UID on both sides or neither).
    """
    cache = _models.setdefault(d, {})
    if model in cache:
        return cache[model]
    entries = _entries(d)
    out: dict[str, set[str]] = {n: set() for n in entries}
    if model == "graph":
        G = _graph(d)
        for n in entries:
            node = G.graph["index"].get(n)
            if node is not None:
                out[n] = {normalize(g) for g in G.successors(node)} & set(entries)
    else:
        def is_group(e: Entry) -> bool:  # a group with member values (dynlist expands it)
            return any(e.get(_GROUP_CLASSES[str(c).lower()]) for c in e.get("objectClass", [])
                       if str(c).lower() in _GROUP_CLASSES)

        for gndn, group in entries.items():
            for oc in group.get("objectClass", []):
                attr = _GROUP_CLASSES.get(str(oc).lower())
                for v in group.get(attr, []) if attr else []:
                    text = v.decode() if isinstance(v, bytes) else v
                    if not text or (attr == "uniqueMember" and _UID_SUFFIX.search(text)):
                        continue
                    m = normalize(text)
                    if m in entries and not is_group(entries[m]):
                        out[m].add(gndn)
    cache[model] = result = {n: frozenset(g) for n, g in out.items()}
    return result


Expect = Callable[[Directory, Case], Answer]


def members(model: str, group: str) -> Expect:
    """The entries whose memberOf (by ``model``) holds ``group``."""
    def expect(d: Directory, case: Case) -> Answer:
        g = normalize(group)
        return Answer("success", frozenset(
            n for n, groups in member_of_model(d, model).items() if g in groups))
    return expect


def without_member_of(model: str) -> Expect:
    """The entries whose memberOf (by ``model``) is empty."""
    def expect(d: Directory, case: Case) -> Answer:
        return Answer("success", frozenset(
            n for n, groups in member_of_model(d, model).items() if not groups))
    return expect


def with_member_of(model: str | None) -> Expect:
    """The embedded answer for the case's other attributes, with memberOf by ``model``
    (none when ``model`` is None)."""
    def expect(d: Directory, case: Case) -> Answer:
        others = tuple(a for a in case.attributes or () if a.lower() != "memberof")
        plain = ask_embedded(d, replace(case, attributes=others or ("1.1",)))
        assert plain.values is not None
        groups = member_of_model(d, model) if model else {}
        values = {}
        for n, attrs in plain.values.items():
            attrs = dict(attrs)
            if groups.get(n):
                attrs["memberof"] = frozenset(g.encode() for g in groups[n])
            values[n] = attrs
        return Answer("success", plain.dns, values=values)
    return expect


def in_chain(attribute: str, target: str) -> Expect:
    """AD's in-chain rule by :mod:`ldapnb.graph`: ``memberOf`` -> every entry that reaches
    the group ``target`` through memberships (member and uniqueMember), ``member`` -> every
    group that reaches the entry ``target`` through member values.  A group on a cycle
    reaches itself."""
    def expect(d: Directory, case: Case) -> Answer:
        G = _graph(d)
        node = graph.lookup(G, target)
        if attribute == "memberOf":
            found = graph.effective_members(G, node)
        else:
            found = graph.effective_groups(G, node, via={"member"})
        if any(node in cycle for cycle in graph.cycles(G)):
            found.add(node)
        entries = set(_entries(d))
        return Answer("success", frozenset(normalize(n) for n in found) & entries)
    return expect


def every_entry(d: Directory, case: Case) -> Answer:
    return Answer("success", frozenset(
        d.source.search_dns(case.search_base, case.scope, "(objectClass=*)")))


# -- known differences ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Known:
    """A case where slapd and the embedded directory differ for a stated reason.

    ``slapd`` is slapd's answer and ``embedded`` the embedded directory's: an
    :class:`Answer`, or a function of the embedded directory and the case that works it out
    independently (from the groups' member values, with :mod:`ldapnb.graph`).
    """

    reason: str
    slapd: Answer | Expect
    embedded: Answer | Expect


NOTHING = Answer("success")

IN_CHAIN = ("slapd 2.5 has no LDAP_MATCHING_RULE_IN_CHAIN (1.2.840.113556.1.4.1941, an Active "
            "Directory rule): the filter item is Undefined and nothing matches; the embedded "
            "directory answers it as AD does")
DYNLIST_NESTED = ("slapd's dynlist overlay computes no memberOf for an entry that is itself a "
                  "group with members, so (memberOf=G) misses the groups nested in G; the "
                  "memberof overlay and AD list them, as the embedded directory does")
DYNLIST_FIRST = ("slapd 2.5's dynlist answers a (memberOf=G) filter only for its first "
                 "dynlist-attrset (here groupOfNames): G is a groupOfUniqueNames")
DYNLIST_PRESENT = ("slapd's dynlist cannot answer (memberOf=*): nothing matches, although "
                   "memberOf is returned; the embedded directory finds every member")
DYNLIST_NOT_PRESENT = ("(!(memberOf=*)) on slapd: entries without dynlist memberOf, which "
                       "include the nested groups (see the nested-group difference)")
DYNLIST_VALUES = ("memberOf values: slapd's dynlist gives none to a nested group, and none for "
                  "a uniqueMember value with a UID (bjensen#'0101'B in vpn-users); the embedded "
                  "directory gives both, like ldapnb.graph")
DYNLIST_STAR = ("slapd's dynlist returns memberOf with the user attributes ('*'); the embedded "
                "directory, like the memberof overlay and AD (operational attribute), only "
                "when asked for by name")
UNKNOWN_PRESENT = ("presence of an attribute type the server does not know: slapd makes it "
                   "Undefined, so (!(noSuchAttribute=*)) matches nothing; RFC 4511 4.5.1.7.5 "
                   "makes presence False (Undefined is only for the other filter items), so "
                   "the embedded directory matches every entry")
SHARP_S = ("RFC 4518 case folding maps U+00DF to 'ss' (RFC 3454 table B.2), so caseIgnoreMatch "
           "finds Weiß for WEISS; slapd folds character by character and does not")
LDAP3_EMPTY = ("RFC 4526 absolute true (&) and false (|): ldap3 2.9.1's filter parser refuses "
               "them, so slapd is never asked")
LDAP3_STAR = ("RFC 4515 forbids an unescaped '*' in an extensible match value: the embedded "
              "parser refuses it; ldap3 sends it anyway and slapd finds nothing")
EXT_SUBSTR = ("slapd 2.5 does not evaluate a substrings rule in an extensible match (not even "
              "for the attributes its matchingRuleUse lists): Undefined, nothing matches; the "
              "embedded directory matches the assertion as a substrings assertion")


def _k(data: str, filter: str, base: str | None = None, scope: str = "sub",
       attributes: tuple[str, ...] | None = None) -> str:
    return Case(data, filter, base, scope, attributes).key


_EX_GROUPS = "ou=Groups,dc=example,dc=org"
_ENG = "ou=Engineering,ou=People,dc=example,dc=org"
_BJENSEN = f"uid=bjensen,{_ENG}"
_AD_GROUPS = "OU=Groups,OU=Corp,DC=contoso,DC=com"
_ALL = ("*", "memberOf")

KNOWN: dict[str, Known] = {
    # AD's in-chain rule
    **{_k(data, f"({attr}:1.2.840.113556.1.4.1941:={target})"): Known(
        IN_CHAIN, NOTHING, in_chain(attr, target)) for data, attr, target in [
        ("example", "memberOf", f"cn=all-staff,{_EX_GROUPS}"),
        ("example", "memberOf", f"cn=reviewers,{_EX_GROUPS}"),          # on the one cycle
        ("example", "member", _BJENSEN.replace("bjensen", "kjensen")),
        ("contoso", "memberOf", "CN=Domain Admins,CN=Users,DC=contoso,DC=com"),
        ("contoso", "memberOf", "CN=Administrators,CN=Builtin,DC=contoso,DC=com"),
        ("contoso", "memberOf", f"CN=GG_Deep L7,{_AD_GROUPS}"),          # seven levels
        ("contoso", "memberOf", f"CN=GG_Project Phoenix,{_AD_GROUPS}"),  # on the one cycle
        ("contoso", "member", "CN=Alice Martin,OU=IT,OU=Corp,DC=contoso,DC=com"),
    ]},
    # slapd's dynlist overlay (memberOf for slapadd-loaded data)
    **{_k(data, f"(memberOf={group})"): Known(
        DYNLIST_NESTED, members("dynlist", group), members("graph", group))
       for data, group in [
        ("tiny", "cn=developers,ou=groups,dc=example,dc=com"),
        ("example", f"cn=engineering,{_EX_GROUPS}"),
        ("contoso", "CN=Domain Admins,CN=Users,DC=contoso,DC=com"),
        ("contoso", "cn=backup operators,cn=builtin,dc=contoso,dc=com"),
    ]},
    **{_k(data, f"(memberOf={group})"): Known(DYNLIST_FIRST, NOTHING, members("graph", group))
       for data, group in [
        ("example", f"cn=vpn-users,{_EX_GROUPS}"),
        ("test", "cn=ITD Staff,ou=Groups,dc=example,dc=com"),
    ]},
    _k("example", "(memberOf=*)"): Known(
        DYNLIST_PRESENT, NOTHING, lambda d, c: Answer("success", every_entry(d, c).dns
                                                      - without_member_of("graph")(d, c).dns)),
    _k("example", "(!(memberOf=*))"): Known(
        DYNLIST_NOT_PRESENT, without_member_of("dynlist"), without_member_of("graph")),
    **{_k(*args): Known(DYNLIST_VALUES, with_member_of("dynlist"), with_member_of("graph"))
       for args in [
        ("tiny", "(cn=*)", "ou=Groups,dc=example,dc=com", "one", ("member", "cn", "memberOf")),
        ("example", "(objectClass=*)", _BJENSEN, "base", _ALL),
        ("example", "(objectClass=*)", _EX_GROUPS, "one", _ALL),
        ("example", "(objectClass=*)", _BJENSEN, "base",
         ("cn", "jpegPhoto", "memberOf", "noSuchAttribute")),
        ("example", "(uid=*)", _ENG, "one", ("uid", "uidNumber", "memberOf")),
        ("contoso", "(objectClass=group)", _AD_GROUPS, "one", ("member", "memberOf", "groupType")),
        ("contoso", "(objectClass=*)", "CN=Domain Admins,CN=Users,DC=contoso,DC=com", "base",
         _ALL),
        ("contoso", "(objectClass=*)", f"CN=GG_Project Phoenix,{_AD_GROUPS}", "base",
         ("memberOf",)),
    ]},
    _k("tiny", "(objectClass=person)", "ou=People,dc=example,dc=com", "one", ("*",)): Known(
        DYNLIST_STAR, with_member_of("dynlist"), with_member_of(None)),
    # filters
    _k("tiny", "(!(noSuchAttribute=*))"): Known(UNKNOWN_PRESENT, NOTHING, every_entry),
    _k("example", "(sn=WEISS)"): Known(SHARP_S, NOTHING, Answer("success", frozenset(
        {"uid=jweiss,ou=research,ou=people,dc=example,dc=org"}))),
    _k("example", "(&)"): Known(LDAP3_EMPTY, Answer("filterError"), every_entry),
    _k("example", "(|)"): Known(LDAP3_EMPTY, Answer("filterError"), NOTHING),
    _k("example", "(sn:caseIgnoreSubstringsMatch:=jen*)"): Known(
        LDAP3_STAR, NOTHING, Answer("filterError")),
    _k("example", "(sn:caseIgnoreSubstringsMatch:=jen\\2a)"): Known(
        EXT_SUBSTR, NOTHING, Answer("success", frozenset(
            {normalize(_BJENSEN), normalize(_BJENSEN.replace("bjensen", "kjensen"))}))),
    _k("example", "(telephoneNumber:caseIgnoreSubstringsMatch:=\\2a017\\2a)"): Known(
        EXT_SUBSTR, NOTHING,
        lambda d, c: ask_embedded(d, replace(c, filter="(telephoneNumber=*017*)"))),
}


# -- the tests ---------------------------------------------------------------------------------
def test_corpus_is_large_and_covers_every_data_set() -> None:
    assert len(CASES) >= 150
    assert {c.data for c in CASES} == set(DATASETS) == set(SUFFIXES)
    assert {c.scope for c in CASES} == {"base", "one", "sub"}
    assert len({c.key for c in CASES}) == len(CASES), "two cases with the same key"
    assert set(KNOWN) <= {c.key for c in CASES}, "a KNOWN entry names no case"


def _same(got: Answer, want: Answer, what: str, names: tuple[str, str]) -> None:
    """Fail with a short account of the difference (not pytest's diff of two large sets)."""
    if got != want:
        pytest.fail(f"{what}\n" + explain(want, got, names), pytrace=False)


@pytest.mark.parametrize("case", CASES, ids=[c.key for c in CASES])
def test_same_answer(pairs, case: Case) -> None:
    pair = pairs(case.data)
    slapd = ask_slapd(pair, case)
    embedded = ask_embedded(pair.embedded, case)
    known = KNOWN.get(case.key)
    if known is None:
        _same(embedded, slapd, "the embedded directory differs from slapd:",
              ("slapd", "embedded"))
        return
    d = pair.embedded
    want_slapd = known.slapd(d, case) if callable(known.slapd) else known.slapd
    want_embedded = known.embedded(d, case) if callable(known.embedded) else known.embedded
    assert want_slapd != want_embedded, "a known difference that is no difference"
    _same(slapd, want_slapd, f"slapd changed its known answer ({known.reason}):",
          ("known", "slapd"))
    _same(embedded, want_embedded, f"the embedded directory changed its known answer "
                                   f"({known.reason}):", ("expected", "embedded"))


@pytest.mark.parametrize("name", list(DATASETS))
def test_member_of_of_every_entry(pairs, name: str) -> None:
    """memberOf of every entry: each side as its model of memberOf says (see
    :func:`member_of_model`); the two models differ only by DYNLIST_VALUES."""
    pair = pairs(name)
    case = Case(name, "(objectClass=*)", attributes=("memberOf",))
    slapd = ask_slapd(pair, case)
    assert slapd.result == "success" and len(slapd.dns) == len(pair.embedded)
    _same(slapd, with_member_of("dynlist")(pair.embedded, case), "slapd's memberOf:",
          ("dynlist model", "slapd"))
    _same(ask_embedded(pair.embedded, case), with_member_of("graph")(pair.embedded, case),
          "the embedded directory's memberOf:", ("graph model", "embedded"))


# -- the schema both sides judge values by -------------------------------------------------------
_AT_FIELDS = re.compile(r"\b(NAME|SUP|EQUALITY|ORDERING|SUBSTR)\s+(\([^)]*\)|'[^']*'|\S+)")


def slapd_matching_rules(conn: ldap3.Connection) -> dict[str, tuple[str | None, ...]]:
    """Attribute type (lower-case name) -> its (equality, ordering, substr) rules in slapd's
    subschema, inherited through SUP where the definition leaves them out."""
    assert conn.search("cn=Subschema", "(objectClass=*)", ldap3.BASE,
                       attributes=["attributeTypes"]), conn.result
    defs: dict[str, dict[str, str]] = {}
    for raw in conn.response[0]["raw_attributes"]["attributeTypes"]:
        fields = {k: v.strip("'") for k, v in _AT_FIELDS.findall(raw.decode("utf-8"))}
        for name in re.findall(r"'([^']+)'", fields.get("NAME", "")) or [fields.get("NAME")]:
            defs[name.lower()] = fields

    def rules(name: str) -> tuple[str | None, ...]:
        fields = defs[name]
        sup = rules(fields["SUP"].lower()) if "SUP" in fields else (None, None, None)
        return tuple(fields.get(k, inherited)
                     for k, inherited in zip(("EQUALITY", "ORDERING", "SUBSTR"), sup, strict=True))

    return {name: rules(name) for name in defs}


def _rule_oid(name: str | None) -> str | None:
    rule = matching.rule(name) if name else None
    return rule.oid if rule is not None else name


@pytest.mark.parametrize("name", list(DATASETS))
def test_matching_rules_agree_with_slapd(pairs, name: str) -> None:
    """Every attribute type the data uses has the same equality, ordering and substrings
    rules on both sides, and the embedded directory implements each rule slapd uses."""
    pair = pairs(name)
    theirs = slapd_matching_rules(pair.conn)
    used = {a.split(";", 1)[0].lower() for e in pair.embedded.entries() for a in e}
    problems = []
    for attr in sorted(used & set(theirs)):
        at = pair.embedded.schema.attribute_type(attr)
        mine = (at.equality, at.ordering, at.substr) if at is not None else (None,) * 3
        for kind, m, t in zip(("EQUALITY", "ORDERING", "SUBSTR"), mine, theirs[attr],
                              strict=True):
            if _rule_oid(m) != _rule_oid(t):
                problems.append(f"{attr} {kind}: slapd {t}, embedded schema {m}")
            elif t is not None and matching.rule(t) is None:
                problems.append(f"{attr} {kind}: slapd uses {t}, ldapnb.matching lacks it")
    assert not problems, "\n".join(problems)
