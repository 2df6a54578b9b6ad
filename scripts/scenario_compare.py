"""Rule scenario_comparison: every scenario of a cluster, ranked by effect and effect per unit."""

import json
from pathlib import Path

from agglonet.io import write_csv
from agglonet.logs import setup_logging
from agglonet.scenarios.diff import comparison_table

setup_logging(snakemake.log[0])

summaries = [json.loads(Path(path).read_text(encoding="utf-8"))
             for path in snakemake.input.summaries]
write_csv(snakemake.output.table, comparison_table(summaries),
          float_precision=snakemake.params.float_precision)
