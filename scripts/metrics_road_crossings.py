"""Rule road_crossings: ecology network layers + road–corridor crossings → ecology.gpkg."""

from agglonet.logs import setup_logging
from agglonet.metrics.steps import write_road_crossings

setup_logging(snakemake.log[0])

write_road_crossings(snakemake.input, snakemake.output, **dict(snakemake.params.items()))
