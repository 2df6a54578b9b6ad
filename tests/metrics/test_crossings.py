"""Road–corridor crossings on hand-made lines and polygons (expected values worked out by hand)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from rasterio.transform import from_origin
from shapely.geometry import LineString, box

from agglonet.crs import CHINA_ALBERS
from agglonet.errors import ConfigError, DataError
from agglonet.metrics.crossings import add_corridor_road_attributes, road_crossings

CLASSES = ["motorway", "motorway_link", "trunk", "primary", "secondary", "tertiary",
           "tertiary_link"]
WEIGHTS = {"motorway": 1.0, "trunk": 0.8, "primary": 0.6, "secondary": 0.4, "tertiary": 0.2}


def _corridors() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    # Corridor 1: a west–east band 0..1000 × 0..200 m, least-cost path along y = 100.
    # Corridor 2: a south–north band 0..200 × 1000..2000 m, path along x = 100.
    lines = gpd.GeoDataFrame(
        {"corridor_id": [1, 2], "corridor_class": ["secondary", "primary"],
         "gravity": [2.0, 4.0]},
        geometry=[LineString([(0, 100), (1000, 100)]), LineString([(100, 1000), (100, 2000)])],
        crs=CHINA_ALBERS,
    )
    # corridor 1's polygon comes as two rows (left and right half) to check the dissolve
    areas = gpd.GeoDataFrame(
        {"corridor_id": [1, 1, 2]},
        geometry=[box(0, 0, 500, 200), box(500, 0, 1000, 200), box(0, 1000, 200, 2000)],
        crs=CHINA_ALBERS,
    )
    return lines, areas


def _roads() -> gpd.GeoDataFrame:
    rows = [
        # motorway G1 crosses corridor 1 once at x = 300, split into two edges inside the
        # corridor, plus the reversed copy of a two-way road: still ONE crossing, on the LCP.
        ("motorway", "G1", [(300, -100), (300, 150)]),
        ("motorway", "G1", [(300, 150), (300, 300)]),
        ("motorway", "G1", [(300, 300), (300, 150), (300, -100)]),
        # secondary S2 goes up through corridor 1 at x = 700 and back down at x = 800: TWO.
        ("secondary", "S2", [(700, -100), (700, 300), (800, 300), (800, -100)]),
        # trunk touching corridor 1's corner only, and a trunk running along its north edge: NONE.
        ("trunk", "T3", [(-100, -100), (0, 0), (100, -100)]),
        ("trunk", "T4", [(400, 300), (400, 200), (600, 200), (600, 300)]),
        # tertiary link enters corridor 1 at (50, 200) and runs inside to (250, 150): ONE at
        # the entry (it never meets the LCP y = 100), inside length 50 + 200 = 250 m.
        ("tertiary_link", None, [(50, 300), (50, 150), (250, 150)]),
        # a residential street across corridor 1 is not an analysed class
        ("residential", "R", [(900, -100), (900, 300)]),
        # motorway_link (counts as motorway) across corridor 2, cutting its LCP at (100, 1500)
        ("motorway_link", "G1 link", [(-100, 1500), (300, 1500)]),
    ]
    return gpd.GeoDataFrame(
        {"highway": [r[0] for r in rows], "name": [r[1] for r in rows]},
        geometry=[LineString(r[2]) for r in rows],
        crs=CHINA_ALBERS,
    )


def _current() -> tuple[np.ndarray, object]:
    # 100 m cells, 10 columns (x 0..1000), 30 rows (y 2500 down to -500); value = 10·row + col.
    array = (np.arange(30)[:, None] * 10 + np.arange(10)[None, :]).astype("float32")
    return array, from_origin(0, 2500, 100, 100)


def test_crossings_by_hand() -> None:
    lines, areas = _corridors()
    current, transform = _current()
    out = road_crossings(_roads(), lines, areas, current_density=current, transform=transform,
                         road_classes=CLASSES, class_weights=WEIGHTS)
    got = [(r.corridor_id, r.road_class, r.road_name, r.site, r.geometry.x, r.geometry.y)
           for r in out.itertuples()]
    assert got == [
        (1, "motorway", "G1", "lcp", 300.0, 100.0),
        (1, "secondary", "S2", "lcp", 700.0, 100.0),
        (1, "secondary", "S2", "lcp", 800.0, 100.0),
        (1, "tertiary", "", "entry", 50.0, 200.0),
        (2, "motorway", "G1 link", "lcp", 100.0, 1500.0),
    ]
    assert out["fid"].tolist() == [1, 2, 3, 4, 5]
    assert out["length_in_corridor_m"].tolist() == pytest.approx([200, 200, 200, 250, 200])
    # importance = G / max G = 2/4 and 4/4; priority = importance × class weight
    assert out["priority"].tolist() == pytest.approx([0.5, 0.2, 0.2, 0.1, 1.0])
    assert out["corridor_class"].tolist() == ["secondary"] * 4 + ["primary"]
    # current at (300, 100): col 3, row (2500 − 100)/100 = 24 → 243; (700, 100) → 247;
    # (800, 100) → 248; (50, 200): col 0, row 23 → 230; (100, 1500): col 1, row 10 → 101
    assert out["current_density"].tolist() == pytest.approx([243, 247, 248, 230, 101])
    assert out.crs.equals(areas.crs)


def test_corridor_attributes() -> None:
    lines, areas = _corridors()
    out = road_crossings(_roads(), lines, areas, road_classes=CLASSES, class_weights=WEIGHTS)
    assert out["current_density"].isna().all()
    annotated = add_corridor_road_attributes(areas, crossings=out)
    # corridor 1: 200 (G1) + 2 × 200 (S2) + 250 (link) = 850 m; the edge-running T4 counts 0
    assert annotated["road_length_in_corridor_km"].tolist() == pytest.approx([0.85, 0.85, 0.2])
    assert annotated["n_road_crossings"].tolist() == [4, 4, 1]


def test_no_roads_gives_empty_layer_and_zero_attributes() -> None:
    lines, areas = _corridors()
    roads = _roads().iloc[[7]]  # only the residential street
    out = road_crossings(roads, lines, areas, road_classes=CLASSES, class_weights=WEIGHTS)
    assert len(out) == 0 and "priority" in out.columns
    annotated = add_corridor_road_attributes(lines, crossings=out)
    assert annotated["n_road_crossings"].tolist() == [0, 0]
    assert annotated["road_length_in_corridor_km"].tolist() == [0.0, 0.0]


def test_osmnx_list_highway_and_missing_weight() -> None:
    lines, areas = _corridors()
    roads = gpd.GeoDataFrame({"highway": ["['residential', 'primary']"], "name": [None]},
                             geometry=[LineString([(300, -100), (300, 300)])], crs=CHINA_ALBERS)
    out = road_crossings(roads, lines, areas, road_classes=CLASSES, class_weights=WEIGHTS)
    assert out["road_class"].tolist() == ["primary"]
    # OSM multi-values "a;b" (the proxy writes them for merged edges): the heavier class wins
    roads["highway"] = ["secondary;primary"]
    out = road_crossings(roads, lines, areas, road_classes=CLASSES, class_weights=WEIGHTS)
    assert out["road_class"].tolist() == ["primary"]
    with pytest.raises(ConfigError, match="primary"):
        road_crossings(roads, lines, areas, road_classes=CLASSES,
                       class_weights={"motorway": 1.0})
    with pytest.raises(DataError, match="highway"):
        road_crossings(roads.rename(columns={"highway": "kind"}), lines, areas,
                       road_classes=CLASSES, class_weights=WEIGHTS)
