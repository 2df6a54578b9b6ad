"""Cluster grid, land-cover and DEM retrieval: extent, resolution, CRS, class values, values
checked against direct reads of the sources."""

import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Geod, Transformer
from rasterio.enums import Resampling
from rasterio.transform import from_origin
from scipy.interpolate import RegularGridInterpolator

from agglonet.crs import CHINA_ALBERS
from agglonet.errors import ConfigError, CRSError
from agglonet.grid import cluster_grid
from agglonet.retrieve.rasters import (
    DEM_NODATA,
    class_resampling,
    cnmaps_dem_path,
    dem_to_grid,
    modis_path,
    read_cnmaps_dem,
    retrieve_dem,
    retrieve_landcover,
)

TO_ALBERS = Transformer.from_crs("EPSG:4326", CHINA_ALBERS, always_xy=True)
TO_LONLAT = Transformer.from_crs(CHINA_ALBERS, "EPSG:4326", always_xy=True)


def _box_albers(lon0, lat0, lon1, lat1):
    xs, ys = TO_ALBERS.transform([lon0, lon1, lon1, lon0], [lat0, lat0, lat1, lat1])
    return shapely.Polygon(zip(xs, ys, strict=True))


def _centres(grid, rows, cols):
    xs = grid.transform.c + (np.asarray(cols) + 0.5) * grid.resolution_m
    ys = grid.transform.f - (np.asarray(rows) + 0.5) * grid.resolution_m
    return TO_LONLAT.transform(xs, ys)


def test_grid_snapped_outward_with_buffer():
    g = cluster_grid(shapely.box(10_250, 20_100, 14_900, 23_050), buffer_m=1_000,
                     resolution_m=500)
    assert g.bounds == (9_000.0, 19_000.0, 16_000.0, 24_500.0)
    assert (g.width, g.height) == (14, 11)
    assert g.transform.a == 500 and g.transform.e == -500
    with pytest.raises(ConfigError, match="resolution_m"):
        cluster_grid(shapely.box(0, 0, 1, 1), buffer_m=0, resolution_m=0)


def test_class_resampling_choice():
    assert class_resampling(5000, 1000) is Resampling.nearest
    assert class_resampling(100, 1000) is Resampling.mode


@pytest.fixture()
def lonlat_classes(tmp_path):
    """0.02° blocks of classes 1..6 over 112.8–113.4 °E, 34.6–35.0 °N (EPSG:4326)."""
    res = 0.02
    rows, cols = 20, 30
    data = (((np.arange(rows)[:, None] // 3) * 2 + np.arange(cols)[None, :] // 5) % 6 + 1)
    data = data.astype("uint8")
    data[0, 0] = 255
    path = tmp_path / "lc.tif"
    transform = from_origin(112.8, 35.0, res, res)
    with rasterio.open(path, "w", driver="GTiff", height=rows, width=cols, count=1,
                       dtype="uint8", crs="EPSG:4326", transform=transform, nodata=255) as dst:
        dst.write(data, 1)
    return path, data, transform


def test_file_landcover_extent_crs_and_values(lonlat_classes):
    path, data, transform = lonlat_classes
    grid = cluster_grid(_box_albers(112.9, 34.7, 113.3, 34.9), buffer_m=2000, resolution_m=500)
    codes, tags, records = retrieve_landcover(grid, source="file", path=path,
                                              classification="clcd")
    assert codes.dtype == np.uint8 and codes.shape == (grid.height, grid.width)
    assert tags["classification"] == "clcd" and records[0].provider == "user-supplied file"
    # 0.02° cells: the geodesic sides of one such cell at the grid's centre latitude
    lat = _centres(grid, [grid.height // 2], [grid.width // 2])[1][0]
    geod = Geod(ellps="WGS84")
    ew = geod.inv(113.0, lat, 113.02, lat)[2]
    ns = geod.inv(113.0, lat - 0.01, 113.0, lat + 0.01)[2]
    assert float(tags["native_resolution_m"]) == pytest.approx((ew * ns) ** 0.5, rel=0.005)
    assert records[0].resolution_m == pytest.approx(float(tags["native_resolution_m"]), abs=0.1)
    assert set(np.unique(codes)) <= set(np.unique(data))
    # nearest resampling (500 m target < ~2 km source): each cell takes the source cell under
    # its centre, computed here directly from the block layout
    rng = np.random.default_rng(1)
    r = rng.integers(2, grid.height - 2, 200)
    c = rng.integers(2, grid.width - 2, 200)
    lon, lat = _centres(grid, r, c)
    src_col = np.floor((np.asarray(lon) - transform.c) / transform.a).astype(int)
    src_row = np.floor((transform.f - np.asarray(lat)) / -transform.e).astype(int)
    expected = data[src_row, src_col]
    assert np.mean(codes[r, c] == expected) > 0.97  # cells straddling a block edge may differ


def test_file_landcover_downsampling_keeps_majority(tmp_path):
    # 100 m source in the working CRS: left 70 % class 3, right 30 % class 9, per 1 km cell
    rows, cols = 40, 60
    data = np.where((np.arange(cols) % 10) < 7, 3, 9).astype("uint8")[None, :].repeat(rows, 0)
    path = tmp_path / "fine.tif"
    with rasterio.open(path, "w", driver="GTiff", height=rows, width=cols, count=1,
                       dtype="uint8", crs=CHINA_ALBERS,
                       transform=from_origin(600_000, 3_900_000, 100, 100), nodata=255) as dst:
        dst.write(data, 1)
    grid = cluster_grid(shapely.box(601_000, 3_897_000, 605_000, 3_899_000), buffer_m=0,
                        resolution_m=1000)
    codes, _, _ = retrieve_landcover(grid, source="file", path=path)
    assert (codes == 3).all()


def test_modis_on_a_tiny_cluster():
    grid = cluster_grid(_box_albers(112.3, 34.9, 112.8, 35.3), buffer_m=0, resolution_m=2000)
    codes, tags, records = retrieve_landcover(grid, source="modis")
    assert tags["classification"] == "modis_igbp"
    # 0.05° at ~35.1°N: 0.05 · 111.32 km = 5.566 km north–south, × cos 35.1° = 4.553 km
    # east–west; geometric mean ≈ 5.03 km (> 2 × the 2 km grid: rule quality calls it coarse)
    assert float(tags["native_resolution_m"]) == pytest.approx(5034, rel=0.003)
    assert records[0].sha256 and "10.5067/MODIS/MCD12C1.006" in records[0].citation
    assert codes.shape == (grid.height, grid.width)
    assert set(np.unique(codes)) <= set(range(17))
    # spot check against the global file read directly at the cell centres (lon/lat grid)
    with rasterio.open(modis_path()) as src:
        full = src.read(1, window=src.window(112.0, 34.5, 113.0, 35.5))
        win_t = src.window_transform(src.window(112.0, 34.5, 113.0, 35.5))
    r, c = np.meshgrid(np.arange(2, grid.height - 2, 3), np.arange(2, grid.width - 2, 3))
    lon, lat = _centres(grid, r.ravel(), c.ravel())
    cols = np.floor((np.asarray(lon) - win_t.c) / win_t.a).astype(int)
    rows = np.floor((win_t.f - np.asarray(lat)) / -win_t.e).astype(int)
    assert np.mean(codes[r.ravel(), c.ravel()] == full[rows, cols]) > 0.95


def test_landcover_source_errors():
    grid = cluster_grid(shapely.box(0, 3_900_000, 1000, 3_901_000), buffer_m=0,
                        resolution_m=1000)
    with pytest.raises(ConfigError, match="path is null"):
        retrieve_landcover(grid, source="file")
    with pytest.raises(ConfigError, match="'glc' is not one of"):
        retrieve_landcover(grid, source="glc")


def test_cnmaps_dem_bilinear_matches_direct_interpolation():
    grid = cluster_grid(_box_albers(111.5, 34.3, 113.5, 35.5), buffer_m=0, resolution_m=2000)
    dem = dem_to_grid(grid)
    assert dem.dtype == np.float32 and dem.shape == (grid.height, grid.width)
    assert np.isfinite(dem).all()
    import netCDF4

    with netCDF4.Dataset(cnmaps_dem_path()) as nc:
        lon = np.asarray(nc["lon"][:])
        lat = np.asarray(nc["lat"][:])
        values = np.ma.filled(nc["dem"][:], np.nan)
    interp = RegularGridInterpolator((lat, lon), values, method="linear")
    r, c = np.meshgrid(np.arange(3, grid.height - 3, 7), np.arange(3, grid.width - 3, 7))
    x, y = _centres(grid, r.ravel(), c.ravel())
    expected = interp(np.column_stack([y, x]))
    # the sample's latitudes are spaced 0.2° only to ±5e-6°: allow a few metres
    np.testing.assert_allclose(dem[r.ravel(), c.ravel()], expected, atol=25, rtol=0.02)
    assert np.nanmin(dem) > 0 and np.nanmax(dem) < 2500  # Yellow River plain to the hills


def test_dem_tags_native_resolution():
    grid = cluster_grid(_box_albers(111.5, 34.3, 113.5, 35.5), buffer_m=0, resolution_m=2000)
    dem, tags, records = retrieve_dem(grid)
    np.testing.assert_array_equal(dem, dem_to_grid(grid))
    # 0.2° at ~34.9°N: 22.264 km north–south, × cos 34.9° = 18.26 km east–west; mean 20.16 km
    assert float(tags["native_resolution_m"]) == pytest.approx(20163, rel=0.003)
    assert tags["units"] == "m" and records[0].resolution_m == pytest.approx(20163, rel=0.003)
    with pytest.raises(ConfigError, match="'srtm' is not one of"):
        retrieve_dem(grid, source="srtm")
    with pytest.raises(ConfigError, match="url_template is empty"):
        retrieve_dem(grid, source="copernicus", url_template="")


def test_cnmaps_dem_sea_is_nodata():
    dem, _, _ = read_cnmaps_dem()
    assert np.isnan(dem).any()
    # a grid over the Yellow Sea, off the coast
    grid = cluster_grid(_box_albers(123.0, 34.0, 123.5, 34.5), buffer_m=0, resolution_m=5000)
    assert np.isnan(dem_to_grid(grid)).all()


def test_file_dem_plane_is_reproduced_exactly(tmp_path):
    # z = 100 + 0.01·x' − 0.02·y' on a 250 m grid in the working CRS: bilinear is exact on a plane
    rows, cols = 80, 80
    x0, y0, res = 700_000, 3_800_000, 250
    xs = x0 + (np.arange(cols) + 0.5) * res
    ys = y0 - (np.arange(rows) + 0.5) * res
    plane = (100 + 0.01 * (xs[None, :] - x0) - 0.02 * (ys[:, None] - y0)).astype("float32")
    plane[0, 0] = DEM_NODATA
    path = tmp_path / "dem.tif"
    with rasterio.open(path, "w", driver="GTiff", height=rows, width=cols, count=1,
                       dtype="float32", crs=CHINA_ALBERS, transform=from_origin(x0, y0, res, res),
                       nodata=DEM_NODATA) as dst:
        dst.write(plane, 1)
    grid = cluster_grid(shapely.box(705_000, 3_785_000, 715_000, 3_795_000), buffer_m=0,
                        resolution_m=1000)
    dem = dem_to_grid(grid, source="file", path=path)
    gx = grid.transform.c + (np.arange(grid.width) + 0.5) * 1000
    gy = grid.transform.f - (np.arange(grid.height) + 0.5) * 1000
    expected = 100 + 0.01 * (gx[None, :] - x0) - 0.02 * (gy[:, None] - y0)
    np.testing.assert_allclose(dem, expected, atol=0.05)
    with pytest.raises(ConfigError, match="retrieve.dem.path is null"):
        dem_to_grid(grid, source="file")


def test_worldcover_source_goes_through_the_ecology_reader(tmp_path):
    # a local stand-in for one 3°×3° WorldCover tile (coarse, class 40 = cropland with a
    # class-10 tree block); the reader accepts a local path template, so no network is used
    res = 0.005
    data = np.full((600, 600), 40, dtype="uint8")
    data[0:300, 0:300] = 10  # 111–112.5 °E, 34.5–36 °N
    with rasterio.open(tmp_path / "wc_N33E111.tif", "w", driver="GTiff", height=600, width=600,
                       count=1, dtype="uint8", crs="EPSG:4326",
                       transform=from_origin(111.0, 36.0, res, res), nodata=0) as dst:
        dst.write(data, 1)
    grid = cluster_grid(_box_albers(112.2, 34.2, 112.8, 34.8), buffer_m=0, resolution_m=1000)
    codes, tags, records = retrieve_landcover(
        grid, source="worldcover", url_template=str(tmp_path / "wc_{tile}.tif"))
    assert tags["classification"] == "esa_worldcover" and records[0].licence == "CC-BY-4.0"
    # WorldCover's native cell (1/12000°, whatever the stand-in's) at ~34.5°N: 9.277 m
    # north–south, × cos 34.5° = 7.646 m east–west; geometric mean 8.42 m
    assert float(tags["native_resolution_m"]) == pytest.approx(8.42, abs=0.05)
    assert set(np.unique(codes)) <= {10, 40}
    lon, lat = _centres(grid, [1, grid.height - 2], [1, grid.width - 2])
    assert lon[0] < 112.5 and lat[0] > 34.5 and codes[1, 1] == 10
    assert codes[grid.height - 2, grid.width - 2] == 40


def test_file_without_crs_is_refused_with_a_fix(tmp_path):
    path = tmp_path / "no_crs.tif"
    with rasterio.open(path, "w", driver="GTiff", height=4, width=4, count=1, dtype="uint8",
                       transform=rasterio.transform.from_origin(112.9, 34.9, 0.1, 0.1)) as dst:
        dst.write(np.ones((1, 4, 4), dtype="uint8"))
    grid = cluster_grid(_box_albers(112.9, 34.7, 113.3, 34.9), buffer_m=2000, resolution_m=500)
    with pytest.raises(CRSError, match=r"no_crs\.tif.*has no CRS; set one"):
        retrieve_landcover(grid, source="file", path=path, classification="clcd")
