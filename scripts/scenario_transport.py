"""Rule scenario_transport: road edits, travel-time surfaces, OD and accessibility of a scenario."""

from agglonet.logs import setup_logging
from agglonet.scenarios.edits import one_scenario
from agglonet.scenarios.steps import run_road_scenario

setup_logging(snakemake.log[0])

p = snakemake.params
run_road_scenario(snakemake.input, snakemake.output,
                  scenario=one_scenario(snakemake.wildcards.scenario, p.scenario,
                                        speeds_kph=p.speeds_kph),
                  roads=p.roads, surface=p.surface, accessibility=p.accessibility)
