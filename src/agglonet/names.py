"""Place names: matching Chinese and pinyin spellings of cities and counties.

Used wherever a user or a data set names a place: the cluster catalogue, the GeoNames seats and
the core city of the travel-time surface.
"""

from __future__ import annotations

import re

#: Suffixes of prefecture-level names (郑州市 → 郑州, 大兴安岭地区 → 大兴安岭).
CITY_SUFFIXES = ("市", "地区", "林区", "盟")


def normalise_alias(text: str) -> str:
    """Casefold and drop spaces, hyphens, dashes, apostrophes and dots (``Xi'an`` → ``xian``)."""
    return re.sub(r"[\s\-‐–—'’`.·]+", "", str(text)).casefold()


def strip_suffix(name_zh: str, suffixes: tuple[str, ...] = CITY_SUFFIXES) -> str:
    """Chinese name without its administrative suffix (``郑州市`` → ``郑州``).

    Parameters
    ----------
    name_zh
        A Chinese place name.
    suffixes
        Suffixes tried in order; the first that leaves at least two characters is removed.

    Returns
    -------
    str
        The stem, or ``name_zh`` unchanged when no suffix applies.
    """
    for suffix in suffixes:
        if name_zh.endswith(suffix) and len(name_zh) > len(suffix) + 1:
            return name_zh[: -len(suffix)]
    return name_zh

#: Suffixes of county-level names (渝中区 → 渝中, 巩义市 → 巩义, 浦东新区 → 浦东).
COUNTY_SUFFIXES = ("自治县", "自治旗", "新区", "县", "区", "市", "旗")


def strip_county_suffix(name_zh: str) -> str:
    """County name without its administrative suffix (``巩义市`` → ``巩义``)."""
    return strip_suffix(name_zh, COUNTY_SUFFIXES)
