"""One row of connectivity metrics per cluster, computed from the stage outputs.

Every column is defined in ``docs/metrics.md``. Pair and city measures are recomputed from the
transport tables (``od.csv``, ``accessibility.csv``) and counts, lengths and areas from the
ecology layers, so each figure can be traced to a file; the graph indices, IIC/PC/ECA and the
data sources are taken from the stage summaries (``transport_summary.json``,
``ecology_summary.json``), which are the only place they exist. Where a summary also reports a
figure recomputed here, a mismatch is logged as a warning.

No stage is re-run here.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from agglonet.crs import working_crs
from agglonet.ecology.summary import check_source_area
from agglonet.errors import CRSError, DataError
from agglonet.metrics.border_effect import (
    BORDER_METRIC_COLUMNS,
    border_effect_metrics,
    border_gap_metrics,
    check_summary,
)
from agglonet.metrics.ecology_tables import cross_border_shares
from agglonet.metrics.structure import STRUCTURE_METRIC_COLUMNS, structure_metrics
from agglonet.quality import QualityFact
from agglonet.retrieve.census import summarise_sources, summarise_years

logger = logging.getLogger(__name__)

def daily_share_column(hours: float) -> str:
    """Daily-accessibility share column for a threshold (``2`` → ``daily_access_2h_share``)."""
    h = float(hours)
    text = str(int(h)) if h.is_integer() else f"{h:g}"
    return f"daily_access_{text}h_share"


def metric_columns(daily_thresholds_h: Sequence[float] = (1, 2, 3)) -> list[str]:
    """Column order of ``metrics.csv`` for the given daily-accessibility thresholds (2 h always)."""
    hours = sorted({float(h) for h in daily_thresholds_h} | {2.0})
    return [
        "cluster", "name_en", "name_zh", "n_cities", "area_km2", "population",
        "population_year", "population_source", "od_mean_travel_time_min", "watt_mean_min",
        "access_coef_cv",
        *[daily_share_column(h) for h in hours],
        "mean_straightness", "global_efficiency", "harmonic_efficiency", "detour_index_mean",
        "n_od_pairs", "n_unreachable_pairs",
        *BORDER_METRIC_COLUMNS,
        "road_alpha", "road_beta", "road_gamma", "road_n_nodes", "road_n_edges",
        "eco_n_sources", "eco_source_area_km2", "eco_source_area_in_cluster_km2",
        "eco_source_in_cluster_share", "eco_largest_source_share", "eco_source_share",
        "eco_n_corridors", "eco_corridor_length_km", "eco_cross_border_corridor_share",
        "eco_cross_border_corridor_length_share", "eco_alpha", "eco_beta", "eco_gamma",
        "eco_n_loops", "eco_landscape_area_km2", "eco_iic", "eco_pc", "eco_eca_km2",
        "eco_n_pinch_zones", "eco_pinch_zone_area_km2",
        "n_road_crossings", "road_length_in_corridors_km",
        *STRUCTURE_METRIC_COLUMNS,
        "roads_source", "landcover_source", "quality", "transport_quality", "ecology_quality",
        "coarse_inputs",
    ]


def _get(summary: Mapping[str, Any], key: str, *, what: str) -> Any:
    if key not in summary:
        raise DataError(f"{what} has no key {key!r} (keys: {sorted(summary)})")
    value = summary[key]
    return math.nan if value is None else value


def table_rtol(float_precision: int) -> float:
    """Relative tolerance of a figure recomputed from tables written with ``float_precision``.

    A value written with p significant digits is off by at most half a unit in its last digit,
    a relative h = 0.5·10^(1−p); a ratio of two such values (E/D), a sum of such ratios and a
    ratio of such sums (global efficiency) by at most 2h/(1 − h), just above 10^(1−p). The
    tolerance is 2·10^(1−p): a clean run never warns, a real disagreement (a figure computed
    differently in two places) still does.

    Examples
    --------
    >>> table_rtol(6)
    2e-05
    """
    if float_precision < 1:
        raise DataError(f"metrics.float_precision must be >= 1, got {float_precision}")
    return 2.0 * 10.0 ** (1 - float_precision)


def _check(name: str, ours: float, summary: Mapping[str, Any], key: str, *, what: str,
           rtol: float) -> None:
    """Warn when a stage summary disagrees with the value recomputed from the tables."""
    theirs = summary.get(key)
    if theirs is None or not isinstance(theirs, (int, float)):
        return
    if not np.isclose(float(theirs), float(ours), rtol=rtol, atol=0.0, equal_nan=True):
        logger.warning("%s: %s says %s = %r, recomputed %r from the tables (relative "
                       "tolerance %g)", name, what, key, theirs, ours, rtol)


def _metric_area_km2(gdf: gpd.GeoDataFrame, *, what: str) -> float:
    try:
        working_crs(gdf.crs)
    except CRSError as err:
        raise CRSError(f"{what}: areas need a projected metric CRS: {err}") from err
    return float(gdf.geometry.area.sum()) / 1e6


def _reachable(od: pd.DataFrame) -> np.ndarray:
    times = pd.to_numeric(od["travel_time_min"], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(times)
    if "reachable" in od.columns:
        flag = od["reachable"].map(lambda v: str(v).strip().lower() in {"true", "1", "1.0"})
        ok &= flag.to_numpy(dtype=bool)
    return ok


def transport_metrics(
    *,
    accessibility: pd.DataFrame,
    od: pd.DataFrame,
    transport_summary: Mapping[str, Any],
    daily_thresholds_h: Sequence[float],
    float_precision: int = 6,
) -> dict[str, Any]:
    """Cluster-level transport figures from ``accessibility.csv``, ``od.csv`` and the summary.

    Parameters
    ----------
    accessibility
        One row per city: ``watt_min``, ``access_coef``, ``daily_access_{h}h_share``.
    od
        One row per origin–destination pair (rows with origin = destination are ignored):
        ``travel_time_min``, ``network_km``, ``euclid_km``, ``detour_index``, and optionally
        ``reachable`` and the border columns ``cross_province``, ``n_city_borders``
        (:func:`agglonet.metrics.border_effect.border_effect_metrics`; NaN without them).
    transport_summary
        ``road_alpha``, ``road_beta``, ``road_gamma``, ``roads_source`` (``road_n_nodes``,
        ``road_n_edges`` optional).
    daily_thresholds_h
        Thresholds whose share columns to average.
    float_precision
        Significant digits the tables were written with (``metrics.float_precision``): figures
        the summary also reports are compared at :func:`table_rtol` of it, and a mismatch is
        logged as a warning.

    Returns
    -------
    dict
        The transport columns of :func:`metric_columns`.

    Raises
    ------
    DataError
        If a needed column or summary key is missing, or the OD table is empty.
    """
    need_od = {"travel_time_min", "network_km", "euclid_km", "detour_index"}
    if missing := sorted(need_od - set(od.columns)):
        raise DataError(f"od.csv lacks columns {missing}; expected {sorted(need_od)}")
    if {"origin_adcode", "dest_adcode"} <= set(od.columns):
        od = od[od["origin_adcode"].astype(str) != od["dest_adcode"].astype(str)]
    if od.empty:
        raise DataError("od.csv has no origin–destination pairs between different cities")
    ok = _reachable(od)
    time_min = pd.to_numeric(od["travel_time_min"], errors="coerce").to_numpy(dtype=float)
    network_km = pd.to_numeric(od["network_km"], errors="coerce").to_numpy(dtype=float)
    euclid_km = pd.to_numeric(od["euclid_km"], errors="coerce").to_numpy(dtype=float)
    detour = pd.to_numeric(od["detour_index"], errors="coerce").to_numpy(dtype=float)
    # Unreachable pairs contribute 0 to straightness and efficiencies (E/∞ = 1/∞ = 0), as
    # Latora & Marchiori (2001) count disconnected pairs.
    with np.errstate(divide="ignore", invalid="ignore"):
        straightness = np.where(ok & (network_km > 0), euclid_km / network_km, 0.0)
        inverse_km = np.where(ok & (network_km > 0), 1.0 / network_km, 0.0)
        ideal_km = np.where(euclid_km > 0, 1.0 / euclid_km, 0.0)
        inverse_time = np.where(ok & (time_min > 0), 1.0 / time_min, 0.0)
    out: dict[str, Any] = {
        "od_mean_travel_time_min": float(np.mean(time_min[ok])) if ok.any() else math.nan,
        "mean_straightness": float(np.mean(straightness)),
        "global_efficiency": float(inverse_km.sum() / ideal_km.sum()) if ideal_km.sum() > 0
        else math.nan,
        "harmonic_efficiency": float(np.mean(inverse_time)),
        "detour_index_mean": float(np.nanmean(detour[ok])) if ok.any() else math.nan,
        "n_od_pairs": len(od),
        "n_unreachable_pairs": int((~ok).sum()),
        **border_effect_metrics(od, reachable=ok),
    }

    need_acc = {"watt_min", "access_coef"}
    if missing := sorted(need_acc - set(accessibility.columns)):
        raise DataError(f"accessibility.csv lacks columns {missing}; expected {sorted(need_acc)}")
    watt = pd.to_numeric(accessibility["watt_min"], errors="coerce")
    coef = pd.to_numeric(accessibility["access_coef"], errors="coerce").dropna()
    out["watt_mean_min"] = float(watt.mean()) if watt.notna().any() else math.nan
    # coefficient of variation across cities, population standard deviation (ddof = 0)
    out["access_coef_cv"] = (float(coef.std(ddof=0) / coef.mean())
                             if len(coef) and coef.mean() != 0 else math.nan)
    for h in sorted({float(h) for h in daily_thresholds_h} | {2.0}):
        col = daily_share_column(h)
        if col in accessibility.columns:
            out[col] = float(pd.to_numeric(accessibility[col], errors="coerce").mean())
        else:
            if h in {float(x) for x in daily_thresholds_h}:
                raise DataError(f"accessibility.csv lacks column {col!r} for threshold {h:g} h")
            logger.warning("%s not in accessibility.csv (2 h not among the thresholds): NaN", col)
            out[col] = math.nan

    what = "transport_summary.json"
    for key in ("road_alpha", "road_beta", "road_gamma"):
        out[key] = float(_get(transport_summary, key, what=what))
    for key in ("road_n_nodes", "road_n_edges"):
        value = transport_summary.get(key)
        out[key] = int(value) if value is not None else math.nan
    rtol = table_rtol(float_precision)
    for key in ("od_mean_travel_time_min", "mean_straightness", "global_efficiency",
                "harmonic_efficiency", "detour_index_mean"):
        _check(key, out[key], transport_summary, key, what=what, rtol=rtol)
    return out


def ecology_metrics(
    *,
    cluster_polygon: gpd.GeoDataFrame,
    sources: gpd.GeoDataFrame,
    corridors: gpd.GeoDataFrame,
    pinch_points: gpd.GeoDataFrame,
    road_crossings: gpd.GeoDataFrame,
    ecology_summary: Mapping[str, Any],
    cities: gpd.GeoDataFrame | None = None,
) -> dict[str, Any]:
    """Cluster-level ecology and conflict figures from the ``ecology.gpkg`` layers and the summary.

    Two areas are in play, each named where it is used: the **cluster** (``area_km2``, the
    dissolved member polygons) for the source shares, and the **landscape** A_L
    (``eco_landscape_area_km2``: the land cells of the whole grid, cluster plus buffer) for
    IIC, PC and ECA.

    Parameters
    ----------
    cluster_polygon
        The dissolved cluster polygon (metric CRS), for the in-cluster source figures.
    sources, corridors, pinch_points, road_crossings
        Layers of ``results/{cluster}/ecology.gpkg`` (metric CRS; ``pinch_points`` holds the pinch
        zones, with ``area_km2``). ``road_crossings`` needs ``length_in_corridor_m``.
    ecology_summary
        ``alpha``, ``beta``, ``gamma``, ``mu``, ``iic``, ``pc``, ``eca_km2``,
        ``landcover_source``; ``landscape_area_km2`` (A_L, the land with land cover) bounds the
        source area.
    cities
        Member city polygons, for the cross-border shares (NaN without).

    Returns
    -------
    dict
        The ecology columns of :func:`metric_columns`.

    Raises
    ------
    DataError
        If the sources cover more than the landscape's land (sea taken for habitat).
    """
    what = "ecology_summary.json"
    cluster_km2 = _metric_area_km2(cluster_polygon, what="cluster polygon")
    source_km2 = _metric_area_km2(sources, what="sources") if len(sources) else 0.0
    land_km2 = ecology_summary.get("landscape_area_km2")
    check_source_area(source_km2, float(land_km2) if land_km2 is not None else None,
                      what="metrics (sources layer of ecology.gpkg)")
    if len(sources):
        clipped = shapely.intersection(
            shapely.union_all(sources.to_crs(cluster_polygon.crs).geometry.values),
            shapely.union_all(cluster_polygon.geometry.values),
        )
        inside_km2 = clipped.area / 1e6
        largest = float(sources.geometry.area.max()) / 1e6 / source_km2
    else:
        inside_km2, largest = 0.0, math.nan
    if len(road_crossings) and "length_in_corridor_m" not in road_crossings.columns:
        raise DataError("road_crossings layer lacks 'length_in_corridor_m'")
    zone_km2 = (_metric_area_km2(pinch_points, what="pinch zones")
                if len(pinch_points) and pinch_points.geom_type.str.contains("Polygon").all()
                else 0.0)
    out: dict[str, Any] = {
        "eco_n_sources": len(sources),
        "eco_source_area_km2": source_km2,
        "eco_source_area_in_cluster_km2": inside_km2,
        "eco_source_in_cluster_share": inside_km2 / source_km2 if source_km2 > 0 else math.nan,
        "eco_largest_source_share": largest,
        "eco_source_share": inside_km2 / cluster_km2 if cluster_km2 > 0 else math.nan,
        "eco_n_corridors": len(corridors),
        "eco_corridor_length_km": float(corridors.geometry.length.sum()) / 1000.0
        if len(corridors) else 0.0,
        "eco_n_pinch_zones": len(pinch_points),
        "eco_pinch_zone_area_km2": zone_km2,
        "n_road_crossings": len(road_crossings),
        "road_length_in_corridors_km": float(road_crossings["length_in_corridor_m"].sum())
        / 1000.0 if len(road_crossings) else 0.0,
    }
    if cities is not None and len(cities) and len(corridors):
        out.update(cross_border_shares(corridors, cities))
    else:
        out.update({"eco_cross_border_corridor_share": math.nan,
                    "eco_cross_border_corridor_length_share": math.nan})
    for key in ("alpha", "beta", "gamma", "iic", "pc", "eca_km2"):
        out[f"eco_{key}"] = float(_get(ecology_summary, key, what=what))
    mu = ecology_summary.get("mu")
    out["eco_n_loops"] = float(mu) if mu is not None else math.nan
    out["eco_landscape_area_km2"] = float(land_km2) if land_km2 is not None else math.nan
    out["landcover_source"] = str(_get(ecology_summary, "landcover_source", what=what))
    for key in ("n_sources", "source_area_km2", "n_corridors", "corridor_length_km",
                "n_pinch_zones", "pinch_zone_area_km2", "source_area_in_cluster_km2"):
        # read from the layers, not from rounded tables: compared at floating-point precision
        _check(f"eco_{key}", out[f"eco_{key}"], ecology_summary, key, what=what, rtol=1e-6)
    return out


def cluster_metrics(
    *,
    cluster: str,
    cities: gpd.GeoDataFrame,
    cluster_polygon: gpd.GeoDataFrame,
    seats: gpd.GeoDataFrame,
    accessibility: pd.DataFrame,
    od: pd.DataFrame,
    transport_summary: Mapping[str, Any],
    ecology_summary: Mapping[str, Any],
    sources: gpd.GeoDataFrame,
    corridors: gpd.GeoDataFrame,
    pinch_points: gpd.GeoDataFrame,
    road_crossings: gpd.GeoDataFrame,
    quality: QualityFact,
    daily_thresholds_h: Sequence[float] = (1, 2, 3),
    float_precision: int = 6,
    border_gaps: pd.DataFrame | None = None,
    structure_pairs: pd.DataFrame | None = None,
    structure_summary: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Return the one-row metrics table of a cluster (columns of :func:`metric_columns`).

    Parameters
    ----------
    cluster
        Cluster key.
    cities
        Member city polygons (``boundaries.gpkg`` layer ``cities``): ``n_cities`` = rows; the
        cross-border corridor shares.
    cluster_polygon
        ``boundaries.gpkg`` layer ``cluster`` (metric CRS): ``area_km2`` from its geometry;
        ``name_en``/``name_zh`` from its attributes when present.
    seats
        ``seats.gpkg`` layer ``seats``: ``population`` = sum of ``population``;
        ``population_year`` and ``population_source`` summarise the members' columns of the same
        names (:func:`agglonet.retrieve.census.summarise_years`, ``summarise_sources``).
    accessibility, od, transport_summary
        See :func:`transport_metrics`.
    ecology_summary, sources, corridors, pinch_points, road_crossings
        See :func:`ecology_metrics`.
    quality
        The run's quality fact (``roads_source``, ``quality``, ``transport_quality``,
        ``ecology_quality`` and ``coarse_inputs`` columns).
    daily_thresholds_h
        ``transport.daily_thresholds_h``.
    float_precision
        ``metrics.float_precision``, the precision of the tables (see :func:`transport_metrics`).
    border_gaps
        ``border_gaps.csv`` (:func:`agglonet.metrics.border_effect.border_gap_metrics`);
        ``None``: the gap counts are NaN.
    structure_pairs, structure_summary
        ``structure_pairs.csv`` and ``structure_summary.json`` of the industrial structure
        (:func:`agglonet.metrics.structure.structure_metrics`); ``None``: not measured.

    Returns
    -------
    pandas.DataFrame
        One row, columns in the fixed order of :func:`metric_columns`.
    """
    if "population" not in seats.columns:
        raise DataError(f"seats layer has no 'population' column (columns: {list(seats.columns)})")
    population = pd.to_numeric(seats["population"], errors="coerce")
    if population.isna().any():
        logger.warning("%d seats without population; summed as 0", int(population.isna().sum()))
    row: dict[str, Any] = {
        "cluster": cluster,
        "name_en": _first(cluster_polygon, "name_en"),
        "name_zh": _first(cluster_polygon, "name_zh"),
        "n_cities": len(cities),
        "area_km2": _metric_area_km2(cluster_polygon, what="cluster polygon"),
        "population": int(population.fillna(0).sum()),
        **population_provenance(seats),
    }
    row.update(transport_metrics(accessibility=accessibility, od=od,
                                 transport_summary=transport_summary,
                                 daily_thresholds_h=daily_thresholds_h,
                                 float_precision=float_precision))
    row.update(border_gap_metrics(border_gaps))
    for problem in check_summary(row, transport_summary):
        logger.warning("border gaps: %s", problem)
    row.update(structure_metrics(structure_pairs, structure_summary))
    row.update(ecology_metrics(cluster_polygon=cluster_polygon, sources=sources,
                               corridors=corridors, pinch_points=pinch_points,
                               road_crossings=road_crossings, ecology_summary=ecology_summary,
                               cities=cities))
    row["roads_source"] = quality.roads_source
    row["quality"] = quality.quality
    row["transport_quality"] = quality.transport_quality
    row["ecology_quality"] = quality.ecology_quality
    row["coarse_inputs"] = coarse_inputs_text(quality)
    columns = metric_columns(daily_thresholds_h)
    return pd.DataFrame([{c: row.get(c, math.nan) for c in columns}], columns=columns)


def population_provenance(seats: pd.DataFrame) -> dict[str, str]:
    """``population_year`` and ``population_source`` of a cluster, from its members' columns.

    ``population_year``: the year all members' populations share (``2020`` for the census),
    ``mixed`` if they differ or some have none, empty if none has one. ``population_source``:
    ``census2020`` when every member's population is a census value (``user``, ``geonames`` when
    all are of that kind), else the counts (``census2020 ×8, geonames ×1``). Seats without these
    columns (older runs) give empty cells.
    """
    years = seats["population_year"] if "population_year" in seats.columns else None
    sources = seats["population_source"] if "population_source" in seats.columns else None
    return {
        "population_year": summarise_years(years) if years is not None else "",
        "population_source": summarise_sources(sources.fillna("")) if sources is not None
        else "",
    }


def coarse_inputs_text(quality: QualityFact) -> str:
    """Return the ``coarse_inputs`` column: ``name native km`` per coarse input, ``;``-joined.

    Examples
    --------
    >>> from agglonet.quality import decide_quality
    >>> fact = decide_quality(roads_source="osm", grid_resolution_m=1000,
    ...                       input_resolutions_m={"landcover": 5340.2, "dem": 21360.9})
    >>> coarse_inputs_text(fact)
    'dem 21.4 km; landcover 5.34 km'
    """
    return "; ".join(f"{name} {native_m / 1000:.3g} km"
                     for name, native_m in sorted(quality.coarse_inputs.items()))


def _first(frame: pd.DataFrame, column: str) -> str:
    if column in frame.columns and len(frame) and pd.notna(frame[column].iloc[0]):
        return str(frame[column].iloc[0])
    return ""


