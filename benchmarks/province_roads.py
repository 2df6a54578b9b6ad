"""Benchmark: a province-size road network (≈ 2.5 M OSM nodes) through graph building and OD.

Does a road network the size of a Henan PBF extract (2–3 million road nodes of the analysed
classes) fit the build machine — graph building and the OD matrix within about 4 GB and a few
minutes? The network is generated here with NumPy (no networkx loop per edge), shaped like an
OSM extract of a province:

* junctions: 60 % spread over Henan's bounding box, 40 % clustered around 18 city centres;
* links: a Delaunay triangulation of the junctions (planar), its minimum spanning tree plus
  20 % of the other triangle edges (mean junction degree ≈ 2.8), the longest edges dropped;
* classes per link: the spanning tree is the classed backbone (motorway 6 %, trunk 9 %,
  primary 18 %, secondary 27 %, tertiary 40 %), the other links are tertiary 25 %, secondary
  15 % or unclassified/residential 60 % (filtered out, as by ``roads.highway_classes``);
  motorways are dual carriageways (two one-way ways, each with its own shape nodes), 5 % of
  the other non-backbone links are one-way;
* every way has a Poisson number of shape nodes (mean 6) jittered off the straight line, so
  most nodes are interstitial as in OSM; 30 % of the ways carry a ``maxspeed`` tag (numbers,
  ``80 km/h``, ``60;80``, and junk such as ``signals``);
* node ids are shuffled large integers, like OSM ids; lengths are great-circle metres.

Steps timed, each with its peak resident memory (the kernel's high-water mark, reset before
each step through ``/proc/self/clear_refs``):

* agglonet's array path: :func:`agglonet.transport.road_arrays.prepare_road_arrays` (filter,
  speeds, osmnx-rule simplification, largest strong component, projection), then
  :meth:`RoadArrays.to_csr` and :func:`agglonet.transport.od.compute_od` for the 18 city seats;
* the peer, the networkx path the workflow uses today: building the raw ``MultiDiGraph``,
  :func:`agglonet.transport.graph.prepare_road_graph` (osmnx ``simplify_graph``,
  ``project_graph``) and ``compute_od`` on the graph. By default the peer runs on a sub-region
  (``--peer-fraction`` of the junctions, the west of the province), where the array path is run
  again on the same input; both must give the same simplified graph and the same OD matrix.
  ``--peer-full`` runs the peer on the whole province too and compares again (13 GB; not the
  default).

The last line is ``speedup_vs_networkx=<networkx path time / array path time, same input>``.

Run: ``.venv/bin/python benchmarks/province_roads.py [--junctions 260000] [--peer-fraction 0.1]``
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import Delaunay

from agglonet.transport.graph import prepare_road_graph
from agglonet.transport.od import compute_od
from agglonet.transport.road_arrays import prepare_road_arrays

#: Henan's bounding box (lon/lat), roughly 110.35–116.65 E, 31.38–36.37 N.
BBOX = (110.35, 31.38, 116.65, 36.37)
CLASSES = np.array(["motorway", "trunk", "primary", "secondary", "tertiary", "unclassified",
                    "residential"])
#: class shares of the backbone (spanning tree) links and of the other links
BACKBONE_P = np.array([0.06, 0.09, 0.18, 0.27, 0.40, 0.0, 0.0])
OTHER_P = np.array([0.0, 0.0, 0.0, 0.15, 0.25, 0.30, 0.30])
MAXSPEEDS = np.array(["120", "100", "80", "80 km/h", "60", "60;80", "40", "signals",
                      "CN:urban", "50 mph"], dtype=object)
N_CITIES = 18
EARTH_RADIUS_M = 6_371_009.0


# ------------------------------------------------------------------------------ measuring
def _status_mb(key: str) -> float:
    """Return a memory figure of this process from /proc/self/status (VmRSS, VmHWM), MB."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _reset_peak() -> None:
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:  # not Linux, or not allowed: peaks become cumulative
        pass


def step(label: str, func: Callable[[], Any]) -> tuple[Any, float]:
    """Run ``func``, print its wall time and peak RSS, return its result and the time."""
    _reset_peak()
    before = _status_mb("VmRSS")
    t0 = time.perf_counter()
    out = func()
    elapsed = time.perf_counter() - t0
    print(f"  {label:<46} {elapsed:8.1f} s   peak RSS {_status_mb('VmHWM'):8,.0f} MB "
          f"(before {before:,.0f} MB)", flush=True)
    return out, elapsed


# ------------------------------------------------------------------------------ generator
def _great_circle_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


def province_network(n_junctions: int, *, seed: int = 0,
                     ) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Generate the raw road network (see the module docstring).

    Returns
    -------
    (nodes, edges, cities)
        ``nodes`` indexed by node id with ``x`` (lon), ``y`` (lat); ``edges`` with ``u``, ``v``,
        ``length``, ``highway``, ``maxspeed``, ``oneway`` — one row per directed OSM segment;
        ``cities``: (18, 2) lon/lat of the city centres.
    """
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = BBOX
    cities = np.column_stack([rng.uniform(x0 + 0.3, x1 - 0.3, N_CITIES),
                              rng.uniform(y0 + 0.3, y1 - 0.3, N_CITIES)])
    n_spread = int(n_junctions * 0.6)
    spread = np.column_stack([rng.uniform(x0, x1, n_spread), rng.uniform(y0, y1, n_spread)])
    around = cities[rng.integers(0, N_CITIES, n_junctions - n_spread)]
    clustered = around + rng.normal(0, 0.15, (n_junctions - n_spread, 2))
    pts = np.clip(np.vstack([spread, clustered]), [x0, y0], [x1, y1])
    pts = np.unique(np.round(pts, 6), axis=0)
    n = len(pts)
    # Delaunay links, their MST (connected) plus a share of the other links
    tri = Delaunay(pts).simplices
    pairs = np.sort(np.vstack([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [0, 2]]]), axis=1)
    pairs = np.unique(pairs, axis=0)
    link_m = _great_circle_m(pts[pairs[:, 0], 0], pts[pairs[:, 0], 1],
                             pts[pairs[:, 1], 0], pts[pairs[:, 1], 1])
    mst = minimum_spanning_tree(coo_matrix((link_m, (pairs[:, 0], pairs[:, 1])),
                                           shape=(n, n))).tocoo()
    in_mst = set(zip(np.minimum(mst.row, mst.col).tolist(), np.maximum(mst.row, mst.col).tolist(),
                     strict=True))
    is_mst = np.fromiter(((a, b) in in_mst for a, b in pairs.tolist()), dtype=bool,
                         count=len(pairs))
    extra = (~is_mst) & (rng.random(len(pairs)) < 0.2) & (link_m < np.quantile(link_m, 0.95))
    links = pairs[is_mst | extra]
    backbone = is_mst[is_mst | extra]
    n_links = len(links)
    cls = np.where(backbone, rng.choice(len(CLASSES), size=n_links, p=BACKBONE_P),
                   rng.choice(len(CLASSES), size=n_links, p=OTHER_P))
    # ways: motorways twice (one per carriageway, opposite directions), others once
    motor = cls == 0
    way_link = np.concatenate([np.arange(n_links), np.flatnonzero(motor)])
    way_a = np.concatenate([links[:, 0], links[motor, 1]])
    way_b = np.concatenate([links[:, 1], links[motor, 0]])
    way_cls = cls[way_link]
    n_ways = len(way_link)
    oneway = motor[way_link] | (~backbone[way_link] & (rng.random(n_ways) < 0.05))
    has_ms = rng.random(n_ways) < 0.3
    way_ms = np.where(has_ms, MAXSPEEDS[rng.integers(0, len(MAXSPEEDS), n_ways)], None)
    # shape nodes along each way: k interior points, jittered sideways
    k = rng.poisson(6, n_ways)
    n_shape = int(k.sum())
    way_of_shape = np.repeat(np.arange(n_ways), k)
    rank = np.arange(n_shape) - np.repeat(np.cumsum(k) - k, k)
    frac = (rank + 1) / (k[way_of_shape] + 1)
    a, b = pts[way_a[way_of_shape]], pts[way_b[way_of_shape]]
    d = b - a
    normal = np.column_stack([-d[:, 1], d[:, 0]])
    shape_xy = a + d * frac[:, None] + normal * rng.normal(0, 0.03, n_shape)[:, None]
    xy = np.vstack([pts, shape_xy])
    # node sequence of every way: a, its shape nodes, b → segments
    seq_node = np.empty(n_ways * 2 + n_shape, dtype=np.int64)
    seq_start = np.cumsum(k + 2) - (k + 2)
    seq_node[seq_start] = way_a
    seq_node[seq_start + k + 1] = way_b
    interior = np.ones(len(seq_node), dtype=bool)
    interior[seq_start] = False
    interior[seq_start + k + 1] = False
    seq_node[interior] = n + np.arange(n_shape)
    seg_way = np.repeat(np.arange(n_ways), k + 1)
    last = np.zeros(len(seq_node), dtype=bool)
    last[seq_start + k + 1] = True
    seg_u = seq_node[~last]
    seg_v = seq_node[1:][~last[:-1]]
    seg_m = _great_circle_m(xy[seg_u, 0], xy[seg_u, 1], xy[seg_v, 0], xy[seg_v, 1])
    # directed edges: every segment forwards, two-way segments backwards too
    back = ~oneway[seg_way]
    u = np.concatenate([seg_u, seg_v[back]])
    v = np.concatenate([seg_v, seg_u[back]])
    e_way = np.concatenate([seg_way, seg_way[back]])
    ids = rng.permutation(np.arange(len(xy), dtype=np.int64) * 7 + 1_000_000_000)
    nodes = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]}, index=pd.Index(ids, name="osmid"))
    edges = pd.DataFrame({
        "u": ids[u], "v": ids[v],
        "length": np.concatenate([seg_m, seg_m[back]]),
        "highway": pd.Categorical.from_codes(way_cls[e_way], CLASSES).astype(object),
        "maxspeed": way_ms[e_way], "oneway": oneway[e_way]})
    return nodes, edges, cities


def subregion(nodes: pd.DataFrame, edges: pd.DataFrame, fraction: float,
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the western ``fraction`` of the nodes (by longitude) and the edges inside it."""
    cut = np.quantile(nodes["x"].to_numpy(), fraction)
    inside = nodes.index[nodes["x"] <= cut]
    keep = edges["u"].isin(inside) & edges["v"].isin(inside)
    sub_edges = edges[keep].reset_index(drop=True)
    used = np.unique(np.concatenate([sub_edges["u"], sub_edges["v"]]))
    return nodes.loc[used], sub_edges


def to_networkx(nodes: pd.DataFrame, edges: pd.DataFrame) -> nx.MultiDiGraph:
    """Build the raw graph in osmnx conventions (what a PBF reader hands to prepare_road_graph)."""
    G = nx.MultiDiGraph(crs="EPSG:4326", simplified=False)
    G.add_nodes_from(zip(nodes.index.tolist(),
                         ({"x": x, "y": y} for x, y in zip(nodes["x"].tolist(),
                                                           nodes["y"].tolist(), strict=True)),
                         strict=True))
    attrs = edges[["highway", "length", "maxspeed", "oneway"]]
    for u, v, hw, ln, ms, ow in zip(edges["u"].tolist(), edges["v"].tolist(),
                                    *(attrs[c].tolist() for c in attrs.columns), strict=True):
        data = {"highway": hw, "length": ln, "oneway": ow}
        if ms is not None:
            data["maxspeed"] = ms
        G.add_edge(u, v, **data)
    return G


def seats_frame(cities: np.ndarray) -> gpd.GeoDataFrame:
    """City seats as points (lon/lat)."""
    return gpd.GeoDataFrame({"adcode": np.arange(len(cities))},
                            geometry=gpd.points_from_xy(cities[:, 0], cities[:, 1]),
                            crs="EPSG:4326")


# ------------------------------------------------------------------------------ the two paths
def array_path(nodes: pd.DataFrame, edges: pd.DataFrame, seats: gpd.GeoDataFrame,
               ) -> tuple[Any, Any, float]:
    """Run the array path (prepare_road_arrays, to_csr, compute_od): roads, od, seconds."""
    roads, t1 = step("prepare_road_arrays", lambda: prepare_road_arrays(nodes, edges)[0])
    csr, t2 = step("RoadArrays.to_csr", roads.to_csr)
    od, t3 = step(f"compute_od ({len(seats)} seats)",
                  lambda: compute_od(csr, seats, graph_crs=roads.crs))
    return roads, od, t1 + t2 + t3


def networkx_path(nodes: pd.DataFrame, edges: pd.DataFrame, seats: gpd.GeoDataFrame,
                  ) -> tuple[Any, Any, float]:
    """Run the networkx path (raw graph, prepare_road_graph, compute_od): graph, od, seconds."""
    raw, t0 = step("build the raw networkx MultiDiGraph", lambda: to_networkx(nodes, edges))
    G, t1 = step("prepare_road_graph (osmnx)", lambda: prepare_road_graph(raw, source="bench")[0])
    raw.clear()
    od, t2 = step(f"compute_od on the graph ({len(seats)} seats)", lambda: compute_od(G, seats))
    return G, od, t0 + t1 + t2


def same_result(roads: Any, G: nx.MultiDiGraph, od_a: Any, od_b: Any) -> bool:
    """Check: same nodes, same edge multiset (u, v, length, travel time), same OD matrices."""
    ours = roads.edges_frame()[["u", "v", "length", "travel_time"]]
    theirs = pd.DataFrame([(a, b, d["length"], d["travel_time"])
                           for a, b, d in G.edges(data=True)],
                          columns=["u", "v", "length", "travel_time"])
    key = ["u", "v", "length", "travel_time"]
    ours = ours.sort_values(key).reset_index(drop=True)
    theirs = theirs.sort_values(key).reset_index(drop=True)
    nodes_equal = np.array_equal(np.sort(roads.node_ids), np.array(sorted(G.nodes)))
    edges_equal = ours.equals(theirs)
    xy = np.array([[G.nodes[n]["x"], G.nodes[n]["y"]] for n in roads.node_ids])
    xy_equal = np.array_equal(xy, np.column_stack([roads.x, roads.y]))
    od_equal = (np.array_equal(od_a.time_min, od_b.time_min, equal_nan=True)
                and np.array_equal(od_a.network_km, od_b.network_km, equal_nan=True))
    print(f"  same nodes {nodes_equal}, same edges {edges_equal} ({len(ours):,}), same node "
          f"coordinates {xy_equal}, same OD matrices {od_equal}")
    return nodes_equal and edges_equal and xy_equal and od_equal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--junctions", type=int, default=260_000,
                        help="junctions of the generated province (260,000 → ≈ 2.5 M nodes)")
    parser.add_argument("--peer-fraction", type=float, default=0.1,
                        help="share of the province the networkx peer runs on")
    parser.add_argument("--peer-full", action="store_true",
                        help="also run the networkx path on the whole province (13 GB)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"province_roads: {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    print("generating the province network")
    (nodes, edges, cities), _ = step("generate (NumPy)",
                                     lambda: province_network(args.junctions, seed=args.seed))
    seats = seats_frame(cities)
    n_raw = len(nodes)
    kept = edges["highway"].isin(["motorway", "trunk", "primary", "secondary", "tertiary"])
    n_class_nodes = len(np.unique(np.concatenate([edges.loc[kept, "u"], edges.loc[kept, "v"]])))
    print(f"  {n_raw:,} nodes ({n_class_nodes:,} on the analysed classes), {len(edges):,} "
          f"directed segments")

    print(f"array path, whole province ({n_raw:,} nodes)")
    roads, _, t_full = array_path(nodes, edges, seats)
    print(f"  → {roads.n_nodes:,} nodes, {roads.n_edges:,} edges after simplification; "
          f"{t_full:.1f} s in total")

    sub_nodes, sub_edges = subregion(nodes, edges, args.peer_fraction)
    print(f"sub-region for the peer: {len(sub_nodes):,} nodes, {len(sub_edges):,} segments")
    # seats of the sub-region: as many points as the province has cities, at random nodes
    pick = np.random.default_rng(args.seed).choice(len(sub_nodes), N_CITIES, replace=False)
    sub_seats = seats_frame(sub_nodes[["x", "y"]].to_numpy()[pick])
    print("  array path")
    roads_s, od_a, t_arrays = array_path(sub_nodes, sub_edges, sub_seats)
    print("  networkx path (peer)")
    G_s, od_n, t_networkx = networkx_path(sub_nodes, sub_edges, sub_seats)
    if not same_result(roads_s, G_s, od_a, od_n):
        raise SystemExit("the array path and the networkx path disagree")
    del G_s
    if args.peer_full:
        print(f"networkx path, whole province ({n_raw:,} nodes)")
        G, od_full_n, t_full_n = networkx_path(nodes, edges, seats)
        od_full_a = compute_od(roads.to_csr(), seats, graph_crs=roads.crs)
        if not same_result(roads, G, od_full_a, od_full_n):
            raise SystemExit("the array path and the networkx path disagree (whole province)")
        print(f"whole province: array path {t_full:.1f} s, networkx path {t_full_n:.1f} s "
              f"({t_full_n / t_full:.1f}x)")
    print(f"sub-region: array path {t_arrays:.1f} s, networkx path {t_networkx:.1f} s")
    print(f"speedup_vs_networkx={t_networkx / t_arrays:.1f}")


if __name__ == "__main__":
    main()
