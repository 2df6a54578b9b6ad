"""Command line: ``agglonet verify``, ``agglonet archive`` and ``agglonet circuitscape run``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from agglonet.config import DEFAULT_CONFIG, load_yaml
from agglonet.errors import AgglonetError
from agglonet.export.archive import archive_name, build_archive, format_checks, verify_archive

_REPO = Path(__file__).resolve().parents[2]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agglonet", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="re-run an archived run offline and compare its outputs")
    v.add_argument("archive", type=Path, help="results/archive/agglonet-...zip")
    v.add_argument("--repo", type=Path, default=_REPO, help="repository with the workflow")
    v.add_argument("--workdir", type=Path, default=None,
                   help="re-run here (kept) instead of a temporary directory")
    v.add_argument("--cores", type=int, default=2)
    a = sub.add_parser("archive", help="write the RO-Crate run archive of finished results")
    a.add_argument("--root", type=Path, default=Path("."), help="run folder (results/, resources/)")
    a.add_argument("--repo", type=Path, default=_REPO)
    a.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="configuration used")
    a.add_argument("--clusters", nargs="+", default=None, help="default: config 'clusters'")
    a.add_argument("--out", type=Path, default=None, help="default: results/archive/<name>.zip")
    a.add_argument("--no-inputs", action="store_true", help="record inputs without copying them")
    k = sub.add_parser("check-args", help="check the --configfile files of a Snakemake command "
                       "line (make run calls it before Snakemake)")
    k.add_argument("args", nargs=argparse.REMAINDER, help="the Snakemake arguments")
    c = sub.add_parser("circuitscape", help="run a Circuitscape .ini job (raster pairwise, "
                       "one-to-all, all-to-one) and write Circuitscape's output files")
    c_sub = c.add_subparsers(dest="circuitscape_command", required=True)
    c_run = c_sub.add_parser("run", help="run one Circuitscape .ini")
    c_run.add_argument("ini", type=Path, help="Circuitscape job file (.ini)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (non-zero on any mismatch or error)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "verify":
            checks = verify_archive(args.archive, repo=args.repo, workdir=args.workdir,
                                    cores=args.cores)
            print(format_checks(checks))
            return 1 if any(c.status in {"mismatch", "missing"} for c in checks) else 0
        if args.command == "check-args":
            from agglonet.preflight import check_configfiles

            check_configfiles([a for a in args.args if a != "--"])
            return 0
        if args.command == "circuitscape":
            from agglonet.ecology.circuitscape import run_ini

            _, files = run_ini(args.ini)
            print("\n".join(str(f) for f in files))
            return 0
        config = load_yaml(args.config)
        clusters = args.clusters or config["clusters"]
        if isinstance(clusters, str):
            raise AgglonetError(f"--clusters needed when config clusters is {clusters!r}")
        out = args.out or args.root / "results" / "archive" / archive_name(clusters)
        build_archive(out, root=args.root, repo=args.repo, clusters=clusters, config=config,
                      include_inputs=not args.no_inputs)
        print(out)
        return 0
    except AgglonetError as exc:
        print(f"agglonet {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
