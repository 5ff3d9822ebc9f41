#!/usr/bin/env python3
"""Take a headless Chromium screenshot of an asset group's lineage page in the Dagster UI.

    python3 dev.py ui &                  # the demo on http://127.0.0.1:3000
    .venv/bin/python scripts/screenshot_lineage.py --out lineage.png

The location defaults to the demo's (`rest_assets.demo.definitions`); pass `--location` /
`--group` for another project (the location name is shown in the UI and in GraphQL
`workspaceOrError`). Start the webserver with `nux: {enabled: false}` in
`$DAGSTER_HOME/dagster.yaml`, or the first-visit "Join the Dagster community" dialog covers
the graph. Exits non-zero when Chromium fails or writes no PNG.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

DEFAULT_CHROMIUM = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


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
    args = parser.parse_args(argv)
    chromium = find_chromium(args.chromium)
    if chromium is None:
        print("no chromium found; install it (apt-get install chromium)", file=sys.stderr)
        return 2
    url = lineage_url(args.url, args.location, args.group)
    out = screenshot(url, Path(args.out), chromium=chromium, budget_ms=args.budget_ms)
    width, height = png_size(out)
    print(f"{out}: {width}x{height}, {out.stat().st_size} bytes, from {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
