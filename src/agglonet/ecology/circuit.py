"""Circuit theory on the resistance raster (McRae et al. 2008): current density and pinch points.

The raster is a conductance graph: 8 neighbours, conductance = 1 / mean resistance of the two
cells, diagonal conductances divided by √2, impassable (NaN) cells removed. Each source's cells
are short-circuited into one node. For a pair (a, b), 1 A is injected at a and b is grounded; the
grounded Laplacian is solved with conjugate gradient preconditioned by algebraic multigrid
(``pyamg`` smoothed aggregation), or with a sparse LU factorisation below ``direct_max_cells``.

One hierarchy serves every pair: the system is grounded once at a fixed node g (a source) and
solved for a unit injection at each other source, L_g x_k = e_k. The pair (a, b) voltages are
then x_a − x_b (potentials are defined up to a constant, and currents depend only on differences),
and Circuitscape's all-to-one mode (ground k, 1 A into every other source) is
Σ_{j≠k} x_j − (K−1)·x_k.
So K − 1 solves give all pairs, instead of one factorisation/hierarchy and solve per pair.

Cell current density is half the sum of |current| over the cell's edges (Circuitscape's rule).
Pinch zones (:func:`pinch_zones`) are the high-current cells of each corridor, as polygons.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pyamg
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import shapely
from affine import Affine
from rasterio.features import shapes
from scipy import ndimage
from scipy.sparse.csgraph import connected_components
from shapely.geometry import shape
from threadpoolctl import threadpool_limits

from agglonet.ecology.raster_graph import OFFSETS, validate_rasters
from agglonet.errors import ConfigError, DataError, EmptyNetworkError
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
        int64 array of ``shape``: node index per cell (−1 for impassable cells). All cells of one
        source share one node.
    source_nodes
        Source id → node index.
    edge_u, edge_v
        Flat cell indices of each undirected cell-to-cell edge (u < v).
    edge_g
        Conductance of each edge (siemens, for resistance in ohms per cell).
    laplacian
        CSR graph Laplacian over nodes (edges inside one source dropped, parallel edges summed).
    """

    shape: tuple[int, int]
    node_of_cell: np.ndarray
    source_nodes: dict[int, int]
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_g: np.ndarray
    laplacian: sp.csr_matrix


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


def circuit_graph(resistance: np.ndarray, source_labels: np.ndarray) -> CircuitGraph:
    """Build the conductance graph and node Laplacian of a resistance raster.

    8 neighbours, average resistance (:func:`raster_edges`); each source is one node.

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
    conductance = np.where(passable, 1.0 / np.where(passable, r, 1.0), 0.0)
    edge_u, edge_v, edge_g = raster_edges(conductance, usable=passable)

    source_ids = np.unique(labels[labels > 0])
    node = np.full(h * w, -1, dtype=np.int64)
    lab = labels.ravel()
    plain = passable.ravel() & (lab == 0)
    node[plain] = np.arange(source_ids.size, source_ids.size + int(plain.sum()))
    is_source = lab > 0
    node[is_source] = np.searchsorted(source_ids, lab[is_source])
    n_nodes = source_ids.size + int(plain.sum())
    lap = node_laplacian(node[edge_u], node[edge_v], edge_g, n_nodes)
    return CircuitGraph(shape=(h, w), node_of_cell=node.reshape(h, w),
                        source_nodes={int(k): i for i, k in enumerate(source_ids)},
                        edge_u=edge_u, edge_v=edge_v, edge_g=edge_g, laplacian=lap)


def _single_threaded_blas() -> contextlib.AbstractContextManager:
    """Limit BLAS to one thread while solving (``threadpoolctl``, a dependency).

    pyamg's set-up and CG's dot products are many small BLAS calls; a multi-threaded OpenBLAS
    makes them 5–15× slower on a busy 2-core machine (smoothed-aggregation set-up of a
    90 k-node Poisson matrix: 1.0 s with one OpenBLAS thread, 11–18 s with two).
    """
    return threadpool_limits(limits=1, user_api="blas")


@contextlib.contextmanager
def _fixed_global_seed(seed: int) -> Iterator[None]:
    """Seed NumPy's global random state for the block, then restore it.

    pyamg estimates the spectral radius for its smoothed prolongation from a random start vector
    drawn from ``numpy.random`` (``pyamg.util.linalg.approximate_spectral_radius``), so an
    unseeded hierarchy, and the current maps solved with it, differ from run to run in the last
    digits. A fixed seed makes the AMG solves — and everything downstream — reproducible.
    """
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _resolve_solver(solver: str, n_nodes: int, direct_max_cells: int) -> str:
    if solver not in SOLVERS:
        raise ConfigError(f"ecology.circuit.solver is {solver!r}; expected one of {list(SOLVERS)}")
    if solver == "auto":
        return "direct" if n_nodes <= direct_max_cells else "amg"
    return solver


def _solver(matrix: sp.csr_matrix, kind: str, rtol: float):
    """Return ``solve(rhs) -> x`` for the SPD grounded Laplacian ``matrix``.

    ``amg``: one smoothed-aggregation hierarchy, then CG per right-hand side, stopped when the
    residual ‖Ax − b‖ ≤ rtol‖b‖. The V-cycle smooths with one forward Gauss–Seidel sweep
    before and one backward sweep after the coarse correction: a symmetric cycle (so a valid
    CG preconditioner) at half the smoothing work of pyamg's default symmetric sweeps; on a
    1 M-cell grid it needs 16 instead of 13 CG iterations at rtol 1e-6 but is ~15 % faster.
    """
    if kind == "direct":
        return spla.factorized(matrix.tocsc())
    with _fixed_global_seed(0):
        hierarchy = pyamg.smoothed_aggregation_solver(
            matrix, symmetry="symmetric",
            presmoother=("gauss_seidel", {"sweep": "forward"}),
            postsmoother=("gauss_seidel", {"sweep": "backward"}))
    preconditioner = hierarchy.aspreconditioner(cycle="V")

    def solve(rhs: np.ndarray) -> np.ndarray:
        x, info = spla.cg(matrix, rhs, rtol=rtol, atol=0.0, M=preconditioner,
                          maxiter=max(200, matrix.shape[0] // 1000))
        if info != 0:
            raise RuntimeError(f"AMG-preconditioned CG did not reach rtol={rtol} "
                               f"in {info} iterations on {matrix.shape[0]} nodes")
        return x

    return solve


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
    AMG hierarchy (amg) shared by all sources of the component. Pair voltages are x_a − x_b
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
    lap = graph.laplacian
    n_nodes = lap.shape[0]
    kind = _resolve_solver(solver, n_nodes, direct_max_cells)
    wanted = sorted(graph.source_nodes) if sources is None else sorted(set(sources))
    missing = [k for k in wanted if k not in graph.source_nodes]
    if missing:
        raise DataError(f"source id(s) {missing} not in the source raster "
                        f"(ids present: {sorted(graph.source_nodes)})")
    _, component = connected_components(lap, directed=False)
    out: dict[int, np.ndarray] = {}
    with _single_threaded_blas():
        for comp in sorted({int(component[graph.source_nodes[k]]) for k in wanted}):
            members = [k for k in sorted(graph.source_nodes)
                       if component[graph.source_nodes[k]] == comp]
            ground = graph.source_nodes[members[0]]
            nodes = np.flatnonzero((component == comp) & (np.arange(n_nodes) != ground))
            todo = [k for k in members[1:] if k in wanted]
            solve = _solver(lap[nodes][:, nodes].tocsr(), kind, rtol) if todo else None
            position = np.full(n_nodes, -1, dtype=np.int64)
            position[nodes] = np.arange(nodes.size)
            for k in members:
                if k not in wanted:
                    continue
                x = np.full(n_nodes, np.nan)
                x[component == comp] = 0.0
                if k != members[0]:
                    rhs = np.zeros(nodes.size)
                    rhs[position[graph.source_nodes[k]]] = 1.0
                    assert solve is not None
                    x[nodes] = solve(rhs)
                out[k] = x
            log.info("circuit component %d: %d nodes, %d sources, solver %s",
                     comp, nodes.size + 1, len(members), kind)
    return out


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
    for k in pair:
        if k not in graph.source_nodes:
            raise DataError(f"source id {k} not in the source raster "
                            f"(ids present: {sorted(graph.source_nodes)})")
    lap = graph.laplacian
    n_nodes = lap.shape[0]
    kind = _resolve_solver(solver, n_nodes, direct_max_cells)
    _, component = connected_components(lap, directed=False)
    na, nb = graph.source_nodes[a], graph.source_nodes[b]
    if component[na] != component[nb]:
        raise EmptyNetworkError(f"sources {a} and {b} are not connected through passable cells")
    nodes = np.flatnonzero((component == component[nb]) & (np.arange(n_nodes) != nb))
    rhs = np.zeros(nodes.size)
    rhs[np.searchsorted(nodes, na)] = 1.0
    v = np.full(n_nodes, np.nan)
    v[nb] = 0.0
    with _single_threaded_blas():
        v[nodes] = _solver(lap[nodes][:, nodes].tocsr(), kind, rtol)(rhs)
    return _cell_values(graph, v)


def _cell_values(graph: CircuitGraph, node_values: np.ndarray) -> np.ndarray:
    node = graph.node_of_cell
    out = np.full(graph.shape, np.nan)
    ok = node >= 0
    out[ok] = node_values[node[ok]]
    return out


def cell_current(graph: CircuitGraph, voltages: np.ndarray) -> np.ndarray:
    """Cell current density (half the sum of |edge current|) from node voltages.

    Parameters
    ----------
    graph
        From :func:`circuit_graph`.
    voltages
        Node voltages (length = number of nodes).

    Returns
    -------
    numpy.ndarray
        Current per cell (A), NaN where impassable. On a source's cells only the edges leaving
        the source carry current (its internal edges are short-circuited).
    """
    cell_v = voltages[graph.node_of_cell.ravel()]
    current = np.abs(graph.edge_g * (cell_v[graph.edge_u] - cell_v[graph.edge_v]))
    current = np.nan_to_num(current, nan=0.0)
    n = graph.node_of_cell.size
    total = np.bincount(graph.edge_u, current, minlength=n) + np.bincount(graph.edge_v, current,
                                                                          minlength=n)
    out = 0.5 * total.reshape(graph.shape)
    out[graph.node_of_cell < 0] = np.nan
    return out


def cumulative_current(
    resistance: np.ndarray,
    source_labels: np.ndarray,
    *,
    pairs: Sequence[tuple[int, int]] | None = None,
    mode: str = "pairwise",
    solver: str = "auto",
    direct_max_cells: int = 200_000,
    rtol: float = 1e-6,
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
        ``amg`` (CG + pyamg smoothed aggregation), ``direct`` (sparse LU), or ``auto`` (direct when
        the graph has at most ``direct_max_cells`` nodes).
    direct_max_cells
        Threshold for ``auto``.
    rtol
        Relative residual tolerance of CG (default 1e-6, the tolerance Circuitscape's CG stops
        at; current maps then agree with a direct solve to about 1e-6 of their maximum).

    Raises
    ------
    agglonet.errors.ConfigError
        On an unknown mode or solver.
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
    kind = _resolve_solver(solver, graph.laplacian.shape[0], direct_max_cells)
    if mode == "pairwise":
        todo = [(min(a, b), max(a, b)) for a, b in
                (pairs if pairs is not None else [(a, b) for i, a in enumerate(ids)
                                                  for b in ids[i + 1:]])]
        todo = sorted(set(todo))
        needed = sorted({k for p in todo for k in p})
    else:
        todo, needed = [], ids
    x = source_potentials(graph, solver=kind, direct_max_cells=direct_max_cells, rtol=rtol,
                          sources=needed) if needed else {}
    total = np.zeros(graph.shape)
    done: list[tuple[int, int]] = []
    if mode == "pairwise":
        for a, b in todo:
            v = x[a] - x[b]
            if np.isnan(v[graph.source_nodes[a]]):
                log.warning("sources %d and %d are not connected; no current between them", a, b)
                continue
            total += np.nan_to_num(cell_current(graph, v), nan=0.0)
            done.append((a, b))
    else:
        for k in ids:
            same = [j for j in ids if j != k and not np.isnan(x[j][graph.source_nodes[k]])]
            if not same:
                continue
            v = sum(x[j] for j in same) - len(same) * x[k]
            total += np.nan_to_num(cell_current(graph, v), nan=0.0)
            done.append((k, 0))
    total[graph.node_of_cell < 0] = np.nan
    return CurrentMap(current_density=total, pairs=tuple(done), mode=mode, solver=kind)


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
