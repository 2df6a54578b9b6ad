"""Travel-time surface: minutes from every raster cell to the nearest city seat (or the core city).

The speed of a cell (:func:`speed_grid`) is

* the speed of the fastest road crossing it, roads burnt in at their graph speed (``speed_kph``
  of the road layer; lines rasterised with ``all_touched`` so they stay 8-connected); a road
  also crosses an impassable cell (a bridge);
* else the off-road speed of its land-cover class (``speed_by_code``: km/h per land-cover code,
  0 = impassable). The workflow uses the common classes of ``results/{cluster}/landcover.tif``
  and the walking speeds of ``transport.surface.offroad_speeds_kph`` (docs/metrics.md,
  "Travel-time surface");
* impassable where ``impassable`` is set (open sea), unless a road crosses it.

Solver: :func:`agglonet.grid_dijkstra.cost_distance` with all seat cells as starts, one pass:
the compiled grid Dijkstra on the cost array (a step costs the mean of the two cells' costs
times the step length, √2 on diagonals, so costs in minutes per metre give minutes); impassable
cells are ``inf`` and never entered. It is the cost of ``skimage.graph.MCP_Geometric`` (the
solver before, same minutes to the last bit on an 8 M-cell test grid with 26 seats) in 2.7 × less
CPU time (3.0 s against 8.1 s there), and needs no explicit 8-neighbour CSR as a
``scipy.sparse.csgraph`` grid graph would. :func:`travel_time_from` takes a speed grid, so the
workflow burns the roads in once for both surfaces (to all seats and to the core city).

The grid covers the cluster plus ``retrieve.buffer_km`` (and the corners of its bounding box);
:func:`cluster_cells` flags the cells inside the cluster, on which the per-city figures
(:func:`city_cell_times`) and the colour ramps are computed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from rasterio.features import rasterize
from rasterio.transform import rowcol

from agglonet.crs import require_crs
from agglonet.errors import DataError, UnknownCityError
from agglonet.grid import check_memory
from agglonet.grid_dijkstra import cost_distance
from agglonet.names import normalise_alias, strip_suffix

logger = logging.getLogger(__name__)

#: Columns :func:`city_cell_times` adds to the per-city table (``accessibility.csv``).
CITY_CELL_COLUMNS: tuple[str, ...] = (
    "n_cells", "n_cells_unreachable", "cells_to_seat_mean_min", "cells_to_seat_median_min",
    "cells_to_core_mean_min", "cells_to_core_median_min",
)


def offroad_speed_grid(landcover: np.ndarray, *, speed_by_code: Mapping[int, float]) -> np.ndarray:
    """Return the off-road speed (km/h) of every cell from its land-cover code.

    Parameters
    ----------
    landcover
        Integer land-cover codes on the grid.
    speed_by_code
        Speed in km/h per code; 0 makes the code impassable.

    Raises
    ------
    DataError
        If a speed is negative or a code on the grid has no speed (the codes are named).
    """
    if bad := {code: kph for code, kph in speed_by_code.items() if not kph >= 0}:
        raise DataError(f"off-road speeds must be >= 0 km/h (0 = impassable); got {bad}")
    codes = np.asarray(landcover)
    present = {int(c) for c in np.unique(codes)}
    if missing := sorted(present - {int(c) for c in speed_by_code}):
        raise DataError(f"land-cover codes {missing} on the grid have no off-road speed; "
                        f"speeds are given for codes {sorted(int(c) for c in speed_by_code)}")
    lookup = np.zeros(max(present | {int(c) for c in speed_by_code}) + 1, dtype=np.float64)
    for code, kph in speed_by_code.items():
        lookup[int(code)] = float(kph)
    return lookup[codes.astype(np.int64)]


def speed_grid(
    roads: gpd.GeoDataFrame,
    *,
    transform: Affine,
    landcover: np.ndarray,
    speed_by_code: Mapping[int, float],
    impassable: np.ndarray | None = None,
) -> np.ndarray:
    """Speed (km/h) of every cell: roads burnt in, else the land-cover speed; 0 = impassable.

    Parameters
    ----------
    roads
        Lines with ``speed_kph``, in the raster's CRS.
    transform
        Grid transform (the grid's shape is ``landcover.shape``).
    landcover, speed_by_code
        Land-cover codes on the grid and the off-road speed of each code
        (:func:`offroad_speed_grid`).
    impassable
        Boolean grid of cells no one crosses off-road (open sea); a road still crosses them.

    Raises
    ------
    DataError
        On a missing or negative speed, or a mask whose shape differs from the land cover.
    """
    speed = offroad_speed_grid(landcover, speed_by_code=speed_by_code)
    if impassable is not None:
        if impassable.shape != speed.shape:
            raise DataError(f"impassable mask shape {impassable.shape} differs from the land-cover "
                            f"grid {speed.shape}")
        speed[np.asarray(impassable, dtype=bool)] = 0.0
    if len(roads):
        ordered = roads.sort_values("speed_kph")  # rasterize: later shapes overwrite earlier
        burnt = rasterize(
            ((geom, float(s)) for geom, s in zip(ordered.geometry, ordered["speed_kph"],
                                                 strict=True) if geom is not None),
            out_shape=speed.shape, transform=transform, fill=0.0, all_touched=True,
            dtype="float64",
        )
        on_road = burnt > 0
        speed[on_road] = np.maximum(burnt[on_road], speed[on_road])
    return speed


def travel_time_surface(
    roads: gpd.GeoDataFrame,
    seats: gpd.GeoDataFrame,
    *,
    transform: Affine,
    crs: Any,
    landcover: np.ndarray,
    speed_by_code: Mapping[int, float],
    impassable: np.ndarray | None = None,
) -> np.ndarray:
    """Minutes from every cell to the nearest seat (float32; NaN where no seat can be reached).

    Parameters
    ----------
    roads
        Road lines with ``speed_kph`` (any CRS; reprojected to ``crs``).
    seats
        Seat points (any CRS); seats outside the grid are ignored with a warning.
    transform, crs
        The cluster grid (metric CRS, square cells); its shape is ``landcover.shape``.
    landcover, speed_by_code, impassable
        See :func:`speed_grid`.

    Raises
    ------
    DataError
        If no seat lies on the grid, on a missing or negative speed, or on cells that are not
        square.
    """
    roads = require_crs(roads, what="roads").to_crs(crs)
    speed = speed_grid(roads, transform=transform, landcover=landcover,
                       speed_by_code=speed_by_code, impassable=impassable)
    return travel_time_from(speed, seats, transform=transform, crs=crs)


#: Bytes per grid cell of :func:`travel_time_from` at its peak: the cost grid (8), the
#: Dijkstra's distances, heap keys, heap cells and slots (8 + 8 + 4 + 4) and the float32 result.
SURFACE_BYTES_PER_CELL = 36


def travel_time_from(speed: np.ndarray, seats: gpd.GeoDataFrame, *, transform: Affine,
                     crs: Any) -> np.ndarray:
    """Minutes from every cell to the nearest seat over a speed grid (float32; NaN: unreachable).

    Parameters
    ----------
    speed
        Speed of every cell (km/h, 0 = impassable), e.g. :func:`speed_grid`; not modified.
    seats
        Seat points (any CRS); seats outside the grid are ignored with a warning. A seat on an
        impassable cell starts there at the slowest passable speed.
    transform, crs
        The grid (metric CRS, square cells).

    Raises
    ------
    DataError
        If no seat lies on the grid, or the cells are not square.
    agglonet.errors.ConfigError
        If the arrays cannot fit in memory (names ``retrieve.resolution_m``).
    """
    seats = require_crs(seats, what="seats").to_crs(crs)
    shape = speed.shape
    res_x, res_y = abs(transform.a), abs(transform.e)
    if not np.isclose(res_x, res_y, rtol=1e-9):
        raise DataError(f"grid cells are {res_x} × {res_y} m; expected square cells")
    check_memory(shape, bytes_per_cell=SURFACE_BYTES_PER_CELL, what="travel-time surface",
                 resolution_m=res_x)
    rows, cols = rowcol(transform, seats.geometry.x.to_numpy(), seats.geometry.y.to_numpy())
    rows, cols = np.asarray(rows), np.asarray(cols)
    inside = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
    if not inside.any():
        raise DataError("no seat lies on the raster grid; check the CRS of seats and grid")
    if (~inside).any():
        logger.warning("%d seats lie outside the grid and are ignored", int((~inside).sum()))
    starts = sorted({(int(r), int(c)) for r, c in zip(rows[inside], cols[inside], strict=True)})
    passable = speed > 0
    slowest = float(speed[passable].min()) if passable.any() else 1.0
    with np.errstate(divide="ignore"):
        cost_min_per_m = np.where(passable, 60.0 / (speed * 1000.0), np.inf)
    for r, c in starts:  # a seat on an impassable cell still starts there, at the slowest speed
        if speed[r, c] <= 0:
            cost_min_per_m[r, c] = 60.0 / (slowest * 1000.0)
    flat = np.array([r * shape[1] + c for r, c in starts], dtype=np.int64)
    minutes = cost_distance(cost_min_per_m, flat, cell_size_m=res_x)
    del cost_min_per_m
    out = minutes.astype(np.float32)
    out[~np.isfinite(out)] = np.nan
    return out


def cluster_cells(cluster: gpd.GeoDataFrame, *, shape: tuple[int, int],
                  transform: Affine, crs: Any) -> np.ndarray:
    """Boolean grid of the cells whose centre lies inside the cluster polygon(s).

    Parameters
    ----------
    cluster
        The cluster polygon (layer ``cluster`` of ``boundaries.gpkg``) or its member cities.
    shape, transform, crs
        The grid.
    """
    polygons = require_crs(cluster, what="cluster polygon").to_crs(crs)
    return rasterize(((geom, 1) for geom in polygons.geometry if geom is not None),
                     out_shape=shape, transform=transform, fill=0, dtype="uint8").astype(bool)


def city_cell_times(
    cities: gpd.GeoDataFrame,
    *,
    to_seat_min: np.ndarray,
    to_core_min: np.ndarray,
    transform: Affine,
    crs: Any,
) -> pd.DataFrame:
    """Mean and median travel time over each city's cells, to the nearest seat and to the core.

    A cell belongs to the city whose polygon holds its centre. Means and medians are over the
    city's cells with a finite time; cells no seat can reach (cut off by water or sea) are
    counted in ``n_cells_unreachable``.

    Parameters
    ----------
    cities
        Member city polygons with ``adcode`` (layer ``cities`` of ``boundaries.gpkg``).
    to_seat_min, to_core_min
        The two surfaces (:func:`travel_time_surface` to all seats and to the core seat).
    transform, crs
        Their grid.

    Returns
    -------
    pandas.DataFrame
        ``adcode`` and :data:`CITY_CELL_COLUMNS`, one row per city in the input order (a city
        smaller than one cell has 0 cells and empty times).
    """
    polygons = require_crs(cities, what="cities").to_crs(crs)
    if to_seat_min.shape != to_core_min.shape:
        raise DataError(f"surface shapes differ: {to_seat_min.shape} and {to_core_min.shape}")
    labels = rasterize(((geom, i + 1) for i, geom in enumerate(polygons.geometry)
                        if geom is not None),
                       out_shape=to_seat_min.shape, transform=transform, fill=0, dtype="int32")
    rows = []
    for i, adcode in enumerate(polygons["adcode"].astype(str)):
        mine = labels == i + 1
        seat, core = to_seat_min[mine].astype(float), to_core_min[mine].astype(float)
        ok_seat, ok_core = np.isfinite(seat), np.isfinite(core)
        rows.append({
            "adcode": adcode, "n_cells": int(mine.sum()),
            "n_cells_unreachable": int((~ok_seat).sum()),
            "cells_to_seat_mean_min": _stat(np.mean, seat[ok_seat]),
            "cells_to_seat_median_min": _stat(np.median, seat[ok_seat]),
            "cells_to_core_mean_min": _stat(np.mean, core[ok_core]),
            "cells_to_core_median_min": _stat(np.median, core[ok_core]),
        })
    return pd.DataFrame(rows, columns=["adcode", *CITY_CELL_COLUMNS])


def _stat(func: Any, values: np.ndarray) -> float:
    return float(func(values)) if values.size else float("nan")


def core_seat(seats: gpd.GeoDataFrame, core_city: str | int | None = None) -> gpd.GeoDataFrame:
    """Return the seat of the cluster's core city, as a one-row GeoDataFrame.

    Parameters
    ----------
    seats
        Seat points with ``adcode``, ``name_zh``, ``name_en`` and ``population``.
    core_city
        Adcode, Chinese name (with or without 市) or English name of the core city; ``None``
        picks the most populous seat (ties: the smaller adcode).

    Raises
    ------
    UnknownCityError
        If ``core_city`` names none of the seats (the seats are listed).
    """
    if core_city is None:
        population = seats["population"].astype("Float64").fillna(-1.0)
        order = seats.assign(_pop=population).sort_values(["_pop", "adcode"],
                                                         ascending=[False, True])
        return order.drop(columns="_pop").iloc[[0]]
    text = str(core_city).strip()
    if text.isdigit():
        hit = seats[seats["adcode"].isin({text, text.zfill(6)})]
    else:  # the catalogue's matching rules: 市 optional, English case/spacing ignored
        hit = seats[(seats["name_zh"].map(strip_suffix) == strip_suffix(text))
                    | (seats["name_en"].fillna("").map(normalise_alias) == normalise_alias(text))]
    if len(hit) != 1:
        names = ", ".join(f"{a} {z} {e}" for a, z, e in
                          zip(seats["adcode"], seats["name_zh"], seats["name_en"], strict=True))
        raise UnknownCityError(f"transport.core_city {core_city!r} is not one of the cluster's "
                               f"cities: {names}")
    return hit
