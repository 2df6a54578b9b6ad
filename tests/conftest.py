"""Shared fixtures: one full offline run of the default workflow per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def run_snakemake(*args: str, workdir: Path, check: bool = True) -> subprocess.CompletedProcess:
    """Run the repository's workflow with ``workdir`` as Snakemake's working directory."""
    cmd = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir), *args]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=workdir)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
        )
    return proc


@pytest.fixture(scope="session")
def workflow_run(tmp_path_factory) -> Path:
    """Working directory of one complete run of the default config (central_plains_core).

    The run happens in a temporary directory, so the user's own ``results/`` are never touched;
    it needs no network.
    """
    workdir = tmp_path_factory.mktemp("workflow")
    run_snakemake("--cores", "2", workdir=workdir)
    return workdir
