# rules/export.smk — stage 5: QGIS project, maps, HTML report, RO-Crate run archive.
# `make run` builds the per-cluster project and maps (TARGETS); `make report` and `make archive`
# ask for the `report` and `archive` rules by name.

import datetime as _dt

EXPORT = config.get("export", {"maps": True})
EXPORT_RASTERS = ["travel_time_min", "landcover", "mspa", "resistance", "cost_distance",
                  "current_density"]
ARCHIVE_ZIP = "results/archive/agglonet-{}-{}.zip".format(
    "-".join(CLUSTERS), _dt.date.today().strftime("%Y%m%d"))


rule qgis_project:
    input:
        transport="results/{cluster}/transport.gpkg",
        ecology="results/{cluster}/ecology.gpkg",
        cities="results/{cluster}/cities.gpkg",
        rasters=expand("results/{{cluster}}/{name}.tif", name=EXPORT_RASTERS),
        transport_summary="results/{cluster}/transport_summary.json",
        sources="resources/{cluster}/sources.json",
    output:
        project="results/{cluster}/{cluster}.qgs",
    params:
        crs=config["crs"],
        roads_source=config["roads"]["source"],
        results_dir=lambda w: f"results/{w.cluster}",
        resources_dir=lambda w: f"resources/{w.cluster}",
    log:
        "logs/{cluster}/qgis_project.log",
    benchmark:
        "benchmarks/out/{cluster}/qgis_project.tsv"
    resources:
        mem_mb=500,
    message:
        "QGIS project of {wildcards.cluster}"
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/export_qgis_project.py"


rule maps:
    input:
        transport="results/{cluster}/transport.gpkg",
        ecology="results/{cluster}/ecology.gpkg",
        cities="results/{cluster}/cities.gpkg",
        travel_time="results/{cluster}/travel_time_min.tif",
        landcover="results/{cluster}/landcover.tif",
        sources="resources/{cluster}/sources.json",
    output:
        accessibility="results/{cluster}/maps/accessibility.png",
        ecology="results/{cluster}/maps/ecology.png",
    params:
        roads_source=config["roads"]["source"],
        results_dir=lambda w: f"results/{w.cluster}",
        resources_dir=lambda w: f"resources/{w.cluster}",
    log:
        "logs/{cluster}/maps.log",
    benchmark:
        "benchmarks/out/{cluster}/maps.tsv"
    resources:
        mem_mb=1000,
    message:
        "Maps of {wildcards.cluster}"
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/export_maps.py"


rule report:
    input:
        metrics=expand("results/{cluster}/metrics.csv", cluster=CLUSTERS),
        maps=expand("results/{cluster}/maps/{name}.png", cluster=CLUSTERS,
                    name=["accessibility", "ecology"]) if EXPORT.get("maps", True) else [],
        projects=expand("results/{cluster}/{cluster}.qgs", cluster=CLUSTERS),
        comparison="results/cluster_comparison.csv",
        chart="results/cluster_comparison.png",
    output:
        report="results/report.html",
    params:
        clusters=list(CLUSTERS),
        config=config,
        repo=workflow.basedir,
    log:
        "logs/report.log",
    benchmark:
        "benchmarks/out/report.tsv"
    resources:
        mem_mb=500,
    message:
        "HTML report of {params.clusters}"
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/export_report.py"


rule archive:
    input:
        targets=lambda wildcards: TARGETS,
        report="results/report.html",
    output:
        archive=ARCHIVE_ZIP,
    params:
        clusters=list(CLUSTERS),
        config=config,
        repo=workflow.basedir,
        include_inputs=EXPORT.get("archive", {}).get("include_inputs", True),
    log:
        "logs/archive.log",
    benchmark:
        "benchmarks/out/archive.tsv"
    resources:
        mem_mb=1000,
    message:
        "RO-Crate run archive {output.archive}"
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/export_archive.py"


TARGETS += expand("results/{cluster}/{cluster}.qgs", cluster=CLUSTERS)
if EXPORT.get("maps", True):
    TARGETS += expand("results/{cluster}/maps/{name}.png", cluster=CLUSTERS,
                      name=["accessibility", "ecology"])
