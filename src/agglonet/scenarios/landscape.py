"""Ecological edits on the cluster grid: land cover and resistance.

* **Restore land cover.** The cells whose centre lies in the edit's polygons take the class
  (``forest``, ``grassland`` ...); open sea is never changed. The scenario's land cover then
  goes through MSPA, sources and resistance like the baseline's, so habitat and resistance
  follow. A polygon set that covers no cell centre is refused (it would change nothing).
* **Add a barrier.** Polygons (cells whose centre lies inside) or lines (every cell they touch;
  widened by ``width_m`` when given) raise the resistance to at least ``resistance``.
* **Restore the top N barriers** of the baseline's barrier layer (ranked by ``weighted_score``,
  then ``barrier_id``): the disk of radius ``radius_m`` around each site
  (:func:`agglonet.ecology.barriers.disk_footprint`, the window the barrier analysis restored)
  takes at most the restored resistance — by default the lowest class value, as in the barrier
  analysis.

Each function returns the edited array (a copy) and one report row per edit for
``landscape_edits.csv``: cells, area, cells whose value changed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from rasterio.features import rasterize
from rasterio.transform import rowcol

from agglonet.ecology.barriers import disk_footprint
from agglonet.ecology.landcover import CLASS_CODES
from agglonet.errors import ConfigError, DataError
from agglonet.scenarios.edits import Edit

logger = logging.getLogger(__name__)

#: Columns of ``landscape_edits.csv`` (before the quality labels).
LANDSCAPE_EDIT_COLUMNS = ("edit", "edit_type", "n_features", "value", "n_cells", "area_km2",
                          "n_cells_changed", "area_changed_km2")


def cell_area_km2(transform: Affine) -> float:
    """Area of one grid cell (km²)."""
    return abs(transform.a * transform.e) / 1e6


def edit_mask(
    frame: gpd.GeoDataFrame, *, shape: tuple[int, int], transform: Affine, width_m: float = 0.0,
) -> np.ndarray:
    """Cells an edit's features cover: polygon cells by centre, line cells touched.

    Lines are widened to polygons of ``width_m`` when it is positive.
    """
    mask = np.zeros(shape, dtype=bool)
    polys = [g for g in frame.geometry if "Polygon" in g.geom_type]
    lines = [g for g in frame.geometry if "LineString" in g.geom_type]
    if width_m > 0:
        polys += [g.buffer(width_m / 2.0) for g in lines]
        lines = []
    for geoms, touched in ((polys, False), (lines, True)):
        if geoms:
            mask |= rasterize([(g, 1) for g in geoms], out_shape=shape, transform=transform,
                              fill=0, all_touched=touched, dtype="uint8").astype(bool)
    return mask


def _row(edit: Edit, *, n_features: int, value: Any, mask: np.ndarray, changed: np.ndarray,
         transform: Affine) -> dict[str, Any]:
    area = cell_area_km2(transform)
    return {"edit": edit.index, "edit_type": edit.kind, "n_features": n_features,
            "value": value, "n_cells": int(mask.sum()), "area_km2": float(mask.sum()) * area,
            "n_cells_changed": int(changed.sum()),
            "area_changed_km2": float(changed.sum()) * area}


def restore_landcover(
    classes: np.ndarray, polygons: gpd.GeoDataFrame, *, edit: Edit, transform: Affine,
    sea: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Set the cells of ``polygons`` to the edit's class (open sea excluded).

    Raises
    ------
    ConfigError
        If the polygons cover no cell centre of the grid (outside open sea).
    """
    name = str(edit.options["class"])
    mask = edit_mask(polygons, shape=classes.shape, transform=transform)
    if sea is not None:
        mask &= ~sea
    if not mask.any():
        raise ConfigError(f"{edit.label}: the polygons of {edit.options['path']!r} cover no cell "
                          f"centre of the {abs(transform.a):g} m grid (outside open sea); "
                          "expected polygons larger than a cell")
    code = CLASS_CODES[name]
    changed = mask & (classes != code)
    out = classes.copy()
    out[mask] = code
    logger.info("%s: %d cells to %s (%d changed)", edit.label, int(mask.sum()), name,
                int(changed.sum()))
    return out, _row(edit, n_features=len(polygons), value=name, mask=mask, changed=changed,
                     transform=transform)


def add_barrier(
    resistance: np.ndarray, features: gpd.GeoDataFrame, *, edit: Edit, transform: Affine,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Raise the resistance of the features' cells to at least the edit's ``resistance``.

    Raises
    ------
    ConfigError
        If the features cover no cell.
    """
    value = float(edit.options["resistance"])
    mask = edit_mask(features, shape=resistance.shape, transform=transform,
                     width_m=float(edit.get("width_m", 0.0))) & np.isfinite(resistance)
    if not mask.any():
        raise ConfigError(f"{edit.label}: the features of {edit.options['path']!r} cover no "
                          "passable cell of the grid; expected a barrier inside the grid")
    out = resistance.copy()
    changed = mask & (out < value)
    out[changed] = value
    return out, _row(edit, n_features=len(features), value=value, mask=mask, changed=changed,
                     transform=transform)


def restore_barriers(
    resistance: np.ndarray, barriers: gpd.GeoDataFrame, *, edit: Edit, transform: Affine,
    radius_m: float, restored_resistance: float,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Lower the resistance around the ``top_n`` best barrier sites to the restored value.

    Fewer sites than ``top_n`` restores all of them (with a warning).

    Raises
    ------
    DataError
        If there is no barrier site.
    """
    if barriers.empty:
        raise DataError(f"{edit.label}: the baseline has no barrier site to restore")
    top_n = int(edit.options["top_n"])
    value = float(edit.get("resistance", restored_resistance))
    ranked = barriers.sort_values(["weighted_score", "barrier_id"],
                                  ascending=[False, True]).head(top_n)
    if len(ranked) < top_n:
        logger.warning("%s: %d barrier sites, fewer than top_n = %d: all restored", edit.label,
                       len(ranked), top_n)
    cell = abs(transform.a)
    disk = disk_footprint(radius_m / cell)
    r = disk.shape[0] // 2
    n_rows, n_cols = np.shape(resistance)[0], np.shape(resistance)[1]
    mask = np.zeros((n_rows, n_cols), dtype=bool)
    for point in ranked.geometry:
        row, col = rowcol(transform, point.x, point.y)
        r0, c0 = row - r, col - r
        rs = slice(max(r0, 0), min(row + r + 1, n_rows))
        cs = slice(max(c0, 0), min(col + r + 1, n_cols))
        mask[rs, cs] |= disk[rs.start - r0:rs.stop - r0, cs.start - c0:cs.stop - c0]
    mask &= np.isfinite(resistance)
    out = resistance.copy()
    changed = mask & (out > value)
    out[changed] = value
    return out, _row(edit, n_features=len(ranked), value=value, mask=mask, changed=changed,
                     transform=transform)


def apply_landcover_edits(
    classes: np.ndarray, edits: Sequence[Edit], *, geometries: Mapping[int, gpd.GeoDataFrame],
    transform: Affine, sea: np.ndarray | None = None,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Apply a scenario's land-cover edits in order; return the classes and report rows."""
    rows = []
    for edit in edits:
        if edit.kind == "restore_landcover":
            classes, row = restore_landcover(classes, geometries[edit.index], edit=edit,
                                             transform=transform, sea=sea)
            rows.append(row)
    return classes, rows


def apply_resistance_edits(
    resistance: np.ndarray, edits: Sequence[Edit], *, geometries: Mapping[int, gpd.GeoDataFrame],
    transform: Affine, barriers: gpd.GeoDataFrame | None, radius_m: float,
    restored_resistance: float,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Apply a scenario's barrier edits in order; return the resistance and report rows."""
    rows = []
    for edit in edits:
        if edit.kind == "add_barrier":
            resistance, row = add_barrier(resistance, geometries[edit.index], edit=edit,
                                          transform=transform)
        elif edit.kind == "restore_barriers":
            resistance, row = restore_barriers(
                resistance, barriers if barriers is not None else gpd.GeoDataFrame(),
                edit=edit, transform=transform, radius_m=radius_m,
                restored_resistance=restored_resistance)
        else:
            continue
        rows.append(row)
    return resistance, rows


def edits_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Return the report rows as ``landscape_edits.csv``."""
    return pd.DataFrame(list(rows), columns=list(LANDSCAPE_EDIT_COLUMNS))
