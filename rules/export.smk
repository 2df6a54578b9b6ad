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
        # one group per configured scenario of the cluster (none without scenarios)
        scenarios=scenario_project_inputs,
    output:
        projects=expand("results/{{cluster}}/{{cluster}}.{lang}.qgs", lang=LANGUAGES),
    params:
        crs=config["crs"],
        languages=LANGUAGES,
        scenarios=scenario_project_files,
    priority: PRIORITY["outputs"]
    log:
        "logs/{cluster}/qgis_project.log",
    benchmark:
        "benchmarks/out/{cluster}/qgis_project.tsv"
    resources:
        mem_mb=500,
        runtime=10,
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
    priority: PRIORITY["outputs"]
    log:
        "logs/{cluster}/maps.log",
    benchmark:
        "benchmarks/out/{cluster}/maps.tsv"
    resources:
        **grid_resources("maps"),
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
    params:
        languages=LANGUAGES,
    priority: PRIORITY["outputs"]
    log:
        "logs/{cluster}/webmap.log",
    benchmark:
        "benchmarks/out/{cluster}/webmap.tsv"
    resources:
        **grid_resources("webmap"),
    message:
        "Web map of {wildcards.cluster}"
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/export_webmap.py"


rule scenario_maps:
    input:
        travel_time_diff="results/{cluster}/scenarios/{scenario}/travel_time_diff_min.tif",
        current_density_diff="results/{cluster}/scenarios/{scenario}/current_density_diff.tif",
        corridors_changed="results/{cluster}/scenarios/{scenario}/corridors_changed.gpkg",
        roads_edited=only_if("roads", "results/{cluster}/scenarios/{scenario}/roads_edited.gpkg"),
        boundaries="resources/{cluster}/boundaries.gpkg",
        seats="resources/{cluster}/seats.gpkg",
        sources="resources/{cluster}/sources.json",
        quality="results/{cluster}/quality.json",
        files=scenario_files,
    output:
        maps=expand("results/{{cluster}}/scenarios/{{scenario}}/map.{lang}.png", lang=LANGUAGES),
    params:
        scenario=scenario_params,
        languages=LANGUAGES,
        crs=config["crs"],
    log:
        "logs/{cluster}/scenarios/{scenario}/scenario_maps.log",
    benchmark:
        "benchmarks/out/{cluster}/scenarios/{scenario}/scenario_maps.tsv"
    resources:
        mem_mb=1000,
        runtime=15,
    message:
        "Before–after map of scenario {wildcards.scenario} ({wildcards.cluster})"
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/export_scenario_maps.py"


rule report:
    input:
        metrics=expand("results/{cluster}/metrics.csv", cluster=REPORT_CLUSTERS),
        maps=expand("results/{cluster}/maps/{name}.{lang}.png", cluster=REPORT_CLUSTERS,
                    name=MAP_NAMES, lang=LANGUAGES) if EXPORT["maps"] else [],
        sources_json=expand("resources/{cluster}/sources.json", cluster=REPORT_CLUSTERS),
        quality=expand("results/{cluster}/quality.json", cluster=REPORT_CLUSTERS),
        accessibility=expand("results/{cluster}/accessibility.csv", cluster=REPORT_CLUSTERS),
        cities_ecology=expand("results/{cluster}/cities_ecology.csv", cluster=REPORT_CLUSTERS),
        city_pairs_ecology=expand("results/{cluster}/city_pairs_ecology.csv",
                                  cluster=REPORT_CLUSTERS),
        corridors_csv=expand("results/{cluster}/corridors.csv", cluster=REPORT_CLUSTERS),
        projects=expand("results/{cluster}/{cluster}.{lang}.qgs", cluster=REPORT_CLUSTERS,
                        lang=LANGUAGES),
        comparison="results/cluster_comparison.csv",
        charts=expand("results/cluster_comparison.{lang}.png", lang=LANGUAGES),
        # only when scenarios of the report's clusters are configured
        scenarios=report_scenario_inputs(),
    output:
        pages=expand("results/report.{lang}.html", lang=LANGUAGES),
        pdfs=expand("results/report.{lang}.pdf", lang=LANGUAGES) if EXPORT["pdf"] else [],
        report="results/report.html",
    params:
        clusters=REPORT_CLUSTERS,
        languages=LANGUAGES,
        pdf=EXPORT["pdf"],
        maps={lang: {name: (per_language(f"results/{{cluster}}/maps/{name}.{{lang}}.png")[lang]
                            if EXPORT["maps"] else [None] * len(REPORT_CLUSTERS))
                     for name in MAP_NAMES} for lang in LANGUAGES},
        projects=per_language("results/{cluster}/{cluster}.{lang}.qgs"),
        scenarios=report_scenarios(),
        config=config,
        repo=workflow.basedir,
    log:
        "logs/report.log",
    benchmark:
        "benchmarks/out/report.tsv"
    resources:
        mem_mb=1000,
        runtime=15,
    message:
        "Report of {params.clusters} ({params.languages})"
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
        runtime=30,
    message:
        "RO-Crate run archive {output.archive}"
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/export_archive.py"


TARGETS += expand("results/{cluster}/{cluster}.{lang}.qgs", cluster=CLUSTERS, lang=LANGUAGES)
if EXPORT["maps"]:
    TARGETS += expand("results/{cluster}/maps/{name}.{lang}.png", cluster=CLUSTERS,
                      name=MAP_NAMES, lang=LANGUAGES)
if EXPORT["maps"]:
    TARGETS += [f"results/{s.cluster}/scenarios/{name}/map.{lang}.png"
                for name, s in SCENARIOS.items() for lang in LANGUAGES]
if EXPORT["webmap"]:
    TARGETS += expand("results/{cluster}/map.html", cluster=CLUSTERS)
