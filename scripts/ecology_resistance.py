"""Rule resistance: land-cover class values × slope factor + road penalties; open sea NaN."""

import pyogrio

from agglonet.ecology.resistance import resistance_surface
from agglonet.io import read_raster, write_raster
from agglonet.logs import setup_logging
from agglonet.retrieve.landmask import SEA

setup_logging(snakemake.log[0])

p = snakemake.params
classes, profile = read_raster(snakemake.input.landcover)
dem, _ = read_raster(snakemake.input.dem)
sea, _ = read_raster(snakemake.input.sea_mask)
roads = pyogrio.read_dataframe(snakemake.input.roads, layer="roads")
resistance = resistance_surface(
    classes, class_values=p.class_values, transform=profile["transform"], crs=profile["crs"],
    dem=dem, slope_breaks_deg=p.slope_breaks_deg, slope_factors=p.slope_factors,
    roads=roads, road_penalty=p.road_penalty, road_buffer_m=p.road_buffer_m,
    impassable=sea == SEA)
write_raster(snakemake.output.resistance, resistance, transform=profile["transform"],
             crs=profile["crs"], nodata=-9999.0, resampling="average",
             band_description="resistance (class value × slope factor + road penalty)",
             tags={"roads_source": ",".join(sorted(roads["source"].astype(str).unique()))
                   if "source" in roads.columns else "unknown",
                   "class_values": dict(p.class_values), "road_penalty": dict(p.road_penalty),
                   "slope_breaks_deg": list(p.slope_breaks_deg),
                   "slope_factors": list(p.slope_factors)})
