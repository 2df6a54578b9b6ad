"""Rule scenario_diff: a scenario's tables and rasters against the baseline's."""

import numpy as np
import pandas as pd

from agglonet.io import read_layer, read_raster, write_csv, write_gpkg, write_json, write_raster
from agglonet.logs import setup_logging
from agglonet.quality import read_quality
from agglonet.scenarios.diff import (
    changed_corridors,
    cities_diff,
    match_sources,
    metrics_diff,
    pairs_diff,
    raster_diff,
    scenario_summary,
    side_quality,
)
from agglonet.scenarios.edits import one_scenario
from agglonet.scenarios.landscape import LANDSCAPE_EDIT_COLUMNS
from agglonet.scenarios.roads import ROAD_EDIT_COLUMNS

setup_logging(snakemake.log[0])

inp, out, p = snakemake.input, snakemake.output, snakemake.params
scenario = one_scenario(snakemake.wildcards.scenario, p.scenario)
fact, quality = read_quality(inp.quality), scenario.edits_quality
codes = {"adcode": str, "origin_adcode": str, "dest_adcode": str, "city_adcodes": str}


def tables(name):
    """Return the (baseline, scenario) tables of one input name."""
    return tuple(pd.read_csv(inp[f"{k}_{name}"], dtype=codes) for k in ("base", "scen"))


metrics = metrics_diff(*tables("metrics"), fact=fact, edits_quality=quality)
pairs = pairs_diff(*tables("od"), fact=fact, edits_quality=quality)
write_csv(out.metrics, metrics, float_precision=p.float_precision)
write_csv(out.cities, cities_diff(accessibility=tables("accessibility"),
                                  cities_ecology=tables("cities_ecology"),
                                  sources=tables("sources"), thresholds_h=p.daily_thresholds_h,
                                  fact=fact, edits_quality=quality),
          float_precision=p.float_precision)
write_csv(out.pairs, pairs, float_precision=p.float_precision)
for key in ("travel_time", "current_density"):
    (base, profile), (scen, _) = read_raster(inp[f"base_{key}"]), read_raster(inp[f"scen_{key}"])
    band = (base[0], scen[0]) if base.ndim == 3 else (base, scen)
    write_raster(out[key], raster_diff(*band, nodata=profile.get("nodata")),
                 transform=profile["transform"], crs=profile["crs"], nodata=-9999.0,
                 resampling="average", tags={"scenario": scenario.name, "difference":
                                             "scenario − baseline"},
                 band_description=f"{key.replace('_', ' ')}: scenario − baseline")
base_eco = {n: read_layer(inp.base_ecology, n) for n in ("sources", "corridors")}
scen_eco = {n: read_layer(inp.scen_ecology, n) for n in ("sources", "corridors")}
corridors = changed_corridors(
    base_eco["corridors"], scen_eco["corridors"],
    source_map=match_sources(base_eco["sources"], scen_eco["sources"]),
    quality=side_quality(fact, side="ecology", edits_quality=quality))
write_gpkg(out.corridors, {"corridors_changed": corridors})
edit_tables = [pd.read_csv(path) for path in inp.edits]
road_edits = next((t for t in edit_tables if "start_node" in t.columns),
                  pd.DataFrame(columns=list(ROAD_EDIT_COLUMNS)))
landscape_edits = next((t for t in edit_tables if "n_cells" in t.columns),
                       pd.DataFrame(columns=list(LANDSCAPE_EDIT_COLUMNS)))
summary = scenario_summary(
    name=scenario.name, kind=scenario.kind, n_edits=len(scenario.edits),
    description=scenario.description, metrics=metrics, pairs=pairs,
    corridors=pd.DataFrame(corridors.drop(columns="geometry")), road_edits=road_edits,
    landscape_edits=landscape_edits, edits_quality=quality, fact=fact)
write_json(out.summary, {k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                         for k, v in summary.items()})
