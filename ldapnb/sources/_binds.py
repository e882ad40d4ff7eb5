"""The embedded directory's binds: simple binds against ``userPassword``, SASL PLAIN.

Besides a DN, a simple bind takes the names Active Directory users log on with, resolved as
AD resolves them (:func:`ad_bind_dn`): a user principal name ``user@realm`` (the entry whose
``userPrincipalName`` it is, else ``sAMAccountName@<the domain's DNS name>``, AD's implicit
UPN) and a down-level name ``DOMAIN\\user`` (``DOMAIN`` being the domain's NetBIOS name:
``nETBIOSName`` of its crossRef in the Configuration partition when there is one, else the
first ``DC=`` label of the domain head, upper-cased).  A name that resolves to no entry, or to
more than one, is refused as wrong credentials.

Simple binds check cleartext or hashed ``userPassword`` values ({SSHA}, {SHA}, {CRYPT} and the
other RFC 2307 schemes, through :mod:`ldapnb.passwords`); an unauthenticated bind (a DN with
an empty password, RFC 4513 5.1.2) is refused, never taken for a login.  SASL offers PLAIN
only; any other mechanism is refused, never treated as anonymous (ldap3's mock does that).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .. import filters as flt
from ..entry import Entry
from ..errors import BindError, LdapnbError

__all__ = ["SASL_MECHANISMS", "simple_bind", "sasl_plain", "is_ad_name", "ad_bind_dn"]

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


def is_ad_name(name: str) -> bool:
    r"""Whether a bind name is AD's ``user@realm`` or ``DOMAIN\user`` rather than a DN.

    >>> is_ad_name("alice.martin@contoso.com"), is_ad_name("CONTOSO\\alice.martin")
    (True, True)
    >>> is_ad_name("cn=alice,dc=example,dc=com"), is_ad_name("cn=a\\,b@c,dc=x")
    (False, False)
    """
    if "=" in name:
        return False
    return name.count("\\") == 1 or name.count("@") == 1


def _domain_dns_name(head_dn: str) -> str:
    """``DC=contoso,DC=com`` -> ``contoso.com`` ("" when the DN is not all DC= labels)."""
    labels = []
    for rdn in head_dn.split(","):
        key, _, value = rdn.strip().partition("=")
        if key.strip().lower() != "dc" or not value:
            return ""
        labels.append(value.strip())
    return ".".join(labels).lower()


def ad_bind_dn(name: str, naming_contexts: Sequence[str],
               find: Callable[[str, flt.Filter], list[Entry]]) -> str | None:
    r"""The DN an AD logon name (``user@realm`` or ``DOMAIN\user``) binds as, or None.

    Parameters
    ----------
    name
        The name the client sent in place of a DN.
    naming_contexts
        The directory's naming contexts; AD domains are those whose DN is all ``DC=`` labels.
    find
        ``find(base, filter) -> entries`` (a subtree search).

    Returns
    -------
    str or None
        The DN of the one entry the name stands for; None when no entry (or more than one)
        does, which the bind refuses as wrong credentials.

    Examples
    --------
    >>> from ldapnb import Directory
    >>> d = Directory.embedded("contoso")
    >>> find = lambda base, f: [d.source.get(dn) for dn in d.source.search_dns(base, "sub", f)]
    >>> ad_bind_dn("CONTOSO\\alice.martin", d.source.naming_contexts, find)
    'CN=Alice Martin,OU=IT,OU=Corp,DC=contoso,DC=com'
    >>> ad_bind_dn("OTHER\\alice.martin", d.source.naming_contexts, find) is None
    True
    """
    domains = [(nc, _domain_dns_name(nc)) for nc in naming_contexts if _domain_dns_name(nc)]
    if "\\" in name:
        netbios, _, account = name.partition("\\")
        if not account or not netbios:
            return None
        for head, dns in domains:
            if netbios.upper() in (_netbios_name(head, dns, naming_contexts, find), dns.upper()):
                return _one(find(head, flt.Equality("sAMAccountName", account)))
        return None
    account, _, realm = name.rpartition("@")
    if not account or not realm:
        return None
    for head, _ in domains:  # an explicit UPN first, in any domain
        hit = _one(find(head, flt.Equality("userPrincipalName", name)))
        if hit is not None:
            return hit
    for head, dns in domains:  # AD's implicit UPN: sAMAccountName@<the domain's DNS name>
        if realm.lower() == dns:
            return _one(find(head, flt.Equality("sAMAccountName", account)))
    return None


def _netbios_name(head: str, dns: str, naming_contexts: Sequence[str],
                  find: Callable[[str, flt.Filter], list[Entry]]) -> str:
    """The domain's NetBIOS name: its crossRef's nETBIOSName, else the first DC label."""
    for nc in naming_contexts:
        try:
            refs = find(nc, flt.And((flt.Equality("objectClass", "crossRef"),
                                     flt.Equality("nCName", head))))
        except LdapnbError:
            continue
        for ref in refs:
            value = ref.first("nETBIOSName")
            if isinstance(value, str) and value:
                return value.upper()
    return dns.split(".")[0].upper()


def _one(entries: list[Entry]) -> str | None:
    return entries[0].dn if len(entries) == 1 else None
