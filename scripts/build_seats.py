"""Rule build_seats: seat points of the member cities and counties, with the cities' masses.

Seat locations come from GeoNames; populations and GDP from the user's table
(transport.mass_table), else the shipped 2020 census table, else the GeoNames seat population.
"""

from agglonet.io import read_layer, write_gpkg
from agglonet.logs import setup_logging
from agglonet.provenance import metadata_for, write_records
from agglonet.retrieve.census import (
    assign_masses,
    census_record,
    load_census_table,
    load_mass_table,
    run_members,
    user_record,
)
from agglonet.retrieve.seats import (
    city_seats,
    county_seats,
    geonames_record,
    load_places,
)

setup_logging(snakemake.log[0])

p = snakemake.params
places = load_places(dataset=p.dataset)
cities = read_layer(snakemake.input.boundaries, "cities").drop(columns="fid")
counties = read_layer(snakemake.input.boundaries, "counties").drop(columns="fid")
config = {"custom_clusters": p.custom_clusters}
own = run_members([snakemake.wildcards.cluster], config=config)
records = [geonames_record(p.dataset), census_record()]
user_table = None
if p.mass_table:
    user_table = load_mass_table(p.mass_table, members=run_members(p.clusters, config=config))
    records.append(user_record(p.mass_table))
seats = assign_masses(city_seats(cities, places=places), census=load_census_table(),
                      user_table=user_table,
                      county_subsets=own.loc[own["counties"].map(len) > 0, "adcode"])
write_gpkg(snakemake.output.seats,
           {"seats": seats, "county_seats": county_seats(counties, places=places)},
           metadata=metadata_for(records))
write_records(snakemake.output.provenance, records)
