"""userPassword values: check a password against cleartext or RFC 2307 hashed values.

Uses the maintained ``libpass`` fork of passlib (imported as ``passlib``), whose LDAP context
knows {SSHA}, {SHA}, {SMD5}, {MD5}, {SSHA256}, {SSHA512}, {CRYPT} (sha512/sha256/md5/bcrypt/
des crypt) and cleartext values.

>>> verify("secret", "{SSHA}YjftPyiYztdYj2VF38gnos68HmXbO2cM")
True
>>> verify("secret", "secret"), verify("Secret", "secret")
(True, False)
"""

from __future__ import annotations

import hmac
from typing import Any

from .entry import Value

__all__ = ["verify", "scheme", "hash_password"]


def _context() -> Any:  # passlib.context.CryptContext (passlib ships no type hints)
    from passlib.apps import ldap_context

    return ldap_context


def scheme(stored: Value) -> str:
    """The scheme of a stored value: ``"{SSHA}"``, ``"{CRYPT}"`` ... or ``"cleartext"``."""
    text = stored.decode("utf-8", "replace") if isinstance(stored, bytes) else stored
    if text.startswith("{") and "}" in text:
        return text[: text.index("}") + 1].upper()
    return "cleartext"


def verify(password: str | bytes, stored: Value) -> bool:
    """True when ``password`` matches the stored userPassword value (constant-time compare
    for cleartext values).  An unknown or malformed hash never matches."""
    pw = password.decode("utf-8") if isinstance(password, bytes) else password
    text = stored.decode("utf-8", "replace") if isinstance(stored, bytes) else stored
    if scheme(text) == "cleartext":
        return hmac.compare_digest(pw.encode("utf-8"), text.encode("utf-8"))
    ctx = _context()
    try:
        if ctx.identify(text) is None:
            return False
        return bool(ctx.verify(pw, text))
    except (ValueError, TypeError):
        return False


def hash_password(password: str, scheme: str = "{SSHA}") -> str:
    """A new userPassword value for ``password`` in ``scheme`` ({SSHA}, {SHA}, {CRYPT} ...)."""
    import passlib.hash as h

    handlers = {"{SSHA}": h.ldap_salted_sha1, "{SHA}": h.ldap_sha1, "{SMD5}": h.ldap_salted_md5,
                "{MD5}": h.ldap_md5, "{SSHA256}": h.ldap_salted_sha256,
                "{SSHA512}": h.ldap_salted_sha512,
                "{CRYPT}": h.ldap_sha512_crypt.using(rounds=5000)}  # glibc default rounds
    try:
        return str(handlers[scheme.upper()].hash(password))
    except KeyError:
        raise ValueError(f"unknown password scheme {scheme!r}: use one of "
                         f"{', '.join(handlers)}") from None
