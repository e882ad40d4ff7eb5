"""``Directory.from_ldif`` (and ``search`` of everything) of one code tree against another, in
one run, on the same generated file.

    python benchmarks/bench_from_ldif.py --before OLD_TREE [--after TREE] [--users 100000]

Each measurement runs in a fresh process (``PYTHONPATH`` = the tree), the trees alternating, so
neither gets a warm cache or a quieter machine; the medians and the ratio after / before are
printed.  Without ``--before`` only this tree is timed.  Nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

CHILD = """
import sys, time
from ldapnb import Directory
t = time.perf_counter()
d = Directory.from_ldif(sys.argv[1])
load = time.perf_counter() - t
t = time.perf_counter()
df = d.search(attributes=["uid", "cn", "mail", "uidNumber"])
search = time.perf_counter() - t
print(load, search, len(d), len(df))
"""


def run(tree: Path, ldif: Path) -> tuple[float, float, int]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run([sys.executable, "-c", CHILD, str(ldif)], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", type=Path)
    ap.add_argument("--after", type=Path, default=HERE)
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    ldif = Path(tempfile.gettempdir()) / f"ldapnb-bench-{args.users}.ldif"
    if not ldif.exists():
        sys.path.insert(0, str(HERE))
        from ldapnb.synthetic import write_ldif

        write_ldif(ldif, args.users, seed=1)
    trees = {"after": args.after} | ({"before": args.before} if args.before else {})
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    for _ in range(args.runs):
        for name, tree in trees.items():
            load, search, count = run(tree, ldif)
            times[name].append((load, search))
    print(f"{args.users} users, {count} entries, {ldif.stat().st_size / 1e6:.0f} MB LDIF; "
          f"medians of {args.runs}")
    med = {name: (statistics.median(t[0] for t in ts), statistics.median(t[1] for t in ts))
           for name, ts in times.items()}
    for name, (load, search) in med.items():
        print(f"  {name:6}  from_ldif {load:6.2f} s   search {search:6.2f} s")
    if "before" in med:
        print(f"  after / before: from_ldif {med['after'][0] / med['before'][0]:.3f}x, "
              f"search {med['after'][1] / med['before'][1]:.3f}x")


if __name__ == "__main__":
    main()
