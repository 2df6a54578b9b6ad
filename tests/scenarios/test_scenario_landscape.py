"""Ecological edits on hand-made grids; expected costs computed by hand in each test."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine
from shapely.geometry import LineString, Point, box

from agglonet.ecology.grid_dijkstra import cost_distance
from agglonet.ecology.landcover import CLASS_CODES
from agglonet.errors import ConfigError
from agglonet.scenarios.edits import Edit
from agglonet.scenarios.landscape import add_barrier, restore_barriers, restore_landcover

CELL = 100.0
# 5 rows × 7 columns of 100 m cells, top-left corner at (0, 500)
TRANSFORM = Affine(CELL, 0, 0, 0, -CELL, 5 * CELL)
CRS = "EPSG:3857"


def frame(*geoms) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=list(geoms), crs=CRS)


def corridor_cost(resistance: np.ndarray) -> float:
    """Least cost from the left column to the right column (the ecology stage's Dijkstra)."""
    rows, cols = resistance.shape
    left = np.arange(rows) * cols
    return float(cost_distance(resistance, left, cell_size_m=CELL)[:, -1].min())


def test_a_restored_pinch_point_lowers_the_corridor_cost_by_hand():
    # land: cropland everywhere, a wall of built land in column 3 with one cell of bare soil in
    # row 2 (the pinch point); resistance = the class values of the config
    values = {"cropland": 1.0, "built": 100.0, "bare": 50.0, "forest": 1.0}
    classes = np.full((5, 7), CLASS_CODES["cropland"], dtype=np.uint8)
    classes[:, 3] = CLASS_CODES["built"]
    classes[2, 3] = CLASS_CODES["bare"]
    lut = {CLASS_CODES[k]: v for k, v in values.items()}

    def resistance(c):
        return np.vectorize(lut.get)(c).astype(float)

    # the cheapest path runs along row 2; a step between cells costs CELL · (r_a + r_b) / 2:
    # 1, 1, (1 + 50)/2, (50 + 1)/2, 1, 1 → 55 cells' worth
    before = corridor_cost(resistance(classes))
    assert before == pytest.approx(55 * CELL)
    pinch = frame(box(300, 200, 400, 300))  # the cell of row 2, column 3
    restored, row = restore_landcover(
        classes, pinch, edit=Edit("s", 1, "restore_landcover", {"class": "forest", "path": "p"}),
        transform=TRANSFORM)
    assert row["n_cells"] == 1 and row["area_km2"] == pytest.approx(0.01)
    # restored to forest (resistance 1): six steps of 1 → 6 cells' worth; 49 · CELL less
    after = corridor_cost(resistance(restored))
    assert before - after == pytest.approx(49 * CELL)
    assert classes[2, 3] == CLASS_CODES["bare"], "the input is not changed"


def test_a_polygon_covering_no_cell_centre_is_refused():
    classes = np.zeros((5, 7), dtype=np.uint8)
    sliver = frame(box(10, 10, 40, 40))  # inside one cell, away from its centre (50, 50)
    with pytest.raises(ConfigError, match=r"scenario 's', edit 3 \(restore_landcover\).*cover no "
                                          "cell centre"):
        restore_landcover(classes, sliver, edit=Edit("s", 3, "restore_landcover",
                                                     {"class": "forest", "path": "p"}),
                          transform=TRANSFORM)


def test_a_barrier_line_raises_the_cells_it_touches():
    resistance = np.ones((5, 7))
    line = frame(LineString([(350, 0), (350, 500)]))  # down the middle of column 3
    out, row = add_barrier(resistance, line,
                           edit=Edit("s", 1, "add_barrier", {"resistance": 500, "path": "p"}),
                           transform=TRANSFORM)
    assert row["n_cells"] == 5 and row["n_cells_changed"] == 5
    assert (out[:, 3] == 500).all() and (np.delete(out, 3, axis=1) == 1).all()
    # every path now crosses one 500 cell: 1, 1, 250.5, 250.5, 1, 1 → 505 cells' worth
    assert corridor_cost(out) == pytest.approx(505 * CELL)


def test_restoring_the_top_barrier_lowers_a_disk():
    resistance = np.full((5, 7), 80.0)
    barriers = gpd.GeoDataFrame({"barrier_id": [1, 2], "weighted_score": [0.5, 2.0]},
                                geometry=[Point(50, 450), Point(350, 250)], crs=CRS)
    out, row = restore_barriers(resistance, barriers,
                                edit=Edit("s", 1, "restore_barriers", {"top_n": 1}),
                                transform=TRANSFORM, radius_m=100, restored_resistance=1.0)
    # the best site (score 2.0) is the centre of cell (2, 3); a 1-cell disk is a plus sign
    expected = np.full((5, 7), 80.0)
    expected[2, 2:5] = 1.0
    expected[1:4, 3] = 1.0
    np.testing.assert_array_equal(out, expected)
    assert row["n_cells_changed"] == 5
