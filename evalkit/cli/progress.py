"""Progress of a run, where the user can see it: a bar on a terminal, lines in a log.

A batch job, CI or `nohup` has no terminal on stderr: rich's live bar then shows nothing
for the whole run. There, each stage gets one plain line when it starts or ends, and a
long stage (translation) one line at most every `LOG_INTERVAL` seconds, with done/total,
rate and an estimate of the time left. `--quiet` silences both.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from evalkit.pipeline import StageEvent
from evalkit.safe_text import plain
from evalkit.translate import Progress as TranslationProgress

#: seconds between two progress lines of one long stage in a log
LOG_INTERVAL = 30.0
#: how every progress line written to a log starts: a time stamp, `[HH:MM:SS] `
LOG_LINE = re.compile(r"\[\d\d:\d\d:\d\d\] ")


def is_progress_line(line: str) -> bool:
    """Whether a line of stderr is progress (scripts reading errors skip these)."""
    return LOG_LINE.match(line) is not None


def progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def translation_rate(state: TranslationProgress) -> str:
    """Requests/s (served models) and tokens/s."""
    if not state.seconds:
        return ""
    parts = []
    if state.requests:
        parts.append(f"{state.requests / state.seconds:.2f} req/s")
    if state.generated_tokens:
        parts.append(f"{state.generated_tokens / state.seconds:.1f} tok/s")
    return ", ".join(parts)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class RunDisplay:
    """Hears the pipeline's stage events and translation progress; shows them as a rich bar
    (terminal), as log lines (no terminal) or not at all (quiet)."""

    def __init__(
        self,
        console: Console,
        quiet: bool = False,
        terminal: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console = console
        self.quiet = quiet
        self.terminal = console.is_terminal if terminal is None else terminal
        self.clock = clock
        self.bar: Progress | None = None
        self.tasks: dict[str, Any] = {}
        self.last_line: dict[str, float] = {}

    def __enter__(self) -> RunDisplay:
        if not self.quiet and self.terminal:
            self.bar = progress_bar(self.console)
            self.bar.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.bar is not None:
            self.bar.__exit__(kind, error, trace)

    def _line(self, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        self.console.print(f"[{stamp}] {text}", markup=False, highlight=False, soft_wrap=True)

    def on_stage(self, event: StageEvent) -> None:
        if self.quiet:
            return
        if self.bar is not None:
            self._bar_stage(event)
        else:
            self._log_stage(event)

    def on_translation(self, label: str, state: TranslationProgress) -> None:
        if self.quiet:
            return
        rate = translation_rate(state)
        key = f"translate {plain(label)}"
        if self.bar is not None:
            if key not in self.tasks:
                self.tasks[key] = self.bar.add_task(key, total=state.total, rate=rate)
            self.bar.update(self.tasks[key], completed=state.done, total=state.total, rate=rate)
            return
        now = self.clock()
        finished = state.done >= state.total
        if not finished and now - self.last_line.get(key, -LOG_INTERVAL) < LOG_INTERVAL:
            return
        self.last_line[key] = now
        per_second = state.done / state.seconds if state.seconds else 0.0
        left = (state.total - state.done) / per_second if per_second else None
        parts = [f"{key}: {state.done}/{state.total} units"]
        if per_second:
            parts.append(f"{per_second:.2f} units/s")
        if rate:
            parts.append(rate)
        parts.append("done" if finished else f"eta {_duration(left)}" if left else "eta ?")
        self._line(", ".join(parts))

    def _log_stage(self, event: StageEvent) -> None:
        label = plain(event.label)
        if event.stage == "align":
            if event.seconds is None:
                self._line(f"align: {event.total} document(s)")
            else:
                self._line(f"align: done in {event.seconds:.1f} s")
        elif event.stage == "translate":
            self._line(f"translate {label}: started")
        elif event.stage == "score" and event.seconds is None and event.segments_total:
            self._log_metric_progress(label, event)
        elif event.stage == "score" and event.seconds is not None:
            rate = event.segments / event.seconds if event.seconds > 0 else 0.0
            self._line(
                f"score {label}: {event.metric} ({event.done}/{event.total} metrics), "
                f"{event.segments} segments in {event.seconds:.1f} s ({rate:.1f} segments/s)"
            )
        elif event.stage == "score" and event.done == 0:
            self._line(f"score {label}: {event.total} metric(s), starting with {event.metric}")

    def _log_metric_progress(self, label: str, event: StageEvent) -> None:
        """A line at most every `LOG_INTERVAL` while one metric works through its chunks:
        a neural metric on a large set takes minutes."""
        key = f"score {label}"
        now = self.clock()
        if now - self.last_line.get(key, now) < LOG_INTERVAL:
            self.last_line.setdefault(key, now)
            return
        self.last_line[key] = now
        per_second = event.segments / event.elapsed if event.elapsed > 0 else 0.0
        left = (event.segments_total - event.segments) / per_second if per_second else None
        self._line(
            f"{key}: {event.metric} {event.segments}/{event.segments_total} segments, "
            f"{per_second:.1f} segments/s, eta {_duration(left) if left is not None else '?'}"
        )

    def _bar_stage(self, event: StageEvent) -> None:
        assert self.bar is not None
        if event.stage != "score":
            return
        key = f"score {plain(event.label)}"
        description = f"{key}: {event.metric}"
        rate = ""
        if event.seconds:
            rate = f"{event.segments / event.seconds:.1f} seg/s"
        elif event.segments_total:  # within a metric: how far it is
            description += f" {event.segments}/{event.segments_total}"
            if event.elapsed > 0:
                rate = f"{event.segments / event.elapsed:.1f} seg/s"
        if key not in self.tasks:
            self.tasks[key] = self.bar.add_task(description, total=event.total, rate=rate)
        self.bar.update(self.tasks[key], description=description, completed=event.done, rate=rate)
