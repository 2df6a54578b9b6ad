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
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
from affine import Affine

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


def circuit_graph(resistance: np.ndarray, source_labels: np.ndarray) -> CircuitGraph:
    """Build the conductance graph and node Laplacian of a resistance raster.

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
    raise NotImplementedError


def source_potentials(
    graph: CircuitGraph,
    *,
    solver: str = "auto",
    direct_max_cells: int = 200_000,
    rtol: float = 1e-10,
) -> dict[int, np.ndarray]:
    """Node potentials for 1 A injected at each source, all grounded at one fixed node.

    Returns source id → node potential vector x_k (with x_k = 0 for the grounding source and
    NaN on nodes not connected to it). Pair voltages are x_a − x_b.
    """
    raise NotImplementedError


def pair_voltages(
    resistance: np.ndarray,
    source_labels: np.ndarray,
    *,
    pair: tuple[int, int],
    solver: str = "auto",
    direct_max_cells: int = 200_000,
    rtol: float = 1e-10,
) -> np.ndarray:
    """Cell voltages for 1 A injected at source ``pair[0]`` and source ``pair[1]`` grounded.

    Returns a float64 raster (V; 0 on the grounded source, NaN where impassable or not connected).
    """
    raise NotImplementedError


def cell_current(graph: CircuitGraph, voltages: np.ndarray) -> np.ndarray:
    """Cell current density (half the sum of |edge current|) from node voltages."""
    raise NotImplementedError


def cumulative_current(
    resistance: np.ndarray,
    source_labels: np.ndarray,
    *,
    pairs: list[tuple[int, int]] | None = None,
    mode: str = "pairwise",
    solver: str = "auto",
    direct_max_cells: int = 200_000,
    rtol: float = 1e-10,
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
        in turn with 1 A injected into every other source.
    solver
        ``amg`` (CG + pyamg smoothed aggregation), ``direct`` (sparse LU), or ``auto`` (direct when
        the grid has at most ``direct_max_cells`` passable cells).
    direct_max_cells
        Threshold for ``auto``.
    rtol
        Relative residual tolerance of CG.

    Raises
    ------
    agglonet.errors.ConfigError
        On an unknown mode or solver.
    agglonet.errors.EmptyNetworkError
        With fewer than two sources.
    """
    raise NotImplementedError


def pinch_points(
    current: np.ndarray,
    corridor_mask: np.ndarray,
    *,
    transform: Affine,
    crs: Any,
    quantile: float = 0.9,
    max_per_corridor: int = 1,
) -> gpd.GeoDataFrame:
    """Pinch points: cells of highest current density inside corridors.

    Cells inside corridors whose current is at or above the ``quantile`` of the current over all
    corridor cells are grouped into connected patches per corridor; each patch gives one point at
    its highest-current cell, and the ``max_per_corridor`` strongest patches of each corridor are
    kept.

    Returns
    -------
    geopandas.GeoDataFrame
        Points with ``pinch_id``, ``corridor_id``, ``current_density``, sorted by corridor then
        decreasing current.
    """
    raise NotImplementedError
