"""The synthetic proxy road network: the offline stand-in for OSM roads (data.md, "Roads offline").

No registry package carries a real road network of a Chinese city cluster. The proxy links the
*real* prefecture seats and county seats of the cluster with plausible roads and writes them as
OSM XML, which is then loaded through exactly the same code as a user's OSM file
(:func:`agglonet.transport.loaders.load_graph_file`). Every way carries
``source=synthetic_proxy``; results built on it illustrate the method and are not findings.

Design (deterministic for a given seed):

* places: prefecture seats (rank ``city``) and county seats (rank ``county``); a county seat
  closer than ``merge_distance_m`` to another place is merged into it (the higher rank wins —
  urban districts of a prefecture seat collapse into the seat);
* expressways: the Gabriel graph of the prefecture seats alone gives ``motorway`` links (the
  expressway network joins prefecture seats directly; it crosses lower roads on bridges, so it
  shares nodes with them only at the seats);
* ordinary roads: the Gabriel graph of all places. A link's class follows the rank of the places
  it joins: city–city ``trunk``, city–county ``primary``, county–county ``secondary`` when it is
  on the Euclidean minimum spanning tree of all places (the backbone that keeps every county
  connected) and ``tertiary`` otherwise;
* geometry: each link gets one intermediate node per ~10 km (at least one, at most 8), offset
  sideways by seeded random amounts scaled so that the link is ``detour_factor`` (± 5 %, seeded)
  times longer than the straight line;
* ``maxspeed``: ``120`` on every other motorway link and ``80`` on every third primary link (the
  rest use the class defaults), so the maxspeed parser is exercised on the proxy too.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import Delaunay, cKDTree
from scipy.spatial.distance import pdist, squareform

from agglonet.crs import CHINA_ALBERS, WGS84, require_crs, working_crs
from agglonet.errors import DataError
from agglonet.io import atomic_path
from agglonet.transport.loaders import PROXY_SOURCE

logger = logging.getLogger(__name__)


def gabriel_edges(xy: np.ndarray) -> list[tuple[int, int]]:
    """Edges of the Gabriel graph of points ``xy`` (n, 2), as sorted index pairs.

    An edge (a, b) of the Delaunay triangulation is Gabriel when no other point lies strictly
    inside the circle with diameter ab. Fewer than 3 points: all pairs; collinear points: the
    chain in sorted order.
    """
    n = len(xy)
    if n < 2:
        return []
    if n == 2:
        return [(0, 1)]
    try:
        tri = Delaunay(xy)
        cand = set()
        for simplex in tri.simplices:
            for i in range(3):
                a, b = sorted((int(simplex[i]), int(simplex[(i + 1) % 3])))
                cand.add((a, b))
    except Exception:  # noqa: BLE001 - qhull fails on collinear input: chain the points
        order = np.lexsort((xy[:, 1], xy[:, 0]))
        return sorted((min(int(a), int(b)), max(int(a), int(b)))
                      for a, b in zip(order[:-1], order[1:], strict=True))
    tree = cKDTree(xy)
    out = []
    for a, b in sorted(cand):
        mid = (xy[a] + xy[b]) / 2
        r = np.linalg.norm(xy[a] - xy[b]) / 2
        inside = [k for k in tree.query_ball_point(mid, r * (1 - 1e-9)) if k not in (a, b)]
        if not inside:
            out.append((a, b))
    return out


def _detour_polyline(p: np.ndarray, q: np.ndarray, *, factor: float,
                     rng: np.random.Generator, spacing_m: float = 10_000.0) -> np.ndarray:
    """Polyline from p to q with interior points offset sideways, ``factor`` × |pq| long."""
    d = float(np.linalg.norm(q - p))
    k = int(np.clip(round(d / spacing_m), 1, 8))
    t = np.arange(1, k + 1) / (k + 1)
    offsets = rng.normal(0.0, 1.0, size=k)
    if np.allclose(offsets, 0):
        offsets[0] = 1.0
    along = p + np.outer(t, q - p)
    normal = np.array([-(q - p)[1], (q - p)[0]]) / d

    def length(amp: float) -> float:
        pts = np.vstack([p, along + np.outer(offsets * amp, normal), q])
        return float(np.sum(np.linalg.norm(np.diff(pts, axis=0), axis=1)))

    # length grows monotonically with the amplitude: bisection on it
    lo, hi = 0.0, d
    while length(hi) < factor * d:
        hi *= 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if length(mid) < factor * d else (lo, mid)
    amp = (lo + hi) / 2
    return np.vstack([p, along + np.outer(offsets * amp, normal), q])


def _places(seats: gpd.GeoDataFrame, county_seats: gpd.GeoDataFrame | None, *,
            crs: Any, merge_distance_m: float) -> pd.DataFrame:
    rows = []
    for gdf, rank in ((seats, "city"), (county_seats, "county")):
        if gdf is None or len(gdf) == 0:
            continue
        g = require_crs(gdf, what=f"{rank} seats").to_crs(crs)
        g = g.sort_values("adcode") if "adcode" in g.columns else g
        for _, r in g.iterrows():
            name = r.get("name_en") or r.get("name_zh") or str(r.get("adcode", ""))
            if rank == "county" and pd.notna(r.get("name_zh")):
                name = r.get("name_zh")
            rows.append({"rank": rank, "adcode": str(r.get("adcode", "")), "name": str(name),
                         "x": r.geometry.x, "y": r.geometry.y})
    places = pd.DataFrame(rows)
    if places.empty or (places["rank"] == "city").sum() == 0:
        raise DataError("the proxy network needs at least one prefecture seat; got none")
    keep: list[int] = []
    xy = places[["x", "y"]].to_numpy()
    for i in range(len(places)):  # cities come first, so they win merges
        if all(np.hypot(*(xy[i] - xy[j])) >= merge_distance_m for j in keep):
            keep.append(i)
    merged = len(places) - len(keep)
    if merged:
        logger.info("proxy: merged %d seats lying within %.0f m of another place", merged,
                    merge_distance_m)
    return places.iloc[keep].reset_index(drop=True)


def build_proxy_ways(
    seats: gpd.GeoDataFrame,
    county_seats: gpd.GeoDataFrame | None = None,
    *,
    seed: int = 42,
    detour_factor: float = 1.15,
    crs: Any = CHINA_ALBERS,
    merge_distance_m: float = 3000.0,
) -> gpd.GeoDataFrame:
    """Build the proxy road links (one row per way) in the working CRS.

    Parameters
    ----------
    seats
        Prefecture seats (points with ``adcode``, ``name_en``/``name_zh``), any CRS.
    county_seats
        County seats (points), or ``None``.
    seed
        Seed of the random detours and of the ±5 % jitter of the detour factor.
    detour_factor
        Mean ratio of road length to straight-line length (≥ 1).
    crs
        Working CRS.
    merge_distance_m
        County seats closer than this to an already kept place are merged into it.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``highway``, ``maxspeed`` (str or None), ``name``, ``from_place``,
        ``to_place``, ``source``, LineString geometry; sorted deterministically.
    """
    if detour_factor < 1:
        raise DataError(f"roads.proxy.detour_factor must be >= 1, got {detour_factor}")
    wcrs = working_crs(crs)
    places = _places(seats, county_seats, crs=wcrs, merge_distance_m=merge_distance_m)
    xy = places[["x", "y"]].to_numpy()
    is_city = (places["rank"] == "city").to_numpy()
    city_idx = np.flatnonzero(is_city)

    links: list[tuple[int, int, str]] = []
    for a, b in gabriel_edges(xy[city_idx]):
        links.append((int(city_idx[a]), int(city_idx[b]), "motorway"))
    mst = minimum_spanning_tree(squareform(pdist(xy))).tocoo() if len(xy) > 1 else None
    backbone = ({tuple(sorted((int(a), int(b)))) for a, b in zip(mst.row, mst.col, strict=True)}
                if mst is not None else set())
    for a, b in gabriel_edges(xy):
        ranks = {bool(is_city[a]), bool(is_city[b])}
        if ranks == {True}:
            cls = "trunk"
        elif ranks == {True, False}:
            cls = "primary"
        else:
            cls = "secondary" if (a, b) in backbone else "tertiary"
        links.append((a, b, cls))

    rng = np.random.default_rng(seed)
    rows = []
    counters = {"motorway": 0, "primary": 0}
    for a, b, cls in links:
        factor = max(1.01, detour_factor * (1 + rng.uniform(-0.05, 0.05)))
        line = _detour_polyline(xy[a], xy[b], factor=factor, rng=rng)
        maxspeed = None
        if cls in counters:
            counters[cls] += 1
            if cls == "motorway" and counters[cls] % 2 == 1:
                maxspeed = "120"
            if cls == "primary" and counters[cls] % 3 == 1:
                maxspeed = "80"
        rows.append({
            "highway": cls, "maxspeed": maxspeed,
            "name": f"{places.at[a, 'name']}–{places.at[b, 'name']} ({cls}, proxy)",
            "from_place": int(a), "to_place": int(b), "source": PROXY_SOURCE,
            "geometry": line,
        })
    from shapely.geometry import LineString

    ways = gpd.GeoDataFrame(rows, geometry=[LineString(r.pop("geometry")) for r in rows],
                            crs=wcrs)
    ways.attrs["places"] = places
    logger.info("proxy network: %d places, %d ways (%s)", len(places), len(ways),
                ways["highway"].value_counts().to_dict())
    return ways


def ways_to_osm_xml(ways: gpd.GeoDataFrame, places: pd.DataFrame) -> ET.ElementTree:
    """Encode proxy ways as OSM XML (lon/lat WGS84). Places are shared nodes.

    Motorway ways get their own end nodes only at the prefecture seats, which are shared with
    the ordinary roads there; every interior node belongs to one way only.
    """
    require_crs(ways, what="proxy ways")
    root = ET.Element("osm", version="0.6", generator="agglonet.transport.proxy")
    place_pts = gpd.GeoSeries(gpd.points_from_xy(places["x"], places["y"]), crs=ways.crs)
    place_ll = place_pts.to_crs(WGS84)
    node_elems: list[ET.Element] = []
    way_elems: list[ET.Element] = []
    for i, pt in enumerate(place_ll):
        node = ET.Element("node", id=str(i + 1), lat=f"{pt.y:.7f}", lon=f"{pt.x:.7f}",
                          version="1", visible="true")
        ET.SubElement(node, "tag", k="place", v="city" if places.at[i, "rank"] == "city"
                      else "town")
        ET.SubElement(node, "tag", k="name", v=str(places.at[i, "name"]))
        ET.SubElement(node, "tag", k="source", v=PROXY_SOURCE)
        node_elems.append(node)
    next_id = len(places) + 1
    ways_ll = ways.to_crs(WGS84)
    for w, (_, row) in enumerate(ways_ll.iterrows()):
        coords = np.asarray(row.geometry.coords)
        refs = [int(row["from_place"]) + 1]
        for lon, lat in coords[1:-1]:
            node_elems.append(ET.Element("node", id=str(next_id), lat=f"{lat:.7f}",
                                         lon=f"{lon:.7f}", version="1", visible="true"))
            refs.append(next_id)
            next_id += 1
        refs.append(int(row["to_place"]) + 1)
        way = ET.Element("way", id=str(w + 1), version="1", visible="true")
        for ref in refs:
            ET.SubElement(way, "nd", ref=str(ref))
        tags = {"highway": row["highway"], "name": row["name"], "oneway": "no",
                "source": PROXY_SOURCE}
        if row["maxspeed"]:
            tags["maxspeed"] = row["maxspeed"]
        for k, v in tags.items():
            ET.SubElement(way, "tag", k=k, v=str(v))
        way_elems.append(way)
    root.extend(node_elems)
    root.extend(way_elems)
    ET.indent(root)
    return ET.ElementTree(root)


def write_proxy_osm(
    path: str | Path,
    seats: gpd.GeoDataFrame,
    county_seats: gpd.GeoDataFrame | None = None,
    *,
    seed: int = 42,
    detour_factor: float = 1.15,
    crs: Any = CHINA_ALBERS,
    merge_distance_m: float = 3000.0,
) -> gpd.GeoDataFrame:
    """Build the proxy network and write it as OSM XML at ``path`` (atomically).

    Returns the ways (see :func:`build_proxy_ways`).
    """
    ways = build_proxy_ways(seats, county_seats, seed=seed, detour_factor=detour_factor,
                            crs=crs, merge_distance_m=merge_distance_m)
    tree = ways_to_osm_xml(ways, ways.attrs["places"])
    with atomic_path(path) as tmp:
        tree.write(tmp, encoding="utf-8", xml_declaration=True)
    return ways
