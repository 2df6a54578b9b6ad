"""Rule industrial_structure: sector table → structure_{cities,sectors,pairs}.csv, summary, PNG."""

import pandas as pd

from agglonet.io import read_layer, write_csv, write_json
from agglonet.logs import setup_logging
from agglonet.metrics.structure import plot_similarity, structure_results
from agglonet.quality import read_quality
from agglonet.retrieve.sectors import cluster_sectors, load_sector_table

setup_logging(snakemake.log[0])

inp, out, p = snakemake.input, snakemake.output, snakemake.params
cluster = snakemake.wildcards.cluster
cities = read_layer(inp.boundaries, "cities")
rows, missing, name = None, [], ""
if "sector_table" in inp.keys():  # noqa: SIM118 (a Snakemake namedlist)
    name = str(inp.sector_table)
    rows, missing = cluster_sectors(load_sector_table(inp.sector_table), cities,
                                    missing=p.missing_cities, path=name, cluster=cluster)
result = structure_results(
    rows, cities=cities,
    od=pd.read_csv(inp.od, dtype={"origin_adcode": str, "dest_adcode": str}),
    missing=missing, threshold=p.similarity_threshold,
    labels=read_quality(inp.quality).transport_labels(), table_name=name)
for key in ("cities", "sectors", "pairs"):
    write_csv(out[key], result[key], float_precision=p.float_precision)
write_json(out.summary, result["summary"])
plot_similarity(result["pairs"], out.figure, cluster=cluster, summary=result["summary"])
