"""No bind password on the ldap3 connections ldapnb hands out (embedded and live): not in
``repr``/``str``, ``vars`` (followed into the strategy and server), ``conn.request``,
``conn.last_error``, nor the DEBUG logs of ``ldapnb`` and ``ldap3`` (ldap3's most detailed
log level).  And ``LiveSource.modify_dn`` derives the new DN with ldapnb.dn, escapes and all.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from ldap3.utils.log import EXTENDED, OFF, set_library_log_detail_level

from ldapnb import Directory
from ldapnb.sources.live import LiveSource

PLANTED = "Planted-s3cret-Pw!"
LDIF = f"""dn: dc=sec,dc=test
objectClass: dcObject
objectClass: organization
dc: sec
o: Sec

dn: ou=People,dc=sec,dc=test
objectClass: organizationalUnit
ou: People

dn: uid=planted,ou=People,dc=sec,dc=test
objectClass: inetOrgPerson
uid: planted
cn: Planted
sn: P
userPassword: {PLANTED}

dn: cn=Smith\\, John,ou=People,dc=sec,dc=test
objectClass: inetOrgPerson
cn: Smith, John
sn: Smith
"""
USER = "uid=planted,ou=People,dc=sec,dc=test"


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setLevel(logging.DEBUG)
    loggers = [logging.getLogger(n) for n in ("ldapnb", "ldap3")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.addHandler(handler)
    set_library_log_detail_level(EXTENDED)
    try:
        yield out
    finally:
        set_library_log_detail_level(OFF)
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)


def _reachable(obj: Any, depth: int = 3, seen: set[int] | None = None) -> Iterator[Any]:
    """``obj`` and what its ``vars`` (and containers) lead to, a few levels deep."""
    seen = set() if seen is None else seen
    if id(obj) in seen or depth < 0:
        return
    seen.add(id(obj))
    yield obj
    if isinstance(obj, dict):
        children = list(obj.values())
    elif isinstance(obj, list | tuple | set):
        children = list(obj)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        children = list(vars(obj).values())
    else:
        return
    for child in children:
        yield from _reachable(child, depth - 1, seen)


def _assert_no_secret(conn: Any, logs: io.StringIO, *, just_bound: bool = True) -> None:
    assert conn.bound
    assert PLANTED not in repr(conn) and PLANTED not in str(conn)
    assert PLANTED not in repr(conn.request) and PLANTED not in str(conn.last_error)
    leaks = [type(o).__name__ for o in _reachable(conn)
             if isinstance(o, str | bytes) and PLANTED in (o if isinstance(o, str)
                                                          else o.decode("latin-1"))]
    assert leaks == []
    if just_bound:
        assert "bindRequest" in repr(conn.request)  # the request is there, masked
    assert len(logs.getvalue()) > 0 and PLANTED not in logs.getvalue()


def test_embedded_connection_forgets_the_password(logs: io.StringIO, tmp_path: Any) -> None:
    path = tmp_path / "sec.ldif"
    path.write_text(LDIF, encoding="utf-8")
    d = Directory.from_ldif(path)
    conn = d.connection(USER, PLANTED)
    _assert_no_secret(conn, logs)
    conn.search("dc=sec,dc=test", "(uid=planted)", attributes=["cn"])
    assert conn.entries and PLANTED not in repr(conn.request)
    conn.rebind(USER, PLANTED)  # rebind forgets it too
    _assert_no_secret(conn, logs)


@pytest.fixture
def server(slapd_factory: Any) -> Any:
    return slapd_factory(LDIF, memberof=False)


def test_live_connections_forget_the_password(server: Any, logs: io.StringIO) -> None:
    d = Directory.connect(server.urls["ldaps"], USER, PLANTED, ca_file=server.ca_file)
    try:
        assert len(d.search("(uid=planted)")) == 1
        _assert_no_secret(d.source._conn, logs, just_bound=False)
        handed = d.connection(USER, PLANTED)
        _assert_no_secret(handed, logs)
        handed.unbind()
    finally:
        d.close()


def test_modify_dn_new_dn_with_an_escaped_comma(server: Any) -> None:
    source = LiveSource(server.urls["ldaps"], user=server.rootdn, password=server.rootpw,
                        ca_file=server.ca_file, writable=True)
    try:
        new = source.modify_dn("cn=Smith\\, John,ou=People,dc=sec,dc=test", "cn=John Smith")
        assert new == "cn=John Smith,ou=People,dc=sec,dc=test"
        assert source.get(new, ["cn"]).first("cn") in ("John Smith", "Smith, John")
    finally:
        source.close()
