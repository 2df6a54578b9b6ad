"""Scenario groups of a cluster's QGIS project: one group per scenario, on top of the tree.

Each group holds the scenario's difference rasters (``travel_time_diff_min.tif``,
``current_density_diff.tif``: a diverging ramp centred on zero, from their QML sidecars,
:func:`agglonet.styles.diverging_style`), its changed corridors (``corridors_changed``) and,
for a scenario with road edits, the edited roads (``roads_edited``: added, closed, re-timed),
styled by status from the GeoPackages' ``layer_styles``. The layers open switched off, so the
project shows the baseline until a scenario is switched on.

:func:`scenario_layers` returns :class:`~agglonet.export.qgis_project.ProjectLayer` objects that
:func:`agglonet.export.qgis_project.write_project` adds to the project's layers; the project
writer places, styles and references them like the baseline's.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path

import pyogrio

from agglonet.export import labels
from agglonet.export.qgis_project import ProjectLayer

logger = logging.getLogger(__name__)

#: Files of a scenario in its group, in drawing order (first on top): key → GeoPackage layer
#: (``None``: a raster).
SCENARIO_FILES: tuple[tuple[str, str | None], ...] = (
    ("roads_edited", "roads_edited"),
    ("corridors_changed", "corridors_changed"),
    ("travel_time_diff_min", None),
    ("current_density_diff", None),
)
#: Group name of a scenario: (Chinese, English).
GROUP_NAME = ("情景：{name}", "Scenario: {name}")


@dataclasses.dataclass(frozen=True)
class ScenarioLayer(ProjectLayer):
    """A layer of one scenario: its id and name carry the scenario's name."""

    scenario: str = ""

    @property
    def layer_id(self) -> str:
        """Stable QGIS layer id, unique across scenarios."""
        return f"scenario_{self.scenario}_{super().layer_id}"


def scenario_layers(scenarios: Mapping[str, Mapping[str, str | Path]] | None, *,
                    language: str = "en") -> list[ProjectLayer]:
    """Return the layers of every scenario, one group per scenario (scenarios by name).

    Parameters
    ----------
    scenarios
        Scenario name → file key of :data:`SCENARIO_FILES` → path. Missing keys or files are
        left out (a scenario without road edits has no ``roads_edited``).
    language
        ``zh`` or ``en``: group and layer names.

    Returns
    -------
    list of ProjectLayer
        In group order, then :data:`SCENARIO_FILES` order.
    """
    out: list[ProjectLayer] = []
    index = labels.LANGUAGES.index(language)
    for name in sorted(scenarios or {}):
        files = scenarios[name]  # type: ignore[index]
        group = GROUP_NAME[index].format(name=name)
        for key, layer in SCENARIO_FILES:
            path = files.get(key)
            if not path or not Path(path).exists():
                continue
            path = Path(path).resolve()
            gtype = None
            if layer is not None:
                gtype = dict(pyogrio.list_layers(path)).get(layer)
                if gtype is None:
                    logger.warning("scenario %s: no layer %s in %s", name, layer, path)
                    continue
            display = labels.layer_name(key, (language,))[language]
            out.append(ScenarioLayer(group, path, layer, f"{display} · {name}",
                                     None if gtype is None else str(gtype), scenario=name))
    return out
