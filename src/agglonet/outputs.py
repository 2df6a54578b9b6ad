"""The output catalogue: every file, layer and raster agglonet writes, listed once.

Writers (:func:`agglonet.io.write_gpkg` types empty layers from it), the stages (column order of the
layers they build), the styles (raster ramps), the QGIS project (groups, visibility, drawing
order), the maps, the report, the archive, the rules' inputs (``rules/export.smk``) and the file
contract in ``docs/architecture.md`` (:func:`markdown_contract`) all read this module.

Adding an output layer means adding it here and writing it in the code that computes it; nothing
else (see ``docs/architecture.md``, "How to extend").

Paths are templates relative to the working directory, with ``{cluster}`` for the cluster key
and ``{lang}`` for the language of a reader-facing file (``export.language``: ``zh``, ``en``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

#: QGIS layer-tree groups, top (drawn last, on top) to bottom.
GROUPS: tuple[str, ...] = ("Conflicts", "Transport", "Boundaries", "Ecology")
#: Drawing order of vector layers within a group: points over lines over polygons.
GEOMETRY_ORDER: dict[str, int] = {"Point": 0, "LineString": 1, "Polygon": 2}


@dataclasses.dataclass(frozen=True)
class Layer:
    """One layer of a GeoPackage.

    Attributes
    ----------
    name
        Layer name inside the GeoPackage.
    geometry_type
        OGR geometry type written when the layer is empty (a typed, styleable layer in QGIS).
    columns
        Attribute columns in the order written (``fid`` and geometry excluded); empty when the
        columns depend on the configuration (e.g. one per accessibility threshold).
    group
        QGIS group when the file is part of the project (``None``: not in the project).
    visible
        Switched on when the project opens.
    description
        What one feature is.
    """

    name: str
    geometry_type: str
    columns: tuple[str, ...] = ()
    group: str | None = None
    visible: bool = False
    description: str = ""


@dataclasses.dataclass(frozen=True)
class VectorFile:
    """A GeoPackage and its layers, in the order they are written."""

    key: str
    path: str
    layers: tuple[Layer, ...]
    stage: str
    description: str = ""

    def layer(self, name: str) -> Layer:
        """Return the layer called ``name``.

        Raises
        ------
        KeyError
            If the file has no such layer.
        """
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"{self.key}.gpkg has no layer {name!r}; layers: "
                       f"{[la.name for la in self.layers]}")


@dataclasses.dataclass(frozen=True)
class Raster:
    """A single-band GeoTIFF.

    Attributes
    ----------
    key
        File stem; also the style key (palettes for ``landcover`` and ``mspa``).
    path
        Path template.
    stage
        Workflow stage that writes it.
    cmap, unit
        Matplotlib colormap and legend unit of a continuous raster (``None`` for class rasters
        drawn with a palette).
    group
        QGIS group when part of the project.
    visible
        Switched on when the project opens.
    description
        What a cell holds.
    stretch_band
        Band (1-based) flagging with 1 the cells a continuous colour ramp is stretched on (the
        cells inside the cluster); the QML style (:func:`agglonet.styles.raster_qml`) and the
        maps read it. ``None``: band 1 is the only band and the ramp spans all its cells.
    """

    key: str
    path: str
    stage: str
    cmap: str | None = None
    unit: str = ""
    group: str | None = None
    visible: bool = False
    description: str = ""
    stretch_band: int | None = None


@dataclasses.dataclass(frozen=True)
class Table:
    """A CSV or JSON table (columns documented in ``docs/metrics.md``), a page or a project.

    Pages (HTML, PDF) and QGIS projects for readers have one file per language (``{lang}``).
    """

    key: str
    path: str
    stage: str
    description: str = ""


@dataclasses.dataclass(frozen=True)
class Figure:
    """A PNG figure a stage writes (not a map: the maps are the export stage's)."""

    key: str
    path: str
    stage: str
    description: str = ""


# ----------------------------------------------------------------------------- layer columns
CITY_COLUMNS = ("adcode", "name_zh", "name_en", "province_zh", "partial", "area_km2",
                "boundary_source")
SOURCE_COLUMNS = ("source_id", "area_km2", "area_in_cluster_km2", "share_in_cluster", "n_cells",
                  "core_patch_id", "dpc", "dpc_intra", "dpc_flux", "dpc_connector", "diic",
                  "mean_resistance", "rank")
CORRIDOR_COLUMNS = ("corridor_id", "from_source", "to_source", "cost_weighted_length",
                    "length_km", "euclid_distance_m", "cwd_to_euclid", "gravity",
                    "corridor_class")
CORRIDOR_AREA_COLUMNS = (*CORRIDOR_COLUMNS, "area_km2")
PINCH_POINT_COLUMNS = ("pinch_id", "corridor_id", "n_cells", "area_km2", "peak_current",
                       "mean_current", "threshold_current")
BARRIER_COLUMNS = ("barrier_id", "corridor_id", "from_source", "to_source", "score", "lcd_gain",
                   "lcd_gain_pct", "corridor_importance", "weighted_score", "nlcc", "radius_m")
#: Attributes the metrics stage adds to corridors and corridor areas.
CORRIDOR_ROAD_COLUMNS = ("road_length_in_corridor_km", "n_road_crossings")
CROSSING_COLUMNS = ("corridor_id", "corridor_class", "road_class", "road_name", "site",
                    "length_in_corridor_m", "current_density", "corridor_importance",
                    "class_weight", "priority")
ROAD_COLUMNS = ("u", "v", "key", "osmid", "highway", "name", "maxspeed", "speed_kph",
                "speed_source", "travel_time_s", "length_m", "oneway", "source")
ROAD_NODE_COLUMNS = ("osmid", "x", "y", "street_count")
#: Labels of every road-based table and layer of the results: ``roads.source`` and the transport
#: quality of ``quality.json`` (measured / approximate / illustrative).
QUALITY_LABEL_COLUMNS = ("roads_source", "quality")
#: Border gaps (断头路) of ``transport.gpkg`` and ``border_gaps.csv``, before the quality labels.
BORDER_GAP_COLUMNS = ("rank", "end_node", "n_ends", "end_adcode", "end_city", "end_province",
                      "other_adcode", "other_city", "other_province", "border", "end_class",
                      "other_class", "gap_m", "link_speed_kph", "link_time_min",
                      "network_time_min", "n_pairs_gaining", "time_saved_max_min",
                      "time_saved_sum_min", "linkage_time_saved", "top_pair", "end_lon",
                      "end_lat", "target_lon", "target_lat", "note")
#: Layer ``corridors_changed`` of a scenario (``agglonet.scenarios.diff``).
CORRIDOR_CHANGE_COLUMNS = ("corridor_id", "baseline_corridor_id", "from_source", "to_source",
                           "status", "cost_baseline", "cost_scenario", "cost_change",
                           "cost_relative_change", "length_km_baseline", "length_km_scenario",
                           "quality")
#: Layer ``roads_edited`` of a road scenario (``agglonet.scenarios.roads.edited_links``), before
#: the quality labels.
EDITED_ROAD_COLUMNS = ("u", "v", "key", "osmid", "highway", "speed_kph_baseline", "speed_kph",
                       "length_m", "travel_time_s_baseline", "travel_time_s", "status")
#: Folder of one scenario's results (``{scenario}``: its name in config ``scenarios``).
SCENARIO_DIR = "results/{cluster}/scenarios/{scenario}"
OD_LINK_COLUMNS = ("a_adcode", "b_adcode", "a_name", "b_name", "travel_time_ab_min",
                   "travel_time_ba_min", "travel_time_min", "network_km", "detour_index",
                   "linkage_strength", "euclid_km", "in_linkage_network", "reachable",
                   *QUALITY_LABEL_COLUMNS)


def _network_layers(*, with_roads: bool, project: bool) -> tuple[Layer, ...]:
    """Return the ecological network's layers, before (resources) or after (results) metrics."""
    extra = CORRIDOR_ROAD_COLUMNS if with_roads else ()
    group = "Ecology" if project else None
    return (
        Layer("sources", "MultiPolygon", SOURCE_COLUMNS, group, True,
              "ecological source: a core patch kept by area and dPC rank"),
        Layer("corridors", "LineString", (*CORRIDOR_COLUMNS, *extra), group, True,
              "least-cost path between two adjacent sources"),
        Layer("corridor_areas", "MultiPolygon", (*CORRIDOR_AREA_COLUMNS, *extra), group, False,
              "corridor polygon: cells within the width threshold of the least-cost path"),
        Layer("pinch_points", "MultiPolygon", PINCH_POINT_COLUMNS, group, True,
              "pinch zone: connected cells of a corridor above its current-density quantile"),
        Layer("barriers", "Point", BARRIER_COLUMNS, group, True,
              "restoration site that most lowers an important corridor's cost"),
    )


VECTOR_FILES: tuple[VectorFile, ...] = (
    VectorFile("boundaries", "resources/{cluster}/boundaries.gpkg", (
        Layer("cities", "MultiPolygon", CITY_COLUMNS, description="member city polygon"),
        Layer("counties", "MultiPolygon", ("adcode", "name_zh", "city_adcode", "area_km2"),
              "Boundaries", False, "county-level unit of a member city"),
        Layer("cluster", "MultiPolygon", ("cluster", "name_en", "name_zh", "area_km2",
                                          "n_cities"), "Boundaries", True, "dissolved cluster"),
    ), "retrieve", "administrative boundaries of the member cities"),
    VectorFile("seats", "resources/{cluster}/seats.gpkg", (
        Layer("seats", "Point", description="seat of a member city (GeoNames)"),
        Layer("county_seats", "Point", description="seat of a county (GeoNames)"),
    ), "retrieve", "city and county seats"),
    VectorFile("roads", "resources/{cluster}/roads.gpkg", (
        Layer("roads", "LineString", ROAD_COLUMNS, description="road link of the travel-time "
              "graph"),
        Layer("road_nodes", "Point", ROAD_NODE_COLUMNS, description="junction or dead end"),
    ), "transport", "the travel-time road network"),
    VectorFile("ecology_sources", "resources/{cluster}/ecology_sources.gpkg", (
        Layer("sources", "MultiPolygon", SOURCE_COLUMNS),
    ), "ecology", "ecological sources"),
    VectorFile("ecology_corridors", "resources/{cluster}/ecology_corridors.gpkg",
               _network_layers(with_roads=False, project=False), "ecology",
               "sources, corridors and barriers (before circuit theory)"),
    VectorFile("ecology_network", "resources/{cluster}/ecology_network.gpkg",
               _network_layers(with_roads=False, project=False), "ecology",
               "the ecological network (with pinch points)"),
    VectorFile("cities", "results/{cluster}/cities.gpkg", (
        Layer("cities", "MultiPolygon", group="Boundaries", visible=True,
              description="member city with seat and population"),
        Layer("seats", "Point", group="Boundaries", description="seat of a member city"),
    ), "retrieve", "member cities with seats and populations"),
    VectorFile("transport", "results/{cluster}/transport.gpkg", (
        Layer("roads", "LineString", (*ROAD_COLUMNS, *QUALITY_LABEL_COLUMNS), "Transport", True,
              "road link"),
        Layer("seats", "Point", (), "Transport", True,
              "city seat with its accessibility indices (the columns of accessibility.csv and "
              "snap_node)"),
        Layer("od_links", "LineString", OD_LINK_COLUMNS, "Transport", True,
              "unordered pair of seats (means of both directions)"),
        Layer("border_gaps", "Point", (*BORDER_GAP_COLUMNS, *QUALITY_LABEL_COLUMNS), "Transport",
              True, "road end at a city or provincial border, unconnected to the road across "
              "it (断头路), ranked by the linkage-weighted travel time closing it saves"),
    ), "transport", "roads, seats with accessibility, OD links and border gaps"),
    VectorFile("ecology", "results/{cluster}/ecology.gpkg", (
        *_network_layers(with_roads=True, project=True),
        Layer("road_crossings", "Point", CROSSING_COLUMNS, "Conflicts", True,
              "road stretch that cuts a corridor, ranked by priority"),
    ), "metrics", "the ecological network with its road conflicts"),
    VectorFile("corridors_changed", SCENARIO_DIR + "/corridors_changed.gpkg", (
        Layer("corridors_changed", "LineString", CORRIDOR_CHANGE_COLUMNS,
              description="corridor of the scenario or the baseline: unchanged, changed, new "
                          "or removed"),
    ), "scenarios", "the corridors a scenario changed (docs/scenarios.md)"),
    VectorFile("roads_edited", SCENARIO_DIR + "/roads_edited.gpkg", (
        Layer("roads_edited", "LineString", (*EDITED_ROAD_COLUMNS, *QUALITY_LABEL_COLUMNS),
              description="road link a scenario added, closed or re-timed (a road split where "
                          "a new one joins it is not an edit)"),
    ), "scenarios", "the road links a road scenario edited (docs/scenarios.md)"),
)

RASTERS: tuple[Raster, ...] = (
    Raster("landcover_source", "resources/{cluster}/landcover_source.tif", "retrieve",
           description="source land-cover code"),
    Raster("dem", "resources/{cluster}/dem.tif", "retrieve", "terrain", "m",
           description="elevation (m)"),
    Raster("sea_mask", "resources/{cluster}/sea_mask.tif", "ecology",
           description="open sea (1) or land (0): missing data for MSPA, outside the landscape "
                       "area, impassable"),
    Raster("source_labels", "resources/{cluster}/source_labels.tif", "ecology",
           description="source id (0 = none)"),
    Raster("corridor_mask", "resources/{cluster}/corridor_mask.tif", "ecology",
           description="corridor id (0 = none)"),
    Raster("travel_time_min", "results/{cluster}/travel_time_min.tif", "transport", "viridis",
           "min", "Transport", description="travel time to the nearest seat (min); band 2: 1 "
           "inside the cluster, 0 in the buffer", stretch_band=2),
    Raster("travel_time_core_min", "results/{cluster}/travel_time_core_min.tif", "transport",
           "viridis", "min", "Transport", description="travel time to the core city (min); "
           "band 2: 1 inside the cluster, 0 in the buffer", stretch_band=2),
    Raster("current_density", "results/{cluster}/current_density.tif", "ecology", "inferno",
           "A", "Ecology", description="cumulative current density (A)"),
    Raster("cost_distance", "results/{cluster}/cost_distance.tif", "ecology", "magma_r",
           "cost units", "Ecology", description="cost-weighted distance to the nearest source"),
    Raster("resistance", "results/{cluster}/resistance.tif", "ecology", "YlOrBr", "cost units",
           "Ecology", description="resistance to movement"),
    Raster("mspa", "results/{cluster}/mspa.tif", "ecology", group="Ecology",
           description="MSPA class (GuidosToolbox codes)"),
    Raster("landcover", "results/{cluster}/landcover.tif", "ecology", group="Ecology",
           visible=True, description="common land-cover class"),
    Raster("travel_time_diff_min", SCENARIO_DIR + "/travel_time_diff_min.tif", "scenarios",
           "RdBu_r", "min", description="travel time to the nearest seat, scenario − baseline "
           "(min; negative: faster)"),
    Raster("current_density_diff", SCENARIO_DIR + "/current_density_diff.tif", "scenarios",
           "RdBu_r", "A", description="cumulative current density, scenario − baseline (A)"),
)

TABLES: tuple[Table, ...] = (
    Table("sources_json", "resources/{cluster}/sources.json", "retrieve",
          "provenance of every input"),
    Table("cities_csv", "results/{cluster}/cities.csv", "retrieve",
          "member cities with seats and populations"),
    Table("od", "results/{cluster}/od.csv", "transport", "one row per ordered pair of seats"),
    Table("accessibility", "results/{cluster}/accessibility.csv", "transport",
          "accessibility indices per city"),
    Table("transport_summary", "results/{cluster}/transport_summary.json", "transport",
          "cluster-level transport figures"),
    Table("border_gaps_csv", "results/{cluster}/border_gaps.csv", "transport",
          "border gaps (断头路), ranked: the attributes of layer border_gaps"),
    Table("ecology_summary", "results/{cluster}/ecology_summary.json", "ecology",
          "cluster-level ecological network figures"),
    Table("quality", "results/{cluster}/quality.json", "transport",
          "the run's quality fact (measured / approximate / illustrative)"),
    Table("metrics", "results/{cluster}/metrics.csv", "metrics", "one row of cluster metrics"),
    Table("structure_cities", "results/{cluster}/structure_cities.csv", "metrics",
          "industrial structure per member city: total, largest sector, specialisation index"),
    Table("structure_sectors", "results/{cluster}/structure_sectors.csv", "metrics",
          "sector shares and location quotients per city and sector"),
    Table("structure_pairs", "results/{cluster}/structure_pairs.csv", "metrics",
          "structural similarity S and Krugman dissimilarity K per city pair, with travel time"),
    Table("structure_summary", "results/{cluster}/structure_summary.json", "metrics",
          "cluster-level industrial structure figures, the cities missing and the note"),
    Table("cities_ecology", "results/{cluster}/cities_ecology.csv", "metrics",
          "the ecological network per member city"),
    Table("city_pairs_ecology", "results/{cluster}/city_pairs_ecology.csv", "metrics",
          "what each pair of neighbouring cities shares: corridors, sources, road crossings"),
    Table("corridors_csv", "results/{cluster}/corridors.csv", "metrics",
          "every attribute of the corridors, one row per corridor"),
    Table("sources_csv", "results/{cluster}/sources.csv", "metrics",
          "every attribute of the ecological sources, one row per source"),
    Table("cluster_comparison", "results/cluster_comparison.csv", "metrics",
          "the clusters side by side"),
    Table("cities_accessibility", "results/cities_accessibility.csv", "metrics",
          "every city of every cluster"),
    Table("road_edits", SCENARIO_DIR + "/road_edits.csv", "scenarios",
          "what each road edit of a scenario did: snapping per line, length, speed, time"),
    Table("landscape_edits", SCENARIO_DIR + "/landscape_edits.csv", "scenarios",
          "what each land-cover or barrier edit of a scenario did: cells and area changed"),
    Table("metrics_diff", SCENARIO_DIR + "/metrics_diff.csv", "scenarios",
          "every metric of metrics.csv: baseline, scenario, change, relative change"),
    Table("cities_diff", SCENARIO_DIR + "/cities_diff.csv", "scenarios",
          "per city: WATT, daily-access shares, potential accessibility, PC contribution"),
    Table("pairs_diff", SCENARIO_DIR + "/pairs_diff.csv", "scenarios",
          "per ordered city pair: travel time saved, linkage change"),
    Table("scenario_summary", SCENARIO_DIR + "/summary.json", "scenarios",
          "a scenario's row of the comparison table, before ranking"),
    Table("scenario_comparison", "results/{cluster}/scenarios/comparison.csv", "scenarios",
          "every scenario of the cluster ranked by effect and by effect per km or km²"),
    Table("webmap", "results/{cluster}/map.html", "export",
          "interactive map (zh/en) of the layers of `WEBMAP_KEYS`, self-contained: opens "
          "offline in a browser"),
    Table("qgis_project", "results/{cluster}/{cluster}.{lang}.qgs", "export",
          "QGIS project of every layer, styled and grouped, with a print layout; layer names, "
          "legends and labels in the language"),
    Table("report", "results/report.{lang}.html", "export",
          "the run's report for planners (`make report`), self-contained, one per language"),
    Table("report_pdf", "results/report.{lang}.pdf", "export",
          "the report printed to PDF (`make report`, `export.pdf`)"),
)

FIGURES: tuple[Figure, ...] = (
    Figure("structure_similarity", "results/{cluster}/structure_similarity.png", "metrics",
           "heat map of the structural similarity S between the member cities (empty with a "
           "note when no sector table is given)"),
    Figure("comparison_chart", "results/cluster_comparison.{lang}.png", "metrics",
           "small multiples of the key metrics, one bar per cluster, in the language"),
    Figure("accessibility_map", "results/{cluster}/maps/accessibility.{lang}.png", "export",
           "travel-time surface, roads, seats by weighted average travel time, linkage lines, "
           "border gaps"),
    Figure("ecology_map", "results/{cluster}/maps/ecology.{lang}.png", "export",
           "land cover, sources, corridors by gravity, pinch zones by peak current, road "
           "crossings by priority, roads and seats"),
    Figure("scenario_map", SCENARIO_DIR + "/map.{lang}.png", "export",
           "a scenario's travel-time and current-density differences (centred on zero) with the "
           "edited roads, changed corridors and restored or barrier areas"),
)

#: Files the web map (``results/{cluster}/map.html``) shows: GeoPackages, then rasters.
WEBMAP_KEYS: tuple[str, ...] = ("boundaries", "cities", "transport", "ecology",
                                "travel_time_min", "travel_time_core_min")


def vector_file(key: str) -> VectorFile:
    """Return the catalogue entry of a GeoPackage by key.

    Raises
    ------
    KeyError
        If no GeoPackage has that key.
    """
    for entry in VECTOR_FILES:
        if entry.key == key:
            return entry
    raise KeyError(f"no GeoPackage {key!r} in the output catalogue; known: "
                   f"{[f.key for f in VECTOR_FILES]}")


def raster(key: str) -> Raster | None:
    """Return the catalogue entry of a raster by file stem, or ``None`` if it is not listed."""
    return next((r for r in RASTERS if r.key == key), None)


def layer_names(file_key: str) -> list[str]:
    """Names of the layers of a GeoPackage in the order written."""
    return [layer.name for layer in vector_file(file_key).layers]


def layer_columns(file_key: str, layer: str) -> list[str]:
    """Attribute columns of a layer in the order written."""
    return list(vector_file(file_key).layer(layer).columns)


def _geometry_types() -> dict[str, str]:
    """Layer name → geometry type, checked to be the same wherever a name is used."""
    types: dict[str, str] = {}
    for entry in VECTOR_FILES:
        for layer in entry.layers:
            known = types.setdefault(layer.name, layer.geometry_type)
            if known != layer.geometry_type:
                raise ValueError(f"layer {layer.name!r} has two geometry types in the "
                                 f"catalogue: {known} and {layer.geometry_type}")
    return types


#: Geometry type of every layer name (used for empty layers).
LAYER_GEOMETRY_TYPES: dict[str, str] = _geometry_types()


def project_entries() -> list[tuple[str, str | None, str, bool]]:
    """Return the QGIS project's layers in drawing order (first is drawn on top).

    Returns
    -------
    list of (file key, layer name or None for a raster, group, visible)
        Grouped by :data:`GROUPS`; vectors before rasters within a group, points over lines over
        polygons, then catalogue order.
    """
    rows: list[tuple[int, int, int, tuple[str, str | None, str, bool]]] = []
    for i, entry in enumerate(VECTOR_FILES):
        for j, layer in enumerate(entry.layers):
            if layer.group is not None:
                base = layer.geometry_type.replace("Multi", "")
                rows.append((GROUPS.index(layer.group), GEOMETRY_ORDER[base], i * 100 + j,
                             (entry.key, layer.name, layer.group, layer.visible)))
    for k, ras in enumerate(RASTERS):
        if ras.group is not None:
            rows.append((GROUPS.index(ras.group), 9, k, (ras.key, None, ras.group, ras.visible)))
    return [row[-1] for row in sorted(rows, key=lambda r: r[:3])]


def project_inputs() -> dict[str, str]:
    """File key → path template of every file in the QGIS project (the rule's inputs)."""
    paths = {f.key: f.path for f in VECTOR_FILES} | {r.key: r.path for r in RASTERS}
    keys = dict.fromkeys(key for key, _, _, _ in project_entries())
    return {key: paths[key] for key in keys}


def webmap_inputs() -> dict[str, str]:
    """File key → path template of every file the web map shows (the rule's inputs)."""
    paths = {f.key: f.path for f in VECTOR_FILES} | {r.key: r.path for r in RASTERS}
    return {key: paths[key] for key in WEBMAP_KEYS}


def _templates() -> dict[str, str]:
    return ({f.key: f.path for f in VECTOR_FILES} | {r.key: r.path for r in RASTERS}
            | {t.key: t.path for t in TABLES} | {g.key: g.path for g in FIGURES})


def path_template(key: str) -> str:
    """Path template of any catalogue entry (vector file, raster, table or figure).

    Raises
    ------
    KeyError
        If no entry has that key.
    """
    templates = _templates()
    if key not in templates:
        raise KeyError(f"no output {key!r} in the catalogue; known: {sorted(templates)}")
    return templates[key]


def paths_for(keys: Iterable[str], cluster: str, *, language: str | None = None
              ) -> dict[str, str]:
    """Concrete paths of catalogue entries for one cluster (and language, where it has one)."""
    templates: Mapping[str, str] = _templates()
    fields = {"cluster": cluster, "lang": language}
    return {key: templates[key].format_map(fields) for key in keys}


def stage_targets(stage: str) -> list[str]:
    """Path templates of the ``results/`` files a stage writes (the workflow's targets)."""
    entries: list[VectorFile | Raster | Table | Figure] = [*VECTOR_FILES, *RASTERS, *TABLES,
                                                            *FIGURES]
    return [e.path for e in entries if e.stage == stage and e.path.startswith("results/{cluster}")]


def markdown_contract() -> str:
    """Return the file contract as Markdown tables (embedded in ``docs/architecture.md``)."""
    lines = ["| file | layer | geometry | columns | QGIS group |",
             "| --- | --- | --- | --- | --- |"]
    for entry in VECTOR_FILES:
        for layer in entry.layers:
            cols = ", ".join(f"`{c}`" for c in layer.columns) or "(see docs/metrics.md)"
            lines.append(f"| `{entry.path}` | `{layer.name}` | {layer.geometry_type} | {cols} | "
                         f"{layer.group or ''} |")
    lines += ["", "| raster | holds | style | QGIS group |", "| --- | --- | --- | --- |"]
    for ras in RASTERS:
        style = f"{ras.cmap} ({ras.unit})" if ras.cmap else "palette" if ras.group else ""
        lines.append(f"| `{ras.path}` | {ras.description} | {style} | {ras.group or ''} |")
    lines += ["", "| table | holds |", "| --- | --- |"]
    for table in TABLES:
        lines.append(f"| `{table.path}` | {table.description} |")
    lines += ["", "| figure | shows |", "| --- | --- |"]
    for figure in FIGURES:
        lines.append(f"| `{figure.path}` | {figure.description} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # `python -m agglonet.outputs`: the contract for docs/architecture.md
    print(markdown_contract(), end="")
