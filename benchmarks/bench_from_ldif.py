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
t, c = time.perf_counter(), time.process_time()
d = Directory.from_ldif(sys.argv[1])
load, load_cpu = time.perf_counter() - t, time.process_time() - c
t, c = time.perf_counter(), time.process_time()
df = d.search(attributes=["uid", "cn", "mail", "uidNumber"])
search, search_cpu = time.perf_counter() - t, time.process_time() - c
print(load, search, load_cpu, search_cpu, len(d), len(df))
"""


def run(tree: Path, ldif: Path) -> tuple[list[float], int]:
    """(wall load, wall search, CPU load, CPU search) seconds, and the entry count."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run([sys.executable, "-c", CHILD, str(ldif)], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return [float(x) for x in out[:4]], int(out[4])


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
    times: dict[str, list[list[float]]] = {name: [] for name in trees}
    for _ in range(args.runs):
        for name, tree in trees.items():
            figures, count = run(tree, ldif)
            times[name].append(figures)
    print(f"{args.users} users, {count} entries, {ldif.stat().st_size / 1e6:.0f} MB LDIF; "
          f"medians of {args.runs} (wall clock, and CPU time of the process)")
    med = {name: [statistics.median(t[i] for t in ts) for i in range(4)]
           for name, ts in times.items()}
    for name, m in med.items():
        print(f"  {name:6}  from_ldif {m[0]:6.2f} s (CPU {m[2]:6.2f} s)   "
              f"search {m[1]:6.2f} s (CPU {m[3]:6.2f} s)")
    if "before" in med:
        a, b = med["after"], med["before"]
        print(f"  after / before: from_ldif {a[0] / b[0]:.3f}x (CPU {a[2] / b[2]:.3f}x), "
              f"search {a[1] / b[1]:.3f}x (CPU {a[3] / b[3]:.3f}x)")


if __name__ == "__main__":
    main()
