"""Road edits on hand-made networks; expected times computed by hand in each test."""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from agglonet.errors import ConfigError
from agglonet.scenarios.edits import Edit
from agglonet.scenarios.roads import (
    add_roads,
    apply_road_edits,
    change_speed,
    close_border_gaps,
    close_roads,
    edited_links,
    snap_point,
)

CRS = "EPSG:3857"
SPEEDS = {"motorway": 100.0, "primary": 60.0}


def network(links: dict[tuple[int, int], float], xy: dict[int, tuple[float, float]],
            *, speed_kph: float = 60.0) -> nx.MultiDiGraph:
    """Both directions of straight links; length = distance between the nodes."""
    G = nx.MultiDiGraph(crs=CRS)
    for node, (x, y) in xy.items():
        G.add_node(node, x=x, y=y)
    for (u, v), osmid in links.items():
        length = math.dist(xy[u], xy[v])
        for a, b in ((u, v), (v, u)):
            G.add_edge(a, b, osmid=osmid, highway="primary", length=length,
                       speed_kph=speed_kph, travel_time=length / (speed_kph / 3.6),
                       source="test", speed_source="class_default", oneway=False)
    return G


def fastest_s(G: nx.MultiDiGraph, a, b) -> float:
    return nx.dijkstra_path_length(G, a, b, weight="travel_time")


def lines(*geoms: LineString, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=list(geoms), crs=CRS)


def edit(kind: str, **options) -> Edit:
    return Edit("test_scenario", 1, kind, options)


# A triangle A(0, 0) – B(10 km, 10 km) – C(20 km, 0) at 60 km/h: A → C via B is
# 2 · √(10² + 10²) km = 28.284 km, 28284.27 m / (60 / 3.6 m/s) = 1697.06 s.
TRIANGLE = {0: (0.0, 0.0), 1: (10_000.0, 10_000.0), 2: (20_000.0, 0.0)}
VIA_B_S = 2 * math.hypot(10_000, 10_000) / (60 / 3.6)


def test_a_road_slower_than_the_existing_path_changes_no_time():
    G = network({(0, 1): 1, (1, 2): 2}, TRIANGLE)
    assert fastest_s(G, 0, 2) == pytest.approx(VIA_B_S)
    # straight A–C, 20 km at 30 km/h = 2400 s > 1697.06 s: no trip gets faster
    H, rows = add_roads(G, lines(LineString([(0, 0), (20_000, 0)]), maxspeed=[30]),
                        edit=edit("add_roads", path="x", snap_tolerance_m=10),
                        speeds_kph=SPEEDS, scgraph_speed_kph=90)
    assert fastest_s(H, 0, 2) == pytest.approx(VIA_B_S)
    assert fastest_s(H, 2, 0) == pytest.approx(VIA_B_S)
    assert rows[0]["travel_time_min"] == pytest.approx(2400 / 60)
    assert G.number_of_edges() == 4, "the input graph is not changed"


def test_a_faster_road_gives_its_own_time():
    G = network({(0, 1): 1, (1, 2): 2}, TRIANGLE)
    # 20 km at the motorway class speed 100 km/h = 720 s
    H, rows = add_roads(G, lines(LineString([(0, 0), (20_000, 0)]), highway=["motorway"]),
                        edit=edit("add_roads", path="x", snap_tolerance_m=10),
                        speeds_kph=SPEEDS, scgraph_speed_kph=90)
    assert fastest_s(H, 0, 2) == pytest.approx(720.0)
    assert rows[0]["start_node"] == 0 and rows[0]["end_node"] == 2


def test_an_end_near_the_middle_of_a_road_splits_it():
    # a line from (5 km, 0) + 300 m off the road A–C (straight, 20 km) to D (5 km, 8 km), a
    # node linked to nothing else; the end at D is free
    xy = {0: (0.0, 0.0), 2: (20_000.0, 0.0)}
    G = network({(0, 2): 1}, xy)
    H, rows = add_roads(G, lines(LineString([(5_000, 300), (5_000, 8_000)])),
                        edit=edit("add_roads", path="x", snap_tolerance_m=500, highway="primary"),
                        speeds_kph=SPEEDS, scgraph_speed_kph=90)
    row = rows[0]
    assert row["start_snap_m"] == pytest.approx(300.0)
    assert math.isnan(row["end_snap_m"])  # free end: no road within 500 m
    split = row["start_node"]
    assert (H.nodes[split]["x"], H.nodes[split]["y"]) == (5_000.0, 0.0)
    # A → split: 5 km of the 20 km road at 60 km/h = 300 s; the whole road A → C unchanged
    assert fastest_s(H, 0, split) == pytest.approx(5_000 / (60 / 3.6))
    assert fastest_s(H, 0, 2) == pytest.approx(20_000 / (60 / 3.6))
    # the new road: 300 m connector + 7.7 km line = 8 km at 60 km/h = 480 s
    assert fastest_s(H, split, row["end_node"]) == pytest.approx(480.0)


def test_closing_the_only_link_raises_the_time_by_hand():
    # A – B – C straight (10 km + 10 km) and a detour A – D – C through D (10 km, 10 km)
    xy = {0: (0.0, 0.0), 1: (10_000.0, 0.0), 2: (20_000.0, 0.0), 3: (10_000.0, 10_000.0)}
    G = network({(0, 1): 11, (1, 2): 12, (0, 3): 13, (3, 2): 14}, xy)
    assert fastest_s(G, 0, 2) == pytest.approx(20_000 / (60 / 3.6))  # 1200 s
    H, rows = close_roads(G, edit=edit("close_roads", ids=[12]))
    # only A → D → C is left: 2 · 14142.14 m at 60 km/h = 1697.06 s
    assert fastest_s(H, 0, 2) == pytest.approx(2 * math.hypot(10_000, 10_000) / (60 / 3.6))
    assert rows[0]["n_links_changed"] == 2
    assert not H.has_edge(1, 2) and not H.has_edge(2, 1)
    # closing the link in the polygon around B – C gives the same graph
    poly = gpd.GeoDataFrame(geometry=[Point(15_000, 0).buffer(100)], crs=CRS)
    H2, _ = close_roads(G, edit=edit("close_roads", path="p"), polygons=poly)
    assert sorted(H2.edges()) == sorted(H.edges())


def test_closing_an_unknown_id_names_the_scenario_and_edit():
    G = network({(0, 1): 1, (1, 2): 2}, TRIANGLE)
    with pytest.raises(ConfigError, match=r"scenario 'test_scenario', edit 1 .*99 match no link"):
        close_roads(G, edit=edit("close_roads", ids=[99]))


def test_change_speed_by_class_and_factor():
    G = network({(0, 1): 1, (1, 2): 2}, TRIANGLE)
    H, _ = change_speed(G, edit=edit("change_speed", highway="primary", factor=2.0))
    assert fastest_s(H, 0, 2) == pytest.approx(VIA_B_S / 2)
    H, _ = change_speed(G, edit=edit("change_speed", highway="primary", speed_kph=120))
    assert fastest_s(H, 0, 2) == pytest.approx(2 * math.hypot(10_000, 10_000) / (120 / 3.6))
    with pytest.raises(ConfigError, match="class 'motorway' select no road"):
        change_speed(G, edit=edit("change_speed", highway="motorway", speed_kph=120))


def test_a_line_touching_no_road_is_refused():
    G = network({(0, 1): 1, (1, 2): 2}, TRIANGLE)
    far = lines(LineString([(0, 50_000), (20_000, 50_000)]))
    with pytest.raises(ConfigError, match=r"edit 1 \(add_roads\), feature 1: the line touches "
                                          r"no road within snap_tolerance_m = 1000 m"):
        add_roads(G, far, edit=edit("add_roads", path="x", snap_tolerance_m=1000,
                                    highway="primary"),
                  speeds_kph=SPEEDS, scgraph_speed_kph=90)


def test_snap_to_a_node_when_close():
    G = network({(0, 2): 1}, {0: (0.0, 0.0), 2: (20_000.0, 0.0)})
    node, dist = snap_point(G, Point(20, 30), tolerance_m=100)
    assert node == 0 and dist == pytest.approx(math.hypot(20, 30))
    assert G.number_of_nodes() == 2


def test_close_the_top_border_gap():
    # two roads that end 2 km apart: A – B (0..10 km) and C – D (12..22 km); the gap table's
    # best gap joins B to C at 60 km/h: A → D = 10 km + 2 km + 10 km at 60 km/h = 1320 s
    xy = {0: (0.0, 0.0), 1: (10_000.0, 0.0), 2: (12_000.0, 0.0), 3: (22_000.0, 0.0)}
    G = network({(0, 1): 1, (2, 3): 2}, xy)
    G.graph["crs"] = "EPSG:32650"
    lon, lat = gpd.GeoSeries([Point(12_000, 0)], crs="EPSG:32650").to_crs(4326).iloc[0].coords[0]
    gaps = pd.DataFrame({"rank": [2, 1], "end_node": [0, 1], "target_lon": [0.0, lon],
                         "target_lat": [0.0, lat], "link_speed_kph": [60.0, 60.0],
                         "end_class": ["primary", "primary"], "end_city": ["x", "A"],
                         "other_city": ["y", "B"]})
    H, rows = close_border_gaps(G, gaps, edit=edit("close_border_gaps", top_n=1),
                                crs="EPSG:32650")
    assert fastest_s(H, 0, 3) == pytest.approx(22_000 / (60 / 3.6), rel=1e-6)
    assert rows[0]["length_km"] == pytest.approx(2.0, rel=1e-6)


def test_apply_in_order_and_report():
    G = network({(0, 1): 1, (1, 2): 2}, TRIANGLE)
    edits = [Edit("s", 1, "add_roads", {"path": "x", "snap_tolerance_m": 10}),
             Edit("s", 2, "close_roads", {"ids": [1]})]
    H, report = apply_road_edits(
        G, edits, geometries={1: lines(LineString([(0, 0), (20_000, 0)]), highway=["motorway"])},
        border_gaps=None, speeds_kph=SPEEDS, scgraph_speed_kph=90, crs=CRS)
    assert list(report["edit_type"]) == ["add_roads", "close_roads"]
    # B is now reached from A only through C: 720 s + 848.53 s
    assert fastest_s(H, 0, 1) == pytest.approx(720 + math.hypot(10_000, 10_000) / (60 / 3.6))


def road_layer(rows: list[tuple[int, int, float, LineString]]) -> gpd.GeoDataFrame:
    """Layer ``roads``: (u, v, travel_time_s, line), key 0, 60 km/h unless re-timed."""
    return gpd.GeoDataFrame(
        {"u": [r[0] for r in rows], "v": [r[1] for r in rows], "key": 0,
         "osmid": [10 * r[0] + r[1] for r in rows], "highway": "primary",
         "speed_kph": [r[3].length / r[2] * 3.6 for r in rows],
         "length_m": [r[3].length for r in rows], "travel_time_s": [r[2] for r in rows]},
        geometry=[r[3] for r in rows], crs=CRS)


def test_edited_links_added_closed_retimed_and_splits_left_out():
    ab, bc, cd = (LineString([(0, 0), (6_000, 0)]), LineString([(6_000, 0), (6_000, 6_000)]),
                  LineString([(6_000, 6_000), (0, 6_000)]))
    base = road_layer([(1, 2, 360.0, ab), (2, 3, 360.0, bc), (3, 4, 360.0, cd)])
    # scenario: 1–2 split at x = 2 km by a new road to (2 km, 5 km) (node 9); 2–3 re-timed to
    # half its speed (720 s); 3–4 closed
    new = LineString([(2_000, 0), (2_000, 5_000)])
    scen = road_layer([(1, 9, 120.0, LineString([(0, 0), (2_000, 0)])),
                       (9, 2, 240.0, LineString([(2_000, 0), (6_000, 0)])),
                       (2, 3, 720.0, bc), (9, 10, 200.0, new)])
    edited = edited_links(base, scen)
    assert edited[["u", "v", "status"]].values.tolist() == [
        [9, 10, "added"], [2, 3, "changed"], [3, 4, "closed"]]
    row = edited.set_index("status")
    assert row.loc["changed", "travel_time_s_baseline"] == 360.0
    assert row.loc["changed", "travel_time_s"] == 720.0
    assert row.loc["changed", "speed_kph"] == pytest.approx(30.0)  # 6 km in 720 s
    assert math.isnan(row.loc["added", "travel_time_s_baseline"])
    assert row.loc["added", "geometry"].equals(new)
    assert math.isnan(row.loc["closed", "travel_time_s"])
    assert row.loc["closed", "geometry"].equals(cd)
    # no edit: nothing
    assert edited_links(base, base).empty
