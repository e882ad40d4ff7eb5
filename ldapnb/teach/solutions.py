"""The teacher's side of the exercises: one solution per exercise, run by the tests.

A lesson never imports this module and no notebook holds a solution (see the convention in
:mod:`ldapnb.teach.exercises`).  tests/test_exercises.py runs every solution through its
exercise's check and requires a ✓, and tries wrong answers for a hint; so the answer key
here and the checks (which work their answer out from the library) keep each other honest.

A solution returns the arguments of its check, as a tuple.  Most take nothing; those whose
exercise works on something the student made first (a capture, a replication lab, a
diagnosis, a directory) take it as their argument.

>>> from ldapnb.teach import exercises
>>> bool(exercises.check("01.2", *solve("01.2")))
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import oids
from ._checking import SOLUTIONS, _solution, solve

__all__ = ["SOLUTIONS", "solve", "inspect_parameters"]

# -- 00 ----------------------------------------------------------------------------------------
@_solution("00.1")
def _mail_filter() -> tuple[Any, ...]:
    return ("(&(objectClass=inetOrgPerson)(manager=*))",)


# -- 01 ----------------------------------------------------------------------------------------
@_solution("01.1")
def _naming_context() -> tuple[Any, ...]:
    return ("dc=example,dc=com",)


@_solution("01.2")
def _rdn() -> tuple[Any, ...]:
    return ("uid=carol",)


@_solution("01.3")
def _parent() -> tuple[Any, ...]:
    return ("ou=People,dc=example,dc=com",)


@_solution("01.4")
def _mail_class() -> tuple[Any, ...]:
    return ("inetOrgPerson",)


@_solution("01.5")
def _new_person(directory: Any) -> tuple[Any, ...]:
    dn = "uid=grace,ou=People,dc=example,dc=com"
    directory.add(dn, {"objectClass": ["inetOrgPerson"], "uid": ["grace"],
                       "cn": ["Grace Hopper"], "sn": ["Hopper"],
                       "mail": ["grace@example.com"]})
    return (directory, dn)


# -- 02 ----------------------------------------------------------------------------------------
@_solution("02.1")
def _scope() -> tuple[Any, ...]:
    return (2,)


@_solution("02.2")
def _developers() -> tuple[Any, ...]:
    return ("(&(objectClass=person)(title=Dev*))",)


@_solution("02.3")
def _it_not_developers() -> tuple[Any, ...]:
    return ("(&(departmentNumber=IT)(!(title=Developer)))",)


@_solution("02.4")
def _extensible() -> tuple[Any, ...]:
    return ("(ou:dn:=People)",)


@_solution("02.5")
def _bash_accounts() -> tuple[Any, ...]:
    return ("(&(objectClass=posixAccount)(uidNumber>=10100)(loginShell=/bin/bash))",)


# -- 03 ----------------------------------------------------------------------------------------
@_solution("03.1")
def _bind_code() -> tuple[Any, ...]:
    return ("invalidCredentials",)


@_solution("03.2")
def _sasl(directory: Any) -> tuple[Any, ...]:
    import ldap3

    conn = directory.connection()
    conn.authentication, conn.sasl_mechanism = ldap3.SASL, ldap3.PLAIN
    conn.sasl_credentials = (None, "bjensen", "hunter2")
    conn.bind()
    return (conn,)


@_solution("03.3")
def _unsalted() -> tuple[Any, ...]:
    return ("{SHA}",)


@_solution("03.4")
def _strong_hash() -> tuple[Any, ...]:
    from passlib.hash import ldap_pbkdf2_sha512

    return (ldap_pbkdf2_sha512.hash("correct horse battery staple"),)


# -- 04 ----------------------------------------------------------------------------------------
@_solution("04.1")
def _password_readers() -> tuple[Any, ...]:
    return (["alice", "admin"],)


@_solution("04.2")
def _auth_access() -> tuple[Any, ...]:
    return ("bind",)


#: The rules of exercise 04.3: the mail rule before the subtree rule (the first match wins).
ACL_0403 = """
access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to attrs=mail
  by self read
  by * none
access to dn.subtree="ou=People,dc=example,dc=com"
  by users read
  by * none
access to *
  by * read
"""


@_solution("04.3")
def _acl() -> tuple[Any, ...]:
    return (ACL_0403,)


# -- 05-07 (lessons on the wire; their context is a real capture) ------------------------------
@_solution("05.1")
def _password_tag() -> tuple[Any, ...]:
    return ("80",)


@_solution("05.2")
def _bind_size(capture: Any) -> tuple[Any, ...]:
    messages = getattr(capture, "messages", capture)
    bind = [m for m in messages if m.operation == "bindRequest"][0]
    return (capture, len(bind.raw))


@_solution("06.1")
def _untrusted(server: Any, other_ca: Any) -> tuple[Any, ...]:
    from . import wire

    return (wire.capture_bind(server, mode="ldaps", user="uid=alice,ou=People,dc=example,dc=com",
                              password="alice-pw", ca_file=other_ca, check=False),)


@_solution("06.2")
def _name_field() -> tuple[Any, ...]:
    return ("subjectAltName",)


@_solution("07.1")
def _starttls_oid() -> tuple[Any, ...]:
    return (oids.STARTTLS,)


@_solution("07.2")
def _clear_before_tls(capture: Any) -> tuple[Any, ...]:
    return (capture, sum(1 for m in capture.messages if m.protocol == "LDAP"))


# -- 08 ----------------------------------------------------------------------------------------
@_solution("08.1")
def _consumer_write() -> tuple[Any, ...]:
    return ("unwillingToPerform",)


@_solution("08.2")
def _caught_up(lab: Any) -> tuple[Any, ...]:
    carol = "uid=carol,ou=People,dc=example,dc=com"
    lab.cut()
    lab.write(carol, {"title": "Lead Developer"})
    lab.restore()
    return (lab, carol)


@_solution("08.3")
def _repaired(lab: Any) -> tuple[Any, ...]:
    lab.restore()
    return (lab,)


# -- 09 ----------------------------------------------------------------------------------------
@_solution("09.1")
def _first_failure(report: Any) -> tuple[Any, ...]:
    return (report, report.failed[0])


# -- 10 ----------------------------------------------------------------------------------------
@_solution("10.1")
def _uac() -> tuple[Any, ...]:
    return (["NORMAL_ACCOUNT", "DONT_EXPIRE_PASSWORD"],)


@_solution("10.2")
def _in_chain() -> tuple[Any, ...]:
    return (f"(&(objectClass=user)(memberOf:{oids.IN_CHAIN}:="
            "CN=Enterprise Admins,CN=Users,DC=contoso,DC=com))",)


@_solution("10.3")
def _enabled_users() -> tuple[Any, ...]:
    return ("(&(objectClass=user)(!(objectClass=computer))"
            f"(!(userAccountControl:{oids.BIT_AND}:=2)))",)


# -- 11 ----------------------------------------------------------------------------------------
@_solution("11.1")
def _nested_only() -> tuple[Any, ...]:
    return (["adm.novak", "alice.martin", "bruno.costa", "chen.wei", "dana.okafor",
             "frank.mueller", "henry.adams", "svc_backup"],)


@_solution("11.2")
def _high() -> tuple[Any, ...]:
    # the membership plants, then issue 11's rights/delegation/Kerberos plants (fixtures
    # README, "Security posture plants")
    return (["henry.adams", "svc_backup", "APP02$", "svc_scan", "svc_sql", "svc_web",
             "GG_SQL Service", "idubois", "sborg", "WEB01$", "ybrennan", "dsilva",
             "gmsa_sql$", "Pre-Windows 2000 Compatible Access"],)


@_solution("11.3")
def _privilege_chain() -> tuple[Any, ...]:
    return (["Server Team", "Server Operators"],)


def inspect_parameters(function: Callable[..., Any]) -> list[str]:
    """The names of what a solution needs from the student's work (empty: nothing).

    >>> inspect_parameters(SOLUTIONS["01.2"]), inspect_parameters(SOLUTIONS["08.2"])
    ([], ['lab'])
    """
    import inspect

    return list(inspect.signature(function).parameters)


# -- the network lessons' solutions live in their own module ------------------------------------
from . import net_solutions as _net  # noqa: E402,F401 - registers them in SOLUTIONS
