"""Every column a reader meets has a Chinese and an English label, and the font draws them all."""

from __future__ import annotations

import re

from agglonet import outputs
from agglonet.export import fonts, labels
from agglonet.metrics.border_effect import BORDER_METRIC_COLUMNS
from agglonet.metrics.cluster import metric_columns
from agglonet.metrics.ecology_tables import CITY_ECOLOGY_COLUMNS, CITY_PAIR_COLUMNS
from agglonet.metrics.structure import CITY_COLUMNS, PAIR_COLUMNS, SECTOR_COLUMNS
from agglonet.transport.borders import OD_BORDER_COLUMNS
from agglonet.transport.surface import CITY_CELL_COLUMNS

_HAN = re.compile(r"[\u4e00-\u9fff]")


def catalogued_columns() -> set[str]:
    """Columns of every layer of the catalogue and of the tables whose columns the code names."""
    columns = {c for f in outputs.VECTOR_FILES for layer in f.layers for c in layer.columns}
    columns |= set(metric_columns([0.5, 1, 2, 3]))
    columns |= {*OD_BORDER_COLUMNS, *CITY_CELL_COLUMNS, *outputs.BORDER_GAP_COLUMNS}
    columns |= {*CITY_COLUMNS, *PAIR_COLUMNS, *SECTOR_COLUMNS, *BORDER_METRIC_COLUMNS}
    columns |= {*CITY_ECOLOGY_COLUMNS, *CITY_PAIR_COLUMNS}
    return columns


def test_every_catalogued_column_has_a_label_in_both_languages() -> None:
    missing, not_chinese = [], []
    for column in sorted(catalogued_columns()):
        label = labels.field_label(column)
        if label["en"] == column and column not in labels.FIELD_LABELS:
            missing.append(column)
        elif not _HAN.search(label["zh"]):
            not_chinese.append(column)
    assert missing == [], f"columns without a label in agglonet.export.labels: {missing}"
    assert not_chinese == [], f"zh labels with no Chinese word: {not_chinese}"


def test_unknown_column_falls_back_to_its_name() -> None:
    # the check above can fail: a column the tables do not know has no label
    assert labels.field_label("no_such_column") == {"zh": "no_such_column",
                                                    "en": "no_such_column"}


def _every_phrase() -> list[str]:
    tables = (labels.LAYER_NAMES, labels.FIELD_LABELS, labels.VALUE_LABELS, labels.MAP_TEXT,
              labels.REPORT_TEXT, labels.UI, labels.QUALITY_NAMES)
    phrases = [text for table in tables for pair in table.values() for text in pair]
    phrases += list(labels.ATTRIBUTIONS_ZH.values()) + list(labels.CHART_NOTES_ZH.values())
    phrases += [t for pair in labels.CHART_PANELS_ZH.values() for t in pair]
    phrases += list(labels.CHART_TITLE)
    return phrases


def test_font_has_every_glyph_of_the_labels() -> None:
    phrases = _every_phrase()
    assert sum(len(_HAN.findall(p)) for p in phrases) > 1000  # the Chinese words are there
    assert fonts.missing_glyphs(phrases) == []
    # and the check itself finds a character the font lacks (a private-use code point)
    assert fonts.missing_glyphs(["郑州\ue000"]) == ["\ue000"]


def test_chinese_data_dictionary_defines_every_column_of_the_english_one() -> None:
    from pathlib import Path

    from test_docs_columns import documented_columns

    docs = Path(__file__).resolve().parents[2] / "docs"
    english = (docs / "metrics.md").read_text(encoding="utf-8")
    chinese = (docs / "metrics.zh.md").read_text(encoding="utf-8")
    assert chinese == labels.data_dictionary_zh(english), (
        "docs/metrics.zh.md is out of date: python -m agglonet.export.labels docs/metrics.md "
        "> docs/metrics.zh.md")

    def columns(markdown: str) -> dict[str, set[str]]:
        # header rows and first cells naming a file (a table of files) define no column
        body = "\n".join(line for line in markdown.splitlines()
                         if not line.startswith("|") or line.lstrip("| ").startswith("`"))
        return {f: {p.pattern for p in ps if "\\." not in p.pattern}
                for f, ps in documented_columns(body).items()}

    en, zh = columns(english), columns(chinese)
    assert len(en) >= 10 and sum(map(len, en.values())) > 150
    assert zh == en
    rows = [line for line in chinese.splitlines() if line.startswith("| `")]
    untranslated = [r for r in rows if not _HAN.search(r.split("|")[2])]
    assert untranslated == []
