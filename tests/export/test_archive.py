"""RO-Crate run archive: entities, checksums; `verify` flags a changed output."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest
import rasterio

from agglonet.cli import main
from agglonet.export.archive import (
    PROCESS_RUN_PROFILE,
    WORKFLOW_RUN_PROFILE,
    build_archive,
    verify_archive,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from builders import make_outputs

    root = tmp_path_factory.mktemp("run")
    make_outputs(root)
    archive = build_archive(root / "results" / "archive" / "a.zip", root=root, repo=REPO,
                            clusters=["toy"], config={"clusters": ["toy"], "crs": "albers"})
    return root, archive


def _graph(archive: Path) -> tuple[dict, zipfile.ZipFile]:
    zf = zipfile.ZipFile(archive)
    meta = json.loads(zf.read("ro-crate-metadata.json"))
    return {e["@id"]: e for e in meta["@graph"]}, zf


def _ids(value) -> list[str]:
    return [v["@id"] for v in (value if isinstance(value, list) else [value])]


def test_crate_entities(run):
    root, archive = run
    graph, zf = _graph(archive)
    root_ds = graph["./"]
    assert {PROCESS_RUN_PROFILE, WORKFLOW_RUN_PROFILE} <= set(_ids(root_ds["conformsTo"]))
    workflow = graph[root_ds["mainEntity"]["@id"]]
    assert workflow["@id"] == "workflow/Snakefile"
    assert "ComputationalWorkflow" in workflow["@type"]
    assert graph[workflow["programmingLanguage"]["@id"]]["name"] == "Snakemake"
    action = graph["#run"]
    assert action["@type"] == "CreateAction"
    assert action["instrument"]["@id"] == "workflow/Snakefile"
    objects, results = _ids(action["object"]), _ids(action["result"])
    assert "config/config_used.yaml" in objects
    assert "resources/toy/boundaries.gpkg" in objects
    assert "https://doi.org/10.5067/MODIS/MCD12C1.006" in objects  # sources.json record
    assert graph["https://doi.org/10.5067/MODIS/MCD12C1.006"]["license"] == "public domain"
    assert "results/toy/ecology.gpkg" in results and "results/toy/toy.qgs" not in results
    assert "results/toy/travel_time_min.tif" in results
    assert root_ds["version"]  # git commit
    assert any(graph[i]["name"] == "snakemake" for i in _ids(workflow["softwareRequirements"]))
    cfg = zf.read("config/config_used.yaml").decode()
    assert "clusters:\n- toy" in cfg


def test_checksums_are_those_of_the_files(run):
    root, archive = run
    graph, zf = _graph(archive)
    action = graph["#run"]
    for ident in _ids(action["result"]) + ["resources/toy/sources.json"]:
        on_disk = hashlib.sha256((root / ident).read_bytes()).hexdigest()
        assert graph[ident]["sha256"] == on_disk, ident
        assert hashlib.sha256(zf.read(ident)).hexdigest() == on_disk


def _copy_results(root: Path):
    def rerun(workdir: Path, configfile: Path) -> None:
        assert configfile.exists()
        shutil.copytree(root / "results", workdir / "results")
        # containers differ between identical runs: rewrite a GeoPackage with the same content
        from agglonet.io import read_layer, write_gpkg
        gp = workdir / "results" / "toy" / "transport.gpkg"
        write_gpkg(gp, {n: read_layer(gp, n).drop(columns="fid")
                        for n in ("roads", "seats", "od_links", "border_gaps")})
    return rerun


def test_verify_identical_rerun_matches(run):
    root, archive = run
    checks = verify_archive(archive, repo=REPO, rerun=_copy_results(root))
    status = {c.path: c.status for c in checks}
    assert status["results/toy/transport.gpkg"] == "match"
    assert not [c for c in checks if c.status in {"mismatch", "missing"}]


def test_verify_catches_changed_outputs(run, tmp_path):
    root, archive = run
    base = _copy_results(root)

    def changed(workdir: Path, configfile: Path) -> None:
        base(workdir, configfile)
        res = workdir / "results" / "toy"
        (res / "metrics.csv").write_text("metric,value\nroad_alpha,0.3\n")
        with rasterio.open(res / "landcover.tif") as src:
            arr, profile = src.read(1), src.profile
        arr[5, 5] = 7  # one pixel changed (was cropland 6 or forest 1)
        profile.update(driver="GTiff")
        with rasterio.open(res / "landcover.tif", "w", **profile) as dst:
            dst.write(arr, 1)
        (res / "od.csv").unlink()

    checks = verify_archive(archive, repo=REPO, rerun=changed)
    status = {c.path: c for c in checks}
    assert status["results/toy/metrics.csv"].status == "mismatch"
    assert status["results/toy/landcover.tif"].status == "mismatch"
    assert "1 pixels differ" in status["results/toy/landcover.tif"].detail
    assert status["results/toy/od.csv"].status == "missing"
    assert status["results/toy/transport.gpkg"].status == "match"


def test_cli_exit_code(run, monkeypatch, capsys):
    root, archive = run
    import agglonet.export.archive as arch

    monkeypatch.setattr(arch, "snakemake_rerun",
                        lambda w, c, repo, cores: shutil.copytree(root / "results", w / "results",
                                                                  dirs_exist_ok=True))
    assert main(["verify", str(archive)]) == 0
    assert "0 mismatched or missing" in capsys.readouterr().out

    def broken(w, c, repo, cores):
        shutil.copytree(root / "results", w / "results", dirs_exist_ok=True)
        p = w / "results" / "toy" / "ecology_summary.json"
        p.write_text(p.read_text().replace("2", "3"))

    monkeypatch.setattr(arch, "snakemake_rerun", broken)
    assert main(["verify", str(archive)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("results/toy/ecology_summary.json") and " mismatch " in line
               for line in lines)
