"""Road graph building: maxspeed parsing, the file source, filtering, components, the proxy."""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from shapely.geometry import LineString, Point

from agglonet.errors import DataError, EmptyNetworkError
from agglonet.transport.graph import road_graph_indices, undirected_length_m
from agglonet.transport.layers import graph_to_layers
from agglonet.transport.loaders import PROXY_SOURCE, load_roads
from agglonet.transport.proxy import build_proxy_ways, gabriel_edges, write_proxy_osm
from agglonet.transport.speeds import parse_maxspeed

UTM = "EPSG:32650"


@pytest.mark.parametrize(("value", "expected"), [
    ("60", 60.0), ("60 km/h", 60.0), ("80kmh", 80.0), ("50 mph", 50 * 1.609344),
    ("60;80", 70.0), ("60|80", 70.0), ("60;signals", 60.0), (["40", "60"], 50.0),
    (90, 90.0), ("7,5", 7.5), ("20 knots", 20 * 1.852),
    ("none", None), ("signals", None), ("walk", None), ("CN:urban", None), ("", None),
    (None, None), ("fast", None), ("5O", None), ("1000", None), (float("nan"), None),
])
def test_parse_maxspeed(value, expected):
    got = parse_maxspeed(value)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


# A small OSM XML: a primary road A-B-C (maxspeed 60 mph on A-B), a tertiary C-D, a one-way
# secondary D->E (a dead end: E has no way back, so it is not in the strong component), a
# footway B-F (filtered out), a motorway island G-H far away (its own component).
NODES = {1: (113.60, 34.70), 2: (113.62, 34.70), 3: (113.64, 34.70), 4: (113.64, 34.72),
         5: (113.66, 34.72), 6: (113.62, 34.69), 7: (113.90, 34.90), 8: (113.92, 34.90)}
WAYS = [
    (100, [1, 2], {"highway": "primary", "maxspeed": "60 mph", "name": "A"}),
    (101, [2, 3], {"highway": "primary", "name": "A"}),
    (102, [3, 4], {"highway": "tertiary", "maxspeed": "junk"}),
    (103, [4, 5], {"highway": "secondary", "oneway": "yes"}),
    (104, [2, 6], {"highway": "footway"}),
    (105, [7, 8], {"highway": "motorway", "oneway": "no"}),
]


def write_osm_xml(path, nodes=NODES, ways=WAYS):
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for nid, (lon, lat) in nodes.items():
        lines.append(f'  <node id="{nid}" lat="{lat}" lon="{lon}" version="1"/>')
    for wid, refs, tags in ways:
        lines.append(f'  <way id="{wid}" version="1">')
        lines += [f'    <nd ref="{r}"/>' for r in refs]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _geod_m(a, b):
    """Great-circle (haversine) distance on the sphere of radius 6,371,009 m, as osmnx uses."""
    lon1, lat1, lon2, lat2 = map(np.radians, (*NODES[a], *NODES[b]))
    h = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6_371_009 * np.arcsin(np.sqrt(h))


def test_file_source_osm_xml(tmp_path):
    path = write_osm_xml(tmp_path / "roads.osm")
    G, report = load_roads(source="file", file_path=path, crs=UTM)
    # strong component: 1-2-3-4 (two-way); 5 (one-way dead end) and 7-8 (island) dropped;
    # 6 went with the footway filter
    assert sorted(G.nodes) == [1, 3, 4]  # 2 is interstitial after simplification
    comp = report["components"]
    assert comp["n_components"] == 3  # {1,3,4}, {5}, {7,8}
    assert comp["nodes_dropped"] == 3
    assert comp["length_dropped_km"] > 0
    assert "openstreetmap" not in report["roads_source"]
    roads, nodes = graph_to_layers(G)
    assert set(roads["highway"]) == {"primary", "tertiary"}
    # 1->3 is primary, merged from A-B (maxspeed 60 mph = 96.56 km/h) and B-C (class default
    # 60 km/h): its travel time is the sum of the two segment times
    e13 = roads[(roads.u == 1) & (roads.v == 3)].iloc[0]
    t_13 = _geod_m(1, 2) / (60 * 1.609344 / 3.6) + _geod_m(2, 3) / (60 / 3.6)
    assert e13["length_m"] == pytest.approx(_geod_m(1, 2) + _geod_m(2, 3), rel=1e-3)
    assert e13["travel_time_s"] == pytest.approx(t_13, rel=1e-3)
    assert e13["speed_kph"] == pytest.approx(e13["length_m"] / t_13 * 3.6, rel=1e-3)
    assert e13["speed_source"] == "mixed"
    # tertiary with junk maxspeed falls back to the class default (30 km/h)
    e34 = roads[(roads.u == 3) & (roads.v == 4)].iloc[0]
    assert e34["speed_kph"] == 30.0 and e34["speed_source"] == "class_default"
    assert e34["travel_time_s"] == pytest.approx(_geod_m(3, 4) / (30 / 3.6), rel=1e-3)
    assert roads.crs.equals(gpd.GeoSeries([], crs=UTM).crs)
    assert set(roads.columns) >= {"highway", "speed_kph", "travel_time_s", "length_m", "source",
                                  "name"}


def test_empty_network_after_filter(tmp_path):
    path = write_osm_xml(tmp_path / "paths.osm", ways=[(1, [1, 2], {"highway": "footway"}),
                                                       (2, [2, 3], {"highway": "cycleway"})])
    with pytest.raises(EmptyNetworkError, match=r"no road left.*footway"):
        load_roads(source="file", file_path=path, crs=UTM, highway_classes=["motorway"])


def test_file_source_gpkg_lines(tmp_path):
    # a 2 km x 1 km rectangle of two-way lines, one one-way diagonal, one path (filtered)
    lines = gpd.GeoDataFrame(
        {"highway": ["primary", "primary", "secondary", "secondary", "trunk", "path"],
         "oneway": ["no", "no", "no", "no", "yes", "no"],
         "maxspeed": [None, "100", None, None, None, None]},
        geometry=[LineString([(0, 0), (2000, 0)]), LineString([(2000, 0), (2000, 1000)]),
                  LineString([(2000, 1000), (0, 1000)]), LineString([(0, 1000), (0, 0)]),
                  LineString([(0, 0), (2000, 1000)]), LineString([(0, 0), (-500, 0)])],
        crs=UTM)
    path = tmp_path / "lines.gpkg"
    lines.to_file(path)
    G, report = load_roads(source="file", file_path=path, crs=UTM)
    roads, _ = graph_to_layers(G)
    # (2000,0) and (0,1000) are interstitial: two two-way merged edges (4) + the diagonal
    assert len(roads) == 5
    diag = roads[roads.highway == "trunk"].iloc[0]
    assert diag["length_m"] == pytest.approx(np.hypot(2000, 1000))
    assert diag["speed_kph"] == 80.0
    # primary: 2000 m at the class default 60 km/h + 1000 m at maxspeed 100 km/h
    prim = roads[roads.highway == "primary"]
    t_prim = 2000 / (60 / 3.6) + 1000 / (100 / 3.6)
    assert prim["travel_time_s"].tolist() == pytest.approx([t_prim, t_prim])
    assert prim["length_m"].tolist() == pytest.approx([3000.0, 3000.0])
    assert (roads["source"] == "file:lines.gpkg").all()
    with pytest.raises(DataError, match="highway"):
        load_roads(source="file", file_path=_no_highway(tmp_path), crs=UTM)


def _no_highway(tmp_path):
    path = tmp_path / "bad.gpkg"
    gpd.GeoDataFrame({"kind": ["x"]}, geometry=[LineString([(0, 0), (1, 1)])],
                     crs=UTM).to_file(path)
    return path


def test_road_graph_indices_square():
    # a square with both directions per side: undirected simple graph e=4, v=4, p=1
    G = nx.MultiDiGraph()
    for a, b in [(0, 1), (1, 2), (2, 3), (3, 0)]:
        G.add_edge(a, b, key=0)
        G.add_edge(b, a, key=0)
        G.add_edge(a, b, key=1)  # a parallel edge is merged
    gi = road_graph_indices(G)
    # mu = 4 - 4 + 1 = 1; alpha = 1 / (2*4 - 5) = 1/3; beta = 1; gamma = 4 / (3*2) = 2/3
    assert gi["mu"] == 1 and gi["alpha"] == pytest.approx(1 / 3)
    assert gi["beta"] == 1 and gi["gamma"] == pytest.approx(2 / 3)


def _two_way_and_parallel_roads() -> nx.MultiDiGraph:
    """Both directions of a bent road, a straight two-way link without geometry, a one-way
    link, two different roads between the same two nodes and a self-loop."""
    G = nx.MultiDiGraph(crs="EPSG:3857")
    for n, xy in enumerate([(0, 0), (100, 0), (100, 100), (0, 100)]):
        G.add_node(n, x=float(xy[0]), y=float(xy[1]))
    bent = LineString([(0, 0), (50, 20), (100, 0)])
    other = LineString([(0, 0), (50, -30), (100, 0)])
    loop = LineString([(0, 100), (-20, 120), (-20, 100), (0, 100)])
    G.add_edge(0, 1, osmid=1, length=110.0, geometry=bent)
    G.add_edge(1, 0, osmid=1, length=110.0, geometry=LineString(bent.coords[::-1]))
    G.add_edge(0, 1, osmid=2, length=120.0, geometry=other)       # a second road, one-way
    G.add_edge(1, 2, osmid=3, length=100.0)                          # straight, two-way
    G.add_edge(2, 1, osmid=3, length=100.0)
    G.add_edge(2, 3, osmid=4, length=100.0)                          # one-way
    G.add_edge(3, 3, osmid=5, length=70.0, geometry=loop)
    return G


def test_undirected_length_counts_each_road_once():
    import osmnx as ox

    G = _two_way_and_parallel_roads()
    # by hand: the bent road, the other road, the straight link, the one-way link, the loop
    assert undirected_length_m(G) == 110.0 + 120.0 + 100.0 + 100.0 + 70.0
    # the peer: the length of osmnx's undirected graph
    peer = math.fsum(d["length"] for _, _, d in ox.convert.to_undirected(G).edges(data=True))
    assert undirected_length_m(G) == peer


def _brute_gabriel(xy):
    out = []
    for a, b in itertools.combinations(range(len(xy)), 2):
        mid, r2 = (xy[a] + xy[b]) / 2, np.sum((xy[a] - xy[b]) ** 2) / 4
        if all(np.sum((xy[k] - mid) ** 2) >= r2 for k in range(len(xy)) if k not in (a, b)):
            out.append((a, b))
    return out


def test_gabriel_edges_against_brute_force():
    xy = np.random.default_rng(3).uniform(0, 100, size=(40, 2))
    assert gabriel_edges(xy) == _brute_gabriel(xy)


def _seats():
    rng = np.random.default_rng(5)
    cities = gpd.GeoDataFrame(
        {"adcode": [f"41{i:02d}00" for i in range(5)], "name_en": list("ABCDE")},
        geometry=[Point(113 + rng.uniform(0, 1.5), 34 + rng.uniform(0, 1)) for _ in range(5)],
        crs="EPSG:4326")
    counties = gpd.GeoDataFrame(
        {"adcode": [f"41{i:04d}" for i in range(20)], "name_zh": [f"县{i}" for i in range(20)]},
        geometry=[Point(113 + rng.uniform(0, 1.5), 34 + rng.uniform(0, 1)) for _ in range(20)],
        crs="EPSG:4326")
    return cities, counties


def test_proxy_network_design_and_loading(tmp_path):
    cities, counties = _seats()
    ways = build_proxy_ways(cities, counties, seed=7, detour_factor=1.2, crs=UTM)
    places = ways.attrs["places"]
    xy = places[["x", "y"]].to_numpy()
    straight = np.hypot(*(xy[ways.from_place] - xy[ways.to_place]).T)
    ratio = ways.length.to_numpy() / straight
    # each link is 1.2 x (1 +- 5 %) the straight line
    assert ratio.min() >= 1.2 * 0.95 - 1e-6 and ratio.max() <= 1.2 * 1.05 + 1e-6
    is_city = (places["rank"] == "city").to_numpy()
    for _, w in ways.iterrows():
        kinds = {bool(is_city[w.from_place]), bool(is_city[w.to_place])}
        if w.highway in ("motorway", "trunk"):
            assert kinds == {True}
        elif w.highway == "primary":
            assert kinds == {True, False}
        else:
            assert kinds == {False}
    assert (ways["source"] == PROXY_SOURCE).all()
    # deterministic
    a = write_proxy_osm(tmp_path / "a.osm", cities, counties, seed=7, crs=UTM)
    write_proxy_osm(tmp_path / "b.osm", cities, counties, seed=7, crs=UTM)
    assert (tmp_path / "a.osm").read_bytes() == (tmp_path / "b.osm").read_bytes()
    assert len(a) == len(ways)
    # loaded through the file code path; every edge says synthetic_proxy
    G, report = load_roads(source="proxy", proxy_path=tmp_path / "a.osm", crs=UTM)
    roads, _ = graph_to_layers(G)
    assert (roads["source"] == PROXY_SOURCE).all()
    # the road source has one spelling everywhere; the edges keep their provenance label
    assert G.graph["roads_source"] == report["roads_source"] == "proxy"
    assert G.graph["edge_source"] == PROXY_SOURCE
    assert report["illustrative"] is True
    assert report["components"]["nodes_dropped"] == 0  # Gabriel graph is connected
    assert set(roads["highway"]) <= {"motorway", "trunk", "primary", "secondary", "tertiary"}
    assert roads.loc[roads.maxspeed == "120", "speed_kph"].to_numpy() == pytest.approx(120.0)


def test_graphml_round_trip_and_file_source(tmp_path):
    from agglonet.transport.graph import load_road_graph, save_road_graph

    G, _ = load_roads(source="file", file_path=write_osm_xml(tmp_path / "r.osm"), crs=UTM)
    save_road_graph(G, tmp_path / "g.graphml")
    H = load_road_graph(tmp_path / "g.graphml")
    times = sorted(d["travel_time"] for _, _, d in G.edges(data=True))
    assert sorted(d["travel_time"] for _, _, d in H.edges(data=True)) == pytest.approx(times)
    # a GraphML is also a `file` source: same graph after the common chain
    K, report = load_roads(source="file", file_path=tmp_path / "g.graphml", crs=UTM)
    assert sorted(d["travel_time"] for _, _, d in K.edges(data=True)) == pytest.approx(times)
    assert report["components"]["nodes_dropped"] == 0
    with pytest.raises(DataError, match="unknown type"):
        load_roads(source="file", file_path=_touch(tmp_path / "roads.csv"), crs=UTM)
    with pytest.raises(DataError, match="unknown roads.source"):
        load_roads(source="overpass")


def _touch(path):
    path.write_text("x")
    return path
