"""Which attributes hold secrets, decided in one place.

Every part of ldapnb that shows values (an :class:`~ldapnb.entry.Entry`'s repr, DataFrames,
snapshots without ``include_secrets``, audit reports in HTML/XLSX/CSV, widgets, filter traces
and :class:`~ldapnb.errors.FilterError` messages) asks :func:`is_secret`.  An attribute is a
secret when any of these holds:

1. its name is on the maintained list :data:`SECRET_NAMES` (``userPassword``, ``unicodePwd``,
   LAPS' ``ms-Mcs-AdmPwd`` and ``msLAPS-Password``, ``krbPrincipalKey``, ``sambaNTPassword``,
   ``pwdHistory``, AD's default confidential attributes ...), or its numeric OID is on
   :data:`SECRET_OIDS` (``2.5.4.35`` is ``userPassword``);
2. the schema knows it (by name or OID) and one of its names is on the list, or it is a
   subtype (``SUP``) of a secret attribute, or its syntax is Octet String
   (``1.3.6.1.4.1.1466.115.121.1.40``, the syntax of ``userPassword``) and its name says what
   it holds (password, pwd, secret, credential, private key ...);
3. an Active Directory schema marked it confidential (``searchFlags`` bit 0x80): read with
   :func:`confidential_attributes` and added with :func:`register`.

Options never hide a secret: ``userPassword;binary`` and ``2.5.4.35;x-hash`` are secrets.

Examples
--------
>>> is_secret("userPassword"), is_secret("USERPASSWORD;binary"), is_secret("2.5.4.35")
(True, True, True)
>>> is_secret("ms-Mcs-AdmPwd"), is_secret("msLAPS-Password"), is_secret("linkTrackSecret")
(True, True, True)
>>> is_secret("cn"), is_secret("pwdLastSet"), is_secret("objectSid")
(False, False, False)
>>> mask_values("unicodePwd", [b'"\\x00p\\x00w\\x00"\\x00'])
['********']
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .schema import Schema

__all__ = [
    "MASK",
    "SECRET_NAMES",
    "SECRET_OIDS",
    "OCTET_STRING",
    "is_secret",
    "mask_values",
    "register",
    "registered",
    "confidential_attributes",
    "mask_filter_text",
    "mask_text",
    "SecretFilter",
    "protect",
]

#: What is shown in place of a secret value.
MASK = "********"

#: The syntax of ``userPassword`` (RFC 4517 Octet String).
OCTET_STRING = "1.3.6.1.4.1.1466.115.121.1.40"

#: Attribute names (lower case) whose values are secrets, maintained by hand: passwords and
#: password hashes of OpenLDAP, Samba, Kerberos, NIS and Active Directory, LAPS (legacy and
#: Windows LAPS), gMSA passwords, BitLocker and TPM recovery data, and the attributes AD marks
#: confidential (searchFlags 0x80) in its default schema.
SECRET_NAMES = frozenset(name.lower() for name in (
    # RFC 4519 / RFC 3112 / OpenLDAP
    "userPassword", "authPassword", "pwdHistory", "olcRootPW", "rootPW",
    "olcDbCryptKey", "olcTLSCertificateKeyFile",
    # NIS / RFC 2307bis, Kerberos, Samba
    "unixUserPassword", "krbPrincipalKey", "krbExtraData", "krbMKey",
    "sambaNTPassword", "sambaLMPassword", "sambaPasswordHistory", "sambaClearTextPassword",
    "ntPassword", "lmPassword",
    # Active Directory: password hashes and secrets
    "unicodePwd", "dBCSPwd", "ntPwdHistory", "lmPwdHistory", "supplementalCredentials",
    "msDS-ManagedPassword", "msDS-ManagedPasswordId", "msDS-ManagedPasswordPreviousId",
    "trustAuthIncoming", "trustAuthOutgoing", "currentValue", "priorValue", "pekList",
    "initialAuthIncoming", "initialAuthOutgoing", "msDS-ExecuteScriptPassword",
    "privateKey", "linkTrackSecret",
    # LAPS (legacy) and Windows LAPS
    "ms-Mcs-AdmPwd", "msLAPS-Password", "ms-LAPS-Password", "msLAPS-EncryptedPassword",
    "msLAPS-EncryptedPasswordHistory", "msLAPS-EncryptedDSRMPassword",
    "msLAPS-EncryptedDSRMPasswordHistory",
    # AD default confidential attributes (searchFlags 0x80)
    "msFVE-RecoveryPassword", "msFVE-KeyPackage", "msFVE-VolumeGuid", "msFVE-RecoveryGuid",
    "msTPM-OwnerInformation", "msTPM-OwnerInformationTemp", "msPKIAccountCredentials",
    "msPKIDPAPIMasterKeys", "msPKIRoamingTimeStamp", "msPKI-CredentialRoamingTokens",
    "msDS-KeyCredentialLink", "unixUserPassword", "msRADIUS-SavedFramedInterfaceId",
    "mSMQSignKey", "mSMQEncryptKey",
))

#: Numeric OIDs of secret attributes, for servers and exports that name attributes by OID.
SECRET_OIDS = frozenset({
    "2.5.4.35",                   # userPassword
    "1.3.6.1.4.1.4203.1.3.4",     # authPassword (RFC 3112)
    "1.3.6.1.4.1.42.2.27.8.1.20",  # pwdHistory (draft-behera ppolicy)
    "1.2.840.113556.1.4.90",      # unicodePwd
    "1.2.840.113556.1.4.55",      # dBCSPwd
    "1.2.840.113556.1.4.94",      # ntPwdHistory
    "1.2.840.113556.1.4.160",     # lmPwdHistory
    "1.2.840.113556.1.4.125",     # supplementalCredentials
    "1.2.840.113556.1.4.2196",    # msDS-ManagedPassword
    "1.2.840.113556.1.4.129",     # trustAuthIncoming
    "1.2.840.113556.1.4.135",     # trustAuthOutgoing
    "1.2.840.113556.1.4.27",      # currentValue
    "1.2.840.113556.1.4.100",     # priorValue
    "1.2.840.113556.1.4.865",     # pekList
    "1.2.840.113556.1.4.101",     # privateKey
    "1.3.6.1.4.1.5322.21.2.1",    # krbPrincipalKey (MIT Kerberos LDAP schema)
    "1.3.6.1.4.1.7165.2.1.25",    # sambaNTPassword
    "1.3.6.1.4.1.7165.2.1.24",    # sambaLMPassword
})

# An Octet String attribute whose name says it holds a secret.
_SECRET_WORDS = re.compile(
    r"pass(word|wd)|pwd|secret|credential|privatekey|masterkey|trustauth|peklist|cryptkey|"
    r"keypackage", re.IGNORECASE)

_registered: set[str] = set()


def register(names: Iterable[str]) -> None:
    """Treat ``names`` (attribute names or OIDs) as secrets from now on, in this process.

    For a site's own secret attributes, or the confidential attributes of an AD schema read
    with :func:`confidential_attributes`.
    """
    _registered.update(n.split(";", 1)[0].strip().lower() for n in names)
    _judge.cache_clear()


def registered() -> frozenset[str]:
    """The names added with :func:`register`."""
    return frozenset(_registered)


def confidential_attributes(entries: Iterable[Mapping[str, object]]) -> set[str]:
    """The ``lDAPDisplayName`` (and OID) of every AD ``attributeSchema`` entry whose
    ``searchFlags`` has the confidential bit (0x80) set.

    >>> sorted(confidential_attributes([{"lDAPDisplayName": ["msFoo-Pin"], "searchFlags": ["128"],
    ...                           "attributeID": ["1.2.3.4"]},
    ...                          {"lDAPDisplayName": ["cn"], "searchFlags": ["8"]}]))
    ['1.2.3.4', 'msFoo-Pin']
    """
    found: set[str] = set()
    for entry in entries:
        flags = _first(entry, "searchFlags")
        try:
            value = int(flags) if flags is not None else 0
        except (TypeError, ValueError):
            continue
        if value & 0x80:
            for key in ("lDAPDisplayName", "attributeID"):
                name = _first(entry, key)
                if name:
                    found.add(str(name))
    return found


def _first(entry: Mapping[str, object], key: str) -> str | None:
    for name, values in entry.items():
        if name.lower() == key.lower():
            if isinstance(values, (list, tuple)):
                values = values[0] if values else None
            if isinstance(values, bytes):
                values = values.decode("utf-8", "replace")
            return None if values is None else str(values)
    return None


def is_secret(attribute: str, schema: Schema | None = None) -> bool:
    """True when ``attribute`` (a name or OID, options allowed) holds secrets.

    ``schema`` is the schema to consult (the default one when None): it resolves OIDs and
    subtypes and supplies syntaxes.
    """
    if not isinstance(attribute, str):
        return False
    base = attribute.split(";", 1)[0].strip().lower()
    if base.startswith("oid."):
        base = base[4:]
    return _judge(base, schema)


@functools.lru_cache(maxsize=8192)
def _judge(base: str, schema: Schema | None) -> bool:
    if base in SECRET_NAMES or base in SECRET_OIDS or base in _registered:
        return True
    if schema is None:
        from .schema import default_schema

        schema = default_schema()
    at = schema.attribute_type(base)
    if at is None:
        return False
    seen: set[str] = set()
    while at is not None and at.oid not in seen:
        seen.add(at.oid)
        keys = {at.oid.lower(), *(n.lower() for n in at.names)}
        if keys & (SECRET_NAMES | SECRET_OIDS | _registered):
            return True
        syntax = (at.syntax or "").split("{", 1)[0]
        if syntax == OCTET_STRING and any(_SECRET_WORDS.search(n) for n in at.names):
            return True
        at = schema.attribute_type(at.sup) if at.sup else None
    return False


def mask_values(attribute: str, values: Iterable[object],
                schema: Schema | None = None) -> list[object]:
    """``values`` with each one replaced by :data:`MASK` when ``attribute`` is a secret."""
    values = list(values)
    return [MASK for _ in values] if is_secret(attribute, schema) else values


# An attribute description, an optional extensible part (:dn, :rule), the operator, the value
# up to the next ')': at the start of the text or after '('.
_FILTER_ITEM = re.compile(
    r"(?:^|(?<=\())(\s*)([A-Za-z0-9][A-Za-z0-9.;-]*)((?::[A-Za-z0-9.;-]*)*)(~=|>=|<=|:?=)([^)]*)")


def mask_filter_text(text: str, schema: Schema | None = None) -> str:
    """``text`` (a search filter, valid or not) with the value of every secret attribute
    replaced by ``*`` characters of the same length, so positions in it still point at the
    same place.

    >>> mask_filter_text("(&(uid=bob)(userPassword=hunter2))")
    '(&(uid=bob)(userPassword=*******))'
    >>> mask_filter_text("(2.5.4.35;binary=s3cr\\\\zz")
    '(2.5.4.35;binary=*******'
    """
    if not isinstance(text, str) or "=" not in text:
        return text

    def hide(m: re.Match[str]) -> str:
        if not is_secret(m.group(2), schema):
            return m.group(0)
        return m.group(0)[: m.start(5) - m.start(0)] + "*" * len(m.group(5))

    return _FILTER_ITEM.sub(hide, text)


# 'name': value   or   "name": value   (a Python or JSON mapping in a log line)
_QUOTED_KEY = re.compile(r"""(['"])([A-Za-z0-9][A-Za-z0-9.;-]*)\1\s*:\s*""")
# name: value   or   name:: base64   (an LDIF line)
_LDIF_LINE = re.compile(r"(?m)^([A-Za-z0-9][A-Za-z0-9.;-]*)(::?)[ \t]?(.*)$")


def _skip_value(text: str, i: int) -> int:
    """The index just past the value starting at ``text[i]``: a bracketed list, a quoted
    string (``b'..'`` too), or a bare word up to ``,`` ``}`` or ``)``."""
    n = len(text)
    if i < n and text[i] in "[(":
        close = {"[": "]", "(": ")"}[text[i]]
        depth, j, quote = 0, i, ""
        while j < n:
            c = text[j]
            if quote:
                if c == "\\":
                    j += 2
                    continue
                if c == quote:
                    quote = ""
            elif c in "'\"":
                quote = c
            elif c in "[(":
                depth += 1
            elif c in "])":
                depth -= 1
                if depth == 0 and c == close:
                    return j + 1
            j += 1
        return n
    j = i + 1 if i < n and text[i] == "b" and text[i + 1: i + 2] in ("'", '"') else i
    if j < n and text[j] in "'\"":
        quote, k = text[j], j + 1
        while k < n and text[k] != quote:
            k += 2 if text[k] == "\\" else 1
        return min(k + 1, n)
    k = i
    while k < n and text[k] not in ",})\n":
        k += 1
    return k


def mask_text(text: str, schema: Schema | None = None) -> str:
    """``text`` (a log line, a message) with the values of secret attributes masked where
    they appear as ``'name': values`` (a mapping), ``name: value`` (an LDIF line) or
    ``(name=value)`` (a filter).

    >>> mask_text("{'cn': ['a'], 'userPassword': [b'{SSHA}x=', b'y'], 'sn': ['b']}")
    "{'cn': ['a'], 'userPassword': ['********'], 'sn': ['b']}"
    >>> mask_text("dn: cn=a\\nunicodePwd:: IgBwAHcAIgA=\\ncn: a")
    'dn: cn=a\\nunicodePwd:: ********\\ncn: a'
    """
    if not isinstance(text, str) or not text:
        return text
    out: list[str] = []
    last = 0
    for m in _QUOTED_KEY.finditer(text):
        if m.start() < last or not is_secret(m.group(2), schema):
            continue
        end = _skip_value(text, m.end())
        out.append(text[last:m.end()])
        out.append(repr([MASK]) if text[m.end(): m.end() + 1] == "[" else repr(MASK))
        last = end
    out.append(text[last:])
    text = "".join(out)
    if "\n" in text or ":" in text:
        text = _LDIF_LINE.sub(
            lambda m: (f"{m.group(1)}{m.group(2)} {MASK}"
                       if m.group(3) and is_secret(m.group(1), schema) else m.group(0)), text)
    if "=" in text and "(" in text:
        text = mask_filter_text(text, schema)
    return text


class SecretFilter(logging.Filter):
    """A logging filter that masks secret values in every record it sees (installed on the
    ``ldap3`` logger and on ldapnb's own loggers by :func:`protect`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's business, not ours
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


_FILTER = SecretFilter()


def protect(logger: logging.Logger | str) -> logging.Logger:
    """Install :class:`SecretFilter` on ``logger`` (once) and return it."""
    if isinstance(logger, str):
        logger = logging.getLogger(logger)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger


# ldap3 logs requests and responses (attribute values included) to one logger, "ldap3".
protect("ldap3")
protect("ldapnb")
