"""The limits of issue 10 section 2, one by one: what each refuses, what it still allows, and
that the error names the limit and what to try.  Against the hostile server (tests/hostile)."""

from __future__ import annotations

import time

import pandas  # noqa: F401 - imported before any clock starts (a search imports them)
import pyarrow  # noqa: F401
import pytest
from hostile_cases import fresh_cookie_forever, repeated_cookie_forever
from hostile_server import (
    BASE,
    ENTRIES,
    SEARCH_DONE,
    SEARCH_REQUEST,
    HostileServer,
    Request,
    Session,
    entry,
    result,
)

from ldapnb import Directory
from ldapnb.errors import DirectoryUnavailable
from ldapnb.sources._budget import DEFAULT_MAX_MESSAGE_SIZE, Budget, check_ber
from ldapnb.sources._fastsearch import raw_search

EXPECTED = sorted(dn.lower() for dn, _ in ENTRIES)


def _trickle_03(s: Session, req: Request) -> None:
    s.trickle(s.answer(req), 0.3)  # the example: one byte every 0.3 s


@pytest.mark.parametrize("phase", ["search", "rootdse"])  # the fast reader, ldap3's reader
def test_a_trickle_is_stopped_by_the_answer_deadline_not_only_per_read(phase):
    with HostileServer(_trickle_03, phase=phase) as server:
        d = Directory.connect(server.url, timeout=1)
        began = time.monotonic()
        with pytest.raises(DirectoryUnavailable, match=r"within timeout=1 s") as info:
            d.search("(objectClass=*)")
        took = time.monotonic() - began
    assert took < 2.0  # each read came within 0.3 s: a per-read timeout would wait ~60 s
    assert "Raise timeout=" in str(info.value) and info.value.port == server.port


@pytest.mark.parametrize("fast", [True, False])
def test_repeated_cookie_is_refused_on_both_readers(fast):
    with HostileServer(repeated_cookie_forever) as server:
        d = Directory.connect(server.url, timeout=2, page_size=2)
        conn = d.source._connection()
        with pytest.raises(DirectoryUnavailable,
                           match="cookie it had already sent .* with the same page again") as info:
            for _ in raw_search(conn, BASE, "sub", "(objectClass=*)", None, page_size=2,
                                fast=fast):
                pass
    assert "page_size=0" in str(info.value)


def test_without_paging_the_same_server_answers_in_full():
    with HostileServer(repeated_cookie_forever) as server:
        d = Directory.connect(server.url, timeout=2, page_size=0)
        assert sorted(d.search("(objectClass=*)")["dn"].str.lower()) == EXPECTED


@pytest.mark.parametrize("fast", [True, False])
def test_search_timeout_bounds_a_whole_search(fast):
    with HostileServer(fresh_cookie_forever) as server:
        d = Directory.connect(server.url, timeout=2, search_timeout=0.5, page_size=2)
        conn = d.source._connection()
        began = time.monotonic()
        with pytest.raises(DirectoryUnavailable, match=r"search_timeout=0.5 s") as info:
            for _ in raw_search(conn, BASE, "sub", "(objectClass=*)", None, page_size=2,
                                fast=fast):
                pass
        assert time.monotonic() - began < 1.5
    assert "raise search_timeout=" in str(info.value)


def test_time_the_caller_spends_between_pages_does_not_count():
    with HostileServer(lambda s, r: s.normal(r)) as server:
        d = Directory.connect(server.url, timeout=2, search_timeout=0.3, page_size=1)
        got = []
        for e in d.entries("(objectClass=*)"):
            got.append(e.dn.lower())
            time.sleep(0.2)  # 0.6 s in all, more than search_timeout: the caller's own time
    assert sorted(got) == EXPECTED


def _big_entry(s: Session, req: Request) -> None:
    if req.op != SEARCH_REQUEST:
        return s.normal(req)
    s.send(entry(req.message_id, f"cn=big,{BASE}", {"cn": [b"big"], "photo": [b"x" * 20_000]})
           + s.answer(req))


def test_max_message_size_is_configurable_and_named():
    with HostileServer(_big_entry) as server:
        d = Directory.connect(server.url, timeout=2, max_message_size=4096)
        with pytest.raises(DirectoryUnavailable, match="max_message_size=4096") as info:
            d.search("(objectClass=*)")
        text = str(info.value)
        assert "declared a message of 19.6 KiB" in text and "raise max_message_size=" in text
        d = Directory.connect(server.url, timeout=2)  # the default fits real entries
        df = d.search("(objectClass=*)")
        photo = df.set_index("dn").loc[f"cn=big,{BASE}", "photo"]
        assert len(df) == len(ENTRIES) + 1 and len(photo[0]) == 20_000
    assert DEFAULT_MAX_MESSAGE_SIZE == 256 * 2**20


@pytest.mark.parametrize("bad", [dict(timeout=0), dict(timeout=-1), dict(search_timeout=0),
                                 dict(max_message_size=10)])
def test_nonsense_limits_are_refused(bad):
    with HostileServer(lambda s, r: s.normal(r)) as server:
        with pytest.raises(DirectoryUnavailable, match=next(iter(bad))):
            Directory.connect(server.url, **bad)


def test_budget_and_ber_check_errors():
    b = Budget("h", 1, timeout=0.01)
    b.start("binding")
    time.sleep(0.02)
    with pytest.raises(DirectoryUnavailable, match="while binding"):
        b.remaining()
    with pytest.raises(ValueError, match="nested more than 64 deep"):
        check_ber(_nest(3000))
    with pytest.raises(ValueError, match="after the message's end"):
        check_ber(b"\x30\x00\x00")


def _nest(depth: int) -> bytes:
    out = b"\x05\x00"
    for _ in range(depth):
        n = len(out)
        out = b"\x30" + (bytes((n,)) if n < 128 else
                         bytes((0x80 | ((n.bit_length() + 7) // 8),))
                         + n.to_bytes((n.bit_length() + 7) // 8, "big")) + out
    return out


def _many_slow_entries(s: Session, req: Request) -> None:
    """A correct answer whose entries come 0.15 s apart: 0.6 s in all, more than timeout."""
    if req.op != SEARCH_REQUEST:
        return s.normal(req)
    for dn, attrs in s.matches(req):
        s.send(entry(req.message_id, dn, attrs))
        time.sleep(0.15)
    s.send(result(req.message_id, SEARCH_DONE))


@pytest.mark.parametrize("fast", [True, False])  # the fast reader, ldap3's reader
def test_a_big_answer_that_keeps_coming_is_not_cut(fast):
    """timeout bounds each message, not the whole answer: a long answer whose messages
    keep coming (a big non-paged search on a slow link) is not cut."""
    with HostileServer(_many_slow_entries, phase="search") as server:
        d = Directory.connect(server.url, timeout=0.25, page_size=0)
        conn = d.source._connection()
        pages = list(raw_search(conn, BASE, "sub", "(objectClass=*)", None, page_size=0,
                                fast=fast))
    assert sorted(dn.lower() for page in pages for dn in page.dns) == EXPECTED
