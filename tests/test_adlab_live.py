"""The AD lessons' exchanges: live from a private Samba AD DC where one can start, the shipped
recording otherwise, and the student told which (``ldapnb.teach.adlab.dc_answers``).

The live tests are ``samba``: without Samba they fail (``LDAPNB_LIVE_SAMBA=1`` makes a DC
that cannot start an error), as the Samba fixtures of ``conftest_samba`` do.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ldapnb.errors import DirectoryUnavailable
from ldapnb.teach import adlab


@pytest.fixture(scope="module")
def samba_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The session's template cache when one is set (conftest_samba sets it), else one of
    this module's: the empty CONTOSO.TEST domain is provisioned once, then copied."""
    given = os.environ.get("LDAPNB_SAMBA_CACHE")
    yield Path(given) if given else tmp_path_factory.mktemp("adlab-samba-cache")


def test_zero_forces_the_recording_and_says_so(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LDAPNB_LIVE_SAMBA", "0")
    monkeypatch.setenv("CI", "true")        # the explicit 0 wins, even in CI
    began = time.perf_counter()
    got = adlab.dc_answers()
    assert time.perf_counter() - began < 1.0           # nothing was started
    shown = capsys.readouterr().out
    assert got["live"] is False and "LDAPNB_LIVE_SAMBA=0" in got["why"]
    assert shown.startswith("RECORDING, because LDAPNB_LIVE_SAMBA=0 asks for the recording")
    shipped = adlab.recording()
    assert shipped["how"] in shown and "Recorded 20" in shown   # the recording's own story
    assert {k: v for k, v in got.items() if k not in ("live", "why", "source")} == shipped
    assert "timings" not in got


def test_a_value_that_is_neither_yes_nor_no_is_refused() -> None:
    with pytest.raises(ValueError, match="LDAPNB_LIVE_SAMBA='maybe'"):
        adlab.live_choice({"LDAPNB_LIVE_SAMBA": "maybe"})


def test_ci_or_one_require_the_live_dc() -> None:
    assert adlab.live_choice({"CI": "true"}).required
    assert adlab.live_choice({"LDAPNB_LIVE_SAMBA": "1"}).required
    assert not adlab.live_choice({}).required
    assert not adlab.live_choice({"CI": "true", "LDAPNB_LIVE_SAMBA": "0"}).required


@pytest.mark.samba
def test_a_dc_that_cannot_start_falls_back_visibly_or_fails_when_required(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A real failure to start: the template cache is a file, not a folder."""
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    monkeypatch.setenv("LDAPNB_SAMBA_CACHE", str(blocked))
    monkeypatch.delenv("LDAPNB_LIVE_SAMBA", raising=False)
    monkeypatch.delenv("CI", raising=False)
    assert adlab.live_choice().live, adlab.live_choice().reason   # Samba can run here
    got = adlab.dc_answers()
    assert got["live"] is False and "did not start" in got["why"]
    assert capsys.readouterr().out.startswith("RECORDING, because the private Samba DC did "
                                              "not start")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(DirectoryUnavailable, match=r"required \(CI=true\)"):
        adlab.dc_answers()


@pytest.mark.samba
def test_live_answers_have_the_recordings_shape_and_facts(
        samba_cache: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LDAPNB_SAMBA_CACHE", str(samba_cache))
    monkeypatch.setenv("LDAPNB_LIVE_SAMBA", "1")   # a DC that cannot start fails this test
    live = adlab.dc_answers()
    shown = capsys.readouterr().out
    print("live DC timings (s):", live["timings"])
    assert live["live"] is True and live["why"] == "" and shown.startswith("LIVE: Recorded just")
    assert set(live["timings"]) >= {"template", "start", "record"}
    shipped = adlab.recording()
    assert set(live) == set(shipped) | {"live", "why", "source", "timings"}
    assert live["realm"] == shipped["realm"] and live["setting"] == shipped["setting"]
    # the same exchanges, in the same order, with the same keys and the same answers
    assert [e["title"] for e in live["exchanges"]] == [e["title"] for e in shipped["exchanges"]]
    for mine, theirs in zip(live["exchanges"], shipped["exchanges"], strict=True):
        assert set(mine) == set(theirs)
        assert mine["result"] == theirs["result"], mine["title"]
    simple = live["exchanges"][0]
    assert (simple["port"], simple["result"], simple["description"]) == \
        (389, 8, "strongerAuthRequired")                  # a simple bind on plain 389
    assert "Transport encryption required" in simple["message"]
    assert [e["result"] for e in live["exchanges"][1:3]] == [0, 0]     # StartTLS, LDAPS
    assert "SASL SSF: 256" in live["exchanges"][3]["output"]
    unsigned = [e for e in live["exchanges"] if "maxssf=0" in e["command"]]
    assert [e["result"] for e in unsigned] == [8, 0]     # refused on 389, accepted in TLS
    gc, old = live["global_catalog"], shipped["global_catalog"]
    assert set(gc) == set(old) and set(gc["389"]) == set(old["389"])
    assert set(gc["partial attribute set"]) == set(old["partial attribute set"])
    assert "memberOf" in gc["389"]["attributes"]          # AD returns memberOf with '*'
    assert set(gc["3268"]["attributes"]) == set(gc["389"]["attributes"])  # Samba: no PAS filter
    assert set(live["dns"]) == set(shipped["dns"])
    assert live["dig"][0]["output"].endswith(f"389 dc1.{shipped['domain']}.")
    netlogon = adlab.decode_netlogon(bytes.fromhex(live["cldap"]["answer"]))
    assert netlogon["dc host"] == f"dc1.{shipped['domain']}" and netlogon["opcode"] == 23
    assert {"LDAP", "GC (Global Catalog)"} <= set(netlogon["flag names"])
    # what the DC enforces that an LDIF loader does not (lesson 10)
    dup = live["ad_rules"]["duplicate_sam"]
    assert [(a["result"], a["description"]) for a in dup] == \
        [(0, "success"), (68, "entryAlreadyExists")] == \
        [(a["result"], a["description"]) for a in shipped["ad_rules"]["duplicate_sam"]]
    group = live["ad_rules"]["primary_group"]
    assert group["in_chain"] == 0 and group["primary_group"] >= 2   # Administrator, krbtgt...
    with adlab.DnsReplay({k: bytes.fromhex(v) for k, v in live["dns"].items()}) as dns:
        step = adlab.srv_step(shipped["domain"], dns.host, port=dns.port)
    assert step.status == "pass" and f"dc1.{shipped['domain']}" in step.detail
    # a second lesson copies the cached template: about a second, no provisioning
    again = adlab.dc_answers(show=False)
    assert again["timings"]["provisioned"] is False and again["timings"]["start"] < 10
    assert again["ip"] != "" and again["exchanges"][0]["result"] == 8


def test_the_template_cache_is_the_one_ldapnb_samba_uses(monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    from ldapnb.sources.samba import default_cache

    monkeypatch.delenv("LDAPNB_SAMBA_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache() == tmp_path / "ldapnb" / "samba"
    monkeypatch.setenv("LDAPNB_SAMBA_CACHE", str(tmp_path / "mine"))
    assert default_cache() == tmp_path / "mine"
