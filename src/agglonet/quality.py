"""The one quality fact of a run: how far its results can be trusted, decided once.

Every table, layer, map and report that rests on the roads or on coarse inputs says which of three
levels it has:

``measured``
    Real inputs at the working resolution: OSM roads with their classes and speeds (``osm``,
    ``pbf``, a user ``file``) and land cover / elevation no coarser than the grid.
``approximate``
    Real geometry with assumptions: the simplified OSM network of ``scgraph`` (no road classes,
    so speeds are assumed), or a land cover / DEM much coarser than the grid
    (:data:`COARSE_FACTOR`).
``illustrative``
    The synthetic proxy road network: the numbers show the method, not findings.

:func:`decide_quality` makes the decision from what the run actually used (the road network's
report and the inputs' native resolutions); the workflow writes it to
``results/{cluster}/quality.json`` and every later stage reads it from there
(:func:`read_quality`), never from the config.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agglonet.errors import DataError
from agglonet.io import write_json

MEASURED = "measured"
APPROXIMATE = "approximate"
ILLUSTRATIVE = "illustrative"
#: Quality levels, best first.
QUALITY_LEVELS: tuple[str, ...] = (MEASURED, APPROXIMATE, ILLUSTRATIVE)

#: Quality of the road-based results by ``roads.source``.
ROAD_SOURCE_QUALITY: dict[str, str] = {
    "osm": MEASURED,
    "pbf": MEASURED,
    "file": MEASURED,
    "scgraph": APPROXIMATE,
    "proxy": ILLUSTRATIVE,
}
#: An input is "coarse" when its native cell is more than this many times the grid's cell.
COARSE_FACTOR = 2.0

_ROAD_REASONS = {
    MEASURED: "",
    APPROXIMATE: "roads: real simplified OSM network without road classes; speeds are assumed",
    ILLUSTRATIVE: "roads: synthetic proxy network; results illustrate the method, not findings",
}


@dataclasses.dataclass(frozen=True)
class QualityFact:
    """The quality of one cluster's results.

    Attributes
    ----------
    roads_source
        ``roads.source`` the run used (``osm``, ``pbf``, ``file``, ``scgraph``, ``proxy``).
    transport_quality
        Level of everything that rests on the roads (OD times, accessibility, road indices).
    ecology_quality
        Level of the ecological network (land cover, DEM).
    coarse_inputs
        Inputs whose native resolution is coarser than :data:`COARSE_FACTOR` × the grid, with
        their native resolution in metres.
    grid_resolution_m
        Cell size of the cluster grid.
    reasons
        One sentence per cause of a level below ``measured``.
    """

    roads_source: str
    transport_quality: str
    ecology_quality: str
    coarse_inputs: dict[str, float]
    grid_resolution_m: float | None
    reasons: tuple[str, ...]

    @property
    def quality(self) -> str:
        """The overall level: the worse of the transport and ecology levels."""
        return worst(self.transport_quality, self.ecology_quality)

    @property
    def illustrative(self) -> bool:
        """Whether any result rests on the synthetic proxy."""
        return self.quality == ILLUSTRATIVE

    def transport_labels(self) -> dict[str, str]:
        """Columns that label every road-based table and layer: ``roads_source`` and ``quality``.

        ``quality`` is the transport level (the roads decide it), not the overall one.
        """
        return {"roads_source": self.roads_source, "quality": self.transport_quality}

    def to_dict(self) -> dict[str, Any]:
        """Return the fact as JSON-ready data (with the overall ``quality``)."""
        data = dataclasses.asdict(self)
        data["reasons"] = list(self.reasons)
        data["quality"] = self.quality
        return data


def worst(*levels: str) -> str:
    """Return the worst of several quality levels.

    Raises
    ------
    DataError
        If a level is not one of :data:`QUALITY_LEVELS`.
    """
    for level in levels:
        if level not in QUALITY_LEVELS:
            raise DataError(f"quality level {level!r} is unknown; expected one of "
                            f"{', '.join(QUALITY_LEVELS)}")
    return max(levels, key=QUALITY_LEVELS.index) if levels else MEASURED


def road_quality(roads_source: str) -> str:
    """Return the quality level of results on a road source.

    Raises
    ------
    DataError
        If the road source is unknown.
    """
    try:
        return ROAD_SOURCE_QUALITY[roads_source]
    except KeyError:
        raise DataError(f"road source {roads_source!r} is unknown; expected one of "
                        f"{', '.join(ROAD_SOURCE_QUALITY)}") from None


def decide_quality(
    *,
    roads_source: str,
    input_resolutions_m: Mapping[str, float | None] | None = None,
    grid_resolution_m: float | None = None,
    coarse_factor: float = COARSE_FACTOR,
) -> QualityFact:
    """Decide the quality fact of a run from the inputs it used.

    Parameters
    ----------
    roads_source
        The road source recorded by the road-network stage.
    input_resolutions_m
        Native cell size in metres of each raster input of the ecological network
        (``landcover``, ``dem``); ``None`` values are unknown and not judged.
    grid_resolution_m
        Cell size of the cluster grid.
    coarse_factor
        Ratio native / grid above which an input counts as coarse.

    Returns
    -------
    QualityFact
        The decision, with a reason for every level below ``measured``.
    """
    transport = road_quality(roads_source)
    reasons = [_ROAD_REASONS[transport]] if _ROAD_REASONS[transport] else []
    coarse: dict[str, float] = {}
    if grid_resolution_m:
        for name, native_m in sorted((input_resolutions_m or {}).items()):
            if native_m is not None and native_m > coarse_factor * grid_resolution_m:
                coarse[name] = round(float(native_m), 1)
                reasons.append(f"{name}: native resolution ≈ {native_m / 1000:.3g} km, "
                               f"{native_m / grid_resolution_m:.3g}× coarser than the "
                               f"{grid_resolution_m / 1000:.3g} km grid")
    ecology = APPROXIMATE if coarse else MEASURED
    return QualityFact(roads_source=roads_source, transport_quality=transport,
                       ecology_quality=ecology, coarse_inputs=coarse,
                       grid_resolution_m=grid_resolution_m, reasons=tuple(reasons))


def write_quality(path: str | Path, fact: QualityFact) -> Path:
    """Write ``quality.json`` (atomically)."""
    return write_json(path, fact.to_dict())


def read_quality(path: str | Path) -> QualityFact:
    """Read a fact written by :func:`write_quality`.

    Raises
    ------
    DataError
        If the file is missing or not a quality fact.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"quality fact {path} does not exist; it is written by rule quality")
    data = json.loads(path.read_text(encoding="utf-8"))
    try:
        return QualityFact(roads_source=data["roads_source"],
                           transport_quality=data["transport_quality"],
                           ecology_quality=data["ecology_quality"],
                           coarse_inputs=dict(data.get("coarse_inputs", {})),
                           grid_resolution_m=data.get("grid_resolution_m"),
                           reasons=tuple(data.get("reasons", ())))
    except (KeyError, TypeError) as exc:
        raise DataError(f"{path} is not a quality fact (missing {exc})") from exc
