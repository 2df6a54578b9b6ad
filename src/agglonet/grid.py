"""The cluster grid: the raster frame every raster of a cluster shares."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import shapely
from affine import Affine
from pyproj import CRS

from agglonet.crs import working_crs
from agglonet.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class GridSpec:
    """A north-up raster grid in a metric CRS.

    Attributes
    ----------
    transform
        Affine transform of the upper-left corner (pixel size ``resolution_m``).
    width, height
        Number of columns and rows.
    crs
        The working CRS (WKT string, so that the dataclass stays hashable and picklable).
    bounds
        ``(left, bottom, right, top)`` in metres.
    """

    transform: Affine
    width: int
    height: int
    crs: str
    bounds: tuple[float, float, float, float]

    @property
    def resolution_m(self) -> float:
        """Pixel size (metres)."""
        return float(self.transform.a)

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)``, the shape of an array on this grid."""
        return self.height, self.width

    def profile(self) -> dict[str, Any]:
        """Rasterio-style georeferencing (``transform``, ``width``, ``height``, ``crs``)."""
        return {"transform": self.transform, "width": self.width, "height": self.height,
                "crs": self.crs}


def cluster_grid(
    cluster_polygon: shapely.Geometry,
    *,
    buffer_m: float,
    resolution_m: float,
    crs: str | CRS | None = None,
) -> GridSpec:
    """Grid covering a cluster polygon plus a buffer, snapped outward to the resolution.

    Parameters
    ----------
    cluster_polygon
        The dissolved cluster polygon, in ``crs``.
    buffer_m
        Margin added on every side (metres).
    resolution_m
        Pixel size (metres).
    crs
        Working CRS of the polygon (metric); default :data:`agglonet.crs.CHINA_ALBERS`.

    Returns
    -------
    GridSpec
        Bounds are multiples of ``resolution_m``, so grids of neighbouring clusters align.

    Raises
    ------
    ConfigError
        Non-positive resolution, negative buffer or empty polygon.

    Examples
    --------
    >>> g = cluster_grid(shapely.box(1500, 2500, 9200, 7100), buffer_m=0, resolution_m=1000)
    >>> g.bounds, g.width, g.height
    ((1000.0, 2000.0, 10000.0, 8000.0), 9, 6)
    """
    if not resolution_m > 0:
        raise ConfigError(f"retrieve.resolution_m {resolution_m!r} must be > 0 (metres)")
    if buffer_m < 0:
        raise ConfigError(f"retrieve.buffer_km gives a buffer of {buffer_m!r} m; expected >= 0")
    if cluster_polygon is None or cluster_polygon.is_empty:
        raise ConfigError("cluster polygon is empty; cannot build a grid")
    target = working_crs(crs)
    minx, miny, maxx, maxy = cluster_polygon.bounds
    left = math.floor((minx - buffer_m) / resolution_m) * resolution_m
    bottom = math.floor((miny - buffer_m) / resolution_m) * resolution_m
    right = math.ceil((maxx + buffer_m) / resolution_m) * resolution_m
    top = math.ceil((maxy + buffer_m) / resolution_m) * resolution_m
    width = int(round((right - left) / resolution_m))
    height = int(round((top - bottom) / resolution_m))
    return GridSpec(
        transform=Affine(resolution_m, 0.0, left, 0.0, -resolution_m, top),
        width=width, height=height, crs=target.to_wkt(),
        bounds=(float(left), float(bottom), float(right), float(top)),
    )
