"""Every metrics.csv column on a hand-made three-city cluster; expected values worked by hand."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from builders import synthetic_cluster
from shapely.geometry import LineString, box

from agglonet.crs import CHINA_ALBERS
from agglonet.errors import CRSError, DataError
from agglonet.io import format_value
from agglonet.metrics.cluster import cluster_metrics, metric_columns
from agglonet.quality import decide_quality, write_quality


def test_every_column_by_hand() -> None:
    row = cluster_metrics(**synthetic_cluster()).iloc[0]
    expected = {
        "cluster": "tri", "name_en": "Tri cities", "name_zh": "三城",
        "n_cities": 3,
        "area_km2": 300.0,                           # three 10 km × 10 km squares
        "population": 600,                           # 100 + 200 + 300
        "population_year": "", "population_source": "",  # seats without mass provenance
        "od_mean_travel_time_min": 75.0,             # (60 + 60 + 90 + 90) / 4 reachable pairs
        "watt_mean_min": 205 / 3,                    # (70 + 55 + 80) / 3 = 68.333
        # CV of A' = CV of WATT: deviations 1.667, −13.333, 11.667; mean square 316.667/3
        # = 105.556; sd 10.27402; / 68.3333 = 0.150352
        "access_coef_cv": 0.150352,
        "daily_access_1h_share": 0.2 / 3,            # (0 + 0.2 + 0) / 3
        "daily_access_2h_share": 1.3 / 3,            # (0.5 + 0.6 + 0.2) / 3
        "daily_access_3h_share": 1.8 / 3,            # (1.0 + 0.6 + 0.2) / 3
        # mean straightness: (10/12 + 10/12 + 12/15 + 12/15 + 0 + 0) / 6 = 3.266667 / 6
        "mean_straightness": 0.544444,
        # Latora–Marchiori: (2/12 + 2/15 + 0) / (2/10 + 2/12 + 2/14.142) = 0.3 / 0.508089
        "global_efficiency": 0.590447,
        # (2/60 + 2/90 + 0 + 0) / 6 = 0.0555556 / 6
        "harmonic_efficiency": 0.00925926,
        "detour_index_mean": 1.225,                  # (1.2 + 1.2 + 1.25 + 1.25) / 4
        "n_od_pairs": 6, "n_unreachable_pairs": 2,
        # A↔B across provinces, A↔C within one; B↔C unreachable
        "n_pairs_cross_province": 2, "n_pairs_within_province": 2,
        "detour_index_cross_province": 1.2, "detour_index_within_province": 1.25,
        "detour_border_ratio": 0.96,                 # 1.2 / 1.25
        "min_per_km_cross_province": 6.0,            # 60 min / 10 km
        "min_per_km_within_province": 7.5,           # 90 min / 12 km
        "min_per_km_border_ratio": 0.8,              # 6 / 7.5
        "city_borders_mean": 1.0,
        "n_border_gaps": 2, "n_border_gaps_province": 1,
        "road_alpha": 0.25, "road_beta": 1.1, "road_gamma": 0.4,
        "road_n_nodes": 120, "road_n_edges": 132,
        "eco_n_sources": 2,
        "eco_source_area_km2": 8.0,                  # 4 + 4
        "eco_source_area_in_cluster_km2": 6.0,       # 4 + the 2 of source 2 west of x = 20 km
        "eco_source_in_cluster_share": 0.75,         # 6 / 8
        "eco_largest_source_share": 0.5,             # 4 / 8
        "eco_source_share": 0.02,                    # (4 + 2) / 300
        "eco_n_corridors": 2,
        "eco_corridor_length_km": 7.0,               # 3 km + 4 km
        # corridor 2 runs through A and B, corridor 1 through A only: 1 of 2, 4 of 7 km
        "eco_cross_border_corridor_share": 0.5,
        "eco_cross_border_corridor_length_share": 4 / 7,
        "eco_alpha": 0.0, "eco_beta": 0.5, "eco_gamma": math.nan, "eco_n_loops": 1.0,
        "eco_landscape_area_km2": 1200.0,            # A_L of IIC/PC/ECA (summary)
        "eco_iic": 0.0123, "eco_pc": 0.000456789, "eco_eca_km2": 5.5,
        "eco_n_pinch_zones": 3,
        "eco_pinch_zone_area_km2": 2.0,              # 1 + 0.5 + 0.5
        "n_road_crossings": 2,
        "road_length_in_corridors_km": 0.5,          # (200 + 300) m
        "structure_n_cities": 3, "structure_year": "2020",
        "similarity_mean": 2.65 / 3,                 # (0.9 + 0.8 + 0.95) / 3
        "dissimilarity_mean": 0.7 / 3,               # (0.2 + 0.4 + 0.1) / 3
        "similarity_high_share": 2 / 3,
        # two pairs with a travel time: too few for a rank correlation
        "similarity_time_spearman": math.nan, "similarity_time_pvalue": math.nan,
        "similarity_time_n_pairs": 2, "structure_note": "",
        "roads_source": "proxy", "landcover_source": "modis_igbp",
        "quality": "illustrative", "transport_quality": "illustrative",
        "ecology_quality": "measured", "coarse_inputs": "",
    }
    assert list(row.index) == metric_columns([1, 2, 3])
    assert set(expected) == set(row.index)
    for key, value in expected.items():
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(row[key]), key
        elif isinstance(value, float):
            assert row[key] == pytest.approx(value, rel=1e-5), key
        else:
            assert row[key] == value, key


def test_population_provenance_summarised_per_cluster() -> None:
    inputs = synthetic_cluster()
    seats = inputs["seats"].assign(
        population_year=pd.array([2020, 2020, 2020], dtype="Int64"),
        population_source=["census2020:cpop_henan"] * 3)
    row = cluster_metrics(**{**inputs, "seats": seats}).iloc[0]
    assert row["population_year"] == "2020" and row["population_source"] == "census2020"
    seats = seats.assign(population_year=pd.array([2020, 2020, None], dtype="Int64"),
                         population_source=["census2020:a", "census2020:b",
                                            "geonames:9 (no census value)"])
    row = cluster_metrics(**{**inputs, "seats": seats}).iloc[0]
    assert row["population_year"] == "mixed"
    assert row["population_source"] == "census2020 ×2, geonames ×1"
    cols = metric_columns([1, 2, 3])
    assert cols.index("population_year") == cols.index("population") + 1
    assert cols.index("population_source") == cols.index("population") + 2


def test_required_issue_columns_present() -> None:
    required = [
        "cluster", "n_cities", "area_km2", "population", "od_mean_travel_time_min",
        "watt_mean_min", "access_coef_cv", "daily_access_2h_share", "global_efficiency",
        "detour_index_mean", "road_alpha", "road_beta", "road_gamma", "eco_n_sources",
        "eco_source_area_km2", "eco_n_corridors", "eco_corridor_length_km", "eco_alpha",
        "eco_beta", "eco_gamma", "eco_iic", "eco_pc", "eco_eca_km2", "eco_n_pinch_zones",
        "eco_pinch_zone_area_km2", "eco_cross_border_corridor_share",
        "eco_cross_border_corridor_length_share", "eco_landscape_area_km2",
        "eco_source_in_cluster_share", "n_road_crossings", "roads_source", "landcover_source",
    ]
    assert set(required) <= set(metric_columns([1, 3]))  # 2 h is always there


def test_empty_ecology_layers_and_osm_roads() -> None:
    inputs = synthetic_cluster()
    for layer in ("sources", "corridors", "pinch_points", "road_crossings"):
        inputs[layer] = inputs[layer].iloc[0:0]
    inputs["quality"] = decide_quality(roads_source="osm")
    row = cluster_metrics(**inputs).iloc[0]
    assert row["eco_n_sources"] == 0 and row["eco_source_area_km2"] == 0
    assert row["eco_corridor_length_km"] == 0 and row["n_road_crossings"] == 0
    assert row["road_length_in_corridors_km"] == 0
    assert row["quality"] == row["transport_quality"] == "measured"


def test_coarse_inputs_are_flagged() -> None:
    inputs = synthetic_cluster()
    # MODIS 0.05° at ~35°N ≈ 5 km and the 0.2° DEM ≈ 20 km on a 1 km grid: both > 2 × 1 km
    inputs["quality"] = decide_quality(roads_source="osm", grid_resolution_m=1000,
                                       input_resolutions_m={"landcover": 5000.0, "dem": 20300.0,
                                                            "other": 1500.0})
    row = cluster_metrics(**inputs).iloc[0]
    assert row["ecology_quality"] == "approximate"
    assert row["coarse_inputs"] == "dem 20.3 km; landcover 5 km"  # 1.5 km is < 2 × grid: not coarse
    assert row["transport_quality"] == "measured" and row["quality"] == "approximate"


def test_sources_larger_than_the_land_are_refused() -> None:
    inputs = synthetic_cluster()
    # the two 4 km² sources on a landscape said to hold 6 km² of land: sea was taken for habitat
    inputs["ecology_summary"] = {**inputs["ecology_summary"], "landscape_area_km2": 6.0}
    with pytest.raises(DataError, match="more than the 6 km² of land"):
        cluster_metrics(**inputs)


def test_errors_name_the_problem() -> None:
    inputs = synthetic_cluster()
    inputs["transport_summary"] = {k: v for k, v in inputs["transport_summary"].items()
                                   if k != "road_gamma"}
    with pytest.raises(DataError, match="road_gamma"):
        cluster_metrics(**inputs)
    inputs = synthetic_cluster()
    inputs["od"] = inputs["od"].drop(columns="network_km")
    with pytest.raises(DataError, match="network_km"):
        cluster_metrics(**inputs)
    inputs = synthetic_cluster()
    inputs["cluster_polygon"] = inputs["cluster_polygon"].to_crs("EPSG:4326")
    with pytest.raises(CRSError, match="metric"):
        cluster_metrics(**inputs)


def test_format_value() -> None:
    assert format_value(12345678.9) == "12345700"  # six significant digits, no exponent
    assert format_value(0.000123456789) == "0.000123457"
    assert format_value(2.0) == "2"
    assert format_value(-0.0) == "0"
    assert format_value(float("nan")) == ""
    assert format_value(1.5, float_precision=3) == "1.5"
    assert format_value("x") == "x" and format_value(7) == 7


def test_rule_scripts_on_files(tmp_path) -> None:
    """The three rule scripts run on files, with a stand-in for Snakemake's ``snakemake`` object."""
    import json
    import runpy
    from pathlib import Path
    from types import SimpleNamespace

    import pyogrio
    from rasterio.transform import from_origin

    from agglonet.io import read_layer, write_csv, write_gpkg, write_json, write_raster

    root = Path(__file__).resolve().parents[2]
    data = synthetic_cluster("tri")
    res, out = tmp_path / "resources", tmp_path / "results"
    area = gpd.GeoDataFrame({"corridor_id": [1]}, geometry=[box(0, 1_500, 6_000, 2_500)],
                            crs=CHINA_ALBERS)
    lcp = data["corridors"].iloc[[0]].assign(corridor_class="primary", gravity=3.0)
    write_gpkg(res / "ecology_network.gpkg", {
        "sources": data["sources"], "corridors": lcp, "corridor_areas": area,
        "pinch_points": data["pinch_points"], "barriers": data["pinch_points"].iloc[:1]},
        metadata={"licence": "test"})
    # a motorway crossing the corridor at x = 4 km and a residential street (not analysed)
    roads = gpd.GeoDataFrame({"highway": ["motorway", "residential"], "name": ["G1", "R"]},
                             geometry=[LineString([(4_000, 0), (4_000, 5_000)]),
                                       LineString([(1_000, 0), (1_000, 5_000)])],
                             crs=CHINA_ALBERS)
    write_gpkg(res / "roads.gpkg", {"roads": roads})
    write_raster(out / "current_density.tif", np.full((30, 30), 2.5, dtype="float32"),
                 transform=from_origin(0, 30_000, 1_000, 1_000), crs=CHINA_ALBERS, nodata=-9999)

    class Named(SimpleNamespace):
        """Like Snakemake's input/output/params: by attribute, by name, and items()."""

        def __getitem__(self, key):
            return getattr(self, key)

        def keys(self):
            return vars(self).keys()

        def items(self):
            return vars(self).items()

    def run(script: str, **namespace) -> None:
        fake = SimpleNamespace(log=[str(tmp_path / f"{script}.log")], **{
            k: Named(**v) if isinstance(v, dict) else v for k, v in namespace.items()})
        runpy.run_path(str(root / "scripts" / script), init_globals={"snakemake": fake})

    weights = {"motorway": 1.0, "trunk": 0.8, "primary": 0.6, "secondary": 0.4, "tertiary": 0.2}
    run("metrics_road_crossings.py",
        input={"network": str(res / "ecology_network.gpkg"), "roads": str(res / "roads.gpkg"),
               "current_density": str(out / "current_density.tif")},
        output={"ecology": str(out / "ecology.gpkg")},
        params={"road_classes": ["motorway", "motorway_link", "primary"],
                "class_weights": weights})
    ecology = out / "ecology.gpkg"
    assert [n for n, _ in pyogrio.list_layers(ecology) if n != "layer_styles"] == [
        "sources", "corridors", "corridor_areas", "pinch_points", "barriers", "road_crossings"]
    crossings = read_layer(ecology, "road_crossings")
    assert crossings[["road_class", "site"]].values.tolist() == [["motorway", "lcp"]]
    assert (crossings.geometry.x.iloc[0], crossings.geometry.y.iloc[0]) == (4_000, 2_000)
    assert crossings["current_density"].iloc[0] == 2.5 and crossings["priority"].iloc[0] == 1.0
    corridor = read_layer(ecology, "corridor_areas")
    assert corridor["road_length_in_corridor_km"].iloc[0] == pytest.approx(1.0)  # 1.5 → 2.5 km
    assert pyogrio.read_info(ecology, layer="sources")["layer_metadata"]["licence"] == "test"

    write_gpkg(res / "boundaries.gpkg", {"cities": data["cities"],
                                         "cluster": data["cluster_polygon"]})
    write_gpkg(res / "seats.gpkg", {"seats": data["seats"]})
    write_csv(out / "accessibility.csv", data["accessibility"])
    write_csv(out / "od.csv", data["od"])
    write_json(out / "transport_summary.json", data["transport_summary"])
    write_quality(out / "quality.json", data["quality"])
    write_json(out / "ecology_summary.json",
               {**data["ecology_summary"], "gamma": None, "n_corridors": 1})
    write_csv(out / "border_gaps.csv", data["border_gaps"])
    write_csv(out / "structure_pairs.csv", data["structure_pairs"])
    write_json(out / "structure_summary.json", data["structure_summary"])
    run("metrics_cluster.py", wildcards={"cluster": "tri"},
        input={"boundaries": str(res / "boundaries.gpkg"), "seats": str(res / "seats.gpkg"),
               "accessibility": str(out / "accessibility.csv"), "od": str(out / "od.csv"),
               "transport_summary": str(out / "transport_summary.json"),
               "ecology_summary": str(out / "ecology_summary.json"), "ecology": str(ecology),
               "quality": str(out / "quality.json"),
               "border_gaps": str(out / "border_gaps.csv"),
               "structure_pairs": str(out / "structure_pairs.csv"),
               "structure_summary": str(out / "structure_summary.json")},
        output={"metrics": str(out / "metrics.csv")},
        params={"daily_thresholds_h": [1, 2, 3], "float_precision": 6})
    row = pd.read_csv(out / "metrics.csv").iloc[0]
    assert row["n_road_crossings"] == 1 and row["road_length_in_corridors_km"] == 1
    assert row["eco_n_corridors"] == 1 and row["eco_corridor_length_km"] == 3
    assert row["od_mean_travel_time_min"] == 75 and row["population"] == 600
    assert row["n_border_gaps"] == 2 and row["min_per_km_border_ratio"] == 0.8
    assert row["similarity_high_share"] == pytest.approx(2 / 3, rel=1e-5)

    run("metrics_compare.py",
        input={"metrics": [str(out / "metrics.csv")],
               "accessibility": [str(out / "accessibility.csv")]},
        output={"table": str(out / "cluster_comparison.csv"),
                "charts": [str(out / "cluster_comparison.zh.png"),
                           str(out / "cluster_comparison.en.png")],
                "cities": str(out / "cities_accessibility.csv")},
        params={"clusters": ["tri"], "float_precision": 6, "languages": ["zh", "en"]})
    assert (out / "cluster_comparison.csv").read_bytes() == (out / "metrics.csv").read_bytes()
    cities = pd.read_csv(out / "cities_accessibility.csv", dtype={"adcode": str})
    assert cities["cluster"].tolist() == ["tri"] * 3 and cities["adcode"].iloc[0] == "410100"
    assert (out / "cluster_comparison.zh.png").stat().st_size > 10_000
    assert (out / "cluster_comparison.en.png").stat().st_size > 10_000
    assert json.loads((out / "ecology_summary.json").read_text())["n_corridors"] == 1


def _rounded(values: np.ndarray, digits: int) -> np.ndarray:
    """Values as a table written with ``digits`` significant digits holds them (Python's %g)."""
    return np.array([float(f"{v:.{digits}g}") if np.isfinite(v) else v for v in values])


def _od_and_exact_summary() -> tuple[pd.DataFrame, dict]:
    """Twelve ordered pairs with unrounded values, and the summary figures computed exactly."""
    rng = np.random.default_rng(7)
    n = 12
    euclid = rng.uniform(20.0, 150.0, n) / 3.0
    network = euclid * rng.uniform(1.05, 1.6, n)
    time = network / rng.uniform(0.7, 1.4, n)
    od = pd.DataFrame({"origin_adcode": [f"a{i}" for i in range(n)],
                       "dest_adcode": [f"b{i}" for i in range(n)],
                       "travel_time_min": time, "network_km": network, "euclid_km": euclid,
                       "detour_index": network / euclid, "reachable": [True] * n})
    exact = {"od_mean_travel_time_min": time.mean(),
             "mean_straightness": (euclid / network).mean(),
             "global_efficiency": (1 / network).sum() / (1 / euclid).sum(),
             "harmonic_efficiency": (1 / time).mean(),
             "detour_index_mean": (network / euclid).mean(),
             "road_alpha": 0.2, "road_beta": 1.2, "road_gamma": 0.5}
    return od, exact


def _warnings(caplog, od: pd.DataFrame, summary: dict, precision: int) -> list[str]:
    from agglonet.metrics.cluster import transport_metrics

    access = pd.DataFrame({"watt_min": [60.0, 70.0], "access_coef": [0.9, 1.1],
                           "daily_access_2h_share": [0.5, 0.5]})
    caplog.clear()
    with caplog.at_level("WARNING", logger="agglonet.metrics.cluster"):
        transport_metrics(accessibility=access, od=od, transport_summary=summary,
                          daily_thresholds_h=[2], float_precision=precision)
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


def test_self_check_compares_at_the_precision_of_the_tables(caplog) -> None:
    od, exact = _od_and_exact_summary()
    columns = ["travel_time_min", "network_km", "euclid_km", "detour_index"]
    # tables written with 6 significant digits against the exact summary: a clean run, no warning
    six = od.assign(**{c: _rounded(od[c].to_numpy(), 6) for c in columns})
    assert _warnings(caplog, six, exact, precision=6) == []
    # worst case: times just below a rounding step lose 4.9e-6 of their value when written with
    # 6 digits (100.00049 → 100); a tolerance of 1e-6 warned on such a clean run, this one not
    worst = od.iloc[:2].assign(travel_time_min=[100.00049, 300.00049])
    exact_worst = {**exact, "od_mean_travel_time_min": 200.00049,
                   "harmonic_efficiency": (1 / 100.00049 + 1 / 300.00049) / 2}
    written = worst.assign(travel_time_min=_rounded(worst["travel_time_min"].to_numpy(), 6))
    assert written["travel_time_min"].tolist() == [100.0, 300.0]
    assert not np.isclose(200.0, exact_worst["od_mean_travel_time_min"], rtol=1e-6, atol=0)
    messages = _warnings(caplog, written, exact_worst, precision=6)
    assert not [m for m in messages if "od_mean_travel_time_min" in m]
    # a real disagreement (one figure 0.1 % off) still warns, naming the figure
    off = {**exact, "global_efficiency": exact["global_efficiency"] * 1.001}
    messages = _warnings(caplog, six, off, precision=6)
    assert len(messages) == 1 and "global_efficiency" in messages[0]
    # tables written with 3 digits: clean at float_precision 3, warnings if taken for 6 digits
    three = od.assign(**{c: _rounded(od[c].to_numpy(), 3) for c in columns})
    assert _warnings(caplog, three, exact, precision=3) == []
    assert _warnings(caplog, three, exact, precision=6) != []
