"""Shared test fixtures.  Real parts only: a real slapd (conftest_slapd), real fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests: repeatable under `make test` (the same cases every run), fresh random cases
# and bigger budgets under `make fuzz` (LDAPNB_FUZZ=<factor>, see tests/test_properties.py).
settings.register_profile("ci", derandomize=True, database=None, deadline=None)
settings.register_profile("fuzz", derandomize=False, deadline=None)
settings.load_profile("fuzz" if os.environ.get("LDAPNB_FUZZ") else "ci")

pytest_plugins = ["conftest_slapd", "conftest_samba"]

#: OpenLDAP's test-suite LDIF files, beside the repository (../shared/corpora).
CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


@pytest.fixture
def example():
    """A fresh embedded copy of the default teaching directory (like sqlite-utils' fresh_db)."""
    from ldapnb import Directory

    return Directory.embedded()


@pytest.fixture
def contoso():
    from ldapnb import Directory

    return Directory.embedded("contoso")


#: Lanes whose tests share one expensive session (a Samba DC; JupyterLab and chromium): each
#: lane's tests go to one xdist worker (``make test`` runs ``--dist loadgroup``), so a session
#: fixture starts once, not once per worker; and they are slow (``make test-fast`` leaves them).
SHARED_SESSION_LANES = ("samba", "browser")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for lane in SHARED_SESSION_LANES:
            if item.get_closest_marker(lane) is None:
                continue
            if item.get_closest_marker("slow") is None:
                item.add_marker(pytest.mark.slow)
            if item.get_closest_marker("xdist_group") is None:
                item.add_marker(pytest.mark.xdist_group(lane))
