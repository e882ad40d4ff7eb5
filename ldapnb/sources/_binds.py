"""The embedded directory's binds: simple binds against ``userPassword``, SASL PLAIN.

Simple binds check cleartext or hashed ``userPassword`` values ({SSHA}, {SHA}, {CRYPT} and the
other RFC 2307 schemes, through :mod:`ldapnb.passwords`); an unauthenticated bind (a DN with
an empty password, RFC 4513 5.1.2) is refused, never taken for a login.  SASL offers PLAIN
only; any other mechanism is refused, never treated as anonymous (ldap3's mock does that).
"""

from __future__ import annotations

from ..entry import Entry
from ..errors import BindError

__all__ = ["SASL_MECHANISMS", "simple_bind", "sasl_plain"]

SASL_MECHANISMS = ("PLAIN",)


def simple_bind(dn: str, password: str | bytes, entry: Entry | None) -> str:
    """Check a simple bind as ``dn`` (stored as ``entry``, None when absent); returns the
    bound DN ("" for anonymous).

    Raises :class:`BindError` for wrong credentials (the message never says whether the DN
    exists, as a server must not) and for an unauthenticated bind.
    """
    if not dn and not password:
        return ""
    if dn and not password:
        raise BindError(
            f"unauthenticated bind refused for {dn!r}: a DN with an empty password is "
            "not a login (RFC 4513 5.1.2); slapd answers unwillingToPerform", code=53)
    pw = password.decode("utf-8") if isinstance(password, bytes) else password
    if entry is not None:
        from ..passwords import verify

        for stored in entry.get("userPassword", []):
            if verify(pw, stored):
                return entry.dn
    raise BindError(f"invalidCredentials: wrong DN or password for {dn!r}", code=49)


def sasl_plain(mechanism: str, credentials: bytes | None) -> tuple[str, bytes]:
    """``(authcid, password)`` of SASL PLAIN credentials (``authzid\\0authcid\\0password``);
    :class:`BindError` for any other mechanism or malformed credentials."""
    if mechanism.upper() not in SASL_MECHANISMS:
        raise BindError(
            f"authMethodNotSupported: SASL mechanism {mechanism!r} is not offered by the "
            f"embedded directory (it offers {', '.join(SASL_MECHANISMS)}); a real slapd "
            "offers what its Cyrus SASL set-up provides", code=7)
    parts = (credentials or b"").split(b"\0")
    if len(parts) != 3:
        raise BindError("SASL PLAIN credentials must be authzid\\0authcid\\0password",
                        code=49)
    return parts[1].decode("utf-8", "replace"), parts[2]
