"""Travel-time surface: minutes from every raster cell to the nearest city seat.

Roads are burnt into the cluster grid at their speed (the fastest road wins in a cell; lines are
rasterised with ``all_touched`` so they stay 8-connected), every other cell is crossed at the
off-road speed, and water cells (land-cover classes given by ``water_codes``; IGBP 0 on the
offline MODIS grid) are barriers when ``water_barrier`` — unless a road crosses them (a bridge).

Solver: ``skimage.graph.MCP_Geometric`` with all seat cells as starts, one pass. It runs the
grid Dijkstra in C directly on the cost array (a step costs the mean of the two cells' costs
times the step length, √2 on diagonals, so costs in minutes per metre give minutes), and
impassable cells are simply ``inf``. A ``scipy.sparse.csgraph`` grid graph would give the same
answer but needs an explicit 8-neighbour CSR (~8 stored edges per cell) built first; MCP avoids
that memory and build time (peers.md: 0.43 s on 1 M cells for 9 sources).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
from affine import Affine
from rasterio.features import rasterize
from rasterio.transform import rowcol
from skimage.graph import MCP_Geometric

from agglonet.crs import require_crs
from agglonet.errors import DataError, UnknownCityError
from agglonet.names import normalise_alias, strip_suffix

logger = logging.getLogger(__name__)

#: IGBP class 0 is water on MODIS MCD12 grids.
IGBP_WATER_CODES: tuple[int, ...] = (0,)
#: Water codes by the ``classification`` tag of ``landcover_source.tif``.
WATER_CODES_BY_CLASSIFICATION: dict[str, tuple[int, ...]] = {
    "modis_igbp": (0,),
    "esa_worldcover": (80,),
    "clcd": (5,),
    "globeland30": (60,),
}


def water_codes_for(classification: str | None) -> tuple[int, ...]:
    """Water class codes of a land-cover classification (IGBP when unknown or ``None``)."""
    if classification is None:
        return IGBP_WATER_CODES
    if classification not in WATER_CODES_BY_CLASSIFICATION:
        logger.warning("unknown land-cover classification %r: treating IGBP code 0 as water",
                       classification)
    return WATER_CODES_BY_CLASSIFICATION.get(classification, IGBP_WATER_CODES)


def speed_grid(
    roads: gpd.GeoDataFrame,
    *,
    shape: tuple[int, int],
    transform: Affine,
    offroad_speed_kph: float,
    landcover: np.ndarray | None = None,
    water_codes: Iterable[int] = IGBP_WATER_CODES,
    water_barrier: bool = True,
) -> np.ndarray:
    """Speed (km/h) of every cell: roads burnt in, off-road speed elsewhere, water 0 (barrier).

    Parameters
    ----------
    roads
        Lines with ``speed_kph``, in the raster's CRS.
    shape, transform
        Grid.
    offroad_speed_kph
        Speed of cells without a road.
    landcover
        Land-cover codes on the grid (optional); cells whose code is in ``water_codes`` become
        barriers (speed 0) when ``water_barrier``.
    """
    if offroad_speed_kph <= 0:
        raise DataError(f"offroad_speed_kph must be > 0, got {offroad_speed_kph}")
    speed = np.full(shape, float(offroad_speed_kph), dtype=np.float64)
    if landcover is not None and water_barrier:
        if landcover.shape != tuple(shape):
            raise DataError(f"land-cover grid shape {landcover.shape} differs from {shape}")
        speed[np.isin(landcover, list(water_codes))] = 0.0
    if len(roads):
        ordered = roads.sort_values("speed_kph")  # rasterize: later shapes overwrite earlier
        burnt = rasterize(
            ((geom, float(s)) for geom, s in zip(ordered.geometry, ordered["speed_kph"],
                                                 strict=True) if geom is not None),
            out_shape=shape, transform=transform, fill=0.0, all_touched=True, dtype="float64",
        )
        on_road = burnt > 0
        speed[on_road] = np.maximum(burnt[on_road], offroad_speed_kph)
    return speed


def travel_time_surface(
    roads: gpd.GeoDataFrame,
    seats: gpd.GeoDataFrame,
    *,
    shape: tuple[int, int],
    transform: Affine,
    crs: Any,
    offroad_speed_kph: float = 5.0,
    landcover: np.ndarray | None = None,
    water_codes: Iterable[int] = IGBP_WATER_CODES,
    water_barrier: bool = True,
) -> np.ndarray:
    """Minutes from every cell to the nearest seat (float32; NaN where no seat can be reached).

    Parameters
    ----------
    roads
        Road lines with ``speed_kph`` (any CRS; reprojected to ``crs``).
    seats
        Seat points (any CRS); seats outside the grid are ignored with a warning.
    shape, transform, crs
        The cluster grid (metric CRS, square or rectangular cells).
    offroad_speed_kph, landcover, water_codes, water_barrier
        See :func:`speed_grid`.

    Raises
    ------
    DataError
        If no seat lies on the grid.
    """
    roads = require_crs(roads, what="roads").to_crs(crs)
    seats = require_crs(seats, what="seats").to_crs(crs)
    speed = speed_grid(roads, shape=shape, transform=transform,
                       offroad_speed_kph=offroad_speed_kph, landcover=landcover,
                       water_codes=water_codes, water_barrier=water_barrier)
    rows, cols = rowcol(transform, seats.geometry.x.to_numpy(), seats.geometry.y.to_numpy())
    rows, cols = np.asarray(rows), np.asarray(cols)
    inside = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
    if not inside.any():
        raise DataError("no seat lies on the raster grid; check the CRS of seats and grid")
    if (~inside).any():
        logger.warning("%d seats lie outside the grid and are ignored", int((~inside).sum()))
    starts = sorted({(int(r), int(c)) for r, c in zip(rows[inside], cols[inside], strict=True)})
    for r, c in starts:  # a seat on a water cell still starts there
        if speed[r, c] <= 0:
            speed[r, c] = offroad_speed_kph
    with np.errstate(divide="ignore"):
        cost_min_per_m = np.where(speed > 0, 60.0 / (speed * 1000.0), np.inf)
    res_x, res_y = abs(transform.a), abs(transform.e)
    mcp = MCP_Geometric(cost_min_per_m, fully_connected=True, sampling=(res_y, res_x))
    minutes, _ = mcp.find_costs(starts)
    out = np.asarray(minutes, dtype=np.float32)
    out[~np.isfinite(out)] = np.nan
    return out


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
