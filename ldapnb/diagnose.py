"""The connectivity doctor: why can't I reach this directory?

:func:`diagnose` walks the way from a URL to a bound LDAP connection one step at a time and
reports each as ``pass``, ``fail``, ``warn`` or ``skip`` with what it saw and, when something
is wrong, a hint a student can act on::

    report = diagnose("ldaps://dc1.example.org")
    report               # a coloured table in a notebook; print(report) in a terminal
    report.frame         # the same as a DataFrame: step, status, detail, hint, seconds
    report.ok            # True when no step failed

The steps, in order:

=====================  ========================================================================
URL                    scheme (``ldap``/``ldaps``), host, port (389 / 636 by default)
DNS                    the host name resolves (skipped in effect for an IP address)
TCP connect            the port accepts a connection, and how long that took
rootDSE (anonymous)    ``ldap://``: the server answers an anonymous read of the rootDSE
                       (naming contexts, vendor); on ``ldaps://`` this comes after TLS
StartTLS offered       ``ldap://``: the rootDSE lists extension 1.3.6.1.4.1.1466.20037
TLS handshake          protocol and cipher (over ``ldaps://`` or after StartTLS)
certificate            subject, subjectAltNames, issuer, expiry
chain trusted          the certificate chains to ``ca_file`` (or the system's CA store)
name match             the host in the URL is one of the certificate's names
bind                   ``user``/``password`` accepted (only over verified TLS)
Global Catalog         Active Directory only: ports 3268 (GC) and 3269 (GC over TLS) answer
simple bind in clear   Active Directory (any server with ``posture=True``), ``ldap://`` only:
                       does the server refuse a simple bind without TLS
                       (``strongerAuthRequired``, LDAP signing / strong auth required; slapd's
                       ``confidentialityRequired``)?  Probed with a made-up account and a
                       random password, so no secret crosses the network
anonymous read         ``posture=True`` only: what an anonymous client reads beyond the rootDSE
                       (a few entries of each naming context, or a refusal)
=====================  ========================================================================

Besides the steps, :attr:`Report.facts` holds what was seen as data (the certificate's names,
EKU, expiry and fingerprint, whether its chain was trusted, the rootDSE's naming contexts and
``dnsHostName``, the clear-bind probe's result code, the anonymous read's entries): the audit's
posture rules (:func:`ldapnb.audit.posture`) read them, so the probes exist once.

StartTLS is *tried* when the rootDSE does not list it: Samba's AD DC lists no extensions at all
and accepts StartTLS anyway.

The TLS facts are gathered with the standard library's :mod:`ssl` (a handshake that does not
verify, to see the certificate whatever it is, then one that verifies the chain and one that
checks the name), so each fact is reported on its own; certificates are read with
``cryptography``.  LDAP operations use ldap3.  A step after a fatal failure is ``skip`` with
the reason.  ldapnb never sends a password over a connection it could not verify: the bind
step is skipped then, and says why.
"""

from __future__ import annotations

import ipaddress
import math
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import oids

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["diagnose", "Report", "Step", "STEPS", "STATUSES"]

#: Every step's name, in the order they run for ``ldaps://`` (``ldap://`` reads the rootDSE
#: and checks StartTLS before TLS).
STEPS = ("URL", "DNS", "TCP connect", "rootDSE (anonymous)", "StartTLS offered",
         "TLS handshake", "certificate", "chain trusted", "name match", "bind",
         "Global Catalog", "simple bind in clear", "anonymous read")
STATUSES = ("pass", "fail", "warn", "skip")

STARTTLS_OID = oids.STARTTLS
_LDAPS_PLAN = ("URL", "DNS", "TCP connect", "TLS handshake", "certificate", "chain trusted",
               "name match", "rootDSE (anonymous)", "bind")
_LDAP_PLAN = ("URL", "DNS", "TCP connect", "rootDSE (anonymous)", "StartTLS offered",
              "TLS handshake", "certificate", "chain trusted", "name match", "bind")
_UNKNOWN_CA = {2, 18, 19, 20, 21}  # OpenSSL verify codes: issuer unknown / self-signed
_OLD_TLS = {"UNSUPPORTED_PROTOCOL", "TLSV1_ALERT_PROTOCOL_VERSION", "NO_PROTOCOLS_AVAILABLE"}
_COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "warn": "#9a6700", "skip": "#6e7781"}


@dataclass
class Step:
    """One step of a diagnosis."""

    step: str
    status: str
    detail: str
    hint: str = ""
    seconds: float | None = None


class Report:
    """The result of :func:`diagnose`: one row per step.

    ``frame`` is a DataFrame (step, status, detail, hint, seconds); ``ok`` is True when no step
    failed; ``failed`` names the failed steps; ``report["TCP connect"]`` is that step.  In a
    notebook it shows as a coloured table; ``str(report)`` is a plain-text table.
    """

    def __init__(self, url: str, steps: list[Step], facts: dict[str, Any] | None = None):
        self.url = url
        self.steps = steps
        #: what the probes saw, as data (see the module docstring)
        self.facts: dict[str, Any] = facts if facts is not None else {}

    @property
    def frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            [(s.step, s.status, s.detail, s.hint, s.seconds) for s in self.steps],
            columns=["step", "status", "detail", "hint", "seconds"])

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def failed(self) -> list[str]:
        return [s.step for s in self.steps if s.status == "fail"]

    def __getitem__(self, step: str) -> Step:
        for s in self.steps:
            if s.step == step:
                return s
        raise KeyError(f"no step {step!r} in this report; steps: "
                       f"{', '.join(s.step for s in self.steps)}")

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        verdict = "all passed" if self.ok else "failed: " + ", ".join(self.failed)
        return f"<Report {self.url}: {len(self.steps)} steps, {verdict}>"

    def __str__(self) -> str:
        width = max((len(s.step) for s in self.steps), default=4)
        lines = [f"ldapnb diagnose {self.url}"]
        for s in self.steps:
            took = f" ({s.seconds * 1000:.1f} ms)" if s.seconds is not None else ""
            lines.append(f"  {s.status.upper():4}  {s.step:<{width}}  {s.detail}{took}")
            if s.hint:
                lines.append(f"  {'':4}  {'':<{width}}  hint: {s.hint}")
        lines.append("all steps passed" if self.ok else
                     f"failed: {', '.join(self.failed)}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = []
        for s in self.steps:
            colour = _COLOURS.get(s.status, "#000")
            took = "" if s.seconds is None else f"{s.seconds * 1000:.1f} ms"
            hint = (f"<div style='color:{_COLOURS['fail'] if s.status == 'fail' else '#555'}'>"
                    f"&#8594; {escape(s.hint)}</div>") if s.hint else ""
            rows.append(
                "<tr>"
                f"<td style='text-align:left'><span style='background:{colour};color:white;"
                f"padding:1px 6px;border-radius:3px;font-weight:bold'>{s.status.upper()}"
                "</span></td>"
                f"<td style='text-align:left'><b>{escape(s.step)}</b></td>"
                f"<td style='text-align:left'>{escape(s.detail)}{hint}</td>"
                f"<td style='text-align:right;color:#555'>{took}</td></tr>")
        verdict = ("<span style='color:#1a7f37'>all steps passed</span>" if self.ok else
                   f"<span style='color:#cf222e'>failed: {escape(', '.join(self.failed))}"
                   "</span>")
        return (f"<div><b>ldapnb diagnose</b> <code>{escape(self.url)}</code> &mdash; "
                f"{verdict}<table><thead><tr><th>status</th><th>step</th><th>detail</th>"
                f"<th>time</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def diagnose(
    url: str,
    *,
    user: str | None = None,
    password: str | None = None,
    ca_file: str | None = None,
    timeout: float = 5,
    posture: bool = False,
) -> Report:
    """Check, step by step, that ``url`` can be reached, secured, read and bound to.

    Parameters
    ----------
    url : str
        ``ldap://host[:port]`` or ``ldaps://host[:port]``.
    user, password : str, optional
        Credentials for the bind step (a DN, or ``user@domain`` / ``DOMAIN\\user`` for AD).
        Without them the bind step is skipped.
    ca_file : str, optional
        The PEM file of the CA that signed the server's certificate; by default the system's
        CA store.
    timeout : float
        Seconds allowed for each network step.
    posture : bool
        Also probe what an auditor asks (:func:`ldapnb.audit.posture`): the simple bind in
        clear on any server (not only Active Directory) and an anonymous read of the naming
        contexts.

    Returns
    -------
    Report
        One :class:`Step` per step; never raises for a network problem (that is a failed
        step with a hint).

    Examples
    --------
    >>> report = diagnose("gopher://example.org")
    >>> report["URL"].status, report.ok
    ('fail', False)
    >>> report["DNS"].status
    'skip'
    """
    return _Doctor(url, user, password, ca_file, timeout, posture).run()


# ------------------------------------------------------------------------------------------


class _Fatal(Exception):
    """A step failed in a way that makes the following steps pointless."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class _Doctor:
    def __init__(self, url: str, user: str | None, password: str | None, ca_file: str | None,
                 timeout: float, posture: bool = False):
        self.url = url
        self.user = user
        self.password = password
        self.ca_file = ca_file
        self.timeout = timeout
        self.steps: list[Step] = []
        self.scheme = "ldaps" if url.lower().startswith("ldaps:") else "ldap"
        self.host = ""
        self.port = 0
        self.root_dse: dict[str, list[str]] | None = None
        self.tls_verified = False  # chain trusted and name matched
        self.tls_working = False  # a handshake completed (verified or not)
        self.posture = posture
        self.facts: dict[str, Any] = {}

    # -- the walk ----------------------------------------------------------------------------
    def run(self) -> Report:
        plan = _LDAPS_PLAN if self.scheme == "ldaps" else _LDAP_PLAN
        try:
            self._url()
            self._dns()
            self._tcp()
            if self.scheme == "ldaps":
                self._tls()
                self._root_dse()
            else:
                self._root_dse()
                if self._starttls_offered():
                    self._tls()
            self._bind()
            if self._is_active_directory():
                self._global_catalog()
            if self.scheme == "ldap" and (self.posture or self._is_active_directory()):
                self._clear_bind_probe()
            if self.posture:
                self._anonymous_read()
        except _Fatal as stop:
            done = {s.step for s in self.steps}
            self.steps += [Step(name, "skip", f"skipped: {stop.reason}")
                           for name in plan if name not in done]
        self._gather_facts()
        return Report(self.url, self.steps, self.facts)

    def _gather_facts(self) -> None:
        statuses = {s.step: s for s in self.steps}
        self.facts.update({"url": self.url, "scheme": self.scheme, "host": self.host,
                           "port": self.port,
                           "active_directory": self._is_active_directory()})
        for step, key in (("chain trusted", "chain_trusted"), ("name match", "name_match"),
                          ("StartTLS offered", "starttls")):
            s = statuses.get(step)
            if s is not None and s.status != "skip":
                self.facts[key] = {"ok": s.status in ("pass", "warn"), "detail": s.detail}
        if self.root_dse is not None:
            self.facts["root_dse"] = {
                "naming_contexts": self.root_dse.get("namingcontexts", []),
                "dns_host_name": (self.root_dse.get("dnshostname") or [""])[0]}

    def _add(self, step: str, status: str, detail: str, hint: str = "",
             seconds: float | None = None) -> Step:
        s = Step(step, status, detail, hint, None if seconds is None else round(seconds, 6))
        self.steps.append(s)
        return s

    def _skip(self, step: str, reason: str) -> None:
        self._add(step, "skip", f"skipped: {reason}")

    # -- URL, DNS, TCP -------------------------------------------------------------------------
    def _url(self) -> None:
        try:
            parts = urlsplit(self.url.strip())
            port = parts.port
        except ValueError as exc:
            self._add("URL", "fail", f"cannot read {self.url!r}: {exc}",
                      "write it as ldap://host:389 or ldaps://host:636")
            raise _Fatal("the URL cannot be read") from exc
        scheme = parts.scheme.lower()
        if scheme not in ("ldap", "ldaps") or not parts.hostname:
            self._add("URL", "fail", f"{self.url!r} is not an ldap:// or ldaps:// URL with a host",
                      "write it as ldap://host (port 389, StartTLS) or ldaps://host (port 636)")
            raise _Fatal("the URL cannot be used")
        self.scheme = scheme
        self.host = parts.hostname
        self.port = port or (636 if scheme == "ldaps" else 389)
        how = "LDAP over TLS" if scheme == "ldaps" else "plain LDAP (StartTLS is checked below)"
        self._add("URL", "pass", f"{scheme}://, host {self.host}, port {self.port}: {how}")

    def _dns(self) -> None:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            pass
        else:
            self._add("DNS", "pass", f"{self.host} is an IP address: no lookup needed")
            return
        began = time.perf_counter()
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            self._add("DNS", "fail", f"the name {self.host!r} does not resolve ({exc})",
                      "check the spelling; is the name in your DNS (or /etc/hosts)? On a "
                      "company network you may need its VPN; an IP address works without DNS",
                      time.perf_counter() - began)
            raise _Fatal("the host name does not resolve") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        self._add("DNS", "pass", f"{self.host} -> {', '.join(addresses)}",
                  seconds=time.perf_counter() - began)

    def _tcp(self) -> None:
        began = time.perf_counter()
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout) as s:
                peer = s.getpeername()[0]
        except TimeoutError as exc:
            self._add("TCP connect", "fail",
                      f"no answer from {self.host} port {self.port} within {self.timeout:g} s",
                      self._port_hint("no answer"),
                      time.perf_counter() - began)
            raise _Fatal(f"port {self.port} cannot be reached") from exc
        except ConnectionRefusedError as exc:
            self._add("TCP connect", "fail",
                      f"port {self.port} closed on {self.host} (connection refused)",
                      self._port_hint("closed"),
                      time.perf_counter() - began)
            raise _Fatal(f"port {self.port} is closed") from exc
        except OSError as exc:
            self._add("TCP connect", "fail",
                      f"cannot reach {self.host} port {self.port}: {exc.strerror or exc}",
                      "no route to the host: check the network (VPN?) and the address",
                      time.perf_counter() - began)
            raise _Fatal(f"{self.host} cannot be reached") from exc
        took = time.perf_counter() - began
        self._add("TCP connect", "pass", f"connected to {peer} port {self.port}", seconds=took)

    def _port_hint(self, what: str) -> str:
        if self.scheme == "ldaps":
            return (f"port {self.port} {what}: a firewall may block LDAPS; try StartTLS on 389 "
                    f"(ldap://{self.host}:389)")
        return (f"port {self.port} {what}: is the server running, and is {self.port} its port? "
                f"A firewall may block it; for LDAPS try ldaps://{self.host}:636")

    # -- TLS -----------------------------------------------------------------------------------
    def _handshake(self, context: ssl.SSLContext) -> tuple[ssl.SSLSocket, Callable[[], Any]]:
        """A TLS connection to the server (ldaps, or ldap + StartTLS) with ``context``."""
        if self.scheme == "ldaps":
            raw = socket.create_connection((self.host, self.port), timeout=self.timeout)
            try:
                tls = context.wrap_socket(raw, server_hostname=self.host)
            except BaseException:
                raw.close()
                raise
            return tls, tls.close
        conn, tls_layer = self._ldap3_connection(context)
        try:
            conn.open()
            conn.start_tls()
        except Exception as exc:
            _unbind(conn)  # an unbind that fails must not hide why the handshake failed
            if tls_layer.error is not None:
                raise tls_layer.error from exc
            raise
        from .sources._ldap3 import connection_socket

        return connection_socket(conn), lambda: _unbind(conn)

    def _ldap3_connection(self, context: ssl.SSLContext) -> tuple[Any, Any]:
        import ldap3

        from .sources._budget import Budget
        from .sources._ldap3 import context_tls, guard

        tls_layer = context_tls(context, self.host)
        server = ldap3.Server(self.host, port=self.port, use_ssl=self.scheme == "ldaps",
                              get_info=ldap3.NONE, tls=tls_layer, connect_timeout=self.timeout)
        conn = ldap3.Connection(server, auto_bind=ldap3.AUTO_BIND_NONE, read_only=True,
                                receive_timeout=max(1, math.ceil(self.timeout)),
                                auto_referrals=False)
        # every answer within timeout (not only every read), typed errors for bad answers
        guard(conn, Budget(self.host, self.port, timeout=self.timeout))
        return conn, tls_layer

    def _tls(self) -> None:
        via = "" if self.scheme == "ldaps" else " (after StartTLS)"
        # 1. a handshake that accepts any certificate, to see what the server presents
        began = time.perf_counter()
        try:
            tls, close = self._handshake(_unverified_context())
        except (ssl.SSLError, OSError, _LdapError()) as exc:
            hint = ("is this port really LDAPS? A plain LDAP port (389) needs StartTLS "
                    "(ldap://...) instead" if self.scheme == "ldaps" else
                    "the server offered StartTLS but the handshake failed: its TLS "
                    "configuration (certificate, key) may be broken; its log says more")
            if getattr(exc, "reason", None) in _OLD_TLS:
                hint = ("the server and this client share no TLS version: it may only speak "
                        "TLS 1.0/1.1, which are switched off here for safety")
            self._add("TLS handshake", "fail", f"TLS handshake failed{via}: {_reason(exc)}",
                      hint, time.perf_counter() - began)
            if self.scheme == "ldaps":
                raise _Fatal("the TLS handshake failed") from exc
            for name in ("certificate", "chain trusted", "name match"):
                self._skip(name, "the TLS handshake failed")
            return
        try:
            took = time.perf_counter() - began
            cipher = tls.cipher()
            der = tls.getpeercert(binary_form=True)
            self._add("TLS handshake", "pass",
                      f"{tls.version()}, cipher {cipher[0] if cipher else '?'}{via}",
                      seconds=took)
        finally:
            close()
        self.tls_working = True
        cert = _certificate(der) if der else None
        if cert is None:
            self._add("certificate", "fail", "the server sent no certificate",
                      "an LDAPS server must present a certificate: ask its administrators")
            self._skip("chain trusted", "no certificate")
            self._skip("name match", "no certificate")
            return
        self._certificate_step(cert)
        trusted = self._trust_step(cert)
        matched = self._name_step(cert, trusted)
        self.tls_verified = trusted and matched

    def _certificate_step(self, cert: _Cert) -> None:
        now = datetime.now(UTC)
        left = (cert.not_after - now).days
        self.facts["certificate"] = {
            "subject": cert.subject, "issuer": cert.issuer, "sans": cert.sans,
            "dns_names": cert.dns_names, "ips": [str(i) for i in cert.ips],
            "common_names": cert.common_names, "eku": cert.eku,
            "not_before": cert.not_before, "not_after": cert.not_after, "days_left": left,
            "sha256": cert.sha256}
        names = ", ".join(cert.sans) or "none"
        detail = (f"subject {cert.subject}; SANs {names}; issuer {cert.issuer}; "
                  f"valid until {cert.not_after:%Y-%m-%d} ({left} days left)")
        if cert.not_after < now:
            self._add("certificate", "fail", detail.replace(f"({left} days left)", "(EXPIRED)"),
                      f"the certificate expired on {cert.not_after:%Y-%m-%d}: the server's "
                      "administrators must renew it; clients refuse it until then")
        elif cert.not_before > now:
            self._add("certificate", "fail", detail,
                      f"the certificate is valid only from {cert.not_before:%Y-%m-%d}: is this "
                      "machine's clock right?")
        elif left < 30:
            self._add("certificate", "warn", detail,
                      f"the certificate expires in {left} days: tell the administrators")
        else:
            self._add("certificate", "pass", detail)

    def _trust_step(self, cert: _Cert) -> bool:
        store = f"CA file {self.ca_file}" if self.ca_file else "the system's CA store"
        try:
            context = ssl.create_default_context(cafile=self.ca_file)
        except (OSError, ssl.SSLError) as exc:
            self._add("chain trusted", "fail", f"cannot read the CA file {self.ca_file!r}: "
                      f"{_reason(exc)}", "ca_file must be a PEM file holding the CA certificate "
                      "(-----BEGIN CERTIFICATE-----)")
            return False
        context.check_hostname = False
        began = time.perf_counter()
        try:
            _, close = self._handshake(context)
            close()
        except ssl.SSLCertVerificationError as exc:
            took = time.perf_counter() - began
            code = exc.verify_code
            message = exc.verify_message or _reason(exc)
            if code in _UNKNOWN_CA:
                hint = ("certificate signed by an unknown CA: pass ca_file=... with your CA "
                        f"(the PEM of the authority that issued it: {cert.issuer})")
                if self.ca_file:
                    hint = (f"certificate signed by an unknown CA: {self.ca_file} is not the CA "
                            f"that issued it ({cert.issuer}); pass ca_file=... with that CA")
            elif code == 10:
                hint = "the certificate has expired: its administrators must renew it"
            else:
                hint = "the certificate cannot be verified: show this message to its administrators"
            self._add("chain trusted", "fail", f"not trusted by {store}: {message}", hint, took)
            return False
        except (ssl.SSLError, OSError, _LdapError()) as exc:
            self._add("chain trusted", "fail", f"verifying handshake failed: {_reason(exc)}",
                      "the server accepted an unverified handshake but not this one: try again; "
                      "if it persists, its log says more", time.perf_counter() - began)
            return False
        self._add("chain trusted", "pass", f"trusted by {store}",
                  seconds=time.perf_counter() - began)
        return True

    def _name_step(self, cert: _Cert, trusted: bool) -> bool:
        names = ", ".join(cert.sans) or f"(no subjectAltName; subject {cert.subject})"
        mismatch = (f"name mismatch: you connected to {self.host} but the certificate is for "
                    f"{names}: use one of those names in the URL (or ask for a certificate "
                    f"that names {self.host})")
        if trusted:  # the standard library's own check is authoritative
            context = ssl.create_default_context(cafile=self.ca_file)
            began = time.perf_counter()
            try:
                _, close = self._handshake(context)
                close()
            except ssl.SSLCertVerificationError as exc:
                self._add("name match", "fail", f"{self.host} is not one of the certificate's "
                          f"names ({exc.verify_message})", mismatch, time.perf_counter() - began)
                return False
            except (ssl.SSLError, OSError, _LdapError()) as exc:
                self._add("name match", "fail", f"handshake failed: {_reason(exc)}", mismatch,
                          time.perf_counter() - began)
                return False
            self._add("name match", "pass", f"{self.host} matches the certificate ({names})",
                      seconds=time.perf_counter() - began)
            return True
        if _matches(self.host, cert):
            self._add("name match", "pass", f"{self.host} matches the certificate ({names}); "
                      "checked by ldapnb, as the chain is not trusted")
            return True
        self._add("name match", "fail", f"{self.host} is not one of the certificate's names",
                  mismatch)
        return False

    # -- LDAP ------------------------------------------------------------------------------------
    def _root_dse(self) -> None:
        step = "rootDSE (anonymous)"
        if self.scheme == "ldaps" and not self.tls_working:
            self._skip(step, "no TLS connection")
            return
        import ldap3

        context = _verified_context(self.ca_file, self.host) if self.tls_verified \
            else _unverified_context()
        conn, _ = self._ldap3_connection(context)
        began = time.perf_counter()
        try:
            conn.open()
            ok = conn.search("", "(objectClass=*)", ldap3.BASE, attributes=["*", "+"])
            took = time.perf_counter() - began
            result = dict(conn.result or {})
            response = [r for r in (conn.response or []) if r.get("type") == "searchResEntry"
                        and not r.get("dn")]  # the rootDSE's DN is empty; nothing else is it
        except Exception as exc:  # ldap3 raises many kinds; the doctor reports, never raises
            self._add(step, "fail", f"the server did not answer an LDAP search: {_reason(exc)}",
                      "the port is open but does not speak LDAP"
                      + (" over TLS" if self.scheme == "ldaps" else "")
                      + ": is it the right port?", time.perf_counter() - began)
            if self.scheme == "ldap":
                raise _Fatal("the server does not answer LDAP") from exc
            return
        finally:
            _unbind(conn)
        if not ok or not response:
            self._add(step, "warn", f"the rootDSE could not be read anonymously "
                      f"({result.get('description', 'no entry')})",
                      "some servers refuse anonymous reads; a bind may still work", took)
            return
        attrs = {k.lower(): [str(v) for v in (vs if isinstance(vs, list) else [vs])]
                 for k, vs in response[0].get("attributes", {}).items()}
        self.root_dse = attrs
        contexts = attrs.get("namingcontexts", [])
        detail = (f"naming contexts: {', '.join(contexts) or 'none'}; vendor: {_vendor(attrs)}; "
                  f"LDAP v{'/'.join(attrs.get('supportedldapversion', ['?']))}")
        mechs = attrs.get("supportedsaslmechanisms")
        if mechs:
            detail += f"; SASL: {', '.join(mechs)}"
        if self.scheme == "ldaps" and not self.tls_verified:
            detail += " (read over a TLS connection that was not verified: diagnosis only)"
        self._add(step, "pass", detail, seconds=took)

    def _starttls_offered(self) -> bool:
        step = "StartTLS offered"
        if self.root_dse is None:
            self._add(step, "warn", "unknown: the rootDSE could not be read; trying StartTLS "
                      "anyway")
            return True
        if STARTTLS_OID in self.root_dse.get("supportedextension", []):
            self._add(step, "pass", f"the rootDSE lists StartTLS ({STARTTLS_OID})")
            return True
        tried = self._try_starttls()
        if tried is None:
            self._add(step, "warn", f"the rootDSE does not list StartTLS ({STARTTLS_OID}), but "
                      "the server accepted it when tried",
                      "the server under-reports its extensions (Samba's AD DC lists none); "
                      "StartTLS works: use it, or ldaps://")
            return True
        self._add(step, "fail", f"the rootDSE does not list StartTLS ({STARTTLS_OID}) and the "
                  f"server refused it when tried ({tried})",
                  "without StartTLS, passwords and data cross the network in clear text on "
                  f"port {self.port}: use ldaps://{self.host}:636 if the server has it")
        for name in ("TLS handshake", "certificate", "chain trusted", "name match"):
            self._skip(name, "the server does not offer StartTLS")
        return False

    def _try_starttls(self) -> str | None:
        """Try StartTLS (certificate not checked: only whether the server does it); None when
        it worked, else why not."""
        try:
            conn, _ = self._ldap3_connection(_unverified_context())
            try:
                conn.open()
                ok = conn.start_tls()
            finally:
                conn.unbind()
        except Exception as exc:  # noqa: BLE001 - the doctor reports, never raises
            return _reason(exc)
        return None if ok else "refused"

    def _is_active_directory(self) -> bool:
        caps = (self.root_dse or {}).get("supportedcapabilities", [])
        return oids.AD_CAPABILITY in caps

    def _global_catalog(self) -> None:
        step = "Global Catalog"
        began = time.perf_counter()
        answers = []
        for port in (3268, 3269):
            try:
                with socket.create_connection((self.host, port), timeout=self.timeout):
                    answers.append(port)
            except OSError:
                pass
        took = time.perf_counter() - began
        ready = (self.root_dse or {}).get("isglobalcatalogready", [""])[0].upper() == "TRUE"
        if answers == [3268, 3269]:
            self._add(step, "pass", "the Global Catalog answers on 3268 (LDAP) and 3269 (LDAPS)"
                      + ("" if ready else "; isGlobalCatalogReady is not TRUE"), seconds=took)
        elif answers:
            self._add(step, "warn", f"the Global Catalog answers only on {answers[0]}",
                      "a forest-wide search needs the GC: 3268 with StartTLS, or 3269", took)
        else:
            self._add(step, "warn", "no Global Catalog on 3268 or 3269" +
                      (" although the rootDSE says isGlobalCatalogReady" if ready else ""),
                      "this DC is not a GC (or a firewall blocks 3268/3269): forest-wide "
                      "searches need a GC", took)

    def _clear_bind_probe(self) -> None:
        """Does the DC refuse simple binds without TLS?  A made-up user and a random password:
        nothing secret is sent."""
        import secrets

        import ldap3

        step = "simple bind in clear"
        probe = "ldapnb-probe-no-such-user"
        if not self._is_active_directory():  # a DN, as other servers want: under its data
            contexts = (self.root_dse or {}).get("namingcontexts") or ["dc=invalid"]
            probe = f"cn={probe}-{secrets.token_hex(4)},{contexts[0]}"
        server = ldap3.Server(self.host, port=self.port, get_info=ldap3.NONE,
                              connect_timeout=self.timeout)
        conn = ldap3.Connection(server, user=probe,
                                password=secrets.token_urlsafe(12),
                                authentication=ldap3.SIMPLE, read_only=True,
                                receive_timeout=max(1, math.ceil(self.timeout)))
        began = time.perf_counter()
        try:
            conn.open()
            conn.bind()
            result = dict(conn.result or {})
        except Exception as exc:  # noqa: BLE001 - the doctor reports, never raises
            self._add(step, "warn", f"the probe failed: {_reason(exc)}")
            return
        finally:
            _unbind(conn)
        took = time.perf_counter() - began
        message = (result.get("message") or "").strip()
        code = result.get("result")
        self.facts["clear_bind"] = {"probe_user": probe, "result": code,
                                    "description": result.get("description"),
                                    "message": message, "refused": code in (8, 13)}
        if code == 8:
            self._add(step, "pass", "the DC refuses simple binds without TLS "
                      f"(strongerAuthRequired: {message})",
                      "good: passwords never cross port 389 in clear; bind over ldaps:// or "
                      "StartTLS, or with Kerberos", took)
        elif code == 13:
            self._add(step, "pass", "the server refuses simple binds without TLS "
                      f"(confidentialityRequired: {message})",
                      "good: passwords never cross the network in clear", took)
        else:
            self._add(step, "warn", "the server evaluates simple binds over plain LDAP "
                      f"({result.get('description')}: {message}): a client that forgets TLS "
                      "sends its password in clear",
                      "require LDAP signing / strong authentication on the DC (Windows: "
                      "'Domain controller: LDAP server signing requirements'; Samba: 'ldap "
                      "server require strong auth = yes'; OpenLDAP: 'security "
                      "simple_bind=128')", took)

    def _anonymous_read(self) -> None:
        """What an anonymous client reads in each naming context (a few entries at most)."""
        import ldap3

        step = "anonymous read"
        contexts = [c for c in (self.root_dse or {}).get("namingcontexts", []) if c]
        if self.root_dse is None or not contexts:
            self._skip(step, "the rootDSE named no naming context to read")
            self.facts["anonymous_read"] = {"root_dse": self.root_dse is not None,
                                            "readable": {}, "refused": {}}
            return
        if self.scheme == "ldaps" and not self.tls_working:
            self._skip(step, "no TLS connection")
            return
        readable: dict[str, list[str]] = {}
        refused: dict[str, str] = {}
        heads: list[str] = []
        began = time.perf_counter()
        conn, _ = self._ldap3_connection(_unverified_context())
        try:
            conn.open()
            for nc in contexts:
                conn.search(nc, "(objectClass=*)", ldap3.SUBTREE, attributes=["1.1"],
                            size_limit=5)
                dns = [str(r.get("dn")) for r in (conn.response or [])
                       if r.get("type") == "searchResEntry"]
                # the head's DN is public in the rootDSE already (Samba shows it, with no
                # attributes): only entries below it tell an anonymous client anything
                below = [d for d in dns if d.replace(" ", "").lower()
                         != nc.replace(" ", "").lower()]
                if below:
                    readable[nc] = below
                elif dns:
                    heads.extend(dns)
                else:
                    res = dict(conn.result or {})
                    refused[nc] = f"{res.get('description')}: {res.get('message') or ''}"
        except Exception as exc:  # noqa: BLE001 - the doctor reports, never raises
            self._add(step, "warn", f"the probe failed: {_reason(exc)}")
            return
        finally:
            _unbind(conn)
        took = time.perf_counter() - began
        self.facts["anonymous_read"] = {"root_dse": True, "readable": readable,
                                        "refused": refused, "heads_only": heads}
        if readable:
            shown = "; ".join(f"{nc}: {', '.join(dns[:3])}" for nc, dns in readable.items())
            self._add(step, "warn", f"an anonymous client reads entries: {shown}",
                      "allow anonymous clients the rootDSE only (AD: dsHeuristics, Pre-Windows "
                      "2000 Compatible Access; OpenLDAP: 'by anonymous auth' / 'by users "
                      "read')", took)
        else:
            self._add(step, "pass", "an anonymous client reads the rootDSE only ("
                      + "; ".join([f"{nc}: {why}" for nc, why in refused.items()]
                                  + [f"{h}: the head's DN alone" for h in heads]) + ")",
                      seconds=took)

    def _bind(self) -> None:
        step = "bind"
        if self.user is None:
            self._skip(step, "no user given (pass user=... and password=... to test a bind)")
            return
        if self.password is None:
            self._skip(step, f"no password given for {self.user}")
            return
        if not self.tls_verified:
            self._skip(step, "ldapnb sends no password over a connection it could not verify: "
                       "fix the TLS steps above first")
            return
        import ldap3

        conn, _ = self._ldap3_connection(_verified_context(self.ca_file, self.host))
        conn.user = self.user
        conn.password = self.password
        conn.authentication = ldap3.SIMPLE
        began = time.perf_counter()
        try:
            conn.open()
            if self.scheme == "ldap":
                conn.start_tls()
            bound = conn.bind()
            took = time.perf_counter() - began
            result = dict(conn.result or {})
            who = ""
            if bound:
                try:
                    who = conn.extend.standard.who_am_i() or ""
                except _LdapError():
                    who = ""
        except Exception as exc:  # ldap3 raises many kinds; the doctor reports, never raises
            self._add(step, "fail", f"bind failed: {_reason(exc)}",
                      "the connection broke during the bind: try again; the server's log says "
                      "more", time.perf_counter() - began)
            return
        finally:
            _unbind(conn)
        if bound:
            self._add(step, "pass", f"bound as {self.user}" + (f" (whoami: {who})" if who else ""),
                      seconds=took)
            return
        code = result.get("result")
        text = f"{result.get('description', 'refused')}"
        if result.get("message"):
            text += f": {result['message']}"
        if code == 49:
            hint = ("wrong user name or password (invalidCredentials): OpenLDAP wants the full "
                    "DN (cn=...,dc=...); Active Directory also takes user@domain or "
                    "DOMAIN\\user. Check the password's spelling and case")
        elif code == 53:
            hint = "the server refuses this bind (unwillingToPerform): is the account disabled?"
        elif code == 8:
            hint = "the server wants stronger authentication (signing, TLS, or SASL)"
        else:
            hint = "the server refused the bind: its message above says why"
        self._add(step, "fail", f"bind as {self.user} refused ({text})", hint, took)


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------


def _LdapError() -> type[Exception]:  # noqa: N802 - reads like an exception class in excepts
    from ldap3.core.exceptions import LDAPException

    return LDAPException


def _unbind(conn: Any) -> None:
    """Unbind and close, quietly: the server may already have closed the connection (ldap3
    then raises from sending the unbind, which once hid why a StartTLS handshake failed)."""
    from .sources._ldap3 import close_quietly

    close_quietly(conn)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason).replace("_", " ").lower()
    return str(exc) or type(exc).__name__


def _unverified_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _verified_context(ca_file: str | None, host: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file)


@dataclass
class _Cert:
    subject: str
    issuer: str
    sans: list[str]
    dns_names: list[str]
    ips: list[Any]
    common_names: list[str]
    not_before: datetime
    not_after: datetime
    eku: list[str] | None = None  #: extendedKeyUsage purposes (names); None: no extension
    sha256: str = ""


def _certificate(der: bytes) -> _Cert | None:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    dns: list[str] = []
    ips: list[Any] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = list(san.get_values_for_type(x509.DNSName))
        ips = list(san.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        pass
    cns = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    eku: list[str] | None = None
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        eku = [_EKU_NAMES.get(u.dotted_string, u.dotted_string) for u in usages]
    except x509.ExtensionNotFound:
        pass
    from cryptography.hazmat.primitives import hashes

    return _Cert(eku=eku, sha256=cert.fingerprint(hashes.SHA256()).hex(),
                 subject=cert.subject.rfc4514_string() or "(empty)",
                 issuer=cert.issuer.rfc4514_string() or "(empty)",
                 sans=[f"DNS:{d}" for d in dns] + [f"IP:{i}" for i in ips],
                 dns_names=dns, ips=ips, common_names=cns,
                 not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc)


#: extendedKeyUsage OIDs by the names RFC 5280 gives them
_EKU_NAMES = {"1.3.6.1.5.5.7.3.1": "serverAuth", "1.3.6.1.5.5.7.3.2": "clientAuth",
              "1.3.6.1.5.5.7.3.3": "codeSigning", "1.3.6.1.5.5.7.3.4": "emailProtection",
              "1.3.6.1.5.5.7.3.8": "timeStamping", "1.3.6.1.5.5.7.3.9": "OCSPSigning",
              "2.5.29.37.0": "anyExtendedKeyUsage"}


def _matches(host: str, cert: _Cert) -> bool:
    """RFC 6125 name check, as clients do it (:func:`ldapnb.tls.name_matches`): against the
    subjectAltNames (a DNS name against DNS entries, an address against IP entries), or the
    subject CN (a DNS name) only when there are no SANs at all."""
    from .tls import name_matches

    names = [*(("DNS", str(n)) for n in cert.dns_names), *(("IP", str(n)) for n in cert.ips)]
    return name_matches(host, names or [("DNS", str(n)) for n in cert.common_names])


def _vendor(attrs: dict[str, list[str]]) -> str:
    name = " ".join(attrs.get("vendorname", []) + attrs.get("vendorversion", [])).strip()
    if name:
        return name
    classes = {c.lower() for c in attrs.get("objectclass", [])}
    if "openldaprootdse" in classes:
        return "OpenLDAP (rootDSE class OpenLDAProotDSE)"
    if "domainfunctionality" in attrs or oids.AD_CAPABILITY in attrs.get(
            "supportedcapabilities", []):
        return "Active Directory"
    return "not said"
