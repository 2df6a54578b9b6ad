"""Rule build_seats: seat points of the member cities and of their counties (GeoNames)."""

from agglonet.logs import setup_logging

setup_logging(snakemake.log[0])  # noqa: F821

from agglonet.io import read_layer, write_gpkg  # noqa: E402
from agglonet.provenance import metadata_for, write_records  # noqa: E402
from agglonet.seats import city_seats, county_seats, geonames_record, load_places  # noqa: E402

places = load_places(dataset=snakemake.params.dataset)  # noqa: F821
cities = read_layer(snakemake.input.boundaries, "cities").drop(columns="fid")  # noqa: F821
counties = read_layer(snakemake.input.boundaries, "counties").drop(columns="fid")  # noqa: F821
records = [geonames_record(snakemake.params.dataset)]  # noqa: F821
write_gpkg(snakemake.output.seats,  # noqa: F821
           {"seats": city_seats(cities, places=places),
            "county_seats": county_seats(counties, places=places)},
           metadata=metadata_for(records))
write_records(snakemake.output.provenance, records)  # noqa: F821
