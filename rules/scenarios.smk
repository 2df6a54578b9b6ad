# rules/scenarios.smk — "what if": each scenario of config `scenarios` beside the baseline.
# A scenario re-runs only what its edits touch (agglonet.scenarios.edits): road edits the road
# graph and everything on it, reusing the baseline's ecological network; land-cover edits MSPA,
# sources, resistance, corridors and circuit, reusing the baseline's OD and accessibility;
# resistance edits (barriers) resistance, corridors and circuit. The re-run steps are the
# baseline's own rules (`use rule ... with:` new paths); what a scenario does not touch is read
# from the baseline. Outputs: results/{cluster}/scenarios/{scenario}/ (docs/scenarios.md).

from agglonet.scenarios.edits import parse_scenarios

SCENARIO_CONFIG = config.get("scenarios") or {}
# the start-up checks (agglonet.preflight) refuse bad scenarios; a scenario of a cluster that
# is not run is skipped there with a warning
SCENARIOS = {name: s for name, s in parse_scenarios(
    SCENARIO_CONFIG, speeds_kph=config["roads"]["speeds_kph"]).items() if s.cluster in CLUSTERS}

wildcard_constraints:
    scenario="|".join(sorted(SCENARIOS)) or "[a-z][a-z0-9_]*",

# scenario results (SD) and scenario intermediates (SR)
SD = "results/{cluster}/scenarios/{scenario}/"
SR = "resources/{cluster}/scenarios/{scenario}/"
SLOG = "logs/{cluster}/scenarios/{scenario}/"
SBENCH = "benchmarks/out/{cluster}/scenarios/{scenario}/"


def _touches(side, wildcards):
    s = SCENARIOS[wildcards.scenario]
    # without a sector table the industrial-structure tables are empty whatever the roads: the
    # baseline's are reused
    return {"roads": s.touches_roads, "landcover": s.touches_landcover,
            "ecology": s.touches_ecology,
            "structure": s.touches_roads and bool(ECONOMY["sector_table"])}[side]


def pick(side, scenario_path, baseline_path):
    """Input function: the scenario's file when its edits touch `side`, else the baseline's."""
    def choose(wildcards):
        path = scenario_path if _touches(side, wildcards) else baseline_path
        return path.format(cluster=wildcards.cluster, scenario=wildcards.scenario)
    return choose


def only_if(side, path):
    """Input function: `path` when the scenario's edits touch `side`, else nothing."""
    def choose(wildcards):
        if not _touches(side, wildcards):
            return []
        return [path.format(cluster=wildcards.cluster, scenario=wildcards.scenario)]
    return choose


def scenario_params(wildcards):
    return SCENARIO_CONFIG[wildcards.scenario]


def scenario_files(wildcards):
    return SCENARIOS[wildcards.scenario].files()


# ------------------------------------------------------------------------------ transport
rule scenario_roads:
    message:
        "Scenario {wildcards.scenario}: road edits on the road graph of {wildcards.cluster}"
    input:
        graph="resources/{cluster}/road_graph.graphml",
        report="resources/{cluster}/road_network_report.json",
        boundaries="resources/{cluster}/boundaries.gpkg",
        border_gaps="results/{cluster}/border_gaps.csv",
        quality="results/{cluster}/quality.json",
        files=scenario_files,
    output:
        graph=SR + "road_graph.graphml",
        roads=SR + "roads.gpkg",
        report=SR + "road_network_report.json",
        edits=SD + "road_edits.csv",
    params:
        scenario=scenario_params,
        speeds_kph=ROADS["speeds_kph"],
        scgraph_speed_kph=ROADS["scgraph"]["speed_kph"],
        buffer_km=config["retrieve"]["buffer_km"],
        crs=config["crs"],
        float_precision=config["metrics"]["float_precision"],
    log:
        SLOG + "scenario_roads.log",
    benchmark:
        SBENCH + "scenario_roads.tsv"
    resources:
        mem_mb=2000,
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/scenario_roads.py"


use rule travel_time_surface as scenario_travel_time_surface with:
    input:
        roads=SR + "roads.gpkg",
        report=SR + "road_network_report.json",
        seats="resources/{cluster}/seats.gpkg",
        boundaries="resources/{cluster}/boundaries.gpkg",
        landcover="results/{cluster}/landcover.tif",
        sea_mask="resources/{cluster}/sea_mask.tif",
        quality="results/{cluster}/quality.json",
    output:
        surface=SD + "travel_time_min.tif",
        core_surface=SD + "travel_time_core_min.tif",
    log:
        SLOG + "travel_time_surface.log",
    benchmark:
        SBENCH + "travel_time_surface.tsv"


use rule transport_accessibility as scenario_transport_accessibility with:
    input:
        graph=SR + "road_graph.graphml",
        roads=SR + "roads.gpkg",
        report=SR + "road_network_report.json",
        seats="resources/{cluster}/seats.gpkg",
        boundaries="resources/{cluster}/boundaries.gpkg",
        surface=SD + "travel_time_min.tif",
        core_surface=SD + "travel_time_core_min.tif",
        quality="results/{cluster}/quality.json",
    output:
        transport=SD + "transport.gpkg",
        od=SD + "od.csv",
        accessibility=SD + "accessibility.csv",
        summary=SD + "transport_summary.json",
        border_gaps=SD + "border_gaps.csv",
    log:
        SLOG + "transport_accessibility.log",
    benchmark:
        SBENCH + "transport_accessibility.tsv"


use rule industrial_structure as scenario_industrial_structure with:
    input:
        **STRUCTURE_INPUTS,
        boundaries="resources/{cluster}/boundaries.gpkg",
        od=SD + "od.csv",
        quality="results/{cluster}/quality.json",
    output:
        cities=SD + "structure_cities.csv",
        sectors=SD + "structure_sectors.csv",
        pairs=SD + "structure_pairs.csv",
        summary=SD + "structure_summary.json",
        figure=SD + "structure_similarity.png",
    log:
        SLOG + "industrial_structure.log",
    benchmark:
        SBENCH + "industrial_structure.tsv"


# ------------------------------------------------------------------------------ ecology
rule scenario_landcover:
    message:
        "Scenario {wildcards.scenario}: land-cover restorations on {wildcards.cluster}"
    input:
        landcover="results/{cluster}/landcover.tif",
        sea_mask="resources/{cluster}/sea_mask.tif",
        files=scenario_files,
    output:
        landcover=SD + "landcover.tif",
        edits=SR + "landcover_edits.csv",
    params:
        scenario=scenario_params,
        float_precision=config["metrics"]["float_precision"],
    log:
        SLOG + "scenario_landcover.log",
    benchmark:
        SBENCH + "scenario_landcover.tsv"
    resources:
        mem_mb=1000,
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/scenario_landcover.py"


use rule mspa as scenario_mspa with:
    input:
        landcover=SD + "landcover.tif",
        sea_mask="resources/{cluster}/sea_mask.tif",
    output:
        mspa=SD + "mspa.tif",
    log:
        SLOG + "mspa.log",
    benchmark:
        SBENCH + "mspa.tsv"


use rule ecological_sources as scenario_ecological_sources with:
    input:
        mspa=SD + "mspa.tif",
        sea_mask="resources/{cluster}/sea_mask.tif",
        boundaries="resources/{cluster}/boundaries.gpkg",
    output:
        sources=SR + "ecology_sources.gpkg",
        labels=SR + "source_labels.tif",
        indices=SR + "ecology_connectivity.json",
    log:
        SLOG + "ecological_sources.log",
    benchmark:
        SBENCH + "ecological_sources.tsv"


rule scenario_resistance:
    message:
        "Scenario {wildcards.scenario}: resistance surface of {wildcards.cluster} with its edits"
    input:
        landcover=pick("landcover", SD + "landcover.tif", "results/{cluster}/landcover.tif"),
        landcover_edits=only_if("landcover", SR + "landcover_edits.csv"),
        dem="resources/{cluster}/dem.tif",
        roads="resources/{cluster}/roads.gpkg",
        sea_mask="resources/{cluster}/sea_mask.tif",
        network="resources/{cluster}/ecology_network.gpkg",
        quality="results/{cluster}/quality.json",
        files=scenario_files,
    output:
        resistance=SD + "resistance.tif",
        edits=SD + "landscape_edits.csv",
    params:
        scenario=scenario_params,
        resistance=ECOLOGY["resistance"],
        barrier_radius_m=ECOLOGY["barriers"]["radius_m"],
        restored_resistance=min(ECOLOGY["resistance"]["class_values"].values()),
        float_precision=config["metrics"]["float_precision"],
    log:
        SLOG + "scenario_resistance.log",
    benchmark:
        SBENCH + "scenario_resistance.tsv"
    resources:
        mem_mb=1500,
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/scenario_resistance.py"


use rule corridors as scenario_corridors with:
    input:
        resistance=SD + "resistance.tif",
        sea_mask="resources/{cluster}/sea_mask.tif",
        labels=pick("landcover", SR + "source_labels.tif",
                    "resources/{cluster}/source_labels.tif"),
        sources=pick("landcover", SR + "ecology_sources.gpkg",
                     "resources/{cluster}/ecology_sources.gpkg"),
    output:
        cost_distance=SD + "cost_distance.tif",
        corridor_mask=SR + "corridor_mask.tif",
        network=SR + "ecology_corridors.gpkg",
    log:
        SLOG + "corridors.log",
    benchmark:
        SBENCH + "corridors.tsv"


use rule circuit as scenario_circuit with:
    input:
        resistance=SD + "resistance.tif",
        sea_mask="resources/{cluster}/sea_mask.tif",
        labels=pick("landcover", SR + "source_labels.tif",
                    "resources/{cluster}/source_labels.tif"),
        corridor_mask=SR + "corridor_mask.tif",
        network=SR + "ecology_corridors.gpkg",
    output:
        current_density=SD + "current_density.tif",
        network=SR + "ecology_network.gpkg",
    log:
        SLOG + "circuit.log",
    benchmark:
        SBENCH + "circuit.tsv"


use rule ecology_summary as scenario_ecology_summary with:
    input:
        network=SR + "ecology_network.gpkg",
        indices=pick("landcover", SR + "ecology_connectivity.json",
                     "resources/{cluster}/ecology_connectivity.json"),
        landcover_source="resources/{cluster}/landcover_source.tif",
    output:
        summary=SD + "ecology_summary.json",
    log:
        SLOG + "ecology_summary.log",
    benchmark:
        SBENCH + "ecology_summary.tsv"


# ------------------------------------------------------------------------------ metrics
use rule road_crossings as scenario_road_crossings with:
    input:
        network=pick("ecology", SR + "ecology_network.gpkg",
                      "resources/{cluster}/ecology_network.gpkg"),
        roads=pick("roads", SR + "roads.gpkg", "resources/{cluster}/roads.gpkg"),
        current_density=pick("ecology", SD + "current_density.tif",
                             "results/{cluster}/current_density.tif"),
    output:
        ecology=SD + "ecology.gpkg",
    log:
        SLOG + "road_crossings.log",
    benchmark:
        SBENCH + "road_crossings.tsv"


use rule ecology_tables as scenario_ecology_tables with:
    input:
        ecology=SD + "ecology.gpkg",
        boundaries="resources/{cluster}/boundaries.gpkg",
        resistance=pick("ecology", SD + "resistance.tif", "results/{cluster}/resistance.tif"),
        current_density=pick("ecology", SD + "current_density.tif",
                             "results/{cluster}/current_density.tif"),
        quality="results/{cluster}/quality.json",
    output:
        cities=SD + "cities_ecology.csv",
        pairs=SD + "city_pairs_ecology.csv",
        corridors=SD + "corridors.csv",
        sources=SD + "sources.csv",
    log:
        SLOG + "ecology_tables.log",
    benchmark:
        SBENCH + "ecology_tables.tsv"


use rule cluster_metrics as scenario_cluster_metrics with:
    input:
        boundaries="resources/{cluster}/boundaries.gpkg",
        seats="resources/{cluster}/seats.gpkg",
        accessibility=pick("roads", SD + "accessibility.csv",
                           "results/{cluster}/accessibility.csv"),
        od=pick("roads", SD + "od.csv", "results/{cluster}/od.csv"),
        transport_summary=pick("roads", SD + "transport_summary.json",
                               "results/{cluster}/transport_summary.json"),
        ecology_summary=pick("ecology", SD + "ecology_summary.json",
                             "results/{cluster}/ecology_summary.json"),
        ecology=SD + "ecology.gpkg",
        quality="results/{cluster}/quality.json",
        border_gaps=pick("roads", SD + "border_gaps.csv", "results/{cluster}/border_gaps.csv"),
        structure_pairs=pick("structure", SD + "structure_pairs.csv",
                             "results/{cluster}/structure_pairs.csv"),
        structure_summary=pick("structure", SD + "structure_summary.json",
                               "results/{cluster}/structure_summary.json"),
    output:
        metrics=SD + "metrics.csv",
    log:
        SLOG + "cluster_metrics.log",
    benchmark:
        SBENCH + "cluster_metrics.tsv"


# ------------------------------------------------------------------------------ before–after
rule scenario_diff:
    message:
        "Scenario {wildcards.scenario} of {wildcards.cluster} against the baseline"
    input:
        quality="results/{cluster}/quality.json",
        base_metrics="results/{cluster}/metrics.csv",
        scen_metrics=SD + "metrics.csv",
        base_accessibility="results/{cluster}/accessibility.csv",
        scen_accessibility=pick("roads", SD + "accessibility.csv",
                                "results/{cluster}/accessibility.csv"),
        base_od="results/{cluster}/od.csv",
        scen_od=pick("roads", SD + "od.csv", "results/{cluster}/od.csv"),
        base_cities_ecology="results/{cluster}/cities_ecology.csv",
        scen_cities_ecology=SD + "cities_ecology.csv",
        base_sources="results/{cluster}/sources.csv",
        scen_sources=SD + "sources.csv",
        base_ecology="results/{cluster}/ecology.gpkg",
        scen_ecology=SD + "ecology.gpkg",
        base_travel_time="results/{cluster}/travel_time_min.tif",
        scen_travel_time=pick("roads", SD + "travel_time_min.tif",
                              "results/{cluster}/travel_time_min.tif"),
        base_current_density="results/{cluster}/current_density.tif",
        scen_current_density=pick("ecology", SD + "current_density.tif",
                                  "results/{cluster}/current_density.tif"),
        edits=lambda wildcards: only_if("roads", SD + "road_edits.csv")(wildcards)
        + only_if("ecology", SD + "landscape_edits.csv")(wildcards),
    output:
        metrics=SD + "metrics_diff.csv",
        cities=SD + "cities_diff.csv",
        pairs=SD + "pairs_diff.csv",
        travel_time=SD + "travel_time_diff_min.tif",
        current_density=SD + "current_density_diff.tif",
        corridors=SD + "corridors_changed.gpkg",
        summary=SD + "summary.json",
    params:
        scenario=scenario_params,
        daily_thresholds_h=config["transport"]["daily_thresholds_h"],
        float_precision=config["metrics"]["float_precision"],
    log:
        SLOG + "scenario_diff.log",
    benchmark:
        SBENCH + "scenario_diff.tsv"
    resources:
        mem_mb=1500,
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/scenario_diff.py"


rule scenario_comparison:
    message:
        "Scenarios of {wildcards.cluster} ranked by effect"
    input:
        summaries=lambda wildcards: expand(SD + "summary.json", cluster=wildcards.cluster,
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
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/scenario_compare.py"


# Targets of one scenario (also what `agglonet scenario run` asks for)
SCENARIO_OUTPUTS = ["metrics_diff.csv", "cities_diff.csv", "pairs_diff.csv",
                    "travel_time_diff_min.tif", "current_density_diff.tif",
                    "corridors_changed.gpkg", "summary.json"]
for _name, _scenario in SCENARIOS.items():
    TARGETS += [SD.format(cluster=_scenario.cluster, scenario=_name) + f
                for f in SCENARIO_OUTPUTS]
TARGETS += sorted({f"results/{s.cluster}/scenarios/comparison.csv" for s in SCENARIOS.values()})
