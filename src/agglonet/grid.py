"""The cluster grid: the raster frame every raster of a cluster shares."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from affine import Affine
from pyproj import CRS

from agglonet.crs import working_crs
from agglonet.errors import ConfigError

log = logging.getLogger(__name__)

#: Environment variable capping the memory (MB) :func:`check_memory` lets a grid stage plan for;
#: unset: what the machine (or the job's cgroup) has available when the stage starts.
MEMORY_LIMIT_ENV = "AGGLONET_MEMORY_LIMIT_MB"


@dataclasses.dataclass(frozen=True)
class GridSpec:
    """A north-up raster grid in a metric CRS.

    Attributes
    ----------
    transform
        Affine transform of the upper-left corner (pixel size ``resolution_m``).
    width, height
        Number of columns and rows.
    crs
        The working CRS (WKT string, so that the dataclass stays hashable and picklable).
    bounds
        ``(left, bottom, right, top)`` in metres.
    """

    transform: Affine
    width: int
    height: int
    crs: str
    bounds: tuple[float, float, float, float]

    @property
    def resolution_m(self) -> float:
        """Pixel size (metres)."""
        return float(self.transform.a)

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)``, the shape of an array on this grid."""
        return self.height, self.width

    def profile(self) -> dict[str, Any]:
        """Rasterio-style georeferencing (``transform``, ``width``, ``height``, ``crs``)."""
        return {"transform": self.transform, "width": self.width, "height": self.height,
                "crs": self.crs}


def cluster_grid(
    cluster_polygon: shapely.Geometry,
    *,
    buffer_m: float,
    resolution_m: float,
    crs: str | CRS | None = None,
) -> GridSpec:
    """Grid covering a cluster polygon plus a buffer, snapped outward to the resolution.

    Parameters
    ----------
    cluster_polygon
        The dissolved cluster polygon, in ``crs``.
    buffer_m
        Margin added on every side (metres).
    resolution_m
        Pixel size (metres).
    crs
        Working CRS of the polygon (metric); default :data:`agglonet.crs.CHINA_ALBERS`.

    Returns
    -------
    GridSpec
        Bounds are multiples of ``resolution_m``, so grids of neighbouring clusters align.

    Raises
    ------
    ConfigError
        Non-positive resolution, negative buffer or empty polygon.

    Examples
    --------
    >>> g = cluster_grid(shapely.box(1500, 2500, 9200, 7100), buffer_m=0, resolution_m=1000)
    >>> g.bounds, g.width, g.height
    ((1000.0, 2000.0, 10000.0, 8000.0), 9, 6)
    """
    if not resolution_m > 0:
        raise ConfigError(f"retrieve.resolution_m {resolution_m!r} must be > 0 (metres)")
    if buffer_m < 0:
        raise ConfigError(f"retrieve.buffer_km gives a buffer of {buffer_m!r} m; expected >= 0")
    if cluster_polygon is None or cluster_polygon.is_empty:
        raise ConfigError("cluster polygon is empty; cannot build a grid")
    target = working_crs(crs)
    minx, miny, maxx, maxy = cluster_polygon.bounds
    left = math.floor((minx - buffer_m) / resolution_m) * resolution_m
    bottom = math.floor((miny - buffer_m) / resolution_m) * resolution_m
    right = math.ceil((maxx + buffer_m) / resolution_m) * resolution_m
    top = math.ceil((maxy + buffer_m) / resolution_m) * resolution_m
    width = int(round((right - left) / resolution_m))
    height = int(round((top - bottom) / resolution_m))
    return GridSpec(
        transform=Affine(resolution_m, 0.0, left, 0.0, -resolution_m, top),
        width=width, height=height, crs=target.to_wkt(),
        bounds=(float(left), float(bottom), float(right), float(top)),
    )


def available_memory_mb() -> float:
    """Memory a new allocation can get now (MB): the smaller of the kernel's and the job's.

    The kernel's ``MemAvailable`` (``/proc/meminfo``), the job's cgroup limit minus its usage
    (a SLURM or container job, cgroup v2), and :data:`MEMORY_LIMIT_ENV` when set; the physical
    memory when none of them can be read.
    """
    limits = []
    if (env := os.environ.get(MEMORY_LIMIT_ENV)) is not None:
        try:
            limits.append(float(env))
        except ValueError:
            raise ConfigError(f"{MEMORY_LIMIT_ENV}={env!r}; expected a number of MB") from None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                limits.append(int(line.split()[1]) / 1024.0)
    except OSError:
        pass
    try:
        cgroup = Path("/sys/fs/cgroup")
        cap = (cgroup / "memory.max").read_text().strip()
        if cap != "max":
            used = int((cgroup / "memory.current").read_text().strip())
            limits.append((int(cap) - used) / 2**20)
    except (OSError, ValueError):
        pass
    if not limits:
        try:
            limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20)
        except (ValueError, OSError, AttributeError):
            return float("inf")
    return max(min(limits), 0.0)


def array_mb(shape: tuple[int, ...], dtype: Any, *, count: int = 1) -> float:
    """Size of ``count`` arrays of ``shape`` and ``dtype`` (MB), computed before allocating.

    Examples
    --------
    >>> array_mb((1000, 1000), "float64", count=2)
    16.0
    """
    return count * math.prod(shape) * np.dtype(dtype).itemsize / 1e6


def check_memory(
    shape: tuple[int, int],
    *,
    bytes_per_cell: float,
    what: str,
    resolution_m: float | None = None,
    available_mb: float | None = None,
) -> float:
    """Estimate a grid stage's arrays before allocating them; refuse what cannot fit.

    Parameters
    ----------
    shape
        ``(rows, columns)`` of the grid.
    bytes_per_cell
        Bytes the stage holds per grid cell at its peak (the sum of its arrays' item sizes,
        e.g. 8 for one float64 array).
    what
        What the arrays are for, for the message (e.g. ``"corridors: cost surfaces"``).
    resolution_m
        The grid's cell size, to suggest a coarser ``retrieve.resolution_m`` that fits.
    available_mb
        Memory the stage may use (MB); default :func:`available_memory_mb`.

    Returns
    -------
    float
        The estimate (MB).

    Raises
    ------
    ConfigError
        When the estimate exceeds the available memory; the message names
        ``retrieve.resolution_m`` and, given ``resolution_m``, the coarsest value that fits.

    Examples
    --------
    >>> check_memory((2000, 3000), bytes_per_cell=40, what="example", available_mb=1000)
    240.0
    """
    cells = math.prod(shape)
    need_mb = cells * bytes_per_cell / 1e6
    have_mb = available_memory_mb() if available_mb is None else float(available_mb)
    if need_mb <= have_mb:
        log.debug("%s: %.0f MB for %d × %d cells (%.0f MB available)", what, need_mb, *shape,
                  have_mb)
        return need_mb
    hint = ""
    if resolution_m is not None and have_mb > 0:
        coarser = resolution_m * math.sqrt(need_mb / have_mb)
        hint = f" of at least {math.ceil(coarser / 10.0) * 10:g} m"
    raise ConfigError(
        f"{what}: a grid of {shape[0]:,} × {shape[1]:,} = {cells:,} cells needs about "
        f"{need_mb:,.0f} MB ({bytes_per_cell:g} bytes per cell), more than the "
        f"{have_mb:,.0f} MB available; expected a coarser retrieve.resolution_m{hint} "
        "(or a smaller cluster, or a machine or job with more memory)",
        fix=f"raise retrieve.resolution_m{hint}")
