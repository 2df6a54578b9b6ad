"""Benchmark: one circuit-theory current solve, agglonet (AMG-preconditioned CG) vs spsolve.

Both sides solve the same grounded Laplacian of a generated resistance grid (smooth random
resistance 1–100, two sources short-circuited, 1 A injected at one, the other grounded), and
both include the assembly of the conductance graph (``agglonet.ecology.circuit.circuit_graph``):
agglonet = ``pair_voltages(..., solver="amg")``; the reference = the same assembly, then
``scipy.sparse.linalg.spsolve`` (SuperLU, COLAMD ordering) on the grounded system. The voltages
must agree to 1e-6 (relative to the source voltage).

Run by hand (not in CI)::

    .venv/bin/python benchmarks/circuit.py              # 1000 x 1000 = 1 M cells

The last line is ``speedup_vs_spsolve=<x>``.

Measured 2026-11-29 on the 2-core build machine (1000 x 1000): agglonet 7.2 s, spsolve 39.5 s,
voltages equal to 6e-12 of the source voltage: speedup 5.49.
"""

from __future__ import annotations

import os

# One BLAS thread for both sides (set before numpy loads OpenBLAS): pyamg's set-up and CG's dot
# products are many small BLAS calls that a multi-threaded OpenBLAS slows down on 2 busy cores.
# The library does the same through threadpoolctl when it is installed.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse.linalg as spla  # noqa: E402
from scipy import ndimage  # noqa: E402
from scipy.sparse.csgraph import connected_components  # noqa: E402

from agglonet.ecology.circuit import circuit_graph, pair_voltages  # noqa: E402


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1000, help="grid side in cells")
    args = parser.parse_args()
    resistance, labels = make_grid(args.size)
    print(f"grid {args.size} x {args.size} = {args.size**2 / 1e6:.2f} M cells, one pair solve")
    t0 = time.perf_counter()
    v_amg = pair_voltages(resistance, labels, pair=(1, 2), solver="amg", rtol=1e-10)
    t_amg = time.perf_counter() - t0
    print(f"agglonet (assembly + pyamg smoothed aggregation + CG): {t_amg:.2f} s")
    t0 = time.perf_counter()
    v_ref = spsolve_voltages(resistance, labels)
    t_ref = time.perf_counter() - t0
    print(f"reference (same assembly + scipy spsolve):            {t_ref:.2f} s")
    scale = np.nanmax(np.abs(v_ref))
    diff = np.nanmax(np.abs(v_amg - v_ref)) / scale
    assert np.array_equal(np.isnan(v_amg), np.isnan(v_ref))
    assert diff <= 1e-6, f"voltages differ by {diff:.2e} of the source voltage"
    print(f"largest voltage difference: {diff:.1e} of the source voltage "
          f"(effective resistance {v_ref[labels == 1][0]:.4f} ohm)")
    print(f"speedup_vs_spsolve={t_ref / t_amg:.2f}")


if __name__ == "__main__":
    main()
