"""OD matrices against an independent networkx computation."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from shapely.geometry import Point

from agglonet.errors import EmptyNetworkError
from agglonet.transport.od import compute_od, csr_from_arrays, graph_to_csr, network_od

CRS = "EPSG:32650"


def _random_graph(seed: int = 1, n: int = 60) -> nx.MultiDiGraph:
    """Random directed road-like graph with parallel edges and one zero-time edge."""
    rng = np.random.default_rng(seed)
    G = nx.MultiDiGraph(crs=CRS)
    xy = rng.uniform(0, 50_000, size=(n, 2))
    for i, (x, y) in enumerate(xy):
        G.add_node(i, x=float(x), y=float(y))
    for i in range(n):
        for j in rng.choice(n, size=3, replace=False):
            if i == j:
                continue
            length = float(np.hypot(*(xy[i] - xy[j]))) * rng.uniform(1.0, 1.3)
            G.add_edge(i, int(j), length=length, travel_time=length / rng.uniform(8, 30))
    # parallel edges: a slower and a faster alternative between 0 and 1
    G.add_edge(0, 1, length=1000.0, travel_time=500.0)
    G.add_edge(0, 1, length=1200.0, travel_time=40.0)
    G.add_edge(0, 1, length=800.0, travel_time=900.0)
    G.add_edge(2, 3, length=5.0, travel_time=0.0)  # zero weight must not vanish
    # an isolated pair of nodes: unreachable from everything else
    G.add_node(n, x=-90_000.0, y=-90_000.0)
    G.add_node(n + 1, x=-90_100.0, y=-90_000.0)
    G.add_edge(n, n + 1, length=100.0, travel_time=10.0)
    G.add_edge(n + 1, n, length=100.0, travel_time=10.0)
    return G


def _nx_reference(G: nx.MultiDiGraph, s: int, t: int) -> tuple[float, float]:
    """Travel time and length of the fastest path via networkx on a DiGraph of min edges."""
    H = nx.DiGraph()
    for u, v, d in G.edges(data=True):
        w = max(d["travel_time"], 1e-3)
        if not H.has_edge(u, v) or H[u][v]["w"] > w:
            H.add_edge(u, v, w=w, length=d["length"])
    if s == t:
        return 0.0, 0.0
    try:
        path = nx.dijkstra_path(H, s, t, weight="w")
    except nx.NetworkXNoPath:
        return np.inf, np.inf
    time_s = sum(H[a][b]["w"] for a, b in zip(path[:-1], path[1:], strict=True))
    length = sum(H[a][b]["length"] for a, b in zip(path[:-1], path[1:], strict=True))
    return time_s, length


def test_network_od_matches_networkx():
    G = _random_graph()
    csr = graph_to_csr(G)
    seats = np.array([0, 1, 2, 3, 7, 19, 33, 59, 60])
    rows = np.searchsorted(csr.node_ids, seats)
    t, ln = network_od(csr, rows)
    for a, s in enumerate(seats):
        for b, u in enumerate(seats):
            ref_t, ref_l = _nx_reference(G, int(s), int(u))
            if np.isinf(ref_t):
                assert np.isinf(t[a, b]) and np.isinf(ln[a, b])
            else:
                assert t[a, b] == pytest.approx(ref_t, rel=1e-9)
                assert ln[a, b] == pytest.approx(ref_l, rel=1e-9)


def test_parallel_edges_min_and_zero_clamp():
    # 0->1 three parallel edges (times 5, 3, 7): the CSR keeps 3 and its length 30
    u = np.array([0, 0, 0, 1])
    v = np.array([1, 1, 1, 2])
    t = np.array([5.0, 3.0, 7.0, 0.0])
    ln = np.array([50.0, 30.0, 70.0, 10.0])
    csr = csr_from_arrays(u, v, t, ln, n_nodes=3, min_weight_s=0.5)
    assert csr.time_s[0, 1] == 3.0
    assert csr.length_m[0, 1] == 30.0
    assert csr.time_s[1, 2] == 0.5  # clamped
    tt, ll = network_od(csr, np.array([0]), np.array([2]))
    assert tt[0, 0] == pytest.approx(3.5)
    assert ll[0, 0] == pytest.approx(40.0)
    with pytest.raises(EmptyNetworkError):
        csr_from_arrays(np.array([]), np.array([]), np.array([]), np.array([]), n_nodes=2)


def test_distance_is_along_fastest_path_not_shortest():
    # A->B direct: 10 km at 10 m/s (1000 s); detour A->C->B: 14 km at 28 m/s (500 s)
    G = nx.MultiDiGraph(crs=CRS)
    for n, (x, y) in {0: (0, 0), 1: (10_000, 0), 2: (5_000, 5_000)}.items():
        G.add_node(n, x=x, y=y)
    G.add_edge(0, 1, length=10_000.0, travel_time=1000.0)
    G.add_edge(0, 2, length=7_000.0, travel_time=250.0)
    G.add_edge(2, 1, length=7_000.0, travel_time=250.0)
    t, ln = network_od(graph_to_csr(G), np.array([0]), np.array([1]))
    assert t[0, 0] == pytest.approx(500.0)
    assert ln[0, 0] == pytest.approx(14_000.0)


def test_compute_od_access_legs_and_unreachable():
    G = _random_graph()
    # seat a: 100 m east of node 0; seat b: exactly on node 5; seat c: 300 m north of node 60
    pts = [Point(G.nodes[0]["x"] + 100, G.nodes[0]["y"]), Point(G.nodes[5]["x"], G.nodes[5]["y"]),
           Point(G.nodes[60]["x"], G.nodes[60]["y"] + 300)]
    seats = gpd.GeoDataFrame({"adcode": ["1", "2", "3"]}, geometry=pts, crs=CRS)
    od = compute_od(G, seats, offroad_speed_kph=6.0)
    # 6 km/h = 100 m/min: access legs 1 min, 0 min, 3 min
    assert od.snap["access_leg_min"].to_numpy() == pytest.approx([1.0, 0.0, 3.0], abs=1e-9)
    assert od.snap["node"].tolist() == [0, 5, 60]
    ref_t, ref_l = _nx_reference(G, 0, 5)
    assert od.time_min[0, 1] == pytest.approx(ref_t / 60 + 1.0)
    assert od.network_km[0, 1] == pytest.approx((ref_l + 100) / 1000)
    assert np.isnan(od.time_min[0, 2]) and np.isnan(od.network_km[2, 1])
    assert not od.reachable[0, 2] and od.reachable[0, 1]
    assert od.time_min[1, 1] == 0.0
    assert od.euclid_km[0, 1] == pytest.approx(pts[0].distance(pts[1]) / 1000)
