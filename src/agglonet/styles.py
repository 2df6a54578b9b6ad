"""Default QGIS styles for agglonet's layers and rasters.

Vector layers get their style stored inside the GeoPackage, in the ``layer_styles`` table that
QGIS itself writes ("Save style → in database"): QGIS applies the row flagged ``useAsDefault``
when the layer is loaded. Rasters get a QML sidecar (``travel_time_min.qml`` next to
``travel_time_min.tif``), which QGIS loads automatically for a raster of the same name.

The styles are QGIS 3 QML written with :mod:`xml.etree.ElementTree` (no QGIS needed). Symbol
properties use the ``<prop k= v=>`` form, which every QGIS 3.x release reads. Class breaks are
computed from the data (quantiles), so a style fits the layer it is stored with.

The two hooks called by :mod:`agglonet.io` are :func:`apply_default_styles` and
:func:`raster_qml`.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import rasterio.enums

from agglonet import outputs
from agglonet.errors import DataError

logger = logging.getLogger(__name__)

#: QGIS version the QML claims to come from (the oldest QGIS the styles are tested with).
QGIS_VERSION = "3.22.16-Białowieża"
#: Opacity of the member cities' fill: at most 10 %, so nothing beneath is hidden.
CITY_FILL_ALPHA = 0.08
#: Name under which the default style of each layer is stored in ``layer_styles``.
STYLE_NAME = "agglonet default"
#: Name of the style table QGIS reads.
LAYER_STYLES_TABLE = "layer_styles"

#: Land-cover classes of ``landcover.tif`` (code → (label, colour)).
LANDCOVER_PALETTE: dict[int, tuple[str, str]] = {
    1: ("forest", "#1b7837"),
    2: ("shrub", "#8c9d3b"),
    3: ("grassland", "#c2e699"),
    4: ("wetland", "#41b6c4"),
    5: ("water", "#2166ac"),
    6: ("cropland", "#f6e8a8"),
    7: ("built", "#d7301f"),
    8: ("bare", "#bdb5a7"),
}
#: MSPA byte values of ``mspa.tif`` (GWB codes: +100 internal, 35/37/67/69 transitions, 100 and
#: 220 openings) → (label, colour); GuidosToolbox colours, internal classes a shade darker.
MSPA_PALETTE: dict[int, tuple[str, str]] = {
    0: ("background", "#f0f0f0"),
    1: ("branch", "#ff8c00"),
    101: ("branch (internal)", "#c06a00"),
    3: ("edge", "#000000"),
    103: ("edge (internal)", "#555555"),
    5: ("perforation", "#0000ff"),
    105: ("perforation (internal)", "#0000a0"),
    9: ("islet", "#a0522d"),
    109: ("islet (internal)", "#6e3a1f"),
    17: ("core", "#00c800"),
    117: ("core (internal)", "#008c00"),
    33: ("bridge", "#ff0000"),
    133: ("bridge (internal)", "#b40000"),
    35: ("bridge in edge", "#ff7070"),
    135: ("bridge in edge (internal)", "#d05050"),
    37: ("bridge in perforation", "#ff7070"),
    137: ("bridge in perforation (internal)", "#d05050"),
    65: ("loop", "#ffff00"),
    165: ("loop (internal)", "#c8c800"),
    67: ("loop in edge", "#ffff96"),
    167: ("loop in edge (internal)", "#dcdc78"),
    69: ("loop in perforation", "#ffff96"),
    169: ("loop in perforation (internal)", "#dcdc78"),
    100: ("core-opening", "#dcdcff"),
    220: ("border-opening", "#e0e0e0"),
}
#: Road classes (``highway``) → (colour, width mm), most important first.
ROAD_CLASSES: dict[str, tuple[str, float]] = {
    "motorway": ("#e31a1c", 1.2),
    "trunk": ("#fd8d3c", 1.0),
    "primary": ("#feb24c", 0.8),
    "secondary": ("#636363", 0.6),
    "tertiary": ("#969696", 0.4),
}
#: Corridor classes written by the ecology stage → (colour, width mm).
CORRIDOR_CLASSES: dict[str, tuple[str, float]] = {
    "primary": ("#00441b", 1.4),
    "secondary": ("#238b45", 0.9),
    "general": ("#74c476", 0.5),
}
#: Statuses of a scenario's corridors (layer ``corridors_changed``) → (colour, width mm).
CORRIDOR_STATUSES: dict[str, tuple[str, float]] = {
    "changed": ("#ff7f0e", 0.9),
    "new": ("#2ca02c", 0.9),
    "removed": ("#7f7f7f", 0.6),
    "unchanged": ("#c7e9c0", 0.4),
}
#: Statuses of a scenario's edited road links (layer ``roads_edited``) → (colour, width mm).
EDITED_ROAD_STATUSES: dict[str, tuple[str, float]] = {
    "added": ("#1a1a1a", 1.2),
    "closed": ("#d62728", 1.0),
    "changed": ("#9467bd", 1.0),
}

_GEOM_KIND = {"Point": "marker", "LineString": "line", "Polygon": "fill"}
_LAYER_GEOMETRY_TYPE = {"marker": "0", "line": "1", "fill": "2"}


# --------------------------------------------------------------------------------------- colours
def _rgba(color: str | Sequence[float], alpha: float = 1.0) -> str:
    """QGIS colour string ``r,g,b,a`` (0–255) from a matplotlib colour."""
    r, g, b, a = matplotlib.colors.to_rgba(color, alpha)  # type: ignore[arg-type]
    return ",".join(str(round(v * 255)) for v in (r, g, b, a))


def _hex(color: str | Sequence[float]) -> str:
    return matplotlib.colors.to_hex(color, keep_alpha=False)  # type: ignore[arg-type]


def ramp_colors(cmap: str, n: int) -> list[str]:
    """``n`` hex colours sampled evenly from a matplotlib colormap (low → high)."""
    colormap = matplotlib.colormaps[cmap]
    if n == 1:
        return [_hex(colormap(0.75))]
    return [_hex(colormap(0.3 + 0.7 * i / (n - 1))) for i in range(n)]


# --------------------------------------------------------------------------------------- symbols
def _symbol(kind: str, name: str, *, color: str, size_mm: float | None = None,
            width_mm: float | None = None, outline: str = "#232323", fill_alpha: float = 1.0,
            shape: str = "circle", outline_width_mm: float = 0.2) -> ET.Element:
    """Return a one-layer QGIS symbol (SimpleMarker / SimpleLine / SimpleFill)."""
    sym = ET.Element("symbol", {"type": kind, "name": name, "alpha": "1",
                                "clip_to_extent": "1", "force_rhr": "0"})
    if kind == "marker":
        props = {"name": shape, "color": _rgba(color), "outline_color": _rgba(outline),
                 "outline_width": str(outline_width_mm), "outline_width_unit": "MM",
                 "size": f"{size_mm or 2.0:g}", "size_unit": "MM", "scale_method": "diameter",
                 "angle": "0", "offset": "0,0", "offset_unit": "MM", "outline_style": "solid",
                 "joinstyle": "bevel", "horizontal_anchor_point": "1",
                 "vertical_anchor_point": "1"}
        cls = "SimpleMarker"
    elif kind == "line":
        props = {"line_color": _rgba(color), "line_width": f"{width_mm or 0.4:g}",
                 "line_width_unit": "MM", "line_style": "solid", "capstyle": "round",
                 "joinstyle": "round", "offset": "0", "offset_unit": "MM"}
        cls = "SimpleLine"
    else:
        props = {"color": _rgba(color, fill_alpha) if fill_alpha > 0 else "0,0,0,0",
                 "style": "solid" if fill_alpha > 0 else "no",
                 "outline_color": _rgba(outline), "outline_style": "solid",
                 "outline_width": f"{width_mm or 0.26:g}", "outline_width_unit": "MM",
                 "joinstyle": "bevel", "offset": "0,0", "offset_unit": "MM"}
        cls = "SimpleFill"
    layer = ET.SubElement(sym, "layer", {"class": cls, "pass": "0", "locked": "0",
                                         "enabled": "1"})
    for k, v in props.items():
        ET.SubElement(layer, "prop", {"k": k, "v": v})
    return sym


def _qgis_root(*, labels: bool = False) -> ET.Element:
    return ET.Element("qgis", {"version": QGIS_VERSION, "styleCategories": "Symbology|Labeling",
                               "labelsEnabled": "1" if labels else "0"})


def _single_renderer(symbol: ET.Element) -> ET.Element:
    renderer = ET.Element("renderer-v2", {"type": "singleSymbol", "symbollevels": "0",
                                          "forceraster": "0", "enableorderby": "0"})
    symbols = ET.SubElement(renderer, "symbols")
    symbol.set("name", "0")
    symbols.append(symbol)
    return renderer


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def legend_number(value: float, *, digits: int = 3) -> str:
    """Return ``value`` with ``digits`` significant digits, no exponent, thousands separated.

    Examples
    --------
    >>> legend_number(38328600.0), legend_number(0.120625), legend_number(4.1e-06, digits=2)
    ('38,300,000', '0.121', '0.0000041')
    """
    text = str(np.format_float_positional(value, precision=digits, unique=False,
                                          fractional=False, trim="-"))
    whole, dot, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = f"{int(whole.lstrip('-') or 0):,}"
    return f"{sign}{whole}{dot}{frac}"


def _fmt_small(value: float) -> str:
    """Two significant digits (``0.0000041``): legend labels of small indices."""
    return legend_number(value, digits=2)


def class_breaks(values: Iterable[float], *, n_classes: int = 5) -> list[float]:
    """Quantile class breaks (``n+1`` increasing edges) of the finite values; ``[]`` if none.

    Duplicate edges (many equal values) are merged, so fewer classes may come back.
    """
    arr = np.asarray(pd.to_numeric(pd.Series(list(values)), errors="coerce"), dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return []
    edges = np.unique(np.quantile(arr, np.linspace(0.0, 1.0, n_classes + 1)))
    if edges.size == 1:
        return [float(edges[0]), float(edges[0])]
    return [float(e) for e in edges]


def _graduated_renderer(
    field: str, values: Iterable[float], *, kind: str, cmap: str | None = None,
    color: str = "#3182bd", sizes_mm: tuple[float, float] | None = None,
    widths_mm: tuple[float, float] | None = None, n_classes: int = 5,
    label: Callable[[float], str] = legend_number, draw_high_on_top: bool = False,
) -> ET.Element | None:
    """Graduated renderer (quantile classes): colour ramp, and/or marker sizes / line widths.

    One class only (all values equal) gets the middle of the size/width range, not its smallest
    end. ``draw_high_on_top`` orders features by ``field`` ascending, so the highest values are
    drawn last (on top).
    """
    edges = class_breaks(values, n_classes=n_classes)
    if not edges:
        return None
    n = len(edges) - 1
    colors = ramp_colors(cmap, n) if cmap else [color] * n
    varied_size = sizes_mm is not None and sizes_mm[0] != sizes_mm[1]
    method = "GraduatedSize" if varied_size else "GraduatedColor"
    renderer = ET.Element("renderer-v2", {"type": "graduatedSymbol", "attr": field,
                                          "graduatedMethod": method, "symbollevels": "0",
                                          "forceraster": "0",
                                          "enableorderby": "1" if draw_high_on_top else "0"})
    ranges = ET.SubElement(renderer, "ranges")
    symbols = ET.SubElement(renderer, "symbols")
    for i in range(n):
        lo, hi = edges[i], edges[i + 1]
        ET.SubElement(ranges, "range", {"lower": repr(lo), "upper": repr(hi), "symbol": str(i),
                                        "label": f"{label(lo)} – {label(hi)}", "render": "true"})
        t = i / (n - 1) if n > 1 else 0.5
        size = sizes_mm[0] + t * (sizes_mm[1] - sizes_mm[0]) if sizes_mm else None
        width = widths_mm[0] + t * (widths_mm[1] - widths_mm[0]) if widths_mm else None
        symbols.append(_symbol(kind, str(i), color=colors[i], size_mm=size, width_mm=width))
    ET.SubElement(renderer, "mode", {"name": "quantile"})
    ET.SubElement(renderer, "classificationMethod", {"id": "Quantile"})
    if draw_high_on_top:
        orderby = ET.SubElement(renderer, "orderby")
        ET.SubElement(orderby, "orderByClause", {"asc": "1", "nullsFirst": "1"}).text = \
            f'"{field}"'
    return renderer


def _categorized_renderer(field: str, categories: Mapping[str, tuple[str, float]], *,
                          kind: str, other: tuple[str, float] = ("#bdbdbd", 0.3)) -> ET.Element:
    """Categorised renderer; values not listed fall into a grey "other" class."""
    renderer = ET.Element("renderer-v2", {"type": "categorizedSymbol", "attr": field,
                                          "symbollevels": "0", "forceraster": "0",
                                          "enableorderby": "0"})
    cats = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    items = [*categories.items(), ("", other)]
    for i, (value, (color, width)) in enumerate(items):
        ET.SubElement(cats, "category", {"value": value, "symbol": str(i),
                                         "label": value or "other", "render": "true"})
        symbols.append(_symbol(kind, str(i), color=color, width_mm=width, size_mm=width * 3))
    return renderer


def _labeling(field: str, *, size_pt: float = 9.0, bold: bool = False,
              placement: str = "0") -> ET.Element:
    """Return simple labelling on ``field`` with a white halo."""
    labeling = ET.Element("labeling", {"type": "simple"})
    settings = ET.SubElement(labeling, "settings", {"calloutType": "simple"})
    ET.SubElement(settings, "text-style", {
        "fieldName": field, "isExpression": "0", "fontFamily": "Sans Serif",
        "fontSize": f"{size_pt:g}", "fontSizeUnit": "Point", "fontWeight": "75" if bold else "50",
        "textColor": "30,30,30,255", "textOpacity": "1",
        "namedStyle": "Bold" if bold else "Regular",
        "fontItalic": "0", "fontUnderline": "0", "fontStrikeout": "0", "multilineHeight": "1",
        "blendMode": "0", "capitalization": "0", "allowHtml": "0", "useSubstitutions": "0",
    })
    ET.SubElement(settings, "text-buffer", {
        "bufferDraw": "1", "bufferSize": "0.8", "bufferSizeUnits": "MM",
        "bufferColor": "255,255,255,255", "bufferOpacity": "0.9", "bufferNoFill": "1",
        "bufferJoinStyle": "128", "bufferBlendMode": "0",
    })
    ET.SubElement(settings, "text-format", {"wrapChar": "", "autoWrapLength": "0",
                                            "multilineAlign": "3", "plussign": "0"})
    ET.SubElement(settings, "placement", {"placement": placement, "dist": "1",
                                          "distUnits": "MM", "priority": "5",
                                          "placementFlags": "10", "quadOffset": "2"})
    ET.SubElement(settings, "rendering", {"obstacle": "1", "displayAll": "0",
                                          "scaleVisibility": "0", "drawLabels": "1",
                                          "upsidedownLabels": "0", "labelPerPart": "0",
                                          "mergeLines": "0", "limitNumLabels": "0",
                                          "fontLimitPixelSize": "0", "zIndex": "0"})
    return labeling


# ------------------------------------------------------------------------------------ vector QML
def _first_numeric(frame: pd.DataFrame, candidates: Sequence[str]) -> str | None:
    for name in candidates:
        if name in frame.columns and pd.api.types.is_numeric_dtype(frame[name]) \
                and frame[name].notna().any():
            return name
    return None


def vector_style(layer: str, frame: pd.DataFrame, *, geometry_type: str) -> ET.Element:
    """Build the QML document (``<qgis>`` element) for one vector layer.

    Parameters
    ----------
    layer
        Layer name; selects the style (``seats``, ``roads``, ``corridors``, ``pinch_points``,
        ``road_crossings``, ``border_gaps``, ``cities``, ...). Unknown layers get a plain single
        symbol.
    frame
        The layer's attributes (only the columns a style classifies on are needed); graduated
        classes are quantiles of these values.
    geometry_type
        OGR geometry type name (``Point``, ``MultiLineString``, ``Polygon`` ...).

    Returns
    -------
    xml.etree.ElementTree.Element
        The ``<qgis>`` root of the QML document.
    """
    base = geometry_type.replace("Multi", "").replace(" Z", "").replace("25D", "").strip()
    kind = _GEOM_KIND.get(base)
    if kind is None:
        raise DataError(f"layer {layer!r} has geometry type {geometry_type!r}; expected "
                        "(Multi)Point, (Multi)LineString or (Multi)Polygon")
    renderer: ET.Element | None = None
    labeling: ET.Element | None = None

    if layer == "seats":
        field = _first_numeric(frame, ["watt_min", "potential_access", "population"])
        if field:
            renderer = _graduated_renderer(field, frame[field], kind=kind, cmap="RdYlGn_r",
                                           sizes_mm=(3.2, 3.2))
        renderer = renderer or _single_renderer(_symbol(kind, "0", color="#d7301f", size_mm=3))
        labeling = _labeling("name_en", size_pt=9, bold=True, placement="0")
    elif layer == "county_seats":
        renderer = _single_renderer(_symbol(kind, "0", color="#737373", size_mm=1.4))
    elif layer == "cities":
        # a faint fill (8 %): the layers beneath (land cover, sources) stay readable
        renderer = _single_renderer(_symbol(kind, "0", color="#fff7e6", fill_alpha=CITY_FILL_ALPHA,
                                            outline="#525252", width_mm=0.5))
        labeling = _labeling("name_en", size_pt=10, bold=True, placement="1")
    elif layer == "counties":
        renderer = _single_renderer(_symbol(kind, "0", color="#ffffff", fill_alpha=0.0,
                                            outline="#bdbdbd", width_mm=0.15))
    elif layer == "cluster":
        renderer = _single_renderer(_symbol(kind, "0", color="#ffffff", fill_alpha=0.0,
                                            outline="#000000", width_mm=0.9))
    elif layer == "roads" and "highway" in frame.columns:
        renderer = _categorized_renderer("highway", ROAD_CLASSES, kind=kind)
    elif layer == "od_links":
        field = _first_numeric(frame, ["linkage", "linkage_strength", "r_ij", "gravity",
                                       "travel_time_min"])
        if field:
            renderer = _graduated_renderer(field, frame[field], kind=kind, cmap="Purples",
                                           widths_mm=(0.3, 1.6))
    elif layer == "corridors":
        field = _first_numeric(frame, ["gravity"])
        if field:
            renderer = _graduated_renderer(field, frame[field], kind=kind, cmap="Greens",
                                           widths_mm=(0.4, 1.6))
        elif "corridor_class" in frame.columns:
            renderer = _categorized_renderer("corridor_class", CORRIDOR_CLASSES, kind=kind)
    elif layer == "corridor_areas":
        renderer = _single_renderer(_symbol(kind, "0", color="#a1d99b", fill_alpha=0.35,
                                            outline="#74c476", width_mm=0.1))
    elif layer == "sources":
        renderer = _single_renderer(_symbol(kind, "0", color="#006d2c", fill_alpha=0.6,
                                            outline="#00441b", width_mm=0.3))
    elif layer == "pinch_points":  # pinch zones: polygons, filled by peak current
        field = _first_numeric(frame, ["peak_current", "current_density"])
        if field and kind == "fill":
            renderer = _graduated_renderer(field, frame[field], kind=kind, cmap="YlOrRd")
        elif field:
            renderer = _graduated_renderer(field, frame[field], kind=kind, color="#ff7f00",
                                           sizes_mm=(1.5, 5.0))
    elif layer == "road_crossings":
        # priority shown twice, by colour and by size; the highest drawn on top
        field = _first_numeric(frame, ["priority"])
        if field:
            renderer = _graduated_renderer(field, frame[field], kind=kind, cmap="YlOrRd",
                                           sizes_mm=(1.8, 5.0), label=_fmt_small,
                                           draw_high_on_top=True)
        renderer = renderer or _single_renderer(_symbol(kind, "0", color="#e31a1c",
                                                        size_mm=4.0))
    elif layer == "border_gaps":
        # size = the linkage-weighted time closing the gap saves; the label is its rank
        field = _first_numeric(frame, ["linkage_time_saved"])
        if field:
            renderer = _graduated_renderer(field, frame[field], kind=kind, color="#d95f02",
                                           sizes_mm=(2.0, 5.0))
        renderer = renderer or _single_renderer(_symbol(kind, "0", color="#d95f02", size_mm=3))
        labeling = _labeling("rank", size_pt=8, bold=True, placement="0")
    elif layer == "corridors_changed" and "status" in frame.columns:
        renderer = _categorized_renderer("status", CORRIDOR_STATUSES, kind=kind)
    elif layer == "roads_edited" and "status" in frame.columns:
        renderer = _categorized_renderer("status", EDITED_ROAD_STATUSES, kind=kind)
    elif layer == "barriers":
        renderer = _single_renderer(_symbol(kind, "0", color="#6a3d9a", size_mm=3,
                                            shape="cross2", outline="#6a3d9a",
                                            outline_width_mm=0.5))
    if renderer is None:
        renderer = _single_renderer(_symbol(kind, "0", color="#3182bd", size_mm=2,
                                            width_mm=0.4, fill_alpha=0.4))
    root = _qgis_root(labels=labeling is not None)
    root.append(renderer)
    if labeling is not None:
        root.append(labeling)
    ET.SubElement(root, "layerGeometryType").text = _LAYER_GEOMETRY_TYPE[kind]
    return root


def to_qml(root: ET.Element) -> str:
    """Serialise a ``<qgis>`` element as a QML document."""
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


# ------------------------------------------------------------------------------------ raster QML
def _pipe_root(renderer: ET.Element) -> ET.Element:
    root = ET.Element("qgis", {"version": QGIS_VERSION, "styleCategories": "AllStyleCategories",
                               "hasScaleBasedVisibilityFlag": "0", "minScale": "1e+08",
                               "maxScale": "0"})
    pipe = ET.SubElement(root, "pipe")
    provider = ET.SubElement(pipe, "provider")
    ET.SubElement(provider, "resampling", {"enabled": "false", "maxOversampling": "2",
                                           "zoomedInResamplingMethod": "nearestNeighbour",
                                           "zoomedOutResamplingMethod": "nearestNeighbour"})
    pipe.append(renderer)
    ET.SubElement(pipe, "brightnesscontrast", {"brightness": "0", "contrast": "0", "gamma": "1"})
    ET.SubElement(pipe, "huesaturation", {"saturation": "0", "grayscaleMode": "0",
                                          "colorizeOn": "0", "invertColors": "0"})
    ET.SubElement(pipe, "rasterresampler", {"maxOversampling": "2"})
    ET.SubElement(pipe, "resamplingStage").text = "resamplingFilter"
    ET.SubElement(root, "blendMode").text = "0"
    return root


def paletted_style(palette: Mapping[int, tuple[str, str]]) -> ET.Element:
    """QML for a class raster: one colour per code (codes not listed are left transparent)."""
    renderer = ET.Element("rasterrenderer", {"type": "paletted", "band": "1", "opacity": "1",
                                             "alphaBand": "-1", "nodataColor": ""})
    pal = ET.SubElement(renderer, "colorPalette")
    for code, (label, color) in sorted(palette.items()):
        ET.SubElement(pal, "paletteEntry", {"value": str(code), "color": _hex(color),
                                            "alpha": "255", "label": label})
    return _pipe_root(renderer)


def pseudocolor_style(values: np.ndarray, *, cmap: str, unit: str = "",
                      n_stops: int = 9) -> ET.Element:
    """QML for a continuous raster: an interpolated colour ramp with stops at data quantiles.

    Stops at quantiles (rather than evenly between min and max) keep skewed surfaces such as
    current density or cost distance readable.
    """
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        stops = np.array([0.0, 1.0])
    else:
        stops = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, n_stops)))
        if stops.size == 1:
            stops = np.array([stops[0], stops[0] + 1.0])
    return _ramp_style(stops, cmap=cmap, unit=unit)


#: Rasters of differences (scenario − baseline): a diverging ramp centred on zero.
DIVERGING_RASTERS = frozenset({"travel_time_diff_min", "current_density_diff"})
#: Percentile of |value| a diverging ramp spans (a few extreme cells do not wash it out).
DIVERGING_PERCENTILE = 98.0


def symmetric_span(values: np.ndarray, *, percentile: float = DIVERGING_PERCENTILE) -> float:
    """Half-width of a diverging ramp centred on zero: a high percentile of |change| ≠ 0.

    Returns 1 when no cell changed (so that an all-zero difference still draws, in the middle
    colour).

    Examples
    --------
    >>> symmetric_span(np.array([-4.0, 0.0, 2.0, np.nan]), percentile=100)
    4.0
    >>> symmetric_span(np.zeros(3))
    1.0
    """
    values = np.asarray(values, dtype=float)
    changed = np.abs(values[np.isfinite(values) & (values != 0)])
    if changed.size == 0:
        return 1.0
    # of the changed cells: a scenario changes few cells, and zeros would shrink the span to 0
    return float(np.percentile(changed, percentile))


def diverging_style(values: np.ndarray, *, cmap: str, unit: str = "",
                    n_stops: int = 9) -> ET.Element:
    """QML for a difference raster: ``n_stops`` even stops from −span to +span, zero in the middle.

    ``span`` is :func:`symmetric_span` of the values, so the middle colour of the ramp is no
    change whatever the sign of most cells.
    """
    span = symmetric_span(values)
    return _ramp_style(np.linspace(-span, span, n_stops), cmap=cmap, unit=unit)


def _ramp_style(stops: np.ndarray, *, cmap: str, unit: str) -> ET.Element:
    colors = ramp_colors(cmap, stops.size)
    renderer = ET.Element("rasterrenderer", {
        "type": "singlebandpseudocolor", "band": "1", "opacity": "1", "alphaBand": "-1",
        "classificationMin": repr(float(stops[0])), "classificationMax": repr(float(stops[-1])),
        "nodataColor": ""})
    mmo = ET.SubElement(renderer, "minMaxOrigin")
    for tag, text in (("limits", "None"), ("extent", "WholeRaster"),
                      ("statAccuracy", "Exact"), ("cumulativeCutLower", "0.02"),
                      ("cumulativeCutUpper", "0.98"), ("stdDevFactor", "2")):
        ET.SubElement(mmo, tag).text = text
    shader = ET.SubElement(ET.SubElement(renderer, "rastershader"), "colorrampshader", {
        "colorRampType": "INTERPOLATED", "classificationMode": "1", "clip": "0",
        "minimumValue": repr(float(stops[0])), "maximumValue": repr(float(stops[-1])),
        "labelPrecision": "2"})
    suffix = f" {unit}" if unit else ""
    for value, color in zip(stops, colors, strict=True):
        ET.SubElement(shader, "item", {"value": repr(float(value)), "color": color,
                                       "alpha": "255", "label": f"{_fmt(value)}{suffix}"})
    return _pipe_root(renderer)


def raster_style(name: str, values: np.ndarray) -> ET.Element:
    """QML document for a raster chosen by its file stem (``landcover``, ``mspa``, ramps)."""
    if name == "landcover":
        return paletted_style(LANDCOVER_PALETTE)
    if name == "mspa":
        return paletted_style(MSPA_PALETTE)
    entry = outputs.raster(name)
    cmap, unit = (entry.cmap, entry.unit) if entry and entry.cmap else ("Greys", "")
    if name in DIVERGING_RASTERS:
        return diverging_style(values, cmap=cmap, unit=unit)
    return pseudocolor_style(values, cmap=cmap, unit=unit)


def stretch_values(raster_path: str | Path, name: str) -> np.ndarray:
    """Values of band 1 a raster's colour ramp is stretched on (NaN for nodata).

    When the raster's catalogue entry names a ``stretch_band`` (:class:`agglonet.outputs.Raster`),
    only the cells flagged 1 in that band count (e.g. the cells inside the cluster of the
    travel-time surfaces, so far buffer corners do not stretch the ramp); else every cell.

    Parameters
    ----------
    raster_path
        The raster to read.
    name
        Its file stem (the catalogue key).
    """
    entry = outputs.raster(name)
    band = entry.stretch_band if entry is not None else None
    with rasterio.open(raster_path) as src:
        # Overviews keep this cheap on large rasters; class rasters need no values at all.
        factor = max(1, max(src.width, src.height) // 2048)
        shape = (max(1, src.height // factor), max(1, src.width // factor))
        values = np.ma.filled(src.read(1, masked=True, out_shape=shape).astype(float), np.nan)
        if band is not None and band <= src.count:
            flag = src.read(band, out_shape=shape, resampling=rasterio.enums.Resampling.nearest)
            values = values[flag == 1]
    return values.ravel()


def raster_qml(raster_path: str | Path, name: str) -> str:
    """QML style of a raster, chosen by its file stem ``name`` (the sidecar's text).

    Parameters
    ----------
    raster_path
        The raster to read values from (the temporary file while it is being written).
    name
        The stem of the file it becomes (``landcover``, ``mspa``, ``travel_time_min`` ...).

    Returns
    -------
    str
        The QML document; :func:`agglonet.io.write_raster` writes it beside the raster. A
        continuous ramp has its stops at quantiles of :func:`stretch_values`.
    """
    return to_qml(raster_style(name, stretch_values(raster_path, name)))


# ------------------------------------------------------------------- GeoPackage layer_styles
def _geometry_columns(conn: sqlite3.Connection) -> dict[str, str]:
    rows = conn.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall()
    return {t: c for t, c in rows}


def _update_time() -> str:
    """Timestamp of the style rows: ``SOURCE_DATE_EPOCH`` when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = (_dt.datetime.fromtimestamp(int(epoch), tz=_dt.UTC) if epoch
              else _dt.datetime.now(tz=_dt.UTC))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def style_rows(path: str | Path, layer_names: Iterable[str]) -> pd.DataFrame:
    """Return the ``layer_styles`` rows (one default style per spatial layer) for a GeoPackage."""
    path = Path(path)
    info = {name: gtype for name, gtype in pyogrio.list_layers(path)}
    with sqlite3.connect(path) as conn:
        geom_cols = _geometry_columns(conn)
    rows = []
    for layer in layer_names:
        gtype = info.get(layer)
        if layer not in geom_cols or gtype is None:
            continue  # attribute-only table: nothing to draw
        base = str(gtype).replace("Multi", "").replace(" Z", "").replace("25D", "").strip()
        if base not in _GEOM_KIND:  # e.g. "Unknown" for an empty layer: QGIS picks a default
            logger.info("no default style for layer %s (geometry type %s)", layer, gtype)
            continue
        fields = list(pyogrio.read_info(path, layer=layer)["fields"])
        wanted = [c for c in ("watt_min", "potential_access", "population", "highway", "gravity",
                              "corridor_class", "current_density", "peak_current", "priority",
                              "linkage", "linkage_strength", "r_ij", "travel_time_min", "status")
                  if c in fields]
        frame = (pyogrio.read_dataframe(path, layer=layer, columns=wanted, read_geometry=False)
                 if wanted else pd.DataFrame())
        qml = to_qml(vector_style(layer, frame, geometry_type=gtype))
        rows.append({"f_table_catalog": "", "f_table_schema": "", "f_table_name": layer,
                     "f_geometry_column": geom_cols[layer], "styleName": STYLE_NAME,
                     "styleQML": qml, "styleSLD": "", "useAsDefault": True,
                     "description": f"agglonet default style for {layer}", "owner": "",
                     "ui": "", "update_time": _update_time()})
    table = pd.DataFrame(rows)
    if not table.empty:
        table["update_time"] = pd.to_datetime(table["update_time"], utc=True)
    return table


def apply_default_styles(path: str | Path, layer_names: Iterable[str]) -> int:
    """Store a default QGIS style for each spatial layer in the GeoPackage's ``layer_styles``.

    The table has the columns and types QGIS creates ("Save style → in database"), and is
    written through GDAL/pyogrio as an attributes table, so it is registered in
    ``gpkg_contents`` (``data_type = attributes``) and ``gpkg_ogr_contents`` and neither GDAL
    nor QGIS warns about an unregistered table. Existing rows of the same layers are replaced.

    Parameters
    ----------
    path
        The GeoPackage (the hook passes the temporary file before it is moved into place).
    layer_names
        Layers to style; attribute-only layers are skipped.

    Returns
    -------
    int
        Number of styles stored.
    """
    path = Path(path)
    names = [n for n in layer_names if n != LAYER_STYLES_TABLE]
    rows = style_rows(path, names)
    if rows.empty:
        return 0
    existing = [n for n, _ in pyogrio.list_layers(path)]
    if LAYER_STYLES_TABLE in existing:
        with sqlite3.connect(path) as conn:
            conn.executemany(f'DELETE FROM "{LAYER_STYLES_TABLE}" WHERE f_table_name = ?',
                             [(n,) for n in rows["f_table_name"]])
    pyogrio.write_dataframe(rows, path, layer=LAYER_STYLES_TABLE, driver="GPKG",
                            append=LAYER_STYLES_TABLE in existing, layer_options={"FID": "id"})
    logger.info("stored %d default styles in %s", len(rows), path.name)
    return len(rows)


def read_styles(path: str | Path) -> dict[str, str]:
    """Default style QML per layer stored in a GeoPackage (``{}`` when it holds none)."""
    path = Path(path)
    if LAYER_STYLES_TABLE not in {n for n, _ in pyogrio.list_layers(path)}:
        return {}
    with sqlite3.connect(path) as conn:
        rows = conn.execute(f'SELECT f_table_name, styleQML FROM "{LAYER_STYLES_TABLE}" '
                            "WHERE useAsDefault ORDER BY id").fetchall()
    return {name: qml for name, qml in rows}
