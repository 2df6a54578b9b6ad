"""Transport edits on the travel-time road graph (osmnx conventions, working CRS).

* **Add roads.** Each line of the edit's file becomes one link in both directions (one
  direction with ``oneway: true``) between the points its two ends snap to. An end snaps to the
  nearest point of the network within ``snap_tolerance_m``: a node when one lies within
  :data:`NODE_SNAP_M` of that point, otherwise the road there is split at the point (its length
  and travel time shared in proportion). An end farther than the tolerance from every road
  stays free (a new dead end); a line neither of whose ends is within the tolerance touches no
  road and is refused. Roads connect at their ends only: a new road crossing an old one meets
  it nowhere else (no interchange is assumed). Length is measured on the line (in the working
  CRS) plus the straight connectors to the snapped points; speed is the line's or the edit's
  ``maxspeed``, else the default speed of its ``highway`` class (``roads.speeds_kph``;
  ``roads.scgraph.speed_kph`` for class ``scgraph``). A line without a class takes the most
  common class of the network.
* **Close roads** by id (``osmid`` of ``roads.gpkg``; a link holding several ids is closed when
  it holds one) or every link that intersects a polygon; nodes left without links are dropped.
* **Change speeds** of a class or of the links that intersect a polygon: a new speed, or the
  old one times a factor; travel time = length / speed.
* **Close the top N border gaps** of ``border_gaps.csv``: the straight link from each gap's road
  end to its point across the border, at the table's ``link_speed_kph`` (or the edit's), added
  like a road.

Every function returns a new graph (the input is not changed) and report rows (one per line,
gap or edit) for ``road_edits.csv``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point
from shapely.ops import substring

from agglonet.crs import WGS84
from agglonet.errors import ConfigError, DataError
from agglonet.osm import tag_values
from agglonet.outputs import EDITED_ROAD_COLUMNS
from agglonet.scenarios.edits import Edit

logger = logging.getLogger(__name__)

#: A snapped point this close (metres) to a node of its road is that node: no split.
NODE_SNAP_M = 50.0
#: How far (metres) a border gap's point across may lie from the network (its coordinates went
#: through WGS84 degrees with six decimals in ``border_gaps.csv``).
GAP_SNAP_M = 100.0
#: Columns of ``road_edits.csv`` (before the quality labels).
ROAD_EDIT_COLUMNS = ("edit", "edit_type", "feature", "description", "start_node", "start_snap_m",
                     "end_node", "end_snap_m", "highway", "speed_kph", "length_km",
                     "travel_time_min", "n_links_changed")


def edge_geometry(G: nx.MultiDiGraph, u: Any, v: Any, data: Mapping[str, Any]) -> LineString:
    """Return the geometry of a link: its own, or the straight line between its nodes."""
    geom = data.get("geometry")
    if geom is not None:
        return geom
    return LineString([(G.nodes[u]["x"], G.nodes[u]["y"]), (G.nodes[v]["x"], G.nodes[v]["y"])])


def _node_point(G: nx.MultiDiGraph, node: Any) -> Point:
    return Point(G.nodes[node]["x"], G.nodes[node]["y"])


def _new_node_id(G: nx.MultiDiGraph) -> int:
    return int(max((int(n) for n in G.nodes), default=0)) + 1


def nearest_link(G: nx.MultiDiGraph, point: Point) -> tuple[tuple[Any, Any] | None, float]:
    """Return the nearest link (u, v) of the network to ``point`` and its distance (m).

    Direction does not matter: (u, v) is one of the link's directed edges.
    """
    pairs = list(dict.fromkeys((u, v) for u, v in G.edges() if u != v))
    if not pairs:
        return None, float("inf")
    lines = [edge_geometry(G, u, v, next(iter(G[u][v].values()))) for u, v in pairs]
    tree = shapely.STRtree(lines)
    index = int(tree.nearest(point))
    return pairs[index], float(lines[index].distance(point))


def split_link(G: nx.MultiDiGraph, u: Any, v: Any, point: Point) -> Any:
    """Split the link u–v (both directions, every parallel edge) at the point nearest ``point``.

    Returns the node at that point: ``u`` or ``v`` when it lies within :data:`NODE_SNAP_M` of
    one of them, else a new node (``G`` is changed in place). Each half keeps the link's
    attributes, with length and travel time in proportion to its share of the geometry.
    """
    line = edge_geometry(G, u, v, next(iter(G[u][v].values())))
    along = line.project(point)
    on_line = line.interpolate(along)
    for node in (u, v):
        if on_line.distance(_node_point(G, node)) <= NODE_SNAP_M:
            return node
    new = _new_node_id(G)
    G.add_node(new, x=float(on_line.x), y=float(on_line.y), street_count=2)
    for a, b in ((u, v), (v, u)):
        if not G.has_edge(a, b):
            continue
        for key, data in list(G[a][b].items()):
            geom = edge_geometry(G, a, b, data)
            cut = geom.project(on_line)
            share = cut / geom.length if geom.length > 0 else 0.5
            for x, y, lo, hi, frac in ((a, new, 0.0, cut, share),
                                       (new, b, cut, geom.length, 1.0 - share)):
                part = dict(data)
                part["geometry"] = substring(geom, lo, hi)
                part["length"] = float(data["length"]) * frac
                part["travel_time"] = float(data["travel_time"]) * frac
                G.add_edge(x, y, **part)
            G.remove_edge(a, b, key)
    return new


def snap_point(G: nx.MultiDiGraph, point: Point, *, tolerance_m: float) -> tuple[Any, float]:
    """Return the node a point snaps to (splitting a link if needed) and the snap distance.

    ``(None, distance)`` when the nearest road is farther than ``tolerance_m``.
    """
    pair, distance = nearest_link(G, point)
    if pair is None or distance > tolerance_m:
        return None, distance
    node = split_link(G, pair[0], pair[1], point)
    return node, float(point.distance(_node_point(G, node)))


def road_speed_kph(
    *, highway: str, maxspeed: float | None, speeds_kph: Mapping[str, float],
    scgraph_speed_kph: float, label: str,
) -> float:
    """Return the speed of an added road: ``maxspeed``, else its class's default speed.

    Raises
    ------
    ConfigError
        If there is no ``maxspeed`` and the class has no default speed.
    """
    if maxspeed is not None and np.isfinite(float(maxspeed)) and float(maxspeed) > 0:
        return float(maxspeed)
    if highway == "scgraph":
        return float(scgraph_speed_kph)
    if highway in speeds_kph:
        return float(speeds_kph[highway])
    raise ConfigError(f"{label}: highway class {highway!r} has no speed in roads.speeds_kph and "
                      f"no maxspeed is given; expected one of {', '.join(speeds_kph)} or scgraph, "
                      "or a maxspeed (km/h)")


def main_class(G: nx.MultiDiGraph) -> str:
    """Return the most common ``highway`` class of the links (ties: alphabetical)."""
    counts = Counter(h for _, _, d in G.edges(data=True) for h in tag_values(d.get("highway")))
    if not counts:
        return "unclassified"
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def scenario_osmid(edit: Edit, feature: int) -> int:
    """Return the id of an added link: negative (OSM ids are positive), −(1000 · edit + feature).

    osmnx reads ``osmid`` back from GraphML as an integer.
    """
    return -(1000 * edit.index + feature)


def add_link(
    G: nx.MultiDiGraph, start: Any, end: Any, *, line: LineString, speed_kph: float,
    highway: str, osmid: int, source: str, oneway: bool = False,
) -> tuple[float, float]:
    """Add the link start → end (and back unless ``oneway``) along ``line``.

    The geometry runs from the start node through the line's vertices to the end node.
    Returns its length (m) and travel time (s).
    """
    coords = [(G.nodes[start]["x"], G.nodes[start]["y"]), *line.coords,
              (G.nodes[end]["x"], G.nodes[end]["y"])]
    coords = [c for i, c in enumerate(coords) if i == 0 or c != coords[i - 1]]
    geom = LineString(coords) if len(coords) > 1 else LineString([coords[0], coords[0]])
    length_m = float(geom.length)
    time_s = length_m / (speed_kph / 3.6)
    attrs = {"highway": highway, "osmid": osmid, "speed_kph": float(speed_kph),
             "speed_source": "scenario", "length": length_m, "travel_time": time_s,
             "source": source, "oneway": bool(oneway)}
    G.add_edge(start, end, geometry=geom, **attrs)
    if not oneway:
        G.add_edge(end, start, geometry=geom.reverse(), **attrs)
    return length_m, time_s


def _end_node(G: nx.MultiDiGraph, point: Point, *, tolerance_m: float) -> tuple[Any, float]:
    """Node a line end snaps to; a new free node when no road lies within the tolerance."""
    node, distance = snap_point(G, point, tolerance_m=tolerance_m)
    if node is not None:
        return node, distance
    new = _new_node_id(G)
    G.add_node(new, x=float(point.x), y=float(point.y), street_count=1)
    return new, float("nan")


def add_roads(
    G: nx.MultiDiGraph, lines: gpd.GeoDataFrame, *, edit: Edit,
    speeds_kph: Mapping[str, float], scgraph_speed_kph: float,
) -> tuple[nx.MultiDiGraph, list[dict[str, Any]]]:
    """Add every line of an ``add_roads`` edit (module docstring); return the graph and report.

    Raises
    ------
    ConfigError
        If a line's two ends both lie farther than ``snap_tolerance_m`` from every road, or a
        line has neither a known class nor a ``maxspeed``.
    """
    H = G.copy()
    tolerance = float(edit.options["snap_tolerance_m"])
    fallback_class = edit.get("highway") or main_class(G)
    rows = []
    for i, row in enumerate(lines.itertuples(index=False)):
        label = f"{edit.label}, feature {i + 1}"
        for part_no, line in enumerate(_parts(row.geometry)):
            start_pt, end_pt = Point(line.coords[0]), Point(line.coords[-1])
            d_start = nearest_link(H, start_pt)[1]
            d_end = nearest_link(H, end_pt)[1]
            if d_start > tolerance and d_end > tolerance:
                raise ConfigError(
                    f"{label}: the line touches no road within snap_tolerance_m = "
                    f"{tolerance:g} m (nearest road {d_start / 1000:.2f} km from its start, "
                    f"{d_end / 1000:.2f} km from its end); expected a line that starts or ends "
                    "at the network, or a larger snap_tolerance_m")
            highway = _value(row, "highway") or fallback_class
            speed = road_speed_kph(highway=highway, maxspeed=_number(_value(row, "maxspeed"))
                                   or edit.get("maxspeed"), speeds_kph=speeds_kph,
                                   scgraph_speed_kph=scgraph_speed_kph, label=label)
            start, s_snap = _end_node(H, start_pt, tolerance_m=tolerance)
            end, e_snap = _end_node(H, end_pt, tolerance_m=tolerance)
            length_m, time_s = add_link(
                H, start, end, line=line, speed_kph=speed, highway=highway,
                osmid=scenario_osmid(edit, i + 1), source=f"scenario:{edit.scenario}",
                oneway=bool(edit.get("oneway", False)))
            rows.append(_row(edit, feature=i + 1, description=_value(row, "name") or "",
                             start=start, start_snap_m=s_snap, end=end, end_snap_m=e_snap,
                             highway=highway, speed_kph=speed, length_m=length_m, time_s=time_s,
                             n_links=1))
            logger.info("%s%s: %.1f km at %g km/h, ends snapped %s m and %s m", label,
                        f" part {part_no + 1}" if part_no else "", length_m / 1000, speed,
                        _fmt(s_snap), _fmt(e_snap))
    return H, rows


def _parts(geom: Any) -> list[LineString]:
    return list(geom.geoms) if geom.geom_type.startswith("Multi") else [geom]


def _value(row: Any, name: str) -> Any:
    value = getattr(row, name, None)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(str(value).split()[0])
    except ValueError:
        return None


def _fmt(value: float) -> str:
    return "free" if not np.isfinite(value) else f"{value:.0f}"


def _row(edit: Edit, **kw: Any) -> dict[str, Any]:
    return {"edit": edit.index, "edit_type": edit.kind, "feature": kw.get("feature"),
            "description": kw.get("description", ""), "start_node": kw.get("start"),
            "start_snap_m": kw.get("start_snap_m"), "end_node": kw.get("end"),
            "end_snap_m": kw.get("end_snap_m"), "highway": kw.get("highway"),
            "speed_kph": kw.get("speed_kph"),
            "length_km": None if kw.get("length_m") is None else kw["length_m"] / 1000.0,
            "travel_time_min": None if kw.get("time_s") is None else kw["time_s"] / 60.0,
            "n_links_changed": kw.get("n_links", 0)}


def _links_in(G: nx.MultiDiGraph, polygons: gpd.GeoDataFrame) -> list[tuple[Any, Any, Any]]:
    area = polygons.geometry.union_all()
    return [(u, v, k) for u, v, k, d in G.edges(keys=True, data=True)
            if edge_geometry(G, u, v, d).intersects(area)]


def close_roads(
    G: nx.MultiDiGraph, *, edit: Edit, polygons: gpd.GeoDataFrame | None = None,
) -> tuple[nx.MultiDiGraph, list[dict[str, Any]]]:
    """Remove the links of a ``close_roads`` edit (by ``ids`` or inside ``polygons``).

    Raises
    ------
    ConfigError
        If an id matches no link, or the polygons meet no link.
    """
    H = G.copy()
    if polygons is not None:
        links = _links_in(H, polygons)
        if not links:
            raise ConfigError(f"{edit.label}: the polygons of {edit.options['path']!r} meet no "
                              "road; expected polygons over the roads to close")
    else:
        wanted = [str(i) for i in edit.options["ids"]]
        links, found = [], set()
        for u, v, k, d in H.edges(keys=True, data=True):
            ids = {str(x) for x in tag_values(d.get("osmid"))}
            hit = ids.intersection(wanted)
            if hit:
                links.append((u, v, k))
                found |= hit
        missing = [i for i in wanted if i not in found]
        if missing:
            raise ConfigError(f"{edit.label}: road id(s) {', '.join(missing)} match no link of "
                              "the network; expected values of the osmid column of "
                              "resources/{cluster}/roads.gpkg")
    length_m = sum(float(H.edges[e]["length"]) for e in links)
    H.remove_edges_from(links)
    H.remove_nodes_from([n for n in list(H.nodes) if H.degree(n) == 0])
    logger.info("%s: closed %d directed links (%.1f km)", edit.label, len(links),
                length_m / 1000)
    return H, [_row(edit, n_links=len(links), length_m=length_m)]


def change_speed(
    G: nx.MultiDiGraph, *, edit: Edit, polygons: gpd.GeoDataFrame | None = None,
) -> tuple[nx.MultiDiGraph, list[dict[str, Any]]]:
    """Set or scale the speed of a class's links, or of the links inside ``polygons``.

    Raises
    ------
    ConfigError
        If no link has the class or meets the polygons.
    """
    H = G.copy()
    if polygons is not None:
        links = _links_in(H, polygons)
        where = f"the polygons of {edit.options['path']!r}"
    else:
        cls = str(edit.options["highway"])
        links = [(u, v, k) for u, v, k, d in H.edges(keys=True, data=True)
                 if cls in tag_values(d.get("highway"))]
        where = f"class {cls!r}"
    if not links:
        raise ConfigError(f"{edit.label}: {where} select no road; expected at least one link")
    for e in links:
        data = H.edges[e]
        speed = (float(edit.options["speed_kph"]) if edit.get("speed_kph") is not None
                 else float(data["speed_kph"]) * float(edit.options["factor"]))
        data["speed_kph"] = speed
        data["travel_time"] = float(data["length"]) / (speed / 3.6)
        data["speed_source"] = "scenario"
    logger.info("%s: new speed on %d directed links of %s", edit.label, len(links), where)
    return H, [_row(edit, n_links=len(links), speed_kph=edit.get("speed_kph"))]


def close_border_gaps(
    G: nx.MultiDiGraph, gaps: pd.DataFrame, *, edit: Edit, crs: Any,
) -> tuple[nx.MultiDiGraph, list[dict[str, Any]]]:
    """Add the links of the ``top_n`` best-ranked border gaps of ``border_gaps.csv``.

    Fewer gaps than ``top_n`` closes all of them (with a warning).

    Raises
    ------
    DataError
        If a gap's road end is not a node of the graph, or its point across lies farther than
        :data:`GAP_SNAP_M` from every road.
    """
    H = G.copy()
    top_n = int(edit.options["top_n"])
    table = gaps.assign(rank=pd.to_numeric(gaps["rank"])).sort_values("rank").head(top_n)
    if len(table) < top_n:
        logger.warning("%s: border_gaps.csv has %d gap(s), fewer than top_n = %d: all closed",
                       edit.label, len(table), top_n)
    to_crs = Transformer.from_crs(WGS84, crs, always_xy=True)
    rows = []
    for gap in table.itertuples(index=False):
        end = int(gap.end_node)
        if end not in H.nodes:
            raise DataError(f"{edit.label}: border gap {gap.rank}'s road end {end} is not a node "
                            "of the road graph; expected border_gaps.csv of the same baseline")
        x, y = to_crs.transform(float(gap.target_lon), float(gap.target_lat))
        target, snap_m = snap_point(H, Point(x, y), tolerance_m=GAP_SNAP_M)
        if target is None:
            raise DataError(f"{edit.label}: border gap {gap.rank}'s point across lies {snap_m:.0f}"
                            f" m from the nearest road (more than {GAP_SNAP_M:g} m); expected "
                            "border_gaps.csv of the same baseline")
        speed = float(edit.get("link_speed_kph") or gap.link_speed_kph)
        line = LineString([(H.nodes[end]["x"], H.nodes[end]["y"]), (x, y)])
        length_m, time_s = add_link(H, end, target, line=line, speed_kph=speed,
                                    highway=str(gap.end_class), source=f"scenario:{edit.scenario}",
                                    osmid=scenario_osmid(edit, int(gap.rank)))
        rows.append(_row(edit, feature=int(gap.rank), description=f"{gap.end_city} – "
                         f"{gap.other_city}", start=end, start_snap_m=0.0, end=target,
                         end_snap_m=snap_m, highway=str(gap.end_class), speed_kph=speed,
                         length_m=length_m, time_s=time_s, n_links=1))
    return H, rows


def apply_road_edits(
    G: nx.MultiDiGraph, edits: Sequence[Edit], *, geometries: Mapping[int, gpd.GeoDataFrame],
    border_gaps: pd.DataFrame | None, speeds_kph: Mapping[str, float],
    scgraph_speed_kph: float, crs: Any,
) -> tuple[nx.MultiDiGraph, pd.DataFrame]:
    """Apply a scenario's road edits in order; return the new graph and ``road_edits.csv``.

    Parameters
    ----------
    G
        The baseline travel-time graph (working CRS).
    edits
        The scenario's road edits.
    geometries
        Edit index → its features (:func:`agglonet.scenarios.edits.read_edit_geometry`).
    border_gaps
        The baseline's ``border_gaps.csv`` (for ``close_border_gaps``).
    speeds_kph, scgraph_speed_kph
        ``roads.speeds_kph`` and ``roads.scgraph.speed_kph``.
    crs
        The graph's CRS.
    """
    H = G
    rows: list[dict[str, Any]] = []
    for edit in edits:
        frame = geometries.get(edit.index)
        if edit.kind == "add_roads":
            H, new = add_roads(H, frame, edit=edit, speeds_kph=speeds_kph,
                               scgraph_speed_kph=scgraph_speed_kph)
        elif edit.kind == "close_roads":
            H, new = close_roads(H, edit=edit, polygons=frame)
        elif edit.kind == "change_speed":
            H, new = change_speed(H, edit=edit, polygons=frame)
        elif edit.kind == "close_border_gaps":
            if border_gaps is None:
                raise DataError(f"{edit.label}: no border-gap table given")
            H, new = close_border_gaps(H, border_gaps, edit=edit, crs=crs)
        else:
            continue
        rows += new
    H.graph["scenario_edits"] = len(rows)
    return H, pd.DataFrame(rows, columns=list(ROAD_EDIT_COLUMNS))


#: Columns of layer ``roads_edited`` (``roads_edited.gpkg``), before the quality labels.
#: Statuses of an edited link.
EDITED_ROAD_STATUSES = ("added", "closed", "changed")
#: A link re-timed by less than this (relative) is unchanged (float noise of the GraphML trip).
_SAME_TIME_RTOL = 1e-9
#: A new link lying within this distance (m) of a removed link is a part of it (a split).
_SPLIT_M = 1.0


def edited_links(baseline: gpd.GeoDataFrame, scenario: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Road links a scenario added, closed or re-timed (layer ``roads_edited``).

    Links are matched by ``(u, v, key)``. A link split where a new road snaps to it is not an
    edit: the parts of a removed link (new links lying along it, within 1 m) are dropped together
    with the link they replace.

    Parameters
    ----------
    baseline, scenario
        Layer ``roads`` of the baseline's and the scenario's ``roads.gpkg`` (same CRS).

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`EDITED_ROAD_COLUMNS`: ``status`` ``added`` (scenario geometry), ``closed``
        (baseline geometry) or ``changed`` (speed or travel time differs); baseline values empty
        for an added link, scenario values empty for a closed one.
    """
    key = ["u", "v", "key"]
    base = baseline.set_index(key)
    scen = scenario.set_index(key)
    added = scen.loc[scen.index.difference(base.index)]
    closed = base.loc[base.index.difference(scen.index)]
    if len(added) and len(closed):
        removed = shapely.unary_union(closed.geometry.to_numpy()).buffer(_SPLIT_M)
        parts = added.geometry.within(removed)
        kept = shapely.unary_union(added.geometry[parts].to_numpy()).buffer(_SPLIT_M)
        closed = closed[~closed.geometry.within(kept)]
        added = added[~parts]
    common = scen.index.intersection(base.index)
    t0 = base.loc[common, "travel_time_s"].astype(float)
    t1 = scen.loc[common, "travel_time_s"].astype(float)
    changed_index = common[~np.isclose(t1.to_numpy(), t0.to_numpy(), rtol=_SAME_TIME_RTOL,
                                       atol=0.0)]
    rows = []
    for status, frame, before, after in (
        ("added", added, None, added), ("closed", closed, closed, None),
        ("changed", scen.loc[changed_index], base.loc[changed_index], scen.loc[changed_index]),
    ):
        if frame.empty:
            continue
        out = pd.DataFrame(index=frame.index)
        for column in ("osmid", "highway", "length_m"):
            out[column] = frame[column] if column in frame.columns else None
        for column in ("speed_kph", "travel_time_s"):
            out[f"{column}_baseline"] = np.nan if before is None else before[column].to_numpy()
            out[column] = np.nan if after is None else after[column].to_numpy()
        out["status"] = status
        rows.append(gpd.GeoDataFrame(out.reset_index(), geometry=frame.geometry.to_numpy(),
                                     crs=scenario.crs))
    if not rows:
        return gpd.GeoDataFrame(columns=[*EDITED_ROAD_COLUMNS, "geometry"], geometry="geometry",
                                crs=scenario.crs)
    edited = pd.concat(rows, ignore_index=True)
    return gpd.GeoDataFrame(edited[[*EDITED_ROAD_COLUMNS, "geometry"]], geometry="geometry",
                            crs=scenario.crs).sort_values(["status", "u", "v", "key"],
                                                          ignore_index=True)
