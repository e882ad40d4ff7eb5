"""Active Directory security descriptors (``nTSecurityDescriptor``) as DataFrames of ACEs.

An AD object's ``nTSecurityDescriptor`` is a binary self-relative security descriptor
(MS-DTYP 2.4.6): an owner SID, a group SID and a DACL of access control entries (ACEs), each
granting (or denying) a trustee SID an access mask, optionally narrowed to one attribute,
property set, validated write or extended right by an *object type* GUID.  Who may reset a
password, add a member to Domain Admins or replicate every secret (DCSync) is written there,
not in group membership.

Parsing (binary and SDDL text) is done by `winacl <https://github.com/skelsec/winacl>`_, a
maintained pure-Python library; this module turns its structures into one tidy DataFrame and
names what an auditor needs named: rights as AD's names (``GenericAll``, ``WriteDacl``,
``DS-Replication-Get-Changes-All``, ``User-Force-Change-Password``, ``member`` ...) and the
abusable *edges* BloodHound draws from them.

Reading descriptors: AD returns ``nTSecurityDescriptor`` to a non-administrator only when the
search carries the SD flags control (OID 1.2.840.113556.1.4.801) asking for owner, group and
DACL (value 7) without the SACL; :func:`read_descriptors` does that on a live connection.

Limits (said, not hidden): deny ACEs are listed but not subtracted from the allow ACEs when
:func:`edges` computes who can do what (BloodHound does the same), so the edges over-report,
never under-report; inherit-only ACEs (which apply to children, not to the object) are listed
with ``applies_here=False`` and produce no edge on the object itself.
"""

from __future__ import annotations

import base64
import enum
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from . import oids
from .errors import SchemaError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .entry import Entry

__all__ = [
    "SD_FLAGS_OID",
    "SD_FLAGS_OWNER_GROUP_DACL",
    "GUIDS",
    "Right",
    "parse",
    "aces",
    "edges",
    "rights_names",
    "to_sddl",
    "from_sddl",
]

#: The LDAP_SERVER_SD_FLAGS_OID control (MS-ADTS 3.1.1.3.4.1.11).
SD_FLAGS_OID = oids.SD_FLAGS
#: OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION.
SD_FLAGS_OWNER_GROUP_DACL = 7


class Right(enum.IntFlag):
    """The access mask bits of directory objects (MS-ADTS 5.1.3.2, ``ADS_RIGHTS_ENUM``)."""

    CreateChild = 0x1
    DeleteChild = 0x2
    ListChildren = 0x4
    Self = 0x8                 # validated write
    ReadProperty = 0x10
    WriteProperty = 0x20
    DeleteTree = 0x40
    ListObject = 0x80
    ExtendedRight = 0x100      # control access
    Delete = 0x10000
    ReadControl = 0x20000
    WriteDacl = 0x40000
    WriteOwner = 0x80000
    Synchronize = 0x100000
    AccessSystemSecurity = 0x1000000
    GenericAll = 0x10000000
    GenericExecute = 0x20000000
    GenericWrite = 0x40000000
    GenericRead = 0x80000000


#: Every directory-object right bit together: what "Full control" grants (0xF01FF).
FULL_CONTROL = 0xF01FF
#: ``GENERIC_WRITE`` as AD maps it on directory objects (write all properties, validated writes).
GENERIC_WRITE_DS = 0x20028

#: Object-type GUIDs an auditor needs named (MS-ADTS 5.1.3.2.1 extended rights, MS-ADA
#: attribute schemaIDGUIDs, property sets, validated writes and classes).  Lower case.
GUIDS: dict[str, str] = {
    # extended rights (controlAccessRight rightsGuid)
    "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2": "DS-Replication-Get-Changes",
    "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2": "DS-Replication-Get-Changes-All",
    "89e95b76-444d-4c62-991a-0facbeda640c": "DS-Replication-Get-Changes-In-Filtered-Set",
    "1131f6ab-9c07-11d1-f79f-00c04fc2dcd2": "DS-Replication-Synchronize",
    "1131f6ac-9c07-11d1-f79f-00c04fc2dcd2": "DS-Replication-Manage-Topology",
    "1131f6ae-9c07-11d1-f79f-00c04fc2dcd2": "DS-Replication-Monitor-Topology",
    "00299570-246d-11d0-a768-00aa006e0529": "User-Force-Change-Password",
    "ab721a53-1e2f-11d0-9819-00aa0040529b": "User-Change-Password",
    "ab721a54-1e2f-11d0-9819-00aa0040529b": "Send-As",
    "ab721a56-1e2f-11d0-9819-00aa0040529b": "Receive-As",
    "ab721a55-1e2f-11d0-9819-00aa0040529b": "Send-To",
    "e2a36dc9-ae17-47c3-b58b-be34c55ba633": "Create-Inbound-Forest-Trust",
    "05c74c5e-4deb-43b4-bd9f-86664c2a7fd5": "Enable-Per-User-Reversibly-Encrypted-Password",
    "ccc2dc7d-a6ad-4a7a-8846-c04e3cc53501": "Unexpire-Password",
    "280f369c-67c7-438e-ae98-1d46f3c6f541": "Update-Password-Not-Required-Bit",
    "0e10c968-78fb-11d2-90d4-00c04f79dc55": "Certificate-Enrollment",
    "a05b8cc2-17bc-4802-a710-e7c15ab866a2": "Certificate-AutoEnrollment",
    "68b1d179-0d15-4d4f-ab71-46152e79a7bc": "Allowed-To-Authenticate",
    "edacfd8f-ffb3-11d1-b41d-00a0c968f939": "Apply-Group-Policy",
    "91e647de-d96f-4b70-9557-d63ff4f3ccd8": "Private-Information",
    # validated writes
    "bf9679c0-0de6-11d0-a285-00aa003049e2": "member",  # also Self-Membership (validated)
    "f3a64788-5306-11d1-a9c5-0000f80367c1": "servicePrincipalName",  # Validated-SPN
    "72e39547-7b18-11d1-adef-00c04fd8d5cd": "dNSHostName",  # Validated-DNS-Host-Name
    # attributes
    "3f78c3e5-f79a-46bd-a0b8-9d18116ddc79": "msDS-AllowedToActOnBehalfOfOtherIdentity",
    "5b47d60f-6090-40b2-9f37-2a4de88f3063": "msDS-KeyCredentialLink",
    "f30e3bc1-afff-11d0-afeb-00c04fd930c9": "gPLink",
    "bf967a68-0de6-11d0-a285-00aa003049e2": "scriptPath",
    "bf967950-0de6-11d0-a285-00aa003049e2": "description",
    "28630ebf-41d5-11d1-a9c1-0000f80367c1": "lockoutTime",
    "bf967a0a-0de6-11d0-a285-00aa003049e2": "pwdLastSet",
    "bf967a86-0de6-11d0-a285-00aa003049e2": "computer",
    "bf967aba-0de6-11d0-a285-00aa003049e2": "user",
    "bf967a9c-0de6-11d0-a285-00aa003049e2": "group",
    "4828cc14-1437-45bc-9b07-ad6f015e5f28": "inetOrgPerson",
    "bf967aa5-0de6-11d0-a285-00aa003049e2": "organizationalUnit",
    "bf967aa8-0de6-11d0-a285-00aa003049e2": "printQueue",
    "7b8b558a-93a5-4af7-adca-c017e67f1057": "msDS-GroupManagedServiceAccount",
    "ce206244-5827-4a86-ba1c-1c0c386c1b64": "msDS-ManagedServiceAccount",
    "f30e3bbe-9ff0-11d1-b603-0000f80367c1": "gPLink",
    "f30e3bbf-9ff0-11d1-b603-0000f80367c1": "gPOptions",
    "46a9b11d-60ae-405a-b7e8-ff8a58d456d2": "tokenGroupsGlobalAndUniversal",
    "b8119fd0-04f6-4762-ab7a-4986c76b3f9a": "Other-Domain-Parameters",
    "c7407360-20bf-11d0-a768-00aa006e0529": "Domain-Password",
    "b7c69e6d-2cc7-11d2-854e-00a0c983f608": "tokenGroups",
    # property sets
    "4c164200-20c0-11d0-a768-00aa006e0529": "User-Account-Restrictions",
    "5f202010-79a5-11d0-9020-00c04fc2d4cf": "User-Logon",
    "bc0ac240-79a9-11d0-9020-00c04fc2d4cf": "Membership",
    "59ba2f42-79a2-11d0-9020-00c04fc2d3cf": "General-Information",
    "037088f8-0ae1-11d2-b422-00a0c968f939": "RAS-Information",
    "e45795b2-9455-11d1-aebd-0000f80367c1": "Email-Information",
    "77b5b886-944a-11d1-aebd-0000f80367c1": "Personal-Information",
    "e48d0154-bcf8-11d1-8702-00c04fb96050": "Public-Information",
    "ffa6f046-ca4b-4feb-b40d-04dfee722543": "ms-DS-Machine-Account-Quota",
    "e362ed86-b728-0842-b27d-2dea7a9df218": "ms-DS-ManagedPassword",
}

_ACE_TYPES = {0: "allow", 1: "deny", 2: "audit", 5: "allow", 6: "deny", 7: "audit",
              9: "allow", 10: "deny", 11: "allow", 12: "deny"}

#: The edges :func:`edges` derives, each an abusable right (BloodHound's names).
EDGE_KINDS: tuple[str, ...] = (
    "Owns", "GenericAll", "WriteDacl", "WriteOwner", "GenericWrite", "AllExtendedRights",
    "AddMember", "AddSelf", "ForceChangePassword", "WriteSPN", "AddKeyCredentialLink",
    "WriteAccountRestrictions", "GetChanges", "GetChangesAll", "WriteGPLink",
)


#: SDDL's SID aliases (MS-DTYP 2.5.1.1): well-known ones, and domain-relative RIDs.
SDDL_SIDS: dict[str, str] = {
    "WD": "S-1-1-0", "CO": "S-1-3-0", "CG": "S-1-3-1", "AN": "S-1-5-7", "ED": "S-1-5-9",
    "PS": "S-1-5-10", "AU": "S-1-5-11", "SY": "S-1-5-18", "LS": "S-1-5-19", "NS": "S-1-5-20",
    "BA": "S-1-5-32-544", "BU": "S-1-5-32-545", "BG": "S-1-5-32-546", "PU": "S-1-5-32-547",
    "AO": "S-1-5-32-548", "SO": "S-1-5-32-549", "PO": "S-1-5-32-550", "BO": "S-1-5-32-551",
    "RE": "S-1-5-32-552", "RU": "S-1-5-32-554", "RD": "S-1-5-32-555", "NO": "S-1-5-32-556",
}
SDDL_DOMAIN_RIDS: dict[str, int] = {
    "LA": 500, "LG": 501, "DA": 512, "DU": 513, "DG": 514, "DC": 515, "DD": 516, "CA": 517,
    "SA": 518, "EA": 519, "PA": 520, "RO": 498, "RS": 553, "AP": 525, "CN": 522,
}
#: SDDL's rights codes (MS-DTYP 2.5.1.1 ``ace-rights``).
SDDL_RIGHTS: dict[str, int] = {
    "GA": 0x10000000, "GR": 0x80000000, "GW": 0x40000000, "GX": 0x20000000,
    "RC": 0x20000, "SD": 0x10000, "WD": 0x40000, "WO": 0x80000,
    "RP": 0x10, "WP": 0x20, "CC": 0x1, "DC": 0x2, "LC": 0x4, "SW": 0x8, "LO": 0x80,
    "DT": 0x40, "CR": 0x100, "FA": 0x1F01FF, "KA": 0xF003F,
}
_SDDL_TYPES = {"A": 0, "D": 1, "AU": 2, "OA": 5, "OD": 6, "OU": 7}
_SDDL_FLAGS = {"OI": 0x1, "CI": 0x2, "NP": 0x4, "IO": 0x8, "ID": 0x10, "SA": 0x40, "FA": 0x80}


def _sddl_sid(token: str, domain_sid: str | None, where: str) -> Any:
    from winacl.dtyp.sid import SID

    token = token.strip()
    if token.upper().startswith("S-1-"):
        return SID.from_string(token)
    if token in SDDL_SIDS:
        return SID.from_string(SDDL_SIDS[token])
    if token in SDDL_DOMAIN_RIDS:
        if not domain_sid:
            raise SchemaError(f"{where}SDDL alias {token!r} is relative to a domain: pass "
                              "domain_sid='S-1-5-21-...'")
        return SID.from_string(f"{domain_sid}-{SDDL_DOMAIN_RIDS[token]}")
    raise SchemaError(f"{where}unknown SID {token!r} in SDDL")


def _sddl_rights(text: str, where: str) -> int:
    if text.lower().startswith("0x"):
        return int(text, 16)
    mask = 0
    for i in range(0, len(text), 2):
        code = text[i:i + 2]
        if code not in SDDL_RIGHTS:
            raise SchemaError(f"{where}unknown right {code!r} in SDDL rights {text!r}")
        mask |= SDDL_RIGHTS[code]
    return mask


def _from_sddl(text: str, domain_sid: str | None, where: str) -> Any:
    """Read SDDL into winacl's structures (winacl's own reader maps ``BA`` to a domain RID
    and cannot read compound rights such as ``RPWP``)."""
    import re

    from winacl.dtyp import ace as wace
    from winacl.dtyp.acl import ACL
    from winacl.dtyp.guid import GUID
    from winacl.dtyp.security_descriptor import SE_SACL, SECURITY_DESCRIPTOR

    parts = dict(re.findall(r"([OGDS]):((?:\([^)]*\)|[^:()])*?)(?=[OGDS]:|$)", text))
    if not parts:
        raise SchemaError(f"{where}{text!r} is not SDDL")
    sd = SECURITY_DESCRIPTOR()
    control = SE_SACL.SE_SELF_RELATIVE
    if "O" in parts:
        sd.Owner = _sddl_sid(parts["O"], domain_sid, where)
    if "G" in parts:
        sd.Group = _sddl_sid(parts["G"], domain_sid, where)
    if "D" in parts:
        control |= SE_SACL.SE_DACL_PRESENT
        body = parts["D"]
        head = body.split("(", 1)[0]
        if "P" in head:
            control |= SE_SACL.SE_DACL_PROTECTED
        if "AI" in head:
            control |= SE_SACL.SE_DACL_AUTO_INHERITED
        acl = ACL()
        acl.AclRevision = 4
        for item in re.findall(r"\(([^)]*)\)", body):
            fields = item.split(";")
            if len(fields) < 6 or fields[0] not in _SDDL_TYPES:
                raise SchemaError(f"{where}cannot read the ACE ({item}) in SDDL")
            kind, flags, rights, otype, itype, trustee = fields[:6]
            code = _SDDL_TYPES[kind]
            entry: Any
            if code in (5, 6, 7):
                entry = {5: wace.ACCESS_ALLOWED_OBJECT_ACE, 6: wace.ACCESS_DENIED_OBJECT_ACE,
                         7: wace.SYSTEM_AUDIT_OBJECT_ACE}[code]()
                entry.Flags = wace.ACE_OBJECT_PRESENCE(0)
                entry.ObjectType = GUID.from_string(otype) if otype else None
                entry.InheritedObjectType = GUID.from_string(itype) if itype else None
            else:
                entry = {0: wace.ACCESS_ALLOWED_ACE, 1: wace.ACCESS_DENIED_ACE,
                         2: wace.SYSTEM_AUDIT_ACE}[code]()
            entry.AceType = wace.ACEType(code)
            value = 0
            for i in range(0, len(flags), 2):
                if flags[i:i + 2] not in _SDDL_FLAGS:
                    raise SchemaError(f"{where}unknown ACE flag {flags[i:i + 2]!r} in SDDL")
                value |= _SDDL_FLAGS[flags[i:i + 2]]
            entry.AceFlags = wace.AceFlags(value)
            entry.Mask = _sddl_rights(rights, where)
            entry.Sid = _sddl_sid(trustee, domain_sid, where)
            acl.aces.append(entry)
        sd.Dacl = acl
    sd.Control = control
    return sd


def _winacl() -> Any:
    try:
        from winacl.dtyp.security_descriptor import SECURITY_DESCRIPTOR
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise SchemaError("decoding security descriptors needs winacl "
                          "(pip install winacl)") from exc
    return SECURITY_DESCRIPTOR


def parse(value: bytes | str, *, dn: str = "", domain_sid: str | None = None) -> Any:
    """A winacl ``SECURITY_DESCRIPTOR`` from binary, base64 or SDDL text.

    Parameters
    ----------
    value : bytes or str
        The binary descriptor (as read from ``nTSecurityDescriptor``), its base64 text, or
        SDDL (``"O:DAG:DAD:(A;;GA;;;DA)"``).
    dn : str
        The object's DN, named in errors.
    domain_sid : str, optional
        The domain SID that SDDL's domain-relative aliases (``DA``, ``DU`` ...) stand for.

    Raises
    ------
    SchemaError
        The value is none of those, or is malformed (the message names ``dn``).

    Examples
    --------
    >>> sd = parse("O:DAG:DAD:(A;;GA;;;DA)", domain_sid="S-1-5-21-1-2-3")
    >>> str(sd.Owner)
    'S-1-5-21-1-2-3-512'
    """
    sd_class = _winacl()
    where = f"{dn}: " if dn else ""
    try:
        if isinstance(value, (bytes, bytearray, memoryview)):
            _check_layout(bytes(value), where)
            return sd_class.from_bytes(bytes(value))
        text = value.strip()
        if text[:2] in ("O:", "G:", "D:", "S:"):
            return _from_sddl(text, domain_sid, where)
        raw = base64.b64decode(text, validate=True)
        _check_layout(raw, where)
        return sd_class.from_bytes(raw)
    except SchemaError:
        raise
    except Exception as exc:  # noqa: BLE001 - winacl raises anything on bad input
        raise SchemaError(f"{where}nTSecurityDescriptor is not a valid security descriptor "
                          f"({type(exc).__name__}: {exc})") from exc


def _check_layout(data: bytes, where: str) -> None:
    """Bounds of a self-relative descriptor (MS-DTYP 2.4.6): winacl reads past the end of
    truncated data without complaint, which would be a silent wrong answer."""
    if len(data) < 20 or data[0] != 1:
        raise SchemaError(f"{where}nTSecurityDescriptor is {len(data)} bytes, not a "
                          "self-relative security descriptor (revision 1, 20-byte header)")
    for position, part in ((4, "owner"), (8, "group"), (12, "SACL"), (16, "DACL")):
        offset = int.from_bytes(data[position:position + 4], "little")
        if offset and offset + 8 > len(data):
            raise SchemaError(f"{where}nTSecurityDescriptor is truncated: its {part} starts "
                              f"at byte {offset} of {len(data)}")
        if offset and part in ("SACL", "DACL"):
            size = int.from_bytes(data[offset + 2:offset + 4], "little")
            if offset + size > len(data):
                raise SchemaError(f"{where}nTSecurityDescriptor is truncated: its {part} "
                                  f"needs {size} bytes from byte {offset}, {len(data)} in all")


def to_sddl(value: bytes | str | Any) -> str:
    """SDDL text of a descriptor (binary, base64, SDDL or a parsed one).

    Examples
    --------
    >>> to_sddl("O:BAG:BAD:(A;;RPWP;;;AU)")
    'O:S-1-5-32-544G:S-1-5-32-544D:(A;;0x30;;;S-1-5-11)'
    """
    sd = value if hasattr(value, "to_sddl") else parse(value)
    return str(sd.to_sddl())


def from_sddl(text: str, *, domain_sid: str | None = None) -> bytes:
    """The binary (self-relative) descriptor for SDDL text, as AD stores it.

    Examples
    --------
    >>> raw = from_sddl("O:DAG:DAD:(A;;GA;;;DA)", domain_sid="S-1-5-21-1-2-3")
    >>> aces({"DC=x": raw})[["owner", "trustee", "rights"]].values.tolist()
    [['S-1-5-21-1-2-3-512', 'S-1-5-21-1-2-3-512', ['GenericAll']]]
    """
    return bytes(parse(text, domain_sid=domain_sid).to_bytes())


def rights_names(mask: int) -> list[str]:
    """AD's names for an access mask (``GenericAll`` for full control, else the bits).

    Examples
    --------
    >>> rights_names(0xF01FF)
    ['GenericAll']
    >>> rights_names(0x40000 | 0x20)
    ['WriteProperty', 'WriteDacl']
    """
    if mask & Right.GenericAll or mask & FULL_CONTROL == FULL_CONTROL:
        rest = mask & ~FULL_CONTROL & ~Right.GenericAll
        return ["GenericAll", *[r.name for r in Right if rest & r and r.name]]
    names = [r.name for r in Right if mask & r and r.name]
    return [n for n in names if n]


def guid_name(guid: str | None) -> str | None:
    """The name of an object-type GUID (None when none, the GUID itself when unknown)."""
    if not guid:
        return None
    key = str(guid).lower().strip("{}")
    if key in GUIDS:
        return GUIDS[key]
    try:
        from winacl.dtyp.ace import ObjectType_to_str

        name = ObjectType_to_str(key)
    except Exception:  # noqa: BLE001 - a name is a nicety
        name = key
    return str(name)


def _descriptor_of(e: Entry) -> bytes | str | None:
    for value in e.get("nTSecurityDescriptor", ()):
        if isinstance(value, (bytes, str)) and value:
            return value
    return None


def _rows(sd: Any, names: Mapping[str, str]) -> Iterator[tuple[Any, ...]]:
    owner = str(sd.Owner) if sd.Owner is not None else None
    dacl = sd.Dacl.aces if sd.Dacl is not None else []
    if not dacl:  # keep the owner of an object whose DACL is empty, NULL or not read
        if sd.Dacl is not None:
            kind = "none"
        elif int(sd.Control or 0) & 0x4:  # SE_DACL_PRESENT without a DACL: a NULL DACL
            kind = "NULL DACL"
        else:
            kind = "DACL not read"
        yield (owner, names.get(owner or "", _sid_label(owner)), -1, kind, None, None, [], 0,
               None, None, None, None, False, False, False)
        return
    for index, ace in enumerate(dacl):
        kind = _ACE_TYPES.get(int(ace.AceType.value), ace.AceType.name)
        flags = int(ace.AceFlags or 0)
        mask = int(ace.Mask)
        object_type = getattr(ace, "ObjectType", None)
        inherited_type = getattr(ace, "InheritedObjectType", None)
        object_type = str(object_type).lower() if object_type is not None else None
        inherited_type = str(inherited_type).lower() if inherited_type is not None else None
        trustee = str(ace.Sid)
        yield (owner, names.get(owner or "", _sid_label(owner)), index, kind, trustee,
               names.get(trustee, _sid_label(trustee)), rights_names(mask), mask,
               object_type, guid_name(object_type), inherited_type, guid_name(inherited_type),
               bool(flags & 0x10), bool(flags & 0x02), not bool(flags & 0x08))


def _sid_label(sid: str | None) -> str | None:
    if not sid:
        return None
    from .ad import sid_name

    try:
        return sid_name(sid) or sid
    except SchemaError:
        return sid


ACE_COLUMNS: tuple[str, ...] = (
    "object", "owner", "owner_name", "ace", "type", "trustee", "trustee_name", "rights",
    "mask", "object_type", "object_type_name", "inherited_object_type",
    "inherited_object_type_name", "inherited", "container_inherit", "applies_here",
)


def aces(source: Iterable[Entry] | Mapping[str, bytes | str] | Any, *,
         names: Mapping[str, str] | None = None,
         domain_sid: str | None = None) -> pd.DataFrame:
    """Every ACE of every descriptor as one row.

    Parameters
    ----------
    source : Directory, iterable of Entry, or mapping
        Entries with ``nTSecurityDescriptor`` (a Directory is searched for it), or a
        mapping ``{dn: descriptor}`` (binary, base64 or SDDL).
    names : mapping, optional
        SID -> name for trustees and owners (default: the ``objectSid`` ->
        ``sAMAccountName`` of the entries given, then AD's well-known SIDs).
    domain_sid : str, optional
        For SDDL text with domain-relative aliases (``DA``, ``DU`` ...).

    Returns
    -------
    pandas.DataFrame
        One row per ACE: ``object`` (DN), ``owner`` (SID), ``owner_name``, ``ace`` (its
        position in the DACL), ``type`` (allow/deny/audit), ``trustee`` (SID),
        ``trustee_name``, ``rights`` (list of names), ``mask`` (int), ``object_type``
        (GUID), ``object_type_name`` (e.g. ``DS-Replication-Get-Changes-All``, ``member``),
        (an object with no ACE has one row, ``ace`` -1, so that its owner is still listed:
        type ``none`` for an empty DACL (nobody is allowed anything), ``NULL DACL`` when
        the descriptor says it has a DACL but points at none (everyone is allowed
        everything), ``DACL not read`` when the descriptor carries no DACL, e.g. read
        without asking for it),
        ``inherited_object_type`` and its name (the child class an inheritable ACE is
        for), ``inherited`` (inherited from a parent), ``container_inherit`` (inherited by
        children), ``applies_here`` (False for inherit-only ACEs).

    Raises
    ------
    SchemaError
        A malformed descriptor (the message names the entry).

    Examples
    --------
    >>> df = aces({"DC=x": "O:BAG:BAD:(OA;;CR;1131f6ad-9c07-11d1-f79f-00c04fc2dcd2;;AU)"})
    >>> df[["trustee_name", "rights", "object_type_name"]].values.tolist()
    [['Authenticated Users', ['ExtendedRight'], 'DS-Replication-Get-Changes-All']]
    """
    import pandas as pd

    items: list[tuple[str, bytes | str]] = []
    known: dict[str, str] = {}
    if isinstance(source, Mapping):
        items = [(str(k), v) for k, v in source.items()]
    else:
        from .directory import Directory

        entries: Iterable[Entry]
        if isinstance(source, Directory):
            entries = source.entries(attributes=["nTSecurityDescriptor", "objectSid",
                                                 "sAMAccountName", "cn"])
        else:
            entries = source
        for e in entries:
            sid = _entry_sid(e)
            if sid:
                known[sid] = str(e.first("sAMAccountName") or e.first("cn") or e.dn)
            value = _descriptor_of(e)
            if value is not None:
                items.append((e.dn, value))
    lookup: Mapping[str, str] = known
    if names:
        lookup = _Chain(names, known)
    rows: list[tuple[Any, ...]] = []
    decoded: dict[bytes | str, list[tuple[Any, ...]]] = {}  # many objects share descriptors
    for dn, value in items:
        key = bytes(value) if isinstance(value, (bytearray, memoryview)) else value
        if key not in decoded:
            decoded[key] = list(_rows(parse(value, dn=dn, domain_sid=domain_sid), lookup))
        rows.extend((dn, *row) for row in decoded[key])
    return pd.DataFrame(rows, columns=list(ACE_COLUMNS))


class _Chain(Mapping[str, str]):
    """Names from the caller's mapping first, then from the entries given."""

    def __init__(self, first: Mapping[str, str], second: Mapping[str, str]):
        self.first, self.second = first, second

    def __getitem__(self, key: str) -> str:
        try:
            return self.first[key]
        except KeyError:
            return self.second[key]

    def __iter__(self) -> Iterator[str]:
        yield from self.first
        yield from (k for k in self.second if k not in self.first)

    def __len__(self) -> int:
        return len(set(self.first) | set(self.second))


def _entry_sid(e: Entry) -> str | None:
    from .ad import sid_to_str

    value = e.first("objectSid")
    if value is None:
        return None
    try:
        return sid_to_str(value)
    except SchemaError:
        return None


def _ace_edges(mask: int, object_type: str | None) -> list[str]:
    """The BloodHound-style edges one allow ACE grants on the object it applies to."""
    name = GUIDS.get(object_type or "")
    out: list[str] = []
    if mask & Right.GenericAll or mask & FULL_CONTROL == FULL_CONTROL:
        return ["GenericAll"]
    if mask & Right.WriteDacl:
        out.append("WriteDacl")
    if mask & Right.WriteOwner:
        out.append("WriteOwner")
    if mask & Right.GenericWrite or (object_type is None and mask & Right.WriteProperty):
        out.append("GenericWrite")
    elif mask & Right.WriteProperty:
        if name == "member" or object_type == "bc0ac240-79a9-11d0-9020-00c04fc2d4cf":
            out.append("AddMember")
        elif name == "msDS-AllowedToActOnBehalfOfOtherIdentity" or \
                object_type == "4c164200-20c0-11d0-a768-00aa006e0529":
            out.append("WriteAccountRestrictions")
        elif name == "msDS-KeyCredentialLink":
            out.append("AddKeyCredentialLink")
        elif name == "servicePrincipalName":
            out.append("WriteSPN")
        elif name == "gPLink":
            out.append("WriteGPLink")
    if mask & Right.Self and name == "member":
        out.append("AddSelf")
    if mask & Right.ExtendedRight:
        if object_type is None:
            out.append("AllExtendedRights")
        elif name == "User-Force-Change-Password":
            out.append("ForceChangePassword")
        elif name == "DS-Replication-Get-Changes":
            out.append("GetChanges")
        elif name == "DS-Replication-Get-Changes-All":
            out.append("GetChangesAll")
    return out


def edges(frame: pd.DataFrame, *, include_owner: bool = True) -> pd.DataFrame:
    """Abusable rights as edges ``trustee -> object`` (BloodHound's idea, in a DataFrame).

    From the allow ACEs that apply to the object itself (not inherit-only), the rights that
    let a trustee take the object over: ``GenericAll``, ``WriteDacl``, ``WriteOwner``,
    ``GenericWrite``, ``AllExtendedRights``, ``AddMember`` (write ``member`` or the
    Membership property set), ``AddSelf``, ``ForceChangePassword``, ``WriteSPN``,
    ``AddKeyCredentialLink``, ``WriteAccountRestrictions`` (RBCD), ``GetChanges`` /
    ``GetChangesAll`` (the two halves of DCSync), ``WriteGPLink``; and ``Owns`` for the
    owner (an owner can always rewrite the DACL).

    Parameters
    ----------
    frame : pandas.DataFrame
        The output of :func:`aces`.
    include_owner : bool
        Add an ``Owns`` edge from each object's owner.

    Returns
    -------
    pandas.DataFrame
        ``trustee``, ``trustee_name``, ``object``, ``edge``, ``inherited``,
        ``object_type_name``; one row per (trustee, object, edge), first ACE wins.

    Examples
    --------
    >>> df = aces({"CN=g,DC=x": "O:BAG:BAD:(A;;WD;;;S-1-5-21-1-2-3-1105)"})
    >>> edges(df)[["trustee", "edge"]].values.tolist()
    [['S-1-5-21-1-2-3-1105', 'WriteDacl'], ['S-1-5-32-544', 'Owns']]
    """
    import pandas as pd

    rows: list[tuple[Any, ...]] = []
    seen: set[tuple[str, str, str]] = set()
    allowed = frame[(frame["type"] == "allow") & frame["applies_here"]]
    for trustee, tname, obj, mask, otype, oname, inherited in zip(
            allowed["trustee"], allowed["trustee_name"], allowed["object"], allowed["mask"],
            allowed["object_type"], allowed["object_type_name"], allowed["inherited"],
            strict=True):
        for edge in _ace_edges(int(mask), otype if isinstance(otype, str) else None):
            key = (trustee, obj, edge)
            if key not in seen:
                seen.add(key)
                rows.append((trustee, tname, obj, edge, bool(inherited), oname))
    for obj in frame.loc[frame["type"] == "NULL DACL", "object"]:  # a NULL DACL allows all
        if ("S-1-1-0", obj, "GenericAll") not in seen:
            seen.add(("S-1-1-0", obj, "GenericAll"))
            rows.append(("S-1-1-0", "Everyone", obj, "GenericAll", False, "NULL DACL"))
    if include_owner and len(frame):
        owners = frame.drop_duplicates("object")
        for obj, owner, oname in zip(owners["object"], owners["owner"], owners["owner_name"],
                                     strict=True):
            if owner and (owner, obj, "Owns") not in seen:
                seen.add((owner, obj, "Owns"))
                rows.append((owner, oname, obj, "Owns", False, None))
    return pd.DataFrame(rows, columns=["trustee", "trustee_name", "object", "edge",
                                       "inherited", "object_type_name"])
