"""Rule quality: the run's one quality fact → results/{cluster}/quality.json.

Decided from what the run used: the road source recorded by the road-network stage, and the
native resolution tagged on the land-cover and DEM rasters against the grid's cell size.
"""

import json
from pathlib import Path

import rasterio

from agglonet.logs import setup_logging
from agglonet.quality import decide_quality, write_quality

setup_logging(snakemake.log[0])

inp = snakemake.input
report = json.loads(Path(inp.report).read_text(encoding="utf-8"))
resolutions = {}
for name in ("landcover", "dem"):
    with rasterio.open(inp[name]) as src:
        grid_m = abs(src.transform.a)
        native = src.tags().get("native_resolution_m")
        resolutions[name] = float(native) if native else None
fact = decide_quality(roads_source=report["roads_source"], input_resolutions_m=resolutions,
                      grid_resolution_m=grid_m)
write_quality(snakemake.output.quality, fact)
