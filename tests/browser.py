"""Headless Chromium for the browser tests: find it, open a page with the network cut off.

The report test runs the Debian package `chromium` itself; the judging page's test drives
it through Selenium and the Debian package `chromium-driver` (.ci/run installs both).
Without them the tests are skipped and say why, except where EVALKIT_REQUIRE_BROWSER=1
(CI): there a missing browser fails them. Chromium runs with every host name
unresolvable, so nothing can leave the machine even by accident, and its network log
lists every request a page made. Selenium is given the driver's path, so its Selenium
Manager (which would download a driver) never runs.
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
MISSING_DRIVER = (
    "chromedriver not found: install the Debian package `chromium-driver` "
    "(apt-get install -y chromium-driver; .ci/run does) to run the browser test"
)
#: set to 1 (CI does) to fail, not skip, the browser tests where the browser is missing
REQUIRE = "EVALKIT_REQUIRE_BROWSER"
#: every host name fails to resolve, except the local server's
NO_NETWORK = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost"


def missing(reason: str) -> None:
    """Skip the test, or fail it where EVALKIT_REQUIRE_BROWSER=1."""
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{reason} ({REQUIRE}=1: the browser tests must run here)")
    pytest.skip(reason)


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


def chromium_or_skip() -> str:
    browser = chromium()
    if browser is None:
        missing(MISSING)
    return browser  # type: ignore[return-value]


def chromedriver() -> str | None:
    found = shutil.which("chromedriver")
    if found:
        return found
    return "/usr/bin/chromedriver" if os.access("/usr/bin/chromedriver", os.X_OK) else None


def selenium_chromium(work: Path, width: int = 1280, height: int = 1000):
    """A headless Chromium driven by Selenium, names other than 127.0.0.1 unresolvable, its
    performance log on (see `page_requests`); skipped or failed (see `missing`) without
    chromium or chromedriver. The caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser = chromium_or_skip()
    driver_path = chromedriver()
    if driver_path is None:
        missing(MISSING_DRIVER)
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        NO_NETWORK,
        f"--user-data-dir={work / 'profile'}",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    work.mkdir(parents=True, exist_ok=True)
    service = Service(executable_path=driver_path, log_output=str(work / "chromedriver.log"))
    return webdriver.Chrome(service=service, options=options)


def page_requests(driver) -> list[str]:
    """The URLs the page asked for since the last call (Chrome's performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


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
