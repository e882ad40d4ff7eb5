"""The whole audit at scale: ``audit.run`` on 100k users / 10k groups (ldapnb.synthetic, AD
style), against a baseline in the same run: building the membership graph alone
(``graph.from_entries``, what ``Directory.graph()`` does), which ``audit.run`` must also do.

    .venv/bin/python benchmarks/bench_audit.py                 # 100k users, 10k groups
    .venv/bin/python benchmarks/bench_audit.py --users 20000 --groups 2000

Times are CPU seconds of this process (the machine is shared); target: audit.run <= 10 s.
Every synthetic AD entry carries an nTSecurityDescriptor, so the rights checks decode them
(identical descriptors are decoded once, as on a real domain where most are inherited alike).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas  # noqa: E402, F401  (imported before any timing)

from ldapnb import audit, graph, synthetic  # noqa: E402


def timed(fn, *args, **kw):  # type: ignore[no-untyped-def]
    start = time.process_time()
    result = fn(*args, **kw)
    return result, time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=10_000)
    args = parser.parse_args(argv)
    entries, t_make = timed(lambda: list(synthetic.generate(
        args.users, n_groups=args.groups, depth=6, cycles=3, style="ad", seed=1)))
    G, t_graph = timed(graph.from_entries, entries)
    del G
    now = datetime(2026, 11, 1, tzinfo=UTC)
    findings, t_audit = timed(audit.run, entries, now=now)
    counts = findings.groupby("check", observed=True).size().to_dict()
    rows = [
        ("shape", f"{args.users:,} users, {args.groups:,} groups, {len(entries):,} entries "
                  "(ldapnb.synthetic, style='ad')"),
        ("make entries", f"{t_make:8.2f} s"),
        ("baseline: graph.from_entries", f"{t_graph:8.2f} s"),
        ("audit.run (all checks)", f"{t_audit:8.2f} s  (target <= 10 s)"),
        ("ratio audit.run / graph", f"{t_audit / t_graph:8.1f} x"),
        ("findings", f"{len(findings):,}: {counts}"),
    ]
    width = max(len(n) for n, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0 if t_audit <= 10 else 1


if __name__ == "__main__":
    raise SystemExit(main())
