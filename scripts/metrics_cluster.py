"""Rule cluster_metrics: the stage outputs of one cluster → results/{cluster}/metrics.csv."""

from agglonet.logs import setup_logging
from agglonet.metrics.steps import write_cluster_metrics

setup_logging(snakemake.log[0])

write_cluster_metrics(snakemake.input, snakemake.output, cluster=snakemake.wildcards.cluster,
                      **dict(snakemake.params.items()))
