"""Rule ecology_tables: the ecological network per city, neighbour pair, corridor and source.

Writes cities_ecology.csv, city_pairs_ecology.csv, corridors.csv and sources.csv.
"""

from agglonet.io import read_layer, read_raster, write_csv
from agglonet.logs import setup_logging
from agglonet.metrics.ecology_tables import (
    cities_ecology,
    city_pairs_ecology,
    corridors_table,
    sources_table,
)
from agglonet.quality import read_quality

setup_logging(snakemake.log[0])

inp, out = snakemake.input, snakemake.output
digits = snakemake.params.float_precision
layers = {name: read_layer(inp.ecology, name).drop(columns="fid")
          for name in ("sources", "corridors", "corridor_areas", "pinch_points", "barriers",
                       "road_crossings")}
cities = read_layer(inp.boundaries, "cities").drop(columns="fid")
quality = read_quality(inp.quality)
resistance, profile = read_raster(inp.resistance)
current, _ = read_raster(inp.current_density)
write_csv(out.cities, cities_ecology(
    cities=cities, sources=layers["sources"], corridors=layers["corridors"],
    pinch_zones=layers["pinch_points"], road_crossings=layers["road_crossings"],
    barriers=layers["barriers"], resistance=resistance, current_density=current,
    transform=profile["transform"], quality=quality), float_precision=digits)
write_csv(out.pairs, city_pairs_ecology(
    cities=cities, sources=layers["sources"], corridors=layers["corridors"],
    road_crossings=layers["road_crossings"], quality=quality), float_precision=digits)
write_csv(out.corridors, corridors_table(
    corridors=layers["corridors"], corridor_areas=layers["corridor_areas"], cities=cities,
    quality=quality), float_precision=digits)
write_csv(out.sources, sources_table(sources=layers["sources"], cities=cities, quality=quality),
          float_precision=digits)
