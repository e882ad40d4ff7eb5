"""pytest plugin: real OpenLDAP slapd servers for tests, one per LDIF and options per session.

Register it in ``tests/conftest.py`` with ``pytest_plugins = ["conftest_slapd"]``.  Then::

    def test_people(slapd_factory):
        server = slapd_factory(CORPORA / "test.ldif", schemas=OPENLDAP_SCHEMAS)
        ...  # server.urls, server.ca_file, server.rootdn, server.rootpw

    def test_example(slapd_example):   # test.ldif from OpenLDAP's test suite
        ...

A server is started on first use and shared by every later test asking for the same LDIF and
options; one that a test killed is started afresh.  Shared servers are read-only by
convention: a test that writes, or kills the server, should start its own ``Slapd``.  When any
test failed, the folders (configuration, database, log) are kept and their paths printed.

There is no skip: without slapd installed, these fixtures raise ``DirectoryUnavailable``
saying how to install it, so the tests fail (as they must under ``CI=true``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ldapnb.sources.slapd import DEFAULT_SCHEMAS, Slapd

#: OpenLDAP's test-suite corpora (beside the repository, in ../shared/corpora).
CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "openldap"

#: test.ldif uses OpenLDAPperson, defined in OpenLDAP's own openldap.schema (from the system).
OPENLDAP_SCHEMAS: tuple[str, ...] = (*DEFAULT_SCHEMAS, "openldap")

SlapdFactory = Callable[..., Slapd]


def _key(ldif: str | os.PathLike[str], options: dict[str, Any]) -> tuple[str, str]:
    source = ldif if isinstance(ldif, str) and "\n" in ldif else str(Path(ldif).resolve())
    return source, repr(sorted(options.items()))


@pytest.fixture(scope="session")
def slapd_factory(request: pytest.FixtureRequest) -> Iterator[SlapdFactory]:
    """``factory(ldif, **options) -> Slapd``: a running slapd loaded with ``ldif``, shared.

    ``options`` are :class:`~ldapnb.sources.slapd.Slapd`'s keyword arguments.
    """
    servers: dict[tuple[str, str], Slapd] = {}

    def factory(ldif: str | os.PathLike[str], **options: Any) -> Slapd:
        key = _key(ldif, options)
        server = servers.get(key)
        if server is None or not server.running:
            if server is not None:
                server.stop()
            server = servers[key] = Slapd(ldif, **options).start()
        return server

    yield factory

    failed = request.session.testsfailed > 0
    for server in servers.values():
        if failed:
            server.keep = True
        server.stop()
        if failed and server.folder is not None:
            print(f"\nslapd folder kept (tests failed): {server.folder}")


@pytest.fixture
def slapd_example(slapd_factory: SlapdFactory) -> Slapd:
    """A running slapd loaded with OpenLDAP's test.ldif (suffix ``dc=example,dc=com``).

    Function-scoped but cheap: the server itself is the session's shared one.
    """
    return slapd_factory(CORPORA / "test.ldif", schemas=OPENLDAP_SCHEMAS)
