"""Rule webmap: a cluster's outputs → results/{cluster}/map.html (self-contained, offline)."""

from agglonet.export.webmap import write_webmap
from agglonet.logs import setup_logging
from agglonet.outputs import webmap_inputs
from agglonet.provenance import attributions, read_sources
from agglonet.quality import read_quality

setup_logging(snakemake.log[0])

inp = snakemake.input
quality = read_quality(inp.quality)
write_webmap(
    snakemake.output.html,
    inputs={key: inp[key] for key in webmap_inputs()},
    quality=quality,
    attribution=attributions(read_sources(inp.sources), roads_source=quality.roads_source),
    languages=snakemake.params.languages,
)
