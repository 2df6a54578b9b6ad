"""The kernel's peak memory of a rule script, logged at exit and read back for the tables."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools" / "scaling"))
from benchmark_table import kernel_peak_mb  # noqa: E402

SCRIPT = textwrap.dedent("""
    import os, sys
    import numpy as np
    from agglonet.logs import setup_logging
    setup_logging(sys.argv[1])
    if os.fork() == 0:                       # a child that touches 300 MB, then exits
        np.ones(300 * 2**20 // 8)
        os._exit(0)
    os.wait()
    a = np.ones(150 * 2**20 // 8)           # this process: 150 MB on top of its imports
    del a
""")


#: Runs SCRIPT from a parent that first holds 600 MB: Linux carries ``ru_maxrss`` over
#: ``execve``, so a figure taken from it would be the parent's peak, not the script's.
LARGE_PARENT = textwrap.dedent("""
    import subprocess, sys
    import numpy as np
    held = np.ones(600 * 2**20 // 8)
    subprocess.run([sys.executable, "-c", sys.argv[1], sys.argv[2]], check=True)
""")


def test_peak_memory_is_logged_at_exit_and_read_back(tmp_path):
    log = tmp_path / "logs" / "c" / "rule.log"
    subprocess.run([sys.executable, "-c", LARGE_PARENT, SCRIPT, str(log)], check=True,
                   capture_output=True)
    last = log.read_text(encoding="utf-8").strip().splitlines()[-1]
    assert "peak memory (kernel):" in last
    own, child = kernel_peak_mb(log)
    # freed before exit, yet counted: the high-water mark, not the size at exit; and the
    # script's own, not the 600 MB of the process that started it
    assert 150 + 20 < own < 150 + 400
    assert 300 < child < 300 + 400
    assert own < child


def test_peak_line_skips_a_closed_stderr(tmp_path):
    """At exit, a test runner may have closed the stream it lent: no 'Logging error'."""
    script = textwrap.dedent("""
        import io, sys
        from agglonet.logs import setup_logging
        lent = io.StringIO()
        sys.stderr, real = lent, sys.stderr
        setup_logging(sys.argv[1])
        sys.stderr = real
        lent.close()
    """)
    log = tmp_path / "rule.log"
    done = subprocess.run([sys.executable, "-c", script, str(log)], check=True,
                          capture_output=True, text=True)
    assert "Logging error" not in done.stderr
    assert "peak memory (kernel):" in log.read_text(encoding="utf-8")


def test_peak_line_without_child_and_missing_log(tmp_path):
    log = tmp_path / "a.log"
    log.write_text("2026-12-07 07:00:00,000 INFO agglonet: peak memory (kernel): 812 MB "
                   "resident\n", encoding="utf-8")
    assert kernel_peak_mb(log) == (812.0, 0.0)
    own, child = kernel_peak_mb(tmp_path / "missing.log")
    assert own != own and child != child          # NaN: no figure, not a zero
    log.write_text("x INFO agglonet: peak memory (kernel): 90 MB resident; largest child "
                   "process 2400 MB (it shares pages with this one)\n", encoding="utf-8")
    assert kernel_peak_mb(log) == pytest.approx((90.0, 2400.0))
