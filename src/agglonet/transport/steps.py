"""Transport steps from files to files: one function per rule, shared by the baseline and scenarios.

The rules ``travel_time_surface`` and ``transport_accessibility`` call these through their
scripts; a road scenario (:mod:`agglonet.scenarios.steps`) calls them in one process, one after
the other, so that a scenario is computed by exactly the code of the baseline without paying a
new interpreter and its imports per step. ``inputs`` and ``outputs`` map the rule's input and
output names to paths (a Snakemake ``input``/``output`` object, or a plain dict).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from agglonet.io import read_layer, read_raster, write_csv, write_gpkg, write_json, write_raster
from agglonet.quality import read_quality
from agglonet.retrieve.census import exact_text
from agglonet.retrieve.landmask import SEA
from agglonet.transport.accessibility import transport_results
from agglonet.transport.border_gaps import GAP_NOTES, border_results
from agglonet.transport.borders import neighbour_cities
from agglonet.transport.graph import load_road_graph
from agglonet.transport.layers import road_area, roads_metadata
from agglonet.transport.surface import (
    city_cell_times,
    cluster_cells,
    core_seat,
    speed_grid,
    travel_time_from,
)

Paths = Mapping[str, Any]


def write_travel_time_surfaces(
    inputs: Paths, outputs: Paths, *, core_city: str | None,
    offroad_speeds_kph: Mapping[str, float], speed_by_code: Mapping[int, float],
) -> None:
    """Minutes from every cell to the nearest seat and to the core city's seat (two rasters).

    Parameters
    ----------
    inputs
        ``roads``, ``report``, ``seats``, ``boundaries``, ``landcover``, ``sea_mask``,
        ``quality`` (rule ``travel_time_surface``).
    outputs
        ``surface`` and ``core_surface``: two-band GeoTIFFs (minutes; inside-the-cluster flag).
    core_city
        Core city of ``transport.core_city`` (``None``: the most populous seat).
    offroad_speeds_kph
        Off-road speed per land-cover class name (written into the raster tags).
    speed_by_code
        The same speeds keyed by land-cover code
        (:func:`agglonet.ecology.landcover.offroad_speed_codes`).
    """
    landcover, profile = read_raster(inputs["landcover"])
    sea, _ = read_raster(inputs["sea_mask"])
    transform, crs = profile["transform"], profile["crs"]
    with open(inputs["report"], encoding="utf-8") as fh:
        meta = roads_metadata(json.load(fh))
    quality = read_quality(inputs["quality"])
    seats = read_layer(inputs["seats"], "seats")
    core = core_seat(seats, core_city)
    in_cluster = cluster_cells(read_layer(inputs["boundaries"], "cluster"), shape=landcover.shape,
                               transform=transform, crs=crs).astype(np.float32)
    tags = {**meta, "roads_source": quality.roads_source, "quality": quality.transport_quality,
            "units": "minutes", "offroad_speeds_kph": dict(offroad_speeds_kph),
            "band_2": "1 = cell inside the cluster, 0 = buffer (colour ramps span band-1 cells "
                      "with band 2 = 1)"}
    # the roads burnt in once, for both surfaces
    speed = speed_grid(read_layer(inputs["roads"], "roads").to_crs(crs), transform=transform,
                       landcover=landcover, speed_by_code=speed_by_code, impassable=sea == SEA)
    del landcover, sea
    for path, targets, what in (
        (outputs["surface"], seats, "the nearest city seat"),
        (outputs["core_surface"], core,
         f"the seat of the core city {core['name_en'].iloc[0]} ({core['adcode'].iloc[0]})"),
    ):
        minutes = travel_time_from(speed, targets, transform=transform, crs=crs)
        write_raster(path, np.stack([minutes, in_cluster]), transform=transform, crs=crs,
                     nodata=-9999.0, tags={**tags, "destination": what}, resampling="average",
                     band_description=[f"travel time to {what} (min)",
                                       "inside the cluster (1/0)"])


def write_accessibility(
    inputs: Paths, outputs: Paths, *, offroad_speed_kph: float, mass: str,
    daily_thresholds_h: list[float], potential: Mapping[str, Any], linkage: Mapping[str, Any],
    max_access_km: float, borders: Mapping[str, Any], buffer_km: float, float_precision: int,
) -> None:
    """OD matrix, accessibility indices and border gaps of one cluster.

    Parameters
    ----------
    inputs
        ``graph``, ``roads``, ``report``, ``seats``, ``boundaries``, ``surface``,
        ``core_surface``, ``quality`` (rule ``transport_accessibility``).
    outputs
        ``transport`` (GeoPackage), ``od``, ``accessibility``, ``border_gaps`` (CSV) and
        ``summary`` (JSON).
    offroad_speed_kph, mass, daily_thresholds_h, potential, linkage, max_access_km, borders
        Options of :func:`~agglonet.transport.accessibility.transport_results` and
        :func:`~agglonet.transport.border_gaps.border_results` (config ``transport``).
    buffer_km
        Buffer of the road area around the cluster (km).
    float_precision
        Significant digits of the tables.
    """
    with open(inputs["report"], encoding="utf-8") as fh:
        report = json.load(fh)
    quality = read_quality(inputs["quality"])
    labels = quality.transport_labels()
    to_seat, profile = read_raster(inputs["surface"])
    to_core, _ = read_raster(inputs["core_surface"])
    cities = read_layer(inputs["boundaries"], "cities")
    cell_times = city_cell_times(cities, to_seat_min=to_seat, to_core_min=to_core,
                                 transform=profile["transform"], crs=profile["crs"])
    G = load_road_graph(inputs["graph"])
    seats = read_layer(inputs["seats"], "seats").drop(columns="fid")
    out = transport_results(G, seats, offroad_speed_kph=offroad_speed_kph, mass=mass,
                            thresholds_h=daily_thresholds_h, **potential, **linkage,
                            max_access_km=max_access_km, cell_times=cell_times, labels=labels)
    area = road_area(read_layer(inputs["boundaries"], "cluster"), buffer_km=buffer_km)
    gaps = border_results(G, seats=seats, cities=cities, od=out["od"], area=area,
                          neighbours=neighbour_cities(area, crs=cities.crs,
                                                      exclude=cities["adcode"]),
                          max_access_km=max_access_km, **borders,
                          note=GAP_NOTES.get(quality.roads_source, ""), labels=labels)
    meta = roads_metadata(report)
    roads = read_layer(inputs["roads"], "roads").drop(columns="fid").assign(**labels)
    write_gpkg(outputs["transport"],
               {"roads": roads, "seats": out["seats"], "od_links": out["od_links"],
                "border_gaps": gaps["gaps"]}, metadata=meta)
    write_csv(outputs["od"], gaps["od"], float_precision=float_precision)
    write_csv(outputs["border_gaps"], gaps["gaps"].drop(columns="geometry"),
              float_precision=float_precision)
    # GDP is a fact: written as read, not rounded to the precision of the indices
    cities_table = out["cities"]
    write_csv(outputs["accessibility"],
              cities_table.assign(gdp=exact_text(cities_table["gdp"])),
              float_precision=float_precision)
    write_json(outputs["summary"], {**out["summary"], "borders": gaps["summary"], **meta,
                                    **labels, "road_network": report})
