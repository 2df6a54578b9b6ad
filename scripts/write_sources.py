"""Rule write_sources: merge the per-rule provenance records of a cluster into sources.json."""

from agglonet.logs import setup_logging
from agglonet.provenance import read_records, write_sources

setup_logging(snakemake.log[0])

records = [r for path in snakemake.input for r in read_records(path)]
write_sources(snakemake.output.sources, records)
