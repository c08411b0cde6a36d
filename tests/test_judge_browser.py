"""The judging page in a real headless Chromium, driven by Selenium against the real
`evalkit judge` process: mouse drags and key presses mark errors, the score is typed or
slid, n submits, a reload and a server restart resume, and the store holds what was done.

Skipped where chromium or chromedriver is missing, failed there when
EVALKIT_REQUIRE_BROWSER=1 (tests/browser.py).
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from evalkit.judgments.store import JudgmentStore
from tests import browser as browsers
from tests.browser import page_requests, selenium_chromium
from tests.judge_run import SYSTEMS, rows, start_judge, write_judge_run

RUN_ID = "20260101-000000-judge-0001"


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator:
    driver = selenium_chromium(tmp_path_factory.mktemp("chromium"))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def judged(results_dir: Path):
    """Start `evalkit judge` on a fresh run; yields a function that (re)starts it."""
    write_judge_run(results_dir, RUN_ID)
    servers = []

    def start(*args: str) -> str:
        for server in servers:
            stop(server)
        server, url = start_judge(results_dir, "--annotator", "amal", *args)
        servers.append(server)
        return url

    yield start
    for server in servers:
        stop(server)


def stop(server) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=30)


def wait(driver, condition, timeout: float = 30):
    return WebDriverWait(driver, timeout).until(lambda d: condition(d))


def text_of(driver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def shown(driver, position: int) -> None:
    wait(driver, lambda d: text_of(d, "position") == f"item {position}")
    wait(driver, lambda d: text_of(d, "translation") != "")


def press(driver, *keys: str) -> None:
    ActionChains(driver).send_keys(*keys).perform()


def drag_select(driver, start: int, end: int) -> None:
    """Select translation characters [start, end) with a real mouse drag: from just inside
    the first character's left edge to just inside the last one's right edge."""
    left, top, bottom = driver.execute_script(
        """const node = document.getElementById('translation').firstChild;
        node.parentElement.scrollIntoView({block: 'center'});
        const range = document.createRange();
        range.setStart(node, arguments[0]); range.setEnd(node, arguments[0] + 1);
        const r = range.getBoundingClientRect(); return [r.left, r.top, r.bottom];""",
        start,
    )
    right = driver.execute_script(
        """const node = document.getElementById('translation').firstChild;
        const range = document.createRange();
        range.setStart(node, arguments[0] - 1); range.setEnd(node, arguments[0]);
        return range.getBoundingClientRect().right;""",
        end,
    )
    y = int((top + bottom) / 2)
    actions = ActionBuilder(driver)
    actions.pointer_action.move_to_location(int(left) + 1, y).pointer_down()
    actions.pointer_action.move_to_location(int(right) - 1, y).pointer_up()
    actions.perform()


def script_select(driver, start: int, end: int) -> None:
    """Select translation characters [start, end) from script (the text may hold marks)."""
    driver.execute_script(
        """const el = document.getElementById('translation');
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        const range = document.createRange(); let seen = 0, node;
        while ((node = walker.nextNode())) {
          const n = node.length;
          const [from, to] = [arguments[0] - seen, arguments[1] - seen];
          if (from >= 0 && from <= n) range.setStart(node, from);
          if (to >= 0 && to <= n) { range.setEnd(node, to); break; }
          seen += n;
        }
        const selection = window.getSelection();
        selection.removeAllRanges(); selection.addRange(range);""",
        start,
        end,
    )


def words(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"[A-Za-z]{4,}", text)]


def stored(results_dir: Path, protocol: str) -> dict:
    """The annotator's judgments by queue position."""
    store = JudgmentStore.in_results(results_dir)
    queue = store.queue(RUN_ID, "amal", protocol)
    by_key = {
        (j.segment_id, j.system, j.attention_check): j
        for j in store.judgments(RUN_ID, "amal", protocol)
    }
    return {
        i: by_key[(it.segment_id, it.system, it.attention_check)]
        for i, it in enumerate(queue)
        if (it.segment_id, it.system, it.attention_check) in by_key
    }


def assert_stayed_local(driver) -> None:
    outside = [
        url
        for url in page_requests(driver)
        if urlsplit(url).scheme in ("http", "https", "ws", "wss")
        and urlsplit(url).hostname != "127.0.0.1"
    ]
    assert outside == []


@pytest.mark.slow  # a real browser and a real server
def test_the_request_log_would_show_a_request_elsewhere(browser):
    page_requests(browser)
    browser.get('data:text/html,<img src="http://example.invalid/x.png">')
    assert "http://example.invalid/x.png" in page_requests(browser)


@pytest.mark.slow  # a real browser and a real server
def test_esa_marking_scoring_reload_and_restart(browser, judged, results_dir: Path):
    url = judged("--items", "4", "--attention-checks", "0")
    page_requests(browser)
    browser.get(url)
    shown(browser, 1)
    assert text_of(browser, "progress") == "0 / 8"
    source = browser.find_element(By.ID, "source")
    assert (source.get_attribute("dir"), source.get_attribute("lang")) == ("rtl", "ar")
    assert browser.find_element(By.ID, "translation").get_attribute("dir") == "auto"
    assert not any(label in browser.page_source for label in SYSTEMS)
    first = text_of(browser, "translation")
    hyps = {hyp for row in rows() for hyp in row.hyp.values()}
    assert first in hyps

    (a_start, a_end), (b_start, b_end) = words(first)[:2]
    drag_select(browser, a_start, a_end)
    wait(browser, lambda d: first[a_start:a_end] in text_of(d, "selection-hint"))
    press(browser, "2")  # major
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#translation mark.major")) == 1)
    script_select(browser, b_start, b_end)
    press(browser, "m")  # minor
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#translation mark")) == 2)
    marks = browser.find_elements(By.CSS_SELECTOR, "#translation mark")
    assert [m.text for m in marks] == [first[a_start:a_end], first[b_start:b_end]]

    box = browser.find_element(By.ID, "score-number")
    box.click()
    box.send_keys("35", Keys.ENTER)
    press(browser, "n")
    shown(browser, 2)
    wait(browser, lambda d: text_of(d, "progress") == "1 / 8")

    # no score yet: n does not move on, and says why
    press(browser, "n")
    wait(browser, lambda d: "score" in text_of(d, "message"))
    assert text_of(browser, "position") == "item 2"
    slider = browser.find_element(By.ID, "score-range")
    slider.click()  # a score where the slider was clicked: its middle
    press(browser, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    wait(browser, lambda d: text_of(d, "save-status") == "saved")
    slid = int(slider.get_attribute("value"))
    assert 45 <= slid <= 56

    browser.refresh()  # resumes at the first item not submitted, with its saved score
    shown(browser, 2)
    wait(
        browser, lambda d: d.find_element(By.ID, "score-number").get_attribute("value") == str(slid)
    )

    url = judged()  # a restarted server, on another port
    browser.get(url)
    shown(browser, 2)
    press(browser, "p")
    shown(browser, 1)
    assert text_of(browser, "translation") == first
    classes = [m.get_attribute("class") for m in browser.find_elements(By.CSS_SELECTOR, "mark")]
    assert classes == ["error major", "error minor"]
    assert browser.find_element(By.ID, "score-number").get_attribute("value") == "35"
    assert "submitted" in text_of(browser, "submitted")
    assert_stayed_local(browser)

    judgments = stored(results_dir, "esa")
    assert sorted(judgments) == [0, 1]
    done = judgments[0]
    assert (done.score, done.complete, done.target) == (35, True, first)
    assert [(s.start, s.end, s.severity) for s in done.spans] == [
        (a_start, a_end, "major"),
        (b_start, b_end, "minor"),
    ]
    assert (judgments[1].score, judgments[1].complete, judgments[1].spans) == (slid, False, [])


@pytest.mark.slow  # a real browser and a real server
def test_mqm_categories_and_score(browser, judged, results_dir: Path):
    url = judged("--protocol", "mqm", "--items", "2", "--attention-checks", "0")
    page_requests(browser)
    browser.get(url)
    shown(browser, 1)
    assert not browser.find_element(By.ID, "score-panel").is_displayed()
    text = text_of(browser, "translation")
    start, end = words(text)[0]
    drag_select(browser, start, end)
    wait(browser, lambda d: text[start:end] in text_of(d, "selection-hint"))
    Select(browser.find_element(By.ID, "category")).select_by_value("fluency/grammar")
    press(browser, "2")
    wait(browser, lambda d: text_of(d, "mqm-score") == "-5")
    listed = Select(browser.find_element(By.CSS_SELECTOR, "#span-list select"))
    assert listed.first_selected_option.get_attribute("value") == "fluency/grammar"
    listed.select_by_value("non-translation")
    wait(browser, lambda d: text_of(d, "mqm-score") == "-25")
    press(browser, Keys.ARROW_RIGHT)  # submit with the right arrow
    shown(browser, 2)
    assert_stayed_local(browser)

    (judgment,) = stored(results_dir, "mqm").values()
    assert judgment.complete and judgment.score is None
    assert [(s.start, s.end, s.severity, s.category) for s in judgment.spans] == [
        (start, end, "major", "non-translation")
    ]


@pytest.mark.slow  # a real browser and a real server
def test_da_slider_and_the_last_item(browser, judged, results_dir: Path):
    url = judged("--protocol", "da", "--items", "1", "--attention-checks", "0")
    browser.get(url)
    shown(browser, 1)
    assert not browser.find_element(By.ID, "span-tools").is_displayed()
    slider = browser.find_element(By.ID, "score-range")
    slider.click()
    press(browser, Keys.HOME, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    wait(browser, lambda d: d.find_element(By.ID, "score-number").get_attribute("value") == "3")
    press(browser, "n")
    shown(browser, 2)
    box = browser.find_element(By.ID, "score-number")
    box.click()
    box.send_keys("90", Keys.ENTER)
    press(browser, "n")
    wait(browser, lambda d: d.find_element(By.ID, "done").is_displayed())
    assert text_of(browser, "progress") == "2 / 2"
    judgments = stored(results_dir, "da")
    assert [(judgments[i].score, judgments[i].complete) for i in (0, 1)] == [(3, True), (90, True)]


@pytest.mark.parametrize("required", ["1", None])
def test_a_missing_browser_skips_here_and_fails_in_ci(monkeypatch, required, tmp_path: Path):
    monkeypatch.setattr(browsers, "chromium", lambda: None)
    if required:
        monkeypatch.setenv(browsers.REQUIRE, required)
    else:
        monkeypatch.delenv(browsers.REQUIRE, raising=False)
    expected = pytest.fail.Exception if required else pytest.skip.Exception
    with pytest.raises(expected, match="chromium not found"):
        browsers.chromium_or_skip()
    with pytest.raises(expected, match="chromium not found"):
        selenium_chromium(tmp_path)
    monkeypatch.setattr(browsers, "chromium", lambda: "/usr/bin/chromium")
    monkeypatch.setattr(browsers, "chromedriver", lambda: None)
    with pytest.raises(expected, match="chromedriver not found"):
        selenium_chromium(tmp_path)
