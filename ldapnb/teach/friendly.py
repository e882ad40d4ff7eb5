"""ldapnb's errors shown in a notebook as one readable message, not a traceback.

Every :class:`~ldapnb.errors.LdapnbError` already says what was wrong, where, and what to try
next; in a lesson the frames of ldapnb's own code around it only hide that.
:func:`friendly_errors` installs an IPython exception handler for ``LdapnbError`` (and only
for it: any other exception keeps its full traceback).  The cell still fails (the kernel
reports an ``error`` with the error's name and message, so "Run All" stops there and
``nbclient`` raises), but what the student reads is::

    NoSuchEntry: no entry 'uid=nobody,dc=example,dc=com' in this directory; ...
    (the full traceback: run %tb in the next cell)

Importing :mod:`ldapnb.teach` turns it on inside an IPython kernel; ``friendly_errors(False)``
turns it off.  Outside IPython it does nothing and returns False.

>>> friendly_errors()        # not inside IPython here: nothing to install
False
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

from ..errors import LdapnbError

__all__ = ["friendly_errors", "format_error"]

#: A second line telling the student how to see everything.
TRACEBACK_NOTE = "(the full traceback: run %tb in the next cell)"


def format_error(error: BaseException) -> str:
    """The message a student reads for ``error``: its class name and its own message.

    >>> from ldapnb.errors import NoSuchEntry
    >>> print(format_error(NoSuchEntry("uid=x,dc=example,dc=com")))
    NoSuchEntry: no entry 'uid=x,dc=example,dc=com' in this directory
    """
    return f"{type(error).__name__}: {error}"


def _handler(shell: Any, etype: type[BaseException], value: BaseException,
             tb: TracebackType | None, tb_offset: int | None = None) -> list[str]:
    # %tb (and pdb) read sys.last_*: keep them, so the full traceback is one command away
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
    stb = [format_error(value), TRACEBACK_NOTE]
    # IPython discards what a custom handler returns: show it the way IPython shows any
    # error (in a kernel this sends an 'error' message with our two lines as its traceback)
    shell._showtraceback(etype, value, stb)
    return stb


def friendly_errors(on: bool = True) -> bool:
    """Show ldapnb's errors as one readable message in this IPython session (or stop).

    Parameters
    ----------
    on : bool
        True installs the handler for :class:`~ldapnb.errors.LdapnbError`; False removes it
        (every error shows its full traceback again).

    Returns
    -------
    bool
        True when running inside IPython (the change was made), False otherwise.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is part of the notebook extra
        return False
    shell = get_ipython()
    if shell is None:
        return False
    if on:
        shell.set_custom_exc((LdapnbError,), _handler)
    elif LdapnbError in tuple(getattr(shell, "custom_exceptions", ())):
        shell.set_custom_exc((), None)
    return True
