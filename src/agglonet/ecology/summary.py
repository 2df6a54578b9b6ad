"""The ecological network's vector layers and ``ecology_summary.json``.

:func:`network_layers` assembles the five layers of ``resources/{cluster}/ecology_network.gpkg``
(``sources``, ``corridors``, ``corridor_areas``, ``pinch_points``, ``barriers``), giving layers
that could not be built (e.g. a single source: no corridor) their columns and no rows.
:func:`corridor_stage` and :func:`circuit_stage` run the corridor and circuit steps of
:mod:`agglonet.ecology.corridors`, :mod:`~agglonet.ecology.barriers` and
:mod:`~agglonet.ecology.circuit` for the rules, handling the single-source case: with one source
there is no corridor, so the stages return the cost distance from that source, an empty corridor
mask, zero current and empty layers, and log a warning rather than fail.
:func:`ecology_summary` computes the cluster-level figures.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from agglonet.ecology.network import network_layers
from agglonet.ecology.sources import add_mean_resistance
from agglonet.errors import DataError
from agglonet.graph_indices import graph_indices

logger = logging.getLogger(__name__)


def corridor_stage(
    resistance: np.ndarray,
    source_labels: np.ndarray,
    sources: gpd.GeoDataFrame,
    *,
    transform: Any,
    crs: Any,
    width_cost_units: float,
    class_quantiles: Sequence[float],
    barrier_radius_m: float,
    barrier_top_n: int,
    restored_resistance: float = 1.0,
    barrier_weight: str = "gravity",
    barrier_max_per_corridor: int | None = None,
    workers: int = 1,
) -> tuple[np.ndarray, np.ndarray, dict[str, gpd.GeoDataFrame]]:
    """Corridors, gravity classes and barriers between the sources.

    ``barrier_weight`` and ``barrier_max_per_corridor`` are the ``weight`` and
    ``max_per_corridor`` of :func:`agglonet.ecology.barriers.find_barriers`; sources sharing a
    ``core_patch_id`` (parts of one patch) get no corridor between them. ``workers``: threads
    of the per-source cost passes (:func:`agglonet.ecology.corridors.build_corridors`).

    Returns
    -------
    cost_distance : numpy.ndarray
        Multi-source cost-weighted distance (NaN where impassable).
    corridor_mask : numpy.ndarray
        int32 corridor ids (0 = none).
    layers : dict
        :func:`network_layers` with ``sources`` (``mean_resistance`` filled), ``corridors``,
        ``corridor_areas``, ``barriers`` and an empty ``pinch_points``.
    """
    from agglonet.ecology.barriers import find_barriers
    from agglonet.ecology.corridors import SurfaceStore, build_corridors, cost_allocation

    sources = add_mean_resistance(sources, source_labels, resistance)
    if len(sources) < 2:
        logger.warning(
            "only %d ecological source: no corridor, pinch point or barrier can be built; "
            "writing empty layers (lower ecology.sources.min_area_km2 or raise top_n for a "
            "network)", len(sources))
        cost_distance, _ = cost_allocation(resistance, source_labels,
                                           cell_size_m=abs(transform.a))
        return (cost_distance, np.zeros(source_labels.shape, dtype=np.int32),
                network_layers(sources=sources, crs=crs))
    core_patch_of = ({int(k): int(v) for k, v in zip(sources["source_id"],
                                                      sources["core_patch_id"], strict=True)}
                     if "core_patch_id" in sources.columns else None)
    net = build_corridors(resistance, source_labels, transform=transform, crs=crs,
                          width_cost_units=width_cost_units, class_quantiles=class_quantiles,
                          core_patch_of=core_patch_of, workers=workers)
    barriers = find_barriers(net, radius_m=barrier_radius_m, top_n=barrier_top_n,
                             restored_resistance=restored_resistance, weight=barrier_weight,
                             max_per_corridor=barrier_max_per_corridor)
    if isinstance(net.source_cwd, SurfaceStore):
        net.source_cwd.close()          # the cost surfaces written to disk
    layers = network_layers(sources=sources, crs=crs, corridors=net.corridors,
                            corridor_areas=net.corridor_areas, barriers=barriers)
    return net.cost_distance, net.corridor_mask.astype(np.int32), layers


def circuit_stage(
    resistance: np.ndarray,
    source_labels: np.ndarray,
    corridor_mask: np.ndarray,
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    transform: Any,
    crs: Any,
    mode: str,
    solver: str,
    direct_max_cells: int,
    pinch_quantile: float,
    rtol: float = 1e-6,
    processes: int = 1,
) -> tuple[np.ndarray, dict[str, gpd.GeoDataFrame]]:
    """Cumulative current density and pinch zones; returns the current and the final layers.

    In ``pairwise`` mode the pairs are those of the kept corridors. Without any corridor the
    current is 0 on passable cells (NaN elsewhere) and there is no pinch zone. ``rtol`` is
    the CG tolerance and ``processes`` the solver processes
    (:func:`agglonet.ecology.circuit.cumulative_current`); the zones are
    :func:`agglonet.ecology.circuit.pinch_zones` at ``pinch_quantile`` (layer ``pinch_points``).
    """
    from agglonet.ecology.circuit import cumulative_current, pinch_zones

    corridors = layers.get("corridors")
    pins = None
    if corridors is not None and len(corridors):
        pairs = sorted({(int(min(a, b)), int(max(a, b))) for a, b in
                        zip(corridors["from_source"], corridors["to_source"], strict=True)})
        current = cumulative_current(resistance, source_labels, pairs=pairs, mode=mode,
                                     solver=solver, direct_max_cells=direct_max_cells,
                                     rtol=rtol, processes=processes).current_density
        pins = pinch_zones(current, corridor_mask, transform=transform, crs=crs,
                           quantile=pinch_quantile)
    else:
        current = np.where(np.isfinite(resistance), 0.0, np.nan)
    given = {k: v for k, v in layers.items() if k != "pinch_points"}
    return current, network_layers(crs=crs, pinch_points=pins, **given)


def _finite_or_none(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def ecology_summary(
    *,
    sources: gpd.GeoDataFrame,
    corridors: gpd.GeoDataFrame,
    pinch_points: gpd.GeoDataFrame,
    indices: Mapping[str, float],
    landcover_source: str,
    barriers: gpd.GeoDataFrame | None = None,
) -> dict[str, Any]:
    """Cluster-level figures of the ecological network (``ecology_summary.json``).

    Parameters
    ----------
    sources, corridors, pinch_points
        Layers of ``ecology_network.gpkg`` (``pinch_points`` holds the pinch zones).
    indices
        Landscape indices from :func:`agglonet.ecology.sources.select_sources` (``pc``, ``iic``,
        ``eca_km2``, ``n_candidates``, ``candidate_area_km2``, ``landscape_area_km2``, ...).
    landcover_source
        Classification of the land-cover input (the ``classification`` tag).
    barriers
        Layer ``barriers`` (optional): ``n_barriers`` and ``n_barrier_corridors``.

    Returns
    -------
    dict
        ``n_sources``, ``source_area_km2``, ``source_area_in_cluster_km2`` and
        ``source_in_cluster_share`` (Σ ``area_in_cluster_km2`` of the sources, and its share of
        the source area), ``largest_source_share`` (largest source / source area),
        ``n_corridors``, ``corridor_length_km``, ``n_network_nodes`` (V: the patches the sources
        come from — parts of one patch cut by the maximum-area rule are one node, joined
        through habitat), ``alpha``, ``beta``, ``gamma`` (Kansky indices with V nodes and the
        L corridors as edges; null when undefined, e.g. fewer than 3 nodes), ``mu``
        (independent loops, L − V + P), ``n_components`` (P), ``iic``, ``pc``, ``eca_km2``,
        ``n_pinch_zones``, ``pinch_zone_area_km2``, ``n_barriers``, ``n_barrier_corridors``,
        ``landcover_source``,
        ``n_core_patches``, ``core_area_km2``, ``n_candidate_patches``, ``candidate_area_km2``,
        ``landscape_area_km2`` (A_L of IIC/PC/ECA), ``land_area_km2``, ``sea_area_km2``,
        ``primary_corridors``.

    Raises
    ------
    DataError
        If the sources cover more than the land of the landscape (:func:`check_source_area`).
    """
    n_sources = len(sources)
    n_corridors = len(corridors)
    node_of = _network_nodes(sources)
    n_nodes = len(set(node_of.values()))
    if n_corridors:
        u = np.array([node_of[int(a)] for a in corridors["from_source"]])
        v = np.array([node_of[int(b)] for b in corridors["to_source"]])
        adj = coo_matrix((np.ones(n_corridors), (u, v)), shape=(n_nodes, n_nodes))
        n_components = int(connected_components(adj, directed=False)[0])
    else:
        n_components = n_nodes
    gi = graph_indices(n_corridors, n_nodes, n_components)
    source_km2 = float(sources["area_km2"].sum())
    inside_km2 = (float(sources["area_in_cluster_km2"].sum())
                  if "area_in_cluster_km2" in sources.columns else math.nan)
    zone_km2 = (float(pinch_points["area_km2"].sum())
                if len(pinch_points) and "area_km2" in pinch_points.columns else 0.0)
    summary: dict[str, Any] = {
        "n_sources": n_sources,
        "source_area_km2": source_km2,
        "source_area_in_cluster_km2": _finite_or_none(inside_km2),
        "source_in_cluster_share": _finite_or_none(inside_km2 / source_km2)
        if source_km2 > 0 else None,
        "largest_source_share": float(sources["area_km2"].max()) / source_km2
        if source_km2 > 0 else None,
        "n_corridors": n_corridors,
        "corridor_length_km": float(corridors["length_km"].sum()) if n_corridors else 0.0,
        "n_network_nodes": n_nodes,
        "alpha": _finite_or_none(gi["alpha"]),
        "beta": _finite_or_none(gi["beta"]),
        "gamma": _finite_or_none(gi["gamma"]),
        "mu": _finite_or_none(gi["mu"]),
        "n_components": n_components,
        "iic": _finite_or_none(indices["iic"]),
        "pc": _finite_or_none(indices["pc"]),
        "eca_km2": _finite_or_none(indices["eca_km2"]),
        "n_pinch_zones": len(pinch_points),
        "pinch_zone_area_km2": zone_km2,
        "n_barriers": len(barriers) if barriers is not None else None,
        "n_barrier_corridors": int(barriers["corridor_id"].nunique())
        if barriers is not None and len(barriers) else 0,
        "landcover_source": landcover_source,
        "n_core_patches": indices.get("n_core_patches"),
        "core_area_km2": _finite_or_none(indices.get("core_area_km2", math.nan)),
        "n_candidate_patches": int(indices.get("n_candidates", n_sources)),
        "candidate_area_km2": _finite_or_none(indices.get("candidate_area_km2", math.nan)),
        "landscape_area_km2": _finite_or_none(indices.get("landscape_area_km2", math.nan)),
        "land_area_km2": _finite_or_none(indices.get("land_area_km2", math.nan)),
        "sea_area_km2": _finite_or_none(indices.get("sea_area_km2", math.nan)),
        "primary_corridors": int((corridors["corridor_class"] == "primary").sum())
        if n_corridors else 0,
    }
    check_source_area(summary["source_area_km2"], summary["landscape_area_km2"],
                      what="ecology summary")
    logger.info("ecology summary: %s", summary)
    return summary


def _network_nodes(sources: gpd.GeoDataFrame) -> dict[int, int]:
    """Source id → node index 0..V−1: one node per ``core_patch_id`` (per source without it).

    Nodes are numbered in the order of their smallest source id.
    """
    ids = sorted(int(s) for s in sources["source_id"])
    if "core_patch_id" not in sources.columns:
        return {s: i for i, s in enumerate(ids)}
    patch = dict(zip((int(s) for s in sources["source_id"]),
                     (int(p) for p in sources["core_patch_id"]), strict=True))
    index: dict[int, int] = {}
    for s in ids:
        index.setdefault(patch[s], len(index))
    return {s: index[patch[s]] for s in ids}


def check_source_area(source_area_km2: float, land_area_km2: float | None, *, what: str) -> None:
    """Fail when ecological sources cover more than the land they sit on.

    Sources are MSPA core patches, which never include open sea or cells without land cover, so
    their area is at most the landscape's land area (up to float rounding). A larger figure means
    sea or no-data cells were counted as habitat.

    Raises
    ------
    DataError
        If ``source_area_km2`` exceeds ``land_area_km2`` (beyond a relative 1e-9).

    Examples
    --------
    >>> check_source_area(10.0, 12.0, what="test")
    >>> check_source_area(13.0, 12.0, what="test")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    agglonet.errors.DataError: test: ecological sources cover 13 km², more than the 12 km² ...
    """
    if land_area_km2 is None or not math.isfinite(land_area_km2):
        return
    if source_area_km2 > land_area_km2 * (1 + 1e-9):
        raise DataError(f"{what}: ecological sources cover {source_area_km2:.6g} km², more than "
                        f"the {land_area_km2:.6g} km² of land with land cover in the landscape; "
                        "sea or no-data cells were taken for habitat (check sea_mask.tif and the "
                        "MSPA's missing-data cells)")
