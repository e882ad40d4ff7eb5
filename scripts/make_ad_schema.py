"""Generate ldapnb/schema/ad.schema from Microsoft's published Active Directory schema.

Source: the Windows Server 2016 schema in [MS-ADSC] (classes) and [MS-ADA1..3] (attributes), as
the LDIF files Samba ships in ``/usr/share/samba/setup/ad-schema/`` (Debian package
``samba-ad-provision``).  Microsoft's open-specifications notice, at the head of those files,
allows distributing "any schema ... included in the documentation" in an implementation; the
generated file says so and where it came from.

What is written (OpenLDAP schema syntax, read by :class:`ldapnb.schema.Schema`):

- every AD attribute type whose name and OID ldapnb's default schema (core, cosine,
  inetorgperson, nis, dyngroup, msuser) does not already define, its LDAP syntax and matching
  rules from attributeSyntax/oMSyntax ([MS-ADTS] 3.1.1.2.2.2 "LDAP representations"),
  SINGLE-VALUE from isSingleValued.  NO-USER-MODIFICATION is not written (ldapnb's writes are
  checked by other rules);
- every AD class the default schema does not define, SUP from subClassOf, kind from
  objectClassCategory (0 "88 class" and 1: STRUCTURAL, 2: ABSTRACT, 3: AUXILIARY);
- for every class (new, or already defined: then with its existing OID, names, SUP and kind,
  AD's own MUST, the X.500 MUST it had moved to MAY), a MAY list widened by what AD allows
  on it: the attributes of its AD superclasses and of its static auxiliary classes;
- ``top`` itself with AD's top's attributes as MAY (instanceType, objectGUID, whenCreated,
  uSNChanged ...; AD's MUST objectCategory, nTSecurityDescriptor, instanceType become MAY,
  since an export read without the SD flags control has no nTSecurityDescriptor).

The file is NOT loaded by ldapnb's private slapd (DEFAULT_FILES is unchanged): it is for
reading AD data in the embedded directory (``ldapnb.schema.ad_schema``).

Run: ``python scripts/make_ad_schema.py [schema-dir]`` (needs ldapnb importable).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ldapnb.schema import default_schema

SRC = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/samba/setup/ad-schema")
OUT = Path(__file__).resolve().parent.parent / "ldapnb" / "schema" / "ad.schema"

DS = "1.3.6.1.4.1.1466.115.121.1."
#: (attributeSyntax, oMSyntax) -> (LDAP syntax, EQUALITY, ORDERING, SUBSTR); oMSyntax None: any
SYNTAX = {
    ("2.5.5.1", None): (DS + "12", "distinguishedNameMatch", None, None),
    ("2.5.5.2", None): (DS + "38", "objectIdentifierMatch", None, None),
    ("2.5.5.3", None): (DS + "15", "caseExactMatch", None, "caseExactSubstringsMatch"),
    ("2.5.5.4", None): (DS + "15", "caseIgnoreMatch", None, "caseIgnoreSubstringsMatch"),
    ("2.5.5.5", 19): (DS + "44", "caseIgnoreMatch", None, "caseIgnoreSubstringsMatch"),
    ("2.5.5.5", 22): (DS + "26", "caseIgnoreIA5Match", None, "caseIgnoreIA5SubstringsMatch"),
    ("2.5.5.6", None): (DS + "36", "numericStringMatch", None, "numericStringSubstringsMatch"),
    ("2.5.5.7", None): (DS + "15", "caseExactMatch", None, None),
    ("2.5.5.8", None): (DS + "7", "booleanMatch", None, None),
    ("2.5.5.9", None): (DS + "27", "integerMatch", "integerOrderingMatch", None),
    ("2.5.5.10", None): (DS + "40", "octetStringMatch", None, None),
    ("2.5.5.11", 24): (DS + "24", "generalizedTimeMatch", "generalizedTimeOrderingMatch", None),
    ("2.5.5.11", 23): (DS + "15", "caseIgnoreMatch", "caseIgnoreOrderingMatch", None),
    ("2.5.5.12", None): (DS + "15", "caseIgnoreMatch", "caseIgnoreOrderingMatch",
                         "caseIgnoreSubstringsMatch"),
    ("2.5.5.13", None): (DS + "15", "caseIgnoreMatch", None, "caseIgnoreSubstringsMatch"),
    ("2.5.5.14", None): (DS + "15", "caseIgnoreMatch", None, None),
    ("2.5.5.15", None): (DS + "40", "octetStringMatch", None, None),
    ("2.5.5.16", None): (DS + "27", "integerMatch", "integerOrderingMatch", None),
    ("2.5.5.17", None): (DS + "40", "octetStringMatch", None, None),
}


def records(path: Path) -> list[dict[str, list[str]]]:
    text = path.read_text(encoding="cp1252").replace("\r\n", "\n").replace("\n ", "")
    out = []
    for block in text.split("\n\n"):
        rec: dict[str, list[str]] = {}
        for line in block.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            name, _, value = line.partition(":")
            rec.setdefault(name.strip().lower(), []).append(value.strip())
        if "ldapdisplayname" in rec:
            out.append(rec)
    return out


def one(rec: dict[str, list[str]], key: str, default: str = "") -> str:
    return rec.get(key, [default])[0]


def main() -> None:
    base = default_schema()
    classes = {one(r, "ldapdisplayname"): r
               for r in records(SRC / "AD_DS_Classes__Windows_Server_2016.ldf")}
    attributes = records(SRC / "AD_DS_Attributes__Windows_Server_2016.ldf")
    lines = [
        "# ad.schema: Microsoft Active Directory's schema (Windows Server 2016), for reading",
        "# AD data in ldapnb's embedded directory.  GENERATED by scripts/make_ad_schema.py from",
        "# the [MS-ADSC]/[MS-ADA1]/[MS-ADA2]/[MS-ADA3] schema files Samba ships; do not edit.",
        "# Microsoft's notice on those files: 'You may also distribute in your implementation,",
        "# with or without modification, any schema, IDL's, or code samples that are included",
        "# in the documentation.'  Classes ldapnb already defines are repeated with the MAY",
        "# attributes AD allows on them added (see the script's docstring).",
        "",
    ]
    known_attrs = set()
    n_attrs = 0
    for rec in sorted(attributes, key=lambda r: one(r, "ldapdisplayname").lower()):
        name, oid = one(rec, "ldapdisplayname"), one(rec, "attributeid")
        if base.attribute_type(name) is not None or base.attribute_type(oid) is not None:
            known_attrs.add(name.lower())
            continue
        syntax = one(rec, "attributesyntax")
        om = int(one(rec, "omsyntax", "0"))
        spec = SYNTAX.get((syntax, om)) or SYNTAX.get((syntax, None))
        if spec is None:
            spec = SYNTAX[("2.5.5.12", None)]
        parts = [f"( {oid} NAME '{name}'", f"EQUALITY {spec[1]}"]
        if spec[2]:
            parts.append(f"ORDERING {spec[2]}")
        if spec[3]:
            parts.append(f"SUBSTR {spec[3]}")
        parts.append(f"SYNTAX {spec[0]}")
        if one(rec, "issinglevalued").upper() == "TRUE":
            parts.append("SINGLE-VALUE")
        lines.append("attributetype " + "\n\t".join(parts) + " )")
        known_attrs.add(name.lower())
        n_attrs += 1
    lines.append("")

    def own(rec: dict[str, list[str]]) -> list[str]:
        out: list[str] = []
        for key in ("mustcontain", "systemmustcontain", "maycontain", "systemmaycontain"):
            for v in rec.get(key, []):
                out.extend(a.strip() for a in v.split(","))
        return out

    def allowed(name: str, seen: set[str]) -> list[str]:
        """AD attributes allowed on ``name``: own, superclasses', static auxiliaries'."""
        if name in seen or name not in classes:
            return []
        seen.add(name)
        rec = classes[name]
        out = own(rec)
        sup = one(rec, "subclassof")
        if sup and sup != name:
            out += allowed(sup, seen)
        for key in ("auxiliaryclass", "systemauxiliaryclass"):
            for v in rec.get(key, []):
                for aux in v.split(","):
                    out += allowed(aux.strip(), seen)
        return out

    top = allowed("top", set())
    top_lower = {a.lower() for a in top}
    # AD's top: every class inherits it (MUST objectClass only; see the docstring)
    top_may = [a for a in dict.fromkeys(top) if a.lower() != "objectclass" and (
        a.lower() in known_attrs or base.attribute_type(a) is not None)]
    lines.append("objectclass ( 2.5.6.0 NAME 'top' ABSTRACT\n\tMUST objectClass\n\tMAY ( "
                 + " $ ".join(top_may) + " ) )")
    n_classes = n_widened = 0
    # msuser.schema's 'mstop' stands for AD's top: AD's top, MUST as MAY (see above)
    mstop = base.object_class("mstop")
    if mstop is not None:
        classes = {**classes, "mstop": {"ldapdisplayname": ["mstop"]}}
    for name in sorted(classes, key=str.lower):
        if name == "top":
            continue
        rec = classes[name]
        may_ad = [a for a in dict.fromkeys(allowed(name, set()))
                  if (a.lower() in known_attrs or base.attribute_type(a) is not None)
                  and a.lower() not in top_lower]
        existing = base.object_class(name)
        inherited_top = {a.lower() for a in top}
        must = [a for a in dict.fromkeys(
            v.strip() for key in ("mustcontain", "systemmustcontain")
            for x in rec.get(key, []) for v in x.split(","))
            if a.lower() not in inherited_top and (
                a.lower() in known_attrs or base.attribute_type(a) is not None)]
        if existing is not None:
            # AD's MUST, not X.500's (AD's person requires no sn); what X.500 required stays
            # allowed
            may = list(dict.fromkeys(list(existing.must) + list(existing.may) + may_ad))
            may = [a for a in may if a.lower() not in {m.lower() for m in must}]
            oid, names, sup, kind = existing.oid, existing.names, existing.sup, existing.kind
            if kind == "AUXILIARY" and one(rec, "objectclasscategory") in ("0", "1"):
                kind = "STRUCTURAL"  # AD's subSchema (CN=Aggregate) is structural
            n_widened += 1
        else:
            may = [a for a in may_ad if a.lower() not in {m.lower() for m in must}]
            oid, names = one(rec, "governsid"), (name,)
            sup_name = one(rec, "subclassof", "top")
            sup = (sup_name if sup_name != name else "top",)
            kind = {"2": "ABSTRACT", "3": "AUXILIARY"}.get(one(rec, "objectclasscategory"),
                                                          "STRUCTURAL")
            n_classes += 1
        names_txt = names[0] if len(names) == 1 else None
        parts = [f"( {oid} NAME " + (f"'{names_txt}'" if names_txt else
                                       "( " + " ".join(f"'{n}'" for n in names) + " )")]
        if sup:
            parts.append("SUP " + (sup[0] if len(sup) == 1 else "( " + " $ ".join(sup) + " )"))
        parts.append(kind)
        if must:
            parts.append("MUST ( " + " $ ".join(must) + " )")
        if may:
            parts.append("MAY ( " + " $ ".join(may) + " )")
        lines.append("objectclass " + "\n\t".join(parts) + " )")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{OUT}: {n_attrs} attribute types, {n_classes} classes, {n_widened} widened")


if __name__ == "__main__":
    main()
