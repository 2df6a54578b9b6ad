"""Least-cost corridors: checked against brute-force Dijkstra (networkx) and hand-built rasters."""

from __future__ import annotations

import math
import os

import networkx as nx
import numpy as np
import pytest
from affine import Affine

from agglonet.ecology.corridors import (
    SurfaceStore,
    build_corridors,
    classify_gravity,
    cost_allocation,
    gravity,
    source_adjacency,
)
from agglonet.errors import DataError, EmptyNetworkError

CELL = 30.0
TRANSFORM = Affine(CELL, 0, 500_000, 0, -CELL, 4_000_000)
CRS = "EPSG:32650"


def brute_graph(resistance: np.ndarray) -> nx.Graph:
    """The 8-neighbour grid graph written out cell by cell (mean resistance × step length)."""
    g = nx.Graph()
    h, w = resistance.shape
    for i in range(h):
        for j in range(w):
            if not np.isfinite(resistance[i, j]):
                continue
            g.add_node((i, j))
            for di, dj in ((0, 1), (1, 0), (1, 1), (1, -1)):
                y, x = i + di, j + dj
                if 0 <= y < h and 0 <= x < w and np.isfinite(resistance[y, x]):
                    length = CELL * (math.sqrt(2) if di and dj else 1)
                    g.add_edge((i, j), (y, x),
                               weight=(resistance[i, j] + resistance[y, x]) / 2 * length)
    return g


def brute_cwd(g: nx.Graph, labels: np.ndarray, k: int) -> dict:
    cells = [tuple(map(int, c)) for c in np.argwhere(labels == k)]
    return nx.multi_source_dijkstra_path_length(g, cells)


def random_case(seed: int = 3):
    rng = np.random.default_rng(seed)
    r = 1 + 20 * rng.random((18, 22))
    r[8:11, 9] = np.nan          # an impassable wall piece
    labels = np.zeros(r.shape, dtype=int)
    labels[1:3, 1:4] = 1
    labels[14:17, 2:4] = 2
    labels[2:4, 17:20] = 3
    labels[13:16, 16:19] = 4
    return r, labels


def test_cost_allocation_matches_brute_force_dijkstra():
    r, labels = random_case()
    cwd, alloc = cost_allocation(r, labels, cell_size_m=CELL)
    g = brute_graph(r)
    per_source = {k: brute_cwd(g, labels, k) for k in range(1, 5)}
    for (i, j), expected in nx.multi_source_dijkstra_path_length(
            g, [tuple(map(int, c)) for c in np.argwhere(labels > 0)]).items():
        assert cwd[i, j] == pytest.approx(expected, rel=1e-12)
        nearest = min(range(1, 5), key=lambda k: per_source[k][(i, j)])
        assert alloc[i, j] == nearest
    assert np.isnan(cwd[8:11, 9]).all() and (alloc[8:11, 9] == 0).all()


@pytest.mark.parametrize(("exact_barriers", "workers"), [(True, 1), (False, 1), (True, 3)])
def test_least_cost_paths_and_lcd_match_brute_force(exact_barriers, workers):
    r, labels = random_case()
    net = build_corridors(r, labels, transform=TRANSFORM, crs=CRS, width_cost_units=300,
                          exact_barriers=exact_barriers, workers=workers)
    g = brute_graph(r)
    cells = {k: [tuple(map(int, c)) for c in np.argwhere(labels == k)] for k in range(1, 5)}
    assert len(net.corridors) >= 3
    for row in net.corridors.itertuples():
        gg = g.copy()
        gg.add_edges_from((("A", c) for c in cells[row.from_source]), weight=0.0)
        gg.add_edges_from((("B", c) for c in cells[row.to_source]), weight=0.0)
        lcd = nx.dijkstra_path_length(gg, "A", "B")
        assert row.cost_weighted_length == pytest.approx(lcd, rel=1e-12)
        # the returned line is a least-cost path: its own cost equals the LCD
        path = [(int(rr), int(cc)) for cc, rr in ((~TRANSFORM) @ xy for xy in row.geometry.coords)]
        assert labels[path[0]] == row.from_source and labels[path[-1]] == row.to_source
        cost = sum(g.edges[u, v]["weight"] for u, v in zip(path[:-1], path[1:], strict=True))
        assert cost == pytest.approx(lcd, rel=1e-12)
        steps = sum(math.dist(u, v) for u, v in zip(path[:-1], path[1:], strict=True))
        assert row.length_km == pytest.approx(steps * CELL / 1000)


@pytest.mark.parametrize("exact_barriers", [True, False])
def test_corridor_area_is_the_normalised_corridor(exact_barriers):
    rng = np.random.default_rng(7)
    r = 1 + 10 * rng.random((16, 20))
    labels = np.zeros(r.shape, dtype=int)
    labels[6:9, 1:3] = 1
    labels[5:8, 17:19] = 2
    width = 400.0
    net = build_corridors(r, labels, transform=TRANSFORM, crs=CRS, width_cost_units=width,
                          exact_barriers=exact_barriers)
    g = brute_graph(r)
    ca, cb = brute_cwd(g, labels, 1), brute_cwd(g, labels, 2)
    lcd = min(ca[c] + cb[c] for c in ca)
    expected = np.zeros(r.shape, dtype=bool)
    for c in ca:
        expected[c] = ca[c] + cb[c] - lcd <= width and labels[c] == 0
    assert (net.corridor_mask > 0).sum() == expected.sum() > 0
    assert ((net.corridor_mask == 1) == expected).all()
    area = net.corridor_areas.iloc[0]
    assert area.area_km2 == pytest.approx(expected.sum() * CELL * CELL / 1e6)
    assert area.geometry.area == pytest.approx(expected.sum() * CELL * CELL)
    assert net.corridor_areas.is_valid.all()
    # the truncated per-source surfaces are exact wherever they are finite
    cwd, _ = cost_allocation(r, labels, cell_size_m=CELL)
    for k, brute in ((1, ca), (2, cb)):
        surface = net.source_cwd[k]
        full = surface.full(r.shape)
        for c, v in brute.items():
            if np.isfinite(full[c]):
                assert full[c] == pytest.approx(v, rel=1e-12, abs=1e-9)
            # every cell within the limit is there (plain pass: CWD <= T; pruned: CWD + D <= T)
            bound = v if exact_barriers else v + cwd[c]
            if bound <= surface.limit * (1 - 1e-9):
                assert np.isfinite(full[c])


def test_source_adjacency_on_hand_built_allocation():
    alloc = np.array([[1, 1, 2, 2],
                      [1, 1, 2, 2],
                      [3, 3, 0, 4],
                      [3, 3, 4, 4]])
    # 1-2 share an edge, 1-3 an edge, 2-4 an edge, 3-4 an edge; 1 and 4 touch at no cell;
    # 2 and 3 touch diagonally (cells (1,2) and (2,1)), which counts in the 8-neighbourhood.
    assert source_adjacency(alloc) == [(1, 2), (1, 3), (2, 3), (2, 4), (3, 4)]
    assert source_adjacency(np.array([[1, 0, 2]])) == []


def test_path_through_third_source_is_dropped():
    r = np.full((81, 41), 10.0)
    labels = np.zeros(r.shape, dtype=int)
    labels[:, 0:2] = 1          # a: left bar
    labels[:, 39:41] = 2        # b: right bar
    labels[39:42, 19:22] = 3    # c: small cheap patch right between them
    r[39:42, 19:22] = 1.0
    net = build_corridors(r, labels, transform=TRANSFORM, crs=CRS, width_cost_units=100)
    assert (1, 2) in net.adjacent_pairs            # zones of a and b touch above and below c
    kept = set(zip(net.corridors.from_source, net.corridors.to_source, strict=True))
    assert kept == {(1, 3), (2, 3)}


def test_parts_of_one_patch_get_no_corridor():
    # Three sources in a row: 1 and 2 are the two halves of one patch (seam at column 10), 3
    # lies beyond cropland. Without patch ids 1–2 and 2–3 are corridors; with 1 and 2 in one
    # patch only 2–3 is (1–3 crosses 2, so it is dropped as before).
    r = np.full((7, 40), 50.0)
    r[:, :21] = 1.0
    labels = np.zeros(r.shape, dtype=int)
    labels[:, 0:10] = 1
    labels[:, 11:21] = 2
    labels[:, 34:40] = 3
    plain = build_corridors(r, labels, transform=TRANSFORM, crs=CRS, width_cost_units=100)
    pairs = set(zip(plain.corridors.from_source, plain.corridors.to_source, strict=True))
    assert pairs == {(1, 2), (2, 3)}
    joined = build_corridors(r, labels, transform=TRANSFORM, crs=CRS, width_cost_units=100,
                             core_patch_of={1: 5, 2: 5, 3: 6})
    pairs = set(zip(joined.corridors.from_source, joined.corridors.to_source, strict=True))
    assert pairs == {(2, 3)}
    assert (1, 2) in joined.adjacent_pairs
    assert joined.corridors.corridor_id.tolist() == [1]
    assert set(np.unique(joined.corridor_mask)) == {0, 1}


def test_gravity_worked_example():
    # N_a = ln(e^4)/2 = 2, N_b = ln(e^2)/4 = 0.5, D = 50/100 = 0.5 -> G = 2 * 0.5 / 0.25 = 4
    g = gravity(resistance_a=2.0, area_a_m2=math.exp(4), resistance_b=4.0,
                area_b_m2=math.exp(2), lcd=50.0, lcd_max=100.0)
    assert g == pytest.approx(4.0)


def test_gravity_column_in_network():
    r = np.full((12, 30), 5.0)
    labels = np.zeros(r.shape, dtype=int)
    labels[4:8, 0:4] = 1     # 16 cells
    labels[4:8, 26:30] = 2   # 16 cells
    r[labels == 1] = 2.0
    net = build_corridors(r, labels, transform=TRANSFORM, crs=CRS, width_cost_units=10)
    row = net.corridors.iloc[0]
    # straight path from col 3 to col 26: 23 moves; first move 2|5 -> 3.5, then 21 moves at 5,
    # last move into b 5|5 -> 5: (3.5 + 22 * 5) * 30 m
    assert row.cost_weighted_length == pytest.approx((3.5 + 22 * 5) * CELL)
    area = 16 * CELL * CELL
    # single corridor: D = 1; N_a = ln(area)/2, N_b = ln(area)/5
    assert row.gravity == pytest.approx(math.log(area) / 2 * math.log(area) / 5)
    assert row.euclid_distance_m == pytest.approx(23 * CELL)
    assert row.cwd_to_euclid == pytest.approx((3.5 + 22 * 5) / 23)
    assert row.corridor_class == "primary"


def test_classify_gravity_by_quantiles():
    classes = classify_gravity(list(range(1, 10)), class_quantiles=(0.667, 0.333))
    # quantile 0.667 of 1..9 = 6.336, quantile 0.333 = 3.664
    assert classes == ["general"] * 3 + ["secondary"] * 3 + ["primary"] * 3


def test_bad_inputs_give_clear_errors():
    r = np.ones((5, 5))
    one = np.zeros((5, 5), dtype=int)
    one[0, 0] = 1
    with pytest.raises(EmptyNetworkError, match="at least two"):
        build_corridors(r, one, transform=TRANSFORM, crs=CRS, width_cost_units=1)
    with pytest.raises(DataError, match="minimum of -1"):
        build_corridors(-r, one, transform=TRANSFORM, crs=CRS, width_cost_units=1)
    with pytest.raises(DataError, match="no source cell"):
        cost_allocation(r, np.zeros((5, 5), dtype=int), cell_size_m=1.0)
    with pytest.raises(DataError, match="square"):
        build_corridors(r, one, transform=Affine(30, 0, 0, 0, -20, 0), crs=CRS,
                        width_cost_units=1)


def test_threads_give_the_same_network():
    """The per-source passes on several threads: the same surfaces, corridors and mask."""
    r, labels = random_case(seed=8)
    one = build_corridors(r, labels, transform=TRANSFORM, crs=CRS, width_cost_units=300)
    three = build_corridors(r, labels, transform=TRANSFORM, crs=CRS, width_cost_units=300,
                            workers=3)
    assert list(three.source_cwd) == list(one.source_cwd) == [1, 2, 3, 4]
    for k, surface in one.source_cwd.items():
        assert three.source_cwd[k].window == surface.window
        assert np.array_equal(three.source_cwd[k].cwd, surface.cwd)
    assert np.array_equal(three.corridor_mask, one.corridor_mask)
    assert three.corridors.drop(columns="geometry").equals(one.corridors.drop(columns="geometry"))


def test_surfaces_on_disk_give_the_same_network_and_barriers():
    """Cost surfaces beyond the memory budget are memory-mapped from disk: the same results."""
    from agglonet.ecology.barriers import find_barriers

    r, labels = random_case(seed=8)
    held = build_corridors(r, labels, transform=TRANSFORM, crs=CRS, width_cost_units=300)
    sizes = [held.source_cwd[k].cwd.nbytes for k in held.source_cwd]
    # the first surface in memory, the other three on disk
    mixed = build_corridors(r, labels, transform=TRANSFORM, crs=CRS, width_cost_units=300,
                            surfaces_in_memory_bytes=sizes[0])
    store = mixed.source_cwd
    assert isinstance(store, SurfaceStore) and store.spilled == 3 and list(store) == [1, 2, 3, 4]
    assert isinstance(store[2].cwd, np.memmap) and not isinstance(store[1].cwd, np.memmap)
    for k, surface in held.source_cwd.items():
        assert store[k].window == surface.window and store[k].limit == surface.limit
        assert np.array_equal(store[k].cwd, surface.cwd)
    assert np.array_equal(mixed.corridor_mask, held.corridor_mask)
    assert mixed.corridors.drop(columns="geometry").equals(held.corridors.drop(columns="geometry"))
    kwargs = {"radius_m": 2 * TRANSFORM.a, "top_n": 5}
    assert find_barriers(mixed, **kwargs).equals(find_barriers(held, **kwargs))
    directory = store._directory.name
    store.close()
    assert not os.path.exists(directory) and list(store) == [1]


def test_surface_store_keeps_a_surface_in_memory_when_the_disk_write_fails(monkeypatch, caplog):
    from agglonet.ecology.corridors import SourceCostSurface

    def full_disk(path, array):
        raise OSError(28, "No space left on device")

    store = SurfaceStore(budget_bytes=0)
    monkeypatch.setattr(np, "save", full_disk)
    surface = SourceCostSurface(source_id=7, window=(slice(0, 2), slice(0, 2)),
                                cwd=np.arange(4.0).reshape(2, 2), limit=3.0)
    store.add(surface)
    assert store.spilled == 0 and store[7] is surface and list(store) == [7]
    assert "kept in memory" in caplog.text and "No space left" in caplog.text
    with pytest.raises(ValueError, match="already stored"):
        store.add(surface)
