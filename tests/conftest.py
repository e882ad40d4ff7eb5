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
#: lane's tests go to one xdist worker (the Makefile runs ``--dist loadgroup``), so a session
#: fixture starts once, not once per worker.  ``make test-fast`` leaves both out.
SHARED_SESSION_LANES = ("samba", "browser")
#: Of those, the lanes that are slow as a whole: ``make test`` leaves them to
#: ``make test-slow`` (``.ci/run`` runs both).  The Samba lane is not one of them: its DC is
#: made in about 20 s and its tests take a second or two each; its few long tests (the
#: 3,000-user generated domain) are marked ``slow`` one by one.
SLOW_LANES = ("browser",)
#: The fixtures of conftest_samba: a test using one (directly or through another fixture)
#: is in the samba lane even if not marked, so the session's DC is made on one worker only.
SAMBA_FIXTURES = frozenset({"samba_template", "samba_copy", "samba_contoso"})
#: A property test asking hypothesis for this many examples or more takes seconds: slow lane.
SLOW_EXAMPLES = 500


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        wanted = getattr(getattr(item, "obj", None), "_hypothesis_internal_use_settings", None)
        if (getattr(wanted, "max_examples", 0) >= SLOW_EXAMPLES
                and item.get_closest_marker("slow") is None):
            item.add_marker(pytest.mark.slow)
        if (SAMBA_FIXTURES & set(getattr(item, "fixturenames", ()))
                and item.get_closest_marker("samba") is None):
            item.add_marker(pytest.mark.samba)
        for lane in SHARED_SESSION_LANES:
            if item.get_closest_marker(lane) is None:
                continue
            if lane in SLOW_LANES and item.get_closest_marker("slow") is None:
                item.add_marker(pytest.mark.slow)
            if item.get_closest_marker("xdist_group") is None:
                item.add_marker(pytest.mark.xdist_group(lane))
        _group_suffix(config, item)


def _group_suffix(config: pytest.Config, item: pytest.Item) -> None:
    """``--dist loadgroup`` keeps a group on one worker by the ``@group`` suffix that xdist's
    worker adds to each nodeid; pytest-xdist 3.8 writes it to ``item._nodeid``, which pytest 9
    no longer reads (its nodeid is ``item._id``), so every group is split over the workers.
    Under pytest 9, the suffix is set here (xdist's own write then changes nothing)."""
    if not getattr(config.option, "loadgroup", False) or not hasattr(item, "_id"):
        return
    names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                    for m in item.iter_markers("xdist_group")})
    if names and "@" not in item.nodeid.rsplit("]", 1)[-1]:
        from _pytest.nodeid import coerce_node_id

        item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(names)}")

