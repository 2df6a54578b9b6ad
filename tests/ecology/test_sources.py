"""Core patches → ecological sources: area filter, dPC ranking (hand-computed), polygons, errors."""

from __future__ import annotations

import numpy as np
import pytest
from rasterio.transform import from_origin

from agglonet.crs import CHINA_ALBERS
from agglonet.ecology.mspa import MSPA_CODES
from agglonet.ecology.sources import add_mean_resistance, select_sources
from agglonet.errors import DataError
from agglonet.outputs import SOURCE_COLUMNS

CORE = MSPA_CODES["core"]
TRANSFORM = from_origin(500_000, 4_000_000, 1000, 1000)


def _codes() -> np.ndarray:
    codes = np.zeros((10, 20), dtype=np.uint8)
    codes[1:6, 1:6] = CORE       # A: 25 km²
    codes[1:4, 10:13] = CORE     # B: 9 km², 4 cells (4 km) east of A
    codes[8:10, 17:19] = CORE    # C: 4 km², below the area threshold
    codes[0, 0] = MSPA_CODES["edge"]
    return codes


def _select(**kw: object) -> object:
    args = dict(transform=TRANSFORM, crs=CHINA_ALBERS, min_area_km2=5, distance_threshold_km=4,
                probability=0.5)
    args.update(kw)
    return select_sources(_codes(), **args)


def test_sources_ranked_by_dpc_by_hand() -> None:
    sel = _select()
    src = sel.sources
    assert list(src.columns) == [*SOURCE_COLUMNS, "geometry"]
    assert src["source_id"].tolist() == [1, 2] and src["rank"].tolist() == [1, 2]
    np.testing.assert_allclose(src["area_km2"], [25, 9])
    # num = 25² + 9² + 2·25·9·0.5 = 931 (p = 0.5 at d = d0 = 4 km)
    num = 931.0
    np.testing.assert_allclose(src["dpc"], [100 * (num - 81) / num, 100 * (num - 625) / num])
    np.testing.assert_allclose(src["dpc_intra"], [100 * 625 / num, 100 * 81 / num])
    np.testing.assert_allclose(src["dpc_flux"], [100 * 225 / num] * 2)
    np.testing.assert_allclose(src["dpc_connector"], [0, 0], atol=1e-12)
    assert sel.indices["pc"] == pytest.approx(num / 200.0**2)
    assert sel.indices["n_candidates"] == 2
    # Labels and polygons agree with the blocks.
    assert (sel.labels[1:6, 1:6] == 1).all() and (sel.labels[1:4, 10:13] == 2).all()
    assert (sel.labels > 0).sum() == 34
    np.testing.assert_allclose(src.geometry.area / 1e6, [25, 9])


def test_internal_core_counts_as_core() -> None:
    # GWB IntExt codes core inside a core hole 117: it is core all the same.
    codes = _codes()
    codes[1:4, 10:13] = 117
    sel = select_sources(codes, transform=TRANSFORM, crs=CHINA_ALBERS, min_area_km2=5,
                         distance_threshold_km=4, probability=0.5)
    np.testing.assert_allclose(sel.sources["area_km2"], [25, 9])


def test_top_n_and_min_dpc() -> None:
    assert len(_select(top_n=1).sources) == 1
    assert len(_select(min_dpc=50).sources) == 1  # dPC_B = 32.9 %
    with pytest.raises(DataError, match="min_dpc = 99"):
        _select(min_dpc=99)


def test_mean_resistance() -> None:
    sel = _select()
    resistance = np.full((10, 20), 5.0)
    resistance[1:4, 10:13] = 2.0
    resistance[1, 1] = np.nan
    out = add_mean_resistance(sel.sources, sel.labels, resistance)
    np.testing.assert_allclose(out["mean_resistance"], [5.0, 2.0])


def test_no_patch_large_enough() -> None:
    with pytest.raises(DataError, match=r"min_area_km2 = 100 km² \(largest core patch: 25 km²"):
        _select(min_area_km2=100)


def test_no_core() -> None:
    codes = np.full((5, 5), MSPA_CODES["edge"], dtype=np.uint8)
    with pytest.raises(DataError, match="no MSPA core cell"):
        select_sources(codes, transform=TRANSFORM, crs=CHINA_ALBERS, min_area_km2=1,
                       distance_threshold_km=1, probability=0.5)
