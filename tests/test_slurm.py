"""The default workflow through SLURM (``--profile profiles/slurm``) gives the local run's tables.

Skipped unless a SLURM controller answers ``sinfo`` with a usable node;
``tools/slurm/start_local_slurm.sh`` (root, Debian) starts a one-node cluster on this machine.
The local reference is the session's ``workflow_run`` (``snakemake --cores 2``); the SLURM run
happens in its own temporary directory, every job an ``sbatch`` submission. Without an
accounting database the executor polls ``squeue`` (``--slurm-status-command squeue``) and
submits without an account.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from conftest import REPO, run_snakemake

pytestmark = pytest.mark.slurm


def slurm_answers() -> bool:
    """Whether ``sinfo`` reports a node that can take jobs."""
    if shutil.which("sinfo") is None:
        return False
    try:
        proc = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    states = proc.stdout.split()
    return proc.returncode == 0 and any(s.rstrip("*") in {"idle", "mixed", "allocated"}
                                        for s in states)


@pytest.fixture(scope="module")
def slurm_run(tmp_path_factory):
    """Working directory of the default workflow run through the SLURM profile."""
    if not slurm_answers():
        pytest.skip("no SLURM controller answers sinfo (tools/slurm/start_local_slurm.sh)")
    workdir = tmp_path_factory.mktemp("slurm")
    proc = run_snakemake(
        "--profile", str(REPO / "profiles" / "slurm"),
        "--slurm-status-command", "squeue", "--slurm-no-account",
        "--slurm-init-seconds-before-status-checks", "5", "--jobs", "4",
        workdir=workdir)
    return workdir, proc.stdout + proc.stderr


def test_jobs_went_through_slurm(slurm_run) -> None:
    _, log = slurm_run
    assert "external jobid" in log.lower() or "slurm jobid" in log.lower(), log[-3000:]


def test_slurm_tables_are_byte_identical_to_the_local_run(slurm_run, workflow_run) -> None:
    workdir, _ = slurm_run
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "slurm" / "compare_runs.py"), str(workflow_run),
         str(workdir)], capture_output=True, text=True)
    report = proc.stdout + proc.stderr
    csv_lines = [line for line in report.splitlines() if ".csv " in line]
    assert len(csv_lines) >= 6, report       # metrics, od, accessibility, cities, comparison...
    assert all(" match " in line for line in csv_lines), report
    assert proc.returncode == 0, report      # and the layers, rasters and JSON agree as well
