"""Metrics steps from files to files: one function per rule, shared by the baseline and scenarios.

The rules ``road_crossings``, ``ecology_tables`` and ``cluster_metrics`` call these through their
scripts; a scenario (:mod:`agglonet.scenarios.steps`) calls them in one process. ``inputs`` and
``outputs`` map the rule's input and output names to paths (a Snakemake object or a dict).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio

from agglonet.io import read_layer, read_raster, write_csv, write_gpkg
from agglonet.metrics.cluster import cluster_metrics
from agglonet.metrics.crossings import ecology_layers_with_crossings
from agglonet.metrics.ecology_tables import (
    cities_ecology,
    city_pairs_ecology,
    corridors_table,
    sources_table,
)
from agglonet.outputs import layer_names
from agglonet.quality import read_quality

Paths = Mapping[str, Any]
#: Layers of ``ecology.gpkg`` the ecology tables read.
TABLE_LAYERS = ("sources", "corridors", "corridor_areas", "pinch_points", "barriers",
                "road_crossings")


def write_road_crossings(inputs: Paths, outputs: Paths, *, road_classes: Sequence[str],
                         class_weights: Mapping[str, float]) -> None:
    """Ecological network layers and road–corridor crossings → ``ecology.gpkg``.

    Parameters
    ----------
    inputs
        ``network`` (``ecology_network.gpkg``), ``roads`` (``roads.gpkg``),
        ``current_density`` (rule ``road_crossings``).
    outputs
        ``ecology``: the GeoPackage, with the network's provenance metadata.
    road_classes, class_weights
        Road classes counted and their weights (config ``roads.highway_classes``,
        ``metrics.road_class_weights``).
    """
    network_path = inputs["network"]
    present = set(pyogrio.list_layers(network_path)[:, 0])  # also holds non-spatial layer_styles
    network = {name: read_layer(network_path, name) for name in layer_names("ecology_network")
               if name in present}
    current, profile = read_raster(inputs["current_density"])
    layers = ecology_layers_with_crossings(
        network, read_layer(inputs["roads"], "roads"), current_density=current,
        transform=profile["transform"], road_classes=road_classes, class_weights=class_weights)
    # carry the network's provenance (stored on each of its layers) over to ecology.gpkg
    first = next(iter(network))
    metadata = pyogrio.read_info(network_path, layer=first).get("layer_metadata") or {}
    write_gpkg(outputs["ecology"], layers, metadata=metadata)


def write_ecology_tables(inputs: Paths, outputs: Paths, *, float_precision: int) -> None:
    """Write the ecological network per city, neighbour pair, corridor and source (4 tables).

    Parameters
    ----------
    inputs
        ``ecology``, ``boundaries``, ``resistance``, ``current_density``, ``quality`` (rule
        ``ecology_tables``).
    outputs
        ``cities``, ``pairs``, ``corridors``, ``sources``.
    float_precision
        Significant digits of the tables.
    """
    layers = {name: read_layer(inputs["ecology"], name).drop(columns="fid")
              for name in TABLE_LAYERS}
    cities = read_layer(inputs["boundaries"], "cities").drop(columns="fid")
    quality = read_quality(inputs["quality"])
    resistance, profile = read_raster(inputs["resistance"])
    current, _ = read_raster(inputs["current_density"])
    write_csv(outputs["cities"], cities_ecology(
        cities=cities, sources=layers["sources"], corridors=layers["corridors"],
        pinch_zones=layers["pinch_points"], road_crossings=layers["road_crossings"],
        barriers=layers["barriers"], resistance=resistance, current_density=current,
        transform=profile["transform"], quality=quality), float_precision=float_precision)
    write_csv(outputs["pairs"], city_pairs_ecology(
        cities=cities, sources=layers["sources"], corridors=layers["corridors"],
        road_crossings=layers["road_crossings"], quality=quality),
        float_precision=float_precision)
    write_csv(outputs["corridors"], corridors_table(
        corridors=layers["corridors"], corridor_areas=layers["corridor_areas"], cities=cities,
        quality=quality), float_precision=float_precision)
    write_csv(outputs["sources"], sources_table(sources=layers["sources"], cities=cities,
                                                quality=quality),
              float_precision=float_precision)


def _json(path: Any) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_cluster_metrics(inputs: Paths, outputs: Paths, *, cluster: str,
                          daily_thresholds_h: Sequence[float], float_precision: int) -> None:
    """Write the stage outputs of one cluster as ``metrics.csv`` (one row).

    Parameters
    ----------
    inputs
        The inputs of rule ``cluster_metrics`` (boundaries, seats, accessibility, od, summaries,
        ecology, quality, border gaps, industrial structure).
    outputs
        ``metrics``.
    cluster
        Cluster key.
    daily_thresholds_h, float_precision
        Config ``transport.daily_thresholds_h`` and ``metrics.float_precision``.
    """
    ecology = {name: read_layer(inputs["ecology"], name)
               for name in ("sources", "corridors", "pinch_points", "road_crossings")}
    table = cluster_metrics(
        cluster=cluster,
        cities=read_layer(inputs["boundaries"], "cities"),
        cluster_polygon=read_layer(inputs["boundaries"], "cluster"),
        seats=read_layer(inputs["seats"], "seats"),
        accessibility=pd.read_csv(inputs["accessibility"], dtype={"adcode": str}),
        od=pd.read_csv(inputs["od"], dtype={"origin_adcode": str, "dest_adcode": str}),
        transport_summary=_json(inputs["transport_summary"]),
        ecology_summary=_json(inputs["ecology_summary"]),
        quality=read_quality(inputs["quality"]),
        daily_thresholds_h=daily_thresholds_h,
        float_precision=float_precision,
        border_gaps=pd.read_csv(inputs["border_gaps"], dtype=str, keep_default_na=False),
        structure_pairs=pd.read_csv(inputs["structure_pairs"],
                                    dtype={"a_adcode": str, "b_adcode": str}),
        structure_summary=_json(inputs["structure_summary"]),
        **ecology,
    )
    write_csv(outputs["metrics"], table, float_precision=float_precision)
