"""The font of every reader-facing output: Noto Sans SC, installed with agglonet from PyPI.

Maps, charts, the report and its PDF are drawn in Simplified Chinese and English; no system font
is assumed. The font comes from the PyPI package ``pylopdf-fonts-zh-cn`` (Noto Sans SC 2.004
Regular, OpenType/CFF, 30,890 characters: Latin, Greek, the whole of GB 2312 and more; SIL Open
Font License 1.1), a dependency of agglonet, so it is there on a fresh machine.

:func:`use_in_matplotlib` registers it with matplotlib; :func:`missing_glyphs` says which
characters of a text it cannot draw (read from its ``cmap`` with fontTools), the check behind
"no missing-glyph boxes"; :func:`subset_woff2` cuts it to the characters a page uses, so a
self-contained HTML page carries a few hundred kilobytes of font instead of eight megabytes.
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Iterable
from pathlib import Path

from agglonet.errors import DataError

logger = logging.getLogger(__name__)

#: Family name of the font (as matplotlib, CSS and QGIS call it).
FONT_FAMILY = "Noto Sans SC"
#: PyPI package shipping the font file, and its licence.
FONT_PACKAGE = "pylopdf-fonts-zh-cn"
FONT_LICENCE = "SIL Open Font License 1.1"
#: Attribution line of the font (maps and report).
FONT_CREDIT = f"Font: {FONT_FAMILY} (Google/Adobe, {FONT_LICENCE}, via {FONT_PACKAGE})"


@functools.cache
def font_path() -> Path:
    """Path of the Noto Sans SC font file installed with agglonet.

    Raises
    ------
    DataError
        If the font package is not installed (it is a dependency of agglonet).
    """
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:
        raise DataError(f"the font package {FONT_PACKAGE} is not installed; it is a dependency "
                        f"of agglonet: pip install {FONT_PACKAGE}") from None
    path = Path(pylopdf_fonts_zh_cn.sans_path())
    if not path.is_file():
        raise DataError(f"font file {path} of {FONT_PACKAGE} is missing; reinstall it "
                        f"(pip install --force-reinstall {FONT_PACKAGE})")
    return path


@functools.cache
def use_in_matplotlib() -> str:
    """Register the font with matplotlib (once) and return its family name.

    Draw text with ``fontfamily=FONT_FAMILY`` (or set ``rcParams["font.family"]``) after this.
    """
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(font_path()))
    return FONT_FAMILY


@functools.cache
def _cmap() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(font_path(), lazy=True) as font:
        return frozenset(font.getBestCmap())


def missing_glyphs(texts: str | Iterable[str]) -> list[str]:
    """Characters of ``texts`` the font has no glyph for (sorted, without duplicates).

    Whitespace and control characters are not drawn and never count as missing.

    Examples
    --------
    >>> missing_glyphs(["郑州 Zhengzhou", "γ ≥ 0.5 km²"])
    []
    """
    text = texts if isinstance(texts, str) else "".join(texts)
    have = _cmap()
    return sorted({ch for ch in text if not ch.isspace() and ord(ch) >= 32
                   and ord(ch) not in have})


def subset_woff2(text: str) -> bytes:
    """Return the font cut to the characters of ``text`` (plus ASCII), as WOFF2 bytes.

    Uses fontTools' subsetter (WOFF2 needs the ``brotli`` package, installed with WeasyPrint).
    """
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = subset.load_font(str(font_path()), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(text) | {chr(c) for c in range(32, 127)})))
    subsetter.subset(font)
    buffer = io.BytesIO()
    subset.save_font(font, buffer, options)
    return buffer.getvalue()
