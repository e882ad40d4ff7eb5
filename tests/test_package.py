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


def test_ruff_is_clean() -> None:
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "ldapnb", "tests",
                           "benchmarks", "scripts"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]


def test_top_level_fixtures_is_the_bundled_data() -> None:
    # the design card's top level: fixtures/ holds (a link to) the bundled data sets
    top = ROOT / "fixtures"
    assert (top / "contoso.ldif").is_file()
    assert (top / "contoso.ldif").read_bytes() == (ROOT / "ldapnb" / "fixtures" /
                                                   "contoso.ldif").read_bytes()
    from ldapnb import Directory

    assert len(Directory.from_ldif(top / "tiny.ldif")) == 11
