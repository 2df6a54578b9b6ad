"""TODO docstring."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from typing import Any

import networkx as nx
import numpy as np

from agglonet.config import default
from agglonet.osm import tag_values

logger = logging.getLogger(__name__)




_MPH_TO_KPH = 1.609344


_KNOT_TO_KPH = 1.852


#: Parsed speeds outside this range are treated as junk (typos such as "5O" or "1000").
_PLAUSIBLE_KPH = (3.0, 200.0)


_SPEED_RE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$", re.IGNORECASE)


def parse_maxspeed(value: Any) -> float | None:
    """Parse an OSM ``maxspeed`` value to km/h.

    Parameters
    ----------
    value
        A tag value: ``"60"``, ``"60 km/h"``, ``"60 mph"``, ``"20 knots"``, a list such as
        ``"60;80"`` or ``"60|80"``, a Python list (osmnx merges values when simplifying), a
        number, or anything else.

    Returns
    -------
    float or None
        The speed in km/h (the mean of the parsable parts of a list, as osmnx does); ``None``
        for missing values, ``"none"``, ``"signals"``, ``"walk"``, zone codes such as
        ``"CN:urban"``, and junk — the caller then uses the class default.

    Examples
    --------
    >>> parse_maxspeed("60 mph")
    96.56064
    >>> parse_maxspeed("60;80")
    70.0
    >>> parse_maxspeed("signals") is None
    True
    """
    if value is None:
        return None
    if isinstance(value, (list, tuple, set)):
        parts = [parse_maxspeed(v) for v in value]
        good = [p for p in parts if p is not None]
        return float(np.mean(good)) if good else None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        speed = float(value)
        if not math.isfinite(speed):
            return None
        return speed if _PLAUSIBLE_KPH[0] <= speed <= _PLAUSIBLE_KPH[1] else None
    text = str(value).strip()
    if not text:
        return None
    if ";" in text or "|" in text:
        return parse_maxspeed(re.split(r"[;|]", text))
    match = _SPEED_RE.match(text)
    if match is None:
        return None
    speed = float(match.group(1).replace(",", "."))
    unit = (match.group(2) or "km/h").lower()
    if unit == "mph":
        speed *= _MPH_TO_KPH
    elif unit == "knots":
        speed *= _KNOT_TO_KPH
    return speed if _PLAUSIBLE_KPH[0] <= speed <= _PLAUSIBLE_KPH[1] else None


def class_speed_kph(
    highway: Any, *, speeds_kph: Mapping[str, float], fallback_kph: float
) -> float:
    """Default speed of an edge's ``highway`` class (the fastest one if it lists several)."""
    known = [float(speeds_kph[h]) for h in tag_values(highway) if h in speeds_kph]
    return max(known) if known else float(fallback_kph)


def add_speeds_and_times(
    G: nx.MultiDiGraph,
    *,
    speeds_kph: Mapping[str, float] | None = None,
    fallback_kph: float | None = None,
) -> nx.MultiDiGraph:
    """Set ``speed_kph``, ``speed_source`` and ``travel_time`` (s) on every edge, in place.

    Parameters
    ----------
    G
        Graph whose edges carry ``length`` (m), ``highway`` and optionally ``maxspeed``.
    speeds_kph
        Class → default speed; ``roads.speeds_kph`` of ``config/config.yaml`` when ``None``.
    fallback_kph
        Speed of classes missing from ``speeds_kph``; the slowest configured speed when ``None``.

    Returns
    -------
    networkx.MultiDiGraph
        ``G`` itself.
    """
    speeds = dict(default("roads", "speeds_kph") if speeds_kph is None else speeds_kph)
    fallback = float(min(speeds.values()) if fallback_kph is None else fallback_kph)
    for _, _, data in G.edges(data=True):
        parsed = parse_maxspeed(data.get("maxspeed"))
        if parsed is not None:
            data["speed_kph"], data["speed_source"] = parsed, "maxspeed"
        else:
            data["speed_kph"] = class_speed_kph(
                data.get("highway"), speeds_kph=speeds, fallback_kph=fallback
            )
            data["speed_source"] = "class_default"
        data["travel_time"] = float(data["length"]) / (data["speed_kph"] / 3.6)
    return G
