"""The worked example's scenarios on the offline default cluster (marker ``workflow``).

The scenarios run in a copy of the session's baseline run (``workflow_run``), so the baseline
tests never see scenario files; only the scenario jobs run.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_snakemake as snakemake
from test_docs_columns import documented_columns, undocumented

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = str(REPO / "config" / "scenarios" / "central_plains_core.yaml")
OUT = Path("results") / "central_plains_core" / "scenarios"
ROADS_ONLY = "xinxiang_kaifeng_expressway"
ECOLOGY_ONLY = "ruhe_forest_corridor"
DIFF_TABLES = ("metrics_diff.csv", "cities_diff.csv", "pairs_diff.csv", "road_edits.csv",
               "landscape_edits.csv")
ECOLOGY_RULES = ("landcover_classes", "mspa", "ecological_sources", "resistance", "corridors",
                 "circuit", "ecology_summary")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def scenario_run(workflow_run, tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("scenarios") / "run"
    shutil.copytree(workflow_run, workdir, symlinks=True,
                    ignore=shutil.ignore_patterns("locks"))
    # the example's paths are relative to the working directory
    shutil.copytree(REPO / "config" / "scenarios", workdir / "config" / "scenarios")
    snakemake("--cores", "2", "--configfile", EXAMPLE, workdir=workdir)
    return workdir


def dry_run_jobs(workdir: Path, target: str, *, forcerun: str) -> set[str]:
    """Jobs of a dry run for ``target`` with rule ``forcerun`` forced (and all after it)."""
    # the target first: --configfile and --forcerun take every word after them
    proc = snakemake("-n", target, "--configfile", EXAMPLE, "--forcerun", forcerun,
                     workdir=workdir)
    return set(re.findall(r"^(\w+)\s+\d+$", proc.stdout, flags=re.MULTILINE))


@pytest.mark.workflow
def test_a_road_only_scenario_runs_no_ecology_job(scenario_run):
    # force the scenario to start over: its own first job and everything after it
    target = str(OUT / ROADS_ONLY / "summary.json")
    jobs = dry_run_jobs(scenario_run, target, forcerun="scenario_transport")
    # two jobs: road edits + surfaces + OD in one, crossings + tables + metrics + diff in the other
    assert jobs - {"total"} == {"scenario_transport", "scenario_tables"}
    ecology = {r for r in jobs for e in ECOLOGY_RULES if r in (e, f"scenario_{e}")}
    assert ecology == set(), f"a road-only scenario re-ran ecology jobs: {ecology}"
    assert "scenario_landcover" not in jobs
    # and an ecology-only scenario re-runs no transport job
    target = str(OUT / ECOLOGY_ONLY / "summary.json")
    jobs = dry_run_jobs(scenario_run, target, forcerun="scenario_landcover")
    assert {"scenario_mspa", "scenario_circuit"} <= jobs
    assert not jobs & {"scenario_transport", "travel_time_surface", "transport_accessibility"}


@pytest.mark.workflow
def test_example_diff_tables_exist_and_are_byte_identical(scenario_run):
    first = {p.relative_to(scenario_run): sha256(p)
             for name in (ROADS_ONLY, ECOLOGY_ONLY) for t in DIFF_TABLES
             if (p := scenario_run / OUT / name / t).exists()}
    assert len(first) == 2 * 4  # road_edits for the road, landscape_edits for the restoration
    comparison = pd.read_csv(scenario_run / OUT / "comparison.csv")
    assert len(comparison) == 3 and set(comparison["quality"]) == {"illustrative"}
    road = comparison.set_index("scenario").loc[ROADS_ONLY]
    assert road["km_built"] > 40 and road["od_time_saved_sum_min"] > 0
    assert comparison.set_index("scenario").loc[ECOLOGY_ONLY, "km2_restored"] > 50
    for name in (ROADS_ONLY, ECOLOGY_ONLY):
        shutil.rmtree(scenario_run / OUT / name)
    snakemake("--cores", "2", "--configfile", EXAMPLE, "--forcerun", "scenario_transport",
              "scenario_landcover", workdir=scenario_run)
    again = {rel: sha256(scenario_run / rel) for rel in first}
    assert again == first


@pytest.mark.workflow
def test_every_column_of_the_scenario_tables_is_documented(scenario_run):
    documented = documented_columns((REPO / "docs" / "scenarios.md").read_text(encoding="utf-8"))
    missing = {}
    for path in sorted((scenario_run / OUT).rglob("*.csv")):
        if path.name in (*DIFF_TABLES, "comparison.csv"):
            bad = undocumented(path.name, list(pd.read_csv(path, nrows=0).columns), documented)
            if bad:
                missing[path.name] = bad
    assert not missing, f"columns not defined in docs/scenarios.md: {missing}"
