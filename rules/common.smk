# rules/common.smk — helpers shared by the rule files (kept out of them, as `snakemake --lint` asks).

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
