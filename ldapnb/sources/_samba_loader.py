"""Offline loader for a provisioned, stopped Samba AD DC; run by the system's Python.

This file is executed as a script (``python3 _samba_loader.py PLAN.json REPORT.json``) by the
interpreter that has Samba's own Python bindings (Debian's ``python3-samba``, imported as
``samba`` and ``ldb``), never imported by ldapnb.  It opens ``sam.ldb`` with the system session,
so every add and modify goes through Samba's own module stack (objectSid/RID allocation,
sAMAccountType, password hashing, schema and uniqueness checks), exactly as an LDAP add would,
but without a network round trip and inside one transaction: 3-4 times faster than over LDAP.

The plan (JSON) holds ``entries`` (``dn``, ``attrs``: name -> list of ``{"t": text}`` or
``{"b": base64}``, ``password``), ``members`` (``dn``, ``values``), ``primary`` (``dn``,
``group``, ``keep_old``: a primary group other than Samba's default) and the paths.  The report
(JSON) says what was added, changed, refused (with Samba's reason) and the objectSid Samba gave
every entry.

Entries may carry the fixture's security descriptor (``sd``, base64) and their own fixture
objectSid (``sid``); the plan names the fixture's domain SID (``domain_sid``).  After every add
and member link, each descriptor is written back with its SIDs mapped to Samba's
(:func:`_load_descriptors`): counted in ``descriptors``, refusals in ``sd_refused``, trustees
naming no loaded object in ``sd_unmapped``.
"""

from __future__ import annotations

import base64
import json
import sys
from typing import Any


def _values(raw: list[dict[str, str]]) -> list[bytes]:
    out = []
    for value in raw:
        out.append(base64.b64decode(value["b"]) if "b" in value else value["t"].encode("utf-8"))
    return out


def _set_primary_group(db: Any, item: dict[str, Any], report: dict[str, Any]) -> None:
    """Give ``item["dn"]`` the primary group ``item["group"]`` the way AD lets a client do it
    (Samba's samldb module enforces Windows' rules): the account first becomes a member of the
    group, then primaryGroupID is set to the group's RID, which turns that member link into
    the implicit primary membership and the old primary group into an explicit member link;
    that link is removed unless the fixture lists the account in the old group
    (``item["keep_old"]``)."""
    import ldb
    from samba.dcerpc import security
    from samba.ndr import ndr_unpack

    user, group = item["dn"], item["group"]

    def sid_of(dn: str) -> str:
        found = db.search(base=dn, scope=ldb.SCOPE_BASE, attrs=["objectSid"])
        return str(ndr_unpack(security.dom_sid, found[0]["objectSid"][0]))

    def member(dn: str, op: int) -> None:
        msg = ldb.Message(ldb.Dn(db, dn))
        msg["member"] = ldb.MessageElement([user], op, "member")
        db.modify(msg)

    try:
        rid = sid_of(group).rsplit("-", 1)[1]
        now = db.search(base=user, scope=ldb.SCOPE_BASE, attrs=["primaryGroupID", "memberOf"])[0]
        old_rid = str(now["primaryGroupID"][0])
        if old_rid == rid:
            return
        if group.lower() not in {str(v).lower() for v in now.get("memberOf", [])}:
            member(group, ldb.FLAG_MOD_ADD)
        msg = ldb.Message(ldb.Dn(db, user))
        msg["primaryGroupID"] = ldb.MessageElement([rid.encode()], ldb.FLAG_MOD_REPLACE,
                                                   "primaryGroupID")
        db.modify(msg)
        if not item["keep_old"]:
            old = db.search(base=db.domain_dn(), scope=ldb.SCOPE_SUBTREE,
                            expression=f"(objectSid={db.get_domain_sid()}-{old_rid})",
                            attrs=["1.1"])
            if len(old) == 1:
                member(str(old[0].dn), ldb.FLAG_MOD_DELETE)
        report["primary_groups"] += 1
    except (ldb.LdbError, IndexError, KeyError) as exc:
        report["primary_refused"].append([user, group, str(exc.args[-1]) if exc.args
                                          else type(exc).__name__])


def _load_descriptors(db: Any, plan: dict[str, Any], sids: dict[str, str],
                      report: dict[str, Any]) -> None:
    """Write the fixture's descriptors with their SIDs mapped to Samba's: a fixture object's
    own SID -> the SID Samba gave that object; another SID of the fixture's domain with a
    well-known RID (< 1000: Administrator, Domain Admins, ...) -> the same RID in Samba's
    domain; every other SID (BUILTIN, NT AUTHORITY, other domains) unchanged.  A domain SID of
    the fixture naming no loaded object (its entry was refused) is kept as it is (as AD shows
    the SID of a deleted account) and listed in ``sd_unmapped``.  Samba's descriptor module
    recomputes the inherited ACEs from the parent, as AD does."""
    import ldb
    from samba.dcerpc import security
    from samba.ndr import ndr_pack, ndr_unpack

    old_domain = plan.get("domain_sid")
    new_domain = str(db.get_domain_sid())
    mapping: dict[str, str] = {}
    for item in plan["entries"]:
        if item.get("sid") and item["dn"] in sids:
            mapping[item["sid"]] = sids[item["dn"]]
    unmapped: set[str] = set()

    def mapped(sid: Any) -> Any:
        text = str(sid)
        if text in mapping:
            return security.dom_sid(mapping[text])
        if old_domain and text.startswith(old_domain + "-"):
            rid = text[len(old_domain) + 1:]
            if rid.isdigit() and int(rid) < 1000:
                return security.dom_sid(f"{new_domain}-{rid}")
            unmapped.add(text)
        return sid

    def remap(acl: Any) -> None:
        if acl is None:
            return
        aces = list(acl.aces)
        for ace in aces:
            ace.trustee = mapped(ace.trustee)
        acl.aces = aces

    for item in plan["entries"]:
        raw = item.get("sd")
        if not raw:
            continue
        dn = item["dn"]
        try:
            sd = ndr_unpack(security.descriptor, base64.b64decode(raw))
            if sd.owner_sid is not None:
                sd.owner_sid = mapped(sd.owner_sid)
            if sd.group_sid is not None:
                sd.group_sid = mapped(sd.group_sid)
            remap(sd.dacl)
            remap(sd.sacl)
            msg = ldb.Message(ldb.Dn(db, dn))
            msg["nTSecurityDescriptor"] = ldb.MessageElement(
                [ndr_pack(sd)], ldb.FLAG_MOD_REPLACE, "nTSecurityDescriptor")
            db.modify(msg)
            report["descriptors"] += 1
        except ldb.LdbError as exc:
            if exc.args and exc.args[0] == ldb.ERR_NO_SUCH_OBJECT:
                continue  # the entry itself was refused (listed in ``refused``)
            report["sd_refused"].append([dn, str(exc.args[-1])])
        except (RuntimeError, ValueError, TypeError) as exc:
            report["sd_refused"].append([dn, str(exc.args[-1]) if exc.args
                                         else type(exc).__name__])
    report["sd_unmapped"] = sorted(unmapped)


def main(plan_path: str, report_path: str) -> int:
    import ldb
    from samba.auth import system_session
    from samba.dcerpc import security
    from samba.ndr import ndr_unpack
    from samba.param import LoadParm
    from samba.samdb import SamDB

    with open(plan_path, encoding="utf-8") as f:
        plan = json.load(f)
    lp = LoadParm()
    lp.load(plan["smb_conf"])
    db = SamDB(url=plan["sam_ldb"], session_info=system_session(), lp=lp)
    report: dict[str, Any] = {"added": 0, "changed": 0, "refused": [], "attribute_refused": [],
                              "members_added": 0, "members_missing": [], "sids": {},
                              "primary_groups": 0, "primary_refused": [],
                              "descriptors": 0, "sd_refused": [], "sd_unmapped": []}

    def exists(dn: str) -> bool:
        try:
            return len(db.search(base=dn, scope=ldb.SCOPE_BASE, attrs=["1.1"])) == 1
        except ldb.LdbError:
            return False

    db.transaction_start()
    try:
        for item in plan["entries"]:
            dn = item["dn"]
            attrs = {name: _values(values) for name, values in item["attrs"].items()}
            if item.get("existing") or exists(dn):
                for name, values in attrs.items():
                    if name.lower() in item.get("keep_existing", []):
                        continue
                    msg = ldb.Message(ldb.Dn(db, dn))
                    msg[name] = ldb.MessageElement(values, ldb.FLAG_MOD_REPLACE, name)
                    try:
                        db.modify(msg)
                    except ldb.LdbError as exc:
                        report["attribute_refused"].append([dn, name, str(exc.args[-1])])
                report["changed"] += 1
                continue
            message: dict[str, Any] = {"dn": dn}
            message.update(attrs)
            if item.get("password"):
                message["unicodePwd"] = f'"{item["password"]}"'.encode("utf-16-le")
            for _ in range(len(message)):
                try:
                    db.add(message)
                    report["added"] += 1
                    break
                except ldb.LdbError as exc:
                    reason = str(exc.args[-1])
                    # an attribute Samba's schema lacks (e.g. LAPS' ms-Mcs-AdmPwd*): drop it
                    # and keep the entry, saying so
                    unknown = [n for n in message if n != "dn" and
                               (f"'{n.lower()}'" in reason.lower()
                                or f" {n.lower()} " in reason.lower())
                               and ("schema" in reason.lower() or "attribute" in reason.lower())]
                    if not unknown:
                        report["refused"].append([dn, reason])
                        break
                    for name in unknown:
                        del message[name]
                        report["attribute_refused"].append([dn, name, reason])
        for item in plan["members"]:
            group = item["dn"]
            if not exists(group):
                continue
            present = []
            for value in item["values"]:
                if exists(value):
                    present.append(value)
                else:
                    report["members_missing"].append([group, value])
            if not present:
                continue
            current = {str(v).lower() for v in
                       db.search(base=group, scope=ldb.SCOPE_BASE, attrs=["member"])[0]
                       .get("member", [])}
            present = [v for v in present if v.lower() not in current]
            msg = ldb.Message(ldb.Dn(db, group))
            msg["member"] = ldb.MessageElement(present, ldb.FLAG_MOD_ADD, "member")
            try:
                db.modify(msg)
                report["members_added"] += len(present)
            except ldb.LdbError:
                for value in present:  # find the one Samba refuses
                    one = ldb.Message(ldb.Dn(db, group))
                    one["member"] = ldb.MessageElement([value], ldb.FLAG_MOD_ADD, "member")
                    try:
                        db.modify(one)
                        report["members_added"] += 1
                    except ldb.LdbError as exc:
                        report["members_missing"].append([group, f"{value} ({exc.args[-1]})"])
        for item in plan.get("primary", []):
            _set_primary_group(db, item, report)
        spn = plan.get("spns")
        if spn:  # what samba_spnupdate adds some seconds after the first start, added now
            have = {str(v).lower() for v in
                    db.search(base=spn["dn"], scope=ldb.SCOPE_BASE,
                              attrs=["servicePrincipalName"])[0]
                    .get("servicePrincipalName", [])}
            new = [v for v in spn["values"] if v.lower() not in have]
            if new:
                msg = ldb.Message(ldb.Dn(db, spn["dn"]))
                msg["servicePrincipalName"] = ldb.MessageElement(
                    new, ldb.FLAG_MOD_ADD, "servicePrincipalName")
                db.modify(msg)
        for item in plan["entries"]:
            try:
                found = db.search(base=item["dn"], scope=ldb.SCOPE_BASE, attrs=["objectSid"])
            except ldb.LdbError:
                continue
            if found and "objectSid" in found[0]:
                sid = ndr_unpack(security.dom_sid, found[0]["objectSid"][0])
                report["sids"][item["dn"]] = str(sid)
        _load_descriptors(db, plan, report["sids"], report)
        db.transaction_commit()
    except BaseException:
        db.transaction_cancel()
        raise
    with open(report_path, "w", encoding="utf-8") as out:
        json.dump(report, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
