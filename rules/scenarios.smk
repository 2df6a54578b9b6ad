# rules/scenarios.smk — "what if": each scenario of config `scenarios` beside the baseline.
# A scenario re-runs only what its edits touch (agglonet.scenarios.edits): road edits the road
# graph and everything on it, reusing the baseline's ecological network; land-cover edits MSPA,
# sources, resistance, corridors and circuit, reusing the baseline's OD and accessibility;
# resistance edits (barriers) resistance, corridors and circuit. The re-run steps are the
# baseline's own: its rules (`use rule ... with:` new paths) for the ecology chain, and its step
# functions (agglonet.transport.steps, agglonet.metrics.steps) called in one process by
# scenario_transport (road edits → surfaces → OD) and scenario_tables (crossings → tables →
# metrics → diff), so that a road-only scenario is two jobs rather than seven; what a scenario
# does not touch is read from the baseline. Outputs: results/{cluster}/scenarios/{scenario}/
# (docs/scenarios.md).

wildcard_constraints:
    scenario="|".join(sorted(SCENARIOS)) or "[a-z][a-z0-9_]*",


# ------------------------------------------------------------------------------ transport
# One job: the road edits, then the baseline's own steps travel_time_surface and
# transport_accessibility (agglonet.transport.steps) in the same process.
rule scenario_transport:
    message:
        "Scenario {wildcards.scenario}: road edits, travel-time surfaces, OD and accessibility of {wildcards.cluster}"
    input:
        graph="resources/{cluster}/road_graph.graphml",
        report="resources/{cluster}/road_network_report.json",
        base_roads="resources/{cluster}/roads.gpkg",
        boundaries="resources/{cluster}/boundaries.gpkg",
        border_gaps="results/{cluster}/border_gaps.csv",
        quality="results/{cluster}/quality.json",
        seats="resources/{cluster}/seats.gpkg",
        landcover="results/{cluster}/landcover.tif",
        sea_mask="resources/{cluster}/sea_mask.tif",
        files=scenario_files,
    output:
        graph="resources/{cluster}/scenarios/{scenario}/road_graph.graphml",
        roads="resources/{cluster}/scenarios/{scenario}/roads.gpkg",
        report="resources/{cluster}/scenarios/{scenario}/road_network_report.json",
        edits="results/{cluster}/scenarios/{scenario}/road_edits.csv",
        edited="results/{cluster}/scenarios/{scenario}/roads_edited.gpkg",
        surface="results/{cluster}/scenarios/{scenario}/travel_time_min.tif",
        core_surface="results/{cluster}/scenarios/{scenario}/travel_time_core_min.tif",
        transport="results/{cluster}/scenarios/{scenario}/transport.gpkg",
        od="results/{cluster}/scenarios/{scenario}/od.csv",
        accessibility="results/{cluster}/scenarios/{scenario}/accessibility.csv",
        transport_summary="results/{cluster}/scenarios/{scenario}/transport_summary.json",
        border_gaps="results/{cluster}/scenarios/{scenario}/border_gaps.csv",
    params:
        scenario=scenario_params,
        speeds_kph=ROADS["speeds_kph"],
        roads=dict(speeds_kph=ROADS["speeds_kph"], scgraph_speed_kph=ROADS["scgraph"]["speed_kph"],
                   buffer_km=config["retrieve"]["buffer_km"], crs=config["crs"],
                   float_precision=config["metrics"]["float_precision"]),
        surface=dict(core_city=TRANSPORT["core_city"],
                     offroad_speeds_kph=TRANSPORT["surface"]["offroad_speeds_kph"]),
        accessibility=dict(offroad_speed_kph=TRANSPORT["offroad_speed_kph"], mass=TRANSPORT["mass"],
                           daily_thresholds_h=TRANSPORT["daily_thresholds_h"],
                           potential=TRANSPORT["potential"], linkage=TRANSPORT["linkage"],
                           max_access_km=ROADS["diagnostics"]["max_seat_distance_km"],
                           borders=TRANSPORT["borders"], buffer_km=config["retrieve"]["buffer_km"],
                           float_precision=config["metrics"]["float_precision"]),
    log:
        "logs/{cluster}/scenarios/{scenario}/scenario_transport.log",
    benchmark:
        "benchmarks/out/{cluster}/scenarios/{scenario}/scenario_transport.tsv"
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/scenario_transport.py"


use rule industrial_structure as scenario_industrial_structure with:
    input:
        **STRUCTURE_INPUTS,
        boundaries="resources/{cluster}/boundaries.gpkg",
        od="results/{cluster}/scenarios/{scenario}/od.csv",
        quality="results/{cluster}/quality.json",
    output:
        cities="results/{cluster}/scenarios/{scenario}/structure_cities.csv",
        sectors="results/{cluster}/scenarios/{scenario}/structure_sectors.csv",
        pairs="results/{cluster}/scenarios/{scenario}/structure_pairs.csv",
        summary="results/{cluster}/scenarios/{scenario}/structure_summary.json",
        figure="results/{cluster}/scenarios/{scenario}/structure_similarity.png",
    log:
        "logs/{cluster}/scenarios/{scenario}/industrial_structure.log",
    benchmark:
        "benchmarks/out/{cluster}/scenarios/{scenario}/industrial_structure.tsv"


# ------------------------------------------------------------------------------ ecology
rule scenario_landcover:
    message:
        "Scenario {wildcards.scenario}: land-cover restorations on {wildcards.cluster}"
    input:
        landcover="results/{cluster}/landcover.tif",
        sea_mask="resources/{cluster}/sea_mask.tif",
        files=scenario_files,
    output:
        landcover="results/{cluster}/scenarios/{scenario}/landcover.tif",
        edits="resources/{cluster}/scenarios/{scenario}/landcover_edits.csv",
    params:
        scenario=scenario_params,
        float_precision=config["metrics"]["float_precision"],
    log:
        "logs/{cluster}/scenarios/{scenario}/scenario_landcover.log",
    benchmark:
        "benchmarks/out/{cluster}/scenarios/{scenario}/scenario_landcover.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/scenario_landcover.py"


use rule mspa as scenario_mspa with:
    input:
        landcover="results/{cluster}/scenarios/{scenario}/landcover.tif",
        sea_mask="resources/{cluster}/sea_mask.tif",
    output:
        mspa="results/{cluster}/scenarios/{scenario}/mspa.tif",
    log:
        "logs/{cluster}/scenarios/{scenario}/mspa.log",
    benchmark:
        "benchmarks/out/{cluster}/scenarios/{scenario}/mspa.tsv"


use rule ecological_sources as scenario_ecological_sources with:
    input:
        mspa="results/{cluster}/scenarios/{scenario}/mspa.tif",
        sea_mask="resources/{cluster}/sea_mask.tif",
        boundaries="resources/{cluster}/boundaries.gpkg",
    output:
        sources="resources/{cluster}/scenarios/{scenario}/ecology_sources.gpkg",
        labels="resources/{cluster}/scenarios/{scenario}/source_labels.tif",
        indices="resources/{cluster}/scenarios/{scenario}/ecology_connectivity.json",
    log:
        "logs/{cluster}/scenarios/{scenario}/ecological_sources.log",
    benchmark:
        "benchmarks/out/{cluster}/scenarios/{scenario}/ecological_sources.tsv"


rule scenario_resistance:
    message:
        "Scenario {wildcards.scenario}: resistance surface of {wildcards.cluster} with its edits"
    input:
        landcover=pick("landcover", "results/{cluster}/scenarios/{scenario}/landcover.tif", "results/{cluster}/landcover.tif"),
        landcover_edits=only_if("landcover", "resources/{cluster}/scenarios/{scenario}/landcover_edits.csv"),
        dem="resources/{cluster}/dem.tif",
        roads="resources/{cluster}/roads.gpkg",
        sea_mask="resources/{cluster}/sea_mask.tif",
        network="resources/{cluster}/ecology_network.gpkg",
        quality="results/{cluster}/quality.json",
        files=scenario_files,
    output:
        resistance="results/{cluster}/scenarios/{scenario}/resistance.tif",
        edits="results/{cluster}/scenarios/{scenario}/landscape_edits.csv",
    params:
        scenario=scenario_params,
        resistance=ECOLOGY["resistance"],
        barrier_radius_m=ECOLOGY["barriers"]["radius_m"],
        restored_resistance=min(ECOLOGY["resistance"]["class_values"].values()),
        float_precision=config["metrics"]["float_precision"],
    log:
        "logs/{cluster}/scenarios/{scenario}/scenario_resistance.log",
    benchmark:
        "benchmarks/out/{cluster}/scenarios/{scenario}/scenario_resistance.tsv"
    resources:
        mem_mb=1500,
        runtime=15,
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/scenario_resistance.py"


use rule corridors as scenario_corridors with:
    input:
        resistance="results/{cluster}/scenarios/{scenario}/resistance.tif",
        sea_mask="resources/{cluster}/sea_mask.tif",
        labels=pick("landcover", "resources/{cluster}/scenarios/{scenario}/source_labels.tif",
                    "resources/{cluster}/source_labels.tif"),
        sources=pick("landcover", "resources/{cluster}/scenarios/{scenario}/ecology_sources.gpkg",
                     "resources/{cluster}/ecology_sources.gpkg"),
    output:
        cost_distance="results/{cluster}/scenarios/{scenario}/cost_distance.tif",
        corridor_mask="resources/{cluster}/scenarios/{scenario}/corridor_mask.tif",
        network="resources/{cluster}/scenarios/{scenario}/ecology_corridors.gpkg",
    log:
        "logs/{cluster}/scenarios/{scenario}/corridors.log",
    benchmark:
        "benchmarks/out/{cluster}/scenarios/{scenario}/corridors.tsv"


use rule circuit as scenario_circuit with:
    input:
        resistance="results/{cluster}/scenarios/{scenario}/resistance.tif",
        sea_mask="resources/{cluster}/sea_mask.tif",
        labels=pick("landcover", "resources/{cluster}/scenarios/{scenario}/source_labels.tif",
                    "resources/{cluster}/source_labels.tif"),
        corridor_mask="resources/{cluster}/scenarios/{scenario}/corridor_mask.tif",
        network="resources/{cluster}/scenarios/{scenario}/ecology_corridors.gpkg",
    output:
        current_density="results/{cluster}/scenarios/{scenario}/current_density.tif",
        network="resources/{cluster}/scenarios/{scenario}/ecology_network.gpkg",
    log:
        "logs/{cluster}/scenarios/{scenario}/circuit.log",
    benchmark:
        "benchmarks/out/{cluster}/scenarios/{scenario}/circuit.tsv"


use rule ecology_summary as scenario_ecology_summary with:
    input:
        network="resources/{cluster}/scenarios/{scenario}/ecology_network.gpkg",
        indices=pick("landcover", "resources/{cluster}/scenarios/{scenario}/ecology_connectivity.json",
                     "resources/{cluster}/ecology_connectivity.json"),
        landcover_source="resources/{cluster}/landcover_source.tif",
    output:
        summary="results/{cluster}/scenarios/{scenario}/ecology_summary.json",
    log:
        "logs/{cluster}/scenarios/{scenario}/ecology_summary.log",
    benchmark:
        "benchmarks/out/{cluster}/scenarios/{scenario}/ecology_summary.tsv"


# ------------------------------------------------------------------------------ tables and before–after
# One job: the baseline's own steps road_crossings, ecology_tables and cluster_metrics
# (agglonet.metrics.steps) on the scenario's files, then the diff against the baseline.
rule scenario_tables:
    message:
        "Scenario {wildcards.scenario} of {wildcards.cluster}: tables, metrics and the diff against the baseline"
    input:
        network=pick("ecology", "resources/{cluster}/scenarios/{scenario}/ecology_network.gpkg",
                     "resources/{cluster}/ecology_network.gpkg"),
        roads=pick("roads", "resources/{cluster}/scenarios/{scenario}/roads.gpkg", "resources/{cluster}/roads.gpkg"),
        current_density=pick("ecology", "results/{cluster}/scenarios/{scenario}/current_density.tif",
                             "results/{cluster}/current_density.tif"),
        resistance=pick("ecology", "results/{cluster}/scenarios/{scenario}/resistance.tif", "results/{cluster}/resistance.tif"),
        boundaries="resources/{cluster}/boundaries.gpkg",
        seats="resources/{cluster}/seats.gpkg",
        quality="results/{cluster}/quality.json",
        accessibility=pick("roads", "results/{cluster}/scenarios/{scenario}/accessibility.csv",
                           "results/{cluster}/accessibility.csv"),
        od=pick("roads", "results/{cluster}/scenarios/{scenario}/od.csv", "results/{cluster}/od.csv"),
        transport_summary=pick("roads", "results/{cluster}/scenarios/{scenario}/transport_summary.json",
                               "results/{cluster}/transport_summary.json"),
        ecology_summary=pick("ecology", "results/{cluster}/scenarios/{scenario}/ecology_summary.json",
                             "results/{cluster}/ecology_summary.json"),
        border_gaps=pick("roads", "results/{cluster}/scenarios/{scenario}/border_gaps.csv", "results/{cluster}/border_gaps.csv"),
        structure_pairs=pick("structure", "results/{cluster}/scenarios/{scenario}/structure_pairs.csv",
                             "results/{cluster}/structure_pairs.csv"),
        structure_summary=pick("structure", "results/{cluster}/scenarios/{scenario}/structure_summary.json",
                               "results/{cluster}/structure_summary.json"),
        travel_time=pick("roads", "results/{cluster}/scenarios/{scenario}/travel_time_min.tif",
                         "results/{cluster}/travel_time_min.tif"),
        edits=lambda wildcards: only_if("roads", "results/{cluster}/scenarios/{scenario}/road_edits.csv")(wildcards)
        + only_if("ecology", "results/{cluster}/scenarios/{scenario}/landscape_edits.csv")(wildcards),
        base_metrics="results/{cluster}/metrics.csv",
        base_accessibility="results/{cluster}/accessibility.csv",
        base_od="results/{cluster}/od.csv",
        base_cities_ecology="results/{cluster}/cities_ecology.csv",
        base_sources="results/{cluster}/sources.csv",
        base_ecology="results/{cluster}/ecology.gpkg",
        base_travel_time="results/{cluster}/travel_time_min.tif",
        base_current_density="results/{cluster}/current_density.tif",
    output:
        ecology="results/{cluster}/scenarios/{scenario}/ecology.gpkg",
        cities_ecology="results/{cluster}/scenarios/{scenario}/cities_ecology.csv",
        city_pairs_ecology="results/{cluster}/scenarios/{scenario}/city_pairs_ecology.csv",
        corridors_csv="results/{cluster}/scenarios/{scenario}/corridors.csv",
        sources="results/{cluster}/scenarios/{scenario}/sources.csv",
        metrics="results/{cluster}/scenarios/{scenario}/metrics.csv",
        metrics_diff="results/{cluster}/scenarios/{scenario}/metrics_diff.csv",
        cities_diff="results/{cluster}/scenarios/{scenario}/cities_diff.csv",
        pairs_diff="results/{cluster}/scenarios/{scenario}/pairs_diff.csv",
        travel_time_diff="results/{cluster}/scenarios/{scenario}/travel_time_diff_min.tif",
        current_density_diff="results/{cluster}/scenarios/{scenario}/current_density_diff.tif",
        corridors_changed="results/{cluster}/scenarios/{scenario}/corridors_changed.gpkg",
        summary="results/{cluster}/scenarios/{scenario}/summary.json",
    params:
        scenario=scenario_params,
        road_classes=config["roads"]["highway_classes"],
        class_weights=config["metrics"]["road_class_weights"],
        daily_thresholds_h=config["transport"]["daily_thresholds_h"],
        float_precision=config["metrics"]["float_precision"],
    log:
        "logs/{cluster}/scenarios/{scenario}/scenario_tables.log",
    benchmark:
        "benchmarks/out/{cluster}/scenarios/{scenario}/scenario_tables.tsv"
    resources:
        mem_mb=2000,
        runtime=15,
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/scenario_tables.py"


rule scenario_comparison:
    message:
        "Scenarios of {wildcards.cluster} ranked by effect"
    input:
        summaries=lambda wildcards: expand("results/{cluster}/scenarios/{scenario}/summary.json", cluster=wildcards.cluster,
                                           scenario=[n for n, s in SCENARIOS.items()
                                                     if s.cluster == wildcards.cluster]),
    output:
        table="results/{cluster}/scenarios/comparison.csv",
    params:
        float_precision=config["metrics"]["float_precision"],
    log:
        "logs/{cluster}/scenarios/scenario_comparison.log",
    benchmark:
        "benchmarks/out/{cluster}/scenarios/scenario_comparison.tsv"
    resources:
        mem_mb=500,
        runtime=10,
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/scenario_compare.py"


# Targets of one scenario (also what `agglonet scenario run` asks for)
SCENARIO_OUTPUTS = ["metrics_diff.csv", "cities_diff.csv", "pairs_diff.csv",
                    "travel_time_diff_min.tif", "current_density_diff.tif",
                    "corridors_changed.gpkg", "summary.json"]
for _name, _scenario in SCENARIOS.items():
    TARGETS += [f"results/{_scenario.cluster}/scenarios/{_name}/{f}" for f in SCENARIO_OUTPUTS]
TARGETS += sorted({f"results/{s.cluster}/scenarios/comparison.csv" for s in SCENARIOS.values()})
