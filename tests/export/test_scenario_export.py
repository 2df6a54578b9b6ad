"""A scenario in the maps, the report and the QGIS project, on hand-made toy files."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET

import geopandas as gpd
import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from builders import NX, NY, RES, X0, Y0, make_outputs, toy_inputs
from rasterio.transform import from_origin
from shapely.geometry import LineString, box

from agglonet.crs import CHINA_ALBERS
from agglonet.export import labels
from agglonet.export.maps import figure_texts
from agglonet.export.qgis_project import write_project
from agglonet.export.qgis_scenarios import scenario_layers
from agglonet.export.report import build_report, ranked_scenarios, scenario_section
from agglonet.export.scenario_maps import scenario_map, write_scenario_maps
from agglonet.io import read_layer, write_gpkg, write_raster
from agglonet.quality import read_quality
from agglonet.styles import diverging_style

SCENARIO = "new_bridge"


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """The toy cluster's outputs and one road-and-ecology scenario's files beside them."""
    root = tmp_path_factory.mktemp("scenario_export")
    res, rsc = make_outputs(root)
    folder = res / "scenarios" / SCENARIO
    transform = from_origin(X0, Y0, RES, RES)
    minutes = np.zeros((NY, NX), dtype="float32")
    minutes[10:20, 5:15] = -6.0  # faster near the bridge
    minutes[0, 0] = 2.0  # one cell slower
    current = np.zeros((NY, NX), dtype="float32")
    current[:, 30] = 0.5
    for name, data in (("travel_time_diff_min", minutes), ("current_density_diff", current)):
        write_raster(folder / f"{name}.tif", data, transform=transform, crs=CHINA_ALBERS,
                     nodata=-9999.0)
    ymid = Y0 - NY * RES / 2
    corridors = gpd.GeoDataFrame(
        {"corridor_id": [1, 2, None], "baseline_corridor_id": [1, None, 3],
         "from_source": [1, 1, 2], "to_source": [2, 3, 3],
         "status": ["changed", "new", "removed"], "cost_baseline": [10.0, None, 8.0],
         "cost_scenario": [9.0, 7.0, None], "quality": ["illustrative"] * 3},
        geometry=[LineString([(X0 + 2_000, ymid), (X0 + 30_000, ymid)]),
                  LineString([(X0 + 2_000, ymid - 5_000), (X0 + 30_000, ymid - 5_000)]),
                  LineString([(X0 + 2_000, ymid + 5_000), (X0 + 30_000, ymid + 5_000)])],
        crs=CHINA_ALBERS)
    write_gpkg(folder / "corridors_changed.gpkg", {"corridors_changed": corridors})
    roads = gpd.GeoDataFrame(
        {"u": [1], "v": [2], "key": [0], "osmid": [-1], "highway": ["motorway"],
         "speed_kph": [90.0], "length_m": [20_000.0], "travel_time_s": [800.0],
         "status": ["added"]},
        geometry=[LineString([(X0 + 5_000, ymid), (X0 + 25_000, ymid)])], crs=CHINA_ALBERS)
    write_gpkg(folder / "roads_edited.gpkg", {"roads_edited": roads})
    pd.DataFrame({
        "metric": ["watt_mean_min", "daily_access_2h_share", "eco_pc", "n_cities"],
        "side": ["transport", "transport", "ecology", "transport"],
        "baseline": [60.0, 0.5, 0.01, 2], "scenario": [54.0, 0.6, 0.01, 2],
        "change": [-6.0, 0.1, 0.0, 0], "relative_change": [-0.1, 0.2, 0.0, 0.0],
        "roads_source": ["proxy"] * 4, "quality": ["illustrative"] * 4,
    }).to_csv(folder / "metrics_diff.csv", index=False)
    pd.DataFrame({
        "scenario": ["green_belt", SCENARIO], "kind": ["ecology", "roads"], "n_edits": [1, 1],
        "description": ["a forest strip", "a bridge"], "km_built": [0.0, 20.0],
        "km2_restored": [12.0, 0.0], "watt_mean_saved_min": [0.0, 6.0],
        "od_time_saved_sum_min": [0.0, 30.0], "eco_eca_gain_km2": [3.0, 0.0],
        "corridor_cost_change_sum": [-2.0, 0.0], "rank_transport": [2, 1],
        "rank_ecology": [1, 2], "edits_quality": ["illustrative"] * 2,
        "roads_source": ["proxy"] * 2, "quality": ["illustrative"] * 2,
    }).to_csv(res / "scenarios" / "comparison.csv", index=False)
    return res, rsc, folder


def test_diverging_style_is_centred_on_zero():
    values = np.array([-6.0] * 50 + [2.0] * 50)
    shader = diverging_style(values, cmap="RdBu_r").find(".//colorrampshader")
    stops = [float(item.get("value")) for item in shader.iter("item")]
    assert stops[0] == -stops[-1] == -6.0  # symmetric about zero, however lopsided the data
    assert stops[len(stops) // 2] == 0.0
    # no change at all still gives a usable ramp (±1)
    shader = diverging_style(np.zeros(4), cmap="RdBu_r").find(".//colorrampshader")
    assert float(shader.get("minimumValue")) == -1.0


def test_scenario_map_draws_both_differences_the_edits_and_a_legend(toy):
    res, rsc, folder = toy
    texts = {}
    for lang in labels.LANGUAGES:
        paths = write_scenario_maps(
            {lang: folder / f"map.{lang}.png"},
            inputs={"travel_time_diff": folder / "travel_time_diff_min.tif",
                    "current_density_diff": folder / "current_density_diff.tif",
                    "corridors_changed": folder / "corridors_changed.gpkg",
                    "roads_edited": folder / "roads_edited.gpkg",
                    "boundaries": rsc / "boundaries.gpkg", "seats": rsc / "seats.gpkg"},
            title={lang: "toy"}, attribution=["© test"])
        image = mpimg.imread(paths[0])
        assert image.shape[1] > 1000 and image[..., :3].std() > 0.05
        fig = scenario_map(
            travel_time_diff=None, current_density_diff=None,
            corridors=read_layer(folder / "corridors_changed.gpkg", "corridors_changed"),
            edited_roads=read_layer(folder / "roads_edited.gpkg", "roads_edited"),
            edit_areas=gpd.GeoDataFrame(geometry=[box(X0, Y0 - 5_000, X0 + 5_000, Y0)],
                                        crs=CHINA_ALBERS),
            cities=None, seats=None, crs=CHINA_ALBERS, title="t", attribution=["a"],
            language=lang)
        texts[lang] = set(figure_texts(fig))
    assert {"road added", "corridor changed", "new corridor", "corridor removed (baseline)",
            "restoration or barrier area"} <= texts["en"]
    assert {"新增道路", "变化的廊道", "新增廊道"} <= texts["zh"]
    assert "road closed" not in texts["en"]  # only statuses present get a legend entry


def test_report_ranks_the_scenarios_and_shows_their_changes(toy):
    res, _, folder = toy
    comparison = pd.read_csv(res / "scenarios" / "comparison.csv")
    assert ranked_scenarios(comparison)["scenario"].tolist() == [SCENARIO, "green_belt"]
    png = folder / "map.en.png"
    if not png.exists():  # the map test writes it; a stand-in PNG otherwise
        mpimg.imsave(png, np.ones((4, 4, 3)))
    entry = {"comparison": res / "scenarios" / "comparison.csv",
             "scenarios": {SCENARIO: {"metrics_diff": folder / "metrics_diff.csv",
                                      "map": png}}}
    html_en = scenario_section(entry, cluster="toy", language="en")
    # ranked: the bridge (transport rank 1) before the forest strip
    assert html_en.index("Scenario new_bridge") < html_en.index("Scenario green_belt")
    assert "Mean WATT saved (min)" in html_en and "Rank by transport effect" in html_en
    # the key metrics of the bridge: baseline, scenario, change, relative change
    row = re.search(r"<code>watt_mean_min</code></td>(.*?)</tr>", html_en).group(1)
    assert re.findall(r"<td>(.*?)</td>", row) == ["60", "54", "-6", "-10.0 %"]
    row = re.search(r"<code>daily_access_2h_share</code></td>(.*?)</tr>", html_en).group(1)
    assert re.findall(r"<td>(.*?)</td>", row)[:2] == ["50.0 %", "60.0 %"]
    assert "illustrative" in html_en and html_en.count("data:image/png;base64,") == 1
    html_zh = scenario_section(entry, cluster="toy", language="zh")
    assert "情景分析" in html_zh and "示意" in html_zh and "平均加权出行时间节省" in html_zh
    assert scenario_section({"comparison": None}, cluster="toy", language="en") == ""


def test_report_has_a_scenarios_part_only_for_clusters_with_scenarios(toy, tmp_path):
    res, _, folder = toy
    inputs = toy_inputs(res)
    table = tmp_path / "cluster_comparison.csv"
    pd.DataFrame({"cluster": ["toy"], "name_en": ["Toy"], "eco_n_corridors": [0]}).to_csv(
        table, index=False)
    entry = {"comparison": res / "scenarios" / "comparison.csv",
             "scenarios": {SCENARIO: {"metrics_diff": folder / "metrics_diff.csv"}}}
    kwargs = {"clusters": {"toy": inputs}, "comparison_table": table, "comparison_chart": None,
              "config": {}, "language": "en"}
    with_part = build_report(**kwargs, scenarios={"toy": entry})
    assert "What if: planned projects" in with_part
    assert "What if" not in build_report(**kwargs)
    assert "What if" not in build_report(**kwargs, scenarios={"other": entry})
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', with_part)
    assert all(base64.b64decode(i)[:4] == b"\x89PNG" for i in images)


def test_qgis_project_has_one_group_per_scenario(toy):
    res, _, folder = toy
    files = {key: folder / f"{key}.{'tif' if key.endswith(('_min', '_diff')) else 'gpkg'}"
             for key in ("travel_time_diff_min", "current_density_diff", "corridors_changed",
                         "roads_edited")}
    other = {k: v for k, v in files.items() if k != "roads_edited"}  # an ecology scenario
    layers = scenario_layers({SCENARIO: files, "green_belt": other}, language="zh")
    assert [pl.group for pl in layers] == ["情景：green_belt"] * 3 + [f"情景：{SCENARIO}"] * 4
    assert len({pl.layer_id for pl in layers}) == 7  # unique across scenarios
    inputs = toy_inputs(res)
    qgs = write_project(res / "toy.zh.qgs", inputs=inputs, sources=inputs["sources_json"],
                        quality=read_quality(inputs["quality"]), crs=CHINA_ALBERS,
                        language="zh", extra_layers=layers)
    root = ET.parse(qgs).getroot()
    groups = [g.get("name") for g in root.find("layer-tree-group").findall("layer-tree-group")]
    assert groups[:2] == ["情景：green_belt", f"情景：{SCENARIO}"]  # on top of the baseline
    group = next(g for g in root.iter("layer-tree-group") if g.get("name") == f"情景：{SCENARIO}")
    entries = group.findall("layer-tree-layer")
    assert [e.get("name") for e in entries] == [
        f"改动的道路 · {SCENARIO}", f"廊道变化 · {SCENARIO}",
        f"出行时间变化（情景 − 基准，分钟） · {SCENARIO}",
        f"电流密度变化（情景 − 基准） · {SCENARIO}"]
    assert {e.get("checked") for e in entries} == {"Qt::Unchecked"}  # the baseline shows first
    assert all(e.get("source").startswith("./scenarios/") for e in entries)
    layer = {ml.findtext("id"): ml for ml in root.iter("maplayer")}
    raster = layer[f"scenario_{SCENARIO}_travel_time_diff_min_raster"]
    shader = raster.find(".//colorrampshader")
    assert float(shader.get("minimumValue")) == -float(shader.get("maximumValue")) == -6.0
    corridors = layer[f"scenario_{SCENARIO}_corridors_changed_corridors_changed"]
    renderer = corridors.find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "status"
