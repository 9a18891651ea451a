"""A minimal headless-Chromium driver for the browser tests (no Python dependency).

Chromium speaks the DevTools protocol over two pipes when started with
``--remote-debugging-pipe``: it reads NUL-terminated JSON commands on file
descriptor 3 and writes NUL-terminated JSON replies and events on descriptor 4
(what Puppeteer's ``pipe: true`` uses). That is all this module needs: no
websocket client, no driver download, just the Debian ``chromium`` package.

Finding the browser: ``$TOUCHPOINT_CHROMIUM``, then ``chromium``,
``chromium-browser``, ``google-chrome`` on ``PATH``. When none is found and the
process runs as root on Debian/Ubuntu, :func:`find_chromium` installs the
``chromium`` package with apt (what CI does). Otherwise the caller fails with
:data:`MISSING` as the message.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["MISSING", "Browser", "Page", "find_chromium"]

MISSING = (
    "headless Chromium is needed for the browser tests and none was found: install the "
    "Debian package 'chromium' (apt-get install -y chromium), or point $TOUCHPOINT_CHROMIUM "
    "at a Chromium/Chrome binary. To skip these tests knowingly, set "
    "TOUCHPOINT_SKIP_BROWSER=1."
)

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
    "--font-render-hinting=none",
)


def _which() -> str | None:
    env = os.environ.get("TOUCHPOINT_CHROMIUM")
    if env:
        return env if Path(env).is_file() else shutil.which(env)
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def find_chromium(*, install: bool = True) -> str | None:
    """The browser's path; installs Debian's ``chromium`` when root and apt exist."""
    found = _which()
    if found or not install:
        return found
    geteuid = getattr(os, "geteuid", None)
    if geteuid is None or geteuid() != 0 or shutil.which("apt-get") is None:
        return None
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
        if done.returncode != 0:
            return None
    return _which()


class Browser:
    """One headless Chromium process driven over the DevTools pipe."""

    def __init__(self, executable: str, *, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="touchpoint-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # the child must see the read end as fd 3 and the write end as fd 4
        self._proc = subprocess.Popen(
            [
                executable,
                *FLAGS,
                f"--user-data-dir={self._profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=_dup_to(to_child_r, from_child_w),  # noqa: PLW1509 - before exec only
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    # -- protocol -----------------------------------------------------------------------
    def send(self, method: str, params: dict[str, Any] | None = None, session: str = "") -> Any:
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._events.append(reply)

    def wait_event(self, method: str, session: str = "") -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while True:
            for i, ev in enumerate(self._events):
                if ev.get("method") == method and (not session or ev.get("sessionId") == session):
                    return self._events.pop(i)
            self._events.append(self._read(deadline))

    def _read(self, deadline: float) -> dict[str, Any]:
        import select

        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_child], [], [], left)
            if ready:
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe (it crashed?)")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        out: dict[str, Any] = json.loads(raw)
        return out

    # -- pages --------------------------------------------------------------------------
    def page(self, width: int = 1280, height: int = 900) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        page = Page(self, session)
        for m in ("Page.enable", "Runtime.enable"):
            self.send(m, session=session)
        page.resize(width, height)
        return page

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close")
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for fd in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _dup_to(read_fd: int, write_fd: int) -> Any:
    def child() -> None:  # pragma: no cover - runs in the forked child
        import fcntl

        # move both ends above 4 first: either may already sit on 3 or 4
        r = fcntl.fcntl(read_fd, fcntl.F_DUPFD, 10)
        w = fcntl.fcntl(write_fd, fcntl.F_DUPFD, 10)
        os.dup2(r, 3)
        os.dup2(w, 4)

    return child


class Page:
    """A tab: navigate, evaluate JavaScript, take full-page screenshots."""

    def __init__(self, browser: Browser, session: str) -> None:
        self.browser, self.session = browser, session
        self.width = 1280

    def resize(self, width: int, height: int) -> None:
        self.width = width
        self.browser.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=self.session,
        )

    def goto(self, url: str) -> None:
        self.browser.send("Page.navigate", {"url": url}, session=self.session)
        self.browser.wait_event("Page.loadEventFired", session=self.session)
        # let late layout (fonts, SVG, scripts such as plotly) settle
        self.evaluate("new Promise(r => requestAnimationFrame(() => setTimeout(r, 300)))")

    def evaluate(self, expression: str) -> Any:
        res = self.browser.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=self.session,
        )
        if "exceptionDetails" in res:
            raise RuntimeError(f"JavaScript error: {res['exceptionDetails']}")
        return res["result"].get("value")

    def screenshot(self, path: str | Path, *, full_page: bool = True) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            height = int(self.evaluate("document.documentElement.scrollHeight"))
            width = int(self.evaluate("document.documentElement.scrollWidth"))
            params |= {
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
            }
        data = self.browser.send("Page.captureScreenshot", params, session=self.session)["data"]
        out = Path(path)
        out.write_bytes(base64.b64decode(data))
        return out
