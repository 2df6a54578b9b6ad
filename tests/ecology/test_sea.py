"""The sea is not habitat: a hand-made coast through MSPA, sources, resistance and circuit."""

from __future__ import annotations

import numpy as np
import pytest
from rasterio.transform import from_origin

from agglonet.crs import CHINA_ALBERS
from agglonet.ecology.circuit import cumulative_current
from agglonet.ecology.landcover import CLASS_CODES
from agglonet.ecology.mspa import MSPA_CODES, MSPA_NODATA, mspa
from agglonet.ecology.resistance import mask_impassable, resistance_surface
from agglonet.ecology.sources import select_sources
from agglonet.ecology.summary import check_source_area
from agglonet.errors import DataError

TRANSFORM = from_origin(600_000, 3_000_000, 1000, 1000)
FOREST, WATER, CROP = CLASS_CODES["forest"], CLASS_CODES["water"], CLASS_CODES["cropland"]
FOREGROUND = [FOREST, WATER]  # the default foreground classes include water


def _coast() -> tuple[np.ndarray, np.ndarray]:
    """30 × 40 cells of 1 km: sea in columns 0–9, land east of it.

    On land: cropland, a coastal forest (rows 4–15, columns 10–21) touching the sea, an inland
    forest (rows 4–15, columns 28–37) and an inland lake (rows 20–24, columns 25–29).
    """
    classes = np.full((30, 40), CROP, dtype=np.uint8)
    classes[:, :10] = WATER                    # the sea is water in the land cover
    classes[4:16, 10:22] = FOREST
    classes[4:16, 28:38] = FOREST
    classes[20:25, 25:30] = WATER              # lake
    sea = np.zeros(classes.shape, bool)
    sea[:, :10] = True
    return classes, sea


def _sources(codes: np.ndarray, sea: np.ndarray | None):
    return select_sources(codes, transform=TRANSFORM, crs=CHINA_ALBERS, min_area_km2=5,
                          distance_threshold_km=5, probability=0.5, top_n=None, sea=sea)


def test_without_the_mask_the_sea_becomes_the_largest_source() -> None:
    classes, sea = _coast()
    codes = mspa(np.isin(classes, FOREGROUND), edge_width=1)
    sel = _sources(codes, None)
    # the sea and the coastal forest form one core patch bigger than all the land's forest
    assert (sel.labels[sea] > 0).any()
    assert sel.sources["area_km2"].max() > (classes[~sea] == FOREST).sum()


def test_with_the_mask_no_source_touches_the_sea() -> None:
    classes, sea = _coast()
    codes = mspa(np.isin(classes, FOREGROUND), edge_width=1, valid=~sea)
    assert (codes[sea] == MSPA_NODATA).all()
    # the lake stays ecological land (inland water is configurable, here foreground)
    assert (codes[20:25, 25:30] != MSPA_CODES["background"]).all()
    sel = _sources(codes, sea)
    assert not (sel.labels[sea] > 0).any()
    land_km2 = 30 * 30  # 30 rows × 30 land columns of 1 km²
    assert sel.indices["land_area_km2"] == land_km2
    assert sel.indices["sea_area_km2"] == 30 * 10
    assert sel.indices["landscape_area_km2"] == land_km2  # A_L of PC/IIC/ECA: land only
    assert sel.sources["area_km2"].sum() <= land_km2
    # each forest block is one source, none larger than its block
    assert sel.sources["area_km2"].max() <= 12 * 12


def test_core_cell_at_sea_is_refused() -> None:
    classes, sea = _coast()
    codes = mspa(np.isin(classes, FOREGROUND), edge_width=1)  # sea not masked in the MSPA
    with pytest.raises(DataError, match="core cells lie in the open sea"):
        _sources(codes, sea)


def test_sea_is_impassable_in_resistance_and_circuit() -> None:
    classes, sea = _coast()
    values = {"forest": 1, "water": 50, "cropland": 80}
    res = resistance_surface(classes, class_values=values, transform=TRANSFORM,
                             crs=CHINA_ALBERS, impassable=sea)
    assert np.isnan(res[sea]).all()
    assert res[0, 10] == 80 and res[5, 12] == 1 and res[22, 27] == 50  # land as by class
    labels = np.zeros(classes.shape, np.int32)
    labels[6:10, 12:16] = 1
    labels[6:10, 30:34] = 2
    current = cumulative_current(res, labels, pairs=[(1, 2)], solver="direct").current_density
    assert np.isnan(current[sea]).all()
    assert np.isfinite(current[~sea]).all() and current[~sea].max() > 0
    # the same sea mask applied again to an already masked raster changes nothing
    np.testing.assert_array_equal(np.isnan(mask_impassable(res, sea)), np.isnan(res))
    with pytest.raises(DataError, match="impassable mask shape"):
        mask_impassable(res, sea[:, :5])


def test_source_area_never_exceeds_the_land() -> None:
    check_source_area(900.0, 900.0, what="t")
    check_source_area(10.0, None, what="t")
    with pytest.raises(DataError, match=r"cover 1200 km², more than the 900 km² of land"):
        check_source_area(1200.0, 900.0, what="t")
