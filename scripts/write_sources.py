"""Rule write_sources: merge the per-rule provenance records of a cluster into sources.json."""

from agglonet.logs import setup_logging

setup_logging(snakemake.log[0])  # noqa: F821

from agglonet.provenance import read_records, write_sources  # noqa: E402

records = [r for path in snakemake.input for r in read_records(path)]  # noqa: F821
write_sources(snakemake.output.sources, records)  # noqa: F821
