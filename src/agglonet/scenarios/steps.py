"""A scenario's jobs: the baseline's steps run in one process, from files to files.

A road scenario is two jobs (rules ``scenario_transport`` and ``scenario_tables``) instead of a
chain of seven: each job calls the baseline's own step functions (:mod:`agglonet.transport.steps`,
:mod:`agglonet.metrics.steps`) one after the other, writing and reading the same files the
separate rules would, so the results are the same byte for byte; what is saved is a Python
start-up and the geospatial imports per step. ``inputs`` and ``outputs`` map names to paths (a
Snakemake ``input``/``output`` object, or a dict).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agglonet.ecology.landcover import offroad_speed_codes
from agglonet.io import read_layer, read_raster, write_csv, write_gpkg, write_json, write_raster
from agglonet.metrics.steps import write_cluster_metrics, write_ecology_tables, write_road_crossings
from agglonet.quality import read_quality
from agglonet.scenarios.diff import (
    changed_corridors,
    cities_diff,
    match_sources,
    metrics_diff,
    pairs_diff,
    raster_diff,
    scenario_summary,
    side_quality,
)
from agglonet.scenarios.edits import ROAD_EDITS, Scenario, edit_geometries
from agglonet.scenarios.landscape import LANDSCAPE_EDIT_COLUMNS
from agglonet.scenarios.roads import ROAD_EDIT_COLUMNS, apply_road_edits, edited_links
from agglonet.transport.graph import load_road_graph, save_road_graph
from agglonet.transport.layers import graph_to_layers, road_area, roads_metadata
from agglonet.transport.steps import write_accessibility, write_travel_time_surfaces

logger = logging.getLogger(__name__)

Paths = Mapping[str, Any]
#: Columns read as text in the before–after tables.
_CODES = {"adcode": str, "origin_adcode": str, "dest_adcode": str, "city_adcodes": str}


def write_road_edits(
    inputs: Paths, outputs: Paths, *, scenario: Scenario, speeds_kph: Mapping[str, float],
    scgraph_speed_kph: float, buffer_km: float, crs: str, float_precision: int,
) -> None:
    """Apply a scenario's road edits to the baseline road graph; write its road files.

    Parameters
    ----------
    inputs
        ``graph``, ``report``, ``boundaries``, ``border_gaps``, ``quality`` of the baseline.
    outputs
        ``graph`` (GraphML), ``roads`` (GeoPackage), ``report`` (JSON), ``edits``
        (``road_edits.csv``) and optionally ``edited`` (``roads_edited.gpkg``: the links added,
        closed or re-timed, :func:`~agglonet.scenarios.roads.edited_links`; needs input
        ``base_roads``, the baseline's ``roads.gpkg``).
    scenario
        The scenario (:func:`agglonet.scenarios.edits.one_scenario`).
    speeds_kph, scgraph_speed_kph
        Default speeds of the road classes (config ``roads``).
    buffer_km, crs
        Road area buffer around the cluster (km) and the working CRS.
    float_precision
        Significant digits of the table.
    """
    area = road_area(read_layer(inputs["boundaries"], "cluster").to_crs(crs), buffer_km=buffer_km)
    edits = scenario.edits_of(ROAD_EDITS)
    G, report_rows = apply_road_edits(
        load_road_graph(inputs["graph"]), edits,
        geometries=edit_geometries(scenario, edits, crs=crs, area=area),
        border_gaps=pd.read_csv(inputs["border_gaps"], dtype={"end_city": str, "other_city": str}),
        speeds_kph=speeds_kph, scgraph_speed_kph=scgraph_speed_kph, crs=crs)
    report = {**json.loads(Path(inputs["report"]).read_text(encoding="utf-8")),
              "scenario": scenario.name, "nodes": G.number_of_nodes(),
              "edges": G.number_of_edges()}
    save_road_graph(G, outputs["graph"])
    roads, nodes = graph_to_layers(G)
    write_gpkg(outputs["roads"], {"roads": roads, "road_nodes": nodes},
               metadata=roads_metadata(report))
    write_json(outputs["report"], report)
    fact = read_quality(inputs["quality"])
    labels = {"roads_source": fact.roads_source,
              "quality": side_quality(fact, side="transport", edits_quality=scenario.edits_quality)}
    write_csv(outputs["edits"], report_rows.assign(**labels), float_precision=float_precision)
    if "edited" in outputs.keys():  # noqa: SIM118 (a Snakemake namedlist)
        edited = edited_links(read_layer(inputs["base_roads"], "roads"), roads)
        write_gpkg(outputs["edited"], {"roads_edited": edited.assign(**labels)})


def run_road_scenario(
    inputs: Paths, outputs: Paths, *, scenario: Scenario, roads: Mapping[str, Any],
    surface: Mapping[str, Any], accessibility: Mapping[str, Any],
) -> None:
    """Road edits, travel-time surfaces, OD and accessibility of a scenario, in one process.

    Parameters
    ----------
    inputs
        Baseline files: ``graph``, ``report``, ``boundaries``, ``border_gaps``, ``quality``,
        ``seats``, ``landcover``, ``sea_mask``.
    outputs
        The scenario's road files (``graph``, ``roads``, ``report``, ``edits``), surfaces
        (``surface``, ``core_surface``) and transport results (``transport``, ``od``,
        ``accessibility``, ``summary``, ``border_gaps``).
    scenario
        The scenario.
    roads, surface, accessibility
        Options of :func:`write_road_edits`,
        :func:`~agglonet.transport.steps.write_travel_time_surfaces` (``core_city``,
        ``offroad_speeds_kph``) and :func:`~agglonet.transport.steps.write_accessibility`.
    """
    write_road_edits(inputs, outputs, scenario=scenario, **roads)
    logger.info("scenario %s: road edits applied; travel-time surfaces", scenario.name)
    shared = {k: inputs[k] for k in ("seats", "boundaries", "quality")}
    write_travel_time_surfaces(
        {**shared, "roads": outputs["roads"], "report": outputs["report"],
         "landcover": inputs["landcover"], "sea_mask": inputs["sea_mask"]},
        outputs, **surface, speed_by_code=offroad_speed_codes(surface["offroad_speeds_kph"]))
    logger.info("scenario %s: OD matrix and accessibility", scenario.name)
    write_accessibility(
        {**shared, "graph": outputs["graph"], "roads": outputs["roads"],
         "report": outputs["report"], "surface": outputs["surface"],
         "core_surface": outputs["core_surface"]},
        {**{k: outputs[k] for k in ("transport", "od", "accessibility", "border_gaps")},
         "summary": outputs["transport_summary"]},
        **accessibility)


def write_scenario_diff(
    inputs: Paths, outputs: Paths, *, scenario: Scenario, daily_thresholds_h: Sequence[float],
    float_precision: int,
) -> None:
    """Compare a scenario's tables and rasters with the baseline's (``docs/scenarios.md``).

    Parameters
    ----------
    inputs
        ``quality``, ``edits`` (a list of edit tables) and ``base_<name>``/``scen_<name>`` for
        ``metrics``, ``accessibility``, ``od``, ``cities_ecology``, ``sources``, ``ecology``,
        ``travel_time`` and ``current_density``.
    outputs
        ``metrics``, ``cities``, ``pairs`` (CSV), ``travel_time``, ``current_density``
        (GeoTIFF), ``corridors`` (GeoPackage) and ``summary`` (JSON).
    scenario
        The scenario.
    daily_thresholds_h, float_precision
        Config ``transport.daily_thresholds_h`` and ``metrics.float_precision``.
    """
    fact, quality = read_quality(inputs["quality"]), scenario.edits_quality

    def tables(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        base, scen = (pd.read_csv(inputs[f"{k}_{name}"], dtype=_CODES) for k in ("base", "scen"))
        return base, scen

    metrics = metrics_diff(*tables("metrics"), fact=fact, edits_quality=quality)
    pairs = pairs_diff(*tables("od"), fact=fact, edits_quality=quality)
    write_csv(outputs["metrics"], metrics, float_precision=float_precision)
    write_csv(outputs["cities"], cities_diff(
        accessibility=tables("accessibility"), cities_ecology=tables("cities_ecology"),
        sources=tables("sources"), thresholds_h=daily_thresholds_h, fact=fact,
        edits_quality=quality), float_precision=float_precision)
    write_csv(outputs["pairs"], pairs, float_precision=float_precision)
    for key in ("travel_time", "current_density"):
        (base, profile), (scen, _) = (read_raster(inputs[f"base_{key}"]),
                                      read_raster(inputs[f"scen_{key}"]))
        band = (base[0], scen[0]) if base.ndim == 3 else (base, scen)
        write_raster(outputs[key], raster_diff(*band, nodata=profile.get("nodata")),
                     transform=profile["transform"], crs=profile["crs"], nodata=-9999.0,
                     resampling="average", tags={"scenario": scenario.name, "difference":
                                                 "scenario − baseline"},
                     band_description=f"{key.replace('_', ' ')}: scenario − baseline")
    base_eco = {n: read_layer(inputs["base_ecology"], n) for n in ("sources", "corridors")}
    scen_eco = {n: read_layer(inputs["scen_ecology"], n) for n in ("sources", "corridors")}
    corridors = changed_corridors(
        base_eco["corridors"], scen_eco["corridors"],
        source_map=match_sources(base_eco["sources"], scen_eco["sources"]),
        quality=side_quality(fact, side="ecology", edits_quality=quality))
    write_gpkg(outputs["corridors"], {"corridors_changed": corridors})
    edit_tables = [pd.read_csv(path) for path in inputs["edits"]]
    road_edits = next((t for t in edit_tables if "start_node" in t.columns),
                      pd.DataFrame(columns=list(ROAD_EDIT_COLUMNS)))
    landscape_edits = next((t for t in edit_tables if "n_cells" in t.columns),
                           pd.DataFrame(columns=list(LANDSCAPE_EDIT_COLUMNS)))
    summary = scenario_summary(
        name=scenario.name, kind=scenario.kind, n_edits=len(scenario.edits),
        description=scenario.description, metrics=metrics, pairs=pairs,
        corridors=pd.DataFrame(corridors.drop(columns="geometry")), road_edits=road_edits,
        landscape_edits=landscape_edits, edits_quality=quality, fact=fact)
    write_json(outputs["summary"], {k: (None if isinstance(v, float) and not np.isfinite(v)
                                        else v) for k, v in summary.items()})


def run_scenario_tables(
    inputs: Paths, outputs: Paths, *, scenario: Scenario, cluster: str,
    road_classes: Sequence[str], class_weights: Mapping[str, float],
    daily_thresholds_h: Sequence[float], float_precision: int,
) -> None:
    """Road crossings, ecology tables, ``metrics.csv`` and the before–after diff, in one process.

    Parameters
    ----------
    inputs
        ``network``, ``roads``, ``current_density``, ``resistance``, ``boundaries``, ``seats``,
        ``accessibility``, ``od``, ``transport_summary``, ``ecology_summary``, ``border_gaps``,
        ``structure_pairs``, ``structure_summary``, ``quality`` and ``travel_time`` of the
        scenario (its own or the baseline's, by what its edits touch), ``edits`` (its edit
        tables) and the baseline's tables ``base_<name>`` (see :func:`write_scenario_diff`).
    outputs
        ``ecology`` (``ecology.gpkg``), ``cities_ecology``, ``city_pairs_ecology``,
        ``corridors_csv``, ``sources``, ``metrics`` and the diff outputs ``metrics_diff``,
        ``cities_diff``, ``pairs_diff``, ``travel_time_diff``, ``current_density_diff``,
        ``corridors_changed``, ``summary``.
    scenario, cluster
        The scenario and its cluster key.
    road_classes, class_weights, daily_thresholds_h, float_precision
        Options of the baseline's rules ``road_crossings`` and ``cluster_metrics``.
    """
    write_road_crossings(inputs, outputs, road_classes=road_classes, class_weights=class_weights)
    logger.info("scenario %s: ecology tables and metrics", scenario.name)
    write_ecology_tables(
        {**inputs, "ecology": outputs["ecology"]},
        {"cities": outputs["cities_ecology"], "pairs": outputs["city_pairs_ecology"],
         "corridors": outputs["corridors_csv"], "sources": outputs["sources"]},
        float_precision=float_precision)
    write_cluster_metrics({**inputs, "ecology": outputs["ecology"]}, outputs, cluster=cluster,
                          daily_thresholds_h=daily_thresholds_h, float_precision=float_precision)
    logger.info("scenario %s: against the baseline", scenario.name)
    scen = {"metrics": outputs["metrics"], "accessibility": inputs["accessibility"],
            "od": inputs["od"], "cities_ecology": outputs["cities_ecology"],
            "sources": outputs["sources"], "ecology": outputs["ecology"],
            "travel_time": inputs["travel_time"], "current_density": inputs["current_density"]}
    write_scenario_diff(
        {**{k: v for k, v in inputs.items() if k.startswith("base_")},
         **{f"scen_{k}": v for k, v in scen.items()}, "quality": inputs["quality"],
         "edits": inputs["edits"]},
        {"metrics": outputs["metrics_diff"], "cities": outputs["cities_diff"],
         "pairs": outputs["pairs_diff"], "travel_time": outputs["travel_time_diff"],
         "current_density": outputs["current_density_diff"],
         "corridors": outputs["corridors_changed"], "summary": outputs["summary"]},
        scenario=scenario, daily_thresholds_h=daily_thresholds_h, float_precision=float_precision)
