"""pytest plugin: a real Samba AD DC for tests, provisioned once per session.

Register it in ``tests/conftest.py`` (``pytest_plugins = [..., "conftest_samba"]``).  Then::

    def test_users(samba_contoso):        # a running DC loaded with contoso (shared, read-only)
        ...  # samba_contoso.urls, .ca_file, .realm, .admin_user, .admin_password

    def test_write(samba_copy):           # a private copy, started from the template (~2 s)
        dc = samba_copy()

Provisioning and loading contoso takes ~15 s, once: the folder is a *template*
(:meth:`SambaDC.prepare`), and every DC of the session is a copy of it started on its own
loopback address.  A packet capture (``dumpcap`` on every non-loopback interface, port 53)
runs from before the provisioning to the end of ``tests/test_samba.py``, which checks that no
DNS query about the test domain or a loopback address left the machine.

There is no skip: without Samba these fixtures raise ``DirectoryUnavailable`` saying how to
install it, so the tests fail (as they must under ``CI=true``).  When a test failed, the
DCs' folders are kept and their paths printed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ldapnb.sources.samba import SambaDC


class DnsWatch:
    """``dumpcap`` capturing port 53 on every non-loopback interface that is up."""

    def __init__(self, folder: Path):
        self.file = folder / "dns.pcapng"
        self.interfaces = [p.name for p in Path("/sys/class/net").iterdir()
                           if p.name != "lo" and
                           (p / "operstate").read_text().strip() in ("up", "unknown")]
        self.process: subprocess.Popen[bytes] | None = None
        self.problem = ""
        dumpcap = shutil.which("dumpcap")
        if dumpcap is None:
            self.problem = "dumpcap is not installed (apt-get install tshark)"
            return
        if not self.interfaces:
            return  # nothing but loopback: no packet can leave
        command = [dumpcap, "-q", "-f", "port 53", "-w", str(self.file)]
        for name in self.interfaces:
            command[1:1] = ["-i", name]
        log = folder / "dumpcap.log"
        with open(log, "wb") as err:
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err,
                                            start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not self.file.exists():
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        if not self.file.exists():
            self.problem = f"dumpcap did not start: {log.read_text(errors='replace').strip()}"
        else:
            time.sleep(0.5)  # the capture is armed a moment after the file appears

    def stop(self) -> list[str]:
        """Stop capturing; the DNS query names seen (one per packet, '' when not a query)."""
        if self.process is not None and self.process.poll() is None:
            time.sleep(0.5)
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self.file.exists():
            return []
        done = subprocess.run(["tshark", "-r", str(self.file), "-T", "fields",
                               "-e", "dns.qry.name"], capture_output=True, text=True)
        return done.stdout.splitlines()


@pytest.fixture(scope="session")
def dns_watch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsWatch]:
    watch = DnsWatch(tmp_path_factory.mktemp("dns-watch"))
    yield watch
    watch.stop()


@pytest.fixture(scope="session")
def samba_template(dns_watch: DnsWatch,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A provisioned Samba domain loaded with contoso, stopped: copy it, never start it.

    It is made in a session cache (``LDAPNB_SAMBA_CACHE``, set for the session, so that
    ``ldapnb samba contoso`` run by a test copies it too instead of provisioning again).
    """
    cache = tmp_path_factory.mktemp("samba-cache")
    patch = pytest.MonkeyPatch()
    patch.setenv("LDAPNB_SAMBA_CACHE", str(cache))
    began = time.perf_counter()
    dc = SambaDC("contoso")
    folder = dc.cached_template()
    timing = os.environ.get("LDAPNB_SAMBA_TIMINGS")
    if timing:
        with open(timing, "a", encoding="utf-8") as out:
            report = dc.report
            out.write(f"provision {dc.provisioned_in:.1f} s, load "
                      f"{report.seconds if report else 0:.1f} s, template "
                      f"{time.perf_counter() - began:.1f} s\n")
    yield folder
    patch.undo()


SambaCopy = Callable[..., SambaDC]


@pytest.fixture(scope="session")
def samba_copy(samba_template: Path, request: pytest.FixtureRequest) -> Iterator[SambaCopy]:
    """``factory(**options) -> SambaDC``: a new running DC copied from the template."""
    started: list[SambaDC] = []

    def factory(**options: object) -> SambaDC:
        dc = SambaDC.from_template(samba_template, **options)  # type: ignore[arg-type]
        started.append(dc)
        return dc.start()

    yield factory
    failed = request.session.testsfailed > 0
    for dc in started:
        if failed:
            dc.keep = True
        dc.stop()


@pytest.fixture(scope="session")
def samba_contoso(samba_copy: SambaCopy) -> SambaDC:
    """The session's shared DC loaded with contoso: read-only by convention."""
    return samba_copy()
