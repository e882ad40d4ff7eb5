"""A private OpenLDAP ``slapd`` on loopback, loaded from LDIF, for tests and lessons.

:class:`Slapd` writes everything it needs into its own temporary folder (configuration,
certificates, database, log), loads the data offline with ``slapadd -q``, picks free loopback
ports and runs ``slapd`` in the foreground on ``ldap://`` (with StartTLS) and ``ldaps://``::

    with Slapd("test.ldif") as server:
        server.urls      # {'ldap': 'ldap://127.0.0.1:40123', 'ldaps': 'ldaps://127.0.0.1:40124'}
        server.ca_file   # the throw-away CA that signed the server certificate
        server.rootdn    # 'cn=admin,dc=example,dc=com'; its password is server.rootpw

It follows python-ldap's ``slapdtest.SlapdObject``: a context manager that cleans up after
itself, and keeps its folder and log when the ``with`` block fails so they can be read.

memberOf: slapd 2.5's ``memberof`` overlay is deprecated and ``slapadd`` bypasses it, so
memberOf is computed at search time by the ``dynlist`` overlay, one ``dynlist-attrset`` per
group class (``groupOfNames``/``member``, ``groupOfUniqueNames``/``uniqueMember`` and, when the
msuser schema is loaded, Active Directory's ``group``/``member``).  Values come back in
slapd's normalised (lower-case) form.  slapd 2.5.13's dynlist answers a *filter* on memberOf
(``(memberOf=cn=staff,...)``) only for the first attrset, so the group class most common in the
data is put first; returned memberOf values cover every group class.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import weakref
from collections import Counter
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..entry import Entry
from ..errors import (
    DirectoryUnavailable,
    DnError,
    EntryAlreadyExists,
    LdapnbError,
    LdifError,
    ObjectClassViolation,
    SchemaError,
)
from ..secrets import protect

if TYPE_CHECKING:  # pragma: no cover
    from ..tls import Certificates

__all__ = ["Slapd", "DEFAULT_SCHEMAS", "find_program"]

log = protect(logging.getLogger(__name__))

#: The schemas loaded when none are named: enough for inetOrgPerson, posix (RFC 2307),
#: dynamic groups (needed for memberOf) and Active Directory-style data.
DEFAULT_SCHEMAS: tuple[str, ...] = ("core", "cosine", "inetorgperson", "nis", "dyngroup", "msuser",
                                    "openldap")

INSTALL_HINT = (
    "install OpenLDAP's server and tools: on Debian/Ubuntu "
    "`sudo apt-get install slapd ldap-utils` (answer the debconf questions or preseed "
    "`slapd slapd/no_configuration boolean true`; no system server needs to run), on "
    "Fedora/RHEL `sudo dnf install openldap-servers openldap-clients`, on macOS "
    "`brew install openldap`; `make test` installs them when run as root"
)

# Where distributions put slapd, its modules and its schema files.
_SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/usr/libexec", "/usr/local/libexec",
              "/opt/homebrew/opt/openldap/libexec", "/usr/local/opt/openldap/libexec")
_MODULE_DIRS = ("/usr/lib/ldap", "/usr/lib64/openldap", "/usr/lib/openldap",
                "/usr/libexec/openldap", "/usr/local/libexec/openldap",
                "/usr/local/lib/openldap", "/opt/homebrew/opt/openldap/libexec/openldap")
_SYSTEM_SCHEMA_DIRS = ("/etc/ldap/schema", "/etc/openldap/schema",
                       "/usr/local/etc/openldap/schema", "/opt/homebrew/etc/openldap/schema")

# (attribute, schema that defines it, index kinds wanted)
_INDEXES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("objectClass", "core", ("eq",)),
    ("cn", "core", ("eq", "sub")),
    ("uid", "core", ("eq",)),
    ("mail", "core", ("eq", "sub")),
    ("member", "core", ("eq",)),
    ("uniqueMember", "core", ("eq",)),
    ("memberUid", "nis", ("eq",)),
    ("sAMAccountName", "msuser", ("eq", "sub")),
)
_RULE_FOR_INDEX = {"eq": "EQUALITY", "sub": "SUBSTR"}

# Password-like attributes kept from anonymous readers by the default access rules.
_SECRET_ATTRIBUTES = ("userPassword", "unicodePwd", "dBCSPwd", "lmPwdHistory", "ntPwdHistory",
                      "supplementalCredentials")

# (group object class, member attribute, schema that defines the class)
_GROUP_CLASSES = (("groupOfNames", "member", "core"),
                  ("groupOfUniqueNames", "uniqueMember", "core"),
                  ("group", "member", "msuser"))

_STOP_TIMEOUT = 5.0


def find_program(name: str) -> str | None:
    """The full path of an OpenLDAP program (``slapd``, ``slapadd``), or None.

    Looks on ``PATH`` and then in the ``sbin`` folders where distributions install slapd
    (an ordinary user's ``PATH`` often lacks ``/usr/sbin``).

    Examples
    --------
    >>> find_program("no-such-program-anywhere") is None
    True
    """
    found = shutil.which(name)
    if found:
        return found
    return shutil.which(name, path=os.pathsep.join(_SBIN_DIRS))


def _require(name: str) -> str:
    path = find_program(name)
    if path is None:
        raise DirectoryUnavailable(f"OpenLDAP's `{name}` is not installed: {INSTALL_HINT}")
    return path


# -- a light scan of LDIF: DNs and group classes, enough to infer the suffix ----------------
_DN_SPLIT = re.compile(r"(?<!\\),")


def _rdns(dn: str) -> list[str]:
    return [part.strip() for part in _DN_SPLIT.split(dn) if part.strip()]


def _rdn_key(rdn: str) -> str:
    return "+".join(sorted(
        "=".join(side.strip() for side in ava.split("=", 1)).lower()
        for ava in re.split(r"(?<!\\)\+", rdn)
    ))


class _Scan:
    """DNs' common suffix and group-class counts, gathered while reading LDIF lines."""

    def __init__(self) -> None:
        self.suffix: list[str] | None = None
        self.entries = 0
        self.classes: Counter[str] = Counter()

    def dn(self, dn: str) -> None:
        self.entries += 1
        rdns = _rdns(dn)
        if self.suffix is None:
            self.suffix = rdns
            return
        common = 0
        for mine, theirs in zip(reversed(self.suffix), reversed(rdns), strict=False):
            if _rdn_key(mine) != _rdn_key(theirs):
                break
            common += 1
        self.suffix = self.suffix[len(self.suffix) - common:] if common else []

    def object_class(self, value: str) -> None:
        self.classes[value.strip().lower()] += 1


def _scan_ldif(path: Path) -> _Scan:
    scan = _Scan()

    def line_done(line: str) -> None:
        name, sep, rest = line.partition(":")
        if not sep:
            return
        key = name.strip().lower()
        if key not in ("dn", "objectclass"):
            return
        if rest.startswith(":"):
            try:
                value = base64.b64decode(rest[1:].strip()).decode("utf-8")
            except ValueError:
                return  # slapadd will say what is wrong with it
        else:
            value = rest.strip()
        if key == "dn":
            if value:
                scan.dn(value)
        else:
            scan.object_class(value)

    with open(path, encoding="utf-8", errors="replace", newline=None) as f:
        current: str | None = None
        for raw in f:
            line = raw.rstrip("\n").rstrip("\r")
            if line.startswith(" ") and current is not None:
                current += line[1:]
                continue
            if current is not None:
                line_done(current)
            current = None if (not line or line.startswith("#")) else line
        if current is not None:
            line_done(current)
    return scan


def _scan_entries(entries: Sequence[Entry]) -> _Scan:
    scan = _Scan()
    for entry in entries:
        scan.dn(entry.dn)
        for value in entry.get("objectClass", []):
            if isinstance(value, str):
                scan.object_class(value)
    return scan


def _ssha(password: str) -> str:
    """``{SSHA}`` hash of a password, the form slapd.conf's ``rootpw`` accepts."""
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode("utf-8") + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode("ascii")


def _free_ports(count: int, host: str) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def _cleanup(process: subprocess.Popen[bytes] | None, folder: Path, keep: bool) -> None:
    """Stop a slapd process and remove its folder; safe to call twice."""
    if process is not None and process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait()
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)


_SLAPADD_ERROR = re.compile(r'dn="(?P<dn>.*?)" \(line=(?P<line>\d+)\): (?:\((?P<code>\d+)\) )?'
                            r"(?P<reason>.*)")
_SLAPADD_PARSE = re.compile(r"could not parse entry \(line=(?P<line>\d+)\)")


class Slapd:
    """A private OpenLDAP slapd on loopback, loaded with LDIF; a context manager.

    Parameters
    ----------
    ldif
        The data: a path to an LDIF file, or LDIF text (a ``str`` holding a newline).
    entries
        The data as :class:`~ldapnb.entry.Entry` objects instead (written to LDIF with
        :func:`ldapnb.ldif.write`).  Give ``ldif`` or ``entries``, or neither for an empty
        directory (then ``suffix`` is required).
    suffix
        The naming context to serve.  When None, the longest DN suffix shared by every entry
        (for a typical LDIF, the DN of its top entry).
    schemas
        Schema names, included in this order: one of the schemas bundled with ldapnb
        (``core``, ``cosine``, ``inetorgperson``, ``nis``, ``dyngroup``, ``msuser``), else
        ``<name>.schema`` from the system's OpenLDAP schema folder (e.g. ``openldap`` from
        ``/etc/ldap/schema``), or a path to a ``.schema`` file.
    rootpw
        The password of :attr:`rootdn`; a random secret when None.  It is never shown in a
        repr or written in clear to the configuration (slapd.conf holds a salted hash).
    acl
        slapd.conf ``access`` lines replacing the default rules, which are: password
        attributes may be used by anonymous to bind (``auth``) and written by their owner,
        nobody else reads them; everything else is readable by everyone.
    tls
        Serve ``ldaps://`` and StartTLS with a freshly made CA and server certificate
        (valid for ``localhost`` and ``127.0.0.1``).  When False only ``ldap://`` is served.
        A :class:`~ldapnb.tls.Certificates` serves those files instead (copied into the
        folder): a certificate with a flaw to teach or audit.
    sizelimit
        slapd's ``sizelimit`` (``"unlimited"``, or a number such as ``"10"`` to make searches
        by ordinary users hit sizeLimitExceeded; the rootdn is never limited).
    keep
        Keep the folder (configuration, database, log) after :meth:`stop`.  It is always kept
        when the ``with`` block raised.
    memberof
        Compute memberOf at search time with the dynlist overlay (adds the dyngroup schema
        when it is missing).
    check_schema
        When False, ``slapadd -s``: entries whose attributes are defined but not allowed by
        their object classes are loaded anyway (useful for partial Active Directory exports).
    skip_bad_entries
        ``slapadd -c``: load every entry slapadd accepts and skip the others (a duplicate DN,
        a schema violation); they are listed in :attr:`skipped`.  By default the first bad
        entry stops the start with an error.
    loglevel
        slapd's ``-d`` debug level (``"0"``: errors only; ``"stats"``: one line per operation).
    timeout
        Seconds to wait for slapd to accept connections.

    Raises
    ------
    DirectoryUnavailable
        slapd or slapadd is not installed (the message says how to install them), or slapd
        did not start (the message holds its log).
    SchemaError
        slapadd refused the data; the message quotes slapadd, with the entry's DN and line.
        :class:`~ldapnb.errors.ObjectClassViolation` for an entry its object classes do not
        allow.
    EntryAlreadyExists
        The data holds the same DN twice (the message says where).
    LdifError
        slapadd could not parse the LDIF.

    Examples
    --------
    >>> from pathlib import Path
    >>> with Slapd("dn: dc=example,dc=org\\nobjectClass: domain\\ndc: example\\n") as server:
    ...     server.suffix, server.rootdn, sorted(server.urls)
    ('dc=example,dc=org', 'cn=admin,dc=example,dc=org', ['ldap', 'ldaps'])
    """

    host = "127.0.0.1"

    def __init__(
        self,
        ldif: str | os.PathLike[str] | None = None,
        *,
        entries: Iterable[Entry] | None = None,
        suffix: str | None = None,
        schemas: Sequence[str] = DEFAULT_SCHEMAS,
        rootpw: str | None = None,
        acl: str | None = None,
        tls: bool | Certificates = True,
        sizelimit: str | int = "unlimited",
        keep: bool = False,
        memberof: bool = True,
        check_schema: bool = True,
        skip_bad_entries: bool = False,
        loglevel: str | int = "0",
        timeout: float = 10.0,
        modules: Sequence[str] = (),
        database_config: Sequence[str] = (),
        overlay_config: Sequence[str] = (),
    ) -> None:
        if ldif is not None and entries is not None:
            raise TypeError("give either ldif or entries, not both")
        self._ldif = ldif
        self._entries = list(entries) if entries is not None else None
        self._suffix = suffix
        self.schemas = tuple(dict.fromkeys(schemas))  # a name given twice is loaded once
        self._rootpw = rootpw if rootpw is not None else secrets.token_urlsafe(18)
        self.acl = acl
        self.tls = tls
        self.sizelimit = str(sizelimit)
        self.keep = keep
        self.memberof = memberof
        self.check_schema = check_schema
        self.skip_bad_entries = skip_bad_entries
        #: Entries slapadd refused with ``skip_bad_entries``: (DN, line, slapadd's reason).
        self.skipped: list[tuple[str, int, str]] = []
        self.loglevel = str(loglevel)
        self.timeout = timeout
        #: extra slapd.conf lines: ``moduleload`` names (loaded when the module exists), lines
        #: for the database section (after ``directory``), overlay lines (at the end)
        self.modules = tuple(modules)
        self.database_config = tuple(database_config)
        self.overlay_config = tuple(overlay_config)
        self.port = 0
        self.ldaps_port = 0
        self.folder: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._log_file: Path | None = None
        self.started_in: float | None = None  #: seconds from LDIF to ready, once started

    # -- what a client needs -----------------------------------------------------------------
    @property
    def suffix(self) -> str:
        """The naming context served (inferred from the data when not given)."""
        if self._suffix is None:
            raise LdapnbError("the suffix is known once the server is started")
        return self._suffix

    @property
    def rootdn(self) -> str:
        """The administrator DN (``cn=admin,<suffix>``); no access rule limits it."""
        return f"cn=admin,{self.suffix}"

    @property
    def rootpw(self) -> str:
        """The administrator's password (never shown in the repr)."""
        return self._rootpw

    @property
    def urls(self) -> dict[str, str]:
        """``{'ldap': 'ldap://127.0.0.1:P', 'ldaps': 'ldaps://127.0.0.1:P2'}`` (no ldaps
        without TLS)."""
        urls = {"ldap": f"ldap://{self.host}:{self.port}"}
        if self.tls:
            urls["ldaps"] = f"ldaps://{self.host}:{self.ldaps_port}"
        return urls

    @property
    def ca_file(self) -> Path:
        """The CA certificate (PEM) that signed the server certificate."""
        if self.folder is None or not self.tls:
            raise LdapnbError("this slapd has no certificates (not started, or tls=False)")
        return self.folder / "tls" / "ca.pem"

    @property
    def log(self) -> str:
        """What slapadd and slapd have written so far (their standard error)."""
        if self._log_file is None or not self._log_file.exists():
            return ""
        return self._log_file.read_text(encoding="utf-8", errors="replace")

    @property
    def running(self) -> bool:
        """True while the slapd process is alive."""
        return self._process is not None and self._process.poll() is None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        where = " ".join(self.urls.values()) if self.port else "no ports yet"
        return (f"<Slapd {state} suffix={self._suffix!r} {where} rootdn="
                f"{self.rootdn if self._suffix else None!r} folder={str(self.folder)!r}>")

    # -- life cycle --------------------------------------------------------------------------
    def start(self) -> Slapd:
        """Write the configuration, load the data and start slapd; return self.

        Raises
        ------
        DirectoryUnavailable
            slapd/slapadd missing, or slapd did not come up (its log is in the message).
        SchemaError, LdifError
            slapadd refused the data.
        """
        if self.running:
            return self
        began = time.perf_counter()
        slapd, slapadd = _require("slapd"), _require("slapadd")
        self.folder = Path(tempfile.mkdtemp(prefix="ldapnb-slapd-"))
        self._log_file = self.folder / "slapd.log"
        self._finalizer = weakref.finalize(self, _cleanup, None, self.folder, self.keep)
        try:
            data, scan = self._prepare_data()
            if self._suffix is None:
                if not scan.suffix:
                    raise DnError(
                        "the entries share no common suffix, so slapd cannot serve them from "
                        "one database: pass suffix=", dn=str(self._ldif or "<entries>"))
                self._suffix = ",".join(scan.suffix)
            conf = self._write_config(scan)
            if data is not None:
                self._slapadd(slapadd, conf, data)
            self._launch(slapd, conf)
        except DirectoryUnavailable:
            self._abort(keep_folder=True)  # slapd did not come up: its log says why
            raise
        except BaseException:
            self._abort(keep_folder=False)  # bad data: the error quotes slapadd
            raise
        self.started_in = time.perf_counter() - began
        log.debug("slapd for %s ready in %.3f s at %s", self._suffix, self.started_in, self.urls)
        return self

    def stop(self) -> None:
        """Stop slapd (SIGTERM, then SIGKILL after 5 s) and remove its folder unless kept."""
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if self.folder is not None:
            _cleanup(self._process, self.folder, self.keep)
            if self.keep:
                log.info("slapd folder kept: %s", self.folder)
        self._process = None

    def kill(self) -> None:
        """Kill slapd at once (SIGKILL), as a crash would; :meth:`stop` still cleans up."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def __enter__(self) -> Slapd:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None and self.folder is not None:
            self.keep = True
            note = (f"slapd's folder was kept for inspection: {self.folder} "
                    f"(log: {self._log_file}, configuration: {self.folder / 'slapd.conf'})")
            exc.add_note(note)
            log.warning(note)
        self.stop()

    # -- the steps ---------------------------------------------------------------------------
    def _abort(self, keep_folder: bool) -> None:
        keep = self.keep
        self.keep = keep or keep_folder
        try:
            self.stop()
        finally:
            self.keep = keep

    def _prepare_data(self) -> tuple[Path | None, _Scan]:
        assert self.folder is not None
        if self._entries is not None:
            from .. import ldif as ldif_module

            path = self.folder / "data.ldif"
            ldif_module.write(self._entries, path, version=False)  # slapadd refuses version:
            return path, _scan_entries(self._entries)
        if self._ldif is None:
            return None, _Scan()
        if isinstance(self._ldif, str) and "\n" in self._ldif:
            path = self.folder / "data.ldif"
            path.write_text(self._ldif, encoding="utf-8")
        else:
            path = Path(self._ldif).resolve()
            if not path.is_file():
                raise DirectoryUnavailable(f"no LDIF file {str(path)!r} to load into slapd")
        return path, _scan_ldif(path)

    def _schema_files(self) -> list[Path]:
        assert self.folder is not None
        names = list(self.schemas)
        if self.memberof and "dyngroup" not in names:
            names.append("dyngroup")
        bundled = resources.files("ldapnb").joinpath("schema")
        files = []
        for name in names:
            path: Path | None
            if name.endswith(".schema") or os.sep in name:
                path = Path(name)
            else:
                path = self._bundled_schema(bundled, name) or self._system_schema(name)
            if path is None or not path.is_file():
                raise SchemaError(
                    f"no schema {name!r}: ldapnb bundles {', '.join(DEFAULT_SCHEMAS)}; other "
                    f"names are looked up in {', '.join(_SYSTEM_SCHEMA_DIRS)}")
            files.append(path.resolve())
        return files

    def _bundled_schema(self, bundled: resources.abc.Traversable, name: str) -> Path | None:
        assert self.folder is not None
        item = bundled.joinpath(f"{name}.schema")
        if not item.is_file():
            return None
        if isinstance(item, Path):
            return item
        copy = self.folder / "schema" / f"{name}.schema"  # the package is zipped
        copy.parent.mkdir(exist_ok=True)
        copy.write_bytes(item.read_bytes())
        return copy

    @staticmethod
    def _system_schema(name: str) -> Path | None:
        for folder in _SYSTEM_SCHEMA_DIRS:
            path = Path(folder) / f"{name}.schema"
            if path.is_file():
                return path
        return None

    def _write_config(self, scan: _Scan) -> Path:
        assert self.folder is not None
        schema_files = self._schema_files()
        loaded = {p.stem for p in schema_files}
        schema_text = {p.stem: p.read_text(encoding="utf-8", errors="replace")
                       for p in schema_files if p.stem in ("msuser",)}
        lines = [f'include "{p}"' for p in schema_files]

        module_dir = next((d for d in _MODULE_DIRS if Path(d).is_dir()), None)
        if module_dir is not None:
            lines.append(f'modulepath "{module_dir}"')
            wanted = ("back_mdb", "dynlist") if self.memberof else ("back_mdb",)
            for module in (*wanted, *self.modules):
                if any((Path(module_dir) / f"{module}{ext}").exists() for ext in (".la", ".so")):
                    lines.append(f"moduleload {module}")
        lines += [f'pidfile "{self.folder / "slapd.pid"}"',
                  f'argsfile "{self.folder / "slapd.args"}"',
                  f"sizelimit {self.sizelimit}"]
        if self.tls:
            from ..tls import Certificates, make_certificates

            (self.folder / "tls").mkdir()
            if isinstance(self.tls, Certificates):  # the caller's own (e.g. a flawed one)
                certs = Certificates(*(self.folder / "tls" / n
                                       for n in ("ca.pem", "server.pem", "server.key")))
                for src, dst in zip((self.tls.ca_file, self.tls.cert_file, self.tls.key_file),
                                    (certs.ca_file, certs.cert_file, certs.key_file),
                                    strict=True):
                    shutil.copyfile(src, dst)
                os.chmod(certs.key_file, 0o600)
            else:
                certs = make_certificates(self.folder / "tls")
            lines += [f'TLSCACertificateFile "{certs.ca_file}"',
                      f'TLSCertificateFile "{certs.cert_file}"',
                      f'TLSCertificateKeyFile "{certs.key_file}"']
        (self.folder / "db").mkdir()
        # dbnosync: a throw-away database need not be flushed to disk after every write.
        lines += ["", "database mdb", "maxsize 4294967296", "dbnosync",
                  f'suffix "{self.suffix}"',
                  f'rootdn "{self.rootdn}"',
                  f"rootpw {_ssha(self._rootpw)}",
                  f'directory "{self.folder / "db"}"', *self.database_config]
        for attribute, schema, kinds in _INDEXES:
            if schema not in loaded:
                continue
            text = schema_text.get(schema)
            if text is not None:
                kinds = tuple(k for k in kinds if _has_rule(text, attribute, _RULE_FOR_INDEX[k]))
            if kinds:
                lines.append(f"index {attribute} {','.join(kinds)}")
        lines += self._access_lines(loaded, schema_text)
        if self.memberof:
            lines += ["", "overlay dynlist"]
            groups = [g for g in _GROUP_CLASSES if g[2] in loaded]
            # Only the first attrset answers (memberOf=...) filters in slapd 2.5: put the group
            # class the data uses most first.
            groups.sort(key=lambda g: -scan.classes[g[0].lower()])
            for group_class, member, _ in groups:
                lines.append(
                    f"dynlist-attrset groupOfURLs memberURL {member}+memberOf@{group_class}")
        if self.overlay_config:
            lines += ["", *self.overlay_config]
        conf = self.folder / "slapd.conf"
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        return conf

    def _access_lines(self, loaded: set[str], schema_text: dict[str, str]) -> list[str]:
        if self.acl is not None:
            return ["", self.acl]
        secret = [a for a in _SECRET_ATTRIBUTES
                  if a == "userPassword" or ("msuser" in loaded and
                                             _defines(schema_text.get("msuser", ""), a))]
        return ["",
                f"access to attrs={','.join(secret)}",
                "  by self write",
                "  by anonymous auth",
                "  by * none",
                "access to *",
                "  by * read"]

    def _slapadd(self, slapadd: str, conf: Path, data: Path) -> None:
        # -q (quick) skips consistency checks; it must not be combined with -c, which was
        # seen to leave a database slapd cannot read after a refused entry.
        command = [slapadd, "-c" if self.skip_bad_entries else "-q", "-f", str(conf),
                   "-l", str(data)]
        if not self.check_schema:
            command.insert(1, "-s")
        done = subprocess.run(command, capture_output=True, text=True, errors="replace")
        assert self._log_file is not None
        with open(self._log_file, "a", encoding="utf-8") as out:
            out.write(done.stdout + done.stderr)
        output = done.stderr or done.stdout
        if self.skip_bad_entries:
            self.skipped = [(m["dn"], int(m["line"]), m["reason"])
                            for m in _SLAPADD_ERROR.finditer(output)]
            if done.returncode == 0 or self.skipped:
                for dn, line, reason in self.skipped:
                    log.info("slapadd skipped %r (line %d): %s", dn, line, reason)
                return
        if done.returncode != 0:
            raise _slapadd_error(output, data, self._ldif)

    def _launch(self, slapd: str, conf: Path) -> None:
        assert self.folder is not None and self._log_file is not None
        for attempt in range(5):
            ports = _free_ports(2 if self.tls else 1, self.host)
            self.port = ports[0]
            self.ldaps_port = ports[1] if self.tls else 0
            listen = " ".join(f"{url}/" for url in self.urls.values())
            (self.folder / "slapd.pid").unlink(missing_ok=True)
            with open(self._log_file, "ab") as out:
                self._process = subprocess.Popen(
                    [slapd, "-f", str(conf), "-h", listen, "-d", self.loglevel],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    cwd=self.folder, start_new_session=True)
            assert self._finalizer is not None
            self._finalizer.detach()
            self._finalizer = weakref.finalize(self, _cleanup, self._process, self.folder,
                                               self.keep)
            if self._wait_ready():
                return
            if "already in use" in self.log and attempt < 4:
                log.debug("port race lost (%s), retrying", ports)
                continue
            break
        raise DirectoryUnavailable(
            f"slapd did not start (exit code {self._process and self._process.poll()}); "
            f"its folder "
            f"{self.folder} is kept. Log:\n{self.log[-4000:]}",
            host=self.host, port=self.port)

    def _wait_ready(self) -> bool:
        assert self._process is not None and self.folder is not None
        deadline = time.monotonic() + self.timeout
        pending = [self.port] + ([self.ldaps_port] if self.tls else [])
        pidfile = self.folder / "slapd.pid"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            pending = [p for p in pending if not _accepts(self.host, p)]
            if not pending and pidfile.exists() and self._process.poll() is None:
                return True
            time.sleep(0.01)
        self.kill()
        raise DirectoryUnavailable(
            f"slapd did not accept connections on {self.host} port(s) {pending} within "
            f"{self.timeout} s; its folder {self.folder} is kept. Log:\n{self.log[-4000:]}",
            host=self.host, port=pending[0] if pending else self.port)


def _defines(schema_text: str, attribute: str) -> bool:
    return re.search(rf"NAME\s+(?:\(\s*)?'{re.escape(attribute)}'", schema_text, re.I) is not None


def _has_rule(schema_text: str, attribute: str, rule: str) -> bool:
    """True when ``attribute``'s definition in ``schema_text`` names a ``rule`` (EQUALITY...)."""
    found = re.search(rf"NAME\s+(?:\(\s*)?'{re.escape(attribute)}'", schema_text, re.I)
    if found is None:
        return False
    end = re.search(r"^\s*(attributetype|objectclass)\b", schema_text[found.end():], re.I | re.M)
    definition = schema_text[found.end(): found.end() + end.start() if end else None]
    return re.search(rf"\b{rule}\b", definition) is not None


def _slapadd_error(output: str, data: Path, given: object) -> LdapnbError:
    """The ldapnb error for slapadd's complaint, quoting it."""
    source = str(given) if isinstance(given, os.PathLike) or (
        isinstance(given, str) and "\n" not in given) else str(data)
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    quoted = "\n    ".join(lines[-6:]) or "(no message)"
    for line in reversed(lines):
        parsed = _SLAPADD_PARSE.search(line)
        if parsed:
            return LdifError(f"slapadd could not parse this entry:\n    {quoted}",
                             source=source, line=int(parsed["line"]))
        match = _SLAPADD_ERROR.search(line)
        if match:
            reason = match["reason"]
            hint = ""
            if "objectClass" in reason or "attribute type undefined" in reason \
                    or "AttributeDescription" in reason:
                hint = ("\nIs the schema that defines it loaded? Pass schemas=(..., 'name') "
                        "(e.g. 'openldap' for OpenLDAPperson, from the system's schema folder).")
            elif "not allowed" in reason:
                hint = ("\nThe entry's object classes do not allow that attribute; "
                        "check_schema=False loads such data anyway.")
            message = (f"slapadd refused entry {match['dn']!r} ({source}, line {match['line']}): "
                       f"{reason}\n    {quoted}{hint}")
            if "KEYEXIST" in reason or "already exists" in reason:
                error = EntryAlreadyExists(match["dn"])
                error.add_note(f"The data holds this DN twice ({source}, line {match['line']} "
                               "repeats it); skip_bad_entries=True loads the first only.")
                return error
            if match["code"] == "65":
                return ObjectClassViolation(message)
            return SchemaError(message)
    return SchemaError(f"slapadd refused {source}:\n    {quoted}")
