"""Copernicus DEM GLO-90, read window by window from its COG tiles over HTTP.

The tiles are the 1° × 1° Cloud-Optimized GeoTIFFs of the public ``copernicus-dem-90m`` bucket
(Registry of Open Data on AWS, region eu-central-1; managed by Sinergise), each in a folder named
like the tile::

    https://copernicus-dem-90m.s3.eu-central-1.amazonaws.com/
        Copernicus_DSM_COG_30_N34_00_E113_00_DEM/Copernicus_DSM_COG_30_N34_00_E113_00_DEM.tif

``30`` is the spacing in arc-seconds (3″ ≈ 90 m; GLO-30 tiles say ``10``), ``N34``/``E113`` the
tile's south-west corner. Below 50° latitude the tiles are 1200 × 1200 cells of 3″. Open ocean has
no tile (HTTP 404): such tiles are skipped and their cells stay unknown (NaN), which the sea mask
(:mod:`agglonet.retrieve.landmask`) covers anyway.

Licence: GLO-90 is free for the general public under the Copernicus DEM licence (ESA
mission-specific annex of the Copernicus data access licence); products must carry the attribution
in :data:`COPERNICUS_ATTRIBUTION`.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
from rasterio.enums import Resampling
from rasterio.warp import reproject, transform_bounds

from agglonet.crs import WGS84
from agglonet.errors import ConfigError, DataError
from agglonet.provenance import SourceRecord, record_url
from agglonet.retrieve.worldcover import tile_pieces

logger = logging.getLogger(__name__)

#: Default tile URL (``{tile}`` = :func:`copernicus_tile_name`).
COPERNICUS_URL_TEMPLATE = ("https://copernicus-dem-90m.s3.eu-central-1.amazonaws.com/"
                           "{tile}/{tile}.tif")
#: Cell size of GLO-90 (degrees of latitude; the same in longitude below 50° latitude).
GLO90_CELL_DEG = 3.0 / 3600.0
COPERNICUS_LICENCE = "Copernicus DEM licence (GLO-90: free and open, attribution required)"
COPERNICUS_LICENCE_URL = ("https://spacedata.copernicus.eu/documents/20126/0/"
                          "CSCDA_ESA_Mission-specific+Annex.pdf")
COPERNICUS_ATTRIBUTION = ("Copernicus DEM GLO-90: produced using Copernicus WorldDEM-90 © DLR e.V. "
                          "2010-2014 and © Airbus Defence and Space GmbH 2014-2018 provided under "
                          "COPERNICUS by the European Union and ESA; all rights reserved")
DEM_NODATA = -9999.0


def copernicus_tile_name(lat: int, lon: int, *, arc_seconds: int = 30) -> str:
    """Name of the 1° tile whose south-west corner is ``(lat, lon)``.

    Examples
    --------
    >>> copernicus_tile_name(34, 113)
    'Copernicus_DSM_COG_30_N34_00_E113_00_DEM'
    >>> copernicus_tile_name(-1, -72)
    'Copernicus_DSM_COG_30_S01_00_W072_00_DEM'
    """
    ns = "N" if lat >= 0 else "S"
    ew = "E" if lon >= 0 else "W"
    return f"Copernicus_DSM_COG_{arc_seconds}_{ns}{abs(lat):02d}_00_{ew}{abs(lon):03d}_00_DEM"


def copernicus_tiles(bounds_wgs84: tuple[float, float, float, float]) -> list[str]:
    """Names of the 1° tiles covering ``(west, south, east, north)``, south to north, west to east.

    Examples
    --------
    >>> copernicus_tiles((113.2, 34.1, 114.5, 34.9))[1]
    'Copernicus_DSM_COG_30_N34_00_E114_00_DEM'
    """
    west, south, east, north = bounds_wgs84
    if not (west < east and south < north):
        raise DataError(f"bounds {bounds_wgs84} are empty; expected (west, south, east, north)")
    return [copernicus_tile_name(lat, lon)
            for lat in range(math.floor(south), math.ceil(north))
            for lon in range(math.floor(west), math.ceil(east))]


def retrieve_copernicus_dem(
    grid: Any,
    *,
    url_template: str = COPERNICUS_URL_TEMPLATE,
    cache_dir: str | Path | None = None,
    retries: int = 3,
    backoff_s: float = 1.0,
    timeout_s: float = 60.0,
) -> np.ndarray:
    """Elevation (m) on the grid from the Copernicus GLO-90 tiles, reading only what is needed.

    For each tile overlapping the grid (plus a one-cell margin) the overlapping window is read over
    HTTP (GDAL ``/vsicurl/``, range requests), averaged while reading to about a quarter of the
    grid's cell (GDAL serves that from the COG's overviews), cached, and reprojected to the grid
    with bilinear resampling.

    Parameters
    ----------
    grid
        The cluster grid (``agglonet.grid.GridSpec`` or anything with ``transform``, ``width``,
        ``height``, ``crs``).
    url_template
        URL (or local path) with a ``{tile}`` placeholder (:data:`COPERNICUS_URL_TEMPLATE`).
    cache_dir
        Folder of cached tile pieces; ``None`` disables the cache.
    retries, backoff_s, timeout_s
        As in :func:`agglonet.download.with_retries`; ``timeout_s`` per HTTP request.

    Returns
    -------
    numpy.ndarray
        float32 elevation, NaN where no tile covers a cell (open sea).

    Raises
    ------
    ConfigError
        The template has no ``{tile}``.
    DownloadError
        A tile could not be read after the retries (the message names the URL).
    DataError
        No tile covers the grid.
    """
    if "{tile}" not in url_template:
        raise ConfigError(f"retrieve.dem.url_template {url_template!r} has no '{{tile}}' "
                          "placeholder")
    height, width = int(grid.height), int(grid.width)
    cell_m = abs(grid.transform.a)
    left, top = grid.transform.c, grid.transform.f
    right, bottom = left + width * grid.transform.a, top + height * grid.transform.e
    bounds = transform_bounds(grid.crs, WGS84, left - cell_m, bottom - cell_m, right + cell_m,
                              top + cell_m, densify_pts=21)
    step_deg = cell_m / 4.0 / 111_320.0
    tiles = [(tile, url_template.format(tile=tile)) for tile in copernicus_tiles(bounds)]
    out = np.full((height, width), np.nan, dtype="float32")
    n_read = 0
    for _, (data, src_transform, src_crs, src_nodata) in tile_pieces(
            tiles, bounds, step_deg=step_deg, cache_dir=cache_dir, cache_prefix="copernicus",
            resampling=Resampling.average, retries=retries, backoff_s=backoff_s,
            timeout_s=timeout_s):
        values = data.astype("float32")
        if src_nodata is not None:
            values[values == src_nodata] = DEM_NODATA
        dest = np.full((height, width), DEM_NODATA, dtype="float32")
        reproject(source=values, destination=dest, src_transform=src_transform,
                  src_crs=src_crs or WGS84, src_nodata=DEM_NODATA, dst_transform=grid.transform,
                  dst_crs=grid.crs, dst_nodata=DEM_NODATA, resampling=Resampling.bilinear)
        # Tiles abut: a cell on a seam takes the value of the first tile that covers it.
        fill = np.isnan(out) & (dest != DEM_NODATA)
        out[fill] = dest[fill]
        n_read += 1
    if n_read == 0:
        raise DataError(f"no Copernicus DEM tile covers the grid (bounds {bounds}, template "
                        f"{url_template}): all {len(tiles)} tiles are missing")
    logger.info("Copernicus DEM: %d of %d tiles read, %.1f %% of the grid covered", n_read,
                len(tiles), 100.0 * float(np.isfinite(out).mean()))
    return out


def copernicus_record(url_template: str) -> SourceRecord:
    """Provenance of the Copernicus DEM (licence and the attribution the licence requires)."""
    return record_url(url_template, name="dem", provider="Copernicus DEM GLO-90 (ESA), via the "
                      "Registry of Open Data on AWS", licence=COPERNICUS_LICENCE,
                      version="GLO-90 (2021 release)",
                      citation=f"{COPERNICUS_ATTRIBUTION}. Licence: {COPERNICUS_LICENCE_URL}")
