"""The conda environment file carries every dependency of pyproject.toml, with the same bounds."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
#: PyPI name → conda-forge name where they differ.
CONDA_NAMES = {"snakemake": "snakemake-minimal", "igraph": "python-igraph", "osmium": "pyosmium"}


def _conda_requirements() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "envs" / "environment.yaml").read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for dep in env["dependencies"]:
        items = dep["pip"] if isinstance(dep, dict) else [dep]
        for item in items:
            if item.startswith("-e") or item in ("pip",) or item.startswith("python="):
                continue
            req = Requirement(item)
            out[req.name.lower()] = str(req.specifier)
    return out


def test_environment_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    conda = _conda_requirements()
    problems = []
    for text in wanted:
        req = Requirement(text)
        name = CONDA_NAMES.get(req.name.lower(), req.name.lower())
        if name not in conda:
            problems.append(f"{req.name} ({name}) missing from envs/environment.yaml")
        elif set(str(req.specifier).split(",")) != set(conda[name].split(",")):
            problems.append(f"{req.name}: pyproject {req.specifier} vs conda {conda[name]}")
    assert problems == []
