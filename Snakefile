# agglonet — how well are the cities of a city cluster knit together, by roads and by nature.
# Stages: retrieve → transport → ecology → metrics → export. See README.md.

from pathlib import Path

from agglonet.config import validate_config
from agglonet.retrieve.clusters import resolve_cluster_keys

configfile: Path(workflow.basedir) / "config" / "config.yaml"

validate_config(config, Path(workflow.basedir) / "config" / "schema.yaml")

CLUSTERS = resolve_cluster_keys(config)

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
include: "rules/export.smk"
