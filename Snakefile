# agglonet — how well are the cities of a city cluster knit together, by roads and by nature.
# Stages: retrieve → transport → ecology → metrics → scenarios → export. See README.md.

import sys
from pathlib import Path

from agglonet.errors import AgglonetError
from agglonet.io import temp_dir
from agglonet.logs import collect_error_blocks
from agglonet.preflight import start_up

configfile: Path(workflow.basedir) / "config" / "config.yaml"

# Start-up checks (agglonet.preflight): the schema, every configured input file, cross-field
# rules, each cluster's extent, grid size and memory, the run folder. A problem stops the run
# here, before any job, with one message; stale temporary files of killed runs are removed.
if workflow.is_main_process:
    try:
        START = start_up(config, workflow_dir=workflow.basedir, workdir=Path.cwd())
    except AgglonetError as exc:
        sys.exit(f"agglonet: the run cannot start\n{exc}")
    CLUSTERS = START.clusters
    for warning in START.warnings:
        print(f"agglonet: warning: {warning}", file=sys.stderr)
else:  # a job re-reading the Snakefile (cluster executors): the checks ran at start-up
    from agglonet.retrieve.clusters import resolve_cluster_keys

    CLUSTERS = resolve_cluster_keys(config,
                                    catalogue_path=Path(workflow.basedir) / "config" / "clusters.yaml")

wildcard_constraints:
    cluster="[a-z][a-z0-9_]*",

# Each stage appends its final per-cluster files here; `rule all` asks for them.
TARGETS = []

localrules: all


rule all:
    input:
        lambda wildcards: TARGETS,
    default_target: True


include: "rules/common.smk"
include: "rules/retrieve.smk"
include: "rules/transport.smk"
include: "rules/ecology.smk"
include: "rules/metrics.smk"
include: "rules/scenarios.smk"
include: "rules/export.smk"


# A rule that stopped on a bad value or input wrote one block (agglonet.logs.report_error):
# repeat it as the last thing the run prints.
onerror:
    for block in collect_error_blocks(temp_dir(Path.cwd())):
        print(f"\n{block}", file=sys.stderr)
