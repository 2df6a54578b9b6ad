"""Benchmark: agglonet's OD computation vs the osmnx way (one networkx Dijkstra per pair).

Two graphs:

1. the offline proxy road graph of ``central_plains_core`` (built from
   ``resources/central_plains_core/seats.gpkg`` if present; skipped with a message otherwise);
2. a road-like graph of >= 200,000 nodes generated here: a perturbed 450 x 450 grid with ~8 %
   of the links removed, a road hierarchy (every 10th line primary, every 50th motorway, the
   rest residential), two-way edges, lengths = jittered Euclidean lengths.

For 26 seats (26 x 25 = 650 ordered pairs) it times

* agglonet: ``graph_to_csr`` (networkx -> CSR, parallel-edge minimum) + ``network_od`` (one
  ``scipy.sparse.csgraph.dijkstra`` call for the 26 sources, travel time and the length along
  the fastest path); the CSR-only time is printed too;
* osmnx: ``osmnx.routing.shortest_path(G, orig, dest, weight="travel_time")`` per pair on the
  MultiDiGraph. On the large graph only a seeded random sample of pairs is timed and the time
  is extrapolated to 650 pairs (said so in the output).

and checks that the travel times agree (relative 1e-6) on every timed pair. The last line is
``speedup_vs_osmnx=<agglonet incl. conversion vs osmnx, large graph>``.

Run: ``.venv/bin/python benchmarks/od_matrix.py [--sample 30]`` (under 5 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox

from agglonet.transport.od import graph_to_csr, network_od

N_SEATS = 26
RESOURCES = Path(__file__).resolve().parents[1] / "resources" / "central_plains_core"


def road_like_graph(side: int = 450, *, seed: int = 0) -> nx.MultiDiGraph:
    """Perturbed grid with a road hierarchy (see module docstring); osmnx conventions."""
    rng = np.random.default_rng(seed)
    spacing = 200.0
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = jj * spacing + rng.uniform(-40, 40, size=ii.shape)
    y = ii * spacing + rng.uniform(-40, 40, size=ii.shape)
    node = ii * side + jj
    G = nx.MultiDiGraph(crs="EPSG:32650")
    G.add_nodes_from((int(n), {"x": float(a), "y": float(b)})
                     for n, a, b in zip(node.ravel(), x.ravel(), y.ravel(), strict=True))
    speeds = {"motorway": 110.0, "primary": 60.0, "residential": 25.0}

    def links(a, b, line_index):
        keep = rng.random(a.shape) > 0.08
        cls = np.where(line_index % 50 == 0, "motorway",
                       np.where(line_index % 10 == 0, "primary", "residential"))
        # arterial lines are never broken, so the hierarchy stays connected
        keep |= cls != "residential"
        return a[keep], b[keep], cls[keep]

    edges = []
    for a, b, idx in ((node[:, :-1], node[:, 1:], ii[:, :-1]),   # east-west links on row i
                      (node[:-1, :], node[1:, :], jj[:-1, :])):  # north-south links on col j
        ua, ub, cls = links(a.ravel(), b.ravel(), idx.ravel())
        edges.append((ua, ub, cls))
    xs, ys = x.ravel(), y.ravel()
    for ua, ub, cls in edges:
        length = np.hypot(xs[ua] - xs[ub], ys[ua] - ys[ub]) * rng.uniform(1.0, 1.1, len(ua))
        tt = length / (np.vectorize(speeds.get)(cls) / 3.6)
        for u, v, c, ln, t in zip(ua.tolist(), ub.tolist(), cls.tolist(), length.tolist(),
                                  tt.tolist(), strict=True):
            G.add_edge(u, v, highway=c, length=ln, travel_time=t)
            G.add_edge(v, u, highway=c, length=ln, travel_time=t)
    return G


def proxy_graph() -> nx.MultiDiGraph | None:
    """Return the proxy road graph of central_plains_core, or None if its seats are missing."""
    seats_path = RESOURCES / "seats.gpkg"
    if not seats_path.exists():
        return None
    from agglonet.io import read_layer
    from agglonet.transport.loaders import load_roads
    from agglonet.transport.proxy import write_proxy_osm

    with tempfile.TemporaryDirectory() as tmp:
        osm = Path(tmp) / "proxy.osm"
        write_proxy_osm(osm, read_layer(seats_path, "seats"),
                        read_layer(seats_path, "county_seats"))
        G, _ = load_roads(source="proxy", proxy_path=osm)
    return G


def path_time(G: nx.MultiDiGraph, path: list) -> float:
    return sum(min(d["travel_time"] for d in G[u][v].values())
               for u, v in zip(path[:-1], path[1:], strict=True))


def run(G: nx.MultiDiGraph, label: str, *, sample: int | None, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    nodes = np.array(sorted(G.nodes))
    seats = rng.choice(nodes, size=min(N_SEATS, len(nodes)), replace=False)
    pairs = [(a, b) for a in range(len(seats)) for b in range(len(seats)) if a != b]
    print(f"[{label}] {G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges, "
          f"{len(seats)} seats, {len(pairs)} ordered pairs")

    t0 = time.perf_counter()
    csr = graph_to_csr(G)
    t1 = time.perf_counter()
    rows = np.searchsorted(csr.node_ids, seats)
    time_s, _length_m = network_od(csr, rows)
    t2 = time.perf_counter()
    ours_total, ours_csr = t2 - t0, t2 - t1
    print(f"[{label}] agglonet: {ours_total:.3f} s total ({t1 - t0:.3f} s networkx->CSR, "
          f"{ours_csr:.3f} s Dijkstra for {len(seats)} sources + path lengths)")

    timed = pairs
    if sample is not None and sample < len(pairs):
        idx = rng.choice(len(pairs), size=sample, replace=False)
        timed = [pairs[i] for i in sorted(idx)]
    origs = [seats[a] for a, _ in timed]
    dests = [seats[b] for _, b in timed]
    t0 = time.perf_counter()
    routes = ox.routing.shortest_path(G, origs, dests, weight="travel_time", cpus=1)
    t_osmnx = time.perf_counter() - t0
    t_osmnx_all = t_osmnx * len(pairs) / len(timed)
    note = "" if len(timed) == len(pairs) else (
        f" (timed {len(timed)} random pairs: {t_osmnx:.2f} s, extrapolated to {len(pairs)})")
    print(f"[{label}] osmnx shortest_path per pair: {t_osmnx_all:.2f} s for {len(pairs)} "
          f"pairs{note}")

    worst = 0.0
    for (a, b), route in zip(timed, routes, strict=True):
        ref = path_time(G, route)
        worst = max(worst, abs(time_s[a, b] - ref) / ref)
    agree = worst <= 1e-6
    print(f"[{label}] travel times agree on {len(timed)} pairs: {agree} "
          f"(max relative difference {worst:.2e})")
    if not agree:
        raise SystemExit(f"[{label}] results disagree: max relative difference {worst:.2e}")
    speedup = t_osmnx_all / ours_total
    print(f"[{label}] speedup incl. conversion: {speedup:.1f}x; Dijkstra only: "
          f"{t_osmnx_all / ours_csr:.1f}x")
    return {"speedup": speedup}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=30,
                        help="pairs timed with osmnx on the large graph (extrapolated)")
    parser.add_argument("--side", type=int, default=450, help="grid side of the large graph")
    args = parser.parse_args()
    start = time.perf_counter()

    G = proxy_graph()
    if G is None:
        print(f"[proxy] skipped: {RESOURCES / 'seats.gpkg'} not found (run the retrieve stage)")
    else:
        run(G, "proxy", sample=None)

    t0 = time.perf_counter()
    G = road_like_graph(args.side)
    print(f"[road-like] generated in {time.perf_counter() - t0:.1f} s")
    result = run(G, "road-like", sample=args.sample)
    print(f"total benchmark time {time.perf_counter() - start:.0f} s")
    print(f"speedup_vs_osmnx={result['speedup']:.1f}")


if __name__ == "__main__":
    main()
