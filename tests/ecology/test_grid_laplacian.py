"""The raster-kept grounded Laplacian, against the matrix written out by hand and against CSR."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from test_laplacian import case, dense_grounded

from agglonet.ecology.amg import SplitLaplacian
from agglonet.ecology.circuit import cell_current, circuit_graph
from agglonet.ecology.grid_laplacian import GridLaplacian
from agglonet.ecology.laplacian import grounded_laplacian


def grounded_case(seed: int):
    """A case of test_laplacian with two random nodes (sources or plain cells) grounded."""
    r, labels = case(seed)
    graph = circuit_graph(r, labels)
    position = np.arange(graph.n_nodes)
    rng = np.random.default_rng(200 + seed)
    for node in sorted(rng.choice(graph.n_nodes, size=min(2, graph.n_nodes), replace=False),
                       reverse=True):
        position = np.where(position == position[node], -1,
                            position - (position > position[node]))
    n_rows = int((position >= 0).sum())
    return r, graph, position, n_rows


def grid_of(graph, position, n_rows):
    return GridLaplacian.from_raster(graph.node_of_cell, graph.conductance,
                                     len(graph.source_nodes), position, n_rows)


def grid_case(seed: int):
    """grounded_case with its GridLaplacian (skipped when every node is grounded)."""
    r, graph, position, n_rows = grounded_case(seed)
    if n_rows == 0:
        pytest.skip("everything grounded")
    return r, graph, position, n_rows, grid_of(graph, position, n_rows)


@pytest.mark.parametrize("seed", range(12))
def test_grid_operator_is_the_matrix_written_out_by_hand(seed):
    r, graph, position, n_rows, grid = grid_case(seed)
    dense = grid.toarray()
    # float32 edge conductances: the hand-written matrix to that precision, exactly symmetric
    np.testing.assert_allclose(dense, dense_grounded(r, graph, position, n_rows), rtol=2e-7,
                               atol=1e-12)
    assert np.array_equal(dense, dense.T)
    # every row sums to its conductance to ground, from the same rounded edges
    csr = grounded_laplacian(graph.node_of_cell, graph.conductance, len(graph.source_nodes),
                             position, n_rows)
    np.testing.assert_allclose(dense.sum(axis=1), csr.toarray().sum(axis=1), rtol=1e-6,
                               atol=1e-6 * np.abs(csr.diagonal()).max())


def dense_forward_sweep(a, b, x, from_zero):
    """Gauss–Seidel in row order, written out: x_i = (b_i − Σ_{j≠i} a_ij x_j) / a_ii."""
    x = np.zeros_like(b) if from_zero else x.copy()
    for i in range(b.size):
        x[i] = (b[i] - a[i] @ x + a[i, i] * x[i]) / a[i, i]
    return x


def dense_backward_sweep(a, b, x):
    x = x.copy()
    for i in reversed(range(b.size)):
        x[i] = (b[i] - a[i] @ x + a[i, i] * x[i]) / a[i, i]
    return x


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("kind", ["grid", "split"])
def test_sweeps_and_product_match_dense_gauss_seidel(seed, kind):
    r, graph, position, n_rows = grounded_case(seed)
    if n_rows == 0:
        pytest.skip("everything grounded")
    operator = (grid_of(graph, position, n_rows) if kind == "grid" else SplitLaplacian.from_csr(
        grounded_laplacian(graph.node_of_cell, graph.conductance, len(graph.source_nodes),
                           position, n_rows)))
    a = operator.toarray()
    rng = np.random.default_rng(seed)
    b, start = rng.normal(size=n_rows), rng.normal(size=n_rows)
    for from_zero in (True, False):
        x, residual = start.copy(), np.empty(n_rows)
        operator.forward_sweep_residual(b, x, residual, from_zero)
        expected = dense_forward_sweep(a, b, start, from_zero)
        np.testing.assert_allclose(x, expected, rtol=1e-10, atol=1e-12 * np.abs(expected).max())
        # the residual gathered during the sweep is b − A x after it
        np.testing.assert_allclose(residual, b - a @ x, rtol=1e-9,
                                   atol=1e-10 * np.abs(b).max())
    x = start.copy()
    operator.backward_sweep(b, x)
    np.testing.assert_allclose(x, dense_backward_sweep(a, b, start), rtol=1e-10, atol=1e-12)
    out = np.empty(n_rows)
    dot = operator.matvec_dot(start, out)
    np.testing.assert_allclose(out, a @ start, rtol=1e-12, atol=1e-12 * np.abs(a).max())
    assert dot == pytest.approx(start @ a @ start, rel=1e-10)


@pytest.mark.parametrize("seed", range(6))
def test_cell_current_on_the_grid_edges_matches_the_graph(seed):
    r, graph, position, n_rows, grid = grid_case(seed)
    voltage = np.random.default_rng(seed).normal(size=n_rows)
    node_voltage = np.zeros(graph.n_nodes)          # grounded nodes at 0
    node_voltage[position >= 0] = voltage[position[position >= 0]]
    total = np.zeros(graph.shape)
    grid.add_cell_current(voltage, total)
    expected = cell_current(graph, node_voltage)
    passable = graph.node_of_cell >= 0
    np.testing.assert_allclose(total[passable], expected[passable], rtol=2e-7, atol=1e-12)
    assert np.all(total[~passable] == 0)


@pytest.mark.parametrize("seed", range(6))
def test_sweep_with_restriction_equals_sweep_then_restriction(seed):
    r, graph, position, n_rows, grid = grid_case(seed)
    rng = np.random.default_rng(seed)
    b = rng.normal(size=n_rows)
    p = sp.random(n_rows, max(1, n_rows // 3), density=0.3, random_state=seed, format="csr",
                  dtype=np.float32)
    x, residual = np.empty(n_rows), np.empty(n_rows)
    grid.forward_sweep_residual(b, x, residual, True)
    fused_x, coarse = np.empty(n_rows), np.empty(p.shape[1], dtype=np.float32)
    prolong = (p.indptr.astype(np.int64).view(np.uint64), p.indices.view(np.uint32), p.data)
    grid.forward_sweep_restrict(b, fused_x, prolong, coarse)
    assert np.array_equal(fused_x, x)
    np.testing.assert_allclose(coarse, p.T @ residual, rtol=1e-5,
                               atol=1e-6 * np.abs(p.T @ residual).max())
