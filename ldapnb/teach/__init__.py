"""Teaching logic for the lessons (no widgets here: widgets and notebooks build on these).

- :mod:`ldapnb.teach.wire`: a loopback tap, LDAP messages decoded field by field, TLS records,
  a real bind captured in clear / over LDAPS / after StartTLS, ports and URLs explained.
- :mod:`ldapnb.teach.replication`: a provider and a consumer (two real slapd with syncrepl, or
  an embedded simulation), writes, replication delays, cutting and restoring the link.
"""

from __future__ import annotations

__all__ = ["wire", "replication"]


def __getattr__(name: str) -> object:  # load submodules on first use
    if name in __all__:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
