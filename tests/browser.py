"""Headless Chromium for the report tests: find it, open a page with the network cut off.

The browser tests need the Debian package `chromium` (.ci/run installs it); without it they
are skipped and say why. Chromium runs with every host name unresolvable, so nothing can
leave the machine even by accident, and its network log lists every request a page made.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

MISSING = (
    "chromium not found: install the Debian package `chromium` "
    "(apt-get install -y chromium; .ci/run does) to run the browser test"
)


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


def chromium_or_skip() -> str:
    browser = chromium()
    if browser is None:
        pytest.skip(MISSING)
    return browser


def browse(browser: str, page: Path, work: Path, *action: str) -> tuple[str, list[dict]]:
    """Open `page` headless with the network cut off; stdout and the page's URL requests."""
    work.mkdir(parents=True, exist_ok=True)
    net_log = work / "net.json"
    args = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={work / 'profile'}",
        f"--log-net-log={net_log}",
        "--window-size=1280,2000",
        *action,
        page.as_uri(),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    log = json.loads(net_log.read_text(encoding="utf-8"))
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    requests = [
        e["params"]
        for e in log["events"]
        if names.get(e["type"]) == "URL_REQUEST_START_JOB" and "url" in e.get("params", {})
    ]
    # the browser's own background requests have no origin; a page's requests have one
    by_page = [r for r in requests if r.get("initiator") != "not an origin"]
    return done.stdout, by_page
