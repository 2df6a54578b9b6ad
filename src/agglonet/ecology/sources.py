"""Ecological sources: MSPA core patches at the grid's scale, ranked by dPC.

Each step is documented in ``docs/metrics.md`` ("Ecological sources"):

1. **Necks** (:func:`split_at_necks`): MSPA core (codes 17 and 117) narrower than
   ``neck_width_km`` — where a disk of that diameter does not fit, as MSPA with a wider edge width
   would call it a bridge — is not source interior. The core is opened with that disk (erosion
   then dilation, two Euclidean distance transforms); its connected parts are the patches, and
   the thin cells cut off (necks, spurs) stay habitat but belong to no source. Patches joined
   only by a neck are different patches, and their corridor runs through the neck.
2. **Size**: a patch needs at least ``min_area_km2`` and at least ``min_area_cells`` cells.
3. **Ranking**: the patches are ranked by dPC over all of them (Conefor's unit), with
   edge-to-edge distances; the landscape's PC, IIC and ECA are computed over the uncut MSPA core
   patches that pass the size thresholds (the cuts shape the sources, not the landscape), with
   the landscape area A_L = the land cells with land cover of the whole grid (the cluster and its
   buffer; open sea, ``sea_mask.tif``, is not part of the landscape).
4. **Maximum area** (:func:`split_large_patches`), going down the ranking: a patch larger than
   ``max_area_km2`` is cut into k = ⌈area / max_area⌉ compact parts — k-means on its cell centres
   (deterministic farthest-point start), then a compact watershed from the cells nearest the k
   centres, so each part is one connected piece; a one-cell seam between two parts (the cells of
   the higher-numbered part touching the lower one) is left out of both. ``core_patch_id``
   records the patch each part comes from: parts of one patch are joined through continuous
   habitat, so no corridor is built between them
   (:func:`agglonet.ecology.corridors.build_corridors`) and the network indices count them as one
   node (:func:`agglonet.ecology.summary.ecology_summary`).
5. **Share**: a part (or uncut patch) becomes a source with at least ``min_share_in_cluster`` of
   its area inside the cluster polygon; parts are taken until ``top_n`` patches have given a
   source (and/or while dPC ≥ ``min_dpc``).

Sources are numbered by the rank of their patch, then in raster order within the patch.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from rasterio.features import shapes
from scipy import ndimage
from scipy.cluster.vq import kmeans2
from scipy.spatial import cKDTree
from skimage.segmentation import watershed

from agglonet.ecology.connectivity import connectivity_indices, edge_distances_m
from agglonet.ecology.mspa import MSPA_CORE_VALUES, MSPA_NODATA
from agglonet.errors import ConfigError, DataError
from agglonet.outputs import SOURCE_COLUMNS

logger = logging.getLogger(__name__)

#: Largest number of cells k-means sees when cutting one patch (a regular subsample beyond).
KMEANS_MAX_POINTS = 50_000


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
        Landscape-level figures: ``pc``, ``iic``, ``eca_km2`` over the uncut MSPA core patches
        that pass the size thresholds (``n_landscape_patches``, ``landscape_patch_area_km2``);
        ``n_core_patches`` and ``core_area_km2`` (all MSPA core patches), ``n_candidates`` and
        ``candidate_area_km2`` (after the cuts and size thresholds: the patches dPC ranks),
        ``landscape_area_km2`` (A_L), ``land_area_km2`` and ``sea_area_km2`` (the grid's cells
        off and on the sea mask), ``source_area_km2``, ``source_area_in_cluster_km2``,
        ``largest_source_share``.
    """

    sources: gpd.GeoDataFrame
    labels: np.ndarray
    indices: dict[str, float]


@dataclass(frozen=True)
class CorePatches:
    """Result of :func:`core_patches`: candidate patches and where they come from.

    Attributes
    ----------
    labels
        int32 raster, 0 = none, 1 … n = candidate patches (numbered in raster order of their
        first cell).
    areas_km2
        Core area of each candidate (length n).
    n_cells
        Cells of each candidate.
    core_patch_id
        Id of the patch (after the neck cut, before the area cut; numbered in raster order) each
        candidate was cut from: parts of one patch share it, and are joined through continuous
        habitat.
    n_core_patches, core_area_km2
        Number and total area of the MSPA core patches before splitting and filtering.
    core_labels
        int32 raster of the MSPA core patches themselves (uncut, unfiltered; raster order).
    """

    labels: np.ndarray
    areas_km2: np.ndarray
    n_cells: np.ndarray
    core_patch_id: np.ndarray
    n_core_patches: int
    core_area_km2: float
    core_labels: np.ndarray


def _cell_size(transform: Affine) -> float:
    if abs(abs(transform.a) - abs(transform.e)) > 1e-9 * abs(transform.a) or transform.b or \
            transform.d:
        raise DataError(f"grid cells must be square and north-up, got transform {tuple(transform)}")
    return abs(transform.a)


def _structure(connectivity: int) -> np.ndarray:
    if connectivity not in (4, 8):
        raise ConfigError(f"connectivity is {connectivity!r}; expected 4 or 8")
    return (np.ones((3, 3), bool) if connectivity == 8
            else ndimage.generate_binary_structure(2, 1))


def _relabel_in_raster_order(labels: np.ndarray) -> np.ndarray:
    """Renumber the positive labels 1 … n in the raster order of their first cell."""
    flat = labels.ravel()
    ids, first = np.unique(flat, return_index=True)
    keep = ids > 0
    ids, first = ids[keep], first[keep]
    order = ids[np.argsort(first, kind="stable")]
    lut = np.zeros(int(flat.max()) + 1 if flat.size else 1, dtype=np.int32)
    lut[order] = np.arange(1, order.size + 1, dtype=np.int32)
    return lut[labels]


def split_at_necks(core: np.ndarray, *, neck_width_cells: float,
                   connectivity: int = 8) -> np.ndarray:
    """Cut core where it is narrower than ``neck_width_cells``; label the parts.

    The morphological opening of the core by a Euclidean disk of diameter ``neck_width_cells``
    (radius r = (width − 1) / 2 cells, the centre cell included): cells whose nearest non-core
    cell is farther than r (the disk fits there), grown back by r inside the core. Necks and spurs
    narrower than the disk are cut off and belong to no part.

    Parameters
    ----------
    core
        Boolean core cells.
    neck_width_cells
        Narrowest core width kept, in cells; below 2 nothing is cut (the disk is one cell).
    connectivity
        Connectivity of the parts (4 or 8).

    Returns
    -------
    numpy.ndarray
        int32 labels of the parts (0 elsewhere), numbered in raster order.

    Examples
    --------
    Two 5 × 5 blocks (at the grid's edge, which is not background) joined by a three-cell-long,
    one-cell-wide neck split into two parts at width 3; the middle cell of the neck is cut:

    >>> core = np.zeros((5, 13), bool); core[:, :5] = core[:, 8:] = True; core[2, 5:8] = True
    >>> labels = split_at_necks(core, neck_width_cells=3)
    >>> int(labels.max()), int((labels > 0).sum()), int(labels[2, 6])
    (2, 52, 0)
    """
    core = np.asarray(core, dtype=bool)
    structure = _structure(connectivity)
    radius = (float(neck_width_cells) - 1.0) / 2.0
    if radius >= 0.5 and core.any():
        # distance of each core cell to the nearest non-core cell (the grid's outside is not
        # background, as in MSPA): the disk of radius r centred on a cell fits iff that is > r
        fits = ndimage.distance_transform_edt(core) > radius + 1e-9
        if fits.any():
            kept = core & (ndimage.distance_transform_edt(~fits) <= radius + 1e-9)
        else:
            kept = np.zeros_like(core)
    else:
        kept = core
    labels, _ = ndimage.label(kept, structure=structure)
    return _relabel_in_raster_order(labels)


def _farthest_point_start(points: np.ndarray, k: int) -> np.ndarray:
    """K starting centres: the point nearest the centroid, then repeatedly the farthest point.

    Deterministic (ties to the first point), so the cut does not depend on a random seed.
    """
    centre = points.mean(axis=0)
    chosen = [int(np.argmin(((points - centre) ** 2).sum(axis=1)))]
    dist = ((points - points[chosen[0]]) ** 2).sum(axis=1)
    for _ in range(1, k):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, ((points - points[nxt]) ** 2).sum(axis=1))
    return points[chosen].astype(float)


def _cut_patch(mask: np.ndarray, k: int, structure: np.ndarray) -> np.ndarray:
    """Cut one connected patch (boolean ``mask``) into k compact parts separated by a seam."""
    rows, cols = np.nonzero(mask)
    points = np.column_stack([rows, cols]).astype(float)
    step = max(1, math.ceil(points.shape[0] / KMEANS_MAX_POINTS))
    sample = points[::step]
    centres, _ = kmeans2(sample, _farthest_point_start(sample, k), iter=20, minit="matrix",
                         missing="raise")
    _, nearest = cKDTree(points).query(centres, k=1)
    markers = np.zeros(mask.shape, dtype=np.int32)
    for j, idx in enumerate(np.unique(nearest), start=1):  # k-means may merge two centres
        markers[rows[idx], cols[idx]] = j
    parts = watershed(np.zeros(mask.shape), markers, mask=mask, compactness=1.0,
                      connectivity=2 if structure.all() else 1)
    # seam: drop the cells of the higher-numbered part that touch a lower-numbered part, so the
    # parts do not touch (with the patch's own connectivity)
    seam = np.zeros(mask.shape, dtype=bool)
    h, w = mask.shape
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if (dy, dx) == (0, 0) or not structure[dy + 1, dx + 1]:
                continue
            src = (slice(max(0, -dy), h - max(0, dy)), slice(max(0, -dx), w - max(0, dx)))
            dst = (slice(max(0, dy), h - max(0, -dy)), slice(max(0, dx), w - max(0, -dx)))
            a, b = parts[src], parts[dst]
            seam[src] |= (a > 0) & (b > 0) & (a > b)
    parts[seam] = 0
    out = np.zeros(mask.shape, dtype=np.int32)
    for j in range(1, int(parts.max()) + 1):  # a seam may cut a part in two: label each piece
        lab, n = ndimage.label(parts == j, structure=structure)
        out[lab > 0] = lab[lab > 0] + out.max()
    return out


def split_large_patches(labels: np.ndarray, *, max_cells: int, connectivity: int = 8,
                        max_rounds: int = 10) -> np.ndarray:
    """Cut every labelled patch of more than ``max_cells`` cells into compact parts.

    A patch of n cells becomes k = ⌈n / max_cells⌉ parts (k-means on the cell centres from a
    farthest-point start, then a compact watershed from the cells nearest the centres; a one-cell
    seam between parts is left out). Parts still above ``max_cells`` are cut again, at most
    ``max_rounds`` times.

    Parameters
    ----------
    labels
        int labels of patches (0 = none).
    max_cells
        Largest part kept whole, in cells (≥ 1).
    connectivity
        Connectivity of the patches (4 or 8).
    max_rounds
        Rounds of cutting (a safeguard; one round almost always suffices).

    Returns
    -------
    numpy.ndarray
        int32 labels of the parts, numbered in raster order.
    """
    if max_cells < 1:
        raise ConfigError(f"largest patch is {max_cells} cells; expected >= 1")
    structure = _structure(connectivity)
    out = _relabel_in_raster_order(np.asarray(labels))
    for _ in range(max_rounds):
        counts = np.bincount(out.ravel())
        big = [int(k) for k in np.flatnonzero(counts > max_cells) if k > 0]
        if not big:
            break
        objects = ndimage.find_objects(out)
        nxt = int(out.max())
        for k in big:
            window = objects[k - 1]
            mask = out[window] == k
            cut = _cut_patch(mask, math.ceil(int(counts[k]) / max_cells), structure)
            sub = out[window]
            sub[mask] = 0
            sub[cut > 0] = cut[cut > 0] + nxt
            nxt += int(cut.max())
        out = _relabel_in_raster_order(out)
    return out


def core_patches(
    mspa_codes: np.ndarray,
    *,
    connectivity: int,
    cell_size_m: float,
    min_area_km2: float,
    min_area_cells: int = 1,
    neck_width_m: float = 0.0,
    max_area_km2: float | None = None,
) -> CorePatches:
    """Candidate patches: MSPA core cut at necks and to a maximum area, then size-filtered.

    Parameters
    ----------
    mspa_codes
        MSPA raster (GWB codes; core = 17 or 117).
    connectivity
        Connectivity of the patches (as the MSPA).
    cell_size_m
        Cell size (m).
    min_area_km2, min_area_cells
        A candidate needs at least this area and at least this many cells.
    neck_width_m
        Core narrower than this is cut (:func:`split_at_necks`); 0 = no cut.
    max_area_km2
        Patches larger than this are cut into compact parts (:func:`split_large_patches`);
        ``None`` = no cut.

    Returns
    -------
    CorePatches

    Raises
    ------
    DataError
        No core cell, or no candidate reaches the size thresholds (the message gives the largest).
    """
    core = np.isin(mspa_codes, MSPA_CORE_VALUES)  # external 17 and internal 117
    if not core.any():
        raise DataError(
            "no MSPA core cell: the ecological land is too thin or fragmented at this resolution "
            "and edge width; lower ecology.mspa.edge_width or widen ecology.foreground_classes"
        )
    structure = _structure(connectivity)
    parent, n_parent = ndimage.label(core, structure=structure)
    parent = _relabel_in_raster_order(parent)
    cell_km2 = cell_size_m**2 / 1e6
    patches = split_at_necks(core, neck_width_cells=neck_width_m / cell_size_m,
                             connectivity=connectivity)
    pieces = patches
    if max_area_km2 is not None:
        pieces = split_large_patches(patches, max_cells=max(1, int(max_area_km2 / cell_km2)),
                                     connectivity=connectivity)
    n = int(pieces.max())
    index = np.arange(1, n + 1)
    cells = ndimage.sum_labels(np.ones(pieces.shape), pieces, index=index).astype(np.int64)
    areas = cells * cell_km2
    keep = np.flatnonzero((areas >= min_area_km2 - 1e-9) & (cells >= min_area_cells))
    if keep.size == 0:
        largest = f"{areas.max():.3g} km², {cells.max()} cells" if n else "none"
        raise DataError(
            f"no core patch reaches ecology.sources.min_area_km2 = {min_area_km2} km² and "
            f"min_area_cells = {min_area_cells} (largest core patch: {largest} of {n}); "
            "lower the thresholds"
        )
    # each part's patch: the patch label at the part's first cell
    ids, first = np.unique(pieces.ravel(), return_index=True)
    patch_of = dict(zip(ids.tolist(), patches.ravel()[first].tolist(), strict=True))
    patch_ids = np.array([patch_of[int(k)] for k in index[keep]], dtype=np.int64)
    lut = np.zeros(n + 1, dtype=np.int32)
    lut[keep + 1] = np.arange(1, keep.size + 1)
    logger.info("%d MSPA core patches (%.0f km²) → %d patches after the neck cut (%.3g m) → "
                "%d parts after the area cut (%s km²) → %d candidates of ≥ %g km² and ≥ %d cells",
                n_parent, core.sum() * cell_km2, int(patches.max()), neck_width_m, n,
                max_area_km2, keep.size, min_area_km2, min_area_cells)
    return CorePatches(labels=lut[pieces], areas_km2=areas[keep], n_cells=cells[keep],
                       core_patch_id=patch_ids, n_core_patches=int(n_parent),
                       core_area_km2=float(core.sum()) * cell_km2, core_labels=parent)


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
    min_area_cells: int = 1,
    neck_width_km: float = 0.0,
    max_area_km2: float | None = None,
    cluster: shapely.Geometry | None = None,
    min_share_in_cluster: float = 0.0,
    top_n: int | None = None,
    min_dpc: float | None = None,
    landscape_area_km2: float | None = None,
    sea: np.ndarray | None = None,
) -> SourceSelection:
    """Rank core patches by dPC and make the most important into ecological sources.

    Parameters
    ----------
    mspa_codes
        MSPA raster (GWB codes of :func:`agglonet.ecology.mspa.mspa`; core = 17 or 117, 129 = no
        data).
    transform, crs
        Grid georeferencing (square cells in metres, the working CRS).
    connectivity
        Connectivity used to label core patches (as the MSPA).
    min_area_km2, min_area_cells
        Smallest core area and smallest number of cells of a candidate patch.
    distance_threshold_km, probability
        Dispersal distance d0 and probability p0 (p(d0) = p0) for PC; d0 is the IIC link threshold.
    neck_width_km
        Core narrower than this is cut off (:func:`split_at_necks`); 0 = no cut.
    max_area_km2
        Larger patches are cut into compact parts (:func:`split_large_patches`); ``None`` = no
        cut.
    cluster
        The cluster polygon in ``crs``: ``area_in_cluster_km2`` and ``share_in_cluster`` of each
        source are measured against it. ``None``: the whole grid counts as inside.
    min_share_in_cluster
        A patch, or a part of a cut patch, becomes a source only with at least this share (0–1)
        of its area inside ``cluster``; every patch still counts in PC, IIC and dPC.
    top_n, min_dpc
        Sources come from the ``top_n`` patches with the highest dPC that give at least one
        source, and/or from those with dPC ≥ ``min_dpc``; both ``None`` keeps every patch. A
        patch cut into parts counts once (the network indices count it as one node).
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
        No core patch above the thresholds, no candidate left after the share and dPC filters,
        or a core cell in the sea.
    ConfigError
        ``min_share_in_cluster`` outside 0–1.
    """
    if not 0.0 <= min_share_in_cluster <= 1.0:
        raise ConfigError(f"ecology.sources.min_share_in_cluster is {min_share_in_cluster!r}; "
                          "expected a share between 0 and 1")
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
    patches = core_patches(mspa_codes, connectivity=connectivity, cell_size_m=cell,
                           min_area_km2=min_area_km2, min_area_cells=min_area_cells,
                           neck_width_m=neck_width_km * 1000.0)
    labels, areas = patches.labels, patches.areas_km2
    if landscape_area_km2 is None:
        landscape_area_km2 = float(((mspa_codes != MSPA_NODATA) & ~sea).sum()) * cell_km2
    n = areas.size
    if n > 400:
        logger.warning("%d candidate core patches: dPC costs O(n^3 log n); consider a larger "
                       "min_area_km2", n)
    kernel = {"landscape_area_km2": landscape_area_km2, "probability": probability,
              "distance_threshold_m": distance_threshold_km * 1000.0}
    res = connectivity_indices(areas, edge_distances_m(labels, cell_size_m=cell), **kernel)
    landscape = _landscape_indices(patches, cell_size_m=cell, min_area_km2=min_area_km2,
                                   min_area_cells=min_area_cells, **kernel)
    # Rank patches by dPC (ties: larger area, then raster order) — deterministic.
    order = np.lexsort((np.arange(n), -areas, -res.dpc))
    if min_dpc is not None:
        order = order[res.dpc[order] >= min_dpc]
        if order.size == 0:
            raise DataError(
                f"no core patch has dPC ≥ ecology.sources.min_dpc = {min_dpc} "
                f"(highest dPC: {res.dpc.max():.3g}); lower the threshold")
    picked = _pick_parts(patches, order, transform=transform, crs=crs, cluster=cluster,
                         connectivity=connectivity, min_area_km2=min_area_km2,
                         min_area_cells=min_area_cells, max_area_km2=max_area_km2,
                         min_share_in_cluster=min_share_in_cluster, top_n=top_n)
    if not picked.rows:
        raise DataError(
            f"no core patch has ecology.sources.min_share_in_cluster = {min_share_in_cluster} "
            "of its area (or of a part's area) inside the cluster; lower it")
    table = pd.DataFrame(picked.rows)
    for key, values in (("dpc", res.dpc), ("dpc_intra", res.dpc_intra),
                        ("dpc_flux", res.dpc_flux), ("dpc_connector", res.dpc_connector),
                        ("diic", res.diic)):
        table[key] = values[table["_patch"].to_numpy()]
    table["mean_resistance"] = np.nan
    sources = gpd.GeoDataFrame(table.drop(columns="_patch"), geometry=picked.geometry, crs=crs)
    source_km2 = float(table["area_km2"].sum())
    indices = {
        **landscape,
        "n_core_patches": patches.n_core_patches,
        "core_area_km2": patches.core_area_km2,
        "n_candidates": int(n),
        "candidate_area_km2": float(areas.sum()),
        "n_selected_patches": picked.n_patches,
        "landscape_area_km2": float(landscape_area_km2),
        "land_area_km2": float((~sea).sum()) * cell_km2,
        "sea_area_km2": float(sea.sum()) * cell_km2,
        "source_area_km2": source_km2,
        "source_area_in_cluster_km2": float(table["area_in_cluster_km2"].sum()),
        "largest_source_share": float(table["area_km2"].max()) / source_km2,
    }
    logger.info("%d candidate patches → %d sources from %d patches (largest %.0f %% of the "
                "source area; %.0f %% of it inside the cluster); landscape PC=%.3g ECA=%.1f km²",
                n, len(sources), picked.n_patches, 100 * indices["largest_source_share"],
                100 * indices["source_area_in_cluster_km2"] / source_km2, landscape["pc"],
                landscape["eca_km2"])
    return SourceSelection(sources=sources[[*SOURCE_COLUMNS, "geometry"]], labels=picked.labels,
                           indices=indices)


@dataclass(frozen=True)
class _Picked:
    rows: list[dict[str, Any]]
    geometry: list[Any]
    labels: np.ndarray
    n_patches: int


def _pick_parts(patches: CorePatches, order: np.ndarray, *, transform: Affine, crs: Any,
                cluster: shapely.Geometry | None, connectivity: int, min_area_km2: float,
                min_area_cells: int, max_area_km2: float | None, min_share_in_cluster: float,
                top_n: int | None) -> _Picked:
    """Turn the best patches into sources, in dPC order, until ``top_n`` patches have given one.

    Each patch is cut to ``max_area_km2``; its parts that pass the size thresholds and
    ``min_share_in_cluster`` become sources (ranked by their patch, numbered in raster order
    within it); a patch none of whose parts pass is skipped.
    """
    cell = _cell_size(transform)
    cell_km2 = cell**2 / 1e6
    max_cells = None if max_area_km2 is None else max(1, int(max_area_km2 / cell_km2))
    windows = ndimage.find_objects(patches.labels)
    out = np.zeros(patches.labels.shape, dtype=np.int32)
    rows: list[dict[str, Any]] = []
    geometry: list[Any] = []
    n_patches = 0
    for idx in (int(i) for i in order):
        if top_n is not None and n_patches == top_n:
            break
        win = windows[idx]
        parts = (patches.labels[win] == idx + 1).astype(np.int32)
        if max_cells is not None and int(patches.n_cells[idx]) > max_cells:
            parts = split_large_patches(parts, max_cells=max_cells, connectivity=connectivity)
        counts = np.bincount(parts.ravel())
        big = [k for k in range(1, counts.size)
               if counts[k] >= min_area_cells and counts[k] * cell_km2 >= min_area_km2 - 1e-9]
        parts = np.where(np.isin(parts, big), parts, 0)
        polys = source_polygons(parts, transform=transform @ Affine.translation(
            win[1].start, win[0].start), crs=crs, connectivity=connectivity)
        part_km2 = np.array([counts[k] * cell_km2 for k in polys["source_id"]])
        inside_km2 = (part_km2.copy() if cluster is None else
                      shapely.area(shapely.intersection(polys.geometry.values, cluster)) / 1e6)
        share = np.clip(inside_km2 / part_km2, 0.0, 1.0) if len(polys) else np.zeros(0)
        keep = np.flatnonzero(share >= min_share_in_cluster - 1e-12)
        if keep.size == 0:
            continue
        n_patches += 1
        for j in keep:
            k = int(polys["source_id"].iloc[j])
            source_id = len(rows) + 1
            out[win][parts == k] = source_id
            rows.append({"source_id": source_id, "area_km2": float(part_km2[j]),
                         "area_in_cluster_km2": float(inside_km2[j]),
                         "share_in_cluster": float(share[j]), "n_cells": int(counts[k]),
                         "core_patch_id": int(patches.core_patch_id[idx]), "rank": n_patches,
                         "_patch": idx})
            geometry.append(polys.geometry.iloc[j])
    return _Picked(rows=rows, geometry=geometry, labels=out, n_patches=n_patches)


def _landscape_indices(patches: CorePatches, *, cell_size_m: float, min_area_km2: float,
                       min_area_cells: int, landscape_area_km2: float, probability: float,
                       distance_threshold_m: float) -> dict[str, float]:
    """PC, IIC and ECA of the landscape: over the MSPA core patches as they are (uncut).

    Cutting patches at necks or to a maximum area shapes the sources, not the landscape: its
    connectivity is measured on the whole core patches that pass the size thresholds.
    """
    lab = patches.core_labels
    n = int(lab.max())
    cells = ndimage.sum_labels(np.ones(lab.shape), lab, index=np.arange(1, n + 1))
    areas = cells * cell_size_m**2 / 1e6
    keep = np.flatnonzero((areas >= min_area_km2 - 1e-9) & (cells >= min_area_cells))
    if keep.size == 0:
        return {"pc": 0.0, "iic": 0.0, "eca_km2": 0.0, "n_landscape_patches": 0,
                "landscape_patch_area_km2": 0.0}
    lut = np.zeros(n + 1, dtype=np.int32)
    lut[keep + 1] = np.arange(1, keep.size + 1)
    kept = lut[lab]
    res = connectivity_indices(areas[keep], edge_distances_m(kept, cell_size_m=cell_size_m),
                               landscape_area_km2=landscape_area_km2, probability=probability,
                               distance_threshold_m=distance_threshold_m)
    return {"pc": res.pc, "iic": res.iic, "eca_km2": res.eca_km2,
            "n_landscape_patches": int(keep.size),
            "landscape_patch_area_km2": float(areas[keep].sum())}


def cluster_geometry(polygons: gpd.GeoDataFrame, *, crs: Any) -> shapely.Geometry:
    """Return the union of the cluster polygon layer in ``crs`` (for :func:`select_sources`).

    Raises
    ------
    DataError
        If the layer is empty.
    """
    if polygons is None or polygons.empty:
        raise DataError("the cluster polygon layer is empty; cannot measure sources inside it")
    return shapely.union_all(polygons.to_crs(crs).geometry.values)


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
