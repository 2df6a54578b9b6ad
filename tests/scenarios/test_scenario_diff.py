"""Before–after tables: a scenario without edits differs by exactly zero; ranking by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, box

from agglonet.quality import decide_quality
from agglonet.scenarios.diff import (
    changed_corridors,
    cities_diff,
    comparison_table,
    match_sources,
    metrics_diff,
    pairs_diff,
    raster_diff,
)

FACT = decide_quality(roads_source="scgraph")


def metrics_row(**over) -> pd.DataFrame:
    row = {"cluster": "c", "name_en": "C", "watt_mean_min": 100.0, "eco_eca_km2": 2000.0,
           "n_road_crossings": 4, "detour_index_cross_province": np.nan, "roads_source": "scgraph"}
    return pd.DataFrame([{**row, **over}])


def od(times) -> pd.DataFrame:
    return pd.DataFrame({"origin_adcode": ["1", "2"], "dest_adcode": ["2", "1"],
                         "origin_name": ["A", "B"], "dest_name": ["B", "A"],
                         "travel_time_min": times, "linkage_strength": [1e6 / t**2 for t in times]})


def sources() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"source_id": [1, 2], "dpc": [3.0, 1.0], "city_adcodes": ["1", "1;2"]},
                            geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10)], crs="EPSG:3857")


def corridors() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"corridor_id": [1], "from_source": [1], "to_source": [2],
                             "cost_weighted_length": [500.0], "length_km": [0.01]},
                            geometry=[LineString([(10, 5), (20, 5)])], crs="EPSG:3857")


def test_a_scenario_without_edits_differs_by_exactly_zero():
    m = metrics_diff(metrics_row(), metrics_row(), fact=FACT, edits_quality="measured")
    assert list(m["metric"]) == ["watt_mean_min", "eco_eca_km2", "n_road_crossings",
                                 "detour_index_cross_province"]
    assert (m["change"].iloc[:3] == 0).all() and (m["relative_change"].iloc[:3] == 0).all()
    assert m["change"].isna().iloc[3]  # empty in both: no number to compare
    p = pairs_diff(od([50.0, 50.0]), od([50.0, 50.0]), fact=FACT, edits_quality="measured")
    assert (p["time_saved_min"] == 0).all() and (p["linkage_change"] == 0).all()
    grid = np.arange(12.0).reshape(3, 4)
    assert (raster_diff(grid, grid) == 0).all()
    c = changed_corridors(corridors(), corridors(), source_map=match_sources(sources(), sources()),
                          quality="approximate")
    assert list(c["status"]) == ["unchanged"] and c["cost_change"].iloc[0] == 0
    acc = pd.DataFrame({"adcode": ["1", "2"], "name_en": ["A", "B"], "watt_min": [50.0, 60.0],
                        "daily_access_2h_share": [1.0, 0.5], "potential_access": [9.0, 8.0]})
    eco = pd.DataFrame({"adcode": ["1", "2"], "source_area_km2": [3.0, 0.0]})
    cities = cities_diff(accessibility=(acc, acc), cities_ecology=(eco, eco),
                         sources=(sources(), sources()), thresholds_h=[2], fact=FACT,
                         edits_quality="measured")
    changes = cities.filter(like="_change")
    assert changes.shape[1] == 5 and (changes.to_numpy() == 0).all()
    # Σ dPC of the sources touching each city: city 1 has both (3 + 1), city 2 the second
    assert list(cities["pc_contribution_baseline"]) == [4.0, 1.0]


def test_changes_signs_and_quality():
    m = metrics_diff(metrics_row(), metrics_row(watt_mean_min=90.0, eco_eca_km2=2100.0),
                     fact=FACT, edits_quality="illustrative").set_index("metric")
    assert m.loc["watt_mean_min", "change"] == -10.0
    assert m.loc["watt_mean_min", "relative_change"] == pytest.approx(-0.1)
    assert m.loc["eco_eca_km2", "side"] == "ecology"
    assert m.loc["n_road_crossings", "side"] == "both"
    assert set(m["quality"]) == {"illustrative"}  # hand-drawn edits: illustrative whatever
    p = pairs_diff(od([50.0, 50.0]), od([40.0, 50.0]), fact=FACT, edits_quality="measured")
    assert list(p["time_saved_min"]) == [10.0, 0.0]
    # R = 1e6 / T²: 400 → 625, +56.25 %
    assert p["linkage_relative_change"].iloc[0] == pytest.approx(0.5625)
    assert set(p["quality"]) == {"approximate"}  # scgraph roads


def test_corridor_status_new_removed_changed():
    base = corridors()
    scen = corridors().assign(cost_weighted_length=[400.0])
    c = changed_corridors(base, scen, source_map={1: 1, 2: 2}, quality="measured")
    assert list(c["status"]) == ["changed"] and c["cost_change"].iloc[0] == -100.0
    c = changed_corridors(base, scen, source_map={1: 1}, quality="measured")
    assert sorted(c["status"]) == ["new", "removed"]


def test_comparison_ranks_by_effect_and_per_unit():
    rows = [
        {"scenario": "a", "km_built": 10.0, "km2_restored": 0.0, "watt_mean_saved_min": 2.0,
         "od_time_saved_sum_min": 5.0, "eco_eca_gain_km2": 0.0, "corridor_cost_change_sum": 0.0},
        {"scenario": "b", "km_built": 40.0, "km2_restored": 0.0, "watt_mean_saved_min": 4.0,
         "od_time_saved_sum_min": 9.0, "eco_eca_gain_km2": 0.0, "corridor_cost_change_sum": 0.0},
        {"scenario": "c", "km_built": 0.0, "km2_restored": 5.0, "watt_mean_saved_min": 0.0,
         "od_time_saved_sum_min": 0.0, "eco_eca_gain_km2": 3.0, "corridor_cost_change_sum": -1.0},
    ]
    t = comparison_table(rows).set_index("scenario")
    assert dict(t["rank_transport"]) == {"a": 2, "b": 1, "c": 3}
    # per km: a 0.2 min/km, b 0.1 min/km, c nothing built (last)
    assert dict(t["rank_transport_per_km"]) == {"a": 1, "b": 2, "c": 3}
    assert t.loc["a", "watt_saved_per_km_built"] == pytest.approx(0.2)
    assert dict(t["rank_ecology"]) == {"a": 2, "b": 2, "c": 1}
    assert t.loc["c", "eca_gain_per_km2_restored"] == pytest.approx(0.6)
