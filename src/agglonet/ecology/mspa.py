"""Morphological Spatial Pattern Analysis (MSPA; Soille & Vogt 2009) with GuidosToolbox codes.

Written with :mod:`scipy.ndimage` (distance transforms, labelling, hole filling): GuidosToolbox's
MSPA is a separate GPL binary and no maintained Python package implements it.

Classes and codes (GuidosToolbox): core 17, islet 9, perforation 5, edge 3, bridge 33, loop 65,
branch 1, background 0, and :data:`MSPA_NODATA` = 129 for cells with no land-cover data.

Definitions used (foreground connectivity ``c`` ∈ {8, 4}; the background uses the complementary
connectivity; outside the grid counts as background, no-data cells count as background):

* **core** — foreground cells farther than ``edge_width`` cells from the background (chessboard
  distance for 8-connectivity, city-block for 4), i.e. the erosion by the square/diamond of radius
  ``edge_width``;
* **islet** — foreground components without core;
* the *boundary band* — non-core foreground within ``edge_width`` of a core (dilation of the core);
  a band cell is **perforation** when the background nearest to it lies in a hole of the
  core-plus-band region, **edge** otherwise;
* the remaining foreground (outside core and band, in components that have a core) forms
  *connector* components: **bridge** when a connector touches the bands of two or more different
  cores, **loop** when it touches the band of one core at two or more separate places, **branch**
  when it touches one core at one place only.

Simplification against GuidosToolbox: a connector component is classified as a whole, so a spur
hanging off a bridge or loop is labelled with the bridge/loop rather than as a branch.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import ndimage

from agglonet.errors import ConfigError, DataError

logger = logging.getLogger(__name__)

#: GuidosToolbox MSPA codes.
MSPA_CODES: dict[str, int] = {
    "background": 0,
    "branch": 1,
    "edge": 3,
    "perforation": 5,
    "islet": 9,
    "core": 17,
    "bridge": 33,
    "loop": 65,
}
#: Code of cells with no land-cover data.
MSPA_NODATA = 129


def _structure(connectivity: int) -> np.ndarray:
    if connectivity == 8:
        return np.ones((3, 3), dtype=bool)
    if connectivity == 4:
        return ndimage.generate_binary_structure(2, 1)
    raise ConfigError(f"MSPA connectivity {connectivity!r} is not supported; expected 8 or 4")


def mspa(
    foreground: np.ndarray,
    *,
    edge_width: int = 1,
    connectivity: int = 8,
    valid: np.ndarray | None = None,
) -> np.ndarray:
    """Classify a binary foreground into the seven MSPA classes.

    Parameters
    ----------
    foreground
        2-D boolean array, True = ecological land.
    edge_width
        Edge width in cells (≥ 1).
    connectivity
        Foreground connectivity, 8 or 4.
    valid
        Boolean array, False where the land cover has no data (coded :data:`MSPA_NODATA` and
        treated as background); ``None`` = all valid.

    Returns
    -------
    numpy.ndarray
        uint8 array of :data:`MSPA_CODES` values.

    Raises
    ------
    ConfigError
        ``edge_width`` < 1 or ``connectivity`` not 4/8.
    DataError
        No valid cell, or no foreground cell at all.

    Examples
    --------
    >>> fg = np.zeros((7, 7), bool); fg[1:6, 1:6] = True
    >>> out = mspa(fg, edge_width=1)
    >>> int(out[3, 3]), int(out[1, 1]), int(out[0, 0])
    (17, 3, 0)
    """
    if int(edge_width) != edge_width or edge_width < 1:
        raise ConfigError(f"MSPA edge_width {edge_width!r} must be an integer ≥ 1")
    structure = _structure(connectivity)
    bg_structure = _structure(4 if connectivity == 8 else 8)
    fg = np.asarray(foreground, dtype=bool)
    if fg.ndim != 2:
        raise DataError(f"MSPA needs a 2-D foreground, got shape {fg.shape}")
    valid = np.ones_like(fg) if valid is None else np.asarray(valid, dtype=bool)
    if not valid.any():
        raise DataError("MSPA: the land cover has no valid cell (all no data)")
    fg = fg & valid
    if not fg.any():
        raise DataError(
            "MSPA: no ecological land (foreground) on the grid; check ecology.foreground_classes "
            "and the land-cover mapping"
        )

    # Pad with one background cell so that outside the grid counts as background.
    fgp = np.pad(fg, 1, constant_values=False)
    metric = "chessboard" if connectivity == 8 else "taxicab"
    dist_bg = ndimage.distance_transform_cdt(fgp, metric=metric)
    core = dist_bg > edge_width

    fg_lab, _ = ndimage.label(fgp, structure=structure)
    comps_with_core = np.unique(fg_lab[core])
    islet = fgp & ~np.isin(fg_lab, comps_with_core)

    # Boundary band: within edge_width of a core (dilation by the same structuring element).
    core_lab, n_core = ndimage.label(core, structure=structure)
    if n_core:
        dist_core, idx = ndimage.distance_transform_cdt(~core, metric=metric, return_indices=True)
        band = fgp & ~core & (dist_core <= edge_width)
        nearest_core = core_lab[idx[0], idx[1]]
    else:
        band = np.zeros_like(fgp)
        nearest_core = np.zeros(fgp.shape, dtype=np.int32)

    # Perforation vs edge: nearest background in a hole of (core ∪ band) or outside it.
    opening = core | band
    holes = ndimage.binary_fill_holes(opening, structure=bg_structure) & ~opening & ~fgp
    outer_bg = ~fgp & ~holes
    if holes.any():
        d_hole = ndimage.distance_transform_cdt(~holes, metric=metric)
        d_outer = ndimage.distance_transform_cdt(~outer_bg, metric=metric)
        perforation = band & (d_hole < d_outer)
    else:
        perforation = np.zeros_like(band)
    edge = band & ~perforation

    # Connectors: remaining foreground in components that have a core.
    connector = fgp & ~core & ~band & ~islet
    bridge = np.zeros_like(fgp)
    loop = np.zeros_like(fgp)
    branch = np.zeros_like(fgp)
    if connector.any():
        conn_lab, n_conn = ndimage.label(connector, structure=structure)
        for k, sl in enumerate(ndimage.find_objects(conn_lab), start=1):
            # Work in the component's bounding box grown by one cell.
            r0, r1 = max(sl[0].start - 1, 0), min(sl[0].stop + 1, fgp.shape[0])
            c0, c1 = max(sl[1].start - 1, 0), min(sl[1].stop + 1, fgp.shape[1])
            comp = conn_lab[r0:r1, c0:c1] == k
            contact = ndimage.binary_dilation(comp, structure=structure) & band[r0:r1, c0:c1]
            cores = np.unique(nearest_core[r0:r1, c0:c1][contact])
            cores = cores[cores > 0]
            target = (slice(r0, r1), slice(c0, c1))
            if len(cores) >= 2:
                bridge[target] |= comp
            elif len(cores) == 1:
                _, n_runs = ndimage.label(contact, structure=structure)
                (loop if n_runs >= 2 else branch)[target] |= comp
            else:  # cannot happen: a connector's component has a core, hence touches a band
                branch[target] |= comp

    out = np.zeros(fgp.shape, dtype=np.uint8)
    for name, mask in (("core", core), ("islet", islet), ("perforation", perforation),
                       ("edge", edge), ("bridge", bridge), ("loop", loop), ("branch", branch)):
        out[mask] = MSPA_CODES[name]
    out = out[1:-1, 1:-1]
    out[~valid] = MSPA_NODATA
    logger.info("MSPA: %s", {name: int((out == code).sum()) for name, code in MSPA_CODES.items()})
    return out
