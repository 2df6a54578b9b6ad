"""Rule scenario_tables: a scenario's crossings, ecology tables, metrics and its diff."""

from agglonet.logs import setup_logging
from agglonet.scenarios.edits import one_scenario
from agglonet.scenarios.steps import run_scenario_tables

setup_logging(snakemake.log[0])

p = snakemake.params
run_scenario_tables(snakemake.input, snakemake.output,
                    scenario=one_scenario(snakemake.wildcards.scenario, p.scenario),
                    cluster=snakemake.wildcards.cluster, road_classes=p.road_classes,
                    class_weights=p.class_weights, daily_thresholds_h=p.daily_thresholds_h,
                    float_precision=p.float_precision)
