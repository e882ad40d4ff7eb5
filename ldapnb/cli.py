"""The ``ldapnb`` command (also ``python -m ldapnb``).

Subcommands::

    ldapnb lab [FOLDER]                 copy the lessons to FOLDER, start JupyterLab there
    ldapnb slapd FIXTURE_OR_LDIF        serve a private OpenLDAP slapd until Ctrl-C / SIGTERM
    ldapnb samba FIXTURE_OR_LDIF        serve a private Samba AD DC until Ctrl-C / SIGTERM
    ldapnb snapshot SOURCE -o FILE      save entries to FILE.ldif or FILE.parquet (progress bar)
    ldapnb diagnose URL                 step-by-step connectivity doctor
    ldapnb audit SOURCE -o report.html  run the audit checks, write a report

SOURCE is a URL (``ldap://``, ``ldaps://``), ``embedded:NAME`` or a bundled fixture name
(``contoso``), or a snapshot/LDIF file (``*.ldif``, ``*.parquet``).  Passwords are never taken
on the command line: ``--password-file FILE``, ``--ask-password`` or the environment variable
``LDAPNB_PASSWORD``.

Exit codes (scripts can rely on them)::

    0    success (diagnose: every step passed)
    1    a check failed (diagnose: a step failed; audit: a finding at --fail-on or above)
    2    usage or input error (bad option, missing file, bad filter, wrong credentials ...)
    3    server unreachable (DNS, TCP or TLS failure; diagnose: DNS or TCP step failed)
    130  interrupted (Ctrl-C); an interrupted snapshot leaves no file behind

Errors are one line on standard error, without a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .directory import Directory

__all__ = ["main", "OK", "CHECK_FAILED", "USAGE", "UNREACHABLE", "INTERRUPTED"]

OK = 0
CHECK_FAILED = 1
USAGE = 2
UNREACHABLE = 3
INTERRUPTED = 130

EXIT_CODES = """\
exit codes:
  0    success (diagnose: every step passed)
  1    a check failed (diagnose: a step failed; audit: a finding at --fail-on or above)
  2    usage or input error (bad option, missing file, bad filter, wrong credentials ...)
  3    server unreachable (DNS, TCP or TLS failure)
  130  interrupted (Ctrl-C)
"""

SOURCE_HELP = ("ldap://host or ldaps://host, embedded:NAME or a bundled fixture name "
               "(tiny, example, contoso), or a *.ldif / *.parquet file")
def _severities() -> tuple[str, ...]:
    """The audit's severity levels, least severe first (from ldapnb.audit, the one list)."""
    from .audit import SEVERITIES

    return tuple(reversed(SEVERITIES))


class _Stop(Exception):
    """SIGTERM received: stop what is being served, cleanly."""


class _UsageError(Exception):
    """A problem with what the user typed: one line on stderr, exit 2."""


# ------------------------------------------------------------------------------------------
# the parser
# ------------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="ldapnb", formatter_class=formatter,
        description="Learn and audit LDAP directories: lessons in JupyterLab, a private "
                    "slapd, snapshots, a connectivity doctor and audits.",
        epilog=EXIT_CODES + "\n`ldapnb COMMAND --help` describes each command.")
    from ._version import __version__

    parser.add_argument("--version", action="version", version=f"ldapnb {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    lab = sub.add_parser(
        "lab", formatter_class=formatter, epilog=EXIT_CODES,
        help="copy the lessons to a writable folder and start JupyterLab there",
        description="Copy the bundled lessons (notebooks) to FOLDER, keeping any file already "
                    "there (your work), and start JupyterLab in it.  Arguments after `--` go "
                    "to `jupyter lab`.")
    lab.add_argument("folder", nargs="?", default="ldapnb-lessons",
                     help="where to copy the lessons (default: ./ldapnb-lessons)")
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser")
    lab.add_argument("--port", type=int, help="JupyterLab's port (default: its own, 8888)")
    lab.add_argument("--lessons", metavar="DIR",
                     help="copy the lessons from DIR instead of the bundled ones")
    lab.add_argument("--copy-only", action="store_true",
                     help="copy the lessons and exit without starting JupyterLab")
    lab.set_defaults(run=_lab)

    slapd = sub.add_parser(
        "slapd", formatter_class=formatter, epilog=EXIT_CODES,
        help="serve a private OpenLDAP slapd loaded with a fixture or LDIF file",
        description="Start a private OpenLDAP slapd on loopback (LDAP with StartTLS, and "
                    "LDAPS) loaded with a bundled fixture or an LDIF file; print its URLs, CA "
                    "file and administrator DN; serve until Ctrl-C or SIGTERM, then stop and "
                    "clean up.  The administrator's password is written to a file readable "
                    "only by you; it is printed only with --show-password.")
    slapd.add_argument("data", metavar="FIXTURE_OR_LDIF",
                       help="a bundled fixture (tiny, example, contoso) or an LDIF file")
    slapd.add_argument("--schema", action="append", default=[], metavar="NAME",
                       help="load one more schema (e.g. openldap); repeatable")
    slapd.add_argument("--suffix", help="the naming context (default: inferred from the data)")
    slapd.add_argument("--no-tls", action="store_true", help="no LDAPS and no StartTLS")
    slapd.add_argument("--keep", action="store_true",
                       help="keep slapd's folder (config, database, log) after stopping")
    slapd.add_argument("--show-password", action="store_true",
                       help="print the administrator's password (it is in a file anyway)")
    slapd.set_defaults(run=_slapd)

    samba = sub.add_parser(
        "samba", formatter_class=formatter, epilog=EXIT_CODES,
        help="serve a private Samba AD DC loaded with an AD fixture or LDIF file",
        description="Provision a private Samba Active Directory domain controller on a free "
                    "loopback address 127.0.0.x, load an AD-style fixture (contoso) or LDIF "
                    "file, print its URLs (LDAP+StartTLS, LDAPS, Global Catalog), CA file, "
                    "realm, demo accounts and ready Kerberos commands; serve until Ctrl-C or "
                    "SIGTERM, then stop it and clean up.  Nothing in /etc is changed: the DC "
                    "and its Kerberos clients resolve dc1.<realm> in a private mount "
                    "namespace.  Administrator's password is written to a file readable only "
                    "by you; it is printed only with --show-password.")
    samba.add_argument("data", metavar="FIXTURE_OR_LDIF",
                       help="a bundled AD fixture (contoso) or an LDIF file of an AD domain")
    samba.add_argument("--no-passwords", action="store_true",
                       help="do not give users the demo password (faster for big data)")
    samba.add_argument("--no-cache", action="store_true",
                       help="provision afresh instead of copying the template cached in "
                            "$LDAPNB_SAMBA_CACHE or ~/.cache/ldapnb/samba (the first run "
                            "provisions and loads it; later runs start in seconds)")
    samba.add_argument("--keep", action="store_true",
                       help="keep the DC's folder (database, configuration, logs) after stopping")
    samba.add_argument("--show-password", action="store_true",
                       help="print Administrator's password (it is in a file anyway)")
    samba.set_defaults(run=_samba)

    snap = sub.add_parser(
        "snapshot", formatter_class=formatter, epilog=EXIT_CODES,
        help="save a directory's entries to an LDIF or Parquet file",
        description="Save the entries of SOURCE matching --filter under --base to OUTPUT "
                    "(*.ldif or *.parquet, by extension), atomically: an interrupted snapshot "
                    "leaves no file.  Passwords (userPassword ...) are left out unless "
                    "--include-secrets.")
    snap.add_argument("source", metavar="SOURCE", help=SOURCE_HELP)
    snap.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                      help="the snapshot file: *.ldif or *.parquet")
    snap.add_argument("--base", help="search base (default: the naming context)")
    snap.add_argument("--filter", default="(objectClass=*)",
                      help="search filter (default: (objectClass=*))")
    snap.add_argument("--attributes", metavar="A,B,...",
                      help="attributes to keep, comma-separated (default: all)")
    snap.add_argument("--include-secrets", action="store_true",
                      help="keep password attributes (the file is then readable by you only)")
    snap.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _connection_options(snap)
    snap.set_defaults(run=_snapshot)

    diag = sub.add_parser(
        "diagnose", formatter_class=formatter, epilog=EXIT_CODES,
        help="check step by step why a server can or cannot be reached",
        description="Check DNS, TCP, TLS (protocol, certificate, trust, name), StartTLS, the "
                    "anonymous rootDSE and an optional bind; print each step with a hint.  "
                    "Exit 0 when every step passed, 3 when the DNS or TCP step failed, 1 when "
                    "another step failed.")
    diag.add_argument("url", metavar="URL", help="ldap://host[:port] or ldaps://host[:port]")
    diag.add_argument("--timeout", type=float, default=5.0,
                      help="seconds allowed for each network step (default 5)")
    _credential_options(diag)
    diag.set_defaults(run=_diagnose)

    audit = sub.add_parser(
        "audit", formatter_class=formatter, epilog=EXIT_CODES,
        help="run the audit checks and write a report (HTML, XLSX or CSV)",
        description="Run ldapnb's audit checks over SOURCE and write the findings to OUTPUT "
                    "(report.html, .xlsx or .csv).")
    audit.add_argument("source", metavar="SOURCE", help=SOURCE_HELP)
    audit.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                       help="the report: *.html, *.xlsx or *.csv")
    audit.add_argument("--now", metavar="YYYY-MM-DD",
                       help="the date the checks count from (default: today)")
    severities = _severities()
    audit.add_argument("--fail-on", choices=severities, metavar="SEVERITY",
                       help="exit 1 when a finding is this severe or worse "
                            f"({', '.join(severities)}); waived findings do not count")
    audit.add_argument("--waivers", metavar="FILE",
                       help="accepted risks (TOML: [[waiver]] rule, object, reason, owner, "
                            "expires): their findings are marked waived, and an expired "
                            "waiver is itself a finding")
    _connection_options(audit)
    audit.set_defaults(run=_audit)
    return parser


def _credential_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user", help="bind as this DN (AD: also user@domain or DOMAIN\\user)")
    p.add_argument("--password-file", metavar="FILE",
                   help="read the password from FILE (first line); or set LDAPNB_PASSWORD")
    p.add_argument("--ask-password", action="store_true", help="prompt for the password")
    p.add_argument("--ca-file", metavar="PEM", help="the CA that signed the server's certificate")


def _connection_options(p: argparse.ArgumentParser) -> None:
    _credential_options(p)
    p.add_argument("--start-tls", action="store_true", help="StartTLS on an ldap:// URL")


# ------------------------------------------------------------------------------------------
# running
# ------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ldapnb`` command with ``argv`` (default: ``sys.argv[1:]``); the exit code.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     main(["snapshot", "tiny", "--quiet", "-o", os.path.join(tmp, "tiny.parquet")])
    wrote 11 entries to ...tiny.parquet (userPassword left out; --include-secrets keeps them)
    0
    """
    from .errors import DirectoryUnavailable, LdapnbError, TlsError

    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:  # `ldapnb lab -- --ServerApp.token=...`: the rest goes to jupyter lab
        at = argv.index("--")
        argv, extra = argv[:at], argv[at + 1:]
    args = parser.parse_args(argv)
    if extra and args.command != "lab":
        parser.error(f"`--` and what follows it is for `ldapnb lab` only: {' '.join(extra)}")
    args.jupyter_args = extra
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except KeyboardInterrupt:
        print("ldapnb: interrupted", file=sys.stderr)
        return INTERRUPTED
    except (DirectoryUnavailable, TlsError) as exc:
        _error(exc)
        return UNREACHABLE
    except (LdapnbError, _UsageError) as exc:
        _error(exc)
        return USAGE
    except OSError as exc:  # a file that cannot be read or written
        _error(exc)
        return USAGE


def _error(exc: BaseException) -> None:
    text = " ".join(str(exc).split()) or type(exc).__name__
    print(f"ldapnb: error: {text}", file=sys.stderr)


def _password(args: argparse.Namespace) -> str | None:
    if getattr(args, "password_file", None):
        path = Path(args.password_file)
        if not path.is_file():
            raise _UsageError(f"no password file {str(path)!r}")
        lines = path.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    if getattr(args, "ask_password", False):
        return getpass.getpass(f"password for {args.user or 'the bind'}: ")
    return os.environ.get("LDAPNB_PASSWORD")


def open_source(spec: str, args: argparse.Namespace | None = None) -> Directory:
    """The Directory a command-line SOURCE names (URL, ``embedded:NAME``, fixture, file)."""
    from .directory import Directory, fixtures

    if "://" in spec:
        password = _password(args) if args is not None else None
        user = getattr(args, "user", None)
        if password is not None and user is None:
            raise _UsageError("a password was given without --user")
        return Directory.connect(spec, user=user, password=password,
                                 ca_file=getattr(args, "ca_file", None),
                                 start_tls=getattr(args, "start_tls", False))
    name = spec.split(":", 1)[1] if spec.startswith("embedded:") else spec
    if spec.startswith("embedded:") or (name in fixtures() and not Path(spec).exists()):
        return Directory.embedded(name)
    path = Path(spec)
    if path.suffix.lower() in (".ldif", ".parquet", ".pq"):
        if not path.is_file():
            raise _UsageError(f"no file {spec!r}")
        return Directory.from_snapshot(path)
    raise _UsageError(f"cannot tell what {spec!r} is: give {SOURCE_HELP}")


# -- snapshot ------------------------------------------------------------------------------


def _snapshot(args: argparse.Namespace) -> int:
    from . import snapshot

    snapshot.snapshot_format(args.output)  # a bad extension fails before connecting
    directory = open_source(args.source, args)
    attributes = [a.strip() for a in args.attributes.split(",") if a.strip()] \
        if args.attributes else None
    try:
        info = snapshot.write(directory, args.output, filter=args.filter, base=args.base,
                              attributes=attributes, include_secrets=args.include_secrets,
                              progress=not args.quiet, source=args.source)
    finally:
        directory.close()
    dropped = info["secrets"]["dropped"]
    note = (f" ({', '.join(dropped)} left out; --include-secrets keeps them)" if dropped else "")
    print(f"wrote {info['entries']} entries to {args.output}{note}")
    return OK


# -- diagnose ------------------------------------------------------------------------------


def _diagnose(args: argparse.Namespace) -> int:
    from .diagnose import diagnose

    report = diagnose(args.url, user=args.user, password=_password(args),
                      ca_file=args.ca_file, timeout=args.timeout)
    print(report)
    if report.ok:
        return OK
    if {"DNS", "TCP connect"} & set(report.failed):
        return UNREACHABLE
    return CHECK_FAILED


# -- audit ---------------------------------------------------------------------------------


def _audit(args: argparse.Namespace) -> int:
    import importlib

    try:
        audit = importlib.import_module("ldapnb.audit")
    except ModuleNotFoundError as exc:
        if exc.name not in ("ldapnb.audit", None):
            raise
        raise _UsageError("the audit checks (ldapnb.audit) are not available in this "
                          "version of ldapnb") from exc
    options: dict[str, Any] = {}
    if args.now:
        from datetime import UTC, datetime

        try:
            options["now"] = datetime.fromisoformat(args.now).replace(tzinfo=UTC)
        except ValueError as exc:
            raise _UsageError(f"--now {args.now!r} is not a date (YYYY-MM-DD)") from exc
    if getattr(args, "waivers", None):
        options["waivers"] = args.waivers
    directory = open_source(args.source, args)
    findings = audit.run(directory, **options)
    audit.report(findings, args.output)
    print(f"{len(findings)} findings written to {args.output}")
    if args.fail_on and len(findings) and "severity" in getattr(findings, "columns", ()):
        order = _severities()
        level = order.index(args.fail_on)
        counted = findings[~findings["waived"]] if "waived" in findings.columns else findings
        worst = [s for s in counted["severity"].astype(str).str.lower()
                 if s in order and order.index(s) >= level]
        if worst:
            print(f"{len(worst)} findings at {args.fail_on} or above", file=sys.stderr)
            return CHECK_FAILED
    return OK


# -- slapd ---------------------------------------------------------------------------------


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Stop()


def _server_data(arg: str) -> tuple[str | None, Path, str]:
    """A server command's DATA: (the bundled fixture's name or None, the LDIF file, a label)."""
    from .directory import fixture_path, fixtures

    spec = arg.split(":", 1)[1] if arg.startswith("embedded:") else arg
    if spec in fixtures() and not Path(spec).exists():
        return spec, fixture_path(spec), f"fixture {spec!r}"
    path = Path(spec)
    if not path.is_file():
        raise _UsageError(f"no fixture or LDIF file {spec!r}; the bundled fixtures are "
                          f"{', '.join(fixtures())}")
    return None, path, str(path)


def _slapd(args: argparse.Namespace) -> int:
    from .sources.slapd import DEFAULT_SCHEMAS, Slapd

    _, data, label = _server_data(args.data)
    schemas = tuple(dict.fromkeys((*DEFAULT_SCHEMAS, *args.schema)))
    server = Slapd(data, schemas=schemas, suffix=args.suffix, tls=not args.no_tls,
                   keep=args.keep)
    return _serve(server, "slapd", "rootpw", lambda: server.rootpw,
                  lambda pw_file: _print_server(server, label, pw_file, args.show_password))


def _serve(server: Any, name: str, secret_name: str, secret: Callable[[], str],
           show: Callable[[Path], None]) -> int:
    """Start ``server`` (a Slapd or a SambaDC), write its password to a 0600 file in its
    folder, print how to reach it, and serve until Ctrl-C or SIGTERM (exit 0) or until the
    server stops by itself (exit 3, its folder kept and its log shown)."""
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        server.start()
        assert server.folder is not None
        pw_file = server.folder / secret_name
        fd = os.open(pw_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secret() + "\n")
        show(pw_file)
        while server.running:
            time.sleep(0.2)
        print(f"ldapnb: error: {name} stopped by itself; its log:\n{server.log[-2000:]}",
              file=sys.stderr)
        server.keep = True
        return UNREACHABLE
    except (KeyboardInterrupt, _Stop):
        print(f"stopping {name} ...", flush=True)
        return OK
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)


def _samba(args: argparse.Namespace) -> int:
    from .sources.samba import SambaDC, default_cache

    name, path, label = _server_data(args.data)
    data: str | Path = name or path  # SambaDC caches a loaded template per fixture name
    cache = None if args.no_cache else default_cache()
    print(f"starting a Samba AD DC for {label} (a first run provisions and loads it: "
          "15-60 s) ...", flush=True)
    server = SambaDC(data, keep=args.keep, passwords="none" if args.no_passwords else "all",
                     cache=cache or "")
    return _serve(server, "samba", "adminpw", lambda: server.admin_password,
                  lambda pw_file: _print_samba(server, label, pw_file, args.show_password))


def _print_samba(dc: Any, label: str, pw_file: Path, show_password: bool) -> None:
    import shlex

    from .sources.samba import DEMO_PASSWORD

    urls = dc.urls
    realm = dc.realm
    lines = [f"Samba AD DC serving {label}: realm {realm}, domain {dc.domain}, "
             f"base {dc.base_dn}",
             f"  {urls['ldap']:<32} LDAP (StartTLS; simple binds need TLS)",
             f"  {urls['ldaps']:<32} LDAPS",
             f"  {urls['gc']:<32} Global Catalog (StartTLS)",
             f"  {urls['gcs']:<32} Global Catalog over TLS",
             f"  CA file:   {dc.ca_file}",
             f"  KDC:       {dc.kdc}   (host name {dc.hostname}, only inside the namespace)",
             f"  KRB5_CONFIG={dc.krb5_conf}",
             f"  admin:     {dc.admin_user} (or {dc.domain}\\Administrator)"]
    if show_password:
        lines.append(f"  password:  {dc.admin_password}")
    lines.append(f"  password:  in {pw_file} (readable by you only)")
    if dc.demo_accounts:
        first = dc.demo_accounts[0]
        lines += [f"  demo accounts (password {DEMO_PASSWORD!r}, fictional): "
                  + ", ".join(dc.demo_accounts[:6]),
                  f"    bind as {first}@{realm.lower()} or {dc.domain}\\{first}"]
    else:
        first = "Administrator"
    env = (f"KRB5_CONFIG={shlex.quote(str(dc.krb5_conf))} "
           f"KRB5CCNAME={shlex.quote(dc.ccache)}")
    search = dc.namespace_command(["ldapsearch", "-Q", "-Y", "GSSAPI", "-H",
                                   f"ldap://{dc.hostname}", "-b", dc.base_dn,
                                   f"(sAMAccountName={first})", "dn", "memberOf"])
    lines += ["",
              "try it:",
              f"  python: Directory.connect({urls['ldaps']!r}, "
              f"user={first + '@' + realm.lower()!r}, password=..., "
              f"ca_file={str(dc.ca_file)!r})",
              f"  shell:  LDAPTLS_CACERT={shlex.quote(str(dc.ca_file))} ldapsearch -H "
              f"{urls['ldaps']} -x -D {first}@{realm.lower()} -W -b {shlex.quote(dc.base_dn)}",
              f"  ticket: {env} kinit {first}@{realm}",
              f"  GSSAPI: {env} {shlex.join(search)}",
              "          (as root: unshare gives ldapsearch a private /etc/hosts where "
              f"{dc.hostname} is {dc.ip};",
              "           from Python: Directory.connect(..., sasl_mechanism='GSSAPI', "
              f"kerberos_host={dc.hostname!r}))",
              "",
              "Press Ctrl-C to stop (samba is stopped and its folder removed)."]
    print("\n".join(lines), flush=True)


def _print_server(server: Any, label: str, pw_file: Path, show_password: bool) -> None:
    urls = server.urls
    lines = [f"slapd is serving {label}, suffix {server.suffix}",
             f"  {urls['ldap']:<32} LDAP" + (" (StartTLS available)" if "ldaps" in urls else "")]
    if "ldaps" in urls:
        lines.append(f"  {urls['ldaps']:<32} LDAPS")
        lines.append(f"  CA file:   {server.ca_file}")
    lines.append(f"  rootdn:    {server.rootdn}")
    if show_password:
        lines.append(f"  password:  {server.rootpw}")
    lines.append(f"  password:  in {pw_file} (readable by you only)")
    url = urls.get("ldaps", urls["ldap"])
    ca = f"ca_file={str(server.ca_file)!r}, " if "ldaps" in urls else ""
    lines += ["",
              "try it:",
              f"  python: Directory.connect({url!r}, {ca}user={server.rootdn!r}, "
              f"password=open({str(pw_file)!r}).read().strip())",
              ("  shell:  LDAPTLS_CACERT=" + str(server.ca_file) + " " if "ldaps" in urls
               else "  shell:  ") + f"ldapsearch -H {url} -x -b {server.suffix!r}",
              "",
              "Press Ctrl-C to stop (slapd is stopped and its folder removed)."]
    print("\n".join(lines), flush=True)


# -- lab -----------------------------------------------------------------------------------


def lessons_folder() -> Path | None:
    """Where the bundled lessons are: inside the package (a wheel) or the repository's
    ``notebooks/`` (a source checkout); None when neither holds a notebook."""
    candidates = []
    packaged = resources.files("ldapnb") / "lessons"
    if isinstance(packaged, Path):
        candidates.append(packaged)
    candidates.append(Path(__file__).resolve().parents[1] / "notebooks")
    for folder in candidates:
        if folder.is_dir() and any(folder.rglob("*.ipynb")):
            return folder
    return None


def copy_lessons(source: Path, dest: Path) -> tuple[list[Path], list[Path]]:
    """Copy ``source`` into ``dest``; files already in ``dest`` are kept (the student's work).

    Returns the files copied and the files kept.
    """
    copied: list[Path] = []
    kept: list[Path] = []
    for item in sorted(source.rglob("*")):
        rel = item.relative_to(source)
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            continue
        target = dest / rel
        if item.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif target.exists():
            kept.append(target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(item, target)
            copied.append(target)
    return copied, kept


def _lab(args: argparse.Namespace) -> int:
    import importlib.util

    source = Path(args.lessons) if args.lessons else lessons_folder()
    if source is None or not source.is_dir():
        where = args.lessons or "the package or the repository's notebooks/"
        raise _UsageError(f"no lessons found in {where}")
    dest = Path(args.folder).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    copied, kept = copy_lessons(source, dest)
    print(f"lessons in {dest}: {len(copied)} copied"
          + (f", {len(kept)} already there kept as they are" if kept else ""), flush=True)
    if args.copy_only:
        return OK
    if importlib.util.find_spec("jupyterlab") is None:
        raise _UsageError("JupyterLab is not installed: pip install 'ldapnb[notebook]'")
    extra = list(args.jupyter_args)
    command = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={dest}"]
    if args.no_browser:
        command.append("--no-browser")
    if args.port:
        command.append(f"--port={args.port}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    command += extra
    child = subprocess.Popen(command, cwd=dest)

    def forward(signum: int, frame: Any) -> None:
        child.send_signal(signal.SIGTERM)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                continue  # JupyterLab got the Ctrl-C too and asks or stops by itself
    finally:
        signal.signal(signal.SIGTERM, previous)
