"""Seat choice and seat population from GeoNames places (agglonet.retrieve.seats.city_seats)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point, box

from agglonet.crs import CHINA_ALBERS, WGS84
from agglonet.retrieve.seats import city_seats


def places(rows: list[tuple[int, str, int, float, float]]) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(rows, columns=["geonameid", "name", "population", "lon", "lat"])
    frame["alternatenames"] = [[] for _ in range(len(frame))]
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame.lon, frame.lat), crs=WGS84)


def cities() -> gpd.GeoDataFrame:
    """Two 1°×1° cities in lon/lat, as a metric-CRS layer like build_boundaries gives."""
    frame = gpd.GeoDataFrame(
        {"adcode": ["429006", "410100"], "name_zh": ["天门市", "郑州市"],
         "name_en": ["Tianmen", "Zhengzhou"]},
        geometry=[box(113.0, 30.5, 114.0, 31.5), box(113.0, 34.5, 114.0, 35.5)], crs=WGS84)
    return frame.to_crs(CHINA_ALBERS)


def test_named_place_is_the_seat_with_its_population():
    seats = city_seats(cities(), places=places([
        (1, "Zhengzhou", 3_000_000, 113.6, 34.75),
        (2, "Xinzheng", 4_000_000, 113.7, 34.55),   # more populous, but not the city's name
    ])).set_index("adcode")
    assert seats.loc["410100", "geonameid"] == 1
    assert seats.loc["410100", "population"] == 3_000_000
    assert seats.loc["410100", "population_source"] == "geonames:1"


def test_seat_without_population_borrows_the_largest_place_and_says_so():
    seats = city_seats(cities(), places=places([
        (10, "Tianmen", 0, 113.1, 30.6),             # GeoNames has no figure for the seat
        (11, "Jingling", 224_871, 113.15, 30.65),
        (12, "Small town", 3_000, 113.5, 31.0),
    ])).set_index("adcode")
    row = seats.loc["429006"]
    assert row["geonameid"] == 10 and row["location_source"] == "geonames"
    assert row["population"] == 224_871
    assert row["population_source"].startswith("geonames:11 ")
    assert "seat 10 has no figure" in row["population_source"]
    # no place at all in the other city: a point inside the polygon, population unknown
    other = seats.loc["410100"]
    assert other["location_source"] == "representative_point"
    assert pd.isna(other["population"]) and other["population_source"] == "none"


def test_no_population_anywhere_stays_unknown():
    seats = city_seats(cities(), places=places([(10, "Tianmen", 0, 113.1, 30.6)]))
    row = seats.set_index("adcode").loc["429006"]
    assert pd.isna(row["population"]) and row["population_source"] == "none"
    assert Point(row["lon"], row["lat"]).distance(Point(113.1, 30.6)) < 1e-6
