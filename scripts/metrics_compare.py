"""Rule compare_clusters: every cluster's metrics and accessibility → comparison table and chart."""

import pandas as pd

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
plot_comparison(table, snakemake.output.chart)
