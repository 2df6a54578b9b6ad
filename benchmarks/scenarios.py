"""Benchmark: a road-only scenario against a full fresh run of the same cluster.

In a new working directory, the offline default (central_plains_core) runs from scratch (the
full run: retrieve, transport, ecology, metrics, export); then, with the worked example's
configuration, the road-only scenario ``xinxiang_kaifeng_expressway`` runs
alone (its road graph, surfaces, OD and accessibility, crossings, tables, metrics and the diff;
the ecological network is the baseline's). Both are timed by the wall clock, Snakemake's start
included.

Same answer: the scenario reuses the baseline's ecological network, so every ``eco_*`` metric
of its ``metrics.csv`` must equal the baseline's, and its diff must show a road change
(``road_n_edges``). The last line is ``speedup_vs_full_run=<number>``. Run by hand:
``python benchmarks/scenarios.py [--cores 2] [--keep DIR]``.

Measured on the 2-core build machine while other jobs ran. With the scenario as a chain of
seven jobs (road edits, surfaces, OD and accessibility, crossings, tables, metrics, diff; each
paying the interpreter's and the geospatial imports' start-up): full run 134.9 s, scenario
50.4 s, speedup 2.68 (load average 10–11); again 257.0 s, 86.1 s, 2.98 (load average 13).
With the scenario as two jobs (``scenario_transport``: 21.0 s; ``scenario_tables``: 7.7 s),
which call the baseline's step functions in one process: full run 150.9 s, scenario 34.9 s,
speedup 4.33 (load average 8–10). The scenario's tables are byte-identical either way.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "config" / "scenarios" / "central_plains_core.yaml"
SCENARIO = "xinxiang_kaifeng_expressway"


def snakemake(workdir: Path, cores: int, *targets: str, configfile: Path | None = None) -> float:
    """Run the workflow; return the wall-clock seconds."""
    # targets first: --quiet and --configfile take the words after them
    command = [sys.executable, "-m", "snakemake", *targets, "--snakefile",
               str(REPO / "Snakefile"), "--directory", str(workdir), "--cores", str(cores),
               "--quiet", "rules"]
    command += ["--configfile", str(configfile)] if configfile else []
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=workdir, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="run here and keep it")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="agglonet-scenario-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "config" / "scenarios", workdir / "config" / "scenarios",
                    dirs_exist_ok=True)
    out = workdir / "results" / "central_plains_core"
    try:
        full_s = snakemake(workdir, args.cores)  # the default config: no scenario
        scenario_s = snakemake(workdir, args.cores,
                               f"results/central_plains_core/scenarios/{SCENARIO}/summary.json",
                               configfile=EXAMPLE)
        base = pd.read_csv(out / "metrics.csv")
        scen = pd.read_csv(out / "scenarios" / SCENARIO / "metrics.csv")
        eco = [c for c in base.columns if c.startswith("eco_")]
        pd.testing.assert_frame_equal(base[eco], scen[eco])
        diff = pd.read_csv(out / "scenarios" / SCENARIO / "metrics_diff.csv").set_index("metric")
        assert diff.loc["road_n_edges", "change"] > 0, "the scenario changed no road"
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"full fresh run (central_plains_core, offline): {full_s:.1f} s")
    print(f"road-only scenario {SCENARIO}: {scenario_s:.1f} s; ecology metrics identical")
    print(f"speedup_vs_full_run={full_s / scenario_s:.2f}")


if __name__ == "__main__":
    main()
