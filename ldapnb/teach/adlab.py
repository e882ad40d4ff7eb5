"""Active Directory on port 389: hardening, the DC locator, the Global Catalog.

What a real domain controller answers, recorded from a private Samba AD DC (Samba 4.17 on
loopback, realm CONTOSO.TEST, ``ldap server require strong auth`` at its provisioned
setting) and replayed by the lesson when no Samba can run:

- simple binds on 389 (refused: ``strongerAuthRequired``, code 8), on 636 and after StartTLS;
- SASL GSSAPI / GSS-SPNEGO (Kerberos) on plain 389 with signing and sealing (SSF 256), and
  without them (refused), and without them inside StartTLS (accepted);
- the DNS SRV records of the DC locator (``_ldap._tcp.dc._msdcs.<domain>``) from the DC's own
  DNS server, and the raw DNS answer (replayed by :class:`DnsReplay`);
- the CLDAP "LDAP ping" on **UDP** 389 and its Netlogon answer (:func:`cldap_ping`,
  :func:`decode_netlogon`);
- the same search on 389 and on the Global Catalog 3268 (partial attribute set).
- what a DC enforces that a loader of LDIF does not (lesson 10): a second sAMAccountName that
  differs only in case is refused (``entryAlreadyExists``, 68), and the in-chain rule does not
  see primary-group membership (``primaryGroupID`` 513).

:func:`dc_answers` is what the lessons call: it starts a private Samba AD DC (from a template
cache: about a second) and records these exchanges from it just now wherever Samba can start,
and replays the shipped recording otherwise, printing which one the student is looking at and
why.  ``LDAPNB_LIVE_SAMBA=0`` asks for the recording; ``LDAPNB_LIVE_SAMBA=1`` or ``CI=true``
require the live DC (a DC that cannot start is then an error, never a silent fallback).

:func:`record` makes the recording (``python -m ldapnb.teach.adlab record-dc`` as root, from
ldapnb's own private Samba DC; or ``record DIR IP`` with a Samba started by the project's
``samba-ad-dc.sh`` recipe); :func:`recording` reads the
one shipped in ``ldapnb/teach/data/``.  :func:`srv_step` is a doctor step (an
:class:`ldapnb.diagnose.Step`) that asks a given DNS server for the DC locator's SRV records.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import socket
import struct
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import oids
from ..errors import DirectoryUnavailable

__all__ = ["DATA", "recording", "dc_answers", "live_choice", "LiveChoice", "LIVE_ENV",
           "hardening_frame", "events_frame", "managed_ldap_frame", "auditor_frame",
           "cldap_request", "cldap_ping", "decode_netlogon", "NETLOGON_FLAGS", "srv_step",
           "DnsReplay", "record", "record_dc"]

DATA = Path(__file__).with_name("data") / "samba-ad-hardening.json"

#: DS_* flags of a Netlogon answer (MS-ADTS 6.3.1.2, NETLOGON_SAM_LOGON_RESPONSE_EX).
NETLOGON_FLAGS = {
    0x1: "PDC", 0x4: "GC (Global Catalog)", 0x8: "LDAP", 0x10: "DS (a DC)",
    0x20: "KDC", 0x40: "TIMESERV", 0x80: "CLOSEST (same site)", 0x100: "WRITABLE",
    0x200: "GOOD_TIMESERV", 0x400: "NDNC", 0x800: "SELECT_SECRET_DOMAIN_6 (RODC)",
    0x1000: "FULL_SECRET_DOMAIN_6", 0x2000: "WS (web services)", 0x4000: "DS_8",
    0x8000: "DS_9", 0x10000: "DS_10",
}


def recording() -> dict[str, Any]:
    """The recorded exchanges shipped with ldapnb (see :func:`record` for how they were made).

    >>> r = recording()
    >>> r["how"].startswith("Recorded")
    True
    """
    data: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return data


# -- live where Samba can start, the recording otherwise ----------------------------------------
#: The environment variable that chooses: ``0`` the recording, ``1`` the live DC or an error,
#: unset: live where Samba can start.
LIVE_ENV = "LDAPNB_LIVE_SAMBA"
#: The programs the live path runs (Debian package in brackets).
LIVE_PROGRAMS = {"samba": "samba", "samba-tool": "samba", "unshare": "util-linux",
                 "kinit": "krb5-user", "ldapsearch": "ldap-utils", "dig": "bind9-dnsutils"}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True)
class LiveChoice:
    """What :func:`dc_answers` will show: ``live`` (a private Samba DC started now) or not,
    whether the live DC is ``required`` (``CI=true`` or ``LDAPNB_LIVE_SAMBA=1``: failing to
    start it is an error), and ``reason``: why it is the recording ("" when live)."""

    live: bool
    required: bool
    reason: str


def _which(name: str) -> str | None:
    from ..sources.samba import find_program

    return find_program(name)


def live_choice(environ: dict[str, str] | None = None) -> LiveChoice:
    """Decide live vs recording from the environment and this machine, without starting
    anything (:func:`dc_answers` may still fall back if the DC then fails to start).

    >>> live_choice({"LDAPNB_LIVE_SAMBA": "0"})
    LiveChoice(live=False, required=False, reason='LDAPNB_LIVE_SAMBA=0 asks for the recording')
    """
    env = dict(os.environ if environ is None else environ)
    wanted = env.get(LIVE_ENV, "").strip().lower()
    if wanted in _FALSE:
        return LiveChoice(False, False, f"{LIVE_ENV}={env[LIVE_ENV]} asks for the recording")
    if wanted and wanted not in _TRUE:
        raise ValueError(f"{LIVE_ENV}={env[LIVE_ENV]!r}: use 1 (the live Samba DC, or an "
                         "error) or 0 (the recording); unset: live where Samba can start")
    required = wanted in _TRUE or env.get("CI", "").strip().lower() in _TRUE
    missing = [f"{name} ({package})" for name, package in LIVE_PROGRAMS.items()
               if _which(name) is None]
    if "samba (samba)" in missing:
        from ..sources.samba import INSTALL_HINT

        return LiveChoice(False, required, f"Samba is not installed ({INSTALL_HINT})")
    if missing:
        return LiveChoice(False, required, "the live DC needs programs that are not "
                                           "installed: " + ", ".join(missing))
    if os.geteuid() != 0:
        return LiveChoice(False, required, "not root: cannot make the private mount namespace "
                                           "(unshare --mount) where Samba and its Kerberos "
                                           "clients find dc1.<realm> without touching /etc")
    return LiveChoice(True, required, "")


def _live(realm: str) -> dict[str, Any]:
    """Start a private Samba DC (empty domain ``realm``) from the template cache, record the
    lesson's exchanges from it, stop it; the recording's shape plus ``timings``."""
    from ..sources.samba import SambaDC, default_cache

    cache = default_cache()
    began, wall = time.perf_counter(), time.time()
    dc = SambaDC(None, realm=realm, cache=cache, timeout=30)   # a hung start: say so in 30 s
    cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    # several lessons may start at once: one provisions the template, the others wait for it
    with open(cache / ".adlab.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            folder = dc.cached_template()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    template = time.perf_counter() - began
    fresh = (folder / "template.json").stat().st_mtime >= wall - 1
    with dc:
        started = dc.started_in
        began = time.perf_counter()
        data = record_dc(dc, out=None)
        recorded = time.perf_counter() - began
    version = data["how"].split("(", 1)[1].split(",", 1)[0] if "(" in data["how"] else "Samba"
    data["timings"] = {"template": round(template, 2), "start": round(started, 2),
                       "record": round(recorded, 2), "provisioned": fresh}
    how = (f"a private Samba AD DC ({version}, realm {data['realm']}) started for this lesson "
           f"on {data['ip']} in {started:.1f} s")
    how += (f" (its template provisioned first, once, in {template:.1f} s; kept in {cache})"
            if fresh else f" from the template cached in {cache}")
    data["how"] = (f"Recorded just now from {how}; {recorded:.1f} s of exchanges with ldap3 and "
                   "OpenLDAP's tools, then the DC was stopped.")
    return data


def dc_answers(*, show: bool = True, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """What a domain controller answers to the AD lessons' exchanges: from a private Samba AD
    DC started now wherever Samba can start, from the shipped recording otherwise.

    The same keys as :func:`recording` (``how``, ``exchanges``, ``global_catalog``, ``dig``,
    ``dns``, ``cldap`` ...), plus ``live`` (True: recorded just now from a running DC),
    ``source`` (one line for the student: which one and why) and ``why`` (the reason for the
    recording, "" when live); a live run adds ``timings`` (seconds: template, start, record).

    Parameters
    ----------
    show
        Print ``source`` (the lessons do: the student must see which one they look at).
    environ
        The environment to decide from (default ``os.environ``; see :func:`live_choice`).

    Raises
    ------
    DirectoryUnavailable
        The live DC is required (``CI=true`` or ``LDAPNB_LIVE_SAMBA=1``) and cannot start.
    """
    shipped = recording()
    choice = live_choice(environ)
    why = choice.reason
    data: dict[str, Any] | None = None
    if choice.live:
        try:
            data = _live(shipped["realm"])
        except Exception as exc:  # noqa: BLE001 - said to the student, or raised when required
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            why = f"the private Samba DC did not start or answer ({type(exc).__name__}: " \
                  f"{first[:300]})"
            if choice.required:
                raise DirectoryUnavailable(f"the live Samba AD DC is required "
                                           f"({_required_by(environ)}) but {why}") from exc
    elif choice.required:
        raise DirectoryUnavailable(f"the live Samba AD DC is required ({_required_by(environ)}) "
                                   f"but it cannot run here: {why}")
    if data is not None:
        data.update(live=True, why="", source="LIVE: " + data["how"])
    else:
        data = dict(shipped)
        hint = (f" (unset {LIVE_ENV} to start a private Samba DC where it can run)"
                if why.startswith(LIVE_ENV) else "")
        data.update(live=False, why=why, source=f"RECORDING, because {why}. {shipped['how']}"
                                                f"{hint}")
    if show:
        print(data["source"])
    return data


def _required_by(environ: dict[str, str] | None) -> str:
    env = os.environ if environ is None else environ
    return f"{LIVE_ENV}={env[LIVE_ENV]}" if env.get(LIVE_ENV) else f"CI={env.get('CI', '')}"


# -- what Microsoft documents (not runnable on Samba) ------------------------------------------
#: (setting, where, values, what it does); sources: ADV190023, KB 4520412 and KB 935834.
HARDENING = [
    ("Domain controller: LDAP server signing requirements", "GPO (DC) / registry "
     "NTDS\\Parameters LDAPServerIntegrity", "None (1) / Require signing (2)",
     "2: a simple bind on plain 389 and a SASL bind without signing are refused with "
     "strongerAuthRequired (8)"),
    ("Domain controller: LDAP server channel binding token requirements", "GPO (DC) / registry "
     "NTDS\\Parameters LdapEnforceChannelBinding", "Never (0) / When supported (1) / "
     "Always (2)", "an LDAPS (or StartTLS) bind must carry a token tied to THIS TLS channel "
     "(RFC 5929 tls-server-endpoint); refused: invalidCredentials (49), data 80090346"),
    ("Network security: LDAP client signing requirements", "GPO (clients)", "None / Negotiate "
     "signing / Require signing", "default Negotiate: Windows' LDAP client asks for signing "
     "whenever TLS is not used"),
    ("Samba: ldap server require strong auth", "smb.conf", "no / allow_sasl_over_tls / yes "
     "(default)", "yes: simple binds need TLS, SASL needs signing/sealing; "
     "allow_sasl_over_tls: SASL over TLS without its own signing is accepted too"),
]

#: Directory Service event log, source ActiveDirectory_DomainService (KB 935834, KB 4520412).
EVENTS = [
    (2886, "at start-up / daily", "the DC does not require LDAP signing (a warning while it "
     "accepts unsigned binds)"),
    (2887, "every 24 h", "how many unsigned SASL binds and cleartext simple binds it accepted"),
    (2888, "every 24 h, when signing is required", "how many such binds it refused"),
    (2889, "per bind, with '16 LDAP Interface Events' = 2", "the client's IP address and the "
     "identity it bound as, for each unsigned or cleartext bind: the list of clients to fix"),
    (3039, "per bind, with logging raised", "a client bound over TLS without a valid channel "
     "binding token"),
    (3040, "every 24 h", "how many binds without channel binding tokens it accepted"),
    (3041, "at start-up / daily", "the DC does not enforce channel binding tokens"),
]


def hardening_frame() -> Any:
    """The settings that harden LDAP on a domain controller (documented, not run here).

    >>> "LdapEnforceChannelBinding" in hardening_frame().to_string()
    True
    """
    import pandas as pd

    return pd.DataFrame(HARDENING, columns=["setting", "where", "values", "effect"])


def events_frame() -> Any:
    """The Directory Service events that tell who binds unsafely (documented, not run here).

    >>> sorted(events_frame().event)[:3]
    [2886, 2887, 2888]
    """
    import pandas as pd

    return pd.DataFrame(EVENTS, columns=["event", "when", "says"])


#: (service, LDAP offered, how secure LDAP is set up, what you cannot do)
MANAGED_LDAP = [
    ("Microsoft Entra Domain Services", "LDAP 389 inside the virtual network; secure LDAP 636 "
     "when enabled", "upload a PFX certificate (private key) naming the managed domain "
     "(e.g. *.aaddscontoso.com), enable secure LDAP; for internet access an NSG rule allowing "
     "TCP 636 from chosen source addresses only; binds use user accounts (synced users need "
     "password hash sync), not client certificates", "no Domain/Enterprise Admins, no schema "
     "changes of your own, no control of replication, DC ACLs or DC settings"),
    ("AWS Managed Microsoft AD", "LDAP / LDAPS to AWS-run DCs", "server-side LDAPS with a "
     "certificate from an enterprise CA in the domain", "no Domain Admins; delegated OU only"),
    ("Google Cloud Managed Service for Microsoft AD", "LDAP / LDAPS to Google-run DCs",
     "LDAPS with a certificate you provide", "delegated administration only"),
    ("Google Workspace Secure LDAP", "LDAPS 636 only", "each LDAP client has a certificate "
     "issued by Google (client-certificate TLS) plus optional access credentials",
     "read-only view of the Workspace directory; no writes, no schema"),
]


def managed_ldap_frame() -> Any:
    """Managed LDAP services and what each leaves to you (check each provider's current docs).

    >>> len(managed_ldap_frame()) >= 3
    True
    """
    import pandas as pd

    return pd.DataFrame(MANAGED_LDAP, columns=["service", "LDAP", "secure LDAP set-up",
                                               "what you cannot control"])


AUDITOR = [
    ("who can read the directory", "ACLs on your DCs", "on-premises ACLs, plus the Entra "
     "Connect account (it reads every synced object) and cloud roles (Entra ID roles)"),
    ("where passwords live", "NT hashes in AD (unicodePwd)", "also a hash of the hash in Entra "
     "ID with password hash sync; the Entra Connect account has replication rights "
     "(DS-Replication-Get-Changes-All): treat its server as tier 0"),
    ("which network paths matter", "clients to DCs (389/636/88...)", "plus the Entra Connect "
     "server to DCs (389 sign/seal, 88, 135 + RPC) and to Entra ID (443 outbound)"),
    ("what is logged", "DC event logs (2887/2889...)", "plus Entra sign-in and audit logs, "
     "Entra Connect sync logs; managed domains: only what the provider exposes"),
    ("what you can fix yourself", "everything on your DCs", "managed services: only what "
     "their portal allows (no DC-level ACLs or replication settings)"),
]


def auditor_frame() -> Any:
    """What changes for an auditor when a directory goes hybrid or managed.

    >>> list(auditor_frame().columns)
    ['question', 'on premises only', 'hybrid / managed']
    """
    import pandas as pd

    return pd.DataFrame(AUDITOR, columns=["question", "on premises only", "hybrid / managed"])


# -- CLDAP ------------------------------------------------------------------------------------
def cldap_request(domain: str, message_id: int = 1) -> bytes:
    """The BER of a DC locator "LDAP ping": a base search of the rootDSE for ``Netlogon`` with
    the filter ``(&(DnsDomain=<domain>)(NtVer=\\06\\00\\00\\00))``, encoded by ldap3.

    >>> cldap_request("contoso.test")[:1].hex()   # an LDAPMessage: a SEQUENCE
    '30'
    """
    from ..sources._ldap3 import search_request_bytes

    return search_request_bytes("", f"(&(DnsDomain={domain})(NtVer=\\06\\00\\00\\00))",
                                ["Netlogon"], message_id=message_id)


def cldap_ping(host: str, domain: str, *, port: int = 389, timeout: float = 2.0) -> bytes:
    """Send :func:`cldap_request` over **UDP** to ``host:port`` and return the answer's bytes.

    Raises
    ------
    DirectoryUnavailable
        No answer within ``timeout`` (UDP 389 blocked, or no DC there).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(cldap_request(domain), (host, port))
        try:
            data, _ = s.recvfrom(65535)
        except TimeoutError as exc:
            raise DirectoryUnavailable(
                f"no CLDAP answer from {host} UDP {port} within {timeout:g} s: UDP 389 may be "
                "blocked by a firewall (the DC locator needs it)", host=host, port=port) from exc
    return data


def _netlogon_value(answer: bytes) -> bytes:
    from .wire import SERVER_TO_CLIENT, decode_stream

    for message in decode_stream(answer, direction=SERVER_TO_CLIENT):
        for f in message.fields:
            if f.path.endswith("vals[0]") or f.path.endswith("vals.0") or "vals" in f.path:
                if f.tag == "04" and len(bytes.fromhex(f.raw.replace(" ", ""))) > 24:
                    raw = bytes.fromhex(f.raw.replace(" ", ""))
                    return _strip_tl(raw)
    raise ValueError("no Netlogon value in this answer")


def _strip_tl(raw: bytes) -> bytes:
    """An OCTET STRING TLV -> its value."""
    length = raw[1]
    if length < 0x80:
        return raw[2:2 + length]
    n = length & 0x7F
    size = int.from_bytes(raw[2:2 + n], "big")
    return raw[2 + n:2 + n + size]


def _dns_name(data: bytes, position: int) -> tuple[str, int]:
    """A DNS name with compression (offsets from the start of ``data``); (name, next)."""
    labels: list[str] = []
    end = -1
    seen = 0
    while True:
        length = data[position]
        if length == 0:
            position += 1
            break
        if length & 0xC0 == 0xC0:
            if end < 0:
                end = position + 2
            position = ((length & 0x3F) << 8) | data[position + 1]
            seen += 1
            if seen > 32:
                raise ValueError("DNS name pointer loop")
            continue
        labels.append(data[position + 1:position + 1 + length].decode("utf-8", "replace"))
        position += 1 + length
    return ".".join(labels), (end if end >= 0 else position)


def decode_netlogon(answer: bytes) -> dict[str, Any]:
    """The Netlogon answer of a CLDAP ping (NETLOGON_SAM_LOGON_RESPONSE_EX, MS-ADTS 6.3.1.9),
    from the answer datagram's bytes or from the Netlogon value itself.

    Returns the opcode, the DS_* flags (as names), the domain GUID and the names: forest,
    domain, DC host, NetBIOS domain and DC names, the DC's site and the client's site.
    """
    value = answer if answer[:1] != b"\x30" else _netlogon_value(answer)
    opcode, _sbz, flags = struct.unpack_from("<HHI", value, 0)
    guid = uuid.UUID(bytes_le=value[8:24])
    names = []
    position = 24
    for _ in range(8):
        name, position = _dns_name(value, position)
        names.append(name)
    keys = ["forest", "domain", "dc host", "netbios domain", "netbios dc", "user", "dc site",
            "client site"]
    return {"opcode": opcode, "flags": f"0x{flags:08x}",
            "flag names": [n for bit, n in NETLOGON_FLAGS.items() if flags & bit],
            "domain guid": str(guid), **dict(zip(keys, names, strict=True))}


# -- DNS SRV: the DC locator ------------------------------------------------------------------
def srv_step(domain: str, nameserver: str, *, port: int = 53, timeout: float = 2.0,
             record: str = "_ldap._tcp.dc._msdcs") -> Any:
    """A doctor step: ask ``nameserver`` (never the machine's resolver) for the SRV records a
    client uses to find the domain's controllers.

    Parameters
    ----------
    domain
        The AD DNS domain (``contoso.test``).
    nameserver, port
        The DNS server to ask (an AD DC's DNS, or the one your clients use).
    record
        The SRV owner name before the domain (default: the DC locator's
        ``_ldap._tcp.dc._msdcs``; ``_gc._tcp`` for Global Catalogs, ``_kerberos._tcp``).

    Returns
    -------
    ldapnb.diagnose.Step
        ``pass`` with the targets (priority weight port host), or ``fail`` with a hint.
    """
    import dns.exception
    import dns.message
    import dns.query
    import dns.rcode
    import dns.rdatatype

    from ..diagnose import Step

    name = f"{record}.{domain}".rstrip(".") + "."
    began = time.perf_counter()
    query = dns.message.make_query(name, dns.rdatatype.SRV)
    step_name = "DNS SRV (DC locator)"
    try:
        answer = dns.query.udp(query, nameserver, port=port, timeout=timeout)
    except dns.exception.Timeout:
        return Step(step_name, "fail", f"no answer from {nameserver}:{port} for {name}",
                    "the DNS server did not answer: is UDP/TCP 53 open between the client and "
                    "it, and is it the right server?", round(time.perf_counter() - began, 3))
    except OSError as exc:
        return Step(step_name, "fail", f"{nameserver}:{port}: {exc.strerror or exc}",
                    "nothing answers DNS there (ICMP port unreachable): wrong server or port",
                    round(time.perf_counter() - began, 3))
    seconds = round(time.perf_counter() - began, 3)
    code = dns.rcode.to_text(answer.rcode())
    targets = [f"{r.priority} {r.weight} {r.port} {r.target}" for rrset in answer.answer
               if rrset.rdtype == dns.rdatatype.SRV for r in rrset]
    if code == "NXDOMAIN":
        return Step(step_name, "fail", f"{name}: NXDOMAIN (no such name) from {nameserver}",
                    "this DNS server does not hold the AD zone's _msdcs records: point the "
                    "client at the domain's DNS servers (or a forwarder to them), or check "
                    "that the DC registered its records (netlogon / samba_dnsupdate)", seconds)
    if code != "NOERROR" or not targets:
        return Step(step_name, "fail", f"{name}: {code}, {len(targets)} SRV records",
                    "the name exists but holds no SRV records: the DC did not register them",
                    seconds)
    return Step(step_name, "pass", f"{name}: " + "; ".join(targets), "", seconds)


class DnsReplay:
    """A DNS server on 127.0.0.1 (UDP, a free port) that answers every query with a recorded
    answer (its transaction ID set to the query's), to run :func:`srv_step` on a recording.

    Parameters
    ----------
    answers
        Query name (lower case, with the final dot) -> the recorded answer's bytes.  A name
        not recorded gets NXDOMAIN.
    """

    def __init__(self, answers: dict[str, bytes]) -> None:
        self.answers = {k.lower(): v for k, v in answers.items()}
        self.host = "127.0.0.1"
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind((self.host, 0))
        self.port: int = self._socket.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        import dns.message
        import dns.rcode

        while True:
            try:
                data, peer = self._socket.recvfrom(4096)
            except OSError:
                return
            try:
                query = dns.message.from_wire(data)
            except Exception:  # noqa: BLE001,S112 - not DNS: ignore it as a server would
                continue
            name = str(query.question[0].name).lower() if query.question else ""
            recorded = self.answers.get(name)
            if recorded is not None:
                reply = data[:2] + recorded[2:]
            else:
                response = dns.message.make_response(query)
                response.set_rcode(dns.rcode.NXDOMAIN)
                reply = response.to_wire()
            self._socket.sendto(reply, peer)

    def close(self) -> None:
        self._socket.close()

    def __enter__(self) -> DnsReplay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- making the recording ---------------------------------------------------------------------
def _ns(folder: Path, command: list[str], env: dict[str, str], input: str | None = None
        ) -> subprocess.CompletedProcess[str]:
    """Run ``command`` where dc1.<realm> resolves to the DC (private /etc/hosts, as the
    samba-ad-dc.sh recipe does): Kerberos needs the host name."""
    script = ('mount --bind "$0/ns/hosts" /etc/hosts && mount --bind "$0/ns/resolv.conf" '
              '/etc/resolv.conf && exec "$@"')
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                           script, str(folder), *command], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60, input=input)


def _attribute_names(ldif: str) -> list[str]:
    names = []
    for line in ldif.splitlines():
        m = re.match(r"^([A-Za-z0-9-]+)::? ", line)
        if m and m.group(1).lower() != "dn" and m.group(1) not in names:
            names.append(m.group(1))
    return names


def record_dc(dc: Any, *, out: Path | None = None) -> dict[str, Any]:
    """Record the lesson's exchanges from a running :class:`ldapnb.sources.samba.SambaDC`
    (its folder, address, realm and Administrator's password); see :func:`record`."""
    return record(dc.folder, dc.ip, password=dc.admin_password, realm=dc.realm, out=out,
                  by="ldapnb's SambaDC (an empty domain), by "
                     "`python -m ldapnb.teach.adlab record-dc`")


def record(folder: str | os.PathLike[str], ip: str, *, password: str = "Passw0rd!Samba2024",
           realm: str = "CONTOSO.TEST", out: Path | None = DATA,
           by: str = "the project's samba-ad-dc.sh recipe, by "
                     "`python -m ldapnb.teach.adlab record DIR IP`") -> dict[str, Any]:
    """Record the lesson's exchanges from a running private Samba AD DC (root: Kerberos
    clients run in a private mount namespace).

    ``folder`` is laid out as the ``samba-ad-dc.sh`` recipe and :class:`SambaDC` lay it out
    (``etc/smb.conf``, ``tls/ca.pem``, ``krb5.conf``, ``ns/hosts``); the DC is ``dc1.<realm>``
    at ``ip``.  Writes ``out`` (unless None) and returns the recording; ``by`` says how the
    DC was started (in ``how``).  The DC must be a private one: the AD rules part adds a user
    ``jsmith`` (and tries ``JSmith``), then deletes it.
    """
    import ssl

    import dns.message
    import dns.query
    import dns.rdatatype
    import ldap3

    from ..sources._ldap3 import context_tls

    folder = Path(folder)
    realm = realm.upper()
    domain = realm.lower()
    base = ",".join(f"DC={label}" for label in domain.split("."))
    host = f"dc1.{domain}"
    ca = str(folder / "tls" / "ca.pem")
    env = {"KRB5_CONFIG": str(folder / "krb5.conf"), "KRB5CCNAME": f"FILE:{folder}/krb5cc",
           "LDAPTLS_CACERT": ca}
    admin = f"Administrator@{domain}"
    exchanges: list[dict[str, Any]] = []

    def simple(title: str, port: int, use_ssl: bool, start_tls: bool) -> None:
        context = ssl.create_default_context(cafile=ca)   # chain and name (the IP) verified
        tls = context_tls(context, ip)
        server = ldap3.Server(ip, port=port, use_ssl=use_ssl, tls=tls, get_info=ldap3.NONE)
        conn = ldap3.Connection(server, user=admin, password=password)
        conn.open()
        if start_tls:
            conn.start_tls()
        conn.bind()
        result = dict(conn.result)
        exchanges.append({"title": title, "client": "ldap3 2.9.1", "port": port,
                          "command": f"Connection(Server('{ip}', port={port}, use_ssl={use_ssl}"
                                     f"), user='{admin}', password=...)"
                                     + (".start_tls()" if start_tls else "") + ".bind()",
                          "result": result.get("result"), "description": result.get(
                              "description"), "message": result.get("message"),
                          "output": ""})
        conn.unbind()

    simple("simple bind on plain 389", 389, False, False)
    simple("simple bind after StartTLS on 389", 389, False, True)
    simple("simple bind on LDAPS 636", 636, True, False)

    # the password on standard input: a command line is visible to every user in ps
    kinit = _ns(folder, ["kinit", f"Administrator@{realm}"], env, input=password + "\n")
    if kinit.returncode != 0:
        raise DirectoryUnavailable(f"kinit failed: {kinit.stderr.strip()}")
    search = ["-H", f"ldap://{host}", "-b", base, "-LLL", "(sAMAccountName=Administrator)",
              "dn"]
    for title, options in [
            ("GSSAPI (Kerberos) on 389, signed and sealed", ["-Y", "GSSAPI"]),
            ("GSS-SPNEGO (what Windows uses) on 389, signed and sealed", ["-Y", "GSS-SPNEGO"]),
            ("GSSAPI on 389 without signing or sealing (maxssf=0)",
             ["-Y", "GSSAPI", "-O", "maxssf=0"]),
            ("GSSAPI without signing or sealing, inside StartTLS",
             ["-ZZ", "-Y", "GSSAPI", "-O", "maxssf=0"])]:
        done = _ns(folder, ["ldapsearch", *options, *search], env)
        exchanges.append({"title": title, "client": "ldapsearch (OpenLDAP 2.5, Cyrus SASL)",
                          "port": 389, "command": "ldapsearch " + " ".join(
                              o if " " not in o and "(" not in o else repr(o)
                              for o in [*options, *search]),
                          "result": done.returncode, "description": "", "message": "",
                          "output": re.sub(r"\n# refldap://[^\n]*\n", "\n",
                                           done.stdout + done.stderr).strip()})

    gc: dict[str, Any] = {}
    for port, gc_base in ((389, base), (3268, "")):
        done = _ns(folder, ["ldapsearch", "-Y", "GSSAPI", "-Q", "-H", f"ldap://{host}:{port}",
                            "-b", gc_base, "-LLL", "(sAMAccountName=Administrator)", "*"], env)
        count = _ns(folder, ["ldapsearch", "-Y", "GSSAPI", "-Q", "-H",
                             f"ldap://{host}:{port}", "-b", gc_base, "-LLL",
                             "(objectClass=user)", "1.1"], env)
        gc[str(port)] = {"command": f"ldapsearch -Y GSSAPI -H ldap://{host}:{port} -b "
                                    f"'{gc_base}' '(sAMAccountName=Administrator)' '*'",
                         "attributes": _attribute_names(done.stdout),
                         "users": count.stdout.count("\ndn: ") + count.stdout.startswith(
                             "dn: "),
                         "returncode": done.returncode}

    pas = _ns(folder, ["ldapsearch", "-Y", "GSSAPI", "-Q", "-H", f"ldap://{host}", "-b",
                       f"CN=Schema,CN=Configuration,{base}", "-LLL",
                       "(&(objectClass=attributeSchema)(isMemberOfPartialAttributeSet=TRUE))",
                       "lDAPDisplayName"], env)
    gc["partial attribute set"] = sorted(
        m.group(1) for m in re.finditer(r"^lDAPDisplayName: (\S+)", pas.stdout, re.M))

    dns_answers: dict[str, str] = {}
    dig: list[dict[str, str]] = []
    for owner in ("_ldap._tcp.dc._msdcs", "_gc._tcp", "_kerberos._tcp"):
        name = f"{owner}.{domain}."
        answer = dns.query.udp(dns.message.make_query(name, dns.rdatatype.SRV), ip, timeout=2)
        dns_answers[name] = answer.to_wire().hex()
        done = subprocess.run(["dig", f"@{ip}", name, "SRV", "+noall", "+answer"],
                              capture_output=True, text=True, timeout=10)
        dig.append({"command": f"dig @{ip} {name} SRV +noall +answer",
                    "output": done.stdout.strip()})

    cldap = cldap_ping(ip, domain)
    rules = _record_ad_rules(ip, ca, admin, password, base)
    version = subprocess.run([_which("samba") or "samba", "--version"], capture_output=True,
                             text=True).stdout
    strong = ""
    for line in (folder / "etc" / "smb.conf").read_text().splitlines():
        if "strong auth" in line:
            strong = line.strip()
    data = {
        "how": (f"Recorded {time.strftime('%Y-%m-%d')} from a private Samba AD DC "
                f"({version.strip()}, realm {realm}) on {ip}, started with {by}."),
        "setting": strong, "ip": ip, "realm": realm, "domain": domain,
        "exchanges": exchanges, "global_catalog": gc, "dig": dig, "dns": dns_answers,
        "cldap": {"request": cldap_request(domain).hex(), "answer": cldap.hex()},
        "ad_rules": rules,
    }
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return data


def _record_ad_rules(ip: str, ca: str, admin: str, password: str, base: str
                     ) -> dict[str, Any]:
    """What a DC enforces that a loader of LDIF does not (lesson 10), over verified LDAPS as
    Administrator: a second account whose sAMAccountName differs only in case is refused; the
    in-chain rule does not see primary-group membership (primaryGroupID 513)."""
    import ssl

    import ldap3

    from ..sources._ldap3 import context_tls

    tls = context_tls(ssl.create_default_context(cafile=ca), ip)
    server = ldap3.Server(ip, port=636, use_ssl=True, tls=tls, get_info=ldap3.NONE)
    conn = ldap3.Connection(server, user=admin, password=password, auto_bind=True)
    classes = ["top", "person", "organizationalPerson", "user"]
    adds = []
    try:
        for cn, sam in (("jsmith", "jsmith"), ("JSmith 2", "JSmith")):
            dn = f"CN={cn},CN=Users,{base}"
            conn.add(dn, classes, {"sAMAccountName": sam})
            adds.append({"command": f"add {dn!r} sAMAccountName={sam!r}",
                         "result": conn.result.get("result"),
                         "description": conn.result.get("description"),
                         "message": conn.result.get("message")})

        def count(query: str) -> int:
            conn.search(base, query, attributes=["sAMAccountName"])
            return sum(1 for r in conn.response or [] if r.get("type") == "searchResEntry")

        users = f"CN=Domain Users,CN=Users,{base}"
        in_chain = f"(memberOf:{oids.IN_CHAIN}:={users})"
        primary = "(&(objectClass=user)(primaryGroupID=513))"
        group = {"group": users, "in_chain_filter": in_chain, "in_chain": count(in_chain),
                 "primary_group_filter": primary, "primary_group": count(primary)}
    finally:
        conn.delete(f"CN=jsmith,CN=Users,{base}")   # leave the DC as it was found
        conn.unbind()
    return {"duplicate_sam": adds, "primary_group": group}


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 4 and sys.argv[1] == "record":
        print(json.dumps(record(sys.argv[2], sys.argv[3]), indent=1)[:3000])
    elif sys.argv[1:] == ["record-dc"]:
        from ..sources.samba import SambaDC

        with SambaDC(None, realm=recording()["realm"], cache="") as dc:   # a fresh domain
            print(json.dumps(record_dc(dc, out=DATA), indent=1)[:3000])
    else:
        print("usage: python -m ldapnb.teach.adlab record SAMBA_DIR IP | record-dc",
              file=sys.stderr)
        raise SystemExit(2)
