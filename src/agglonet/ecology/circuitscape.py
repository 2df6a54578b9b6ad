"""Circuitscape-compatible raster circuit theory: pairwise, one-to-all and all-to-one.

Reproduces the raster modes of Circuitscape (Circuitscape.jl 5, and the Python Circuitscape 4
where Circuitscape.jl defers to it): the graph (4 or 8 neighbours, average resistance or average
conductance, short-circuit regions, focal points and focal regions), which pairs are solved
(include/exclude files with their min/max semantics), the effective-resistance matrix (first
row and column the focal ids, 0 on the diagonal, −1 for pairs not connected or not solved), and
the voltage and current maps with Circuitscape's conventions and file names.
``docs/circuitscape.md`` lists every option and the few places where agglonet deliberately differs.

Conventions taken from Circuitscape (cited in the docs):

* a cell's *node current* is max(total inflow, total outflow) of its node, i.e. half the sum of
  |edge current| plus half the |current injected or drawn| at the node; every cell of a focal
  or short-circuit region shows its node's value, including region cells that are nodata in the
  habitat map; cells outside the solved component show 0;
* in pairwise mode, for the pair (i, j) with i < j, 1 A enters at j and leaves at i, and
  voltages are referenced to i (0 V at i, R_ij at j);
* a focal region (an id on several cells) is merged into one node only for the solves in which
  it takes part (pairwise: its own pairs); short-circuit regions are merged always.

Speed: a pair differs from another pair only in its right-hand side as long as focal nodes are
single nodes, so each connected component is grounded once and one AMG hierarchy (or one sparse
factorisation) serves all its pairs; the number of solves is min(pairs, focal nodes − 1), not
one per pair. One-to-all grounds every other focal node, which is one shared matrix too (a
Schur-complement step per focal node). Only focal regions in pairwise mode change the matrix
per pair, and those pairs are assembled and solved one by one, as Circuitscape does.
"""

from __future__ import annotations

import difflib
import gzip
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from agglonet.ecology.circuit import (
    _resolve_solver,
    _single_threaded_blas,
    _solver,
    node_laplacian,
    raster_edges,
)
from agglonet.errors import ConfigError, DataError

log = logging.getLogger(__name__)

SCENARIOS = ("pairwise", "one-to-all", "all-to-one")
#: Circuitscape's CG stopping tolerance: relative residual 1e-6 (Circuitscape.jl
#: ``solve_linear_system``: Krylov ``cg`` with ``rtol = 1e-6``; Circuitscape 4: scipy ``cg`` with
#: ``tol = 1e-6``). agglonet stops on the unpreconditioned residual ‖Lv − b‖ ≤ rtol‖b‖.
CIRCUITSCAPE_RTOL = 1e-6
#: Circuitscape's threshold below which a branch current counts as zero, relative to the
#: largest branch current of its direction (Circuitscape.jl ``get_node_currents``).
BRANCH_CURRENT_CUTOFF = 1e-8
#: Memory budget for keeping one potential vector per focal node (pairwise potentials path).
POTENTIALS_MAX_BYTES = 2 * 1024**3


# ----------------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GridHeader:
    """Georeferencing of an ASCII grid (Arc/Info header), as Circuitscape writes it back."""

    ncols: int
    nrows: int
    xllcorner: float
    yllcorner: float
    cellsize: float
    nodata: float = -9999.0


@dataclass(frozen=True)
class FocalNodes:
    """Focal nodes: one entry per (id, cell), sorted by id (a focal region has several cells).

    Attributes
    ----------
    ids, rows, cols
        int64 arrays of equal length.
    """

    ids: np.ndarray
    rows: np.ndarray
    cols: np.ndarray

    @classmethod
    def from_raster(cls, labels: np.ndarray) -> FocalNodes:
        """Cells with a value > 0 (NaN, 0 and negative ids are ignored, as in Circuitscape)."""
        values = np.asarray(labels, dtype=np.float64)
        rows, cols = np.nonzero(np.nan_to_num(values, nan=0.0) > 0)
        return cls.from_cells(values[rows, cols].astype(np.int64), rows, cols)

    @classmethod
    def from_cells(cls, ids: Iterable[int], rows: Iterable[int],
                   cols: Iterable[int]) -> FocalNodes:
        """Entries with id ≤ 0 are dropped (Circuitscape ignores negative ids)."""
        ids_a = np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids, dtype=np.int64)
        rows_a = np.asarray(list(rows) if not isinstance(rows, np.ndarray) else rows,
                            dtype=np.int64)
        cols_a = np.asarray(list(cols) if not isinstance(cols, np.ndarray) else cols,
                            dtype=np.int64)
        keep = ids_a > 0
        if (~keep).any():
            log.info("ignoring %d focal entries with id <= 0", int((~keep).sum()))
        order = np.argsort(ids_a[keep], kind="stable")
        return cls(ids_a[keep][order], rows_a[keep][order], cols_a[keep][order])

    @property
    def unique_ids(self) -> np.ndarray:
        """Sorted distinct ids."""
        return np.unique(self.ids)

    @property
    def has_regions(self) -> bool:
        """True when some id occupies more than one entry (Circuitscape's focal regions)."""
        return self.ids.size != self.unique_ids.size

    def cells_of(self, focal_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and columns of one id."""
        sel = self.ids == focal_id
        return self.rows[sel], self.cols[sel]

    def subset(self, keep_ids: Iterable[int]) -> FocalNodes:
        """Only the entries whose id is in ``keep_ids``."""
        sel = np.isin(self.ids, np.asarray(list(keep_ids), dtype=np.int64))
        return FocalNodes(self.ids[sel], self.rows[sel], self.cols[sel])


@dataclass(frozen=True)
class PairSelection:
    """Circuitscape's include/exclude pairs (``use_included_pairs``).

    Attributes
    ----------
    mode
        ``include`` or ``exclude``.
    point_ids
        Ids named by the file; focal nodes not named are dropped from the run (Circuitscape
        prunes them in both modes).
    pairs
        Unordered pairs flagged by the file.
    """

    mode: str
    point_ids: frozenset[int]
    pairs: frozenset[tuple[int, int]]

    def is_included(self, a: int, b: int) -> bool:
        """Whether the pair (a, b) is solved: flagged == (mode is include)."""
        flagged = (min(a, b), max(a, b)) in self.pairs
        return flagged == (self.mode == "include")


def read_pair_selection(path: str | Path) -> PairSelection:
    """Read an include/exclude pairs file in either of Circuitscape's two formats.

    ``mode include|exclude`` followed by one ``id id`` pair per line; or ``min <v>`` and
    ``max <v>`` lines followed by a square matrix whose first row and column are focal ids (a 0
    in the corner): values above ``max`` are set to 0, then pairs with a value ≥ ``min`` are
    included (Circuitscape 4 ``read_included_pairs``, Circuitscape.jl ``read_included_pairs``;
    so with ``min`` ≤ 0 the pairs above ``max`` are included too). The diagonal is ignored.
    """
    text = _read_text(path).splitlines()
    lines = [ln.split() for ln in text if ln.strip()]
    if not lines:
        raise DataError(f"{path}: empty include/exclude pairs file")
    head = lines[0][0].lower()
    try:
        if head == "mode":
            mode = lines[0][1].lower() if len(lines[0]) > 1 else ""
            if mode not in ("include", "exclude"):
                raise DataError(f"{path}: mode is {mode!r}; expected include or exclude")
            pairs = [(int(float(r[0])), int(float(r[1]))) for r in lines[1:]]
            ids = {i for p in pairs for i in p}
            return PairSelection(mode, frozenset(ids),
                                 frozenset((min(a, b), max(a, b)) for a, b in pairs if a != b))
        if head == "min":
            lo, hi = float(lines[0][1]), float(lines[1][1])
            matrix = np.array([[float(v) for v in r] for r in lines[2:]])
            ids_col = matrix[1:, 0].astype(np.int64)
            ids_row = matrix[0, 1:].astype(np.int64)
            values = matrix[1:, 1:]
            values = np.where(values > hi, 0.0, values)
            flagged = set()
            for i, j in zip(*np.nonzero(values >= lo), strict=True):
                a, b = int(ids_col[i]), int(ids_row[j])
                if a != b:
                    flagged.add((min(a, b), max(a, b)))
            return PairSelection("include", frozenset(int(i) for i in ids_col),
                                 frozenset(flagged))
    except (IndexError, ValueError) as exc:
        raise DataError(f"{path}: cannot read the include/exclude pairs ({exc})") from exc
    raise DataError(f"{path}: first line is {' '.join(lines[0])!r}; expected 'mode include', "
                    "'mode exclude' or 'min <value>'")


def cell_conductance(values: np.ndarray, *, is_resistance: bool = True) -> np.ndarray:
    """Cell conductances from a habitat map (NaN = nodata), as Circuitscape reads it.

    Resistances become 1/R; nodata and negative values become 0 (no cell). A zero resistance
    is an error, as in Circuitscape ("use a short-circuit region file instead").
    """
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    if is_resistance:
        if (v[finite] == 0).any():
            n = int((v[finite] == 0).sum())
            raise DataError(f"{n} habitat cell(s) have resistance 0; zero resistances are not "
                            "supported (Circuitscape: use a short-circuit region file instead)")
        g = np.where(finite, 1.0 / np.where(finite, v, 1.0), 0.0)
    else:
        g = np.where(finite, v, 0.0)
    return np.where(g > 0, g, 0.0)


# ----------------------------------------------------------------------------------------------
# Graph
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RasterCircuit:
    """Node graph of a conductance raster with some regions merged into single nodes.

    Attributes
    ----------
    node_of_cell
        int64 array: node per cell, −1 where the cell is not part of the graph.
    laplacian
        CSR Laplacian over nodes.
    component
        Connected component of each node.
    edge_u, edge_v, edge_g
        Node-level edges (u < v, parallel edges summed) and their conductance.
    """

    node_of_cell: np.ndarray
    laplacian: sp.csr_matrix
    component: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_g: np.ndarray

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.laplacian.shape[0])

    def node_at(self, rows: np.ndarray, cols: np.ndarray) -> int:
        """Return the node of a set of cells (a point or a merged region), −1 if none."""
        nodes = self.node_of_cell[rows, cols]
        nodes = nodes[nodes >= 0]
        return int(nodes[0]) if nodes.size else -1


def merge_groups(shape: tuple[int, int], label_maps: Sequence[np.ndarray]) -> np.ndarray:
    """Union of several label maps (0 = none): cells sharing a label in any map share a group.

    Returns an int64 array of group numbers (0 = in no group). Used to merge short-circuit
    regions with the focal regions that are active in a solve; overlapping regions join.
    """
    n = shape[0] * shape[1]
    rows, cols, offset = [], [], n
    for labels in label_maps:
        lab = np.asarray(labels).ravel()
        cells = np.flatnonzero(lab > 0)
        if cells.size == 0:
            continue
        _, inverse = np.unique(lab[cells], return_inverse=True)
        rows.append(cells)
        cols.append(offset + inverse)
        offset += int(inverse.max()) + 1
    if not rows:
        return np.zeros(shape, dtype=np.int64)
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = sp.coo_matrix((np.ones(r.size), (r, c)), shape=(offset, offset))
    _, comp = connected_components(graph, directed=False)
    grouped = np.zeros(n, dtype=bool)
    grouped[r] = True
    out = np.zeros(n, dtype=np.int64)
    out[grouped] = comp[:n][grouped] + 1
    return out.reshape(shape)


def build_circuit(
    conductance: np.ndarray,
    *,
    groups: np.ndarray | None = None,
    four_neighbors: bool = False,
    avg_resistances: bool = False,
) -> RasterCircuit:
    """Node graph: each cell with conductance > 0 is a node; each group is one node.

    A group becomes a node if any of its cells has conductance > 0; its nodata cells then map
    to that node too (Circuitscape.jl ``construct_node_map``) and connect to their neighbours
    with the cell conductance 0 in the average (which gives g_b/2 under average conductance and
    nothing under average resistance, as in Circuitscape).
    """
    g_cell = np.asarray(conductance, dtype=np.float64)
    shape = g_cell.shape
    n = g_cell.size
    flat_g = g_cell.ravel()
    key = np.full(n, -1, dtype=np.int64)
    live = flat_g > 0
    key[live] = np.flatnonzero(live)
    if groups is not None:
        grp = np.asarray(groups).ravel()
        has_live = np.zeros(int(grp.max()) + 1 if grp.size else 1, dtype=bool)
        has_live[grp[live & (grp > 0)]] = True
        in_group = (grp > 0) & has_live[grp]
        key[in_group] = n + grp[in_group]
    usable = key >= 0
    node = np.full(n, -1, dtype=np.int64)
    _, node[usable] = np.unique(key[usable], return_inverse=True)
    n_nodes = int(node.max()) + 1 if usable.any() else 0
    cu, cv, cg = raster_edges(g_cell, usable=usable.reshape(shape), four_neighbors=four_neighbors,
                              average="resistance" if avg_resistances else "conductance")
    lap = node_laplacian(node[cu], node[cv], cg, n_nodes)
    upper = sp.triu(-lap, k=1).tocoo()
    _, comp = connected_components(lap, directed=False) if n_nodes else (0, np.zeros(0, int))
    return RasterCircuit(node_of_cell=node.reshape(shape), laplacian=lap,
                         component=np.asarray(comp, dtype=np.int64),
                         edge_u=upper.row.astype(np.int64), edge_v=upper.col.astype(np.int64),
                         edge_g=upper.data)


def node_currents(circuit: RasterCircuit, voltages: np.ndarray) -> np.ndarray:
    """Circuitscape's node current: max(total inflow, total outflow) per node.

    Branch currents below 1e-8 of the largest branch current of their direction count as zero
    (Circuitscape.jl ``get_node_currents``). Nodes with NaN voltage get 0.
    """
    v = np.nan_to_num(voltages, nan=0.0)
    u, w, g = circuit.edge_u, circuit.edge_v, circuit.edge_g
    n = circuit.n_nodes
    if g.size == 0:
        return np.zeros(n)
    c = g * (v[u] - v[w])                       # current from u to w
    t_in = BRANCH_CURRENT_CUTOFF * abs(float(c.max()))
    t_out = BRANCH_CURRENT_CUTOFF * abs(float(-c.min()))
    forward = c > 0
    np.abs(c, out=c)
    # A branch carrying |c| from its tail to its head is inflow at the head and outflow at the
    # tail; each side keeps it only above its own cutoff. Two weighted bincounts over the edges.
    head = np.where(forward, w, u)
    inflow = np.bincount(head, np.where(c >= t_in, c, 0.0), minlength=n)
    head = np.where(forward, u, w)              # the tail, reusing the buffer's name
    outflow = np.bincount(head, np.where(c >= t_out, c, 0.0), minlength=n)
    return np.maximum(inflow, outflow)


def _principal_submatrix(matrix: sp.csr_matrix | sp.csr_array,
                         keep: np.ndarray) -> sp.csr_array:
    """Rows and columns ``keep`` (sorted node indices) of a CSR matrix, in one pass.

    scipy's ``m[keep][:, keep]`` copies the matrix twice; this keeps only the entries needed.
    """
    n = matrix.shape[0]
    position = np.full(n, -1, dtype=np.int64)
    position[keep] = np.arange(keep.size)
    row = np.repeat(np.arange(n, dtype=matrix.indices.dtype), np.diff(matrix.indptr))
    entry = (position[row] >= 0) & (position[matrix.indices] >= 0)
    row = position[row[entry]]
    counts = np.bincount(row, minlength=keep.size)
    del row
    indptr = np.zeros(keep.size + 1, dtype=matrix.indptr.dtype)
    np.cumsum(counts, out=indptr[1:])
    indices = position[matrix.indices[entry]].astype(matrix.indices.dtype)
    return sp.csr_array((matrix.data[entry], indices, indptr), shape=(keep.size, keep.size))


def _spread(circuit: RasterCircuit, node_values: np.ndarray, nodes_mask: np.ndarray) -> np.ndarray:
    """Cell map of node values for the nodes in ``nodes_mask`` (0 elsewhere)."""
    node = circuit.node_of_cell
    out = np.zeros(node.shape)
    ok = node >= 0
    ok[ok] = nodes_mask[node[ok]]
    out[ok] = node_values[node[ok]]
    return out


# ----------------------------------------------------------------------------------------------
# Solving
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SolverSettings:
    """How the linear systems are solved.

    Attributes
    ----------
    solver
        ``amg`` (CG preconditioned by classical AMG, ``AmgPreconditioner``), ``direct``
        (sparse LU) or ``auto`` (direct up to ``direct_max_cells`` nodes).
    rtol
        Relative residual at which CG stops (default: Circuitscape's 1e-6).
    direct_max_cells
        Threshold of ``auto``.
    """

    solver: str = "auto"
    rtol: float = CIRCUITSCAPE_RTOL
    direct_max_cells: int = 200_000


class _Component:
    """One connected component grounded at one node, with a shared solver."""

    def __init__(self, circuit: RasterCircuit, comp: int, ground: int,
                 settings: SolverSettings) -> None:
        self.circuit = circuit
        self.nodes = np.flatnonzero(circuit.component == comp)
        self.mask = np.zeros(circuit.n_nodes, dtype=bool)
        self.mask[self.nodes] = True
        self.ground = ground
        self.free = self.nodes[self.nodes != ground]
        self.position = np.full(circuit.n_nodes, -1, dtype=np.int64)
        self.position[self.free] = np.arange(self.free.size)
        kind = _resolve_solver(settings.solver, self.free.size, settings.direct_max_cells)
        matrix = _principal_submatrix(circuit.laplacian, self.free)
        self._solve = _solver(matrix, kind, settings.rtol) if self.free.size else None

    def potentials(self, injections: Mapping[int, float]) -> np.ndarray:
        """Node voltages (0 at the ground, NaN outside the component) for node injections."""
        v = np.full(self.circuit.n_nodes, np.nan)
        v[self.nodes] = 0.0
        rhs = np.zeros(self.free.size)
        for node, amps in injections.items():
            if node != self.ground:
                rhs[self.position[node]] += amps
        if rhs.any() and self._solve is not None:
            v[self.free] = self._solve(rhs)
        return v


def _pair_strategy(pairs: Sequence[tuple[int, int]]) -> tuple[str, int]:
    """``potentials`` (solve once per focal node) or ``per_pair``, and the ground node."""
    nodes = [n for p in pairs for n in p]
    counts: dict[int, int] = {}
    for n in nodes:
        counts[n] = counts.get(n, 0) + 1
    ground = max(counts, key=lambda k: (counts[k], -k))
    return ("potentials" if len(counts) - 1 < len(pairs) else "per_pair"), ground


@dataclass
class CircuitscapeResult:
    """Result of a Circuitscape run.

    Attributes
    ----------
    scenario
        ``pairwise``, ``one-to-all`` or ``all-to-one``.
    focal_ids
        Focal ids in the output order.
    resistances
        Pairwise: the (k+1)×(k+1) matrix in Circuitscape's layout (first row/column the ids,
        0 in the corner and on the diagonal, −1 for pairs not solved). One-to-all: k×2 (id,
        effective resistance or −1). All-to-one: k×2 (id, 0 if solved, −1 if not).
    cumulative_current
        Sum of the per-solve current maps (A), or None when no current map was asked for.
    max_current
        Cell-wise maximum of the per-solve current maps, or None.
    """

    scenario: str
    focal_ids: np.ndarray
    resistances: np.ndarray
    cumulative_current: np.ndarray | None = None
    max_current: np.ndarray | None = None
    solves: int = 0


@dataclass(frozen=True)
class MapRequest:
    """Which maps to compute and how to post-process them (Circuitscape's output options)."""

    current: bool = False
    voltage: bool = False
    max_current: bool = False
    set_focal_node_currents_to_zero: bool = False


SolveCallback = Callable[[str, np.ndarray | None, np.ndarray | None], None]


def _component_pairs(
    circuit: RasterCircuit, node_of_id: Mapping[int, int], pairs: Sequence[tuple[int, int]]
) -> tuple[dict[int, list[tuple[int, int]]], dict[tuple[int, int], float]]:
    """Group id pairs by component.

    Pairs on one node get 0; pairs without a shared component are left out (−1).
    """
    by_comp: dict[int, list[tuple[int, int]]] = {}
    fixed: dict[tuple[int, int], float] = {}
    for a, b in pairs:
        na, nb = node_of_id[a], node_of_id[b]
        if na < 0 or nb < 0:
            continue
        if na == nb:
            fixed[(a, b)] = 0.0
        elif circuit.component[na] == circuit.component[nb]:
            by_comp.setdefault(int(circuit.component[na]), []).append((a, b))
    return by_comp, fixed


def circuitscape_pairwise(
    conductance: np.ndarray,
    focal: FocalNodes,
    *,
    polygons: np.ndarray | None = None,
    four_neighbors: bool = False,
    avg_resistances: bool = False,
    selection: PairSelection | None = None,
    maps: MapRequest | None = None,
    on_solve: SolveCallback | None = None,
    settings: SolverSettings | None = None,
) -> CircuitscapeResult:
    """Pairwise effective resistances (and maps) between focal nodes, as Circuitscape.

    Parameters
    ----------
    conductance
        Cell conductances (:func:`cell_conductance`; 0 = no cell).
    focal
        Focal points or regions.
    polygons
        Short-circuit regions (int labels, 0 = none), merged in every solve.
    four_neighbors, avg_resistances
        Circuitscape's connection scheme.
    selection
        Include/exclude pairs; focal ids it does not name are dropped.
    maps
        Which maps to compute; ``on_solve(name, voltage_map, current_map)`` receives each
        pair's maps (name ``_<i>_<j>``) when given.
    settings
        Solver settings.

    Returns
    -------
    CircuitscapeResult
    """
    settings = settings or SolverSettings()
    maps = maps or MapRequest()
    if selection is not None:
        focal = focal.subset(selection.point_ids)
    ids = [int(i) for i in focal.unique_ids]
    k = len(ids)
    index = {pid: i for i, pid in enumerate(ids)}
    res = -np.ones((k, k))
    pairs = [(a, b) for i, a in enumerate(ids) for b in ids[i + 1:]
             if selection is None or selection.is_included(a, b)]
    want_maps = maps.current or maps.voltage or maps.max_current
    cum = np.zeros(conductance.shape) if want_maps else None
    mx = np.full(conductance.shape, -9999.0) if maps.max_current else None
    poly_maps = [polygons] if polygons is not None else []
    solves = 0

    def record(a: int, b: int, r: float) -> None:
        res[index[a], index[b]] = res[index[b], index[a]] = r

    def emit(a: int, b: int, circuit: RasterCircuit, comp_mask: np.ndarray, v: np.ndarray,
             na: int, nb: int) -> None:
        nonlocal cum, mx
        volt = _spread(circuit, v, comp_mask) if maps.voltage else None
        cur = None
        if maps.current or maps.max_current:
            ic = node_currents(circuit, np.where(comp_mask, v, 0.0))
            if maps.set_focal_node_currents_to_zero:
                ic[[na, nb]] = 0.0
            cur = _spread(circuit, ic, comp_mask)
            cum += cur
            if mx is not None:
                np.maximum(mx, cur, out=mx)
        if on_solve is not None:
            on_solve(f"_{a}_{b}", volt, cur)

    if not focal.has_regions:
        groups = merge_groups(conductance.shape, poly_maps) if poly_maps else None
        circuit = build_circuit(conductance, groups=groups, four_neighbors=four_neighbors,
                                avg_resistances=avg_resistances)
        node_of_id = {pid: circuit.node_at(*focal.cells_of(pid)) for pid in ids}
        by_comp, fixed = _component_pairs(circuit, node_of_id, pairs)
        for (a, b), r in fixed.items():
            record(a, b, r)
        with _single_threaded_blas():
            for comp, comp_pairs in sorted(by_comp.items()):
                node_pairs = [(node_of_id[a], node_of_id[b]) for a, b in comp_pairs]
                strategy, ground = _pair_strategy(node_pairs)
                n_focal = len({n for p in node_pairs for n in p})
                if strategy == "potentials" and want_maps and \
                        n_focal * circuit.n_nodes * 8 > POTENTIALS_MAX_BYTES:
                    strategy = "per_pair"
                if strategy == "potentials":
                    part = _Component(circuit, comp, ground, settings)
                    x = {n: part.potentials({n: 1.0}) for n in sorted({*sum(node_pairs, ())})}
                    solves += len(x) - 1
                    log.info("component %d: %d pairs from %d solves (one grounded matrix)",
                             comp, len(comp_pairs), len(x) - 1)
                    for (a, b), (na, nb) in zip(comp_pairs, node_pairs, strict=True):
                        v = x[nb] - x[na]
                        v = v - v[na]
                        record(a, b, float(v[nb]))
                        if want_maps:
                            emit(a, b, circuit, part.mask, v, na, nb)
                else:
                    log.info("component %d: %d pairs, one solve each", comp, len(comp_pairs))
                    part = _Component(circuit, comp, ground, settings)
                    for (a, b), (na, nb) in zip(comp_pairs, node_pairs, strict=True):
                        v = part.potentials({nb: 1.0, na: -1.0})
                        v = v - v[na]
                        solves += 1
                        record(a, b, float(v[nb]))
                        if want_maps:
                            emit(a, b, circuit, part.mask, v, na, nb)
    else:
        # Focal regions: each pair has its own graph, with only its two regions merged
        # (Circuitscape.jl raster pairwise, focal-region path).
        log.info("focal regions: one graph per pair (%d pairs)", len(pairs))
        with _single_threaded_blas():
            for a, b in pairs:
                active = np.zeros(conductance.shape, dtype=np.int64)
                for label, pid in ((1, a), (2, b)):
                    rr, cc = focal.cells_of(pid)
                    if rr.size > 1:         # a point needs no merging; a region is burned in
                        active[rr, cc] = label
                groups = merge_groups(conductance.shape, [*poly_maps, active])
                circuit = build_circuit(conductance, groups=groups,
                                        four_neighbors=four_neighbors,
                                        avg_resistances=avg_resistances)
                na = circuit.node_at(*focal.cells_of(a))
                nb = circuit.node_at(*focal.cells_of(b))
                if na < 0 or nb < 0:
                    continue
                if na == nb:
                    record(a, b, 0.0)
                    continue
                if circuit.component[na] != circuit.component[nb]:
                    continue
                part = _Component(circuit, int(circuit.component[na]), na, settings)
                v = part.potentials({nb: 1.0})
                solves += 1
                record(a, b, float(v[nb]))
                if want_maps:
                    emit(a, b, circuit, part.mask, v, na, nb)
    np.fill_diagonal(res, 0.0)
    table = np.zeros((k + 1, k + 1))
    table[0, 1:] = ids
    table[1:, 0] = ids
    table[1:, 1:] = res
    return CircuitscapeResult("pairwise", np.asarray(ids, dtype=np.int64), table,
                              cumulative_current=cum, max_current=mx, solves=solves)


def circuitscape_one_to_all(
    conductance: np.ndarray,
    focal: FocalNodes,
    *,
    all_to_one: bool = False,
    polygons: np.ndarray | None = None,
    four_neighbors: bool = False,
    avg_resistances: bool = False,
    selection: PairSelection | None = None,
    strengths: Mapping[int, float] | None = None,
    maps: MapRequest | None = None,
    on_solve: SolveCallback | None = None,
    settings: SolverSettings | None = None,
) -> CircuitscapeResult:
    """One-to-all (or all-to-one) solves, as Circuitscape.

    One-to-all: for each focal id n, ``strength`` amps (default 1) enter at n and every other
    focal node of its component (not excluded by ``selection``) is tied directly to ground;
    the result is n's voltage / strength (−1 if no ground shares its component). All-to-one: n
    is grounded and every other focal node injects its strength; the result is 0 when solved,
    −1 when not (Circuitscape.jl ``onetoall_resistance``). All focal regions are merged into
    their nodes for every solve (Circuitscape.jl ``run_onetoall``).
    """
    settings = settings or SolverSettings()
    maps = maps or MapRequest()
    strengths = dict(strengths or {})
    if selection is not None:
        focal = focal.subset(selection.point_ids)
    ids = [int(i) for i in focal.unique_ids]
    want_maps = maps.current or maps.voltage or maps.max_current
    cum = np.zeros(conductance.shape) if want_maps else None
    mx = np.full(conductance.shape, -9999.0) if maps.max_current else None
    poly_maps = [polygons] if polygons is not None else []
    out = np.zeros((len(ids), 2))
    out[:, 0] = ids
    solves = 0

    def graph_for(active_ids: Sequence[int]) -> tuple[RasterCircuit, dict[int, int]]:
        labels = np.zeros(conductance.shape, dtype=np.int64)
        sub = focal.subset(active_ids)
        labels[sub.rows, sub.cols] = sub.ids
        circuit = build_circuit(conductance, groups=merge_groups(conductance.shape,
                                                                 [*poly_maps, labels]),
                                four_neighbors=four_neighbors, avg_resistances=avg_resistances)
        return circuit, {pid: circuit.node_at(*focal.cells_of(pid)) for pid in ids}

    shared = graph_for(ids)
    rebuild = focal.has_regions and selection is not None
    cache: dict[tuple[Any, ...], Any] = {}

    with _single_threaded_blas():
        for i, n in enumerate(ids):
            others = [m for m in ids if m != n
                      and (selection is None or selection.is_included(n, m))]
            circuit, node_of_id = graph_for([n, *others]) if rebuild else shared
            nn = node_of_id[n]
            if nn < 0:
                out[i, 1] = -1.0
                continue
            comp = int(circuit.component[nn])
            active = sorted({node_of_id[m] for m in others if node_of_id[m] >= 0
                             and circuit.component[node_of_id[m]] == comp} - {nn})
            if not active:
                out[i, 1] = -1.0
                continue
            strength = float(strengths.get(n, 1.0))
            if not all_to_one:
                v = _one_to_all_voltages(circuit, comp, nn, active, strength, settings,
                                         cache if not rebuild else {})
                out[i, 1] = v[nn] / strength
            else:
                key = ("a2o", comp)
                if rebuild or key not in cache:
                    part = _Component(circuit, comp, nn, settings)
                    focal_nodes = sorted({node_of_id[m] for m in ids if node_of_id[m] >= 0
                                          and circuit.component[node_of_id[m]] == comp})
                    cache[key] = (part, {f: part.potentials({f: 1.0}) for f in focal_nodes})
                    solves += len(focal_nodes) - 1
                part, x = cache[key]
                injections: dict[int, float] = {}
                for m in others:
                    nm = node_of_id[m]
                    if nm >= 0 and circuit.component[nm] == comp and nm != nn:
                        injections[nm] = injections.get(nm, 0.0) + float(strengths.get(m, 1.0))
                v = sum(s * (x[node] - x[nn]) for node, s in injections.items())
                v = np.asarray(v) - v[nn]
                out[i, 1] = 0.0
            solves += 0 if all_to_one else 1
            if want_maps:
                mask = circuit.component == comp
                volt = _spread(circuit, v, mask) if maps.voltage else None
                cur = None
                if maps.current or maps.max_current:
                    cur = _spread(circuit, node_currents(circuit, np.where(mask, v, 0.0)), mask)
                    cum += cur
                    if mx is not None:
                        np.maximum(mx, cur, out=mx)
                if on_solve is not None:
                    on_solve(f"_{n}", volt, cur)
    return CircuitscapeResult("all-to-one" if all_to_one else "one-to-all",
                              np.asarray(ids, dtype=np.int64), out, cumulative_current=cum,
                              max_current=mx, solves=solves)


def _one_to_all_voltages(circuit: RasterCircuit, comp: int, source: int, grounds: Sequence[int],
                         strength: float, settings: SolverSettings,
                         cache: dict) -> np.ndarray:
    """Voltages with ``strength`` A into ``source`` and ``grounds`` at 0 V.

    With every focal node of the component grounded but the source, the matrix over the other
    nodes is the same for all sources: it is set up once (cached) and each source needs one
    solve, L_FF w = −L_Fs, then v_s = strength / (L_ss + L_sF w) and v_F = w v_s.
    """
    nodes = np.flatnonzero(circuit.component == comp)
    fixed = np.asarray(sorted({source, *grounds}), dtype=np.int64)
    key = ("o2a", comp, tuple(fixed.tolist()))
    if key not in cache:
        free = np.setdiff1d(nodes, fixed)
        kind = _resolve_solver(settings.solver, max(free.size, 1), settings.direct_max_cells)
        a = _principal_submatrix(circuit.laplacian, free)
        cache[key] = (free, _solver(a, kind, settings.rtol) if free.size else None)
    free, solve = cache[key]
    lap = circuit.laplacian
    col = lap[free][:, [source]].toarray().ravel()
    w = solve(-col) if free.size else np.zeros(0)
    schur = float(lap[source, source] + (lap[[source]][:, free] @ w).item()) if free.size \
        else float(lap[source, source])
    v = np.full(circuit.n_nodes, np.nan)
    v[nodes] = 0.0
    vs = strength / schur
    v[free] = w * vs
    v[source] = vs
    return v


# ----------------------------------------------------------------------------------------------
# Files: ASCII grids, text lists, resistances
# ----------------------------------------------------------------------------------------------


def _read_text(path: str | Path) -> str:
    p = Path(path)
    if not p.exists():
        raise DataError(f"file {str(p)!r} does not exist")
    raw = p.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8", errors="replace")


_HEADER_KEYS = ("ncols", "nrows", "xllcorner", "yllcorner", "cellsize")


def read_grid(path: str | Path) -> tuple[np.ndarray, GridHeader]:
    """Read an Arc/Info ASCII grid (optionally gzipped) or a GeoTIFF; nodata → NaN."""
    p = Path(path)
    if p.suffix.lower() in (".tif", ".tiff"):
        import rasterio

        with rasterio.open(p) as src:
            data = src.read(1).astype(np.float64)
            t = src.transform
            nodata = src.nodata
            header = GridHeader(src.width, src.height, t.c, t.f + t.e * src.height, t.a,
                                -9999.0 if nodata is None else float(nodata))
        if nodata is not None:
            data[data == nodata] = np.nan
        return data, header
    lines = _read_text(p).splitlines()
    meta: dict[str, float] = {}
    i = 0
    while i < len(lines) and lines[i].split() and lines[i].split()[0][0].isalpha():
        key, value = lines[i].split()[:2]
        meta[key.lower()] = float(value)
        i += 1
    missing = [k for k in _HEADER_KEYS if k not in meta]
    if missing:
        raise DataError(f"{p}: ASCII grid header lacks {missing}")
    nodata = meta.get("nodata_value", -9999.0)
    rows = [ln.split() for ln in lines[i:] if ln.strip()]
    try:
        data = np.array([[float(v) for v in r] for r in rows], dtype=np.float64)
    except ValueError as exc:
        raise DataError(f"{p}: non-numeric value in the grid ({exc})") from exc
    header = GridHeader(int(meta["ncols"]), int(meta["nrows"]), meta["xllcorner"],
                        meta["yllcorner"], meta["cellsize"], nodata)
    if data.shape != (header.nrows, header.ncols):
        raise DataError(f"{p}: grid is {data.shape[0]}x{data.shape[1] if data.ndim > 1 else 0}"
                        f"; the header says {header.nrows}x{header.ncols}")
    data[data == nodata] = np.nan
    return data, header


def read_focal_nodes(path: str | Path, header: GridHeader) -> FocalNodes:
    """Focal nodes from a grid (same extent as the habitat) or a text list ``id x y``.

    Text-list coordinates map to the cell row ⌈nrows − (y − yll)/cellsize⌉ − 1 and column
    ⌈(x − xll)/cellsize⌉ − 1 (Circuitscape 4 ``_txt_list_reader``).
    """
    text = None if Path(path).suffix.lower() in (".tif", ".tiff") else _read_text(path)
    if text is not None and not text.lstrip().lower().startswith("ncols"):
        rows_txt = [ln.split() for ln in text.splitlines() if ln.strip()]
        try:
            table = np.array([[float(v) for v in r[:3]] for r in rows_txt])
        except ValueError as exc:
            raise DataError(f"{path}: focal node text list must have 'id x y' rows") from exc
        if table.ndim != 2 or table.shape[1] != 3:
            raise DataError(f"{path}: focal node text list must have 'id x y' rows")
        rows = np.ceil(header.nrows - (table[:, 2] - header.yllcorner) / header.cellsize) - 1
        cols = np.ceil((table[:, 1] - header.xllcorner) / header.cellsize) - 1
        focal = FocalNodes.from_cells(table[:, 0].astype(np.int64), rows.astype(np.int64),
                                      cols.astype(np.int64))
    else:
        grid, gh = read_grid(path)
        _check_same_grid(gh, header, path)
        focal = FocalNodes.from_raster(grid)
    outside = ((focal.rows < 0) | (focal.rows >= header.nrows) | (focal.cols < 0)
               | (focal.cols >= header.ncols))
    if outside.any():
        raise DataError(f"{path}: at least one focal node location falls outside of the "
                        f"habitat map (ids {sorted(set(focal.ids[outside].tolist()))})")
    if focal.unique_ids.size < 2:
        raise DataError(f"{path}: fewer than two valid focal nodes (ids > 0) found")
    return focal


def _check_same_grid(a: GridHeader, b: GridHeader, path: str | Path) -> None:
    if (a.ncols, a.nrows) != (b.ncols, b.nrows) or not math.isclose(a.cellsize, b.cellsize) \
            or abs(a.xllcorner - b.xllcorner) > a.cellsize / 3 \
            or abs(a.yllcorner - b.yllcorner) > a.cellsize / 3:
        raise DataError(f"{path}: grid {a.nrows}x{a.ncols} at ({a.xllcorner}, {a.yllcorner}) "
                        f"cell {a.cellsize} differs from the habitat grid {b.nrows}x{b.ncols} at "
                        f"({b.xllcorner}, {b.yllcorner}) cell {b.cellsize}")


def julia_float(x: float) -> str:
    """Format a float as Julia prints it (``1.0``, ``0.0001``, ``1.0e-5``, ``1.234567e6``).

    Shortest round-trip digits; positional when the decimal exponent p of the leading digit
    satisfies −4 < p + 1 ≤ 6, scientific otherwise (Julia ``Base.Ryu.writeshortest``).
    """
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    if x == 0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    sign, digits, exp = Decimal(repr(x)).as_tuple()
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    exp = int(exp) + len("".join(map(str, digits))) - len(ds)
    point = len(ds) + exp                     # digits before the decimal point
    s = "-" if sign else ""
    if -4 < point <= 6:
        if point <= 0:
            return f"{s}0.{'0' * -point}{ds}"
        if point >= len(ds):
            return f"{s}{ds}{'0' * (point - len(ds))}.0"
        return f"{s}{ds[:point]}.{ds[point:]}"
    mant = ds[0] + "." + (ds[1:] or "0")
    return f"{s}{mant}e{point - 1}"


def write_ascii_grid(path: str | Path, data: np.ndarray, header: GridHeader) -> Path:
    """Write a grid as Circuitscape.jl does: its header, values rounded to 8 digits."""
    p = Path(path)
    lines = [
        f"ncols         {header.ncols}",
        f"nrows         {header.nrows}",
        f"xllcorner     {julia_float(header.xllcorner)}",
        f"yllcorner     {julia_float(header.yllcorner)}",
        f"cellsize      {julia_float(header.cellsize)}",
        f"NODATA_value  {julia_float(header.nodata)}",
    ]
    rounded = np.round(np.asarray(data, dtype=np.float64), 8)
    lines += [" ".join(julia_float(v) for v in row) for row in rounded]
    p.write_text("\n".join(lines) + "\n")
    return p


def _write_table(path: Path, table: np.ndarray) -> Path:
    path.write_text("\n".join(" ".join(julia_float(v) for v in row) for row in table) + "\n")
    return path


def resistances_3columns(table: np.ndarray) -> np.ndarray:
    """Circuitscape's 3-column form of the pairwise matrix: (id_i, id_j, R) for i < j."""
    ids = table[1:, 0]
    rows = [(ids[i], ids[j], table[j + 1, i + 1]) for i in range(ids.size)
            for j in range(i + 1, ids.size)]
    return np.array(rows, dtype=np.float64).reshape(-1, 3)


# ----------------------------------------------------------------------------------------------
# The .ini job
# ----------------------------------------------------------------------------------------------

_BOOL_KEYS = {
    "habitat_map_is_resistances": True, "connect_four_neighbors_only": False,
    "connect_using_avg_resistances": False, "use_polygons": False, "use_included_pairs": False,
    "use_mask": False, "use_variable_source_strengths": False, "write_cur_maps": False,
    "write_volt_maps": False, "write_cum_cur_map_only": False, "write_max_cur_maps": False,
    "set_null_currents_to_nodata": False, "set_null_voltages_to_nodata": False,
    "set_focal_node_currents_to_zero": False, "log_transform_maps": False,
}
_PATH_KEYS = ("habitat_file", "point_file", "polygon_file", "included_pairs_file", "mask_file",
              "variable_source_file", "output_file")
#: Keys that must keep their default: a different value asks for something agglonet does not do.
_UNSUPPORTED_IF_SET = {
    "compress_grids": "False", "write_as_tif": "False", "use_reclass_table": "False",
}
#: Keys Circuitscape writes that do not change raster pairwise/one-to-all/all-to-one results here.
_IGNORED = {
    "version", "solver", "precision", "print_timings", "print_rusages", "low_memory_mode",
    "preemptive_memory_release", "parallelize", "max_parallel", "log_file", "log_level",
    "screenprint_log", "profiler_log_file", "suppress_messages", "use_64bit_indexing",
    "cholmod_batch_size", "point_file_contains_polygons", "source_file", "ground_file",
    "ground_file_is_resistances", "use_unit_currents", "use_direct_grounds",
    "remove_src_or_gnd", "reclass_file", "residual_tolerance",
}
_KNOWN = set(_BOOL_KEYS) | set(_PATH_KEYS) | set(_UNSUPPORTED_IF_SET) | _IGNORED | {
    "data_type", "scenario"}
_SOLVERS = {"cg+amg": "amg", "amg+cg": "amg", "cholmod": "direct", "cholesky": "direct",
            "cholfact": "direct", "pardiso": "direct", "accelerate": "direct"}


@dataclass(frozen=True)
class CircuitscapeJob:
    """A parsed Circuitscape ``.ini`` (raster pairwise, one-to-all or all-to-one).

    Attributes
    ----------
    scenario
        ``pairwise``, ``one-to-all`` or ``all-to-one``.
    flags
        Boolean options by their Circuitscape name.
    paths
        File options by their Circuitscape name (None when unset).
    solver
        ``amg`` or ``direct`` (from Circuitscape's ``solver``).
    """

    scenario: str
    flags: Mapping[str, bool]
    paths: Mapping[str, Path | None]
    solver: str = "amg"
    raw: Mapping[str, str] = field(default_factory=dict)

    def path(self, key: str) -> Path:
        """Return a required file option."""
        value = self.paths.get(key)
        if value is None:
            raise ConfigError(f"Circuitscape option {key} is needed for this job but not set")
        return value


def _parse_bool(key: str, value: str) -> bool:
    if value in ("True", "true", "TRUE", "1"):
        return True
    if value in ("False", "false", "FALSE", "0"):
        return False
    raise ConfigError(f"Circuitscape option {key} = {value!r}; expected True or False")


def _is_unset_path(value: str) -> bool:
    return value == "" or value.lower() == "none" or value.startswith("(")


def read_ini(path: str | Path) -> CircuitscapeJob:
    """Read a Circuitscape ``.ini`` job (raster pairwise, one-to-all or all-to-one).

    Lines are ``key = value`` (sections ignored, as Circuitscape does). Relative file paths are
    taken from the working directory, as Circuitscape does, or else from the ini's folder.

    Raises
    ------
    agglonet.errors.ConfigError
        On an unknown key, a non-boolean flag, a network or advanced job, or an option agglonet
        does not support set to a non-default value (each naming the key).
    """
    ini = Path(path)
    raw: dict[str, str] = {}
    for number, line in enumerate(_read_text(ini).splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith(("[", "#", ";")):
            continue
        if "=" not in text:
            raise ConfigError(f"{ini}:{number}: {text!r} is not 'key = value'")
        key, value = (s.strip() for s in text.split("=", 1))
        if key not in _KNOWN:
            close = difflib.get_close_matches(key, sorted(_KNOWN), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise ConfigError(f"{ini}:{number}: unknown Circuitscape option {key!r}{hint}")
        raw[key] = value
    data_type = raw.get("data_type", "raster").lower()
    if data_type != "raster":
        raise ConfigError(f"{ini}: data_type = {data_type}; agglonet runs raster jobs only")
    scenario = raw.get("scenario", "not entered").lower().replace("_", "-")
    if scenario not in SCENARIOS:
        raise ConfigError(f"{ini}: scenario = {raw.get('scenario')!r}; agglonet supports "
                          f"{list(SCENARIOS)} (not advanced)")
    for key, default in _UNSUPPORTED_IF_SET.items():
        if key in raw and raw[key] not in (default, default.lower()):
            raise ConfigError(f"{ini}: Circuitscape option {key} = {raw[key]} is not supported "
                              f"by agglonet (only {default})")
    flags = {k: _parse_bool(k, raw[k]) if k in raw else d for k, d in _BOOL_KEYS.items()}
    paths: dict[str, Path | None] = {}
    for key in _PATH_KEYS:
        value = raw.get(key, "")
        if _is_unset_path(value):
            paths[key] = None
            continue
        p = Path(value)
        probe = p.parent if key == "output_file" else p
        if not p.is_absolute() and not probe.exists() and (ini.parent / probe).exists():
            p = ini.parent / p
        paths[key] = p
    solver_name = raw.get("solver", "cg+amg").lower()
    if solver_name not in _SOLVERS:
        raise ConfigError(f"{ini}: solver = {solver_name!r}; expected one of {sorted(_SOLVERS)}")
    return CircuitscapeJob(scenario=scenario, flags=flags, paths=paths,
                           solver=_SOLVERS[solver_name], raw=raw)


def _output_prefix(output_file: Path) -> str:
    """Circuitscape.jl: everything before the first '.out' of the output file name."""
    text = str(output_file)
    return text.split(".out")[0]


def _postprocess_map(grid: np.ndarray, conductance: np.ndarray, nodata: float, *,
                     log_transform: bool, null_to_nodata: bool) -> np.ndarray:
    out = grid.copy()
    if log_transform:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(out > 0, np.log10(np.where(out > 0, out, 1.0)), nodata)
    if null_to_nodata:
        out = np.where(conductance == 0, nodata, out)
    return out


def run_job(job: CircuitscapeJob, *, settings: SolverSettings | None = None
            ) -> tuple[CircuitscapeResult, list[Path]]:
    """Run a parsed job and write Circuitscape's output files.

    Returns the result and the files written: ``<output>_resistances.out`` and
    ``_resistances_3columns.out`` (pairwise), ``_resistances.out`` with ``id R`` rows
    (one-to-all, as Circuitscape 4 writes it), ``_curmap_<i>_<j>.asc`` / ``_curmap_<i>.asc`` and
    ``_voltmap_...`` per solve, ``_cum_curmap.asc`` and ``_max_curmap.asc``.
    """
    flags = job.flags
    settings = settings or SolverSettings(solver=job.solver)
    habitat, header = read_grid(job.path("habitat_file"))
    conductance = cell_conductance(habitat, is_resistance=flags["habitat_map_is_resistances"])
    if flags["use_mask"]:
        mask, mh = read_grid(job.path("mask_file"))
        _check_same_grid(mh, header, job.path("mask_file"))
        conductance = np.where(np.nan_to_num(mask, nan=0.0) > 0, conductance, 0.0)
        if not (conductance > 0).any():
            raise DataError("the mask file removes every habitat cell")
    polygons = None
    if flags["use_polygons"]:
        poly, ph = read_grid(job.path("polygon_file"))
        _check_same_grid(ph, header, job.path("polygon_file"))
        polygons = np.where(np.nan_to_num(poly, nan=0.0) > 0, np.nan_to_num(poly, nan=0.0),
                            0).astype(np.int64)
    focal = read_focal_nodes(job.path("point_file"), header)
    selection = read_pair_selection(job.path("included_pairs_file")) \
        if flags["use_included_pairs"] else None
    strengths: dict[int, float] | None = None
    if flags["use_variable_source_strengths"] and job.scenario != "pairwise":
        rows = [ln.split() for ln in _read_text(job.path("variable_source_file")).splitlines()
                if ln.strip()]
        table: dict[int, float] = {}
        for r in rows:
            table.setdefault(int(float(r[0])), float(r[1]))
        strengths = table
    write_cur = flags["write_cur_maps"]
    cum_only = flags["write_cum_cur_map_only"]
    maps = MapRequest(current=write_cur or cum_only or flags["write_max_cur_maps"],
                      voltage=flags["write_volt_maps"], max_current=flags["write_max_cur_maps"],
                      set_focal_node_currents_to_zero=flags["set_focal_node_currents_to_zero"])
    prefix = _output_prefix(job.path("output_file"))
    Path(prefix).parent.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def on_solve(name: str, volt: np.ndarray | None, cur: np.ndarray | None) -> None:
        if volt is not None and flags["write_volt_maps"]:
            grid = _postprocess_map(volt, conductance, header.nodata, log_transform=False,
                                    null_to_nodata=flags["set_null_voltages_to_nodata"])
            written.append(write_ascii_grid(f"{prefix}_voltmap{name}.asc", grid, header))
        if cur is not None and write_cur and not cum_only:
            grid = _postprocess_map(cur, conductance, header.nodata,
                                    log_transform=flags["log_transform_maps"],
                                    null_to_nodata=flags["set_null_currents_to_nodata"])
            written.append(write_ascii_grid(f"{prefix}_curmap{name}.asc", grid, header))

    common: dict[str, Any] = dict(polygons=polygons,
                                  four_neighbors=flags["connect_four_neighbors_only"],
                                  avg_resistances=flags["connect_using_avg_resistances"],
                                  selection=selection, maps=maps, on_solve=on_solve,
                                  settings=settings)
    if job.scenario == "pairwise":
        result = circuitscape_pairwise(conductance, focal, **common)
        written.append(_write_table(Path(f"{prefix}_resistances.out"), result.resistances))
        written.append(_write_table(Path(f"{prefix}_resistances_3columns.out"),
                                    resistances_3columns(result.resistances)))
    else:
        result = circuitscape_one_to_all(conductance, focal,
                                         all_to_one=job.scenario == "all-to-one",
                                         strengths=strengths, **common)
        if job.scenario == "one-to-all":
            written.append(_write_table(Path(f"{prefix}_resistances.out"), result.resistances))
    for grid, name, wanted in ((result.cumulative_current, "cum_curmap", write_cur or cum_only),
                               (result.max_current, "max_curmap", flags["write_max_cur_maps"])):
        if grid is not None and wanted:
            out = _postprocess_map(grid, conductance, header.nodata,
                                   log_transform=flags["log_transform_maps"],
                                   null_to_nodata=flags["set_null_currents_to_nodata"])
            written.append(write_ascii_grid(f"{prefix}_{name}.asc", out, header))
    log.info("Circuitscape %s: %d focal ids, %d solves, %d files written", job.scenario,
             result.focal_ids.size, result.solves, len(written))
    return result, written


def run_ini(path: str | Path, *, settings: SolverSettings | None = None
            ) -> tuple[CircuitscapeResult, list[Path]]:
    """Read a Circuitscape ``.ini`` and run it (``agglonet circuitscape run job.ini``)."""
    job = read_ini(path)
    return run_job(job, settings=settings if settings is not None else
                   replace(SolverSettings(), solver=job.solver))
