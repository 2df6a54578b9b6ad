# rules/metrics.smk — stage 4: road–corridor crossings, per-cluster metrics, the ecology tables
# per city / neighbour pair / corridor / source, clusters side by side.
# Column definitions: docs/metrics.md.


rule road_crossings:
    message:
        "Road–corridor crossings and road length in corridors for {wildcards.cluster}"
    input:
        network="resources/{cluster}/ecology_network.gpkg",
        roads="resources/{cluster}/roads.gpkg",
        current_density="results/{cluster}/current_density.tif",
    output:
        ecology="results/{cluster}/ecology.gpkg",
    params:
        road_classes=config["roads"]["highway_classes"],
        class_weights=config["metrics"]["road_class_weights"],
    priority: PRIORITY["critical_path"]
    log:
        "logs/{cluster}/road_crossings.log",
    benchmark:
        "benchmarks/out/{cluster}/road_crossings.tsv"
    resources:
        **grid_resources("road_crossings"),
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/metrics_road_crossings.py"


rule cluster_metrics:
    message:
        "Connectivity metrics of {wildcards.cluster}"
    input:
        boundaries="resources/{cluster}/boundaries.gpkg",
        seats="resources/{cluster}/seats.gpkg",
        accessibility="results/{cluster}/accessibility.csv",
        od="results/{cluster}/od.csv",
        transport_summary="results/{cluster}/transport_summary.json",
        ecology_summary="results/{cluster}/ecology_summary.json",
        ecology="results/{cluster}/ecology.gpkg",
        quality="results/{cluster}/quality.json",
        border_gaps="results/{cluster}/border_gaps.csv",
        structure_pairs="results/{cluster}/structure_pairs.csv",
        structure_summary="results/{cluster}/structure_summary.json",
    output:
        metrics="results/{cluster}/metrics.csv",
    params:
        daily_thresholds_h=config["transport"]["daily_thresholds_h"],
        float_precision=config["metrics"]["float_precision"],
    log:
        "logs/{cluster}/cluster_metrics.log",
    benchmark:
        "benchmarks/out/{cluster}/cluster_metrics.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/metrics_cluster.py"


# Industrial structure of the member cities from a user's sector table (economy.sector_table);
# without one the tables are written empty and the figure and metrics.csv say how to give one.
ECONOMY = config["economy"]
STRUCTURE_INPUTS = {"sector_table": ECONOMY["sector_table"]} if ECONOMY["sector_table"] else {}


rule industrial_structure:
    message:
        "Industrial structure (sector shares, similarity S, Krugman K) of {wildcards.cluster}"
    input:
        **STRUCTURE_INPUTS,
        boundaries="resources/{cluster}/boundaries.gpkg",
        od="results/{cluster}/od.csv",
        quality="results/{cluster}/quality.json",
    output:
        cities="results/{cluster}/structure_cities.csv",
        sectors="results/{cluster}/structure_sectors.csv",
        pairs="results/{cluster}/structure_pairs.csv",
        summary="results/{cluster}/structure_summary.json",
        figure="results/{cluster}/structure_similarity.png",
    params:
        missing_cities=ECONOMY["missing_cities"],
        similarity_threshold=ECONOMY["similarity_threshold"],
        float_precision=config["metrics"]["float_precision"],
    log:
        "logs/{cluster}/industrial_structure.log",
    benchmark:
        "benchmarks/out/{cluster}/industrial_structure.tsv"
    resources:
        mem_mb=500,
        runtime=10,
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/metrics_structure.py"


rule ecology_tables:
    message:
        "Ecology per city, per pair of neighbouring cities, per corridor and per source for {wildcards.cluster}"
    input:
        ecology="results/{cluster}/ecology.gpkg",
        boundaries="resources/{cluster}/boundaries.gpkg",
        resistance="results/{cluster}/resistance.tif",
        current_density="results/{cluster}/current_density.tif",
        quality="results/{cluster}/quality.json",
    output:
        cities="results/{cluster}/cities_ecology.csv",
        pairs="results/{cluster}/city_pairs_ecology.csv",
        corridors="results/{cluster}/corridors.csv",
        sources="results/{cluster}/sources.csv",
    params:
        float_precision=config["metrics"]["float_precision"],
    log:
        "logs/{cluster}/ecology_tables.log",
    benchmark:
        "benchmarks/out/{cluster}/ecology_tables.tsv"
    resources:
        **grid_resources("ecology_tables"),
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/metrics_ecology_tables.py"


# Always written, also for a one-cluster run (a one-row comparison keeps the report uniform).
rule compare_clusters:
    message:
        "Comparing clusters {params.clusters}"
    input:
        metrics=expand("results/{cluster}/metrics.csv", cluster=CLUSTERS),
        accessibility=expand("results/{cluster}/accessibility.csv", cluster=CLUSTERS),
    output:
        table="results/cluster_comparison.csv",
        charts=expand("results/cluster_comparison.{lang}.png", lang=LANGUAGES),
        cities="results/cities_accessibility.csv",
    params:
        clusters=list(CLUSTERS),
        float_precision=config["metrics"]["float_precision"],
        languages=LANGUAGES,
    log:
        "logs/compare_clusters.log",
    benchmark:
        "benchmarks/out/compare_clusters.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/metrics_compare.py"


TARGETS += expand(
    [
        "results/{cluster}/ecology.gpkg",
        "results/{cluster}/metrics.csv",
        "results/{cluster}/cities_ecology.csv",
        "results/{cluster}/city_pairs_ecology.csv",
        "results/{cluster}/corridors.csv",
        "results/{cluster}/sources.csv",
    ],
    cluster=CLUSTERS,
)
TARGETS += expand(
    [
        "results/{cluster}/structure_cities.csv",
        "results/{cluster}/structure_sectors.csv",
        "results/{cluster}/structure_pairs.csv",
        "results/{cluster}/structure_summary.json",
        "results/{cluster}/structure_similarity.png",
    ],
    cluster=CLUSTERS,
)
TARGETS += [
    "results/cluster_comparison.csv",
    *expand("results/cluster_comparison.{lang}.png", lang=LANGUAGES),
    "results/cities_accessibility.csv",
]
