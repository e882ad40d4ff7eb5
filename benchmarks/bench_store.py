"""The embedded store, timed where users call it, against its baselines, in one run.

    python benchmarks/bench_store.py [--users 100000] [--tree TREE] [--skip-mock]

On one generated LDIF (:func:`ldapnb.synthetic.write_ldif`, seed 1: N users, N/10 groups):

- ``Directory.from_ldif(path)`` in a fresh process (time; peak memory per entry, the process's
  ``ru_maxrss`` after the load minus before it) against OpenLDAP's ``slapadd -q`` on the same
  file with the slapd.conf :class:`ldapnb.sources.slapd.Slapd` writes (time; its peak RSS);
- in that process: an indexed equality search ``d.search("(uid=X)")`` (median, index built),
  the substring search ``d.search("(cn=*son*)")`` and ``d.graph()`` (first call, then again),
  against its baseline, the graph of the same search's presented ``Entry`` objects paged by
  :func:`~ldapnb.sources.base.pages_from_entries` (the general path), and the closure
  ``graph.effective_membership`` on the graph for scale;
- the same substring search on ldap3's MOCK_SYNC holding the same entries (the baseline).

``--tree`` times another code tree's ``ldapnb`` (its ``PYTHONPATH``) with this script, for a
before / after table.  Nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, statistics, sys, time
import networkx, pandas  # imported before any timing
from ldapnb import Directory
path, n_users = sys.argv[1], int(sys.argv[2])
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t, c = time.perf_counter(), time.process_time()
d = Directory.from_ldif(path)
load, load_cpu = time.perf_counter() - t, time.process_time() - c
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
n = len(d)
uid = f"user{n_users // 2:06d}"
d.search(f"(uid={uid})")  # builds the index
eq = []
for i in range(30):
    t = time.perf_counter()
    df = d.search(f"(uid=user{(n_users // 3 + i * 7) % n_users:06d})")
    eq.append(time.perf_counter() - t)
ent = []
for i in range(30):
    t = time.perf_counter()
    rows = list(d.entries(f"(uid=user{(n_users // 3 + i * 7) % n_users:06d})"))
    ent.append(time.perf_counter() - t)
sub, sub2 = [], []
for _ in range(3):
    t = time.perf_counter()
    hits = len(d.search("(cn=*son*)", attributes=["cn"]))
    sub.append(time.perf_counter() - t)
    t = time.perf_counter()
    hits2 = len(d.search("(cn=*sen*)", attributes=["cn"]))
    sub2.append(time.perf_counter() - t)
from ldapnb import graph as graphs
from ldapnb.sources.base import DEFAULT_PAGE_SIZE, pages_from_entries
t, c = time.perf_counter(), time.process_time()
g = d.graph()  # the first call also builds the memberOf back-links the pages carry
graph, graph_cpu = time.perf_counter() - t, time.process_time() - c
t, c = time.perf_counter(), time.process_time()
g = d.graph()
graph2, graph2_cpu = time.perf_counter() - t, time.process_time() - c
# the baseline: the general path, one presented Entry per match, paged (what search_pages
# did for every attribute list before it gathered columns from the store)
t, c = time.perf_counter(), time.process_time()
entries = d.source.search(d.base, "sub", "(objectClass=*)", graphs.GRAPH_ATTRIBUTES)
g0 = graphs.from_pages(pages_from_entries(entries, DEFAULT_PAGE_SIZE, graphs.GRAPH_ATTRIBUTES))
general, general_cpu = time.perf_counter() - t, time.process_time() - c
same = (g0.number_of_nodes(), g0.number_of_edges()) == (g.number_of_nodes(), g.number_of_edges())
users = [n for n, k in g.nodes(data="kind") if k == "user"]
t, c = time.perf_counter(), time.process_time()
graphs.effective_membership(g, users)
closure, closure_cpu = time.perf_counter() - t, time.process_time() - c
import ldapnb
print(ldapnb.__file__, file=sys.stderr)
print(json.dumps({"load": load, "load_cpu": load_cpu, "kb_per_entry": (rss1 - rss0) / n,
                  "entries": n,
                  "eq_ms": statistics.median(eq) * 1e3, "eq_rows": len(df),
                  "ent_ms": statistics.median(ent) * 1e3, "ent_rows": len(rows),
                  "sub_s": min(sub), "sub_hits": hits,
                  "sub2_s": min(sub2), "sub2_hits": hits2, "graph_s": graph,
                  "graph_cpu": graph_cpu, "graph2_s": graph2, "graph2_cpu": graph2_cpu,
                  "general_s": general, "general_cpu": general_cpu, "same": int(same),
                  "closure_s": closure, "closure_cpu": closure_cpu,
                  "graph_nodes": g.number_of_nodes(), "graph_edges": g.number_of_edges()}))
"""

MOCK = r"""
import json, sys, time
from ldap3 import MOCK_SYNC, OFFLINE_SLAPD_2_4, Connection, Server
from ldapnb import ldif
server = Server("mock", get_info=OFFLINE_SLAPD_2_4)
conn = Connection(server, client_strategy=MOCK_SYNC)
base = None
for e in ldif.read_entries(sys.argv[1]):
    base = base or e.dn
    conn.strategy.add_entry(e.dn, {k: list(v) for k, v in e.items()}, validate=False)
conn.bind()
t = time.perf_counter()
conn.search(base, "(cn=*son*)", attributes=["cn"])
out = {"sub_s": time.perf_counter() - t, "sub_hits": len(conn.entries)}
t = time.perf_counter()
conn.search(base, "(cn=*sen*)", attributes=["cn"])
out |= {"sub2_s": time.perf_counter() - t, "sub2_hits": len(conn.entries)}
print(json.dumps(out))
"""


def child(code: str, tree: Path, *args: str) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    # -P: the tree on PYTHONPATH is imported, not an ldapnb in the working directory
    out = subprocess.run([sys.executable, "-P", "-c", code, *args], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def slapadd(ldif: Path) -> tuple[float, float, float]:
    """``slapadd -q`` of ``ldif`` into a fresh mdb database: (seconds, peak RSS KB, CPU s)."""
    sys.path.insert(0, str(HERE))
    from ldapnb.sources import slapd

    server = slapd.Slapd(ldif, suffix="dc=example,dc=org", tls=False)
    with tempfile.TemporaryDirectory() as folder:
        server.folder = Path(folder)
        conf = server._write_config(slapd._scan_ldif(ldif))
        command = [slapd._require("slapadd"), "-q", "-f", str(conf), "-l", str(ldif)]
        code = "import resource,subprocess,sys,time;t=time.perf_counter();" \
               "subprocess.run(sys.argv[1:],check=True,capture_output=True);" \
               "r=resource.getrusage(resource.RUSAGE_CHILDREN);" \
               "print(time.perf_counter()-t,r.ru_maxrss,r.ru_utime+r.ru_stime)"
        out = subprocess.run([sys.executable, "-c", code, *command], check=True,
                             capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1]), float(out[2])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--tree", type=Path, default=HERE)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--skip-mock", action="store_true")
    args = ap.parse_args()
    ldif = Path(tempfile.gettempdir()) / f"ldapnb-bench-store-{args.users}.ldif"
    if not ldif.exists():
        sys.path.insert(0, str(HERE))
        from ldapnb.synthetic import write_ldif

        write_ldif(ldif, args.users, seed=1)
    runs, adds = [], []
    for _ in range(args.runs):  # alternate, so neither gets a quieter machine
        adds.append(slapadd(ldif))
        runs.append(child(CHILD, args.tree, str(ldif), str(args.users)))
    r = {k: statistics.median(x[k] for x in runs) for k in runs[0]}
    s_time = statistics.median(a[0] for a in adds)
    s_kb = statistics.median(a[1] for a in adds) / r["entries"]
    s_cpu = statistics.median(a[2] for a in adds)
    print(f"{args.users} users, {int(r['entries'])} entries, {ldif.stat().st_size / 1e6:.0f} MB "
          f"LDIF; tree {args.tree}; medians of {args.runs}")
    print(f"  Directory.from_ldif   {r['load']:7.2f} s wall {r['load_cpu']:7.2f} s CPU  "
          f"{r['kb_per_entry']:5.2f} KB/entry (peak RSS delta)")
    print(f"  slapadd -q            {s_time:7.2f} s wall {s_cpu:7.2f} s CPU  "
          f"{s_kb:5.2f} KB/entry (peak RSS)")
    print(f"  ratio from_ldif / slapadd  {r['load'] / s_time:.2f}x wall, "
          f"{r['load_cpu'] / s_cpu:.2f}x CPU  (target <= 1.0x)")
    print(f"  indexed equality d.search('(uid=X)')  {r['eq_ms']:.3f} ms  (target <= 1 ms)")
    print(f"  indexed equality list(d.entries('(uid=X)'))  {r['ent_ms']:.3f} ms  (Entry objects, "
          "no DataFrame)")
    print(f"  substring d.search('(cn=*son*)')      {r['sub_s'] * 1e3:.1f} ms, "
          f"{int(r['sub_hits'])} hits")
    print(f"  substring d.search('(cn=*sen*)')      {r['sub2_s'] * 1e3:.1f} ms, "
          f"{int(r['sub2_hits'])} hits")
    print(f"  d.graph()  {r['graph_s']:.2f} s wall {r['graph_cpu']:.2f} s CPU, first call "
          f"({int(r['graph_nodes'])} nodes, {int(r['graph_edges'])} edges; target <= 0.5 s)")
    print(f"  d.graph() again                       {r['graph2_s']:.2f} s wall "
          f"{r['graph2_cpu']:.2f} s CPU")
    print(f"  baseline: graph of search()'s Entry objects, paged  {r['general_s']:.2f} s wall "
          f"{r['general_cpu']:.2f} s CPU; ratio {r['general_cpu'] / r['graph2_cpu']:.1f}x "
          f"(same size: {'yes' if r['same'] else 'NO'})")
    print(f"  effective_membership(all users) on it {r['closure_s']:.2f} s wall "
          f"{r['closure_cpu']:.2f} s CPU", flush=True)
    if not args.skip_mock:
        m = child(MOCK, HERE, str(ldif))
        print(f"  substring on MOCK_SYNC                {m['sub_s'] * 1e3:.1f} ms, "
              f"{int(m['sub_hits'])} hits;  ratio {m['sub_s'] / r['sub_s']:.1f}x "
              "(target >= 20x)")
        print(f"  (cn=*sen*) on MOCK_SYNC               {m['sub2_s'] * 1e3:.1f} ms, "
              f"{int(m['sub2_hits'])} hits;  ratio {m['sub2_s'] / r['sub2_s']:.1f}x")


if __name__ == "__main__":
    main()
