"""MSPA on hand-drawn grids: every GWB class and rule, expected codes drawn by hand.

Inputs: ``#`` foreground, ``.`` background, ``x`` missing data. Expected outputs use one letter
per GWB byte code (see ``CODE``). Reasoning used for the expectations (edge width w,
t = w + 0.98, Euclidean distances): core = foreground farther than t from any non-foreground
pixel (w = 1: the whole 3×3 neighbourhood is foreground; w = 2: the whole 5×5; w = 3: the 7×7
without its corners); the edge/perforation band = non-core foreground within t of a core; the
image border is replicated outward; missing pixels next to foreground count as foreground.
"""

from __future__ import annotations

import numpy as np
import pytest

from agglonet.ecology.mspa import (
    MSPA_BORDER_OPENING,
    MSPA_CODES,
    MSPA_CORE_OPENING,
    MSPA_NODATA,
    mspa,
    mspa_statistics,
)
from agglonet.errors import ConfigError, DataError

CODE = {
    ".": 0, "C": 17, "E": 3, "P": 5, "I": 9, "R": 1, "B": 33, "L": 65,
    "e": 35,   # bridge in edge (transition)
    "f": 67,   # loop in edge (transition)
    "c": 117, "k": 105, "3": 103,  # internal core, perforation, edge
    "O": 100,  # core-opening
    "H": 220,  # border-opening
    "x": 129,  # missing
}


def _input(rows: list[str]) -> tuple[np.ndarray, np.ndarray]:
    grid = np.array([list(r) for r in rows])
    return grid == "#", grid != "x"


def _expected(rows: list[str]) -> np.ndarray:
    return np.array([[CODE[ch] for ch in r] for r in rows], dtype=np.uint8)


def _run(rows: list[str], **kw: object) -> np.ndarray:
    fg, valid = _input(rows)
    return mspa(fg, valid=valid, **kw)


def test_codes_are_gwb_byte_values() -> None:
    assert MSPA_CODES == {"background": 0, "branch": 1, "edge": 3, "perforation": 5,
                          "islet": 9, "core": 17, "bridge": 33, "loop": 65}
    assert (MSPA_NODATA, MSPA_CORE_OPENING, MSPA_BORDER_OPENING) == (129, 100, 220)


def test_core_and_edge() -> None:
    rows = [
        ".........",
        ".#######.",
        ".#######.",
        ".#######.",
        ".#######.",
        ".#######.",
        ".........",
    ]
    expected = [
        ".........",
        ".EEEEEEE.",
        ".ECCCCCE.",
        ".ECCCCCE.",
        ".ECCCCCE.",
        ".EEEEEEE.",
        ".........",
    ]
    np.testing.assert_array_equal(_run(rows), _expected(expected))


def test_core_reaches_the_image_border() -> None:
    # The left image column is replicated outward: it is not next to background.
    rows = [
        ".......",
        "####...",
        "####...",
        "####...",
        "####...",
        "####...",
        ".......",
    ]
    expected = [
        ".......",
        "EEEE...",
        "CCCE...",
        "CCCE...",
        "CCCE...",
        "EEEE...",
        ".......",
    ]
    np.testing.assert_array_equal(_run(rows), _expected(expected))


def test_missing_data_is_neither_foreground_nor_background() -> None:
    # The missing column next to the block does not make an edge.
    rows = [
        ".........",
        ".#####x..",
        ".#####x..",
        ".#####x..",
        ".#####x..",
        ".#####x..",
        ".........",
    ]
    expected = [
        ".........",
        ".EEEEEx..",
        ".ECCCCx..",
        ".ECCCCx..",
        ".ECCCCx..",
        ".EEEEEx..",
        ".........",
    ]
    np.testing.assert_array_equal(_run(rows), _expected(expected))


def test_islets() -> None:
    rows = [
        "........",
        ".##.....",
        ".##..#..",
        ".....#..",
        "........",
    ]
    expected = [
        "........",
        ".II.....",
        ".II..I..",
        ".....I..",
        "........",
    ]
    np.testing.assert_array_equal(_run(rows), _expected(expected))


HOLE = [
    "...........",
    ".#########.",
    ".#########.",
    ".#########.",
    ".#########.",
    ".####.####.",
    ".#########.",
    ".#########.",
    ".#########.",
    ".#########.",
    "...........",
]


def test_perforation_around_a_core_opening() -> None:
    expected = [
        "...........",
        ".EEEEEEEEE.",
        ".ECCCCCCCE.",
        ".ECCCCCCCE.",
        ".ECCPPPCCE.",
        ".ECCP.PCCE.",
        ".ECCPPPCCE.",
        ".ECCCCCCCE.",
        ".ECCCCCCCE.",
        ".EEEEEEEEE.",
        "...........",
    ]
    np.testing.assert_array_equal(_run(HOLE, intext=False), _expected(expected))


def test_intext_marks_the_inside_of_core_holes() -> None:
    # Perforation lies inside the core hole (internal, +100); the hole is a core-opening.
    expected = [
        "...........",
        ".EEEEEEEEE.",
        ".ECCCCCCCE.",
        ".ECCCCCCCE.",
        ".ECCkkkCCE.",
        ".ECCkOkCCE.",
        ".ECCkkkCCE.",
        ".ECCCCCCCE.",
        ".ECCCCCCCE.",
        ".EEEEEEEEE.",
        "...........",
    ]
    np.testing.assert_array_equal(_run(HOLE, intext=True), _expected(expected))


BRIDGE = [
    ".................",
    ".#####.....#####.",
    ".#####.....#####.",
    ".###############.",
    ".#####.....#####.",
    ".#####.....#####.",
    ".................",
]


@pytest.mark.parametrize("connectivity", [8, 4])
def test_bridge_between_two_cores_with_transition_pixels(connectivity: int) -> None:
    expected = [
        ".................",
        ".EEEEE.....EEEEE.",
        ".ECCCE.....ECCCE.",
        ".ECCCeBBBBBeCCCE.",
        ".ECCCE.....ECCCE.",
        ".EEEEE.....EEEEE.",
        ".................",
    ]
    np.testing.assert_array_equal(_run(BRIDGE, connectivity=connectivity),
                                  _expected(expected))


def test_transition_changes_no_byte_value() -> None:
    np.testing.assert_array_equal(_run(BRIDGE, transition=False), _run(BRIDGE, transition=True))


def test_spur_off_a_bridge_is_branch() -> None:
    # 4-connectivity: the spur's pixels are dead ends, thinned away (branch); the corridor under
    # it must stay (with 8-connectivity the skeleton could cut the corner through the spur).
    rows = [row for row in BRIDGE]
    rows[1] = rows[1][:8] + "#" + rows[1][9:]
    rows[2] = rows[2][:8] + "#" + rows[2][9:]
    expected = [
        ".................",
        ".EEEEE..R..EEEEE.",
        ".ECCCE..R..ECCCE.",
        ".ECCCeBBBBBeCCCE.",
        ".ECCCE.....ECCCE.",
        ".EEEEE.....EEEEE.",
        ".................",
    ]
    np.testing.assert_array_equal(_run(rows, connectivity=4), _expected(expected))


def test_dead_end_is_branch() -> None:
    rows = [
        "............",
        ".#####......",
        ".#####......",
        ".#########..",
        ".#####......",
        ".#####......",
        "............",
    ]
    expected = [
        "............",
        ".EEEEE......",
        ".ECCCE......",
        ".ECCCERRRR..",
        ".ECCCE......",
        ".EEEEE......",
        "............",
    ]
    np.testing.assert_array_equal(_run(rows), _expected(expected))


def test_loop_back_to_the_same_core() -> None:
    # 8-connectivity: the skeleton cuts the strip's two outer corners (each is a simple pixel
    # between two diagonal neighbours), so those corners are branch, not loop.
    rows = [
        "............",
        ".#####......",
        ".#########..",
        ".#####...#..",
        ".#####...#..",
        ".#####...#..",
        ".#########..",
        ".#####......",
        "............",
    ]
    expected = [
        "............",
        ".EEEEE......",
        ".ECCCfLLLR..",
        ".ECCCE...L..",
        ".ECCCE...L..",
        ".ECCCE...L..",
        ".ECCCfLLLR..",
        ".EEEEE......",
        "............",
    ]
    exp = _expected(expected)
    np.testing.assert_array_equal(_run(rows, intext=False), exp)
    # The background the loop encloses is not inside a core hole: a border-opening.
    exp[3:6, 6:9] = CODE["H"]
    np.testing.assert_array_equal(_run(rows, intext=True), exp)


def test_connectivity_four_vs_eight() -> None:
    rows = [
        ".........",
        ".###.....",
        ".###.....",
        ".###.....",
        "....#....",
        ".........",
    ]
    expected = [
        ".........",
        ".EEE.....",
        ".ECE.....",
        ".EEE.....",
        "....?....",
        ".........",
    ]
    exp8 = _expected([r.replace("?", "R") for r in expected])  # diagonal step: a branch
    exp4 = _expected([r.replace("?", "I") for r in expected])  # not 4-connected: an islet
    np.testing.assert_array_equal(_run(rows, connectivity=8), exp8)
    np.testing.assert_array_equal(_run(rows, connectivity=4), exp4)


def test_edge_width_two() -> None:
    rows = ["..........."] + [".#########."] * 9 + ["..........."]
    expected = (["...........", ".EEEEEEEEE.", ".EEEEEEEEE."]
                + [".EECCCCCEE."] * 5
                + [".EEEEEEEEE.", ".EEEEEEEEE.", "..........."])
    np.testing.assert_array_equal(_run(rows, edge_width=2), _expected(expected))


def test_edge_width_three_block_corners_are_branch() -> None:
    # Core: 4 or more pixels from the background (rows/cols 4-8). The block corners are
    # √18 > 3.98 from the nearest core pixel: residues, thinned away, hence branch.
    rows = ["............."] + [".###########."] * 11 + ["............."]
    edge_row = ".EEEEEEEEEEE."
    corner_row = ".REEEEEEEEER."
    core_row = ".EEECCCCCEEE."
    expected = ([".............", corner_row, edge_row, edge_row] + [core_row] * 5
                + [edge_row, edge_row, corner_row, "............."])
    np.testing.assert_array_equal(_run(rows, edge_width=3), _expected(expected))


def test_statistics_as_gwb_reports_them() -> None:
    codes = _run(BRIDGE)
    st = mspa_statistics(codes, connectivity=8)
    # By hand from the expected grid of the bridge test: 18 core, 32 edge (2 of them
    # transition pixels), 5 bridge; 119 - 55 = 64 background pixels in one 4-connected object.
    assert st.fg_area_px == 55 and st.ifg_area_px == 55
    assert st.area_px["core"] == 18 and st.count["core"] == 2
    assert st.area_px["edge"] == 32 and st.count["edge"] == 2
    assert st.area_px["bridge"] == 5 and st.count["bridge"] == 1
    assert st.area_px["background"] == 64 and st.count["background"] == 1
    assert st.fg_percent["core"] == pytest.approx(100 * 18 / 55)
    assert st.data_percent["bridge"] == pytest.approx(100 * 5 / 119)
    assert st.porosity_percent == 0.0
    hole = mspa_statistics(_run(HOLE, intext=True))
    # Porosity = 100 - 100 * (core + edge + perforation) / (that + core-opening) = 100/81.
    assert hole.area_px["core_opening"] == 1 and hole.count["opening"] == 1
    assert hole.porosity_percent == pytest.approx(100 - 100 * 80 / 81)
    assert hole.ifg_area_px == 81


def test_errors() -> None:
    with pytest.raises(DataError, match="no ecological land"):
        mspa(np.zeros((4, 4), bool))
    with pytest.raises(DataError, match="no valid cell"):
        mspa(np.ones((4, 4), bool), valid=np.zeros((4, 4), bool))
    with pytest.raises(ConfigError, match="connectivity 6"):
        mspa(np.ones((4, 4), bool), connectivity=6)
    with pytest.raises(ConfigError, match="edge_width 0"):
        mspa(np.ones((4, 4), bool), edge_width=0)
