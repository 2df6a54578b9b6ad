"""Comparison table, per-city table and chart across clusters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from agglonet.errors import DataError
from agglonet.metrics.compare import (
    KEY_METRICS,
    bar_hatches,
    cities_table,
    comparison_table,
    plot_comparison,
)


def _metrics(cluster: str, od_min: float, crossings: int, transport_quality: str
             ) -> pd.DataFrame:
    return pd.DataFrame([{
        "cluster": cluster, "n_cities": 3, "od_mean_travel_time_min": od_min,
        "watt_mean_min": od_min - 5, "daily_access_2h_share": 0.5, "global_efficiency": 0.8,
        "detour_index_mean": 1.25, "road_gamma": 0.4, "eco_source_share": 0.1, "eco_pc": 1e-4,
        "n_road_crossings": crossings, "transport_quality": transport_quality,
    }])


def test_comparison_table_sorted_and_unioned() -> None:
    b = _metrics("yangtze_delta", 90.0, 12, "measured")
    a = _metrics("central_plains_core", 75.0, 4, "illustrative").assign(extra_km=1.5)
    table = comparison_table([b, a])
    assert table["cluster"].tolist() == ["central_plains_core", "yangtze_delta"]
    # columns of the first table, then the extra one; missing values NaN
    assert list(table.columns) == [*b.columns, "extra_km"]
    assert table["extra_km"].iloc[0] == 1.5 and np.isnan(table["extra_km"].iloc[1])
    assert table["od_mean_travel_time_min"].tolist() == [75.0, 90.0]
    with pytest.raises(DataError, match="yangtze_delta"):
        comparison_table([b, b])
    with pytest.raises(DataError, match="at least one"):
        comparison_table([])


def test_cities_table() -> None:
    acc_a = pd.DataFrame({"adcode": ["410200", "410100"], "name_en": ["Kaifeng", "Zhengzhou"],
                          "watt_min": [80.0, 60.0]})
    acc_b = pd.DataFrame({"adcode": ["310000"], "name_en": ["Shanghai"], "watt_min": [50.0],
                          "potential_access": [3.0]})
    out = cities_table({"yrd": acc_b, "cpc": acc_a})
    assert list(out.columns) == ["cluster", "adcode", "name_en", "watt_min", "potential_access"]
    assert out[["cluster", "adcode"]].values.tolist() == [
        ["cpc", "410100"], ["cpc", "410200"], ["yrd", "310000"]]
    assert out["watt_min"].tolist() == [60.0, 80.0, 50.0]


def test_chart_is_written(tmp_path) -> None:
    table = comparison_table([_metrics("a", 75.0, 4, "illustrative"),
                              _metrics("b", 90.0, 12, "measured")])
    path = plot_comparison(table, tmp_path / "cmp.png")
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 300 and image.shape[1] > 600
    # 9 panels of bars: the image is not blank
    assert image[..., :3].std() > 0.05
    with pytest.raises(DataError, match="none of the metrics"):
        plot_comparison(table[["cluster"]], tmp_path / "x.png")


def test_hatches_follow_what_each_metric_rests_on(tmp_path) -> None:
    table = comparison_table([
        _metrics("a_proxy_fine", 75.0, 4, "illustrative").assign(ecology_quality="measured"),
        _metrics("b_osm_coarse", 80.0, 5, "measured").assign(ecology_quality="approximate"),
        _metrics("c_proxy_coarse", 85.0, 6, "illustrative").assign(ecology_quality="approximate"),
        _metrics("d_osm_fine", 90.0, 7, "measured").assign(ecology_quality="measured"),
        _metrics("e_scgraph_fine", 95.0, 8, "approximate").assign(ecology_quality="measured"),
    ])
    # road metrics are hatched unless the roads are measured (approximate scgraph roads too)
    assert bar_hatches(table, KEY_METRICS["od_mean_travel_time_min"][2]) == [
        "//", "", "//", "", "//"]
    assert bar_hatches(table, KEY_METRICS["eco_pc"][2]) == ["", "..", "..", "", ""]
    assert bar_hatches(table, KEY_METRICS["eco_source_share"][2]) == ["", "..", "..", "", ""]
    assert bar_hatches(table, KEY_METRICS["n_road_crossings"][2]) == [
        "//", "..", "//..", "", "//"]
    # an older table without the columns: no hatch
    assert bar_hatches(table.drop(columns="ecology_quality"), "ecology") == [""] * 5
    assert bar_hatches(table.drop(columns="transport_quality"), "roads") == [""] * 5
    out = plot_comparison(table, tmp_path / "chart.png")
    assert imread(out).shape[0] > 100
