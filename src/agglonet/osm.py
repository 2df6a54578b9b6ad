"""OpenStreetMap conventions shared by every stage: the attribution and ``highway`` tag values.

A ``highway`` cell reaches agglonet in several spellings: a plain string, the OSM multi-value
``"a;b"``, a Python list (osmnx merges values when it simplifies a graph), or such a list turned
into text by a GraphML or GeoPackage round trip (``"['primary', 'secondary']"``).
:func:`tag_values` reads them all, so the road graph, the resistance surface and the
road–corridor crossings classify the same road the same way.
"""

from __future__ import annotations

import ast
import math
from typing import Any

import numpy as np

#: Licence statement for anything derived from OpenStreetMap.
OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"


def tag_values(value: Any) -> list[str]:
    """Return an OSM tag cell as a list of strings.

    Parameters
    ----------
    value
        ``None``/NaN, a string, an OSM multi-value ``"a;b"``, a list/tuple/set/array, or a list
        written as text (``"['a', 'b']"``).

    Returns
    -------
    list of str
        The values in their order; empty for a missing cell.

    Examples
    --------
    >>> tag_values("primary;secondary")
    ['primary', 'secondary']
    >>> tag_values("['trunk', 'primary']")
    ['trunk', 'primary']
    >>> tag_values(None)
    []
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return [str(v) for v in value]
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            parsed = None
        if isinstance(parsed, (list, tuple)):
            return [str(v) for v in parsed]
    return [part.strip() for part in text.split(";") if part.strip()]


def parent_class(highway: str) -> str:
    """Return the road class a ``highway`` value counts as (``trunk_link`` → ``trunk``)."""
    return highway.removesuffix("_link")
