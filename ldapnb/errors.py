"""Every error ldapnb raises, in one tree.

::

    LdapnbError                 the base: ``except LdapnbError`` catches all of ldapnb's errors
    ├── ArgumentError           a bad argument to a public call (also ValueError, TypeError)
    ├── SourceNotFound          a file to read that is not there (also a FileNotFoundError)
    ├── LdifError               bad LDIF: file, line, what was expected
    ├── FilterError             bad search filter: the filter, the position, what was expected
    ├── DnError                 bad distinguished name: the DN, the position, what was expected
    ├── SchemaError             a schema definition or a schema rule (MUST, SINGLE-VALUE) broken
    │   └── ObjectClassViolation  an entry breaks its object classes' rules
    ├── NoSuchEntry             a base or DN that is not in the directory
    ├── EntryAlreadyExists      adding or renaming onto a DN that exists
    ├── NotAllowedOnNonLeaf     deleting or renaming an entry that has children
    ├── BindError               credentials refused, or a mechanism the server does not offer
    ├── TlsError                untrusted certificate, or a name that does not match it
    ├── DirectoryUnavailable    the server cannot be reached (host, port, what failed, what to try)
    │   └── MalformedResponse   the server's answer is not valid LDAP (message id, byte offset)
    ├── LimitExceeded           a size or time limit was hit: the results are incomplete
    ├── ReadOnlyError           a write on a connection opened read-only
    └── OperationError          any other LDAP result code, named

Warnings (both ``UserWarning``): :class:`SchemaWarning` says once per load that entries used
object classes or attribute types the schema does not know, with counts and the fix;
:class:`GraphWarning` names what a membership graph was asked for and could not find (a
``privileged=`` DN or SID that is in none of its entries).

Errors from ldap3 and pyasn1 are caught where ldapnb calls them and re-raised as one of
these (``raise ... from exc``), so a student never has to read a traceback from inside them.
Every message says what was wrong, where, and where useful what to try next.
"""

from __future__ import annotations

__all__ = [
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
    "SchemaWarning",
    "GraphWarning",
]


class LdapnbError(Exception):
    """The base of every error ldapnb raises.

    Errors that a server would answer with an LDAP result carry its name and code in
    ``result`` and ``code`` (``"noSuchObject"``, 32); None when there is no such result.
    """

    result: str | None = None
    code: int | None = None


class ArgumentError(LdapnbError, ValueError, TypeError):
    """A public call given an argument it cannot use: a wrong type, a value out of range, an
    unknown choice.  ``argument`` names the parameter; the message says what was expected.
    It is also a ``ValueError`` and a ``TypeError``, so code written for either catches it.

    >>> raise ArgumentError("size_limit", "a whole number >= 0", -1)
    Traceback (most recent call last):
    ...
    ldapnb.errors.ArgumentError: size_limit must be a whole number >= 0, not -1
    """

    def __init__(self, argument: str, expected: str, got: object = None, *,
                 hint: str | None = None, show: bool = True):
        self.argument = argument
        self.expected = expected
        shown = repr(got) if show else f"a {type(got).__name__}"
        if isinstance(got, str) and len(shown) > 80:
            shown = shown[:77] + "..."
        text = f"{argument} must be {expected}"
        if show or got is not None:  # (got None and show False: the value is not known)
            text += f", not {shown}"
        if hint:
            text += f" ({hint})"
        super().__init__(text)


class SourceNotFound(LdapnbError, FileNotFoundError):
    """A file ldapnb was asked to read (LDIF, snapshot, schema) that does not exist.

    ``path`` is the path as given.
    """

    def __init__(self, path: object, what: str = "file"):
        self.path = path
        super().__init__(f"no {what} {str(path)!r} (looked in {_cwd()})")
        self.filename = str(path)

    def __str__(self) -> str:  # OSError would print "[Errno None] ..."
        return str(self.args[0])


def _cwd() -> str:
    import os

    try:
        return os.getcwd()
    except OSError:
        return "the current folder"


class LdifError(LdapnbError, ValueError):
    """LDIF that does not follow RFC 2849.

    ``source`` is the file name (or ``"<string>"``), ``line`` the 1-based line number where
    the problem was found.
    """

    def __init__(self, message: str, *, source: str = "<string>", line: int | None = None):
        self.source = source
        self.line = line
        self.reason = message
        where = source if line is None else f"{source}, line {line}"
        super().__init__(f"{where}: {message}")


class FilterError(LdapnbError, ValueError):
    """A search filter that does not follow RFC 4515.

    ``filter`` is the text, ``position`` the 0-based index where parsing failed.  The value
    of a secret attribute (``userPassword`` ...) is replaced by ``*`` of the same length.
    """

    def __init__(self, message: str, *, filter: str, position: int | None = None):
        from .secrets import mask_filter_text  # a secret's value never reaches a message

        filter = mask_filter_text(filter)
        self.filter = filter
        self.position = position
        self.reason = message
        text = f"{message} in filter {filter!r}"
        if position is not None:
            text += f" at position {position}\n    {filter}\n    {' ' * position}^"
        super().__init__(text)


class DnError(LdapnbError, ValueError):
    """A distinguished name that does not follow RFC 4514.

    ``dn`` is the text, ``position`` the 0-based index where parsing failed.
    """

    result, code = "invalidDNSyntax", 34

    def __init__(self, message: str, *, dn: str, position: int | None = None):
        self.dn = dn
        self.position = position
        self.reason = message
        text = f"{message} in DN {dn!r}"
        if position is not None:
            text += f" at position {position}"
        super().__init__(text)


class SchemaError(LdapnbError):
    """A schema definition that cannot be read, or an entry that breaks a schema rule.

    ``code`` is the LDAP result code a server answers with (17 undefinedAttributeType, 21
    invalidAttributeSyntax, 65 objectClassViolation ...) and ``result`` its name, None when
    not said.
    """

    def __init__(self, message: str = "", *, result: str | None = None,
                 code: int | None = None):
        if result is not None:
            self.result = result
        if code is not None:
            self.code = code
        super().__init__(message)


class ObjectClassViolation(SchemaError):
    """An entry that breaks the rules of its object classes (a MUST missing, ...)."""

    result, code = "objectClassViolation", 65

    def __init__(self, message: str, *, dn: str | None = None, result: str | None = None,
                 code: int | None = None):
        self.dn = dn
        super().__init__(f"{dn}: {message}" if dn else message, result=result, code=code)


class NoSuchEntry(LdapnbError, LookupError):
    """A base or DN that is not in the directory.

    ``dn`` is what was asked for; ``matched`` the longest existing ancestor, if any;
    ``naming_contexts`` the suffixes the directory holds, to suggest one.
    """

    result, code = "noSuchObject", 32

    def __init__(
        self,
        dn: str,
        *,
        matched: str | None = None,
        naming_contexts: tuple[str, ...] = (),
        message: str | None = None,
    ):
        self.dn = dn
        self.matched = matched
        self.naming_contexts = tuple(naming_contexts)
        text = message or f"no entry {dn!r} in this directory"
        if matched:
            text += f"; the nearest existing entry above it is {matched!r}"
        if naming_contexts:
            text += "; this directory holds " + ", ".join(repr(n) for n in naming_contexts)
        super().__init__(text)

    def __str__(self) -> str:  # LookupError would quote the message like a KeyError
        return str(self.args[0])


class EntryAlreadyExists(LdapnbError):
    """Adding (or renaming onto) a DN that already exists."""

    result, code = "entryAlreadyExists", 68

    def __init__(self, dn: str):
        self.dn = dn
        super().__init__(f"an entry {dn!r} already exists")


class NotAllowedOnNonLeaf(LdapnbError):
    """Deleting or renaming an entry that still has children."""

    result, code = "notAllowedOnNonLeaf", 66

    def __init__(self, dn: str, children: int):
        self.dn = dn
        self.children = children
        super().__init__(
            f"{dn!r} has {children} child entr{'y' if children == 1 else 'ies'}: "
            "delete or move them first (a server refuses with notAllowedOnNonLeaf)"
        )


class BindError(LdapnbError):
    """A bind the server refused: wrong credentials, or an unsupported mechanism.

    ``code`` is the LDAP result code (49 invalidCredentials, 7 authMethodNotSupported, 53
    unwillingToPerform ...), None when the bind was refused before anything was sent;
    ``sent`` is then False too (a password ldapnb would not send in clear).
    """

    sent = True

    def __init__(self, message: str = "", *, code: int | None = None):
        self.code = code
        super().__init__(message)


class TlsError(LdapnbError):
    """A TLS failure: untrusted certificate, a name that does not match, a failed handshake."""


class DirectoryUnavailable(LdapnbError, ConnectionError):
    """The server cannot be reached or went away.

    ``host`` and ``port`` say where ldapnb tried; the message says what failed and what to try.
    """

    def __init__(self, message: str, *, host: str | None = None, port: int | None = None):
        self.host = host
        self.port = port
        super().__init__(message)


class MalformedResponse(DirectoryUnavailable):
    """The server's answer is not valid LDAP (BER, RFC 4511): a length that runs past its
    message, sequence or set, a wrong tag, an attribute name that is not UTF-8 ...

    Nothing from the answer is returned (no partial result, no snapshot written from it) and
    the connection is closed.  ``message_id`` is the LDAP message id of the bad message (None
    when it could not be read), ``offset`` the byte offset in that message where decoding
    stopped.
    """

    def __init__(self, message: str, *, message_id: int | None = None,
                 offset: int | None = None, host: str | None = None, port: int | None = None):
        self.message_id = message_id
        self.offset = offset
        super().__init__(message, host=host, port=port)


class LimitExceeded(LdapnbError):
    """A size or time limit was hit, so the answer is incomplete.

    ``returned`` is how many entries came back before the limit, ``limit`` the limit and
    ``kind`` either ``"size"`` or ``"time"``.  ldapnb never hands back a short answer as if
    it were complete: ``partial`` holds what did come back, for whoever wants to look.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str = "size",
        limit: int | None = None,
        returned: int = 0,
        partial: object = None,
    ):
        self.kind = kind
        self.limit = limit
        self.returned = returned
        self.partial = partial
        super().__init__(message)


class ReadOnlyError(LdapnbError, PermissionError):
    """A write on a directory opened read-only (pass ``writable=True`` to allow writes)."""


class OperationError(LdapnbError):
    """Any other LDAP result: ``result`` is the code's name (``"insufficientAccessRights"``)."""

    def __init__(self, message: str, *, result: str = "other", code: int | None = None):
        self.result = result
        self.code = code
        super().__init__(message)


def referral_note(referrals: list[str]) -> str:
    """The one sentence that reports ``referrals`` (for warnings and ``df.attrs``).

    >>> referral_note(["ldap://a/x", "ldap://a/x"])[:44]
    'the server referred part of this search to 2'
    """
    shown = sorted(set(referrals))
    return (f"the server referred part of this search to {len(referrals)} other place(s) "
            f"({', '.join(shown[:3])}{' ...' if len(shown) > 3 else ''}); ldapnb does not "
            "follow referrals: the rows are what this server holds (df.attrs['referrals'] "
            "lists them)")


class SchemaWarning(UserWarning):
    """Entries loaded leniently used object classes or attribute types the schema does not
    know (or broke its rules): they were kept, and searches on them may not answer as the
    server that exported them would.  Issued once per load, with counts and the fix; every
    problem is listed in ``Directory.warnings``."""


class GraphWarning(UserWarning):
    """A membership graph (:mod:`ldapnb.graph`) was asked for names it could not tie to any of
    its entries (a ``privileged=`` DN or SID that is not in the data): the graph is built
    without them, the warning names them, and ``G.graph["unresolved"]`` lists them."""
