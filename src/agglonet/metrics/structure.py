"""Industrial structure (产业同构): how alike the member cities' economies are, and their distance.

From a table of values by city and sector (:mod:`agglonet.retrieve.sectors`), with x_ik the
share of sector k in city i's total (value added or employment):

* **Structural similarity coefficient** (the UNIDO similarity coefficient of the Chinese
  产业同构 literature) S_ij = Σ_k x_ik x_jk / √(Σ_k x_ik² · Σ_k x_jk²): the cosine of the two
  share vectors, 1 = the same structure, 0 = no sector in common.
* **Krugman dissimilarity index** (Krugman 1991, *Geography and Trade*, MIT Press)
  K_ij = Σ_k |x_ik − x_jk|: 0 = the same structure, 2 = no sector in common.
* **Location quotient** LQ_ik = x_ik / X_k, X_k the sector's share of the cluster total (the
  value-weighted share over the cities measured); > 1: the city is more specialised in k than
  the cluster.
* **Krugman specialisation index** of a city, SI_i = Σ_k |x_ik − x̄_{−i,k}|, x̄_{−i,k} the
  share of k in the summed values of the *other* cities measured (the "rest of" comparison of
  Midelfart-Knarvik, Overman, Redding & Venables 2000, *The location of European industry*,
  European Commission Economic Papers 142); 0 = the city's structure is the rest's, 2 = none
  of its sectors exists elsewhere.
* **Similarity and travel time**: Spearman's rank correlation of S_ij with the pair's travel time
  (mean of both directions of ``od.csv``) over the pairs with both, with its two-sided p-value
  (:func:`scipy.stats.spearmanr`): negative = nearby cities are more alike.

Every formula and column is defined in ``docs/metrics.md`` ("Industrial structure").
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from agglonet.errors import DataError
from agglonet.io import atomic_path

logger = logging.getLogger(__name__)

#: Columns of ``structure_cities.csv``.
CITY_COLUMNS = ("adcode", "name_zh", "name_en", "year", "value_total", "n_sectors",
                "largest_sector", "largest_share", "specialisation")
#: Columns of ``structure_sectors.csv``.
SECTOR_COLUMNS = ("adcode", "name_zh", "sector", "value", "share", "cluster_share",
                  "location_quotient")
#: Columns of ``structure_pairs.csv`` (before the road labels).
PAIR_COLUMNS = ("a_adcode", "b_adcode", "a_name", "b_name", "similarity", "dissimilarity",
                "above_threshold", "travel_time_min", "euclid_km")
#: What the outputs say when no table is given.
NO_TABLE_NOTE = ("no sector table: set economy.sector_table to a CSV with columns adcode, "
                 "sector, value (docs/sector_table.md) to measure the industrial structure")


def share_matrix(rows: pd.DataFrame) -> pd.DataFrame:
    """Shares x_ik: cities (``adcode``) × sectors, each row summing to 1.

    Raises
    ------
    DataError
        If a city's values sum to 0.
    """
    values = rows.pivot(index="adcode", columns="sector", values="value").sort_index()
    values = values.reindex(sorted(values.columns), axis=1).fillna(0.0)
    totals = values.sum(axis=1)
    if (totals <= 0).any():
        raise DataError(f"cities {totals.index[totals <= 0].tolist()} have no value above 0")
    return values.div(totals, axis=0)


def similarity_coefficient(x: np.ndarray, y: np.ndarray) -> float:
    """S = Σ x_k y_k / √(Σ x_k² Σ y_k²) (1: identical structures)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return float(np.dot(x, y) / math.sqrt(np.dot(x, x) * np.dot(y, y)))


def krugman_index(x: np.ndarray, y: np.ndarray) -> float:
    """K = Σ |x_k − y_k| on shares (0: identical, 2: no sector in common)."""
    return float(np.abs(np.asarray(x, dtype=float) - np.asarray(y, dtype=float)).sum())


def location_quotients(rows: pd.DataFrame) -> pd.DataFrame:
    """Shares, cluster shares and LQ per city and sector (long, sorted by adcode, sector)."""
    values = rows.pivot(index="adcode", columns="sector", values="value").sort_index().fillna(0.0)
    shares = values.div(values.sum(axis=1), axis=0)
    cluster = values.sum(axis=0) / values.to_numpy().sum()
    long = shares.stack().rename("share").reset_index()
    long["value"] = values.stack().to_numpy()
    long["cluster_share"] = long["sector"].map(cluster)
    with np.errstate(invalid="ignore", divide="ignore"):
        long["location_quotient"] = long["share"] / long["cluster_share"]
    return long.sort_values(["adcode", "sector"]).reset_index(drop=True)


def specialisation_index(rows: pd.DataFrame) -> pd.Series:
    """Krugman specialisation SI_i = Σ_k |x_ik − x̄_{−i,k}| against the rest of the cities."""
    values = rows.pivot(index="adcode", columns="sector", values="value").sort_index().fillna(0.0)
    total = values.sum(axis=0)
    out = {}
    for code in values.index:
        own = values.loc[code]
        rest = total - own
        out[code] = (krugman_index(own / own.sum(), rest / rest.sum()) if rest.sum() > 0
                     else math.nan)
    return pd.Series(out, name="specialisation")


def pair_table(rows: pd.DataFrame, *, od: pd.DataFrame | None, names: Mapping[str, str],
               threshold: float) -> pd.DataFrame:
    """S, K and travel time per unordered pair of the cities with rows (a < b by adcode).

    ``travel_time_min`` is the mean of T_ab and T_ba of ``od.csv`` (NaN if either is missing);
    ``euclid_km`` the straight line between the seats.
    """
    shares = share_matrix(rows)
    codes = shares.index.tolist()
    time, euclid = {}, {}
    if od is not None and len(od):
        key = list(zip(od["origin_adcode"].astype(str), od["dest_adcode"].astype(str),
                       strict=True))
        time = dict(zip(key, pd.to_numeric(od["travel_time_min"], errors="coerce"), strict=True))
        euclid = dict(zip(key, pd.to_numeric(od["euclid_km"], errors="coerce"), strict=True))
    out = []
    for a, b in itertools.combinations(codes, 2):
        s = similarity_coefficient(shares.loc[a], shares.loc[b])
        t_ab, t_ba = time.get((a, b), math.nan), time.get((b, a), math.nan)
        out.append({"a_adcode": a, "b_adcode": b, "a_name": names.get(a, a),
                    "b_name": names.get(b, b), "similarity": s,
                    "dissimilarity": krugman_index(shares.loc[a], shares.loc[b]),
                    "above_threshold": bool(s > threshold),
                    "travel_time_min": (t_ab + t_ba) / 2.0,
                    "euclid_km": euclid.get((a, b), math.nan)})
    return pd.DataFrame(out, columns=list(PAIR_COLUMNS))


def similarity_time_correlation(pairs: pd.DataFrame) -> dict[str, float]:
    """Spearman's ρ of S_ij with the travel time over the pairs with both, its p-value and n.

    Fewer than 3 pairs, or a constant column, give NaN ρ and p (n is still reported).
    """
    s = pd.to_numeric(pairs["similarity"], errors="coerce").to_numpy(dtype=float)
    t = pd.to_numeric(pairs["travel_time_min"], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(s) & np.isfinite(t)
    n = int(ok.sum())
    if n < 3 or np.ptp(s[ok]) == 0 or np.ptp(t[ok]) == 0:
        return {"rho": math.nan, "pvalue": math.nan, "n_pairs": n}
    result = spearmanr(s[ok], t[ok])
    return {"rho": float(result.statistic), "pvalue": float(result.pvalue), "n_pairs": n}


def summarise_years(years: pd.Series) -> str:
    """Return the one year of the cities, ``mixed (2020 ×2, 2022 ×2)``, or empty if none."""
    per_city = years.dropna().astype(int)
    if per_city.empty:
        return ""
    counts = per_city.value_counts().sort_index()
    if len(counts) == 1:
        return str(counts.index[0])
    return "mixed (" + ", ".join(f"{y} ×{c}" for y, c in counts.items()) + ")"


def _finite(value: float) -> float | None:
    """Return a float for JSON: ``None`` for NaN (JSON has no NaN)."""
    return float(value) if np.isfinite(value) else None


def structure_results(
    rows: pd.DataFrame | None,
    *,
    cities: pd.DataFrame,
    od: pd.DataFrame | None,
    missing: Sequence[str] = (),
    threshold: float = 0.9,
    labels: Mapping[str, str] | None = None,
    table_name: str = "",
) -> dict[str, Any]:
    """Every industrial-structure output of one cluster.

    Parameters
    ----------
    rows
        The members' rows of the sector table (:func:`agglonet.retrieve.sectors.cluster_sectors`);
        ``None``: no table given (the tables come back empty, the summary says how to give one).
    cities
        Member cities (``adcode``, ``name_zh``, ``name_en``).
    od
        ``od.csv`` (travel times of the pairs).
    missing
        Members without rows (``"<adcode> <name>"``).
    threshold
        ``economy.similarity_threshold``: S above it counts as a highly similar pair.
    labels
        ``roads_source`` and ``quality`` of the travel times (on the pairs table).
    table_name
        Name of the sector table (for the summary).

    Returns
    -------
    dict
        ``cities``, ``sectors``, ``pairs`` (tables of the columns :data:`CITY_COLUMNS`,
        :data:`SECTOR_COLUMNS`, :data:`PAIR_COLUMNS` + labels), ``shares`` (matrix) and
        ``summary`` (JSON-ready: ``n_cities``, ``missing``, ``year``, means, share above the
        threshold, Spearman, ``note``).
    """
    if not 0 < threshold < 1:
        raise DataError(f"economy.similarity_threshold must lie between 0 and 1, got {threshold}")
    labels = dict(labels or {})
    names_zh = dict(zip(cities["adcode"].astype(str), cities["name_zh"].astype(str),
                        strict=True))
    names_en = dict(zip(cities["adcode"].astype(str),
                        cities.get("name_en", cities["name_zh"]).astype(str), strict=True))
    if rows is None or rows.empty:
        empty = {"cities": pd.DataFrame(columns=list(CITY_COLUMNS)),
                 "sectors": pd.DataFrame(columns=list(SECTOR_COLUMNS)),
                 "pairs": pd.DataFrame(columns=[*PAIR_COLUMNS, *labels]),
                 "shares": pd.DataFrame()}
        return {**empty, "summary": {"sector_table": "", "n_cities": 0, "missing": [],
                                     "missing_en": [],
                                     "year": "", "similarity_threshold": threshold,
                                     "note": NO_TABLE_NOTE}}
    shares = share_matrix(rows)
    sectors = location_quotients(rows).assign(
        name_zh=lambda f: f["adcode"].map(names_zh))[list(SECTOR_COLUMNS)]
    values = rows.pivot(index="adcode", columns="sector", values="value").sort_index()
    year = rows.groupby("adcode")["year"].max()
    largest = shares.idxmax(axis=1)
    city_table = pd.DataFrame({
        "adcode": shares.index, "name_zh": shares.index.map(names_zh),
        "name_en": shares.index.map(names_en),
        "year": pd.array(year.reindex(shares.index).to_numpy(), dtype="Int64"),
        "value_total": values.sum(axis=1).to_numpy(),
        "n_sectors": (values > 0).sum(axis=1).to_numpy(dtype=np.int64),
        "largest_sector": largest.to_numpy(),
        "largest_share": shares.max(axis=1).to_numpy(),
        "specialisation": specialisation_index(rows).reindex(shares.index).to_numpy(),
    })
    pairs = pair_table(rows, od=od, names=names_en, threshold=threshold).assign(**labels)
    rank = similarity_time_correlation(pairs)
    year_text = summarise_years(year)
    note = []
    if missing:
        note.append(f"no sector values for {', '.join(missing)}: measured on the other "
                    f"{len(shares)} cities")
    if year_text.startswith("mixed"):
        note.append(f"the cities' years differ ({year_text})")
    missing_en = [f"{names_en.get(m.split()[0], m)} ({m.split()[0]})" for m in missing]
    summary = {
        "sector_table": table_name, "n_cities": int(len(shares)), "missing": list(missing),
        "missing_en": missing_en,
        "sectors": list(shares.columns), "year": year_text,
        "similarity_threshold": threshold,
        "similarity_mean": float(pairs["similarity"].mean()),
        "dissimilarity_mean": float(pairs["dissimilarity"].mean()),
        "similarity_high_share": float(pairs["above_threshold"].mean()),
        "similarity_time_spearman": _finite(rank["rho"]),
        "similarity_time_pvalue": _finite(rank["pvalue"]),
        "similarity_time_n_pairs": rank["n_pairs"],
        "note": "; ".join(note),
    }
    logger.info("industrial structure of %d cities (%d sectors): mean S %.4f, mean K %.4f, "
                "Spearman ρ(S, T) %.3f (p %.3g, %d pairs)%s", len(shares), shares.shape[1],
                summary["similarity_mean"], summary["dissimilarity_mean"], rank["rho"],
                rank["pvalue"], rank["n_pairs"], f"; {summary['note']}" if note else "")
    return {"cities": city_table, "sectors": sectors, "pairs": pairs, "shares": shares,
            "summary": summary}


def plot_similarity(
    pairs: pd.DataFrame,
    path: str | Path,
    *,
    cluster: str,
    summary: Mapping[str, Any],
    dpi: int = 120,
) -> Path:
    """Heat map of S_ij between the cities measured (``structure_similarity.png``).

    Cities are in adcode order, labelled by English name; each cell shows S to 3 decimals. With
    no table, the figure says how to give one.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    codes = sorted(set(pairs["a_adcode"].astype(str)) | set(pairs["b_adcode"].astype(str)))
    fig = Figure(figsize=(max(5.0, 0.7 * len(codes) + 3.0), max(4.2, 0.6 * len(codes) + 2.4)),
                 dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    if not codes:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "No sector table given.\nSet economy.sector_table to a CSV with\n"
                "columns adcode, sector, value\n(docs/sector_table.md).", ha="center",
                va="center", fontsize=11)
        fig.suptitle(f"{cluster}: industrial structure not measured", fontsize=11)
    else:
        index = {c: k for k, c in enumerate(codes)}
        names = {**dict(zip(pairs["a_adcode"].astype(str), pairs["a_name"], strict=True)),
                 **dict(zip(pairs["b_adcode"].astype(str), pairs["b_name"], strict=True))}
        S = np.eye(len(codes))
        for a, b, s in zip(pairs["a_adcode"].astype(str), pairs["b_adcode"].astype(str),
                           pairs["similarity"].astype(float), strict=True):
            S[index[a], index[b]] = S[index[b], index[a]] = s
        off = S[~np.eye(len(codes), dtype=bool)]
        low = float(off.min()) if float(off.min()) < 1.0 else 0.0
        im = ax.imshow(S, cmap="YlOrRd", vmin=low, vmax=1.0)
        for i in range(len(codes)):
            for j in range(len(codes)):
                dark = (S[i, j] - low) / (1.0 - low) > 0.6
                ax.text(j, i, f"{S[i, j]:.3f}", ha="center", va="center", fontsize=7,
                        color="white" if dark else "black")
        labels = [names.get(c, c) for c in codes]
        ax.set_xticks(range(len(codes)), labels, rotation=40, ha="right", fontsize=8)
        ax.set_yticks(range(len(codes)), labels, fontsize=8)
        fig.colorbar(im, ax=ax, shrink=0.8, label="structural similarity S")
        year = summary.get("year") or "year not given"
        fig.suptitle(f"{cluster}: structural similarity S of the\ncities' sector shares "
                     f"({year})", fontsize=10)
        if summary.get("missing_en"):
            fig.text(0.01, 0.01, "No sector values (not shown): "
                     + ", ".join(summary["missing_en"]), fontsize=7, ha="left", va="bottom",
                     wrap=True)
    fig.tight_layout(rect=(0, 0.05, 1, 0.95))
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    return Path(path)


#: Columns of ``metrics.csv`` from the industrial structure, in order.
STRUCTURE_METRIC_COLUMNS = ("structure_n_cities", "structure_year", "similarity_mean",
                            "dissimilarity_mean", "similarity_high_share",
                            "similarity_time_spearman", "similarity_time_pvalue",
                            "similarity_time_n_pairs", "structure_note")


def structure_metrics(pairs: pd.DataFrame | None, summary: Mapping[str, Any] | None
                      ) -> dict[str, Any]:
    """Cluster figures recomputed from ``structure_pairs.csv``; year and note from the summary.

    Without a table (no pairs) the figures are NaN and ``structure_note`` says how to give one.
    """
    summary = dict(summary or {})
    out: dict[str, Any] = dict.fromkeys(STRUCTURE_METRIC_COLUMNS, math.nan)
    out["structure_note"] = summary.get("note", NO_TABLE_NOTE if pairs is None else "")
    out["structure_year"] = summary.get("year", "")
    if pairs is None or pairs.empty:
        out["structure_n_cities"] = 0
        return out
    codes = set(pairs["a_adcode"].astype(str)) | set(pairs["b_adcode"].astype(str))
    above = pairs["above_threshold"].map(lambda v: str(v).strip().lower() in {"true", "1"})
    rank = similarity_time_correlation(pairs)
    out.update({
        "structure_n_cities": len(codes),
        "similarity_mean": float(pd.to_numeric(pairs["similarity"]).mean()),
        "dissimilarity_mean": float(pd.to_numeric(pairs["dissimilarity"]).mean()),
        "similarity_high_share": float(above.mean()),
        "similarity_time_spearman": rank["rho"],
        "similarity_time_pvalue": rank["pvalue"],
        "similarity_time_n_pairs": rank["n_pairs"],
    })
    return out
