"""Exercises of the network lessons (05 wire, 06 LDAPS, 07 StartTLS, 09 firewalls and tools,
12 AD hardening): each check takes the student's answer and returns a
:class:`~ldapnb.teach.exercises.Verdict` (a ✓, or a hint).

Several are *build-or-debug* exercises: the student writes code (a verifying ldap3 ``Tls``, a
StartTLS connection, an ``ldapwhoami`` command line) and the check **runs it** against the
lesson's real server, and against an impostor where that is the point.  The answers are the
teacher's side, in :mod:`ldapnb.teach.net_solutions` (run by the tests, never imported by a
lesson).  These checks register in :data:`ldapnb.teach.exercises.EXERCISES`, so a lesson calls
them as ``exercises.check("06.3", ...)``.

>>> bool(check_cldap_transport("udp")), bool(check_cldap_transport("TCP"))
(True, False)
"""

from __future__ import annotations

import os
import shlex
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..sources._ldap3 import close_quietly
from ._checking import Verdict, _exercise, _no, _text, _words, _yes

__all__ = ["check_sniffed_password", "check_cldap_transport", "check_verifying_tls",
           "check_starttls_connect", "check_outage", "check_whoami_command",
           "check_bind_result_code", "check_entra_ports", "check_gc_only",
           "secret_bind_capture", "simple_password"]


#: The host name the checks connect with: the lesson's certificates name ``localhost`` (and
#: 127.0.0.1); ldap3 2.9.1 checks names itself with ``ssl.match_hostname``, whose fallback on
#: Python 3.12+ rejects an IP address in the certificate, so a name is the portable choice.
HOST = "localhost"
ALICE = "uid=alice,ou=People,dc=example,dc=com"
ALICE_PASSWORD = "alice-pw"  # the tiny fixture's documented demo password


@contextmanager
def _quiet_ldap3() -> Iterator[None]:
    """ldap3 2.9.1 calls the deprecated ``ssl.match_hostname``: not the student's fault."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


# -- 05 -------------------------------------------------------------------------------------
def simple_password(capture_or_messages: Any) -> str | None:
    messages = getattr(capture_or_messages, "messages", capture_or_messages)
    for m in messages:
        if getattr(m, "operation", "") == "bindRequest":
            for f in m.fields:
                if f.path.endswith("authentication.simple"):
                    raw = bytes.fromhex(f.raw.replace(" ", ""))
                    # the field's raw bytes are tag, length, value: keep the value
                    return raw[2:2 + raw[1]].decode("utf-8", "replace")
    return None


def secret_bind_capture(server: Any, user: str) -> Any:
    """A real bind through the tap with a password nobody told the student (a fresh random
    one): the server refuses it, but it crossed the wire.  Returns the capture."""
    import secrets

    from . import wire

    password = "s3cret-" + secrets.token_hex(3)
    return wire.capture_bind(server, mode="plain", user=user, password=password, check=False)


@_exercise("05.3", "Someone bound over plain 389 while you captured the traffic: what password "
                   "did they send? Read it from the capture.", "debug")
def check_sniffed_password(capture: Any, answer: Any) -> Verdict:
    """The password of the mystery bind, read from the wire."""
    id = "05.3"
    sent = simple_password(capture)
    if sent is None:
        return _no(id, "that capture holds no simple bind.",
                   "pass the capture the lesson made (mystery = secret_bind_capture(...)).")
    given = _text(answer)
    if given == sent:
        refused = getattr(capture, "error", None)
        note = " The server even refused it" if refused else ""
        return _yes(id, f"{given!r} crossed port 389 in clear.{note}: a refused bind leaks the "
                        "password just the same.")
    if not given:
        return _no(id, "no answer yet.", "find the bindRequest in capture.messages and look at "
                   "its fields (to_frame()): which one is tagged 80?")
    return _no(id, f"{given!r} is not what was sent.",
               "the bindRequest's field 'authentication.simple' (tag 80) holds it as UTF-8 "
               "bytes: .value, or decode the last bytes of .raw.")


@_exercise("05.4", "Active Directory's DC locator sends its 'LDAP ping' to port 389 over which "
                   "transport?", "recall")
def check_cldap_transport(answer: Any) -> Verdict:
    """UDP (CLDAP)."""
    id = "05.4"
    text = _text(answer).lower()
    if text in {"udp", "udp/389", "cldap", "udp 389"}:
        return _yes(id, "UDP: connectionless LDAP (CLDAP), one datagram each way, no bind. "
                        "A firewall that opens only TCP 389 breaks the DC locator.")
    if "tcp" in text:
        return _no(id, "TCP carries ordinary LDAP sessions on 389.",
                   "the LDAP ping is one question and one answer without a session: which "
                   "transport needs no connection?")
    return _no(id, f"{text!r} is not a transport.", "answer TCP or UDP.")


# -- 06 -------------------------------------------------------------------------------------
def _try_ldaps(server: Any, tls: Any) -> tuple[bool, str]:
    import ldap3

    target = ldap3.Server(HOST, port=server.ldaps_port, use_ssl=True, tls=tls,
                          connect_timeout=5, get_info=ldap3.NONE)
    conn = ldap3.Connection(target, receive_timeout=5)
    try:
        with _quiet_ldap3():
            conn.open()
            ok = conn.search("", "(objectClass=*)", search_scope=ldap3.BASE,
                             attributes=["namingContexts"])
        return bool(ok) or conn.result.get("result") == 0, "connected"
    except Exception as exc:  # noqa: BLE001 - the refusal is the expected outcome
        return False, f"{type(exc).__name__}: {exc}"
    finally:
        close_quietly(conn)


def _other_ca() -> str:
    from .. import tls

    folder = tempfile.mkdtemp(prefix="ldapnb-ex-")
    return str(tls.make_certificates(folder).ca_file)


@_exercise("06.3", "Write make_tls(ca_file) returning an ldap3 Tls that verifies the server "
                   "(connects to the lesson's slapd, refuses a server signed by another CA).",
           "debug")
def check_verifying_tls(server: Any, make_tls: Callable[[str], Any]) -> Verdict:
    """Runs the student's ``make_tls`` against the real slapd, then with another CA."""
    id = "06.3"
    if not hasattr(server, "ldaps_port"):
        return _no(id, "pass the lesson's server first, then your function.",
                   "exercises.check('06.3', server, make_tls)")
    if not callable(make_tls):
        return _no(id, "make_tls must be a function: def make_tls(ca_file): return Tls(...)",
                   "define it with def, then pass the function itself (no parentheses).")
    good, why = _try_ldaps(server, make_tls(str(server.ca_file)))
    if not good:
        return _no(id, f"with the right CA your Tls could not connect ({why[:120]}).",
                   "give ldap3.Tls the CA file: ca_certs_file=ca_file.")
    bad, _ = _try_ldaps(server, make_tls(_other_ca()))
    if bad:
        return _no(id, "your Tls also connected when it trusted ANOTHER CA: it checks nothing.",
                   "ldap3's Tls() defaults to validate=ssl.CERT_NONE; ask for "
                   "validate=ssl.CERT_REQUIRED.")
    return _yes(id, "it connects with the right CA and refuses an impostor's certificate.")


# -- 07 -------------------------------------------------------------------------------------
@_exercise("07.3", "Fix connect(host, port, ca_file, user, password): StartTLS on the plain "
                   "port, the certificate verified, the password never in clear; return the "
                   "bound ldap3 Connection.", "build")
def check_starttls_connect(server: Any, connect: Callable[..., Any]) -> Verdict:
    """Runs the student's ``connect`` through a tap to the real slapd (as Alice, with the tiny
    fixture's demo password), then with a wrong CA."""
    from .wire import Tap

    user, password = ALICE, ALICE_PASSWORD

    id = "07.3"
    if not hasattr(server, "ca_file"):
        return _no(id, "pass the lesson's server first, then your function.",
                   "exercises.check('07.3', server, connect)")
    if not callable(connect):
        return _no(id, "connect must be a function.", "def connect(host, port, ca_file, user, "
                   "password): ... return conn")
    secret = password.encode()
    with Tap(server.host, server.port) as tap:
        try:
            with _quiet_ldap3():
                conn = connect(HOST, tap.port, str(server.ca_file), user, password)
        except Exception as exc:  # noqa: BLE001
            return _no(id, f"with the right CA, connect raised {type(exc).__name__}: {exc}",
                       "Server(host, port=port, tls=Tls(validate=ssl.CERT_REQUIRED, "
                       "ca_certs_file=ca_file)), then conn.open(); conn.start_tls(); "
                       "conn.bind().")
        bound = bool(getattr(conn, "bound", False))
        started = bool(getattr(conn, "tls_started", False))
        close_quietly(conn)
        tap.wait_closed()
        leaked = any(secret in r.data for r in tap.records)
    if leaked:
        return _no(id, "the password crossed the tap in clear.",
                   "call conn.start_tls() BEFORE conn.bind() (and not auto_bind=True, which "
                   "binds at once).")
    if not (bound and started):
        return _no(id, f"bound={bound}, tls_started={started}.",
                   "return the Connection after start_tls() and bind() both succeeded.")
    with Tap(server.host, server.port) as tap:
        conn = None
        try:
            with _quiet_ldap3():
                conn = connect(HOST, tap.port, _other_ca(), user, password)
            wrong_bound = bool(getattr(conn, "bound", False))
        except Exception:  # noqa: BLE001 - refusing is right
            wrong_bound = False
        if conn is not None:
            close_quietly(conn)
        tap.wait_closed(timeout=2)
        leaked = any(secret in r.data for r in tap.records)
    if wrong_bound or leaked:
        return _no(id, "trusting ANOTHER CA, your connect still bound: the certificate is not "
                       "checked.",
                   "ldap3's Tls() defaults to validate=ssl.CERT_NONE: ask for "
                   "ssl.CERT_REQUIRED and ca_certs_file=ca_file.")
    return _yes(id, "StartTLS first, certificate verified, password only inside TLS; an "
                    "impostor is refused before any password is sent.")


# -- 09 -------------------------------------------------------------------------------------
_CAUSE_HINTS = {
    "drop": "the connect failed only after the whole timeout: nothing came back at all. "
            "Which rule answers nothing?",
    "reject tcp-reset": "refused at once means a TCP reset came back: either nothing "
                        "listens, or a REJECT rule sent it. The allowed site reached the same "
                        "server on the same port...",
    "not listening": "refused at once, with no firewall rule: the kernel answers a SYN to a "
                     "closed port with a reset.",
    "reject icmp": "'No route to host' at once is an ICMP error, not a TCP reset.",
    "idle timeout": "the connect and the first search worked; only after an idle pause did "
                    "the next search get no answer.",
    "wrong protocol": "TCP connected but LDAP failed at once: something listens there, but "
                      "it does not speak plain LDAP.",
    "allowed": "TCP connected and the rootDSE answered.",
}


@_exercise("09.2", "Mystery outage: for each site of lab.evidence(), name the cause "
                   "(one of firewall.CAUSES).", "debug")
def check_outage(lab: Any, answers: Any) -> Verdict:
    """``answers``: a dict {"site A": "drop", ...} covering every site of the evidence."""
    from .firewall import CAUSES

    id = "09.2"
    truth = lab.truth()
    if not isinstance(answers, dict) or not answers:
        return _no(id, "answer with a dict: {'site A': 'drop', 'site B': ...}.",
                   f"the causes to choose from: {', '.join(CAUSES)}.")
    given = {str(k).strip(): str(v).strip().lower() for k, v in answers.items()}
    unknown = sorted({v for v in given.values() if v not in CAUSES})
    if unknown:
        return _no(id, f"not a cause the lab knows: {', '.join(unknown)}.",
                   f"choose among {', '.join(CAUSES)}.")
    missing = [s for s in truth if s not in given]
    wrong = [s for s in truth if s in given and given[s] != truth[s]]
    # a reset is the same on the wire for 'not listening' and 'reject tcp-reset'
    resets = {"not listening", "reject tcp-reset"}
    wrong_hard = [s for s in wrong if not ({given[s], truth[s]} <= resets)]
    if missing:
        return _no(id, f"{len(missing)} site(s) without an answer: {', '.join(missing)}.",
                   "every site of lab.evidence() needs a cause.")
    if wrong_hard:
        site = wrong_hard[0]
        return _no(id, f"{len(wrong_hard)} site(s) wrong, starting with {site}.",
                   _CAUSE_HINTS[truth[site]])
    if wrong:
        return _yes(id, "right, and you met the limit of what a client can see: a REJECT "
                        "tcp-reset and a closed port send the same reset (you swapped them; "
                        "only the firewall's log or the server side can tell them apart).")
    return _yes(id, "every site diagnosed from what its client saw.")


@_exercise("09.3", "Write the ldapwhoami command (a list of arguments) that binds as Alice "
                   "over StartTLS and stops if TLS cannot be set up, reading her password from "
                   "a file.", "build")
def check_whoami_command(server: Any, password_file: Any, command: Any) -> Verdict:
    """Runs the student's command with ``LDAPTLS_CACERT`` set to the lesson's CA."""
    from .tools import run

    id = "09.3"
    if isinstance(command, str):
        command = shlex.split(command)
    words = [str(c) for c in command] if command else []
    if not words or os.path.basename(words[0]) != "ldapwhoami":
        return _no(id, "the command must start with ldapwhoami.",
                   "a list such as ['ldapwhoami', '-x', ...].")
    if "-w" in words or any(w.startswith("-w") and len(w) > 2 for w in words):
        return _no(id, "-w puts the password on the command line, where ps shows it to "
                       "everyone on the machine.", f"use -y {password_file}.")
    if "-ZZ" not in words:
        if "-Z" in words:
            return _no(id, "-Z asks for StartTLS but carries on in clear when it fails.",
                       "-ZZ makes a failed StartTLS an error.")
        return _no(id, "this command never starts TLS.", "add -ZZ (StartTLS, required).")
    done = run(words, env={"LDAPTLS_CACERT": str(server.ca_file)})
    if not done.ok:
        return _no(id, f"it failed: {done.output.strip()[:160]}",
                   "simple bind: -x -D <Alice's DN> -y <file>; the server: -H "
                   f"{server.urls['ldap']}.")
    if "uid=alice" not in done.output.lower():
        return _no(id, f"it ran, but the server says you are {done.output.strip()!r}.",
                   "bind as Alice with -D.")
    return _yes(id, f"{done.output.strip()}: bound over StartTLS, no password on the command "
                    "line.")


# -- 12 -------------------------------------------------------------------------------------
@_exercise("12.1", "A DC that requires LDAP signing refuses a simple bind on plain 389: with "
                   "which LDAP result (number or name)?", "recall")
def check_bind_result_code(answer: Any) -> Verdict:
    """8, strongerAuthRequired (RFC 4511 4.1.9)."""
    id = "12.1"
    text = _text(answer).replace(" ", "").lower()
    if text in {"8", "strongerauthrequired", "strongauthrequired"}:
        return _yes(id, "8, strongerAuthRequired: the server wants a protected connection "
                        "(TLS) or a signing SASL mechanism.")
    if text in {"49", "invalidcredentials"}:
        return _no(id, "49 is a wrong password (and, with channel binding enforced, an LDAPS "
                       "bind without a binding token: data 80090346).",
                   "look at the first exchange of the recording: its 'result'.")
    if text in {"13", "confidentialityrequired"}:
        return _no(id, "13 is what slapd's 'security simple_bind=...' answers (lesson 07).",
                   "AD and Samba answer another code: look at the recording.")
    return _no(id, f"{answer!r} is not it.", "look at the recording's first exchange.")


@_exercise("12.2", "Which destination ports must a firewall allow from the Entra Connect "
                   "server so that every one of its flows works?", "build")
def check_entra_ports(allowed: Any) -> Verdict:
    """A set of ports (ranges as range(...)) or {destination: ports}."""
    from .firewall import blocked_flows

    id = "12.2"
    if isinstance(allowed, dict):
        ports = {k: _ports(v) for k, v in allowed.items()}
        blocked = blocked_flows(ports)
    else:
        blocked = blocked_flows(_ports(allowed))
    if len(blocked):
        first = blocked.iloc[0]
        return _no(id, f"{len(blocked)} flow(s) blocked: {', '.join(blocked.flow)}.",
                   f"'{first.flow}' needs port(s) {first.missing} to {first.to} "
                   f"({first.purpose}).")
    return _yes(id, "every Entra Connect flow passes: AD reads on 389 (+88, 53, RPC for hash "
                    "sync), cloud writes on 443 outbound.")


def _ports(value: Any) -> set[int]:
    out: set[int] = set()
    for w in (value if not isinstance(value, (str, int, range)) else [value]):
        if isinstance(w, range):
            out.update(w)
        elif isinstance(w, str):
            for part in _words(w):
                low, _, high = part.partition("-")
                out.update(range(int(low), int(high or low) + 1))
        else:
            out.add(int(w))
    return out


@_exercise("12.3", "Name an attribute the DC returned for Administrator on 389 that a Windows "
                   "Global Catalog (3268) would leave out.", "recall")
def check_gc_only(lab: dict[str, Any], answer: Any) -> Verdict:
    """An attribute returned on 389 that is not in the partial attribute set (``lab``: what
    :func:`ldapnb.teach.adlab.dc_answers` returned, live or the recording)."""
    id = "12.3"
    gc = lab["global_catalog"]
    pas = {a.lower() for a in gc["partial attribute set"]}
    on_389 = {a.lower(): a for a in gc["389"]["attributes"]}
    name = _text(answer).lower()
    if name in on_389 and name not in pas:
        return _yes(id, f"{on_389[name]} is not in the partial attribute set "
                        "(isMemberOfPartialAttributeSet is not TRUE in its schema entry).")
    if name in pas:
        return _no(id, f"{answer!r} is in the partial attribute set: the GC has it.",
                   "compare the 389 attributes with lab['global_catalog']"
                   "['partial attribute set'].")
    return _no(id, f"{answer!r} was not returned on 389.",
               "pick one of lab['global_catalog']['389']['attributes'].")
