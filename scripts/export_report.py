"""Rule report: every cluster of the run → results/report.{lang}.html (+ .pdf) and report.html."""

import shutil

from agglonet.export.report import CLUSTER_INPUTS, write_pdf, write_report
from agglonet.logs import setup_logging

setup_logging(snakemake.log[0])

inp, out, params = snakemake.input, snakemake.output, snakemake.params
clusters = {cluster: {key: inp[key][i] for key in CLUSTER_INPUTS
                      if hasattr(inp, key) and len(inp[key]) > i}
            for i, cluster in enumerate(params.clusters)}
for i, language in enumerate(params.languages):
    files = {cluster: {**paths, "accessibility_map": params.maps[language]["accessibility"][i],
                       "ecology_map": params.maps[language]["ecology"][i],
                       "project": params.projects[language][i]}
             for i, (cluster, paths) in enumerate(clusters.items())}
    scenarios = {cluster: {"comparison": entry["comparison"], "scenarios": {
        name: {**paths, "map": paths["maps"][language]}
        for name, paths in entry["scenarios"].items()}}
        for cluster, entry in params.scenarios.items()}
    write_report(out.pages[i], clusters=files, comparison_table=inp.comparison,
                 comparison_chart=inp.charts[i], config=params.config, language=language,
                 repo=params.repo, other_languages=params.languages, scenarios=scenarios)
    if params.pdf:
        write_pdf(out.pages[i], out.pdfs[i])
shutil.copyfile(out.pages[0], out.report)
