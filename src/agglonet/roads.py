"""Road networks: load from OSM (Overpass), a PBF extract, a file or the synthetic proxy; build a
travel-time graph.

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

import contextlib
import hashlib
import logging
import math
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import requests
import shapely
from shapely.geometry.base import BaseGeometry

from agglonet.crs import CHINA_ALBERS, WGS84, require_crs, working_crs
from agglonet.errors import DataError, DownloadError, EmptyNetworkError

logger = logging.getLogger(__name__)

#: Default speeds for China (km/h), methods.md §1 (Chinese OSM tagging practice).
DEFAULT_SPEEDS_KPH: dict[str, float] = {
    "motorway": 110,
    "motorway_link": 50,
    "trunk": 80,
    "trunk_link": 40,
    "primary": 60,
    "primary_link": 40,
    "secondary": 40,
    "secondary_link": 40,
    "tertiary": 30,
    "tertiary_link": 40,
    "unclassified": 25,
    "residential": 25,
}

#: Default intercity filter: motorway … tertiary and their links.
DEFAULT_HIGHWAY_CLASSES: tuple[str, ...] = (
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
    "secondary", "secondary_link", "tertiary", "tertiary_link",
)

#: Licence statement for anything derived from OpenStreetMap.
OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"
#: ``source`` value carried by every feature of the offline proxy network.
PROXY_SOURCE = "synthetic_proxy"

_MPH_TO_KPH = 1.609344
_KNOT_TO_KPH = 1.852
#: Parsed speeds outside this range are treated as junk (typos such as "5O" or "1000").
_PLAUSIBLE_KPH = (3.0, 200.0)
_SPEED_RE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$", re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# maxspeed and speeds
# --------------------------------------------------------------------------------------------

def parse_maxspeed(value: Any) -> float | None:
    """Parse an OSM ``maxspeed`` value to km/h.

    Parameters
    ----------
    value
        A tag value: ``"60"``, ``"60 km/h"``, ``"60 mph"``, ``"20 knots"``, a list such as
        ``"60;80"`` or ``"60|80"``, a Python list (osmnx merges values when simplifying), a
        number, or anything else.

    Returns
    -------
    float or None
        The speed in km/h (the mean of the parsable parts of a list, as osmnx does); ``None``
        for missing values, ``"none"``, ``"signals"``, ``"walk"``, zone codes such as
        ``"CN:urban"``, and junk — the caller then uses the class default.

    Examples
    --------
    >>> parse_maxspeed("60 mph")
    96.56064
    >>> parse_maxspeed("60;80")
    70.0
    >>> parse_maxspeed("signals") is None
    True
    """
    if value is None:
        return None
    if isinstance(value, (list, tuple, set)):
        parts = [parse_maxspeed(v) for v in value]
        good = [p for p in parts if p is not None]
        return float(np.mean(good)) if good else None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        speed = float(value)
        if not math.isfinite(speed):
            return None
        return speed if _PLAUSIBLE_KPH[0] <= speed <= _PLAUSIBLE_KPH[1] else None
    text = str(value).strip()
    if not text:
        return None
    if ";" in text or "|" in text:
        return parse_maxspeed(re.split(r"[;|]", text))
    match = _SPEED_RE.match(text)
    if match is None:
        return None
    speed = float(match.group(1).replace(",", "."))
    unit = (match.group(2) or "km/h").lower()
    if unit == "mph":
        speed *= _MPH_TO_KPH
    elif unit == "knots":
        speed *= _KNOT_TO_KPH
    return speed if _PLAUSIBLE_KPH[0] <= speed <= _PLAUSIBLE_KPH[1] else None


def _as_list(value: Any) -> list[str]:
    """Return an edge attribute that may be a string, a list or missing as a list of strings."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, (list, tuple, set)):
        return [str(v) for v in value]
    text = str(value)
    if text.startswith("[") and text.endswith("]"):  # list stringified by GraphML round trips
        return [t.strip(" '\"") for t in text[1:-1].split(",") if t.strip(" '\"")]
    return [text]


def class_speed_kph(
    highway: Any, *, speeds_kph: Mapping[str, float], fallback_kph: float
) -> float:
    """Default speed of an edge's ``highway`` class (the fastest one if it lists several)."""
    known = [float(speeds_kph[h]) for h in _as_list(highway) if h in speeds_kph]
    return max(known) if known else float(fallback_kph)


def add_speeds_and_times(
    G: nx.MultiDiGraph,
    *,
    speeds_kph: Mapping[str, float] | None = None,
    fallback_kph: float | None = None,
) -> nx.MultiDiGraph:
    """Set ``speed_kph``, ``speed_source`` and ``travel_time`` (s) on every edge, in place.

    Parameters
    ----------
    G
        Graph whose edges carry ``length`` (m), ``highway`` and optionally ``maxspeed``.
    speeds_kph
        Class → default speed; :data:`DEFAULT_SPEEDS_KPH` when ``None``.
    fallback_kph
        Speed of classes missing from ``speeds_kph``; the slowest configured speed when ``None``.

    Returns
    -------
    networkx.MultiDiGraph
        ``G`` itself.
    """
    speeds = dict(DEFAULT_SPEEDS_KPH if speeds_kph is None else speeds_kph)
    fallback = float(min(speeds.values()) if fallback_kph is None else fallback_kph)
    for _, _, data in G.edges(data=True):
        parsed = parse_maxspeed(data.get("maxspeed"))
        if parsed is not None:
            data["speed_kph"], data["speed_source"] = parsed, "maxspeed"
        else:
            data["speed_kph"] = class_speed_kph(
                data.get("highway"), speeds_kph=speeds, fallback_kph=fallback
            )
            data["speed_source"] = "class_default"
        data["travel_time"] = float(data["length"]) / (data["speed_kph"] / 3.6)
    return G


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
            if not keep.intersection(_as_list(h))]
    H.remove_edges_from(drop)
    H.remove_nodes_from([n for n in list(H.nodes) if H.degree(n) == 0])
    if H.number_of_edges() == 0:
        found = sorted({c for _, _, h in G.edges(data="highway") for c in _as_list(h)})
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
    highway_classes: Iterable[str] = DEFAULT_HIGHWAY_CLASSES,
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
        Class default speeds (:data:`DEFAULT_SPEEDS_KPH` when ``None``).
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
            kinds = set(_as_list(data.get("speed_source")))
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
    H.graph["roads_source"] = source
    report["nodes"] = H.number_of_nodes()
    report["edges"] = H.number_of_edges()
    return H, report


# --------------------------------------------------------------------------------------------
# sources
# --------------------------------------------------------------------------------------------

@contextlib.contextmanager
def osmnx_settings(**overrides: Any) -> Iterator[None]:
    """Temporarily set ``osmnx.settings`` attributes (restored afterwards)."""
    old = {k: getattr(ox.settings, k) for k in overrides}
    try:
        for k, v in overrides.items():
            setattr(ox.settings, k, v)
        yield
    finally:
        for k, v in old.items():
            setattr(ox.settings, k, v)


def _tags_with_source() -> list[str]:
    return sorted(set(ox.settings.useful_tags_way) | {"source", "maxspeed", "highway", "name"})


def _polygon_wgs84(polygon: BaseGeometry, polygon_crs: Any) -> BaseGeometry:
    return gpd.GeoSeries([polygon], crs=polygon_crs).to_crs(WGS84).iloc[0]


def load_graph_osm(
    polygon: BaseGeometry,
    *,
    polygon_crs: Any,
    highway_classes: Iterable[str] = DEFAULT_HIGHWAY_CLASSES,
    overpass_url: str = "https://overpass-api.de/api",
    timeout_s: float = 180,
    overpass_memory: int | None = None,
    use_cache: bool = True,
    cache_folder: str | Path = "cache/osmnx",
    overpass_rate_limit: bool = True,
) -> nx.MultiDiGraph:
    """Download the raw road graph inside ``polygon`` from Overpass through osmnx.

    osmnx splits large polygons into sub-queries (``settings.max_query_area_size``) and caches
    every response under ``cache_folder`` when ``use_cache``.

    Parameters
    ----------
    polygon, polygon_crs
        Area to fetch (e.g. the cluster polygon plus a buffer) and its CRS.
    highway_classes
        Classes put in the Overpass filter (:func:`highway_filter`).
    overpass_url
        Overpass API base URL (osmnx appends ``/interpreter`` and ``/status``).
    timeout_s, overpass_memory
        Request timeout and Overpass ``maxsize``.
    use_cache, cache_folder
        osmnx HTTP response cache.
    overpass_rate_limit
        Ask the server's ``/status`` for a pause before each query.

    Raises
    ------
    DownloadError
        If the Overpass request fails (the message names the URL).
    EmptyNetworkError
        If the area holds no road of the chosen classes.
    """
    poly = _polygon_wgs84(polygon, polygon_crs)
    filt = highway_filter(highway_classes)
    with osmnx_settings(overpass_url=overpass_url, requests_timeout=timeout_s,
                        overpass_memory=overpass_memory, use_cache=use_cache,
                        cache_folder=str(cache_folder), overpass_rate_limit=overpass_rate_limit,
                        useful_tags_way=_tags_with_source()):
        try:
            G = ox.graph_from_polygon(poly, custom_filter=filt, simplify=False, retain_all=True,
                                      truncate_by_edge=True)
        except ox._errors.InsufficientResponseError as exc:
            raise EmptyNetworkError(
                f"Overpass at {overpass_url} returned no road with filter {filt} in the area"
            ) from exc
        except (requests.RequestException, ox._errors.ResponseStatusCodeError) as exc:
            raise DownloadError(f"Overpass request to {overpass_url} failed: {exc}") from exc
    G.graph["attribution"] = OSM_ATTRIBUTION
    return G


def fetch_url(url: str, *, cache_dir: str | Path, timeout_s: float = 180,
              retries: int = 3, backoff_s: float = 2.0) -> Path:
    """Download ``url`` into ``cache_dir`` (keyed by the URL) unless it is already there.

    Raises
    ------
    DownloadError
        After ``retries`` failed attempts; the message names the URL.
    """
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    target = cache_dir / f"{key}_{Path(url.split('?')[0]).name or 'download'}"
    if target.exists():
        return target
    last: Exception | None = None
    for attempt in range(retries):
        try:
            with requests.get(url, stream=True, timeout=timeout_s) as resp:
                if 400 <= resp.status_code < 500 and resp.status_code != 429:
                    # a client error does not heal with retries
                    raise DownloadError(f"could not download {url}: HTTP {resp.status_code}")
                resp.raise_for_status()
                tmp = target.with_suffix(target.suffix + ".part")
                with open(tmp, "wb") as fh:
                    for chunk in resp.iter_content(1 << 20):
                        fh.write(chunk)
                tmp.replace(target)
            return target
        except requests.RequestException as exc:
            last = exc
            logger.warning("download of %s failed (attempt %d/%d): %s", url, attempt + 1,
                           retries, exc)
            time.sleep(backoff_s * (2 ** attempt))
    raise DownloadError(f"could not download {url} after {retries} attempts: {last}")


def sha256_file(path: str | Path) -> str:
    """SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_graph_pbf(
    path_or_url: str | Path,
    *,
    polygon: BaseGeometry | None = None,
    polygon_crs: Any = None,
    highway_classes: Iterable[str] = DEFAULT_HIGHWAY_CLASSES,
    cache_dir: str | Path = "cache/pbf",
    timeout_s: float = 600,
) -> nx.MultiDiGraph:
    """Read the raw road graph from an OSM PBF extract with pyrosm, clipped to ``polygon``.

    Parameters
    ----------
    path_or_url
        Local ``.osm.pbf`` or an ``http(s)://`` URL (downloaded once into ``cache_dir``).
    polygon, polygon_crs
        Clip area (pyrosm ``bounding_box``); the whole file when ``None``.
    highway_classes
        Classes kept.

    Raises
    ------
    DataError
        If the file is missing.
    EmptyNetworkError
        If the clip area holds no road of the chosen classes.
    """
    from pyrosm import OSM  # imported here: heavy, and only the pbf source needs it

    text = str(path_or_url)
    path = (fetch_url(text, cache_dir=cache_dir, timeout_s=timeout_s)
            if text.startswith(("http://", "https://")) else Path(text))
    if not path.exists():
        raise DataError(f"PBF file {path} does not exist; set roads.pbf.path to an .osm.pbf")
    bbox = None if polygon is None else _polygon_wgs84(polygon, polygon_crs)
    osm = OSM(str(path), bounding_box=bbox)
    nodes, edges = osm.get_network(network_type="driving", nodes=True)
    keep = set(highway_classes)
    if edges is None or len(edges) == 0:
        raise EmptyNetworkError(f"PBF {path} holds no drivable road inside the clip area")
    edges = edges[edges["highway"].isin(keep)]
    if len(edges) == 0:
        raise EmptyNetworkError(
            f"no road of classes {sorted(keep)} in PBF {path} inside the clip area")
    used = pd.unique(pd.concat([edges["u"], edges["v"]]))
    nodes = nodes[nodes["id"].isin(used)]
    G = osm.to_graph(nodes, edges, graph_type="networkx", osmnx_compatible=True,
                     retain_all=True)
    for _, _, data in G.edges(data=True):
        data.pop("tags", None)  # JSON blob of every other tag; not needed downstream
    G.graph["attribution"] = OSM_ATTRIBUTION
    G.graph["pbf_sha256"] = sha256_file(path)
    return G


def load_graph_file(path: str | Path, *, crs: Any = CHINA_ALBERS) -> nx.MultiDiGraph:
    """Read a raw road graph from a file.

    Parameters
    ----------
    path
        ``.osm``/``.xml`` (OSM XML, read by ``osmnx.graph_from_xml``), ``.graphml``
        (``osmnx.load_graphml``), or a vector file of lines (``.gpkg``, ``.geojson``, ``.shp``)
        with a ``highway`` column — lines must meet at shared end points (noded); an optional
        ``oneway`` column (``yes``/``true``/``1``) and ``maxspeed``, ``name``, ``source`` columns
        are used.
    crs
        Working CRS, used to measure line lengths of vector input.

    Raises
    ------
    DataError
        If the file is missing, of an unknown kind, or lacks a ``highway`` column.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"road file {path} does not exist; set roads.file.path")
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix == ".bz2" else path.suffix.lower()
    if suffix in (".osm", ".xml", ".osm.bz2"):
        node_tags = sorted(set(ox.settings.useful_tags_node) | {"place"})
        with osmnx_settings(useful_tags_way=_tags_with_source(), useful_tags_node=node_tags):
            G = ox.graph_from_xml(path, simplify=False, retain_all=True)
        return G
    if suffix == ".graphml":
        return ox.load_graphml(path)
    if suffix in (".gpkg", ".geojson", ".json", ".shp", ".fgb"):
        return _graph_from_lines(gpd.read_file(path), crs=crs, name=path.name)
    raise DataError(
        f"road file {path} has unknown type {suffix!r}; expected .osm/.xml, .graphml or a "
        f"vector file of lines (.gpkg, .geojson, .shp)")


def _graph_from_lines(lines: gpd.GeoDataFrame, *, crs: Any, name: str) -> nx.MultiDiGraph:
    """Build a MultiDiGraph from noded lines (end points within 0.5 m are one node)."""
    require_crs(lines, what=f"road lines {name}")
    if "highway" not in lines.columns:
        raise DataError(f"road lines {name} have no 'highway' column; columns: "
                        f"{list(lines.columns)}")
    lines = lines[lines.geometry.notna()].explode(index_parts=False).to_crs(working_crs(crs))
    lines = lines[lines.geom_type == "LineString"].reset_index(drop=True)
    if lines.empty:
        raise EmptyNetworkError(f"road lines {name} contain no LineString")
    coords = shapely.get_coordinates(shapely.boundary(lines.geometry.values))
    ends = np.round(coords.reshape(-1, 2, 2), 0)  # (line, start/end, xy), rounded to 1 m
    keys, inverse = np.unique(ends.reshape(-1, 2), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1, 2)
    G = nx.MultiDiGraph(crs=working_crs(crs).to_wkt(), simplified=False)
    for i, (x, y) in enumerate(keys):
        G.add_node(i, x=float(x), y=float(y))
    oneway = (lines["oneway"].astype(str).str.lower().isin(["yes", "true", "1"])
              if "oneway" in lines.columns else pd.Series(False, index=lines.index))
    extra = [c for c in ("maxspeed", "name", "source") if c in lines.columns]
    for i, row in lines.iterrows():
        u, v = int(inverse[i, 0]), int(inverse[i, 1])
        geom = row.geometry
        attrs = {"highway": row["highway"], "length": float(geom.length), "geometry": geom,
                 "oneway": bool(oneway[i])}
        attrs.update({c: row[c] for c in extra if pd.notna(row[c])})
        G.add_edge(u, v, reversed=False, **attrs)
        if not oneway[i]:
            G.add_edge(v, u, reversed=True, **{**attrs, "geometry": geom.reverse()})
    return G


def load_roads(
    *,
    source: str,
    area: BaseGeometry | None = None,
    area_crs: Any = None,
    highway_classes: Sequence[str] = DEFAULT_HIGHWAY_CLASSES,
    speeds_kph: Mapping[str, float] | None = None,
    crs: Any = CHINA_ALBERS,
    osm_options: Mapping[str, Any] | None = None,
    pbf_path: str | None = None,
    file_path: str | Path | None = None,
    proxy_path: str | Path | None = None,
    pbf_cache_dir: str | Path = "cache/pbf",
) -> tuple[nx.MultiDiGraph, dict[str, Any]]:
    """Load the road network of one source and turn it into the travel-time graph.

    Parameters
    ----------
    source
        ``osm``, ``pbf``, ``file`` or ``proxy``.
    area, area_crs
        Cluster polygon plus buffer (``osm``: query area; ``pbf``: clip box).
    highway_classes, speeds_kph, crs
        See :func:`prepare_road_graph`.
    osm_options
        Keyword arguments of :func:`load_graph_osm` (``overpass_url``, ``timeout_s``, ...).
    pbf_path, file_path, proxy_path
        Input of the ``pbf``, ``file`` and ``proxy`` sources (the proxy is an OSM XML written
        by :func:`agglonet.proxy_network.write_proxy_osm`, read like ``file``).

    Returns
    -------
    (graph, report)
        See :func:`prepare_road_graph`; the report also names the source and its licence.
    """
    meta: dict[str, Any] = {"roads_source": source}
    if source == "osm":
        if area is None:
            raise DataError("roads.source 'osm' needs the cluster area polygon")
        raw = load_graph_osm(area, polygon_crs=area_crs, highway_classes=highway_classes,
                             **dict(osm_options or {}))
        label = "openstreetmap"
        meta["roads_url"] = (osm_options or {}).get("overpass_url")
    elif source == "pbf":
        if not pbf_path:
            raise DataError("roads.source 'pbf' needs roads.pbf.path (local path or URL)")
        raw = load_graph_pbf(pbf_path, polygon=area, polygon_crs=area_crs,
                             highway_classes=highway_classes, cache_dir=pbf_cache_dir)
        label = "openstreetmap"
        meta["pbf"] = str(pbf_path)
        meta["pbf_sha256"] = raw.graph.get("pbf_sha256")
    elif source == "file":
        if not file_path:
            raise DataError("roads.source 'file' needs roads.file.path")
        raw = load_graph_file(file_path, crs=crs)
        label = f"file:{Path(file_path).name}"
    elif source == "proxy":
        if not proxy_path:
            raise DataError("roads.source 'proxy' needs the proxy OSM XML path")
        raw = load_graph_file(proxy_path, crs=crs)
        label = PROXY_SOURCE
    else:
        raise DataError(f"unknown roads.source {source!r}; expected osm, pbf, file or proxy")
    G, report = prepare_road_graph(raw, highway_classes=highway_classes, speeds_kph=speeds_kph,
                                   source=label, crs=crs)
    if source in ("osm", "pbf") or (source == "file" and Path(str(file_path)).suffix in
                                    (".osm", ".xml", ".pbf")):
        meta["licence"] = OSM_ATTRIBUTION
    if source == "proxy":
        meta["licence"] = "synthetic; derived from the seats in boundaries/seats inputs"
        meta["illustrative"] = True
        meta["note"] = ("synthetic proxy road network built from prefecture and county seats; "
                        "results illustrate the method and are not findings")
    G.graph.update({k: v for k, v in meta.items() if isinstance(v, (str, bool))})
    report.update(meta)
    return G, report


# --------------------------------------------------------------------------------------------
# outputs
# --------------------------------------------------------------------------------------------

def _flat(value: Any) -> Any:
    if isinstance(value, (list, tuple, set)):
        return ";".join(str(v) for v in value)
    return value


def graph_to_layers(G: nx.MultiDiGraph) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return the ``roads`` (edges) and ``road_nodes`` layers of a travel-time graph.

    ``roads`` columns: ``u``, ``v``, ``key``, ``osmid``, ``highway``, ``name``, ``maxspeed``,
    ``speed_kph``, ``speed_source``, ``travel_time_s``, ``length_m``, ``oneway``, ``source``;
    lists merged by simplification are joined with ``;``. ``road_nodes``: ``osmid``, ``x``,
    ``y``, ``street_count``. Rows are sorted by (u, v, key) and osmid.
    """
    nodes, edges = ox.graph_to_gdfs(G, nodes=True, edges=True, fill_edge_geometry=True)
    edges = edges.reset_index()
    out = gpd.GeoDataFrame({
        "u": edges["u"].astype("int64"),
        "v": edges["v"].astype("int64"),
        "key": edges["key"].astype("int64"),
        "osmid": edges.get("osmid", pd.Series(pd.NA, index=edges.index)).map(_flat).astype(str),
        "highway": edges["highway"].map(_flat).astype(str),
        "name": edges.get("name", pd.Series(None, index=edges.index)).map(_flat),
        "maxspeed": edges.get("maxspeed", pd.Series(None, index=edges.index)).map(_flat),
        "speed_kph": edges["speed_kph"].astype(float),
        "speed_source": edges["speed_source"].astype(str),
        "travel_time_s": edges["travel_time"].astype(float),
        "length_m": edges["length"].astype(float),
        "oneway": edges.get("oneway", pd.Series(False, index=edges.index)).map(_flat).astype(str),
        "source": edges["source"].map(_flat).astype(str),
    }, geometry=edges.geometry.values, crs=edges.crs)
    for col in ("name", "maxspeed"):
        out[col] = out[col].where(out[col].notna(), None).astype(object)
    out = out.sort_values(["u", "v", "key"]).reset_index(drop=True)
    nodes = nodes.reset_index()
    nd = gpd.GeoDataFrame({
        "osmid": nodes["osmid"].astype("int64"),
        "x": nodes["x"].astype(float),
        "y": nodes["y"].astype(float),
        "street_count": nodes.get("street_count", pd.Series(0, index=nodes.index)).fillna(0)
        .astype("int64"),
    }, geometry=nodes.geometry.values, crs=nodes.crs).sort_values("osmid").reset_index(drop=True)
    return out, nd


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


def road_area(cluster: gpd.GeoDataFrame, *, buffer_km: float) -> BaseGeometry:
    """The cluster polygon (dissolved) plus ``buffer_km``, in the layer's (metric) CRS."""
    require_crs(cluster, what="cluster polygon")
    if cluster.crs.is_geographic:
        raise DataError("cluster polygon must be in the metric working CRS to be buffered")
    return cluster.geometry.union_all().buffer(buffer_km * 1000.0)


def roads_metadata(report: Mapping[str, Any]) -> dict[str, Any]:
    """Dataset metadata for the road outputs: source, licence/attribution, illustrative flag."""
    keys = ("roads_source", "licence", "illustrative", "note", "pbf", "pbf_sha256", "roads_url")
    meta = {k: report[k] for k in keys if report.get(k) is not None}
    if meta.get("licence") == OSM_ATTRIBUTION:
        meta["attribution"] = OSM_ATTRIBUTION
    return meta
