"""The CSR assembly of the grounded Laplacian, against a dense matrix written out by hand."""

from __future__ import annotations

import numpy as np
import pytest
from test_circuit import dense_laplacian

from agglonet.ecology.circuit import circuit_graph
from agglonet.ecology.laplacian import grounded_laplacian


def dense_grounded(resistance, graph, position, n_rows):
    """Dense grounded Laplacian: the hand-written one with the grounded rows and columns cut."""
    full = dense_laplacian(resistance, graph)
    kept = np.flatnonzero(position >= 0)
    out = np.zeros((n_rows, n_rows))
    out[np.ix_(position[kept], position[kept])] = full[np.ix_(kept, kept)]
    return out


def case(seed: int):
    """A random grid with holes and sources that touch each other and span several patches."""
    rng = np.random.default_rng(seed)
    h, w = rng.integers(4, 16, size=2)
    r = rng.uniform(1, 100, (h, w))
    r[rng.random((h, w)) < 0.2] = np.nan
    labels = np.zeros((h, w), dtype=int)
    for k in range(1, int(rng.integers(1, 5))):
        i, j = rng.integers(0, h), rng.integers(0, w)
        labels[i:i + int(rng.integers(1, 4)), j:j + int(rng.integers(1, 4))] = k
        labels[rng.integers(0, h), rng.integers(0, w)] = k      # a second, separate patch
    return r, labels


@pytest.mark.parametrize("seed", range(12))
def test_grounded_laplacian_equals_the_matrix_written_out_by_hand(seed):
    r, labels = case(seed)
    graph = circuit_graph(r, labels)
    n_sources = len(graph.source_nodes)
    position = np.arange(graph.n_nodes)
    rng = np.random.default_rng(100 + seed)
    grounded = rng.choice(graph.n_nodes, size=min(2, graph.n_nodes), replace=False)
    for node in sorted(grounded, reverse=True):        # ground a source or a plain cell
        position = np.where(position == position[node], -1,
                            position - (position > position[node]))
    n_rows = int((position >= 0).sum())
    matrix = grounded_laplacian(graph.node_of_cell, graph.conductance, n_sources, position,
                                n_rows)
    np.testing.assert_allclose(matrix.toarray(), dense_grounded(r, graph, position, n_rows),
                               rtol=1e-12, atol=1e-14)
    # canonical CSR: sorted, no duplicates, one diagonal per row; exactly symmetric
    for row in range(n_rows):
        cols = matrix.indices[matrix.indptr[row]:matrix.indptr[row + 1]]
        assert np.all(np.diff(cols) > 0)
        assert row in cols
    assert (matrix != matrix.T).nnz == 0


def test_float32_matrix_has_the_same_pattern():
    r, labels = case(3)
    graph = circuit_graph(r, labels)
    position = np.arange(graph.n_nodes)
    args = (graph.node_of_cell, graph.conductance, len(graph.source_nodes), position,
            graph.n_nodes)
    double = grounded_laplacian(*args)
    single = grounded_laplacian(*args, dtype=np.float32)
    assert single.dtype == np.float32
    assert np.array_equal(single.indices, double.indices)
    assert np.array_equal(single.data, double.data.astype(np.float32))
