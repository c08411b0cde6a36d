"""Run evalkit and stop it at a chosen point, for the crash-safety tests.

    python -m tests.crash_points STAGE -- EVALKIT ARGUMENTS...

runs the `evalkit` command (the entry point named in pyproject.toml, with the test engines
of tests/slow_engine.py registered) and stops it at STAGE:

  translate  in the engine's translate, on its second batch (the first one is cached)
  cache      inside the transaction that stores the third translation in the cache, its
             row written, not committed (the first two are committed)
  score      in the first metric scoring call (sacrebleu's segment statistics)
  record     while writing the run: segments.jsonl in the staging folder is partly
             written (flushed) and run.json is not yet there
  rename     while writing the run: both files are complete, not yet renamed into place
  report     while writing the HTML report: its temporary file is half written (flushed)
  none       nowhere: evalkit runs as usual

On reaching the point the process writes the file $CRASH_POINT_MARKER (its content: the
model libraries loaded so far, one a line, so a test can check that none was) and sleeps,
so that the test can kill it (SIGKILL) or interrupt it (SIGINT) exactly there.

With $CRASH_POINT_START_AT (seconds since the epoch), the process waits until then just
before it opens the translation cache, so that several processes open it together; with
$CRASH_POINT_OPENING, it writes that file just before opening the cache.
"""

from __future__ import annotations

import faulthandler
import os
import re
import signal
import sys
import time
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("translate", "cache", "score", "record", "rename", "report", "none")
#: libraries that only a neural metric, an encoder or a model engine would load
MODEL_LIBRARIES = ("torch", "transformers", "sentence_transformers", "ctranslate2", "comet")


def stop_here(stage: str) -> None:
    """Tell the test this point is reached, then wait to be killed or interrupted."""
    loaded = [name for name in MODEL_LIBRARIES if name in sys.modules]
    marker = Path(os.environ["CRASH_POINT_MARKER"])
    partial = marker.with_name(marker.name + ".partial")
    partial.write_text("".join(f"{name}\n" for name in loaded), encoding="utf-8")
    partial.replace(marker)  # the test sees the marker whole or not at all
    while True:
        time.sleep(3600)


class _OsWith:
    """The os module with some functions replaced, for one module's `os` name only."""

    def __init__(self, **replaced: Any) -> None:
        self._replaced = replaced

    def __getattr__(self, name: str) -> Any:
        return self._replaced.get(name) or getattr(os, name)


class _StoppingFile:
    """A text file that stops the process at its `stop_at`-th write: with `half`, after
    writing half of that text; otherwise before writing it. What came before is flushed,
    so it is on disk when the process dies."""

    def __init__(self, real: Any, stage: str, stop_at: int, half: bool) -> None:
        self._real, self._stage, self._stop_at, self._half = real, stage, stop_at, half
        self._writes = 0

    def write(self, text: str) -> int:
        self._writes += 1
        if self._writes == self._stop_at:
            if self._half:
                self._real.write(text[: len(text) // 2])
            self._real.flush()
            stop_here(self._stage)
        return self._real.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def __enter__(self) -> _StoppingFile:
        self._real.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._real.__exit__(*exc)


def install(stage: str) -> None:
    """Put the stop at `stage`."""
    import evalkit.atomic as atomic
    import evalkit.record.store as results
    from evalkit.metrics.lexical import SacrebleuMetric
    from tests.slow_engine import SlowLoggingEngine

    if stage == "translate":
        translate = SlowLoggingEngine.translate
        calls = []

        def stopping_translate(self, segments, src_lang, tgt_lang):
            calls.append(len(segments))
            if len(calls) == 2:
                stop_here(stage)
            return translate(self, segments, src_lang, tgt_lang)

        SlowLoggingEngine.translate = stopping_translate
    elif stage == "cache":
        from evalkit.cache import TranslationCache

        put_many, write = TranslationCache.put_many, TranslationCache._write
        stored: list[bool] = []  # per put_many call: still inside it

        def counting_put_many(self, *args, **kwargs):
            stored.append(True)
            try:
                return put_many(self, *args, **kwargs)
            finally:
                stored[-1] = False

        @contextmanager
        def stopping_write(self):
            with write(self):
                yield
                if len(stored) == 3 and stored[-1]:  # the third put's own transaction
                    stop_here(stage)

        TranslationCache.put_many = counting_put_many
        TranslationCache._write = stopping_write
    elif stage == "score":

        def stopping_statistics(self, hypotheses, references, sources):
            stop_here(stage)

        SacrebleuMetric.segment_statistics = stopping_statistics
    elif stage == "record":

        def stopping_open(file, *args, **kwargs):
            real = open(file, *args, **kwargs)  # noqa: SIM115  (closed by write_run)
            path = Path(file)
            if path.name == results.SEGMENTS_FILE and path.parent.name.startswith(
                results.STAGING_PREFIX
            ):
                return _StoppingFile(real, stage, stop_at=2, half=False)
            return real

        results.open = stopping_open  # type: ignore[attr-defined]
    elif stage == "rename":

        def stopping_rename(src, dst, *args, **kwargs):
            if Path(src).name.startswith(results.STAGING_PREFIX):
                stop_here(stage)
            return os.rename(src, dst, *args, **kwargs)

        results.os = _OsWith(rename=stopping_rename)  # type: ignore[assignment]
    elif stage == "report":

        def stopping_fdopen(fd, *args, **kwargs):
            return _StoppingFile(os.fdopen(fd, *args, **kwargs), stage, stop_at=1, half=True)

        atomic.os = _OsWith(fdopen=stopping_fdopen)  # type: ignore[assignment]


def watch_the_cache_opening(start_at: float | None, opening: str | None) -> None:
    """Wait until `start_at` before opening the translation cache; write the file
    `opening` just before opening it."""
    import evalkit.run_api as opener  # where `evalkit run` opens its cache

    cache_class = opener.TranslationCache

    def opened(*args, **kwargs):
        if start_at is not None:
            time.sleep(max(0.0, start_at - time.time()))
        if opening:
            Path(opening).touch()
        return cache_class(*args, **kwargs)

    opener.TranslationCache = opened  # type: ignore[misc]


def entry_point() -> Any:
    """What the installed `evalkit` command calls, as pyproject.toml names it now."""
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    scripts = pyproject.split("[project.scripts]", 1)[1]
    found = re.search(r'^evalkit\s*=\s*"([\w.]+):([\w.]+)"', scripts, re.MULTILINE)
    assert found, "no evalkit entry point in pyproject.toml"
    module, attribute = found.groups()
    target: Any = import_module(module)
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


def main() -> None:
    stage, separator, *arguments = sys.argv[1:]
    if stage not in STAGES or separator != "--":
        raise SystemExit(f"usage: python -m tests.crash_points {{{','.join(STAGES)}}} -- ARGS")
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # where a hung test stands
    # Ctrl-C as a terminal delivers it, even when the test run was started in the
    # background of a script (which starts its children with SIGINT ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import tests.slow_engine  # noqa: F401  (registers the test engines)

    install(stage)
    start_at = os.environ.get("CRASH_POINT_START_AT")
    opening = os.environ.get("CRASH_POINT_OPENING")
    if start_at or opening:
        watch_the_cache_opening(float(start_at) if start_at else None, opening)
    sys.argv = ["evalkit", *arguments]
    entry_point()()


if __name__ == "__main__":
    main()
