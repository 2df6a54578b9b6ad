"""The print layout of a QGIS project, written as the ``<Layouts>`` element QGIS saves.

One A4 landscape page with map, legend, scale bar, north arrow, title and the data attribution.

The XML follows what QGIS 3.22 itself writes for a layout built in PyQGIS (``QgsPrintLayout``
with ``QgsLayoutItemMap``, ``QgsLayoutItemLegend``, ``QgsLayoutItemScaleBar``,
``QgsLayoutItemPicture`` and ``QgsLayoutItemLabel``, saved with ``QgsProject.write``), trimmed
to the attributes that differ from QGIS's defaults. The map item has no fixed layer set, so it
shows the layers switched on in the project; the legend follows the project's layer tree and
lists only what the map draws. Item identifiers are derived from the layout name, so the same
inputs give the same file.
"""

from __future__ import annotations

import dataclasses
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence

#: QGIS layout item types (``QgsLayoutItemRegistry::ItemType``).
ITEM_TYPES: dict[str, int] = {"page": 65638, "map": 65639, "picture": 65640, "label": 65641,
                              "legend": 65642, "scalebar": 65646}
#: The north arrow: an SVG that ships with QGIS, referenced relative to QGIS's SVG folders.
NORTH_ARROW_SVG = "arrows/NorthArrow_02.svg"
#: Font family of the layout's text; Qt falls back to an installed CJK font for Chinese.
FONT_FAMILY = "Sans Serif"
#: Item ids a layout holds (what a reader, or a test, looks items up by).
ITEM_IDS: tuple[str, ...] = ("title", "map", "legend", "scalebar", "north_arrow", "attribution")


@dataclasses.dataclass(frozen=True)
class PageGeometry:
    """Sizes of the page and its frames, in millimetres.

    Attributes
    ----------
    width_mm, height_mm
        The page (A4 landscape by default).
    margin_mm
        Space around the page edge.
    title_height_mm
        Height of the title band.
    legend_width_mm
        Width of the legend (two columns) right of the map; it runs the full page height.
    attribution_line_mm
        Height per attribution line (7 pt text).
    """

    width_mm: float = 297.0
    height_mm: float = 210.0
    margin_mm: float = 8.0
    title_height_mm: float = 11.0
    legend_width_mm: float = 80.0
    attribution_line_mm: float = 3.3


def _item_uuid(layout_name: str, item_id: str) -> str:
    """Return a stable ``{uuid}`` for one item (uuid5 of the layout name and the item id)."""
    return "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"agglonet:{layout_name}:{item_id}")) + "}"


def _font(size_pt: float, *, bold: bool = False) -> str:
    """Qt font description (``QFont::toString``) of the layout's family."""
    return f"{FONT_FAMILY},{size_pt:g},-1,5,{75 if bold else 50},0,0,0,0,0"


def _mm(x: float, y: float) -> str:
    return f"{x:.6g},{y:.6g},mm"


def _layout_object(item: ET.Element) -> None:
    """Append the colour and ``<LayoutObject>`` children every item carries."""
    ET.SubElement(item, "FrameColor", {"red": "0", "green": "0", "blue": "0", "alpha": "255"})
    ET.SubElement(item, "BackgroundColor", {"red": "255", "green": "255", "blue": "255",
                                            "alpha": "255"})
    obj = ET.SubElement(item, "LayoutObject")
    ET.SubElement(obj, "dataDefinedProperties")
    ET.SubElement(obj, "customproperties")


def _item(layout: ET.Element, kind: str, item_id: str, *, position: tuple[float, float],
          size: tuple[float, float], z: int, frame: bool = False, background: bool = False,
          **attrs: str) -> ET.Element:
    """Append one ``<LayoutItem>`` of ``kind`` at ``position`` (mm, top left) of ``size`` (mm)."""
    uid = _item_uuid(layout.get("name", ""), item_id)
    item = ET.SubElement(layout, "LayoutItem", {
        "type": str(ITEM_TYPES[kind]), "id": item_id, "uuid": uid, "templateUuid": uid,
        "position": _mm(*position), "positionOnPage": _mm(*position), "size": _mm(*size),
        "zValue": str(z), "referencePoint": "0", "frame": "true" if frame else "false",
        "background": "true" if background else "false", "outlineWidthM": "0.3,mm",
        "frameJoinStyle": "miter", "visibility": "1", "positionLock": "false",
        "excludeFromExports": "0", "itemRotation": "0", "opacity": "1", "blendMode": "0",
        "groupUuid": "", **attrs})
    _layout_object(item)
    return item


def _label(layout: ET.Element, item_id: str, text: str, *, position: tuple[float, float],
           size: tuple[float, float], z: int, size_pt: float, bold: bool = False) -> ET.Element:
    item = _item(layout, "label", item_id, position=position, size=size, z=z,
                 labelText=text, htmlState="0", halign="1", valign="32", marginX="0",
                 marginY="0")
    ET.SubElement(item, "LabelFont", {"description": _font(size_pt, bold=bold), "style": ""})
    ET.SubElement(item, "FontColor", {"red": "30", "green": "30", "blue": "30", "alpha": "255"})
    return item


def fit_extent(bounds: Sequence[float], *, width_mm: float, height_mm: float,
               margin: float = 0.04) -> tuple[float, float, float, float]:
    """Grow ``bounds`` (xmin, ymin, xmax, ymax) by ``margin`` and to the map frame's aspect.

    Examples
    --------
    >>> fit_extent((0, 0, 100, 100), width_mm=200, height_mm=100, margin=0.0)
    (-50.0, 0.0, 150.0, 100.0)
    """
    xmin, ymin, xmax, ymax = (float(v) for v in bounds)
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    w = max(xmax - xmin, 1.0) * (1 + 2 * margin)
    h = max(ymax - ymin, 1.0) * (1 + 2 * margin)
    aspect = width_mm / height_mm
    w, h = max(w, h * aspect), max(h, w / aspect)
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def print_layout(
    *,
    name: str,
    title: str,
    attribution_lines: Sequence[str],
    bounds: Sequence[float],
    legend_title: str,
    page: PageGeometry | None = None,
) -> ET.Element:
    """Build the ``<Layouts>`` element holding one print layout.

    Parameters
    ----------
    name
        Layout name shown in QGIS's layout manager.
    title
        Text of the title label (in the project's language).
    attribution_lines
        Data sources and licences, one line each, printed under the map.
    bounds
        Extent (xmin, ymin, xmax, ymax, project CRS) the map must show; grown to the frame.
    legend_title
        Heading of the legend (``Legend`` / ``图例``).
    page
        Page and frame sizes; A4 landscape by default.

    Returns
    -------
    xml.etree.ElementTree.Element
        ``<Layouts>`` with one ``<Layout>``: items ``title``, ``map``, ``legend``,
        ``scalebar``, ``north_arrow``, ``attribution`` (:data:`ITEM_IDS`).
    """
    g = page or PageGeometry()
    layouts = ET.Element("Layouts")
    layout = ET.SubElement(layouts, "Layout", {"name": name, "units": "mm",
                                               "printResolution": "300", "worldFileMap": ""})
    pages = ET.SubElement(layout, "PageCollection")
    _item(pages, "page", "", position=(0, 0), size=(g.width_mm, g.height_mm), z=0,
          background=True)
    ET.SubElement(pages, "GuideCollection", {"visible": "1"})

    inner_w = g.width_mm - 2 * g.margin_mm
    attribution_h = g.attribution_line_mm * max(len(attribution_lines), 1) + 1.0
    map_x, map_y = g.margin_mm, g.margin_mm + g.title_height_mm
    map_w = inner_w - g.legend_width_mm - 4.0
    map_h = g.height_mm - map_y - attribution_h - g.margin_mm - 2.0
    legend_h = g.height_mm - map_y - g.margin_mm
    map_uuid = _item_uuid(name, "map")

    _label(layout, "title", title, position=(g.margin_mm, g.margin_mm - 2),
           size=(inner_w, g.title_height_mm), z=1, size_pt=16, bold=True)

    xmin, ymin, xmax, ymax = fit_extent(bounds, width_mm=map_w, height_mm=map_h)
    map_item = _item(layout, "map", "map", position=(map_x, map_y), size=(map_w, map_h), z=2,
                     frame=True, background=True, keepLayerSet="false", followPreset="false",
                     followPresetName="", drawCanvasItems="true", mapRotation="0",
                     mapFlags="0", labelMargin="0,mm", isTemporal="0")
    ET.SubElement(map_item, "Extent", {"xmin": repr(xmin), "ymin": repr(ymin),
                                       "xmax": repr(xmax), "ymax": repr(ymax)})
    ET.SubElement(map_item, "LayerSet")
    ET.SubElement(map_item, "AtlasMap", {"atlasDriven": "0", "scalingMode": "2",
                                         "margin": "0.1"})

    legend = _item(layout, "legend", "legend",
                   position=(map_x + map_w + 4.0, map_y), size=(g.legend_width_mm, legend_h),
                   z=3,
                   title=legend_title, map_uuid=map_uuid, resizeToContents="1",
                   legendFilterByMap="1", legendFilterByAtlas="0", columnCount="2",
                   splitLayer="1", equalColumnWidth="0", columnSpace="2", symbolWidth="5",
                   symbolHeight="3", boxSpace="1.5", lineSpacing="0.5", wrapChar="",
                   titleAlignment="1", symbolAlignment="1", rasterBorder="1",
                   rasterBorderWidth="0", rasterBorderColor="0,0,0,255", fontColor="#1e1e1e",
                   wmsLegendWidth="50", wmsLegendHeight="25", maxSymbolSize="0",
                   minSymbolSize="0")
    legend_styles = ET.SubElement(legend, "styles")
    for style, size_pt, bold, margin in (("title", 10, True, "2"), ("group", 8, True, "2"),
                                         ("subgroup", 7, False, "1.2"),
                                         ("symbol", 6.5, False, "0.8"),
                                         ("symbolLabel", 6.5, False, "0.8")):
        el = ET.SubElement(legend_styles, "style", {
            "name": style, "alignment": "1", "indent": "0",
            "marginBottom" if style == "title" else "marginTop": margin})
        ET.SubElement(el, "styleFont", {"description": _font(size_pt, bold=bold), "style": ""})

    arrow = 12.0
    _item(layout, "picture", "north_arrow", position=(map_x + map_w - arrow - 3, map_y + 3),
          size=(arrow, arrow), z=5, file=NORTH_ARROW_SVG, mode="0", resizeMode="0",
          anchorPoint="0", mapUuid=map_uuid, northMode="0", northOffset="0",
          pictureRotation="0", pictureWidth=f"{arrow * 0.63:g}", pictureHeight=f"{arrow:g}",
          svgFillColor="255,255,255,255", svgBorderColor="0,0,0,255", svgBorderWidth="0.2")

    scalebar = _item(layout, "scalebar", "scalebar", position=(map_x + 3, map_y + map_h - 13),
                     size=(70, 10), z=4, background=True, mapUuid=map_uuid,
                     style="Single Box", unitType="kilometers", unitLabel="km",
                     numMapUnitsPerScaleBarUnit="1000", segmentSizeMode="1",
                     minBarWidth="30", maxBarWidth="60", numSegments="3",
                     numSegmentsLeft="0", numSubdivisions="1", subdivisionsHeight="1.5",
                     numUnitsPerSegment="10000", segmentMillimeters="20", height="2",
                     boxContentSpace="1.5", labelBarSpace="1.5", alignment="0",
                     labelVerticalPlacement="0", labelHorizontalPlacement="0",
                     outlineWidth="0.3", lineJoinStyle="miter", lineCapStyle="square")
    ET.SubElement(scalebar, "text-style", {
        "fontFamily": FONT_FAMILY, "fontSize": "7", "fontSizeUnit": "Point", "fontWeight": "50",
        "textColor": "0,0,0,255", "textOpacity": "1", "namedStyle": "", "fontItalic": "0",
        "fontUnderline": "0", "fontStrikeout": "0", "multilineHeight": "1", "blendMode": "0",
        "allowHtml": "0", "capitalization": "0"})
    ET.SubElement(scalebar, "fillColor", {"red": "0", "green": "0", "blue": "0",
                                          "alpha": "255"})
    ET.SubElement(scalebar, "fillColor2", {"red": "255", "green": "255", "blue": "255",
                                           "alpha": "255"})
    ET.SubElement(scalebar, "strokeColor", {"red": "0", "green": "0", "blue": "0",
                                            "alpha": "255"})

    _label(layout, "attribution", "\n".join(attribution_lines),
           position=(g.margin_mm, g.height_mm - g.margin_mm - attribution_h),
           size=(map_w, attribution_h), z=6, size_pt=6.5)
    ET.SubElement(layout, "Atlas", {"enabled": "0", "coverageLayer": "", "hideCoverage": "0",
                                    "filenamePattern": "'output_'||@atlas_featurenumber",
                                    "pageNameExpression": "", "sortFeatures": "0",
                                    "filterFeatures": "0"})
    return layouts
