"""Command line: ``agglonet verify``, ``archive``, ``circuitscape run`` and ``scenario``."""

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
    s = sub.add_parser("scenario", help='"what if" scenarios of config scenarios '
                       "(docs/scenarios.md)")
    s_sub = s.add_subparsers(dest="scenario_command", required=True)
    for name, text in (("list", "list the configured scenarios"),
                       ("run", "run scenarios (and the baseline they need) with Snakemake"),
                       ("compare", "print a cluster's scenarios ranked by effect")):
        p = s_sub.add_parser(name, help=text)
        p.add_argument("--configfile", type=Path, action="append", default=[],
                       help="a config file merged over config/config.yaml (repeatable)")
        p.add_argument("--workdir", type=Path, default=Path("."), help="run folder")
        if name == "run":
            p.add_argument("names", nargs="*", help="scenarios to run (default: all)")
            p.add_argument("--cores", type=int, default=2)
            p.add_argument("-n", "--dry-run", action="store_true", help="show the jobs only")
        if name == "compare":
            p.add_argument("--cluster", default=None, help="default: the first cluster run")
    return parser


def _scenario_command(args: argparse.Namespace) -> int:
    """``agglonet scenario list|run|compare``."""
    import subprocess

    import pandas as pd

    from agglonet.config import load_config
    from agglonet.outputs import SCENARIO_DIR
    from agglonet.scenarios.edits import parse_scenarios, scenario_table

    config = load_config(*args.configfile)
    scenarios = parse_scenarios(config.get("scenarios"),
                                speeds_kph=config["roads"]["speeds_kph"])
    if args.scenario_command == "list":
        if not scenarios:
            print("no scenario configured (config key scenarios); example: --configfile "
                  "config/scenarios/central_plains_core.yaml")
            return 0
        print(scenario_table(scenarios).to_string(index=False))
        return 0
    if args.scenario_command == "run":
        unknown = sorted(set(args.names) - set(scenarios))
        if unknown:
            raise AgglonetError(f"scenario(s) {', '.join(unknown)} are not configured; "
                                f"expected one of {', '.join(scenarios) or '(none)'}")
        chosen = [scenarios[n] for n in (args.names or scenarios)]
        targets = [f"{SCENARIO_DIR.format(cluster=s.cluster, scenario=s.name)}/summary.json"
                   for s in chosen]
        targets += sorted({f"results/{s.cluster}/scenarios/comparison.csv" for s in chosen
                           if not args.names})
        clusters = sorted({s.cluster for s in chosen})
        # targets first: --config and --configfile take every word after them
        command = [sys.executable, "-m", "snakemake", *targets, "--snakefile",
                   str(_REPO / "Snakefile"), "--directory", str(args.workdir), "--cores",
                   str(args.cores), *(["-n"] if args.dry_run else []),
                   "--config", f"clusters={clusters}"]
        command += ["--configfile", *map(str, args.configfile)] if args.configfile else []
        return subprocess.run(command, check=False).returncode
    cluster = args.cluster or (config["clusters"][0] if isinstance(config["clusters"], list)
                               else None)
    path = args.workdir / "results" / str(cluster) / "scenarios" / "comparison.csv"
    if not path.is_file():
        raise AgglonetError(f"{path} does not exist; run `agglonet scenario run` first")
    table = pd.read_csv(path)
    print(table.drop(columns=["description"]).to_string(index=False))
    return 0


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
        if args.command == "scenario":
            return _scenario_command(args)
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
