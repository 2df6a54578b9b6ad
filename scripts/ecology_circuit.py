"""Rule circuit: cumulative current density and pinch points; writes ecology_network.gpkg."""

import numpy as np

from agglonet.ecology.resistance import mask_impassable
from agglonet.ecology.summary import circuit_stage
from agglonet.io import read_layer, read_raster, write_gpkg, write_raster
from agglonet.logs import setup_logging
from agglonet.outputs import layer_names
from agglonet.retrieve.landmask import SEA

setup_logging(snakemake.log[0])

p, inp, out = snakemake.params, snakemake.input, snakemake.output
resistance, profile = read_raster(inp.resistance)
sea, _ = read_raster(inp.sea_mask)
resistance = mask_impassable(resistance, sea == SEA)
labels, _ = read_raster(inp.labels)
mask, _ = read_raster(inp.corridor_mask)
transform, crs = profile["transform"], profile["crs"]
layers = {name: read_layer(inp.network, name).drop(columns="fid")
          for name in layer_names("ecology_corridors")}
current, layers = circuit_stage(resistance, labels, mask, layers, transform=transform, crs=crs,
                                mode=p.mode, solver=p.solver, direct_max_cells=p.direct_max_cells,
                                pinch_quantile=p.pinch_quantile, rtol=p.rtol,
                                processes=snakemake.threads)
write_raster(out.current_density, current.astype(np.float32), transform=transform, crs=crs,
             nodata=-9999.0, resampling="average",
             band_description=f"cumulative current density (A, {p.mode})")
write_gpkg(out.network, layers)
