"""Rule ecology_summary: cluster-level figures of the ecological network."""

from agglonet.logs import setup_logging

setup_logging(snakemake.log[0])  # noqa: F821

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import rasterio  # noqa: E402

from agglonet.ecology.summary import ecology_summary  # noqa: E402
from agglonet.io import read_layer, write_json  # noqa: E402

inp = snakemake.input  # noqa: F821
with rasterio.open(inp.landcover_source) as src:
    classification = src.tags().get("classification", "unknown")
summary = ecology_summary(
    sources=read_layer(inp.network, "sources"),
    corridors=read_layer(inp.network, "corridors"),
    pinch_points=read_layer(inp.network, "pinch_points"),
    indices=json.loads(Path(inp.indices).read_text(encoding="utf-8")),
    landcover_source=classification,
)
write_json(snakemake.output.summary, summary)  # noqa: F821
