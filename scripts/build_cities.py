"""Rule build_cities: the member cities with their seats and populations (first results)."""

from agglonet.logs import setup_logging

setup_logging(snakemake.log[0])  # noqa: F821

from agglonet.io import read_layer, write_csv, write_gpkg  # noqa: E402
from agglonet.provenance import metadata_for, read_records  # noqa: E402
from agglonet.seats import cities_with_seats  # noqa: E402

cities = read_layer(snakemake.input.boundaries, "cities").drop(columns="fid")  # noqa: F821
seats = read_layer(snakemake.input.seats, "seats").drop(columns="fid")  # noqa: F821
table = cities_with_seats(cities, seats)
records = read_records(snakemake.input.sources)  # noqa: F821
write_gpkg(snakemake.output.gpkg, {"cities": table, "seats": seats},  # noqa: F821
           metadata=metadata_for(records))
write_csv(snakemake.output.csv, table.drop(columns="geometry"), float_precision=10)  # noqa: F821
