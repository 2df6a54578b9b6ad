"""IIC, PC, dPC (intra/flux/connector), dIIC and ECA against hand computations on three patches."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from agglonet.ecology.connectivity import connectivity_indices, decay_constant, edge_distances_m
from agglonet.errors import DataError

# Three patches in a row: 1 —5 km— 2 —5 km— 3, and 1–3 directly 20 km apart.
AREAS = np.array([1.0, 2.0, 3.0])
DIST = np.array([[0.0, 5e3, 20e3], [5e3, 0.0, 5e3], [20e3, 5e3, 0.0]])
A_L = 100.0


def _run() -> object:
    return connectivity_indices(AREAS, DIST, landscape_area_km2=A_L, probability=0.5,
                                distance_threshold_m=5e3)


def test_pc_and_dpc_by_hand() -> None:
    r = _run()
    # p12 = p23 = 0.5; p13 direct = 0.5**4 = 0.0625 but via 2: 0.25.
    num = 1 + 4 + 9 + 2 * (2 * 0.5 + 6 * 0.5 + 3 * 0.25)  # 23.5
    assert r.pc == pytest.approx(num / A_L**2)
    assert r.eca_km2 == pytest.approx(math.sqrt(num))
    # Without 1: 4 + 9 + 2*6*0.5 = 19; without 2: 1 + 9 + 2*3*0.0625 = 10.375;
    # without 3: 1 + 4 + 2*2*0.5 = 7.
    np.testing.assert_allclose(r.dpc, 100 * np.array([num - 19, num - 10.375, num - 7]) / num)
    np.testing.assert_allclose(r.dpc_intra, 100 * np.array([1, 4, 9]) / num)
    np.testing.assert_allclose(r.dpc_flux, 100 * np.array([3.5, 8.0, 7.5]) / num)
    # Only patch 2 is a stepping stone: it raises p*13 from 0.0625 to 0.25.
    connector = 100 * np.array([0, 2 * 3 * (0.25 - 0.0625), 0]) / num
    np.testing.assert_allclose(r.dpc_connector, connector, atol=1e-12)


def test_iic_by_hand() -> None:
    r = _run()
    # Links 1-2 and 2-3 (d <= 5 km); nl13 = 2.
    num = 1 + 4 + 9 + 2 * (2 / 2 + 6 / 2 + 3 / 3)  # 24
    assert r.iic == pytest.approx(num / A_L**2)
    # Without 1: 4 + 9 + 2*6/2 = 19; without 2: 1 + 9 = 10; without 3: 1 + 4 + 2*2/2 = 7.
    np.testing.assert_allclose(r.diic, 100 * np.array([num - 19, num - 10, num - 7]) / num)


def test_decay_constant() -> None:
    k = decay_constant(probability=0.5, distance_m=10_000)
    assert math.exp(-k * 10_000) == pytest.approx(0.5)
    with pytest.raises(DataError, match="probability 1.5"):
        decay_constant(probability=1.5, distance_m=1)


def test_edge_distances_match_polygons() -> None:
    labels = np.zeros((6, 8), dtype=np.int32)
    labels[0, 0] = 1
    labels[0:2, 3] = 2          # two cells tall
    labels[3:5, 5:7] = 3
    dist = edge_distances_m(labels, cell_size_m=1000.0)
    # Independent: shapely distances between the unions of the cell squares (x = col, y = row).
    polys = [shapely.union_all([box(c, r, c + 1, r + 1) for r, c in zip(*np.nonzero(labels == k),
                                                                       strict=True)])
             for k in (1, 2, 3)]
    expected = np.array([[shapely.distance(a, b) * 1000 for b in polys] for a in polys])
    np.testing.assert_allclose(dist, expected)
    assert dist[0, 1] == pytest.approx(2000.0)


def test_edge_distances_of_large_irregular_patches_match_polygons() -> None:
    # patches with hundreds of boundary corners (the nearest-point search first bounds the
    # distance with a subsample of them), some wrapped round others
    from scipy import ndimage

    rng = np.random.default_rng(3)
    blobs = ndimage.gaussian_filter(rng.random((90, 110)), 2.0) > 0.55
    labels, n = ndimage.label(blobs)
    labels[40:50, 5:100] = n + 1                  # a long bar under several blobs
    labels[60:62, 20:23] = n + 2                  # a small patch inside a bay of others
    labels = np.unique(labels, return_inverse=True)[1].reshape(labels.shape)  # ids 1…n again
    n = int(labels.max())
    dist = edge_distances_m(labels, cell_size_m=30.0)
    polys = [shapely.union_all([box(c, r, c + 1, r + 1) for r, c in zip(*np.nonzero(labels == k),
                                                                       strict=True)])
             for k in range(1, n + 1)]
    assert n >= 8 and max(len(shapely.get_coordinates(p)) for p in polys) > 200
    expected = np.array([[shapely.distance(a, b) * 30.0 for b in polys] for a in polys])
    np.testing.assert_allclose(dist, expected, rtol=1e-12, atol=1e-9)


def test_no_patches() -> None:
    with pytest.raises(DataError, match="no habitat patch"):
        connectivity_indices(np.array([]), np.zeros((0, 0)), landscape_area_km2=1,
                             probability=0.5, distance_threshold_m=1)


def test_leave_one_out_matches_brute_force() -> None:
    # 13 random patches: every dPC / dIIC against removing the patch and recomputing with scipy.
    from scipy.sparse.csgraph import shortest_path

    rng = np.random.default_rng(7)
    n = 13
    pts = rng.uniform(0, 40e3, (n, 2))
    dist = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    areas = rng.uniform(1, 20, n)
    k = -math.log(0.5) / 8e3
    r = connectivity_indices(areas, dist, landscape_area_km2=2000, probability=0.5,
                             distance_threshold_m=8e3)

    def pc_num(idx: np.ndarray) -> float:
        w = k * dist[np.ix_(idx, idx)]
        return float(areas[idx] @ np.exp(-shortest_path(w, directed=False)) @ areas[idx])

    def iic_num(idx: np.ndarray) -> float:
        adj = (dist[np.ix_(idx, idx)] <= 8e3).astype(float)
        np.fill_diagonal(adj, 0)
        nl = shortest_path(adj, directed=False, unweighted=True)
        return float(areas[idx] @ np.where(np.isfinite(nl), 1 / (1 + nl), 0) @ areas[idx])

    full = np.arange(n)
    for j in range(n):
        rest = full[full != j]
        assert r.dpc[j] == pytest.approx(100 * (1 - pc_num(rest) / pc_num(full)), rel=1e-9)
        assert r.diic[j] == pytest.approx(100 * (1 - iic_num(rest) / iic_num(full)), rel=1e-9)
