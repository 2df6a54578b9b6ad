"""Origin–destination travel times and network distances between city seats.

One compiled Dijkstra pass per seat (``scipy.sparse.csgraph.dijkstra(csr, indices=seats)``) over a
CSR matrix of edge travel times — not a networkx loop over pairs.

* Parallel edges: the CSR keeps the fastest of parallel edges (``csr_matrix`` would add them).
  Travel times below ``min_weight_s`` are clamped up to it (csgraph treats explicit zeros
  ambiguously, and zero-time edges would make the predecessor order ill-defined).
* Network distance ``D_ij`` is the length **along the fastest path** (not the shortest-length
  path): the predecessor tree of the time-Dijkstra is walked back from every target seat, adding
  the length of the very edge the time matrix chose between each pair of nodes.
* Seats are snapped to the nearest graph node (``scipy.spatial.cKDTree``) in the working CRS;
  the access leg (seat → node and node → seat) is timed at the off-road speed and included in
  ``T_ij`` and ``D_ij`` at both ends, so ``T_ij`` is seat-to-seat.
* Unreachable pairs are NaN and flagged in ``reachable``, never 0. A seat farther than
  ``max_access_m`` from the nearest node is *off the network*: its pairs are unreachable (with a
  warning naming it) rather than joined by a long off-road access leg.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from agglonet.crs import require_crs
from agglonet.errors import DataError, EmptyNetworkError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CsrGraph:
    """A directed road graph as CSR matrices of travel time and length (same structure).

    Attributes
    ----------
    time_s
        (n, n) CSR matrix; entry (u, v) = travel time of the fastest u→v edge, seconds.
    length_m
        (n, n) CSR matrix; entry (u, v) = length of that same edge, metres.
    node_ids
        Graph node id of each row.
    xy
        (n, 2) node coordinates (graph CRS).
    """

    time_s: csr_matrix
    length_m: csr_matrix
    node_ids: np.ndarray
    xy: np.ndarray
    _keys: np.ndarray = field(repr=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes of the graph."""
        return int(self.time_s.shape[0])

    def edge_lengths(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Length of the stored edge u→v for arrays of row indices (vectorised lookup)."""
        pos = np.searchsorted(self._keys, u.astype(np.int64) * self.n_nodes + v)
        return self.length_m.data[pos]


def csr_from_arrays(
    u: np.ndarray, v: np.ndarray, time_s: np.ndarray, length_m: np.ndarray, *, n_nodes: int,
    node_ids: np.ndarray | None = None, xy: np.ndarray | None = None,
    min_weight_s: float = 1e-3,
) -> CsrGraph:
    """Build a :class:`CsrGraph` from edge arrays (row indices), keeping the fastest parallel edge.

    Parameters
    ----------
    u, v
        Edge tails and heads as row indices 0..n_nodes-1.
    time_s, length_m
        Travel time and length per edge.
    n_nodes
        Number of nodes.
    node_ids, xy
        Optional node ids and coordinates (default: ``arange``, NaN).
    min_weight_s
        Travel times below this are clamped up to it (must be > 0).

    Raises
    ------
    EmptyNetworkError
        If there is no edge.
    """
    if len(u) == 0:
        raise EmptyNetworkError("road graph has no edge; cannot build the OD matrix")
    if min_weight_s <= 0:
        raise ValueError(f"min_weight_s must be > 0, got {min_weight_s}")
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    t = np.maximum(np.asarray(time_s, dtype=float), min_weight_s)
    length = np.asarray(length_m, dtype=float)
    keep = u != v  # self-loops never lie on a shortest path
    u, v, t, length = u[keep], v[keep], t[keep], length[keep]
    # sort by (u, v, time, length): the first row of each (u, v) group is the fastest edge
    order = np.lexsort((length, t, v, u))
    u, v, t, length = u[order], v[order], t[order], length[order]
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, t, length = u[first], v[first], t[first], length[first]
    # rows sorted by u then v: the CSR data arrays follow this exact order
    indptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.add.at(indptr, u + 1, 1)
    indptr = np.cumsum(indptr)
    time_csr = csr_matrix((t, v, indptr), shape=(n_nodes, n_nodes))
    len_csr = csr_matrix((length, v.copy(), indptr.copy()), shape=(n_nodes, n_nodes))
    return CsrGraph(
        time_s=time_csr, length_m=len_csr,
        node_ids=np.arange(n_nodes) if node_ids is None else np.asarray(node_ids),
        xy=np.full((n_nodes, 2), np.nan) if xy is None else np.asarray(xy, dtype=float),
        _keys=u * n_nodes + v,
    )


def graph_to_csr(
    G: nx.MultiDiGraph, *, weight: str = "travel_time", length: str = "length",
    min_weight_s: float = 1e-3,
) -> CsrGraph:
    """Convert an osmnx-style MultiDiGraph to a :class:`CsrGraph`.

    Parameters
    ----------
    G
        Graph with node ``x``/``y`` and edge ``weight`` (seconds) and ``length`` (metres).
    weight, length
        Edge attribute names.
    min_weight_s
        Clamp for zero or tiny travel times.
    """
    node_ids = np.array(sorted(G.nodes))
    index = {n: i for i, n in enumerate(node_ids)}
    # one pass over the edges into Python lists, then arrays (element-wise numpy writes are
    # several times slower)
    rows = [(index[a], index[b], d[weight], d[length]) for a, b, d in G.edges(data=True)]
    u = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    v = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
    t = np.fromiter((r[2] for r in rows), dtype=float, count=len(rows))
    ln = np.fromiter((r[3] for r in rows), dtype=float, count=len(rows))
    xy = np.array([[G.nodes[n]["x"], G.nodes[n]["y"]] for n in node_ids], dtype=float)
    return csr_from_arrays(u, v, t, ln, n_nodes=len(node_ids), node_ids=node_ids, xy=xy,
                           min_weight_s=min_weight_s)


def network_od(csr: CsrGraph, sources: np.ndarray,
               targets: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fastest-path travel time and the length of that path between node rows.

    Parameters
    ----------
    csr
        The CSR graph.
    sources
        Row indices of origins (one Dijkstra each, in a single csgraph call).
    targets
        Row indices of destinations (default: ``sources``).

    Returns
    -------
    (time_s, length_m)
        Arrays of shape (len(sources), len(targets)); unreachable pairs are ``inf``.
    """
    sources = np.asarray(sources, dtype=np.int64)
    targets = sources if targets is None else np.asarray(targets, dtype=np.int64)
    dist, pred = dijkstra(csr.time_s, directed=True, indices=sources, return_predecessors=True)
    time_s = dist[:, targets]
    # walk every (source, target) path back through the predecessor tree at once,
    # adding the length of the edge the time matrix chose (hand-rolled: csgraph has no
    # "length along the tree" routine; vectorised over all pairs, one step per hop)
    rows = np.repeat(np.arange(len(sources)), len(targets))
    cur = np.tile(targets, len(sources))
    length = np.zeros(cur.shape)
    active = np.isfinite(time_s.ravel()) & (cur != sources[rows])
    for _ in range(csr.n_nodes):
        if not active.any():
            break
        r, c = rows[active], cur[active]
        p = pred[r, c]
        length[active] += csr.edge_lengths(p, c)
        cur[active] = p
        active[active] = p != sources[r]
    length_m = length.reshape(time_s.shape)
    length_m[~np.isfinite(time_s)] = np.inf
    return time_s, length_m


def snap_to_nodes(points: gpd.GeoSeries | np.ndarray, csr: CsrGraph) -> tuple[np.ndarray,
                                                                                np.ndarray]:
    """Nearest node row and straight-line snap distance (m) for each point (same CRS)."""
    xy = (np.column_stack([points.x, points.y]) if isinstance(points, gpd.GeoSeries)
          else np.asarray(points, dtype=float))
    dist, idx = cKDTree(csr.xy).query(xy)
    return idx.astype(np.int64), dist


@dataclass
class OdResult:
    """Seat-to-seat OD matrices (ordered pairs; diagonal 0).

    ``time_min``, ``network_km`` (NaN when unreachable), ``euclid_km``, ``reachable`` (bool),
    and ``snap`` (one row per seat: ``node``, ``snap_distance_m``, ``access_leg_min``).
    """

    time_min: np.ndarray
    network_km: np.ndarray
    euclid_km: np.ndarray
    reachable: np.ndarray
    snap: pd.DataFrame


def compute_od(
    G: nx.MultiDiGraph | CsrGraph,
    seats: gpd.GeoDataFrame,
    *,
    offroad_speed_kph: float = 5.0,
    graph_crs: Any = None,
    weight: str = "travel_time",
    length: str = "length",
    max_access_m: float | None = None,
) -> OdResult:
    """Travel time and network distance between every ordered pair of seats.

    Parameters
    ----------
    G
        Travel-time graph in a metric CRS (``G.graph["crs"]``), or a prepared :class:`CsrGraph`
        (then give ``graph_crs``).
    seats
        Seat points; reprojected to the graph CRS.
    offroad_speed_kph
        Speed of the access leg between a seat and its snapped node.
    graph_crs
        CRS of a :class:`CsrGraph` input.
    weight, length
        Edge attributes of a networkx input.
    max_access_m
        A seat whose nearest node is farther than this is off the network: every pair with it
        is unreachable (NaN). ``None``: no limit.

    Returns
    -------
    OdResult

    Raises
    ------
    DataError
        If there are no seats or the off-road speed is not positive.
    """
    if offroad_speed_kph <= 0:
        raise DataError(f"offroad_speed_kph must be > 0, got {offroad_speed_kph}")
    if len(seats) == 0:
        raise DataError("no seats to compute an OD matrix for")
    csr = G if isinstance(G, CsrGraph) else graph_to_csr(G, weight=weight, length=length)
    crs = graph_crs if isinstance(G, CsrGraph) else G.graph.get("crs")
    pts = require_crs(seats, what="seats").to_crs(crs).geometry
    node, snap_m = snap_to_nodes(pts, csr)
    access_min = snap_m / (offroad_speed_kph / 3.6) / 60.0
    t_s, l_m = network_od(csr, node)
    n = len(node)
    time_min = t_s / 60.0 + access_min[:, None] + access_min[None, :]
    net_km = (l_m + snap_m[:, None] + snap_m[None, :]) / 1000.0
    reachable = np.isfinite(t_s)
    if max_access_m is not None:
        off = snap_m > max_access_m
        for i in np.flatnonzero(off):
            label = seats["adcode"].iloc[i] if "adcode" in seats.columns else i
            logger.warning("seat %s is %.1f km from the nearest road node (more than %.1f km): "
                           "off the network, its OD pairs are unreachable", label,
                           snap_m[i] / 1000.0, max_access_m / 1000.0)
        reachable[off, :] = False
        reachable[:, off] = False
    time_min[~reachable] = np.nan
    net_km[~reachable] = np.nan
    np.fill_diagonal(time_min, 0.0)
    np.fill_diagonal(net_km, 0.0)
    np.fill_diagonal(reachable, True)
    xy = np.column_stack([pts.x, pts.y])
    euclid_km = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1]) / 1e3
    snap = pd.DataFrame({"node": csr.node_ids[node], "snap_distance_m": snap_m,
                         "access_leg_min": access_min})
    n_bad = int((~reachable).sum())
    if n_bad:
        logger.warning("%d of %d ordered seat pairs are unreachable (NaN)", n_bad, n * (n - 1))
    return OdResult(time_min=time_min, network_km=net_km, euclid_km=euclid_km,
                    reachable=reachable, snap=snap)
