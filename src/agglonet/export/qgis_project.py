"""QGIS projects (``results/{cluster}/{cluster}.{lang}.qgs``) written as plain XML, no QGIS needed.

The project lists every layer found in a cluster's outputs (layer names read with
:func:`pyogrio.list_layers`), with paths relative to the project file, in four groups
(Boundaries, Transport, Ecology, Conflicts), the working CRS as project CRS (WKT and PROJ), each
layer's default style (taken from the GeoPackage ``layer_styles`` table or the raster's QML
sidecar, so the project and the data show the same thing), the data attributions in the
project metadata, and a print layout (:mod:`agglonet.export.qgis_layout`) titled in the
project's language.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyogrio
import rasterio
from pyproj import CRS

from agglonet import outputs, styles
from agglonet.crs import working_crs
from agglonet.errors import DataError
from agglonet.export import labels, qgis_layout
from agglonet.io import atomic_path
from agglonet.provenance import STANDARD_ATTRIBUTIONS, attributions, source_records
from agglonet.quality import ILLUSTRATIVE, QualityFact

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ProjectLayer:
    """One layer of the project.

    Attributes
    ----------
    group
        Layer-tree group (Boundaries, Transport, Ecology, Conflicts).
    path
        The file (absolute).
    layer
        Layer name inside a GeoPackage; ``None`` for a raster.
    name
        Display name in QGIS.
    geometry_type
        OGR geometry type for vectors, ``None`` for rasters.
    """

    group: str
    path: Path
    layer: str | None
    name: str
    geometry_type: str | None = None

    @property
    def layer_id(self) -> str:
        """Stable QGIS layer id."""
        return f"{self.path.stem}_{self.layer or 'raster'}".replace("-", "_")

    @property
    def is_raster(self) -> bool:
        """Whether the layer is a raster (no GeoPackage layer name)."""
        return self.layer is None


def _base_geometry(gtype: str | None) -> str:
    return (gtype or "").replace("Multi", "").replace(" Z", "").replace("25D", "").strip()


#: Layer-tree groups per language: catalogue group → (Chinese, English).
GROUP_NAMES: dict[str, tuple[str, str]] = {
    "Boundaries": ("边界", "Boundaries"), "Transport": ("交通", "Transport"),
    "Ecology": ("生态", "Ecology"), "Conflicts": ("冲突", "Conflicts"),
}
#: Layers whose display name carries the road source (``roads (scgraph)``).
ROAD_LAYERS = frozenset({"roads", "road_crossings", "border_gaps"})
#: Polygon layers not labelled in the project: their seat (a point layer) carries the name.
UNLABELLED_LAYERS = frozenset({"cities"})


def display_name(layer: str, *, language: str = "en", roads_source: str | None = None) -> str:
    """Name of a layer or raster in the project's language, with the road source where useful.

    Examples
    --------
    >>> display_name("roads", language="zh", roads_source="scgraph")
    '道路（scgraph）'
    >>> display_name("roads", roads_source="osm")
    'Roads (osm)'
    """
    name = labels.layer_name(layer, (language,))[language]
    if roads_source and layer in ROAD_LAYERS:
        name += f"（{roads_source}）" if language == "zh" else f" ({roads_source})"
    return name


def project_layers(paths: Mapping[str, str | Path], *, language: str = "en",
                   roads_source: str | None = None) -> list[ProjectLayer]:
    """Return the layers of one cluster's project, grouped and in drawing order (first on top).

    Parameters
    ----------
    paths
        Catalogue file key → path (:func:`agglonet.outputs.project_inputs`; in the workflow,
        the ``qgis_project`` rule's inputs). Keys the catalogue does not place in the project
        are ignored.

    Returns
    -------
    list of ProjectLayer
        Spatial layers of the files that exist, in the catalogue's group and drawing order.
    """
    layer_types: dict[Path, dict[str, str | None]] = {}
    found: list[ProjectLayer] = []
    for key, layer, group, _visible in outputs.project_entries():
        if key not in paths or not Path(paths[key]).exists():
            continue
        path = Path(paths[key]).resolve()
        if layer is None:
            found.append(ProjectLayer(group, path, None, display_name(
                path.stem, language=language, roads_source=roads_source)))
            continue
        if path not in layer_types:
            layer_types[path] = {str(n): g for n, g in pyogrio.list_layers(path)}
        gtype = layer_types[path].get(layer)
        if gtype is None or _base_geometry(gtype) not in outputs.GEOMETRY_ORDER:
            logger.warning("skipping layer %s of %s: geometry type %s", layer, path.name, gtype)
            continue
        found.append(ProjectLayer(group, path, layer, display_name(
            layer, language=language, roads_source=roads_source), str(gtype)))
    names = [pl.name for pl in found]
    # same layer name in two files (seats in cities.gpkg and transport.gpkg): name by file too
    out = [dataclasses.replace(pl, name=f"{pl.name} ({pl.path.stem})")
           if names.count(pl.name) > 1 and pl.group == "Boundaries" else pl for pl in found]
    names = [pl.name for pl in out]
    return [dataclasses.replace(pl, name=f"{pl.name} ({pl.path.stem}.{pl.layer or 'tif'})")
            if names.count(pl.name) > 1 else pl for pl in out]


def _visible(pl: ProjectLayer) -> bool:
    """Whether the catalogue switches the layer on when the project opens."""
    for key, layer, group, visible in outputs.project_entries():
        if group == pl.group and (layer == pl.layer if layer else key == pl.path.stem):
            return visible
    return False


def _spatialrefsys_xml(wkt: str) -> str:
    """Return serialised ``<spatialrefsys>`` (cached: pyproj's authority lookup is slow)."""
    crs = CRS.from_wkt(wkt)
    srs = ET.Element("spatialrefsys", {"nativeFormat": "Wkt"})
    ET.SubElement(srs, "wkt").text = crs.to_wkt("WKT2_2019")
    with warnings.catch_warnings():  # the PROJ string is informative; the WKT is authoritative
        warnings.simplefilter("ignore", UserWarning)
        proj4 = crs.to_proj4()
    ET.SubElement(srs, "proj4").text = proj4
    ET.SubElement(srs, "srsid").text = "0"
    auth = crs.to_authority(min_confidence=90)
    ET.SubElement(srs, "srid").text = auth[1] if auth and auth[0] == "EPSG" else "0"
    ET.SubElement(srs, "authid").text = f"{auth[0]}:{auth[1]}" if auth else ""
    ET.SubElement(srs, "description").text = crs.name
    params = dict(part.lstrip("+").partition("=")[::2] for part in proj4.split())
    ET.SubElement(srs, "projectionacronym").text = params.get("proj", "")
    ET.SubElement(srs, "ellipsoidacronym").text = params.get("ellps", "")
    ET.SubElement(srs, "geographicflag").text = "true" if crs.is_geographic else "false"
    return ET.tostring(srs, encoding="unicode")


def _spatialrefsys(crs: CRS) -> ET.Element:
    """QGIS ``<spatialrefsys>`` element of a CRS (WKT2, PROJ string, authority if any)."""
    return ET.fromstring(_spatialrefsys_xml(crs.to_wkt()))


def _extent(tag: str, bounds: Sequence[float]) -> ET.Element:
    el = ET.Element(tag)
    for name, value in zip(("xmin", "ymin", "xmax", "ymax"), bounds, strict=True):
        ET.SubElement(el, name).text = repr(float(value))
    return el


def _layer_bounds(pl: ProjectLayer) -> tuple[float, float, float, float] | None:
    if pl.is_raster:
        with rasterio.open(pl.path) as src:
            return tuple(src.bounds)
    info = pyogrio.read_info(pl.path, layer=pl.layer, force_total_bounds=True)
    bounds = info.get("total_bounds")
    if bounds is None or not all(map(lambda v: v == v, bounds)):  # NaN for empty layers
        return None
    xmin, ymin, xmax, ymax = (float(v) for v in bounds)
    return xmin, ymin, xmax, ymax


def _style_children(pl: ProjectLayer, gpkg_styles: Mapping[Path, Mapping[str, str]]
                    ) -> list[ET.Element]:
    """Renderer/labelling (vectors) or pipe (rasters) elements of the layer's default style."""
    if pl.is_raster:
        sidecar = pl.path.with_suffix(".qml")
        if sidecar.exists():
            root = ET.fromstring(sidecar.read_text(encoding="utf-8").split("\n", 1)[1])
        else:
            root = styles.raster_style(pl.path.stem,
                                       styles.stretch_values(pl.path, pl.path.stem))
        return [el for el in root if el.tag in {"pipe", "blendMode"}]
    qml = gpkg_styles.get(pl.path, {}).get(pl.layer or "")
    if qml:
        root = ET.fromstring(qml.split("\n", 1)[1])
    else:
        frame = pyogrio.read_dataframe(pl.path, layer=pl.layer, read_geometry=False)
        root = styles.vector_style(pl.layer or "", frame, geometry_type=pl.geometry_type or "")
    return [el for el in root if el.tag in {"renderer-v2", "labeling"}]


def _label_in_language(labeling: ET.Element, language: str, pl: ProjectLayer) -> None:
    """Label names in the project's language (``name_en`` → ``name_zh``, where the layer has it)."""
    field = f"name_{language}"
    if field not in set(pyogrio.read_info(pl.path, layer=pl.layer)["fields"]):
        return
    for text_style in labeling.iter("text-style"):
        if text_style.get("fieldName") == "name_en":
            text_style.set("fieldName", field)


def _print_layout(layers: Sequence[ProjectLayer], all_bounds: Sequence[Sequence[float]], *,
                  title: str, attribution_lines: Sequence[str], language: str) -> ET.Element:
    """``<Layouts>`` of the project: the map frames the cluster boundary (all layers if none)."""
    framed = [b for pl in layers if pl.layer == "cluster" and (b := _layer_bounds(pl))]
    xs0, ys0, xs1, ys1 = zip(*(framed or all_bounds), strict=True)
    return qgis_layout.print_layout(
        name=title, title=title, attribution_lines=attribution_lines,
        bounds=(min(xs0), min(ys0), max(xs1), max(ys1)),
        legend_title=labels.ui_strings((language,))[language]["legend"])


def cluster_names(layers: Sequence[ProjectLayer], fallback: str) -> dict[str, str]:
    """Return the cluster's name per language (``name_zh``/``name_en`` of its ``cluster`` layer).

    ``fallback`` (the cluster key) stands in where the layer or the name is missing.
    """
    names = {lang: fallback for lang in labels.LANGUAGES}
    boundary = next((pl for pl in layers if pl.layer == "cluster"), None)
    if boundary is None:
        return names
    frame = pyogrio.read_dataframe(boundary.path, layer="cluster", read_geometry=False)
    for lang in labels.LANGUAGES:
        value = frame.iloc[0].get(f"name_{lang}") if len(frame) else None
        if isinstance(value, str) and value:
            names[lang] = value
    return names


def _relative(path: Path, project_dir: Path) -> str:
    rel = os.path.relpath(path, project_dir.resolve()).replace(os.sep, "/")
    return rel if rel.startswith("../") else f"./{rel}"


def build_project(
    layers: Sequence[ProjectLayer],
    *,
    project_path: str | Path,
    title: str,
    crs: str | CRS,
    attribution_lines: Sequence[str],
    abstract: str = "",
    language: str = "en",
    layout_title: str | None = None,
    layout_attribution: Sequence[str] | None = None,
) -> ET.Element:
    """Build the ``<qgis>`` project document.

    Parameters
    ----------
    layers
        From :func:`project_layers`.
    project_path
        Where the ``.qgs`` will be written (data sources are made relative to its folder).
    title
        Project title.
    crs
        Working CRS (project CRS and the CRS written for every layer).
    attribution_lines
        Data attributions, stored in the project metadata (abstract and history) and as the
        ``agglonet/attribution`` project property.
    abstract
        Text placed before the attributions in the metadata abstract.
    language
        ``zh`` or ``en``: group names, the legend heading and the metadata language.
    layout_title
        Title of the print layout; defaults to ``title``.
    layout_attribution
        Attribution printed under the layout's map; defaults to ``attribution_lines``.

    Returns
    -------
    xml.etree.ElementTree.Element
    """
    project_dir = Path(project_path).parent
    crs_obj = working_crs(crs)
    root = ET.Element("qgis", {"projectname": title, "version": styles.QGIS_VERSION})
    ET.SubElement(root, "homePath", {"path": ""})
    ET.SubElement(root, "title").text = title
    ET.SubElement(root, "projectCrs").append(_spatialrefsys(crs_obj))

    gpkg_styles = {p: styles.read_styles(p) for p in {pl.path for pl in layers if not
                                                       pl.is_raster}}
    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    groups: dict[str, ET.Element] = {}
    projectlayers = ET.Element("projectlayers")
    all_bounds = []
    for pl in layers:
        if pl.group not in groups:
            group_name = GROUP_NAMES.get(pl.group, (pl.group, pl.group))[
                labels.LANGUAGES.index(language)]
            groups[pl.group] = ET.SubElement(tree, "layer-tree-group", {
                "name": group_name, "checked": "Qt::Checked", "expanded": "1"})
        source = _relative(pl.path, project_dir)
        if not pl.is_raster:
            source += f"|layername={pl.layer}"
        visible = _visible(pl)
        ET.SubElement(groups[pl.group], "layer-tree-layer", {
            "id": pl.layer_id, "name": pl.name, "source": source,
            "providerKey": "gdal" if pl.is_raster else "ogr",
            "checked": "Qt::Checked" if visible else "Qt::Unchecked", "expanded": "0"})

        attrs = {"type": "raster" if pl.is_raster else "vector", "hasScaleBasedVisibilityFlag": "0",
                 "minScale": "1e+08", "maxScale": "0", "refreshOnNotifyEnabled": "0",
                 "autoRefreshEnabled": "0"}
        if not pl.is_raster:
            base = _base_geometry(pl.geometry_type)
            attrs["geometry"] = {"Point": "Point", "LineString": "Line",
                                 "Polygon": "Polygon"}.get(base, base)
            attrs["wkbType"] = (pl.geometry_type or "").replace(" ", "")
            attrs["labelsEnabled"] = "0"
        ml = ET.SubElement(projectlayers, "maplayer", attrs)
        bounds = _layer_bounds(pl)
        if bounds is not None:
            all_bounds.append(bounds)
            ml.append(_extent("extent", bounds))
        ET.SubElement(ml, "id").text = pl.layer_id
        ET.SubElement(ml, "datasource").text = source
        ET.SubElement(ml, "layername").text = pl.name
        ET.SubElement(ml, "srs").append(_spatialrefsys(crs_obj))
        if pl.is_raster:
            ET.SubElement(ml, "provider").text = "gdal"
        else:
            ET.SubElement(ml, "provider", {"encoding": "UTF-8"}).text = "ogr"
        for child in _style_children(pl, gpkg_styles):
            if child.tag == "labeling" and pl.layer in UNLABELLED_LAYERS:
                continue  # one label per city: the seat's
            if child.tag == "labeling":
                ml.set("labelsEnabled", "1")
                _label_in_language(child, language, pl)
            ml.append(child)

    ET.SubElement(tree, "custom-order", {"enabled": "0"})
    canvas = ET.SubElement(root, "mapcanvas", {"name": "theMapCanvas", "annotationsVisible": "1"})
    ET.SubElement(canvas, "units").text = "meters"
    if all_bounds:
        xs0, ys0, xs1, ys1 = zip(*all_bounds, strict=True)
        canvas.append(_extent("extent", (min(xs0), min(ys0), max(xs1), max(ys1))))
    ET.SubElement(canvas, "rotation").text = "0"
    ET.SubElement(canvas, "destinationsrs").append(_spatialrefsys(crs_obj))
    root.append(projectlayers)
    order = ET.SubElement(root, "layerorder")
    for pl in layers:
        ET.SubElement(order, "layer", {"id": pl.layer_id})

    if all_bounds:
        root.append(_print_layout(
            layers, all_bounds, title=layout_title or title, language=language,
            attribution_lines=attribution_lines if layout_attribution is None
            else layout_attribution))

    props = ET.SubElement(root, "properties")
    paths = ET.SubElement(props, "Paths")
    ET.SubElement(paths, "Absolute", {"type": "bool"}).text = "false"
    # QGIS reads <projectCrs> only when on-the-fly projection is flagged as enabled.
    srs_props = ET.SubElement(props, "SpatialRefSys")
    ET.SubElement(srs_props, "ProjectionsEnabled", {"type": "int"}).text = "1"
    ET.SubElement(srs_props, "ProjectCRSProj4String", {"type": "QString"}).text = \
        root.findtext("projectCrs/spatialrefsys/proj4")
    agg = ET.SubElement(props, "agglonet")
    ET.SubElement(agg, "attribution", {"type": "QString"}).text = "\n".join(attribution_lines)

    meta = ET.SubElement(root, "projectMetadata")
    ET.SubElement(meta, "identifier").text = f"agglonet:{Path(project_path).stem}"
    ET.SubElement(meta, "parentidentifier")
    ET.SubElement(meta, "language").text = labels.HTML_LANG[language]
    ET.SubElement(meta, "type").text = "dataset"
    ET.SubElement(meta, "title").text = title
    full_abstract = (abstract + "\n\n" if abstract else "") + "Data sources and attribution:\n"
    ET.SubElement(meta, "abstract").text = full_abstract + "\n".join(
        f"- {line}" for line in attribution_lines)
    keywords = ET.SubElement(meta, "keywords", {"vocabulary": "agglonet"})
    for word in ("urban agglomeration", "accessibility", "ecological network"):
        ET.SubElement(keywords, "keyword").text = word
    ET.SubElement(meta, "links")
    for line in attribution_lines:
        ET.SubElement(meta, "history").text = f"Attribution: {line}"
    ET.SubElement(meta, "author").text = "agglonet"
    return root


def write_project(
    path: str | Path,
    *,
    inputs: Mapping[str, str | Path],
    sources: str | Path,
    quality: QualityFact,
    crs: str | CRS,
    title: str | None = None,
    language: str = "en",
    extra_layers: Sequence[ProjectLayer] = (),
) -> Path:
    """Write ``{cluster}.qgs`` for one cluster's outputs.

    Parameters
    ----------
    path
        Target ``.qgs`` (normally ``results/{cluster}/{cluster}.qgs``).
    inputs
        Catalogue file key → path of the files in the project (see :func:`project_layers`).
    sources
        The cluster's ``sources.json`` (attributions).
    quality
        The run's quality fact (road source and caveats).
    crs
        Working CRS.
    title
        Project title; defaults to ``agglonet — <cluster>``.
    language
        ``zh`` or ``en``: layer and group names, attributions, title.
    extra_layers
        Layers placed on top of the catalogue's, in their own groups (the scenario groups of
        :func:`agglonet.export.qgis_scenarios.scenario_layers`).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DataError
        If the inputs hold no layer at all.
    """
    path = Path(path)
    layers = project_layers(inputs, language=language, roads_source=quality.roads_source)
    if not layers:
        raise DataError(f"no GeoPackage layer or raster found among {sorted(inputs)}; expected "
                        "transport.gpkg, ecology.gpkg, *.tif (run the workflow first)")
    layers = [*extra_layers, *layers]  # hook: scenario groups on top (qgis_scenarios)
    lines = attributions(source_records(json.loads(Path(sources).read_text(encoding="utf-8"))),
                         roads_source=quality.roads_source)
    # the layout prints the standard lines (one per source, as the maps do); metadata has all
    standard = set(STANDARD_ATTRIBUTIONS.values())
    short = labels.attribution_lines([ln for ln in lines if ln in standard] or lines, language)
    lines = labels.attribution_lines(lines, language)
    cluster = path.name.split(".")[0]
    abstract = f"agglonet outputs for the {cluster} city cluster."
    if quality.reasons:
        abstract += f" Results are {quality.quality}: " + "; ".join(quality.reasons) + "."
    name = cluster_names(layers, cluster)[language]
    layout_title = labels.text("qgis_layout_title", language, name=name)
    if quality.transport_quality == ILLUSTRATIVE:
        layout_title += labels.text("proxy_suffix", language)
    root = build_project(layers, project_path=path, title=title or f"agglonet — {cluster}",
                         crs=crs, attribution_lines=lines, abstract=abstract,
                         language=language, layout_title=layout_title,
                         layout_attribution=short)
    qgs = styles.to_qml(root)
    with atomic_path(path) as tmp:
        tmp.write_text(qgs, encoding="utf-8")
    logger.info("wrote QGIS project %s with %d layers", path, len(layers))
    return path
