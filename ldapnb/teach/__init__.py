"""Teaching logic for the lessons (no widgets here: widgets and notebooks build on these).

- :mod:`ldapnb.teach.exercises`: the exercises, their checks (a visible ✓ or a hint, never
  the answer) and the convention every lesson follows (read its docstring).
- :mod:`ldapnb.teach.solutions`: the teacher's side, run by the tests, never shown in a lesson.
- :mod:`ldapnb.teach.friendly`: ldapnb's errors as one readable message in a notebook.
- :mod:`ldapnb.teach.wire`: a loopback tap, LDAP messages decoded field by field, TLS records,
  a real bind captured in clear / over LDAPS / after StartTLS, ports and URLs explained.
- :mod:`ldapnb.teach.replication`: a provider and a consumer (two real slapd with syncrepl, or
  an embedded simulation), writes, replication delays, cutting and restoring the link.
- :mod:`ldapnb.teach.lessons`: small helpers the lessons share (is slapd here, who sees what).
- :mod:`ldapnb.teach.firewall`, :mod:`ldapnb.teach.tools`, :mod:`ldapnb.teach.adlab`: the
  network lessons' labs (firewall rules, the standard tools, a private Samba AD DC started
  for the lesson where it can run, its recording otherwise), with
  their exercises in :mod:`ldapnb.teach.net_exercises`.

Importing this package inside an IPython kernel turns on :func:`friendly_errors` (a lesson's
first cell imports it): an :class:`~ldapnb.errors.LdapnbError` then shows as its one readable
message, not a traceback.  ``friendly_errors(False)`` turns that off.
"""

from __future__ import annotations

from .friendly import friendly_errors

__all__ = ["exercises", "solutions", "friendly_errors", "wire", "replication", "lessons",
           "firewall", "tools", "adlab"]

_SUBMODULES = {"exercises", "solutions", "wire", "replication", "lessons", "friendly",
               "firewall", "tools", "adlab", "net_exercises", "net_solutions"}

friendly_errors(True)  # inside IPython only; a no-op anywhere else


def __getattr__(name: str) -> object:  # load submodules on first use
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
