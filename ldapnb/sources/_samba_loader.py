"""Offline loader for a provisioned, stopped Samba AD DC; run by the system's Python.

This file is executed as a script (``python3 _samba_loader.py PLAN.json REPORT.json``) by the
interpreter that has Samba's own Python bindings (Debian's ``python3-samba``, imported as
``samba`` and ``ldb``), never imported by ldapnb.  It opens ``sam.ldb`` with the system session,
so every add and modify goes through Samba's own module stack (objectSid/RID allocation,
sAMAccountType, password hashing, schema and uniqueness checks), exactly as an LDAP add would,
but without a network round trip and inside one transaction: 3-4 times faster than over LDAP.

The plan (JSON) holds ``entries`` (``dn``, ``attrs``: name -> list of ``{"t": text}`` or
``{"b": base64}``, ``password``), ``members`` (``dn``, ``values``) and the paths.  The report
(JSON) says what was added, changed, refused (with Samba's reason) and the objectSid Samba gave
every entry.
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
                              "members_added": 0, "members_missing": [], "sids": {}}

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
        db.transaction_commit()
    except BaseException:
        db.transaction_cancel()
        raise
    for item in plan["entries"]:
        try:
            found = db.search(base=item["dn"], scope=ldb.SCOPE_BASE, attrs=["objectSid"])
        except ldb.LdbError:
            continue
        if found and "objectSid" in found[0]:
            sid = ndr_unpack(security.dom_sid, found[0]["objectSid"][0])
            report["sids"][item["dn"]] = str(sid)
    with open(report_path, "w", encoding="utf-8") as out:
        json.dump(report, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
