"""Ecology per city, per pair of neighbouring cities, per corridor and per source, on a hand-made
three-city cluster; every expected value worked out by hand from the drawing below.

    y (km)
    20 +---------+
       |    C    |            C: 410300 (Shanxi), A: 410100, B: 410200 (Henan)
    10 +----3----+---------+  source 3 straddles the A|C border (2 km² each side)
       |  1   ==2==   2    |  corridor 2 crosses the A|B border; source 2 half outside
     0 +---------+---------+
       0        10        20  x (km)
"""

from __future__ import annotations

import math
import runpy
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from shapely.geometry import LineString, MultiPolygon, Point, box

from agglonet.crs import CHINA_ALBERS
from agglonet.io import write_gpkg, write_raster
from agglonet.metrics.ecology_tables import (
    CITY_ECOLOGY_COLUMNS,
    CITY_PAIR_COLUMNS,
    cities_ecology,
    city_pairs_ecology,
    corridors_table,
    cross_border_shares,
    neighbour_pairs,
    sources_table,
)
from agglonet.outputs import layer_columns
from agglonet.quality import decide_quality, write_quality

KM = 1000.0
TRANSFORM = Affine(KM, 0, 0, 0, -KM, 20 * KM)


def _layers() -> dict[str, gpd.GeoDataFrame]:
    crs = CHINA_ALBERS
    cities = gpd.GeoDataFrame(
        {"adcode": ["410200", "410100", "410300"], "name_zh": ["乙", "甲", "丙"],
         "name_en": ["B", "A", "C"], "province_zh": ["河南省", "河南省", "山西省"]},
        geometry=[box(10 * KM, 0, 20 * KM, 10 * KM), box(0, 0, 10 * KM, 10 * KM),
                  box(0, 10 * KM, 10 * KM, 20 * KM)], crs=crs)   # rows not in adcode order
    sources = gpd.GeoDataFrame(
        {"source_id": [1, 2, 3], "area_km2": [4.0, 4.0, 4.0]},
        geometry=[box(1 * KM, 1 * KM, 3 * KM, 3 * KM), box(19 * KM, 5 * KM, 21 * KM, 7 * KM),
                  box(4 * KM, 9 * KM, 6 * KM, 11 * KM)], crs=crs)
    corridors = gpd.GeoDataFrame(
        {"corridor_id": [1, 2], "from_source": [1, 1], "to_source": [3, 2],
         "gravity": [2.0, 1.0], "corridor_class": ["primary", "general"]},
        geometry=[LineString([(2 * KM, 2 * KM), (5 * KM, 2 * KM)]),
                  LineString([(8 * KM, 6 * KM), (12 * KM, 6 * KM)])], crs=crs)
    corridor_areas = gpd.GeoDataFrame(
        {"corridor_id": [1]}, geometry=[box(2 * KM, 1.5 * KM, 5 * KM, 2.5 * KM)], crs=crs)
    zones = gpd.GeoDataFrame(
        {"pinch_id": [1, 2, 3], "corridor_id": [1, 1, 2], "area_km2": [1.0, 0.5, 0.5]},
        geometry=[MultiPolygon([box(3 * KM, 1.5 * KM, 4 * KM, 2.5 * KM)]),
                  MultiPolygon([box(4 * KM, 1.5 * KM, 4.5 * KM, 2.5 * KM)]),
                  MultiPolygon([box(9.5 * KM, 5.5 * KM, 10.5 * KM, 6 * KM)])], crs=crs)
    crossings = gpd.GeoDataFrame(
        {"corridor_id": [1, 2, 2], "length_in_corridor_m": [100.0, 200.0, 300.0]},
        geometry=[Point(4 * KM, 2 * KM), Point(9 * KM, 6 * KM), Point(11 * KM, 6 * KM)],
        crs=crs)
    barriers = gpd.GeoDataFrame({"barrier_id": [1], "corridor_id": [1]},
                                geometry=[Point(2 * KM, 8 * KM)], crs=crs)
    return {"cities": cities, "sources": sources, "corridors": corridors,
            "corridor_areas": corridor_areas, "pinch_points": zones,
            "road_crossings": crossings, "barriers": barriers}


def _rasters() -> tuple[np.ndarray, np.ndarray]:
    """20 × 20 cells of 1 km: resistance 10 in A, 30 in B, 50 in C, 999 in the empty quadrant;
    current 1 in A, 2 in B, 0 in C; one cell of A without a value in each."""
    rows, cols = np.mgrid[0:20, 0:20]
    north, east = rows < 10, cols >= 10      # row 0 is the top (y = 20 km)
    resistance = np.select([~north & ~east, ~north & east, north & ~east], [10.0, 30.0, 50.0],
                           999.0)
    current = np.select([~north & ~east, ~north & east], [1.0, 2.0], 0.0)
    resistance[15, 3] = np.nan
    current[15, 3] = np.nan
    return resistance, current


def test_cities_ecology_by_hand() -> None:
    data = _layers()
    resistance, current = _rasters()
    table = cities_ecology(cities=data["cities"], sources=data["sources"],
                           corridors=data["corridors"], pinch_zones=data["pinch_points"],
                           road_crossings=data["road_crossings"], barriers=data["barriers"],
                           resistance=resistance, current_density=current, transform=TRANSFORM,
                           quality=decide_quality(roads_source="proxy"))
    assert list(table.columns) == list(CITY_ECOLOGY_COLUMNS)
    assert table["adcode"].tolist() == ["410100", "410200", "410300"]
    a, b, c = (table.iloc[i] for i in range(3))
    # A: source 1 (4 km²) and half of source 3 (2 km²); corridor 1 (3 km) and the west half of
    # corridor 2 (2 km), of which 2 crosses into B; zones 1 and 2 and the west half of zone 3
    # (1 + 0.5 + 0.25 km²); crossings at (4, 2) and (9, 6); the barrier at (2, 8).
    assert (a.area_km2, a.n_sources, a.source_area_km2, a.source_share) == (100, 2, 6, 0.06)
    assert (a.n_corridors, a.n_cross_border_corridors, a.corridor_length_km) == (2, 1, 5)
    assert (a.n_pinch_zones, a.pinch_zone_area_km2) == (3, 1.75)
    assert (a.n_road_crossings, a.n_barriers) == (2, 1)
    assert (a.mean_resistance, a.mean_current) == (10, 1)      # the NaN cell is left out
    # B: the west half of source 2 (2 km², the other half is outside the cluster)
    assert (b.n_sources, b.source_area_km2, b.source_share) == (1, 2, 0.02)
    assert (b.n_corridors, b.n_cross_border_corridors, b.corridor_length_km) == (1, 1, 2)
    assert (b.n_pinch_zones, b.pinch_zone_area_km2, b.n_road_crossings) == (1, 0.25, 1)
    assert (b.mean_resistance, b.mean_current) == (30, 2)
    # C: the north half of source 3; nothing else
    assert (c.n_sources, c.source_area_km2, c.n_corridors, c.n_pinch_zones) == (1, 2, 0, 0)
    assert (c.mean_resistance, c.mean_current) == (50, 0)
    assert set(table["quality"]) == {"illustrative"} and set(table["roads_source"]) == {"proxy"}


def test_neighbours_share_a_border_of_positive_length() -> None:
    pairs = neighbour_pairs(_layers()["cities"])
    # A–B share x = 10 km, A–C share y = 10 km; B and C touch at one point only
    assert pairs[["adcode_a", "adcode_b"]].values.tolist() == [["410100", "410200"],
                                                               ["410100", "410300"]]
    assert pairs["border_km"].tolist() == [10.0, 10.0]


def test_city_pairs_by_hand() -> None:
    data = _layers()
    quality = decide_quality(roads_source="osm", grid_resolution_m=1000,
                             input_resolutions_m={"landcover": 5000.0})
    table = city_pairs_ecology(cities=data["cities"], sources=data["sources"],
                               corridors=data["corridors"], road_crossings=data["road_crossings"],
                               quality=quality)
    assert list(table.columns) == list(CITY_PAIR_COLUMNS)
    ab, ac = table.iloc[0], table.iloc[1]
    # A–B: corridor 2 (4 km) crosses their border; its crossings at (9, 6) and (11, 6); no
    # source lies in both
    assert (ab.name_en_a, ab.name_en_b, ab.same_province, ab.border_km) == ("A", "B", True, 10)
    assert (ab.n_corridors, ab.corridor_length_km, ab.n_road_crossings) == (1, 4, 2)
    assert (ab.n_shared_sources, ab.shared_source_area_km2) == (0, 0)
    # A–C: no corridor crosses; source 3 lies 2 km² in each
    assert (ac.same_province, ac.n_corridors, ac.corridor_length_km) == (False, 0, 0)
    assert (ac.n_shared_sources, ac.shared_source_area_km2, ac.n_road_crossings) == (1, 4, 0)
    # coarse land cover with OSM roads: approximate
    assert set(table["quality"]) == {"approximate"} and set(table["roads_source"]) == {"osm"}


def test_cross_border_shares_by_hand() -> None:
    data = _layers()
    shares = cross_border_shares(data["corridors"], data["cities"])
    assert shares["eco_cross_border_corridor_share"] == 0.5               # corridor 2 of 2
    assert shares["eco_cross_border_corridor_length_share"] == pytest.approx(4 / 7)
    empty = cross_border_shares(data["corridors"].iloc[0:0], data["cities"])
    assert all(math.isnan(v) for v in empty.values())


def test_corridors_and_sources_tables() -> None:
    data = _layers()
    quality = decide_quality(roads_source="proxy")
    corridors = corridors_table(corridors=data["corridors"],
                                corridor_areas=data["corridor_areas"], cities=data["cities"],
                                quality=quality)
    assert list(corridors.columns) == [*layer_columns("ecology", "corridors"),
                                       "corridor_area_km2", "crosses_city_border",
                                       "city_adcodes", "quality", "roads_source"]
    assert corridors["corridor_id"].tolist() == [1, 2]
    assert corridors["gravity"].tolist() == [2.0, 1.0]
    assert corridors["corridor_area_km2"].iloc[0] == 3.0
    assert math.isnan(corridors["corridor_area_km2"].iloc[1])           # no polygon
    assert corridors["crosses_city_border"].tolist() == [False, True]
    assert corridors["city_adcodes"].tolist() == ["410100", "410100;410200"]
    assert "geometry" not in corridors.columns
    sources = sources_table(sources=data["sources"], cities=data["cities"], quality=quality)
    assert list(sources.columns) == [*layer_columns("ecology", "sources"), "city_adcodes",
                                     "quality", "roads_source"]
    assert sources["city_adcodes"].tolist() == ["410100", "410200", "410100;410300"]


def test_rule_writes_the_same_bytes_twice(tmp_path: Path) -> None:
    data = _layers()
    resistance, current = _rasters()
    res, out = tmp_path / "resources", tmp_path / "results"
    write_gpkg(res / "boundaries.gpkg", {"cities": data["cities"]})
    write_gpkg(out / "ecology.gpkg", {k: v for k, v in data.items() if k != "cities"})
    for name, array in (("resistance", resistance), ("current_density", current)):
        write_raster(out / f"{name}.tif", array.astype("float32"), transform=TRANSFORM,
                     crs=CHINA_ALBERS, nodata=-9999.0)
    write_quality(out / "quality.json", decide_quality(roads_source="proxy"))
    root = Path(__file__).resolve().parents[2]
    written = []
    for run in ("first", "second"):
        outputs = {k: str(out / run / f"{k}.csv") for k in ("cities", "pairs", "corridors",
                                                            "sources")}
        fake = SimpleNamespace(
            log=[str(tmp_path / f"{run}.log")],
            # the script hands its input and output on by name: plain dicts stand in
            input={"ecology": str(out / "ecology.gpkg"), "boundaries": str(res / "boundaries.gpkg"),
                   "resistance": str(out / "resistance.tif"),
                   "current_density": str(out / "current_density.tif"),
                   "quality": str(out / "quality.json")},
            output=outputs, params=SimpleNamespace(float_precision=6))
        runpy.run_path(str(root / "scripts" / "metrics_ecology_tables.py"),
                       init_globals={"snakemake": fake})
        written.append({k: Path(v).read_bytes() for k, v in outputs.items()})
    assert written[0] == written[1]
    cities = pd.read_csv(out / "first" / "cities.csv", dtype={"adcode": str})
    assert cities["mean_resistance"].tolist() == [10, 30, 50]
    assert cities["quality"].tolist() == ["illustrative"] * 3


def test_docs_define_every_column_of_the_ecology_tables() -> None:
    from test_docs_columns import DOC, documented_columns, undocumented

    documented = documented_columns(DOC.read_text(encoding="utf-8"))
    data = _layers()
    quality = decide_quality(roads_source="proxy")
    corridors = corridors_table(corridors=data["corridors"],
                                corridor_areas=data["corridor_areas"], cities=data["cities"],
                                quality=quality)
    corridors = [*layer_columns("ecology", "corridors"), *[
        c for c in corridors.columns if c not in layer_columns("ecology", "corridors")]]
    sources = list(sources_table(sources=data["sources"], cities=data["cities"],
                                 quality=quality).columns)
    for file, columns in (("cities_ecology.csv", CITY_ECOLOGY_COLUMNS),
                          ("city_pairs_ecology.csv", CITY_PAIR_COLUMNS),
                          ("corridors.csv", corridors), ("sources.csv", sources)):
        assert undocumented(file, list(columns), documented) == [], file
