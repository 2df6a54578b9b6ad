"""Rule build_cities: the member cities with their seats and populations (first results)."""

from agglonet.io import read_layer, write_csv, write_gpkg
from agglonet.logs import setup_logging
from agglonet.provenance import metadata_for, read_records
from agglonet.retrieve.seats import cities_with_seats

setup_logging(snakemake.log[0])

cities = read_layer(snakemake.input.boundaries, "cities").drop(columns="fid")
seats = read_layer(snakemake.input.seats, "seats").drop(columns="fid")
table = cities_with_seats(cities, seats)
records = read_records(snakemake.input.sources)
write_gpkg(snakemake.output.gpkg, {"cities": table, "seats": seats},
           metadata=metadata_for(records))
write_csv(snakemake.output.csv, table.drop(columns="geometry"), float_precision=10)
