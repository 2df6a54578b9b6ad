"""Interactive web map of a cluster's results: one self-contained HTML file that opens offline.

``results/{cluster}/map.html`` shows the vector layers of the output catalogue
(:mod:`agglonet.outputs`) for the given GeoPackages as toggleable layers with popups of every
attribute, the travel-time surfaces as image overlays, a legend, the run's quality caveat and the
data attributions, in Simplified Chinese and English (:mod:`agglonet.export.labels`; the column
names stay visible beside their labels).

Everything the page needs is inside it: Leaflet (vendored in ``assets/``, BSD-2-Clause), the
styles, the data (GeoJSON in EPSG:4326) and the rasters (PNG data URIs). There are no base-map
tiles; the member cities and the cluster outline are the base. A Content-Security-Policy in the
page forbids any request except ``data:`` images, so opening it from disk never reaches a network.

Styles are not defined twice: each layer is drawn with the QGIS style stored in its GeoPackage
(:func:`agglonet.styles.read_styles`, or :func:`agglonet.styles.vector_style` when none is
stored), translated symbol by symbol, and the rasters with the colour ramp of their QML sidecar
(:func:`agglonet.styles.raster_qml`). Layers are drawn in panes by geometry kind (polygons under
lines under points), whatever the catalogue says a layer's geometry is, so a layer that changes
from points to polygons needs no change here.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import math
import string
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib.colors
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import rasterio.warp
import shapely
from PIL import Image
from pyproj import Transformer

from agglonet import outputs, styles
from agglonet.crs import require_crs
from agglonet.errors import DataError
from agglonet.export import labels
from agglonet.io import atomic_path, read_layer
from agglonet.provenance import STANDARD_ATTRIBUTIONS
from agglonet.quality import QualityFact

logger = logging.getLogger(__name__)

#: Folder of the vendored Leaflet and of the page's own script and style.
ASSETS = Path(__file__).with_name("assets")
#: Leaflet version vendored in :data:`ASSETS` (from the npm registry; BSD-2-Clause).
LEAFLET_VERSION = "1.9.4"
#: GeoPackages (catalogue keys) whose layers the map can show, bottom of the layer list first.
VECTOR_KEYS: tuple[str, ...] = tuple(
    k for k in outputs.WEBMAP_KEYS if k in {f.key for f in outputs.VECTOR_FILES})
#: Rasters (catalogue keys) the map can show as image overlays; the first is switched on.
RASTER_KEYS: tuple[str, ...] = tuple(
    k for k in outputs.WEBMAP_KEYS if k in {r.key for r in outputs.RASTERS})
#: Coordinates are rounded to this many decimals of a degree (≈ 1.1 m).
COORD_DECIMALS = 5
#: Significant digits of the floats shown in popups (lon/lat to ≈ 1 m; never fewer than the
#: digits before the decimal point).
VALUE_DIGITS = 8
#: Screen pixels per millimetre of a QGIS symbol (96 dpi).
PX_PER_MM = 96 / 25.4
#: Earth radius of Web Mercator (EPSG:3857), m.
_WEB_MERCATOR_RADIUS_M = 6_378_137.0
_KIND = {"Point": "point", "LineString": "line", "Polygon": "fill"}
_QML_SYMBOL_KIND = {"marker": "point", "line": "line", "fill": "fill"}
_NO_VALUE_COLOR = "#9e9e9e"
#: Opacity (0–255) of raster cells outside the cluster (the buffer) where a raster flags them.
BUFFER_ALPHA = 90
#: Content-Security-Policy of the page: inline script and style, images from data: URIs only.
CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
       "img-src data:; font-src 'none'; connect-src 'none'; frame-src 'none'; "
       "base-uri 'none'; form-action 'none'")

_PAGE = string.Template("""<!DOCTYPE html>
<html lang="$html_lang">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="$csp">
<meta name="generator" content="agglonet $version; Leaflet $leaflet_version">
<link rel="icon" href="data:,">
<title>$title</title>
<style>
$leaflet_css
</style>
<style>
$page_css
</style>
</head>
<body class="agg-lang-$lang">
<div id="map"></div>
<script>
$leaflet_js
</script>
<script>
window.AGGLONET_DATA = $data;
</script>
<script>
$page_js
</script>
</body>
</html>
""")


# ------------------------------------------------------------------------------------ geometry
def pixel_size_m(zoom: float, *, lat_deg: float) -> float:
    """Ground size (m) of one screen pixel of a Web Mercator map at ``zoom`` and latitude.

    Examples
    --------
    >>> round(pixel_size_m(0, lat_deg=0.0), 2)  # the equator in one 256-pixel tile
    156543.03
    """
    return 2 * math.pi * _WEB_MERCATOR_RADIUS_M * math.cos(math.radians(lat_deg)) / (
        256 * 2 ** zoom)


def display_geometries(frame: gpd.GeoDataFrame, *, tolerance_m: float,
                       decimals: int = COORD_DECIMALS) -> gpd.GeoSeries:
    """Geometries simplified for display, in EPSG:4326, coordinates rounded.

    Lines and polygons are simplified in the layer's own (metric) CRS with ``tolerance_m``
    (topology preserved), then reprojected; points are only reprojected.
    """
    frame = require_crs(frame, what="web map layer")
    geoms = frame.geometry
    if tolerance_m > 0:
        is_point = geoms.geom_type.isin(["Point", "MultiPoint"]).to_numpy()
        simplified = shapely.simplify(geoms.to_numpy(), tolerance_m, preserve_topology=True)
        geoms = gpd.GeoSeries(np.where(is_point, geoms.to_numpy(), simplified),
                              index=frame.index, crs=frame.crs)
    lonlat = geoms.to_crs("EPSG:4326")
    rounded = shapely.transform(lonlat.to_numpy(), lambda xy: np.round(xy, decimals))
    return gpd.GeoSeries(rounded, index=frame.index, crs="EPSG:4326")


def geometry_kind(frame: gpd.GeoDataFrame, *, default: str) -> str:
    """``point``, ``line`` or ``fill`` from the layer's geometries (``default``: an OGR type).

    The most common geometry type decides (a layer may mix single and multi parts).
    """
    types = frame.geometry.dropna().geom_type.str.replace("Multi", "", regex=False)
    base = types.mode().iloc[0] if len(types) else default.replace("Multi", "")
    if base not in _KIND:
        raise DataError(f"web map layer geometry type {base!r} is not drawable; expected "
                        "(Multi)Point, (Multi)LineString or (Multi)Polygon")
    return _KIND[base]


# ---------------------------------------------------------------------------------- attributes
def _json_value(value: Any) -> Any:
    """Return a cell as JSON: NaN → null, numpy → Python, floats to :data:`VALUE_DIGITS`."""
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
        return float(f"{float(value):.{max(VALUE_DIGITS, whole_digits)}g}")
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def json_column(values: pd.Series) -> list[Any]:
    """Return a column's cells as :func:`_json_value` does, a whole column at a time.

    Integer and boolean columns convert in one ``tolist``; floats within ``VALUE_DIGITS``
    whole digits and plain strings skip the per-value type checks (the same values, faster).
    """
    cells = values.tolist()
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biu":
        return cells  # Python bool / int already
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        limit = 10.0 ** VALUE_DIGITS  # below it, no value has more whole digits than that
        fmt = f".{VALUE_DIGITS}g"
        return [float(format(v, fmt)) if -limit < v < limit else _json_value(v) for v in cells]
    return [v if type(v) is str else _json_value(v) for v in cells]


def _same_json(values: Sequence[Any]) -> bool:
    """Whether every value has the JSON text of the first one.

    For the values of :func:`_json_value` (None, bool, int, float, str) that is: same type and
    equal, and for floats the same sign (``0.0`` and ``-0.0`` differ in JSON).
    """
    first = values[0]
    kind = type(first)
    if kind is float:
        sign = math.copysign(1.0, first)
        return all(type(v) is float and v == first and math.copysign(1.0, v) == sign
                   for v in values)
    return all(type(v) is kind and v == first for v in values)


def attribute_table(frame: pd.DataFrame) -> tuple[list[str], dict[str, Any], list[list[Any]]]:
    """Split a layer's attributes into columns, constants and per-feature rows.

    Columns whose value is the same for every feature are stored once (``constants``), the
    others as one row per feature; together they hold every attribute of every feature.

    Returns
    -------
    columns, constants, rows
        Column names in the layer's order, ``{column: value}`` of the constant ones, and the
        values of the varying columns (in column order) per feature.
    """
    columns = [c for c in frame.columns if c != frame.geometry.name] \
        if isinstance(frame, gpd.GeoDataFrame) else list(frame.columns)
    values = {c: json_column(frame[c]) for c in columns}
    constants: dict[str, Any] = {}
    if len(frame) > 1:
        constants = {c: values[c][0] for c in columns if _same_json(values[c])}
    varying = [values[c] for c in columns if c not in constants]
    rows = ([list(row) for row in zip(*varying, strict=True)] if varying
            else [[] for _ in range(len(frame))])
    return columns, constants, rows


# ---------------------------------------------------------------------------------- symbology
def _symbol_props(symbol: ET.Element) -> tuple[str, dict[str, str]]:
    """Class and properties of a QML symbol's first symbol layer (``prop`` or ``Option``)."""
    layer = symbol.find("layer")
    if layer is None:
        return "", {}
    props = {p.get("k", ""): p.get("v", "") for p in layer.iter("prop")}
    for opt in layer.iter("Option"):
        if opt.get("name") and opt.get("value") is not None:
            props.setdefault(opt.get("name", ""), opt.get("value", ""))
    return layer.get("class", ""), props


def _qgis_color(text: str | None, default: str = "#3182bd") -> tuple[str, float]:
    """Return ``(#rrggbb, alpha 0–1)`` of a QGIS colour string ``r,g,b,a``."""
    if not text:
        return default, 1.0
    parts = [float(p) for p in text.split(",")[:4]]
    r, g, b = (min(max(v / 255.0, 0.0), 1.0) for v in parts[:3])
    rgb = matplotlib.colors.to_hex((r, g, b))
    return rgb, parts[3] / 255.0 if len(parts) > 3 else 1.0


def _mm(value: str | None, default: float) -> float:
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        return default


def leaflet_style(symbol: ET.Element) -> dict[str, Any]:
    """Leaflet path options (and ``radius`` for points) of a QGIS simple symbol.

    ``SimpleMarker`` → circle marker (diameter = marker size), ``SimpleLine`` → stroke,
    ``SimpleFill`` → fill and outline; sizes in millimetres become pixels at 96 dpi.
    """
    cls, props = _symbol_props(symbol)
    if cls == "SimpleMarker":
        fill, fill_alpha = _qgis_color(props.get("color"))
        line, line_alpha = _qgis_color(props.get("outline_color"), "#232323")
        return {"radius": round(_mm(props.get("size"), 2.0) * PX_PER_MM / 2, 2),
                "fillColor": fill, "fillOpacity": round(fill_alpha, 3), "color": line,
                "opacity": round(line_alpha, 3),
                "weight": round(max(_mm(props.get("outline_width"), 0.2) * PX_PER_MM, 0.5), 2)}
    if cls == "SimpleLine":
        line, alpha = _qgis_color(props.get("line_color"))
        return {"color": line, "opacity": round(alpha, 3),
                "weight": round(max(_mm(props.get("line_width"), 0.26) * PX_PER_MM, 0.75), 2),
                "fill": False}
    if cls == "SimpleFill":
        fill, fill_alpha = _qgis_color(props.get("color"))
        line, line_alpha = _qgis_color(props.get("outline_color"), "#232323")
        no_fill = props.get("style") == "no"
        return {"fillColor": fill, "fillOpacity": 0.0 if no_fill else round(fill_alpha, 3),
                "fill": not no_fill, "color": line, "opacity": round(line_alpha, 3),
                "weight": round(max(_mm(props.get("outline_width"), 0.26) * PX_PER_MM, 0.5), 2)}
    return {"color": "#3182bd", "fillColor": "#3182bd", "fillOpacity": 0.4, "weight": 1.5,
            "radius": 4}


def _as_number(values: pd.Series) -> np.ndarray:
    return np.asarray(pd.to_numeric(values, errors="coerce"), dtype=float)


def symbology(qml: ET.Element, frame: pd.DataFrame, *, languages: tuple[str, ...]
              ) -> tuple[list[dict[str, Any]], list[int]]:
    """Return the classes (label + Leaflet style) of a QGIS renderer and each feature's class.

    Parameters
    ----------
    qml
        The ``<qgis>`` root of the layer's QML style.
    frame
        The layer's attributes (the renderer's field is read from it).
    languages
        Languages of the category labels.

    Returns
    -------
    classes, index
        ``classes[i]`` is ``{"label": {lang: text} | None, "field": column | None,
        "style": {...}, "n": features in the class}``; ``index[k]`` the class of feature
        ``k``. Features that no class of a graduated or categorised renderer takes (an empty
        value) get a grey "no value" class, where QGIS would leave them undrawn.
    """
    renderer = qml.find("renderer-v2")
    kind = renderer.get("type") if renderer is not None else None
    symbols = {} if renderer is None else {
        s.get("name"): s for s in renderer.findall("./symbols/symbol")}
    n = len(frame)
    classes: list[dict[str, Any]] = []
    index = np.full(n, -1, dtype=int)
    field = renderer.get("attr") if renderer is not None else None
    if kind == "graduatedSymbol" and field in frame.columns:
        values = _as_number(frame[field])
        for i, rng in enumerate(renderer.findall("./ranges/range")):  # type: ignore[union-attr]
            lower, upper = float(rng.get("lower", "nan")), float(rng.get("upper", "nan"))
            label = rng.get("label") or f"{lower:g} – {upper:g}"
            classes.append({"label": {lang: label for lang in languages}, "field": field,
                            "style": leaflet_style(symbols[rng.get("symbol")])})
            hit = (index < 0) & (values >= lower) & (values <= upper)
            index[hit] = i
    elif kind == "categorizedSymbol" and field in frame.columns:
        values = frame[field].astype("string").fillna("").to_numpy()
        other = None
        for i, cat in enumerate(renderer.findall("./categories/category")):  # type: ignore[union-attr]
            value = cat.get("value", "")
            classes.append({"label": labels.value_label(value, languages), "field": field,
                            "value": value, "style": leaflet_style(symbols[cat.get("symbol")])})
            if value == "":
                other = i
            index[(index < 0) & (values == value)] = i
        if other is not None:
            index[index < 0] = other
    else:
        symbol = symbols["0"] if "0" in symbols else next(iter(symbols.values()), None)
        style = leaflet_style(symbol) if symbol is not None else leaflet_style(ET.Element("x"))
        classes.append({"label": None, "field": None, "style": style})
        index[:] = 0
    if (index < 0).any():
        base = dict(classes[0]["style"]) if classes else leaflet_style(ET.Element("x"))
        for key in ("color", "fillColor"):
            if key in base:
                base[key] = _NO_VALUE_COLOR
        classes.append({"label": {lang: labels.UI["no_value"][labels.LANGUAGES.index(lang)]
                                  for lang in languages}, "field": field, "style": base})
        index[index < 0] = len(classes) - 1
    counts = np.bincount(index, minlength=len(classes)) if n else np.zeros(len(classes), int)
    for cls, count in zip(classes, counts, strict=True):
        cls["n"] = int(count)
    return classes, index.tolist()


def layer_qml(path: Path, layer: str, frame: gpd.GeoDataFrame, *, geometry_type: str
              ) -> ET.Element:
    """Return the QGIS style of a layer: stored in its GeoPackage, else the default one."""
    stored = styles.read_styles(path).get(layer)
    if stored:
        return ET.fromstring(stored.split("\n", 1)[1] if stored.startswith("<!DOCTYPE")
                             else stored)
    return styles.vector_style(layer, frame, geometry_type=geometry_type)


def label_fields(qml: ET.Element, columns: Sequence[str], languages: tuple[str, ...]
                 ) -> dict[str, str] | None:
    """Return the column to label features with, per language (``name_zh``/``name_en`` first).

    ``None`` when the QGIS style has no labels.
    """
    if qml.get("labelsEnabled") != "1":
        return None
    style = qml.find(".//text-style")
    qml_field = style.get("fieldName") if style is not None else None
    out: dict[str, str] = {}
    for lang in languages:
        named = f"name_{lang}"
        field = named if named in columns else qml_field
        if field is not None and field in columns:
            out[lang] = field
    return out or None


# ------------------------------------------------------------------------------------- layers
def webmap_layers(keys: Sequence[str]) -> list[tuple[str, outputs.Layer]]:
    """Return the catalogue layers the map shows for the given GeoPackage keys, bottom first.

    Every layer of the files in :data:`VECTOR_KEYS` that the QGIS project shows (its ``group``
    is set); a layer name in two files is shown once, from the later file (the transport
    ``seats`` carry the accessibility indices of the cities' ``seats``).
    """
    chosen: dict[str, tuple[str, outputs.Layer]] = {}
    for key in VECTOR_KEYS:
        if key not in keys:
            continue
        for layer in outputs.vector_file(key).layers:
            if layer.group is not None:
                chosen.pop(layer.name, None)
                chosen[layer.name] = (key, layer)
    return list(chosen.values())


def vector_layer_data(path: Path, file_key: str, layer: outputs.Layer, *, tolerance_m: float,
                      languages: tuple[str, ...]) -> dict[str, Any] | None:
    """Return the page data of one vector layer (``None`` when the GeoPackage lacks it)."""
    if layer.name not in {name for name, _ in pyogrio.list_layers(path)}:
        logger.info("web map: %s has no layer %s; skipped", path.name, layer.name)
        return None
    frame = read_layer(path, layer.name)
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)].reset_index(drop=True)
    kind = geometry_kind(frame, default=layer.geometry_type)
    qml = layer_qml(path, layer.name, frame, geometry_type=layer.geometry_type)
    classes, index = symbology(qml, frame, languages=languages)
    geoms = display_geometries(frame, tolerance_m=tolerance_m)
    columns, constants, rows = attribute_table(frame.drop(columns=frame.geometry.name))
    return {
        "id": layer.name, "file": file_key, "kind": kind, "group": layer.group,
        "visible": layer.visible, "names": labels.layer_name(layer.name, languages),
        "description": layer.description, "count": len(frame),
        "columns": columns, "constants": constants,
        "label": label_fields(qml, columns, languages), "classes": classes,
        "features": {**compact_geometries(geoms), "rows": rows, "class": index},
        "bounds": _lonlat_bounds(geoms),
    }


def compact_geometries(geoms: gpd.GeoSeries) -> dict[str, Any]:
    """GeoJSON geometries of a layer, without repeating a type shared by all of them.

    Returns
    -------
    dict
        ``{"type": "LineString", "coordinates": [...]}`` when every geometry has that type,
        else ``{"type": None, "geometry": [GeoJSON geometry, ...]}``.
    """
    simple = _simple_coordinates(geoms.to_numpy())
    if simple is not None:
        return simple
    mapped = [shapely.geometry.mapping(g) for g in geoms]
    types = {m["type"] for m in mapped}
    if len(types) == 1 and "GeometryCollection" not in types:
        return {"type": types.pop(), "coordinates": [m["coordinates"] for m in mapped]}
    return {"type": None, "geometry": mapped}


def _simple_coordinates(geoms: np.ndarray) -> dict[str, Any] | None:
    """:func:`compact_geometries` of 2D points only or lines only, from one coordinate array.

    The same coordinates as ``shapely.geometry.mapping`` (lists where it gives tuples: the
    same JSON) without a Python call per geometry; ``None`` for other layers.
    """
    kinds = set(shapely.get_type_id(geoms).tolist())
    if (kinds not in ({shapely.GeometryType.POINT}, {shapely.GeometryType.LINESTRING})
            or shapely.has_z(geoms).any() or shapely.is_empty(geoms).any()):
        return None
    coords = shapely.get_coordinates(geoms)
    if kinds == {shapely.GeometryType.POINT}:
        return {"type": "Point", "coordinates": coords.tolist()}
    ends = np.cumsum(shapely.get_num_coordinates(geoms))[:-1]
    return {"type": "LineString", "coordinates": [c.tolist() for c in np.split(coords, ends)]}


def _lonlat_bounds(geoms: gpd.GeoSeries) -> list[list[float]] | None:
    if geoms.empty:
        return None
    w, s, e, n = (float(v) for v in geoms.total_bounds)
    return [[s, w], [n, e]]


# ------------------------------------------------------------------------------------ rasters
def ramp_stops(raster_path: Path, key: str) -> list[dict[str, Any]]:
    """Return the colour stops (``value``, ``color``, ``label``) of a raster's QGIS style.

    Built by :func:`agglonet.styles.raster_qml`, the function that writes the raster's QML
    sidecar, so the web map and QGIS colour the same values alike.

    Raises
    ------
    DataError
        If the raster's style is not an interpolated colour ramp.
    """
    root = ET.fromstring(styles.raster_qml(raster_path, key).split("\n", 1)[1])
    items = root.findall(".//colorrampshader/item")
    if not items:
        raise DataError(f"raster {raster_path} ({key}) has no colour-ramp style; the web map "
                        "draws continuous rasters only")
    return [{"value": float(item.get("value", "nan")), "color": item.get("color", "#000000"),
             "label": item.get("label", "")} for item in items]


def colorize(values: np.ndarray, stops: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """RGBA (uint8) of values on an interpolated ramp; NaN transparent.

    Values below the first stop take its colour and above the last stop the last colour, as
    QGIS draws an unclipped interpolated ramp.
    """
    xs = np.array([s["value"] for s in stops], dtype=float)
    rgb = np.array([matplotlib.colors.to_rgb(s["color"]) for s in stops]) * 255.0
    finite = np.isfinite(values)
    filled = np.where(finite, values, xs[0])
    out = np.zeros((*values.shape, 4), dtype=np.uint8)
    for channel in range(3):
        out[..., channel] = np.rint(np.interp(filled, xs, rgb[:, channel])).astype(np.uint8)
    out[..., 3] = np.where(finite, 255, 0).astype(np.uint8)
    return out


def warp_to_web_mercator(raster_path: Path, *, band: int = 1, max_px: int = 2048
                         ) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Reproject one band of a raster to EPSG:3857 (nearest neighbour); NaN where no data.

    Leaflet stretches an image overlay linearly in Web Mercator between its corners, so the
    image must be warped to EPSG:3857 (not to lon/lat) to sit right.

    Returns
    -------
    values, bounds
        The warped band (float, at most ``max_px`` pixels a side) and its
        ``(left, bottom, right, top)`` in EPSG:3857 metres.
    """
    with rasterio.open(raster_path) as src:
        if src.crs is None:
            raise DataError(f"raster {raster_path} has no CRS; the web map cannot place it")
        data = src.read(band, masked=True)
        if data.dtype.kind != "f":  # float bands stay as they are: nearest copies values
            data = data.astype("float64")
        data = np.ma.filled(data, np.nan)
        transform, width, height = rasterio.warp.calculate_default_transform(
            src.crs, "EPSG:3857", src.width, src.height, *src.bounds)
        scale = max(width, height) / max_px
        if scale > 1:
            width, height = max(1, round(width / scale)), max(1, round(height / scale))
            transform, width, height = rasterio.warp.calculate_default_transform(
                src.crs, "EPSG:3857", src.width, src.height, *src.bounds,
                dst_width=width, dst_height=height)
        out = np.full((height, width), np.nan)
        rasterio.warp.reproject(data, out, src_transform=src.transform, src_crs=src.crs,
                                src_nodata=np.nan, dst_transform=transform,
                                dst_crs="EPSG:3857", dst_nodata=np.nan,
                                resampling=rasterio.warp.Resampling.nearest)
    left, top = transform @ (0, 0)
    right, bottom = transform @ (width, height)
    return out, (left, bottom, right, top)


def png_data_uri(rgba: np.ndarray) -> str:
    """Return a ``data:image/png;base64,…`` URI of an RGBA array (deterministic bytes).

    zlib level 6: about 2–3 % larger than ``optimize=True`` (level 9), five times faster.
    """
    buffer = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buffer, format="PNG", compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def raster_layer_data(path: Path, key: str, *, visible: bool, languages: tuple[str, ...],
                      max_px: int = 2048) -> dict[str, Any]:
    """Return the page data of one raster overlay: PNG, lon/lat corners, legend ramp."""
    stops = ramp_stops(path, key)
    values, (left, bottom, right, top) = warp_to_web_mercator(path, max_px=max_px)
    rgba = colorize(values, stops)
    entry = outputs.raster(key)
    with rasterio.open(path) as src:
        stretch_band = entry.stretch_band if entry and entry.stretch_band and \
            entry.stretch_band <= src.count else None
    if stretch_band is not None:
        # As on the static map: cells outside the cluster (the buffer) stay visible but faded;
        # the colours span the cells inside (the QML style's stretch).
        inside, _ = warp_to_web_mercator(path, band=stretch_band, max_px=max_px)
        rgba[..., 3] = np.where(rgba[..., 3] > 0, np.where(inside == 1, 255, BUFFER_ALPHA),
                                0).astype(np.uint8)
    to_lonlat = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    west, south = to_lonlat.transform(left, bottom)
    east, north = to_lonlat.transform(right, top)
    return {"id": key, "kind": "raster", "visible": visible,
            "names": labels.layer_name(key, languages), "unit": entry.unit if entry else "",
            "bounds": [[south, west], [north, east]], "size": list(values.shape),
            "faded": stretch_band is not None, "image": png_data_uri(rgba), "ramp": stops}


# ---------------------------------------------------------------------------------------- page
def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def leaflet_css() -> str:
    """Leaflet's stylesheet with its images inlined as data URIs (no request for them)."""
    css = _asset("leaflet.css")
    for image in sorted((ASSETS / "images").glob("*.png")):
        uri = "data:image/png;base64," + base64.b64encode(image.read_bytes()).decode("ascii")
        css = css.replace(f"url(images/{image.name})", f"url({uri})")
    return css


def leaflet_js() -> str:
    """Leaflet's script without its source-map comment (a browser would ask for the map)."""
    return "\n".join(line for line in _asset("leaflet.js").splitlines()
                     if not line.startswith("//# sourceMappingURL="))


def _script_json(data: Any) -> str:
    """JSON safe inside a ``<script>`` element (no ``</`` and no JS line separators)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("</", "<\\/").replace("\u2028", "\\u2028")
            .replace("\u2029", "\\u2029"))


def _title(inputs: Mapping[str, str | Path], languages: tuple[str, ...],
           title: Mapping[str, str] | str | None) -> dict[str, str]:
    if isinstance(title, str):
        return {lang: title for lang in languages}
    if title is not None:
        return {lang: title.get(lang) or next(iter(title.values())) for lang in languages}
    names: dict[str, str] = {}
    path = Path(inputs["boundaries"]) if "boundaries" in inputs else None
    if path is not None and "cluster" in {n for n, _ in pyogrio.list_layers(path)}:
        row = pyogrio.read_dataframe(path, layer="cluster", read_geometry=False)
        if len(row):
            for lang in languages:
                value = row.iloc[0].get(f"name_{lang}")
                if isinstance(value, str) and value:
                    names[lang] = value
    return {lang: names.get(lang) or names.get("en") or "agglonet" for lang in languages}


def _field_labels(layers: Sequence[Mapping[str, Any]], languages: tuple[str, ...]
                  ) -> dict[str, dict[str, str]]:
    columns = sorted({c for layer in layers for c in layer.get("columns", [])})
    return {c: labels.field_label(c, languages) for c in columns}


def _fit_bounds(layers: Sequence[Mapping[str, Any]]) -> list[list[float]] | None:
    preferred = [la["bounds"] for la in layers if la["id"] in ("cities", "cluster")
                 and la.get("bounds")]
    boxes = preferred or [la["bounds"] for la in layers if la.get("bounds")]
    if not boxes:
        return None
    return [[min(b[0][0] for b in boxes), min(b[0][1] for b in boxes)],
            [max(b[1][0] for b in boxes), max(b[1][1] for b in boxes)]]


def build_page_data(
    *,
    inputs: Mapping[str, str | Path],
    quality: QualityFact,
    attribution: Sequence[str],
    languages: tuple[str, ...],
    title: Mapping[str, str] | str | None = None,
    max_zoom: int = 12,
    raster_max_px: int = 2048,
) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready data (see :func:`write_webmap`)."""
    vector_keys = [k for k in VECTOR_KEYS if k in inputs]
    for key in [*vector_keys, *(k for k in RASTER_KEYS if k in inputs)]:
        if not Path(inputs[key]).is_file():
            raise DataError(f"web map input {key} = {inputs[key]} does not exist; it is "
                            "written by the workflow before the map")
    centre_lat = _centre_latitude(inputs, vector_keys)
    tolerance_m = pixel_size_m(max_zoom, lat_deg=centre_lat)
    layers = []
    for file_key, layer in webmap_layers(vector_keys):
        data = vector_layer_data(Path(inputs[file_key]), file_key, layer,
                                 tolerance_m=tolerance_m, languages=languages)
        if data is not None:
            layers.append(data)
    _keep_one_label(layers)
    rasters = [raster_layer_data(Path(inputs[key]), key, visible=i == 0, languages=languages,
                                 max_px=raster_max_px)
               for i, key in enumerate(k for k in RASTER_KEYS if k in inputs)]
    standard = set(STANDARD_ATTRIBUTIONS.values())
    return {
        "languages": list(languages),
        "htmlLang": {lang: labels.HTML_LANG[lang] for lang in languages},
        "title": _title(inputs, languages, title),
        "ui": labels.ui_strings(languages),
        "quality": {"level": quality.quality,
                    "text": labels.quality_caveat(quality, languages)},
        "attribution": list(attribution),
        "osm": next((line for line in attribution if "OpenStreetMap contributors" in line
                     and line in standard), None),
        "fields": _field_labels(layers, languages),
        "bounds": _fit_bounds(layers),
        "maxZoom": max_zoom,
        "simplifyToleranceM": round(tolerance_m, 2),
        "leafletVersion": LEAFLET_VERSION,
        "layers": layers,
        "rasters": rasters,
    }


def _centre_latitude(inputs: Mapping[str, str | Path], keys: Sequence[str]) -> float:
    """Latitude of the centre of the first layer found (for the simplification tolerance)."""
    for key in keys:
        path = Path(inputs[key])
        for name, _ in pyogrio.list_layers(path):
            info = pyogrio.read_info(path, layer=name)
            if info.get("geometry_type") and info.get("crs") and info["features"]:
                xmin, ymin, xmax, ymax = pyogrio.read_info(
                    path, layer=name, force_total_bounds=True)["total_bounds"]
                to_lonlat = Transformer.from_crs(info["crs"], "EPSG:4326", always_xy=True)
                return float(to_lonlat.transform((xmin + xmax) / 2, (ymin + ymax) / 2)[1])
    return 0.0


def _keep_one_label(layers: list[dict[str, Any]]) -> None:
    """Label only the point layer where points and areas would repeat the same names."""
    labelled = [la for la in layers if la["label"]]
    if any(la["kind"] == "point" for la in labelled):
        for la in labelled:
            if la["kind"] != "point":
                la["label"] = None


def render_html(data: Mapping[str, Any]) -> str:
    """Return the self-contained page for the data of :func:`build_page_data`."""
    from agglonet import __version__

    lang = data["languages"][0]
    return _PAGE.substitute(
        html_lang=data["htmlLang"][lang], csp=CSP, version=__version__,
        leaflet_version=LEAFLET_VERSION,
        title=_escape(f"{data['title'][lang]} — {data['ui'][lang]['subtitle']}"),
        leaflet_css=leaflet_css(), page_css=_asset("webmap.css"), lang=lang,
        leaflet_js=leaflet_js(), data=_script_json(data), page_js=_asset("webmap.js"))


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def write_webmap(
    path: str | Path,
    *,
    inputs: Mapping[str, str | Path],
    quality: QualityFact,
    attribution: Sequence[str],
    languages: Sequence[str] = ("zh", "en"),
    title: Mapping[str, str] | str | None = None,
    max_zoom: int = 12,
    raster_max_px: int = 2048,
) -> Path:
    """Write the interactive map of one cluster as one self-contained HTML file.

    Parameters
    ----------
    path
        ``results/{cluster}/map.html``.
    inputs
        Catalogue key → path: GeoPackages among :data:`VECTOR_KEYS` (``boundaries`` also gives
        the title) and rasters among :data:`RASTER_KEYS`; keys missing are left out of the map.
    quality
        The run's quality fact (the caveat shown on the map).
    attribution
        Attribution lines (:func:`agglonet.provenance.attributions`); the OpenStreetMap line
        also goes in the map's corner.
    languages
        Languages of the page, the first shown when it opens (``zh``, ``en``).
    title
        Map title (one string, or one per language); default: the cluster's names from
        ``boundaries``.
    max_zoom
        Deepest zoom level of the map. Lines and polygons are simplified to one screen pixel
        at that zoom (31 m at zoom 12 and 35° N), invisible at every zoom the map allows.
    raster_max_px
        Longest side of a raster overlay in pixels (larger rasters are resampled).

    Returns
    -------
    pathlib.Path
        The HTML file.

    Raises
    ------
    DataError
        If an input file is missing or a layer cannot be drawn.
    ConfigError
        If a language is unknown.
    """
    langs = labels.check_languages(tuple(languages))
    data = build_page_data(inputs=inputs, quality=quality, attribution=attribution,
                           languages=langs, title=title, max_zoom=max_zoom,
                           raster_max_px=raster_max_px)
    page = render_html(data)
    path = Path(path)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(page, encoding="utf-8")
    logger.info("wrote web map %s (%.0f kB, %d layers, %d rasters)", path,
                len(page.encode("utf-8")) / 1000, len(data["layers"]), len(data["rasters"]))
    return path
