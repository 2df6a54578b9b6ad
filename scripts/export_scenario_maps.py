"""Rule scenario_maps: a scenario's before–after map per language (map.{lang}.png)."""

import json
from pathlib import Path

import pandas as pd

from agglonet.export import labels
from agglonet.export.scenario_maps import write_scenario_maps
from agglonet.io import read_layer
from agglonet.logs import setup_logging
from agglonet.provenance import attributions, source_records
from agglonet.quality import read_quality
from agglonet.scenarios.edits import (
    LANDCOVER_EDITS,
    RESISTANCE_EDITS,
    edit_geometries,
    one_scenario,
)

setup_logging(snakemake.log[0])

inp, p = snakemake.input, snakemake.params
scenario = one_scenario(snakemake.wildcards.scenario, p.scenario)
areas = edit_geometries(scenario, scenario.edits_of((*LANDCOVER_EDITS, *RESISTANCE_EDITS)),
                        crs=p.crs)
cluster = read_layer(inp.boundaries, "cluster").iloc[0]
records = source_records(json.loads(Path(inp.sources).read_text(encoding="utf-8")))
write_scenario_maps(
    dict(zip(p.languages, snakemake.output.maps, strict=True)),
    inputs={**{key: inp[key] for key in ("travel_time_diff", "current_density_diff",
                                          "corridors_changed", "boundaries", "seats")},
            "roads_edited": inp.roads_edited[0] if inp.roads_edited else None},
    title={lang: labels.text("scenario_title", lang, scenario=scenario.name,
                             name=cluster.get(f"name_{lang}") or snakemake.wildcards.cluster)
           for lang in p.languages},
    attribution=attributions(records, roads_source=read_quality(inp.quality).roads_source),
    edit_areas=pd.concat(areas.values(), ignore_index=True)[["geometry"]] if areas else None,
)
