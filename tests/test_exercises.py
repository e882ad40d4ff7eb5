"""Every exercise check accepts the right answer and answers a wrong one with a hint.

A check must never raise: typos, answers of the wrong kind and filters that do not parse all
get a verdict with a hint.  Captures and labs are real (a private slapd from conftest_slapd,
the embedded replication lab); the fixtures' answer key is ldapnb/fixtures/README.md.
"""

from __future__ import annotations

import inspect
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import ldap3
import pytest
from kernels import ipc_kernels

from ldapnb import Directory
from ldapnb import dn as dnlib
from ldapnb.diagnose import diagnose
from ldapnb.directory import fixture_path
from ldapnb.teach import exercises as x
from ldapnb.teach import lessons, solutions, wire
from ldapnb.teach.replication import EmbeddedReplicationLab
from ldapnb.tls import make_certificates

ALICE = "uid=alice,ou=People,dc=example,dc=com"
CAROL = "uid=carol,ou=People,dc=example,dc=com"
DA = "CN=Domain Admins,CN=Users,DC=contoso,DC=com"


def right(v: x.Verdict) -> None:
    assert isinstance(v, x.Verdict) and v.ok, str(v)
    assert v.hint == "" and bool(v) is True


def wrong(v: x.Verdict, *words: str) -> None:
    assert isinstance(v, x.Verdict) and not v.ok, str(v)
    assert bool(v) is False and v.hint, "a wrong answer must come with a hint"
    text = (v.message + " " + v.hint).lower()
    for w in words:
        assert w.lower() in text, f"{w!r} not in {text!r}"


@pytest.fixture(scope="module")
def tiny_server(slapd_factory):
    return slapd_factory(fixture_path("tiny"))


# -- the registry and the verdict ------------------------------------------------------------
def test_every_exercise_is_registered_with_a_question():
    from ldapnb.teach import net_exercises as net

    checks = [n for n in (*x.__all__, *net.__all__) if n.startswith("check_")]
    assert len(x.EXERCISES) == len(checks) == 34 + 9
    for id, ex in x.EXERCISES.items():
        assert ex.id == id and ex.question.endswith(("?", "."))
        assert ex.check.__name__.startswith("check_")
        assert ex.check.__name__ in (*x.__all__, *net.__all__)


@pytest.mark.parametrize("id", sorted(x.EXERCISES))
@pytest.mark.parametrize("junk", [None, 42, "", "(((", object(), ["?"]])
def test_no_answer_ever_raises(id, junk):
    check = x.EXERCISES[id].check
    n = len(inspect.signature(check).parameters)
    v = check(*([junk] * n))
    wrong(v)


def test_every_exercise_has_a_kind_and_a_teacher_solution():
    assert set(solutions.SOLUTIONS) == set(x.EXERCISES)
    assert {ex.kind for ex in x.EXERCISES.values()} <= set(x.KINDS)


CONTEXT_FREE = sorted(id for id, f in solutions.SOLUTIONS.items()
                      if not inspect.signature(f).parameters)


@pytest.mark.parametrize("id", CONTEXT_FREE)
def test_the_teacher_solution_gets_a_tick(id):
    v = x.check(id, *solutions.solve(id))
    right(v)
    assert "✓" in str(v) and "✓ Right" in v._repr_html_()


@pytest.mark.parametrize("id", sorted(x.EXERCISES))
def test_an_unanswered_exercise_says_your_turn_and_never_the_answer(id):
    n = len(inspect.signature(x.EXERCISES[id].check).parameters)
    v = x.check(id, *([...] * n))
    assert not v and not v.answered and "your turn" in str(v) and "Your turn" in v._repr_html_()
    assert "✓" not in str(v) and "✗" not in str(v)


def _answer_texts(args: tuple) -> list[str]:
    """The parts of a solution a hint could give away (long enough to be telling)."""
    texts = []
    for a in args:
        if isinstance(a, str):
            texts.append(a)
        elif isinstance(a, list) and all(isinstance(w, str) for w in a):
            texts.append(" ".join(a))
    return [t.lower() for t in texts if len(t) >= 6]


WRONG = [None, "", "x", "(cn=*)", "uid=nobody", ["nobody"], 0, "read", "{MD5}"]


@pytest.mark.parametrize("id", CONTEXT_FREE)
def test_no_hint_gives_the_answer_away(id):
    answers = _answer_texts(solutions.solve(id))
    for junk in WRONG:
        v = x.check(id, junk)
        if v.ok:
            continue
        said = (v.message + " " + v.hint).lower()
        for a in answers:
            assert a not in said, f"{id}: the hint for {junk!r} gives away {a!r}: {said}"


def test_check_by_id():
    assert x.check("01.2", "uid=carol").ok
    v = x.check("42.1", "anything")
    wrong(v, "01.1")
    assert x.question("01.2") == x.EXERCISES["01.2"].question


def test_verdict_shows_in_text_and_html():
    v = x.check_rdn("carol")
    assert "[01.2] ✗ not yet" in str(v) and "hint:" in str(v)
    assert "Not yet" in v._repr_html_() and "attribute=value" in v._repr_html_()
    ok = x.check_rdn("UID=carol")
    assert "✓ right" in str(ok) and "Right" in ok._repr_html_()


# -- 01 ------------------------------------------------------------------------------------------
def test_01_directory():
    right(x.check_naming_context("DC=Example, DC=COM"))
    wrong(x.check_naming_context("ou=People,dc=example,dc=com"), "inside")
    wrong(x.check_naming_context("dc=example,dc=org"), "rootDSE")
    wrong(x.check_naming_context("example.com"), "DN")
    right(x.check_rdn("uid=carol"))
    wrong(x.check_rdn(CAROL), "first part")
    wrong(x.check_rdn("carol"), "attribute=value")
    wrong(x.check_rdn("uid=alice"), "first part")
    right(x.check_parent("ou=people, dc=example, dc=com"))
    wrong(x.check_parent("ou=People"), "naming context")
    wrong(x.check_parent(CAROL), "drop")
    right(x.check_mail_class("inetOrgPerson"))
    right(x.check_mail_class("INETORGPERSON"))
    wrong(x.check_mail_class("person"), "does not allow mail", "d.schema.may")
    wrong(x.check_mail_class("posixAccount"), "alice['objectClass']")


# -- 02 ------------------------------------------------------------------------------------------
def test_02_search():
    right(x.check_scope_count(2))
    right(x.check_scope_count("2"))
    wrong(x.check_scope_count(11), "'sub'")
    wrong(x.check_scope_count(1), "'base'")
    wrong(x.check_scope_count(6), "naming context")   # the count under ou=People
    wrong(x.check_scope_count("six"), "number")
    right(x.check_filter_developers("(title=Dev*)"))
    right(x.check_filter_developers("(&(objectClass=person)(title=dev*))"))
    wrong(x.check_filter_developers("(title=Developer"), "position")
    wrong(x.check_filter_developers("(title=*Dev*)(x=y)"), "parse")
    wrong(x.check_filter_developers("(objectClass=person)"), "should not", "FilterTutor")
    wrong(x.check_filter_developers("(uid=carol)"), "misses", "uid=dave")
    right(x.check_filter_it_not_developers("(&(departmentNumber=IT)(!(title=Developer)))"))
    wrong(x.check_filter_it_not_developers("(uid=bob)"), "NOT")
    wrong(x.check_filter_it_not_developers("(departmentNumber=IT)"), "should not")
    right(x.check_filter_extensible("(ou:dn:=People)"))
    wrong(x.check_filter_extensible("(|(uid=*)(ou=People))"), ":dn:")
    wrong(x.check_filter_extensible("(objectClass=*)"), "should not")


def test_02_debug_a_filter_that_finds_nobody():
    broken = "(&(objectClass=posixAccount)(uidNumber>=10100)(loginShell=bash))"
    wrong(x.check("02.5", broken), "WHOLE value")
    right(x.check("02.5", "(&(objectClass=posixAccount)(uidNumber>=10100)(loginShell=/bin/bash))"))
    right(x.check("02.5", "(&(uidNumber>=10100)(loginShell=/bin/bash))"))
    wrong(x.check("02.5", "(&(uidNumber>=10100)(loginShell=*bash))"), "no SUBSTR rule")
    wrong(x.check("02.5", "(&(objectClass=posixAccount)(loginShell=/bin/bash))"), "also finds")
    # employeeNumber has no ORDERING rule: Undefined, so nobody, as on a real server
    wrong(x.check("02.5", "(&(employeeNumber>=10100)(loginShell=/bin/bash))"), "finds 0")


@pytest.mark.slapd
def test_02_ordering_is_what_a_real_slapd_answers(slapd_factory):
    """The lesson's claims, on a real slapd: uidNumber orders, employeeNumber is Undefined."""
    server = slapd_factory(fixture_path("example"))
    with Directory.connect(server.urls["ldaps"], user=server.rootdn, password=server.rootpw,
                           ca_file=server.ca_file) as real:
        embedded = Directory.embedded("example")
        for f in ("(uidNumber>=10100)", "(employeeNumber>=1000)", "(employeeNumber=*)",
                  "(&(objectClass=posixAccount)(uidNumber>=10100)(loginShell=/bin/bash))",
                  "(&(objectClass=posixAccount)(uidNumber>=10100)(loginShell=bash))",
                  "(&(uidNumber>=10100)(loginShell=*bash))"):
            assert {dnlib.normalize(n) for n in real.search(f).dn} == \
                {dnlib.normalize(n) for n in embedded.search(f).dn}, f
        assert len(real.search("(uidNumber>=10100)")) == 18
        assert len(real.search("(employeeNumber>=1000)")) == 0
        assert len(real.search("(employeeNumber=*)")) == 248


# -- 00 and 01: build and debug ------------------------------------------------------------------
def test_00_fix_the_filter():
    wrong(x.check("00.1", "(objectClass=inetOrgPerson)(manager=*)"), "(&...)")
    wrong(x.check("00.1", "(manager=*)"), "combine")
    wrong(x.check("00.1", "(objectClass=inetOrgPerson)"), "should not")
    wrong(x.check("00.1", "(|(objectClass=inetOrgPerson)(manager=*))"), "should not")
    right(x.check("00.1", "(&(manager=*)(objectClass=inetOrgPerson))"))


def test_01_add_a_person():
    d = Directory.embedded("tiny")
    grace = "uid=grace,ou=People,dc=example,dc=com"
    wrong(x.check("01.5", d, grace), "not in your directory", "d.add")
    wrong(x.check("01.5", "d", grace), "Directory")
    wrong(x.check("01.5", d, "cn=grace,ou=People,dc=example,dc=com"), "RDN")
    wrong(x.check("01.5", d, "uid=grace,ou=Groups,dc=example,dc=com"), "ou=People")
    d.add(grace, {"objectClass": ["account"], "uid": ["grace"]})
    wrong(x.check("01.5", d, grace), "no mail", "d.schema.may")
    d.delete(grace)
    right(x.check("01.5", *solutions.solve("01.5", d)))


# -- 03 ------------------------------------------------------------------------------------------
def test_03_strong_hash():
    from passlib.hash import ldap_pbkdf2_sha256, ldap_pbkdf2_sha512

    from ldapnb import passwords

    pw = "correct horse battery staple"
    right(x.check("03.4", ldap_pbkdf2_sha512.hash(pw)))
    right(x.check("03.4", ldap_pbkdf2_sha256.hash(pw).encode()))
    right(x.check("03.4", passwords.hash_password(pw, "{CRYPT}")))
    wrong(x.check("03.4", ldap_pbkdf2_sha512.using(rounds=1000).hash(pw)), "1000 iterations")
    wrong(x.check("03.4", ldap_pbkdf2_sha512.hash("something else")), "does not verify")
    for weak in ("{SSHA}", "{SHA}", "{SSHA512}"):
        wrong(x.check("03.4", passwords.hash_password(pw, weak)), "one round")
    wrong(x.check("03.4", pw), "as it is")
    wrong(x.check("03.4", "{CRYPT}" + __import__("passlib.hash").hash.md5_crypt.hash(pw)),
          "old and fast")
    wrong(x.check("03.4", "{ARGON2}$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$abc"))


# -- 03 ------------------------------------------------------------------------------------------
def test_03_bind_code_and_scheme():
    right(x.check_failed_bind_code(49))
    right(x.check_failed_bind_code("invalidcredentials"))
    wrong(x.check_failed_bind_code("noSuchObject"), "which DNs exist")
    wrong(x.check_failed_bind_code(53), "empty password")
    wrong(x.check_failed_bind_code("oops"), "conn.result")
    right(x.check_unsalted_scheme("{SHA}"))
    right(x.check_unsalted_scheme("sha"))
    wrong(x.check_unsalted_scheme("{SSHA}"), "salted")
    wrong(x.check_unsalted_scheme("{CRYPT}"), "salt")
    wrong(x.check_unsalted_scheme("cleartext"), "not hashed")


def _sasl(d: Directory, mechanism: str, creds: tuple | None) -> ldap3.Connection:
    conn = d.connection()
    conn.authentication = ldap3.SASL
    conn.sasl_mechanism = mechanism
    conn.sasl_credentials = creds
    conn.bind()
    return conn


def test_03_sasl_bind():
    d = Directory.embedded("example")
    right(x.check_sasl_bind(_sasl(d, ldap3.PLAIN, (None, "bjensen", "hunter2"))))
    right(x.check("03.2", *solutions.solve("03.2", d)))
    wrong(x.check_sasl_bind(_sasl(d, ldap3.PLAIN, (None, "bjensen", "nope"))), "not bound")
    wrong(x.check_sasl_bind(_sasl(d, ldap3.PLAIN, (None, "tjones", "password1"))), "bjensen")
    wrong(x.check_sasl_bind(_sasl(d, ldap3.EXTERNAL, None)), "PLAIN")
    wrong(x.check_sasl_bind(d.connection("uid=bjensen,ou=Engineering,ou=People,dc=example,"
                                         "dc=org", "hunter2")), "ldap3.SASL")
    wrong(x.check_sasl_bind("bjensen"), "Connection")


# -- 04 ------------------------------------------------------------------------------------------
def test_04_authorization():
    right(x.check_password_readers(["alice", "admin"]))
    right(x.check_password_readers("Admin, Alice"))
    wrong(x.check_password_readers("alice admin anonymous"), "auth")
    wrong(x.check_password_readers(["alice", "admin", "bob"]), "by * none")
    wrong(x.check_password_readers(["alice"]), "rootdn")
    wrong(x.check_password_readers(["admin"]), "self write")
    wrong(x.check_password_readers(["root"]), "choose among")
    right(x.check_auth_access("bind"))
    wrong(x.check_password_readers(["alice"]), "rootdn")
    assert "cn=admin" not in x.check_password_readers(["alice"]).hint
    wrong(x.check_auth_access("read"), "access levels", "Admin Guide")
    assert "bind" not in x.check_auth_access("read").hint  # the hint names no answer


@pytest.mark.slapd
def test_04_write_an_acl_that_works_on_a_real_slapd():
    right(x.check("04.3", *solutions.solve("04.3")))
    strict = solutions.ACL_0403.replace("access to attrs=mail\n  by self read\n  by * none\n", "")
    wrong(x.check("04.3", strict), "bob can read alice's mail")
    wrong(x.check("04.3", strict.replace(
        'access to dn.subtree="ou=People,dc=example,dc=com"',
        'access to dn.subtree="ou=People,dc=example,dc=com"\n  by anonymous read')),
        "anonymous still sees")
    late_mail = solutions.ACL_0403.replace(
        "access to attrs=mail\n  by self read\n  by * none\n", "").replace(
        "access to *", "access to attrs=mail\n  by self read\n  by * none\naccess to *")
    wrong(x.check("04.3", late_mail), "first 'access to'")
    no_auth = solutions.ACL_0403.replace("  by anonymous auth\n", "", 1)
    wrong(x.check("04.3", no_auth), "cannot log in")
    wrong(x.check("04.3", "access to nothing by"), "slapd refused")
    wrong(x.check("04.3", "access to * by * read"), "anonymous still sees")


def test_04_without_slapd_the_acl_exercise_says_so(monkeypatch):
    monkeypatch.setenv("LDAPNB_NO_SLAPD", "1")
    wrong(x.check("04.3", solutions.ACL_0403), "needs a real slapd")


# -- 05-07: real captures through the tap ---------------------------------------------------------
def test_05_wire(tiny_server):
    right(x.check_password_tag("80"))
    right(x.check_password_tag("0x80"))
    right(x.check_password_tag(0x80))
    wrong(x.check_password_tag("04"), "OCTET STRING")
    wrong(x.check_password_tag("60"), "bindRequest")
    wrong(x.check_password_tag("zz"), "WireViewer")
    capture = wire.capture_bind(tiny_server, mode="plain", user=ALICE, password="alice-pw")
    bind = capture.find("bindRequest")[0]
    right(x.check_bind_request_size(capture, len(bind.raw)))
    right(x.check("05.2", *solutions.solve("05.2", capture)))
    right(x.check_bind_request_size(capture.messages, len(bind.raw)))
    wrong(x.check_bind_request_size(capture, bind.fields[0].length), "tag byte")
    wrong(x.check_bind_request_size(capture, 3), "bytes")
    ldaps = wire.capture_bind(tiny_server, mode="ldaps", user=ALICE, password="alice-pw")
    wrong(x.check_bind_request_size(ldaps, 60), "plain")


def test_05_without_a_server_the_ldap3_bytes_work_too():
    messages = wire.decode_stream(lessons.ldap3_bind_bytes(ALICE, "alice-pw"))
    right(x.check_bind_request_size(messages, len(messages[0].raw)))


def test_06_untrusted_capture(tiny_server, tmp_path):
    other = make_certificates(tmp_path).ca_file
    untrusted = wire.capture_bind(tiny_server, mode="ldaps", user=ALICE, password="alice-pw",
                                  ca_file=other, check=False)
    right(x.check_untrusted_capture(untrusted))
    right(x.check("06.1", *solutions.solve("06.1", tiny_server, other)))
    trusted = wire.capture_bind(tiny_server, mode="ldaps", user=ALICE, password="alice-pw")
    wrong(x.check_untrusted_capture(trusted), "other CA")
    plain = wire.capture_bind(tiny_server, mode="plain", user=ALICE, password="alice-pw")
    wrong(x.check_untrusted_capture(plain), "mode='ldaps'")
    refused = wire.capture_bind(tiny_server, mode="ldaps", user=ALICE, password="wrong",
                                check=False)
    wrong(x.check_untrusted_capture(refused), "not on the certificate")
    wrong(x.check_untrusted_capture("capture"), "Capture")


def test_06_name_field():
    right(x.check_name_field("subjectAltName"))
    right(x.check_name_field("SAN"))
    right(x.check_name_field("Subject Alternative Name"))
    wrong(x.check_name_field("CN"), "RFC 6125")
    wrong(x.check_name_field("issuer"), "DNS:")


def test_07_starttls(tiny_server):
    right(x.check_starttls_oid("1.3.6.1.4.1.1466.20037"))
    wrong(x.check_starttls_oid("1.3.6.1.4.1.1466.20036"), "right arc")
    wrong(x.check_starttls_oid("636"), "requestName")
    capture = wire.capture_bind(tiny_server, mode="starttls", user=ALICE, password="alice-pw")
    right(x.check_cleartext_before_tls(capture, 2))
    right(x.check("07.2", *solutions.solve("07.2", capture)))
    wrong(x.check_cleartext_before_tls(capture, 3), "protocol")
    plain = wire.capture_bind(tiny_server, mode="plain", user=ALICE, password="alice-pw")
    wrong(x.check_cleartext_before_tls(plain, 2), "StartTLS capture")
    wrong(x.check_cleartext_before_tls([], 2), "capture")


# -- 08 ------------------------------------------------------------------------------------------
def test_08_replication():
    right(x.check_consumer_write("unwillingToPerform"))
    right(x.check_consumer_write(53))
    wrong(x.check_consumer_write("referral"), "updateref")
    wrong(x.check_consumer_write("success"), "lab.consumer")
    with EmbeddedReplicationLab("tiny", latency=0.01) as lab:
        wrong(x.check_caught_up(lab, CAROL), "still the original")   # nothing done yet
        lab.cut()
        lab.write(CAROL, {"title": "Lead Developer"})
        wrong(x.check_caught_up(lab, CAROL), "restore")
        lab.restore()
        right(x.check_caught_up(lab, CAROL))
        wrong(x.check_caught_up(lab, "uid=nobody,ou=People,dc=example,dc=com"), "provider")
    wrong(x.check_caught_up("lab", CAROL), "first argument")
    with EmbeddedReplicationLab("tiny", latency=0.01) as lab:
        right(x.check("08.2", *solutions.solve("08.2", lab)))


def test_08_repair_the_mystery_outage():
    with EmbeddedReplicationLab("tiny", latency=0.01) as lab:
        wrong(x.check("08.3", lab), "mystery_outage")
        dn = x.mystery_outage(lab)
        assert not lab.replicated(dn)
        v = x.check("08.3", lab)
        wrong(v, "context_csn", "status")
        assert "restore" not in v.hint
        right(x.check("08.3", *solutions.solve("08.3", lab)))
    wrong(x.check("08.3", "lab"), "pass the lab")


# -- 09 ------------------------------------------------------------------------------------------
def test_09_first_failure(tiny_server, tmp_path):
    other = make_certificates(tmp_path).ca_file
    report = diagnose(tiny_server.urls["ldaps"], ca_file=str(other), timeout=2)
    first = report.failed[0]
    assert first == "chain trusted"
    right(x.check_first_failure(report, "chain trusted"))
    right(x.check("09.1", *solutions.solve("09.1", report)))
    right(x.check_first_failure(report, "Chain Trusted"))
    skipped = [s.step for s in report if s.status == "skip"]
    if skipped:
        wrong(x.check_first_failure(report, skipped[0]), "skipped")
    wrong(x.check_first_failure(report, "TCP connect"), "first fail")
    wrong(x.check_first_failure(report, "firewall"), "the steps are")
    later = [s for s in report.failed if s != first]
    if later:
        wrong(x.check_first_failure(report, later[0]), "later")
    working = diagnose(tiny_server.urls["ldaps"], ca_file=str(tiny_server.ca_file))
    wrong(x.check_first_failure(working, "bind"), "nothing failed")


def test_09_closed_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    report = diagnose(f"ldap://127.0.0.1:{port}", timeout=1)
    right(x.check_first_failure(report, "TCP connect"))
    wrong(x.check_first_failure(report, "bind"), "skipped")


# -- 10 ------------------------------------------------------------------------------------------
def test_10_uac():
    from ldapnb import ad

    right(x.check_uac(["NORMAL_ACCOUNT", "DONT_EXPIRE_PASSWORD"]))
    right(x.check_uac("dont_expire_password, normal_account"))
    right(x.check_uac(ad.uac_flags(66048)))
    wrong(x.check_uac("NORMAL_ACCOUNT"), "65536")
    wrong(x.check_uac("NORMAL_ACCOUNT DONT_EXPIRE_PASSWORD ACCOUNTDISABLE"), "ACCOUNTDISABLE")
    wrong(x.check_uac("NEVER_EXPIRES"), "not a userAccountControl flag")


EA = "CN=Enterprise Admins,CN=Users,DC=contoso,DC=com"


def test_10_in_chain_filter():
    right(x.check_in_chain_filter(
        f"(&(objectClass=user)(memberOf:1.2.840.113556.1.4.1941:={EA}))"))
    wrong(x.check_in_chain_filter(f"(&(objectClass=user)(memberOf={EA}))"),
          "misses 1", "dana", "in-chain rule follows nested groups")
    wrong(x.check_in_chain_filter(f"(memberOf:1.2.840.113556.1.4.1941:={EA})"),
          "should not")  # the nested groups themselves
    wrong(x.check_in_chain_filter(  # the lesson's own example is another group
        f"(&(objectClass=user)(memberOf:1.2.840.113556.1.4.1941:={DA}))"), "should not")
    names = "(|(sAMAccountName=Administrator)(sAMAccountName=dana.okafor)" \
            "(sAMAccountName=adm.kim))"
    v = x.check_in_chain_filter(names)
    if v.message.startswith("the right entries"):
        wrong(v, "in-chain matching rule")
    else:
        wrong(v)


def test_10_enabled_users_filter():
    wrong(x.check("10.3", "(&(objectClass=user)(userAccountControl=512))"), "66048")
    right(x.check("10.3", "(&(objectClass=user)(!(objectClass=computer))"
                          "(!(userAccountControl:1.2.840.113556.1.4.803:=2)))"))
    wrong(x.check("10.3", "(&(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))"),
          "should not")   # computers are users too, in AD
    wrong(x.check("10.3", "(&(objectClass=user)(!(objectClass=computer)))"), "should not")


# -- 11 ------------------------------------------------------------------------------------------
NESTED = ["adm.novak", "alice.martin", "bruno.costa", "chen.wei", "dana.okafor",
          "frank.mueller", "henry.adams", "svc_backup"]


def test_11_nested_only_matches_the_answer_key():
    right(x.check_nested_only(NESTED))
    right(x.check_nested_only(" ".join(n.upper() for n in NESTED)))
    wrong(x.check_nested_only(NESTED[:-1]), "1 missing")
    wrong(x.check_nested_only([*NESTED, "adm.kim"]), "adm.kim")


def test_11_high_findings_follow_the_audit():
    from ldapnb import audit

    findings = audit.run(Directory.embedded("contoso"), now=datetime(2026, 11, 1, tzinfo=UTC))
    assert set(findings.loc[findings.severity == "high", "check"]) >= {"privileged-no-preauth"}
    # the membership plants, then issue 11's rights/delegation/Kerberos plants (answer key)
    high = ["henry.adams", "svc_backup", "APP02$", "svc_scan", "svc_sql", "svc_web",
            "GG_SQL Service", "idubois", "sborg", "WEB01$", "ybrennan", "dsilva",
            "gmsa_sql$", "Pre-Windows 2000 Compatible Access"]
    right(x.check_high_findings(high))
    wrong(x.check_high_findings(["henry.adams"]), "13 missing")
    wrong(x.check_high_findings([*high, "krbtgt"]), "krbtgt")


def test_11_find_why_an_account_is_privileged():
    right(x.check("11.3", ["Server Team", "Server Operators"]))
    right(x.check("11.3", "server team -> server operators"))
    wrong(x.check("11.3", ["Server Operators"]), "not one of his own groups")
    wrong(x.check("11.3", ["Server Team", "Domain Admins"]), "not the privileged group")
    wrong(x.check("11.3", []), "graph.why")


def test_a_student_changing_their_directory_does_not_change_the_answers():
    d = Directory.embedded("tiny")
    d.modify(CAROL, [("replace", "title", "Manager")])
    right(x.check_filter_developers("(title=Dev*)"))


# -- the lesson helpers these exercises build on (ldapnb.teach.lessons) --------------------------
def test_no_slapd_switch(monkeypatch, capsys):
    monkeypatch.setenv("LDAPNB_NO_SLAPD", "1")
    assert lessons.slapd_available() is False
    assert lessons.using_slapd("the embedded directory") is False
    assert "slapd is not installed: this part shows the embedded directory" in \
        capsys.readouterr().out


def test_visibility_under_slapd_default_rules(tiny_server):
    with Directory.connect(tiny_server.urls["ldaps"], user=tiny_server.rootdn,
                           password=tiny_server.rootpw, ca_file=tiny_server.ca_file) as d:
        seen = lessons.visibility(d, {"anonymous": None, "alice": (ALICE, "alice-pw"),
                                      "bob": ("uid=bob,ou=People,dc=example,dc=com", "bob-pw")},
                                  ALICE, ["cn", "userPassword"])
    assert seen["userPassword"].to_dict() == {"anonymous": False, "alice": True, "bob": False}
    assert seen["cn"].all()
    assert "alice-pw" not in seen.to_string()


def test_tls_front_shows_a_name_mismatch(tiny_server):
    with lessons.TlsFront(tiny_server.host, tiny_server.port) as front:
        facts = lessons.certificate_facts(front.host, front.port)
        assert facts["names"] == ["DNS:ldap.example.org"] and not facts["self_signed"]
        report = diagnose(front.url, ca_file=str(front.ca_file), timeout=2)
        assert report.failed == ["name match"]
        assert report["rootDSE (anonymous)"].status == "pass"  # LDAP behind it works


# -- friendly errors, in a real kernel ------------------------------------------------------------
@pytest.mark.slow  # starts a real ipykernel
def test_friendly_errors_show_one_readable_message_in_a_real_kernel(tmp_path):
    """An LdapnbError in a lesson: its message and a note, not ldapnb's frames; the cell still
    fails; other errors keep their traceback; friendly_errors(False) brings frames back."""
    import nbformat
    from nbclient import NotebookClient

    cells = [
        "from ldapnb import Directory\nfrom ldapnb.teach import exercises\n"
        "d = Directory.embedded('tiny')",
        "d.get('uid=nobody,ou=People,dc=example,dc=com')",
        "d.search('(uid=alice')",
        "1 / 0",
        "from ldapnb.teach import friendly_errors\nfriendly_errors(False)\n"
        "d.get('uid=nobody,ou=People,dc=example,dc=com')",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    for cell in nb.cells[1:]:
        cell.metadata["tags"] = ["raises-exception"]
    sockets = Path(tempfile.mkdtemp(prefix="k-"))  # short: a socket name is <= 107 bytes
    try:
        NotebookClient(nb, timeout=60, kernel_name="python3", config=ipc_kernels(sockets),
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        shutil.rmtree(sockets, ignore_errors=True)

    def error(i):
        outs = [o for o in nb.cells[i].outputs if o.output_type == "error"]
        assert len(outs) == 1, nb.cells[i].outputs
        return outs[0], "\n".join(outs[0].traceback)

    out, text = error(1)
    assert out.ename == "NoSuchEntry"
    assert text.splitlines()[0].startswith("NoSuchEntry: no entry 'uid=nobody,ou=People")
    assert "nearest existing entry above it is 'ou=People,dc=example,dc=com'" in text
    assert "%tb" in text and "File " not in text and "directory.py" not in text
    assert len(text.splitlines()) == 2
    out, text = error(2)
    assert out.ename == "FilterError" and "position" in text and "directory.py" not in text
    out, text = error(3)
    assert out.ename == "ZeroDivisionError" and "%tb" not in text   # not ours: untouched
    out, text = error(4)
    assert out.ename == "NoSuchEntry" and "%tb" not in text and len(text.splitlines()) > 3
