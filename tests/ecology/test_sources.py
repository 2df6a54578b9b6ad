"""Core patches → ecological sources: size filters, neck and area cuts, the in-cluster share, dPC
ranking (hand-computed), polygons, errors."""

from __future__ import annotations

import numpy as np
import pytest
from rasterio.transform import from_origin
from scipy import ndimage
from shapely.geometry import box

from agglonet.crs import CHINA_ALBERS
from agglonet.ecology.mspa import MSPA_CODES
from agglonet.ecology.sources import (
    add_mean_resistance,
    core_patches,
    select_sources,
    split_at_necks,
    split_large_patches,
)
from agglonet.errors import ConfigError, DataError
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
    with pytest.raises(DataError, match=r"min_area_km2 = 100 km² and min_area_cells = 1 "
                                        r"\(largest core patch: 25 km², 25 cells"):
        _select(min_area_km2=100)


def test_no_core() -> None:
    codes = np.full((5, 5), MSPA_CODES["edge"], dtype=np.uint8)
    with pytest.raises(DataError, match="no MSPA core cell"):
        select_sources(codes, transform=TRANSFORM, crs=CHINA_ALBERS, min_area_km2=1,
                       distance_threshold_km=1, probability=0.5)


def test_min_area_cells_applies_with_min_area_km2() -> None:
    # B has 9 cells (9 km²): kept at 9 cells, dropped at 10 cells even though 9 km² ≥ 5 km².
    assert len(_select(min_area_cells=9).sources) == 2
    assert _select(min_area_cells=10).sources["area_km2"].tolist() == [25]


def _dumbbell() -> np.ndarray:
    """Two 7 × 7 blocks of core joined by a 1-cell-wide, 4-cell-long neck (row 4)."""
    codes = np.zeros((9, 20), dtype=np.uint8)
    codes[1:8, 1:8] = CORE
    codes[1:8, 12:19] = CORE
    codes[4, 8:12] = CORE
    return codes


def test_neck_cut_by_hand() -> None:
    core = _dumbbell() == CORE
    # width 3: a disk of radius 1 (a plus of 5 cells) fits nowhere in the neck, and grows back
    # one cell into it from each block: cells (4, 8) and (4, 11) stay, (4, 9) and (4, 10) go.
    # A plus does not fit at a block corner, so the four corner cells of each block go too.
    labels = split_at_necks(core, neck_width_cells=3)
    assert labels.max() == 2
    assert labels[4, 8] == 1 and labels[4, 11] == 2 and labels[4, 9] == labels[4, 10] == 0
    assert labels[1, 1] == labels[1, 7] == labels[7, 1] == labels[7, 7] == 0
    assert (labels == 1).sum() == (labels == 2).sum() == 49 - 4 + 1
    # below two cells wide nothing is cut
    assert split_at_necks(core, neck_width_cells=1.5).max() == 1
    assert (split_at_necks(core, neck_width_cells=0) > 0).sum() == core.sum()


def test_neck_cut_makes_two_sources_of_the_same_core() -> None:
    one = select_sources(_dumbbell(), transform=TRANSFORM, crs=CHINA_ALBERS, min_area_km2=1,
                         distance_threshold_km=4, probability=0.5)
    two = select_sources(_dumbbell(), transform=TRANSFORM, crs=CHINA_ALBERS, min_area_km2=1,
                         distance_threshold_km=4, probability=0.5, neck_width_km=3)
    assert one.sources["area_km2"].tolist() == [102]
    assert two.sources["area_km2"].tolist() == [46, 46]
    # the neck cut makes different patches: a corridor will join them through the neck
    assert two.sources["core_patch_id"].tolist() == [1, 2]
    # the landscape indices see the uncut core: one patch of 102 km² (PC = a² / A_L²)
    assert two.indices["pc"] == pytest.approx(102.0**2 / 180.0**2)
    assert two.indices["n_landscape_patches"] == 1


def test_area_cut_by_hand() -> None:
    block = np.zeros((12, 30), dtype=np.int32)
    block[1:11, 2:28] = 1                        # 10 × 26 = 260 cells
    parts = split_large_patches(block, max_cells=100)
    # k = ⌈260 / 100⌉ = 3 parts; the seams (cells of a higher part touching a lower one) are
    # left out, so no two parts touch, not even diagonally.
    assert parts.max() == 3
    assert set(np.unique(parts[block == 0])) == {0}
    sizes = np.bincount(parts.ravel())[1:]
    assert (sizes <= 100).all() and sizes.sum() + (block.astype(bool) & (parts == 0)).sum() == 260
    for k in range(1, 4):
        grown = ndimage.binary_dilation(parts == k, structure=np.ones((3, 3)))
        assert not (grown & (parts > 0) & (parts != k)).any()
        assert ndimage.label(parts == k, structure=np.ones((3, 3)))[1] == 1  # connected
    # a long block cuts across its length: three side-by-side parts, each spanning every row
    for k in range(1, 4):
        assert (parts == k).any(axis=1)[1:11].all()
    # deterministic
    assert (split_large_patches(block, max_cells=100) == parts).all()
    assert (split_large_patches(block, max_cells=260) == block).all()


def test_area_cut_keeps_the_patch_id_and_the_landscape_pc() -> None:
    codes = np.zeros((12, 30), dtype=np.uint8)
    codes[1:11, 2:28] = CORE
    cut = select_sources(codes, transform=TRANSFORM, crs=CHINA_ALBERS, min_area_km2=1,
                         distance_threshold_km=4, probability=0.5, max_area_km2=100)
    whole = select_sources(codes, transform=TRANSFORM, crs=CHINA_ALBERS, min_area_km2=1,
                           distance_threshold_km=4, probability=0.5)
    assert len(cut.sources) == 3 and cut.sources["core_patch_id"].nunique() == 1
    assert cut.indices["largest_source_share"] < 0.5
    assert whole.indices["largest_source_share"] == 1.0
    # PC, IIC and ECA are measured on the uncut patch: one patch of 260 km² in 360 km²
    for sel in (cut, whole):
        assert sel.indices["pc"] == pytest.approx(260.0**2 / 360.0**2)
        assert sel.indices["eca_km2"] == pytest.approx(260.0)
    patches = core_patches(codes, connectivity=8, cell_size_m=1000, min_area_km2=1,
                           max_area_km2=100)
    assert patches.n_core_patches == 1 and patches.core_area_km2 == 260


def test_share_in_cluster_by_hand() -> None:
    # cluster polygon: the west half of the grid up to x = 500 km + 8 km (columns 0–7)
    cluster = box(500_000, 3_990_000, 508_000, 4_000_000)
    sel = _select(cluster=cluster)
    # A (rows 1–5, columns 1–5) lies wholly inside; B (columns 10–12) wholly outside
    np.testing.assert_allclose(sel.sources["area_in_cluster_km2"], [25, 0], atol=1e-9)
    np.testing.assert_allclose(sel.sources["share_in_cluster"], [1, 0])
    assert sel.indices["source_area_in_cluster_km2"] == pytest.approx(25)
    # cut through A: x ≤ 503 km keeps columns 1–2 of A, 10 of its 25 cells
    half = _select(cluster=box(500_000, 3_990_000, 503_000, 4_000_000))
    np.testing.assert_allclose(half.sources["share_in_cluster"], [0.4, 0])
    # the filter drops B but B still counts in the dPC (the value of A is unchanged)
    only = _select(cluster=cluster, min_share_in_cluster=0.5)
    assert only.sources["area_km2"].tolist() == [25]
    assert only.sources["dpc"].iloc[0] == pytest.approx(sel.sources["dpc"].iloc[0])
    with pytest.raises(DataError, match="min_share_in_cluster = 1"):
        _select(cluster=box(500_000, 3_990_000, 501_000, 3_991_000), min_share_in_cluster=1)
    with pytest.raises(ConfigError, match="min_share_in_cluster is 2"):
        _select(min_share_in_cluster=2)


def test_top_n_counts_patches_and_parts_pass_the_share_one_by_one() -> None:
    codes = np.zeros((12, 40), dtype=np.uint8)
    codes[1:11, 2:28] = CORE     # patch 1: 260 km², cut into 3 parts of ≤ 100 km²
    codes[2:6, 33:37] = CORE     # patch 2: 16 km², 5 cells east of patch 1
    args = dict(transform=TRANSFORM, crs=CHINA_ALBERS, min_area_km2=1, distance_threshold_km=4,
                probability=0.5, max_area_km2=100)
    # top 2 patches: the three parts of patch 1 (one rank, one patch id) and patch 2
    sel = select_sources(codes, top_n=2, **args)
    assert sel.sources["rank"].tolist() == [1, 1, 1, 2]
    assert sel.sources["core_patch_id"].nunique() == 2
    assert sel.indices["n_selected_patches"] == 2
    # the parts carry their patch's dPC
    assert sel.sources["dpc"].iloc[0] == sel.sources["dpc"].iloc[2] > sel.sources["dpc"].iloc[3]
    assert len(select_sources(codes, top_n=1, **args).sources) == 3
    # a cluster over the west end of patch 1 only: the western part passes a 0.25 share, the
    # others do not; patch 2 lies outside, so only one source is left
    west = box(500_000, 3_988_000, 509_000, 4_000_000)
    only = select_sources(codes, cluster=west, min_share_in_cluster=0.25, **args)
    assert len(only.sources) == 1 and only.sources["share_in_cluster"].iloc[0] >= 0.25
    assert only.sources.geometry.iloc[0].centroid.x < 509_000
