"""The compiled AMG cycle and CG: split matrix, symmetric preconditioner, convergence."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from agglonet.ecology.amg import AmgPreconditioner, SplitLaplacian, preconditioned_cg
from agglonet.ecology.circuit import circuit_graph
from agglonet.ecology.grid_laplacian import GridLaplacian
from agglonet.ecology.laplacian import grounded_laplacian


def grounded_grid(shape=(120, 150), seed=7, spread=2.0):
    """A rough resistance surface with holes, one source, grounded at the source."""
    rng = np.random.default_rng(seed)
    r = np.exp(spread * rng.normal(size=shape))
    r[rng.random(shape) < 0.05] = np.nan
    labels = np.zeros(shape, dtype=int)
    labels[5:9, 5:12] = 1
    graph = circuit_graph(r, labels)
    position = np.arange(graph.n_nodes) - 1          # node 0 (the source) grounded
    n_rows = graph.n_nodes - 1
    args = (graph.node_of_cell, graph.conductance, 1, position, n_rows)
    return graph, args


def test_split_matrix_rounds_off_diagonals_and_keeps_row_sums():
    _, args = grounded_grid((30, 40))
    csr = grounded_laplacian(*args)
    split = SplitLaplacian.from_csr(csr)
    dense, exact = split.toarray(), csr.toarray()
    off = ~np.eye(dense.shape[0], dtype=bool)
    assert np.array_equal(dense[off], exact[off].astype(np.float32).astype(np.float64))
    assert np.array_equal(dense, dense.T)
    np.testing.assert_allclose(dense.sum(axis=1), exact.sum(axis=1), rtol=1e-12,
                               atol=1e-12 * np.abs(exact).max())


def test_cycle_is_a_symmetric_positive_operator():
    # Symmetric up to the rounding of the float32 coarse levels, which grows with the
    # resistance contrast (3e-5 at a spread of e^±6; hence CG's flexible β): mild contrast here.
    _, args = grounded_grid(spread=1.0)
    preconditioner = AmgPreconditioner(lambda: grounded_laplacian(*args, dtype=np.float32),
                                       finest=lambda: GridLaplacian.from_raster(*args))
    assert len(preconditioner.levels) >= 3              # several levels, W-cycles below
    rng = np.random.default_rng(1)
    n = preconditioner.matrix.shape[0]
    b1, b2 = rng.normal(size=n), rng.normal(size=n)
    z1, z2 = preconditioner(b1), preconditioner(b2)
    assert abs(b2 @ z1 - b1 @ z2) <= 1e-6 * abs(b2 @ z1)
    assert b1 @ z1 > 0 and b2 @ z2 > 0
    # the work vectors are reused: the same input gives the same bits again
    assert np.array_equal(preconditioner(b1), z1)


def test_cg_on_the_grid_operator_reaches_the_tolerance_of_the_exact_matrix():
    _, args = grounded_grid()
    grid = GridLaplacian.from_raster(*args)
    preconditioner = AmgPreconditioner(lambda: grounded_laplacian(*args, dtype=np.float32),
                                       finest=lambda: GridLaplacian.from_raster(*args))
    exact = sp.csr_array(grounded_laplacian(*args))
    b = np.zeros(exact.shape[0])
    b[[0, 500, 9000]] = [1.0, -0.5, 2.0]
    x, iterations = preconditioned_cg(grid, b, preconditioner=preconditioner, rtol=1e-9)
    assert np.linalg.norm(b - grid @ x) <= 1e-9 * np.linalg.norm(b)
    assert 0 < iterations < 30
    # float32 conductances: the solution of the exact matrix to about their precision
    reference = sp.linalg.spsolve(exact.tocsc(), b)
    np.testing.assert_allclose(x, reference, rtol=1e-5, atol=1e-6 * np.abs(reference).max())
