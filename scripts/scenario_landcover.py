"""Rule scenario_landcover: the baseline land cover with a scenario's restorations."""

from agglonet.io import read_raster, write_csv, write_raster
from agglonet.logs import setup_logging
from agglonet.retrieve.landmask import SEA
from agglonet.scenarios.edits import LANDCOVER_EDITS, edit_geometries, one_scenario
from agglonet.scenarios.landscape import apply_landcover_edits, edits_frame

setup_logging(snakemake.log[0])

inp, out, p = snakemake.input, snakemake.output, snakemake.params
scenario = one_scenario(snakemake.wildcards.scenario, p.scenario)
classes, profile = read_raster(inp.landcover)
sea, _ = read_raster(inp.sea_mask)
edits = scenario.edits_of(LANDCOVER_EDITS)
classes, rows = apply_landcover_edits(
    classes, edits, geometries=edit_geometries(scenario, edits, crs=profile["crs"]),
    transform=profile["transform"], sea=sea == SEA)
write_raster(out.landcover, classes, transform=profile["transform"], crs=profile["crs"],
             nodata=profile.get("nodata"), band_description="common land-cover class",
             tags={"scenario": scenario.name})
write_csv(out.edits, edits_frame(rows), float_precision=p.float_precision)
