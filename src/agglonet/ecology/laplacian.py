"""Grounded Laplacian of a raster conductance graph, assembled straight into CSR.

The graph is the one of :mod:`agglonet.ecology.circuit`: 8 neighbours, edge conductance
1 / mean resistance of the two cells (2 / (1/g_a + 1/g_b)), divided by √2 on diagonals, every
source one node (nodes numbered sources first, then the other passable cells in raster order).
A row is kept when its node has a position ≥ 0; an edge to a node of position −1 (a grounded
node) adds to the diagonal only.

Written here with numba rather than through ``scipy.sparse.coo_array(...).tocsr()``: a plain
cell's row is known from its 3 × 3 window, already in column order, so the CSR arrays are filled
in two passes over the raster at their final size, with no COO triplets, no sort and no
duplicate summing. Only the edges touching a source (its boundary: a small part of the grid)
go through a sort, so that parallel edges between a source and a node are summed once, in one
order, and the matrix is exactly symmetric. On the 1000 × 1000 grid of ``benchmarks/circuit.py``
one assembly took 0.2 s against 1.2 s for the COO route (warm process; the first call in a
process also loads the compiled kernels from numba's cache, about 0.4 s), and it needs no
memory beyond the result.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import scipy.sparse as sp

#: The 8 neighbour offsets in raster order of the neighbour (so a plain row comes out sorted).
_DY = np.array([-1, -1, -1, 0, 0, 1, 1, 1], dtype=np.int64)
_DX = np.array([-1, 0, 1, -1, 1, -1, 0, 1], dtype=np.int64)
#: The 4 forward offsets (those of ``raster_graph.OFFSETS[4:]``): each undirected edge once.
FORWARD_DY = np.array([0, 1, 1, 1], dtype=np.int64)
FORWARD_DX = np.array([1, -1, 0, 1], dtype=np.int64)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)


@numba.njit(cache=True, inline="always")
def edge_conductance(ga: float, gb: float, diagonal: bool) -> float:
    """Edge conductance 2 / (1/g_a + 1/g_b) of two cells, divided by √2 on a diagonal."""
    g = 2.0 / (1.0 / ga + 1.0 / gb)
    return g / math.sqrt(2.0) if diagonal else g


@numba.njit(cache=True)
def _source_edges(node, cond, n_sources, fill, a_out, b_out, g_out):
    """Count (``fill`` False) or write the undirected edges touching a source node."""
    h, w = node.shape
    k = 0
    for i in range(h):
        for j in range(w):
            n = node[i, j]
            if n < 0:
                continue
            for o in range(4):
                y, x = i + FORWARD_DY[o], j + FORWARD_DX[o]
                if y < 0 or y >= h or x < 0 or x >= w:
                    continue
                m = node[y, x]
                if m < 0 or m == n or (n >= n_sources and m >= n_sources):
                    continue
                if fill:
                    a_out[k] = min(n, m)
                    b_out[k] = max(n, m)
                    g_out[k] = edge_conductance(cond[i, j], cond[y, x], o != 0 and o != 2)
                k += 1
    return k


@numba.njit(cache=True)
def _plain_rows(node, cond, position, n_sources, pair_key, pair_g, n_nodes, row_start,
                fill, indices, data):
    """Count (``fill`` False: into ``row_start``) or write the rows of plain cells.

    A plain row holds its distinct source neighbours (sorted, conductances summed from
    ``pair_key``/``pair_g``), then its plain neighbours and itself in raster order.
    """
    h, w = node.shape
    srcs = np.empty(8, dtype=np.int64)
    for i in range(h):
        for j in range(w):
            n = node[i, j]
            if n < n_sources:
                continue
            p = position[n]
            if p < 0:
                continue
            # distinct source neighbours, sorted (insertion sort: at most 8)
            n_src = 0
            diag = 0.0
            for o in range(8):
                y, x = i + _DY[o], j + _DX[o]
                if y < 0 or y >= h or x < 0 or x >= w:
                    continue
                m = node[y, x]
                if m < 0:
                    continue
                if fill:
                    diag += edge_conductance(cond[i, j], cond[y, x], _DY[o] != 0 and _DX[o] != 0)
                if m < n_sources and position[m] >= 0:
                    seen = False
                    for q in range(n_src):
                        if srcs[q] == m:
                            seen = True
                    if not seen:
                        q = n_src
                        while q > 0 and srcs[q - 1] > m:
                            srcs[q] = srcs[q - 1]
                            q -= 1
                        srcs[q] = m
                        n_src += 1
            if not fill:
                count = n_src + 1
                for o in range(8):
                    y, x = i + _DY[o], j + _DX[o]
                    if 0 <= y < h and 0 <= x < w:
                        m = node[y, x]
                        if m >= n_sources and position[m] >= 0:
                            count += 1
                row_start[p + 1] = count
                continue
            at = row_start[p]
            for q in range(n_src):
                key = srcs[q] * n_nodes + n
                k = np.searchsorted(pair_key, key)
                indices[at] = position[srcs[q]]
                data[at] = -pair_g[k]
                at += 1
            for o in range(8):
                if o == 4:                      # the cell itself sits between (0, -1) and (0, 1)
                    indices[at] = p
                    data[at] = diag
                    at += 1
                y, x = i + _DY[o], j + _DX[o]
                if y < 0 or y >= h or x < 0 or x >= w:
                    continue
                m = node[y, x]
                if m >= n_sources and position[m] >= 0:
                    indices[at] = position[m]
                    diagonal_edge = _DY[o] != 0 and _DX[o] != 0
                    data[at] = -edge_conductance(cond[i, j], cond[y, x], diagonal_edge)
                    at += 1


def _source_pairs(node: np.ndarray, cond: np.ndarray,
                  n_sources: int, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted keys ``a · n_nodes + b`` (a < b, a a source) and summed conductances."""
    if n_sources == 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    n_edges = _source_edges(node, cond, n_sources, False, np.empty(0, np.int64),
                            np.empty(0, np.int64), np.empty(0))
    a = np.empty(n_edges, dtype=np.int64)
    b = np.empty(n_edges, dtype=np.int64)
    g = np.empty(n_edges)
    _source_edges(node, cond, n_sources, True, a, b, g)
    key = a * n_nodes + b
    del a, b
    order = np.argsort(key, kind="stable")
    key, g = key[order], g[order]
    if not key.size:
        return key, g
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    return key[first], np.add.reduceat(g, first)


def grounded_laplacian(node_of_cell: np.ndarray, conductance: np.ndarray,
                       n_sources: int, position: np.ndarray, n_rows: int, *,
                       dtype: type = np.float64) -> sp.csr_array:
    """CSR Laplacian over the nodes with ``position[node] >= 0``, in position order.

    Parameters
    ----------
    node_of_cell
        int64 raster: node per cell (−1 impassable); nodes ``0 … n_sources − 1`` are the
        sources, the others one plain cell each, numbered in raster order.
    conductance
        float64 raster: cell conductance (> 0 where ``node_of_cell`` ≥ 0).
    n_sources
        Number of source nodes.
    position
        Row of each node (−1: not a row; edges to it only add to the diagonal). Must increase
        with the node number over the kept nodes.
    n_rows
        Number of kept nodes.
    dtype
        Value type of the matrix (float64, or float32 for an AMG set-up).

    Returns
    -------
    scipy.sparse.csr_array
        Sorted indices, no duplicates; exactly symmetric.
    """
    node = np.ascontiguousarray(node_of_cell, dtype=np.int64)
    cond = np.ascontiguousarray(conductance, dtype=np.float64)
    position = np.ascontiguousarray(position, dtype=np.int64)
    n_nodes = position.size
    pair_key, pair_g = _source_pairs(node, cond, n_sources, n_nodes)
    src_rows, src_cols, src_vals = _source_rows(pair_key, pair_g, position, n_sources,
                                                 n_nodes)
    counts = np.zeros(n_rows + 1, dtype=np.int64)
    _plain_rows(node, cond, position, n_sources, pair_key, pair_g, n_nodes, counts, False,
                np.empty(0, np.int32), np.empty(0, dtype))
    np.add.at(counts, src_rows + 1, 1)
    indptr = np.cumsum(counts)
    del counts
    index = np.int32 if n_rows < np.iinfo(np.int32).max else np.int64
    indices = np.empty(int(indptr[-1]), dtype=index)
    data: np.ndarray = np.empty(int(indptr[-1]), dtype=dtype)
    _plain_rows(node, cond, position, n_sources, pair_key, pair_g, n_nodes, indptr, True,
                indices, data)
    # source rows: their entries are in (row, column) order already
    if src_rows.size:
        start = indptr[src_rows]
        rank = np.arange(src_rows.size) - np.searchsorted(src_rows, src_rows)
        indices[start + rank] = src_cols
        data[start + rank] = src_vals
    if indptr[-1] < np.iinfo(np.int32).max:
        indptr = indptr.astype(np.int32)
    matrix = sp.csr_array((data, indices, indptr), shape=(n_rows, n_rows))
    matrix.has_sorted_indices = True
    return matrix


def _source_rows(pair_key: np.ndarray, pair_g: np.ndarray, position: np.ndarray,
                 n_sources: int, n_nodes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries (row, column, value) of the kept source rows, sorted by row then column.

    A pair (a, b) (a < b, a a source) gives row a the entry −g at column b, and row b the entry
    −g at column a when b is a source too; entries at a column of position −1 are left out.
    The diagonal of a source row is the sum of g over all its pairs.
    """
    a, b = pair_key // n_nodes, pair_key % n_nodes
    both = b < n_sources
    row_node = np.concatenate([a, b[both]])
    col_node = np.concatenate([b, a[both]])
    g = np.concatenate([pair_g, pair_g[both]])
    kept = position[row_node] >= 0
    row_node, col_node, g = row_node[kept], col_node[kept], g[kept]
    diagonal = np.bincount(row_node, weights=g, minlength=n_sources)
    with_row = np.flatnonzero(position[:n_sources] >= 0)   # every kept source has a diagonal
    off = position[col_node] >= 0
    row = np.concatenate([position[row_node[off]], position[with_row]])
    col = np.concatenate([position[col_node[off]], position[with_row]])
    value = np.concatenate([-g[off], diagonal[with_row]])
    order = np.lexsort((col, row))
    return row[order], col[order], value[order]
