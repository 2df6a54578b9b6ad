"""Land cover: common classes, class-mapping presets and the ESA WorldCover reader.

Every land-cover product agglonet reads is translated to eight common classes with fixed integer
codes (:data:`CLASS_CODES`, nodata :data:`NODATA` = 255); ``results/{cluster}/landcover.tif`` holds
these codes. The translation tables are presets named after the product's classification
(``modis_igbp``, ``esa_worldcover``, ``clcd``, ``globeland30``) or a user CSV with columns
``code,class`` (class = a key of :data:`CLASS_CODES` or ``nodata``).

Public API
----------
``CLASS_CODES``, ``NODATA``, ``PRESETS``
``load_mapping(name_or_path) -> dict[int, str]``
``resolve_mapping(setting, *, classification) -> dict[int, str]``
``reclassify(codes, *, mapping, source_nodata=255) -> np.ndarray``  (uint8 common classes)
``worldcover_tiles(bounds_wgs84) -> list[str]``  (tile names such as ``"N33E111"``)
``retrieve_worldcover(grid, *, url_template, cache_dir=None, retries=3, backoff_s=1.0,
timeout_s=60.0) -> np.ndarray``
    ``grid`` is an ``agglonet.grid.GridSpec`` (anything with ``transform``, ``width``, ``height``,
    ``crs``); returns WorldCover codes (uint8) on that grid with nodata 255, ready to be written as
    ``resources/{cluster}/landcover_source.tif`` with tag ``classification=esa_worldcover``.

Choices documented here (they matter for the ecological network):

* IGBP 8 *woody savannas* (30–60 % tree cover) → ``forest``: in China these are the hill forests
  of the mountain fringes; IGBP 9 *savannas* (10–30 % trees) → ``grassland``.
* IGBP 14 cropland/natural-vegetation mosaic → ``cropland``; IGBP 15 snow/ice → ``bare``
  (neither habitat nor farmland; high resistance).
* WorldCover 95 mangroves → ``wetland``; 100 moss/lichen → ``grassland``; 70 snow/ice → ``bare``;
  0 (no data) → nodata.
* GlobeLand30 70 tundra → ``grassland``; 100 permanent snow/ice → ``bare``;
  CLCD 6 snow/ice → ``bare``.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import math
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.errors
from rasterio.enums import Resampling
from rasterio.warp import reproject, transform_bounds
from rasterio.windows import Window, from_bounds

from agglonet.errors import ConfigError, DataError, DownloadError

logger = logging.getLogger(__name__)

#: Common land-cover classes and their codes in ``landcover.tif``.
CLASS_CODES: dict[str, int] = {
    "forest": 1,
    "shrub": 2,
    "grassland": 3,
    "wetland": 4,
    "water": 5,
    "cropland": 6,
    "built": 7,
    "bare": 8,
}
#: Nodata code of ``landcover.tif`` (and of ``landcover_source.tif``).
NODATA = 255

#: Source code → common class name (``"nodata"`` for no-data codes), per classification.
PRESETS: dict[str, dict[int, str]] = {
    "modis_igbp": {
        0: "water",
        1: "forest", 2: "forest", 3: "forest", 4: "forest", 5: "forest",
        6: "shrub", 7: "shrub",
        8: "forest",      # woody savannas: 30–60 % tree cover (hill forests in China)
        9: "grassland",   # savannas: 10–30 % tree cover
        10: "grassland",
        11: "wetland",
        12: "cropland",
        13: "built",
        14: "cropland",   # cropland / natural vegetation mosaic
        15: "bare",       # snow and ice
        16: "bare",
        255: "nodata",
    },
    "esa_worldcover": {
        0: "nodata",
        10: "forest", 20: "shrub", 30: "grassland", 40: "cropland", 50: "built", 60: "bare",
        70: "bare", 80: "water", 90: "wetland", 95: "wetland", 100: "grassland",
        255: "nodata",
    },
    "clcd": {
        0: "nodata",
        1: "cropland", 2: "forest", 3: "shrub", 4: "grassland", 5: "water", 6: "bare",
        7: "bare", 8: "built", 9: "wetland",
        255: "nodata",
    },
    "globeland30": {
        0: "nodata",
        10: "cropland", 20: "forest", 30: "grassland", 40: "shrub", 50: "wetland", 60: "water",
        70: "grassland", 80: "built", 90: "bare", 100: "bare",
        255: "nodata",
    },
}


def load_mapping(name_or_path: str | Path) -> dict[int, str]:
    """Return a class mapping (source code → common class name).

    Parameters
    ----------
    name_or_path
        A preset name (a key of :data:`PRESETS`) or the path of a CSV file with a header
        ``code,class``; class values are keys of :data:`CLASS_CODES` or ``nodata``.

    Raises
    ------
    ConfigError
        Unknown preset, missing file, bad header, non-integer code or unknown class name.
    """
    key = str(name_or_path)
    if key in PRESETS:
        return dict(PRESETS[key])
    path = Path(key)
    if path.suffix.lower() != ".csv" or not path.is_file():
        raise ConfigError(
            f"land-cover mapping {key!r} is neither a preset ({', '.join(sorted(PRESETS))}) "
            "nor an existing CSV file with columns code,class"
        )
    mapping: dict[int, str] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or {"code", "class"} - {f.strip() for f in reader.fieldnames}:
            raise ConfigError(f"{path}: expected a header 'code,class', got {reader.fieldnames}")
        for lineno, row in enumerate(reader, start=2):
            row = {k.strip(): (v or "").strip() for k, v in row.items()}
            try:
                code = int(row["code"])
            except ValueError:
                raise ConfigError(
                    f"{path}:{lineno}: code {row['code']!r} is not an integer") from None
            name = row["class"].lower()
            if name != "nodata" and name not in CLASS_CODES:
                raise ConfigError(
                    f"{path}:{lineno}: class {row['class']!r} is not one of "
                    f"{sorted(CLASS_CODES)} or 'nodata'"
                )
            mapping[code] = name
    if not mapping:
        raise ConfigError(f"{path}: the mapping table has no rows")
    return mapping


def resolve_mapping(setting: str | Path, *, classification: str | None) -> dict[int, str]:
    """The mapping for a land-cover raster, from the config setting and the raster's tag.

    Parameters
    ----------
    setting
        ``ecology.landcover_mapping``: ``auto``, a preset name or a CSV path.
    classification
        The raster's ``classification`` tag (written by the retrieve stage), or ``None``.

    Returns
    -------
    dict
        Source code → class name. With ``auto`` the tag's preset is used. When the setting names a
        preset and the tag names a *different* preset, the tag wins (it records what the retrieve
        stage actually read, e.g. ``esa_worldcover`` after switching ``retrieve.landcover.source``)
        and a warning says so. A CSV path is always used as given.

    Raises
    ------
    ConfigError
        ``auto`` with a tag that is not a preset; unknown preset or bad CSV.
    """
    key = str(setting)
    if key == "auto":
        if classification not in PRESETS:
            raise ConfigError(
                f"ecology.landcover_mapping is 'auto' but the land-cover raster's classification "
                f"tag is {classification!r}, not a preset ({', '.join(sorted(PRESETS))}); set "
                "ecology.landcover_mapping to a preset or a code,class CSV"
            )
        return load_mapping(classification)
    if key in PRESETS and classification in PRESETS and classification != key:
        logger.warning("ecology.landcover_mapping is %r but the land cover was retrieved as %r; "
                       "using %r", key, classification, classification)
        return load_mapping(classification)
    return load_mapping(key)


def reclassify(
    codes: np.ndarray,
    *,
    mapping: Mapping[int, str],
    source_nodata: int | None = NODATA,
) -> np.ndarray:
    """Translate source land-cover codes to the common classes.

    Parameters
    ----------
    codes
        Integer array of source codes.
    mapping
        Source code → class name (see :func:`load_mapping`).
    source_nodata
        Code of no-data cells in ``codes`` (always mapped to :data:`NODATA`).

    Returns
    -------
    numpy.ndarray
        uint8 array of :data:`CLASS_CODES` values, :data:`NODATA` for no data.

    Raises
    ------
    DataError
        If ``codes`` holds values the mapping does not know (the message lists them), or if every
        cell is no data.

    Examples
    --------
    >>> reclassify(np.array([[1, 12], [0, 255]]), mapping=PRESETS["modis_igbp"]).tolist()
    [[1, 6], [5, 255]]
    """
    codes = np.asarray(codes)
    lut_in = {int(k): (NODATA if v == "nodata" else CLASS_CODES[v]) for k, v in mapping.items()}
    if source_nodata is not None:
        lut_in[int(source_nodata)] = NODATA
    values, inverse = np.unique(codes, return_inverse=True)
    unknown = [int(v) for v in values if int(v) not in lut_in]
    if unknown:
        raise DataError(
            f"land-cover codes {unknown} are not in the class mapping (known codes: "
            f"{sorted(lut_in)}); choose the right ecology.landcover_mapping or extend the CSV"
        )
    out = np.array([lut_in[int(v)] for v in values], dtype=np.uint8)[inverse].reshape(codes.shape)
    if not (out != NODATA).any():
        raise DataError("land cover is no data everywhere on the grid: nothing to analyse")
    return out


def class_areas_km2(classes: np.ndarray, *, cell_area_km2: float) -> dict[str, float]:
    """Area of each common class (km²) in a ``landcover.tif``-style array."""
    return {name: float((classes == code).sum() * cell_area_km2)
            for name, code in CLASS_CODES.items()}


# --------------------------------------------------------------------------- ESA WorldCover

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


def _tile_exists(url: str, *, timeout_s: float) -> bool:
    """HEAD request: False on HTTP 404 (WorldCover has no tiles over open sea)."""
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


def _with_retries(what: str, url: str, func: Any, *, retries: int, backoff_s: float) -> Any:
    """Call ``func()``; on network errors retry with exponential backoff, then DownloadError."""
    last: Exception | None = None
    for attempt in range(retries + 1):
        try:
            return func()
        except (OSError, rasterio.errors.RasterioError, urllib.error.URLError) as exc:
            last = exc
            if attempt < retries:
                wait = backoff_s * 2**attempt
                logger.warning("%s %s failed (%s); retry %d/%d in %.1f s",
                               what, url, exc, attempt + 1, retries, wait)
                time.sleep(wait)
    raise DownloadError(f"could not {what} {url} after {retries + 1} attempts: {last}") from last


def _read_tile_piece(
    url: str,
    bounds_wgs84: tuple[float, float, float, float],
    *,
    step_deg: float,
    timeout_s: float,
) -> tuple[np.ndarray, Any, Any, float | None] | None:
    """Windowed, decimated read (mode) of the part of one tile inside ``bounds_wgs84``."""
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
        # Decimate while reading: GDAL then reads the COG's overviews, not the full 10 m tile.
        factor = max(1.0, step_deg / abs(src.transform.a))
        out_h = max(1, int(round(win.height / factor)))
        out_w = max(1, int(round(win.width / factor)))
        data = src.read(1, window=win, out_shape=(out_h, out_w), resampling=Resampling.mode)
        transform = src.window_transform(win) @ rasterio.Affine.scale(
            win.width / out_w, win.height / out_h)
        return data, transform, src.crs, src.nodata


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
        uint8 WorldCover codes (10 … 100) on the grid, :data:`NODATA` (255) where no tile covers
        a cell or the tile holds no data (WorldCover 0).

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
    out = np.full((height, width), NODATA, dtype=np.uint8)
    n_read = 0
    for tile in worldcover_tiles(bounds):
        url = url_template.format(tile=tile)
        # Cache key: the tile's file name (the same file from any mirror), window and step.
        name = url.rsplit("/", 1)[-1]
        key = hashlib.sha256(f"{name}|{bounds}|{step_deg:.10g}".encode()).hexdigest()[:24]
        cached = Path(cache_dir) / f"worldcover_{tile}_{key}.tif" if cache_dir else None
        if cached is not None and cached.exists():
            with rasterio.open(cached) as src:
                piece = (src.read(1), src.transform, src.crs, src.nodata)
            logger.info("WorldCover tile %s from cache %s", tile, cached)
        else:
            exists = _with_retries("reach", url, lambda u=url: _tile_exists(u, timeout_s=timeout_s),
                                   retries=retries, backoff_s=backoff_s)
            if not exists:
                logger.warning("WorldCover tile %s does not exist (%s): open sea, skipped",
                               tile, url)
                continue
            piece = _with_retries(
                "read", url,
                lambda u=url: _read_tile_piece(u, bounds, step_deg=step_deg, timeout_s=timeout_s),
                retries=retries, backoff_s=backoff_s)
            if piece is None:
                continue
            logger.info("WorldCover tile %s: read %s cells", tile, piece[0].shape)
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                with rasterio.open(cached, "w", driver="GTiff", height=piece[0].shape[0],
                                   width=piece[0].shape[1], count=1, dtype=piece[0].dtype,
                                   crs=piece[2], transform=piece[1], nodata=piece[3],
                                   compress="deflate") as dst:
                    dst.write(piece[0], 1)
        data, src_transform, src_crs, src_nodata = piece
        src_nodata = 0 if src_nodata is None else src_nodata
        dest = np.full((height, width), NODATA, dtype=np.uint8)
        reproject(
            source=data, destination=dest,
            src_transform=src_transform, src_crs=src_crs or "EPSG:4326", src_nodata=src_nodata,
            dst_transform=transform, dst_crs=grid.crs, dst_nodata=NODATA,
            resampling=Resampling.mode,
        )
        # Tiles do not overlap; a cell on a tile seam takes the class of the first tile read.
        fill = (out == NODATA) & (dest != NODATA) & (dest != 0)
        out[fill] = dest[fill]
        n_read += 1
    if n_read == 0:
        raise DataError(
            f"no WorldCover tile covers the grid (bounds {bounds}, template {url_template})")
    return out
