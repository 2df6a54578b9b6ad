"""Benchmark: circuit-theory solves, agglonet (AMG-preconditioned CG) vs spsolve.

Two cases, run one after the other (``--case`` picks one):

* ``pairs`` (multi-pair): Circuitscape-style pairwise run on a generated grid of ``--pairs-size``²
  cells (default 1825² = 3.33 M) with 5 focal points, i.e. 10 pairs, cumulative current map
  on (``agglonet.ecology.circuitscape.circuitscape_pairwise``, CG stopped at Circuitscape's
  relative residual 1e-6). Prints seconds per pair (wall and CPU) and the process's peak resident
  memory, and checks one pair's effective resistance against an independent per-pair solve of
  the same pair at rtol 1e-10 (``pair_voltages``).
* ``single``: the case below.

Both sides solve the same grounded Laplacian of a generated resistance grid (smooth random
resistance 1–100, two sources short-circuited, 1 A injected at one, the other grounded), and
both include the assembly of the conductance graph (``agglonet.ecology.circuit.circuit_graph``):
agglonet = ``pair_voltages(..., solver="amg")`` (classical AMG + CG); the reference = the same
graph's Laplacian, then ``scipy.sparse.linalg.spsolve`` (SuperLU, COLAMD ordering) on the
grounded system. The voltages must agree to 1e-5 (relative to the source voltage); agglonet
stops CG at Circuitscape's relative residual 1e-6.

Timing: the machine this was measured on is shared (2 cores, other jobs running), so each step
prints wall-clock and CPU time of this process with the load average. Both sides are
single-threaded, and the speedup on the last line is the ratio of CPU times measured in this one
process, which other jobs barely move; the wall-clock ratio is printed on the line before it.
Measured numbers are in docs/circuitscape.md.
"""

from __future__ import annotations

import os

# One BLAS thread for both sides (set before numpy loads OpenBLAS): pyamg's set-up and CG's dot
# products are many small BLAS calls that a multi-threaded OpenBLAS slows down on 2 busy cores.
# The library does the same through threadpoolctl when it is installed.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse.linalg as spla  # noqa: E402
from scipy import ndimage  # noqa: E402
from scipy.sparse.csgraph import connected_components  # noqa: E402

from agglonet.ecology.circuit import circuit_graph, pair_voltages  # noqa: E402
from agglonet.ecology.circuitscape import (  # noqa: E402
    FocalNodes,
    MapRequest,
    SolverSettings,
    cell_conductance,
    circuitscape_pairwise,
)


class Clock:
    """Wall-clock and CPU time of this process since creation, and the load average.

    Both sides run single-threaded (one BLAS thread, SuperLU and pyamg are serial), so the CPU
    time of the process is the work each side does; on a machine shared with other jobs it is
    far steadier than wall-clock time, which is printed alongside.
    """

    def __init__(self) -> None:
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()

    def read(self) -> tuple[float, float]:
        """Wall-clock and CPU seconds since creation."""
        return time.perf_counter() - self.wall0, time.process_time() - self.cpu0

    @staticmethod
    def load() -> str:
        """Return the 1, 5 and 15 minute load averages, as text."""
        return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def make_grid(size: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    field = ndimage.gaussian_filter(rng.standard_normal((size, size)), sigma=size / 100)
    field = (field - field.min()) / (field.max() - field.min())
    resistance = 1.0 + 99.0 * field**2
    resistance[size // 3, size // 5: size - size // 5] = np.nan   # an impassable barrier line
    labels = np.zeros((size, size), dtype=np.int32)
    s = max(size // 50, 2)
    labels[s:2 * s, s:2 * s] = 1
    labels[size - 2 * s:size - s, size - 2 * s:size - s] = 2
    return resistance, labels


def spsolve_voltages(resistance: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Solve the reference: same graph, grounded at source 2, with scipy's spsolve."""
    graph = circuit_graph(resistance, labels)
    lap = graph.laplacian
    na, nb = graph.source_nodes[1], graph.source_nodes[2]
    _, comp = connected_components(lap, directed=False)
    nodes = np.flatnonzero((comp == comp[nb]) & (np.arange(lap.shape[0]) != nb))
    rhs = np.zeros(nodes.size)
    rhs[np.searchsorted(nodes, na)] = 1.0
    v = np.full(lap.shape[0], np.nan)
    v[nb] = 0.0
    v[nodes] = spla.spsolve(lap[nodes][:, nodes].tocsc(), rhs)
    out = np.full(resistance.shape, np.nan)
    ok = graph.node_of_cell >= 0
    out[ok] = v[graph.node_of_cell[ok]]
    return out


def multi_pair(size: int) -> None:
    """Pairwise run, 5 focal points (10 pairs), cumulative current map; s per pair, peak RSS."""
    resistance, _ = make_grid(size)
    s = size // 10
    cells = [(s, s), (size - s, size - s), (s, size - s), (size - s, s), (size // 2, size // 2)]
    labels = np.zeros(resistance.shape)
    for k, (i, j) in enumerate(cells, start=1):
        labels[i, j] = k
    print(f"grid {size} x {size} = {size**2 / 1e6:.2f} M cells, 5 focal points, 10 pairs, "
          "cumulative current map")
    clock = Clock()
    result = circuitscape_pairwise(cell_conductance(resistance), FocalNodes.from_raster(labels),
                                   avg_resistances=True, maps=MapRequest(current=True),
                                   settings=SolverSettings(solver="amg"))
    wall, cpu = clock.read()
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"agglonet pairwise: {wall:.1f} s wall / {cpu:.1f} s CPU for 10 pairs "
          f"({result.solves} solves): {wall / 10:.2f} s per pair wall, {cpu / 10:.2f} s per pair "
          f"CPU; peak resident memory {peak_gib:.2f} GiB; {clock.load()}")
    pair_labels = np.zeros(resistance.shape, dtype=np.int32)
    pair_labels[cells[0]] = 1
    pair_labels[cells[1]] = 2
    clock = Clock()
    v = pair_voltages(resistance, pair_labels, pair=(1, 2), solver="amg", rtol=1e-10)
    check = float(v[cells[0]])
    print(f"check: R(1,2) = {result.resistances[1, 2]:.6f}; independent pair solve at rtol "
          f"1e-10: {check:.6f} ({clock.read()[0]:.1f} s)")
    assert abs(result.resistances[1, 2] - check) <= 1e-5 * check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1000, help="grid side in cells (single)")
    parser.add_argument("--pairs-size", type=int, default=1825,
                        help="grid side in cells (pairs case; 1825 = 3.33 M cells)")
    parser.add_argument("--case", choices=("both", "pairs", "single"), default="both")
    args = parser.parse_args()
    if args.case in ("both", "pairs"):
        multi_pair(args.pairs_size)
    if args.case == "pairs":
        return
    resistance, labels = make_grid(args.size)
    print(f"grid {args.size} x {args.size} = {args.size**2 / 1e6:.2f} M cells, one pair solve")
    clock = Clock()
    v_amg = pair_voltages(resistance, labels, pair=(1, 2), solver="amg", rtol=1e-6)
    wall_amg, cpu_amg = clock.read()
    print(f"agglonet (assembly + classical AMG + CG): {wall_amg:.2f} s wall, {cpu_amg:.2f} s CPU; "
          f"{clock.load()}")
    clock = Clock()
    v_ref = spsolve_voltages(resistance, labels)
    wall_ref, cpu_ref = clock.read()
    print(f"reference (same assembly + scipy spsolve): {wall_ref:.2f} s wall, {cpu_ref:.2f} s "
          f"CPU; {clock.load()}")
    scale = np.nanmax(np.abs(v_ref))
    diff = np.nanmax(np.abs(v_amg - v_ref)) / scale
    assert np.array_equal(np.isnan(v_amg), np.isnan(v_ref))
    assert diff <= 1e-5, f"voltages differ by {diff:.2e} of the source voltage"
    print(f"largest voltage difference: {diff:.1e} of the source voltage "
          f"(effective resistance {v_ref[labels == 1][0]:.4f} ohm)")
    print(f"wall-clock ratio {wall_ref / wall_amg:.2f} (depends on what else the machine runs); "
          "CPU-time ratio below")
    print(f"speedup_vs_spsolve={cpu_ref / cpu_amg:.2f}")


if __name__ == "__main__":
    main()
