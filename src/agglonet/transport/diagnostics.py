"""Diagnostics of a road network against the cluster's seats: gaps a reader must know about.

Three checks, written into ``resources/{cluster}/road_network_report.json`` (key
``diagnostics``) and the log of rule ``build_road_network``:

* **seats far from the network**: the distance from each seat to the nearest node of the
  travel-time graph (the node the OD stage snaps it to); a seat farther than
  ``max_seat_distance_km`` is *off the network*, and the OD stage
  (:func:`agglonet.transport.od.compute_od` with ``max_access_m``) leaves its pairs unreachable
  instead of inventing a long walk;
* **seats in another component**: the weakly connected component of the raw network (before the
  largest strongly connected component was kept) that holds the seat's nearest raw node; a seat
  whose component differs from the core city's (an island road network such as Hong Kong's or
  Macau's in the offline ``scgraph`` data) is listed — its OD times run over the nearest node of
  the kept network instead;
* **long detours**: city pairs whose network distance (shortest path on the travel-time graph,
  plus the two access legs) exceeds ``detour_ratio`` × the straight-line distance — in the
  offline data usually a missing bridge (the Jiangyin Yangtze bridge, the Humen crossing).
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
from pyproj import Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from agglonet.config import default
from agglonet.crs import require_crs
from agglonet.errors import DataError
from agglonet.transport.od import graph_to_csr, network_od, snap_to_nodes
from agglonet.transport.surface import core_seat

logger = logging.getLogger(__name__)


def raw_components(raw: nx.MultiDiGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weakly connected components of a raw road graph, numbered by size (0 = largest).

    Returns
    -------
    (node_ids, xy, label)
        Node ids, their coordinates in the raw graph's CRS, and each node's component number
        (ties in size broken by the smallest node id, so the numbering is deterministic).
    """
    node_ids = np.array(sorted(raw.nodes))
    index = {n: i for i, n in enumerate(node_ids)}
    pairs = np.array([(index[a], index[b]) for a, b in raw.edges()], dtype=np.int64
                     ).reshape(-1, 2)
    n = len(node_ids)
    adjacency = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = connected_components(adjacency, directed=True, connection="weak")
    sizes = np.bincount(label)
    first = np.full(len(sizes), n, dtype=np.int64)
    np.minimum.at(first, label, np.arange(n))
    rank = np.empty(len(sizes), dtype=np.int64)
    rank[np.lexsort((first, -sizes))] = np.arange(len(sizes))
    xy = np.array([[raw.nodes[i]["x"], raw.nodes[i]["y"]] for i in node_ids], dtype=float)
    return node_ids, xy, rank[label]


def _names(seats: gpd.GeoDataFrame) -> list[str]:
    col = "name_en" if "name_en" in seats.columns else "adcode"
    return [str(v) for v in seats[col]]


def network_diagnostics(
    raw: nx.MultiDiGraph,
    G: nx.MultiDiGraph,
    seats: gpd.GeoDataFrame,
    *,
    core_city: str | int | None = None,
    max_seat_distance_km: float | None = None,
    detour_ratio: float | None = None,
) -> dict[str, Any]:
    """Check the seats against the road network (see the module docstring).

    Parameters
    ----------
    raw
        The raw road graph as loaded (``x``/``y`` in ``raw.graph["crs"]``).
    G
        The travel-time graph (largest strongly connected component, working CRS).
    seats
        Seat points with ``adcode`` (and ``name_en``, ``population`` for the core city).
    core_city
        ``transport.core_city`` (``None``: the most populous seat).
    max_seat_distance_km
        A seat farther than this from the nearest node of ``G`` is off the network
        (``roads.diagnostics.max_seat_distance_km`` when ``None``).
    detour_ratio
        Pairs whose network / straight-line distance exceeds this are listed
        (``roads.diagnostics.detour_ratio`` when ``None``).

    Returns
    -------
    dict
        ``seats`` (one record per seat: ``adcode``, ``name``, ``snap_distance_m``,
        ``component``, ``same_component_as_core``, ``off_network``), ``core_adcode``,
        ``off_network`` and ``other_component`` (adcodes), ``long_detours`` (pairs, worst
        first), the thresholds, and ``raw_components``.

    Raises
    ------
    DataError
        If a threshold is not positive or there are no seats.
    """
    if max_seat_distance_km is None:
        max_seat_distance_km = float(default("roads", "diagnostics", "max_seat_distance_km"))
    if detour_ratio is None:
        detour_ratio = float(default("roads", "diagnostics", "detour_ratio"))
    if max_seat_distance_km <= 0 or detour_ratio <= 0:
        raise DataError(f"roads.diagnostics thresholds must be > 0, got max_seat_distance_km="
                        f"{max_seat_distance_km}, detour_ratio={detour_ratio}")
    if len(seats) == 0:
        raise DataError("no seats to check against the road network")
    crs = G.graph["crs"]
    seats = require_crs(seats, what="seats").to_crs(crs).sort_values("adcode")
    seats = seats.reset_index(drop=True)
    codes = seats["adcode"].astype(str).tolist()
    names = _names(seats)
    xy = np.column_stack([seats.geometry.x, seats.geometry.y])

    # 1. distance to the travel-time graph (what the OD stage snaps to)
    csr = graph_to_csr(G, weight="length", length="length")
    node_row, snap_m = snap_to_nodes(xy, csr)
    off = snap_m > max_seat_distance_km * 1000.0

    # 2. components of the raw network
    raw_ids, raw_xy, label = raw_components(raw)
    to_g = Transformer.from_crs(raw.graph["crs"], crs, always_xy=True)
    rx, ry = to_g.transform(raw_xy[:, 0], raw_xy[:, 1])
    _, nearest = cKDTree(np.column_stack([rx, ry])).query(xy)
    seat_comp = label[nearest]
    core = str(core_seat(seats, core_city)["adcode"].iloc[0])
    core_comp = int(seat_comp[codes.index(core)])
    other = seat_comp != core_comp

    # 3. detours on the graph, between on-network seats (length-weighted shortest paths)
    _, length_m = network_od(csr, node_row)
    network_km = (length_m + snap_m[:, None] + snap_m[None, :]) / 1000.0
    euclid_km = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1]) / 1e3
    detours = []
    for i in range(len(codes)):
        for j in range(i + 1, len(codes)):
            if off[i] or off[j] or not np.isfinite(network_km[i, j]) or euclid_km[i, j] <= 0:
                continue
            ratio = network_km[i, j] / euclid_km[i, j]
            if ratio > detour_ratio:
                detours.append({"a_adcode": codes[i], "b_adcode": codes[j], "a_name": names[i],
                                "b_name": names[j], "network_km": round(network_km[i, j], 3),
                                "euclid_km": round(euclid_km[i, j], 3),
                                "ratio": round(ratio, 4)})
    detours.sort(key=lambda d: (-d["ratio"], d["a_adcode"], d["b_adcode"]))

    records = [{"adcode": c, "name": nm, "snap_distance_m": round(float(d), 1),
                "component": int(k), "same_component_as_core": not bool(o),
                "off_network": bool(f)}
               for c, nm, d, k, o, f in zip(codes, names, snap_m, seat_comp, other, off,
                                             strict=True)]
    sizes = np.bincount(label)
    out = {
        "max_seat_distance_km": max_seat_distance_km,
        "detour_ratio": detour_ratio,
        "core_adcode": core,
        "seats": records,
        "off_network": [c for c, f in zip(codes, off, strict=True) if f],
        "other_component": [c for c, o in zip(codes, other, strict=True) if o],
        "long_detours": detours,
        "raw_components": {"count": int(len(sizes)),
                           "largest_nodes": int(sizes.max()) if len(sizes) else 0,
                           "core_component_nodes": int(sizes[core_comp])},
    }
    _log(out, names=dict(zip(codes, names, strict=True)))
    return out


def _log(diag: dict[str, Any], *, names: dict[str, str]) -> None:
    by_code = {r["adcode"]: r for r in diag["seats"]}
    for code in diag["off_network"]:
        logger.warning("seat %s (%s) is %.1f km from the nearest road node, more than "
                       "roads.diagnostics.max_seat_distance_km=%g: off the network, its OD pairs "
                       "will be unreachable", names[code], code,
                       by_code[code]["snap_distance_m"] / 1000.0, diag["max_seat_distance_km"])
    for code in diag["other_component"]:
        logger.warning("seat %s (%s) lies by road component %d, not joined to the core city's "
                       "(component %d): its OD times run over the nearest node of the kept "
                       "network, %.1f km away", names[code], code, by_code[code]["component"],
                       by_code[diag["core_adcode"]]["component"],
                       by_code[code]["snap_distance_m"] / 1000.0)
    for d in diag["long_detours"]:
        logger.warning("long detour %s–%s: %.1f km by road for %.1f km straight (ratio %.2f > "
                       "%g); a missing bridge or link?", d["a_name"], d["b_name"],
                       d["network_km"], d["euclid_km"], d["ratio"], diag["detour_ratio"])
    logger.info("network diagnostics: %d seats, %d off the network, %d in another component, "
                "%d long detours", len(diag["seats"]), len(diag["off_network"]),
                len(diag["other_component"]), len(diag["long_detours"]))
