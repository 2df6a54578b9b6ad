"""Static PNG maps of a cluster's results (matplotlib; no web tiles, works offline).

Two maps per cluster, each with legend, scale bar, north arrow and attribution:

* ``accessibility.png`` — travel-time surface, city seats coloured by weighted average travel
  time, linkage lines between seats, the ten best-ranked border gaps;
* ``ecology.png`` — ecological sources, corridors by importance, pinch zones and road
  crossings over the land cover.

Scale bar and north arrow are drawn by small helpers here (matplotlib-scalebar is not a
dependency); both assume a projected CRS in metres, which is what agglonet writes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import matplotlib
import numpy as np
import pyogrio
import rasterio
import rasterio.features
import rasterio.transform
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from pyproj import CRS, Transformer

from agglonet import outputs
from agglonet.io import atomic_path, read_layer
from agglonet.provenance import STANDARD_ATTRIBUTIONS
from agglonet.quality import ILLUSTRATIVE, MEASURED, QualityFact
from agglonet.styles import LANDCOVER_PALETTE

logger = logging.getLogger(__name__)

PROXY_NOTE = "Roads: synthetic proxy network — illustrative, not real roads"


def coarse_input_note(quality: QualityFact) -> str | None:
    """Caveat line of the ecology map when the ecology rests on coarse inputs, else ``None``.

    Examples
    --------
    >>> from agglonet.quality import decide_quality
    >>> fact = decide_quality(roads_source="osm", grid_resolution_m=1000,
    ...                       input_resolutions_m={"landcover": 5340.0, "dem": 900.0})
    >>> coarse_input_note(fact).split(" — ")[0]
    'Ecology approximate: landcover native ≈ 5.34 km on a 1 km grid'
    """
    if quality.ecology_quality == MEASURED or not quality.coarse_inputs:
        return None
    inputs = ", ".join(f"{name} native ≈ {native_m / 1000:.3g} km"
                       for name, native_m in sorted(quality.coarse_inputs.items()))
    grid = (f" on a {quality.grid_resolution_m / 1000:.3g} km grid"
            if quality.grid_resolution_m else "")
    return (f"Ecology {quality.ecology_quality}: {inputs}{grid} — patterns finer than the input "
            "are not real")
_FIGSIZE = (9.0, 7.5)
_DPI = 130


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
            va="center", fontsize=11, fontweight="bold", zorder=20)
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


def _finish(fig: Figure, ax: Axes, *, crs: CRS | str | None, attribution: Sequence[str],
            path: Path) -> Path:
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    scale_bar(ax)
    north_arrow(ax, crs=crs)
    attribution_text(fig, attribution)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.93, bottom=0.05 + 0.012 * len(attribution))
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=_DPI, metadata={"Software": "agglonet"})
    logger.info("wrote map %s", path)
    return path


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
def accessibility_map(
    path: str | Path,
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
) -> Path:
    """Travel-time surface, seats (colour = ``watt_min``), linkage lines and border gaps.

    Parameters
    ----------
    path
        Output PNG.
    travel_time
        ``(array, (left, right, bottom, top))`` of ``travel_time_min.tif``, or ``None``.
    stretch
        Boolean grid of the cells the colours span (band 2 of ``travel_time_min.tif``: the cells
        inside the cluster, as the QML style); ``None``: the cells inside ``cities``.
    seats, od_links, cities
        Layers (any may be ``None``); od_links line width follows the first numeric column
        among ``linkage``, ``linkage_strength``, ``r_ij``, ``gravity``.
    crs
        CRS of the layers (for the north arrow).
    title, attribution
        Figure title and attribution lines.
    border_gaps
        Layer ``border_gaps`` of ``transport.gpkg`` (``None`` or empty: not drawn): the ten
        best-ranked road ends at a border, labelled with their ``rank``.
    """
    fig = Figure(figsize=_FIGSIZE)
    ax = fig.subplots()
    handles: list = []
    if travel_time is not None:
        arr, ext = travel_time
        finite = arr[np.isfinite(arr)]
        # Far off-road corners of the grid reach days: the colours span the cells inside the
        # cluster (95th percentile), the rest shows as "more".
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
        pool = inside if inside.size else finite
        vmax = float(np.quantile(pool, 0.95)) if pool.size else 1.0
        im = ax.imshow(arr, extent=ext, cmap="viridis", vmin=0, vmax=vmax, interpolation="nearest")
        fig.colorbar(im, ax=ax, shrink=0.6, pad=0.01, extend="max",
                     label="travel time to nearest seat (min)")
        if stretch is not None and stretch.shape == arr.shape and not stretch.all():
            # buffer cells stay visible but faded: the colours and figures are the cluster's
            ax.imshow(np.where(stretch, np.nan, 1.0), extent=ext, cmap=ListedColormap(["white"]),
                      alpha=0.55, interpolation="nearest")
            handles.append(Patch(facecolor="white", edgecolor="#999999", alpha=0.8,
                                 label="buffer (outside the cluster)"))
    if cities is not None and not cities.empty:
        cities.boundary.plot(ax=ax, color="#f0f0f0", linewidth=0.8)
        handles.append(Line2D([], [], color="#999999", lw=0.8, label="city boundaries"))
    if od_links is not None and not od_links.empty:
        field = next((c for c in ("linkage", "linkage_strength", "r_ij", "gravity")
                      if c in od_links.columns), None)
        if field is not None:
            values = od_links[field].astype(float).fillna(0.0).to_numpy()
            widths = 0.5 + 3.5 * values / values.max() if values.max() > 0 else np.ones(len(values))
        else:
            widths = np.ones(len(od_links))
        od_links.plot(ax=ax, color="#e7298a", linewidth=widths, alpha=0.85)
        handles.append(Line2D([], [], color="#e7298a", lw=2,
                              label=f"linkage ({field})" if field else "OD links"))
    if seats is not None and not seats.empty:
        if "watt_min" in seats.columns and seats["watt_min"].notna().any():
            sc = ax.scatter(seats.geometry.x, seats.geometry.y, c=seats["watt_min"],
                            cmap="RdYlGn_r", s=70, edgecolor="black", linewidth=0.8, zorder=10)
            fig.colorbar(sc, ax=ax, shrink=0.6, pad=0.01,
                         label="seat: weighted average travel time (min)")
        else:
            ax.scatter(seats.geometry.x, seats.geometry.y, color="#d7301f", s=60,
                       edgecolor="black", zorder=10)
        handles.append(Line2D([], [], marker="o", ls="", markerfacecolor="#ffffbf",
                              markeredgecolor="black", markersize=8, label="city seats"))
        label_col = "name_en" if "name_en" in seats.columns else None
        if label_col:
            for geom, name in zip(seats.geometry, seats[label_col], strict=True):
                ax.annotate(str(name), (geom.x, geom.y), xytext=(4, 4), textcoords="offset points",
                            fontsize=8, zorder=11,
                            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.7,
                                  "lw": 0})
    if border_gaps is not None and not border_gaps.empty:
        top = border_gaps.sort_values("rank").head(10) if "rank" in border_gaps else border_gaps
        ax.scatter(top.geometry.x, top.geometry.y, marker="D", s=36, color="#d95f02",
                   edgecolor="black", linewidth=0.6, zorder=12)
        for geom, rank in zip(top.geometry, top.get("rank", range(1, len(top) + 1)),
                              strict=True):
            ax.annotate(str(rank), (geom.x, geom.y), xytext=(4, -10), textcoords="offset points",
                        fontsize=7, color="#7f2704", zorder=12,
                        bbox={"boxstyle": "round,pad=0.1", "fc": "white", "alpha": 0.75,
                              "lw": 0})
        handles.append(Line2D([], [], marker="D", ls="", color="#d95f02",
                              markeredgecolor="black", label="border gaps (top 10 by rank)"))
    _set_extent(ax, [cities, seats, od_links], travel_time[1] if travel_time else None)
    if handles:
        ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.9)
    fig.suptitle(title, fontsize=11)
    return _finish(fig, ax, crs=crs, attribution=attribution, path=Path(path))


def ecology_map(
    path: str | Path,
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
) -> Path:
    """Draw sources, corridors (width/colour by ``gravity``), pinch zones and road crossings.

    Parameters are as in :func:`accessibility_map`; ``landcover`` is drawn faded underneath
    with the classes of :data:`agglonet.styles.LANDCOVER_PALETTE`.
    """
    fig = Figure(figsize=_FIGSIZE)
    ax = fig.subplots()
    handles: list = []
    if landcover is not None:
        arr, ext = landcover
        codes = sorted(LANDCOVER_PALETTE)
        cmap = ListedColormap([LANDCOVER_PALETTE[c][1] for c in codes])
        norm = BoundaryNorm([c - 0.5 for c in codes] + [codes[-1] + 0.5], cmap.N)
        shown = np.where(np.isin(arr, codes), arr, np.nan)
        ax.imshow(shown, extent=ext, cmap=cmap, norm=norm, alpha=0.45, interpolation="nearest")
        present = {int(v) for v in np.unique(arr[np.isfinite(arr)])}
        handles += [Patch(facecolor=LANDCOVER_PALETTE[c][1], alpha=0.45,
                          label=LANDCOVER_PALETTE[c][0]) for c in codes if c in present]
    if cities is not None and not cities.empty:
        cities.boundary.plot(ax=ax, color="#525252", linewidth=0.6)
    if sources is not None and not sources.empty:
        sources.plot(ax=ax, facecolor="#006d2c", edgecolor="#00441b", alpha=0.75, linewidth=0.5)
        handles.append(Patch(facecolor="#006d2c", alpha=0.75, label="ecological sources"))
    if corridors is not None and not corridors.empty:
        if "gravity" in corridors.columns and corridors["gravity"].notna().any():
            g = corridors["gravity"].astype(float).fillna(0.0).to_numpy()
            rank = (g - g.min()) / (g.max() - g.min()) if g.max() > g.min() else np.ones(len(g))
            colors = matplotlib.colormaps["Greens"](0.45 + 0.55 * rank)
            corridors.plot(ax=ax, color=colors, linewidth=0.8 + 2.7 * rank)
            handles.append(Line2D([], [], color="#238b45", lw=2.5,
                                  label="corridors (width = gravity)"))
        else:
            corridors.plot(ax=ax, color="#238b45", linewidth=1.5)
            handles.append(Line2D([], [], color="#238b45", lw=1.5, label="corridors"))
    if pinch_points is not None and not pinch_points.empty:
        # pinch zones: polygons of the highest-current cells of each corridor
        pinch_points.plot(ax=ax, facecolor="#ff7f00", edgecolor="#a63603", linewidth=0.4,
                          alpha=0.9, zorder=9)
        handles.append(Patch(facecolor="#ff7f00", edgecolor="#a63603",
                             label="pinch zones (top current in each corridor)"))
    if road_crossings is not None and not road_crossings.empty:
        if "priority" in road_crossings.columns:
            pr = road_crossings["priority"].astype(float).fillna(0.0).to_numpy()
            sizes = 20 + 120 * pr / pr.max() if pr.max() > 0 else np.full(len(pr), 40.0)
        else:
            sizes = np.full(len(road_crossings), 40.0)
        ax.scatter(road_crossings.geometry.x, road_crossings.geometry.y, s=sizes, marker="X",
                   color="#e31a1c", edgecolor="black", linewidth=0.4, zorder=10)
        handles.append(Line2D([], [], marker="X", ls="", color="#e31a1c", markeredgecolor="black",
                              label="road crossings (size = priority)"))
    _set_extent(ax, [cities, sources, corridors], landcover[1] if landcover else None)
    if handles:
        ax.legend(handles=handles, loc="upper left", fontsize=7, framealpha=0.9, ncol=2)
    fig.suptitle(title, fontsize=11)
    return _finish(fig, ax, crs=crs, attribution=attribution, path=Path(path))


def write_maps(
    out_dir: str | Path,
    *,
    inputs: Mapping[str, str | Path],
    cluster: str,
    attribution: Sequence[str],
    quality: QualityFact,
) -> list[Path]:
    """Write ``accessibility.png`` and ``ecology.png`` for one cluster.

    Parameters
    ----------
    out_dir
        ``results/{cluster}/maps``.
    inputs
        Catalogue file key → path: ``cities``, ``transport``, ``ecology`` (GeoPackages),
        ``travel_time_min`` and ``landcover`` (rasters).
    cluster
        Cluster key (titles).
    attribution
        Attribution lines (see :func:`agglonet.provenance.attributions`).
    quality
        The run's quality fact: illustrative roads add a note to both maps; coarse land cover or
        DEM adds a caveat line (:func:`coarse_input_note`) to the ecology map.

    Returns
    -------
    list of pathlib.Path
        The two PNGs.
    """
    out = Path(out_dir)
    standard = set(STANDARD_ATTRIBUTIONS.values())
    lines = [line for line in attribution if line in standard] or list(attribution)
    proxy = quality.transport_quality == ILLUSTRATIVE
    if proxy and not any("synthetic proxy" in line for line in lines):
        lines.insert(0, PROXY_NOTE)
    cities = _read_optional(Path(inputs["cities"]), "cities")
    transport, ecology = Path(inputs["transport"]), Path(inputs["ecology"])
    seats = _read_optional(transport, "seats")
    crs = next((f.crs for f in (seats, cities) if f is not None and f.crs is not None), None)
    suffix = " (synthetic proxy roads — illustrative)" if proxy else ""
    coarse = coarse_input_note(quality)
    eco_lines = [coarse, *lines] if coarse else lines
    paths = [
        accessibility_map(out / "accessibility.png",
                          travel_time=_raster(Path(inputs["travel_time_min"])),
                          stretch=_stretch_mask(Path(inputs["travel_time_min"])),
                          seats=seats, od_links=_read_optional(transport, "od_links"),
                          border_gaps=_read_optional(transport, "border_gaps"),
                          cities=cities, crs=crs, attribution=lines,
                          title=f"{cluster}: travel time and linkage{suffix}"),
        ecology_map(out / "ecology.png", landcover=_raster(Path(inputs["landcover"])),
                    sources=_read_optional(ecology, "sources"),
                    corridors=_read_optional(ecology, "corridors"),
                    pinch_points=_read_optional(ecology, "pinch_points"),
                    road_crossings=_read_optional(ecology, "road_crossings"),
                    cities=cities, crs=crs, attribution=eco_lines,
                    title=f"{cluster}: ecological network and road crossings{suffix}"),
    ]
    return paths
