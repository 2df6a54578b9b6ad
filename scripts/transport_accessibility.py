"""Rule transport_accessibility: OD matrix, accessibility indices and border gaps of one cluster."""

from agglonet.logs import setup_logging
from agglonet.transport.steps import write_accessibility

setup_logging(snakemake.log[0])

write_accessibility(snakemake.input, snakemake.output, **dict(snakemake.params.items()))
