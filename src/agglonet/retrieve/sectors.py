"""A user's table of the economy by sector (``economy.sector_table``): read and checked.

The industrial-structure measures (:mod:`agglonet.metrics.structure`) need, per city, a value per
sector: value added (output) or employment, in any unit as long as it is one unit for the whole
table. The table is long: one row per city and sector (``docs/sector_table.md``)::

    adcode,sector,value,year,source
    410700,primary,293.36,2020,"新乡市2020年国民经济和社会发展统计公报"
    410700,secondary,1352.45,2020,...

Columns: ``adcode`` (6-digit code of a prefecture-level city, or ``156`` + code), ``sector``
(any name, the same spelling for every city), ``value`` (≥ 0); optional ``year``, ``source``,
``unit`` (one value for the whole table), and the labels ``name``, ``name_zh``, ``name_en``,
``note``, which are ignored.

:func:`load_sector_table` checks the file on its own; :func:`cluster_sectors` checks it against
one cluster's members. Both raise :class:`~agglonet.errors.DataError` naming the file, the line and
the value, and the start-up checks (:mod:`agglonet.preflight`) call them before any job runs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd

from agglonet.errors import ConfigError, DataError
from agglonet.provenance import SourceRecord, record_user_file
from agglonet.retrieve.census import user_adcode

logger = logging.getLogger(__name__)

#: Columns the table must have.
SECTOR_REQUIRED_COLUMNS = ("adcode", "sector", "value")
#: Optional columns that are read (``year``, ``source``, ``unit``) or ignored (labels).
SECTOR_OPTIONAL_COLUMNS = ("year", "source", "unit", "name", "name_zh", "name_en", "note")
#: What :attr:`economy.missing_cities` may say.
MISSING_POLICIES = ("error", "skip")
#: Where the format is documented (error messages point there).
TEMPLATE_DOC = "docs/sector_table.md"

_EXPECTED = (f"columns adcode, sector, value (optional: year, source, unit; labels name, "
             f"name_zh, name_en, note), one row per city and sector: see {TEMPLATE_DOC}")


def load_sector_table(path: str | Path, *, known_adcodes: Collection[str] | None = None
                      ) -> pd.DataFrame:
    """Read and check a sector table.

    Parameters
    ----------
    path
        The CSV (UTF-8, header line).
    known_adcodes
        Adcodes of every prefecture-level city (default: the boundary data's,
        :func:`agglonet.retrieve.boundaries.prefecture_table`); a code outside them is unknown.

    Returns
    -------
    pandas.DataFrame
        ``adcode``, ``sector``, ``value`` (float), ``year`` (Int64), ``source``, ``unit``,
        ``line`` (line in the file), in file order.

    Raises
    ------
    ConfigError
        The file does not exist.
    DataError
        Not a CSV; a missing, unknown or repeated column; a malformed or unknown adcode; an empty
        sector; a value that is empty, not a number or negative; a city and sector given twice;
        several units; a bad year; a city whose values are all 0 (no sector); a city without a
        row for a sector the table has (each message names the file, the line, the value).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"economy.sector_table {str(path)!r} does not exist; expected a CSV "
                          f"with {_EXPECTED}")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: not a readable UTF-8 CSV table ({err}); expected "
                        f"{_EXPECTED}") from err
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    _check_columns(list(raw.columns), path=path)
    raw = raw.apply(lambda col: col.str.strip())
    if raw.empty:
        raise DataError(f"{path}: no rows; expected {_EXPECTED}")
    lines = list(range(2, len(raw) + 2))  # line 1 is the header
    known = set(known_adcodes) if known_adcodes is not None else _prefecture_adcodes()
    table = pd.DataFrame({
        "adcode": [_adcode(a, known=known, path=path, line=n)
                   for a, n in zip(raw["adcode"], lines, strict=True)],
        "sector": [_sector(s, path=path, line=n) for s, n in zip(raw["sector"], lines,
                                                                 strict=True)],
        "value": [_value(v, path=path, line=n) for v, n in zip(raw["value"], lines, strict=True)],
        "year": pd.array([_year(y, path=path, line=n) for y, n in
                          zip(raw.get("year", [""] * len(raw)), lines, strict=True)],
                         dtype="Int64"),
        "source": raw.get("source", pd.Series([""] * len(raw))).tolist(),
        "unit": raw.get("unit", pd.Series([""] * len(raw))).tolist(),
        "line": lines,
    })
    _check_rows(table, path=path)
    return table


def _prefecture_adcodes() -> set[str]:
    from agglonet.retrieve.boundaries import prefecture_table

    return set(prefecture_table()["adcode"])


def _check_columns(columns: list[str], *, path: Path) -> None:
    if missing := [c for c in SECTOR_REQUIRED_COLUMNS if c not in columns]:
        raise DataError(f"{path}: no column {missing} (columns: {columns}); expected {_EXPECTED}")
    allowed = {*SECTOR_REQUIRED_COLUMNS, *SECTOR_OPTIONAL_COLUMNS}
    if unknown := [c for c in columns if c not in allowed]:
        raise DataError(f"{path}: unknown columns {unknown}; expected {_EXPECTED}")
    if dup := sorted({c for c in columns if columns.count(c) > 1}):
        raise DataError(f"{path}: columns {dup} appear more than once")


def _adcode(value: str, *, known: set[str], path: Path, line: int) -> str:
    text = user_adcode(value, path=path, line=line)
    if text not in known:
        raise DataError(f"{path}, line {line}: adcode {text} is unknown: not a prefecture-level "
                        "city of the boundary data (give the city's code, e.g. 410100 for 郑州市, "
                        "not a county's)")
    return text


def _sector(value: str, *, path: Path, line: int) -> str:
    if not value:
        raise DataError(f"{path}, line {line}: the sector is empty; name it (e.g. primary, "
                        "secondary, tertiary)")
    return value


def _value(value: str, *, path: Path, line: int) -> float:
    where = f"{path}, line {line}: value {value!r}"
    if value == "":
        raise DataError(f"{where} is empty; give the number (0 for a sector the city lacks), "
                        "or leave the city out of the table")
    cleaned = value.replace(",", "").replace("_", "")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", cleaned):
        raise DataError(f"{where} is not a number")
    number = float(cleaned)
    if not np.isfinite(number):
        raise DataError(f"{where} is not a finite number")
    if number < 0:
        raise DataError(f"{where} is negative; values are output or employment, ≥ 0")
    return number


def _year(value: str, *, path: Path, line: int) -> object:
    if value == "":
        return pd.NA
    if not re.fullmatch(r"\d{4}", value) or not 1949 <= int(value) <= 2100:
        raise DataError(f"{path}, line {line}: year {value!r} is not a year (e.g. 2020)")
    return int(value)


def _check_rows(table: pd.DataFrame, *, path: Path) -> None:
    """Repeated city and sector, several units, a city with no sector, a city lacking one."""
    dup = table[table.duplicated(["adcode", "sector"], keep=False)]
    if len(dup):
        first = dup.iloc[0]
        again = dup[(dup["adcode"] == first["adcode"]) & (dup["sector"] == first["sector"])]
        raise DataError(f"{path}, line {int(again['line'].iloc[1])}: city {first['adcode']} "
                        f"sector {first['sector']!r} appears again (first on line "
                        f"{int(again['line'].iloc[0])}); give each city and sector once")
    units = sorted({u for u in table["unit"] if u})
    if len(units) > 1:
        raise DataError(f"{path}: several units {units}; one table holds one quantity (value "
                        "added or employment) in one unit")
    totals = table.groupby("adcode", sort=True)["value"].sum()
    if empty := totals.index[totals <= 0].tolist():
        lines = table.loc[table["adcode"] == empty[0], "line"].tolist()
        raise DataError(f"{path}, lines {lines}: city {empty[0]} has no sector with a value above "
                        "0; its structure (sector shares) is undefined: give its values or "
                        "leave it out")
    sectors = sorted(set(table["sector"]))
    for code, group in table.groupby("adcode", sort=True):
        if lacking := [s for s in sectors if s not in set(group["sector"])]:
            raise DataError(f"{path}: city {code} (lines {group['line'].tolist()}) has no row for "
                            f"sector(s) {lacking}; every city needs a value for every sector of "
                            "the table (0 where it has none)")


def cluster_sectors(table: pd.DataFrame, members: pd.DataFrame, *, missing: str = "error",
                    path: str | Path = "economy.sector_table",
                    cluster: str = "") -> tuple[pd.DataFrame, list[str]]:
    """Return the rows of a cluster's members, and the members without any.

    Parameters
    ----------
    table
        Output of :func:`load_sector_table`.
    members
        The cluster's members (``adcode``, ``name_zh``).
    missing
        ``error``: a member without rows stops the run; ``skip``: the measures cover the members
        that have rows, and the others are listed.
    path, cluster
        For messages.

    Returns
    -------
    (rows, missing)
        The members' rows (sorted by adcode, sector) and ``"<adcode> <name>"`` of each member
        without rows.

    Raises
    ------
    DataError
        Members without rows under ``missing: error``, fewer than two members with rows, or an
        unknown policy.
    """
    if missing not in MISSING_POLICIES:
        raise DataError(f"economy.missing_cities {missing!r} unknown; expected one of "
                        f"{', '.join(MISSING_POLICIES)}")
    codes = members["adcode"].astype(str)
    names = dict(zip(codes, members["name_zh"].astype(str), strict=True))
    have = set(table["adcode"])
    lacking = [f"{c} {names[c]}" for c in sorted(codes) if c not in have]
    where = f"cluster {cluster!r}" if cluster else "the cluster"
    if lacking and missing == "error":
        raise DataError(f"{path}: no rows for {len(lacking)} member(s) of {where}: "
                        f"{', '.join(lacking)}; add them, or set economy.missing_cities: skip "
                        "to measure the cities the table has")
    rows = table[table["adcode"].isin(set(codes))].sort_values(["adcode", "sector"])
    if rows["adcode"].nunique() < 2:
        raise DataError(f"{path}: {rows['adcode'].nunique()} member(s) of {where} have rows; "
                        "similarity is between cities: at least 2 are needed")
    if other := sorted(have - set(codes)):
        logger.info("%s: %d cities of the table are not members of %s and are ignored: %s",
                    path, len(other), where, ", ".join(other))
    return rows.reset_index(drop=True), lacking


def sector_record(path: str | Path) -> SourceRecord:
    """Provenance record of a user sector table."""
    return record_user_file(path, name="sector_table",
                            citation=f"user-supplied table of the economy by sector "
                                     f"{Path(path).name}")
