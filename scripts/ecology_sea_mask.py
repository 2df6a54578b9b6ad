"""Rule sea_mask: open-sea cells of the cluster grid (1 = sea, 0 = land), once for every stage."""

import numpy as np

from agglonet.ecology.landcover import CLASS_CODES
from agglonet.grid import cluster_grid
from agglonet.io import read_layer, read_raster, write_raster
from agglonet.logs import setup_logging
from agglonet.provenance import metadata_for, write_records
from agglonet.retrieve.landmask import SEA, sea_mask, sea_mask_records

setup_logging(snakemake.log[0])

p = snakemake.params
cluster = read_layer(snakemake.input.boundaries, "cluster")
grid = cluster_grid(cluster.geometry.iloc[0], buffer_m=p.buffer_km * 1000,
                    resolution_m=p.resolution_m, crs=cluster.crs)
classes, _ = read_raster(snakemake.input.landcover)
sea = sea_mask(grid, source=p.source, water=classes == CLASS_CODES["water"],
               connected_water_km=p.connected_water_km)
records = sea_mask_records(p.source)
write_raster(snakemake.output.sea_mask, np.where(sea, SEA, 0).astype(np.uint8),
             transform=grid.transform, crs=grid.crs, nodata=None,
             tags={**metadata_for(records), "sea_mask_source": p.source,
                   "connected_water_km": p.connected_water_km},
             band_description="open sea (1) / land (0)")
write_records(snakemake.output.provenance, records)
