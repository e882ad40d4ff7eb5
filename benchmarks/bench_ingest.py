"""Ingest from a live server: ``Directory.connect(url).search()`` against python-ldap & co.

Run: ``.venv/bin/python benchmarks/bench_ingest.py [--users 100000] [--repeat 3]``.

One private slapd (:class:`ldapnb.sources.slapd.Slapd`) is loaded with
``ldapnb.synthetic.write_ldif(path, N)`` (the LDIF is cached in the temp folder), served
without the dynlist memberOf overlay (computing memberOf at search time makes slapd itself
~30x slower and would hide every client's cost).  Every client fetches every entry, bound as
the rootdn, in pages of 1000 (RFC 2696):

* ``ldapsearch`` (C, OpenLDAP's ldap-utils): ``ldapsearch -x -LLL -E pr=1000/noprompt``, output
  to /dev/null;
* ``python-ldap paged``: the C binding, ``search_ext`` + ``result3`` per page, results kept in a
  list of (dn, dict) tuples;
* ``ldap3 defaults``: ``Server(url)``, ``Connection(...)``, ``extend.standard.paged_search``
  into a list of dicts;
* ``Directory.search``: the public call, ``Directory.connect(url, user, pw,
  allow_cleartext=True).search()``: connect, bind, rootDSE, schema, every entry as a typed
  DataFrame;
* ``Directory.search_chunks``: the same, one DataFrame per page of 1000 (each dropped once
  made): the streaming call;
* ``ldapnb raw pages``: the pages of bytes only (``LiveSource.search_pages``, dropped): the
  decoder alone.

Each client runs ``--repeat`` times, each in a fresh Python process.  Time: the median, from
connect to the last entry in memory (interpreter start-up and imports excluded; ldapsearch:
the whole process).  Memory: the growth of the process's peak RSS during the run (all
allocations, C and Arrow included; ldapsearch: its whole peak RSS), median of the runs, per
entry; and, for the Python clients, a separate traced run's tracemalloc peak plus pyarrow's
pool peak.  The ratio is ``Directory.search`` time / python-ldap time (target <= 1.0); the
memory target is <= 2.5 KB per entry.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PAGE = 1000
FILTER = "(objectClass=*)"
CLIENTS = ("ldapsearch", "python-ldap", "ldap3", "ldapnb", "ldapnb-chunks", "ldapnb-raw")
LABELS = {"ldapsearch": "ldapsearch (C)", "python-ldap": "python-ldap paged",
          "ldap3": "ldap3 defaults", "ldapnb": "Directory.search",
          "ldapnb-chunks": "Directory.search_chunks", "ldapnb-raw": "ldapnb raw pages"}


# -- the clients (run in a child process) ------------------------------------------------------
def _python_ldap(url: str, dn: str, pw: str, base: str) -> Any:
    import ldap
    from ldap.controls import SimplePagedResultsControl

    conn = ldap.initialize(url)
    conn.simple_bind_s(dn, pw)
    control = SimplePagedResultsControl(True, size=PAGE, cookie=b"")
    out: list[Any] = []
    while True:
        msgid = conn.search_ext(base, ldap.SCOPE_SUBTREE, FILTER, None, serverctrls=[control])
        _, data, _, controls = conn.result3(msgid)
        out.extend(data)
        cookie = next(c.cookie for c in controls
                      if c.controlType == SimplePagedResultsControl.controlType)
        if not cookie:
            break
        control.cookie = cookie
    conn.unbind_s()
    return out


def _ldap3(url: str, dn: str, pw: str, base: str) -> Any:
    import ldap3

    conn = ldap3.Connection(ldap3.Server(url), dn, pw, auto_bind=True)
    out = list(conn.extend.standard.paged_search(base, FILTER, attributes=ldap3.ALL_ATTRIBUTES,
                                                 paged_size=PAGE, generator=True))
    conn.unbind()
    return out


def _connect(url: str, dn: str, pw: str) -> Any:
    from ldapnb import Directory

    return Directory.connect(url, dn, pw, allow_cleartext=True, page_size=PAGE)


def _ldapnb(url: str, dn: str, pw: str, base: str) -> Any:
    d = _connect(url, dn, pw)
    df = d.search(FILTER, base=base)
    d.close()
    return df


class _Count:
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n


def _ldapnb_chunks(url: str, dn: str, pw: str, base: str) -> Any:
    d = _connect(url, dn, pw)
    n = sum(len(df) for df in d.search_chunks(FILTER, base=base, page_size=PAGE))
    d.close()
    return _Count(n)


def _ldapnb_raw(url: str, dn: str, pw: str, base: str) -> Any:
    d = _connect(url, dn, pw)
    n = sum(len(page) for page in d.source.search_pages(base, "sub", FILTER, None))
    d.close()
    return _Count(n)


RUNNERS = {"python-ldap": _python_ldap, "ldap3": _ldap3, "ldapnb": _ldapnb,
           "ldapnb-chunks": _ldapnb_chunks, "ldapnb-raw": _ldapnb_raw}


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child(name: str, server: dict[str, str], traced: bool) -> None:
    """Run one client once; print one JSON line."""
    import gc

    import pyarrow as pa

    run = RUNNERS[name]
    import ldap3  # noqa: F401 - imports outside the measured span
    if name == "python-ldap":
        import ldap  # noqa: F401
    if name.startswith("ldapnb"):
        import ldapnb.frames  # noqa: F401
        import ldapnb.sources.live  # noqa: F401
        from ldapnb.schema import default_schema

        default_schema()  # read once per process (cached), as a Directory would
    gc.collect()
    out: dict[str, Any] = {}
    if traced:
        import tracemalloc
        pool = pa.default_memory_pool()
        before_pool = pool.bytes_allocated()
        tracemalloc.start()
        result = run(server["url"], server["dn"], server["pw"], server["base"])
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out["traced"] = peak + max(0, pool.max_memory() - before_pool)
    else:
        base_rss = _rss()
        began = time.perf_counter()
        result = run(server["url"], server["dn"], server["pw"], server["base"])
        out["seconds"] = time.perf_counter() - began
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        out["rss"] = max(0, peak_rss - base_rss)
    out["entries"] = len(result)
    print(json.dumps(out))


# -- the parent -------------------------------------------------------------------------------
def _run_child(name: str, server: dict[str, str], traced: bool = False) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", name, "--server", json.dumps(server)]
    if traced:
        cmd.append("--traced")
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ldapsearch(server: dict[str, str]) -> dict[str, Any]:
    cmd = ["ldapsearch", "-x", "-LLL", "-H", server["url"], "-D", server["dn"], "-w",
           server["pw"], "-b", server["base"], "-E", f"pr={PAGE}/noprompt", FILTER]
    began = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        proc = subprocess.Popen(cmd, stdout=sink)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - began
    if status:
        raise SystemExit(f"ldapsearch failed with status {status}")
    return {"seconds": seconds, "rss": usage.ru_maxrss * 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-trace", action="store_true",
                        help="skip the tracemalloc runs (they are slow for ldap3)")
    parser.add_argument("--clients", default=",".join(CLIENTS),
                        help="comma-separated subset (python-ldap and ldapnb always run)")
    parser.add_argument("--serve", action="store_true",
                        help="only start the loaded slapd, print its JSON and wait (Ctrl-C)")
    parser.add_argument("--use", metavar="JSON",
                        help="measure the server printed by --serve instead of starting one")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--server", help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, json.loads(args.server), args.traced)
        return

    from ldapnb.sources.slapd import Slapd
    from ldapnb.synthetic import write_ldif

    cache = Path(tempfile.gettempdir()) / "ldapnb-bench"
    cache.mkdir(exist_ok=True)
    ldif = cache / f"users-{args.users}.ldif"
    if not ldif.exists():
        part = ldif.with_suffix(".part")
        write_ldif(part, args.users)
        part.replace(ldif)
    if args.use:
        rows = _measure(json.loads(args.use), args)
    else:
        began = time.perf_counter()
        with Slapd(ldif, memberof=False) as slapd:
            print(f"slapd with {args.users} generated users ready in "
                  f"{time.perf_counter() - began:.1f} s ({slapd.urls['ldap']})")
            server = {"url": slapd.urls["ldap"], "dn": slapd.rootdn, "pw": slapd.rootpw,
                      "base": slapd.suffix}
            if args.serve:
                print(json.dumps(server), flush=True)
                try:
                    while True:
                        time.sleep(3600)
                except KeyboardInterrupt:
                    return
            rows = _measure(server, args)
    entries = rows["ldapnb"]["entries"]
    for name, row in rows.items():
        if row["entries"] not in (None, entries):
            raise SystemExit(f"{name} returned {row['entries']} entries, ldapnb {entries}")
    _print(rows, entries)


def _measure(server: dict[str, str], args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    print(f"pages of {PAGE}, median of {args.repeat} runs, each in a fresh process")
    # round-robin: every repeat runs every client once, so a noisy neighbour on the
    # machine hits all of them alike
    chosen = [c for c in CLIENTS
              if c in set(args.clients.split(",")) | {"python-ldap", "ldapnb"}]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in chosen}
    for _ in range(args.repeat):
        for name in chosen:
            runs[name].append(_ldapsearch(server) if name == "ldapsearch"
                              else _run_child(name, server))
    rows: dict[str, dict[str, Any]] = {}
    for name in chosen:
        done = runs[name]
        rows[name] = {"seconds": statistics.median(r["seconds"] for r in done),
                      "rss": statistics.median(r["rss"] for r in done),
                      "entries": done[0].get("entries")}
        if name != "ldapsearch" and not args.no_trace:
            rows[name]["traced"] = _run_child(name, server, traced=True)["traced"]
    return rows


def _print(rows: dict[str, dict[str, Any]], n: int) -> None:
    ref = rows["python-ldap"]["seconds"]
    head = (f"{'client':<22}{'time s':>9}{'us/entry':>10}{'peak RSS KB/entry':>19}"
            f"{'traced KB/entry':>17}{'time / python-ldap':>20}")
    print(f"\n{n} entries")
    print(head)
    print("-" * len(head))
    for name, row in rows.items():
        traced = f"{row['traced'] / n / 1024:.2f}" if "traced" in row else "-"
        print(f"{LABELS[name]:<22}{row['seconds']:>9.2f}{row['seconds'] / n * 1e6:>10.1f}"
              f"{row['rss'] / n / 1024:>19.2f}{traced:>17}{row['seconds'] / ref:>20.2f}")
    ours = rows["ldapnb"]
    ratio = ours["seconds"] / ref
    kb = max(ours["rss"], ours.get("traced", 0)) / n / 1024
    if "ldapnb-chunks" in rows:
        chunks = rows["ldapnb-chunks"]["seconds"] / ref
        print(f"\nDirectory.search_chunks / python-ldap: {chunks:.2f}")
    print(f"Directory.search / python-ldap: {ratio:.2f} (target <= 1.0: "
          f"{'met' if ratio <= 1.0 else 'NOT met'}); memory {kb:.2f} KB per entry "
          f"(larger of RSS and traced; target <= 2.5: {'met' if kb <= 2.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
