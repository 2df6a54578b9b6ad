# rules/export.smk — stage 5: QGIS project, maps, web map, HTML report, RO-Crate run archive.
# `make run` builds the per-cluster project, maps and web map (TARGETS); `make report` and `make archive`
# ask for the `report` and `archive` rules by name.

import datetime as _dt

from agglonet.export.maps import MAP_NAMES
from agglonet.outputs import project_inputs, webmap_inputs

EXPORT = config["export"]
ARCHIVE_ZIP = "results/archive/agglonet-{}-{}.zip".format(
    "-".join(CLUSTERS), _dt.date.today().strftime("%Y%m%d"))


rule qgis_project:
    input:
        **project_inputs(),
        sources="resources/{cluster}/sources.json",
        quality="results/{cluster}/quality.json",
    output:
        project="results/{cluster}/{cluster}.qgs",
    params:
        crs=config["crs"],
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
        travel_time_min="results/{cluster}/travel_time_min.tif",
        landcover="results/{cluster}/landcover.tif",
        boundaries="resources/{cluster}/boundaries.gpkg",
        sources="resources/{cluster}/sources.json",
        quality="results/{cluster}/quality.json",
    output:
        maps=expand("results/{{cluster}}/maps/{name}.{lang}.png", name=MAP_NAMES, lang=LANGUAGES),
    params:
        languages=LANGUAGES,
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


rule webmap:
    input:
        **webmap_inputs(),
        sources="resources/{cluster}/sources.json",
        quality="results/{cluster}/quality.json",
    output:
        html="results/{cluster}/map.html",
    log:
        "logs/{cluster}/webmap.log",
    benchmark:
        "benchmarks/out/{cluster}/webmap.tsv"
    resources:
        mem_mb=1000,
    message:
        "Web map of {wildcards.cluster}"
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/export_webmap.py"


rule report:
    input:
        metrics=expand("results/{cluster}/metrics.csv", cluster=CLUSTERS),
        accessibility_map=expand("results/{cluster}/maps/accessibility.png", cluster=CLUSTERS)
        if EXPORT["maps"] else [],
        ecology_map=expand("results/{cluster}/maps/ecology.png", cluster=CLUSTERS)
        if EXPORT["maps"] else [],
        transport_summary=expand("results/{cluster}/transport_summary.json", cluster=CLUSTERS),
        ecology_summary=expand("results/{cluster}/ecology_summary.json", cluster=CLUSTERS),
        sources_json=expand("resources/{cluster}/sources.json", cluster=CLUSTERS),
        quality=expand("results/{cluster}/quality.json", cluster=CLUSTERS),
        project=expand("results/{cluster}/{cluster}.qgs", cluster=CLUSTERS),
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
        include_inputs=EXPORT["archive"]["include_inputs"],
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
if EXPORT["maps"]:
    TARGETS += expand("results/{cluster}/maps/{name}.{lang}.png", cluster=CLUSTERS,
                      name=MAP_NAMES, lang=LANGUAGES)
if EXPORT["webmap"]:
    TARGETS += expand("results/{cluster}/map.html", cluster=CLUSTERS)
