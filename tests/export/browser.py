"""A headless Chromium driven over the DevTools protocol through a pipe (standard library only).

Chromium's ``--remote-debugging-pipe`` reads protocol commands from file descriptor 3 and
writes replies and events to descriptor 4, NUL-separated JSON. No WebDriver, no websocket
library, no TCP port and no browser download: the system's ``chromium`` (Debian) is used.

Usage as a script (a screenshot of a page)::

    python tests/export/browser.py results/central_plains_core/map.html shot.png [en]
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
#: The flags every test run uses: headless, no sandbox (root in CI), nothing in the background
#: that could reach a network, and a fresh profile (--user-data-dir added at start).
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--remote-debugging-pipe")


def find_chromium() -> str | None:
    """Path of the system Chromium, or ``None``."""
    for path in CHROMIUM_CANDIDATES:
        if Path(path).is_file() and os.access(path, os.X_OK):
            return path
    return shutil.which("chromium")


class Chromium:
    """One headless browser with one page; collects every protocol event of the page."""

    def __init__(self, executable: str | None = None, *, width: int = 1280, height: int = 860,
                 timeout_s: float = 60.0) -> None:
        self.executable = executable or find_chromium()
        if self.executable is None:
            raise RuntimeError("no chromium found (apt-get install chromium)")
        self.width, self.height, self.timeout_s = width, height, timeout_s
        self.events: list[dict[str, Any]] = []
        self._next_id = 0
        self._buffer = b""
        self.session: str | None = None

    # ------------------------------------------------------------------ process
    def __enter__(self) -> Chromium:
        self.profile = tempfile.mkdtemp(prefix="agglonet-chromium-")
        cmd_read, self._cmd_write = os.pipe()   # we write commands, the browser reads fd 3
        self._event_read, event_write = os.pipe()  # the browser writes fd 4, we read

        def child_fds() -> None:  # runs in the child before exec
            # Duplicate above 10 first: dup2 onto the same number would keep close-on-exec.
            a = fcntl.fcntl(cmd_read, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(event_write, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.stderr = open(Path(self.profile) / "stderr.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [self.executable, *FLAGS, f"--user-data-dir={self.profile}",
             f"--window-size={self.width},{self.height}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.stderr,
            preexec_fn=child_fds, close_fds=False)  # noqa: PLW1509 (no threads here)
        os.close(cmd_read)
        os.close(event_write)
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": self.width, "height": self.height, "deviceScaleFactor": 1,
                   "mobile": False})
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError, TimeoutError, RuntimeError):
            self.call("Browser.close", session=False, timeout_s=10)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)
        for fd in (self._cmd_write, self._event_read):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.stderr.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    # ----------------------------------------------------------------- protocol
    def _read_messages(self, wait_s: float) -> list[dict[str, Any]]:
        ready, _, _ = select.select([self._event_read], [], [], wait_s)
        if ready:
            chunk = os.read(self._event_read, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe (crashed?)")
            self._buffer += chunk
        messages = []
        while b"\0" in self._buffer:
            raw, self._buffer = self._buffer.split(b"\0", 1)
            messages.append(json.loads(raw))
        return messages

    def call(self, method: str, params: dict[str, Any] | None = None, *,
             session: bool = True, timeout_s: float | None = None) -> dict[str, Any]:
        """Send one command (to the page unless ``session=False``) and return its result."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._cmd_write, json.dumps(message).encode("utf-8") + b"\0")
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        while time.monotonic() < deadline:
            for reply in self._read_messages(0.2):
                if reply.get("id") == self._next_id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply.get("result", {})
                if "method" in reply:
                    self.events.append(reply)
        raise TimeoutError(f"no answer to {method} within {timeout_s or self.timeout_s} s")

    def pump(self, seconds: float) -> None:
        """Collect events for a while."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.events.extend(m for m in self._read_messages(0.05) if "method" in m)

    # ------------------------------------------------------------------- page
    def open(self, url: str, *, ready: str = "true", timeout_s: float = 60.0) -> None:
        """Navigate and wait for the load event and for the JS expression ``ready``."""
        self.call("Page.navigate", {"url": url})
        self.wait_for("document.readyState === 'complete' && (" + ready + ")",
                      timeout_s=timeout_s)

    def evaluate(self, expression: str) -> Any:
        """Value of a JavaScript expression in the page (JSON-serialisable results)."""
        result = self.call("Runtime.evaluate", {"expression": expression,
                                                "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, *, timeout_s: float = 30.0) -> None:
        """Wait until a JavaScript expression is truthy."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if self.evaluate(expression):
                    return
            except RuntimeError:
                pass
            self.pump(0.1)
        raise TimeoutError(f"{expression!r} still false after {timeout_s} s")

    def click(self, x: float, y: float) -> None:
        """A real left click at page coordinates (CSS pixels)."""
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent",
                      {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})

    def screenshot(self, path: str | Path) -> Path:
        """Save a PNG of the viewport."""
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        path = Path(path)
        path.write_bytes(base64.b64decode(data))
        return path

    # ---------------------------------------------------------------- checks
    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries seen so far."""
        out = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append("console: " + " ".join(str(a.get("value", a.get("description")))
                                                  for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                out.append("exception: " + str(details.get("exception", {}).get(
                    "description", details.get("text"))))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                out.append(f"log ({entry.get('source')}): {entry.get('text')} "
                           f"{entry.get('url', '')}")
        return out

    def requests(self) -> list[str]:
        """URLs of every request the page made."""
        return [e["params"]["request"]["url"] for e in self.events
                if e.get("method") == "Network.requestWillBeSent"]

    def failed_requests(self) -> list[str]:
        """Requests that failed (with the reason)."""
        ids = {e["params"]["requestId"]: e["params"]["request"]["url"] for e in self.events
               if e.get("method") == "Network.requestWillBeSent"}
        return [f"{ids.get(e['params']['requestId'], '?')}: {e['params'].get('errorText')}"
                for e in self.events if e.get("method") == "Network.loadingFailed"]


if __name__ == "__main__":
    page, shot = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
    language = sys.argv[3] if len(sys.argv) > 3 else None
    with Chromium() as browser:
        browser.open(page.as_uri(), ready="window.agglonet && window.agglonet.ready")
        if language:
            browser.evaluate(f"window.agglonet.setLanguage({json.dumps(language)})")
        browser.pump(1.0)
        browser.screenshot(shot)
        print("errors:", browser.errors())
        print("requests:", [u[:80] for u in browser.requests()])
        print("failed:", browser.failed_requests())
