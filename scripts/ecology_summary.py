"""Rule ecology_summary: cluster-level figures of the ecological network."""

import json
from pathlib import Path

import rasterio

from agglonet.ecology.summary import ecology_summary
from agglonet.io import read_layer, write_json
from agglonet.logs import setup_logging

setup_logging(snakemake.log[0])

inp = snakemake.input
with rasterio.open(inp.landcover_source) as src:
    classification = src.tags().get("classification", "unknown")
summary = ecology_summary(
    sources=read_layer(inp.network, "sources"),
    corridors=read_layer(inp.network, "corridors"),
    pinch_points=read_layer(inp.network, "pinch_points"),
    barriers=read_layer(inp.network, "barriers"),
    indices=json.loads(Path(inp.indices).read_text(encoding="utf-8")),
    landcover_source=classification,
)
write_json(snakemake.output.summary, summary)
