"""Barriers: where restoration most shortens least-cost paths (Linkage Mapper's Barrier Mapper).

For a pair (a, b) with least-cost distance LCD and cost-weighted distances CWD_a, CWD_b, restoring
a circular window of radius R around a cell (resistance set to ``restored_resistance``) lets a
path reach the window at the cheapest cell within R on each side and cross it in 2R metres:

    LCD_restored = min_{disk}(CWD_a) + min_{disk}(CWD_b) + 2R · restored_resistance
    improvement score = (LCD − LCD_restored) / (2R)                 (McRae et al. 2012)

i.e. cost units saved per metre restored (clipped at 0). The focal minima use
``scipy.ndimage.minimum_filter`` with a disk footprint.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np

from agglonet.ecology.corridors import CorridorNetwork

log = logging.getLogger(__name__)


def disk_footprint(radius_cells: float) -> np.ndarray:
    """Boolean disk of cells whose centre lies within ``radius_cells`` of the centre cell."""
    raise NotImplementedError


def improvement_score(
    cwd_a: np.ndarray,
    cwd_b: np.ndarray,
    *,
    lcd: float,
    radius_m: float,
    cell_size_m: float,
    restored_resistance: float = 1.0,
) -> np.ndarray:
    """Barrier Mapper improvement score per cell for one pair.

    Parameters
    ----------
    cwd_a, cwd_b
        Cost-weighted distances from sources a and b (``inf`` where unknown/unreachable).
    lcd
        Least-cost distance between a and b.
    radius_m
        Restoration window radius (metres).
    cell_size_m
        Cell size (metres).
    restored_resistance
        Resistance of the restored window.

    Returns
    -------
    numpy.ndarray
        (LCD − LCD_restored) / (2R), ≥ 0, per cell.
    """
    raise NotImplementedError


def find_barriers(
    network: CorridorNetwork,
    *,
    radius_m: float,
    top_n: int,
    restored_resistance: float = 1.0,
) -> gpd.GeoDataFrame:
    """Top barrier sites over all corridors of a network.

    For each corridor pair, the improvement score raster; the cell's score is the best over pairs.
    Local maxima (within the window radius) are ranked and the ``top_n`` best kept.

    Returns
    -------
    geopandas.GeoDataFrame
        Points with ``barrier_id``, ``score`` (cost units saved per metre restored),
        ``lcd_gain`` (cost units), ``from_source``, ``to_source``, ``corridor_id``, ``radius_m``.
    """
    raise NotImplementedError
