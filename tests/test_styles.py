"""Default styles: stored in the GeoPackage the way QGIS stores them; raster QML sidecars; COGs."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
from affine import Affine
from rio_cogeo.cogeo import cog_validate
from shapely.geometry import LineString, Point

from agglonet.crs import CHINA_ALBERS
from agglonet.io import write_gpkg, write_raster
from agglonet.styles import LAYER_STYLES_TABLE, class_breaks, read_styles

#: Columns of the table QGIS creates with "Save style → in database (GeoPackage)".
QGIS_COLUMNS = ["f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column",
                "styleName", "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui",
                "update_time"]


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("styles") / "transport.gpkg"
    seats = gpd.GeoDataFrame({"name_en": ["A", "B", "C", "D"],
                              "watt_min": [10.0, 20.0, 30.0, 40.0]},
                             geometry=[Point(i * 1000, 0) for i in range(4)], crs=CHINA_ALBERS)
    roads = gpd.GeoDataFrame({"highway": ["motorway", "primary"]},
                             geometry=[LineString([(0, 0), (1, 1)]), LineString([(1, 1), (2, 0)])],
                             crs=CHINA_ALBERS)
    crossings = gpd.GeoDataFrame({"priority": [0.1, 0.9]}, geometry=[Point(0, 0), Point(5, 5)],
                                 crs=CHINA_ALBERS)
    write_gpkg(path, {"seats": seats, "roads": roads, "road_crossings": crossings})
    return path


def test_layer_styles_table_like_qgis(gpkg):
    with sqlite3.connect(gpkg) as conn:
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({LAYER_STYLES_TABLE})")]
        contents = dict(conn.execute("SELECT table_name, data_type FROM gpkg_contents"))
        rows = conn.execute("SELECT f_table_name, f_geometry_column, useAsDefault "
                            f"FROM {LAYER_STYLES_TABLE} ORDER BY f_table_name").fetchall()
    assert cols[0] == "id" and cols[1:] == QGIS_COLUMNS
    # registered as an attributes table so GDAL/QGIS see a valid GeoPackage table
    assert contents[LAYER_STYLES_TABLE] == "attributes"
    assert rows == [("road_crossings", "geom", 1), ("roads", "geom", 1), ("seats", "geom", 1)]
    layers = dict(pyogrio.list_layers(gpkg))
    assert layers[LAYER_STYLES_TABLE] is None


def test_styles_by_layer(gpkg):
    styles = read_styles(gpkg)
    seats = ET.fromstring(styles["seats"].split("\n", 1)[1])
    r = seats.find("renderer-v2")
    assert (r.get("type"), r.get("attr"), r.get("graduatedMethod")) == \
        ("graduatedSymbol", "watt_min", "GraduatedColor")
    # quantile breaks of 10, 20, 30, 40 in 5 classes: 10, 16, 22, 28, 34, 40 (hand-worked)
    lowers = [float(x.get("lower")) for x in r.iter("range")]
    assert lowers == pytest.approx([10, 16, 22, 28, 34])
    assert seats.find("labeling/settings/text-style").get("fieldName") == "name_en"
    roads = ET.fromstring(styles["roads"].split("\n", 1)[1]).find("renderer-v2")
    assert roads.get("type") == "categorizedSymbol" and roads.get("attr") == "highway"
    assert "motorway" in [c.get("value") for c in roads.iter("category")]
    cross = ET.fromstring(styles["road_crossings"].split("\n", 1)[1]).find("renderer-v2")
    assert cross.get("graduatedMethod") == "GraduatedSize" and cross.get("attr") == "priority"
    sizes = [float(p.get("v")) for p in cross.iter("prop") if p.get("k") == "size"]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]


def test_rewrite_replaces_styles(gpkg, tmp_path):
    from agglonet.styles import apply_default_styles
    copy = tmp_path / "c.gpkg"
    copy.write_bytes(gpkg.read_bytes())
    assert apply_default_styles(copy, ["seats"]) == 1
    with sqlite3.connect(copy) as conn:
        n = conn.execute(f"SELECT count(*) FROM {LAYER_STYLES_TABLE} "
                         "WHERE f_table_name='seats'").fetchone()[0]
    assert n == 1


def test_class_breaks_edge_cases():
    assert class_breaks([]) == []
    assert class_breaks([np.nan, 3.0, 3.0]) == [3.0, 3.0]
    assert class_breaks([0, 1, 2, 3, 4], n_classes=2) == [0.0, 2.0, 4.0]


@pytest.mark.parametrize(("name", "dtype", "renderer"), [
    ("landcover", "uint8", "paletted"), ("mspa", "uint8", "paletted"),
    ("travel_time_min", "float32", "singlebandpseudocolor"),
    ("current_density", "float32", "singlebandpseudocolor")])
def test_raster_sidecar_and_cog(tmp_path, name, dtype, renderer):
    arr = (np.arange(600 * 520) % 9).reshape(600, 520).astype(dtype)
    nodata = 255 if dtype == "uint8" else -9999.0
    path = write_raster(tmp_path / f"{name}.tif", arr, transform=Affine(100, 0, 0, 0, -100, 0),
                        crs=CHINA_ALBERS, nodata=nodata)
    qml = path.with_suffix(".qml")
    assert qml.exists()
    root = ET.fromstring(qml.read_text(encoding="utf-8").split("\n", 1)[1])
    assert root.find("pipe/rasterrenderer").get("type") == renderer
    if name == "mspa":
        entries = {int(e.get("value")): e.get("label") for e in root.iter("paletteEntry")}
        assert entries[17] == "core" and entries[33] == "bridge" and entries[65] == "loop"
    if name == "landcover":
        entries = {int(e.get("value")): e.get("label") for e in root.iter("paletteEntry")}
        assert entries == {1: "forest", 2: "shrub", 3: "grassland", 4: "wetland", 5: "water",
                           6: "cropland", 7: "built", 8: "bare"}
    if renderer == "singlebandpseudocolor":
        values = [float(i.get("value")) for i in root.iter("item")]
        assert values[0] == 0 and values[-1] == 8
    # what `rio cogeo validate` runs (in-process: a subprocess costs ~5 s of imports)
    valid, errors, _warnings = cog_validate(str(path))
    assert valid, errors
    with rasterio.open(path) as src:
        assert src.nodata == nodata and src.overviews(1)  # overviews and nodata present


def test_empty_layer_of_unknown_geometry_is_skipped(tmp_path):
    empty = gpd.GeoDataFrame({"current_density": []}, geometry=gpd.GeoSeries([]),
                             crs=CHINA_ALBERS)
    pts = gpd.GeoDataFrame({"current_density": [1.0]}, geometry=[Point(0, 0)], crs=CHINA_ALBERS)
    # an empty layer of a name agglonet knows is typed (io.LAYER_GEOMETRY_TYPES) and styled
    path = write_gpkg(tmp_path / "e.gpkg", {"pinch_points": empty, "barriers": pts})
    assert set(read_styles(path)) == {"pinch_points", "barriers"}
    # an empty layer of unknown name has geometry type Unknown: written, but left unstyled
    path = write_gpkg(tmp_path / "u.gpkg", {"scratch": empty, "barriers": pts})
    assert set(read_styles(path)) == {"barriers"}


def test_pinch_zones_are_filled_by_peak_current(tmp_path):
    from shapely.geometry import MultiPolygon, box

    zones = gpd.GeoDataFrame(
        {"pinch_id": [1, 2, 3], "peak_current": [0.1, 0.5, 0.9]},
        geometry=[MultiPolygon([box(i, 0, i + 1, 1)]) for i in range(3)], crs=CHINA_ALBERS)
    qml = read_styles(write_gpkg(tmp_path / "z.gpkg", {"pinch_points": zones}))["pinch_points"]
    root = ET.fromstring(qml.split("\n", 1)[1])
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "graduatedSymbol" and renderer.get("attr") == "peak_current"
    assert {s.get("type") for s in renderer.iter("symbol")} == {"fill"}


def test_travel_time_ramp_is_stretched_on_the_cluster_cells(tmp_path):
    # 20 × 20 cells: the cluster is the inner 10 × 10 block (band 2 = 1), times 0..99 there;
    # the buffer holds times up to 5000 min that must not stretch the ramp
    inside = np.zeros((20, 20), dtype="float32")
    inside[5:15, 5:15] = 1.0
    minutes = np.full((20, 20), 5000.0, dtype="float32")
    minutes[5:15, 5:15] = np.arange(100, dtype="float32").reshape(10, 10)
    path = write_raster(tmp_path / "travel_time_min.tif", np.stack([minutes, inside]),
                        transform=Affine(1000, 0, 0, 0, -1000, 20_000), crs=CHINA_ALBERS,
                        nodata=-9999.0, band_description=["minutes", "inside"])
    with rasterio.open(path) as src:
        assert src.count == 2 and src.descriptions == ("minutes", "inside")
    root = ET.parse(path.with_suffix(".qml")).getroot()
    stops = [float(item.get("value")) for item in root.iter("item")]
    # 9 stops at the quantiles 0, 1/8, …, 1 of the values 0..99: 0, 12.375, …, 99
    assert stops == pytest.approx(list(np.linspace(0, 99, 9)))
    # a raster without a stretch band in the catalogue spans all its cells
    path = write_raster(tmp_path / "resistance.tif", minutes, transform=Affine(
        1000, 0, 0, 0, -1000, 20_000), crs=CHINA_ALBERS, nodata=-9999.0)
    stops = [float(i.get("value")) for i in ET.parse(path.with_suffix(".qml")).iter("item")]
    assert max(stops) == 5000.0


def _renderer(layer, frame, geometry_type):
    from agglonet.styles import vector_style
    return vector_style(layer, frame, geometry_type=geometry_type).find("renderer-v2")


def _props(symbol):
    return {p.get("k"): p.get("v") for p in symbol.iter("prop")}


def test_crossings_show_priority_by_colour_and_size():
    import pandas as pd
    frame = pd.DataFrame({"priority": [0.000004, 0.00001, 0.0001, 0.0006, 0.0043]})
    r = _renderer("road_crossings", frame, "Point")
    symbols = [_props(s) for s in r.find("symbols")]
    sizes = [float(p["size"]) for p in symbols]
    assert len(sizes) == 5 and sizes == sorted(sizes)
    assert sizes[0] >= 1.8 and sizes[-1] >= 5.0  # visible at print scale (mm)
    assert len({p["color"] for p in symbols}) == 5  # a colour ramp, not one red
    # the highest priority is drawn last (on top)
    assert r.get("enableorderby") == "1"
    clause = r.find("orderby/orderByClause")
    assert clause.text == '"priority"' and clause.get("asc") == "1"
    # labels in plain decimals (two significant digits), not 4e-06
    labels = [x.get("label") for x in r.iter("range")]
    # quantile 0.2 of the five values: 0.000004 + 0.8 × (0.00001 − 0.000004) = 0.0000088
    assert labels[0] == "0.000004 – 0.0000088"
    assert all("e-" not in label for label in labels)


def test_crossings_one_class_is_not_tiny():
    import pandas as pd
    r = _renderer("road_crossings", pd.DataFrame({"priority": [0.5, 0.5, 0.5]}), "Point")
    sizes = [float(_props(s)["size"]) for s in r.find("symbols")]
    assert len(sizes) == 1 and sizes[0] >= 3.4  # the middle of 1.8–5 mm


def test_city_fill_does_not_hide_layers_beneath():
    import pandas as pd
    r = _renderer("cities", pd.DataFrame({"name_en": ["A"]}), "MultiPolygon")
    color = _props(r.find("symbols/symbol"))["color"]
    alpha = int(color.split(",")[3]) / 255
    assert alpha <= 0.10
