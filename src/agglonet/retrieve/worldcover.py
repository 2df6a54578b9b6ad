"""ESA WorldCover 10 m land cover, read window by window from its COG tiles over HTTP.

The tile machinery (existence check, decimated windowed read, cache of the pieces read) is shared
with the Copernicus DEM reader (:mod:`agglonet.retrieve.copernicus`) through
:func:`tile_pieces`.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.errors
from rasterio.enums import Resampling
from rasterio.warp import reproject, transform_bounds
from rasterio.windows import Window, from_bounds

from agglonet.download import with_retries
from agglonet.errors import ConfigError, DataError
from agglonet.io import atomic_path

logger = logging.getLogger(__name__)

#: Nodata of the land-cover source raster on the cluster grid (codes 0-254 are classes).
LANDCOVER_NODATA = 255


#: WorldCover tiles are 3° × 3°, named after their lower-left corner.
TILE_DEG = 3


def _tile_name(lat: int, lon: int) -> str:
    return f"{'N' if lat >= 0 else 'S'}{abs(lat):02d}{'E' if lon >= 0 else 'W'}{abs(lon):03d}"


def worldcover_tiles(bounds_wgs84: tuple[float, float, float, float]) -> list[str]:
    """Names of the 3°×3° WorldCover tiles covering ``(west, south, east, north)`` in degrees.

    Examples
    --------
    >>> worldcover_tiles((111.5, 33.2, 114.1, 35.0))
    ['N33E111', 'N33E114']
    """
    west, south, east, north = bounds_wgs84
    if not (west < east and south < north):
        raise DataError(f"bounds {bounds_wgs84} are empty; expected (west, south, east, north)")
    lats = range(math.floor(south / TILE_DEG) * TILE_DEG, math.ceil(north / TILE_DEG) * TILE_DEG,
                 TILE_DEG)
    lons = range(math.floor(west / TILE_DEG) * TILE_DEG, math.ceil(east / TILE_DEG) * TILE_DEG,
                 TILE_DEG)
    return [_tile_name(lat, lon) for lat in lats for lon in lons]


def _gdal_path(url: str) -> str:
    if url.startswith(("http://", "https://")):
        return f"/vsicurl/{url}"
    return url


def tile_exists(url: str, *, timeout_s: float) -> bool:
    """HEAD request: False on HTTP 404 (tile sets have no tiles over open sea)."""
    if not url.startswith(("http://", "https://")):
        return Path(url).exists()
    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s):
            return True
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return False
        raise


def read_tile_piece(
    url: str,
    bounds_wgs84: tuple[float, float, float, float],
    *,
    step_deg: float,
    timeout_s: float,
    resampling: Resampling = Resampling.mode,
) -> tuple[np.ndarray, Any, Any, float | None] | None:
    """Windowed, decimated read of the part of one tile inside ``bounds_wgs84``.

    Returns ``(data, transform, crs, nodata)``, or ``None`` when the tile misses the box.
    """
    env = {
        "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
        "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.tiff",
        "GDAL_HTTP_TIMEOUT": str(int(math.ceil(timeout_s))),
        "GDAL_HTTP_MAX_RETRY": "0",  # retries are ours, with backoff
        "VSI_CACHE": "TRUE",
    }
    with rasterio.Env(**env), rasterio.open(_gdal_path(url)) as src:
        left, bottom, right, top = src.bounds
        west, south, east, north = bounds_wgs84
        inter = (max(left, west), max(bottom, south), min(right, east), min(top, north))
        if inter[0] >= inter[2] or inter[1] >= inter[3]:
            return None
        win = from_bounds(*inter, transform=src.transform).round_offsets().round_lengths()
        win = win.intersection(Window(0, 0, src.width, src.height))
        # Decimate while reading: GDAL then reads the COG's overviews, not the full tile.
        factor = max(1.0, step_deg / abs(src.transform.a))
        out_h = max(1, int(round(win.height / factor)))
        out_w = max(1, int(round(win.width / factor)))
        data = src.read(1, window=win, out_shape=(out_h, out_w), resampling=resampling)
        transform = src.window_transform(win) @ rasterio.Affine.scale(
            win.width / out_w, win.height / out_h)
        return data, transform, src.crs, src.nodata


def tile_pieces(
    tiles: Sequence[tuple[str, str]],
    bounds_wgs84: tuple[float, float, float, float],
    *,
    step_deg: float,
    cache_dir: str | Path | None,
    cache_prefix: str,
    resampling: Resampling = Resampling.mode,
    retries: int = 3,
    backoff_s: float = 1.0,
    timeout_s: float = 60.0,
) -> Iterator[tuple[str, tuple[np.ndarray, Any, Any, float | None]]]:
    """Yield ``(tile, (data, transform, crs, nodata))`` for every tile that exists.

    Each piece is the tile's window over ``bounds_wgs84``, decimated to about ``step_deg``. Pieces
    come from ``cache_dir`` when cached there (key: the tile's file name, the box and the step;
    not the host, so a mirror shares the cache), else from the URL with :func:`with_retries`;
    tiles that do not exist (HTTP 404) are skipped with a warning.

    Parameters
    ----------
    tiles
        ``(tile name, URL or local path)`` pairs.
    bounds_wgs84
        ``(west, south, east, north)`` in degrees.
    step_deg
        Cell size of the pieces read (degrees).
    cache_dir
        Folder of cached pieces; ``None`` disables the cache.
    cache_prefix
        File-name prefix of the cached pieces (``worldcover``, ``copernicus``).
    resampling
        Resampling while decimating (``mode`` for classes, ``average`` for elevation).
    retries, backoff_s, timeout_s
        As in :func:`agglonet.download.with_retries`; ``timeout_s`` per HTTP request.
    """
    for tile, url in tiles:
        name = url.rsplit("/", 1)[-1]
        key = hashlib.sha256(f"{name}|{bounds_wgs84}|{step_deg:.10g}".encode()).hexdigest()[:24]
        cached = Path(cache_dir) / f"{cache_prefix}_{tile}_{key}.tif" if cache_dir else None
        if cached is not None and cached.exists():
            with rasterio.open(cached) as src:
                yield tile, (src.read(1), src.transform, src.crs, src.nodata)
            logger.info("tile %s from cache %s", tile, cached)
            continue
        exists = with_retries("reach", url, functools.partial(tile_exists, url,
                                                              timeout_s=timeout_s),
                              retries=retries, backoff_s=backoff_s)
        if not exists:
            logger.warning("tile %s does not exist (%s): open sea, skipped", tile, url)
            continue
        piece = with_retries(
            "read", url,
            functools.partial(read_tile_piece, url, bounds_wgs84, step_deg=step_deg,
                              timeout_s=timeout_s, resampling=resampling),
            retries=retries, backoff_s=backoff_s)
        if piece is None:
            continue
        logger.info("tile %s: read %s cells", tile, piece[0].shape)
        if cached is not None:
            # written under a temporary name: a killed run never leaves a partial tile
            with atomic_path(cached) as tmp, rasterio.open(
                    tmp, "w", driver="GTiff", height=piece[0].shape[0],
                    width=piece[0].shape[1], count=1, dtype=piece[0].dtype, crs=piece[2],
                    transform=piece[1], nodata=piece[3], compress="deflate") as dst:
                dst.write(piece[0], 1)
        yield tile, piece


def retrieve_worldcover(
    grid: Any,
    *,
    url_template: str,
    cache_dir: str | Path | None = None,
    retries: int = 3,
    backoff_s: float = 1.0,
    timeout_s: float = 60.0,
) -> np.ndarray:
    """Read ESA WorldCover on a working grid from the 3°×3° COG tiles, reading only what is needed.

    For each tile overlapping the grid (plus a one-cell margin), the overlapping window is read
    over HTTP (GDAL ``/vsicurl/``, range requests) decimated with mode resampling to about a
    quarter of the grid's cell size — GDAL serves such reads from the COG's overviews — and then
    reprojected to the grid with mode resampling. Tiles that do not exist (HTTP 404: open sea) are
    skipped with a warning. Decimated tile pieces are cached in ``cache_dir`` (keyed by URL, window
    and step; the key uses the tile's file name, not the host), so reruns do not download again.

    Parameters
    ----------
    grid
        The cluster grid: an ``agglonet.grid.GridSpec`` or any object with ``transform``,
        ``width``, ``height`` and ``crs``.
    url_template
        URL (or local path) with a ``{tile}`` placeholder, e.g.
        ``https://esa-worldcover.s3.eu-central-1.amazonaws.com/v200/2021/map/ESA_WorldCover_10m_2021_v200_{tile}_Map.tif``.
    cache_dir
        Directory for cached tile pieces; ``None`` disables the cache.
    retries, backoff_s, timeout_s
        Network errors are retried ``retries`` times, waiting ``backoff_s · 2**attempt`` seconds;
        ``timeout_s`` is the HTTP timeout of each request.

    Returns
    -------
    numpy.ndarray
        uint8 WorldCover codes (10 … 100) on the grid, :data:`LANDCOVER_NODATA` (255) where no
        tile covers a cell or the tile holds no data (WorldCover 0).

    Raises
    ------
    DownloadError
        A tile could not be read after the retries; the message names the URL.
    DataError
        No tile covers the grid.
    """
    if "{tile}" not in url_template:
        raise ConfigError(f"url_template {url_template!r} has no '{{tile}}' placeholder")
    height, width = int(grid.height), int(grid.width)
    transform = grid.transform
    cell_m = abs(transform.a)
    left, top = transform.c, transform.f
    right, bottom = left + width * transform.a, top + height * transform.e
    margin = cell_m
    bounds = transform_bounds(grid.crs, "EPSG:4326", left - margin, bottom - margin,
                              right + margin, top + margin, densify_pts=21)
    # Intermediate step: a quarter of a cell, in degrees (mode of modes stays faithful).
    step_deg = cell_m / 4.0 / 111_320.0
    out = np.full((height, width), LANDCOVER_NODATA, dtype=np.uint8)
    n_read = 0
    tiles = [(tile, url_template.format(tile=tile)) for tile in worldcover_tiles(bounds)]
    for _, piece in tile_pieces(tiles, bounds, step_deg=step_deg, cache_dir=cache_dir,
                                cache_prefix="worldcover", resampling=Resampling.mode,
                                retries=retries, backoff_s=backoff_s, timeout_s=timeout_s):
        data, src_transform, src_crs, src_nodata = piece
        src_nodata = 0 if src_nodata is None else src_nodata
        dest = np.full((height, width), LANDCOVER_NODATA, dtype=np.uint8)
        reproject(
            source=data, destination=dest,
            src_transform=src_transform, src_crs=src_crs or "EPSG:4326", src_nodata=src_nodata,
            dst_transform=transform, dst_crs=grid.crs, dst_nodata=LANDCOVER_NODATA,
            resampling=Resampling.mode,
        )
        # Tiles do not overlap; a cell on a tile seam takes the class of the first tile read.
        fill = (out == LANDCOVER_NODATA) & (dest != LANDCOVER_NODATA) & (dest != 0)
        out[fill] = dest[fill]
        n_read += 1
    if n_read == 0:
        raise DataError(
            f"no WorldCover tile covers the grid (bounds {bounds}, template {url_template})")
    return out
