"""Industrial structure: S, K, location quotients and specialisation by hand; Spearman vs scipy."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from scipy.stats import spearmanr

from agglonet.io import write_csv
from agglonet.metrics.structure import (
    NO_TABLE_NOTE,
    PAIR_COLUMNS,
    location_quotients,
    plot_similarity,
    similarity_time_correlation,
    specialisation_index,
    structure_metrics,
    structure_results,
)

ROOT = Path(__file__).resolve().parents[2]

# Three cities, three sectors:  A = (1, 1, 2) → shares (1/4, 1/4, 1/2)
#                               B = (2, 1, 1) → (1/2, 1/4, 1/4)
#                               C = (0, 1, 3) → (0, 1/4, 3/4)
VALUES = {"410100": (1, 1, 2), "410200": (2, 1, 1), "410300": (0, 1, 3)}


def three_cities() -> pd.DataFrame:
    return pd.DataFrame([{"adcode": c, "sector": s, "value": float(v), "year": 2020}
                         for c, vals in VALUES.items()
                         for s, v in zip(("s1", "s2", "s3"), vals, strict=True)])


def cities() -> pd.DataFrame:
    return pd.DataFrame({"adcode": list(VALUES), "name_zh": ["甲市", "乙市", "丙市"],
                         "name_en": ["A", "B", "C"]})


def od_times(t: dict[tuple[str, str], float]) -> pd.DataFrame:
    rows = [{"origin_adcode": a, "dest_adcode": b, "travel_time_min": m, "euclid_km": m}
            for (a, b), m in t.items()]
    rows += [{"origin_adcode": b, "dest_adcode": a, "travel_time_min": m, "euclid_km": m}
             for (a, b), m in t.items()]
    return pd.DataFrame(rows)


def test_similarity_and_krugman_on_three_cities_match_a_hand_computation():
    od = od_times({("410100", "410200"): 30.0, ("410100", "410300"): 60.0,
                   ("410200", "410300"): 90.0})
    out = structure_results(three_cities(), cities=cities(), od=od, threshold=0.8)
    pairs = out["pairs"].set_index(["a_adcode", "b_adcode"])
    # S_AB = (1/8 + 1/16 + 1/8) / √((3/8)(3/8)) = (5/16) / (3/8) = 5/6
    assert pairs.loc[("410100", "410200"), "similarity"] == pytest.approx(5 / 6)
    # S_AC = (0 + 1/16 + 3/8) / √((3/8)(5/8)) = (7/16) / (√15/8) = 7 / (2√15)
    assert pairs.loc[("410100", "410300"), "similarity"] == pytest.approx(7 / (2 * math.sqrt(15)))
    # S_BC = (0 + 1/16 + 3/16) / √((3/8)(5/8)) = (1/4) / (√15/8) = 2/√15
    assert pairs.loc[("410200", "410300"), "similarity"] == pytest.approx(2 / math.sqrt(15))
    # K = Σ|x − y|: AB 1/4 + 0 + 1/4, AC 1/4 + 0 + 1/4, BC 1/2 + 0 + 1/2
    assert pairs["dissimilarity"].tolist() == pytest.approx([0.5, 0.5, 1.0])
    assert pairs["above_threshold"].tolist() == [True, True, False]  # 0.833, 0.904, 0.516
    assert pairs["travel_time_min"].tolist() == [30.0, 60.0, 90.0]
    summary = out["summary"]
    assert summary["similarity_mean"] == pytest.approx((5 / 6 + 7 / (2 * math.sqrt(15))
                                                        + 2 / math.sqrt(15)) / 3)
    assert summary["dissimilarity_mean"] == pytest.approx(2 / 3)
    assert summary["similarity_high_share"] == pytest.approx(2 / 3)
    assert summary["year"] == "2020" and summary["n_cities"] == 3
    assert list(out["pairs"].columns) == list(PAIR_COLUMNS)


def test_location_quotients_and_specialisation_by_hand():
    lq = location_quotients(three_cities()).set_index(["adcode", "sector"])
    # cluster totals (3, 3, 6) of 12 → X = (1/4, 1/4, 1/2)
    assert lq.loc[("410100", "s1"), "cluster_share"] == pytest.approx(0.25)
    assert lq.xs("410100")["location_quotient"].tolist() == pytest.approx([1, 1, 1])
    assert lq.xs("410200")["location_quotient"].tolist() == pytest.approx([2, 1, 0.5])
    assert lq.xs("410300")["location_quotient"].tolist() == pytest.approx([0, 1, 1.5])
    si = specialisation_index(three_cities())
    # A vs B + C = (2, 2, 4) → (1/4, 1/4, 1/2): 0; B vs A + C = (1, 2, 5)/8: 3/8 + 0 + 3/8;
    # C vs A + B = (3, 2, 3)/8: 3/8 + 0 + 3/8
    assert si.tolist() == pytest.approx([0.0, 0.75, 0.75])


def test_spearman_matches_scipy_and_a_hand_rank_computation():
    pairs = pd.DataFrame({"similarity": [0.9, 0.8, 0.7, 0.95, math.nan],
                          "travel_time_min": [10.0, 30.0, 20.0, 40.0, 50.0]})
    rank = similarity_time_correlation(pairs)
    expected = spearmanr([0.9, 0.8, 0.7, 0.95], [10.0, 30.0, 20.0, 40.0])
    assert rank["rho"] == pytest.approx(float(expected.statistic))
    assert rank["pvalue"] == pytest.approx(float(expected.pvalue))
    assert rank["n_pairs"] == 4
    # ranks S (3, 2, 1, 4), T (1, 3, 2, 4): d = (2, −1, −1, 0), ρ = 1 − 6·6 / (4·15) = 0.4
    assert rank["rho"] == pytest.approx(0.4)
    few = similarity_time_correlation(pairs.iloc[:2])
    assert math.isnan(few["rho"]) and few["n_pairs"] == 2


def test_cluster_figures_recomputed_from_the_written_pairs(tmp_path):
    od = od_times({("410100", "410200"): 30.0, ("410100", "410300"): 60.0,
                   ("410200", "410300"): 90.0})
    out = structure_results(three_cities(), cities=cities(), od=od, threshold=0.8,
                            labels={"roads_source": "osm", "quality": "measured"})
    write_csv(tmp_path / "pairs.csv", out["pairs"])
    pairs = pd.read_csv(tmp_path / "pairs.csv", dtype={"a_adcode": str, "b_adcode": str})
    row = structure_metrics(pairs, json.loads(json.dumps(out["summary"])))
    assert row["structure_n_cities"] == 3
    assert row["similarity_mean"] == pytest.approx(out["summary"]["similarity_mean"], rel=1e-5)
    assert row["similarity_high_share"] == pytest.approx(2 / 3)
    # ρ of S (5/6, 0.904, 0.516) with T (30, 60, 90): ranks (2, 3, 1) vs (1, 2, 3) → ρ = −0.5
    assert row["similarity_time_spearman"] == pytest.approx(-0.5)
    assert row["similarity_time_n_pairs"] == 3


def test_without_a_table_the_outputs_say_how_to_give_one(tmp_path):
    out = structure_results(None, cities=cities(), od=None,
                            labels={"roads_source": "osm", "quality": "measured"})
    assert out["pairs"].empty and out["cities"].empty and out["sectors"].empty
    assert out["summary"]["note"] == NO_TABLE_NOTE and "economy.sector_table" in NO_TABLE_NOTE
    assert list(out["pairs"].columns) == [*PAIR_COLUMNS, "roads_source", "quality"]
    row = structure_metrics(out["pairs"], out["summary"])
    assert row["structure_n_cities"] == 0 and math.isnan(row["similarity_mean"])
    assert row["structure_note"] == NO_TABLE_NOTE
    png = plot_similarity(out["pairs"], tmp_path / "s.png", cluster="toy", summary=out["summary"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_cities_and_mixed_years_are_said():
    rows = three_cities()
    rows.loc[rows["adcode"] == "410300", "year"] = 2022
    more = pd.concat([cities(), pd.DataFrame({"adcode": ["410400"], "name_zh": ["丁市"],
                                              "name_en": ["D"]})], ignore_index=True)
    out = structure_results(rows, cities=more, od=None, missing=["410400 丁市"])
    note = out["summary"]["note"]
    assert "410400 丁市" in note and "2020 ×2, 2022 ×1" in note
    assert out["summary"]["missing_en"] == ["D (410400)"]
    assert out["cities"]["year"].tolist() == [2020, 2020, 2022]
    assert out["pairs"]["travel_time_min"].isna().all()  # no OD table: no times


def test_heat_map_is_written_and_stable(tmp_path):
    out = structure_results(three_cities(), cities=cities(), od=None)
    a = plot_similarity(out["pairs"], tmp_path / "a.png", cluster="toy", summary=out["summary"])
    b = plot_similarity(out["pairs"], tmp_path / "b.png", cluster="toy", summary=out["summary"])
    assert a.read_bytes() == b.read_bytes()


def test_worked_example_is_the_shipped_fact_table_in_long_form():
    """docs/sector_table_central_plains.csv holds exactly the split rows of the shipped table."""
    wide = pd.read_csv(ROOT / "src" / "agglonet" / "data" / "central_plains_sectors.csv",
                       dtype={"adcode": str})
    wide = wide.dropna(subset=["primary_100m_yuan"])
    long = pd.read_csv(ROOT / "docs" / "sector_table_central_plains.csv", dtype={"adcode": str})
    assert sorted(set(long["adcode"])) == sorted(wide["adcode"])
    for _, row in wide.iterrows():
        mine = long[long["adcode"] == row["adcode"]].set_index("sector")
        for sector in ("primary", "secondary", "tertiary"):
            assert mine.loc[sector, "value"] == row[f"{sector}_100m_yuan"]
            assert mine.loc[sector, "year"] == row["year"]
            assert mine.loc[sector, "source"].startswith(row["source_id"])
