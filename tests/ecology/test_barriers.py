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
from agglonet.errors import ConfigError

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


def two_wall_network(gravity: tuple[float, float]):
    """Sources are full-height bars at columns 0, 20 and 40; walls at columns 10 and 30.

    Corridor 1 (1–2) crosses a wall of 101, corridor 2 (2–3) a wall of 201; their gravity is
    set by hand so that the weights are known.
    """
    r = np.ones((5, 41))
    r[:, 10] = 101.0
    r[:, 30] = 201.0
    labels = np.zeros(r.shape, dtype=int)
    labels[:, 0], labels[:, 20], labels[:, 40] = 1, 2, 3
    net = build_corridors(r, labels, transform=TRANSFORM, crs="EPSG:3857", width_cost_units=50)
    corridors = net.corridors.copy()
    corridors["gravity"] = list(gravity)
    return dataclasses.replace(net, corridors=corridors)


def test_barriers_weighted_by_corridor_importance_by_hand():
    net = two_wall_network((4.0, 1.0))
    # LCDs: corridor 1 (18 moves at 1 + 2 moves at 51) * 10 m = 1200; corridor 2 (18 + 2 *
    # 101) * 10 = 2200. At the wall, R = 20 m: corridor 1 scores (1200 - 200) / 40 = 25,
    # corridor 2 (2200 - 200) / 40 = 50. Weights G / max G: 1 and 0.25, so corridor 1's site
    # (25) outranks corridor 2's (12.5), although its unweighted score is half.
    assert net.corridors.cost_weighted_length.tolist() == pytest.approx([1200.0, 2200.0])
    top = find_barriers(net, radius_m=20.0, top_n=1)
    row = top.iloc[0]
    assert (row.corridor_id, row.score, row.weighted_score) == (1, 25.0, 25.0)
    assert row.lcd_gain == pytest.approx(1000.0)
    assert row.lcd_gain_pct == pytest.approx(100 * 1000 / 1200)
    assert row.corridor_importance == 1.0 and row.nlcc == 0.0   # on the least-cost path
    # columns 9–11 all score 25 (see test_wall_scores_by_hand): ties go by row, then column
    assert (int((1000 - row.geometry.y) // CELL), int(row.geometry.x // CELL)) == (0, 9)
    # unweighted (Barrier Mapper's maximum over corridors): corridor 2 first
    plain = find_barriers(net, radius_m=20.0, top_n=1, weight="none")
    assert (plain.iloc[0].corridor_id, plain.iloc[0].score) == (2, 50.0)
    second = find_barriers(net, radius_m=20.0, top_n=10, max_per_corridor=1)
    assert second.corridor_id.tolist() == [1, 2]
    assert second.weighted_score.tolist() == [25.0, 12.5]
    assert second.corridor_importance.tolist() == [1.0, 0.25]


def test_equal_weighted_scores_go_to_the_larger_relative_gain():
    # weights 1 and 0.5: both sites weigh 25; corridor 2 gains 2000 of 2200 (90.9 %),
    # corridor 1 1000 of 1200 (83.3 %): corridor 2 first.
    net = two_wall_network((2.0, 1.0))
    top = find_barriers(net, radius_m=20.0, top_n=10, max_per_corridor=1)
    assert top.corridor_id.tolist() == [2, 1]
    assert top.weighted_score.tolist() == [25.0, 25.0]
    assert top.lcd_gain_pct.tolist() == pytest.approx([100 * 2000 / 2200, 100 * 1000 / 1200])


def test_at_most_k_sites_per_corridor():
    net = plateau_network()
    assert len(find_barriers(net, radius_m=20.0, top_n=5)) == 3
    capped = find_barriers(net, radius_m=20.0, top_n=5, max_per_corridor=2)
    rows = [(int((1000 - g.y) // CELL), int(g.x // CELL)) for g in capped.geometry]
    assert rows == [(0, 15), (4, 15)]
    with pytest.raises(ConfigError, match="max_per_corridor is 0"):
        find_barriers(net, radius_m=20.0, top_n=5, max_per_corridor=0)
    with pytest.raises(ConfigError, match="'area'"):
        find_barriers(net, radius_m=20.0, top_n=5, weight="area")


def test_scores_on_the_gain_window_equal_those_on_the_whole_overlap(monkeypatch):
    """find_barriers scores each pair only where a gain is possible (+ R): same sites as scoring
    the whole overlap of the two cost windows (the window left as it is)."""
    from agglonet.ecology import barriers

    rng = np.random.default_rng(11)
    r = 1 + 30 * (rng.random((70, 80)) < 0.35) + 200 * (rng.random((70, 80)) < 0.05)
    labels = np.zeros(r.shape, dtype=int)
    for k, (y, x) in enumerate([(3, 3), (5, 70), (35, 40), (62, 6), (63, 72), (30, 10)], 1):
        labels[y:y + 3, x:x + 3] = k
    net = build_corridors(r, labels, transform=TRANSFORM, crs="EPSG:3857",
                          width_cost_units=3000)
    cropped = []
    real = barriers._gain_window

    def spy(sa, sb, win, *, cut, pad):
        got = real(sa, sb, win, cut=cut, pad=pad)
        cropped.append(got is None or (got[0].stop - got[0].start) * (got[1].stop - got[1].start)
                       < (win[0].stop - win[0].start) * (win[1].stop - win[1].start))
        return got

    monkeypatch.setattr(barriers, "_gain_window", spy)
    fast = find_barriers(net, radius_m=20.0, top_n=15)
    assert any(cropped), "the test network never exercises a smaller window"
    monkeypatch.setattr(barriers, "_gain_window", lambda sa, sb, win, *, cut, pad: win)
    full = find_barriers(net, radius_m=20.0, top_n=15)
    assert len(full) >= 5
    assert fast.drop(columns="geometry").equals(full.drop(columns="geometry"))
