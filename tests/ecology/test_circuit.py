"""Circuit theory: Kirchhoff's law, ladders with known answers, AMG vs direct, pinch zones."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from affine import Affine
from shapely.geometry import Point

from agglonet.ecology.circuit import (
    AmgPreconditioner,
    circuit_graph,
    cumulative_current,
    pair_voltages,
    pinch_zones,
    preconditioned_cg,
)
from agglonet.errors import ConfigError, EmptyNetworkError
from agglonet.outputs import PINCH_POINT_COLUMNS

TRANSFORM = Affine(100.0, 0, 0, 0, -100.0, 10_000)


def edges(resistance: np.ndarray):
    """Every undirected 8-neighbour edge with its conductance, written out cell by cell."""
    h, w = resistance.shape
    out = []
    for i in range(h):
        for j in range(w):
            for di, dj in ((0, 1), (1, 0), (1, 1), (1, -1)):
                y, x = i + di, j + dj
                if 0 <= y < h and 0 <= x < w and np.isfinite(resistance[i, j]) \
                        and np.isfinite(resistance[y, x]):
                    g = 1.0 / ((resistance[i, j] + resistance[y, x]) / 2)
                    out.append(((i, j), (y, x), g / math.sqrt(2) if di and dj else g))
    return out


def dense_solution(resistance, labels, injection: dict[int, float], ground: int):
    """Independent dense solve: cells of a source merged by equal-voltage constraints."""
    cells = [tuple(map(int, c)) for c in np.argwhere(np.isfinite(resistance))]
    key = {c: (("s", int(labels[c])) if labels[c] else c) for c in cells}
    nodes = sorted(set(key.values()), key=str)
    index = {n: i for i, n in enumerate(nodes)}
    lap = np.zeros((len(nodes), len(nodes)))
    for u, v, g in edges(resistance):
        a, b = index[key[u]], index[key[v]]
        if a != b:
            lap[a, a] += g
            lap[b, b] += g
            lap[a, b] -= g
            lap[b, a] -= g
    rhs = np.zeros(len(nodes))
    for k, amps in injection.items():
        rhs[index[("s", k)]] += amps
    keep = [i for i in range(len(nodes)) if i != index[("s", ground)]]
    v = np.zeros(len(nodes))
    v[keep] = np.linalg.solve(lap[np.ix_(keep, keep)], rhs[keep])
    volt = np.full(resistance.shape, np.nan)
    for c in cells:
        volt[c] = v[index[key[c]]]
    current = np.zeros(resistance.shape)
    for u, w_, g in edges(resistance):
        i = abs(g * (volt[u] - volt[w_]))
        current[u] += i / 2
        current[w_] += i / 2
    current[~np.isfinite(resistance)] = np.nan
    return volt, current


def random_case(seed=5, shape=(9, 11)):
    rng = np.random.default_rng(seed)
    r = 1 + 9 * rng.random(shape)
    r[4, 3:6] = np.nan
    labels = np.zeros(shape, dtype=int)
    labels[0:2, 0:2] = 1
    labels[7:9, 9:11] = 2
    labels[0, 10] = 3
    return r, labels


def test_kirchhoff_current_conservation_at_every_interior_node():
    r, labels = random_case()
    v = pair_voltages(r, labels, pair=(1, 2), solver="direct")
    net = np.zeros(r.shape)
    for u, w, g in edges(r):
        net[u] += g * (v[u] - v[w])   # current leaving u towards w
        net[w] -= g * (v[u] - v[w])
    interior = np.isfinite(r) & (labels == 0) | (labels == 3)
    assert np.abs(net[interior]).max() < 1e-9
    assert net[labels == 1].sum() == pytest.approx(1.0)     # 1 A injected at source 1
    assert net[labels == 2].sum() == pytest.approx(-1.0)    # and drawn out at grounded source 2
    assert np.all(v[labels == 2] == 0)
    assert np.ptp(v[labels == 1]) == 0                      # short-circuited source


def test_one_dimensional_chain_effective_resistance_and_current():
    r = np.array([[2.0, 4.0, 6.0, 8.0, 10.0, 3.0]])
    labels = np.array([[1, 0, 0, 0, 0, 2]])
    v = pair_voltages(r, labels, pair=(1, 2), solver="direct")
    # series resistances (2+4)/2 + (4+6)/2 + (6+8)/2 + (8+10)/2 + (10+3)/2 = 3+5+7+9+6.5
    assert v[0, 0] == pytest.approx(30.5)
    current = cumulative_current(r, labels, pairs=[(1, 2)], solver="direct").current_density
    # 1 A flows through every interior cell (half of |in| + |out|); half of it at each end
    assert current[0, 1:5] == pytest.approx([1.0] * 4)
    assert current[0, [0, 5]] == pytest.approx([0.5, 0.5])


def test_two_row_ladder_with_diagonals():
    n = 8
    r = np.ones((2, n))
    labels = np.zeros((2, n), dtype=int)
    labels[:, 0] = 1
    labels[:, -1] = 2
    v = pair_voltages(r, labels, pair=(1, 2), solver="direct")
    # between neighbouring columns: 2 horizontal edges (1 S) + 2 diagonals (1/sqrt2 S)
    assert v[0, 0] == pytest.approx((n - 1) / (2 + math.sqrt(2)))


def test_pairwise_and_all_to_one_match_an_independent_dense_solve():
    r, labels = random_case()
    pair = cumulative_current(r, labels, pairs=[(1, 2), (2, 3)], solver="direct")
    expected = dense_solution(r, labels, {1: 1.0}, ground=2)[1] \
        + dense_solution(r, labels, {2: 1.0}, ground=3)[1]
    np.testing.assert_allclose(pair.current_density, expected, rtol=1e-9, atol=1e-12)
    assert pair.pairs == ((1, 2), (2, 3))
    a2o = cumulative_current(r, labels, mode="all_to_one", solver="direct")
    expected = sum(dense_solution(r, labels, {j: 1.0 for j in (1, 2, 3) if j != k}, ground=k)[1]
                   for k in (1, 2, 3))
    np.testing.assert_allclose(a2o.current_density, expected, rtol=1e-9, atol=1e-12)


def test_amg_and_direct_agree():
    rng = np.random.default_rng(11)
    r = np.exp(rng.normal(size=(60, 70)))
    r[20:40, 35] = np.nan
    labels = np.zeros(r.shape, dtype=int)
    labels[2:6, 2:6] = 1
    labels[50:55, 60:66] = 2
    labels[5:8, 60:64] = 3
    direct = cumulative_current(r, labels, solver="direct")
    amg = cumulative_current(r, labels, solver="amg")
    assert (direct.solver, amg.solver) == ("direct", "amg")
    # CG stops at Circuitscape's relative residual 1e-6: currents agree to 1e-5 of the largest
    scale = np.nanmax(direct.current_density)
    assert np.nanmax(np.abs(amg.current_density - direct.current_density)) < 1e-5 * scale
    va = pair_voltages(r, labels, pair=(1, 2), solver="amg")
    vd = pair_voltages(r, labels, pair=(1, 2), solver="direct")
    np.testing.assert_allclose(va, vd, rtol=1e-5)
    tight = cumulative_current(r, labels, solver="amg", rtol=1e-10)
    np.testing.assert_allclose(tight.current_density, direct.current_density, rtol=1e-6,
                               atol=1e-9)


def test_pinch_zones_by_hand():
    current = np.ones((6, 8))
    mask = np.zeros((6, 8), dtype=np.int32)
    mask[1:3, :] = 1
    mask[4:6, :] = 2
    current[1, 2] = 9.0   # corridor 1, zone A peak
    current[2, 3] = 8.0   # zone A too: a diagonal neighbour
    current[1, 6] = 7.8   # corridor 1, zone B
    current[5, 1] = 6.0   # corridor 2
    current[0, 0] = 99.0  # outside corridors: ignored
    zones = pinch_zones(current, mask, transform=TRANSFORM, crs="EPSG:3857", quantile=0.85)
    # corridor 1: 16 cells, sorted 1 (x13), 7.8, 8, 9; the 0.85 quantile (linear) sits at
    # position 0.85 * 15 = 12.75, between 1 and 7.8: 1 + 0.75 * 6.8 = 6.1, so the hot cells are
    # 9 and 8 (touching diagonally: one zone) and 7.8 (a zone of its own).
    # corridor 2: sorted 1 (x15), 6; position 12.75 falls between two ones: threshold 1, every
    # cell is hot, one zone of 16 cells (the quantile is relative to each corridor).
    assert list(zones.pinch_id) == [1, 2, 3]
    assert list(zones.corridor_id) == [1, 1, 2]
    assert list(zones.n_cells) == [2, 1, 16]
    np.testing.assert_allclose(zones.peak_current, [9.0, 7.8, 6.0])
    np.testing.assert_allclose(zones.mean_current, [8.5, 7.8, (15 + 6) / 16])
    np.testing.assert_allclose(zones.threshold_current, [6.1, 6.1, 1.0])
    np.testing.assert_allclose(zones.area_km2, [0.02, 0.01, 0.16])  # 100 m cells
    # polygons cover exactly the zone cells: zone A is two cells touching at a corner
    np.testing.assert_allclose(zones.geometry.area, [2e4, 1e4, 16e4])
    assert all(g.geom_type == "MultiPolygon" and g.is_valid for g in zones.geometry)
    assert zones.geometry.iloc[0].contains(Point(250.0, 9850.0))   # cell (1, 2)
    assert zones.geometry.iloc[0].contains(Point(350.0, 9750.0))   # cell (2, 3)
    assert zones.geometry.iloc[1].contains(Point(650.0, 9850.0))   # cell (1, 6)
    empty = pinch_zones(current, np.zeros_like(mask), transform=TRANSFORM, crs="EPSG:3857")
    assert len(empty) == 0 and list(empty.columns) == [*PINCH_POINT_COLUMNS, "geometry"]


def test_bad_options_are_config_errors():
    r, labels = random_case()
    with pytest.raises(ConfigError, match="'sideways'"):
        cumulative_current(r, labels, mode="sideways")
    with pytest.raises(ConfigError, match="'cholesky'"):
        cumulative_current(r, labels, solver="cholesky")


def test_one_source_and_disconnected_sources():
    r = np.ones((5, 9))
    labels = np.zeros(r.shape, dtype=int)
    labels[2, 0] = 1
    with pytest.raises(EmptyNetworkError, match="at least two"):
        cumulative_current(r, labels)
    r[:, 4] = np.nan                      # an impassable column cuts the grid in two
    labels[2, 8] = 2
    result = cumulative_current(r, labels, pairs=[(1, 2)], solver="direct")
    assert result.pairs == ()              # no current between disconnected sources
    assert np.nansum(result.current_density) == 0
    assert np.isnan(result.current_density[:, 4]).all()


def test_amg_solves_are_reproducible_whatever_the_global_random_state():
    # the classical AMG set-up has no random step: the global random state is neither read
    # (same maps) nor changed.
    r, labels = random_case(seed=8, shape=(60, 70))
    maps = []
    for seed in (1, 2):
        np.random.seed(seed)
        before = np.random.get_state()[1].copy()
        maps.append(cumulative_current(r, labels, solver="amg", rtol=1e-6).current_density)
        assert (np.random.get_state()[1] == before).all()
    assert np.array_equal(maps[0], maps[1], equal_nan=True)


def dense_laplacian(resistance, graph):
    """Dense node Laplacian from the hand-written edge list (cell pairs summed per node)."""
    out = np.zeros((graph.n_nodes, graph.n_nodes))
    for u, w, g in edges(resistance):
        a, b = graph.node_of_cell[u], graph.node_of_cell[w]
        if a != b:
            out[[a, b], [a, b]] += g
            out[a, b] -= g
            out[b, a] -= g
    return out


def test_laplacian_matches_the_edges_written_out_by_hand():
    r, labels = random_case(seed=3)
    graph = circuit_graph(r, labels)
    cells = [tuple(map(int, c)) for c in np.argwhere(np.isfinite(r))]
    expected = dense_laplacian(r, graph)
    np.testing.assert_allclose(graph.laplacian.toarray(), expected, rtol=1e-12, atol=1e-15)
    # nodes: one per source, one per other passable cell
    assert graph.n_nodes == len(cells) - int((labels > 0).sum()) + 3


def test_preconditioned_cg_stops_on_the_true_residual():
    rng = np.random.default_rng(4)
    r = np.exp(rng.normal(size=(70, 80)))
    labels = np.zeros(r.shape, dtype=int)
    lap = circuit_graph(r, labels).laplacian
    a = sp.csr_array(lap[1:][:, 1:])          # grounded at node 0
    b = rng.normal(size=a.shape[0])
    exact = spla.spsolve(a.tocsc(), b)
    for rtol in (1e-6, 1e-10):
        x, iterations = preconditioned_cg(a, b, preconditioner=AmgPreconditioner(a), rtol=rtol)
        assert np.linalg.norm(b - a @ x) <= rtol * np.linalg.norm(b)
        assert 0 < iterations < 40
    np.testing.assert_allclose(x, exact, rtol=1e-7, atol=1e-9 * np.abs(exact).max())


def test_components_joined_by_a_source_and_solved_with_one_hierarchy():
    # An impassable column splits the grid; source 1 has cells on both sides, so sources 2
    # (left) and 3 (right) are connected through it. Sources 4 and 5 sit on a separate island.
    rng = np.random.default_rng(9)
    r = 1 + 4 * rng.random((12, 15))
    r[:, 7] = np.nan
    r[:, 11] = np.nan
    labels = np.zeros(r.shape, dtype=int)
    labels[0, 2] = labels[0, 9] = 1
    labels[11, 0] = 2
    labels[11, 8] = 3
    labels[1, 12] = 4
    labels[10, 14] = 5
    pairs = [(2, 3), (4, 5), (1, 2)]
    east = np.arange(15) > 11                 # the island, solved on its own below
    main, main_labels = np.where(east, np.nan, r), np.where(east, 0, labels)
    island, island_labels = np.where(east, r, np.nan), np.where(east, labels, 0)
    expected = np.nan_to_num(dense_solution(main, main_labels, {2: 1.0}, ground=3)[1]
                             + dense_solution(main, main_labels, {1: 1.0}, ground=2)[1]) \
        + np.nan_to_num(dense_solution(island, island_labels, {4: 1.0}, ground=5)[1])
    expected[~np.isfinite(r)] = np.nan
    for solver in ("direct", "amg"):
        result = cumulative_current(r, labels, pairs=pairs, solver=solver, rtol=1e-10)
        assert result.pairs == ((1, 2), (2, 3), (4, 5))
        np.testing.assert_allclose(result.current_density, expected, rtol=1e-7, atol=1e-10)


def test_worker_processes_give_the_same_bits():
    r, labels = random_case(seed=8, shape=(60, 70))
    pairs = [(1, 2), (1, 3), (2, 3)]
    one = cumulative_current(r, labels, pairs=pairs, solver="amg", processes=1)
    two = cumulative_current(r, labels, pairs=pairs, solver="amg", processes=2)
    assert np.array_equal(one.current_density, two.current_density, equal_nan=True)
    a2o = [cumulative_current(r, labels, mode="all_to_one", solver="amg", processes=p)
           for p in (1, 2)]
    assert np.array_equal(a2o[0].current_density, a2o[1].current_density, equal_nan=True)
    with pytest.raises(ConfigError, match="processes"):
        cumulative_current(r, labels, processes=0)
