"""Static PNG maps of a cluster's results (matplotlib; no web tiles, works offline).

Two maps per cluster and language (``export.language``: ``zh`` Simplified Chinese, ``en``
English), each with legend, scale bar, north arrow and attribution:

* ``accessibility.{lang}.png`` — travel-time surface, roads, city seats coloured by weighted
  average travel time and labelled, linkage lines between seats, the ten best-ranked border gaps;
* ``ecology.{lang}.png`` — ecological sources, corridors by importance, pinch zones shaded by
  peak current, road crossings sized by priority (with a size key), roads and labelled city seats
  over the land cover.

Legends sit under the map, so they hide nothing. Text is drawn in Noto Sans SC
(:mod:`agglonet.export.fonts`, installed with agglonet), which holds every character the maps
use in both languages.

Scale bar and north arrow are drawn by small helpers here (matplotlib-scalebar is not a
dependency); both assume a projected CRS in metres, which is what agglonet writes.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import geopandas as gpd
import matplotlib
import numpy as np
import pyogrio
import rasterio
import rasterio.features
import rasterio.transform
import shapely
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.path import Path as MplPath
from pyproj import CRS, Transformer

from agglonet import outputs
from agglonet.export import fonts, labels
from agglonet.io import atomic_path, read_layer
from agglonet.provenance import STANDARD_ATTRIBUTIONS
from agglonet.quality import ILLUSTRATIVE, MEASURED, QualityFact
from agglonet.styles import LANDCOVER_PALETTE

logger = logging.getLogger(__name__)

PROXY_NOTE = labels.MAP_TEXT["proxy_note"][1]
#: Maps a cluster gets per language.
MAP_NAMES: tuple[str, ...] = ("accessibility", "ecology")
_INPUT_NAMES_ZH = {"landcover": "土地覆盖", "dem": "高程"}


def map_file_name(name: str, language: str) -> str:
    """File name of one map in one language (``accessibility.zh.png``)."""
    return f"{name}.{language}.png"


def coarse_input_note(quality: QualityFact, language: str = "en") -> str | None:
    """Caveat line of the ecology map when the ecology rests on coarse inputs, else ``None``.

    Examples
    --------
    >>> from agglonet.quality import decide_quality
    >>> fact = decide_quality(roads_source="osm", grid_resolution_m=1000,
    ...                       input_resolutions_m={"landcover": 5340.0, "dem": 900.0})
    >>> coarse_input_note(fact).split(" — ")[0]
    'Ecology approximate: landcover native ≈ 5.34 km on a 1 km grid'
    >>> coarse_input_note(fact, "zh").split("——")[0]
    '生态结果为近似值：土地覆盖 原始分辨率约 5.34 km，网格 1 km'
    """
    if quality.ecology_quality == MEASURED or not quality.coarse_inputs:
        return None
    names = _INPUT_NAMES_ZH if language == "zh" else {}
    sep = "，" if language == "zh" else ", "
    inputs = sep.join(labels.text("coarse_input", language, name=names.get(name, name),
                                  km=f"{native_m / 1000:.3g}")
                      for name, native_m in sorted(quality.coarse_inputs.items()))
    grid = (labels.text("coarse_grid", language, km=f"{quality.grid_resolution_m / 1000:.3g}")
            if quality.grid_resolution_m else "")
    return labels.text("coarse_note", language, level=quality.ecology_quality, inputs=inputs,
                       grid=grid)


_FIGSIZE = (9.0, 9.0)
#: The accessibility map has two colour bars beside it: a wider figure.
_FIGSIZE_WIDE = (10.5, 8.0)
_DPI = 130
#: Colour of the roads drawn under the map's own layers.
_ROAD_COLOR = "#6b6b6b"


def _font_rc() -> dict[Any, Any]:
    """Matplotlib settings that draw every text of a map in the packaged CJK font."""
    family = fonts.use_in_matplotlib()
    # the family list itself (not the generic "sans-serif"): texts keep it after the context
    return {"font.family": [family, "DejaVu Sans"], "axes.unicode_minus": False}


@contextlib.contextmanager
def _fonts_context() -> Iterator[None]:
    """Context in which matplotlib draws with :func:`_font_rc`'s settings."""
    with matplotlib.rc_context():
        matplotlib.rcParams.update(_font_rc())
        yield


# ------------------------------------------------------------------------- map furniture
def nice_length_m(span_m: float) -> float:
    """Return a round scale-bar length (1, 2 or 5 × 10^k m) close to a fifth of ``span_m``."""
    if not span_m > 0:
        raise ValueError(f"map span must be positive, got {span_m!r} m")
    target = span_m / 5.0
    exponent = math.floor(math.log10(target))
    for step in (5, 2, 1):
        if step * 10**exponent <= target:
            return float(step * 10**exponent)
    return float(10**exponent)


def scale_bar(ax: Axes, *, length_m: float | None = None,
              loc: tuple[float, float] = (0.04, 0.04)) -> float:
    """Draw a two-segment scale bar on an axes in metre coordinates; return its length (m).

    ``loc`` is the lower-left corner in axes fractions.
    """
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = length_m or nice_length_m(x1 - x0)
    bx = x0 + loc[0] * (x1 - x0)
    by = y0 + loc[1] * (y1 - y0)
    height = 0.012 * (y1 - y0)
    for i, color in enumerate(("black", "white")):
        ax.add_patch(Rectangle(
            (bx + i * length / 2, by), length / 2, height, facecolor=color, edgecolor="black",
            linewidth=0.8, zorder=20))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    for x, text in ((bx, "0"), (bx + length, label)):
        ax.text(x, by + 1.8 * height, text, ha="center", va="bottom", fontsize=8, zorder=20)
    return length


def north_angle_deg(crs: CRS | str, x: float, y: float) -> float:
    """Angle (degrees, counter-clockwise from the +y axis) of true north at ``(x, y)``.

    Computed by projecting a point 0.01° north of the map point; in an Albers projection it
    is the meridian convergence (a few degrees away from the central meridian).
    """
    crs = CRS.from_user_input(crs)
    to_geo = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
    to_map = Transformer.from_crs(crs.geodetic_crs, crs, always_xy=True)
    lon, lat = to_geo.transform(x, y)
    nx, ny = to_map.transform(lon, lat + 0.01)
    return math.degrees(math.atan2(-(nx - x), ny - y))


def north_arrow(ax: Axes, *, crs: CRS | str | None = None,
                loc: tuple[float, float] = (0.94, 0.86)) -> float:
    """Draw a north arrow (pointing to true north when ``crs`` is given); return its angle."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    angle = north_angle_deg(crs, (x0 + x1) / 2, (y0 + y1) / 2) if crs is not None else 0.0
    rad = math.radians(angle)
    length = 0.08
    dx, dy = -math.sin(rad) * length, math.cos(rad) * length
    ax.annotate("", xy=(loc[0] + dx / 2, loc[1] + dy / 2),
                xytext=(loc[0] - dx / 2, loc[1] - dy / 2), xycoords="axes fraction",
                arrowprops={"arrowstyle": "-|>,head_width=0.35,head_length=0.7", "lw": 2,
                            "color": "black"}, zorder=20)
    ax.text(loc[0] + dx * 0.75, loc[1] + dy * 0.75, "N", transform=ax.transAxes, ha="center",
            va="center", fontsize=12, zorder=20)
    return angle


def attribution_text(fig: Figure, lines: Sequence[str]) -> None:
    """Small attribution text at the bottom of the figure."""
    fig.text(0.01, 0.005, "\n".join(lines), ha="left", va="bottom", fontsize=6,
             color="#333333", wrap=True)


# ------------------------------------------------------------------------------- helpers
def _read_optional(path: Path, layer: str) -> gpd.GeoDataFrame | None:
    if not path.exists():
        return None
    if layer not in {n for n, _ in pyogrio.list_layers(path)}:
        return None
    return read_layer(path, layer)


def _raster(path: Path) -> tuple[np.ndarray, tuple[float, float, float, float]] | None:
    if not path.exists():
        return None
    with rasterio.open(path) as src:
        data = src.read(1, masked=True)
        b = src.bounds
    return np.ma.filled(data.astype(float), np.nan), (b.left, b.right, b.bottom, b.top)


def _stretch_mask(path: Path) -> np.ndarray | None:
    """Cells the colours of a raster span: its catalogue ``stretch_band`` equal to 1, if any."""
    entry = outputs.raster(path.stem)
    if not path.exists() or entry is None or entry.stretch_band is None:
        return None
    with rasterio.open(path) as src:
        if src.count < entry.stretch_band:
            return None
        return src.read(entry.stretch_band) == 1


# ------------------------------------------------------------------------------- rasters
# Block reductions written here with NumPy reshapes (skimage.measure.block_reduce pads with one
# value and applies one function; it has no NaN-aware majority rule nor a mode, and its
# np.nanmean warns on empty blocks).
def _blocks(values: np.ndarray, factor: int, fill: float) -> np.ndarray:
    """``values`` padded with ``fill`` to whole blocks, as ``(rows, factor, cols, factor)``."""
    rows, cols = -(-values.shape[0] // factor), -(-values.shape[1] // factor)
    padded = np.full((rows * factor, cols * factor), fill, dtype=np.result_type(values, fill))
    padded[:values.shape[0], :values.shape[1]] = values
    return padded.reshape(rows, factor, cols, factor)


def _real_cells(shape: tuple[int, ...], factor: int) -> np.ndarray:
    """Cells of the grid (not padding) in each ``factor`` × ``factor`` block."""
    per_row = np.minimum(factor, shape[0] - factor * np.arange(-(-shape[0] // factor)))
    per_col = np.minimum(factor, shape[1] - factor * np.arange(-(-shape[1] // factor)))
    return np.outer(per_row, per_col)


def block_mean(values: np.ndarray, factor: int) -> np.ndarray:
    """Mean of each ``factor`` × ``factor`` block of a continuous grid, ignoring NaN.

    A block is NaN when fewer than half of its cells are finite, so no-data areas keep their
    outline. Blocks at the right and bottom edges may be partial (the grid is not cropped).
    """
    blocks = _blocks(np.asarray(values, dtype=float), factor, np.nan)
    finite = np.isfinite(blocks)
    count = finite.sum(axis=(1, 3))
    total = np.where(finite, blocks, 0.0).sum(axis=(1, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
    return np.where(2 * count >= _real_cells(values.shape, factor), mean, np.nan)


def block_mode(values: np.ndarray, factor: int) -> np.ndarray:
    """Most frequent value of each ``factor`` × ``factor`` block of a grid of classes.

    NaN (and ±inf) counts as one more value, so a block mostly without class stays empty;
    ties go to the smallest value, NaN last. Blocks at the right and bottom edges may be partial.
    """
    values = np.where(np.isfinite(values), values, np.nan)
    classes = np.unique(values[~np.isnan(values)])
    blocks = _blocks(values, factor, np.inf)  # padding (inf) is neither a class nor NaN
    counts = np.zeros((classes.size + 1, blocks.shape[0], blocks.shape[2]),
                      dtype=np.min_scalar_type(factor * factor))
    for i in range(factor):  # one cell position of every block at a time: fast strided views
        for j in range(factor):
            cells = blocks[:, i, :, j]
            counts[:-1] += cells[np.newaxis] == classes[:, np.newaxis, np.newaxis]
            counts[-1] += np.isnan(cells)
    return np.append(classes, np.nan)[counts.argmax(axis=0)]


def _cells_per_pixel(fig: Figure, ax: Axes, image: AxesImage, shape: tuple[int, ...]
                     ) -> float:
    """Cells per pixel of a ``shape`` grid drawn as ``image`` by :func:`save_map` (``_DPI``)."""
    ax.apply_aspect()
    box = ax.get_position()
    left, right, bottom, top = image.get_extent()
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    cells_x = abs(x1 - x0) / abs(right - left) * shape[1]
    cells_y = abs(y1 - y0) / abs(top - bottom) * shape[0]
    return min(cells_x / (box.width * fig.get_figwidth() * _DPI),
               cells_y / (box.height * fig.get_figheight() * _DPI))


def _grid_image(ax: Axes, values: np.ndarray, reduce: str,
                images: dict[AxesImage, tuple[np.ndarray, str]], **kwargs: Any) -> AxesImage:
    """Image of a grid whose cells :func:`_finish` sets once the map's layout is known.

    ``kwargs`` go to ``imshow`` (``extent`` required); ``reduce`` is how the grid is reduced
    to the pixels it is drawn on (see :func:`_fit_image`). Drawing the full grid would cost a
    copy here and a resampling of every cell when the figure is saved.
    """
    image = ax.imshow(np.full((1, 1), np.nan), **kwargs)
    images[image] = (values, reduce)
    return image


def _fit_image(fig: Figure, ax: Axes, image: AxesImage, values: np.ndarray, reduce: str
               ) -> None:
    """Set an image's cells: ``values`` reduced to about the pixels the image is drawn on.

    ``reduce`` is ``mean`` (continuous values: :func:`block_mean`) or ``mode`` (classes:
    :func:`block_mode`). The reduced grid keeps at least one cell per pixel, so the map looks
    the same; its extent grows by the padding of partial edge blocks, which the axes clip.
    """
    factor = math.floor(_cells_per_pixel(fig, ax, image, values.shape))
    if factor < 2:
        image.set_data(values)
        return
    reduced = (block_mean if reduce == "mean" else block_mode)(values, factor)
    left, right, bottom, top = image.get_extent()
    dx = (right - left) / values.shape[1] * factor
    dy = (top - bottom) / values.shape[0] * factor
    limits = ax.get_xlim(), ax.get_ylim()
    image.set_data(reduced)
    image.set_extent((left, left + dx * reduced.shape[1], top - dy * reduced.shape[0], top))
    ax.set_xlim(*limits[0])
    ax.set_ylim(*limits[1])


def _finish(fig: Figure, ax: Axes, *, crs: CRS | str | None, attribution: Sequence[str],
            handles: Sequence, ncol: int = 3,
            images: Mapping[AxesImage, tuple[np.ndarray, str]] | None = None) -> Figure:
    """Furniture of a map: scale bar, north arrow, the legend under the map, attribution.

    Then the cells of the :func:`_grid_image` images (``images``) are set, the layout known.
    """
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    scale_bar(ax)
    north_arrow(ax, crs=crs)
    attribution_text(fig, attribution)
    bottom = 0.035 + 0.0105 * len(attribution)
    rows = math.ceil(len(handles) / ncol) if handles else 0
    legend_height = 0.024 * rows + (0.02 if rows else 0.0)
    if handles:
        fig.legend(handles=handles, loc="lower center", ncol=ncol, fontsize=7.5,
                   frameon=False, bbox_to_anchor=(0.5, bottom), handlelength=1.8,
                   columnspacing=1.4)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.94, bottom=bottom + legend_height)
    for image, (values, reduce) in (images or {}).items():
        _fit_image(fig, ax, image, values, reduce)
    return fig


def save_map(fig: Figure, path: str | Path) -> Path:
    """Write a map figure to a PNG (atomically)."""
    path = Path(path)
    with _fonts_context(), atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=_DPI, metadata={"Software": "agglonet"})
    return path


def figure_texts(fig: Figure) -> list[str]:
    """Every text a figure draws (titles, labels, legend and colour-bar entries, attribution)."""
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def _set_extent(ax: Axes, frames: Sequence[gpd.GeoDataFrame | None],
                extent: tuple[float, float, float, float] | None) -> None:
    if extent is not None:
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        return
    bounds = [f.total_bounds for f in frames if f is not None and not f.empty]
    if bounds:
        b = np.array(bounds)
        ax.set_xlim(b[:, 0].min(), b[:, 2].max())
        ax.set_ylim(b[:, 1].min(), b[:, 3].max())


# ---------------------------------------------------------------------------------- maps
class RoadLines(NamedTuple):
    """Road lines ready to draw: one matplotlib path per line, and their bounds."""

    paths: list[MplPath]
    #: ``(xmin, ymin, xmax, ymax)``; NaN when there are no lines.
    bounds: tuple[float, float, float, float]


def road_lines(roads: gpd.GeoDataFrame) -> RoadLines:
    """One matplotlib path per line (multi-line parts apart) of a road layer, x/y only.

    The lines of :func:`_plot_roads`, built once for all the maps of a cluster: the lines
    ``GeoDataFrame.plot`` draws, without its per-geometry Python work on every map.
    """
    parts = shapely.get_parts(roads.geometry.to_numpy())
    coords, index = shapely.get_coordinates(parts, return_index=True)
    splits = np.flatnonzero(np.diff(index)) + 1
    paths = [MplPath(xy, readonly=True) for xy in np.split(coords, splits)] if len(coords) \
        else []
    xmin, ymin, xmax, ymax = (float(v) for v in shapely.total_bounds(parts))
    return RoadLines(paths, (xmin, ymin, xmax, ymax))


def _plot_roads(ax: Axes, roads: gpd.GeoDataFrame | RoadLines | None, *,
                color: str = _ROAD_COLOR, linewidth: float = 0.35, alpha: float = 0.8,
                zorder: float = 3) -> bool:
    """Draw the road links thin, under the map's own layers; return whether any were drawn.

    ``roads`` is the road layer or its :func:`road_lines`.
    """
    if roads is None or (isinstance(roads, gpd.GeoDataFrame) and roads.empty):
        return False
    lines = road_lines(roads) if isinstance(roads, gpd.GeoDataFrame) else roads
    ax.add_collection(PathCollection(lines.paths, facecolors="none", edgecolors=color,
                                     linewidths=linewidth, alpha=alpha, zorder=zorder),
                      autolim=False)  # the bounds are known: no extent of 60 000 paths
    ax.update_datalim(np.reshape(lines.bounds, (2, 2)))
    ax.autoscale_view()
    return True


def _label_seats(ax: Axes, seats: gpd.GeoDataFrame | None, language: str, *,
                 marker: bool = False) -> None:
    """Name each seat once, in the map's language (``name_zh`` / ``name_en``)."""
    if seats is None or seats.empty:
        return
    column = f"name_{language}" if f"name_{language}" in seats.columns else next(
        (c for c in ("name_en", "name_zh", "name") if c in seats.columns), None)
    if marker:
        ax.scatter(seats.geometry.x, seats.geometry.y, s=14, color="black", zorder=14)
    if column is None:
        return
    for geom, name in zip(seats.geometry, seats[column], strict=True):
        ax.annotate(str(name), (geom.x, geom.y), xytext=(4, 4), textcoords="offset points",
                    fontsize=8, zorder=15,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.75, "lw": 0})


def _size_key(values: np.ndarray, sizes: np.ndarray, *, title: str, marker: str, color: str
              ) -> list:
    """Legend entries showing marker size against value: the smallest, median and largest."""
    order = np.argsort(values)
    picks = sorted({int(order[0]), int(order[len(order) // 2]), int(order[-1])},
                   key=lambda i: values[i])
    entries: list = [Line2D([], [], ls="", label=title)]
    for i in picks:
        entries.append(Line2D([], [], marker=marker, ls="", color=color, markeredgecolor="black",
                              markeredgewidth=0.4, markersize=math.sqrt(sizes[i]),
                              label=plain_number(values[i])))
    return entries


def plain_number(value: float, digits: int = 2) -> str:
    """Format a number with ``digits`` significant digits and no exponent.

    Examples
    --------
    >>> plain_number(3.6e-06), plain_number(0.0043), plain_number(1234.5)
    ('0.0000036', '0.0043', '1200')
    """
    if not np.isfinite(value):
        return ""
    text = np.format_float_positional(float(f"{value:.{digits}g}"), trim="-")
    return text


def accessibility_map(
    *,
    travel_time: tuple[np.ndarray, tuple[float, float, float, float]] | None,
    stretch: np.ndarray | None = None,
    seats: gpd.GeoDataFrame | None,
    od_links: gpd.GeoDataFrame | None,
    cities: gpd.GeoDataFrame | None,
    crs: CRS | str | None,
    title: str,
    attribution: Sequence[str],
    border_gaps: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | RoadLines | None = None,
    language: str = "en",
) -> Figure:
    """Travel-time surface, roads, seats (colour = ``watt_min``), linkage lines, border gaps.

    Parameters
    ----------
    travel_time
        ``(array, (left, right, bottom, top))`` of ``travel_time_min.tif``, or ``None``.
    stretch
        Boolean grid of the cells the colours span (band 2 of ``travel_time_min.tif``: the cells
        inside the cluster, as the QML style); ``None``: the cells inside ``cities``.
    seats, od_links, cities, roads
        Layers (any may be ``None``; ``roads`` may also be its :func:`road_lines`); od_links
        line width follows the first numeric column among ``linkage``, ``linkage_strength``,
        ``r_ij``, ``gravity``.
    crs
        CRS of the layers (for the north arrow).
    title, attribution
        Figure title and attribution lines.
    border_gaps
        Layer ``border_gaps`` of ``transport.gpkg`` (``None`` or empty: not drawn): the ten
        best-ranked road ends at a border, labelled with their ``rank``.
    language
        ``zh`` or ``en``: legend words and the seats' names.

    Returns
    -------
    matplotlib.figure.Figure
        The map (write it with :func:`save_map`).
    """
    t = labels.MAP_TEXT
    lang = labels.LANGUAGES.index(language)
    with _fonts_context():
        fig = Figure(figsize=_FIGSIZE_WIDE)
        ax = fig.subplots()
        handles: list = []
        images: dict[AxesImage, tuple[np.ndarray, str]] = {}
        if travel_time is not None:
            arr, ext = travel_time
            # Far off-road corners of the grid reach days: the colours span the cells inside
            # the cluster (95th percentile), the rest shows as "more".
            inside = arr
            if stretch is not None and stretch.shape == arr.shape:
                inside = arr[stretch]
            elif cities is not None and not cities.empty:
                transform = rasterio.transform.from_bounds(ext[0], ext[2], ext[1], ext[3],
                                                           arr.shape[1], arr.shape[0])
                mask = rasterio.features.geometry_mask(cities.geometry, out_shape=arr.shape,
                                                       transform=transform, invert=True)
                inside = arr[mask]
            inside = inside[np.isfinite(inside)]
            pool = inside if inside.size else arr[np.isfinite(arr)]
            vmax = float(np.quantile(pool, 0.95)) if pool.size else 1.0
            im = _grid_image(ax, arr, "mean", images, extent=ext, cmap="viridis", vmin=0,
                             vmax=vmax, interpolation="nearest")
            fig.colorbar(im, ax=ax, shrink=0.6, pad=0.01, extend="max",
                         label=t["travel_time"][lang])
            if stretch is not None and stretch.shape == arr.shape and not stretch.all():
                # buffer cells stay visible but faded: the colours and figures are the cluster's
                _grid_image(ax, np.where(stretch, np.nan, 1.0), "mode", images, extent=ext,
                            cmap=ListedColormap(["white"]), alpha=0.55, interpolation="nearest")
                handles.append(Patch(facecolor="white", edgecolor="#999999", alpha=0.8,
                                     label=t["buffer"][lang]))
        if _plot_roads(ax, roads, color="#f7f7f7", linewidth=0.3, alpha=0.55):
            handles.append(Line2D([], [], color="#bdbdbd", lw=0.8, label=t["roads"][lang]))
        if cities is not None and not cities.empty:
            cities.boundary.plot(ax=ax, color="#f0f0f0", linewidth=0.8, zorder=4)
            handles.append(Line2D([], [], color="#999999", lw=0.8,
                                  label=t["city_boundaries"][lang]))
        if od_links is not None and not od_links.empty:
            field = next((c for c in ("linkage", "linkage_strength", "r_ij", "gravity")
                          if c in od_links.columns), None)
            if field is not None:
                values = od_links[field].astype(float).fillna(0.0).to_numpy()
                widths = (0.5 + 3.5 * values / values.max() if values.max() > 0
                          else np.ones(len(values)))
            else:
                widths = np.ones(len(od_links))
            od_links.plot(ax=ax, color="#e7298a", linewidth=widths, alpha=0.85, zorder=6)
            handles.append(Line2D([], [], color="#e7298a", lw=2,
                                  label=t["linkage" if field else "od_links"][lang]))
        if seats is not None and not seats.empty:
            if "watt_min" in seats.columns and seats["watt_min"].notna().any():
                sc = ax.scatter(seats.geometry.x, seats.geometry.y, c=seats["watt_min"],
                                cmap="RdYlGn_r", s=70, edgecolor="black", linewidth=0.8,
                                zorder=10)
                fig.colorbar(sc, ax=ax, shrink=0.6, pad=0.01, label=t["watt"][lang])
            else:
                ax.scatter(seats.geometry.x, seats.geometry.y, color="#d7301f", s=60,
                           edgecolor="black", zorder=10)
            handles.append(Line2D([], [], marker="o", ls="", markerfacecolor="#ffffbf",
                                  markeredgecolor="black", markersize=8,
                                  label=t["seats"][lang]))
            _label_seats(ax, seats, language)
        if border_gaps is not None and not border_gaps.empty:
            top = (border_gaps.sort_values("rank").head(10) if "rank" in border_gaps
                   else border_gaps)
            ax.scatter(top.geometry.x, top.geometry.y, marker="D", s=36, color="#d95f02",
                       edgecolor="black", linewidth=0.6, zorder=12)
            for geom, rank in zip(top.geometry, top.get("rank", range(1, len(top) + 1)),
                                  strict=True):
                ax.annotate(str(rank), (geom.x, geom.y), xytext=(4, -10),
                            textcoords="offset points", fontsize=7, color="#7f2704", zorder=12,
                            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "alpha": 0.75,
                                  "lw": 0})
            handles.append(Line2D([], [], marker="D", ls="", color="#d95f02",
                                  markeredgecolor="black", label=t["border_gaps"][lang]))
        _set_extent(ax, [cities, seats, od_links], travel_time[1] if travel_time else None)
        fig.suptitle(title, fontsize=11)
        return _finish(fig, ax, crs=crs, attribution=attribution, handles=handles,
                       images=images)


def ecology_map(
    *,
    landcover: tuple[np.ndarray, tuple[float, float, float, float]] | None,
    sources: gpd.GeoDataFrame | None,
    corridors: gpd.GeoDataFrame | None,
    pinch_points: gpd.GeoDataFrame | None,
    road_crossings: gpd.GeoDataFrame | None,
    cities: gpd.GeoDataFrame | None,
    crs: CRS | str | None,
    title: str,
    attribution: Sequence[str],
    roads: gpd.GeoDataFrame | RoadLines | None = None,
    seats: gpd.GeoDataFrame | None = None,
    language: str = "en",
) -> Figure:
    """Draw sources, corridors (width/colour by ``gravity``), pinch zones, road crossings.

    Parameters are as in :func:`accessibility_map`; ``landcover`` is drawn faded underneath
    with the classes of :data:`agglonet.styles.LANDCOVER_PALETTE`, the roads thin and grey, the
    seats as labelled dots. Pinch zones are shaded by ``peak_current``; road crossings are
    sized by ``priority``, with a size key in the legend.
    """
    t = labels.MAP_TEXT
    lang = labels.LANGUAGES.index(language)
    with _fonts_context():
        fig = Figure(figsize=_FIGSIZE)
        ax = fig.subplots()
        handles: list = []
        images: dict[AxesImage, tuple[np.ndarray, str]] = {}
        if landcover is not None:
            arr, ext = landcover
            codes = sorted(LANDCOVER_PALETTE)
            cmap = ListedColormap([LANDCOVER_PALETTE[c][1] for c in codes])
            norm = BoundaryNorm([c - 0.5 for c in codes] + [codes[-1] + 0.5], cmap.N)
            shown = np.where(np.isin(arr, codes), arr, np.nan)
            _grid_image(ax, shown, "mode", images, extent=ext, cmap=cmap, norm=norm, alpha=0.45,
                        interpolation="nearest")
            present = {int(v) for v in np.unique(arr[np.isfinite(arr)])}
            handles += [Patch(facecolor=LANDCOVER_PALETTE[c][1], alpha=0.45,
                              label=labels.value_label(LANDCOVER_PALETTE[c][0])[language])
                        for c in codes if c in present]
        if _plot_roads(ax, roads):
            handles.append(Line2D([], [], color=_ROAD_COLOR, lw=0.8, label=t["roads"][lang]))
        if cities is not None and not cities.empty:
            cities.boundary.plot(ax=ax, color="#252525", linewidth=0.7, zorder=4)
            handles.append(Line2D([], [], color="#252525", lw=0.7,
                                  label=t["city_boundaries"][lang]))
        if sources is not None and not sources.empty:
            sources.plot(ax=ax, facecolor="#006d2c", edgecolor="#00441b", alpha=0.75,
                         linewidth=0.5, zorder=5)
            handles.append(Patch(facecolor="#006d2c", alpha=0.75, label=t["sources"][lang]))
        if corridors is not None and not corridors.empty:
            if "gravity" in corridors.columns and corridors["gravity"].notna().any():
                g = corridors["gravity"].astype(float).fillna(0.0).to_numpy()
                rank = ((g - g.min()) / (g.max() - g.min()) if g.max() > g.min()
                        else np.ones(len(g)))
                colors = matplotlib.colormaps["Greens"](0.45 + 0.55 * rank)
                corridors.plot(ax=ax, color=colors, linewidth=0.8 + 2.7 * rank, zorder=7)
                handles.append(Line2D([], [], color="#238b45", lw=2.5,
                                      label=t["corridors"][lang]))
            else:
                corridors.plot(ax=ax, color="#238b45", linewidth=1.5, zorder=7)
                handles.append(Line2D([], [], color="#238b45", lw=1.5,
                                      label=t["corridors_plain"][lang]))
        if pinch_points is not None and not pinch_points.empty:
            # pinch zones: polygons of the highest-current cells of each corridor
            peak = (pinch_points["peak_current"].astype(float).to_numpy()
                    if "peak_current" in pinch_points.columns else np.ones(len(pinch_points)))
            lo, hi = np.nanmin(peak), np.nanmax(peak)
            shade = (peak - lo) / (hi - lo) if hi > lo else np.ones(len(peak))
            colors = matplotlib.colormaps["YlOrRd"](0.35 + 0.6 * np.nan_to_num(shade))
            pinch_points.plot(ax=ax, color=colors, edgecolor="#7f2704", linewidth=0.3,
                              alpha=0.95, zorder=9)
            handles.append(Patch(facecolor="#fd8d3c", edgecolor="#7f2704",
                                 label=t["pinch_zones"][lang]))
        if road_crossings is not None and not road_crossings.empty:
            if "priority" in road_crossings.columns:
                pr = road_crossings["priority"].astype(float).fillna(0.0).to_numpy()
                sizes = 12 + 110 * pr / pr.max() if pr.max() > 0 else np.full(len(pr), 40.0)
            else:
                pr, sizes = None, np.full(len(road_crossings), 40.0)
            ax.scatter(road_crossings.geometry.x, road_crossings.geometry.y, s=sizes,
                       marker="X", color="#e31a1c", edgecolor="black", linewidth=0.4,
                       zorder=10)
            if pr is not None and len(pr):
                handles += _size_key(pr, sizes, title=t["crossings"][lang], marker="X",
                                     color="#e31a1c")
            else:
                handles.append(Line2D([], [], marker="X", ls="", color="#e31a1c",
                                      markeredgecolor="black", label=t["crossings"][lang]))
        _label_seats(ax, seats, language, marker=True)
        _set_extent(ax, [cities, sources, corridors], landcover[1] if landcover else None)
        fig.suptitle(title, fontsize=11)
        return _finish(fig, ax, crs=crs, attribution=attribution, handles=handles, ncol=4,
                       images=images)


def _cluster_names(boundaries: Path | None, fallback: str) -> dict[str, str]:
    """Return the cluster's name per language (layer ``cluster`` of ``boundaries.gpkg``)."""
    names = {lang: fallback for lang in labels.LANGUAGES}
    if boundaries is None or not boundaries.exists():
        return names
    if "cluster" not in {n for n, _ in pyogrio.list_layers(boundaries)}:
        return names
    row = pyogrio.read_dataframe(boundaries, layer="cluster", read_geometry=False)
    for lang in labels.LANGUAGES:
        value = row.iloc[0].get(f"name_{lang}") if len(row) else None
        if isinstance(value, str) and value:
            names[lang] = value
    return names


def write_maps(
    out_dir: str | Path,
    *,
    inputs: Mapping[str, str | Path],
    cluster: str,
    attribution: Sequence[str],
    quality: QualityFact,
    languages: Sequence[str] = labels.LANGUAGES,
) -> list[Path]:
    """Write ``accessibility.{lang}.png`` and ``ecology.{lang}.png`` for one cluster.

    Parameters
    ----------
    out_dir
        ``results/{cluster}/maps``.
    inputs
        Catalogue file key → path: ``cities``, ``transport``, ``ecology`` (GeoPackages),
        ``travel_time_min`` and ``landcover`` (rasters); ``boundaries`` (optional) gives the
        cluster's names for the titles.
    cluster
        Cluster key (titles when ``boundaries`` has no names).
    attribution
        Attribution lines (see :func:`agglonet.provenance.attributions`); the standard lines
        are translated in Chinese maps.
    quality
        The run's quality fact: illustrative roads add a note to both maps; coarse land cover or
        DEM adds a caveat line (:func:`coarse_input_note`) to the ecology map.
    languages
        ``zh`` and/or ``en`` (``export.language``).

    Returns
    -------
    list of pathlib.Path
        The PNGs, per language the accessibility map, then the ecology map.
    """
    langs = labels.check_languages(tuple(languages))
    out = Path(out_dir)
    standard = set(STANDARD_ATTRIBUTIONS.values())
    lines = [line for line in attribution if line in standard] or list(attribution)
    proxy = quality.transport_quality == ILLUSTRATIVE
    cities = _read_optional(Path(inputs["cities"]), "cities")
    transport, ecology = Path(inputs["transport"]), Path(inputs["ecology"])
    seats = _read_optional(transport, "seats")
    roads = _read_optional(transport, "roads")
    lines_of_roads = road_lines(roads) if roads is not None else None  # once for all maps
    crs = next((f.crs for f in (seats, cities) if f is not None and f.crs is not None), None)
    boundaries = Path(inputs["boundaries"]) if inputs.get("boundaries") else None
    names = _cluster_names(boundaries, cluster)
    layers: dict[str, Any] = {"travel_time": _raster(Path(inputs["travel_time_min"])),
              "stretch": _stretch_mask(Path(inputs["travel_time_min"])),
              "od_links": _read_optional(transport, "od_links"),
              "border_gaps": _read_optional(transport, "border_gaps"),
              "landcover": _raster(Path(inputs["landcover"])),
              "sources": _read_optional(ecology, "sources"),
              "corridors": _read_optional(ecology, "corridors"),
              "pinch_points": _read_optional(ecology, "pinch_points"),
              "road_crossings": _read_optional(ecology, "road_crossings")}
    paths = []
    for lang in langs:
        lang_lines = labels.attribution_lines(lines, lang)
        if proxy and not any("synthetic proxy" in line for line in lines):
            lang_lines.insert(0, labels.text("proxy_note", lang))
        suffix = labels.text("proxy_suffix", lang) if proxy else ""
        coarse = coarse_input_note(quality, lang)
        eco_lines = [coarse, *lang_lines] if coarse else lang_lines
        figure = accessibility_map(
            travel_time=layers["travel_time"], stretch=layers["stretch"], seats=seats,
            od_links=layers["od_links"], border_gaps=layers["border_gaps"], cities=cities,
            roads=lines_of_roads, crs=crs, attribution=lang_lines, language=lang,
            title=labels.text("accessibility_title", lang, name=names[lang]) + suffix)
        paths.append(save_map(figure, out / map_file_name("accessibility", lang)))
        figure = ecology_map(
            landcover=layers["landcover"], sources=layers["sources"],
            corridors=layers["corridors"], pinch_points=layers["pinch_points"],
            road_crossings=layers["road_crossings"], cities=cities, roads=lines_of_roads,
            seats=seats, crs=crs, attribution=eco_lines, language=lang,
            title=labels.text("ecology_title", lang, name=names[lang]) + suffix)
        paths.append(save_map(figure, out / map_file_name("ecology", lang)))
    logger.info("maps of %s: %d PNGs (%s) in %s", cluster, len(paths), ", ".join(langs), out)
    return paths
