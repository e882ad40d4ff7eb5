"""The differential corpus: (data set, filter, base, scope) cases that the embedded directory
and a real slapd, loaded with the same data, must answer alike (tests/test_differential.py).

Data sets (the keys of ``Case.data``):

``tiny``, ``example``, ``contoso``
    ldapnb's bundled fixtures (``ldapnb/fixtures/*.ldif``; their answer key is the README there).
``test``
    OpenLDAP's test-suite ``test.ldif`` (``OpenLDAPperson``, base64 values, postal addresses).
``nis``
    OpenLDAP's ``nis_sample.ldif`` (RFC 2307 maps; 60 duplicate DNs, of which both sides keep
    the first).

A case names its base in full (``None``: the data set's suffix); some bases are written with
other case, spacing or escaping than the data, on purpose.  ``attributes`` (when set) makes the
test compare the returned values too, not only the DNs; ``size_limit`` asks for at most that
many entries.  Differences that are not bugs are listed, with the reason, in
``test_differential.KNOWN``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Case", "CASES", "SUFFIXES"]

TINY = "dc=example,dc=com"
EX = "dc=example,dc=org"
AD = "DC=contoso,DC=com"
OL = "dc=example,dc=com"  # test.ldif's suffix: the same spelling as tiny's, other data
NIS = "o=SGI,c=US"

#: The naming context of each data set.
SUFFIXES = {"tiny": TINY, "example": EX, "contoso": AD, "test": OL, "nis": NIS}


@dataclass(frozen=True)
class Case:
    """One search, asked of both directories."""

    data: str
    filter: str
    base: str | None = None
    scope: str = "sub"
    attributes: tuple[str, ...] | None = None
    size_limit: int = 0

    @property
    def search_base(self) -> str:
        return SUFFIXES[self.data] if self.base is None else self.base

    @property
    def key(self) -> str:
        """A stable name: data set, scope, base (when not the suffix), filter, options."""
        parts = [self.data, self.scope]
        if self.base is not None:
            parts.append(self.base)
        parts.append(self.filter)
        if self.attributes is not None:
            parts.append("attrs=" + ",".join(self.attributes))
        if self.size_limit:
            parts.append(f"limit={self.size_limit}")
        return " ".join(parts)


def _cases(data: str, *specs: str | tuple) -> list[Case]:
    """``Case``s for one data set: a filter string, or (filter, base, scope[, attrs[, limit]])."""
    out = []
    for spec in specs:
        if isinstance(spec, str):
            out.append(Case(data, spec))
        else:
            out.append(Case(data, *spec))
    return out


#: all user attributes and memberOf (slapd's dynlist sends memberOf for "*" alone: see KNOWN)
ALL = ("*", "memberOf")
USER = ("*",)
MEMBER_OF = ("memberOf",)

# -- tiny: first lessons ---------------------------------------------------------------------
_PEOPLE_T = f"ou=People,{TINY}"
TINY_CASES = _cases(
    "tiny",
    "(objectClass=*)",
    "(objectClass=person)",
    "(objectclass=ORGANIZATIONALPERSON)",           # superclass, any case
    "(objectClass=top)",
    "(uid=alice)",
    "(UID=ALICE)",
    "(cn=alice archer)",
    "(cn=  Alice    Archer )",                       # caseIgnoreMatch squeezes spaces
    "(cn=*a*)",
    "(cn=a*)",
    "(sn=*er)",
    "(cn=*r*r*)",
    "(title=*Developer*)",
    "(!(cn=a*))",
    "(mail=*@EXAMPLE.COM)",
    "(telephoneNumber=+15550100001)",                # telephoneNumberMatch ignores spaces
    "(telephoneNumber=*0100*)",
    "(roomNumber>=200)",
    "(roomNumber<=102)",
    "(departmentNumber=it)",
    "(&(departmentNumber=IT)(title=developer))",
    "(|(uid=alice)(uid=frank)(uid=nobody))",
    "(member=uid=alice,ou=People,dc=example,dc=com)",
    "(member=UID=Alice, OU=people, DC=Example, DC=com)",
    "(memberOf=cn=admins,ou=Groups,dc=example,dc=com)",
    "(memberOf=cn=developers,ou=groups,dc=example,dc=com)",
    "(userPassword=alice-pw)",
    "(noSuchAttribute=x)",
    "(!(noSuchAttribute=x))",
    "(noSuchAttribute=*)",
    "(!(noSuchAttribute=*))",
    "(|(noSuchAttribute=x)(uid=bob))",
    "(&(noSuchAttribute=x)(uid=bob))",
    "(cn~=alise archer)",
    ("(objectClass=*)", _PEOPLE_T, "one"),
    ("(objectClass=*)", _PEOPLE_T, "base"),
    ("(objectClass=*)", "OU=PEOPLE, DC=EXAMPLE, DC=COM", "one"),
    ("(objectClass=*)", "ou = People , dc = example , dc = com", "sub"),
    ("(objectClass=*)", "ou=\\50eople,dc=example,dc=com", "base"),   # \50 is "P"
    ("(objectClass=*)", TINY, "one"),
    ("(objectClass=*)", TINY, "base"),
    ("(uid=alice)", TINY, "one"),
    ("(objectClass=*)", f"ou=Nowhere,{TINY}", "sub"),
    ("(objectClass=*)", f"uid=alice,{_PEOPLE_T}", "one"),
    ("(objectClass=person)", _PEOPLE_T, "sub", ALL),
    ("(objectClass=person)", _PEOPLE_T, "one", USER),
    ("(cn=*)", f"ou=Groups,{TINY}", "one", ("member", "cn", "memberOf")),
    ("(objectClass=person)", None, "sub", None, 3),
    ("(objectClass=person)", None, "sub", None, 6),
    ("(objectClass=person)", None, "sub", None, 7),
    ("(uid=alice)", None, "sub", None, 1),
)

# -- example: the default teaching directory ---------------------------------------------------
_PEOPLE = f"ou=People,{EX}"
_ENG = f"ou=Engineering,{_PEOPLE}"
_GROUPS = f"ou=Groups,{EX}"
_CONTRACTORS = f"ou=Contractors,{EX}"
_BJENSEN = f"uid=bjensen,{_ENG}"
EXAMPLE_CASES = _cases(
    "example",
    "(objectClass=*)",
    "(objectClass=inetOrgPerson)",
    "(objectClass=person)",
    "(objectClass=posixAccount)",
    "(objectClass=groupOfNames)",
    "(objectClass=groupOfUniqueNames)",
    "(objectClass=simpleSecurityObject)",
    "(objectClass=organization)",
    "(uid=jsmith)",
    "(cn=Barbara Jensen)",
    "(cn=babs jensen)",
    "(cn=Doe, Jane)",
    "(cn=Doe\\2c Jane)",
    "(cn=C++ Guild)",
    "(cn=\\23announcements)",
    "(cn=#announcements)",
    "(cn=Back\\5cSlash)",
    "(cn=Robert \"Bobby\" Tables)",
    "(cn=*\\2a*)",                                   # a literal star: nobody
    "(cn=A+B Consulting)",
    "(cn=Renée Dubois)",
    "(cn=renee dubois)",
    "(cn=RENÉE DUBOIS)",
    "(sn=Weiß)",
    "(sn=WEISS)",
    "(cn=渡辺 太郎)",
    "(sn=渡辺)",
    "(cn=*Jensen)",
    "(cn=b*j*n)",
    "(cn=Pat Lee)",
    "(uid=plee)",
    "(cn;lang-fr=Ingénierie)",
    "(cn=Ingénierie)",
    "(cn;lang-fr=*)",
    "(employeeNumber>=1200)",
    "(employeeNumber<=1015)",
    "(uidNumber>=10100)",
    "(uidNumber<=10005)",
    "(&(uidNumber>=10010)(uidNumber<=10020))",
    "(gidNumber=5001)",
    "(gidNumber>=5001)",
    "(uidNumber=010001)",
    "(shadowLastChange>=20300)",
    "(homeDirectory=/home/bjensen)",
    "(homeDirectory=/HOME/BJENSEN)",
    "(loginShell=/bin/zsh)",
    "(mail=BJENSEN@example.org)",
    "(mail=*@example.org)",
    "(telephoneNumber=+1 555 017 7652)",
    "(telephoneNumber=+15550177652)",
    "(telephoneNumber=*017*)",
    "(title>=Z)",
    "(title<=B)",
    "(sn>=W)",
    "(title~=enginering manager)",
    "(sn~=jensn)",
    "(description=*LDAP*)",
    "(jpegPhoto=*)",
    "(preferredLanguage=*)",
    "(manager=uid=bjensen,ou=Engineering,ou=People,dc=example,dc=org)",
    "(manager=*)",
    "(!(manager=*))",
    "(seeAlso=UID=BJENSEN,OU=ENGINEERING,OU=PEOPLE,DC=EXAMPLE,DC=ORG)",
    "(member=uid=kjensen,ou=Engineering,ou=People,dc=example,dc=org)",
    "(member=cn=sre,ou=Groups,dc=example,dc=org)",
    "(member=)",
    "(uniqueMember=uid=kjensen,ou=Engineering,ou=People,dc=example,dc=org)",
    "(uniqueMember=uid=bjensen,ou=Engineering,ou=People,dc=example,dc=org)",
    "(uniqueMember=uid=bjensen,ou=Engineering,ou=People,dc=example,dc=org#'0101'B)",
    "(uniqueMember=uid=former,ou=People,dc=example,dc=org)",
    "(memberUid=ghost)",
    "(memberUid=BJENSEN)",
    "(memberOf=cn=engineering,ou=Groups,dc=example,dc=org)",
    "(memberOf=cn=oncall,ou=groups,dc=example,dc=org)",
    "(memberOf=cn=vpn-users,ou=Groups,dc=example,dc=org)",
    "(memberOf=*)",
    "(!(memberOf=*))",
    "(&(objectClass=inetOrgPerson)(!(memberOf=*)))",
    "(userPassword=*)",
    "(userPassword=password1)",
    "(&(objectClass=posixAccount)(!(uid=b*))(|(loginShell=/bin/zsh)(gidNumber=5001)))",
    "(!(|(objectClass=inetOrgPerson)(objectClass=groupOfNames)))",
    "(&)",
    "(|)",
    "(uid:dn:=People)",
    "(ou:dn:=Engineering)",
    "(ou:dn:=engineering)",
    "(ou:dn:caseExactMatch:=engineering)",
    "(cn:caseExactMatch:=barbara jensen)",
    "(cn:caseExactMatch:=Barbara Jensen)",
    "(cn:2.5.13.5:=Babs Jensen)",
    "(:caseIgnoreMatch:=bjensen)",
    "(:dn:caseIgnoreMatch:=Contractors)",
    "(uidNumber:integerOrderingMatch:=10005)",
    "(sn:caseIgnoreSubstringsMatch:=jen*)",
    "(sn:caseIgnoreSubstringsMatch:=jen\\2a)",
    "(telephoneNumber:caseIgnoreSubstringsMatch:=\\2a017\\2a)",
    "(uidNumber:1.2.840.113556.1.4.803:=3)",
    "(uidNumber:1.2.840.113556.1.4.804:=256)",
    "(memberOf:1.2.840.113556.1.4.1941:=cn=all-staff,ou=Groups,dc=example,dc=org)",
    "(memberOf:1.2.840.113556.1.4.1941:=cn=reviewers,ou=Groups,dc=example,dc=org)",
    "(member:1.2.840.113556.1.4.1941:=uid=kjensen,ou=Engineering,ou=People,dc=example,dc=org)",
    ("(objectClass=*)", _PEOPLE, "one"),
    ("(objectClass=*)", _CONTRACTORS, "one"),
    ("(objectClass=*)", f"cn=Doe\\, Jane,{_CONTRACTORS}", "base"),
    ("(objectClass=*)", f"cn=Doe\\2C Jane,{_CONTRACTORS}", "base"),
    ("(objectClass=*)", f"CN=doe\\,jane,{_CONTRACTORS}", "base"),
    ("(objectClass=*)", f"cn=\"Doe, Jane\",{_CONTRACTORS}", "base"),
    ("(objectClass=*)", f"cn=A\\+B Consulting,{_CONTRACTORS}", "base"),
    ("(objectClass=*)", f"cn=\\#1 Fan,{_CONTRACTORS}", "base"),
    ("(objectClass=*)", f"cn=Back\\\\Slash,{_CONTRACTORS}", "base"),
    ("(objectClass=*)", f"cn=Renée Dubois,{_CONTRACTORS}", "base"),
    ("(objectClass=*)", f"cn=Ren\\C3\\A9e Dubois,{_CONTRACTORS}", "base"),
    ("(objectClass=*)", f"uid=plee+cn=Pat Lee,{_CONTRACTORS}", "base"),
    ("(objectClass=*)", f"cn=C\\+\\+ Guild,{_GROUPS}", "base"),
    ("(objectClass=*)", _GROUPS, "one"),
    ("(objectClass=*)", "OU=groups,  DC=Example,DC=ORG", "one"),
    ("(objectClass=person)", _ENG, "one"),
    ("(objectClass=*)", _BJENSEN, "sub"),
    ("(objectClass=*)", _BJENSEN, "one"),
    ("(uid=kjensen)", _BJENSEN, "base"),
    ("(objectClass=*)", f"uid=nobody,{_ENG}", "base"),
    ("(objectClass=*)", "dc=other,dc=org", "sub"),
    ("(objectClass=*)", _BJENSEN, "base", ALL),
    ("(objectClass=*)", f"uid=kjensen,{_ENG}", "base", ALL),
    ("(objectClass=*)", _CONTRACTORS, "one", ALL),
    ("(objectClass=*)", _GROUPS, "one", ALL),
    ("(objectClass=*)", f"uid=twatanabe,ou=Research,{_PEOPLE}", "base", ALL),
    ("(objectClass=*)", _BJENSEN, "base", ("cn", "jpegPhoto", "memberOf", "noSuchAttribute")),
    ("(uid=*)", _ENG, "one", ("uid", "uidNumber", "memberOf")),
    ("(objectClass=inetOrgPerson)", None, "sub", None, 10),
    ("(objectClass=inetOrgPerson)", None, "sub", None, 248),
    ("(objectClass=inetOrgPerson)", None, "sub", None, 247),
    ("(objectClass=*)", _GROUPS, "one", None, 5),
)

# -- contoso: an Active Directory-style domain -------------------------------------------------
_USERS = f"CN=Users,{AD}"
_CORP = f"OU=Corp,{AD}"
_AD_GROUPS = f"OU=Groups,{_CORP}"
_DOMAIN_ADMINS = f"CN=Domain Admins,{_USERS}"
_ADMINISTRATORS = f"CN=Administrators,CN=Builtin,{AD}"
_ALICE = f"CN=Alice Martin,OU=IT,{_CORP}"
_DEEP7 = f"CN=GG_Deep L7,{_AD_GROUPS}"
_PHOENIX = f"CN=GG_Project Phoenix,{_AD_GROUPS}"
CONTOSO_CASES = _cases(
    "contoso",
    "(objectClass=*)",
    "(objectClass=user)",
    "(objectClass=computer)",
    "(objectClass=group)",
    "(objectClass=person)",
    "(objectClass=organizationalPerson)",
    "(objectClass=organizationalUnit)",
    "(objectCategory=CN=Person,CN=Schema,CN=Configuration,DC=contoso,DC=com)",
    "(&(objectClass=user)(!(objectClass=computer)))",
    "(sAMAccountName=jsmith)",
    "(sAMAccountName=JSMITH)",
    "(sAMAccountName=svc_*)",
    "(sAMAccountName=*$)",
    "(cn=Frank Müller)",
    "(cn=frank müller)",
    "(cn=Reyes, María)",
    "(displayName=*López*)",
    "(userPrincipalName=alice.martin@CONTOSO.COM)",
    "(userAccountControl=514)",
    "(userAccountControl:1.2.840.113556.1.4.803:=2)",
    "(!(userAccountControl:1.2.840.113556.1.4.803:=2))",
    "(userAccountControl:1.2.840.113556.1.4.803:=65536)",
    "(userAccountControl:1.2.840.113556.1.4.803:=4194304)",
    "(userAccountControl:1.2.840.113556.1.4.804:=4194306)",
    "(userAccountControl:1.2.840.113556.1.4.803:=524288)",
    "(groupType:1.2.840.113556.1.4.803:=2147483648)",
    "(groupType:1.2.840.113556.1.4.803:=4)",
    "(groupType=-2147483646)",
    "(groupType<=-2147483644)",
    "(groupType>=0)",
    "(primaryGroupID=515)",
    "(primaryGroupID<=514)",
    "(adminCount=1)",
    "(&(objectClass=user)(adminCount=1)(!(objectClass=computer)))",
    "(pwdLastSet<=134000000000000000)",
    "(lastLogonTimestamp>=134379000000000000)",
    "(accountExpires<=9223372036854775806)",
    "(accountExpires=9223372036854775807)",
    "(whenCreated>=20240101000000Z)",
    "(whenCreated<=20220711090000Z)",
    "(whenCreated=20220711090000.0Z)",
    "(whenCreated>=20240101000000.000+0100)",
    "(servicePrincipalName=*)",
    "(servicePrincipalName=MSSQLSvc/*)",
    "(servicePrincipalName=http/intranet.contoso.com)",
    "(&(servicePrincipalName=*)(!(objectClass=computer))(!(sAMAccountName=krbtgt)))",
    "(operatingSystem=*Server*)",
    "(dNSHostName=dc01.contoso.com)",
    "(objectSid=*)",
    "(objectSid=\\01\\05\\00\\00\\00\\00\\00\\05\\15\\00\\00\\00\\dc\\f4\\dc\\3b\\83\\3d\\2b"
    "\\46\\82\\8b\\a6\\28\\9b\\05\\00\\00)",
    "(objectGUID=\\0d\\d4\\00\\8e\\cc\\f4\\cd\\4d\\97\\e0\\33\\5b\\09\\2e\\15\\b2)",
    "(instanceType=4)",
    "(sAMAccountType=268435456)",
    "(member=CN=Administrator,CN=Users,DC=contoso,DC=com)",
    "(member=cn=administrator,cn=users,dc=contoso,dc=com)",
    "(member=CN=Former Contractor,OU=Contractors,OU=Corp,DC=contoso,DC=com)",
    "(&(objectClass=group)(!(member=*)))",
    "(memberOf=CN=Domain Admins,CN=Users,DC=contoso,DC=com)",
    "(memberOf=cn=backup operators,cn=builtin,dc=contoso,dc=com)",
    "(&(objectClass=user)(!(memberOf=*)))",
    "(memberOf:1.2.840.113556.1.4.1941:=CN=Domain Admins,CN=Users,DC=contoso,DC=com)",
    "(memberOf:1.2.840.113556.1.4.1941:=CN=Administrators,CN=Builtin,DC=contoso,DC=com)",
    "(memberOf:1.2.840.113556.1.4.1941:=CN=GG_Deep L7,OU=Groups,OU=Corp,DC=contoso,DC=com)",
    "(memberOf:1.2.840.113556.1.4.1941:=CN=GG_Project Phoenix,OU=Groups,OU=Corp,"
    "DC=contoso,DC=com)",
    "(member:1.2.840.113556.1.4.1941:=CN=Alice Martin,OU=IT,OU=Corp,DC=contoso,DC=com)",
    "(ou:dn:=Corp)",
    "(cn:dn:=Builtin)",
    "(description=*)",
    "(givenName~=sofia)",
    ("(objectClass=*)", _USERS, "one"),
    ("(objectClass=*)", "cn=users,dc=CONTOSO,dc=com", "one"),
    ("(objectClass=*)", f"OU=Domain Controllers,{AD}", "sub"),
    ("(objectClass=*)", f"CN=Reyes\\, María,OU=Sales,{_CORP}", "base"),
    ("(objectClass=*)", "cn=reyes\\2c maría,ou=sales,ou=corp,dc=contoso,dc=com", "base"),
    ("(objectClass=*)", _CORP, "one"),
    ("(objectClass=user)", f"OU=Sales,{_CORP}", "one", None, 5),
    ("(objectClass=*)", _DOMAIN_ADMINS, "base", ALL),
    ("(objectClass=*)", _ALICE, "base", ALL),
    ("(objectClass=*)", f"CN=BKP01,OU=Servers,{AD}", "base", ALL),
    ("(objectClass=*)", _ADMINISTRATORS, "base", ("member", "memberOf", "objectSid")),
    ("(objectClass=group)", _AD_GROUPS, "one", ("member", "memberOf", "groupType")),
    ("(objectClass=*)", _DEEP7, "base", MEMBER_OF),
    ("(objectClass=*)", _PHOENIX, "base", MEMBER_OF),
)

# -- test.ldif: OpenLDAP's own test data -------------------------------------------------------
_ITD = f"ou=Information Technology Division,ou=People,{OL}"
_ALUMNI = f"ou=Alumni Association,ou=People,{OL}"
_BARBARA = f"cn=Barbara Jensen,{_ITD}"
TEST_CASES = _cases(
    "test",
    "(objectClass=*)",
    "(objectClass=OpenLDAPperson)",
    "(objectClass=person)",
    "(objectClass=inetOrgPerson)",
    "(objectClass=groupOfNames)",
    "(objectClass=groupOfUniqueNames)",
    "(sn=jensen)",
    "(sn=Jensen )",
    "(sn= jensen)",
    "(sn=*sen)",
    "(cn=Babs Jensen)",
    "(cn=*jones*)",
    "(cn=James A Jones*)",
    "(uid=bjensen)",
    "(uid=bj*)",
    "(drink=*)",
    "(drink=water)",
    "(drink=*ee*)",
    "(title=*Manager*)",
    "(postalAddress=*William St*)",
    "(homePostalAddress=123 wesley $ anytown, mi 48103)",
    "(homePostalAddress=123 Wesley$Anytown, MI 48103)",
    "(telephoneNumber=+13135559022)",
    "(telephoneNumber=*555*)",
    "(facsimileTelephoneNumber=*2274)",
    "(pager=*)",
    "(mail=*@mailgw.example.com)",
    "(seeAlso=cn=All Staff,ou=Groups,dc=example,dc=com)",
    "(owner=*)",
    "(member=cn=Manager,dc=example,dc=com)",
    "(member=cn=Barbara Jensen,ou=Information Technology Division,ou=People,dc=example,"
    "dc=com)",
    "(uniqueMember=*)",
    "(memberOf=cn=All Staff,ou=Groups,dc=example,dc=com)",
    "(memberOf=cn=ITD Staff,ou=Groups,dc=example,dc=com)",
    "(uidNumber>=0)",
    "(gidNumber=*)",
    "(associatedDomain=example.com)",
    "(description=*mythical*)",
    "(cn~=barbra jensen)",
    "(o:dn:=Example)",
    "(ou:dn:=People)",
    "(cn:caseExactMatch:=babs jensen)",
    "(|(sn=jensen)(cn=jane doe)(uid=nobody))",
    "(&(objectClass=OpenLDAPperson)(!(drink=*)))",
    ("(objectClass=*)", f"ou=People,{OL}", "one"),
    ("(objectClass=*)", _ITD, "one"),
    ("(objectClass=*)", "ou=information technology division, ou=people, dc=example, dc=com",
     "one"),
    ("(objectClass=*)", _ALUMNI, "sub"),
    ("(objectClass=*)", f"ou=Groups,{OL}", "sub"),
    ("(objectClass=*)", _BARBARA, "base", ALL),
    ("(objectClass=*)", f"cn=Bjorn Jensen,{_ITD}", "base", ALL),
    ("(objectClass=*)", f"cn=All Staff,ou=Groups,{OL}", "base", ALL),
    ("(objectClass=*)", f"ou=Groups,{OL}", "one", ("member", "uniqueMember", "memberOf")),
    ("(objectClass=OpenLDAPperson)", None, "sub", ("cn", "sn", "memberOf")),
    ("(objectClass=*)", None, "sub", None, 18),
    ("(objectClass=*)", None, "sub", None, 19),
)

# -- nis_sample.ldif: RFC 2307 maps -----------------------------------------------------------
NIS_CASES = _cases(
    "nis",
    "(objectClass=*)",
    "(objectClass=posixGroup)",
    "(objectClass=posixAccount)",
    "(objectClass=ipHost)",
    "(objectClass=ipNetwork)",
    "(objectClass=ipService)",
    "(objectClass=oncRpc)",
    "(objectClass=device)",
    "(objectClass=ieee802Device)",
    "(memberUid=root)",
    "(memberUid=ROOT)",
    "(memberUid=*)",
    "(gidNumber=0)",
    "(gidNumber>=60000)",
    "(gidNumber<=3)",
    "(uidNumber<=10)",
    "(uid=sysadm)",
    "(loginShell=/bin/csh)",
    "(homeDirectory=/usr/*)",
    "(gecos=*Administration*)",
    "(ipHostNumber=127.0.0.1)",
    "(ipHostNumber=192.0.2.*)",
    "(ipNetworkNumber=127)",
    "(ipNetworkNumber=192.26.5*)",
    "(ipServicePort=7)",
    "(ipServicePort=*)",
    "(&(ipServicePort=*)(ipServiceProtocol=udp))",
    "(ipServiceProtocol=TCP)",
    "(oncRpcNumber=391063)",
    "(ipProtocolNumber=6)",
    "(macAddress=*)",
    "(cn=localhost)",
    "(cn=LOCALHOST)",
    "(cn=echo)",
    "(cn=mt-everest*)",
    "(cn=*.sgi.com)",
    "(userPassword=*)",
    "(!(userPassword=*))",
    "(&(objectClass=posixAccount)(!(gidNumber=0)))",
    "(|(objectClass=ipService)(objectClass=oncRpc))",
    ("(objectClass=*)", NIS, "one"),
    ("(objectClass=*)", "o=sgi, c=us", "base"),
    ("(objectClass=*)", "O=SGI,C=US", "one", None, 100),
    ("(objectClass=*)", "cn=localhost, o=SGI, c=US", "base", ALL),
    ("(objectClass=*)", "cn=echo,o=SGI,c=US", "base", ALL),
    ("(objectClass=*)", "cn=mt-everest,o=SGI,c=US", "base", ALL),
    ("(objectClass=posixGroup)", None, "sub", ALL),
    ("(objectClass=posixAccount)", None, "sub", ALL),
    ("(&(objectClass=ipService)(cn=s*))", None, "sub", ALL),
)

#: Every case, over the five data sets.
CASES: list[Case] = [*TINY_CASES, *EXAMPLE_CASES, *CONTOSO_CASES, *TEST_CASES, *NIS_CASES]
