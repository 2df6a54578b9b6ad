"""Resistance surface: land-cover class values × slope factor + road penalties.

R = class_value(land cover) · slope_factor(slope) + road_penalty(road class)

* class values come from ``ecology.resistance.class_values`` (keys of
  :data:`agglonet.ecology.landcover.CLASS_CODES`); land-cover no-data cells take the value under
  the key ``nodata`` when it is given (a high but finite value: the matrix around the study area
  stays passable), and are impassable (NaN) when it is not;
* slope in degrees from the DEM with :func:`numpy.gradient` on the metric grid; the factor is
  ``slope_factors[i]`` for the i-th interval of ``slope_breaks_deg`` (``len(factors) = len(breaks)
  + 1``); cells with no DEM take factor 1;
* road penalties by class are burnt with ``rasterio.features.rasterize(all_touched=True)``; a link
  (``motorway_link`` …) takes its parent's penalty; where roads of several classes share a cell the
  highest penalty wins; ``road_buffer_m`` > 0 widens the roads before burning;
* ``impassable`` cells (open sea, ``resources/{cluster}/sea_mask.tif``) are NaN whatever their
  class: they are not land an animal crosses (:func:`mask_impassable`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
from affine import Affine
from rasterio.features import rasterize

from agglonet.crs import require_crs
from agglonet.ecology.landcover import CLASS_CODES, NODATA
from agglonet.errors import ConfigError, DataError
from agglonet.grid import check_memory
from agglonet.osm import parent_class, tag_values

logger = logging.getLogger(__name__)


def slope_degrees(dem: np.ndarray, *, cell_size_m: float) -> np.ndarray:
    """Slope (degrees) of a DEM on a metric grid (central differences; NaN where DEM is NaN)."""
    dz_dy, dz_dx = np.gradient(np.asarray(dem, dtype=float), cell_size_m)
    return np.degrees(np.arctan(np.hypot(dz_dx, dz_dy)))


def slope_factor(
    slope_deg: np.ndarray, *, breaks_deg: Sequence[float], factors: Sequence[float]
) -> np.ndarray:
    """Multiplier per cell: ``factors[i]`` for slopes in the i-th interval of ``breaks_deg``.

    Examples
    --------
    >>> slope_factor(np.array([0.0, 5.0, 20.0, np.nan]), breaks_deg=[5, 15], factors=[1, 2, 3])
    array([1., 2., 3., 1.])
    """
    if len(factors) != len(breaks_deg) + 1:
        raise ConfigError(
            f"ecology.resistance.slope_factors has {len(factors)} values; expected "
            f"{len(breaks_deg) + 1} (one more than slope_breaks_deg {list(breaks_deg)})"
        )
    if list(breaks_deg) != sorted(breaks_deg):
        raise ConfigError(f"ecology.resistance.slope_breaks_deg {list(breaks_deg)} must increase")
    idx = np.digitize(np.nan_to_num(slope_deg, nan=-1.0), breaks_deg, right=False)
    out = np.asarray(factors, dtype=float)[idx]
    out[~np.isfinite(slope_deg)] = 1.0
    return out


def road_class(highway: Any, penalties: Mapping[str, float]) -> str | None:
    """Return the penalty class of a ``highway`` value (links → parent; lists → highest penalty).

    Examples
    --------
    >>> road_class("trunk_link", {"trunk": 300})
    'trunk'
    >>> road_class("['secondary', 'primary']", {"primary": 200, "secondary": 100})
    'primary'
    """
    best: str | None = None
    for value in tag_values(highway):
        name = parent_class(value.strip())
        if name in penalties and (best is None or penalties[name] > penalties[best]):
            best = name
    return best


def road_penalty_raster(
    roads: gpd.GeoDataFrame | None,
    *,
    penalties: Mapping[str, float],
    transform: Affine,
    shape: tuple[int, int],
    crs: Any,
    buffer_m: float = 0.0,
) -> np.ndarray:
    """Burn road penalties by class (highest wins) on the grid; 0 where there is no road."""
    out = np.zeros(shape, dtype=float)
    if roads is None or roads.empty:
        return out
    require_crs(roads, what="roads")
    if "highway" not in roads.columns:
        raise DataError(f"roads layer has no 'highway' column (columns: {list(roads.columns)})")
    roads = roads.to_crs(crs)
    classes = roads["highway"].map(lambda h: road_class(h, penalties))
    frame = roads.assign(_class=classes).dropna(subset=["_class"])
    if frame.empty:
        return out
    frame = frame.assign(_penalty=frame["_class"].map(penalties).astype(float))
    geoms = frame.geometry.buffer(buffer_m) if buffer_m > 0 else frame.geometry
    # Burn low penalties first, so the highest penalty overwrites where classes share a cell.
    order = np.argsort(frame["_penalty"].to_numpy(), kind="stable")
    burnt = rasterize(
        ((geoms.iloc[i], frame["_penalty"].iloc[i]) for i in order),
        out_shape=shape, transform=transform, fill=0.0, all_touched=True, dtype="float64",
    )
    logger.info("road penalties burnt on %d cells from %d roads",
                int((burnt > 0).sum()), len(frame))
    return burnt


def mask_impassable(resistance: np.ndarray, impassable: np.ndarray | None) -> np.ndarray:
    """Return a float copy of ``resistance`` with the ``impassable`` cells set to NaN.

    Raises
    ------
    DataError
        If the mask's shape differs from the raster's.

    Examples
    --------
    >>> mask_impassable(np.array([[1.0, 5.0]]), np.array([[False, True]]))
    array([[ 1., nan]])
    """
    out = np.array(resistance, dtype=float)
    if impassable is None:
        return out
    impassable = np.asarray(impassable, dtype=bool)
    if impassable.shape != out.shape:
        raise DataError(f"impassable mask shape {impassable.shape} differs from the resistance "
                        f"raster's {out.shape}")
    out[impassable] = np.nan
    return out


#: Bytes per grid cell of :func:`resistance_surface` at its peak (six float64 arrays).
RESISTANCE_BYTES_PER_CELL = 48


def resistance_surface(
    classes: np.ndarray,
    *,
    class_values: Mapping[str, float],
    transform: Affine,
    crs: Any,
    dem: np.ndarray | None = None,
    slope_breaks_deg: Sequence[float] = (),
    slope_factors: Sequence[float] = (1.0,),
    roads: gpd.GeoDataFrame | None = None,
    road_penalty: Mapping[str, float] | None = None,
    road_buffer_m: float = 0.0,
    impassable: np.ndarray | None = None,
) -> np.ndarray:
    """Resistance per cell: class value × slope factor + road penalty; NaN where impassable.

    Parameters
    ----------
    classes
        ``landcover.tif`` array (codes of :data:`CLASS_CODES`, 255 = no data).
    class_values
        Class name → resistance; optional ``nodata`` key for no-data cells (else NaN).
    transform, crs
        Grid georeferencing (square cells in metres).
    dem
        Elevation (m) on the same grid, NaN = no data; ``None`` skips the slope factor.
    slope_breaks_deg, slope_factors
        Slope classes and their multipliers.
    roads
        Lines with a ``highway`` column (``resources/{cluster}/roads.gpkg`` layer ``roads``).
    road_penalty
        Road class → added resistance.
    road_buffer_m
        Widen roads by this much before burning.
    impassable
        Boolean cells that are NaN whatever their class (open sea); ``None`` = none.

    Returns
    -------
    numpy.ndarray
        float32 resistance, NaN = impassable.

    Raises
    ------
    ConfigError
        A class present on the grid has no value in ``class_values``; bad slope table.
    DataError
        The DEM's shape differs from the land cover's; no passable cell.
    """
    classes = np.asarray(classes)
    # float64 values, slope, two gradients, factor and road penalty at the peak
    check_memory(classes.shape, bytes_per_cell=RESISTANCE_BYTES_PER_CELL,
                 what="resistance surface", resolution_m=abs(transform.a))
    values = np.full(classes.shape, np.nan)
    present = set(np.unique(classes).tolist())
    for name, code in CLASS_CODES.items():
        if code not in present:
            continue
        if name not in class_values:
            raise ConfigError(
                f"land-cover class {name!r} occurs on the grid but has no value in "
                f"ecology.resistance.class_values (given: {sorted(class_values)})"
            )
        values[classes == code] = float(class_values[name])
    if NODATA in present and "nodata" in class_values:
        values[classes == NODATA] = float(class_values["nodata"])
    unknown = present - set(CLASS_CODES.values()) - {NODATA}
    if unknown:
        raise DataError(f"land-cover codes {sorted(unknown)} are not common-class codes "
                        f"{sorted(CLASS_CODES.values())}")
    cell = abs(transform.a)
    if dem is not None:
        if dem.shape != classes.shape:
            raise DataError(f"DEM shape {dem.shape} differs from the land cover's {classes.shape}")
        factor = slope_factor(slope_degrees(dem, cell_size_m=cell), breaks_deg=slope_breaks_deg,
                              factors=slope_factors)
        values = values * factor
    if road_penalty:
        values = values + road_penalty_raster(roads, penalties=road_penalty, transform=transform,
                                              shape=classes.shape, crs=crs,
                                              buffer_m=road_buffer_m)
    values = mask_impassable(values, impassable)
    if not np.isfinite(values).any():
        raise DataError("the resistance surface has no passable cell (all land cover no data "
                        "or sea)")
    return values.astype(np.float32)
