"""Travel-time road graphs as arrays: the fast path for province-size networks.

:func:`agglonet.transport.graph.prepare_road_graph` works on a networkx ``MultiDiGraph``: a
Python dict per node and per edge. That is fine for the scgraph clips and OSM extracts of a
city cluster (10⁴–10⁵ nodes), but a province PBF (Henan: 2–3 million road nodes) needs several
GB for the graph alone, and osmnx's simplification walks it node by node in Python.
:func:`prepare_road_arrays` runs the same chain on edge arrays (NumPy, SciPy), with the same
rules and the same result:

1. keep the configured ``highway`` classes (an edge is kept when any of its classes is kept);
   drop nodes left without an edge;
2. speed per edge from a parsed ``maxspeed``, else the class default (each distinct tag value is
   parsed once by :func:`agglonet.transport.speeds.parse_maxspeed`); travel time = length /
   speed per OSM segment;
3. simplify the topology with osmnx's endpoint rules (``osmnx.simplify_graph`` with
   ``node_attrs_include=["place"]``, ``edge_attrs_differ=["highway"]``): a node is kept when it
   has a self-loop, no way in or no way out, not exactly two neighbours with two or four edges,
   a ``place`` tag, or edges of different classes; chains of the other nodes are merged into one
   edge whose length and travel time are the sums, in path order, of its segments, and whose
   speed is the segments' speed when they agree, else length / time; rings without an endpoint
   are dropped (osmnx's ``remove_rings``);
4. keep the largest strongly connected component (``scipy.sparse.csgraph``; ties broken as
   :func:`agglonet.transport.graph.largest_strong_component` does);
5. project the node coordinates to the working CRS (pyproj, as ``osmnx.project_graph``).

One rule is stricter than osmnx: a node with parallel duplicates among its edges (two ways
digitised between the same pair of nodes) stays an endpoint, where osmnx would merge through it
and keep one of the duplicates. On networks without such duplicates the two paths give the same
nodes, edges, lengths and travel times (``tests/transport/test_road_arrays.py``), hence the
same OD matrix. The merged edges carry no geometry: this path feeds the OD matrix
(:meth:`RoadArrays.to_csr`), not the map layers. ``benchmarks/province_roads.py`` measures both
paths on a generated province-size network.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pyproj import CRS, Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from agglonet.config import default
from agglonet.crs import CHINA_ALBERS, working_crs
from agglonet.errors import DataError, EmptyNetworkError
from agglonet.osm import tag_values
from agglonet.transport.od import CsrGraph, csr_from_arrays
from agglonet.transport.speeds import class_speed_kph, parse_maxspeed

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoadArrays:
    """A directed travel-time road graph, one array entry per node and per edge.

    Attributes
    ----------
    node_ids
        Node ids (OSM ids), sorted ascending; edge ends index into this array.
    x, y
        Node coordinates in ``crs``.
    crs
        CRS of ``x`` and ``y``.
    u, v
        Edge tail and head, as positions in ``node_ids``.
    length_m, travel_time_s, speed_kph
        Per edge: length (m), travel time (s) and speed (km/h; length / time for merged
        segments of different speeds).
    highway
        Per edge: the ``highway`` tag as read.
    """

    node_ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    crs: Any
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    travel_time_s: np.ndarray
    speed_kph: np.ndarray
    highway: np.ndarray

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return len(self.u)

    def to_csr(self, *, min_weight_s: float = 1e-3) -> CsrGraph:
        """Return the graph as a :class:`agglonet.transport.od.CsrGraph` for ``compute_od``.

        Rows follow the sorted node ids, as :func:`agglonet.transport.od.graph_to_csr` orders
        them, so both paths give the same matrices.
        """
        return csr_from_arrays(self.u, self.v, self.travel_time_s, self.length_m,
                               n_nodes=self.n_nodes, node_ids=self.node_ids,
                               xy=np.column_stack([self.x, self.y]), min_weight_s=min_weight_s)

    def edges_frame(self) -> pd.DataFrame:
        """Return the edges as a table.

        Columns ``u``, ``v`` (node ids), ``highway``, ``length``, ``travel_time``,
        ``speed_kph`` (osmnx attribute names).
        """
        return pd.DataFrame({
            "u": self.node_ids[self.u], "v": self.node_ids[self.v], "highway": self.highway,
            "length": self.length_m, "travel_time": self.travel_time_s,
            "speed_kph": self.speed_kph})


def _factorize(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes and unique values of a tag column; lists (unhashable) are compared as tuples."""
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
    except TypeError:
        hashable = [tuple(v) if isinstance(v, list) else v for v in values]
        codes, uniques = pd.factorize(pd.Series(hashable, dtype=object), use_na_sentinel=False)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object)


def edge_speeds_kph(
    highway: pd.Series, maxspeed: pd.Series | None, *,
    speeds_kph: Mapping[str, float] | None = None, fallback_kph: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Speed per edge and whether it came from ``maxspeed`` (vectorised ``add_speeds_and_times``).

    Each distinct ``highway`` and ``maxspeed`` value is parsed once; see
    :func:`agglonet.transport.speeds.add_speeds_and_times` for the rules.

    Returns
    -------
    (speed_kph, from_maxspeed)
    """
    speeds = dict(default("roads", "speeds_kph") if speeds_kph is None else speeds_kph)
    fallback = float(min(speeds.values()) if fallback_kph is None else fallback_kph)
    hw_codes, hw_values = _factorize(highway)
    class_kph = np.array([class_speed_kph(h, speeds_kph=speeds, fallback_kph=fallback)
                          for h in hw_values], dtype=float)
    speed = class_kph[hw_codes]
    from_maxspeed = np.zeros(len(speed), dtype=bool)
    if maxspeed is not None:
        ms_codes, ms_values = _factorize(maxspeed)
        parsed = np.array([np.nan if (p := parse_maxspeed(m)) is None else p
                           for m in ms_values], dtype=float)
        edge_parsed = parsed[ms_codes]
        from_maxspeed = ~np.isnan(edge_parsed)
        speed = np.where(from_maxspeed, edge_parsed, speed)
    return speed, from_maxspeed


def _endpoints(u: np.ndarray, v: np.ndarray, n: int, hw_codes: np.ndarray,
               keep_nodes: np.ndarray, *, parallel: bool) -> np.ndarray:
    """Flag the nodes osmnx's simplification keeps (endpoint rules: see the module docstring).

    With ``parallel``, also every node with parallel duplicates among its edges.
    """
    indeg = np.bincount(v, minlength=n)
    outdeg = np.bincount(u, minlength=n)
    degree = indeg + outdeg
    ends = (indeg == 0) | (outdeg == 0) | keep_nodes
    ends[u[u == v]] = True                                            # self-loop
    # distinct neighbours (in or out)
    pair = np.unique(np.concatenate([u * n + v, v * n + u]))
    n_neighbours = np.bincount(pair // n, minlength=n)
    ends |= ~((n_neighbours == 2) & ((degree == 2) | (degree == 4)))
    # edges of different classes meet here
    node_class = np.unique(np.concatenate([u, v]) * (hw_codes.max() + 1)
                           + np.concatenate([hw_codes, hw_codes]))
    ends |= np.bincount(node_class // (hw_codes.max() + 1), minlength=n) > 1
    if not parallel:
        return ends
    # parallel duplicates (u, v) at either end
    key = u * n + v
    order = np.sort(key)
    dup = order[1:][order[1:] == order[:-1]]
    ends[dup // n] = True
    ends[dup % n] = True
    return ends


def _simplify(u: np.ndarray, v: np.ndarray, length: np.ndarray, time: np.ndarray,
              speed: np.ndarray, hw_codes: np.ndarray, ends: np.ndarray,
              ) -> tuple[np.ndarray, ...]:
    """Merge chains of non-endpoint nodes; returns the merged edge arrays.

    Hand-rolled with NumPy (osmnx walks the graph in Python; networkx has no chain contraction):
    every edge into a through node points to the edge leaving it on the other side, and all
    chains are followed at once, one segment per step.
    """
    n = len(ends)
    m = len(u)
    # out-edges of each through node: it has one (one-way road) or two (two-way road)
    by_tail = np.argsort(u, kind="stable")
    first_out = np.full(n, -1, dtype=np.int64)
    second_out = np.full(n, -1, dtype=np.int64)
    tails = u[by_tail]
    start = np.searchsorted(tails, np.arange(n), side="left")
    count = np.bincount(u, minlength=n)
    has1 = count >= 1
    first_out[has1] = by_tail[start[has1]]
    has2 = count >= 2
    second_out[has2] = by_tail[start[has2] + 1]
    # next edge after e = (p → x) when x is a through node: the out-edge of x not back to p
    nxt = np.full(m, -1, dtype=np.int64)
    through = ~ends[v]
    e = np.flatnonzero(through)
    x = v[e]
    f = first_out[x]
    nxt[e] = np.where(v[f] != u[e], f, second_out[x])
    # follow every chain from an edge leaving an endpoint; sums in path order, as osmnx's sum()
    chains = np.flatnonzero(ends[u])
    cur = chains.copy()
    sum_len = np.zeros(len(chains))
    sum_time = np.zeros(len(chains))
    speed0 = speed[chains]
    same_speed = np.ones(len(chains), dtype=bool)
    covered = np.zeros(m, dtype=bool)
    active = np.arange(len(chains))
    head = np.empty(len(chains), dtype=np.int64)
    while len(active):
        c = cur[active]
        covered[c] = True
        sum_len[active] += length[c]
        sum_time[active] += time[c]
        same_speed[active] &= speed[c] == speed0[active]
        done = ends[v[c]]
        head[active[done]] = v[c[done]]
        active = active[~done]
        cur[active] = nxt[cur[active]]
    merged_speed = np.where(same_speed, speed0, sum_len / sum_time * 3.6)
    # edges never reached from an endpoint lie on rings of through nodes: dropped with them
    n_ring_edges = int((~covered).sum())
    if n_ring_edges:
        logger.info("simplify: dropped %d edges on rings without an endpoint", n_ring_edges)
    return u[chains], head, sum_len, sum_time, merged_speed, hw_codes[chains]


def _drop_rings(u: np.ndarray, v: np.ndarray, hw_codes: np.ndarray, place: np.ndarray,
                alive: np.ndarray) -> np.ndarray:
    """Drop weakly connected components without an endpoint after merging.

    As osmnx's ``remove_rings``, which applies its endpoint rules to the simplified graph.
    """
    n = len(alive)
    ends = _endpoints(u, v, n, hw_codes, place, parallel=False) & alive
    graph = coo_matrix((np.ones(len(u), dtype=np.int8), (u, v)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=True, connection="weak")
    has_end = np.bincount(labels, weights=ends, minlength=labels.max() + 1) > 0
    return alive & has_end[labels]


def _largest_strong_component(
    u: np.ndarray, v: np.ndarray, length: np.ndarray, alive: np.ndarray, node_ids: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Node and edge masks of the largest strongly connected component, and the report."""
    n = len(alive)
    graph = coo_matrix((np.ones(len(u), dtype=np.int8), (u, v)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=True, connection="strong")
    labels = np.where(alive, labels, -1)
    live_labels = labels[alive]
    uniq, sizes = np.unique(live_labels, return_counts=True)
    if len(uniq) == 0:
        raise EmptyNetworkError("road graph has no nodes")
    best = np.flatnonzero(sizes == sizes.max())
    if len(best) > 1:  # ties: the component with the smallest node id as text, as networkx path
        ids_text = node_ids.astype(str)
        keys = [min(ids_text[labels == uniq[b]]) for b in best]
        keep_label = uniq[best[int(np.argmin(keys))]]
    else:
        keep_label = uniq[best[0]]
    node_keep = labels == keep_label
    edge_keep = node_keep[u] & node_keep[v]
    total_m, kept_m = float(length.sum()), float(length[edge_keep].sum())
    report = {
        "n_components": len(uniq),
        "nodes_kept": int(node_keep.sum()),
        "nodes_dropped": int(alive.sum() - node_keep.sum()),
        "edges_kept": int(edge_keep.sum()),
        "edges_dropped": int(len(u) - edge_keep.sum()),
        "length_dropped_km": (total_m - kept_m) / 1000.0,
        "length_dropped_share": (total_m - kept_m) / total_m if total_m > 0 else 0.0,
    }
    if report["edges_kept"] == 0:
        raise EmptyNetworkError(
            f"largest strongly connected component of the road graph has no edge "
            f"({int(alive.sum())} nodes, {len(uniq)} components): every road is one-way "
            f"without a way back; check the highway filter or the input")
    logger.info("largest strongly connected component: kept %d nodes, dropped %d nodes in %d "
                "other components (%.1f km of road)", report["nodes_kept"],
                report["nodes_dropped"], len(uniq) - 1, report["length_dropped_km"])
    return node_keep, edge_keep, report


def prepare_road_arrays(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    highway_classes: Iterable[str] | None = None,
    speeds_kph: Mapping[str, float] | None = None,
    nodes_crs: Any = "EPSG:4326",
    crs: Any = CHINA_ALBERS,
) -> tuple[RoadArrays, dict[str, Any]]:
    """Filter, time, simplify, keep the largest strong component and project, on arrays.

    The array counterpart of :func:`agglonet.transport.graph.prepare_road_graph` for networks
    too large for networkx (see the module docstring for the rules and the one difference).

    Parameters
    ----------
    nodes
        One row per node, indexed by node id, with ``x`` and ``y`` in ``nodes_crs`` and
        optionally ``place`` (a node with a ``place`` value is never merged away); the
        ``nodes`` table of ``osmnx.graph_to_gdfs`` or of a PBF reader.
    edges
        One row per directed OSM segment (a two-way road in both directions), with ``u`` and
        ``v`` (node ids, as columns or index levels), ``length`` (m), ``highway`` and
        optionally ``maxspeed``.
    highway_classes, speeds_kph
        As for :func:`prepare_road_graph` (config defaults when ``None``).
    nodes_crs
        CRS of the node coordinates.
    crs
        Working CRS of the result.

    Returns
    -------
    (RoadArrays, report)
        The report has the keys of :func:`prepare_road_graph`'s (``edges_raw``, ``nodes_raw``,
        ``edges_filtered``, ``components``, ``nodes``, ``edges``).

    Raises
    ------
    DataError
        If an edge names a node missing from ``nodes`` or a column is missing.
    EmptyNetworkError
        If no road is left after filtering.
    """
    edges = edges.reset_index() if not {"u", "v"} <= set(edges.columns) else edges
    missing = {"u", "v", "length", "highway"} - set(edges.columns)
    if missing or not {"x", "y"} <= set(nodes.columns):
        raise DataError(f"prepare_road_arrays needs edge columns u, v, length, highway and node "
                        f"columns x, y; missing: {sorted(missing | ({'x', 'y'} - set(nodes)))}")
    report: dict[str, Any] = {"edges_raw": len(edges), "nodes_raw": len(nodes)}
    classes = set(default("roads", "highway_classes") if highway_classes is None
                  else highway_classes)
    hw_codes, hw_values = _factorize(edges["highway"])
    keep_class = np.array([bool(classes.intersection(tag_values(h))) for h in hw_values])
    keep = keep_class[hw_codes] if len(hw_values) else np.zeros(0, dtype=bool)
    if not keep.any():
        found = sorted({c for h in hw_values for c in tag_values(h)})
        raise EmptyNetworkError(
            f"no road left after filtering {len(edges)} edges on highway classes "
            f"{sorted(classes)}; classes present: {found[:20] or 'none'}")
    kept = edges.loc[keep]
    report["edges_filtered"] = len(kept)
    logger.info("highway filter kept %d of %d edges", len(kept), len(edges))
    # node rows: the nodes that keep an edge, sorted by id (graph_to_csr's order)
    ends_ids = np.concatenate([kept["u"].to_numpy(), kept["v"].to_numpy()])
    node_ids = np.unique(ends_ids)
    if not np.isin(node_ids, nodes.index.to_numpy()).all():
        bad = node_ids[~np.isin(node_ids, nodes.index.to_numpy())][:5]
        raise DataError(f"edges name nodes missing from the node table, e.g. {list(bad)}")
    u = np.searchsorted(node_ids, kept["u"].to_numpy())
    v = np.searchsorted(node_ids, kept["v"].to_numpy())
    node_rows = nodes.loc[node_ids]
    length = kept["length"].to_numpy(dtype=float)
    speed, _ = edge_speeds_kph(kept["highway"],
                               kept["maxspeed"] if "maxspeed" in kept.columns else None,
                               speeds_kph=speeds_kph)
    time = length / (speed / 3.6)
    codes = hw_codes[keep]
    place = (node_rows["place"].notna().to_numpy() if "place" in node_rows.columns
             else np.zeros(len(node_ids), dtype=bool))
    ends = _endpoints(u, v, len(node_ids), codes, place, parallel=True)
    u, v, length, time, speed, codes = _simplify(u, v, length, time, speed, codes, ends)
    if len(u) == 0:
        raise EmptyNetworkError("road graph has no edge left after simplification: every road "
                                "lies on a closed ring without a junction")
    alive = _drop_rings(u, v, codes, place, ends)
    on = alive[u] & alive[v]
    u, v, length, time, speed, codes = u[on], v[on], length[on], time[on], speed[on], codes[on]
    node_keep, edge_keep, comp = _largest_strong_component(u, v, length, alive, node_ids)
    report["components"] = comp
    # renumber the kept nodes 0..k-1 in id order
    new_row = np.cumsum(node_keep) - 1
    xy = Transformer.from_crs(CRS.from_user_input(nodes_crs), working_crs(crs),
                              always_xy=True).transform(
        node_rows["x"].to_numpy(dtype=float)[node_keep],
        node_rows["y"].to_numpy(dtype=float)[node_keep])
    roads = RoadArrays(
        node_ids=node_ids[node_keep], x=np.asarray(xy[0]), y=np.asarray(xy[1]),
        crs=working_crs(crs), u=new_row[u[edge_keep]], v=new_row[v[edge_keep]],
        length_m=length[edge_keep], travel_time_s=time[edge_keep], speed_kph=speed[edge_keep],
        highway=hw_values[codes[edge_keep]])
    report["nodes"] = roads.n_nodes
    report["edges"] = roads.n_edges
    return roads, report
