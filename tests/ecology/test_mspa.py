"""MSPA on hand-built rasters: every class, edge width, 4/8 connectivity, no data."""
# ruff: noqa: E741  (one-letter class codes keep the hand-drawn expected arrays readable)

from __future__ import annotations

import numpy as np
import pytest

from agglonet.ecology.mspa import MSPA_CODES, MSPA_NODATA, mspa
from agglonet.errors import ConfigError, DataError

C, I, P, E, B, L, R, O = (MSPA_CODES[k] for k in
                          ("core", "islet", "perforation", "edge", "bridge", "loop", "branch",
                           "background"))


def _grid(rows: list[str]) -> np.ndarray:
    return np.array([[ch == "#" for ch in row] for row in rows])


def test_block_core_and_edge() -> None:
    fg = np.zeros((7, 7), bool)
    fg[1:6, 1:6] = True
    expected = np.array([
        [O, O, O, O, O, O, O],
        [O, E, E, E, E, E, O],
        [O, E, C, C, C, E, O],
        [O, E, C, C, C, E, O],
        [O, E, C, C, C, E, O],
        [O, E, E, E, E, E, O],
        [O, O, O, O, O, O, O],
    ])
    np.testing.assert_array_equal(mspa(fg, edge_width=1), expected)


def test_edge_width_two() -> None:
    fg = np.zeros((9, 9), bool)
    fg[1:8, 1:8] = True
    out = mspa(fg, edge_width=2)
    assert (out[3:6, 3:6] == C).all()
    ring = fg.copy()
    ring[3:6, 3:6] = False
    assert (out[ring] == E).all()
    assert (out[~fg] == O).all()


def test_grid_border_is_background() -> None:
    out = mspa(np.ones((5, 5), bool), edge_width=1)
    assert (out[1:4, 1:4] == C).all()
    assert out[0, 0] == E and out[4, 2] == E


def test_perforation_around_hole() -> None:
    fg = np.zeros((11, 11), bool)
    fg[1:10, 1:10] = True
    fg[5, 5] = False  # a one-cell hole in the middle of the block
    out = mspa(fg, edge_width=1)
    ring = np.zeros_like(fg)
    ring[4:7, 4:7] = True
    ring[5, 5] = False
    assert (out[ring] == P).all()          # the 8 cells around the hole
    assert out[5, 5] == O
    assert out[1, 1] == E and out[9, 5] == E
    assert out[2, 2] == C and out[3, 5] == C


def test_islet() -> None:
    fg = np.zeros((6, 6), bool)
    fg[1:3, 1:3] = True  # 2x2: every cell touches background, no core
    out = mspa(fg, edge_width=1)
    assert (out[1:3, 1:3] == I).all()
    assert (out[~fg] == O).all()


BRIDGE_LOOP_BRANCH = [
    "..................",  # 0
    ".#####....#####...",  # 1
    ".#####....#####...",  # 2
    ".#################",  # 3: bridge cols 6-9, strip beyond the right block cols 15-17
    ".#####....#####...",  # 4
    ".#####....#####...",  # 5
    "..................",  # 6
]


def test_bridge_between_two_cores() -> None:
    fg = _grid(BRIDGE_LOOP_BRANCH)
    fg[3, 15:] = False
    out = mspa(fg, edge_width=1)
    assert (out[3, 6:10] == B).all()
    assert out[3, 3] == C and out[3, 12] == C
    assert out[3, 5] == E and out[3, 10] == E


def test_branch_dead_end() -> None:
    fg = _grid(BRIDGE_LOOP_BRANCH)  # the strip also continues past the right block to col 17
    fg[3, 6:10] = False             # cut the bridge: the two blocks are separate
    out = mspa(fg, edge_width=1)
    assert (out[3, 15:18] == R).all()
    assert out[3, 14] == E
    assert (out[out == B].size, out[out == L].size) == (0, 0)


def test_loop_back_to_same_core() -> None:
    fg = _grid([
        "............",
        ".#####......",
        ".#####.###..",  # a U-shaped strip leaving row 2 and coming back at row 6
        ".#####...#..",
        ".#####...#..",
        ".#####...#..",
        ".#####.###..",
        ".#####......",
        "............",
    ])
    fg[2, 6] = True
    fg[6, 6] = True
    out = mspa(fg, edge_width=1)
    strip = fg.copy()
    strip[:, :6] = False
    assert (out[strip] == L).all()
    assert out[4, 3] == C


def test_connectivity_four_vs_eight() -> None:
    fg = _grid([
        ".........",
        ".###.....",
        ".###.....",
        ".###.....",
        "....#....",  # a diagonal step off the block's corner
        ".........",
    ])
    out8 = mspa(fg, edge_width=1, connectivity=8)
    out4 = mspa(fg, edge_width=1, connectivity=4)
    assert out8[4, 4] == R   # 8-connected to the block: a branch
    assert out4[4, 4] == I   # 4-connected: a separate islet
    assert out8[2, 2] == C and out4[2, 2] == C


def test_nodata_cells() -> None:
    fg = np.zeros((7, 7), bool)
    fg[1:6, 1:6] = True
    valid = np.ones_like(fg)
    valid[0, :] = False
    out = mspa(fg, edge_width=1, valid=valid)
    assert (out[0] == MSPA_NODATA).all()
    assert out[3, 3] == C


def test_errors() -> None:
    with pytest.raises(DataError, match="no ecological land"):
        mspa(np.zeros((4, 4), bool))
    with pytest.raises(DataError, match="no valid cell"):
        mspa(np.ones((4, 4), bool), valid=np.zeros((4, 4), bool))
    with pytest.raises(ConfigError, match="connectivity 6"):
        mspa(np.ones((4, 4), bool), connectivity=6)
    with pytest.raises(ConfigError, match="edge_width 0"):
        mspa(np.ones((4, 4), bool), edge_width=0)
