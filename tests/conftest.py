"""Shared test fixtures.  Real parts only: a real slapd (conftest_slapd), real fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

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
