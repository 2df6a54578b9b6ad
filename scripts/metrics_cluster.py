"""Rule cluster_metrics: the stage outputs of one cluster → results/{cluster}/metrics.csv."""

import json
from pathlib import Path

import pandas as pd

from agglonet.io import read_layer, write_csv
from agglonet.logs import setup_logging
from agglonet.metrics.cluster import cluster_metrics
from agglonet.quality import read_quality

setup_logging(snakemake.log[0])

inp = snakemake.input
ecology = {name: read_layer(inp.ecology, name)
           for name in ("sources", "corridors", "pinch_points", "road_crossings")}
table = cluster_metrics(
    cluster=snakemake.wildcards.cluster,
    cities=read_layer(inp.boundaries, "cities"),
    cluster_polygon=read_layer(inp.boundaries, "cluster"),
    seats=read_layer(inp.seats, "seats"),
    accessibility=pd.read_csv(inp.accessibility, dtype={"adcode": str}),
    od=pd.read_csv(inp.od, dtype={"origin_adcode": str, "dest_adcode": str}),
    transport_summary=json.loads(Path(inp.transport_summary).read_text(encoding="utf-8")),
    ecology_summary=json.loads(Path(inp.ecology_summary).read_text(encoding="utf-8")),
    quality=read_quality(inp.quality),
    daily_thresholds_h=snakemake.params.daily_thresholds_h,
    float_precision=snakemake.params.float_precision,
    border_gaps=pd.read_csv(inp.border_gaps, dtype=str, keep_default_na=False),
    structure_pairs=pd.read_csv(inp.structure_pairs, dtype={"a_adcode": str, "b_adcode": str}),
    structure_summary=json.loads(Path(inp.structure_summary).read_text(encoding="utf-8")),
    **ecology,
)
write_csv(snakemake.output.metrics, table, float_precision=snakemake.params.float_precision)
