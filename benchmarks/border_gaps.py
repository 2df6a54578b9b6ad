"""Benchmark: the time saved by closing border gaps, agglonet vs networkx (add the link, rerun).

A generated lattice of ``--size``² nodes (1 km apart, two-way roads at random speeds of
40–100 km/h) is split by a border down the middle: two cities, every road across it cut except
every tenth row. At ``--gaps`` rows the two cut roads end in stubs 400 m short of the border on
either side, 800 m apart: border gaps. Six cities (west and east of the border, three bands
each) have a seat at their centre.

* agglonet: :func:`agglonet.transport.border_gaps.border_results` — road ends, regions, the
  borders of every OD pair, the gaps, and each gap's time saved from the seats' Dijkstra trees
  and one forward Dijkstra from each node of the link (scipy csgraph).
* networkx: what one writes without it — for every gap found, add the link to a copy of the
  graph and recompute the seat-to-seat times (``networkx.single_source_dijkstra_path_length``
  from every seat), once more for the network without any link.

Both must give the same largest and total time saved per gap (to 1e-6 min); the last line is
``speedup_vs_networkx=<number>``. Run by hand: ``python benchmarks/border_gaps.py``.

Measured on the 2-core build machine (load average about 3, other jobs running): 200 × 200 =
40,040 nodes, 158,920 directed edges, 19 gaps, 6 seats: agglonet 1.44 s (everything
``border_results`` does, the OD paths' borders included), networkx 19.7 s, the same times
saved: speedup 13.7. On 60 × 60 (6 gaps): 0.15 s vs 0.47 s, 3.2.
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from shapely.geometry import Point, box

from agglonet.crs import CHINA_ALBERS
from agglonet.transport.border_gaps import border_results

X0, Y0 = 600_000.0, 3_830_000.0


def lattice(size: int, gaps: int, seed: int = 7) -> tuple[nx.MultiDiGraph, list[int]]:
    """Build the road lattice with its border stubs; return it and the rows of the gaps."""
    rng = np.random.default_rng(seed)
    G = nx.MultiDiGraph(crs=CHINA_ALBERS)
    mid = size // 2  # the border runs between columns mid − 1 and mid
    node = {(i, j): i * size + j for i in range(size) for j in range(size)}
    for (i, j), n in node.items():
        G.add_node(n, x=X0 + j * 1000.0, y=Y0 + i * 1000.0)

    def road(a: int, b: int, length_m: float) -> None:
        speed = float(rng.uniform(40, 100))
        for u, v in ((a, b), (b, a)):
            G.add_edge(u, v, length=length_m, travel_time=length_m / (speed / 3.6),
                       speed_kph=speed, highway="tertiary")

    gap_rows = [int(r) for r in np.linspace(5, size - 6, gaps).round()]
    for (i, j), n in node.items():
        if i + 1 < size:
            road(n, node[(i + 1, j)], 1000.0)
        if j + 1 < size and (j + 1 != mid or i % 10 == 0):
            road(n, node[(i, j + 1)], 1000.0)
    stub = size * size
    for i in gap_rows:
        if i % 10 == 0:
            continue
        west, east = stub, stub + 1
        stub += 2
        border_x = X0 + (mid - 0.5) * 1000.0
        G.add_node(west, x=border_x - 400.0, y=Y0 + i * 1000.0)
        G.add_node(east, x=border_x + 400.0, y=Y0 + i * 1000.0)
        road(node[(i, mid - 1)], west, 100.0)
        road(east, node[(i, mid)], 100.0)
    return G, gap_rows


def networkx_savings(G: nx.MultiDiGraph, seats: list[int], links: list[tuple[int, int, float]]
                     ) -> list[tuple[float, float]]:
    """Largest and total time saved (min) per link, by adding it and recomputing every pair."""
    D = nx.DiGraph()
    for u, v, d in G.edges(data=True):  # the fastest parallel edge, as agglonet's CSR keeps
        if not D.has_edge(u, v) or d["travel_time"] < D[u][v]["travel_time"]:
            D.add_edge(u, v, travel_time=d["travel_time"])

    def times(H: nx.DiGraph) -> np.ndarray:
        out = np.empty((len(seats), len(seats)))
        for k, s in enumerate(seats):
            dist = nx.single_source_dijkstra_path_length(H, s, weight="travel_time")
            out[k] = [dist[t] for t in seats]
        return out

    base = times(D)
    result = []
    for a, b, t_link in links:
        H = D.copy()
        H.add_edge(a, b, travel_time=t_link)
        H.add_edge(b, a, travel_time=t_link)
        saved = np.maximum(base - times(H), 0.0) / 60.0
        saved[saved < 1e-9] = 0.0
        result.append((float(saved.max()), float(saved.sum())))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--gaps", type=int, default=20)
    args = parser.parse_args()
    G, _ = lattice(args.size, args.gaps)
    # six cities: two columns (west, east of the border) × three bands, a seat in each
    side = args.size * 1000.0
    xs = [X0 - 1000.0, X0 + (args.size // 2 - 0.5) * 1000.0, X0 + side]
    ys = [Y0 - 1000.0, Y0 + side / 3, Y0 + 2 * side / 3, Y0 + side]
    blocks = [box(xs[c], ys[r], xs[c + 1], ys[r + 1]) for r in range(3) for c in range(2)]
    codes = [f"4101{k:02d}" for k in range(6)]
    cities = gpd.GeoDataFrame({"adcode": codes, "name_zh": codes, "province_zh": "甲省"},
                              geometry=blocks, crs=CHINA_ALBERS)
    seat_nodes = [int(((ys[r] + ys[r + 1]) / 2 - Y0) // 1000) * args.size
                  + int(((xs[c] + xs[c + 1]) / 2 - X0) // 1000)
                  for r in range(3) for c in range(2)]
    seats = gpd.GeoDataFrame(
        {"adcode": codes, "name_en": [f"S{k}" for k in range(6)]},
        geometry=[Point(G.nodes[n]["x"], G.nodes[n]["y"]) for n in seat_nodes], crs=CHINA_ALBERS)
    od = pd.DataFrame([{"origin_adcode": a, "dest_adcode": b, "linkage_strength": 1.0}
                       for a in codes for b in codes if a != b])

    start = time.perf_counter()
    out = border_results(G, seats=seats, cities=cities, od=od, area=None)
    ours_s = time.perf_counter() - start
    gaps = out["gaps"]
    links = []
    for _, g in gaps.iterrows():
        end = int(g["end_node"])
        across = [n for n in G.nodes if n != end and np.hypot(
            G.nodes[n]["x"] - G.nodes[end]["x"], G.nodes[n]["y"] - G.nodes[end]["y"]) == g["gap_m"]]
        links.append((end, across[0], g["link_time_min"] * 60.0))
    start = time.perf_counter()
    theirs = networkx_savings(G, seat_nodes, links)
    peer_s = time.perf_counter() - start
    ours = list(zip(gaps["time_saved_max_min"], gaps["time_saved_sum_min"], strict=True))
    assert len(gaps) >= 1, "no gap found"
    np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=0, atol=1e-6)
    print(f"lattice {args.size} x {args.size} = {G.number_of_nodes():,} nodes, "
          f"{G.number_of_edges():,} directed edges; {len(gaps)} gaps, 6 seats")
    print(f"agglonet border_results (regions, borders of 30 OD paths, gaps, time saved): "
          f"{ours_s:.2f} s")
    print(f"networkx (add each link, rerun 6 Dijkstras; and once without): {peer_s:.2f} s")
    print("largest and total time saved per gap: equal to 1e-6 min")
    print(f"speedup_vs_networkx={peer_s / ours_s:.2f}")


if __name__ == "__main__":
    main()
