"""Accessibility indices of the cities of a cluster from an OD travel-time matrix (methods.md §1).

Conventions: ``T`` is the (n, n) seat-to-seat travel-time matrix in **minutes** (ordered pairs,
row = origin, NaN = unreachable), ``D`` the network distance and ``E`` the straight-line distance
(km), ``M`` the masses (population by default). Sums over destinations exclude the origin
(j ≠ i). Where a destination is unreachable:

* WATT, potential accessibility and linkage use the reachable destinations only, and the city's
  ``reachable_all`` flag is False;
* daily accessibility counts an unreachable city as not within reach;
* mean straightness, global efficiency and harmonic efficiency count the pair as 0 (E/∞ = 1/∞ =
  0, as Latora & Marchiori 2001 do for disconnected pairs);
* detour index and mean OD time skip the pair.

Every formula, with units, is in ``docs/metrics.md`` (sections ``od.csv``, ``accessibility.csv``
and ``metrics.csv``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString

from agglonet.errors import DataError
from agglonet.retrieve.census import MASS_COLUMNS

logger = logging.getLogger(__name__)

MASS_KINDS = ("population", "gdp", "sqrt_pop_gdp")


def _offdiag(n: int) -> np.ndarray:
    return ~np.eye(n, dtype=bool)


def load_masses(cities: pd.DataFrame, *, mass: str = "population") -> np.ndarray:
    """Mass of each city: population, GDP, or sqrt(population × GDP).

    The one place masses are read: from the per-city table (``cities.csv``, or the ``seats``
    layer it is built from), whose ``population`` and ``gdp`` were chosen by
    :func:`agglonet.retrieve.census.assign_masses` (user table > 2020 census table > GeoNames).

    Parameters
    ----------
    cities
        Table with ``adcode``, ``population`` and, for the GDP kinds, ``gdp`` (亿元); the names
        (``name_zh``) are used in messages when present.
    mass
        ``population``, ``gdp`` or ``sqrt_pop_gdp``.

    Raises
    ------
    DataError
        On an unknown mass kind, or cities without the value the kind needs (naming them and
        how to supply the value: ``transport.mass_table``).
    """
    if mass not in MASS_KINDS:
        raise DataError(f"transport.mass {mass!r} unknown; expected one of {MASS_KINDS}")
    pop = _column(cities, "population")
    if mass in ("population", "sqrt_pop_gdp"):
        _require(cities, pop, quantity="population", mass=mass)
    if mass == "population":
        return pop
    gdp = _column(cities, "gdp")
    _require(cities, gdp, quantity="GDP", mass=mass)
    return gdp if mass == "gdp" else np.sqrt(pop * gdp)


def _column(cities: pd.DataFrame, name: str) -> np.ndarray:
    if name not in cities.columns:
        return np.full(len(cities), np.nan)
    return pd.to_numeric(cities[name], errors="coerce").to_numpy(dtype=float)


def _require(cities: pd.DataFrame, values: np.ndarray, *, quantity: str, mass: str) -> None:
    """Raise when a city lacks the value ``mass`` needs, naming the cities and the remedy."""
    missing = ~np.isfinite(values) | (values <= 0)
    if not missing.any():
        return
    names = cities["name_zh"] if "name_zh" in cities.columns else cities["adcode"]
    which = ", ".join(f"{n} ({a})" for n, a in zip(names[missing], cities["adcode"][missing],
                                                    strict=True))
    column = "population" if quantity == "population" else "gdp"
    unit = "persons" if quantity == "population" else "亿元, 100 million CNY"
    raise DataError(f"transport.mass {mass!r} needs a {quantity} for every city; missing for "
                    f"{which}. Give them in transport.mass_table: a CSV with columns adcode,"
                    f"{column} ({unit}), e.g. docs/mass_table_example.csv")


def _mass_column(seats: pd.DataFrame, column: str) -> Any:
    """Return a mass column of the seats for the city table (counts, years: nullable ints)."""
    present = column in seats.columns
    if column in ("population", "population_year", "gdp_year"):
        values = pd.to_numeric(seats[column], errors="coerce") if present else [pd.NA] * len(seats)
        return pd.array(values, dtype="Int64")
    if column == "gdp":
        return (pd.to_numeric(seats[column], errors="coerce").to_numpy(dtype=float) if present
                else np.full(len(seats), np.nan))
    return seats[column].fillna("").astype(str).to_numpy() if present else [""] * len(seats)


def watt(T: np.ndarray, M: np.ndarray) -> np.ndarray:
    """Weighted average travel time WATT_i = Σ_j T_ij M_j / Σ_j M_j over reachable j ≠ i."""
    T = np.asarray(T, dtype=float)
    ok = np.isfinite(T) & _offdiag(len(T))
    w = np.where(ok, M[None, :], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.where(ok, T, 0.0) * w).sum(axis=1) / w.sum(axis=1)


def access_coefficient(watt_min: np.ndarray) -> np.ndarray:
    """A'_i = WATT_i / mean_k WATT_k (< 1: better than the cluster average)."""
    return watt_min / np.nanmean(watt_min)


def daily_accessibility(T: np.ndarray, M: np.ndarray, threshold_min: float) -> tuple[np.ndarray,
                                                                                      np.ndarray]:
    """DA_i(τ) = Σ_{j≠i} M_j [T_ij ≤ τ], and its share of the *other* cities' mass Σ_{j≠i} M_j.

    The share's denominator leaves the city's own mass out, like the numerator: 1 means every
    other city of the cluster lies within τ, whatever the city's own size (docs/metrics.md).
    """
    T = np.asarray(T, dtype=float)
    off = _offdiag(len(T))
    within = off & np.isfinite(T) & (np.nan_to_num(T, nan=np.inf) <= threshold_min)
    da = (within * M[None, :]).sum(axis=1)
    total = (off * M[None, :]).sum(axis=1)
    return da, da / total


def potential_accessibility(T: np.ndarray, M: np.ndarray, *, decay: str = "power",
                            a: float = 1.0, beta_per_min: float = 0.01) -> np.ndarray:
    """P_i = Σ_{j≠i} M_j / T_ij^a (``power``) or Σ_{j≠i} M_j exp(−β T_ij) (``exponential``)."""
    T = np.asarray(T, dtype=float)
    ok = np.isfinite(T) & _offdiag(len(T))
    Tz = np.where(ok, T, 1.0)
    if decay == "power":
        f = Tz ** (-a)
    elif decay == "exponential":
        f = np.exp(-beta_per_min * Tz)
    else:
        raise DataError(f"transport.potential.decay {decay!r} unknown; expected power or "
                        f"exponential")
    return np.where(ok, f * M[None, :], 0.0).sum(axis=1)


def linkage_strength(T: np.ndarray, M: np.ndarray, *, k: float = 1.0,
                     b: float = 2.0) -> np.ndarray:
    """Return the gravity linkage R_ij = k · M_i · M_j / T_ij^b.

    T in minutes; NaN when unreachable, 0 on the diagonal. With ``M = sqrt(P·G)`` this is the
    textbook economic linkage.
    """
    T = np.asarray(T, dtype=float)
    ok = np.isfinite(T) & _offdiag(len(T))
    R = np.full(T.shape, np.nan)
    R[ok] = k * np.outer(M, M)[ok] / T[ok] ** b
    np.fill_diagonal(R, 0.0)
    return R


def linkage_membership(R: np.ndarray) -> np.ndarray:
    """F_ij = R_ij / Σ_j R_ij (row-wise, unreachable pairs NaN)."""
    total = np.nansum(R, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return R / total


def detour_index(D: np.ndarray, E: np.ndarray) -> np.ndarray:
    """C_ij = D_ij / E_ij (NaN on the diagonal and for unreachable pairs)."""
    D = np.asarray(D, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        C = D / E
    C[~_offdiag(len(D))] = np.nan
    C[~np.isfinite(C)] = np.nan
    return C


def mean_straightness(D: np.ndarray, E: np.ndarray) -> float:
    """Mean straightness Σ_{i≠j} E_ij / D_ij / (n(n−1)); unreachable pairs contribute 0.

    The mean over ordered pairs of straight-line over network distance (Porta et al. 2006 call
    the per-node version straightness centrality); 1 = straight roads between every pair. Not
    Latora–Marchiori efficiency (:func:`global_efficiency`).
    """
    n = len(D)
    off = _offdiag(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(np.isfinite(D) & off & (D > 0), E / D, 0.0)
    return float(r[off].sum() / (n * (n - 1))) if n > 1 else float("nan")


def global_efficiency(D: np.ndarray, E: np.ndarray) -> float:
    """Latora–Marchiori global efficiency of the seats, normalised by the ideal network.

    E_glob = Σ_{i≠j} 1/D_ij / Σ_{i≠j} 1/E_ij (Latora & Marchiori 2001, Phys. Rev. Lett. 87,
    198701): the efficiency (1/(n(n−1))) Σ 1/d_ij of the road network over the efficiency of
    the ideal network that joins every pair by a straight line of length E_ij (the
    1/(n(n−1)) factors cancel). Unreachable pairs contribute 1/∞ = 0 to the numerator. 1 =
    every pair joined by a straight road; unlike :func:`mean_straightness` the short pairs
    weigh most.
    """
    n = len(D)
    off = _offdiag(n)
    D = np.asarray(D, dtype=float)
    E = np.asarray(E, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        network = np.where(np.isfinite(D) & off & (D > 0), 1.0 / D, 0.0)
        ideal = np.where(off & (E > 0), 1.0 / E, 0.0)
    return float(network[off].sum() / ideal[off].sum()) if ideal[off].sum() > 0 \
        else float("nan")


def harmonic_efficiency(T: np.ndarray) -> float:
    """Σ_{i≠j} 1/T_ij / (n(n−1)), per minute; unreachable pairs contribute 0.

    Latora–Marchiori efficiency on travel times, not normalised (no ideal network in time).
    """
    n = len(T)
    off = _offdiag(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(np.isfinite(T) & off & (T > 0), 1.0 / T, 0.0)
    return float(r[off].sum() / (n * (n - 1))) if n > 1 else float("nan")


def mean_travel_time(T: np.ndarray) -> float:
    """Mean of T_ij over reachable ordered pairs i ≠ j (minutes)."""
    vals = np.asarray(T, dtype=float)[_offdiag(len(T))]
    vals = vals[np.isfinite(vals)]
    return float(vals.mean()) if len(vals) else float("nan")


def city_table(
    seats: pd.DataFrame,
    *,
    T: np.ndarray,
    masses: np.ndarray,
    snap: pd.DataFrame,
    thresholds_h: Sequence[float] = (1, 2, 3),
    decay: str = "power",
    a: float = 1.0,
    beta_per_min: float = 0.01,
    k: float = 1.0,
    b: float = 2.0,
) -> pd.DataFrame:
    """Per-city indices: the columns of ``accessibility.csv`` (docs/architecture.md).

    Columns: ``adcode``, ``name_zh``, ``name_en``, the mass columns of the seats
    (:data:`agglonet.retrieve.census.MASS_COLUMNS`: ``population``, ``population_year``,
    ``population_source``, ``population_note``, ``gdp``, ``gdp_year``, ``gdp_source``,
    ``gdp_note``; empty where the seats lack them), ``mass``, ``snap_distance_m``,
    ``access_leg_min``, ``watt_min``, ``access_coef``, ``daily_access_{h}h`` and
    ``daily_access_{h}h_share`` per threshold, ``potential_access``, ``linkage_total``,
    ``reachable_all``.
    """
    M = np.asarray(masses, dtype=float)
    w = watt(T, M)
    out = pd.DataFrame({
        "adcode": seats["adcode"].astype(str).to_numpy(),
        "name_zh": seats.get("name_zh", pd.Series([None] * len(seats))).to_numpy(),
        "name_en": seats.get("name_en", pd.Series([None] * len(seats))).to_numpy(),
    })
    for col in MASS_COLUMNS:
        out[col] = _mass_column(seats, col)
    out = out.assign(mass=M, snap_distance_m=snap["snap_distance_m"].to_numpy(),
                     access_leg_min=snap["access_leg_min"].to_numpy(), watt_min=w,
                     access_coef=access_coefficient(w))
    for h in thresholds_h:
        label = f"{h:g}"
        da, share = daily_accessibility(T, M, h * 60.0)
        out[f"daily_access_{label}h"] = da
        out[f"daily_access_{label}h_share"] = share
    out["potential_access"] = potential_accessibility(T, M, decay=decay, a=a,
                                                      beta_per_min=beta_per_min)
    out["linkage_total"] = np.nansum(linkage_strength(T, M, k=k, b=b), axis=1)
    out["reachable_all"] = np.isfinite(np.asarray(T, dtype=float)).all(axis=1)
    if np.all(np.round(M) == M) and np.all(np.abs(M) < 2**53):  # whole masses stay whole
        out["mass"] = M.astype(np.int64)
        for h in thresholds_h:
            out[f"daily_access_{h:g}h"] = out[f"daily_access_{h:g}h"].round().astype(np.int64)
    return out


def od_table(
    seats: pd.DataFrame,
    *,
    T: np.ndarray,
    D: np.ndarray,
    E: np.ndarray,
    R: np.ndarray,
    threshold_quantile: float = 0.5,
) -> pd.DataFrame:
    """Long OD table, one row per ordered pair i ≠ j, sorted by (origin, destination).

    Columns: ``origin_adcode``, ``dest_adcode``, ``origin_name``, ``dest_name``,
    ``travel_time_min``, ``network_km``, ``euclid_km``, ``detour_index``, ``linkage_strength``,
    ``membership`` (F_ij), ``in_linkage_network`` (R_ij above the ``threshold_quantile`` of all
    reachable R), ``reachable``.
    """
    codes = seats["adcode"].astype(str).to_numpy()
    names = (seats["name_en"] if "name_en" in seats else seats["adcode"]).astype(str).to_numpy()
    n = len(codes)
    ii, jj = np.nonzero(_offdiag(n))
    C = detour_index(D, E)
    F = linkage_membership(R)
    r_ok = R[ii, jj][np.isfinite(R[ii, jj])]
    cut = float(np.quantile(r_ok, threshold_quantile)) if len(r_ok) else np.inf
    table = pd.DataFrame({
        "origin_adcode": codes[ii], "dest_adcode": codes[jj],
        "origin_name": names[ii], "dest_name": names[jj],
        "travel_time_min": T[ii, jj], "network_km": D[ii, jj], "euclid_km": E[ii, jj],
        "detour_index": C[ii, jj], "linkage_strength": R[ii, jj], "membership": F[ii, jj],
        "in_linkage_network": np.nan_to_num(R[ii, jj], nan=-np.inf) > cut,
        "reachable": np.isfinite(T[ii, jj]),
    })
    return table.sort_values(["origin_adcode", "dest_adcode"]).reset_index(drop=True)


def od_links(seats: gpd.GeoDataFrame, od: pd.DataFrame) -> gpd.GeoDataFrame:
    """One straight line per **unordered** pair of seats for maps.

    ``travel_time_min``, ``network_km``, ``detour_index``, ``linkage_strength`` are the means of
    the two directions (``travel_time_ab_min`` / ``travel_time_ba_min`` keep each direction; a
    is the seat with the smaller adcode); ``in_linkage_network`` is True if either direction is.
    """
    pts = dict(zip(seats["adcode"].astype(str), seats.geometry, strict=True))
    fwd = od[od["origin_adcode"] < od["dest_adcode"]].set_index(["origin_adcode", "dest_adcode"])
    back = od[od["origin_adcode"] > od["dest_adcode"]].copy()
    back.index = pd.MultiIndex.from_arrays([back["dest_adcode"], back["origin_adcode"]])
    back = back.reindex(fwd.index)
    rows = pd.DataFrame({
        "a_adcode": fwd.index.get_level_values(0), "b_adcode": fwd.index.get_level_values(1),
        "a_name": fwd["origin_name"].to_numpy(), "b_name": fwd["dest_name"].to_numpy(),
        "travel_time_ab_min": fwd["travel_time_min"].to_numpy(),
        "travel_time_ba_min": back["travel_time_min"].to_numpy(),
    })
    for col in ("travel_time_min", "network_km", "detour_index", "linkage_strength"):
        rows[col] = (fwd[col].to_numpy() + back[col].to_numpy()) / 2.0
    rows["euclid_km"] = fwd["euclid_km"].to_numpy()
    rows["in_linkage_network"] = (fwd["in_linkage_network"].to_numpy()
                                  | back["in_linkage_network"].to_numpy().astype(bool))
    rows["reachable"] = (fwd["reachable"].to_numpy() & back["reachable"].to_numpy().astype(bool))
    geoms = [LineString([pts[a], pts[b]]) for a, b in zip(rows["a_adcode"], rows["b_adcode"],
                                                            strict=True)]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=seats.crs)


def cluster_summary(*, T: np.ndarray, D: np.ndarray, E: np.ndarray) -> dict[str, Any]:
    """Cluster-level OD figures: mean OD time, efficiencies, mean detour index, reachability."""
    C = detour_index(D, E)
    n = len(T)
    off = _offdiag(n)
    return {
        "od_mean_travel_time_min": mean_travel_time(T),
        "mean_straightness": mean_straightness(D, E),
        "global_efficiency": global_efficiency(D, E),
        "harmonic_efficiency": harmonic_efficiency(T),
        "detour_index_mean": float(np.nanmean(C[off])) if np.isfinite(C[off]).any()
        else float("nan"),
        "od_pairs": int(n * (n - 1)),
        "od_pairs_unreachable": int((~np.isfinite(np.asarray(T, dtype=float)[off])).sum()),
    }


def transport_results(
    G: Any,
    seats: gpd.GeoDataFrame,
    *,
    offroad_speed_kph: float = 5.0,
    mass: str = "population",
    thresholds_h: Sequence[float] = (1, 2, 3),
    decay: str = "power",
    a: float = 1.0,
    beta_per_min: float = 0.01,
    k: float = 1.0,
    b: float = 2.0,
    threshold_quantile: float = 0.5,
    max_access_km: float | None = None,
    cell_times: pd.DataFrame | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """OD matrices and every accessibility output of one cluster.

    Parameters
    ----------
    G
        Travel-time graph (:func:`agglonet.transport.loaders.load_roads`), in the working CRS.
    seats
        The ``seats`` layer (one point per member city, with the masses of
        :func:`agglonet.retrieve.census.assign_masses`); sorted by ``adcode`` here.
    offroad_speed_kph
        Access-leg speed (:func:`agglonet.transport.od.compute_od`).
    mass
        See :func:`load_masses`.
    thresholds_h, decay, a, beta_per_min, k, b, threshold_quantile
        Index parameters (config ``transport:``).
    max_access_km
        Seats farther than this from the road network are off it: their pairs are unreachable
        (``roads.diagnostics.max_seat_distance_km``; ``None``: no limit).
    cell_times
        Per-city travel times over the city's cells
        (:func:`agglonet.transport.surface.city_cell_times`), joined on ``adcode`` to the city
        table and the seats layer; ``None``: none.
    labels
        Columns added with one value to every table and layer (``roads_source`` and
        ``quality``: :meth:`agglonet.quality.QualityFact.transport_labels`); ``None``: none.

    Returns
    -------
    dict
        ``od`` (long table), ``cities`` (accessibility table), ``seats`` (GeoDataFrame of the
        seats with the per-city indices), ``od_links`` (GeoDataFrame), ``summary`` (dict).
    """
    from agglonet.transport.graph import road_graph_indices, undirected_length_m
    from agglonet.transport.od import compute_od

    seats = seats.sort_values("adcode").reset_index(drop=True).to_crs(G.graph["crs"])
    M = load_masses(seats, mass=mass)
    res = compute_od(G, seats, offroad_speed_kph=offroad_speed_kph,
                     max_access_m=None if max_access_km is None else max_access_km * 1000.0)
    T, D, E = res.time_min, res.network_km, res.euclid_km
    R = linkage_strength(T, M, k=k, b=b)
    cities = city_table(seats, T=T, masses=M, snap=res.snap, thresholds_h=thresholds_h,
                        decay=decay, a=a, beta_per_min=beta_per_min, k=k, b=b)
    if cell_times is not None:
        cities = cities.merge(cell_times.assign(adcode=cell_times["adcode"].astype(str)),
                              on="adcode", how="left", validate="one_to_one")
    od = od_table(seats, T=T, D=D, E=E, R=R, threshold_quantile=threshold_quantile)
    links = od_links(seats, od)
    labels = dict(labels or {})
    seat_layer = gpd.GeoDataFrame(
        cities.assign(snap_node=res.snap["node"].to_numpy(), **labels),
        geometry=seats.geometry.to_numpy(), crs=seats.crs)
    cities, od, links = (frame.assign(**labels) for frame in (cities, od, links))
    gi = road_graph_indices(G)
    summary = cluster_summary(T=T, D=D, E=E)
    summary.update({
        "road_alpha": gi["alpha"], "road_beta": gi["beta"], "road_gamma": gi["gamma"],
        "road_mu": gi["mu"], "road_n_nodes": int(gi["n_nodes"]),
        "road_n_edges": int(gi["n_edges"]),
        "road_indices_graph": "undirected simple graph of the largest strongly connected "
                              "component of the simplified road network",
        "road_n_directed_edges": G.number_of_edges(),
        # each two-way road once (the length of osmnx's to_undirected graph)
        "road_length_km": undirected_length_m(G) / 1000.0,
        "roads_source": G.graph.get("roads_source"),
        "n_cities": len(seats),
        "mass": mass,
        "snap_distance_m_max": float(res.snap["snap_distance_m"].max()),
        "snap_distance_m_mean": float(res.snap["snap_distance_m"].mean()),
        "offroad_speed_kph": offroad_speed_kph,
        "linkage_threshold_quantile": threshold_quantile,
        "linkage_network_pairs": int(od["in_linkage_network"].sum()),
        "od_pairs_kind": "ordered pairs in od.csv; unordered pairs (mean of both directions) "
                         "in the od_links layer",
        "travel_time_definition": "seat-to-seat: access leg at the off-road speed at both ends "
                                  "plus the fastest network path; network_km is the length "
                                  "of that fastest path plus the access legs",
    })
    return {"od": od, "cities": cities, "seats": seat_layer, "od_links": links,
            "summary": summary}
