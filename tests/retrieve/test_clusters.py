"""Cluster catalogue, cluster-key resolution and city-name matching."""

import pytest

from agglonet.errors import ConfigError, UnknownCityError
from agglonet.names import normalise_alias, strip_suffix
from agglonet.retrieve.clusters import (
    cluster_members,
    load_catalogue,
    match_city,
    resolve_cluster_keys,
)

EXPECTED_SIZES = {  # clusters.md
    "central_plains_core": 9, "central_plains": 30, "yangtze_river_delta": 26,
    "pearl_river_delta": 9, "beijing_tianjin_hebei": 13, "middle_yangtze": 31,
    "guanzhong_plain": 11, "chengdu_chongqing": 16,
}


def test_catalogue_has_the_eight_clusters_with_pinyin_for_every_member():
    cat = load_catalogue()
    assert {k: len(v["members"]) for k, v in cat.items()} == EXPECTED_SIZES
    for entry in cat.values():
        for m in entry["members"]:
            assert m["name_en"] and m["name_en"].isascii()
            assert len(m["adcode"]) == 6 and m["adcode"].isdigit()


def test_partial_flags_follow_clusters_md():
    cat = load_catalogue()
    partial = {k: sorted(m["name_zh"] for m in v["members"] if m["partial"])
               for k, v in cat.items()}
    assert partial["guanzhong_plain"] == sorted(["商洛市", "运城市", "临汾市", "平凉市", "庆阳市"])
    assert partial["chengdu_chongqing"] == sorted(["重庆市", "绵阳市", "达州市", "雅安市"])
    assert partial["middle_yangtze"] == ["吉安市"]
    assert partial["central_plains"] == []  # 运城 is whole in the Central Plains plan


def test_helpers():
    assert strip_suffix("郑州市") == "郑州"
    assert strip_suffix("神农架林区") == "神农架"
    assert normalise_alias("Xi'an") == normalise_alias("xi an") == normalise_alias("XI-AN")


def test_resolve_all_and_list():
    assert resolve_cluster_keys({"clusters": "all"}) == list(EXPECTED_SIZES)
    cfg = {"clusters": ["pearl_river_delta", "mine"], "custom_clusters": {"mine": {
        "members": ["郑州"]}}}
    assert resolve_cluster_keys(cfg) == ["pearl_river_delta", "mine"]


def test_unknown_cluster_key_lists_closest():
    with pytest.raises(ConfigError, match="central_plain'.*closest: central_plains"):
        resolve_cluster_keys({"clusters": ["central_plain"]})


def test_custom_cluster_cannot_shadow_catalogue():
    with pytest.raises(ConfigError, match="already catalogue"):
        resolve_cluster_keys({"clusters": "all",
                              "custom_clusters": {"pearl_river_delta": {"members": ["广州"]}}})


@pytest.mark.parametrize("value,adcode", [
    ("郑州", "410100"), ("郑州市", "410100"), ("410100", "410100"), (410100, "410100"),
    ("Zhengzhou", "410100"), ("zheng zhou", "410100"), ("ZHENG-ZHOU", "410100"),
    ("Xian", "610100"), ("Xi'an", "610100"), ("济源", "419001"), (419001, "419001"),
    ("仙桃", "429004"), ("Tianmen", "429006"), ("北京", "110000"), ("Chongqing", "500000"),
    ("156320500", "320500"),
    ("福州", "350100"),  # not in the catalogue: matched against the boundary data
    ("三亚市", "460200"),
])
def test_match_city(value, adcode):
    assert match_city(value)["adcode"] == adcode


@pytest.mark.parametrize("alias,names", [("Suzhou", ["苏州市", "宿州市"]),
                                         ("Taizhou", ["泰州市", "台州市"])])
def test_ambiguous_alias_names_both_candidates(alias, names):
    with pytest.raises(UnknownCityError, match="ambiguous") as err:
        match_city(alias)
    for name in names:
        assert name in str(err.value)


@pytest.mark.parametrize("value,closest", [("郑洲", "郑州市"), ("Zhengzho", "郑州市"),
                                           ("Luoyng", "洛阳市"), ("Kaifng", "开封市")])
def test_unknown_city_lists_closest(value, closest):
    with pytest.raises(UnknownCityError) as err:
        match_city(value)
    message = str(err.value)
    assert repr(value) in message and "closest matches" in message and closest in message


def test_unknown_adcode():
    with pytest.raises(UnknownCityError, match="'999999' matches no"):
        match_city("999999")


def test_custom_members_mixed_forms_and_name_en():
    cfg = {"custom_clusters": {"zb": {"name_en": "Zheng-Bian", "members": [
        "郑州", "Kaifeng", 410300, "福州市"]}}}
    frame = cluster_members("zb", config=cfg)
    assert list(frame["adcode"]) == ["350100", "410100", "410200", "410300"]
    names = dict(zip(frame["adcode"], frame["name_en"], strict=True))
    assert names["410200"] == "Kaifeng"
    assert names["350100"] == "Fuzhou"  # from GeoNames (福州 among the alternate names)
    assert not frame["partial"].any()


def test_custom_duplicate_member():
    cfg = {"custom_clusters": {"zb": {"members": ["郑州", 410100]}}}
    with pytest.raises(ConfigError, match="郑州市 more than once"):
        cluster_members("zb", config=cfg)


def test_custom_unknown_member():
    cfg = {"custom_clusters": {"zb": {"members": ["郑州", "Gotham"]}}}
    with pytest.raises(UnknownCityError, match="'Gotham'"):
        cluster_members("zb", config=cfg)
