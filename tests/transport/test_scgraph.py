"""The offline scgraph road source: parser, cache, clip, lengths, diagnostics, travel times."""

from __future__ import annotations

import ast
import logging
import math

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod, Proj
from shapely.geometry import LineString, Point, box

from agglonet.config import default
from agglonet.crs import CHINA_ALBERS
from agglonet.ecology.resistance import road_class
from agglonet.errors import DataError, EmptyNetworkError
from agglonet.metrics.crossings import analysed_roads
from agglonet.osm import OSM_ATTRIBUTION
from agglonet.provenance import attributions
from agglonet.transport import scgraph
from agglonet.transport.accessibility import transport_results
from agglonet.transport.diagnostics import network_diagnostics
from agglonet.transport.graph import prepare_road_graph
from agglonet.transport.loaders import load_roads
from agglonet.transport.od import compute_od
from agglonet.transport.scgraph import (
    SCGRAPH_HIGHWAY,
    clip_network,
    extract_path,
    load_world_highways,
    parse_world_highways,
    raw_scgraph_graph,
)

# A small network near Zhengzhou, as [lat, lon] like the package:
#   main:   0 - 1 - 2 - 3 - 4   (a U: 0 and 4 are 11 km apart, 48 km by road)
#   island: 5 - 6               (not joined to the main network)
#   outside the clip area: 7 (joined to 0) and 8 - 9 (southern/western hemisphere)
NODES = [
    [34.70, 113.60], [34.70, 113.70], [34.70, 113.80], [34.80, 113.80], [34.80, 113.60],
    [34.70, 114.20], [34.75, 114.20],
    [40.00, 120.00], [-33.9, -70.6], [-33.8, -70.5],
]
LINKS = {(0, 1): 9.15, (1, 2): 9.15, (2, 3): 11.12, (3, 4): 18.29, (5, 6): 5.56, (0, 7): 900.0,
         (8, 9): 14.6}
AREA_LONLAT = box(113.5, 34.6, 114.3, 34.9)


def adjacency(links=LINKS, n=10, *, self_loop: int | None = 2) -> list[dict]:
    graph: list[dict] = [{} for _ in range(n)]
    for (a, b), km in links.items():
        graph[a][b] = km
        graph[b][a] = km
    if self_loop is not None:
        graph[self_loop][self_loop] = 0.0  # the real file has self-loops
    return graph


def write_module(path, graph=None, nodes=None) -> None:
    """A module in the exact layout of scgraph_data/world_highways.py (Python's repr)."""
    graph = adjacency() if graph is None else graph
    nodes = NODES if nodes is None else nodes
    path.write_text("\nfrom scgraph.core import GeoGraph\n"
                    f"graph={graph!r}\nnodes={nodes!r}\n"
                    "world_highways_geograph = GeoGraph(graph=graph, nodes=nodes)\n")


def literal(path, name):
    """Independent parse: the literal assigned to ``name``, by ``ast``."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and node.targets[0].id == name:
            return ast.literal_eval(node.value)
    raise AssertionError(name)


def expected_links(graph) -> set[tuple[int, int, float]]:
    return {(min(a, b), max(a, b), km) for a, nb in enumerate(graph) for b, km in nb.items()
            if a != b}


def as_set(net) -> set[tuple[int, int, float]]:
    return set(zip(net.u.tolist(), net.v.tolist(), net.length_km.tolist(), strict=True))


def area_albers():
    return gpd.GeoSeries([AREA_LONLAT], crs="EPSG:4326").to_crs(CHINA_ALBERS).iloc[0]


def seats_frame(points: dict[str, tuple[float, float]]) -> gpd.GeoDataFrame:
    """Seats at (lon, lat); the first is the most populous (the core)."""
    codes = list(points)
    return gpd.GeoDataFrame(
        {"adcode": codes, "name_en": [f"City{c}" for c in codes],
         "name_zh": [f"城{c}" for c in codes],
         "population": [1_000_000 - 1000 * i for i in range(len(codes))]},
        geometry=[Point(*points[c]) for c in codes], crs="EPSG:4326")


# --------------------------------------------------------------------------------------------
# parser
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("block_bytes", [7, 64, 1 << 20])
def test_parser_matches_an_independent_parse(tmp_path, block_bytes):
    path = tmp_path / "world_highways.py"
    write_module(path)
    net = parse_world_highways(path, block_bytes=block_bytes)
    nodes, graph = literal(path, "nodes"), literal(path, "graph")
    assert net.n_nodes == len(nodes) == 10
    assert net.lat.tolist() == [p[0] for p in nodes]
    assert net.lon.tolist() == [p[1] for p in nodes]  # negative coordinates too
    assert as_set(net) == expected_links(graph)  # each link once, self-loop dropped
    assert net.n_links == 7
    assert (net.u < net.v).all()
    assert net.asymmetric_links == 0


def test_parser_reads_other_layouts(tmp_path):
    """Newlines and indentation inside the literals, ints, exponents, nodes before graph."""
    path = tmp_path / "g.py"
    path.write_text("# comment line\nnodes = [\n  [1, 2.5],\n  [-3.25e0, 4],\n  [5.0, 6.0],\n]\n"
                    "graph = [\n  {1: 1, 2: 2.5e-1},\n  {0: 1},\n  {0: 0.25},\n]\n")
    net = parse_world_highways(path, block_bytes=5)
    assert net.lat.tolist() == [1.0, -3.25, 5.0]
    assert net.lon.tolist() == [2.5, 4.0, 6.0]
    assert as_set(net) == {(0, 1, 1.0), (0, 2, 0.25)}


def test_parser_counts_asymmetric_links(tmp_path):
    graph = adjacency(self_loop=None)
    graph[0][1] = 9.0  # the other end says 9.15
    del graph[6][5]    # listed from one end only
    path = tmp_path / "g.py"
    write_module(path, graph=graph)
    net = parse_world_highways(path)
    assert net.asymmetric_links == 2
    assert (0, 1, 9.0) in as_set(net)  # the shorter length is kept
    assert (5, 6, 5.56) in as_set(net)


@pytest.mark.parametrize("text, message", [
    ("graph=[{1: 1.0}, {0: 1.0}]\n", "no nodes"),
    ("graph=[{1: 1.0}, {0: 1.0}]\nnodes=[[1.0, 2.0], [3.0, 4.0]", "not closed"),
    ("graph=[{1: 1.0}, {0: 1.0}]\nnodes=[[1.0, 2.0]]\n", "one dict per node"),
    ("graph=[{1: 1.0}, {0: x}]\nnodes=[[1.0, 2.0], [3.0, 4.0]]\n", "unexpected characters"),
    ("graph=[{1: 1.0}, {0: 1.0.0}]\nnodes=[[1.0, 2.0], [3.0, 4.0]]\n", "malformed number"),
    ("graph=[{1: 1.0}, {0: 1.0}]\nnodes=[[1.0, 2.0], [3.0]]\n", "[lat, lon] pairs"),
    ("graph=[{5: 1.0}, {0: 1.0}]\nnodes=[[1.0, 2.0], [3.0, 4.0]]\n", "out of range"),
    ("graph=[{1: -1.0}, {0: 1.0}]\nnodes=[[1.0, 2.0], [3.0, 4.0]]\n", "negative"),
    ("graph=[{1.5: 1.0}, {0: 1.0}]\nnodes=[[1.0, 2.0], [3.0, 4.0]]\n", "not an integer"),
    ("graph=[{1: 1.0, 2}, {0: 1.0}]\nnodes=[[1.0, 2.0], [3.0, 4.0]]\n", "without a value"),
])
def test_parser_rejects_other_formats(tmp_path, text, message):
    path = tmp_path / "g.py"
    path.write_text(text)
    with pytest.raises(DataError, match=message.replace("[", r"\[")):
        parse_world_highways(path)


def test_parser_missing_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        parse_world_highways(tmp_path / "nope.py")


# --------------------------------------------------------------------------------------------
# cache
# --------------------------------------------------------------------------------------------

def test_cache_is_written_once_and_keyed_by_sha256(tmp_path, monkeypatch):
    path = tmp_path / "world_highways.py"
    write_module(path)
    cache = tmp_path / "cache"
    first = load_world_highways(cache_folder=cache, path=path, version="2.0.0")
    files = sorted(cache.iterdir())
    assert len(files) == 1 and files[0].name.startswith("world_highways-2.0.0-")
    assert first.version == "2.0.0" and len(first.sha256) == 64

    # a second load reads the cache: parsing again would fail
    def no_parse(*args, **kwargs):
        raise AssertionError("parsed again although the cache is valid")

    monkeypatch.setattr(scgraph, "parse_world_highways", no_parse)
    again = load_world_highways(cache_folder=cache, path=path, version="2.0.0")
    assert as_set(again) == as_set(first)
    assert np.array_equal(again.lat, first.lat) and np.array_equal(again.lon, first.lon)
    monkeypatch.undo()

    # a changed file (new sha256) is parsed again into a new cache file
    graph = adjacency()
    graph[0][1] = graph[1][0] = 7.5
    write_module(path, graph=graph)
    changed = load_world_highways(cache_folder=cache, path=path, version="2.0.0")
    assert changed.sha256 != first.sha256
    assert (0, 1, 7.5) in as_set(changed)
    assert len(list(cache.iterdir())) == 2
    assert extract_path(cache, version="2.0.0", sha256=changed.sha256).is_file()


def test_cache_file_of_another_file_is_not_trusted(tmp_path):
    path = tmp_path / "world_highways.py"
    write_module(path)
    cache = tmp_path / "cache"
    net = load_world_highways(cache_folder=cache, path=path, version="1")
    target = extract_path(cache, version="1", sha256=net.sha256)
    # overwrite the cache with an extract that claims another checksum
    scgraph.save_extract(target, scgraph.ScgraphNetwork(
        lat=net.lat, lon=net.lon, u=net.u[:1], v=net.v[:1], length_km=net.length_km[:1],
        version="1", sha256="0" * 64))
    again = load_world_highways(cache_folder=cache, path=path, version="1")
    assert again.n_links == net.n_links


# --------------------------------------------------------------------------------------------
# clip and lengths
# --------------------------------------------------------------------------------------------

def test_clip_keeps_links_with_both_ends_inside(tmp_path):
    path = tmp_path / "g.py"
    write_module(path)
    clip = clip_network(parse_world_highways(path), area_albers(), area_crs=CHINA_ALBERS)
    assert clip.nodes.tolist() == [0, 1, 2, 3, 4, 5, 6]  # 7, 8, 9 outside
    pairs = {(int(clip.nodes[a]), int(clip.nodes[b])) for a, b in zip(clip.u, clip.v,
                                                                       strict=True)}
    assert pairs == {(0, 1), (1, 2), (2, 3), (3, 4), (5, 6)}  # 0-7 dropped


def test_clip_outside_the_data_raises(tmp_path):
    path = tmp_path / "g.py"
    write_module(path)
    far = gpd.GeoSeries([box(80, 40, 81, 41)], crs="EPSG:4326").to_crs(CHINA_ALBERS).iloc[0]
    with pytest.raises(EmptyNetworkError, match="no scgraph link"):
        clip_network(parse_world_highways(path), far, area_crs=CHINA_ALBERS)


def test_lengths_are_albers_lengths(tmp_path):
    """Hand computation: geodesic length × Albers scale factor along the link's direction."""
    path = tmp_path / "g.py"
    write_module(path)
    clip = clip_network(parse_world_highways(path), area_albers(), area_crs=CHINA_ALBERS)
    got = {(int(clip.nodes[a]), int(clip.nodes[b])): m
           for a, b, m in zip(clip.u, clip.v, clip.length_m, strict=True)}
    geod = Geod(ellps="GRS80")
    factors = Proj(CHINA_ALBERS)
    # 1-2 runs east along the parallel 34.7°: scale = parallel scale k at its middle
    _, _, east_m = geod.inv(113.70, 34.70, 113.80, 34.70)
    k = factors.get_factors(113.75, 34.70).parallel_scale
    assert got[(1, 2)] == pytest.approx(east_m * k, rel=2e-4)
    # 2-3 runs north along the meridian 113.8°: scale = meridional scale h
    _, _, north_m = geod.inv(113.80, 34.70, 113.80, 34.80)
    h = factors.get_factors(113.80, 34.75).meridional_scale
    assert got[(2, 3)] == pytest.approx(north_m * h, rel=2e-4)
    # and they differ from the package's km value, which the report compares
    lengths = scgraph.length_comparison(clip)
    assert lengths["links"] == 5
    assert lengths["total_km_package"] == pytest.approx(9.15 + 9.15 + 11.12 + 18.29 + 5.56)


def test_raw_graph_follows_osmnx_conventions(tmp_path):
    path = tmp_path / "g.py"
    write_module(path)
    clip = clip_network(parse_world_highways(path), area_albers(), area_crs=CHINA_ALBERS)
    G = raw_scgraph_graph(clip)
    assert G.graph["crs"] == "EPSG:4326"
    assert G.nodes[2]["x"] == 113.80 and G.nodes[2]["y"] == 34.70
    assert G.number_of_edges() == 10  # both directions
    assert G.has_edge(1, 0) and G.has_edge(0, 1)
    data = G.get_edge_data(2, 3)[0]
    assert data["highway"] == SCGRAPH_HIGHWAY and data["oneway"] is False
    assert data["osmid"] == G.get_edge_data(3, 2)[0]["osmid"]


# --------------------------------------------------------------------------------------------
# load_roads, travel times, diagnostics
# --------------------------------------------------------------------------------------------

def scgraph_roads(tmp_path, **kwargs):
    path = tmp_path / "world_highways.py"
    if not path.exists():
        write_module(path)
    return load_roads(source="scgraph", area=area_albers(), area_crs=CHINA_ALBERS,
                      scgraph_path=path, scgraph_cache_dir=tmp_path / "cache", **kwargs)


def test_load_roads_times_are_length_over_speed(tmp_path):
    G, report = scgraph_roads(tmp_path, scgraph_speed_kph=72.0)
    assert G.number_of_edges() > 0
    for _, _, d in G.edges(data=True):
        assert d["highway"] == SCGRAPH_HIGHWAY
        assert d["speed_kph"] == 72.0
        assert d["travel_time"] == pytest.approx(d["length"] / 20.0)  # 72 km/h = 20 m/s
    # the island 5-6 is not in the largest strongly connected component
    assert set(G.nodes) == {0, 4}  # simplified: the U is one edge each way
    assert report["roads_source"] == "scgraph"
    assert report["licence"] == OSM_ATTRIBUTION
    assert report["speed_kph_assumed"] == 72.0
    assert report["scgraph_version"] and len(report["scgraph_sha256"]) == 64
    assert report["provenance"]["licence"].startswith("ODbL")
    assert OSM_ATTRIBUTION in report["provenance"]["citation"]
    u_len = sum(d["length"] for _, _, d in G.edges(data=True)) / 2
    assert u_len == pytest.approx(report["scgraph_length_check"]["total_km_albers"] * 1000
                                  - _island_m(tmp_path), rel=1e-6)


def _island_m(tmp_path):
    clip = clip_network(parse_world_highways(tmp_path / "world_highways.py"), area_albers(),
                        area_crs=CHINA_ALBERS)
    return float(sum(m for a, b, m in zip(clip.u, clip.v, clip.length_m, strict=True)
                     if clip.nodes[a] == 5))


def test_load_roads_default_speed_comes_from_the_config(tmp_path):
    G, _ = scgraph_roads(tmp_path)
    speed = float(default("roads", "scgraph", "speed_kph"))
    assert {d["speed_kph"] for _, _, d in G.edges(data=True)} == {speed}


def test_load_roads_needs_the_pseudo_class(tmp_path):
    with pytest.raises(DataError, match="pseudo-class 'scgraph'"):
        scgraph_roads(tmp_path, highway_classes=["motorway", "trunk"])


def test_diagnostics_far_seat_other_component_and_detour(tmp_path, caplog):
    seats = seats_frame({
        "000001": (113.601, 34.701),  # by node 0: the core (most populous)
        "000004": (113.601, 34.799),  # by node 4: 11 km from 0, 48 km by road
        "000005": (114.201, 34.701),  # by the island: another component, 36 km from the U
        "000009": (113.600, 35.500),  # 89 km north of the network
    })
    with caplog.at_level(logging.WARNING):
        _, report = scgraph_roads(tmp_path, seats=seats, max_seat_distance_km=5.0,
                                  detour_ratio=2.0)
    diag = report["diagnostics"]
    assert diag["core_adcode"] == "000001"
    assert diag["off_network"] == ["000005", "000009"]
    assert diag["other_component"] == ["000005"]
    by_code = {r["adcode"]: r for r in diag["seats"]}
    # hand: 89 km ≈ (35.5 − 34.8)° of latitude north of node 4
    assert by_code["000009"]["snap_distance_m"] == pytest.approx(0.7 * 111_000, rel=0.02)
    assert by_code["000001"]["snap_distance_m"] < 200
    # the U: 0→1→2→3→4 ≈ 9.1 + 9.1 + 11.1 + 18.3 km for 11 km straight
    [detour] = diag["long_detours"]
    assert (detour["a_adcode"], detour["b_adcode"]) == ("000001", "000004")
    assert detour["network_km"] == pytest.approx(47.7, rel=0.02)
    assert detour["euclid_km"] == pytest.approx(10.9, rel=0.02)
    assert detour["ratio"] > 4
    assert "off the network" in caplog.text and "not joined" in caplog.text
    assert "long detour" in caplog.text


def test_diagnostics_seat_near_an_island_is_listed_but_on_the_network(tmp_path):
    """An island 2 km from the main network: another component, yet within the distance."""
    nodes = [[34.70, 113.60], [34.70, 113.70], [34.70, 113.72], [34.72, 113.72]]
    path = tmp_path / "world_highways.py"
    write_module(path, graph=adjacency({(0, 1): 9.1, (2, 3): 2.2}, n=4, self_loop=None),
                 nodes=nodes)
    seats = seats_frame({"000001": (113.60, 34.70), "000002": (113.72, 34.721)})
    G, report = scgraph_roads(tmp_path, seats=seats, max_seat_distance_km=5.0)
    diag = report["diagnostics"]
    assert diag["other_component"] == ["000002"]
    assert diag["off_network"] == []
    assert diag["raw_components"]["count"] == 2


def test_off_network_seat_is_unreachable_not_a_crash(tmp_path, caplog):
    seats = seats_frame({"000001": (113.601, 34.701), "000004": (113.601, 34.799),
                         "000009": (113.600, 35.500)})
    G, _ = scgraph_roads(tmp_path)
    with caplog.at_level(logging.WARNING):
        out = transport_results(G, seats, max_access_km=5.0)
    od = out["od"].set_index(["origin_adcode", "dest_adcode"])
    assert od.loc[("000001", "000004"), "reachable"]
    assert not od.loc[("000001", "000009"), "reachable"]
    assert math.isnan(od.loc[("000009", "000004"), "travel_time_min"])
    cities = out["cities"].set_index("adcode")
    assert not cities.loc["000009", "reachable_all"]
    assert math.isnan(cities.loc["000009", "watt_min"])
    assert out["summary"]["od_pairs_unreachable"] == 4
    assert "000009" in caplog.text and "off the network" in caplog.text
    # without the limit the far seat walks 78 km at 5 km/h
    res = compute_od(G, seats.sort_values("adcode").to_crs(CHINA_ALBERS))
    assert res.reachable.all()
    assert res.time_min[0, 2] > 15 * 60


def test_network_diagnostics_rejects_bad_thresholds(tmp_path):
    G, _ = scgraph_roads(tmp_path)
    seats = seats_frame({"000001": (113.601, 34.701)})
    with pytest.raises(DataError, match="must be > 0"):
        network_diagnostics(G, G, seats, max_seat_distance_km=0)


# --------------------------------------------------------------------------------------------
# downstream: filter, resistance, crossings, attribution, quality
# --------------------------------------------------------------------------------------------

def test_default_config_treats_the_pseudo_class_as_trunk():
    classes = default("roads", "highway_classes")
    assert SCGRAPH_HIGHWAY in classes
    penalties = default("ecology", "resistance", "road_penalty")
    assert road_class(SCGRAPH_HIGHWAY, penalties) == SCGRAPH_HIGHWAY
    assert penalties[SCGRAPH_HIGHWAY] == penalties["trunk"]
    weights = default("metrics", "road_class_weights")
    assert weights[SCGRAPH_HIGHWAY] == weights["trunk"]
    roads = gpd.GeoDataFrame({"highway": [SCGRAPH_HIGHWAY, "residential"]},
                             geometry=[LineString([(0, 0), (1, 1)]),
                                       LineString([(0, 1), (1, 0)])], crs=CHINA_ALBERS)
    kept = analysed_roads(roads, road_classes=classes, class_weights=weights)
    assert kept["road_class"].tolist() == [SCGRAPH_HIGHWAY]
    assert kept["class_weight"].tolist() == [weights["trunk"]]


def test_filter_keeps_scgraph_links_only_when_listed(tmp_path):
    path = tmp_path / "g.py"
    write_module(path)
    raw = raw_scgraph_graph(clip_network(parse_world_highways(path), area_albers(),
                                         area_crs=CHINA_ALBERS))
    G, report = prepare_road_graph(raw, highway_classes=["trunk", SCGRAPH_HIGHWAY],
                                   speeds_kph={SCGRAPH_HIGHWAY: 90}, source="x")
    assert report["edges_filtered"] == raw.number_of_edges()
    with pytest.raises(EmptyNetworkError, match="classes present: \\['scgraph'\\]"):
        prepare_road_graph(raw, highway_classes=["trunk"], source="x")


def test_attributions_carry_the_osm_line_for_scgraph():
    lines = attributions([], roads_source="scgraph")
    assert any(OSM_ATTRIBUTION in line for line in lines)
    assert any("scgraph-data" in line and "approximate" in line for line in lines)
    assert not any("synthetic proxy" in line for line in lines)


def test_real_package_file_is_found_without_import():
    import sys

    path = scgraph.world_highways_path()
    assert path.name == "world_highways.py" and path.stat().st_size > 10_000_000
    assert "scgraph_data.world_highways" not in sys.modules
