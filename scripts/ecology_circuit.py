"""Rule circuit: cumulative current density, pinch points; writes ecology_network.gpkg.

Pairwise mode uses the corridor pairs (adjacent sources whose corridor was kept). With no corridor
(a single source) the current density is 0 on passable cells and there is no pinch point.
"""

from agglonet.logs import setup_logging

setup_logging(snakemake.log[0])  # noqa: F821

import numpy as np  # noqa: E402

from agglonet.ecology.circuit import cumulative_current, pinch_points  # noqa: E402
from agglonet.ecology.summary import network_layers  # noqa: E402
from agglonet.io import read_layer, read_raster, write_gpkg, write_raster  # noqa: E402

p, inp, out = snakemake.params, snakemake.input, snakemake.output  # noqa: F821
resistance, profile = read_raster(inp.resistance)
labels, _ = read_raster(inp.labels)
mask, _ = read_raster(inp.corridor_mask)
transform, crs = profile["transform"], profile["crs"]
layers = {name: read_layer(inp.network, name).drop(columns="fid")
          for name in ("sources", "corridors", "corridor_areas", "barriers")}
corridors = layers["corridors"]
pins = None
if len(corridors):
    pairs = sorted(zip(corridors["from_source"].astype(int), corridors["to_source"].astype(int),
                       strict=True))
    current = cumulative_current(resistance, labels, pairs=pairs, mode=p.mode, solver=p.solver,
                                 direct_max_cells=p.direct_max_cells).current_density
    pins = pinch_points(current, mask, transform=transform, crs=crs, quantile=p.pinch_quantile)
else:
    current = np.where(np.isfinite(resistance), 0.0, np.nan)
write_raster(out.current_density, current.astype(np.float32), transform=transform, crs=crs,
             nodata=-9999.0, resampling="average",
             band_description=f"cumulative current density (A, {p.mode})")
write_gpkg(out.network, network_layers(crs=crs, pinch_points=pins, **layers))
