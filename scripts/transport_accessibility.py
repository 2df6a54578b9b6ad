"""Rule transport_accessibility: OD matrix and accessibility indices of one cluster."""

import json

from agglonet.io import read_layer, write_csv, write_gpkg, write_json
from agglonet.logs import setup_logging
from agglonet.retrieve.census import exact_text
from agglonet.transport.accessibility import transport_results
from agglonet.transport.graph import load_road_graph
from agglonet.transport.layers import roads_metadata

setup_logging(snakemake.log[0])

p = snakemake.params
with open(snakemake.input.report, encoding="utf-8") as fh:
    report = json.load(fh)
out = transport_results(
    load_road_graph(snakemake.input.graph),
    read_layer(snakemake.input.seats, "seats").drop(columns="fid"),
    offroad_speed_kph=p.offroad_speed_kph,
    mass=p.mass,
    thresholds_h=p.daily_thresholds_h,
    **p.potential,
    **p.linkage,
    max_access_km=p.max_access_km,
)
meta = roads_metadata(report)
write_gpkg(snakemake.output.transport,
           {"roads": read_layer(snakemake.input.roads, "roads").drop(columns="fid"),
            "seats": out["seats"], "od_links": out["od_links"]}, metadata=meta)
write_csv(snakemake.output.od, out["od"], float_precision=p.float_precision)
# GDP is a fact: written as read, not rounded to the precision of the indices
cities = out["cities"]
write_csv(snakemake.output.accessibility, cities.assign(gdp=exact_text(cities["gdp"])),
          float_precision=p.float_precision)
write_json(snakemake.output.summary, {**out["summary"], **meta, "road_network": report})
