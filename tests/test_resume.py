"""Killed runs: no stray or half-written file is kept, and a rerun resumes to identical tables.

Every file is written under a temporary name in the working directory's ``.tmp/`` (named with
the writing process's id) and renamed into place; the next run removes what dead processes left
there and Snakemake's stale locks, and ``rerun-incomplete`` (the workflow profile) re-makes the
jobs that were cut short.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, SNAKEMAKE, run_snakemake

from agglonet.io import atomic_path, clean_stale_temp, temp_dir
from agglonet.preflight import clear_stale_locks

CLUSTER = "central_plains_core"


def test_stale_temp_files_of_dead_processes_are_removed(tmp_path):
    folder = temp_dir(tmp_path)
    folder.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = [folder / f"{dead}-ab12cd34-roads.gpkg", folder / f"{dead}-ab12cd34-roads.gpkg-journal"]
    live = folder / f"{os.getpid()}-ef56ab78-mspa.tif"  # a run still going: kept
    for path in (*stale, live):
        path.write_bytes(b"partial")
    legacy = tmp_path / "results" / CLUSTER / ".transport.k3j_9xa2.gpkg"  # older versions
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"partial")
    kept = tmp_path / "results" / CLUSTER / "od.csv"
    kept.write_text("a\n")
    removed = clean_stale_temp(folder, legacy_roots=[tmp_path / "results"])
    assert sorted(removed) == sorted([*stale, legacy])
    assert live.exists() and kept.exists()


def test_atomic_path_uses_the_temp_folder_and_leaves_nothing_on_failure(tmp_path, monkeypatch):
    monkeypatch.setenv("AGGLONET_TEMP_DIR", str(tmp_path / ".tmp"))
    target = tmp_path / "results" / "x.csv"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        assert tmp.parent == tmp_path / ".tmp" and tmp.name.startswith(f"{os.getpid()}-")
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert not target.exists() and list((tmp_path / ".tmp").iterdir()) == []
    with atomic_path(target) as tmp:
        tmp.write_text("whole")
    assert target.read_text() == "whole" and list((tmp_path / ".tmp").iterdir()) == []


def test_stale_locks_removed_only_without_a_live_run(tmp_path):
    locks = tmp_path / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("x")
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)",
                             "snakemake-stand-in"], cwd=tmp_path)
    try:
        time.sleep(0.2)
        assert clear_stale_locks(tmp_path) == []  # a snakemake process works here
    finally:
        live.kill()
        live.wait()
    assert clear_stale_locks(tmp_path) == [locks / "0.input.lock"]
    assert not (locks / "0.input.lock").exists()


def _stray(workdir: Path) -> list[Path]:
    hidden = [p for sub in ("results", "resources") for p in (workdir / sub).rglob(".*")]
    return hidden + list(temp_dir(workdir).glob("*"))


@pytest.mark.workflow
@pytest.mark.parametrize("writing", ["roads.gpkg", "current_density.tif"])
def test_kill_while_writing_then_resume(workflow_run, tmp_path, writing):
    """SIGKILL the whole run while ``writing`` is being written; the rerun matches byte for byte."""
    cmd = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path),
           "--cores", "2"]
    run = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True,
                           env={**os.environ, "MPLBACKEND": "Agg"})
    deadline = time.monotonic() + 300
    caught = False
    while time.monotonic() < deadline and run.poll() is None:
        if list(temp_dir(tmp_path).glob(f"*-{writing}*")):
            caught = True
            break
        time.sleep(0.005)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    assert caught, f"the run ended before {writing} was written"
    run_snakemake("--cores", "2", workdir=tmp_path)  # resumes: stale locks, temp, incomplete
    assert _stray(tmp_path) == []
    reference = sorted((workflow_run / "results").rglob("*.csv"))
    assert reference
    for path in reference:
        rel = path.relative_to(workflow_run)
        assert (tmp_path / rel).read_bytes() == path.read_bytes(), f"{rel} differs after resume"


def test_temp_files_of_a_zombie_process_are_removed(tmp_path):
    """A killed job nobody reaps stays a zombie: its files are stale all the same."""
    pid = os.fork()
    if pid == 0:  # the child exits at once and, not waited for, stays a zombie
        os._exit(0)
    try:
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z":
            assert time.monotonic() < deadline, "the child never became a zombie"
            time.sleep(0.01)
        folder = temp_dir(tmp_path)
        folder.mkdir()
        stale = folder / f"{pid}-ab12cd34-roads.gpkg"
        stale.write_bytes(b"partial")
        assert clean_stale_temp(folder) == [stale]
        assert not stale.exists()
    finally:
        os.waitpid(pid, 0)
