"""The HTML report at scale: its size, the time to write it, the time to open it.

A synthetic run (tests/report_run.py) of 10,000 segments x 4 systems x 11 metrics (bleu,
chrf, ter and eight stored-score metrics): real verse text (`TheQuranModule`, as
bench/growth.py joins verses past the 6,236 there are: about 40 English words a segment),
outputs made by weakening the reference, a further reference on every tenth row, no
reference on every fiftieth, alignment confidence on a third of the rows and flags on some,
`truncated` on 1% of the outputs, xCOMET-style error spans on 20% of them.

The comparison (`evalkit compare`'s work: statistics, bootstrap, ranking) is timed apart;
"write" is what `evalkit report` adds: `render_report` and the atomic write. The page is
opened in headless Chromium driven by Selenium, as the browser tests drive it
(tests/browser.py: names unresolvable, nothing fetched): first contentful paint, and the
time from navigation to the first page of segment rows drawn (the viewer's `data-ready`
mark, `performance.now()`), both against an empty page's first paint in the same browser.
Each figure is the best of `--repeat` tries (the median too, in the JSON): the machine's
other load only ever adds time.

Goals: the file <= 8 MB, written in <= 5 s, rows drawn <= 3 s after an empty page paints.
Usage: python bench/report_scale.py [--segments 10000] [--repeat 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest  # tests/browser.py skips through it where Chromium is missing

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from growth import segments  # noqa: E402

GOALS = {"size_mb": 8.0, "write_s": 5.0, "drawn_after_empty_s": 3.0}
EMPTY_PAGE = (
    "<!DOCTYPE html><html><head><title>empty</title></head><body><p>empty</p></body></html>"
)


def _best(values: list[float]) -> dict[str, float]:
    return {"best": round(min(values), 3), "median": round(statistics.median(values), 3)}


def write_figures(work: Path, count: int, repeat: int) -> tuple[Path, dict[str, Any]]:
    """Build the run, compare it, write its report `repeat` times; the report and figures."""
    from evalkit import api
    from evalkit.report import segment_data
    from evalkit.report.html import render_report, write_report
    from tests.report_run import write_report_run

    results = work / "results"
    record = write_report_run(results, count, texts=segments(count))
    started = time.perf_counter()
    comparison = api.compare_runs(record.run_id, results_dir=results)
    breakdowns = api.compute_breakdowns(comparison, top=10)
    compare_s = time.perf_counter() - started
    report = work / "report.html"
    writes, cpu = [], []
    for _ in range(repeat):
        started, used = time.perf_counter(), time.process_time()
        write_report(render_report(comparison, breakdowns), report)
        writes.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    html = report.read_text(encoding="utf-8")
    data = re.search(r'id="segment-data" data-encoding="([^"]+)">([^<]*)<', html)
    assert data is not None
    payload = segment_data.from_page(html)
    plots = re.findall(r'<figure class="plot">(.*?)</figure>', html, re.S)
    words = [len(r.ref.split()) for r in comparison.pool.rows if r.ref]
    figures = {
        "segments": len(comparison.pool.rows),
        "systems": len(comparison.systems),
        "metrics": [m.name for m in comparison.metrics],
        "mean_reference_words": round(statistics.mean(words), 1),
        "compare_s": round(compare_s, 2),
        "write_s": _best(writes),
        # CPU seconds of the process, every thread: what other load on the machine cannot
        # stretch (the wall-clock figure, on an idle machine, is below it: the data is
        # compressed on a second thread while the plots are drawn)
        "write_cpu_s": _best(cpu),
        "size_mb": round(report.stat().st_size / 1e6, 2),
        "data_mb": round(len(data.group(2)) / 1e6, 2),
        "data_encoding": data.group(1),
        "data_json_mb": round(len(segment_data.script_safe_json(payload).encode()) / 1e6, 2),
        "distinct_strings": len(payload["strings"]),
        "plots_mb": round(sum(len(p.encode()) for p in plots) / 1e6, 2),
    }
    return report, figures


def browser_figures(report: Path, work: Path, repeat: int) -> dict[str, Any]:
    """First paint of an empty page, and of the report with its first rows drawn."""
    from selenium.webdriver.support.wait import WebDriverWait

    from tests.browser import selenium_chromium

    empty = work / "empty.html"
    empty.write_text(EMPTY_PAGE, encoding="utf-8")
    paint = "return (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime"
    driver = selenium_chromium(work / "chromium", width=1600, height=1000)
    try:
        empty_paint, report_paint, drawn, loaded = [], [], [], []
        for _ in range(repeat):
            driver.get("about:blank")
            driver.get(empty.as_uri())
            empty_paint.append(WebDriverWait(driver, 30).until(lambda d: d.execute_script(paint)))
            driver.get("about:blank")
            started = time.perf_counter()
            driver.get(report.as_uri())
            ready = WebDriverWait(driver, 120).until(
                lambda d: d.execute_script(
                    "return document.getElementById('segment-viewer').dataset.ready"
                )
            )
            loaded.append((time.perf_counter() - started) * 1000)
            drawn.append(float(ready))
            report_paint.append(driver.execute_script(paint))
        rows = driver.execute_script(
            "return document.querySelectorAll('#segments tbody tr').length"
        )
    finally:
        driver.quit()

    def ms(values: list[float]) -> dict[str, float]:
        return {k: round(v / 1000, 3) for k, v in _best(values).items()}

    return {
        "empty_first_paint_s": ms(empty_paint),
        "report_first_paint_s": ms(report_paint),
        "rows_drawn_s": ms(drawn),
        "rows_drawn_after_empty_s": round((min(drawn) - min(empty_paint)) / 1000, 3),
        "selenium_get_to_drawn_s": ms(loaded),
        "rows_on_first_page": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=HERE / "results" / "report_scale.json")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; load average {os.getloadavg()[0]:.2f}", flush=True)
    figures_load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        report, figures = write_figures(work, args.segments, args.repeat)
        print(
            f"run: {figures['segments']:,} segments x {figures['systems']} systems x "
            f"{len(figures['metrics'])} metrics, {figures['mean_reference_words']} reference "
            f"words a segment; comparison (not the report's work) {figures['compare_s']} s"
        )
        print(
            f"report.html: {figures['size_mb']} MB (segment data {figures['data_mb']} MB "
            f"{figures['data_encoding']}, {figures['data_json_mb']} MB as JSON; plots "
            f"{figures['plots_mb']} MB); written in {figures['write_s']['best']} s "
            f"(median {figures['write_s']['median']} s; CPU {figures['write_cpu_s']['best']} s)",
            flush=True,
        )
        try:
            figures["browser"] = browser_figures(report, work, args.repeat)
        except (Exception, pytest.skip.Exception) as reason:  # skipped: no Chromium here
            print(f"browser figures left out: {reason}")
        else:
            b = figures["browser"]
            print(
                f"headless Chromium: empty page first paint {b['empty_first_paint_s']['best']} s;"
                f" report first paint {b['report_first_paint_s']['best']} s, first "
                f"{b['rows_on_first_page']} rows drawn at {b['rows_drawn_s']['best']} s "
                f"({b['rows_drawn_after_empty_s']} s after the empty page's paint)"
            )
    # other processes' load, before and after: the wall-clock figures stretch with it
    figures["load_average"] = [round(figures_load, 2), round(os.getloadavg()[0], 2)]
    figures["cores"] = os.cpu_count()
    checks = {
        "size_mb": figures["size_mb"],
        "write_s": figures["write_s"]["best"],
        "drawn_after_empty_s": figures.get("browser", {}).get("rows_drawn_after_empty_s"),
    }
    for goal, limit in GOALS.items():
        value = checks[goal]
        verdict = "n/a" if value is None else ("ok" if value <= limit else "MISSED")
        print(f"goal {goal} <= {limit}: {value} {verdict}")
    figures["goals"] = GOALS
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
