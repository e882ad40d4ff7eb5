"""LDAP result codes (RFC 4511 appendix A) and ldapnb's errors, mapped in one place.

Both directions go through the table :data:`RESULTS`:

* :func:`error_for_result` turns a server's non-success result (from a live server, a private
  slapd, ldap3's ``conn.result``, or the fast search's searchResDone) into the ldapnb error
  for it, with a message that says what was being done and what to try;
* :func:`result_for_error` turns one of ldapnb's errors into the result a server would send
  (the embedded directory answering an ``ldap3.Connection``), from the error's class and its
  ``code``, never guessed from the message text.

Examples
--------
>>> result_name(32), result_code("invalidCredentials")
('noSuchObject', 49)
>>> from ldapnb.errors import EntryAlreadyExists
>>> result_for_error(EntryAlreadyExists("cn=a,dc=x"))[0]
68
>>> type(error_for_result(68, doing="adding 'cn=a'", dn="cn=a")).__name__
'EntryAlreadyExists'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import (
    BindError,
    DnError,
    EntryAlreadyExists,
    FilterError,
    LdapnbError,
    LimitExceeded,
    NoSuchEntry,
    NotAllowedOnNonLeaf,
    ObjectClassViolation,
    OperationError,
    ReadOnlyError,
    SchemaError,
)

__all__ = ["RESULTS", "Result", "result_name", "result_code", "error_for_result",
           "result_for_error"]


@dataclass(frozen=True)
class Result:
    """One LDAP result code: its RFC 4511 name, the ldapnb error it becomes, a hint."""

    code: int
    name: str
    error: type[LdapnbError] = OperationError
    hint: str = ""


#: Every result code of RFC 4511 (and the common extensions), by number.
RESULTS: dict[int, Result] = {r.code: r for r in (
    Result(0, "success"),
    Result(1, "operationsError"),
    Result(2, "protocolError"),
    Result(3, "timeLimitExceeded", LimitExceeded),
    Result(4, "sizeLimitExceeded", LimitExceeded),
    Result(5, "compareFalse"),
    Result(6, "compareTrue"),
    Result(7, "authMethodNotSupported", BindError),
    Result(8, "strongerAuthRequired", OperationError,
           "the server wants TLS or a stronger bind (try ldaps:// or start_tls=True)"),
    Result(10, "referral"),
    Result(11, "adminLimitExceeded", LimitExceeded),
    Result(12, "unavailableCriticalExtension"),
    Result(13, "confidentialityRequired", OperationError,
           "the server wants an encrypted connection (try ldaps:// or start_tls=True)"),
    Result(14, "saslBindInProgress"),
    Result(16, "noSuchAttribute"),
    Result(17, "undefinedAttributeType", SchemaError),
    Result(18, "inappropriateMatching"),
    Result(19, "constraintViolation"),
    Result(20, "attributeOrValueExists"),
    Result(21, "invalidAttributeSyntax", SchemaError),
    Result(32, "noSuchObject", NoSuchEntry),
    Result(33, "aliasProblem"),
    Result(34, "invalidDNSyntax"),
    Result(36, "aliasDereferencingProblem"),
    Result(48, "inappropriateAuthentication", BindError),
    Result(49, "invalidCredentials", BindError),
    Result(50, "insufficientAccessRights", OperationError,
           "the bound user may not do this (an access rule refuses it)"),
    Result(51, "busy", OperationError, "the server is busy: try again later"),
    Result(52, "unavailable", OperationError, "the server is unavailable"),
    Result(53, "unwillingToPerform", OperationError, "the server refuses this operation"),
    Result(54, "loopDetect"),
    Result(64, "namingViolation", ObjectClassViolation),
    Result(65, "objectClassViolation", ObjectClassViolation),
    Result(66, "notAllowedOnNonLeaf", NotAllowedOnNonLeaf),
    Result(67, "notAllowedOnRDN"),
    Result(68, "entryAlreadyExists", EntryAlreadyExists),
    Result(69, "objectClassModsProhibited"),
    Result(71, "affectsMultipleDSAs"),
    Result(80, "other"),
    Result(118, "canceled"),
    Result(119, "noSuchOperation"),
    Result(120, "tooLate"),
    Result(121, "cannotCancel"),
    Result(122, "assertionFailed"),
    Result(123, "authorizationDenied"),
)}
_BY_NAME = {r.name.lower(): r.code for r in RESULTS.values()}

# Active Directory's sub-codes in an invalidCredentials message ("... data 52e, v4563").
AD_BIND_CODES = {
    "525": "no such user",
    "52e": "wrong user name or password",
    "530": "not permitted to log on at this time",
    "531": "not permitted to log on from this workstation",
    "532": "the password has expired",
    "533": "the account is disabled",
    "568": "too many security IDs in the token",
    "701": "the account has expired",
    "773": "the user must change the password before logging on",
    "775": "the account is locked out",
}


def result_name(code: int | None) -> str:
    """The RFC 4511 name of a result code (``"result 999"`` for one it does not define).

    >>> result_name(50)
    'insufficientAccessRights'
    """
    if code is None:
        return "unknown result"
    known = RESULTS.get(code)
    return known.name if known else f"result {code}"


def result_code(name: str) -> int | None:
    """The number of a result name (case-insensitive), None when unknown.

    >>> result_code("NOSUCHOBJECT")
    32
    """
    return _BY_NAME.get(name.lower())


def bind_message(message: str, user: str | None = None) -> str:
    """The text of a refused simple bind (invalidCredentials), with Active Directory's
    sub-code explained when the server sent one.

    >>> bind_message("80090308: LdapErr: DSID-0C09044E, data 775, v4563", "bob")[:66]
    "the server refused the bind as 'bob': the account is locked out (A"
    """
    who = f" as {user!r}" if user else ""
    text = f"the server refused the bind{who}: invalid credentials (wrong user name or password)"
    low = message.lower()
    for sub, meaning in AD_BIND_CODES.items():
        if f"data {sub}," in low or low.endswith(f"data {sub}"):
            text = f"the server refused the bind{who}: {meaning} (Active Directory code {sub})"
    return text + (f"; the server said: {message}" if message else "")


def error_for_result(
    code: int | None,
    message: str = "",
    *,
    doing: str,
    dn: str | None = None,
    matched: str | None = None,
    referrals: Sequence[str] = (),
    naming_contexts: tuple[str, ...] = (),
    user: str | None = None,
    size_limit: int = 0,
    time_limit: int = 0,
    returned: int = 0,
    partial: object = None,
) -> LdapnbError:
    """The ldapnb error for a non-success LDAP result.

    Parameters
    ----------
    code : int
        The result code; ``message`` the server's diagnosticMessage.
    doing : str
        What was being done, for the message (``"adding 'cn=a,dc=x'"``, ``"searching ..."``).
    dn, matched, referrals, naming_contexts, user
        The entry concerned, the server's matchedDN, its referral URLs, the naming contexts
        (to suggest a base), the bind user.
    size_limit, time_limit, returned, partial
        For a size or time limit: the limits asked for, how many entries came back, and what
        did (kept on :class:`LimitExceeded`).

    Examples
    --------
    >>> str(error_for_result(50, "no write access", doing="deleting 'cn=a'"))
    "insufficientAccessRights while deleting 'cn=a': no write access (the bound user may not do this (an access rule refuses it))"
    >>> error_for_result(4, doing="searching", returned=7).returned
    7
    """  # noqa: E501
    name = result_name(code)
    message = (message or "").strip()
    said = f": {message}" if message else ""
    if code == 32:
        return NoSuchEntry(dn or "", matched=matched or None, naming_contexts=naming_contexts)
    if code == 68:
        return EntryAlreadyExists(dn or "")
    if code == 66:
        error = NotAllowedOnNonLeaf(dn or "", 1)
        error.args = (f"{dn!r} has child entries: delete or move them first "
                      f"(notAllowedOnNonLeaf{said})",)
        return error
    if code in (64, 65):
        return ObjectClassViolation(f"{name} while {doing}{said}", dn=dn, code=code)
    if code == 49:
        return BindError(bind_message(message, user), code=49)
    if code in (7, 48):
        return BindError(f"the server refused the bind{f' as {user!r}' if user else ''}: "
                         f"{name}{said}", code=code)
    if code in (3, 4, 11):
        kind = "time" if code == 3 else "size"
        limit = time_limit if code == 3 else size_limit
        server = f" (server: {message})" if message else ""
        return LimitExceeded(
            f"the {kind} limit was hit after {returned} entries{server}: the result is "
            f"incomplete; narrow the filter or base, or ask for a higher limit",
            kind=kind, limit=limit or None, returned=returned, partial=partial)
    if code == 10:
        urls = ", ".join(referrals) or message or "elsewhere"
        return OperationError(
            f"the server does not hold {dn!r} and refers you to {urls}; ldapnb does not follow "
            "referrals: connect to that server yourself" if dn else
            f"the server refers this request elsewhere (referral, not followed): {urls}",
            result="referral", code=10)
    known = RESULTS.get(code) if code is not None else None
    hint = known.hint if known else ""
    if known is not None and known.error is SchemaError:
        return SchemaError(f"{name} while {doing}{said}", code=code)
    return OperationError(f"{name} while {doing}{said}" + (f" ({hint})" if hint else ""),
                          result=name, code=code)


def result_for_error(exc: LdapnbError) -> tuple[int, str]:
    """The result code and diagnostic message a server sends for ``exc``: from its class and
    its ``code`` (an error that carries one), never from its text.

    >>> from ldapnb.errors import SchemaError
    >>> result_for_error(SchemaError("sn: not in the schema", code=17))
    (17, 'sn: not in the schema')
    >>> result_for_error(SchemaError("a rule"))[0]   # no code: objectClassViolation
    65
    """
    text = str(exc)
    code = getattr(exc, "code", None)
    if isinstance(exc, NoSuchEntry):
        return 32, text
    if isinstance(exc, EntryAlreadyExists):
        return 68, text
    if isinstance(exc, NotAllowedOnNonLeaf):
        return 66, text
    if isinstance(exc, BindError):
        return code or 49, text
    if isinstance(exc, SchemaError):  # ObjectClassViolation included
        return code or 65, text
    if isinstance(exc, OperationError):
        return code or 80, text
    if isinstance(exc, FilterError):
        return 2, text
    if isinstance(exc, DnError):
        return 34, text  # invalidDNSyntax
    if isinstance(exc, ReadOnlyError):
        return 53, text
    if isinstance(exc, LimitExceeded):
        return (3 if exc.kind == "time" else 4), text
    return 80, text
