"""Copernicus GLO-90 DEM reader against a loopback HTTP server with Range support (no internet)."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import rasterio
from builders import RangeServer
from pyproj import Transformer
from rasterio.transform import from_origin

from agglonet.crs import CHINA_ALBERS
from agglonet.errors import DataError, DownloadError
from agglonet.retrieve.copernicus import (
    copernicus_record,
    copernicus_tile_name,
    copernicus_tiles,
    retrieve_copernicus_dem,
)
from agglonet.retrieve.rasters import retrieve_dem

TEMPLATE = "{tile}/{tile}.tif"
N = 1200  # GLO-90 tiles below 50° latitude: 1200 × 1200 cells of 3″


def _elevation(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The fixture's terrain: a plane rising 1000 m per degree east and 500 m per degree north."""
    return 1000.0 * (lon - 113.0) + 500.0 * (lat - 34.0)


def _tile_bytes(tmp: Path, lat: int, lon: int) -> bytes:
    """A GLO-90-like COG tile (float32, 3″, internal overviews) holding the plane."""
    res = 1.0 / N
    cols, rows = np.meshgrid(np.arange(N), np.arange(N))
    lons = lon + (cols + 0.5) * res
    lats = lat + 1 - (rows + 0.5) * res
    path = tmp / f"{copernicus_tile_name(lat, lon)}.tif"
    with rasterio.open(path, "w", driver="COG", width=N, height=N, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(lon, lat + 1, res, res),
                       BLOCKSIZE=256, OVERVIEWS="AUTO", RESAMPLING="AVERAGE",
                       COMPRESS="NONE") as dst:
        dst.write(_elevation(lons, lats).astype("float32"), 1)
    return path.read_bytes()


@pytest.fixture(scope="module")
def tiles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    tmp = tmp_path_factory.mktemp("cop")
    return {f"/{TEMPLATE.format(tile=copernicus_tile_name(34, 113))}": _tile_bytes(tmp, 34, 113)}


def _grid(lon: float, lat: float, *, n: int = 20, cell_m: float = 2000.0) -> SimpleNamespace:
    x, y = Transformer.from_crs("EPSG:4326", CHINA_ALBERS, always_xy=True).transform(lon, lat)
    transform = from_origin(round(x / cell_m) * cell_m, round(y / cell_m) * cell_m, cell_m, cell_m)
    left, top = transform.c, transform.f
    return SimpleNamespace(transform=transform, width=n, height=n, crs=CHINA_ALBERS,
                           resolution_m=cell_m, shape=(n, n),
                           bounds=(left, top - n * cell_m, left + n * cell_m, top))


def _cell_lonlat(grid: SimpleNamespace) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.mgrid[0: grid.height, 0: grid.width]
    xs, ys = rasterio.transform.xy(grid.transform, rows.ravel(), cols.ravel())
    lon, lat = Transformer.from_crs(CHINA_ALBERS, "EPSG:4326", always_xy=True).transform(xs, ys)
    return np.reshape(lon, rows.shape), np.reshape(lat, rows.shape)


def test_tile_names_follow_the_bucket_layout() -> None:
    assert copernicus_tile_name(34, 113) == "Copernicus_DSM_COG_30_N34_00_E113_00_DEM"
    assert copernicus_tile_name(-3, -60) == "Copernicus_DSM_COG_30_S03_00_W060_00_DEM"
    assert copernicus_tiles((112.5, 33.2, 114.1, 34.5)) == [
        copernicus_tile_name(lat, lon) for lat in (33, 34) for lon in (112, 113, 114)]
    with pytest.raises(DataError, match="empty"):
        copernicus_tiles((114.0, 34.0, 113.0, 35.0))


def test_windowed_read_and_cache(tiles: dict[str, bytes], tmp_path: Path) -> None:
    grid = _grid(113.5, 34.5)  # 40 km square inside tile N34E113
    with RangeServer(tiles) as server:
        dem = retrieve_copernicus_dem(grid, url_template=f"{server.url}/{TEMPLATE}",
                                      cache_dir=tmp_path / "cache", retries=0)
    # Only the window (decimated, from overviews) was read: far less than the 5.8 MB tile.
    tile_size = len(next(iter(tiles.values())))
    assert 0 < server.bytes_served < 0.25 * tile_size
    lon, lat = _cell_lonlat(grid)
    # a plane survives averaging and bilinear resampling up to the sub-cell offsets: compare
    # with the plane at the cell centres, to within a tenth of the relief of one 2 km cell
    np.testing.assert_allclose(dem, _elevation(lon, lat), atol=3.0)
    # Second run from the cache: no server, identical result.
    again = retrieve_copernicus_dem(grid, url_template="http://127.0.0.1:9/" + TEMPLATE,
                                    cache_dir=tmp_path / "cache", retries=0)
    np.testing.assert_array_equal(again, dem)


def test_missing_tile_over_sea_is_skipped(tiles: dict[str, bytes]) -> None:
    grid = _grid(113.95, 34.5, n=10)  # crosses 114°E: tile N34E114 is not served (404)
    with RangeServer(tiles) as server:
        dem = retrieve_copernicus_dem(grid, url_template=f"{server.url}/{TEMPLATE}", retries=0)
    lon, lat = _cell_lonlat(grid)
    assert np.isnan(dem[lon > 114.02]).all()
    west = lon < 113.98
    np.testing.assert_allclose(dem[west], _elevation(lon, lat)[west], atol=3.0)


def test_no_tile_at_all_and_server_errors(tiles: dict[str, bytes]) -> None:
    grid = _grid(120.5, 34.5, n=4)
    with RangeServer(tiles) as server, pytest.raises(DataError, match="no Copernicus DEM tile"):
        retrieve_copernicus_dem(grid, url_template=f"{server.url}/{TEMPLATE}", retries=0)
    with RangeServer({}, fail_with=503) as server:
        template = f"{server.url}/{TEMPLATE}"
        url = template.format(tile=copernicus_tile_name(34, 120))
        with pytest.raises(DownloadError, match=re.escape(url)):
            retrieve_copernicus_dem(grid, url_template=template, retries=1, backoff_s=0.01)
        assert server.requests == 2  # first try + 1 retry


def test_retrieve_dem_tags_native_resolution_and_attribution(tiles: dict[str, bytes]) -> None:
    grid = _grid(113.5, 34.5, n=6)
    with RangeServer(tiles) as server:
        dem, tags, records = retrieve_dem(grid, source="copernicus",
                                          url_template=f"{server.url}/{TEMPLATE}")
    assert np.isfinite(dem).all()
    # 3″ at 34.5°N, by hand: 111,320 m/° · (1/1200)° = 92.77 m north–south and
    # 92.77 · cos(34.5°) = 76.46 m east–west; geometric mean 84.22 m
    assert float(tags["native_resolution_m"]) == pytest.approx(84.2, abs=0.3)
    assert records[0].resolution_m == pytest.approx(84.2, abs=0.3)
    assert "Airbus Defence and Space" in records[0].citation
    assert "COPERNICUS by the European Union and ESA" in copernicus_record("x").citation
