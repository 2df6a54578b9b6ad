"""The compiled AMG cycle and CG: split matrix, symmetric preconditioner, convergence."""

from __future__ import annotations

import numpy as np
import pyamg
import scipy.sparse as sp

from agglonet.ecology.amg import (
    AMG_MAX_COARSE,
    AMG_SPLITTING,
    AMG_STRENGTH_THETA,
    AmgPreconditioner,
    SplitLaplacian,
    preconditioned_cg,
    ruge_stuben_levels,
)
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


def _same_csr(a, b):
    a, b = sp.csr_array(a), sp.csr_array(b)
    return (a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a.indptr, b.indptr)
            and np.array_equal(a.indices, b.indices) and np.array_equal(a.data, b.data))


def test_levels_are_pyamgs_ruge_stuben_hierarchy_to_the_bit():
    # the level-by-level set-up frees memory early; it must build pyamg's hierarchy exactly
    _, args = grounded_grid((90, 110))
    single = grounded_laplacian(*args, dtype=np.float32)
    reference = pyamg.ruge_stuben_solver(
        sp.csr_array(single), strength=("classical", {"theta": AMG_STRENGTH_THETA}),
        CF=AMG_SPLITTING, max_coarse=AMG_MAX_COARSE).levels
    operators, prolongations = ruge_stuben_levels(lambda: sp.csr_array(single))
    assert len(reference) >= 3 and len(operators) == len(reference) - 1
    assert len(prolongations) == len(reference) - 1
    for level, (prolong, restrict) in zip(reference, prolongations, strict=False):
        assert _same_csr(level.P, prolong) and _same_csr(level.R, restrict)
    for level, operator in zip(reference[1:], operators, strict=True):
        assert _same_csr(level.A, operator)


def test_levels_of_a_matrix_too_small_to_coarsen_are_the_matrix_itself():
    _, args = grounded_grid((10, 12))
    single = grounded_laplacian(*args, dtype=np.float32)
    assert single.shape[0] <= AMG_MAX_COARSE
    operators, prolongations = ruge_stuben_levels(single)
    assert prolongations == [] and len(operators) == 1
    assert _same_csr(operators[0], single)


def test_interpolation_on_sorted_rows_is_pyamgs_without_its_temporaries():
    from pyamg.classical.interpolate import classical_interpolation
    from pyamg.strength import classical_strength_of_connection

    from agglonet.ecology.amg import _classical_interpolation

    _, args = grounded_grid((70, 80), spread=3.0)
    matrix = sp.csr_array(grounded_laplacian(*args, dtype=np.float32))
    assert matrix.has_sorted_indices                  # the compiled merge's path
    strength = classical_strength_of_connection(matrix, theta=AMG_STRENGTH_THETA)
    splitting = pyamg.classical.split.RS(strength, second_pass=True)
    reference = classical_interpolation(matrix, strength, splitting)
    ours = _classical_interpolation(matrix, strength.copy(), splitting)
    assert _same_csr(ours, reference)
    # unsorted rows (as from scipy's products) go to pyamg's, with the same result
    shuffled = matrix.copy()
    for row in range(0, shuffled.shape[0], 3):
        lo, hi = shuffled.indptr[row], shuffled.indptr[row + 1]
        shuffled.indices[lo:hi] = shuffled.indices[lo:hi][::-1].copy()
        shuffled.data[lo:hi] = shuffled.data[lo:hi][::-1].copy()
    shuffled.has_sorted_indices = False
    strength = classical_strength_of_connection(shuffled, theta=AMG_STRENGTH_THETA)
    assert _same_csr(_classical_interpolation(shuffled, strength.copy(), splitting),
                     classical_interpolation(shuffled, strength, splitting))


def test_splitting_is_pyamgs_and_leaves_the_strength_matrix_as_it_was():
    from agglonet.ecology.amg import _rs_splitting

    _, args = grounded_grid((60, 70), spread=3.0)
    matrix = sp.csr_array(grounded_laplacian(*args, dtype=np.float32))
    strength = pyamg.strength.classical_strength_of_connection(matrix, theta=AMG_STRENGTH_THETA)
    # some rows without a diagonal entry, and the first and last rows among them
    lil = strength.tolil()
    for row in (0, 5, 17, strength.shape[0] - 1):
        lil[row, row] = 0
    strength = sp.csr_array(lil.tocsr())
    strength.eliminate_zeros()
    strength.sort_indices()
    assert strength.has_canonical_format
    before = strength.copy()
    reference = pyamg.classical.split.RS(before, second_pass=True)
    splitting = _rs_splitting(strength)
    assert splitting.dtype == reference.dtype and np.array_equal(splitting, reference)
    assert _same_csr(strength, before)
