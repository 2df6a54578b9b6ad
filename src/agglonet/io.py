"""Writing and reading agglonet's files: GeoPackages, Cloud-Optimized GeoTIFFs, CSV tables.

Every writer is atomic: it writes to a temporary file beside the target and renames it into
place, so a failed run never leaves a half-written file in ``results/``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
from affine import Affine

from agglonet import styles
from agglonet.outputs import LAYER_GEOMETRY_TYPES

#: GeoPackage version written: 1.2 is read cleanly by older QGIS/GDAL (Debian's QGIS 3.22 with
#: GDAL 3.6 warns on GeoPackage 1.4, which recent GDAL writes by default).
GPKG_VERSION = "1.2"


#: Environment variable naming the folder for temporary files (set by the Snakefile to the
#: working directory's ``.tmp/``); unset, temporary files go beside their target.
TEMP_DIR_ENV = "AGGLONET_TEMP_DIR"
#: Name of the working directory's temporary folder.
TEMP_FOLDER = ".tmp"
#: Temporary names of earlier versions, beside their target: ``.<stem>.<8 chars><suffix>``
#: (``tempfile.mkstemp``), plus GDAL's ``-journal`` and ``.aux.xml`` side files.
_LEGACY_TEMP = re.compile(r"^\.[^/]+\.[a-z0-9_]{8}\.[A-Za-z0-9]+(-journal|-wal|-shm|\.aux\.xml)?$")
_PID_PREFIX = re.compile(r"^(\d+)-")


def temp_dir(root: str | Path = ".") -> Path:
    """Return the temporary folder of a working directory (``<root>/.tmp``)."""
    return Path(root) / TEMP_FOLDER


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path; move it onto ``path`` only if the block succeeds.

    The temporary file lies in the folder named by :data:`TEMP_DIR_ENV` (the workflow sets the
    working directory's ``.tmp/``, which the next run clears of files whose process is gone), else
    beside ``path``. Its name starts with this process's id (``<pid>-<random>-<name>``), so that
    files a killed run leaves behind can be told from those of a run still going.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(os.environ[TEMP_DIR_ENV]) if os.environ.get(TEMP_DIR_ENV) else path.parent
    folder.mkdir(parents=True, exist_ok=True)
    tmp_path = folder / f"{os.getpid()}-{secrets.token_hex(4)}-{path.name}"
    try:
        yield tmp_path
        _replace(tmp_path, path)
    finally:
        for leftover in folder.glob(f"{tmp_path.name}*"):
            _remove(leftover)


def _replace(tmp: Path, target: Path) -> None:
    """``os.replace``; across file systems, copy beside the target first (then rename)."""
    try:
        os.replace(tmp, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        beside = target.with_name(f".{tmp.name}")
        shutil.copy2(tmp, beside)
        os.replace(beside, target)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs; a zombie (exited, not yet reaped) does not.

    A job killed with its run is re-parented to the container's first process, which may never
    reap it: ``kill(pid, 0)`` then succeeds for good, so the state is read from ``/proc``.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no /proc (macOS) or the process ended just now
        return not Path("/proc").is_dir()
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def clean_stale_temp(folder: str | Path, *, legacy_roots: Iterable[str | Path] = ()) -> list[Path]:
    """Remove temporary files that killed runs left; return what was removed.

    Parameters
    ----------
    folder
        The temporary folder (:func:`temp_dir`): every entry whose name starts with the id of a
        process that no longer runs is removed; entries of live processes are kept (a
        concurrent run, or a job of a killed run still finishing).
    legacy_roots
        Folders (``results``, ``resources``) searched for temporary files of earlier versions,
        written beside their target (``.<stem>.<random><suffix>`` and GDAL side files).
    """
    removed: list[Path] = []
    folder = Path(folder)
    if folder.is_dir():
        for entry in folder.iterdir():
            match = _PID_PREFIX.match(entry.name)
            if match and not _pid_alive(int(match.group(1))):
                _remove(entry)
                removed.append(entry)
    for root in legacy_roots:
        if Path(root).is_dir():
            for entry in Path(root).rglob(".*"):
                if entry.is_file() and _LEGACY_TEMP.match(entry.name):
                    entry.unlink(missing_ok=True)
                    removed.append(entry)
    return removed


def write_gpkg(
    path: str | Path,
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write several layers into one GeoPackage, atomically.

    Parameters
    ----------
    path
        Target ``.gpkg``; replaced as a whole.
    layers
        Layer name → GeoDataFrame (each with a CRS). Layers are written in the given order, with a
        stable integer ``fid`` taken from the row order. An empty layer gets its geometry type
        from the output catalogue
        (:data:`agglonet.outputs.LAYER_GEOMETRY_TYPES`).
    metadata
        Provenance (source, licence, ...), stored as GDAL metadata of every layer (so a single
        layer opened alone still carries it). Non-strings are JSON-encoded. Not stored at
        dataset level: GDAL then writes a ``.aux.xml`` sidecar whenever the file is read.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    meta = {k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True)
            for k, v in (metadata or {}).items()}
    with atomic_path(path) as tmp:
        for i, (name, gdf) in enumerate(layers.items()):
            frame = gdf.reset_index(drop=True)
            if "fid" in frame.columns:
                frame = frame.drop(columns="fid")
            frame.index = pd.RangeIndex(1, len(frame) + 1, name="fid")
            pyogrio.write_dataframe(
                frame.reset_index(),
                tmp,
                layer=name,
                driver="GPKG",
                append=i > 0,
                dataset_options={"VERSION": GPKG_VERSION} if i == 0 else None,
                layer_options={"FID": "fid"},
                geometry_type=LAYER_GEOMETRY_TYPES.get(name) if frame.empty else None,
                layer_metadata=meta or None,
            )
        styles.apply_default_styles(tmp, list(layers))
    return Path(path)


def read_layer(path: str | Path, layer: str) -> gpd.GeoDataFrame:
    """Read one layer of a vector file, with its feature id as an ``fid`` column."""
    frame = pyogrio.read_dataframe(path, layer=layer, fid_as_index=True)
    frame.index.name = "fid"
    return frame.reset_index()


def write_raster(
    path: str | Path,
    array: np.ndarray,
    *,
    transform: Affine,
    crs: Any,
    nodata: float | int | None,
    tags: Mapping[str, Any] | None = None,
    band_description: str | Sequence[str] | None = None,
    resampling: str = "nearest",
) -> Path:
    """Write a Cloud-Optimized GeoTIFF (DEFLATE, internal overviews), atomically.

    Parameters
    ----------
    path
        Target ``.tif``.
    array
        2-D array (rows, cols), or 3-D (bands, rows, cols) for several bands of one dtype.
    transform, crs
        Georeferencing of the array.
    nodata
        Nodata value written to the file (also used for NaN in float arrays).
    tags
        Dataset metadata (source, licence, units, ...); non-strings are JSON-encoded.
    band_description
        Human-readable band name (e.g. ``"travel time to nearest seat (min)"``), or one per band.
    resampling
        Overview resampling: ``nearest`` for classes, ``average`` for continuous values.
    """
    if array.ndim not in (2, 3):
        raise ValueError(f"write_raster expects a 2-D or 3-D array, got shape {array.shape}")
    bands = array[np.newaxis] if array.ndim == 2 else array
    descriptions = ([band_description] if isinstance(band_description, str)
                    else list(band_description or []))
    if descriptions and len(descriptions) != bands.shape[0]:
        raise ValueError(f"{len(descriptions)} band descriptions for {bands.shape[0]} bands")
    data = bands
    if nodata is not None and np.issubdtype(bands.dtype, np.floating):
        data = np.where(np.isfinite(bands), bands, nodata).astype(bands.dtype)
    text_tags = {k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True)
                 for k, v in (tags or {}).items()}
    with atomic_path(path) as tmp:
        with rasterio.open(
            tmp,
            "w",
            driver="COG",
            height=data.shape[1],
            width=data.shape[2],
            count=data.shape[0],
            dtype=data.dtype,
            crs=crs,
            transform=transform,
            nodata=nodata,
            COMPRESS="DEFLATE",
            BLOCKSIZE=256,
            OVERVIEWS="AUTO",
            OVERVIEW_RESAMPLING=resampling.upper(),
            RESAMPLING=resampling.upper(),
        ) as dst:
            dst.write(data)
            if text_tags:
                dst.update_tags(**text_tags)
            for band, description in enumerate(descriptions, start=1):
                dst.set_band_description(band, description)
        qml = styles.raster_qml(tmp, Path(path).stem)
    with atomic_path(Path(path).with_suffix(".qml")) as tmp_qml:
        tmp_qml.write_text(qml, encoding="utf-8")
    return Path(path)


def read_raster(path: str | Path) -> tuple[np.ndarray, dict[str, Any]]:
    """Read band 1 of a raster and its profile (nodata cells of float rasters become NaN)."""
    with rasterio.open(path) as src:
        array = src.read(1)
        profile = dict(src.profile)
        if src.nodata is not None and np.issubdtype(array.dtype, np.floating):
            array = np.where(array == src.nodata, np.nan, array)
    return array, profile


def format_value(value: Any, *, float_precision: int = 6) -> Any:
    """Text for one float: ``float_precision`` significant digits, positional, trailing zeros cut.

    ``%g`` would switch to exponents for large or small numbers (``1.23457e+07``); this keeps
    plain decimals, and whole numbers in full. NaN and None become empty; ``-0`` becomes ``0``;
    integers, booleans and text are returned unchanged.
    """
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_, int, np.integer, str)):
        return value
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not np.isfinite(value):
            return "" if np.isnan(value) else ("inf" if value > 0 else "-inf")
        if value == 0:
            return "0"
        if float(value).is_integer() and abs(value) < 1e15:  # counts stored as float (NaN-able)
            return str(int(value))
        return np.format_float_positional(float(value), precision=float_precision, unique=False,
                                          fractional=False, trim="-")
    return value


def format_table(table: pd.DataFrame, *, float_precision: int = 6) -> pd.DataFrame:
    """Copy of ``table`` with float and object columns as text from :func:`format_value`."""
    out = table.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]) or out[col].dtype == object:
            out[col] = [format_value(v, float_precision=float_precision) for v in out[col]]
    return out


def write_csv(
    path: str | Path, table: pd.DataFrame, *, float_precision: int = 6
) -> Path:
    r"""Write a table as UTF-8 CSV, byte-identical across reruns, atomically.

    Floats get ``float_precision`` significant digits in plain decimals (:func:`format_value`),
    NaN an empty cell, lines end in ``\n``.
    """
    with atomic_path(path) as tmp:
        format_table(table, float_precision=float_precision).to_csv(
            tmp, index=False, lineterminator="\n"
        )
    return Path(path)


def write_json(path: str | Path, data: Any) -> Path:
    """Write JSON (UTF-8, sorted keys, indented), atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                       encoding="utf-8")
    return Path(path)
