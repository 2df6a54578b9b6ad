# rules/transport.smk — stage 2: road network, OD matrix, accessibility indices, travel-time surface.
# File contract: docs/architecture.md ("Stage 2 — transport").

ROADS = config["roads"]
TRANSPORT = config["transport"]


rule build_proxy_roads:
    message:
        "Synthetic proxy road network (illustrative, offline) for {wildcards.cluster}"
    input:
        seats="resources/{cluster}/seats.gpkg",
    output:
        osm="resources/{cluster}/roads_proxy.osm",
    params:
        seed=ROADS["proxy"]["seed"],
        detour_factor=ROADS["proxy"]["detour_factor"],
        merge_distance_m=ROADS["proxy"]["merge_distance_m"],
        crs=config["crs"],
    log:
        "logs/{cluster}/build_proxy_roads.log",
    benchmark:
        "benchmarks/out/{cluster}/build_proxy_roads.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/build_proxy_roads.py"


# Inputs of build_road_network depend on the road source (wildcard patterns, no function). The
# scgraph source reads a file of the installed scgraph-data package (its version and sha256 key the
# cache and are recorded in the report), so it needs no workflow input.
ROAD_INPUTS = {
    "boundaries": "resources/{cluster}/boundaries.gpkg",
    "seats": "resources/{cluster}/seats.gpkg",
}
if ROADS["source"] == "proxy":
    ROAD_INPUTS["proxy"] = "resources/{cluster}/roads_proxy.osm"
elif ROADS["source"] == "file" and ROADS["file"]["path"]:
    ROAD_INPUTS["file"] = ROADS["file"]["path"]
elif ROADS["source"] == "pbf" and ROADS["pbf"]["path"] and not str(ROADS["pbf"]["path"]).startswith(
    ("http://", "https://")
):
    ROAD_INPUTS["pbf"] = ROADS["pbf"]["path"]


rule build_road_network:
    message:
        "Road network ({params.source}) → travel-time graph for {wildcards.cluster}"
    input:
        **ROAD_INPUTS,
    output:
        graph="resources/{cluster}/road_graph.graphml",
        roads="resources/{cluster}/roads.gpkg",
        report="resources/{cluster}/road_network_report.json",
        provenance="resources/{cluster}/provenance/roads.json",
    params:
        source=ROADS["source"],
        highway_classes=ROADS["highway_classes"],
        speeds_kph=ROADS["speeds_kph"],
        osm_options={
            "overpass_url": ROADS["osm"]["overpass_url"],
            "timeout_s": ROADS["osm"]["timeout_s"],
            "overpass_memory": ROADS["osm"]["overpass_memory"],
            "use_cache": ROADS["osm"]["use_cache"],
            "cache_folder": ROADS["osm"]["cache_folder"],
        },
        pbf_path=ROADS["pbf"]["path"],
        pbf_cache_dir=ROADS["pbf"]["cache_folder"],
        file_path=ROADS["file"]["path"],
        scgraph_speed_kph=ROADS["scgraph"]["speed_kph"],
        scgraph_cache_dir=ROADS["scgraph"]["cache_folder"],
        max_seat_distance_km=ROADS["diagnostics"]["max_seat_distance_km"],
        detour_ratio=ROADS["diagnostics"]["detour_ratio"],
        core_city=TRANSPORT["core_city"],
        buffer_km=config["retrieve"]["buffer_km"],
        crs=config["crs"],
        download=config["download"],
    priority: PRIORITY["critical_path"]
    log:
        "logs/{cluster}/build_road_network.log",
    benchmark:
        "benchmarks/out/{cluster}/build_road_network.tsv"
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/build_road_network.py"


rule transport_accessibility:
    message:
        "OD matrix and accessibility indices of {wildcards.cluster}"
    input:
        graph="resources/{cluster}/road_graph.graphml",
        roads="resources/{cluster}/roads.gpkg",
        report="resources/{cluster}/road_network_report.json",
        seats="resources/{cluster}/seats.gpkg",
        boundaries="resources/{cluster}/boundaries.gpkg",
        surface="results/{cluster}/travel_time_min.tif",
        core_surface="results/{cluster}/travel_time_core_min.tif",
        quality="results/{cluster}/quality.json",
    output:
        transport="results/{cluster}/transport.gpkg",
        od="results/{cluster}/od.csv",
        accessibility="results/{cluster}/accessibility.csv",
        summary="results/{cluster}/transport_summary.json",
        border_gaps="results/{cluster}/border_gaps.csv",
    params:
        offroad_speed_kph=TRANSPORT["offroad_speed_kph"],
        # masses (population, gdp) come with the seats: chosen once in build_seats
        mass=TRANSPORT["mass"],
        daily_thresholds_h=TRANSPORT["daily_thresholds_h"],
        potential=TRANSPORT["potential"],
        linkage=TRANSPORT["linkage"],
        max_access_km=ROADS["diagnostics"]["max_seat_distance_km"],
        borders=TRANSPORT["borders"],
        buffer_km=config["retrieve"]["buffer_km"],
        float_precision=config["metrics"]["float_precision"],
    log:
        "logs/{cluster}/transport_accessibility.log",
    benchmark:
        "benchmarks/out/{cluster}/transport_accessibility.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/transport_accessibility.py"


# Off-road speeds by the common land-cover classes (rule landcover_classes, whatever mapping
# made them) and the open sea of rule sea_mask; band 2 flags the cells inside the cluster.
rule travel_time_surface:
    message:
        "Travel-time surfaces (nearest seat, core city) for {wildcards.cluster}"
    input:
        roads="resources/{cluster}/roads.gpkg",
        report="resources/{cluster}/road_network_report.json",
        seats="resources/{cluster}/seats.gpkg",
        boundaries="resources/{cluster}/boundaries.gpkg",
        landcover="results/{cluster}/landcover.tif",
        sea_mask="resources/{cluster}/sea_mask.tif",
        quality="results/{cluster}/quality.json",
    output:
        surface="results/{cluster}/travel_time_min.tif",
        core_surface="results/{cluster}/travel_time_core_min.tif",
    params:
        core_city=TRANSPORT["core_city"],
        offroad_speeds_kph=TRANSPORT["surface"]["offroad_speeds_kph"],
    log:
        "logs/{cluster}/travel_time_surface.log",
    benchmark:
        "benchmarks/out/{cluster}/travel_time_surface.tsv"
    resources:
        **grid_resources("travel_time_surface"),
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/travel_time_surface.py"


# The run's one quality fact (measured / approximate / illustrative): decided here, once, from the
# road source the network was built from and the inputs' native resolutions; read by the
# transport tables and surfaces (their roads_source and quality labels), metrics, maps, report
# and QGIS project. It depends on the road report and the input rasters only, so every road-based
# output can read it.
rule quality:
    message:
        "Quality of the inputs of {wildcards.cluster}"
    input:
        report="resources/{cluster}/road_network_report.json",
        landcover="resources/{cluster}/landcover_source.tif",
        dem="resources/{cluster}/dem.tif",
    output:
        quality="results/{cluster}/quality.json",
    log:
        "logs/{cluster}/quality.log",
    benchmark:
        "benchmarks/out/{cluster}/quality.tsv"
    resources:
        mem_mb=300,
        runtime=10,
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/quality.py"


TARGETS += expand(
    [
        "results/{cluster}/transport.gpkg",
        "results/{cluster}/od.csv",
        "results/{cluster}/accessibility.csv",
        "results/{cluster}/transport_summary.json",
        "results/{cluster}/border_gaps.csv",
        "results/{cluster}/travel_time_min.tif",
        "results/{cluster}/travel_time_core_min.tif",
        "results/{cluster}/quality.json",
    ],
    cluster=CLUSTERS,
)
