"""Ecology tables per city, per pair of neighbouring cities, per corridor and per source.

The ecological network is computed on the cluster grid, blind to administrative borders; these
tables put it back on the map of the member cities, for the questions a city-cluster plan asks
(which city holds the habitat, which corridors cross a city border, what two neighbours share).
Every column is defined in ``docs/metrics.md`` ("Ecology tables"). Geometry rules:

* a source's area in a city is the area of the source polygon ∩ the city polygon;
* a corridor *runs through* a city when its least-cost path (layer ``corridors``) has a positive
  length inside the city polygon, and *crosses a city border* when it runs through two or more
  member cities;
* two cities are *neighbours* when their polygons share a border of positive length (the line
  parts of the intersection of their boundaries); a corridor *crosses their shared border* when
  its least-cost path meets that border;
* raster means (resistance, current density) are over the cells whose centre lies in the city
  (``rasterio.features.rasterize``), cells without a value left out.

The resistance surface carries the road penalties, so every figure here rests on the roads as
well as on the land cover: each row carries ``quality`` (the run's overall quality from
``quality.json``: the ecology quality, lowered to the road quality) and ``roads_source``.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from rasterio.features import rasterize

from agglonet.crs import working_crs
from agglonet.errors import CRSError, DataError
from agglonet.outputs import layer_columns
from agglonet.quality import QualityFact

logger = logging.getLogger(__name__)

#: Quality columns every ecology table ends with.
QUALITY_COLUMNS = ("quality", "roads_source")
#: Columns of ``cities_ecology.csv``.
CITY_ECOLOGY_COLUMNS = (
    "adcode", "name_zh", "name_en", "area_km2", "n_sources", "source_area_km2", "source_share",
    "n_corridors", "n_cross_border_corridors", "corridor_length_km", "n_pinch_zones",
    "pinch_zone_area_km2", "n_road_crossings", "n_barriers", "mean_resistance",
    "mean_current", *QUALITY_COLUMNS,
)
#: Columns of ``city_pairs_ecology.csv``.
CITY_PAIR_COLUMNS = (
    "adcode_a", "name_zh_a", "name_en_a", "adcode_b", "name_zh_b", "name_en_b",
    "same_province", "border_km", "n_corridors", "corridor_length_km", "n_shared_sources",
    "shared_source_area_km2", "n_road_crossings", *QUALITY_COLUMNS,
)
#: Metric-length floor: a corridor "runs through" a city with more than this length inside (m).
MIN_LENGTH_M = 1e-6


def _metric(frame: gpd.GeoDataFrame, *, what: str, crs: Any = None) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise CRSError(f"{what} has no CRS")
    out = frame.to_crs(crs) if crs is not None else frame
    try:
        working_crs(out.crs)
    except CRSError as err:
        raise CRSError(f"{what}: lengths and areas need a projected metric CRS: {err}") from err
    return out


def _city_polygons(cities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Member cities in their metric CRS, ``adcode`` as text, sorted by it (a stable order)."""
    polys = _metric(cities, what="cities").copy()
    polys["adcode"] = polys["adcode"].astype(str)
    return polys.sort_values("adcode", kind="mergesort").reset_index(drop=True)


def _need(frame: pd.DataFrame, columns: Sequence[str], *, what: str) -> None:
    if missing := [c for c in columns if c not in frame.columns]:
        raise DataError(f"{what} lacks column(s) {missing} (columns: {list(frame.columns)})")


def quality_columns(quality: QualityFact) -> dict[str, str]:
    """Return ``quality`` and ``roads_source`` of the ecology tables.

    The resistance surface carries road penalties, so ecology figures rest on the roads too:
    ``quality`` is the worse of the ecology and road qualities (``quality.json``'s ``quality``).
    """
    return {"quality": quality.quality, "roads_source": quality.roads_source}


def corridor_city_lengths(corridors: gpd.GeoDataFrame,
                          cities: gpd.GeoDataFrame) -> pd.DataFrame:
    """Length of each corridor's least-cost path inside each city it runs through.

    Parameters
    ----------
    corridors
        Least-cost path lines with ``corridor_id`` (metric CRS).
    cities
        Member city polygons with ``adcode``.

    Returns
    -------
    pandas.DataFrame
        ``corridor_id``, ``adcode``, ``length_km`` — one row per corridor and city with a positive
        length, sorted by ``corridor_id`` then ``adcode``.
    """
    _need(corridors, ["corridor_id"], what="corridors")
    _need(cities, ["adcode"], what="cities")
    if corridors.empty or cities.empty:
        return pd.DataFrame({"corridor_id": pd.Series(dtype="int64"),
                             "adcode": pd.Series(dtype=object),
                             "length_km": pd.Series(dtype=float)})
    lines = _metric(corridors, what="corridors")
    polys = _metric(cities, what="cities", crs=lines.crs)
    rows = []
    for cid, line in zip(lines["corridor_id"], lines.geometry, strict=True):
        lengths = shapely.length(shapely.intersection(line, polys.geometry.values))
        for adcode, length_m in zip(polys["adcode"].astype(str), lengths, strict=True):
            if length_m > MIN_LENGTH_M:
                rows.append({"corridor_id": int(cid), "adcode": adcode,
                             "length_km": float(length_m) / 1000.0})
    out = pd.DataFrame(rows, columns=["corridor_id", "adcode", "length_km"])
    return out.sort_values(["corridor_id", "adcode"], kind="mergesort").reset_index(drop=True)


def cross_border_corridors(corridors: gpd.GeoDataFrame,
                           cities: gpd.GeoDataFrame) -> pd.Series:
    """Whether each corridor runs through two or more member cities (indexed like ``corridors``)."""
    per_city = corridor_city_lengths(corridors, cities)
    n_cities = per_city.groupby("corridor_id").size()
    ids = corridors["corridor_id"].astype(int)
    return pd.Series((ids.map(n_cities).fillna(0) >= 2).to_numpy(), index=corridors.index,
                     name="crosses_city_border")


def cross_border_shares(corridors: gpd.GeoDataFrame,
                        cities: gpd.GeoDataFrame) -> dict[str, float]:
    """Share of corridors, and of corridor length, that cross a border between member cities.

    Returns
    -------
    dict
        ``eco_cross_border_corridor_share`` (corridors running through ≥ 2 member cities / all
        corridors) and ``eco_cross_border_corridor_length_share`` (their least-cost path length /
        the length of all least-cost paths); NaN without corridors.

    Examples
    --------
    >>> from shapely.geometry import LineString, box
    >>> cities = gpd.GeoDataFrame({"adcode": ["1", "2"]},
    ...                           geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)],
    ...                           crs="EPSG:3857")
    >>> corridors = gpd.GeoDataFrame({"corridor_id": [1, 2]},
    ...                              geometry=[LineString([(5, 5), (15, 5)]),
    ...                                        LineString([(1, 1), (1, 4)])], crs="EPSG:3857")
    >>> shares = cross_border_shares(corridors, cities)
    >>> shares["eco_cross_border_corridor_share"], round(
    ...     shares["eco_cross_border_corridor_length_share"], 4)
    (0.5, 0.7692)
    """
    if corridors.empty:
        return {"eco_cross_border_corridor_share": math.nan,
                "eco_cross_border_corridor_length_share": math.nan}
    lines = _metric(corridors, what="corridors")
    crossing = cross_border_corridors(lines, cities).to_numpy()
    length = lines.geometry.length.to_numpy()
    total = float(length.sum())
    return {"eco_cross_border_corridor_share": float(crossing.mean()),
            "eco_cross_border_corridor_length_share":
                float(length[crossing].sum()) / total if total > 0 else math.nan}


def _area_in(geoms: np.ndarray, polygon: shapely.Geometry) -> np.ndarray:
    return shapely.area(shapely.intersection(geoms, polygon)) / 1e6


def _cell_means(values: np.ndarray | None, zones: np.ndarray, n: int) -> np.ndarray:
    """Mean of finite ``values`` per zone 1..n (NaN where a zone has none)."""
    if values is None:
        return np.full(n, np.nan)
    ok = np.isfinite(values) & (zones > 0)
    sums = np.bincount(zones[ok], weights=values[ok], minlength=n + 1)[1:]
    counts = np.bincount(zones[ok], minlength=n + 1)[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def cities_ecology(
    *,
    cities: gpd.GeoDataFrame,
    sources: gpd.GeoDataFrame,
    corridors: gpd.GeoDataFrame,
    pinch_zones: gpd.GeoDataFrame,
    road_crossings: gpd.GeoDataFrame,
    barriers: gpd.GeoDataFrame | None = None,
    resistance: np.ndarray | None = None,
    current_density: np.ndarray | None = None,
    transform: Affine | None = None,
    quality: QualityFact,
) -> pd.DataFrame:
    """One row per member city: its habitat, corridors, pinch zones and road conflicts.

    Parameters
    ----------
    cities
        Member city polygons (``adcode``, ``name_zh``, ``name_en``), metric CRS.
    sources, corridors, pinch_zones, road_crossings, barriers
        Layers of ``results/{cluster}/ecology.gpkg`` (``pinch_points`` holds the pinch zones).
    resistance, current_density, transform
        ``resistance.tif`` and ``current_density.tif`` on the cluster grid with its transform;
        ``None`` gives empty means.
    quality
        The run's quality fact.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CITY_ECOLOGY_COLUMNS`, rows sorted by ``adcode``.
    """
    _need(cities, ["adcode"], what="cities")
    polys = _city_polygons(cities)
    crs = polys.crs
    src = _metric(sources, what="sources", crs=crs) if len(sources) else sources
    zones = _metric(pinch_zones, what="pinch zones", crs=crs) if len(pinch_zones) else pinch_zones
    per_city = corridor_city_lengths(_metric(corridors, what="corridors", crs=crs)
                                     if len(corridors) else corridors, polys)
    crossing_ids = set(per_city.groupby("corridor_id").size().loc[lambda s: s >= 2].index)
    n = len(polys)
    zone_raster = None
    grid = resistance if resistance is not None else current_density
    if transform is not None and grid is not None:
        zone_raster = rasterize(((g, i + 1) for i, g in enumerate(polys.geometry)),
                                out_shape=grid.shape, transform=transform, fill=0, dtype="int32")
    mean_r = (_cell_means(resistance, zone_raster, n) if zone_raster is not None
              else np.full(n, np.nan))
    mean_c = (_cell_means(current_density, zone_raster, n) if zone_raster is not None
              else np.full(n, np.nan))
    rows = []
    for i, city in polys.iterrows():
        geom = city.geometry
        src_km2 = _area_in(src.geometry.values, geom) if len(src) else np.zeros(0)
        zone_km2 = _area_in(zones.geometry.values, geom) if len(zones) else np.zeros(0)
        mine = per_city[per_city["adcode"] == city["adcode"]]
        area_km2 = float(geom.area) / 1e6
        rows.append({
            "adcode": city["adcode"],
            "name_zh": city.get("name_zh", ""),
            "name_en": city.get("name_en", ""),
            "area_km2": area_km2,
            "n_sources": int((src_km2 > 0).sum()),
            "source_area_km2": float(src_km2.sum()),
            "source_share": float(src_km2.sum()) / area_km2 if area_km2 > 0 else math.nan,
            "n_corridors": int(mine["corridor_id"].nunique()),
            "n_cross_border_corridors": int(mine["corridor_id"].isin(crossing_ids).sum()),
            "corridor_length_km": float(mine["length_km"].sum()),
            "n_pinch_zones": int((zone_km2 > 0).sum()),
            "pinch_zone_area_km2": float(zone_km2.sum()),
            "n_road_crossings": _points_in(road_crossings, geom, crs),
            "n_barriers": _points_in(barriers, geom, crs),
            "mean_resistance": float(mean_r[i]),
            "mean_current": float(mean_c[i]),
            **quality_columns(quality),
        })
    return pd.DataFrame(rows, columns=list(CITY_ECOLOGY_COLUMNS))


def _points_in(points: gpd.GeoDataFrame | None, polygon: shapely.Geometry, crs: Any) -> int:
    """Points of a layer inside ``polygon`` (its interior or boundary)."""
    if points is None or points.empty:
        return 0
    pts = _metric(points, what="points", crs=crs).geometry.values
    return int(shapely.intersects(pts, polygon).sum())


def neighbour_pairs(cities: gpd.GeoDataFrame) -> pd.DataFrame:
    """Pairs of member cities whose polygons share a border of positive length.

    Returns
    -------
    pandas.DataFrame
        ``adcode_a`` < ``adcode_b``, ``border`` (the shared border, line geometry) and
        ``border_km``; sorted by the two adcodes.
    """
    _need(cities, ["adcode"], what="cities")
    polys = _city_polygons(cities)
    rows = []
    for (_, a), (_, b) in itertools.combinations(polys.iterrows(), 2):
        if not a.geometry.intersects(b.geometry):
            continue
        shared = shapely.intersection(a.geometry.boundary, b.geometry.boundary)
        lines = [g for g in shapely.get_parts(shared)
                 if isinstance(g, (shapely.LineString, shapely.LinearRing)) and g.length > 0]
        if not lines:
            continue
        border = shapely.line_merge(shapely.MultiLineString(lines))
        rows.append({"adcode_a": a["adcode"], "adcode_b": b["adcode"], "border": border,
                     "border_km": float(border.length) / 1000.0})
    return pd.DataFrame(rows, columns=["adcode_a", "adcode_b", "border", "border_km"])


def city_pairs_ecology(
    *,
    cities: gpd.GeoDataFrame,
    sources: gpd.GeoDataFrame,
    corridors: gpd.GeoDataFrame,
    road_crossings: gpd.GeoDataFrame,
    quality: QualityFact,
) -> pd.DataFrame:
    """One row per pair of neighbouring member cities: what their ecological network shares.

    Parameters
    ----------
    cities
        Member city polygons (``adcode``, ``name_zh``, ``name_en``, optionally ``province_zh``).
    sources, corridors, road_crossings
        Layers of ``results/{cluster}/ecology.gpkg``.
    quality
        The run's quality fact.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CITY_PAIR_COLUMNS`: ``n_corridors`` and ``corridor_length_km`` of the
        corridors whose least-cost path meets the shared border (whole path length),
        ``n_shared_sources`` and ``shared_source_area_km2`` of the sources lying in both cities
        (their area inside the two), ``n_road_crossings`` on those corridors inside the two
        cities. Sorted by ``adcode_a``, ``adcode_b``.
    """
    polys = _metric(cities, what="cities").copy()
    polys["adcode"] = polys["adcode"].astype(str)
    by_code = polys.set_index("adcode")
    crs = polys.crs
    pairs = neighbour_pairs(polys)
    lines = _metric(corridors, what="corridors", crs=crs) if len(corridors) else corridors
    src = _metric(sources, what="sources", crs=crs) if len(sources) else sources
    xing = (_metric(road_crossings, what="road crossings", crs=crs) if len(road_crossings)
            else road_crossings)
    rows = []
    for pair in pairs.itertuples(index=False):
        a, b = by_code.loc[pair.adcode_a], by_code.loc[pair.adcode_b]
        both = shapely.union_all([a.geometry, b.geometry])
        if len(lines):
            meets = shapely.intersects(lines.geometry.values, pair.border)
            ids = set(lines["corridor_id"][meets].astype(int))
            length_km = float(lines.geometry.length[meets].sum()) / 1000.0
        else:
            ids, length_km = set(), 0.0
        if len(src):
            in_a = _area_in(src.geometry.values, a.geometry)
            in_b = _area_in(src.geometry.values, b.geometry)
            shared = (in_a > 0) & (in_b > 0)
            n_shared, shared_km2 = int(shared.sum()), float((in_a + in_b)[shared].sum())
        else:
            n_shared, shared_km2 = 0, 0.0
        if len(xing) and ids:
            on = xing["corridor_id"].astype(int).isin(ids).to_numpy()
            n_xing = int((on & shapely.intersects(xing.geometry.values, both)).sum())
        else:
            n_xing = 0
        province_a, province_b = a.get("province_zh"), b.get("province_zh")
        same_province = (bool(province_a == province_b)
                         if isinstance(province_a, str) and isinstance(province_b, str)
                         and province_a and province_b else None)
        rows.append({
            "adcode_a": pair.adcode_a, "name_zh_a": a.get("name_zh", ""),
            "name_en_a": a.get("name_en", ""),
            "adcode_b": pair.adcode_b, "name_zh_b": b.get("name_zh", ""),
            "name_en_b": b.get("name_en", ""),
            "same_province": same_province, "border_km": pair.border_km,
            "n_corridors": len(ids), "corridor_length_km": length_km,
            "n_shared_sources": n_shared, "shared_source_area_km2": shared_km2,
            "n_road_crossings": n_xing, **quality_columns(quality),
        })
    return pd.DataFrame(rows, columns=list(CITY_PAIR_COLUMNS))


def _cities_of(geoms: np.ndarray, polys: gpd.GeoDataFrame, *, lines: bool) -> list[str]:
    """Return, per geometry, the ``;``-joined adcodes of the cities it has length or area in."""
    out = []
    for geom in geoms:
        inter = shapely.intersection(geom, polys.geometry.values)
        size = shapely.length(inter) if lines else shapely.area(inter)
        out.append(";".join(polys["adcode"][size > MIN_LENGTH_M].astype(str)))
    return out


def corridors_table(*, corridors: gpd.GeoDataFrame, corridor_areas: gpd.GeoDataFrame,
                    cities: gpd.GeoDataFrame, quality: QualityFact) -> pd.DataFrame:
    """``corridors.csv``: every attribute of layer ``corridors``, no geometry, plus context.

    Adds ``corridor_area_km2`` (area of the corridor polygon, layer ``corridor_areas``; empty
    when the corridor has none), ``crosses_city_border``, ``city_adcodes`` (the member cities
    its least-cost path runs through, by adcode) and the quality columns. Sorted by
    ``corridor_id``.
    """
    columns = [*layer_columns("ecology", "corridors")]
    _need(corridors, ["corridor_id"], what="corridors")
    polys = _city_polygons(cities)
    lines = _metric(corridors, what="corridors", crs=polys.crs) if len(corridors) else corridors
    table = pd.DataFrame({c: lines[c] if c in lines.columns else np.nan for c in columns})
    if len(corridor_areas):
        area = (corridor_areas.assign(_km2=corridor_areas.geometry.area / 1e6)
                .groupby("corridor_id")["_km2"].sum())
    else:
        area = pd.Series(dtype=float)
    table["corridor_area_km2"] = table["corridor_id"].map(area).astype(float)
    table["crosses_city_border"] = (cross_border_corridors(lines, polys).to_numpy()
                                    if len(lines) else np.zeros(0, bool))
    table["city_adcodes"] = _cities_of(lines.geometry.values, polys, lines=True) if len(lines) \
        else []
    for key, value in quality_columns(quality).items():
        table[key] = value
    return table.sort_values("corridor_id", kind="mergesort").reset_index(drop=True)


def sources_table(*, sources: gpd.GeoDataFrame, cities: gpd.GeoDataFrame,
                  quality: QualityFact) -> pd.DataFrame:
    """``sources.csv``: every attribute of layer ``sources``, no geometry, plus context.

    Adds ``city_adcodes`` (the member cities the source has area in) and the quality columns.
    Sorted by ``source_id``.
    """
    columns = [*layer_columns("ecology", "sources")]
    _need(sources, ["source_id"], what="sources")
    polys = _city_polygons(cities)
    src = _metric(sources, what="sources", crs=polys.crs) if len(sources) else sources
    table = pd.DataFrame({c: src[c] if c in src.columns else np.nan for c in columns})
    table["city_adcodes"] = _cities_of(src.geometry.values, polys, lines=False) if len(src) \
        else []
    for key, value in quality_columns(quality).items():
        table[key] = value
    return table.sort_values("source_id", kind="mergesort").reset_index(drop=True)

