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
import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from agglonet.errors import ConfigError, DataError

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

def offroad_speed_codes(speeds_kph: Mapping[str, float]) -> dict[int, float]:
    """Key off-road speeds by land-cover code (``nodata`` → :data:`NODATA`).

    Examples
    --------
    >>> offroad_speed_codes({"forest": 3, "nodata": 0})
    {1: 3, 255: 0}
    """
    return {NODATA if name == "nodata" else CLASS_CODES[name]: kph
            for name, kph in speeds_kph.items()}


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
    """Return the mapping for a land-cover raster, from the config setting and the raster's tag.

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


