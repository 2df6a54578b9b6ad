"""Download faults against a server on 127.0.0.1: each ends within its deadline, saying why.

429 with Retry-After, 5xx, a hang past the deadline, a truncated body, a refused connection,
an HTML page instead of JSON; a cached reply is reused after a fault. Every server here is started
by the test on the loopback interface and answers a bounded number of requests.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agglonet import download
from agglonet.download import fetch_json, fetch_url, retry_after_s, with_retries
from agglonet.errors import DownloadError

REPLY = {"version": 0.6, "elements": [{"type": "node", "id": 1, "lat": 34.7, "lon": 113.6}]}


class Script(BaseHTTPRequestHandler):
    """Answers each request with the next step of ``steps`` (the last one repeats)."""

    steps: list[str] = []
    times: list[float] = []

    def log_message(self, *args):
        pass

    def _body(self, code: int, body: bytes, headers: dict | None = None,
              length: int | None = None) -> None:
        self.send_response(code)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def _answer(self) -> None:
        cls = type(self)
        cls.times.append(time.monotonic())
        if self.command == "POST":
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
        step = cls.steps[min(len(cls.times), len(cls.steps)) - 1]
        ok = json.dumps(REPLY).encode()
        if step == "ok":
            self._body(200, ok)
        elif step == "429":
            self._body(429, b"rate limited", {"Retry-After": "1"})
        elif step == "429-long":
            self._body(429, b"rate limited", {"Retry-After": "3600"})
        elif step == "503":
            self._body(503, b"busy")
        elif step == "404":
            self._body(404, b"no such file")
        elif step == "truncated":
            self._body(200, ok[: len(ok) // 2], length=len(ok))
        elif step == "html":
            self._body(200, b"<html>runtime error: out of memory</html>")
        elif step == "slow-3mb":  # 3 MB in three pieces, 0.3 s apart
            self.send_response(200)
            self.send_header("Content-Length", str(3 << 20))
            self.end_headers()
            for _ in range(3):
                self.wfile.write(b"x" * (1 << 20))
                self.wfile.flush()
                time.sleep(0.3)
        elif step == "hang":
            time.sleep(3)
            self._body(200, ok)

    do_GET = _answer  # noqa: N815
    do_POST = _answer  # noqa: N815


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Script)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()

    def start(*steps: str) -> str:
        Script.steps, Script.times = list(steps), []
        return f"http://127.0.0.1:{httpd.server_address[1]}/api/interpreter"

    yield start
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def fast_policy():
    download.configure({"retries": 3, "backoff_s": 0.05, "max_wait_s": 10, "deadline_s": 8})
    yield
    download.configure()


def timed(func, *args, **kwargs):
    start = time.monotonic()
    try:
        result = func(*args, **kwargs)
    except DownloadError as exc:
        return exc, time.monotonic() - start
    return result, time.monotonic() - start


def test_429_waits_as_long_as_retry_after_asks(server):
    url = server("429", "ok")
    reply, seconds = timed(fetch_json, url, data={"data": "q"})
    assert reply == REPLY
    gap = Script.times[1] - Script.times[0]
    assert gap >= 0.95, "Retry-After: 1 asks for a second; backoff alone would wait 0.05 s"
    assert seconds < 3


def test_429_forever_ends_with_the_server_s_words(server):
    url = server("429")
    exc, seconds = timed(fetch_json, url, data={"data": "q"}, what="Overpass query")
    assert isinstance(exc, DownloadError)
    message = str(exc)
    assert url in message and "HTTP 429 Too Many Requests, Retry-After 1 s" in message
    assert "4 attempts" in message and "download.retries = 3" in message
    assert len(Script.times) == 4 and seconds < 8


def test_retry_after_beyond_max_wait_stops_at_once(server):
    url = server("429-long")
    exc, seconds = timed(fetch_json, url, data={"data": "q"})
    assert "asks to wait 3600 s, more than download.max_wait_s = 10" in str(exc)
    assert len(Script.times) == 1 and seconds < 2


def test_5xx_is_retried_then_named(server):
    url = server("503", "503", "ok")
    reply, _ = timed(fetch_json, url, data={"data": "q"})
    assert reply == REPLY and len(Script.times) == 3
    url = server("503")
    exc, seconds = timed(fetch_json, url)
    assert "HTTP 503 Service Unavailable" in str(exc) and seconds < 8


def test_4xx_is_not_retried(server):
    url = server("404")
    exc, _ = timed(fetch_url, url, cache_dir="unused-cache")
    assert "the server answered HTTP 404 Not Found: no such file" in str(exc)
    assert len(Script.times) == 1


def test_hang_past_the_deadline(server):
    download.configure({"retries": 5, "backoff_s": 0.05, "max_wait_s": 10, "deadline_s": 1.5})
    url = server("hang")
    exc, seconds = timed(fetch_json, url, data={"data": "q"}, timeout_s=60)
    assert isinstance(exc, DownloadError)
    assert "no answer within" in str(exc) or "connection broke" in str(exc)
    assert "download.deadline_s = 1.5" in str(exc)
    assert seconds < 2.5, f"the deadline is 1.5 s; took {seconds:.1f} s"


def test_truncated_body_is_retried_and_named(server):
    url = server("truncated", "ok")
    reply, _ = timed(fetch_json, url, data={"data": "q"})
    assert reply == REPLY and len(Script.times) == 2
    url = server("truncated")
    exc, _ = timed(fetch_json, url, data={"data": "q"})
    assert "ended early" in str(exc) or "not complete JSON" in str(exc)
    assert "area" not in str(exc) and "filter" not in str(exc)


def test_truncated_download_leaves_no_partial_file(server, tmp_path):
    url = server("truncated")
    exc, _ = timed(fetch_url, url, cache_dir=tmp_path)
    assert "ended early after" in str(exc)
    assert list(tmp_path.iterdir()) == []


def test_html_instead_of_json(server):
    url = server("html")
    exc, _ = timed(fetch_json, url, data={"data": "q"})
    assert "is not complete JSON: it ends with" in str(exc) and "out of memory" in str(exc)


def test_refused_connection(server):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/interpreter"
    exc, seconds = timed(fetch_json, url, data={"data": "q"})
    assert f"could not query {url}: connection refused (4 attempts" in str(exc)
    assert seconds < 3


def test_cached_reply_is_reused_after_a_fault(server, tmp_path):
    url = server("503", "ok", "503")
    first = fetch_json(url, data={"data": "q"}, cache_dir=tmp_path)
    assert first == REPLY and len(Script.times) == 2
    # the server now fails; the cached reply answers without asking it
    again = fetch_json(url, data={"data": "q"}, cache_dir=tmp_path)
    assert again == REPLY and len(Script.times) == 2
    # another query is not answered from the cache
    exc, _ = timed(fetch_json, url, data={"data": "other"}, cache_dir=tmp_path)
    assert isinstance(exc, DownloadError)


def test_no_reply_is_cached_after_a_fault(server, tmp_path):
    url = server("truncated")
    timed(fetch_json, url, data={"data": "q"}, cache_dir=tmp_path)
    assert not list(tmp_path.glob("*.json"))


def test_overpass_through_osmnx_honours_the_policy(server, tmp_path):
    """osmnx's own loop would retry 429 every 55 s forever; ours gives up within the deadline."""
    import geopandas as gpd
    from shapely.geometry import box

    from agglonet.transport.overpass import load_graph_osm

    url = server("429").rsplit("/interpreter", 1)[0]
    area = gpd.GeoSeries([box(113.55, 34.65, 113.70, 34.78)], crs="EPSG:4326").iloc[0]
    exc, seconds = timed(load_graph_osm, area, polygon_crs="EPSG:4326", overpass_url=url,
                         timeout_s=5, use_cache=False, cache_folder=tmp_path,
                         overpass_rate_limit=False)
    assert isinstance(exc, DownloadError)
    assert "Overpass query" in str(exc) and "HTTP 429" in str(exc) and seconds < 8


def test_retry_after_http_date():
    when = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 < retry_after_s(when) <= 31
    assert retry_after_s("7") == 7.0 and retry_after_s("soon") is None


def test_with_retries_backoff_and_deadline_with_a_fake_clock():
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds):
        waits.append(seconds)
        now[0] += seconds

    def fail():
        raise OSError("network unreachable")

    with pytest.raises(DownloadError, match=r"3 attempts over 3\.0 s"):
        with_retries("download", "http://x", fail, retries=5, backoff_s=1.0, deadline_s=6.0,
                     clock=lambda: now[0], sleep=sleep)
    assert waits == [1.0, 2.0]  # the next wait (4 s) would end past the 6 s deadline


def test_slow_download_shows_progress(server, tmp_path, caplog, monkeypatch):
    from agglonet import logs
    monkeypatch.setattr(logs, "PROGRESS_INTERVAL_S", 0.2)
    url = server("slow-3mb")
    with caplog.at_level(logging.INFO, logger="agglonet.download"):
        path = fetch_url(url.replace("/api/interpreter", "/big.bin"), cache_dir=tmp_path)
    assert path.stat().st_size == 3 << 20
    lines = [r.getMessage() for r in caplog.records if r.name == "agglonet.download"]
    progress = [line for line in lines if line.startswith("download big.bin ")]
    # after the 2nd and 3rd MB at the latest (0.3 s apart > 0.2 s); never twice the same line
    assert progress, lines
    assert all("/3.1 MB (" in line for line in progress), progress  # 3 MiB = 3.1 MB
    assert len(set(progress)) == len(progress)
