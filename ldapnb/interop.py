"""Inputs auditors already have: ldapdomaindump JSON and BloodHound CE collections.

Both load into a :class:`~ldapnb.directory.Directory` that :func:`ldapnb.audit.run` audits
like any other; both can be written from a Directory (e.g. contoso) to test tools with.

ldapdomaindump (``ldapdomaindump -o DIR``) writes ``domain_users.json``,
``domain_computers.json``, ``domain_groups.json``, ``domain_policy.json`` and
``domain_trusts.json``: each a JSON list of ldap3 ``Entry.entry_to_json()`` objects
(``{"attributes": {...}, "dn": ...}``, values formatted by ldap3's AD schema: SIDs and GUIDs
as text, FILETIMEs as dates, binary as ``{"encoded", "encoding": "base64"}``).
:func:`write_ldapdomaindump` produces them with ldap3 itself (a MOCK_SYNC connection over
ldap3's offline AD 2012 R2 schema), so the formatting is ldap3's, as in the real tool.
ldapdomaindump does not dump ``nTSecurityDescriptor`` (AD sends it only when asked by name,
with the SD flags control): an audit of such a dump says so (``acl-coverage``).

BloodHound CE (SharpHound) writes ``users.json``, ``groups.json``, ``computers.json``,
``domains.json`` ... each ``{"data": [...], "meta": {"type", "count", "version",
"methods"}}`` with objects shaped as BloodHound's ingest models (``ObjectIdentifier``,
``Properties``, ``Aces`` of ``PrincipalSID``/``PrincipalType``/``RightName``/``IsInherited``,
``Members``, ``PrimaryGroupSID``, ``AllowedToAct`` ...).  Its ACEs are already abstracted to
edge names; :func:`read_bloodhound` turns each back into the DACL entry that grants it (so
the rights checks run on it), and :func:`write_bloodhound` writes the edges
:func:`ldapnb.security.edges` finds.  Not mapped: sessions, local groups, GPOs, ADCS, and
``haslaps`` (no LAPS attribute value is invented: the LAPS check then reports no coverage).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import ad, security
from . import dn as dnlib
from .entry import Entry
from .errors import LdapnbError

__all__ = ["read_ldapdomaindump", "write_ldapdomaindump", "read_bloodhound",
           "write_bloodhound"]

LDD_FILES = ("domain_users", "domain_computers", "domain_groups", "domain_policy",
             "domain_trusts")
_FILETIME = {"pwdlastset", "lastlogontimestamp", "lastlogon", "accountexpires",
             "badpasswordtime", "lockouttime", "ms-mcs-admpwdexpirationtime",
             "mslaps-passwordexpirationtime"}
_GENERALIZED = {"whencreated", "whenchanged", "dscorepropagationdata"}
NEVER = 9223372036854775807


# ------------------------------------------------------------------------------------------
# ldapdomaindump
# ------------------------------------------------------------------------------------------


def _ldd_value(name: str, value: Any) -> Any:
    low = name.lower()
    if isinstance(value, dict) and value.get("encoding") == "base64":
        import base64

        return base64.b64decode(value["encoded"])
    if isinstance(value, str) and low in ("objectsid", "sidhistory"):
        return ad.sid_to_bytes(value, attribute=name)
    if isinstance(value, str) and low == "objectguid":
        return ad.guid_to_bytes(value.strip("{}"), attribute=name)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and (low in _FILETIME or low in _GENERALIZED):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return value
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if low in _GENERALIZED:
            return when.astimezone(UTC).strftime("%Y%m%d%H%M%S.0Z")
        if when.year >= 9999:
            return str(NEVER)
        if when.year <= 1601:
            return "0"
        return str(ad.datetime_to_filetime(when))
    return value if isinstance(value, str) else str(value)


def read_ldapdomaindump(folder: str | os.PathLike[str]) -> list[Entry]:
    """The entries of an ldapdomaindump output folder (its ``domain_*.json`` files).

    Missing parents (OUs, containers: ldapdomaindump dumps none) are added as plain
    ``organizationalUnit`` / ``organizationalRole`` entries so that the entries load into
    :meth:`Directory.from_entries`.

    Raises
    ------
    LdapnbError
        No ``domain_*.json`` file in the folder, or one that is not ldapdomaindump's JSON.
    """
    root = Path(folder)
    found = [root / f"{name}.json" for name in LDD_FILES if (root / f"{name}.json").exists()]
    if not found:
        raise LdapnbError(f"{root}: no ldapdomaindump JSON here (expected "
                          f"{', '.join(n + '.json' for n in LDD_FILES)})")
    entries: dict[str, Entry] = {}
    for path in found:
        try:
            items = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise LdapnbError(f"{path}: not JSON ({exc})") from exc
        if not isinstance(items, list):
            raise LdapnbError(f"{path}: expected a list of entries, as ldapdomaindump "
                              "writes (was --grouped JSON used?)")
        for n, item in enumerate(items):
            if not isinstance(item, dict) or "dn" not in item or "attributes" not in item:
                raise LdapnbError(f"{path}: item {n} has no dn/attributes")
            attrs = {name: [_ldd_value(name, v) for v in values]
                     for name, values in item["attributes"].items() if values not in ([], None)}
            entries.setdefault(item["dn"].lower(), Entry(item["dn"], attrs))
    return _with_parents(list(entries.values()))


def _with_parents(entries: list[Entry]) -> list[Entry]:
    """Add the missing ancestors, then sort parents first."""
    from .dn import normalize, parent

    have = {normalize(e.dn) for e in entries}
    extra: list[Entry] = []
    for e in list(entries):
        up = parent(e.dn)
        while up:
            key = normalize(up)
            if key in have:
                break
            have.add(key)
            rdn = up.split(",", 1)[0]
            kind, _, value = rdn.partition("=")
            if kind.lower() == "ou":
                extra.append(Entry(up, {"objectClass": ["top", "organizationalUnit"],
                                        "ou": [value]}))
            elif kind.lower() == "dc":
                extra.append(Entry(up, {"objectClass": ["top", "domain"], "dc": [value]}))
            else:
                extra.append(Entry(up, {"objectClass": ["top", "organizationalRole"],
                                        "cn": [value]}))
            up = parent(up)
    out = extra + entries
    out.sort(key=lambda e: len(normalize(e.dn).split(",")))
    for k, e in enumerate(out):  # ldapnb's msuser model: securityPrincipal carries the SID
        classes = [str(c) for c in e.get("objectClass", ())]
        low = {c.lower() for c in classes}
        add = []
        if "objectSid" in e and low & {"user", "group", "computer"} and \
                "securityprincipal" not in low:
            add.append("securityPrincipal")
        if "objectSid" in e and "domain" in low and "extensibleobject" not in low:
            add.append("extensibleObject")
        if add:
            e = e.copy()
            e.set("objectClass", classes + add)
            out[k] = e
    return out


def write_ldapdomaindump(source: Any, folder: str | os.PathLike[str]) -> list[Path]:
    """Write ``source`` (a Directory or entries) as ldapdomaindump's JSON files.

    Values are formatted by ldap3's own ``Entry.entry_to_json`` over its offline AD schema,
    as ldapdomaindump does; ``nTSecurityDescriptor`` is left out (ldapdomaindump never has
    it).  Returns the files written.

    Examples
    --------
    >>> import tempfile
    >>> from ldapnb import Directory
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     files = write_ldapdomaindump(Directory.embedded("contoso"), tmp)
    ...     [p.name for p in files]
    ['domain_users.json', 'domain_computers.json', 'domain_groups.json', \
'domain_policy.json', 'domain_trusts.json']
    """
    from ldap3 import ALL_ATTRIBUTES

    from .sources._ldap3 import offline_ad_connection

    entries = _entries(source)
    # ldap3's offline AD 2012 R2 schema cannot format attributes it lacks (LAPS's, ldapnb's
    # securityPrincipal class name): they are left out, as is nTSecurityDescriptor
    conn = offline_ad_connection(
        (e.dn, {k: list(v) for k, v in e.items() if k.lower() != "ntsecuritydescriptor"})
        for e in entries)
    bases = {e.dn for e in entries
             if not any(c.lower() not in ("top", "domain", "domaindns", "extensibleobject",
                                          "dcobject") for c in e.get("objectClass", ()))}
    base = min(bases, key=len) if bases else dnlib.parent(entries[0].dn)
    searches = {
        "domain_users": "(&(objectClass=user)(!(objectClass=computer)))",
        "domain_computers": "(&(objectClass=computer)(objectClass=user))",
        "domain_groups": "(objectClass=group)",
        "domain_policy": "(objectClass=domain)",
        "domain_trusts": "(objectClass=trustedDomain)",
    }
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, flt in searches.items():
        conn.search(base, flt, attributes=ALL_ATTRIBUTES)
        text = "[" + ",".join(x.entry_to_json() for x in conn.entries) + "]"
        path = out / f"{name}.json"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    conn.unbind()
    return written


def _entries(source: Any) -> list[Entry]:
    from .directory import Directory

    if isinstance(source, Directory):
        return list(source.entries())
    return list(source)


# ------------------------------------------------------------------------------------------
# BloodHound CE
# ------------------------------------------------------------------------------------------

#: BloodHound edge name -> the ACE (SDDL) that grants it ({} is the trustee SID).
_RIGHT_ACES = {
    "GenericAll": "(A;{f};GA;;;{s})",
    "WriteDacl": "(A;{f};WD;;;{s})",
    "WriteOwner": "(A;{f};WO;;;{s})",
    "GenericWrite": "(A;{f};RPWPSW;;;{s})",
    "AllExtendedRights": "(A;{f};CR;;;{s})",
    "AddMember": "(OA;{f};WP;bf9679c0-0de6-11d0-a285-00aa003049e2;;{s})",
    "AddSelf": "(OA;{f};SW;bf9679c0-0de6-11d0-a285-00aa003049e2;;{s})",
    "ForceChangePassword": "(OA;{f};CR;00299570-246d-11d0-a768-00aa006e0529;;{s})",
    "GetChanges": "(OA;{f};CR;1131f6aa-9c07-11d1-f79f-00c04fc2dcd2;;{s})",
    "GetChangesAll": "(OA;{f};CR;1131f6ad-9c07-11d1-f79f-00c04fc2dcd2;;{s})",
    "AddKeyCredentialLink": "(OA;{f};WP;5b47d60f-6090-40b2-9f37-2a4de88f3063;;{s})",
    "WriteSPN": "(OA;{f};WP;f3a64788-5306-11d1-a9c5-0000f80367c1;;{s})",
    "WriteAccountRestrictions": "(OA;{f};WP;4c164200-20c0-11d0-a768-00aa006e0529;;{s})",
    "WriteGPLink": "(OA;{f};WP;f30e3bbe-9ff0-11d1-b603-0000f80367c1;;{s})",
}
_BH_FILES = {"users": "User", "groups": "Group", "computers": "Computer", "domains": "Domain"}


def _epoch(value: Any) -> str | None:
    """BloodHound's Unix-epoch times (-1 / 0: never) as FILETIME text."""
    if not isinstance(value, (int, float)) or value <= 0:
        return "0" if isinstance(value, (int, float)) else None
    return str(ad.datetime_to_filetime(datetime.fromtimestamp(value, UTC)))


def _descriptor(item: dict[str, Any], owner: str | None) -> bytes | None:
    aces = item.get("Aces") or []
    parts = []
    for ace in aces:
        name, sid = ace.get("RightName"), ace.get("PrincipalSID")
        if name == "Owns" and not owner:
            owner = sid
        template = _RIGHT_ACES.get(str(name))
        if template and sid:
            parts.append(template.format(f="ID" if ace.get("IsInherited") else "", s=sid))
    if not parts and not owner:
        return None
    return security.from_sddl(f"O:{owner or 'S-1-5-32-544'}G:{owner or 'S-1-5-32-544'}"
                              f"D:{''.join(parts)}")


def read_bloodhound(folder: str | os.PathLike[str]) -> list[Entry]:
    """Entries from a BloodHound CE collection (``users.json``, ``groups.json``,
    ``computers.json``, ``domains.json``; other files are ignored).

    userAccountControl is rebuilt from BloodHound's flags (enabled, dontreqpreauth,
    passwordnotreqd, pwdneverexpires, unconstraineddelegation, trustedtoauth, sensitive),
    group members and primary groups from SIDs, ``Aces`` into an nTSecurityDescriptor that
    grants exactly those edges, ``AllowedToAct`` into msDS-AllowedToActOnBehalfOfOtherIdentity.

    Raises
    ------
    LdapnbError
        No such files, or a file that is not BloodHound's ``{"data", "meta"}`` JSON.
    """
    root = Path(folder)
    items: dict[str, list[dict[str, Any]]] = {}
    for stem in _BH_FILES:
        path = root / f"{stem}.json"
        if not path.exists():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except json.JSONDecodeError as exc:
            raise LdapnbError(f"{path}: not JSON ({exc})") from exc
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise LdapnbError(f"{path}: expected BloodHound's {{'data': [...], 'meta': "
                              "{...}} layout")
        items[stem] = data["data"]
    if not items:
        raise LdapnbError(f"{root}: no BloodHound JSON here (expected users.json, "
                          "groups.json, computers.json, domains.json)")
    dn_of = {}
    for objects in items.values():
        for o in objects:
            dn = (o.get("Properties") or {}).get("distinguishedname")
            if dn and o.get("ObjectIdentifier"):
                dn_of[str(o["ObjectIdentifier"]).upper()] = dn
    entries: list[Entry] = []
    for o in items.get("domains", []):
        p = o.get("Properties") or {}
        attrs: dict[str, list[Any]] = {
            "objectClass": ["top", "domain", "extensibleObject"],
            "dc": [p["distinguishedname"].split(",")[0].split("=", 1)[1]],
            "objectSid": [ad.sid_to_bytes(o["ObjectIdentifier"])]}
        sd = _descriptor(o, None)
        if sd:
            attrs["nTSecurityDescriptor"] = [sd]
        entries.append(Entry(p["distinguishedname"], attrs))
    for stem, kind in (("users", "User"), ("computers", "Computer"), ("groups", "Group")):
        for o in items.get(stem, []):
            entries.append(_bh_entry(o, kind, dn_of))
    return _with_parents(entries)


def _bh_entry(o: dict[str, Any], kind: str, dn_of: dict[str, str]) -> Entry:
    p = o.get("Properties") or {}
    dn = p.get("distinguishedname")
    if not dn:
        raise LdapnbError(f"BloodHound {kind} {o.get('ObjectIdentifier')} has no "
                          "distinguishedname")
    sid = str(o["ObjectIdentifier"])
    name = p.get("samaccountname") or str(p.get("name", "")).split("@")[0]
    attrs: dict[str, list[Any]] = {"objectSid": [ad.sid_to_bytes(sid)],
                                   "sAMAccountName": [name],
                                   "cn": [dn.split(",")[0].split("=", 1)[1]]}
    if kind == "Group":
        attrs["objectClass"] = ["top", "group"]
        members = [dn_of.get(str(m.get("ObjectIdentifier")).upper()) for m in
                   o.get("Members") or []]
        if any(members):
            attrs["member"] = [m for m in members if m]
    else:
        attrs["objectClass"] = ["top", "person", "organizationalPerson", "user"] + (
            ["computer"] if kind == "Computer" else [])
        uac = ad.UAC.WORKSTATION_TRUST_ACCOUNT if kind == "Computer" else ad.UAC.NORMAL_ACCOUNT
        if o.get("IsDC"):
            uac = ad.UAC.SERVER_TRUST_ACCOUNT | ad.UAC.TRUSTED_FOR_DELEGATION
        for flag, prop in ((ad.UAC.DONT_REQ_PREAUTH, "dontreqpreauth"),
                           (ad.UAC.PASSWD_NOTREQD, "passwordnotreqd"),
                           (ad.UAC.DONT_EXPIRE_PASSWORD, "pwdneverexpires"),
                           (ad.UAC.TRUSTED_FOR_DELEGATION, "unconstraineddelegation"),
                           (ad.UAC.TRUSTED_TO_AUTH_FOR_DELEGATION, "trustedtoauth"),
                           (ad.UAC.NOT_DELEGATED, "sensitive")):
            if p.get(prop):
                uac |= flag
        if p.get("enabled") is False:
            uac |= ad.UAC.ACCOUNTDISABLE
        attrs["userAccountControl"] = [str(int(uac))]
        primary = o.get("PrimaryGroupSID")
        if primary:
            attrs["primaryGroupID"] = [str(primary).rsplit("-", 1)[1]]
        for attribute, prop in (("pwdLastSet", "pwdlastset"),
                                ("lastLogonTimestamp", "lastlogontimestamp")):
            value = _epoch(p.get(prop))
            if value is not None:
                attrs[attribute] = [value]
        if p.get("serviceprincipalnames"):
            attrs["servicePrincipalName"] = list(p["serviceprincipalnames"])
        if p.get("sidhistory"):
            attrs["sIDHistory"] = [ad.sid_to_bytes(v, attribute="sIDHistory")
                                   for v in p["sidhistory"]]
        if p.get("allowedtodelegate"):
            attrs["msDS-AllowedToDelegateTo"] = list(p["allowedtodelegate"])
        if p.get("operatingsystem"):
            attrs["operatingSystem"] = [p["operatingsystem"]]
        act = [str(a.get("ObjectIdentifier")) for a in o.get("AllowedToAct") or []]
        if act and kind == "Computer":
            attrs["msDS-AllowedToActOnBehalfOfOtherIdentity"] = [security.from_sddl(
                "O:S-1-5-32-544D:" + "".join(f"(A;;0xf01ff;;;{s})" for s in act))]
    if p.get("admincount"):
        attrs["adminCount"] = ["1"]
    sd = _descriptor(o, None)
    if sd:
        attrs["nTSecurityDescriptor"] = [sd]
    return Entry(dn, attrs)


def write_bloodhound(source: Any, folder: str | os.PathLike[str], *,
                     domain: str | None = None) -> list[Path]:
    """Write ``source`` (a Directory or entries) as a BloodHound CE collection.

    Aces come from the entries' nTSecurityDescriptor (:func:`ldapnb.security.edges`, the
    Owns edge included); objects without a descriptor get no Aces.  Returns the files.

    Examples
    --------
    >>> import tempfile
    >>> from ldapnb import Directory
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     files = write_bloodhound(Directory.embedded("contoso"), tmp)
    ...     [p.name for p in files]
    ['users.json', 'groups.json', 'computers.json', 'domains.json']
    """
    entries = _entries(source)
    by_dn = {e.dn.lower(): e for e in entries}

    def sid_of(e: Entry) -> str:
        value = e.first("objectSid")
        return ad.sid_to_str(value) if isinstance(value, (str, bytes)) else ""

    head = next((e for e in entries if e.first("objectSid") and
                 sid_of(e).count("-") == 6), None)
    if head is None:
        raise LdapnbError("no domain head (an entry whose objectSid is a domain SID) to "
                          "write a BloodHound collection for")
    domain_sid = sid_of(head)
    dns_name = domain or ".".join(r.split("=", 1)[1] for r in head.dn.split(",")).upper()
    frame = security.edges(security.aces([e for e in entries
                                          if e.get("nTSecurityDescriptor")]))
    sid_type: dict[str, str] = {}
    kinds: dict[str, list[Entry]] = {"users": [], "groups": [], "computers": []}
    for e in entries:
        classes = {str(c).lower() for c in e.get("objectClass", ())}
        if not e.first("objectSid"):
            continue
        sid = sid_of(e)
        if "computer" in classes:
            kinds["computers"].append(e)
            sid_type[sid] = "Computer"
        elif "group" in classes:
            kinds["groups"].append(e)
            sid_type[sid] = "Group"
        elif "user" in classes:
            kinds["users"].append(e)
            sid_type[sid] = "User"
    aces: dict[str, list[dict[str, Any]]] = {}
    for trustee, obj, edge, inherited in zip(frame["trustee"], frame["object"], frame["edge"],
                                             frame["inherited"], strict=True):
        aces.setdefault(obj.lower(), []).append({
            "PrincipalSID": trustee, "PrincipalType": sid_type.get(trustee, "Base"),
            "RightName": edge, "IsInherited": bool(inherited)})

    def base(e: Entry, kind: str) -> dict[str, Any]:
        sid = sid_of(e)
        name = str(e.first("sAMAccountName") or e.first("cn") or "")
        props: dict[str, Any] = {
            "name": f"{name.upper()}@{dns_name}", "domain": dns_name, "domainsid": domain_sid,
            "distinguishedname": e.dn.upper(), "samaccountname": name,
            "admincount": str(e.first("adminCount") or "") == "1"}
        return {"ObjectIdentifier": sid, "Properties": props,
                "Aces": aces.get(e.dn.lower(), []), "IsDeleted": False,
                "IsACLProtected": False, "ContainedBy": None}

    def flags(e: Entry) -> ad.UAC:
        value = e.first("userAccountControl")
        return ad.uac_flags(value) if value is not None else ad.UAC(0)

    def epoch(e: Entry, attribute: str) -> int:
        value = e.first(attribute)
        if value is None:
            return -1
        when = ad.filetime_to_datetime(value, attribute=attribute)
        return int(when.timestamp()) if when else 0

    users, computers, groups = [], [], []
    for e in kinds["users"] + kinds["computers"]:
        kind = "Computer" if e in kinds["computers"] else "User"
        o = base(e, kind)
        f = flags(e)
        o["Properties"].update({
            "enabled": ad.UAC.ACCOUNTDISABLE not in f,
            "dontreqpreauth": ad.UAC.DONT_REQ_PREAUTH in f,
            "passwordnotreqd": ad.UAC.PASSWD_NOTREQD in f,
            "pwdneverexpires": ad.UAC.DONT_EXPIRE_PASSWORD in f,
            "unconstraineddelegation": ad.UAC.TRUSTED_FOR_DELEGATION in f,
            "trustedtoauth": ad.UAC.TRUSTED_TO_AUTH_FOR_DELEGATION in f,
            "sensitive": ad.UAC.NOT_DELEGATED in f,
            "hasspn": bool(e.get("servicePrincipalName")),
            "serviceprincipalnames": [str(v) for v in e.get("servicePrincipalName", ())],
            "sidhistory": [ad.sid_to_str(v, attribute="sIDHistory")
                           for v in e.get("sIDHistory", ())],
            "allowedtodelegate": [str(v) for v in e.get("msDS-AllowedToDelegateTo", ())],
            "pwdlastset": epoch(e, "pwdLastSet"),
            "lastlogontimestamp": epoch(e, "lastLogonTimestamp")})
        primary = e.first("primaryGroupID")
        o["PrimaryGroupSID"] = f"{domain_sid}-{primary!s}" if primary else None
        o["AllowedToDelegate"] = []
        o["HasSIDHistory"] = [{"ObjectIdentifier": s, "ObjectType": sid_type.get(s, "Base")}
                              for s in o["Properties"]["sidhistory"]]
        o["DomainSID"] = domain_sid
        o["UnconstrainedDelegation"] = o["Properties"]["unconstraineddelegation"]
        if kind == "Computer":
            o["IsDC"] = bool(f & ad.UAC.SERVER_TRUST_ACCOUNT)
            o["Properties"]["operatingsystem"] = str(e.first("operatingSystem") or "")
            o["Properties"]["haslaps"] = bool(e.get("ms-Mcs-AdmPwdExpirationTime")
                                              or e.get("msLAPS-PasswordExpirationTime"))
            act = e.first("msDS-AllowedToActOnBehalfOfOtherIdentity")
            o["AllowedToAct"] = [] if act is None else [
                {"ObjectIdentifier": t, "ObjectType": sid_type.get(t, "Base")}
                for t in security.aces({e.dn: act})["trustee"]]
            computers.append(o)
        else:
            o["SPNTargets"] = []
            users.append(o)
    for e in kinds["groups"]:
        o = base(e, "Group")
        members = []
        for m in e.get("member", ()):
            target = by_dn.get(str(m).lower())
            if target is not None and target.first("objectSid"):
                sid = sid_of(target)
                members.append({"ObjectIdentifier": sid,
                                "ObjectType": sid_type.get(sid, "Base")})
        o["Members"] = members
        o["HasSIDHistory"] = []
        groups.append(o)
    domain_obj = {"ObjectIdentifier": domain_sid,
                  "Properties": {"name": dns_name, "domain": dns_name,
                                 "domainsid": domain_sid,
                                 "distinguishedname": head.dn.upper()},
                  "Aces": aces.get(head.dn.lower(), []), "Links": [], "Trusts": [],
                  "ChildObjects": [], "IsDeleted": False, "IsACLProtected": False,
                  "ContainedBy": None}
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, data in (("users", users), ("groups", groups), ("computers", computers),
                       ("domains", [domain_obj])):
        path = out / f"{stem}.json"
        path.write_text(json.dumps({"data": data, "meta": {
            "methods": 0, "type": stem, "count": len(data), "version": 6}},
            ensure_ascii=False, default=str), encoding="utf-8")
        written.append(path)
    return written


def _unused(x: Iterable[Any]) -> None:  # pragma: no cover - keeps Iterable imported
    del x
