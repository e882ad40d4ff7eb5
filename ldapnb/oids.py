"""Object identifiers ldapnb uses, in one place, with their names.

Controls, extended operations, matching rules and features that appear in requests,
rootDSEs and lessons.  Every module takes them from here (``oids.IN_CHAIN``), and
:data:`NAMES` gives a readable name for each (what the wire decoder shows).

>>> NAMES[IN_CHAIN]
'LDAP_MATCHING_RULE_IN_CHAIN'
>>> BIT_AND, BIT_OR
('1.2.840.113556.1.4.803', '1.2.840.113556.1.4.804')
"""

from __future__ import annotations

__all__ = ["NAMES"]  # and the constants below

# -- extended operations ----------------------------------------------------------------------
STARTTLS = "1.3.6.1.4.1.1466.20037"          #: StartTLS (RFC 4511 4.14)
WHO_AM_I = "1.3.6.1.4.1.4203.1.11.3"         #: Who am I? (RFC 4532)
PASSWORD_MODIFY = "1.3.6.1.4.1.4203.1.11.1"  #: Password Modify (RFC 3062)
NOTICE_OF_DISCONNECTION = "1.3.6.1.4.1.1466.20036"  #: unsolicited notification (RFC 4511)
CANCEL = "1.3.6.1.1.8"                       #: Cancel (RFC 3909)

# -- controls ---------------------------------------------------------------------------------
PAGED_RESULTS = "1.2.840.113556.1.4.319"     #: simple paged results (RFC 2696)
SD_FLAGS = "1.2.840.113556.1.4.801"          #: AD's LDAP_SERVER_SD_FLAGS_OID
MANAGE_DSA_IT = "2.16.840.1.113730.3.4.2"    #: ManageDsaIT (RFC 3296)
SUBENTRIES = "1.3.6.1.4.1.4203.1.10.1"       #: subentries (RFC 3672)
ASSERTION = "1.3.6.1.1.12"                   #: assertion (RFC 4528)
PRE_READ = "1.3.6.1.1.13.1"                  #: pre-read (RFC 4527)
POST_READ = "1.3.6.1.1.13.2"                 #: post-read (RFC 4527)
SYNC_REQUEST = "1.3.6.1.4.1.4203.1.9.1.1"    #: syncrepl (RFC 4533)
SYNC_STATE = "1.3.6.1.4.1.4203.1.9.1.2"
SYNC_DONE = "1.3.6.1.4.1.4203.1.9.1.3"
SYNC_INFO = "1.3.6.1.4.1.4203.1.9.1.4"

# -- matching rules (Active Directory's extensible rules) -------------------------------------
BIT_AND = "1.2.840.113556.1.4.803"           #: LDAP_MATCHING_RULE_BIT_AND
BIT_OR = "1.2.840.113556.1.4.804"            #: LDAP_MATCHING_RULE_BIT_OR
IN_CHAIN = "1.2.840.113556.1.4.1941"         #: LDAP_MATCHING_RULE_IN_CHAIN (transitive)
DN_WITH_DATA = "1.2.840.113556.1.4.2253"     #: LDAP_MATCHING_RULE_DN_WITH_DATA

# -- features and capabilities ----------------------------------------------------------------
MODIFY_INCREMENT = "1.3.6.1.1.14"                      #: modify-increment (RFC 4525)
ALL_OPERATIONAL_ATTRIBUTES = "1.3.6.1.4.1.4203.1.5.1"  #: "+" (RFC 3673)
OC_AD_LISTS = "1.3.6.1.4.1.4203.1.5.2"                 #: "@objectClass" (RFC 4529)
AD_CAPABILITY = "1.2.840.113556.1.4.800"               #: LDAP_CAP_ACTIVE_DIRECTORY_OID

# -- syntaxes ---------------------------------------------------------------------------------
AD_LARGE_INTEGER = "1.2.840.113556.1.4.906"  #: AD's LargeInteger syntax

#: A readable name for each OID above.
NAMES: dict[str, str] = {
    STARTTLS: "StartTLS",
    WHO_AM_I: "Who am I?",
    PASSWORD_MODIFY: "Password Modify",
    NOTICE_OF_DISCONNECTION: "Notice of Disconnection",
    CANCEL: "Cancel",
    PAGED_RESULTS: "Paged Results",
    SD_FLAGS: "SD Flags",
    IN_CHAIN: "LDAP_MATCHING_RULE_IN_CHAIN",
    BIT_AND: "LDAP_MATCHING_RULE_BIT_AND",
    BIT_OR: "LDAP_MATCHING_RULE_BIT_OR",
    DN_WITH_DATA: "LDAP_MATCHING_RULE_DN_WITH_DATA",
    SYNC_REQUEST: "Sync Request (syncrepl)",
    SYNC_STATE: "Sync State",
    SYNC_DONE: "Sync Done",
    SYNC_INFO: "Sync Info",
    MANAGE_DSA_IT: "ManageDsaIT",
    SUBENTRIES: "Subentries",
    ASSERTION: "Assertion",
    PRE_READ: "Pre-Read",
    POST_READ: "Post-Read",
    MODIFY_INCREMENT: "Modify-Increment",
    ALL_OPERATIONAL_ATTRIBUTES: "All Operational Attributes",
    OC_AD_LISTS: "Attributes by Object Class",
    AD_CAPABILITY: "Active Directory",
    AD_LARGE_INTEGER: "AD LargeInteger",
}
