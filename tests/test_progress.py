"""Progress lines of long steps (agglonet.logs.Progress), with a fake clock."""

from __future__ import annotations

import logging

from agglonet.logs import Progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _run(caplog, steps_s, *, total, unit="", sizes=None):
    clock = FakeClock()
    logger = logging.getLogger("agglonet.test_progress")
    with caplog.at_level(logging.INFO, logger="agglonet.test_progress"), Progress(
            "circuit pair", total, logger=logger, interval_s=10, unit=unit,
            clock=clock) as progress:
        for i, step in enumerate(steps_s):
            clock.now += step
            progress.advance(sizes[i] if sizes else 1)
    return [r.getMessage() for r in caplog.records if r.name == "agglonet.test_progress"]


def test_short_step_logs_nothing(caplog):
    assert _run(caplog, [1.0] * 9, total=9) == []  # 9 s in all, under the interval


def test_long_step_logs_few_distinct_lines(caplog):
    # 12 pairs of 4 s each: lines at 12 s (3/12), 24 s (6/12), 36 s (9/12), then the closing one
    lines = _run(caplog, [4.0] * 12, total=12)
    assert lines == ["circuit pair 3/12 (25 %), 12 s", "circuit pair 6/12 (50 %), 24 s",
                     "circuit pair 9/12 (75 %), 36 s", "circuit pair 12/12 (100 %) done in 48 s"]
    assert len(set(lines)) == len(lines)


def test_bytes_in_megabytes_without_total(caplog):
    lines = _run(caplog, [6.0, 6.0], total=None, unit="MB", sizes=[2_500_000, 2_500_000])
    assert lines == ["circuit pair 5.0 MB, 12 s", "circuit pair 5.0 MB done in 12 s"]


def test_no_closing_line_after_an_error(caplog):
    clock = FakeClock()
    logger = logging.getLogger("agglonet.test_progress")
    with caplog.at_level(logging.INFO, logger="agglonet.test_progress"):
        try:
            with Progress("pair", 4, logger=logger, interval_s=1, clock=clock) as progress:
                clock.now += 2
                progress.advance()
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    assert [r.getMessage() for r in caplog.records] == ["pair 1/4 (25 %), 2 s"]
