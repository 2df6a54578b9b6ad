"""Run archive: a Workflow Run RO-Crate of one agglonet run, and its verification.

:func:`build_archive` writes ``results/archive/agglonet-<clusters>-<YYYYMMDD>.zip`` with the
``rocrate`` package: the workflow (Snakefile as ``ComputationalWorkflow``, rules, scripts,
config), the configuration used, the git commit, every input (``resources/{cluster}/`` files, and
the ``sources.json`` records: provider, licence, url, original checksum), every output, each
file with its sha256, and the versions of the Python packages used. A ``CreateAction`` describes
the run: ``instrument`` = the workflow, ``object`` = the inputs, ``result`` = the outputs. The
crate conforms to the Process Run Crate and Workflow Run Crate profiles (0.5).

:func:`verify_archive` re-runs the workflow from the archived configuration in a temporary
directory and compares every archived output with the re-run's, file by file:

* CSV, JSON, text, QGIS ``.qgs``/``.qml``: sha256 of the bytes;
* GeoPackages: layer by layer, the features (attributes and geometry WKB, in ``fid`` order) —
  the container embeds timestamps (``gpkg_contents.last_change``, style ``update_time``), so
  bytes differ between identical runs;
* GeoTIFFs: the pixel arrays, transform, CRS and nodata (GDAL metadata may hold timestamps);
* PNG maps and the HTML report are reported but not compared (fonts and library versions change
  pixels without changing results).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import logging
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import rasterio
import yaml
from rocrate.model.contextentity import ContextEntity
from rocrate.rocrate import ROCrate

from agglonet.errors import DataError
from agglonet.io import atomic_path
from agglonet.provenance import git_commit, sha256_file, software_versions, source_records

logger = logging.getLogger(__name__)

PROCESS_RUN_PROFILE = "https://w3id.org/ro/wfrun/process/0.5"
WORKFLOW_RUN_PROFILE = "https://w3id.org/ro/wfrun/workflow/0.5"
COMPLETED = "http://schema.org/CompletedActionStatus"
WORKFLOW_RUN_CONTEXT = "https://w3id.org/ro/terms/workflow-run/context"
#: Workflow files copied into the crate and into a verification re-run.
WORKFLOW_FILES = ("Snakefile", "rules", "scripts", "config", "envs", "pyproject.toml")
#: Outputs that are archived but not compared by verify (see module docstring).
NOT_COMPARED_SUFFIXES = (".png", ".html", ".log")


#: Config keys that may name a local input file. Such files are stored in the crate under
#: ``config/inputs/<key>/<name>``, so that :func:`verify_archive` can re-run the archive anywhere.
LOCAL_INPUT_KEYS: tuple[tuple[str, ...], ...] = (
    ("retrieve", "landcover", "path"), ("retrieve", "dem", "path"), ("roads", "file", "path"),
    ("roads", "pbf", "path"), ("transport", "mass_table"), ("ecology", "landcover_mapping"),
)


def _get(config: Mapping[str, Any], key: Sequence[str]) -> Any:
    node: Any = config
    for part in key:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _set(config: dict[str, Any], key: Sequence[str], value: Any) -> None:
    node = config
    for part in key[:-1]:
        node = node[part]
    node[key[-1]] = value


def local_inputs(config: Mapping[str, Any], root: str | Path) -> dict[str, Path]:
    """Local files the config names (``retrieve.landcover.path`` ...): dotted key → path.

    URLs, preset names and values that name no existing file (relative to ``root``) are skipped.
    """
    found = {}
    for key in LOCAL_INPUT_KEYS:
        value = _get(config, key)
        if not value or str(value).startswith(("http://", "https://")) \
                or not _source_reads(config, key):
            continue
        path = Path(value) if Path(value).is_absolute() else Path(root) / value
        if path.is_file():
            found[".".join(key)] = path
    return found


def archive_name(clusters: Sequence[str], *, date: _dt.date | None = None) -> str:
    """``agglonet-<cluster>[-<cluster>...]-<YYYYMMDD>.zip``."""
    day = (date or _dt.date.today()).strftime("%Y%m%d")
    return f"agglonet-{'-'.join(clusters)}-{day}.zip"


def collect_files(root: str | Path, clusters: Sequence[str], *, kind: str) -> list[Path]:
    """Files of a run, relative to ``root``: ``kind`` is ``outputs`` or ``inputs``.

    Outputs are everything under ``results/{cluster}/`` plus the cross-cluster files directly in
    ``results/`` (not ``results/archive``); inputs everything under ``resources/{cluster}/``.
    """
    root = Path(root)
    base = "results" if kind == "outputs" else "resources"
    files: list[Path] = []
    for cluster in clusters:
        folder = root / base / cluster
        if folder.exists():
            files += [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
    if kind == "outputs":
        files += [p for p in (root / "results").glob("*") if p.is_file()
                  and p.name != "README.md" and not p.name.startswith(".")]
    return sorted(p.relative_to(root) for p in files)


def _encoding_format(path: Path) -> str:
    return {".gpkg": "application/geopackage+sqlite3", ".tif": "image/tiff",
            ".csv": "text/csv", ".json": "application/json", ".png": "image/png",
            ".html": "text/html", ".qgs": "application/xml", ".qml": "application/xml",
            ".yaml": "application/yaml", ".graphml": "application/xml"}.get(
        path.suffix.lower(), "application/octet-stream")


def _file_entity(crate: ROCrate, root: Path, rel: Path, *, embed: bool, kind: str) -> Any:
    """Return a File entity with sha256, format and size.

    The file itself when ``embed``, else a reference (``#input/...`` or ``#output/...``)
    carrying only its checksum.
    """
    path = root / rel
    props = {"sha256": sha256_file(path), "encodingFormat": _encoding_format(path),
             "contentSize": str(path.stat().st_size)}
    if embed:
        return crate.add_file(path, dest_path=rel.as_posix(), properties=props)
    return crate.add(ContextEntity(crate, f"#{kind}/{rel.as_posix()}",
                                   properties={"@type": "File", **props}))


def build_archive(
    out_path: str | Path,
    *,
    root: str | Path,
    repo: str | Path,
    clusters: Sequence[str],
    config: Mapping[str, Any],
    include_inputs: bool = True,
    include_outputs: bool = True,
    started: str | None = None,
) -> Path:
    """Write the run's Workflow Run RO-Crate as a zip.

    Parameters
    ----------
    out_path
        Target zip.
    root
        Run directory holding ``results/`` and ``resources/``.
    repo
        Repository (workflow files and git commit).
    clusters
        Cluster keys of the run.
    config
        The configuration the run used (stored as ``config/config_used.yaml``).
    include_inputs, include_outputs
        Copy the input / output files into the crate (otherwise only their names and sha256
        are recorded). :func:`verify_archive` needs the outputs.
    started
        ISO time the run started (defaults to the oldest output's modification time).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DataError
        If the run has no outputs.
    """
    root, repo, out_path = Path(root), Path(repo), Path(out_path)
    outputs = collect_files(root, clusters, kind="outputs")
    if not outputs:
        raise DataError(f"no outputs under {root / 'results'} for clusters {list(clusters)}; "
                        "run the workflow before archiving")
    inputs = collect_files(root, clusters, kind="inputs")
    commit = git_commit(repo)
    versions = software_versions()

    crate = ROCrate()
    crate.name = f"agglonet run: {', '.join(clusters)}"
    crate.description = ("Workflow run of agglonet (road accessibility and ecological network of "
                         f"Chinese city clusters) for {', '.join(clusters)}.")
    crate.root_dataset["license"] = "MIT"
    crate.metadata.extra_contexts.append(WORKFLOW_RUN_CONTEXT)
    crate.metadata.extra_terms["sha256"] = "https://w3id.org/ro/terms/workflow-run#sha256"
    for profile, name in ((PROCESS_RUN_PROFILE, "Process Run Crate"),
                          (WORKFLOW_RUN_PROFILE, "Workflow Run Crate")):
        entity = crate.add(ContextEntity(crate, profile, properties={
            "@type": "CreativeWork", "name": name, "version": profile.rsplit("/", 1)[1]}))
        crate.root_dataset.append_to("conformsTo", entity)

    snakemake_version = versions.get("snakemake", "")
    workflow = crate.add_workflow(repo / "Snakefile", dest_path="workflow/Snakefile", main=True,
                                  lang="snakemake", lang_version=snakemake_version, properties={
                                      "name": "agglonet Snakemake workflow", "version": commit,
                                      "sha256": sha256_file(repo / "Snakefile")})
    parts = []
    for item in WORKFLOW_FILES[1:]:
        src = repo / item
        paths = sorted(p for p in src.rglob("*") if p.is_file() and "__pycache__" not in p.parts) \
            if src.is_dir() else ([src] if src.exists() else [])
        for p in paths:
            rel = p.relative_to(repo).as_posix()
            parts.append(crate.add_file(p, dest_path=f"workflow/{rel}", properties={
                "sha256": sha256_file(p), "encodingFormat": _encoding_format(p)}))
    workflow["hasPart"] = parts

    with tempfile.TemporaryDirectory() as tmpdir:
        cfg_path = Path(tmpdir) / "config_used.yaml"
        cfg_path.write_text(yaml.safe_dump(json.loads(json.dumps(dict(config))),
                                           allow_unicode=True, sort_keys=True), encoding="utf-8")
        cfg_entity = crate.add_file(cfg_path, dest_path="config/config_used.yaml", properties={
            "name": "configuration used for the run", "encodingFormat": "application/yaml",
            "sha256": sha256_file(cfg_path)})

        objects = [cfg_entity]
        for dotted, path in local_inputs(config, root).items():
            objects.append(crate.add_file(path, dest_path=f"config/inputs/{dotted}/{path.name}",
                                          properties={"name": f"local input file ({dotted})",
                                                      "sha256": sha256_file(path)}))
        objects += [_file_entity(crate, root, rel, embed=include_inputs, kind="input")
                    for rel in inputs]
        for cluster in clusters:
            src_json = root / "resources" / cluster / "sources.json"
            if not src_json.exists():
                continue
            records = source_records(json.loads(src_json.read_text(encoding="utf-8")))
            for rec in records:
                ident = rec.get("url") or f"#source/{cluster}/{rec.get('name', 'input')}"
                props = {"@type": "CreativeWork", "name": rec.get("name", ""),
                         "publisher": rec.get("provider", ""), "version": rec.get("version", ""),
                         "license": rec.get("licence", ""), "citation": rec.get("citation", ""),
                         "dateDownloaded": rec.get("retrieved", ""),
                         "sha256": rec.get("sha256", "")}
                if ident in crate:
                    continue
                objects.append(crate.add(ContextEntity(crate, ident, properties=props)))

        results = [_file_entity(crate, root, rel, embed=include_outputs, kind="output")
                   for rel in outputs]

        tools = []
        for name, version in sorted(versions.items()):
            tools.append(crate.add(ContextEntity(crate, f"#software/{name}", properties={
                "@type": "SoftwareApplication", "name": name, "version": version})))
        workflow["softwareRequirements"] = tools

        mtimes = [(root / rel).stat().st_mtime for rel in outputs]
        start = started or _dt.datetime.fromtimestamp(min(mtimes), tz=_dt.UTC).isoformat()
        end = _dt.datetime.fromtimestamp(max(mtimes), tz=_dt.UTC).isoformat()
        action = crate.add_action(workflow, identifier="#run", object=objects, result=results,
                                  properties={
                                      "name": f"agglonet run of {', '.join(clusters)}",
                                      "startTime": start, "endTime": end,
                                      "actionStatus": {"@id": COMPLETED},
                                      "description": f"git commit {commit}"})
        crate.root_dataset["mentions"] = [action]
        crate.root_dataset["version"] = commit
        with atomic_path(out_path) as tmp:
            crate.write_zip(tmp)
    logger.info("wrote run archive %s (%d inputs, %d outputs)", out_path, len(inputs),
                len(outputs))
    return out_path


# ------------------------------------------------------------------------------- verify
@dataclasses.dataclass(frozen=True)
class FileCheck:
    """Result of comparing one archived output with its re-run."""

    path: str
    status: str  # "match", "mismatch", "missing", "not compared"
    how: str
    detail: str = ""


def _compare_gpkg(a: Path, b: Path) -> tuple[bool, str]:
    layers_a = [str(n) for n, _ in pyogrio.list_layers(a)]
    layers_b = [str(n) for n, _ in pyogrio.list_layers(b)]
    if layers_a != layers_b:
        return False, f"layers differ: {layers_a} vs {layers_b}"
    for layer in layers_a:
        fa = pyogrio.read_dataframe(a, layer=layer, fid_as_index=True)
        fb = pyogrio.read_dataframe(b, layer=layer, fid_as_index=True)
        if layer == "layer_styles":  # the row timestamp is not a result
            fa, fb = (f.drop(columns=["update_time"], errors="ignore") for f in (fa, fb))
        if list(fa.columns) != list(fb.columns):
            return False, f"layer {layer}: columns differ"
        if len(fa) != len(fb):
            return False, f"layer {layer}: {len(fa)} vs {len(fb)} features"
        if not fa.index.equals(fb.index):
            return False, f"layer {layer}: feature ids differ"
        for col in fa.columns:
            if col == "geometry" and hasattr(fa, "geometry"):
                same = np.array_equal(fa.geometry.to_wkb().values, fb.geometry.to_wkb().values)
            else:
                same = fa[col].equals(fb[col])
            if not same:
                return False, f"layer {layer}: column {col} differs"
    return True, f"{len(layers_a)} layers, features equal"


def _compare_tif(a: Path, b: Path) -> tuple[bool, str]:
    with rasterio.open(a) as ra, rasterio.open(b) as rb:
        if (ra.crs != rb.crs or ra.transform != rb.transform or ra.nodata != rb.nodata
                or ra.count != rb.count or ra.shape != rb.shape):
            return False, "georeferencing, shape or nodata differ"
        for band in range(1, ra.count + 1):
            xa, xb = ra.read(band), rb.read(band)
            equal_nan = np.issubdtype(xa.dtype, np.floating)
            if not np.array_equal(xa, xb, equal_nan=equal_nan):
                n = int(np.sum(~((xa == xb) | (np.isnan(xa) & np.isnan(xb)) if equal_nan
                                 else (xa == xb))))
                return False, f"band {band}: {n} pixels differ"
    return True, "pixels equal"


def compare_file(archived: Path, rerun: Path) -> FileCheck:
    """Compare one archived output with the re-run's file (see module docstring)."""
    rel = archived.name
    suffix = archived.suffix.lower()
    if suffix in NOT_COMPARED_SUFFIXES:  # e.g. report.html: not a target of the default re-run
        return FileCheck(rel, "not compared", "-", "rendering, not a result")
    if not rerun.exists():
        return FileCheck(rel, "missing", "exists", f"{rerun} not produced by the re-run")
    if suffix == ".gpkg":
        ok, detail = _compare_gpkg(archived, rerun)
        how = "features"
    elif suffix in {".tif", ".tiff"}:
        ok, detail = _compare_tif(archived, rerun)
        how = "pixels"
    else:
        ha, hb = sha256_file(archived), sha256_file(rerun)
        ok, detail, how = ha == hb, f"{ha[:12]} vs {hb[:12]}", "sha256"
    return FileCheck(rel, "match" if ok else "mismatch", how, detail)


def snakemake_rerun(workdir: Path, configfile: Path, *, repo: Path, cores: int = 2) -> None:
    """Copy the workflow files into ``workdir`` and run Snakemake there with ``configfile``."""
    for item in WORKFLOW_FILES:
        src = repo / item
        if src.is_dir():
            shutil.copytree(src, workdir / item, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, workdir / item)
    cmd = [sys.executable, "-m", "snakemake", "--cores", str(cores), "--configfile",
           str(configfile), "--directory", str(workdir), "--snakefile",
           str(workdir / "Snakefile")]
    logger.info("re-running: %s", " ".join(cmd))
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
    if proc.returncode != 0:
        raise DataError(f"re-run failed (exit {proc.returncode}): {proc.stderr[-2000:]}")


def verify_archive(
    archive: str | Path,
    *,
    repo: str | Path,
    workdir: str | Path | None = None,
    cores: int = 2,
    rerun: Callable[[Path, Path], None] | None = None,
) -> list[FileCheck]:
    """Re-run the workflow from an archive's config and compare its outputs, file by file.

    Parameters
    ----------
    archive
        Zip written by :func:`build_archive` (with outputs included).
    repo
        Repository whose workflow files are re-run (the archive records the commit they came
        from; a different commit is logged as a warning).
    workdir
        Where to re-run; a temporary directory (removed afterwards) when ``None``.
    cores
        Snakemake cores.
    rerun
        ``rerun(workdir, configfile)`` producing ``workdir/results``; defaults to
        :func:`snakemake_rerun`. Tests inject a cheaper one.

    Returns
    -------
    list of FileCheck
        One per archived output, sorted by path.
    """
    archive, repo = Path(archive), Path(repo)
    check_archive_file(archive)
    with tempfile.TemporaryDirectory() as tmp:
        unpacked = Path(tmp) / "crate"
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(unpacked)
        if not (unpacked / "ro-crate-metadata.json").is_file():
            raise DataError(f"{archive} is a zip file but not an agglonet run archive (it has no "
                            "ro-crate-metadata.json); expected a zip written by make archive")
        meta = json.loads((unpacked / "ro-crate-metadata.json").read_text(encoding="utf-8"))
        graph = {e["@id"]: e for e in meta["@graph"]}
        run = graph.get("#run")
        if run is None:
            raise DataError(f"{archive} has no CreateAction #run; not an agglonet run archive")
        recorded = graph.get("./", {}).get("version", "unknown")
        current = git_commit(repo)
        if recorded.split("+")[0] != current.split("+")[0]:
            logger.warning("archive made at commit %s, re-running commit %s", recorded, current)
        results = [r["@id"] for r in _as_list(run.get("result"))]
        configfile = restore_local_inputs(unpacked, archive=archive)
        run_dir = Path(workdir) if workdir else Path(tmp) / "rerun"
        run_dir.mkdir(parents=True, exist_ok=True)
        (rerun or (lambda w, c: snakemake_rerun(w, c, repo=repo, cores=cores)))(run_dir,
                                                                                configfile)
        checks = []
        for rel in sorted(results):
            archived = unpacked / rel
            if not archived.exists():
                checks.append(FileCheck(rel, "missing", "archived",
                                        "output not stored in the archive"))
                continue
            check = compare_file(archived, run_dir / rel)
            checks.append(dataclasses.replace(check, path=rel))
    return checks


def check_archive_file(archive: Path) -> None:
    """Raise :class:`DataError` unless ``archive`` is an existing zip file."""
    if not archive.exists():
        raise DataError(f"archive {str(archive)!r} does not exist; expected a zip written by "
                        "make archive (results/archive/agglonet-<clusters>-<date>.zip)")
    if archive.is_dir():
        raise DataError(f"archive {str(archive)!r} is a folder; expected the zip file itself")
    if not zipfile.is_zipfile(archive):
        raise DataError(f"archive {str(archive)!r} is not a zip file; expected a zip written by "
                        "make archive (results/archive/agglonet-<clusters>-<date>.zip)")


def restore_local_inputs(unpacked: Path, *, archive: Path) -> Path:
    """Point the archived config at the local input files stored in the crate.

    Returns the config file to re-run (``config/config_verify.yaml`` in ``unpacked``).

    Raises
    ------
    DataError
        If the run read a local file that the archive does not hold (an archive written before
        inputs were stored), naming the key and the file.
    """
    from agglonet.ecology.landcover import PRESETS

    used = unpacked / "config" / "config_used.yaml"
    if not used.is_file():
        raise DataError(f"{archive} holds no config/config_used.yaml; not an agglonet run archive")
    config = yaml.safe_load(used.read_text(encoding="utf-8")) or {}
    for key in LOCAL_INPUT_KEYS:
        value = _get(config, key)
        dotted = ".".join(key)
        if (not value or str(value).startswith(("http://", "https://"))
                or (dotted == "ecology.landcover_mapping" and value in {*PRESETS, "auto"})):
            continue
        if not _source_reads(config, key):
            continue
        stored = unpacked / "config" / "inputs" / dotted / Path(str(value)).name
        if not stored.is_file():
            raise DataError(f"the archived run read {dotted} = {value!r}, a local file that "
                            f"{archive.name} does not hold; it cannot be re-run elsewhere",
                            fix="archive the run again with this version (make archive stores "
                                "local input files), or re-run it by hand where the file is")
        _set(config, key, str(stored))
    out = unpacked / "config" / "config_verify.yaml"
    out.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=True), encoding="utf-8")
    return out


def _source_reads(config: Mapping[str, Any], key: Sequence[str]) -> bool:
    """Tell whether the configured source actually reads the file under ``key``."""
    sources: dict[tuple[str, ...], tuple[tuple[str, ...], str]] = {
        ("retrieve", "landcover", "path"): (("retrieve", "landcover", "source"), "file"),
        ("retrieve", "dem", "path"): (("retrieve", "dem", "source"), "file"),
        ("roads", "file", "path"): (("roads", "source"), "file"),
        ("roads", "pbf", "path"): (("roads", "source"), "pbf")}
    if tuple(key) not in sources:
        return True
    source_key, value = sources[tuple(key)]
    return _get(config, source_key) == value


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def format_checks(checks: Sequence[FileCheck]) -> str:
    """Human-readable table of :func:`verify_archive` results."""
    width = max((len(c.path) for c in checks), default=10)
    lines = [f"{'file':<{width}}  {'status':<12}  {'compared by':<11}  detail"]
    lines += [f"{c.path:<{width}}  {c.status:<12}  {c.how:<11}  {c.detail}" for c in checks]
    bad = sum(c.status in {"mismatch", "missing"} for c in checks)
    lines.append(f"{len(checks)} outputs: {bad} mismatched or missing")
    return "\n".join(lines)
