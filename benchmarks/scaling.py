"""Cost curve: seconds and peak memory of every rule against the cells of the grid.

    python benchmarks/scaling.py --workdir /tmp/scaling                       # run and report
    python benchmarks/scaling.py --workdir /tmp/scaling --report-only         # report again
    python benchmarks/scaling.py --resolutions 1000 500 350 250 175 --cluster central_plains_core

Runs the workflow of one cluster once per grid resolution, each in its own working
directory (``<workdir>/<resolution>m``), with ``snakemake --cores N``, and reads Snakemake's
per-job ``benchmark:`` files (wall ``s``, ``cpu_time``, peak memory ``max_pss``: see
:func:`job_peak_mb`). The
cells of each run are those of its land-cover grid (``resources/<cluster>/landcover_source.tif``).
The load average of the machine is sampled every 5 s during each run and reported with it.
After the first (coarsest) run, the outputs that do not depend on the grid (:data:`GRID_FREE`)
are copied into the next run's directory, so only the grid's jobs run again.

Per rule it fits ``cpu_s = fixed + a · Mcells^k`` (``k`` is the exponent that docs/scaling.md
reports; n log n over these sizes shows as k ≈ 1.1; the plain log–log slope is printed too) and
``peak_mb = base + slope · Mcells`` (least squares; the formula of the rules' memory
requests in rules/common.smk). It writes ``<workdir>/scaling.csv`` (one row per job), prints the
Markdown tables of docs/scaling.md and draws the plot (``--plot``, default docs/img/scaling.png).

It also prints the fits as the ``GRID_COSTS`` table of rules/common.smk. There is no peer to
time against here: the subject is agglonet's own growth. The last line prints the largest
exponent k of the grid rules as ``max_exponent=<k>``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
#: Outputs that do not depend on the grid (boundaries, seats, roads, OD): copied from the first
#: run into the next ones with their times, so that Snakemake runs only the grid's jobs again.
GRID_FREE = ("resources/{c}/boundaries.gpkg", "resources/{c}/seats.gpkg",
             "resources/{c}/road_graph.graphml", "resources/{c}/roads.gpkg",
             "resources/{c}/road_network_report.json", "resources/{c}/provenance/boundaries.json",
             "resources/{c}/provenance/seats.json", "cache")
#: Rules whose work grows with the grid (the others read roads, tables or boundaries).
GRID_RULES = ("retrieve_landcover", "retrieve_dem", "landcover_classes", "sea_mask", "mspa",
              "ecological_sources", "resistance", "corridors", "circuit", "travel_time_surface",
              "road_crossings", "ecology_tables", "maps", "webmap")


def run_resolution(workdir: Path, *, cluster: str, resolution_m: float,
                   cores: int) -> dict[str, float]:
    """Run the workflow of ``cluster`` at ``resolution_m`` in ``workdir``; return the run's facts.

    Returns
    -------
    dict
        ``wall_s`` of the whole run, ``load_mean`` and ``load_max`` (1-min load average,
        sampled every 5 s).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "scaling.yaml"
    config.write_text(f"clusters: [{cluster}]\nretrieve:\n  resolution_m: {resolution_m:g}\n",
                      encoding="utf-8")
    loads: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            loads.append(os.getloadavg()[0])
            done.wait(5.0)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    cmd = [str(SNAKEMAKE), "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--cores", str(cores), "--configfile", str(config), "--quiet", "rules"]
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          env={**os.environ, "MPLBACKEND": "Agg"}, cwd=workdir)
    wall_s = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"run at {resolution_m:g} m failed:\n{proc.stderr[-4000:]}")
    return {"wall_s": wall_s, "load_mean": float(np.mean(loads)), "load_max": float(max(loads))}


def copy_grid_free(source: Path, target: Path, cluster: str) -> None:
    """Copy the outputs of :data:`GRID_FREE` from one run's directory to another's (times kept)."""
    for pattern in GRID_FREE:
        src, dst = source / pattern.format(c=cluster), target / pattern.format(c=cluster)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        elif src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


def grid_cells(workdir: Path, cluster: str) -> int:
    """Cells of the run's cluster grid (its land-cover raster)."""
    import rasterio

    with rasterio.open(workdir / "resources" / cluster / "landcover_source.tif") as src:
        return int(src.width * src.height)


def job_peak_mb(record: pd.Series) -> float:
    """Peak memory of a job's processes, pages they share counted once (MB).

    Snakemake's ``max_pss`` (proportional set size summed over the job's process tree): what a
    memory cgroup charges the job. ``max_rss`` sums the resident sets, so pages that forked
    workers share with their parent (the circuit's matrix and AMG hierarchy) count once per
    process; it is kept beside it. Falls back to ``max_rss`` where ``max_pss`` is missing.
    """
    pss = float(pd.to_numeric(record.get("max_pss"), errors="coerce"))
    return pss if np.isfinite(pss) else float(pd.to_numeric(record["max_rss"], errors="coerce"))


def read_jobs(workdir: Path, cluster: str) -> pd.DataFrame:
    """One row per job: ``rule``, ``wall_s``, ``cpu_s``, ``max_rss_mb``, ``peak_mb`` (PSS)."""
    rows = []
    for tsv in sorted((workdir / "benchmarks" / "out" / cluster).glob("*.tsv")):
        rec = pd.read_csv(tsv, sep="\t").iloc[-1]
        rows.append({"rule": tsv.stem, "wall_s": float(rec["s"]),
                     "cpu_s": float(rec["cpu_time"]),
                     "max_rss_mb": float(pd.to_numeric(rec["max_rss"], errors="coerce")),
                     "peak_mb": job_peak_mb(rec)})
    return pd.DataFrame(rows)


def fit_cost(mcells: np.ndarray, cpu_s: np.ndarray) -> tuple[float, float, float]:
    """Fit ``cpu_s = fixed + per_mcell · mcells^k`` in two steps; return ``(fixed, per, k)``.

    ``fixed`` (≥ 0) is the intercept of the least-squares line: the job's start-up (Python,
    imports, reading vectors), the same on every grid. ``k`` is the log–log slope of the work
    above it, ``cpu_s − fixed``, over the grids where that work is at least 0.3 s (a plain
    log–log slope of the total would understate it); 1 when fewer than three grids have that
    much (the work on the grid is too small to measure). ``per`` is then the least-squares
    factor of ``mcells^k``.
    """
    per, fixed = np.polyfit(mcells, cpu_s, 1)
    fixed = max(float(fixed), 0.0)
    work = cpu_s - fixed
    ok = work >= 0.3
    k = float(np.polyfit(np.log(mcells[ok]), np.log(work[ok]), 1)[0]) if ok.sum() >= 3 else 1.0
    x = mcells**k
    per = float(np.dot(x, work) / np.dot(x, x))
    return fixed, max(per, 0.0), k


def fit_rules(jobs: pd.DataFrame) -> pd.DataFrame:
    """Per rule: exponents of the CPU time, the cost formula and the memory line in Mcells.

    ``loglog_exponent`` is the slope of log(cpu_s) against log(cells) (start-up included);
    ``cpu_s_fixed``, ``cpu_s_per_mcell`` and ``k`` the fit of :func:`fit_cost`; ``mem_base_mb``
    and ``mem_mb_per_mcell`` the least-squares line of the peak memory against millions of cells.
    """
    out = []
    for rule, part in jobs.groupby("rule", sort=True):
        if part["cells"].nunique() < 3:
            continue
        log_n = np.log(part["cells"].to_numpy(float))
        cpu = np.maximum(part["cpu_s"].to_numpy(float), 0.01)
        mcells = part["cells"].to_numpy(float) / 1e6
        slope_mb, base_mb = np.polyfit(mcells, part["peak_mb"].to_numpy(float), 1)
        fixed, per, k = fit_cost(mcells, cpu)
        largest = part.loc[part["cells"].idxmax()]
        out.append({
            "rule": rule, "grid": rule in GRID_RULES,
            "loglog_exponent": float(np.polyfit(log_n, np.log(cpu), 1)[0]),
            "k": k, "cpu_s_fixed": fixed, "cpu_s_per_mcell": per,
            "mem_base_mb": float(base_mb), "mem_mb_per_mcell": float(slope_mb),
            "cpu_s_largest": float(largest["cpu_s"]), "wall_s_largest": float(largest["wall_s"]),
            "peak_mb_largest": float(largest["peak_mb"]),
        })
    return pd.DataFrame(out)


def check_table(jobs: pd.DataFrame, fits: pd.DataFrame, cells: int) -> pd.DataFrame:
    """Measured CPU time and peak memory of another run's grid jobs beside the fitted formulas."""
    mcells = cells / 1e6
    rows = []
    for fit in fits[fits["grid"]].itertuples():
        hit = jobs[jobs["rule"] == fit.rule]
        if hit.empty:
            continue
        rows.append({"rule": fit.rule, "Mcells": mcells,
                     "cpu_s": float(hit["cpu_s"].iloc[0]),
                     "cpu_s_formula": fit.cpu_s_fixed + fit.cpu_s_per_mcell * mcells**fit.k,
                     "peak_mb": float(hit["peak_mb"].iloc[0]),
                     "mb_formula": fit.mem_base_mb + fit.mem_mb_per_mcell * mcells})
    return pd.DataFrame(rows)


def grid_costs_table(fits: pd.DataFrame) -> str:
    """Return the fits of the grid rules as the ``GRID_COSTS`` entries of rules/common.smk."""
    lines = []
    for row in fits[fits["grid"]].itertuples():
        lines.append(f'    "{row.rule}": ({max(row.mem_base_mb, 0):.0f}, '
                     f"{max(row.mem_mb_per_mcell, 0):.0f}, {row.cpu_s_fixed:.1f}, "
                     f"{row.cpu_s_per_mcell:.2f}, {row.k:.2f}),")
    return "\n".join(lines)


def markdown(table: pd.DataFrame, *, digits: int = 1) -> str:
    """Return a Markdown table (floats with ``digits`` decimals and thousands separators)."""
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    for _, row in table.iterrows():
        cells = [f"{v:,.{digits}f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(jobs: pd.DataFrame, fits: pd.DataFrame, path: Path) -> None:
    """Draw CPU seconds and peak memory of the grid rules against cells (log–log)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(12, 5), dpi=110)
    rules = [r for r in fits.loc[fits["grid"], "rule"]]
    cmap = plt.get_cmap("tab20")
    for i, rule in enumerate(rules):
        part = jobs[jobs["rule"] == rule].sort_values("cells")
        k = float(fits.loc[fits["rule"] == rule, "k"].iloc[0])
        ax_t.plot(part["cells"], part["cpu_s"].clip(lower=0.01), "o-", color=cmap(i),
                  label=f"{rule} (k={k:.2f})")
        ax_m.plot(part["cells"], part["peak_mb"], "o-", color=cmap(i), label=rule)
    cells = np.geomspace(jobs["cells"].min(), jobs["cells"].max(), 20)
    ref = cells * np.log(cells)
    ax_t.plot(cells, ref / ref[-1] * jobs["cpu_s"].max(), "k--", lw=1, label="n log n")
    for ax, label in ((ax_t, "CPU time per job (s)"), (ax_m, "peak memory, PSS (MB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("grid cells")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    ax_t.legend(fontsize=7, ncol=2)
    fig.suptitle("agglonet cost curve: grid rules against grid cells")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Run the workflow at each resolution (unless ``--report-only``) and report the curve."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--cluster", default="central_plains_core")
    parser.add_argument("--resolutions", type=float, nargs="+",
                        default=[1000, 500, 350, 250])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--plot", type=Path, default=REPO / "docs" / "img" / "scaling.png")
    parser.add_argument("--report-only", action="store_true",
                        help="read the finished runs under --workdir, run nothing")
    parser.add_argument("--check-run", nargs=2, metavar=("RUN_DIR", "CLUSTER"),
                        help="a finished run of another cluster: its jobs against the formulas")
    parser.add_argument("--extra-run", nargs=2, action="append", default=[],
                        metavar=("RUN_DIR", "CLUSTER"),
                        help="finished runs of other clusters added to the GRID_COSTS fit (the "
                             "exponents stay those of --cluster's curve); repeatable")
    args = parser.parse_args(argv)

    runs, frames = [], []
    first: Path | None = None
    for res in sorted(args.resolutions, reverse=True):
        run_dir = args.workdir / f"{res:g}m"
        if not args.report_only and not (run_dir / "scaling_run.json").exists():
            if first is not None:
                copy_grid_free(first, run_dir, args.cluster)
            facts = run_resolution(run_dir, cluster=args.cluster, resolution_m=res,
                                   cores=args.cores)
            pd.Series(facts).to_json(run_dir / "scaling_run.json")
            print(f"{res:g} m: {facts['wall_s']:.0f} s, load {facts['load_mean']:.1f} "
                  f"(max {facts['load_max']:.1f})", file=sys.stderr, flush=True)
            first = first or run_dir
        facts = pd.read_json(run_dir / "scaling_run.json", typ="series").to_dict()
        cells = grid_cells(run_dir, args.cluster)
        runs.append({"resolution_m": res, "cells": cells, **facts})
        frames.append(read_jobs(run_dir, args.cluster).assign(resolution_m=res, cells=cells))
    jobs = pd.concat(frames, ignore_index=True)
    jobs.to_csv(args.workdir / "scaling.csv", index=False)
    fits = fit_rules(jobs)

    print("## runs\n")
    print(markdown(pd.DataFrame(runs)))
    wide = jobs[jobs["rule"].isin(GRID_RULES)].pivot_table(
        index="rule", columns="cells", values=["cpu_s", "peak_mb"])
    print("\n## CPU s per rule and cells\n")
    print(markdown(wide["cpu_s"].reset_index().rename(columns=str)))
    print("\n## peak MB per rule and cells\n")
    print(markdown(wide["peak_mb"].reset_index().rename(columns=str), digits=0))
    print("\n## fits\n")
    print(markdown(fits, digits=2))
    if args.check_run:
        run_dir, cluster = Path(args.check_run[0]), args.check_run[1]
        print(f"\n## check: {cluster} ({run_dir.name}) against the fits\n")
        print(markdown(check_table(read_jobs(run_dir, cluster), fits,
                                   grid_cells(run_dir, cluster)), digits=1))
    plot(jobs, fits, args.plot)
    print(f"\nplot: {args.plot}")
    costs = fits
    if args.extra_run:
        extra = [read_jobs(Path(d), c).assign(resolution_m=np.nan, cells=grid_cells(Path(d), c))
                 for d, c in args.extra_run]
        costs = fit_rules(pd.concat([jobs, *extra], ignore_index=True))
        print(f"\n## fits with {', '.join(c for _, c in args.extra_run)}\n")
        print(markdown(costs, digits=2))
    print("\n## GRID_COSTS (rules/common.smk)\n")
    print(grid_costs_table(costs))
    print(f"max_exponent={fits.loc[fits['grid'], 'k'].max():.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
