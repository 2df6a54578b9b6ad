"""TODO docstring."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import networkx as nx
import osmnx as ox
import pandas as pd
from shapely.geometry.base import BaseGeometry

from agglonet.crs import require_crs
from agglonet.errors import DataError
from agglonet.osm import OSM_ATTRIBUTION

logger = logging.getLogger(__name__)


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


def road_area(cluster: gpd.GeoDataFrame, *, buffer_km: float) -> BaseGeometry:
    """Return the cluster polygon (dissolved) plus ``buffer_km``, in the layer's (metric) CRS."""
    require_crs(cluster, what="cluster polygon")
    if cluster.crs.is_geographic:
        raise DataError("cluster polygon must be in the metric working CRS to be buffered")
    return cluster.geometry.union_all().buffer(buffer_km * 1000.0)


def roads_metadata(report: Mapping[str, Any]) -> dict[str, Any]:
    """Dataset metadata for the road outputs: source, licence/attribution, quality flags."""
    keys = ("roads_source", "licence", "illustrative", "approximate", "note", "pbf", "pbf_sha256",
            "roads_url", "scgraph_version", "scgraph_sha256", "speed_kph_assumed")
    meta = {k: report[k] for k in keys if report.get(k) is not None}
    if meta.get("licence") == OSM_ATTRIBUTION:
        meta["attribution"] = OSM_ATTRIBUTION
    return meta
