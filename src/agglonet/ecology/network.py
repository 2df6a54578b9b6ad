"""TODO docstring."""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd

from agglonet.outputs import layer_columns

logger = logging.getLogger(__name__)




def empty_layer(name: str, *, crs: Any) -> gpd.GeoDataFrame:
    """Return a layer of ``ecology_network.gpkg`` with its columns and no rows."""
    return gpd.GeoDataFrame({c: [] for c in layer_columns("ecology_network", name)},
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
    """Return the five layers in file order; ``None`` or empty layers become empty typed ones."""
    given = {"sources": sources, "corridors": corridors, "corridor_areas": corridor_areas,
             "pinch_points": pinch_points, "barriers": barriers}
    out: dict[str, gpd.GeoDataFrame] = {}
    for name, frame in given.items():
        if frame is None or frame.empty:
            out[name] = empty_layer(name, crs=crs)
        else:
            out[name] = frame.to_crs(crs).reset_index(drop=True)
    return out
