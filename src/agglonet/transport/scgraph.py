"""Real, simplified OpenStreetMap highways offline: the world road graph of ``scgraph-data``.

PyPI ``scgraph-data`` (MIT package; the data are derived from OpenStreetMap, © OpenStreetMap
contributors, ODbL 1.0) ships ``scgraph_data/world_highways.py``: a 36 MB Python module holding
the world highway graph of the ``scgraph`` router as two literals (version 2.0.0)::

    <blank line>
    from scgraph.core import GeoGraph
    graph=[{1: 1.233, 2: 0.852}, {0: 1.233, 3: 0.104, 4: 0.111}, ...]
    nodes=[[21.04, 105.866], [21.036, 105.855], ...]
    world_highways_geograph = GeoGraph(graph=graph, nodes=nodes)

``graph[i]`` maps each neighbour of node ``i`` to the link length in km (each link is listed
from both ends); ``nodes[i]`` is ``[lat, lon]`` in degrees, rounded to 0.001°. Links are straight
segments between junctions, without road class, name or original shape. Version 2.0.0 holds
560,282 nodes and 822,234 undirected links (1,652,213 adjacency entries: every link from both
ends with the same length, plus 7,745 self-loops, which are dropped).

Importing the module compiles 36 MB of source: ≈ 24 s and 4.7 GB peak memory (measured; 2.7 s and
370 MB when pip's precompiled ``.pyc`` is there), and scgraph-data 2.0.0 cannot be imported at
all beside scgraph 3.x, which pip installs with it (no ``scgraph.core``).
:func:`parse_world_highways` reads the file by path instead, never importing it, with a
streaming scanner (:class:`_LiteralScanner`): the
file is read in blocks; bracket depth is tracked with a vectorised cumulative sum, so a block is
cut only between two complete elements of a list; the numbers of a block's complete elements
are parsed by NumPy in one call (``numpy.fromstring``), with the start of each adjacency dict
marked by a sentinel. Python's :mod:`tokenize` would need ≈ 24 s just to produce the 11.3
million tokens (measured); the scanner parses the file in ≈ 1.2 s with a peak memory of a few
blocks plus the output arrays (``benchmarks/scgraph_parse.py``).

The parsed network is cached once as a compressed ``.npz`` (:func:`load_world_highways`),
named by the package version and the first 16 hex digits of the file's SHA-256, in
``roads.scgraph.cache_folder``; a changed file gets a new cache file. :func:`raw_scgraph_graph`
clips it to the cluster area and returns a raw graph in osmnx conventions for
:func:`agglonet.transport.graph.prepare_road_graph`:

* nodes ``x``/``y`` in lon/lat, ``G.graph["crs"] = "EPSG:4326"``; node ids are the package's
  node indices;
* every link in both directions (the data are undirected), ``oneway`` False;
* ``length`` in metres, the straight segment measured in the working (Albers) CRS like every
  other distance of agglonet — not the package's km value, which is reported beside it;
* ``highway`` = :data:`SCGRAPH_HIGHWAY` (``"scgraph"``), a documented pseudo-class: a main road
  (motorway, trunk or primary — the package does not say which) of unknown class. It is listed
  in ``roads.highway_classes`` (so the class filter keeps it), has its own speed
  (``roads.scgraph.speed_kph``), resistance penalty (``ecology.resistance.road_penalty``) and
  crossing weight (``metrics.road_class_weights``).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import networkx as nx
import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from agglonet.crs import CHINA_ALBERS, WGS84, working_crs
from agglonet.errors import DataError, EmptyNetworkError
from agglonet.io import atomic_path
from agglonet.logs import Progress
from agglonet.osm import OSM_ATTRIBUTION
from agglonet.provenance import (
    SourceRecord,
    package_dir,
    package_version,
    record_package_file,
    sha256_file,
)

logger = logging.getLogger(__name__)

#: ``highway`` pseudo-class of every scgraph link: a main road of unknown OSM class.
SCGRAPH_HIGHWAY = "scgraph"
#: ``source`` value carried by every scgraph link.
SCGRAPH_SOURCE = "openstreetmap_scgraph"
#: PyPI distribution, import package and data file.
SCGRAPH_DISTRIBUTION = "scgraph-data"
SCGRAPH_PACKAGE = "scgraph_data"
SCGRAPH_FILE = "world_highways.py"
#: Layout version of the cached extract; bump it when the ``.npz`` contents change.
EXTRACT_FORMAT = 1

_BLOCK_BYTES = 1 << 20
_DICT_START = -1.0  # sentinel for "{": keys and lengths are never negative
_STATEMENT = re.compile(rb"(?<![A-Za-z0-9_.])(graph|nodes)\s*=\s*\[")
_OPEN = np.frombuffer(b"[{", dtype=np.uint8)
_CLOSE = np.frombuffer(b"]}", dtype=np.uint8)
_ALLOWED = {"graph": b"0123456789.-+eE{}:, \t\r\n", "nodes": b"0123456789.-+eE[], \t\r\n"}


@dataclasses.dataclass(frozen=True)
class ScgraphNetwork:
    """The scgraph world highway graph as arrays (undirected links).

    Attributes
    ----------
    lat, lon
        Node coordinates, degrees (float64), indexed by the package's node index.
    u, v
        Link end nodes (int32), ``u < v``, each undirected link once.
    length_km
        The package's length of each link (km; the smaller one where the two ends disagree).
    version, sha256
        Package version and SHA-256 of the file it came from (empty when parsed from a bare
        file).
    asymmetric_links
        Links listed from one end only or with two different lengths (the graph is meant to be
        symmetric; counted, not dropped).
    """

    lat: np.ndarray
    lon: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length_km: np.ndarray
    version: str = ""
    sha256: str = ""
    asymmetric_links: int = 0

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.lat)

    @property
    def n_links(self) -> int:
        """Number of undirected links."""
        return len(self.u)


# --------------------------------------------------------------------------------------------
# the streaming parser
# --------------------------------------------------------------------------------------------

class _LiteralScanner:
    """Parse the ``graph=[...]`` and ``nodes=[...]`` literals of a scgraph module, block by block.

    Written by hand because no library streams a Python literal: :func:`ast.literal_eval` needs
    the whole 25 MB statement and builds 1.6 million Python dicts entries, and :mod:`tokenize`
    is ≈ 10× slower than this scanner (see the module docstring).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.section: str | None = None
        self.depth = 0
        self.buffer = b""
        self.offset = 0  # bytes consumed before self.buffer
        self.n_dicts = 0
        self.adjacency: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.coords: list[np.ndarray] = []
        self.seen: set[str] = set()

    # -- driver -----------------------------------------------------------------------------
    def feed(self, block: bytes) -> None:
        """Consume one block of the file."""
        self.buffer += block
        while self.buffer:
            if self.section is None:
                if not self._find_statement():
                    return
            elif not self._scan_literal():
                return

    def finish(self) -> None:
        """Check that the file ended cleanly, with both literals complete."""
        if self.section is not None:
            raise DataError(f"{self.name}: the {self.section}=[...] literal is not closed at the "
                            "end of the file (truncated file?)")
        missing = {"graph", "nodes"} - self.seen
        if missing:
            raise DataError(f"{self.name}: no {' / '.join(sorted(missing))}=[...] literal; "
                            "expected the scgraph GeoGraph module format "
                            "(graph=[{neighbour: km, ...}, ...] and nodes=[[lat, lon], ...])")

    # -- outside a literal ------------------------------------------------------------------
    def _find_statement(self) -> bool:
        match = _STATEMENT.search(self.buffer)
        if match is None:
            keep = min(len(self.buffer), 64)  # a statement name may straddle two blocks
            self.offset += len(self.buffer) - keep
            self.buffer = self.buffer[len(self.buffer) - keep:]
            return False
        name = match.group(1).decode()
        if name in self.seen:
            raise DataError(f"{self.name}: a second {name}=[...] literal at byte "
                            f"{self.offset + match.start()}")
        self.section, self.depth = name, 1
        self.offset += match.end()
        self.buffer = self.buffer[match.end():]
        return True

    # -- inside a literal -------------------------------------------------------------------
    def _scan_literal(self) -> bool:
        arr = np.frombuffer(self.buffer, dtype=np.uint8)
        step = np.isin(arr, _OPEN).view(np.int8) - np.isin(arr, _CLOSE).view(np.int8)
        depth = self.depth + np.cumsum(step, dtype=np.int32)
        closed = np.flatnonzero(depth == 0)
        if len(closed):  # the literal ends inside this buffer
            end = int(closed[0])
            self._parse(self.buffer[:end])
            self.seen.add(self.section or "")
            self.section, self.depth = None, 0
            self.offset += end + 1
            self.buffer = self.buffer[end + 1:]
            return True
        # cut after the last element that closes in this buffer (depth back to 1)
        cuts = np.flatnonzero((depth == 1) & (step == -1))
        if not len(cuts):
            return False  # need more bytes
        cut = int(cuts[-1]) + 1
        self._parse(self.buffer[:cut])
        self.depth = int(depth[cut - 1])
        self.offset += cut
        self.buffer = self.buffer[cut:]
        return False

    def _parse(self, text: bytes) -> None:
        """Parse complete top-level elements of the current literal."""
        bad = text.translate(None, _ALLOWED[self.section or "graph"])
        if bad:
            raise DataError(f"{self.name}: unexpected characters {bad[:20]!r} in the "
                            f"{self.section}=[...] literal near byte {self.offset}; expected "
                            "numbers only (the scgraph GeoGraph module format)")
        if self.section == "graph":
            self._parse_graph(text)
        else:
            self._parse_nodes(text)

    def _parse_graph(self, text: bytes) -> None:
        numbers = _numbers(text.replace(b"{", b" -1 ").translate(_SPACES, b""))
        if not len(numbers):
            return
        if text.count(b"{") != text.count(b"}") or numbers[0] != _DICT_START:
            raise DataError(f"{self.name}: graph=[...] near byte {self.offset} is not a list "
                            "of {neighbour: km} dicts")
        mark = numbers == _DICT_START
        if int(mark.sum()) != text.count(b"{") or (numbers[~mark] < 0).any():
            raise DataError(f"{self.name}: negative neighbour index or length in graph=[...] "
                            f"near byte {self.offset}")
        starts = np.flatnonzero(mark)
        sizes = np.diff(np.append(starts, len(numbers))) - 1
        if (sizes % 2).any():
            raise DataError(f"{self.name}: a dict of graph=[...] near byte {self.offset} has a "
                            "key without a value")
        pairs = numbers[~mark].reshape(-1, 2)
        if len(pairs) and pairs[:, 0].max() >= np.iinfo(np.int32).max:
            raise DataError(f"{self.name}: neighbour index {pairs[:, 0].max():.0f} in "
                            f"graph=[...] near byte {self.offset} is too large")
        if (pairs[:, 0] != np.round(pairs[:, 0])).any():
            raise DataError(f"{self.name}: a neighbour index in graph=[...] near byte "
                            f"{self.offset} is not an integer")
        owner = np.repeat(np.arange(self.n_dicts, self.n_dicts + len(starts), dtype=np.int32),
                          sizes // 2)
        self.adjacency.append((owner, pairs[:, 0].astype(np.int32), pairs[:, 1].copy()))
        self.n_dicts += len(starts)

    def _parse_nodes(self, text: bytes) -> None:
        numbers = _numbers(text.translate(_SPACES, b""))
        n_pairs = text.count(b"[")
        if len(numbers) != 2 * n_pairs or text.count(b"]") != n_pairs:
            raise DataError(f"{self.name}: nodes=[...] near byte {self.offset} is not a list of "
                            "[lat, lon] pairs")
        self.coords.append(numbers.reshape(-1, 2))


_SPACES = bytes.maketrans(b"{}[]:,", b"      ")


def _numbers(text: bytes) -> np.ndarray:
    """Parse whitespace-separated numbers in one C call (the characters were checked before).

    Raises
    ------
    DataError
        If a word is not a number (``1.2.3``, a lone ``-``).
    """
    if not text.strip():
        return np.empty(0)  # numpy would read a blank text as one number
    with warnings.catch_warnings():
        # numpy warns (and stops) at the first word that is not a number
        warnings.simplefilter("error", DeprecationWarning)
        try:
            return np.fromstring(text, dtype=np.float64, sep=" ")
        except (DeprecationWarning, ValueError) as exc:
            raise DataError(f"malformed number in a scgraph literal: {exc}") from exc


def _read_blocks(fh: BinaryIO, block_bytes: int) -> Iterator[bytes]:
    while block := fh.read(block_bytes):
        yield block


def parse_world_highways(path: str | Path, *, block_bytes: int = _BLOCK_BYTES
                         ) -> ScgraphNetwork:
    """Parse a scgraph GeoGraph module (``world_highways.py``) without importing it.

    Parameters
    ----------
    path
        The module file (``graph=[...]`` and ``nodes=[...]`` literals, see the module docstring).
    block_bytes
        Read size; memory stays a few blocks plus the output arrays.

    Returns
    -------
    ScgraphNetwork
        Nodes and undirected links (version and sha256 left empty).

    Raises
    ------
    DataError
        If the file is missing or not in the expected format (the message names the byte
        offset), or if the two literals disagree (node counts, neighbour out of range).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"scgraph file {path} does not exist; install {SCGRAPH_DISTRIBUTION} "
                        "or set roads.source to another source")
    scanner = _LiteralScanner(str(path))
    with open(path, "rb") as fh, Progress(f"scgraph parse {path.name}", path.stat().st_size,
                                          unit="MB", logger=logger) as progress:
        for block in _read_blocks(fh, block_bytes):
            scanner.feed(block)
            progress.advance(len(block))
    scanner.finish()
    coords = np.concatenate(scanner.coords) if scanner.coords else np.empty((0, 2))
    n = len(coords)
    if scanner.n_dicts != n:
        raise DataError(f"{path}: graph has {scanner.n_dicts} adjacency dicts but nodes has {n} "
                        "points; expected one dict per node")
    if scanner.adjacency:
        owner, neighbour, length = (np.concatenate(p) for p in zip(*scanner.adjacency,
                                                                    strict=True))
    else:
        owner, neighbour, length = np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    if len(neighbour) and (neighbour.max() >= n):
        raise DataError(f"{path}: neighbour index {int(neighbour.max())} out of range for {n} "
                        "nodes")
    u, v, length_km, asymmetric = _undirected_links(owner, neighbour, length, n_nodes=n)
    if asymmetric:
        logger.warning("%s: %d links listed from one end only or with two lengths", path,
                       asymmetric)
    return ScgraphNetwork(lat=coords[:, 0].copy(), lon=coords[:, 1].copy(), u=u, v=v,
                          length_km=length_km, asymmetric_links=asymmetric)


def _undirected_links(owner: np.ndarray, neighbour: np.ndarray, length: np.ndarray, *,
                      n_nodes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Each undirected link once (u < v, shorter length), self-loops dropped, asymmetry counted."""
    keep = owner != neighbour
    a, b, km = owner[keep], neighbour[keep], length[keep]
    key = np.minimum(a, b).astype(np.int64) * n_nodes + np.maximum(a, b)
    del a, b
    order = np.lexsort((km, key))
    key, km = key[order], km[order]
    del order
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(key)))
    # a symmetric link appears twice with one length; anything else is asymmetric
    same = np.ones(len(starts), dtype=bool)
    two = counts == 2
    same[two] = km[starts[two]] == km[starts[two] + 1]
    asymmetric = int(((counts != 2) | ~same).sum())
    uniq = key[first]
    return ((uniq // n_nodes).astype(np.int32), (uniq % n_nodes).astype(np.int32),
            km[first].astype(np.float64), asymmetric)


# --------------------------------------------------------------------------------------------
# the package file and the cache
# --------------------------------------------------------------------------------------------

def world_highways_path() -> Path:
    """Path of ``scgraph_data/world_highways.py``, found without importing the package.

    Raises
    ------
    DataError
        If ``scgraph-data`` is not installed or lacks the file.
    """
    path = package_dir(SCGRAPH_PACKAGE) / SCGRAPH_FILE
    if not path.is_file():
        raise DataError(f"{SCGRAPH_DISTRIBUTION} is installed but has no {SCGRAPH_FILE} "
                        f"({path}); install {SCGRAPH_DISTRIBUTION}==2.0.0")
    return path


def extract_path(cache_folder: str | Path, *, version: str, sha256: str) -> Path:
    """Cache file of one version and file checksum of the package."""
    safe = re.sub(r"[^0-9A-Za-z.]+", "_", version) or "unknown"
    return Path(cache_folder) / f"world_highways-{safe}-{sha256[:16]}-f{EXTRACT_FORMAT}.npz"


def save_extract(path: str | Path, network: ScgraphNetwork) -> Path:
    """Write the parsed network as a compressed ``.npz`` (atomically)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(
            fh, lat=network.lat, lon=network.lon, u=network.u, v=network.v,
            length_km=network.length_km, version=np.array(network.version),
            sha256=np.array(network.sha256), format=np.array(EXTRACT_FORMAT),
            asymmetric_links=np.array(network.asymmetric_links))
    return Path(path)


def read_extract(path: str | Path) -> ScgraphNetwork:
    """Read an extract written by :func:`save_extract`.

    Raises
    ------
    DataError
        If the file is not an extract of the current format.
    """
    try:
        with np.load(path) as data:
            if int(data["format"]) != EXTRACT_FORMAT:
                raise DataError(f"{path}: extract format {int(data['format'])}, expected "
                                f"{EXTRACT_FORMAT}")
            return ScgraphNetwork(
                lat=data["lat"], lon=data["lon"], u=data["u"], v=data["v"],
                length_km=data["length_km"], version=str(data["version"]),
                sha256=str(data["sha256"]), asymmetric_links=int(data["asymmetric_links"]))
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(f"{path} is not a readable scgraph extract ({exc}); delete it to "
                        "rebuild it") from exc


def load_world_highways(
    *,
    cache_folder: str | Path = "cache/scgraph",
    path: str | Path | None = None,
    version: str | None = None,
) -> ScgraphNetwork:
    """Return the parsed world highway graph, from the cache or parsed once into it.

    Parameters
    ----------
    cache_folder
        Folder of the cached extracts (``roads.scgraph.cache_folder``).
    path
        The module file; default: ``world_highways.py`` of the installed ``scgraph-data``.
    version
        Version recorded in the cache key; default: the installed ``scgraph-data`` version.

    Returns
    -------
    ScgraphNetwork
        With ``version`` and ``sha256`` set.
    """
    path = world_highways_path() if path is None else Path(path)
    if not path.is_file():
        raise DataError(f"scgraph file {path} does not exist")
    version = package_version(SCGRAPH_DISTRIBUTION) if version is None else version
    digest = sha256_file(path)
    cached = extract_path(cache_folder, version=version, sha256=digest)
    if cached.is_file():
        network = read_extract(cached)
        if network.sha256 == digest and network.version == version:
            logger.info("scgraph extract from cache %s (%d nodes, %d links)", cached,
                        network.n_nodes, network.n_links)
            return network
        logger.warning("cache %s belongs to another file (sha256 %s); parsing again", cached,
                       network.sha256[:16])
    logger.info("parsing %s (%s %s, sha256 %s) into %s", path, SCGRAPH_DISTRIBUTION, version,
                digest[:16], cached)
    network = dataclasses.replace(parse_world_highways(path), version=version, sha256=digest)
    save_extract(cached, network)
    logger.info("scgraph: %d nodes, %d links cached", network.n_nodes, network.n_links)
    return network


def scgraph_record(path: str | Path | None = None) -> SourceRecord:
    """Provenance record of the scgraph file (OSM-derived: ODbL, with the OSM attribution)."""
    return record_package_file(
        world_highways_path() if path is None else path, name="roads",
        distribution=SCGRAPH_DISTRIBUTION, licence="ODbL-1.0 (data); MIT (package)",
        citation=f"{OSM_ATTRIBUTION}; simplified world highway graph of scgraph-data "
                 "(C. Makowski)",
        provider="OpenStreetMap via scgraph-data (PyPI)")


# --------------------------------------------------------------------------------------------
# clipping and the raw graph
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ScgraphClip:
    """The links of a clip area, with node coordinates in lon/lat and in the working CRS.

    ``nodes`` are package node indices; ``u``/``v`` index into ``nodes``; ``link_ids`` are the
    links' positions in the parsed network (stable for one package version); ``length_m`` is
    the straight segment in the working CRS, ``length_km_package`` the package's value.
    """

    nodes: np.ndarray
    link_ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    length_km_package: np.ndarray


def clip_network(network: ScgraphNetwork, area: BaseGeometry, *, area_crs: Any = CHINA_ALBERS
                 ) -> ScgraphClip:
    """Keep the links whose two end nodes lie inside ``area`` (osmnx's truncation rule).

    Parameters
    ----------
    network
        The parsed world graph.
    area
        Clip polygon (cluster plus buffer), in ``area_crs``.
    area_crs
        CRS of ``area``; lengths are measured in it when it is projected, else in
        :data:`agglonet.crs.CHINA_ALBERS`.

    Raises
    ------
    EmptyNetworkError
        If no link lies inside the area.
    """
    crs = working_crs(area_crs)
    metric = crs if not crs.is_geographic else working_crs(CHINA_ALBERS)
    to_area = Transformer.from_crs(WGS84, crs, always_xy=True)
    to_metric = Transformer.from_crs(WGS84, metric, always_xy=True)
    # cheap pre-filter on the area's lon/lat bounds (densified, so curved edges are covered)
    back = Transformer.from_crs(crs, WGS84, always_xy=True)
    ring = shapely.segmentize(shapely.box(*area.bounds), max(area.length, 1.0) / 400)
    blon, blat = back.transform(*shapely.get_coordinates(ring).T)
    pad = 0.01
    cand = np.flatnonzero((network.lon >= blon.min() - pad) & (network.lon <= blon.max() + pad)
                          & (network.lat >= blat.min() - pad) & (network.lat <= blat.max() + pad))
    ax, ay = to_area.transform(network.lon[cand], network.lat[cand])
    shapely.prepare(area)
    inside = np.zeros(network.n_nodes, dtype=bool)
    inside[cand[shapely.contains_xy(area, ax, ay)]] = True
    keep = inside[network.u] & inside[network.v]
    if not keep.any():
        raise EmptyNetworkError("no scgraph link lies inside the clip area (cluster plus "
                                "retrieve.buffer_km); is the area outside the data's coverage?")
    nodes = np.flatnonzero(inside)
    nodes = nodes[np.isin(nodes, np.union1d(network.u[keep], network.v[keep]))]
    index = np.full(network.n_nodes, -1, dtype=np.int64)
    index[nodes] = np.arange(len(nodes))
    lon, lat = network.lon[nodes], network.lat[nodes]
    x, y = to_metric.transform(lon, lat)
    u, v = index[network.u[keep]], index[network.v[keep]]
    length_m = np.hypot(x[u] - x[v], y[u] - y[v])
    return ScgraphClip(nodes=nodes, link_ids=np.flatnonzero(keep), lon=lon, lat=lat,
                       x=np.asarray(x), y=np.asarray(y),
                       u=u, v=v, length_m=length_m,
                       length_km_package=network.length_km[keep])


def length_comparison(clip: ScgraphClip) -> dict[str, float]:
    """Albers length vs the package's km value over the clipped links (total and quantiles)."""
    ok = clip.length_km_package > 0
    ratio = clip.length_m[ok] / (clip.length_km_package[ok] * 1000.0)
    total_m = float(clip.length_m.sum())
    total_pkg_m = float(clip.length_km_package.sum() * 1000.0)
    q = np.quantile(ratio, [0.05, 0.5, 0.95]) if len(ratio) else [np.nan] * 3
    return {
        "links": int(len(clip.u)),
        "total_km_albers": round(total_m / 1000.0, 3),
        "total_km_package": round(total_pkg_m / 1000.0, 3),
        "total_ratio_albers_to_package": round(total_m / total_pkg_m, 6) if total_pkg_m else
        float("nan"),
        "ratio_p05": round(float(q[0]), 6), "ratio_median": round(float(q[1]), 6),
        "ratio_p95": round(float(q[2]), 6),
        "links_zero_package_length": int((~ok).sum()),
    }


def raw_scgraph_graph(clip: ScgraphClip) -> nx.MultiDiGraph:
    """Raw road graph of a clip in osmnx conventions (both directions, lon/lat nodes).

    Edges carry ``osmid`` (the link's index in the parsed network: there is no OSM way id),
    ``highway`` = :data:`SCGRAPH_HIGHWAY`, ``length`` (m, working CRS; the package's km value is
    compared in :func:`length_comparison`), ``oneway`` False, ``reversed`` and ``source`` =
    :data:`SCGRAPH_SOURCE`; nodes ``x`` (lon) and ``y`` (lat), with the package's node index
    as id.
    """
    G = nx.MultiDiGraph(crs="EPSG:4326", simplified=False, attribution=OSM_ATTRIBUTION)
    G.add_nodes_from((int(n), {"x": float(lo), "y": float(la)})
                     for n, lo, la in zip(clip.nodes, clip.lon, clip.lat, strict=True))
    ids = clip.nodes
    progress = Progress("scgraph road link", len(clip.link_ids), logger=logger)
    for link, a, b, length in zip(clip.link_ids, ids[clip.u], ids[clip.v], clip.length_m,
                                  strict=True):
        progress.advance()
        attrs = {"osmid": int(link), "highway": SCGRAPH_HIGHWAY, "length": float(length),
                 "oneway": False, "source": SCGRAPH_SOURCE}
        G.add_edge(int(a), int(b), reversed=False, **attrs)
        G.add_edge(int(b), int(a), reversed=True, **attrs)
    progress.finish()
    return G
