"""Rule scenario_roads: the baseline road graph with a scenario's road edits → its road files."""

import json
from pathlib import Path

import pandas as pd

from agglonet.io import read_layer, write_csv, write_gpkg, write_json
from agglonet.logs import setup_logging
from agglonet.quality import read_quality
from agglonet.scenarios.diff import side_quality
from agglonet.scenarios.edits import ROAD_EDITS, edit_geometries, one_scenario
from agglonet.scenarios.roads import apply_road_edits
from agglonet.transport.graph import load_road_graph, save_road_graph
from agglonet.transport.layers import graph_to_layers, road_area, roads_metadata

setup_logging(snakemake.log[0])

inp, out, p = snakemake.input, snakemake.output, snakemake.params
scenario = one_scenario(snakemake.wildcards.scenario, p.scenario, speeds_kph=p.speeds_kph)
area = road_area(read_layer(inp.boundaries, "cluster").to_crs(p.crs), buffer_km=p.buffer_km)
edits = scenario.edits_of(ROAD_EDITS)
G, report_rows = apply_road_edits(
    load_road_graph(inp.graph), edits,
    geometries=edit_geometries(scenario, edits, crs=p.crs, area=area),
    border_gaps=pd.read_csv(inp.border_gaps, dtype={"end_city": str, "other_city": str}),
    speeds_kph=p.speeds_kph, scgraph_speed_kph=p.scgraph_speed_kph, crs=p.crs)
report = {**json.loads(Path(inp.report).read_text(encoding="utf-8")), "scenario": scenario.name,
          "nodes": G.number_of_nodes(), "edges": G.number_of_edges()}
save_road_graph(G, out.graph)
roads, nodes = graph_to_layers(G)
write_gpkg(out.roads, {"roads": roads, "road_nodes": nodes}, metadata=roads_metadata(report))
write_json(out.report, report)
fact = read_quality(inp.quality)
write_csv(out.edits, report_rows.assign(
    roads_source=fact.roads_source,
    quality=side_quality(fact, side="transport", edits_quality=scenario.edits_quality)),
    float_precision=p.float_precision)
