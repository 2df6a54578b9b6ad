"""Land-cover presets, user CSV mapping and mapping resolution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agglonet.ecology.landcover import (
    CLASS_CODES,
    NODATA,
    PRESETS,
    load_mapping,
    reclassify,
    resolve_mapping,
)
from agglonet.errors import ConfigError, DataError

FO, SH, GR, WE, WA, CR, BU, BA = (CLASS_CODES[k] for k in
                                  ("forest", "shrub", "grassland", "wetland", "water", "cropland",
                                   "built", "bare"))


def test_class_codes_are_fixed() -> None:
    assert CLASS_CODES == {"forest": 1, "shrub": 2, "grassland": 3, "wetland": 4, "water": 5,
                           "cropland": 6, "built": 7, "bare": 8}
    assert NODATA == 255


@pytest.mark.parametrize(
    ("preset", "codes", "expected"),
    [
        ("modis_igbp", list(range(17)),
         [WA, FO, FO, FO, FO, FO, SH, SH, FO, GR, GR, WE, CR, BU, CR, BA, BA]),
        ("esa_worldcover", [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100, 0],
         [FO, SH, GR, CR, BU, BA, BA, WA, WE, WE, GR, NODATA]),
        ("clcd", [1, 2, 3, 4, 5, 6, 7, 8, 9], [CR, FO, SH, GR, WA, BA, BA, BU, WE]),
        ("globeland30", [10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
         [CR, FO, GR, SH, WE, WA, GR, BU, BA, BA]),
    ],
)
def test_presets(preset: str, codes: list[int], expected: list[int]) -> None:
    out = reclassify(np.array([codes + [255]]), mapping=load_mapping(preset))
    assert out.dtype == np.uint8
    assert out[0].tolist() == expected + [NODATA]


def test_unknown_codes_are_named() -> None:
    with pytest.raises(DataError, match=r"codes \[17, 42\] are not in the class mapping"):
        reclassify(np.array([[1, 17], [42, 3]]), mapping=PRESETS["modis_igbp"])


def test_all_nodata() -> None:
    with pytest.raises(DataError, match="no data everywhere"):
        reclassify(np.full((3, 3), 255), mapping=PRESETS["modis_igbp"])


def test_user_csv(tmp_path: Path) -> None:
    path = tmp_path / "map.csv"
    path.write_text("code,class\n1,forest\n2,Cropland\n9,nodata\n", encoding="utf-8")
    mapping = load_mapping(path)
    assert mapping == {1: "forest", 2: "cropland", 9: "nodata"}
    assert reclassify(np.array([1, 2, 9]), mapping=mapping).tolist() == [FO, CR, NODATA]
    bad = tmp_path / "bad.csv"
    bad.write_text("code,class\n1,jungle\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.csv:2: class 'jungle'"):
        load_mapping(bad)
    with pytest.raises(ConfigError, match="neither a preset"):
        load_mapping("corine")


def test_resolve_mapping() -> None:
    assert resolve_mapping("auto", classification="clcd") == PRESETS["clcd"]
    # The retrieved data's tag wins over a different preset in the config (with a warning).
    assert resolve_mapping("modis_igbp", classification="esa_worldcover") == \
        PRESETS["esa_worldcover"]
    assert resolve_mapping("modis_igbp", classification="user") == PRESETS["modis_igbp"]
    with pytest.raises(ConfigError, match="'auto'"):
        resolve_mapping("auto", classification="user")
