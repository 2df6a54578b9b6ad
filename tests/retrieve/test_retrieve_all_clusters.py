"""Every catalogue cluster: members resolve against the boundary data, boundaries and seats build.

Fast: vector data only (no rasters). Areas of the Central Plains core are checked against the
official figures (Zhengzhou 7,446 km²; the nine cities ≈ 58,000 km²).
"""

import pytest

from agglonet.retrieve.boundaries import build_boundaries
from agglonet.retrieve.clusters import city_index, cluster_members, load_catalogue, match_city
from agglonet.retrieve.seats import city_seats, county_seats, load_places

CATALOGUE = load_catalogue()


@pytest.fixture(scope="module")
def places():
    return load_places()


@pytest.mark.parametrize("key", list(CATALOGUE))
def test_cluster_members_resolve_and_build(key, places):
    index = city_index()
    members = cluster_members(key, config={})
    for member in CATALOGUE[key]["members"]:
        # the catalogue's Chinese name, its stem and its adcode all lead to the same unit
        assert match_city(member["name_zh"], index=index)["adcode"] == member["adcode"]
        assert match_city(member["name_zh"].removesuffix("市"), index=index)["adcode"] == \
            member["adcode"]
        assert match_city(int(member["adcode"]), index=index)["name_zh"] == member["name_zh"]
    layers = build_boundaries(members, cluster=key)
    cities = layers["cities"]
    assert len(cities) == len(CATALOGUE[key]["members"])
    assert (cities["area_km2"] > 100).all()
    assert not cities.geometry.is_empty.any() and cities.geometry.is_valid.all()
    assert set(layers["counties"]["city_adcode"]) == set(cities["adcode"])
    seats = city_seats(cities, places=places)
    assert len(seats) == len(cities)
    # every seat lies inside its own city
    joined = seats.set_index("adcode").geometry.within(cities.set_index("adcode").geometry)
    assert joined.all()
    assert (seats["location_source"] == "geonames").all()
    county = county_seats(layers["counties"], places=places)
    assert len(county) == len(layers["counties"])


def test_central_plains_core_areas():
    members = cluster_members("central_plains_core", config={})
    layers = build_boundaries(members, cluster="central_plains_core")
    area = layers["cities"].set_index("name_zh")["area_km2"]
    assert len(area) == 9
    assert area["郑州市"] == pytest.approx(7400, rel=0.10)
    assert area.sum() == pytest.approx(58000, rel=0.10)
    assert layers["cluster"]["area_km2"].iloc[0] == pytest.approx(58000, rel=0.10)
    assert area["济源市"] == pytest.approx(1931, rel=0.10)  # official 1,931 km²
