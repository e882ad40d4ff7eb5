"""ldapnb: learn and audit LDAP directories in Jupyter.

>>> from ldapnb import Directory
>>> d = Directory.embedded()
>>> d.base
'dc=example,dc=org'
"""

from . import errors
from .diagnose import diagnose
from .directory import Directory, fixtures
from .entry import Entry
from .errors import (
    BindError,
    DirectoryUnavailable,
    DnError,
    EntryAlreadyExists,
    FilterError,
    LdapnbError,
    LdifError,
    LimitExceeded,
    NoSuchEntry,
    NotAllowedOnNonLeaf,
    ObjectClassViolation,
    OperationError,
    ReadOnlyError,
    SchemaError,
    TlsError,
)

__version__ = "0.1.0"

__all__ = [
    "Directory",
    "Entry",
    "diagnose",
    "fixtures",
    "__version__",
    *errors.__all__,  # the error tree, listed once, in errors.py
]
