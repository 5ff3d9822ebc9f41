#!/usr/bin/env python3
"""Take headless Chromium screenshots of the Dagster UI: a group's lineage, an asset's page.

    python3 dev.py ui &                  # the demo on http://127.0.0.1:3000
    .venv/bin/python scripts/screenshot_lineage.py --out lineage.png
    .venv/bin/python scripts/screenshot_lineage.py --asset blog/posts --out posts.png \
        --expect raw_blog.posts --text-out posts.txt
    .venv/bin/python scripts/screenshot_lineage.py --asset blog/posts --view lineage \
        --out downstream.png

Without `--asset`: the lineage page of an asset group, rendered with Chromium's own
`--screenshot`. The location defaults to the demo's (`rest_assets.demo.definitions`); pass
`--location` / `--group` for another project (the location name is shown in the UI and in
GraphQL `workspaceOrError`). With `--asset`: the asset's page (`--view overview`, with the
"Compute details" section that shows the code version opened) or its downstream lineage
(`--view lineage`), driven over Chromium's DevTools pipe, which waits until the page shows
every `--expect` text and can write the page's visible text (`--text-out`). Start the
webserver with `nux: {enabled: false}` in `$DAGSTER_HOME/dagster.yaml`, or the first-visit
"Join the Dagster community" dialog covers the page. Exits non-zero when Chromium fails,
writes no PNG, or an expected text never shows.
"""

from __future__ import annotations

import argparse
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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

DEFAULT_CHROMIUM = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_FLAGS = (
    "--headless",
    "--no-sandbox",  # containers and CI run as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
# The asset page's sidebar section that holds the code version is collapsed by default; the UI
# keeps a section's state in localStorage under this key (false: open).
OPEN_COMPUTE_DETAILS = {"collapsible-section-Compute details": "false"}


def find_chromium(explicit: str | None = None) -> str | None:
    """The Chromium binary to use: `explicit`, else the first known name on PATH."""
    if explicit:
        return explicit if Path(explicit).exists() or shutil.which(explicit) else None
    for name in DEFAULT_CHROMIUM:
        found = shutil.which(name)
        if found:
            return found
    return None


def lineage_url(base_url: str, location: str, group: str) -> str:
    """The UI page that draws one asset group's lineage graph."""
    return (
        f"{base_url.rstrip('/')}/locations/{quote(location, safe='')}"
        f"/asset-groups/{quote(group, safe='')}"
    )


def asset_url(base_url: str, asset: str, view: str = "overview") -> str:
    """The page of one asset (`blog/posts`): its overview, or its downstream lineage."""
    path = "/".join(quote(part, safe="") for part in asset.split("/"))
    url = f"{base_url.rstrip('/')}/assets/{path}"
    return f"{url}?view=lineage&lineageScope=downstream" if view == "lineage" else url


def screenshot(
    url: str,
    out: Path,
    *,
    chromium: str,
    width: int = 1600,
    height: int = 1000,
    budget_ms: int = 15000,
    timeout: float = 90.0,
) -> Path:
    """Render `url` headless and write a PNG to `out`; raises RuntimeError on failure."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="ra-chromium-") as profile:
        command = [
            chromium,
            *_FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={out}",
            f"--window-size={width},{height}",
            # The UI is a single-page app: give its GraphQL queries time to draw the graph.
            f"--virtual-time-budget={budget_ms}",
            url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if not out.exists() or out.stat().st_size == 0:
        raise RuntimeError(
            f"chromium wrote no screenshot (exit {done.returncode}): {done.stderr[-1500:]}"
        )
    return out


class _DevTools:
    """Chromium driven over `--remote-debugging-pipe`: JSON messages on fds 3 (in) and 4 (out),
    each ended by a NUL byte. Only the few commands a screenshot needs."""

    def __init__(self, chromium: str, profile: str, timeout: float) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # the child's ends above fd 4 first, so moving them to 3 and 4 clobbers neither
        to_browser_r, from_browser_w = _above_four(to_browser_r), _above_four(from_browser_w)

        def wire_pipes() -> None:  # in the child: the pipe ends become fds 3 and 4
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self.process = subprocess.Popen(
            [chromium, *_FLAGS, "--remote-debugging-pipe", f"--user-data-dir={profile}",
             "about:blank"],
            # close_fds would close 3 and 4 after wire_pipes; Python's own fds are not
            # inheritable (PEP 446), so only the two pipe ends reach chromium
            close_fds=False, preexec_fn=wire_pipes,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._timeout = timeout
        self._buffer = b""
        self._next_id = 0
        self.session: str | None = None

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Send one command (to the page session once attached) and wait for its answer."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if self.session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self._timeout
        while True:
            while b"\0" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    raise RuntimeError(f"chromium did not answer {method}")
                if not select.select([self._from_browser], [], [], min(left, 1.0))[0]:
                    continue
                chunk = os.read(self._from_browser, 1 << 16)
                if not chunk:
                    raise RuntimeError(f"chromium closed its pipe during {method}")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == message["id"]:
                if "error" in answer:
                    raise RuntimeError(f"chromium refused {method}: {answer['error']}")
                return dict(answer.get("result", {}))

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result.get("result", {}).get("value")

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.call("Browser.close")
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        os.close(self._to_browser)
        os.close(self._from_browser)


def _above_four(fd: int) -> int:
    """`fd` moved to a number above 4 (not inherited), the old number closed."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


def capture(  # noqa: PLR0913 - a page, its file, and how to frame it
    url: str,
    out: Path,
    *,
    chromium: str,
    width: int = 1600,
    height: int = 1000,
    local_storage: Mapping[str, str] | None = None,
    expect: Sequence[str] = (),
    settle: float = 2.0,
    timeout: float = 90.0,
) -> str:
    """Render `url` headless, wait for every `expect` text, write a PNG; returns the page text.

    `local_storage` is set on the page's origin first (UI state such as an open section).
    Raises RuntimeError when Chromium fails or an expected text never shows (the PNG of
    what it showed instead is still written).
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="ra-chromium-") as profile:
        browser = _DevTools(chromium, profile, timeout)
        try:
            target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            attached = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})
            browser.session = attached["sessionId"]
            browser.call("Page.enable")
            browser.call(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            )
            if local_storage:
                origin = "{0.scheme}://{0.netloc}/".format(urlsplit(url))
                seed = f"{origin}server_info"
                browser.call("Page.navigate", {"url": seed})
                _wait(browser, _loaded(seed), timeout)
                for key, value in local_storage.items():
                    browser.evaluate(
                        f"localStorage.setItem({json.dumps(key)}, {json.dumps(value)})"
                    )
            browser.call("Page.navigate", {"url": url})
            wanted = json.dumps(list(expect))
            shown = _wait(
                browser,
                f"{_loaded(url)} && {wanted}.every(t => document.body.innerText.includes(t))",
                timeout,
            )
            time.sleep(settle)  # the graph's layout settles after its data arrived
            text = str(browser.evaluate("document.body.innerText") or "")
            png = browser.call("Page.captureScreenshot", {"format": "png"})["data"]
            out.write_bytes(base64.b64decode(png))
        finally:
            browser.close()
    if not shown:
        missing = [t for t in expect if t not in text]
        raise RuntimeError(f"{url} never showed {missing} (screenshot in {out})")
    return text


def _loaded(url: str) -> str:
    """A JS condition: the page at `url` (not the one before it) has loaded."""
    return f"location.href === {json.dumps(url)} && document.readyState === 'complete'"


def _wait(browser: _DevTools, condition: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if browser.evaluate(condition):
            return True
        time.sleep(0.25)
    return False


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; ValueError when it is not a PNG."""
    head = path.read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG file")
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:3000", help="Dagster UI base URL")
    parser.add_argument("--location", default="rest_assets.demo.definitions")
    parser.add_argument("--group", default="blog", help="asset group (a source name)")
    parser.add_argument("--out", default="lineage.png", help="PNG to write")
    parser.add_argument("--chromium", help="Chromium binary (default: found on PATH)")
    parser.add_argument("--budget-ms", type=int, default=15000, help="virtual time to render")
    parser.add_argument("--asset", help="an asset key (blog/posts): its page instead of a group")
    parser.add_argument(
        "--view", choices=["overview", "lineage"], default="overview", help="with --asset"
    )
    parser.add_argument(
        "--expect", action="append", default=[], metavar="TEXT",
        help="with --asset: wait until the page shows TEXT (repeatable); fail if it never does",
    )  # fmt: skip
    parser.add_argument("--text-out", help="with --asset: write the page's visible text here")
    parser.add_argument("--width", type=int, default=1600, help="viewport width")
    parser.add_argument("--height", type=int, default=1000, help="viewport height")
    args = parser.parse_args(argv)
    chromium = find_chromium(args.chromium)
    if chromium is None:
        print("no chromium found; install it (apt-get install chromium)", file=sys.stderr)
        return 2
    if args.asset:
        url = asset_url(args.url, args.asset, args.view)
        out = Path(args.out)
        try:
            text = capture(
                url, out, chromium=chromium, expect=args.expect,
                width=args.width, height=args.height,
                local_storage=OPEN_COMPUTE_DETAILS if args.view == "overview" else None,
            )  # fmt: skip
        except RuntimeError as exc:
            print(str(exc), file=sys.stderr)
            return 1
        if args.text_out:
            Path(args.text_out).write_text(text)
    else:
        url = lineage_url(args.url, args.location, args.group)
        out = screenshot(
            url, Path(args.out), chromium=chromium, budget_ms=args.budget_ms,
            width=args.width, height=args.height,
        )  # fmt: skip
    width, height = png_size(out)
    print(f"{out}: {width}x{height}, {out.stat().st_size} bytes, from {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
