"""Rule report: every cluster's outputs → results/report.html (self-contained)."""

from agglonet.export.report import write_report
from agglonet.logs import setup_logging

setup_logging(snakemake.log[0])

write_report(
    snakemake.output.report,
    results_dir="results",
    resources_dir="resources",
    clusters=snakemake.params.clusters,
    config=snakemake.params.config,
    repo=snakemake.params.repo,
)
