"""Border effect on travel and border gaps, per cluster (columns of ``metrics.csv``).

From the columns :mod:`agglonet.transport.borders` adds to ``od.csv`` (``cross_province``,
``n_city_borders``) and from ``border_gaps.csv``. The *border impedance* compares the pairs whose
two cities lie in different provinces with the pairs within one province: the mean detour index
C_ij = D_ij / E_ij and the mean minutes per straight-line kilometre T_ij / E_ij of each class, and
their ratio (cross / within). A ratio above 1 says trips between provinces are slower or more
roundabout per kilometre than trips within one — a network-level border effect (compare McCallum
1995, *American Economic Review* 85(3), 615–623, on trade). Both measures are per kilometre, so
they are comparable between short and long pairs, but not distance-matched: with few pairs
(``n_pairs_cross_province``) the ratio is indicative. A cluster within one province has no
cross-provincial pair: its cross-provincial figures and ratios are empty (NaN).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

#: Columns of ``metrics.csv`` computed here, in order.
BORDER_METRIC_COLUMNS = ("n_pairs_cross_province", "n_pairs_within_province",
                         "detour_index_cross_province", "detour_index_within_province",
                         "detour_border_ratio", "min_per_km_cross_province",
                         "min_per_km_within_province", "min_per_km_border_ratio",
                         "city_borders_mean", "n_border_gaps", "n_border_gaps_province")


def _flag(values: pd.Series) -> np.ndarray:
    return values.map(lambda v: str(v).strip().lower() in {"true", "1", "1.0"}).to_numpy(bool)


def border_effect_metrics(od: pd.DataFrame, *, reachable: np.ndarray | None = None
                          ) -> dict[str, Any]:
    """Border impedance of the OD pairs (module docstring); NaN without the border columns.

    Parameters
    ----------
    od
        ``od.csv`` rows with origin ≠ destination: ``travel_time_min``, ``euclid_km``,
        ``detour_index``, ``cross_province``, ``n_city_borders``.
    reachable
        Which rows are reachable (default: those with a travel time).
    """
    out: dict[str, Any] = dict.fromkeys(BORDER_METRIC_COLUMNS[:9], math.nan)
    if "cross_province" not in od.columns:
        return out
    time = pd.to_numeric(od["travel_time_min"], errors="coerce").to_numpy(dtype=float)
    euclid = pd.to_numeric(od["euclid_km"], errors="coerce").to_numpy(dtype=float)
    detour = pd.to_numeric(od["detour_index"], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(time) if reachable is None else np.asarray(reachable, dtype=bool)
    ok &= euclid > 0
    cross = _flag(od["cross_province"])
    with np.errstate(divide="ignore", invalid="ignore"):
        per_km = time / euclid
    for name, mask in (("cross_province", ok & cross), ("within_province", ok & ~cross)):
        out[f"n_pairs_{name}"] = int(mask.sum())
        out[f"detour_index_{name}"] = float(np.mean(detour[mask])) if mask.any() else math.nan
        out[f"min_per_km_{name}"] = float(np.mean(per_km[mask])) if mask.any() else math.nan
    for measure in ("detour", "min_per_km"):
        stem = "detour_index" if measure == "detour" else "min_per_km"
        within = out[f"{stem}_within_province"]
        out[f"{measure}_border_ratio"] = (out[f"{stem}_cross_province"] / within
                                          if within and np.isfinite(within) else math.nan)
    borders = pd.to_numeric(od.get("n_city_borders"), errors="coerce").to_numpy(dtype=float)
    out["city_borders_mean"] = (float(np.nanmean(borders[ok])) if np.isfinite(borders[ok]).any()
                                else math.nan)
    return out


def border_gap_metrics(gaps: pd.DataFrame | None) -> dict[str, Any]:
    """``n_border_gaps`` and ``n_border_gaps_province`` (NaN without the table)."""
    if gaps is None:
        return {"n_border_gaps": math.nan, "n_border_gaps_province": math.nan}
    province = (gaps["border"].astype(str) == "province").sum() if len(gaps) else 0
    return {"n_border_gaps": len(gaps), "n_border_gaps_province": int(province)}


def check_summary(metrics: Mapping[str, Any], summary: Mapping[str, Any]) -> list[str]:
    """Disagreements between the gap counts and ``transport_summary.json`` (``borders``)."""
    borders = summary.get("borders") or {}
    problems = []
    if "border_gaps" in borders and metrics.get("n_border_gaps") != borders["border_gaps"]:
        problems.append(f"n_border_gaps {metrics.get('n_border_gaps')} ≠ transport summary "
                        f"{borders['border_gaps']}")
    return problems
