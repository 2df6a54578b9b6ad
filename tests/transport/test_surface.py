"""Travel-time surface on small grids, against hand-worked values and an independent Dijkstra."""

from __future__ import annotations

import heapq
import math

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine
from shapely.geometry import LineString, Point, box

from agglonet.ecology.landcover import CLASS_CODES, NODATA, load_mapping, reclassify
from agglonet.errors import DataError, UnknownCityError
from agglonet.transport.surface import (
    CITY_CELL_COLUMNS,
    city_cell_times,
    cluster_cells,
    core_seat,
    speed_grid,
    travel_time_surface,
)

CRS = "EPSG:32650"
RES = 100.0  # 100 m cells
SHAPE = (5, 9)
TRANSFORM = Affine(RES, 0, 0, 0, -RES, SHAPE[0] * RES)  # origin top-left at (0, 500)
PLAIN = np.zeros(SHAPE, dtype=np.uint8)  # one land-cover code everywhere
WALK = {0: 6.0}  # 6 km/h = 100 m/min: one cell per minute


def _cell_centre(r, c):
    return Point((c + 0.5) * RES, SHAPE[0] * RES - (r + 0.5) * RES)


def _seats(*cells):
    return gpd.GeoDataFrame({"adcode": [str(i) for i in range(len(cells))]},
                            geometry=[_cell_centre(r, c) for r, c in cells], crs=CRS)


NO_ROADS = gpd.GeoDataFrame({"speed_kph": []}, geometry=[], crs=CRS)


def _surface(roads, seats, landcover=PLAIN, speeds=None, **kw):
    return travel_time_surface(roads, seats, transform=TRANSFORM, crs=CRS, landcover=landcover,
                               speed_by_code=WALK if speeds is None else speeds, **kw)


def test_offroad_only():
    t = _surface(NO_ROADS, _seats((2, 0)))
    assert t.dtype == np.float32
    assert t[2, 0] == 0.0
    assert t[2, 3] == pytest.approx(3.0)
    assert t[0, 2] == pytest.approx(2 * math.sqrt(2))
    assert t[0, 8] == pytest.approx(2 * math.sqrt(2) + 6.0)


def test_nearest_of_two_seats():
    t = _surface(NO_ROADS, _seats((2, 0), (2, 8)))
    assert t[2, 3] == pytest.approx(3.0)  # 3 cells from the left seat
    assert t[2, 6] == pytest.approx(2.0)  # 2 cells from the right seat


def test_road_burnt_in():
    # a 60 km/h road (1000 m/min) along row 2: 0.1 min per cell on the road
    road = gpd.GeoDataFrame({"speed_kph": [60.0]},
                            geometry=[LineString([(0, 250), (900, 250)])], crs=CRS)
    t = _surface(road, _seats((2, 0)))
    assert t[2, 8] == pytest.approx(0.8)
    # one cell above the road end: by road to (2, 8) (0.8), then a step to an off-road cell,
    # costing the mean of both cells, (0.1 + 1.0) / 2 = 0.55 -> 1.35 (the diagonal from (2, 7)
    # costs 0.7 + sqrt(2) * 0.55 = 1.478, longer)
    assert t[1, 8] == pytest.approx(1.35, abs=1e-6)


def test_speed_zero_is_a_barrier_and_a_road_is_a_bridge():
    # code 1 (speed 0) fills column 4 and splits the grid
    landcover = PLAIN.copy()
    landcover[:, 4] = 1
    speeds = {0: 6.0, 1: 0.0}
    t = _surface(NO_ROADS, _seats((2, 0)), landcover, speeds)
    assert np.isnan(t[:, 4:]).all() and np.isfinite(t[:, :4]).all()
    # a bridge: a road crossing the barrier along row 2 makes the far side reachable
    bridge = gpd.GeoDataFrame({"speed_kph": [60.0]},
                              geometry=[LineString([(350, 250), (550, 250)])], crs=CRS)
    t = _surface(bridge, _seats((2, 0)), landcover, speeds)
    # the bridge is burnt into cells (2, 3), (2, 4), (2, 5) (all_touched). From (2, 0): two
    # off-road steps (2.0), onto the road (1.0 + 0.1) / 2 = 0.55, two road steps (0.2), off the
    # road 0.55, one off-road step 1.0 -> 4.3 min at (2, 7)
    assert t[2, 7] == pytest.approx(2.0 + 0.55 + 0.2 + 0.55 + 1.0, abs=1e-5)


def test_open_sea_is_impassable_whatever_its_land_cover():
    sea = np.zeros(SHAPE, dtype=bool)
    sea[:, 6:] = True
    t = _surface(NO_ROADS, _seats((2, 0)), impassable=sea)
    assert np.isnan(t[:, 6:]).all() and np.isfinite(t[:, :6]).all()


def _hand_dijkstra(speed_kph: np.ndarray, starts: list[tuple[int, int]]) -> np.ndarray:
    """Plain-Python 8-neighbour Dijkstra: a step costs the mean of the two cells' minutes per
    metre times the step length (RES, or RES·√2 on a diagonal); speed 0 is impassable."""
    rows, cols = speed_kph.shape
    with np.errstate(divide="ignore"):
        per_m = np.where(speed_kph > 0, 60.0 / (speed_kph * 1000.0), np.inf)
    best = np.full(speed_kph.shape, np.inf)
    heap = [(0.0, r, c) for r, c in starts]
    for _, r, c in heap:
        best[r, c] = 0.0
    while heap:
        d, r, c = heapq.heappop(heap)
        if d > best[r, c]:
            continue
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                rr, cc = r + dr, c + dc
                if (dr, dc) == (0, 0) or not (0 <= rr < rows and 0 <= cc < cols):
                    continue
                if not np.isfinite(per_m[rr, cc]):
                    continue
                step = RES * (math.sqrt(2) if dr and dc else 1.0)
                nd = d + (per_m[r, c] + per_m[rr, cc]) / 2 * step
                if nd < best[rr, cc]:
                    best[rr, cc] = nd
                    heapq.heappush(heap, (nd, rr, cc))
    return best


def test_land_cover_speeds_match_a_hand_dijkstra():
    classes = CLASS_CODES
    grid = np.full(SHAPE, classes["cropland"], dtype=np.uint8)
    grid[0:2, 2:5] = classes["forest"]
    grid[3:, 5:8] = classes["built"]
    grid[:, 1] = classes["grassland"]
    grid[1:4, 6] = classes["water"]
    grid[4, 0] = NODATA
    speeds_by_class = {"forest": 2, "shrub": 3, "grassland": 4, "wetland": 2, "water": 0,
                       "cropland": 3, "built": 5, "bare": 5, "nodata": 3}
    speeds = {NODATA if k == "nodata" else classes[k]: v for k, v in speeds_by_class.items()}
    road = gpd.GeoDataFrame({"speed_kph": [90.0]},
                            geometry=[LineString([(0, 450), (850, 450)])], crs=CRS)  # row 0
    seats = _seats((4, 2), (2, 8))
    t = _surface(road, seats, grid, speeds)
    # the speed grid the hand Dijkstra walks: land-cover speeds, the road on row 0 at 90 km/h
    speed = np.vectorize(lambda code: speeds[int(code)])(grid).astype(float)
    speed[0, :] = 90.0
    assert speed_grid(road.to_crs(CRS), transform=TRANSFORM, landcover=grid,
                      speed_by_code=speeds) == pytest.approx(speed)
    expected = _hand_dijkstra(speed, [(4, 2), (2, 8)])
    finite = np.isfinite(expected)
    assert np.isnan(t[~finite]).all()
    assert t[finite] == pytest.approx(expected[finite], rel=1e-5)
    # one value by hand: (4, 2) cropland 3 km/h → (4, 1) grassland 4 km/h, one straight step:
    # mean of 60/3000 and 60/4000 min/m = 0.0175 min/m × 100 m = 1.75 min
    assert t[4, 1] == pytest.approx(1.75, abs=1e-5)
    # water cells (speed 0, no road) have no time
    assert np.isnan(t[1:4, 6]).all()


def test_csv_land_cover_mapping_keeps_water_a_barrier(tmp_path):
    # a land-cover product agglonet has no preset for: code 7 is water, 3 cropland
    mapping_csv = tmp_path / "mapping.csv"
    mapping_csv.write_text("code,class\n3,cropland\n7,water\n", encoding="utf-8")
    source = np.full(SHAPE, 3, dtype=np.uint8)
    source[:, 4] = 7
    classes = reclassify(source, mapping=load_mapping(mapping_csv))
    speeds = {CLASS_CODES["cropland"]: 3.0, CLASS_CODES["water"]: 0.0}
    t = _surface(NO_ROADS, _seats((2, 0)), classes, speeds)
    assert np.isnan(t[:, 4:]).all() and np.isfinite(t[:, :4]).all()


def test_errors():
    far = gpd.GeoDataFrame({"adcode": ["1"]}, geometry=[Point(1e7, 1e7)], crs=CRS)
    with pytest.raises(DataError, match="no seat"):
        _surface(NO_ROADS, far)
    grid = PLAIN.copy()
    grid[0, 0] = 9
    with pytest.raises(DataError, match=r"codes \[9\].*no off-road speed"):
        _surface(NO_ROADS, _seats((2, 0)), grid)
    with pytest.raises(DataError, match=">= 0"):
        _surface(NO_ROADS, _seats((2, 0)), speeds={0: -1.0})


def test_cluster_cells_and_city_cell_times():
    # two cities: the left 4 columns and the right 5 columns; the cluster is their union
    left, right = box(0, 0, 400, 500), box(400, 0, 900, 500)
    cities = gpd.GeoDataFrame({"adcode": ["410100", "410200"]}, geometry=[left, right], crs=CRS)
    inside = cluster_cells(gpd.GeoDataFrame(geometry=[box(0, 0, 400, 500)], crs=CRS),
                           shape=SHAPE, transform=TRANSFORM, crs=CRS)
    assert inside[:, :4].all() and not inside[:, 4:].any()
    to_seat = np.arange(45, dtype=np.float32).reshape(SHAPE)  # 0..44 row by row
    to_core = to_seat * 2
    to_seat[0, 8] = np.nan  # one unreachable cell in the right city
    table = city_cell_times(cities, to_seat_min=to_seat, to_core_min=to_core,
                            transform=TRANSFORM, crs=CRS)
    assert list(table.columns) == ["adcode", *CITY_CELL_COLUMNS]
    row = table.set_index("adcode").loc["410100"]
    left_values = [r * 9 + c for r in range(5) for c in range(4)]  # columns 0-3
    assert row["n_cells"] == 20 and row["n_cells_unreachable"] == 0
    assert row["cells_to_seat_mean_min"] == pytest.approx(sum(left_values) / 20)
    assert row["cells_to_seat_median_min"] == pytest.approx(19.5)  # (19 + 20) / 2 by hand
    assert row["cells_to_core_mean_min"] == pytest.approx(2 * sum(left_values) / 20)
    row = table.set_index("adcode").loc["410200"]
    right_values = [r * 9 + c for r in range(5) for c in range(4, 9) if (r, c) != (0, 8)]
    assert row["n_cells"] == 25 and row["n_cells_unreachable"] == 1
    assert row["cells_to_seat_mean_min"] == pytest.approx(sum(right_values) / 24)
    # the core time of the unreachable-to-seat cell still counts (it is finite there)
    assert row["cells_to_core_mean_min"] == pytest.approx(
        2 * (sum(right_values) + 8) / 25)


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
    nearest = _surface(NO_ROADS, seats)
    to_core = _surface(NO_ROADS, core_seat(seats))
    assert (to_core >= nearest - 1e-6).all()
    # 8 cells from Zhengzhou's seat at (2, 0) to Kaifeng's at (2, 8): 8 minutes at 100 m/min
    assert to_core[2, 8] == pytest.approx(8.0) and nearest[2, 8] == 0.0


def test_a_seat_on_an_impassable_cell_still_starts_there():
    # the seat's own cell is water (speed 0): it is crossed at the slowest passable speed of the
    # grid (3 km/h in the far corner = 50 m/min, 2 min per cell) so the seat still reaches out
    landcover = PLAIN.copy()
    landcover[2, 0] = 1
    landcover[4, 8] = 2
    t = _surface(NO_ROADS, _seats((2, 0)), landcover, {0: 6.0, 1: 0.0, 2: 3.0})
    # one step off the seat's cell: the mean of 2 and 1 min per cell = 1.5 min
    assert t[2, 1] == pytest.approx(1.5)
    assert np.isfinite(t).all()
