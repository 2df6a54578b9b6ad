"""Rule travel_time_surface: minutes from every cell to the nearest seat and to the core city."""

import json

import rasterio

from agglonet.ecology.landcover import resolve_mapping
from agglonet.io import read_layer, write_raster
from agglonet.logs import setup_logging
from agglonet.transport.layers import roads_metadata
from agglonet.transport.surface import core_seat, travel_time_surface

setup_logging(snakemake.log[0])

p = snakemake.params
with rasterio.open(snakemake.input.landcover) as src:
    landcover, transform, crs = src.read(1), src.transform, src.crs
    classification = src.tags().get("classification")
with open(snakemake.input.report, encoding="utf-8") as fh:
    meta = roads_metadata(json.load(fh))
roads = read_layer(snakemake.input.roads, "roads")
seats = read_layer(snakemake.input.seats, "seats")
core = core_seat(seats, p.core_city)
mapping = resolve_mapping(p.landcover_mapping, classification=classification)
water_codes = p.water_codes or sorted(c for c, name in mapping.items() if name == "water")
grid = dict(shape=landcover.shape, transform=transform, crs=crs,
            offroad_speed_kph=p.offroad_speed_kph, landcover=landcover,
            water_codes=water_codes,
            water_barrier=p.water_barrier)
tags = {**meta, "units": "minutes", "landcover_classification": classification,
        "water_barrier": p.water_barrier}
for path, targets, what in (
    (snakemake.output.surface, seats, "the nearest city seat"),
    (snakemake.output.core_surface, core,
     f"the seat of the core city {core['name_en'].iloc[0]} ({core['adcode'].iloc[0]})"),
):
    write_raster(path, travel_time_surface(roads, targets, **grid), transform=transform, crs=crs,
                 nodata=-9999.0, tags={**tags, "destination": what},
                 band_description=f"travel time to {what} (min)", resampling="average")
