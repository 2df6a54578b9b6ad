"""Rule corridors: least-cost corridors between adjacent sources, gravity classes, barriers.

With a single source there is no corridor: the rule writes the cost distance from that source,
an empty corridor mask and empty corridor/barrier layers, with a warning.
"""

import numpy as np

from agglonet.ecology.resistance import mask_impassable
from agglonet.ecology.summary import corridor_stage
from agglonet.io import read_layer, read_raster, write_gpkg, write_raster
from agglonet.logs import setup_logging
from agglonet.retrieve.landmask import SEA

setup_logging(snakemake.log[0])

p, inp, out = snakemake.params, snakemake.input, snakemake.output
resistance, profile = read_raster(inp.resistance)
sea, _ = read_raster(inp.sea_mask)
resistance = mask_impassable(resistance, sea == SEA)
labels, _ = read_raster(inp.labels)
transform, crs = profile["transform"], profile["crs"]
cost_distance, mask, layers = corridor_stage(
    resistance, labels, read_layer(inp.sources, "sources").drop(columns="fid"),
    transform=transform, crs=crs, width_cost_units=p.width_cost_units,
    class_quantiles=p.class_quantiles, barrier_radius_m=p.barrier_radius_m,
    barrier_top_n=p.barrier_top_n, restored_resistance=p.restored_resistance,
    barrier_weight=p.barrier_weight, barrier_max_per_corridor=p.barrier_max_per_corridor,
    workers=snakemake.threads)
write_raster(out.cost_distance, cost_distance.astype(np.float32), transform=transform, crs=crs,
             nodata=-9999.0, resampling="average",
             band_description="cost-weighted distance to the nearest source (resistance·m)")
write_raster(out.corridor_mask, mask, transform=transform, crs=crs, nodata=None,
             band_description="corridor id (0 = none)")
write_gpkg(out.network, layers)
