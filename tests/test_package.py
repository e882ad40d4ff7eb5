"""The package as a whole: its public names, its import cost, its style."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import ldapnb

ROOT = Path(__file__).resolve().parents[1]


def test_all_lists_exactly_the_public_names() -> None:
    # in a fresh interpreter: other tests import submodules, which bind names on the package
    code = ("import json, ldapnb, types; print(json.dumps(sorted(n for n, v in "
            "vars(ldapnb).items() if not n.startswith('_') "
            "and not isinstance(v, types.ModuleType))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    public = set(json.loads(done.stdout))
    assert set(ldapnb.__all__) - {"__version__"} == public
    assert all(hasattr(ldapnb, n) for n in ldapnb.__all__)


def test_every_error_is_an_ldapnb_error() -> None:
    errors = [getattr(ldapnb, n) for n in ldapnb.__all__
              if isinstance(getattr(ldapnb, n), type)
              and issubclass(getattr(ldapnb, n), BaseException)]
    assert len(errors) >= 14
    assert all(issubclass(e, ldapnb.LdapnbError) for e in errors)


def test_ci_runs_lint_types_and_every_lane() -> None:
    """ruff and mypy run beside pytest in `make test` (not inside it: see the Makefile);
    `.ci/run` calls `make test`, then `make test-slow`, always both, and fails when either
    does; between them they select every test; `make test` fails when lint or types do;
    `make test-fast` leaves the slow lanes, Samba and the lessons out."""
    ci = (ROOT / ".ci" / "run").read_text()
    assert "\nmake test; suite=$?\nmake test-slow; slow=$?\n" in ci and "set -e" not in ci
    assert '[ "$suite" -eq 0 ] && [ "$slow" -eq 0 ]' in ci

    def plan(target: str) -> str:
        return subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout

    test = plan("test")
    assert "ruff check ldapnb tests benchmarks scripts" in test and "/mypy" in test
    [pytest_line] = [line for line in test.splitlines() if " -m pytest " in line]
    assert '-m "not slow"' in pytest_line and "--dist loadgroup" in pytest_line
    assert "[ $rc -eq 0 ] && [ $lrc -eq 0 ]" in test  # lint's exit code counts
    [slow_line] = [line for line in plan("test-slow").splitlines() if " -m pytest " in line]
    assert "-m slow" in slow_line and "--dist loadgroup" in slow_line
    assert '-m "not slow and not browser and not samba and not lessons"' in plan("test-fast")
    import tomllib

    markers = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"][
        "ini_options"]["markers"]
    assert {m.split(":")[0] for m in markers} >= {"slow", "browser", "samba", "slapd", "lessons"}


def test_top_level_fixtures_is_the_bundled_data() -> None:
    # the design card's top level: fixtures/ holds (a link to) the bundled data sets
    top = ROOT / "fixtures"
    assert (top / "contoso.ldif").is_file()
    assert (top / "contoso.ldif").read_bytes() == (ROOT / "ldapnb" / "fixtures" /
                                                   "contoso.ldif").read_bytes()
    from ldapnb import Directory

    assert len(Directory.from_ldif(top / "tiny.ldif")) == 11


def test_lanes_are_marked_and_kept_on_one_worker() -> None:
    """tests/conftest.py puts the `samba` and `browser` lanes each in one xdist group, marks the
    browser lane and big property tests `slow` (left to `make test-slow`), and leaves the Samba
    lane's short tests and the headless lessons in `make test` (`-m` selects by marker name, so
    a count shows the marks are there)."""
    def collected(marks: str, paths: str) -> int:
        done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0",
                               "-p", "no:cacheprovider", "-m", marks, *paths.split()], cwd=ROOT,
                              capture_output=True, text=True)
        assert done.returncode in (0, 5), done.stdout[-2000:] + done.stderr[-2000:]  # 5: none
        return sum("::" in line for line in done.stdout.splitlines())

    samba = collected("samba", "tests/test_samba.py tests/test_ad_samba.py")
    assert samba > 20
    assert collected("samba and xdist_group", "tests/test_samba.py tests/test_ad_samba.py") == samba
    # in make test: the Samba lane but its 3,000-user domain (two tests), and the lessons
    assert collected("samba and slow", "tests/test_samba.py tests/test_ad_samba.py") == 2
    assert collected("lessons and not slow and xdist_group", "tests/test_notebooks.py") > 13
    browser = collected("browser", "tests/browser")
    assert browser >= 13
    assert collected("browser and slow and xdist_group", "tests/browser") == browser
    # property tests asking hypothesis for >= 500 examples are slow too (test_dn has six)
    assert collected("slow", "tests/test_dn.py::test_parse_to_string_round_trip") == 1
    assert collected("not slow", "tests/test_dn.py::test_parse_to_string_round_trip") == 0

