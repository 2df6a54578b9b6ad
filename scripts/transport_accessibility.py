"""Rule transport_accessibility: OD matrix, accessibility indices and border gaps of one cluster."""

import json

from agglonet.io import read_layer, read_raster, write_csv, write_gpkg, write_json
from agglonet.logs import setup_logging
from agglonet.quality import read_quality
from agglonet.retrieve.census import exact_text
from agglonet.transport.accessibility import transport_results
from agglonet.transport.border_gaps import GAP_NOTES, border_results
from agglonet.transport.borders import neighbour_cities
from agglonet.transport.graph import load_road_graph
from agglonet.transport.layers import road_area, roads_metadata
from agglonet.transport.surface import city_cell_times

setup_logging(snakemake.log[0])

inp, p = snakemake.input, snakemake.params
with open(inp.report, encoding="utf-8") as fh:
    report = json.load(fh)
quality = read_quality(inp.quality)
labels = quality.transport_labels()
to_seat, profile = read_raster(inp.surface)
to_core, _ = read_raster(inp.core_surface)
cities = read_layer(inp.boundaries, "cities")
cell_times = city_cell_times(cities, to_seat_min=to_seat, to_core_min=to_core,
                             transform=profile["transform"], crs=profile["crs"])
G = load_road_graph(inp.graph)
seats = read_layer(inp.seats, "seats").drop(columns="fid")
out = transport_results(
    G,
    seats,
    offroad_speed_kph=p.offroad_speed_kph,
    mass=p.mass,
    thresholds_h=p.daily_thresholds_h,
    **p.potential,
    **p.linkage,
    max_access_km=p.max_access_km,
    cell_times=cell_times,
    labels=labels,
)
area = road_area(read_layer(inp.boundaries, "cluster"), buffer_km=p.buffer_km)
borders = border_results(G, seats=seats, cities=cities, od=out["od"], area=area,
                         neighbours=neighbour_cities(area, crs=cities.crs,
                                                     exclude=cities["adcode"]),
                         max_access_km=p.max_access_km, **p.borders,
                         note=GAP_NOTES.get(quality.roads_source, ""), labels=labels)
meta = roads_metadata(report)
roads = read_layer(inp.roads, "roads").drop(columns="fid").assign(**labels)
write_gpkg(snakemake.output.transport,
           {"roads": roads, "seats": out["seats"], "od_links": out["od_links"],
            "border_gaps": borders["gaps"]}, metadata=meta)
write_csv(snakemake.output.od, borders["od"], float_precision=p.float_precision)
write_csv(snakemake.output.border_gaps, borders["gaps"].drop(columns="geometry"),
          float_precision=p.float_precision)
# GDP is a fact: written as read, not rounded to the precision of the indices
cities_table = out["cities"]
write_csv(snakemake.output.accessibility, cities_table.assign(gdp=exact_text(cities_table["gdp"])),
          float_precision=p.float_precision)
write_json(snakemake.output.summary, {**out["summary"], "borders": borders["summary"], **meta,
                                      **labels, "road_network": report})
