"""Border impedance of the OD pairs and the border-gap counts of metrics.csv, by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from agglonet.metrics.border_effect import border_effect_metrics, border_gap_metrics


def od(cross: list[bool]) -> pd.DataFrame:
    return pd.DataFrame({
        "travel_time_min": [60.0, 100.0, 30.0, 50.0, np.nan],
        "euclid_km": [50.0, 80.0, 30.0, 40.0, 10.0],
        "detour_index": [1.5, 1.3, 1.1, 1.2, np.nan],
        "cross_province": [*cross, "True"],
        "n_city_borders": [2, 3, 1, 1, pd.NA],
    })


def test_cross_and_within_province_pairs_by_hand():
    out = border_effect_metrics(od(["True", "True", "False", "False"]))
    assert out["n_pairs_cross_province"] == 2 and out["n_pairs_within_province"] == 2
    # detour: cross (1.5 + 1.3) / 2 = 1.4, within (1.1 + 1.2) / 2 = 1.15
    assert out["detour_index_cross_province"] == pytest.approx(1.4)
    assert out["detour_index_within_province"] == pytest.approx(1.15)
    assert out["detour_border_ratio"] == pytest.approx(1.4 / 1.15)
    # min per straight km: cross (60/50 + 100/80) / 2 = 1.225, within (30/30 + 50/40) / 2 = 1.125
    assert out["min_per_km_cross_province"] == pytest.approx(1.225)
    assert out["min_per_km_within_province"] == pytest.approx(1.125)
    assert out["min_per_km_border_ratio"] == pytest.approx(1.225 / 1.125)
    assert out["city_borders_mean"] == pytest.approx(7 / 4)  # the unreachable pair left out


def test_one_province_gives_nan_cross_figures():
    out = border_effect_metrics(od(["False"] * 4))
    assert out["n_pairs_cross_province"] == 0 and out["n_pairs_within_province"] == 4
    assert math.isnan(out["detour_index_cross_province"])
    assert math.isnan(out["detour_border_ratio"]) and math.isnan(out["min_per_km_border_ratio"])


def test_without_border_columns_everything_is_nan():
    out = border_effect_metrics(od(["True"] * 4).drop(columns=["cross_province"]))
    assert all(math.isnan(v) for v in out.values())


def test_gap_counts():
    gaps = pd.DataFrame({"border": ["city", "province", "city"]})
    assert border_gap_metrics(gaps) == {"n_border_gaps": 3, "n_border_gaps_province": 1}
    assert border_gap_metrics(gaps.iloc[:0]) == {"n_border_gaps": 0,
                                                 "n_border_gaps_province": 0}
    assert all(math.isnan(v) for v in border_gap_metrics(None).values())
