"""Summarise Snakemake's per-job benchmark files of one run as Markdown tables.

    python tools/scaling/benchmark_table.py RUN_DIR [--top 10]

RUN_DIR is a run's working directory; every rule writes ``benchmarks/out/{cluster}/{rule}.tsv``
(Snakemake's ``benchmark:`` directive: wall time ``s``, peak resident memory ``max_rss`` and peak
proportional set size ``max_pss`` in MB, ``cpu_time`` in s; ``max_rss`` sums the resident sets of
a job's processes, so forked workers count the pages they share with their parent again, while
``max_pss`` counts them once). Prints, per cluster, the number of jobs, the summed job wall and
CPU time and the largest peak memory of any of its jobs; per rule, the slowest and the most
memory-hungry job; and the ``--top`` slowest jobs of the run. Used for docs/scaling.md.

Snakemake samples a job's memory every 0.5 s for its first 15 s, then every 30 s, so a long job's
``max_rss``/``max_pss`` can miss its peak. Every rule script also logs the kernel's high-water
mark of its process (and of its largest child) as the last line of its log
(:func:`agglonet.logs.log_peak_memory`); the tables add it as ``kernel_peak_mb`` (the process)
and ``kernel_child_mb`` (its largest forked child, which counts the pages it shares with it).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd


def read_benchmarks(run_dir: Path) -> pd.DataFrame:
    """One row per job: cluster, rule, wall and CPU seconds, peak RSS and PSS (MB).

    Jobs outside a cluster (the comparison, report, archive) get the cluster ``(all)``.
    """
    root = Path(run_dir) / "benchmarks" / "out"
    rows = []
    for tsv in sorted(root.rglob("*.tsv")):
        table = pd.read_csv(tsv, sep="\t")
        rel = tsv.relative_to(root)
        cluster = rel.parts[0] if len(rel.parts) > 1 else "(all)"
        own, child = kernel_peak_mb(Path(run_dir) / "logs" / rel.with_suffix(".log"))
        for _, rec in table.iterrows():
            rows.append({"cluster": cluster, "rule": tsv.stem, "wall_s": float(rec["s"]),
                         "cpu_s": float(rec["cpu_time"]),
                         "max_rss_mb": pd.to_numeric(rec["max_rss"], errors="coerce"),
                         "max_pss_mb": pd.to_numeric(rec.get("max_pss"), errors="coerce"),
                         "kernel_peak_mb": own, "kernel_child_mb": child})
    if not rows:
        raise FileNotFoundError(f"no benchmark files under {root}")
    return pd.DataFrame(rows)


#: The line agglonet.logs.log_peak_memory writes: the process's peak, then maybe its child's.
_PEAK_LINE = re.compile(r"peak memory \(kernel\): (\d+) MB resident(?:; largest child process "
                        r"(\d+) MB)?")


def kernel_peak_mb(log: Path) -> tuple[float, float]:
    """Peak resident MB of a job's process and of its largest child, from the job's log.

    NaN where the log has no such line (a log of an older version, or no log).
    """
    own = child = float("nan")
    if log.is_file():
        for match in _PEAK_LINE.finditer(log.read_text(encoding="utf-8", errors="replace")):
            own = float(match.group(1))
            child = float(match.group(2)) if match.group(2) else 0.0
    return own, child


def _markdown(table: pd.DataFrame) -> str:
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    for _, row in table.iterrows():
        cells = [f"{v:,.1f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary_tables(jobs: pd.DataFrame, *, top: int = 10) -> dict[str, pd.DataFrame]:
    """Per-cluster, per-rule and slowest-job tables of :func:`read_benchmarks` rows."""
    per_cluster = (jobs.groupby("cluster", sort=True)
                   .agg(jobs=("rule", "size"), wall_s_sum=("wall_s", "sum"),
                        cpu_s_sum=("cpu_s", "sum"), peak_rss_mb=("max_rss_mb", "max"),
                        peak_pss_mb=("max_pss_mb", "max"),
                        kernel_peak_mb=("kernel_peak_mb", "max"))
                   .reset_index())
    slowest = jobs.loc[jobs.groupby("rule")["wall_s"].idxmax(), ["rule", "cluster", "wall_s"]]
    hungriest = jobs.loc[jobs.groupby("rule")["max_rss_mb"].idxmax(),
                         ["rule", "cluster", "max_rss_mb"]]
    per_rule = (slowest.rename(columns={"cluster": "slowest_cluster", "wall_s": "max_wall_s"})
                .merge(hungriest.rename(columns={"cluster": "largest_rss_cluster"}), on="rule")
                .sort_values("max_wall_s", ascending=False))
    top_jobs = jobs.sort_values("wall_s", ascending=False).head(top)
    return {"per cluster": per_cluster, "per rule": per_rule, f"{top} slowest jobs": top_jobs}


def main(argv: list[str] | None = None) -> int:
    """Command line: print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args(argv)
    jobs = read_benchmarks(args.run_dir)
    print(f"{len(jobs)} jobs, summed wall {jobs['wall_s'].sum():,.0f} s, "
          f"summed CPU {jobs['cpu_s'].sum():,.0f} s, largest peak RSS "
          f"{jobs['max_rss_mb'].max():,.0f} MB, largest peak PSS "
          f"{jobs['max_pss_mb'].max():,.0f} MB, largest kernel peak of a job's process "
          f"{jobs['kernel_peak_mb'].max():,.0f} MB\n")
    for title, table in summary_tables(jobs, top=args.top).items():
        print(f"### {title}\n\n{_markdown(table)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
