"""The compiled grid Dijkstra against scipy's CSR Dijkstra on corridors.grid_graph, and by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from agglonet.ecology.corridors import reduced_graph
from agglonet.ecology.raster_graph import grid_graph
from agglonet.errors import DataError
from agglonet.grid_dijkstra import cost_distance, cost_distance_allocation

CELL = 30.0


def random_grid(seed: int, shape: tuple[int, int] = (37, 53), n_starts: int = 5):
    rng = np.random.default_rng(seed)
    r = 1.0 + 99.0 * rng.random(shape)
    r[rng.random(shape) < 0.15] = np.nan  # scattered impassable cells
    r[shape[0] // 2, 5:-5] = np.nan       # and a wall
    passable = np.flatnonzero(np.isfinite(r.ravel()))
    starts = np.sort(rng.choice(passable, size=n_starts, replace=False))
    return r, starts


def scipy_multi(r: np.ndarray, starts: np.ndarray, limit: float = np.inf):
    g = grid_graph(r, cell_size_m=CELL)
    dist, _, src = dijkstra(g, directed=True, indices=starts, min_only=True, limit=limit,
                            return_predecessors=True)
    return dist.reshape(r.shape), src.reshape(r.shape)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_costs_equal_scipy_bit_for_bit(seed):
    r, starts = random_grid(seed)
    expected, _ = scipy_multi(r, starts)
    got = cost_distance(r, starts, cell_size_m=CELL)
    assert np.isinf(got).sum() > np.isnan(r).sum() - 1  # NaN cells and cut-off pockets: inf
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("seed", [3, 4])
def test_limit_equals_scipy_limit(seed):
    r, starts = random_grid(seed)
    full, _ = scipy_multi(r, starts[:1])
    finite = np.sort(full[np.isfinite(full)])
    # a limit equal to an attained cost (kept: cost <= limit), one in between, and 0
    for limit in (finite[finite.size // 3], 0.5 * (finite[10] + finite[11]), 0.0):
        expected, _ = scipy_multi(r, starts[:1], limit=limit)
        got = cost_distance(r, starts[:1], cell_size_m=CELL, limit=limit)
        np.testing.assert_array_equal(got, expected)
        assert np.isfinite(got).sum() == (full <= limit).sum()


def test_reduced_costs_equal_scipy_on_reduced_graph():
    r, starts = random_grid(5)
    h, _ = scipy_multi(r, starts)            # multi-source distance: a consistent potential
    h_nan = np.where(np.isfinite(h), h, np.nan)
    g = reduced_graph(grid_graph(r, cell_size_m=CELL), h_nan)
    for k, start in enumerate(starts[:3]):
        limit = np.inf if k == 0 else float(np.nanmedian(h_nan)) * 3
        expected = dijkstra(g, directed=True, indices=[start], min_only=True, limit=limit)
        got = cost_distance(r, [start], cell_size_m=CELL, limit=limit, potential=h_nan)
        np.testing.assert_array_equal(got.ravel(), expected)


@pytest.mark.parametrize("seed", [6, 7])
def test_allocation_equals_scipy_sources(seed):
    r, starts = random_grid(seed, n_starts=7)
    expected_d, expected_src = scipy_multi(r, starts)
    d, alloc = cost_distance_allocation(r, starts, cell_size_m=CELL)
    np.testing.assert_array_equal(d, expected_d)
    reached = expected_src >= 0
    np.testing.assert_array_equal(alloc[reached], expected_src[reached])
    assert (alloc[~reached] == -1).all()
    # with labels: the label of the start scipy reports
    labels = np.arange(100, 100 + starts.size)[::-1]
    _, lab = cost_distance_allocation(r, starts, cell_size_m=CELL, start_labels=labels)
    lookup = dict(zip(starts.tolist(), labels.tolist(), strict=True))
    np.testing.assert_array_equal(lab[reached], [lookup[s] for s in expected_src[reached]])


def test_allocation_ties_go_to_the_lowest_label():
    # uniform resistance, starts in opposite corners of a 5 x 5 grid: the anti-diagonal and
    # every other cell at exactly equal cost from both starts must go to the lower label
    r = np.full((5, 5), 2.0)
    starts = np.array([0, 24])
    d, alloc = cost_distance_allocation(r, starts, cell_size_m=CELL, start_labels=[7, 3])
    per_start = [dijkstra(grid_graph(r, cell_size_m=CELL), indices=s).reshape(5, 5)
                 for s in starts]
    tie = per_start[0] == per_start[1]
    assert tie.sum() >= 5
    assert (alloc[tie] == 3).all()
    assert (alloc[per_start[0] < per_start[1]] == 7).all()
    np.testing.assert_array_equal(d, np.minimum(*per_start))


def test_hand_worked_3x3():
    s2 = math.sqrt(2.0)
    r = np.array([[1.0, 3.0, 1.0],
                  [1.0, np.nan, 1.0],
                  [2.0, 1.0, 1.0]])
    # cell 10 m: orthogonal move (r_u + r_v) * 5, diagonal (r_u + r_v) * 5√2
    expected = np.array([[0.0, 20.0, 40.0],                     # (0,2) via (0,1)
                         [10.0, np.inf, 10.0 + 20.0 * s2],      # (1,2) via (1,0)-(2,1)
                         [25.0, 10.0 + 10.0 * s2, 20.0 + 10.0 * s2]])
    got = cost_distance(r, [0], cell_size_m=10.0)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    got = cost_distance(r, [0], cell_size_m=10.0, limit=30.0)
    np.testing.assert_allclose(got, np.where(expected <= 30.0, expected, np.inf), rtol=1e-12)
    # two starts on a uniform 3 x 3 grid: the middle column is a tie, to the lower label
    d, alloc = cost_distance_allocation(np.ones((3, 3)), [0, 2], cell_size_m=10.0,
                                        start_labels=[2, 1])
    np.testing.assert_array_equal(alloc, [[2, 1, 1], [2, 1, 1], [2, 1, 1]])
    np.testing.assert_allclose(d, [[0, 10, 0], [10, 10 * s2, 10], [20, 10 + 10 * s2, 20]],
                               rtol=1e-12)


def test_errors_name_the_bad_value():
    r = np.ones((4, 4))
    with pytest.raises(DataError, match="out of"):
        cost_distance(r, [16], cell_size_m=1.0)
    with pytest.raises(DataError, match="flat"):
        cost_distance(r, [0.5], cell_size_m=1.0)
    with pytest.raises(DataError, match="cell_size_m"):
        cost_distance(r, [0], cell_size_m=0.0)
    with pytest.raises(DataError, match="limit"):
        cost_distance(r, [0], cell_size_m=1.0, limit=-1.0)
    with pytest.raises(DataError, match="start_labels"):
        cost_distance_allocation(r, [0, 1], cell_size_m=1.0, start_labels=[1])
    with pytest.raises(DataError, match="potential"):
        cost_distance(r, [0], cell_size_m=1.0, potential=np.zeros((3, 3)))
