"""Travel-time road graphs: filter, time, simplify and project a raw road graph.

The loaders (:mod:`agglonet.transport.loaders`) read OSM (Overpass), a PBF extract, a file or the
synthetic proxy.

Every source ends in the same chain (:func:`prepare_road_graph`):

1. keep the configured ``highway`` classes (an edge whose ``highway`` is a list is kept when any
   of its classes is kept);
2. speed per edge from a parsed ``maxspeed`` (:func:`parse_maxspeed`), else the class default;
   travel time = length / speed (computed per OSM segment *before* simplification, so a merged
   edge's travel time is the exact sum and its ``speed_kph`` the effective length/time speed);
3. simplify the topology (``osmnx.simplify_graph``, keeping nodes where the class changes and
   ``place`` nodes) unless the source already did;
4. keep the largest strongly connected component, reporting what was dropped;
5. project to the working CRS (``osmnx.project_graph``; edge lengths stay the great-circle or
   metric lengths measured on the source geometry).

Graph attribute names follow osmnx (``length`` in metres, ``speed_kph``, ``travel_time`` in
seconds) so the GraphML stays usable by osmnx; the GeoPackage layers carry unit names
(``length_m``, ``travel_time_s``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import osmnx as ox

from agglonet.config import default
from agglonet.crs import CHINA_ALBERS, working_crs
from agglonet.errors import EmptyNetworkError
from agglonet.osm import tag_values
from agglonet.transport.speeds import add_speeds_and_times

logger = logging.getLogger(__name__)




# --------------------------------------------------------------------------------------------
# maxspeed and speeds
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# filtering, simplification, components
# --------------------------------------------------------------------------------------------

def highway_filter(highway_classes: Iterable[str]) -> str:
    """Overpass/osmnx ``custom_filter`` keeping exactly the given ``highway`` classes."""
    classes = sorted(set(highway_classes))
    if not classes:
        raise EmptyNetworkError("highway_classes is empty; give at least one OSM highway class")
    return f'["highway"~"^({"|".join(classes)})$"]'


def filter_highways(G: nx.MultiDiGraph, highway_classes: Iterable[str]) -> nx.MultiDiGraph:
    """Return a copy of ``G`` with only edges of the given classes, and no isolated nodes.

    Raises
    ------
    EmptyNetworkError
        If no edge is left.
    """
    keep = set(highway_classes)
    n_before = G.number_of_edges()
    H = G.copy()
    drop = [(u, v, k) for u, v, k, h in H.edges(keys=True, data="highway")
            if not keep.intersection(tag_values(h))]
    H.remove_edges_from(drop)
    H.remove_nodes_from([n for n in list(H.nodes) if H.degree(n) == 0])
    if H.number_of_edges() == 0:
        found = sorted({c for _, _, h in G.edges(data="highway") for c in tag_values(h)})
        raise EmptyNetworkError(
            f"no road left after filtering {n_before} edges on highway classes {sorted(keep)}; "
            f"classes present: {found[:20] or 'none'}"
        )
    logger.info("highway filter kept %d of %d edges", H.number_of_edges(), n_before)
    return H


def largest_strong_component(G: nx.MultiDiGraph) -> tuple[nx.MultiDiGraph, dict[str, Any]]:
    """Keep the largest strongly connected component; report what was dropped.

    Returns
    -------
    (graph, report)
        ``report`` has ``n_components`` (strong), ``nodes_kept``, ``nodes_dropped``,
        ``edges_kept``, ``edges_dropped``, ``length_dropped_km``, ``length_dropped_share``.
    """
    comps = sorted(nx.strongly_connected_components(G), key=lambda c: (-len(c), min(map(str, c))))
    if not comps:
        raise EmptyNetworkError("road graph has no nodes")
    keep = comps[0]
    H = G.subgraph(keep).copy()
    total_m = sum(float(d.get("length", 0.0)) for _, _, d in G.edges(data=True))
    kept_m = sum(float(d.get("length", 0.0)) for _, _, d in H.edges(data=True))
    report = {
        "n_components": len(comps),
        "nodes_kept": H.number_of_nodes(),
        "nodes_dropped": G.number_of_nodes() - H.number_of_nodes(),
        "edges_kept": H.number_of_edges(),
        "edges_dropped": G.number_of_edges() - H.number_of_edges(),
        "length_dropped_km": (total_m - kept_m) / 1000.0,
        "length_dropped_share": (total_m - kept_m) / total_m if total_m > 0 else 0.0,
    }
    if H.number_of_edges() == 0:
        raise EmptyNetworkError(
            f"largest strongly connected component of the road graph has no edge "
            f"({G.number_of_nodes()} nodes, {len(comps)} components): every road is one-way "
            f"without a way back; check the highway filter or the input"
        )
    logger.info("largest strongly connected component: kept %d nodes, dropped %d nodes in %d "
                "other components (%.1f km of road)", report["nodes_kept"],
                report["nodes_dropped"], len(comps) - 1, report["length_dropped_km"])
    return H, report


def prepare_road_graph(
    G: nx.MultiDiGraph,
    *,
    highway_classes: Iterable[str] | None = None,
    speeds_kph: Mapping[str, float] | None = None,
    source: str,
    crs: Any = CHINA_ALBERS,
) -> tuple[nx.MultiDiGraph, dict[str, Any]]:
    """Filter, simplify, keep the largest strong component, add speeds and times, project.

    Parameters
    ----------
    G
        Raw road graph (osmnx conventions: nodes with ``x``/``y``, edges with ``length`` in
        metres, ``highway``, optionally ``maxspeed`` and ``geometry``; ``G.graph["crs"]``).
    highway_classes
        OSM ``highway`` values to keep.
    speeds_kph
        Class default speeds (``roads.speeds_kph`` of ``config/config.yaml`` when ``None``).
    source
        Provenance label written on every edge without its own ``source`` tag (``openstreetmap``,
        ``synthetic_proxy``, ``file:<name>``).
    crs
        Working CRS of the returned graph.

    Notes
    -----
    A graph that is already simplified and carries ``speed_kph`` and ``travel_time`` on every
    edge (a travel-time GraphML written by agglonet or osmnx) keeps its times.

    Returns
    -------
    (graph, report)
        The travel-time graph in ``crs`` and a report (edges before/after filtering, the
        component report of :func:`largest_strong_component`).

    Raises
    ------
    EmptyNetworkError
        If nothing is left after filtering.
    """
    report: dict[str, Any] = {"edges_raw": G.number_of_edges(), "nodes_raw": G.number_of_nodes()}
    highway_classes = default("roads", "highway_classes") if highway_classes is None \
        else highway_classes
    H = filter_highways(G, highway_classes)
    report["edges_filtered"] = H.number_of_edges()
    for _, _, data in H.edges(data=True):
        if data.get("source") in (None, "") or (
            isinstance(data.get("source"), float) and math.isnan(data["source"])
        ):
            data["source"] = source
    timed = H.graph.get("simplified", False) and all(
        "travel_time" in d and "speed_kph" in d for _, _, d in H.edges(data=True))
    if timed:
        # an already simplified travel-time graph (agglonet's or osmnx's GraphML): its times
        # were summed per segment before merging; recomputing from merged tags would lose that
        logger.info("input graph already carries speed_kph and travel_time: kept as they are")
        for _, _, data in H.edges(data=True):
            data.setdefault("speed_source", "input")
    else:
        # speeds and times per OSM segment first, so simplification sums the exact times
        add_speeds_and_times(H, speeds_kph=speeds_kph)
    if not H.graph.get("simplified", False):
        # keep nodes where the class changes (every edge keeps one highway class) and named
        # places (the proxy's seats); sum lengths and travel times along merged segments
        H = ox.simplify_graph(H, node_attrs_include=["place"], edge_attrs_differ=["highway"],
                              edge_attr_aggs={"length": sum, "travel_time": sum})
        for _, _, data in H.edges(data=True):
            kinds = set(tag_values(data.get("speed_source")))
            data["speed_source"] = kinds.pop() if len(kinds) == 1 else "mixed"
            speeds = data["speed_kph"]
            if isinstance(speeds, list):
                # merged segments: one speed if they agree, else the effective length/time
                data["speed_kph"] = (float(speeds[0]) if len(set(speeds)) == 1 else
                                     float(data["length"]) / float(data["travel_time"]) * 3.6)
    H, comp = largest_strong_component(H)
    report["components"] = comp
    nx.set_node_attributes(H, ox.stats.count_streets_per_node(H), name="street_count")
    H = ox.project_graph(H, to_crs=working_crs(crs))
    # the provenance label of the links; the road source itself (`roads_source`: scgraph, proxy,
    # osm, pbf, file) is set by agglonet.transport.loaders.load_roads
    H.graph["edge_source"] = source
    report["nodes"] = H.number_of_nodes()
    report["edges"] = H.number_of_edges()
    return H, report


# --------------------------------------------------------------------------------------------
# sources
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# outputs
# --------------------------------------------------------------------------------------------


def road_graph_indices(G: nx.MultiDiGraph) -> dict[str, float]:
    """α, β, γ, μ of the road network, on its undirected simple graph.

    The travel-time graph (simplified, largest strong component) is made undirected; parallel
    edges (two directions, dual carriageways drawn as one pair of nodes) are merged and
    self-loops dropped, so e counts road links between junctions and v the junctions and dead
    ends. Uses :func:`agglonet.graph_indices.graph_indices`.
    """
    from agglonet.graph_indices import graph_indices

    U = nx.Graph(G.to_undirected(as_view=True))
    U.remove_edges_from(list(nx.selfloop_edges(U)))
    out = graph_indices(U.number_of_edges(), U.number_of_nodes(),
                        nx.number_connected_components(U))
    out.update({"n_nodes": U.number_of_nodes(), "n_edges": U.number_of_edges()})
    return out


def undirected_length_m(G: nx.MultiDiGraph) -> float:
    """Total road length (m) with each road link counted once, not once per direction.

    A directed edge adds nothing when a link already counted joins the same two nodes along the
    same line, in either direction (the line is the edge's ``geometry``, or the straight segment
    between its nodes where it has none). Parallel links along different lines all count. This is
    the length of :func:`osmnx.convert.to_undirected`'s graph (which also requires the same
    ``osmid``, as two directions of one OSM way always have), computed without building that
    graph: osmnx's conversion takes 8–13 s on a 60 000-edge network, this about 0.3 s. The sum is
    exact (:func:`math.fsum`), so the result does not depend on the edge order.
    """
    xy = {n: (d["x"], d["y"]) for n, d in G.nodes(data=True)}
    seen: set[tuple[frozenset, tuple[tuple[float, ...], ...]]] = set()
    lengths = []
    for u, v, data in G.edges(data=True):
        geometry = data.get("geometry")
        line = tuple(geometry.coords) if geometry is not None else (xy[u], xy[v])
        link = (frozenset((u, v)), min(line, line[::-1]))
        if link not in seen:
            seen.add(link)
            lengths.append(data["length"])
    return math.fsum(lengths)


def save_road_graph(G: nx.MultiDiGraph, path: str | Path) -> Path:
    """Save the travel-time graph as GraphML (osmnx format), atomically."""
    from agglonet.io import atomic_path

    with atomic_path(path) as tmp:
        ox.save_graphml(G, tmp)
    return Path(path)


def load_road_graph(path: str | Path) -> nx.MultiDiGraph:
    """Load a travel-time graph written by :func:`save_road_graph`."""
    return ox.load_graphml(path, edge_dtypes={"speed_kph": float, "travel_time": float,
                                              "length": float})


