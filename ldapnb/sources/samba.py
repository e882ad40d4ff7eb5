"""A private Samba Active Directory domain controller on loopback, loaded from an AD fixture.

:class:`SambaDC` is to Active Directory what :class:`~ldapnb.sources.slapd.Slapd` is to
OpenLDAP: a real server, private to the caller, in its own temporary folder::

    with SambaDC("contoso") as dc:
        dc.urls        # ldap://127.0.0.x, ldaps://, gc:// (3268), gcs:// (3269)
        dc.ca_file     # the throw-away CA that signed the DC's certificate (SANs incl. the IP)
        dc.realm       # 'CONTOSO.COM'; dc.kdc, dc.krb5_conf for Kerberos clients

How (every step verified on Debian 12's Samba 4.17):

- ``samba-tool domain provision`` into the folder with an empty ``--configfile`` (so the
  machine's own smb.conf is never merged in), ``interfaces = IP/8`` with ``bind interfaces
  only`` (an address without a mask makes smbd panic), private pid/run/log folders, no DNS
  forwarder (provision copies the machine's resolver; the line is deleted) and
  ``ldap server require strong auth = allow_sasl_over_tls`` (simple binds need TLS, as on a
  hardened Windows DC).
- The data is loaded **offline**, before the first start, by Samba's own Python bindings
  (``_samba_loader.py``, run by the system's ``python3``): objectSid and RIDs, sAMAccountType,
  password hashes and uniqueness are Samba's doing, as over LDAP, at a fraction of the time.
- The realm is chosen so that the fixture's DNs are the domain's DNs (``DC=contoso,DC=com``
  -> realm ``CONTOSO.COM``, NetBIOS domain ``CONTOSO``); no DN is rewritten.
- The provisioned and loaded folder is a *template*: :meth:`SambaDC.from_template` copies it
  (Samba is stopped) and starts the copy on another address in about a second.
- Samba runs in a private mount namespace (``unshare --mount``) where ``/etc/hosts`` and
  ``/etc/resolv.conf`` are bind-mounted private files (``dc1.<realm>`` -> the IP, DNS -> the
  DC itself): nothing in ``/etc`` changes and Samba never asks the machine's DNS.  Kerberos
  clients use :attr:`krb5_conf` (KDC by IP, no DNS lookups) and name the DC by its host name
  without resolving it (``kerberos_host=`` of :class:`~ldapnb.sources.live.LiveSource`), or
  run in the same namespace (:meth:`SambaDC.namespace_command`).

What a fixture loses on the way in (listed in :attr:`SambaDC.report`): attributes Samba owns
(:data:`OWNED_ATTRIBUTES`: objectSid and RIDs are Samba's, with ``report.sids`` mapping the
fixture's SIDs to them; whenCreated is the load time; pwdLastSet is the load time for accounts
given a password, as Samba allows only 0 or -1), OpenLDAP's ``extensibleObject`` class, a
duplicate sAMAccountName (refused, as Windows refuses it) and member values naming no entry.
The fixture's ``nTSecurityDescriptor`` is loaded, after every entry and member link, with its
SIDs mapped to Samba's (owner, group and every ACE trustee of the DACL and SACL: a fixture
object's SID -> the SID Samba gave that object, a well-known RID of the fixture's domain -> the
same RID in Samba's, BUILTIN and NT AUTHORITY SIDs unchanged; ``report.descriptors``,
``report.sd_refused``, ``report.sd_unmapped``), so the audit's ACL findings (DCSync rights,
Tier-0 and AdminSDHolder ACEs, control paths) are the same live and embedded.  What changes on
the way: Samba's descriptor module recomputes the inherited ACEs from the parent, as AD does,
and a descriptor without a DACL (owner and group only, as most of contoso's) leaves the DACL
Samba gave the object at creation (its class's default ACEs plus inherited ones).
A primaryGroupID other than Samba's default (contoso's hidden admin has 512) is set the way a
client sets it on Windows: membership first, then primaryGroupID, then the explicit link to
the old primary group removed unless the fixture has it (``report.primary_groups``).

Where Samba 4.17 differs from Windows (seen here; ldapnb follows Windows where it can):

- it ignores the client's size limit (and MaxPageSize): ldapnb enforces ``size_limit`` itself;
- it returns every value of a big ``member`` without range retrieval (explicit ranges are
  honoured);
- its rootDSE lists no supportedExtension at all (StartTLS works anyway; no Who-am-I, which
  Windows has), and its subschema publishes no ``matchingRules`` (as Windows);
- ldap3's NTLM bind ("Sicily") is not implemented: Samba closes the connection;
- an enabled user account may have no password; ``ldap server require strong auth`` is ``yes``
  by default (Windows' default still accepts simple binds on 389 unless LDAP signing is
  required);
- the DC's SPNs (``ldap/dc1.<realm>``) are added by ``samba_spnupdate`` seconds after the first
  start (added offline here, so Kerberos works at once).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import logging
import os
import random
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from ..entry import Entry
from ..errors import DirectoryUnavailable, DnError

__all__ = ["SambaDC", "LoadReport", "default_cache", "DEMO_PASSWORD", "OWNED_ATTRIBUTES",
           "INSTALL_HINT"]

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "install Samba's AD DC: on Debian/Ubuntu `sudo apt-get install samba samba-ad-dc "
    "samba-ad-provision winbind krb5-user libsasl2-modules-gssapi-mit` (with recommends: "
    "without samba-ad-provision, provisioning fails); `make test` installs them when run as root"
)

#: The password every user account of a loaded fixture gets (unless ``passwords=`` says
#: otherwise): fictional, documented, meets AD's complexity rules.  Never use it elsewhere.
DEMO_PASSWORD = "Demo!Passw0rd-2026"

#: Attributes Samba computes or owns: never copied from a fixture (listed in the load report).
OWNED_ATTRIBUTES = frozenset(a.lower() for a in (
    "objectSid", "objectGUID", "whenCreated", "whenChanged", "uSNCreated", "uSNChanged",
    "sAMAccountType", "instanceType", "objectCategory", "pwdLastSet",
    "memberOf", "distinguishedName", "name", "primaryGroupID", "dSCorePropagationData",
    "unicodePwd", "userPassword", "tokenGroups", "isCriticalSystemObject", "badPwdCount",
    "logonCount", "lastLogon", "badPasswordTime", "systemFlags", "objectVersion",
))
# Never replaced on entries the provision already made (the built-in accounts and groups).
_KEEP_EXISTING = ("objectclass", "cn", "samaccountname", "useraccountcontrol",
                  "serviceprincipalname", "grouptype", "dc", "ou", "member")

_STOP_TIMEOUT = 10.0
_LOCK_DIR = Path(tempfile.gettempdir()) / "ldapnb-samba-locks"


def default_cache() -> Path:
    """Where prepared templates are kept unless told otherwise (``ldapnb samba``, the AD
    lessons): ``$LDAPNB_SAMBA_CACHE``, else ``$XDG_CACHE_HOME/ldapnb/samba`` (by default
    ``~/.cache/ldapnb/samba``)."""
    given = os.environ.get("LDAPNB_SAMBA_CACHE")
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory (no HOME, no passwd entry)
            base = str(Path(tempfile.gettempdir()) / f"ldapnb-{os.getuid()}")
    return Path(base) / "ldapnb" / "samba"


def find_program(name: str) -> str | None:
    """The path of a program on PATH or in the sbin folders (where Debian puts ``samba``,
    which a normal user's PATH lacks), or None."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/sbin")


def find_samba() -> str | None:
    """The path of ``samba`` (the AD DC daemon), or None when it is not installed."""
    return find_program("samba")


def _require(name: str) -> str:
    path = find_program(name)
    if path is None:
        raise DirectoryUnavailable(f"Samba's `{name}` is not installed: {INSTALL_HINT}")
    return path


def _system_python() -> str:
    """The interpreter that has Samba's Python bindings (samba-tool's own)."""
    tool = _require("samba-tool")
    with open(tool, encoding="utf-8", errors="replace") as f:
        first = f.readline()
    if first.startswith("#!"):
        parts = first[2:].split()
        if parts and parts[0].endswith("/env") and len(parts) > 1:
            found = shutil.which(parts[1], path="/usr/bin:/bin")
            if found:
                return found
        elif parts:
            return parts[0]
    return "/usr/bin/python3"


def _port_busy(ip: str, port: int) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=0.2):
            return True
    except OSError:
        pass
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((ip, port))
        except PermissionError:
            return False  # not root: cannot test by binding, the connect test said free
        except OSError:
            return True
    return False


def _claim_address() -> tuple[str, Any]:
    """A loopback address 127.0.0.x (x >= 2) where nothing answers on 389/636/88, and a lock."""
    _LOCK_DIR.mkdir(exist_ok=True)
    candidates = list(range(2, 255))
    random.shuffle(candidates)
    for x in candidates:
        ip = f"127.0.0.{x}"
        lock = open(_LOCK_DIR / f"{ip}.lock", "w")  # noqa: SIM115 (held for the DC's life)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        if any(_port_busy(ip, port) for port in (389, 636, 88, 3268)):
            lock.close()
            continue
        return ip, lock
    raise DirectoryUnavailable("no free loopback address 127.0.0.2-254 for a Samba DC "
                               "(each has something listening on 389, 636, 88 or 3268)")


def _realm_of(base: str) -> str:
    parts = [p.strip() for p in re.split(r"(?<!\\),", base) if p.strip()]
    labels = []
    for part in parts:
        name, _, value = part.partition("=")
        if name.strip().lower() != "dc" or not value.strip():
            raise DnError(f"a Samba domain's DN is made of DC= parts only; the fixture's base "
                          f"{base!r} is not, so its DNs cannot be the domain's", dn=base)
        labels.append(value.strip())
    return ".".join(labels).upper()


def _encode(values: Iterable[Any]) -> list[dict[str, str]]:
    out = []
    for value in values:
        if isinstance(value, bytes):
            out.append({"b": base64.b64encode(value).decode("ascii")})
        else:
            out.append({"t": str(value)})
    return out


def _norm(dn: str) -> str:
    return ",".join(p.strip().lower() for p in re.split(r"(?<!\\),", dn))


@dataclass
class LoadReport:
    """What loading a fixture into Samba did, and what it could not do.

    ``refused`` entries (DN, Samba's reason), ``attribute_refused`` (DN, attribute, reason) on
    entries the provision had already made, ``members_missing`` (group, member: a member value
    naming no entry, which AD refuses), ``dropped`` (attribute -> how many values: attributes
    Samba owns, never copied), ``sids`` (fixture objectSid -> the objectSid Samba assigned, for
    every entry that had one), ``descriptors`` (fixture nTSecurityDescriptors written, SIDs
    mapped to Samba's), ``sd_refused`` (DN, Samba's reason: the entry keeps Samba's
    descriptor), ``sd_unmapped`` (SIDs of the fixture's domain in a descriptor naming no loaded
    object, kept as they are), and timings in seconds.
    """

    added: int = 0
    changed: int = 0
    members_added: int = 0
    passwords: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)
    attribute_refused: list[tuple[str, str, str]] = field(default_factory=list)
    members_missing: list[tuple[str, str]] = field(default_factory=list)
    withheld: list[tuple[str, str, str]] = field(default_factory=list)
    primary_groups: int = 0
    primary_refused: list[tuple[str, str, str]] = field(default_factory=list)
    descriptors: int = 0
    sd_refused: list[tuple[str, str]] = field(default_factory=list)
    sd_unmapped: list[str] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    sids: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        """One paragraph: counts, then every refusal."""
        lines = [f"added {self.added} entries, changed {self.changed} existing ones, "
                 f"{self.members_added} member links, {self.primary_groups} primary groups, "
                 f"{self.passwords} passwords, {self.descriptors} security descriptors "
                 f"in {self.seconds:.1f} s"]
        if self.dropped:
            lines.append("not loaded (Samba owns them): " + ", ".join(
                f"{k} ({v})" for k, v in sorted(self.dropped.items())))
        lines += [f"refused {dn!r}: {why}" for dn, why in self.refused]
        lines += [f"kept Samba's {attr} on {dn!r}: {why}"
                  for dn, attr, why in self.attribute_refused]
        lines += [f"member {m!r} of {g!r} not loaded (no such entry)"
                  for g, m in self.members_missing]
        lines += [f"member {m!r} of {g!r} withheld: {why}" for g, m, why in self.withheld]
        lines += [f"primary group {g!r} of {dn!r} not set: {why}"
                  for dn, g, why in self.primary_refused]
        lines += [f"kept Samba's nTSecurityDescriptor on {dn!r}: {why}"
                  for dn, why in self.sd_refused]
        if self.sd_unmapped:
            lines.append("SIDs in descriptors naming no loaded object, kept as they are: "
                         + ", ".join(self.sd_unmapped))
        return "\n".join(lines)


def _sid_text(raw: Any) -> str | None:
    if not isinstance(raw, bytes) or len(raw) < 8:
        return None
    count = raw[1]
    authority = int.from_bytes(raw[2:8], "big")
    subs = [int.from_bytes(raw[8 + 4 * i: 12 + 4 * i], "little") for i in range(count)]
    return "S-1-" + "-".join(str(x) for x in [authority, *subs])


#: The primaryGroupID Samba gives a new account: Domain Users, Domain Computers, Domain
#: Controllers (userAccountControl SERVER_TRUST_ACCOUNT, 0x2000), as Windows does.
_DEFAULT_PRIMARY = {"user": "513", "computer": "515", "dc": "516"}


def _primary_groups(entries: list[Entry]) -> list[dict[str, Any]]:
    """The accounts whose primaryGroupID is not the one Samba gives them: each with the
    fixture's group of that RID (found by the fixture's own objectSid) and whether the
    fixture lists the account in its default primary group (``keep_old``)."""
    by_rid: dict[str, Entry] = {}
    for e in entries:
        sid = _sid_text(e.first("objectSid"))
        if sid and "group" in [str(c).lower() for c in e.get("objectClass", [])]:
            by_rid[sid.rsplit("-", 1)[1]] = e
    out = []
    for e in entries:
        classes = [str(c).lower() for c in e.get("objectClass", [])]
        wanted = str(e.first("primaryGroupID", ""))
        if "user" not in classes or not wanted:
            continue
        uac = str(e.first("userAccountControl", "0"))
        kind = ("dc" if uac.isdigit() and int(uac) & 0x2000 else
                "computer" if "computer" in classes else "user")
        default = _DEFAULT_PRIMARY[kind]
        if wanted == default or wanted not in by_rid:
            continue
        old = by_rid.get(default)
        keep_old = old is not None and _norm(e.dn) in {_norm(str(m))
                                                       for m in old.get("member", [])}
        out.append({"dn": e.dn, "group": by_rid[wanted].dn, "keep_old": keep_old})
    return out


def _fixture_entries(source: Any) -> tuple[list[Entry], str]:
    from .. import ldif

    if isinstance(source, str) and "\n" not in source and os.sep not in source \
            and not source.endswith(".ldif") and not Path(source).exists():
        from ..directory import fixture_path

        return list(ldif.read_entries(fixture_path(source))), source
    if isinstance(source, str) and "\n" in source:
        return ldif.loads(source), "LDIF text"
    path = Path(os.fspath(source))
    if not path.is_file():
        raise DirectoryUnavailable(f"no LDIF file {str(path)!r} to load into Samba")
    return list(ldif.read_entries(path)), path.name


class SambaDC:
    """A private Samba AD DC on a loopback address, loaded with an AD fixture; a context manager.

    Parameters
    ----------
    fixture_or_ldif
        A bundled fixture's name (``"contoso"``), an LDIF file, or LDIF text.  None with
        ``entries`` given, or for an empty domain (then ``realm`` is required).
    entries
        The data as :class:`~ldapnb.entry.Entry` objects instead (e.g. from
        :func:`ldapnb.synthetic.generate` with ``style="ad"``).
    realm
        The Kerberos realm / DNS domain.  By default the fixture's base DN read as a DNS name
        (``DC=contoso,DC=com`` -> ``CONTOSO.COM``), so that its DNs are the domain's DNs.
    domain
        The NetBIOS (down-level) domain name; by default the realm's first label.
    passwords
        ``"all"`` (default): every user account (not computers) gets :data:`DEMO_PASSWORD`;
        ``"none"``: no passwords (faster for big data; Samba, unlike Windows, accepts an
        enabled account without one); or a mapping ``sAMAccountName -> password``.
    admin_password
        Administrator's password; a random secret by default (:attr:`admin_password`).
    strong_auth
        ``ldap server require strong auth``: ``"allow_sasl_over_tls"`` (default: simple binds
        on 389 need StartTLS; GSSAPI works over TLS), ``"yes"`` (Samba's own default) or
        ``"no"``.
    keep
        Keep the folder after :meth:`stop` (always kept when the start or the ``with`` block
        failed; its path is printed).
    cache
        A folder of prepared templates (:meth:`prepare`), one per data set and options: the
        first start provisions and loads into it, later ones copy it (about a second instead
        of 15-60 s).  Default: the ``LDAPNB_SAMBA_CACHE`` environment variable, else no cache.
        Templates hold Administrator's password (files readable by you only).
    timeout
        Seconds to wait for LDAPS to answer after starting.

    Examples
    --------
    Nothing runs until :meth:`start` (or ``with``); the names a client needs are known before:

    >>> dc = SambaDC(realm="corp.example.org")
    >>> dc.realm, dc.domain, dc.base_dn, dc.hostname, dc.running
    ('CORP.EXAMPLE.ORG', 'CORP', 'DC=corp,DC=example,DC=org', 'dc1.corp.example.org', False)
    """

    def __init__(
        self,
        fixture_or_ldif: str | os.PathLike[str] | None = None,
        *,
        entries: Iterable[Entry] | None = None,
        realm: str | None = None,
        domain: str | None = None,
        passwords: str | Mapping[str, str] = "all",
        admin_password: str | None = None,
        strong_auth: str = "allow_sasl_over_tls",
        keep: bool = False,
        timeout: float = 60.0,
        cache: str | os.PathLike[str] | None = None,
    ) -> None:
        if fixture_or_ldif is not None and entries is not None:
            raise TypeError("give either fixture_or_ldif or entries, not both")
        self._source = fixture_or_ldif
        self._entries = list(entries) if entries is not None else None
        self._realm = realm.upper() if realm else None
        self._domain = domain.upper() if domain else None
        if self._realm and not self._domain:
            self._domain = self._realm.split(".")[0][:15]
        self.passwords = passwords
        self._admin_password = admin_password or ("Aa1!" + secrets.token_urlsafe(18))
        self.strong_auth = strong_auth
        self.keep = keep
        self.timeout = timeout
        if cache is None:
            cache = os.environ.get("LDAPNB_SAMBA_CACHE")
        self.cache = Path(cache) if cache else None
        self.label = "empty"
        self.folder: Path | None = None
        self.ip = ""
        self.report: LoadReport | None = None
        self.provisioned_in = 0.0
        self.started_in = 0.0
        self._process: subprocess.Popen[bytes] | None = None
        self._lock: Any = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._template: Path | None = None
        #: sAMAccountNames of enabled user accounts that got a password at load (up to 8).
        self.demo_accounts: list[str] = []

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<SambaDC {self.realm or '?'} {self.ip or '-'} {state}>"

    # -- what clients need -------------------------------------------------------------------
    @property
    def realm(self) -> str:
        """The Kerberos realm (= the DNS domain, upper-case), e.g. ``CONTOSO.COM``."""
        return self._realm or ""

    @property
    def domain(self) -> str:
        """The NetBIOS (down-level) domain name, e.g. ``CONTOSO`` (binds as ``CONTOSO\\user``)."""
        return self._domain or ""

    @property
    def base_dn(self) -> str:
        """The domain's DN, e.g. ``DC=contoso,DC=com``."""
        return ",".join(f"DC={label.lower()}" for label in self.realm.split("."))

    @property
    def hostname(self) -> str:
        """The DC's DNS name, ``dc1.<realm>``: Kerberos names the LDAP service by it."""
        return f"dc1.{self.realm.lower()}"

    @property
    def urls(self) -> dict[str, str]:
        """``ldap`` (389, StartTLS), ``ldaps`` (636), ``gc`` (3268), ``gcs`` (3269)."""
        return {"ldap": f"ldap://{self.ip}", "ldaps": f"ldaps://{self.ip}",
                "gc": f"ldap://{self.ip}:3268", "gcs": f"ldaps://{self.ip}:3269"}

    @property
    def kdc(self) -> str:
        """The KDC's address, ``IP:88``."""
        return f"{self.ip}:88"

    @property
    def ca_file(self) -> Path:
        """The CA that signed the DC's certificate (valid for dc1.<realm>, the realm, the IP)."""
        assert self.folder is not None
        return self.folder / "tls" / "ca.pem"

    @property
    def krb5_conf(self) -> Path:
        """A private ``KRB5_CONFIG``: this realm, KDC by IP, no DNS lookups of any kind."""
        assert self.folder is not None
        return self.folder / "krb5.conf"

    @property
    def ccache(self) -> str:
        """A private Kerberos credential cache (``KRB5CCNAME``) for this DC's tests."""
        assert self.folder is not None
        return f"FILE:{self.folder / 'krb5cc'}"

    @property
    def admin_user(self) -> str:
        """``Administrator@<realm>`` (UPN form; ``CN=Administrator,CN=Users,...`` works too)."""
        return f"Administrator@{self.realm.lower()}"

    @property
    def admin_password(self) -> str:
        """Administrator's password (a random secret unless given)."""
        return self._admin_password

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The samba master process's own PID (what :meth:`stop` signals)."""
        return self._process.pid if self._process is not None else None

    @property
    def log(self) -> str:
        """samba's output so far (errors and warnings)."""
        if self.folder is None:
            return ""
        path = self.folder / "log" / "samba.stdout"
        return path.read_text(errors="replace") if path.exists() else ""

    def environment(self) -> dict[str, str]:
        """Environment variables for Kerberos and OpenLDAP clients of this DC."""
        return {"KRB5_CONFIG": str(self.krb5_conf), "KRB5CCNAME": self.ccache,
                "LDAPTLS_CACERT": str(self.ca_file)}

    def namespace_command(self, command: list[str]) -> list[str]:
        """``command`` wrapped to run where ``dc1.<realm>`` resolves to the DC's IP.

        A private mount namespace (``unshare --mount``, needs root or user namespaces) with
        this DC's hosts and resolv.conf bind-mounted over ``/etc``'s: a DNS query from inside
        goes to the DC itself, never to the machine's resolver.
        """
        assert self.folder is not None
        script = ('mount --bind "$0/ns/hosts" /etc/hosts && '
                  'mount --bind "$0/ns/resolv.conf" /etc/resolv.conf && exec "$@"')
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                str(self.folder), *command]

    def kinit(self, user: str, password: str) -> None:
        """Get a Kerberos ticket for ``user`` into :attr:`ccache` (``kinit``, password on stdin).

        Raises
        ------
        BindError
            kinit refused (its message quoted) or is not installed.
        """
        from ..errors import BindError

        kinit = shutil.which("kinit")
        if kinit is None:
            raise BindError("kinit is not installed: apt-get install krb5-user")
        env = {**os.environ, **self.environment()}
        done = subprocess.run([kinit, user], input=password + "\n", capture_output=True,
                              text=True, env=env, timeout=30)
        if done.returncode != 0:
            raise BindError(f"kinit {user} failed: {done.stderr.strip() or done.stdout.strip()}")

    # -- life cycle --------------------------------------------------------------------------
    def start(self) -> SambaDC:
        """Provision (or copy the template), load the data offline, start samba, wait for LDAPS.

        Raises
        ------
        DirectoryUnavailable
            Samba is not installed (the message says how to install it), provisioning failed
            or samba did not answer in time (the folder is kept; its path is in the message).
        """
        if self.running:
            return self
        samba = find_samba()
        if samba is None:
            raise DirectoryUnavailable(f"Samba's `samba` daemon is not installed: {INSTALL_HINT}")
        began = time.perf_counter()
        if self._template is None and self.cache is not None:
            self._template = self.cached_template()
        self.ip, self._lock = _claim_address()
        self.folder = Path(tempfile.mkdtemp(prefix="ldapnb-samba-"))
        self._finalizer = weakref.finalize(self, _cleanup, None, self.folder, True, None)
        try:
            if self._template is not None:
                self._copy_template(self._template)
            else:
                self._provision_and_load()
            self._write_client_files()
            self._launch(samba)
        except BaseException as exc:
            self.keep = True
            self.stop()
            note = f"Samba's folder was kept for inspection: {self.folder}"
            with contextlib.suppress(AttributeError):
                exc.add_note(note)
            raise
        self.started_in = time.perf_counter() - began
        return self

    def prepare(self, folder: str | os.PathLike[str]) -> Path:
        """Provision and load into ``folder`` without starting: a template for
        :meth:`from_template` (copied per test module or user, never started itself)."""
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.ip = "127.0.0.2"  # rewritten in every copy
        self._provision_and_load()
        (self.folder / "template.json").write_text(json.dumps({
            "realm": self.realm, "domain": self.domain, "folder": str(self.folder),
            "ip": self.ip, "admin_password": self._admin_password, "label": self.label,
            "provisioned_in": self.provisioned_in, "demo_accounts": self.demo_accounts,
            "report": self.report.__dict__ if self.report else None}), encoding="utf-8")
        os.chmod(self.folder / "template.json", 0o600)
        return self.folder

    @classmethod
    def from_template(cls, folder: str | os.PathLike[str], *, keep: bool = False,
                      timeout: float = 60.0) -> SambaDC:
        """A DC that starts from a copy of a folder made by :meth:`prepare` (not started)."""
        dc = cls(keep=keep, timeout=timeout, cache="")
        dc._adopt(Path(folder))
        return dc

    def _adopt(self, folder: Path) -> None:
        """Take realm, passwords and the load report from a template; start from a copy."""
        meta = json.loads((folder / "template.json").read_text(encoding="utf-8"))
        self._realm, self._domain = meta["realm"], meta["domain"]
        self._admin_password = meta["admin_password"]
        self.label = meta["label"]
        self.demo_accounts = list(meta.get("demo_accounts", []))
        self.provisioned_in = meta["provisioned_in"]
        if meta["report"] is not None:
            self.report = LoadReport(**meta["report"])
        self._template = folder

    def _cache_key(self, entries: list[Entry]) -> str:
        import hashlib

        digest = hashlib.sha256()
        for part in (self._realm, self._domain, repr(self.passwords), self.strong_auth,
                     Path(__file__).with_name("_samba_loader.py").read_bytes(),
                     Path(__file__).read_bytes(),  # the plan is made here
                     subprocess.run([find_samba() or "samba", "--version"], capture_output=True,
                                    text=True).stdout):
            digest.update(repr(part).encode() + b"\0")
        for entry in entries:
            digest.update(json.dumps([entry.dn, {k: _encode(v) for k, v in entry.items()}],
                                     sort_keys=True).encode())
        return digest.hexdigest()[:24]

    def cached_template(self) -> Path:
        """The folder in :attr:`cache` holding the template for this data and these options,
        prepared (provisioned and loaded) on first use; :meth:`start` then copies it."""
        if self.cache is None:
            raise TypeError("cached_template() needs cache= (or LDAPNB_SAMBA_CACHE)")
        entries = self._data()
        self._entries, self._source = entries, None
        folder = self.cache / self._cache_key(entries)
        if not (folder / "template.json").is_file():
            self.cache.mkdir(parents=True, exist_ok=True, mode=0o700)
            work = Path(tempfile.mkdtemp(prefix=folder.name + ".tmp-", dir=self.cache))
            try:
                label = self.label
                self.prepare(work)
                meta = json.loads((work / "template.json").read_text(encoding="utf-8"))
                meta["label"] = label
                (work / "template.json").write_text(json.dumps(meta), encoding="utf-8")
                try:
                    work.rename(folder)  # atomic: a concurrent run may have won the race
                except OSError:
                    shutil.rmtree(work, ignore_errors=True)
            except BaseException:
                shutil.rmtree(work, ignore_errors=True)
                raise
            finally:
                self.folder = None
        self._adopt(folder)
        return folder

    def stop(self) -> None:
        """Stop samba by its own PID (SIGTERM, then SIGKILL after 10 s) and remove the folder
        unless kept (its path is then printed)."""
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if self.folder is not None:
            _cleanup(self._process, self.folder, self.keep, self._lock)
            if self.keep:
                log.info("Samba folder kept: %s", self.folder)
        self._process = None
        self._lock = None

    def __enter__(self) -> SambaDC:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is not None and self.folder is not None:
            self.keep = True
            note = f"Samba's folder was kept for inspection: {self.folder} (log: log/)"
            exc.add_note(note)
            print(note)
        self.stop()

    # -- the steps ---------------------------------------------------------------------------
    def _data(self) -> list[Entry]:
        if self._entries is not None:
            self.label = "entries"
            return self._entries
        if self._source is None:
            return []
        entries, self.label = _fixture_entries(self._source)
        return entries

    def _provision_and_load(self) -> None:
        assert self.folder is not None
        entries = self._data()
        if self._realm is None:
            if not entries:
                raise TypeError("an empty Samba domain needs realm=")
            base = min((e.dn for e in entries), key=lambda dn: len(re.split(r"(?<!\\),", dn)))
            self._realm = _realm_of(base)
        if self._domain is None:
            self._domain = self.realm.split(".")[0][:15]
        began = time.perf_counter()
        self._provision()
        self.provisioned_in = time.perf_counter() - began
        self.report = self._load(entries)

    def _provision(self) -> None:
        assert self.folder is not None
        d = self.folder
        for sub in ("run", "log", "ns", "tls"):
            (d / sub).mkdir(exist_ok=True)
        (d / "empty.conf").write_text("")
        options = {
            "interfaces": f"{self.ip}/8", "bind interfaces only": "yes",
            "pid directory": d / "run", "ncalrpc dir": d / "run" / "ncalrpc",
            "winbindd socket directory": d / "run" / "winbindd",
            "ntp signd socket directory": d / "run" / "ntp_signd",
            "log file": d / "log" / "%m.log", "disable netbios": "yes",
            "dns update command": "/bin/true",
            "tls keyfile": d / "tls" / "server.key", "tls certfile": d / "tls" / "server.pem",
            "tls cafile": d / "tls" / "ca.pem",
            "ldap server require strong auth": self.strong_auth,
        }
        command = [_require("samba-tool"), "domain", "provision", f"--configfile={d}/empty.conf",
                   f"--realm={self.realm}", f"--domain={self.domain}", "--server-role=dc",
                   "--dns-backend=SAMBA_INTERNAL", "--host-name=dc1", f"--host-ip={self.ip}",
                   f"--adminpass={self._admin_password}", f"--targetdir={d}",
                   *(f"--option={k}={v}" for k, v in options.items())]
        with open(d / "log" / "provision.log", "wb") as out:
            done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            text = (d / "log" / "provision.log").read_text(errors="replace")
            hint = ""
            if "samba-ad-provision" in text:
                hint = " (install samba-ad-provision: apt-get install samba-ad-provision)"
            raise DirectoryUnavailable(f"samba-tool domain provision failed{hint}; folder {d} "
                                       f"kept. Log:\n{text[-3000:]}")
        conf = d / "etc" / "smb.conf"
        text = conf.read_text()
        conf.write_text("".join(line for line in text.splitlines(keepends=True)
                                if not line.strip().startswith("dns forwarder")))

    def _plan(self, entries: list[Entry]) -> tuple[dict[str, Any], LoadReport]:
        report = LoadReport()
        plan_entries = []
        members = []
        base = _norm(self.base_dn)
        protected = _norm(f"CN=Protected Users,CN=Users,{self.base_dn}")
        administrator = _norm(f"CN=Administrator,CN=Users,{self.base_dn}")
        builtin = {_norm(f"CN={c},{self.base_dn}") for c in
                   ("Users", "Builtin", "Computers", "System")} | {
                       _norm(f"OU=Domain Controllers,{self.base_dn}"), base}
        primary = _primary_groups(entries)
        for entry in entries:
            attrs: dict[str, list[dict[str, str]]] = {}
            classes = [str(v).lower() for v in entry.get("objectClass", [])]
            descriptor = None
            for name in entry:
                lower = name.lower()
                values = entry[name]
                if lower == "ntsecuritydescriptor":
                    # written after every add, its SIDs mapped to Samba's (the loader)
                    raw = values[0] if values else None
                    if isinstance(raw, bytes) and raw:
                        descriptor = base64.b64encode(raw).decode("ascii")
                    continue
                if lower in OWNED_ATTRIBUTES:
                    report.dropped[name] = report.dropped.get(name, 0) + len(values)
                    continue
                if lower == "objectclass" and any(str(v).lower() == "extensibleobject"
                                                  for v in values):
                    # an OpenLDAP class AD does not have (AD's schema is not extensible so)
                    values = [v for v in values if str(v).lower() != "extensibleobject"]
                    report.dropped["objectClass: extensibleObject"] = \
                        report.dropped.get("objectClass: extensibleObject", 0) + 1
                if lower == "member":
                    kept = [str(v) for v in values]
                    if _norm(entry.dn) == protected:
                        # Samba refuses simple binds of Protected Users members (52f): the
                        # account ldapnb binds as must stay out, or nothing can connect
                        admin_dn = [v for v in kept if _norm(v) == administrator]
                        kept = [v for v in kept if _norm(v) != administrator]
                        report.withheld += [(entry.dn, v, "Samba would refuse Administrator's "
                                             "simple bind (52f), which ldapnb connects with")
                                            for v in admin_dn]
                    members.append({"dn": entry.dn, "values": kept})
                    continue
                attrs[name] = _encode(values)
            password = None
            is_user = "user" in classes and "computer" not in classes
            if is_user:
                sam = str(entry.first("sAMAccountName", ""))
                if self.passwords == "all":
                    password = DEMO_PASSWORD
                elif isinstance(self.passwords, Mapping):
                    password = self.passwords.get(sam)
            existing = _norm(entry.dn) in builtin
            item: dict[str, Any] = {"dn": entry.dn, "attrs": attrs, "existing": existing,
                                    "keep_existing": list(_KEEP_EXISTING)}
            if descriptor:
                item["sd"] = descriptor
                item["sid"] = _sid_text(entry.first("objectSid"))
            if password and not _norm(entry.dn).startswith("cn=administrator,cn=users,"):
                item["password"] = password
                uac = str(entry.first("userAccountControl", "512"))
                if uac.isdigit() and not int(uac) & 2 and len(self.demo_accounts) < 8:
                    self.demo_accounts.append(str(entry.first("sAMAccountName")))
            plan_entries.append(item)
        host, dns = self.hostname, self.realm.lower()
        netbios, workgroup = "DC1", self.domain
        spns = [f"HOST/{host}", f"HOST/{host}/{workgroup}", f"ldap/{host}/{workgroup}",
                f"GC/{host}/{dns}", f"ldap/{host}", f"HOST/{host}/{dns}", f"ldap/{host}/{dns}",
                f"HOST/{netbios}", f"ldap/{netbios}", f"RestrictedKrbHost/{netbios}",
                f"RestrictedKrbHost/{host}", f"ldap/{host}/DomainDnsZones.{dns}",
                f"ldap/{host}/ForestDnsZones.{dns}"]
        # Kerberos to LDAP needs ldap/dc1.<realm> from the first second: samba's own
        # samba_spnupdate adds these only some seconds after the start.
        head = next((e for e in entries if _norm(e.dn) == base), None)
        head_sid = _sid_text(head.first("objectSid")) if head is not None else None
        return {"entries": plan_entries, "members": members, "primary": primary,
                "domain_sid": head_sid,
                "spns": {"dn": f"CN={netbios},OU=Domain Controllers,{self.base_dn}",
                         "values": spns}}, report

    def _load(self, entries: list[Entry]) -> LoadReport:
        assert self.folder is not None
        began = time.perf_counter()
        plan, report = self._plan(entries)
        plan["smb_conf"] = str(self.folder / "etc" / "smb.conf")
        plan["sam_ldb"] = str(self.folder / "private" / "sam.ldb")
        plan_file = self.folder / "load-plan.json"
        report_file = self.folder / "load-report.json"
        fd = os.open(plan_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(plan, out)
        loader = Path(__file__).with_name("_samba_loader.py")
        # -I: the script's own folder (holding this samba.py) must not shadow Samba's package.
        done = subprocess.run([_system_python(), "-I", str(loader), str(plan_file),
                               str(report_file)],
                              capture_output=True, text=True, errors="replace",
                              stdin=subprocess.DEVNULL)
        plan_file.unlink()  # it holds passwords
        if done.returncode != 0:
            raise DirectoryUnavailable(
                "loading the data into Samba failed (Samba's Python bindings, python3-samba, "
                f"are needed): {done.stderr[-3000:]}")
        got = json.loads(report_file.read_text(encoding="utf-8"))
        report.added = got["added"]
        report.changed = got["changed"]
        report.members_added = got["members_added"]
        report.refused = [tuple(x) for x in got["refused"]]
        report.attribute_refused = [tuple(x) for x in got["attribute_refused"]]
        report.members_missing = [tuple(x) for x in got["members_missing"]]
        report.primary_groups = got["primary_groups"]
        report.primary_refused = [tuple(x) for x in got["primary_refused"]]
        report.descriptors = got["descriptors"]
        report.sd_refused = [tuple(x) for x in got["sd_refused"]]
        report.sd_unmapped = list(got["sd_unmapped"])
        refused = {_norm(dn) for dn, _ in report.refused}
        report.passwords = sum(1 for e in plan["entries"] if e.get("password")
                               and _norm(e["dn"]) not in refused)
        new_sids = got["sids"]
        for entry in entries:
            old = _sid_text(entry.first("objectSid"))
            if old and entry.dn in new_sids:
                report.sids[old] = new_sids[entry.dn]
        report.seconds = time.perf_counter() - began
        log.info("Samba load: %s", report.summary())
        return report

    def _copy_template(self, template: Path) -> None:
        assert self.folder is not None
        meta = json.loads((template / "template.json").read_text(encoding="utf-8"))
        shutil.rmtree(self.folder)
        shutil.copytree(template, self.folder, symlinks=True)
        (self.folder / "template.json").unlink()
        conf = self.folder / "etc" / "smb.conf"
        text = conf.read_text().replace(meta["folder"], str(self.folder))
        text = text.replace(f"interfaces = {meta['ip']}/8", f"interfaces = {self.ip}/8")
        conf.write_text(text)

    def _write_client_files(self) -> None:
        assert self.folder is not None
        from ..tls import make_certificates

        tls = self.folder / "tls"
        tls.mkdir(exist_ok=True)
        realm = self.realm.lower()
        make_certificates(tls, (self.hostname, "dc1", realm, self.ip))
        (self.folder / "ns").mkdir(exist_ok=True)
        (self.folder / "ns" / "hosts").write_text(
            f"127.0.0.1 localhost\n{self.ip} {self.hostname} dc1 {realm}\n")
        (self.folder / "ns" / "resolv.conf").write_text(f"nameserver {self.ip}\n")
        self.krb5_conf.write_text(
            "[libdefaults]\n"
            f" default_realm = {self.realm}\n"
            " dns_lookup_realm = false\n dns_lookup_kdc = false\n rdns = false\n"
            " dns_canonicalize_hostname = false\n qualify_shortname = \"\"\n"
            " udp_preference_limit = 0\n"
            f"[realms]\n {self.realm} = {{\n  kdc = {self.ip}\n  admin_server = {self.ip}\n }}\n"
            f"[domain_realm]\n .{realm} = {self.realm}\n {realm} = {self.realm}\n")

    def _launch(self, samba: str) -> None:
        assert self.folder is not None
        script = ('mount --bind "$0/ns/hosts" /etc/hosts && '
                  'mount --bind "$0/ns/resolv.conf" /etc/resolv.conf && '
                  'exec "$1" -s "$0/etc/smb.conf" -F --debug-stdout -d 1')
        # unshare and sh both exec: the Popen PID is samba's own.
        with open(self.folder / "log" / "samba.stdout", "ab") as out:
            self._process = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                 str(self.folder), samba],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent)
        assert self._finalizer is not None
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, _cleanup, self._process, self.folder,
                                           self.keep, self._lock)
        deadline = time.monotonic() + self.timeout
        context = ssl.create_default_context(cafile=str(self.ca_file))
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise DirectoryUnavailable(
                    f"samba exited at once (code {self._process.returncode}); folder "
                    f"{self.folder} kept. Log:\n{self.log[-4000:]}", host=self.ip, port=636)
            if self._ldaps_answers(context):
                return
            time.sleep(0.1)
        raise DirectoryUnavailable(
            f"samba did not answer LDAPS on {self.ip}:636 within {self.timeout} s; folder "
            f"{self.folder} kept. Log:\n{self.log[-4000:]}", host=self.ip, port=636)

    def _ldaps_answers(self, context: ssl.SSLContext) -> bool:
        """True when LDAPS on 636 completes a verified TLS handshake and answers a rootDSE
        search (a hand-made 37-byte request: no library warnings, no leaked sockets)."""
        try:
            with socket.create_connection((self.ip, 636), timeout=1) as raw, \
                    context.wrap_socket(raw, server_hostname=self.ip) as tls:
                tls.settimeout(2)
                tls.sendall(_ROOT_DSE_SEARCH)
                return tls.recv(1)[:1] == b"\x30"
        except OSError:  # not up yet (refused, reset, TLS not ready): try again
            return False


# SearchRequest, message 1: base "", scope base, (objectClass=*), no attributes asked.
_ROOT_DSE_SEARCH = bytes.fromhex("3025020101632004000a01000a0100020100020100010100"
                                 "870b6f626a656374436c6173733000")


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM samba when the Python process that started it dies,
    even by SIGKILL (Linux ``PR_SET_PDEATHSIG``; kept across unshare's and sh's exec), so a
    killed test or notebook never leaves a DC running."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def _cleanup(process: subprocess.Popen[bytes] | None, folder: Path, keep: bool,
             lock: Any) -> None:
    """Stop samba (SIGTERM its PID, SIGKILL its session after 10 s), remove the folder."""
    if process is not None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait()
        # samba's prefork children share its session (started by us with a new session
        # whose id is samba's own PID): none may outlive it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    if lock is not None:
        with contextlib.suppress(OSError):
            lock.close()
    if keep:
        print(f"Samba folder kept: {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


def samba_directory(
    cls: Any,
    name_or_ldif: str | os.PathLike[str] | None = "contoso",
    *,
    template: str | os.PathLike[str] | None = None,
    via: str = "ldaps",
    writable: bool = True,
    page_size: int = 1000,
    timeout: float = 30,
    **samba_options: Any,
) -> Any:
    """Start a private Samba AD DC loaded with a fixture and connect to it as Administrator.

    The body of :meth:`ldapnb.Directory.samba`.

    Parameters
    ----------
    name_or_ldif
        A bundled fixture's name (``"contoso"``), an LDIF file or LDIF text, loaded as
        :class:`SambaDC` does (realm chosen so that its DNs are the domain's).
    template
        A folder made by :meth:`SambaDC.prepare`: copied and started instead of provisioning
        (about a second instead of 15).
    via
        ``"ldaps"`` (default) or ``"starttls"``: how the Directory connects, as
        Administrator, verifying the DC's certificate with its own CA.
    writable
        The DC is a private copy: writes are allowed unless ``writable=False``.
    page_size, timeout
        As for :class:`~ldapnb.sources.live.LiveSource`.
    **samba_options
        :class:`SambaDC`'s options (``passwords``, ``realm``, ``strong_auth`` ...).

    Returns
    -------
    Directory
        Use it as a context manager to stop the DC.  ``d.urls``, ``d.ca_file`` and
        ``d.samba_dc`` (the :class:`SambaDC`: realm, kdc, krb5_conf, admin_password) say how to
        reach it.
    """
    from .live import LiveSource

    if via not in ("ldaps", "starttls"):
        raise ValueError("via must be 'ldaps' or 'starttls'")
    if template is not None:
        server = SambaDC.from_template(template, **samba_options).start()
    else:
        server = SambaDC(name_or_ldif, **samba_options).start()
    try:
        url = server.urls["ldaps"] if via == "ldaps" else server.urls["ldap"]
        source = LiveSource(url, user=server.admin_user, password=server.admin_password,
                            ca_file=server.ca_file, start_tls=via == "starttls",
                            writable=writable, page_size=page_size, timeout=timeout,
                            kerberos_host=server.hostname)
    except BaseException:
        server.stop()
        raise
    d = cls(source, name=f"samba {server.label!r} ({server.realm})")
    d._slapd = server  # the Directory's server slot: close()/with stop it, urls, ca_file
    d.samba_dc = server
    return d
