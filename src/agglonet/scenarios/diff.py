"""Before–after: a scenario's tables and rasters against the baseline's.

``change`` is always scenario − baseline and ``relative_change`` is change / |baseline| (empty
when the baseline is 0 or missing); a pair's ``time_saved_min`` is baseline − scenario (positive
when the scenario is faster). Every row carries the quality labels: the baseline's level on the
transport or ecology side, worsened to the scenario's ``edits_quality`` (hand-drawn
illustrative edits give illustrative differences).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from agglonet.outputs import CORRIDOR_CHANGE_COLUMNS
from agglonet.quality import QualityFact, worst

#: Columns of ``metrics_diff.csv``.
METRIC_DIFF_COLUMNS = ("metric", "side", "baseline", "scenario", "change", "relative_change",
                       "roads_source", "quality")
#: Per-city quantities of ``cities_diff.csv`` (each as ``<name>_baseline``, ``_scenario``,
#: ``_change``): from ``accessibility.csv`` and, for ``pc_contribution``, ``sources.csv``.
CITY_QUANTITIES = ("watt_min", "daily_access_{h}h_share", "potential_access",
                   "pc_contribution", "source_area_km2")
#: Columns of ``pairs_diff.csv``.
PAIR_DIFF_COLUMNS = ("origin_adcode", "dest_adcode", "origin_name", "dest_name",
                     "travel_time_min_baseline", "travel_time_min_scenario", "time_saved_min",
                     "linkage_strength_baseline", "linkage_strength_scenario", "linkage_change",
                     "linkage_relative_change", "roads_source", "quality")
#: Columns of ``comparison.csv`` (one row per scenario of a cluster).
COMPARISON_COLUMNS = ("scenario", "kind", "n_edits", "description", "km_built", "km2_restored",
                      "watt_mean_saved_min", "od_time_saved_sum_min",
                      "daily_access_2h_share_change", "eco_eca_gain_km2", "eco_pc_change",
                      "corridor_cost_change_sum", "rank_transport", "rank_ecology",
                      "watt_saved_per_km_built", "eca_gain_per_km2_restored",
                      "rank_transport_per_km", "rank_ecology_per_km2", "edits_quality",
                      "roads_source", "quality")
#: Statuses of a corridor in ``corridors_changed``.
CORRIDOR_STATUSES = ("unchanged", "changed", "new", "removed")
#: Relative cost differences below this are the same corridor (float noise of the solvers).
SAME_COST_RTOL = 1e-9


def _relative(change: ArrayLike, base: ArrayLike) -> np.ndarray:
    base = np.asarray(base, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isfinite(base) & (base != 0), change / np.abs(base), np.nan)


def side_quality(fact: QualityFact, *, side: str, edits_quality: str) -> str:
    """Quality of a difference on one side (``transport``, ``ecology``, ``both``)."""
    levels = {"transport": (fact.transport_quality,), "ecology": (fact.ecology_quality,),
              "both": (fact.transport_quality, fact.ecology_quality)}[side]
    return worst(*levels, edits_quality)


#: Prefixes of metrics.csv columns on the ecological side (the rest rests on the roads).
_ECOLOGY_PREFIXES = ("eco_",)
#: metrics.csv columns that mix roads and ecology.
_BOTH = ("n_road_crossings", "road_length_in_corridors_km")


def metric_side(name: str) -> str:
    """Return the side of a metric: ``ecology``, ``both`` (road–corridor) or ``transport``."""
    if name.startswith(_ECOLOGY_PREFIXES):
        return "ecology"
    return "both" if name in _BOTH else "transport"


def metrics_diff(
    baseline: pd.DataFrame, scenario: pd.DataFrame, *, fact: QualityFact, edits_quality: str,
) -> pd.DataFrame:
    """Every numeric column of ``metrics.csv``: baseline, scenario, change, relative change.

    Parameters
    ----------
    baseline, scenario
        The one-row ``metrics.csv`` of the baseline and of the scenario.
    fact
        The baseline's quality fact.
    edits_quality
        The scenario's ``edits_quality``.
    """
    rows = []
    for name in baseline.columns:
        if not _numeric(baseline[name]):
            continue
        base = float(pd.to_numeric(baseline[name]).iloc[0])
        scen = float(pd.to_numeric(scenario[name], errors="coerce").iloc[0]) \
            if name in scenario.columns else np.nan
        change = scen - base
        side = metric_side(name)
        rows.append({"metric": name, "side": side, "baseline": base, "scenario": scen,
                     "change": change, "relative_change": float(_relative(change, base)),
                     "roads_source": fact.roads_source,
                     "quality": side_quality(fact, side=side, edits_quality=edits_quality)})
    return pd.DataFrame(rows, columns=list(METRIC_DIFF_COLUMNS))


def _numeric(column: pd.Series) -> bool:
    """Whether a column holds numbers (or only empty cells), not text or booleans."""
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def pc_by_city(sources: pd.DataFrame) -> pd.Series:
    """Σ dPC of the sources touching each city (``city_adcodes`` of ``sources.csv``).

    A source lying in several cities counts fully in each: the column says how much of the
    network's connectivity rests on habitat in the city, not a partition.
    """
    if sources.empty:
        return pd.Series(dtype=float)
    rows = [(code, float(dpc)) for codes, dpc in zip(sources["city_adcodes"].fillna(""),
                                                     sources["dpc"], strict=True)
            for code in str(codes).split(";") if code]
    frame = pd.DataFrame(rows, columns=["adcode", "dpc"])
    return frame.groupby("adcode")["dpc"].sum()


def cities_diff(
    *, accessibility: tuple[pd.DataFrame, pd.DataFrame], cities_ecology: tuple[pd.DataFrame,
                                                                                pd.DataFrame],
    sources: tuple[pd.DataFrame, pd.DataFrame], thresholds_h: Sequence[float],
    fact: QualityFact, edits_quality: str,
) -> pd.DataFrame:
    """Per city: WATT, daily-access shares, potential accessibility, PC contribution, source area.

    Each pair of frames is (baseline, scenario). Columns: ``adcode``, ``name_en`` and, for each
    quantity, ``_baseline``, ``_scenario`` and ``_change``; then ``transport_quality``,
    ``ecology_quality``, ``roads_source``.
    """
    base_acc, scen_acc = (a.set_index("adcode") for a in accessibility)
    base_eco, scen_eco = (c.set_index("adcode") for c in cities_ecology)
    pcs = [pc_by_city(s) for s in sources]
    out = pd.DataFrame({"adcode": base_acc.index, "name_en": base_acc["name_en"].to_numpy()})
    names = ["watt_min", *[f"daily_access_{_h(h)}h_share" for h in thresholds_h],
             "potential_access"]
    for name in names:
        _triple(out, name, base_acc[name].reindex(out["adcode"]),
                scen_acc[name].reindex(out["adcode"]))
    _triple(out, "pc_contribution", pcs[0].reindex(out["adcode"]).fillna(0.0),
            pcs[1].reindex(out["adcode"]).fillna(0.0))
    _triple(out, "source_area_km2", base_eco["source_area_km2"].reindex(out["adcode"]),
            scen_eco["source_area_km2"].reindex(out["adcode"]))
    out["roads_source"] = fact.roads_source
    out["transport_quality"] = side_quality(fact, side="transport", edits_quality=edits_quality)
    out["ecology_quality"] = side_quality(fact, side="ecology", edits_quality=edits_quality)
    return out


def _h(h: float) -> str:
    return f"{h:g}"


def _triple(out: pd.DataFrame, name: str, base: pd.Series, scen: pd.Series) -> None:
    b, s = base.to_numpy(dtype=float), scen.to_numpy(dtype=float)
    out[f"{name}_baseline"], out[f"{name}_scenario"], out[f"{name}_change"] = b, s, s - b


def pairs_diff(
    baseline: pd.DataFrame, scenario: pd.DataFrame, *, fact: QualityFact, edits_quality: str,
) -> pd.DataFrame:
    """Per ordered pair of ``od.csv``: travel time saved and linkage change."""
    keys = ["origin_adcode", "dest_adcode"]
    merged = baseline[[*keys, "origin_name", "dest_name", "travel_time_min",
                       "linkage_strength"]].merge(
        scenario[[*keys, "travel_time_min", "linkage_strength"]], on=keys, how="left",
        suffixes=("_baseline", "_scenario"))
    t0, t1 = (merged[f"travel_time_min_{k}"].to_numpy(dtype=float)
              for k in ("baseline", "scenario"))
    r0, r1 = (merged[f"linkage_strength_{k}"].to_numpy(dtype=float)
              for k in ("baseline", "scenario"))
    merged["time_saved_min"] = t0 - t1
    merged["linkage_change"] = r1 - r0
    merged["linkage_relative_change"] = _relative(r1 - r0, r0)
    merged["roads_source"] = fact.roads_source
    merged["quality"] = side_quality(fact, side="transport", edits_quality=edits_quality)
    return merged[list(PAIR_DIFF_COLUMNS)]


def raster_diff(baseline: np.ndarray, scenario: np.ndarray, *,
                nodata: float | None = None) -> np.ndarray:
    """Return scenario − baseline (float32); NaN where either is NaN or ``nodata``."""
    b = np.asarray(baseline, dtype=float)
    s = np.asarray(scenario, dtype=float)
    bad = ~np.isfinite(b) | ~np.isfinite(s)
    if nodata is not None:
        bad |= (b == nodata) | (s == nodata)
    return np.where(bad, np.nan, s - b).astype(np.float32)


def match_sources(baseline: gpd.GeoDataFrame, scenario: gpd.GeoDataFrame) -> dict[int, int]:
    """Scenario source id → the baseline source it overlaps most (ids that overlap none: absent).

    Sources are re-selected when land cover changes, so their ids may differ between the runs.
    """
    if baseline.empty or scenario.empty:
        return {}
    pairs = gpd.overlay(scenario[["source_id", "geometry"]].rename(
        columns={"source_id": "scen"}), baseline[["source_id", "geometry"]].rename(
        columns={"source_id": "base"}), how="intersection", keep_geom_type=True)
    if pairs.empty:
        return {}
    pairs["area"] = pairs.geometry.area
    best = pairs.sort_values(["scen", "area", "base"], ascending=[True, False, True]) \
        .drop_duplicates("scen")
    return {int(s): int(b) for s, b in zip(best["scen"], best["base"], strict=True)}


def changed_corridors(
    baseline: gpd.GeoDataFrame, scenario: gpd.GeoDataFrame, *, source_map: Mapping[int, int],
    quality: str,
) -> gpd.GeoDataFrame:
    """Every corridor of either run with its status: unchanged, changed, new or removed.

    A scenario corridor is the baseline corridor joining the sources its own sources map to
    (:func:`match_sources`); it is ``unchanged`` when its cost-weighted length and line are
    the same. Removed corridors keep their baseline line.
    """
    def key(a: Any, b: Any) -> tuple[int, int]:
        return (min(int(a), int(b)), max(int(a), int(b)))

    base = {key(r.from_source, r.to_source): r for r in baseline.itertuples(index=False)}
    rows, seen = [], set()
    for r in scenario.itertuples(index=False):
        a, b = source_map.get(int(r.from_source)), source_map.get(int(r.to_source))
        old = base.get(key(a, b)) if a is not None and b is not None and a != b else None
        if old is not None:
            seen.add(key(a, b))
            same = (np.isclose(old.cost_weighted_length, r.cost_weighted_length,
                               rtol=SAME_COST_RTOL, atol=0.0)
                    and old.geometry.equals(r.geometry))
            status = "unchanged" if same else "changed"
        else:
            status = "new"
        rows.append(_corridor_row(r, old, status=status, geometry=r.geometry, quality=quality))
    for k, old in sorted(base.items()):
        if k not in seen:
            rows.append(_corridor_row(None, old, status="removed", geometry=old.geometry,
                                      quality=quality))
    crs = scenario.crs if scenario.crs is not None else baseline.crs
    frame = pd.DataFrame([{c: row[c] for c in CORRIDOR_CHANGE_COLUMNS} for row in rows],
                         columns=list(CORRIDOR_CHANGE_COLUMNS))
    return gpd.GeoDataFrame(frame, geometry=[row["geometry"] for row in rows], crs=crs)


def _corridor_row(new: Any, old: Any, *, status: str, geometry: Any,
                  quality: str) -> dict[str, Any]:
    c0 = float(old.cost_weighted_length) if old is not None else np.nan
    c1 = float(new.cost_weighted_length) if new is not None else np.nan
    return {"corridor_id": int(new.corridor_id) if new is not None else None,
            "baseline_corridor_id": int(old.corridor_id) if old is not None else None,
            "from_source": int(new.from_source) if new is not None else int(old.from_source),
            "to_source": int(new.to_source) if new is not None else int(old.to_source),
            "status": status, "cost_baseline": c0, "cost_scenario": c1,
            "cost_change": c1 - c0, "cost_relative_change": float(_relative(c1 - c0, c0)),
            "length_km_baseline": float(old.length_km) if old is not None else np.nan,
            "length_km_scenario": float(new.length_km) if new is not None else np.nan,
            "quality": quality, "geometry": geometry}


def scenario_summary(
    *, name: str, kind: str, n_edits: int, description: str, metrics: pd.DataFrame,
    pairs: pd.DataFrame, corridors: pd.DataFrame, road_edits: pd.DataFrame,
    landscape_edits: pd.DataFrame, edits_quality: str, fact: QualityFact,
) -> dict[str, Any]:
    """One scenario's row of the comparison table (before ranking).

    ``km_built``: length of the added roads and closed gaps; ``km2_restored``: cells whose land
    cover or resistance a restoration changed; effects from the diff tables.
    """
    by = metrics.set_index("metric")["change"] if len(metrics) else pd.Series(dtype=float)

    def change(metric: str) -> float:
        return float(by.get(metric, np.nan))

    built = road_edits[road_edits["edit_type"].isin(["add_roads", "close_border_gaps"])]
    restored = landscape_edits[landscape_edits["edit_type"].isin(
        ["restore_landcover", "restore_barriers"])]
    saved = pairs["time_saved_min"].to_numpy(dtype=float)
    cost = corridors["cost_change"].to_numpy(dtype=float) if len(corridors) else np.array([])
    matched = corridors["status"].isin(["unchanged", "changed"]).to_numpy() \
        if len(corridors) else np.array([], dtype=bool)
    return {"scenario": name, "kind": kind, "n_edits": n_edits, "description": description,
            "km_built": float(pd.to_numeric(built["length_km"]).sum()),
            "km2_restored": float(pd.to_numeric(restored["area_changed_km2"]).sum()),
            "watt_mean_saved_min": 0.0 - change("watt_mean_min") + 0.0,
            "od_time_saved_sum_min": float(np.nansum(saved)),
            "daily_access_2h_share_change": change("daily_access_2h_share"),
            "eco_eca_gain_km2": change("eco_eca_km2"), "eco_pc_change": change("eco_pc"),
            "corridor_cost_change_sum": float(np.nansum(cost[matched])) if len(cost) else 0.0,
            "edits_quality": edits_quality, "roads_source": fact.roads_source,
            "quality": side_quality(fact, side="both", edits_quality=edits_quality)}


def comparison_table(summaries: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Rank a cluster's scenarios by effect and by effect per km built or km² restored.

    ``rank_transport``: by ``watt_mean_saved_min`` (largest first), then
    ``od_time_saved_sum_min``; ``rank_ecology``: by ``eco_eca_gain_km2``, then by the largest
    fall of corridor cost. Per unit: WATT saved per km built, ECA gained per km² restored (empty
    where nothing was built or restored). Ties share the best rank (``min``); a scenario without
    any effect on a side is ranked too (last), so every row has every rank.
    """
    frame = pd.DataFrame(list(summaries))
    if frame.empty:
        return pd.DataFrame(columns=list(COMPARISON_COLUMNS))
    frame = frame.sort_values("scenario").reset_index(drop=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["watt_saved_per_km_built"] = np.where(
            frame["km_built"] > 0, frame["watt_mean_saved_min"] / frame["km_built"], np.nan)
        frame["eca_gain_per_km2_restored"] = np.where(
            frame["km2_restored"] > 0, frame["eco_eca_gain_km2"] / frame["km2_restored"], np.nan)
    frame["rank_transport"] = _rank(frame, ["watt_mean_saved_min", "od_time_saved_sum_min"])
    frame["_cost_fall"] = -frame["corridor_cost_change_sum"]
    frame["rank_ecology"] = _rank(frame, ["eco_eca_gain_km2", "_cost_fall"])
    frame["rank_transport_per_km"] = _rank(frame, ["watt_saved_per_km_built"])
    frame["rank_ecology_per_km2"] = _rank(frame, ["eca_gain_per_km2_restored"])
    return frame.reindex(columns=list(COMPARISON_COLUMNS))


def _rank(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """Dense lexicographic rank, best (largest) first; NaN counts as the lowest value."""
    keys = frame[list(columns)].fillna(-np.inf).round(9)
    order = keys.apply(tuple, axis=1)
    uniques = sorted(set(order), reverse=True)
    return order.map({k: i + 1 for i, k in enumerate(uniques)}).astype(int)
