"""Rule build_proxy_roads: synthetic proxy road network (offline default) as OSM XML."""

from agglonet.logs import setup_logging

setup_logging(snakemake.log[0])

from agglonet.io import read_layer  # noqa: E402
from agglonet.proxy_network import write_proxy_osm  # noqa: E402

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
