"""Rule archive: the finished run → results/archive/agglonet-<clusters>-<date>.zip (RO-Crate)."""

from agglonet.export.archive import build_archive
from agglonet.logs import setup_logging

setup_logging(snakemake.log[0])

build_archive(
    snakemake.output.archive,
    root=".",
    repo=snakemake.params.repo,
    clusters=snakemake.params.clusters,
    config=snakemake.params.config,
    include_inputs=snakemake.params.include_inputs,
)
