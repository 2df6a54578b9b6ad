"""Rule maps: a cluster's outputs → results/{cluster}/maps/{accessibility,ecology}.png."""

from pathlib import Path

from agglonet.export.maps import write_maps
from agglonet.logs import setup_logging
from agglonet.provenance import attributions, read_sources

setup_logging(snakemake.log[0])

params = snakemake.params
write_maps(
    Path(snakemake.output.accessibility).parent,
    results_dir=params.results_dir,
    resources_dir=params.resources_dir,
    cluster=snakemake.wildcards.cluster,
    attribution=attributions(read_sources(params.resources_dir), roads_source=params.roads_source),
    roads_source=params.roads_source,
)
