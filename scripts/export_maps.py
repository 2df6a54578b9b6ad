"""Rule maps: a cluster's outputs → results/{cluster}/maps/{accessibility,ecology}.{lang}.png."""

import json
from pathlib import Path

from agglonet.export.maps import write_maps
from agglonet.logs import setup_logging
from agglonet.provenance import attributions, source_records
from agglonet.quality import read_quality

setup_logging(snakemake.log[0])

inp = snakemake.input
quality = read_quality(inp.quality)
records = source_records(json.loads(Path(inp.sources).read_text(encoding="utf-8")))
write_maps(
    Path(snakemake.output.maps[0]).parent,
    inputs={key: inp[key] for key in ("cities", "transport", "ecology", "travel_time_min",
                                      "landcover", "boundaries")},
    cluster=snakemake.wildcards.cluster,
    attribution=attributions(records, roads_source=quality.roads_source),
    quality=quality,
    languages=snakemake.params.languages,
)
