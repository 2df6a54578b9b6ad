# rules/ecology.smk — stage 3: the ecological network (patch–corridor–matrix).
# land cover → common classes → MSPA → core patches ranked by dPC → sources; resistance surface;
# least-cost corridors and barriers (one multi-source pass); circuit theory and pinch zones;
# the network layers and ecology_summary.json.

ECOLOGY = config["ecology"]


rule landcover_classes:
    input:
        landcover="resources/{cluster}/landcover_source.tif",
    output:
        landcover="results/{cluster}/landcover.tif",
    params:
        mapping=ECOLOGY["landcover_mapping"],
    priority: PRIORITY["sources_chain"]
    log:
        "logs/{cluster}/landcover_classes.log",
    benchmark:
        "benchmarks/out/{cluster}/landcover_classes.tsv"
    resources:
        **grid_resources("landcover_classes"),
    message:
        "Land cover of {wildcards.cluster} to common classes ({params.mapping})"
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/ecology_landcover.py"


# Open sea: written once, read by MSPA, sources, resistance, corridors, circuit and the summary.
rule sea_mask:
    input:
        boundaries="resources/{cluster}/boundaries.gpkg",
        landcover="results/{cluster}/landcover.tif",
    output:
        sea_mask="resources/{cluster}/sea_mask.tif",
        provenance="resources/{cluster}/provenance/sea_mask.json",
    params:
        buffer_km=config["retrieve"]["buffer_km"],
        resolution_m=config["retrieve"]["resolution_m"],
        source=ECOLOGY["sea_mask"]["source"],
        connected_water_km=ECOLOGY["sea_mask"]["connected_water_km"],
    priority: PRIORITY["sources_chain"]
    log:
        "logs/{cluster}/sea_mask.log",
    benchmark:
        "benchmarks/out/{cluster}/sea_mask.tsv"
    resources:
        **grid_resources("sea_mask"),
    message:
        "Open sea on the grid of {wildcards.cluster} ({params.source})"
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/ecology_sea_mask.py"


rule mspa:
    input:
        landcover="results/{cluster}/landcover.tif",
        sea_mask="resources/{cluster}/sea_mask.tif",
    output:
        mspa="results/{cluster}/mspa.tif",
    params:
        foreground_classes=ECOLOGY["foreground_classes"],
        connectivity=ECOLOGY["mspa"]["connectivity"],
        edge_width=ECOLOGY["mspa"]["edge_width"],
        transition=ECOLOGY["mspa"]["transition"],
        intext=ECOLOGY["mspa"]["intext"],
    priority: PRIORITY["sources_chain"]
    log:
        "logs/{cluster}/mspa.log",
    benchmark:
        "benchmarks/out/{cluster}/mspa.tsv"
    resources:
        **grid_resources("mspa"),
    message:
        "MSPA of {wildcards.cluster} (edge width {params.edge_width}, {params.connectivity}-connectivity)"
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/ecology_mspa.py"


rule ecological_sources:
    input:
        mspa="results/{cluster}/mspa.tif",
        sea_mask="resources/{cluster}/sea_mask.tif",
        boundaries="resources/{cluster}/boundaries.gpkg",
    output:
        sources="resources/{cluster}/ecology_sources.gpkg",
        labels="resources/{cluster}/source_labels.tif",
        indices="resources/{cluster}/ecology_connectivity.json",
    params:
        connectivity=ECOLOGY["mspa"]["connectivity"],
        **ECOLOGY["sources"],
    priority: PRIORITY["sources_chain"]
    log:
        "logs/{cluster}/ecological_sources.log",
    benchmark:
        "benchmarks/out/{cluster}/ecological_sources.tsv"
    resources:
        **grid_resources("ecological_sources"),
    message:
        "Ecological sources of {wildcards.cluster}: core patches ≥ {params.min_area_km2} km² (cut at necks < {params.neck_width_km} km and to ≤ {params.max_area_km2} km²) ranked by dPC"
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/ecology_sources.py"


rule resistance:
    input:
        landcover="results/{cluster}/landcover.tif",
        dem="resources/{cluster}/dem.tif",
        roads="resources/{cluster}/roads.gpkg",
        sea_mask="resources/{cluster}/sea_mask.tif",
    output:
        resistance="results/{cluster}/resistance.tif",
    params:
        **ECOLOGY["resistance"],
    priority: PRIORITY["critical_path"]
    log:
        "logs/{cluster}/resistance.log",
    benchmark:
        "benchmarks/out/{cluster}/resistance.tsv"
    resources:
        **grid_resources("resistance"),
    message:
        "Resistance surface of {wildcards.cluster} (land cover × slope + road penalties)"
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/ecology_resistance.py"


rule corridors:
    input:
        resistance="results/{cluster}/resistance.tif",
        sea_mask="resources/{cluster}/sea_mask.tif",
        labels="resources/{cluster}/source_labels.tif",
        sources="resources/{cluster}/ecology_sources.gpkg",
    output:
        cost_distance="results/{cluster}/cost_distance.tif",
        corridor_mask="resources/{cluster}/corridor_mask.tif",
        network="resources/{cluster}/ecology_corridors.gpkg",
    params:
        width_cost_units=ECOLOGY["corridors"]["width_cost_units"],
        class_quantiles=ECOLOGY["corridors"]["class_quantiles"],
        barrier_radius_m=ECOLOGY["barriers"]["radius_m"],
        barrier_top_n=ECOLOGY["barriers"]["top_n"],
        barrier_weight=ECOLOGY["barriers"]["weight"],
        barrier_max_per_corridor=ECOLOGY["barriers"]["max_per_corridor"],
        restored_resistance=min(ECOLOGY["resistance"]["class_values"].values()),
    # the per-source cost passes run on this many threads (ecology.corridors.threads)
    threads: ECOLOGY["corridors"]["threads"]
    priority: PRIORITY["critical_path"]
    log:
        "logs/{cluster}/corridors.log",
    benchmark:
        "benchmarks/out/{cluster}/corridors.tsv"
    resources:
        **grid_resources("corridors"),
    message:
        "Least-cost corridors and barriers between the sources of {wildcards.cluster}"
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/ecology_corridors.py"


rule circuit:
    input:
        resistance="results/{cluster}/resistance.tif",
        sea_mask="resources/{cluster}/sea_mask.tif",
        labels="resources/{cluster}/source_labels.tif",
        corridor_mask="resources/{cluster}/corridor_mask.tif",
        network="resources/{cluster}/ecology_corridors.gpkg",
    output:
        current_density="results/{cluster}/current_density.tif",
        network="resources/{cluster}/ecology_network.gpkg",
    params:
        mode=ECOLOGY["circuit"]["mode"],
        solver=ECOLOGY["circuit"]["solver"],
        direct_max_cells=ECOLOGY["circuit"]["direct_max_cells"],
        pinch_quantile=ECOLOGY["circuit"]["pinch_quantile"],
        rtol=ECOLOGY["circuit"]["rtol"],
    # the right-hand sides are solved in this many forked processes (ecology.circuit.processes)
    threads: ECOLOGY["circuit"]["processes"]
    priority: PRIORITY["critical_path"]
    log:
        "logs/{cluster}/circuit.log",
    benchmark:
        "benchmarks/out/{cluster}/circuit.tsv"
    resources:
        **grid_resources("circuit"),
    message:
        "Circuit theory ({params.mode}, {params.solver}) and pinch zones for {wildcards.cluster}"
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/ecology_circuit.py"


rule ecology_summary:
    input:
        network="resources/{cluster}/ecology_network.gpkg",
        indices="resources/{cluster}/ecology_connectivity.json",
        landcover_source="resources/{cluster}/landcover_source.tif",
    output:
        summary="results/{cluster}/ecology_summary.json",
    log:
        "logs/{cluster}/ecology_summary.log",
    benchmark:
        "benchmarks/out/{cluster}/ecology_summary.tsv"
    resources:
        mem_mb=500,
        runtime=10,
    message:
        "Ecological network summary of {wildcards.cluster}"
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/ecology_summary.py"


TARGETS += expand(
    [
        "results/{cluster}/landcover.tif",
        "results/{cluster}/mspa.tif",
        "results/{cluster}/resistance.tif",
        "results/{cluster}/cost_distance.tif",
        "results/{cluster}/current_density.tif",
        "results/{cluster}/ecology_summary.json",
        "resources/{cluster}/ecology_network.gpkg",
    ],
    cluster=CLUSTERS,
)
