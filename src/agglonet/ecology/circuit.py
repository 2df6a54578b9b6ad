"""Circuit theory on the resistance raster (McRae et al. 2008): current density and pinch points.

The raster is a conductance graph: 8 neighbours, conductance = 1 / mean resistance of the two
cells, diagonal conductances divided by √2, impassable (NaN) cells removed. Each source's cells
are short-circuited into one node. For a pair (a, b), 1 A is injected at a and b is grounded; the
grounded Laplacian is solved with conjugate gradient preconditioned by algebraic multigrid
(classical Ruge–Stüben AMG from ``pyamg``, :class:`AmgPreconditioner`), or with a sparse LU
factorisation below ``direct_max_cells``.

One hierarchy serves every pair: the system is grounded once at a fixed node g (a source) and
solved for a unit injection at each other source, L_g x_k = e_k. The pair (a, b) voltages are
then x_a − x_b (potentials are defined up to a constant, and currents depend only on differences),
and Circuitscape's all-to-one mode (ground k, 1 A into every other source) is
Σ_{j≠k} x_j − (K−1)·x_k.
So K − 1 solves give all pairs, instead of one factorisation/hierarchy and solve per pair. The
grounded matrix is assembled straight from the raster; potentials are dropped as soon as their
last pair is done, and the solves can run in forked processes that share the hierarchy.

Cell current density is half the sum of |current| over the cell's edges (Circuitscape's rule).
Pinch zones (:func:`pinch_zones`) are the high-current cells of each corridor, as polygons.
"""

from __future__ import annotations

import contextlib
import logging
import math
import mmap
import multiprocessing as mp
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numba
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import shapely
from affine import Affine
from rasterio.features import shapes
from scipy import ndimage
from scipy.sparse.csgraph import connected_components
from shapely.geometry import shape
from threadpoolctl import threadpool_limits

from agglonet.ecology.amg import AmgPreconditioner, preconditioned_cg
from agglonet.ecology.grid_laplacian import GridLaplacian
from agglonet.ecology.laplacian import (
    FORWARD_DX,
    FORWARD_DY,
    edge_conductance,
    grounded_laplacian,
)
from agglonet.ecology.raster_graph import OFFSETS, validate_rasters
from agglonet.errors import ConfigError, DataError, EmptyNetworkError
from agglonet.logs import Progress
from agglonet.outputs import PINCH_POINT_COLUMNS

log = logging.getLogger(__name__)

MODES = ("pairwise", "all_to_one")
SOLVERS = ("auto", "amg", "direct")


@dataclass(frozen=True)
class CircuitGraph:
    """Node-level conductance graph of a resistance raster with sources short-circuited.

    Attributes
    ----------
    shape
        Raster shape.
    node_of_cell
        int32 array of ``shape`` (int64 beyond 2³¹ cells): node index per cell (−1 for
        impassable cells). All cells of one source share one node.
    source_nodes
        Source id → node index.
    conductance
        float64 cell conductance 1/R (S; 0 on impassable cells). Edge conductances are derived
        from it (8 neighbours, average resistance, diagonals / √2) whenever they are needed, so
        no per-edge arrays are kept.
    component
        Connected component of each node (same dtype as ``node_of_cell``).
    """

    shape: tuple[int, int]
    node_of_cell: np.ndarray
    source_nodes: dict[int, int]
    conductance: np.ndarray
    component: np.ndarray

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.component.size)

    @property
    def laplacian(self) -> sp.csr_array:
        """CSR graph Laplacian over all nodes.

        Edges inside one source are dropped, parallel edges summed. Built on each access; the
        solvers assemble the grounded matrix directly.
        """
        return _assemble(self, np.arange(self.n_nodes, dtype=np.int64), self.n_nodes)


@dataclass(frozen=True)
class CurrentMap:
    """Result of :func:`cumulative_current`.

    Attributes
    ----------
    current_density
        Cumulative current density per cell (A; NaN where impassable).
    pairs
        Source pairs solved (pairwise mode) or ``(k, 0)`` per grounded source (all-to-one mode).
    mode, solver
        What was run (``solver`` is ``amg`` or ``direct`` after ``auto`` is resolved).
    """

    current_density: np.ndarray
    pairs: tuple[tuple[int, int], ...]
    mode: str
    solver: str


def raster_edges(
    cell_conductance: np.ndarray,
    *,
    usable: np.ndarray | None = None,
    four_neighbors: bool = False,
    average: str = "resistance",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell-to-cell edges of a conductance raster, as Circuitscape connects them.

    Parameters
    ----------
    cell_conductance
        2-D float array of cell conductances (S; 0 where a usable cell carries no conductance,
        e.g. a nodata cell inside a short-circuit region).
    usable
        Boolean array: cells that take part in the graph (default: conductance > 0).
    four_neighbors
        Connect the 4 cardinal neighbours only (Circuitscape ``connect_four_neighbors_only``);
        otherwise the 8 neighbours.
    average
        ``resistance``: g_ab = 1 / ((R_a + R_b) / 2); ``conductance``: g_ab = (G_a + G_b) / 2
        (``connect_using_avg_resistances`` True / False). Diagonal edges are divided by √2.

    Returns
    -------
    tuple of numpy.ndarray
        Flat cell indices ``u < v`` of every undirected edge and its conductance ``g`` (edges
        of zero conductance dropped).
    """
    g_cell = np.asarray(cell_conductance, dtype=np.float64)
    ok = g_cell > 0 if usable is None else np.asarray(usable, dtype=bool)
    if average not in ("resistance", "conductance"):
        raise ConfigError(f"edge average is {average!r}; expected 'resistance' or 'conductance'")
    h, w = g_cell.shape
    flat = np.arange(h * w, dtype=np.int64).reshape(h, w)
    offsets = ((0, 1), (1, 0)) if four_neighbors else tuple(OFFSETS[4:])
    us, vs, gs = [], [], []
    for dy, dx in offsets:  # each undirected edge once
        src = (slice(max(0, -dy), h - max(0, dy)), slice(max(0, -dx), w - max(0, dx)))
        dst = (slice(max(0, dy), h - max(0, -dy)), slice(max(0, dx), w - max(0, -dx)))
        both = ok[src] & ok[dst]
        ga, gb = g_cell[src][both], g_cell[dst][both]
        if average == "resistance":
            with np.errstate(divide="ignore"):
                g = np.where((ga > 0) & (gb > 0), 2.0 / (1.0 / ga + 1.0 / gb), 0.0)
        else:
            g = (ga + gb) / 2.0
        if dy and dx:
            g = g / math.sqrt(2.0)
        keep = g > 0
        us.append(flat[src][both][keep])
        vs.append(flat[dst][both][keep])
        gs.append(g[keep])
    u, v = np.concatenate(us), np.concatenate(vs)
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    return lo, hi, np.concatenate(gs)


def node_laplacian(node_u: np.ndarray, node_v: np.ndarray, g: np.ndarray,
                   n_nodes: int) -> sp.csr_matrix:
    """CSR Laplacian over nodes: edges inside one node dropped, parallel edges summed."""
    keep = node_u != node_v
    adj = sp.coo_matrix((g[keep], (node_u[keep], node_v[keep])), shape=(n_nodes, n_nodes)).tocsr()
    adj = adj + adj.T
    return (sp.diags(np.asarray(adj.sum(axis=1)).ravel()) - adj).tocsr()


def _assemble(graph: CircuitGraph, position: np.ndarray, n_rows: int, *,
              dtype: type = np.float64) -> sp.csr_array:
    """Laplacian over the nodes with ``position[node] >= 0``, in that order.

    An edge to a node with position −1 (a grounded node) adds to the diagonal only, which is
    the grounded Laplacian; components left out entirely must have no edge to the kept nodes.
    Filled straight into CSR from the raster
    (:func:`agglonet.ecology.laplacian.grounded_laplacian`).
    """
    return grounded_laplacian(graph.node_of_cell, graph.conductance, len(graph.source_nodes),
                              position, n_rows, dtype=dtype)


def _components(passable: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Label the connected component of each cell (8-connected passable cells, via sources).

    Every pair of 8-adjacent passable cells is joined by an edge of positive conductance, so the
    node graph's components are the 8-connected patches of passable cells, merged where one
    source spans several patches. Returns an int64 raster (−1 on impassable cells).
    """
    patch, n_patch = ndimage.label(passable, structure=np.ones((3, 3), dtype=bool))
    on_source = (labels > 0) & passable
    ids = np.unique(labels[on_source])
    merged = np.arange(n_patch + 1)
    if ids.size:
        # distinct (patch, source) pairs, as one int64 key each (a 1-D unique, not axis=1)
        key = np.unique(patch[on_source].astype(np.int64) * ids.size
                        + np.searchsorted(ids, labels[on_source]))
        pairs = (key // ids.size, key % ids.size + n_patch + 1)
        size = n_patch + 1 + ids.size
        link = sp.coo_array((np.ones(key.size), pairs), shape=(size, size))
        merged = connected_components(link, directed=False)[1][:n_patch + 1]
    out = merged[patch].astype(np.int64)
    out[~passable] = -1
    return out


def circuit_graph(resistance: np.ndarray, source_labels: np.ndarray) -> CircuitGraph:
    """Build the conductance graph of a resistance raster.

    8 neighbours, average resistance (g = 1 / ((R_a + R_b) / 2), diagonals / √2); each source
    is one node. Nodes are numbered sources first (by id), then the other passable cells in
    raster order.

    Parameters
    ----------
    resistance
        2-D float array (> 0; NaN = impassable).
    source_labels
        2-D int array (0 = not a source, k ≥ 1 = source id k); each source becomes one node.

    Raises
    ------
    agglonet.errors.DataError
        On mismatched shapes or non-positive resistance.
    """
    r, labels = validate_rasters(resistance, source_labels)
    h, w = r.shape
    passable = np.isfinite(r)
    conductance = np.zeros((h, w))
    np.divide(1.0, r, out=conductance, where=passable)
    del r
    source_ids = np.unique(labels[labels > 0])
    # int32 node numbers where they fit: the raster of them lives as long as the solves
    node = np.full(h * w, -1, dtype=np.int32 if h * w < np.iinfo(np.int32).max else np.int64)
    lab = labels.ravel()
    plain = passable.ravel() & (lab == 0)
    node[plain] = np.arange(source_ids.size, source_ids.size + int(plain.sum()))
    is_source = lab > 0
    node[is_source] = np.searchsorted(source_ids, lab[is_source])
    n_nodes = source_ids.size + int(plain.sum())
    cell_component = _components(passable, labels).ravel()
    component = np.empty(n_nodes, dtype=node.dtype)
    component[node[node >= 0]] = cell_component[node >= 0]
    return CircuitGraph(shape=(h, w), node_of_cell=node.reshape(h, w),
                        source_nodes={int(k): i for i, k in enumerate(source_ids)},
                        conductance=conductance, component=component)


def _single_threaded_blas() -> contextlib.AbstractContextManager:
    """Limit BLAS to one thread while solving (``threadpoolctl``, a dependency).

    pyamg's set-up and CG's dot products are many small BLAS calls; a multi-threaded OpenBLAS
    makes them 5–15× slower on a busy 2-core machine (smoothed-aggregation set-up of a
    90 k-node Poisson matrix: 1.0 s with one OpenBLAS thread, 11–18 s with two).
    """
    return threadpool_limits(limits=1, user_api="blas")


def _resolve_solver(solver: str, n_nodes: int, direct_max_cells: int) -> str:
    if solver not in SOLVERS:
        raise ConfigError(f"ecology.circuit.solver is {solver!r}; expected one of {list(SOLVERS)}")
    if solver == "auto":
        return "direct" if n_nodes <= direct_max_cells else "amg"
    return solver


def _solver(matrix: sp.csr_matrix | Callable[[], sp.csr_array], kind: str, rtol: float, *,
            single: Callable[[], sp.csr_array] | None = None):
    """Return ``solve(rhs) -> x`` for the SPD grounded Laplacian ``matrix``.

    ``direct``: one sparse LU factorisation. ``amg``: one :class:`AmgPreconditioner`, then
    :func:`preconditioned_cg` per right-hand side, stopped at ‖Ax − b‖ ≤ rtol‖b‖. With
    ``single`` (a function that builds the same matrix in float32, for the set-up), ``matrix``
    may be a function that builds the float64 matrix: it is called after the AMG set-up, once
    the float32 one is gone, so the two never peak together.
    """
    if kind == "direct":
        full = matrix() if callable(matrix) else matrix
        return spla.factorized(sp.csc_matrix(full))
    if single is not None and callable(matrix):
        preconditioner = AmgPreconditioner(single, finest=matrix)
    else:
        preconditioner = AmgPreconditioner(sp.csr_array(matrix))
    system = preconditioner.matrix

    def solve(rhs: np.ndarray) -> np.ndarray:
        x, iterations = preconditioned_cg(system, np.asarray(rhs, dtype=np.float64),
                                          preconditioner=preconditioner, rtol=rtol)
        log.debug("CG: %d iterations on %d nodes", iterations, system.shape[0])
        return x

    solve.operator = system         # type: ignore[attr-defined]
    return solve


class _GroundedSystem:
    """The grounded Laplacian of the components holding some sources, with one solver.

    Each component is grounded at its source of lowest id (or at ``ground`` when given); the
    matrix over all free nodes of these components is block-diagonal, so one AMG hierarchy (or
    one factorisation) serves every source of every component.
    """

    def __init__(self, graph: CircuitGraph, components: Sequence[int], *, kind: str,
                 rtol: float, ground: int | None = None) -> None:
        self.graph = graph
        component = graph.component
        grounds = []
        for comp in components:
            members = [k for k in sorted(graph.source_nodes)
                       if component[graph.source_nodes[k]] == comp]
            grounds.append(ground if ground is not None else graph.source_nodes[members[0]])
        self.ground_of = dict(zip(components, grounds, strict=True))
        free = np.isin(component, np.asarray(components, dtype=np.int64))
        free[grounds] = False
        # int32 where the node count allows: these two live as long as the solves
        index = np.int32 if graph.n_nodes < np.iinfo(np.int32).max else np.int64
        self.position = np.full(graph.n_nodes, -1, dtype=index)
        self.free = np.flatnonzero(free).astype(index)
        self.position[self.free] = np.arange(self.free.size, dtype=index)
        del free
        self.kind = kind
        self._solve = None
        if self.free.size:
            def build(dtype: type = np.float64) -> sp.csr_array:
                return _assemble(graph, self.position, self.free.size, dtype=dtype)

            def build_single() -> sp.csr_array:
                return build(np.float32)

            def build_grid() -> GridLaplacian:
                return GridLaplacian.from_raster(graph.node_of_cell, graph.conductance,
                                                 len(graph.source_nodes), self.position,
                                                 self.free.size)

            # AMG: the set-up works on the float32 CSR matrix, the finest level (and so CG)
            # on the same operator kept on the raster.
            self._solve = (_solver(build_grid, kind, rtol, single=build_single)
                           if kind == "amg" else _solver(build, kind, rtol))

    def potential(self, node: int) -> np.ndarray:
        """Node potentials for 1 A into ``node`` (0 at its component's ground, NaN elsewhere)."""
        return self._embed(node, self._solve_free(node) if self.position[node] >= 0 else None)

    def _solve_free(self, node: int) -> np.ndarray:
        assert self._solve is not None
        rhs = np.zeros(self.free.size)
        rhs[self.position[node]] = 1.0
        return self._solve(rhs)

    def _embed(self, node: int, solution: np.ndarray | None) -> np.ndarray:
        inside = self.graph.component == self.graph.component[node]
        x = np.full(self.graph.n_nodes, np.nan)
        x[inside] = 0.0
        if solution is not None:
            at = self.free[inside[self.free]]
            x[at] = solution[self.position[at]]
        return x

    def cell_entries(self) -> np.ndarray:
        """Raster of each cell's entry in a free-node solution (int32).

        Free nodes map to their position; grounded nodes and nodes of components outside
        this system to ``free.size`` (where :meth:`potentials` with ``embed=False`` callers put
        a 0); impassable cells to −1.
        """
        node = self.graph.node_of_cell
        entry = np.where(node >= 0, self.position[node], -2)
        entry[entry == -1] = self.free.size
        entry[entry == -2] = -1
        return entry.astype(np.int32)

    def potentials(self, nodes: Sequence[int], *, processes: int = 1,
                   embed: bool = True) -> Iterator[tuple[int, np.ndarray | None]]:
        """Yield ``(node, potential)`` for ``nodes``, in order.

        With ``embed`` false the potential is the solution over the free nodes only (indexed
        by :attr:`position`), or None for a grounded node.

        With ``processes`` > 1 (and where the platform can fork), the solves run in that many
        forked worker processes, which share the matrix and the AMG hierarchy with this one
        (copy-on-write); only the node is sent, and the solution comes back through shared
        memory.
        Each solve is the same deterministic computation either way, so the results are the
        same bits whatever the number of processes.
        """
        solving = [n for n in nodes if self.position[n] >= 0]
        if processes <= 1 or len(solving) < 2 or "fork" not in mp.get_all_start_methods():
            for node in nodes:
                yield node, (self.potential(node) if embed else
                             self._solve_free(node) if self.position[node] >= 0 else None)
            return
        global _FORKED_SYSTEM, _FORKED_SLOTS
        # Solutions come back through shared memory, not pickled through the pool's pipe
        # (0.2 s per 36 MB solution, measured): one slot per job in flight (the pool's
        # processes + one ahead); a result is copied out of its slot before the next job goes.
        buffer = mmap.mmap(-1, (processes + 1) * self.free.size * 8)
        _FORKED_SYSTEM = self
        _FORKED_SLOTS = np.frombuffer(buffer, dtype=np.float64).reshape(processes + 1, -1)
        free_slots = list(range(processes + 1))
        try:
            with mp.get_context("fork").Pool(min(processes, len(solving))) as pool:
                def submit(node: int) -> tuple[int, Any] | None:
                    if self.position[node] < 0:
                        return None
                    slot = free_slots.pop()
                    return slot, pool.apply_async(_solve_in_worker, (node, slot))

                pending: deque[tuple[int, Any]] = deque()
                ahead = iter(nodes)
                for node in ahead:
                    pending.append((node, submit(node)))
                    if len(pending) > processes:     # one ahead: each held result is a vector
                        break
                while pending:
                    node, job = pending.popleft()
                    solution = None
                    if job is not None:
                        slot, result = job
                        result.get()
                        solution = _FORKED_SLOTS[slot].copy()
                        free_slots.append(slot)
                    for more in ahead:
                        pending.append((more, submit(more)))
                        break
                    yield node, self._embed(node, solution) if embed else solution
        finally:
            _FORKED_SYSTEM = None
            _FORKED_SLOTS = None
            buffer.close()


#: The system a forked solver process works on (set only while its pool runs).
_FORKED_SYSTEM: _GroundedSystem | None = None
#: Shared-memory slots (one row each) where forked solver processes put their solutions.
_FORKED_SLOTS: np.ndarray | None = None


def _solve_in_worker(node: int, slot: int) -> None:
    assert _FORKED_SYSTEM is not None and _FORKED_SLOTS is not None
    _FORKED_SLOTS[slot] = _FORKED_SYSTEM._solve_free(node)


def _check_sources(graph: CircuitGraph, wanted: Sequence[int]) -> None:
    missing = [k for k in wanted if k not in graph.source_nodes]
    if missing:
        raise DataError(f"source id(s) {missing} not in the source raster "
                        f"(ids present: {sorted(graph.source_nodes)})")


def source_potentials(
    graph: CircuitGraph,
    *,
    solver: str = "auto",
    direct_max_cells: int = 200_000,
    rtol: float = 1e-6,
    sources: Sequence[int] | None = None,
) -> dict[int, np.ndarray]:
    """Node potentials for 1 A injected at each source, all grounded at one fixed node.

    Each connected component of the graph is grounded at its first source; for every other
    source k of the component, L_g x_k = e_k is solved with one factorisation (direct) or one
    AMG hierarchy (amg) shared by all sources of all components. Pair voltages are x_a − x_b
    (valid for a and b in the same component).

    Parameters
    ----------
    graph
        From :func:`circuit_graph`.
    solver, direct_max_cells, rtol
        As in :func:`cumulative_current`.
    sources
        Source ids needed (default: all).

    Returns
    -------
    dict
        Source id → node potential vector x_k (0 for the grounding source of its component,
        NaN on nodes of other components).
    """
    wanted = sorted(graph.source_nodes) if sources is None else sorted(set(sources))
    _check_sources(graph, wanted)
    if not wanted:
        return {}
    system = _system_for(graph, wanted, solver=solver, direct_max_cells=direct_max_cells,
                         rtol=rtol)
    with _single_threaded_blas():
        return {k: system.potential(graph.source_nodes[k]) for k in wanted}


def _system_for(graph: CircuitGraph, wanted: Sequence[int], *, solver: str,
                direct_max_cells: int, rtol: float) -> _GroundedSystem:
    components = sorted({int(graph.component[graph.source_nodes[k]]) for k in wanted})
    n_free = int(np.isin(graph.component, components).sum()) - len(components)
    kind = _resolve_solver(solver, n_free, direct_max_cells)
    with _single_threaded_blas():
        system = _GroundedSystem(graph, components, kind=kind, rtol=rtol)
    log.info("circuit: %d component(s), %d free nodes, solver %s", len(components), n_free, kind)
    return system


def pair_voltages(
    resistance: np.ndarray,
    source_labels: np.ndarray,
    *,
    pair: tuple[int, int],
    solver: str = "auto",
    direct_max_cells: int = 200_000,
    rtol: float = 1e-6,
) -> np.ndarray:
    """Cell voltages for 1 A injected at source ``pair[0]`` and source ``pair[1]`` grounded.

    Returns a float64 raster (V; 0 on the grounded source, NaN where impassable or not connected).
    The system is grounded at ``pair[1]`` directly, so this is a single solve.
    """
    graph = circuit_graph(resistance, source_labels)
    a, b = pair
    _check_sources(graph, list(pair))
    na, nb = graph.source_nodes[a], graph.source_nodes[b]
    comp = int(graph.component[nb])
    if graph.component[na] != comp:
        raise EmptyNetworkError(f"sources {a} and {b} are not connected through passable cells")
    n_free = int((graph.component == comp).sum()) - 1
    kind = _resolve_solver(solver, n_free, direct_max_cells)
    with _single_threaded_blas():
        v = _GroundedSystem(graph, [comp], kind=kind, rtol=rtol, ground=nb).potential(na)
    return _cell_values(graph, v)


def _cell_values(graph: CircuitGraph, node_values: np.ndarray) -> np.ndarray:
    node = graph.node_of_cell
    out = np.full(graph.shape, np.nan)
    ok = node >= 0
    out[ok] = node_values[node[ok]]
    return out


@numba.njit(cache=True, error_model="numpy")
def _cell_current_kernel(index: np.ndarray, cond: np.ndarray, values: np.ndarray,
                         total: np.ndarray) -> None:
    """Add half of |edge current| to both cells of every edge, in one pass over the raster.

    ``index`` maps a cell to its entry of ``values`` (−1: no node); a NaN value (a node of
    another component) counts as 0. Each cell's four forward edges are visited in the order
    of :data:`agglonet.ecology.laplacian.FORWARD_DY`.
    """
    h, w = index.shape
    for i in range(h):
        for j in range(w):
            n = index[i, j]
            if n < 0:
                continue
            va = values[n]
            if va != va:
                va = 0.0
            for o in range(4):
                y, x = i + FORWARD_DY[o], j + FORWARD_DX[o]
                if y >= h or x < 0 or x >= w:
                    continue
                m = index[y, x]
                if m < 0:
                    continue
                vb = values[m]
                if vb != vb:
                    vb = 0.0
                g = edge_conductance(cond[i, j], cond[y, x], FORWARD_DX[o] != 0 and y != i)
                half = abs(g * (va - vb)) * 0.5
                total[i, j] += half
                total[y, x] += half


def _add_cell_current(graph: CircuitGraph, voltages: np.ndarray, total: np.ndarray, *,
                      index: np.ndarray | None = None) -> None:
    """Add half of |edge current| to both cells of every edge (into ``total``, in place).

    ``voltages`` are per node, or per entry of ``index`` (a cell → entry raster) when given.
    Compiled (numba) because it runs once per pair on the whole grid: on the 8.3 M-cell
    yangtze_river_delta 250 m grid the vectorised NumPy form took 1.3 s per pair (four
    full-grid temporaries per direction), this one pass about 0.1 s.
    """
    _cell_current_kernel(graph.node_of_cell if index is None else index, graph.conductance,
                         np.ascontiguousarray(voltages, dtype=np.float64), total)


def cell_current(graph: CircuitGraph, voltages: np.ndarray) -> np.ndarray:
    """Cell current density (half the sum of |edge current|) from node voltages.

    Parameters
    ----------
    graph
        From :func:`circuit_graph`.
    voltages
        Node voltages (length = number of nodes; NaN counts as 0).

    Returns
    -------
    numpy.ndarray
        Current per cell (A), NaN where impassable. On a source's cells only the edges leaving
        the source carry current (its internal edges are short-circuited).
    """
    out = np.zeros(graph.shape)
    _add_cell_current(graph, voltages, out)
    out[graph.node_of_cell < 0] = np.nan
    return out


def _difference(a: np.ndarray | None, b: np.ndarray | None, *, out: np.ndarray) -> None:
    """``out = a − b``, where None is a potential of 0 everywhere (a grounded source)."""
    if a is None and b is None:
        out[:] = 0.0
    elif b is None:
        out[:] = a
    elif a is None:
        np.negative(b, out=out)
    else:
        np.subtract(a, b, out=out)


def _solve_order(pairs: Sequence[tuple[int, int]], first: Sequence[int]) -> list[int]:
    """Order in which to solve the sources of ``pairs`` so that few potentials are alive.

    Greedy: start from the grounds (no solve needed), then always take the source that closes
    the most pairs with sources already solved (ties: lowest id). A potential is dropped once
    all its pairs are done, so memory holds about as many vectors as the corridor graph is wide,
    not one per source.
    """
    ids = sorted({k for p in pairs for k in p})
    done = [k for k in first if k in ids]
    left = [k for k in ids if k not in done]
    while left:
        have = set(done)
        best = max(left, key=lambda k: (sum(1 for a, b in pairs if (a == k and b in have)
                                            or (b == k and a in have)), -k))
        done.append(best)
        left.remove(best)
    return done


def cumulative_current(
    resistance: np.ndarray,
    source_labels: np.ndarray,
    *,
    pairs: Sequence[tuple[int, int]] | None = None,
    mode: str = "pairwise",
    solver: str = "auto",
    direct_max_cells: int = 200_000,
    rtol: float = 1e-6,
    processes: int = 1,
) -> CurrentMap:
    """Cumulative current density over source pairs (pairwise) or all-to-one.

    Parameters
    ----------
    resistance, source_labels
        As in :func:`circuit_graph`.
    pairs
        Source pairs for ``pairwise`` mode (e.g. the adjacent pairs of the corridor network);
        ``None`` means every pair of sources.
    mode
        ``pairwise``: 1 A from a to grounded b for each pair; ``all_to_one``: each source grounded
        in turn with 1 A injected into every other source of its connected component.
    solver
        ``amg`` (CG preconditioned by classical AMG, :class:`AmgPreconditioner`), ``direct``
        (sparse LU), or ``auto`` (direct when the grounded system has at most
        ``direct_max_cells`` nodes).
    direct_max_cells
        Threshold for ``auto``.
    rtol
        Relative residual tolerance of CG (default 1e-6, the tolerance Circuitscape's CG stops
        at; current maps then agree with a direct solve to about 1e-6 of their maximum).
    processes
        Solve the right-hand sides in this many forked processes sharing one hierarchy
        (1: in this process). The map is the same bits for any number.

    Raises
    ------
    agglonet.errors.ConfigError
        On an unknown mode or solver, or ``processes`` < 1.
    agglonet.errors.EmptyNetworkError
        With fewer than two sources.
    """
    if mode not in MODES:
        raise ConfigError(f"ecology.circuit.mode is {mode!r}; expected one of {list(MODES)}")
    graph = circuit_graph(resistance, source_labels)
    ids = sorted(graph.source_nodes)
    if len(ids) < 2:
        raise EmptyNetworkError(f"{len(ids)} ecological source(s) on passable ground; circuit "
                                "theory needs at least two")
    _resolve_solver(solver, 0, direct_max_cells)
    if int(processes) < 1:
        raise ConfigError(f"ecology.circuit.processes is {processes}; expected an integer >= 1")
    total = np.zeros(graph.shape)
    if mode == "pairwise":
        todo = sorted({(min(a, b), max(a, b)) for a, b in
                       (pairs if pairs is not None else [(a, b) for i, a in enumerate(ids)
                                                         for b in ids[i + 1:]])})
        _check_sources(graph, sorted({k for p in todo for k in p}))
        comp = {k: int(graph.component[graph.source_nodes[k]]) for k in ids}
        for a, b in todo:
            if comp[a] != comp[b]:
                log.warning("sources %d and %d are not connected; no current between them", a, b)
        todo = [(a, b) for a, b in todo if comp[a] == comp[b]]
        done = _pairwise_current(graph, todo, total, solver=solver,
                                 direct_max_cells=direct_max_cells, rtol=rtol,
                                 processes=int(processes))
        kind = done[1]
        done_pairs = done[0]
    else:
        system = _system_for(graph, ids, solver=solver, direct_max_cells=direct_max_cells,
                             rtol=rtol)
        kind = system.kind
        with _single_threaded_blas():
            x = {ids[i]: v for i, (_, v) in enumerate(system.potentials(
                [graph.source_nodes[k] for k in ids], processes=int(processes)))
                if v is not None}                   # (embedded potentials are never None)
        done_pairs = []
        for k in ids:
            same = [j for j in ids if j != k and not np.isnan(x[j][graph.source_nodes[k]])]
            if not same:
                continue
            v = sum(x[j] for j in same) - len(same) * x[k]
            _add_cell_current(graph, v, total)
            done_pairs.append((k, 0))
    total[graph.node_of_cell < 0] = np.nan
    return CurrentMap(current_density=total, pairs=tuple(done_pairs), mode=mode, solver=kind)


def _pairwise_current(graph: CircuitGraph, todo: Sequence[tuple[int, int]], total: np.ndarray,
                      *, solver: str, direct_max_cells: int, rtol: float,
                      processes: int) -> tuple[list[tuple[int, int]], str]:
    """Add the current of each pair (same component) to ``total``; potentials streamed.

    Returns the pairs done (in ``todo`` order) and the solver kind used.
    """
    needed = sorted({k for p in todo for k in p})
    if not needed:
        return [], _resolve_solver(solver, graph.n_nodes, direct_max_cells)
    system = _system_for(graph, needed, solver=solver, direct_max_cells=direct_max_cells,
                         rtol=rtol)
    grounds = set(system.ground_of.values())
    first = [k for k in needed if graph.source_nodes[k] in grounds]
    remaining = {k: sum(k in p for p in todo) for k in needed}
    live: dict[int, np.ndarray | None] = {}
    closed: set[tuple[int, int]] = set()
    solves = 0
    order = _solve_order(todo, first)
    # Potentials stay over the free nodes (no embedding into all nodes). On a GridLaplacian
    # the currents are summed over its own (float32) edges; otherwise entry free.size of a
    # pair's voltage vector is the 0 of the grounds.
    grid = getattr(system._solve, "operator", None)
    if not isinstance(grid, GridLaplacian):
        grid = None
        entries = system.cell_entries()
    voltage = np.empty(system.free.size + 1)
    voltage[-1] = 0.0
    with _single_threaded_blas(), Progress("circuit source potential", len(order),
                                           logger=log) as progress:
        for k, (_, x) in zip(order, system.potentials([graph.source_nodes[k] for k in order],
                                                      processes=processes, embed=False),
                             strict=True):
            progress.advance()
            live[k] = x                         # None: the ground, potential 0
            solves += graph.source_nodes[k] not in grounds
            for a, b in todo:
                if (a, b) in closed or k not in (a, b) or a not in live or b not in live:
                    continue
                _difference(live[a], live[b], out=voltage[:-1])
                if grid is not None:
                    grid.add_cell_current(voltage, total)
                else:
                    _add_cell_current(graph, voltage, total, index=entries)
                closed.add((a, b))
                for end in (a, b):
                    remaining[end] -= 1
                    if remaining[end] == 0:
                        del live[end]
    log.info("circuit: %d pairs from %d solves", len(closed), solves)
    return [p for p in todo if p in closed], system.kind


def pinch_zones(
    current: np.ndarray,
    corridor_mask: np.ndarray,
    *,
    transform: Affine,
    crs: Any,
    quantile: float = 0.9,
) -> gpd.GeoDataFrame:
    """Pinch zones: the cells of each corridor with the highest current density, as polygons.

    As Pinchpoint Mapper's output is read (McRae's Linkage Mapper; Shandong Peninsula and
    Beijing–Tianjin–Hebei city-cluster studies report pinch points as areas): within each corridor
    k (cells of ``corridor_mask`` equal to k), the cells whose current is at or above the
    ``quantile`` of the current over that corridor's cells (numpy's linear interpolation) are
    grouped into 8-connected zones. Each zone is one row, whatever its size.

    Parameters
    ----------
    current
        Current density per cell (A; NaN where impassable).
    corridor_mask
        int corridor ids (0 outside corridors).
    transform, crs
        Georeferencing (square cells in metres).
    quantile
        Share of each corridor's cells below the zone threshold (0.9: the top tenth).

    Returns
    -------
    geopandas.GeoDataFrame
        MultiPolygons with ``pinch_id``, ``corridor_id``, ``n_cells``, ``area_km2``,
        ``peak_current``, ``mean_current`` (A) and ``threshold_current`` (the corridor's
        quantile), sorted by corridor, then decreasing peak current, then the zone's first cell in
        raster order; ``pinch_id`` = 1..n in that order.

    Raises
    ------
    ConfigError
        ``quantile`` outside 0–1.
    DataError
        Rasters of different shapes.
    """
    if not 0 <= quantile <= 1:
        raise ConfigError(f"ecology.circuit.pinch_quantile is {quantile}; expected 0..1")
    current = np.asarray(current, dtype=float)
    corridor_mask = np.asarray(corridor_mask)
    if current.shape != corridor_mask.shape:
        raise DataError(f"current {current.shape} and corridor mask {corridor_mask.shape} "
                        "differ in shape")
    cell_km2 = abs(transform.a * transform.e) / 1e6
    inside = (corridor_mask > 0) & np.isfinite(current)
    zone_of = np.zeros(current.shape, dtype=np.int32)
    records: list[dict[str, Any]] = []
    structure = np.ones((3, 3), dtype=bool)
    order = np.arange(current.size).reshape(current.shape)
    windows = ndimage.find_objects(np.where(inside, corridor_mask, 0).astype(np.int64))
    for cid in np.unique(corridor_mask[inside]):
        win = windows[int(cid) - 1]
        cells = inside[win] & (corridor_mask[win] == cid)
        cur = current[win]
        threshold = float(np.quantile(cur[cells], quantile))
        zones, n = ndimage.label(cells & (cur >= threshold), structure=structure)
        index = np.arange(1, n + 1)
        peaks = ndimage.maximum(cur, zones, index)
        means = ndimage.mean(cur, zones, index)
        counts = ndimage.sum_labels(np.ones(cur.shape), zones, index)
        firsts = ndimage.minimum(order[win], zones, index)
        offset = len(records)
        zone_of[win][zones > 0] = zones[zones > 0] + offset
        for j in range(n):
            records.append({"zone": offset + j + 1, "corridor_id": int(cid),
                            "n_cells": int(counts[j]), "area_km2": float(counts[j]) * cell_km2,
                            "peak_current": float(peaks[j]), "mean_current": float(means[j]),
                            "threshold_current": threshold, "_first": int(firsts[j])})
    parts: dict[int, list[Any]] = {}
    if records:
        for geom, value in shapes(zone_of, mask=zone_of > 0, connectivity=4,
                                  transform=transform):
            parts.setdefault(int(value), []).append(shape(geom))
    rows = sorted(records, key=lambda r: (r["corridor_id"], -r["peak_current"], r["_first"]))
    geoms = [_multipolygon(parts[r["zone"]]) for r in rows]
    frame = gpd.GeoDataFrame(
        [{k: v for k, v in r.items() if k not in ("zone", "_first")} for r in rows],
        columns=[c for c in PINCH_POINT_COLUMNS if c != "pinch_id"],
        geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs)
    frame.insert(0, "pinch_id", np.arange(1, len(frame) + 1, dtype=np.int64))
    log.info("%d pinch zones (%.0f km²) in %d corridors, quantile %.2f", len(frame),
             frame["area_km2"].sum() if len(frame) else 0.0,
             frame["corridor_id"].nunique() if len(frame) else 0, quantile)
    return frame


def _multipolygon(parts: Sequence[Any]) -> shapely.MultiPolygon:
    """Union of 4-connected cell polygons as one MultiPolygon (parts may touch at a corner)."""
    merged = shapely.union_all(parts)
    if isinstance(merged, shapely.MultiPolygon):
        return merged
    return shapely.MultiPolygon([merged])
