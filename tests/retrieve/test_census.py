"""City masses: the shipped 2020 census table, user tables, precedence and the GeoNames fallback."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agglonet.errors import ConfigError, DataError
from agglonet.retrieve import census
from agglonet.retrieve.clusters import load_catalogue

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "src" / "agglonet" / "data"

# The nine Central Plains core cities, typed from china_prefecture_stats.md / .csv (source
# cpop_henan: citypopulation.de, Henan, column "Population Census (C) 2020-11-01").
CENTRAL_PLAINS_CORE = {
    "410100": 12_600_574,  # 郑州
    "410200": 4_824_016,   # 开封
    "410300": 7_056_699,   # 洛阳
    "410400": 4_987_137,   # 平顶山
    "410700": 6_251_929,   # 新乡
    "410800": 3_521_078,   # 焦作
    "411000": 4_379_998,   # 许昌
    "411100": 2_367_490,   # 漯河
    "419001": 727_265,     # 济源
}
CENTRAL_PLAINS_CORE_TOTAL = 46_716_186  # added up by hand from the nine lines above


def seats(rows: list[tuple[str, str, int | None, str]]) -> pd.DataFrame:
    """A seats table as city_seats gives it: adcode, names, GeoNames population and source."""
    return pd.DataFrame({
        "adcode": [r[0] for r in rows], "name_zh": [r[1] for r in rows],
        "name_en": ["" for _ in rows],
        "population": pd.array([r[2] for r in rows], dtype="Int64"),
        "population_source": [r[3] for r in rows],
        "geonameid": pd.array([int(r[3].split(":")[1].split(" ")[0]) if r[3] != "none" else None
                               for r in rows], dtype="Int64"),
    })


def write(tmp_path: Path, text: str, name: str = "masses.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


MEMBERS = pd.DataFrame({"cluster": ["zhengbian"] * 3, "adcode": ["410100", "410200", "410300"],
                        "name_zh": ["郑州市", "开封市", "洛阳市"], "counties": [(), (), ()]})


# ----------------------------------------------------------------------------- shipped table
def test_shipped_table_has_every_catalogue_member_and_one_gap():
    table = census.load_census_table()
    members = {m["adcode"] for entry in load_catalogue().values() for m in entry["members"]}
    assert set(table["adcode"]) == members and len(table) == 133
    assert table["pop_census_2020"].notna().sum() == 132
    assert census.census_gaps(table)["adcode"].tolist() == ["429004"]
    assert table["gdp_2020_100m_yuan"].notna().sum() == 82


def test_every_shipped_value_keeps_a_source_id_defined_in_the_notes():
    table = census.load_census_table()
    notes = (DATA / census.CENSUS_NOTES).read_text(encoding="utf-8") + "".join(
        p.read_text(encoding="utf-8") for p in sorted((DATA / "sources").glob("*.md")))
    for value, source in (("pop_census_2020", "source_pop"),
                          ("gdp_2020_100m_yuan", "source_gdp")):
        has = table[value].notna()
        assert (table.loc[has, source] != "").all()
        undefined = sorted({s for s in table.loc[has, source] if s not in notes})
        assert undefined == [], f"source ids not defined in the notes: {undefined}"


def test_central_plains_core_values_match_the_typed_figures():
    table = census.load_census_table().set_index("adcode")
    assert sum(CENTRAL_PLAINS_CORE.values()) == CENTRAL_PLAINS_CORE_TOTAL
    for code, persons in CENTRAL_PLAINS_CORE.items():
        assert table.loc[code, "pop_census_2020"] == persons
        assert table.loc[code, "source_pop"] == "cpop_henan"


def test_definitional_notes_only_on_the_three_units():
    table = census.load_census_table()
    noted = table.loc[table["pop_census_2020_note"] != "", "adcode"].tolist()
    assert noted == ["440300", "610100", "610400"]
    notes = table.set_index("adcode")["pop_census_2020_note"]
    assert "深汕" in notes["440300"] and "杨凌" in notes["610400"]
    assert "西咸新区" in notes["610100"] and "西咸新区" in notes["610400"]


def test_package_data_globs_cover_every_shipped_file():
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "tool"]["setuptools"]["package-data"]["agglonet"]
    shipped = [p.relative_to(DATA.parent).as_posix() for p in DATA.rglob("*") if p.is_file()]
    uncovered = [f for f in shipped if not any(Path(f).match(g) and f.count("/") == g.count("/")
                                               for g in globs)]
    assert census.census_table_path().is_file() and uncovered == []


@pytest.mark.parametrize(("line", "message"), [
    ("410100,郑州市,Zhengzhou,河南省,12600574,,,,,,", "has no source_pop"),
    ("410100,郑州市,Zhengzhou,河南省,-5,,,,,cpop_henan,", "positive whole number"),
    ("410100,郑州市,Zhengzhou,河南省,12600574.5,,,,,cpop_henan,", "positive whole number"),
    ("41010,郑州市,Zhengzhou,河南省,12600574,,,,,cpop_henan,", "not 6-digit"),
])
def test_a_broken_census_table_is_refused(tmp_path, line, message):
    header = ",".join(census._CENSUS_COLUMNS)
    path = write(tmp_path, f"{header}\n{line}\n", "stats.csv")
    with pytest.raises(DataError, match=message):
        census.load_census_table(path)


def test_a_census_table_with_a_repeated_adcode_is_refused(tmp_path):
    header = ",".join(census._CENSUS_COLUMNS)
    row = "410100,郑州市,Zhengzhou,河南省,12600574,,,,,cpop_henan,"
    with pytest.raises(DataError, match="410100.*more than once"):
        census.load_census_table(write(tmp_path, f"{header}\n{row}\n{row}\n", "stats.csv"))


# ----------------------------------------------------------------------------- user table
def test_user_table_is_read_with_years_sources_and_labels(tmp_path):
    path = write(tmp_path, "adcode,name_zh,population,gdp,year,gdp_year,gdp_source,source\n"
                           "410100,郑州市,\"12,600,574\",12934.7,2020,2022,bulletin 2022,census\n"
                           "410200,开封市,,2371.8,,,,\n")
    table = census.load_mass_table(path, members=MEMBERS).set_index("adcode")
    assert table.loc["410100", "population"] == 12_600_574
    assert table.loc["410100", "population_year"] == 2020
    assert table.loc["410100", "gdp_year"] == 2022
    assert table.loc["410100", "population_label"] == "user:masses.csv (census)"
    assert table.loc["410100", "gdp_label"] == "user:masses.csv (bulletin 2022)"
    assert pd.isna(table.loc["410200", "population"]) and table.loc["410200", "gdp"] == 2371.8
    assert table.loc["410200", "gdp_label"] == "user:masses.csv"
    assert table["line"].tolist() == [2, 3]


@pytest.mark.parametrize(("text", "message"), [
    ("code,population\n410100,1\n", r"masses\.csv: no 'adcode' column"),
    ("adcode,name_zh\n410100,郑州市\n", "neither a 'population' nor a 'gdp' column"),
    ("adcode,populaton\n410100,5\n", r"unknown columns \['populaton'\]"),
    ("adcode,population\n41010,5000\n", r"masses\.csv, line 2: adcode '41010' is not a 6-digit"),
    ("adcode,population\n410100,5000\n410200,6000\n410100,7000\n",
     r"line 4: adcode 410100 appears again \(first on line 2\)"),
    ("adcode,population\n410100,many\n", r"line 2: population 'many' is not a number"),
    ("adcode,population\n410100,0\n", r"line 2: population '0' is not positive"),
    ("adcode,population\n410100,-3\n", r"line 2: population '-3' is not positive"),
    ("adcode,population\n410100,1260.5\n", "line 2: population '1260.5' is not a whole number"),
    ("adcode,gdp\n410100,1200300000000\n", r"line 2: gdp '1200300000000' exceeds 100,000 亿元"),
    ("adcode,gdp\n410100,abc\n", r"line 2: gdp 'abc' is not a number"),
    ("adcode,population,year\n410100,5000,20\n", r"line 2: year '20' is not a year"),
])
def test_user_table_errors_name_the_file_line_and_value(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        census.load_mass_table(write(tmp_path, text), members=MEMBERS)


def test_user_table_adcode_outside_the_run_names_the_closest_member(tmp_path):
    path = write(tmp_path, "adcode,population\n410100,5000\n410900,3772088\n")
    with pytest.raises(DataError) as err:
        census.load_mass_table(path, members=MEMBERS)
    text = str(err.value)
    assert "masses.csv, line 3: adcode 410900 (濮阳市) is not a member" in text
    assert "(zhengbian)" in text and "closest member: 410300 洛阳市" in text


def test_missing_user_table_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="transport.mass_table .*nope.csv.* does not exist"):
        census.load_mass_table(tmp_path / "nope.csv")


def test_closest_member_prefers_the_same_prefecture_then_the_nearest_code():
    members = pd.DataFrame({"adcode": ["410100", "410800", "420100"],
                            "name_zh": ["郑州市", "焦作市", "武汉市"]})
    assert census.closest_member("410900", members) == "410800 焦作市"
    assert census.closest_member("420600", members) == "420100 武汉市"
    assert census.closest_member("410102", members) == "410100 郑州市"


# ----------------------------------------------------------------------------- precedence
def test_user_over_census_over_geonames_per_quantity(tmp_path):
    user = census.load_mass_table(write(tmp_path, "adcode,population,gdp,year\n"
                                                  "410200,5000000,,2021\n"
                                                  "410800,,2234.78,2022\n"))
    out = census.assign_masses(seats([
        ("410100", "郑州市", 4_253_913, "geonames:1784658"),
        ("410200", "开封市", 1_451_741, "geonames:1804879"),
        ("410800", "焦作市", 865_413, "geonames:1805987"),
        ("429004", "仙桃市", 290_000, "geonames:1790369"),
    ]), user_table=user).set_index("adcode")
    # census where the user is silent
    assert out.loc["410100", "population"] == 12_600_574
    assert out.loc["410100", "population_source"] == "census2020:cpop_henan"
    assert out.loc["410100", "population_year"] == 2020
    assert out.loc["410100", "gdp"] == 12003.0
    assert out.loc["410100", "gdp_source"] == "gdp2020:zynews_zz2021"
    # the user's population wins; the GDP stays unknown (no census GDP for 开封)
    assert out.loc["410200", "population"] == 5_000_000
    assert out.loc["410200", "population_year"] == 2021
    assert out.loc["410200", "population_source"] == "user:masses.csv"
    assert np.isnan(out.loc["410200", "gdp"]) and out.loc["410200", "gdp_source"] == ""
    # the user's GDP wins, the population is the census value
    assert out.loc["410800", "gdp"] == 2234.78 and out.loc["410800", "gdp_year"] == 2022
    assert out.loc["410800", "population"] == 3_521_078
    # no census value: GeoNames, and the source says so
    assert out.loc["429004", "population"] == 290_000
    assert out.loc["429004", "population_source"] == "geonames:1790369 (no census value)"
    assert pd.isna(out.loc["429004", "population_year"])
    # the GeoNames figure is kept for comparison
    assert out.loc["410100", "geonames_population"] == 4_253_913


def test_fallback_is_labelled_and_warned(caplog):
    with caplog.at_level("WARNING"):
        out = census.assign_masses(seats([
            ("429004", "仙桃市", 224_871, "geonames:11 (largest place in the city; seat 10 has "
                                          "no figure)"),
            ("999999", "无名市", None, "none"),
        ])).set_index("adcode")
    assert out.loc["429004", "population_source"] == (
        "geonames:11 (no census value; largest place in the city; seat 10 has no figure)")
    assert pd.isna(out.loc["999999", "population"])
    assert out.loc["999999", "population_source"] == "none (no census value; no GeoNames figure)"
    assert "仙桃市 (429004): no census value" in caplog.text


def test_county_subset_members_do_not_take_the_whole_city_census_value():
    out = census.assign_masses(seats([("500000", "重庆市", 3_000_000, "geonames:7")]),
                               county_subsets=["500000"]).iloc[0]
    assert out["population"] == 3_000_000
    assert out["population_source"] == ("geonames:7 (census value covers the whole city; member "
                                        "is some of its counties)")
    assert np.isnan(out["gdp"])


def test_notes_travel_with_census_values_only(tmp_path):
    rows = [("440300", "深圳市", 10_000_000, "geonames:1"),
            ("610400", "咸阳市", 1_000_000, "geonames:2")]
    out = census.assign_masses(seats(rows)).set_index("adcode")
    assert "深汕" in out.loc["440300", "population_note"]
    user = census.load_mass_table(write(tmp_path, "adcode,population\n610400,4983340\n"))
    out = census.assign_masses(seats(rows), user_table=user).set_index("adcode")
    assert out.loc["610400", "population_note"] == ""


def test_the_nine_core_cities_sum_to_the_census_total():
    rows = [(code, code, 1000, f"geonames:{i}") for i, code in enumerate(CENTRAL_PLAINS_CORE)]
    out = census.assign_masses(seats(rows))
    assert int(out["population"].sum()) == CENTRAL_PLAINS_CORE_TOTAL
    assert out["population_source"].str.startswith("census2020:").all()
    assert list(out.columns[3:11]) == list(census.MASS_COLUMNS)


# ----------------------------------------------------------------------------- summaries
def test_source_and_year_summaries():
    assert census.summarise_sources(["census2020:a", "census2020:b"]) == "census2020"
    assert census.summarise_sources(["geonames:1 (no census value)", "census2020:a",
                                     "census2020:b", "user:x.csv (y)"]) == (
        "census2020 ×2, user ×1, geonames ×1")
    assert census.summarise_sources(["none (no census value; no GeoNames figure)"]) == "none"
    assert census.summarise_years([2020, 2020]) == "2020"
    assert census.summarise_years([2020, pd.NA]) == "mixed"
    assert census.summarise_years([2020, 2022]) == "mixed"
    assert census.summarise_years([pd.NA, pd.NA]) == ""


def test_exact_text_keeps_every_digit():
    assert census.exact_text([10020.39, 12003.0, np.nan, 14083.73]) == [
        "10020.39", "12003", "", "14083.73"]


# ----------------------------------------------------------------------------- README
def test_readme_lists_exactly_the_table_gaps():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- census-gaps:start -->\n(.*?)<!-- census-gaps:end -->", readme,
                      re.S)
    assert block, "README lacks the census-gaps block"
    assert block.group(1) == census.gaps_markdown()
    listed = re.findall(r"^- \S+ \S+ \((\d{6}),", block.group(1), re.M)
    assert listed == census.census_gaps()["adcode"].tolist() == ["429004"]


def test_worked_example_table_is_valid():
    table = census.load_mass_table(ROOT / "docs" / "mass_table_example.csv")
    assert set(table["adcode"]) <= set(CENTRAL_PLAINS_CORE)


# ----------------------------------------------------------------------------- workflow
@pytest.mark.workflow
def test_cities_csv_sums_to_the_census_total(workflow_run):
    out = workflow_run / "results" / "central_plains_core"
    cities = pd.read_csv(out / "cities.csv", dtype={"adcode": str})
    assert dict(zip(cities["adcode"], cities["population"], strict=True)) == CENTRAL_PLAINS_CORE
    assert int(cities["population"].sum()) == CENTRAL_PLAINS_CORE_TOTAL
    assert (cities["population_source"] == "census2020:cpop_henan").all()
    assert (cities["population_year"] == 2020).all()
    access = pd.read_csv(out / "accessibility.csv", dtype={"adcode": str})
    assert access["mass"].sum() == CENTRAL_PLAINS_CORE_TOTAL
    metrics = pd.read_csv(out / "metrics.csv")
    assert metrics.loc[0, "population"] == CENTRAL_PLAINS_CORE_TOTAL
    assert metrics.loc[0, "population_source"] == "census2020"
    assert str(metrics.loc[0, "population_year"]) == "2020"


@pytest.mark.workflow
def test_workflow_takes_the_users_table_and_stops_on_a_bad_one(tmp_path):
    from conftest import run_snakemake

    target = "results/central_plains_core/cities.csv"
    table = write(tmp_path, "adcode,population,source\n410100,13000000,my yearbook\n", "own.csv")
    run_snakemake("--cores", "2", target, "--config", f"transport={{'mass_table': '{table}'}}",
                  workdir=tmp_path)
    cities = pd.read_csv(tmp_path / target, dtype={"adcode": str}).set_index("adcode")
    assert cities.loc["410100", "population"] == 13_000_000
    assert cities.loc["410100", "population_source"] == "user:own.csv (my yearbook)"
    assert cities.loc["410200", "population"] == CENTRAL_PLAINS_CORE["410200"]

    table.write_text("adcode,population\n410900,3772088\n", encoding="utf-8")
    proc = run_snakemake("--cores", "2", target, "--config",
                         f"transport={{'mass_table': '{table}'}}", workdir=tmp_path, check=False)
    log = (tmp_path / "logs" / "central_plains_core" / "build_seats.log").read_text("utf-8")
    assert proc.returncode != 0
    assert "line 2: adcode 410900 (濮阳市) is not a member" in proc.stderr + log
