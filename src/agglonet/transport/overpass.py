"""Road graphs from the Overpass API through osmnx, with agglonet's downloader doing the HTTP.

osmnx 2 builds the Overpass queries (one per sub-polygon) and the graph; its own request loop
(``osmnx._overpass._overpass_request``) retries 429 and 504 every 55 s without limit, ignores
``Retry-After`` and blames any unreadable reply on the query. :func:`load_graph_osm` puts
:func:`agglonet.download.fetch_json` in its place for the duration of the call: bounded retries
with backoff that honour ``Retry-After``, a total deadline, progress in the log, complete replies
cached under ``roads.osm.cache_folder``, and errors that say what the server did.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import osmnx as ox
import requests
from shapely.geometry.base import BaseGeometry

from agglonet.config import default
from agglonet.crs import WGS84
from agglonet.download import fetch_json
from agglonet.errors import DownloadError, EmptyNetworkError
from agglonet.osm import OSM_ATTRIBUTION
from agglonet.transport.graph import highway_filter

logger = logging.getLogger(__name__)


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


def way_tags() -> list[str]:
    """Return the OSM way tags kept on edges: osmnx's useful tags plus source, maxspeed, name."""
    return sorted(set(ox.settings.useful_tags_way) | {"source", "maxspeed", "highway", "name"})


def polygon_wgs84(polygon: BaseGeometry, polygon_crs: Any) -> BaseGeometry:
    """Return ``polygon`` (in ``polygon_crs``) in WGS84 lon/lat."""
    return gpd.GeoSeries([polygon], crs=polygon_crs).to_crs(WGS84).iloc[0]


@contextlib.contextmanager
def overpass_through_agglonet(
    overpass_url: str, *, timeout_s: float, cache_folder: str | Path | None,
) -> Iterator[None]:
    """Within the block, osmnx sends its Overpass queries through :func:`fetch_json`.

    Replaces ``osmnx._overpass._overpass_request`` (a private function: osmnx has no public
    hook for its HTTP) and restores it afterwards.
    """
    import osmnx._overpass as ox_overpass

    url = overpass_url.rstrip("/") + "/interpreter"

    def _request(data: Mapping[str, Any]) -> dict[str, Any]:
        reply = fetch_json(url, data=dict(data), cache_dir=cache_folder, timeout_s=timeout_s,
                           what="Overpass query")
        if not isinstance(reply, dict):
            raise DownloadError(f"Overpass at {url} answered with JSON that is not an object "
                                f"({type(reply).__name__}); expected Overpass JSON")
        return reply

    original = ox_overpass._overpass_request
    ox_overpass._overpass_request = _request
    try:
        yield
    finally:
        ox_overpass._overpass_request = original


def load_graph_osm(
    polygon: BaseGeometry,
    *,
    polygon_crs: Any,
    highway_classes: Iterable[str] | None = None,
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
    poly = polygon_wgs84(polygon, polygon_crs)
    highway_classes = default("roads", "highway_classes") if highway_classes is None \
        else highway_classes
    filt = highway_filter(highway_classes)
    with osmnx_settings(overpass_url=overpass_url, requests_timeout=timeout_s,
                        overpass_memory=overpass_memory, use_cache=use_cache,
                        cache_folder=str(cache_folder), overpass_rate_limit=overpass_rate_limit,
                        useful_tags_way=way_tags()), \
            overpass_through_agglonet(overpass_url, timeout_s=timeout_s,
                                      cache_folder=cache_folder if use_cache else None):
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
