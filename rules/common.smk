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
