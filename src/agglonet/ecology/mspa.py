"""Morphological Spatial Pattern Analysis (MSPA) with GuidosToolbox Workbench (GWB) byte codes.

Reproduces, pixel for pixel, ``GWB_MSPA`` of the GuidosToolbox Workbench: the morphological
segmentation of binary patterns of Soille & Vogt (2009, *Pattern Recognition Letters* 30(4):456-459,
doi:10.1016/j.patrec.2008.10.015) as run by GWB (the ``mspa`` segmentation of the JRC ``miallib``
image library, version 2.3, followed by the ``GWB_MSPA`` post-processing). The definitions below
are those of the paper and of the GuidosToolbox *MSPA Guide*; the numerical conventions (Euclidean
distances, the 0.98 offset of the edge width, the image border, missing data) are those of the
published GWB sources. This module is written anew with :mod:`scipy.ndimage` (distance transforms,
labelling, hole filling, reconstruction); three queue algorithms whose result depends on the
processing order, and for which no library has the same rule, are written here with numba (see
:func:`_thin_anchored`, :func:`_constrained_distance`, :func:`_flood_labels`).

Parameters (GWB names): foreground connectivity 8 or 4 (the background takes the other one),
``EdgeWidth`` w ≥ 1 pixel, ``Transition`` and ``IntExt``. With d the Euclidean distance and
t = w + 0.98 (GWB: ``size = (w + 0.98) / √2`` times √2):

* **core** (17) — foreground pixels whose distance to the nearest non-foreground pixel is > t;
* **islet** (9) — foreground components (foreground connectivity) that contain no core;
* **edge** (3) / **perforation** (5) — non-core foreground within distance t of a core: edge when
  it lies within t of the outer boundary of the core's filled outline (the core with its holes
  filled, repeated for cores nested inside core holes), perforation when it lies only near the
  boundary of a hole of the core (*core-opening*). Holes of the foreground that are not holes of the
  core (*border-openings*) get edge, not perforation;
* the rest of the foreground (*residues*) and the edge/perforation band are thinned, with the core
  as anchor, to an order-independent homotopic skeleton (Ranwez & Soille 2002); the skeleton pixels
  outside the core, widened within the residues and band by a geodesic distance of t − √2 (nothing
  for w = 1), are the *connectors*;
* **bridge** (33) — connector components reached by two or more different cores (the core labels
  flooded over the core neighbourhood and the connectors); **loop** (65) — connector components
  reached by one core only;
* **branch** (1) — the remaining residues: foreground attached at one end only, including spurs
  hanging off bridges and loops (the classification is per pixel, not per component).

Codes: bits are added — a loop or bridge pixel inside the edge or perforation band keeps both bits
(``Transition`` pixels: bridge in edge 35, bridge in perforation 37, loop in edge 67, loop in
perforation 69). GWB writes these byte values whatever ``Transition`` is; ``Transition = 0`` only
changes the display colours, and so does ``transition=False`` here (the codes are the same; the
statistics count transition pixels with edge/perforation in both cases). With ``IntExt = 1`` every
pixel inside a hole of the core (at any nesting depth) gets +100 (internal: 117, 103, 105, 109,
101, 165, 167, 169, 133, 135, 137), background inside a core hole is *core-opening* 100 and
background enclosed by foreground elsewhere is *border-opening* 220; with ``IntExt = 0`` both are 0.

Border and missing data (GWB): the image border is neither foreground nor background — the outer
rows and columns are replicated outward before the analysis (GWB 2.3 replicates the four sides and
leaves the corner squares empty, so a core in an image corner gets an edge pixel there), so core
reaches the border. Missing pixels (``valid`` False) are coded 129 and are neither foreground nor
background: missing pixels within distance t of both data and foreground count as foreground for
the analysis, so foreground next to missing data is not edge. GWB turns the rare stray code 2 into
background when w = 1; so does this module.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy import ndimage

from agglonet.errors import ConfigError, DataError

logger = logging.getLogger(__name__)

#: GWB codes of the seven MSPA classes (external, transition off) and of the background.
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
#: Code of missing data (no land-cover data).
MSPA_NODATA = 129
#: Background inside a hole of the core (``intext=True``).
MSPA_CORE_OPENING = 100
#: Background enclosed by foreground but not inside a core hole (``intext=True``).
MSPA_BORDER_OPENING = 220
#: Offset added to internal foreground classes (``intext=True``).
MSPA_INTERNAL_OFFSET = 100
#: Transition codes (loop/bridge pixels inside the edge or perforation band), external.
MSPA_TRANSITION_CODES: dict[str, int] = {
    "bridge_in_edge": 35,
    "bridge_in_perforation": 37,
    "loop_in_edge": 67,
    "loop_in_perforation": 69,
}
#: Every byte value of each aggregated class, as GWB's statistics count them (transition pixels
#: with the band they cross; internal codes with their class).
MSPA_CLASS_VALUES: dict[str, tuple[int, ...]] = {
    "core": (17, 117),
    "islet": (9, 109),
    "perforation": (5, 105, 37, 137, 69, 169),
    "edge": (3, 103, 35, 135, 67, 167),
    "loop": (65, 165),
    "bridge": (33, 133),
    "branch": (1, 101),
}
#: Byte values of core pixels (external and internal).
MSPA_CORE_VALUES: tuple[int, ...] = MSPA_CLASS_VALUES["core"]

_SQRT2 = np.float32(math.sqrt(2.0))
_LABEL_BLOCKED = np.int64(2**31 - 1)


def _structure(connectivity: int) -> np.ndarray:
    if connectivity == 8:
        return np.ones((3, 3), dtype=bool)
    if connectivity == 4:
        return ndimage.generate_binary_structure(2, 1)
    raise ConfigError(f"MSPA connectivity {connectivity!r} is not supported; expected 8 or 4")


# --- distance, boundary and hole primitives (scipy) ------------------------------------------

def _squared_radius(t: np.float32) -> int:
    """Largest squared pixel distance k whose float32 square root is ≤ ``t`` (GWB's rounding)."""
    k = int(float(t) ** 2) + 2
    while np.sqrt(np.float32(k)) > t:
        k -= 1
    return k


def _disk_rectangles(k: int) -> list[tuple[int, int]]:
    """Split the digital disk {dy² + dx² ≤ k} into centred rectangles (half-height, half-width).

    Dilating (eroding) by each rectangle with separable 1-D max (min) filters and taking the union
    (intersection) equals dilating (eroding) by the disk, in O(pixels) per rectangle.
    """
    return [(dy, math.isqrt(k - dy * dy)) for dy in range(math.isqrt(k) + 1)]


def _rect_filter(a: np.ndarray, hy: int, hx: int, *, grow: bool) -> np.ndarray:
    f = ndimage.maximum_filter1d if grow else ndimage.minimum_filter1d
    cval = 0 if grow else 1  # outside the array: empty for dilation, foreground for erosion
    out = a.view(np.uint8)
    if hy:
        out = f(out, 2 * hy + 1, axis=0, mode="constant", cval=cval)
    if hx:
        out = f(out, 2 * hx + 1, axis=1, mode="constant", cval=cval)
    return out.astype(bool)


def _within(region: np.ndarray, k: int) -> np.ndarray:
    """Pixels whose squared Euclidean distance to ``region`` is ≤ ``k`` (``region`` included)."""
    out = np.zeros_like(region)
    if region.any():
        for hy, hx in _disk_rectangles(k):
            out |= _rect_filter(region, hy, hx, grow=True)
    return out


def _outer_band(region: np.ndarray, k: int) -> np.ndarray:
    """Pixels outside ``region`` within squared distance ``k`` of it."""
    return _within(region, k) & ~region


def _core(fg: np.ndarray, k: int) -> np.ndarray:
    """Foreground pixels whose squared distance to every non-foreground pixel is > ``k``.

    Outside the array does not count as non-foreground (as GWB's distance transform).
    """
    out = fg.copy()
    for hy, hx in _disk_rectangles(k):
        out &= _rect_filter(fg, hy, hx, grow=False)
    return out


def _fill_holes(region: np.ndarray, graph: int) -> np.ndarray:
    """``region`` with its holes filled; the complement is connected with ``graph``.

    Labels the complement once (faster than scipy's iterative ``binary_fill_holes``).
    """
    lab, n = ndimage.label(~region, structure=_structure(graph))
    outside = np.zeros(n + 1, dtype=bool)
    for edge in (lab[0, :], lab[-1, :], lab[:, 0], lab[:, -1]):
        outside[edge] = True
    outside[0] = True
    return ~outside[lab] | region


def _reconstruct(marker: np.ndarray, mask: np.ndarray, graph: int) -> np.ndarray:
    """Reconstruction by dilation: the ``graph``-components of ``mask`` that hold a marker."""
    lab, n = ndimage.label(mask, structure=_structure(graph))
    keep = np.zeros(n + 1, dtype=bool)
    keep[lab[marker & mask]] = True
    keep[0] = False
    return keep[lab]


def _absorb_missing(im: np.ndarray, k: int) -> np.ndarray:
    """Foreground plus the missing pixels within squared distance ``k`` of data and foreground."""
    data = im >= 1
    fg = im == 2
    return (_within(fg, k) & _outer_band(data, k)) | fg


def _replicate_border(a: np.ndarray, width: int) -> np.ndarray:
    """Frame ``a`` by ``width`` pixels, replicating its outer rows and columns (GWB 2.3).

    GWB's frame is one pixel short on the right and bottom sides (the outermost frame column and
    row stay empty) and leaves the four corner squares empty.
    """
    ny, nx = a.shape
    out = np.zeros((ny + 2 * width, nx + 2 * width), dtype=a.dtype)
    out[width:width + ny, width:width + nx] = a
    out[width:width + ny, :width] = a[:, :1]
    out[width:width + ny, width + nx - 1:2 * width + nx - 1] |= a[:, -1:]
    out[:width, width:width + nx] = a[:1, :]
    out[width + ny - 1:2 * width + ny - 1, width:width + nx] |= a[-1:, :]
    return out


def _edge_and_perforation(core: np.ndarray, k: int, fg_graph: int,
                          bg_graph: int) -> tuple[np.ndarray, np.ndarray]:
    """Edge band (near the outline of each nesting level of the core) and perforation band."""
    edges = np.zeros_like(core)
    remaining = core.copy()
    filled = _fill_holes(remaining, bg_graph)
    holes = filled & ~remaining
    while filled.any():
        edges |= _outer_band(filled, k)
        # Peel the outermost nesting level: drop the filled outline and what its holes enclose.
        filled &= ~_fill_holes(holes, fg_graph)
        remaining &= ~filled
        filled = _fill_holes(remaining, bg_graph)
        holes = filled & ~remaining
    edges &= ~core
    perforation = _outer_band(core, k) & ~edges
    return edges, perforation


# --- anchored order-independent thinning (own code, numba) -----------------------------------
# scikit-image's thin/skeletonize have neither anchor pixels nor the order-independent
# simple-pair rules of Ranwez & Soille (2002) that GWB uses, and a different skeleton changes the
# loop/bridge/branch pixels. The thinning is a queue algorithm (only neighbours of the pixels
# deleted in one round are examined in the next), so it is written here, in numba.

# Neighbour order used throughout: W, E, N, S, NW, SW, NE, SE (bit k of a neighbourhood code).
_DY = np.array([0, 0, -1, 1, -1, 1, -1, 1])
_DX = np.array([-1, 1, 0, 0, -1, -1, 1, 1])
# For a diagonal neighbour (4..7): the two 4-neighbours of p adjacent to it (a, b).
_DIAG_A = np.array([0, 0, 0, 0, 0, 3, 2, 1])
_DIAG_B = np.array([0, 0, 0, 0, 2, 0, 1, 3])
# For a 4-neighbour (0..3): the pixels on either side of the pair (a, b | c, d).
_SIDE_A = np.array([2, 2, 0, 0])
_SIDE_B = np.array([4, 6, 4, 5])
_SIDE_C = np.array([3, 3, 1, 1])
_SIDE_D = np.array([5, 7, 6, 7])


def _simple_table(fg_graph: int) -> np.ndarray:
    """Lookup table of simple pixels over the 256 neighbourhood codes.

    A foreground pixel is simple (deletable without changing the topology) when its neighbourhood
    holds exactly one foreground component adjacent to it and exactly one background component
    adjacent to it, foreground with ``fg_graph`` and background with the complementary
    connectivity (Kong & Rosenfeld 1989).
    """
    s8, s4 = np.ones((3, 3), bool), ndimage.generate_binary_structure(2, 1)
    fs, bs = (s8, s4) if fg_graph == 8 else (s4, s8)
    four = {(0, 1), (1, 0), (1, 2), (2, 1)}
    table = np.zeros(256, dtype=np.uint8)
    for code in range(256):
        nb = np.zeros((3, 3), bool)
        for k in range(8):
            nb[1 + _DY[k], 1 + _DX[k]] = bool(code >> k & 1)
        bg = ~nb
        bg[1, 1] = False
        lf, _ = ndimage.label(nb, fs)
        lb, _ = ndimage.label(bg, bs)
        fg_adj = {lf[y, x] for y in range(3) for x in range(3)
                  if lf[y, x] and (fg_graph == 8 or (y, x) in four)}
        bg_adj = {lb[y, x] for y in range(3) for x in range(3)
                  if lb[y, x] and (fg_graph == 4 or (y, x) in four)}
        table[code] = len(fg_adj) == 1 and len(bg_adj) == 1
    return table


_SIMPLE8 = _simple_table(8)
_SIMPLE4 = _simple_table(4)


@njit(cache=True, nogil=True)
def _is_simple(img, anchor, pos, sh, table, memo):
    """Tell whether ``pos`` is simple and not an anchor (``memo`` caches it, -1 = unknown)."""
    if memo[pos] >= 0:
        return memo[pos] == 1
    ok = False
    if img[pos] != 0 and not anchor[pos]:
        code = 0
        for k in range(8):
            if img[pos + sh[k]]:
                code |= 1 << k
        ok = table[code] == 1
    memo[pos] = 1 if ok else 0
    return ok


@njit(cache=True, nogil=True)
def _count_fg(img, pos, sh, n):
    c = 0
    for k in range(n):
        if img[pos + sh[k]]:
            c += 1
    return c


@njit(cache=True, nogil=True)
def _independent(img, anchor, pos, sh, table, memo, four, dia, dib, sa, sb, sc, sd):
    """Whether the simple pixel ``pos`` may be deleted together with its simple neighbours.

    Ranwez & Soille (2002): every simple neighbour must form an independent pair with ``pos``;
    configurations of two or three mutually independent simple pixels whose deletion together
    would remove a component (and, for 4-connectivity, the isolated 2×2 square) are kept.
    """
    allindep = True
    ngbnum = 0
    conftype = 0
    ct = 0
    first_a = 0
    first_b = 0
    for i in range(8):
        q = pos + sh[i]
        if not _is_simple(img, anchor, q, sh, table, memo):
            continue
        ngbnum += 1
        if i < 4:
            a = img[pos + sh[sa[i]]] != 0
            b = img[pos + sh[sb[i]]] != 0
            c = img[pos + sh[sc[i]]] != 0
            d = img[pos + sh[sd[i]]] != 0
            conftype = (int(d) | int(c) << 1 | int(b) << 2 | int(a) << 3) + 5
            # A pair of 4-adjacent simple pixels is independent when exactly one side of the
            # pair is foreground: any pixel of it (8-connectivity), both pixels (4-connectivity).
            indep = (a and b) != (c and d) if four else (a or b) != (c or d)
        else:
            # A diagonal pair depends on the two pixels adjacent to both: independent unless
            # both are background (8-connectivity) or both are foreground (4-connectivity).
            a = img[pos + sh[dia[i]]] != 0
            b = img[pos + sh[dib[i]]] != 0
            conftype = (int(b) | int(a) << 1) + 1
            indep = not (a and b) if four else (a or b)
        if not indep:
            allindep = False
            ct = conftype
            first_a = dia[i]
            first_b = dib[i]
            break
    if allindep:
        ct = conftype
    if not allindep:
        if four and ct == 4 and _is_simple(img, anchor, pos + sh[first_a], sh, table, memo) \
                and _is_simple(img, anchor, pos + sh[first_b], sh, table, memo):
            zeros = 0
            for k in range(4):
                if img[pos + sh[k]] == 0:
                    zeros += 1
            if zeros == 2:
                # Keep the isolated 2×2 square: every simple 4-neighbour has two 4-neighbours.
                for k in range(4):
                    q = pos + sh[k]
                    if _is_simple(img, anchor, q, sh, table, memo) and \
                            _count_fg(img, q, sh, 4) != 2:
                        return True
                return False
        return False
    if (ngbnum == 2 and (ct == 2 or ct == 3 or ct == 6 or ct == 7 or ct == 9 or ct == 13)) or \
            (ngbnum == 3 and (ct == 4 or ct == 8 or ct == 17)):
        # A pair or triple of simple pixels forming a small isolated component is kept.
        for k in range(8):
            q = pos + sh[k]
            if _is_simple(img, anchor, q, sh, table, memo) and _count_fg(img, q, sh, 8) != ngbnum:
                return True
        return False
    return True


@njit(cache=True, nogil=True)
def _thin_loop(img, anchor, sh, table, four, dia, dib, sa, sb, sc, sd, start, stop):
    n = img.size
    queued = np.zeros(n, dtype=np.bool_)
    memo = np.full(n, -1, dtype=np.int8)
    seen = np.zeros(n, dtype=np.int32)
    rnd = 0
    current = np.empty(n, dtype=np.int64)
    following = np.empty(n, dtype=np.int64)
    nc = 0
    for pos in range(start, stop):
        if _is_simple(img, anchor, pos, sh, table, memo) and \
                _independent(img, anchor, pos, sh, table, memo, four, dia, dib, sa, sb, sc, sd):
            queued[pos] = True
            current[nc] = pos
            nc += 1
    while nc > 0:
        for j in range(nc):  # delete the whole independent set of this round at once
            queued[current[j]] = False
            img[current[j]] = 0
        for j in range(nc):  # simplicity changes only next to deleted pixels
            memo[current[j]] = -1
            for k in range(8):
                memo[current[j] + sh[k]] = -1
        nf = 0
        rnd += 1
        for j in range(nc):
            for k in range(8):
                q = current[j] + sh[k]
                if seen[q] == rnd:  # already examined in this round (the image is fixed)
                    continue
                seen[q] = rnd
                if not queued[q] and _is_simple(img, anchor, q, sh, table, memo) and _independent(
                        img, anchor, q, sh, table, memo, four, dia, dib, sa, sb, sc, sd):
                    queued[q] = True
                    following[nf] = q
                    nf += 1
        current, following = following, current
        nc = nf


def _thin_anchored(region: np.ndarray, anchor: np.ndarray, fg_graph: int) -> np.ndarray:
    """Order-independent homotopic thinning of ``region`` keeping every ``anchor`` pixel.

    As in GWB, the outer two rows and columns of ``region`` and of ``anchor`` are cleared first
    (``anchor`` is cleared in place).
    """
    for a in (region, anchor):
        a[:2, :] = a[-2:, :] = False
        a[:, :2] = a[:, -2:] = False
    ny, nx = region.shape
    img = region.astype(np.uint8).ravel()
    anc = anchor.ravel().copy()
    sh = (_DY * nx + _DX).astype(np.int64)
    table = _SIMPLE8 if fg_graph == 8 else _SIMPLE4
    _thin_loop(img, anc, sh, table, fg_graph == 4, _DIAG_A, _DIAG_B, _SIDE_A, _SIDE_B,
               _SIDE_C, _SIDE_D, 2 * nx + 2, img.size - 2 * nx - 2)
    return img.reshape(ny, nx).astype(bool)


# --- constrained (geodesic) Euclidean distance (own code, numba) -----------------------------
# GWB widens the skeleton by a geodesic distance computed with an ordered propagation of
# Euclidean vectors whose line of sight (Bresenham) must stay in the mask; scipy/scikit-image have
# no geodesic Euclidean distance, and the value of a pixel depends on the propagation order.

@njit(cache=True, nogil=True)
def _line_in_mask(mask, start, x2, y2, nx):
    dx = abs(x2)
    dy = abs(y2)
    s1 = 1 if x2 > 0 else (-1 if x2 < 0 else 0)
    s2 = 1 if y2 > 0 else (-1 if y2 < 0 else 0)
    interchange = dy > dx
    if interchange:
        dx, dy = dy, dx
    d = 2 * dy - dx
    incr1 = 2 * dy
    incr2 = 2 * (dy - dx)
    x = 0
    y = 0
    while (abs(y) if interchange else abs(x)) < dx:
        if interchange:
            y += s2
        else:
            x += s1
        if d < 0:
            d += incr1
        else:
            d += incr2
            if interchange:
                x += s1
            else:
                y += s2
        if mask[start + x + y * nx] == 0:
            return False
    return True


@njit(cache=True, nogil=True)
def _constrained_loop(ref, mask, nx):
    n = ref.size
    unset = np.int64(32767)
    state = mask.astype(np.uint8)  # 0 outside, 1 mask, 2 queued, 3 reference
    px = np.full(n, unset, dtype=np.int64)
    py = np.full(n, unset, dtype=np.int64)
    pb = np.zeros(n, dtype=np.float32)
    sh = np.array([-nx, -1, nx, 1], dtype=np.int64)
    ddx = np.array([0, 1, 0, -1], dtype=np.int64)
    ddy = np.array([1, 0, -1, 0], dtype=np.int64)
    wave = np.empty(n + 1, dtype=np.int64)
    nxt = np.empty(n + 1, dtype=np.int64)
    nw = 0
    for i in range(n):
        if ref[i] and state[i]:
            state[i] = 3
            px[i] = 0
            py[i] = 0
            for k in range(4):
                j = i + sh[k]
                if state[j] == 1 and not ref[j]:
                    wave[nw] = j
                    nw += 1
                    state[j] = 2
    big = np.float32(3.4028235e38)
    while nw > 0:
        dmin = big
        for w in range(nw):
            o = wave[w]
            if px[o] != unset:
                continue
            dp = big
            for k in range(4):
                j = o + sh[k]
                if px[j] == unset:
                    continue
                src = j - px[j] - py[j] * nx
                if _line_in_mask(state, src, px[j] + ddx[k], py[j] + ddy[k], nx):
                    vx = px[j] + ddx[k]
                    vy = py[j] + ddy[k]
                    dcrt = np.float32(math.sqrt(float(vx * vx + vy * vy)) + np.float64(pb[j]))
                    if dcrt < dp:
                        px[o] = vx
                        py[o] = vy
                        pb[o] = pb[j]
                        dp = dcrt
                else:
                    dcrt = np.float32(math.sqrt(float(px[j] * px[j] + py[j] * py[j]))
                                      + np.float64(pb[j]) + 1.0)
                    if dcrt < dp:
                        px[o] = ddx[k]
                        py[o] = ddy[k]
                        pb[o] = np.float32(np.float64(dcrt) - 1.0)
                        dp = dcrt
            if dmin > dp:
                dmin = dp
        nn = 0
        for w in range(nw):
            o = wave[w]
            if math.sqrt(float(px[o] * px[o] + py[o] * py[o])) + np.float64(pb[o]) \
                    > np.float64(dmin):
                nxt[nn] = o
                nn += 1
            else:
                for k in range(4):
                    j = o + sh[k]
                    if state[j] == 1:
                        nxt[nn] = j
                        nn += 1
                        state[j] = 2
        wave, nxt = nxt, wave
        nw = nn
    out = np.zeros(n, dtype=np.float32)
    for i in range(n):
        if px[i] != unset:
            out[i] = pb[i] + np.float32(math.sqrt(float(px[i] * px[i] + py[i] * py[i])))
    return out


def _constrained_distance(ref: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Geodesic Euclidean distance from ``ref`` within ``mask`` (0 where unreached), float32."""
    r = np.pad(ref, 1).astype(np.uint8)
    m = np.pad(mask, 1).astype(np.uint8)
    d = _constrained_loop(r.ravel(), m.ravel(), r.shape[1])
    return d.reshape(r.shape)[1:-1, 1:-1]


# --- flooding of core labels (own code, numba) -----------------------------------------------
# GWB decides bridge vs loop by flooding the core labels over the core neighbourhood and the
# connectors in first-come order (a watershed at a single level); skimage.segmentation.watershed
# breaks ties between labels differently, which changes bridge/loop on touching floods.

@njit(cache=True, nogil=True)
def _flood_loop(labels, passable, sh, ninit):
    n = labels.size
    pending = np.zeros(n, dtype=np.bool_)
    queue = np.empty(n, dtype=np.int64)
    head = 0
    tail = 0
    blocked = np.int64(2**31 - 1)
    for lo, hi in ((0, ninit), (ninit, sh.size)):
        for i in range(n):
            if labels[i] > 0 and labels[i] < blocked and not pending[i]:
                for k in range(lo, hi):
                    j = i + sh[k]
                    if labels[j] == 0:
                        if passable[j]:
                            labels[j] = labels[i]
                            pending[j] = True
                            queue[tail] = j
                            tail += 1
                        else:
                            labels[j] = blocked
    while head < tail:
        o = queue[head]
        head += 1
        for k in range(sh.size):
            j = o + sh[k]
            if labels[j] == 0:
                if passable[j]:
                    labels[j] = labels[o]
                    queue[tail] = j
                    tail += 1
                else:
                    labels[j] = blocked


def _flood_labels(seeds: np.ndarray, passable: np.ndarray, graph: int) -> np.ndarray:
    """Flood the labels of ``seeds`` over ``passable`` pixels (first come, FIFO)."""
    ny, nx = seeds.shape
    lab = seeds.astype(np.int64)
    lab[0, :] = lab[-1, :] = _LABEL_BLOCKED
    lab[:, 0] = lab[:, -1] = _LABEL_BLOCKED
    if graph == 8:  # N, W, S, E, NW, NE, SW, SE; the first four are seeded first
        sh = np.array([-nx, -1, nx, 1, -nx - 1, -nx + 1, nx - 1, nx + 1], dtype=np.int64)
    else:
        sh = np.array([-nx, -1, nx, 1], dtype=np.int64)
    flat = lab.ravel()
    _flood_loop(flat, passable.ravel(), sh, 4)
    lab = flat.reshape(ny, nx)
    lab[0, :] = lab[-1, :] = 0
    lab[:, 0] = lab[:, -1] = 0
    return lab


def _bridges(connector: np.ndarray, core: np.ndarray, opening: np.ndarray,
             graph: int) -> np.ndarray:
    """Connector components reached by more than one core label."""
    structure = _structure(graph)
    core_lab, _ = ndimage.label(core, structure=structure)
    flooded = _flood_labels(core_lab, opening | connector, graph)
    # As GWB's labelling, ignore the outermost ring of pixels (it lies in the frame).
    inner = connector.copy()
    inner[0, :] = inner[-1, :] = False
    inner[:, 0] = inner[:, -1] = False
    conn_lab, n = ndimage.label(inner, structure=structure)
    if n == 0:
        return np.zeros_like(connector)
    # A component is a bridge when its pixels carry more than one flooded label.
    lab = conn_lab[inner]
    val = flooded[inner]
    one = np.zeros(n + 1, dtype=np.int64)
    one[lab] = val
    keep = np.zeros(n + 1, dtype=bool)
    keep[lab[val != one[lab]]] = True
    return keep[conn_lab]


# --- the segmentation ------------------------------------------------------------------------

def _check(foreground: np.ndarray, edge_width: int, connectivity: int,
           valid: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    if int(edge_width) != edge_width or edge_width < 1:
        raise ConfigError(f"MSPA edge_width {edge_width!r} must be an integer ≥ 1")
    _structure(connectivity)
    fg = np.asarray(foreground, dtype=bool)
    if fg.ndim != 2:
        raise DataError(f"MSPA needs a 2-D foreground, got shape {fg.shape}")
    valid = np.ones_like(fg) if valid is None else np.asarray(valid, dtype=bool)
    if valid.shape != fg.shape:
        raise DataError(f"MSPA valid mask has shape {valid.shape}, expected {fg.shape}")
    if not valid.any():
        raise DataError("MSPA: the land cover has no valid cell (all no data)")
    fg = fg & valid
    if not fg.any():
        raise DataError(
            "MSPA: no ecological land (foreground) on the grid; check ecology.foreground_classes "
            "and the land-cover mapping"
        )
    return fg, valid


def mspa(
    foreground: np.ndarray,
    *,
    edge_width: int = 1,
    connectivity: int = 8,
    transition: bool = True,
    intext: bool = True,
    valid: np.ndarray | None = None,
) -> np.ndarray:
    """Segment a binary foreground into the MSPA classes, pixel for pixel as GWB_MSPA.

    Parameters
    ----------
    foreground
        2-D boolean array, True = foreground (ecological land).
    edge_width
        GWB ``EdgeWidth`` in pixels (≥ 1).
    connectivity
        GWB ``FGconn``: foreground connectivity, 8 or 4.
    transition
        GWB ``Transition``. It changes only GWB's display colours, never the byte values; kept
        for the record (the codes are the same either way).
    intext
        GWB ``IntExt``: add 100 to foreground classes inside core holes and code core-openings
        100 and border-openings 220.
    valid
        Boolean array, False where there is no data (GWB missing, coded :data:`MSPA_NODATA`);
        ``None`` = all valid.

    Returns
    -------
    numpy.ndarray
        uint8 array of GWB byte codes (see the module docstring).

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
    fg, valid = _check(foreground, edge_width, connectivity, valid)
    bg_graph = 4 if connectivity == 8 else 8
    size = np.float32((float(edge_width) + 0.98) / math.sqrt(2.0))
    k = _squared_radius(np.float32(size * _SQRT2))  # t = w + 0.98 as a squared pixel distance
    t_geo = np.float32(np.float32(size - np.float32(1.0)) * _SQRT2)
    frame = int(float(size) * 1.5 + 0.5) + 1

    im = np.where(fg, 2, np.where(valid, 1, 0)).astype(np.uint8)
    im_framed = np.pad(im, frame)
    i0 = _absorb_missing(im_framed, k)[frame:-frame, frame:-frame]
    i0 = _replicate_border(i0, frame)

    core = _core(i0, k)
    islet = i0 & ~_reconstruct(core, i0, connectivity)
    opening = core | _outer_band(core, k)
    edges, perforation = _edge_and_perforation(core, k, connectivity, bg_graph)
    residues = i0 & ~core & ~islet & ~perforation & ~edges
    out = (i0.astype(np.uint8) | islet.astype(np.uint8) << 3
           | perforation.astype(np.uint8) << 2 | edges.astype(np.uint8) << 1)

    skeleton = _thin_anchored(opening | residues, core, connectivity) & ~core
    band = (opening & ~core) | residues
    connector = skeleton.copy()
    if t_geo >= np.float32(1.0):  # the widening reaches no pixel for edge_width 1
        geo = _constrained_distance(skeleton, band)
        connector |= (geo >= np.float32(0.0001)) & (geo <= t_geo)
    connector &= band & _reconstruct(skeleton, band, connectivity)
    bridge = _bridges(connector, core, opening, connectivity)
    loop = connector & ~bridge
    out |= core.astype(np.uint8) << 4 | bridge.astype(np.uint8) << 5 \
        | loop.astype(np.uint8) << 6

    if intext:
        i0_open = _absorb_missing(im_framed, _squared_radius(_SQRT2))
        holes_all = _fill_holes(i0_open, bg_graph) & ~i0_open
        core_holes = _fill_holes(core, bg_graph) & ~core
        internal = _fill_holes(core_holes, bg_graph)
        out = out + internal.astype(np.uint8) * MSPA_INTERNAL_OFFSET
        border_opening = holes_all & ~core_holes
        out[border_opening] = np.maximum(out[border_opening], MSPA_BORDER_OPENING)

    out = out[frame:-frame, frame:-frame].copy()
    out[~valid] = MSPA_NODATA
    if edge_width == 1:
        out[out == 2] = 0
    logger.info("MSPA (edge width %d, %d-connectivity): %s", edge_width, connectivity,
                {name: int(np.isin(out, vals).sum()) for name, vals in MSPA_CLASS_VALUES.items()})
    return out


# --- statistics (GWB_MSPA's summary file) ----------------------------------------------------

#: Rows of GWB's MSPA statistics, in GWB's order (CORE(s) and CORE(l) are always empty in GWB).
MSPA_STAT_ROWS = ("core", "islet", "perforation", "edge", "loop", "bridge", "branch",
                  "background", "missing", "opening", "core_opening", "border_opening")


@dataclass(frozen=True)
class MspaStatistics:
    """What GWB_MSPA writes to its statistics file, unrounded.

    Attributes
    ----------
    fg_area_px
        Foreground pixels (``FG_area``: image minus background minus missing).
    ifg_area_px
        Integral foreground (``iFG_area``): foreground plus openings (openings only with IntExt).
    fg_percent
        Share of the foreground [%] per class (``FG`` column) for the seven classes.
    data_percent
        Share of the data area (pixels that are not missing) [%] per class (``data`` column);
        for ``missing`` the share of the whole image, for openings the share of the data area.
    count
        Number of objects per row: connected components, foreground classes with the foreground
        connectivity, background and openings with the other one, missing with 8-connectivity;
        ``opening`` = core-openings + border-openings.
    area_px
        Pixels per row.
    porosity_percent
        100 − 100 · (core + edge + perforation) / (core + edge + perforation + core-opening).
    """

    fg_area_px: int
    ifg_area_px: int
    fg_percent: dict[str, float]
    data_percent: dict[str, float]
    count: dict[str, int]
    area_px: dict[str, int]
    porosity_percent: float


def _count_objects(mask: np.ndarray, graph: int) -> int:
    if not mask.any():
        return 0
    return int(ndimage.label(mask, structure=_structure(graph))[1])


def mspa_statistics(
    codes: np.ndarray, *, connectivity: int = 8, intext: bool = True
) -> MspaStatistics:
    """Summary statistics of an MSPA raster, with GWB_MSPA's definitions.

    Transition pixels count with the band they cross (bridge/loop in edge → edge, in perforation
    → perforation); internal (+100) codes count with their class. Percentages of the foreground
    are relative to the foreground pixels, percentages of data to the pixels that are not missing.

    Parameters
    ----------
    codes
        Output of :func:`mspa`.
    connectivity
        The foreground connectivity the MSPA was run with (for the object counts).
    intext
        Whether the MSPA was run with ``intext=True`` (GWB leaves the opening rows empty
        otherwise: their figures are then 0 here).

    Returns
    -------
    MspaStatistics

    Raises
    ------
    DataError
        No data pixel or no foreground pixel in ``codes``.
    """
    codes = np.asarray(codes)
    fg_graph = connectivity
    bg_graph = 4 if _structure(connectivity).all() else 8
    missing = codes == MSPA_NODATA
    n_data = int((~missing).sum())
    background = np.isin(codes, (0, MSPA_CORE_OPENING, MSPA_BORDER_OPENING))
    n_fg = n_data - int(background.sum())
    if n_data == 0 or n_fg == 0:
        raise DataError("MSPA statistics: the raster has no data or no foreground pixel")
    area: dict[str, int] = {}
    count: dict[str, int] = {}
    for name, values in MSPA_CLASS_VALUES.items():
        mask = np.isin(codes, values)
        area[name] = int(mask.sum())
        count[name] = _count_objects(mask, fg_graph)
    area["background"] = int(background.sum())
    count["background"] = _count_objects(background, bg_graph)
    area["missing"] = int(missing.sum())
    count["missing"] = _count_objects(missing, 8)
    for name, value in (("core_opening", MSPA_CORE_OPENING),
                        ("border_opening", MSPA_BORDER_OPENING)):
        mask = codes == value
        area[name] = int(mask.sum()) if intext else 0
        count[name] = _count_objects(mask, bg_graph) if intext else 0
    area["opening"] = area["core_opening"] + area["border_opening"]
    count["opening"] = count["core_opening"] + count["border_opening"]
    fg_percent = {name: 100.0 * area[name] / n_fg for name in MSPA_CLASS_VALUES}
    data_percent = {name: 100.0 * area[name] / n_data for name in MSPA_CLASS_VALUES}
    for name in ("background", "core_opening", "border_opening"):
        data_percent[name] = 100.0 * area[name] / n_data
    data_percent["missing"] = 100.0 * area["missing"] / codes.size
    contiguous = area["core"] + area["edge"] + area["perforation"]
    internal = contiguous + area["core_opening"]
    porosity = 100.0 - 100.0 * contiguous / internal if internal else 0.0
    return MspaStatistics(
        fg_area_px=n_fg,
        ifg_area_px=n_fg + (area["opening"] if intext else 0),
        fg_percent=fg_percent,
        data_percent=data_percent,
        count=count,
        area_px=area,
        porosity_percent=porosity,
    )
