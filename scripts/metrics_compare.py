"""Rule compare_clusters: every cluster's metrics and accessibility → table and charts."""

import pandas as pd

from agglonet.export import fonts, labels
from agglonet.io import write_csv
from agglonet.logs import setup_logging
from agglonet.metrics.compare import cities_table, comparison_table, plot_comparison

setup_logging(snakemake.log[0])

clusters = snakemake.params.clusters
precision = snakemake.params.float_precision
table = comparison_table([pd.read_csv(path, dtype={"cluster": str, "name_zh": str})
                          for path in snakemake.input.metrics])
cities = cities_table({cluster: pd.read_csv(path, dtype={"adcode": str})
                       for cluster, path in zip(clusters, snakemake.input.accessibility,
                                                strict=True)})
write_csv(snakemake.output.table, table, float_precision=precision)
write_csv(snakemake.output.cities, cities, float_precision=precision)
family = [fonts.use_in_matplotlib(), "DejaVu Sans"]
for language, chart in zip(snakemake.params.languages, snakemake.output.charts, strict=True):
    plot_comparison(table, chart, font_family=family, **labels.comparison_chart_text(language))
