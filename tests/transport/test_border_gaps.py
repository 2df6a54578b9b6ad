"""Border gaps (断头路) and the borders crossed by each OD pair, on hand-made road networks.

Two cities share the border x = 0 (city 1 west, city 2 east). Every expected value is worked
out by hand in the test from the edge times given (60 km/h = 1 km/min).
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Point, box

from agglonet.crs import CHINA_ALBERS, WGS84
from agglonet.errors import DataError
from agglonet.transport.border_gaps import border_results, road_ends
from agglonet.transport.borders import border_regions, path_rows, region_of
from agglonet.transport.od import graph_to_csr

#: Offset of the toy world in China Albers (metres), so that lon/lat come out in China.
X0, Y0 = 600_000.0, 3_830_000.0


def road_graph(nodes: dict[int, tuple[float, float]], links: list[tuple[int, int, float]]
               ) -> nx.MultiDiGraph:
    """Two-way roads at 60 km/h: ``links`` are (u, v, minutes); length = minutes × 1000 m."""
    G = nx.MultiDiGraph(crs=CHINA_ALBERS)
    for n, (x, y) in nodes.items():
        G.add_node(n, x=X0 + x, y=Y0 + y)
    for u, v, minutes in links:
        for a, b in ((u, v), (v, u)):
            G.add_edge(a, b, length=minutes * 1000.0, travel_time=minutes * 60.0,
                       speed_kph=60.0, highway="tertiary")
    return G


def two_cities(province_b: str = "甲省") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"adcode": ["410100", "410200"], "name_zh": ["甲市", "乙市"],
         "province_zh": ["甲省", province_b]},
        geometry=[box(X0 - 30_000, Y0 - 30_000, X0, Y0 + 30_000),
                  box(X0, Y0 - 30_000, X0 + 30_000, Y0 + 30_000)], crs=CHINA_ALBERS)


def seats_at(*xy: tuple[float, float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"adcode": ["410100", "410200"], "name_en": ["A", "B"]},
                            geometry=[Point(X0 + x, Y0 + y) for x, y in xy], crs=CHINA_ALBERS)


def od_with_linkage(r_ab: float, r_ba: float) -> pd.DataFrame:
    return pd.DataFrame({"origin_adcode": ["410100", "410200"],
                         "dest_adcode": ["410200", "410100"],
                         "linkage_strength": [r_ab, r_ba],
                         "roads_source": ["osm", "osm"], "quality": ["measured", "measured"]})


# Road ends 1 (x = −400 m, city 1) and 2 (x = +400 m, city 2) face each other across the border,
# 800 m apart. Seat A sits on node 0, seat B on node 3; today they are joined only by a detour
# through nodes 4 and 5 in the south: 10 + 20 + 10 = 40 min.
BROKEN = {0: (-10_000, 0), 1: (-400, 0), 2: (400, 0), 3: (10_000, 0),
          4: (-10_000, -10_000), 5: (10_000, -10_000)}
BROKEN_LINKS = [(0, 1, 9.6), (2, 3, 9.6), (0, 4, 10.0), (4, 5, 20.0), (5, 3, 10.0)]


def test_two_ends_800_m_apart_are_one_gap_with_the_time_saved_by_hand():
    G = road_graph(BROKEN, BROKEN_LINKS)
    out = border_results(G, seats=seats_at((-10_000, 0), (10_000, 0)), cities=two_cities(),
                         od=od_with_linkage(5.0, 7.0), area=None)
    gaps = out["gaps"]
    assert len(gaps) == 1  # end 1 picks end 2 and end 2 picks end 1: one gap
    gap = gaps.iloc[0]
    assert gap["gap_m"] == pytest.approx(800.0)
    assert gap["link_speed_kph"] == pytest.approx(60.0)       # the slower of two 60 km/h roads
    assert gap["link_time_min"] == pytest.approx(0.8)         # 800 m at 1 km/min
    # today: end 1 → node 0 → detour 40 min → node 3 → end 2 = 9.6 + 40 + 9.6
    assert gap["network_time_min"] == pytest.approx(59.2)
    # with the link: A → end 1 (9.6) + link (0.8) + end 2 → B (9.6) = 20 min instead of 40
    assert gap["n_pairs_gaining"] == 2
    assert gap["time_saved_max_min"] == pytest.approx(20.0)
    assert gap["time_saved_sum_min"] == pytest.approx(40.0)
    assert gap["linkage_time_saved"] == pytest.approx(20.0 * 5.0 + 20.0 * 7.0)
    assert gap["rank"] == 1 and gap["n_ends"] == 1
    assert {gap["end_adcode"], gap["other_adcode"]} == {"410100", "410200"}
    assert gap["border"] == "city" and gap["top_pair"] == "B–A"   # R_BA = 7 > R_AB = 5
    assert gap["end_class"] == "tertiary" == gap["other_class"]
    assert gaps.geometry.iloc[0].equals(Point(X0 - 400, Y0)) or \
        gaps.geometry.iloc[0].equals(Point(X0 + 400, Y0))
    assert out["summary"]["road_ends"] == 2


def test_a_road_that_crosses_the_border_is_not_a_gap():
    G = road_graph(BROKEN, [*BROKEN_LINKS, (1, 2, 0.8)])  # the road runs on across the border
    assert len(road_ends(graph_to_csr(G))) == 0
    out = border_results(G, seats=seats_at((-10_000, 0), (10_000, 0)), cities=two_cities(),
                         od=od_with_linkage(5.0, 7.0), area=None)
    assert out["gaps"].empty
    assert list(out["gaps"].columns[:3]) == ["rank", "end_node", "n_ends"]


def test_a_gap_to_the_middle_of_a_road_is_timed_through_both_of_its_ends():
    # City 2's road p (6) – q (7) runs north–south at x = +600 m; end 1 (x = −400) faces its
    # middle, 1 km away. Seat B sits at node 3, 5 min beyond q. The detour reaches p from the
    # south: A → 4 → 5 → p = 10 + 20 + 10, then p → q 6, q → B 5: 51 min today.
    nodes = {0: (-10_000, 0), 1: (-400, 0), 3: (10_000, 3_000), 4: (-10_000, -10_000),
             5: (10_000, -10_000), 6: (600, -3_000), 7: (600, 3_000)}
    links = [(0, 1, 9.6), (0, 4, 10.0), (4, 5, 20.0), (5, 6, 10.0), (6, 7, 6.0), (7, 3, 5.0)]
    out = border_results(road_graph(nodes, links),
                         seats=seats_at((-10_000, 0), (10_000, 3_000)), cities=two_cities(),
                         od=od_with_linkage(1.0, 1.0), area=None)
    gaps = out["gaps"]
    assert len(gaps) == 1
    gap = gaps.iloc[0]
    assert gap["gap_m"] == pytest.approx(1000.0)
    x, y = Transformer.from_crs(WGS84, CHINA_ALBERS, always_xy=True).transform(
        gap["target_lon"], gap["target_lat"])
    assert (x, y) == pytest.approx((X0 + 600, Y0), abs=0.01)  # the middle of p–q
    # with the link: 9.6 + 1 (link) + 3 (half of p–q) + 5 = 18.6 min, both ways
    assert gap["time_saved_max_min"] == pytest.approx(51.0 - 18.6)
    assert gap["time_saved_sum_min"] == pytest.approx(2 * (51.0 - 18.6))


def test_ends_at_the_clip_edge_are_artefacts_and_connected_ends_are_no_gap():
    G = road_graph(BROKEN, BROKEN_LINKS)
    cities, seats = two_cities(), seats_at((-10_000, 0), (10_000, 0))
    od = od_with_linkage(1.0, 1.0)
    # the road area ends 1 km north of both ends: they are where the clip cut the roads
    area = box(X0 - 30_000, Y0 - 30_000, X0 + 30_000, Y0 + 1_000)
    assert border_results(G, seats=seats, cities=cities, od=od, area=area,
                          edge_margin_km=2)["gaps"].empty
    assert len(border_results(G, seats=seats, cities=cities, od=od, area=area,
                              edge_margin_km=0.5)["gaps"]) == 1
    # a detour of 59.2 min is below 100 × the 0.8 min link: the two ends count as connected
    assert border_results(G, seats=seats, cities=cities, od=od, area=None,
                          min_detour_ratio=100)["gaps"].empty
    # ends farther from the border than border_distance_km are not at it
    assert border_results(G, seats=seats, cities=cities, od=od, area=None,
                          border_distance_km=0.3)["gaps"].empty
    # a road across farther than max_gap_km is not paired
    assert border_results(G, seats=seats, cities=cities, od=od, area=None,
                          max_gap_km=0.7)["gaps"].empty


def test_provincial_border_and_its_crossings():
    G = road_graph(BROKEN, [*BROKEN_LINKS, (1, 2, 0.8)])
    out = border_results(G, seats=seats_at((-10_000, 0), (10_000, 0)),
                         cities=two_cities(province_b="乙省"), od=od_with_linkage(1.0, 1.0),
                         area=None)
    od = out["od"]
    assert od["cross_province"].tolist() == [True, True]
    assert od["n_city_borders"].tolist() == [1, 1]
    assert od["n_province_borders"].tolist() == [1, 1]
    # the border columns sit before the quality labels
    assert list(od.columns)[-5:] == ["cross_province", "n_city_borders", "n_province_borders",
                                     "roads_source", "quality"]


def test_border_gap_across_provinces_is_labelled_province():
    G = road_graph(BROKEN, BROKEN_LINKS)
    out = border_results(G, seats=seats_at((-10_000, 0), (10_000, 0)),
                         cities=two_cities(province_b="乙省"), od=od_with_linkage(1.0, 1.0),
                         area=None)
    assert out["gaps"]["border"].tolist() == ["province"]
    assert out["summary"]["border_gaps_province"] == 1


def test_a_path_through_a_third_city_crosses_two_borders():
    # the detour's southern road (y = −10 km) runs through a strip of a third city around x = 0:
    # city 1 → city 3 → city 2 along the path, 2 city borders; the access legs are zero
    G = road_graph(BROKEN, BROKEN_LINKS)
    strip = box(X0 - 2_000, Y0 - 30_000, X0 + 2_000, Y0 - 5_000)
    two = two_cities()
    cities = gpd.GeoDataFrame(
        {"adcode": ["410100", "410200", "410300"], "name_zh": ["甲市", "乙市", "丙市"],
         "province_zh": ["甲省", "甲省", "甲省"]},
        geometry=[two.geometry.iloc[0].difference(strip), two.geometry.iloc[1].difference(strip),
                  strip], crs=CHINA_ALBERS)
    out = border_results(G, seats=seats_at((-10_000, 0), (10_000, 0)), cities=cities,
                         od=od_with_linkage(1.0, 1.0), area=None)
    assert out["od"]["n_city_borders"].tolist() == [2, 2]
    assert out["od"]["n_province_borders"].tolist() == [0, 0]
    assert out["od"]["cross_province"].tolist() == [False, False]


def test_regions_cut_neighbours_out_of_members_and_label_points():
    cities = two_cities()
    neighbour = gpd.GeoDataFrame({"adcode": ["410900"], "name_zh": ["丁市"],
                                  "province_zh": ["甲省"]},
                                 geometry=[box(X0 - 40_000, Y0 + 20_000, X0 + 40_000,
                                               Y0 + 50_000)], crs=CHINA_ALBERS)
    regions = border_regions(cities, area=box(X0 - 35_000, Y0 - 35_000, X0 + 35_000,
                                              Y0 + 35_000), neighbours=neighbour)
    # the neighbour keeps only its part outside the members and inside the area
    assert regions.geometry.iloc[2].area == pytest.approx(70_000 * 5_000 + 2 * 5_000 * 10_000)
    labels = region_of(np.array([[X0 - 1, Y0], [X0 + 1, Y0], [X0, Y0 + 32_000],
                                 [X0 + 99_000, Y0]]), regions)
    assert labels.tolist() == [0, 1, 2, -1]
    with pytest.raises(DataError, match="province_zh"):
        border_regions(cities.drop(columns="province_zh"), area=None)


def test_path_rows_walks_the_predecessor_tree():
    pred = np.array([-9999, 0, 1, 1])
    assert path_rows(pred, 0, 2) == [0, 1, 2]
    assert path_rows(pred, 0, 0) == [0]
    assert path_rows(np.array([-9999, -9999]), 0, 1) == []


def test_bad_settings_are_refused():
    G = road_graph(BROKEN, BROKEN_LINKS)
    kwargs = {"seats": seats_at((-10_000, 0), (10_000, 0)), "cities": two_cities(),
              "od": od_with_linkage(1.0, 1.0), "area": None}
    with pytest.raises(DataError, match="max_gap_km"):
        border_results(G, max_gap_km=0, **kwargs)
    with pytest.raises(DataError, match="min_detour_ratio"):
        border_results(G, min_detour_ratio=0.5, **kwargs)
    with pytest.raises(DataError, match="link_speed_kph"):
        border_results(G, link_speed_kph=-5, **kwargs)


def test_fixed_link_speed_and_determinism():
    G = road_graph(BROKEN, BROKEN_LINKS)
    kwargs = {"seats": seats_at((-10_000, 0), (10_000, 0)), "cities": two_cities(),
              "od": od_with_linkage(1.0, 1.0), "area": None}
    gap = border_results(G, link_speed_kph=24.0, **kwargs)["gaps"].iloc[0]
    assert gap["link_time_min"] == pytest.approx(2.0)          # 800 m at 0.4 km/min
    assert gap["time_saved_max_min"] == pytest.approx(40.0 - 21.2)
    first = border_results(G, **kwargs)["gaps"]
    again = border_results(G, **kwargs)["gaps"]
    pd.testing.assert_frame_equal(first.drop(columns="geometry"), again.drop(columns="geometry"))
    assert shapely.equals(first.geometry.values, again.geometry.values).all()


def test_crossings_follow_the_edge_geometry_not_the_straight_line():
    # the southern road 4 → 5 bends down to y = −20 km, through a third city lying between
    # y = −25 and −15 km that the straight line 4–5 (y = −10 km) never touches
    G = road_graph(BROKEN, BROKEN_LINKS)
    bend = shapely.LineString([(X0 - 10_000, Y0 - 10_000), (X0, Y0 - 20_000),
                               (X0 + 10_000, Y0 - 10_000)])
    for a, b, line in ((4, 5, bend), (5, 4, shapely.reverse(bend))):
        G.edges[a, b, 0]["geometry"] = line
    strip = box(X0 - 3_000, Y0 - 25_000, X0 + 3_000, Y0 - 15_000)
    two = two_cities()
    cities = gpd.GeoDataFrame(
        {"adcode": ["410100", "410200", "410300"], "name_zh": ["甲市", "乙市", "丙市"],
         "province_zh": ["甲省", "甲省", "丙省"]},
        geometry=[two.geometry.iloc[0].difference(strip), two.geometry.iloc[1].difference(strip),
                  strip], crs=CHINA_ALBERS)
    out = border_results(G, seats=seats_at((-10_000, 0), (10_000, 0)), cities=cities,
                         od=od_with_linkage(1.0, 1.0), area=None)
    # city 1 → city 3 (another province) → city 2: two city and two provincial borders
    assert out["od"]["n_city_borders"].tolist() == [2, 2]
    assert out["od"]["n_province_borders"].tolist() == [2, 2]
    assert out["od"]["cross_province"].tolist() == [False, False]
