"""Writing and reading agglonet's files: GeoPackages, Cloud-Optimized GeoTIFFs, CSV tables.

Every writer is atomic: it writes to a temporary file beside the target and renames it into
place, so a failed run never leaves a half-written file in ``results/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
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



@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        for leftover in (tmp_path, Path(f"{tmp_path}-journal"), Path(f"{tmp_path}.aux.xml")):
            if leftover.exists():
                leftover.unlink()


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
    band_description: str | None = None,
    resampling: str = "nearest",
) -> Path:
    """Write a single-band Cloud-Optimized GeoTIFF (DEFLATE, internal overviews), atomically.

    Parameters
    ----------
    path
        Target ``.tif``.
    array
        2-D array (rows, cols).
    transform, crs
        Georeferencing of the array.
    nodata
        Nodata value written to the file (also used for NaN in float arrays).
    tags
        Dataset metadata (source, licence, units, ...); non-strings are JSON-encoded.
    band_description
        Human-readable band name (e.g. ``"travel time to nearest seat (min)"``).
    resampling
        Overview resampling: ``nearest`` for classes, ``average`` for continuous values.
    """
    if array.ndim != 2:
        raise ValueError(f"write_raster expects a 2-D array, got shape {array.shape}")
    data = array
    if nodata is not None and np.issubdtype(array.dtype, np.floating):
        data = np.where(np.isfinite(array), array, nodata).astype(array.dtype)
    text_tags = {k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True)
                 for k, v in (tags or {}).items()}
    with atomic_path(path) as tmp:
        with rasterio.open(
            tmp,
            "w",
            driver="COG",
            height=data.shape[0],
            width=data.shape[1],
            count=1,
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
            dst.write(data, 1)
            if text_tags:
                dst.update_tags(**text_tags)
            if band_description:
                dst.set_band_description(1, band_description)
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
