"""The Snakemake workflow end to end on the offline default cluster (central_plains_core).

The run happens in a temporary working directory (``snakemake --directory``), so the user's own
``results/`` are never touched. It needs no network: every input comes from installed packages.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import rasterio
from conftest import run_snakemake as snakemake

CLUSTER = "central_plains_core"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_dry_run_shows_every_stage(tmp_path):
    proc = snakemake("-n", workdir=tmp_path)
    out = proc.stdout + proc.stderr
    for rule in ("retrieve_boundaries", "build_cities", "cluster_metrics"):
        assert rule in out, f"rule {rule} missing from the dry run:\n{out}"


def test_bad_config_stops_with_key_path(tmp_path):
    proc = snakemake("-n", "--config", "roads={'source': 'osmm'}", workdir=tmp_path, check=False)
    assert proc.returncode != 0
    assert "config.roads.source" in proc.stderr + proc.stdout


def test_unknown_cluster_lists_candidates(tmp_path):
    proc = snakemake("-n", "--config", "clusters=[central_plain_core]", workdir=tmp_path,
                     check=False)
    assert proc.returncode != 0
    assert "central_plains_core" in proc.stderr + proc.stdout


@pytest.mark.workflow
def test_cities_layer(workflow_run):
    cities = pyogrio.read_dataframe(workflow_run / "results" / CLUSTER / "cities.gpkg",
                                    layer="cities")
    assert len(cities) == 9
    assert set(cities["name_en"]) >= {"Zhengzhou", "Luoyang", "Jiyuan"}
    area = cities.set_index("name_en")["area_km2"]
    # Zhengzhou's official area is about 7,446 km²; the nine cities together about 58,000 km².
    assert 6_700 < area["Zhengzhou"] < 8_200
    assert 52_000 < area.sum() < 64_000
    assert (cities["population"] > 0).all()
    assert cities.crs.is_projected


@pytest.mark.workflow
def test_transport_outputs(workflow_run):
    out = workflow_run / "results" / CLUSTER
    od = pd.read_csv(out / "od.csv")
    assert len(od) == 9 * 8
    assert od["travel_time_min"].between(5, 600).all()
    assert (od["detour_index"] >= 1).all()
    access = pd.read_csv(out / "accessibility.csv")
    assert len(access) == 9
    with rasterio.open(out / "travel_time_min.tif") as src:
        assert src.crs.is_projected
        assert src.overviews(1), "travel_time_min.tif should be a COG with overviews"


@pytest.mark.workflow
def test_offline_roads_are_scgraph_and_approximate(workflow_run):
    res = workflow_run / "resources" / CLUSTER
    report = json.loads((res / "road_network_report.json").read_text(encoding="utf-8"))
    assert report["roads_source"] == "scgraph"
    assert "OpenStreetMap" in report["licence"]
    assert report["provenance"]["licence"].startswith("ODbL")
    sources = json.loads((res / "sources.json").read_text(encoding="utf-8"))["sources"]
    roads = [r for r in sources if r["name"] == "roads"]  # the roads are a recorded input
    assert len(roads) == 1 and roads[0]["provider"].startswith("OpenStreetMap via scgraph-data")
    assert report["diagnostics"]["off_network"] == []
    quality = json.loads((workflow_run / "results" / CLUSTER / "quality.json").read_text())
    assert quality["transport_quality"] == "approximate"
    # real intercity driving times (navigation services, seat to seat): Zhengzhou–Kaifeng about
    # 60 min, –Luoyang 90–120 min, –Xinxiang 60–70 min (over the Yellow River)
    od = pd.read_csv(workflow_run / "results" / CLUSTER / "od.csv")
    minutes = od[od["origin_name"] == "Zhengzhou"].set_index("dest_name")["travel_time_min"]
    assert 50 <= minutes["Kaifeng"] <= 70
    assert 90 <= minutes["Luoyang"] <= 120
    assert 60 <= minutes["Xinxiang"] <= 70
    meta = pyogrio.read_info(workflow_run / "results" / CLUSTER / "transport.gpkg",
                             layer="roads")["layer_metadata"]
    assert meta["roads_source"] == "scgraph" and "OpenStreetMap" in meta["attribution"]


@pytest.mark.workflow
def test_ecology_outputs(workflow_run):
    import json

    import shapely

    out = workflow_run / "results" / CLUSTER
    layers = {name for name, _ in pyogrio.list_layers(out / "ecology.gpkg")}
    assert {"sources", "corridors", "corridor_areas", "pinch_points", "barriers",
            "road_crossings"} <= layers
    sources = pyogrio.read_dataframe(out / "ecology.gpkg", layer="sources")
    assert len(sources) >= 2
    # no mega-source: the largest holds at most half of the source area
    assert sources["area_km2"].max() <= 0.5 * sources["area_km2"].sum()
    # the Songshan massif (summit 113.03° E, 34.48° N) is habitat on the offline land cover and
    # must be a source, not only the mountains at the cluster's western edge
    summit = gpd.GeoSeries([shapely.Point(113.03, 34.48)], crs=4326).to_crs(sources.crs)
    assert sources.distance(summit.iloc[0]).min() < 15_000
    summary = json.loads((out / "ecology_summary.json").read_text())
    if summary["n_corridors"] > 10:
        assert summary["mu"] >= 1, "a network of more than 10 corridors should have a loop"
    barriers = pyogrio.read_dataframe(out / "ecology.gpkg", layer="barriers")
    assert barriers["corridor_id"].nunique() >= 3
    zones = pyogrio.read_dataframe(out / "ecology.gpkg", layer="pinch_points")
    assert len(zones) and set(zones.geom_type) == {"MultiPolygon"}
    for raster in ("landcover", "mspa", "resistance", "cost_distance", "current_density"):
        assert (out / f"{raster}.tif").exists(), raster


@pytest.mark.workflow
def test_ecology_tables_exist_and_are_deterministic(workflow_run):
    out = workflow_run / "results" / CLUSTER
    names = ("cities_ecology", "city_pairs_ecology", "corridors", "sources")
    first = {name: sha256(out / f"{name}.csv") for name in names}
    cities = pd.read_csv(out / "cities_ecology.csv", dtype={"adcode": str})
    # scgraph roads (approximate) and coarse land cover (approximate): approximate
    assert len(cities) == 9 and set(cities["quality"]) == {"approximate"}
    assert set(cities["roads_source"]) == {"scgraph"}
    pairs = pd.read_csv(out / "city_pairs_ecology.csv", dtype={"adcode_a": str, "adcode_b": str})
    assert len(pairs) >= 8 and (pairs["border_km"] > 0).all()
    metrics = pd.read_csv(out / "metrics.csv").iloc[0]
    assert 0 <= metrics["eco_cross_border_corridor_share"] <= 1
    snakemake("--cores", "2", "--forcerun", "ecology_tables", workdir=workflow_run)
    assert {name: sha256(out / f"{name}.csv") for name in names} == first


@pytest.mark.workflow
def test_metrics_row_and_determinism(workflow_run):
    metrics_csv = workflow_run / "results" / CLUSTER / "metrics.csv"
    metrics = pd.read_csv(metrics_csv)
    assert len(metrics) == 1
    row = metrics.iloc[0]
    assert row["cluster"] == CLUSTER
    assert row["n_cities"] == 9
    assert row["roads_source"] == "scgraph"
    assert row["transport_quality"] == "approximate" and row["quality"] == "approximate"
    # the self-check compares at the precision of the tables: a clean run logs no warning
    log = (workflow_run / "logs" / CLUSTER / "cluster_metrics.log").read_text(encoding="utf-8")
    assert "WARNING" not in log, log
    first = sha256(metrics_csv)
    snakemake("--cores", "2", "--forcerun", "cluster_metrics", workdir=workflow_run)
    assert sha256(metrics_csv) == first, "metrics.csv changed between two identical runs"


@pytest.mark.workflow
def test_coarse_inputs_flagged_and_inland_cluster_has_no_sea(workflow_run):
    import json

    quality = json.loads((workflow_run / "results" / CLUSTER / "quality.json").read_text())
    # MODIS 0.05° (≈ 5 km) and the cnmaps DEM 0.2° (≈ 20 km) on the 1 km grid
    assert set(quality["coarse_inputs"]) == {"landcover", "dem"}
    assert 4_000 < quality["coarse_inputs"]["landcover"] < 6_000
    assert 15_000 < quality["coarse_inputs"]["dem"] < 25_000
    assert quality["ecology_quality"] == "approximate"
    metrics = pd.read_csv(workflow_run / "results" / CLUSTER / "metrics.csv")
    assert metrics["ecology_quality"].iloc[0] == "approximate"
    assert "landcover" in metrics["coarse_inputs"].iloc[0]
    with rasterio.open(workflow_run / "resources" / CLUSTER / "sea_mask.tif") as src:
        assert not src.read(1).any()  # Henan is 500 km from the coast


@pytest.mark.workflow
def test_road_tables_and_layers_are_labelled(workflow_run):
    out = workflow_run / "results"
    for table in (out / CLUSTER / "od.csv", out / CLUSTER / "accessibility.csv",
                  out / "cities_accessibility.csv"):
        frame = pd.read_csv(table)
        assert (frame["roads_source"] == "scgraph").all(), table.name
        assert (frame["quality"] == "approximate").all(), table.name
    for layer in ("roads", "seats", "od_links"):
        frame = pyogrio.read_dataframe(out / CLUSTER / "transport.gpkg", layer=layer,
                                       read_geometry=False)
        assert set(frame["roads_source"]) == {"scgraph"}, layer
        assert set(frame["quality"]) == {"approximate"}, layer


@pytest.mark.workflow
def test_travel_time_surface_flags_the_cluster_and_stretches_on_it(workflow_run):
    import xml.etree.ElementTree as ET

    import numpy as np

    out = workflow_run / "results" / CLUSTER
    for name in ("travel_time_min", "travel_time_core_min"):
        with rasterio.open(out / f"{name}.tif") as src:
            assert src.count == 2
            minutes = src.read(1, masked=True).astype(float).filled(np.nan)
            inside = src.read(2) == 1
            assert src.tags()["quality"] == "approximate"
        assert 0.3 < inside.mean() < 0.9  # the buffer (and bounding-box corners) is flagged, kept
        assert np.isfinite(minutes[~inside]).any()
        qml = ET.parse(out / f"{name}.qml").getroot()
        stops = [float(i.get("value")) for i in qml.iter("item")]
        # the ramp ends at the slowest cell of the cluster, not at the far buffer corners
        assert max(stops) == pytest.approx(np.nanmax(minutes[inside]), rel=1e-6)
        assert np.nanmax(minutes[~inside]) > max(stops)
    access = pd.read_csv(out / "accessibility.csv").set_index("name_en")
    # Zhengzhou holds the core seat: its cells are closer to the core than Luoyang's
    assert access.loc["Zhengzhou", "cells_to_core_median_min"] < \
        access.loc["Luoyang", "cells_to_core_median_min"]
    assert (access["cells_to_seat_mean_min"] <= access["cells_to_core_mean_min"] + 1e-6).all()
    assert access["n_cells"].sum() > 50_000  # about 58,000 km² of 1 km cells


@pytest.mark.workflow
def test_border_gaps_and_border_effect_exist_and_are_byte_identical(workflow_run):
    from agglonet.outputs import BORDER_GAP_COLUMNS

    out = workflow_run / "results" / CLUSTER
    gaps = pd.read_csv(out / "border_gaps.csv", dtype={"end_adcode": str, "other_adcode": str})
    assert list(gaps.columns) == [*BORDER_GAP_COLUMNS, "roads_source", "quality"]
    assert len(gaps) >= 1
    assert gaps["rank"].tolist() == list(range(1, len(gaps) + 1))
    assert (gaps["quality"] == "approximate").all() and gaps["note"].str.contains("scgraph").all()
    assert (gaps["end_adcode"] != gaps["other_adcode"]).all()
    assert (gaps["gap_m"] <= 3000).all() and (gaps["network_time_min"]
                                              >= 2 * gaps["link_time_min"]).all()
    layer = pyogrio.read_dataframe(out / "transport.gpkg", layer="border_gaps")
    assert len(layer) == len(gaps) and (layer.geom_type == "Point").all()
    od = pd.read_csv(out / "od.csv")
    assert not od["cross_province"].any()            # every member lies in Henan
    assert (od["n_city_borders"] >= 1).all() and (od["n_province_borders"] == 0).all()
    metrics = pd.read_csv(out / "metrics.csv").iloc[0]
    assert metrics["n_pairs_cross_province"] == 0 and metrics["n_pairs_within_province"] == 72
    assert pd.isna(metrics["detour_border_ratio"]) and pd.isna(metrics["min_per_km_border_ratio"])
    assert metrics["n_border_gaps"] == len(gaps)
    assert metrics["structure_n_cities"] == 0 and "economy.sector_table" in \
        metrics["structure_note"]
    first = {name: sha256(out / name) for name in ("border_gaps.csv", "od.csv", "metrics.csv")}
    snakemake("--cores", "2", "--forcerun", "transport_accessibility", workdir=workflow_run)
    assert {name: sha256(out / name) for name in first} == first


@pytest.mark.workflow
def test_industrial_structure_on_the_worked_example(workflow_run, tmp_path):
    import shutil

    repo = Path(__file__).resolve().parents[1]
    work = tmp_path / "run"
    shutil.copytree(workflow_run, work, symlinks=True)
    config = tmp_path / "sectors.yaml"
    table = repo / "docs" / "sector_table_central_plains.csv"
    config.write_text(f"economy:\n  sector_table: {table}\n  missing_cities: skip\n",
                      encoding="utf-8")
    snakemake("--cores", "2", "--configfile", str(config), workdir=work)
    out = work / "results" / CLUSTER
    pairs = pd.read_csv(out / "structure_pairs.csv", dtype={"a_adcode": str, "b_adcode": str})
    assert len(pairs) == 6 and pairs["similarity"].between(0.9, 1.0).all()
    cities = pd.read_csv(out / "structure_cities.csv", dtype={"adcode": str})
    assert cities["adcode"].tolist() == ["410100", "410700", "410800", "419001"]
    assert len(pd.read_csv(out / "structure_sectors.csv")) == 12
    summary = json.loads((out / "structure_summary.json").read_text(encoding="utf-8"))
    assert summary["missing"] == ["410200 开封市", "410300 洛阳市", "410400 平顶山市",
                                  "411000 许昌市", "411100 漯河市"]
    assert (out / "structure_similarity.png").stat().st_size > 10_000
    metrics = pd.read_csv(out / "metrics.csv").iloc[0]
    assert metrics["structure_n_cities"] == 4 and metrics["similarity_time_n_pairs"] == 6
    assert "410200 开封市" in metrics["structure_note"]


def test_logs_are_quiet(workflow_run):
    """A default run's logs: no line repeated within a log, and no warning at all."""
    import re

    logs = sorted((workflow_run / "logs").rglob("*.log"))
    assert len(logs) > 10
    problems = []
    for log in logs:
        lines = [re.sub(r"^\d{4}-\d\d-\d\d [\d:,]+ ", "", line)  # the time stamp differs
                 for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
        repeated = sorted({line for line in lines if lines.count(line) > 1})
        if repeated:
            problems.append(f"{log.name}: repeated {repeated[:3]}")
        warned = [line for line in lines if "warning" in line.lower()]
        if warned:
            problems.append(f"{log.name}: {warned[:2]}")
    assert problems == []
    # the reader-facing outputs exist in both languages
    res = workflow_run / "results"
    for lang in ("zh", "en"):
        assert (res / f"cluster_comparison.{lang}.png").stat().st_size > 10_000
        assert (res / "central_plains_core" / f"central_plains_core.{lang}.qgs").exists()
        for name in ("accessibility", "ecology"):
            assert (res / "central_plains_core" / "maps" / f"{name}.{lang}.png").exists()
