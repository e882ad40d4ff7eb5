"""Result codes <-> ldapnb errors: one table (ldapnb.results), used by every source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import ldapnb
from ldapnb import Directory
from ldapnb.errors import (
    BindError,
    EntryAlreadyExists,
    LdapnbError,
    LimitExceeded,
    NoSuchEntry,
    NotAllowedOnNonLeaf,
    ObjectClassViolation,
    OperationError,
    SchemaError,
)
from ldapnb.results import RESULTS, error_for_result, result_code, result_for_error, result_name


@pytest.mark.parametrize("code", sorted(c for c in RESULTS if c not in (0, 5, 6, 14)))
def test_every_failure_code_becomes_a_typed_error_and_back(code: int) -> None:
    error = error_for_result(code, "server text", doing="testing", dn="cn=a,dc=x")
    assert isinstance(error, LdapnbError)
    assert isinstance(error, RESULTS[code].error)
    back, _ = result_for_error(error)
    if code == 11:  # adminLimitExceeded comes back as the size limit it is
        assert back == 4
    elif code == 10:
        assert back == 10 and "referral" in str(error)
    else:
        assert back == code, (code, type(error).__name__)


@pytest.mark.parametrize(("error", "code"), [
    (NoSuchEntry("cn=a"), 32), (EntryAlreadyExists("cn=a"), 68),
    (NotAllowedOnNonLeaf("cn=a", 1), 66), (ObjectClassViolation("x"), 65),
    (ObjectClassViolation("x", code=64), 64), (SchemaError("x", code=17), 17),
    (SchemaError("undefinedAttributeType in the text only"), 65),  # never read from text
    (BindError("x", code=7), 7), (BindError("x"), 49),
    (OperationError("x", code=50), 50), (LimitExceeded("x", kind="time"), 3)])
def test_errors_to_results_by_class_and_code(error: LdapnbError, code: int) -> None:
    assert result_for_error(error)[0] == code


def test_names() -> None:
    assert result_name(49) == "invalidCredentials" and result_code("invalidcredentials") == 49
    assert result_name(999) == "result 999" and result_code("nonsense") is None


@pytest.mark.parametrize(("user", "password", "mechanism", "code"), [
    ("uid=nobody,dc=example,dc=org", b"wrong", None, 49),
    ("uid=nobody,dc=example,dc=org", b"", None, 53),
    ("", b"", "CRAM-MD5", 7)])
def test_embedded_bind_answers_carry_the_code_of_the_error(user, password, mechanism,
                                                           code) -> None:
    from ldap3.protocol.rfc4511 import (
        LDAPDN,
        AuthenticationChoice,
        BindRequest,
        SaslCredentials,
        Simple,
        Version,
    )

    request = BindRequest()  # what ldap3 sends (it refuses some of these before sending)
    request["version"] = Version(3)
    request["name"] = LDAPDN(user)
    auth = AuthenticationChoice()
    if mechanism:
        sasl = SaslCredentials()
        sasl["mechanism"] = mechanism
        auth["sasl"] = sasl
    else:
        auth["simple"] = Simple(password)
    request["authentication"] = auth
    conn = Directory.embedded().connection()
    result = conn.strategy.mock_bind(request, None)
    assert result["resultCode"] == code


def test_no_other_module_has_a_result_code_table() -> None:
    package = Path(ldapnb.__file__).parent
    table = re.compile(r"\b49\s*:\s*\"invalidCredentials\"|\"invalidCredentials\"\s*:\s*49")
    found = [str(p.relative_to(package)) for p in package.rglob("*.py")
             if p.name != "results.py" and table.search(p.read_text(encoding="utf-8"))]
    assert found == []
