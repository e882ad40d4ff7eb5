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

# Added for the audit of AD security posture (issue 11): attributes and classes that
# msuser.schema lacks, with Active Directory's own OIDs (checked against Samba's copy of the
# AD schema, /usr/share/samba/setup/ad-schema/*.ldf; the LAPS ones are the LAPS schema
# extensions'), and the same syntaxes: NT-Sec-Desc (2.5.5.15) as an octet string,
# Unicode (2.5.5.12) as a directory string, Integer8 as an integer.
AUDIT_TYPES = """
# Added by ldapnb: attributes the security-posture audit reads (delegation, LAPS, gMSA).
attributetype ( 1.2.840.113556.1.4.1787 NAME 'msDS-AllowedToDelegateTo'
	EQUALITY caseIgnoreMatch
	SUBSTR caseIgnoreSubstringsMatch
	SYNTAX '1.3.6.1.4.1.1466.115.121.1.15' )

attributetype ( 1.2.840.113556.1.4.2182 NAME 'msDS-AllowedToActOnBehalfOfOtherIdentity'
	EQUALITY octetStringMatch
	SYNTAX '1.3.6.1.4.1.1466.115.121.1.40'
	SINGLE-VALUE )

attributetype ( 1.2.840.113556.1.4.2199 NAME 'msDS-ManagedPasswordInterval'
	EQUALITY integerMatch
	ORDERING integerOrderingMatch
	SYNTAX '1.3.6.1.4.1.1466.115.121.1.27'
	SINGLE-VALUE )

attributetype ( 1.2.840.113556.1.4.2200 NAME 'msDS-GroupMSAMembership'
	EQUALITY octetStringMatch
	SYNTAX '1.3.6.1.4.1.1466.115.121.1.40'
	SINGLE-VALUE )

attributetype ( 1.2.840.113556.1.8000.2554.50051.45980.28112.18903.35903.6685103.1224907.2.2
	NAME 'ms-Mcs-AdmPwdExpirationTime'
	EQUALITY integerMatch
	ORDERING integerOrderingMatch
	SYNTAX 'MSADlargeInteger'
	SINGLE-VALUE )

attributetype ( 1.2.840.113556.1.6.44.1.1 NAME 'msLAPS-PasswordExpirationTime'
	EQUALITY integerMatch
	ORDERING integerOrderingMatch
	SYNTAX 'MSADlargeInteger'
	SINGLE-VALUE )
"""
AUDIT_CLASSES = """
# Added by ldapnb: AD's foreignSecurityPrincipal and group managed service account classes
# (AD makes msDS-ManagedPasswordInterval a MUST of the latter: ldapnb's is a MUST too).
objectclass ( 1.2.840.113556.1.5.76 NAME 'foreignSecurityPrincipal'
	SUP top STRUCTURAL
	MUST ( objectSid )
	MAY ( cn $ foreignIdentifier $ description $ nTSecurityDescriptor $ objectGUID
	$ objectCategory $ instanceType $ whenCreated ) )

objectclass ( 1.2.840.113556.1.5.282 NAME 'msDS-GroupManagedServiceAccount'
	SUP computer STRUCTURAL
	MUST ( msDS-ManagedPasswordInterval )
	MAY ( msDS-GroupMSAMembership ) )
"""
#: Attributes added to the MAY list of msuser's ``computer`` class.
COMPUTER_MAY = ("msDS-AllowedToDelegateTo", "msDS-AllowedToActOnBehalfOfOtherIdentity",
                "ms-Mcs-AdmPwdExpirationTime", "msLAPS-PasswordExpirationTime")

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
    if "NAME 'msDS-AllowedToActOnBehalfOfOtherIdentity'" not in out:
        # attribute types first: slapd needs them defined before a class names them
        at = out.index("objectclass (")
        out = out[:at] + AUDIT_TYPES.lstrip("\n") + "\n" + out[at:]
        computer = re.search(r"NAME 'computer' SUP user STRUCTURAL(?:.|\n)*?\) \)", out)
        if computer is None:
            raise SystemExit("msuser.schema: no 'computer' class to extend")
        block = computer.group(0)
        extended = block[:-4] + "".join(f" $ {a}" for a in COMPUTER_MAY) + " ) )"
        out = out.replace(block, extended, 1)
    if "NAME 'foreignSecurityPrincipal'" not in out:
        out = out.rstrip("\n") + "\n" + AUDIT_CLASSES
    return out


if __name__ == "__main__":
    path = Path(sys.argv[1])
    path.write_text(patch(path.read_text(encoding="utf-8")), encoding="utf-8")
