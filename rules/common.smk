# rules/common.smk — helpers shared by the rule files (kept out of them, as `snakemake --lint` asks).

import math
import os

import pyogrio
import rasterio

#: Cells of the largest seed cluster's grid at 250 m (middle_yangtze, 10.39 M): the size assumed
#: for a job whose grid does not exist yet (a dry run), scaled to the configured resolution.
LARGEST_SEED_CELLS_250M = 10.39e6
#: Safety factors on the fitted cost curve (docs/scaling.md, section 2): peak memory varies by
#: ~25 % between clusters of the same size and between runs (the circuit's AMG set-up); a SLURM
#: node may be slower or shared, and a timed-out job is lost, so the time limit is generous.
MEM_MARGIN = 1.5
RUNTIME_MARGIN = 5.0


#: Scheduling priorities: of the jobs that are ready, Snakemake starts those of higher priority
#: first. On a few cores one path sets the run's length: land cover → sea mask → MSPA → sources
#: (``sources_chain``, the longest start), then resistance (after the seats, roads and DEM) →
#: corridors → circuit → road crossings (``critical_path``). The transport jobs fit beside the
#: corridors; after the circuit the longest output jobs go first (``outputs``; docs/scaling.md,
#: section 4).
PRIORITY = {"sources_chain": 30, "critical_path": 20, "outputs": 10}


def grid_cells(input):
    """Cells of a job's cluster grid, read before the job runs.

    The header of its first raster input under ``resources/`` or ``results/`` (every cluster
    raster shares the grid); else the bounding box of ``boundaries.gpkg`` (layer ``cluster``)
    plus ``retrieve.buffer_km`` at ``retrieve.resolution_m`` — what ``agglonet.grid.cluster_grid``
    will build; else (an input not made yet: a dry run, or the scheduler planning ahead)
    :data:`LARGEST_SEED_CELLS_250M` at the configured resolution. Snakemake evaluates resources
    again right before a job starts, when its inputs exist.
    """
    paths = [str(f) for f in input]
    for path in paths:
        if (path.endswith(".tif") and path.startswith(("resources/", "results/"))
                and os.path.exists(path)):
            with rasterio.open(path) as src:
                return src.width * src.height
    resolution_m = float(config["retrieve"]["resolution_m"])
    for path in paths:
        if path.endswith("boundaries.gpkg") and os.path.exists(path):
            left, bottom, right, top = pyogrio.read_info(path, layer="cluster",
                                                         force_total_bounds=True)["total_bounds"]
            pad = float(config["retrieve"]["buffer_km"]) * 1000.0
            width = math.ceil((right + pad) / resolution_m) - math.floor((left - pad) / resolution_m)
            height = math.ceil((top + pad) / resolution_m) - math.floor((bottom - pad) / resolution_m)
            return width * height
    return LARGEST_SEED_CELLS_250M * (250.0 / resolution_m) ** 2


#: Cost curve of each grid rule, fitted by benchmarks/scaling.py (docs/scaling.md, section 2).
#: peak memory (PSS) ``base_mb + mb_per_mcell · M`` and CPU time ``cpu_s_fixed + cpu_s_per_mcell · M^k``
#: seconds, M the job's grid cells in millions. Fitted on central_plains_core at 1000, 500, 350 and
#: 250 m and yangtze_river_delta at 250 m (8.3 M cells), so that the large clusters are covered.
GRID_COSTS = {
    # rule:                 (base_mb, mb_per_mcell, cpu_s_fixed, cpu_s_per_mcell, k)
    "retrieve_landcover":  (115, 19, 0.9, 0.13, 1.00),
    "retrieve_dem":        (141, 30, 0.9, 0.19, 1.00),
    "landcover_classes":   (77, 13, 0.5, 0.06, 1.00),
    "sea_mask":            (138, 33, 1.3, 0.20, 1.00),
    "mspa":                (239, 29, 1.7, 0.47, 0.81),
    "ecological_sources":  (197, 41, 1.0, 3.24, 0.62),
    "resistance":          (158, 45, 1.3, 0.98, 0.75),
    "corridors":           (281, 192, 3.4, 2.42, 1.07),
    "circuit":             (501, 201, 1.7, 10.81, 0.91),
    "travel_time_surface": (278, 69, 2.8, 1.92, 0.87),
    "road_crossings":      (226, 12, 2.9, 0.13, 1.00),
    "ecology_tables":      (212, 23, 2.3, 0.13, 1.00),
    "maps":                (199, 147, 3.4, 2.26, 0.74),
    "webmap":              (159, 59, 4.4, 2.09, 0.78),
}


def grid_resources(rule, *, min_runtime=10, extra_runtime=0, min_mem_mb=0):
    """Memory (MB) and time limit (minutes) of a grid rule: its cost curve at the job's cells.

    The formula of :data:`GRID_COSTS` at the cells of the job's grid (:func:`grid_cells`),
    times :data:`MEM_MARGIN` and :data:`RUNTIME_MARGIN`; at least ``min_runtime`` minutes, plus
    ``extra_runtime`` minutes for work that is not on the grid (downloads), at least
    ``min_mem_mb`` (what the curve does not cover: reading online tiles). Times the attempt: a
    job retried (``--retries``, profiles/slurm) gets twice the memory and time. A SLURM run
    turns them into ``sbatch --mem`` and ``-t``; locally, ``--resources mem_mb=...`` schedules
    against them.
    """
    base_mb, mb_per_mcell, cpu_s_fixed, cpu_s_per_mcell, exponent = GRID_COSTS[rule]

    def mem_mb(wildcards, input, attempt):
        mcells = grid_cells(input) / 1e6
        return max(min_mem_mb, math.ceil(MEM_MARGIN * (base_mb + mb_per_mcell * mcells))) * attempt

    def runtime(wildcards, input, attempt):
        mcells = grid_cells(input) / 1e6
        cpu_s = cpu_s_fixed + cpu_s_per_mcell * mcells ** exponent
        minutes = math.ceil(RUNTIME_MARGIN * cpu_s / 60.0)
        return (max(min_runtime, minutes) + extra_runtime) * attempt

    return dict(mem_mb=mem_mb, runtime=runtime)


# Languages of the reader-facing outputs (export.language): maps, chart, QGIS projects, report.
LANGUAGES = list(config["export"]["language"])


def landcover_params():
    """Params shared by the offline and online variants of rule retrieve_landcover."""
    lc = config["retrieve"]["landcover"]
    return dict(
        buffer_km=config["retrieve"]["buffer_km"],
        resolution_m=config["retrieve"]["resolution_m"],
        source=lc["source"],
        path=lc["path"],
        classification=config["ecology"]["landcover_mapping"],
        # a function, so that Snakemake does not expand the template's {tile} as a wildcard
        url_template=lambda wildcards: lc["url_template"],
        cache_dir=lc["cache_folder"],
        download=config["download"],
    )


def report_clusters():
    """Clusters of the last run (results/cluster_comparison.csv), whatever config it used."""
    import csv
    from pathlib import Path

    table = Path("results/cluster_comparison.csv")
    if not table.exists():
        return list(CLUSTERS)
    with table.open(encoding="utf-8") as handle:
        return [row["cluster"] for row in csv.DictReader(handle)] or list(CLUSTERS)


REPORT_CLUSTERS = report_clusters()


def per_language(template):
    """{lang: [path per cluster of the report]} of a per-cluster, per-language file."""
    return {lang: [template.format(cluster=c, lang=lang) for c in REPORT_CLUSTERS]
            for lang in LANGUAGES}


# scenarios (rules/scenarios.smk): which files a scenario re-makes and which it reads from the baseline
from agglonet.scenarios.edits import parse_scenarios

SCENARIO_CONFIG = config.get("scenarios") or {}
# the start-up checks (agglonet.preflight) refuse bad scenarios; a scenario of a cluster that
# is not run is skipped there with a warning
SCENARIOS = {name: s for name, s in parse_scenarios(
    SCENARIO_CONFIG, speeds_kph=config["roads"]["speeds_kph"]).items() if s.cluster in CLUSTERS}


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


def report_scenarios():
    """{cluster: {"comparison": path, "scenarios": {name: {"metrics_diff", "summary", "maps"}}}}
    of the configured scenarios of the report's clusters (empty without scenarios)."""
    out = {}
    for name, s in sorted(SCENARIOS.items()):
        if s.cluster not in REPORT_CLUSTERS:
            continue
        folder = f"results/{s.cluster}/scenarios"
        entry = out.setdefault(s.cluster, {"comparison": f"{folder}/comparison.csv",
                                           "scenarios": {}})
        entry["scenarios"][name] = {
            "metrics_diff": f"{folder}/{name}/metrics_diff.csv",
            "summary": f"{folder}/{name}/summary.json",
            "maps": {lang: (f"{folder}/{name}/map.{lang}.png"
                            if config["export"]["maps"] else None) for lang in LANGUAGES}}
    return out


def report_scenario_inputs():
    """Every file of :func:`report_scenarios` (the report rule's scenario inputs)."""
    files = []
    for entry in report_scenarios().values():
        files.append(entry["comparison"])
        for scenario in entry["scenarios"].values():
            files += [scenario["metrics_diff"], scenario["summary"]]
            files += [path for path in scenario["maps"].values() if path]
    return files


def scenario_project_files(wildcards):
    """{scenario: {file key: path}} of the cluster's scenarios, for its QGIS project groups."""
    out = {}
    for name, s in sorted(SCENARIOS.items()):
        if s.cluster != wildcards.cluster:
            continue
        folder = f"results/{s.cluster}/scenarios/{name}"
        files = {"travel_time_diff_min": f"{folder}/travel_time_diff_min.tif",
                 "current_density_diff": f"{folder}/current_density_diff.tif",
                 "corridors_changed": f"{folder}/corridors_changed.gpkg"}
        if s.touches_roads:
            files["roads_edited"] = f"{folder}/roads_edited.gpkg"
        out[name] = files
    return out


def scenario_project_inputs(wildcards):
    """Every file of :func:`scenario_project_files` (the QGIS project rule's scenario inputs)."""
    return [path for files in scenario_project_files(wildcards).values()
            for path in files.values()]
