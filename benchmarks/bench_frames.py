"""Entries -> DataFrame: ldapnb.frames against the naive ``pd.DataFrame([e.to_dict() ...])``.

Run: ``.venv/bin/python benchmarks/bench_frames.py [--entries 100000]``.

Builds N generated entries (11 attributes: multi-valued text, integers, a GeneralizedTime, a
boolean, a binary value, a password), values as ``bytes`` (as they come off the wire) and as
``str`` (as LDIF gives them), then prints, per way of building the frame:

* time: best of ``--repeat`` runs, in microseconds per entry;
* peak: the peak of Python allocations during the call (tracemalloc, a separate run) plus the
  bytes pyarrow still holds for the result (pyarrow's allocator is not seen by tracemalloc);
* frame: ``df.memory_usage(deep=True)`` per entry;
* ratio: time and peak against the naive baseline in the same run.

The naive baseline does no typing at all (every cell is a list of raw values), so a ratio
below 1 means ldapnb is both faster and types the columns.

``--part search`` (also run by default) times the one-row case users meet most: the public
``d.search("(uid=X)")`` on ``Directory.from_ldif`` of ``--users`` generated users
(:func:`ldapnb.synthetic.write_ldif`, seed 1), an indexed equality returning one entry (issue
9's target: <= 1 ms).  Its baselines run interleaved with it, in the same process, one call of
each per round: ``list(d.entries(...))`` (the same search as Entry objects, no frame) and
``to_frame(list(d.entries(...)))`` (the frame built from entries).  It prints the medians and
the ratio of ``d.search`` to each baseline, so a loaded machine shows in both.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ldapnb.entry import Entry  # noqa: E402
from ldapnb.frames import frame_from_columns, to_frame  # noqa: E402
from ldapnb.schema import default_schema  # noqa: E402

GIVEN = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Ken", "Dennis", "Margaret", "Linus",
         "Frances", "Éloïse", "Jürgen"]
FAMILY = ["Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Thompson", "Ritchie",
          "Hamilton", "Torvalds", "Allen", "Müller", "Ødegaard"]


def make_entries(n: int, *, as_bytes: bool, seed: int = 7) -> list[Entry]:
    rnd = random.Random(seed)
    groups = [f"cn=group{g},ou=Groups,dc=example,dc=org" for g in range(40)]
    out = []
    for i in range(n):
        given, family = rnd.choice(GIVEN), rnd.choice(FAMILY)
        uid = f"u{i:06d}"
        attrs: dict[str, list[Any]] = {
            "objectClass": ["top", "person", "inetOrgPerson", "posixAccount"],
            "uid": [uid],
            "cn": [f"{given} {family}"] + ([f"{given[0]}. {family}"] if i % 3 == 0 else []),
            "sn": [family],
            "mail": [f"{uid}@example.org"],
            "uidNumber": [str(10000 + i)],
            "gidNumber": [str(100 + i % 50)],
            "homeDirectory": [f"/home/{uid}"],
            "createTimestamp": [f"2024{1 + i % 12:02d}{1 + i % 28:02d}"
                                f"{i % 24:02d}{i % 60:02d}{(i * 7) % 60:02d}Z"],
            "hasSubordinates": ["FALSE"],
            "userPassword": [f"{{SSHA}}{rnd.getrandbits(64):016x}"],
            "memberOf": rnd.sample(groups, i % 4),
            "jpegPhoto": [rnd.randbytes(24)],
        }
        if not attrs["memberOf"]:
            del attrs["memberOf"]
        if as_bytes:
            attrs = {k: [v.encode() if isinstance(v, str) else v for v in vs]
                     for k, vs in attrs.items()}
        out.append(Entry(f"uid={uid},ou=People,dc=example,dc=org", attrs))
    return out


def naive(entries: list[Entry]) -> pd.DataFrame:
    return pd.DataFrame([e.to_dict() for e in entries])


def columns_of(entries: list[Entry]) -> tuple[list[str], dict[str, list[Any]]]:
    """Raw columns, as the live-server source builds them from the wire."""
    names = list(entries[0].to_dict()) + ["memberOf"]
    return ([e.dn for e in entries],
            {name: [e.get(name, ()) for e in entries] for name in dict.fromkeys(names)})


def best_time(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_bytes(fn: Callable[[], Any]) -> tuple[int, int]:
    """(peak Python allocations + pyarrow bytes held by the result, frame bytes)."""
    gc.collect()
    arrow_before = pa.total_allocated_bytes()
    tracemalloc.start()
    result = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    arrow = pa.total_allocated_bytes() - arrow_before
    frame = int(result.memory_usage(deep=True).sum())
    del result
    return peak + max(arrow, 0), frame


def search_latency(users: int, rounds: int) -> None:
    """Median time of one-row ``d.search`` beside its baselines, interleaved (see above)."""
    import statistics
    import tempfile

    from ldapnb import Directory
    from ldapnb.synthetic import write_ldif

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "users.ldif"
        write_ldif(path, users, seed=1)
        d = Directory.from_ldif(path)
    uids = [e.get("uid")[0] for e in d.entries("(objectClass=inetOrgPerson)", size_limit=0)
            ][:: max(1, users // 97)]
    filters = [f"(uid={u})" for u in uids]
    assert all(len(d.search(f)) == 1 for f in filters)  # warm, and one row each
    cases: list[tuple[str, Callable[[str], Any]]] = [
        ("list(d.entries(f))  [baseline]", lambda f: list(d.entries(f))),
        ("to_frame(d.entries(f))", lambda f: to_frame(list(d.entries(f)), schema=d.schema)),
        ("d.search(f)", lambda f: d.search(f)),
    ]
    times: dict[str, list[float]] = {name: [] for name, _ in cases}
    clock = time.perf_counter
    for i in range(rounds):
        f = filters[i % len(filters)]
        for name, fn in cases:
            start = clock()
            fn(f)
            times[name].append(clock() - start)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    base, frame = med[cases[0][0]], med[cases[1][0]]
    print(f"\none-row indexed equality search, {users} users, {rounds} rounds interleaved "
          f"(medians; target: d.search <= 1 ms)")
    for name, _ in cases:
        print(f"  {name:32s} {med[name] * 1e3:7.3f} ms   x{med[name] / base:6.1f} entries"
              f"   x{med[name] / frame:5.2f} to_frame")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--part", choices=["all", "bulk", "search"], default="all")
    parser.add_argument("--users", type=int, default=20_000,
                        help="users in the directory of --part search")
    parser.add_argument("--rounds", type=int, default=1000)
    args = parser.parse_args()
    if args.part in ("all", "search"):
        search_latency(args.users, args.rounds)
    if args.part == "search":
        return
    n = args.entries
    schema = default_schema()
    schema.attribute_type("cn")  # warm the schema cache outside the timings

    rows = []
    for label, as_bytes in (("bytes (wire)", True), ("str (LDIF)", False)):
        entries = make_entries(n, as_bytes=as_bytes)
        dns, cols = columns_of(entries)
        cases: list[tuple[str, Callable[[], Any]]] = [
            ("naive pd.DataFrame(to_dict)", lambda e=entries: naive(e)),
            ("to_frame, schema", lambda e=entries: to_frame(e, schema=schema)),
            ("to_frame, no schema", lambda e=entries: to_frame(e)),
            ("to_frame, attributes=[...]", lambda e=entries, c=list(cols):
             to_frame(e, attributes=c, schema=schema)),
            ("frame_from_columns, schema", lambda d=dns, c=cols:
             frame_from_columns(d, c, schema=schema)),
        ]
        base_t = base_m = 0.0
        for name, fn in cases:
            seconds = best_time(fn, args.repeat)
            peak, frame = peak_bytes(fn)
            if not base_t:
                base_t, base_m = seconds, peak
            rows.append({
                "input": label, "what": name,
                "us/entry": round(seconds / n * 1e6, 2),
                "peak B/entry": round(peak / n),
                "frame B/entry": round(frame / n),
                "time ratio": round(seconds / base_t, 2),
                "peak ratio": round(peak / base_m, 2),
            })
        del entries, cols
    print(f"{n} entries, 13 attributes each (pandas {pd.__version__}, pyarrow {pa.__version__},"
          f" Python {sys.version.split()[0]}); ratios against the naive baseline\n")
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
