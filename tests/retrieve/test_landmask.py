"""Sea mask from the GLOBE land grid of global-land-mask (offline package data)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from scipy import ndimage

from agglonet.crs import CHINA_ALBERS
from agglonet.errors import ConfigError, DataError
from agglonet.grid import cluster_grid
from agglonet.retrieve.landmask import (
    GLOBE_CELL_DEG,
    connected_water,
    read_globe_ocean,
    sea_mask,
    sea_mask_records,
)

TO_ALBERS = Transformer.from_crs("EPSG:4326", CHINA_ALBERS, always_xy=True)


def _grid(west: float, south: float, east: float, north: float, *, resolution_m: float = 1000):
    xs, ys = TO_ALBERS.transform([west, east, east, west], [south, south, north, north])
    return cluster_grid(shapely.Polygon(zip(xs, ys, strict=True)), buffer_m=0,
                        resolution_m=resolution_m)


def _cell(grid, lon: float, lat: float) -> tuple[int, int]:
    x, y = TO_ALBERS.transform(lon, lat)
    col, row = ~grid.transform * (x, y)
    return int(row), int(col)


@pytest.fixture(scope="module")
def eastern_china():
    """One read of the GLOBE ocean flag over eastern China (the reads stream ~0.3 GB)."""
    return read_globe_ocean((112.0, 22.0, 122.0, 39.0))


@pytest.mark.parametrize(("place", "lon", "lat", "ocean"), [
    ("Lingding Bay (Pearl River estuary)", 113.80, 22.30, True),
    ("Hangzhou Bay", 121.20, 30.40, True),
    ("Bohai", 119.50, 38.50, True),
    ("Zhengzhou", 113.65, 34.75, False),
    ("Taihu", 120.20, 31.20, False),
    ("Poyang Lake", 116.30, 29.10, False),
    ("Dongting Lake", 112.90, 29.30, False),
    ("Hongze Lake", 118.70, 33.30, False),
])
def test_globe_ocean_at_known_places(eastern_china, place: str, lon: float, lat: float,
                                     ocean: bool) -> None:
    # the large lakes carry an elevation in GLOBE: land, not ocean
    window, transform = eastern_china
    col, row = ~transform * (lon, lat)
    assert bool(window[int(row), int(col)]) is ocean, place


def test_window_is_aligned_with_the_global_grid() -> None:
    # the window's corner sits on the 30″ lattice and its size follows the box
    window, transform = read_globe_ocean((113.0, 22.0, 113.5, 22.25))
    assert window.shape == (round(0.25 / GLOBE_CELL_DEG), round(0.5 / GLOBE_CELL_DEG))
    assert transform.c == pytest.approx(113.0) and transform.f == pytest.approx(22.25)
    # a box one row further north: its second row is the first row of the first box
    shifted, _ = read_globe_ocean((113.0, 22.0 + GLOBE_CELL_DEG, 113.5, 22.25 + GLOBE_CELL_DEG))
    np.testing.assert_array_equal(shifted[1:], window[:-1])
    with pytest.raises(DataError, match="empty"):
        read_globe_ocean((113.5, 22.0, 113.0, 22.5))


def test_pearl_river_estuary_grid() -> None:
    grid = _grid(113.3, 22.1, 114.2, 22.9)
    sea = sea_mask(grid)
    assert sea[_cell(grid, 113.80, 22.30)] and not sea[_cell(grid, 113.40, 22.80)]
    assert 0.05 < sea.mean() < 0.6
    # land-cover water connected to that sea within 3 km of it is sea; farther inland it is not
    water = np.zeros(grid.shape, bool)
    row, col = _cell(grid, 113.40, 22.80)  # inland (Guangzhou–Foshan)
    water[row, col] = True
    shore = tuple(np.argwhere(ndimage.binary_dilation(sea) & ~sea)[0])  # land next to the sea
    water[shore] = True
    grown = sea_mask(grid, water=water, connected_water_km=3)
    assert grown[shore] and not grown[row, col]
    assert (grown & ~sea).sum() == 1


def test_inland_lake_is_not_sea() -> None:
    grid = _grid(119.9, 30.9, 120.6, 31.6)  # Taihu and its shores, 100 km from the coast
    assert not sea_mask(grid, water=np.ones(grid.shape, bool), connected_water_km=10).any()


def test_none_and_bad_options() -> None:
    grid = _grid(113.3, 22.1, 113.6, 22.4)
    assert not sea_mask(grid, source="none").any()
    assert sea_mask_records("none") == []
    assert sea_mask_records("global_land_mask")[0].licence == "MIT"
    with pytest.raises(ConfigError, match="'osm' is not one of"):
        sea_mask(grid, source="osm")
    with pytest.raises(ConfigError, match="expected ≥ 0"):
        sea_mask(grid, connected_water_km=-1)
    with pytest.raises(DataError, match="water mask shape"):
        sea_mask(grid, water=np.zeros((2, 2), bool), connected_water_km=1)


def test_connected_water_by_hand() -> None:
    # sea in the left column; a water channel from it 4 cells long, and an inland pond
    sea = np.zeros((5, 9), bool)
    sea[:, 0] = True
    water = np.zeros_like(sea)
    water[2, 1:5] = True     # channel touching the sea
    water[2, 7:9] = True     # pond, not touching
    got = connected_water(sea, water, max_distance_cells=2.5)
    expected = np.zeros_like(sea)
    expected[2, 1:3] = True  # only the first 2 channel cells lie within 2.5 cells of the sea
    np.testing.assert_array_equal(got, expected)
    assert not connected_water(np.zeros_like(sea), water, max_distance_cells=10).any()
