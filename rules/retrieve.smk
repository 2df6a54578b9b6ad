# rules/retrieve.smk — stage 1: boundaries, seats, land cover, DEM and provenance per cluster.
# Everything here is offline (packages from the registries) unless an online source is configured.

CATALOGUE = str(Path(workflow.basedir) / "config" / "clusters.yaml")
RETRIEVE = config["retrieve"]
DEM_RUNTIME_MIN = 60 if RETRIEVE["dem"]["source"] == "copernicus" else 10


rule retrieve_boundaries:
    input:
        catalogue=CATALOGUE,
    output:
        boundaries="resources/{cluster}/boundaries.gpkg",
        provenance="resources/{cluster}/provenance/boundaries.json",
    params:
        cluster=lambda wildcards: wildcards.cluster,
        custom_clusters=config["custom_clusters"],
        source=RETRIEVE["boundaries"]["source"],
        crs=config["crs"],
    log:
        "logs/{cluster}/retrieve_boundaries.log",
    benchmark:
        "benchmarks/out/{cluster}/retrieve_boundaries.tsv"
    resources:
        mem_mb=1500,
        runtime=10,
    message:
        "Boundaries of the member cities of {wildcards.cluster} ({params.source})"
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/retrieve_boundaries.py"


# Seat locations (GeoNames) and the cities' masses: transport.mass_table over the shipped 2020
# census table over the GeoNames seat population (agglonet.retrieve.census).
rule build_seats:
    input:
        boundaries="resources/{cluster}/boundaries.gpkg",
        mass_table=config["transport"]["mass_table"] or [],
    output:
        seats="resources/{cluster}/seats.gpkg",
        provenance="resources/{cluster}/provenance/seats.json",
    params:
        dataset=RETRIEVE["seats"]["dataset"],
        mass_table=config["transport"]["mass_table"],
        # a mass table may cover every cluster of the run: its adcodes are checked against them
        clusters=list(CLUSTERS) if config["transport"]["mass_table"] else [],
        custom_clusters=config["custom_clusters"],
    priority: PRIORITY["critical_path"]
    log:
        "logs/{cluster}/build_seats.log",
    benchmark:
        "benchmarks/out/{cluster}/build_seats.tsv"
    resources:
        mem_mb=1500,
        runtime=10,
    message:
        "Seats and masses of the cities and counties of {wildcards.cluster}"
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/build_seats.py"


if RETRIEVE["landcover"]["source"] == "worldcover":

    # Online: ESA WorldCover COG tiles over HTTP (windowed reads, cached).
    rule retrieve_landcover:
        input:
            boundaries="resources/{cluster}/boundaries.gpkg",
        output:
            landcover="resources/{cluster}/landcover_source.tif",
            provenance="resources/{cluster}/provenance/landcover.json",
        params:
            **landcover_params(),
        priority: PRIORITY["sources_chain"]
        log:
            "logs/{cluster}/retrieve_landcover.log",
        benchmark:
            "benchmarks/out/{cluster}/retrieve_landcover.tsv"
        resources:
            # the tile downloads, not the grid, take the time; reading the 10 m tiles by window
            # was not measured on the curve: at least 4 GB
            **grid_resources("retrieve_landcover", extra_runtime=110, min_mem_mb=4000),
            http=1,
        retries: 2
        message:
            "Downloading ESA WorldCover tiles for {wildcards.cluster}"
        conda:
            "../envs/environment.yaml"
        script:
            "../scripts/retrieve_landcover.py"

else:

    rule retrieve_landcover:
        input:
            boundaries="resources/{cluster}/boundaries.gpkg",
            landcover_file=RETRIEVE["landcover"]["path"] or [],
        output:
            landcover="resources/{cluster}/landcover_source.tif",
            provenance="resources/{cluster}/provenance/landcover.json",
        params:
            **landcover_params(),
        priority: PRIORITY["sources_chain"]
        log:
            "logs/{cluster}/retrieve_landcover.log",
        benchmark:
            "benchmarks/out/{cluster}/retrieve_landcover.tsv"
        resources:
            **grid_resources("retrieve_landcover"),
        message:
            "Land cover on the grid of {wildcards.cluster} ({params.source})"
        conda:
            "../envs/environment.yaml"
        script:
            "../scripts/retrieve_landcover.py"


rule retrieve_dem:
    input:
        boundaries="resources/{cluster}/boundaries.gpkg",
        dem_file=RETRIEVE["dem"]["path"] or [],
    output:
        dem="resources/{cluster}/dem.tif",
        provenance="resources/{cluster}/provenance/dem.json",
    params:
        buffer_km=RETRIEVE["buffer_km"],
        resolution_m=RETRIEVE["resolution_m"],
        source=RETRIEVE["dem"]["source"],
        path=RETRIEVE["dem"]["path"],
        # a function, so that Snakemake does not expand the template's {tile} as a wildcard
        url_template=lambda wildcards: RETRIEVE["dem"]["url_template"],
        cache_dir=RETRIEVE["dem"]["cache_folder"],
        download=config["download"],
    priority: PRIORITY["critical_path"]
    log:
        "logs/{cluster}/retrieve_dem.log",
    benchmark:
        "benchmarks/out/{cluster}/retrieve_dem.tsv"
    resources:
        # Copernicus tiles come over HTTP: an hour; the offline sample: ten minutes
        **grid_resources("retrieve_dem", extra_runtime=DEM_RUNTIME_MIN - 10),
        http=int(RETRIEVE["dem"]["source"] == "copernicus"),
    retries: 2 if RETRIEVE["dem"]["source"] == "copernicus" else 0
    message:
        "Elevation on the grid of {wildcards.cluster} ({params.source})"
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/retrieve_dem.py"


rule write_sources:
    input:
        "resources/{cluster}/provenance/boundaries.json",
        "resources/{cluster}/provenance/seats.json",
        "resources/{cluster}/provenance/landcover.json",
        "resources/{cluster}/provenance/dem.json",
        "resources/{cluster}/provenance/sea_mask.json",
        "resources/{cluster}/provenance/roads.json",
    output:
        sources="resources/{cluster}/sources.json",
    log:
        "logs/{cluster}/write_sources.log",
    benchmark:
        "benchmarks/out/{cluster}/write_sources.tsv"
    resources:
        mem_mb=500,
        runtime=10,
    message:
        "Provenance of the inputs of {wildcards.cluster}"
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/write_sources.py"


rule build_cities:
    input:
        boundaries="resources/{cluster}/boundaries.gpkg",
        seats="resources/{cluster}/seats.gpkg",
        sources="resources/{cluster}/sources.json",
    output:
        gpkg="results/{cluster}/cities.gpkg",
        csv="results/{cluster}/cities.csv",
    log:
        "logs/{cluster}/build_cities.log",
    benchmark:
        "benchmarks/out/{cluster}/build_cities.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    message:
        "Member cities of {wildcards.cluster} with seats and populations"
    conda:
        "../envs/environment.yaml"
    script:
        "../scripts/build_cities.py"


TARGETS += expand("results/{cluster}/cities.csv", cluster=CLUSTERS)
TARGETS += expand("results/{cluster}/cities.gpkg", cluster=CLUSTERS)
