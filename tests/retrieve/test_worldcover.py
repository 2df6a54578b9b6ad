"""ESA WorldCover reader against a loopback HTTP server with Range support (no internet)."""

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
from agglonet.ecology.landcover import NODATA
from agglonet.errors import DownloadError
from agglonet.retrieve.worldcover import retrieve_worldcover, worldcover_tiles

TEMPLATE_NAME = "ESA_WorldCover_10m_2021_v200_{tile}_Map.tif"
SPLIT_LON = 112.5  # the fixture tile is class 10 (tree) west of this meridian, 40 (crop) east


def _write_tile(path: Path) -> None:
    """A 3°×3° tile N33E111 at 1/600° (1800×1800), uncompressed COG with overviews."""
    n = 1800
    res = 3.0 / n
    data = np.full((n, n), 40, dtype=np.uint8)
    data[:, : int((SPLIT_LON - 111.0) / res)] = 10
    data[:20, :] = 0  # a no-data strip along the northern edge (36°N), outside the test grid
    with rasterio.open(path, "w", driver="COG", width=n, height=n, count=1, dtype="uint8",
                       crs="EPSG:4326", transform=from_origin(111.0, 36.0, res, res), nodata=0,
                       BLOCKSIZE=256, OVERVIEWS="AUTO", RESAMPLING="MODE",
                       COMPRESS="NONE") as dst:
        dst.write(data, 1)


def _grid(lon: float, lat: float, *, n: int = 20, cell_m: float = 5000.0) -> SimpleNamespace:
    x, y = Transformer.from_crs("EPSG:4326", CHINA_ALBERS, always_xy=True).transform(lon, lat)
    transform = from_origin(round(x / cell_m) * cell_m, round(y / cell_m) * cell_m, cell_m, cell_m)
    return SimpleNamespace(transform=transform, width=n, height=n, crs=CHINA_ALBERS)


def _cell_lonlat(grid: SimpleNamespace) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.mgrid[0: grid.height, 0: grid.width]
    xs, ys = rasterio.transform.xy(grid.transform, rows.ravel(), cols.ravel())
    lon, lat = Transformer.from_crs(CHINA_ALBERS, "EPSG:4326", always_xy=True).transform(xs, ys)
    return np.reshape(lon, rows.shape), np.reshape(lat, rows.shape)


@pytest.fixture(scope="module")
def tile_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("wc") / "tile.tif"
    _write_tile(path)
    return path.read_bytes()


def test_tile_names() -> None:
    assert worldcover_tiles((111.5, 33.2, 114.1, 35.0)) == ["N33E111", "N33E114"]
    assert worldcover_tiles((-1.0, -2.0, 1.0, 1.0)) == ["S03W003", "S03E000", "N00W003", "N00E000"]


def test_windowed_read_over_http(tile_bytes: bytes, tmp_path: Path) -> None:
    files = {"/" + TEMPLATE_NAME.format(tile="N33E111"): tile_bytes}
    grid = _grid(112.3, 34.4)  # ~100 km square straddling the class boundary at 112.5°E
    with RangeServer(files) as server:
        out = retrieve_worldcover(grid, url_template=f"{server.url}/{TEMPLATE_NAME}",
                                  cache_dir=tmp_path / "cache", retries=0)
    lon, lat = _cell_lonlat(grid)
    half_cell_deg = 2500 / (111_320 * np.cos(np.radians(lat)))
    west = lon < SPLIT_LON - half_cell_deg
    east = lon > SPLIT_LON + half_cell_deg
    assert west.any() and east.any()
    assert (out[west] == 10).all()
    assert (out[east] == 40).all()
    # Only the window (from overviews) was read, not the whole tile.
    assert 0 < server.bytes_served < 0.5 * len(tile_bytes)

    # Second run comes from the cache: the server is gone, and the result is identical.
    again = retrieve_worldcover(grid, url_template="http://127.0.0.1:9/" + TEMPLATE_NAME,
                                cache_dir=tmp_path / "cache", retries=0)
    np.testing.assert_array_equal(again, out)


def test_missing_tile_is_skipped(tile_bytes: bytes) -> None:
    # Grid crossing 114°E: the eastern tile N33E114 is not served (404) -> nodata there.
    files = {"/" + TEMPLATE_NAME.format(tile="N33E111"): tile_bytes}
    grid = _grid(113.9, 34.4, n=12)
    with RangeServer(files) as server:
        out = retrieve_worldcover(grid, url_template=f"{server.url}/{TEMPLATE_NAME}", retries=0)
    lon, _ = _cell_lonlat(grid)
    assert (out[lon > 114.05] == NODATA).all()
    assert (out[lon < 113.95] == 40).all()


def test_server_error_names_url() -> None:
    grid = _grid(112.3, 34.4, n=4)
    with RangeServer({}, fail_with=503) as server:
        template = f"{server.url}/{TEMPLATE_NAME}"
        with pytest.raises(DownloadError, match=re.escape(template.format(tile="N33E111"))):
            retrieve_worldcover(grid, url_template=template, retries=2, backoff_s=0.01)
        assert server.requests == 3  # first try + 2 retries
