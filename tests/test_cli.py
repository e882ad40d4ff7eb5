"""The `ldapnb` command: help texts, exit codes, snapshot, diagnose, slapd, lab."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trustme

from ldapnb import Directory, cli, snapshot
from ldapnb.directory import fixture_path

COMMANDS = {
    "lab": ["--no-browser", "--port", "--lessons", "--copy-only"],
    "slapd": ["FIXTURE_OR_LDIF", "--schema", "--no-tls", "--show-password"],
    "samba": ["FIXTURE_OR_LDIF", "--no-passwords", "--keep", "--show-password"],
    "snapshot": ["--output", "--base", "--filter", "--attributes", "--include-secrets"],
    "diagnose": ["URL", "--ca-file", "--user", "--password-file", "--timeout"],
    "audit": ["--output", "--fail-on", "--now"],
}


@dataclass
class Done:
    """What one ``ldapnb`` command did: its exit code and what it printed."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def ldapnb(capsys: pytest.CaptureFixture[str]) -> Callable[..., Done]:
    """``ldapnb(*args) -> Done``: the command run in this process (``cli.main``), as the
    ``ldapnb`` script runs it: argparse's ``SystemExit`` (``--help``, usage errors) becomes
    the exit code.  One subprocess test (``python -m ldapnb``) checks the real entry point."""

    def run(*args: str) -> Done:
        capsys.readouterr()  # only this command's output
        try:
            code = cli.main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
        out = capsys.readouterr()
        return Done(code, out.out, out.err)

    return run


def _subprocess(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ldapnb", *args], capture_output=True,
                          text=True, timeout=timeout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- help and exit codes -----------------------------------------------------------------------


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: ldapnb {command}" in out
    for option in COMMANDS[command]:
        assert option in out, option
    assert "130" in out and "server unreachable" in out  # exit codes in every help


def test_python_dash_m_help_lists_commands_and_exit_codes(tmp_path):
    """The one subprocess smoke test: the real entry point, its help and one real command."""
    done = _subprocess("--help")
    assert done.returncode == 0
    for command in COMMANDS:
        assert command in done.stdout
    for code in ("0 ", "1 ", "2 ", "3 ", "130"):
        assert f"\n  {code}" in done.stdout
    assert "Exit codes" in (cli.__doc__ or "")
    out = tmp_path / "tiny.ldif"
    done = _subprocess("snapshot", "tiny", "-q", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("wrote 11 entries to ") and done.stderr == ""
    assert len(list(snapshot.read(out))) == 11
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.ldif"]


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["snapshot", "contoso"])  # -o missing
    assert done.value.code == 2
    assert cli.main(["snapshot", "no-such-thing", "-o", "x.ldif"]) == 2
    assert "cannot tell what 'no-such-thing' is" in capsys.readouterr().err


def test_errors_are_one_line_without_traceback(tmp_path, ldapnb):
    done = ldapnb("snapshot", "embedded:contoso", "--filter", "(cn=", "-o",
                str(tmp_path / "x.ldif"))
    assert done.returncode == 2
    assert done.stderr.startswith("ldapnb: error: ") and "filter" in done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_interrupt_exits_130_and_leaves_no_file(tmp_path, monkeypatch, capsys):
    entries = list(fixture_path("tiny").read_text().split("\n\n"))
    assert entries  # the fixture exists

    def interrupted(directory):
        for i, e in enumerate(directory.entries()):
            if i == 3:
                raise KeyboardInterrupt
            yield e

    real_write = snapshot.write

    def write(d, path, **kw):
        return real_write(interrupted(d), path, progress=False)

    monkeypatch.setattr(snapshot, "write", write)
    assert cli.main(["snapshot", "tiny", "-o", str(tmp_path / "t.parquet")]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# -- snapshot ------------------------------------------------------------------------------------


def test_snapshot_embedded_to_parquet_and_back(tmp_path, ldapnb):
    out = tmp_path / "c.parquet"
    done = ldapnb("snapshot", "embedded:contoso", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "wrote 511 entries" in done.stdout and "userPassword" not in done.stdout
    assert "511/511" in done.stderr  # the progress bar
    meta = snapshot.metadata(out)
    assert meta["source"] == "embedded:contoso" and meta["entries"] == 511
    # the snapshot is itself a SOURCE
    ldif = tmp_path / "people.ldif"
    done = ldapnb("snapshot", str(out), "--filter", "(objectClass=user)", "--attributes",
                "cn,sAMAccountName", "-q", "-o", str(ldif))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # --quiet: no progress bar
    back = list(snapshot.read(ldif))
    assert back and all(set(e) <= {"cn", "sAMAccountName"} for e in back)


def test_snapshot_secrets_only_when_asked(tmp_path, ldapnb):
    out = tmp_path / "e.ldif"
    done = ldapnb("snapshot", "example", "-q", "-o", str(out))
    assert "(userPassword left out; --include-secrets keeps them)" in done.stdout
    assert b"\nuserPassword:" not in out.read_bytes()
    done = ldapnb("snapshot", "example", "-q", "--include-secrets", "-o", str(out))
    assert done.returncode == 0 and b"\nuserPassword:" in out.read_bytes()


def test_snapshot_of_a_live_slapd(tmp_path, slapd_factory, ldapnb):
    server = slapd_factory(fixture_path("tiny"))
    pw = tmp_path / "pw"
    pw.write_text(server.rootpw + "\n")
    out = tmp_path / "live.parquet"
    done = ldapnb("snapshot", server.urls["ldaps"], "--ca-file", str(server.ca_file), "--user",
                server.rootdn, "--password-file", str(pw), "-q", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert server.rootpw not in done.stdout + done.stderr
    dns = {e.dn.lower() for e in snapshot.read(out)}
    assert "dc=example,dc=com" in dns and len(dns) == 11


def test_snapshot_of_an_unreachable_server_exits_3(tmp_path, ldapnb):
    done = ldapnb("snapshot", f"ldaps://127.0.0.1:{_free_port()}", "-o", str(tmp_path / "x.ldif"))
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith("ldapnb: error:") and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


# -- diagnose ------------------------------------------------------------------------------------


def test_diagnose_exit_codes(tmp_path, slapd_factory, ldapnb):
    server = slapd_factory(fixture_path("tiny"))
    ok = ldapnb("diagnose", server.urls["ldaps"], "--ca-file", str(server.ca_file))
    assert ok.returncode == 0, ok.stdout
    assert "PASS  chain trusted" in ok.stdout and "all steps passed" in ok.stdout

    other = tmp_path / "other.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    untrusted = ldapnb("diagnose", server.urls["ldaps"], "--ca-file", str(other))
    assert untrusted.returncode == 1
    assert "FAIL  chain trusted" in untrusted.stdout and "unknown CA" in untrusted.stdout

    pw = tmp_path / "pw"
    pw.write_text("wrong password\n")
    refused = ldapnb("diagnose", server.urls["ldap"], "--ca-file", str(server.ca_file),
                   "--user", server.rootdn, "--password-file", str(pw))
    assert refused.returncode == 1 and "FAIL  bind" in refused.stdout

    closed = ldapnb("diagnose", f"ldaps://127.0.0.1:{_free_port()}", "--timeout", "2")
    assert closed.returncode == 3
    assert "firewall may block LDAPS" in closed.stdout and "SKIP" in closed.stdout


def test_diagnose_password_from_environment(slapd_factory, monkeypatch, ldapnb):
    server = slapd_factory(fixture_path("tiny"))
    monkeypatch.setenv("LDAPNB_PASSWORD", server.rootpw)
    done = ldapnb("diagnose", server.urls["ldaps"], "--ca-file", str(server.ca_file), "--user",
                  server.rootdn)
    assert done.returncode == 0, done.stdout
    assert "PASS  bind" in done.stdout and server.rootpw not in done.stdout


# -- audit -------------------------------------------------------------------------------------


def test_audit_writes_the_report_and_fails_on_high_findings(tmp_path, capsys):
    report = tmp_path / "r.html"
    # contoso's planted findings include high ones (fixtures README); the reference date
    assert cli.main(["audit", "contoso", "-o", str(report), "--now", "2026-11-01",
                     "--fail-on", "high"]) == 1
    out = capsys.readouterr()
    assert "findings written to" in out.out and "at high or above" in out.err
    assert "Domain Admins" in report.read_text(encoding="utf-8")
    csv = tmp_path / "r.csv"
    assert cli.main(["audit", "contoso", "-o", str(csv), "--now", "2026-11-01"]) == 0
    assert csv.read_text(encoding="utf-8").splitlines()[0].startswith("check,severity")


def test_audit_waivers_option_marks_and_stops_counting_waived_findings(tmp_path, capsys):
    import pandas as pd

    from ldapnb import audit

    high = audit.run(Directory.embedded("contoso"),
                     now=datetime(2026, 11, 1, tzinfo=UTC)).query("severity == 'high'")
    waivers = tmp_path / "w.toml"
    waivers.write_text("".join(
        f'[[waiver]]\nrule = "{c}"\nobject = "{o}"\nreason = "accepted for the test"\n'
        f'owner = "lead"\nexpires = 2027-01-01\n\n'
        for c, o in zip(high["check"], high["subject"], strict=True)))
    csv = tmp_path / "w.csv"
    assert cli.main(["audit", "contoso", "-o", str(csv), "--now", "2026-11-01",
                     "--waivers", str(waivers), "--fail-on", "high"]) == 0
    back = pd.read_csv(csv)
    assert back.loc[back["severity"] == "high", "waived"].all()
    assert not back.loc[back["severity"] != "high", "waived"].any()
    expired = tmp_path / "old.toml"
    expired.write_text('[[waiver]]\nrule = "dcsync"\nobject = "svc_scan"\nreason = "x"\n'
                       'owner = "lead"\nexpires = 2026-01-01\n')
    assert cli.main(["audit", "contoso", "-o", str(csv), "--now", "2026-11-01",
                     "--waivers", str(expired)]) == 0
    assert "waiver-expired" in set(pd.read_csv(csv)["check"])
    capsys.readouterr()


def test_audit_unknown_severity_is_a_usage_error(tmp_path, ldapnb):
    done = ldapnb("audit", "contoso", "-o", str(tmp_path / "r.csv"), "--fail-on", "critical")
    assert done.returncode == 2 and "invalid choice" in done.stderr


# -- slapd -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_slapd_serves_until_sigterm():
    """A real process: SIGTERM stops slapd and cleans up (what in-process tests cannot do)."""
    child = subprocess.Popen([sys.executable, "-m", "ldapnb", "slapd", "tiny"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    with child:
        try:
            lines = []
            assert child.stdout is not None
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                line = child.stdout.readline()
                if not line:
                    break
                lines.append(line)
                if "Press Ctrl-C" in line:
                    break
            out = "".join(lines)
            assert "ldap://127.0.0.1:" in out and "ldaps://127.0.0.1:" in out, out
            assert "CA file:" in out and "rootdn:    cn=admin,dc=example,dc=com" in out
            pw_file = Path(out.split("password:  in ")[1].split(" ")[0])
            assert pw_file.stat().st_mode & 0o777 == 0o600
            password = pw_file.read_text().strip()
            assert password and password not in out  # never printed without --show-password
            folder = pw_file.parent
            port = int(out.split("ldap://127.0.0.1:")[1].split()[0])
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                pass  # it serves
            began = time.monotonic()
            child.send_signal(signal.SIGTERM)
            code = child.wait(timeout=5)
            assert time.monotonic() - began < 5
            assert code == 0
            assert not folder.exists()  # cleaned up
            with pytest.raises(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
        finally:
            if child.poll() is None:  # only when an assertion above failed
                child.kill()


def test_slapd_with_a_missing_file_exits_2(tmp_path, ldapnb):
    done = ldapnb("slapd", str(tmp_path / "missing.ldif"))
    assert done.returncode == 2 and "no fixture or LDIF file" in done.stderr


# -- lab ---------------------------------------------------------------------------------------


def _lessons(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    nb = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (src / "00-welcome.ipynb").write_text(json.dumps(nb))
    (src / "01-first.ipynb").write_text(json.dumps(nb))
    (src / ".ipynb_checkpoints").mkdir()
    return src


def test_lab_copies_lessons_and_keeps_students_work(tmp_path, capsys):
    src = _lessons(tmp_path)
    dest = tmp_path / "lessons"
    dest.mkdir()
    (dest / "01-first.ipynb").write_text("my work")
    assert cli.main(["lab", str(dest), "--lessons", str(src), "--copy-only"]) == 0
    assert "1 copied, 1 already there kept" in capsys.readouterr().out
    assert (dest / "00-welcome.ipynb").is_file()
    assert (dest / "01-first.ipynb").read_text() == "my work"
    assert not (dest / ".ipynb_checkpoints").exists()


def test_lab_without_lessons_exits_2(tmp_path, capsys):
    assert cli.main(["lab", str(tmp_path / "d"), "--lessons", str(tmp_path / "none")]) == 2
    assert "no lessons found" in capsys.readouterr().err


@pytest.mark.slow
def test_lab_starts_jupyterlab_on_the_copy(tmp_path):
    src = _lessons(tmp_path)
    dest = tmp_path / "lessons"
    port = _free_port()
    env = dict(os.environ)
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR",
                "JUPYTERLAB_WORKSPACES_DIR", "IPYTHONDIR"):
        env[var] = str(tmp_path / var.lower())
    log = tmp_path / "lab.log"
    with open(log, "wb") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "ldapnb", "lab", str(dest), "--lessons", str(src),
             "--no-browser", "--port", str(port), "--", "--ServerApp.token=t0k",
             "--ServerApp.ip=127.0.0.1"],
            stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        listing = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and child.poll() is None:
            try:
                with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/api/contents?token=t0k", timeout=2) as r:
                    listing = json.load(r)
                break
            except OSError:
                time.sleep(0.3)
        assert listing is not None, log.read_text(errors="replace")
        names = {item["name"] for item in listing["content"]}
        assert names == {"00-welcome.ipynb", "01-first.ipynb"}
        child.send_signal(signal.SIGTERM)  # forwarded to JupyterLab, which stops
        assert child.wait(timeout=15) is not None
    finally:
        if child.poll() is None:  # an assertion failed: stop JupyterLab through ldapnb first
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def test_every_command_is_documented_in_the_readme(ldapnb):
    """Issue: every CLI command has --help text and is documented in the README."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    import argparse

    parser = cli._parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    commands = sorted(sub.choices)
    assert commands == ["audit", "diagnose", "lab", "samba", "slapd", "snapshot"]
    for command in commands:
        assert f"`ldapnb {command}" in readme, f"ldapnb {command} is not in the README"
        done = ldapnb(command, "--help")
        assert done.returncode == 0 and len(done.stdout) > 200, command
