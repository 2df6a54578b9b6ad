"""Open agglonet QGIS projects headless with the system QGIS and check them; render a PNG.

Run by tests/export/test_qgis_real.py under the system interpreter (``/usr/bin/python3``, where
Debian's ``python3-qgis`` lives), with ``QT_QPA_PLATFORM=offscreen``:

    python3 tests/export/qgis_check.py expected.json

``expected.json``: ``{"project": path, "png": path, "width": px, "layers": {name: {"count": n,
"renderer": type or null, "raster_renderer": type or null, "labels": bool}}, "proj": [...],
"layout": {"pdf": path, "title": text, "attribution": [text, ...]}}`` (``layout`` optional: the
print layout is found, its items checked and exported to PDF).
Prints one JSON report on stdout; exit code 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import json
import sys

from qgis.core import (
    QgsApplication,
    QgsLayoutExporter,
    QgsLayoutItemLabel,
    QgsLayoutItemLegend,
    QgsLayoutItemMap,
    QgsLayoutItemPicture,
    QgsLayoutItemScaleBar,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

LAYOUT_ITEMS = {"map": QgsLayoutItemMap, "legend": QgsLayoutItemLegend,
                "scalebar": QgsLayoutItemScaleBar, "north_arrow": QgsLayoutItemPicture,
                "title": QgsLayoutItemLabel, "attribution": QgsLayoutItemLabel}


def check_layout(project: QgsProject, want: dict) -> tuple[dict, list[str]]:
    """Find the project's one print layout, check its items and export it to PDF."""
    layouts = project.layoutManager().printLayouts()
    if len(layouts) != 1:
        return {}, [f"expected one print layout, found {len(layouts)}"]
    layout = layouts[0]
    problems: list[str] = []
    info: dict = {"name": layout.name(), "items": {}}
    for item_id, cls in LAYOUT_ITEMS.items():
        item = layout.itemById(item_id)
        if item is None or not isinstance(item, cls):
            problems.append(f"layout item {item_id!r} missing or not a {cls.__name__}")
            continue
        info["items"][item_id] = type(item).__name__
        if item.rect().width() <= 0 or item.rect().height() <= 0:
            problems.append(f"layout item {item_id!r} has no size")
    title = layout.itemById("title")
    if isinstance(title, QgsLayoutItemLabel):
        info["title"] = title.text()
        if title.text() != want["title"]:
            problems.append(f"layout title {title.text()!r}, expected {want['title']!r}")
    attribution = layout.itemById("attribution")
    if isinstance(attribution, QgsLayoutItemLabel):
        info["attribution"] = attribution.text()
        for text in want.get("attribution", []):
            if text not in attribution.text():
                problems.append(f"attribution lacks {text!r}")
    legend = layout.itemById("legend")
    if isinstance(legend, QgsLayoutItemLegend):
        entries = legend.model().rowCount()
        info["legend_rows"] = entries
        if entries < 3:
            problems.append(f"legend lists {entries} layers")
        if legend.linkedMap() is None:
            problems.append("legend not linked to the map")
    scalebar = layout.itemById("scalebar")
    if isinstance(scalebar, QgsLayoutItemScaleBar):
        info["scalebar_units"] = scalebar.unitLabel()
        if scalebar.linkedMap() is None:
            problems.append("scale bar not linked to the map")
    arrow = layout.itemById("north_arrow")
    if isinstance(arrow, QgsLayoutItemPicture):
        info["north_arrow"] = arrow.picturePath()
        if not arrow.picturePath().endswith(".svg") or arrow.isMissingImage():
            problems.append(f"north arrow picture missing: {arrow.picturePath()!r}")
    layout_map = layout.itemById("map")
    if isinstance(layout_map, QgsLayoutItemMap):
        info["map_scale"] = layout_map.scale()
        info["map_layers"] = len(layout_map.layersToRender())
        if info["map_layers"] == 0:
            problems.append("layout map renders no layer")
    result = QgsLayoutExporter(layout).exportToPdf(want["pdf"],
                                                   QgsLayoutExporter.PdfExportSettings())
    info["pdf_result"] = int(result)
    if result != QgsLayoutExporter.Success:
        problems.append(f"exportToPdf returned {result}")
    return info, problems


def check(spec: dict) -> dict:
    project = QgsProject.instance()
    problems: list[str] = []
    if not project.read(spec["project"]):
        return {"ok": False, "problems": [f"QgsProject.read failed: {project.error()}"]}
    proj_crs = project.crs()
    if not proj_crs.isValid():
        problems.append("project CRS invalid")
    crs_name = proj_crs.description()
    if not crs_name or "unknown" in crs_name.lower():
        problems.append(f"project CRS is named {crs_name!r}")
    for token in spec["proj"]:
        if token not in proj_crs.toProj():
            problems.append(f"project CRS {proj_crs.toProj()!r} lacks {token}")
    layers = {layer.name(): layer for layer in project.mapLayers().values()}
    missing = sorted(set(spec["layers"]) - set(layers))
    if missing:
        problems.append(f"layers missing from project: {missing}")
    report: dict[str, dict] = {}
    for name, want in spec["layers"].items():
        layer = layers.get(name)
        if layer is None:
            continue
        info = {"valid": layer.isValid(), "crs": layer.crs().toProj(),
                "crs_name": layer.crs().description()}
        if not layer.isValid():
            problems.append(f"{name}: layer not valid ({layer.source()})")
        for token in spec["proj"]:
            if token not in layer.crs().toProj():
                problems.append(f"{name}: CRS {layer.crs().toProj()!r} lacks {token}")
        if isinstance(layer, QgsVectorLayer):
            info["count"] = layer.featureCount()
            info["renderer"] = layer.renderer().type() if layer.renderer() else None
            info["labels"] = bool(layer.labelsEnabled())
            if want.get("count") is not None and info["count"] != want["count"]:
                problems.append(f"{name}: {info['count']} features, expected {want['count']}")
            if want.get("renderer") and info["renderer"] != want["renderer"]:
                problems.append(f"{name}: renderer {info['renderer']}, expected "
                                f"{want['renderer']}")
            if want.get("labels") and not info["labels"]:
                problems.append(f"{name}: labels not enabled")
            # The same style must come from the GeoPackage alone (layer_styles table).
            direct = QgsVectorLayer(layer.source(), name, "ogr")
            info["gpkg_renderer"] = direct.renderer().type() if direct.renderer() else None
            if want.get("renderer") and info["gpkg_renderer"] != want["renderer"]:
                problems.append(f"{name}: GeoPackage default style gives "
                                f"{info['gpkg_renderer']}, expected {want['renderer']}")
        elif isinstance(layer, QgsRasterLayer):
            info["raster_renderer"] = layer.renderer().type() if layer.renderer() else None
            if want.get("raster_renderer") and info["raster_renderer"] != want["raster_renderer"]:
                problems.append(f"{name}: raster renderer {info['raster_renderer']}, expected "
                                f"{want['raster_renderer']}")
            direct = QgsRasterLayer(layer.source(), name, "gdal")  # loads the .qml sidecar
            info["sidecar_renderer"] = direct.renderer().type() if direct.renderer() else None
            if want.get("raster_renderer") and info["sidecar_renderer"] != \
                    want["raster_renderer"]:
                problems.append(f"{name}: QML sidecar gives {info['sidecar_renderer']}")
        report[name] = info
    names = [layer.name() for layer in project.mapLayers().values()]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"layer names used twice: {duplicates}")

    settings = QgsMapSettings()
    visible = project.layerTreeRoot().checkedLayers()
    settings.setLayers(visible)
    settings.setDestinationCrs(proj_crs)
    extent = None
    for layer in visible:
        ext = layer.extent()
        if extent is None:
            extent = ext
        else:
            extent.combineExtentWith(ext)
    if extent is not None:
        extent.scale(1.05)
        settings.setExtent(extent)
    width = int(spec.get("width", 900))
    height = int(width * extent.height() / extent.width()) if extent and extent.width() else width
    settings.setOutputSize(QSize(width, height))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    saved = image.save(spec["png"], "PNG")
    if not saved:
        problems.append(f"could not save rendering to {spec['png']}")
    # a rendering that is all background means nothing was drawn
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7)
               for y in range(0, image.height(), 7)}
    if len(colours) < 5:
        problems.append(f"rendering has only {len(colours)} distinct colours: nothing drawn?")
    layout_info: dict = {}
    if spec.get("layout"):
        layout_info, layout_problems = check_layout(project, spec["layout"])
        problems.extend(layout_problems)
    return {"ok": not problems, "problems": problems, "layers": report, "layout": layout_info,
            "rendered": [layer.name() for layer in visible], "png": spec["png"],
            "size": [image.width(), image.height()]}


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as fh:
        spec = json.load(fh)
    app = QgsApplication([], False)
    app.initQgis()
    try:
        result = check(spec)
    finally:
        QgsProject.instance().clear()
        app.exitQgis()
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
