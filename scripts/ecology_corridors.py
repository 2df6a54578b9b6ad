"""Rule corridors: least-cost corridors between adjacent sources, gravity classes, barriers.

With a single source there is no corridor: the rule writes the cost distance from that source,
an empty corridor mask and empty corridor/barrier layers, with a warning (see README).
"""

from agglonet.logs import setup_logging

setup_logging(snakemake.log[0])  # noqa: F821

import logging  # noqa: E402

import numpy as np  # noqa: E402

from agglonet.ecology.barriers import find_barriers  # noqa: E402
from agglonet.ecology.corridors import build_corridors, cost_allocation  # noqa: E402
from agglonet.ecology.sources import add_mean_resistance  # noqa: E402
from agglonet.ecology.summary import network_layers  # noqa: E402
from agglonet.io import read_layer, read_raster, write_gpkg, write_raster  # noqa: E402

p, inp, out = snakemake.params, snakemake.input, snakemake.output  # noqa: F821
resistance, profile = read_raster(inp.resistance)
labels, _ = read_raster(inp.labels)
transform, crs = profile["transform"], profile["crs"]
sources = add_mean_resistance(read_layer(inp.sources, "sources").drop(columns="fid"), labels,
                              resistance)
if len(sources) >= 2:
    net = build_corridors(resistance, labels, transform=transform, crs=crs,
                          width_cost_units=p.width_cost_units, class_quantiles=p.class_quantiles)
    barriers = find_barriers(net, radius_m=p.barrier_radius_m, top_n=p.barrier_top_n,
                             restored_resistance=p.restored_resistance)
    cost_distance, mask = net.cost_distance, net.corridor_mask
    layers = network_layers(sources=sources, crs=crs, corridors=net.corridors,
                            corridor_areas=net.corridor_areas, barriers=barriers)
else:
    logging.getLogger("ecology_corridors").warning(
        "only %d ecological source: no corridor, pinch point or barrier can be built; writing "
        "empty layers (lower ecology.sources.min_area_km2 or raise top_n for a network)",
        len(sources))
    cost_distance, _ = cost_allocation(resistance, labels, cell_size_m=abs(transform.a))
    mask = np.zeros(labels.shape, dtype=np.int32)
    layers = network_layers(sources=sources, crs=crs)
write_raster(out.cost_distance, cost_distance.astype(np.float32), transform=transform, crs=crs,
             nodata=-9999.0, resampling="average",
             band_description="cost-weighted distance to the nearest source (resistance·m)")
write_raster(out.corridor_mask, mask.astype(np.int32), transform=transform, crs=crs, nodata=None,
             band_description="corridor id (0 = none)")
write_gpkg(out.network, layers)
