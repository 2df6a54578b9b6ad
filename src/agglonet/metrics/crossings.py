"""Transport–ecology conflicts: where analysed roads cut ecological corridors.

Definition used throughout agglonet (see ``docs/metrics.md``):

* Roads are the analysed classes only (``road_classes``, e.g. ``roads.highway_classes``); a link
  (``motorway_link``) counts as its parent class (``motorway``). Per road class, every road line is
  merged (``unary_union`` + ``line_merge``) so that consecutive edges of one road, and the two
  directed copies of a two-way street, form one line.
* A **passage** of road class *c* through corridor *k* is a connected part of the class-*c* road
  lines lying in the *interior* of corridor *k*'s polygon (``corridor_areas``). A road that only
  runs along or touches the polygon's edge is no passage; a road that goes in, out and in again
  makes two passages; a road that enters and then runs inside the corridor makes one passage, whose
  inside length counts towards the corridor's ``road_length_in_corridor_km``.
* Each passage gives **one crossing point**: where the passage cuts the corridor's least-cost path
  (``corridors`` line, the route animals are most likely to use) if it does — the first such point
  along the merged road line — else the passage's entry point (its first contact with the polygon
  boundary along the merged line; merging may reverse a line's digitised direction), else (a road
  that starts and ends inside) the passage's first vertex. The column ``site`` says which
  (``lcp``, ``entry``, ``inside``).
* ``priority`` = (G_k / max G) × w_c: the corridor's gravity (Kong et al. 2010) normalised by the
  largest gravity of the cluster's corridors, times the road class weight
  (``metrics.road_class_weights``). High priority = an important corridor cut by a big road: a
  candidate site for a wildlife crossing. Without a usable ``gravity`` column every corridor has
  importance 1; a corridor whose own gravity is missing gets 0.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from rasterio.transform import rowcol
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from agglonet.crs import require_crs, working_crs
from agglonet.errors import ConfigError, CRSError, DataError
from agglonet.osm import parent_class, tag_values
from agglonet.outputs import CROSSING_COLUMNS, vector_file

logger = logging.getLogger(__name__)



def analysed_roads(
    roads: gpd.GeoDataFrame,
    *,
    road_classes: Sequence[str],
    class_weights: Mapping[str, float],
) -> gpd.GeoDataFrame:
    """Keep the road lines of the analysed classes and label each with its parent class.

    Parameters
    ----------
    roads
        Road lines with a ``highway`` column (string, list, or osmnx's list-as-text) and optionally
        ``name``.
    road_classes
        ``highway`` values to analyse (links included explicitly, e.g. ``primary_link``).
    class_weights
        Weight per parent class; every parent class of ``road_classes`` needs one.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``road_class`` (parent class; for a multi-valued ``highway`` the analysed value
        with the largest weight), ``road_name`` (empty string when unnamed), ``class_weight``,
        ``geometry``.

    Raises
    ------
    DataError
        If ``roads`` has no ``highway`` column.
    ConfigError
        If an analysed class has no weight.
    """
    require_crs(roads, what="roads")
    if "highway" not in roads.columns:
        raise DataError(f"roads layer has no 'highway' column (columns: {list(roads.columns)})")
    missing = sorted({parent_class(c) for c in road_classes} - set(class_weights))
    if missing:
        raise ConfigError(
            f"metrics.road_class_weights has no weight for road class(es) {missing}; "
            f"expected one per parent class of {list(road_classes)}"
        )
    wanted = set(road_classes)
    names = roads["name"] if "name" in roads.columns else pd.Series("", index=roads.index)
    classes: list[str | None] = []
    for value in roads["highway"]:
        hits = [parent_class(v) for v in tag_values(value) if v in wanted]
        classes.append(max(hits, key=lambda c: (class_weights[c], c)) if hits else None)
    out = gpd.GeoDataFrame(
        {
            "road_class": classes,
            "road_name": [_name_text(n) for n in names],
            "geometry": roads.geometry.values,
        },
        geometry="geometry",
        crs=roads.crs,
    )
    out = out[out["road_class"].notna() & ~out.geometry.is_empty & out.geometry.notna()]
    out["class_weight"] = out["road_class"].map(class_weights).astype(float)
    return out.reset_index(drop=True)


def _name_text(value: object) -> str:
    names = tag_values(value)  # same list-or-text handling as highway
    return ";".join(n for n in names if n.lower() not in {"nan", "none"})


def _corridor_table(
    corridors: gpd.GeoDataFrame, corridor_areas: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """One row per corridor id: dissolved polygon, LCP line, class and normalised importance."""
    for name, layer in (("corridors", corridors), ("corridor_areas", corridor_areas)):
        require_crs(layer, what=name)
        if "corridor_id" not in layer.columns:
            raise DataError(
                f"{name} layer has no 'corridor_id' column (columns: {list(layer.columns)})"
            )
    areas = corridor_areas[["corridor_id", "geometry"]].dissolve(by="corridor_id", as_index=False)
    lines = corridors.to_crs(corridor_areas.crs)
    cols = ["corridor_id", "geometry"] + [c for c in ("corridor_class", "gravity") if c in lines]
    lines = lines[cols].rename(columns={"geometry": "lcp"}).set_geometry("lcp")
    lines = lines.drop_duplicates("corridor_id")
    table = areas.merge(pd.DataFrame(lines), on="corridor_id", how="left")
    table["lcp"] = [g if isinstance(g, shapely.Geometry) else None for g in table["lcp"]]
    if "corridor_class" not in table:
        table["corridor_class"] = ""
    table["corridor_class"] = table["corridor_class"].fillna("").astype(str)
    gravity = pd.to_numeric(table.get("gravity", pd.Series(np.nan, index=table.index)),
                            errors="coerce")
    g_max = gravity.max(skipna=True)
    if pd.notna(g_max) and g_max > 0:
        table["corridor_importance"] = (gravity / g_max).fillna(0.0)
    else:
        if len(table):
            logger.warning("corridors carry no usable 'gravity'; corridor importance set to 1")
        table["corridor_importance"] = 1.0
    return table.sort_values("corridor_id").reset_index(drop=True)


def _passages(lines: shapely.Geometry, polygon: shapely.Geometry) -> list[shapely.Geometry]:
    """Return the connected parts of ``lines`` inside ``polygon`` (see module docstring)."""
    inside = shapely.intersection(lines, polygon)
    parts = [
        g for g in shapely.get_parts(inside)
        if isinstance(g, shapely.LineString) and g.length > 0
        # interior of the part meets the interior of the polygon: excludes edge-only contact
        and g.relate_pattern(polygon, "T********")
    ]
    if len(parts) <= 1:
        return parts
    # Group parts that touch (a junction inside the corridor) into one passage.
    tree = shapely.STRtree(parts)
    left, right = tree.query(parts, predicate="intersects")
    graph = coo_array((np.ones(len(left)), (left, right)), shape=(len(parts), len(parts)))
    n, labels = connected_components(graph, directed=False)
    groups: list[shapely.Geometry] = []
    for k in range(n):
        members = [parts[i] for i in np.flatnonzero(labels == k)]
        groups.append(shapely.line_merge(shapely.union_all(members)) if len(members) > 1
                      else members[0])
    return groups


def _site(passage: shapely.Geometry, polygon: shapely.Geometry,
          lcp: shapely.Geometry | None) -> tuple[shapely.Point, str]:
    """Crossing point of one passage: on the least-cost path, else at entry, else first vertex."""
    lines = list(shapely.get_parts(shapely.line_merge(passage)))
    lines.sort(key=lambda ln: ln.coords[0])  # deterministic order for multi-part passages
    if lcp is not None and not lcp.is_empty:
        for line in lines:
            hits = [p for p in shapely.get_parts(shapely.intersection(line, lcp))
                    if not p.is_empty]
            if hits:
                # first along the road: smallest projected distance of each hit's first point
                pts = [shapely.Point(h.coords[0]) if not isinstance(h, shapely.Point) else h
                       for h in hits]
                return min(pts, key=line.project), "lcp"
    boundary = polygon.boundary
    for line in lines:
        touch = [p for p in shapely.get_parts(shapely.intersection(line, boundary))
                 if not p.is_empty]
        if touch:
            pts = [shapely.Point(h.coords[0]) if not isinstance(h, shapely.Point) else h
                   for h in touch]
            return min(pts, key=line.project), "entry"
    return shapely.Point(lines[0].coords[0]), "inside"


def sample_raster(
    points: gpd.GeoSeries, array: np.ndarray, transform: Affine
) -> np.ndarray:
    """Value of ``array`` in the cell holding each point; NaN outside the grid or at NaN cells."""
    out = np.full(len(points), np.nan)
    if len(points) == 0:
        return out
    rows, cols = rowcol(transform, points.x.to_numpy(), points.y.to_numpy(), op=np.floor)
    rows = np.asarray(rows, dtype=int)
    cols = np.asarray(cols, dtype=int)
    ok = (rows >= 0) & (rows < array.shape[0]) & (cols >= 0) & (cols < array.shape[1])
    out[ok] = array[rows[ok], cols[ok]].astype(float)
    return out


def _empty_crossings(crs: object) -> gpd.GeoDataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=float) for c in ["fid", *CROSSING_COLUMNS]})
    for c in ("corridor_class", "road_class", "road_name", "site"):
        frame[c] = frame[c].astype(object)
    frame["fid"] = frame["fid"].astype("int64")
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def road_crossings(
    roads: gpd.GeoDataFrame,
    corridors: gpd.GeoDataFrame,
    corridor_areas: gpd.GeoDataFrame,
    *,
    current_density: np.ndarray | None = None,
    transform: Affine | None = None,
    road_classes: Sequence[str],
    class_weights: Mapping[str, float],
) -> gpd.GeoDataFrame:
    """Points where analysed roads cross ecological corridors (candidate wildlife crossings).

    Parameters
    ----------
    roads
        Road lines with ``highway`` (and optionally ``name``), any CRS (reprojected to the
        corridors' CRS).
    corridors
        Least-cost path lines: ``corridor_id``, optionally ``corridor_class`` and ``gravity``.
    corridor_areas
        Corridor polygons with ``corridor_id`` (several rows per id are dissolved), in a metric CRS.
    current_density
        Cumulative current density raster (circuit theory) sampled at each point; with
        ``transform``. ``None`` gives NaN.
    transform
        Affine transform of ``current_density``.
    road_classes
        ``highway`` values analysed (links listed explicitly).
    class_weights
        Weight per parent road class (``metrics.road_class_weights``).

    Returns
    -------
    geopandas.GeoDataFrame
        Points with the columns of :data:`CROSSING_COLUMNS`, sorted by ``corridor_id``, descending
        class weight, ``road_class``, x, y; ``fid`` = 1..n in that order. The definition of a
        crossing is in the module docstring.

    Raises
    ------
    CRSError
        If the corridor layers are not in a projected metric CRS.
    DataError, ConfigError
        Missing columns or class weights.
    """
    table = _corridor_table(corridors, corridor_areas)
    crs = corridor_areas.crs
    try:
        working_crs(crs)
    except CRSError as err:
        raise CRSError(f"corridor_areas must be in a metric CRS: {err}") from err
    if current_density is not None and transform is None:
        raise DataError("current_density was given without its transform")
    roads_an = analysed_roads(require_crs(roads, what="roads").to_crs(crs),
                              road_classes=road_classes, class_weights=class_weights)
    if table.empty or roads_an.empty:
        logger.info("no corridors (%d) or no analysed roads (%d): no crossings",
                    len(table), len(roads_an))
        return _empty_crossings(crs)
    records = []
    for road_class, group in roads_an.groupby("road_class", sort=True):
        tree = shapely.STRtree(group.geometry.values)
        for row in table.itertuples(index=False):
            idx = np.sort(tree.query(row.geometry, predicate="intersects"))
            if idx.size == 0:
                continue
            near = group.iloc[idx]
            geoms = near.geometry.values
            names = near["road_name"].to_numpy()
            inside_m = shapely.length(shapely.intersection(geoms, row.geometry))
            merged = shapely.line_merge(shapely.union_all(geoms))
            for passage in _passages(merged, row.geometry):
                point, site = _site(passage, row.geometry, row.lcp)
                records.append({
                    "corridor_id": row.corridor_id,
                    "corridor_class": row.corridor_class,
                    "road_class": road_class,
                    "road_name": _passage_name(names, geoms, inside_m, passage),
                    "site": site,
                    "length_in_corridor_m": float(passage.length),
                    "corridor_importance": float(row.corridor_importance),
                    "class_weight": float(near["class_weight"].iloc[0]),
                    "geometry": point,
                })
    if not records:
        return _empty_crossings(crs)
    out = gpd.GeoDataFrame(records, geometry="geometry", crs=crs)
    out["priority"] = out["corridor_importance"] * out["class_weight"]
    if current_density is not None and transform is not None:
        out["current_density"] = sample_raster(out.geometry, current_density, transform)
    else:
        out["current_density"] = np.nan
    out["_x"] = out.geometry.x
    out["_y"] = out.geometry.y
    out = out.sort_values(["corridor_id", "class_weight", "road_class", "_x", "_y"],
                          ascending=[True, False, True, True, True], kind="mergesort")
    out = out.drop(columns=["_x", "_y"]).reset_index(drop=True)
    out["fid"] = np.arange(1, len(out) + 1, dtype="int64")
    logger.info("%d road crossings over %d corridors", len(out), out["corridor_id"].nunique())
    return out[["fid", *CROSSING_COLUMNS, "geometry"]]


def _passage_name(names: np.ndarray, geoms: np.ndarray, inside_m: np.ndarray,
                  passage: shapely.Geometry) -> str:
    """Name of the road with the most length inside the corridor among those forming the passage.

    Roads forming the passage are the ones that intersect it; their weight is their length inside
    the corridor polygon (``inside_m``). Ties go alphabetically; unnamed roads are skipped.
    """
    hit = shapely.intersects(geoms, passage) & (inside_m > 0)
    shares: dict[str, float] = {}
    for name, length in zip(names[hit], inside_m[hit], strict=True):
        if name:
            shares[name] = shares.get(name, 0.0) + float(length)
    if not shares:
        return ""
    return min(shares, key=lambda n: (-round(shares[n], 6), n))


def add_corridor_road_attributes(
    layer: gpd.GeoDataFrame,
    *,
    crossings: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Add ``road_length_in_corridor_km`` and ``n_road_crossings`` to a corridor layer.

    ``road_length_in_corridor_km`` is the length of analysed roads inside the corridor polygon's
    interior: the sum of the passages' ``length_in_corridor_m`` (so roads merely running along
    the polygon edge count zero, as they give no crossing), in km.

    Parameters
    ----------
    layer
        ``corridors`` or ``corridor_areas`` (column ``corridor_id``); row order is kept.
    crossings
        From :func:`road_crossings`.

    Returns
    -------
    geopandas.GeoDataFrame
        ``layer`` with the two columns added (0 for corridors no road crosses).
    """
    out = layer.copy()
    if len(crossings):
        by_corridor = crossings.groupby("corridor_id")
        length_km = by_corridor["length_in_corridor_m"].sum() / 1000.0
        counts = by_corridor.size()
    else:
        length_km = pd.Series(dtype=float)
        counts = pd.Series(dtype="int64")
    out["road_length_in_corridor_km"] = out["corridor_id"].map(length_km).fillna(0.0).astype(float)
    out["n_road_crossings"] = out["corridor_id"].map(counts).fillna(0).astype("int64")
    return out




def ecology_layers_with_crossings(
    network: Mapping[str, gpd.GeoDataFrame],
    roads: gpd.GeoDataFrame,
    *,
    current_density: np.ndarray | None,
    transform: Affine | None,
    road_classes: Sequence[str],
    class_weights: Mapping[str, float],
) -> dict[str, gpd.GeoDataFrame]:
    """Return the layers of ``ecology.gpkg``: the network plus crossings and road attributes.

    Parameters
    ----------
    network
        Layers of ``resources/{cluster}/ecology_network.gpkg``; ``corridors`` and
        ``corridor_areas`` are required, the others are passed through when present.
    roads, current_density, transform, road_classes, class_weights
        As for :func:`road_crossings`.

    Returns
    -------
    dict
        Layer name → GeoDataFrame in the catalogue's order of ``ecology.gpkg`` (missing
        optional layers left out); ``corridors`` and ``corridor_areas`` gain
        ``road_length_in_corridor_km`` and
        ``n_road_crossings``.

    Raises
    ------
    DataError
        If ``corridors`` or ``corridor_areas`` is missing.
    """
    if missing := [n for n in ("corridors", "corridor_areas") if n not in network]:
        raise DataError(f"ecology network lacks layer(s) {missing}; has {sorted(network)}")
    crossings = road_crossings(roads, network["corridors"], network["corridor_areas"],
                               current_density=current_density, transform=transform,
                               road_classes=road_classes, class_weights=class_weights)
    layers = dict(network)
    for name in ("corridors", "corridor_areas"):
        layers[name] = add_corridor_road_attributes(network[name], crossings=crossings)
    layers["road_crossings"] = crossings
    order = [layer.name for layer in vector_file("ecology").layers]
    return {name: layers[name] for name in order if name in layers}
