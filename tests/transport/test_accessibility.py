"""Accessibility indices on a hand-worked 3-city example (methods.md §1)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from agglonet.errors import DataError
from agglonet.transport import accessibility as acc

# Three cities. Travel times (min), network and straight-line distances (km), masses.
T = np.array([[0.0, 30.0, 60.0],
              [30.0, 0.0, 90.0],
              [60.0, 90.0, 0.0]])
D = np.array([[0.0, 12.0, 20.0],
              [12.0, 0.0, 30.0],
              [20.0, 30.0, 0.0]])
E = np.array([[0.0, 10.0, 16.0],
              [10.0, 0.0, 24.0],
              [16.0, 24.0, 0.0]])
M = np.array([100.0, 200.0, 300.0])


def test_watt_and_coefficient():
    # WATT_1 = (30*200 + 60*300) / (200 + 300) = 24000 / 500 = 48
    # WATT_2 = (30*100 + 90*300) / (100 + 300) = 30000 / 400 = 75
    # WATT_3 = (60*100 + 90*200) / (100 + 200) = 24000 / 300 = 80
    w = acc.watt(T, M)
    assert w == pytest.approx([48.0, 75.0, 80.0])
    # mean WATT = 203 / 3, so A'_1 = 48 * 3 / 203 = 144 / 203
    assert acc.access_coefficient(w) == pytest.approx([144 / 203, 225 / 203, 240 / 203])


def test_daily_accessibility():
    # within 60 min: city 1 reaches 2 (30) and 3 (60) -> 500 of 500; city 2 reaches 1 -> 100
    # of 400; city 3 reaches 1 -> 100 of 300
    da, share = acc.daily_accessibility(T, M, 60.0)
    assert da == pytest.approx([500.0, 100.0, 100.0])
    assert share == pytest.approx([1.0, 0.25, 1 / 3])
    da, share = acc.daily_accessibility(T, M, 29.0)
    assert da == pytest.approx([0.0, 0.0, 0.0])


def test_daily_share_divides_by_the_other_cities_mass():
    # within 60 min city 1 (mass 100) reaches both others (500 of the cluster's 600): its share
    # is 500 / (600 − 100) = 1, every other city in reach — not 500 / 600 of the cluster total
    _, share = acc.daily_accessibility(T, M, 60.0)
    assert share[0] == 1.0
    assert share[0] != pytest.approx(500 / 600)
    # city 3 (mass 300) reaches city 1 only: 100 / (100 + 200)
    assert share[2] == pytest.approx(100 / 300)


def test_potential_accessibility():
    # power, a = 1: P_1 = 200/30 + 300/60 = 20/3 + 5; P_2 = 100/30 + 300/90 = 20/3;
    # P_3 = 100/60 + 200/90 = 5/3 + 20/9
    p = acc.potential_accessibility(T, M, decay="power", a=1.0)
    assert p == pytest.approx([20 / 3 + 5, 20 / 3, 5 / 3 + 20 / 9])
    # exponential, beta = 0.01/min: P_1 = 200 e^-0.3 + 300 e^-0.6
    p = acc.potential_accessibility(T, M, decay="exponential", beta_per_min=0.01)
    assert p[0] == pytest.approx(200 * math.exp(-0.3) + 300 * math.exp(-0.6))
    with pytest.raises(DataError, match="gaussian"):
        acc.potential_accessibility(T, M, decay="gaussian")


def test_linkage_and_membership():
    # R_12 = 100*200/30^2 = 200/9; R_13 = 100*300/60^2 = 75/9;
    # R_23 = 200*300/90^2 = 60000/8100
    R = acc.linkage_strength(T, M, k=1.0, b=2.0)
    assert R[0, 1] == pytest.approx(200 / 9)
    assert R[0, 2] == pytest.approx(75 / 9)
    assert R[1, 2] == pytest.approx(60000 / 8100)
    assert np.diag(R) == pytest.approx([0, 0, 0])
    # F_12 = (200/9) / (200/9 + 75/9) = 200/275 = 8/11
    F = acc.linkage_membership(R)
    assert F[0, 1] == pytest.approx(8 / 11)
    assert F[0, 2] == pytest.approx(3 / 11)


def test_detour_and_efficiencies():
    # C_12 = 12/10 = 1.2, C_13 = 20/16 = 1.25, C_23 = 30/24 = 1.25
    C = acc.detour_index(D, E)
    assert C[0, 1] == pytest.approx(1.2)
    assert C[1, 2] == pytest.approx(1.25)
    assert np.isnan(C[0, 0])
    # straightness: mean of E/D over the 6 ordered pairs = (1/1.2 + 0.8 + 0.8) / 3
    assert acc.mean_straightness(D, E) == pytest.approx((1 / 1.2 + 1.6) / 3)
    # Latora–Marchiori: (1/12 + 1/20 + 1/30) / (1/10 + 1/16 + 1/24) = (10/60) / (49/240)
    # = 40/49 (the factor 2 of the ordered pairs cancels)
    assert acc.global_efficiency(D, E) == pytest.approx(40 / 49)
    # harmonic: (1/30 + 1/60 + 1/90) * 2 / 6
    assert acc.harmonic_efficiency(T) == pytest.approx((1 / 30 + 1 / 60 + 1 / 90) / 3)
    assert acc.mean_travel_time(T) == pytest.approx(60.0)
    s = acc.cluster_summary(T=T, D=D, E=E)
    assert s["detour_index_mean"] == pytest.approx((1.2 + 1.25 + 1.25) / 3)
    assert s["od_pairs_unreachable"] == 0


def test_unreachable_pairs_are_nan_and_flagged():
    Tu = T.copy()
    Tu[1, 2] = np.nan  # 2 -> 3 unreachable
    Du = D.copy()
    Du[1, 2] = np.nan
    # WATT_2 over reachable destinations only: 30*100/100 = 30
    assert acc.watt(Tu, M)[1] == pytest.approx(30.0)
    R = acc.linkage_strength(Tu, M)
    assert np.isnan(R[1, 2]) and np.isfinite(R[2, 1])
    # straightness: the missing pair counts 0 -> (1/1.2*2 + 0.8*2 + 0.8 + 0) / 6
    assert acc.mean_straightness(Du, E) == pytest.approx((2 / 1.2 + 2.4) / 6)
    # efficiency: 1/∞ = 0 for 2 -> 3 only: (2/12 + 2/20 + 1/30) / (2/10 + 2/16 + 2/24)
    assert acc.global_efficiency(Du, E) == pytest.approx((0.3) / (49 / 120))
    seats = pd.DataFrame({"adcode": ["410100", "410200", "410300"], "name_en": ["A", "B", "C"],
                          "name_zh": ["甲", "乙", "丙"], "population": [100, 200, 300]})
    snap = pd.DataFrame({"snap_distance_m": [0.0] * 3, "access_leg_min": [0.0] * 3})
    cities = acc.city_table(seats, T=Tu, masses=M, snap=snap)
    assert cities["reachable_all"].tolist() == [True, False, True]
    od = acc.od_table(seats, T=Tu, D=Du, E=E, R=R)
    row = od[(od.origin_adcode == "410200") & (od.dest_adcode == "410300")].iloc[0]
    assert not row["reachable"] and np.isnan(row["travel_time_min"])
    assert od["reachable"].sum() == 5


def test_city_table_columns_match_contract():
    seats = pd.DataFrame({"adcode": ["410100", "410200", "410300"], "name_en": ["A", "B", "C"],
                          "name_zh": ["甲", "乙", "丙"], "population": [100, 200, 300]})
    snap = pd.DataFrame({"snap_distance_m": [0.0] * 3, "access_leg_min": [0.0] * 3})
    t = acc.city_table(seats, T=T, masses=M, snap=snap, thresholds_h=(1, 2, 3))
    expected = ["adcode", "name_zh", "name_en", "population", "population_year",
                "population_source", "population_note", "gdp", "gdp_year", "gdp_source",
                "gdp_note", "mass", "snap_distance_m", "access_leg_min", "watt_min",
                "access_coef"]
    for h in (1, 2, 3):
        expected += [f"daily_access_{h}h", f"daily_access_{h}h_share"]
    expected += ["potential_access", "linkage_total", "reachable_all"]
    assert list(t.columns) == expected
    # linkage_total of city 1 = R_12 + R_13 = 275/9
    assert t["linkage_total"].iloc[0] == pytest.approx(275 / 9)
    assert t["daily_access_2h"].tolist() == [500, 400, 300]
    # seats without mass provenance give empty cells, not errors
    assert t["population_source"].tolist() == ["", "", ""] and t["gdp"].isna().all()


def test_city_table_carries_the_mass_columns_of_the_seats():
    seats = pd.DataFrame({
        "adcode": ["410100", "410200", "410300"], "name_zh": ["甲", "乙", "丙"],
        "population": [100, 200, 300], "population_year": [2020, 2020, None],
        "population_source": ["census2020:a", "census2020:b", "geonames:7 (no census value)"],
        "population_note": ["", "a note", ""], "gdp": [12003.0, np.nan, 14083.73],
        "gdp_year": [2020, None, 2020], "gdp_source": ["gdp2020:x", "", "gdp2020:y"],
        "gdp_note": ["", "", "rounded"]})
    snap = pd.DataFrame({"snap_distance_m": [0.0] * 3, "access_leg_min": [0.0] * 3})
    t = acc.city_table(seats, T=T, masses=M, snap=snap)
    assert t["population_year"].tolist()[:2] == [2020, 2020] and pd.isna(t["population_year"][2])
    assert t["population_source"].tolist() == seats["population_source"].tolist()
    assert t["population_note"].tolist() == ["", "a note", ""]
    assert t["gdp"].tolist()[0] == 12003.0 and t["gdp"].tolist()[2] == 14083.73
    assert t["gdp_note"].tolist() == ["", "", "rounded"]


def test_masses_come_from_the_city_table():
    cities = pd.DataFrame({"adcode": ["410100", "410200"], "name_zh": ["郑州市", "开封市"],
                           "population": [100, 400], "gdp": [400.0, 100.0]})
    assert acc.load_masses(cities).tolist() == [100, 400]
    assert acc.load_masses(cities, mass="gdp").tolist() == [400, 100]
    # sqrt(100*400) = 200, sqrt(400*100) = 200
    assert acc.load_masses(cities, mass="sqrt_pop_gdp").tolist() == [200, 200]


def test_masses_missing_values_name_the_cities_and_the_remedy():
    cities = pd.DataFrame({"adcode": ["410100", "410200", "410800"],
                           "name_zh": ["郑州市", "开封市", "焦作市"],
                           "population": [100, 400, None], "gdp": [400.0, np.nan, np.nan]})
    with pytest.raises(DataError, match=r"missing for 开封市 \(410200\), 焦作市 \(410800\)\. "
                                        r"Give them in transport\.mass_table.*adcode,gdp"):
        acc.load_masses(cities, mass="gdp")
    with pytest.raises(DataError, match=r"population for every city; missing for 焦作市"):
        acc.load_masses(cities)
    with pytest.raises(DataError, match=r"needs a population"):
        acc.load_masses(cities, mass="sqrt_pop_gdp")
    with pytest.raises(DataError, match="GDP for every city; missing for 郑州市"):
        acc.load_masses(cities.drop(columns="gdp"), mass="gdp")
    with pytest.raises(DataError, match="unknown"):
        acc.load_masses(cities, mass="people")


def test_transport_results_on_a_three_city_graph():
    import geopandas as gpd
    import networkx as nx
    from shapely.geometry import LineString, Point

    # three seats on graph nodes; two-way links A-B 10 km in 600 s, B-C 20 km in 1800 s
    crs = "EPSG:32650"
    xy = {1: (0.0, 0.0), 2: (8000.0, 6000.0), 3: (8000.0, 26000.0)}
    G = nx.MultiDiGraph(crs=crs)
    for n, (x, y) in xy.items():
        G.add_node(n, x=x, y=y)
    for a, b, ln, tt in [(1, 2, 10_000.0, 600.0), (2, 3, 20_000.0, 1800.0)]:
        for u, v in ((a, b), (b, a)):
            G.add_edge(u, v, key=0, length=ln, travel_time=tt, highway="primary",
                       geometry=LineString([xy[u], xy[v]]))
    seats = gpd.GeoDataFrame({"adcode": ["410300", "410100", "410200"],
                              "name_en": ["C", "A", "B"], "name_zh": ["丙", "甲", "乙"],
                              "population": [300, 100, 200]},
                             geometry=[Point(xy[3]), Point(xy[1]), Point(xy[2])], crs=crs)
    out = acc.transport_results(G, seats, thresholds_h=(0.5,))
    od = out["od"].set_index(["origin_adcode", "dest_adcode"])
    # A->C: 600 + 1800 s = 40 min, 30 km on the road, straight line sqrt(8^2 + 26^2) km
    assert od.loc[("410100", "410300"), "travel_time_min"] == pytest.approx(40.0)
    assert od.loc[("410100", "410300"), "network_km"] == pytest.approx(30.0)
    assert od.loc[("410100", "410300"), "euclid_km"] == pytest.approx(math.hypot(8, 26))
    cities = out["cities"].set_index("adcode")
    # WATT_A = (10*200 + 40*300) / 500 = 28 min; within 30 min A reaches B only -> 200
    assert cities.loc["410100", "watt_min"] == pytest.approx(28.0)
    assert cities.loc["410100", "daily_access_0.5h"] == 200
    s = out["summary"]
    # mean OD time over the 6 ordered pairs: (10 + 40 + 30) * 2 / 6
    assert s["od_mean_travel_time_min"] == pytest.approx(80 / 3)
    # road graph: path of 3 nodes, 2 edges: beta = 2/3, mu = 0
    assert s["road_n_nodes"] == 3 and s["road_n_edges"] == 2
    assert s["road_beta"] == pytest.approx(2 / 3) and s["road_mu"] == 0
    assert s["road_length_km"] == pytest.approx(30.0)
    assert len(out["od_links"]) == 3 and len(out["seats"]) == 3


def _rectangle_graph():
    """Four seats on the corners of a 4 km × 3 km rectangle, roads along its sides only.

    A (0, 0) — B (4, 0) — C (4, 3) — D (0, 3) — A; every link two-way at 60 km/h.
    """
    import geopandas as gpd
    import networkx as nx
    from shapely.geometry import LineString, Point

    crs = "EPSG:32650"
    xy = {1: (0.0, 0.0), 2: (4000.0, 0.0), 3: (4000.0, 3000.0), 4: (0.0, 3000.0)}
    G = nx.MultiDiGraph(crs=crs)
    for n, (x, y) in xy.items():
        G.add_node(n, x=x, y=y)
    for a, b in ((1, 2), (2, 3), (3, 4), (4, 1)):
        length = math.dist(xy[a], xy[b])
        for u, v in ((a, b), (b, a)):
            G.add_edge(u, v, key=0, length=length, travel_time=length / 1000 * 60,
                       highway="primary", geometry=LineString([xy[u], xy[v]]))
    seats = gpd.GeoDataFrame({"adcode": ["410100", "410200", "410300", "410400"],
                              "name_en": list("ABCD"), "name_zh": list("甲乙丙丁"),
                              "population": [100, 200, 300, 400]},
                             geometry=[Point(xy[n]) for n in (1, 2, 3, 4)], crs=crs)
    return G, seats


def test_latora_marchiori_efficiency_on_a_four_node_graph_by_hand():
    G, seats = _rectangle_graph()
    out = acc.transport_results(G, seats, thresholds_h=(1,))
    s = out["summary"]
    # road distances: the sides 4, 3, 4, 3 km; the diagonals A–C and B–D 7 km (round a corner).
    # straight lines: the sides, and 5 km diagonals. Over unordered pairs (the ordered sums are
    # twice both): Σ 1/d = 1/4 + 1/3 + 1/4 + 1/3 + 1/7 + 1/7 = 61/42,
    # Σ 1/d_ideal = 1/4 + 1/3 + 1/4 + 1/3 + 1/5 + 1/5 = 47/30 → E = (61/42) / (47/30) = 305/329
    assert s["global_efficiency"] == pytest.approx(305 / 329)
    # mean straightness weighs every pair alike: (1 + 1 + 1 + 1 + 5/7 + 5/7) / 6 = 19/21
    assert s["mean_straightness"] == pytest.approx(19 / 21)
    # harmonic efficiency on times (1 km/min): mean of 1/T = (61/42) / 6 per minute
    assert s["harmonic_efficiency"] == pytest.approx(61 / 42 / 6)


def test_quality_labels_on_every_table_and_layer():
    G, seats = _rectangle_graph()
    labels = {"roads_source": "scgraph", "quality": "approximate"}
    out = acc.transport_results(G, seats, thresholds_h=(1,), labels=labels)
    for key in ("od", "cities", "seats", "od_links"):
        frame = out[key]
        assert list(frame.columns[-2:] if key != "seats" else
                    frame.drop(columns="geometry").columns[-2:]) == ["roads_source", "quality"]
        assert (frame["roads_source"] == "scgraph").all(), key
        assert (frame["quality"] == "approximate").all(), key


def test_cell_times_join_the_city_table_by_adcode():
    G, seats = _rectangle_graph()
    cell_times = pd.DataFrame({"adcode": ["410400", "410100", "410300", "410200"],
                               "cells_to_core_mean_min": [4.0, 1.0, 3.0, 2.0]})
    out = acc.transport_results(G, seats, thresholds_h=(1,), cell_times=cell_times)
    cities = out["cities"].set_index("adcode")
    assert cities["cells_to_core_mean_min"].to_dict() == {"410100": 1.0, "410200": 2.0,
                                                         "410300": 3.0, "410400": 4.0}
    assert out["seats"].set_index("adcode").loc["410300", "cells_to_core_mean_min"] == 3.0
