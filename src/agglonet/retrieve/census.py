"""City masses: 2020 census populations and GDP, a user's own table, and the GeoNames fallback.

The mass of a city (its weight in WATT, daily and potential accessibility and the gravity
linkage) is chosen once, per city and per quantity, by :func:`assign_masses`:

1. the user's table (``transport.mass_table``: a CSV with ``adcode`` and ``population`` and/or
   ``gdp``, read and checked by :func:`load_mass_table`), where it has a value;
2. else the fact table shipped with agglonet (:func:`load_census_table`): the resident
   population (常住人口) of the whole prefecture at the Seventh National Population Census
   (2020-11-01) and the 2020 GDP, each value with the id of the page it was read on
   (``agglonet/data/china_prefecture_stats.md``);
3. else, for the population only, the GeoNames population of the seat (an *urban* population of
   the seat, a different definition), with a warning and ``population_source`` saying so.

A member made of some counties of a city (a custom cluster's ``{city: ..., counties: [...]}``)
skips step 2: the census figure is that of the whole city.

The chosen values travel in the ``seats`` layer of ``resources/{cluster}/seats.gpkg`` and from there
into ``cities.gpkg``, ``cities.csv``, ``accessibility.csv`` and the transport ``seats`` layer, as
the columns :data:`MASS_COLUMNS`.
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agglonet.errors import ConfigError, DataError
from agglonet.provenance import SourceRecord, record_package_file, record_user_file
from agglonet.retrieve.clusters import cluster_members, load_catalogue

logger = logging.getLogger(__name__)

#: File name of the shipped fact table (``agglonet/data/``) and of its documentation.
CENSUS_TABLE = "china_prefecture_stats.csv"
CENSUS_NOTES = "china_prefecture_stats.md"
#: Census standard time of the Seventh National Population Census: 2020-11-01 00:00.
CENSUS_YEAR = 2020
#: Year of the shipped GDP column (``gdp_2020_100m_yuan``).
GDP_YEAR = 2020
#: Prefixes of ``population_source`` / ``gdp_source`` for values of the shipped table.
CENSUS_PREFIX = "census2020"
GDP_PREFIX = "gdp2020"

#: Per-city mass columns, in the order written (``gdp`` in 亿元 = 100 million CNY, current prices).
MASS_COLUMNS = ("population", "population_year", "population_source", "population_note",
                "gdp", "gdp_year", "gdp_source", "gdp_note")

_CENSUS_COLUMNS = ("adcode", "name_zh", "name_en", "province_zh", "pop_census_2020",
                   "pop_census_2020_note", "gdp_2020_100m_yuan", "gdp_2020_note",
                   "gdp_2022_100m_yuan", "source_pop", "source_gdp")
#: Columns a user mass table may have: values, their year and source (``year``/``source`` for
#: both values of a row, ``population_year`` etc. for one), and labels that are ignored.
USER_VALUE_COLUMNS = ("population", "gdp", "year", "source", "population_year", "gdp_year",
                      "population_source", "gdp_source")
USER_LABEL_COLUMNS = ("name", "name_zh", "name_en", "province_zh", "note")
#: A city GDP above this (亿元) is taken for a unit mistake (all China 2020: about 1.0e6 亿元).
MAX_CITY_GDP_100M_YUAN = 100_000.0


# ----------------------------------------------------------------------------- shipped table
def census_table_path() -> Path:
    """Path of the shipped fact table ``agglonet/data/china_prefecture_stats.csv``."""
    return Path(str(importlib.resources.files("agglonet").joinpath("data", CENSUS_TABLE)))


def load_census_table(path: str | Path | None = None) -> pd.DataFrame:
    """Read and check the census/GDP fact table.

    Parameters
    ----------
    path
        A table with the columns of the shipped one; default :func:`census_table_path`.

    Returns
    -------
    pandas.DataFrame
        One row per adcode (6-digit text), sorted by adcode: ``name_zh``, ``name_en``,
        ``province_zh``, ``pop_census_2020`` (nullable Int64, persons),
        ``pop_census_2020_note``, ``gdp_2020_100m_yuan`` (float, NaN where unknown),
        ``gdp_2020_note``, ``gdp_2022_100m_yuan``, ``source_pop``, ``source_gdp`` (text, empty
        where no value).

    Raises
    ------
    DataError
        A missing column, a duplicated or malformed adcode, a non-positive or non-numeric
        value, or a value without its source id (naming the file and the adcode).
    """
    path = Path(path) if path is not None else census_table_path()
    return _load_census_cached(str(path), path.stat().st_mtime_ns).copy()


@functools.lru_cache(maxsize=4)
def _load_census_cached(path: str, mtime_ns: int) -> pd.DataFrame:
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if missing := [c for c in _CENSUS_COLUMNS if c not in raw.columns]:
        raise DataError(f"{path}: census table lacks columns {missing}; expected "
                        f"{list(_CENSUS_COLUMNS)}")
    table = raw[list(_CENSUS_COLUMNS)].apply(lambda col: col.str.strip())
    bad = table.loc[~table["adcode"].str.fullmatch(r"\d{6}"), "adcode"].tolist()
    if bad:
        raise DataError(f"{path}: adcodes {bad} are not 6-digit codes")
    if dup := sorted(set(table.loc[table["adcode"].duplicated(), "adcode"])):
        raise DataError(f"{path}: adcodes {dup} appear more than once")
    for value, source in (("pop_census_2020", "source_pop"), ("gdp_2020_100m_yuan", "source_gdp"),
                          ("gdp_2022_100m_yuan", "source_gdp")):
        unsourced = table.loc[(table[value] != "") & (table[source] == ""), "adcode"].tolist()
        if unsourced:
            raise DataError(f"{path}: {value} of {unsourced} has no {source}; every value needs "
                            f"the id of the page it was read on")
    table["pop_census_2020"] = _positive_numbers(
        table["pop_census_2020"], what=f"{path}: pop_census_2020", codes=table["adcode"],
        whole=True).astype("Int64")
    for col in ("gdp_2020_100m_yuan", "gdp_2022_100m_yuan"):
        table[col] = _positive_numbers(table[col], what=f"{path}: {col}", codes=table["adcode"],
                                       whole=False)
    return table.sort_values("adcode").reset_index(drop=True)


def _positive_numbers(values: pd.Series, *, what: str, codes: Sequence[str],
                      whole: bool) -> pd.Series:
    """Text cells as floats (empty → NaN); anything else than a positive number is an error."""
    out = []
    for code, text in zip(codes, values, strict=True):
        if text == "":
            out.append(np.nan)
            continue
        number = _number(text)
        if number is None or number <= 0 or (whole and not number.is_integer()):
            kind = "a positive whole number" if whole else "a positive number"
            raise DataError(f"{what} of {code} is {text!r}; expected {kind} or an empty cell")
        out.append(number)
    return pd.Series(out, index=values.index, dtype=float)


def _number(text: str) -> float | None:
    """Parse a plain decimal (thousand separators ``,`` and ``_`` allowed); None if not one."""
    cleaned = str(text).strip().replace(",", "").replace("_", "")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", cleaned):
        return None
    number = float(cleaned)
    return number if np.isfinite(number) else None


def census_record(path: str | Path | None = None) -> SourceRecord:
    """Provenance record of the census/GDP fact table."""
    path = Path(path) if path is not None else census_table_path()
    return record_package_file(
        path, name="population_census2020", distribution="agglonet",
        provider="agglonet (shipped fact table)",
        licence="facts from public statistical releases; page terms in " + CENSUS_NOTES,
        citation="Seventh National Population Census of China (2020-11-01), resident "
                 "population (常住人口) by prefecture, and GDP 2020; every value with the page "
                 f"it was read on in agglonet/data/{CENSUS_NOTES} and data/sources/",
        url=f"agglonet/data/{CENSUS_NOTES}")


def census_gaps(table: pd.DataFrame | None = None, *, column: str = "pop_census_2020"
                ) -> pd.DataFrame:
    """Rows of the fact table without a value in ``column`` (``adcode``, names, province)."""
    table = load_census_table() if table is None else table
    gaps = table[table[column].isna()]
    return gaps[["adcode", "name_zh", "name_en", "province_zh"]].reset_index(drop=True)


def gaps_markdown(table: pd.DataFrame | None = None, *,
                  catalogue_path: str | Path | None = None) -> str:
    """Markdown list of the catalogue members without a census population or a 2020 GDP.

    The README's list between ``<!-- census-gaps:start -->`` and ``<!-- census-gaps:end -->``
    is this text (a test checks it): regenerate it with
    ``python -c "from agglonet.retrieve.census import gaps_markdown; print(gaps_markdown())"``.
    """
    table = load_census_table() if table is None else table
    catalogue = load_catalogue(catalogue_path)
    clusters_of: dict[str, list[str]] = {}
    for key, entry in catalogue.items():
        for member in entry["members"]:
            clusters_of.setdefault(member["adcode"], []).append(key)
    pop_gaps = census_gaps(table)
    lines = [f"Population (census 2020) missing for {len(pop_gaps)} of {len(table)} members "
             "(these fall back to the GeoNames seat population):", ""]
    lines += [f"- {r.name_zh} {r.name_en} ({r.adcode}, {r.province_zh}; "
              f"{', '.join(clusters_of.get(r.adcode, ['no catalogue cluster']))})"
              for r in pop_gaps.itertuples()] or ["- none"]
    gdp_missing = set(census_gaps(table, column="gdp_2020_100m_yuan")["adcode"])
    names = dict(zip(table["adcode"], table["name_zh"], strict=True))
    lines += ["", f"GDP 2020 missing for {len(gdp_missing)} of {len(table)} members (needed only "
              "for `transport.mass: gdp` or `sqrt_pop_gdp`; give them in "
              "`transport.mass_table`):", ""]
    for key, entry in catalogue.items():
        codes = sorted({m["adcode"] for m in entry["members"]} & gdp_missing)
        listed = ", ".join(f"{names.get(c, c)} {c}" for c in codes) or "none"
        lines.append(f"- `{key}`: {listed}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- user table
def run_members(clusters: Iterable[str], *, config: Mapping[str, Any]) -> pd.DataFrame:
    """Member cities of every cluster of a run: ``cluster``, ``adcode``, ``name_zh``, ``counties``.

    A user mass table may cover all the clusters of a run; its adcodes are checked against these.
    """
    frames = [cluster_members(key, config=config).assign(cluster=key) for key in clusters]
    if not frames:
        raise ConfigError("no clusters to run; config.clusters is empty")
    columns = ["cluster", "adcode", "name_zh", "counties"]
    return pd.concat([f[columns] for f in frames], ignore_index=True)


def load_mass_table(path: str | Path, *, members: pd.DataFrame | None = None) -> pd.DataFrame:
    """Read and check a user mass table (``transport.mass_table``).

    Parameters
    ----------
    path
        CSV (UTF-8) with a header: ``adcode`` and at least one of ``population`` (persons) and
        ``gdp`` (亿元, 100 million CNY); optional ``year`` and ``source`` (a citation, copied
        into ``population_source``/``gdp_source``) for both values of the row, or
        ``population_year``, ``gdp_year``, ``population_source``, ``gdp_source`` for one (these
        win over ``year``/``source``). Label columns ``name``, ``name_zh``, ``name_en``,
        ``province_zh``, ``note`` are ignored. An empty cell means "no value here": the census
        table (then GeoNames) is used.
    members
        Members of the run's clusters (:func:`run_members`: ``cluster``, ``adcode``,
        ``name_zh``); when given, every adcode must be one of them.

    Returns
    -------
    pandas.DataFrame
        ``adcode``, ``population`` (Int64), ``population_year`` (Int64), ``population_label``,
        ``gdp`` (float), ``gdp_year`` (Int64), ``gdp_label``, ``line`` (line in the file); a
        label is ``user:<file name>``, with `` (<source>)`` when a source is given.

    Raises
    ------
    ConfigError
        The file does not exist.
    DataError
        No ``adcode`` column, no value column, an unknown column, a malformed or repeated
        adcode, an adcode outside the run's clusters (with the closest member), a non-numeric,
        non-positive or fractional population, a GDP that is not a positive number of 亿元, or a
        bad year; each message names the file, the line and the value.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"transport.mass_table {str(path)!r} does not exist; expected a CSV "
                          "with columns adcode and population and/or gdp")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: not a readable UTF-8 CSV table ({err})") from err
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    _check_user_columns(raw, path=path)
    raw = raw.apply(lambda col: col.str.strip())
    lines = list(range(2, len(raw) + 2))  # line 1 is the header
    codes = [user_adcode(a, path=path, line=n) for a, n in zip(raw["adcode"], lines,
                                                                  strict=True)]
    _check_duplicates(codes, lines, path=path)
    if members is not None:
        _check_membership(codes, lines, members, path=path)
    def cells(column: str, fallback: str = "") -> list[tuple[str, str]]:
        """(text, column it came from) per row: ``column``, else ``fallback`` where empty."""
        own = raw[column].tolist() if column in raw.columns else [""] * len(raw)
        other = raw[fallback].tolist() if fallback in raw.columns else [""] * len(raw)
        return [(c, column) if c or not o else (o, fallback)
                for c, o in zip(own, other, strict=True)]

    out = pd.DataFrame({"adcode": codes})
    for quantity, dtype in (("population", "Int64"), ("gdp", "float")):
        out[quantity] = pd.array([_user_value(v, column=quantity, path=path, line=n)
                                  for (v, _), n in zip(cells(quantity), lines, strict=True)],
                                 dtype=dtype)
        out[f"{quantity}_year"] = pd.array(
            [_user_year(v, column=col, path=path, line=n)
             for (v, col), n in zip(cells(f"{quantity}_year", "year"), lines, strict=True)],
            dtype="Int64")
        out[f"{quantity}_label"] = [f"user:{path.name}" + (f" ({s})" if s else "")
                                    for s, _ in cells(f"{quantity}_source", "source")]
    out["line"] = lines
    return out


def _check_user_columns(raw: pd.DataFrame, *, path: Path) -> None:
    columns = list(raw.columns)
    expected = ("adcode and population and/or gdp (optional: year, source, population_year, "
                "gdp_year, population_source, gdp_source)")
    if "adcode" not in columns:
        raise DataError(f"{path}: no 'adcode' column (columns: {columns}); expected {expected}")
    allowed = {"adcode", *USER_VALUE_COLUMNS, *USER_LABEL_COLUMNS}
    if unknown := [c for c in columns if c not in allowed]:
        raise DataError(f"{path}: unknown columns {unknown}; expected {expected}, and the label "
                        f"columns {', '.join(USER_LABEL_COLUMNS)} are ignored")
    if not {"population", "gdp"} & set(columns):
        raise DataError(f"{path}: neither a 'population' nor a 'gdp' column (columns: "
                        f"{columns}); expected {expected}")
    if dup := sorted({c for c in columns if columns.count(c) > 1}):
        raise DataError(f"{path}: columns {dup} appear more than once")


def user_adcode(value: str, *, path: Path, line: int) -> str:
    """Return the 6-digit adcode of a user table's cell (a leading ``156`` country code dropped).

    Raises
    ------
    DataError
        Naming the file and line, when the cell is not a 6-digit code.
    """
    text = str(value).strip()
    if re.fullmatch(r"156\d{6}", text):
        text = text[3:]
    if not re.fullmatch(r"\d{6}", text):
        raise DataError(f"{path}, line {line}: adcode {value!r} is not a 6-digit code "
                        "(e.g. 410100)")
    return text


def _check_duplicates(codes: Sequence[str], lines: Sequence[int], *, path: Path) -> None:
    first: dict[str, int] = {}
    for code, line in zip(codes, lines, strict=True):
        if code in first:
            raise DataError(f"{path}, line {line}: adcode {code} appears again (first on line "
                            f"{first[code]}); give each city once")
        first[code] = int(line)


def closest_member(adcode: str, members: pd.DataFrame) -> str:
    """Return the member whose adcode is closest to ``adcode``, as ``"410800 焦作市"``.

    Closest: the longest common leading digits (same province, same prefecture), then the
    smallest numeric difference, then the smaller adcode.
    """
    def prefix(code: str) -> int:
        return next((i for i, (a, b) in enumerate(zip(adcode, code, strict=True)) if a != b), 6)

    rows = members.drop_duplicates("adcode")
    best = min(zip(rows["adcode"], rows["name_zh"], strict=True),
               key=lambda r: (-prefix(r[0]), abs(int(r[0]) - int(adcode)), r[0]))
    return f"{best[0]} {best[1]}"


def _check_membership(codes: Sequence[str], lines: Sequence[int], members: pd.DataFrame, *,
                      path: Path) -> None:
    known = set(members["adcode"])
    clusters = ", ".join(dict.fromkeys(members["cluster"])) if "cluster" in members else ""
    census = load_census_table()
    names = dict(zip(census["adcode"], census["name_zh"], strict=True))
    for code, line in zip(codes, lines, strict=True):
        if code not in known:
            what = f"{code} ({names[code]})" if code in names else code
            raise DataError(f"{path}, line {line}: adcode {what} is not a member of the run's "
                            f"clusters ({clusters}); closest member: "
                            f"{closest_member(code, members)}")


def _user_value(value: str, *, column: str, path: Path, line: int) -> Any:
    if value == "":
        return pd.NA if column == "population" else np.nan
    number = _number(value)
    where = f"{path}, line {line}: {column} {value!r}"
    if number is None:
        raise DataError(f"{where} is not a number")
    if number <= 0:
        raise DataError(f"{where} is not positive; give a positive value or leave the cell empty")
    if column == "population":
        if not number.is_integer():
            raise DataError(f"{where} is not a whole number of persons")
        if number < 1000:
            logger.warning("%s is below 1000 persons: is it in 万人? populations are in persons",
                           where)
        return int(number)
    if number > MAX_CITY_GDP_100M_YUAN:
        raise DataError(f"{where} exceeds {MAX_CITY_GDP_100M_YUAN:,.0f} 亿元: give GDP in 亿元 "
                        "(100 million CNY), as in the shipped table")
    return number


def _user_year(value: str, *, column: str, path: Path, line: int) -> Any:
    if value == "":
        return pd.NA
    if not re.fullmatch(r"\d{4}", value) or not 1949 <= int(value) <= 2100:
        raise DataError(f"{path}, line {line}: {column} {value!r} is not a year (e.g. 2020)")
    return int(value)


def user_record(path: str | Path) -> SourceRecord:
    """Provenance record of a user mass table."""
    return record_user_file(path, name="mass_table",
                            citation=f"user-supplied population/GDP table {Path(path).name}")


# ----------------------------------------------------------------------------- choosing masses
def assign_masses(
    seats: pd.DataFrame,
    *,
    census: pd.DataFrame | None = None,
    user_table: pd.DataFrame | None = None,
    county_subsets: Collection[str] = (),
) -> pd.DataFrame:
    """Choose each city's population and GDP: user table > census table > GeoNames.

    Parameters
    ----------
    seats
        One row per city (:func:`agglonet.retrieve.seats.city_seats`): ``adcode``, ``name_zh``,
        ``population`` and ``population_source`` (the GeoNames figure and its ``geonames:<id>``).
    census
        :func:`load_census_table` (read when omitted).
    user_table
        :func:`load_mass_table` output, or None; its rows for other cities are ignored.
    county_subsets
        Adcodes of members that are only some counties of their city: their census values are
        for the whole city and are not used.

    Returns
    -------
    pandas.DataFrame
        ``seats`` (same rows and order) with ``population`` and ``population_source``
        replaced, the other :data:`MASS_COLUMNS` added after them, and the GeoNames figure kept
        as ``geonames_population``. ``population_source`` is ``census2020:<source id>``,
        ``user:<file> (<source>)`` or ``geonames:<id> (no census value ...)``;
        ``gdp_source`` is ``gdp2020:<source id>``, ``user:...`` or empty (no GDP known).
    """
    census = load_census_table() if census is None else census
    by_census = census.set_index("adcode")
    by_user = (user_table.set_index("adcode") if user_table is not None
               else pd.DataFrame(columns=["population", "gdp"]))
    subsets = set(county_subsets)
    rows = [_city_mass(code, name, geo_pop, geo_source,
                       census=by_census.loc[code] if code in by_census.index and code not in
                       subsets else None,
                       user=by_user.loc[code] if code in by_user.index else None,
                       subset=code in subsets)
            for code, name, geo_pop, geo_source in zip(
                seats["adcode"].astype(str), seats["name_zh"],
                pd.to_numeric(seats["population"], errors="coerce"),
                seats["population_source"].fillna(""), strict=True)]
    masses = pd.DataFrame(rows, columns=list(MASS_COLUMNS), index=seats.index)
    for col in ("population", "population_year", "gdp_year"):
        masses[col] = masses[col].astype("Int64")
    masses["gdp"] = masses["gdp"].astype(float)
    out = seats.drop(columns=["population", "population_source"]).copy()
    out.insert(list(out.columns).index("name_en") + 1 if "name_en" in out.columns else 1,
               "geonames_population", pd.to_numeric(seats["population"], errors="coerce")
               .astype("Int64"))
    at = list(out.columns).index("geonames_population")
    for i, col in enumerate(MASS_COLUMNS):
        out.insert(at + i, col, masses[col])
    return out


def _city_mass(code: str, name: str, geo_pop: float, geo_source: str, *, census: Any,
               user: Any, subset: bool) -> dict[str, Any]:
    """Mass values of one city (see :func:`assign_masses`)."""
    row: dict[str, Any] = dict.fromkeys(MASS_COLUMNS, pd.NA)
    row.update(population_note="", gdp=np.nan, gdp_source="", gdp_note="")
    if user is not None and pd.notna(user["population"]):
        row.update(population=int(user["population"]), population_year=user["population_year"],
                   population_source=user["population_label"])
    elif census is not None and pd.notna(census["pop_census_2020"]):
        row.update(population=int(census["pop_census_2020"]), population_year=CENSUS_YEAR,
                   population_source=f"{CENSUS_PREFIX}:{census['source_pop']}",
                   population_note=census["pop_census_2020_note"])
    else:
        why = ("census value covers the whole city; member is some of its counties" if subset
               else "no census value")
        if pd.notna(geo_pop) and geo_source.startswith("geonames:"):
            ident, _, detail = geo_source.partition(" ")
            detail = detail.strip("()")
            row.update(population=int(geo_pop),
                       population_source=f"{ident} ({why}{'; ' + detail if detail else ''})")
            logger.warning("%s (%s): %s; using the GeoNames population of the seat (%d, an urban "
                           "population, not the prefecture's residents)", name, code, why,
                           int(geo_pop))
        else:
            row.update(population_source=f"none ({why}; no GeoNames figure)")
            logger.warning("%s (%s): %s and no GeoNames figure; population unknown", name, code,
                           why)
    if user is not None and pd.notna(user["gdp"]):
        row.update(gdp=float(user["gdp"]), gdp_year=user["gdp_year"],
                   gdp_source=user["gdp_label"])
    elif census is not None and pd.notna(census["gdp_2020_100m_yuan"]):
        row.update(gdp=float(census["gdp_2020_100m_yuan"]), gdp_year=GDP_YEAR,
                   gdp_source=f"{GDP_PREFIX}:{census['source_gdp']}",
                   gdp_note=census["gdp_2020_note"])
    return row


# ----------------------------------------------------------------------------- summaries
def source_kind(source: str) -> str:
    """Return the kind of a ``population_source`` or ``gdp_source``.

    One of ``census2020``, ``gdp2020``, ``user``, ``geonames`` and ``none``.
    """
    head = str(source).split(":", 1)[0].split(" ", 1)[0].strip()
    return head if head in {CENSUS_PREFIX, GDP_PREFIX, "user", "geonames"} else "none"


def summarise_sources(sources: Iterable[str]) -> str:
    """One label for the sources of a cluster's values.

    The kind when all share one (``census2020``), else the counts in a fixed order
    (``census2020 ×8, geonames ×1``).
    """
    kinds = [source_kind(s) for s in sources]
    order = [CENSUS_PREFIX, GDP_PREFIX, "user", "geonames", "none"]
    counts = {k: kinds.count(k) for k in order if k in kinds}
    if len(counts) == 1:
        return next(iter(counts))
    return ", ".join(f"{k} ×{n}" for k, n in counts.items())


def summarise_years(years: Iterable[Any]) -> str:
    """Return the year all values share (``2020``), ``mixed`` if they differ, empty if none."""
    years = list(years)
    known = [y for y in years if pd.notna(y) and str(y).strip() != ""]
    values = {int(float(y)) for y in known}
    if len(values) == 1 and len(known) == len(years):
        return str(values.pop())
    return "mixed" if values else ""


def exact_text(values: Iterable[Any]) -> list[str]:
    """Numbers as the shortest text that reads back to the same float (``10020.39``, ``12003``).

    For facts written into tables whose other floats are rounded to ``metrics.float_precision``.
    """
    return ["" if pd.isna(v) else np.format_float_positional(float(v), unique=True, trim="-")
            for v in values]
