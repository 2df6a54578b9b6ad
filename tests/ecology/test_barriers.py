"""Barrier Mapper improvement scores on hand-built grids; determinism of the site ranking."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from affine import Affine
from scipy import ndimage

from agglonet.ecology.barriers import (
    disk_filter,
    disk_footprint,
    find_barriers,
    improvement_score,
    round_significant,
)
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


def test_disk_filter_equals_ndimage_footprint_filter():
    rng = np.random.default_rng(0)
    for radius in (0, 1, 1.5, 2, 3.2, 6):
        values = rng.random((23, 31))
        values[rng.random(values.shape) < 0.2] = np.inf
        fp = disk_footprint(radius)
        assert np.array_equal(disk_filter(values, radius_cells=radius, op="min"),
                              ndimage.minimum_filter(values, footprint=fp, mode="constant",
                                                     cval=np.inf))
        assert np.array_equal(disk_filter(values, radius_cells=radius, op="max", fill=0.0),
                              ndimage.maximum_filter(values, footprint=fp, mode="constant",
                                                     cval=0.0))


def test_round_significant():
    out = round_significant(np.array([123.456789, -0.00123456, 0.0, np.inf, 7.0]), digits=3)
    assert out.tolist() == [123.0, -0.00123, 0.0, np.inf, 7.0]
    # values equal up to float noise round to the same number
    assert round_significant(np.array([25.0 + 7e-14]), digits=10)[0] == 25.0


def plateau_network():
    """Sources are full-height bars (columns 0 and 30), a 3-column wall at columns 14-16."""
    r = np.ones((9, 31))
    r[:, 14:17] = 101.0
    labels = np.zeros(r.shape, dtype=int)
    labels[:, 0] = 1
    labels[:, 30] = 2
    return build_corridors(r, labels, transform=TRANSFORM, crs="EPSG:3857",
                           width_cost_units=50)


def test_plateau_sites_by_hand():
    net = plateau_network()
    # 26 moves at 1, 2 moves in/out of the wall at 51, 2 moves inside at 101, 10 m each
    assert net.corridors.cost_weighted_length.iloc[0] == pytest.approx(3300.0)
    top = find_barriers(net, radius_m=20.0, top_n=5)
    # centred on column 15 the window reaches columns 13 (CWD_a = 130) and 17 (CWD_b = 130):
    # (3300 - 130 - 130 - 40) / 40 = 75 on every row (a plateau); the greedy pass takes rows
    # 0, 4, 8 (2R = 4 rows apart), ties broken by row
    rows_cols = [(int((1000 - g.y) // CELL), int(g.x // CELL)) for g in top.geometry]
    assert rows_cols == [(0, 15), (4, 15), (8, 15)]
    assert top.score.tolist() == [75.0, 75.0, 75.0]


def _perturbed(net, seed: int):
    """The same network with cost surfaces changed by float noise (1e-14 relative)."""
    rng = np.random.default_rng(seed)
    surfaces = {k: dataclasses.replace(
        s, cwd=s.cwd * (1 + 1e-14 * rng.standard_normal(s.cwd.shape)))
        for k, s in net.source_cwd.items()}
    return dataclasses.replace(net, source_cwd=surfaces)


def random_network():
    rng = np.random.default_rng(5)
    r = 1 + 50 * (rng.random((40, 44)) < 0.3)       # plateaus of 1 and 51
    labels = np.zeros(r.shape, dtype=int)
    labels[2:5, 2:5], labels[34:37, 3:6], labels[3:6, 36:39], labels[33:36, 37:40] = 1, 2, 3, 4
    return build_corridors(r, labels, transform=TRANSFORM, crs="EPSG:3857",
                           width_cost_units=200)


@pytest.mark.parametrize("make", [plateau_network, random_network])
def test_barriers_are_deterministic(make):
    net = make()
    ref = find_barriers(net, radius_m=20.0, top_n=10)
    assert len(ref) > 0
    again = find_barriers(make(), radius_m=20.0, top_n=10)
    shuffled = dataclasses.replace(net, corridors=net.corridors.iloc[::-1].reset_index(drop=True))
    for other in (again, find_barriers(shuffled, radius_m=20.0, top_n=10),
                  *(find_barriers(_perturbed(net, seed), radius_m=20.0, top_n=10)
                    for seed in range(5))):
        assert other.drop(columns="geometry").equals(ref.drop(columns="geometry"))
        assert all(a.equals_exact(b, 0) for a, b in zip(other.geometry, ref.geometry, strict=True))
