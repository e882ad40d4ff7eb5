"""ldapnb: learn and audit LDAP directories in Jupyter.

>>> from ldapnb import Directory
>>> d = Directory.embedded()
>>> d.base
'dc=example,dc=org'
"""

from .diagnose import diagnose
from .directory import Directory, fixtures
from .entry import Entry
from .errors import (
    ArgumentError,
    BindError,
    DirectoryUnavailable,
    DnError,
    EntryAlreadyExists,
    FilterError,
    LdapnbError,
    LdifError,
    LimitExceeded,
    MalformedResponse,
    NoSuchEntry,
    NotAllowedOnNonLeaf,
    ObjectClassViolation,
    OperationError,
    ReadOnlyError,
    SchemaError,
    SourceNotFound,
    TlsError,
)

__all__ = [
    "Directory",
    "Entry",
    "diagnose",
    "fixtures",
    "__version__",
    "LdapnbError",
    "ArgumentError",
    "SourceNotFound",
    "LdifError",
    "FilterError",
    "DnError",
    "SchemaError",
    "ObjectClassViolation",
    "NoSuchEntry",
    "EntryAlreadyExists",
    "NotAllowedOnNonLeaf",
    "BindError",
    "TlsError",
    "DirectoryUnavailable",
    "MalformedResponse",
    "LimitExceeded",
    "ReadOnlyError",
    "OperationError",
]


def __getattr__(name: str) -> str:
    """``ldapnb.__version__``, read on first use (importlib.metadata costs ~25 ms)."""
    if name == "__version__":
        from ._version import __version__

        return __version__
    raise AttributeError(f"module 'ldapnb' has no attribute {name!r}")
