"""Structural indices of a network (Kansky): α, β, γ and the cyclomatic number μ.

Used for the road graph and for the ecological network (sources = vertices, corridors = edges).
"""

from __future__ import annotations

import math


def graph_indices(n_edges: int, n_vertices: int, n_components: int = 1) -> dict[str, float]:
    """Return Kansky's planar-graph indices.

    Parameters
    ----------
    n_edges
        e, the number of (undirected) edges.
    n_vertices
        v, the number of vertices.
    n_components
        p, the number of connected components.

    Returns
    -------
    dict
        ``mu`` = e − v + p (cyclomatic number), ``alpha`` = μ / (2v − 5),
        ``beta`` = e / v, ``gamma`` = e / (3(v − 2)). Indices whose denominator is not positive
        (too few vertices) are NaN.

    Examples
    --------
    >>> graph_indices(4, 4)  # a square: one cycle
    {'mu': 1.0, 'alpha': 0.3333333333333333, 'beta': 1.0, 'gamma': 0.6666666666666666}
    """
    e, v, p = float(n_edges), float(n_vertices), float(n_components)
    mu = e - v + p
    return {
        "mu": mu,
        "alpha": mu / (2 * v - 5) if 2 * v - 5 > 0 else math.nan,
        "beta": e / v if v > 0 else math.nan,
        "gamma": e / (3 * (v - 2)) if v - 2 > 0 else math.nan,
    }
