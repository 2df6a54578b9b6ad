"""Rule travel_time_surface: minutes from every cell of the cluster grid to the nearest seat."""

from agglonet.logs import setup_logging

setup_logging(snakemake.log[0])

import json  # noqa: E402

import rasterio  # noqa: E402

from agglonet.io import read_layer, write_raster  # noqa: E402
from agglonet.roads import roads_metadata  # noqa: E402
from agglonet.travel_surface import travel_time_surface, water_codes_for  # noqa: E402

p = snakemake.params
with rasterio.open(snakemake.input.landcover) as src:
    landcover, transform, crs = src.read(1), src.transform, src.crs
    classification = src.tags().get("classification")
with open(snakemake.input.report, encoding="utf-8") as fh:
    meta = roads_metadata(json.load(fh))
minutes = travel_time_surface(
    read_layer(snakemake.input.roads, "roads"),
    read_layer(snakemake.input.seats, "seats"),
    shape=landcover.shape,
    transform=transform,
    crs=crs,
    offroad_speed_kph=p.offroad_speed_kph,
    landcover=landcover,
    water_codes=p.water_codes or water_codes_for(classification),
    water_barrier=p.water_barrier,
)
write_raster(snakemake.output.surface, minutes, transform=transform, crs=crs, nodata=-9999.0,
             tags={**meta, "units": "minutes", "landcover_classification": classification,
                   "water_barrier": p.water_barrier},
             band_description="travel time to the nearest city seat (min)",
             resampling="average")
