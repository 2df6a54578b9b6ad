"""`make run-all`: config/all_clusters.yaml names every seed cluster; the workflow plans them."""

from __future__ import annotations

import math
import re

import pytest
from conftest import REPO, run_snakemake

from agglonet.config import DEFAULT_CONFIG, DEFAULT_SCHEMA, load_yaml, validate_config
from agglonet.retrieve.clusters import resolve_cluster_keys

ALL_CLUSTERS = REPO / "config" / "all_clusters.yaml"
#: the seven clusters of the national plans and the offline default (README's table)
SEEDS = {"central_plains_core", "central_plains", "yangtze_river_delta", "pearl_river_delta",
         "beijing_tianjin_hebei", "middle_yangtze", "guanzhong_plain", "chengdu_chongqing"}


def test_all_clusters_config_is_valid_and_names_every_seed_cluster() -> None:
    merged = {**load_yaml(DEFAULT_CONFIG), **load_yaml(ALL_CLUSTERS)}
    validate_config(merged, DEFAULT_SCHEMA)
    assert set(resolve_cluster_keys(merged)) == SEEDS
    assert len(resolve_cluster_keys(merged)) == 8


def test_dry_run_with_a_resolution_file_plans_every_cluster(tmp_path) -> None:
    resolution = tmp_path / "resolution.yaml"
    resolution.write_text("retrieve:\n  resolution_m: 250\n", encoding="utf-8")
    proc = run_snakemake("-n", "--configfile", str(ALL_CLUSTERS), str(resolution),
                         workdir=tmp_path)
    out = proc.stdout + proc.stderr
    for cluster in SEEDS:
        assert f"results/{cluster}/metrics.csv" in out, cluster
    assert "results/cluster_comparison.csv" in out
    # one circuit job per cluster, one comparison
    assert re.search(r"^circuit\s+8$", out, flags=re.MULTILINE), out[-2000:]
    assert re.search(r"^compare_clusters\s+1$", out, flags=re.MULTILINE), out[-2000:]


def _rule_blocks() -> dict[str, str]:
    """Text of every rule of ``rules/*.smk``, by rule name (indented rules included)."""
    blocks: dict[str, str] = {}
    for smk in sorted((REPO / "rules").glob("*.smk")):
        text = smk.read_text(encoding="utf-8")
        starts = list(re.finditer(r"^\s*rule (\w+):", text, flags=re.MULTILINE))
        for i, match in enumerate(starts):
            end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
            blocks.setdefault(match.group(1), "")
            blocks[match.group(1)] += text[match.start():end]
    return blocks


def test_every_rule_declares_memory_and_runtime() -> None:
    """A SLURM job asks for its rule's ``mem_mb`` and ``runtime``: no rule may leave them out."""
    blocks = _rule_blocks()
    assert len(blocks) >= 29, sorted(blocks)
    missing = []
    for name, block in blocks.items():
        resources = block.split("resources:", 1)[1] if "resources:" in block else ""
        resources = re.split(r"^\s{4}\w+:\s*$", resources, maxsplit=1, flags=re.MULTILINE)[0]
        has_grid = "grid_resources(" in resources
        if not (has_grid or ("mem_mb=" in resources and "runtime=" in resources)):
            missing.append(name)
    assert not missing, f"rules without mem_mb and runtime: {missing}"


def _common(resolution_m: float) -> dict:
    """rules/common.smk's helpers, with the default config at ``resolution_m`` (20 km buffer)."""
    config = load_yaml(DEFAULT_CONFIG)
    config["retrieve"] = {**config["retrieve"], "resolution_m": resolution_m, "buffer_km": 20}
    namespace = {"config": config, "CLUSTERS": []}
    exec(compile((REPO / "rules" / "common.smk").read_text(encoding="utf-8"), "common.smk",
                 "exec"), namespace)
    return namespace


def test_grid_resources_follow_the_cells_of_the_job(tmp_path, monkeypatch) -> None:
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    monkeypatch.chdir(tmp_path)
    common = _common(250.0)
    base_mb, mb_per_mcell, fixed_s, per_mcell_s, k = common["GRID_COSTS"]["corridors"]
    res = common["grid_resources"]("corridors")
    (tmp_path / "results").mkdir()
    with rasterio.open("results/r.tif", "w", driver="GTiff", width=3000, height=2000, count=1,
                       dtype="uint8", crs="EPSG:3857",
                       transform=from_origin(0, 0, 250, 250)) as dst:
        dst.write(np.zeros((1, 2000, 3000), dtype="uint8"))
    # 6 M cells, by hand: memory 1.5 × (base + slope · 6), time 5 × (fixed + a · 6^k) s
    expected_mb = math.ceil(1.5 * (base_mb + mb_per_mcell * 6.0))
    expected_min = max(10, math.ceil(5.0 * (fixed_s + per_mcell_s * 6.0**k) / 60.0))
    assert res["mem_mb"](None, ["results/r.tif"], 1) == expected_mb
    assert res["mem_mb"](None, ["results/r.tif"], 2) == 2 * expected_mb
    assert res["runtime"](None, ["results/r.tif"], 1) == expected_min
    # before the raster exists: the largest seed cluster's grid at this resolution (10.39 M)
    assert common["grid_cells"](["results/missing.tif"]) == pytest.approx(10.39e6)
    assert _common(125.0)["grid_cells"]([]) == pytest.approx(4 * 10.39e6)


def test_grid_cells_from_the_boundaries_before_the_grid_exists(tmp_path, monkeypatch) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    monkeypatch.chdir(tmp_path)
    (tmp_path / "resources").mkdir()
    gpd.GeoDataFrame(geometry=[box(1_000, 2_000, 101_000, 52_000)], crs="EPSG:3857").to_file(
        "resources/boundaries.gpkg", layer="cluster")
    # (100 + 2·20) km × (50 + 2·20) km at 1 km = 140 × 90 cells; at 250 m 560 × 360
    assert _common(1000.0)["grid_cells"](["resources/boundaries.gpkg"]) == 140 * 90
    assert _common(250.0)["grid_cells"](["resources/boundaries.gpkg"]) == 560 * 360
