"""The grounded Laplacian of a raster conductance graph, kept on the raster (matrix-free).

The finest level of the circuit solver (:mod:`agglonet.ecology.amg`) reads its matrix three
times per CG iteration (two Gauss–Seidel sweeps and one product), and on a large raster those
passes are bound by memory traffic. As CSR, a plain cell's row costs 9 column indices and 9
values (72 bytes). Here the same operator is read from the raster: per cell the row number of
the cell (int32) and the conductances of its four forward edges (float32): 20 bytes per cell,
the row's other four conductances being the forward edges of the cells above and to the left,
which the pass has just read. Only the rows of source nodes (a source's cells are one node,
so its row gathers the edges of its whole boundary) are kept as a small CSR matrix.

Same graph as :mod:`agglonet.ecology.laplacian` (8 neighbours, conductance
2 / (1/g_a + 1/g_b), diagonals divided by √2, each source one node, rows numbered sources
first, then plain cells in raster order), with every edge's conductance rounded to float32
(as :class:`agglonet.ecology.amg.SplitLaplacian` does) and each diagonal the float64 sum of
its node's rounded edge conductances, edges to grounded nodes included: the exact grounded
Laplacian of the network with float32 conductances. Written with numba: no library keeps a
stencil operator with merged (short-circuited) nodes.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp

from agglonet.ecology.laplacian import FORWARD_DX, FORWARD_DY, edge_conductance

#: Row value of a cell without a row: impassable (−1), or grounded/outside the system (−2,
#: its potential is 0 and its edges count in the neighbours' diagonals only).
IMPASSABLE, GROUNDED = -1, -2


class GridLaplacian:
    """Grounded Laplacian of a raster graph with sources short-circuited, on the raster.

    Build with :meth:`from_raster`. Works with the same vectors (one entry per row) as the CSR
    matrix of :func:`agglonet.ecology.laplacian.grounded_laplacian` and offers the operations
    of :class:`agglonet.ecology.amg.SplitLaplacian` that the AMG cycle and CG use.

    Attributes
    ----------
    row_of_cell
        int32, the raster padded by one cell: row of each cell, :data:`IMPASSABLE` or
        :data:`GROUNDED`. Source cells hold their source's row.
    forward
        float32 (padded height, padded width, 4): conductance of each cell's forward edges
        (east, south-west, south, south-east), 0 where there is no edge between two rows.
    plain_cells
        Flat padded index of the cell of each plain row, in row order (rows
        ``n_source_rows …``).
    n_source_rows
        Number of source rows (the first rows).
    source_rows
        CSR (float64) of the source rows' off-diagonal entries (as positive conductances).
    diagonal, inverse_diagonal
        float64 per row.
    """

    def __init__(self, row_of_cell: np.ndarray, forward: np.ndarray, plain_cells: np.ndarray,
                 source_rows: sp.csr_array, diagonal: np.ndarray) -> None:
        self.row_of_cell = row_of_cell
        self.forward = forward
        self.plain_cells = plain_cells
        self.n_source_rows = source_rows.shape[0]
        self.source_rows = source_rows
        self._src = (source_rows.indptr.astype(np.int64), source_rows.indices.astype(np.int64),
                     source_rows.data)
        self._cells = (row_of_cell.ravel(), forward.reshape(-1, 4),
                       *_offsets(row_of_cell.shape[1]), plain_cells, self.n_source_rows)
        self.diagonal = diagonal
        self.inverse_diagonal = 1.0 / diagonal
        self.shape = (diagonal.size, diagonal.size)
        self.dtype = np.dtype(np.float64)

    @classmethod
    def from_raster(cls, node_of_cell: np.ndarray, conductance: np.ndarray, n_sources: int,
                    position: np.ndarray, n_rows: int) -> GridLaplacian:
        """Build the operator; arguments as for :func:`.laplacian.grounded_laplacian`."""
        node = np.ascontiguousarray(node_of_cell, dtype=np.int64)
        h, w = node.shape
        position = np.ascontiguousarray(position, dtype=np.int64)
        row = np.full((h + 2, w + 2), IMPASSABLE, dtype=np.int32)
        inner = row[1:-1, 1:-1]
        passable = node >= 0
        inner[passable] = position[node[passable]]
        inner[passable & (inner < 0)] = GROUNDED
        del passable
        n_source_rows = int(np.count_nonzero(position[:n_sources] >= 0))
        forward = np.zeros((h + 2, w + 2, 4), dtype=np.float32)
        diagonal = np.zeros(n_rows)
        n_source_edges = _forward_edges(node, np.ascontiguousarray(conductance, np.float64),
                                        row, forward, diagonal, n_source_rows)
        source_row = np.empty(n_source_edges, dtype=np.int64)
        source_col = np.empty(n_source_edges, dtype=np.int64)
        source_g = np.empty(n_source_edges)
        _source_entries(row, forward, n_source_rows, source_row, source_col, source_g)
        source_rows = sp.csr_array(sp.coo_array((source_g, (source_row, source_col)),
                                                shape=(n_source_rows, n_rows)))
        source_rows.sum_duplicates()
        plain = np.flatnonzero(row.ravel() >= n_source_rows)
        plain = plain.astype(np.uint32 if row.size < np.iinfo(np.uint32).max else np.uint64)
        if not np.array_equal(row.ravel()[plain], np.arange(n_source_rows, n_rows)):
            raise ValueError("plain rows must follow the sources in raster order")
        return cls(row, forward, plain, source_rows, diagonal)

    def __matmul__(self, x: np.ndarray) -> np.ndarray:
        out = np.empty(self.shape[0])
        self.matvec_dot(np.asarray(x, dtype=np.float64), out)
        return out

    def matvec_dot(self, x: np.ndarray, out: np.ndarray) -> float:
        """``out = self @ x``; returns ``x · out``."""
        return _matvec_dot(*self._cells, *self._src, self.diagonal, x, out)

    def forward_sweep_residual(self, b: np.ndarray, x: np.ndarray, residual: np.ndarray,
                               from_zero: bool) -> None:
        """Gauss–Seidel sweep in row order and the residual after it (as SplitLaplacian's)."""
        _forward_sweep_residual(*self._cells, *self._src, self.inverse_diagonal, b, x,
                                residual, from_zero)

    def forward_sweep_restrict(self, b: np.ndarray, x: np.ndarray,
                               prolong: tuple[np.ndarray, np.ndarray, np.ndarray],
                               coarse_b: np.ndarray) -> None:
        """Gauss–Seidel sweep from x = 0, and Pᵀ (b − A x) after it into ``coarse_b``.

        The residual is never stored: each row's is scattered through its row of P (given as
        CSR arrays) as soon as it is final. Saves the residual vector and a pass over it.
        """
        p_ptr, p_idx, p_data = prolong
        _forward_sweep_restrict(*self._cells, *self._src, self.inverse_diagonal, b, x,
                                p_ptr, p_idx, p_data, coarse_b)

    def backward_sweep(self, b: np.ndarray, x: np.ndarray) -> None:
        """Gauss–Seidel sweep in reverse row order."""
        _backward_sweep(*self._cells, *self._src, self.inverse_diagonal, b, x)

    def add_cell_current(self, voltage: np.ndarray, total: np.ndarray) -> None:
        """Add half of |edge current| to both cells of every edge, into ``total`` (unpadded).

        ``voltage`` is per row (grounded cells at 0); the edges are this operator's, so the
        currents are those of the network that was solved. Edges inside a source carry none.
        """
        _add_cell_current(self.row_of_cell, self.forward, voltage, total)

    def toarray(self) -> np.ndarray:
        """Dense float64 copy (for tests)."""
        n = self.shape[0]
        dense = np.zeros((n, n))
        for i in range(n):
            unit = np.zeros(n)
            unit[i] = 1.0
            dense[:, i] = self @ unit
        return dense


@numba.njit(cache=True)
def _forward_edges(node, cond, row, forward, diagonal, n_source_rows):  # noqa: ANN001, ANN202
    # Fill ``forward`` (rounded edge conductances between different nodes with a row or a
    # ground at either end) and the diagonals; count the edges with a source row at one end.
    h, w = node.shape
    n_source_edges = 0
    for i in range(h):
        for j in range(w):
            n = node[i, j]
            if n < 0:
                continue
            ra = row[i + 1, j + 1]
            for o in range(4):
                y, x = i + FORWARD_DY[o], j + FORWARD_DX[o]
                if y >= h or x < 0 or x >= w:
                    continue
                m = node[y, x]
                if m < 0 or m == n:
                    continue
                rb = row[y + 1, x + 1]
                if ra < 0 and rb < 0:
                    continue
                g = np.float32(edge_conductance(cond[i, j], cond[y, x],
                                                FORWARD_DX[o] != 0 and y != i))
                forward[i + 1, j + 1, o] = g
                if ra >= 0:
                    diagonal[ra] += np.float64(g)
                if rb >= 0:
                    diagonal[rb] += np.float64(g)
                if 0 <= ra < n_source_rows and rb >= 0:
                    n_source_edges += 1
                if 0 <= rb < n_source_rows and ra >= 0:
                    n_source_edges += 1
    return n_source_edges


@numba.njit(cache=True)
def _source_entries(row, forward, n_source_rows, out_row, out_col, out_g):  # noqa: ANN001, ANN202
    # (source row, column, conductance) of every edge with a source row at one end.
    hp, wp = row.shape
    k = 0
    for i in range(1, hp - 1):
        for j in range(1, wp - 1):
            ra = row[i, j]
            for o in range(4):
                g = forward[i, j, o]
                if g == 0.0:
                    continue
                rb = row[i + FORWARD_DY[o], j + FORWARD_DX[o]]
                if 0 <= ra < n_source_rows and rb >= 0:
                    out_row[k], out_col[k], out_g[k] = ra, rb, g
                    k += 1
                if 0 <= rb < n_source_rows and ra >= 0:
                    out_row[k], out_col[k], out_g[k] = rb, ra, g
                    k += 1


def _offsets(padded_width: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat offsets of the 8 neighbours and of the cell holding each one's edge slot.

    Slots 0–3 are the cell's own forward edges (east, south-west, south, south-east); a
    neighbour q ≥ 4 (west, north-east, north, north-west) holds the edge in its slot q − 4.
    As uint64 taken modulo 2⁶⁴, so that the loops index with unsigned integers only (numba
    then skips its negative-index wrap-around, about a quarter of a pass's time).
    """
    wp = padded_width
    neighbour = np.array([1, wp - 1, wp, wp + 1, -1, -wp + 1, -wp, -wp - 1], dtype=np.int64)
    holder = np.where(np.arange(8) < 4, 0, neighbour)
    return neighbour.view(np.uint64), holder.view(np.uint64)


@numba.njit(cache=True)
def _matvec_dot(row, forward, neighbour, holder, plain, n_src, s_ptr, s_idx, s_g, diag, x,  # noqa: ANN001
                out):  # noqa: ANN001, ANN202
    dot = 0.0
    for r in range(n_src):
        s = diag[r] * x[r]
        for k in range(s_ptr[r], s_ptr[r + 1]):
            s -= s_g[k] * x[s_idx[k]]
        out[r] = s
        dot += x[r] * s
    for k in range(plain.size):
        c = plain[k]
        i = n_src + k
        s = diag[i] * x[i]
        for q in range(8):
            e = row[c + neighbour[q]]
            if e >= 0:
                s -= forward[c + holder[q], q & 3] * x[np.uint32(e)]
        out[i] = s
        dot += x[i] * s
    return dot


@numba.njit(cache=True)
def _forward_sweep_residual(row, forward, neighbour, holder, plain, n_src, s_ptr, s_idx,  # noqa: ANN001
                            s_g, inverse_diag, b, x, residual, from_zero):  # noqa: ANN001, ANN202
    # As agglonet.ecology.amg._forward_sweep_residual (a_ij = −g): the rows before i are the
    # sources and the plain cells earlier in raster order.
    if not from_zero:
        _forward_sweep_residual_scatter(row, forward, neighbour, holder, plain, n_src, s_ptr,
                                        s_idx, s_g, inverse_diag, b, x, residual)
        return
    no_p = np.empty(0, dtype=np.uint32)
    _sweep_from_zero(row, forward, neighbour, holder, plain, n_src, s_ptr, s_idx, s_g,
                     inverse_diag, b, x, residual, no_p, no_p, np.empty(0, np.float32),
                     np.empty(0, np.float32), False)


@numba.njit(cache=True)
def _forward_sweep_restrict(row, forward, neighbour, holder, plain, n_src, s_ptr, s_idx,  # noqa: ANN001
                            s_g, inverse_diag, b, x, p_ptr, p_idx, p_data,  # noqa: ANN001
                            coarse_b):  # noqa: ANN001, ANN202
    # The same sweep, with each row's residual r_d sent straight on to the coarse right-hand
    # side: coarse_b += r_d · P[d, :].
    coarse_b[:] = 0.0
    _sweep_from_zero(row, forward, neighbour, holder, plain, n_src, s_ptr, s_idx, s_g,
                     inverse_diag, b, x, np.empty(0), p_ptr, p_idx, p_data, coarse_b, True)


@numba.njit(cache=True)
def _sweep_from_zero(row, forward, neighbour, holder, plain, n_src, s_ptr, s_idx, s_g,  # noqa: ANN001
                     inverse_diag, b, x, residual, p_ptr, p_idx, p_data, coarse_b,  # noqa: ANN001
                     to_coarse):  # noqa: ANN001, ANN202
    # Gauss–Seidel from x = 0. The residual of row d is Σ_{j>d} g_dj x_j: for a plain cell,
    # over its forward neighbours that are plain cells, all final once the sweep has passed the
    # cell south-east of it. It is gathered then, a raster row behind the sweep (no scattered
    # updates), and stored in ``residual`` or, with ``to_coarse``, restricted through P.
    for i in range(n_src):
        s = b[i]
        for k in range(s_ptr[i], s_ptr[i + 1]):
            j = s_idx[k]
            if j < i:
                s += s_g[k] * x[j]
        x[i] = s * inverse_diag[i]
    lag = neighbour[3]                  # flat offset of the south-east neighbour
    done = 0
    for k in range(plain.size):
        c = plain[k]
        i = n_src + k
        s = b[i]
        for q in range(4, 8):
            e = row[c + neighbour[q]]
            if e >= 0:
                s += forward[c + holder[q], q - 4] * x[np.uint32(e)]
        for q in range(4):
            e = row[c + neighbour[q]]
            if 0 <= e < i:
                s += forward[c, q] * x[np.uint32(e)]
        x[i] = s * inverse_diag[i]
        while done < k and plain[done] + lag <= c:
            d = n_src + done
            _deliver(d, _upper_sum(row, forward, neighbour, plain[done], d, x), residual,
                     p_ptr, p_idx, p_data, coarse_b, to_coarse)
            done += 1
    while done < plain.size:
        d = n_src + done
        _deliver(d, _upper_sum(row, forward, neighbour, plain[done], d, x), residual,
                 p_ptr, p_idx, p_data, coarse_b, to_coarse)
        done += 1
    for i in range(n_src):
        s = 0.0
        for k in range(s_ptr[i], s_ptr[i + 1]):
            j = s_idx[k]
            if j > i:
                s += s_g[k] * x[j]
        _deliver(i, s, residual, p_ptr, p_idx, p_data, coarse_b, to_coarse)


@numba.njit(cache=True, inline="always")
def _deliver(d, r, residual, p_ptr, p_idx, p_data, coarse_b, to_coarse):  # noqa: ANN001, ANN202
    # Row d's final residual r: stored, or added to the coarse right-hand side along P[d, :].
    if to_coarse:
        for k in range(p_ptr[d], p_ptr[d + 1]):
            coarse_b[p_idx[k]] += p_data[k] * r
    else:
        residual[d] = r


@numba.njit(cache=True)
def _upper_sum(row, forward, neighbour, c, i, x):  # noqa: ANN001, ANN202
    s = 0.0
    for q in range(4):
        e = row[c + neighbour[q]]
        if e > i:
            s += forward[c, q] * x[np.uint32(e)]
    return s


@numba.njit(cache=True)
def _forward_sweep_residual_scatter(row, forward, neighbour, holder, plain, n_src, s_ptr,  # noqa: ANN001
                                    s_idx, s_g, inverse_diag, b, x, residual):  # noqa: ANN001, ANN202
    # From a nonzero x: residual by scattering −a_ji Δx_j to the rows i < j.
    residual[:] = 0.0
    for i in range(n_src):
        s = b[i]
        for k in range(s_ptr[i], s_ptr[i + 1]):
            s += s_g[k] * x[s_idx[k]]
        new = s * inverse_diag[i]
        delta = new - x[i]
        x[i] = new
        for k in range(s_ptr[i], s_ptr[i + 1]):
            j = s_idx[k]
            if j < i:
                residual[j] += s_g[k] * delta
    for k in range(plain.size):
        c = plain[k]
        i = n_src + k
        s = b[i]
        for q in range(8):
            e = row[c + neighbour[q]]
            if e >= 0:
                s += forward[c + holder[q], q & 3] * x[np.uint32(e)]
        new = s * inverse_diag[i]
        delta = new - x[i]
        x[i] = new
        for q in range(8):
            e = row[c + neighbour[q]]
            if e >= 0 and (q >= 4 or e < i):
                residual[np.uint32(e)] += forward[c + holder[q], q & 3] * delta


@numba.njit(cache=True)
def _backward_sweep(row, forward, neighbour, holder, plain, n_src, s_ptr, s_idx, s_g,  # noqa: ANN001
                    inverse_diag, b, x):  # noqa: ANN001, ANN202
    for k in range(plain.size - 1, -1, -1):
        c = plain[k]
        i = n_src + k
        s = b[i]
        for q in range(8):
            e = row[c + neighbour[q]]
            if e >= 0:
                s += forward[c + holder[q], q & 3] * x[np.uint32(e)]
        x[i] = s * inverse_diag[i]
    for i in range(n_src - 1, -1, -1):
        s = b[i]
        for k in range(s_ptr[i], s_ptr[i + 1]):
            s += s_g[k] * x[s_idx[k]]
        x[i] = s * inverse_diag[i]


@numba.njit(cache=True)
def _add_cell_current(row, forward, voltage, total):  # noqa: ANN001, ANN202
    hp, wp = row.shape
    for i in range(1, hp - 1):
        for j in range(1, wp - 1):
            ra = row[i, j]
            if ra == IMPASSABLE:
                continue
            va = voltage[ra] if ra >= 0 else 0.0
            for o in range(4):
                g = forward[i, j, o]
                if g == 0.0:
                    continue
                y, x = i + FORWARD_DY[o], j + FORWARD_DX[o]
                rb = row[y, x]
                vb = voltage[rb] if rb >= 0 else 0.0
                half = abs(g * (va - vb)) * 0.5
                total[i - 1, j - 1] += half
                total[y - 1, x - 1] += half
