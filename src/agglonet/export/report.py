"""Self-contained HTML report of a run (``results/report.html``).

One file, images embedded as base64: per cluster the maps, the metrics table and the stage
summaries; the cross-cluster comparison table and chart; the configuration used; the data
sources (``sources.json``); the software versions. Written with :class:`string.Template` and
:func:`html.escape` (no template engine needed); tables with :meth:`pandas.DataFrame.to_html`.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from agglonet.io import atomic_path
from agglonet.provenance import git_commit, software_versions, source_records
from agglonet.quality import read_quality

logger = logging.getLogger(__name__)

_PAGE = string.Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>$title</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{border-bottom:2px solid #333}h2{margin-top:2em;border-bottom:1px solid #aaa}
table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#f0f0f0}
td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #ddd}
.warn{background:#fff3cd;border:1px solid #e0c060;padding:0.6em 1em}
pre{background:#f7f7f7;padding:0.8em;overflow-x:auto;font-size:0.8em}
nav a{margin-right:1em}
</style></head><body>
<h1>$title</h1>
<p>Clusters: <b>$clusters</b>. Workflow commit <code>$commit</code>.</p>
$warning
<nav>$nav</nav>
$body
</body></html>
""")


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">' \
           f"<figcaption>{html.escape(alt)}</figcaption></figure>"


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, border=0, na_rep="", float_format=lambda v: f"{v:.4g}")


def _json_table(path: Path) -> str:
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = [{"key": k, "value": json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list)
             else v} for k, v in sorted(data.items())]
    return _table(pd.DataFrame(rows))


def _sources_table(path: Path) -> str:
    records = source_records(json.loads(path.read_text(encoding="utf-8")))
    cols = ["name", "provider", "version", "licence", "citation", "url", "retrieved", "sha256"]
    frame = pd.DataFrame(records)
    return _table(frame[[c for c in cols if c in frame.columns]])


#: Files of one cluster that the report shows (catalogue keys or map names → path).
CLUSTER_INPUTS = ("metrics", "accessibility_map", "ecology_map", "transport_summary",
                  "ecology_summary", "sources_json", "quality", "project")


def build_report(
    *,
    clusters: Mapping[str, Mapping[str, str | Path]],
    comparison_table: str | Path,
    comparison_chart: str | Path,
    config: Mapping[str, Any],
    repo: str | Path | None = None,
    title: str = "agglonet run report",
) -> str:
    """Build the HTML text of the report.

    Parameters
    ----------
    clusters
        Cluster key → its files (:data:`CLUSTER_INPUTS`; ``accessibility_map`` and
        ``ecology_map`` may be missing when maps are switched off).
    comparison_table, comparison_chart
        ``results/cluster_comparison.csv`` and ``.png``.
    config
        Configuration used (shown as YAML).
    repo
        Repository for the git commit (``unknown`` when ``None``).
    title
        Page title.

    Returns
    -------
    str
        The HTML document.
    """
    parts: list[str] = []
    nav: list[str] = []
    caveats = []
    for cluster, files in clusters.items():
        nav.append(f'<a href="#{cluster}">{html.escape(cluster)}</a>')
        parts.append(f'<h2 id="{cluster}">{html.escape(cluster)}</h2>')
        fact = read_quality(files["quality"])
        if fact.reasons:
            caveats.append(f"<b>{html.escape(cluster)}</b> ({fact.quality}): "
                           + html.escape("; ".join(fact.reasons)))
        for name, caption in (("accessibility_map", "Travel time, seats and linkage"),
                              ("ecology_map", "Ecological network and road crossings")):
            if files.get(name):
                parts.append(_img(Path(files[name]), f"{cluster}: {caption}"))
        parts.append("<h3>Metrics</h3>" + _table(pd.read_csv(files["metrics"])))
        for key, head in (("transport_summary", "Transport summary"),
                          ("ecology_summary", "Ecology summary")):
            parts.append(f"<h3>{head}</h3>" + _json_table(Path(files[key])))
        parts.append(f"<p>QGIS project: <code>{html.escape(str(files['project']))}</code> "
                     "(open it in QGIS ≥ 3.22; styles load with the layers).</p>")
    nav.append('<a href="#comparison">comparison</a>')
    parts.append('<h2 id="comparison">Clusters compared</h2>')
    parts.append(_img(Path(comparison_chart), "Cluster comparison"))
    parts.append(_table(pd.read_csv(comparison_table)))
    nav.append('<a href="#sources">data sources</a>')
    parts.append('<h2 id="sources">Data sources and licences</h2>')
    for cluster, files in clusters.items():
        sources = _sources_table(Path(files["sources_json"]))
        parts.append(f"<h3>{html.escape(cluster)}</h3>" + sources)
    nav.append('<a href="#config">configuration</a>')
    cfg = yaml.safe_dump(json.loads(json.dumps(dict(config))), allow_unicode=True,
                         sort_keys=False)
    parts.append(f'<h2 id="config">Configuration used</h2><pre>{html.escape(cfg)}</pre>')
    nav.append('<a href="#software">software</a>')
    versions = pd.DataFrame(sorted(software_versions().items()), columns=["package", "version"])
    parts.append('<h2 id="software">Software versions</h2>' + _table(versions))
    warning = ""
    if caveats:
        warning = ('<p class="warn">Results below rest on inputs that limit them: '
                   + "<br>".join(caveats) + "</p>")
    return _PAGE.substitute(title=html.escape(title),
                            clusters=html.escape(", ".join(clusters)),
                            commit=html.escape(git_commit(repo) if repo else "unknown"),
                            warning=warning, nav="".join(nav), body="\n".join(parts))


def write_report(path: str | Path, **kwargs: Any) -> Path:
    """Write :func:`build_report`'s HTML to ``path`` atomically (keyword arguments as there)."""
    text = build_report(**kwargs)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    logger.info("wrote report %s (%d kB)", path, len(text) // 1024)
    return Path(path)
