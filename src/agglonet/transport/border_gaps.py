"""Border gaps (断头路): road ends at a city or provincial border, and what closing them is worth.

A cluster plan's task "打通断头路" (open up dead-end roads at the borders) made measurable
(``docs/metrics.md``, "Border gaps"):

1. **Road ends.** Nodes of the analysed road graph with one neighbour (a dead end of the analysed
   classes). Ends within ``edge_margin_km`` of the edge of the road area (the cluster plus
   ``retrieve.buffer_km``) are where the roads were cut when they were clipped, not ends: they
   are dropped.
2. **At a border.** An end counts when another city's region (:mod:`agglonet.transport.borders`)
   lies within ``border_distance_km`` and at least one of the two cities is a member.
3. **Across it.** The end is paired with the nearest point of a road lying in another city
   within ``max_gap_km`` (the road pieces of each city, the end's own edge excluded); a point
   within 50 m of a node is that node. The pair is a *gap* when the two are not connected
   nearby: the fastest network time between them, either way, is at least
   ``min_detour_ratio`` × the time of the new link. Two ends that pick each other are one gap.
4. **Its value.** The new link (straight, ``gap_m`` long, at ``link_speed_kph`` — by default the
   slower of the two roads it joins) is added and every OD pair recomputed without rerunning
   the OD matrix: with ``a`` the road end and ``b`` the point across,
   T'_ij = min(T_ij, d(i, a) + t_link + d(b, j), d(i, b) + t_link + d(a, j)),
   where d(i, ·) comes from the seats' Dijkstra trees and d(a, ·), d(b, ·) from forward
   Dijkstra passes from the road end and from the two nodes u, v of the road across (b, a node
   of it or a point inside it, is reached through u and v in proportion to its position along
   the road), all gaps' sources in one chunked csgraph call. ΔT_ij = T_ij − T'_ij; the gap's
   value is Σ ΔT_ij · R_ij over the pairs that gain, R_ij the gravity linkage of ``od.csv``.
   Gaps are ranked by it (then by the total time saved, the gap length and the end's node id).

On the offline ``scgraph`` network (main roads, simplified, no classes) an end is often where the
package's data stop, not a road that ends: the table says so in ``note`` and ``quality``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry.base import BaseGeometry

from agglonet.crs import WGS84, require_crs
from agglonet.errors import DataError
from agglonet.osm import tag_values
from agglonet.outputs import BORDER_GAP_COLUMNS
from agglonet.transport.borders import (
    add_od_border_columns,
    border_regions,
    edge_line,
    neighbour_cities,
    od_border_crossings,
    region_of,
)
from agglonet.transport.od import CsrGraph, graph_to_csr, snap_to_nodes

logger = logging.getLogger(__name__)

#: Columns of ``border_gaps.csv`` and the ``border_gaps`` layer (before the quality labels).
GAP_COLUMNS = BORDER_GAP_COLUMNS
#: ``note`` of every gap by ``roads.source`` (none for OSM roads with their classes).
GAP_NOTES: dict[str, str] = {
    "scgraph": ("scgraph roads: simplified main roads without classes; an end may be where the "
                "package's data stop, and a gap is what the simplified network allows"),
    "proxy": "synthetic proxy roads: the gap illustrates the method, it is not a real road end",
}
#: A target point this close to a node of its road (metres) is that node: the scgraph data round
#: coordinates to 0.001° (about 100 m), so nearer than this a node and a point are one place.
SNAP_TO_NODE_M = 50.0
#: Sources of the Dijkstra passes run at once (bounds the memory of the distance rows).
_DIJKSTRA_CHUNK = 64


# ---------------------------------------------------------------------------------- road ends
def undirected_links(csr: CsrGraph) -> tuple[np.ndarray, np.ndarray]:
    """Return the unique node-row pairs (a < b) joined by an edge in either direction."""
    pattern = (csr.time_s != 0).astype(np.int8)
    sym = coo_matrix(pattern + pattern.T)
    keep = sym.row < sym.col
    order = np.lexsort((sym.col[keep], sym.row[keep]))
    return sym.row[keep][order].astype(np.int64), sym.col[keep][order].astype(np.int64)


def road_ends(csr: CsrGraph) -> np.ndarray:
    """Rows of the nodes with exactly one neighbour (dead ends), ascending."""
    a, b = undirected_links(csr)
    degree = np.bincount(np.concatenate([a, b]), minlength=csr.n_nodes)
    return np.flatnonzero(degree == 1)


def _road_pieces(lines: np.ndarray, regions: gpd.GeoDataFrame, *, rows: np.ndarray
                 ) -> pd.DataFrame:
    """Cut the road lines ``rows`` by the regions: ``line``, ``region``, ``geometry`` per piece."""
    tree = shapely.STRtree(regions.geometry.values)
    li, ri = tree.query(lines[rows], predicate="intersects")
    li = rows[li]
    pieces = shapely.intersection(lines[li], regions.geometry.values[ri])
    keep = ~shapely.is_empty(pieces) & (shapely.length(pieces) > 0)
    return pd.DataFrame({"line": li[keep], "region": ri[keep], "geometry": pieces[keep]})


def gap_candidates(
    G: nx.MultiDiGraph,
    csr: CsrGraph,
    regions: gpd.GeoDataFrame,
    *,
    area: BaseGeometry | None,
    border_distance_m: float,
    max_gap_m: float,
    edge_margin_m: float,
) -> pd.DataFrame:
    """Road ends at a border paired with the nearest road across it (steps 1–3, no time test).

    Returns
    -------
    pandas.DataFrame
        One row per end: ``end`` (node row), ``end_region``, ``other_region``, ``u``, ``v``
        (rows of the target road, its geometry running u → v), ``fraction`` (position of the
        target along it, 0 at u), ``target`` (node row when the target is a node, else −1),
        ``gap_m``, ``target_x``, ``target_y``; sorted by end.
    """
    empty = pd.DataFrame(columns=["end", "end_region", "other_region", "u", "v", "fraction",
                                  "target", "gap_m", "target_x", "target_y"])
    ends = road_ends(csr)
    xy = csr.xy[ends]
    if area is not None and len(ends):
        ends = ends[shapely.distance(shapely.points(xy), area.boundary) > edge_margin_m]
        xy = csr.xy[ends]
    own = region_of(xy, regions)
    ends, xy, own = ends[own >= 0], xy[own >= 0], own[own >= 0]
    if not len(ends):
        return empty
    points = shapely.points(xy)
    # step 2: another city within border_distance_m
    pi, ri = shapely.STRtree(regions.geometry.values).query(points, predicate="dwithin",
                                                            distance=border_distance_m)
    near = np.zeros(len(ends), dtype=bool)
    near[np.unique(pi[ri != own[pi]])] = True
    ends, xy, own, points = ends[near], xy[near], own[near], points[near]
    if not len(ends):
        return empty
    # step 3: the nearest road piece of another city, the end's own edge excluded
    a, b = undirected_links(csr)
    ids = csr.node_ids
    lines = np.array([edge_line(G, ids[p], ids[q]) for p, q in zip(a, b, strict=True)],
                     dtype=object)
    # cut by the city polygons only the roads within reach of an end (polygon cuts are costly)
    _, near_lines = shapely.STRtree(lines).query(points, predicate="dwithin",
                                                 distance=max_gap_m)
    pieces = _road_pieces(lines, regions, rows=np.unique(near_lines))
    if pieces.empty:
        return empty
    qi, ki = shapely.STRtree(pieces["geometry"].to_numpy()).query(
        points, predicate="dwithin", distance=max_gap_m)
    line_of = pieces["line"].to_numpy()[ki]
    region_of_piece = pieces["region"].to_numpy()[ki]
    member = regions["member"].to_numpy(dtype=bool)
    ok = ((region_of_piece != own[qi]) & (a[line_of] != ends[qi]) & (b[line_of] != ends[qi])
          & (member[own[qi]] | member[region_of_piece]))
    qi, ki, line_of, region_of_piece = qi[ok], ki[ok], line_of[ok], region_of_piece[ok]
    if not len(qi):
        return empty
    dist = shapely.distance(points[qi], pieces["geometry"].to_numpy()[ki])
    best = pd.DataFrame({"q": qi, "k": ki, "line": line_of, "region": region_of_piece,
                         "dist": dist}).sort_values(["q", "dist", "line", "k"])
    best = best.drop_duplicates("q").reset_index(drop=True)
    q = best["q"].to_numpy()
    link = shapely.shortest_line(points[q], pieces["geometry"].to_numpy()[best["k"].to_numpy()])
    target_xy = shapely.get_coordinates(link)[1::2]
    parent = lines[best["line"].to_numpy()]
    along_m = shapely.line_locate_point(parent, shapely.points(target_xy))
    length_m = shapely.length(parent)
    u, v = a[best["line"].to_numpy()], b[best["line"].to_numpy()]
    to_v = length_m - along_m
    target = np.where((along_m <= SNAP_TO_NODE_M) & (along_m <= to_v), u,
                      np.where(to_v <= SNAP_TO_NODE_M, v, -1))
    target_xy = np.where(target[:, None] >= 0, csr.xy[np.maximum(target, 0)], target_xy)
    gap_m = np.hypot(*(target_xy - xy[q]).T)
    out = pd.DataFrame({
        "end": ends[q], "end_region": own[q], "other_region": best["region"].to_numpy(),
        "u": u, "v": v, "fraction": np.clip(along_m / np.maximum(length_m, 1e-9), 0.0, 1.0),
        "target": target, "gap_m": gap_m, "target_x": target_xy[:, 0],
        "target_y": target_xy[:, 1]})
    # two ends that pick each other are one gap: keep the row of the smaller node row
    node_pair = out["target"] >= 0
    key = np.where(node_pair, np.minimum(out["end"], out["target"]) * csr.n_nodes
                   + np.maximum(out["end"], out["target"]), -1 - np.arange(len(out)))
    out = out.assign(_key=key).sort_values(["_key", "end"]).drop_duplicates("_key")
    return out.drop(columns="_key").sort_values("end").reset_index(drop=True)


# ---------------------------------------------------------------------------------- time saved
def _forward(csr: CsrGraph, sources: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Travel time (s) from each source row to each column row, Dijkstra in chunks."""
    out = np.empty((len(sources), len(columns)))
    for start in range(0, len(sources), _DIJKSTRA_CHUNK):
        part = sources[start:start + _DIJKSTRA_CHUNK]
        dist = dijkstra(csr.time_s, directed=True, indices=part)
        out[start:start + len(part)] = dist[:, columns]
    return out


def _edge_time(csr: CsrGraph, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Travel time (s) of the stored edge u → v, ``inf`` where there is none."""
    t = np.asarray(csr.time_s[u, v]).ravel()
    return np.where(t > 0, t, np.inf)


def _edge_speed_kph(csr: CsrGraph, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Speed (km/h) of the link u–v: length / time of u → v, else of v → u."""
    out = np.full(len(u), np.nan)
    for p, q in ((u, v), (v, u)):
        t = np.asarray(csr.time_s[p, q]).ravel()
        length = np.asarray(csr.length_m[p, q]).ravel()
        fill = np.isnan(out) & (t > 0)
        out[fill] = length[fill] / t[fill] * 3.6
    return out


def gap_savings(
    csr: CsrGraph,
    candidates: pd.DataFrame,
    *,
    seat_rows: np.ndarray,
    on_network: np.ndarray,
    linkage: np.ndarray,
    link_speed_kph: float | None = None,
    min_detour_ratio: float = 2.0,
) -> pd.DataFrame:
    """Time saved over the OD pairs by closing each candidate gap (step 4), and the detour test.

    Parameters
    ----------
    csr
        The road graph.
    candidates
        Output of :func:`gap_candidates`.
    seat_rows
        Node row of each seat (as snapped by the OD matrix), in ``od.csv`` order.
    on_network
        Seats on the network (pairs with an off-network seat gain nothing).
    linkage
        (n, n) gravity linkage R_ij of the seat pairs (NaN: unreachable, counted 0).
    link_speed_kph
        Speed of every new link; ``None``: the slower of the two roads it joins.
    min_detour_ratio
        A candidate is kept when the network time between its two ends, either way, is at
        least this times the link's time.

    Returns
    -------
    pandas.DataFrame
        The kept candidates with ``link_speed_kph``, ``link_time_min``, ``network_time_min``
        (the fastest of the two directions today), ``n_pairs_gaining``, ``time_saved_max_min``,
        ``time_saved_sum_min`` (over ordered pairs), ``linkage_time_saved`` (Σ ΔT R) and
        ``top_origin``, ``top_dest`` (seat indices of the pair with the largest ΔT·R, −1 if
        none).
    """
    if not len(candidates):
        return candidates.assign(link_speed_kph=[], link_time_min=[], network_time_min=[],
                                 n_pairs_gaining=[], time_saved_max_min=[],
                                 time_saved_sum_min=[], linkage_time_saved=[], top_origin=[],
                                 top_dest=[])
    if link_speed_kph is not None and link_speed_kph <= 0:
        raise DataError(f"transport.borders.link_speed_kph must be > 0, got {link_speed_kph}")
    c = candidates.reset_index(drop=True)
    end, u, v = (c[k].to_numpy(dtype=np.int64) for k in ("end", "u", "v"))
    f = c["fraction"].to_numpy(dtype=float)
    target = c["target"].to_numpy(dtype=np.int64)
    is_node = target >= 0
    # the end's own (only) link, and the road across
    nb = _neighbour(csr, end)
    if link_speed_kph is None:
        speed = np.fmin(_edge_speed_kph(csr, end, nb), _edge_speed_kph(csr, u, v))
    else:
        speed = np.full(len(c), float(link_speed_kph))
    t_link = c["gap_m"].to_numpy(dtype=float) / (speed / 3.6)
    t_uv, t_vu = _edge_time(csr, u, v), _edge_time(csr, v, u)
    # towards a node target, the target is u (fraction 0) or v (fraction 1) itself
    f = np.where(is_node, np.where(target == u, 0.0, 1.0), f)
    # time from u to the target along u → v, and so on (0 · ∞ = 0: no edge needed to stay put)
    u_to_b, v_to_b = _share(f, t_uv), _share(1 - f, t_vu)
    b_to_u, b_to_v = _share(f, t_vu), _share(1 - f, t_uv)

    sources = np.unique(np.concatenate([end, u, v]))
    columns = np.unique(np.concatenate([seat_rows, end, u, v]))
    col = {r: k for k, r in enumerate(columns)}
    src = {r: k for k, r in enumerate(sources)}
    fwd = _forward(csr, sources, columns)                       # d(source, column)
    seats_fwd = _forward(csr, np.asarray(seat_rows), columns)   # d(seat, column)

    def cols(rows: np.ndarray) -> np.ndarray:
        return np.array([col[r] for r in rows], dtype=np.int64)

    def srcs(rows: np.ndarray) -> np.ndarray:
        return np.array([src[r] for r in rows], dtype=np.int64)

    seat_cols = cols(np.asarray(seat_rows))
    T0 = seats_fwd[:, seat_cols]                                            # (n, n)
    d_i_a = seats_fwd[:, cols(end)]                                         # (n, g)
    d_i_b = np.fmin(seats_fwd[:, cols(u)] + u_to_b, seats_fwd[:, cols(v)] + v_to_b)
    d_a_j = fwd[srcs(end)][:, seat_cols]                                    # (g, n)
    d_b_j = np.fmin(b_to_u[:, None] + fwd[srcs(u)][:, seat_cols],
                    b_to_v[:, None] + fwd[srcs(v)][:, seat_cols])
    d_a_b = np.fmin(fwd[srcs(end), cols(u)] + u_to_b, fwd[srcs(end), cols(v)] + v_to_b)
    d_b_a = np.fmin(b_to_u + fwd[srcs(u), cols(end)], b_to_v + fwd[srcs(v), cols(end)])
    network_s = np.fmin(d_a_b, d_b_a)

    n = len(seat_rows)
    pair_ok = np.outer(on_network, on_network) & ~np.eye(n, dtype=bool)
    R = np.where(np.isfinite(linkage) & pair_ok, linkage, 0.0)
    rows = []
    for g in range(len(c)):
        via = np.fmin(d_i_a[:, g][:, None] + t_link[g] + d_b_j[g][None, :],
                      d_i_b[:, g][:, None] + t_link[g] + d_a_j[g][None, :])
        saved_min = np.where(pair_ok & np.isfinite(T0), np.maximum(T0 - via, 0.0), 0.0) / 60.0
        saved_min[saved_min < 1e-9] = 0.0  # float noise of equal routes
        gain = saved_min * R
        top = np.unravel_index(np.argmax(gain), gain.shape) if gain.max() > 0 else (-1, -1)
        rows.append({"n_pairs_gaining": int((saved_min > 0).sum()),
                     "time_saved_max_min": float(saved_min.max()),
                     "time_saved_sum_min": float(saved_min.sum()),
                     "linkage_time_saved": float(gain.sum()),
                     "top_origin": int(top[0]), "top_dest": int(top[1])})
    out = pd.concat([c, pd.DataFrame(rows)], axis=1).assign(
        link_speed_kph=speed, link_time_min=t_link / 60.0, network_time_min=network_s / 60.0)
    keep = network_s >= min_detour_ratio * t_link
    logger.info("border gaps: %d of %d candidates are not connected nearby (network time ≥ %g × "
                "link time)", int(keep.sum()), len(c), min_detour_ratio)
    return out[keep].reset_index(drop=True)


def merge_shared_targets(gaps: pd.DataFrame) -> pd.DataFrame:
    """One gap per point across the border: ends reaching for the same target are one gap.

    Several road ends (the stubs of an interchange, two carriageways) often pair with the same
    node, or the same road, across the border; they describe one missing link. The gap kept is
    the most valuable (``linkage_time_saved``), then the shortest; ``n_ends`` counts the ends.
    """
    if not len(gaps):
        return gaps.assign(n_ends=pd.Series(dtype="int64"))
    target = gaps["target"].to_numpy(dtype=np.int64)
    u, v = gaps["u"].to_numpy(dtype=np.int64), gaps["v"].to_numpy(dtype=np.int64)
    span = int(max(u.max(), v.max(), target.max())) + 1
    key = np.where(target >= 0, target, -1 - (u * span + v))
    g = gaps.assign(_key=key)
    size = g.groupby("_key")["end"].transform("size")
    g = g.assign(n_ends=size.astype("int64")).sort_values(
        ["_key", "linkage_time_saved", "gap_m", "end"], ascending=[True, False, True, True])
    return g.drop_duplicates("_key").drop(columns="_key").sort_values("end").reset_index(
        drop=True)


def _share(fraction: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    """``fraction × time_s``, 0 where the fraction is 0 (even when there is no edge: ∞)."""
    return np.where(fraction > 0, fraction * time_s, 0.0)


def _neighbour(csr: CsrGraph, rows: np.ndarray) -> np.ndarray:
    """Return the one neighbour of each dead-end row (out- or in-link)."""
    sym = (csr.time_s != 0).astype(np.int8)
    sym = (sym + sym.T).tocsr()
    return np.array([sym.indices[sym.indptr[r]:sym.indptr[r + 1]][0] for r in rows],
                    dtype=np.int64)


# ---------------------------------------------------------------------------------- the table
def _road_class(G: nx.MultiDiGraph, u: Any, v: Any) -> str:
    """``highway`` of the u–v link (the first of a list; both directions tried)."""
    for a, b in ((u, v), (v, u)):
        data = G.get_edge_data(a, b)
        if data:
            values = sorted({h for d in data.values() for h in tag_values(d.get("highway"))})
            return ";".join(values)
    return ""


def gap_table(
    G: nx.MultiDiGraph,
    csr: CsrGraph,
    gaps: pd.DataFrame,
    regions: gpd.GeoDataFrame,
    *,
    seat_names: Sequence[str],
    note: str = "",
    labels: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Rank the gaps and return them as points at the road end (columns :data:`GAP_COLUMNS`)."""
    ids = csr.node_ids
    crs = G.graph["crs"]
    g = gaps.sort_values(["linkage_time_saved", "time_saved_sum_min", "gap_m", "end"],
                         ascending=[False, False, True, True], kind="mergesort")
    g = g.reset_index(drop=True)
    end, u, v = (g[k].to_numpy(dtype=np.int64) for k in ("end", "u", "v"))
    nb = _neighbour(csr, end) if len(g) else np.zeros(0, dtype=np.int64)
    reg = regions.reset_index(drop=True)
    own, other = g["end_region"].to_numpy(dtype=int), g["other_region"].to_numpy(dtype=int)
    to_lonlat = Transformer.from_crs(crs, WGS84, always_xy=True)
    end_lon, end_lat = to_lonlat.transform(csr.xy[end, 0], csr.xy[end, 1])
    t_lon, t_lat = to_lonlat.transform(g["target_x"].to_numpy(float),
                                       g["target_y"].to_numpy(float))
    prov_end = reg["province_zh"].to_numpy()[own] if len(g) else []
    prov_other = reg["province_zh"].to_numpy()[other] if len(g) else []
    top = [f"{seat_names[o]}–{seat_names[d]}" if o >= 0 else ""
           for o, d in zip(g["top_origin"], g["top_dest"], strict=True)]
    table = pd.DataFrame({
        "rank": np.arange(1, len(g) + 1),
        "end_node": ids[end].astype(np.int64),
        "n_ends": g["n_ends"].to_numpy(dtype=np.int64),
        "end_adcode": reg["adcode"].to_numpy()[own] if len(g) else [],
        "end_city": reg["name_zh"].to_numpy()[own] if len(g) else [],
        "end_province": prov_end,
        "other_adcode": reg["adcode"].to_numpy()[other] if len(g) else [],
        "other_city": reg["name_zh"].to_numpy()[other] if len(g) else [],
        "other_province": prov_other,
        "border": np.where(np.asarray(prov_end) != np.asarray(prov_other), "province", "city"),
        "end_class": [_road_class(G, ids[a], ids[b]) for a, b in zip(end, nb, strict=True)],
        "other_class": [_road_class(G, ids[a], ids[b]) for a, b in zip(u, v, strict=True)],
        "gap_m": g["gap_m"].to_numpy(float),
        "link_speed_kph": g["link_speed_kph"].to_numpy(float),
        "link_time_min": g["link_time_min"].to_numpy(float),
        "network_time_min": g["network_time_min"].to_numpy(float),
        "n_pairs_gaining": g["n_pairs_gaining"].to_numpy(dtype=np.int64),
        "time_saved_max_min": g["time_saved_max_min"].to_numpy(float),
        "time_saved_sum_min": g["time_saved_sum_min"].to_numpy(float),
        "linkage_time_saved": g["linkage_time_saved"].to_numpy(float),
        "top_pair": top,
        "end_lon": np.asarray(end_lon, dtype=float), "end_lat": np.asarray(end_lat, dtype=float),
        "target_lon": np.asarray(t_lon, dtype=float),
        "target_lat": np.asarray(t_lat, dtype=float),
        "note": note,
    }, columns=list(GAP_COLUMNS))
    table = table.assign(**dict(labels or {}))
    return gpd.GeoDataFrame(table, geometry=shapely.points(csr.xy[end]) if len(g) else [],
                            crs=crs)


# ---------------------------------------------------------------------------------- entry point
def border_results(
    G: nx.MultiDiGraph,
    *,
    seats: gpd.GeoDataFrame,
    cities: gpd.GeoDataFrame,
    od: pd.DataFrame,
    area: BaseGeometry | None,
    neighbours: gpd.GeoDataFrame | None = None,
    max_access_km: float | None = None,
    border_distance_km: float = 2.0,
    max_gap_km: float = 3.0,
    edge_margin_km: float = 2.0,
    link_speed_kph: float | None = None,
    min_detour_ratio: float = 2.0,
    sample_m: float = 100.0,
    note: str = "",
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Border effect columns of ``od.csv`` and the ranked border gaps of one cluster.

    Parameters
    ----------
    G
        The travel-time graph of the OD matrix (working CRS).
    seats
        The ``seats`` layer (``adcode``, ``name_en``).
    cities
        Member city polygons with ``province_zh`` (``boundaries.gpkg`` layer ``cities``).
    od
        The OD table of :func:`agglonet.transport.accessibility.transport_results`
        (``linkage_strength`` per ordered pair).
    area
        The road area (:func:`agglonet.transport.layers.road_area`); ``None``: no clip edge (no
        end is dropped as a clipping artefact).
    neighbours
        Cities around the members (:func:`agglonet.transport.borders.neighbour_cities`);
        ``None``: only the borders between members count.
    max_access_km
        ``roads.diagnostics.max_seat_distance_km``: seats farther from the network are off it.
    border_distance_km, max_gap_km, edge_margin_km, link_speed_kph, min_detour_ratio, sample_m
        ``transport.borders`` (module docstring; ``docs/metrics.md``).
    note
        Written in every gap's ``note`` (:data:`GAP_NOTES` of the road source).
    labels
        ``roads_source`` and ``quality`` columns.

    Returns
    -------
    dict
        ``od`` (the OD table with :data:`agglonet.transport.borders.OD_BORDER_COLUMNS`),
        ``gaps`` (GeoDataFrame, :data:`GAP_COLUMNS` and the labels, ranked), ``regions`` and
        ``summary`` (counts for ``transport_summary.json``).
    """
    for name, value in (("border_distance_km", border_distance_km), ("max_gap_km", max_gap_km),
                        ("sample_m", sample_m)):
        if value <= 0:
            raise DataError(f"transport.borders.{name} must be > 0, got {value}")
    if edge_margin_km < 0 or min_detour_ratio < 1:
        raise DataError(f"transport.borders: edge_margin_km must be ≥ 0 and min_detour_ratio ≥ 1, "
                        f"got {edge_margin_km} and {min_detour_ratio}")
    require_crs(cities, what="member cities")
    cities = cities.to_crs(G.graph["crs"])
    csr = graph_to_csr(G)
    regions = border_regions(cities, area=area, neighbours=neighbours)
    provinces = dict(zip(cities["adcode"].astype(str), cities["province_zh"].astype(str),
                         strict=True))
    max_access_m = None if max_access_km is None else max_access_km * 1000.0
    crossings = od_border_crossings(G, seats, regions, provinces=provinces, csr=csr,
                                    max_access_m=max_access_m, sample_m=sample_m)
    od = add_od_border_columns(od, crossings)

    seats = seats.to_crs(G.graph["crs"]).sort_values("adcode").reset_index(drop=True)
    codes = seats["adcode"].astype(str).tolist()
    seat_rows, snap_m = snap_to_nodes(seats.geometry, csr)
    on_network = (snap_m <= max_access_m) if max_access_m is not None else \
        np.ones(len(codes), dtype=bool)
    index = {c: k for k, c in enumerate(codes)}
    R = np.full((len(codes), len(codes)), np.nan)
    R[od["origin_adcode"].map(index).to_numpy(), od["dest_adcode"].map(index).to_numpy()] = \
        pd.to_numeric(od["linkage_strength"], errors="coerce").to_numpy(dtype=float)
    candidates = gap_candidates(G, csr, regions, area=area,
                                border_distance_m=border_distance_km * 1000.0,
                                max_gap_m=max_gap_km * 1000.0,
                                edge_margin_m=edge_margin_km * 1000.0)
    gaps = merge_shared_targets(gap_savings(
        csr, candidates, seat_rows=seat_rows, on_network=on_network, linkage=R,
        link_speed_kph=link_speed_kph, min_detour_ratio=min_detour_ratio))
    names = (seats["name_en"] if "name_en" in seats.columns else seats["adcode"]).astype(str)
    table = gap_table(G, csr, gaps, regions, seat_names=names.tolist(), note=note,
                      labels=labels)
    summary = {
        "border_gaps": int(len(table)),
        "border_gaps_province": int((table["border"] == "province").sum()),
        "border_gap_candidates": int(len(candidates)),
        "road_ends": int(len(road_ends(csr))),
        "border_regions": int(len(regions)),
        "od_pairs_cross_province": int(od["cross_province"].sum()),
    }
    logger.info("border gaps: %d road ends, %d at a border paired across it, %d kept; %d "
                "across a provincial border", summary["road_ends"], len(candidates), len(table),
                summary["border_gaps_province"])
    return {"od": od, "gaps": table, "regions": regions, "summary": summary}


__all__ = ["GAP_COLUMNS", "GAP_NOTES", "border_results", "gap_candidates", "gap_savings",
           "gap_table", "merge_shared_targets", "neighbour_cities", "road_ends",
           "undirected_links"]
