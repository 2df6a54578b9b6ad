"""Rule report: every cluster's outputs → results/report.html (self-contained)."""

from agglonet.export.report import CLUSTER_INPUTS, write_report
from agglonet.logs import setup_logging

setup_logging(snakemake.log[0])

inp = snakemake.input
clusters = {
    cluster: {key: inp[key][i] for key in CLUSTER_INPUTS if len(inp[key]) > i}
    for i, cluster in enumerate(snakemake.params.clusters)
}
write_report(
    snakemake.output.report,
    clusters=clusters,
    comparison_table=inp.comparison,
    comparison_chart=inp.chart,
    config=snakemake.params.config,
    repo=snakemake.params.repo,
)
