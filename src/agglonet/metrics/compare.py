"""Clusters side by side: the comparison table, the per-city table and a small-multiple chart."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from agglonet.errors import DataError
from agglonet.io import atomic_path

logger = logging.getLogger(__name__)

#: Metrics drawn in ``cluster_comparison.png``: column → (panel title, how to read it, what it rests
#: on: ``roads``, ``ecology`` or both). A bar is hatched when what it rests on is not measured for
#: that cluster: ``//`` roads (``transport_quality`` approximate or illustrative), ``..`` ecology
#: on coarse inputs (``ecology_quality`` not ``measured``), ``//..`` both.
KEY_METRICS: dict[str, tuple[str, str, str]] = {
    "od_mean_travel_time_min": ("Mean OD travel time (min)", "lower is better", "roads"),
    "watt_mean_min": ("Mean WATT (min)", "lower is better", "roads"),
    "daily_access_2h_share": ("Population within 2 h (share)", "higher is better", "roads"),
    "global_efficiency": ("Global efficiency (Latora–Marchiori)", "higher is better (max 1)",
                          "roads"),
    "detour_index_mean": ("Mean detour index", "lower is better (min 1)", "roads"),
    "road_gamma": ("Road γ index", "higher = more connected", "roads"),
    "eco_source_share": ("Ecological source share of area", "higher is better", "ecology"),
    "eco_pc": ("Probability of connectivity PC", "higher is better", "ecology"),
    "n_road_crossings": ("Road–corridor crossings", "lower = fewer conflicts", "roads+ecology"),
}
#: Hatch of a bar by (rests on roads not measured, rests on coarse ecology inputs).
HATCHES: dict[tuple[bool, bool], str] = {
    (False, False): "", (True, False): "//", (False, True): "..", (True, True): "//..",
}
#: Footnote of the chart per hatch kind (``roads``, ``ecology``) and its lead word.
HATCH_NOTES: dict[str, str] = {
    "lead": "Hatched:  ",
    "roads": "//  road-based metric on roads that are not measured: approximate (scgraph, "
             "assumed speed) or illustrative (synthetic proxy)",
    "ecology": "..  ecology metric on land cover / DEM much coarser than the grid (approximate)",
    "no_value": "n/a",
}


def bar_hatches(table: pd.DataFrame, basis: str) -> list[str]:
    """Return the hatch of each cluster's bar in a panel of the given basis (:data:`HATCHES`).

    Parameters
    ----------
    table
        :func:`comparison_table` output (``transport_quality``, ``ecology_quality`` columns).
    basis
        What the panel's metric rests on: ``roads``, ``ecology`` or ``roads+ecology``.

    Examples
    --------
    >>> t = pd.DataFrame({"transport_quality": ["illustrative", "measured"],
    ...                   "ecology_quality": ["measured", "approximate"]})
    >>> bar_hatches(t, "roads"), bar_hatches(t, "ecology"), bar_hatches(t, "roads+ecology")
    (['//', ''], ['', '..'], ['//', '..'])
    """
    weak_roads = _not_measured(table, "transport_quality")
    weak_eco = _weak_ecology(table)
    return [HATCHES[(r and "roads" in basis, e and "ecology" in basis)]
            for r, e in zip(weak_roads, weak_eco, strict=True)]


def _not_measured(table: pd.DataFrame, column: str) -> list[bool]:
    """Return, per cluster, whether a quality column says anything but ``measured``."""
    if column not in table:
        return [False] * len(table)
    return [str(q).strip().lower() not in {"measured", "nan", ""} for q in table[column]]


def _weak_ecology(table: pd.DataFrame) -> list[bool]:
    """Return, per cluster, whether its ecology rests on coarse inputs (``ecology_quality``)."""
    if "ecology_quality" in table:
        return _not_measured(table, "ecology_quality")
    if "coarse_inputs" in table:
        return [bool(str(c).strip()) and str(c) != "nan" for c in table["coarse_inputs"]]
    return [False] * len(table)


def comparison_table(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Stack per-cluster metrics rows into one table, one row per cluster, sorted by ``cluster``.

    Parameters
    ----------
    tables
        ``metrics.csv`` tables (one row each, as written by the ``cluster_metrics`` rule).

    Returns
    -------
    pandas.DataFrame
        Columns in the order of the first table, then any extra columns in order of appearance;
        rows sorted by ``cluster`` (input order does not matter).

    Raises
    ------
    DataError
        If no table is given, a table lacks ``cluster``, or a cluster appears twice.
    """
    if not tables:
        raise DataError("no metrics tables to compare; expected at least one metrics.csv")
    columns: list[str] = []
    for table in tables:
        if "cluster" not in table.columns:
            raise DataError(f"metrics table without a 'cluster' column: {list(table.columns)}")
        columns += [c for c in table.columns if c not in columns]
    out = pd.concat([t.reindex(columns=columns) for t in tables], ignore_index=True)
    duplicated = out["cluster"][out["cluster"].duplicated()].tolist()
    if duplicated:
        raise DataError(f"cluster(s) {duplicated} appear in more than one metrics table")
    return out.sort_values("cluster", kind="mergesort").reset_index(drop=True)


def cities_table(accessibility: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per city across clusters, with a leading ``cluster`` column.

    Parameters
    ----------
    accessibility
        Cluster key → its ``accessibility.csv`` (read with ``adcode`` as text).

    Returns
    -------
    pandas.DataFrame
        ``cluster`` then the accessibility columns (union, first-seen order), sorted by
        ``cluster`` then ``adcode``. A city in two clusters appears once per cluster.
    """
    if not accessibility:
        raise DataError("no accessibility tables given; expected at least one accessibility.csv")
    frames = []
    for cluster in sorted(accessibility):
        frame = accessibility[cluster].copy()
        if "adcode" not in frame.columns:
            raise DataError(f"accessibility table of {cluster!r} has no 'adcode' column")
        frame["adcode"] = frame["adcode"].astype(str)
        frame.insert(0, "cluster", cluster)
        frames.append(frame)
    columns: list[str] = []
    for frame in frames:
        columns += [c for c in frame.columns if c not in columns]
    out = pd.concat([f.reindex(columns=columns) for f in frames], ignore_index=True)
    return out.sort_values(["cluster", "adcode"], kind="mergesort").reset_index(drop=True)


def plot_comparison(
    table: pd.DataFrame,
    path: str | Path,
    *,
    metrics: Mapping[str, tuple[str, str, str]] | None = None,
    title: str = "agglonet — clusters side by side",
    dpi: int = 120,
    label_column: str = "cluster",
    notes: Mapping[str, str] | None = None,
    font_family: Sequence[str] | None = None,
) -> Path:
    """Draw small multiples of the key metrics, one labelled bar per cluster, to a PNG.

    Parameters
    ----------
    table
        :func:`comparison_table` output.
    path
        Target ``.png`` (written atomically).
    metrics
        Column → (panel title, reading hint, basis: ``roads``, ``ecology`` or ``roads+ecology``);
        default :data:`KEY_METRICS`. Columns missing from ``table`` are skipped.
    title
        Figure title.
    dpi
        Resolution.
    label_column
        Column naming each bar (``cluster``, ``name_zh``, ``name_en``); a missing or empty
        value falls back to the cluster key.
    notes
        Footnote words (:data:`HATCH_NOTES` keys), e.g. in another language.
    font_family
        Font families to draw the text in (a CJK font for Chinese words); default matplotlib's.

    Returns
    -------
    pathlib.Path
        The written path.

    Notes
    -----
    Uses matplotlib's object API with the Agg canvas (no pyplot, no display needed). Bars whose
    basis is not measured for their cluster are hatched (:data:`HATCHES`): road metrics of
    clusters whose ``transport_quality`` is approximate (``scgraph``: assumed speed) or
    illustrative (synthetic proxy), ecology metrics of clusters whose land cover or DEM is much
    coarser than the grid (``ecology_quality``); a footnote explains each hatch used.
    """
    metrics = dict(KEY_METRICS if metrics is None else metrics)
    words = {**HATCH_NOTES, **(notes or {})}
    panels = [c for c in metrics if c in table.columns]
    if not panels:
        raise DataError(f"none of the metrics {list(metrics)} is in the comparison table")
    labels = [str(name) if isinstance(name, str) and name else str(key) for key, name in zip(
        table["cluster"], table.get(label_column, table["cluster"]), strict=True)]
    rc: dict[Any, Any] = ({"font.family": list(font_family), "axes.unicode_minus": False}
                          if font_family else {})
    with matplotlib.rc_context(rc):
        fig = _draw_panels(table, metrics, panels, labels, words, title=title, dpi=dpi)
        with atomic_path(path) as tmp:
            # no timestamp or version in the PNG metadata: same table → same bytes
            fig.savefig(tmp, format="png", metadata={"Software": None})
    logger.info("comparison chart of %d clusters × %d metrics → %s", len(labels), len(panels),
                path)
    return Path(path)


def _draw_panels(table: pd.DataFrame, metrics: Mapping[str, tuple[str, str, str]],
                 panels: Sequence[str], labels: Sequence[str], words: Mapping[str, str], *,
                 title: str, dpi: int) -> Figure:
    """Small multiples of :func:`plot_comparison`: one panel per metric, one bar per cluster."""
    used: set[str] = set()
    n_cols = min(3, len(panels))
    n_rows = math.ceil(len(panels) / n_cols)
    width = max(3.2, 0.9 * len(labels) + 1.6)
    fig = Figure(figsize=(width * n_cols, 2.9 * n_rows + 0.8), dpi=dpi)
    FigureCanvasAgg(fig)
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    colours = [f"C{i % 10}" for i in range(len(labels))]
    for ax, column in zip(axes.flat, panels, strict=False):
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
        x = np.arange(len(labels))
        name, hint, basis = metrics[column]
        bars = ax.bar(x, np.nan_to_num(values, nan=0.0), width=0.6, color=colours,
                      edgecolor="black", linewidth=0.6)
        ax.set_xlim(-0.5 - 0.3 * (len(labels) < 3), len(labels) - 0.5 + 0.3 * (len(labels) < 3))
        for bar, value, hatch in zip(bars, values, bar_hatches(table, basis), strict=True):
            if hatch:
                bar.set_hatch(hatch)
                used.add(hatch)
            ax.annotate(words["no_value"] if np.isnan(value) else f"{value:.3g}",
                        (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=8, xytext=(0, 2),
                        textcoords="offset points")
        ax.set_title(f"{name}\n({hint})", fontsize=9)
        ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.margins(y=0.18)
        ax.grid(axis="y", linewidth=0.3, alpha=0.6)
        ax.set_axisbelow(True)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=11)
    notes = []
    if used & {"//", "//.."}:
        notes.append(words["roads"])
    if used & {"..", "//.."}:
        notes.append(words["ecology"])
    if notes:
        fig.text(0.01, 0.005, words["lead"] + "\n".join(notes), fontsize=7, ha="left",
                 va="bottom")
    fig.tight_layout(rect=(0, 0.015 + 0.016 * max(len(notes), 1), 1, 0.97))
    return fig
