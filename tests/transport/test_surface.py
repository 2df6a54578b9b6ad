"""Travel-time surface on small grids with hand-worked values."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine
from shapely.geometry import LineString, Point

from agglonet.errors import DataError, UnknownCityError
from agglonet.transport.surface import core_seat, travel_time_surface, water_codes_for

CRS = "EPSG:32650"
RES = 100.0  # 100 m cells
SHAPE = (5, 9)
TRANSFORM = Affine(RES, 0, 0, 0, -RES, SHAPE[0] * RES)  # origin top-left at (0, 500)


def _cell_centre(r, c):
    return Point((c + 0.5) * RES, SHAPE[0] * RES - (r + 0.5) * RES)


def _seats(*cells):
    return gpd.GeoDataFrame({"adcode": [str(i) for i in range(len(cells))]},
                            geometry=[_cell_centre(r, c) for r, c in cells], crs=CRS)


NO_ROADS = gpd.GeoDataFrame({"speed_kph": []}, geometry=[], crs=CRS)


def test_offroad_only():
    # 6 km/h = 100 m/min: one cell (100 m) per minute, diagonals sqrt(2) minutes
    t = travel_time_surface(NO_ROADS, _seats((2, 0)), shape=SHAPE, transform=TRANSFORM, crs=CRS,
                            offroad_speed_kph=6.0)
    assert t.dtype == np.float32
    assert t[2, 0] == 0.0
    assert t[2, 3] == pytest.approx(3.0)
    assert t[0, 2] == pytest.approx(2 * math.sqrt(2))
    assert t[0, 8] == pytest.approx(2 * math.sqrt(2) + 6.0)


def test_nearest_of_two_seats():
    t = travel_time_surface(NO_ROADS, _seats((2, 0), (2, 8)), shape=SHAPE, transform=TRANSFORM,
                            crs=CRS, offroad_speed_kph=6.0)
    assert t[2, 3] == pytest.approx(3.0)  # 3 cells from the left seat
    assert t[2, 6] == pytest.approx(2.0)  # 2 cells from the right seat


def test_road_burnt_in():
    # a 60 km/h road (1000 m/min) along row 2: 0.1 min per cell on the road
    road = gpd.GeoDataFrame({"speed_kph": [60.0]},
                            geometry=[LineString([(0, 250), (900, 250)])], crs=CRS)
    t = travel_time_surface(road, _seats((2, 0)), shape=SHAPE, transform=TRANSFORM, crs=CRS,
                            offroad_speed_kph=6.0)
    assert t[2, 8] == pytest.approx(0.8)
    # one cell above the road end: by road to (2, 8) (0.8), then a step to an off-road cell,
    # costing the mean of both cells, (0.1 + 1.0) / 2 = 0.55 -> 1.35 (the diagonal from (2, 7)
    # costs 0.7 + sqrt(2) * 0.55 = 1.478, longer)
    assert t[1, 8] == pytest.approx(1.35, abs=1e-6)


def test_water_barrier_and_bridge():
    # a water column at c = 4 splits the grid
    landcover = np.full(SHAPE, 12, dtype=np.uint8)
    landcover[:, 4] = 0
    kw = {"shape": SHAPE, "transform": TRANSFORM, "crs": CRS, "offroad_speed_kph": 6.0}
    t = travel_time_surface(NO_ROADS, _seats((2, 0)), landcover=landcover, **kw)
    assert np.isnan(t[:, 4:]).all() and np.isfinite(t[:, :4]).all()
    t = travel_time_surface(NO_ROADS, _seats((2, 0)), landcover=landcover, water_barrier=False,
                            **kw)
    assert t[2, 6] == pytest.approx(6.0)
    # a bridge: a road crossing the water row 2 makes the far side reachable
    bridge = gpd.GeoDataFrame({"speed_kph": [60.0]},
                              geometry=[LineString([(350, 250), (550, 250)])], crs=CRS)
    t = travel_time_surface(bridge, _seats((2, 0)), landcover=landcover, **kw)
    # the bridge is burnt into cells (2, 3), (2, 4), (2, 5) (all_touched). From (2, 0): two
    # off-road steps (2.0), onto the road (1.0 + 0.1) / 2 = 0.55, two road steps (0.2), off the
    # road 0.55, one off-road step 1.0 -> 4.3 min at (2, 7)
    assert t[2, 7] == pytest.approx(2.0 + 0.55 + 0.2 + 0.55 + 1.0, abs=1e-5)


def test_errors_and_water_codes():
    far = gpd.GeoDataFrame({"adcode": ["1"]}, geometry=[Point(1e7, 1e7)], crs=CRS)
    with pytest.raises(DataError, match="no seat"):
        travel_time_surface(NO_ROADS, far, shape=SHAPE, transform=TRANSFORM, crs=CRS)
    assert water_codes_for("modis_igbp") == (0,)
    assert water_codes_for("esa_worldcover") == (80,)


def _named_seats():
    seats = _seats((2, 0), (2, 8), (0, 4))
    seats["name_zh"] = ["郑州市", "开封市", "济源市"]
    seats["name_en"] = ["Zhengzhou", "Kaifeng", "Jiyuan"]
    seats["population"] = [3_000_000, 800_000, None]
    return seats


def test_core_seat_by_population_name_or_adcode():
    seats = _named_seats()
    assert core_seat(seats)["name_en"].tolist() == ["Zhengzhou"]  # most populous
    assert core_seat(seats, "开封")["adcode"].tolist() == ["1"]
    assert core_seat(seats, "kaifeng")["adcode"].tolist() == ["1"]
    assert core_seat(seats, "2")["name_en"].tolist() == ["Jiyuan"]
    with pytest.raises(UnknownCityError, match="'Luoyang' is not one of.*Kaifeng"):
        core_seat(seats, "Luoyang")


def test_time_to_core_is_never_shorter_than_to_the_nearest_seat():
    seats = _named_seats()
    nearest = travel_time_surface(NO_ROADS, seats, shape=SHAPE, transform=TRANSFORM, crs=CRS,
                                  offroad_speed_kph=6.0)
    to_core = travel_time_surface(NO_ROADS, core_seat(seats), shape=SHAPE, transform=TRANSFORM,
                                  crs=CRS, offroad_speed_kph=6.0)
    assert (to_core >= nearest - 1e-6).all()
    # 8 cells from Zhengzhou's seat at (2, 0) to Kaifeng's at (2, 8): 8 minutes at 100 m/min
    assert to_core[2, 8] == pytest.approx(8.0) and nearest[2, 8] == 0.0
