"""The sector table (economy.sector_table): read, checked, refused with clear messages.

The library checks (:mod:`agglonet.retrieve.sectors`) and the start-up checks
(:func:`agglonet.preflight.check_run`) must refuse the same tables.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest

from agglonet.config import DEFAULT_CONFIG, load_yaml
from agglonet.errors import ConfigError, DataError
from agglonet.preflight import check_run, format_problems
from agglonet.retrieve.sectors import cluster_sectors, load_sector_table

ROOT = Path(__file__).resolve().parents[2]
HEADER = "adcode,sector,value,year\n"
GOOD = ("410100,primary,185.6,2022\n410100,secondary,5174.6,2022\n410100,tertiary,7574.5,2022\n"
        "410700,primary,293.36,2020\n410700,secondary,1352.45,2020\n"
        "410700,tertiary,1368.7,2020\n")
MEMBERS = pd.DataFrame({"adcode": ["410100", "410700", "410800"],
                        "name_zh": ["郑州市", "新乡市", "焦作市"]})


def table(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "sectors.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_a_good_table_is_read(tmp_path):
    out = load_sector_table(table(tmp_path, GOOD))
    assert out["adcode"].tolist()[:3] == ["410100"] * 3
    assert out["value"].tolist()[:3] == [185.6, 5174.6, 7574.5]
    assert out["year"].tolist()[3] == 2020 and out["line"].tolist()[0] == 2


@pytest.mark.parametrize(("body", "fragments"), [
    ("999999,primary,1,2020\n", ["line 2", "999999", "unknown"]),
    ("41010,primary,1,2020\n", ["line 2", "41010", "6-digit"]),
    ("410100,primary,-3,2020\n410100,secondary,5,2020\n", ["line 2", "-3", "negative"]),
    ("410100,primary,abc,2020\n", ["line 2", "abc", "not a number"]),
    ("410100,primary,,2020\n", ["line 2", "empty"]),
    ("410100,,1,2020\n", ["line 2", "sector is empty"]),
    ("410100,primary,0,2020\n410100,secondary,0,2020\n", ["410100", "no sector with a value"]),
    ("410100,primary,1,2020\n410100,primary,2,2020\n", ["line 3", "appears again", "line 2"]),
    ("410100,primary,1,2020\n410100,secondary,2,2020\n410700,primary,3,2020\n",
     ["410700", "secondary", "every city needs a value for every sector"]),
    ("410100,primary,1,20\n", ["line 2", "'20'", "not a year"]),
])
def test_bad_tables_are_refused_naming_the_value(tmp_path, body, fragments):
    with pytest.raises(DataError) as err:
        load_sector_table(table(tmp_path, body))
    for fragment in fragments:
        assert fragment in str(err.value), str(err.value)


def test_bad_columns_are_refused(tmp_path):
    with pytest.raises(DataError, match=r"no column \['value'\]"):
        load_sector_table(table(tmp_path, "410100,primary\n", header="adcode,sector\n"))
    with pytest.raises(DataError, match=r"unknown columns \['gdp'\]"):
        load_sector_table(table(tmp_path, "410100,primary,1,2\n",
                                header="adcode,sector,value,gdp\n"))
    with pytest.raises(DataError, match="several units"):
        load_sector_table(table(tmp_path, "410100,primary,1,亿元\n410100,secondary,2,persons\n",
                                header="adcode,sector,value,unit\n"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_sector_table(tmp_path / "nothing.csv")


def test_members_missing_from_the_table(tmp_path):
    rows = load_sector_table(table(tmp_path, GOOD))
    with pytest.raises(DataError, match="410800 焦作市.*missing_cities: skip"):
        cluster_sectors(rows, MEMBERS, cluster="toy")
    kept, missing = cluster_sectors(rows, MEMBERS, missing="skip", cluster="toy")
    assert missing == ["410800 焦作市"]
    assert sorted(set(kept["adcode"])) == ["410100", "410700"]
    with pytest.raises(DataError, match="at least 2"):
        cluster_sectors(rows[rows["adcode"] == "410100"], MEMBERS, missing="skip")


def test_the_worked_example_is_valid():
    rows = load_sector_table(ROOT / "docs" / "sector_table_central_plains.csv")
    assert sorted(set(rows["adcode"])) == ["410100", "410700", "410800", "419001"]
    assert set(rows["unit"]) == {"亿元 value added"}


@pytest.fixture
def cfg() -> dict:
    return copy.deepcopy(load_yaml(DEFAULT_CONFIG))


@pytest.mark.parametrize(("body", "missing", "fragments"), [
    ("410100,primary,-3,2020\n", "error", ["sectors.csv", "line 2", "negative"]),
    ("888888,primary,3,2020\n", "error", ["888888", "unknown"]),
    ("410100,primary,0,2020\n", "error", ["410100", "no sector with a value"]),
    (GOOD, "error", ["central_plains_core", "410200 开封市", "missing_cities: skip"]),
])
def test_start_up_refuses_a_bad_sector_table(tmp_path, cfg, body, missing, fragments):
    table(tmp_path, body)
    cfg["economy"].update(sector_table="sectors.csv", missing_cities=missing)
    findings = check_run(cfg, workdir=tmp_path)
    message = format_problems(findings.problems)
    for fragment in fragments:
        assert fragment in message, message
    assert "Traceback" not in message


def test_start_up_accepts_the_example_with_skip(tmp_path, cfg):
    cfg["economy"].update(sector_table=str(ROOT / "docs" / "sector_table_central_plains.csv"),
                          missing_cities="skip")
    assert check_run(cfg, workdir=tmp_path).problems == []
    cfg["economy"]["sector_table"] = "no_such.csv"
    message = format_problems(check_run(cfg, workdir=tmp_path).problems)
    assert "economy.sector_table" in message and "does not exist" in message
