"""ldapnb against a hostile LDAP server: every misbehaviour of ``hostile_cases.py`` pointed at every
public way in (``Directory.connect`` with a bind, ``search``, ``entries``, ``search_chunks``,
``snapshot``, ``ldapnb.diagnose``, and ldap3's own search path through the rootDSE read).

Each case must end, within :data:`BOUND` seconds, in a typed :class:`~ldapnb.errors.LdapnbError`
or in the correct answer (the server's three entries), leaving no snapshot file behind; never
an untyped exception, never a hang, never a short or corrupt answer returned as complete.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from hostile_cases import CASES, Case
from hostile_server import BASE, ENTRIES, HostileServer

from ldapnb import Directory
from ldapnb.diagnose import diagnose
from ldapnb.errors import LdapnbError

#: Seconds ldapnb may wait for one answer (``timeout=``): connect, bind, one page, a read.
TIMEOUT = 0.25
#: Seconds a whole search (all its pages) may wait for the server (``search_timeout=``).
SEARCH_TIMEOUT = 0.6
#: Every case must be over within this many seconds, whatever the server does.
BOUND = 2 * TIMEOUT + SEARCH_TIMEOUT + 1.5
#: The correct answer to ``(objectClass=*)`` under BASE.
EXPECTED = sorted(dn.lower() for dn, _ in ENTRIES)
OPTIONS: dict[str, Any] = {"timeout": TIMEOUT, "search_timeout": SEARCH_TIMEOUT, "page_size": 2}

#: target -> the request kind the server misbehaves on
TARGETS = {
    "connect": "bind",
    "search": "search",
    "entries": "search",
    "search_chunks": "search",
    "snapshot": "search",
    "diagnose": "rootdse",
    "rootdse": "rootdse",  # Directory.search, misbehaving on the rootDSE read (ldap3's path)
}


def _connect(server: HostileServer, **extra: Any) -> Directory:
    return Directory.connect(server.url, **OPTIONS, **extra)


#: what a DataFrame's attrs said (referrals are noted there, not warned about)
NOTES: list[str] = []


def run_target(target: str, server: HostileServer, tmp_path: Path) -> Any:
    """Run ``target`` against ``server``; returns the answer, checked by :func:`check`."""
    if target == "connect":
        d = Directory.connect(server.url, user=f"cn=admin,{BASE}", password="secret",
                              allow_cleartext=True, **OPTIONS)
        d.close()
        return "bound"
    if target == "diagnose":
        return diagnose(server.url, timeout=TIMEOUT)
    d = _connect(server)
    try:
        if target in ("search", "rootdse"):
            df = d.search("(objectClass=*)")
            NOTES.extend(df.attrs.get("warnings", []))
            return sorted(df["dn"].str.lower())
        if target == "entries":
            got = list(d.entries("(objectClass=*)"))
            NOTES.extend(f"referral {r}" for r in d.source.referrals)  # the search's metadata
            for e in got:  # values come back intact, not only the DNs
                want = dict(next(a for dn, a in ENTRIES if dn.lower() == e.dn.lower()))
                assert sorted(e["cn" if "cn" in want else "dc"]) == \
                    sorted(v.decode() for v in want["cn" if "cn" in want else "dc"])
            return sorted(e.dn.lower() for e in got)
        if target == "search_chunks":
            frames = list(d.search_chunks("(objectClass=*)", page_size=2))
            for frame in frames:
                NOTES.extend(frame.attrs.get("warnings", []))
            return sorted(dn.lower() for frame in frames for dn in frame["dn"])
        if target == "snapshot":
            info = d.snapshot(tmp_path / "snap.ldif", progress=False)
            NOTES.extend(f"referral {r}" for r in d.source.referrals)
            written = Directory.from_snapshot(tmp_path / "snap.ldif")
            assert info["entries"] == len(EXPECTED)
            return sorted(e.dn.lower() for e in written.entries(base=BASE))
    finally:
        d.close()
    raise AssertionError(target)


def check(target: str, answer: Any) -> bool:
    """True when ``answer`` is the correct answer for ``target``; raises when it is wrong."""
    if target == "connect":
        return answer == "bound"
    if target == "diagnose":
        step = answer["rootDSE (anonymous)"]
        if step.status == "pass":
            assert BASE in step.detail, step.detail  # read right, or not at all
            return True
        if step.status == "skip":  # an earlier step (TCP, TLS) already reported the failure
            assert any(s.status == "fail" for s in answer.steps), answer
            return False
        assert step.status in ("fail", "warn"), step
        assert step.detail
        return False  # the doctor reported the problem (it never raises)
    assert answer == EXPECTED, f"a wrong answer returned as complete: {answer}"
    return True


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_server(case: Case, target: str, tmp_path: Path) -> None:
    expected = case.expected(target)
    with HostileServer(case.misbehave or (lambda s, r: s.normal(r)), phase=TARGETS[target],
                       on_connect=case.on_connect, lifetime=BOUND + 5) as server:
        began = time.monotonic()
        NOTES.clear()
        error: BaseException | None = None
        answer = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                answer = run_target(target, server, tmp_path)
            except LdapnbError as exc:
                error = exc
        took = time.monotonic() - began
    assert took < BOUND, f"{case.name} on {target}: {took:.1f} s (bound {BOUND} s)"
    leftovers = [p.name for p in tmp_path.iterdir()]
    if error is not None:
        assert leftovers == [], f"files left after an error: {leftovers}"
        assert str(error), "an error must say what went wrong"
        assert expected in ("error", "either"), \
            f"{case.name} on {target}: expected the correct answer, got {error!r}"
        return
    correct = check(target, answer)
    if target == "diagnose":
        if expected == "error":
            assert not correct, f"{case.name}: diagnose passed the rootDSE step"
        elif expected == "ok":
            assert correct, f"{case.name}: diagnose failed the rootDSE step"
        return
    assert expected in ("ok", "either"), \
        f"{case.name} on {target}: expected a typed error, got the answer {answer!r}"
    assert correct
    if case.warns and target in ("search", "entries", "search_chunks", "snapshot"):
        said = [str(w.message) for w in caught] + NOTES
        assert any("referr" in text for text in said), "referral not reported"


def test_there_are_at_least_40_misbehaviours() -> None:
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)


#: the classes that attack how an answer is decoded (the others attack searches, or time,
#: which the matrix above covers on every phase)
DECODING = ("garbage", "message id", "wrong type", "truncation", "length", "nesting",
            "unsolicited", "result")


@pytest.mark.parametrize("case", [c for c in CASES if c.kind in DECODING],
                         ids=[c.name for c in CASES if c.kind in DECODING])
def test_hostile_extended_response(case: Case) -> None:
    """The decoding misbehaviours as the answer to StartTLS (an extended operation): this
    server cannot do TLS, so the only right outcome is a typed error, in time."""
    with HostileServer(case.misbehave or (lambda s, r: s.normal(r)), phase="extended",
                       on_connect=case.on_connect, offer_starttls=True,
                       lifetime=BOUND + 5) as server:
        began = time.monotonic()
        with pytest.raises(LdapnbError) as info:
            Directory.connect(server.url, start_tls=True, timeout=TIMEOUT)
        took = time.monotonic() - began
    assert str(info.value)
    assert took < BOUND, f"{case.name}: {took:.1f} s (bound {BOUND} s)"
