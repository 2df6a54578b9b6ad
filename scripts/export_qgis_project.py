"""Rule qgis_project: a cluster's outputs → results/{cluster}/{cluster}.{lang}.qgs, per language."""

from agglonet.export.qgis_project import write_project
from agglonet.export.qgis_scenarios import scenario_layers
from agglonet.logs import setup_logging
from agglonet.outputs import project_inputs
from agglonet.quality import read_quality

setup_logging(snakemake.log[0])

quality = read_quality(snakemake.input.quality)
for language, project in zip(snakemake.params.languages, snakemake.output.projects, strict=True):
    write_project(
        project,
        inputs={key: snakemake.input[key] for key in project_inputs()},
        sources=snakemake.input.sources,
        quality=quality,
        crs=snakemake.params.crs,
        language=language,
        extra_layers=scenario_layers(snakemake.params.scenarios, language=language),
    )
