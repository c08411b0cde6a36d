"""Progress without a terminal: plain lines per stage, at most one per interval while a
long stage runs, nothing with --quiet."""

from __future__ import annotations

import io

from rich.console import Console

from evalkit.cli.progress import LOG_INTERVAL, RunDisplay
from evalkit.pipeline import StageEvent
from evalkit.translate import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _display(quiet: bool = False) -> tuple[RunDisplay, io.StringIO, Clock]:
    buffer = io.StringIO()
    clock = Clock()
    console = Console(file=buffer, width=200)
    return RunDisplay(console, quiet=quiet, terminal=False, clock=clock), buffer, clock


def test_translation_lines_are_throttled_and_carry_rate_and_estimate():
    display, buffer, clock = _display()
    with display:
        for done in range(0, 101):
            clock.now = done  # one unit per second
            display.on_translation("mt", Progress(done, 100, seconds=float(done)))
    lines = buffer.getvalue().splitlines()
    # the first update, one per interval, and the last
    assert len(lines) == 1 + 100 // int(LOG_INTERVAL) + 1
    assert "30/100 units, 1.00 units/s" in lines[1] and "eta 1m10s" in lines[1]
    assert lines[-1].endswith("100/100 units, 1.00 units/s, done")


def test_each_stage_and_metric_gets_a_line():
    display, buffer, _ = _display()
    with display:
        display.on_stage(StageEvent("align", total=3))
        display.on_stage(StageEvent("translate", "mt"))
        display.on_stage(StageEvent("score", "mt", "bleu", done=0, total=2))
        display.on_stage(StageEvent("score", "mt", "bleu", 1, 2, seconds=2.0, segments=50))
    text = buffer.getvalue()
    assert "align: 3 document(s)" in text
    assert "translate mt: started" in text
    assert "score mt: bleu (1/2 metrics), 50 segments in 2.0 s (25.0 segments/s)" in text


def test_a_long_metric_reports_its_segments_at_most_once_an_interval():
    display, buffer, clock = _display()
    with display:
        display.on_stage(StageEvent("score", "3 systems", "xqe", done=0, total=1))
        for chunk in range(1, 11):  # ten chunks of 300 segments, 20 s each
            clock.now = 20.0 * chunk
            display.on_stage(
                StageEvent(
                    "score", "3 systems", "xqe", 0, 1,
                    segments=300 * chunk, segments_total=3000, elapsed=20.0 * chunk,
                )
            )  # fmt: skip
    lines = buffer.getvalue().splitlines()[1:]
    # 200 s of chunks: the first sets the clock, then a line every 30 s at most
    assert len(lines) == 4
    assert "score 3 systems: xqe 900/3000 segments, 15.0 segments/s, eta 2m20s" in lines[0]


def test_quiet_prints_nothing():
    display, buffer, _ = _display(quiet=True)
    with display:
        display.on_stage(StageEvent("align", total=3))
        display.on_translation("mt", Progress(1, 1, seconds=1.0))
    assert buffer.getvalue() == ""


def test_run_in_a_log_writes_stage_lines_and_quiet_silences_them(cli, tmp_path):
    src, ref = tmp_path / "s.txt", tmp_path / "r.txt"
    src.write_text("نص\nآخر\n", encoding="utf-8")
    ref.write_text("text\nother\n", encoding="utf-8")
    args = ("run", "--src", src, "--ref", ref, "--metric", "bleu", "--no-cache")
    logged = cli(*args)
    assert logged.exit_code == 0, logged.output
    assert "score copy: bleu (1/1 metrics)" in logged.stderr
    quiet = cli(*args, "--quiet")
    assert quiet.exit_code == 0
    assert "score copy" not in quiet.stderr
