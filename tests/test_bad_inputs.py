"""Bad inputs and faults a new user meets: each is refused with one clear message.

For every case: the run is refused (a problem, a non-zero exit, or a specific agglonet error),
the message names the bad value and what was expected, no traceback is shown, and nothing in
``results/`` is new or changed. Most cases call the start-up checks
(:func:`agglonet.preflight.check_run`, what the Snakefile runs before any job) directly; a few go
through the real ``snakemake`` and ``make`` commands at the end of the file.

Groups: A input files (a configured path that is missing, empty or of the wrong kind — these
were the "wrong successes": Snakemake dropped the job and kept old results), B cross-field rules,
C clusters, extent and grid size, D single config values, E the run folder and make report,
F command line and archives, G road files read by the rule (library level), H end to end.
Download faults are in ``tests/test_download_faults.py``.
"""

from __future__ import annotations

import copy
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import rasterio
from affine import Affine

from agglonet.config import DEFAULT_CONFIG, load_yaml
from agglonet.errors import AgglonetError, ConfigError, DataError
from agglonet.preflight import EXPORT_ONLY_ENV, check_configfiles, check_run, format_problems

REPO = Path(__file__).resolve().parents[1]
ZHENGZHOU_LONLAT = (113.65, 34.75)


# ----------------------------------------------------------------------------- helpers
def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def base() -> dict:
    return load_yaml(DEFAULT_CONFIG)


@pytest.fixture
def cfg(base) -> dict:
    return copy.deepcopy(base)


@pytest.fixture
def work(tmp_path) -> Path:
    """A working directory holding the results of an earlier run (that must not change)."""
    out = tmp_path / "results" / "central_plains_core"
    out.mkdir(parents=True)
    (out / "metrics.csv").write_text("cluster,roads_source\ncentral_plains_core,proxy\n")
    (tmp_path / "results" / "cluster_comparison.csv").write_text(
        "cluster,name_en\ncentral_plains_core,Central Plains core\n")
    return tmp_path


def refused(config: dict, work: Path, *fragments: str) -> str:
    """Run the start-up checks; assert a refusal naming ``fragments``, no traceback, no write."""
    before = snapshot(work / "results")
    findings = check_run(config, workdir=work)
    message = format_problems(findings.problems)
    assert findings.problems, f"accepted; warnings: {findings.warnings}"
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    assert "Traceback" not in message and 'File "' not in message
    assert snapshot(work / "results") == before
    return message


def raster(path: Path, *, crs: str | None = "EPSG:4326", lonlat=ZHENGZHOU_LONLAT,
           size_deg: float = 6.0) -> Path:
    west, north = lonlat[0] - size_deg / 2, lonlat[1] + size_deg / 2
    with rasterio.open(path, "w", driver="GTiff", height=60, width=60, count=1, dtype="uint8",
                       crs=crs, transform=Affine(size_deg / 60, 0, west, 0, -size_deg / 60,
                                                 north)) as dst:
        dst.write(np.full((60, 60), 2, "uint8"), 1)
    return path


OSM_XML = ('<?xml version="1.0"?>\n<osm version="0.6">\n'
           '<node id="1" lat="34.70" lon="113.60"/><node id="2" lat="34.71" lon="113.61"/>\n'
           '<way id="3"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/></way>\n'
           '</osm>\n')


def road_file(cfg: dict, path: Path) -> dict:
    cfg["roads"]["source"] = "file"
    cfg["roads"]["file"]["path"] = str(path)
    return cfg


def osmnx_graph(*, length: bool = True) -> nx.MultiDiGraph:
    G = nx.MultiDiGraph(crs="EPSG:4326")
    G.add_node(1, x=113.60, y=34.70)
    G.add_node(2, x=113.61, y=34.71)
    attrs = {"highway": "primary", "osmid": 3, "oneway": False, "reversed": False}
    if length:
        attrs["length"] = 1400.0
    G.add_edge(1, 2, **attrs)
    G.add_edge(2, 1, **attrs)
    return G


# ============================================================ A. configured input files
def test_a01_landcover_path_missing(cfg, work):
    cfg["retrieve"]["landcover"].update(source="file", path="data/clcd.tif")
    refused(cfg, work, "retrieve.landcover.path", "data/clcd.tif", "does not exist", "expected")


def test_a02_landcover_path_null_with_source_file(cfg, work):
    cfg["retrieve"]["landcover"].update(source="file", path=None)
    refused(cfg, work, "retrieve.landcover.path is null", "'file'", "GeoTIFF")


def test_a03_landcover_path_is_a_folder(cfg, work):
    (work / "lc").mkdir()
    cfg["retrieve"]["landcover"].update(source="file", path="lc")
    refused(cfg, work, "retrieve.landcover.path", "is a folder", "expected a file")


def test_a04_landcover_file_empty(cfg, work):
    (work / "lc.tif").write_bytes(b"")
    cfg["retrieve"]["landcover"].update(source="file", path="lc.tif")
    refused(cfg, work, "retrieve.landcover.path", "lc.tif", "is empty")


def test_a05_landcover_file_not_a_raster(cfg, work):
    (work / "lc.tif").write_text("code,class\n1,forest\n")
    cfg["retrieve"]["landcover"].update(source="file", path="lc.tif")
    refused(cfg, work, "retrieve.landcover.path", "lc.tif", "not a raster", "expected a GeoTIFF")


def test_a06_landcover_raster_without_crs(cfg, work):
    raster(work / "lc.tif", crs=None)
    cfg["retrieve"]["landcover"].update(source="file", path="lc.tif")
    refused(cfg, work, "retrieve.landcover.path", "has no CRS", "expected a georeferenced")


def test_a07_landcover_raster_elsewhere(cfg, work):
    raster(work / "europe.tif", lonlat=(10.0, 50.0), size_deg=1.0)
    cfg["retrieve"]["landcover"].update(source="file", path="europe.tif")
    refused(cfg, work, "retrieve.landcover.path 'europe.tif' does not cover cluster "
            "'central_plains_core'", "expected a raster covering the cluster")


def test_a08_dem_path_missing(cfg, work):
    cfg["retrieve"]["dem"].update(source="file", path="dem.tif")
    refused(cfg, work, "retrieve.dem.path", "'dem.tif'", "does not exist")


def test_a09_dem_file_not_a_raster(cfg, work):
    (work / "dem.tif").write_text("<html>404</html>")
    cfg["retrieve"]["dem"].update(source="file", path="dem.tif")
    refused(cfg, work, "retrieve.dem.path", "dem.tif", "not a raster")


def test_a10_road_file_missing(cfg, work):
    refused(road_file(cfg, Path("data/roads.osm")), work, "roads.file.path", "data/roads.osm",
            "does not exist")


def test_a11_road_file_null(cfg, work):
    cfg["roads"]["source"] = "file"
    refused(cfg, work, "roads.file.path is null", "OSM XML, GraphML or GeoPackage")


def test_a12_road_file_empty(cfg, work):
    (work / "roads.osm").write_text("")
    refused(road_file(cfg, work / "roads.osm"), work, "roads.file.path", "is empty")


def test_a13_osm_xml_truncated(cfg, work):
    (work / "roads.osm").write_text(OSM_XML[: len(OSM_XML) // 2])
    refused(road_file(cfg, work / "roads.osm"), work, "roads.file.path", "roads.osm",
            "not well-formed XML", "truncated", "expected complete OSM XML")


def test_a14_osm_xml_that_is_json(cfg, work):
    (work / "roads.osm").write_text('{"elements": []}')
    refused(road_file(cfg, work / "roads.osm"), work, "roads.file.path", "is not OSM XML",
            "starts with '{\"elements\"")


def test_a15_graphml_written_by_networkx(cfg, work):
    G = nx.MultiDiGraph()
    G.add_edge("a", "b", weight=1.0)
    nx.write_graphml(G, work / "roads.graphml")
    refused(road_file(cfg, work / "roads.graphml"), work, "roads.file.path",
            "GraphML without node x, node y, edge length, edge highway, graph crs",
            "expected a road graph written by osmnx.save_graphml")


def test_a16_graphml_without_length(cfg, work):
    import osmnx as ox

    ox.save_graphml(osmnx_graph(length=False), work / "roads.graphml")
    refused(road_file(cfg, work / "roads.graphml"), work, "GraphML without edge length")


def test_a17_road_lines_without_highway(cfg, work):
    import geopandas as gpd
    from shapely.geometry import LineString

    gpd.GeoDataFrame({"kind": ["a"]}, geometry=[LineString([(0, 0), (1, 1)])],
                     crs="EPSG:4326").to_file(work / "roads.gpkg")
    refused(road_file(cfg, work / "roads.gpkg"), work, "roads.file.path", "no 'highway' column",
            "expected road lines")


def test_a18_road_lines_unreadable(cfg, work):
    (work / "roads.gpkg").write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    refused(road_file(cfg, work / "roads.gpkg"), work, "roads.file.path",
            "not a vector file GDAL can read")


def test_a19_road_file_unknown_type(cfg, work):
    (work / "roads.txt").write_text("motorway\n")
    refused(road_file(cfg, work / "roads.txt"), work, "unknown type '.txt'", "expected .osm/.xml")


def test_a20_pbf_given_as_road_file(cfg, work):
    (work / "henan.osm.pbf").write_bytes(b"\x00\x00\x00\x0d\x0a\x09OSMHeader" + b"\x00" * 50)
    refused(road_file(cfg, work / "henan.osm.pbf"), work, "is a PBF file", "roads.source: pbf")


def test_a21_pbf_path_missing(cfg, work):
    cfg["roads"]["source"] = "pbf"
    cfg["roads"]["pbf"]["path"] = "data/henan-latest.osm.pbf"
    refused(cfg, work, "roads.pbf.path", "henan-latest.osm.pbf", "does not exist")


def test_a22_pbf_that_is_not_pbf(cfg, work):
    (work / "henan.osm.pbf").write_text("<html>Not Found</html>")
    cfg["roads"]["source"] = "pbf"
    cfg["roads"]["pbf"]["path"] = "henan.osm.pbf"
    refused(cfg, work, "roads.pbf.path", "is not an OSM PBF file", "expected a .osm.pbf")


def test_a23_pbf_path_null(cfg, work):
    cfg["roads"]["source"] = "pbf"
    refused(cfg, work, "roads.pbf.path is null", "Geofabrik")


def test_a24_mass_table_missing(cfg, work):
    cfg["transport"]["mass_table"] = "masses.csv"
    refused(cfg, work, "transport.mass_table", "masses.csv", "does not exist")


def test_a25_mass_table_without_adcode(cfg, work):
    (work / "masses.csv").write_text("city,population\n郑州,12600574\n")
    cfg["transport"]["mass_table"] = "masses.csv"
    refused(cfg, work, "masses.csv", "adcode")


def test_a26_mass_table_city_outside_cluster(cfg, work):
    (work / "masses.csv").write_text("adcode,population\n440100,18676605\n")
    cfg["transport"]["mass_table"] = "masses.csv"
    refused(cfg, work, "440100")


def test_a27_mapping_csv_missing(cfg, work):
    cfg["ecology"]["landcover_mapping"] = "my_mapping.csv"
    refused(cfg, work, "my_mapping.csv", "neither a preset", "code,class")


def test_a28_mapping_csv_bad_class(cfg, work):
    (work / "mapping.csv").write_text("code,class\n1,forrest\n")
    cfg["ecology"]["landcover_mapping"] = "mapping.csv"
    refused(cfg, work, "class 'forrest' is not one of")


def test_a29_mapping_unknown_preset(cfg, work):
    cfg["ecology"]["landcover_mapping"] = "clcdd"
    refused(cfg, work, "'clcdd'", "neither a preset", "clcd")


def test_a30_overpass_url_not_a_url(cfg, work):
    cfg["roads"]["source"] = "osm"
    cfg["roads"]["osm"]["overpass_url"] = "overpass-api.de/api"
    refused(cfg, work, "roads.osm.overpass_url 'overpass-api.de/api'", "expected e.g. https://")


# ============================================================ B. cross-field rules at start-up
def test_b01_slope_factors_one_short(cfg, work):
    cfg["ecology"]["resistance"]["slope_factors"] = [1.0, 1.2, 1.5]
    refused(cfg, work, "slope_factors has 3 values; expected 4")


def test_b02_slope_breaks_not_increasing(cfg, work):
    cfg["ecology"]["resistance"]["slope_breaks_deg"] = [15, 5, 25]
    refused(cfg, work, "slope_breaks_deg [15, 5, 25] must increase")


def test_b03_class_value_missing(cfg, work):
    del cfg["ecology"]["resistance"]["class_values"]["wetland"]
    refused(cfg, work, "class_values has no value for ['wetland']", "expected one for each")


def test_b04_class_quantiles_reversed(cfg, work):
    cfg["ecology"]["corridors"]["class_quantiles"] = [0.333, 0.667]
    refused(cfg, work, "class_quantiles [0.333, 0.667]", "must be above")


def test_b05_highway_class_without_speed(cfg, work):
    cfg["roads"]["highway_classes"] = ["motorway", "living_street"]
    refused(cfg, work, "['living_street'] have no speed in roads.speeds_kph")


def test_b06_core_city_unknown(cfg, work):
    cfg["transport"]["core_city"] = "Zhengzou"
    refused(cfg, work, "transport.core_city", "'Zhengzou'", "Zhengzhou")


def test_b07_core_city_not_a_member(cfg, work):
    cfg["transport"]["core_city"] = "广州"
    refused(cfg, work, "transport.core_city '广州'", "not a member of cluster "
            "'central_plains_core'", "expected one of", "郑州")


def test_b08_mass_gdp_without_gdp(cfg, work):
    cfg["transport"]["mass"] = "gdp"
    message = refused(cfg, work, "transport.mass 'gdp' needs a GDP", "开封市 410200",
                      "transport.mass_table")
    assert "郑州" not in message  # 郑州 has a census GDP


def test_b09_mass_sqrt_pop_gdp_without_gdp(cfg, work):
    cfg["transport"]["mass"] = "sqrt_pop_gdp"
    refused(cfg, work, "'sqrt_pop_gdp' needs a GDP", "漯河市 411100")


def test_b10_gdp_completed_by_mass_table_is_accepted(cfg, work):
    rows = ["adcode,gdp", "410200,2557", "410800,2123", "411100,1573"]
    (work / "gdp.csv").write_text("\n".join(rows) + "\n")
    cfg["transport"].update(mass="gdp", mass_table="gdp.csv")
    assert check_run(cfg, workdir=work).problems == []


# ============================================================ C. clusters, extent, grid
def test_c01_unknown_cluster(cfg, work):
    cfg["clusters"] = ["central_plain_core"]
    refused(cfg, work, "unknown cluster 'central_plain_core'", "central_plains_core")


def test_c02_custom_cluster_unknown_city(cfg, work):
    cfg["clusters"] = ["mine"]
    cfg["custom_clusters"] = {"mine": {"members": ["郑州", "Kaifang"]}}
    refused(cfg, work, "city 'Kaifang' matches no prefecture-level city", "Kaifeng")


def test_c03_one_member_cluster(cfg, work):
    cfg["clusters"] = ["solo"]
    cfg["custom_clusters"] = {"solo": {"members": ["郑州"]}}
    refused(cfg, work, "cluster 'solo' has 1 member city (郑州市)", "at least 2 cities")


def test_c04_members_2400_km_apart(cfg, work):
    cfg["clusters"] = ["far"]
    cfg["custom_clusters"] = {"far": {"members": ["郑州", "乌鲁木齐"]}}
    message = refused(cfg, work, "cluster 'far' falls apart", "郑州市 and 乌鲁木齐市",
                      "retrieve.max_member_gap_km = 100 km", "3,123,090 cells")
    assert "2,2" in message  # the gap, 2,2xx km


def test_c05_two_far_groups(cfg, work):
    cfg["clusters"] = ["split"]
    cfg["custom_clusters"] = {"split": {"members": ["郑州", "开封", "广州", "佛山"]}}
    refused(cfg, work, "2 groups", "郑州市, 开封市; 广州市, 佛山市")


def test_c06_far_members_allowed_by_a_larger_gap(cfg, work):
    cfg["clusters"] = ["pair"]
    cfg["custom_clusters"] = {"pair": {"members": ["郑州", "漯河"]}}  # 许昌 lies between
    cfg["retrieve"]["max_member_gap_km"] = 10
    refused(cfg, work, "falls apart", "郑州市 and 漯河市")
    cfg["retrieve"]["max_member_gap_km"] = 100
    findings = check_run(cfg, workdir=work)
    assert findings.problems == []
    assert any("'pair' is not contiguous" in w and "km" in w for w in findings.warnings)


def test_c07_resolution_100_km(cfg, work):
    cfg["retrieve"]["resolution_m"] = 100000
    refused(cfg, work, "retrieve.resolution_m 100000", "grid of 5 × 4 cells",
            "at least 20 cells", "expected retrieve.resolution_m of at most")


def test_c08_resolution_30_km(cfg, work):
    cfg["retrieve"]["resolution_m"] = 30000
    refused(cfg, work, "retrieve.resolution_m 30000", "at least 20 cells")


def test_c09_grid_over_memory_limit(cfg, work):
    cfg["retrieve"]["max_memory_gb"] = 0.55
    # 520 MB + 500 B × 141,984 cells = 591 MB > 563 MB; 563 MB fits 86,000 cells:
    # 1000 m × √(141,984 / 86,000) = 1,285 m, rounded up to 1,290 m
    refused(cfg, work, "141,984 cells", "about 591 MB, more than the 563 MB allowed",
            "retrieve.max_memory_gb", "expected retrieve.resolution_m of at least 1290")


def test_c10_ten_metre_grid_of_a_large_cluster(cfg, work):
    cfg["retrieve"]["resolution_m"] = 10
    cfg["retrieve"]["max_memory_gb"] = 24
    refused(cfg, work, "cells at retrieve.resolution_m 10", "more than the 24.0 GB allowed")


def test_c11_custom_key_clashes_with_catalogue(cfg, work):
    cfg["custom_clusters"] = {"pearl_river_delta": {"members": ["广州", "深圳"]}}
    refused(cfg, work, "['pearl_river_delta'] are already catalogue clusters")


def test_c12_ambiguous_city(cfg, work):
    cfg["clusters"] = ["su"]
    cfg["custom_clusters"] = {"su": {"members": ["Suzhou", "无锡"]}}
    refused(cfg, work, "'Suzhou' is ambiguous", "苏州", "宿州")


def test_c13_city_listed_twice(cfg, work):
    cfg["clusters"] = ["dup"]
    cfg["custom_clusters"] = {"dup": {"members": ["郑州", "410100", "开封"]}}
    refused(cfg, work, "names 郑州市 more than once")


def test_c14_unknown_county(cfg, work):
    cfg["clusters"] = ["part"]
    cfg["custom_clusters"] = {"part": {"members": ["开封", {"city": "郑州",
                                                             "counties": ["中原区", "火星区"]}]}}
    refused(cfg, work, "county '火星区' is not a county/district of 郑州市")


def test_c15_cluster_added_to_the_workflow_catalogue(tmp_path, cfg, work):
    """A cluster added to the workflow's own config/clusters.yaml is known (not the package's)."""
    catalogue = tmp_path / "clusters.yaml"
    catalogue.write_text((REPO / "config" / "clusters.yaml").read_text(encoding="utf-8")
                         + "  zhengbian:\n    name_en: Zhengzhou-Kaifeng\n    members:\n"
                         "      - {name_zh: 郑州市, adcode: 410100}\n"
                         "      - {name_zh: 开封市, adcode: 410200}\n", encoding="utf-8")
    cfg["clusters"] = ["zhengbian"]
    assert check_run(cfg, workdir=work, catalogue=catalogue).problems == []
    message = refused(cfg, work, "unknown cluster 'zhengbian'")  # the package's catalogue
    assert "known clusters" in message


# ============================================================ D. single config values
def test_d01_garbage_crs(cfg, work):
    cfg["crs"] = "albers please"
    refused(cfg, work, "config.crs 'albers please' is not a coordinate reference system",
            "expected a projected CRS in metres")


def test_d02_geographic_crs(cfg, work):
    cfg["crs"] = "EPSG:4326"
    refused(cfg, work, "config.crs", "'EPSG:4326' is geographic", "projected CRS in metres")


def test_d03_crs_in_feet(cfg, work):
    cfg["crs"] = "EPSG:2227"
    refused(cfg, work, "config.crs", "expected metres")


def test_d04_key_typo(cfg, work):
    cfg["roads"]["sped_kph"] = {}
    refused(cfg, work, "config.roads.sped_kph: unknown key; did you mean speeds_kph?")


def test_d05_wrong_type(cfg, work):
    cfg["retrieve"]["buffer_km"] = "20 km"
    refused(cfg, work, "config.retrieve.buffer_km: '20 km' has the wrong type; expected number")


def test_d06_bad_enum(cfg, work):
    cfg["roads"]["source"] = "osmm"
    refused(cfg, work, "config.roads.source: 'osmm' is not one of", "'osm'")


def test_d07_negative_retries(cfg, work):
    cfg["download"]["retries"] = -1
    refused(cfg, work, "config.download.retries", "-1")


def test_d08_negative_member_gap(cfg, work):
    cfg["retrieve"]["max_member_gap_km"] = -5
    refused(cfg, work, "config.retrieve.max_member_gap_km", "-5")


def test_d09_clusters_neither_list_nor_all(cfg, work):
    cfg["clusters"] = "central_plains_core"
    refused(cfg, work, "config.clusters: 'central_plains_core' is not valid; expected a list")


def test_d10_resolution_below_schema_minimum(cfg, work):
    cfg["retrieve"]["resolution_m"] = 1
    refused(cfg, work, "config.retrieve.resolution_m", "minimum of 10")


def test_d11_custom_cluster_unknown_key(cfg, work):
    cfg["custom_clusters"] = {"zb": {"members": ["郑州", "开封"], "colour": "red"}}
    refused(cfg, work, "config.custom_clusters.zb.colour: unknown key")


# ============================================================ E. run folder, make report
def test_e01_results_is_a_file(cfg, tmp_path):
    (tmp_path / "results").write_text("not a folder")
    findings = check_run(cfg, workdir=tmp_path)
    assert any("results is a file" in p and "move the file away" in p
               for p in findings.problems)
    assert (tmp_path / "results").read_text() == "not a folder"


def test_e02_read_only_results(cfg, work, monkeypatch):
    import agglonet.preflight as preflight

    # root writes anyway: the probe's failure is simulated
    monkeypatch.setattr(preflight, "_writable", lambda folder: folder.name != "results")
    refused(cfg, work, "results is not writable", "chmod u+w")


def test_e03_report_for_other_clusters(cfg, work, monkeypatch):
    monkeypatch.setenv(EXPORT_ONLY_ENV, "1")
    cfg["clusters"] = ["pearl_river_delta"]
    refused(cfg, work, "the finished results cover clusters ['central_plains_core']",
            "['pearl_river_delta']", "make report SNAKEMAKE_ARGS=")


def test_e04_report_before_any_run(cfg, tmp_path, monkeypatch):
    monkeypatch.setenv(EXPORT_ONLY_ENV, "1")
    (tmp_path / "results").mkdir()
    refused(cfg, tmp_path, "cluster_comparison.csv does not exist", "run the workflow first")


def test_e05_report_for_the_same_clusters_is_accepted(cfg, work, monkeypatch):
    monkeypatch.setenv(EXPORT_ONLY_ENV, "1")
    assert check_run(cfg, workdir=work).problems == []


def test_e06_make_report_covers_the_run_whatever_the_config(cfg, work, monkeypatch):
    # make report takes the clusters of the finished run, not those of the config
    monkeypatch.setenv(EXPORT_ONLY_ENV, "report")
    cfg["clusters"] = ["pearl_river_delta"]
    assert check_run(cfg, workdir=work).problems == []


# ============================================================ F. command line and archives
def test_f01_configfile_missing(tmp_path):
    with pytest.raises(ConfigError, match="--configfile 'my.yaml' does not exist"):
        check_configfiles(["--cores", "2", "--configfile", "my.yaml"], workdir=tmp_path)


def test_f02_configfile_yaml_syntax_error_names_line(tmp_path):
    (tmp_path / "my.yaml").write_text("clusters: [central_plains_core\nroads: {source: osm}\n")
    with pytest.raises(ConfigError, match=r"'my.yaml' is not valid YAML at line 2, column 6"):
        check_configfiles(["--configfile=my.yaml"], workdir=tmp_path)


def test_f03_configfile_not_a_mapping(tmp_path):
    (tmp_path / "my.yaml").write_text("- central_plains_core\n")
    with pytest.raises(ConfigError, match="holds a list; expected a mapping"):
        check_configfiles(["--configfiles", "my.yaml"], workdir=tmp_path)


def test_f04_target_after_configfile_is_swallowed(tmp_path):
    (tmp_path / "ok.yaml").write_text("clusters: [central_plains_core]\n")
    # Snakemake reads every word after --configfile as a file, the target too
    with pytest.raises(ConfigError, match="'report' does not exist.*put targets first"):
        check_configfiles(["--configfile", "ok.yaml", "report"], workdir=tmp_path)
    files = check_configfiles(["report", "--config", "a=1", "--configfile", "ok.yaml"],
                              workdir=tmp_path)
    assert files == [Path("ok.yaml")]


def _cli(capsys, *args: str) -> tuple[int, str]:
    from agglonet.cli import main

    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_f05_verify_missing_archive(capsys, tmp_path):
    code, out = _cli(capsys, "verify", str(tmp_path / "nope.zip"))
    assert code == 2 and "nope.zip' does not exist; expected a zip written by make archive" in out
    assert "Traceback" not in out


def test_f06_verify_not_a_zip(capsys, tmp_path):
    (tmp_path / "a.zip").write_text("hello")
    code, out = _cli(capsys, "verify", str(tmp_path / "a.zip"))
    assert code == 2 and "is not a zip file" in out and "Traceback" not in out


def test_f07_verify_zip_that_is_not_an_archive(capsys, tmp_path):
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as zf:
        zf.writestr("readme.txt", "hi")
    code, out = _cli(capsys, "verify", str(tmp_path / "a.zip"))
    assert code == 2 and "not an agglonet run archive" in out and "ro-crate-metadata" in out


def test_f08_verify_folder(capsys, tmp_path):
    code, out = _cli(capsys, "verify", str(tmp_path))
    assert code == 2 and "is a folder; expected the zip file itself" in out


def test_f09_archive_without_its_local_input(tmp_path):
    from agglonet.export.archive import restore_local_inputs

    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config_used.yaml").write_text(
        "roads: {source: file, file: {path: data/roads.osm}}\n")
    with pytest.raises(DataError, match=r"read roads.file.path = 'data/roads.osm', a local file "
                                        "that a.zip does not hold"):
        restore_local_inputs(tmp_path, archive=Path("a.zip"))


def test_f10_archive_with_its_local_input_is_restored(tmp_path):
    import yaml

    from agglonet.export.archive import restore_local_inputs

    stored = tmp_path / "config" / "inputs" / "roads.file.path"
    stored.mkdir(parents=True)
    (stored / "roads.osm").write_text(OSM_XML)
    (tmp_path / "config" / "config_used.yaml").write_text(
        "roads: {source: file, file: {path: data/roads.osm}}\n"
        "ecology: {landcover_mapping: modis_igbp}\n")
    out = yaml.safe_load(restore_local_inputs(tmp_path, archive=Path("a.zip")).read_text())
    assert out["roads"]["file"]["path"] == str(stored / "roads.osm")
    assert out["ecology"]["landcover_mapping"] == "modis_igbp"


# ============================================================ G. road files read by the rule
# Files larger than the start-up parse limit are only sniffed there; the rule's reader names
# the file and what it expected.
def test_g01_truncated_osm_xml_at_read(tmp_path):
    from agglonet.transport.loaders import load_graph_file

    (tmp_path / "roads.osm").write_text(OSM_XML[:150])
    with pytest.raises(DataError, match=r"roads.osm cannot be read as OSM XML \(ParseError"):
        load_graph_file(tmp_path / "roads.osm")


def test_g02_networkx_graphml_at_read(tmp_path):
    from agglonet.transport.loaders import load_graph_file

    G = nx.MultiDiGraph()
    G.add_edge("a", "b", weight=1.0)
    nx.write_graphml(G, tmp_path / "g.graphml")
    with pytest.raises(DataError, match=r"g.graphml cannot be read as a GraphML written by "
                                        "osmnx.save_graphml"):
        load_graph_file(tmp_path / "g.graphml")


def test_g03_graphml_without_length_at_read(tmp_path):
    import osmnx as ox

    from agglonet.transport.loaders import load_graph_file

    ox.save_graphml(osmnx_graph(length=False), tmp_path / "g.graphml")
    with pytest.raises(DataError, match="2 of 2 edges have no 'length' attribute"):
        load_graph_file(tmp_path / "g.graphml")


def test_g04_non_pbf_at_read(tmp_path):
    from agglonet.transport.loaders import load_graph_pbf

    (tmp_path / "x.osm.pbf").write_text("<html>Not Found</html>" * 10)
    with pytest.raises(DataError, match=r"x.osm.pbf cannot be read as an OSM PBF extract"):
        load_graph_pbf(tmp_path / "x.osm.pbf")


def test_g05_osm_xml_without_roads_at_read(tmp_path):
    from agglonet.errors import EmptyNetworkError
    from agglonet.transport.loaders import load_graph_file

    (tmp_path / "roads.osm").write_text('<?xml version="1.0"?><osm version="0.6">'
                                        '<node id="1" lat="34.7" lon="113.6"/></osm>')
    with pytest.raises(EmptyNetworkError, match="holds no road"):
        load_graph_file(tmp_path / "roads.osm")


def test_g06_error_block_names_rule_input_and_fix():
    from types import SimpleNamespace

    from agglonet.logs import format_error

    job = SimpleNamespace(rule="build_road_network", wildcards={"cluster": "cpc"},
                          input={"file": "data/roads.osm"}, log=["logs/cpc/b.log"])
    block = format_error(DataError("road file data/roads.osm is truncated", fix="replace it"),
                         job=job)
    assert block.splitlines() == [
        "agglonet: rule build_road_network (cluster=cpc) stopped",
        "  problem: road file data/roads.osm is truncated",
        "  input:   file=data/roads.osm",
        "  log:     logs/cpc/b.log",
        "  fix:     replace it",
    ]


def test_g07_every_agglonet_error_is_caught_by_the_hook():
    """The hook reports the whole family without a traceback; other errors keep theirs."""
    code = ("from agglonet.logs import setup_logging\nsetup_logging()\n"
            "from agglonet.errors import CRSError\nraise CRSError('layer x has no CRS')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert proc.returncode == 1
    assert "problem: layer x has no CRS" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-c", code.replace("CRSError(", "ValueError(")],
                          capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert proc.returncode == 1 and "Traceback" in proc.stderr  # a bug keeps its traceback


# ============================================================ H. end to end
def _snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    from conftest import run_snakemake

    return run_snakemake("--cores", "1", *args, workdir=workdir, check=False)


def test_h01_missing_landcover_path_with_old_results_exits_non_zero(work):
    """Formerly exit 0: Snakemake dropped the job and kept the old results."""
    before = snapshot(work / "results")
    proc = _snakemake(work, "--config", "retrieve={'landcover': {'source': 'file', "
                      "'path': 'gone.tif'}}")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "agglonet: the run cannot start" in out and "'gone.tif' does not exist" in out
    assert "Traceback" not in out and 'File "' not in out
    assert snapshot(work / "results") == before


def test_h02_rule_error_prints_one_block_and_writes_nothing(tmp_path):
    """An Overpass that refuses connections: the rule stops with the block, no traceback."""
    import socket

    with socket.socket() as sock:  # a free port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (tmp_path / "c.yaml").write_text(
        f"roads: {{source: osm, osm: {{overpass_url: 'http://127.0.0.1:{port}/api', "
        "use_cache: false}}\ndownload: {retries: 1, backoff_s: 0.1, deadline_s: 20}\n")
    proc = _snakemake(tmp_path, "resources/central_plains_core/road_graph.graphml",
                      "--configfile", "c.yaml")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "agglonet: rule build_road_network (cluster=central_plains_core) stopped" in out
    assert f"127.0.0.1:{port}" in out and "connection refused" in out and "2 attempts" in out
    assert "Traceback" not in out
    assert out.rstrip().splitlines()[-1].startswith(("  fix:", "WorkflowError",
                                                     "At least one job"))
    assert not (tmp_path / "resources" / "central_plains_core" / "road_graph.graphml").exists()
    assert not list((tmp_path / ".tmp").glob("*.graphml"))


def test_h03_make_puts_the_target_before_snakemake_args():
    proc = subprocess.run(["make", "-n", "-o", ".venv/.agglonet-installed", "report",
                           "SNAKEMAKE_ARGS=--config clusters=[a,b] --configfile x.yaml"],
                          cwd=REPO, capture_output=True, text=True)
    command = [line for line in proc.stdout.splitlines() if "snakemake report" in line]
    assert command and command[0].index("report") < command[0].index("--config")
    assert "AGGLONET_EXPORT_ONLY=report" in command[0]


def test_h04_make_verify_without_archive(tmp_path):
    proc = subprocess.run(["make", "-f", str(REPO / "Makefile"), "-o",
                           ".venv/.agglonet-installed", "verify"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "make verify: no archive in results/archive/; run 'make archive' first" in proc.stderr


def test_h05_every_error_class_is_an_agglonet_error():
    from agglonet import errors

    for name in ("ConfigError", "DataError", "DownloadError", "CRSError", "EmptyNetworkError",
                 "UnknownCityError"):
        assert issubclass(getattr(errors, name), AgglonetError)
    assert errors.DataError("x", fix="y").fix == "y"
