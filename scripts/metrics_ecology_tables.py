"""Rule ecology_tables: the ecological network per city, neighbour pair, corridor and source.

Writes cities_ecology.csv, city_pairs_ecology.csv, corridors.csv and sources.csv.
"""

from agglonet.logs import setup_logging
from agglonet.metrics.steps import write_ecology_tables

setup_logging(snakemake.log[0])

write_ecology_tables(snakemake.input, snakemake.output,
                     float_precision=snakemake.params.float_precision)
