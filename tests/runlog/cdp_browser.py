"""A headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`).

Enough for the viewer's live test: open a page, evaluate script in it, and await a condition
in the page (a MutationObserver resolves a promise; no polling from Python). Chosen over
Playwright because Chromium is already here and the protocol on a pipe needs no package, no
driver process and no port: commands go in on fd 3, answers come back on fd 4, NUL-separated.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

# Puts the two pipe ends on fds 3 and 4, where Chromium looks for them, then becomes Chromium.
_LAUNCHER = """
import fcntl, os, sys
r, w = int(sys.argv[1]), int(sys.argv[2])
a, b = fcntl.fcntl(r, fcntl.F_DUPFD, 10), fcntl.fcntl(w, fcntl.F_DUPFD, 10)
os.dup2(a, 3)
os.dup2(b, 4)
for fd in {r, w, a, b} - {3, 4}:
    os.close(fd)
os.execv(sys.argv[3], sys.argv[3:])
"""

_WAIT = """
new Promise((resolve, reject) => {
  let observer = null;
  const timer = setTimeout(() => {
    if (observer) observer.disconnect();
    reject(new Error("timed out after %(ms)d ms waiting for: " + %(src)s));
  }, %(ms)d);
  const check = () => {
    let value = false;
    try { value = (%(expr)s); } catch (e) { value = false; }
    if (value) { if (observer) observer.disconnect(); clearTimeout(timer); resolve(value); }
    return value;
  };
  if (!check()) {
    observer = new MutationObserver(check);
    observer.observe(document, {subtree: true, childList: true, characterData: true,
                                attributes: true});
  }
})
"""


class CdpError(RuntimeError):
    pass


class Browser:
    """One headless Chromium with one page; use as a context manager."""

    def __init__(self, executable: str, profile: Path, *, timeout_s: float = 30.0) -> None:
        self.timeout_s = timeout_s
        cmd_r, self._cmd_w = os.pipe()
        self._out_r, out_w = os.pipe()
        profile.mkdir(parents=True, exist_ok=True)
        self._log = (profile / "chromium.log").open("wb")
        flags = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            f"--user-data-dir={profile / 'data'}",
            "--window-size=1280,900",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, str(cmd_r), str(out_w), executable, *flags],
            pass_fds=(cmd_r, out_w),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
        )
        os.close(cmd_r)
        os.close(out_w)
        self._next_id = 0
        self._buffer = b""
        self.events: list[dict[str, Any]] = []
        self._session: str | None = None

    # -- the protocol -------------------------------------------------------------------------
    def send(self, method: str, params: dict[str, Any] | None = None, *, page: bool = True) -> Any:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if page and self._session is not None:
            message["sessionId"] = self._session
        os.write(self._cmd_w, json.dumps(message).encode() + b"\0")
        wanted = self._next_id
        deadline = time.monotonic() + self.timeout_s
        while True:
            reply = self._read(deadline)
            if reply.get("id") == wanted:
                if "error" in reply:
                    raise CdpError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout_s
        while True:
            for i, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._read(deadline))

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._out_r], [], [], max(left, 0))
            if not ready:
                raise CdpError(f"Chromium did not answer within {self.timeout_s} s")
            chunk = os.read(self._out_r, 1 << 16)
            if not chunk:
                raise CdpError(f"Chromium exited (see {self._log.name})")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    # -- a page ---------------------------------------------------------------------------------
    def open(self, url: str) -> None:
        """Open `url` in a new page and wait for its load event."""
        target = self.send("Target.createTarget", {"url": "about:blank"}, page=False)
        attached = self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, page=False
        )
        self._session = attached["sessionId"]
        self.send("Page.enable")
        self.send("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def evaluate(self, expression: str, *, await_promise: bool = False) -> Any:
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": await_promise},
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CdpError(f"in the page: {text}")
        return result["result"].get("value")

    def wait_for(self, expression: str, *, timeout_s: float = 15.0) -> Any:
        """Await, in the page, the first truthy value of `expression` as the DOM changes."""
        ms = int(timeout_s * 1000)
        script = _WAIT % {"expr": expression, "src": json.dumps(expression), "ms": ms}
        return self.evaluate(script, await_promise=True)

    # -- lifetime -------------------------------------------------------------------------------
    def close(self) -> None:
        try:
            if self._proc.poll() is None:
                self.send("Browser.close", page=False)
        except (CdpError, OSError):
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for fd in (self._cmd_w, self._out_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self._log.close()

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
