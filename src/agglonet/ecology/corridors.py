"""Least-cost corridors between ecological sources (Linkage Mapper's method, one multi-source pass).

Cost units follow Linkage Mapper: the cost of a move between two neighbouring cells is the mean
resistance of the two cells times the move length in metres (diagonal moves are √2 cells long), so
a cost-weighted distance (CWD) is in resistance·metres.

Pipeline (:func:`build_corridors`):

1. one multi-source Dijkstra pass from all source cells at once gives the cost-weighted distance
   to the nearest source and the cost allocation (which source is nearest), :func:`cost_allocation`;
2. pairs of sources whose allocation zones touch are the candidate pairs, :func:`source_adjacency`;
3. per source, a Dijkstra pass *truncated* at the largest cost any of its corridors can reach
   (an upper bound of LCD_ab + width from step 1); the truncation is exact for every cell that can
   lie in a corridor, and each truncated pass covers only the neighbourhood of the source, so the
   total work grows with the raster, not with raster × number of sources;
4. per adjacent pair, the least-cost path (minimum of CWD_a + CWD_b), dropped if it crosses a
   third source; the normalised least-cost corridor NLCC = CWD_a + CWD_b − LCD_ab cut at
   ``width_cost_units`` gives the corridor polygon;
5. attributes: cost-weighted length, path length, cost-to-Euclidean ratio, gravity G
   (Kong et al. 2010) and a class from quantiles of G.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
from affine import Affine

log = logging.getLogger(__name__)

#: Corridor classes from the highest to the lowest gravity.
CORRIDOR_CLASSES = ("primary", "secondary", "general")


@dataclass(frozen=True)
class SourceCostSurface:
    """Cost-weighted distance from one source, on a window of the grid.

    Attributes
    ----------
    source_id
        The source (label in ``source_labels``).
    window
        ``(row_slice, col_slice)`` of the full grid covered by ``cwd``.
    cwd
        Cost-weighted distance from the source (resistance·m); ``inf`` beyond the truncation
        cost ``limit`` or where unreachable.
    limit
        The cost at which the search was truncated (values ≤ ``limit`` are exact).
    """

    source_id: int
    window: tuple[slice, slice]
    cwd: np.ndarray
    limit: float

    def full(self, shape: tuple[int, int]) -> np.ndarray:
        """Return the CWD on the full grid of ``shape`` (``inf`` outside the window)."""
        raise NotImplementedError


@dataclass(frozen=True)
class CorridorNetwork:
    """Result of :func:`build_corridors`.

    Attributes
    ----------
    cost_distance
        Multi-source cost-weighted distance to the nearest source (float64, NaN where impassable
        or unreachable) — written as ``cost_distance.tif``.
    allocation
        Id of the nearest source per cell (int32, 0 where impassable or unreachable).
    corridors
        Least-cost paths (LineStrings), one row per kept corridor, columns ``corridor_id``,
        ``from_source``, ``to_source``, ``cost_weighted_length``, ``length_km``,
        ``cwd_to_euclid``, ``euclid_distance_m``, ``gravity``, ``corridor_class``.
    corridor_areas
        Corridor polygons (NLCC ≤ width), same ``corridor_id`` and attributes, plus ``area_km2``.
    corridor_mask
        int32 raster of corridor ids (0 outside corridors); where corridors overlap, the cell goes
        to the corridor with the lowest normalised cost.
    adjacent_pairs
        All pairs ``(a, b)``, ``a < b``, whose allocation zones touch (before the
        third-source rule).
    source_cwd
        Per-source truncated cost surfaces (used by :mod:`agglonet.ecology.barriers`).
    transform, crs
        Georeferencing of the rasters.
    """

    cost_distance: np.ndarray
    allocation: np.ndarray
    corridors: gpd.GeoDataFrame
    corridor_areas: gpd.GeoDataFrame
    corridor_mask: np.ndarray
    adjacent_pairs: tuple[tuple[int, int], ...]
    source_cwd: Mapping[int, SourceCostSurface]
    transform: Affine
    crs: Any


def cell_size_m(transform: Affine) -> float:
    """Return the (square) cell size of ``transform`` in metres.

    Raises
    ------
    agglonet.errors.DataError
        If the cells are not square or the transform is rotated.
    """
    raise NotImplementedError


def cost_allocation(
    resistance: np.ndarray, source_labels: np.ndarray, *, cell_size_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Cost-weighted distance to, and allocation of, the nearest source in one multi-source pass.

    Parameters
    ----------
    resistance
        2-D float array of resistance (> 0); NaN (or non-finite) marks impassable cells.
    source_labels
        2-D int array of the same shape: 0 = not a source, k ≥ 1 = source id k.
    cell_size_m
        Cell size in metres (square cells).

    Returns
    -------
    cost_distance : numpy.ndarray
        float64, cost-weighted distance to the nearest source (0 on source cells, NaN where
        impassable or unreachable).
    allocation : numpy.ndarray
        int32, id of the nearest source (0 where impassable or unreachable).

    Raises
    ------
    agglonet.errors.DataError
        On mismatched shapes, non-positive resistance, or no source cell on passable ground.
    """
    raise NotImplementedError


def source_adjacency(allocation: np.ndarray) -> list[tuple[int, int]]:
    """Pairs of sources whose allocation zones touch (8-neighbourhood).

    Parameters
    ----------
    allocation
        2-D int array of source ids (0 = none), e.g. from :func:`cost_allocation`.

    Returns
    -------
    list of tuple
        Sorted pairs ``(a, b)`` with ``a < b``.
    """
    raise NotImplementedError


def gravity(
    *, resistance_a: float, area_a_m2: float, resistance_b: float, area_b_m2: float,
    lcd: float, lcd_max: float,
) -> float:
    """Gravity of a corridor (Kong et al. 2010): G = N_a·N_b / D_ab².

    N = (1/P)·ln S with P the mean resistance of the source and S its area in m²;
    D_ab = L_ab / L_max with L_ab the corridor's cost-weighted length and L_max the largest among
    the corridors of the network.
    """
    raise NotImplementedError


def classify_gravity(values: Sequence[float], *, class_quantiles: Sequence[float]) -> list[str]:
    """Class each corridor by quantiles of G: ≥ q[0] primary, ≥ q[1] secondary, else general."""
    raise NotImplementedError


def build_corridors(
    resistance: np.ndarray,
    source_labels: np.ndarray,
    *,
    transform: Affine,
    crs: Any,
    width_cost_units: float,
    class_quantiles: Sequence[float] = (0.667, 0.333),
) -> CorridorNetwork:
    """Least-cost corridors between adjacent ecological sources (Linkage-Mapper method).

    Parameters
    ----------
    resistance
        2-D float array on the cluster grid (NaN = impassable).
    source_labels
        2-D int array: 0 = not a source, k ≥ 1 = source id k.
    transform, crs
        Georeferencing of the grid (square cells in metres, the working CRS).
    width_cost_units
        NLCC cut-off in cost units (resistance·m): cells with CWD_a + CWD_b − LCD_ab below it form
        the corridor area.
    class_quantiles
        Two quantiles of G splitting primary / secondary / general corridors.

    Returns
    -------
    CorridorNetwork

    Raises
    ------
    agglonet.errors.DataError
        On bad inputs (shapes, non-positive resistance, no passable source cell).
    agglonet.errors.EmptyNetworkError
        If fewer than two sources are given (no corridor can exist).
    """
    raise NotImplementedError
