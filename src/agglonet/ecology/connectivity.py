"""Habitat-patch connectivity indices: IIC, PC, their per-patch importance dIIC/dPC, and ECA.

Follows Pascual-Hortal & Saura (2006) and Saura & Rubio (2010), the definitions Conefor uses:

* IIC = Σ_i Σ_j a_i a_j / (1 + nl_ij) / A_L², nl_ij the number of links on the topological shortest
  path (patches linked when their distance ≤ the threshold; unconnected pairs contribute 0);
* PC = Σ_i Σ_j a_i a_j p*_ij / A_L², p_ij = exp(−k d_ij) with k = −ln(p0)/d0 and p*_ij the
  maximum-product path probability (shortest path on −ln p_ij); ECA = sqrt(Σ_i Σ_j a_i a_j p*_ij);
* dI_k = 100 (I − I_{−k}) / I (I_{−k}: patch k removed, A_L unchanged); dPC_k = dPC_intra +
  dPC_flux + dPC_connector with intra = 100 a_k² / num, flux = 100 · 2 Σ_{i≠k} a_i a_k p*_ik / num,
  connector = the rest (the loss of paths between other patches that went through k).

Distances are edge-to-edge Euclidean between raster patches (:func:`edge_distances_m`).
Cost: all-pairs shortest paths by vectorised Floyd–Warshall; the n leave-one-out recomputations
share work by divide and conquer over the vertex order, O(n³ log n) in all (a few seconds for
600 patches) instead of n separate O(n³) runs.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from agglonet.errors import DataError

logger = logging.getLogger(__name__)


def edge_distances_m(labels: np.ndarray, *, cell_size_m: float) -> np.ndarray:
    """Edge-to-edge Euclidean distances between labelled raster patches.

    The distance between two unions of grid squares is reached between two cell corners (the grid
    lattice), so it is computed exactly as the smallest distance between the corner points of the
    patches' outer cells, with a k-d tree per patch.

    Parameters
    ----------
    labels
        2-D int array, 0 = no patch, 1 … n = patch ids (consecutive).
    cell_size_m
        Cell size in metres.

    Returns
    -------
    numpy.ndarray
        Symmetric (n, n) float array of distances in metres, 0 on the diagonal.
    """
    n = int(labels.max()) if labels.size else 0
    # Boundary cells: a neighbour (8-neighbourhood or outside the grid) with another label.
    lo = ndimage.minimum_filter(labels, size=3, mode="constant", cval=0)
    hi = ndimage.maximum_filter(labels, size=3, mode="constant", cval=0)
    boundary = (labels > 0) & ((lo != labels) | (hi != labels))
    trees: list[cKDTree] = []
    corners: list[np.ndarray] = []
    objects = ndimage.find_objects(labels)
    for k in range(1, n + 1):
        sl = objects[k - 1] if k - 1 < len(objects) else None
        if sl is None:
            raise DataError(
                f"patch label {k} is missing from the label raster (labels must be 1…n)")
        rows, cols = np.nonzero(boundary[sl] & (labels[sl] == k))
        rows, cols = rows + sl[0].start, cols + sl[1].start
        pts = np.concatenate([np.stack([rows + dr, cols + dc], axis=1)
                              for dr in (0, 1) for dc in (0, 1)])
        pts = np.unique(pts, axis=0).astype(float)
        corners.append(pts)
        trees.append(cKDTree(pts))
    dist = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            a, b = (i, j) if len(corners[i]) <= len(corners[j]) else (j, i)
            dist[i, j] = dist[j, i] = nearest_distance(corners[a], trees[b]) * cell_size_m
    return dist


def nearest_distance(points: np.ndarray, tree: cKDTree) -> float:
    """Smallest distance from ``points`` (an (m, 2) array) to the points of ``tree``.

    A subsample of the points first gives a distance that is attained, hence an upper bound;
    the full query then prunes every point farther than it at the top of the tree. The same
    distances as one unbounded query (each is computed the same way), 2.6 times faster on the
    55 sources of yangtze_river_delta at 250 m.
    """
    bound = float(tree.query(points[::max(1, len(points) // 32)], k=1)[0].min())
    d, _ = tree.query(points, k=1, distance_upper_bound=bound * (1 + 1e-9) + 1e-9)
    return min(float(d.min()), bound)


def decay_constant(*, probability: float, distance_m: float) -> float:
    """K of p = exp(−k d) such that p(distance_m) = probability."""
    if not 0 < probability < 1:
        raise DataError(f"dispersal probability {probability!r} must be in (0, 1)")
    if distance_m <= 0:
        raise DataError(f"dispersal distance {distance_m!r} m must be positive")
    return -math.log(probability) / distance_m


def _relax(dist: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Floyd–Warshall relaxation through ``vertices`` (in place, vectorised per vertex)."""
    for m in vertices:
        np.minimum(dist, dist[:, m, None] + dist[None, m, :], out=dist)
    return dist


def _apsp_without_each(weights: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """All-pairs shortest paths avoiding each vertex k as an intermediate, for every k.

    Floyd–Warshall does not depend on the order in which vertices are relaxed, so a divide and
    conquer over the vertex set (relax one half, recurse into the other) gives all n "without k"
    solutions in O(n³ log n) instead of n separate O(n³) runs. Hand-rolled with NumPy: no library
    offers this leave-one-out scheme.
    """
    def recurse(dist: np.ndarray, todo: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        if todo.size == 1:
            yield int(todo[0]), dist
            return
        half = todo.size // 2
        left, right = todo[:half], todo[half:]
        yield from recurse(_relax(dist.copy(), right), left)
        yield from recurse(_relax(dist.copy(), left), right)

    yield from recurse(weights.astype(float, copy=True), np.arange(weights.shape[0]))


def _link_weights(dist_m: np.ndarray, k: float) -> np.ndarray:
    """−ln p_ij = k d_ij (dense; diagonal 0)."""
    weights = k * np.asarray(dist_m, dtype=float)
    np.fill_diagonal(weights, 0.0)
    return weights


def _hop_weights(dist_m: np.ndarray, threshold_m: float) -> np.ndarray:
    """1 for a link (d ≤ threshold), inf otherwise; diagonal 0."""
    weights = np.where(np.asarray(dist_m) <= threshold_m, 1.0, np.inf)
    np.fill_diagonal(weights, 0.0)
    return weights


def _max_product_probability(dist_m: np.ndarray, k: float) -> np.ndarray:
    """p*_ij: shortest paths on −ln p_ij = k d_ij (dense graph)."""
    weights = _link_weights(dist_m, k)
    return np.exp(-_relax(weights, np.arange(weights.shape[0])))


def _topological_links(dist_m: np.ndarray, threshold_m: float) -> np.ndarray:
    """nl_ij: number of links on the topological shortest path (inf if unconnected)."""
    weights = _hop_weights(dist_m, threshold_m)
    return _relax(weights, np.arange(weights.shape[0]))


def _pc_numerator(areas: np.ndarray, pstar: np.ndarray) -> float:
    return float(areas @ pstar @ areas)


def _iic_numerator(areas: np.ndarray, nl: np.ndarray) -> float:
    with np.errstate(divide="ignore"):
        w = np.where(np.isfinite(nl), 1.0 / (1.0 + nl), 0.0)
    return float(areas @ w @ areas)


@dataclass(frozen=True)
class ConnectivityResult:
    """Landscape-level indices and per-patch importance (arrays indexed like the input patches).

    Attributes
    ----------
    pc, iic
        Probability of Connectivity and Integral Index of Connectivity (0 … 1).
    eca_km2
        Equivalent Connected Area, sqrt of the PC numerator (km² when areas are km²).
    dpc, dpc_intra, dpc_flux, dpc_connector, diic
        Per-patch importance in percent.
    """

    pc: float
    iic: float
    eca_km2: float
    dpc: np.ndarray
    dpc_intra: np.ndarray
    dpc_flux: np.ndarray
    dpc_connector: np.ndarray
    diic: np.ndarray


def connectivity_indices(
    areas_km2: np.ndarray,
    dist_m: np.ndarray,
    *,
    landscape_area_km2: float,
    probability: float,
    distance_threshold_m: float,
) -> ConnectivityResult:
    """PC, IIC, ECA and per-patch dPC (intra/flux/connector) and dIIC.

    Parameters
    ----------
    areas_km2
        Patch areas (attribute a_i), length n.
    dist_m
        (n, n) edge-to-edge distances in metres.
    landscape_area_km2
        A_L, the area of the study region.
    probability, distance_threshold_m
        p0 and d0 of the negative-exponential dispersal kernel (p(d0) = p0); d0 is also the IIC
        link threshold.

    Returns
    -------
    ConnectivityResult

    Raises
    ------
    DataError
        Empty patch set, mismatched shapes or a non-positive landscape area.

    Examples
    --------
    Two patches of 1 km² at distance d0 with p0 = 0.5 in a 10 km² landscape:
    PC = (1 + 1 + 2·0.5) / 100 = 0.03.

    >>> r = connectivity_indices(np.array([1.0, 1.0]), np.array([[0, 5e3], [5e3, 0]]),
    ...                          landscape_area_km2=10, probability=0.5, distance_threshold_m=5e3)
    >>> round(r.pc, 6)
    0.03
    """
    areas = np.asarray(areas_km2, dtype=float)
    n = areas.size
    if n == 0:
        raise DataError("no habitat patch to compute connectivity on")
    if dist_m.shape != (n, n):
        raise DataError(f"distance matrix shape {dist_m.shape} does not match {n} patches")
    if landscape_area_km2 <= 0:
        raise DataError(f"landscape area {landscape_area_km2!r} km² must be positive")
    k = decay_constant(probability=probability, distance_m=distance_threshold_m)
    pstar = _max_product_probability(dist_m, k)
    nl = _topological_links(dist_m, distance_threshold_m)
    pc_num = _pc_numerator(areas, pstar)
    iic_num = _iic_numerator(areas, nl)
    al2 = landscape_area_km2**2

    dpc = np.zeros(n)
    diic = np.zeros(n)
    for idx, cost in _apsp_without_each(_link_weights(dist_m, k)):
        keep = np.arange(n) != idx
        without = _pc_numerator(areas[keep], np.exp(-cost[np.ix_(keep, keep)]))
        dpc[idx] = 100.0 * (pc_num - without) / pc_num
    for idx, hops in _apsp_without_each(_hop_weights(dist_m, distance_threshold_m)):
        keep = np.arange(n) != idx
        without = _iic_numerator(areas[keep], hops[np.ix_(keep, keep)])
        diic[idx] = 100.0 * (iic_num - without) / iic_num
    intra = 100.0 * areas**2 / pc_num
    flux = 100.0 * 2.0 * (areas * (pstar @ areas) - areas**2) / pc_num
    connector = np.clip(dpc - intra - flux, 0.0, None)  # ≥ 0 up to rounding
    return ConnectivityResult(
        pc=pc_num / al2,
        iic=iic_num / al2,
        eca_km2=math.sqrt(pc_num),
        dpc=dpc,
        dpc_intra=intra,
        dpc_flux=flux,
        dpc_connector=connector,
        diic=diic,
    )
