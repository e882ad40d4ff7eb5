"""The package as a whole: its public names, its import cost, its style."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import ldapnb

ROOT = Path(__file__).resolve().parents[1]


def test_all_lists_exactly_the_public_names() -> None:
    public = {n for n in vars(ldapnb) if not n.startswith("_")} - {
        # submodules that importing ldapnb's own modules binds on the package
        "directory", "entry", "errors", "sources", "schema", "dn", "filters", "matching",
        "frames", "passwords", "ldif"}
    assert set(ldapnb.__all__) - {"__version__"} == public
    assert all(hasattr(ldapnb, n) for n in ldapnb.__all__)


def test_every_error_is_an_ldapnb_error() -> None:
    errors = [getattr(ldapnb, n) for n in ldapnb.__all__
              if isinstance(getattr(ldapnb, n), type)
              and issubclass(getattr(ldapnb, n), BaseException)]
    assert len(errors) >= 14
    assert all(issubclass(e, ldapnb.LdapnbError) for e in errors)


def test_ruff_is_clean() -> None:
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "ldapnb", "tests",
                           "benchmarks", "scripts"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
