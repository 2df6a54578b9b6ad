"""Clear messages instead of crashes: no ecological land, all-nodata land cover, one source;
and the summary figures on a worked example."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from rasterio.transform import from_origin
from shapely.geometry import LineString, box

from agglonet.crs import CHINA_ALBERS
from agglonet.ecology.landcover import CLASS_CODES, NODATA, PRESETS, reclassify
from agglonet.ecology.mspa import mspa
from agglonet.ecology.network import network_layers
from agglonet.ecology.sources import select_sources
from agglonet.ecology.summary import circuit_stage, corridor_stage, ecology_summary
from agglonet.errors import DataError
from agglonet.io import read_layer, write_gpkg
from agglonet.outputs import layer_columns, layer_names

T = from_origin(0, 20_000, 1000, 1000)


def test_no_ecological_land() -> None:
    classes = reclassify(np.full((5, 5), 12), mapping=PRESETS["modis_igbp"])  # all cropland
    fg = np.isin(classes, [CLASS_CODES["forest"], CLASS_CODES["water"]])
    with pytest.raises(DataError, match="no ecological land"):
        mspa(fg, valid=classes != NODATA)


def test_all_nodata_landcover() -> None:
    with pytest.raises(DataError, match="no data everywhere"):
        reclassify(np.full((5, 5), 255, dtype=np.uint8), mapping=PRESETS["modis_igbp"])


def test_one_source_gives_empty_network(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    fg = np.zeros((20, 20), bool)
    fg[2:10, 2:10] = True
    codes = mspa(fg)
    sel = select_sources(codes, transform=T, crs=CHINA_ALBERS, min_area_km2=1,
                         distance_threshold_km=5, probability=0.5)
    assert len(sel.sources) == 1
    resistance = np.full((20, 20), 10.0)
    with caplog.at_level(logging.WARNING):
        cwd, mask, layers = corridor_stage(
            resistance, sel.labels, sel.sources, transform=T, crs=CHINA_ALBERS,
            width_cost_units=1e5, class_quantiles=[0.667, 0.333], barrier_radius_m=2000,
            barrier_top_n=5)
    assert "only 1 ecological source" in caplog.text
    assert cwd[5, 5] == 0 and cwd[15, 15] > 0
    assert not mask.any()
    assert layers["sources"]["mean_resistance"].tolist() == [10.0]
    current, layers = circuit_stage(resistance, sel.labels, mask, layers, transform=T,
                                    crs=CHINA_ALBERS, mode="pairwise", solver="auto",
                                    direct_max_cells=1000, pinch_quantile=0.9)
    assert (current == 0).all()
    summary = ecology_summary(sources=layers["sources"], corridors=layers["corridors"],
                              pinch_points=layers["pinch_points"], indices=sel.indices,
                              landcover_source="modis_igbp")
    assert summary["n_sources"] == 1 and summary["n_corridors"] == 0
    assert summary["alpha"] is None and summary["gamma"] is None
    # The GeoPackage round-trips with every layer, empty ones with their columns.
    path = write_gpkg(tmp_path / "net.gpkg", layers)
    for name in layer_names("ecology_network"):
        columns = layer_columns("ecology_network", name)
        frame = read_layer(path, name)
        assert set(columns) <= set(frame.columns)


def test_summary_worked_example() -> None:
    # Four sources on a square, linked by its four sides: α = (4 − 4 + 1)/(2·4 − 5) = 1/3,
    # β = 4/4 = 1, γ = 4/(3·(4 − 2)) = 2/3.
    sources = gpd.GeoDataFrame({"source_id": [1, 2, 3, 4], "area_km2": [10.0, 20.0, 30.0, 40.0]},
                               geometry=[box(i, 0, i + 1, 1) for i in range(4)], crs=CHINA_ALBERS)
    corridors = gpd.GeoDataFrame(
        {"from_source": [1, 2, 3, 1], "to_source": [2, 3, 4, 4], "length_km": [1.5, 2.0, 2.5, 4.0],
         "corridor_class": ["primary", "secondary", "general", "general"]},
        geometry=[LineString([(0, 0), (1, 1)])] * 4, crs=CHINA_ALBERS)
    layers = network_layers(sources=sources, corridors=corridors, crs=CHINA_ALBERS)
    s = ecology_summary(sources=layers["sources"], corridors=layers["corridors"],
                        pinch_points=layers["pinch_points"],
                        indices={"pc": 0.1, "iic": 0.05, "eca_km2": 50.0},
                        landcover_source="modis_igbp")
    assert s["alpha"] == pytest.approx(1 / 3)
    assert s["beta"] == pytest.approx(1.0)
    assert s["gamma"] == pytest.approx(2 / 3)
    assert s["source_area_km2"] == 100.0 and s["corridor_length_km"] == 10.0
    assert s["n_components"] == 1 and s["primary_corridors"] == 1 and s["n_pinch_zones"] == 0
    assert s["n_network_nodes"] == 4 and s["mu"] == 1 and s["largest_source_share"] == 0.4


def test_summary_counts_parts_of_one_patch_as_one_node() -> None:
    # Sources 1 and 2 are parts of patch 7 (cut by the maximum-area rule), 3 and 4 patches of
    # their own. Corridors 1–3, 2–3 and 3–4: on the patch graph {1, 2}–3 twice and 3–4, so
    # V = 3, L = 3, P = 1: μ = 3 − 3 + 1 = 1 (two distinct routes between the patch and 3),
    # α = 1/(2·3 − 5) = 1, β = 3/3 = 1, γ = 3/(3·(3 − 2)) = 1.
    sources = gpd.GeoDataFrame(
        {"source_id": [1, 2, 3, 4], "area_km2": [50.0, 30.0, 15.0, 5.0],
         "area_in_cluster_km2": [50.0, 0.0, 15.0, 2.5], "core_patch_id": [7, 7, 3, 9]},
        geometry=[box(i, 0, i + 1, 1) for i in range(4)], crs=CHINA_ALBERS)
    corridors = gpd.GeoDataFrame(
        {"from_source": [1, 2, 3], "to_source": [3, 3, 4], "length_km": [1.0, 2.0, 3.0],
         "corridor_class": ["primary", "secondary", "general"]},
        geometry=[LineString([(0, 0), (1, 1)])] * 3, crs=CHINA_ALBERS)
    layers = network_layers(sources=sources, corridors=corridors, crs=CHINA_ALBERS)
    s = ecology_summary(sources=layers["sources"], corridors=layers["corridors"],
                        pinch_points=layers["pinch_points"],
                        indices={"pc": 0.1, "iic": 0.05, "eca_km2": 50.0},
                        landcover_source="modis_igbp")
    assert (s["n_sources"], s["n_network_nodes"], s["n_components"]) == (4, 3, 1)
    assert (s["mu"], s["alpha"], s["beta"], s["gamma"]) == (1, 1, 1, 1)
    assert s["largest_source_share"] == 0.5
    assert s["source_area_in_cluster_km2"] == 67.5 and s["source_in_cluster_share"] == 0.675
