"""Ecological sources: MSPA core patches above an area threshold, ranked by dPC.

Candidate patches are the connected components of MSPA core (same connectivity as the MSPA) whose
core area is at least ``min_area_km2``. Their connectivity (PC, IIC, ECA) is computed over the
candidates, with edge-to-edge distances and the landscape area A_L = the area of valid land-cover
cells on land (open sea, ``sea_mask.tif``, is not part of the landscape); the sources are the
candidates with the highest dPC — the ``top_n`` best and/or those with dPC ≥ ``min_dpc`` (both
filters apply when both are set). Sources are numbered by rank:
``source_id`` = ``rank`` = 1 for the highest dPC.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from rasterio.features import shapes
from scipy import ndimage

from agglonet.ecology.connectivity import connectivity_indices, edge_distances_m
from agglonet.ecology.mspa import MSPA_CORE_VALUES, MSPA_NODATA
from agglonet.errors import DataError
from agglonet.outputs import SOURCE_COLUMNS

logger = logging.getLogger(__name__)



@dataclass(frozen=True)
class SourceSelection:
    """Result of :func:`select_sources`.

    Attributes
    ----------
    sources
        Polygons with :data:`SOURCE_COLUMNS` (``mean_resistance`` NaN until
        :func:`add_mean_resistance`), sorted by ``source_id``.
    labels
        int32 raster, 0 = not a source, k = ``source_id`` k.
    indices
        Landscape-level figures over the candidate patches: ``pc``, ``iic``, ``eca_km2``,
        ``n_candidates``, ``candidate_area_km2``, ``landscape_area_km2`` (A_L),
        ``land_area_km2`` and ``sea_area_km2`` (the grid's cells off and on the sea mask).
    """

    sources: gpd.GeoDataFrame
    labels: np.ndarray
    indices: dict[str, float]


def _cell_size(transform: Affine) -> float:
    if abs(abs(transform.a) - abs(transform.e)) > 1e-9 * abs(transform.a) or transform.b or \
            transform.d:
        raise DataError(f"grid cells must be square and north-up, got transform {tuple(transform)}")
    return abs(transform.a)


def core_patches(
    mspa_codes: np.ndarray, *, connectivity: int, cell_size_m: float, min_area_km2: float
) -> tuple[np.ndarray, np.ndarray]:
    """Label MSPA core patches and keep those of at least ``min_area_km2``.

    Returns
    -------
    labels : numpy.ndarray
        int32, 0 = none, 1 … n = kept patches (numbered in raster order).
    areas_km2 : numpy.ndarray
        Core area of each kept patch.

    Raises
    ------
    DataError
        No core cell, or no core patch reaches ``min_area_km2`` (the message gives the largest).
    """
    core = np.isin(mspa_codes, MSPA_CORE_VALUES)  # external 17 and internal 117
    if not core.any():
        raise DataError(
            "no MSPA core cell: the ecological land is too thin or fragmented at this resolution "
            "and edge width; lower ecology.mspa.edge_width or widen ecology.foreground_classes"
        )
    structure = (np.ones((3, 3), bool) if connectivity == 8
                 else ndimage.generate_binary_structure(2, 1))
    lab, n = ndimage.label(core, structure=structure)
    cell_km2 = cell_size_m**2 / 1e6
    areas = ndimage.sum_labels(np.ones_like(lab), lab, index=np.arange(1, n + 1)) * cell_km2
    keep = np.flatnonzero(areas >= min_area_km2)
    if keep.size == 0:
        raise DataError(
            f"no core patch reaches ecology.sources.min_area_km2 = {min_area_km2} km² "
            f"(largest core patch: {areas.max():.3g} km² of {n}); lower the threshold"
        )
    lut = np.zeros(n + 1, dtype=np.int32)
    lut[keep + 1] = np.arange(1, keep.size + 1)
    return lut[lab], areas[keep]


def source_polygons(
    labels: np.ndarray, *, transform: Affine, crs: Any, connectivity: int = 8
) -> gpd.GeoDataFrame:
    """Polygons (one row per label, multi-part if needed) of a labelled raster, sorted by label."""
    geoms: dict[int, list[Any]] = {}
    for geom, value in shapes(labels.astype(np.int32), mask=labels > 0,
                              connectivity=connectivity, transform=transform):
        geoms.setdefault(int(value), []).append(shapely.geometry.shape(geom))
    ids = sorted(geoms)
    return gpd.GeoDataFrame({"source_id": ids},
                            geometry=[shapely.union_all(geoms[i]) for i in ids], crs=crs)


def select_sources(
    mspa_codes: np.ndarray,
    *,
    transform: Affine,
    crs: Any,
    connectivity: int = 8,
    min_area_km2: float,
    distance_threshold_km: float,
    probability: float,
    top_n: int | None = None,
    min_dpc: float | None = None,
    landscape_area_km2: float | None = None,
    sea: np.ndarray | None = None,
) -> SourceSelection:
    """Rank core patches by dPC and keep the most important as ecological sources.

    Parameters
    ----------
    mspa_codes
        MSPA raster (GWB codes of :func:`agglonet.ecology.mspa.mspa`; core = 17 or 117, 129 = no
        data).
    transform, crs
        Grid georeferencing (square cells in metres, the working CRS).
    connectivity
        Connectivity used to label core patches (as the MSPA).
    min_area_km2
        Smallest core area of a candidate patch.
    distance_threshold_km, probability
        Dispersal distance d0 and probability p0 (p(d0) = p0) for PC; d0 is the IIC link threshold.
    top_n, min_dpc
        Keep the ``top_n`` patches with the highest dPC and/or those with dPC ≥ ``min_dpc``;
        both ``None`` keeps every candidate.
    landscape_area_km2
        A_L; default: the area of the cells that are neither no data in ``mspa_codes`` nor sea.
    sea
        Boolean open-sea cells (``sea_mask.tif``); they are outside the landscape and no core
        patch may touch them (MSPA codes them as missing data).

    Returns
    -------
    SourceSelection

    Raises
    ------
    DataError
        No core patch above the threshold, no candidate left after the dPC filter, or a core
        cell in the sea.
    """
    cell = _cell_size(transform)
    cell_km2 = cell**2 / 1e6
    sea = np.zeros(mspa_codes.shape, bool) if sea is None else np.asarray(sea, bool)
    if sea.shape != mspa_codes.shape:
        raise DataError(f"sea mask shape {sea.shape} differs from the MSPA raster's "
                        f"{mspa_codes.shape}")
    at_sea = int((sea & np.isin(mspa_codes, MSPA_CORE_VALUES)).sum())
    if at_sea:
        raise DataError(f"{at_sea} MSPA core cells lie in the open sea; the MSPA must treat "
                        "sea_mask.tif cells as missing data (code 129)")
    labels, areas = core_patches(mspa_codes, connectivity=connectivity, cell_size_m=cell,
                                 min_area_km2=min_area_km2)
    if landscape_area_km2 is None:
        landscape_area_km2 = float(((mspa_codes != MSPA_NODATA) & ~sea).sum()) * cell_km2
    n = areas.size
    if n > 400:
        logger.warning("%d candidate core patches: dPC costs O(n^3 log n); consider a larger "
                       "min_area_km2", n)
    dist = edge_distances_m(labels, cell_size_m=cell)
    res = connectivity_indices(areas, dist, landscape_area_km2=landscape_area_km2,
                               probability=probability,
                               distance_threshold_m=distance_threshold_km * 1000.0)
    # Rank by dPC (ties: larger area, then raster order) — deterministic.
    order = np.lexsort((np.arange(n), -areas, -res.dpc))
    keep = order
    if min_dpc is not None:
        keep = keep[res.dpc[keep] >= min_dpc]
    if top_n is not None:
        keep = keep[:top_n]
    if keep.size == 0:
        raise DataError(
            f"no core patch has dPC ≥ ecology.sources.min_dpc = {min_dpc} "
            f"(highest dPC: {res.dpc.max():.3g}); lower the threshold"
        )
    lut = np.zeros(n + 1, dtype=np.int32)
    lut[keep + 1] = np.arange(1, keep.size + 1)
    src_labels = lut[labels]
    table = pd.DataFrame({
        "source_id": np.arange(1, keep.size + 1),
        "area_km2": areas[keep],
        "dpc": res.dpc[keep],
        "dpc_intra": res.dpc_intra[keep],
        "dpc_flux": res.dpc_flux[keep],
        "dpc_connector": res.dpc_connector[keep],
        "diic": res.diic[keep],
        "mean_resistance": np.nan,
        "rank": np.arange(1, keep.size + 1),
    })
    polys = source_polygons(src_labels, transform=transform, crs=crs, connectivity=connectivity)
    sources = gpd.GeoDataFrame(table.merge(polys, on="source_id"), geometry="geometry", crs=crs)
    indices = {
        "pc": res.pc,
        "iic": res.iic,
        "eca_km2": res.eca_km2,
        "n_candidates": int(n),
        "candidate_area_km2": float(areas.sum()),
        "landscape_area_km2": float(landscape_area_km2),
        "land_area_km2": float((~sea).sum()) * cell_km2,
        "sea_area_km2": float(sea.sum()) * cell_km2,
    }
    logger.info("%d candidate core patches, %d sources (dPC %.3g … %.3g); PC=%.3g ECA=%.1f km²",
                n, keep.size, res.dpc[keep].max(), res.dpc[keep].min(), res.pc, res.eca_km2)
    return SourceSelection(sources=sources[[*SOURCE_COLUMNS, "geometry"]], labels=src_labels,
                           indices=indices)


def add_mean_resistance(
    sources: gpd.GeoDataFrame, labels: np.ndarray, resistance: np.ndarray
) -> gpd.GeoDataFrame:
    """Fill ``mean_resistance``: the mean resistance of each source's cells (NaN cells ignored)."""
    ids = sources["source_id"].to_numpy()
    finite = np.isfinite(resistance)
    lab = np.where(finite, labels, 0)
    sums = ndimage.sum_labels(np.where(finite, resistance, 0.0), lab, index=ids)
    counts = ndimage.sum_labels(finite.astype(float), lab, index=ids)
    out = sources.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["mean_resistance"] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return out
