"""What ``import ldapnb`` costs, as a ratio against the interpreter's own start-up.

Each figure is the median of fresh processes (``python -c ...``), measured in this one run:
the baseline is ``python -c pass`` and ``import json`` (a small standard-library module),
then ``import ldapnb`` and, for scale, ``import pandas``.  ``import ldapnb`` must not pull in
pandas, networkx, pyarrow or the notebook stack (``tests/test_directory.py`` checks that
exactly); this prints what the import costs on top of the interpreter.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7


def _median(code: str) -> float:
    times = []
    for _ in range(RUNS):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    base = _median("pass")
    rows = [("python -c pass", base)]
    for name in ("json", "ldapnb", "pandas"):
        rows.append((f"import {name}", _median(f"import {name}")))
    print(f"{'process':<18} {'median s':>9} {'over start-up s':>16} {'/ start-up':>11}")
    for label, t in rows:
        print(f"{label:<18} {t:9.3f} {t - base:16.3f} {t / base:11.2f}x")


if __name__ == "__main__":
    main()
