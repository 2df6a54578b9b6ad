"""TODO docstring."""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd

logger = logging.getLogger(__name__)


#: Columns (besides geometry) of each layer of ``ecology_network.gpkg``.
LAYER_COLUMNS: dict[str, list[str]] = {
    "sources": ["source_id", "area_km2", "dpc", "dpc_intra", "dpc_flux", "dpc_connector", "diic",
                "mean_resistance", "rank"],
    "corridors": ["corridor_id", "from_source", "to_source", "cost_weighted_length", "length_km",
                  "cwd_to_euclid", "euclid_distance_m", "gravity", "corridor_class"],
    "corridor_areas": ["corridor_id", "from_source", "to_source", "cost_weighted_length",
                       "length_km", "cwd_to_euclid", "euclid_distance_m", "gravity",
                       "corridor_class", "area_km2"],
    "pinch_points": ["pinch_id", "corridor_id", "current_density"],
    "barriers": ["barrier_id", "score", "lcd_gain", "from_source", "to_source", "corridor_id",
                 "radius_m"],
}


def empty_layer(name: str, *, crs: Any) -> gpd.GeoDataFrame:
    """A layer of ``ecology_network.gpkg`` with its columns and no rows."""
    return gpd.GeoDataFrame({c: [] for c in LAYER_COLUMNS[name]},
                            geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def network_layers(
    *,
    sources: gpd.GeoDataFrame,
    crs: Any,
    corridors: gpd.GeoDataFrame | None = None,
    corridor_areas: gpd.GeoDataFrame | None = None,
    pinch_points: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """The five layers in file order; ``None`` (or empty) layers become empty typed layers."""
    given = {"sources": sources, "corridors": corridors, "corridor_areas": corridor_areas,
             "pinch_points": pinch_points, "barriers": barriers}
    out: dict[str, gpd.GeoDataFrame] = {}
    for name, frame in given.items():
        if frame is None or frame.empty:
            out[name] = empty_layer(name, crs=crs)
        else:
            out[name] = frame.to_crs(crs).reset_index(drop=True)
    return out
