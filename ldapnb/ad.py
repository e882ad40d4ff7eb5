"""Active Directory values, decoded: flags, times, SIDs, GUIDs, group types, privileged groups.

Active Directory stores much of what an auditor needs in forms that are hard to read:

========================  ==========================================  =========================
attribute                 stored as                                   decoded by
========================  ==========================================  =========================
userAccountControl        an integer of bit flags                     :func:`uac_flags`
pwdLastSet, accountExp.,  FILETIME: 100 ns ticks since 1601-01-01     :func:`filetime_to_datetime`
lastLogonTimestamp        UTC; 0 and 0x7FFFFFFFFFFFFFFF mean "never"
objectSid                 binary SID (MS-DTYP 2.4.2.2)                :func:`sid_to_str`
objectGUID                16 bytes, first three fields little-endian  :func:`guid_to_str`
groupType                 signed 32-bit integer of bit flags          :func:`group_type`
========================  ==========================================  =========================

:func:`decode_frame` adds all of these as readable columns to a DataFrame of AD entries.

Values are accepted the way ldapnb hands them over: ``bytes`` for binary values, ``str`` for
text (``"66048"``), ``int`` where already converted.  An LDIF reader that finds a base64 value
that happens to be valid UTF-8 gives it back as ``str``: the binary decoders accept such a
string too (it is turned back into its UTF-8 bytes).

Bad values raise :class:`ldapnb.errors.SchemaError` (a value that breaks its attribute's
syntax), naming the attribute, the value and what is wrong.
"""

from __future__ import annotations

import enum
import operator
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, SupportsIndex

from .errors import LdapnbError, SchemaError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "UAC",
    "GroupType",
    "GroupTypeInfo",
    "NEVER",
    "FILETIME_NEVER",
    "uac_flags",
    "filetime_to_datetime",
    "datetime_to_filetime",
    "interval_to_timedelta",
    "sid_to_str",
    "sid_to_bytes",
    "rid",
    "domain_sid",
    "sid_name",
    "guid_to_str",
    "guid_to_bytes",
    "group_type",
    "WELL_KNOWN_SIDS",
    "WELL_KNOWN_RIDS",
    "PRIVILEGED_RIDS",
    "PRIVILEGED_BUILTIN_SIDS",
    "PRIVILEGED_NAMES",
    "is_privileged_sid",
    "decode_sids",
    "privileged_reason",
    "decode_frame",
]


def _bad(attribute: str, value: object, why: str) -> SchemaError:
    """The error for a value that breaks its attribute's syntax."""
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return SchemaError(f"{attribute}: {shown} is not valid: {why}")


# ------------------------------------------------------------------------------------------
# userAccountControl
# ------------------------------------------------------------------------------------------


class UAC(enum.IntFlag):
    """The userAccountControl bits (MS-ADTS 2.2.16, "UF_" flags).

    Examples
    --------
    >>> UAC(66048) == UAC.NORMAL_ACCOUNT | UAC.DONT_EXPIRE_PASSWORD
    True
    >>> UAC.ACCOUNTDISABLE in UAC(514)
    True
    """

    SCRIPT = 0x0001
    ACCOUNTDISABLE = 0x0002
    HOMEDIR_REQUIRED = 0x0008
    LOCKOUT = 0x0010
    PASSWD_NOTREQD = 0x0020
    PASSWD_CANT_CHANGE = 0x0040
    ENCRYPTED_TEXT_PWD_ALLOWED = 0x0080
    TEMP_DUPLICATE_ACCOUNT = 0x0100
    NORMAL_ACCOUNT = 0x0200
    INTERDOMAIN_TRUST_ACCOUNT = 0x0800
    WORKSTATION_TRUST_ACCOUNT = 0x1000
    SERVER_TRUST_ACCOUNT = 0x2000
    DONT_EXPIRE_PASSWORD = 0x10000
    MNS_LOGON_ACCOUNT = 0x20000
    SMARTCARD_REQUIRED = 0x40000
    TRUSTED_FOR_DELEGATION = 0x80000
    NOT_DELEGATED = 0x100000
    USE_DES_KEY_ONLY = 0x200000
    DONT_REQ_PREAUTH = 0x400000
    PASSWORD_EXPIRED = 0x800000
    TRUSTED_TO_AUTH_FOR_DELEGATION = 0x1000000
    NO_AUTH_DATA_REQUIRED = 0x2000000
    PARTIAL_SECRETS_ACCOUNT = 0x4000000
    USE_AES_KEYS = 0x8000000


def _integer(value: object, attribute: str) -> int:
    """An LDAP INTEGER value (str, bytes or int) as an int."""
    if isinstance(value, bool):
        raise _bad(attribute, value, "expected an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError as exc:
            raise _bad(attribute, value, "expected an integer written in ASCII digits") from exc
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?[0-9]+", text):
            return int(text)
        raise _bad(attribute, value, "expected an integer written in digits")
    # numpy integers and the like
    wrong = f"expected an integer, got {type(value).__name__}"
    if not isinstance(value, SupportsIndex):
        raise _bad(attribute, value, wrong)
    try:
        return operator.index(value)
    except TypeError as exc:
        raise _bad(attribute, value, wrong) from exc


def uac_flags(value: int | str | bytes) -> UAC:
    """Decode a userAccountControl value into :class:`UAC` flags.

    Parameters
    ----------
    value : int, str or bytes
        The attribute value (``"66048"``).

    Returns
    -------
    UAC
        The flags; bits AD does not document are kept in the value.

    Raises
    ------
    SchemaError
        Not an integer, or negative.

    Examples
    --------
    >>> uac_flags("66048")
    <UAC.NORMAL_ACCOUNT|DONT_EXPIRE_PASSWORD: 66048>
    >>> uac_flags(514).name
    'ACCOUNTDISABLE|NORMAL_ACCOUNT'
    """
    number = _integer(value, "userAccountControl")
    if number < 0:
        number &= 0xFFFFFFFF  # written as a signed 32-bit integer by some tools
    return UAC(number)


# ------------------------------------------------------------------------------------------
# FILETIME
# ------------------------------------------------------------------------------------------

#: The FILETIME that means "never" (accountExpires, and the largest Integer8).
FILETIME_NEVER = 0x7FFFFFFFFFFFFFFF
#: What the decoders return for "never" (and for 0, "not set"): None.
NEVER = None

_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
_TICKS_PER_US = 10
_MAX_TICKS = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1) * 10


def filetime_to_datetime(
    value: int | str | bytes, *, attribute: str = "FILETIME"
) -> datetime | None:
    """A FILETIME (100 ns ticks since 1601-01-01 UTC) as a timezone-aware UTC datetime.

    ``0`` and ``0x7FFFFFFFFFFFFFFF`` mean "never" (or "not set") and give ``None``
    (:data:`NEVER`).  What "never" means depends on the attribute: ``accountExpires`` never
    expires; ``lastLogonTimestamp`` never logged on; ``pwdLastSet=0`` means the password must
    be changed at the next logon.  Times past the year 9999, which Python cannot hold, also
    give ``None``.

    Parameters
    ----------
    value : int, str or bytes
        The Integer8 value (``"133000000000000000"``).
    attribute : str
        The attribute name, for error messages.

    Returns
    -------
    datetime or None

    Raises
    ------
    SchemaError
        Not an integer, or negative.

    Examples
    --------
    >>> filetime_to_datetime("133000000000000000")
    datetime.datetime(2022, 6, 18, 4, 26, 40, tzinfo=datetime.timezone.utc)
    >>> filetime_to_datetime(0) is None, filetime_to_datetime(0x7FFFFFFFFFFFFFFF) is None
    (True, True)
    """
    ticks = _integer(value, attribute)
    if ticks < 0:
        raise _bad(attribute, value, "a FILETIME cannot be negative")
    if ticks == 0 or ticks >= FILETIME_NEVER or ticks > _MAX_TICKS:
        return NEVER
    return _EPOCH + timedelta(microseconds=ticks // _TICKS_PER_US)


def datetime_to_filetime(moment: datetime | None) -> int:
    """A datetime as a FILETIME; ``None`` (never) gives ``0x7FFFFFFFFFFFFFFF``.

    Parameters
    ----------
    moment : datetime or None
        A timezone-aware datetime (naive datetimes are taken as UTC).

    Returns
    -------
    int

    Raises
    ------
    LdapnbError
        A datetime before 1601-01-01.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> datetime_to_filetime(datetime(2022, 6, 18, 4, 26, 40, tzinfo=timezone.utc))
    133000000000000000
    """
    if moment is None:
        return FILETIME_NEVER
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    ticks = (moment - _EPOCH) // timedelta(microseconds=1) * _TICKS_PER_US
    if ticks < 0:
        raise LdapnbError(f"{moment.isoformat()} is before 1601-01-01, where FILETIME starts")
    return ticks


def interval_to_timedelta(
    value: int | str | bytes, *, attribute: str = "interval"
) -> timedelta | None:
    """An AD time interval (maxPwdAge, lockoutDuration: negative 100 ns ticks) as a timedelta.

    ``-0x8000000000000000`` (and ``0`` for maxPwdAge) mean "never" and give ``None``.

    Parameters
    ----------
    value : int, str or bytes
        The Integer8 value (``"-36288000000000"`` is 42 days).
    attribute : str
        The attribute name, for error messages.

    Returns
    -------
    timedelta or None

    Raises
    ------
    SchemaError
        Not an integer.

    Examples
    --------
    >>> interval_to_timedelta("-36288000000000")
    datetime.timedelta(days=42)
    """
    ticks = _integer(value, attribute)
    if ticks == 0 or ticks <= -0x8000000000000000:
        return None
    return timedelta(microseconds=abs(ticks) // _TICKS_PER_US)


# ------------------------------------------------------------------------------------------
# SIDs
# ------------------------------------------------------------------------------------------

_SID_TEXT = re.compile(r"[Ss]-1-(0[xX][0-9A-Fa-f]{12}|[0-9]+)((?:-[0-9]+){0,15})")


def _as_binary(value: str | bytes, attribute: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    raise _bad(attribute, value, f"expected bytes, got {type(value).__name__}")


def _sid_from_bytes(data: bytes, attribute: str) -> str:
    if len(data) < 8:
        raise _bad(attribute, data, f"a binary SID has at least 8 bytes, this one {len(data)}")
    revision, count = data[0], data[1]
    if revision != 1:
        raise _bad(attribute, data, f"SID revision must be 1, not {revision}")
    if count > 15:
        raise _bad(attribute, data, f"a SID has at most 15 sub-authorities, this one says {count}")
    if len(data) != 8 + 4 * count:
        raise _bad(
            attribute,
            data,
            f"a SID with {count} sub-authorities has {8 + 4 * count} bytes, not {len(data)}",
        )
    authority = int.from_bytes(data[2:8], "big")
    shown = str(authority) if authority < 2**32 else f"0x{authority:012X}"
    subs = [int.from_bytes(data[8 + 4 * i : 12 + 4 * i], "little") for i in range(count)]
    return "S-1-" + shown + "".join(f"-{s}" for s in subs)


def _parse_sid_text(text: str, attribute: str) -> tuple[int, list[int]]:
    match = _SID_TEXT.fullmatch(text.strip())
    if not match:
        raise _bad(
            attribute,
            text,
            "expected a SID like S-1-5-21-1004336348-1177238915-682003330-512 "
            "(S-1-, an authority, then at most 15 numbers, each after a '-')",
        )
    auth_text, rest = match.group(1), match.group(2)
    authority = int(auth_text, 16) if auth_text[:2].lower() == "0x" else int(auth_text)
    if authority >= 2**48:
        raise _bad(attribute, text, "the identifier authority must fit in 48 bits")
    subs = [int(p) for p in rest.split("-")[1:]]
    for sub in subs:
        if sub >= 2**32:
            raise _bad(attribute, text, f"sub-authority {sub} does not fit in 32 bits")
    return authority, subs


def sid_to_str(value: str | bytes, *, attribute: str = "objectSid") -> str:
    """A SID in its string form ``S-1-5-21-...``.

    Parameters
    ----------
    value : bytes or str
        The binary SID (MS-DTYP 2.4.2.2), or a SID string (checked and tidied: ``s-1-5-32-544``
        gives ``S-1-5-32-544``).  A ``str`` that is not a SID string is taken as binary data
        that was decoded as UTF-8.
    attribute : str
        The attribute name, for error messages.

    Returns
    -------
    str

    Raises
    ------
    SchemaError
        A malformed binary SID (wrong revision, length that does not match the count of
        sub-authorities) or a malformed SID string.

    Examples
    --------
    >>> sid_to_str(bytes.fromhex("01020000000000052000000020020000"))
    'S-1-5-32-544'
    """
    if isinstance(value, str) and value[:2] in ("S-", "s-"):
        authority, subs = _parse_sid_text(value, attribute)
        shown = str(authority) if authority < 2**32 else f"0x{authority:012X}"
        return "S-1-" + shown + "".join(f"-{s}" for s in subs)
    return _sid_from_bytes(_as_binary(value, attribute), attribute)


def sid_to_bytes(value: str | bytes, *, attribute: str = "objectSid") -> bytes:
    """A SID in its binary form, as AD stores it in objectSid.

    Parameters
    ----------
    value : str or bytes
        A SID string, or a binary SID (checked and returned as is).
    attribute : str
        The attribute name, for error messages.

    Returns
    -------
    bytes

    Raises
    ------
    SchemaError
        A malformed SID.

    Examples
    --------
    >>> sid_to_bytes("S-1-5-32-544").hex()
    '01020000000000052000000020020000'
    """
    if isinstance(value, str) and value[:2] in ("S-", "s-"):
        authority, subs = _parse_sid_text(value, attribute)
        return (
            bytes([1, len(subs)])
            + authority.to_bytes(6, "big")
            + b"".join(s.to_bytes(4, "little") for s in subs)
        )
    data = _as_binary(value, attribute)
    _sid_from_bytes(data, attribute)  # validates
    return data


def rid(sid: str | bytes) -> int:
    """The relative identifier: the last sub-authority of a SID (512 for Domain Admins).

    Raises
    ------
    SchemaError
        A malformed SID, or one with no sub-authority.

    Examples
    --------
    >>> rid("S-1-5-21-1004336348-1177238915-682003330-512")
    512
    """
    text = sid_to_str(sid)
    parts = text.split("-")
    if len(parts) < 4:
        raise _bad("objectSid", sid, "this SID has no sub-authority, so no RID")
    return int(parts[-1])


def domain_sid(sid: str | bytes) -> str:
    """The SID without its RID: the domain SID for a domain account's SID.

    Raises
    ------
    SchemaError
        A malformed SID, or one with no sub-authority.

    Examples
    --------
    >>> domain_sid("S-1-5-21-1004336348-1177238915-682003330-512")
    'S-1-5-21-1004336348-1177238915-682003330'
    """
    text = sid_to_str(sid)
    head, _, _ = text.rpartition("-")
    if head.count("-") < 2:
        raise _bad("objectSid", sid, "this SID has no sub-authority, so no domain part")
    return head


#: Well-known SIDs that are the same in every Windows domain (MS-DTYP 2.4.2.4).
WELL_KNOWN_SIDS: dict[str, str] = {
    "S-1-0-0": "Nobody",
    "S-1-1-0": "Everyone",
    "S-1-2-0": "Local",
    "S-1-3-0": "Creator Owner",
    "S-1-3-1": "Creator Group",
    "S-1-5-1": "Dialup",
    "S-1-5-2": "Network",
    "S-1-5-3": "Batch",
    "S-1-5-4": "Interactive",
    "S-1-5-6": "Service",
    "S-1-5-7": "Anonymous Logon",
    "S-1-5-9": "Enterprise Domain Controllers",
    "S-1-5-10": "Principal Self",
    "S-1-5-11": "Authenticated Users",
    "S-1-5-18": "Local System",
    "S-1-5-19": "Local Service",
    "S-1-5-20": "Network Service",
    "S-1-5-32-544": "Administrators",
    "S-1-5-32-545": "Users",
    "S-1-5-32-546": "Guests",
    "S-1-5-32-547": "Power Users",
    "S-1-5-32-548": "Account Operators",
    "S-1-5-32-549": "Server Operators",
    "S-1-5-32-550": "Print Operators",
    "S-1-5-32-551": "Backup Operators",
    "S-1-5-32-552": "Replicator",
    "S-1-5-32-554": "Pre-Windows 2000 Compatible Access",
    "S-1-5-32-555": "Remote Desktop Users",
    "S-1-5-32-556": "Network Configuration Operators",
    "S-1-5-32-557": "Incoming Forest Trust Builders",
    "S-1-5-32-558": "Performance Monitor Users",
    "S-1-5-32-559": "Performance Log Users",
    "S-1-5-32-560": "Windows Authorization Access Group",
    "S-1-5-32-561": "Terminal Server License Servers",
    "S-1-5-32-562": "Distributed COM Users",
    "S-1-5-32-568": "IIS_IUSRS",
    "S-1-5-32-569": "Cryptographic Operators",
    "S-1-5-32-573": "Event Log Readers",
    "S-1-5-32-574": "Certificate Service DCOM Access",
    "S-1-5-32-575": "RDS Remote Access Servers",
    "S-1-5-32-576": "RDS Endpoint Servers",
    "S-1-5-32-577": "RDS Management Servers",
    "S-1-5-32-578": "Hyper-V Administrators",
    "S-1-5-32-579": "Access Control Assistance Operators",
    "S-1-5-32-580": "Remote Management Users",
    "S-1-5-32-582": "Storage Replica Administrators",
}

#: Well-known RIDs of accounts and groups inside every domain (``S-1-5-21-<domain>-RID``).
WELL_KNOWN_RIDS: dict[int, str] = {
    500: "Administrator",
    501: "Guest",
    502: "krbtgt",
    512: "Domain Admins",
    513: "Domain Users",
    514: "Domain Guests",
    515: "Domain Computers",
    516: "Domain Controllers",
    517: "Cert Publishers",
    518: "Schema Admins",
    519: "Enterprise Admins",
    520: "Group Policy Creator Owners",
    521: "Read-only Domain Controllers",
    522: "Cloneable Domain Controllers",
    525: "Protected Users",
    526: "Key Admins",
    527: "Enterprise Key Admins",
    553: "RAS and IAS Servers",
    571: "Allowed RODC Password Replication Group",
    572: "Denied RODC Password Replication Group",
}

#: Domain-relative RIDs of the groups whose members control the domain (or the forest).
PRIVILEGED_RIDS: frozenset[int] = frozenset({512, 516, 518, 519, 520, 521, 526, 527})

#: Builtin-domain groups (S-1-5-32-...) whose members control domain controllers.
PRIVILEGED_BUILTIN_SIDS: frozenset[str] = frozenset(
    {
        "S-1-5-32-544",  # Administrators
        "S-1-5-32-548",  # Account Operators
        "S-1-5-32-549",  # Server Operators
        "S-1-5-32-550",  # Print Operators
        "S-1-5-32-551",  # Backup Operators
        "S-1-5-32-552",  # Replicator
    }
)

#: Privileged groups without a well-known RID, recognised by sAMAccountName (case-insensitive).
PRIVILEGED_NAMES: frozenset[str] = frozenset({"dnsadmins"})


def sid_name(sid: str | bytes) -> str | None:
    """The well-known name of a SID (``"Domain Admins"`` for any ``S-1-5-21-...-512``).

    Examples
    --------
    >>> sid_name("S-1-5-21-1004336348-1177238915-682003330-512")
    'Domain Admins'
    >>> sid_name("S-1-5-32-544")
    'Administrators'
    >>> sid_name("S-1-5-21-1-2-3-1104") is None
    True
    """
    text = sid_to_str(sid)
    if text in WELL_KNOWN_SIDS:
        return WELL_KNOWN_SIDS[text]
    if text.startswith("S-1-5-21-") and text.count("-") == 7:
        return WELL_KNOWN_RIDS.get(int(text.rsplit("-", 1)[1]))
    return None


def privileged_reason(sid: str | bytes) -> str | None:
    """Why a SID is privileged (``"RID 512 (Domain Admins)"``), or None when it is not.

    Examples
    --------
    >>> privileged_reason("S-1-5-32-551")
    'well-known SID S-1-5-32-551 (Backup Operators)'
    """
    text = sid_to_str(sid)
    if text in PRIVILEGED_BUILTIN_SIDS:
        return f"well-known SID {text} ({WELL_KNOWN_SIDS[text]})"
    if text.startswith("S-1-5-21-") and text.count("-") == 7:
        number = int(text.rsplit("-", 1)[1])
        if number in PRIVILEGED_RIDS:
            return f"RID {number} ({WELL_KNOWN_RIDS[number]})"
    return None


def is_privileged_sid(sid: str | bytes) -> bool:
    """True for the SIDs of AD's privileged groups.

    Domain groups by RID (:data:`PRIVILEGED_RIDS`: Domain Admins 512, Domain Controllers 516,
    Schema Admins 518, Enterprise Admins 519, Group Policy Creator Owners 520, Read-only
    Domain Controllers 521, Key Admins 526, Enterprise Key Admins 527) in any domain
    ``S-1-5-21-a-b-c``, and the builtin groups :data:`PRIVILEGED_BUILTIN_SIDS`
    (Administrators, Account Operators, Server Operators, Print Operators, Backup Operators,
    Replicator).  DnsAdmins has no fixed RID: see :data:`PRIVILEGED_NAMES`.

    Parameters
    ----------
    sid : str or bytes
        A SID string or binary SID.

    Returns
    -------
    bool

    Raises
    ------
    SchemaError
        A malformed SID.

    Examples
    --------
    >>> is_privileged_sid("S-1-5-21-1004336348-1177238915-682003330-512")
    True
    >>> is_privileged_sid("S-1-5-21-1004336348-1177238915-682003330-513")
    False
    """
    return privileged_reason(sid) is not None


# ------------------------------------------------------------------------------------------
# GUIDs
# ------------------------------------------------------------------------------------------


def guid_to_str(value: str | bytes, *, attribute: str = "objectGUID") -> str:
    """An objectGUID as its usual string ``xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx``.

    AD stores the first three fields little-endian (``uuid.UUID(bytes_le=...)``), so the
    bytes ``33 22 11 00 55 44 ...`` read ``00112233-4455-...``.

    Parameters
    ----------
    value : bytes or str
        The 16 bytes, or a GUID string (checked and given back lower-case, braces dropped).
    attribute : str
        The attribute name, for error messages.

    Returns
    -------
    str

    Raises
    ------
    SchemaError
        Not 16 bytes, or not a GUID string.

    Examples
    --------
    >>> guid_to_str(bytes.fromhex("33221100554477668899aabbccddeeff"))
    '00112233-4455-6677-8899-aabbccddeeff'
    """
    if isinstance(value, str) and len(value) >= 32:
        try:
            return str(uuid.UUID(value.strip()))
        except ValueError as exc:
            raise _bad(attribute, value, "not a GUID string (32 hex digits)") from exc
    data = _as_binary(value, attribute)
    if len(data) != 16:
        raise _bad(attribute, data, f"a GUID has 16 bytes, this value {len(data)}")
    return str(uuid.UUID(bytes_le=data))


def guid_to_bytes(value: str | bytes, *, attribute: str = "objectGUID") -> bytes:
    """A GUID string as the 16 bytes AD stores (first three fields little-endian).

    Raises
    ------
    SchemaError
        Not a GUID.

    Examples
    --------
    >>> guid_to_bytes("00112233-4455-6677-8899-aabbccddeeff").hex()
    '33221100554477668899aabbccddeeff'
    """
    return uuid.UUID(guid_to_str(value, attribute=attribute)).bytes_le


# ------------------------------------------------------------------------------------------
# groupType
# ------------------------------------------------------------------------------------------


class GroupType(enum.IntFlag):
    """The groupType bits (MS-ADTS 2.2.12)."""

    BUILTIN_LOCAL_GROUP = 0x00000001
    ACCOUNT_GROUP = 0x00000002
    RESOURCE_GROUP = 0x00000004
    UNIVERSAL_GROUP = 0x00000008
    APP_BASIC_GROUP = 0x00000010
    APP_QUERY_GROUP = 0x00000020
    SECURITY_ENABLED = 0x80000000


GroupScope = Literal["builtin", "global", "domain local", "universal", "unknown"]


@dataclass(frozen=True)
class GroupTypeInfo:
    """A decoded groupType: ``scope`` and whether it is a security (not distribution) group."""

    scope: GroupScope
    security: bool
    flags: GroupType


def group_type(value: int | str | bytes) -> GroupTypeInfo:
    """Decode groupType into its scope and kind.

    Parameters
    ----------
    value : int, str or bytes
        The value, usually a signed 32-bit integer (``"-2147483646"``).

    Returns
    -------
    GroupTypeInfo
        ``scope`` is ``"builtin"`` (builtin local groups such as Administrators),
        ``"global"``, ``"domain local"``, ``"universal"`` or ``"unknown"``; ``security``
        is False for distribution groups.

    Raises
    ------
    SchemaError
        Not an integer.

    Examples
    --------
    >>> group_type("-2147483646")
    GroupTypeInfo(scope='global', security=True, flags=<GroupType.ACCOUNT_GROUP|SECURITY_ENABLED: 2147483650>)
    >>> group_type(8).scope, group_type(8).security
    ('universal', False)
    """  # noqa: E501
    number = _integer(value, "groupType") & 0xFFFFFFFF
    flags = GroupType(number)
    scope: GroupScope
    if flags & GroupType.BUILTIN_LOCAL_GROUP:
        scope = "builtin"
    elif flags & GroupType.ACCOUNT_GROUP:
        scope = "global"
    elif flags & GroupType.RESOURCE_GROUP:
        scope = "domain local"
    elif flags & GroupType.UNIVERSAL_GROUP:
        scope = "universal"
    else:
        scope = "unknown"
    return GroupTypeInfo(scope, bool(flags & GroupType.SECURITY_ENABLED), flags)


# ------------------------------------------------------------------------------------------
# DataFrames
# ------------------------------------------------------------------------------------------

_UAC_COLUMNS = {
    "disabled": UAC.ACCOUNTDISABLE,
    "locked_out": UAC.LOCKOUT,
    "password_not_required": UAC.PASSWD_NOTREQD,
    "password_never_expires": UAC.DONT_EXPIRE_PASSWORD,
    "no_preauth": UAC.DONT_REQ_PREAUTH,
    "trusted_for_delegation": UAC.TRUSTED_FOR_DELEGATION,
    "trusted_to_auth_for_delegation": UAC.TRUSTED_TO_AUTH_FOR_DELEGATION,
    "not_delegated": UAC.NOT_DELEGATED,
    "smartcard_required": UAC.SMARTCARD_REQUIRED,
}

_TIME_COLUMNS = {
    "pwd_last_set": "pwdLastSet",
    "last_logon": "lastLogonTimestamp",
    "account_expires": "accountExpires",
}


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return value != value  # NaN
    try:
        import pandas as pd

        return value is pd.NA or value is pd.NaT
    except ImportError:  # pragma: no cover
        return False


def _single(value: Any) -> Any:
    """One value out of a frame cell: a scalar, or the first of a list of values."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        items = value.tolist()
        if isinstance(items, list):
            return items[0] if items else None
        return items
    return value


def _find_column(df: pd.DataFrame, name: str) -> str | None:
    low = name.lower()
    for column in df.columns:
        if isinstance(column, str) and column.lower() == low:
            return column
    return None


def _row_dn(df: pd.DataFrame, position: int) -> str:
    dn_col = _find_column(df, "dn")
    if dn_col is not None:
        return str(df[dn_col].iloc[position])
    return f"row {df.index[position]!r}"


def _decode_column(
    df: pd.DataFrame, attribute: str, decode: Any, strict: bool
) -> list[Any]:
    column = _find_column(df, attribute)
    out: list[Any] = [None] * len(df)
    if column is None:
        return out
    for position, cell in enumerate(df[column].tolist()):
        value = _single(cell)
        if _missing(value):
            continue
        try:
            out[position] = decode(value)
        except LdapnbError as exc:
            if strict:
                raise SchemaError(f"{_row_dn(df, position)}: {exc}") from exc
    return out


def decode_frame(df: pd.DataFrame, *, strict: bool = True) -> pd.DataFrame:
    """A copy of a DataFrame of AD entries with readable columns added.

    Column names are matched case-insensitively; a cell may hold one value or a list of
    values (the first is used).  A column whose attribute is absent from the frame is still
    added, all missing, so code that reads the result need not check.

    ======================================  ================================================
    column                                  from
    ======================================  ================================================
    uac_flags                               userAccountControl, as flag names ``A|B``
    disabled, locked_out,                   userAccountControl bits (nullable booleans)
    password_not_required,
    password_never_expires, no_preauth,
    trusted_for_delegation,
    trusted_to_auth_for_delegation,
    not_delegated, smartcard_required
    pwd_last_set, last_logon,               pwdLastSet, lastLogonTimestamp, accountExpires:
    account_expires                         UTC datetimes; NaT for 0 and "never"
    password_must_change                    pwdLastSet is 0
    sid, rid, guid                          objectSid, objectGUID as strings (rid: Int64)
    sid_name                                the well-known name of the SID, if any
    group_scope, group_security             groupType
    ======================================  ================================================

    Parameters
    ----------
    df : pandas.DataFrame
        One row per entry, columns named after attributes.
    strict : bool
        With True (the default) a value that cannot be decoded raises; with False it is
        left missing.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    SchemaError
        A value that cannot be decoded (the message names the entry's DN, or the row, and
        the attribute).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"dn": ["CN=a,DC=x"], "userAccountControl": ["66050"],
    ...                    "pwdLastSet": ["0"]})
    >>> out = decode_frame(df)
    >>> bool(out.loc[0, "disabled"]), bool(out.loc[0, "password_never_expires"])
    (True, True)
    >>> bool(out.loc[0, "password_must_change"])
    True
    """
    import pandas as pd

    out = df.copy()
    flags = _decode_column(df, "userAccountControl", uac_flags, strict)
    out["uac_flags"] = pd.array(
        [None if f is None else (f.name or str(int(f))) for f in flags], dtype=object
    )
    for column, bit in _UAC_COLUMNS.items():
        out[column] = pd.array(
            [None if f is None else bool(f & bit) for f in flags], dtype="boolean"
        )
    for column, attribute in _TIME_COLUMNS.items():

        def convert(value: Any, attribute: str = attribute) -> Any:
            if isinstance(value, datetime):  # Directory.search types FILETIMEs already
                return value
            return filetime_to_datetime(value, attribute=attribute)

        values = _decode_column(df, attribute, convert, strict)
        out[column] = pd.to_datetime(
            pd.Series(values, index=df.index, dtype=object), utc=True
        ).astype("datetime64[us, UTC]")
    # a typed frame holds pwdLastSet as a datetime (a time: not 0) or NaT (0, or absent: unknown)
    raw_pwd = _decode_column(df, "pwdLastSet", lambda v: 1 if isinstance(v, datetime) else
                             _integer(v, "pwdLastSet"), strict)
    out["password_must_change"] = pd.array(
        [None if v is None else v == 0 for v in raw_pwd], dtype="boolean"
    )
    sids = _decode_column(df, "objectSid", sid_to_str, strict)
    out["sid"] = pd.array(sids, dtype=object)
    out["rid"] = pd.array(
        [None if s is None or s.count("-") < 3 else int(s.rsplit("-", 1)[1]) for s in sids],
        dtype="Int64",
    )
    out["sid_name"] = pd.array([None if s is None else sid_name(s) for s in sids], dtype=object)
    out["guid"] = pd.array(_decode_column(df, "objectGUID", guid_to_str, strict), dtype=object)
    types = _decode_column(df, "groupType", group_type, strict)
    out["group_scope"] = pd.array([None if t is None else t.scope for t in types], dtype=object)
    out["group_security"] = pd.array(
        [None if t is None else t.security for t in types], dtype="boolean"
    )
    return out


def decode_sids(values: Iterable[str | bytes]) -> list[str]:
    """Every value as a SID string (for multi-valued attributes such as sIDHistory).

    Examples
    --------
    >>> decode_sids([bytes.fromhex("01020000000000052000000020020000")])
    ['S-1-5-32-544']
    """
    return [sid_to_str(v, attribute="sIDHistory") for v in values]
