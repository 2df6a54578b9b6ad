"""docs/metrics.md defines every column of every CSV table the workflow writes.

A column counts as defined when it appears, in backticks, in the first cell of a table row of a
section whose heading names the file (``## `od.csv` ``); a heading naming several files defines
the column for each, and a sub-section inherits the files of its parent unless it names its own.
``{...}`` in a documented name stands for any text (``daily_access_{h}h_share``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agglonet.metrics import structure
from agglonet.metrics.cluster import metric_columns
from agglonet.outputs import BORDER_GAP_COLUMNS, TABLES
from agglonet.transport import accessibility as acc
from agglonet.transport.borders import OD_BORDER_COLUMNS
from agglonet.transport.surface import CITY_CELL_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "metrics.md"
CLUSTER = "central_plains_core"

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_TICKED = re.compile(r"`([^`]+)`")


def documented_columns(markdown: str) -> dict[str, list[re.Pattern[str]]]:
    """CSV file name → patterns of the columns its sections define."""
    out: dict[str, list[re.Pattern[str]]] = {}
    stack: list[tuple[int, set[str]]] = []  # (heading level, files) of the open sections
    for line in markdown.splitlines():
        heading = _HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            named = {t for t in _TICKED.findall(heading.group(2)) if t.endswith(".csv")}
            stack.append((level, named or (stack[-1][1] if stack else set())))
            continue
        if not (line.startswith("|") and stack and stack[-1][1]):
            continue
        first_cell = line.strip("|").split("|")[0]
        for name in _TICKED.findall(first_cell):
            pattern = re.compile(re.sub(r"\\\{[^}]*\\\}", ".+?", re.escape(name)))
            for file in stack[-1][1]:
                out.setdefault(file, []).append(pattern)
    return out


def undocumented(file: str, columns: list[str], documented: dict) -> list[str]:
    """Columns of ``file`` no section of the doc defines."""
    patterns = documented.get(file, [])
    return [c for c in columns if not any(p.fullmatch(c) for p in patterns)]


@pytest.fixture(scope="module")
def documented() -> dict[str, list[re.Pattern[str]]]:
    return documented_columns(DOC.read_text(encoding="utf-8"))


def test_parser_reads_sections_and_placeholders() -> None:
    text = ("# T\n## `a.csv` and `b.csv`\n| column | x |\n| --- | --- |\n"
            "| `x`, `y_{h}h` | z |\n### Part of it\n| `w` | |\n## `c.csv`\n| `x` | |\n"
            "## Other\n| `q` | |\n")
    doc = documented_columns(text)
    assert undocumented("a.csv", ["x", "y_2h", "y_0.5h", "w"], doc) == []
    assert undocumented("b.csv", ["w", "q"], doc) == ["q"]  # q is in a section naming no file
    assert undocumented("c.csv", ["x", "y_2h"], doc) == ["y_2h"]
    assert undocumented("d.csv", ["x"], doc) == ["x"]


def test_transport_and_metrics_columns_are_defined(documented) -> None:
    """The columns the code writes, without a workflow run (fast)."""
    T = np.array([[0.0, 30.0], [30.0, 0.0]])
    seats = pd.DataFrame({"adcode": ["410100", "410200"], "name_en": ["A", "B"],
                          "name_zh": ["甲", "乙"], "population": [100, 200]})
    snap = pd.DataFrame({"snap_distance_m": [0.0, 0.0], "access_leg_min": [0.0, 0.0]})
    labels = ["roads_source", "quality"]
    cities = acc.city_table(seats, T=T, masses=np.array([100.0, 200.0]), snap=snap,
                            thresholds_h=(0.5, 1, 2, 3))
    accessibility = [*cities.columns, *CITY_CELL_COLUMNS, *labels]
    assert undocumented("accessibility.csv", accessibility, documented) == []
    assert undocumented("cities_accessibility.csv", ["cluster", *accessibility], documented) == []
    od = acc.od_table(seats, T=T, D=T / 2, E=T / 3, R=acc.linkage_strength(T, np.ones(2)))
    assert undocumented("od.csv", [*od.columns, *OD_BORDER_COLUMNS, *labels], documented) == []
    for table in ("metrics.csv", "cluster_comparison.csv"):
        assert undocumented(table, metric_columns([0.5, 1, 2, 3]), documented) == []
    assert undocumented("border_gaps.csv", [*BORDER_GAP_COLUMNS, *labels], documented) == []
    for name, columns in (("structure_cities.csv", structure.CITY_COLUMNS),
                          ("structure_sectors.csv", structure.SECTOR_COLUMNS),
                          ("structure_pairs.csv", [*structure.PAIR_COLUMNS, *labels])):
        assert undocumented(name, list(columns), documented) == [], name


@pytest.mark.workflow
def test_every_column_of_every_csv_of_a_run_is_defined(workflow_run, documented) -> None:
    # scenario tables (results/{cluster}/scenarios/): tests/scenarios, against docs/scenarios.md
    catalogue = {t.path.format(cluster=CLUSTER) for t in TABLES
                 if t.path.endswith(".csv") and "/scenarios/" not in t.path}
    written = {str(p.relative_to(workflow_run)) for p in (workflow_run / "results").rglob("*.csv")
               if "scenarios" not in p.relative_to(workflow_run).parts}
    assert written <= catalogue, f"CSV files missing from the output catalogue: " \
                                 f"{sorted(written - catalogue)}"
    missing = {}
    for rel in sorted(catalogue):
        path = workflow_run / rel
        assert path.exists(), f"catalogue table {rel} was not written"
        columns = list(pd.read_csv(path, nrows=0).columns)
        if bad := undocumented(path.name, columns, documented):
            missing[rel] = bad
    assert not missing, f"columns not defined in docs/metrics.md: {missing}"
