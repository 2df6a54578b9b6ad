"""The `osm` source end to end against an Overpass stand-in on 127.0.0.1 (no internet)."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import geopandas as gpd
import pytest
from shapely.geometry import box

from agglonet.errors import DownloadError, EmptyNetworkError
from agglonet.osm import OSM_ATTRIBUTION
from agglonet.transport.layers import graph_to_layers
from agglonet.transport.loaders import load_roads

UTM = "EPSG:32650"

# A triangle of two-way roads (trunk, primary, tertiary) plus a footway, as Overpass JSON.
NODES = {1: (34.70, 113.60), 2: (34.70, 113.64), 3: (34.73, 113.62), 4: (34.71, 113.61),
         5: (34.72, 113.66)}
ELEMENTS = [{"type": "node", "id": i, "lat": lat, "lon": lon} for i, (lat, lon) in NODES.items()]
ELEMENTS += [
    {"type": "way", "id": 10, "nodes": [1, 2], "tags": {"highway": "trunk", "maxspeed": "100"}},
    {"type": "way", "id": 11, "nodes": [2, 3], "tags": {"highway": "primary", "name": "Ring"}},
    {"type": "way", "id": 12, "nodes": [3, 1], "tags": {"highway": "tertiary"}},
    {"type": "way", "id": 13, "nodes": [1, 4], "tags": {"highway": "footway"}},
    {"type": "way", "id": 14, "nodes": [2, 5], "tags": {"highway": "secondary",
                                                       "oneway": "yes"}},
]
STATUS = ("Connected as: 1\nCurrent time: 2025-01-01T00:00:00Z\nAnnounced endpoint: none\n"
          "Rate limit: 2\n2 slots available now.\nCurrently running queries (pid, space, "
          "limit, start time):\n")


class _Overpass(BaseHTTPRequestHandler):
    queries: list[str] = []
    fail = False

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _send(self, code, body, ctype):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        if self.path.endswith("/status"):
            self._send(200, STATUS, "text/plain")
        else:
            self._send(404, "not found", "text/plain")

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        query = urllib.parse.parse_qs(body)["data"][0]
        type(self).queries.append(query)
        if type(self).fail:
            self._send(500, "boom", "text/plain")
            return
        elements = ELEMENTS if "highway" in query else []
        self._send(200, json.dumps({"version": 0.6, "elements": elements}), "application/json")


@pytest.fixture
def overpass():
    _Overpass.queries = []
    _Overpass.fail = False
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Overpass)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api", _Overpass
    server.shutdown()
    server.server_close()


def _area():
    wgs = gpd.GeoSeries([box(113.55, 34.65, 113.70, 34.78)], crs="EPSG:4326").to_crs(UTM)
    return wgs.iloc[0]


def test_osm_source_end_to_end(overpass, tmp_path):
    url, handler = overpass
    options = {"overpass_url": url, "timeout_s": 10, "use_cache": True,
               "cache_folder": tmp_path / "cache"}
    G, report = load_roads(source="osm", area=_area(), area_crs=UTM, crs=UTM,
                           osm_options=options)
    assert len(handler.queries) == 1
    q = handler.queries[0]
    # the query carries our highway filter and the polygon
    assert "motorway" in q and "tertiary_link" in q and "poly:" in q
    roads, nodes = graph_to_layers(G)
    # footway filtered; the one-way dead end 2->5 dropped by the strong component
    assert sorted(nodes["osmid"]) == [1, 2, 3]
    assert set(roads["highway"]) == {"trunk", "primary", "tertiary"}
    record = report["provenance"]  # enters sources.json
    assert (record["name"], record["url"], record["licence"]) == ("roads", url, "ODbL-1.0")
    assert report["components"]["nodes_dropped"] == 1
    trunk = roads[roads.highway == "trunk"].iloc[0]
    assert trunk["speed_kph"] == 100.0
    assert trunk["travel_time_s"] == pytest.approx(trunk["length_m"] / (100 / 3.6))
    assert (roads["source"] == "openstreetmap").all()
    assert report["licence"] == OSM_ATTRIBUTION
    # second run is served from the osmnx cache in tmp_path: no new request
    load_roads(source="osm", area=_area(), area_crs=UTM, crs=UTM, osm_options=options)
    assert len(handler.queries) == 1
    assert any((tmp_path / "cache").iterdir())


def test_osm_source_errors(overpass, tmp_path):
    from agglonet import download

    download.configure({"retries": 1, "backoff_s": 0.05, "deadline_s": 10})
    url, handler = overpass
    options = {"overpass_url": url, "timeout_s": 10, "use_cache": False,
               "cache_folder": tmp_path / "cache"}
    with pytest.raises(EmptyNetworkError, match="no road left|returned no road"):
        load_roads(source="osm", area=_area(), area_crs=UTM, crs=UTM, osm_options=options,
                   highway_classes=["motorway"])
    handler.fail = True
    try:
        with pytest.raises(DownloadError, match="127.0.0.1.*HTTP 500.*2 attempts"):
            load_roads(source="osm", area=_area(), area_crs=UTM, crs=UTM, osm_options=options)
    finally:
        download.configure()
