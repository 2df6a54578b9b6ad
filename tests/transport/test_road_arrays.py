"""The array path of graph building against hand-computed values and the networkx/osmnx path."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pytest

from agglonet.errors import DataError, EmptyNetworkError
from agglonet.transport.graph import prepare_road_graph
from agglonet.transport.od import compute_od
from agglonet.transport.road_arrays import prepare_road_arrays

SPEEDS = {"motorway": 110, "trunk": 80, "primary": 60, "secondary": 40, "tertiary": 30,
          "residential": 20}
CLASSES = ["motorway", "trunk", "primary", "secondary", "tertiary"]


def _add_way(G: nx.MultiDiGraph, nodes: list[int], lengths: list[float], highway: str, *,
             oneway: bool = False, maxspeed: list[str | None] | None = None) -> None:
    """One OSM way: segments between consecutive nodes, both directions unless one-way."""
    for i, (a, b) in enumerate(zip(nodes[:-1], nodes[1:], strict=True)):
        data = {"highway": highway, "length": float(lengths[i]), "oneway": oneway}
        if maxspeed and maxspeed[i] is not None:
            data["maxspeed"] = maxspeed[i]
        G.add_edge(a, b, **data)
        if not oneway:
            G.add_edge(b, a, **data)


def hand_graph() -> nx.MultiDiGraph:
    """A raw graph with every case the simplification rules distinguish (see the test)."""
    G = nx.MultiDiGraph(crs="EPSG:4326", simplified=False)
    coords = {1: (113.00, 34.00), 2: (113.10, 34.00), 3: (113.10, 34.10), 4: (113.00, 34.10),
              11: (113.03, 34.00), 12: (113.06, 34.00), 31: (113.05, 34.11), 32: (113.05, 34.09),
              41: (113.00, 34.05), 61: (113.05, 34.05), 71: (113.14, 33.98), 72: (113.12, 33.99),
              91: (113.03, 33.97), 101: (113.11, 33.97), 102: (113.09, 33.97),
              201: (112.90, 34.20), 202: (112.91, 34.20), 203: (112.91, 34.21),
              301: (112.80, 33.80), 302: (112.81, 33.80)}
    for n, (x, y) in coords.items():
        G.add_node(n, x=x, y=y)
    G.nodes[41]["place"] = "village"
    _add_way(G, [1, 11, 12, 2], [1000, 2000, 3000], "primary", maxspeed=[None, "80", None])
    _add_way(G, [11, 91], [800], "residential")                     # filtered out
    _add_way(G, [2, 3], [4000], "secondary")
    _add_way(G, [3, 31, 4], [1500, 1500], "trunk", oneway=True)
    _add_way(G, [4, 32, 3], [1000, 2000], "trunk", oneway=True)
    _add_way(G, [4, 41, 1], [500, 700], "tertiary")                 # 41 is a place
    _add_way(G, [1, 61], [1000], "primary")                         # class changes at 61
    _add_way(G, [61, 3], [1200], "secondary")
    _add_way(G, [2, 72, 71], [300, 400], "tertiary")                # dead end 71
    _add_way(G, [2, 101, 102, 2], [100, 100, 100], "tertiary")      # loop back to 2
    _add_way(G, [201, 202, 203, 201], [90, 90, 90], "tertiary")     # ring, no endpoint
    _add_way(G, [301, 302], [1000], "primary")                      # another component
    _add_way(G, [3, 4], [5000], "secondary")                        # two ways between 3 and 4
    _add_way(G, [3, 4], [5200], "secondary")
    return G


def random_graph(seed: int, side: int = 14) -> nx.MultiDiGraph:
    """A perturbed grid of junctions joined by ways with shape nodes, random classes (some
    filtered), one-way ways and maxspeed tags."""
    rng = np.random.default_rng(seed)
    G = nx.MultiDiGraph(crs="EPSG:4326", simplified=False)
    ids = iter(rng.permutation(100_000)[: side * side * 20].tolist())
    junction = {}
    for i in range(side):
        for j in range(side):
            junction[i, j] = next(ids)
            G.add_node(junction[i, j], x=113 + 0.02 * j + rng.normal(0, 0.003),
                       y=34 + 0.02 * i + rng.normal(0, 0.003))
    classes = [*CLASSES, "residential"]
    for (i, j), a in junction.items():
        for di, dj in ((0, 1), (1, 0)):
            if (i + di, j + dj) not in junction or rng.random() < 0.15:
                continue
            b = junction[i + di, j + dj]
            k = int(rng.integers(0, 4))
            shape = [next(ids) for _ in range(k)]
            for n, f in zip(shape, np.linspace(0, 1, k + 2)[1:-1], strict=True):
                G.add_node(n, x=G.nodes[a]["x"] * (1 - f) + G.nodes[b]["x"] * f,
                           y=G.nodes[a]["y"] * (1 - f) + G.nodes[b]["y"] * f)
            path = [a, *shape, b]
            lengths = rng.uniform(200, 900, k + 1).tolist()
            maxspeed = [rng.choice(["60", "80 km/h", "signals"]) if rng.random() < 0.3
                        else None for _ in lengths]
            hw = classes[int(rng.integers(0, len(classes)))]
            _add_way(G, path, lengths, hw, oneway=bool(rng.random() < 0.1), maxspeed=maxspeed)
            if rng.random() < 0.05:  # a place node on the way
                G.nodes[path[len(path) // 2]]["place"] = "hamlet"
    return G


def arrays_of(G: nx.MultiDiGraph):
    nodes, edges = ox.graph_to_gdfs(G, fill_edge_geometry=False)
    return prepare_road_arrays(pd.DataFrame(nodes.drop(columns="geometry")), edges,
                               highway_classes=CLASSES, speeds_kph=SPEEDS)


def edge_table(rows) -> pd.DataFrame:
    key = ["u", "v", "length", "travel_time"]
    return pd.DataFrame(list(rows), columns=key).sort_values(key).reset_index(drop=True)


def test_hand_graph_merges_chains_as_computed_by_hand() -> None:
    roads, report = arrays_of(hand_graph())
    # kept: the junctions, the place node 41, the class change 61 and the dead end 71
    assert sorted(roads.node_ids.tolist()) == [1, 2, 3, 4, 41, 61, 71]
    # primary 1-11-12-2: 1000 m at 60, 2000 m at 80 (maxspeed), 3000 m at 60 km/h
    t_12 = 1000 / (60 / 3.6) + 2000 / (80 / 3.6) + 3000 / (60 / 3.6)    # 330 s
    expected = edge_table([
        (1, 2, 6000.0, t_12), (2, 1, 6000.0, t_12),
        (2, 3, 4000.0, 360.0), (3, 2, 4000.0, 360.0),
        (3, 4, 3000.0, 135.0), (4, 3, 3000.0, 135.0),                   # one-way trunks
        (4, 41, 500.0, 60.0), (41, 4, 500.0, 60.0), (41, 1, 700.0, 84.0), (1, 41, 700.0, 84.0),
        (1, 61, 1000.0, 60.0), (61, 1, 1000.0, 60.0), (61, 3, 1200.0, 108.0),
        (3, 61, 1200.0, 108.0),
        (2, 71, 700.0, 84.0), (71, 2, 700.0, 84.0),
        (2, 2, 300.0, 36.0), (2, 2, 300.0, 36.0),                       # the loop, both ways
        (3, 4, 5000.0, 450.0), (4, 3, 5000.0, 450.0), (3, 4, 5200.0, 468.0), (4, 3, 5200.0, 468.0),
    ])
    got = roads.edges_frame()
    ours = edge_table(got[["u", "v", "length", "travel_time"]].itertuples(index=False, name=None))
    pd.testing.assert_frame_equal(ours.astype(float), expected.astype(float), rtol=1e-12)
    speed = got.set_index(["u", "v"]).loc[(1, 2), "speed_kph"]
    assert speed == pytest.approx(6000 / 330 * 3.6)                  # mixed: length / time
    assert report["edges_filtered"] == report["edges_raw"] - 2        # the residential way
    assert report["components"]["n_components"] == 2                 # 301-302 dropped
    assert report["components"]["nodes_dropped"] == 2


@pytest.mark.parametrize("graph", ["hand", 1, 2, 3])
def test_same_graph_and_od_as_the_networkx_path(graph) -> None:
    G = hand_graph() if graph == "hand" else random_graph(graph)
    roads, report = arrays_of(G)
    H, report_nx = prepare_road_graph(G, highway_classes=CLASSES, speeds_kph=SPEEDS,
                                      source="test")
    assert sorted(roads.node_ids.tolist()) == sorted(H.nodes)
    theirs = edge_table([(a, b, d["length"], d["travel_time"]) for a, b, d in H.edges(data=True)])
    ours = edge_table(roads.edges_frame()[["u", "v", "length", "travel_time"]]
                      .itertuples(index=False, name=None))
    pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
    speeds_nx = sorted(round(d["speed_kph"], 9) for _, _, d in H.edges(data=True))
    assert sorted(np.round(roads.speed_kph, 9).tolist()) == speeds_nx
    xy = np.array([[H.nodes[n]["x"], H.nodes[n]["y"]] for n in roads.node_ids])
    np.testing.assert_array_equal(xy, np.column_stack([roads.x, roads.y]))
    for key in ("n_components", "nodes_kept", "nodes_dropped", "edges_kept", "edges_dropped"):
        assert report["components"][key] == report_nx["components"][key], key
    # the OD matrix of both: identical numbers
    rng = np.random.default_rng(0)
    pick = rng.choice(len(roads.node_ids), size=min(6, len(roads.node_ids)), replace=False)
    lonlat = ox.graph_to_gdfs(G, edges=False).loc[roads.node_ids[pick]]
    seats = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lonlat["x"] + 0.001, lonlat["y"]),
                             crs="EPSG:4326")
    od_arrays = compute_od(roads.to_csr(), seats, graph_crs=roads.crs)
    od_graph = compute_od(H, seats)
    np.testing.assert_array_equal(od_arrays.time_min, od_graph.time_min)
    np.testing.assert_array_equal(od_arrays.network_km, od_graph.network_km)


def test_parallel_ways_keep_their_middle_node() -> None:
    # two ways digitised over the same nodes 1-2-3: node 2 has parallel duplicates and stays
    G = nx.MultiDiGraph(crs="EPSG:4326", simplified=False)
    for n, x in ((1, 113.0), (2, 113.01), (3, 113.02), (4, 113.03)):
        G.add_node(n, x=x, y=34.0)
    _add_way(G, [1, 2, 3], [100, 100], "primary")
    _add_way(G, [1, 2, 3], [100, 100], "primary")
    _add_way(G, [3, 4], [50], "secondary")
    roads, _ = arrays_of(G)
    assert sorted(roads.node_ids.tolist()) == [1, 2, 3, 4]
    assert roads.n_edges == 10  # 1-2 and 2-3 twice each way, 3-4 each way


def test_no_road_of_the_classes_is_an_error() -> None:
    G = nx.MultiDiGraph(crs="EPSG:4326", simplified=False)
    G.add_node(1, x=113.0, y=34.0)
    G.add_node(2, x=113.1, y=34.0)
    _add_way(G, [1, 2], [100], "residential")
    with pytest.raises(EmptyNetworkError, match="residential"):
        arrays_of(G)


def test_edge_to_unknown_node_is_an_error() -> None:
    nodes = pd.DataFrame({"x": [113.0], "y": [34.0]}, index=[1])
    edges = pd.DataFrame({"u": [1], "v": [2], "length": [10.0], "highway": ["primary"]})
    with pytest.raises(DataError, match="missing from the node table"):
        prepare_road_arrays(nodes, edges, highway_classes=CLASSES, speeds_kph=SPEEDS)
