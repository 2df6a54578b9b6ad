"""Rule build_seats: seat points of the member cities and of their counties (GeoNames)."""

from agglonet.io import read_layer, write_gpkg
from agglonet.logs import setup_logging
from agglonet.provenance import metadata_for, write_records
from agglonet.retrieve.seats import (
    city_seats,
    county_seats,
    geonames_record,
    load_places,
)

setup_logging(snakemake.log[0])

places = load_places(dataset=snakemake.params.dataset)
cities = read_layer(snakemake.input.boundaries, "cities").drop(columns="fid")
counties = read_layer(snakemake.input.boundaries, "counties").drop(columns="fid")
records = [geonames_record(snakemake.params.dataset)]
write_gpkg(snakemake.output.seats,
           {"seats": city_seats(cities, places=places),
            "county_seats": county_seats(counties, places=places)},
           metadata=metadata_for(records))
write_records(snakemake.output.provenance, records)
