"""Compiled Dijkstra on the implicit 8-neighbour grid (cost distance and cost allocation).

The same graph as :func:`agglonet.ecology.raster_graph.grid_graph` — the cost of a move between
neighbouring passable cells u, v is ``(r_u + r_v) * (0.5 * step)`` with ``step`` the cell size
(× √2 for diagonals), impassable (NaN) cells are never entered — but the neighbours are computed
from the cell index instead of read from a CSR matrix, and the priority queue is a binary heap on
flat arrays with lazy deletion. The float expressions are those of ``grid_graph`` and of
``scipy.sparse.csgraph.dijkstra`` (``d(v) = d(u) + w(u, v)``, a cell within ``limit`` when
``d <= limit``), so the costs are the same to the last bit.

Hand-written because it is faster: measured (one full pass from the centre, 500² to 2000²
random grids, one core) ``scipy.sparse.csgraph.dijkstra`` on the CSR grid graph settles a cell
in 0.44–0.71 µs (Fibonacci heap, CSR indirection), this kernel (indexed 4-ary heap) in
0.19–0.34 µs with identical distances, and it needs no graph (0.6 s and ~290 MB saved on 4 M
cells). A binary heap with lazy deletion measured 0.37–0.50 µs, an indexed binary heap
0.26–0.42 µs. ``skimage.graph.MCP_Geometric`` is slower than scipy (5.9 s vs 2.5–3.6 s for a
20-source multi-source pass on 2000²).
"""

from __future__ import annotations

import logging
import math

import numpy as np
from numba import njit

from agglonet.errors import DataError

log = logging.getLogger(__name__)

_SQRT2 = math.sqrt(2.0)


_UNSEEN = -1
_DONE = -2


@njit(cache=True, nogil=True)
def _grid_dijkstra(resistance, starts, start_labels, half_step_orth, half_step_diag,
                   limit, potential, use_potential, with_labels,
                   index_dtype):  # pragma: no cover - compiled
    """Multi-source Dijkstra on the implicit 8-neighbour grid.

    Returns (dist, label): ``dist`` inf beyond ``limit``/unreachable, ``label`` the label of the
    start a cell is reached from (ties: the lowest label), -1 where not reached (a 1-element
    dummy unless ``with_labels``). With ``use_potential`` the arc costs are the A* reduced costs
    max(w - h_u + h_v, 0).

    The queue is an indexed 4-ary min-heap (``pos`` = heap slot of a cell, or _UNSEEN/_DONE)
    with decrease-key, so every cell is pushed and popped once; pops sift the hole down to a
    leaf along the smallest children and then the last element up (Floyd's bottom-up variant,
    fewer comparisons: the last element usually belongs near the bottom).
    """
    h, w = resistance.shape
    n = h * w
    r = resistance.ravel()
    hpot = potential.ravel()
    dist = np.full(n, np.inf)
    label = np.full(n if with_labels else 1, -1, dtype=np.int64)
    pos = np.full(n, _UNSEEN, dtype=index_dtype)
    keys = np.empty(n, dtype=np.float64)
    cells = np.empty(n, dtype=index_dtype)
    size = 0
    # neighbour k: row offset, column offset, half step
    dys = np.array([-1, -1, -1, 0, 0, 1, 1, 1], dtype=np.int64)
    dxs = np.array([-1, 0, 1, -1, 1, -1, 0, 1], dtype=np.int64)
    halves = np.empty(8)
    for k in range(8):
        halves[k] = half_step_diag if dys[k] != 0 and dxs[k] != 0 else half_step_orth
    for s in range(starts.size):
        c = starts[s]
        if with_labels and (label[c] < 0 or start_labels[s] < label[c]):
            label[c] = start_labels[s]
        if pos[c] == _UNSEEN:
            dist[c] = 0.0
            keys[size] = 0.0  # all keys 0: any order is a heap
            cells[size] = c
            pos[c] = size
            size += 1
    while size > 0:
        d = keys[0]
        u = cells[0]
        pos[u] = _DONE
        size -= 1
        if size > 0:
            key = keys[size]
            cell = cells[size]
            i = 0
            while True:  # hole down to a leaf, along the smallest of the 4 children
                child = 4 * i + 1
                if child >= size:
                    break
                best = child
                best_key = keys[child]
                last = min(child + 4, size)
                for c in range(child + 1, last):
                    if keys[c] < best_key:
                        best = c
                        best_key = keys[c]
                keys[i] = best_key
                cells[i] = cells[best]
                pos[cells[i]] = i
                i = best
            while i > 0:  # last element up from the leaf
                parent = (i - 1) >> 2
                if keys[parent] <= key:
                    break
                keys[i] = keys[parent]
                cells[i] = cells[parent]
                pos[cells[i]] = i
                i = parent
            keys[i] = key
            cells[i] = cell
            pos[cell] = i
        ru = r[u]
        if not math.isfinite(ru):
            continue
        lab = label[u] if with_labels else 0
        row = u // w
        col = u - row * w
        for k in range(8):
            y = row + dys[k]
            x = col + dxs[k]
            if y < 0 or y >= h or x < 0 or x >= w:
                continue
            v = y * w + x
            pv = pos[v]
            if pv == _DONE:
                continue
            # the expression of grid_graph: (r_u + r_v) * (0.5 * step)
            cost = (ru + r[v]) * halves[k]
            if not cost < np.inf:  # NaN (impassable) or overflow: no arc, as in grid_graph
                continue
            if use_potential:  # the expression of corridors.reduced_graph
                cost = cost - hpot[u] + hpot[v]
                if cost < 0.0:
                    cost = 0.0
            nd = d + cost
            if nd > limit:
                continue
            if nd < dist[v]:
                dist[v] = nd
                if with_labels:
                    label[v] = lab
                i = size if pv == _UNSEEN else pv
                if pv == _UNSEEN:
                    size += 1
                while i > 0:  # decrease-key / insert: sift up
                    parent = (i - 1) >> 2
                    if keys[parent] <= nd:
                        break
                    keys[i] = keys[parent]
                    cells[i] = cells[parent]
                    pos[cells[i]] = i
                    i = parent
                keys[i] = nd
                cells[i] = v
                pos[v] = i
            elif with_labels and nd == dist[v] and lab < label[v]:
                label[v] = lab  # equal cost: the lowest label wins (key unchanged)
    return dist, label


def _prepare(resistance: np.ndarray, starts: np.ndarray, cell_size_m: float,
             limit: float) -> tuple[np.ndarray, np.ndarray]:
    r = np.ascontiguousarray(resistance, dtype=np.float64)
    if r.ndim != 2:
        raise DataError(f"resistance has shape {r.shape}; expected a 2-D array")
    s = np.asarray(starts)
    if s.ndim != 1 or not np.issubdtype(s.dtype, np.integer):
        raise DataError(f"starts has shape {s.shape} and dtype {s.dtype}; expected a 1-D array "
                        "of flat (row-major) cell indices")
    s = s.astype(np.int64)
    if s.size and (s.min() < 0 or s.max() >= r.size):
        raise DataError(f"starts contain cell indices out of [0, {r.size}): "
                        f"min {s.min()}, max {s.max()}")
    if not cell_size_m > 0:
        raise DataError(f"cell_size_m is {cell_size_m}; expected a positive number of metres")
    if not limit >= 0:
        raise DataError(f"limit is {limit}; expected a cost >= 0 (or inf)")
    return r, s


def _run(r: np.ndarray, s: np.ndarray, labels: np.ndarray, cell_size_m: float, limit: float,
         potential: np.ndarray | None, with_labels: bool) -> tuple[np.ndarray, np.ndarray]:
    # same step expressions as grid_graph: 0.5 * (cell_size_m * √2), 0.5 * (cell_size_m * 1.0)
    half_orth = 0.5 * (cell_size_m * 1.0)
    half_diag = 0.5 * (cell_size_m * _SQRT2)
    if potential is None:
        pot, use = np.zeros((1, 1)), False
    else:
        pot = np.asarray(potential, dtype=np.float64)
        if pot.shape != r.shape:
            raise DataError(f"potential has shape {pot.shape}; expected {r.shape}")
        # as corridors.reduced_graph: no finite potential -> 0
        pot, use = np.ascontiguousarray(np.nan_to_num(pot, nan=0.0, posinf=0.0)), True
    dist, label = _grid_dijkstra(r, s, labels, half_orth, half_diag, float(limit), pot, use,
                                 with_labels, np.int32 if r.size < 2**31 - 1 else np.int64)
    if not with_labels:
        return dist.reshape(r.shape), label
    return dist.reshape(r.shape), label.reshape(r.shape)


def cost_distance(resistance: np.ndarray, starts: np.ndarray, *, cell_size_m: float,
                  limit: float = np.inf, potential: np.ndarray | None = None) -> np.ndarray:
    """Cost-weighted distance from the nearest of several start cells.

    Parameters
    ----------
    resistance
        2-D float array of resistance (> 0); NaN (or non-finite) cells are never entered.
    starts
        1-D int array of flat (row-major) indices of the start cells.
    cell_size_m
        Cell size in metres (square cells).
    limit
        Cost limit of the search: cells with a cost above it are ``inf`` (as scipy's
        ``dijkstra(limit=...)``: cells with cost ``<= limit`` are kept).
    potential
        Optional consistent lower bound h (e.g. the multi-source cost distance; NaN/inf read
        as 0): the search then runs on the A* reduced costs max(w(u, v) − h(u) + h(v), 0) —
        :func:`agglonet.ecology.corridors.reduced_graph` — and returns d' = CWD + h, with
        ``limit`` applying to d'.

    Returns
    -------
    numpy.ndarray
        float64 array of the shape of ``resistance``: 0 on start cells, ``inf`` where
        unreachable or beyond ``limit``.

    Raises
    ------
    agglonet.errors.DataError
        On a non-2-D resistance, bad start indices, a non-positive cell size or negative limit.
    """
    r, s = _prepare(resistance, starts, cell_size_m, limit)
    dist, _ = _run(r, s, np.zeros(s.size, dtype=np.int64), cell_size_m, limit, potential,
                   False)
    return dist


def cost_distance_allocation(
    resistance: np.ndarray, starts: np.ndarray, *, cell_size_m: float,
    start_labels: np.ndarray | None = None, limit: float = np.inf,
) -> tuple[np.ndarray, np.ndarray]:
    """Cost-weighted distance from, and allocation to, the nearest of several start cells.

    Parameters
    ----------
    resistance, starts, cell_size_m, limit
        As in :func:`cost_distance`.
    start_labels
        1-D int array (≥ 0), one label per start; default: the start's flat cell index (the
        ``sources`` output of ``scipy.sparse.csgraph.dijkstra(min_only=True)``).

    Returns
    -------
    cost_distance : numpy.ndarray
        float64, as :func:`cost_distance`.
    allocation : numpy.ndarray
        int64, the label of the start each cell is reached from, -1 where not reached. A cell
        at exactly equal cost from several starts goes to the lowest label (scipy's choice among
        equal costs depends on its heap order; this one is deterministic).

    Raises
    ------
    agglonet.errors.DataError
        As :func:`cost_distance`, and on labels that do not match ``starts`` or are negative.
    """
    r, s = _prepare(resistance, starts, cell_size_m, limit)
    labels = s.copy() if start_labels is None else np.asarray(start_labels)
    if labels.shape != s.shape or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"start_labels has shape {labels.shape} and dtype {labels.dtype}; "
                        f"expected {s.shape} integers, one per start")
    if labels.size and labels.min() < 0:
        raise DataError(f"start_labels contain {labels.min()}; expected labels >= 0")
    return _run(r, s, labels.astype(np.int64), cell_size_m, limit, None, True)
