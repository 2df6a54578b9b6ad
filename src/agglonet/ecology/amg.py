"""Conjugate gradient preconditioned by classical AMG, for grounded graph Laplacians.

The circuit solvers (:mod:`agglonet.ecology.circuit`, :mod:`agglonet.ecology.circuitscape`)
solve one grounded Laplacian for many right-hand sides. The multigrid hierarchy is pyamg's
Ruge–Stüben set-up; the cycle and the CG loop are run here, in compiled loops (numba) that
fuse what numpy and pyamg would do in separate passes over the matrix and the vectors:

* the pre-smoothing Gauss–Seidel sweep (from a zero start) also yields the residual, by
  symmetry, in the same pass over the matrix (pyamg: a sweep, then a product);
* the product of CG also yields the dot product that CG needs next;
* CG's vector updates and norms are one pass each instead of four.

The finest level, where most of a solve's time goes, is an operator with these sweeps and
products: a :class:`SplitLaplacian` (CSR with float32 off-diagonal entries and a float64
diagonal) for any matrix, or a :class:`agglonet.ecology.grid_laplacian.GridLaplacian` (the same
operator kept on the raster) for the circuit rule's raster graph. Coarse levels are
SplitLaplacians worked on with float32 vectors.

Written here rather than taken from pyamg or scipy because those work on one dtype throughout
and in separate passes (and numba's loops need unsigned indices to run at full speed: see
:meth:`SplitLaplacian.from_csr`). On the yangtze_river_delta 250 m system (4.53 M nodes, one
core) one CG iteration took 0.52 s with scipy products and pyamg sweeps, and takes 0.27 s here.

Precision: the finest level's off-diagonal entries are rounded to float32 (relative error
≤ 6e-8, the precision of a float32 resistance raster) and each row's diagonal is corrected by
the rounding of its row, so the solved matrix is the grounded Laplacian of the same network
with every conductance rounded to float32: still exactly symmetric, with the same grounding.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from pyamg import amg_core
from pyamg.classical import split as pyamg_split
from pyamg.classical.interpolate import classical_interpolation
from pyamg.strength import classical_strength_of_connection

log = logging.getLogger(__name__)

#: Classical strength threshold: j is a strong neighbour of i when −a_ij ≥ θ max_k(−a_ik).
#: pyamg's default is 0.25; on a 2000 × 2000 window of the yangtze_river_delta 250 m resistance
#: (resistance 1–1100, 49 sources, 2.3 M nodes) CG needed 43 iterations at θ = 0.25, 32 at
#: 0.05, 59 at 0 and 21 at 0.1 (same set-up time); on the smooth benchmark grid 0.1 and 0.25
#: both need 9. With the second pass of the RS splitting (:data:`AMG_SPLITTING`) the whole
#: yangtze_river_delta 250 m system (4.53 M nodes) needs 10–11 at θ = 0.1, 11 at 0.25, 18 at 0.05.
AMG_STRENGTH_THETA = 0.1
#: C/F splitting: Ruge–Stüben with its second pass, which makes an F-point a C-point where two
#: strongly connected F-points share no C-point. On the yangtze_river_delta 250 m system it cuts
#: CG from 30–34 iterations to 10–11 at the same set-up time (operator complexity 1.42, was 1.35).
AMG_SPLITTING = ("RS", {"second_pass": True})
#: Cycles per level, as the approximate solve of the level above: 1 on the finest level and
#: the next, 2 below (a V-cycle on top, W-cycles beneath). Measured on the yangtze_river_delta
#: 250 m system (one core, split finest level): 10–11 CG iterations and 2.9–3.0 s per solve
#: with V-cycles throughout; 8 and 2.7–2.8 s with this; 8 and 3.0–3.1 s with W-cycles from
#: level 2 on; 7 and 3.7–4.1 s from level 1 on.
AMG_CYCLES = (1, 1, 1, 2)
#: Coarsest AMG level: at most this many nodes, solved densely.
AMG_MAX_COARSE = 500
#: A coarsest level larger than this (coarsening stalled) is factorised sparsely instead.
AMG_DENSE_COARSE_MAX = 4000


class SplitLaplacian:
    """A symmetric sparse matrix as CSR off-diagonal entries in float32 plus a float64 diagonal.

    Built by :meth:`from_csr`; the CSR index arrays are shared with the source matrix. The
    diagonal's slot in each row is kept (as 0) so that the index arrays need no copy.

    Attributes
    ----------
    indptr, indices
        CSR structure (rows sorted by column), as uint64 and uint32.
    off_diagonal
        float32 entries, 0 at the diagonal's slot.
    diagonal
        float64 diagonal, corrected for the rounding of its row (see the module docstring).
    inverse_diagonal
        1 / ``diagonal``, for the Gauss–Seidel sweeps.
    """

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, off_diagonal: np.ndarray,
                 diagonal: np.ndarray) -> None:
        self.indptr = indptr
        self.indices = indices
        self.off_diagonal = off_diagonal
        self.diagonal = diagonal
        # The sweeps multiply by 1/a_ii: a division's latency sits on their chain of rows.
        self.inverse_diagonal = 1.0 / diagonal
        self.shape = (diagonal.size, diagonal.size)
        self.dtype = np.dtype(np.float64)

    @classmethod
    def from_csr(cls, matrix: sp.csr_array | sp.csr_matrix) -> SplitLaplacian:
        """Split a symmetric CSR matrix, rounding its off-diagonal entries to float32.

        The diagonal gains the rounding error of its row's off-diagonal entries, so that every
        row sum (the conductance to ground) is unchanged.
        """
        if not matrix.has_sorted_indices:
            matrix = matrix.sorted_indices()
        # Unsigned index arrays: numba then skips its negative-index wrap-around on every
        # access, which made these loops 1.7× slower than with signed indices.
        indptr = matrix.indptr.astype(np.int64, copy=False).view(np.uint64)
        indices = matrix.indices.astype(np.int32, copy=False).view(np.uint32)
        data = np.asarray(matrix.data, dtype=np.float64)
        off_diagonal = np.empty(data.size, dtype=np.float32)
        diagonal = np.empty(matrix.shape[0], dtype=np.float64)
        _split_rows(indptr, indices, data, off_diagonal, diagonal)
        return cls(indptr, indices, off_diagonal, diagonal)

    def __matmul__(self, x: np.ndarray) -> np.ndarray:
        out = np.empty(self.shape[0], dtype=np.float64)
        _matvec_dot(self.indptr, self.indices, self.off_diagonal, self.diagonal,
                    np.asarray(x, dtype=np.float64), out)
        return out

    def matvec_dot(self, x: np.ndarray, out: np.ndarray) -> float:
        """``out = self @ x``; returns ``x · out``."""
        return _matvec_dot(self.indptr, self.indices, self.off_diagonal, self.diagonal, x, out)

    def forward_sweep_residual(self, b: np.ndarray, x: np.ndarray, residual: np.ndarray,
                               from_zero: bool) -> None:
        """Gauss–Seidel sweep in row order (from x = 0 when ``from_zero``); residual after it."""
        _forward_sweep_residual(self.indptr, self.indices, self.off_diagonal,
                                self.inverse_diagonal, b, x, residual, from_zero)

    def backward_sweep(self, b: np.ndarray, x: np.ndarray) -> None:
        """Gauss–Seidel sweep in reverse row order."""
        _backward_sweep(self.indptr, self.indices, self.off_diagonal, self.inverse_diagonal,
                        b, x)

    def toarray(self) -> np.ndarray:
        """Dense float64 copy (for tests)."""
        dense = sp.csr_array((self.off_diagonal.astype(np.float64), self.indices, self.indptr),
                             shape=self.shape).toarray()
        dense[np.diag_indices(self.shape[0])] = self.diagonal
        return dense


@numba.njit(cache=True)
def _split_rows(indptr, indices, data, off_diagonal, diagonal):  # noqa: ANN001, ANN202
    for i in range(diagonal.size):
        d = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            if indices[k] == i:
                d += data[k]
                off_diagonal[k] = 0.0
            else:
                rounded = np.float32(data[k])
                off_diagonal[k] = rounded
                d += data[k] - np.float64(rounded)
        diagonal[i] = d


@numba.njit(cache=True)
def _matvec_dot(indptr, indices, off, diag, x, out):  # noqa: ANN001, ANN202
    dot = 0.0
    for i in range(diag.size):
        s = diag[i] * x[i]
        for k in range(indptr[i], indptr[i + 1]):
            s += off[k] * x[indices[k]]
        out[i] = s
        dot += x[i] * s
    return dot


@numba.njit(cache=True)
def _forward_sweep_residual(indptr, indices, off, inverse_diag, b, x, residual,  # noqa: ANN001
                            from_zero):  # noqa: ANN001, ANN202
    # One Gauss–Seidel sweep in row order (from x = 0 when ``from_zero``: x is then only
    # written), and the residual b − A x after it, in the same pass. After the sweep, row i's
    # equation holds but for the change of the x_j (j > i) updated after it, so its residual is
    # −Σ_{j>i} a_ij Δx_j; by symmetry that is gathered by scattering −a_ji Δx_j from row j
    # (whose entries left of its diagonal are exactly those i < j) as soon as Δx_j is known.
    residual[:] = 0.0
    for i in range(inverse_diag.size):
        s = b[i]
        end = indptr[i]
        while end < indptr[i + 1] and indices[end] < i:
            s -= off[end] * x[indices[end]]
            end += np.uint64(1)
        if from_zero:
            delta = s * inverse_diag[i]
            x[i] = delta
        else:
            for k in range(end, indptr[i + 1]):
                s -= off[k] * x[indices[k]]
            new = s * inverse_diag[i]
            delta = new - x[i]
            x[i] = new
        for k in range(indptr[i], end):
            residual[indices[k]] -= off[k] * delta


@numba.njit(cache=True)
def _backward_sweep(indptr, indices, off, inverse_diag, b, x):  # noqa: ANN001, ANN202
    n = np.uint64(inverse_diag.size)
    for t in range(n):
        i = n - np.uint64(1) - t
        s = b[i]
        for k in range(indptr[i], indptr[i + 1]):
            s -= off[k] * x[indices[k]]
        x[i] = s * inverse_diag[i]


@numba.njit(cache=True)
def _restrict(indptr, indices, data, residual, out):  # noqa: ANN001, ANN202
    # out = R @ residual, R float32, residual float64 or float32: summed in float64.
    for i in range(out.size):
        s = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            s += data[k] * residual[indices[k]]
        out[i] = s


@numba.njit(cache=True)
def _add_prolonged(indptr, indices, data, correction, x):  # noqa: ANN001, ANN202
    # x += P @ correction, with no temporary.
    for i in range(x.size):
        s = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            s += data[k] * correction[indices[k]]
        x[i] += s


@numba.njit(cache=True)
def _cg_update(x, residual, direction, product, alpha):  # noqa: ANN001, ANN202
    # x += α d; r −= α A d; returns ‖r‖².
    norm2 = 0.0
    for i in range(x.size):
        x[i] += alpha * direction[i]
        r = residual[i] - alpha * product[i]
        residual[i] = r
        norm2 += r * r
    return norm2


@numba.njit(cache=True)
def _dots(residual, product, z):  # noqa: ANN001, ANN202
    rz = 0.0
    qz = 0.0
    for i in range(z.size):
        rz += residual[i] * z[i]
        qz += product[i] * z[i]
    return rz, qz


@numba.njit(cache=True)
def _new_direction(direction, z, beta):  # noqa: ANN001, ANN202
    for i in range(z.size):
        direction[i] = z[i] + beta * direction[i]


class AmgPreconditioner:
    """Classical (Ruge–Stüben) AMG cycle for a grounded Laplacian, as a CG preconditioner.

    The hierarchy is pyamg's ``ruge_stuben_solver`` (classical strength θ = 0.1, RS splitting
    with its second pass, classical interpolation, coarsest level ≤ ``AMG_MAX_COARSE`` nodes),
    built level by level with less memory (:func:`ruge_stuben_levels`); it has no random step,
    so the same matrix always gives the same preconditioner. The cycle
    is run here rather than through pyamg's ``aspreconditioner``: pyamg's solve loop adds a
    residual norm and a fine-level product to every application; its coarse levels are kept in
    float64 (here float32: a preconditioner needs no more, and the coarse levels take a third
    less memory and time); and the finest level here is the system operator itself (a
    :class:`SplitLaplacian` or a ``GridLaplacian``) with compiled sweeps. One forward
    Gauss–Seidel sweep before and one backward sweep after the coarse correction, with R = Pᵀ,
    :data:`AMG_CYCLES` cycles per level (each a symmetric operator, so their repetition from
    zero is too) and an exact coarsest solve, make the cycle a symmetric operator. Versus the
    smoothed-aggregation hierarchy used before (9 instead of 16 CG iterations at rtol 1e-6 on
    the 1 M-cell grid; set-up without the spectral-radius estimate that dominated smoothed
    aggregation's set-up), set-up plus one solve take about a third of the CPU time.

    Parameters
    ----------
    matrix
        The SPD matrix, or a function that builds it (called for the float32 set-up copy).
    finest
        A function that builds the finest level: the matrix again in float64 (then split), or
        an operator with the same methods as :class:`SplitLaplacian`; called after
        the set-up's temporaries are gone, so that the two never peak together.
    """

    def __init__(self, matrix: sp.csr_matrix | sp.csr_array | Callable[[], sp.csr_array], *,
                 finest: Callable[[], sp.csr_array] | None = None) -> None:
        # The set-up works on a float32 copy: pyamg's strength, splitting and interpolation
        # steps hold several matrix-sized temporaries, about a third smaller in float32 (on the
        # 1 M-cell grid the set-up's peak is 3.7 instead of 5.9 times the float64 matrix).
        # ``matrix`` may be a function that builds it, so that no caller keeps it alive.
        if finest is None and callable(matrix):
            finest = matrix
        operators, prolongations = ruge_stuben_levels(matrix, dtype=np.float32)
        if finest is not None:
            del matrix
        # Coarse operators R A P come out of pyamg's float32 products symmetric only up to
        # rounding; they are made exactly symmetric, as the fused sweep and residual assume.
        coarse_operators = [SplitLaplacian.from_csr(_symmetric(a)) for a in operators[:-1]]
        transfers = [(_unsigned(p), _unsigned(r), r.shape[0]) for p, r in prolongations]
        coarse = sp.csc_array(operators[-1], dtype=np.float64)
        del operators, prolongations
        # The finest level is the system matrix, split (unless ``finest`` builds an operator
        # with the same methods, such as a GridLaplacian); ``finest`` builds it only now.
        system = finest() if finest is not None else matrix
        self.system = (SplitLaplacian.from_csr(system) if sp.issparse(system) else system)
        #: Per level above the coarsest: (operator, P, R as unsigned CSR arrays, next size).
        #: R = Pᵀ is kept (gathering the restriction is faster than scattering it from P).
        self.levels: list[tuple[Any, Any, Any, int]] = [
            (operator, prolong, restrict, size) for operator, (prolong, restrict, size)
            in zip([self.system, *coarse_operators][:len(transfers)], transfers, strict=True)]
        self._work: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
        if coarse.shape[0] <= AMG_DENSE_COARSE_MAX:
            inverse = np.linalg.pinv(coarse.toarray())
            self._coarse_solve = lambda b: inverse @ b
        else:
            self._coarse_solve = spla.factorized(coarse)
        log.debug("AMG hierarchy: %d levels, coarsest %d nodes", len(self.levels) + 1,
                  coarse.shape[0])

    @property
    def matrix(self) -> Any:
        """The system matrix (the finest level)."""
        return self.system

    def __call__(self, rhs: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Apply one cycle to ``rhs`` (float64) from a zero start; returns float64.

        The finest level works on float64 vectors, the coarser ones on float32. The result is
        written to ``out`` when given (a float64 vector of the system's size).
        """
        if not self.levels:
            z = np.asarray(self._coarse_solve(rhs), dtype=np.float64)
            if out is None:
                return z
            out[:] = z
            return out
        if self._work is None:
            # Work vectors per level, made on first use (in each solver process): fresh
            # matrix-sized arrays on every cycle cost page faults and zeroing in the kernel.
            # (The finest level's x is the caller's vector; its residual is made only when
            # its operator cannot restrict during the sweep, or sweeps from a nonzero x.)
            fused = hasattr(self.system, "forward_sweep_restrict") and AMG_CYCLES[0] == 1
            self._work = [(np.empty(0 if i == 0 else a.shape[0], dtype=np.float32),
                           np.empty(0 if i == 0 and fused else a.shape[0],
                                    dtype=np.float64 if i == 0 else np.float32),
                           np.empty(size, dtype=np.float32))
                          for i, (a, _, _, size) in enumerate(self.levels)]
        return self._cycle(0, rhs, np.empty_like(rhs) if out is None else out, from_zero=True)

    def _solve_level(self, level: int, b: np.ndarray) -> np.ndarray:
        """Approximate solve on ``level``: :data:`AMG_CYCLES` cycles from zero."""
        if level == len(self.levels):
            return np.asarray(self._coarse_solve(b.astype(np.float64)), dtype=np.float32)
        assert self._work is not None
        x = self._work[level][0]
        for i in range(AMG_CYCLES[min(level, len(AMG_CYCLES) - 1)]):
            self._cycle(level, b, x, from_zero=i == 0)
        return x

    def _cycle(self, level: int, b: np.ndarray, x: np.ndarray, *,
               from_zero: bool) -> np.ndarray:
        """Forward sweep, coarse correction, backward sweep on ``level``; updates ``x``."""
        assert self._work is not None
        a, (p_ptr, p_idx, p_data), (r_ptr, r_idx, r_data), _ = self.levels[level]
        _, residual, coarse_b = self._work[level]
        if from_zero and hasattr(a, "forward_sweep_restrict"):
            a.forward_sweep_restrict(b, x, (p_ptr, p_idx, p_data), coarse_b)
        else:
            a.forward_sweep_residual(b, x, residual, from_zero)
            _restrict(r_ptr, r_idx, r_data, residual, coarse_b)
        _add_prolonged(p_ptr, p_idx, p_data, self._solve_level(level + 1, coarse_b), x)
        a.backward_sweep(b, x)
        return x


#: Most levels of the hierarchy, the finest included (pyamg's default).
AMG_MAX_LEVELS = 30


def ruge_stuben_levels(
    matrix: sp.csr_array | sp.csr_matrix | Callable[[], sp.csr_array], *,
    dtype: type = np.float32,
) -> tuple[list[sp.csr_array], list[tuple[sp.csr_array, sp.csr_array]]]:
    """Build the Ruge–Stüben hierarchy of pyamg level by level, keeping only what comes next.

    The same steps as ``pyamg.ruge_stuben_solver(A, strength=("classical", {"theta":``
    :data:`AMG_STRENGTH_THETA` ``}), CF=``:data:`AMG_SPLITTING` ``, max_coarse=``
    :data:`AMG_MAX_COARSE` ``)``, called one by one from pyamg, with the same results to the
    bit (``tests/ecology/test_amg.py``). pyamg's loop keeps a level's strength matrix until
    the next level's Galerkin product R A P is formed, and the finest matrix until the whole
    hierarchy is built; here the strength matrix goes as soon as the interpolation is made, and
    the finest matrix (its ``dtype`` copy; ``matrix`` may be a function that builds it, so that
    no caller holds it) as soon as the second level exists. On the central_plains 250 m system
    (≈ 8 M nodes) each is about as large as the finest level's CSR.

    Returns
    -------
    operators
        The operators below the finest level, the coarsest last; only the finest matrix when
        it is not coarsened.
    prolongations
        Per level above the coarsest: (P, R = Pᵀ) as CSR arrays.
    """
    operator = sp.csr_array(matrix() if callable(matrix) else matrix, dtype=dtype)
    del matrix
    operators: list[sp.csr_array] = []
    prolongations: list[tuple[sp.csr_array, sp.csr_array]] = []
    while len(prolongations) + 1 < AMG_MAX_LEVELS and operator.shape[0] > AMG_MAX_COARSE:
        strength = classical_strength_of_connection(operator, theta=AMG_STRENGTH_THETA)
        splitting = _rs_splitting(strength)
        n_coarse = int(np.sum(splitting))
        if n_coarse in (0, len(splitting)):          # pyamg stops: no coarser level
            break
        prolong = _classical_interpolation(operator, strength, splitting)
        del strength, splitting
        restrict = prolong.T.tocsr()
        operator = restrict @ operator @ prolong
        prolongations.append((prolong, restrict))
        operators.append(operator)
    return operators or [operator], prolongations


def _rs_splitting(strength: sp.csr_array) -> np.ndarray:
    """Ruge–Stüben C/F splitting with its second pass, as ``pyamg.classical.split.RS``.

    pyamg's copies the strength matrix without its diagonal (through COO) and then transposes
    the copy, so three strength-sized matrices are alive at once besides A. Here the diagonal
    is moved out of ``strength`` in place (its entries and positions kept aside), pyamg's
    compiled splitting runs on the rest and its transpose, and the diagonal is put back, to
    the bit: one strength-sized matrix fewer at the set-up's peak (606 MB on the central_plains
    250 m system). A matrix not in canonical form (sorted, no duplicates) takes pyamg's.
    """
    if not strength.has_canonical_format:
        return pyamg_split.RS(strength, **AMG_SPLITTING[1])
    n = strength.shape[0]
    full_nnz = strength.indptr[-1]
    diagonal_at = np.empty(n, dtype=np.int64)
    diagonal = np.empty(n, dtype=strength.dtype)
    _move_out_diagonal(strength.indptr, strength.indices, strength.data, diagonal_at, diagonal)
    nnz = strength.indptr[-1]
    off = sp.csr_array((strength.data[:nnz], strength.indices[:nnz], strength.indptr),
                       shape=strength.shape)
    transpose = off.T.tocsr()
    splitting = np.empty(n, dtype=off.indptr.dtype)
    influence = np.zeros(n, dtype=off.indptr.dtype)
    amg_core.rs_cf_splitting(n, off.indptr, off.indices, transpose.indptr, transpose.indices,
                             influence, splitting)
    del transpose, influence
    if AMG_SPLITTING[1].get("second_pass"):
        amg_core.rs_cf_splitting_pass2(n, off.indptr, off.indices, splitting)
    del off
    _put_back_diagonal(strength.indptr, strength.indices, strength.data, diagonal_at, diagonal,
                       full_nnz)
    return splitting


@numba.njit(cache=True)
def _move_out_diagonal(indptr, indices, data, diagonal_at, diagonal):  # pragma: no cover
    # Written here: pyamg's remove_diagonal copies the matrix through COO; this compacts the
    # rows in place and keeps each row's diagonal entry and its offset in the row (-1: none).
    write = 0
    read_start = indptr[0]
    for row in range(len(indptr) - 1):
        read_end = indptr[row + 1]
        diagonal_at[row] = -1
        for k in range(read_start, read_end):
            if indices[k] == row:
                diagonal_at[row] = k - read_start
                diagonal[row] = data[k]
            else:
                indices[write] = indices[k]
                data[write] = data[k]
                write += 1
        indptr[row + 1] = write
        read_start = read_end


@numba.njit(cache=True)
def _put_back_diagonal(indptr, indices, data, diagonal_at, diagonal, full_nnz):  # pragma: no cover
    # The inverse of _move_out_diagonal, from the last row back: an entry only moves to a
    # position at or after its own, so none is overwritten before it is read.
    end = full_nnz
    for row in range(len(indptr) - 2, -1, -1):
        start, stop = indptr[row], indptr[row + 1]
        at = diagonal_at[row]
        new_start = end - (stop - start) - (1 if at >= 0 else 0)
        for k in range(stop - 1, start - 1, -1):
            offset = k - start
            target = new_start + offset + (1 if 0 <= at <= offset else 0)
            indices[target] = indices[k]
            data[target] = data[k]
        if at >= 0:
            indices[new_start + at] = row
            data[new_start + at] = diagonal[row]
        indptr[row + 1] = end
        end = new_start


def _classical_interpolation(matrix: sp.csr_array, strength: sp.csr_array,
                             splitting: np.ndarray) -> sp.csr_array:
    """Interpolate as pyamg's modified classical scheme, changing the strength matrix in place.

    The same steps and result as ``pyamg.classical.interpolate.classical_interpolation(matrix,
    strength, splitting)``, but without its two matrix-sized temporaries: pyamg copies the
    strength matrix, and takes A's entries on its pattern with ``C.multiply(A)``, whose result
    arrays scipy sizes for nnz(C) + nnz(A) entries. Here ``strength`` (no longer needed after
    the splitting) is changed in place and A's entries are picked into it by a compiled merge
    of the sorted rows (:func:`_entries_on_pattern`); on the central_plains 250 m system
    (8.4 M nodes, 75 M entries) this took the circuit job's peak from 3.66 to 3.26 GB. Rows whose
    column indices are not sorted (the coarse operators from scipy's products) take pyamg's.
    """
    if not (matrix.has_sorted_indices and strength.has_sorted_indices):
        return classical_interpolation(matrix, strength, splitting)
    amg_core.remove_strong_FF_connections(matrix.shape[0], strength.indptr, strength.indices,
                                          strength.data, splitting)
    strength.eliminate_zeros()
    _entries_on_pattern(matrix.indptr, matrix.indices, matrix.data,
                        strength.indptr, strength.indices, strength.data)
    strength.eliminate_zeros()             # as scipy's product drops the zero products
    p_indptr = np.empty_like(matrix.indptr)
    amg_core.rs_classical_interpolation_pass1(matrix.shape[0], strength.indptr,
                                              strength.indices, splitting, p_indptr)
    p_indices = np.empty(p_indptr[-1], dtype=p_indptr.dtype)
    p_data = np.empty(p_indptr[-1], dtype=matrix.dtype)
    amg_core.rs_classical_interpolation_pass2(matrix.shape[0], matrix.indptr, matrix.indices,
                                              matrix.data, strength.indptr, strength.indices,
                                              strength.data, splitting, p_indptr, p_indices,
                                              p_data, True)
    return sp.csr_array((p_data, p_indices, p_indptr),
                        shape=(matrix.shape[0], int(np.sum(splitting))))


@numba.njit(cache=True)
def _entries_on_pattern(a_ptr, a_idx, a_data, c_ptr, c_idx, c_data):  # pragma: no cover
    # Written here: scipy's elementwise product allocates for the union of both patterns.
    # Each row of C's pattern is a subset of the same row of A's; both sorted: one merge.
    for row in range(len(c_ptr) - 1):
        k, end = a_ptr[row], a_ptr[row + 1]
        for j in range(c_ptr[row], c_ptr[row + 1]):
            column = c_idx[j]
            while k < end and a_idx[k] < column:
                k += 1
            c_data[j] = a_data[k] if k < end and a_idx[k] == column else 0.0


def _symmetric(matrix: sp.csr_array | sp.csr_matrix) -> sp.csr_array:
    """Return (A + Aᵀ) / 2 in float32, rows sorted."""
    single = sp.csr_array(matrix, dtype=np.float32)
    out = sp.csr_array((single + single.T) * np.float32(0.5))
    out.sort_indices()
    return out


def _unsigned(matrix: sp.csr_array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR arrays with unsigned index views, for the compiled loops."""
    indptr = matrix.indptr
    indptr = (indptr.astype(np.int32, copy=False).view(np.uint32)
              if indptr[-1] < np.iinfo(np.int32).max else indptr.astype(np.int64).view(np.uint64))
    return indptr, matrix.indices.astype(np.int32, copy=False).view(np.uint32), matrix.data


def preconditioned_cg(matrix: SplitLaplacian | sp.csr_matrix | sp.csr_array, rhs: np.ndarray,
                      *, preconditioner: AmgPreconditioner, rtol: float,
                      maxiter: int | None = None) -> tuple[np.ndarray, int]:
    """Solve ``matrix @ x = rhs`` (SPD) by preconditioned conjugate gradient.

    Stops when the residual ‖rhs − matrix·x‖ ≤ rtol‖rhs‖, checked on the true residual at the
    end (the recurrence's residual can drift; if the true one is too large, CG restarts from x).
    β is the Polak–Ribière form (flexible CG), which keeps the iteration robust to the rounding
    of the float32 coarse levels at tight tolerances.

    Returns
    -------
    tuple
        The solution (float64) and the number of iterations.

    Raises
    ------
    RuntimeError
        When the tolerance is not reached within ``maxiter`` iterations.
    """
    maxiter = maxiter or max(200, matrix.shape[0] // 1000)
    rhs = np.asarray(rhs, dtype=np.float64)
    norm_b = float(np.linalg.norm(rhs))
    x = np.zeros_like(rhs)
    if norm_b == 0.0:
        return x, 0
    target2 = (rtol * norm_b) ** 2
    iterations = 0
    residual = rhs.copy()
    product = np.empty_like(rhs)
    z = np.empty_like(rhs)
    while True:
        direction = preconditioner(residual)
        rz = float(residual @ direction)
        norm2 = float(residual @ residual)
        while norm2 > target2:
            if iterations >= maxiter:
                raise RuntimeError(f"AMG-preconditioned CG did not reach rtol={rtol} in "
                                   f"{maxiter} iterations on {matrix.shape[0]} nodes")
            alpha = rz / _product_dot(matrix, direction, product)
            norm2 = _cg_update(x, residual, direction, product, alpha)
            iterations += 1
            z = preconditioner(residual, out=z)
            rz_new, qz = _dots(residual, product, z)
            # Polak–Ribière: z·(r_new − r_old) / (z_old·r_old), with r_old = r_new + α·A·d.
            beta = -alpha * qz / rz
            rz = rz_new
            _new_direction(direction, z, beta)
        _product_dot(matrix, x, product)
        np.subtract(rhs, product, out=residual)
        norm2 = float(residual @ residual)
        if norm2 <= target2:
            return x, iterations


def _product_dot(matrix: Any, x: np.ndarray, out: np.ndarray) -> float:
    """``out = matrix @ x``; returns ``x · out``."""
    if hasattr(matrix, "matvec_dot"):
        return matrix.matvec_dot(x, out)
    out[:] = matrix @ x
    return float(x @ out)
