"""Effective group membership at scale: ldapnb vs one networkx search per user.

Run as a script::

    .venv/bin/python benchmarks/bench_graph.py            # 100k users, 10k groups
    .venv/bin/python benchmarks/bench_graph.py --users 20000 --groups 2000
    .venv/bin/python benchmarks/bench_graph.py --shape synthetic   # ldapnb.synthetic.generate

Shapes
    ``tree`` (default): groups on 8 levels (level 0 holds users, level 7 is the top); every
    group below the top is a member of one group on the next level and 10% of them of a
    second one, one or two levels up; 20 rings of three groups (cycles) hang below level-3
    groups; each user is in 1-4 groups (mostly 1-2), mostly on levels 0-2.  A user then has
    about 15-25 effective groups, as in real directories.

    ``synthetic``: :func:`ldapnb.synthetic.generate` (depth 7): every group holds 1-3 groups
    of the level below, so a group has about two parents and a user reaches about 290 of the
    10k groups - far more than real directories; the long table then has ~29M rows and its
    time is dominated by its size.

ldapnb's answer is a :class:`ldapnb.graph.Membership` (CSR arrays; a member's frozenset is
made when asked for), timed three times, the median counted.  networkx, pandas and scipy
are imported before any timing.

``d.graph()`` (the call users make) is timed on a ``Directory`` holding the same entries, first
call and again, against ``graph.from_entries`` of the entries (its baseline, in the same run);
``--no-directory`` skips it.  A second baseline puts the 0.5 s target beside what networkx
itself takes to hold that graph: ``add_nodes_from`` and ``add_edges_from`` of ``d.graph()``'s
own nodes and edges with their attributes (lists made before the timing, the collector paused
as ``d.graph()`` pauses it), i.e. no directory read, no DN resolved, only networkx's structure.
``d.graph()`` does not go through those calls: it fills networkx's documented dicts (``_node``,
``_succ``, ``_pred``) directly.  So a third row times that fill alone, from the same lists, in
the tightest form CPython has (comprehensions, ``dict.copy``, one loop over the edges): about
the least any builder of this networkx graph can spend, before reading a single entry.  And a
fourth row times that read alone: the column pages ``d.graph()`` asks the directory for
(``d.source.search_pages`` with ``graph.GRAPH_ATTRIBUTES``, consumed, the collector paused),
so that the fill and the read side by side show what no builder can avoid.

Baseline: ``networkx.descendants(G, user)`` for every user (in ldapnb's graph edges point
member -> group, so a user's groups are its descendants; the same as ``networkx.ancestors``
on the group -> member orientation).  When the full baseline would take more than about a
minute it is timed on a random sample of users and extrapolated, and the output says so.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import networkx as nx  # noqa: E402
import pandas  # noqa: E402, F401  (imported up front, like networkx: not part of any timing)
import scipy.sparse  # noqa: E402, F401
import scipy.sparse.csgraph  # noqa: E402, F401

from ldapnb import graph  # noqa: E402
from ldapnb._nogc import no_gc  # noqa: E402
from ldapnb.entry import Entry  # noqa: E402

SUFFIX = "dc=example,dc=org"


def tree_entries(n_users: int, n_groups: int, *, levels: int = 8, rings: int = 20,
                 seed: int = 0) -> list[Entry]:
    """The ``tree`` shape (see the module docstring)."""
    rng = random.Random(seed)
    n_nested = n_groups - 3 * rings
    # level sizes shrink upwards: level 0 has the most groups
    weights = [2 ** (levels - 1 - level) for level in range(levels)]
    sizes = [max(1, n_nested * w // sum(weights)) for w in weights]
    sizes[0] += n_nested - sum(sizes)
    names: list[list[str]] = []
    for level, size in enumerate(sizes):
        names.append([f"cn=g{level}-{i:05d},ou=Groups,{SUFFIX}" for i in range(size)])
    members: dict[str, list[str]] = {dn: [] for level in names for dn in level}
    for level in range(levels - 1):
        for dn in names[level]:
            members[rng.choice(names[level + 1])].append(dn)
            if rng.random() < 0.10:
                up = min(levels - 1, level + rng.choice((1, 2)))
                parent = rng.choice(names[up])
                if dn not in members[parent]:
                    members[parent].append(dn)
    for k in range(rings):
        ring = [f"cn=ring{k:02d}-{x},ou=Groups,{SUFFIX}" for x in "abc"]
        for x, dn in enumerate(ring):
            members[dn] = [ring[(x - 1) % 3]]
        members[rng.choice(names[3])].append(ring[0])
    users = [f"uid=u{i:06d},ou=People,{SUFFIX}" for i in range(n_users)]
    low = names[0] + names[1] + names[2]
    for i, dn in enumerate(users):
        members[names[0][i % len(names[0])]].append(dn)
        for _ in range(rng.choice((0, 0, 0, 1, 1, 2, 3))):
            group = rng.choice(low) if rng.random() < 0.9 else rng.choice(
                [g for level in names[3:] for g in level])
            if dn not in members[group][-3:]:
                members[group].append(dn)
        if i % 5000 == 0:  # a few users in a ring
            members[f"cn=ring{(i // 5000) % rings:02d}-b,ou=Groups,{SUFFIX}"].append(dn)
    out = [Entry(dn, {"objectClass": ["inetOrgPerson"], "uid": [dn[4:11]], "cn": [dn[4:11]],
                      "sn": ["x"]}) for dn in users]
    out += [Entry(dn, {"objectClass": ["groupOfNames"], "cn": [dn[3:dn.index(",")]],
                       "member": m or [users[0]]}) for dn, m in members.items()]
    return out


def synthetic_entries(n_users: int, n_groups: int) -> list[Entry]:
    from ldapnb import synthetic

    return list(synthetic.generate(n_users, n_groups=n_groups, depth=7, cycles=20, seed=1))


def timed(fn, *args, **kw):  # type: ignore[no-untyped-def]
    """Run ``fn``; its result and the CPU seconds it took (this process only: the machine
    is shared, and CPU time is what the ratio should compare)."""
    start = time.process_time()
    result = fn(*args, **kw)
    return result, time.process_time() - start


class Collector:
    """CPU seconds the cyclic garbage collector spends while active (``gc.callbacks``): how
    much of a timed call is collections, e.g. the first one after a bulk load (which pauses
    the collector) walking every object the load made."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.process_time()
        else:
            self.seconds += time.process_time() - self._start

    def __enter__(self) -> Collector:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


def hold(G: nx.DiGraph) -> float:
    """CPU seconds networkx's own bulk constructors take to hold ``G`` again: its nodes and
    edges with their attributes, listed before the timing, added to an empty DiGraph with the
    collector paused (as ``d.graph()`` pauses it)."""
    nodes, edges = list(G.nodes(data=True)), list(G.edges(data=True))
    H = nx.DiGraph()
    with no_gc():
        _, seconds = timed(lambda: (H.add_nodes_from(nodes), H.add_edges_from(edges)))
    assert H.number_of_nodes() == G.number_of_nodes()
    assert H.number_of_edges() == G.number_of_edges()
    return seconds


def fill(G: nx.DiGraph) -> float:
    """CPU seconds the structure of ``G`` takes to fill directly, as ``d.graph()`` fills it:
    new attribute dicts for its nodes, an adjacency dict per node and direction, one data dict
    per edge stored on both sides; from lists made before the timing, the collector paused."""
    nodes = list(G.nodes(data=True))  # each dict is copied in the timing (dict.copy: the
    names = [n for n, _ in nodes]      # quickest way CPython has to make a new dict of them)
    edges = list(G.edges(data=True))
    H = nx.DiGraph()

    def run() -> None:
        H._node.update({n: a.copy() for n, a in nodes})
        succ, pred = H._succ, H._pred
        succ.update({n: {} for n in names})
        pred.update({n: {} for n in names})
        for u, v, d in edges:
            succ[u][v] = pred[v][u] = d.copy()

    with no_gc():
        _, seconds = timed(run)
    assert dict(H.nodes(data=True)) == dict(G.nodes(data=True))
    assert H.number_of_edges() == G.number_of_edges()
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--shape", choices=("tree", "synthetic"), default="tree")
    parser.add_argument("--no-directory", dest="directory", action="store_false",
                        help="skip d.graph() on a Directory holding the same entries")
    parser.add_argument("--budget", type=float, default=60.0,
                        help="seconds the full networkx baseline may take before sampling")
    args = parser.parse_args(argv)

    make = tree_entries if args.shape == "tree" else synthetic_entries
    entries, t_make = timed(make, args.users, args.groups)
    G, t_build = timed(graph.from_entries, entries)
    t_dir = t_dir2 = gc_dir = gc_dir2 = t_hold = t_fill = t_read = 0.0
    dir_same = True
    if args.directory:  # the call users make: the same entries in a Directory, d.graph()
        from ldapnb import Directory

        if args.shape == "tree":  # the tree shape has no suffix or OUs: add them first
            top = [Entry(SUFFIX, {"objectClass": ["domain"], "dc": ["example"]})] + [
                Entry(f"ou={ou},{SUFFIX}", {"objectClass": ["organizationalUnit"],
                                            "ou": [ou]}) for ou in ("People", "Groups")]
            entries = top + entries
        d = Directory.from_entries(entries)
        del entries
        with Collector() as collector:  # first call: also builds the memberOf back-links
            D, t_dir = timed(d.graph)
        gc_dir = collector.seconds
        del D
        with Collector() as collector:
            D, t_dir2 = timed(d.graph)
        gc_dir2 = collector.seconds
        dir_same = set(D.edges) == set(G.edges) and set(D.nodes) == set(G.nodes)
        t_hold = hold(D)
        t_fill = fill(D)
        with no_gc():
            _, t_read = timed(lambda: list(d.source.search_pages(
                d.base, "sub", "(objectClass=*)", graph.GRAPH_ATTRIBUTES)))
        del D, d
    else:
        del entries
    users = [n for n, kind in G.nodes(data="kind") if kind == "user"]
    groups = [n for n, kind in G.nodes(data="kind") if kind == "group"]
    n_cycles = len(graph.cycles(G))
    deepest = max(graph.depths(G).values())

    # ours: three runs, the median counts (the machine is shared and noisy)
    runs = [timed(graph.effective_membership, G, users) for _ in range(3)]
    ours = runs[0][0]
    t_ours_all = sorted(t for _, t in runs)
    t_ours = t_ours_all[1]
    frame, t_frame = timed(graph.membership_frame, G, users)

    # the baseline: one search per user, on a sample when the whole would take too long
    rng = random.Random(0)
    probe = rng.sample(users, min(len(users), 2000))
    _, t_probe = timed(lambda: [nx.descendants(G, u) for u in probe])
    projected = t_probe * len(users) / len(probe)
    if projected <= args.budget:
        theirs, t_nx = timed(lambda: {u: nx.descendants(G, u) for u in users})
        sampled = False
        checked = users
    else:
        sample = rng.sample(users, max(len(probe), int(len(users) * args.budget / projected)))
        theirs, t_sample = timed(lambda: {u: nx.descendants(G, u) for u in sample})
        t_nx = t_sample * len(users) / len(sample)
        sampled = True
        checked = sample
    mismatches = sum(1 for u in checked if theirs[u] != ours[u])
    frame_rows_ok = len(frame) == sum(len(ours[u]) for u in users)

    rows = [
        ("shape", f"{args.shape}: {len(users):,} users, {len(groups):,} groups, "
                  f"{G.number_of_edges():,} edges"),
        ("nesting", f"deepest group nesting {deepest} levels, {n_cycles} membership cycles"),
        ("effective groups per user", f"{len(frame) / max(1, len(users)):.1f} on average "
                                      f"({len(frame):,} rows)"),
        ("make entries", f"{t_make:8.2f} s"),
        ("graph.from_entries", f"{t_build:8.2f} s  (the baseline of d.graph())"),
    ]
    if args.directory:
        rows += [
            ("d.graph() on a Directory of them, first call", f"{t_dir:8.2f} s  (target <= 0.5 s; "
                                                             f"of which collector {gc_dir:.2f} s)"),
            ("d.graph() again", f"{t_dir2:8.2f} s  (collector {gc_dir2:.2f} s; "
                                f"{t_dir2 / t_build:.1f}x graph.from_entries; "
                                f"same nodes and edges: {'yes' if dir_same else 'NO'})"),
            ("networkx add_nodes_from + add_edges_from of them",
             f"{t_hold:8.2f} s  (the structure alone; d.graph() is {t_dir / t_hold:.1f}x first, "
             f"{t_dir2 / t_hold:.1f}x again)"),
            ("the same dicts filled directly (no read)",
             f"{t_fill:8.2f} s  (what d.graph() fills, alone: the floor; d.graph() is "
             f"{t_dir / t_fill:.1f}x first, {t_dir2 / t_fill:.1f}x again)"),
            ("the pages d.graph() reads (no build)",
             f"{t_read:8.2f} s  (with the fill: {t_fill + t_read:.2f} s before any DN is "
             "resolved)"),
        ]
    rows += [
        ("ldapnb effective_membership (all users)",
         f"{t_ours:8.2f} s  (median of {', '.join(f'{t:.2f}' for t in t_ours_all)})"),
        ("networkx.descendants per user" + (" (extrapolated)" if sampled else ""),
         f"{t_nx:8.2f} s" + (f"  from {len(checked):,} users timed" if sampled else "")),
        ("ratio (target >= 10x)", f"{t_nx / t_ours:8.1f} x"),
        ("graph.membership_frame (all users)", f"{t_frame:8.2f} s  (target <= 2 s)"),
        ("answers equal", f"{'yes' if not mismatches else f'NO: {mismatches} differ'} "
                          f"on {len(checked):,} users; long table rows "
                          f"{'match' if frame_rows_ok else 'DIFFER'}"),
    ]
    rows.append(("(times are CPU seconds of this process)", ""))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0 if not mismatches and frame_rows_ok and dir_same else 1


if __name__ == "__main__":
    raise SystemExit(main())
