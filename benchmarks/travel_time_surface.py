"""Travel-time surface: the compiled grid Dijkstra against skimage's MCP_Geometric.

    python benchmarks/travel_time_surface.py [--rows 2934 --cols 2836 --seats 26]

A random speed grid of the size of yangtze_river_delta at 250 m (2,934 × 2,836 = 8.3 M cells):
walking speeds of the land-cover classes, 15 % road cells at 60 km/h, 5 % impassable, 26 seats.
Both solvers get the same cost grid (minutes per metre, ``inf`` impassable, a step costs the mean
of its two cells times its length); :func:`agglonet.transport.surface.travel_time_from` runs
:func:`agglonet.grid_dijkstra.cost_distance` (what it does), the peer
``skimage.graph.MCP_Geometric(fully_connected=True).find_costs`` (what it did before). The
minutes must agree; CPU seconds of each (after a warm-up of both on a small grid) are printed,
and the last line is ``speedup_vs_mcp_geometric=<ratio>``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from skimage.graph import MCP_Geometric

from agglonet.grid_dijkstra import cost_distance

CELL_M = 250.0


def cost_grid(rows: int, cols: int, *, seed: int = 0) -> np.ndarray:
    """Minutes per metre of a random speed grid (``inf`` where impassable)."""
    rng = np.random.default_rng(seed)
    speed = rng.choice([5.0, 3.0, 1.5, 60.0, 0.0], size=(rows, cols),
                       p=[0.4, 0.3, 0.1, 0.15, 0.05])
    with np.errstate(divide="ignore"):
        return np.where(speed > 0, 60.0 / (speed * 1000.0), np.inf)


def main() -> None:
    """Time both solvers on one grid and check that they agree."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2934)
    parser.add_argument("--cols", type=int, default=2836)
    parser.add_argument("--seats", type=int, default=26)
    args = parser.parse_args()
    cost = cost_grid(args.rows, args.cols)
    rng = np.random.default_rng(1)
    starts = sorted({(int(r), int(c)) for r, c in zip(rng.integers(0, args.rows, args.seats),
                                                      rng.integers(0, args.cols, args.seats),
                                                      strict=True)})
    for r, c in starts:
        cost[r, c] = 60.0 / 5000.0
    flat = np.array([r * args.cols + c for r, c in starts], dtype=np.int64)
    # warm-up: numba's cached compilation, skimage's first call
    cost_distance(cost[:50, :50], np.array([0]), cell_size_m=CELL_M)
    MCP_Geometric(cost[:50, :50], fully_connected=True,
                  sampling=(CELL_M, CELL_M)).find_costs([(0, 0)])

    start = time.process_time()
    ours = cost_distance(cost, flat, cell_size_m=CELL_M)
    ours_s = time.process_time() - start
    start = time.process_time()
    mcp = MCP_Geometric(cost, fully_connected=True, sampling=(CELL_M, CELL_M))
    peer, _ = mcp.find_costs(starts)
    peer_s = time.process_time() - start

    peer = np.asarray(peer)
    finite = np.isfinite(peer)
    assert np.array_equal(finite, np.isfinite(ours)), "reachable cells differ"
    worst = float(np.max(np.abs(ours[finite] - peer[finite]) / np.maximum(peer[finite], 1e-12)))
    assert worst < 1e-12, f"minutes differ: largest relative difference {worst:.3g}"
    print(f"grid {args.rows} x {args.cols} = {cost.size:,} cells, {len(starts)} seats")
    print(f"agglonet grid_dijkstra: {ours_s:.2f} s CPU; MCP_Geometric: {peer_s:.2f} s CPU; "
          f"largest relative difference {worst:.1e}; float32 minutes identical: "
          f"{np.array_equal(ours.astype(np.float32), peer.astype(np.float32))}")
    print(f"speedup_vs_mcp_geometric={peer_s / ours_s:.2f}")


if __name__ == "__main__":
    main()
