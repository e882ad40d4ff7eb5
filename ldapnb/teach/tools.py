"""The standard tools beside ldapnb's doctor, run for real: ``ldapsearch``, ``ldapwhoami``,
``openssl s_client``, ``nc``, ``dig`` and the server's own log.

An administrator debugging a directory reaches for these first; the lesson runs each one
against a private slapd (or, for ``dig``, the private Samba DC's own DNS server) and shows the
exact command line, so it can be copied to a terminal.

- :func:`run`: run one command with a time limit; return a :class:`ToolRun` (the command as a
  shell line, exit code, output).  Passwords are never put on a command line: use
  :func:`password_file` and the tools' ``-y FILE`` option (a command line is visible to every
  user of the machine in ``ps``).
- :class:`LdapiSlapd`: a private slapd that also listens on a Unix socket (``ldapi://``), so
  ``ldapwhoami -Y EXTERNAL`` can show SASL EXTERNAL: the server identifies the client by the
  socket's peer credentials (uid and gid), no password at all.
- :func:`log_lines`: the operation lines (``conn=... op=...``) of slapd's own log.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import DirectoryUnavailable
from ..sources.slapd import Slapd

__all__ = ["ToolRun", "run", "available", "password_file", "LdapiSlapd", "log_lines"]


@dataclass(frozen=True)
class ToolRun:
    """One run of a command: ``command`` (a shell line to copy), ``returncode``, ``output``
    (standard output then standard error)."""

    command: str
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        """True when the command exited with 0."""
        return self.returncode == 0

    def __str__(self) -> str:
        return f"$ {self.command}\n{self.output.rstrip()}\n(exit code {self.returncode})"

    def _repr_html_(self) -> str:
        from html import escape

        return f"<pre>{escape(str(self))}</pre>"


def available(*tools: str) -> dict[str, bool]:
    """Which of ``tools`` are installed.

    >>> available("sh")
    {'sh': True}
    """
    return {t: shutil.which(t) is not None for t in tools}


def run(command: Sequence[str], *, env: Mapping[str, str] | None = None, input: str = "",
        timeout: float = 10.0) -> ToolRun:
    """Run ``command`` (a list: no shell) and return what it printed.

    Parameters
    ----------
    command
        The program and its arguments.
    env
        Variables added to the environment (``LDAPTLS_CACERT`` for the OpenLDAP tools).
    input
        Sent to the standard input (``openssl s_client`` waits for it; empty closes it).
    timeout
        Seconds before the command is stopped (then the exit code is -1 and the output says so).

    Raises
    ------
    DirectoryUnavailable
        The program is not installed (the message says which Debian package has it).

    Examples
    --------
    >>> print(run(["echo", "hello"]))
    $ echo hello
    hello
    (exit code 0)
    """
    if shutil.which(command[0]) is None:
        package = {"ldapsearch": "ldap-utils", "ldapwhoami": "ldap-utils", "nc":
                   "netcat-openbsd", "dig": "bind9-dnsutils", "openssl": "openssl"}.get(
                       command[0], command[0])
        raise DirectoryUnavailable(f"{command[0]} is not installed (Debian: apt-get install "
                                   f"{package})")
    shown = " ".join(shlex.quote(c) for c in command)
    if env:
        shown = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()) + " " + shown
    try:
        done = subprocess.run(list(command), input=input, capture_output=True, text=True,
                              errors="replace", timeout=timeout,
                              env={**os.environ, **(env or {})})
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"")
        text = out.decode(errors="replace") if isinstance(out, bytes) else str(out)
        return ToolRun(shown, -1, text + f"\n(stopped after {timeout:g} s)")
    return ToolRun(shown, done.returncode, done.stdout + done.stderr)


def password_file(password: str, folder: str | os.PathLike[str] | None = None) -> Path:
    """Write ``password`` (no newline) to a file only its owner can read; for ``-y FILE``.

    >>> p = password_file("demo")
    >>> p.read_text(), oct(p.stat().st_mode & 0o777)
    ('demo', '0o600')
    >>> p.unlink()
    """
    fd, name = tempfile.mkstemp(prefix="ldapnb-pw-", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(password)
    os.chmod(name, 0o600)
    return Path(name)


class LdapiSlapd(Slapd):
    """A :class:`~ldapnb.sources.slapd.Slapd` that also listens on ``ldapi://`` (a Unix
    socket in its folder), for SASL EXTERNAL.

    >>> from ldapnb.directory import fixture_path
    >>> with LdapiSlapd(fixture_path("tiny")) as server:
    ...     sorted(server.urls), server.urls["ldapi"].startswith("ldapi://%2F")
    (['ldap', 'ldapi', 'ldaps'], True)
    """

    @property
    def urls(self) -> dict[str, str]:
        urls = super().urls
        if self.folder is not None:
            urls["ldapi"] = "ldapi://" + urllib.parse.quote(str(self.folder / "ldapi"), safe="")
        return urls


_OPERATION = re.compile(r"\bconn=\d+ (?:op=\d+|fd=\d+) .*")


def log_lines(server: Slapd, *, contains: str = "") -> list[str]:
    """The operation lines of slapd's own log (start the server with ``loglevel="stats"``).

    Each line is ``conn=N op=M WHAT ...``: the connection (with the client's address when it
    opened), the operation and its result (``RESULT tag=97 err=49`` is a failed bind).
    ``contains`` keeps only the lines holding that text.
    """
    lines = [m.group(0) for m in _OPERATION.finditer(server.log)]
    return [line for line in lines if contains in line]


def tls_in_clear(host: str, port: int, ca_file: str | os.PathLike[str], *,
                 server_name: str = "localhost", version: str = "1.3") -> dict[str, object]:
    """What a TLS handshake leaves readable on the wire, measured through a tap.

    A real TLS client (Python's ``ssl``, verifying with ``ca_file``, asking for
    ``server_name``) connects to ``host:port`` (an LDAPS port) through a
    :class:`~ldapnb.teach.wire.Tap`; the bytes that crossed are searched for the server name
    (SNI, sent in clear in the ClientHello) and for the server's certificate (in clear under
    TLS 1.2, encrypted under TLS 1.3).

    Parameters
    ----------
    version
        ``"1.2"`` or ``"1.3"``: the highest version the client offers.

    Returns
    -------
    dict
        ``negotiated`` (the version both sides agreed), ``sni in clear``, ``certificate in
        clear`` (bool each), ``client bytes``, ``server bytes``.
    """
    import socket
    import ssl

    from .wire import CLIENT_TO_SERVER, Tap

    context = ssl.create_default_context(cafile=str(ca_file))
    top = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}[version]
    context.maximum_version = top
    with Tap(host, port) as tap:
        with socket.create_connection((tap.host, tap.port), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname=server_name) as tls:
                negotiated = tls.version()
                der = tls.getpeercert(binary_form=True) or b""
        tap.wait_closed()
        client = b"".join(r.data for r in tap.records if r.direction == CLIENT_TO_SERVER)
        server = b"".join(r.data for r in tap.records if r.direction != CLIENT_TO_SERVER)
    return {"offered up to": f"TLS {version}", "negotiated": negotiated,
            "sni in clear": server_name.encode() in client,
            "certificate in clear": bool(der) and der in server,
            "client bytes": len(client), "server bytes": len(server)}
