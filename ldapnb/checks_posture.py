"""The server's LDAP posture, from live connections: binds in clear, the LDAPS certificate,
anonymous reads.

Registered into :data:`ldapnb.audit.CHECKS` (``needs_live``): :func:`ldapnb.audit.run` runs
them on a live Directory, :func:`ldapnb.audit.posture` on URLs.  The facts come from
:func:`ldapnb.diagnose.diagnose` with ``posture=True`` (one probe per fact, in one place):

- the simple bind in clear: a made-up account and a random password sent on ``ldap://``
  without TLS; ``strongerAuthRequired`` (AD) or ``confidentialityRequired`` (OpenLDAP) is
  the answer of a hardened server, anything else means it reads passwords sent in clear;
- the certificate over ``ldaps://`` and StartTLS: EKU ``serverAuth`` (Windows clients and
  AD's own LDAPS need it), the server's names in the subjectAltNames (the URL's host and the
  rootDSE's ``dnsHostName``), not expired nor within :data:`EXPIRY_DAYS` of expiry, and a
  chain to the CA given (or the system's store);
- anonymous reads: entries of the naming contexts read without a bind (the rootDSE alone is
  what clients need before binding).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .checks import Context, Finding, check

__all__ = ["Posture", "gather", "EXPIRY_DAYS"]

#: A certificate expiring within this many days is a finding.
EXPIRY_DAYS = 30


@dataclass
class Posture:
    """What the probes saw at each URL (:attr:`ldapnb.diagnose.Report.facts`)."""

    urls: list[str]
    reports: list[Any] = field(default_factory=list)  #: diagnose Reports, one per URL
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def evidence(self) -> list[dict[str, Any]]:
        """One dict per URL: reached or not, and each probe's result (also when fine)."""
        out = []
        for r in self.reports:
            facts = dict(r.facts)
            facts["reached"] = "root_dse" in facts or "certificate" in facts
            facts["steps"] = {s.step: f"{s.status}: {s.detail}" for s in r.steps}
            out.append(facts)
        return out


def gather(urls: Sequence[str], *, ca_file: str | None = None, timeout: float = 5,
           now: datetime | None = None) -> Posture:
    """Probe each URL with :func:`ldapnb.diagnose.diagnose` (``posture=True``)."""
    from .diagnose import diagnose

    p = Posture(list(urls), now=now or datetime.now(UTC))
    for url in urls:
        p.reports.append(diagnose(url, ca_file=ca_file, timeout=timeout, posture=True))
    return p


def _facts(ctx: Context) -> Iterator[dict[str, Any]]:
    yield from (r.facts for r in ctx.posture.reports) if ctx.posture is not None else ()


def _certificates(ctx: Context) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each distinct certificate seen, with the facts of every URL that presented it."""
    seen: dict[str, list[dict[str, Any]]] = {}
    certs: dict[str, dict[str, Any]] = {}
    for facts in _facts(ctx):
        cert = facts.get("certificate")
        if cert:
            seen.setdefault(cert["sha256"], []).append(facts)
            certs[cert["sha256"]] = cert
    for sha, where in seen.items():
        yield certs[sha], where


def _cert_evidence(cert: dict[str, Any], where: list[dict[str, Any]], **extra: Any
                   ) -> dict[str, Any]:
    return {"urls": [f["url"] for f in where], "subject": cert["subject"],
            "issuer": cert["issuer"], "sans": cert["sans"], "eku": cert["eku"],
            "not_after": cert["not_after"].isoformat(), "sha256": cert["sha256"], **extra}


@check("ldap-posture-probed", "info",
       "What the LDAP posture probes saw at each URL, when all is well too: the evidence that "
       "a simple bind in clear was refused, which certificate was presented, what an "
       "anonymous client could read.", rule_id="LDAP-00", needs_live=True,
       remediation="Nothing to do: this is the record of what was probed.")
def _probed(ctx: Context) -> Iterator[Finding]:
    assert ctx.posture is not None
    for facts, ev in zip(_facts(ctx), ctx.posture.evidence(), strict=True):
        yield {"subject": facts.get("url", ""), "evidence": {
            k: ev.get(k) for k in ("reached", "active_directory", "clear_bind",
                                    "anonymous_read", "starttls", "chain_trusted",
                                    "name_match", "steps") if k in ev}}


@check("ldap-simple-bind-in-clear", "high",
       "The server evaluates simple binds on plain LDAP (no TLS, no signing): any client that "
       "forgets StartTLS sends its password in clear, and an attacker in the middle can read "
       "it or relay the session. A hardened server answers strongerAuthRequired (AD: LDAP "
       "signing required) or confidentialityRequired (OpenLDAP).", needs_live=True,
       rule_id="LDAP-01", pingcastle="A-DCLdapSign", attack="T1557",
       remediation="Require signing / TLS for simple binds: Windows 'Domain controller: LDAP "
                   "server signing requirements' = Require signing (and LDAP channel "
                   "binding); Samba 'ldap server require strong auth = yes'; OpenLDAP "
                   "'security simple_bind=128' (or 'require strong').")
def _clear_bind(ctx: Context) -> Iterator[Finding]:
    for facts in _facts(ctx):
        probe = facts.get("clear_bind")
        if probe and not probe["refused"]:
            yield {"subject": facts["url"], "evidence": {
                "url": facts["url"], "probe_user": probe["probe_user"],
                "answer": f"{probe['description']} ({probe['result']})",
                "message": probe["message"],
                "meaning": "the password was checked, not refused for want of TLS"}}


@check("ldaps-certificate-eku", "medium",
       "The server's certificate does not allow Server Authentication (EKU 1.3.6.1.5.5.7.3.1): "
       "Windows clients refuse it for LDAPS and an AD DC does not even pick it for LDAPS.",
       needs_live=True, rule_id="LDAP-02", attack="T1557",
       remediation="Issue the DC's certificate from a template with the Server Authentication "
                   "EKU (the 'Domain Controller Authentication' / 'Kerberos Authentication' "
                   "templates have it).")
def _eku(ctx: Context) -> Iterator[Finding]:
    for cert, where in _certificates(ctx):
        eku = cert["eku"]
        if eku is None or not ({"serverAuth", "anyExtendedKeyUsage"} & set(eku)):
            yield {"subject": where[0]["url"], "evidence": _cert_evidence(
                cert, where, problem="no extendedKeyUsage extension" if eku is None
                else f"EKU {', '.join(eku)} has no serverAuth")}


@check("ldaps-certificate-names", "medium",
       "The certificate does not name the server as clients reach it (the URL's host, the "
       "rootDSE's dnsHostName): verified clients refuse it, and clients told to skip the "
       "check can be sent to any server.", needs_live=True, rule_id="LDAP-03", attack="T1557",
       remediation="Reissue the certificate with every name clients use in its "
                   "subjectAltNames (the DC's FQDN, the domain's DNS name if clients use it, "
                   "and any alias or address).")
def _names(ctx: Context) -> Iterator[Finding]:
    from .tls import name_matches

    for cert, where in _certificates(ctx):
        san = [("DNS", n) for n in cert["dns_names"]] + [("IP", n) for n in cert["ips"]]
        names = san or [("DNS", n) for n in cert["common_names"]]
        wanted = []
        for facts in where:
            wanted.append(facts["host"])
            dns = (facts.get("root_dse") or {}).get("dns_host_name")
            if dns:
                wanted.append(dns)
        missing = [n for n in dict.fromkeys(wanted) if not name_matches(n, names)]
        if missing:
            yield {"subject": where[0]["url"], "evidence": _cert_evidence(
                cert, where, missing=missing)}


@check("ldaps-certificate-expiry", "medium",
       f"The certificate has expired (high) or expires within {EXPIRY_DAYS} days: clients "
       "will refuse LDAPS and StartTLS, and the usual quick fix (turning verification off) "
       "opens the door to interception.", needs_live=True, rule_id="LDAP-04", attack="T1557",
       remediation="Renew the certificate before it expires (AD: autoenrollment of the DC "
                   "certificate) and monitor its expiry.")
def _expiry(ctx: Context) -> Iterator[Finding]:
    assert ctx.posture is not None
    for cert, where in _certificates(ctx):
        left = (cert["not_after"] - ctx.now).total_seconds() / 86400
        if left < EXPIRY_DAYS:
            yield {"subject": where[0]["url"], "severity": "high" if left < 0 else "medium",
                   "evidence": _cert_evidence(cert, where, days_left=int(left // 1),
                                              expired=left < 0)}


@check("ldaps-certificate-untrusted", "medium",
       "The certificate does not chain to the CA given (or the system's store): clients must "
       "either be given that CA or skip verification, and skipping lets anyone in the middle "
       "present their own certificate.", needs_live=True, rule_id="LDAP-05", attack="T1557",
       remediation="Issue the DC's certificate from the enterprise CA clients trust (or "
                   "distribute the issuing CA to them); never tell clients to skip "
                   "verification.")
def _untrusted(ctx: Context) -> Iterator[Finding]:
    for cert, where in _certificates(ctx):
        bad = [f for f in where if f.get("chain_trusted") and not f["chain_trusted"]["ok"]]
        if bad:
            yield {"subject": bad[0]["url"], "evidence": _cert_evidence(
                cert, bad, verification=bad[0]["chain_trusted"]["detail"])}


@check("ldap-anonymous-read", "high",
       "An anonymous client (no bind) reads entries of the directory, not only the rootDSE: "
       "anyone who reaches the port can enumerate accounts and groups before any password.",
       needs_live=True, rule_id="LDAP-06", attack="T1087.002",
       remediation="Allow anonymous clients the rootDSE only: AD: clear dsHeuristics' 7th "
                   "character and remove Anonymous Logon / Everyone from Pre-Windows 2000 "
                   "Compatible Access; OpenLDAP: 'by anonymous auth' and 'by users read' "
                   "instead of 'by * read'.")
def _anonymous(ctx: Context) -> Iterator[Finding]:
    done: set[str] = set()
    for facts in _facts(ctx):
        read = (facts.get("anonymous_read") or {}).get("readable") or {}
        key = ",".join(sorted(read))
        if read and key not in done:
            done.add(key)
            yield {"subject": facts["url"], "evidence": {
                "url": facts["url"], "naming_contexts": sorted(read),
                "entries_read": {nc: dns for nc, dns in read.items()}}}
