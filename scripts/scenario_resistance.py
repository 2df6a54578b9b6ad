"""Rule scenario_resistance: resistance of a scenario's land cover, with its barrier edits."""

import pandas as pd
import pyogrio

from agglonet.ecology.resistance import resistance_surface
from agglonet.io import read_layer, read_raster, write_csv, write_raster
from agglonet.logs import setup_logging
from agglonet.quality import read_quality
from agglonet.retrieve.landmask import SEA
from agglonet.scenarios.diff import side_quality
from agglonet.scenarios.edits import RESISTANCE_EDITS, edit_geometries, one_scenario
from agglonet.scenarios.landscape import apply_resistance_edits, edits_frame

setup_logging(snakemake.log[0])

inp, out, p = snakemake.input, snakemake.output, snakemake.params
scenario = one_scenario(snakemake.wildcards.scenario, p.scenario)
classes, profile = read_raster(inp.landcover)
dem, _ = read_raster(inp.dem)
sea, _ = read_raster(inp.sea_mask)
r = p.resistance
resistance = resistance_surface(
    classes, class_values=r["class_values"], transform=profile["transform"], crs=profile["crs"],
    dem=dem, slope_breaks_deg=r["slope_breaks_deg"], slope_factors=r["slope_factors"],
    roads=pyogrio.read_dataframe(inp.roads, layer="roads"), road_penalty=r["road_penalty"],
    road_buffer_m=r["road_buffer_m"], impassable=sea == SEA)
edits = scenario.edits_of(RESISTANCE_EDITS)
resistance, rows = apply_resistance_edits(
    resistance, edits, geometries=edit_geometries(scenario, edits, crs=profile["crs"]),
    transform=profile["transform"], barriers=read_layer(inp.network, "barriers"),
    radius_m=p.barrier_radius_m, restored_resistance=p.restored_resistance)
write_raster(out.resistance, resistance, transform=profile["transform"], crs=profile["crs"],
             nodata=-9999.0, resampling="average", tags={"scenario": scenario.name},
             band_description="resistance (class value × slope factor + road penalty, "
                              "scenario edits)")
table = pd.concat([pd.read_csv(path) for path in inp.landcover_edits] + [edits_frame(rows)],
                  ignore_index=True)
fact = read_quality(inp.quality)
write_csv(out.edits, table.assign(
    quality=side_quality(fact, side="ecology", edits_quality=scenario.edits_quality)),
    float_precision=p.float_precision)
