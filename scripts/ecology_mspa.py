"""Rule mspa: MSPA of the ecological land (foreground classes) with GWB_MSPA byte codes.

Open sea (``sea_mask.tif``) is missing data, like land-cover no data: coded 129, never foreground.
"""

import numpy as np

from agglonet.ecology.landcover import CLASS_CODES, NODATA
from agglonet.ecology.mspa import MSPA_CLASS_VALUES, MSPA_NODATA, mspa
from agglonet.io import read_raster, write_raster
from agglonet.logs import setup_logging
from agglonet.retrieve.landmask import SEA

setup_logging(snakemake.log[0])

p = snakemake.params
classes, profile = read_raster(snakemake.input.landcover)
sea, _ = read_raster(snakemake.input.sea_mask)
foreground = np.isin(classes, [CLASS_CODES[c] for c in p.foreground_classes])
codes = mspa(foreground, edge_width=p.edge_width, connectivity=p.connectivity,
             transition=p.transition, intext=p.intext,
             valid=(classes != NODATA) & (sea != SEA))
write_raster(snakemake.output.mspa, codes, transform=profile["transform"],
             crs=profile["crs"], nodata=MSPA_NODATA, band_description="MSPA class",
             tags={"mspa_codes": MSPA_CLASS_VALUES, "core_opening": 100, "border_opening": 220,
                   "edge_width_cells": p.edge_width, "connectivity": p.connectivity,
                   "transition": int(p.transition), "intext": int(p.intext),
                   "foreground_classes": list(p.foreground_classes)})
