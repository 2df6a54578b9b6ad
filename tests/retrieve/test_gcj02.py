"""GCJ-02 conversion: known offset at Zhengzhou, round trip, outside-China identity."""

import numpy as np
import pytest
import shapely
from pyproj import Geod

from agglonet.retrieve.gcj02 import (
    gcj02_to_wgs84,
    geometry_gcj02_to_wgs84,
    out_of_china,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")


def test_offset_at_zhengzhou_matches_published_magnitude_and_direction():
    # data.md: Amap (GCJ-02) outlines sit ≈ 550 m east and ≈ 130 m south of WGS84 at Zhengzhou.
    lon, lat = 113.65, 34.76
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    east_m = GEOD.inv(lon, lat, float(g_lon), lat)[2] * np.sign(float(g_lon) - lon)
    north_m = GEOD.inv(lon, lat, lon, float(g_lat))[2] * np.sign(float(g_lat) - lat)
    assert 450 < east_m < 650
    assert -200 < north_m < -60


def test_round_trip_better_than_1e6_degree():
    rng = np.random.default_rng(0)
    lon = rng.uniform(75, 135, 500)
    lat = rng.uniform(18, 53, 500)
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
    assert np.max(np.abs(w_lon - lon)) < 1e-6
    assert np.max(np.abs(w_lat - lat)) < 1e-6
    # the offset itself is far larger than the tolerance, so the test is not vacuous
    assert np.min(np.hypot(g_lon - lon, g_lat - lat)) > 1e-4


@pytest.mark.parametrize("lon,lat", [(2.35, 48.86), (-74.0, 40.7), (139.9, 35.7), (100.5, 0.5)])
def test_points_outside_china_are_unchanged(lon, lat):
    assert bool(out_of_china(lon, lat))
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_geometry_conversion_moves_every_vertex_back():
    wgs = shapely.Polygon([(113.5, 34.6), (113.8, 34.6), (113.8, 34.9), (113.5, 34.9)])
    coords = shapely.get_coordinates(wgs)
    g_lon, g_lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
    gcj = shapely.Polygon(np.column_stack([g_lon, g_lat]))
    back = geometry_gcj02_to_wgs84(gcj)
    np.testing.assert_allclose(shapely.get_coordinates(back), coords, atol=1e-7)
