"""Rule build_proxy_roads: synthetic proxy road network (offline default) as OSM XML."""

from agglonet.io import read_layer
from agglonet.logs import setup_logging
from agglonet.transport.proxy import write_proxy_osm

setup_logging(snakemake.log[0])

p = snakemake.params
write_proxy_osm(
    snakemake.output.osm,
    read_layer(snakemake.input.seats, "seats"),
    read_layer(snakemake.input.seats, "county_seats"),
    seed=p.seed,
    detour_factor=p.detour_factor,
    merge_distance_m=p.merge_distance_m,
    crs=p.crs,
)
