"""Scenario edits: parse and check the ``scenarios`` mapping of the config, read their geometry.

A scenario is ``name → {cluster, description, edits_quality, edits: [...]}``; every edit is a
mapping with a ``type`` and the keys of that type (``docs/scenarios.md``):

============================  =========  ==========================================================
type                          touches    keys (required in bold)
============================  =========  ==========================================================
``add_roads``                 roads      **path**, **snap_tolerance_m**, layer, where, highway,
                                         maxspeed, oneway
``close_roads``               roads      **ids** or **path** (polygons), layer, where
``change_speed``              roads      **highway** or **path** (polygons); **speed_kph** or
                                         **factor**; layer, where
``close_border_gaps``         roads      **top_n**, link_speed_kph
``restore_landcover``         landcover  **path** (polygons), **class**, layer, where
``add_barrier``               resistance **path** (polygons or lines), **resistance**, width_m,
                                         layer, where
``restore_barriers``          resistance **top_n**, resistance
============================  =========  ==========================================================

What a scenario touches decides what the workflow recomputes for it: road edits re-run the road
graph and everything on it (surfaces, OD, accessibility, crossings, metrics) and reuse the
baseline's ecological network; land-cover edits re-run MSPA, sources, resistance, corridors and
circuit; resistance edits re-run resistance, corridors and circuit (sources are reused). Every
message names the scenario and the edit (1-based) it is about.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
from shapely.geometry.base import BaseGeometry

from agglonet.crs import working_crs
from agglonet.ecology.landcover import CLASS_CODES
from agglonet.errors import ConfigError
from agglonet.quality import MEASURED, QUALITY_LEVELS

logger = logging.getLogger(__name__)

#: Edits on the road graph.
ROAD_EDITS = ("add_roads", "close_roads", "change_speed", "close_border_gaps")
#: Edits on the land cover (habitat and resistance follow).
LANDCOVER_EDITS = ("restore_landcover",)
#: Edits on the resistance surface only.
RESISTANCE_EDITS = ("add_barrier", "restore_barriers")
EDIT_TYPES = (*ROAD_EDITS, *LANDCOVER_EDITS, *RESISTANCE_EDITS)
#: Keys each edit type accepts (besides ``type``).
EDIT_KEYS: dict[str, tuple[str, ...]] = {
    "add_roads": ("path", "layer", "where", "snap_tolerance_m", "highway", "maxspeed", "oneway"),
    "close_roads": ("ids", "path", "layer", "where"),
    "change_speed": ("highway", "path", "layer", "where", "speed_kph", "factor"),
    "close_border_gaps": ("top_n", "link_speed_kph"),
    "restore_landcover": ("path", "layer", "where", "class"),
    "add_barrier": ("path", "layer", "where", "resistance", "width_m"),
    "restore_barriers": ("top_n", "resistance"),
}
#: Geometry an edit's file must hold.
EDIT_GEOMETRY: dict[str, tuple[str, ...]] = {
    "add_roads": ("LineString",),
    "close_roads": ("Polygon",),
    "change_speed": ("Polygon",),
    "restore_landcover": ("Polygon",),
    "add_barrier": ("Polygon", "LineString"),
}
#: Names a scenario may not take: the diff tables call the run without edits ``baseline``, and
#: ``comparison`` is the cluster's table of all scenarios.
RESERVED_NAMES = ("baseline", "comparison")
#: Suffixes of the vector files an edit may read.
VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".fgb")


@dataclasses.dataclass(frozen=True)
class Edit:
    """One edit of a scenario.

    Attributes
    ----------
    scenario
        Name of its scenario.
    index
        Position in the scenario's ``edits`` list, from 1.
    kind
        The edit ``type``.
    options
        Its keys (without ``type``).
    """

    scenario: str
    index: int
    kind: str
    options: Mapping[str, Any]

    @property
    def label(self) -> str:
        """How messages name the edit: ``scenario 'x', edit 2 (add_roads)``."""
        return f"scenario {self.scenario!r}, edit {self.index} ({self.kind})"

    def get(self, key: str, default: Any = None) -> Any:
        """Return an option, or ``default`` when it is not given (or null)."""
        value = self.options.get(key)
        return default if value is None else value


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A named list of edits to one cluster's baseline."""

    name: str
    cluster: str
    edits: tuple[Edit, ...]
    description: str = ""
    edits_quality: str = MEASURED

    @property
    def touches_roads(self) -> bool:
        """Whether the road graph changes (and everything on it is recomputed)."""
        return any(e.kind in ROAD_EDITS for e in self.edits)

    @property
    def touches_landcover(self) -> bool:
        """Whether land cover changes (MSPA, sources and all after them are recomputed)."""
        return any(e.kind in LANDCOVER_EDITS for e in self.edits)

    @property
    def touches_ecology(self) -> bool:
        """Whether the resistance surface changes (corridors and circuit are recomputed)."""
        return any(e.kind in (*LANDCOVER_EDITS, *RESISTANCE_EDITS) for e in self.edits)

    @property
    def kind(self) -> str:
        """``roads``, ``ecology``, ``roads+ecology`` or ``none`` (no edit)."""
        parts = [p for p, on in (("roads", self.touches_roads),
                                 ("ecology", self.touches_ecology)) if on]
        return "+".join(parts) or "none"

    def files(self) -> list[str]:
        """Paths of the vector files the edits read (in edit order, no repeats)."""
        return list(dict.fromkeys(str(e.options["path"]) for e in self.edits
                                  if e.options.get("path")))

    def edits_of(self, kinds: Iterable[str]) -> list[Edit]:
        """Return the edits of the given types, in order."""
        kinds = tuple(kinds)
        return [e for e in self.edits if e.kind in kinds]


def parse_scenarios(
    mapping: Mapping[str, Any] | None, *, speeds_kph: Mapping[str, float] | None = None,
) -> dict[str, Scenario]:
    """Parse the ``scenarios`` config mapping; check every edit's keys and values.

    Parameters
    ----------
    mapping
        ``config["scenarios"]``: name → ``{cluster, description, edits_quality, edits}``.
    speeds_kph
        ``roads.speeds_kph``: the classes an added road may name without a ``maxspeed``
        (``scgraph`` is always known).

    Returns
    -------
    dict
        Name → :class:`Scenario`, in the config's order.

    Raises
    ------
    ConfigError
        Listing every problem: a reserved name, an unknown edit type or key, a missing key, an
        unknown land-cover or road class, a bad number, two scenarios with the same edits.
    """
    problems: list[str] = []
    out: dict[str, Scenario] = {}
    for name, spec in (mapping or {}).items():
        if name in RESERVED_NAMES:
            problems.append(f"scenario {name!r}: the name is reserved ({', '.join(RESERVED_NAMES)}"
                            " name the run without edits and the comparison table); expected "
                            "another name")
            continue
        spec = spec or {}
        quality = spec.get("edits_quality") or MEASURED
        if quality not in QUALITY_LEVELS:
            problems.append(f"scenario {name!r}: edits_quality {quality!r} is unknown; expected "
                            f"one of {', '.join(QUALITY_LEVELS)}")
        edits = []
        for i, raw in enumerate(spec.get("edits") or [], start=1):
            raw = dict(raw or {})
            kind = raw.pop("type", None)
            edit = Edit(name, i, str(kind), raw)
            problems += _edit_problems(edit, speeds_kph=speeds_kph)
            edits.append(edit)
        out[name] = Scenario(name=name, cluster=str(spec.get("cluster", "")), edits=tuple(edits),
                             description=str(spec.get("description") or ""),
                             edits_quality=quality)
    problems += duplicate_problems(out.values())
    if problems:
        raise ConfigError(_join(problems))
    return out


def _join(problems: Sequence[str]) -> str:
    if len(problems) == 1:
        return problems[0]
    return f"{len(problems)} problems in config.scenarios:\n" + "\n".join(
        f"  - {p}" for p in problems)


def _edit_problems(edit: Edit, *, speeds_kph: Mapping[str, float] | None) -> list[str]:
    """Problems of one edit's keys and values (no file is read)."""
    if edit.kind not in EDIT_TYPES:
        return [f"{edit.label}: unknown edit type; expected one of {', '.join(EDIT_TYPES)}"]
    opts, label = edit.options, edit.label
    problems = [f"{label}: unknown key {k!r}; {edit.kind} takes "
                f"{', '.join(EDIT_KEYS[edit.kind])}" for k in opts if k not in EDIT_KEYS[edit.kind]]

    def need(*keys: str, one_of: bool = False) -> None:
        given = [k for k in keys if opts.get(k) is not None]
        if one_of and len(given) != 1:
            problems.append(f"{label}: give exactly one of {' or '.join(keys)} (got "
                            f"{', '.join(given) or 'none'})")
        elif not one_of:
            problems.extend(f"{label}: {k} is missing" for k in keys if k not in given)

    def positive(key: str, *, integer: bool = False) -> None:
        value = opts.get(key)
        if value is None:
            return
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
        if integer:
            ok = ok and float(value).is_integer()
        if not ok:
            problems.append(f"{label}: {key} is {value!r}; expected a "
                            f"{'whole number ≥ 1' if integer else 'number > 0'}")

    kind = edit.kind
    if kind == "add_roads":
        need("path", "snap_tolerance_m")
        positive("snap_tolerance_m")
        positive("maxspeed")
        highway = opts.get("highway")
        if highway is not None and speeds_kph is not None and opts.get("maxspeed") is None \
                and highway not in speeds_kph and highway != "scgraph":
            problems.append(f"{label}: highway class {highway!r} has no speed in "
                            f"roads.speeds_kph; expected one of "
                            f"{', '.join([*speeds_kph, 'scgraph'])}, or give maxspeed")
    elif kind == "close_roads":
        need("ids", "path", one_of=True)
        if opts.get("ids") is not None and not opts["ids"]:
            problems.append(f"{label}: ids is empty; expected at least one road id")
    elif kind == "change_speed":
        need("highway", "path", one_of=True)
        need("speed_kph", "factor", one_of=True)
        positive("speed_kph")
        positive("factor")
    elif kind in ("close_border_gaps", "restore_barriers"):
        need("top_n")
        positive("top_n", integer=True)
        positive("link_speed_kph")
        positive("resistance")
    elif kind == "restore_landcover":
        need("path", "class")
        cls = opts.get("class")
        if cls is not None and cls not in CLASS_CODES:
            problems.append(f"{label}: land-cover class {cls!r} is unknown; expected one of "
                            f"{', '.join(CLASS_CODES)}")
    elif kind == "add_barrier":
        need("path", "resistance")
        positive("resistance")
        width = opts.get("width_m")
        if width is not None and (not isinstance(width, int | float) or width < 0):
            problems.append(f"{label}: width_m is {width!r}; expected a number ≥ 0")
    where = opts.get("where")
    if where is not None and not isinstance(where, Mapping):
        problems.append(f"{label}: where is {where!r}; expected a mapping column → value(s)")
    return problems


def edits_key(scenario: Scenario) -> str:
    """Canonical text of a scenario's cluster and edits (two equal keys: the same scenario)."""
    return json.dumps([scenario.cluster, [[e.kind, dict(sorted(e.options.items()))]
                                          for e in scenario.edits]], sort_keys=True, default=str)


def duplicate_problems(scenarios: Iterable[Scenario]) -> list[str]:
    """One problem per scenario whose cluster and edits repeat an earlier scenario's."""
    seen: dict[str, str] = {}
    problems = []
    for scenario in scenarios:
        key = edits_key(scenario)
        if key in seen:
            problems.append(f"scenario {scenario.name!r} has the same edits as scenario "
                            f"{seen[key]!r} (cluster {scenario.cluster!r}); expected each "
                            "scenario to differ: remove one or change its edits")
        else:
            seen[key] = scenario.name
    return problems


# ------------------------------------------------------------------------------- geometry
def resolve_path(path: str | Path, workdir: str | Path = ".") -> Path:
    """Return an edit's path: absolute, or relative to the working directory."""
    path = Path(os.path.expanduser(str(path)))
    return path if path.is_absolute() else Path(workdir) / path


def read_edit_geometry(edit: Edit, *, crs: Any, workdir: str | Path = ".") -> gpd.GeoDataFrame:
    """Read the features of an edit's ``path`` (``layer``, ``where``) in the working CRS.

    Raises
    ------
    ConfigError
        If the file is missing or unreadable, has no CRS, selects no feature, holds an empty
        geometry (or a polygon of zero area), or geometry of the wrong type for the edit.
    """
    label = edit.label
    shown = str(edit.options["path"])
    path = resolve_path(shown, workdir)
    if not path.is_file():
        raise ConfigError(f"{label}: path {shown!r} does not exist; expected a GeoPackage or "
                          "GeoJSON (relative paths start at the working directory)")
    if path.suffix.lower() not in VECTOR_SUFFIXES:
        raise ConfigError(f"{label}: path {shown!r} has type {path.suffix!r}; expected one of "
                          f"{', '.join(VECTOR_SUFFIXES)}")
    try:
        frame = pyogrio.read_dataframe(path, layer=edit.get("layer"))
    except Exception as exc:  # pyogrio raises DataSourceError, DataLayerError, ... (no base)
        raise ConfigError(f"{label}: path {shown!r} cannot be read "
                          f"({str(exc).splitlines()[0]}); expected a vector file of "
                          f"{' or '.join(EDIT_GEOMETRY[edit.kind])}s") from None
    if frame.crs is None:
        raise ConfigError(f"{label}: path {shown!r} has no CRS; expected a georeferenced file "
                          "(GeoJSON is WGS84 by definition)")
    frame = _select(frame, edit.get("where"), label=label, shown=shown)
    if frame.empty:
        raise ConfigError(f"{label}: path {shown!r} holds no feature"
                          f"{' matching where' if edit.get('where') else ''}; expected at least "
                          "one")
    frame = frame.to_crs(working_crs(crs)).reset_index(drop=True)
    expected = EDIT_GEOMETRY[edit.kind]
    for i, geom in enumerate(frame.geometry):
        base = None if geom is None else geom.geom_type.replace("Multi", "")
        if geom is None or geom.is_empty or (base == "Polygon" and geom.area <= 0) or \
                (base == "LineString" and geom.length <= 0):
            raise ConfigError(f"{label}: feature {i + 1} of {shown!r} is an empty "
                              f"{base or 'geometry'}; expected a {' or '.join(expected)} with "
                              "extent")
        if base not in expected:
            raise ConfigError(f"{label}: feature {i + 1} of {shown!r} is a {geom.geom_type}; "
                              f"expected {' or '.join(expected)}")
    return frame


def _select(frame: gpd.GeoDataFrame, where: Mapping[str, Any] | None, *, label: str,
            shown: str) -> gpd.GeoDataFrame:
    """Rows whose columns equal the ``where`` values (a list: any of them)."""
    for column, wanted in (where or {}).items():
        if column not in frame.columns:
            raise ConfigError(f"{label}: where names column {column!r}, which {shown!r} does not "
                              f"have; its columns: {', '.join(map(str, frame.columns))}")
        values = wanted if isinstance(wanted, list) else [wanted]
        frame = frame[frame[column].astype(str).isin([str(v) for v in values])]
    return frame


def check_inside(frame: gpd.GeoDataFrame, area: BaseGeometry, *, edit: Edit,
                 cluster: str) -> None:
    """Raise :class:`ConfigError` for a feature lying (even in part) outside ``area``.

    ``area`` is the cluster plus ``retrieve.buffer_km``: the extent of the road graph and of
    the grid, where an edit can take effect.
    """
    for i, geom in enumerate(frame.geometry):
        if area.covers(geom):
            continue
        outside = geom.difference(area)
        x, y = outside.representative_point().coords[0]
        amount = (f"{outside.area / 1e6:.3g} km²" if outside.area > 0
                  else f"{outside.length / 1000:.3g} km")
        raise ConfigError(f"{edit.label}: feature {i + 1} of {edit.options['path']!r} lies "
                          f"outside cluster {cluster!r} and its buffer ({amount} outside, e.g. "
                          f"at x={x:.0f}, y={y:.0f} in the working CRS); expected geometry "
                          "inside the cluster's road and grid area")


def check_scenario_geometry(
    scenario: Scenario, *, area: BaseGeometry, crs: Any, workdir: str | Path = ".",
) -> list[str]:
    """Problems of a scenario's geometry: files, empty features, features outside ``area``.

    Returns one message per bad edit (the first problem of each).
    """
    problems = []
    for edit in scenario.edits:
        if not edit.options.get("path"):
            continue
        try:
            frame = read_edit_geometry(edit, crs=crs, workdir=workdir)
            check_inside(frame, area, edit=edit, cluster=scenario.cluster)
        except ConfigError as exc:
            problems.append(str(exc))
    return problems


def scenario_table(scenarios: Mapping[str, Scenario]) -> pd.DataFrame:
    """One row per scenario: name, cluster, kind, number of edits, description (for listings)."""
    return pd.DataFrame([{"scenario": s.name, "cluster": s.cluster, "kind": s.kind,
                          "n_edits": len(s.edits), "edits_quality": s.edits_quality,
                          "description": s.description} for s in scenarios.values()],
                        columns=["scenario", "cluster", "kind", "n_edits", "edits_quality",
                                 "description"])


def edit_geometries(
    scenario: Scenario, edits: Iterable[Edit], *, crs: Any, area: BaseGeometry | None = None,
    workdir: str | Path = ".",
) -> dict[int, gpd.GeoDataFrame]:
    """Read the features of the edits that have a ``path`` (edit index → features).

    With ``area``, every feature must lie inside it (:func:`check_inside`).
    """
    out = {}
    for edit in edits:
        if edit.options.get("path"):
            frame = read_edit_geometry(edit, crs=crs, workdir=workdir)
            if area is not None:
                check_inside(frame, area, edit=edit, cluster=scenario.cluster)
            out[edit.index] = frame
    return out


def one_scenario(name: str, spec: Mapping[str, Any], *,
                 speeds_kph: Mapping[str, float] | None = None) -> Scenario:
    """Parse one scenario (a rule's ``params``) with :func:`parse_scenarios`."""
    return parse_scenarios({name: spec}, speeds_kph=speeds_kph)[name]
