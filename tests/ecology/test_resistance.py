"""Resistance surface: class values × slope factor + road penalties, against hand-built grids."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from rasterio.transform import from_origin
from shapely.geometry import LineString

from agglonet.crs import CHINA_ALBERS
from agglonet.ecology.landcover import CLASS_CODES, NODATA
from agglonet.ecology.resistance import (
    resistance_surface,
    road_class,
    slope_degrees,
    slope_factor,
)
from agglonet.errors import ConfigError, DataError

T = from_origin(0, 4000, 1000, 1000)  # 4 rows x 5 cols of 1 km cells; y from 4000 down to 0
VALUES = {"forest": 1, "cropland": 80, "built": 800, "nodata": 1000}
F, CR, BU = CLASS_CODES["forest"], CLASS_CODES["cropland"], CLASS_CODES["built"]


def _classes() -> np.ndarray:
    c = np.full((4, 5), F, dtype=np.uint8)
    c[:, 3] = CR
    c[3, 4] = BU
    c[0, 0] = NODATA
    return c


def test_slope_of_a_plane() -> None:
    x = np.arange(5) * 1000.0
    dem = np.tile(0.1 * x, (4, 1))  # rises 100 m per km eastwards
    np.testing.assert_allclose(slope_degrees(dem, cell_size_m=1000.0),
                               math.degrees(math.atan(0.1)))


def test_class_values_and_slope() -> None:
    base = np.array([[1000, 1, 1, 80, 1], [1, 1, 1, 80, 1], [1, 1, 1, 80, 1], [1, 1, 1, 80, 800]],
                    dtype=float)
    kw = dict(class_values=VALUES, transform=T, crs=CHINA_ALBERS, slope_breaks_deg=[5, 15, 25],
              slope_factors=[1.0, 1.2, 1.5, 2.0])
    dem = np.tile(np.arange(5) * 300.0, (4, 1))  # 0.3 rise: atan(0.3) = 16.7° -> factor 1.5
    out = resistance_surface(_classes(), dem=dem, **kw)
    np.testing.assert_allclose(out, base * 1.5)
    assert out.dtype == np.float32
    # No DEM anywhere: factor 1.
    out = resistance_surface(_classes(), dem=np.full((4, 5), np.nan), **kw)
    np.testing.assert_allclose(out, base)
    with pytest.raises(DataError, match="DEM shape"):
        resistance_surface(_classes(), dem=np.zeros((2, 2)), **kw)


def test_slope_factor_table() -> None:
    f = slope_factor(np.array([0.0, 4.99, 5.0, 14.9, 15.0, 30.0]), breaks_deg=[5, 15, 25],
                     factors=[1.0, 1.2, 1.5, 2.0])
    np.testing.assert_allclose(f, [1.0, 1.0, 1.2, 1.2, 1.5, 2.0])
    with pytest.raises(ConfigError, match="expected 4"):
        slope_factor(np.zeros(2), breaks_deg=[5, 15, 25], factors=[1, 2])


def test_road_penalties() -> None:
    roads = gpd.GeoDataFrame(
        {"highway": ["motorway_link", "primary", "footway"]},
        geometry=[LineString([(0, 2500), (5000, 2500)]),   # along row 1
                  LineString([(2500, 0), (2500, 4000)]),   # along col 2
                  LineString([(0, 500), (5000, 500)])],    # not a penalised class
        crs=CHINA_ALBERS,
    )
    out = resistance_surface(_classes(), class_values=VALUES, transform=T, crs=CHINA_ALBERS,
                             roads=roads, road_penalty={"motorway": 500, "primary": 200})
    base = np.array([[1000, 1, 1, 80, 1], [1, 1, 1, 80, 1], [1, 1, 1, 80, 1], [1, 1, 1, 80, 800]],
                    dtype=float)
    penalty = np.zeros((4, 5))
    penalty[:, 2] = 200
    penalty[1, :] = 500  # motorway wins where it crosses the primary road
    np.testing.assert_allclose(out, base + penalty)


def test_road_class_parsing() -> None:
    pen = {"motorway": 500, "trunk": 300}
    assert road_class("motorway_link", pen) == "motorway"
    assert road_class(["trunk", "motorway"], pen) == "motorway"
    assert road_class("residential", pen) is None


def test_nodata_without_value_is_impassable() -> None:
    values = {k: v for k, v in VALUES.items() if k != "nodata"}
    out = resistance_surface(_classes(), class_values=values, transform=T, crs=CHINA_ALBERS)
    assert np.isnan(out[0, 0]) and out[0, 1] == 1


def test_missing_class_value() -> None:
    with pytest.raises(ConfigError, match="'built' occurs on the grid"):
        resistance_surface(_classes(), class_values={"forest": 1, "cropland": 80},
                           transform=T, crs=CHINA_ALBERS)


def test_all_nodata() -> None:
    with pytest.raises(DataError, match="no passable cell"):
        resistance_surface(np.full((2, 2), NODATA, np.uint8), class_values={"forest": 1},
                           transform=T, crs=CHINA_ALBERS)
