"""Rule travel_time_surface: minutes from every cell to the nearest seat and to the core city."""

import json

import numpy as np

from agglonet.ecology.landcover import CLASS_CODES, NODATA
from agglonet.io import read_layer, read_raster, write_raster
from agglonet.logs import setup_logging
from agglonet.quality import read_quality
from agglonet.retrieve.landmask import SEA
from agglonet.transport.layers import roads_metadata
from agglonet.transport.surface import cluster_cells, core_seat, travel_time_surface

setup_logging(snakemake.log[0])

inp, p = snakemake.input, snakemake.params
landcover, profile = read_raster(inp.landcover)
sea, _ = read_raster(inp.sea_mask)
transform, crs = profile["transform"], profile["crs"]
with open(inp.report, encoding="utf-8") as fh:
    meta = roads_metadata(json.load(fh))
quality = read_quality(inp.quality)
speeds = {NODATA if name == "nodata" else CLASS_CODES[name]: kph
          for name, kph in p.offroad_speeds_kph.items()}
seats = read_layer(inp.seats, "seats")
core = core_seat(seats, p.core_city)
in_cluster = cluster_cells(read_layer(inp.boundaries, "cluster"), shape=landcover.shape,
                           transform=transform, crs=crs).astype(np.float32)
tags = {**meta, "roads_source": quality.roads_source, "quality": quality.transport_quality,
        "units": "minutes", "offroad_speeds_kph": dict(p.offroad_speeds_kph),
        "band_2": "1 = cell inside the cluster, 0 = buffer (colour ramps span band-1 cells "
                  "with band 2 = 1)"}
for path, targets, what in (
    (snakemake.output.surface, seats, "the nearest city seat"),
    (snakemake.output.core_surface, core,
     f"the seat of the core city {core['name_en'].iloc[0]} ({core['adcode'].iloc[0]})"),
):
    minutes = travel_time_surface(read_layer(inp.roads, "roads"), targets, transform=transform,
                                  crs=crs, landcover=landcover, speed_by_code=speeds,
                                  impassable=sea == SEA)
    write_raster(path, np.stack([minutes, in_cluster]), transform=transform, crs=crs,
                 nodata=-9999.0, tags={**tags, "destination": what}, resampling="average",
                 band_description=[f"travel time to {what} (min)", "inside the cluster (1/0)"])
