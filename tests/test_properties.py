"""Property tests across the parsers and the embedded directory's writes (issue 10).

Every case ends in a correct answer or an ``LdapnbError``; a write that is refused leaves the
directory exactly as it was.  Budgets are scaled by ``LDAPNB_FUZZ`` (``make fuzz`` sets it to
20); under ``make test`` hypothesis runs derandomized (the ``ci`` profile in conftest.py), so a
run is repeatable.  ``tests/test_properties.py`` plus the older property tests in
test_dn/test_filters/test_ldif/... run more than 100,000 cases (counted with
``pytest --hypothesis-show-statistics``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ldapnb import Directory, dn, filters, ldif
from ldapnb.entry import Entry
from ldapnb.errors import DnError, FilterError, LdapnbError, LdifError

FACTOR = float(os.environ.get("LDAPNB_FUZZ", "1"))
CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
FIXTURES = Path(__file__).resolve().parents[1] / "ldapnb" / "fixtures"


def budget(n: int) -> int:
    return max(1, int(n * FACTOR))


def fast(n: int) -> settings:
    return settings(max_examples=budget(n), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])


# --------------------------------------------------------------------------------------------
# DN
# --------------------------------------------------------------------------------------------
_dn_chars = st.sampled_from(list("cnoudCNOUD=,+;\\\"#<> .-0123456789abfAF\x00\r\u00e9\u4e2d")
                            + ["\\2C", "\\,", "OID.2.5.4.3=", "cn=", "#04", "\\ "])


@fast(15_000)
@given(st.one_of(st.text(max_size=60), st.lists(_dn_chars, max_size=25).map("".join)))
def test_dn_any_text_parses_or_raises_dn_error(text: str) -> None:
    try:
        rdns = dn.parse(text)
    except DnError as exc:
        assert exc.position is None or 0 <= exc.position <= len(text)
        return
    # what parses prints back to a DN that parses to the same RDNs and normalises the same
    printed = dn.to_string(rdns)
    assert dn.parse(printed) == rdns
    assert dn.normalize(printed) == dn.normalize(text)
    assert dn.normalize(dn.normalize(text)) == dn.normalize(text)
    assert dn.depth(text) == len(rdns)


_value_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_type = st.sampled_from(["cn", "CN", "ou", "dc", "uid", "2.5.4.3", "givenName", "x-y"])
_rdn = st.lists(st.tuples(_type, _value_text), min_size=1, max_size=3,
                unique_by=lambda ava: ava[0].lower()).map(tuple)


@fast(8_000)
@given(st.lists(_rdn, max_size=5))
def test_dn_print_parse_round_trip_any_value(rdns: list) -> None:
    text = dn.to_string(rdns)
    assert dn.parse(text) == [tuple((t, v) for t, v in r) for r in rdns]
    assert dn.unescape_value(dn.escape_value(rdns[0][0][1])) == rdns[0][0][1] if rdns else True
    if rdns:
        assert dn.rdn(text) == dn.to_string([rdns[0]])
        assert dn.parent(text) == (dn.to_string(rdns[1:]) if len(rdns) > 1 else None) or \
            dn.parent(text) == ""


@fast(2_000)
@given(st.one_of(st.none(), st.integers(), st.floats(), st.binary(max_size=4),
                 st.lists(st.text(max_size=3), max_size=2)))
def test_dn_functions_given_non_text_raise_typed_errors(bad: object) -> None:
    for call in (dn.parse, dn.normalize, dn.parent, dn.rdn, dn.depth, dn.escape_value,
                 dn.unescape_value, lambda x: dn.equal(x, "dc=x"),
                 lambda x: dn.is_descendant(x, "dc=x"), lambda x: dn.join("cn=a", x)):
        with pytest.raises(LdapnbError):
            call(bad)  # type: ignore[operator]


# --------------------------------------------------------------------------------------------
# filters
# --------------------------------------------------------------------------------------------
_attr = st.sampled_from(["cn", "sn", "mail", "objectClass", "uidNumber", "member", "2.5.4.3",
                         "cn;lang-en", "description", "userPassword", "telephoneNumber"])
_fvalue = st.one_of(st.text(max_size=8), st.binary(max_size=4),
                    st.sampled_from(["*", "(", ")", "\\", "\x00", "Alice", "20240101000000Z"]))
_leaf = st.one_of(
    st.builds(filters.Equality, _attr, _fvalue),
    st.builds(filters.GreaterOrEqual, _attr, _fvalue),
    st.builds(filters.LessOrEqual, _attr, _fvalue),
    st.builds(filters.Approx, _attr, _fvalue),
    st.builds(filters.Present, _attr),
    st.builds(lambda a, i, f: filters.Substrings(a, i, (), f), _attr,
              st.none() | st.text(min_size=1, max_size=4),
              st.text(min_size=1, max_size=4)),
    st.builds(filters.Extensible, _attr, st.sampled_from([None, "caseExactMatch",
                                                          "1.2.840.113556.1.4.803"]),
              st.text(max_size=5), st.booleans()),
)
_tree = st.recursive(_leaf, lambda kids: st.one_of(
    st.lists(kids, max_size=3).map(lambda c: filters.And(tuple(c))),
    st.lists(kids, max_size=3).map(lambda c: filters.Or(tuple(c))),
    kids.map(filters.Not)), max_leaves=8)

_ENTRIES = None


def _sample_entries() -> list[Entry]:
    global _ENTRIES
    if _ENTRIES is None:
        _ENTRIES = list(Directory.embedded("tiny").entries())
    return _ENTRIES


@fast(10_000)
@given(_tree)
def test_filter_trees_print_parse_and_evaluate(f: filters.Filter) -> None:
    text = filters.to_string(f)
    assert filters.parse(text) == f
    compiled = filters.compile(f)
    for e in _sample_entries()[:4]:
        assert filters.evaluate(f, e) == compiled(e)
        assert filters.evaluate(f, e) in (True, False, None)
    shown = filters._show_filter(f)
    if "userPassword" not in text:
        assert shown == text


_ftext = st.one_of(
    st.text(max_size=50),
    st.lists(st.sampled_from(list("()&|!=*~<>:\\") + ["cn", "userPassword", "=x", "\\2a",
                                                       ":dn:", "1.2.3", ";x"]),
             max_size=30).map("".join))


@fast(14_000)
@given(_ftext)
def test_filter_any_text_parses_or_raises_filter_error(text: str) -> None:
    try:
        f = filters.parse(text)
    except FilterError as exc:
        assert exc.position is None or 0 <= exc.position <= len(text)
        assert len(exc.filter) == len(text)  # masked, never shortened: the caret still fits
        return
    assert filters.parse(filters.to_string(f)) == f


_secret_attr = st.sampled_from(["userPassword", "USERPASSWORD", "userPassword;binary",
                                "2.5.4.35", "unicodePwd", "ms-Mcs-AdmPwd", "msLAPS-Password",
                                "sambaNTPassword", "krbPrincipalKey", "pwdHistory"])
_planted = st.text(alphabet="QZXJKW", min_size=6, max_size=10).map(lambda s: "S3" + s)


@fast(8_000)
@given(_secret_attr, _planted, st.sampled_from(["=", ">=", "<=", "~=", ":caseExactMatch:="]),
       st.sampled_from(["", ")", "(", "\\z", "\\", "*", "\x00", "((", "(cn=x)"]),
       st.sampled_from(["", "(&", "(|(cn=a)", "(!"]))
def test_filter_errors_never_show_a_secret_value(attr: str, secret: str, op: str, tail: str,
                                                 head: str) -> None:
    text = f"{head}({attr}{op}{secret}{tail}"
    try:
        f = filters.parse(text)
    except FilterError as exc:
        assert secret not in str(exc) and secret not in exc.filter
        assert secret[2:5] not in str(exc)
    else:
        assert secret not in filters._show_filter(f)


@fast(300)
@given(st.integers(min_value=filters.MAX_DEPTH + 1, max_value=6_000),
       st.sampled_from(["and", "or", "not"]))
def test_filter_objects_nested_too_deep_are_refused_when_built(depth: int, kind: str) -> None:
    f: filters.Filter = filters.Equality("cn", "x")
    with pytest.raises(FilterError, match="nested more than"):
        for _ in range(depth):
            f = (filters.And((f,)) if kind == "and" else filters.Or((f,)) if kind == "or"
                 else filters.Not(f))
    assert filters.to_string(f)  # the deepest one that was built still prints


# --------------------------------------------------------------------------------------------
# LDIF
# --------------------------------------------------------------------------------------------
def _corpus_lines() -> list[str]:
    lines: list[str] = []
    for folder in (CORPORA / "openldap", FIXTURES):
        for path in sorted(folder.glob("*.ldif")):
            lines.extend(path.read_text(encoding="utf-8", errors="replace").splitlines()[:400])
    return lines or ["dn: cn=x", "cn: x"]


_LINES = _corpus_lines()
_line = st.sampled_from(_LINES)


def _mutate(lines: list[str], cuts: list[tuple[int, int, str]]) -> str:
    out = list(lines)
    for where, how, junk in cuts:
        if not out:
            break
        i = where % len(out)
        if how == 0:
            del out[i]
        elif how == 1:
            out.insert(i, junk)
        elif how == 2:
            out[i] = out[i][: len(out[i]) // 2]
        elif how == 3:
            out[i] = out[i] + junk
        else:
            out[i] = " " + out[i]
    return "\n".join(out) + "\n"


@fast(10_000)
@given(st.lists(_line, min_size=1, max_size=25),
       st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 4),
                          st.sampled_from(["", "-", ":", "::", ": x", ":: !!", "dn:",
                                           "changetype: modify", "add: cn", "\u00e9",
                                           "version: 1", "#", "control: 1.2"])),
                max_size=4))
def test_ldif_mutated_real_exports_read_or_raise_ldif_error(lines: list[str],
                                                          cuts: list) -> None:
    text = _mutate(lines, cuts)
    try:
        records = list(ldif.loads_records(text))
    except LdifError as exc:
        assert exc.line is None or 1 <= exc.line <= text.count("\n") + 1
        return
    for r in records:
        assert isinstance(r.dn, str)


@fast(15_000)
@given(st.one_of(st.binary(max_size=120), st.text(max_size=120)))
def test_ldif_any_input_reads_or_raises_ldif_error(data: bytes | str) -> None:
    try:
        list(ldif.loads_records(data))
    except LdifError:
        pass


_names = st.sampled_from(["cn", "sn", "description", "userPassword", "jpegPhoto;binary",
                          "cn;lang-fr", "2.5.4.4", "x-custom"])
_lvalues = st.one_of(st.text(max_size=20), st.binary(max_size=8).map(lambda b: b + b"\xff"))
_lentries = st.builds(
    Entry, st.text(max_size=20),
    st.lists(st.tuples(_names, st.lists(_lvalues, min_size=1, max_size=3)), max_size=4,
             unique_by=lambda p: p[0].lower()).map(dict))


@fast(5_000)
@given(st.lists(_lentries, max_size=3), st.integers(2, 90))
def test_ldif_dumps_loads_round_trip(entries: list[Entry], width: int) -> None:
    assert ldif.loads(ldif.dumps(entries, width=width)) == entries


# --------------------------------------------------------------------------------------------
# the embedded directory's writes: refused writes change nothing
# --------------------------------------------------------------------------------------------
BASE = "dc=example,dc=com"
_DNS = [BASE, f"ou=People,{BASE}", f"uid=alice,ou=People,{BASE}", f"uid=bob,ou=People,{BASE}",
        f"cn=admins,ou=Groups,{BASE}", f"ou=Groups,{BASE}", f"uid=new,ou=People,{BASE}",
        f"uid=zed,ou=Nope,{BASE}", "cn=rogue", "", "dc=com", f"uid=,ou=People,{BASE}",
        f"UID=Alice, OU=people,{BASE}", "not a dn", f"cn=x+sn=y,ou=People,{BASE}"]
_wattr = st.sampled_from(["cn", "sn", "mail", "uid", "uidNumber", "uidNumber;binary",
                          "description", "objectClass", "entryUUID", "createTimestamp",
                          "userPassword", "telephoneNumber", "unknownAttr", "1bad", "",
                          "2.5.4.3", "member", "title", "gidNumber", "homeDirectory"])
_wvalue = st.sampled_from(["x", "", " ", "\u03a9", "a@b.c", "\u00e9@x", b"\xff", None, 1.5, 3,
                           -1, True, "inetOrgPerson", "organizationalUnit", "person",
                           "groupOfNames", "posixAccount", "top", "organization",
                           f"uid=alice,ou=People,{BASE}", "20240101000000Z", "12ab",
                           "1234", "Alice"])
_wvalues = st.one_of(_wvalue, st.lists(_wvalue, max_size=3))
_attrs = st.dictionaries(_wattr, _wvalues, max_size=6)
_new_person = st.builds(
    lambda extra: {"objectClass": ["inetOrgPerson"], "cn": "N", "sn": "N", **extra},
    st.dictionaries(_wattr, _wvalues, max_size=2))

_op = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(_DNS), st.one_of(_attrs, _new_person)),
    st.tuples(st.just("modify"), st.sampled_from(_DNS),
              st.lists(st.tuples(st.sampled_from(["add", "delete", "replace", "increment",
                                                  "bogus"]), _wattr, _wvalues), max_size=3)),
    st.tuples(st.just("delete"), st.sampled_from(_DNS), st.none()),
    st.tuples(st.just("rename"), st.sampled_from(_DNS),
              st.tuples(st.sampled_from(["uid=zed", "uid=", "cn=x", "uid=alice", "bad", "",
                                         "uid=a+cn=b", "UID=Zed"]),
                        st.sampled_from([None, f"ou=Groups,{BASE}", "cn=nowhere",
                                         f"uid=alice,ou=People,{BASE}"]),
                        st.booleans())),
)


def _state(d: Directory) -> tuple:
    entries = d.entries(attributes=["*", "+"])
    return (tuple(d.naming_contexts), d.base, tuple(sorted(
        (e.dn, tuple(sorted((k.lower(), tuple(repr(v) for v in vals))
                            for k, vals in e.items()))) for e in entries)))


def _apply(d: Directory, op: tuple) -> None:
    kind, target, arg = op
    if kind == "add":
        d.add(target, arg)
    elif kind == "modify":
        d.modify(target, arg)
    elif kind == "delete":
        d.delete(target)
    else:
        new_rdn, superior, delete_old = arg
        d.rename(target, new_rdn, new_superior=superior, delete_old_rdn=delete_old)


def _invariants(d: Directory, before: tuple) -> None:
    assert tuple(d.naming_contexts) == before[0], "a write created or removed a naming context"
    assert d.base == before[1]
    known = {dn.normalize(e.dn) for e in d.entries(attributes=["1.1"])}
    for e in d.entries():
        assert e.dn, "an entry with the empty DN shadows the rootDSE"
        parent = dn.parent(e.dn)
        if dn.normalize(e.dn) not in {dn.normalize(n) for n in d.naming_contexts}:
            assert parent is not None and dn.normalize(parent) in known, e.dn
        for name, values in e.items():
            assert values, f"{e.dn}: {name} has no values"
        for first in dn.rdn_avas(e.dn):
            assert first[1] != "", f"{e.dn}: empty RDN value"


@fast(3_000)
@given(st.lists(_op, min_size=1, max_size=4))
def test_embedded_writes_refused_leave_the_directory_unchanged(ops: list[tuple]) -> None:
    d = Directory.from_entries([e.copy() for e in _sample_entries()])
    for op in ops:
        before = _state(d)
        try:
            _apply(d, op)
        except LdapnbError as exc:
            assert _state(d) == before, f"{op} failed ({exc}) but changed the directory"
            continue
        _invariants(d, before)


# --------------------------------------------------------------------------------------------
# the checker's fast path keeps every rule of the full check
# --------------------------------------------------------------------------------------------
_cattr = st.sampled_from(["cn", "sn", "mail", "uid", "uidNumber", "uidNumber;binary",
                          "description", "title", "gidNumber", "homeDirectory", "entryUUID",
                          "telephoneNumber", "member", "userCertificate;binary", "o", "ou"])
_cvalue = st.sampled_from(["x", "", "\u00e9@x", "a@b.c", "12", "-3", "1x", b"\x30\x00",
                           "uid=a,dc=x", "+1 555", " ", "Alice"])
_classes = st.lists(st.sampled_from(["inetOrgPerson", "person", "posixAccount", "top",
                                     "organizationalUnit", "groupOfNames", "account",
                                     "organization"]), min_size=1, max_size=3, unique=True)


@fast(2_000)
@given(_classes, st.dictionaries(_cattr, st.lists(_cvalue, min_size=1, max_size=2),
                                 max_size=6), st.sampled_from(["cn", "uid", "ou"]))
def test_checker_fast_path_agrees_with_the_full_check(classes: list[str], attrs: dict,
                                                      naming: str) -> None:
    from ldapnb.schema import default_schema
    from ldapnb.sources._checker import Checker

    value = attrs.get(naming, ["x"])[0]
    if not isinstance(value, str) or not value:
        value = "x"
    dn_text = f"{naming}={dn.escape_value(value)},dc=x"
    entry = Entry(dn_text, {"objectClass": classes, **attrs})
    checker = Checker(default_schema(), lenient=False, warnings=[])
    try:
        full: Entry | None = checker.full_check(entry.copy(), dn.normalize(dn_text), where="")
    except LdapnbError:
        full = None
    try:
        plan = checker.fast_plan(entry)
        quick = (checker.quick_check(entry.copy(), dn.normalize(dn_text), plan)
                 if plan is not None else None)
    except LdapnbError:
        assert full is None, f"fast path refused what the full check accepts: {entry!r}"
        return
    if quick is not None:  # the fast path passed it: the full check must pass it, alike
        assert full is not None, f"fast path accepted what the full check refuses: {entry!r}"
        assert quick == full
