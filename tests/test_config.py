"""Schema validation of config/config.yaml variants: every error names the key path and what was
expected; cluster keys are checked against the catalogue."""

import copy

import pytest

from agglonet.config import DEFAULT_CONFIG, DEFAULT_SCHEMA, load_yaml, validate_config
from agglonet.errors import ConfigError
from agglonet.retrieve.clusters import resolve_cluster_keys


@pytest.fixture(scope="module")
def base():
    return load_yaml(DEFAULT_CONFIG)


def _error(config):
    with pytest.raises(ConfigError) as err:
        validate_config(config, DEFAULT_SCHEMA)
    return str(err.value)


def test_default_config_is_valid(base):
    assert validate_config(base, DEFAULT_SCHEMA) is base
    assert resolve_cluster_keys(base) == ["central_plains_core"]


def test_unknown_key_with_path_and_suggestion(base):
    cfg = copy.deepcopy(base)
    cfg["retrieve"]["resolutoin_m"] = 500
    message = _error(cfg)
    assert "config.retrieve.resolutoin_m: unknown key" in message
    assert "did you mean resolution_m" in message


def test_wrong_type(base):
    cfg = copy.deepcopy(base)
    cfg["retrieve"]["buffer_km"] = "twenty"
    assert "config.retrieve.buffer_km: 'twenty' has the wrong type; expected number" in _error(cfg)


def test_bad_enum(base):
    cfg = copy.deepcopy(base)
    cfg["retrieve"]["landcover"]["source"] = "glc2000"
    message = _error(cfg)
    assert "config.retrieve.landcover.source: 'glc2000' is not one of" in message
    assert "'modis'" in message and "'worldcover'" in message


def test_bad_boundary_source_and_resolution_reported_together(base):
    cfg = copy.deepcopy(base)
    cfg["retrieve"]["boundaries"]["source"] = "osm"
    cfg["retrieve"]["resolution_m"] = 1
    message = _error(cfg)
    assert "config.retrieve.boundaries.source" in message
    assert "config.retrieve.resolution_m" in message


def test_bad_cluster_key_pattern(base):
    cfg = copy.deepcopy(base)
    cfg["clusters"] = ["Central Plains"]
    assert "config.clusters" in _error(cfg)


def test_unknown_cluster_key_passes_schema_but_not_resolution(base):
    cfg = copy.deepcopy(base)
    cfg["clusters"] = ["pearl_river"]
    validate_config(cfg, DEFAULT_SCHEMA)
    with pytest.raises(ConfigError, match="unknown cluster 'pearl_river'.*pearl_river_delta"):
        resolve_cluster_keys(cfg)


def test_custom_cluster_schema(base):
    cfg = copy.deepcopy(base)
    cfg["custom_clusters"] = {"zb": {"members": ["郑州", 410200], "colour": "red"}}
    assert "config.custom_clusters.zb.colour: unknown key" in _error(cfg)
    cfg["custom_clusters"] = {"zb": {"members": []}}
    assert "config.custom_clusters.zb.members" in _error(cfg)


def test_clusters_neither_list_nor_all_says_what_is_expected(base):
    cfg = copy.deepcopy(base)
    cfg["clusters"] = "al"
    with pytest.raises(ConfigError, match=r"config\.clusters: 'al' is not valid; expected a list "
                                          r"of cluster keys .*or \"all\""):
        validate_config(cfg, DEFAULT_SCHEMA)
