"""Road network loaders: one function per source, and :func:`load_roads` choosing among them.

Sources (``roads.source``): ``osm`` (Overpass through osmnx, :mod:`.overpass`), ``pbf`` (an OSM
PBF extract read with pyrosm), ``file`` (OSM XML, GraphML or noded lines), ``scgraph`` (the
simplified OSM world highway graph of the ``scgraph-data`` package, offline, :mod:`.scgraph`)
and ``proxy`` (the synthetic network of :mod:`.proxy`, read as OSM XML). Every raw graph goes
through the same :func:`agglonet.transport.graph.prepare_road_graph`.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pyogrio.errors
import shapely
from shapely.geometry.base import BaseGeometry

from agglonet.config import default
from agglonet.crs import CHINA_ALBERS, require_crs, working_crs
from agglonet.download import fetch_url
from agglonet.errors import DataError, EmptyNetworkError
from agglonet.logs import Progress
from agglonet.osm import OSM_ATTRIBUTION
from agglonet.provenance import (
    SourceRecord,
    record_url,
    record_user_file,
    sha256_file,
    utc_today,
)
from agglonet.transport.diagnostics import network_diagnostics
from agglonet.transport.graph import prepare_road_graph
from agglonet.transport.overpass import load_graph_osm, osmnx_settings, polygon_wgs84, way_tags
from agglonet.transport.scgraph import (
    SCGRAPH_DISTRIBUTION,
    SCGRAPH_HIGHWAY,
    SCGRAPH_SOURCE,
    clip_network,
    length_comparison,
    load_world_highways,
    raw_scgraph_graph,
    scgraph_record,
    world_highways_path,
)

logger = logging.getLogger(__name__)


#: ``source`` value carried by every feature of the offline proxy network.
PROXY_SOURCE = "synthetic_proxy"


def load_graph_pbf(
    path_or_url: str | Path,
    *,
    polygon: BaseGeometry | None = None,
    polygon_crs: Any = None,
    highway_classes: Iterable[str] | None = None,
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
    from pyrosm.exceptions import PBFException

    text = str(path_or_url)
    path = (fetch_url(text, cache_dir=cache_dir, timeout_s=timeout_s)
            if text.startswith(("http://", "https://")) else Path(text))
    if not path.exists():
        raise DataError(f"PBF file {path} does not exist; set roads.pbf.path to an .osm.pbf")
    bbox = None if polygon is None else polygon_wgs84(polygon, polygon_crs)
    try:
        osm = OSM(str(path), bounding_box=bbox)
        nodes, edges = osm.get_network(network_type="driving", nodes=True)
    except (OSError, ValueError, KeyError, RuntimeError, PBFException) as exc:
        raise DataError(f"PBF {path} cannot be read as an OSM PBF extract ({type(exc).__name__}: "
                        f"{str(exc)[:200]})", fix="download the extract again (roads.pbf.path)"
                        ) from None
    highway_classes = default("roads", "highway_classes") if highway_classes is None \
        else highway_classes
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
        with osmnx_settings(useful_tags_way=way_tags(), useful_tags_node=node_tags):
            G = _read_road_file(path, "OSM XML", ox.graph_from_xml, path, simplify=False,
                                retain_all=True)
        return _require_edges(G, path, ("highway",))
    if suffix == ".graphml":
        G = _read_road_file(path, "a GraphML written by osmnx.save_graphml", ox.load_graphml,
                            path)
        return _require_edges(G, path, ("highway", "length"))
    if suffix in (".gpkg", ".geojson", ".json", ".shp", ".fgb"):
        lines = _read_road_file(path, "a vector file of road lines", gpd.read_file, path)
        return _graph_from_lines(lines, crs=crs, name=path.name)
    raise DataError(
        f"road file {path} has unknown type {suffix!r}; expected .osm/.xml, .graphml or a "
        f"vector file of lines (.gpkg, .geojson, .shp)")


def _read_road_file(path: Path, expected: str, reader: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``reader``; a parse failure becomes a :class:`DataError` naming the file."""
    try:
        return reader(*args, **kwargs)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, ET.ParseError,
            pyogrio.errors.DataSourceError) as exc:
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        raise DataError(f"road file {path} cannot be read as {expected} ({detail}); the file "
                        "is empty, truncated or of another kind", fix="replace the file with "
                        f"complete {expected} (roads.file.path)") from None


def _require_edges(G: nx.MultiDiGraph, path: Path, attributes: Sequence[str]) -> nx.MultiDiGraph:
    """Raise :class:`DataError` if ``G`` has no edge, or edges lacking ``attributes``."""
    if G.number_of_edges() == 0:
        raise EmptyNetworkError(f"road file {path} holds no road (0 edges)")
    for name in attributes:
        lacking = sum(1 for _, _, value in G.edges(data=name) if value is None)
        if lacking:
            raise DataError(f"road file {path}: {lacking} of {G.number_of_edges()} edges have "
                            f"no {name!r} attribute; expected every edge to carry "
                            f"{', '.join(attributes)} (as osmnx writes them)")
    return G


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
    progress = Progress(f"road line of {name}", len(lines), logger=logger)
    for i, row in lines.iterrows():
        progress.advance()
        u, v = int(inverse[i, 0]), int(inverse[i, 1])
        geom = row.geometry
        attrs = {"highway": row["highway"], "length": float(geom.length), "geometry": geom,
                 "oneway": bool(oneway[i])}
        attrs.update({c: row[c] for c in extra if pd.notna(row[c])})
        G.add_edge(u, v, reversed=False, **attrs)
        if not oneway[i]:
            G.add_edge(v, u, reversed=True, **{**attrs, "geometry": geom.reverse()})
    progress.finish()
    return G


def _road_record(
    source: str,
    *,
    osm_options: Mapping[str, Any] | None,
    pbf_path: str | Path | None,
    pbf_sha256: str | None,
    file_path: str | Path | None,
    proxy_path: str | Path | None,
) -> SourceRecord:
    """Provenance record of the roads of ``source`` (osm, pbf, file, proxy) for sources.json."""
    if source == "osm":
        url = str((osm_options or {}).get("overpass_url") or "https://overpass-api.de/api/")
        return record_url(url, name="roads", provider="OpenStreetMap (Overpass API via osmnx)",
                          licence="ODbL-1.0", citation=OSM_ATTRIBUTION)
    if source == "pbf":
        local = Path(str(pbf_path))
        record = record_url(str(pbf_path), name="roads", provider="OpenStreetMap (PBF extract)",
                            licence="ODbL-1.0", citation=OSM_ATTRIBUTION,
                            path=local if local.is_file() else None)
        return replace(record, sha256=record.sha256 or str(pbf_sha256 or ""))
    if source == "file":
        return record_user_file(str(file_path), name="roads")
    return SourceRecord(
        name="roads", provider="agglonet (synthetic proxy from the seats)", version="",
        licence="synthetic", citation="synthetic proxy road network; illustrative only",
        url="", retrieved=utc_today(),
        sha256=sha256_file(proxy_path) if proxy_path and Path(proxy_path).is_file() else "",
        path=str(proxy_path or ""))



def load_roads(
    *,
    source: str,
    area: BaseGeometry | None = None,
    area_crs: Any = None,
    highway_classes: Sequence[str] | None = None,
    speeds_kph: Mapping[str, float] | None = None,
    crs: Any = CHINA_ALBERS,
    osm_options: Mapping[str, Any] | None = None,
    pbf_path: str | None = None,
    file_path: str | Path | None = None,
    proxy_path: str | Path | None = None,
    pbf_cache_dir: str | Path = "cache/pbf",
    scgraph_speed_kph: float | None = None,
    scgraph_cache_dir: str | Path | None = None,
    scgraph_path: str | Path | None = None,
    seats: gpd.GeoDataFrame | None = None,
    core_city: str | int | None = None,
    max_seat_distance_km: float | None = None,
    detour_ratio: float | None = None,
) -> tuple[nx.MultiDiGraph, dict[str, Any]]:
    """Load the road network of one source and turn it into the travel-time graph.

    Parameters
    ----------
    source
        ``osm``, ``pbf``, ``file``, ``scgraph`` or ``proxy``.
    area, area_crs
        Cluster polygon plus buffer (``osm``: query area; ``pbf``, ``scgraph``: clip area).
    highway_classes, speeds_kph, crs
        See :func:`prepare_road_graph`.
    osm_options
        Keyword arguments of :func:`load_graph_osm` (``overpass_url``, ``timeout_s``, ...).
    pbf_path, file_path, proxy_path
        Input of the ``pbf``, ``file`` and ``proxy`` sources (the proxy is an OSM XML written
        by :func:`agglonet.transport.proxy.write_proxy_osm`, read like ``file``).
    scgraph_speed_kph
        The one assumed speed of every ``scgraph`` link (``roads.scgraph.speed_kph``; its
        config default when ``None``).
    scgraph_cache_dir, scgraph_path
        Folder of the cached scgraph extract (``roads.scgraph.cache_folder`` when ``None``), and
        the module file (default: the installed package's ``world_highways.py``).
    seats, core_city, max_seat_distance_km, detour_ratio
        With ``seats``, the report gets the network diagnostics of
        :func:`agglonet.transport.diagnostics.network_diagnostics` (key ``diagnostics``;
        thresholds from ``roads.diagnostics`` when ``None``).

    Returns
    -------
    (graph, report)
        See :func:`prepare_road_graph`; the report also names the source and its licence.

    Raises
    ------
    DataError
        On an unknown source, a missing input, or ``scgraph`` without its pseudo-class in
        ``highway_classes``.
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
    elif source == "scgraph":
        if area is None:
            raise DataError("roads.source 'scgraph' needs the cluster area polygon")
        raw, scgraph_meta = _load_scgraph(
            area, area_crs=area_crs, highway_classes=highway_classes, crs=crs,
            cache_dir=(default("roads", "scgraph", "cache_folder") if scgraph_cache_dir is None
                       else scgraph_cache_dir), path=scgraph_path)
        meta.update(scgraph_meta)
        speed = float(default("roads", "scgraph", "speed_kph") if scgraph_speed_kph is None
                      else scgraph_speed_kph)
        if speed <= 0:
            raise DataError(f"roads.scgraph.speed_kph must be > 0, got {speed}")
        speeds_kph = {**dict(default("roads", "speeds_kph") if speeds_kph is None
                             else speeds_kph), SCGRAPH_HIGHWAY: speed}
        meta["speed_kph_assumed"] = speed
        label = SCGRAPH_SOURCE
    else:
        raise DataError(f"unknown roads.source {source!r}; expected osm, pbf, file, scgraph or "
                        "proxy")
    if "provenance" not in meta:
        meta["provenance"] = _road_record(source, osm_options=osm_options, pbf_path=pbf_path,
                                          pbf_sha256=meta.get("pbf_sha256"),
                                          file_path=file_path, proxy_path=proxy_path).to_dict()
    G, report = prepare_road_graph(raw, highway_classes=highway_classes, speeds_kph=speeds_kph,
                                   source=label, crs=crs)
    if source in ("osm", "pbf", "scgraph") or (
            source == "file" and Path(str(file_path)).suffix in (".osm", ".xml", ".pbf")):
        meta["licence"] = OSM_ATTRIBUTION
    if source == "scgraph":
        meta["approximate"] = True
        meta["note"] = (f"real, simplified OpenStreetMap highways from {SCGRAPH_DISTRIBUTION} "
                        f"{meta.get('scgraph_version', '')}: no road classes (pseudo-class "
                        f"'{SCGRAPH_HIGHWAY}'), every link at the assumed speed "
                        f"{meta['speed_kph_assumed']:g} km/h; results are approximate")
    if source == "proxy":
        meta["licence"] = "synthetic; derived from the seats in boundaries/seats inputs"
        meta["illustrative"] = True
        meta["note"] = ("synthetic proxy road network built from prefecture and county seats; "
                        "results illustrate the method and are not findings")
    G.graph.update({k: v for k, v in meta.items() if isinstance(v, (str, bool))})
    report.update(meta)
    if seats is not None:
        report["diagnostics"] = network_diagnostics(
            raw, G, seats, core_city=core_city, max_seat_distance_km=max_seat_distance_km,
            detour_ratio=detour_ratio)
    return G, report


def _load_scgraph(
    area: BaseGeometry, *, area_crs: Any, highway_classes: Sequence[str] | None, crs: Any,
    cache_dir: str | Path, path: str | Path | None,
) -> tuple[nx.MultiDiGraph, dict[str, Any]]:
    """Raw scgraph graph of the area, and what the report records about it."""
    classes = default("roads", "highway_classes") if highway_classes is None \
        else highway_classes
    if SCGRAPH_HIGHWAY not in classes:
        raise DataError(f"roads.source 'scgraph' has no road classes: its links carry the "
                        f"pseudo-class {SCGRAPH_HIGHWAY!r}, which roads.highway_classes must "
                        f"list (given: {list(classes)})")
    file = world_highways_path() if path is None else Path(path)
    network = load_world_highways(cache_folder=cache_dir, path=file)
    area_crs = area_crs if area_crs is not None else crs
    clip = clip_network(network, area, area_crs=area_crs)
    raw = raw_scgraph_graph(clip)
    lengths = length_comparison(clip)
    logger.info("scgraph clip: %d nodes, %d links, %.0f km (Albers) vs %.0f km (package), "
                "median link ratio %.4f", len(clip.nodes), lengths["links"],
                lengths["total_km_albers"], lengths["total_km_package"],
                lengths["ratio_median"])
    record = scgraph_record(file)
    meta = {"scgraph_version": network.version, "scgraph_sha256": network.sha256,
            "scgraph_file": file.name, "scgraph_length_check": lengths,
            "provenance": record.to_dict()}
    return raw, meta
