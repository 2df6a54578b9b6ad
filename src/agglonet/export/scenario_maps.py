"""Before–after maps of a scenario: ``results/{cluster}/scenarios/{scenario}/map.{lang}.png``.

One small figure per scenario and language, two panels side by side:

* travel time to the nearest seat, scenario − baseline (``travel_time_diff_min.tif``), with the
  roads the scenario added, closed or re-timed (``roads_edited.gpkg``);
* cumulative current density, scenario − baseline (``current_density_diff.tif``), with the
  corridors that changed, appeared or went (``corridors_changed.gpkg``) and the areas of the
  land-cover and barrier edits (the scenario's edit files).

Both panels use a diverging ramp centred on zero (blue: less travel time or more current; red:
more travel time or less current) spanning the 98th percentile of the absolute change
(:func:`agglonet.styles.symmetric_span`, as the QGIS style of the same rasters), and
the city boundaries and labelled seats of the baseline. Scale bar, north arrow and attribution
come from :mod:`agglonet.export.maps`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from pyproj import CRS

from agglonet.export import labels
from agglonet.export.maps import (
    _fonts_context,
    _label_seats,
    _raster,
    _read_optional,
    _set_extent,
    attribution_text,
    north_arrow,
    save_map,
    scale_bar,
)
from agglonet.provenance import STANDARD_ATTRIBUTIONS
from agglonet.styles import CORRIDOR_STATUSES, EDITED_ROAD_STATUSES, symmetric_span

logger = logging.getLogger(__name__)

#: Colour of each status of an edited road link (``roads_edited``), as in its QGIS style.
ROAD_STATUS_COLORS = {status: color for status, (color, _) in EDITED_ROAD_STATUSES.items()}
#: Colour and line style of each corridor status (``corridors_changed``); unchanged: not drawn.
CORRIDOR_STATUS_STYLES = {status: (CORRIDOR_STATUSES[status][0], "--" if status == "removed"
                                   else "-") for status in ("changed", "new", "removed")}
_FIGSIZE = (11.0, 6.2)


def _diff_panel(ax: Axes, fig: Figure, raster: tuple[np.ndarray, tuple] | None, *,
                label: str) -> None:
    if raster is None:
        return
    data, extent = raster
    span = symmetric_span(data)
    im = ax.imshow(data, extent=extent, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, -span, span),
                   interpolation="nearest", zorder=1)
    fig.colorbar(im, ax=ax, orientation="horizontal", shrink=0.8, pad=0.02, extend="both",
                 label=label)


def _draw_base(ax: Axes, cities: gpd.GeoDataFrame | None, seats: gpd.GeoDataFrame | None,
               language: str) -> None:
    if cities is not None and not cities.empty:
        cities.boundary.plot(ax=ax, color="#444444", linewidth=0.5, zorder=4)
    _label_seats(ax, seats, language, marker=True)


def _furnish(ax: Axes, *, crs: CRS | str | None) -> None:
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    scale_bar(ax)
    north_arrow(ax, crs=crs)


def scenario_map(
    *,
    travel_time_diff: tuple[np.ndarray, tuple[float, float, float, float]] | None,
    current_density_diff: tuple[np.ndarray, tuple[float, float, float, float]] | None,
    corridors: gpd.GeoDataFrame | None,
    edited_roads: gpd.GeoDataFrame | None,
    edit_areas: gpd.GeoDataFrame | None,
    cities: gpd.GeoDataFrame | None,
    seats: gpd.GeoDataFrame | None,
    crs: CRS | str | None,
    title: str,
    attribution: Sequence[str],
    language: str = "en",
) -> Figure:
    """Draw a scenario's two panels: travel time and current density, scenario − baseline.

    The left panel carries the edited roads, the right one the changed corridors; both the
    edit areas, city boundaries and seats.

    Parameters
    ----------
    travel_time_diff, current_density_diff
        ``(array, (left, right, bottom, top))`` of the difference rasters, or ``None``.
    corridors
        Layer ``corridors_changed`` (``status``); unchanged corridors are not drawn.
    edited_roads
        Layer ``roads_edited`` (``status``: added, closed, changed), or ``None``.
    edit_areas
        Polygons or lines of the land-cover and barrier edits, or ``None``.
    cities, seats
        City boundaries and seats of the baseline.
    crs
        CRS of the layers (north arrow).
    title, attribution
        Figure title and attribution lines.
    language
        ``zh`` or ``en``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = labels.MAP_TEXT
    lang = labels.LANGUAGES.index(language)
    with _fonts_context():
        fig = Figure(figsize=_FIGSIZE)
        left, right = fig.subplots(1, 2)
        _diff_panel(left, fig, travel_time_diff, label=t["travel_time_diff"][lang])
        _diff_panel(right, fig, current_density_diff, label=t["current_density_diff"][lang])
        left.set_title(t["scenario_transport_panel"][lang], fontsize=10)
        right.set_title(t["scenario_ecology_panel"][lang], fontsize=10)
        handles: list[Any] = []
        if edited_roads is not None and not edited_roads.empty:
            for status, color in ROAD_STATUS_COLORS.items():
                part = edited_roads[edited_roads["status"] == status]
                if part.empty:
                    continue
                for ax in (left, right):
                    part.plot(ax=ax, color=color, linewidth=2.2, zorder=8,
                              linestyle=":" if status == "closed" else "-")
                handles.append(Line2D([], [], color=color, lw=2.2,
                                      ls=":" if status == "closed" else "-",
                                      label=t[f"road_{status}"][lang]))
        if corridors is not None and not corridors.empty:
            for status, (color, style) in CORRIDOR_STATUS_STYLES.items():
                part = corridors[corridors["status"] == status]
                if part.empty:
                    continue
                part.plot(ax=right, color=color, linewidth=1.4, linestyle=style, zorder=7)
                handles.append(Line2D([], [], color=color, lw=1.4, ls=style,
                                      label=t[f"corridor_{status}"][lang]))
        if edit_areas is not None and not edit_areas.empty:
            for ax in (left, right):
                edit_areas.boundary.plot(ax=ax, color="#006d2c", linewidth=1.2, zorder=9)
            handles.append(Patch(facecolor="none", edgecolor="#006d2c",
                                 label=t["edit_areas"][lang]))
        for ax in (left, right):
            _draw_base(ax, cities, seats, language)
            _set_extent(ax, [cities], None)
            _furnish(ax, crs=crs)
        fig.suptitle(title, fontsize=12)
        attribution_text(fig, attribution)
        bottom = 0.035 + 0.0105 * len(attribution)
        if handles:
            fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=7.5, frameon=False,
                       bbox_to_anchor=(0.5, bottom))
        fig.subplots_adjust(left=0.02, right=0.98, top=0.9, bottom=bottom + 0.07, wspace=0.05)
    return fig


def write_scenario_maps(
    paths: Mapping[str, str | Path],
    *,
    inputs: Mapping[str, str | Path | None],
    title: Mapping[str, str],
    attribution: Sequence[str],
    edit_areas: gpd.GeoDataFrame | None = None,
) -> list[Path]:
    """Write one scenario's before–after map per language.

    Parameters
    ----------
    paths
        Language → PNG path (``map.{lang}.png``).
    inputs
        ``travel_time_diff``, ``current_density_diff`` (rasters), ``corridors_changed``,
        ``roads_edited`` (optional; GeoPackages), ``boundaries`` (``cities``) and ``seats``
        (``seats``).
    title
        Language → title.
    attribution
        Attribution lines (:func:`agglonet.provenance.attributions`); the standard lines are
        drawn, translated per language (:func:`agglonet.export.labels.attribution_lines`).
    edit_areas
        Geometry of the land-cover and barrier edits, if any.

    Returns
    -------
    list of pathlib.Path
    """
    langs = labels.check_languages(tuple(paths))
    # the standard lines only, as on the cluster's maps (the full list is in the report)
    standard = set(STANDARD_ATTRIBUTIONS.values())
    attribution = [line for line in attribution if line in standard] or list(attribution)

    def layer(key: str, name: str) -> gpd.GeoDataFrame | None:
        path = inputs.get(key)
        return _read_optional(Path(path), name) if path else None

    def raster(key: str) -> tuple[np.ndarray, tuple] | None:
        path = inputs.get(key)
        return _raster(Path(path)) if path else None

    cities, seats = layer("boundaries", "cities"), layer("seats", "seats")
    crs = next((f.crs for f in (cities, seats) if f is not None and f.crs is not None), None)
    travel_time, current = raster("travel_time_diff"), raster("current_density_diff")
    corridors = layer("corridors_changed", "corridors_changed")
    edited_roads = layer("roads_edited", "roads_edited")
    written = []
    for lang in langs:
        fig = scenario_map(travel_time_diff=travel_time, current_density_diff=current,
                           corridors=corridors, edited_roads=edited_roads, edit_areas=edit_areas,
                           cities=cities, seats=seats, crs=crs, title=title[lang],
                           attribution=labels.attribution_lines(list(attribution), lang),
                           language=lang)
        written.append(save_map(fig, paths[lang]))
    logger.info("scenario maps: %s", ", ".join(str(p) for p in written))
    return written
