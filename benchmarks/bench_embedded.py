"""The embedded directory against ldap3's MOCK_SYNC, on the same data, in one run.

    python benchmarks/bench_embedded.py [--users 10000] [--big 100000]

Prints, for N generated users: load time, an indexed equality search, a substring search and a
full scan, for both, and the ratio MOCK_SYNC / embedded.  Then the embedded directory alone at
the big size (MOCK_SYNC would take minutes to load it): load and equality search.  Times are
medians of several runs; nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable

from ldap3 import MOCK_SYNC, OFFLINE_SLAPD_2_4, Connection, Server

from ldapnb import dn as dnlib
from ldapnb.sources.embedded import EmbeddedDirectory
from ldapnb.synthetic import generate


def timed(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def embedded_load(entries: list, trusted: bool = False) -> EmbeddedDirectory:
    """A load as from a fresh process: DN normalisation is cached (lru_cache), so the cache
    is emptied first or repeated runs would time a warm cache MOCK_SYNC does not have."""
    dnlib.normalize.cache_clear()
    d = EmbeddedDirectory()
    d.load(entries, trusted=trusted)
    return d


def mock_connection(entries: list, validate: bool = True) -> Connection:
    server = Server("mock", get_info=OFFLINE_SLAPD_2_4)
    conn = Connection(server, client_strategy=MOCK_SYNC)
    for e in entries:
        conn.strategy.add_entry(e.dn, {k: list(v) for k, v in e.items()}, validate=validate)
    conn.bind()
    return conn


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--big", type=int, default=100_000)
    args = ap.parse_args()

    entries = list(generate(args.users, seed=1))
    n = len(entries)
    print(f"data: {args.users} users, {n} entries (ldapnb.synthetic, seed 1)\n")
    probe_uid = [e for e in entries if "uid" in e][args.users // 2]["uid"][0]
    base = entries[0].dn

    rows = []
    mock_load = timed(lambda: mock_connection(entries), 3)
    emb_load = timed(lambda: embedded_load(entries), 3)
    rows.append(("load, values/schema checked", mock_load, emb_load))
    mock_quick = timed(lambda: mock_connection(entries, validate=False), 3)
    emb_quick = timed(lambda: embedded_load(entries, trusted=True), 3)
    rows.append(("load, trusted (MOCK validate=False; slapadd -q)", mock_quick, emb_quick))

    conn = mock_connection(entries)
    d = EmbeddedDirectory()
    d.load(entries)
    searches = [
        ("indexed equality (uid=X)", f"(uid={probe_uid})", 20),
        ("substring (cn=*son*)", "(cn=*son*)", 5),
        ("presence, indexed (description=*)", "(description=*)", 5),
        ("full scan (!(cn=nobody))", "(!(cn=nobody))", 5),
    ]
    for label, f, rep in searches:
        want = len(d.search_dns(base, "sub", f))
        conn.search(base, f, attributes=["cn"])
        got = len(conn.entries)
        m = timed(lambda f=f: conn.search(base, f, attributes=["cn"]), rep)
        e = timed(lambda f=f: list(d.search(base, "sub", f, ["cn"])), rep)
        note = "" if got == want else f"  (MOCK_SYNC found {got}, embedded {want})"
        rows.append((label + note, m, e))

    print(f"{'operation':52} {'MOCK_SYNC':>11} {'embedded':>11} {'ratio':>8}")
    for label, m, e in rows:
        print(f"{label:52} {m * 1e3:9.2f}ms {e * 1e3:9.2f}ms {m / e:7.1f}x")

    big = list(generate(args.big, seed=2))
    probe = [e for e in big if "uid" in e][args.big // 2]["uid"][0]
    load = timed(lambda: embedded_load(big), 1)
    quick = timed(lambda: embedded_load(big, trusted=True), 1)
    d = EmbeddedDirectory()
    d.load(big)
    first = timed(lambda: d.search_dns(big[0].dn, "sub", "(uid=nobody)"), 1)
    eq = timed(lambda: list(d.search(big[0].dn, "sub", f"(uid={probe})", ["cn"])), 50)
    eq_dn = timed(lambda: d.search_dns(big[0].dn, "sub", f"(uid={probe})"), 50)
    print(f"\nembedded alone, {args.big} users ({len(big)} entries):")
    print(f"  load, checked                          {load:8.2f} s "
          f"({load / len(big) * 1e6:.1f} us/entry)")
    print(f"  load, trusted                          {quick:8.2f} s "
          f"({quick / len(big) * 1e6:.1f} us/entry)")
    print(f"  first (uid=...) search, builds index   {first * 1e3:8.1f} ms")
    print(f"  indexed equality search, entries back  {eq * 1e3:8.3f} ms (target <= 1 ms)")
    print(f"  indexed equality search, DNs only      {eq_dn * 1e3:8.3f} ms")


if __name__ == "__main__":
    main()
