"""Exercises for the lessons: the convention, the registry and the checks.

The convention (every lesson follows it; tests/test_notebooks.py checks it)
--------------------------------------------------------------------------
1. A lesson's first code cell imports this module (``from ldapnb.teach import exercises``);
   that also turns on :func:`ldapnb.teach.friendly_errors`: an ldapnb error shows as one
   readable message, not a traceback.
2. An exercise is a markdown cell that asks (``**Exercise 02.5** (debug) ...``), then ONE
   code cell, the student's answer cell, tagged ``exercise`` with the metadata
   ``{"ldapnb": {"exercise": "02.5"}}``::

       answer = ...                    # your answer: replace the ...
       exercises.check("02.5", answer)

   A build or debug exercise has the student write code above the check (an entry to add,
   an ACL to try on a real slapd, a lab to repair) and passes what they built.
3. The check answers with a :class:`Verdict`: a visible ✓ when right; when wrong, what is
   wrong and a *hint* that says where to look, never the answer; while the answer is still
   ``...`` it says "your turn" (so "Run All" runs every lesson without an error).
4. No cell above an exercise prints or asserts its answer, and no notebook holds its
   solution, not even in a hidden cell: a collapsed cell still shows its first line and
   runs on "Run All".  The solutions are the teacher's side, in
   :mod:`ldapnb.teach.solutions`, run by tests/test_exercises.py against these checks; they
   are never imported by a lesson.
5. The checks work the answer out from ldapnb's own library on the bundled fixtures (the
   schema, a real search, the membership graph, the audit, a real slapd), not from a table
   typed in here, so a check cannot drift from what the lesson shows.  A check never
   raises: typos, answers of the wrong kind and filters that do not parse all get a hint.

Kinds: ``"recall"`` (read it from the lesson or the directory), ``"build"`` (make something
that works) and ``"debug"`` (find and fix what is broken); every lesson has at least one
build or debug exercise.

>>> v = check("01.2", "uid=carol")
>>> bool(v), v.exercise
(True, '01.2')
>>> v = check("01.2", "uid=carol,ou=People,dc=example,dc=com")
>>> bool(v), "first" in v.hint
(False, True)
>>> print(check("01.2", ...))
[01.2] ✎ your turn: replace the ... with your answer, then run the cell again.

:data:`EXERCISES` lists every exercise: its id (``"02.3"``: lesson 2, exercise 3), kind,
question and check.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .. import oids
from ..errors import DnError, FilterError, LdapnbError
from ..results import result_name
from ..sources.base import SCOPE_NAMES
from ._checking import (
    EXERCISES,
    KINDS,
    Exercise,
    Verdict,
    _exercise,
    _no,
    _text,
    _words,
    _yes,
    check,
    question,
)

if TYPE_CHECKING:
    from ..directory import Directory

__all__ = [
    "Verdict",
    "Exercise",
    "EXERCISES",
    "KINDS",
    "check",
    "question",
    "check_mail_filter",
    "check_naming_context",
    "check_rdn",
    "check_parent",
    "check_mail_class",
    "check_new_person",
    "check_scope_count",
    "check_filter_developers",
    "check_filter_it_not_developers",
    "check_filter_extensible",
    "check_filter_bash_accounts",
    "check_failed_bind_code",
    "check_sasl_bind",
    "check_unsalted_scheme",
    "check_strong_hash",
    "check_password_readers",
    "check_auth_access",
    "check_acl",
    "check_password_tag",
    "check_bind_request_size",
    "check_untrusted_capture",
    "check_name_field",
    "check_starttls_oid",
    "check_cleartext_before_tls",
    "check_consumer_write",
    "check_caught_up",
    "check_repaired",
    "mystery_outage",
    "check_first_failure",
    "check_uac",
    "check_in_chain_filter",
    "check_enabled_users_filter",
    "check_nested_only",
    "check_high_findings",
    "check_privilege_chain",
]

#: The bundled fixtures' reference date (see ldapnb/fixtures/README.md).
REFERENCE_DATE = datetime(2026, 11, 1, tzinfo=UTC)
TINY_BASE = "dc=example,dc=com"
DOMAIN_ADMINS = "CN=Domain Admins,CN=Users,DC=contoso,DC=com"
ENTERPRISE_ADMINS = "CN=Enterprise Admins,CN=Users,DC=contoso,DC=com"

# -- shared helpers ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _fixture(name: str) -> Directory:
    """A private copy of a bundled fixture (students may change theirs)."""
    from ..directory import Directory

    return Directory.embedded(name)


def _norm_dn(text: str) -> str:
    from .. import dn

    return dn.normalize(text)


def _short(dns: Iterable[str]) -> str:
    from .. import dn

    names = []
    for d in sorted(dns, key=str.lower):
        try:
            names.append(dn.rdn(d))
        except DnError:
            names.append(d)
    return ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")


def _filter_check(id: str, text: Any, directory: Directory, expected: set[str], *,
                  base: str | None = None, need: Callable[[Any], str | None] | None = None
                  ) -> Verdict:
    """Run the student's filter and compare the DNs found with ``expected`` (normalised)."""
    from .. import filters

    if not isinstance(text, str) or not text.strip():
        return _no(id, "a filter is a string such as '(cn=Alice*)'.",
                   "write the filter in quotes, with its parentheses.")
    try:
        parsed = filters.parse(text)
    except FilterError as exc:
        return _no(id, "this filter does not parse.", str(exc))
    found = {_norm_dn(d): d for d in directory.search(text, base=base, attributes=["1.1"]).dn}
    want = {_norm_dn(d): d for d in expected}
    extra = set(found) - set(want)
    missing = set(want) - set(found)
    if extra or missing:
        parts = []
        if missing:
            parts.append(f"it misses {len(missing)}: {_short(want[k] for k in missing)}")
        if extra:
            parts.append(f"it also finds {len(extra)} it should not: "
                         f"{_short(found[k] for k in extra)}")
        hint = "; ".join(parts) + ". Try it in the FilterTutor: its trace says which part of " \
                                  "the filter was true or false for each entry."
        return _no(id, f"your filter finds {len(found)} entries, the answer has {len(want)}.",
                   hint)
    if need is not None:
        problem = need(parsed)
        if problem:
            return _no(id, "the right entries, but not written the way the question asks.",
                       problem)
    return _yes(id, f"your filter finds exactly the {len(want)} expected entries.")


def _walk(f: Any) -> Iterable[Any]:
    yield f
    for child in getattr(f, "children", ()) or ():
        yield from _walk(child)
    inner = getattr(f, "child", None)
    if inner is not None:
        yield from _walk(inner)


# =============================================================================================
# 00 welcome
# =============================================================================================
@_exercise("00.1", "The filter (objectClass=inetOrgPerson)(manager=*) should find the people "
                   "who have a manager, but the directory refuses it. Fix it.", "debug")
def check_mail_filter(filter: Any) -> Verdict:
    """People (inetOrgPerson) with a manager, in the example directory, with one filter."""
    d = _fixture("example")
    expected = {e.dn for e in d.entries() if e.get("manager") and "inetorgperson" in
                {str(c).lower() for c in e.get("objectClass", [])}}

    def need(parsed: Any) -> str | None:
        if not any(type(n).__name__ == "And" for n in _walk(parsed)):
            return "both conditions must hold: combine them in one filter."
        return None

    return _filter_check("00.1", filter, d, expected, need=need)


# =============================================================================================
# 01 what a directory is
# =============================================================================================
@_exercise("01.1", "What is the naming context (the suffix at the top of the tree) of the "
                   "tiny directory? Read it from the rootDSE.")
def check_naming_context(answer: Any) -> Verdict:
    """The tiny directory's naming context, from its rootDSE.

    >>> bool(check_naming_context("DC=Example, DC=com"))
    True
    """
    id = "01.1"
    d = _fixture("tiny")
    text = _text(answer)
    try:
        given = _norm_dn(text)
    except DnError as exc:
        return _no(id, "that is not a DN.", f"a DN looks like 'dc=example,dc=org' ({exc}).")
    want = [_norm_dn(n if isinstance(n, str) else n.decode("utf-8"))
            for n in d.root_dse.get("namingContexts", [])]
    if given in want:
        return _yes(id, f"{text!r} is the naming context: every entry's DN ends with it.")
    if text in d or any(given.endswith("," + w) for w in want):
        return _no(id, f"{text!r} is an entry inside the directory, not its top.",
                   "the naming context is the DN every other DN ends with: look at "
                   "d.root_dse['namingContexts'].")
    return _no(id, f"{text!r} is not in this directory.",
               "read the rootDSE: d.root_dse shows namingContexts.")


@_exercise("01.2", "What is the RDN of Carol's entry, uid=carol,ou=People,dc=example,dc=com?")
def check_rdn(answer: Any) -> Verdict:
    """Carol's RDN (relative distinguished name)."""
    from .. import dn

    id = "01.2"
    text = _text(answer)
    if "=" not in text:
        return _no(id, f"{text!r} is a value, not an RDN.",
                   "an RDN names the attribute too: attribute=value.")
    try:
        rdns = dn.parse(text)
    except DnError as exc:
        return _no(id, "that does not parse as an RDN.", str(exc))
    if len(rdns) > 1:
        return _no(id, "that is a whole DN (several RDNs).",
                   "the RDN is only the first part, before the first comma.")
    if _norm_dn(text) == "uid=carol":
        return _yes(id, "uid=carol names Carol among her siblings under ou=People.")
    return _no(id, f"{text!r} is not Carol's RDN.",
               "take the first part of her DN, before the first comma.")


@_exercise("01.3", "What is the DN of the parent of Carol's entry?")
def check_parent(answer: Any) -> Verdict:
    """The parent of uid=carol,ou=People,dc=example,dc=com."""
    id = "01.3"
    text = _text(answer)
    try:
        given = _norm_dn(text)
    except DnError as exc:
        return _no(id, "that is not a DN.", str(exc))
    if given == "ou=people,dc=example,dc=com":
        return _yes(id, "ou=People,dc=example,dc=com: drop the RDN and what is left is the "
                        "parent's DN.")
    if given == "ou=people":
        return _no(id, "that is the parent's RDN only.", "a DN goes all the way to the top: "
                   "add the naming context.")
    if given.startswith("uid=carol"):
        return _no(id, "that is Carol's own DN.", "drop her RDN (the first part).")
    return _no(id, f"{text!r} is not the parent.",
               "the parent's DN is Carol's DN without its first RDN.")


@_exercise("01.4", "Which of Alice's object classes allows her entry to hold a 'mail' "
                   "attribute?")
def check_mail_class(answer: Any) -> Verdict:
    """The object class among Alice's that has ``mail`` in its MUST or MAY list."""
    id = "01.4"
    d = _fixture("tiny")
    alice = d.get(f"uid=alice,ou=People,{TINY_BASE}")
    classes = [c for c in alice.get("objectClass", []) if isinstance(c, str)]
    schema = d.schema
    allowing = [c for c in classes
                if "mail" in {a.lower() for a in schema.may(c) | schema.must(c)}]
    text = _text(answer)
    if text.lower() in {c.lower() for c in allowing}:
        return _yes(id, f"{text} lists mail among its MAY attributes.")
    if text.lower() in {c.lower() for c in classes}:
        may = sorted(schema.may(text) | schema.must(text), key=str.lower)
        return _no(id, f"{text} is one of Alice's classes, but it does not allow mail.",
                   f"{text} allows {', '.join(may[:10])}...; look at "
                   "d.schema.may(name) for each of her classes.")
    return _no(id, f"{text!r} is not one of Alice's object classes.",
               "answer with one of the names in alice['objectClass'].")


@_exercise("01.5", "Add an entry for a new colleague to YOUR tiny directory: under ou=People, "
                   "named by uid=grace, with a mail address; pass your directory and her DN.",
           "build")
def check_new_person(directory: Any, dn: Any) -> Verdict:
    """An entry uid=grace under ou=People of the student's directory, holding a mail."""
    from .. import dn as dnlib
    from ..directory import Directory

    id = "01.5"
    if not isinstance(directory, Directory):
        return _no(id, "the first argument must be your Directory (d).",
                   "exercises.check('01.5', d, dn).")
    text = _text(dn)
    try:
        given = _norm_dn(text)
    except DnError as exc:
        return _no(id, "the second argument is not a DN.", str(exc))
    if dnlib.rdn(given) != "uid=grace":
        return _no(id, f"the entry is named {dnlib.rdn(text)!r}.",
                   "the question asks for an entry named by her uid: its RDN is attribute=value.")
    if _norm_dn(dnlib.parent(text) or "") != _norm_dn(f"ou=People,{TINY_BASE}"):
        return _no(id, "her entry is not directly under ou=People.",
                   "a DN is the RDN followed by the parent's DN.")
    if text not in directory:
        return _no(id, f"{text!r} is not in your directory yet.",
                   "d.add(dn, {attribute: [values], ...}) adds it; the directory checks the "
                   "object classes' MUST attributes and tells you what is missing.")
    entry = directory.get(text)
    if not entry.get("mail"):
        classes = [str(c) for c in entry.get("objectClass", [])]
        return _no(id, "her entry has no mail.",
                   f"her classes are {', '.join(classes)}: does one of them allow mail? "
                   "d.schema.may(name) says.")
    found = directory.search("(mail=*)", attributes=["1.1"]).dn
    if given not in {_norm_dn(x) for x in found}:  # pragma: no cover - the directory's job
        return _no(id, "a search for (mail=*) does not find her.", "look at her entry: d.get(dn).")
    return _yes(id, f"{text} is in the tree under ou=People, and (mail=*) finds her.")


# =============================================================================================
# 02 search
# =============================================================================================
@_exercise("02.1", "How many entries does a one-level search (scope 'one') under the naming "
                   "context dc=example,dc=com return in the tiny directory?")
def check_scope_count(answer: Any) -> Verdict:
    """The size of a one-level search under dc=example,dc=com in tiny."""
    id = "02.1"
    d = _fixture("tiny")
    base = TINY_BASE
    counts = {s: len(d.search(base=base, scope=s, attributes=["1.1"]))
              for s in SCOPE_NAMES}
    try:
        n = int(answer)
    except (TypeError, ValueError):
        return _no(id, f"{answer!r} is not a number.", "count the rows of "
                   "d.search(base=..., scope='one'): len(...).")
    if n == counts["one"]:
        return _yes(id, f"{n}: the base's children, not the base itself.")
    if n == counts["sub"]:
        return _no(id, f"{n} is what scope 'sub' returns.",
                   "'sub' counts the base entry too; 'one' returns only its children.")
    if n == counts["base"]:
        return _no(id, f"{n} is what scope 'base' returns.",
                   "'base' reads only the base entry; 'one' returns its children.")
    return _no(id, f"{n} is not it.", "run d.search(base=..., scope='one') with the naming "
               "context as the base, and count the rows.")


@_exercise("02.2", "Write a filter that finds the people of the tiny directory whose title "
                   "starts with 'Dev'.")
def check_filter_developers(filter: Any) -> Verdict:
    """A substring filter on title."""
    d = _fixture("tiny")
    expected = {e.dn for e in d.entries() if any(
        str(t).lower().startswith("dev") for t in e.get("title", []))}
    return _filter_check("02.2", filter, d, expected)


@_exercise("02.3", "Write a filter that finds the people in department IT who are not "
                   "Developers (tiny directory).")
def check_filter_it_not_developers(filter: Any) -> Verdict:
    """AND with a NOT."""
    d = _fixture("tiny")
    expected = {e.dn for e in d.entries()
                if "IT" in e.get("departmentNumber", [])
                and "developer" not in {str(t).lower() for t in e.get("title", [])}}

    def need(parsed: Any) -> str | None:
        if not any(type(n).__name__ == "Not" for n in _walk(parsed)):
            return "use a NOT: (!(title=Developer)) inside an AND."
        return None

    return _filter_check("02.3", filter, d, expected, need=need)


@_exercise("02.4", "With an extensible match on the DN (attr:dn:=value), find every entry "
                   "whose DN contains ou=People (tiny directory).")
def check_filter_extensible(filter: Any) -> Verdict:
    """An extensible match with the :dn: flag."""
    from .. import dn

    d = _fixture("tiny")
    people = f"ou=People,{TINY_BASE}"
    expected = {e.dn for e in d.entries() if dn.is_descendant(e.dn, people)}

    def need(parsed: Any) -> str | None:
        for node in _walk(parsed):
            if type(node).__name__ == "Extensible" and getattr(node, "dn_attributes", False):
                return None
        return "write it as an extensible match with the :dn: flag (attribute:dn:=value)."

    return _filter_check("02.4", filter, d, expected, need=need)


@_exercise("02.5", "In the example directory, this filter should find the POSIX accounts "
                   "with a uidNumber of 10100 or more whose login shell is bash, but it finds "
                   "nobody: (&(objectClass=posixAccount)(uidNumber>=10100)(loginShell=bash)). "
                   "Fix it.", "debug")
def check_filter_bash_accounts(filter: Any) -> Verdict:
    """posixAccounts with uidNumber >= 10100 and loginShell /bin/bash (example)."""
    d = _fixture("example")
    expected = set()
    for e in d.entries("(objectClass=posixAccount)"):
        numbers = [int(v) for v in e.get("uidNumber", []) if str(v).isdigit()]
        shells = [str(v) for v in e.get("loginShell", [])]
        if numbers and numbers[0] >= 10100 and any(s.endswith("/bash") for s in shells):
            expected.add(e.dn)

    def need(parsed: Any) -> str | None:
        for node in _walk(parsed):
            if type(node).__name__ in ("GreaterOrEqual", "LessOrEqual") and \
                    str(getattr(node, "attr", "")).lower() == "uidnumber":
                return None
        return "keep the ordering test on uidNumber (>=): it has an ORDERING rule."

    verdict = _filter_check("02.5", filter, d, expected, need=need)
    if not verdict and isinstance(filter, str) and "loginshell=*" in filter.lower():
        return Verdict("02.5", False, verdict.message,
                       "loginShell has no SUBSTR rule in the schema "
                       "(d.schema.attribute_type('loginShell')): a substring test on it is "
                       "Undefined, so false for every entry.")
    if not verdict and isinstance(filter, str) and "loginshell=bash)" in filter.lower():
        return Verdict("02.5", False, verdict.message,
                       "equality compares the WHOLE value: look at what a loginShell value "
                       "really holds (d.get(dn)['loginShell']).")
    return verdict


# =============================================================================================
# 03 bind and authentication
# =============================================================================================
_RESULTS = {code: result_name(code) for code in (0, 7, 32, 48, 49, 50, 53)}


def _result_code(answer: Any) -> tuple[int | None, str]:
    text = _text(answer)
    try:
        code = int(text)
        return code, _RESULTS.get(code, str(code))
    except ValueError:
        for code, name in _RESULTS.items():
            if name.lower() == text.lower():
                return code, name
        return None, text


@_exercise("03.1", "What result code does the server answer to a simple bind as a DN that "
                   "does not exist, with any password (its name or its number)?")
def check_failed_bind_code(answer: Any) -> Verdict:
    """invalidCredentials (49)."""
    id = "03.1"
    code, name = _result_code(answer)
    if code == 49:
        return _yes(id, "invalidCredentials (49): the same answer as a wrong password, so an "
                        "attacker cannot tell which DNs exist.")
    hints = {
        32: "try it (d.connection(dn, password).result): a server must not tell an "
            "attacker which DNs exist.",
        53: "unwillingToPerform is for a DN with an empty password (an unauthenticated bind).",
        50: "insufficientAccessRights is for operations after the bind, refused by an ACL.",
        7: "authMethodNotSupported is for a SASL mechanism the server does not offer.",
        0: "success is a bind that worked.",
    }
    return _no(id, f"{name!r} is not what a wrong password gets.",
               hints.get(code if code is not None else -1,
                         "look at conn.result after the failed bind: 'result' and "
                         "'description'."))


@_exercise("03.2", "Open a connection to the example directory bound as Barbara Jensen "
                   "with SASL PLAIN (authcid 'bjensen'); pass the connection.")
def check_sasl_bind(conn: Any) -> Verdict:
    """A connection bound with SASL PLAIN as bjensen."""
    import ldap3

    id = "03.2"
    if not isinstance(conn, ldap3.Connection):
        return _no(id, "pass the ldap3 Connection itself.",
                   "conn = d.connection(); set conn.authentication, conn.sasl_mechanism and "
                   "conn.sasl_credentials; conn.bind(); then check_sasl_bind(conn).")
    if conn.authentication != ldap3.SASL:
        return _no(id, f"this connection uses {conn.authentication} authentication.",
                   "set conn.authentication = ldap3.SASL before conn.bind().")
    if str(conn.sasl_mechanism).upper() != "PLAIN":
        return _no(id, f"the mechanism is {conn.sasl_mechanism!r}.",
                   "use conn.sasl_mechanism = ldap3.PLAIN (the only one offered here: see "
                   "supportedSASLMechanisms in the rootDSE).")
    if not conn.bound:
        return _no(id, "the connection is not bound.",
                   f"the server said {conn.result.get('description') if conn.result else None}"
                   "; sasl_credentials are (authzid, authcid, password): (None, 'bjensen', "
                   "her password from the fixtures' README).")
    who = str(conn.extend.standard.who_am_i() or "")
    if "uid=bjensen," in who.lower():
        return _yes(id, f"bound by SASL PLAIN; the server says you are {who}.")
    return _no(id, f"bound, but as {who or 'anonymous'}.",
               "the authcid names the user: 'bjensen'.")


@_exercise("03.3", "Among the userPassword values of the example directory, which scheme is "
                   "hashed WITHOUT a salt?")
def check_unsalted_scheme(answer: Any) -> Verdict:
    """{SHA}."""
    id = "03.3"
    text = _text(answer).upper().strip("{}")
    if text == "SHA":
        return _yes(id, "{SHA} is SHA-1 of the password alone: two people with the same "
                        "password get the same value, and precomputed tables crack it.")
    hints = {
        "SSHA": "the first S of {SSHA} stands for salted.",
        "CRYPT": "a {CRYPT}$6$ value carries its salt between the second and third $.",
        "CLEARTEXT": "cleartext is not hashed at all: the question asks for a hash.",
    }
    return _no(id, f"{answer!r} is not the unsalted hash.",
               hints.get(text, "list the schemes with ldapnb.passwords.scheme(value) for each "
                               "userPassword value."))


_SINGLE_ROUND = {"{SHA}", "{SSHA}", "{MD5}", "{SMD5}", "{SHA256}", "{SSHA256}", "{SHA384}",
                 "{SSHA384}", "{SHA512}", "{SSHA512}"}
#: The password exercise 03.4 asks to store.
STRONG_HASH_PASSWORD = "correct horse battery staple"


@_exercise("03.4", "Make a userPassword value for the password 'correct horse battery "
                   "staple' that is salted AND slow to brute-force (not a single-round hash); "
                   "pass the value.", "build")
def check_strong_hash(value: Any) -> Verdict:
    """A {PBKDF2*}, {ARGON2} or iterated {CRYPT} value that verifies the password."""
    from .. import passwords

    id = "03.4"
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str) or not value:
        return _no(id, "pass the value as a string, '{SCHEME}...'.",
                   "a userPassword value starts with its scheme in braces.")
    scheme = passwords.scheme(value)
    if scheme == "cleartext":
        return _no(id, "that is the password as it is: anyone who can read it has it.",
                   "hash it: passlib (installed with ldapnb) has LDAP hash classes.")
    if scheme in _SINGLE_ROUND:
        return _no(id, f"{scheme} is one round of a fast hash: a GPU tries billions a second.",
                   "pick a scheme that iterates many times or costs memory (the table of "
                   "schemes in this lesson).")
    import passlib.hash as ph

    handlers = {"{PBKDF2}": ph.ldap_pbkdf2_sha1, "{PBKDF2-SHA1}": ph.ldap_pbkdf2_sha1,
                "{PBKDF2-SHA256}": ph.ldap_pbkdf2_sha256, "{PBKDF2-SHA512}": ph.ldap_pbkdf2_sha512}
    if scheme in handlers:
        handler = handlers[scheme]
        text = value.replace("{PBKDF2-SHA1}", "{PBKDF2}")
        if not handler.identify(text):
            return _no(id, f"that is not a well-formed {scheme} value.",
                       "make it with passlib rather than by hand.")
        rounds = int(text[text.index("}") + 1:].split("$", 1)[0])
        if not handler.verify(STRONG_HASH_PASSWORD, text):
            return _no(id, "that hash does not verify 'correct horse battery staple'.",
                       "hash exactly that password (spaces included).")
        if rounds < 10000:
            return _no(id, f"only {rounds} iterations.",
                       "OpenLDAP's pw-pbkdf2 uses 10000 by default; passlib's default is more.")
        return _yes(id, f"{scheme} with {rounds} iterations and a salt: each guess costs "
                        f"{rounds} HMACs.")
    if scheme == "{CRYPT}":
        rest = value[len("{CRYPT}"):]
        if not rest.startswith(("$6$", "$5$", "$2b$", "$2y$", "$y$")):
            return _no(id, "that crypt(3) variant is old and fast (DES or MD5).",
                       "use a modern one: sha512-crypt ($6$) or bcrypt ($2b$).")
        if not passwords.verify(STRONG_HASH_PASSWORD, value):
            return _no(id, "that hash does not verify 'correct horse battery staple'.",
                       "hash exactly that password (spaces included).")
        return _yes(id, "an iterated crypt(3) hash with a salt (slapd checks it with the "
                        "system's crypt).")
    if scheme == "{ARGON2}":
        try:
            ok = bool(ph.argon2.verify(STRONG_HASH_PASSWORD, value[len("{ARGON2}"):]
                                       .rstrip("\x00")))
        except Exception as exc:  # noqa: BLE001 - passlib's argon2 needs a backend
            return _no(id, "ldapnb cannot check an {ARGON2} value on this machine "
                           f"({type(exc).__name__}: no argon2 library).",
                       "make a PBKDF2 value with passlib instead; slapd itself can still "
                       "check {ARGON2} with its argon2 module.")
        if not ok:
            return _no(id, "that hash does not verify 'correct horse battery staple'.",
                       "hash exactly that password (spaces included).")
        return _yes(id, "{ARGON2}: salted, slow and memory-hard, the current recommendation.")
    return _no(id, f"ldapnb does not know the scheme {scheme}.",
               "use a scheme the lesson's table lists as slow.")


# =============================================================================================
# 04 authorization
# =============================================================================================
_WHO = ("anonymous", "alice", "bob", "admin")


@_exercise("04.1", "Under the private slapd's default access rules, who can read Alice's "
                   "userPassword: anonymous, alice, bob, admin?")
def check_password_readers(answer: Any) -> Verdict:
    """alice (self) and admin (the rootdn)."""
    id = "04.1"
    given = {w.lower() for w in _words(answer)}
    unknown = given - set(_WHO)
    if unknown:
        return _no(id, f"{', '.join(sorted(unknown))} is not one of the choices.",
                   f"choose among {', '.join(_WHO)}.")
    if given == {"alice", "admin"}:
        return _yes(id, "alice (by self write, which includes read) and admin (the rootdn is "
                        "never limited by access rules).")
    if "anonymous" in given:
        return _no(id, "anonymous cannot read it.",
                   "'by anonymous auth' lets anonymous use the password to bind, not read it.")
    if "bob" in given:
        return _no(id, "bob cannot read it.", "bob is another user: 'by * none'.")
    if "admin" not in given:
        return _no(id, "someone is missing.", "one of the four is the rootdn of the database: "
                   "access rules never limit it. Which one?")
    return _no(id, "someone is missing.", "read the 'by self write' clause again: whose "
               "password is it, and does write include read?")


@_exercise("04.2", "With 'by anonymous auth', what may an anonymous client do with "
                   "userPassword: read, bind, write or nothing?")
def check_auth_access(answer: Any) -> Verdict:
    """bind."""
    id = "04.2"
    text = _text(answer).lower()
    if text in ("bind", "auth", "authenticate"):
        return _yes(id, "auth: the server may compare a bind's password with it; nobody sees it.")
    return _no(id, f"{answer!r} is not it.",
               "'auth' is one of slapd's access levels (none < disclose < auth < compare < "
               "search < read < write): the OpenLDAP Admin Guide, 'Access Control', says what "
               "each one allows.")


_ALICE = f"uid=alice,ou=People,{TINY_BASE}"
_BOB = f"uid=bob,ou=People,{TINY_BASE}"


@_exercise("04.3", "Write slapd access rules for the tiny directory such that: everyone can "
                   "still log in; anonymous sees no entry under ou=People; logged-in users "
                   "read each other's cn; a person's mail is readable by that person only; "
                   "nobody but its owner reads a userPassword. Pass the rules (a string).",
           "build")
def check_acl(acl: Any) -> Verdict:
    """Start a private slapd with the student's ACL and try every requirement for real."""
    import ldap3

    from .lessons import slapd_available

    id = "04.3"
    if not isinstance(acl, str) or "access to" not in acl:
        return _no(id, "pass the rules as one string of 'access to ... by ...' lines.",
                   "start from the rules printed above and change them.")
    if not slapd_available():
        return _no(id, "this exercise needs a real slapd, which is not installed here.",
                   "Debian/Ubuntu: sudo apt-get install slapd ldap-utils (Binder has it).")
    from ..directory import Directory

    try:
        server = Directory.slapd("tiny", acl=acl)
    except LdapnbError as exc:
        return _no(id, "slapd refused these rules.", f"{exc}"[:600])
    with server:
        def read(user: tuple[str, str] | None, base: str, scope: str, attribute: str
                 ) -> tuple[bool, int, bool]:
            conn = server.connection(*(user or (None, None)))
            try:
                if user is not None and not conn.bound:
                    return False, 0, False
                conn.search(base, "(objectClass=*)", scope, attributes=[attribute])
                entries = [r for r in conn.response or [] if r.get("type") == "searchResEntry"]
                got = any(r.get("raw_attributes", {}).get(attribute) for r in entries)
                return True, len(entries), got
            finally:
                conn.unbind()

        alice, bob = (_ALICE, "alice-pw"), (_BOB, "bob-pw")
        people = f"ou=People,{TINY_BASE}"
        problems = []
        for who, creds in (("alice", alice), ("bob", bob)):
            if not server.bind(*creds):
                problems.append((f"{who} cannot log in any more.",
                                 "a simple bind needs 'auth' access to userPassword for the "
                                 "(still anonymous) client that binds: slapd.access(5), "
                                 "'operation requirements'."))
        _, n, _ = read(None, people, ldap3.SUBTREE, "cn")
        if n:
            problems.append((f"anonymous still sees {n} entries under ou=People.",
                             "give anonymous no read (only auth) on the ou=People subtree."))
        _, _, cn = read(bob, _ALICE, ldap3.BASE, "cn")
        if not cn:
            problems.append(("bob cannot read alice's cn.", "logged-in users ('users') need "
                             "read on the people's entries and their cn."))
        _, _, mail = read(bob, _ALICE, ldap3.BASE, "mail")
        if mail:
            problems.append(("bob can read alice's mail.",
                             "the first 'access to' whose what matches wins: a rule for "
                             "attrs=mail must come before the broader one."))
        _, _, own = read(alice, _ALICE, ldap3.BASE, "mail")
        if not own:
            problems.append(("alice cannot read her own mail.", "'by self read' on attrs=mail."))
        _, _, pw = read(bob, _ALICE, ldap3.BASE, "userPassword")
        if pw:
            problems.append(("bob can read alice's userPassword.",
                             "keep the userPassword rule first, ending with 'by * none'."))
    if problems:
        first, hint = problems[0]
        more = f" ({len(problems) - 1} more problem(s) after this one.)" if len(problems) > 1 \
            else ""
        return _no(id, first + more, hint)
    return _yes(id, "a real slapd with your rules: logins work, anonymous sees nothing under "
                    "ou=People, cn is shared, mail and userPassword stay with their owner.")


# =============================================================================================
# 05-07 on the wire
# =============================================================================================
@_exercise("05.1", "In a simple bindRequest, which tag byte (hex) starts the field that "
                   "carries the password?")
def check_password_tag(answer: Any) -> Verdict:
    """0x80: [0], context-specific, primitive: AuthenticationChoice 'simple'."""
    id = "05.1"
    if isinstance(answer, int) and not isinstance(answer, bool):
        value: int | None = answer
    else:
        text = _text(answer).lower().removeprefix("0x")
        try:
            value = int(text, 16)
        except ValueError:
            value = 0x80 if text in ("[0]", "context 0") else None
    if value == 0x80:
        return _yes(id, "80: context-specific tag [0], the 'simple' choice of "
                        "AuthenticationChoice: the password follows its length byte.")
    hints = {0x04: "04 is an OCTET STRING: in a bindRequest it is the name (the DN).",
             0x60: "60 is [APPLICATION 0], the bindRequest itself.",
             0x02: "02 is an INTEGER: the message ID or the version.",
             0x30: "30 is the SEQUENCE around the whole LDAPMessage."}
    return _no(id, f"{answer!r} is not the password's tag.",
               hints.get(value if value is not None else -1,
                         "pick the bindRequest in the WireViewer: the row whose value says "
                         "'the password, in clear'."))


@_exercise("05.2", "How many bytes long is the whole bindRequest message in your capture?")
def check_bind_request_size(capture: Any, answer: Any) -> Verdict:
    """len(bindRequest.raw) of the capture."""
    id = "05.2"
    messages = getattr(capture, "messages", capture)
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Iterable):
        return _no(id, "the first argument must be your capture (or its messages).",
                   "check_bind_request_size(capture, your_number).")
    found = [m for m in messages if getattr(m, "operation", None) == "bindRequest"]
    if not found:
        return _no(id, "this capture holds no readable bindRequest.",
                   "use the plain (port 389) capture: over TLS the bind cannot be read.")
    m = found[0]
    try:
        n = int(answer)
    except (TypeError, ValueError):
        return _no(id, f"{answer!r} is not a number.", "look at the 'bytes' column.")
    if n == len(m.raw):
        return _yes(id, f"{n} bytes: tag, length and content of the LDAPMessage.")
    outer = m.fields[0] if m.fields else None
    if outer is not None and n == outer.length:
        return _no(id, f"{n} is the length written in the header: the content only.",
                   "add the tag byte and the length byte(s) in front of it.")
    return _no(id, f"{n} is not it.", "capture.frame() has a 'bytes' column; or len(m.raw).")


@_exercise("06.1", "Capture a bind over LDAPS while trusting the OTHER CA (check=False); pass "
                   "the capture.")
def check_untrusted_capture(capture: Any) -> Verdict:
    """The capture of an LDAPS bind refused for an untrusted certificate."""
    from ..errors import TlsError

    id = "06.1"
    if not hasattr(capture, "mode") or not hasattr(capture, "error"):
        return _no(id, "pass the Capture that capture_bind returned.",
                   "capture = wire.capture_bind(server, mode='ldaps', ..., ca_file=other_ca, "
                   "check=False).")
    if capture.mode != "ldaps":
        return _no(id, f"this capture used mode={capture.mode!r}.", "use mode='ldaps'.")
    if capture.error is None:
        return _no(id, "that bind worked: the client trusted the certificate.",
                   "give ca_file= the other CA, not the server's own.")
    if not isinstance(capture.error, TlsError):
        return _no(id, f"it failed, but not on the certificate: {capture.error}",
                   "the user and password should be right, only the CA wrong.")
    if capture.bound or capture.password_visible:
        return _no(id, "the password crossed.", "with an untrusted CA nothing should be sent.")
    return _yes(id, "the client refused the certificate before sending anything: the bind "
                    "request never left.")


@_exercise("06.2", "Which field of the server certificate does the client compare with the "
                   "host name it connected to?")
def check_name_field(answer: Any) -> Verdict:
    """subjectAltName."""
    id = "06.2"
    text = _text(answer).lower().replace(" ", "").replace("-", "")
    if text in ("subjectaltname", "san", "subjectalternativename", "subjectalternativenames"):
        return _yes(id, "the subjectAltName: its DNS and IP entries are the names the "
                        "certificate is valid for.")
    if text in ("cn", "commonname", "subject", "subjectcn"):
        return _no(id, "the subject CN is not what modern clients check.",
                   "RFC 6125: the CN is used only when there is no subjectAltName, and many "
                   "clients ignore it altogether.")
    return _no(id, f"{answer!r} is not it.",
               "look at the 'certificate' facts: which entries list DNS: and IP: names?")


@_exercise("07.1", "What is the object identifier (OID) of the StartTLS extended operation?")
def check_starttls_oid(answer: Any) -> Verdict:
    """1.3.6.1.4.1.1466.20037."""
    from .wire import STARTTLS_OID

    id = "07.1"
    text = _text(answer)
    if text == STARTTLS_OID:
        return _yes(id, f"{STARTTLS_OID}: the extendedReq that asks to start TLS.")
    if text.startswith("1.3.6.1.4.1.1466"):
        return _no(id, "close: that is the right arc, not the right number.",
                   "read the requestName of the extendedReq in the capture.")
    return _no(id, f"{answer!r} is not it.",
               "the first message of the StartTLS capture is an extendedReq: its requestName.")


@_exercise("07.2", "In your StartTLS capture, how many LDAP messages crossed in clear before "
                   "TLS began?")
def check_cleartext_before_tls(capture: Any, answer: Any) -> Verdict:
    """The messages decoded as LDAP (not TLS) in a StartTLS capture."""
    id = "07.2"
    if not hasattr(capture, "messages"):
        return _no(id, "the first argument must be your capture.",
                   "check_cleartext_before_tls(capture, your_number).")
    clear = [m for m in capture.messages if m.protocol == "LDAP"]
    try:
        n = int(answer)
    except (TypeError, ValueError):
        return _no(id, f"{answer!r} is not a number.", "count the rows whose protocol is LDAP.")
    if capture.mode != "starttls":
        return _no(id, f"this capture used mode={capture.mode!r}.", "use the StartTLS capture.")
    if n == len(clear):
        names = " and ".join(m.operation for m in clear)
        return _yes(id, f"{n}: the {names}; everything after them is TLS records.")
    return _no(id, f"{n} is not it.", "capture.frame() has a 'protocol' column: count the LDAP "
               "rows before the first TLS one.")


# =============================================================================================
# 08 replication
# =============================================================================================
@_exercise("08.1", "Try to change Bob's title on the consumer (lab.consumer is an ldap3 "
                   "connection to it): what result code does it answer (name or number)?")
def check_consumer_write(answer: Any) -> Verdict:
    """unwillingToPerform (53)."""
    id = "08.1"
    code, name = _result_code(answer)
    if code == 53:
        return _yes(id, "unwillingToPerform (53): a read-only replica refuses writes; they go "
                        "to the provider.")
    if name.lower() == "referral":
        return _no(id, "a consumer configured with 'updateref' answers a referral; this one "
                       "has none.", "look at conn.result after the refused write.")
    return _no(id, f"{name!r} is not it.", "try a write on lab.consumer and read "
               "lab.consumer.result['description'].")


@_exercise("08.2", "Cut the link, change Carol's title on the provider, restore the link; "
                   "pass the lab and Carol's DN.", "build")
def check_caught_up(lab: Any, dn: Any) -> Verdict:
    """The provider's title of ``dn`` differs from the fixture's, the link is up and the
    consumer holds the provider's version."""
    id = "08.2"
    if not hasattr(lab, "replicated"):
        return _no(id, "the first argument must be the lab.", "check_caught_up(lab, dn).")
    provider = lab.read(str(dn), "provider")
    if provider is None:
        return _no(id, f"{dn!r} is not on the provider.", "pass the DN of the entry you changed.")
    try:
        original = _fixture("tiny").get(str(dn)).first("title")
    except LdapnbError:
        original = None
    if original is not None and provider.first("title") == original:
        return _no(id, f"the title on the provider is still the original ({original!r}).",
                   "change it on the provider while the link is cut: lab.write(dn, {...}).")
    if not lab.link_up:
        return _no(id, "the link is still cut.", "lab.restore() brings it back; then wait.")
    try:
        seconds = lab.wait_until_replicated(str(dn), timeout=10)
    except LdapnbError as exc:
        return _no(id, "the consumer has not caught up.", str(exc))
    return _yes(id, f"the consumer caught up (checked in {seconds:.2f} s): same entryCSN on "
                    "both sides.")


_MYSTERY_DN = f"uid=carol,ou=People,{TINY_BASE}"


def mystery_outage(lab: Any) -> str:
    """Break the replication lab in a way the student has to find (exercise 08.3).

    Returns the DN whose change the consumer will not have; what broke is for the student
    to find out with ``lab.status()`` and ``lab.context_csn()``.
    """
    lab.cut()
    lab.write(_MYSTERY_DN, {"telephoneNumber": "+1 555 0108"})
    return _MYSTERY_DN


@_exercise("08.3", "After exercises.mystery_outage(lab), Carol's new telephone number is on the "
                   "provider but not on the consumer. Find why and repair it; pass the lab.",
           "debug")
def check_repaired(lab: Any) -> Verdict:
    """The link is up and the consumer holds the provider's version of Carol's entry."""
    id = "08.3"
    if not hasattr(lab, "replicated"):
        return _no(id, "pass the lab.", "exercises.check('08.3', lab).")
    provider = lab.read(_MYSTERY_DN, "provider")
    phone = provider.first("telephoneNumber") if provider is not None else None
    if phone != "+1 555 0108":
        return _no(id, "the mystery has not happened on this lab.",
                   "run exercises.mystery_outage(lab) first, then investigate.")
    if not lab.link_up:
        csn = lab.context_csn()
        return _no(id, "the consumer is still behind.",
                   "compare lab.context_csn() (provider "
                   f"{str(csn.get('provider'))[:20]}..., consumer "
                   f"{str(csn.get('consumer'))[:20]}...) and read lab.status(): what "
                   "carries changes from one to the other?")
    try:
        seconds = lab.wait_until_replicated(_MYSTERY_DN, timeout=10)
    except LdapnbError as exc:
        return _no(id, "the link is up but the consumer has not caught up.", str(exc))
    return _yes(id, f"the link was cut; restored, the consumer caught up in {seconds:.2f} s "
                    "(same entryCSN on both sides).")


# =============================================================================================
# 09 troubleshooting
# =============================================================================================
@_exercise("09.1", "Which step of this diagnosis failed first (the one to fix)?")
def check_first_failure(report: Any, answer: Any) -> Verdict:
    """The first failed step of a :class:`ldapnb.diagnose.Report`."""
    id = "09.1"
    if not hasattr(report, "failed"):
        return _no(id, "the first argument must be the report.",
                   "check_first_failure(report, 'step name').")
    if not report.failed:
        return _no(id, "nothing failed in this report.", "pick a report of a broken set-up.")
    first = report.failed[0]
    text = _text(answer)
    if text.lower() == first.lower():
        return _yes(id, f"{first}: {report[first].hint or report[first].detail}")
    statuses = {s.step.lower(): s.status for s in report}
    if statuses.get(text.lower()) == "fail":
        return _no(id, f"{text} failed too, but later.",
                   "fix the first failure: the later ones often follow from it.")
    if statuses.get(text.lower()) == "skip":
        return _no(id, f"{text} was skipped, not failed.", "skip means the doctor did not try "
                   "it, because an earlier step failed.")
    if text.lower() in statuses:
        return _no(id, f"{text} is {statuses[text.lower()]}.", "look for the first FAIL, top "
                   "to bottom.")
    return _no(id, f"{text!r} is not a step of this report.",
               f"the steps are {', '.join(s.step for s in report)}.")


# =============================================================================================
# 10 Active Directory
# =============================================================================================
@_exercise("10.1", "Decode userAccountControl 66048: which flags are set?")
def check_uac(answer: Any) -> Verdict:
    """NORMAL_ACCOUNT and DONT_EXPIRE_PASSWORD."""
    from .. import ad

    id = "10.1"
    want = {f.name for f in ad.UAC if f.name and f in ad.uac_flags(66048)}
    if isinstance(answer, ad.UAC):
        given = {f.name for f in ad.UAC if f.name and f in answer}
    else:
        given = {w.upper().removeprefix("UAC.") for w in _words(answer)}
    if given == want:
        return _yes(id, f"66048 = {' + '.join(sorted(want))}: an enabled account whose "
                        "password never expires.")
    known = {f.name for f in ad.UAC if f.name}
    unknown = given - known
    if unknown:
        return _no(id, f"{', '.join(sorted(unknown))} is not a userAccountControl flag.",
                   "ldapnb.ad.uac_flags(66048) decodes it; list(ldapnb.ad.UAC) shows every flag.")
    missing, extra = want - given, given - want
    return _no(id, f"{len(missing)} missing, {len(extra)} too many.",
               "66048 = 65536 + 512: which flags have those values? ldapnb.ad.UAC."
               + (f" Not set: {', '.join(sorted(extra))}." if extra else ""))


@_exercise("10.2", "Write a filter that finds every user effectively in Enterprise Admins "
                   "(nested groups included) with the in-chain matching rule.")
def check_in_chain_filter(filter: Any) -> Verdict:
    """Users in Enterprise Admins through any chain of ``member`` links, by the in-chain rule."""
    from .. import graph

    d = _fixture("contoso")
    G = _contoso_graph()
    members = graph.effective_members(G, ENTERPRISE_ADMINS, via={"member"})
    expected = {m for m in members if G.nodes[m].get("kind") != "group"
                and not m.startswith("<SID=")}

    def need(parsed: Any) -> str | None:
        for node in _walk(parsed):
            if getattr(node, "rule", None) == oids.IN_CHAIN:
                return None
        return "use the in-chain matching rule, as in this lesson's Domain Admins example."

    verdict = _filter_check("10.2", filter, d, expected, need=need)
    if not verdict and isinstance(filter, str) and "1941" not in filter:
        direct = {u for u in G.predecessors(graph.lookup(G, ENTERPRISE_ADMINS))}
        return Verdict(verdict.exercise, False, verdict.message,
                       verdict.hint + f" (Enterprise Admins has {len(direct)} direct members; "
                       "the in-chain rule follows nested groups too.)")
    return verdict


@_exercise("10.3", "The help desk's filter for enabled user accounts, "
                   "(&(objectClass=user)(userAccountControl=512)), misses some of them. Write "
                   "one that finds every enabled user account (not computers), whatever its "
                   "other flags.", "debug")
def check_enabled_users_filter(filter: Any) -> Verdict:
    """Users (not computers) without the ACCOUNTDISABLE bit, with the bitwise rule."""
    from .. import ad

    d = _fixture("contoso")
    expected = set()
    for e in d.entries("(objectClass=user)"):
        classes = {str(c).lower() for c in e.get("objectClass", [])}
        uac = e.first("userAccountControl")
        if "computer" in classes or uac is None:
            continue
        if ad.UAC.ACCOUNTDISABLE not in ad.uac_flags(uac):
            expected.add(e.dn)

    def need(parsed: Any) -> str | None:
        for node in _walk(parsed):
            if getattr(node, "rule", None) in (oids.BIT_AND, oids.BIT_OR):
                return None
        return "test the one bit that means disabled with a bitwise matching rule."

    verdict = _filter_check("10.3", filter, d, expected, need=need)
    if not verdict and isinstance(filter, str) and "userAccountControl=512" in filter:
        return Verdict("10.3", False, verdict.message,
                       "512 is one whole value: an enabled account whose password never "
                       "expires is 66048. Test a single bit instead (ldapnb.ad.UAC).")
    return verdict


@functools.lru_cache(maxsize=1)
def _contoso_graph() -> Any:
    return _fixture("contoso").graph()


# =============================================================================================
# 11 auditing
# =============================================================================================
def _account_names(nodes: Iterable[str]) -> set[str]:
    d = _fixture("contoso")
    out = set()
    for n in nodes:
        if n.startswith("<SID="):
            continue
        try:
            name = d.get(n, ["sAMAccountName"]).first("sAMAccountName")
        except LdapnbError:
            continue
        if isinstance(name, str):
            out.add(name.lower())
    return out


def _names_check(id: str, answer: Any, want: set[str], what: str) -> Verdict:
    given = {w.lower().strip("'\"") for w in _words(answer)}
    if given == want:
        return _yes(id, f"all {len(want)} {what}.")
    missing, extra = want - given, given - want
    hint = []
    if missing:
        hint.append(f"{len(missing)} missing")
    if extra:
        hint.append(f"{len(extra)} should not be there: {', '.join(sorted(extra))}")
    return _no(id, f"you named {len(given)}, the answer has {len(want)}.",
               "; ".join(hint) + ". Answer with sAMAccountNames (e.g. 'adm.kim').")


@_exercise("11.1", "Which accounts of contoso are privileged ONLY through nesting (no direct "
                   "membership of any privileged group)? Give their sAMAccountNames.")
def check_nested_only(answer: Any) -> Verdict:
    """Effectively privileged accounts with no edge into a privileged group."""
    from .. import graph

    G = _contoso_graph()
    privileged = graph.privileged_groups(G)
    effective: set[str] = set()
    direct: set[str] = set()
    for group in privileged:
        effective |= graph.effective_members(G, group)
        direct |= set(G.predecessors(group))
    accounts = {n for n in effective - direct if G.nodes[n].get("kind") != "group"}
    return _names_check("11.1", answer, _account_names(accounts),
                        "accounts privileged only through nesting")


@_exercise("11.2", "Which accounts of contoso have a HIGH severity finding? Give their "
                   "sAMAccountNames.")
def check_high_findings(answer: Any) -> Verdict:
    """The subjects of high findings of :func:`ldapnb.audit.run` at the reference date."""
    from .. import audit

    findings = audit.run(_fixture("contoso"), now=REFERENCE_DATE)
    subjects = findings.loc[findings["severity"] == "high", "subject"]
    return _names_check("11.2", answer, _account_names(subjects), "accounts with high findings")


#: The account of exercise 11.3.
CHAIN_ACCOUNT = "chen.wei"


@_exercise("11.3", "chen.wei is in no privileged group directly, yet the audit counts him as "
                   "privileged. Find why: give the names of the groups in the chain, in order, "
                   "from his first group to the privileged one.", "debug")
def check_privilege_chain(answer: Any) -> Verdict:
    """A shortest membership chain from chen.wei to a privileged group (group names)."""
    from .. import graph

    id = "11.3"
    G = _contoso_graph()
    d = _fixture("contoso")
    account = d.search(f"(sAMAccountName={CHAIN_ACCOUNT})", attributes=["1.1"]).dn[0]
    node = graph.lookup(G, account)
    chains = []
    for group in graph.privileged_groups(G):
        for path in graph.why(G, node, group, all_shortest=True):
            chains.append([str(G.nodes[n].get("label", n)).lower() for n in path[1:]])
    given = [w.strip().strip("'\"").lower() for w in
             (answer.replace("->", ",").split(",") if isinstance(answer, str) else
              _words(answer) if isinstance(answer, Iterable) else [str(answer)])]
    given = [g for g in given if g]
    if not given:
        return _no(id, "give the group names, in order.",
                   "graph.why(G, his DN, group) gives a chain; G.nodes[n]['label'] its names.")
    if given in chains:
        return _yes(id, f"{' -> '.join(given)}: a nested group puts him in a privileged one; "
                        "membership of the privileged group itself hides that.")
    tails = {c[-1] for c in chains}
    if given[-1] not in tails:
        return _no(id, f"{given[-1]!r} is not the privileged group at the end of his chain.",
                   "graph.privileged_groups(G) lists them; which one does he reach?")
    if given[0] not in {c[0] for c in chains}:
        return _no(id, f"{given[0]!r} is not one of his own groups.",
                   "start from the groups whose member list holds his DN.")
    return _no(id, "the chain is not complete or not in order.",
               "from his group, follow each group's memberOf up to the privileged one.")


# -- the network lessons (05.3-07.3, 09.2-09.3, 12.x) live in their own module ------------------
from . import net_exercises as _net  # noqa: E402,F401 - registers its checks in EXERCISES
