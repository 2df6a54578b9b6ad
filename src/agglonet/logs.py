"""Logging set-up for rule scripts, and the one message a user sees when a rule stops.

:func:`setup_logging` also installs :func:`report_error` as the script's exception hook: an
expected error (the :class:`~agglonet.errors.AgglonetError` family: a bad value or input) is
reported as one block naming the rule, its wildcards and inputs, the problem and the fix, with
no traceback; anything else (a bug) keeps Python's traceback. The block goes to the rule's log,
to stderr, and to the run's temporary folder, from which the Snakefile's ``onerror`` handler
prints it again as the last thing of the run.
"""

from __future__ import annotations

import atexit
import logging
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from agglonet.errors import AgglonetError

logger = logging.getLogger("agglonet")

#: What a user does after an expected error, unless the error names its own fix.
DEFAULT_FIX = ("correct the value or file named above and run the same command again; finished "
               "steps are kept, and this one starts over (nothing half-written was kept)")
#: Libraries whose INFO records say nothing a user acts on (pyogrio's "Created N records" after
#: every layer written): only their warnings and errors reach the logs.
QUIET_LOGGERS: tuple[str, ...] = ("pyogrio", "fiona", "rasterio", "matplotlib", "fontTools",
                                  "weasyprint", "numba")
#: Files holding the blocks of failed jobs, in the run's temporary folder.
ERROR_FILE_GLOB = "*-error.txt"


def setup_logging(log_path: str | Path | None = None, level: int = logging.INFO) -> None:
    """Send agglonet's log records to ``log_path`` (a rule's ``log:``) and to stderr.

    Also installs :func:`report_error` as :data:`sys.excepthook`.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    logging.captureWarnings(True)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    sys.excepthook = report_error
    atexit.unregister(log_peak_memory)      # once, however often the logging is set up
    atexit.register(log_peak_memory)


#: Start of the line :func:`log_peak_memory` writes (read back by tools/scaling).
PEAK_MEMORY_PREFIX = "peak memory (kernel):"


def peak_memory_mb() -> tuple[float, float]:
    """Peak resident set of this process and of its largest finished child process (MB).

    The kernel's high-water marks, so no peak between two samples is missed, as it can be by
    Snakemake's ``benchmark:`` (which samples every 0.5 s for the first 15 s of a job, then
    every 30 s). This process's figure is ``VmHWM`` of ``/proc/self/status``, the high-water
    mark of its own memory since it started: ``getrusage``'s ``ru_maxrss`` is not, as Linux
    carries it over ``execve`` from the process that started this one (Snakemake, or pytest),
    so a small script started by a large parent would report the parent's peak. Where
    ``/proc`` is missing (not Linux), ``ru_maxrss`` is the fallback. The child figure is
    ``ru_maxrss`` of the children (a forked child's includes the pages it still shares with
    this process).
    """
    own = _vm_hwm_mb()
    if own is None:
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0       # KiB on Linux
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return own, child


def _vm_hwm_mb(status: Path = Path("/proc/self/status")) -> float | None:
    """``VmHWM`` of ``status`` in MB, or None where the file or the field is missing."""
    try:
        lines = status.read_text(encoding="ascii", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0                                # kB
    return None


def log_peak_memory() -> None:
    """Log :func:`peak_memory_mb` as the last line of a rule's log (registered at exit).

    Only handlers whose stream is still open get the line: at exit, a test runner may
    already have closed the stderr it lent to the logging.
    """
    if not logger.isEnabledFor(logging.INFO):
        return
    own, child = peak_memory_mb()
    if child:
        message = (f"{PEAK_MEMORY_PREFIX} {own:.0f} MB resident; largest child process "
                   f"{child:.0f} MB (it shares pages with this one)")
    else:
        message = f"{PEAK_MEMORY_PREFIX} {own:.0f} MB resident"
    record = logger.makeRecord(logger.name, logging.INFO, __file__, 0, message, (), None)
    for handler in logging.getLogger().handlers:
        stream = getattr(handler, "stream", None)
        if stream is not None and not getattr(stream, "closed", False):
            handler.handle(record)


#: Seconds between two progress lines of one step (and before the first).
PROGRESS_INTERVAL_S = 10.0


class Progress:
    """Progress of a long step, logged at most every ``interval_s`` seconds.

    A step that ends within ``interval_s`` logs nothing; a longer one logs lines such as
    ``circuit pair 3/12 (25 %), 41 s`` — each with its count, so no two lines repeat — and,
    when it logged any, one closing line with the total and the time taken.

    Parameters
    ----------
    what
        Name of the items counted (``circuit pair``, ``road link``, ``download foo.pbf``).
    total
        Number of items (or bytes), if known.
    logger
        Logger of the module doing the work (its name shows in the log).
    interval_s
        Minimum seconds between lines; :data:`PROGRESS_INTERVAL_S` when not given.
    unit
        ``"MB"`` counts bytes and shows them in megabytes; otherwise counts items.
    clock
        Source of monotonic seconds (tests pass a fake one).

    Examples
    --------
    >>> import logging
    >>> progress = Progress("pair", 3, logger=logging.getLogger("x"))
    >>> for _ in range(3):
    ...     progress.advance()
    >>> progress.done, progress.lines
    (3, 0)
    """

    def __init__(self, what: str, total: int | None = None, *,
                 logger: logging.Logger | None = None, interval_s: float | None = None,
                 unit: str = "", clock: Callable[[], float] = time.monotonic) -> None:
        self.what, self.total, self.unit = what, total, unit
        self.logger = logger or logging.getLogger("agglonet")
        self.interval_s = PROGRESS_INTERVAL_S if interval_s is None else interval_s
        self._clock = clock
        self.start_s = clock()
        self._last_s = self.start_s
        self.done = 0
        self.lines = 0

    def _count(self, n: int) -> str:
        if self.unit == "MB":
            return f"{n / 1e6:.1f}"
        return f"{n:,}"

    def _message(self, elapsed_s: float) -> str:
        text = f"{self.what} {self._count(self.done)}"
        if self.total:
            text += f"/{self._count(self.total)}"
            if self.unit:
                text += f" {self.unit}"
            text += f" ({100 * self.done / self.total:.0f} %)"
        elif self.unit:
            text += f" {self.unit}"
        return f"{text}, {elapsed_s:.0f} s"

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more items done; log a line if ``interval_s`` passed since the last."""
        self.done += n
        now = self._clock()
        if now - self._last_s >= self.interval_s and (self.total is None
                                                      or self.done < self.total):
            self._last_s = now
            self.lines += 1
            self.logger.info("%s", self._message(now - self.start_s))

    def finish(self) -> None:
        """Log the closing line (total and time), only if the step logged progress."""
        if self.lines:
            elapsed = self._clock() - self.start_s
            self.lines += 1
            self.logger.info("%s done in %.0f s", self._message(elapsed).rsplit(",", 1)[0],
                             elapsed)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.finish()


def _job() -> Any:
    """Return the ``snakemake`` object of a rule script (a global of ``__main__``), or None."""
    return getattr(sys.modules.get("__main__"), "snakemake", None)


def _text(value: Any) -> str:
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def _named(items: Any) -> str:
    """``name=value, ...`` of a Snakemake named list (its unnamed items when it has no names)."""
    if items is None:
        return ""
    pairs = list(items.items()) if hasattr(items, "items") else []
    if pairs:
        return ", ".join(f"{k}={_text(v)}" for k, v in pairs)
    return ", ".join(map(str, items))


def format_error(exc: BaseException, *, job: Any = None) -> str:
    """Return the block a user sees for an expected error: rule, wildcards, inputs, problem, fix."""
    lines = []
    if job is not None:
        wildcards = _named(getattr(job, "wildcards", None))
        lines.append(f"agglonet: rule {job.rule}" + (f" ({wildcards})" if wildcards else "")
                     + " stopped")
    else:
        lines.append("agglonet: stopped")
    problem = str(exc).strip().replace("\n", "\n           ")
    lines.append(f"  problem: {problem}")
    if job is not None:
        inputs = _named(getattr(job, "input", None))
        if inputs:
            lines.append(f"  input:   {inputs}")
        if getattr(job, "log", None):
            lines.append(f"  log:     {', '.join(map(str, job.log))}")
    lines.append(f"  fix:     {getattr(exc, 'fix', None) or DEFAULT_FIX}")
    return "\n".join(lines)


def report_error(
    kind: type[BaseException], exc: BaseException, tb: TracebackType | None,
) -> None:
    """Exception hook: one block for an :class:`AgglonetError`, Python's traceback otherwise."""
    if not isinstance(exc, AgglonetError):
        sys.__excepthook__(kind, exc, tb)
        return
    job = _job()
    block = format_error(exc, job=job)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler) and handler.stream is not None:
            handler.stream.write(block + "\n")
            handler.flush()
    print(block, file=sys.stderr, flush=True)
    folder = os.environ.get("AGGLONET_TEMP_DIR")
    if folder and job is not None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{os.getpid()}-error.txt").write_text(block + "\n", encoding="utf-8")


def collect_error_blocks(folder: str | Path) -> list[str]:
    """Return the blocks failed jobs of this run left in the temporary folder (oldest first)."""
    files = sorted(Path(folder).glob(ERROR_FILE_GLOB), key=lambda p: p.stat().st_mtime)
    return [p.read_text(encoding="utf-8").rstrip() for p in files]
