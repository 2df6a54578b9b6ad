"""Bad scenario inputs: each refused at start-up with the scenario and the edit named."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest

from agglonet.config import DEFAULT_CONFIG, load_yaml
from agglonet.errors import ConfigError
from agglonet.preflight import check_run
from agglonet.scenarios.edits import parse_scenarios

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "scenarios" / "central_plains_core.yaml"


@pytest.fixture(scope="module")
def base() -> dict:
    config = load_yaml(DEFAULT_CONFIG)
    config["scenarios"] = load_yaml(EXAMPLE)["scenarios"]
    return config


@pytest.fixture
def cfg(base) -> dict:
    return copy.deepcopy(base)


def geojson(path: Path, *features: dict) -> str:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": f.get("properties", {}), "geometry": f["geometry"]}
        for f in features]}), encoding="utf-8")
    return str(path)


def problems(cfg: dict, workdir: Path) -> str:
    found = check_run(cfg, workdir=workdir, catalogue=REPO / "config" / "clusters.yaml")
    return "\n".join(found.problems)


def test_the_example_passes(cfg):
    found = check_run(cfg, workdir=REPO)
    assert found.problems == []


def test_unknown_class_and_type_name_the_edit():
    with pytest.raises(ConfigError) as err:
        parse_scenarios({"x": {"cluster": "c", "edits": [
            {"type": "restore_landcover", "path": "p", "class": "jungle"},
            {"type": "plant_trees"}]}})
    text = str(err.value)
    assert "scenario 'x', edit 1 (restore_landcover): land-cover class 'jungle' is unknown" in text
    assert "forest" in text  # what was expected
    assert "scenario 'x', edit 2 (plant_trees): unknown edit type" in text


def test_missing_and_conflicting_keys():
    with pytest.raises(ConfigError) as err:
        parse_scenarios({"x": {"cluster": "c", "edits": [
            {"type": "add_roads", "path": "p"},
            {"type": "change_speed", "highway": "primary", "path": "p", "factor": 2},
            {"type": "add_roads", "path": "p", "snap_tolerance_m": 10, "highway": "canal"}]}},
            speeds_kph={"primary": 60})
    text = str(err.value)
    assert "edit 1 (add_roads): snap_tolerance_m is missing" in text
    assert "edit 2 (change_speed): give exactly one of highway or path" in text
    assert "edit 3 (add_roads): highway class 'canal' has no speed" in text


def test_reserved_name_and_duplicate_edits():
    edits = [{"type": "close_border_gaps", "top_n": 2}]
    with pytest.raises(ConfigError) as err:
        parse_scenarios({"baseline": {"cluster": "c", "edits": edits},
                         "a": {"cluster": "c", "edits": edits},
                         "b": {"cluster": "c", "edits": copy.deepcopy(edits)}})
    text = str(err.value)
    assert "scenario 'baseline': the name is reserved" in text
    assert "scenario 'b' has the same edits as scenario 'a'" in text


def test_schema_refuses_a_misspelt_edit_key(cfg, tmp_path):
    cfg["scenarios"]["ruhe_forest_corridor"]["edits"][0]["clas"] = "forest"
    assert "unknown key" in problems(cfg, tmp_path)


def test_geometry_outside_the_cluster(cfg, tmp_path):
    path = geojson(tmp_path / "far.geojson", {"geometry": {
        "type": "LineString", "coordinates": [[121.4, 31.2], [121.6, 31.3]]}})  # Shanghai
    cfg["scenarios"]["xinxiang_kaifeng_expressway"]["edits"][0].update(path=path, where=None)
    text = problems(cfg, tmp_path)
    assert ("scenario 'xinxiang_kaifeng_expressway', edit 1 (add_roads): feature 1 of" in text
            and "lies outside cluster 'central_plains_core'" in text)


def test_empty_polygon_and_empty_selection(cfg, tmp_path):
    path = geojson(tmp_path / "flat.geojson", {"geometry": {
        "type": "Polygon", "coordinates": [[[113.5, 34.5], [113.6, 34.5], [113.5, 34.5]]]}})
    cfg["scenarios"]["ruhe_forest_corridor"]["edits"][0].update(path=path, where=None)
    text = problems(cfg, tmp_path)
    assert "scenario 'ruhe_forest_corridor', edit 1 (restore_landcover)" in text
    assert "is an empty Polygon" in text
    cfg["scenarios"]["ruhe_forest_corridor"]["edits"][0].update(
        path=str(REPO / "config/scenarios/central_plains_core.geojson"),
        where={"project": "no_such_project"})
    assert "holds no feature matching where" in problems(cfg, tmp_path)


def test_a_bad_scenario_writes_nothing(cfg, tmp_path):
    (tmp_path / "results").mkdir()
    before = sorted(p for p in tmp_path.rglob("*"))
    cfg["scenarios"]["ruhe_forest_corridor"]["edits"][0]["class"] = "jungle"
    assert "jungle" in problems(cfg, tmp_path)
    assert sorted(p for p in tmp_path.rglob("*")) == before
    assert hashlib  # the start-up checks write no file at all
