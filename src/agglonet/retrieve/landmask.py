"""Sea mask on the cluster grid: which cells are open sea, not land.

Open sea is neither habitat nor passable land for the ecological network: MSPA treats it as
missing data, the connectivity indices leave it out of the landscape area, and the resistance
surface makes it impassable. The mask is written once per cluster
(``resources/{cluster}/sea_mask.tif``, 1 = sea, 0 = land) so that every stage reads the same cells.

Source (``ecology.sea_mask.source``):

``global_land_mask``
    The land/sea grid of the ``global-land-mask`` package (MIT): NOAA GLOBE's cells with a valid
    land elevation, 30″ (≈ 0.9 km) global, shipped as ``globe_combined_mask_compressed.npz``
    (``mask`` True = ocean, rows from 90°N southwards, columns from 180°W eastwards, cell corners
    at multiples of 1/120°). Large inland lakes carry an elevation in GLOBE, so they are land in
    this mask: checked for Taihu, Poyang, Dongting, Hongze, Chaohu, Dianchi and Qinghai Lake.
    The tidal Yangtze estuary is ocean up to ≈ 120.3°E (Jiangyin); the Pearl River estuary,
    Hangzhou Bay and the Bohai are ocean.
``none``
    No sea mask (every cell counts as land).

A grid cell is sea when at least half of it is GLOBE ocean (``average`` resampling of the ocean
flag). Optionally the land cover's water cells connected to that sea and within
``connected_water_km`` of it are sea too: coarse land cover (MODIS 0.05°) paints a band of water
along the coast and up the estuaries that GLOBE calls land; inland lakes and rivers farther
inland stay water.
"""

from __future__ import annotations

import logging
import math
import zipfile
from pathlib import Path

import numpy as np
from affine import Affine
from rasterio.enums import Resampling
from rasterio.warp import reproject, transform_bounds
from scipy import ndimage

from agglonet.crs import WGS84
from agglonet.errors import ConfigError, DataError
from agglonet.grid import GridSpec
from agglonet.provenance import SourceRecord, package_dir, record_package_file

logger = logging.getLogger(__name__)

SEA_MASK_SOURCES = ("global_land_mask", "none")
#: GLOBE cell size (degrees): 30 arc-seconds.
GLOBE_CELL_DEG = 1.0 / 120.0
#: Size of the global GLOBE grid (rows, columns).
GLOBE_SHAPE = (21600, 43200)
#: Code of a sea cell in ``sea_mask.tif`` (land is 0).
SEA = 1
GLOBE_CITATION = (
    "GLOBE Task Team and others (Hastings, D.A., et al.), 1999. The Global Land One-kilometer "
    "Base Elevation (GLOBE) Digital Elevation Model, Version 1.0. NOAA National Geophysical Data "
    "Center; land/sea grid via the global-land-mask package (Karin)"
)


def globe_mask_path() -> Path:
    """Return the GLOBE land/sea grid inside the ``global_land_mask`` package (not imported).

    Importing the package would decompress the whole 933 MB global grid at once; agglonet reads
    the rows it needs (:func:`read_globe_ocean`).
    """
    path = package_dir("global_land_mask") / "globe_combined_mask_compressed.npz"
    if not path.is_file():
        raise DataError(f"GLOBE land mask {str(path)!r} not found; reinstall global-land-mask")
    return path


def read_globe_ocean(
    bounds_wgs84: tuple[float, float, float, float], *, path: str | Path | None = None
) -> tuple[np.ndarray, Affine]:
    """Read the GLOBE ocean flag over a lon/lat box.

    The ``.npz`` holds one deflated ``.npy`` of 21600 × 43200 booleans; the rows are streamed and
    only those of the box kept, so memory stays at the window's size (``np.load`` would
    materialise the whole 933 MB grid: hand-rolled for that reason).

    Parameters
    ----------
    bounds_wgs84
        ``(west, south, east, north)`` in degrees.
    path
        The ``.npz``; default :func:`globe_mask_path`.

    Returns
    -------
    ocean : numpy.ndarray
        Boolean window, True = ocean.
    transform : affine.Affine
        Its transform in EPSG:4326.
    """
    west, south, east, north = bounds_wgs84
    if not (west < east and south < north):
        raise DataError(f"bounds {bounds_wgs84} are empty; expected (west, south, east, north)")
    n_rows, n_cols = GLOBE_SHAPE
    eps = 1e-6  # bounds on the 30″ lattice must not gain a row or column from float rounding
    row0 = max(int(math.floor((90.0 - north) / GLOBE_CELL_DEG + eps)), 0)
    row1 = min(int(math.ceil((90.0 - south) / GLOBE_CELL_DEG - eps)), n_rows)
    col0 = max(int(math.floor((west + 180.0) / GLOBE_CELL_DEG + eps)), 0)
    col1 = min(int(math.ceil((east + 180.0) / GLOBE_CELL_DEG - eps)), n_cols)
    path = Path(path or globe_mask_path())
    with zipfile.ZipFile(path) as archive, archive.open("mask.npy") as fh:
        version = np.lib.format.read_magic(fh)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read_header(fh)
        if tuple(shape) != GLOBE_SHAPE or fortran or dtype != np.bool_:
            raise DataError(f"{path}: mask.npy is {shape} {dtype} (Fortran order {fortran}); "
                            f"expected a C-ordered boolean {GLOBE_SHAPE} grid")
        skip = row0 * n_cols
        while skip:  # stream past the rows north of the box
            skip -= len(fh.read(min(skip, 1 << 24)))
        raw = fh.read((row1 - row0) * n_cols)
    ocean = np.frombuffer(raw, dtype=np.bool_).reshape(row1 - row0, n_cols)[:, col0:col1]
    transform = Affine(GLOBE_CELL_DEG, 0.0, -180.0 + col0 * GLOBE_CELL_DEG,
                       0.0, -GLOBE_CELL_DEG, 90.0 - row0 * GLOBE_CELL_DEG)
    return ocean.copy(), transform


def ocean_on_grid(ocean: np.ndarray, transform: Affine, grid: GridSpec) -> np.ndarray:
    """Cells of the grid that are at least half ocean (average of the ocean flag ≥ 0.5)."""
    share = np.zeros(grid.shape, dtype="float32")
    reproject(source=ocean.astype("float32"), destination=share, src_transform=transform,
              src_crs=WGS84, dst_transform=grid.transform, dst_crs=grid.crs,
              resampling=Resampling.average)
    return share >= 0.5


def connected_water(
    sea: np.ndarray, water: np.ndarray, *, max_distance_cells: float
) -> np.ndarray:
    """Water cells 8-connected to the sea through water within ``max_distance_cells`` of it.

    Examples
    --------
    >>> sea = np.array([[1, 0, 0, 0, 0]], bool); water = np.array([[0, 1, 1, 0, 1]], bool)
    >>> connected_water(sea, water, max_distance_cells=5).astype(int).tolist()
    [[0, 1, 1, 0, 0]]
    """
    if not sea.any():
        return np.zeros_like(water, dtype=bool)
    near = ndimage.distance_transform_edt(~sea) <= max_distance_cells
    candidate = water & near & ~sea
    labels, _ = ndimage.label(candidate | sea, structure=np.ones((3, 3), bool))
    sea_labels = np.unique(labels[sea])
    return np.isin(labels, sea_labels[sea_labels > 0]) & candidate


def sea_mask(
    grid: GridSpec,
    *,
    source: str = "global_land_mask",
    water: np.ndarray | None = None,
    connected_water_km: float = 0.0,
    path: str | Path | None = None,
) -> np.ndarray:
    """Sea cells of the grid.

    Parameters
    ----------
    grid
        The cluster grid.
    source
        ``global_land_mask`` or ``none`` (:data:`SEA_MASK_SOURCES`).
    water
        Boolean water cells of the land cover on the grid; with ``connected_water_km`` > 0 those
        connected to the sea within that distance become sea (:func:`connected_water`).
    connected_water_km
        Reach of that growth from the GLOBE sea (0 = none).
    path
        The GLOBE ``.npz`` (tests); default the package's.

    Returns
    -------
    numpy.ndarray
        Boolean, True = sea.

    Raises
    ------
    ConfigError
        Unknown source, or a negative distance.
    DataError
        ``water`` does not have the grid's shape.
    """
    if source not in SEA_MASK_SOURCES:
        raise ConfigError(f"ecology.sea_mask.source {source!r} is not one of "
                          f"{', '.join(SEA_MASK_SOURCES)}")
    if connected_water_km < 0:
        raise ConfigError(f"ecology.sea_mask.connected_water_km is {connected_water_km}; "
                          "expected ≥ 0")
    if source == "none":
        return np.zeros(grid.shape, dtype=bool)
    margin = 2 * grid.resolution_m
    left, bottom, right, top = grid.bounds
    box = transform_bounds(grid.crs, WGS84, left - margin, bottom - margin, right + margin,
                           top + margin, densify_pts=51)
    ocean, transform = read_globe_ocean(box, path=path)
    sea = ocean_on_grid(ocean, transform, grid)
    n_globe = int(sea.sum())
    if water is not None and connected_water_km > 0:
        if water.shape != grid.shape:
            raise DataError(f"water mask shape {water.shape} differs from the grid {grid.shape}")
        sea |= connected_water(sea, np.asarray(water, bool),
                               max_distance_cells=connected_water_km * 1000 / grid.resolution_m)
    cell_km2 = grid.resolution_m**2 / 1e6
    logger.info("sea mask: %.0f km² GLOBE ocean + %.0f km² land-cover water connected to it, "
                "of %.0f km²", n_globe * cell_km2, (int(sea.sum()) - n_globe) * cell_km2,
                sea.size * cell_km2)
    return sea


def sea_mask_records(source: str) -> list[SourceRecord]:
    """Provenance of the sea mask (empty for ``none``)."""
    if source == "none":
        return []
    return [record_package_file(globe_mask_path(), name="sea_mask",
                                distribution="global-land-mask", licence="MIT",
                                citation=GLOBE_CITATION,
                                url="https://pypi.org/project/global-land-mask/")]
