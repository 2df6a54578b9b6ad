"""Rule qgis_project: a cluster's outputs → results/{cluster}/{cluster}.qgs."""

from agglonet.export.qgis_project import write_project
from agglonet.logs import setup_logging

setup_logging(snakemake.log[0])

write_project(
    snakemake.output.project,
    results_dir=snakemake.params.results_dir,
    resources_dir=snakemake.params.resources_dir,
    crs=snakemake.params.crs,
    roads_source=snakemake.params.roads_source,
)
