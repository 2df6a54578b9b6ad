"""Compare the results of two runs of the workflow, file by file.

    python tools/slurm/compare_runs.py RUN_A RUN_B [--csv-only]

RUN_A and RUN_B are working directories of two runs (each with a ``results/`` folder), e.g. a
local run and a run through ``--profile profiles/slurm``. Every file under ``RUN_A/results`` is
compared with the same path under ``RUN_B/results`` the way ``agglonet verify`` compares an
archive with its re-run (:func:`agglonet.export.archive.compare_file`): tables (CSV), JSON and
styles byte for byte (sha256), GeoPackages feature by feature, GeoTIFFs pixel by pixel; maps
(PNG) are listed but not compared. A file only in RUN_B is reported as well.

Exit status 0 when every CSV is byte-identical and nothing else mismatches, 1 otherwise (with
``--csv-only``, only the CSVs decide).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agglonet.export.archive import FileCheck, compare_file, format_checks


def compare_runs(run_a: Path, run_b: Path) -> list[FileCheck]:
    """Compare every file under ``run_a/results`` with the same file under ``run_b/results``.

    Parameters
    ----------
    run_a, run_b
        Working directories of the two runs.

    Returns
    -------
    list of FileCheck
        One check per file, sorted by path; ``path`` is relative to ``results/``.
    """
    res_a, res_b = Path(run_a) / "results", Path(run_b) / "results"
    if not res_a.is_dir():
        raise FileNotFoundError(f"{res_a} is not a folder; give the working directory of a run")
    files_a = {p.relative_to(res_a) for p in res_a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(res_b) for p in res_b.rglob("*") if p.is_file()}
    checks = []
    for rel in sorted(files_a):
        check = compare_file(res_a / rel, res_b / rel)
        checks.append(FileCheck(str(rel), check.status, check.how, check.detail))
    for rel in sorted(files_b - files_a):
        checks.append(FileCheck(str(rel), "missing", "exists", f"only in {run_b}"))
    return checks


def main(argv: list[str] | None = None) -> int:
    """Command line: print the table of checks; exit 1 on a mismatch."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_a", type=Path)
    parser.add_argument("run_b", type=Path)
    parser.add_argument("--csv-only", action="store_true",
                        help="exit status from the CSV tables only")
    args = parser.parse_args(argv)
    checks = compare_runs(args.run_a, args.run_b)
    print(format_checks(checks))
    csv = [c for c in checks if c.path.endswith(".csv")]
    bad = [c for c in (csv if args.csv_only else checks) if c.status in {"mismatch", "missing"}]
    print(f"{len(csv)} CSV tables: {sum(c.status == 'match' for c in csv)} byte-identical")
    return 1 if bad or not csv else 0


if __name__ == "__main__":
    sys.exit(main())
