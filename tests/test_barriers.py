"""Barrier Mapper improvement scores on a hand-built grid with one wall."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

from agglonet.ecology.barriers import disk_footprint, find_barriers, improvement_score
from agglonet.ecology.corridors import build_corridors

CELL = 10.0
TRANSFORM = Affine(CELL, 0, 0, 0, -CELL, 1000)


def wall_network(wall: bool = True):
    r = np.ones((5, 21))
    if wall:
        r[:, 10] = 101.0
    labels = np.zeros(r.shape, dtype=int)
    labels[:, 0] = 1
    labels[:, 20] = 2
    return build_corridors(r, labels, transform=TRANSFORM, crs="EPSG:3857", width_cost_units=50)


def test_disk_footprint():
    assert disk_footprint(1).sum() == 5
    assert disk_footprint(2).sum() == 13
    assert disk_footprint(1.5).sum() == 9


def test_wall_scores_by_hand():
    net = wall_network()
    # straight across: 9 moves at 1, into and out of the wall at (1+101)/2 = 51, 9 moves at 1,
    # each 10 m long: LCD = (9 + 51 + 51 + 9) * 10 = 1200
    lcd = net.corridors.cost_weighted_length.iloc[0]
    assert lcd == pytest.approx(1200.0)
    shape = net.corridor_mask.shape
    cwd_a, cwd_b = net.source_cwd[1].full(shape), net.source_cwd[2].full(shape)
    score = improvement_score(cwd_a, cwd_b, lcd=lcd, radius_m=20.0, cell_size_m=CELL)
    # window of radius 2 cells centred on the wall (column 10): nearest cells reached on either
    # side are columns 8 (CWD_a = 80) and 12 (CWD_b = 80); crossing the restored window costs
    # 2R * 1 = 40, so LCD_restored = 200 and the score is (1200 - 200) / 40 = 25.
    assert score[2, 10] == pytest.approx(25.0)
    # centred on column 8 the window stops short of the far side of the wall: min CWD_b is at
    # column 10 (600): LCD_restored = 60 + 600 + 40 = 700 -> (1200 - 700) / 40 = 12.5
    assert score[2, 8] == pytest.approx(12.5)
    assert score[2, 9] == pytest.approx(25.0) and score[2, 11] == pytest.approx(25.0)
    assert score[2, 3] == 0.0


def test_find_barriers_returns_the_wall():
    net = wall_network()
    top = find_barriers(net, radius_m=20.0, top_n=3)
    assert len(top) >= 1
    first = top.iloc[0]
    col = int((first.geometry.x - 0) // CELL)
    assert 9 <= col <= 11
    assert first.score == pytest.approx(25.0)
    assert first.lcd_gain == pytest.approx(1000.0)
    assert (first.from_source, first.to_source, first.corridor_id) == (1, 2, 1)
    # sites are at least 2R apart (restoration windows do not overlap)
    pts = np.array([(g.x, g.y) for g in top.geometry])
    if len(pts) > 1:
        d = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
        assert d[np.triu_indices(len(pts), 1)].min() >= 40.0
    polys = find_barriers(net, radius_m=20.0, top_n=1, as_polygons=True)
    assert polys.geometry.iloc[0].area == pytest.approx(np.pi * 20.0**2, rel=0.01)


def test_no_wall_no_barrier():
    net = wall_network(wall=False)
    assert len(find_barriers(net, radius_m=20.0, top_n=5)) == 0
