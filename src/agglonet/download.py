"""Downloads: one retry loop with exponential backoff, and a URL-keyed file cache.

Every piece of agglonet that reaches a server (PBF extracts, WorldCover and DEM tiles) goes
through :func:`with_retries`, so retries, waits and the error a user finally sees behave the same
everywhere. Overpass queries go through osmnx (:mod:`agglonet.transport.overpass`).
"""

from __future__ import annotations

import hashlib
import logging
import time
import urllib.error
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import rasterio.errors
import requests

from agglonet.errors import DownloadError

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Errors that a retry may heal: network and server failures, not client errors.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError, rasterio.errors.RasterioError, urllib.error.URLError, requests.RequestException,
)


def with_retries(
    what: str,
    url: str,
    func: Callable[[], T],
    *,
    retries: int,
    backoff_s: float,
    transient: tuple[type[BaseException], ...] = TRANSIENT_ERRORS,
) -> T:
    """Call ``func()``; on a transient error retry with exponential backoff.

    Parameters
    ----------
    what
        Verb phrase for messages (``"download"``, ``"read tile"``).
    url
        The resource, named in every message.
    func
        The call to make.
    retries
        Retries after the first attempt (``0``: one attempt).
    backoff_s
        Wait before retry k (0-based) is ``backoff_s · 2**k`` seconds.
    transient
        Exception types that are retried; any other propagates at once.

    Returns
    -------
    object
        What ``func`` returns.

    Raises
    ------
    DownloadError
        After the last attempt failed; the message names ``url`` and the last error.
    """
    last: BaseException | None = None
    for attempt in range(retries + 1):
        try:
            return func()
        except DownloadError:
            raise
        except transient as exc:
            last = exc
            if attempt < retries:
                wait = backoff_s * 2**attempt
                logger.warning("%s %s failed (%s); retry %d/%d in %.1f s",
                               what, url, exc, attempt + 1, retries, wait)
                time.sleep(wait)
    raise DownloadError(f"could not {what} {url} after {retries + 1} attempts: {last}") from last


def cached_path(url: str, cache_dir: str | Path) -> Path:
    """Return the cache file of ``url`` in ``cache_dir`` (a hash of the URL plus its file name)."""
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    return Path(cache_dir) / f"{key}_{Path(url.split('?')[0]).name or 'download'}"


def fetch_url(url: str, *, cache_dir: str | Path, timeout_s: float = 180,
              retries: int = 2, backoff_s: float = 2.0) -> Path:
    """Download ``url`` into ``cache_dir`` (keyed by the URL) unless it is already there.

    Parameters
    ----------
    url
        ``http(s)://`` address.
    cache_dir
        Folder of the cache; created when missing.
    timeout_s
        Connect/read timeout of each request.
    retries, backoff_s
        See :func:`with_retries`.

    Returns
    -------
    pathlib.Path
        The cached file.

    Raises
    ------
    DownloadError
        On an HTTP client error (4xx other than 429) at once, or after the retries; the message
        names the URL.
    """
    target = cached_path(url, cache_dir)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)

    def _get() -> Path:
        with requests.get(url, stream=True, timeout=timeout_s) as resp:
            if 400 <= resp.status_code < 500 and resp.status_code != 429:
                # a client error does not heal with retries
                raise DownloadError(f"could not download {url}: HTTP {resp.status_code}")
            resp.raise_for_status()
            tmp = target.with_suffix(target.suffix + ".part")
            with open(tmp, "wb") as fh:
                for chunk in resp.iter_content(1 << 20):
                    fh.write(chunk)
            tmp.replace(target)
        return target

    return with_retries("download", url, _get, retries=retries, backoff_s=backoff_s)


