"""Same inputs → byte-identical metrics.csv, cluster_comparison.csv and cities_accessibility.csv."""

from __future__ import annotations

import pandas as pd
from builders import synthetic_cluster

from agglonet.io import write_csv
from agglonet.metrics.cluster import cluster_metrics
from agglonet.metrics.compare import cities_table, comparison_table


def _write_all(out_dir, order) -> dict[str, bytes]:
    paths = {}
    metrics = {}
    for name in order:
        table = cluster_metrics(**synthetic_cluster(name))
        paths[name] = write_csv(out_dir / f"{name}_metrics.csv", table, float_precision=6)
        metrics[name] = pd.read_csv(paths[name], dtype={"cluster": str, "name_zh": str})
    comparison = comparison_table([metrics[n] for n in order])
    write_csv(out_dir / "cluster_comparison.csv", comparison, float_precision=6)
    cities = cities_table({n: synthetic_cluster(n)["accessibility"] for n in order})
    write_csv(out_dir / "cities_accessibility.csv", cities, float_precision=6)
    return {p.name: p.read_bytes() for p in sorted(out_dir.iterdir())}


def test_two_runs_identical_bytes(tmp_path) -> None:
    first = _write_all(tmp_path / "one", ["beta", "alpha"])
    (tmp_path / "two").mkdir()
    second = _write_all(tmp_path / "two", ["alpha", "beta"])  # input order must not matter
    assert first == second


def test_written_text_is_plain_and_round_trips(tmp_path) -> None:
    (tmp_path / "run").mkdir()
    files = _write_all(tmp_path / "run", ["alpha"])
    text = files["alpha_metrics.csv"].decode("utf-8")
    header, row = text.splitlines()
    values = dict(zip(header.split(","), row.split(","), strict=True))
    assert values["area_km2"] == "300"
    assert values["population"] == "600"
    assert values["od_mean_travel_time_min"] == "75"
    assert values["mean_straightness"] == "0.544444"
    assert values["harmonic_efficiency"] == "0.00925926"   # no exponent
    assert values["eco_gamma"] == ""                        # NaN
    assert values["quality"] == "illustrative"
    assert "e-0" not in text and "\r" not in text
    # re-writing the table read back gives the same bytes (the comparison rule relies on it)
    again = tmp_path / "again.csv"
    write_csv(again, pd.read_csv(tmp_path / "run" / "alpha_metrics.csv",
                                   dtype={"cluster": str, "name_zh": str}), float_precision=6)
    assert again.read_bytes() == files["alpha_metrics.csv"]
