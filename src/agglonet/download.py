"""Downloads: one retry loop with backoff, Retry-After and a deadline, and a URL-keyed cache.

Every piece of agglonet that reaches a server goes through :func:`with_retries`: PBF extracts and
other files (:func:`fetch_url`), JSON queries such as Overpass (:func:`fetch_json`, which
:mod:`agglonet.transport.overpass` puts in place of osmnx's own request loop), WorldCover and DEM
tiles. So retries, waits, progress lines in the log and the error a user finally sees behave the
same everywhere:

* a transient fault (refused or dropped connection, no answer in time, HTTP 429 or 5xx, a reply
  cut short) is retried at most ``retries`` times, waiting ``backoff_s · 2**k`` seconds, or as
  long as the server's ``Retry-After`` asks when that is longer;
* a ``Retry-After`` longer than ``max_wait_s``, or a wait that would end after the total
  ``deadline_s``, ends the download at once;
* each request's own timeout is cut to what is left of the deadline, so a server that hangs
  cannot hold a run past it;
* the final :class:`~agglonet.errors.DownloadError` says what the server did (``HTTP 429 Too Many
  Requests, Retry-After 120 s``, ``connection refused``, ``no answer within 30 s``, ``the reply
  ended after 1,024 of 4,096 bytes``), how many attempts were made over how long, and which key
  to change.

The defaults come from the ``download`` section of the configuration (:func:`configure`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import email.utils
import hashlib
import json
import logging
import time
import urllib.error
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import rasterio.errors
import requests

from agglonet.errors import DownloadError
from agglonet.io import atomic_path
from agglonet.logs import Progress

logger = logging.getLogger(__name__)

T = TypeVar("T")


class TransientError(Exception):
    """A fault a retry may heal, with what the server did and how long it asked to wait.

    Parameters
    ----------
    what
        The server's behaviour in words (``HTTP 503 Service Unavailable``).
    retry_after_s
        The server's ``Retry-After`` in seconds, if it sent one.
    """

    def __init__(self, what: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(what)
        self.retry_after_s = retry_after_s


#: Errors that a retry may heal: network and server failures, not client errors.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError, OSError, rasterio.errors.RasterioError, urllib.error.URLError,
    requests.RequestException,
)


@dataclasses.dataclass(frozen=True)
class DownloadPolicy:
    """Retries, waits and the deadline of one download (the config's ``download`` section)."""

    retries: int = 4
    backoff_s: float = 2.0
    max_wait_s: float = 120.0
    deadline_s: float = 900.0


_policy = DownloadPolicy()


def configure(settings: Mapping[str, Any] | None = None) -> DownloadPolicy:
    """Set the default policy from the config's ``download`` section; return it."""
    global _policy
    _policy = DownloadPolicy(**dict(settings or {}))
    return _policy


def policy() -> DownloadPolicy:
    """Return the default policy (set by :func:`configure`)."""
    return _policy


def describe(exc: BaseException, *, timeout_s: float | None = None) -> str:
    """Say what went wrong in the server's terms (refused, timed out, HTTP status, cut short)."""
    if isinstance(exc, TransientError):
        return str(exc)
    if isinstance(exc, requests.ConnectTimeout):
        return "no connection within the timeout"
    if isinstance(exc, requests.ReadTimeout):
        return (f"no answer within {timeout_s:.0f} s" if timeout_s
                else "no answer within the timeout")
    if isinstance(exc, requests.ConnectionError):
        text = str(exc)
        if "refused" in text.lower():
            return "connection refused"
        if "IncompleteRead" in text or "Connection broken" in text:
            return "the connection broke before the reply was complete"
        return f"connection failed ({text[:200]})"
    return f"{type(exc).__name__}: {str(exc)[:300]}"


def with_retries(
    what: str,
    url: str,
    func: Callable[[], T],
    *,
    retries: int | None = None,
    backoff_s: float | None = None,
    deadline_s: float | None = None,
    max_wait_s: float | None = None,
    transient: tuple[type[BaseException], ...] = TRANSIENT_ERRORS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``func()``; on a transient error retry with backoff, within a total deadline.

    Parameters
    ----------
    what
        Verb phrase for messages (``"download"``, ``"read tile"``).
    url
        The resource, named in every message.
    func
        The call to make. It may raise :class:`TransientError` with a ``retry_after_s``.
    retries, backoff_s, deadline_s, max_wait_s
        See :class:`DownloadPolicy`; ``None`` takes the default policy's value.
    transient
        Exception types that are retried; any other propagates at once.
    clock, sleep
        Time source and wait (tests pass fakes).

    Returns
    -------
    object
        What ``func`` returns.

    Raises
    ------
    DownloadError
        When the retries or the deadline are used up, or the server asks for a longer wait
        than ``max_wait_s``; the message names ``url``, what the server did and the attempts.
    """
    base = policy()
    retries = base.retries if retries is None else retries
    backoff_s = base.backoff_s if backoff_s is None else backoff_s
    deadline_s = base.deadline_s if deadline_s is None else deadline_s
    max_wait_s = base.max_wait_s if max_wait_s is None else max_wait_s
    start = clock()
    attempt = 0
    while True:
        attempt += 1
        try:
            return func()
        except DownloadError:
            raise
        except transient as exc:
            said = describe(exc)
            elapsed = clock() - start
            asked = getattr(exc, "retry_after_s", None)
            wait = backoff_s * 2 ** (attempt - 1)
            tried = (f"{attempt} attempt{'s' if attempt > 1 else ''} over {elapsed:.1f} s "
                     f"(download.retries = {retries}, download.deadline_s = {deadline_s:g})")
            if asked is not None and asked > max_wait_s:
                raise DownloadError(
                    f"could not {what} {url}: {said}; the server asks to wait {asked:.0f} s, "
                    f"more than download.max_wait_s = {max_wait_s:g} ({tried})",
                    fix="try again later, or raise download.max_wait_s") from None
            if asked is not None:
                wait = max(wait, asked)
            if attempt > retries or elapsed + wait >= deadline_s:
                raise DownloadError(
                    f"could not {what} {url}: {said} ({tried})",
                    fix="check the address and the network, or try again later; raise "
                        "download.retries or download.deadline_s for a slow server") from None
            logger.warning("%s %s: %s; retry %d/%d in %.1f s (%.1f s of %g s used)", what, url,
                           said, attempt, retries, wait, elapsed, deadline_s)
            sleep(wait)


def remaining_s(start: float, deadline_s: float) -> float:
    """Seconds left of ``deadline_s`` since ``start`` (monotonic clock), at least 0.1."""
    return max(0.1, deadline_s - (time.monotonic() - start))


def retry_after_s(value: str | None) -> float | None:
    """Seconds of an HTTP ``Retry-After`` header (delta-seconds or an HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    with contextlib.suppress(TypeError, ValueError):
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    return None


def _check_status(resp: requests.Response, url: str) -> None:
    """Raise for a status that is not 2xx: transient for 429 and 5xx, final for the rest."""
    if resp.status_code < 400:
        return
    said = f"HTTP {resp.status_code} {resp.reason or ''}".strip()
    asked = retry_after_s(resp.headers.get("Retry-After"))
    if asked is not None:
        said += f", Retry-After {asked:.0f} s"
    if resp.status_code == 429 or resp.status_code >= 500:
        raise TransientError(said, retry_after_s=asked)
    body = resp.text[:300].strip().replace("\n", " ")
    raise DownloadError(f"could not download {url}: the server answered {said}"
                        + (f": {body}" if body else ""),
                        fix="check the URL in the configuration (a client error does not heal "
                            "with retries)")


def _read_body(resp: requests.Response, *, start: float, deadline_s: float) -> Iterator[bytes]:
    """Chunks of the body; a reply shorter than its Content-Length is a transient fault."""
    expected = resp.headers.get("Content-Length")
    received = 0
    try:
        for chunk in resp.iter_content(1 << 20):
            received += len(chunk)
            if time.monotonic() - start > deadline_s:
                raise TransientError(f"the reply was still arriving after {deadline_s:g} s "
                                     f"({received:,} bytes)")
            yield chunk
    except requests.exceptions.ChunkedEncodingError as exc:
        raise TransientError(f"the reply ended early after {received:,}"
                             + (f" of {int(expected):,}" if expected else "")
                             + " bytes") from exc
    if expected is not None and expected.isdigit() and received < int(expected):
        raise TransientError(f"the reply ended early after {received:,} of {int(expected):,} "
                             "bytes")


def cached_path(url: str, cache_dir: str | Path) -> Path:
    """Return the cache file of ``url`` in ``cache_dir`` (a hash of the URL plus its file name)."""
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    return Path(cache_dir) / f"{key}_{Path(url.split('?')[0]).name or 'download'}"


def fetch_url(url: str, *, cache_dir: str | Path, timeout_s: float = 180,
              retries: int | None = None, backoff_s: float | None = None,
              deadline_s: float | None = None) -> Path:
    """Download ``url`` into ``cache_dir`` (keyed by the URL) unless it is already there.

    Parameters
    ----------
    url
        ``http(s)://`` address.
    cache_dir
        Folder of the cache; created when missing. A download is written to a temporary name
        and renamed when complete, so the cache never holds a partial file.
    timeout_s
        Connect/read timeout of each request (cut to what is left of the deadline).
    retries, backoff_s, deadline_s
        See :func:`with_retries`.

    Returns
    -------
    pathlib.Path
        The cached file.

    Raises
    ------
    DownloadError
        On an HTTP client error (4xx other than 429) at once, or after the retries or the
        deadline; the message names the URL and what the server did.
    """
    target = cached_path(url, cache_dir)
    if target.exists():
        logger.info("%s from cache %s", url, target)
        return target
    deadline = policy().deadline_s if deadline_s is None else deadline_s
    start = time.monotonic()

    def _get() -> Path:
        timeout = min(timeout_s, remaining_s(start, deadline))
        with requests.get(url, stream=True, timeout=timeout) as resp:
            _check_status(resp, url)
            size = resp.headers.get("Content-Length", "")
            progress = Progress(f"download {target.name.split('_', 1)[-1]}",
                                int(size) if size.isdigit() else None, unit="MB",
                                logger=logger)
            with atomic_path(target) as tmp, open(tmp, "wb") as fh:
                for chunk in _read_body(resp, start=start, deadline_s=deadline):
                    fh.write(chunk)
                    progress.advance(len(chunk))
        logger.info("downloaded %s (%.1f MB) in %.1f s", url, target.stat().st_size / 1e6,
                    time.monotonic() - start)
        return target

    return with_retries("download", url, _get, retries=retries, backoff_s=backoff_s,
                        deadline_s=deadline)


def fetch_json(
    url: str,
    *,
    data: Mapping[str, Any] | None = None,
    cache_dir: str | Path | None = None,
    timeout_s: float = 180,
    what: str = "query",
    retries: int | None = None,
    backoff_s: float | None = None,
    deadline_s: float | None = None,
    max_wait_s: float | None = None,
) -> Any:
    """POST ``data`` (GET when None) to ``url`` and return the JSON reply, cached by request.

    A reply that is not complete JSON (cut short, or an HTML error page with status 200) is a
    transient fault and retried. A reply is cached (``cache_dir``, keyed by URL and data) only
    when complete, and a cached reply is returned without asking the server.

    Raises
    ------
    DownloadError
        As :func:`with_retries`; the message names ``url`` and what the server did.
    """
    key = hashlib.sha256(json.dumps([url, dict(data or {})], sort_keys=True).encode())
    cached = Path(cache_dir) / f"{key.hexdigest()[:24]}.json" if cache_dir else None
    if cached is not None and cached.exists():
        with contextlib.suppress(ValueError):
            reply = json.loads(cached.read_text(encoding="utf-8"))
            logger.info("%s %s from cache %s", what, url, cached)
            return reply
    deadline = policy().deadline_s if deadline_s is None else deadline_s
    start = time.monotonic()

    def _ask() -> Any:
        timeout = min(timeout_s, remaining_s(start, deadline))
        method = requests.post if data is not None else requests.get
        with method(url, data=data, stream=True, timeout=timeout) as resp:
            _check_status(resp, url)
            body = b"".join(_read_body(resp, start=start, deadline_s=deadline))
        try:
            return json.loads(body)
        except ValueError:
            tail = body[-60:].decode("utf-8", "replace")
            raise TransientError(f"the reply ({len(body):,} bytes) is not complete JSON: it "
                                 f"ends with {tail!r}") from None

    logger.info("%s %s (deadline %g s)", what, url, deadline)
    reply = with_retries(what, url, _ask, retries=retries, backoff_s=backoff_s,
                         deadline_s=deadline, max_wait_s=max_wait_s)
    logger.info("%s %s answered in %.1f s", what, url, time.monotonic() - start)
    if cached is not None:
        with atomic_path(cached) as tmp:
            tmp.write_text(json.dumps(reply), encoding="utf-8")
    return reply

