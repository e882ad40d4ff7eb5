"""Give msuser.schema's attribute types the matching rules Active Directory uses.

Debian's msuser.schema (OpenLDAP's copy of Microsoft's user/group/computer schema) declares
most AD attributes with a SYNTAX but no EQUALITY, ORDERING or SUBSTR rule.  slapd then cannot
compare their values at all: ``(sAMAccountName=alice)`` is Undefined and finds nothing.  Active
Directory itself matches by syntax (Unicode strings case-insensitively, integers as numbers),
so this script adds, to every attribute type that has no EQUALITY rule, the rules its syntax
implies.  ldapnb's embedded directory and its private slapd both load the result, so they
judge AD data alike.

Idempotent: run it on its own output and nothing changes.
    python scripts/patch_msuser_schema.py ldapnb/schema/msuser.schema
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

RULES = {  # syntax OID (or msuser macro) -> (EQUALITY, ORDERING, SUBSTR)
    "1.3.6.1.4.1.1466.115.121.1.15": ("caseIgnoreMatch", "caseIgnoreOrderingMatch",
                                      "caseIgnoreSubstringsMatch"),
    "1.3.6.1.4.1.1466.115.121.1.44": ("caseIgnoreMatch", None, "caseIgnoreSubstringsMatch"),
    "1.3.6.1.4.1.1466.115.121.1.27": ("integerMatch", "integerOrderingMatch", None),
    "MSADlargeInteger": ("integerMatch", "integerOrderingMatch", None),
    "1.3.6.1.4.1.1466.115.121.1.12": ("distinguishedNameMatch", None, None),
    "1.3.6.1.4.1.1466.115.121.1.40": ("octetStringMatch", "octetStringOrderingMatch", None),
    "1.3.6.1.4.1.1466.115.121.1.7": ("booleanMatch", None, None),
    "1.3.6.1.4.1.1466.115.121.1.38": ("objectIdentifierMatch", None, None),
    "1.3.6.1.4.1.1466.115.121.1.26": ("caseIgnoreIA5Match", None, "caseIgnoreIA5SubstringsMatch"),
    "1.3.6.1.4.1.1466.115.121.1.24": ("generalizedTimeMatch", "generalizedTimeOrderingMatch",
                                      None),
}

HEADER = """# Modified by ldapnb (scripts/patch_msuser_schema.py): attribute types without an
# EQUALITY rule were given the EQUALITY/ORDERING/SUBSTR rules their SYNTAX implies, as
# Active Directory matches them, so that filters on them work in slapd.
"""

# Active Directory's securityPrincipal auxiliary class (every user, group and computer has it):
# msuser.schema lacks it, so user/group/computer entries could not hold objectSid or
# sAMAccountName without extensibleObject, which turns off every allowed-attribute check.
SECURITY_PRINCIPAL = """
# Added by ldapnb: Active Directory's securityPrincipal auxiliary class.
objectclass ( 1.2.840.113556.1.5.6 NAME 'securityPrincipal'
	SUP top AUXILIARY
	MUST ( objectSid $ sAMAccountName )
	MAY ( sAMAccountType $ sIDHistory $ altSecurityIdentities $ tokenGroups ) )
"""

BLOCK = re.compile(r"^attributetype\s*\((?:.|\n)*?(?=^\S|\Z)", re.M | re.I)


def patch(text: str) -> str:
    def fix(m: re.Match[str]) -> str:
        block = m.group(0)
        if re.search(r"\bEQUALITY\b", block):
            return block
        syn = re.search(r"SYNTAX\s+'?([\w.]+)", block)
        if not syn or syn.group(1) not in RULES:
            return block
        eq, order, sub = RULES[syn.group(1)]
        add = f"EQUALITY {eq}\n" + (f"\tORDERING {order}\n" if order else "") + (
            f"\tSUBSTR {sub}\n" if sub else "")
        return block.replace(syn.group(0), add + "\t" + syn.group(0).lstrip(), 1)

    out = BLOCK.sub(fix, text)
    if HEADER not in out:
        out = out.replace("# This file is provided", HEADER + "\n# This file is provided", 1)
    if "NAME 'securityPrincipal'" not in out:
        out = out.rstrip("\n") + "\n" + SECURITY_PRINCIPAL
    return out


if __name__ == "__main__":
    path = Path(sys.argv[1])
    path.write_text(patch(path.read_text(encoding="utf-8")), encoding="utf-8")
